"""Where in the learner's code: the tables of learner files, roots and sites, and lookups.

Owns: `LEARNER_FILES` and `ROOTS` (filled by `instrument`), `SITES` (site id -> file, line,
operation; filled by the rewriter, read by traces and the race detector), and turning frames
and paths into what a learner reads ("counter.py:12"). It must not import any other module of
the explorer: everything below the scheduler reads these tables.
"""

from __future__ import annotations

import os
import sys
import threading

_GRADER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STDLIB_DIR = os.path.dirname(os.path.abspath(threading.__file__))

# Absolute paths of instrumented (learner) files; filled by `instrument`.
LEARNER_FILES: set[str] = set()

# file name -> whether it is the grader's or the standard library's (asked at every scheduling
# point of the bounded search, so asked of a dict rather than of two prefixes each time)
_TOOL_FILES: dict[str, bool] = {}


def is_tool_file(filename: str) -> bool:
    """Whether `filename` belongs to the grader or the standard library."""
    known = _TOOL_FILES.get(filename)
    if known is None:
        known = _TOOL_FILES[filename] = (filename.startswith(_GRADER_DIR)
                                         or filename.startswith(_STDLIB_DIR))
    return known


# Site id -> (absolute file, line, operation): what a scheduling point in learner code does.
SITES: list[tuple[str, int, str]] = []


def learner_location(skip: int = 1) -> tuple[str, int]:
    """(file, line) of the innermost frame in the learner's (or a check's) code."""
    frame = sys._getframe(skip)
    fallback: tuple[str, int] | None = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename in LEARNER_FILES:
            return filename, frame.f_lineno
        if fallback is None and not (is_tool_file(filename) or filename.startswith("<")):
            fallback = (filename, frame.f_lineno)
        frame = frame.f_back
    return fallback or ("", 0)


def exception_location(exc: BaseException) -> tuple[str, int]:
    """The innermost learner frame of a traceback (else the innermost non-grader frame)."""
    best: tuple[str, int] = ("", 0)
    fallback: tuple[str, int] = ("", 0)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename in LEARNER_FILES:
            best = (filename, tb.tb_lineno)
        elif not is_tool_file(filename):
            fallback = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return best if best[0] else fallback


# Learner roots, so a trace shows "counter.py" rather than an absolute path.
ROOTS: list[str] = []


def short_path(path: str) -> str:
    if not path:
        return ""
    for root in ROOTS:
        if path.startswith(root + os.sep):
            return os.path.relpath(path, root)
    return os.path.basename(path)


def source_line(path: str, line: int) -> str:
    import linecache

    return linecache.getline(path, line).strip() if path else ""
