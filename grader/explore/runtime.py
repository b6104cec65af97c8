"""The scheduler core: real OS threads, one baton, and the choice at every scheduling point.

Owns: which managed thread runs, the enabled set (runnable threads plus blocked threads whose
wake-up condition holds), virtual time, deadlock and step-limit detection, the `always` check,
and aborting a run at a safe point. It knows nothing about locks or queues: a modelled
primitive blocks a thread by handing `block` a predicate, and the scheduler only asks whether
that predicate holds. It must not decide a verdict by wall-clock time: the only wall-clock
timeout here detects an infrastructure fault (a thread stuck in a call nobody models). The
happens-before race detector is `happens_before` (the scheduler only holds one per run), the
sentences a learner reads are `messages`, and file and line lookups are `places`.
"""

from __future__ import annotations

import _thread
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grader.explore import messages
from grader.explore.happens_before import HappensBefore
from grader.explore.messages import RunFailure
from grader.explore.places import LEARNER_FILES, is_tool_file, learner_location, short_path

# Every OS thread the explorer manages, by thread ident. Empty when no exploration runs, which
# is what makes the inserted hooks and the modelled primitives cheap no-ops then.
MANAGED: dict[int, ManagedThread] = {}

_get_ident = _thread.get_ident

SPIN_LIMIT = 200

NEW, RUNNABLE, BLOCKED, DONE = "new", "runnable", "blocked", "done"

class Abort(BaseException):
    """Unwinds a managed thread when its run ends early (a failure was found elsewhere)."""


class WouldBlock(BaseException):
    """An `always` check tried to block: it is skipped at that scheduling point."""


class InfrastructureError(RuntimeError):
    """The explorer could not control the program: never the learner's failure.

    The harness should report it as a grading fault (kind "infrastructure"), not charge it to
    the learner as an exception.
    """

    kind = "infrastructure"


def current() -> ManagedThread | None:
    """The managed thread running this code, or None outside any exploration."""
    if MANAGED:
        return MANAGED.get(_get_ident())
    return None


@dataclass
class Blocked:
    """What a blocked thread waits for: shown in a deadlock report."""

    label: str  # "Lock#1 (bank.py:8)", "notify on Condition#1 (buf.py:6)", "join T2"
    holder: Callable[[], str | None] = lambda: None
    location: tuple[str, int] = ("", 0)
    internal: bool = False  # the scenario's own join of its threads


class ManagedThread:
    """One OS thread under the scheduler's control."""

    def __init__(self, sched: Scheduler, index: int, name: str, daemon: bool) -> None:
        self.sched = sched
        self.index = index
        self.name = name
        self.daemon = daemon
        self.baton = _thread.allocate_lock()
        self.baton.acquire()
        self.state = RUNNABLE
        self.pred: Callable[[], bool] | None = None
        self.deadline: float | None = None
        self.timed_out = False
        self.blocked: Blocked | None = None
        self.vc: dict[int, int] = {index: 1}  # vector clock, for the race detector
        # True while this blocked thread is offered as "let its timed wait time out now".
        self.timeout_option = False
        self.frames: tuple[tuple[int, int], ...] | None = None  # check frames at its last point
        # Scheduling points since its last store to shared state: a thread that polls without
        # sleeping (`while self.busy: pass`) counts on, as no waiting thread does.
        self.quiet = 0

    def __repr__(self) -> str:
        return f"<ManagedThread {self.name} {self.state}>"


class Strategy:
    """Chooses the next thread at a choice point (two or more options).

    The options are the enabled threads, then blocked threads whose timed wait may time out
    now (`t.timeout_option`): picking one of those makes its timeout fire.
    """

    name = "strategy"

    def pick(self, enabled: list[ManagedThread], current: ManagedThread, choice: int
             ) -> ManagedThread:
        raise NotImplementedError


def runnable(options: list[ManagedThread]) -> list[ManagedThread]:
    """The options that are not timeouts (never empty at a choice point)."""
    return [t for t in options if not t.timeout_option]


ALL = "*"  # a footprint key: the step may touch anything (it conflicts with every step)
# A footprint key for code outside the learner's files (a check's thread body): it conflicts
# with every other such step, not with the learner's accesses to objects of its own.
CHECK_CODE = (-1, None)


