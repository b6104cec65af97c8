"""Gradescope's results.json: the documented fields and nothing they would refuse."""

from __future__ import annotations

import json

import pytest
import report_samples as samples
from gradescope_schema import GradescopeResults
from pydantic import ValidationError

from grader.report import render, render_gradescope
from grader.results import Status


def _load(result) -> GradescopeResults:
    return GradescopeResults.model_validate(json.loads(render_gradescope(result)))


def test_every_sample_has_only_documented_fields_of_the_right_types() -> None:
    for name, build in samples.ALL.items():
        try:
            _load(build())
        except ValidationError as error:  # pragma: no cover - the message is the point
            pytest.fail(f"{name}: {error}")


def test_the_model_refuses_an_undocumented_status() -> None:
    data = json.loads(render_gradescope(samples.racy_counter()))
    data["tests"][0]["status"] = "skipped"
    with pytest.raises(ValidationError):
        GradescopeResults.model_validate(data)


def test_scores_add_up_to_the_grade() -> None:
    result = samples.racy_counter()
    doc = _load(result)
    assert doc.score == result.score == sum(t.score for t in doc.tests)
    assert sum(t.max_score for t in doc.tests) == result.max_score
    assert doc.extra_data["max_score"] == result.max_score


def test_each_check_is_one_test_with_its_status() -> None:
    result = samples.deadlocked_bank()
    doc = _load(result)
    assert [t.name for t in doc.tests] == [c.title for c in result.checks]
    expected = ["passed" if c.status is Status.PASSED else "failed" for c in result.checks]
    assert [t.status for t in doc.tests] == expected
    deadlock = doc.tests[3]
    assert "T1 waits for Lock#2, held by T2" in deadlock.output
    assert deadlock.tags == ["no-deadlock", "deadlock"]
    assert doc.tests[4].output.startswith("[timed out]")


def test_hidden_checks_are_published_later_not_dropped() -> None:
    doc = _load(samples.racy_counter())
    hidden = next(t for t in doc.tests if t.name == "Sixty-four threads hammering increment")
    assert hidden.visibility == "after_published"
    assert all(t.visibility == "visible" for t in doc.tests if t is not hidden)
    # Gradescope withholds it; the output is there for when grades are published.
    assert samples.HIDDEN_SECRET in hidden.output
    assert render(samples.racy_counter(), "gradescope") == render_gradescope(samples.racy_counter())


def test_top_output_has_verdict_seed_replay_and_cut_learner_output() -> None:
    doc = _load(samples.leaky_supervisor())
    lines = doc.output.splitlines()
    assert lines[0] == samples.leaky_supervisor().verdict()
    assert "Seed: 5" in lines
    assert doc.output.endswith("[output truncated]")
    assert doc.execution_time == 6


def test_a_huge_feedback_is_cut_so_results_json_stays_small() -> None:
    result = samples.leaky_supervisor()
    crash = next(c for c in result.checks if c.id == "survives-crash")
    crash.message = "boom " * 20_000
    doc = _load(result)
    output = next(t.output for t in doc.tests if t.tags[0] == "survives-crash")
    assert len(output) < 16_100
    assert output.endswith("[feedback cut; the HTML report has all of it]")
