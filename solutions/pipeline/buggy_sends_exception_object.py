# expect: fail stage-error
# why: sends the exception object itself down the pipe; an exception whose constructor cannot be fed its own str() fails to unpickle in the caller
"""run_pipeline: one process per stage, joined by pipes, results in input order."""

import threading
from multiprocessing import Event, Pipe, Process
from multiprocessing.connection import wait

END = ("end",)


def stage_main(index, fn, inbox, outbox, finished):
    failed = False
    while True:
        message = inbox.recv()
        if message[0] == "end":
            outbox.send(END)
            finished.set()
            return
        if message[0] == "error" or failed:
            if message[0] == "error":
                outbox.send(message)
            continue  # keep draining so upstream never blocks
        try:
            outbox.send(("item", fn(message[1])))
        except Exception as exc:
            failed = True
            outbox.send(("error", index, exc))  # the exception itself travels


def feed(items, conn):
    try:
        for item in items:
            conn.send(("item", item))
        conn.send(END)
    except (OSError, ValueError):
        pass  # the pipeline was torn down early


def run_pipeline(stages, items):
    if not stages:
        return list(items)
    pipes = [Pipe(duplex=False) for _ in range(len(stages) + 1)]  # (reader, writer)
    procs = []
    finished = [Event() for _ in stages]  # set by a stage that saw the end marker
    for i, fn in enumerate(stages):
        p = Process(target=stage_main, args=(i, fn, pipes[i][0], pipes[i + 1][1], finished[i]),
                    daemon=True)
        p.start()
        procs.append(p)
    for i in range(1, len(stages)):
        pipes[i][0].close()
        pipes[i][1].close()
    pipes[-1][1].close()
    pipes[0][0].close()
    feeder = threading.Thread(target=feed, args=(items, pipes[0][1]), daemon=True)
    feeder.start()
    reader = pipes[-1][0]
    results, error = [], None
    alive = {p.sentinel: (i, p) for i, p in enumerate(procs)}
    try:
        while error is None:
            ready = wait([reader, *alive])
            if reader in ready:
                try:
                    message = reader.recv()
                except EOFError:
                    message = None
                if message == END:
                    break
                if message is not None and message[0] == "item":
                    results.append(message[1])
                    continue
                if message is not None:
                    _, index, exc = message
                    error = f"stage {index} raised {type(exc).__name__}: {exc}"
                    break
            for sentinel in ready:
                if sentinel in alive:
                    index, p = alive.pop(sentinel)
                    p.join()
                    if p.exitcode != 0 or not finished[index].is_set():
                        how = (f"signal {-p.exitcode}" if p.exitcode < 0
                               else f"exit code {p.exitcode}")
                        error = f"stage {index} died ({how})"
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
            p.join()
        feeder.join()  # every reader is gone, so a blocked send fails and it ends
        reader.close()
        pipes[0][1].close()
    if error:
        raise RuntimeError(error)
    return results
