"""The results channel's framing: one JSON object per line over a pipe, both ends.

The child writes records with `send`; the parent reads them with a
`RecordReader`, which never holds more than `max_record` bytes of an
unfinished record and reports malformed input instead of trusting it.
Neither end interprets the records: that is `harness` (child) and `grading`
(parent) business.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

MAX_RECORD = 4 << 20  # one record (a check result with its trace) stays well under this

_send_lock = threading.Lock()


def send(fd: int, record: dict[str, Any], *, _write=os.write, _dumps=json.dumps,
         _lock=_send_lock) -> None:
    """Write one record to the channel; safe from several threads.

    The writer, encoder and lock are bound when this module is imported (before any learner
    code runs), so patching `os.write` or `json.dumps` later does not reach the channel.
    """
    data = (_dumps(record, separators=(",", ":"), default=str) + "\n").encode()
    if len(data) > MAX_RECORD:
        raise ValueError(f"record of {len(data)} bytes is larger than the channel allows")
    with _lock:
        view = memoryview(data)
        while view:
            written = _write(fd, view)
            view = view[written:]


class ProtocolError(Exception):
    """The other end sent something that is not a well-formed record."""


class RecordReader:
    """Splits a byte stream into JSON records, keeping memory bounded."""

    def __init__(self, max_record: int = MAX_RECORD) -> None:
        self._buffer = bytearray()
        self._max = max_record
        self.overflowed = False

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Records completed by `data`. Raises ProtocolError on garbage."""
        self._buffer += data
        records: list[dict[str, Any]] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise ProtocolError(f"a record is not JSON: {exc}") from None
            if not isinstance(record, dict):
                raise ProtocolError("a record is not a JSON object")
            records.append(record)
        if len(self._buffer) > self._max:
            self.overflowed = True
            self._buffer.clear()
            raise ProtocolError("a record is larger than the channel allows")
        return records
