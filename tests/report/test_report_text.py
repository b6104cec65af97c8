"""The terminal report: short, honest, and readable without colour."""

from __future__ import annotations

import re

import report_samples as samples

from grader.report import render, render_text
from grader.results import Status, TraceStep

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_report_opens_with_score_and_verdict() -> None:
    result = samples.racy_counter()
    lines = render_text(result).splitlines()
    assert lines[0] == "A thread-safe counter (counter v1)"
    assert lines[1].startswith("Score 2/9")
    assert result.verdict() in lines[1]


def test_each_check_has_one_line_with_mark_points_and_title() -> None:
    result = samples.racy_counter()
    text = render_text(result)
    marks = ("✓", "✗", "!", "◔", "–")
    check_lines = [line for line in text.splitlines() if line.startswith(marks)]
    assert len(check_lines) == len(result.checks)
    for line, check in zip(check_lines, result.checks):
        assert check.title in line
    assert "✓ 2/2  increment(n) adds n and value() reports it" in text
    assert "✗ 0/4  Two threads incrementing at once lose no update  [failed]" in text
    assert "– 0/1  value() is safe while increments run  [skipped]" in text


def test_failed_check_shows_message_hint_timeline_and_replay() -> None:
    text = render_text(samples.racy_counter())
    assert "Expected value() == 2 after two threads each called increment(1); got 1." in text
    assert "Hint: Two threads read the same value" in text
    assert "4 steps, 2 context switches" in text
    timeline = [line.strip() for line in text.splitlines() if "counter.py:" in line]
    assert timeline[0].startswith("T1  counter.py:9 ")
    assert timeline[1].startswith(">> T2  counter.py:9 ")
    assert timeline[2].startswith("T2  counter.py:10")
    assert timeline[3].startswith(">> T1  counter.py:10")
    assert "| self._value = current + n" in timeline[3]
    assert (
        "Replay this failure: grader check counter counter.py --seed 1234 --check no-lost-update"
        in text
    )


def test_report_ends_with_seed_and_replay_command() -> None:
    lines = render_text(samples.racy_counter()).rstrip("\n").splitlines()
    assert lines[-2] == "Seed 1234"
    assert lines[-1] == "Replay: grader check counter submissions/alice/counter.py --seed 1234"


def test_deadlock_says_who_waits_for_what_and_the_cycle() -> None:
    text = render_text(samples.deadlocked_bank())
    assert "Who waits for what:" in text
    assert "T1 waits for Lock#2, held by T2, at bank.py:11" in text
    assert "T2 waits for Lock#1, held by T1, at bank.py:11" in text
    assert "Cycle: T1 -> T2 -> T1" in text
    assert "◔ 0/2  total() is right while transfers run  [timed out]" in text


def test_process_check_lists_each_process_with_its_state() -> None:
    text = render_text(samples.leaky_supervisor())
    assert (
        "pid 4101 parent 4100 worker-1 zombie cpu 1.20s - crashed by SIGSEGV, never reaped" in text
    )
    assert "pid 4103 parent 4101 worker-1 helper orphan" in text
    assert "! 0/2  The supervisor survives a worker crash  [error]" in text
    assert "BrokenPipeError: [Errno 32] Broken pipe" in text


def test_long_output_is_cut_and_says_so() -> None:
    text = render_text(samples.leaky_supervisor())
    assert text.count("worker 1 started") == 10
    assert "output cut" in text


def test_hidden_check_shows_only_title_and_status() -> None:
    text = render_text(samples.racy_counter())
    assert "Sixty-four threads hammering increment  [failed]" in text
    assert "This check is hidden" in text
    assert samples.HIDDEN_SECRET not in text
    assert "T9" not in text


def test_instructors_see_hidden_checks_in_full_when_asking_for_it() -> None:
    text = render(samples.racy_counter(), "text", learner_view=False)
    assert samples.HIDDEN_SECRET in text
    assert "This check is hidden" not in text
    assert samples.HIDDEN_SECRET not in render(samples.racy_counter(), "text")


def test_no_escape_codes_without_color() -> None:
    text = render_text(samples.racy_counter())
    assert "\x1b" not in text


def test_color_paints_marks_but_keeps_the_words() -> None:
    coloured = render_text(samples.racy_counter(), color=True)
    assert "\x1b[31m✗\x1b[0m" in coloured
    assert "\x1b[32m✓\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == render_text(samples.racy_counter())


def test_learner_control_characters_are_shown_not_obeyed() -> None:
    result = samples.hostile_counter()
    text = render_text(result)
    assert "\x1b" not in text and "\x07" not in text and "\x00" not in text
    assert "\\x1b[31mred" in text
    assert "\\x07 bell" in text


def test_all_passed_says_so() -> None:
    text = render_text(samples.all_passed())
    assert "All checks passed." in text.splitlines()[1]
    assert not any(line.startswith(("✗", "!", "◔")) for line in text.splitlines())


def test_a_long_trace_keeps_its_ends_and_counts_what_it_left_out() -> None:
    result = samples.racy_counter()
    check = next(c for c in result.checks if c.id == "no-lost-update")
    assert check.failure is not None
    check.failure.trace = [
        TraceStep(f"T{i % 2 + 1}", "counter.py", 9 + i % 2, "x", f"op{i}", i % 2 == 1)
        for i in range(100)
    ]
    text = render_text(result)
    assert "op0 " in text and "op99" in text
    assert "op50" not in text
    assert "60 steps left out" in text
    assert check.status is Status.FAILED


def test_failure_message_stands_in_when_the_check_has_none() -> None:
    result = samples.deadlocked_bank()
    check = next(c for c in result.checks if c.id == "no-deadlock")
    check.message = ""
    assert "no runnable thread" in render_text(result)


def test_absolute_sandbox_paths_show_as_the_file_name() -> None:
    result = samples.racy_counter()
    check = next(c for c in result.checks if c.id == "no-lost-update")
    for step in check.failure.trace:
        step.file = "/tmp/grader-work-x1/counter.py"
    text = render_text(result)
    assert "/tmp/grader-work-x1" not in text
    assert ">> T2  counter.py:9 " in text


def test_windows_line_ends_stay_line_ends_but_a_lone_carriage_return_is_spelled_out() -> None:
    result = samples.racy_counter()
    result.output = "one\r\ntwo\rOVERWRITE\n"
    text = render_text(result)
    assert "  one\n  two\\x0dOVERWRITE\n" in text
