# expect: fail any-items
# why: the end of the stream is the string "__END__": an item equal to it ends the stream early.
import multiprocessing as mp
import os
from multiprocessing.connection import wait

END = "__END__"
COLLATERAL = 101


class StageFailed:
    def __init__(self, index, name, text):
        self.index, self.name, self.text = index, name, text


def _stage(index, fn, inbox, outbox, finished):
    try:
        _loop(index, fn, inbox, outbox, finished)
    except (EOFError, OSError):
        os._exit(COLLATERAL)  # a neighbour died: not this stage's fault


def _loop(index, fn, inbox, outbox, finished):
    failed = False
    while True:
        item = inbox.recv()
        if isinstance(item, str) and item == END:
            outbox.send(END)
            finished.set()
            return
        if isinstance(item, StageFailed):
            outbox.send(item)
            failed = True
            continue
        if failed:
            continue
        try:
            outbox.send(fn(item))
        except Exception as exc:
            failed = True
            outbox.send(StageFailed(index, type(exc).__name__, str(exc)))


def _feed(items, conn):
    try:
        for item in items:
            conn.send(item)
        conn.send(END)
    except OSError:
        pass


def run_pipeline(stages, items):
    if not stages:
        return list(items)
    n = len(stages)
    links = [mp.Pipe(duplex=False) for _ in range(n + 1)]
    finished = [mp.Event() for _ in range(n)]
    procs = [mp.Process(target=_stage, args=(i, fn, links[i][0], links[i + 1][1], finished[i]))
             for i, fn in enumerate(stages)]
    feeder = mp.Process(target=_feed, args=(list(items), links[0][1]))
    for p in procs:
        p.start()
    feeder.start()
    for reader, writer in links:
        writer.close()
    for reader, _ in links[:-1]:
        reader.close()
    out = links[-1][0]
    watching = {p.sentinel: i for i, p in enumerate(procs)}
    results, error = [], None
    watching_out = True
    try:
        while True:
            ready = wait([out, *watching] if watching_out else list(watching))
            if out in ready:
                try:
                    got = out.recv()
                except EOFError:
                    watching_out = False
                else:
                    if isinstance(got, str) and got == END:
                        break
                    if isinstance(got, StageFailed):
                        error = f"stage {got.index} raised {got.name}: {got.text}"
                        break
                    results.append(got)
            dead = [watching[s] for s in ready if s in watching]
            for i in dead:
                procs[i].join()
            culprits = sorted((procs[i].exitcode == COLLATERAL, i) for i in dead
                              if not finished[i].is_set())
            if culprits:
                i = culprits[0][1]
                error = f"stage {i} died (exit code {procs[i].exitcode})"
            for i in dead:
                del watching[procs[i].sentinel]
            if error:
                break
    finally:
        for p in [*procs, feeder]:
            if p.is_alive():
                p.kill()
            p.join()
        out.close()
    if error:
        raise RuntimeError(error)
    return results
