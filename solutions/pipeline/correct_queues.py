# expect: pass
# why: multiprocessing Queues between stages; the caller polls results and watches each stage's exit code
import multiprocessing as mp
import queue
import threading

STOP = "__stop__"


def work(i, fn, inq, outq, finished):
    while True:
        tag, x = inq.get()
        if tag in (STOP, "fail"):
            outq.put((tag, x))
            break
        try:
            outq.put(("ok", fn(x)))
        except Exception as e:
            outq.put(("fail", (i, e.__class__.__name__, str(e))))
            break
    finished.set()  # exit code 0 without this means the stage quit early


def run_pipeline(stages, items):
    if len(stages) == 0:
        return items[:]
    ctx = mp.get_context("spawn")
    qs = [ctx.Queue() for _ in range(len(stages) + 1)]
    finished = [ctx.Event() for _ in stages]
    ps = [ctx.Process(target=work, args=(i, f, qs[i], qs[i + 1], finished[i]))
          for i, f in enumerate(stages)]
    for p in ps:
        p.start()

    def feed():
        for x in items:
            qs[0].put(("ok", x))
        qs[0].put((STOP, None))

    threading.Thread(target=feed, daemon=True).start()
    out = []
    err = None
    while err is None:
        try:
            tag, x = qs[-1].get(timeout=0.05)
        except queue.Empty:
            for i, p in enumerate(ps):
                if p.exitcode not in (None, 0):
                    err = f"stage {i} died with exit code {p.exitcode}"
                    break
                if p.exitcode == 0 and not finished[i].is_set():
                    err = f"stage {i} exited (code 0) before the end of the items"
                    break
            continue
        if tag == STOP:
            break
        if tag == "fail":
            err = "stage {} failed: {}: {}".format(*x)
            break
        out.append(x)
    for p in ps:
        if err:
            p.kill()
        p.join()
    for q in qs:
        q.cancel_join_thread()
        q.close()
    if err:
        raise RuntimeError(err)
    return out
