"""Realistic results to render: what grading real submissions looks like.

Each function builds one `SubmissionResult` the way `grading` would for a known
kind of submission: a racy counter caught by the explorer, a bank that
deadlocks, a worker pool leaving zombies, and a hostile submission whose
source, output and thread names try to inject markup and requests.
"""

from __future__ import annotations

from grader.results import (
    BlockedThread,
    CheckResult,
    Failure,
    ProcessInfo,
    Replay,
    Resources,
    Status,
    SubmissionResult,
    TraceStep,
)

RACY_COUNTER = """\
import threading


class Counter:
    def __init__(self, start: int = 0) -> None:
        self._value = start

    def increment(self, n: int = 1) -> None:
        current = self._value
        self._value = current + n

    def value(self) -> int:
        return self._value

    def reset(self) -> None:
        self._value = 0
"""

#: Words that only a hidden check's failure carries; they must never reach a learner view.
HIDDEN_SECRET = "SECRET-hidden-check-detail-42"


def _imports_ok() -> list[CheckResult]:
    return [
        CheckResult("imports", "The module imports", Status.PASSED, 0, 0, duration_s=0.05),
        CheckResult(
            "allowed-modules", "Uses only allowed modules", Status.PASSED, 0, 0, duration_s=0.01
        ),
    ]


def racy_counter() -> SubmissionResult:
    """A counter whose increment reads then writes without a lock: a lost update."""
    trace = [
        TraceStep("T1", "counter.py", 9, "current = self._value", "read self._value"),
        TraceStep("T2", "counter.py", 9, "current = self._value", "read self._value", True),
        TraceStep("T2", "counter.py", 10, "self._value = current + n", "write self._value"),
        TraceStep("T1", "counter.py", 10, "self._value = current + n", "write self._value", True),
    ]
    replay = Replay("counter", "counter.py", 1234, check="no-lost-update")
    checks = [
        *_imports_ok(),
        CheckResult(
            "increments-add-up",
            "increment(n) adds n and value() reports it",
            Status.PASSED,
            2,
            2,
            duration_s=0.2,
        ),
        CheckResult(
            "no-lost-update",
            "Two threads incrementing at once lose no update",
            Status.FAILED,
            0,
            4,
            message="Expected value() == 2 after two threads each called increment(1); got 1.",
            hint="Two threads read the same value before either wrote it back. Make the "
            "read and the write one step: hold a lock around both.",
            failure=Failure(
                kind="invariant",
                message="value() == 1, expected 2",
                trace=trace,
                replay=replay,
            ),
            duration_s=1.4,
        ),
        CheckResult(
            "stress-many-threads",
            "Sixty-four threads hammering increment",
            Status.FAILED,
            0,
            2,
            visible=False,
            message=f"Lost 17 of 6400 increments ({HIDDEN_SECRET}).",
            hint=f"hidden hint {HIDDEN_SECRET}",
            failure=Failure(
                kind="assertion",
                message=HIDDEN_SECRET,
                trace=[TraceStep("T9", "counter.py", 13, "return self._value", HIDDEN_SECRET)],
                replay=Replay("counter", "counter.py", 1234, check=HIDDEN_SECRET),
            ),
            duration_s=2.0,
        ),
        CheckResult(
            "value-while-incrementing",
            "value() is safe while increments run",
            Status.SKIPPED,
            0,
            1,
            message="Skipped: needs no-lost-update to pass first.",
        ),
    ]
    return SubmissionResult(
        exercise="counter",
        version="1",
        title="A thread-safe counter",
        seed=1234,
        score=2,
        max_score=9,
        checks=checks,
        resources=Resources(cpu_s=3.1, peak_memory_bytes=48 << 20, processes_seen=1, wall_s=4.2),
        submission="submissions/alice/counter.py",
        submission_hash="9f2c1e77aa0b44d1c0ffee",
        sandbox="rlimits",
        output="incrementing...\ndone\n",
        source={"counter.py": RACY_COUNTER},
        coverage={"counter.py": [15, 16]},
        replay=Replay("counter", "submissions/alice/counter.py", 1234),
        grader_version="0.1.0",
    )


