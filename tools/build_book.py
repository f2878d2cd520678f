"""Build the irn book: execute the chapters with papermill, then render them with Jupyter Book.

    python tools/build_book.py [--fast] [--chapters 01_tasks 02_training] [--out _build]
    python tools/build_book.py --check-only
    python tools/build_book.py --pin    # Colab installs the last commit of the library (make pin)

A chapter is a Jupytext notebook ``book/NN_name.md`` (it has a ``jupytext:`` header) with its
output-free pair ``book/NN_name.ipynb``; a chapter without the header is a plain page. The build

1. checks the book (`check_book`): every toc entry exists, every chapter notebook is in the toc,
   each pair is in sync and output-free, has one ``parameters`` cell that sets ``fast``, a
   first cell tagged ``remove-cell`` that installs irn on Colab from a commit whose library is
   this one (`pin_problems`; ``--pin`` sets it), hides the code of cells that only build prose,
   and builds no prose that cannot change with the run (`fixed_prose`; chapters listed in
   `FIXED_PROSE_PENDING` get a warning instead), and ``_config.yml`` excludes exactly the
   Jupytext sources;
2. copies ``_config.yml``, ``_toc.yml`` and the plain pages of ``book/`` into ``OUT/src``
   (never the Jupytext sources, so Sphinx sees one document per chapter);
3. executes each chapter's ``.ipynb`` with papermill into ``OUT/src/book/`` (kernel python3,
   working directory ``OUT/src/book``), with ``fast=True`` under ``--fast`` and the notebook's own
   defaults (the paper's full protocol) otherwise. The kernel runs with the core install only:
   ``tools/core_only/sitecustomize.py`` makes the book extra unimportable in it, so every build
   checks that the chapters run as on Colab (`core_only_env`). A failing cell fails the build.
   Chapters left out by ``--chapters`` keep their executed copy from an earlier build, if there
   is one;
4. writes the offline Vega bundle, the book's style sheet and MathJax into ``OUT/src/_static``
   (`write_vega_bundle`, `write_styles`,
   `write_mathjax`), so the book draws charts and formulas without internet;
5. runs ``jupyter-book build OUT/src -W -n --keep-going`` and moves the HTML to ``OUT/html``;
   the reference part (``book/reference``) is generated there from the docstrings of this
   checkout's ``src/irn`` (Sphinx autodoc, with ``src`` first on the path);
6. checks that no page would fetch a script from the internet, and prints ``OUT/html/index.html``.

The committed notebooks are never executed in place.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

KERNEL = "python3"
PARAMETERS_TAG = "parameters"
# What `pip install "irn @ git+URL@REF"` builds irn from: Colab must install a commit whose copy of
# these equals the one the chapter was written against (`pin_problems`, `make pin`).
LIBRARY_PATHS = ("src", "pyproject.toml")
_INSTALL = re.compile(r'"irn @ git\+(?P<url>[^"@\s]+)@(?P<ref>[^"\s]*)"')
_SHA = re.compile(r"[0-9a-f]{40}")
SETUP_TAG = "remove-cell"
COLAB_MARKER = '"google.colab" in sys.modules'
FAST_PARAMETER = "fast"
# A code cell that mostly writes prose (it displays Markdown and most of its lines are string
# literals) shows the reader its text, not the code that builds it: it must hide its input.
PROSE_SHOWN = "Markdown("
PROSE_CALL = "Markdown"  # the call that shows prose built in a cell (`fixed_prose`)
# Words that open an interpretation; one followed by this many words with nothing interpolated, in a
# cell that builds prose and outside any branch a condition picks, states the same reading in every run.
INTERPRETIVE = re.compile(r"\b(so|thus|hence|therefore|which means|this means|shows? that|suggests?|indicates?|"
                          r"because|consistent with|as the paper (?:expects|reports|says))\b", re.IGNORECASE)
FIXED_CLAUSE_WORDS = 6
# Chapters whose fixed prose (`fixed_prose_problems`) is reported as a warning while it is being
# rewritten; remove a chapter once it passes (tests/test_book.py fails when a listed chapter passes).
FIXED_PROSE_PENDING: tuple[str, ...] = ()
PROSE_MIN_LINES = 5
PROSE_STRING_SHARE = 0.6
PROSE_HIDING_TAGS = ("hide-input", "remove-input", "remove-cell")
MATHJAX_ENTRY = "tex-mml-chtml.js"
EXTRA_DIR = "_extra"  # html_extra_path in _config.yml
CLAIMS_DIR = "_claims"  # where chapters record their claims (irn.claims.DEFAULT_DIR)


class BuildError(RuntimeError):
    """A problem that stops the build; its message says what to do."""


@dataclass(frozen=True)
class Chapter:
    """One entry of ``_toc.yml``.

    ``docname`` is the toc path (``book/01_tasks``); ``source`` the committed file that holds
    it; ``notebook`` the paired ``.ipynb`` when the chapter is a Jupytext notebook, else None.
    """

    docname: str
    source: Path
    notebook: Path | None

    @property
    def name(self) -> str:
        return Path(self.docname).name


def _yaml(path: Path) -> dict:
    import yaml

    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def is_jupytext_notebook(path: Path) -> bool:
    """True when a markdown file starts with a front matter that has a ``jupytext`` key."""
    import yaml

    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return False
    end = text.find("\n---", 4)
    if end < 0:
        return False
    header = yaml.safe_load(text[4:end]) or {}
    return isinstance(header, dict) and "jupytext" in header


def toc_docnames(root: Path = ROOT) -> list[str]:
    """Every document named by ``_toc.yml``, root first, in reading order."""
    toc = _yaml(root / "_toc.yml")
    names = [toc["root"]]

    def walk(entries: list) -> None:
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            for part in entry.get("parts", []):
                walk(part.get("chapters", []))
            walk(entry.get("sections", []))
            walk(entry.get("chapters", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return [str(Path(name).with_suffix("")) if Path(name).suffix else name for name in names]


def toc_chapters(root: Path = ROOT) -> list[Chapter]:
    """The toc entries as `Chapter` records (a missing file is reported by `check_book`)."""
    chapters = []
    for docname in toc_docnames(root):
        md, ipynb = root / f"{docname}.md", root / f"{docname}.ipynb"
        if md.exists() and is_jupytext_notebook(md):
            chapters.append(Chapter(docname, md, ipynb))
        elif md.exists():
            chapters.append(Chapter(docname, md, None))
        else:
            chapters.append(Chapter(docname, ipynb, None))
    return chapters


def jupytext_sources(root: Path = ROOT) -> list[Path]:
    """Every ``book/*.md`` that is a Jupytext notebook."""
    return sorted(p for p in (root / "book").rglob("*.md") if is_jupytext_notebook(p))


def _cell_view(cell) -> tuple[str, str, tuple[str, ...]]:
    return cell.cell_type, cell.source, tuple(cell.metadata.get("tags", []))


def pair_problems(source: Path, notebook: Path) -> list[str]:
    """Differences between a Jupytext source and its committed ``.ipynb`` (ids and metadata
    noise ignored), plus outputs or execution counts left in the ``.ipynb``."""
    import jupytext
    import nbformat

    rel_src, rel_nb = source.relative_to(source.parents[1]), notebook.relative_to(source.parents[1])
    if not notebook.exists():
        return [f"{rel_nb} is missing: run `make sync` to create it from {rel_src}"]
    problems = []
    text_cells = [_cell_view(c) for c in jupytext.read(source).cells]
    nb_cells = [_cell_view(c) for c in nbformat.read(notebook, as_version=4).cells]
    if text_cells != nb_cells:
        where = next(
            (i for i, (a, b) in enumerate(zip(text_cells, nb_cells)) if a != b),
            min(len(text_cells), len(nb_cells)),
        )
        problems.append(
            f"{rel_nb} is out of sync with {rel_src} (first difference at cell {where}; "
            f"{len(text_cells)} vs {len(nb_cells)} cells): run `make sync`"
        )
    for index, cell in enumerate(nbformat.read(notebook, as_version=4).cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(
                f"{rel_nb} cell {index} holds outputs or an execution count: commit notebooks "
                "without outputs (`make sync` rewrites them from the source)"
            )
    return problems


def string_share(code: str) -> float:
    """The share of the lines of ``code`` that hold (part of) a string literal; 0 for code that
    does not parse."""
    import io
    import tokenize

    lines = code.splitlines()
    covered: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.STRING:
                covered.update(range(token.start[0], token.end[0] + 1))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return 0.0
    return len(covered) / len(lines) if lines else 0.0


def prose_problems(source: Path) -> list[str]:
    """Code cells that mostly build prose (`PROSE_SHOWN` and at least `PROSE_STRING_SHARE` of
    `PROSE_MIN_LINES` or more lines in string literals) but show their input."""
    import jupytext

    rel = source.relative_to(source.parents[1])
    problems = []
    for index, cell in enumerate(jupytext.read(source).cells):
        lines = cell.source.splitlines()
        if (cell.cell_type != "code" or PROSE_SHOWN not in cell.source
                or len(lines) < PROSE_MIN_LINES
                or any(tag in cell.metadata.get("tags", []) for tag in PROSE_HIDING_TAGS)):
            continue
        share = string_share(cell.source)
        if share >= PROSE_STRING_SHARE:
            problems.append(
                f"{rel} cell {index} (\"{lines[0][:40]}…\") builds prose ({len(lines)} lines, "
                f"{share:.0%} in strings) and shows its code: tag it hide-input"
            )
    return problems


def _code_tree(code: str):
    """The ast of a code cell with IPython magics (``%pip``, ``!ls``) replaced by ``pass``; None when
    it does not parse."""
    lines = [line[:len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
             for line in code.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _names(node) -> set[str]:
    """Every name ``node`` reads."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _parameter_names(cells) -> set[str]:
    """The names the chapter's ``parameters`` cell assigns: set before the run, not computed by it."""
    names: set[str] = set()
    for cell in cells:
        if PARAMETERS_TAG in cell.metadata.get("tags", []) and (tree := _code_tree(cell.source)):
            names |= {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                      for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                      if isinstance(t, ast.Name)}
    return names


def _is_markdown_call(node) -> bool:
    func = getattr(node, "func", None)
    return isinstance(node, ast.Call) and (
        (isinstance(func, ast.Name) and func.id == PROSE_CALL) or (isinstance(func, ast.Attribute) and func.attr == PROSE_CALL))


def _has_text(node) -> bool:
    return any(isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant) and isinstance(n.value, str))
               for n in ast.walk(node))


def fixed_prose(code: str, parameters: set[str] = frozenset()) -> list[str]:
    """The places in one code cell that build prose which cannot change with the run.

    * a ``Markdown(...)`` whose text reads no computed name — only literals, builtins, the
      chapter's parameters (``parameters``) and names the same cell set from those — unless a
      condition chooses it (it sits in a branch of an ``if`` that tests some name);
    * a conditional whose branches give the same text: ``a if c else a``, an ``if``/``else`` with
      identical bodies, or ``{k1: a, k2: a}[c]``;
    * in a cell that shows prose, a literal piece of text that opens an interpretation
      (``INTERPRETIVE``: "so", "because", "suggests", …) and runs on for more than
      ``FIXED_CLAUSE_WORDS`` words without anything interpolated, outside any branch a condition
      picks — a heuristic: it finds the typed reading, not every one.

    Returns one description per finding (empty: the cell's prose follows from the run).
    """
    tree = _code_tree(code)
    if tree is None:
        return []
    fixed = set(parameters) | set(dir(builtins))
    for node in tree.body:  # names this cell sets from fixed values only (in order, one pass)
        if isinstance(node, ast.Assign) and _names(node.value) <= fixed:
            fixed |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    found = []
    prose = any(_is_markdown_call(n) for n in ast.walk(tree))
    chosen: set[int] = set()  # ids of nodes inside a branch that a condition on some name picks
    for node in ast.walk(tree):
        if isinstance(node, (ast.If, ast.IfExp)) and _names(node.test):
            for branch in (node.body, node.orelse):
                for part in branch if isinstance(branch, list) else [branch]:
                    chosen |= {id(n) for n in ast.walk(part)}
    for node in ast.walk(tree):
        if _is_markdown_call(node) and node.args and id(node) not in chosen and not (_names(node.args[0]) - fixed):
            found.append(f"line {node.lineno}: Markdown(...) interpolates nothing the run computes")
        elif isinstance(node, ast.IfExp) and _has_text(node.body) and ast.dump(node.body) == ast.dump(node.orelse):
            found.append(f"line {node.lineno}: both branches of a conditional give the same text")
        elif (isinstance(node, ast.If) and node.orelse and any(_has_text(n) for n in node.body)
              and [ast.dump(n) for n in node.body] == [ast.dump(n) for n in node.orelse]):
            found.append(f"line {node.lineno}: the if and else branches give the same text")
        elif (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Dict) and len(node.value.values) > 1
              and _has_text(node.value) and len({ast.dump(v) for v in node.value.values}) == 1):
            found.append(f"line {node.lineno}: every choice of a lookup gives the same text")
        elif (prose and isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in chosen
              and (clause := _fixed_clause(node.value))):
            found.append(f"line {node.lineno}: a fixed interpretation in computed prose (\"{clause}\")")
    return found


def _fixed_clause(text: str) -> str | None:
    """The start of an interpretive clause (`INTERPRETIVE` and at least `FIXED_CLAUSE_WORDS` words
    with nothing interpolated) in a literal piece of prose, or None."""
    for match in INTERPRETIVE.finditer(text):
        words = text[match.start():].split()
        if len(words) > FIXED_CLAUSE_WORDS:
            return " ".join(words[:FIXED_CLAUSE_WORDS + 2]) + " …"
    return None


def fixed_prose_problems(source: Path) -> list[str]:
    """Code cells of a chapter whose prose cannot change with the run (`fixed_prose`)."""
    import jupytext

    rel = source.relative_to(source.parents[1])
    cells = jupytext.read(source).cells
    parameters = _parameter_names(cells)
    return [f"{rel} cell {index}, {finding}: an interpretation must follow from the numbers (glue it, or "
            "choose it by a condition on them)"
            for index, cell in enumerate(cells) if cell.cell_type == "code"
            for finding in fixed_prose(cell.source, parameters)]


def convention_problems(source: Path) -> list[str]:
    """A chapter notebook starts with a remove-cell setup cell that installs irn on Colab, has
    exactly one ``parameters`` cell that assigns ``fast``, and hides the code of cells that
    build prose (`prose_problems`)."""
    import jupytext

    rel = source.relative_to(source.parents[1])
    cells = jupytext.read(source).cells
    problems = []
    code = [c for c in cells if c.cell_type == "code"]
    if not code or SETUP_TAG not in code[0].metadata.get("tags", []) or COLAB_MARKER not in code[0].source:
        problems.append(
            f"{rel}: the first code cell must be tagged {SETUP_TAG} and install irn when "
            f"{COLAB_MARKER}"
        )
    parameters = [c for c in cells if PARAMETERS_TAG in c.metadata.get("tags", [])]
    if len(parameters) != 1:
        problems.append(f"{rel}: needs exactly one cell tagged {PARAMETERS_TAG}, has {len(parameters)}")
    else:
        try:
            tree = ast.parse(parameters[0].source)
        except SyntaxError as error:
            return problems + [f"{rel}: the parameters cell is not valid Python: {error}"]
        assigned = {
            target.id
            for node in tree.body
            if isinstance(node, (ast.Assign, ast.AnnAssign))
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)
        }
        if FAST_PARAMETER not in assigned:
            problems.append(f"{rel}: the parameters cell must assign `{FAST_PARAMETER}`")
    return problems + prose_problems(source)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except OSError:
        return None


def library_commit(root: Path = ROOT) -> str | None:
    """The last commit that changed the library (`LIBRARY_PATHS`), or None outside a git clone."""
    result = _git(root, "log", "-1", "--format=%H", "--", *LIBRARY_PATHS)
    return (result.stdout.strip() or None) if result and result.returncode == 0 else None


def repository_url(root: Path = ROOT) -> str:
    """``repository.url`` of ``_config.yml`` without a trailing slash ("" when unset)."""
    return (_yaml(root / "_config.yml").get("repository") or {}).get("url", "").rstrip("/")


def colab_ref(source: Path) -> tuple[str, str] | None:
    """(repository URL, ref) of the ``irn @ git+URL@REF`` that a chapter's setup cell installs."""
    import jupytext

    code = [c for c in jupytext.read(source).cells if c.cell_type == "code"]
    found = _INSTALL.search(code[0].source) if code else None
    return (found["url"], found["ref"]) if found else None


def pin_problems(root: Path = ROOT) -> list[str]:
    """Colab must install the library each chapter runs against.

    Every setup cell installs ``irn @ git+URL@SHA`` with URL the repository of ``_config.yml``
    and SHA a full commit hash (a branch such as ``main`` moves on). In a git clone that holds the
    commit, it must also be an ancestor of HEAD (so it is published with
    it) whose library (`LIBRARY_PATHS`) equals HEAD's. A shallow clone without the commit
    (GitHub's checkout) cannot tell and is not held against the book.
    """
    url = repository_url(root)
    head = _git(root, "rev-parse", "HEAD")
    in_git = head is not None and head.returncode == 0
    fix = "run `make pin` after committing the library, then commit the chapters"
    problems, refs = [], set()
    for source in jupytext_sources(root):
        rel = source.relative_to(root)
        found = colab_ref(source)
        if found is None or found[0] != url or not _SHA.fullmatch(found[1]):
            problems.append(f"{rel}: the setup cell must install \"irn @ git+{url}@<full commit hash>\" "
                            f"(it has {found and '@'.join(found)!r}): {fix}")
        else:
            refs.add(found[1])
    for ref in sorted(refs) if in_git else []:
        if _git(root, "cat-file", "-e", f"{ref}^{{commit}}").returncode != 0:
            shallow = _git(root, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
            if not shallow:
                problems.append(f"the chapters install irn at {ref[:12]}, a commit this clone does not have: {fix}")
            continue
        if _git(root, "merge-base", "--is-ancestor", ref, "HEAD").returncode != 0:
            problems.append(f"the chapters install irn at {ref[:12]}, which is not in HEAD's history: {fix}")
        elif _git(root, "diff", "--quiet", ref, "HEAD", "--", *LIBRARY_PATHS).returncode != 0:
            problems.append(f"the chapters install irn at {ref[:12]}, but the library ({', '.join(LIBRARY_PATHS)}) "
                            f"changed since: {fix}")
    return problems


def pin(root: Path = ROOT) -> str:
    """Point every chapter's Colab install at `library_commit` and resync the pairs; return it.

    Refuses while the library has uncommitted changes (Colab can only install a commit)."""
    status = _git(root, "status", "--porcelain", "--", *LIBRARY_PATHS)
    if status is None or status.returncode != 0:
        raise BuildError("make pin needs a git clone: Colab installs irn from a commit")
    if status.stdout.strip():
        raise BuildError("the library has uncommitted changes (" + ", ".join(
            line[3:] for line in status.stdout.splitlines()) + "): commit them first, Colab installs a commit")
    commit = library_commit(root)
    url = repository_url(root)
    for source in jupytext_sources(root):
        text = source.read_text(encoding="utf-8")
        new = _INSTALL.sub(f'"irn @ git+{url}@{commit}"', text, count=1)
        if new != text:
            source.write_text(new, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--update", "--to", "ipynb",
                    *map(str, jupytext_sources(root))], check=True, cwd=root)
    return commit


def toc_problems(root: Path = ROOT) -> list[str]:
    """Toc entries that do not exist and chapter notebooks missing from the toc."""
    problems = []
    docnames = toc_docnames(root)
    for docname in docnames:
        if not any((root / f"{docname}{suffix}").exists() for suffix in (".md", ".ipynb")):
            problems.append(f"_toc.yml lists {docname}, but neither {docname}.md nor .ipynb exists")
    for source in jupytext_sources(root):
        docname = str(source.relative_to(root).with_suffix(""))
        if docname not in docnames:
            problems.append(f"{docname}.md is a chapter notebook but _toc.yml does not list it")
    return problems


def exclude_problems(root: Path = ROOT) -> list[str]:
    """``_config.yml`` must exclude every Jupytext source and no plain page of the toc."""
    patterns = _yaml(root / "_config.yml").get("exclude_patterns", []) or []

    def excluded(rel: str) -> bool:
        return any(fnmatch.fnmatch(rel, pattern) for pattern in patterns)

    problems = []
    for source in jupytext_sources(root):
        rel = source.relative_to(root).as_posix()
        if not excluded(rel):
            problems.append(f"_config.yml exclude_patterns must list {rel} (a Jupytext source)")
    for chapter in toc_chapters(root):
        rel = chapter.source.relative_to(root).as_posix()
        if chapter.notebook is None and excluded(rel):
            problems.append(f"_config.yml exclude_patterns hides the plain page {rel}")
    return problems


def check_book(root: Path = ROOT) -> list[str]:
    """Every problem `tools/build_book.py` refuses to build with."""
    problems = toc_problems(root) + exclude_problems(root) + pin_problems(root)
    for source in jupytext_sources(root):
        problems += pair_problems(source, source.with_suffix(".ipynb"))
        problems += convention_problems(source)
        if source.stem not in FIXED_PROSE_PENDING:
            problems += fixed_prose_problems(source)
    return problems


def pending_warnings(root: Path = ROOT) -> list[str]:
    """The fixed prose of the chapters in `FIXED_PROSE_PENDING`: reported, not (yet) refused."""
    return [problem for source in jupytext_sources(root) if source.stem in FIXED_PROSE_PENDING
            for problem in fixed_prose_problems(source)]


def write_vega_bundle(static: Path) -> dict[str, str]:
    """Write the offline Vega/Vega-Lite/vega-embed bundle and the versions Altair asks for.

    Altair's HTML loads each library from a CDN unless ``window.VEGA_DEBUG`` already names the
    version it wants, in which case it uses the global ``vegaEmbed``. The bundle comes from
    vl-convert-python, wrapped in an IIFE so its top-level names stay private.
    """
    import altair as alt
    import vl_convert

    versions = {
        "vega_version": alt.VEGA_VERSION,
        "vegalite_version": alt.VEGALITE_VERSION,
        "vegaembed_version": alt.VEGAEMBED_VERSION,
    }
    wanted = ".".join(alt.VEGALITE_VERSION.split(".")[:2])
    available = vl_convert.get_vegalite_versions()
    same_major = [v for v in available if v.split(".")[0] == wanted.split(".")[0]]
    if wanted in available:
        vl_version = wanted
    elif same_major:
        vl_version = same_major[-1]
        print(f"note: vl-convert-python has no Vega-Lite {wanted}; bundling {vl_version}")
    else:
        raise BuildError(
            f"vl-convert-python {vl_convert.__version__} bundles Vega-Lite {available}, but "
            f"altair {alt.__version__} needs {alt.VEGALITE_VERSION}: upgrade vl-convert-python"
        )
    static.mkdir(parents=True, exist_ok=True)
    bundle = vl_convert.javascript_bundle(vl_version=vl_version)
    (static / "vega-bundle.js").write_text(
        f"// Vega-Lite {vl_version}, Vega {vl_convert.get_vega_version()}, vega-embed "
        f"{vl_convert.get_vega_embed_version()} from vl-convert-python {vl_convert.__version__}\n"
        f"(function(){{\n{bundle}\n}})();\n",
        encoding="utf-8",
    )
    entries = ", ".join(f'"{key}": "{value}"' for key, value in versions.items())
    (static / "vega-versions.js").write_text(
        f"// The Vega versions altair {alt.__version__} asks for: vega-bundle.js provides them.\n"
        f"window.VEGA_DEBUG = {{{entries}}};\n",
        encoding="utf-8",
    )
    return versions


#: The book's own style sheet (``_static/irn.css``, listed in ``html_css_files``). A chart wider
#: than its column -- on a phone or in a narrow window -- shrinks to the column instead of hiding
#: behind a scroll bar (Vega's SVG has a viewBox, so it scales whole). In a 1280-px window every
#: chart is laid out to fit (``irn.plots.style.COLUMN``; tools/check_charts.py) and keeps its size.
#: On a phone the action menu ("…": save as SVG/PNG) is hidden, so the chart has the whole column.
BOOK_CSS = """/* irn: charts shrink to fit a column narrower than they are laid out for (a phone) */
article .vega-embed .chart-wrapper { min-width: 0; max-width: 100%; }
article .vega-embed details { flex-shrink: 0; }
article .vega-embed svg.marks, article .vega-embed canvas.marks { max-width: 100%; height: auto; }
/* on a phone the chart takes the whole column: no room kept for the action menu (the caption's
   CSV link stays) */
