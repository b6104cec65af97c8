# expect: fail idle-client
# why: one selectors loop, but answers are sent with a blocking sendall; a client that does not read its answers fills its socket and stops the loop for everyone
"""A key-value server on a Unix socket: newline-delimited JSON, one selectors loop."""

import json
import os
import selectors
import socket
import sys

BAD = {"ok": False, "error": "bad request"}


def answer(store, line):
    """The response to one request line, and whether it asks for shutdown."""
    try:
        request = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return BAD, False
    if not isinstance(request, dict) or not isinstance(request.get("key", ""), str):
        return BAD, False
    op = request.get("op")
    if op == "shutdown":
        return {"ok": True}, True
    if "key" not in request:
        return BAD, False
    key = request["key"]
    if op == "set" and "value" in request:
        store[key] = request["value"]
        return {"ok": True}, False
    if op == "get":
        if key in store:
            return {"ok": True, "value": store[key]}, False
        return {"ok": False, "error": "missing"}, False
    if op == "incr":
        by = request.get("by")
        if not isinstance(by, int) or isinstance(by, bool):
            return BAD, False
        current = store.get(key, 0)
        if not isinstance(current, int) or isinstance(current, bool):
            return {"ok": False, "error": "not an integer"}, False
        store[key] = current + by
        return {"ok": True, "value": store[key]}, False
    return BAD, False


class Connection:
    def __init__(self, sock):
        self.sock = sock
        self.inbox = b""
        self.outbox = b""


def serve(sock_path):
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(128)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    store = {}
    running = True
    try:
        while running:
            for key, events in selector.select():
                if key.data is None:
                    try:
                        sock, _ = listener.accept()
                    except BlockingIOError:
                        continue
                    sock.setblocking(False)
                    selector.register(sock, selectors.EVENT_READ, Connection(sock))
                    continue
                conn = key.data
                if events & selectors.EVENT_READ:
                    try:
                        data = conn.sock.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        data = None
                    except OSError:
                        data = b""
                    if data == b"":
                        selector.unregister(conn.sock)
                        conn.sock.close()
                        continue
                    if data:
                        conn.inbox += data
                        *lines, conn.inbox = conn.inbox.split(b"\n")
                        for line in lines:
                            if not line.strip():
                                continue
                            response, stop = answer(store, line)
                            conn.outbox += json.dumps(response).encode() + b"\n"
                            if stop:
                                conn.sock.setblocking(True)
                                conn.sock.sendall(conn.outbox)
                                running = False
                                break
                if not running:
                    break
                if conn.outbox:
                    try:
                        conn.sock.setblocking(True)  # send it all now, then back to the loop
                        conn.sock.sendall(conn.outbox)
                        conn.sock.setblocking(False)
                    except OSError:
                        pass
                    conn.outbox = b""
                wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.outbox else 0)
                selector.modify(conn.sock, wanted, conn)
    finally:
        for key in list(selector.get_map().values()):
            key.fileobj.close()
        selector.close()
        if os.path.exists(sock_path):
            os.unlink(sock_path)


if __name__ == "__main__":
    serve(sys.argv[1])
