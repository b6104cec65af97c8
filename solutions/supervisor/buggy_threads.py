# expect: fail worker-processes
# why: runs each task in a thread and times it out with join(timeout): a crash in one task kills everything, a hung thread can never be stopped
import threading


def run_isolated(tasks, workers=2, timeout=5.0, retries=1):
    if workers <= 0 or timeout <= 0:
        raise ValueError("workers and timeout must be positive")
    results = [None] * len(tasks)
    slots = threading.Semaphore(workers)

    def run(i, fn, args):
        try:
            results[i] = ("ok", fn(*args))
        except Exception as e:
            results[i] = ("error", f"{type(e).__name__}: {e}")
        except SystemExit as e:
            results[i] = ("crashed", f"exit code {e.code}")
        finally:
            slots.release()

    threads = []
    for i, (fn, args) in enumerate(tasks):
        slots.acquire()
        t = threading.Thread(target=run, args=(i, fn, args), daemon=True)
        t.start()
        threads.append(t)
    for i, t in enumerate(threads):
        t.join(timeout)
        if t.is_alive():
            results[i] = ("timeout", None)
    return results
