"""Checks for `kvserver`: the protocol, hostile byte streams, many clients, atomic incr, shutdown.

Each check starts the learner's server in its own process group (fresh socket
path), talks to it with the chaos client, and kills the group afterwards.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.checks import (
    SERVE_RETURNED,
    CheckFailure,
    KVClient,
    ServerClosed,
    ServerDied,
    ServerHandle,
    ServerSilent,
    deadline,
    entry_name,
    idle_clients,
    launch,
    run_clients,
)

START_S = 15.0  # the idle-machine floor of a server's start-up
REPLY_S = 10.0  # generous: a loaded 2-core machine must never fail a correct server
FIRST_INCR_ROUNDS = 30  # new keys, each first incremented by every client at once
IDLE_SILENT, IDLE_PARTIAL = 40, 23  # idle connections while one client works: 64 at once


def _start(submission_dir: Path, mode: str = "call",
           widen: tuple[float, ...] | None = None) -> ServerHandle:
    server = launch(submission_dir, entry_name(), mode=mode, widen=widen)
    try:
        # 15 s on an idle machine; more, from measured work, on a loaded one (an asyncio server
        # once took longer than 15 s to start beside a full test run), within the check's budget
        server.wait_ready(deadline_s=min(deadline(START_S), 40.0))
    except (ServerDied, ServerSilent) as exc:
        server.stop()
        raise CheckFailure("no-server", f"Your server never accepted a connection: {exc}") from exc
    return server


@pytest.fixture
def server(submission_dir: Path) -> Iterator[ServerHandle]:
    handle = _start(submission_dir)
    try:
        yield handle
    finally:
        handle.stop()


def _ask(client: KVClient, request: object, what: str) -> object:
    try:
        return client.request(request, timeout_s=REPLY_S)
    except ServerSilent as exc:
        raise CheckFailure("no-reply", f"No response to {what} within {REPLY_S:.0f}s.") from exc
    except (ServerClosed, OSError) as exc:  # OSError: a broken pipe while sending
        raise CheckFailure("closed", f"The server closed the connection instead of answering "
                                     f"{what}.") from exc
    except ValueError as exc:
        raise CheckFailure("protocol", f"The response to {what} is not one JSON line: "
                                       f"{exc}") from exc


def _expect(client: KVClient, request: object, expected: object, what: str) -> None:
    got = _ask(client, request, what)
    if got != expected:
        raise CheckFailure("protocol", f"For {what} the server should answer "
                                       f"{json.dumps(expected)} but answered {json.dumps(got)}.")


def test_set_get(server: ServerHandle) -> None:
    with KVClient(server.sock_path) as c:
        _expect(c, {"op": "get", "key": "nothing"}, {"ok": False, "error": "missing"},
                "a get of a key never set")
        values = ["text", 42, [1, "two", None], {"nested": {"a": [True, False]}}, None, 2.5]
        for i, value in enumerate(values):
            _expect(c, {"op": "set", "key": f"k{i}", "value": value}, {"ok": True},
                    f"a set of {json.dumps(value)}")
        for i, value in enumerate(values):
            _expect(c, {"op": "get", "key": f"k{i}"}, {"ok": True, "value": value},
                    f"a get of the key set to {json.dumps(value)}")
        _expect(c, {"op": "set", "key": "k0", "value": "new"}, {"ok": True}, "an overwrite")
        _expect(c, {"op": "get", "key": "k0"}, {"ok": True, "value": "new"},
                "a get after an overwrite")
    with KVClient(server.sock_path) as other:
        _expect(other, {"op": "get", "key": "k1"}, {"ok": True, "value": 42},
                "a get from a second connection (the store is shared by all clients)")


def test_incr_rules(server: ServerHandle) -> None:
    with KVClient(server.sock_path) as c:
        _expect(c, {"op": "incr", "key": "n", "by": 5}, {"ok": True, "value": 5},
                "an incr of a missing key (it counts as 0)")
        _expect(c, {"op": "incr", "key": "n", "by": -7}, {"ok": True, "value": -2},
                "an incr by a negative number")
        _expect(c, {"op": "get", "key": "n"}, {"ok": True, "value": -2}, "a get after incr")
        _expect(c, {"op": "set", "key": "s", "value": "abc"}, {"ok": True}, "a set of a string")
        _expect(c, {"op": "incr", "key": "s", "by": 1}, {"ok": False, "error": "not an integer"},
                "an incr of a key holding a string")
        _expect(c, {"op": "incr", "key": "n", "by": True}, {"ok": False, "error": "bad request"},
                'an incr with "by": true (a bool is not an integer)')
        _expect(c, {"op": "incr", "key": "n", "by": "2"}, {"ok": False, "error": "bad request"},
                'an incr with "by": "2"')
        _expect(c, {"op": "incr", "key": "n", "by": 1.5}, {"ok": False, "error": "bad request"},
                'an incr with "by": 1.5 (a float is not an integer)')
        _expect(c, {"op": "get", "key": "n"}, {"ok": True, "value": -2},
                "a get after rejected incr requests (they must change nothing)")
        _expect(c, {"op": "incr", "key": "fresh", "by": "1"}, {"ok": False, "error": "bad request"},
                'an incr of a missing key with "by": "1"')
        _expect(c, {"op": "get", "key": "fresh"}, {"ok": False, "error": "missing"},
                "a get of the key a rejected incr named (a bad request creates nothing)")
        for key, value, shown in (("t", True, "true"), ("f", 2.5, "2.5"), ("z", 3.0, "3.0")):
            _expect(c, {"op": "set", "key": key, "value": value}, {"ok": True},
                    f"a set of {shown}")
            _expect(c, {"op": "incr", "key": key, "by": 1},
                    {"ok": False, "error": "not an integer"},
                    f"an incr of a key holding {shown} (not an integer)")
            got = _ask(c, {"op": "get", "key": key}, f"a get of the key holding {shown}")
            if got != {"ok": True, "value": value} or type(got.get("value")) is not type(value):
                raise CheckFailure("protocol", f"After a rejected incr, the key set to {shown} "
                                               f"should still hold {shown}; got "
                                               f"{json.dumps(got)}.")


def test_bad_request(server: ServerHandle) -> None:
    bad = [
        (b"this is not json\n", "a line that is not JSON"),
        (b'{"op": "get", "key": \n', "a line of broken JSON"),
        (b'{"op": "fly", "key": "a"}\n', "an unknown op"),
        (b'["op", "get"]\n', "a JSON array instead of an object"),
        (b'{"op": "get"}\n', "a get without a key"),
        (b'{"op": "get", "key": 7}\n', "a get whose key is a number (keys are strings)"),
        (b'{"op": "set", "key": ["k"], "value": 1}\n', "a set whose key is a list"),
        (b'{"op": "set", "key": "novalue"}\n', "a set without a value"),
        (b'{"op": "incr", "key": 5, "by": 1}\n', "an incr whose key is a number"),
        (b'{"op": "incr", "key": "noby"}\n', "an incr without a by"),
    ]
    with KVClient(server.sock_path) as c:
        for raw, what in bad:
            _expect(c, raw, {"ok": False, "error": "bad request"}, what)
            _expect(c, {"op": "set", "key": "after", "value": what}, {"ok": True},
                    f"a good request sent after {what} on the same connection")
        c.send(b"\n\n")
        _expect(c, {"op": "get", "key": "after"}, {"ok": True, "value": bad[-1][1]},
                "a get sent after blank lines (blank lines get no response)")
        _expect(c, {"op": "get", "key": "novalue"}, {"ok": False, "error": "missing"},
                "a get of the key whose set had no value (a bad request changes nothing)")
        _expect(c, {"op": "get", "key": "noby"}, {"ok": False, "error": "missing"},
                "a get of the key whose incr had no by (a bad request changes nothing)")


def test_split_requests(server: ServerHandle, rng: random.Random) -> None:
    with KVClient(server.sock_path) as c:
        for i in range(6):
            c.send_split({"op": "set", "key": f"split{i}", "value": i * 11}, rng=rng,
                         max_piece=3, pause_s=0.005)
            try:
                got = c.read(timeout_s=REPLY_S)
            except (ServerSilent, ServerClosed, ValueError) as exc:
                raise CheckFailure("split", f"A set request sent in pieces of 1-3 bytes got no "
                                            f"proper response ({exc}).") from exc
            if got != {"ok": True}:
                raise CheckFailure("split", f"A set request sent in pieces of 1-3 bytes was "
                                            f"answered {json.dumps(got)} instead of "
                                            '{"ok": true}.')
        c.send_split({"op": "get", "key": "split5"}, rng=rng, max_piece=2, pause_s=0.002)
        got = c.read(timeout_s=REPLY_S)
        if got != {"ok": True, "value": 55}:
            raise CheckFailure("split", f"A get sent in pieces answered {json.dumps(got)}.")
        # a multi-byte UTF-8 character cut in two between reads
        value = "naïve ключ ☃ 🎉 " * rng.randrange(1, 4)
        raw = json.dumps({"op": "set", "key": "ключ", "value": value},
                         ensure_ascii=False).encode() + b"\n"
        inside = [i for i in range(1, len(raw)) if raw[i] & 0xC0 == 0x80]  # continuation bytes
        cut = rng.choice(inside)
        c.send(raw[:cut])
        time.sleep(0.05)  # the server reads the first part on its own
        c.send(raw[cut:])
        try:
            got = c.read(timeout_s=REPLY_S)
        except (ServerSilent, ServerClosed, ValueError) as exc:
            raise CheckFailure("split", f"A set whose UTF-8 bytes were split inside a character "
                                        f"got no proper response ({exc}).") from exc
        if got != {"ok": True}:
            raise CheckFailure("split", f"A set whose UTF-8 bytes were split inside a character "
                                        f"(at byte {cut} of {len(raw)}) was answered "
                                        f"{json.dumps(got)} instead of " '{"ok": true}.')
        _expect(c, {"op": "get", "key": "ключ"}, {"ok": True, "value": value},
                f"a get after a set whose UTF-8 bytes were split inside a character (at byte "
                f"{cut} of {len(raw)})")
        # one line longer than 64 KiB, sent in pieces of the socket's choosing
        long_value = "L" * rng.randrange(70 * 1024, 200 * 1024)
        _expect(c, {"op": "set", "key": "long", "value": long_value}, {"ok": True},
                f"a set whose line is {len(long_value) // 1024} KiB long")
        got = _ask(c, {"op": "get", "key": "long"}, "a get of the long value")
        if got != {"ok": True, "value": long_value}:
            raise CheckFailure("split", f"A value of {len(long_value)} characters came back "
                                        f"changed ({str(got)[:60]}...).")


def test_merged_requests(server: ServerHandle) -> None:
    with KVClient(server.sock_path) as c:
        requests: list[object] = [{"op": "set", "key": "m", "value": 1}]
        requests += [{"op": "incr", "key": "m", "by": 1} for _ in range(8)]
        requests += [{"op": "get", "key": "m"}, b"nonsense\n", {"op": "get", "key": "nope"}]
        expected: list[object] = [{"ok": True}]
        expected += [{"ok": True, "value": v} for v in range(2, 10)]
        expected += [{"ok": True, "value": 9}, {"ok": False, "error": "bad request"},
                     {"ok": False, "error": "missing"}]
        c.send_merged(requests)
        for i, want in enumerate(expected):
            try:
                got = c.read(timeout_s=REPLY_S)
            except (ServerSilent, ServerClosed, ValueError) as exc:
                raise CheckFailure("merged", f"{len(requests)} requests sent in one write got "
                                             f"only {i} responses ({exc}).") from exc
            if got != want:
                raise CheckFailure("merged", f"{len(requests)} requests sent in one write: "
                                             f"response {i + 1} should be {json.dumps(want)} "
                                             f"but was {json.dumps(got)}.")
        # a pipelined burst: every answer comes back, in the order of the requests
        count = 400
        burst: list[object] = []
        answers: list[object] = []
        for i in range(count):
            if i % 2 == 0:
                burst.append({"op": "set", "key": f"b{i % 7}", "value": i})
                answers.append({"ok": True})
            else:
                burst.append({"op": "get", "key": f"b{(i - 1) % 7}"})
                answers.append({"ok": True, "value": i - 1})
        c.send_merged(burst)
        for i, want in enumerate(answers):
            try:
                got = c.read(timeout_s=REPLY_S)
            except (ServerSilent, ServerClosed, ValueError) as exc:
                raise CheckFailure("merged", f"A burst of {count} requests in one write got "
                                             f"only {i} responses ({exc}).") from exc
            if got != want:
                raise CheckFailure("merged", f"A burst of {count} requests in one write: "
                                             f"response {i + 1} should be {json.dumps(want)} "
                                             f"but was {json.dumps(got)} (answers come back "
                                             "in the order of the requests).")


def test_partial_line_dropped(server: ServerHandle) -> None:
    with KVClient(server.sock_path) as c:
        c.send(b'{"op": "set", "key": "half", "value": 1}')  # no newline: never completed
    with KVClient(server.sock_path) as c:
        # ask again for a while: a server that runs the partial line when it notices the
        # disconnect may notice it after the first answer
        end = time.monotonic() + 0.6
        while True:
            _expect(c, {"op": "get", "key": "half"}, {"ok": False, "error": "missing"},
                    "a get of a key whose set request lost its newline when its client left "
                    "(a partial line is dropped)")
            if time.monotonic() > end:
                break
            time.sleep(0.05)


def test_idle_client(server: ServerHandle) -> None:
    # 63 idle connections and one busy one: the 64 clients at once the server must take, more
    # than any fixed pool of handler threads short of that (a pool of 8 or 16 serves none here)
    with idle_clients(server.sock_path, IDLE_SILENT), \
            idle_clients(server.sock_path, IDLE_PARTIAL, partial=b'{"op":'):
        with KVClient(server.sock_path) as c:
            start = time.monotonic()
            for i in range(5):
                _expect(c, {"op": "incr", "key": "busy", "by": 1}, {"ok": True, "value": i + 1},
                        "a request while other clients are connected but silent "
                        "(an idle client must not hold up the others)")
            elapsed = time.monotonic() - start
    assert elapsed < REPLY_S, f"Requests took {elapsed:.1f}s while other clients idled."
    # a client that sends many requests and reads none of the answers (for now)
    with KVClient(server.sock_path) as slow:
        _expect(slow, {"op": "set", "key": "big", "value": "B" * 4096}, {"ok": True},
                "a set of a 4 KiB value")
        count = 150  # about 600 KB of answers: more than a socket buffers (about 200 KB)
        slow.send_merged([{"op": "get", "key": "big"}] * count)
        time.sleep(0.2)  # let the server fill the slow client's socket
        with KVClient(server.sock_path) as c:
            for i in range(3):
                _expect(c, {"op": "incr", "key": "quick", "by": 1}, {"ok": True, "value": i + 1},
                        "a request while another client is not reading its answers (a slow "
                        "client must not hold up the others)")
        got = _read_lines(slow, count, REPLY_S * 3)
        if got != count:
            raise CheckFailure("slow-client", f"The client that read its answers late got {got} "
                                              f"of its {count} answers.")


def _read_lines(client: KVClient, count: int, timeout_s: float) -> int:
    """Read raw answer bytes until `count` lines arrived or the time is up; returns the count."""
    data = bytearray(client._buffer)
    end = time.monotonic() + timeout_s
    while data.count(b"\n") < count and time.monotonic() < end:
        client.sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            chunk = client.sock.recv(1 << 20)
        except (TimeoutError, OSError):
            break
        if not chunk:
            break
        data += chunk
    return data.count(b"\n")


def test_many_clients(server: ServerHandle) -> None:
    count = 64

    def session(client: KVClient, index: int) -> bool:
        for step in range(3):
            _expect(client, {"op": "set", "key": f"c{index}", "value": [index, step]},
                    {"ok": True}, f"client {index}'s set")
            _expect(client, {"op": "get", "key": f"c{index}"},
                    {"ok": True, "value": [index, step]}, f"client {index}'s get")
        return True

    results = run_clients(server.sock_path, count, session, deadline_s=30)
    problems = [r for r in results if r is not True]
    if problems:
        first = problems[0]
        raise CheckFailure("many-clients", f"{len(problems)} of {count} clients connecting at "
                                           f"once were not served correctly; the first: "
                                           f"{first}")


def test_incr_atomic(submission_dir: Path, seed: int) -> None:
    clients, each = 12, 30
    # pause the server's own code at random bytecodes so a thread switch can land anywhere,
    # and often just before it writes what it read
    with _start(submission_dir, widen=(seed, 0.01, 0.001, 0.3)) as server:

        def session(client: KVClient, index: int) -> list[int]:
            seen = []
            for _ in range(each):
                got = _ask(client, {"op": "incr", "key": "shared", "by": 1}, "an incr")
                if not isinstance(got, dict) or got.get("ok") is not True:
                    raise CheckFailure("protocol", f"An incr was answered {json.dumps(got)}.")
                seen.append(got["value"])
            return seen

        results = run_clients(server.sock_path, clients, session, deadline_s=60)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]
        with KVClient(server.sock_path) as c:
            final = _ask(c, {"op": "get", "key": "shared"}, "the final get")
        total = clients * each
        values = [v for seen in results for v in seen]
        duplicates = len(values) - len({json.dumps(v, sort_keys=True) for v in values})
        if final != {"ok": True, "value": total} or duplicates:
            raise CheckFailure(
                "race",
                f"{clients} clients each sent {each} incr by 1 to one key: the value should end "
                f"at {total} but the server reports {json.dumps(final)}, and {duplicates} incr "
                "responses repeated a value another client also got: updates were lost.",
            )
        _first_incrs_race(server, clients)


def _first_incrs_race(server: ServerHandle, clients: int) -> None:
    """Rounds in which every client sends the first incr of a new key at the same moment: a
    server whose state for a key is made on its first use (a lock per key, created when
    missing) must make it once, or two clients' first incrs each get their own and one is
    lost."""
    gate = threading.Barrier(clients)

    def session(client: KVClient, index: int) -> list[object]:
        answers = []
        try:
            for round_ in range(FIRST_INCR_ROUNDS):
                gate.wait(timeout=2 * REPLY_S)  # the slowest client's last reply, at most
                answers.append(_ask(client, {"op": "incr", "key": f"fresh-{round_}", "by": 1},
                                    "an incr"))
        except BaseException:
            gate.abort()  # the others stop waiting for this client
            raise
        return answers

    results = run_clients(server.sock_path, clients, session, deadline_s=60)
    failures = [r for r in results if isinstance(r, BaseException)
                and not isinstance(r, threading.BrokenBarrierError)]
    if failures or any(isinstance(r, BaseException) for r in results):
        raise failures[0] if failures else CheckFailure(
            "no-reply", "A client's incr was never answered while the others waited for it.")
    with KVClient(server.sock_path) as c:
        for round_ in range(FIRST_INCR_ROUNDS):
            key = f"fresh-{round_}"
            final = _ask(c, {"op": "get", "key": key}, "a get")
            if final != {"ok": True, "value": clients}:
                values = sorted(json.dumps(r[round_]) for r in results)
                raise CheckFailure(
                    "race",
                    f"{clients} clients each sent the first incr by 1 of the new key {key!r} "
                    f"at the same moment: the value should end at {clients}, but the server "
                    f"reports {json.dumps(final)} (the incrs were answered {', '.join(values)}): "
                    "an update was lost. Is what guards a key made twice when two clients "
                    "use it first at once?")


def test_shutdown(submission_dir: Path) -> None:
    with _start(submission_dir) as server:
        sock_path = server.sock_path
        with idle_clients(sock_path, 1), KVClient(sock_path) as c:
            _expect(c, {"op": "set", "key": "x", "value": 1}, {"ok": True}, "a set")
            _expect(c, {"op": "shutdown"}, {"ok": True}, "a shutdown request")
            code = server.wait_exit(REPLY_S)
        if code is None:
            raise CheckFailure("shutdown", f"After answering shutdown, serve() did not return "
                                           f"within {REPLY_S:.0f}s (another client was still "
                                           "connected, idle).")
        if code != SERVE_RETURNED:
            output = server.output()[-400:]
            if "Traceback" in output:
                raise CheckFailure("shutdown", f"serve() raised after shutdown: {output}")
            raise CheckFailure("shutdown", f"After shutdown, serve() ended the whole process "
                                           f"(exit code {code}) instead of returning to its "
                                           "caller: close the listening socket, remove the "
                                           "socket file and return from serve(); leave "
                                           "exiting to whoever called it.")
        if os.path.exists(sock_path):
            raise CheckFailure("socket-file", f"serve() returned but left the socket file "
                                              f"{os.path.basename(sock_path)} behind.")


def test_runs_as_script(submission_dir: Path) -> None:
    with _start(submission_dir, mode="script") as server:
        with KVClient(server.sock_path) as c:
            _expect(c, {"op": "set", "key": "a", "value": 1}, {"ok": True},
                    "a set to `python kvserver.py SOCK_PATH`")
            _expect(c, {"op": "shutdown"}, {"ok": True}, "a shutdown request")
        if server.wait_exit(REPLY_S) is None:
            raise CheckFailure("shutdown", "`python kvserver.py SOCK_PATH` kept running after "
                                           "shutdown.")
