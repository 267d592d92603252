"""A controllable test app for service-invocation and resiliency tests (standard library only).

One asyncio event loop serves many concurrent connections (thousands of slow
requests do not need thousands of threads), with HTTP/1.1 keep-alive.

Routes (any verb; `?delay_ms=N` delays any answer):
  /echo/...                200, JSON of what arrived: method, path, query, headers, body, instance
  /status/<code>           answers <code> with the same JSON and header X-Fault: <code>
  /delay/<ms>              sleeps <ms>, then 200
  /script/<key>            answers the next status of the script set for <key> (the last one repeats)
  /hang                    never answers (until the client goes away)
  /gate/<key>              waits until gate <key> is opened, then 200
  /__control/script        POST {"key": k, "statuses": [500, 500, 200]}
  /__control/counts        GET: {"total": n, "paths": {path: n}, "inflight": n}
  /__control/open          POST {"key": k}: opens gate k (waiting and later /gate/k calls answer)
  /__control/reset         POST: clears counts and scripts
Every answer carries X-Instance: <name>. Run: python3 fault_app.py --port P --name N.
"""

import argparse
import asyncio
import json
import signal
import sys
import urllib.parse


class State:
    def __init__(self, name):
        self.name = name
        self.total = 0
        self.paths = {}
        self.scripts = {}
        self.inflight = 0
        self.gates = {}  # key -> asyncio.Event

    def gate(self, key):
        return self.gates.setdefault(key, asyncio.Event())


def response(status, body, headers=None, keep_alive=True):
    reason = {200: "OK", 204: "No Content", 404: "Not Found", 500: "Internal Server Error"}.get(status, "Status")
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
    for k, v in (headers or {}).items():
        head.append(f"{k}: {v}")
    head.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def read_request(reader):
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3:
        return None
    method, target, version = parts
    headers = []
    while True:
        h = await reader.readline()
        if not h or h in (b"\r\n", b"\n"):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers.append((k.strip(), v.strip()))
    hmap = {k.lower(): v for k, v in headers}
    body = b""
    if "content-length" in hmap:
        body = await reader.readexactly(int(hmap["content-length"]))
    elif hmap.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
    path, _, query = target.partition("?")
    return method, path, query, headers, hmap, body, version


async def handle(state, method, path, query, headers, body):
    q = urllib.parse.parse_qs(query)
    if "delay_ms" in q:
        await asyncio.sleep(int(q["delay_ms"][0]) / 1000)
    if path.startswith("/__control/"):
        what = path[len("/__control/"):]
        if what == "script":
            req = json.loads(body or b"{}")
            state.scripts[req["key"]] = list(req["statuses"])
            return 200, {"ok": True}, {}
        if what == "open":
            state.gate(json.loads(body or b"{}")["key"]).set()
            return 200, {"ok": True}, {}
        if what == "counts":
            return 200, {"total": state.total, "paths": state.paths, "inflight": state.inflight}, {}
        if what == "reset":
            state.total = 0
            state.paths = {}
            state.scripts = {}
            return 200, {"ok": True}, {}
        return 404, {"error": "unknown control"}, {}
    state.total += 1
    state.paths[path] = state.paths.get(path, 0) + 1
    info = {"instance": state.name, "method": method, "path": path, "query": query,
            "headers": {k.lower(): v for k, v in headers}, "body": body.decode("utf-8", "replace"),
            "count": state.paths[path]}
    if path.startswith("/status/"):
        code = int(path.split("/")[2])
        return code, info, {"X-Fault": str(code)}
    if path.startswith("/delay/"):
        await asyncio.sleep(int(path.split("/")[2]) / 1000)
        return 200, info, {}
    if path.startswith("/script/"):
        key = path[len("/script/"):]
        seq = state.scripts.get(key, [200])
        code = seq.pop(0) if len(seq) > 1 else seq[0]
        info["status"] = code
        return code, info, {"X-Fault": str(code)}
    if path.startswith("/gate/"):
        await state.gate(path[len("/gate/"):]).wait()
        return 200, info, {}
    if path == "/hang":
        await asyncio.sleep(3600)
        return 200, info, {}
    return 200, info, {}


async def serve_conn(state, reader, writer):
    try:
        while True:
            req = await read_request(reader)
            if req is None:
                break
            method, path, query, headers, hmap, body, version = req
            state.inflight += 1
            try:
                # Notice a client that goes away while we wait (the sidecar cancelled the call).
                work = asyncio.ensure_future(handle(state, method, path, query, headers, body))
                eof = asyncio.ensure_future(reader.read(1)) if path in ("/hang",) or path.startswith("/gate/") or "delay" in path or "delay_ms" in query else None
                if eof:
                    done, _ = await asyncio.wait({work, eof}, return_when=asyncio.FIRST_COMPLETED)
                    if eof in done and work not in done and eof.result() == b"":
                        work.cancel()
                        break
                    eof.cancel()
                    await asyncio.gather(eof, return_exceptions=True)  # let the read end before the next one
                status, payload, extra = await work
            finally:
                state.inflight -= 1
            extra = dict(extra)
            extra["X-Instance"] = state.name
            keep = hmap.get("connection", "").lower() != "close"
            writer.write(response(status, payload, extra, keep))
            await writer.drain()
            if not keep:
                break
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        try:
            writer.close()
        except Exception:  # noqa: BLE001
            pass


async def main_async(port, name):
    state = State(name)
    server = await asyncio.start_server(lambda r, w: serve_conn(state, r, w), "127.0.0.1", port, backlog=8192,
                                        limit=1 << 20)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    print(f"fault_app {name} listening on {port}", flush=True)
    async with server:
        await stop


class FaultApp:
    """Starts this app as a child process on a free port (for tests): FaultApp("b1").port, .control(...), .kill9()."""

    def __init__(self, name, port=None, logdir=None):
        import os
        import ripstop_testlib as t
        self.name = name
        self.port = port or t.free_port()
        self._t = t
        self._logdir = logdir
        self.proc = None
        self.start()

    def start(self):
        import os
        t = self._t
        if self.proc:
            self.proc.stop()  # a killed instance: closes its log
        self.proc = t.Proc(f"fault-{self.name}-{self.port}", [sys.executable, os.path.abspath(__file__), "--port",
                                                                str(self.port), "--name", self.name],
                           logdir=self._logdir)
        t.wait_for(lambda: t.port_open(self.port), 10, what=f"fault app {self.name}")

    def control(self, what, body=None):
        r = self._t.request("POST" if body is not None or what in ("reset",) else "GET", self.port,
                            "/__control/" + what, body)
        return r.json()

    def script(self, key, statuses):
        return self.control("script", {"key": key, "statuses": statuses})

    def count(self, path):
        return self.control("counts")["paths"].get(path, 0)

    def kill9(self):
        self.proc.kill9()

    def stop(self):
        if self.proc:
            self.proc.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name", default="app")
    a = ap.parse_args()
    try:
        asyncio.run(main_async(a.port, a.name))
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
