"""The app channel over gRPC (`ripstopd --app-protocol grpc`).

JsSdkGrpcApp: an app written with the official Dapr JS SDK's gRPC server
(tests/integration/grpc/sdk_app.mjs) behind ripstopd and a real redis-server:
service invocation (verb, query, content type, an app error), topic events
(SUCCESS, RETRY under an inbound retry policy, DROP; the API token and
traceparent as metadata; a bulk subscription), input-binding events (cron) for the bindings the
app lists, and the metadata API naming the protocol. App health checks are on, so none of it
happens unless the SDK answers AppCallbackHealthCheck/HealthCheck.

GrpcAppBindingReplies: the raw app's OnBindingEvent replies name output
bindings (`to`, `concurrency`), and the reply's data reaches them as daprd's
onAppResponse sends it; its `states` are not saved, as in daprd.

HttpAppNoFakeStatus: an HTTP app that answers with the headers ripstopd uses
inside itself for a gRPC app's status cannot fake one to a gRPC caller.

GrpcAppFaults: a raw HTTP/2 app (tests/lib/grpc_fault_app.py) that is not
there yet, resets streams, answers too much, answers never, or answers a gRPC
error: each becomes the error the HTTP channel gives, resiliency retries the
retriable ones, and calls share one connection."""

import json
import os
import shutil
import subprocess
import tempfile
import threading

import h2grpc as g
from h2grpc import field
import ripstop_testlib as t
from grpc_fault_app import PRECONDITION_DETAILS, FaultApp
from pubsub_fixtures import pending_count, publish, redis_pubsub_yaml, resiliency_yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TOKEN = "app-token-1"


class NodeApp:
    """sdk_app.mjs on a free port; its JSON lines are collected as they come."""

    def __init__(self, port, grpc_port):
        self.port = port
        self.events = []
        self.lock = threading.Lock()
        self.p = subprocess.Popen(["node", os.path.join(HERE, "grpc", "sdk_app.mjs"), str(port), str(grpc_port)],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
                                  start_new_session=True)
        self.output = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.output.append(line)
            if line.startswith("{"):
                with self.lock:
                    self.events.append(json.loads(line))

    def where(self, **kw):
        with self.lock:
            return [e for e in self.events if all(e.get(k) == v for k, v in kw.items())]

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=10)
        self.p.stdout.close()