class Scheduler:
    """One schedule: owns the baton hand-offs and the record of choices for one run."""

    def __init__(self, strategy: Strategy, *, max_steps: int, record: bool,
                 always: Callable[[], Any] | None, snapshots: dict[int, Any],
                 log_enabled: bool = False, detect_races: bool = False,
                 footprints: bool = False, fair_after: int | None = None) -> None:
        self.strategy = strategy
        self.max_steps = max_steps
        # Steps under the strategy before the run is retried fairly (see `over_budget`); then
        # `max_steps` more fair steps before it is a livelock.
        self.fair_after = max_steps if fair_after is None else min(fair_after, max_steps)
        self.record = record
        self.always = always
        self.snapshots = snapshots
        self.token = object()  # identifies this run to primitives made before it
        self.threads: list[ManagedThread] = []
        self.current: ManagedThread | None = None
        self.steps = 0
        self.choices = 0
        self.log: list[tuple[int, int]] = []  # (chosen, default) per choice point
        self.enabled_log: list[list[int]] | None = [] if log_enabled else None
        self.records: list[tuple[int, Any, tuple[str, int] | None]] = []
        self.now = 0.0
        self.failure: RunFailure | None = None
        self.aborting = False
        self.fair = False
        self.in_always = False
        self.storing = False  # the point is a store's: a value computed, not yet written
        self.labels: dict[int, str] = {}
        self.counts: dict[str, int] = {}
        self.finished = _thread.allocate_lock()
        self.finished.acquire()
        self.progress = 0
        # The happens-before race detector (advice, never a verdict), when asked for.
        self.hb: HappensBefore | None = HappensBefore(self.threads) if detect_races else None
        self.last_runner = -1
        self.run_length = 0  # consecutive scheduling points by the same thread
        # Footprints for partial-order reduction: per interval between choice points, the
        # (object number, attribute) keys it touched -> written; objects are numbered in the
        # order this run first touches them, so a shared prefix numbers them alike.
        self.footprint: dict[Any, bool] | None = {} if footprints else None
        self.footprints: list[dict[Any, bool]] = []
        self.bases: list[int] = []  # the object counter at each choice point
        self.numbers: dict[int, int] = {}
        self.keep: list[Any] = []  # numbered objects stay alive, so their ids stay theirs

    # -- threads ---------------------------------------------------------------------------
    def new_thread(self, name: str | None, daemon: bool) -> ManagedThread:
        index = len(self.threads)
        mt = ManagedThread(self, index, name or f"T{index}", daemon)
        self.threads.append(mt)
        return mt

    def bootstrap(self, mt: ManagedThread, body: Callable[[], Any]) -> None:
        """The body of a managed OS thread: park until first scheduled, run, hand on."""
        ident = _get_ident()
        MANAGED[ident] = mt
        mt.baton.acquire()
        try:
            if self.aborting:
                raise Abort
            if self.footprint is not None:
                self.footprint[CHECK_CODE] = True  # a thread's first step runs check code
            body()
        except Abort:
            pass
        except SystemExit:
            pass
        except WouldBlock:
            pass
        except BaseException as exc:  # the learner's exception: a failure of this run
            self.crashed(mt, exc)
        finally:
            MANAGED.pop(ident, None)
            self.finish(mt)

    def label(self, obj: object, kind: str, where: tuple[str, int] | None) -> str:
        key = id(obj)
        label = self.labels.get(key)
        if label is None:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            label = f"{kind}#{self.counts[kind]}"
            if where and where[0]:
                label += f" ({short_path(where[0])}:{where[1]})"
            self.labels[key] = label
        return label

    # -- the scheduling point ----------------------------------------------------------------
    def point(self, mt: ManagedThread, site: Any, keys: tuple[Any, ...] | None = None) -> None:
        """A place where another thread may run: `site` is an AST site id or an operation.

        `keys` are the objects the step after the point touches (for partial-order
        reduction); None means it may touch anything.
        """
        if self.in_always or self.aborting:
            return
        if self.footprint is not None:
            self.check_frames(mt)
        self.steps += 1
        self.progress += 1
        mt.quiet = 0 if self.storing else mt.quiet + 1
        if mt.index == self.last_runner:
            self.run_length += 1
        else:
            self.last_runner, self.run_length = mt.index, 1
        if self.steps > self.fair_after:
            self.over_budget(mt)
        if self.always is not None:
            self.check_always(mt)
        self.schedule(mt)
        if self.footprint is not None:
            if keys is None:
                self.footprint[ALL] = True
            else:
                for obj in keys:
                    self.touch(obj, None, True)
        if self.record:  # after the choice: the operation happens now, as this thread resumes
            where = learner_location(2) if isinstance(site, str) else None
            self.records.append((mt.index, site, where))

    def touch(self, obj: Any, attr: str | None, write: bool) -> None:
        """The running step reads (or writes) `obj.attr` (attr None: a primitive's state)."""
        fp = self.footprint
        if fp is None:
            return
        number = self.numbers.get(id(obj))
        if number is None:
            number = self.numbers[id(obj)] = len(self.numbers)
            self.keep.append(obj)
        key = (number, attr)
        if write or key not in fp:
            fp[key] = write or fp.get(key, False)

    def check_frames(self, mt: ManagedThread) -> None:
        """Code outside the learner's files (a check's thread body) ran since `mt`'s last
        point: its accesses are not seen, so the step counts as touching the check's state
        (every such step conflicts with every other)."""
        frames = []
        frame = sys._getframe(2)
        # The walk ends at the thread's `bootstrap`: the frames below it (a carrier's loop, or
        # the check that runs a body alone) stay the same for the whole run, so they cannot
        # tell two points apart.
        while frame is not None and frame.f_code is not _BOOTSTRAP_CODE:
            name = frame.f_code.co_filename
            if not (name in LEARNER_FILES or is_tool_file(name)):
                frames.append((id(frame), frame.f_lasti))
            frame = frame.f_back
        sig = tuple(frames)
        if mt.frames is not None and sig != mt.frames:
            assert self.footprint is not None
            self.footprint[CHECK_CODE] = True
        mt.frames = sig

    def schedule(self, me: ManagedThread) -> None:
        enabled = self.enabled()
        if not enabled:
            enabled = self.advance_time()
            if not enabled:
                self.deadlocked()
                raise Abort
        options = enabled + self.timeout_options(enabled)
        if len(options) == 1:
            nxt = options[0]
            if nxt is not me and self.footprint is not None:
                self.footprint[ALL] = True  # a forced switch: the interval is not one step
        else:
            nxt = self.choose(options, me)
        if nxt is not me:
            self.switch(me, nxt)

    def timeout_options(self, enabled: list[ManagedThread]) -> list[ManagedThread]:
        """Blocked threads whose timed wait may time out now, while others could still run.

        Only the earliest deadline may fire first, so virtual time never runs backwards; a
        thread being slow is what lets a timeout fire before its holder or notifier acts.
        """
        if self.fair:
            return []
        waiting = [t for t in self.threads
                   if t.state == BLOCKED and t.deadline is not None and t not in enabled]
        if not waiting:
            return []
        first = min(t.deadline for t in waiting)  # type: ignore[type-var]
        out = [t for t in waiting if t.deadline == first]
        for t in out:
            t.timeout_option = True
        return out

    def fire_timeout(self, t: ManagedThread) -> None:
        """The strategy let `t`'s timed wait time out: the clock moves to its deadline."""
        assert t.deadline is not None
        self.now = max(self.now, t.deadline)
        for other in self.threads:
            if other.state == BLOCKED and other.deadline is not None and (
                    other.deadline <= self.now):
                other.timed_out = True

    def choose(self, options: list[ManagedThread], me: ManagedThread) -> ManagedThread:
        self.choices += 1
        enabled = runnable(options)
        default = me if me in enabled else enabled[0]
        if self.footprint is not None:
            if self.choices > 1:
                self.footprints.append(self.footprint)
            self.bases.append(len(self.numbers))
            self.footprint = {}
        if self.fair:
            nxt = self.round_robin(enabled, me)
        elif self.run_length >= SPIN_LIMIT and me in enabled:
            # A thread that ran this long without a switch is likely spinning on a flag: let
            # the next thread run (a fixed rule, so it replays; not a strategy's decision).
            nxt = default = self.round_robin(enabled, me)
            self.run_length = 0
        else:
            nxt = self.strategy.pick(options, me, self.choices)
            if nxt not in options:
                nxt = default
        for t in options:
            t.timeout_option, was = False, t.timeout_option
            if t is nxt and was:
                self.fire_timeout(t)
        if self.footprint is not None and nxt.state == BLOCKED:
            self.footprint[ALL] = True  # a wake-up (or a timeout) changes what others see
        self.log.append((nxt.index, default.index))
        if self.enabled_log is not None:
            self.enabled_log.append([t.index for t in options])
        return nxt

    @staticmethod
    def round_robin(enabled: list[ManagedThread], me: ManagedThread) -> ManagedThread:
        for t in enabled:
            if t.index > me.index:
                return t
        return enabled[0]

    def enabled(self) -> list[ManagedThread]:
        out = []
        for t in self.threads:
            if t.state == RUNNABLE:
                out.append(t)
            elif t.state == BLOCKED and (
                    t.timed_out or (t.pred is not None and t.pred())
                    or (t.deadline is not None and t.deadline <= self.now)):
                out.append(t)
        return out

    def advance_time(self) -> list[ManagedThread]:
        """Nobody can run: jump virtual time to the earliest timed wait and wake its owners."""
        deadlines = [t.deadline for t in self.threads
                     if t.state == BLOCKED and t.deadline is not None]
        if not deadlines:
            return []
        self.now = max(self.now, min(deadlines))
        for t in self.threads:
            if t.state == BLOCKED and t.deadline is not None and t.deadline <= self.now:
                t.timed_out = True
        return self.enabled()

    def switch(self, me: ManagedThread, nxt: ManagedThread) -> None:
        self.current = nxt
        nxt.baton.release()
        me.baton.acquire()
        if self.aborting:
            raise Abort

    def block(self, mt: ManagedThread, pred: Callable[[], bool] | None,
              deadline: float | None, blocked: Blocked) -> bool:
        """Disable `mt` until `pred()` holds (or virtual time passes `deadline`).

        Returns True when it woke because the deadline passed.
        """
        if self.in_always:
            raise WouldBlock
        if self.aborting:
            raise Abort
        if blocked.location == ("", 0):
            blocked.location = learner_location(2)
        mt.state, mt.pred, mt.deadline, mt.timed_out, mt.blocked = (
            BLOCKED, pred, deadline, False, blocked)
        try:
            self.schedule(mt)
            timed_out = mt.timed_out or (deadline is not None and deadline <= self.now)
            return timed_out and not (pred is not None and pred())
        finally:
            mt.state, mt.pred, mt.deadline, mt.timed_out, mt.blocked = (
                RUNNABLE, None, None, False, None)

    def finish(self, mt: ManagedThread) -> None:
        """`mt` ended: hand the baton to the next thread, or end the run."""
        mt.state = DONE
        if self.aborting or mt.index == 0:
            self.abort_next()
            return
        enabled = self.enabled() or self.advance_time()
        if not enabled:
            self.deadlocked()
            self.abort_next()
            return
        options = enabled + self.timeout_options(enabled)
        if len(options) == 1:
            nxt = options[0]
            if self.footprint is not None:
                self.footprint[ALL] = True
        else:
            nxt = self.choose(options, mt)
        self.current = nxt
        nxt.baton.release()

    def abort_next(self) -> None:
        """Unwind the remaining threads one at a time; the last one ends the run."""
        self.aborting = True
        if self.abandoned:
            return  # `abandon` released every parked thread already
        for t in self.threads:
            if t.state != DONE:
                self.current = t
                t.baton.release()
                return
        self.current = None
        self.finished.release()

    abandoned = False

    def abandon(self) -> None:
        """Control is lost (the running thread blocks outside the model): unwind every parked
        thread at once, so that locks they hold outside the model are released as they go."""
        self.aborting = True
        self.abandoned = True
        for t in self.threads:
            if t.state != DONE and t is not self.current:
                try:
                    t.baton.release()
                except RuntimeError:  # not parked (already on its way out)
                    pass

    # -- failures ----------------------------------------------------------------------------
    def fail(self, failure: RunFailure) -> None:
        if self.failure is None and not self.aborting:
            self.failure = failure
        self.aborting = True

    def crashed(self, mt: ManagedThread, exc: BaseException) -> None:
        if self.aborting:
            return
        self.fail(messages.exception(mt.name, exc))

    def deadlocked(self) -> None:
        self.fail(messages.deadlock(
            (t.name, t.blocked) for t in self.threads
            if t.state == BLOCKED and t.blocked is not None and not t.blocked.internal))

    def over_budget(self, mt: ManagedThread) -> None:
        if not self.fair:
            # A busy-wait loop may just need its partner to run: retry under a fair scheduler
            # before calling it a livelock, so code that terminates under fairness passes.
            self.fair = True
            return
        if self.steps > self.fair_after + self.max_steps:
            file, line = learner_location(3)
            self.fail(messages.livelock(self.max_steps, mt.name, file, line))
            raise Abort

    def check_always(self, mt: ManagedThread) -> None:
        assert self.always is not None
        ident = _get_ident()
        self.in_always = True
        MANAGED[ident] = self.always_thread
        try:
            result = self.always()
        except WouldBlock:
            return
        except AssertionError as exc:
            text = str(exc)
            cut = text.find("\nassert ")
            self.fail_always(mt, (text[:cut] if cut >= 0 else text).strip()
                             or "an assertion failed")
        except Exception as exc:
            self.fail_always(mt, f"it raised {type(exc).__name__}: {exc}")
        else:
            if result is False:
                self.fail_always(mt, "it returned False")
        finally:
            MANAGED[ident] = mt
            self.in_always = False

    @property
    def always_thread(self) -> ManagedThread:
        pseudo = getattr(self, "_always_thread", None)
        if pseudo is None:
            pseudo = ManagedThread(self, -1, "always-check", True)
            self._always_thread = pseudo
        return pseudo

    def fail_always(self, mt: ManagedThread, what: str) -> None:
        self.fail(messages.invariant(mt.name, what))
        raise Abort


_BOOTSTRAP_CODE = Scheduler.bootstrap.__code__  # where `check_frames` stops walking
