"""`ripstop demo --quick`: the whole order system under chaos, end to end, and its verdict.

Starts everything through the runner (Redis, Azurite, kafka-mock, 10 app
instances with their sidecars), drives both frontends with the same open-loop
load through a Kafka latency window and a crash window, and checks the verdict
the demo wrote, the recording it was computed from, and the report."""
import json
import os
import re
import subprocess
import tempfile

import ripstop_testlib as rt


class DemoQuickTest(rt.ProcTestCase):
    def run_demo(self, *args, timeout=400):
        out = tempfile.mkdtemp(prefix="ripstop-demo-")
        p = self.track(rt.Proc("demo", [rt.binary("ripstop"), "demo", "--out", out, *args], cwd=rt.SRC, logdir=out))
        rt.wait_for(lambda: not p.alive(), timeout, interval=0.5, what="ripstop demo to finish")
        return p, out

    def test_quick_demo_tells_the_story(self):
        p, out = self.run_demo("--quick")
        log = p.log()
        self.assertEqual(p.p.returncode, 0, log[-6000:])
        with open(os.path.join(out, "verdict.json")) as f:
            v = json.load(f)
        checks = {c["name"]: c for c in v["checks"]}
        self.assertTrue(v["pass"])
        for name in ("dapr-survives-chaos", "dapr-beats-direct", "orders-published", "lock-exact",
                     "lock-no-lost-orders", "nolock-overcount-shown", "drained"):
            self.assertTrue(checks[name]["pass"], checks[name])
        dapr, direct = v["frontends"]["dapr"], v["frontends"]["direct"]
        # open loop: the same schedule for both, whatever they answered
        self.assertEqual(dapr["sent"], 45)
        self.assertEqual(direct["sent"], 45)
        self.assertGreaterEqual(dapr["chaos_window"]["success_rate"], 0.9)
        self.assertGreaterEqual(dapr["chaos_window"]["success_rate"] - direct["chaos_window"]["success_rate"], 0.3)
        self.assertGreater(direct["failed"], 0)
        # expectation from the broker; the lock variant matches it customer by customer
        pub = v["published"]
        self.assertGreaterEqual(pub["distinct_orders"], dapr["succeeded"] + direct["succeeded"])
        self.assertEqual(pub["messages"] - pub["distinct_orders"], pub["duplicate_messages"])
        lock, nolock = v["loyalty"]["lock"], v["loyalty"]["nolock"]
        self.assertEqual(len(lock["customers"]), 10)
        for c in lock["customers"]:
            self.assertEqual(c["actual_count"], c["expected_count"], c)
            self.assertEqual(c["actual_points"], c["expected_points"], c)
        self.assertEqual(lock["lost"], 0)
        self.assertEqual(v["lost"]["answered_not_published"], 0)
        self.assertGreaterEqual(nolock["counted_orders"], nolock["expected_orders"])
        # the table on stdout
        self.assertIn("VERDICT: PASS", log)
        self.assertIn("customer 10", log)
        # the recording reproduces the verdict offline
        r = subprocess.run([rt.binary("ripstop"), "verify", os.path.join(out, "recording.json")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(out, "recording.json")) as f:
            rec = json.load(f)
        kinds = {w["name"]: w for w in rec["windows"]}
        self.assertEqual(kinds["kafka-latency"]["kind"], "chaos")
        self.assertTrue(kinds["crash"]["happened"])
        texts = "\n".join(e["text"] for e in rec["events"])
        for app in ("customer-order-service#1", "customer-audit-service#1", "customer-loyalty-job#2"):
            self.assertIn(f"{app} app exited (signal 9)", texts)
        self.assertTrue(rec["breaker"], "breaker samples")
        # the report: self-contained, with the data embedded
        with open(os.path.join(out, "report.html")) as f:
            html = f.read()
        self.assertIn("window.RIPSTOP_DATA = {", html)
        self.assertNotRegex(html, r'(src|href)\s*=\s*["\']?https?:')
        self.assertNotIn("@import", html)
        # the traces the sidecars exported to the demo: waterfalls of chosen orders across the services
        data = re.search(r"<script>window\.RIPSTOP_DATA = (.*?);</script>", html, re.S)
        traces = json.loads(data.group(1).replace("<\\/", "</"))["traces"]
        self.assertGreater(traces["collector"]["spans"], 100)
        self.assertEqual(traces["collector"]["dropped"], 0)
        labels = [c["label"] for c in traces["chosen"]]
        self.assertIn("chaos: kafka-latency", labels)
        for c in traces["chosen"]:
            if c.get("killed"):
                continue
            services = set(c["waterfall"]["services"])
            self.assertTrue({"frontend-dapr", "customer-order-service", "customer-audit-service"} <= services,
                            (c["label"], services))
        # the crash window's pick is about the killed loyalty replica: the kill waits (whenHolding) until replica #2
        # holds an order blob's lock with the order not counted yet, so there is always an order it was working
        # on, finished after the kill by another replica or its restart
        self.assertRegex(texts, r"crash: customer-loyalty-job#2 holds lock \S+, no key customer-loyalty-job\|\|"
                                r"processed:\S+ \(after \d+\.\d+ s\)")
        self.assertNotIn("killing it anyway", texts)
        killed = [c for c in traces["chosen"] if c.get("killed")]
        self.assertEqual([c["label"] for c in killed], ["crash: customer-loyalty-job#2 replica killed"])
        k = killed[0]
        self.assertFalse(k.get("none"), k)
        self.assertIn("was working on this order when it was killed", k["why"])
        rows = k["waterfall"]["rows"]
        mark = k["waterfall"]["marks"][0]["at_ms"]
        loyalty = [r for r in rows if r["service"] == "customer-loyalty-job"]
        before = [r for r in loyalty if r.get("killed")]
        after = [r for r in loyalty if r["start_ms"] > mark]
        # the killed replica's rows all started before the kill; the order was taken up again after it
        self.assertTrue(before and all(r["instance"] == 2 and r["start_ms"] <= mark for r in before), rows)
        self.assertTrue(after and not any(r.get("killed") for r in after), (mark, rows))
        # a row before the kill that is not the killed replica's is the other replica's (e.g. its TryLock on
        # the order #2 held), never #2's own unmarked
        others = [r for r in loyalty if not r.get("killed") and r["start_ms"] <= mark]
        self.assertTrue(all(r["instance"] != 2 for r in others), (mark, rows))
        # everything it started is stopped: the dashboard and chaos API ports are closed again
        for m in re.finditer(r"(dashboard|chaos API): http://127\.0\.0\.1:(\d+)/", log):
            self.assertFalse(rt.port_open(int(m.group(2))), m.group(0))
        self.assertTrue(os.path.isdir(os.path.join(out, "logs")))

    def test_bad_scenario_is_refused_clearly(self):
        d = tempfile.mkdtemp(prefix="ripstop-scn-")
        bad = os.path.join(d, "s.yaml")
        with open(bad, "w") as f:
            f.write("load: {rate: 1, targets: [{name: a, app: x}]}\nactions:\n- {name: k, type: explode, start: 1s}\n")
        p, _ = self.run_demo("--scenario", bad, timeout=30)
        self.assertEqual(p.p.returncode, 2)
        self.assertIn("actions[0].type: 'explode' is not one of", p.log())
        with open(bad, "w") as f:
            f.write("runFile: nowhere.yaml\nload: {rate: 1, targets: [{name: a, app: x}]}\n")
        p, _ = self.run_demo("--scenario", bad, timeout=30)
        self.assertEqual(p.p.returncode, 1)
        self.assertIn("nowhere.yaml is missing", p.log())


if __name__ == "__main__":
    rt.main()
