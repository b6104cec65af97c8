# expect: fail results
# why: joins the workers before taking their results off the Queue; fine for small results, a deadlock once a result is larger than the pipe under the Queue
import multiprocessing as mp
import queue


def worker(fn, todo, results, stop):
    while not stop.is_set():
        task = todo.get()
        if task is None:
            return
        i, item = task
        try:
            results.put((i, "ok", fn(item)))
        except Exception as e:
            results.put((i, "err", e))
            stop.set()
            return


def pmap(fn, items, workers=2):
    if not items:
        return []
    todo = mp.Queue()
    for pair in enumerate(items):
        todo.put(pair)
    for _ in range(workers):
        todo.put(None)
    results = mp.Queue()
    stop = mp.Event()
    procs = [mp.Process(target=worker, args=(fn, todo, results, stop)) for _ in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()  # wait for everyone to finish...
    out = [None] * len(items)
    error = None
    while True:  # ...then collect
        try:
            i, kind, value = results.get(timeout=0.1)
        except queue.Empty:
            break
        if kind == "err":
            error = value
        else:
            out[i] = value
    if error is not None:
        raise error
    return out
