"""Flag, for the instructor, submissions that reach into the interpreter they share with checks.

Thread exercises run their checks in the same interpreter as the learner's code,
so a submission could in principle patch the harness, pytest or builtins, walk
frames, or write to the results channel. The parent re-checks every record, but
it cannot see in-process tampering. This static scan of the submission's own
source names every such reach (with file and line) so that an instructor can
look; it is advice, never a deduction: many honest programs import `gc`.
"""

from __future__ import annotations

import ast
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.grading.forbidden import python_sources
from grader.parsing import parse_source

#: Modules whose import alone is worth a look, and why.
MODULES = {
    "gc": "can find and change any object in the interpreter, the checks' included",
    "ctypes": "can read and write the interpreter's memory",
    "inspect": "can walk the call stack into the checks' frames",
    "builtins": "can replace built-in functions the checks rely on",
    "pytest": "the checks run under pytest: a submission has no reason to touch it",
    "_pytest": "the checks run under pytest: a submission has no reason to touch it",
    "grader": "the grading harness itself",
    "faulthandler": "can change how crashes are reported",
    "sys.monitoring": "can observe or alter every instruction the checks run",
}
#: Attribute names that reach into frames or the interpreter's hooks.
ATTRIBUTES = {
    "_getframe": "walks the call stack into the checks' frames",
    "f_back": "walks the call stack into the checks' frames",
    "f_locals": "reads or changes another frame's variables",
    "f_globals": "reads or changes another frame's globals",
    "settrace": "installs a tracer over every line the checks run",
    "setprofile": "installs a profiler over every call the checks make",
    "__builtins__": "reaches the built-ins the checks rely on",
    "__code__": "rewrites a function's code",
    "__defaults__": "rewrites a function's default arguments",
    "__kwdefaults__": "rewrites a function's default arguments",
    "__globals__": "reaches another module's globals through a function",
    "__closure__": "reaches another function's variables",
}
#: `sys.X` attributes that change what every later import or check sees when assigned.
SYS_MUTABLE = {"modules", "meta_path", "path_hooks", "excepthook", "stdout", "stderr"}
STRINGS = {
    "/proc/self": "inspects its own process (memory maps, file descriptors)",
    "/proc/": "inspects processes through /proc",
}


@dataclass(frozen=True)
class IntegrityFlag:
    file: str
    line: int
    what: str
    why: str

    def to_dict(self) -> dict:
        return asdict(self)


class _Scanner(ast.NodeVisitor):
    def __init__(self, file: str) -> None:
        self.file = file
        self.flags: list[IntegrityFlag] = []
        self.sys_names: set[str] = set()
        self.os_names: set[str] = set()

    def flag(self, node: ast.AST, what: str, why: str) -> None:
        self.flags.append(IntegrityFlag(self.file, getattr(node, "lineno", 0), what, why))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(node, alias.name)
            if alias.name == "sys":
                self.sys_names.add(alias.asname or "sys")
            if alias.name == "os":
                self.os_names.add(alias.asname or "os")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._module(node, node.module)
            for alias in node.names:
                self._module(node, f"{node.module}.{alias.name}")

    def _module(self, node: ast.AST, name: str) -> None:
        for module, why in MODULES.items():
            if name == module or name.startswith(module + "."):
                self.flag(node, f"import {name}", why)
                return

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in ATTRIBUTES:
            self.flag(node, f".{node.attr}", ATTRIBUTES[node.attr])
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__":
            self.flag(node, "__builtins__", ATTRIBUTES["__builtins__"])

    def _target(self, target: ast.AST) -> None:
        base = target
        while isinstance(base, (ast.Subscript, ast.Attribute)) and not (
            isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name)
        ):
            base = base.value
        if (isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name)
                and base.value.id in self.sys_names and base.attr in SYS_MUTABLE):
            self.flag(target, f"assigns sys.{base.attr}",
                      "changes what the checks import or where their output goes")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._target(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._target(node.target)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            owner, name = func.value.id, func.attr
            if owner in self.os_names and name in ("write", "close", "dup2", "closerange") \
                    and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, int) and node.args[0].value > 2:
                self.flag(node, f"os.{name}({node.args[0].value}, ...)",
                          "touches a file descriptor it did not open (the results channel?)")
            if owner in self.os_names and name in ("kill", "killpg") and node.args and (
                    isinstance(node.args[0], ast.Call) and isinstance(node.args[0].func,
                                                                      ast.Attribute)
                    and node.args[0].func.attr in ("getppid", "getpgid", "getpgrp")):
                self.flag(node, f"os.{name}(os.{node.args[0].func.attr}(), ...)",
                          "signals the process that runs the checks")
            if owner in self.sys_names and name in ("modules",):
                self.flag(node, "sys.modules", "changes loaded modules")
        if isinstance(func, ast.Name) and func.id == "setattr" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Name) and (first.id in self.sys_names or first.id in (
                    "builtins", "pytest", "grader")):
                self.flag(node, f"setattr({first.id}, ...)", "patches a module the checks use")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            for text, why in STRINGS.items():
                if text in node.value:
                    self.flag(node, repr(node.value[:60]), why)
                    break


def scan_source(source: str, file: str) -> list[IntegrityFlag]:
    try:
        tree = parse_source(source, file)
    except (SyntaxError, ValueError):
        return []
    scanner = _Scanner(file)
    scanner.visit(tree)
    unique = {(f.line, f.what): f for f in scanner.flags}
    return sorted(unique.values(), key=lambda f: (f.file, f.line, f.what))


def scan_integrity(folder: Path) -> list[IntegrityFlag]:
    flags: list[IntegrityFlag] = []
    for name, source in python_sources(folder):
        flags += scan_source(source, name)
    return flags[:200]
