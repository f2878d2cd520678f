"""The book: notebook pairs, chapter conventions, the toc, and a fast build drawn in chromium.

The quick tests read the committed files. The slow ones (marked ``slow``, run by default) build
the whole book once per session with ``tools/build_book.py --fast`` and open every page in
headless chromium to see that each Altair chart drew. The build executes every chapter in a
kernel where the book extra cannot be imported (``tools/core_only``), so the slow build is also
the test that each chapter runs with the core install only, as on Colab; the quick tests below
check that this kernel really lacks the book extra.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import build_book  # noqa: E402
import check_charts  # noqa: E402

SOURCES = build_book.jupytext_sources(ROOT)
DOCNAMES = build_book.toc_docnames(ROOT)
# pages drawn in chromium: every page but the generated module pages of the reference (no charts or
# wide tables; the static check still reads them), which would add minutes to the slow tests
DRAWN = [d for d in DOCNAMES if not d.startswith("book/reference/") or d == "book/reference/index"]


def _name(path: Path) -> str:
    return path.stem


def test_book_has_chapter_notebooks():
    assert SOURCES, "no book/NN_name.md Jupytext notebook found: the book would run nothing"


def test_toc_entries_exist_and_list_every_chapter_notebook():
    assert build_book.toc_problems(ROOT) == []


def test_config_excludes_exactly_the_jupytext_sources():
    assert build_book.exclude_problems(ROOT) == []


@pytest.mark.parametrize("source", SOURCES, ids=_name)
def test_pair_in_sync_and_without_outputs(source):
    assert build_book.pair_problems(source, source.with_suffix(".ipynb")) == []


@pytest.mark.parametrize("source", SOURCES, ids=_name)
def test_chapter_conventions(source):
    """Colab setup cell first (remove-cell), one parameters cell that sets ``fast``."""
    assert build_book.convention_problems(source) == []


def test_pair_check_catches_drift_and_outputs(tmp_path):
    """The pairing check itself: an edited cell and a stored output are both reported."""
    source = SOURCES[0]
    (tmp_path / "book").mkdir()
    copy = tmp_path / "book" / source.name
    copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    notebook = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code = next(c for c in notebook.cells if c.cell_type == "code")
    code.source += "\n# edited"
    code.outputs = [nbformat.v4.new_output("stream", text="hello")]
    nbformat.write(notebook, copy.with_suffix(".ipynb"))
    problems = build_book.pair_problems(copy, copy.with_suffix(".ipynb"))
    assert any("out of sync" in p for p in problems)
    assert any("outputs" in p for p in problems)


def test_prose_cells_hide_their_code(tmp_path):
    """A cell that mostly writes prose must hide its input; computation with a short message need not."""
    chapter = tmp_path / "book" / "01_x.md"
    chapter.parent.mkdir()
    header = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n---\n\n"
    prose = 'Markdown(\n    f"There are {n} nodes. "\n    "Each carries "\n    "one concept. "\n    "That is all."\n)\n'
    work = "x = [i * i for i in range(9)]\ny = sum(x)\nz = y / 2\nw = z + 1\nMarkdown(f'{w}')\n"
    cell = "```{code-cell} ipython3\n%s```\n\n"
    chapter.write_text(header + cell % prose + cell % work, encoding="utf-8")
    problems = build_book.prose_problems(chapter)
    assert len(problems) == 1 and "cell 0" in problems[0] and "67% in strings" in problems[0]
    chapter.write_text(header + cell % (":tags: [hide-input]\n\n" + prose) + cell % work, encoding="utf-8")
    assert build_book.prose_problems(chapter) == []
    assert build_book.string_share('a = 1\nb = """x\ny"""\n') == 2 / 3


def test_fixed_prose_detector_finds_text_the_run_cannot_change():
    """Positive and negative controls of `fixed_prose`: each planted fixed text is found, each
    text that follows from the run is not."""
    found = lambda code, parameters=(): build_book.fixed_prose(code, set(parameters))  # noqa: E731
    # planted: nothing computed, a parameter only, a local constant, identical branches, an identical lookup
    assert "interpolates nothing" in found('Markdown(f"The paper\'s claim holds.")')[0]
    assert "interpolates nothing" in found('Markdown(f"Tested at alpha = {alpha}.")', ["alpha"])[0]
    assert "interpolates nothing" in found('text = "It holds."\nMarkdown(text + f" ({len(text)})")')[0]
    assert "same text" in found('word = "holds" if p < 0.05 else "holds"\nMarkdown(f"{word} {p}")')[0]
    assert "if and else" in found('if p < 0.05:\n    Markdown(f"{p}: holds")\nelse:\n    Markdown(f"{p}: holds")')[0]
    assert "lookup" in found('Markdown(f"{p} " + {True: "holds", False: "holds"}[p < 0.05])')[0]
    assert "fixed interpretation" in found(
        'Markdown(f"{n} networks solve it, so the errors are transients of switching between states")')[0]
    # not planted: computed values, a choice by a condition, a status message a condition picks
    assert found('Markdown(f"{n} of {m} networks")') == []
    assert found('Markdown(f"{n}: " + ("holds" if n > 3 else "does not hold"))') == []
    assert found('if noise > 0:\n    x = 1\nelse:\n    display(Markdown("*Skipped.*"))', ["noise"]) == []
    assert found('Markdown(f"{n} networks, so {m} of them {word} in {k} steps")') == []
    assert found("x = 1  # no prose here, so nothing at all is checked in this cell today\n") == []


@pytest.mark.parametrize("source", SOURCES, ids=_name)
def test_no_fixed_prose(source):
    """No chapter prints an interpretation that cannot change with the run; the chapters listed as
    pending in tools/build_book.py are expected to fail until they are rewritten."""
    problems = build_book.fixed_prose_problems(source)
    if source.stem in build_book.FIXED_PROSE_PENDING:
        assert problems, f"{source.stem} passes now: remove it from FIXED_PROSE_PENDING"
    else:
        assert problems == []


def test_colab_installs_this_library():
    """Every chapter's Colab cell installs a commit whose library equals this one (`make pin`)."""
    assert build_book.pin_problems(ROOT) == []


