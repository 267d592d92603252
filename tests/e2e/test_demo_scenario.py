"""Scenario files: `ripstop demo --check` validates a scenario (and its run file) and prints the plan,
starting nothing; bad scenarios are refused with the field at fault."""
import os
import subprocess
import tempfile
import unittest

import ripstop_testlib as rt

DEFAULT = os.path.join(rt.SRC, "deploy", "local", "scenario.yaml")
RUN_FILE = os.path.join(rt.SRC, "deploy", "local", "dapr.yaml")


def check(*args, text=None):
    path = None
    if text is not None:
        d = tempfile.mkdtemp(prefix="ripstop-scn-")
        path = os.path.join(d, "scenario.yaml")
        with open(path, "w") as f:
            f.write(text.replace("RUNFILE", RUN_FILE))
        args = ("--scenario", path) + args
    p = subprocess.run([rt.binary("ripstop"), "demo", "--check", *args], capture_output=True, text=True,
                       timeout=30, cwd=rt.SRC)
    return p.returncode, p.stdout + p.stderr


CUSTOM = """name: custom
seed: 9
runFile: RUNFILE
env: {LIST_SIZE: 20, FLAG: "yes"}
load:
  rate: "2.5"
  duration: 20s
  targets: [{name: dapr, app: frontend-dapr}, {name: direct, app: frontend, path: /x}]
actions:
  - {name: outage, type: kafka-down, start: 2s, stop: 4000}
  - name: kills
    type: kill
    start: 5s
    targets: [{app: customer-loyalty-job, instance: 2, process: sidecar}, {app: customer-audit-service}]
  - name: toxic
    type: http
    kind: other
    start: 6s
    stop: 8s
    onStart: {method: POST, url: "${RIPSTOP_CHAOS_API}/proxies", body: {name: p}}
    onStop: {method: DELETE, url: "${RIPSTOP_CHAOS_API}/proxies/p"}
quick:
  load: {duration: 10s}
  actions: {kills: {start: 1s}}
"""


class ScenarioTest(unittest.TestCase):
    def test_default_scenario_plan(self):
        rc, out = check()
        self.assertEqual(rc, 0, out)
        self.assertIn("load 1 req/s per target for 90.0 s", out)
        self.assertIn("10.0 s ..   50.0 s  kafka-latency  chaos  kafka-latency 6000 ms +- 2000 ms", out)
        self.assertIn("kill signal 9: customer-order-service#1 customer-audit-service#1 customer-loyalty-job#2", out)
        self.assertIn("env DIRECT_FRONTEND_TIMEOUT_MS=5000", out)
        rc, out = check("--quick")
        self.assertEqual(rc, 0, out)
        self.assertIn("for 45.0 s", out)
        self.assertIn("5.0 s ..   25.0 s  kafka-latency", out)
        self.assertIn('"min_chaos_requests":8', out)

    def test_custom_scenario_all_action_types(self):
        rc, out = check(text=CUSTOM)
        self.assertEqual(rc, 0, out)
        self.assertIn("load 2.5 req/s per target for 20.0 s (timeout 60.0 s): dapr=frontend-dapr/ direct=frontend/x", out)
        self.assertIn("2.0 s ..    4.0 s  outage         chaos  kafka-down", out)
        self.assertIn("customer-loyalty-job#2(sidecar) customer-audit-service#1", out)
        self.assertIn("toxic          other  http", out)
        self.assertIn("env LIST_SIZE=20", out)
        self.assertIn("env FLAG=yes", out)
        rc, out = check("--quick", text=CUSTOM)
        self.assertEqual(rc, 0, out)
        self.assertIn("for 10.0 s", out)
        self.assertIn("1.0 s             kills          crash", out)

    def test_bad_scenarios(self):
        base = "runFile: RUNFILE\nload: {rate: 1, targets: [{name: a, app: frontend}]}\n"
        cases = {
            "actions:\n- {name: k, type: kafka-latency, start: 5s}\n": "actions[0].stop: required for kafka-latency",
            "actions:\n- {name: k, type: kafka-down, start: 5s, stop: 2s}\n": "actions[0].stop: before start",
            "actions:\n- {name: k, type: kill, start: 1s, targets: []}\n": "actions[0].targets",
            "actions:\n- {name: k, type: kill, start: 1s, targets: [{app: a, process: both}]}\n": "process: app or sidecar",
            "actions:\n- {name: k, type: http, start: 1s}\n": "http wants onStart and/or onStop",
            "actions:\n- {name: k, type: kafka-down, start: soon, stop: 2s}\n": "actions[0].start: not a duration",
            ("actions:\n- {name: k, type: kafka-down, start: 1s, stop: 2s}\n"
             "- {name: k, type: kafka-down, start: 3s, stop: 4s}\n"): "'k' used twice",
            "env: [A]\n": "env: a mapping",
        }
        for extra, msg in cases.items():
            rc, out = check(text=base + extra)
            self.assertEqual(rc, 2, out)
            self.assertIn(msg, out)
        rc, out = check(text="runFile: RUNFILE\nload: {rate: 0, targets: [{name: a, app: b}]}\n")
        self.assertEqual(rc, 2)
        self.assertIn("load.rate", out)
        rc, out = check(text="runFile: RUNFILE\nload: {rate: 1}\n")
        self.assertEqual(rc, 2)
        self.assertIn("load.targets", out)
        rc, out = check(text="- just\n- a list\n")
        self.assertEqual(rc, 2)
        self.assertIn("top level must be a mapping", out)
        rc, out = check(text="key: [unclosed\n")
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    rt.main()
