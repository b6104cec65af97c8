# expect: fail split-requests
# why: takes each recv() as exactly one request, so a request split over reads is garbage and merged ones are lost
import json
import os
import selectors
import socket
import sys


def serve(sock_path):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(128)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    store = {}
    while True:
        for key, _ in sel.select():
            if key.fileobj is listener:
                conn, _ = listener.accept()
                sel.register(conn, selectors.EVENT_READ)
                continue
            conn = key.fileobj
            data = conn.recv(65536)
            if not data:
                sel.unregister(conn)
                conn.close()
                continue
            if not data.strip():
                continue
            try:
                req = json.loads(data)
            except ValueError:
                conn.sendall(b'{"ok": false, "error": "bad request"}\n')
                continue
            op = req.get("op") if isinstance(req, dict) else None
            if op == "shutdown":
                conn.sendall(b'{"ok": true}\n')
                sel.close()
                listener.close()
                os.unlink(sock_path)
                return
            key_ = req.get("key") if isinstance(req, dict) else None
            if not isinstance(key_, str):
                reply = {"ok": False, "error": "bad request"}
            elif op == "set" and "value" in req:
                store[key_] = req["value"]
                reply = {"ok": True}
            elif op == "get":
                reply = ({"ok": True, "value": store[key_]} if key_ in store
                         else {"ok": False, "error": "missing"})
            elif op == "incr" and type(req.get("by")) is int:
                if type(store.get(key_, 0)) is not int:
                    reply = {"ok": False, "error": "not an integer"}
                else:
                    store[key_] = store.get(key_, 0) + req["by"]
                    reply = {"ok": True, "value": store[key_]}
            else:
                reply = {"ok": False, "error": "bad request"}
            conn.sendall(json.dumps(reply).encode() + b"\n")


if __name__ == "__main__":
    serve(sys.argv[1])
