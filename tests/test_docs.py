"""The library documents itself: every public function and class of irn has a NumPy-style docstring
that documents its parameters and what it returns, and every public module has its page in the
book's reference part (generated from these docstrings by Sphinx autodoc and numpydoc).

Docstrings are read with numpydoc's own parser (``numpydoc.docscrape``), the one the reference is
rendered with. Public means: the names of a module's ``__all__``, or else every name that does not
start with "_", defined in that module (a name re-exported elsewhere is checked where it is
defined), and the public methods and properties of public classes.

Modules still being converted are on ``NOT_YET`` — an explicit list that may only shrink: a listed
object that becomes compliant fails ``test_not_yet_only_shrinks`` until it is taken off the list.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import pkgutil
import re
import textwrap
import warnings
from pathlib import Path

import pytest

numpydoc_docscrape = pytest.importorskip("numpydoc.docscrape")

import irn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "book" / "reference"

#: Public objects whose docstrings are not yet in NumPy style, by module (their owners convert
#: them; the list only shrinks). New public objects are never added here: they start compliant.
NOT_YET: dict[str, set[str]] = {}


def public_modules() -> list[str]:
    """Every module of irn (packages included), in import order."""
    return ["irn"] + sorted(m.name for m in pkgutil.walk_packages(irn.__path__, "irn."))


def _defined_here(obj, module) -> bool:
    target = getattr(obj, "py_func", obj)  # a numba dispatcher documents its Python function
    return getattr(target, "__module__", None) == module.__name__


def public_objects(name: str) -> dict[str, object]:
    """Qualified name (``"GreedyResult.shape"``) → object, for the public functions, classes,
    methods and properties defined in module ``name``."""
    module = importlib.import_module(name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    found = {}
    for attr in names:
        obj = getattr(module, attr)
        code = getattr(obj, "py_func", obj)
        if not (inspect.isfunction(code) or inspect.isclass(obj)) or not _defined_here(obj, module):
            continue
        found[attr] = obj
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for member, value in vars(obj).items():
                if member.startswith("_"):
                    continue
                if isinstance(value, (staticmethod, classmethod)) or inspect.isfunction(value) \
                        or isinstance(value, property):
                    found[f"{attr}.{member}"] = value
    return found


def _returns_something(function) -> tuple[bool, bool]:
    """(returns a value, yields) from the function's own source, nested functions excluded."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return False, False
    tree = ast.parse(source)
    top = tree.body[0]
    returns = yields = False
    stack = list(ast.iter_child_nodes(top))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            returns = True
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            yields = True
        stack.extend(ast.iter_child_nodes(node))
    return returns, yields


def _documented(doc, *sections: str) -> set[str]:
    names = set()
    for section in sections:
        for parameter in doc[section]:
            for part in parameter.name.split(","):
                names.add(part.strip().lstrip("*"))
    return names


def _signature_names(function, skip_first: bool) -> list[str]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return []
    names = [p.name for p in signature.parameters.values()]
    return names[1:] if skip_first and names else names


