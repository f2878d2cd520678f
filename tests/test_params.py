"""irn.params: every chapter parameter is refused, with its name, before any work.

The library rules are tested directly; then every chapter's own spec (its parameters cell and
the check cell that follows it, executed here without the rest of the chapter) is fed the bad
values a reader met, and must refuse each one with a message naming the parameter.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from irn import params

ROOT = Path(__file__).resolve().parents[1]


def test_rules_accept_and_refuse():
    assert params.SEED.ok(0) and not params.SEED.ok(-1) and not params.SEED.ok(True) and not params.SEED.ok(1.0)
    assert params.SIGNIFICANCE.ok(0.05) and not params.SIGNIFICANCE.ok(5) and not params.SIGNIFICANCE.ok(0) and not params.SIGNIFICANCE.ok(1)
    assert params.number(0, 1).ok(1) and not params.number(0, 1).ok(float("nan"))
    assert params.one_of((1, "random")).ok("random") and not params.one_of((1, 2)).ok(True)
    assert params.list_of(("memory", "block")).ok(["block"])
    assert not params.list_of(("memory", "block")).ok("memory")  # a string is not a list of tasks
    assert not params.list_of(("memory", "block")).ok(["memory", "memory"])
    assert not params.list_of(("memory", "block")).ok([])
    assert params.optional(params.integer(0, 3)).ok(None) and not params.optional(params.integer(0, 3)).ok(4)
    assert params.either(params.integer(1, 5), params.one_of(["random"])).ok("random")


def test_folder_rule(tmp_path):
    rule = params.folder()
    assert rule.ok("") and rule.ok(str(tmp_path))
    assert not rule.ok(str(tmp_path / "missing")) and not params.folder(empty=False).ok("")


def test_check_names_the_parameter_and_returns_the_values():
    spec = {"seed": params.SEED, "alpha": params.SIGNIFICANCE}
    assert params.check({"seed": 3, "alpha": 0.01, "other": 1}, spec) == {"seed": 3, "alpha": 0.01}
    with pytest.raises(ValueError, match=r"^seed must be an integer >= 0, got -1$"):
        params.check({"seed": -1, "alpha": 0.05}, spec)
    with pytest.raises(ValueError, match=r"^alpha must be a number in \(0, 1\), got 5$"):
        params.check({"seed": 0, "alpha": 5}, spec)
    with pytest.raises(ValueError, match="alpha is missing"):
        params.check({"seed": 0}, spec)
    with pytest.raises(ValueError, match="spec must be"):
        params.check({}, {"seed": "an integer"})


# The bad parameters readers met (issue 10) and more, one chapter each: (chapter, name, value).
BAD = [
    ("01_tasks", "seed", -1),
    ("01_tasks", "n_examples", 0),
    ("02_training", "seed", -1),
    ("02_training", "delays", [7]),
    ("02_training", "criterion", 1.5),
    ("03_relay", "samples", -5),
    ("03_relay", "alpha", 5),
    ("04_knockouts", "seed", -1),
    ("04_knockouts", "max_size", 0),
    ("05_migration", "alpha", 5),
    ("05_migration", "samples", -5),
    ("05_migration", "seed", -1),
    ("05_migration", "noise", -1),
    ("06_smearing", "samples", -5),
    ("06_smearing", "method", "otsu"),
    ("07_pca", "seed", -1),
    ("07_pca", "alpha", 5),
    ("07_pca", "noise", -0.5),
    ("13_summary", "claims_dir", "/nonexistent/claims"),
]


def _check_cells(chapter: str) -> tuple[str, str]:
    """The parameters cell and the cell after it (imports and the parameter check)."""
    import jupytext

    cells = [c for c in jupytext.read(ROOT / "book" / f"{chapter}.md").cells if c.cell_type == "code"]
    index = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    return cells[index].source, cells[index + 1].source


@pytest.mark.parametrize(("chapter", "name", "value"), BAD, ids=[f"{c}-{n}" for c, n, _ in BAD])
def test_chapter_refuses_bad_parameter_before_any_work(chapter, name, value):
    """The check cell runs with the bad value injected after the parameters cell, as papermill
    injects it; it must refuse the value with a message that starts with the parameter's name."""
    parameters, check_cell = _check_cells(chapter)
    assert "params.check(" in check_cell, f"{chapter}: the cell after the parameters must call irn.params.check"
    namespace: dict = {}
    exec(compile(parameters, f"{chapter}:parameters", "exec"), namespace)
    assert name in namespace, f"{chapter} has no parameter {name}"
    namespace[name] = value
    with pytest.raises(ValueError, match=rf"^{name} "):
        exec(compile(check_cell, f"{chapter}:check", "exec"), namespace)


def test_chapters_accept_their_defaults():
    """The check cell passes with the chapter's defaults and does no work (loads no networks)."""
    for chapter in sorted({c for c, _, _ in BAD}):
        parameters, check_cell = _check_cells(chapter)
        assert "load_or_train" not in check_cell and "relay_frame" not in check_cell, chapter
        namespace: dict = {}
        exec(compile(parameters, f"{chapter}:parameters", "exec"), namespace)
        exec(compile(check_cell, f"{chapter}:check", "exec"), namespace)
