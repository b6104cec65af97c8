# expect: pass
# why: asyncio streams; one event loop, so the read-modify-write of incr needs no lock
import asyncio
import json
import os
import sys


class KV:
    def __init__(self):
        self.data = {}
        self.done = None

    def reply(self, raw):
        try:
            req = json.loads(raw)
        except ValueError:
            return {"ok": False, "error": "bad request"}
        if type(req) is not dict:
            return {"ok": False, "error": "bad request"}
        op, key = req.get("op"), req.get("key")
        if op == "shutdown":
            self.done.set()
            return {"ok": True}
        if type(key) is not str:
            return {"ok": False, "error": "bad request"}
        if op == "get":
            if key in self.data:
                return {"ok": True, "value": self.data[key]}
            return {"ok": False, "error": "missing"}
        if op == "set" and "value" in req:
            self.data[key] = req["value"]
            return {"ok": True}
        if op == "incr" and type(req.get("by")) is int:
            value = self.data.get(key, 0)
            if type(value) is not int:
                return {"ok": False, "error": "not an integer"}
            self.data[key] = value + req["by"]
            return {"ok": True, "value": self.data[key]}
        return {"ok": False, "error": "bad request"}

    async def client(self, reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line.endswith(b"\n"):
                    break
                if line.strip():
                    writer.write(json.dumps(self.reply(line)).encode() + b"\n")
                    await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.close()

    async def main(self, path):
        self.done = asyncio.Event()
        server = await asyncio.start_unix_server(self.client, path=path, limit=1 << 20)
        await self.done.wait()
        await asyncio.sleep(0)  # let the shutdown reply leave
        server.close()
        if os.path.exists(path):
            os.unlink(path)


def serve(sock_path):
    asyncio.run(KV().main(sock_path))


if __name__ == "__main__":
    serve(sys.argv[1])
