# expect: pass
# why: a Process per call; the exit code tells a signal from a normal end.
import multiprocessing


def _work(conn, fn, args):
    try:
        conn.send(("ok", fn(*args)))
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def run_safely(fn, *args):
    parent, child = multiprocessing.Pipe(duplex=False)
    worker = multiprocessing.Process(target=_work, args=(child, fn, args))
    worker.start()
    child.close()
    try:
        outcome = parent.recv()
    except EOFError:
        outcome = None
    worker.join()
    parent.close()
    if outcome is None:
        code = worker.exitcode
        return ("crashed", f"signal {-code}") if code < 0 else ("crashed", f"exit code {code}")
    return outcome
