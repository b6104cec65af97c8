"""The modelled primitives against the behaviours CPython's Lib/test/lock_tests.py checks.

Each test runs a tiny scenario under the explorer (many schedules), so a property must hold
in every interleaving, not just the one the OS happened to pick. Primitives come from the shims
a learner's `import threading` / `queue` / `time` are mapped to.
"""

from __future__ import annotations

import time as real_time

import pytest

from grader.explore import explore
from grader.explore.shims import queue, threading, time


class Box:
    """A bag of attributes for scenario state."""

    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.log = []


def ok(outcome):
    assert outcome.ok, outcome.failure and (outcome.failure.message, outcome.failure.details)
    return outcome


def in_thread(body, **kw):
    """Run `body(state)` alone under the explorer; return the state."""
    holder = {}

    def setup():
        holder["s"] = Box(**kw)
        return holder["s"]

    ok(explore(setup, [body], runs=3))
    return holder["s"]


# -- Lock ----------------------------------------------------------------------------------
def test_lock_acquire_release_and_locked():
    def body(s):
        lock = threading.Lock()
        s.log.append(lock.locked())
        assert lock.acquire()
        s.log.append(lock.locked())
        s.log.append(lock.acquire(False))
        lock.release()
        s.log.append(lock.locked())

    assert in_thread(body).log == [False, True, False, False]


def test_lock_release_of_unlocked_lock_raises_runtime_error():
    def body(s):
        with pytest.raises(RuntimeError):
            threading.Lock().release()
        s.log.append("raised")

    assert in_thread(body).log == ["raised"]


def test_lock_acquire_timeout_expires_on_virtual_time():
    def setup():
        s = Box(lock=threading.Lock())
        s.lock.acquire()
        return s

    def body(s):
        start = time.monotonic()
        s.log.append(s.lock.acquire(timeout=5))
        s.log.append(time.monotonic() - start)

    holder = {}

    def remember():
        holder["s"] = setup()
        return holder["s"]

    t0 = real_time.monotonic()
    ok(explore(remember, [body], runs=3))
    assert holder["s"].log == [False, 5.0]
    assert real_time.monotonic() - t0 < 5


def test_lock_may_be_released_by_another_thread():
    def setup():
        s = Box(lock=threading.Lock(), done=threading.Event())
        s.lock.acquire()
        return s

    ok(explore(setup, [lambda s: s.lock.release(), lambda s: s.lock.acquire()], runs=50))


def test_contended_lock_is_won_by_either_thread():
    winners = set()

    def setup():
        return Box(lock=threading.Lock())

    def grab(name):
        def body(s):
            with s.lock:
                s.log.append(name)
        return body

    def record(s):
        winners.add(s.log[0])

    ok(explore(setup, [grab("a"), grab("b")], invariant=record, runs=40))
    assert winners == {"a", "b"}


# -- RLock ---------------------------------------------------------------------------------
def test_rlock_is_reentrant_and_owned():
    def body(s):
        lock = threading.RLock()
        lock.acquire()
        lock.acquire()
        lock.release()
        s.log.append(lock._is_owned())
        lock.release()
        s.log.append(lock._is_owned())
        with pytest.raises(RuntimeError):
            lock.release()

    assert in_thread(body).log == [True, False]


def test_rlock_release_by_non_owner_raises():
    def setup():
        return Box(lock=threading.RLock(), held=threading.Event())

    def owner(s):
        s.lock.acquire()
        s.held.set()

    def other(s):
        s.held.wait()
        try:
            s.lock.release()
        except RuntimeError:
            s.log.append("refused")

    ok(explore(setup, [owner, other], invariant=lambda s: s.log == ["refused"], runs=30))


# -- Condition -----------------------------------------------------------------------------
def test_notify_wakes_the_longest_waiter_first_in_every_schedule():
    def setup():
        lock = threading.Lock()
        return Box(cond=threading.Condition(lock), moved=threading.Condition(lock),
                   waiting=[], woken=[])

    def waiter(name):
        def body(s):
            with s.cond:
                s.waiting.append(name)
                s.moved.notify()
                s.cond.wait()
                s.woken.append(name)
                s.moved.notify()
        return body

    def notifier(s):
        with s.cond:
            s.moved.wait_for(lambda: len(s.waiting) == 3)
        for i in range(1, 4):
            with s.cond:
                s.cond.notify()
                s.moved.wait_for(lambda i=i: len(s.woken) == i)

    def fifo(s):
        assert s.woken == s.waiting, (s.waiting, s.woken)

    ok(explore(setup, [waiter("a"), waiter("b"), waiter("c"), notifier], invariant=fifo,
               runs=200))


