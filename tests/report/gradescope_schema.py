"""Gradescope's `results.json`, its documented fields as pydantic models (strict, no extras).

Fields and allowed values follow Gradescope's autograder specification: top
level `score`, `execution_time`, `output`, `output_format`,
`test_output_format`, `test_name_format`, `visibility`, `stdout_visibility`,
`extra_data`, `tests`; each test `score`, `max_score`, `status`, `name`,
`name_format`, `number`, `output`, `output_format`, `tags`, `visibility`,
`extra_data`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class GradescopeTest(BaseModel):
    """One entry of `tests[]`, fields as Gradescope's autograder specification lists them."""

    model_config = ConfigDict(extra="forbid", strict=True)
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    name: str
    name_format: Literal["text", "html", "simple_format", "md", "ansi"] = "text"
    number: str = ""
    output: str
    output_format: Literal["text", "html", "simple_format", "md", "ansi"] = "text"
    tags: list[str] = []
    visibility: Literal["hidden", "after_due_date", "after_published", "visible"] = "visible"
    extra_data: dict = {}


class GradescopeResults(BaseModel):
    """The top level of `results.json`."""

    model_config = ConfigDict(extra="forbid", strict=True)
    score: float
    execution_time: int
    output: str
    output_format: Literal["text", "html", "simple_format", "md", "ansi"] = "text"
    test_output_format: Literal["text", "html", "simple_format", "md", "ansi"] = "text"
    test_name_format: Literal["text", "html", "simple_format", "md", "ansi"] = "text"
    visibility: Literal["hidden", "after_due_date", "after_published", "visible"] = "visible"
    stdout_visibility: Literal["hidden", "after_due_date", "after_published", "visible"] = "hidden"
    extra_data: dict = {}
    tests: list[GradescopeTest]
