"""Grader-side parses of learner source are serialised (CPython gh-106905 on 3.11/3.12).

A batch grades on parallel threads, and a concurrent `ast.parse` can raise SystemError on
those releases: that would read as "your code does not parse", a wrong grade.
"""

from __future__ import annotations

import ast
import threading
from pathlib import Path

from grader import parsing

GRADER = Path(parsing.__file__).resolve().parent


def test_no_grader_side_module_calls_ast_parse_directly():
    offenders = []
    for path in sorted(GRADER.rglob("*.py")):
        # the explorer parses in the child, one thread at a time; the rest is the parent's
        if path == Path(parsing.__file__).resolve() or "explore" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "parse" and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "ast"):
                offenders.append(f"{path.relative_to(GRADER)}:{node.lineno}")
    assert offenders == []


def test_parses_from_many_threads_all_succeed():
    source = "def f(x):\n" + "".join(f"    y{i} = [x + {i} for _ in range(3)]\n"
                                     for i in range(200))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                assert isinstance(parsing.parse_source(source, "s.py"), ast.Module)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
