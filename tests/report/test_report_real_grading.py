"""Reports of a real grading: the racy counter graded by `grader check`, end to end.

The CLI grades `solutions/counter/buggy_unlocked.py` in its sandbox once; every
renderer then has to handle what the grader really produced, and the HTML page
it wrote is opened in headless Chromium.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import xmlschema
from browser import Chromium
from gradescope_schema import GradescopeResults

from grader.report import render, render_gradescope, render_junit
from grader.results import Status, SubmissionResult

REPO = Path(__file__).resolve().parents[2]
RACY = REPO / "solutions" / "counter" / "buggy_unlocked.py"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SubmissionResult, Path]]:
    out = tmp_path_factory.mktemp("real")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "check",
            "counter",
            str(RACY),
            "--format",
            "json",
            "-o",
            str(out / "result.json"),
            "--html",
            str(out / "report.html"),
            "--staff",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr  # 1: graded, and some check failed
    data = json.loads((out / "result.json").read_text(encoding="utf-8"))
    yield SubmissionResult.from_dict(data), out / "report.html"


def _lost_update(result: SubmissionResult):
    return next(c for c in result.checks if c.id == "no-lost-updates")


def test_the_race_is_caught_with_a_trace_and_shown_in_text(graded) -> None:
    result, _ = graded
    check = _lost_update(result)
    assert check.status is Status.FAILED and check.failure is not None and check.failure.trace
    text = render(result, "text")
    assert "Interleaving that fails" in text
    # the learner's file name, never the entry module it was installed as
    assert ">> " in text and "buggy_unlocked.py:8" in text
    assert "counter.py:" not in text and "(seed " not in text
    assert f"Seed {result.seed}" in text


def test_junit_and_gradescope_of_a_real_grading_are_valid(graded) -> None:
    result, _ = graded
    xmlschema.XMLSchema(str(Path(__file__).with_name("junit.xsd"))).validate(render_junit([result]))
    doc = GradescopeResults.model_validate(json.loads(render_gradescope(result)))
    assert doc.score == result.score


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs /usr/bin/chromium")
def test_the_html_the_cli_wrote_loads_clean_and_shows_the_timeline(graded, tmp_path: Path) -> None:
    _, html = graded
    with Chromium("/usr/bin/chromium") as browser:
        page = browser.open(html)
        assert page.console_errors == []
        assert page.outside_requests() == []
        state = browser.evaluate(
            "(() => { const d = document.getElementById('check-no-lost-updates');"
            " const svg = d.querySelector('svg.timeline-svg');"
            " return {open: d.open, svg: svg.checkVisibility(),"
            " height: svg.getBoundingClientRect().height,"
            " hits: document.querySelectorAll('table.source tr.hit').length}; })()"
        )
        assert state["open"] and state["svg"] and state["height"] > 100
        assert state["hits"] >= 1
        browser.screenshot(tmp_path / "real_racy_counter.png")
    assert (tmp_path / "real_racy_counter.png").stat().st_size > 10_000
