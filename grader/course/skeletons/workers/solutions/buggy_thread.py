# expect: fail survives-a-segfault
# why: runs fn in a thread: a segfault in any thread kills the whole process.
import threading


def run_safely(fn, *args):
    box = []

    def work():
        try:
            box.append(("ok", fn(*args)))
        except Exception as exc:
            box.append(("error", f"{type(exc).__name__}: {exc}"))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return box[0]
