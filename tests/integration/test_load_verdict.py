"""`ripstop verify`: the demo verdict as a pure function of a recording, with cases that must fail."""
import copy
import json
import os
import subprocess
import tempfile
import unittest

import ripstop_testlib as rt

TOTALS = {1: 13, 2: 56, 3: 22, 4: 107, 5: 89, 6: 17, 7: 168, 8: 158, 9: 74, 10: 72}


def story(n=40, direct_ok_in_chaos=False):
    """A recording where the story holds: n requests per frontend at 1/s, chaos 10..30 s."""
    recs, published = [], []
    for i in range(n):
        for target in ("dapr", "direct"):
            in_chaos = 10000 <= i * 1000 < 30000
            ok = target == "dapr" or not in_chaos or direct_ok_in_chaos
            oid = f"{target}-{i}"
            recs.append({"target": target, "seq": i, "sched_ms": i * 1000, "sent_ms": i * 1000,
                         "latency_ms": 7000 if in_chaos else 20, "status": 200 if ok else 500, "ok": ok,
                         "order_id": oid if ok else "", "error": ""})
            if ok:
                published.append({"orderId": oid, "customerId": i % 10 + 1, "orderTotal": TOTALS[i % 10 + 1]})
    published.append(dict(published[12]))  # a retried invocation published one order twice
    published.append(dict(published[12]))
    state = {}
    for m in {p["orderId"]: p for p in published}.values():
        s = state.setdefault(str(m["customerId"]), {"loyaltyPoints": 0, "orderCount": 0})
        s["orderCount"] += 1
        s["loyaltyPoints"] += m["orderTotal"]
    nolock = copy.deepcopy(state)
    nolock["3"]["orderCount"] += 2
    nolock["3"]["loyaltyPoints"] += 44
    return {"load": {"targets": [{"name": "dapr", "url": "x"}, {"name": "direct", "url": "y"}], "records": recs},
            "windows": [{"name": "kafka-latency", "kind": "chaos", "start_ms": 10000, "end_ms": 30000},
                        {"name": "crash", "kind": "crash", "start_ms": 32000, "end_ms": 33000}],
            "published": published, "loyalty": {"lock": state, "nolock": nolock}, "drained": True,
            "criteria": {"min_dapr_chaos_success": 0.9, "min_success_gap": 0.3}}


