"""Process inspector: what processes a call created, what they did, and what they left behind.

Used inside the sandboxed child around a call into learner code:

    with ProcessWatch() as watch:
        result = submission.pmap(fn, items, workers=2)
    watch.leftovers()          # children still running or unreaped (zombies), or orphans
    watch.require_no_leftovers("When pmap returned")   # or fail the check, kind "leftover"
    watch.busy_overlap_s()     # wall seconds in which two distinct processes both got CPU

A sampler thread polls this process's descendants (psutil) every `interval`
seconds and records, per process, when it was seen and how much CPU it had
used. Parallelism is judged by CPU overlap of distinct processes (two
processes gaining CPU in the same sample window), never by wall-clock
speed-up, which a busy machine distorts. Threads of one process count once,
so work serialised by the interpreter lock shows no overlap.

multiprocessing's own helpers (`resource_tracker`, `forkserver`) are not the
learner's processes: they are reported apart and never counted as leftovers.
The module observes only: it never reaps, kills or waits for a process.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import psutil

from grader.harness.failures import CheckFailure

_HELPER_MARKERS = (
    "multiprocessing.resource_tracker",
    "multiprocessing.forkserver",
    "multiprocessing.semaphore_tracker",
)


def is_multiprocessing_helper(proc: psutil.Process) -> bool:
    """True for multiprocessing's own resource_tracker / forkserver helper processes."""
    try:
        cmdline = " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return any(marker in cmdline for marker in _HELPER_MARKERS)


@dataclass
class SeenProcess:
    """One process observed during a watch."""

    pid: int
    parent: int | None
    name: str
    created: float  # psutil create_time (epoch seconds): with pid, the process's identity
    first_seen: float  # monotonic
    last_seen: float
    cpu_s: float = 0.0
    status: str = ""
    helper: bool = False
    # (monotonic time, cumulative cpu seconds) samples, for the overlap measure
    samples: list[tuple[float, float]] = field(default_factory=list)

    def as_process_info(self, state: str = "", note: str = "") -> dict[str, Any]:
        """The shape of `grader.results.ProcessInfo`, for `CheckFailure(..., processes=[...])`."""
        return {"pid": self.pid, "parent": self.parent, "name": self.name,
                "cpu_s": round(self.cpu_s, 3), "state": state or self.status, "note": note}


@dataclass
class Leftover:
    """A process a call left behind: still running, unreaped (zombie), or orphaned."""

    pid: int
    name: str
    state: str  # "running", "zombie", "orphan"
    parent: int | None

    def describe(self) -> str:
        what = {"zombie": "exited but was never reaped (a zombie)",
                "orphan": "still runs, orphaned (its parent is gone)",
                "running": "still runs"}[self.state]
        return f"process {self.pid} ({self.name}) {what}"

    def as_process_info(self) -> dict[str, Any]:
        return {"pid": self.pid, "parent": self.parent, "name": self.name, "cpu_s": 0.0,
                "state": self.state, "note": self.describe()}


