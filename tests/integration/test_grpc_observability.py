"""The gRPC API observed as daprd observes it: a span per call (tests/lib/trace_receiver.py checks the Zipkin
payloads) named after the method, the child of the caller's grpc-trace-bin or traceparent metadata, with
daprd's attributes, and the parent of the component call and of the invoked app's request; and the
dapr_grpc_io_server_* metrics with daprd's labels."""

import json
import re

import h2grpc as g
import ripstop_testlib as t
from fault_app import FaultApp
from test_tracing import config
from trace_receiver import TraceReceiver

SVC = "/dapr.proto.runtime.v1.Dapr/"
TRACE = "6bf92f3577b34da6a3ce929d0e0e4736"


class GrpcObservability(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.rx = self.track(TraceReceiver())
        self.redis = self.track(t.Redis())
        self.app = self.track(FaultApp("obsapp"))
        self.sc = self.track(t.Sidecar("obsapp", resources=t.write_resources({
            "state.yaml": t.redis_state_yaml("store", self.redis)}), app_port=self.app.port,
            config=config(1, zipkin=self.rx.zipkin_url)))
        self.c = g.Client(self.sc.grpc_port)
        self.addCleanup(self.c.close)

    def spans_of(self, trace, cond, what):
        def ready():
            mine = [s for s in self.rx.snapshot() if s["trace"] == trace]
            return cond(mine) and mine
        return t.wait_for(ready, 15, what=what)

    def test_spans(self):
        r = self.c.call("SaveState", g.save_state("store", "k", "v"),
                        {"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"})
        self.assertEqual(r.status, 0, r.message)
        # grpc-trace-bin wins over traceparent, as in daprd
        other = "7bf92f3577b34da6a3ce929d0e0e4736"
        r = self.c.call("GetState", g.get_state("nosuch", "k"),
                        {"grpc-trace-bin": g.trace_bin(other, "10f067aa0ba902b7"),
                         "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"})
        self.assertEqual(r.status, 3)
        r = self.c.call("InvokeService", g.invoke_service("obsapp", "echo/tp"),
                        {"traceparent": f"00-{TRACE}-20f067aa0ba902b7-01"})
        self.assertEqual(r.status, 0, r.message)
        seen = json.loads(g.decode(g.decode(r.body)[1][0])[2][0])  # InvokeResponse.data (Any).value

        mine = self.spans_of(TRACE, lambda m: len([s for s in m if s["name"] == "state/store/save"]) >= 1 and
                             any(s["name"].startswith("CallLocal/") and s["parent"] == "20f067aa0ba902b7"
                                 for s in m), "the SaveState and InvokeService spans")
        self.assertEqual(self.rx.errors, [])
        save = [s for s in mine if s["name"] == SVC + "SaveState"]
        self.assertEqual(len(save), 1)
        save = save[0]
        self.assertEqual(save["kind"], "CLIENT")  # daprd: the runtime API's spans are CLIENT spans
        self.assertEqual(save["parent"], "00f067aa0ba902b7")
        self.assertFalse(save["error"])
        for k, v in {"dapr.api": SVC + "SaveState", "dapr.protocol": "grpc", "rpc.service": "Dapr",
                     "db.system": "state", "db.name": "store", "db.statement": SVC + "SaveState",
                     "db.connection_string": "state"}.items():
            self.assertEqual(save["attrs"].get(k), v, k)
        comp = [s for s in mine if s["name"] == "state/store/save"]
        self.assertEqual(comp[0]["parent"], save["id"])  # the component call descends from the API span

        inv = [s for s in mine if s["name"] == "CallLocal/obsapp/echo/tp" and s["parent"] == "20f067aa0ba902b7"]
        self.assertEqual(len(inv), 1)
        self.assertEqual(inv[0]["attrs"]["rpc.service"], "ServiceInvocation")
        self.assertEqual(inv[0]["attrs"]["net.peer.name"], "obsapp")
        self.assertTrue(seen["headers"]["traceparent"].startswith(f"00-{TRACE}-"))  # the app is in the same trace
        self.assertNotEqual(seen["headers"]["traceparent"].split("-")[2], "20f067aa0ba902b7")

        failed = self.spans_of(other, lambda m: m, "the GetState span from grpc-trace-bin")
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0]["name"], SVC + "GetState")
        self.assertEqual(failed[0]["parent"], "10f067aa0ba902b7")
        self.assertTrue(failed[0]["error"])

    def test_metrics(self):
        for _ in range(2):
            self.assertEqual(self.c.call("SaveState", g.save_state("store", "k", "v")).status, 0)
        self.assertEqual(self.c.call("GetState", g.get_state("nosuch", "k")).status, 3)
        self.assertEqual(self.c.call("NoSuchMethod", b"").status, 12)  # not a method: no series for it
        text = t.request("GET", self.sc.metrics_port, "/metrics").text
        save = f'app_id="obsapp",grpc_server_method="{SVC}SaveState"'
        self.assertIn(f'dapr_grpc_io_server_completed_rpcs{{{save},grpc_server_status="OK"}} 2', text)
        self.assertIn(f'dapr_grpc_io_server_completed_rpcs{{app_id="obsapp",grpc_server_method="{SVC}GetState",'
                      f'grpc_server_status="InvalidArgument"}} 1', text)
        self.assertIn(f'dapr_grpc_io_server_server_latency_count{{{save},grpc_server_status="OK"}} 2', text)
        # bytes by method only; SaveState's request is its message, its reply (Empty) is 0 bytes
        size = len(g.save_state("store", "k", "v"))
        self.assertIn(f'dapr_grpc_io_server_received_bytes_per_rpc_sum{{{save}}} {2 * size}', text)
        self.assertIn(f'dapr_grpc_io_server_sent_bytes_per_rpc_sum{{{save}}} 0', text)
        self.assertIn(f'dapr_grpc_io_server_sent_bytes_per_rpc_bucket{{{save},le="1024"}} 2', text)
        self.assertIn("# TYPE dapr_grpc_io_server_received_bytes_per_rpc histogram", text)
        self.assertNotIn("NoSuchMethod", text)
        self.assertFalse(re.search(r"grpc_server_method=\"[^\"]*Dapr/GetState\",grpc_server_status=\"OK\"", text))


if __name__ == "__main__":
    t.main()