def _git(root, *args):
    subprocess.run(["git", "-c", "user.name=irn", "-c", "user.email=irn@localhost", *args], cwd=root,
                   check=True, capture_output=True)


def test_pin_follows_the_library(tmp_path):
    """`pin` points the chapters at the last library commit; the check notices a later library change,
    a branch name and a commit that is not in the history."""
    (tmp_path / "book").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://example.org/irn\n")
    (tmp_path / "src" / "irn.py").write_text("A = 1\n")
    chapter = tmp_path / "book" / "01_x.md"
    chapter.write_text(
        "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n---\n\n```{code-cell} ipython3\n"
        ':tags: [remove-cell]\n\nimport sys\n\nif "google.colab" in sys.modules:\n'
        '    %pip install -q "irn @ git+https://example.org/irn@main"\n```\n', encoding="utf-8")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "library")
    assert "full commit hash" in build_book.pin_problems(tmp_path)[0]
    commit = build_book.pin(tmp_path)
    assert build_book.colab_ref(chapter) == ("https://example.org/irn", commit)
    assert chapter.with_suffix(".ipynb").exists()
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "pin")
    assert build_book.pin_problems(tmp_path) == []
    (tmp_path / "src" / "irn.py").write_text("A = 2\n")
    with pytest.raises(build_book.BuildError, match="uncommitted changes"):
        build_book.pin(tmp_path)
    _git(tmp_path, "commit", "-q", "-am", "change the library")
    assert "changed since" in build_book.pin_problems(tmp_path)[0]
    assert build_book.pin(tmp_path) != commit
    assert build_book.pin_problems(tmp_path) == []  # pinned in the work tree: the check reads the files
    text = chapter.read_text().replace(build_book.colab_ref(chapter)[1], "f" * 40)
    chapter.write_text(text)
    assert "does not have" in build_book.pin_problems(tmp_path)[0]


