"""The child driver: runs planned checks in sandboxed harness children, as many children as
crashes require, reading each one's results channel.

Owns the children's environment, argv and limits, the channel's order of records, each check's
time budget, and who is blamed when a child dies, hangs or disturbs the channel. It decodes
no record field itself (`records` does), skips by the plan's rule, and scores nothing.
"""

from __future__ import annotations

import os
import secrets
import select
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grader
from grader import protocol
from grader.channel import RecordReader
from grader.grading.options import GradeOptions, GradingError
from grader.grading.plan import CheckDecision, split_lanes, unmet_need
from grader.protocol import (
    CheckEnded,
    CheckStarted,
    Coverage,
    Done,
    InternalError,
    Progress,
    ProtocolError,
)
from grader.results import Failure, Resources, Status
from grader.spec import IMPORTS, CheckSpec, Exercise

OUTPUT_SHOWN = 8_000  # bytes of learner output kept in the result
STARTUP_SECONDS = 20.0  # interpreter + pytest start-up allowance before the first check starts
#: A check that keeps reporting progress (the explorer finishing schedules) may run up to this
#: many times its budget: on a loaded machine its schedules are slower, not stuck.
PROGRESS_CAP = 4.0
#: Children that may run one grading's ordinary checks side by side (`GradeOptions.lanes`);
#: GRADER_LANES sets it for every grading of the process (1: one child at a time).
ENV_LANES = "GRADER_LANES"
MAX_LANES = 4


def _check_limit(start: float, budget: float, last_progress: float | None) -> float:
    """When the running check times out: `budget` seconds after it started, or after its last
    progress record if it made progress since, and never later than PROGRESS_CAP budgets."""
    if last_progress is None:
        return start + budget
    return min(start + PROGRESS_CAP * budget, max(start + budget, last_progress + budget))


@dataclass
class RunState:
    """What the children of one grading told, and what they cost."""

    decided: dict[str, CheckDecision] = field(default_factory=dict)
    executed: dict[str, set[int]] = field(default_factory=dict)
    statements: dict[str, set[int]] = field(default_factory=dict)
    resources: Resources = field(default_factory=Resources)
    # (lane, child of that lane) -> what it printed
    output_by_child: dict[tuple[int, int], list[bytes]] = field(default_factory=dict)
    output_truncated: bool = False
    backend: str = ""

    @property
    def output(self) -> bytes:
        """What the children printed: lane by lane, and each lane's children in order."""
        return b"".join(b"".join(self.output_by_child[k]) for k in sorted(self.output_by_child))


def lanes_wanted(options: GradeOptions) -> int:
    """How many children may run a grading's ordinary checks side by side.

    GRADER_LANES, else the options' own number, else: one child at a time where a machine
    share or a warm harness is in play (a batch already grades one submission per core), and
    one per core, up to two, for a grading alone on the machine (`grader check`, a test).
    """
    raw = os.environ.get(ENV_LANES, "")
    if raw.isdigit() and int(raw) > 0:
        return min(int(raw), MAX_LANES)
    if options.lanes is not None:
        return max(1, min(options.lanes, MAX_LANES))
    if options.machine is not None or options.warm:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


def _describe_death(result: Any) -> tuple[str, str]:
    """(kind, sentence) for a child that ended in the middle of a check."""
    killed = getattr(result, "killed", None)
    if killed == "memory":
        return "crash", "your code used more memory than this exercise allows"
    if killed == "sandbox-lost":
        return "crash", ("the process supervising your code was killed during this check "
                         "(does your code signal its parent?)")
    if killed == "cpu":
        return "crash", "your code used more CPU time than this exercise allows"
    if killed == "file-size":
        return "crash", "your code wrote a file larger than this exercise allows"
    sig = getattr(result, "signal", None)
    if sig:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        why = {
            "SIGSEGV": "it crashed (segmentation fault)",
            "SIGABRT": "it aborted",
            "SIGKILL": "it was killed (often: out of memory or too many processes)",
            "SIGXCPU": "it used more CPU time than allowed",
            "SIGXFSZ": "it wrote a file larger than allowed",
        }.get(name, f"it was ended by {name}")
        return "crash", f"the process running your code died during this check: {why}"
    code = getattr(result, "exit_code", None)
    return "crash", (
        f"your code ended the process (exit code {code}) during this check, so the check "
        "could not finish"
    )


