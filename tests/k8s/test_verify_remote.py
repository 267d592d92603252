"""`ripstop verify --load ... --brokers ... --redis ...`: the verify Job's verdict from a system running
elsewhere, here on loopback: orders published through a ripstopd onto kafka-mock, loyalty records in a
redis-server with a password (as Dapr's state.redis stores them), the load record of the deploy/local
scenario's quick run. Plus: errors name the endpoint that could not be reached; SASL/TLS options are
applied (kafka-mock speaks neither, so a client using them must fail against it, naming the brokers)."""

import json
import os
import subprocess
import tempfile

import ripstop_testlib as t

SCENARIO = os.path.join(t.SRC, "deploy", "local", "scenario.yaml")
TOTALS = {1: 13, 2: 56, 3: 22, 4: 107, 5: 89, 6: 17, 7: 168, 8: 158, 9: 74, 10: 72}
PASSWORD = "verify-test-pw"


def load_record(n=45, chaos=(5000, 25000)):
    """`ripstop load --out` of the quick run: the plain frontend fails in the chaos window."""
    recs = []
    for i in range(n):
        for target in ("dapr", "direct"):
            ok = target == "dapr" or not (chaos[0] <= i * 1000 < chaos[1])
            recs.append({"target": target, "seq": i, "sched_ms": i * 1000, "sent_ms": i * 1000, "latency_ms": 20,
                         "status": 200 if ok else 500, "ok": ok, "order_id": f"{target}-{i}" if ok else "",
                         "error": ""})
    return {"targets": [{"name": "dapr", "url": "x"}, {"name": "direct", "url": "y"}], "records": recs}


class VerifyRemote(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="ripstop-verify-remote-")
        self.load = os.path.join(self.dir, "load.json")
        with open(self.load, "w") as f:
            json.dump(load_record(), f)

    def verify(self, *extra, env=None):
        argv = [t.binary("ripstop"), "verify", "--load", self.load, "--scenario", SCENARIO, "--quick",
                "--settle", "0", "--drain-timeout", "10", "--kafka-timeout", "2", *extra]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, **(env or {})))

    def test_verdict_from_kafka_and_redis(self):
        kafka = self.track(t.KafkaMock(topics=["order"]))
        redis = self.track(t.Redis(password=PASSWORD))
        res = t.write_resources({"pubsub.yaml": f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: order-queue
spec:
  type: pubsub.kafka
  version: v1
  metadata:
  - name: brokers
    value: {kafka.bootstrap}
  - name: authType
    value: none
  - name: disableTls
    value: "true"
"""})
        sc = self.track(t.Sidecar("customer-order-service", resources=res))
        state = {"lock": {}, "nolock": {}}
        for rec in load_record()["records"]:
            if not rec["ok"]:
                continue
            k = int(rec["seq"]) % 10 + 1
            order = {"orderId": rec["order_id"], "customerId": k, "orderTotal": TOTALS[k], "loyaltyPoints": 0,
                     "orderCount": 0}
            r = sc.req("POST", "/v1.0/publish/order-queue/order", order)
            self.assertEqual(r.status, 204, r)
            for variant in state.values():
                s = variant.setdefault(k, {"loyaltyPoints": 0, "orderCount": 0})
                s["orderCount"] += 1
                s["loyaltyPoints"] += TOTALS[k]
        state["nolock"][3]["orderCount"] += 1  # the no-lock job counted an order twice
        state["nolock"][3]["loyaltyPoints"] += 22
        for app, variant in (("customer-loyalty-job", "lock"), ("customer-loyalty-job-nolock", "nolock")):
            for k, v in state[variant].items():
                redis.cli("HSET", f"{app}||{k}", "data", json.dumps(v), "version", "1")
        out = os.path.join(self.dir, "verdict.json")
        p = self.verify("--brokers", kafka.bootstrap, "--redis", redis.addr, "--out", out,
                        env={"RIPSTOP_REDIS_PASSWORD": PASSWORD})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(out) as f:
            v = json.load(f)["verdict"]
        self.assertTrue(v["pass"])
        checks = {c["name"]: c["pass"] for c in v["checks"]}
        self.assertTrue(all(checks.values()), checks)
        self.assertIn("PASS", p.stdout)

        # The same system with the wrong Redis password: the error names the endpoint.
        p = self.verify("--brokers", kafka.bootstrap, "--redis", redis.addr, env={"RIPSTOP_REDIS_PASSWORD": "wrong"})
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"redis {redis.addr}: AUTH:", p.stderr)

        # SASL/PLAIN and TLS are applied: kafka-mock speaks neither, so the read fails and names the brokers.
        for opts in (["--kafka-sasl-user", "user"], ["--kafka-tls"]):
            p = subprocess.run([t.binary("ripstop"), "verify", "--load", self.load, "--scenario", SCENARIO,
                                "--brokers", kafka.bootstrap, "--redis", redis.addr, "--kafka-timeout", "2", *opts],
                               capture_output=True, text=True, timeout=120,
                               env=dict(os.environ, RIPSTOP_KAFKA_PASSWORD="pw", RIPSTOP_REDIS_PASSWORD=PASSWORD))
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            self.assertIn(f"reading topic 'order' from {kafka.bootstrap}:", p.stderr)

    def test_unreachable_endpoints_are_named(self):
        closed = t.free_port()
        p = self.verify("--brokers", f"127.0.0.1:{closed}", "--redis", "127.0.0.1:1")
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"reading topic 'order' from 127.0.0.1:{closed}:", p.stderr)
        kafka = self.track(t.KafkaMock(topics=["order"]))
        p = self.verify("--brokers", kafka.bootstrap, "--redis", f"127.0.0.1:{closed}")
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"redis 127.0.0.1:{closed}:", p.stderr)
        p = subprocess.run([t.binary("ripstop"), "verify", "--load", self.load, "--scenario", SCENARIO, "--brokers",
                            kafka.bootstrap, "--redis", "x:1", "--kafka-sasl-user", "user"],
                           capture_output=True, text=True, timeout=30, env={"PATH": os.environ.get("PATH", "")})
        self.assertEqual(p.returncode, 2)
        self.assertIn("RIPSTOP_KAFKA_PASSWORD", p.stderr)

    def test_load_takes_the_scenario_schedule(self):
        p = subprocess.run([t.binary("ripstop"), "load", "--scenario", SCENARIO, "--quick", "--url",
                            "nope=http://127.0.0.1:1/"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("target 'nope' is not one of the scenario's targets", p.stderr)


if __name__ == "__main__":
    t.main()
