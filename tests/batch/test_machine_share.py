"""The machine share: gradings share the machine, exclusive checks get it alone."""

import fcntl
import subprocess
import sys
import threading
from pathlib import Path

from grader.grading.machine_share import ReadersWriterShare


def wait_until(predicate, what: str) -> None:
    """Spin (bounded) until another thread reaches a state; no sleeping for success."""
    event = threading.Event()
    for _ in range(200000):
        if predicate():
            return
        event.wait(0.0005)
    raise AssertionError(f"timed out waiting until {what}")


def test_many_gradings_share_the_machine_at_once() -> None:
    share = ReadersWriterShare()
    inside = threading.Barrier(3, timeout=30)

    def grading() -> None:
        with share.shared():
            inside.wait()  # all three are inside together, or the barrier times out

    threads = [threading.Thread(target=grading) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not inside.broken


def test_an_exclusive_check_waits_for_running_gradings_and_then_runs_alone() -> None:
    share = ReadersWriterShare()
    release = threading.Event()
    entered = threading.Event()
    holding = threading.Event()

    def ordinary() -> None:
        with share.shared():
            holding.set()
            release.wait(30)

    def exclusive() -> None:
        with share.exclusive():
            entered.set()

    reader = threading.Thread(target=ordinary)
    reader.start()
    holding.wait(30)
    writer = threading.Thread(target=exclusive)
    writer.start()
    wait_until(lambda: share.writers_waiting == 1, "the exclusive check waits")
    assert not entered.is_set()
    release.set()
    writer.join(30)
    reader.join(30)
    assert entered.is_set() and share.exclusive_holds == 1


def test_a_waiting_exclusive_check_is_not_starved_by_new_gradings() -> None:
    share = ReadersWriterShare()
    release = threading.Event()
    order: list[str] = []

    def ordinary(name: str, hold: bool) -> None:
        with share.shared():
            order.append(name)
            if hold:
                release.wait(30)

    def exclusive() -> None:
        with share.exclusive():
            order.append("exclusive")

    first = threading.Thread(target=ordinary, args=("first", True))
    first.start()
    wait_until(lambda: order == ["first"], "the first grading holds the share")
    writer = threading.Thread(target=exclusive)
    writer.start()
    wait_until(lambda: share.writers_waiting == 1, "the exclusive check waits")
    late = threading.Thread(target=ordinary, args=("late", False))
    late.start()
    wait_until(lambda: share.readers_waiting == 1, "the late grading waits")
    release.set()
    for t in (first, writer, late):
        t.join(30)
    assert order == ["first", "exclusive", "late"]


def test_exclusive_nested_in_shared_does_not_deadlock_two_gradings() -> None:
    share = ReadersWriterShare()
    both_inside = threading.Barrier(2, timeout=30)
    done: list[str] = []

    def grading(name: str) -> None:
        with share.shared():
            both_inside.wait()
            with share.exclusive():
                done.append(name)

    threads = [threading.Thread(target=grading, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(done) == ["a", "b"]
    assert share.exclusive_holds == 2


def test_the_lock_file_keeps_another_process_out_during_an_exclusive_check(
    tmp_path: Path,
) -> None:
    lock = tmp_path / "machine.lock"
    share = ReadersWriterShare(lock_file=lock)
    probe = (
        "import fcntl, sys\n"
        f"h = open({str(lock)!r}, 'a+b')\n"
        "try:\n"
        f"    fcntl.flock(h.fileno(), {fcntl.LOCK_SH | fcntl.LOCK_NB})\n"
        "except BlockingIOError:\n"
        "    sys.exit(1)\n"
    )

    def other_process_can_share() -> bool:
        return subprocess.run([sys.executable, "-c", probe], timeout=60).returncode == 0

    with share.shared():
        assert other_process_can_share()
    with share.exclusive():
        assert not other_process_can_share()
    assert other_process_can_share()
