"""The package's import graph: no loops, and imports that run from a higher layer down.

Every import of a ``sim`` module by another is read from the source (type-checking
imports included) and checked against :data:`LAYERS`, the layering docs/CONTRIBUTING.md
describes: a module may import its own layer and the layers below, never one above
(:data:`UPWARD` names the exceptions, with why: there are none today).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sim"

#: Lowest first. A module is placed by its name; a subpackage by its prefix (``sim.sweep``).
LAYERS: list[tuple[str, set[str]]] = [
    (
        "foundations",
        {
            "sim.errors",
            "sim.paths",
            "sim.provenance",
            "sim.progress",
            "sim.stats",
            "sim.style",
            "sim.psychology",
            "sim.kernels",
            "sim.network",
            "sim.market",
            "sim.economics",
            "sim.workers",
        },
    ),
    ("machinery", {"sim.spec", "sim.strategies"}),
    ("tables", {"sim.parameters"}),
    ("configuration", {"sim.configuration", "sim.usage", "sim.keys"}),
    ("model parts", {"sim.observables", "sim.agents", "sim.analysis"}),
    ("model", {"sim.model"}),
    ("runs", {"sim.reference", "sim.outputs", "sim.scenario", "sim.plots", "sim.runner"}),
    ("applications", {"sim.sweep", "sim.calibration", "sim.classroom"}),
    ("package", {"sim"}),
]
#: Imports allowed to run upward, (importer, imported) -> why. Keep it at most one.
UPWARD: dict[tuple[str, str], str] = {}
#: Applications are siblings: none imports another.
SIBLINGS = ("sim.sweep", "sim.calibration", "sim.classroom")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """The sim modules ``name`` imports (relative imports resolved)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            candidates = [f"{module}.{alias.name}" for alias in node.names] + [module]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in MODULES:
                candidate = candidate.rpartition(".")[0]
            if candidate.startswith("sim") and candidate != name:
                targets.add(candidate)
    return {t for t in targets if not name.startswith(t + ".")}  # a package's own __init__


GRAPH = {name: _imports(name) for name in MODULES}


def _layer(name: str) -> int:
    for rank, (_, members) in enumerate(LAYERS):
        for member in members:
            if name == member or (member != "sim" and name.startswith(member + ".")):
                return rank
    raise AssertionError(f"{name} is in no layer: add it to LAYERS and docs/CONTRIBUTING.md")


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        _layer(name)


def test_no_import_loop() -> None:
    """Tarjan's strongly connected components: every one must be a single module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert loops == []


def test_imports_run_down_the_layers() -> None:
    upward = {
        (a, b): f"{a} ({LAYERS[_layer(a)][0]}) imports {b} ({LAYERS[_layer(b)][0]})"
        for a, targets in GRAPH.items()
        for b in targets
        if _layer(b) > _layer(a)
    }
    assert set(upward) <= set(UPWARD), sorted(set(upward) - set(UPWARD))
    assert len(UPWARD) <= 1


@pytest.mark.parametrize("package", SIBLINGS)
def test_applications_do_not_import_each_other(package: str) -> None:
    others = [p for p in SIBLINGS if p != package]
    crossing = sorted(
        (a, b)
        for a, targets in GRAPH.items()
        if a.startswith(package)
        for b in targets
        if any(b == o or b.startswith(o + ".") for o in others)
    )
    assert crossing == []


def test_strategies_know_the_market_only_through_its_protocol() -> None:
    assert GRAPH["sim.strategies"] <= {"sim.market"}