@media (max-width: 600px) {
  article .vega-embed.has-actions { padding-right: 0; }
  article .vega-embed details { display: none; }
}
"""


def write_styles(static: Path) -> None:
    """Write the book's style sheet `BOOK_CSS` into ``static`` as ``irn.css``."""
    static.mkdir(parents=True, exist_ok=True)
    (static / "irn.css").write_text(BOOK_CSS, encoding="utf-8")


def write_mathjax(extra: Path) -> None:
    """Copy MathJax 3 (package django-static-mathjax) into ``extra/_static/mathjax``.

    ``_config.yml`` lists ``extra`` in ``html_extra_path`` (Sphinx copies it over the output, so
    the files land in ``_static/mathjax``) and points ``mathjax_path`` at
    ``mathjax/tex-mml-chtml.js``: pages with math load MathJax from the book, not a CDN. Not
    ``_static`` itself: Jupyter Book adds every ``.js`` found there to every page. Only that
    component and the folders it loads from on demand (fonts, TeX extensions, accessibility)
    are copied.
    """
    from importlib.resources import files

    try:
        es5 = Path(str(files("mathjax"))) / "static" / "mathjax" / "es5"
    except ModuleNotFoundError:
        es5 = None
    if es5 is None or not (es5 / MATHJAX_ENTRY).exists():
        raise BuildError(
            "MathJax is missing: install the book extra (`pip install -e \".[book]\"`, which "
            "brings django-static-mathjax)"
        )
    target = extra / "_static" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(es5 / MATHJAX_ENTRY, target / MATHJAX_ENTRY)
    for folder in es5.iterdir():
        if folder.is_dir():
            shutil.copytree(folder, target / folder.name, dirs_exist_ok=True)


