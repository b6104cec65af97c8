"""The JSON report is the result model itself, stable and complete."""

from __future__ import annotations

import dataclasses
import json

import report_samples as samples

from grader.report import render, render_json
from grader.results import SubmissionResult


def test_json_round_trips_to_the_same_result() -> None:
    for build in samples.ALL.values():
        result = build()
        assert SubmissionResult.from_dict(json.loads(render_json(result))) == result


def test_keys_follow_the_model_field_order_and_indent_is_two() -> None:
    text = render_json(samples.racy_counter())
    data = json.loads(text)
    fields = [f.name for f in dataclasses.fields(SubmissionResult)]
    assert list(data)[: len(fields)] == fields
    assert text.splitlines()[1].startswith('  "exercise"')
    assert render_json(samples.racy_counter()) == text


def test_json_is_utf8_text_not_escaped() -> None:
    result = samples.racy_counter()
    result.output = "naïve ✓"
    assert "naïve ✓" in render_json(result)


def test_learner_view_hides_what_hidden_checks_found() -> None:
    assert samples.HIDDEN_SECRET not in render(samples.racy_counter(), "json")
    full = render(samples.racy_counter(), "json", learner_view=False)
    assert samples.HIDDEN_SECRET in full
    hidden = next(c for c in json.loads(full)["checks"] if c["id"] == "stress-many-threads")
    assert hidden["status"] == "failed"
