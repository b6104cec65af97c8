"""The child's main loop: import the submission, run the wanted checks, stream records.

The records it sends over the results channel, in order, are `grader.protocol`'s: `Hello`;
per check `CheckStarted`, `Progress` (while it runs, at most twice a second: not stuck) and
`CheckEnded`; `Coverage` when asked; `Done`. The parent trusts none of it blindly: its
`protocol.decode` re-checks every record's shape, and the driver their order.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
import traceback
from typing import Any

import pytest

from grader import channel, protocol
from grader.harness import fixtures
from grader.protocol import (
    IMPORTS,
    CheckEnded,
    CheckStarted,
    Coverage,
    Done,
    Failure,
    Hello,
    InternalError,
    Progress,
    ReportedFailure,
    Status,
)

#: Bound before any learner code is imported: a submission that patches `grader.channel.send`
#: later patches a name the harness no longer looks up.
SEND = channel.send
MESSAGE_LIMIT = 2000
DETAILS_LIMIT = 6000


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 20] + "\n... (cut)"


def _learner_location(tb: Any, folder: str) -> str | None:
    """The innermost traceback frame in the learner's files, as 'file, line N'."""
    where = None
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith(folder + os.sep):
            where = f"{os.path.relpath(frame.filename, folder)}, line {frame.lineno}"
    return where


def _learner_traceback(exc: BaseException, folder: str) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if f.filename.startswith(folder + os.sep)] or frames[-1:]
    def shown(name: str) -> str:
        inside = name.startswith(folder + os.sep)
        return os.path.relpath(name, folder) if inside else os.path.basename(name)

    lines = [f'  File "{shown(f.filename)}", line {f.lineno}, in {f.name}\n'
             f"    {f.line or ''}" for f in mine]
    return "\n".join(lines + [f"{type(exc).__name__}: {exc}"])


def _defined_here(namespace: dict[str, Any], module: str) -> list[str]:
    """Public classes and functions a namespace defines itself (not the ones it imported)."""
    names = []
    for name, value in list(namespace.items()):
        if name.startswith("_") or not callable(value):
            continue
        if getattr(value, "__module__", None) == module:
            names.append(name)
    return names


def _nearest_first(name: str, names: list[str]) -> list[str]:
    import difflib

    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    return close + [n for n in names if n not in close]