DEADLOCK_BANK = """\
import threading


class Bank:
    def __init__(self, balances):
        self._balances = list(balances)
        self._locks = [threading.Lock() for _ in balances]

    def transfer(self, src, dst, amount):
        with self._locks[src]:
            with self._locks[dst]:
                if self._balances[src] < amount:
                    return False
                self._balances[src] -= amount
                self._balances[dst] += amount
                return True
"""


def deadlocked_bank() -> SubmissionResult:
    """A bank that locks source then destination: opposite transfers deadlock."""
    trace = [
        TraceStep("T1", "bank.py", 10, "with self._locks[src]:", "acquire Lock#1"),
        TraceStep("T2", "bank.py", 10, "with self._locks[src]:", "acquire Lock#2", True),
        TraceStep("T2", "bank.py", 11, "with self._locks[dst]:", "acquire Lock#1 (blocks)"),
        TraceStep("T1", "bank.py", 11, "with self._locks[dst]:", "acquire Lock#2 (blocks)", True),
    ]
    blocked = [
        BlockedThread("T1", "bank.py", 11, "with self._locks[dst]:", "Lock#2", "T2"),
        BlockedThread("T2", "bank.py", 11, "with self._locks[dst]:", "Lock#1", "T1"),
    ]
    checks = [
        *_imports_ok(),
        CheckResult("money-conserved", "Transfers conserve money", Status.PASSED, 2, 2),
        CheckResult(
            "no-deadlock",
            "Opposite transfers never deadlock",
            Status.FAILED,
            0,
            4,
            message="transfer(0, 1) and transfer(1, 0) running at once never finish: "
            "each thread holds one account's lock and waits for the other's.",
            hint="Take the two locks in one global order (say, the lower account number first).",
            failure=Failure(
                kind="deadlock",
                message="no runnable thread",
                trace=trace,
                deadlock=blocked,
                replay=Replay("bank", "bank.py", 77, check="no-deadlock"),
            ),
            duration_s=0.8,
        ),
        CheckResult(
            "total-while-transferring",
            "total() is right while transfers run",
            Status.TIMEOUT,
            0,
            2,
            message="The check ran past its 30 s budget.",
            failure=Failure(kind="timeout", message="30 s budget spent"),
            duration_s=30.0,
        ),
    ]
    return SubmissionResult(
        exercise="bank",
        version="2",
        title="Bank transfers without deadlock",
        seed=77,
        score=2,
        max_score=8,
        checks=checks,
        resources=Resources(cpu_s=1.0, peak_memory_bytes=40 << 20, processes_seen=2, wall_s=31.5),
        submission="bank.py",
        source={"bank.py": DEADLOCK_BANK},
        coverage={"bank.py": [13]},
        replay=Replay("bank", "bank.py", 77),
    )


def leaky_supervisor() -> SubmissionResult:
    """A supervisor that never waits for crashed workers: zombies left behind."""
    processes = [
        ProcessInfo(4100, 4000, "python3 supervisor.py", 0.4, "exited", "the supervisor"),
        ProcessInfo(4101, 4100, "worker-1", 1.2, "zombie", "crashed by SIGSEGV, never reaped"),
        ProcessInfo(4102, 4100, "worker-2", 1.1, "exited"),
        ProcessInfo(4103, 4101, "worker-1 helper", 0.0, "orphan", "outlived its parent"),
    ]
    checks = [
        *_imports_ok(),
        CheckResult(
            "reaps-crashed-workers",
            "Crashed workers are reaped and replaced",
            Status.FAILED,
            0,
            3,
            message="After worker-1 crashed, it stayed a zombie: the supervisor never waited for it.",
            hint="Call wait() (or join()) on every worker that exits, crashed or not.",
            failure=Failure(kind="leak", message="1 zombie, 1 orphan", processes=processes),
            duration_s=3.3,
        ),
        CheckResult(
            "survives-crash",
            "The supervisor survives a worker crash",
            Status.ERROR,
            0,
            2,
            message="The check crashed: BrokenPipeError: [Errno 32] Broken pipe",
            failure=Failure(
                kind="exception",
                message="BrokenPipeError",
                details='Traceback (most recent call last):\n  File "supervisor.py", line 30, '
                "in submit\n    self._conn.send(job)\nBrokenPipeError: [Errno 32] Broken pipe",
            ),
        ),
    ]
    return SubmissionResult(
        exercise="supervisor",
        version="1",
        title="A supervisor that restarts crashed workers",
        seed=5,
        score=0,
        max_score=5,
        checks=checks,
        resources=Resources(
            cpu_s=2.7, peak_memory_bytes=120 << 20, processes_seen=4, wall_s=6.0, children_started=2
        ),
        submission="supervisor.py",
        output="worker 1 started\nworker 2 started\n" * 600,
        output_truncated=True,
        replay=Replay("supervisor", "supervisor.py", 5),
    )


