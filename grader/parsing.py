"""Parsing a submission's Python source on the grader side, one parse at a time.

`ast.parse` is not safe to call from two threads at once on some CPython releases (3.11 and
3.12 before their fixes of gh-106905: "SystemError: AST constructor recursion depth
mismatch"), and a batch grades submissions on parallel threads. A parse that raised there
would read as a submission that does not parse, a wrong grade, or fail loading an exercise;
so every grader-side parse (submissions, an exercise's check files, a report's sources) goes
through `parse_source`, which holds one process-wide lock around the call. Standard library
only, so the spec, grading and report layers all use it.
"""

from __future__ import annotations

import ast
import threading

_PARSING = threading.Lock()


def parse_source(source: str | bytes, filename: str) -> ast.Module:
    """`ast.parse(source, filename)`, never concurrently with another grader-side parse."""
    with _PARSING:
        return ast.parse(source, filename=filename)
