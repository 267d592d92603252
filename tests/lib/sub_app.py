"""A pub/sub subscriber app for tests (standard library only).

In-process use (SubApp): a threaded HTTP server that answers GET /dapr/subscribe with a
configurable list, records every delivery (path, headers, parsed CloudEvent) and answers
each one according to a plan: plan(path, event, attempt) -> (status, body) where attempt
counts deliveries of the same event id, starting at 1.

Script use (python3 sub_app.py --port P --record FILE [--subscribe JSON] [--delay-ms N]):
a separate process that the test can kill -9. It appends "<event id>\\n" to FILE for each
delivery it accepts (flushed before the 200 goes out) and answers 200."""

import argparse
import http.server
import json
import os
import socketserver
import sys
import threading
import time


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # the sidecar may open one connection per concurrent delivery

    def handle_error(self, request, client_address):
        # A sidecar killed mid-request resets the connection; that is part of the tests, not an error.
        if isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def _make_handler(app):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # keep test output quiet
            pass

        def _reply(self, status, body=b"", ctype="application/json"):
            if isinstance(body, str):
                body = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/dapr/subscribe":
                app.subscribe_calls += 1
                if app.subscriptions is None:
                    return self._reply(404, b"")
                return self._reply(200, json.dumps(app.subscriptions))
            self._reply(404, b"")

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n)
            try:
                event = json.loads(raw)
            except ValueError:
                event = None
            status, body = app.on_delivery(self.path, dict(self.headers.items()), raw, event)
            self._reply(status, body)

    return Handler


class SubApp:
    """In-process subscriber. deliveries: list of dicts {path, headers, raw, event, status}."""

    def __init__(self, port, subscriptions=None, plan=None):
        self.port = port
        self.subscriptions = subscriptions
        self.plan = plan or (lambda path, event, attempt: (200, b""))
        self.deliveries = []
        self.subscribe_calls = 0
        self._attempts = {}
        self._lock = threading.Lock()
        self._srv = _Server(("127.0.0.1", port), _make_handler(self))
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True)
        self._thread.start()

    def on_delivery(self, path, headers, raw, event):
        eid = event.get("id") if isinstance(event, dict) else None
        with self._lock:
            self._attempts[eid] = self._attempts.get(eid, 0) + 1
            attempt = self._attempts[eid]
        status, body = self.plan(path, event, attempt)
        with self._lock:
            self.deliveries.append({"path": path, "headers": {k.lower(): v for k, v in headers.items()},
                                    "raw": raw, "event": event, "status": status})
        return status, body

    def received(self, path=None):
        with self._lock:
            return [d for d in self.deliveries if path is None or d["path"] == path]

    def stop(self):
        self._srv.shutdown()
        self._srv.server_close()


def _script():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--subscribe", default=None, help="JSON list for GET /dapr/subscribe (default: 404)")
    ap.add_argument("--delay-ms", type=int, default=0)
    args = ap.parse_args()
    out = open(args.record, "a")
    lock = threading.Lock()

    def plan(path, event, attempt):
        if args.delay_ms:
            time.sleep(args.delay_ms / 1000.0)  # simulated work, not synchronisation
        with lock:
            out.write(f"{event.get('id') if isinstance(event, dict) else ''}\n")
            out.flush()
            os.fsync(out.fileno())
        return 200, b""

    subs = json.loads(args.subscribe) if args.subscribe else None
    app = SubApp(args.port, subs, plan)
    print(f"sub_app listening on {args.port}", flush=True)
    try:
        app._thread.join()
    except KeyboardInterrupt:
        pass
    app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_script())
