"""Exercise specs: YAML to validated objects, errors naming file, line and field, JSON Schema.

It reads and validates; it never runs a submission or a check.
"""

from grader.spec.catalogue import (
    bundled_exercises_dir,
    course_config,
    exercise_files,
    ids,
    load_exercise,
    resolve,
    search_path,
)
from grader.spec.loader import SpecError, load_exercise_file, parse_exercise, test_functions
from grader.spec.model import (
    ALLOWED_MODULES,
    BUILTIN_CHECKS,
    BUILTIN_KINDS,
    IMPORTS,
    CheckSpec,
    Exercise,
    LimitsSpec,
)


def json_schema() -> dict:
    """The JSON Schema of exercise.yaml, for editors."""
    schema = Exercise.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "grader exercise.yaml"
    return schema


__all__ = [
    "ALLOWED_MODULES",
    "BUILTIN_CHECKS",
    "BUILTIN_KINDS",
    "IMPORTS",
    "CheckSpec",
    "Exercise",
    "LimitsSpec",
    "SpecError",
    "bundled_exercises_dir",
    "course_config",
    "exercise_files",
    "ids",
    "json_schema",
    "load_exercise",
    "load_exercise_file",
    "parse_exercise",
    "resolve",
    "search_path",
    "test_functions",
]
