"""State and lock calls under the component's outbound resiliency policy:
per-attempt timeouts against a stalled Redis (late replies are dropped, later
requests get their own answers), retries that ride out a Redis restart, and
etag mismatches that are never retried."""

import os
import signal
import threading
import time

import ripstop_testlib as t

APP = "resapp"
BASE = "/v1.0/state/statestore"

RESILIENCY = """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: res
spec:
  policies:
    timeouts:
      fast: 300ms
    retries:
      few:
        policy: constant
        duration: 100ms
        maxRetries: 2
      patient:
        policy: constant
        duration: 500ms
        maxRetries: 40
  targets:
    components:
      statestore:
        outbound:
          timeout: fast
          retry: few
      patientstore:
        outbound:
          retry: patient
"""


class Resiliency(t.ProcTestCase):
    def start(self):
        self.redis = self.track(t.Redis())
        res = t.write_resources({
            "state.yaml": t.redis_state_yaml("statestore", self.redis),
            "patient.yaml": t.redis_state_yaml("patientstore", self.redis),
            "res.yaml": RESILIENCY,
        })
        self.sc = self.track(t.Sidecar(APP, resources=res))
        return self.sc

    def test_timeout_drops_late_replies(self):
        sc = self.start()
        for k in ("a", "b"):
            self.assertEqual(sc.req("POST", BASE, [{"key": k, "value": k}]).status, 204)
        # Freeze Redis (SIGSTOP): three 300 ms attempts (with 100 ms waits) all time out.
        os.kill(self.redis.proc.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            r = sc.req("GET", f"{BASE}/a", timeout=5)
            took = time.monotonic() - t0
            self.assertEqual(r.status, 500, r)
            self.assertEqual(r.json()["errorCode"], "ERR_STATE_GET")
            self.assertIn("deadline", r.json()["message"])
            self.assertTrue(0.9 < took < 3, took)  # answered by the policy, not by Redis
            self.assertEqual(sc.req("POST", BASE, [{"key": "a", "value": "lost"}], timeout=5).status, 500)
        finally:
            os.kill(self.redis.proc.pid, signal.SIGCONT)
        # The orphaned replies arrive now and must not be taken for anyone else's.
        t.wait_for(lambda: sc.req("GET", f"{BASE}/b").status == 200, 5, what="redis back")
        # The timed-out save may still have reached Redis (a timeout does not undo a write), so read it back.
        a = sc.req("GET", f"{BASE}/a").body
        self.assertIn(a, (b'"a"', b'"lost"'))
        for _ in range(20):
            self.assertEqual(sc.req("GET", f"{BASE}/a").body, a)
            self.assertEqual(sc.req("GET", f"{BASE}/b").body, b'"b"')
        self.assertTrue(sc.proc.alive())

    def test_retries_ride_out_a_restart(self):
        sc = self.start()
        self.redis.stop()
        t.wait_for(lambda: sc.req("GET", "/v1.0/state/statestore/x").status == 500, 5, what="redis down")
        result = {}

        def call():
            result["r"] = sc.req("POST", "/v1.0/state/patientstore", [{"key": "late", "value": 1}], timeout=30)
        th = threading.Thread(target=call)
        th.start()
        t.wait_for(lambda: "retry 2 for component_patientstore" in sc.proc.log(), 5, what="retries to be logged")
        self.redis.start()
        th.join(timeout=30)
        self.assertFalse(th.is_alive())
        self.assertEqual(result["r"].status, 204, result["r"])
        self.assertEqual(self.redis.cli("HGET", "resapp||late", "data"), "1")

    def test_etag_mismatch_is_not_retried(self):
        sc = self.start()
        sc.req("POST", "/v1.0/state/patientstore", [{"key": "e", "value": 1}])
        t0 = time.monotonic()
        r = sc.req("POST", "/v1.0/state/patientstore", [{"key": "e", "value": 2, "etag": "9"}])
        self.assertEqual(r.status, 409)
        self.assertLess(time.monotonic() - t0, 0.45)  # one retry would already wait 500 ms


if __name__ == "__main__":
    t.main()
