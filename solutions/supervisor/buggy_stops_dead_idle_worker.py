# expect: fail killed-from-outside
# why: reused workers; at the end it tells every idle worker to stop, and a worker that was killed while idle makes that send raise BrokenPipeError out of run_isolated
import multiprocessing as mp
import time
from multiprocessing.connection import wait

ctx = mp.get_context("forkserver")


def worker_loop(conn):
    while True:
        job = conn.recv()
        if job is None:
            return
        fn, args = job
        conn.send("started")
        try:
            conn.send(("ok", fn(*args)))
        except Exception as e:
            conn.send(("error", "%s: %s" % (type(e).__name__, e)))


class Worker:
    def __init__(self):
        self.conn, theirs = ctx.Pipe()
        self.proc = ctx.Process(target=worker_loop, args=(theirs,))
        self.proc.start()
        theirs.close()
        self.task = None
        self.since = None

    def give(self, index, fn, args):
        self.task, self.since = index, None
        self.conn.send((fn, args))

    def stop(self, kill=False):
        if kill:
            self.proc.kill()
        else:
            self.conn.send(None)  # tell it to finish
        self.proc.join()
        self.conn.close()


def run_isolated(tasks, workers=2, timeout=5.0, retries=1):
    if workers <= 0 or timeout <= 0:
        raise ValueError("workers and timeout must be positive")
    out = [None] * len(tasks)
    tries = [0] * len(tasks)
    waiting = list(range(len(tasks)))
    pool = []
    try:
        while waiting or any(w.task is not None for w in pool):
            for w in pool:
                if w.task is None and waiting:
                    i = waiting.pop(0)
                    tries[i] += 1
                    w.give(i, *tasks[i])
            while waiting and len(pool) < workers:
                w = Worker()
                i = waiting.pop(0)
                tries[i] += 1
                w.give(i, *tasks[i])
                pool.append(w)
            busy = [w for w in pool if w.task is not None]
            limits = [w.since + timeout - time.monotonic() for w in busy if w.since]
            wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                 max(0.0, min(limits)) if limits else None)
            for w in busy:
                outcome = None
                dead = not w.proc.is_alive()
                while outcome is None and w.conn.poll():
                    try:
                        msg = w.conn.recv()
                    except EOFError:
                        break
                    if msg == "started":
                        w.since = time.monotonic()
                    else:
                        outcome = msg
                if outcome is None and dead:
                    w.proc.join()
                    code = w.proc.exitcode
                    outcome = ("crashed", f"signal {-code}" if code < 0 else f"exit code {code}")
                elif outcome is None and w.since and time.monotonic() - w.since > timeout:
                    outcome = ("timeout", None)
                if outcome is None:
                    continue
                i = w.task
                w.task = None
                out[i] = outcome
                if outcome[0] in ("crashed", "timeout"):
                    w.stop(kill=True)
                    pool.remove(w)
                    if tries[i] <= retries:
                        waiting.insert(0, i)
    finally:
        for w in pool:
            w.stop(kill=w.task is not None)
    return out