def test_table_probe_flags_only_a_table_wider_than_its_column(tmp_path):
    """The browser check of table widths, on a page built by hand: a 900 px table in a 600 px column
    is reported, a narrow one is not, and the probed copy of the page is removed."""
    page = tmp_path / "page.html"
    page.write_text('<html><body><article style="width:600px">'
                    '<table><tr><th>wide</th><td style="min-width:900px">x</td></tr></table>'
                    '<table><tr><th>narrow</th><td>y</td></tr></table></article></body></html>')
    problems = check_charts.dom_problems(check_charts.dump_dom(page, profile=tmp_path / "profile"), 0, "page")
    assert len(problems) == 1
    assert "table 1 (wide)" in problems[0] and "wider than the 600 px text column" in problems[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html", "profile"]


def _chart(width: int) -> str:
    """A drawn chart as vega-embed leaves it: a container with a Vega SVG laid out ``width`` px wide
    and the action menu."""
    return (f'<div id="altair-viz-{width}" class="vega-embed has-actions" style="display:flex">'
            f'<div class="chart-wrapper"><svg class="marks" width="{width}" height="100" '
            f'viewBox="0 0 {width} 100"><rect width="{width}" height="100"/></svg></div>'
            '<details style="width:28px"><summary>...</summary></details></div>')


CHART_PAGE = ('<html><head><style>article {{ padding: 0 30px; }}\n{css}</style></head><body>'
              '<article style="max-width:660px; box-sizing:border-box">{wide}<p class="irn-caption"><b>Figure 3b.2.</b> Wide.</p>'
              '{narrow}<p>no caption</p>{medium}<p class="irn-caption"><b>Figure 10.4.</b> Medium.</p>'
              '</article></body></html>')


def test_chart_probe_names_the_figure_wider_than_the_column(tmp_path):
    """The browser check of chart widths on a page built by hand (a 600 px text column): a chart laid
    out 900 px wide is named by its caption's number, charts within the column pass; on a 390 px phone
    the book's style sheet shrinks every chart to the column, and the one that would be drawn below
    half size is named."""
    page = tmp_path / "page.html"
    page.write_text(CHART_PAGE.format(css=build_book.BOOK_CSS, wide=_chart(900), narrow=_chart(250),
                                      medium=_chart(560)))
    dom = check_charts.dump_dom(page, profile=tmp_path / "profile")
    widths = check_charts.measure(dom)
    assert [(w.kind, w.name, w.room) for w in widths] == [("chart", "3b.2", 600), ("chart", "", 600),
                                                          ("chart", "10.4", 600)]
    assert [w.width for w in widths] == [928, 278, 588]  # the drawing and the 28 px menu
    problems = check_charts.dom_problems(dom, 3, "book/x")
    assert len(problems) == 1, problems
    assert problems[0].startswith("Fig 3b.2 (book/x, chart 1) is 928 px wide, wider than the 600 px")

    phone = check_charts.dump_dom(page, profile=tmp_path / "profile", window=check_charts.PHONE_WINDOW)
    widths = check_charts.measure(phone)
    room = check_charts.PHONE_WINDOW[0] - 2 * 30 - 16  # the frame's body margin is 8 px a side
    assert all(w.room == room and w.drawn <= w.room for w in widths)  # shrunk, not cut
    assert [w.scale < check_charts.MIN_SCALE for w in widths] == [True, False, False]
    problems = check_charts.dom_problems(phone, 3, "book/x", window=check_charts.PHONE_WINDOW, tables=False)
    assert len(problems) == 1 and problems[0].startswith("Fig 3b.2 (book/x, chart 1) is shrunk to ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html", "profile"]


def test_chart_probe_sees_a_chart_cut_without_the_style_sheet(tmp_path):
    """Without the book's style sheet a chart wider than a phone is cut (drawn wider than the column)."""
    page = tmp_path / "page.html"
    page.write_text(CHART_PAGE.format(css="", wide=_chart(900), narrow=_chart(250), medium=_chart(560)))
    phone = check_charts.dump_dom(page, profile=tmp_path / "profile", window=check_charts.PHONE_WINDOW)
    assert [w.drawn > w.room for w in check_charts.measure(phone)] == [True, False, True]


def test_core_only_kernel_lacks_the_book_extra():
    """What a chapter kernel of the build can import: irn and a kernel, not the book extra."""
    probe = (
        "import importlib\n"
        "for name in ('irn', 'IPython', 'ipykernel', 'altair', 'torch', 'myst_nb', 'jupyter_book', "
        "'papermill', 'jupytext', 'vl_convert', 'mathjax'):\n"
        "    try:\n        importlib.import_module(name); print(name, 'ok')\n"
        "    except ModuleNotFoundError:\n        print(name, 'missing')\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], env=build_book.core_only_env(),
                            capture_output=True, text=True, check=True, cwd=ROOT)
    seen = dict(line.split() for line in result.stdout.splitlines())
    assert {k for k, v in seen.items() if v == "ok"} == {"irn", "IPython", "ipykernel", "altair", "torch"}
    plain = subprocess.run([sys.executable, "-c", "import myst_nb"], capture_output=True, check=False)
    assert plain.returncode == 0, "the book extra is not installed here: the probe above proves nothing"


@pytest.mark.parametrize("source", SOURCES, ids=_name)
def test_chapters_import_nothing_from_the_book_extra(source):
    """No chapter cell imports a package of the book extra (the build then proves it by running)."""
    import ast

    import jupytext

    for cell in jupytext.read(source).cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line[:len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!"))
                         else line for line in cell.source.splitlines())  # IPython magics are not Python
        for node in ast.walk(ast.parse(code)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad = [n for n in names if n.partition(".")[0] in build_book.BOOK_ONLY]
            assert not bad, f"{source.name} imports {bad}: the book extra is missing on Colab"


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """The book built once per session with ``fast=True`` (the folder holds src/ and html/)."""
    out = tmp_path_factory.mktemp("book")
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_book.py"), "--fast", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, (
        f"tools/build_book.py --fast failed (exit {result.returncode})\n"
        f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
    )
    return out


@pytest.mark.slow
def test_fast_build_succeeds_with_warnings_as_errors(built_book):
    html = built_book / "html"
    assert (html / "index.html").exists()
    for docname in DOCNAMES:
        assert (html / f"{docname}.html").exists(), f"{docname} was not rendered"
    for source in SOURCES:
        executed = nbformat.read(built_book / "src" / "book" / f"{source.stem}.ipynb", 4)
        assert executed.metadata.papermill.parameters == {"fast": True}
        assert all(
            c.get("execution_count") for c in executed.cells if c.cell_type == "code"
        ), f"{source.stem}: not every code cell ran"


@pytest.mark.slow
def test_no_page_fetches_scripts_from_the_internet(built_book):
    assert check_charts.static_problems(built_book / "html") == []


@pytest.mark.slow
def test_book_has_charts(built_book):
    charts = sum(
        check_charts.count_charts(built_book / "src" / "book" / f"{s.stem}.ipynb") for s in SOURCES
    )
    assert charts > 0, "no Altair chart in any chapter: the browser check would prove nothing"


@pytest.mark.slow
@pytest.mark.parametrize("docname", DRAWN)
def test_every_chart_draws_and_fits_in_chromium(built_book, docname, tmp_path):
    """Every chart drew, and every chart and table fits the text column of a 1280 px window."""
    notebook = built_book / "src" / f"{docname}.ipynb"
    expected = check_charts.count_charts(notebook) if notebook.exists() else 0
    dom = check_charts.dump_dom(built_book / "html" / f"{docname}.html", profile=tmp_path)
    assert check_charts.dom_problems(dom, expected, docname) == []


@pytest.mark.slow
@pytest.mark.parametrize("docname", check_charts.PHONE_PAGES)
def test_charts_are_whole_on_a_phone(built_book, docname, tmp_path):
    """On a 390 px phone every chart of these pages is drawn whole, at half its size or more."""
    notebook = built_book / "src" / f"{docname}.ipynb"
    dom = check_charts.dump_dom(built_book / "html" / f"{docname}.html", profile=tmp_path,
                                window=check_charts.PHONE_WINDOW)
    assert check_charts.dom_problems(dom, check_charts.count_charts(notebook), docname,
                                     window=check_charts.PHONE_WINDOW, tables=False) == []


@pytest.mark.slow
def test_reference_has_an_entry_for_every_public_object(built_book):
    """Every public function and class of irn (tests/test_docs.py's walk; for irn.relay, the
    package's ``__all__``) has an anchor in the reference part, a {py:func} link of the book
    resolves to it, and the index lists them and the glossary's terms."""
    import importlib

    sys.path.insert(0, str(ROOT / "tests"))
    import test_docs

    html = built_book / "html"
    anchors = set()
    for page in (html / "book" / "reference").glob("*.html"):
        anchors |= set(re.findall(r'id="(irn\.[\w.]+)"', page.read_text(encoding="utf-8")))
    missing = []
    for module in test_docs.public_modules():
        # irn.relay documents its API (its __all__) under its own name (irn.relay.greedy); the
        # helpers its submodules share among themselves are checked for docstrings, not listed
        package = module.rsplit(".", 1)[0]
        api = getattr(importlib.import_module(package), "__all__", None) if module.count(".") == 2 else None
        if package == "irn.plots":
            api = None
        for qualname in test_docs.public_objects(module):
            if api is not None and qualname.split(".")[0] not in api:
                continue
            name = f"{package}.{qualname}" if api is not None else f"{module}.{qualname}"
            if name not in anchors:
                missing.append(name)
    assert not missing, f"no reference entry for: {missing}"
    intro = (html / "book" / "intro.html").read_text(encoding="utf-8")
    assert 'href="reference/relay.html#irn.relay.greedy"' in intro
    index = (html / "genindex.html").read_text(encoding="utf-8")
    assert "irn.relay.greedy" in index and "glossary.html#term-relay" in index