def test_wait_without_notify_never_returns_spuriously():
    def setup():
        return Box(cond=threading.Condition())

    def body(s):
        with s.cond:
            s.cond.wait()

    outcome = explore(setup, [body], runs=5)
    assert outcome.failure.kind == "deadlock"
    assert outcome.failure.deadlock[0]["waits_for"].startswith("notify on Condition#1")


def test_wait_with_timeout_returns_false_and_wait_for_returns_the_predicate():
    def body(s):
        cond = threading.Condition(threading.Lock())
        with cond:
            s.log.append(cond.wait(0.5))
            s.log.append(cond.wait_for(lambda: False, timeout=0.5))
            s.log.append(cond.wait_for(lambda: 7))

    assert in_thread(body).log == [False, False, 7]


def test_notify_and_wait_without_the_lock_raise_runtime_error():
    def body(s):
        cond = threading.Condition()
        for op in (cond.notify, cond.notify_all, cond.wait):
            with pytest.raises(RuntimeError):
                op()
        s.log.append("ok")

    assert in_thread(body).log == ["ok"]


def test_notify_all_wakes_every_waiter():
    def setup():
        return Box(cond=threading.Condition(), go=False, n=0)

    def waiter(s):
        with s.cond:
            while not s.go:
                s.cond.wait()
            s.n += 1

    def setter(s):
        with s.cond:
            s.go = True
            s.cond.notify_all()

    ok(explore(setup, [waiter, waiter, setter], invariant=lambda s: s.n == 2, runs=100))


# -- Semaphore, BoundedSemaphore ---------------------------------------------------------------
def test_semaphore_counts_and_blocks():
    def setup():
        return Box(sem=threading.Semaphore(2), inside=0, most=0, lock=threading.Lock())

    def worker(s):
        with s.sem:
            with s.lock:
                s.inside += 1
                s.most = max(s.most, s.inside)
            with s.lock:
                s.inside -= 1

    ok(explore(setup, [worker] * 3, invariant=lambda s: s.most <= 2, runs=100))


def test_semaphore_rejects_negative_values_and_nonblocking_acquire_fails_at_zero():
    def body(s):
        with pytest.raises(ValueError):
            threading.Semaphore(-1)
        sem = threading.Semaphore(0)
        s.log.append(sem.acquire(False))
        s.log.append(sem.acquire(timeout=0.2))
        sem.release(2)
        s.log.append(sem.acquire(False) and sem.acquire(False))

    assert in_thread(body).log == [False, False, True]


def test_bounded_semaphore_refuses_to_be_released_too_often():
    def body(s):
        sem = threading.BoundedSemaphore(1)
        sem.acquire()
        sem.release()
        with pytest.raises(ValueError):
            sem.release()
        s.log.append("ok")

    assert in_thread(body).log == ["ok"]


# -- Event -----------------------------------------------------------------------------------
def test_event_wait_returns_after_set_and_times_out_when_never_set():
    def setup():
        return Box(ev=threading.Event(), never=threading.Event())

    def waiter(s):
        s.log.append(s.ev.wait())
        s.log.append(s.never.wait(1.0))

    ok(explore(setup, [waiter, lambda s: s.ev.set()],
               invariant=lambda s: s.log == [True, False], runs=50))


def test_event_clear_and_is_set():
    def body(s):
        ev = threading.Event()
        ev.set()
        s.log.append(ev.is_set())
        ev.clear()
        s.log.append(ev.is_set())

    assert in_thread(body).log == [True, False]


# -- Barrier ---------------------------------------------------------------------------------
def test_barrier_releases_all_parties_with_distinct_indexes_and_runs_the_action_once():
    def setup():
        s = Box(actions=[])
        s.barrier = threading.Barrier(3, action=lambda: s.actions.append(1))
        s.indexes = []
        return s

    def party(s):
        s.indexes.append(s.barrier.wait())

    def check(s):
        assert sorted(s.indexes) == [0, 1, 2] and s.actions == [1]

    ok(explore(setup, [party] * 3, invariant=check, runs=100))


