"""The CLI imports only what a command needs: a terminal `check` never loads Jinja and co."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Modules that only some commands or formats use; none of them belongs in `grader check`'s
#: start-up with a text report.
HEAVY = ("jinja2", "webbrowser", "xml.etree.ElementTree", "distributed", "dask", "coverage")

PROBE = """
import json, sys
from grader.cli import build_parser
build_parser()
import grader.cli.check, grader.grading, grader.report, grader.spec
grader.spec.load_exercise("counter")
print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))
"""


def _loaded_after(code: str, *modules: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code, *modules], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def test_check_with_a_text_report_imports_no_renderer_it_does_not_use() -> None:
    assert _loaded_after(PROBE, *HEAVY) == []


@pytest.mark.parametrize("name, module", [("render_html", "jinja2"),
                                          ("render_junit", "xml.etree.ElementTree")])
def test_a_lazy_renderer_is_there_when_asked_for(name: str, module: str) -> None:
    code = ("import json, sys, grader.report as r\n"
            f"assert {module!r} not in sys.modules\n"
            f"assert callable(r.{name})\n"
            "print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))")
    assert _loaded_after(code, module) == [module]


def test_an_unknown_report_attribute_is_an_attribute_error() -> None:
    import grader.report

    with pytest.raises(AttributeError):
        grader.report.render_pdf  # noqa: B018