def _listed(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def missing_name(exc: BaseException, folder: str) -> tuple[str, str] | None:
    """(what is missing, a sentence) when a check asked the learner's module for a name it lacks.

    Only an AttributeError raised by the check's own code (the innermost frame is not
    the learner's) on the learner's module, one of its classes or their instances
    counts: an AttributeError inside the learner's code is their bug, told as such.
    """
    if not isinstance(exc, AttributeError) or sys.version_info < (3, 10):
        return None
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames or frames[-1].filename.startswith(folder + os.sep):
        return None
    name, owner = getattr(exc, "name", None), getattr(exc, "obj", None)
    module = sys.modules.get(fixtures.entry_name())
    if not isinstance(name, str) or module is None or owner is None:
        return None
    try:
        if owner is module:
            kind = "class" if name[:1].isupper() else "function"
            defined = _nearest_first(name, _defined_here(vars(module), module.__name__))
            has = f"it defines {_listed(defined)}" if defined else "it defines no class or function"
            return f"{kind} `{name}`", f"your module defines no {kind} `{name}`; {has}"
        cls = owner if isinstance(owner, type) else type(owner)
        if getattr(cls, "__module__", None) != module.__name__:
            return None
        methods = sorted({n for klass in cls.__mro__ if klass is not object
                          for n, v in vars(klass).items()
                          if not n.startswith("_") and callable(v)})
        has = f"it has {_listed(_nearest_first(name, methods))}" if methods else \
            "it has no public method"
        return (f"method `{cls.__name__}.{name}`",
                f"your class `{cls.__name__}` has no method `{name}`; {has}")
    except Exception:  # noqa: BLE001 - a learner object that resists inspection: tell it plainly
        return None


def describe_exception(exc: BaseException, folder: str,
                       longrepr: str = "") -> tuple[Status, Failure]:
    """(status, failure) for an exception that ended a check."""
    if isinstance(exc, ReportedFailure):
        failure = dataclasses.replace(exc.failure)
        failure.kind = failure.kind or "assertion"
        failure.message = _clip(str(failure.message or exc), MESSAGE_LIMIT)
        return Status.FAILED, failure
    if isinstance(exc, AssertionError):
        text = str(exc).strip() or "an assertion of the check failed"
        # pytest appends its introspection after the author's message; keep the message first
        message = text.split("\nassert ", 1)[0].strip()
        details = longrepr or text[len(message):].strip()
        return Status.FAILED, Failure(
            kind="assertion", message=_clip(message, MESSAGE_LIMIT),
            details=_clip(details, DETAILS_LIMIT) if details else None)
    where = _learner_location(exc.__traceback__, folder)
    name = type(exc).__name__
    text = f"{name}: {exc}" if str(exc) else name
    if isinstance(exc, SystemExit):
        text = f"your code called sys.exit({exc.code!r})"
    elif isinstance(exc, KeyboardInterrupt):
        text = "your code raised KeyboardInterrupt"
    elif isinstance(exc, RecursionError):
        text = "RecursionError: maximum recursion depth exceeded"
    elif isinstance(exc, BlockingIOError) or (
            isinstance(exc, RuntimeError) and "can't start new thread" in str(exc)):
        text += " (the limit on processes and threads for this exercise was reached)"
    elif isinstance(exc, MemoryError):
        text = "MemoryError: your code used more memory than this exercise allows"
    message = f"{text} (in {where})" if where else text
    return Status.ERROR, Failure(kind="exception", message=_clip(message, MESSAGE_LIMIT),
                                 details=_clip(_learner_traceback(exc, folder), DETAILS_LIMIT))


class Reporter:
    """A pytest plugin that runs only the wanted checks, in order, and reports each one."""

    def __init__(self, fd: int, wanted: list[str], folder: str) -> None:
        self.fd = fd
        self.wanted = wanted  # check ids in the order the parent wants them
        self.folder = folder
        self.by_function = {protocol.check_function(w): w for w in wanted}
        self.current: dict[str, Any] = {}
        self.collect_errors: list[str] = []
        #: names the learner's module lacks -> the check that said so first
        self.missing: dict[str, str] = {}

    def pytest_configure(self, config: Any) -> None:
        # pytest's assertion explanations ask for the terminal writer; the real terminal
        # reporter is off (its output would mix with the learner's), so give them a quiet one
        if config.pluginmanager.get_plugin("terminalreporter") is None:
            from _pytest._io import TerminalWriter

            quiet = type("QuietTerminal", (), {})()
            quiet._tw = TerminalWriter(file=open(os.devnull, "w"))  # noqa: SIM115
            config.pluginmanager.register(quiet, "terminalreporter")

    # -- collection --------------------------------------------------------------------

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.collect_errors.append(_clip(str(report.longrepr), DETAILS_LIMIT))

    def pytest_collection_modifyitems(self, session: Any, config: Any, items: list) -> None:
        order = {name: i for i, name in enumerate(self.by_function)}
        keep = [i for i in items if getattr(i, "originalname", i.name) in order]
        drop = [i for i in items if i not in keep]
        keep.sort(key=lambda i: order[getattr(i, "originalname", i.name)])
        items[:] = keep
        if drop:
            config.hook.pytest_deselected(items=drop)
        found = {getattr(i, "originalname", i.name) for i in keep}
        for function, check_id in self.by_function.items():
            if function not in found:
                why = self.collect_errors[0] if self.collect_errors else "its code was not found"
                self._send_result(check_id, Status.ERROR, Failure(
                    kind="exception",
                    message="the check could not be loaded (an error while importing it)",
                    details=why), 0.0)

    # -- running -------------------------------------------------------------------------

    def _check_id(self, item_or_nodeid: Any) -> str | None:
        name = item_or_nodeid.split("::")[-1].split("[")[0]
        return self.by_function.get(name)

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        check_id = self._check_id(nodeid)
        if check_id:
            self.current = {"id": check_id, "start": time.monotonic(),
                            "status": Status.PASSED, "failure": None}
            _explored()  # forget explorations outside any check
            SEND(self.fd, CheckStarted(check_id))
            channel.set_progress(_beacon(self.fd, check_id))

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: Any) -> Any:
        # Our own call of the check's function: a submission that replaces pytest's runtest
        # (so that no check body runs) leaves "ran" unset, and the check is not a pass.
        if self.current:
            self.current["called"] = True
        testfunction = pyfuncitem.obj
        names = pyfuncitem._fixtureinfo.argnames
        testfunction(**{name: pyfuncitem.funcargs[name] for name in names})
        if self.current:
            self.current["ran"] = True
        return True

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        """pytest stops the session on KeyboardInterrupt or pytest.exit: report the check."""
        if self.current:
            status, failure = describe_exception(excinfo.value, self.folder)
            self._send_result(self.current["id"], status, failure,
                              time.monotonic() - self.current["start"])
            self.current = {}

    def flush(self) -> None:
        """A check still open when pytest returned ended abnormally: say so."""
        if self.current:
            self._send_result(self.current["id"], Status.ERROR, Failure(
                kind="exception",
                message="your code stopped the test run in the middle of this check",
            ), time.monotonic() - self.current["start"])
            self.current = {}

    def pytest_runtest_makereport(self, item: Any, call: Any) -> None:
        if call.excinfo is None or not self.current:
            return
        if self.current["status"] is not Status.PASSED:
            return  # keep the first problem (a teardown error after a failure adds nothing)
        exc = call.excinfo.value
        if _explorer_lost_control(exc):
            # the explorer lost control of the program (an unmodelled blocking call, or a
            # failure that did not reproduce): a grading fault, never the learner's failure
            SEND(self.fd, InternalError(f"{type(exc).__name__}: {exc}"))
            self.current = {}
            return
        if call.excinfo.errisinstance(_skip_exception()):
            self.current["status"] = Status.SKIPPED
            self.current["failure"] = Failure(kind="skipped", message=str(exc) or "skipped")
            return
        missing = missing_name(exc, self.folder)
        if missing is not None:
            what, sentence = missing
            if what in self.missing:  # the first check that missed it explains this one
                self.current["status"] = Status.SKIPPED
                self.current["failure"] = Failure(
                    kind="skipped",
                    message=f"not run: it needs {what}, which your module does not define")
            else:
                self.missing[what] = self.current["id"]
                self.current["status"] = Status.FAILED
                self.current["failure"] = Failure(kind="missing-name", message=sentence)
            return
        # pytest's own representation needs its terminal reporter, which the harness turns off;
        # an assertion rewritten by pytest already carries its explanation in str(exc)
        status, failure = describe_exception(exc, self.folder)
        self.current["status"], self.current["failure"] = status, failure

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        check_id = self._check_id(nodeid)
        if check_id and self.current.get("id") == check_id:
            duration = time.monotonic() - self.current["start"]
            if self.current["status"] is Status.PASSED and not self.current.get("ran"):
                self.current["status"] = Status.ERROR
                self.current["failure"] = Failure(
                    kind="exception",
                    message="the check's code did not run to the end: something in your "
                            "code interfered with the test run")
            self._send_result(check_id, self.current["status"], self.current["failure"], duration)
            self.current = {}

    def _send_result(self, check_id: str, status: Status, failure: Failure | None,
                     duration: float) -> None:
        record = CheckEnded(check=check_id, status=status, failure=failure,
                            duration_s=round(duration, 4))
        notes = _explorer_notes()
        if notes and status is Status.PASSED:  # a pass whose verdict came from real threads
            record.note = _clip("\n".join(notes), MESSAGE_LIMIT)
        record.exploration = _explored()
        channel.set_progress(None)
        SEND(self.fd, record)