def test_barrier_abort_breaks_waiters_and_timeout_breaks_the_barrier():
    def setup():
        return Box(barrier=threading.Barrier(2))

    def waiter(s):
        try:
            s.barrier.wait()
        except threading.BrokenBarrierError:
            s.log.append("broken")

    ok(explore(setup, [waiter, lambda s: s.barrier.abort()],
               invariant=lambda s: s.log == ["broken"] and s.barrier.broken, runs=50))

    def body(s):
        b = threading.Barrier(2)
        with pytest.raises(threading.BrokenBarrierError):
            b.wait(timeout=0.5)
        s.log.append(b.broken)

    assert in_thread(body).log == [True]


def test_barrier_with_too_many_parties_deadlocks():
    outcome = explore(lambda: Box(b=threading.Barrier(3)), [lambda s: s.b.wait()] * 2, runs=5)
    assert outcome.failure.kind == "deadlock"


# -- queue -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,expected", [
    ("Queue", [1, 2, 3]), ("LifoQueue", [3, 2, 1]), ("PriorityQueue", [1, 2, 3]),
    ("SimpleQueue", [1, 2, 3]),
])
def test_queue_kinds_keep_their_order(cls, expected):
    def body(s):
        q = getattr(queue, cls)()
        for item in (1, 3, 2) if cls == "PriorityQueue" else (1, 2, 3):
            q.put(item)
        s.log.extend(q.get() for _ in range(3))
        with pytest.raises(queue.Empty):
            q.get(timeout=1)
        with pytest.raises(queue.Empty):
            q.get_nowait()

    assert in_thread(body).log == expected


def test_queue_hands_items_between_threads_and_join_waits_for_task_done():
    def setup():
        return Box(q=queue.Queue(maxsize=1), got=[])

    def producer(s):
        for i in range(3):
            s.q.put(i)
        s.q.join()
        s.log.append("joined")

    def consumer(s):
        for _ in range(3):
            s.got.append(s.q.get())
            s.q.task_done()

    ok(explore(setup, [producer, consumer],
               invariant=lambda s: s.got == [0, 1, 2] and s.log == ["joined"], runs=100))


def test_get_from_a_queue_nobody_fills_is_a_deadlock_naming_the_queue():
    outcome = explore(lambda: Box(q=queue.Queue()), [lambda s: s.q.get()], runs=3)
    assert outcome.failure.kind == "deadlock"
    assert "an item in Queue" in outcome.failure.deadlock[0]["waits_for"]


def test_full_queue_put_with_timeout_raises_full():
    def body(s):
        q = queue.Queue(1)
        q.put(1)
        with pytest.raises(queue.Full):
            q.put(2, timeout=0.5)
        s.log.append(q.qsize())

    assert in_thread(body).log == [1]


# -- time ------------------------------------------------------------------------------------
def test_sleep_is_virtual():
    def body(s):
        start, wall = time.monotonic(), time.time()
        time.sleep(3600)
        s.log.append(time.monotonic() - start)
        s.log.append(round(time.time() - wall))

    t0 = real_time.monotonic()
    assert in_thread(body).log == [3600.0, 3600]
    assert real_time.monotonic() - t0 < 5


def test_a_thread_polling_with_sleep_zero_waits_while_it_polls():
    """`time.sleep(0)` is a timed wait (of a microsecond), not only a scheduling point: a
    thread that polls a flag with it is blocked between polls, so code that waits until every
    other thread waits (as a check does before it moves on) sees the poller wait, in every
    schedule; with sleep(0) as a bare point that wait never came (a livelock)."""
    from grader.explore import runtime
    from grader.explore.sync import clock

    def setup():
        return Box(go=False, seen=[])

    def poller(s):
        while not s.go:
            time.sleep(0)
        s.seen.append(time.monotonic() - clock.VIRTUAL_MONOTONIC)

    def starter(s):
        me = runtime.current()

        def others_wait():
            return all(t is me or t.state in (runtime.BLOCKED, runtime.DONE)
                       for t in me.sched.threads)

        me.sched.block(me, others_wait, None, runtime.Blocked("until the poller waits"))
        s.go = True

    def polled_briefly(s):
        # one poll ran, and each costs a microsecond of virtual time
        assert len(s.seen) == 1 and s.seen[0] < 0.001, s.seen

    ok(explore(setup, [poller, starter], invariant=polled_briefly, runs=60, seed=1))


