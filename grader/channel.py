"""The results channel's framing: one JSON object per line over a pipe, both ends.

The child writes `grader.protocol` records with `send` (which encodes them with
`protocol.encode`); the parent reads lines with a `RecordReader`, which never holds more
than `max_record` bytes of an unfinished record and reports malformed input instead of
trusting it, and turns each into a record with `protocol.decode`. What records mean is
`protocol`'s business. `progress()` is the one beacon lower layers (the explorer) may raise.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from grader import protocol
from grader.protocol import ProtocolError

MAX_RECORD = 4 << 20  # one record (a check result with its trace) stays well under this

_send_lock = threading.Lock()

#: What `progress()` calls: the harness points it at the results channel while a check runs.
_progress_hook: list = [None]


def set_progress(hook: Any) -> None:
    """Install (or, with None, remove) what `progress()` calls."""
    _progress_hook[0] = hook


def progress() -> None:
    """Say that the running check is making progress (the explorer calls it per schedule).

    A check that keeps making progress is not stuck, so the parent lets it run past its time
    budget on a slow or loaded machine (up to a cap); a check that makes none is timed out
    at its budget. Never raises: a beacon must not change a verdict.
    """
    hook = _progress_hook[0]
    if hook is not None:
        try:
            hook()
        except Exception:  # noqa: BLE001
            pass


#: The channel's key (`protocol.ENV_CHANNEL_KEY`), once `bind_key` has set it.
_key: list[bytes] = [b""]


def bind_key(key: str) -> None:
    """Put `key` in every record `send` writes from now on (the harness, before any learner
    code runs); only the first key counts."""
    if key and not _key[0] and key.isalnum():
        _key[0] = key.encode()


def send(fd: int, record: protocol.Record, *, _write=os.write, _encode=protocol.encode,
         _lock=_send_lock, _keyed=_key) -> None:
    """Write one record to the channel; safe from several threads.

    The writer, encoder and lock are bound when this module is imported (before any learner
    code runs), so patching `os.write` or `protocol.encode` later does not reach the channel.
    """
    data = _encode(record)
    if _keyed[0]:  # encode writes one JSON object: the key goes in as its first member
        data = b'{"key":"' + _keyed[0] + b'",' + data[1:]
    if len(data) > MAX_RECORD:
        raise ValueError(f"record of {len(data)} bytes is larger than the channel allows")
    with _lock:
        view = memoryview(data)
        while view:
            written = _write(fd, view)
            view = view[written:]


class RecordReader:
    """Splits a byte stream into JSON records, keeping memory bounded."""

    def __init__(self, max_record: int = MAX_RECORD, key: str | None = None) -> None:
        self._buffer = bytearray()
        self._max = max_record
        self._key = key  # every record must carry it (see protocol.ENV_CHANNEL_KEY)
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
            if self._key is not None and record.pop("key", None) != self._key:
                raise ProtocolError("a record without the channel's key: something other "
                                    "than the harness wrote to the results channel")
            records.append(record)
        if len(self._buffer) > self._max:
            self.overflowed = True
            self._buffer.clear()
            raise ProtocolError("a record is larger than the channel allows")
        return records
