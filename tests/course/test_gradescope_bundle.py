"""`grader gradescope` writes a bundle whose run_autograder grades like Gradescope runs it.

The test unpacks the bundle into a temporary folder, lays it out as Gradescope does
(source/, submission/, results/) and runs `run_autograder` inside bubblewrap with that folder
mounted at /autograder (the rest of this machine read-only, a private /tmp), with the grader
of this checkout instead of /opt/grader (`setup.sh` needs apt and the network: it is checked
for what it installs, not run). The results.json is validated against Gradescope's schema
(tests/report/gradescope_schema.py) and must respect the hidden checks' visibility.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "report"))


def bundle(tmp_path: Path, exercise: str) -> Path:
    out = tmp_path / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "grader", "gradescope", exercise, "-o",
                           str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out


def test_the_bundle_holds_what_gradescope_runs(tmp_path):
    with zipfile.ZipFile(bundle(tmp_path, "bank")) as zf:
        names = set(zf.namelist())
        setup = zf.read("setup.sh").decode()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
    assert {"setup.sh", "run_autograder", "exercise/exercise.yaml",
            "grader-src/pyproject.toml", "grader-src/grader/cli/__init__.py"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert not any(n.startswith(("solutions/", "exercise/solutions")) for n in names)
    assert "apt-get install" in setup and "bubblewrap" in setup
    assert "pip install -q /autograder/source/grader-src" in setup


def test_a_bad_exercise_is_one_sentence(tmp_path):
    done = subprocess.run([sys.executable, "-m", "grader", "gradescope", "no-such-exercise",
                           "-o", str(tmp_path / "a.zip")], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def bwrap_root_args() -> list[str]:
    """This machine's top-level folders read-only (so the interpreter and checkout run)."""
    args = []
    for name in sorted(os.listdir("/")):
        host = Path("/") / name
        if name in ("proc", "dev", "tmp", "autograder", "sys"):
            continue
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            args += ["--ro-bind", str(host), f"/{name}"]
    args += ["--ro-bind", "/sys", "/sys", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    # the interpreter's environment and the checkout, where they live under /tmp (a CI clone)
    for needed in sorted({Path(sys.prefix).resolve(), REPO.resolve()}):
        if Path("/tmp") in needed.parents:
            args += ["--ro-bind", str(needed), str(needed)]
    return args


def test_run_autograder_grades_the_submission_mounted_at_autograder(tmp_path):
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.fail("bubblewrap is needed to mount a folder at /autograder (.ci/run installs it)")
    root = tmp_path / "autograder"
    (root / "submission" / "my-upload").mkdir(parents=True)
    (root / "results").mkdir()
    with zipfile.ZipFile(bundle(tmp_path, "bank")) as zf:
        zf.extractall(root / "source")
    runner = root / "source" / "run_autograder"
    runner.chmod(0o755)
    # a known bug, nested in a folder as a Gradescope upload may be
    buggy = REPO / "solutions" / "bank" / "buggy_lost_deposit.py"
    shutil.copy(buggy, root / "submission" / "my-upload" / "bank.py")
    grader = Path(sys.executable).with_name("grader")
    done = subprocess.run(
        [bwrap, *bwrap_root_args(), "--bind", str(root), "/autograder", "--chdir",
         "/autograder", "--setenv", "GRADER", str(grader), "--", "/autograder/source/run_autograder"],
        capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "default backend" in done.stdout, done.stdout  # the sandbox it graded in
    results = json.loads((root / "results" / "results.json").read_text())
    from gradescope_schema import GradescopeResults  # tests/report

    GradescopeResults.model_validate(results)
    graded = subprocess.run([sys.executable, "-m", "grader", "check", "bank", str(buggy),
                             "--format", "json", "--staff"], cwd=REPO, capture_output=True,
                            text=True, timeout=600)
    expected = json.loads(graded.stdout)
    assert results["score"] < expected["max_score"]
    hidden = {c["title"] for c in expected["checks"] if not c["visible"]}
    assert hidden, "bank has a hidden check"
    for test in results["tests"]:
        if test["name"] in hidden:
            assert test["visibility"] == "after_published"
