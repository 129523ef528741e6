"""The shape of the code: no import cycles, and no module too long to read in one sitting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("customization_core", "bedrock_customize", "emulator", "stacks", "lambdas", "scripts")
# Modules that must stay short enough to read in one sitting (issue 15: "about 400 lines").
SIZED = ("customization_core", "bedrock_customize", "emulator", "stacks")
MAX_LINES = 420


def _cycles(graph: grimp.ImportGraph) -> Iterator[list[str]]:
    """Each strongly connected component of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(module: str) -> Iterator[list[str]]:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                yield from visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                yield sorted(component)

    for module in sorted(graph.modules):
        if module not in index:
            yield from visit(module)


def test_no_module_imports_itself_through_others() -> None:
    # grimp reads every import statement, those inside functions included.
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert list(_cycles(graph)) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "loop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f() -> None:\n    from loop import b\n")
    (package / "b.py").write_text("from loop import a\n")
    (package / "c.py").write_text("from loop import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert list(_cycles(grimp.build_graph("loop", cache_dir=None))) == [["loop.a", "loop.b"]]


def _long_modules() -> dict[str, int]:
    found = {}
    for package in SIZED:
        for path in sorted((ROOT / package).rglob("*.py")):
            lines = len(path.read_text().splitlines())
            if lines > MAX_LINES:
                found[str(path.relative_to(ROOT))] = lines
    return found


def test_every_module_reads_in_one_sitting() -> None:
    assert _long_modules() == {}
