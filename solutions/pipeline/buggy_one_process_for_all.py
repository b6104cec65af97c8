# expect: fail process-per-stage
# why: a single child process applies every stage in turn: a pipeline of one process, not one per stage
from multiprocessing import Pipe, Process


def worker(stages, items, conn):
    out = []
    for item in items:
        for i, fn in enumerate(stages):
            try:
                item = fn(item)
            except Exception as e:
                conn.send(("error", f"stage {i} raised {type(e).__name__}: {e}"))
                return
        out.append(item)
    conn.send(("ok", out))


def run_pipeline(stages, items):
    if not stages:
        return list(items)
    parent, child = Pipe()
    p = Process(target=worker, args=(stages, items, child))
    p.start()
    try:
        kind, value = parent.recv()
    except EOFError:
        p.join()
        raise RuntimeError("stage died") from None
    p.join()
    if kind == "error":
        raise RuntimeError(value)
    return value
