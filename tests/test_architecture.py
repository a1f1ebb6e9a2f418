"""The layout the developers' guide promises: modules under 600 lines, and no import cycles
between the modules of ``sim`` (lazy and TYPE_CHECKING imports included: a cycle through a
function-level import is still a design cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "sim"
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The ``sim`` modules that ``name`` imports (a package import counts as its
    ``__init__``; ``from pkg import mod`` as ``pkg.mod`` when that is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            found.add(stem)
            found.update(f"{stem}.{a.name}" for a in node.names)
    return {m for m in found if m in known and m != name}


def test_modules_are_under_600_lines() -> None:
    long = {
        str(p.relative_to(ROOT.parent)): n
        for p in _modules().values()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them): {long}"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (depth-first search), or None. A package's
    ``__init__`` importing its own submodules is not a cycle of design, so edges from a
    package to its own children are left out by the caller."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == 1:
                return [*stack[stack.index(v) :], v]
            if v not in state and (found := visit(v)):
                return found
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(graph):
        if u not in state and (found := visit(u)):
            return found
    return None


def test_no_import_cycles() -> None:
    modules = _modules()
    known = set(modules)
    graph = {
        name: {m for m in _imports(name, path, known) if not m.startswith(name + ".")}
        for name, path in modules.items()
    }
    # a module importing its own package's __init__ (for a re-exported name) is the
    # package's public face, not a cycle of design; the checks below keep real cycles
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph) or [])}"


@pytest.mark.parametrize(
    ("graph", "has_cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, False),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
        ({"a": {"a2"}, "a2": set(), "b": {"a", "a2"}}, False),
    ],
)
def test_cycle_finder(graph: dict[str, set[str]], has_cycle: bool) -> None:
    """The cycle finder itself finds a cycle exactly when there is one."""
    assert (_cycle(graph) is not None) == has_cycle


FORBIDDEN = {
    # what each sub-package's docstring says it never imports
    "sim.core": ("sim.experiments", "sim.analysis", "sim.interactive", "sim.calibrate", "sim.cli"),
    "sim.world": (
        "sim.core",
        "sim.experiments",
        "sim.analysis",
        "sim.interactive",
        "sim.calibrate",
        "sim.cli",
    ),
    "sim.experiments": ("sim.analysis", "sim.interactive", "sim.cli"),
    "sim.analysis": ("sim.core", "sim.experiments", "sim.interactive", "sim.cli"),
}


def test_layers_import_only_what_their_docstring_allows() -> None:
    modules = _modules()
    known = set(modules)
    bad = []
    for name, path in modules.items():
        for layer, never in FORBIDDEN.items():
            if name == layer or name.startswith(layer + "."):
                own = name.split(".")[:2]
                for imported in _imports(name, path, known):
                    if imported.startswith(never) and imported.split(".")[:2] != own:
                        bad.append(f"{name} -> {imported}")
    assert not bad, "layer violations: " + ", ".join(sorted(bad))
