"""Find uses of forbidden modules and names in a submission's own source, statically.

Judged on the submission's source only (never by importing it): `import x`,
`from x import y`, attribute access on a name bound to an imported module,
`__import__("x")` and `importlib.import_module("x")` with literal names. An
attribute or comment that merely has the same name is not a use, and what the
standard library imports internally does not count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from grader.parsing import parse_source

#: Names a package re-exports from a submodule: using the left one uses the right one.
REEXPORTS = {
    "multiprocessing.Pool": "multiprocessing.pool.Pool",
    "multiprocessing.ThreadPool": "multiprocessing.pool.ThreadPool",
    "multiprocessing.dummy.Pool": "multiprocessing.pool.ThreadPool",
    "multiprocessing.pool": "multiprocessing.pool",
    "multiprocessing.dummy": "multiprocessing.dummy",
    "multiprocessing.context.BaseContext.Pool": "multiprocessing.pool.Pool",
    "concurrent.futures.ProcessPoolExecutor": "concurrent.futures.process.ProcessPoolExecutor",
    "concurrent.futures.ThreadPoolExecutor": "concurrent.futures.thread.ThreadPoolExecutor",
    "threading.Barrier": "threading.Barrier",
}
#: Modules whose import implies another (a thread pool is built on multiprocessing.pool).
IMPLIES = {"multiprocessing.dummy": ["multiprocessing.pool"]}


@dataclass(frozen=True)
class ForbiddenUse:
    file: str
    line: int
    name: str  # the dotted name used
    rule: str  # the forbid entry it breaks

    def describe(self) -> str:
        return f"{self.file}, line {self.line}: uses {self.name}, which this exercise forbids"


def _expand(name: str) -> list[str]:
    """The dotted names a use of `name` amounts to (itself, its re-export target, implied)."""
    out = [name]
    for alias, target in REEXPORTS.items():
        if name == alias or name.startswith(alias + "."):
            out.append(target + name[len(alias):])
    for module, implied in IMPLIES.items():
        if name == module or name.startswith(module + "."):
            out += implied
    return out


def _breaks(name: str, rule: str) -> bool:
    return any(n == rule or n.startswith(rule + ".") for n in _expand(name))


class _Scanner(ast.NodeVisitor):
    def __init__(self) -> None:
        self.bound: dict[str, str] = {}  # local name -> dotted module/object it stands for
        self.uses: list[tuple[int, str]] = []

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.uses.append((node.lineno, alias.name))
            if alias.asname:
                self.bound[alias.asname] = alias.name
            else:
                root = alias.name.split(".")[0]
                self.bound[root] = root

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return  # a relative import reaches the submission's own files
        self.uses.append((node.lineno, node.module))
        for alias in node.names:
            if alias.name == "*":
                continue
            full = f"{node.module}.{alias.name}"
            self.uses.append((node.lineno, full))
            self.bound[alias.asname or alias.name] = full

    def _dotted(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call):  # multiprocessing.get_context("spawn").Pool
            inner = self._dotted(node.func)
            if inner and inner.startswith("multiprocessing") and inner.endswith("get_context"):
                return ".".join(["multiprocessing.context.BaseContext", *reversed(parts)])
            return None
        if isinstance(node, ast.Name) and node.id in self.bound:
            return ".".join([self.bound[node.id], *reversed(parts)])
        return None

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = self._dotted(node)
        if name:
            self.uses.append((node.lineno, name))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = self._dotted(node.func) if isinstance(node.func, ast.Attribute) else None
        is_dynamic = (isinstance(node.func, ast.Name) and node.func.id == "__import__") or (
            func in ("importlib.import_module",)
        ) or (isinstance(node.func, ast.Name)
              and self.bound.get(node.func.id) == "importlib.import_module")
        if is_dynamic and node.args and isinstance(node.args[0], ast.Constant):
            if isinstance(node.args[0].value, str):
                self.uses.append((node.lineno, node.args[0].value))
        self.generic_visit(node)


def scan_source(source: str, filename: str, forbid: list[str]) -> list[ForbiddenUse]:
    """Forbidden uses in one file's source. A file that does not parse has none (the import
    check reports the syntax error)."""
    if not forbid:
        return []
    try:
        tree = parse_source(source, filename)
    except (SyntaxError, ValueError):
        return []
    scanner = _Scanner()
    scanner.visit(tree)
    found: list[ForbiddenUse] = []
    seen: set[tuple[int, str]] = set()
    for line, name in scanner.uses:
        for rule in forbid:
            if _breaks(name, rule) and (line, rule) not in seen:
                seen.add((line, rule))
                found.append(ForbiddenUse(filename, line, name, rule))
    return sorted(found, key=lambda u: (u.file, u.line))


def python_sources(folder: Path) -> Iterator[tuple[str, str]]:
    """(path relative to `folder`, text) of every Python file of a prepared submission."""
    for file in sorted(folder.rglob("*.py")):
        try:
            yield str(file.relative_to(folder)), file.read_text(encoding="utf-8",
                                                                 errors="replace")
        except OSError:
            continue


def scan_forbidden(folder: Path, forbid: list[str]) -> list[ForbiddenUse]:
    """Forbidden uses in every Python file of a prepared submission folder."""
    found: list[ForbiddenUse] = []
    for name, source in python_sources(folder):
        found += scan_source(source, name, forbid)
    return found
