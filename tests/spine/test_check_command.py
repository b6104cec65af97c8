"""`grader check` end to end on the counter exercise: verdicts, exit codes, determinism."""

from __future__ import annotations

import json

import pytest

from grader.grading.validate import read_manifest

from .conftest import SOLUTIONS, grade_json, run_grader

COUNTER = sorted((SOLUTIONS / "counter").glob("*.py"))


def test_the_reference_passes_with_exit_0():
    proc = run_grader("check", "counter", str(SOLUTIONS / "counter" / "reference.py"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All checks passed" in proc.stdout


@pytest.mark.parametrize("solution", [p for p in COUNTER if p.name.startswith("buggy_")],
                         ids=lambda p: p.stem)
def test_each_known_bug_fails_the_check_its_manifest_names(solution):
    manifest = read_manifest(solution)
    code, result = grade_json("counter", solution)
    assert code == 1
    by_id = {c["id"]: c for c in result["checks"]}
    target = by_id[manifest.checks[0]]
    assert target["status"] in ("failed", "error", "timeout"), target
    assert target["message"], "a failed check must say why"
    assert result["score"] < result["max_score"]


def test_the_json_output_has_the_documented_fields():
    _, result = grade_json("counter", SOLUTIONS / "counter" / "reference.py")
    assert {"exercise", "version", "seed", "score", "max_score", "checks", "resources"} <= set(result)
    for check in result["checks"]:
        assert {"id", "title", "status", "points", "max_points", "message", "hint",
                "duration_s"} <= set(check)
    assert result["score"] == result["max_score"] > 0


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items()
                if k not in ("duration_s", "resources", "seconds")}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


@pytest.mark.parametrize("name", ["reference.py", "buggy_unlocked.py"])
def test_the_same_submission_and_seed_give_identical_json(name):
    runs = [grade_json("counter", SOLUTIONS / "counter" / name, "--seed", "7")[1]
            for _ in range(2)]
    assert _without_timings(runs[0]) == _without_timings(runs[1])


def test_the_default_seed_comes_from_the_content():
    first = grade_json("counter", SOLUTIONS / "counter" / "reference.py")[1]["seed"]
    again = grade_json("counter", SOLUTIONS / "counter" / "reference.py")[1]["seed"]
    other = grade_json("counter", SOLUTIONS / "counter" / "correct_semaphore.py")[1]["seed"]
    assert first == again != other


def test_a_failure_prints_a_replay_command_with_the_seed():
    proc = run_grader("check", "counter", str(SOLUTIONS / "counter" / "buggy_unlocked.py"),
                      "--no-color")
    assert proc.returncode == 1
    assert "grader check counter" in proc.stdout and "--seed" in proc.stdout


def test_only_one_check_and_its_needs_run_with_check():
    _, result = grade_json("counter", SOLUTIONS / "counter" / "reference.py",
                           "--check", "counters-are-independent")
    assert [c["id"] for c in result["checks"]] == ["imports", "counters-are-independent"]


def test_an_unknown_exercise_is_a_usage_error():
    proc = run_grader("check", "no-such-exercise", str(SOLUTIONS / "counter" / "reference.py"))
    assert proc.returncode == 2 and "no such exercise" in proc.stderr


def test_a_missing_submission_is_a_usage_error(tmp_path):
    proc = run_grader("check", "counter", str(tmp_path / "nothing.py"))
    assert proc.returncode == 2


def test_a_folder_submission_without_the_entry_module_fails_the_import_check(tmp_path):
    (tmp_path / "other.py").write_text("x = 1\n")
    code, result = grade_json("counter", tmp_path)
    assert code == 1
    assert result["checks"][0]["id"] == "imports"
    assert "no counter.py" in result["checks"][0]["message"]


def test_a_folder_submission_with_a_helper_module_passes(tmp_path):
    (tmp_path / "counter.py").write_text("from lockbox import Box as Counter\n")
    (tmp_path / "lockbox.py").write_text((SOLUTIONS / "counter" / "reference.py").read_text()
                                         .replace("class Counter", "class Box"))
    code, result = grade_json("counter", tmp_path)
    assert code == 0, json.dumps(result["checks"], indent=1)


def test_a_failed_comparison_reports_the_checks_own_message(tmp_path):
    # pytest explains `==` failures through its terminal writer, which the harness replaces
    off_by_one = tmp_path / "counter.py"
    off_by_one.write_text((SOLUTIONS / "counter" / "reference.py").read_text()
                          .replace("return self._value", "return self._value + 1"))
    _, result = grade_json("counter", off_by_one, "--check", "starts-at-start")
    check = result["checks"][-1]
    assert check["status"] == "failed"
    assert check["message"] == "Counter() should start at 0"
    assert "assert 1 == 0" in check["failure"]["details"]


def test_a_pass_records_what_the_bounded_search_covered():
    _, result = grade_json("counter", SOLUTIONS / "counter" / "reference.py",
                           "--check", "no-lost-updates")
    check = {c["id"]: c for c in result["checks"]}["no-lost-updates"]
    assert check["exploration"], check
    for scenario in check["exploration"]:
        assert scenario["schedules"] > 0 and "schedules with up to " in scenario["text"]
        assert scenario["bounds"][0]["preemptions"] == 1 and scenario["bounds"][0]["complete"]
    assert check["exploration"][0]["complete"]  # 2 threads x 1 increment: every schedule


def test_a_replay_that_does_not_fail_is_not_a_pass():
    proc = run_grader("check", "counter", str(SOLUTIONS / "counter" / "buggy_unlocked.py"),
                      "--check", "no-lost-updates", "--replay", "s9.9", "--no-color")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "this schedule passes; the failure was found with" in proc.stdout


def test_a_malformed_replay_id_is_a_usage_error_before_grading():
    proc = run_grader("check", "counter", str(SOLUTIONS / "counter" / "buggy_unlocked.py"),
                      "--replay", "9.9")
    assert proc.returncode == 2 and "not a schedule id" in proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
