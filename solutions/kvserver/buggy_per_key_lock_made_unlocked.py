# expect: fail incr-atomic
# why: a lock per key, made on first use without a lock: two clients doing the first incr of a key at once each make and hold their own, and one update is lost.
# A thread per client reading lines through makefile('rb'); a partial last line (no newline) is
# dropped; one lock around every request; the accept loop is woken at shutdown by
# shutdown(SHUT_RDWR) on the listening socket.
import json
import os
import socket
import sys
import threading

BAD = {"ok": False, "error": "bad request"}


def answer(store, line):
    """The response dict for one request line (bytes, no newline), None for a blank line, and
    whether it asked for shutdown."""
    if not line.strip():
        return None, False
    try:
        req = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return BAD, False
    if not isinstance(req, dict):
        return BAD, False
    op = req.get("op")
    if op == "shutdown" and type(op) is str:
        return {"ok": True}, True
    key = req.get("key")
    if type(op) is not str or not isinstance(key, str):
        return BAD, False
    if op == "set":
        if "value" not in req:
            return BAD, False
        store[key] = req["value"]
        return {"ok": True}, False
    if op == "get":
        if key in store:
            return {"ok": True, "value": store[key]}, False
        return {"ok": False, "error": "missing"}, False
    if op == "incr":
        by = req.get("by")
        if type(by) is not int:
            return BAD, False
        current = store.get(key, 0)
        if type(current) is not int:
            return {"ok": False, "error": "not an integer"}, False
        store[key] = current + by
        return {"ok": True, "value": current + by}, False
    return BAD, False


def serve(sock_path):
    store = {}
    locks = {}  # one lock per key, so incr on different keys never wait for each other
    stop = threading.Event()
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(sock_path)
    lsock.listen(256)

    def client(conn):
        with conn:
            rfile = conn.makefile("rb")
            try:
                for line in rfile:
                    if not line.endswith(b"\n"):
                        break  # the client left mid-line: drop it
                    key = None
                    try:
                        req = json.loads(line)
                        if isinstance(req, dict) and req.get("op") == "incr" and isinstance(req.get("key"), str):
                            key = req["key"]
                    except ValueError:
                        pass
                    if key is None:
                        resp, quit_ = answer(store, line[:-1])
                    else:
                        klock = locks.get(key)
                        if klock is None:
                            klock = threading.Lock()
                            locks[key] = klock
                        with klock:
                            resp, quit_ = answer(store, line[:-1])
                    if resp is None:
                        continue
                    conn.sendall(json.dumps(resp).encode() + b"\n")
                    if quit_:
                        stop.set()
                        try:
                            lsock.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                        return
            except OSError:
                pass
            finally:
                rfile.close()

    try:
        while not stop.is_set():
            try:
                conn, _ = lsock.accept()
            except OSError:
                if stop.is_set():
                    break
                continue
            threading.Thread(target=client, args=(conn,), daemon=True).start()
    finally:
        lsock.close()
        try:
            os.unlink(sock_path)
        except FileNotFoundError:
            pass


if __name__ == "__main__":
    serve(sys.argv[1])
