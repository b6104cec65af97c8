# expect: fail shutdown
# why: serve() never returns after shutdown: it removes the socket file and ends the whole process with os._exit(0), so a program that calls serve() and has work after it (or a test that calls it in-process) is killed
# A thread per client doing its own recv() framing (bytes buffer, split on b"\n"); the store is
# owned by one actor thread fed through a queue.Queue, so every request (incr included) is applied
# one at a time without any lock; shutdown wakes the accept() by connecting to ourselves.
import json
import os
import queue
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
    inbox = queue.Queue()
    stopping = threading.Event()

    def actor():
        while True:
            line, reply = inbox.get()
            if line is None:
                return
            reply.put(answer(store, line))

    threading.Thread(target=actor, daemon=True).start()
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(sock_path)
    lsock.listen(128)

    def client(conn):
        mine = queue.Queue(maxsize=1)
        buf = b""
        try:
            while True:
                chunk = conn.recv(32768)
                if not chunk:
                    return  # a partial line in buf is dropped
                buf += chunk
                *lines, buf = buf.split(b"\n")
                out = []
                for line in lines:
                    inbox.put((line, mine))
                    resp, quit_ = mine.get()
                    if resp is not None:
                        out.append(json.dumps(resp).encode() + b"\n")
                    if quit_:
                        conn.sendall(b"".join(out))
                        stopping.set()
                        try:  # wake the accept loop
                            poke = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                            poke.connect(sock_path)
                            poke.close()
                        except OSError:
                            pass
                        return
                if out:
                    conn.sendall(b"".join(out))
        except OSError:
            pass
        finally:
            conn.close()

    try:
        while True:
            conn, _ = lsock.accept()
            if stopping.is_set():
                conn.close()
                break
            threading.Thread(target=client, args=(conn,), daemon=True).start()
    finally:
        lsock.close()
        try:
            os.unlink(sock_path)
        except FileNotFoundError:
            pass
        os._exit(0)  # client threads may be blocked in recv: make sure we really stop


if __name__ == "__main__":
    serve(sys.argv[1])
