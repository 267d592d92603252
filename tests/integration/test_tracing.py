"""Distributed tracing (issue 16): spans exported from spec.tracing to a real collector endpoint
(tests/lib/trace_receiver.py checks every payload: OTLP against opentelemetry-proto's trace protos,
Zipkin v2 JSON by rules from zipkin2-api.yaml), their parent/child links across two sidecars, a
retried invocation, a publish -> delivery hop, sampling 0, and a collector that hangs."""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ripstop_testlib as t  # noqa: E402
from fault_app import FaultApp  # noqa: E402
from pubsub_fixtures import publish, redis_pubsub_yaml, resiliency_yaml  # noqa: E402
from sub_app import SubApp  # noqa: E402
from trace_receiver import TraceReceiver  # noqa: E402

RESILIENCY = """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: traceres
spec:
  policies:
    retries:
      three:
        policy: constant
        duration: 20ms
        maxRetries: 3
  targets:
    apps:
      callee:
        retry: three
"""


def config(rate, zipkin=None, otel=None):
    d = tempfile.mkdtemp(prefix="ripstop-trace-")
    path = os.path.join(d, "config.yaml")
    tracing = f'    samplingRate: "{rate}"\n'
    if zipkin:
        tracing += f"    zipkin:\n      endpointAddress: {zipkin}\n"
    if otel:
        tracing += f"    otel:\n      endpointAddress: {otel}\n      isSecure: false\n      protocol: http\n"
    with open(path, "w") as f:
        f.write(f"apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: tracing\n"
                f"spec:\n  tracing:\n{tracing}")
    return path


def by_id(spans):
    return {s["id"]: s for s in spans}


