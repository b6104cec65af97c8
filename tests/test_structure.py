"""The house's plan, read from the code's own imports (docs/architecture.md draws it).

Every import counts, the ones inside functions too: an import hidden in a function still
makes a module depend on another, and a cycle hidden that way is still a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "grader"
#: The submission's side: what runs in the sandboxed child beside the learner's code.
SUBMISSION_SIDE = ("harness", "explore", "processes", "checks")
#: The grader's side: what decides, stores and shows grades.
GRADER_SIDE = ("grading", "report", "cli", "sandbox", "course", "spec")
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


#: The package's modules; course skeletons are files `grader course new` copies, not modules.
MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
           if "skeletons" not in p.relative_to(PACKAGE).parts}


def _resolve(name: str) -> str | None:
    """The module of `grader` that `name` (a module, or a name inside one) lives in."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            # `from grader.explore import runtime` depends on the module runtime, not on
            # the package; `from grader.protocol import Failure` on grader.protocol
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                     for alias in node.names]
        else:
            continue
        found.update(r for r in map(_resolve, names) if r and r.startswith("grader"))
    found.discard(module)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _side(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _cycles() -> Iterator[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in sorted(GRAPH[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    yield from found


def test_the_import_reader_sees_imports_inside_functions():
    # the reader must not go blind to the kind of import that hid the explorer's old cycle
    assert "grader.host" in GRAPH["grader.processes.inspector"]


def test_no_import_cycle_in_the_package():
    assert list(_cycles()) == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _side(m) in SUBMISSION_SIDE))
def test_the_submission_side_never_imports_the_grader_side(module):
    crossing = sorted(m for m in GRAPH[module] if _side(m) in GRADER_SIDE)
    assert crossing == [], f"{module} imports {crossing}"


def test_protocol_and_host_import_nothing_but_the_standard_library_and_each_other():
    assert GRAPH["grader.protocol"] == set()
    assert GRAPH["grader.host"] <= {"grader.protocol"}


def test_both_sides_speak_through_the_protocol():
    assert "grader.protocol" in GRAPH["grader.harness.runner"]  # the child encodes
    assert "grader.protocol" in GRAPH["grader.channel"]
    decoders = [m for m in MODULES if _side(m) == "grading" and "grader.protocol" in GRAPH[m]]
    assert decoders, "no module of grading decodes the child's records with grader.protocol"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_600_lines(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{MODULES[module].name} has {lines} lines"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_opens_with_what_it_owns(module):
    tree = ast.parse(MODULES[module].read_text())
    assert ast.get_docstring(tree), f"{module} has no docstring"


def test_the_check_authors_front_door_resolves_every_name_it_lists():
    import grader.checks

    missing = [name for name in grader.checks.__all__ if not hasattr(grader.checks, name)]
    assert missing == []
    undocumented = [name for name in grader.checks.__all__
                    if name not in (grader.checks.__doc__ or "")]
    assert undocumented == []