class ChildDriver:
    """Runs planned checks in as many children as crashes require."""

    def __init__(self, exercise: Exercise, work: Path, run_dir: Path, seed: int,
                 options: GradeOptions, deadline: float) -> None:
        from grader import sandbox

        self.exercise = exercise
        self.work = work
        self.run_dir = run_dir
        self.seed = seed
        self.options = options
        self.deadline = deadline
        try:
            self.backend = sandbox.choose(options.sandbox)
        except Exception as exc:  # noqa: BLE001 - any backend problem is an infrastructure fault
            raise GradingError(f"no sandbox to run the submission in: {exc}") from exc
        self.sandbox = sandbox
        self.state = RunState(backend=self.backend.name)
        self.children = 0
        self.lanes = lanes_wanted(options)
        self._lane_works: list[Path] = [work]
        self._lock = threading.Lock()  # the state's counters and output, across lanes
        self._abort = threading.Event()  # a lane failed: the others stop their children
        self._imports_known = threading.Event()  # the first lane's first child has ended

    def _env(self, work: Path) -> dict[str, str]:
        package_root = str(Path(grader.__file__).resolve().parent.parent)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(work),
            "TMPDIR": str(work),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": package_root,
            # only the plugins the harness names: faster, and nothing installed joins the run
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            protocol.ENV_SUBMISSION_DIR: str(work),
            protocol.ENV_ENTRY: self.exercise.entry,
            protocol.ENV_SEED: str(self.seed),
            protocol.ENV_CHECK_SECONDS: str(self.exercise.limits.check_seconds),
            protocol.ENV_INSTRUMENT: "1" if self.exercise.instrument else "0",
        }
        if self.options.replay:
            env[protocol.ENV_REPLAY] = self.options.replay
        # Test seams that must reach the child too: the start method (grader.harness.runner)
        # and the pretended platform (grader.host).
        for seam in protocol.CHILD_SEAMS:
            if os.environ.get(seam):
                env[seam] = os.environ[seam]
        env.update(self.options.extra_env)
        return env

    def _argv(self, ids: list[str]) -> list[str]:
        # coverage does not follow forked children: for process exercises it would mark the
        # code that ran in a child as never executed
        return protocol.harness_argv(
            sys.executable, str(self.exercise.checks_dir), ids,
            plugins=[protocol.EXPLORER_PLUGIN] if self.exercise.instrument else [],
            coverage=self.options.coverage and self.exercise.family == "threads")

    def _limits(self) -> Any:
        limits = self.exercise.limits
        remaining = max(1.0, self.deadline - time.monotonic())
        return self.sandbox.Limits(
            cpu_seconds=min(remaining, limits.submission_seconds) + 5,
            wall_seconds=remaining + 5,
            memory_bytes=limits.memory_mb << 20,
            processes=limits.processes,
            open_files=limits.open_files,
            output_bytes=limits.output_kb << 10,
        )

    def _warm(self) -> bool:
        """Whether this grading's children come from a warm harness (see GradeOptions.warm);
        GRADER_WARM=1 asks for it in any grading, =0 in none."""
        from grader.sandbox.warm import ENV_WARM

        wanted = {"1": True, "0": False}.get(os.environ.get(ENV_WARM, ""), self.options.warm)
        return wanted and self.exercise.family == "threads"

    def run(self, checks: list[CheckSpec], alone: bool = False) -> None:
        """Run `checks` (in plan order), restarting children until each one is decided: in
        one child at a time when `alone` (an exclusive phase) or when one lane is wanted,
        else dealt to lanes whose children run side by side."""
        pending = [c for c in checks if c.id not in self.state.decided]
        lanes = [] if alone else split_lanes(self.exercise, pending, self.lanes)
        if len(lanes) < 2:
            self._imports_known.set()
            self._run_lane([c.id for c in pending], self.work, lane=0)
            return
        self._prepare_lane_works(len(lanes))
        if IMPORTS not in lanes[0]:
            self._imports_known.set()
        failures: list[BaseException] = []

        def lane(index: int, ids: list[str]) -> None:
            try:
                self._run_lane(ids, self._lane_works[index], lane=index)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the grading's thread
                failures.append(exc)
                self._abort.set()
            finally:
                if index == 0:
                    self._imports_known.set()

        threads = [threading.Thread(target=lane, args=(k, ids), name=f"grader-lane-{k}",
                                    daemon=True) for k, ids in enumerate(lanes)]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except BaseException:
            self._abort.set()  # each lane kills its child within half a second
            for thread in threads:
                thread.join()
            raise
        if failures:
            raise failures[0]

    def _prepare_lane_works(self, count: int) -> None:
        """A copy of the submission's folder per extra lane, made before any child runs in
        it, so children side by side never share files (named as `learner_terms` expects)."""
        while len(self._lane_works) < count:
            lane_root = self.run_dir.parent / f"grader-lane{len(self._lane_works)}"
            lane_root.mkdir(mode=0o755)
            shutil.copytree(self.work, lane_root / "work", symlinks=True)
            self._lane_works.append(lane_root / "work")

    def _run_lane(self, ids: list[str], work: Path, lane: int) -> None:
        """Run `ids` in `work`, one child after another, until each is decided."""
        first = lane == 0
        pending = list(ids)
        started = 0
        while True:
            if self._abort.is_set():
                return
            if started and not first:
                # a later child of a side lane only starts once the import check is decided:
                # if the module does not import, what is left is skipped, not retried
                self._imports_known.wait()
            pending = [c for c in pending if c not in self.state.decided]
            pending = [c for c in pending if not self._skip_if_needs_failed(c)]
            if not pending:
                return
            if time.monotonic() >= self.deadline:
                for check_id in pending:
                    self.state.decided[check_id] = CheckDecision(Status.TIMEOUT, Failure(
                        "timeout", "grading ran out of time before this check could run "
                        f"(the whole submission gets {self.exercise.limits.submission_seconds:g} s)",
                    ), 0.0)
                return
            self._run_child(pending, work, (lane, started))
            started += 1
            if first:
                self._imports_known.set()

    def _skip_if_needs_failed(self, check_id: str) -> bool:
        skip = unmet_need(self.exercise, self.exercise.check(check_id), self.state.decided)
        if skip is None:
            return False
        self.state.decided[check_id] = CheckDecision(Status.SKIPPED, skip, 0.0)
        return True

    def _run_child(self, ids: list[str], work: Path, slot: tuple[int, int] = (0, 0)) -> None:
        """One child for `ids` in `work`; `slot` is (lane, child of that lane), the order in
        which the learner's output is kept."""
        with self._lock:
            index = self.children
            self.children += 1
        child_dir = self.run_dir / f"child-{index}"
        child_dir.mkdir()
        key = secrets.token_hex(16)
        env = self._env(work)
        env[protocol.ENV_CHANNEL_KEY] = key
        request = self.sandbox.SandboxRequest(
            argv=self._argv(ids), workdir=work, env=env, limits=self._limits(),
            readable=[self.exercise.folder, Path(grader.__file__).resolve().parent],
            label=f"grader-{self.exercise.id}",
            run_dir=child_dir,  # inside the grading's temporary folder: removed with it
        )
        child = None
        if self._warm():
            from grader.sandbox import warm

            child = warm.POOL.start(self.backend, request)  # None: this one runs cold
        try:
            child = child or self.backend.start(request)
        except Exception as exc:  # noqa: BLE001
            raise GradingError(f"the sandbox could not start the submission: {exc}") from exc
        reader = RecordReader(key=key)
        current: str | None = None
        current_start = 0.0
        last_progress: float | None = None  # the running check's last progress record
        started_at = time.monotonic()
        idle_since = started_at  # the start, then the last result: the gap between checks
        expected = list(ids)
        done = aborted = False
        decided_here = 0
        check_budget = self.exercise.limits.check_seconds
        fd = child.channel_fd
        try:
            while True:
                now = time.monotonic()
                if self._abort.is_set():
                    child.kill("the grading stopped")
                    aborted = True
                    break
                if current and self._skip_if_needs_failed(current):
                    # a check it needs, run beside it in another lane, did not pass
                    child.kill("a needed check did not pass")
                    aborted = True
                    break
                check_budget = (self.exercise.check(current).budget(self.exercise.limits)
                                if current else self.exercise.limits.check_seconds)
                if current:
                    limit = _check_limit(current_start, check_budget, last_progress)
                else:
                    limit = idle_since + STARTUP_SECONDS + check_budget
                limit = min(limit, self.deadline)
                if now >= limit:
                    self._timeout(child, current, expected,
                                  round(limit - current_start) if current else check_budget)
                    break
                ready, _, _ = select.select([fd], [], [], min(limit - now, 0.5))
                if not ready:
                    if child.poll() and not self._drain(fd):
                        break  # exited and the channel is closed or empty
                    continue
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not data:
                    break
                try:
                    records = reader.feed(data)
                except ProtocolError as exc:
                    child.kill("protocol violation")
                    self._blame(current, expected, f"the results channel was disturbed ({exc})")
                    aborted = True
                    break
                for raw in records:
                    try:
                        record = protocol.decode(raw)
                    except ProtocolError as exc:
                        child.kill("protocol violation")
                        self._blame(current, expected,
                                    f"the results channel was disturbed ({exc})")
                        aborted = True
                        break
                    if isinstance(record, CheckStarted):
                        if record.check not in expected or current is not None:
                            child.kill("protocol violation")
                            self._blame(current, expected, "the results channel was disturbed")
                            aborted = True
                            break
                        current, current_start = record.check, time.monotonic()
                        last_progress = None
                    elif isinstance(record, CheckEnded):
                        if record.check not in expected or (current is not None
                                                            and record.check != current):
                            child.kill("protocol violation")
                            self._blame(current, expected, "the results channel was disturbed")
                            aborted = True
                            break
                        self.state.decided[record.check] = CheckDecision(
                            record.status, record.failure, record.duration_s, record.note,
                            record.exploration)
                        decided_here += 1
                        expected.remove(record.check)
                        current, idle_since = None, time.monotonic()
                        if expected and self._skip_if_needs_failed(expected[0]):
                            # the child would run a check whose needs failed (it may hang for
                            # its whole budget): a new child runs only what is left to run
                            child.kill("a needed check did not pass")
                            aborted = True
                            break
                    elif isinstance(record, Progress):
                        if record.check == current:
                            last_progress = time.monotonic()
                    elif isinstance(record, Coverage):
                        with self._lock:
                            for name, lines in record.files.items():
                                self.state.executed.setdefault(name, set()).update(
                                    lines["executed"])
                                self.state.statements.setdefault(name, set()).update(
                                    lines["statements"])
                    elif isinstance(record, InternalError):
                        child.kill("internal error")
                        raise GradingError(f"the grading harness failed: {record.message}")
                    elif isinstance(record, Done):
                        done = True
                    # Hello carries no grade
                if done or aborted:
                    break
        finally:
            result = self._finish(child, slot)
        if done and expected and not decided_here and expected[0] not in self.state.decided:
            # a child that says it is done but decided nothing would be started again forever
            self.state.decided[expected[0]] = CheckDecision(Status.ERROR, Failure(
                "exception", "the checks' process ended before this check reported a result"),
                0.0)
        if current is not None and current not in self.state.decided:
            kind, message = _describe_death(result)
            self.state.decided[current] = CheckDecision(
                Status.ERROR, Failure(kind, message), time.monotonic() - current_start)
        elif not done and expected and not any(c in self.state.decided for c in expected[:1]):
            # the child died between checks (while importing or starting up): blame the next
            kind, message = _describe_death(result)
            self.state.decided[expected[0]] = CheckDecision(Status.ERROR, Failure(
                kind, message.replace("during this check", "before this check could start")), 0.0)

    def _drain(self, fd: int) -> bool:
        ready, _, _ = select.select([fd], [], [], 0)
        return bool(ready)

    def _timeout(self, child: Any, current: str | None, expected: list[str], budget: float) -> None:
        child.kill("timeout")
        if time.monotonic() >= self.deadline:
            message = (f"grading ran out of time (the whole submission gets "
                       f"{self.exercise.limits.submission_seconds:g} s)")
        elif current == IMPORTS:
            message = (f"your module did not finish importing within {budget:g} s: is there a "
                       "loop, a wait or a join at the top level of your file?")
        elif current is None:
            message = (f"your module did not finish loading within {STARTUP_SECONDS + budget:g} s "
                       "(is there a loop or a wait at the top level of your file?)")
        else:
            message = (f"did not finish within {budget:g} s: your code is stuck "
                       "(a deadlock, a wait that is never woken, or an endless loop)")
        victim = current or (expected[0] if expected else None)
        if victim is not None:
            self.state.decided[victim] = CheckDecision(Status.TIMEOUT, Failure("timeout", message),
                                                  budget)

    def _blame(self, current: str | None, expected: list[str], message: str) -> None:
        victim = current or (expected[0] if expected else None)
        if victim is not None:  # after the last expected check there is nothing left to cost
            self.state.decided[victim] = CheckDecision(Status.ERROR, Failure("exception", message),
                                                  0.0)

    def _finish(self, child: Any, slot: tuple[int, int]) -> Any:
        try:
            result = child.wait()
        finally:
            child.close()
        error = getattr(result, "error", None)
        if error and getattr(result, "killed", None) != "sandbox-lost":
            raise GradingError(f"the sandbox failed: {error}")
        with self._lock:
            self._account(result, slot)
        return result

    def _account(self, result: Any, slot: tuple[int, int]) -> None:
        usage = result.usage
        res = self.state.resources
        res.cpu_s += usage.cpu_user_s + usage.cpu_system_s
        res.peak_memory_bytes = max(res.peak_memory_bytes, usage.peak_rss_bytes)
        res.processes_seen = max(res.processes_seen, usage.processes_seen)
        res.wall_s += usage.wall_s
        res.children_started += 1
        for path, truncated in ((result.stdout_path, result.stdout_truncated),
                                (result.stderr_path, result.stderr_truncated)):
            try:
                with open(path, "rb") as stream:
                    self.state.output_by_child.setdefault(slot, []).append(
                        stream.read(OUTPUT_SHOWN))
                    if stream.read(1):
                        self.state.output_truncated = True
            except OSError:
                pass
            self.state.output_truncated |= bool(truncated)