class TracingInvoke(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.rx = self.track(TraceReceiver())
        res = t.write_resources({"resiliency.yaml": RESILIENCY})
        self.callee_app = self.track(FaultApp("callee"))
        # the caller exports Zipkin v2, the callee OTLP/HTTP: one trace across both formats
        self.callee = self.track(t.Sidecar("callee", app_port=self.callee_app.port,
                                           config=config(1, otel=self.rx.otel_endpoint)))
        self.caller = self.track(t.Sidecar("caller", resources=res, config=config(1, zipkin=self.rx.zipkin_url)))
        t.wait_for(lambda: self.caller.req("GET", "/v1.0/invoke/callee/method/echo/ready", timeout=5).status == 200,
                   15, what="callee resolvable")

    def wait_spans(self, cond, what):
        return t.wait_for(lambda: cond(self.rx.snapshot()), 15, what=what)

    def test_retried_invocation_is_one_trace_across_two_sidecars(self):
        self.callee_app_script("t1", [500, 500, 200])
        trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        r = self.caller.req("POST", "/v1.0/invoke/callee/method/script/t1", body=b"x",
                            headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
        self.assertEqual(r.status, 200, r.text)

        def complete(spans):
            mine = [s for s in spans if s["trace"] == trace]
            return len([s for s in mine if s["service"] == "callee"]) >= 3 and \
                any(s["kind"] == "SERVER" and s["service"] == "caller" for s in mine) and mine
        mine = self.wait_spans(complete, "the trace of the retried call from both sidecars")
        self.assertEqual(self.rx.errors, [])
        ids = by_id(mine)
        server = [s for s in mine if s["service"] == "caller" and s["kind"] == "SERVER"]
        self.assertEqual(len(server), 1)
        server = server[0]
        self.assertEqual(server["name"], "CallLocal/callee/script/t1")
        self.assertEqual(server["parent"], "00f067aa0ba902b7")  # the caller's own context
        self.assertEqual(server["attrs"]["dapr.api"], "POST /v1.0/invoke/callee/method/script/t1")
        self.assertEqual(server["attrs"]["dapr.protocol"], "http")
        self.assertEqual(server["attrs"]["dapr.status_code"], "200")
        self.assertEqual(server["attrs"]["rpc.service"], "ServiceInvocation")
        self.assertEqual(server["attrs"]["net.peer.name"], "callee")
        self.assertEqual(server["format"], "zipkin")
        self.assertEqual(server["port"], self.caller.port)  # localEndpoint: which sidecar (replica) it was
        attempts = sorted((s for s in mine if s["service"] == "caller" and s["kind"] == "CLIENT"),
                          key=lambda s: int(s["attrs"]["ripstop.attempt"]))
        self.assertEqual([a["attrs"]["ripstop.attempt"] for a in attempts], ["1", "2", "3"])
        self.assertEqual([a["error"] for a in attempts], [True, True, False])  # each retry its own span
        for a in attempts:
            self.assertEqual(a["parent"], server["id"])
            self.assertEqual(a["name"], "CallLocal/callee/script/t1")
        callee = sorted((s for s in mine if s["service"] == "callee"), key=lambda s: s["start_us"])
        self.assertEqual(len(callee), 3)
        for c, a in zip(callee, attempts):
            self.assertEqual(c["format"], "otlp")
            self.assertEqual(c["kind"], "SERVER")
            self.assertEqual(c["parent"], a["id"])  # the callee's span is the child of that attempt
            self.assertEqual(c["name"], "CallLocal/callee/script/t1")
            self.assertIn(a["parent"], ids)
        self.assertEqual([c["attrs"]["dapr.status_code"] for c in callee], ["500", "500", "200"])
        # the app saw the callee's span as its parent
        got = self.caller.req("POST", "/v1.0/invoke/callee/method/echo/tp",
                              headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"}).json()
        self.assertTrue(got["headers"]["traceparent"].startswith(f"00-{trace}-"))

    def callee_app_script(self, key, statuses):
        r = t.request("POST", self.callee_app.port, "/__control/script", body=json.dumps(
            {"key": key, "statuses": statuses}), headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200)

    def test_unsampled_parent_exports_nothing_and_sampled_root_starts_a_trace(self):
        unsampled = "11111111111111111111111111111111"
        self.assertEqual(self.caller.req("GET", "/v1.0/invoke/callee/method/echo/u", headers={
            "traceparent": f"00-{unsampled}-00f067aa0ba902b7-00"}).status, 200)
        self.assertEqual(self.caller.req("GET", "/v1.0/invoke/callee/method/echo/root").status, 200)
        spans = self.wait_spans(lambda s: len([x for x in s if x["name"] == "CallLocal/callee/echo/root"
                                               and x["kind"] == "SERVER"]) >= 2 and
                                [x for x in s if x["name"] == "CallLocal/callee/echo/root" and
                                 x["service"] == "callee"], "the root trace from both sidecars")
        root = [s for s in self.rx.snapshot() if s["name"] == "CallLocal/callee/echo/root" and s["kind"] == "SERVER"
                and s["service"] == "caller"]
        self.assertEqual(len(root), 1)
        self.assertEqual(root[0]["parent"], "")
        self.assertEqual(spans[0]["trace"], root[0]["trace"])
        self.assertFalse([s for s in self.rx.snapshot() if s["trace"] == unsampled])


class TracingPubsub(t.ProcTestCase):
    def test_publish_to_delivery_hop(self):
        rx = self.track(TraceReceiver())
        redis = self.track(t.Redis())
        d = t.write_resources({"pubsub.yaml": redis_pubsub_yaml("pubsub", redis),
                               "res.yaml": resiliency_yaml("pubsub", inbound={"retry": "r"}, retries={
                                   "r": {"policy": "constant", "duration": "20ms", "maxRetries": 3}})})
        port = t.free_port()
        subs = [{"pubsubname": "pubsub", "topic": "orders", "route": "/orders"}]
        app = self.track(SubApp(port, subs, lambda path, ev, attempt: (500, b"") if attempt == 1 else (200, b"")))
        sc = self.track(t.Sidecar("subapp", d, app_port=port, config=config(1, zipkin=rx.zipkin_url)))
        t.wait_for(lambda: app.subscribe_calls >= 1, 15, what="subscription fetch")
        trace = "5bf92f3577b34da6a3ce929d0e0e4736"
        r = publish(sc, "pubsub", "orders", {"n": 1}, headers={"traceparent": f"00-{trace}-10f067aa0ba902b7-01"})
        self.assertEqual(r.status, 204, r.text)

        def done(spans):
            mine = [s for s in spans if s["trace"] == trace]
            return len([s for s in mine if s["name"] == "pubsub/orders"]) >= 2 and mine
        try:
            mine = t.wait_for(lambda: done(rx.snapshot()), 15, what="publish and two delivery attempts")
        except TimeoutError:
            raise AssertionError(f"spans: {rx.snapshot()}\nerrors: {rx.errors}\ndeliveries: {app.received()}")
        self.assertEqual(rx.errors, [])
        pub = [s for s in mine if s["kind"] == "SERVER" and s["name"] == "/v1.0/publish/pubsub/orders"]
        self.assertEqual(len(pub), 1)
        self.assertEqual(pub[0]["attrs"]["messaging.system"], "pubsub")
        self.assertEqual(pub[0]["attrs"]["messaging.destination"], "orders")
        deliveries = sorted((s for s in mine if s["name"] == "pubsub/orders"),
                            key=lambda s: int(s["attrs"]["ripstop.attempt"]))
        self.assertEqual([x["error"] for x in deliveries[:2]], [True, False])
        for x in deliveries:
            self.assertEqual(x["parent"], pub[0]["id"])  # carried in the CloudEvent's traceparent
        ev = app.received("/orders")[-1]
        self.assertEqual(ev["event"]["traceparent"].split("-")[2], pub[0]["id"])


class TracingOffAndHungCollector(t.ProcTestCase):
    def test_sampling_zero_exports_nothing(self):
        rx = self.track(TraceReceiver())
        app = self.track(FaultApp("app0"))
        off = self.track(t.Sidecar("app0", app_port=app.port, config=config(0, zipkin=rx.zipkin_url)))
        app1 = self.track(FaultApp("app1"))
        on = self.track(t.Sidecar("app1", app_port=app1.port, config=config(1, zipkin=rx.zipkin_url)))
        for _ in range(20):
            self.assertEqual(off.req("GET", "/v1.0/invoke/app0/method/echo/x").status, 200)
        # a control sidecar that exports to the same receiver after the same flush interval
        self.assertEqual(on.req("GET", "/v1.0/invoke/app1/method/echo/x").status, 200)
        t.wait_for(lambda: any(s["service"] == "app1" for s in rx.snapshot()), 15, what="the control's spans")
        self.assertEqual([s for s in rx.snapshot() if s["service"] == "app0"], [])
        self.assertEqual(rx.posts.get("/api/v2/spans", 0), 1)
        m = t.request("GET", off.metrics_port, "/metrics").text
        self.assertNotIn("ripstop_tracing_spans", m)

    def test_hung_collector_does_not_block_requests(self):
        rx = self.track(TraceReceiver())
        app = self.track(FaultApp("hang"))
        sc = self.track(t.Sidecar("hang", app_port=app.port,
                                  config=config(1, zipkin=f"http://127.0.0.1:{rx.port}/hang/api/v2/spans")))
        t.wait_for(lambda: sc.req("GET", "/v1.0/invoke/hang/method/echo/w").status == 200, 10, what="ready")
        worst = 0.0
        deadline = time.monotonic() + 2.5  # across two flush ticks: a batch is in flight to the hung collector
        n = 0
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            self.assertEqual(sc.req("GET", "/v1.0/invoke/hang/method/echo/x", timeout=5).status, 200)
            worst = max(worst, time.monotonic() - t0)
            n += 1
        t.wait_for(lambda: rx.posts.get("/hang/api/v2/spans", 0) >= 1, 10, what="a send to the hung collector")
        self.assertEqual(sc.req("GET", "/v1.0/invoke/hang/method/echo/y", timeout=5).status, 200)
        self.assertLess(worst, 0.5, f"slowest of {n} calls while the collector hangs")


class ReceiverSchema(t.ProcTestCase):
    """The receiver the tests above export to refuses what opentelemetry-proto and zipkin.proto refuse (so they
    can fail)."""

    def test_zipkin_payloads_are_validated_against_the_proto(self):
        rx = self.track(TraceReceiver())
        self.assertIn("golang-github-openzipkin-zipkin-go-dev", json.dumps(rx.zipkin.source))

        def post(body):
            return t.request("POST", rx.port, "/api/v2/spans", body).status
        ok = {"traceId": "5bf92f3577b34da6a3ce929d0e0e4736", "id": "10f067aa0ba902b7", "parentId": "a3ce929d0e0e4736",
              "name": "n", "kind": "SERVER", "timestamp": 1700000000000000, "duration": 7,
              "localEndpoint": {"serviceName": "x", "ipv4": "127.0.0.1", "port": 3500},
              "remoteEndpoint": {"ipv6": "::1"}, "annotations": [{"timestamp": 1700000000000001, "value": "a"}],
              "tags": {"k": "v"}, "shared": True}
        self.assertEqual(post([ok]), 202, rx.errors)
        self.assertEqual(rx.errors, [])
        bad = [({"trace_id": ok["traceId"]}, "spans[0].trace_id: no field of that (lowerCamelCase) name"),
               ({"localEndpoint": {"serviceName": "x", "hostname": "h"}}, "localEndpoint.hostname: no field"),
               ({"id": "10F067AA0BA902B7"}, "id: \"10F067AA0BA902B7\" is not 8 bytes in lower-case hex"),
               ({"traceId": "5bf92f3577b34da6a3ce"}, "is not 8 or 16 bytes in lower-case hex"),
               ({"parentId": "EPBnqguqArc="}, "parentId: \"EPBnqguqArc=\" is not 8 bytes"),
               ({"kind": "INTERNAL"}, "kind: \"INTERNAL\" is not a name of enum .zipkin.proto3.Span.Kind"),
               ({"kind": 2}, "kind: 2 is not a name of enum"),
               ({"timestamp": "1700000000000000"}, "timestamp: \"1700000000000000\" is not a JSON integer (fixed64)"),
               ({"duration": 0}, "duration: 0 is not a natural number"),
               ({"localEndpoint": {"serviceName": "x", "ipv4": "1.2.3"}}, "localEndpoint.ipv4: \"1.2.3\" is not an ipv4"),
               ({"localEndpoint": {"serviceName": "x", "port": "3500"}}, "port: \"3500\" is not a JSON integer (int32)"),
               ({"tags": {"k": 1}}, "tags[\"k\"]: 1 is not a string"),
               ({"annotations": [{"timestamp": 1, "value": "a", "endpoint": {}}]}, "annotations[0].endpoint: no field"),
               ({"debug": "true"}, "debug: \"true\" is not a boolean")]
        for change, why in bad:
            span = dict(ok)
            span.update(change)
            if "trace_id" in change:
                del span["traceId"]
            self.assertEqual(post([span]), 400, change)
            self.assertIn(why, rx.errors[-1], change)
        self.assertEqual(post({"spans": [ok]}), 400)
        self.assertIn("not a JSON array of spans", rx.errors[-1])
        # what zipkin.proto allows but our exporter must still send: a complete span with its service
        self.assertEqual(post([{k: v for k, v in ok.items() if k != "duration"}]), 400)
        self.assertIn("duration (microseconds) missing", rx.errors[-1])
        self.assertEqual(post([dict(ok, localEndpoint={"port": 3500})]), 400)
        self.assertIn("serviceName missing", rx.errors[-1])
        self.assertEqual(len(rx.snapshot()), 1)

    def test_otlp_payloads_are_validated_against_the_protos(self):
        rx = self.track(TraceReceiver())

        def post(span):
            req = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name",
                                                                   "value": {"stringValue": "x"}}]},
                                      "scopeSpans": [{"scope": {"name": "ripstopd"}, "spans": [span]}]}]}
            return t.request("POST", rx.port, "/v1/traces", req).status
        ok = {"traceId": "5bf92f3577b34da6a3ce929d0e0e4736", "spanId": "10f067aa0ba902b7", "name": "n", "kind": 2,
              "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000000001000",
              "attributes": [{"key": "k", "value": {"intValue": "3"}}], "status": {"code": 2, "message": "m"}}
        self.assertEqual(post(ok), 200, rx.errors)
        self.assertEqual(rx.errors, [])
        bad = [({"span_id": ok["spanId"]}, "span_id: no field of that (lowerCamelCase) name"),
               ({"kind": "SPAN_KIND_SERVER"}, "is not a value of enum .opentelemetry.proto.trace.v1.Span.SpanKind"),
               ({"kind": 9}, "is not a value of enum"),
               ({"traceId": "W/kvNXe3TaajzpKeDg5HNg=="}, "traceId: \"W/kvNXe3TaajzpKeDg5HNg==\" is not 16 bytes in hex"),
               ({"startTimeUnixNano": "-5"}, "startTimeUnixNano: -5 is out of range for fixed64"),
               ({"attributes": [{"key": "k", "value": {"stringValue": "a", "intValue": 1}}]},
                "more than one field of oneof value"),
               ({"status": {"code": 2, "reason": "x"}}, "status.reason: no field of that"),
               ({"events": {"name": "e"}}, "events: not an array (repeated)")]
        for change, why in bad:
            span = dict(ok)
            span.update(change)
            if "span_id" in change:
                del span["spanId"]
            self.assertEqual(post(span), 400, change)
            self.assertIn(why, rx.errors[-1], change)
        self.assertEqual(len(rx.snapshot()), 1)


if __name__ == "__main__":
    t.main()
