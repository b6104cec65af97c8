"""The chaos client, the proxy, the server launcher and deadline-bounded calls behave as promised."""

from __future__ import annotations

import multiprocessing
import os
import random
import socket
import threading
import time
from pathlib import Path

import pytest

from grader.processes.bounded import Overran, call_with_deadline
from grader.processes.chaos import (
    ChunkingProxy,
    KVClient,
    ServerSilent,
    connect,
    idle_clients,
    run_clients,
)
from grader.processes.server_launch import SERVE_RETURNED, launch

REPO = Path(__file__).resolve().parents[2]


class RecordingServer:
    """A Unix socket server on a thread that records the size of every recv and echoes lines."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sizes: list[int] = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        buffer = b""
        with conn:
            while chunk := conn.recv(65536):
                self.sizes.append(len(chunk))
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    conn.sendall(line + b"\n")

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def sock_dir(tmp_path_factory: pytest.TempPathFactory):
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="chaos-", dir="/tmp")
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


def test_connect_retries_until_the_server_appears(sock_dir: Path) -> None:
    path = str(sock_dir / "late.sock")
    holder: list[RecordingServer] = []
    timer = threading.Timer(0.3, lambda: holder.append(RecordingServer(path)))
    timer.start()
    sock = connect(path, deadline_s=10)
    sock.close()
    timer.join()
    holder[0].close()


def test_connect_gives_up_at_its_deadline(sock_dir: Path) -> None:
    start = time.monotonic()
    with pytest.raises(ServerSilent):
        connect(str(sock_dir / "never.sock"), deadline_s=0.3)
    assert time.monotonic() - start < 3


def test_split_requests_arrive_in_tiny_pieces_and_reassemble(sock_dir: Path) -> None:
    server = RecordingServer(str(sock_dir / "rec.sock"))
    with KVClient(server.path) as client:
        pieces = client.send_split({"op": "get", "key": "abc"}, rng=random.Random(1),
                                   max_piece=3, pause_s=0.002)
        assert client.read() == {"op": "get", "key": "abc"}
    server.close()
    assert pieces > 5
    assert len(server.sizes) >= 3  # the server saw the request over several reads
    assert min(server.sizes) <= 3


def test_merged_requests_travel_in_one_write(sock_dir: Path) -> None:
    server = RecordingServer(str(sock_dir / "rec.sock"))
    with KVClient(server.path) as client:
        client.send_merged([{"n": i} for i in range(5)])
        assert [client.read() for _ in range(5)] == [{"n": i} for i in range(5)]
    server.close()
    assert server.sizes[0] > 30


def test_chunking_proxy_rechunks_both_directions(sock_dir: Path) -> None:
    server = RecordingServer(str(sock_dir / "rec.sock"))
    proxy_path = str(sock_dir / "proxy.sock")
    with ChunkingProxy(server.path, proxy_path, random.Random(2), max_piece=2) as proxy:
        with KVClient(proxy_path) as client:
            client.send({"through": "proxy"})
            assert client.read() == {"through": "proxy"}
        assert proxy.writes >= len(b'{"through": "proxy"}\n') // 2  # it wrote in pieces
    server.close()
    assert not os.path.exists(proxy_path)


def test_launched_reference_server_serves_a_burst_and_idle_clients(sock_dir: Path) -> None:
    with launch(REPO / "solutions" / "kvserver", "reference", widen=(1, 0.01, 0.0002)) as server:
        server.wait_ready(15)
        with idle_clients(server.sock_path, 3):
            results = run_clients(server.sock_path, 64,
                                  lambda c, i: c.request({"op": "incr", "key": "k", "by": 1}),
                                  deadline_s=30)
        assert sorted(r["value"] for r in results) == list(range(1, 65))
        with KVClient(server.sock_path) as client:
            assert client.request({"op": "shutdown"}) == {"ok": True}
        assert server.wait_exit(10) == SERVE_RETURNED  # serve returned, as the launcher saw
        assert not os.path.exists(server.sock_path)
    assert not server.workdir.exists()


def _block_on_child() -> None:
    ctx = multiprocessing.get_context("fork")
    reader, writer = ctx.Pipe(duplex=False)
    p = ctx.Process(target=time.sleep, args=(60,))
    p.start()
    reader.recv()  # nobody ever sends; the writer end stays open here


def test_overrunning_call_is_stopped_and_its_processes_killed() -> None:
    start = time.monotonic()
    with pytest.raises(Overran) as caught:
        call_with_deadline(_block_on_child, deadline_s=1.0)
    assert time.monotonic() - start < 10
    watch = caught.value.watch
    assert watch.workers, "the watch saw the child"
    assert watch.leftovers() == []


def test_call_within_deadline_returns_its_value_or_raises_its_error() -> None:
    assert call_with_deadline(sum, [1, 2, 3], deadline_s=5) == 6
    with pytest.raises(ZeroDivisionError):
        call_with_deadline(lambda: 1 / 0, deadline_s=5)


def _reap_with_sigchld() -> int:
    """Learner-style: a SIGCHLD handler reaps a forked child; returns its exit code."""
    import signal

    codes: list[int] = []

    def reap(signum: int, frame: object) -> None:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            codes.append(os.waitstatus_to_exitcode(status))

    signal.signal(signal.SIGCHLD, reap)
    signal.setitimer(signal.ITIMER_REAL, 30)  # left pending on purpose
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    end = time.monotonic() + 10
    while not codes and time.monotonic() < end:
        time.sleep(0.01)  # the handler runs in this (main) thread between sleeps
    return codes[0]


def test_learner_code_runs_in_the_main_thread_and_its_signal_handlers_are_undone() -> None:
    import signal

    assert threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGCHLD)
    assert call_with_deadline(_reap_with_sigchld, deadline_s=20) == 7
    assert signal.getsignal(signal.SIGCHLD) is before, "the learner's SIGCHLD handler stayed"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0), "the learner's alarm stayed"


def _spin_swallowing_everything_but_interrupts() -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            time.sleep(0.01)
        except Exception:  # a learner's broad except: our interrupt is a BaseException
            pass


def test_a_call_stuck_without_children_is_interrupted_in_the_main_thread() -> None:
    start = time.monotonic()
    with pytest.raises(Overran):
        call_with_deadline(_spin_swallowing_everything_but_interrupts, deadline_s=0.5)
    assert time.monotonic() - start < 15


def test_slow_start_delays_forked_children_only_inside_its_block() -> None:
    from grader.processes.bounded import slow_start

    def started_after() -> float:
        reader, writer = os.pipe()
        begin = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.write(writer, b"x")
            os._exit(0)
        os.read(reader, 1)
        took = time.monotonic() - begin
        os.waitpid(pid, 0)
        os.close(reader)
        os.close(writer)
        return took

    with slow_start(1.0):
        assert started_after() >= 1.0
    assert started_after() < 1.0


def _report_started(queue) -> None:
    queue.put(time.monotonic())


def test_slow_start_delays_new_interpreters_before_their_main_and_leaves_the_environment() -> None:
    import multiprocessing
    import subprocess
    import sys

    from grader.processes.bounded import slow_start

    def spawned_after() -> float:
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        begin = time.monotonic()
        worker = ctx.Process(target=_report_started, args=(queue,))
        worker.start()
        started = queue.get(timeout=60)
        worker.join(60)
        return started - begin

    def subprocess_after() -> float:
        begin = time.monotonic()
        out = subprocess.run([sys.executable, "-s", "-c", "import time; print(time.monotonic())"],
                             capture_output=True, text=True, check=True, timeout=60).stdout
        return float(out) - begin

    before = dict(os.environ)
    with slow_start(1.5):
        assert spawned_after() >= 1.5
        assert subprocess_after() >= 1.5
    assert dict(os.environ) == before
    # what the block set up is gone: a new interpreter starts at its own pace again
    assert subprocess_after() < 1.5
