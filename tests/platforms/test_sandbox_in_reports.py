"""Which sandbox ran is in every report a person reads, and a weak one is said up front.

Real gradings by the CLI under the `portable` backend (which cannot keep submissions out of
the file system): the text and HTML reports of one submission name it; a batch of two
students warns before grading, with how to get a stronger sandbox, and names it in the
gradebook and the class report.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions" / "counter"


def grader(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def test_text_and_html_reports_name_the_sandbox(tmp_path):
    html = tmp_path / "report.html"
    done = grader("check", "counter", str(SOLUTIONS / "reference.py"), "--sandbox", "portable",
                  "--html", str(html), "--no-color")
    assert done.returncode == 0, done.stderr
    assert "Sandbox portable" in done.stdout
    assert "<dt>Sandbox</dt><dd>portable</dd>" in html.read_text()


def test_a_batch_on_a_weak_sandbox_warns_first_and_names_it_everywhere(tmp_path):
    classroom = tmp_path / "class"
    classroom.mkdir()
    shutil.copy(SOLUTIONS / "reference.py", classroom / "ada.py")
    shutil.copy(SOLUTIONS / "buggy_unlocked.py", classroom / "bo.py")
    out = tmp_path / "out"
    done = grader("batch", "counter", str(classroom), "--out", str(out), "--sandbox", "portable")
    assert done.returncode in (0, 1), done.stderr
    first = done.stderr.splitlines()[0]
    assert "warning: the 'portable' sandbox cannot keep these submissions out of the file " \
           "system" in first
    assert "bubblewrap" in first  # how to get a stronger one, on this Linux
    with open(out / "gradebook.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["sandbox"] for row in rows} == {"portable"}
    report = (out / "index.html").read_text()
    assert "Sandbox <code>portable</code> graded 2 submission(s): it cannot keep them out" in report


def test_a_batch_on_bubblewrap_does_not_warn(tmp_path):
    classroom = tmp_path / "class"
    classroom.mkdir()
    shutil.copy(SOLUTIONS / "reference.py", classroom / "ada.py")
    out = tmp_path / "out"
    done = grader("batch", "counter", str(classroom), "--out", str(out), "--sandbox", "bwrap")
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr
    report = (out / "index.html").read_text()
    assert "Sandbox <code>bwrap</code> graded 1 submission(s)." in report
