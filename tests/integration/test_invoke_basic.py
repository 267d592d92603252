"""Service invocation through two ripstopd sidecars (spec §2.1): routes, header rules, pass-through, errors."""
import os
import tempfile

import ripstop_testlib as t
from fault_app import FaultApp


def nameres_config(dbdir, update="2s", timeout="500ms"):
    path = os.path.join(dbdir, "config.yaml")
    with open(path, "w") as f:
        f.write(f"""apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: cfg
spec:
  nameResolution:
    component: sqlite
    configuration:
      connectionString: {os.path.join(dbdir, "nr.db")}
      updateInterval: {update}
      timeout: {timeout}
""")
    return path


def wait_resolvable(caller, app_id, path="/echo/ping"):
    """Polls until the callee's registration is visible to the caller (registration happens once its app answers)."""
    t.wait_for(lambda: caller.req("GET", f"/v1.0/invoke/{app_id}/method{path}", timeout=5).status == 200, 15,
               what=f"{app_id} resolvable")


def start_pair(case):
    """Starts apps and sidecars "caller" and "callee" (APP_API_TOKEN app-secret) sharing a name-resolution table
    in a new directory, as case.app, case.callee, case.caller_app, case.caller; returns the directory."""
    d = tempfile.mkdtemp(prefix="ripstop-invoke-")
    case.cfg = nameres_config(d)
    case.app = case.track(FaultApp("callee"))
    case.callee = case.track(t.Sidecar("callee", app_port=case.app.port, config=case.cfg,
                                       env={"APP_API_TOKEN": "app-secret"}))
    case.caller_app = case.track(FaultApp("caller"))
    case.caller = case.track(t.Sidecar("caller", app_port=case.caller_app.port, config=case.cfg))
    wait_resolvable(case.caller, "callee")
    return d


