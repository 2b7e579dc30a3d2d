"""The shape ARCHITECTURE.md promises, checked: module sizes, the arrows between folders,
no import cycle, and which entry points load Streamlit."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "crdt_sync"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    """Modules of crdt_sync (and external top-level packages) that ``name`` imports,
    type-only imports (``if TYPE_CHECKING:``) aside; imports inside functions count."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in MODULES else target)
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    visit(children)

    visit(ast.parse(path.read_text()).body)
    return {m for m in found if m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    edges = {m: {t for t in targets if t in MODULES} for m, targets in GRAPH.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
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

    for module in edges:
        if module not in index:
            visit(module)
    return found


def test_no_module_is_over_400_lines() -> None:
    long = {n: len(p.read_text().splitlines()) for n, p in MODULES.items()}
    assert {n: lines for n, lines in long.items() if lines > MAX_LINES} == {}


def test_no_import_cycle_between_modules() -> None:
    assert _cycles() == []


def _importers(prefix: str, forbidden: tuple[str, ...]) -> dict[str, set[str]]:
    return {
        module: {t for t in targets if t.startswith(forbidden)}
        for module, targets in GRAPH.items()
        if module.startswith(prefix) and any(t.startswith(forbidden) for t in targets)
    }


def test_the_engine_imports_neither_streamlit_nor_the_layers_above_it() -> None:
    above = ("streamlit", "redis", "crdt_sync.net", "crdt_sync.bridge", "crdt_sync.compat")
    assert _importers("crdt_sync.doc", above) == {}


def test_the_bridge_imports_nothing_from_net_and_the_cli_nothing_from_the_bridge() -> None:
    assert _importers("crdt_sync.bridge", ("crdt_sync.net",)) == {}
    assert _importers("crdt_sync.cli", ("crdt_sync.bridge", "streamlit")) == {}


def test_only_the_runtime_package_uses_streamlit_internals() -> None:
    internals = ("streamlit.runtime", "streamlit.proto", "streamlit.elements")
    users = _importers("crdt_sync", internals)
    assert {m for m in users if not m.startswith("crdt_sync.bridge.runtime")} == set()


@pytest.mark.parametrize(
    "module", ["crdt_sync.cli", "crdt_sync.net.redis_store", "crdt_sync.net.relay"]
)
def test_entry_points_without_streamlit_leave_it_unloaded(module: str) -> None:
    code = f"import sys, {module}\nassert 'streamlit' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
