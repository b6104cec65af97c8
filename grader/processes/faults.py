"""Fault injection for worker exercises: tasks that make a worker die, and an outside killer.

Every task here is a module-level function, so it pickles by reference under
any start method (fork, spawn, forkserver). Each is bounded in time: a "hang"
ends by itself after its own deadline so a leaked worker cannot outlive a
grading for long. The module owns only the faults; it does not judge outcomes.

`KillWhileHolding` kills a worker from outside (SIGKILL) at a chosen moment:
while it runs a `held_task`, which announces itself in a marker folder first.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from types import TracebackType


def segfault() -> None:
    """Die by SIGSEGV (a read of address 0 in C)."""
    import faulthandler

    faulthandler.disable()  # pytest enables it; its dump is noise in a worker's death
    ctypes.string_at(0)


def abort() -> None:
    """Die by SIGABRT, as a failed C assertion does."""
    import faulthandler

    faulthandler.disable()
    os.abort()


def exit_now(code: int = 3) -> None:
    """End the worker at once with `os._exit(code)` (no cleanup, no exception)."""
    os._exit(code)


def sys_exit(code: int = 4) -> None:
    """Raise SystemExit(code): the worker ends with that exit code unless someone catches it."""
    sys.exit(code)


def die_by_signal(signum: int = signal.SIGKILL) -> None:
    """Kill the own process with `signum` (SIGKILL cannot be caught)."""
    os.kill(os.getpid(), signum)
    time.sleep(5)  # a caught signal lands here; end anyway
    os._exit(70)


def hang(seconds: float = 60.0) -> None:
    """Sleep without using CPU for `seconds` (bounded, so a leaked worker ends by itself)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


def hang_holding(megabytes: int = 256, seconds: float = 60.0) -> None:
    """Hang like `hang`, holding `megabytes` of touched memory, as a worker with data does.

    Such a worker takes milliseconds to die once killed (the kernel frees its pages), so a
    supervisor that kills it without reaping it cannot count on multiprocessing's own
    clean-up, run when it starts the next worker, to reap it by chance.
    """
    held = b"\1" * (megabytes << 20)  # every page written, so every page resident
    hang(seconds)
    del held


def hang_stubbornly(seconds: float = 60.0) -> None:
    """Hang like `hang`, swallowing every exception raised into it for `seconds`.

    A worker that times its own task out by raising from a signal handler (SIGALRM,
    `setitimer`) does not stop this task: only a kill from outside does, as the contract's
    "its worker is killed" says. (`os._exit` from a handler still ends the worker.)
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            hang(deadline - time.monotonic())
        except BaseException:  # noqa: BLE001, S110 - stubborn on purpose
            pass


def hang_ignoring_sigterm(seconds: float = 60.0) -> None:
    """Hang like `hang` with SIGTERM ignored: `terminate()` does not stop this task, only a
    kill (SIGKILL) does, as the contract's "its worker is killed" says."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    hang(seconds)


def spin(seconds: float = 60.0) -> None:
    """Burn CPU for `seconds` of wall time: a hang that a sleeping-only watchdog would miss."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


def exhaust_memory(cap_mb: int = 64) -> int:
    """Allocate until a `cap_mb` address-space limit stops it: raises MemoryError.

    The limit is set in the worker itself (RLIMIT_AS, current size plus `cap_mb`)
    and restored before the MemoryError leaves, so a reused worker is not crippled
    and the machine never comes near its real memory.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    current = _address_space_bytes()
    cap = current + cap_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    hoard: list[bytearray] = []
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        while True:
            hoard.append(bytearray(4 * 1024 * 1024))
            if len(hoard) * 4 > cap_mb * 4:  # the limit did not bite: stop at a cap anyway
                raise MemoryError(f"allocated {len(hoard) * 4} MiB without hitting the limit")
    finally:
        hoard.clear()
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _address_space_bytes() -> int:
    if not os.path.exists("/proc/self/statm"):  # macOS: ask the OS through psutil
        import psutil

        return int(psutil.Process().memory_info().vms)
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def raise_error(type_name: str = "ValueError", message: str = "bad input") -> None:
    """Raise a built-in exception type by name with `message`."""
    import builtins

    raise getattr(builtins, type_name)(message)


