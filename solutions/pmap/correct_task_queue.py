# expect: pass
# why: spawn-context workers pulling (index, item) from a shared task Queue; results keyed by index
import multiprocessing as mp
import queue


def worker(fn, todo, done):
    while True:
        job = todo.get()
        if job is None:
            return
        i, x = job
        try:
            done.put((i, "ok", fn(x)))
        except Exception as e:
            done.put((i, "err", e))


def pmap(fn, items, workers=2):
    ctx = mp.get_context("spawn")
    todo, done = ctx.Queue(), ctx.Queue()
    for job in enumerate(items):
        todo.put(job)
    for _ in range(workers):
        todo.put(None)
    procs = [ctx.Process(target=worker, args=(fn, todo, done)) for _ in range(workers)]
    for p in procs:
        p.start()
    out = {}
    error = None
    try:
        while len(out) < len(items):
            try:
                i, tag, val = done.get(timeout=0.1)
            except queue.Empty:
                if all(p.exitcode is not None for p in procs) and done.empty():
                    raise RuntimeError("workers died before finishing") from None
                continue
            if tag == "err":
                error = val
                break
            out[i] = val
    finally:
        for p in procs:
            if error is not None or p.exitcode not in (None, 0):
                p.terminate()
            p.join()
        for q in (todo, done):
            q.cancel_join_thread()
            q.close()
    if error is not None:
        raise error
    return [out[i] for i in range(len(items))]
