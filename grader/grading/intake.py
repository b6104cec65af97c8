"""Submission intake: the submission's files, its content hash and seed, the fresh working
folder it is copied into, and the sources kept for the report.

The parent side only: it reads and copies the learner's files and parses them (never imports
or runs them), and it decides nothing about checks or points.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from grader.parsing import parse_source
from grader.spec import Exercise

SOURCE_LIMIT = 200_000  # bytes of learner source kept for the report
MAX_SUBMISSION_BYTES = 5 << 20
MAX_SUBMISSION_FILES = 200


def _submission_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = []
    for file in sorted(path.rglob("*")):
        rel = file.relative_to(path)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        if file.is_file() and not file.is_symlink():
            files.append(file)
    return files


def submission_hash(path: Path) -> str:
    """sha256 over the submission's content (file names and bytes, sorted)."""
    path = Path(path)
    digest = hashlib.sha256()
    for file in _submission_files(path):
        rel = file.name if path.is_file() else str(file.relative_to(path))
        digest.update(rel.encode() + b"\0")
        with open(file, "rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def derive_seed(content_hash: str, exercise: Exercise) -> int:
    text = f"{content_hash}:{exercise.id}:{exercise.version}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


def prepare_workdir(exercise: Exercise, submission: Path, root: Path) -> tuple[Path, str | None]:
    """Copy the submission into root/work as the entry module. Returns (workdir, problem)."""
    work = root / "work"
    work.mkdir()
    entry = f"{exercise.entry}.py"
    if submission.is_file():
        if submission.stat().st_size > MAX_SUBMISSION_BYTES:
            return work, f"{submission.name} is larger than {MAX_SUBMISSION_BYTES >> 20} MiB"
        shutil.copyfile(submission, work / entry)
        return work, None
    files = _submission_files(submission)
    if len(files) > MAX_SUBMISSION_FILES:
        return work, f"the folder holds more than {MAX_SUBMISSION_FILES} files"
    if sum(f.stat().st_size for f in files) > MAX_SUBMISSION_BYTES:
        return work, f"the folder is larger than {MAX_SUBMISSION_BYTES >> 20} MiB"
    for file in files:
        target = work / file.relative_to(submission)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
    if not (work / entry).is_file():
        return work, f"the folder has no {entry}: the grader imports your code from {entry}"
    return work, None


def syntax_problem(work: Path) -> str | None:
    """The first Python file of the submission that does not parse, told in a clause."""

    files = sorted(work.rglob("*.py"))
    if not files:
        return "your submission has no Python file"
    for file in files:
        try:
            parse_source(file.read_bytes(), file.name)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            where = f"{file.relative_to(work)}" + (f", line {line}" if line else "")
            return f"Python cannot parse your code ({where})"
    return None


def read_sources(work: Path) -> dict[str, str]:
    sources: dict[str, str] = {}
    budget = SOURCE_LIMIT
    for file in sorted(work.rglob("*.py")):
        text = file.read_text(encoding="utf-8", errors="replace")[:budget]
        budget -= len(text)
        sources[str(file.relative_to(work))] = text
        if budget <= 0:
            break
    return sources
