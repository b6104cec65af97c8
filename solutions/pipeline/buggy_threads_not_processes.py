# expect: fail process-per-stage
# why: runs each stage in a thread: no isolation, and the interpreter lock lets only one stage compute at a time
import queue
import threading


def run_pipeline(stages, items):
    qs = [queue.Queue() for _ in range(len(stages) + 1)]
    errors = []

    def run(i, fn):
        while True:
            item = qs[i].get()
            if item is StopIteration:
                qs[i + 1].put(StopIteration)
                return
            try:
                qs[i + 1].put(fn(item))
            except Exception as e:
                errors.append(f"stage {i} raised {type(e).__name__}: {e}")
                qs[i + 1].put(StopIteration)
                return

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(stages)]
    for t in threads:
        t.start()
    for item in items:
        qs[0].put(item)
    qs[0].put(StopIteration)
    out = []
    while (item := qs[-1].get()) is not StopIteration:
        out.append(item)
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    return out
