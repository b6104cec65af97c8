# expect: fail bad-request
# why: incr does not check that the key is a string: {"op": "incr", "key": 5, "by": 1} is answered {"ok": true, "value": 1} (and a later get with key "5"/5 is inconsistent) instead of bad request; only get and set validate the key
# asyncio low-level Protocol/Transport (no streams): data_received appends to a per-connection
# buffer and answers every complete line; the loop is single-threaded, so incr needs no lock;
# flow control is left to the transport's own write buffer.
import asyncio
import json
import os
import sys

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
    if type(op) is not str:
        return BAD, False
    if op == "incr":
        try:
            hash(key)
        except TypeError:
            return BAD, False
        by = req.get("by")
        if type(by) is not int or key is None:
            return BAD, False
        current = store.get(key, 0)
        if type(current) is not int:
            return {"ok": False, "error": "not an integer"}, False
        store[key] = current + by
        return {"ok": True, "value": current + by}, False
    if not isinstance(key, str):
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


class KV(asyncio.Protocol):
    def __init__(self, server):
        self.server = server
        self.buf = bytearray()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        self.server.conns.add(self)

    def connection_lost(self, exc):
        self.server.conns.discard(self)
        self.buf.clear()  # a partial line is dropped

    def data_received(self, data):
        self.buf += data
        while True:
            nl = self.buf.find(b"\n")
            if nl < 0:
                return
            line = bytes(self.buf[:nl])
            del self.buf[:nl + 1]
            resp, quit_ = answer(self.server.store, line)
            if resp is None:
                continue
            self.transport.write(json.dumps(resp).encode() + b"\n")
            if quit_:
                self.server.done.set_result(self)
                self.buf.clear()
                return


class KVServer:
    def __init__(self):
        self.store = {}
        self.conns = set()
        self.done = None


async def main(sock_path):
    state = KVServer()
    loop = asyncio.get_running_loop()
    state.done = loop.create_future()
    server = await loop.create_unix_server(lambda: KV(state), path=sock_path, backlog=256)
    try:
        asker = await state.done
        # make sure the shutdown answer has left before everything goes
        for _ in range(200):
            if asker.transport.get_write_buffer_size() == 0:
                break
            await asyncio.sleep(0.005)
    finally:
        server.close()
        for c in list(state.conns):
            c.transport.abort() if c is not asker else c.transport.close()
        await server.wait_closed() if sys.version_info < (3, 12) else None
        try:
            os.unlink(sock_path)
        except FileNotFoundError:
            pass


def serve(sock_path):
    asyncio.run(main(sock_path))


if __name__ == "__main__":
    serve(sys.argv[1])
