"""Fault tasks end a worker exactly as named; the outside killer strikes once, mid-task."""

from __future__ import annotations

import multiprocessing
import resource
import signal
import time
from pathlib import Path

import pytest

from grader.processes import faults

CTX = multiprocessing.get_context("fork")


def _exitcode_of(fn, *args) -> int:
    p = CTX.Process(target=fn, args=args)
    p.start()
    p.join(30)
    assert p.exitcode is not None, f"{fn.__name__} did not end"
    return p.exitcode


@pytest.mark.parametrize(("fn", "args", "code"), [
    (faults.segfault, (), -signal.SIGSEGV),
    (faults.abort, (), -signal.SIGABRT),
    (faults.exit_now, (3,), 3),
    (faults.exit_now, (0,), 0),
    (faults.sys_exit, (4,), 4),
    (faults.die_by_signal, (signal.SIGTERM,), -signal.SIGTERM),
    (faults.die_by_signal, (signal.SIGKILL,), -signal.SIGKILL),
], ids=["segfault", "abort", "exit-3", "exit-0", "sys-exit-4", "sigterm", "sigkill"])
def test_fault_ends_the_worker_with_its_status(fn, args, code: int) -> None:
    assert _exitcode_of(fn, *args) == code


def test_hang_is_bounded_by_its_own_deadline() -> None:
    start = time.monotonic()
    faults.hang(0.2)
    assert 0.2 <= time.monotonic() - start < 2


def _exhaust_and_report(conn) -> None:
    before = resource.getrlimit(resource.RLIMIT_AS)
    try:
        faults.exhaust_memory(32)
        conn.send(("returned", None))
    except MemoryError:
        conn.send(("MemoryError", resource.getrlimit(resource.RLIMIT_AS) == before))


def test_exhaust_memory_raises_memory_error_and_restores_the_limit() -> None:
    reader, writer = CTX.Pipe(duplex=False)
    p = CTX.Process(target=_exhaust_and_report, args=(writer,))
    p.start()
    assert reader.poll(30)
    assert reader.recv() == ("MemoryError", True)
    p.join()


def test_counted_tasks_record_each_attempt(tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    for _ in range(3):
        _exitcode_of(faults.counted_exit, log, 2)
    assert faults.attempts(log) == 3
    assert _exitcode_of(faults.crash_first, str(tmp_path / "flaky"), "v") == 5
    assert faults.crash_first(str(tmp_path / "flaky"), "v") == "v"


def _run_held(marker_dir: str, conn) -> None:
    conn.send(faults.held_task(marker_dir, "t", "done", 20.0))


def test_kill_while_holding_kills_the_holder_once_and_a_retry_completes(tmp_path: Path) -> None:
    with faults.KillWhileHolding(tmp_path, "t") as killer:
        first = CTX.Process(target=faults.held_task, args=(str(tmp_path), "t", "done", 20.0))
        first.start()
        first.join(20)
        assert first.exitcode == -signal.SIGKILL
        reader, writer = CTX.Pipe(duplex=False)
        retry = CTX.Process(target=_run_held, args=(str(tmp_path), writer))
        retry.start()
        assert reader.poll(10) and reader.recv() == "done"
        retry.join()
    assert killer.killed == [first.pid]
