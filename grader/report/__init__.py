"""Reports: one result model, many renderers.

Each format is a module of its own: `text` (the terminal), `jsonout` (the
model's dictionary), `html` (the self-contained learner page, templates in the
top-level `templates/`), `junit` (CI test reports), `gradescope`
(`results.json`). `render` picks one by name and applies the learner view.
Beside them, `class_report` renders a batch's class page and `validation` the
reports of `grader validate`.
Nothing here runs or grades anything: it turns results into text.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from grader.report.jsonout import render_json
from grader.report.text import render_text, text_report
from grader.report.visibility import learner_copy
from grader.results import SubmissionResult

if TYPE_CHECKING:
    from grader.report.gradescope import render_gradescope
    from grader.report.html import render_html, templates_dir
    from grader.report.junit import render_junit

#: Renderers imported on first use: Jinja (html) and ElementTree (junit) cost a terminal
#: report's start-up time for nothing.
_LAZY = {
    "render_gradescope": "grader.report.gradescope",
    "render_html": "grader.report.html",
    "templates_dir": "grader.report.html",
    "render_junit": "grader.report.junit",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

FORMATS = ("text", "json", "html", "junit", "gradescope")

__all__ = [
    "FORMATS",
    "UnknownFormat",
    "render",
    "render_gradescope",
    "render_html",
    "render_json",
    "render_junit",
    "render_text",
    "templates_dir",
]


class UnknownFormat(ValueError):
    """A report format this package does not know; names the ones it does."""

    def __init__(self, fmt: str) -> None:
        super().__init__(f"unknown report format {fmt!r}; choose one of: {', '.join(FORMATS)}")
        self.fmt = fmt


def render(
    result: SubmissionResult, fmt: str, *, color: bool = False, learner_view: bool = True
) -> str:
    """Render one result in format `fmt` ("text", "json", "html", "junit", "gradescope").

    `learner_view` hides what hidden checks found (message, hint, trace) in
    text, json, html and junit; without it instructors see them in full. Gradescope
    output is never redacted: it marks hidden checks "after_published" and
    Gradescope holds them back. `color` applies to text only.
    """
    if fmt == "text":
        return (
            render_text(result, color=color) if learner_view else text_report(result, color=color)
        )
    if fmt == "html":
        from grader.report.html import render_html

        return render_html(result, learner_view=learner_view)
    if fmt == "gradescope":
        from grader.report.gradescope import render_gradescope

        return render_gradescope(result)
    shown = learner_copy(result) if learner_view else result
    if fmt == "json":
        return render_json(shown)
    if fmt == "junit":
        from grader.report.junit import render_junit

        return render_junit([shown])
    raise UnknownFormat(fmt)
