# expect: fail exceptions
# why: when the failing item comes after every item was handed out, it sends the stop markers and raises without joining the workers.
import multiprocessing as mp
from multiprocessing.connection import wait

STOP = ("stop",)


def _worker(fn, conn):
    while True:
        msg = conn.recv()
        if msg[0] == "stop":
            return
        _, index, item = msg
        try:
            conn.send(("ok", index, fn(item)))
        except Exception as exc:
            conn.send(("err", index, exc))


def pmap(fn, items, workers=2):
    items = list(items)
    if not items:
        return []
    count = max(1, min(workers, len(items)))
    pairs = [mp.Pipe() for _ in range(count)]
    procs = [mp.Process(target=_worker, args=(fn, child)) for _, child in pairs]
    for p in procs:
        p.start()
    for _, child in pairs:
        child.close()
    conns = [parent for parent, _ in pairs]
    results = [None] * len(items)
    next_index = 0
    busy = {}
    for conn in conns:
        if next_index < len(items):
            conn.send(("task", next_index, items[next_index]))
            busy[conn] = next_index
            next_index += 1
    done = 0
    while done < len(items):
        for conn in wait(list(busy)):
            kind, index, value = conn.recv()
            del busy[conn]
            if kind == "err":
                if next_index < len(items):
                    for p in procs:
                        p.terminate()
                    for p in procs:
                        p.join()
                else:
                    # everything is handed out: tell the workers to stop after their item
                    for c in conns:
                        try:
                            c.send(STOP)
                        except OSError:
                            pass
                raise value
            results[index] = value
            done += 1
            if next_index < len(items):
                conn.send(("task", next_index, items[next_index]))
                busy[conn] = next_index
                next_index += 1
    for conn in conns:
        conn.send(STOP)
    for p in procs:
        p.join()
    return results
