# expect: pass
# why: os.fork per attempt, an os.pipe for "started" and the pickled outcome, select with deadlines, waitpid
import os
import pickle
import select
import signal
import time


def child(fn, args, wfd):
    os.write(wfd, b"S")
    try:
        out = ("ok", fn(*args))
    except Exception as e:
        out = ("error", f"{type(e).__name__}: {e}")
    try:
        data = pickle.dumps(out)
    except Exception as e:
        data = pickle.dumps(("error", f"{type(e).__name__}: {e}"))
    view = memoryview(data)
    while view:
        view = view[os.write(wfd, view):]
    os._exit(0)


def launch(fn, args):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            child(fn, args, w)
        except SystemExit as e:  # sys.exit(N) in the task: the worker ends with code N
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            os._exit(code)
        except BaseException:
            os._exit(1)
    os.close(w)
    return {"pid": pid, "fd": r, "buf": b"", "start": None}


def finish(job):
    _, status = os.waitpid(job["pid"], 0)
    os.close(job["fd"])
    data = job["buf"][1:] if job["buf"].startswith(b"S") else b""
    if data:
        return pickle.loads(data)
    if os.WIFSIGNALED(status):
        return ("crashed", f"signal {os.WTERMSIG(status)}")
    return ("crashed", f"exit code {os.WEXITSTATUS(status)}")


def run_isolated(tasks, workers=2, timeout=5.0, retries=1):
    if not workers > 0 or not timeout > 0:
        raise ValueError("workers and timeout must be positive")
    results = [None] * len(tasks)
    left = [retries] * len(tasks)
    queue = list(range(len(tasks)))
    active = {}
    try:
        while queue or active:
            while queue and len(active) < workers:
                i = queue.pop(0)
                active[i] = launch(*tasks[i])
            now = time.monotonic()
            waits = [j["start"] + timeout - now for j in active.values() if j["start"]]
            fds = {j["fd"]: i for i, j in active.items()}
            ready, _, _ = select.select(list(fds), [], [], max(0, min(waits)) if waits else None)
            for fd in ready:
                i = fds[fd]
                chunk = os.read(fd, 65536)
                job = active[i]
                if chunk:
                    if not job["buf"]:
                        job["start"] = time.monotonic()
                    job["buf"] += chunk
                    continue
                del active[i]
                results[i] = finish(job)
            now = time.monotonic()
            for i, job in list(active.items()):
                if job["start"] and now - job["start"] > timeout:
                    os.kill(job["pid"], signal.SIGKILL)
                    os.waitpid(job["pid"], 0)
                    os.close(job["fd"])
                    del active[i]
                    results[i] = ("timeout", None)
            for i, outcome in enumerate(results):
                if outcome and outcome[0] in ("crashed", "timeout") and left[i] > 0 \
                        and i not in active and i not in queue:
                    left[i] -= 1
                    results[i] = None
                    queue.insert(0, i)
    finally:
        for job in active.values():
            os.kill(job["pid"], signal.SIGKILL)
            os.waitpid(job["pid"], 0)
            os.close(job["fd"])
    return results
