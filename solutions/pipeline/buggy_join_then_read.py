# expect: fail large-items
# why: sends all input, joins every stage, and only then reads the output: a stage blocks on a full pipe and nobody reads
from multiprocessing import Pipe, Process


def stage(i, fn, inbox, outbox):
    while True:
        kind, value = inbox.recv()
        if kind == "end":
            outbox.send(("end", None))
            return
        try:
            outbox.send(("item", fn(value)))
        except Exception as e:
            outbox.send(("error", f"stage {i} raised {type(e).__name__}: {e}"))
            outbox.send(("end", None))
            return


def run_pipeline(stages, items):
    if not stages:
        return list(items)
    pipes = [Pipe() for _ in range(len(stages) + 1)]
    procs = [Process(target=stage, args=(i, fn, pipes[i][1], pipes[i + 1][0]))
             for i, fn in enumerate(stages)]
    for p in procs:
        p.start()
    for item in items:
        pipes[0][0].send(("item", item))
    pipes[0][0].send(("end", None))
    for p in procs:
        p.join()
    results = []
    while True:
        kind, value = pipes[-1][1].recv()
        if kind == "end":
            break
        if kind == "error":
            raise RuntimeError(value)
        results.append(value)
    return results
