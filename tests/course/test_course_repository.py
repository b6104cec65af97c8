"""A course repository: init, new exercises of every family, validate, and breakage caught."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FAMILIES = {"threads": "tally", "processes": "run-child", "workers": "safe-run"}


def grader(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("course") / "my-course"
    made = grader(root.parent, "init", str(root), "--name", "Concurrency 101")
    assert made.returncode == 0, made.stderr
    for family, exercise_id in FAMILIES.items():
        made = grader(root, "new", exercise_id, "--family", family)
        assert made.returncode == 0, made.stderr
    return root


def test_init_writes_the_config_and_both_workflows(course):
    assert (course / "grader.toml").read_text().count("exercises") >= 1
    assert "grader validate" in (course / ".github/workflows/validate.yml").read_text()
    assert "grader check" in (course / "classroom/grader-check.yml").read_text()


def test_init_refuses_to_overwrite_a_course(course):
    again = grader(course.parent, "init", str(course))
    assert again.returncode == 2 and "already a course repository" in again.stderr


def test_new_refuses_an_invalid_id(course):
    bad = grader(course, "new", "Bad_Id", "--family", "threads")
    assert bad.returncode == 2 and "not a valid id" in bad.stderr


def test_list_finds_the_course_exercises_from_inside_the_course(course):
    listed = grader(course / "exercises", "list")
    assert listed.returncode == 0
    for exercise_id in FAMILIES.values():
        assert exercise_id in listed.stdout


def test_the_scaffolded_exercises_validate_out_of_the_box(course):
    checked = grader(course, "validate", "--runs", "2")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "3/3 exercises valid" in checked.stdout


def test_validate_writes_junit_for_ci(course, tmp_path):
    out = tmp_path / "validate.xml"
    checked = grader(course, "validate", "--runs", "1", "--no-solutions", "--format", "junit",
                     "--output", str(out))
    assert checked.returncode == 0
    assert out.read_text().count("<testsuite ") == 3


def test_a_broken_reference_fails_validation_naming_exercise_and_cause(course, tmp_path):
    broken = tmp_path / "broken"
    subprocess.run(["cp", "-r", str(course), str(broken)], check=True)
    reference = broken / "solutions" / "run-child" / "reference.py"
    reference.write_text(reference.read_text().replace("return parent.recv()",
                                                       "return parent.recv() + 1"))
    checked = grader(broken, "validate", "exercises/run-child", "--runs", "2")
    assert checked.returncode == 1
    assert "FAIL run-child" in checked.stdout
    assert "reference.py: expect pass, 0/2 as expected" in checked.stdout
    assert "returns-the-result failed" in checked.stdout


def test_a_deleted_check_fails_validation_naming_exercise_and_cause(course, tmp_path):
    broken = tmp_path / "broken"
    subprocess.run(["cp", "-r", str(course), str(broken)], check=True)
    checks = broken / "exercises" / "safe-run" / "checks" / "test_safe_run.py"
    text = checks.read_text()
    checks.write_text(text[: text.index("def test_survives_a_segfault")])
    checked = grader(broken, "validate", "--runs", "1")
    assert checked.returncode == 1
    assert "FAIL safe-run" in checked.stdout
    assert "check 'survives-a-segfault' has no code" in checked.stdout