def return_value(value: object) -> object:
    """A task that succeeds: returns `value`."""
    return value


def slow_value(value: object, seconds: float) -> object:
    """A task that succeeds after sleeping `seconds`."""
    time.sleep(seconds)
    return value


def held_task(marker_dir: str, token: str, value: object, hold_s: float = 20.0) -> object:
    """Announce `<token>.<pid>` in `marker_dir`, then hold until killed or told to go on.

    Under `KillWhileHolding` the first attempt is killed while it holds; a retry
    finds `<token>.killed` (written before the kill) and returns `value` at once.
    Without a killer it returns `value` after `hold_s` seconds.
    """
    folder = Path(marker_dir)
    released = folder / f"{token}.killed"
    if released.exists():
        return value
    (folder / f"{token}.{os.getpid()}.tmp").write_text(str(time.monotonic()))
    os.replace(folder / f"{token}.{os.getpid()}.tmp", folder / f"{token}.{os.getpid()}")
    time.sleep(hold_s)  # the killer strikes here; `released` is read only at entry
    return value


class KillWhileHolding:
    """SIGKILL the worker that runs `held_task(marker_dir, token, ...)`, once, while it holds it.

    A watcher thread waits for the task's announcement, kills that pid (only if
    it is a descendant of this process, so a stale marker can never hit a stranger),
    then writes `<token>.killed` so a retried attempt completes. `killed` lists the
    pids it killed. Bounded: the watcher gives up after `deadline_s`.
    """

    def __init__(self, marker_dir: str | Path, token: str, deadline_s: float = 30.0,
                 delay_s: float = 0.05) -> None:
        self.marker_dir = Path(marker_dir)
        self.token = token
        self.deadline_s = deadline_s
        self.delay_s = delay_s  # how long the worker has held the task when it is killed
        self.killed: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="kill-while-holding",
                                        daemon=True)

    def __enter__(self) -> KillWhileHolding:
        self.marker_dir.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        import psutil

        deadline = time.monotonic() + self.deadline_s
        me = psutil.Process()
        while not self._stop.is_set() and time.monotonic() < deadline:
            for path in self.marker_dir.glob(f"{self.token}.*"):
                suffix = path.name[len(self.token) + 1:]
                if not suffix.isdigit():
                    continue
                pid = int(suffix)
                self._stop.wait(self.delay_s)
                # released first: the retry must find it however fast the supervisor is
                (self.marker_dir / f"{self.token}.killed").write_text(str(pid))
                descendants = {p.pid for p in me.children(recursive=True)}
                if pid in descendants:
                    os.kill(pid, signal.SIGKILL)
                    self.killed.append(pid)
                return
            self._stop.wait(0.005)


def _record_attempt(path: str) -> int:
    """Append this attempt to `path` (one line per attempt); returns the attempt's number."""
    with open(path, "a") as log:
        log.write(f"{os.getpid()}\n")
    with open(path) as log:
        return sum(1 for _ in log)


def attempts(path: str) -> int:
    """How many attempts a counted task made (lines in its log)."""
    try:
        with open(path) as log:
            return sum(1 for _ in log)
    except FileNotFoundError:
        return 0


def counted_raise(path: str, type_name: str = "ValueError", message: str = "bad input") -> None:
    """Record an attempt, then raise `type_name(message)`."""
    _record_attempt(path)
    raise_error(type_name, message)


def counted_exit(path: str, code: int = 3) -> None:
    """Record an attempt, then end the worker with `os._exit(code)`."""
    _record_attempt(path)
    os._exit(code)


def counted_hang(path: str, seconds: float = 30.0) -> None:
    """Record an attempt, then hang (sleep) for `seconds`."""
    _record_attempt(path)
    hang(seconds)


