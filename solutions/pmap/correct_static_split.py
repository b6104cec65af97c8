# expect: pass
# why: fork start method; each worker gets its share (items i, i+w, i+2w, ...) as Process arguments and puts (index, ok, value) on one shared multiprocessing.Queue; the caller takes exactly len(items) answers off the Queue (so no worker blocks on a full pipe) before joining.
import multiprocessing as mp
import queue


def _work(fn, share, answers):
    for index, item in share:
        try:
            answers.put((index, True, fn(item)))
        except Exception as exc:
            answers.put((index, False, exc))
            return


def pmap(fn, items, workers=2):
    items = list(items)
    if not items:
        return []
    ctx = mp.get_context("fork")
    w = max(1, min(workers, len(items)))
    answers = ctx.Queue()
    indexed = list(enumerate(items))
    procs = [ctx.Process(target=_work, args=(fn, indexed[k::w], answers)) for k in range(w)]
    for p in procs:
        p.start()
    out = [None] * len(items)
    ok = False
    try:
        got = 0
        while got < len(items):
            try:
                index, fine, value = answers.get(timeout=0.2)
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in procs):
                    raise RuntimeError("a worker process died")
                continue
            if not fine:
                raise value
            out[index] = value
            got += 1
        ok = True
    finally:
        if not ok:
            for p in procs:
                p.kill()
        for p in procs:
            p.join()
        answers.close()
        answers.join_thread()
    return out