def docstring_problems(qualname: str, obj) -> list[str]:
    """What the docstring of one public object lacks (an empty list when it is complete)."""
    if isinstance(obj, property):
        return [] if (obj.__doc__ or "").strip() else ["no docstring"]
    static = isinstance(obj, staticmethod)
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    function = inspect.unwrap(getattr(obj, "py_func", obj))
    text = inspect.getdoc(obj) if inspect.isclass(obj) else inspect.getdoc(function)
    if not text or not text.strip():
        return ["no docstring"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            doc = numpydoc_docscrape.NumpyDocString(text)
    except Exception as error:  # numpydoc raises ValueError or warns on malformed sections
        return [f"not NumPy style ({error})"]
    problems = [] if doc["Summary"] else ["no summary line"]
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return problems
        if dataclasses.is_dataclass(obj):
            fields = [f.name for f in dataclasses.fields(obj) if f.init or not f.name.startswith("_")]
            missing = [f for f in fields if f not in _documented(doc, "Attributes", "Parameters")]
            if missing:
                problems.append(f"fields not documented (Attributes): {', '.join(missing)}")
            return problems
        init = obj.__dict__.get("__init__")
        wanted = _signature_names(init, skip_first=True) if init is not None else []
        documented = _documented(doc, "Parameters", "Other Parameters")
        if init is not None and init.__doc__:
            documented |= _documented(numpydoc_docscrape.NumpyDocString(inspect.getdoc(init)),
                                      "Parameters", "Other Parameters")
        missing = [n for n in wanted if n not in documented]
        if missing:
            problems.append(f"parameters not documented: {', '.join(missing)}")
        return problems
    wanted = _signature_names(function, skip_first="." in qualname and not static)
    documented = _documented(doc, "Parameters", "Other Parameters")
    missing = [n for n in wanted if n not in documented]
    extra = sorted(documented - set(wanted) - {"args", "kwargs"})
    if missing:
        problems.append(f"parameters not documented: {', '.join(missing)}")
    if extra:
        problems.append(f"documents parameters it does not take: {', '.join(extra)}")
    returns, yields = _returns_something(function)
    if yields and not (doc["Yields"] or doc["Returns"]):
        problems.append("no Yields section")
    elif returns and not yields and not doc["Returns"]:
        problems.append("no Returns section")
    return problems


def _all_problems() -> dict[str, dict[str, list[str]]]:
    out = {}
    for name in public_modules():
        for qualname, obj in public_objects(name).items():
            out.setdefault(name, {})[qualname] = docstring_problems(qualname, obj)
    return out


PROBLEMS = _all_problems()


def test_the_check_sees_public_objects():
    """The walk finds the library (a check that found nothing would pass vacuously)."""
    assert sum(map(len, PROBLEMS.values())) > 250
    assert "greedy" in PROBLEMS["irn.relay.greedy"] and "GreedyResult" in PROBLEMS["irn.relay.data"]


@pytest.mark.parametrize("module", public_modules())
def test_every_public_object_documents_parameters_and_returns(module):
    """NumPy-style docstring with a summary, every parameter and the return value, for every public
    function, class, method and property of ``module`` that is not on ``NOT_YET``."""
    waiting = NOT_YET.get(module, set())
    bad = {q: p for q, p in PROBLEMS.get(module, {}).items() if p and q not in waiting}
    assert not bad, "\n".join(f"{module}.{q}: {'; '.join(p)}" for q, p in sorted(bad.items()))


def test_not_yet_only_shrinks():
    """Every object on ``NOT_YET`` exists and still lacks something: take converted ones off."""
    stale = []
    for module, names in NOT_YET.items():
        found = PROBLEMS.get(module, {})
        stale += [f"{module}.{n}: {'no such public object' if n not in found else 'compliant now'}"
                  for n in sorted(names) if n not in found or not found[n]]
    assert not stale, "take these off NOT_YET in tests/test_docs.py:\n" + "\n".join(stale)


def test_the_check_catches_what_is_missing():
    """The check itself, on functions written for it."""
    def complete(nodes, alpha=0.05):
        """Relay of some nodes.

        Parameters
        ----------
        nodes : ndarray, shape (samples, nodes)
            Binarised hidden states.
        alpha : float, optional
            Level.

        Returns
        -------
        float
            The relay in bits.
        """
        return float(alpha)

    def undocumented_parameter(nodes, alpha):
        """Relay.

        Parameters
        ----------
        nodes : ndarray
            States.

        Returns
        -------
        float
            Bits.
        """
        return alpha

    def no_returns(nodes):
        """Relay.

        Parameters
        ----------
        nodes : ndarray
            States.
        """
        return nodes

    def plain(nodes):
        """Relay of ``nodes`` (samples, nodes); returns bits."""
        return nodes

    def nothing(nodes):
        """Log.

        Parameters
        ----------
        nodes : ndarray
            States.
        """
        print(nodes)

    assert docstring_problems("complete", complete) == []
    assert docstring_problems("x", undocumented_parameter) == ["parameters not documented: alpha"]
    assert docstring_problems("x", no_returns) == ["no Returns section"]
    assert docstring_problems("x", plain) == ["parameters not documented: nodes", "no Returns section"]
    assert docstring_problems("x", nothing) == []
    assert docstring_problems("x", lambda: None) == ["no docstring"]

    @dataclasses.dataclass(frozen=True)
    class Result:
        """A result.

        Attributes
        ----------
        order : list of int
            Removal order.
        """

        order: list
        curve: list

    assert docstring_problems("Result", Result) == ["fields not documented (Attributes): curve"]

    class Network:
        """A network."""

        @staticmethod
        def build(nodes):
            """Build one.

            Parameters
            ----------
            nodes : int
                Nodes.

            Returns
            -------
            Network
                The network.
            """
            return Network()

        def run(self, steps):
            """Run it.

            Parameters
            ----------
            steps : int
                Steps.
            """
            print(steps)

    assert docstring_problems("Network.build", vars(Network)["build"]) == []
    assert docstring_problems("Network.run", vars(Network)["run"]) == []


# --- the reference part of the book -------------------------------------------------------------

def _reference_page(module: str) -> Path:
    """The page that documents ``module``: its own, or its package's (irn.relay.data → relay.md,
    irn.plots.style → plots.md)."""
    parts = module.split(".")
    return REFERENCE / f"{parts[1]}.md"


def test_every_module_has_a_reference_page_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for module in public_modules()[1:]:
        page = _reference_page(module)
        assert page.exists(), (f"{module} has no reference page: add {page.relative_to(ROOT)} with "
                               f"'.. automodule:: {module}' (see the other pages) and list it in _toc.yml")
        package = ".".join(module.split(".")[:2])
        text = page.read_text(encoding="utf-8")
        documented = f"automodule:: {module}\n" in text or (
            # a package's page documents its submodules' objects through the package's __all__
            f"automodule:: {package}\n" in text and module != package
            and hasattr(importlib.import_module(package), "__all__") and package != "irn.plots")
        assert documented, f"{page.relative_to(ROOT)} does not document {module}"
        assert f"file: book/reference/{page.stem}\n" in toc, f"_toc.yml does not list {page.stem}"


def test_package_pages_cover_every_public_name():
    """irn.relay's page documents its package's ``__all__``: every name there is an object of a
    submodule (so it is checked above) or a constant the page lists."""
    relay = importlib.import_module("irn.relay")
    text = (REFERENCE / "relay.md").read_text(encoding="utf-8")
    for name in relay.__all__:
        obj = getattr(relay, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            assert f"autodata:: {name}\n" in text, f"relay.md does not list the constant {name}"


def test_every_module_says_what_it_is_for():
    missing = [m for m in public_modules() if not (importlib.import_module(m).__doc__ or "").strip()]
    assert not missing, f"modules without a docstring: {missing}"


def _load_extension():
    spec = importlib.util.spec_from_file_location("irn_docstrings", ROOT / "book" / "_ext" / "irn_docstrings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docstring_extension_shows_plain_text_as_written():
    """book/_ext/irn_docstrings.py: bars outside literals are escaped (no rST substitutions); a
    docstring of code that is not in NumPy style comes out as preformatted text after numpydoc."""

    extension = _load_extension()

    class App:
        class env:  # noqa: N801
            pass

    numpy_style = ["Stable iff every |λ| < 1 (``|x|`` stays).", "", "Returns", "-------", "int", "    n"]
    lines = list(numpy_style)
    extension.mark(App, "function", "f", None, {}, lines)
    assert lines[0] == r"Stable iff every \|λ\| < 1 (``|x|`` stays)." and lines[2:] == numpy_style[2:]
    plain = ["Relay of nodes.", "", "frame: columns a, b", "    continued | here"]
    lines = list(plain)
    extension.mark(App, "function", "g", None, {}, lines)
    assert lines == plain  # numpydoc sees it unchanged
    lines[:] = ["mangled by numpydoc"]
    extension.preformat(App, "function", "g", None, {}, lines)
    assert lines == ["::", "", "    Relay of nodes.", "", "    frame: columns a, b",
                     "        continued | here", ""]
    module_text = ["Module |x|."]
    extension.mark(App, "module", "m", None, {}, module_text)
    assert module_text == [r"Module \|x\|."]


def test_intro_and_glossary_cite_nothing_a_reader_lacks():
    """The glossary defines each word once; the intro and glossary cite no file a reader lacks."""
    for page in ("intro.md", "glossary.md"):
        text = (ROOT / "book" / page).read_text(encoding="utf-8")
        for banned in ("DESIGN", "README", "the issue", "seeds/"):
            assert banned not in text, f"book/{page} cites {banned!r}, which a reader of the book does not have"
    glossary = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    terms = re.findall(r"^([a-z][a-zA-Z -]+)$", glossary.split("```{glossary}")[1], flags=re.M)
    assert len(terms) == len(set(terms)) and {"source", "seed", "relay", "replicate"} <= set(terms)


# ---------------------------------------------------------------------------------------------
# Chapters link the library's functions to their reference entries.

_SPAN = re.compile(r"(?<![}`\w])`(irn(?:\.[A-Za-z_]\w*)+)(?:\(\))?`(?!`)")


def _resolves(dotted: str) -> bool:
    """Does ``irn.x.y`` name a module, function or class of irn?"""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name, None)
        return obj is not None and (inspect.ismodule(obj) or callable(obj))
    return False


def unlinked_names(markdown: str) -> list[str]:
    """Code spans in a chapter's prose (outside code cells) that name an irn object without a
    ``{py:…}`` role linking it to the reference."""
    found, fence = [], None
    for line in markdown.splitlines():
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
            continue
        if fence is not None:
            if stripped == fence:
                fence = None
            continue
        found += [m.group(1) for m in _SPAN.finditer(line) if _resolves(m.group(1))]
    return found


def test_the_link_check_sees_an_unlinked_name():
    text = ("Prose with `irn.relay.greedy` and {py:func}`irn.relay.greedy_many`, `irn.no_such` too.\n"
            "```{code-cell} ipython3\nx = `irn.relay.greedy`\n```\n")
    assert unlinked_names(text) == ["irn.relay.greedy"]


@pytest.mark.parametrize("chapter", sorted(p.name for p in (ROOT / "book").glob("[01]*.md")))
def test_chapters_link_the_functions_they_name(chapter):
    names = unlinked_names((ROOT / "book" / chapter).read_text(encoding="utf-8"))
    assert not names, (f"book/{chapter} names {sorted(set(names))} without linking: write "
                       "{py:func}`irn.module.name` (or {py:class}, {py:mod}) so the reader reaches the reference")
