"""W3C baggage and the grpc-trace-bin reply header as daprd handles them (issue 16), over real sockets: with tracing
on, an API call's `baggage` headers (HTTP) or metadata (gRPC) are joined with ",", checked (malformed: HTTP 400 /
INVALID_ARGUMENT "invalid baggage header"), echoed in the reply, and travel on with an invocation, sidecar to sidecar,
to the called app; every gRPC API reply but InvokeService's carries the call's span context in grpc-trace-bin. With
tracing off none of it applies (daprd installs the middleware only when tracing is on)."""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import h2grpc as g  # noqa: E402
import ripstop_testlib as t  # noqa: E402
from fault_app import FaultApp  # noqa: E402
from test_tracing import config  # noqa: E402
from trace_receiver import TraceReceiver  # noqa: E402

TRACE = "5bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


class Propagation(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.rx = self.track(TraceReceiver())
        self.app = self.track(FaultApp("callee"))
        self.callee = self.track(t.Sidecar("callee", app_port=self.app.port, config=config(1, zipkin=self.rx.zipkin_url)))
        self.caller = self.track(t.Sidecar("caller", config=config(1, zipkin=self.rx.zipkin_url)))
        t.wait_for(lambda: self.caller.req("GET", "/v1.0/invoke/callee/method/echo/ready", timeout=5).status == 200,
                   15, what="callee resolvable")
        self.c = g.Client(self.caller.grpc_port)
        self.addCleanup(self.c.close)

    def app_calls(self):
        return t.request("GET", self.app.port, "/__control/counts").json()["total"]

    def test_http_baggage_from_the_api_through_two_sidecars_to_the_app(self):
        bag = "userId=alice,serverNode=DF%2028;prop=1"
        r = self.caller.req("POST", "/v1.0/invoke/callee/method/echo/b", body=b"x",
                            headers={"baggage": bag, "traceparent": f"00-{TRACE}-{PARENT}-01"})
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(r.headers.get("baggage"), bag)  # echoed, as daprd's middleware does
        seen = r.json()["headers"]
        self.assertEqual(seen.get("baggage"), bag)  # caller sidecar -> callee sidecar -> app
        self.assertTrue(seen["traceparent"].startswith(f"00-{TRACE}-"))
        # malformed: 400 from the first sidecar, nothing reaches the app
        before = self.app_calls()
        for bad in ("no-equals", "bad key=1", "a=1,,b=2", "k=a b", "k=%zz"):
            r = self.caller.req("POST", "/v1.0/invoke/callee/method/echo/b", body=b"x", headers={"baggage": bad})
            self.assertEqual(r.status, 400, (bad, r.text))
            self.assertTrue(r.text.startswith("invalid baggage header: "), r.text)
            self.assertNotIn("baggage", r.headers)
        self.assertEqual(self.app_calls(), before)
        # no baggage: no baggage header in the reply
        r = self.caller.req("GET", "/v1.0/invoke/callee/method/echo/none")
        self.assertEqual(r.status, 200)
        self.assertNotIn("baggage", r.headers)
        self.assertNotIn("baggage", r.json()["headers"])

    def test_grpc_reply_carries_grpc_trace_bin(self):
        r = self.c.call("GetMetadata", b"", {"traceparent": f"00-{TRACE}-{PARENT}-01"})
        self.assertEqual(r.status, 0, r.message)
        b64 = r.headers["grpc-trace-bin"]
        raw = base64.b64decode(b64 + "=" * (-len(b64) % 4))
        # OpenCensus binary format: version 0; field 0 trace id; field 1 span id; field 2 options (sampled)
        self.assertEqual(len(raw), 29)
        self.assertEqual((raw[0], raw[1], raw[18], raw[27], raw[28]), (0, 0, 1, 2, 1))
        self.assertEqual(raw[2:18].hex(), TRACE)
        span_id = raw[19:27].hex()
        self.assertNotEqual(span_id, PARENT)  # the call's own span, the child of the caller's
        span = t.wait_for(lambda: [s for s in self.rx.snapshot() if s["id"] == span_id], 15,
                          what="the GetMetadata span")[0]
        self.assertEqual(span["name"], "/dapr.proto.runtime.v1.Dapr/GetMetadata")
        self.assertEqual(span["parent"], PARENT)
        # a failed call carries it too (in the trailers-only reply)
        r = self.c.call("GetState", g.get_state("nosuch", "k"), {"traceparent": f"00-{TRACE}-{PARENT}-01"})
        self.assertNotEqual(r.status, 0)
        self.assertIn("grpc-trace-bin", r.headers)
        # not on InvokeService (daprd leaves it out there)
        r = self.c.call("InvokeService", g.invoke_service("callee", "echo/g"), {"traceparent": f"00-{TRACE}-{PARENT}-01"})
        self.assertEqual(r.status, 0, r.message)
        self.assertNotIn("grpc-trace-bin", r.headers)

    def test_grpc_baggage_joined_echoed_and_passed_on(self):
        md = [("traceparent", f"00-{TRACE}-{PARENT}-01"), ("baggage", "k1=v1"), ("baggage", "k2=v2;p")]
        r = self.c.call("InvokeService", g.invoke_service("callee", "echo/g"), md)
        self.assertEqual(r.status, 0, r.message)
        self.assertEqual(r.headers.get("baggage"), "k1=v1,k2=v2;p")
        seen = json.loads(g.decode(g.decode(r.body)[1][0])[2][0])  # InvokeResponse.data (Any).value
        self.assertEqual(seen["headers"].get("baggage"), "k1=v1,k2=v2;p")  # one header, to the app
        r = self.c.call("GetMetadata", b"", [("baggage", "k=v")])
        self.assertEqual(r.status, 0, r.message)
        self.assertEqual(r.headers.get("baggage"), "k=v")
        before = self.app_calls()
        r = self.c.call("InvokeService", g.invoke_service("callee", "echo/g"), [("baggage", "bad key=1")])
        self.assertEqual(r.status, 3, r.message)  # INVALID_ARGUMENT
        self.assertTrue(r.message.startswith("invalid baggage header: "), r.message)
        self.assertEqual(self.app_calls(), before)

    def test_tracing_off_leaves_baggage_alone(self):
        plain = self.track(t.Sidecar("plain", app_port=self.app.port))
        r = plain.req("GET", "/v1.0/invoke/plain/method/echo/p", headers={"baggage": "bad key=1"})
        self.assertEqual(r.status, 200, r.text)  # passed on unchecked, as daprd without its tracing middleware
        self.assertNotIn("baggage", r.headers)
        self.assertEqual(r.json()["headers"].get("baggage"), "bad key=1")
        c = g.Client(plain.grpc_port)
        self.addCleanup(c.close)
        r = c.call("GetMetadata", b"", {"traceparent": f"00-{TRACE}-{PARENT}-01", "baggage": "bad key=1"})
        self.assertEqual(r.status, 0, r.message)
        self.assertNotIn("grpc-trace-bin", r.headers)
        self.assertNotIn("baggage", r.headers)


if __name__ == "__main__":
    t.main()
