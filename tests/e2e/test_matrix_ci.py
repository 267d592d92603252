"""`ripstop matrix --ci`: two library scenarios (a Redis restart during counting; pauses and every kind of network
fault through the chaos links), quick versions, one seed each, each from a clean start. Proves the actions do what
they say on a live system (the events the demo recorded), that the verdicts hold (no lost order, the lock variant
exact after the restart: Redis kept its data), and that the summary table and page link each run's report."""
import json
import os
import subprocess
import tempfile
import unittest

import ripstop_testlib as rt


class MatrixCiTest(unittest.TestCase):
    def test_ci_matrix(self):
        out = tempfile.mkdtemp(prefix="ripstop-matrix-")
        p = subprocess.run([rt.binary("ripstop"), "matrix", "--ci", "--seed-base", "31", "--out", out],
                           capture_output=True, text=True, timeout=540, cwd=rt.SRC)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("MATRIX: PASS", p.stdout)
        summary = json.load(open(os.path.join(out, "summary.json")))
        runs = {r["scenario"]: r for r in summary["runs"]}
        self.assertEqual(sorted(runs), ["pause-and-network", "redis-restart"])
        self.assertEqual(sorted(r["seed"] for r in summary["runs"]), [31, 32])
        for r in summary["runs"]:
            self.assertTrue(r["pass"], r)
            self.assertEqual(r["lock_lost"], 0, r)
            self.assertEqual(r["lock_double_counted"], 0, r)
            self.assertGreater(r["orders"], 0, r)
            self.assertTrue(os.path.exists(os.path.join(out, r["dir"], "report.html")), r)
        page = open(os.path.join(out, "index.html")).read()
        md = open(os.path.join(out, "summary.md")).read()
        for r in summary["runs"]:
            self.assertIn('href="%s/report.html"' % r["dir"], page)
            self.assertIn(r["dir"] + "/report.html", md)

        def events(name):
            rec = json.load(open(os.path.join(out, runs[name]["dir"], "recording.json")))
            self.assertEqual(rec["scenario"]["seed"], runs[name]["seed"])
            self.assertTrue(rec["resiliency"], "no resiliency samples recorded")
            return "\n".join(e["text"] for e in rec["events"])

        ev = events("redis-restart")
        self.assertIn("redis-restart: redis stopped (SIGTERM to pid", ev)
        self.assertIn("redis-restart: redis started again on the same port and data", ev)
        self.assertRegex(ev, r"redis#1 infra exited")
        ev = events("pause-and-network")
        for want in ("pause-audit-sidecar: paused (SIGSTOP) customer-audit-service sidecar",
                     "pause-audit-sidecar: resumed (SIGCONT) customer-audit-service sidecar",
                     "pause-redis: paused (SIGSTOP) redis", "pause-redis: resumed (SIGCONT) redis",
                     "cut-replica-redis: customer-loyalty-job#2 sidecar -> Redis: a partition",
                     "slice-replica-redis: customer-loyalty-job#2 sidecar -> Redis: data sliced into 16-byte pieces",
                     "thin-blob: customer-loyalty-job#1 sidecar -> blob storage: bandwidth capped at 2 KB/s",
                     "app-latency: customer-order-service#* sidecar -> its app: 300 ms"):
            self.assertIn(want, ev)
        self.assertNotIn("not running", ev)
        self.assertNotIn("proxy ", ev)  # no proxy errors ("<action>: proxy <name>: <error>")
        # A sidecar behind an app-link proxy starts once its app listens, so no sidecar took a proxy for its app
        # too early and lost an input binding (the loyalty jobs' cron) for the rest of the run.
        for r in summary["runs"]:
            logs = os.path.join(out, r["dir"], "logs")
            for name in os.listdir(logs):
                if "_daprd_" in name:
                    text = open(os.path.join(logs, name), errors="replace").read()
                    self.assertNotIn("app has not subscribed to binding", text, name)

    def test_bad_scenario_refused_before_anything_starts(self):
        d = tempfile.mkdtemp(prefix="ripstop-matrix-bad-")
        bad = os.path.join(d, "bad.yaml")
        with open(bad, "w") as f:
            f.write("runFile: %s\nload: {rate: 1, targets: [{name: a, app: frontend}]}\nactions:\n"
                    "- {name: r, type: restart, infra: postgres, start: 1s, stop: 2s}\n"
                    % os.path.join(rt.SRC, "deploy", "local", "dapr.yaml"))
        out = os.path.join(d, "out")
        p = subprocess.run([rt.binary("ripstop"), "matrix", "--out", out, bad], capture_output=True, text=True,
                           timeout=30, cwd=rt.SRC)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("bad.yaml:4: actions[0].infra: 'postgres' is not one of redis, azurite, kafka", p.stderr)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    rt.main()
