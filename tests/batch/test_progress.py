"""The progress display: plain lines off a terminal, one status line on it."""

import io

from grader.grading.progress import Progress, format_duration


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_every_submission_gets_one_plain_line() -> None:
    out = io.StringIO()
    progress = Progress(3, out, tty=False)
    progress.skip("alice")
    progress.finish("bob", "7/9", graded=True)
    progress.finish("carol", "not graded: sandbox failed", graded=False)
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines[:3] == [
        "[1/3] alice: already graded, skipped",
        "[2/3] bob: 7/9",
        "[3/3] carol: not graded: sandbox failed",
    ]
    assert "1 graded, 1 already graded, 1 could not be graded" in lines[3]
    assert "\r" not in out.getvalue()


def test_on_a_terminal_the_status_line_shows_counts_rate_and_eta() -> None:
    clock = Clock()
    out = io.StringIO()
    progress = Progress(10, out, tty=True, clock=clock)
    clock.now = 60.0
    progress.finish("a", "9/9", graded=True)
    progress.finish("b", "9/9", graded=True)
    line = progress.status_line(100)
    assert "2/10 (graded 2, skipped 0)" in line
    assert "2.0/min" in line
    assert "ETA 4m00s" in line
    assert line.startswith("[########")
    assert "\r\x1b[K" in out.getvalue()


def test_durations_read_naturally() -> None:
    assert format_duration(5) == "5s"
    assert format_duration(75) == "1m15s"
    assert format_duration(3700) == "1h01m"
