# expect: fail nothing-left
# why: joins a crashed or timed-out worker only when its task has no retries left, so with retries every earlier attempt stays a zombie
"""run_isolated: every task in a worker process; crashes and timeouts contained and retried."""

import time
from multiprocessing import Pipe, Process
from multiprocessing.connection import wait


def attempt(fn, args, conn):
    conn.send(("started", None))
    try:
        outcome = ("ok", fn(*args))
    except Exception as exc:
        outcome = ("error", f"{type(exc).__name__}: {exc}")
    conn.send(outcome)
    conn.close()


def death(exitcode):
    if exitcode < 0:
        return ("crashed", f"signal {-exitcode}")
    return ("crashed", f"exit code {exitcode}")


def run_isolated(tasks, workers=2, timeout=5.0, retries=1):
    if workers <= 0 or timeout <= 0:
        raise ValueError("workers and timeout must be positive")
    outcomes = [None] * len(tasks)
    tries = [0] * len(tasks)
    todo = list(range(len(tasks)))
    running = {}  # conn -> [index, process, started_at or None, result or None]
    try:
        while todo or running:
            while todo and len(running) < workers:
                index = todo.pop(0)
                fn, args = tasks[index]
                reader, writer = Pipe(duplex=False)
                proc = Process(target=attempt, args=(fn, tuple(args), writer), daemon=True)
                proc.start()
                writer.close()
                tries[index] += 1
                running[reader] = [index, proc, None, None]
            now = time.monotonic()
            deadlines = [s[2] + timeout for s in running.values() if s[2] is not None]
            wait_for = max(0.0, min(deadlines) - now) if deadlines else None
            ready = wait(list(running) + [s[1].sentinel for s in running.values()], wait_for)
            for conn, state in list(running.items()):
                index, proc, started, result = state
                dead = proc.sentinel in ready or not proc.is_alive()  # before draining the pipe
                while result is None and conn.poll():
                    try:
                        kind, value = conn.recv()
                    except EOFError:
                        break
                    if kind == "started":
                        state[2] = started = time.monotonic()
                    else:
                        state[3] = result = (kind, value)
                finished = result is not None
                timed_out = (not finished and started is not None
                             and time.monotonic() - started > timeout)
                if not (finished or dead or timed_out):
                    continue
                if finished:
                    proc.join()
                    outcome = result
                elif timed_out and not dead:
                    proc.kill()
                    outcome = ("timeout", None)
                else:
                    outcome = death(proc.exitcode if proc.exitcode is not None else proc.join() or proc.exitcode)
                if outcome[0] in ("crashed", "timeout") and tries[index] > retries:
                    proc.join()  # the last attempt: tidy up
                del running[conn]
                conn.close()
                outcomes[index] = outcome
                if outcome[0] in ("crashed", "timeout") and tries[index] <= retries:
                    todo.insert(0, index)
    finally:
        for conn, (_, proc, _, _) in running.items():
            proc.kill()
            proc.join()
            conn.close()
    return outcomes
