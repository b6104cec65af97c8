# expect: pass
# why: One thread, select.poll on raw file descriptors with os.read/os.write (no socket.recv), a byte buffer in and a byte buffer out per connection; POLLOUT is asked for only while answers wait, and a connection stops being read while more than 1 MiB of its answers are unsent.
import errno
import json
import os
import select
import socket
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


class Conn:
    __slots__ = ("sock", "inbuf", "outbuf")

    def __init__(self, sock):
        self.sock = sock
        self.inbuf = bytearray()
        self.outbuf = bytearray()


def serve(sock_path):
    store = {}
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(sock_path)
    lsock.listen(512)
    lsock.setblocking(False)
    lfd = lsock.fileno()
    poller = select.poll()
    poller.register(lfd, select.POLLIN)
    conns = {}
    quitting = None

    def interest(c):
        mask = 0
        if len(c.outbuf) < (1 << 20) and quitting is None:
            mask |= select.POLLIN
        if c.outbuf:
            mask |= select.POLLOUT
        poller.modify(c.sock.fileno(), mask or select.POLLHUP)

    def drop(fd):
        c = conns.pop(fd)
        poller.unregister(fd)
        c.sock.close()

    try:
        while True:
            if quitting is not None and (quitting not in conns or not conns[quitting].outbuf):
                return
            for fd, ev in poller.poll(100 if quitting is not None else None):
                if fd == lfd:
                    while True:
                        try:
                            s, _ = lsock.accept()
                        except (BlockingIOError, InterruptedError):
                            break
                        s.setblocking(False)
                        conns[s.fileno()] = Conn(s)
                        poller.register(s.fileno(), select.POLLIN)
                    continue
                c = conns.get(fd)
                if c is None:
                    continue
                if ev & (select.POLLIN | select.POLLHUP | select.POLLERR) and quitting is None:
                    try:
                        data = os.read(fd, 1 << 16)
                    except BlockingIOError:
                        data = None
                    except OSError:
                        data = b""
                    if data == b"":
                        drop(fd)  # whatever is in inbuf was a partial line: gone with it
                        continue
                    if data:
                        c.inbuf += data
                        start = 0
                        while quitting is None:
                            nl = c.inbuf.find(b"\n", start)
                            if nl < 0:
                                break
                            resp, q = answer(store, bytes(c.inbuf[start:nl]))
                            start = nl + 1
                            if resp is not None:
                                c.outbuf += json.dumps(resp).encode() + b"\n"
                            if q:
                                quitting = fd
                        del c.inbuf[:start]
                if c.outbuf and (ev & select.POLLOUT or True):
                    try:
                        n = os.write(fd, c.outbuf)
                        del c.outbuf[:n]
                    except BlockingIOError:
                        pass
                    except OSError as e:
                        if e.errno in (errno.EPIPE, errno.ECONNRESET):
                            drop(fd)
                            continue
                        raise
                if fd in conns:
                    interest(c)
    finally:
        for fd in list(conns):
            conns[fd].sock.close()
        lsock.close()
        try:
            os.unlink(sock_path)
        except FileNotFoundError:
            pass


if __name__ == "__main__":
    serve(sys.argv[1])