def _child_pids(pid: int) -> list[int] | None:
    """Children of `pid` from /proc/PID/task/*/children (None where the kernel lacks it)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as listing:
                found.extend(int(x) for x in listing.read().split())
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue  # the thread ended meanwhile
            return None
        except OSError:
            continue
    return found


def descendants(root: psutil.Process | None = None) -> list[psutil.Process]:
    """All live-or-zombie descendants of `root` (default: this process).

    Walks the root's own subtree through /proc/PID/task/*/children, which costs
    a few reads instead of psutil's scan of every process on the machine (40 ms
    with 150 processes on a loaded machine, too slow to sample every 10 ms).
    """
    root = root or psutil.Process()
    if not linux_proc():
        return descendants_portable(root)
    found: list[psutil.Process] = []
    todo = [root.pid]
    while todo:
        pid = todo.pop()
        children = _child_pids(pid)
        if children is None:  # no children files: fall back to psutil's full scan
            try:
                return root.children(recursive=True)
            except psutil.NoSuchProcess:
                return []
        for child in children:
            try:
                found.append(psutil.Process(child))
            except psutil.NoSuchProcess:
                continue
            todo.append(child)
    return found


def linux_proc() -> bool:
    """Whether a Linux /proc is there to read (not on macOS, nor under the platform seam)."""
    from grader import host

    return host.has_proc()


def descendants_portable(root: psutil.Process) -> list[psutil.Process]:
    """Descendants of `root` through psutil (sysctl on macOS): where /proc is missing.

    Never an empty answer for lack of /proc: psutil asks the OS its own way."""
    try:
        return root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def open_fds() -> set[int]:
    """The file descriptors open in this process now (not counting the listing's own)."""
    if not linux_proc():
        return open_fds_portable()
    listed = {int(fd) for fd in os.listdir("/proc/self/fd")}
    still_open = set()
    for fd in listed:  # the descriptor listdir used is closed again by now
        try:
            os.fstat(fd)
        except OSError:
            continue
        still_open.add(fd)
    return still_open


def open_fds_portable() -> set[int]:
    """The open file descriptors, by asking each number up to the soft RLIMIT_NOFILE (capped
    at 65536): where there is no /proc/self/fd (macOS's /dev/fd lists only some)."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    top = 65536 if soft in (resource.RLIM_INFINITY, -1) else min(int(soft), 65536)
    found = set()
    for fd in range(top):
        try:
            os.fstat(fd)
        except OSError:
            continue
        found.add(fd)
    return found


class ProcessWatch:
    """Watch the processes a block of code creates (see the module docstring)."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self._me = psutil.Process()
        self._baseline: set[tuple[int, float]] = set()
        self._seen: dict[tuple[int, float], SeenProcess] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="process-watch", daemon=True)
        self._lock = threading.Lock()
        self.started = 0.0
        self.ended = 0.0
        self.fds_before: set[int] = set()
        self.fds_after: set[int] = set()

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> ProcessWatch:
        self._baseline = {self._key(p) for p in descendants(self._me)} - {None}
        self.fds_before = open_fds()
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()
        self.ended = time.monotonic()
        self.fds_after = open_fds()

    @staticmethod
    def _key(proc: psutil.Process) -> tuple[int, float] | None:
        try:
            return proc.pid, proc.create_time()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def _sample(self) -> None:
        now = time.monotonic()
        for proc in descendants(self._me):
            key = self._key(proc)
            if key is None or key in self._baseline:
                continue
            try:
                with proc.oneshot():
                    cpu = proc.cpu_times()
                    status = proc.status()
                    ppid = proc.ppid()
                    name = proc.name()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            cpu_s = cpu.user + cpu.system
            with self._lock:
                seen = self._seen.get(key)
                if seen is None:
                    seen = SeenProcess(pid=proc.pid, parent=ppid, name=name, created=key[1],
                                       first_seen=now, last_seen=now,
                                       helper=is_multiprocessing_helper(proc))
                    self._seen[key] = seen
                elif not seen.helper and len(seen.samples) < 20:
                    # sampled between fork and exec the cmdline is still the parent's
                    seen.helper = is_multiprocessing_helper(proc)
                seen.last_seen = now
                seen.cpu_s = max(seen.cpu_s, cpu_s)
                seen.status = status
                seen.samples.append((now, cpu_s))

    # -- what was seen -----------------------------------------------------------------------
    @property
    def processes(self) -> list[SeenProcess]:
        """Every new process seen (helpers included), in order of first sighting."""
        with self._lock:
            return sorted(self._seen.values(), key=lambda s: s.first_seen)

    @property
    def workers(self) -> list[SeenProcess]:
        """New processes that are not multiprocessing's helpers."""
        return [p for p in self.processes if not p.helper]

    @property
    def helpers(self) -> list[SeenProcess]:
        return [p for p in self.processes if p.helper]

    def leftovers(self) -> list[Leftover]:
        """Learner processes created during the watch that still exist now.

        A new child or descendant of this process still running ("running") or
        exited but not reaped ("zombie"), whether or not the sampler caught it
        while it ran; a process seen during the watch whose parent is gone and
        that still runs ("orphan"). Helpers do not count.
        """
        found: list[Leftover] = []
        current: set[tuple[int, float]] = set()
        for proc in descendants(self._me):
            key = self._key(proc)
            if key is None or key in self._baseline or is_multiprocessing_helper(proc):
                continue
            current.add(key)
            try:
                status, name, parent = proc.status(), proc.name(), proc.ppid()
            except psutil.NoSuchProcess:
                continue
            state = "zombie" if status == psutil.STATUS_ZOMBIE else "running"
            found.append(Leftover(proc.pid, name, state, parent))
        for seen in self.workers:
            if (seen.pid, seen.created) in current:
                continue
            try:
                proc = psutil.Process(seen.pid)
                if abs(proc.create_time() - seen.created) > 0.01:
                    continue  # the pid was reused by a stranger
                status = proc.status()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if status != psutil.STATUS_ZOMBIE and not is_multiprocessing_helper(proc):
                found.append(Leftover(seen.pid, seen.name, "orphan", seen.parent))
        return found

    def require_no_leftovers(self, when: str, advice: str = "") -> None:
        """Fail the check (kind "leftover") if the call left a process behind.

        The message reads "{when}, N child process(es) remained: ...", then `advice`; the
        failure carries the process table for the report.
        """
        left = self.leftovers()
        if left:
            raise CheckFailure(
                "leftover",
                f"{when}, {len(left)} child process(es) remained: "
                + "; ".join(x.describe() for x in left[:4]) + "."
                + (f" {advice}" if advice else ""),
                processes=[x.as_process_info() for x in left],
            )

    def leaked_fds(self) -> set[int]:
        """Descriptors open after the block that were not open before it."""
        return self.fds_after - self.fds_before

    def busy_overlap_s(self, min_share: float = 0.0) -> float:
        """Wall seconds in which at least two distinct worker processes both gained CPU.

        For every pair of consecutive samples of a process the CPU it gained is
        credited to that window; a sampler tick counts as overlapped when two or
        more processes gained more than `min_share` of the window's length.
        """
        return self._overlap(2, min_share)

    def max_parallel(self, min_share: float = 0.0) -> int:
        """The largest number of distinct worker processes that gained CPU in one window."""
        best = 0
        for k in range(1, len(self.workers) + 1):
            if self._overlap(k, min_share) > 0:
                best = k
            else:
                break
        return best

    def _overlap(self, at_least: int, min_share: float) -> float:
        spans: list[tuple[float, float, int]] = []  # (start, end, pid) of CPU-gaining windows
        for seen in self.workers:
            for (t0, c0), (t1, c1) in zip(seen.samples, seen.samples[1:]):
                if t1 > t0 and c1 - c0 > min_share * (t1 - t0):
                    spans.append((t0, t1, seen.pid))
        events: list[tuple[float, int, int]] = []
        for start, end, pid in spans:
            events.append((start, 1, pid))
            events.append((end, -1, pid))
        events.sort(key=lambda e: (e[0], e[1]))
        active: dict[int, int] = {}
        total = 0.0
        last = None
        for t, delta, pid in events:
            if last is not None and len(active) >= at_least:
                total += t - last
            active[pid] = active.get(pid, 0) + delta
            if active[pid] == 0:
                del active[pid]
            last = t
        return total

    def cpu_by_process(self) -> dict[int, float]:
        return {p.pid: p.cpu_s for p in self.workers}

    def summary(self) -> str:
        """One line for a message: how many processes, their CPU, the overlap."""
        parts = ", ".join(f"{p.pid}: {p.cpu_s:.2f}s" for p in self.workers) or "none"
        return (f"{len(self.workers)} worker process(es) seen (CPU {parts}); "
                f"{self.busy_overlap_s():.2f}s with two or more busy at once")