#: At most one progress record per this many seconds: the parent needs a pulse, not a log.
BEACON_SECONDS = 0.5


def _beacon(fd: int, check_id: str) -> Any:
    """What `channel.progress()` calls while `check_id` runs: a rate-limited progress record."""
    last = [time.monotonic()]

    def beacon() -> None:
        now = time.monotonic()
        if now - last[0] >= BEACON_SECONDS:
            last[0] = now
            SEND(fd, Progress(check_id))

    return beacon


def _explorer_notes() -> list[str]:
    """The explorer's notes on the check that just ended (and forget them)."""
    plugin = sys.modules.get("grader.explore.pytest_plugin")
    if plugin is None:
        return []
    notes = list(plugin.NOTES)
    plugin.NOTES.clear()
    return notes


def _explored() -> list[dict[str, Any]]:
    """What the interleaving explorer covered during the check (if it was imported at all)."""
    module = sys.modules.get("grader.explore.explorer")
    return module.take_explored() if module is not None else []


#: The explorer's own files: where an exception must have been raised to count as its fault.
EXPLORE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "explore")


def _explorer_lost_control(exc: BaseException) -> bool:
    """Whether `exc` is the explorer saying it lost control (a grading fault, not a failure).

    It must be the explorer's `InfrastructureError`, raised by the explorer's own code: a
    learner's exception that merely has `kind = "infrastructure"`, or that is an
    `InfrastructureError` raised from the learner's file, is the learner's exception.
    """
    runtime = sys.modules.get("grader.explore.runtime")
    if runtime is None or not isinstance(exc, runtime.InfrastructureError):
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and os.path.abspath(frames[-1].filename).startswith(EXPLORE_DIR + os.sep)


def _skip_exception() -> type:
    return pytest.skip.Exception


