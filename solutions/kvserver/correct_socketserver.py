# expect: pass
# why: socketserver.ThreadingUnixStreamServer, a handler per connection reading rfile lines, one lock for the store
import json
import os
import socketserver
import sys
import threading

store = {}
lock = threading.Lock()


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def reply(req):
    if not isinstance(req, dict):
        return {"ok": False, "error": "bad request"}
    op = req.get("op")
    if op == "shutdown":
        return {"ok": True}
    key = req.get("key")
    if not isinstance(key, str):
        return {"ok": False, "error": "bad request"}
    with lock:
        if op == "set" and "value" in req:
            store[key] = req["value"]
            return {"ok": True}
        if op == "get":
            if key not in store:
                return {"ok": False, "error": "missing"}
            return {"ok": True, "value": store[key]}
        if op == "incr" and is_int(req.get("by")):
            old = store.get(key, 0)
            if not is_int(old):
                return {"ok": False, "error": "not an integer"}
            store[key] = old + req["by"]
            return {"ok": True, "value": store[key]}
    return {"ok": False, "error": "bad request"}


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        for raw in self.rfile:
            if not raw.endswith(b"\n"):
                return  # the client left in the middle of a line
            if not raw.strip():
                continue
            try:
                req = json.loads(raw)
            except ValueError:
                req = None
            self.wfile.write(json.dumps(reply(req)).encode() + b"\n")
            if isinstance(req, dict) and req.get("op") == "shutdown":
                threading.Thread(target=self.server.shutdown).start()
                return


class Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    request_queue_size = 128


def serve(sock_path):
    with Server(sock_path, Handler) as server:
        try:
            server.serve_forever(poll_interval=0.05)
        finally:
            os.unlink(sock_path)


if __name__ == "__main__":
    serve(sys.argv[1])
