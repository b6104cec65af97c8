# expect: fail exceptions
# why: the worker sends the exception's type name and args, and the caller rebuilds it from builtins: an exception class of the program's own comes back as RuntimeError.
import builtins
import multiprocessing as mp
import queue


def _worker(fn, tasks, results):
    while True:
        task = tasks.get()
        if task is None:
            return
        index, item = task
        try:
            results.put((index, True, fn(item)))
        except Exception as exc:
            results.put((index, False, (type(exc).__name__, exc.args)))
            return


def _rebuild(name, args):
    cls = getattr(builtins, name, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        return RuntimeError(*args)
    return cls(*args)


def pmap(fn, items, workers=2):
    items = list(items)
    if not items:
        return []
    tasks, results = mp.Queue(), mp.Queue()
    for task in enumerate(items):
        tasks.put(task)
    count = max(1, min(workers, len(items)))
    for _ in range(count):
        tasks.put(None)
    procs = [mp.Process(target=_worker, args=(fn, tasks, results)) for _ in range(count)]
    for p in procs:
        p.start()
    out = [None] * len(items)
    got = 0
    try:
        while got < len(items):
            try:
                index, ok, value = results.get(timeout=0.1)
            except queue.Empty:
                if all(p.exitcode is not None for p in procs) and results.empty():
                    raise RuntimeError("every worker ended before all results were in")
                continue
            if not ok:
                raise _rebuild(*value)
            out[index] = value
            got += 1
    except BaseException:
        for p in procs:
            p.kill()
        for p in procs:
            p.join()
        raise
    for p in procs:
        p.join()
    return out
