"""Progress of a batch, for the person watching it.

On a terminal: one self-redrawing line with a bar, counts, rate and ETA. Not on
a terminal (a log file, CI): one plain line per finished submission, so the log
says what happened in order. Owns nothing but the display; the batch tells it
what finished.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


def format_duration(seconds: float) -> str:
    """`75` -> `1m15s`, `3700` -> `1h01m`; short enough for a status line."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


class Progress:
    """Counts graded, skipped (already in the database) and not-graded submissions."""

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        clock=time.monotonic,
    ) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.clock = clock
        self.started = clock()
        self.graded = 0
        self.skipped = 0
        self.not_graded = 0
        self._last_draw = 0.0

    @property
    def done(self) -> int:
        return self.graded + self.skipped + self.not_graded

    def rate_per_minute(self) -> float:
        """Gradings per minute so far (skipped ones cost nothing and are not counted)."""
        elapsed = self.clock() - self.started
        finished = self.graded + self.not_graded
        return 60.0 * finished / elapsed if elapsed > 0 and finished else 0.0

    def eta_seconds(self) -> float | None:
        rate = self.rate_per_minute()
        if rate <= 0:
            return None
        return 60.0 * (self.total - self.done) / rate

    def skip(self, student: str) -> None:
        self.skipped += 1
        if not self.tty:
            self._line(f"{student}: already graded, skipped")
        self._draw()

    def finish(self, student: str, summary: str, *, graded: bool) -> None:
        if graded:
            self.graded += 1
        else:
            self.not_graded += 1
        if not self.tty:
            self._line(f"{student}: {summary}")
        self._draw()

    def note(self, text: str) -> None:
        """A message that must not be overwritten by the bar."""
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self._draw(force=True)

    def status_line(self, width: int = 80) -> str:
        counts = f"{self.done}/{self.total}"
        detail = f"graded {self.graded}, skipped {self.skipped}"
        if self.not_graded:
            detail += f", not graded {self.not_graded}"
        rate = self.rate_per_minute()
        eta = self.eta_seconds()
        tail = f"{rate:.1f}/min ETA {format_duration(eta)}" if eta is not None else "ETA --"
        text = f" {counts} ({detail}) {tail}"
        room = max(10, min(40, width - len(text) - 3))
        filled = int(room * self.done / self.total) if self.total else room
        return f"[{'#' * filled}{'.' * (room - filled)}]{text}"[: max(20, width - 1)]

    def close(self) -> None:
        if self.tty:
            self._draw(force=True)
            self.stream.write("\n")
        elapsed = self.clock() - self.started
        self.stream.write(
            f"{self.total} submissions: {self.graded} graded, {self.skipped} already graded, "
            f"{self.not_graded} could not be graded, in {format_duration(elapsed)}\n"
        )
        self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(f"[{self.done}/{self.total}] {text}\n")
        self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        if not self.tty:
            return
        now = self.clock()
        if not force and now - self._last_draw < 0.1 and self.done < self.total:
            return
        self._last_draw = now
        width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r\x1b[K" + self.status_line(width))
        self.stream.flush()
