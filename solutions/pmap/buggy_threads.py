# expect: fail parallel
# why: a pool of threads: results are right, but the interpreter lock runs only one fn at a time
import threading


def pmap(fn, items, workers=2):
    results = [None] * len(items)
    errors = []
    lock = threading.Lock()
    next_index = [0]

    def run():
        while True:
            with lock:
                if errors or next_index[0] >= len(items):
                    return
                i = next_index[0]
                next_index[0] += 1
            try:
                results[i] = fn(items[i])
            except Exception as e:
                with lock:
                    errors.append(e)
                return

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
