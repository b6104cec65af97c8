# expect: pass
# why: One supervising thread per worker slot. Each slot thread takes the next task index from a shared queue.Queue and runs every attempt of that task itself, each in a fresh fork-context Process with a one-way Pipe: the worker says "started", then sends its outcome. The slot waits on the pipe and the process sentinel with a deadline that starts at "started"; an overrun is killed. A retry runs in the same slot, so never more than `workers` tasks run at once.
import multiprocessing as mp
import queue
import threading
import time
from multiprocessing.connection import wait

_ctx = mp.get_context("fork")


def _attempt(fn, args, tx):
    tx.send(("started",))
    try:
        value = fn(*args)
    except Exception as e:
        tx.send(("error", f"{type(e).__name__}: {e}"))
    else:
        tx.send(("ok", value))


def _run_once(fn, args, timeout):
    rx, tx = _ctx.Pipe(duplex=False)
    p = _ctx.Process(target=_attempt, args=(fn, args, tx), daemon=True)
    p.start()
    tx.close()
    try:
        deadline = None
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                p.kill()
                return ("timeout", None)
            ready = wait([rx, p.sentinel], timeout=remaining)
            if not ready:
                continue
            if rx in ready or rx.poll():
                try:
                    msg = rx.recv()
                except EOFError:
                    msg = None
                if msg is not None:
                    if msg[0] == "started":
                        deadline = time.monotonic() + timeout
                        continue
                    return msg
            # the worker ended without an outcome
            p.join()
            code = p.exitcode
            # multiprocessing's Process.start() in another slot thread may reap our child
            # first (its _cleanup polls every child): then the status arrives a moment later
            while code is None:
                time.sleep(0.001)
                code = p.exitcode
            return ("crashed", f"signal {-code}" if code < 0 else f"exit code {code}")
    finally:
        if p.is_alive():
            p.kill()
        p.join()
        rx.close()


def run_isolated(tasks, workers=2, timeout=5.0, retries=1):
    if workers <= 0:
        raise ValueError("workers must be positive")
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    tasks = list(tasks)
    outcomes = [None] * len(tasks)
    todo = queue.Queue()
    for i in range(len(tasks)):
        todo.put(i)
    failures = []

    def slot():
        try:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                fn, args = tasks[i]
                for attempt in range(retries + 1):
                    outcome = _run_once(fn, tuple(args), timeout)
                    if outcome[0] not in ("crashed", "timeout"):
                        break
                outcomes[i] = outcome
        except BaseException as e:  # never lose a slot's trouble
            failures.append(e)

    threads = [threading.Thread(target=slot, daemon=True) for _ in range(min(workers, len(tasks)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return outcomes
