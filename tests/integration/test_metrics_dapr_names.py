"""Metrics with daprd's names (issue 16): every metric name Dapr's published Grafana sidecar dashboard queries
(fixture dapr_grafana_metrics.txt) is served by a running ripstopd after some traffic, or is listed as not
supported, with a reason, in docs/compatibility.md; and the process_* families are read at scrape time."""

import os
import re

import h2grpc as g
import ripstop_testlib as t
from fault_app import FaultApp
from grpc_fault_app import FaultApp as GrpcFaultApp
from test_core_sidecar import ENV_STORE

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

BROKEN = """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: broken
spec:
  type: state.nosuch
  version: v1
  ignoreErrors: true
"""


def dashboard_names():
    with open(os.path.join(HERE, "dapr_grafana_metrics.txt")) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def unsupported_in_docs():
    """Names in docs/compatibility.md's metrics table rows whose status is "not yet" or "different", with the
    row's notes (the reason)."""
    out = {}
    with open(os.path.join(ROOT, "docs", "compatibility.md")) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 3 or cells[1] not in ("not yet", "different"):
                continue
            for name in re.findall(r"`([a-z_]+)`", cells[0]):
                out[name] = cells[2]
    return out


def families(text):
    return set(re.findall(r"^# TYPE (\S+) ", text, re.M))


class DaprMetricNames(t.ProcTestCase):
    def test_dashboard_names_resolve_or_are_documented(self):
        app = self.track(FaultApp("metricsapp"))
        sc = self.track(t.Sidecar("metricsapp", resources=t.write_resources({"env.yaml": ENV_STORE,
                                                                             "broken.yaml": BROKEN}),
                                  app_port=app.port))
        for _ in range(3):
            self.assertEqual(sc.req("GET", "/v1.0/secrets/envsecrets/HOME").status, 200)
        c = g.Client(sc.grpc_port)  # the dashboard's gRPC server panels
        self.addCleanup(c.close)
        self.assertEqual(c.call("GetSecret", g.get_secret("envsecrets", "HOME")).status, 0)
        # calls to the app (the HTTP client families): an invocation of the app through its own sidecar
        self.assertEqual(sc.req("POST", "/v1.0/invoke/metricsapp/method/echo/x", body={"x": 1}).status, 200)
        text = t.request("GET", sc.metrics_port, "/metrics").text
        # the gRPC client families: a sidecar whose app speaks gRPC (--app-protocol grpc), invoked through it
        gapp = self.track(GrpcFaultApp())
        gsc = self.track(t.Sidecar("grpcmetricsapp", app_port=gapp.port, extra_args=["--app-protocol", "grpc"]))
        self.assertEqual(gsc.req("POST", "/v1.0/invoke/grpcmetricsapp/method/ok", body=b"{}").status, 200)
        gtext = t.request("GET", gsc.metrics_port, "/metrics").text
        served = families(text) | families(gtext)
        documented = unsupported_in_docs()
        missing = []
        for name in dashboard_names():
            if name in served:
                self.assertNotIn(name, documented, f"{name} is served but documented as unsupported")
                continue
            if name in documented and len(documented[name]) > 10:
                continue
            missing.append(name)
        self.assertEqual(missing, [], "neither served nor documented as unsupported with a reason")
        # the families the dashboard needs carry daprd's labels
        self.assertIn('dapr_runtime_component_loaded{app_id="metricsapp"} 1', text)
        self.assertIn('dapr_runtime_component_init_total{app_id="metricsapp",component="secretstores.local.env"} 1',
                      text)
        self.assertIn('dapr_runtime_component_init_fail_total{app_id="metricsapp",component="state.nosuch",'
                      'reason="init",componentName="broken"} 1', text)
        self.assertIn('dapr_component_secret_count{app_id="metricsapp",component="envsecrets",operation="get",'
                      'success="true"} 4', text)  # three over HTTP, one over gRPC
        self.assertIn("# TYPE dapr_http_server_latency histogram", text)
        self.assertIn('dapr_http_client_completed_count{app_id="metricsapp",method="POST",status="200"} 1', text)
        self.assertIn("# TYPE dapr_http_client_roundtrip_latency histogram", text)
        # sizes use daprd's size buckets; the request body was 7 bytes ({"x":1} or {"x": 1})
        self.assertRegex(text, r'dapr_http_client_sent_bytes_bucket\{app_id="metricsapp",method="POST",status="200",'
                               r'le="1024"\} 1')
        self.assertIn('dapr_http_client_received_bytes_bucket{app_id="metricsapp",le="4294967296"} 1', text)
        # the API server's body sizes: every request so far had a body under 1 KiB
        reqs = re.search(r'^dapr_http_server_request_bytes_count\{app_id="metricsapp"\} (\d+)$', text, re.M)
        small = re.search(r'^dapr_http_server_request_bytes_bucket\{app_id="metricsapp",le="1024"\} (\d+)$', text, re.M)
        self.assertTrue(reqs and small and int(reqs.group(1)) >= 4 and small.group(1) == reqs.group(1), text[:3000])
        self.assertIn("# TYPE dapr_http_server_response_bytes histogram", text)
        self.assertIn("# TYPE dapr_http_server_response_count counter", text)
        self.assertIn('dapr_grpc_io_server_completed_rpcs{app_id="metricsapp",grpc_server_method='
                      '"/dapr.proto.runtime.v1.Dapr/GetSecret",grpc_server_status="OK"} 1', text)
        self.assertIn("# TYPE dapr_grpc_io_server_server_latency histogram", text)
        self.assertIn('dapr_grpc_io_client_completed_rpcs{app_id="grpcmetricsapp",grpc_client_method='
                      '"/dapr.proto.runtime.v1.AppCallback/OnInvoke",grpc_client_status="OK"} 1', gtext)
        for name in ("roundtrip_latency", "sent_bytes_per_rpc", "received_bytes_per_rpc"):
            self.assertIn(f"# TYPE dapr_grpc_io_client_{name} histogram", gtext)

    def test_process_metrics_are_read_at_scrape_time(self):
        sc = self.track(t.Sidecar("procapp"))
        text = t.request("GET", sc.metrics_port, "/metrics").text
        values = dict(re.findall(r"^(process_\w+) (\S+)$", text, re.M))
        for name in ("process_start_time_seconds", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                     "process_cpu_seconds_total", "process_open_fds", "process_max_fds"):
            self.assertIn(name, values)
        pid = sc.proc.pid
        with open(f"/proc/{pid}/stat") as f:  # field 22: start time in clock ticks after boot
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as f:
            btime = int(next(line for line in f if line.startswith("btime")).split()[1])
        expected = btime + ticks / os.sysconf("SC_CLK_TCK")
        self.assertLess(abs(float(values["process_start_time_seconds"]) - expected), 1.0)
        self.assertGreater(float(values["process_resident_memory_bytes"]), 1 << 20)
        # the scrape's own connection may come and go: within a few descriptors of what /proc shows now
        self.assertLess(abs(int(float(values["process_open_fds"])) - len(os.listdir(f"/proc/{pid}/fd"))), 4)
        self.assertIn("# TYPE process_cpu_seconds_total counter", text)


if __name__ == "__main__":
    t.main()
