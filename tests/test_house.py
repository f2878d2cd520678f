"""The house: irn's imports run one way (no cycle, counting imports inside functions too), the
ground floor imports nothing of irn, and no benchmark or test reaches for a private name of the
library."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "irn"


def _module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """module → the irn modules it imports (top level and inside functions), from the source's ast.
    ``from irn import x`` counts as importing ``irn.x`` when x is a module, else ``irn``."""
    modules = {_module_name(p, src): p for p in src.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith("irn"):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), sorted."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_cycle_finder_finds_a_planted_cycle(tmp_path):
    """Positive control: a package whose ground floor imports upward inside a function is caught."""
    package = tmp_path / "irn"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "params.py").write_text("def late():\n    from irn import train\n    return train\n")
    (package / "train.py").write_text("from irn.models import M\n")
    (package / "models.py").write_text("from irn import params\nM = 1\n")
    (package / "other.py").write_text("import irn.models\n")
    graph = import_graph(package)
    assert graph["irn.other"] == {"irn.models"}
    assert cycles(graph) == [["irn.models", "irn.params", "irn.train"]]


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_ground_floor_imports_nothing_of_irn():
    graph = import_graph()
    for module in ("irn.params", "irn.files", "irn.info", "irn.stats"):
        assert graph[module] == set(), (module, graph[module])


PRIVATE = re.compile(r"\bfrom irn[\w.]* import [^\n]*\b_[a-z]\w*|\birn\.\w+(?:\.\w+)*\._[a-z]\w*\(|"
                     r"\b(?:relay|models|attractors|ksg|flow|train|zoo|analysis)\._[a-z]\w*")


@pytest.mark.parametrize("folder", ["benchmarks"])
def test_no_private_names_outside_the_library(folder):
    offenders = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in sorted((ROOT / folder).glob("*.py"))
                 for m in PRIVATE.finditer(p.read_text(encoding="utf-8"))]
    assert offenders == []
