# expect: fail partial-line-dropped
# why: thread per client reading lines from makefile(); the last line before a disconnect is handled even without its newline, so a half-sent set is stored
import json
import os
import socket
import sys
import threading

store = {}
store_lock = threading.Lock()
stopping = threading.Event()


def handle(request):
    if not isinstance(request, dict):
        return {"ok": False, "error": "bad request"}
    op = request.get("op")
    key = request.get("key")
    if op == "shutdown":
        stopping.set()
        return {"ok": True}
    if not isinstance(key, str):
        return {"ok": False, "error": "bad request"}
    if op == "set" and "value" in request:
        with store_lock:
            store[key] = request["value"]
        return {"ok": True}
    if op == "get":
        with store_lock:
            if key not in store:
                return {"ok": False, "error": "missing"}
            return {"ok": True, "value": store[key]}
    if op == "incr":
        by = request.get("by")
        if type(by) is not int:
            return {"ok": False, "error": "bad request"}
        with store_lock:
            old = store.get(key, 0)
            if type(old) is not int:
                return {"ok": False, "error": "not an integer"}
            store[key] = old + by
            return {"ok": True, "value": old + by}
    return {"ok": False, "error": "bad request"}


def client(conn):
    with conn, conn.makefile("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            try:
                request = json.loads(line)
            except ValueError:
                request = None
            reply = handle(request)
            conn.sendall((json.dumps(reply) + "\n").encode())
            if stopping.is_set():
                return


def serve(sock_path):
    stopping.clear()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    server.listen(64)
    server.settimeout(0.05)
    try:
        while not stopping.is_set():
            try:
                conn, _ = server.accept()
            except socket.timeout:
                continue
            conn.settimeout(None)
            threading.Thread(target=client, args=(conn,), daemon=True).start()
    finally:
        server.close()
        os.unlink(sock_path)


if __name__ == "__main__":
    serve(sys.argv[1])
