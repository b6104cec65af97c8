# expect: fail children-reaped
# why: with no items it returns [] right after starting the stages, which are never stopped or joined.
import multiprocessing as mp
import threading
import time

END = ("end",)


def _stage(index, fn, inq, outq, finished):
    failed = False
    while True:
        msg = inq.get()
        if msg[0] == "end":
            outq.put(END)
            finished[index] = 1
            return
        if msg[0] == "error":
            outq.put(msg)
            failed = True
            continue
        if failed:
            continue
        try:
            outq.put(("item", fn(msg[1])))
        except Exception as exc:
            failed = True
            outq.put(("error", index, type(exc).__name__, str(exc)))


def _build(stages):
    queues = [mp.SimpleQueue() for _ in range(len(stages) + 1)]
    finished = mp.Array("b", len(stages), lock=False)
    procs = [mp.Process(target=_stage, args=(i, fn, queues[i], queues[i + 1], finished),
                        daemon=True)
             for i, fn in enumerate(stages)]
    for p in procs:
        p.start()
    return queues, procs, finished


def run_pipeline(stages, items):
    if not stages:
        return list(items)
    queues, procs, finished = _build(stages)
    if not items:
        return []
    outcome = {}
    results = []

    def read():
        while True:
            msg = queues[-1].get()
            if msg[0] == "item":
                results.append(msg[1])
            else:
                outcome["msg"] = msg
                return

    def feed():
        for item in items:
            queues[0].put(("item", item))
        queues[0].put(END)

    reader = threading.Thread(target=read, daemon=True)
    feeder = threading.Thread(target=feed, daemon=True)
    reader.start()
    feeder.start()
    error = None
    try:
        while reader.is_alive():
            for i, p in enumerate(procs):
                if p.exitcode is not None and not finished[i]:
                    error = f"stage {i} died (exitcode {p.exitcode})"
                    break
            if error:
                break
            reader.join(0.02)
        if error is None:
            msg = outcome["msg"]
            if msg[0] == "error":
                error = f"stage {msg[1]} raised {msg[2]}: {msg[3]}"
    finally:
        for p in procs:
            if p.is_alive() and error is not None:
                p.kill()
            p.join()
    if error:
        raise RuntimeError(error)
    return results
