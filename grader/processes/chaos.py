"""Chaotic IPC for the kvserver protocol: clients that split, merge, dawdle, crowd and idle.

`KVClient` speaks newline-delimited JSON over a Unix stream socket, but lets a
check choose how the bytes travel: whole, split into pieces of a few bytes
(optionally with pauses between them), several requests merged into one write,
or not at all (an idle client that connects and never sends). `connect`
retries on EAGAIN / ECONNREFUSED / a socket file not there yet, until a
deadline: a small listen backlog makes a burst of connects fail with EAGAIN,
and that is not the learner's bug. `ChunkingProxy` sits between a client and
the server and re-chunks the stream in both directions.

Every wait here has a deadline; a server that never answers makes a call raise
`ServerSilent` (a TimeoutError) instead of hanging the check.
"""

from __future__ import annotations

import errno
import json
import os
import random
import selectors
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

_RETRY_ERRNOS = {errno.EAGAIN, errno.ECONNREFUSED, errno.ENOENT, errno.EINTR}


class ServerSilent(TimeoutError):
    """The server did not answer (or accept) within the deadline."""


class ServerClosed(ConnectionError):
    """The server closed the connection while a response was expected."""


def connect(sock_path: str, deadline_s: float = 10.0) -> socket.socket:
    """Connect to the Unix socket at `sock_path`, retrying transient refusals until a deadline."""
    end = time.monotonic() + deadline_s
    pause = 0.002
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(max(0.05, end - time.monotonic()))
            sock.connect(sock_path)
            sock.settimeout(None)
            return sock
        except OSError as exc:
            sock.close()
            if isinstance(exc, socket.timeout) or time.monotonic() >= end:
                raise ServerSilent(f"could not connect to {sock_path} within "
                                   f"{deadline_s:.0f}s: {exc}") from exc
            if exc.errno not in _RETRY_ERRNOS:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


def encode(request: Any) -> bytes:
    """One request line (JSON + newline); bytes and str are sent as given."""
    if isinstance(request, bytes):
        return request
    if isinstance(request, str):
        return request.encode()
    return json.dumps(request).encode() + b"\n"


def pieces(data: bytes, rng: random.Random | None = None, max_piece: int = 3) -> Iterator[bytes]:
    """Split `data` into pieces of 1..max_piece bytes (random sizes when `rng` is given)."""
    i = 0
    while i < len(data):
        size = rng.randint(1, max_piece) if rng else max_piece
        yield data[i:i + size]
        i += size


