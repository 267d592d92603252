"""A trace collector for tests: Zipkin v2 and OTLP/HTTP JSON on one loopback port.

Routes:
  POST /api/v2/spans   Zipkin v2 JSON (a list of spans)
  POST /v1/traces      OTLP/HTTP JSON (ExportTraceServiceRequest)
  POST /hang/...       never answers (a collector that hangs)
Both are validated against their format's published protobuf model (schema_checker.py), then checked by a
few rules of our own that the model does not state:
- Zipkin v2 JSON against zipkin.proto (package zipkin.proto3, from Debian's
  golang-github-openzipkin-zipkin-go-dev 0.1.5+git20190103.2fd7f4a-1.1, which scripts/setup.sh fetches and
  extracts) under Zipkin's JSON v2 mapping (zipkin_schema.mjs: lowerCamelCase field names and no others,
  traceId 16/32 and id/parentId 16 lower-case hex, kind by enum name, integer microseconds >= 1 as JSON
  numbers, ipv4/ipv6 as address strings, port an int32, tags string->string, annotations
  {timestamp, value}, traceId and id required); ours: every span has timestamp, duration and
  localEndpoint.serviceName, and a port is 1..65535.
- OTLP/HTTP JSON against opentelemetry-proto's trace protos (otlp_schema.mjs: every field name, type,
  enum value and oneof, hex ids); ours: what trace.proto's comments require (ids and name present, end
  not before start).
A payload that breaks them is answered 400 and recorded in `errors`, so a test fails on it. Accepted spans are kept in a common form in `spans`:
{"trace", "id", "parent", "name", "kind", "service", "start_us", "end_us", "attrs", "error", "format"}
(Zipkin spans also "port": localEndpoint.port, 0 when absent).
"""
import http.server
import json
import re
import threading

from schema_checker import SchemaChecker

