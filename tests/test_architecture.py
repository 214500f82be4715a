"""The package's architecture: concept folders, no import cycle, dependencies one way, small modules.

Every module of the package is parsed with :mod:`ast` (nothing is imported) and every
import statement counts: at module level, inside functions and under ``if
TYPE_CHECKING``. Relative imports are resolved; ``from package import name`` is an edge
to the module ``package.name`` when there is one, else to ``package``. The import of a
parent package that Python makes implicitly (``import spikedyn.core.neurons`` runs
``spikedyn/core/__init__.py``) is not an edge: the parent's own imports are its edges.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "spikedyn"
MAX_LINES = 800
MIN_SUBPACKAGES = 5

#: The layers, lowest first: a module imports only from its own layer or a lower one.
#: (Within a layer the modules form a DAG too: ``plotting`` draws the metrics of
#: ``continual.metrics`` and the front of ``search.pareto``, the writers of
#: ``continual`` and ``search`` draw with it, and ``compare`` tabulates and draws runs;
#: ``export`` writes a trained network for other stacks, above ``simulation``.)
LAYERS = (
    ("spikedyn.errors", "spikedyn._version"),
    ("spikedyn.core", "spikedyn.io"),
    ("spikedyn.models",),
    ("spikedyn.config",),
    ("spikedyn.cost",),
    ("spikedyn.simulation", "spikedyn.feedforward"),
    ("spikedyn.continual", "spikedyn.search", "spikedyn.plotting", "spikedyn.conversion", "spikedyn.surrogate",
     "spikedyn.compare", "spikedyn.export"),
    ("spikedyn.reference",),
    ("spikedyn.cli",),
    ("spikedyn._compat", "spikedyn"),
)


def module_name(path: Path) -> str:
    parts = ["spikedyn", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The package's modules that module ``name`` imports, anywhere in its source."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.add(sub if sub in MODULES else module)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports_of(name) for name in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as a list of nodes (the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_import_graph_sees_every_kind_of_import() -> None:
    """The graph is built from all imports, lazy ones included (a check of the checker)."""
    assert "spikedyn.models" in GRAPH["spikedyn.config.sections"]  # imported inside a function
    assert "spikedyn.io.interrupt" in GRAPH["spikedyn.cli.options"]  # under TYPE_CHECKING
    assert "spikedyn.core.traces" in GRAPH["spikedyn.models.stdp"]  # from ..core.traces import ...
    assert "spikedyn.models" in GRAPH["spikedyn.simulation.state"]  # from .. import models
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def layer_of(name: str) -> int:
    for level, prefixes in enumerate(LAYERS):
        if any(name == p or (p != "spikedyn" and name.startswith(p + ".")) for p in prefixes):
            return level
    raise AssertionError(f"{name} belongs to no layer of LAYERS")


def test_dependencies_run_one_way() -> None:
    """Each module imports only from its own layer or below (errors <- core, io <- models <- config <- cost <-
    simulation <- continual, search, plotting <- reference <- cli)."""
    upward = [f"{a} -> {b}" for a, targets in GRAPH.items() for b in sorted(targets) if layer_of(b) > layer_of(a)]
    assert not upward, "imports against the layers: " + "; ".join(upward)


def test_sub_packages_by_concept() -> None:
    subpackages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert len(subpackages) >= MIN_SUBPACKAGES, subpackages
    assert {"core", "models", "config", "cost", "simulation", "continual", "search", "io", "reference",
            "cli"} <= set(subpackages)


def test_no_module_is_over_800_lines() -> None:
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


@pytest.mark.parametrize("first", ["spikedyn.plotting", "spikedyn.continual.metrics", "spikedyn.search.pareto",
                                   "spikedyn.io.runs", "spikedyn.cli.options", "spikedyn.models.asp",
                                   "spikedyn.config", "spikedyn.simulation.network", "spikedyn.cost.footprint"])
def test_any_module_imports_first(first: str) -> None:
    """A module imported before any other loads (the implicit imports of parent packages, which the graph
    leaves out, make no runtime cycle), and then every module of the package does."""
    code = (f"import importlib, {first}\n"
            f"for name in {sorted(MODULES)!r}:\n"
            "    if name != 'spikedyn.cli.__main__':\n"
            "        importlib.import_module(name)\n")
    subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code], check=True)
