# expect: pass
# why: a Process and a Pipe; the parent receives the result, then joins the child.
import multiprocessing


def _child(conn, fn, arg):
    conn.send(fn(arg))
    conn.close()


def run_in_child(fn, arg):
    parent, child = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=_child, args=(child, fn, arg))
    process.start()
    child.close()
    try:
        return parent.recv()
    finally:
        parent.close()
        process.join()
