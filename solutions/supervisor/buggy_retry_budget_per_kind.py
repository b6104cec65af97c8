# expect: fail retries
# why: retries are counted separately for crashes and for timeouts: a task whose attempts alternate between crashing and timing out runs 1 + 2*retries times.
import multiprocessing as mp
import time
from multiprocessing.connection import wait




def _describe(exc):
    return f"{type(exc).__name__}: {exc}"


def _attempt(fn, args, conn):
    pass
    conn.send(("started",))
    try:
        value = fn(*args)
    except Exception as exc:
        conn.send(("error", _describe(exc)))
    else:
        conn.send(("ok", value))
    conn.close()


def _crash_text(code):
    return f"signal {-code}" if code < 0 else f"exit code {code}"


def run_isolated(tasks, workers=2, timeout=5.0, retries=1):
    if workers <= 0 or timeout <= 0:
        raise ValueError("workers and timeout must be positive")
    tasks = list(tasks)
    outcomes = [None] * len(tasks)
    used = [{"crashed": 0, "timeout": 0} for _ in tasks]  
    queue = list(range(len(tasks)))
    running = {}  # sentinel -> dict(task, proc, conn, started, outcome)
    try:
        while queue or running:
            while queue and len(running) < workers:
                i = queue.pop(0)
                here, there = mp.Pipe(duplex=False)
                fn, args = tasks[i]
                proc = mp.Process(target=_attempt, args=(fn, tuple(args), there), daemon=True)
                proc.start()
                there.close()
                running[proc.sentinel] = {"task": i, "proc": proc, "conn": here,
                                          "started": None, "outcome": None}
            now = time.monotonic()
            deadlines = [r["started"] + timeout for r in running.values() if r["started"]]
            wait_s = max(0.0, min(deadlines) - now) if deadlines else None
            objs = []
            for s, r in running.items():
                objs.append(s)
                if not r["conn"].closed:
                    objs.append(r["conn"])
            ready = wait(objs, timeout=wait_s)
            for s, r in list(running.items()):
                conn = r["conn"]
                if conn in ready and not conn.closed:
                    try:
                        while conn.poll():
                            msg = conn.recv()
                            if msg[0] == "started":
                                r["started"] = time.monotonic()
                            else:
                                r["outcome"] = msg
                    except (EOFError, OSError):
                        conn.close()
            now = time.monotonic()
            for s, r in list(running.items()):
                i, proc = r["task"], r["proc"]
                finished = None
                if r["outcome"] is not None:
                    proc.join()
                    finished = r["outcome"]
                elif s in ready or proc.exitcode is not None:
                    proc.join()
                    conn = r["conn"]
                    try:
                        while not conn.closed and conn.poll():
                            msg = conn.recv()
                            if msg[0] != "started":
                                r["outcome"] = msg
                    except (EOFError, OSError):
                        pass
                    finished = r["outcome"] or ("crashed", _crash_text(proc.exitcode))
                elif r["started"] is not None and now - r["started"] >= timeout:
                    proc.kill()
                    proc.join()
                    finished = ("timeout", None)
                if finished is None:
                    continue
                del running[s]
                r["conn"].close()
                kind = finished[0]
                if kind in ("crashed", "timeout") and used[i][kind] < retries:
                    used[i][kind] += 1
                    queue.insert(0, i)
                else:
                    outcomes[i] = tuple(finished)
            for s, r in list(running.items()):
                pass
    finally:
        for r in running.values():
            r["proc"].kill()
            r["proc"].join()
    return outcomes