class InvokeBasic(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        start_pair(self)

    def test_path_form_forwards_verb_query_body_and_headers(self):
        r = self.caller.req("PATCH", "/v1.0/invoke/callee/method/echo/a/b%20c?x=1&y=two", body=b"payload-bytes",
                            headers={"Content-Type": "text/plain", "X-Custom": "kept",
                                     "Connection": "keep-alive, X-Drop", "X-Drop": "hop", "Keep-Alive": "timeout=5",
                                     "dapr-caller-app-id": "spoofed"})
        self.assertEqual(r.status, 200, r)
        got = r.json()
        self.assertEqual(got["instance"], "callee")
        self.assertEqual(got["method"], "PATCH")
        self.assertEqual(got["path"], "/echo/a/b%20c")
        self.assertEqual(got["query"], "x=1&y=two")
        self.assertEqual(got["body"], "payload-bytes")
        h = got["headers"]
        self.assertEqual(h["content-type"], "text/plain")
        self.assertEqual(h["x-custom"], "kept")
        self.assertNotIn("x-drop", h)          # named by Connection: hop-by-hop
        self.assertNotIn("keep-alive", h)
        self.assertEqual(h["dapr-caller-app-id"], "caller")
        self.assertEqual(h["dapr-callee-app-id"], "callee")
        self.assertEqual(h["dapr-api-token"], "app-secret")  # APP_API_TOKEN of the callee's sidecar
        self.assertNotIn("ripstop-hop", h)
        self.assertIn("x-forwarded-for", h)
        self.assertIn("forwarded", h)
        self.assertTrue(t.request("GET", self.caller.port, "/v1.0/healthz").status == 204)
        tp = h["traceparent"]
        self.assertRegex(tp, r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")

    def test_traceparent_is_propagated(self):
        incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        r = self.caller.req("GET", "/v1.0/invoke/callee/method/echo", headers={"traceparent": incoming})
        tp = r.json()["headers"]["traceparent"]
        self.assertTrue(tp.startswith("00-0af7651916cd43dd8448eb211c80319c-"), tp)
        self.assertTrue(tp.endswith("-01"))
        self.assertNotEqual(tp, incoming)  # a new span id

    def test_status_headers_body_pass_through(self):
        r = self.caller.req("POST", "/v1.0/invoke/callee/method/status/418", body="x")
        self.assertEqual(r.status, 418)
        self.assertEqual(r.headers.get("x-fault"), "418")
        self.assertEqual(r.headers.get("x-instance"), "callee")
        self.assertEqual(r.json()["path"], "/status/418")
        r = self.caller.req("GET", "/v1.0/invoke/callee/method/status/404")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["instance"], "callee")

    def test_header_form_and_basic_auth_form(self):
        r = self.caller.req("GET", "/echo/by-header?z=9", headers={"dapr-app-id": "callee"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["path"], "/echo/by-header")
        self.assertEqual(r.json()["query"], "z=9")
        self.assertNotIn("dapr-app-id", r.json()["headers"])
        import base64
        auth = base64.b64encode(b"dapr-app-id:callee").decode()
        r = self.caller.req("GET", "/echo/by-basic", headers={"Authorization": "Basic " + auth})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["path"], "/echo/by-basic")

    def test_own_app_id_goes_straight_to_the_app(self):
        r = self.caller.req("GET", "/v1.0/invoke/caller/method/echo/self")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["instance"], "caller")
        self.assertEqual(r.json()["headers"]["dapr-caller-app-id"], "caller")

    def test_errors(self):
        r = self.caller.req("GET", "/not/a/dapr/route")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["errorCode"], "ERR_DIRECT_INVOKE")
        self.assertIn("dapr-app-id", r.json()["message"])
        r = self.caller.req("GET", "/v1.0/invoke/nobody/method/x")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["errorCode"], "ERR_DIRECT_INVOKE")
        self.assertIn("failed to invoke, id: nobody", r.json()["message"])
        self.assertIn("no host found", r.json()["message"])

    def test_bad_input_and_namespace_form(self):
        r = self.caller.req("GET", "/v1.0/invoke/bad%2Fid/method/x")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["errorCode"], "ERR_DIRECT_INVOKE")
        r = self.caller.req("GET", "/v1.0/invoke//method/x")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["errorCode"], "ERR_DIRECT_INVOKE")
        r = self.caller.req("GET", "/v1.0/invoke/" + "a" * 5000 + "/method/x")
        self.assertIn(r.status, (400, 404, 414, 500))
        r = self.caller.req("GET", "/v1.0/invoke/callee/method/" + "m" * 10000)
        self.assertIn(r.status, (404, 413, 414, 431, 500))  # bounded, answered, no crash
        r = self.caller.req("GET", "/v1.0/invoke/callee.default/method/echo/ns")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["headers"]["dapr-callee-app-id"], "callee")
        self.assertEqual(self.caller.req("GET", "/v1.0/healthz").status, 204)  # still alive

    def test_metrics(self):
        self.caller.req("GET", "/v1.0/invoke/callee/method/echo/m")
        self.caller.req("GET", "/v1.0/invoke/callee/method/status/503")
        text = t.request("GET", self.caller.metrics_port, "/metrics").text
        # daprd's names and labels: the caller counts requests sent and responses received (src_app_id = the
        # app that answered), the callee requests received and responses sent (dst_app_id = the caller)
        self.assertIn('dapr_runtime_service_invocation_req_sent_total{app_id="caller",dst_app_id="callee",'
                      'method="echo/m"} 1', text)
        self.assertIn('dapr_runtime_service_invocation_res_recv_total{app_id="caller",src_app_id="callee",'
                      'method="status/503",status="503"} 1', text)
        self.assertIn('dapr_runtime_service_invocation_res_recv_latency_ms_count{app_id="caller",src_app_id="callee",'
                      'method="echo/m",status="200"} 1', text)
        self.assertIn('dapr_http_server_request_count{app_id="caller",method="GET",path="/v1.0/invoke/{id}/method/{method}"}',
                      text)
        self.assertIn('dapr_http_server_response_count{app_id="caller",method="GET",path="/v1.0/invoke/{id}/method/{method}",'
                      'status="503"} 1', text)
        self.assertIn("dapr_http_server_latency_bucket", text)
        callee = t.request("GET", self.callee.metrics_port, "/metrics").text
        self.assertIn('dapr_runtime_service_invocation_req_recv_total{app_id="callee",src_app_id="caller",'
                      'method="status/503"} 1', callee)
        self.assertIn('dapr_runtime_service_invocation_res_sent_total{app_id="callee",dst_app_id="caller",'
                      'method="status/503",status="503"} 1', callee)


if __name__ == "__main__":
    t.main()
