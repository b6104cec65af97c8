"""Grade one submission: prepare it, run its checks in sandboxed children, score it.

The parent side of the boundary. It never imports the learner's code: it copies
the submission into a fresh folder, scans it statically for forbidden modules,
starts the harness in a sandbox, reads the results channel, enforces each
check's time budget, restarts a fresh child after a check crashed or hung one,
and turns what it saw into a `SubmissionResult`. Points come only from records
this side accepted; exit codes and printed text are never evidence.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import grader
from grader.channel import ProtocolError, RecordReader
from grader.grading.forbidden import scan_submission
from grader.grading.integrity import scan_submission as scan_integrity
from grader.grading.learner_terms import in_learner_terms
from grader.grading.parsing import parse_source
from grader.results import (
    BlockedThread,
    CheckResult,
    Failure,
    ProcessInfo,
    Resources,
    Status,
    SubmissionResult,
    TraceStep,
)
from grader.spec import ALLOWED_MODULES, IMPORTS, CheckSpec, Exercise

SOURCE_LIMIT = 200_000  # bytes of learner source kept for the report
OUTPUT_SHOWN = 8_000  # bytes of learner output kept in the result
STARTUP_SECONDS = 20.0  # interpreter + pytest start-up allowance before the first check starts
MAX_SUBMISSION_BYTES = 5 << 20
MAX_SUBMISSION_FILES = 200
#: A check that keeps reporting progress (the explorer finishing schedules) may run up to this
#: many times its budget: on a loaded machine its schedules are slower, not stuck.
PROGRESS_CAP = 4.0


def _check_limit(start: float, budget: float, last_progress: float | None) -> float:
    """When the running check times out: `budget` seconds after it started, or after its last
    progress record if it made progress since, and never later than PROGRESS_CAP budgets."""
    if last_progress is None:
        return start + budget
    return min(start + PROGRESS_CAP * budget, max(start + budget, last_progress + budget))


class GradingError(Exception):
    """The submission could not be graded at all (an infrastructure fault, not the learner's)."""


class MachineShare(Protocol):
    """Shares the machine between concurrent gradings (a readers-writer lock)."""

    def shared(self) -> ContextManager[None]: ...

    def exclusive(self) -> ContextManager[None]: ...


@dataclass
class GradeOptions:
    seed: int | None = None  # None: derived from the submission's content and exercise version
    sandbox: str | None = None  # backend name; None = the strongest available
    only: list[str] | None = None  # check ids to run (their needs run too)
    replay: str | None = None  # an explorer schedule id to replay
    machine: MachineShare | None = None
    coverage: bool = False  # record which learner lines no check executed
    exercise_ref: str | None = None  # how the user named the exercise (for replay commands)
    extra_env: dict[str, str] = field(default_factory=dict)


# -- submission handling -------------------------------------------------------------------


def _submission_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = []
    for file in sorted(path.rglob("*")):
        rel = file.relative_to(path)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        if file.is_file() and not file.is_symlink():
            files.append(file)
    return files


def submission_hash(path: Path) -> str:
    """sha256 over the submission's content (file names and bytes, sorted)."""
    path = Path(path)
    digest = hashlib.sha256()
    for file in _submission_files(path):
        rel = file.name if path.is_file() else str(file.relative_to(path))
        digest.update(rel.encode() + b"\0")
        with open(file, "rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def derive_seed(content_hash: str, exercise: Exercise) -> int:
    text = f"{content_hash}:{exercise.id}:{exercise.version}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


def prepare_workdir(exercise: Exercise, submission: Path, root: Path) -> tuple[Path, str | None]:
    """Copy the submission into root/work as the entry module. Returns (workdir, problem)."""
    work = root / "work"
    work.mkdir()
    entry = f"{exercise.entry}.py"
    if submission.is_file():
        if submission.stat().st_size > MAX_SUBMISSION_BYTES:
            return work, f"{submission.name} is larger than {MAX_SUBMISSION_BYTES >> 20} MiB"
        shutil.copyfile(submission, work / entry)
        return work, None
    files = _submission_files(submission)
    if len(files) > MAX_SUBMISSION_FILES:
        return work, f"the folder holds more than {MAX_SUBMISSION_FILES} files"
    if sum(f.stat().st_size for f in files) > MAX_SUBMISSION_BYTES:
        return work, f"the folder is larger than {MAX_SUBMISSION_BYTES >> 20} MiB"
    for file in files:
        target = work / file.relative_to(submission)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
    if not (work / entry).is_file():
        return work, f"the folder has no {entry}: the grader imports your code from {entry}"
    return work, None


def _syntax_problem(work: Path) -> str | None:
    """The first Python file of the submission that does not parse, told in a clause."""

    files = sorted(work.rglob("*.py"))
    if not files:
        return "your submission has no Python file"
    for file in files:
        try:
            parse_source(file.read_bytes(), file.name)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            where = f"{file.relative_to(work)}" + (f", line {line}" if line else "")
            return f"Python cannot parse your code ({where})"
    return None


def _read_sources(work: Path) -> dict[str, str]:
    sources: dict[str, str] = {}
    budget = SOURCE_LIMIT
    for file in sorted(work.rglob("*.py")):
        text = file.read_text(encoding="utf-8", errors="replace")[:budget]
        budget -= len(text)
        sources[str(file.relative_to(work))] = text
        if budget <= 0:
            break
    return sources


# -- planning ------------------------------------------------------------------------------


def plan_checks(exercise: Exercise, only: list[str] | None) -> list[CheckSpec]:
    """The checks to run, in YAML order with every check after the checks it needs."""
    checks = exercise.all_checks
    if only:
        unknown = [c for c in only if c not in {k.id for k in checks}]
        if unknown:
            known = ", ".join(k.id for k in checks)
            raise GradingError(f"no check named {', '.join(unknown)} (checks: {known})")
        wanted: set[str] = set()
        stack = list(only)
        while stack:
            check_id = stack.pop()
            if check_id not in wanted:
                wanted.add(check_id)
                stack += exercise.needs_of(exercise.check(check_id))
        checks = [c for c in checks if c.id in wanted]
    ordered: list[CheckSpec] = []
    placed: set[str] = set()
    pending = list(checks)
    ids = {c.id for c in checks}
    while pending:
        for check in pending:
            if all(n in placed or n not in ids for n in exercise.needs_of(check)):
                ordered.append(check)
                placed.add(check.id)
                pending.remove(check)
                break
        else:  # pragma: no cover - the spec refuses cycles
            raise GradingError("checks need each other in a cycle")
    return ordered


# -- validating what the child sends -------------------------------------------------------


def _text(value: Any, limit: int = 4000) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 12] + " ... (cut)"


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _failure_from_record(raw: Any, fallback_kind: str) -> Failure:
    if not isinstance(raw, dict):
        return Failure(kind=fallback_kind, message="the check failed")
    kind = _text(raw.get("kind") or fallback_kind, 40)
    trace = []
    for step in raw.get("trace") or []:
        if isinstance(step, dict):
            trace.append(TraceStep(
                thread=_text(step.get("thread"), 60), file=_text(step.get("file"), 200),
                line=_int(step.get("line")), source=_text(step.get("source"), 300),
                operation=_text(step.get("operation"), 200), switch=bool(step.get("switch")),
            ))
    blocked = []
    for item in raw.get("deadlock") or []:
        if isinstance(item, dict):
            blocked.append(BlockedThread(
                thread=_text(item.get("thread"), 60), file=_text(item.get("file"), 200),
                line=_int(item.get("line")), source=_text(item.get("source"), 300),
                waits_for=_text(item.get("waits_for"), 200),
                held_by=_text(item["held_by"], 60) if item.get("held_by") else None,
            ))
    processes = []
    for item in raw.get("processes") or []:
        if isinstance(item, dict):
            parent = item.get("parent")
            processes.append(ProcessInfo(
                pid=_int(item.get("pid")), parent=_int(parent) if parent is not None else None,
                name=_text(item.get("name"), 100),
                cpu_s=float(item["cpu_s"]) if isinstance(item.get("cpu_s"), (int, float)) else 0.0,
                state=_text(item.get("state"), 40), note=_text(item.get("note"), 300),
            ))
    lines = [
        {"file": _text(item.get("file"), 200), "line": _int(item.get("line"))}
        for item in raw.get("lines") or []
        if isinstance(item, dict)
    ]
    return Failure(
        kind=kind,
        message=_text(raw.get("message"), 2000) or "the check failed",
        trace=trace[:2000],
        deadlock=blocked[:64],
        processes=processes[:256],
        lines=lines[:500],
        replay=_text(raw["replay"], 400) if raw.get("replay") else None,
        details=_text(raw["details"], 8000) if raw.get("details") else None,
    )


# -- running children ----------------------------------------------------------------------


@dataclass
class _Outcome:
    status: Status
    failure: Failure | None
    duration: float
    note: str = ""  # a passed check's remark (the explorer fell back to real threads)
    exploration: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _RunState:
    decided: dict[str, _Outcome] = field(default_factory=dict)
    executed: dict[str, set[int]] = field(default_factory=dict)
    statements: dict[str, set[int]] = field(default_factory=dict)
    resources: Resources = field(default_factory=Resources)
    output: list[bytes] = field(default_factory=list)
    output_truncated: bool = False
    backend: str = ""


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


class _Driver:
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
        self.state = _RunState(backend=self.backend.name)
        self.children = 0

    def _env(self) -> dict[str, str]:
        package_root = str(Path(grader.__file__).resolve().parent.parent)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.work),
            "TMPDIR": str(self.work),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": package_root,
            # only the plugins the harness names: faster, and nothing installed joins the run
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "GRADER_SUBMISSION_DIR": str(self.work),
            "GRADER_ENTRY": self.exercise.entry,
            "GRADER_SEED": str(self.seed),
            "GRADER_CHECK_SECONDS": str(self.exercise.limits.check_seconds),
            "GRADER_INSTRUMENT": "1" if self.exercise.instrument else "0",
        }
        if self.options.replay:
            env["GRADER_REPLAY"] = self.options.replay
        # Test seams that must reach the child too: the start method (grader.harness.runner)
        # and the pretended platform (grader.sandbox.facilities).
        for seam in ("GRADER_MP_START", "GRADER_PRETEND_OS"):
            if os.environ.get(seam):
                env[seam] = os.environ[seam]
        env.update(self.options.extra_env)
        return env

    def _argv(self, ids: list[str]) -> list[str]:
        argv = [sys.executable, "-s", "-m", "grader.harness", str(self.exercise.checks_dir),
                "--only", ",".join(ids)]
        if self.exercise.instrument:
            argv += ["--plugin", "grader.explore.pytest_plugin"]
        if self.options.coverage and self.exercise.family == "threads":
            # coverage does not follow forked children: for process exercises it would mark
            # the code that ran in a child as never executed
            argv.append("--coverage")
        return argv

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

    def run(self, checks: list[CheckSpec]) -> None:
        """Run `checks` (in order), restarting children until each one is decided."""
        pending = [c.id for c in checks]
        while True:
            pending = [c for c in pending if c not in self.state.decided]
            pending = [c for c in pending if not self._skip_if_needs_failed(c)]
            if not pending:
                return
            if time.monotonic() >= self.deadline:
                for check_id in pending:
                    self.state.decided[check_id] = _Outcome(Status.TIMEOUT, Failure(
                        "timeout", "grading ran out of time before this check could run "
                        f"(the whole submission gets {self.exercise.limits.submission_seconds:g} s)",
                    ), 0.0)
                return
            self._run_child(pending)

    def _skip_if_needs_failed(self, check_id: str) -> bool:
        check = self.exercise.check(check_id)
        for need in self.exercise.needs_of(check):
            outcome = self.state.decided.get(need)
            if outcome is not None and outcome.status is not Status.PASSED:
                title = self.exercise.check(need).title
                self.state.decided[check_id] = _Outcome(Status.SKIPPED, Failure(
                    "skipped", f"not run: it needs \"{title}\", which did not pass"), 0.0)
                return True
        return False

    def _run_child(self, ids: list[str]) -> None:
        child_dir = self.run_dir / f"child-{self.children}"
        child_dir.mkdir()
        self.children += 1
        request = self.sandbox.SandboxRequest(
            argv=self._argv(ids), workdir=self.work, env=self._env(), limits=self._limits(),
            readable=[self.exercise.folder, Path(grader.__file__).resolve().parent],
            label=f"grader-{self.exercise.id}",
            run_dir=child_dir,  # inside the grading's temporary folder: removed with it
        )
        try:
            child = self.backend.start(request)
        except Exception as exc:  # noqa: BLE001
            raise GradingError(f"the sandbox could not start the submission: {exc}") from exc
        reader = RecordReader()
        current: str | None = None
        current_start = 0.0
        last_progress: float | None = None  # the running check's last progress record
        started_at = time.monotonic()
        idle_since = started_at  # the start, then the last result: the gap between checks
        expected = list(ids)
        done = aborted = False
        check_budget = self.exercise.limits.check_seconds
        fd = child.channel_fd
        try:
            while True:
                now = time.monotonic()
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
                for record in records:
                    event = record.get("event")
                    if event == "start":
                        check_id = record.get("check")
                        if check_id not in expected or current is not None:
                            child.kill("protocol violation")
                            self._blame(current, expected, "the results channel was disturbed")
                            aborted = True
                            break
                        current, current_start = check_id, time.monotonic()
                        last_progress = None
                    elif event == "result":
                        check_id = record.get("check")
                        if check_id not in expected or (current is not None
                                                        and check_id != current):
                            child.kill("protocol violation")
                            self._blame(current, expected, "the results channel was disturbed")
                            aborted = True
                            break
                        self._accept(check_id, record)
                        expected.remove(check_id)
                        current, idle_since = None, time.monotonic()
                        if expected and self._skip_if_needs_failed(expected[0]):
                            # the child would run a check whose needs failed (it may hang for
                            # its whole budget): a new child runs only what is left to run
                            child.kill("a needed check did not pass")
                            aborted = True
                            break
                    elif event == "progress":
                        if current is not None and record.get("check") == current:
                            last_progress = time.monotonic()
                    elif event == "coverage":
                        self._merge_coverage(record.get("files"))
                    elif event == "internal-error":
                        child.kill("internal error")
                        raise GradingError("the grading harness failed: "
                                           + _text(record.get("message"), 500))
                    elif event == "done":
                        done = True
                    # "hello" and unknown events carry no grade
                if done or aborted:
                    break
        finally:
            result = self._finish(child)
        if current is not None and current not in self.state.decided:
            kind, message = _describe_death(result)
            self.state.decided[current] = _Outcome(
                Status.ERROR, Failure(kind, message), time.monotonic() - current_start)
        elif not done and expected and not any(c in self.state.decided for c in expected[:1]):
            # the child died between checks (while importing or starting up): blame the next
            kind, message = _describe_death(result)
            self.state.decided[expected[0]] = _Outcome(Status.ERROR, Failure(
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
            self.state.decided[victim] = _Outcome(Status.TIMEOUT, Failure("timeout", message),
                                                  budget)

    def _blame(self, current: str | None, expected: list[str], message: str) -> None:
        victim = current or (expected[0] if expected else None)
        if victim is not None:  # after the last expected check there is nothing left to cost
            self.state.decided[victim] = _Outcome(Status.ERROR, Failure("exception", message),
                                                  0.0)

    def _accept(self, check_id: str, record: dict[str, Any]) -> None:
        status_text = record.get("status")
        try:
            status = Status(status_text)
        except ValueError:
            status = Status.ERROR
        if status is Status.TIMEOUT:
            status = Status.ERROR  # only the parent decides timeouts
        failure = None
        if status is not Status.PASSED:
            failure = _failure_from_record(record.get("failure"),
                                           "assertion" if status is Status.FAILED else "exception")
        duration = record.get("duration_s")
        duration = float(duration) if isinstance(duration, (int, float)) else 0.0
        note = _text(record.get("note"), 2000) if status is Status.PASSED else ""
        self.state.decided[check_id] = _Outcome(status, failure, max(0.0, duration),
                                                note or "",
                                                _exploration(record.get("exploration")))

    def _merge_coverage(self, files: Any) -> None:
        if not isinstance(files, dict):
            return
        for name, data in files.items():
            if not isinstance(name, str) or not isinstance(data, dict):
                continue
            executed = {n for n in data.get("executed") or [] if isinstance(n, int)}
            statements = {n for n in data.get("statements") or [] if isinstance(n, int)}
            self.state.executed.setdefault(name, set()).update(executed)
            self.state.statements.setdefault(name, set()).update(statements)

    def _finish(self, child: Any) -> Any:
        try:
            result = child.wait()
        finally:
            child.close()
        error = getattr(result, "error", None)
        if error and getattr(result, "killed", None) != "sandbox-lost":
            raise GradingError(f"the sandbox failed: {error}")
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
                    self.state.output.append(stream.read(OUTPUT_SHOWN))
                    if stream.read(1):
                        self.state.output_truncated = True
            except OSError:
                pass
            self.state.output_truncated |= bool(truncated)
        return result


# -- the public entry point ----------------------------------------------------------------


def _phases(checks: list[CheckSpec], machine: MachineShare | None
            ) -> Iterator[tuple[list[CheckSpec], ContextManager[None]]]:
    ordinary = [c for c in checks if not c.exclusive]
    exclusive = [c for c in checks if c.exclusive]
    if ordinary:
        yield ordinary, machine.shared() if machine else contextlib.nullcontext()
    if exclusive:
        yield exclusive, machine.exclusive() if machine else contextlib.nullcontext()


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def grade_submission(exercise: Exercise, submission: Path | str,
                     options: GradeOptions | None = None) -> SubmissionResult:
    """Grade one submission (a file, or a folder holding the entry module)."""
    options = options or GradeOptions()
    submission = Path(submission)
    if not submission.exists():
        raise GradingError(f"{submission} does not exist")
    content_hash = submission_hash(submission)
    seed = options.seed if options.seed is not None else derive_seed(content_hash, exercise)
    checks = plan_checks(exercise, options.only)
    started = time.monotonic()
    deadline = started + exercise.limits.submission_seconds

    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        work, problem = prepare_workdir(exercise, submission, root)
        run_dir = root / "runs"
        run_dir.mkdir()
        sources = _read_sources(work)
        decided: dict[str, _Outcome] = {}

        if problem:
            decided[IMPORTS] = _Outcome(Status.FAILED, Failure("import-error", problem), 0.0)
        forbidden = scan_submission(work, exercise.forbid)
        integrity = [flag.to_dict() for flag in scan_integrity(work)]
        if any(c.id == ALLOWED_MODULES for c in checks):
            unreadable = "there is no code to read" if problem else _syntax_problem(work)
            if unreadable:
                # nothing to read, or code Python cannot parse, passes nothing: which modules
                # it would use is unknown
                decided[ALLOWED_MODULES] = _Outcome(Status.SKIPPED, Failure(
                    "skipped", f"not run: {unreadable}, so the modules your code uses are "
                    "unknown"), 0.0)
            elif forbidden:
                lines = "; ".join(u.describe() for u in forbidden[:5])
                decided[ALLOWED_MODULES] = _Outcome(Status.FAILED, Failure(
                    "forbidden", lines, lines=[{"file": u.file, "line": u.line} for u in forbidden]
                ), 0.0)
            else:
                decided[ALLOWED_MODULES] = _Outcome(Status.PASSED, None, 0.0)

        state = None
        driver = _Driver(exercise, work, run_dir, seed, options, deadline)
        driver.state.decided.update(decided)
        for phase, share in _phases(checks, options.machine):
            with share:
                driver.run(phase)
        state = driver.state
        decided = state.decided
        output = b"".join(state.output)

    result_checks = []
    for check in checks:
        outcome = decided.get(check.id) or _Outcome(
            Status.ERROR, Failure("exception", "the check did not report a result"), 0.0)
        failure = outcome.failure
        status = outcome.status
        # the parent's own rule, whatever a child claimed: a check whose needs failed is skipped
        for need in exercise.needs_of(check):
            need_outcome = decided.get(need)
            if need_outcome is not None and need_outcome.status is not Status.PASSED:
                if status is not Status.SKIPPED:
                    status = Status.SKIPPED
                    failure = Failure("skipped", f"not run: it needs "
                                      f"\"{exercise.check(need).title}\", which did not pass")
                break
        hint = None
        if failure is not None and status is not Status.SKIPPED:
            # a replay that did not fail reproduced nothing: no hint about a failure; a
            # missing name is told in full by its message, and a hint about the code that
            # should be there would only confuse, unless the exercise wrote one for it
            if failure.kind == "replay":
                hint = None
            elif failure.kind == "missing-name":
                hint = check.hints.get(failure.kind)
            else:
                hint = check.hint_for(failure.kind)
            if failure.replay and not failure.replay.startswith("grader "):
                failure.replay = _replay_command(exercise, submission, seed, options,
                                                 check.id, failure.replay)
        result_checks.append(CheckResult(
            id=check.id, title=check.title, status=status,
            points=check.points if status is Status.PASSED else 0.0,
            max_points=check.points, visible=check.visible,
            message=failure.message if failure else (
                outcome.note if status is Status.PASSED else ""),
            hint=hint, failure=failure,
            duration_s=round(outcome.duration, 3), exploration=outcome.exploration,
        ))

    coverage = {}
    if options.coverage:
        for name, statements in state.statements.items():
            coverage[name] = sorted(statements - state.executed.get(name, set()))
        for name in sources:
            if name.endswith(".py") and name not in coverage and state.statements:
                coverage[name] = []
    state.resources.wall_s = round(time.monotonic() - started, 3)
    state.resources.cpu_s = round(state.resources.cpu_s, 3)
    return in_learner_terms(SubmissionResult(
        exercise=exercise.id,
        version=exercise.version,
        title=exercise.title,
        seed=seed,
        score=float(sum(c.points for c in result_checks)),
        max_score=float(sum(c.max_points for c in result_checks)),
        checks=result_checks,
        resources=state.resources,
        submission=str(submission),
        submission_hash=content_hash,
        sandbox=state.backend,
        output=output.decode("utf-8", errors="replace"),
        output_truncated=state.output_truncated,
        source=sources,
        coverage=coverage,
        replay=_replay_command(exercise, submission, seed, options),
        grader_version=grader.__version__,
        integrity=integrity,
    ), submission, exercise.entry)


def _replay_command(exercise: Exercise, submission: Path, seed: int, options: GradeOptions,
                    check: str | None = None, schedule: str | None = None) -> str:
    parts = ["grader", "check", _quote(options.exercise_ref or exercise.id),
             _quote(str(submission)), "--seed", str(seed)]
    if options.sandbox:
        parts += ["--sandbox", options.sandbox]
    if check:
        parts += ["--check", check]
    if schedule:
        parts += ["--replay", _quote(schedule)]
    return " ".join(parts)


def _exploration(records: Any) -> list[dict[str, Any]]:
    """The explorer's coverage per scenario, as the child reported it (checked, bounded)."""
    out: list[dict[str, Any]] = []
    if not isinstance(records, list):
        return out
    for record in records[:50]:
        if not isinstance(record, dict):
            continue
        schedules, seconds = record.get("schedules"), record.get("seconds")
        out.append({
            "scenario": _text(record.get("scenario"), 200),
            "schedules": schedules if isinstance(schedules, int) else 0,
            "complete": record.get("complete") is True,
            "bound": record.get("bound") if isinstance(record.get("bound"), int) else 0,
            "seconds": float(seconds) if isinstance(seconds, (int, float)) else 0.0,
            "text": _text(record.get("text"), 300),
            "bounds": [{"preemptions": b.get("preemptions"), "schedules": b.get("schedules"),
                        "complete": b.get("complete") is True}
                       for b in (record.get("bounds") or [])[:5]
                       if isinstance(b, dict) and isinstance(b.get("preemptions"), int)
                       and isinstance(b.get("schedules"), int)],
        })
    return out