HOSTILE_MARKUP = (
    "</pre></td><script>fetch('http://evil.invalid/x')</script><img src=http://evil.invalid/i.png>"
)
HOSTILE_SOURCE = f"""\
import threading
# {HOSTILE_MARKUP}
BANNER = "<iframe src='http://evil.invalid/'></iframe>"


class Counter:
    def __init__(self, start=0):
        self.v = start

    def increment(self, n=1):
        self.v += n  # <svg onload=alert(1)>

    def value(self):
        return self.v
"""


def hostile_counter() -> SubmissionResult:
    """A submission whose every learner-controlled string tries to inject markup."""
    evil_thread = "<b onmouseover=alert(1)>T1</b>"
    trace = [
        TraceStep(
            evil_thread, "counter.py", 11, "self.v += n  # <svg onload=alert(1)>", "read self.v"
        ),
        TraceStep(
            "T2</text><script>x()</script>", "counter.py", 11, "self.v += n", "read self.v", True
        ),
        TraceStep("T2</text><script>x()</script>", "counter.py", 11, "self.v += n", "write self.v"),
        TraceStep(evil_thread, "counter.py", 11, "self.v += n", "write self.v", True),
    ]
    checks = [
        *_imports_ok(),
        CheckResult(
            "no-lost-update",
            "Two threads incrementing at once lose no update",
            Status.FAILED,
            0,
            4,
            message=f"Expected 2; value() returned {HOSTILE_MARKUP!r}.",
            hint="Hold a lock around the read and the write.",
            failure=Failure(
                kind="invariant",
                message=HOSTILE_MARKUP,
                trace=trace,
                details=HOSTILE_MARKUP,
                replay=Replay("counter", "x.py", 9),
            ),
        ),
    ]
    return SubmissionResult(
        exercise="counter",
        version="1",
        title="A thread-safe counter",
        seed=9,
        score=0,
        max_score=4,
        checks=checks,
        submission="<script>alert('path')</script>.py",
        output=f"{HOSTILE_MARKUP}\n\x1b[31mred\x1b[0m \x07 bell \x00 nul\n",
        source={"counter.py": HOSTILE_SOURCE, "<evil>.py": HOSTILE_MARKUP},
        coverage={"counter.py": [3]},
        replay=Replay("counter", "x.py", 9),
    )


def all_passed() -> SubmissionResult:
    checks = [
        *_imports_ok(),
        CheckResult("increments-add-up", "increment(n) adds n", Status.PASSED, 2, 2),
        CheckResult("no-lost-update", "No update is lost", Status.PASSED, 4, 4),
        CheckResult("stress", "Stress", Status.PASSED, 2, 2, visible=False),
    ]
    return SubmissionResult(
        exercise="counter",
        version="1",
        title="A thread-safe counter",
        seed=3,
        score=8,
        max_score=8,
        checks=checks,
        source={"counter.py": RACY_COUNTER},
    )


ALL = {
    "racy_counter": racy_counter,
    "deadlocked_bank": deadlocked_bank,
    "leaky_supervisor": leaky_supervisor,
    "hostile_counter": hostile_counter,
    "all_passed": all_passed,
}
