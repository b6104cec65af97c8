"""JUnit XML: valid for CI tools, one testsuite per submission, one testcase per check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import report_samples as samples
import xmlschema

from grader.report import render, render_junit

SCHEMA = Path(__file__).with_name("junit.xsd")


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA))


def test_every_sample_validates_against_the_junit_schema(schema: xmlschema.XMLSchema) -> None:
    for name, build in samples.ALL.items():
        errors = list(schema.iter_errors(render_junit([build()])))
        assert errors == [], name


def test_several_submissions_validate_together(schema: xmlschema.XMLSchema) -> None:
    schema.validate(render_junit([build() for build in samples.ALL.values()]))


def test_the_schema_rejects_what_ci_tools_reject(schema: xmlschema.XMLSchema) -> None:
    # The schema is a real check: a suite without its counts is refused.
    assert not schema.is_valid('<testsuites><testsuite name="x"/></testsuites>')
    assert not schema.is_valid(
        "<testsuites><testsuite name='x' tests='1' failures='0' "
        "errors='0'><testcase/></testsuite></testsuites>"
    )


def test_one_testsuite_per_submission_and_one_testcase_per_check() -> None:
    results = [samples.racy_counter(), samples.deadlocked_bank()]
    root = ET.fromstring(render_junit(results))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "counter: submissions/alice/counter.py",
        "bank: bank.py",
    ]
    for suite, result in zip(suites, results):
        cases = suite.findall("testcase")
        assert [c.get("name").split(":")[0] for c in cases] == [c.id for c in result.checks]
        assert suite.get("tests") == str(len(result.checks))
    assert root.get("tests") == str(sum(len(r.checks) for r in results))


def test_statuses_map_to_failure_error_and_skipped() -> None:
    root = ET.fromstring(render_junit([samples.deadlocked_bank(), samples.racy_counter()]))
    bank, counter = root.findall("testsuite")
    cases = {c.get("name").split(":")[0]: c for c in bank.iter("testcase")}
    assert cases["money-conserved"].find("*") is None
    failure = cases["no-deadlock"].find("failure")
    assert failure is not None and failure.get("type") == "deadlock"
    assert "T1 waits for Lock#2, held by T2" in failure.text
    timeout = cases["total-while-transferring"].find("error")
    assert timeout is not None and timeout.get("type") == "timeout"
    assert (bank.get("failures"), bank.get("errors")) == ("1", "1")
    skipped = [c for c in counter.iter("testcase") if c.find("skipped") is not None]
    assert len(skipped) == 1 and counter.get("skipped") == "1"


def test_failure_body_carries_timeline_hint_and_replay() -> None:
    root = ET.fromstring(render_junit([samples.racy_counter()]))
    case = next(c for c in root.iter("testcase") if c.get("name").startswith("no-lost-update"))
    body = case.find("failure").text
    assert ">> T2  counter.py:9" in body
    assert "Hint: Two threads read" in body
    assert "--check no-lost-update" in body


def test_seed_score_and_output_travel_with_the_suite() -> None:
    suite = ET.fromstring(render_junit([samples.racy_counter()])).find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["seed"] == "1234"
    assert (props["score"], props["max_score"]) == ("2", "9")
    assert suite.find("system-out").text == "incrementing...\ndone\n"


def test_control_characters_and_markup_from_the_learner_stay_well_formed() -> None:
    text = render_junit([samples.hostile_counter()])
    root = ET.fromstring(text)  # raises if a control character slipped through
    out = root.find("testsuite/system-out").text
    assert "<script>" in out  # as text, escaped in the XML
    assert "\\x1b[31mred" in out and "\\x00 nul" in out
    assert "<script>" not in text


def test_learner_view_through_render_hides_hidden_checks() -> None:
    assert samples.HIDDEN_SECRET not in render(samples.racy_counter(), "junit")
    assert samples.HIDDEN_SECRET in render(samples.racy_counter(), "junit", learner_view=False)
