"""Read `exercise.yaml` into an `Exercise`, or refuse it with file, line and field.

Reading is strict: unknown fields, duplicate keys, wrong types, checks named in
the YAML with no code (or code with no check in the YAML) and missing files are
all refused at load time, each as one `SpecError` sentence.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from grader.parsing import parse_source
from grader.spec.model import BUILTIN_CHECKS, Exercise

SPEC_FILE = "exercise.yaml"


class SpecError(Exception):
    """An exercise that cannot be used, located as precisely as the problem allows."""

    def __init__(self, file: Path | str, problem: str, line: int | None = None, field: str = ""):
        self.file = str(file)
        self.line = line
        self.field = field
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.problem}"


Path_ = tuple[Any, ...]


def _compose(text: str, file: Path) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML keeping the line of every key and item; refuse duplicate keys."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SpecError(file, f"not valid YAML: {exc.problem or exc}", line) from None
    except yaml.YAMLError as exc:
        raise SpecError(file, f"not valid YAML: {exc}") from None
    lines: dict[Path_, int] = {}
    if root is None:
        raise SpecError(file, "the file is empty", 1)

    def build(node: yaml.Node, path: Path_) -> Any:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise SpecError(file, "keys must be plain names", key_node.start_mark.line + 1,
                                    _dotted(path))
                key = key_node.value
                if key in out:
                    raise SpecError(
                        file, f"the key '{key}' appears twice", key_node.start_mark.line + 1,
                        _dotted(path + (key,)),
                    )
                lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(item, path + (i,)) for i, item in enumerate(node.value)]
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise SpecError(file, f"bad value: {exc}", node.start_mark.line + 1,
                            _dotted(path)) from None
        finally:
            loader.dispose()

    return build(root, ()), lines


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _line_for(path: Path_, lines: dict[Path_, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _check_line(data: Any, lines: dict[Path_, int], check_id: str) -> tuple[int | None, str]:
    for i, check in enumerate(data.get("checks") or []):
        if isinstance(check, dict) and check.get("id") == check_id:
            return lines.get(("checks", i, "id")), f"checks[{i}]"
    return None, "checks"


def _explain(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "this field is required"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; `grader schema` lists the fields)"
    message = error.get("msg", "invalid")
    return re.sub(r"^Value error, ", "", message)


def parse_exercise(text: str, file: Path, folder: Path | None = None) -> Exercise:
    """Validate YAML text as an exercise (no file-system cross-checks)."""
    data, lines = _compose(text, file)
    if not isinstance(data, dict):
        raise SpecError(file, "the top level must be a mapping of fields", 1)
    try:
        exercise = Exercise.model_validate(data)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
        error = errors[0]
        loc = tuple(error.get("loc", ()))
        # pydantic names union/literal branches in loc; keep only real keys and indices
        loc = tuple(p for p in loc if isinstance(p, int) or not str(p).startswith(("literal[", "function-")))
        problem = _explain(error)
        if not loc:
            quoted = re.search(r"check '([^']+)'", problem)
            line, field = _check_line(data, lines, quoted.group(1)) if quoted else (None, "")
            raise SpecError(file, problem, line or 1, field) from None
        raise SpecError(file, problem, _line_for(loc, lines), _dotted(loc)) from None
    exercise._folder = (folder or file.parent).resolve()
    exercise.__dict__["_lines"] = lines
    return exercise


def test_functions(checks_dir: Path) -> dict[str, tuple[Path, int]]:
    """Top-level `test_*` functions of an exercise's checks: name -> (file, line)."""
    found: dict[str, tuple[Path, int]] = {}
    for file in sorted(checks_dir.glob("test_*.py")):
        try:
            tree = parse_source(file.read_text(encoding="utf-8"), str(file))
        except SyntaxError as exc:
            raise SpecError(file, f"the checks do not parse: {exc.msg}", exc.lineno) from None
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
                "test_"
            ):
                if node.name in found:
                    other = found[node.name]
                    raise SpecError(
                        file, f"{node.name} is also defined in {other[0].name}", node.lineno
                    )
                found[node.name] = (file, node.lineno)
    return found


def cross_check(exercise: Exercise, file: Path) -> None:
    """The files the YAML names exist, and checks in YAML and in code match one for one."""
    data_lines: dict[Path_, int] = exercise.__dict__.get("_lines", {})
    folder = exercise.folder
    if not exercise.statement_path.is_file():
        raise SpecError(file, f"the statement file {exercise.statement} does not exist",
                        data_lines.get(("statement",)), "statement")
    if not exercise.starter_path.is_file():
        rel = exercise.starter or f"starter/{exercise.entry}.py"
        raise SpecError(file, f"the starter file {rel} does not exist",
                        data_lines.get(("starter",)) or data_lines.get(("entry",)), "starter")
    if not exercise.checks_dir.is_dir():
        raise SpecError(file, "the exercise has no checks/ folder next to it", None, "checks")
    functions = test_functions(exercise.checks_dir)
    for i, check in enumerate(exercise.checks):
        if check.id in BUILTIN_CHECKS:
            continue
        if check.function not in functions:
            raise SpecError(
                file,
                f"check '{check.id}' has no code: define {check.function}() in "
                f"{exercise.checks_dir.relative_to(folder)}/test_*.py",
                data_lines.get(("checks", i, "id")),
                f"checks[{i}].id",
            )
    wanted = {c.function for c in exercise.checks}
    for name, (path, line) in functions.items():
        if name not in wanted:
            raise SpecError(
                path,
                f"{name} is not a check of the exercise: add a check with id "
                f"'{name[5:].replace('_', '-')}' to {SPEC_FILE}, or remove it",
                line,
            )


def load_exercise_file(file: Path) -> Exercise:
    file = Path(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(file, f"cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SpecError(file, "is not UTF-8 text") from None
    exercise = parse_exercise(text, file)
    cross_check(exercise, file)
    return exercise
