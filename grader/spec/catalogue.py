"""Where exercises are found: a path, a course repository's folders, or the bundled ones.

A reference to an exercise is either a path (to its folder or its YAML) or an
id, looked up in order in: the folders named by GRADER_EXERCISES (os.pathsep
separated), the course repository around the current folder (`grader.toml` or
`[tool.grader]` in `pyproject.toml`, key `exercises`), then the catalogue that
ships with grader.
"""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

from grader.spec.loader import SPEC_FILE, SpecError, load_exercise_file
from grader.spec.model import Exercise

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = None


def bundled_exercises_dir() -> Path:
    """The bundled catalogue: inside the installed package, or the checkout's exercises/."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "_bundled" / "exercises"
    if installed.is_dir():
        return installed
    return package.parent / "exercises"


def course_config(start: Path | None = None) -> tuple[Path, list[Path]] | None:
    """The course repository around `start`: (its root, its exercise folders), if any."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        for name, table in (("grader.toml", ()), ("pyproject.toml", ("tool", "grader"))):
            file = folder / name
            if not file.is_file():
                continue
            data = _read_toml(file)
            for key in table:
                data = data.get(key, {}) if isinstance(data, dict) else {}
            if not isinstance(data, dict) or ("exercises" not in data and name == "pyproject.toml"):
                continue
            entries = data.get("exercises", ["exercises"])
            if isinstance(entries, str):
                entries = [entries]
            return folder, [folder / e for e in entries]
    return None


def _read_toml(file: Path) -> dict:
    text = file.read_text(encoding="utf-8")
    if tomllib is not None:
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(file, f"not valid TOML: {exc}") from None
    # Python 3.10: the tiny subset grader.toml needs (key = "value" or ["a", "b"])
    import ast

    data: dict = {}
    table = data
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            table = data
            for part in line.strip("[]").split("."):
                table = table.setdefault(part.strip(), {})
        elif "=" in line:
            key, value = (s.strip() for s in line.split("=", 1))
            try:
                table[key] = ast.literal_eval(value.replace("true", "True").replace("false", "False"))
            except (ValueError, SyntaxError):
                table[key] = value
    return data


def search_path(start: Path | None = None) -> list[Path]:
    folders = [Path(p) for p in os.environ.get("GRADER_EXERCISES", "").split(os.pathsep) if p]
    course = course_config(start)
    if course:
        folders += course[1]
    folders.append(bundled_exercises_dir())
    return folders


def resolve(ref: str | Path) -> Path:
    """The exercise.yaml that `ref` names, or SpecError saying where it looked."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    if (path / SPEC_FILE).is_file():
        return path / SPEC_FILE
    if path.exists() or os.sep in str(ref):
        raise SpecError(path, f"no {SPEC_FILE} there: not an exercise folder")
    for folder in search_path():
        candidate = folder / str(ref) / SPEC_FILE
        if candidate.is_file():
            return candidate
    known = sorted(ids())
    guess = difflib.get_close_matches(str(ref), known, n=1, cutoff=0.6)
    hint = f"did you mean {guess[0]!r}? " if guess else ""
    raise SpecError(str(ref), f"no such exercise; {hint}(known: {', '.join(known) or 'none'})")


def ids() -> list[str]:
    found: list[str] = []
    for folder in search_path():
        if folder.is_dir():
            found += [p.parent.name for p in sorted(folder.glob(f"*/{SPEC_FILE}"))]
    return list(dict.fromkeys(found))


def load_exercise(ref: str | Path) -> Exercise:
    """Load and fully validate an exercise by id or path."""
    return load_exercise_file(resolve(ref))


def exercise_files(folders: list[Path] | None = None) -> list[Path]:
    """Every exercise.yaml in the given folders (default: the search path), first id wins."""
    seen: dict[str, Path] = {}
    for folder in folders if folders is not None else search_path():
        if folder.is_dir():
            for file in sorted(folder.glob(f"*/{SPEC_FILE}")):
                seen.setdefault(file.parent.name, file)
    return list(seen.values())
