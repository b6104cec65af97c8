"""Feedback a learner trusts at first read: `grader check`, `show`, `start` and `batch` run as
a learner and an instructor run them (real subprocesses, real gradings), and the HTML
timeline at its limits.

Each grading here is one real run of the CLI; what a report says is derived from the JSON
the same run wrote, so a test fails if the text and the JSON disagree.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.report import render_html, render_text
from grader.results import CheckResult, Failure, Status, SubmissionResult, TraceStep

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
UNLOCKED_COUNTER = (
    "class Counter:\n"
    "    def __init__(self, start=0):\n"
    "        self.count = start\n"
    "\n"
    "    def increment(self, n=1):\n"
    "        self.count += n\n"
    "\n"
    "    def value(self):\n"
    "        return self.count\n"
)


def grader(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


def check_json(exercise: str, submission: Path, tmp_path: Path, *extra: str
               ) -> tuple[int, SubmissionResult, Path]:
    """Grade as a learner does, from the folder holding their file (which may be elsewhere)."""
    out = tmp_path / "result.json"
    html = tmp_path / "report.html"
    if submission.is_relative_to(tmp_path):
        submission = submission.relative_to(tmp_path)
    run = grader("check", exercise, str(submission), "--format", "json", "-o", str(out),
                 "--html", str(html), *extra, cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, SubmissionResult.from_dict(json.loads(out.read_text())), html


def by_id(result: SubmissionResult) -> dict[str, CheckResult]:
    return {c.id: c for c in result.checks}


@pytest.fixture(scope="module")
def racy(tmp_path_factory: pytest.TempPathFactory) -> tuple[SubmissionResult, Path]:
    folder = tmp_path_factory.mktemp("racy")
    learner_file = folder / "my_counter.py"
    learner_file.write_text(UNLOCKED_COUNTER)
    _, result, html = check_json("counter", learner_file, folder)
    return result, html


def test_a_race_is_told_with_the_learners_file_lines_and_code(racy) -> None:
    result, html = racy
    check = by_id(result)["no-lost-updates"]
    assert check.status is Status.FAILED and check.failure is not None
    # JSON: the learner's file name, with their line numbers (the += is on line 6)
    assert {s.file for s in check.failure.trace} == {"my_counter.py"}
    assert any(s.line == 6 and s.source.strip() == "self.count += n" for s in check.failure.trace)
    assert list(result.source) == ["my_counter.py"]
    text = render_text(result)
    page = html.read_text()
    for shown in (text, page):
        assert "my_counter.py:6" in shown
        assert "counter.py:" not in shown.replace("my_counter.py:", "")
    # the hint quotes the learner's line, never the exercise author's `self.value += n`
    assert "self.value" not in check.hint and "`self.count += n`" in check.hint
    # one seed: the grading's; none of the explorer's internals
    assert text.count(str(result.seed)) >= 1 and "(seed " not in text
    assert re.findall(r"\bseed\b", text.replace("--seed", ""), re.I) == ["Seed"]
    assert "scheduling choice" not in text and "pct:" not in text


def test_a_lost_wakeup_trace_has_only_the_learners_frames_and_each_interleaving_once(
    tmp_path: Path,
) -> None:
    mine = tmp_path / "buggy_if_not_while.py"
    mine.write_text((SOLUTIONS / "bounded-buffer" / "buggy_if_not_while.py").read_text())
    _, result, html = check_json("bounded-buffer", mine, tmp_path)
    text = render_text(result)
    failed = [c for c in result.checks if c.failure is not None and c.status is Status.FAILED]
    assert any(c.failure.trace for c in failed)
    for shown in (text, json.dumps(result.to_dict()), html.read_text()):
        assert "site-packages" not in shown and "_bundled" not in shown
        assert "/work/" not in shown and "grader-" not in shown.replace("grader-report", "")
        assert "test_bounded_buffer.py" not in shown  # the check's own frames are gone
    assert ":0 " not in text and "steps omitted" not in text
    frames = re.findall(r'File "([^"]+)", line \d+', text)
    assert frames and set(frames) == {"buggy_if_not_while.py"}
    # an interleaving that fails several checks is drawn once, naming them all
    distinct: list[list[TraceStep]] = []
    for check in failed:
        if check.failure.trace and all(check.failure.trace != seen for seen in distinct):
            distinct.append(check.failure.trace)
    assert text.count("Interleaving that fails") == len(distinct)
    shared = sum(1 for c in failed if c.failure.trace) - len(distinct)
    assert text.count("The same interleaving fails this check") == shared


@pytest.mark.parametrize(("source", "check_id", "sentence", "skipped_because"), [
    (UNLOCKED_COUNTER.replace("class Counter", "class Countr"), "starts-at-start",
     "your module defines no class `Counter`; it defines `Countr`", "class `Counter`"),
    (UNLOCKED_COUNTER.replace("def increment", "def incr"), "increments-add-up",
     "your class `Counter` has no method `increment`; it has `incr`, `value`",
     "method `Counter.increment`"),
])
def test_a_missing_name_fails_one_check_and_the_rest_say_why_they_were_skipped(
    tmp_path: Path, source: str, check_id: str, sentence: str, skipped_because: str
) -> None:
    submission = tmp_path / "counter.py"
    submission.write_text(source)
    code, result, _ = check_json("counter", submission, tmp_path)
    assert code == 1
    checks = by_id(result)
    first = checks[check_id]
    assert (first.status, first.message, first.hint) == (Status.FAILED, sentence, None)
    text = render_text(result)
    assert "AttributeError" not in text and "test_counter.py" not in text
    after = result.checks[result.checks.index(first) + 1:]
    assert after and all(c.status is Status.SKIPPED for c in after)
    assert any(skipped_because in c.message for c in after)


@pytest.mark.parametrize("make", ["syntax-error", "empty-folder"])
def test_code_that_cannot_be_read_passes_nothing(tmp_path: Path, make: str) -> None:
    # bounded-buffer, since it forbids modules (so it has an allowed-modules check to tick)
    if make == "syntax-error":
        submission = tmp_path / "bounded_buffer.py"
        submission.write_text("class BoundedBuffer:\n    def __init__(self\n")
    else:
        submission = tmp_path / "empty"
        submission.mkdir()
    code, result, _ = check_json("bounded-buffer", submission, tmp_path)
    assert code == 1 and result.score == 0
    assert [c.id for c in result.checks if c.status is Status.PASSED] == []
    allowed = by_id(result)["allowed-modules"]
    assert allowed.status is Status.SKIPPED and "unknown" in allowed.message


@pytest.mark.parametrize(("args", "sentence"), [
    (["check", "counter", "{file}", "--check", "no-lost-update"],
     "no check named 'no-lost-update'; did you mean 'no-lost-updates'?"),
    (["check", "countr", "{file}"], "did you mean 'counter'?"),
    (["show", "bnak"], "did you mean 'bank'?"),
    (["start", "counter", "{folder}"], "already exists: nothing was copied"),
])
def test_usage_mistakes_are_one_sentence_and_exit_2(tmp_path: Path, args: list[str],
                                                     sentence: str) -> None:
    (tmp_path / "counter.py").write_text(UNLOCKED_COUNTER)
    argv = [a.format(file=tmp_path / "counter.py", folder=tmp_path) for a in args]
    run = grader(*argv)
    assert run.returncode == 2, run.stderr
    assert sentence in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and run.stdout == ""


def test_show_renders_the_statement_and_start_copies_the_starter(tmp_path: Path) -> None:
    from grader.spec import exercise_files, load_exercise, load_exercise_file

    shown = grader("show", "counter")
    assert shown.returncode == 0, shown.stderr
    statement = load_exercise("counter").statement_path.read_text()
    assert "# A thread-safe counter" in statement
    assert "A thread-safe counter" in shown.stdout and "# A thread-safe" not in shown.stdout
    assert "```" not in shown.stdout and "• " in shown.stdout  # rendered, not raw Markdown
    started = grader("start", "counter", str(tmp_path / "lab"))
    assert started.returncode == 0, started.stderr
    exercise = load_exercise("counter")
    assert (tmp_path / "lab" / "counter.py").read_text() == exercise.starter_path.read_text()
    assert "grader check counter" in started.stdout
    # every exercise of the installed catalogue ships its statement and its starter
    for file in exercise_files():
        each = load_exercise_file(file)
        assert each.statement_path.is_file() and each.starter_path.is_file(), each.id


def test_batch_gradebook_and_student_pages_as_an_instructor_runs_them(tmp_path: Path) -> None:
    classroom = tmp_path / "class"
    for student, source in {"ada": UNLOCKED_COUNTER,
                            "bo": UNLOCKED_COUNTER.replace("class Counter", "class Countr")
                            }.items():
        (classroom / f"lab-{student}").mkdir(parents=True)
        (classroom / f"lab-{student}" / "counter.py").write_text(source)
    run = grader("batch", "counter", "class", "--out", "grades", "-j", "2", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    with open(tmp_path / "grades" / "gradebook.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    bo = rows["bo"]
    assert (bo["starts-at-start status"], bo["increments-add-up status"]) == ("failed", "skipped")
    assert rows["ada"]["no-lost-updates status"] == "failed"
    assert rows["ada"]["percent"] == f"{round(100 * float(rows['ada']['score']) / 9, 1):g}"
    assert len(bo["submission_hash"]) == 64 and bo["graded_at"].endswith("Z")
    assert (tmp_path / "grades" / "results.db").is_file()
    page = next((tmp_path / "grades" / "students").glob("*ada*.html")).read_text()
    assert "grader check counter lab-ada --seed" in page
    assert str(tmp_path) not in page


def test_the_timeline_keeps_every_label_and_fits_six_threads_at_forty_steps() -> None:
    source = "class Pool:\n" + "".join(
        f"    def step{i}(self):\n        self.slot_with_a_long_name_{i} = "
        f"self.compute_something_rather_long({i})\n" for i in range(6)
    ) + "    def _check(self, i):\n        return i in self.slots\n"
    trace = []
    for k in range(40):
        thread = f"Worker-{k % 6}"
        if k % 5 == 4:  # a helper's read: folded in the first drawing
            trace.append(TraceStep(thread, "pool.py", 15, "return i in self.slots",
                                   "read self.slots", k % 6 == 0))
        else:
            i = k % 6
            trace.append(TraceStep(thread, "pool.py", 3 + 2 * i,
                                   f"self.slot_with_a_long_name_{i} = "
                                   f"self.compute_something_rather_long({i})",
                                   f"write self.slot_with_a_long_name_{i}", True))
    result = SubmissionResult(
        exercise="pool", version="1", title="Pool", seed=1, score=0, max_score=1,
        source={"pool.py": source},
        checks=[CheckResult("race", "No race", Status.FAILED, 0, 1, failure=Failure(
            kind="invariant", message="a slot was lost", trace=trace))],
    )
    page = render_html(result)
    svgs = re.findall(r'<svg [^>]*class="timeline-svg" width="(\d+)"', page)
    assert len(svgs) == 2 and all(int(width) <= 880 for width in svgs)  # six lanes fit
    first, full = page.split('class="all-steps"')
    # a long name wraps inside its box: compare without the white space wrapping adds
    drawn = re.sub(r"\s+", "", re.sub(r"<title>.*?</title>|<[^>]+>", "",
                                       full.split("as-table")[0], flags=re.S))
    for step in trace:  # every label whole in the full drawing, never cut with an ellipsis
        assert re.sub(r"\s+", "", f"{step.thread}·pool.py:{step.line}{step.operation}") in drawn
        assert re.sub(r"\s+", "", step.source) in drawn
    assert "…" not in drawn
    assert first.count('class="box"') == 32 and full.count('class="box"') == 40
    assert "8 steps that only read or call inside _check are folded away" in " ".join(
        first.split())