class JsSdkGrpcApp(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        t.require_js_sdk(self)
        self.redis = self.track(t.Redis())
        res = resiliency_yaml("bus", inbound={"retry": "fast"},
                              retries={"fast": {"policy": "constant", "duration": "50ms", "maxRetries": 3}})
        files = {"pubsub.yaml": redis_pubsub_yaml("bus", self.redis), "tick.yaml": t.cron_yaml("tick"),
                 "tock.yaml": t.cron_yaml("tock"), "res.yaml": res}
        app_port = t.free_port()
        # Both start at once: the sidecar dials the app's port until it answers, the app's client waits for
        # the sidecar.
        self.sidecar = self.track(t.Sidecar("grpc-app", resources=t.write_resources(files), app_port=app_port,
                                            env={"APP_API_TOKEN": TOKEN},
                                            extra_args=["--app-protocol", "grpc", "--enable-app-health-check",
                                                        "--app-health-probe-timeout", "2000"],
                                            wait=False))
        self.app = self.track(NodeApp(app_port, self.sidecar.grpc_port))
        t.wait_for(lambda: self.app.where(what="started"), 30, what="the JS app started (its client found ripstopd)")
        # health checks are on: nothing reaches the app before its first HealthCheck passed (as daprd)
        t.wait_for(lambda: "app entered healthy status" in self.sidecar.proc.log(), 30, what="the app healthy")

    def invoke(self, method, verb="POST", body=None, query="", headers=None):
        path = f"/v1.0/invoke/grpc-app/method/{method}" + (f"?{query}" if query else "")
        return self.sidecar.req(verb, path, body=body, headers=headers)

    def test_app_callbacks(self):
        # invocation: body, content type, verb and query reach OnInvoke; the reply's data and content type return
        r = self.invoke("hello", body=json.dumps({"a": 1}), query="x=1&y=2",
                        headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(json.loads(r.body), {"got": {"a": 1}, "query": "x=1&y=2"})
        self.assertEqual(r.headers.get("content-type"), "application/json")
        # the app reports what it saw on its stdout, read by a thread: wait for the line, not just the reply
        seen = t.wait_for(lambda: self.app.where(what="invoke"), 10, what="the app's invoke record")
        self.assertEqual(seen[0]["contentType"], "application/json")
        r = self.invoke("ping", verb="GET", query="z=3")
        self.assertEqual((r.status, json.loads(r.body)), (200, {"pong": "z=3"}))
        # a handler that throws: the gRPC status as the HTTP status daprd maps it to, the status as JSON
        r = self.invoke("fail")
        self.assertEqual(r.status, 500, r.body)
        self.assertEqual(json.loads(r.body)["code"], 13)

        # topic events: subscriptions came from ListTopicSubscriptions
        self.assertEqual(publish(self.sidecar, "bus", "orders", {"id": 7}, headers={
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}).status, 204)
        t.wait_for(lambda: self.app.where(what="topic", topic="orders"), 15, what="the order event")
        ev = self.app.where(what="topic", topic="orders")[0]
        self.assertEqual(ev["data"], {"id": 7})
        self.assertEqual(ev["token"], TOKEN)
        self.assertTrue(ev["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c-"), ev)
        # RETRY is retried by the inbound policy, then SUCCESS acks it
        self.assertEqual(publish(self.sidecar, "bus", "flaky", {"n": 1}).status, 204)
        t.wait_for(lambda: len(self.app.where(what="topic", topic="flaky")) >= 2, 15, what="the retried event")
        # DROP: delivered once, acked, not retried
        self.assertEqual(publish(self.sidecar, "bus", "unwanted", {"n": 2}).status, 204)
        t.wait_for(lambda: self.app.where(what="topic", topic="unwanted"), 15, what="the dropped event")
        t.wait_for(lambda: "DROP status returned from app" in self.sidecar.proc.log(), 5, what="the drop logged")
        # a bulk subscription: the batch goes through OnBulkTopicEventAlpha1 and every entry is acked
        self.assertIn("subscribed to topic batch on pubsub bus (programmatic, bulk", self.sidecar.proc.log())
        for n in range(3):
            self.assertEqual(publish(self.sidecar, "bus", "batch", {"n": n, "price": 9.99}).status, 204)
        t.wait_for(lambda: len(self.app.where(what="topic", topic="batch")) == 3, 15, what="the bulk events")
        self.assertEqual(sorted(e["data"]["n"] for e in self.app.where(what="topic", topic="batch")), [0, 1, 2])
        t.wait_for(lambda: pending_count(self.redis, "batch", "grpc-app") == 0, 5, what="the bulk entries acked")

        # bindings: the app lists "tick" only (ListInputBindings), so only tick's events reach OnBindingEvent
        t.wait_for(lambda: self.app.where(what="binding", name="tick"), 15, what="a cron event")
        log = self.sidecar.proc.log()
        self.assertIn("app has not subscribed to binding tock", log)
        self.assertNotIn("app has not subscribed to binding tick", log)

        # metadata names the protocol; the retried event came exactly twice, the dropped one once
        md = json.loads(self.sidecar.req("GET", "/v1.0/metadata").body)
        self.assertEqual(md["appConnectionProperties"]["protocol"], "grpc")
        self.assertEqual(md["appConnectionProperties"]["health"]["healthProbeTimeout"], "2s")
        self.assertIn("app entered healthy status", self.sidecar.proc.log())  # the SDK's HealthCheck answered
        self.assertEqual(len(self.app.where(what="topic", topic="flaky")), 2)
        self.assertEqual(len(self.app.where(what="topic", topic="unwanted")), 1)


def binding_reply(data, to, parallel=False, store=None, states=()):
    """A packed BindingEventResponse: store_name 1, states 2 (StateItem{key 1, value 2}), to 3, data 4,
    concurrency 5 (PARALLEL = 1)."""
    msg = field(1, store) if store else b""
    msg += b"".join(field(2, field(1, k) + field(2, v)) for k, v in states)
    msg += b"".join(field(3, n) for n in to) + field(4, data)
    return msg + (field(5, 1) if parallel else b"")


class GrpcAppBindingReplies(t.ProcTestCase):
    def test_reply_data_goes_to_the_named_output_bindings(self):
        redis = self.track(t.Redis())
        root = tempfile.mkdtemp(prefix="ripstop-grpc-fw-")
        self.addCleanup(shutil.rmtree, root, True)
        outs = {n: os.path.join(root, n) for n in ("p1", "p2", "s1", "s2")}
        files = {"state.yaml": t.redis_state_yaml("statestore", redis),
                 "par.yaml": t.cron_yaml("par"), "seq.yaml": t.cron_yaml("seq")}
        for n, d in outs.items():
            os.mkdir(d)
            files[f"{n}.yaml"] = t.localstorage_yaml(n, d)
        app_port = t.free_port()
        app = self.track(FaultApp(app_port))
        app.input_bindings = ["par", "seq"]
        data = b'{"z": [1, 2.50, "a<b"], "a": true}'
        want = b'{"a":true,"z":[1,2.5,"a\\u003cb"]}'  # decoded and encoded again as Go's json.Marshal does
        # parallel: to both at once; the reply's states are not saved (daprd does not act on them either)
        app.binding_replies["par"] = binding_reply(data, ["p1", "p2"], parallel=True, store="statestore",
                                                   states=[("from-binding", "x")])
        # sequential, stopping at the first failure: s1 gets it, "nosuch" fails, s2 is never sent to
        app.binding_replies["seq"] = binding_reply(b"not json", ["s1", "nosuch", "s2"])
        sc = self.track(t.Sidecar("bindapp", resources=t.write_resources(files), app_port=app_port,
                                  extra_args=["--app-protocol", "grpc"]))

        def contents(name):
            return [open(os.path.join(outs[name], f), "rb").read() for f in sorted(os.listdir(outs[name]))]

        t.wait_for(lambda: contents("p1") and contents("p2"), 15, what="the parallel forwards")
        t.wait_for(lambda: len(contents("s1")) >= 2, 15, what="two sequential forwards")
        t.wait_for(lambda: "error executing app response: " in sc.proc.log(), 5, what="the failed forward logged")
        self.assertEqual(set(contents("p1") + contents("p2")), {want})
        self.assertEqual(set(contents("s1")), {b"null"})  # data that is not JSON goes as null, as daprd's
        self.assertEqual(contents("s2"), [])
        self.assertIn("couldn't find output binding nosuch", sc.proc.log())
        self.assertEqual(sc.req("GET", "/v1.0/state/statestore/from-binding").status, 204)
        # every event was delivered once and acknowledged (no retry: the forward's failure is not the event's)
        names = [n for n, _ in app.binding_events]
        self.assertIn("par", names)
        self.assertIn("seq", names)


class HttpAppNoFakeStatus(t.ProcTestCase):
    def test_an_http_app_cannot_fake_a_grpc_status(self):
        class Handler(t.QuietHandler):
            def do_GET(self):
                self.send_response(200 if self.path.endswith("/ok") else 404)
                self.send_header("Ripstop-Grpc-Status", "9")
                self.send_header("ripstop-grpc-message", "faked")
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"fine")

        app = self.track(t.HttpApp(Handler))
        sc = self.track(t.Sidecar("httpapp", app_port=app.port))
        c = g.Client(sc.grpc_port)
        self.addCleanup(c.close)
        # a 404: the status daprd gives an HTTP app's 404 (NOT_FOUND), not the one the app's headers claim
        r = c.call("InvokeService", g.invoke_service("httpapp", "missing"))  # verb GET
        self.assertEqual(r.status, 5, (r.message, r.trailers or r.headers))
        self.assertNotEqual(r.message, "faked")
        r = c.call("InvokeService", g.invoke_service("httpapp", "ok"))
        self.assertEqual(r.status, 0, r.message)
        self.assertEqual(g.decode(g.decode(r.body)[1][0])[2][0], b"fine")  # InvokeResponse.data (Any).value
        h = sc.req("GET", "/v1.0/invoke/httpapp/method/ok")
        self.assertEqual((h.status, h.body), (200, b"fine"))
        self.assertFalse([k for k in h.headers if k.lower().startswith("ripstop-grpc")], h.headers)


class GrpcAppFaults(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.app_port = t.free_port()
        res = """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: res
spec:
  policies:
    timeouts:
      short: 300ms
    retries:
      twice:
        policy: constant
        duration: 20ms
        maxRetries: 2
  targets:
    apps:
      faulty:
        retry: twice
        timeout: short
"""
        self.sidecar = self.track(t.Sidecar("faulty", resources=t.write_resources({"res.yaml": res}),
                                            app_port=self.app_port,
                                            extra_args=["--app-protocol", "grpc", "--max-body-size", "4Ki"]))

    def invoke(self, method):
        return self.sidecar.req("POST", f"/v1.0/invoke/faulty/method/{method}", body=b"{}")

    def test_errors(self):
        # not listening yet: connect refused, retried by the policy, then ERR_DIRECT_INVOKE as over HTTP
        r = self.invoke("ok")
        self.assertEqual(r.status, 500, r.body)
        self.assertEqual(json.loads(r.body)["errorCode"], "ERR_DIRECT_INVOKE")
        self.assertIn("connect: Connection refused", json.loads(r.body)["message"])

        app = self.track(FaultApp(self.app_port, big_size=8192))
        r = self.invoke("ok")
        self.assertEqual((r.status, r.body, r.headers.get("content-type")), (200, b"ok", "text/plain"))

        # the app resets the stream: a transport error, retried (1 + 2 attempts), then ERR_DIRECT_INVOKE
        r = self.invoke("reset")
        self.assertEqual(r.status, 500, r.body)
        self.assertIn("the app reset the stream", json.loads(r.body)["message"])
        self.assertEqual(app.calls.count("reset"), 3)

        # a reply over --max-body-size: refused without reading it
        r = self.invoke("big")
        self.assertEqual(r.status, 500, r.body)
        self.assertIn("response larger than 4096 bytes", json.loads(r.body)["message"])

        # a reply holding a field numbered 0 inside its Any: refused as Go's protobuf (daprd) refuses it
        r = self.invoke("fieldzero")
        self.assertEqual(r.status, 500, r.body)
        self.assertIn("the app's OnInvoke reply does not decode", json.loads(r.body)["message"])

        # slower than the policy's timeout: every attempt's stream is reset, so the app can stop
        r = self.invoke("slow")
        self.assertEqual(r.status, 500, r.body)
        self.assertIn("context deadline exceeded", json.loads(r.body)["message"])
        t.wait_for(lambda: app.resets.count("slow") == 3, 5, what="three resets of the slow streams")

        # a gRPC error status: answered (not retried: the app answered), mapped as daprd maps it
        r = self.invoke("status")
        self.assertEqual(r.status, 404, r.body)
        self.assertEqual(json.loads(r.body), {"code": 5, "message": "no such order", "details": []})

        # concurrent calls share the one connection
        rs = []
        threads = [threading.Thread(target=lambda: rs.append(self.invoke("ok").status)) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        self.assertEqual(rs, [200] * 8)
        self.assertEqual(app.connections, 1)

    def test_app_status_passes_to_grpc_callers_and_client_metrics(self):
        app = self.track(FaultApp(self.app_port))
        c = g.Client(self.sidecar.grpc_port)
        self.addCleanup(c.close)
        # a gRPC caller gets the app's own status (FAILED_PRECONDITION would map to 400 and back to INTERNAL)
        r = c.call("InvokeService", g.invoke_service("faulty", "precondition"))
        self.assertEqual((r.status, r.message), (9, "order is closed"), r.trailers or r.headers)
        self.assertEqual((r.trailers or r.headers).get("grpc-status-details-bin"), PRECONDITION_DETAILS)
        r = c.call("InvokeService", g.invoke_service("faulty", "status"))
        self.assertEqual((r.status, r.message), (5, "no such order"))
        r = c.call("InvokeService", g.invoke_service("faulty", "ok"))
        self.assertEqual(r.status, 0)
        # an HTTP caller gets daprd's mapping, without the headers that carry the status
        h = self.invoke("precondition")
        self.assertEqual(h.status, 400, h.body)
        self.assertEqual(json.loads(h.body)["code"], 9)
        self.assertFalse([k for k in h.headers if k.lower().startswith("ripstop-grpc")], h.headers)
        # daprd's gRPC client families, by the AppCallback method and grpc-go's status name
        text = t.request("GET", self.sidecar.metrics_port, "/metrics").text
        on_invoke = 'grpc_client_method="/dapr.proto.runtime.v1.AppCallback/OnInvoke"'
        self.assertIn(f'dapr_grpc_io_client_completed_rpcs{{app_id="faulty",{on_invoke},grpc_client_status="OK"}} 1',
                      text)
        self.assertRegex(text, r'dapr_grpc_io_client_completed_rpcs\{app_id="faulty",' + on_invoke +
                         r',grpc_client_status="FailedPrecondition"\} [1-9]')
        self.assertRegex(text, r'dapr_grpc_io_client_roundtrip_latency_count\{app_id="faulty",' + on_invoke +
                         r',grpc_client_status="NotFound"\} [1-9]')
        self.assertIn(f'dapr_grpc_io_client_sent_bytes_per_rpc_bucket{{app_id="faulty",{on_invoke},le="1024"}}', text)
        self.assertIn("# TYPE dapr_grpc_io_client_received_bytes_per_rpc histogram", text)


if __name__ == "__main__":
    t.main()