def built_commit() -> str | None:
    """The commit the book is built from (``git rev-parse HEAD``), or None outside a git clone."""
    result = _git(ROOT, "rev-parse", "HEAD")
    return (result.stdout.strip() or None) if result and result.returncode == 0 else None


def pin_launch_commit(config: Path) -> None:
    """Point the launch (Colab) and repository buttons of the built pages at the commit the book
    was built from, not at a branch that moves on: ``repository.branch`` in the copied config."""
    commit = built_commit()
    if commit is None:
        return
    import yaml

    data = _yaml(config)
    data.setdefault("repository", {})["branch"] = commit
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def prepare_source(src: Path, chapters: list[Chapter], keep: set[str]) -> None:
    """Fill ``src`` with the book's configuration and plain pages.

    Executed notebooks of the chapters named in ``keep`` survive from an earlier build, and so do
    the claims they recorded; all else in ``src`` is removed first (including Sphinx's cache, so ``-W`` sees every page).
    """
    if src.exists():
        for path in src.iterdir():
            if path.name != "book":
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        for path in (src / "book").iterdir() if (src / "book").exists() else []:
            kept = path.suffix == ".ipynb" and path.stem in keep
            # the claims of kept chapters feed the summary page (irn.claims; a full build starts afresh)
            if not (kept or (keep and path.name == CLAIMS_DIR)):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    src.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, src / name)
    pin_launch_commit(src / "_config.yml")
    for bib in ROOT.glob("*.bib"):
        shutil.copy2(bib, src / bib.name)
    notebook_files = {c.source for c in chapters if c.notebook} | {
        c.notebook for c in chapters if c.notebook
    }
    book = ROOT / "book"
    for path in book.rglob("*"):
        parts = set(path.relative_to(book).parts)
        if path.is_dir() or parts & {".ipynb_checkpoints", "__pycache__"}:
            continue
        if path in notebook_files or (path.suffix == ".md" and is_jupytext_notebook(path)):
            continue
        target = src / "book" / path.relative_to(book)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


