"""Copy a skeleton into place, filling in the exercise's id, entry module and title."""

from __future__ import annotations

import re
from pathlib import Path

from grader.spec import course_config
from grader.spec.model import CHECK_ID

SKELETONS = Path(__file__).resolve().parent / "skeletons"
FAMILIES = ("threads", "processes", "workers")


class ScaffoldError(Exception):
    """The scaffold cannot be written (bad id, existing files); one sentence says why."""


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    return text


def _copy_tree(source: Path, dest: Path, values: dict[str, str]) -> list[Path]:
    written = []
    for item in sorted(source.rglob("*")):
        if item.is_dir() or "__pycache__" in item.parts:
            continue
        target = dest / _fill(str(item.relative_to(source)), values)
        if target.exists():
            raise ScaffoldError(f"{target} already exists; nothing was written over it")
        written.append((item, target))
    paths = []
    for item, target in written:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_fill(item.read_text(encoding="utf-8"), values), encoding="utf-8")
        paths.append(target)
    return paths


def init_course(dest: Path, name: str | None = None) -> list[Path]:
    """A new course repository at `dest`: config, CI workflow, classroom workflow, folders."""
    dest = Path(dest)
    if (dest / "grader.toml").exists():
        raise ScaffoldError(f"{dest} is already a course repository (it has grader.toml)")
    values = {"NAME": name or dest.resolve().name}
    paths = _copy_tree(SKELETONS / "course", dest, values)
    for folder in ("exercises", "solutions"):
        (dest / folder).mkdir(parents=True, exist_ok=True)
    return paths


def new_exercise(exercise_id: str, family: str, root: Path | None = None,
                 title: str | None = None) -> list[Path]:
    """Scaffold exercise `exercise_id` of `family` in the course repository around `root`."""
    if family not in FAMILIES:
        raise ScaffoldError(f"unknown family '{family}' (choose one of {', '.join(FAMILIES)})")
    if not re.fullmatch(CHECK_ID, exercise_id):
        raise ScaffoldError(f"'{exercise_id}' is not a valid id: use lower-case words joined "
                            "by '-', like 'bank' or 'bounded-buffer'")
    course = course_config(root)
    base = course[0] if course else Path(root or Path.cwd()).resolve()
    exercises = course[1][0] if course else base / "exercises"
    folder = exercises / exercise_id
    if folder.exists():
        raise ScaffoldError(f"{folder} already exists")
    values = {
        "ID": exercise_id,
        "ENTRY": exercise_id.replace("-", "_"),
        "TITLE": title or exercise_id.replace("-", " ").capitalize(),
    }
    skeleton = SKELETONS / family
    paths = _copy_tree(skeleton / "exercise", folder, values)
    paths += _copy_tree(skeleton / "solutions", base / "solutions" / exercise_id, values)
    return paths
