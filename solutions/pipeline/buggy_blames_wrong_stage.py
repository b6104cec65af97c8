# expect: fail stage-crash
# why: names the wrong stage when a stage ends with os._exit(0) mid-stream: it blames the first stage with a non-zero exit code (the downstream stage that hit EOF, or the upstream one that hit EPIPE), e.g. "stage 2 died (exit code 1)" when stage 1 died
import multiprocessing
mp = multiprocessing.get_context("spawn")  # children hold only their own pipe ends
import threading
import time
from multiprocessing.connection import wait

END = ("end",)


def stage(index, fn, rx, tx):
    while True:
        msg = rx.recv()           # EOFError if upstream vanished: the process exits with 1
        if msg[0] == "end":
            tx.send(END)
            return
        if msg[0] == "error":
            tx.send(msg)
            return
        try:
            tx.send(("item", fn(msg[1])))
        except Exception as e:
            tx.send(("error", index, type(e).__name__, str(e)))
            return


def run_pipeline(stages, items):
    if not stages:
        return list(items)
    pipes = [mp.Pipe(duplex=False) for _ in range(len(stages) + 1)]
    procs = [mp.Process(target=stage, args=(i, fn, pipes[i][0], pipes[i + 1][1]))
             for i, fn in enumerate(stages)]
    for p in procs:
        p.start()
    for i, (r, w) in enumerate(pipes):
        if i:
            w.close()
        if i < len(stages):
            r.close()
    src, sink = pipes[0][1], pipes[-1][0]

    def feed():
        try:
            for x in items:
                src.send(("item", x))
            src.send(END)
        except OSError:
            pass

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    out, err, broken = [], None, False
    live = {p.sentinel: p for p in procs}
    try:
        while err is None and not broken:
            ready = wait([sink, *live])
            if sink in ready:
                try:
                    msg = sink.recv()
                except EOFError:
                    broken = True
                    break
                if msg[0] == "item":
                    out.append(msg[1])
                    continue
                if msg[0] == "end":
                    break
                err = f"stage {msg[1]} raised {msg[2]}: {msg[3]}"
                break
            for s in ready:
                if s in live:
                    p = live.pop(s)
                    p.join()
                    if p.exitcode != 0:
                        broken = True
        if broken:
            end = time.monotonic() + 3
            for p in procs:
                p.join(max(0, end - time.monotonic()))
            for i, p in enumerate(procs):
                if p.exitcode not in (0, None):
                    how = f"signal {-p.exitcode}" if p.exitcode < 0 else f"exit code {p.exitcode}"
                    err = f"stage {i} died ({how})"
                    break
            else:
                err = f"stage {len(procs) - 1} died"
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
            p.join()
        src.close()
        sink.close()
    if err:
        raise RuntimeError(err)
    return out