class KVClient:
    """One connection to a kvserver, with control over how requests travel."""

    def __init__(self, sock_path: str, timeout_s: float = 10.0, connect_s: float = 10.0) -> None:
        self.sock_path = sock_path
        self.timeout_s = timeout_s
        self.sock = connect(sock_path, connect_s)
        self._buffer = b""

    def __enter__(self) -> KVClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # -- sending -----------------------------------------------------------------------------
    def send(self, request: Any) -> None:
        """Send one request (dict -> JSON line; bytes/str as they are) in one write."""
        self.sock.sendall(encode(request))

    def send_merged(self, requests: Iterable[Any]) -> None:
        """Send several requests in a single write."""
        self.sock.sendall(b"".join(encode(r) for r in requests))

    def send_split(self, request: Any, rng: random.Random | None = None, max_piece: int = 3,
                   pause_s: float = 0.0) -> int:
        """Send one request in tiny pieces, pausing `pause_s` between them; returns the count."""
        count = 0
        for piece in pieces(encode(request), rng, max_piece):
            self.sock.sendall(piece)
            count += 1
            if pause_s:
                time.sleep(pause_s)
        return count

    # -- receiving ---------------------------------------------------------------------------
    def read_line(self, timeout_s: float | None = None) -> bytes:
        """The next response line (without the newline), within a deadline."""
        end = time.monotonic() + (timeout_s if timeout_s is not None else self.timeout_s)
        while b"\n" not in self._buffer:
            left = end - time.monotonic()
            if left <= 0:
                raise ServerSilent(f"no response within {timeout_s or self.timeout_s:.0f}s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError as exc:
                raise ServerSilent(
                    f"no response within {timeout_s or self.timeout_s:.0f}s") from exc
            except ConnectionResetError as exc:
                raise ServerClosed("the server reset the connection") from exc
            if not chunk:
                raise ServerClosed("the server closed the connection")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def read(self, timeout_s: float | None = None) -> Any:
        """The next response, decoded from JSON (raises ValueError if it is not JSON)."""
        line = self.read_line(timeout_s)
        try:
            return json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the response {line[:80]!r} is not JSON") from exc

    def request(self, request: Any, timeout_s: float | None = None) -> Any:
        self.send(request)
        return self.read(timeout_s)

    def at_eof(self, timeout_s: float = 5.0) -> bool:
        """True when the server closes this connection within `timeout_s` (nothing else arrives)."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self._buffer += chunk
        return False


@contextmanager
def idle_clients(sock_path: str, count: int, connect_s: float = 10.0,
                 partial: bytes = b"") -> Iterator[list[socket.socket]]:
    """`count` connections that never complete a request (optionally sending `partial` first)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = connect(sock_path, connect_s)
            if partial:
                sock.sendall(partial)
            socks.append(sock)
        yield socks
    finally:
        for sock in socks:
            sock.close()


def run_clients(sock_path: str, count: int, session: Any, deadline_s: float = 20.0) -> list[Any]:
    """Run `session(client, index)` in `count` threads at once, all connecting together.

    Returns each session's return value (or the exception it raised) in index
    order. Connections are opened behind a barrier so they arrive as a burst.
    """
    results: list[Any] = [None] * count
    gate = threading.Barrier(count)

    def worker(index: int) -> None:
        try:
            gate.wait(timeout=deadline_s)
            with KVClient(sock_path, timeout_s=deadline_s, connect_s=deadline_s) as client:
                results[index] = session(client, index)
        except BaseException as exc:  # reported to the caller, not lost in a thread
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    end = time.monotonic() + deadline_s + 5
    for thread in threads:
        thread.join(timeout=max(0.0, end - time.monotonic()))
    for i, thread in enumerate(threads):
        if thread.is_alive():
            results[i] = ServerSilent(f"client {i} did not finish within {deadline_s:.0f}s")
    return results


class ChunkingProxy:
    """A Unix-socket proxy that re-chunks every byte stream between clients and a server.

    Clients connect to `listen_path`; each connection is relayed to
    `server_path` with writes cut into pieces of 1..max_piece bytes in both
    directions. Runs on one selector thread; `close()` stops it and removes its
    socket file.
    """

    def __init__(self, server_path: str, listen_path: str, rng: random.Random,
                 max_piece: int = 3) -> None:
        self.server_path = server_path
        self.listen_path = listen_path
        self.rng = rng
        self.max_piece = max_piece
        self.writes = 0  # pieces written, both directions (the kernel may merge them again)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(listen_path)
        self._listener.listen(128)
        self._listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chunking-proxy", daemon=True)
        self._thread.start()

    def __enter__(self) -> ChunkingProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()
        self._selector.close()
        try:
            os.unlink(self.listen_path)
        except FileNotFoundError:
            pass

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                if key.data is None:
                    self._accept()
                else:
                    self._relay(key.fileobj, key.data)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        server = connect(self.server_path, 10.0)
        self._selector.register(client, selectors.EVENT_READ, server)
        self._selector.register(server, selectors.EVENT_READ, client)

    def _relay(self, source: socket.socket, target: socket.socket) -> None:
        try:
            data = source.recv(65536)
        except OSError:
            data = b""
        if not data:
            for sock in (source, target):
                try:
                    self._selector.unregister(sock)
                except (KeyError, ValueError):
                    pass
                sock.close()
            return
        try:
            for piece in pieces(data, self.rng, self.max_piece):
                target.sendall(piece)
                self.writes += 1
        except OSError:
            pass
