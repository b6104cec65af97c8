"""Exercise specs are refused with the file, the line and the field; good ones load."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from grader.spec import (
    BUILTIN_KINDS,
    SpecError,
    json_schema,
    load_exercise,
    load_exercise_file,
    parse_exercise,
)

from .conftest import ROOT, exercise_folder, run_grader

GOOD = """\
id: demo
version: 2
title: Demo
family: threads
entry: demo
checks:
  - id: works
    title: It works
    points: 2
"""


def test_a_good_spec_loads_with_builtin_checks_first(tmp_path):
    exercise = load_exercise_file(exercise_folder(tmp_path, GOOD) / "exercise.yaml")
    assert exercise.version == "2"
    assert [c.id for c in exercise.all_checks] == ["imports", "works"]
    assert exercise.max_score == 2


def test_a_wrong_type_names_file_line_and_field(tmp_path):
    text = GOOD.replace("points: 2", "points: lots")
    with pytest.raises(SpecError) as err:
        parse_exercise(text, Path("demo/exercise.yaml"))
    assert err.value.line == 9
    assert err.value.field == "checks[0].points"
    assert str(err.value).startswith("demo/exercise.yaml:9: checks[0].points:")


def test_an_unknown_field_is_refused_at_its_line(tmp_path):
    text = GOOD.replace("    title: It works", "    titel: It works")
    with pytest.raises(SpecError) as err:
        parse_exercise(text, Path("x.yaml"))
    assert (err.value.line, err.value.field) == (8, "checks[0].titel")
    assert "unknown field" in err.value.problem


def test_a_missing_field_names_the_record_it_belongs_to():
    text = GOOD.replace("family: threads\n", "")
    with pytest.raises(SpecError) as err:
        parse_exercise(text, Path("x.yaml"))
    assert err.value.field == "family"
    assert "required" in err.value.problem


def test_a_duplicate_key_is_refused():
    with pytest.raises(SpecError) as err:
        parse_exercise(GOOD + "title: Again\n", Path("x.yaml"))
    assert err.value.line == 10 and "twice" in err.value.problem


def test_broken_yaml_syntax_names_the_line():
    with pytest.raises(SpecError) as err:
        parse_exercise("id: demo\nchecks: [\n  - a\n", Path("x.yaml"))
    assert err.value.line is not None and "not valid YAML" in err.value.problem


def test_a_need_that_is_not_a_check_points_at_the_check():
    text = GOOD + "    needs: [nothing]\n"
    with pytest.raises(SpecError) as err:
        parse_exercise(text, Path("x.yaml"))
    assert err.value.line == 7 and "'nothing'" in err.value.problem


def test_checks_needing_each_other_in_a_cycle_are_refused():
    text = GOOD + "    needs: [other]\n  - id: other\n    title: Other\n    needs: [works]\n"
    with pytest.raises(SpecError, match="cycle"):
        parse_exercise(text, Path("x.yaml"))


def test_a_check_without_code_is_an_error_at_load_time(tmp_path):
    folder = exercise_folder(tmp_path, GOOD, checks="def test_other():\n    pass\n")
    with pytest.raises(SpecError) as err:
        load_exercise_file(folder / "exercise.yaml")
    assert "'works' has no code" in str(err.value) and err.value.line == 7


def test_code_without_a_check_in_the_yaml_is_an_error(tmp_path):
    checks = "def test_works():\n    pass\n\n\ndef test_extra():\n    pass\n"
    folder = exercise_folder(tmp_path, GOOD, checks=checks)
    with pytest.raises(SpecError) as err:
        load_exercise_file(folder / "exercise.yaml")
    assert err.value.file.endswith("test_demo.py") and err.value.line == 5
    assert "test_extra" in err.value.problem


def test_a_missing_starter_is_refused(tmp_path):
    folder = exercise_folder(tmp_path, GOOD)
    (folder / "starter" / "demo.py").unlink()
    with pytest.raises(SpecError, match="starter"):
        load_exercise_file(folder / "exercise.yaml")


def test_the_cli_refuses_a_broken_exercise_with_exit_2(tmp_path):
    folder = exercise_folder(tmp_path, GOOD.replace("points: 2", "points: -1"))
    proc = run_grader("check", str(folder), str(ROOT / "solutions/counter/reference.py"))
    assert proc.returncode == 2
    assert "exercise.yaml:9: checks[0].points:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_schema_describes_every_field():
    schema = json_schema()
    assert set(schema["required"]) >= {"id", "version", "title", "family", "entry", "checks"}
    proc = run_grader("schema")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["properties"]["checks"]["type"] == "array"


def test_every_bundled_exercise_loads():
    proc = run_grader("list", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert listed["invalid"] == []
    assert "counter" in {e["id"] for e in listed["exercises"]}
    for row in listed["exercises"]:
        assert load_exercise(row["id"]).id == row["id"]


def test_an_exercise_can_be_named_by_path(tmp_path):
    copy = tmp_path / "counter"
    shutil.copytree(ROOT / "exercises" / "counter", copy)
    assert load_exercise(str(copy)).folder == copy.resolve()


#: A failure kind written as a literal where the child side raises a failure.
RAISED_KIND = re.compile(
    r"""(?:CheckFailure|RunFailure|ExplorationFailure|Failure)\(\s*(?:kind\s*=\s*)?["']([a-z][a-z0-9-]*)["']""")


def test_every_kind_the_checks_library_raises_is_known_to_the_hint_lint():
    # `grader validate` refuses a hint for a kind no check produces; the kinds the library
    # raises on a check's behalf (a bounded call's "hang", a leftover process) count as produced
    child_side = [ROOT / "grader" / "checks.py", *(ROOT / "grader").glob("harness/*.py"),
                  *(ROOT / "grader").glob("explore/**/*.py"),
                  *(ROOT / "grader").glob("processes/*.py")]
    raised = {kind for path in child_side for kind in RAISED_KIND.findall(path.read_text())}
    assert {"hang", "leftover", "not-plain-data"} <= raised  # the pattern sees what is there
    assert raised - BUILTIN_KINDS == set()


def test_the_bundled_catalogue_lints_clean():
    proc = run_grader("validate", str(ROOT / "exercises"), "--no-solutions")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "problem" not in proc.stdout