CORE_ONLY = Path(__file__).resolve().parent / "core_only"  # its sitecustomize blocks the book extra
#: Top-level import names of the book extra (pyproject.toml) and of the build stack it pulls in.
BOOK_ONLY = ("jupyter_book", "jupytext", "papermill", "myst_nb", "myst_parser", "sphinx",
             "sphinx_book_theme", "vl_convert", "mathjax", "numpydoc")


def core_only_env(environ: dict | None = None) -> dict:
    """The environment of a chapter kernel: ``environ`` (default ``os.environ``) with
    ``tools/core_only`` first on PYTHONPATH, so the book extra cannot be imported, and one
    intra-op thread (``OMP_NUM_THREADS=1`` unless set)."""
    env = dict(os.environ if environ is None else environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(CORE_ONLY), env.get("PYTHONPATH", "")) if p)
    env["IRN_BOOK_ONLY"] = ",".join(BOOK_ONLY)
    # one intra-op torch thread per kernel: as fast as two on an idle 2-core machine and much faster
    # when another process holds the second core (issue 10); a user's own setting wins
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def execute_chapter(chapter: Chapter, target: Path, parameters: dict) -> float:
    """Execute one chapter notebook with papermill into ``target``; return the wall time."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    start = time.perf_counter()
    saved = dict(os.environ)
    os.environ.update(core_only_env())  # the kernel inherits this process's environment
    try:
        papermill.execute_notebook(
            str(chapter.notebook),
            str(target),
            parameters=parameters,
            kernel_name=KERNEL,
            cwd=str(target.parent),
            progress_bar=False,
            log_output=False,
            # the kernel's start-up log ("running over TCP without encryption" on every chapter) is
            # noise on a local build; the chapters' own warnings still reach the notebook
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except PapermillExecutionError as error:
        raise BuildError(
            f"chapter {chapter.name} failed in cell {error.exec_count}: "
            f"{error.ename}: {error.evalue}\n  the executed notebook with the traceback is "
            f"{target}"
        ) from None
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return time.perf_counter() - start


def run_jupyter_book(src: Path) -> None:
    """``jupyter-book build src -W -n --keep-going`` with this interpreter."""
    command = [
        sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
        "build", str(src), "-W", "-n", "--keep-going", "-q",
    ]
    print("$ jupyter-book build " + " ".join(command[4:]), flush=True)
    # the library reference (book/reference) documents this checkout's irn, whatever is installed
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p)
    # Jupyter Book ends with a banner naming src/_build/html; the HTML moves to OUT/html, so a
    # successful build's banner is dropped (a failed build's is shown) to name one place only.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1, env=env) as process:
        banner: list[str] = []
        for line in process.stdout:
            if banner or line.lstrip("\x1b[0123456789;m").startswith("====="):
                banner.append(line)
            elif not line.startswith("Output Path:"):
                print(line, end="", flush=True)
        returncode = process.wait()
    if returncode != 0:
        print("".join(banner), end="", flush=True)
        raise BuildError(
            f"jupyter-book build failed (exit {returncode}): see the warnings above "
            "(-W turns every warning into an error)"
        )


def build(out: Path, fast: bool, selected: list[str] | None) -> Path:
    """Build the book into ``out``; return the path of ``out/html/index.html``."""
    problems = check_book()
    if problems:
        raise BuildError("the book is not ready to build:\n  " + "\n  ".join(problems))
    for warning in pending_warnings():
        print(f"warning: {warning}")
    chapters = toc_chapters()
    notebooks = [c for c in chapters if c.notebook]
    names = [c.name for c in notebooks]
    if selected is not None:
        unknown = sorted(set(selected) - set(names))
        if unknown:
            raise BuildError(
                f"--chapters: no chapter notebook named {', '.join(unknown)}; "
                f"allowed: {', '.join(names)}"
            )
    run = [c for c in notebooks if selected is None or c.name in selected]
    skipped = [c for c in notebooks if c not in run]

    src = out.resolve() / "src"
    prepare_source(src, chapters, keep={c.name for c in skipped})
    for chapter in skipped:
        target = src / "book" / f"{chapter.name}.ipynb"
        if target.exists():
            print(f"      {chapter.name}: not executed, kept from the previous build in {target}")
        else:
            shutil.copy2(chapter.notebook, target)
            print(f"      {chapter.name}: not executed, shown without outputs")

    parameters = {FAST_PARAMETER: True} if fast else {}
    shown = ", ".join(f"{k}={v!r}" for k, v in parameters.items()) or "notebook defaults"
    os.environ.setdefault("JUPYTER_PREFER_ENV_PATH", "1")  # the kernel of this interpreter
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    total = time.perf_counter()
    for index, chapter in enumerate(run, 1):
        print(f"[{index}/{len(run)}] {chapter.name} ({shown}) ...", flush=True)
        seconds = execute_chapter(chapter, src / "book" / f"{chapter.name}.ipynb", parameters)
        print(f"[{index}/{len(run)}] {chapter.name} done in {seconds:.1f} s", flush=True)

    write_vega_bundle(src / "_static")
    write_styles(src / "_static")
    write_mathjax(src / EXTRA_DIR)
    run_jupyter_book(src)
    html = out.resolve() / "html"
    if html.exists():
        shutil.rmtree(html)
    shutil.move(str(src / "_build" / "html"), html)

    from check_charts import static_problems

    problems = static_problems(html)
    if problems:
        raise BuildError("the built pages would fetch scripts from the internet:\n  "
                         + "\n  ".join(problems))
    print(f"built in {time.perf_counter() - total:.1f} s")
    return html / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Execute the irn chapters with papermill and render the book with Jupyter Book."
    )
    parser.add_argument("--fast", action="store_true", help="run every chapter with fast=True")
    parser.add_argument("--chapters", nargs="+", metavar="NAME",
                        help="execute only these chapter notebooks (e.g. 01_tasks)")
    parser.add_argument("--out", type=Path, default=ROOT / "_build",
                        help="build folder (default: _build); the book lands in OUT/html")
    parser.add_argument("--check-only", action="store_true",
                        help="only check the toc, the notebook pairs and their conventions")
    parser.add_argument("--pin", action="store_true",
                        help="point every chapter's Colab install at the last commit of the library")
    args = parser.parse_args(argv)
    try:
        if args.pin:
            commit = pin()
            print(f"the chapters install irn at {commit} on Colab: commit book/")
            return 0
        if args.check_only:
            problems = check_book()
            for warning in pending_warnings():
                print(f"warning: {warning}", file=sys.stderr)
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            if not problems:
                print("the book's notebooks, pairs and toc are in order")
            return 1 if problems else 0
        index = build(args.out, args.fast, args.chapters)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"the book is at {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
