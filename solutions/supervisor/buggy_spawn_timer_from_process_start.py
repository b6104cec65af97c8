# expect: fail timeouts
# why: spawned workers, each timed from its Process.start(), not from its task's start: the interpreter's start-up eats into every task's timeout.
# spawn start method, a fresh Process per attempt. The worker stamps the moment its task starts
# into a shared double (CLOCK_MONOTONIC is one clock for every process), and sends its outcome
# on a one-way Pipe. The supervisor is a plain polling loop (every 5 ms): drain pipes, check exit
# codes, compare stamps with the clock, start attempts into free slots.
import multiprocessing as mp
import time

_ctx = mp.get_context("spawn")


def _worker(fn, args, stamp, tx):
    stamp.value = time.monotonic()
    try:
        out = ("ok", fn(*args))
    except Exception as e:
        out = ("error", f"{type(e).__name__}: {e}")
    tx.send(out)


class Attempt:
    def __init__(self, index, fn, args):
        self.index = index
        self.stamp = _ctx.Value("d", 0.0, lock=False)
        self.rx, tx = _ctx.Pipe(duplex=False)
        self.proc = _ctx.Process(target=_worker, args=(fn, args, self.stamp, tx), daemon=True)
        self.proc.start()
        tx.close()
        self.outcome = None
        self.began = time.monotonic()


def run_isolated(tasks, workers=2, timeout=5.0, retries=1):
    if workers <= 0 or timeout <= 0:
        raise ValueError("workers and timeout must be positive")
    tasks = list(tasks)
    outcomes = [None] * len(tasks)
    tries = [0] * len(tasks)
    queue = list(range(len(tasks)))
    running = []
    try:
        while queue or running:
            while queue and len(running) < workers:
                i = queue.pop(0)
                tries[i] += 1
                fn, args = tasks[i]
                running.append(Attempt(i, fn, tuple(args)))
            time.sleep(0.005)
            for a in list(running):
                result = None
                if a.rx.poll():
                    try:
                        result = a.rx.recv()
                    except EOFError:
                        result = None
                if result is None and a.proc.exitcode is not None:
                    if a.rx.poll():
                        try:
                            result = a.rx.recv()
                        except EOFError:
                            pass
                    if result is None:
                        code = a.proc.exitcode
                        result = ("crashed", f"signal {-code}" if code < 0 else f"exit code {code}")
                if result is None:
                    if time.monotonic() - a.began > timeout:
                        a.proc.kill()
                        result = ("timeout", None)
                if result is None:
                    continue
                a.proc.join()
                a.rx.close()
                running.remove(a)
                if result[0] in ("crashed", "timeout") and tries[a.index] <= retries:
                    queue.insert(0, a.index)
                else:
                    outcomes[a.index] = result
    finally:
        for a in running:
            a.proc.kill()
            a.proc.join()
    return outcomes
