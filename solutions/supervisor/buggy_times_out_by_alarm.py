# expect: fail timeouts
# why: the supervisor never kills an overrunning worker; each worker times its own task out with setitimer and a SIGALRM handler that raises inside the task, so a task that catches exceptions runs on and run_isolated never returns.
import multiprocessing as mp
import time
from collections import deque
from multiprocessing.connection import wait


class _TimeUp(Exception):
    pass


def _alarm(signum, frame):
    raise _TimeUp()


def _attempt(fn, args, conn, timeout):
    import signal
    signal.signal(signal.SIGALRM, _alarm)
    conn.send(("started",))
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        value = fn(*args)
    except _TimeUp:
        conn.send(("timeout", None))
        return
    except SystemExit:
        raise
    except BaseException as e:
        conn.send(("error", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ok", value))


def run_isolated(tasks, workers=2, timeout=5.0, retries=1):
    if workers <= 0:
        raise ValueError("workers must be positive")
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    tasks = list(tasks)
    ctx = mp.get_context("spawn")
    outcomes = [None] * len(tasks)
    todo = deque((i, 0) for i in range(len(tasks)))
    running = {}  # conn -> [i, attempt, proc, deadline]
    try:
        while todo or running:
            while todo and len(running) < workers:
                i, attempt = todo.popleft()
                fn, args = tasks[i]
                mine, theirs = ctx.Pipe(duplex=False)
                p = ctx.Process(target=_attempt, args=(fn, tuple(args), theirs, timeout))
                p.start()
                theirs.close()
                running[mine] = [i, attempt, p, None]
            now = time.monotonic()
            deadlines = [r[3] for r in running.values() if r[3] is not None]
            wait_for = max(0.0, min(deadlines) - now) if deadlines else None
            ready = wait(list(running) + [r[2].sentinel for r in running.values()], wait_for)
            finished = []
            for conn, rec in list(running.items()):
                i, attempt, p, deadline = rec
                answer = None
                dead = p.sentinel in ready
                try:
                    while conn.poll():
                        msg = conn.recv()
                        if msg[0] == "started":
                            pass
                        else:
                            answer = msg
                            break
                except (EOFError, OSError):
                    dead = True
                if answer is not None:
                    outcomes[i] = (answer[0], answer[1])
                    p.join()
                    finished.append(conn)
                    if answer[0] == "timeout" and attempt < retries:
                        todo.append((i, attempt + 1))
                    continue
                if dead or p.exitcode is not None:
                    p.join()
                    code = p.exitcode
                    outcomes[i] = ("crashed", f"signal {-code}" if code < 0 else f"exit code {code}")
                elif rec[3] is not None and time.monotonic() >= rec[3]:
                    p.kill()
                    p.join()
                    outcomes[i] = ("timeout", None)
                else:
                    continue
                finished.append(conn)
                if attempt < retries:
                    todo.append((i, attempt + 1))
            for conn in finished:
                del running[conn]
                conn.close()
        return outcomes
    finally:
        for conn, (_, _, p, _) in running.items():
            if p.exitcode is None:
                p.kill()
            p.join()
            conn.close()