def test_sleep_orders_threads_by_virtual_time():
    def setup():
        return Box()

    def sleeper(name, secs):
        def run(s):
            start = time.monotonic()
            time.sleep(secs)
            s.log.append((name, start, start + secs, time.monotonic()))
        return run

    def consistent(s):
        # A sleep may end late (the thread is slow to run again), never early, and the clock
        # never runs backwards.
        (_, _, due_a, woke_a), (_, _, due_b, woke_b) = s.log
        return woke_a >= due_a and woke_b >= due_b and woke_a <= woke_b

    outcome = ok(explore(setup, [sleeper("late", 2), sleeper("early", 1)], invariant=consistent,
                         runs=50))
    assert outcome.coverage is not None and outcome.coverage.complete


# -- Thread ----------------------------------------------------------------------------------
def test_threads_started_by_learner_code_are_managed_and_joined():
    def body(s):
        results = []

        class Worker(threading.Thread):
            def run(self):
                results.append(threading.current_thread() is self)

        workers = [Worker() for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        s.log.append((results, [w.is_alive() for w in workers]))

    ok(explore(lambda: Box(), [body], runs=20,
               invariant=lambda s: s.log == [([True, True], [False, False])]))


def test_join_with_timeout_returns_while_the_thread_is_still_blocked():
    def body(s):
        ev = threading.Event()
        t = threading.Thread(target=ev.wait, daemon=True)
        t.start()
        t.join(timeout=1.0)
        s.log.append(t.is_alive())

    ok(explore(lambda: Box(), [body], invariant=lambda s: s.log == [True], runs=20))


def test_a_blocked_daemon_thread_at_the_end_is_not_a_deadlock():
    def body(s):
        threading.Thread(target=threading.Event().wait, daemon=True).start()

    ok(explore(lambda: Box(), [body], runs=10))


def test_a_blocked_non_daemon_thread_at_the_end_is_a_deadlock():
    def body(s):
        threading.Thread(target=threading.Event().wait).start()

    outcome = explore(lambda: Box(), [body], runs=10)
    assert outcome.failure.kind == "deadlock"


def test_exception_in_a_learner_thread_fails_the_run():
    def body(s):
        t = threading.Thread(target=lambda: 1 / 0)
        t.start()
        t.join()

    outcome = explore(lambda: Box(), [body], runs=10)
    assert outcome.failure.kind == "exception"
    assert "ZeroDivisionError" in outcome.failure.message


def test_thread_local_and_get_ident_are_per_thread():
    def setup():
        return Box(local=threading.local(), names=[])

    def body(s):
        s.local.x = threading.get_ident()
        s.local.name = threading.current_thread().name
        time.sleep(0)
        assert s.local.x == threading.get_ident()
        s.names.append(s.local.name)

    ok(explore(setup, [body] * 3, invariant=lambda s: len(set(s.names)) == 3, runs=50))


def test_timer_fires_on_virtual_time_unless_cancelled():
    def body(s):
        fired = []
        t = threading.Timer(10, lambda: fired.append(time.monotonic()))
        t.start()
        t.join()
        c = threading.Timer(10, lambda: fired.append("no"))
        c.start()
        c.cancel()
        c.join()
        s.log.append(len(fired))

    assert in_thread(body).log == [1]


# -- outside an exploration the shims are the real thing -------------------------------------
def test_shim_primitives_work_on_real_threads_outside_an_exploration():
    import threading as real

    sem = threading.Semaphore(0)
    cond = threading.Condition()
    q = queue.Queue()
    results = []

    def worker():
        sem.acquire()
        with cond:
            cond.notify()
        results.append(q.get(timeout=5))

    t = threading.Thread(target=worker)
    t.start()
    assert isinstance(t, real.Thread)
    with cond:
        sem.release()
        assert cond.wait(timeout=5)
    q.put("item")
    t.join(5)
    assert results == ["item"] and not t.is_alive()


# -- more of lock_tests.py's behaviours ---------------------------------------------------------
def test_lock_argument_errors_match_cpython():
    def body(s):
        lock = threading.Lock()
        with pytest.raises(ValueError):
            lock.acquire(False, 1)
        with pytest.raises(ValueError):
            lock.acquire(timeout=-100)
        s.log.append("ok")

    assert in_thread(body).log == ["ok"]


def test_rlock_acquire_times_out_while_another_thread_holds_it():
    def setup():
        return Box(lock=threading.RLock(), held=threading.Event(), done=threading.Event())

    def holder(s):
        with s.lock:
            s.held.set()
            s.done.wait()

    def other(s):
        s.held.wait()
        s.log.append(s.lock.acquire(timeout=1))
        s.done.set()

    ok(explore(setup, [holder, other], invariant=lambda s: s.log == [False], runs=50))


def test_semaphore_release_n_wakes_n_waiters():
    def setup():
        return Box(sem=threading.Semaphore(0), through=0, lock=threading.Lock())

    def waiter(s):
        s.sem.acquire()
        with s.lock:
            s.through += 1

    ok(explore(setup, [waiter, waiter, waiter, lambda s: s.sem.release(3)],
               invariant=lambda s: s.through == 3, runs=100))


def test_wait_for_returns_once_the_predicate_holds_after_a_notify():
    def setup():
        return Box(cond=threading.Condition(), state=0)

    def waiter(s):
        with s.cond:
            s.log.append(s.cond.wait_for(lambda: s.state == 2))

    def bumper(s):
        for _ in range(2):
            with s.cond:
                s.state += 1
                s.cond.notify_all()

    ok(explore(setup, [waiter, bumper], invariant=lambda s: s.log == [True], runs=100))


def test_barrier_reset_breaks_current_waiters_and_can_be_reused():
    def setup():
        return Box(barrier=threading.Barrier(2))

    def waiter(s):
        try:
            s.barrier.wait()
            s.log.append("passed")
        except threading.BrokenBarrierError:
            s.log.append("broken")

    def resetter(s):
        s.barrier.reset()

    seen = []

    def check(s):
        seen.append(list(s.log))
        assert s.log == ["broken"], s.log

    outcome = explore(setup, [waiter, resetter], invariant=check, runs=50)
    # Reset while the waiter waits: it gets BrokenBarrierError. Reset before it arrives: it
    # waits for a second party forever, which the explorer reports as a deadlock.
    assert ["broken"] in seen
    assert outcome.ok or outcome.failure.kind == "deadlock"


def test_event_set_wakes_every_waiter():
    def setup():
        return Box(ev=threading.Event())

    def waiter(s):
        s.log.append(s.ev.wait())

    ok(explore(setup, [waiter, waiter, waiter, lambda s: s.ev.set()],
               invariant=lambda s: s.log == [True] * 3, runs=100))


# -- concurrent.futures ----------------------------------------------------------------------
def _futures():
    from grader.explore.shims import module

    return module("concurrent.futures")


def test_future_result_waits_for_set_result_in_every_interleaving():
    futures = _futures()

    def setup():
        return Box(f=futures.Future())

    def waiter(s):
        s.log.append(s.f.result())

    def setter(s):
        assert s.f.set_running_or_notify_cancel()
        s.f.set_result("value")

    outcome = ok(explore(setup, [waiter, waiter, setter],
                         invariant=lambda s: s.log == ["value", "value"], runs=100))
    assert outcome.runs > 1


def test_future_exceptions_are_the_real_classes_and_wait_and_as_completed_are_modelled():
    import concurrent.futures as real

    futures = _futures()
    assert futures.CancelledError is real.CancelledError
    assert futures.InvalidStateError is real.InvalidStateError
    assert futures.ThreadPoolExecutor is real.ThreadPoolExecutor  # executors stay real

    def setup():
        return Box(fs=[futures.Future(), futures.Future()])

    def finisher(s):
        s.fs[1].set_exception(KeyError("k"))
        s.fs[0].cancel()
        # as an executor does: only then does wait() count a cancelled future as done
        assert not s.fs[0].set_running_or_notify_cancel()

    def watcher(s):
        done, pending = futures.wait(s.fs)
        s.log.append((len(done), len(pending)))
        s.log.append(sorted(type(f.exception()).__name__ if not f.cancelled() else "cancelled"
                            for f in futures.as_completed(s.fs)))
        with pytest.raises(real.CancelledError):
            s.fs[0].result()

    ok(explore(setup, [finisher, watcher],
               invariant=lambda s: s.log == [(2, 0), ["KeyError", "cancelled"]], runs=60))


def test_a_future_nobody_sets_is_a_deadlock_naming_the_future():
    futures = _futures()
    outcome = explore(lambda: Box(f=futures.Future()), [lambda s: s.f.result()], runs=3)
    assert outcome.failure.kind == "deadlock"
    assert "the result of a Future" in outcome.failure.deadlock[0]["waits_for"]


def test_future_result_with_a_timeout_times_out_on_the_virtual_clock():
    futures = _futures()

    def body(s):
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            futures.Future().result(timeout=30)
        s.log.append(time.monotonic() - start >= 30)

    started = real_time.monotonic()
    assert in_thread(body).log == [True]
    assert real_time.monotonic() - started < 10  # virtual time: no 30 s of waiting
