"""Find a class's submissions on disk and name the student behind each one.

Owns the layouts a SUBMISSIONS folder may have and the roster CSV that maps
folder names to student ids. It only looks at names (and, for a folder, where
the entry module sits); it never reads what a submission does, and it never
grades or stores anything.

Layouts, told apart per entry:

- one file per student: ``alice.py`` -> student ``alice``;
- one folder per student: ``alice/`` holding ``<entry>.py`` (at the top, or in
  exactly one sub-folder) -> student ``alice``;
- a GitHub Classroom clone: ``<assignment>-<username>/`` folders sharing one
  prefix -> student ``<username>``.

A roster CSV (GitHub Classroom's export ``identifier,github_username,...``, or
any CSV with a ``student``/``identifier``/``id`` column and optionally a
``github_username``/``username``/``folder`` column) renames students to their
roster identifier and lists the students who submitted nothing.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

#: Names that are never a student's submission.
_IGNORED = re.compile(r"^(\.|__pycache__$|__MACOSX$|gradebook\.csv$|.*\.(db|db-wal|db-shm|db\.lock)$)")
_ID_COLUMNS = ("identifier", "student", "student_id", "id", "email", "name")
_FOLDER_COLUMNS = ("github_username", "username", "login", "folder", "submission")


class RosterError(Exception):
    """The submissions folder or the roster cannot be read as a class."""


@dataclass(frozen=True)
class Submission:
    """One student's submission: who, and the file or folder to grade."""

    student: str
    path: Path  # a .py file, or the folder holding the entry module
    name: str  # the entry's name in SUBMISSIONS (file or folder name)


@dataclass
class ClassList:
    """Everything found in a SUBMISSIONS folder."""

    submissions: list[Submission]
    missing: list[str] = field(default_factory=list)  # roster students with no submission
    warnings: list[str] = field(default_factory=list)  # one sentence each, for the instructor


@dataclass(frozen=True)
class RosterEntry:
    student: str
    folder: str  # the name their submission goes by (a GitHub username, usually)


def read_roster(path: Path) -> list[RosterEntry]:
    """Read a roster CSV: a student id column and optionally the submission's name column."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise RosterError(f"cannot read the roster {path}: {error.strerror}") from None
    if not rows:
        raise RosterError(f"the roster {path} has no rows under its header")
    columns = {name.strip().lower(): name for name in rows[0] if name}
    id_column = next((columns[c] for c in _ID_COLUMNS if c in columns), None)
    if id_column is None:
        raise RosterError(
            f"the roster {path} has no student column (one of {', '.join(_ID_COLUMNS)})"
        )
    folder_column = next((columns[c] for c in _FOLDER_COLUMNS if c in columns), None)
    entries = []
    for row in rows:
        student = (row.get(id_column) or "").strip()
        folder = (row.get(folder_column) or "").strip() if folder_column else student
        if student:
            entries.append(RosterEntry(student=student, folder=folder or student))
    return entries


def _classroom_prefix(names: list[str]) -> str:
    """The `<assignment>-` prefix every folder shares in a GitHub Classroom clone, or ''."""
    if len(names) < 2:
        return ""
    prefix = os.path.commonprefix(names)
    cut = prefix.rfind("-")
    if cut <= 0:
        return ""
    prefix = prefix[: cut + 1]
    if any(len(name) == len(prefix) for name in names):
        return ""
    return prefix


def _entry_folder(folder: Path, entry: str) -> Path | None:
    """The folder inside a student's folder that holds `<entry>.py`, or None."""
    if (folder / f"{entry}.py").is_file():
        return folder
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _IGNORED.match(d))
        if f"{entry}.py" in files:
            found.append(Path(root))
        if len(found) > 1:
            return None
    return found[0] if found else None


def discover(
    root: Path, entry: str, roster: Path | None = None, *, exclude: Path | None = None
) -> ClassList:
    """List the submissions under `root`, one per student, sorted by student id.

    `exclude` (the batch's output folder, when it sits among the submissions) is skipped.
    """
    if not root.is_dir():
        raise RosterError(f"the submissions folder {root} does not exist or is not a folder")
    skip = exclude.resolve() if exclude is not None else None
    names = sorted(
        name
        for name in os.listdir(root)
        if not _IGNORED.match(name) and (skip is None or (root / name).resolve() != skip)
    )
    warnings: list[str] = []
    folders = [n for n in names if (root / n).is_dir()]
    prefix = _classroom_prefix(folders)
    candidates: list[tuple[str, Path, str]] = []  # (key, path, name)
    for name in names:
        path = root / name
        if path.is_dir():
            holder = _entry_folder(path, entry)
            if holder is None:
                holder = path  # graded anyway: the missing module fails the `imports` check
                warnings.append(f"{name}/ has no single {entry}.py; it is graded as it stands")
            key = name[len(prefix) :] if prefix and name.startswith(prefix) else name
            candidates.append((key, holder, name))
        elif name.endswith(".py"):
            candidates.append((name[: -len(".py")], path, name))
        else:
            warnings.append(f"{name} is neither a .py file nor a folder; it is ignored")
    by_key = {}
    for key, path, name in candidates:
        by_key[key] = Submission(student=key, path=path, name=name)
    missing: list[str] = []
    if roster is not None:
        entries = read_roster(roster)
        renamed: dict[str, Submission] = {}
        matched: set[str] = set()
        for item in entries:
            hit = by_key.get(item.folder) or by_key.get(item.student)
            if hit is None:
                lowered = {k.lower(): k for k in by_key}
                key = lowered.get(item.folder.lower()) or lowered.get(item.student.lower())
                hit = by_key.get(key) if key else None
            if hit is None:
                missing.append(item.student)
                continue
            matched.add(hit.student)
            renamed[item.student] = Submission(student=item.student, path=hit.path, name=hit.name)
        for key, submission in by_key.items():
            if key not in matched:
                warnings.append(f"{submission.name} is not on the roster; graded as {key}")
                renamed.setdefault(key, submission)
        by_key = renamed
    submissions = [by_key[k] for k in sorted(by_key)]
    return ClassList(submissions=submissions, missing=sorted(missing), warnings=warnings)