def crash_first(path: str, value: object, code: int = 5) -> object:
    """Crash (`os._exit(code)`) on the first attempt; return `value` on any later one."""
    if _record_attempt(path) == 1:
        os._exit(code)
    return value


def crash_then_hang(path: str, seconds: float = 60.0, code: int = 7) -> None:
    """Crash (`os._exit(code)`) on odd attempts, hang for `seconds` on even ones: a task whose
    attempts mix crashing and timing out, which share one retry budget."""
    if _record_attempt(path) % 2:
        os._exit(code)
    hang(seconds)


def worker_pid() -> int:
    """The pid of the process running the task."""
    return os.getpid()


def crash_then_occupy(path: str, folder: str, seconds: float) -> int:
    """Crash on the first attempt; on later ones `tasks.occupy(folder, seconds)`.

    Its retries run while other tasks hold workers, so a supervisor that starts a
    retry beside `workers` running tasks shows more than `workers` at once.
    """
    from grader.processes.tasks import occupy

    if _record_attempt(path) == 1:
        os._exit(5)
    return occupy(folder, seconds)


def marked_value(marker_dir: str, value: object) -> object:
    """Return `value`, leaving `done-<value>` in `marker_dir` first."""
    (Path(marker_dir) / f"done-{value}").touch()
    return value


def _settled(proc: object, settle_s: float) -> bool:
    """True when `proc` (a psutil.Process) sleeps and gains no CPU for `settle_s`."""
    import psutil

    try:
        before = proc.cpu_times()  # type: ignore[attr-defined]
        end = time.monotonic() + settle_s
        while time.monotonic() < end:
            if proc.status() not in (psutil.STATUS_SLEEPING, psutil.STATUS_IDLE):  # type: ignore[attr-defined]
                return False
            time.sleep(0.02)
        after = proc.cpu_times()  # type: ignore[attr-defined]
        return (after.user + after.system) - (before.user + before.system) < 0.005
    except psutil.Error:
        return False


def _until_dead(proc: object, end: float) -> None:
    """Wait until a killed process has exited (a zombie or gone): on a busy machine that lags."""
    import psutil

    while time.monotonic() < end:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:  # type: ignore[attr-defined]
                return
        except psutil.Error:
            return
        time.sleep(0.01)


def kill_idle_siblings(marker_dir: str, done_before: int, deadline_s: float = 15.0,
                       settle_s: float = 0.3) -> list[int]:
    """Wait until `done_before` `marked_value` tasks are done, then SIGKILL idle sibling workers.

    A sibling is another child of this worker's parent (multiprocessing's helpers
    excepted). It counts as idle once it sleeps and gains no CPU for `settle_s`
    (it waits for a task that will never come). Returns the pids it killed.
    """
    import psutil

    folder = Path(marker_dir)
    end = time.monotonic() + deadline_s
    while (sum(1 for p in folder.iterdir() if p.name.startswith("done-")) < done_before
           and time.monotonic() < end):
        time.sleep(0.02)
    me = os.getpid()
    killed: list[int] = []
    try:
        parent = psutil.Process(os.getppid())
        siblings = parent.children()
        # under forkserver every worker is a fork of the server and shares its command line
        helpers = ("resource_tracker",) if "forkserver" in " ".join(parent.cmdline()) else (
            "resource_tracker", "forkserver")
    except psutil.Error:
        return killed
    for proc in siblings:
        try:
            if proc.pid == me or any(h in " ".join(proc.cmdline()) for h in helpers):
                continue
        except psutil.Error:
            continue
        while time.monotonic() < end:
            try:
                if proc.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.Error:
                break
            if _settled(proc, settle_s):
                try:
                    proc.kill()
                    killed.append(proc.pid)
                    _until_dead(proc, end)
                except psutil.Error:
                    pass
                break
            if not proc.is_running():
                break
    return killed
