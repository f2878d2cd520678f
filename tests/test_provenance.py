"""irn.provenance: the reproducibility line names the parameters, versions and zoo entries of a
run, summarises many entries by count and hash, and times the run from the parameter check."""

from __future__ import annotations

import pytest

from irn import params, provenance


def test_reproducibility_line_names_parameters_versions_and_zoo_entries():
    from irn import train, zoo
    from irn.models import Stacked

    condition, config = train.Condition("gru", "memory", 3), train.TrainConfig(replicates=2)
    model = Stacked("gru", 2, 3)
    trained = train.Trained(condition, config, model, [1, 1], [0, 0], [0, 1], [1.0, 1.0])
    line = provenance.reproducibility({"seed": 0, "fast": True}, [trained, trained])
    assert line.zoo_entries == (zoo.entry_key(condition, config),)
    assert set(line.versions) == {"python", "irn", "torch", "numpy", "pandas"}
    text = line._repr_markdown_()
    assert "`seed=0`" in text and zoo.entry_key(condition, config) in text
    cached = zoo.cached_key("toy", {"a": 1})
    assert provenance.reproducibility({}, [trained, cached]).zoo_entries == (zoo.entry_key(condition, config), cached)
    with pytest.raises(ValueError, match="^trained "):
        provenance.reproducibility({}, [3.5])


def test_reproducibility_line_times_the_run_from_the_parameter_check(monkeypatch):
    clock = iter([100.0, 250.4])
    monkeypatch.setattr(params.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(params, "_checked_at", None)
    with pytest.raises(ValueError, match="seed"):
        params.check({"seed": -1}, {"seed": params.integer(low=0)})  # a failed check starts nothing
    assert provenance.reproducibility({}).seconds is None
    assert "This run" not in provenance.reproducibility({})._repr_markdown_()
    params.check({"seed": 1}, {"seed": params.integer(low=0)})  # clock: 100.0
    line = provenance.reproducibility({"seed": 1})  # clock: 250.4
    assert line.seconds == pytest.approx(150.4)
    assert "This run took 2 min 30 s (from the parameter check on)." in line._repr_markdown_()


def test_many_zoo_entries_are_summarised_with_a_hash_and_listed_in_a_collapsed_block():
    entries = [f"entry-{i}" for i in range(60)]
    line = provenance.reproducibility({}, entries)
    text = line._repr_markdown_()
    first = text.split("\n")[0]
    assert "60 (list hash" in first and "entry-7" not in first  # one short line, not 60 names
    assert "<details>" in text and "entry-59" in text
    assert line.zoo_hash == provenance.reproducibility({}, entries[::-1]).zoo_hash  # order-free
    assert line.zoo_hash != provenance.reproducibility({}, entries[:-1]).zoo_hash
    with pytest.raises(ValueError, match="^parameters must be a dict"):
        provenance.reproducibility([("seed", 0)])
