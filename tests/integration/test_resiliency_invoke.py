"""Resiliency policies on service invocation (spec §1.2-§1.6), applied by the caller's ripstopd.

One fault app serves four callee sidecars with different app ids, so each app id gets its own
policy from one Resiliency document."""
import os
import socket
import tempfile
import time

import ripstop_testlib as t
from fault_app import FaultApp
from test_invoke_basic import nameres_config, wait_resolvable

RESILIENCY = """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: testres
spec:
  policies:
    timeouts:
      short: 300ms
    retries:
      three:
        policy: constant
        duration: 50ms
        maxRetries: 3
      only503:
        policy: constant
        duration: 10
        maxRetries: "5"
        matching:
          httpStatusCodes: "503"
      forever:
        policy: constant
        duration: 40ms
    circuitBreakers:
      cb:
        maxRequests: 1
        timeout: 1s
        trip: consecutiveFailures >= 3
  targets:
    apps:
      retryapp:
        retry: three
        timeout: short
      matchapp:
        retry: only503
      cbapp:
        circuitBreaker: cb
      foreverapp:
        retry: forever
"""


class ResiliencyInvoke(t.ProcTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tracked = []
        d = tempfile.mkdtemp(prefix="ripstop-res-")
        cls.cfg = nameres_config(d)
        cls.res = t.write_resources({"resiliency.yaml": RESILIENCY})
        cls.app = FaultApp("app")
        cls.tracked.append(cls.app)
        for app_id in ("retryapp", "matchapp", "cbapp", "foreverapp"):
            cls.tracked.append(t.Sidecar(app_id, app_port=cls.app.port, config=cls.cfg))
        cls.caller = t.Sidecar("caller", resources=cls.res, config=cls.cfg)
        cls.tracked.append(cls.caller)
        for app_id in ("retryapp", "matchapp", "cbapp", "foreverapp"):
            wait_resolvable(cls.caller, app_id)

    @classmethod
    def tearDownClass(cls):
        for p in reversed(cls.tracked):
            p.stop()

    def invoke(self, app_id, method, **kw):
        return self.caller.req("POST", f"/v1.0/invoke/{app_id}/method/{method}", body=b"replayed-body", **kw)

    def test_retry_then_success_replays_the_body(self):
        self.app.script("k1", [500, 500, 200])
        r = self.invoke("retryapp", "script/k1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["count"], 3)
        self.assertEqual(r.json()["body"], "replayed-body")
        self.assertEqual(self.app.count("/script/k1"), 3)

    def test_retries_exhausted_pass_the_last_response_through(self):
        self.app.script("k2", [500, 502, 503, 504, 505])
        r = self.invoke("retryapp", "script/k2")
        self.assertEqual(r.status, 504, r)  # maxRetries 3 = 4 attempts; the 4th answered 504
        self.assertEqual(r.headers.get("x-fault"), "504")
        self.assertEqual(r.json()["count"], 4)
        self.assertEqual(self.app.count("/script/k2"), 4)

    def test_matching_stops_on_an_unlisted_code(self):
        self.app.script("k3", [503, 503, 404, 200])
        r = self.invoke("matchapp", "script/k3")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(self.app.count("/script/k3"), 3)

    def test_timeout_is_per_attempt(self):
        start = time.monotonic()
        r = self.invoke("retryapp", "delay/2000")
        took = time.monotonic() - start
        self.assertEqual(r.status, 500, r)
        self.assertEqual(r.json()["errorCode"], "ERR_DIRECT_INVOKE")
        self.assertIn("context deadline exceeded", r.json()["message"])
        self.assertEqual(self.app.count("/delay/2000"), 4)  # every attempt got its own 300ms
        self.assertLess(took, 1.9)
        self.assertGreater(took, 1.1)

    def test_breaker_open_half_open_closed(self):
        self.app.script("cb1", [500, 500, 500, 200])
        for _ in range(3):
            self.assertEqual(self.invoke("cbapp", "script/cb1").status, 500)
        r = self.invoke("cbapp", "script/cb1")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["errorCode"], "ERR_DIRECT_INVOKE")
        self.assertIn("circuit breaker is open", r.json()["message"])
        self.assertEqual(self.app.count("/script/cb1"), 3)  # rejected without reaching the app
        # another method has its own breaker
        self.assertEqual(self.invoke("cbapp", "echo/other").status, 200)
        text = t.request("GET", self.caller.metrics_port, "/metrics").text
        self.assertIn('dapr_resiliency_cb_state{app_id="caller",name="cb",target="app_cbapp:script/cb1"} 2', text)
        # after the breaker timeout (1s) one probe goes through (half-open) and its success closes the breaker
        t.wait_for(lambda: self.invoke("cbapp", "script/cb1").status == 200, 5, interval=0.1, what="half-open probe")
        self.assertEqual(self.invoke("cbapp", "script/cb1").status, 200)
        self.assertEqual(self.app.count("/script/cb1"), 5)
        text = t.request("GET", self.caller.metrics_port, "/metrics").text
        self.assertIn('dapr_resiliency_cb_state{app_id="caller",name="cb",target="app_cbapp:script/cb1"} 0', text)
        self.assertIn('policy="circuitbreaker",flow_direction="",target="app_cbapp:script/cb1",status="half-open"} 1',
                      text)
        log = self.caller.proc.log()
        self.assertEqual(log.count('for app_cbapp:script/cb1 changed state: closed -> open'), 1)
        self.assertEqual(log.count('for app_cbapp:script/cb1 changed state: half-open -> closed'), 1)

    def test_caller_hang_up_stops_retry_forever(self):
        s = socket.create_connection(("127.0.0.1", self.caller.port))
        s.sendall(b"GET /v1.0/invoke/foreverapp/method/status/500 HTTP/1.1\r\nHost: x\r\n\r\n")
        t.wait_for(lambda: self.app.count("/status/500") >= 5, 10, what="retries running")
        s.close()
        # the count must settle: no new attempt for several retry intervals (40ms each)
        last = [self.app.count("/status/500")]

        def settled():
            time.sleep(0.3)  # observation window (many retry intervals), not synchronisation
            now = self.app.count("/status/500")
            same = now == last[0]
            last[0] = now
            return same

        t.wait_for(settled, 5, what="retries stopped")
        time.sleep(0.3)
        self.assertEqual(self.app.count("/status/500"), last[0])
        text = t.request("GET", self.caller.metrics_port, "/metrics").text
        self.assertIn('policy="retry",flow_direction="outbound",target="app_foreverapp"', text)


class RefusedAndRestart(t.ProcTestCase):
    """The app refuses connections (killed), then comes back while the caller's retry policy keeps trying."""

    def test_refused_then_restarted_app(self):
        import threading
        d = tempfile.mkdtemp(prefix="ripstop-restart-")
        cfg = nameres_config(d)
        res = t.write_resources({"r.yaml": RESILIENCY.replace("      foreverapp:\n        retry: forever",
                                                              "      restartapp:\n        retry: slow\n"
                                                              "      plainapp: {}").replace(
            "    circuitBreakers:", "      slow:\n        policy: constant\n        duration: 200ms\n"
                                   "        maxRetries: 50\n    circuitBreakers:")})
        app = self.track(FaultApp("flaky"))
        self.track(t.Sidecar("restartapp", app_port=app.port, config=cfg))
        self.track(t.Sidecar("plainapp", app_port=app.port, config=cfg))
        caller = self.track(t.Sidecar("caller", resources=res, config=cfg))
        wait_resolvable(caller, "restartapp")
        wait_resolvable(caller, "plainapp")
        app.kill9()
        # no policy: one attempt; the callee sidecar's transport error comes back as its 500 ERR_DIRECT_INVOKE
        r = caller.req("GET", "/v1.0/invoke/plainapp/method/echo/x")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["errorCode"], "ERR_DIRECT_INVOKE")
        out = {}
        th = threading.Thread(target=lambda: out.setdefault("r", caller.req("GET", "/v1.0/invoke/restartapp/method/echo/y",
                                                                           timeout=30)))
        th.start()

        def retries_seen():
            text = t.request("GET", caller.metrics_port, "/metrics").text
            return 'policy="retry",flow_direction="outbound",target="app_restartapp",status=""} ' in text

        t.wait_for(retries_seen, 10, what="caller retrying against the refused app")
        app.start()  # same port
        th.join(30)
        self.assertFalse(th.is_alive())
        self.assertEqual(out["r"].status, 200, out["r"])
        self.assertEqual(out["r"].json()["path"], "/echo/y")


class ResiliencyLoadErrors(t.ProcTestCase):
    def test_spaced_matching_list_stops_start_up(self):
        res = t.write_resources({"bad.yaml": RESILIENCY.replace('httpStatusCodes: "503"',
                                                                'httpStatusCodes: "500, 503"')})
        sc = self.track(t.Sidecar("bad", resources=res, wait=False))
        t.wait_for(lambda: not sc.proc.alive(), 10, what="ripstopd exits")
        self.assertNotEqual(sc.proc.p.returncode, 0)
        log = sc.proc.log()
        self.assertIn("bad.yaml", log)
        self.assertIn("500, 503", log)


if __name__ == "__main__":
    t.main()