HEX16 = re.compile(r"^[0-9a-f]{16}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
OTLP_KIND_NAMES = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


class SchemaError(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise SchemaError(msg)


def check_zipkin(payload):
    """Our rules on a payload zipkin.proto already accepted (so the ids, kind and types are right)."""
    out = []
    for s in payload:
        need(isinstance(s.get("timestamp"), int), "zipkin: timestamp (epoch microseconds) missing")
        need(isinstance(s.get("duration"), int), "zipkin: duration (microseconds) missing")
        ep = s.get("localEndpoint", {})
        need(ep.get("serviceName"), "zipkin: localEndpoint.serviceName missing")
        if "port" in ep:
            need(0 < ep["port"] < 65536, f"zipkin: localEndpoint.port {ep['port']!r}")
        tags = s.get("tags", {})
        out.append({"trace": s["traceId"], "id": s["id"], "parent": s.get("parentId", ""), "name": s.get("name", ""),
                    "kind": s.get("kind", "INTERNAL"), "service": ep["serviceName"], "port": ep.get("port", 0), "start_us": s["timestamp"],
                    "end_us": s["timestamp"] + s["duration"], "attrs": dict(tags), "error": "error" in tags,
                    "format": "zipkin"})
    return out


def otlp_value(v):
    need(isinstance(v, dict) and len(v) == 1, "otlp: AnyValue must have exactly one field")
    (k, x), = v.items()
    need(k in {"stringValue", "boolValue", "intValue", "doubleValue", "arrayValue", "kvlistValue", "bytesValue"},
         f"otlp: AnyValue field {k}")
    if k == "stringValue":
        need(isinstance(x, str), "otlp: stringValue")
    return str(x)


def otlp_attrs(lst):
    need(isinstance(lst, list), "otlp: attributes must be a list of KeyValue")
    out = {}
    for kv in lst:
        need(isinstance(kv, dict) and isinstance(kv.get("key"), str) and "value" in kv, "otlp: KeyValue")
        out[kv["key"]] = otlp_value(kv["value"])
    return out


def nanos(v, what):
    need((isinstance(v, str) and v.isdigit()) or isinstance(v, int), f"otlp: {what} must be a uint64 (string)")
    return int(v)


def check_otlp(payload):
    need(isinstance(payload, dict) and isinstance(payload.get("resourceSpans"), list), "otlp: resourceSpans")
    out = []
    for rs in payload["resourceSpans"]:
        res = otlp_attrs(rs.get("resource", {}).get("attributes", []))
        need(isinstance(rs.get("scopeSpans"), list), "otlp: scopeSpans")
        for ss in rs["scopeSpans"]:
            need(isinstance(ss.get("spans"), list), "otlp: spans")
            for s in ss["spans"]:
                need(isinstance(s.get("traceId"), str) and HEX32.match(s["traceId"]), "otlp: traceId (32 hex)")
                need(isinstance(s.get("spanId"), str) and HEX16.match(s["spanId"]), "otlp: spanId (16 hex)")
                parent = s.get("parentSpanId", "")
                need(parent == "" or (isinstance(parent, str) and HEX16.match(parent)), "otlp: parentSpanId")
                need(isinstance(s.get("name"), str) and s["name"], "otlp: name is required")
                need(s.get("kind", 0) in (0, 1, 2, 3, 4, 5), f"otlp: kind {s.get('kind')!r}")
                start = nanos(s.get("startTimeUnixNano"), "startTimeUnixNano")
                end = nanos(s.get("endTimeUnixNano"), "endTimeUnixNano")
                need(end >= start, "otlp: end before start")
                st = s.get("status", {})
                need(isinstance(st, dict) and st.get("code", 0) in (0, 1, 2), "otlp: status.code")
                out.append({"trace": s["traceId"], "id": s["spanId"], "parent": parent, "name": s["name"],
                            "kind": OTLP_KIND_NAMES.get(s.get("kind", 0), "UNSPECIFIED"),
                            "service": res.get("service.name", ""), "start_us": start // 1000, "end_us": end // 1000,
                            "attrs": otlp_attrs(s.get("attributes", [])), "error": st.get("code") == 2,
                            "format": "otlp"})
    return out


class TraceReceiver:
    """Serves on a free loopback port in a thread. `spans`, `errors`, `posts` (count per path) are guarded by lock."""

    def __init__(self):
        self.spans, self.errors, self.posts = [], [], {}
        self.lock = threading.Lock()
        self.zipkin = SchemaChecker("zipkin_schema.mjs")
        try:
            self.otlp = SchemaChecker("otlp_schema.mjs")
        except Exception:
            self.zipkin.close()
            raise
        self.release = threading.Event()  # set at close: hanging requests end
        recv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with recv.lock:
                    recv.posts[self.path] = recv.posts.get(self.path, 0) + 1
                if self.path.startswith("/hang"):
                    recv.release.wait()
                    return
                try:
                    payload = json.loads(body)
                    if self.path == "/api/v2/spans":
                        objections = recv.zipkin.check(payload)
                        if objections:
                            raise SchemaError("zipkin: against zipkin.proto: " + "; ".join(objections))
                        got = check_zipkin(payload)
                    elif self.path == "/v1/traces":
                        objections = recv.otlp.check(payload)
                        if objections:
                            raise SchemaError("otlp: against opentelemetry-proto: " + "; ".join(objections))
                        got = check_otlp(payload)
                    else:
                        raise SchemaError(f"unknown path {self.path}")
                except (ValueError, SchemaError) as e:
                    with recv.lock:
                        recv.errors.append(str(e))
                    self.send_response(400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with recv.lock:
                    recv.spans.extend(got)
                self.send_response(202 if self.path == "/api/v2/spans" else 200)
                self.send_header("Content-Length", "2" if self.path == "/v1/traces" else "0")
                self.end_headers()
                if self.path == "/v1/traces":
                    self.wfile.write(b"{}")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def zipkin_url(self):
        return f"http://127.0.0.1:{self.port}/api/v2/spans"

    @property
    def otel_endpoint(self):
        return f"127.0.0.1:{self.port}"

    def snapshot(self):
        with self.lock:
            return list(self.spans)

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.otlp.close()
        self.zipkin.close()

    def stop(self):  # for ProcTestCase.track
        self.close()