def _run_import_check(fd: int, folder: str, report: bool, others: list[str]) -> bool:
    """Import the learner's module, reported as the import check when `report`; else (a
    child beside the one that runs the import check, or one started after a crash) a failure
    is reported as the failure of each of the child's checks, `others`, so that the parent
    never starts the same child again for nothing."""
    if report:
        SEND(fd, CheckStarted(IMPORTS))
    start = time.monotonic()
    try:
        fixtures.import_submission()
    except SyntaxError as exc:
        failure = Failure(kind="import-error",
                          message=f"your module has a syntax error: {exc.msg} "
                                  f"({os.path.basename(exc.filename or '')}, line {exc.lineno})")
        ok = False
    except BaseException as exc:  # noqa: BLE001 - anything the learner raises at import
        _, failure = describe_exception(exc, folder)
        failure.kind = "import-error"
        failure.message = "importing your module failed: " + failure.message
        ok = False
    else:
        failure, ok = None, True
    if report:
        SEND(fd, CheckEnded(check=IMPORTS, status=Status.PASSED if ok else Status.FAILED,
                            failure=failure, duration_s=round(time.monotonic() - start, 4)))
    elif not ok:
        for check_id in others:
            SEND(fd, CheckStarted(check_id))
            SEND(fd, CheckEnded(check=check_id, status=Status.FAILED, failure=failure,
                                duration_s=round(time.monotonic() - start, 4)))
    return ok


def _coverage_record(cov: Any, folder: str) -> Coverage:
    cov.stop()
    data = cov.get_data()
    files: dict[str, Any] = {}
    for measured in data.measured_files():
        if not measured.startswith(folder + os.sep):
            continue
        try:
            _, statements, _, _, _ = cov.analysis2(measured)
        except Exception:  # noqa: BLE001 - a file coverage cannot analyse is just left out
            continue
        files[os.path.relpath(measured, folder)] = {
            "executed": sorted(data.lines(measured) or []),
            "statements": sorted(statements),
        }
    return Coverage(files=files)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The harness's command line, as `grader.protocol.harness_argv` writes it."""
    parser = argparse.ArgumentParser(prog=f"python -m {protocol.HARNESS_MODULE}")
    parser.add_argument("checks_dir")
    parser.add_argument("--only", required=True, help="comma-separated check ids, in order")
    parser.add_argument("--coverage", action="store_true")
    parser.add_argument("--plugin", action="append", default=[])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    fd = int(os.environ[protocol.ENV_CHANNEL_FD])
    channel.bind_key(os.environ.pop(protocol.ENV_CHANNEL_KEY, ""))
    folder = str(fixtures.submission_dir())
    wanted = [c for c in args.only.split(",") if c]
    SEND(fd, Hello(os.getpid()))

    cov = None
    if args.coverage:
        import coverage

        cov = coverage.Coverage(data_file=None, source=[folder], config_file=False)
        cov.start()

    try:
        fixtures.install_instrumentation()
    except Exception as exc:  # noqa: BLE001 - the grader's fault, never the learner's
        SEND(fd, InternalError(f"instrumenting the submission failed: {exc!r}"))
        return 3
    rest = [c for c in wanted if c != IMPORTS]
    if not _run_import_check(fd, folder, IMPORTS in wanted, rest):
        SEND(fd, Done())
        return 0
    if rest:
        plugins = ["grader.harness.fixtures", *args.plugin]
        pytest_args = [args.checks_dir, "-p", "no:terminal", "-p", "no:cacheprovider",
                       "-p", "no:stepwise", "-s", "-c", os.devnull,
                       "--rootdir", args.checks_dir, "--confcutdir", args.checks_dir,
                       "-W", "ignore::pytest.PytestAssertRewriteWarning"]
        for plugin in plugins:
            pytest_args += ["-p", plugin]
        reporter = Reporter(fd, rest, folder)
        pytest.main(pytest_args, plugins=[reporter])
        reporter.flush()
    if cov is not None:
        SEND(fd, _coverage_record(cov, folder))
    SEND(fd, Done())
    return 0


#: Environment variable forcing multiprocessing's start method in the child ("spawn" is
#: macOS's and Windows's default; tests force it on Linux to prove process exercises work).
START_METHOD_ENV = protocol.ENV_MP_START


def apply_start_method() -> None:
    """Force multiprocessing's start method when GRADER_MP_START names one."""
    method = os.environ.get(START_METHOD_ENV)
    if method:
        import multiprocessing

        multiprocessing.set_start_method(method, force=True)


def entry() -> None:
    """Run, then leave at once: learner threads, atexit hooks and __del__ cannot hold us."""
    try:
        apply_start_method()
        code = main()
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        code = 3
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a learner may have closed or replaced it
            pass
    os._exit(code)


__all__ = ["START_METHOD_ENV", "apply_start_method", "main", "entry", "describe_exception"]