class VerdictTest(unittest.TestCase):
    def verify(self, rec):
        d = tempfile.mkdtemp(prefix="ripstop-verdict-")
        path, out = os.path.join(d, "recording.json"), os.path.join(d, "verdict.json")
        with open(path, "w") as f:
            json.dump(rec, f)
        p = subprocess.run([rt.binary("ripstop"), "verify", path, "--out", out], capture_output=True, text=True,
                           timeout=30)
        with open(out) as f:
            v = json.load(f)
        self.assertEqual(p.returncode, 0 if v["pass"] else 1, p.stdout + p.stderr)
        return v, p.stdout

    def checks(self, v):
        return {c["name"]: c["pass"] for c in v["checks"]}

    def test_story_holds(self):
        v, out = self.verify(story())
        self.assertTrue(v["pass"], out)
        fd, fp = v["frontends"]["dapr"], v["frontends"]["direct"]
        self.assertEqual((fd["sent"], fd["succeeded"], fd["failed"]), (40, 40, 0))
        self.assertEqual((fp["sent"], fp["succeeded"], fp["failed"]), (40, 20, 20))
        self.assertEqual(fd["chaos_window"], {"sent": 20, "succeeded": 20, "success_rate": 1.0})
        self.assertEqual(fp["chaos_window"]["success_rate"], 0.0)
        self.assertEqual(fd["p99_ms"], 7000)
        self.assertEqual(v["published"]["messages"], 62)
        self.assertEqual(v["published"]["distinct_orders"], 60)
        self.assertEqual(v["published"]["duplicate_messages"], 2)
        self.assertEqual(v["published"]["duplicated_orders"], 1)
        lock, nolock = v["loyalty"]["lock"], v["loyalty"]["nolock"]
        self.assertTrue(lock["exact"])
        self.assertEqual(lock["lost"], 0)
        self.assertEqual(lock["expected_orders"], 60)
        self.assertEqual(nolock["overcount"], 2)
        c3 = [c for c in nolock["customers"] if c["customerId"] == 3][0]
        self.assertEqual(c3["actual_count"] - c3["expected_count"], 2)
        self.assertIn("VERDICT: PASS", out)
        self.assertIn("customer 10", out)

    def test_dapr_no_better_than_direct_fails(self):
        v, out = self.verify(story(direct_ok_in_chaos=True))
        self.assertFalse(v["pass"])
        self.assertFalse(self.checks(v)["dapr-beats-direct"])
        self.assertIn("VERDICT: FAIL", out)

    def test_dapr_failing_in_chaos_fails(self):
        rec = story()
        for r in rec["load"]["records"]:
            if r["target"] == "dapr" and 10000 <= r["sent_ms"] < 20000:
                r["ok"], r["status"] = False, 500
        v, _ = self.verify(rec)
        self.assertFalse(self.checks(v)["dapr-survives-chaos"])

    def test_lock_overcount_fails(self):
        rec = story()
        rec["loyalty"]["lock"]["5"]["orderCount"] += 1
        rec["loyalty"]["lock"]["5"]["loyaltyPoints"] += 89
        v, _ = self.verify(rec)
        self.assertFalse(self.checks(v)["lock-exact"])
        self.assertTrue(self.checks(v)["lock-no-lost-orders"])
        self.assertEqual(v["loyalty"]["lock"]["overcount"], 1)

    def test_lock_lost_order_fails(self):
        rec = story()
        rec["loyalty"]["lock"]["7"]["orderCount"] -= 1
        rec["loyalty"]["lock"]["7"]["loyaltyPoints"] -= 168
        v, _ = self.verify(rec)
        self.assertFalse(self.checks(v)["lock-no-lost-orders"])
        self.assertEqual(v["lost"]["lock"], 1)

    def test_absurd_numbers_fail_cleanly(self):
        # A corrupt store must make the check fail, not overflow the arithmetic.
        rec = story()
        rec["loyalty"]["lock"]["3"]["orderCount"] = -2 ** 63
        rec["loyalty"]["lock"]["4"]["loyaltyPoints"] = 1e308
        v, _ = self.verify(rec)
        self.assertFalse(self.checks(v)["lock-exact"])

    def test_points_mismatch_fails(self):
        rec = story()
        rec["loyalty"]["lock"]["2"]["loyaltyPoints"] += 1
        v, _ = self.verify(rec)
        self.assertFalse(self.checks(v)["lock-exact"])

    def test_answered_but_not_published_is_lost(self):
        rec = story()
        gone = rec["published"].pop(0)["orderId"]
        rec["published"] = [p for p in rec["published"] if p["orderId"] != gone]
        v, _ = self.verify(rec)
        self.assertEqual(v["lost"]["answered_not_published"], 1)
        self.assertFalse(self.checks(v)["orders-published"])
        self.assertFalse(v["pass"])

    def test_nolock_undercount_fails(self):
        rec = story()
        rec["loyalty"]["nolock"] = copy.deepcopy(rec["loyalty"]["lock"])
        rec["loyalty"]["nolock"]["1"]["orderCount"] -= 3
        v, _ = self.verify(rec)
        self.assertFalse(self.checks(v)["nolock-overcount-shown"])

    def test_missing_inputs_fail_clearly(self):
        rec = story()
        del rec["published"]
        del rec["loyalty"]
        v, out = self.verify(rec)
        self.assertFalse(v["pass"])
        self.assertIn("missing input", out)

    def test_too_few_chaos_requests_fails(self):
        rec = story()
        rec["windows"][0]["end_ms"] = 12000
        v, _ = self.verify(rec)
        self.assertFalse(self.checks(v)["dapr-survives-chaos"])

    def test_not_drained_fails(self):
        rec = story()
        rec["drained"] = False
        v, _ = self.verify(rec)
        self.assertFalse(self.checks(v)["drained"])

    def test_bad_input(self):
        d = tempfile.mkdtemp(prefix="ripstop-verdict-")
        path = os.path.join(d, "bad.json")
        with open(path, "w") as f:
            f.write("{nope")
        p = subprocess.run([rt.binary("ripstop"), "verify", path], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("bad.json", p.stderr)


if __name__ == "__main__":
    rt.main()
