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
            "actions:\n- {name: k, type: kill, start: 1s, targets: [{app: a, process: both}]}\n": "process: 'both' is not one of app, sidecar",
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

    def test_infra_pause_network_actions_plan(self):
        rc, out = check(text=ACTIONS)
        self.assertEqual(rc, 0, out)
        self.assertIn("redis-restart  chaos  restart redis", out)
        self.assertIn("kafka-restart  chaos  restart kafka", out)
        self.assertIn("freeze         chaos  pause customer-audit-service#1(sidecar) redis", out)
        self.assertIn("slow-blob      chaos  network latency downstream: customer-audit-service#*->blob", out)
        self.assertIn("cut-app        chaos  network partition: customer-order-service#1->app", out)
        self.assertIn("slices         chaos  network slicer upstream: customer-loyalty-job#2->redis", out)

    def test_unknown_names_refused_with_line_and_allowed_values(self):
        """A scenario naming an app, instance, link, infra server or action type that does not exist is refused
        before anything starts: file, line, the field, and the values that would have been accepted."""
        base = ("runFile: RUNFILE\nload: {rate: 1, targets: [{name: a, app: frontend}]}\nactions:\n")
        cases = [
            ("- {name: x, type: explode, start: 1s}\n", 4,
             "actions[0].type: 'explode' is not one of kafka-latency, kafka-down, kill, http, restart, pause, network"),
            ("- name: k\n  type: kill\n  start: 1s\n  targets:\n  - {app: customer-order-servce}\n", 8,
             "actions[0] (k).targets[0].app: 'customer-order-servce' is not an app of"),
            ("- {name: k, type: kill, start: 1s, targets: [{app: customer-loyalty-job, instance: 3}]}\n", 4,
             "targets[0].instance: 3, but customer-loyalty-job has 2 instances (1..2)"),
            ("- {name: k, type: kill, start: 1s, targets: [{app: frontend, process: sidecar}]}\n", 4,
             "frontend has no sidecar (noSidecar: true); apps with one: frontend-dapr, customer-order-service"),
            ("- {name: n, type: network, fault: latency, start: 1s, stop: 2s,\n"
             "   targets: [{app: customer-order-service, link: redis}]}\n", 5,
             "targets[0].link: 'redis' is not a chaos link of customer-order-service in"),
            ("- {name: n, type: network, fault: latency, start: 1s, stop: 2s, targets: [{app: x, link: kafka}]}\n", 4,
             "targets[0].link: 'kafka' is not one of app, redis, blob"),
            ("- {name: n, type: network, fault: melt, start: 1s, stop: 2s, targets: [{app: x, link: app}]}\n", 4,
             "actions[0].fault: 'melt' is not one of latency, jitter, timeout, reset, bandwidth, slicer, partition"),
            ("- {name: r, type: restart, infra: mysql, start: 1s, stop: 2s}\n", 4,
             "actions[0].infra: 'mysql' is not one of redis, azurite, kafka"),
            ("- {name: p, type: pause, start: 1s, stop: 2s, targets: [{infra: postgres}]}\n", 4,
             "infra: 'postgres' is not one of redis, azurite, kafka-mock"),
            ("- {name: p, type: pause, start: 1s, targets: [{infra: redis}]}\n", 4,
             "actions[0].stop: required for pause"),
            ("- {name: p, type: kill, start: 1s, infra: redis, targets: [{app: frontend}]}\n", 4,
             "actions[0].infra: not a field of a kill action"),
        ]
        for extra, line, msg in cases:
            rc, out = check(text=base + extra)
            self.assertEqual(rc, 2, out)
            self.assertIn(msg, out)
            self.assertIn("scenario.yaml:%d: " % line, out)
        rc, out = check(text="runFile: RUNFILE\nload:\n  rate: 1\n  targets: [{name: a, app: nope}]\n")
        self.assertEqual(rc, 2, out)
        self.assertIn("scenario.yaml:4: load.targets[0].app: 'nope' is not an app of", out)
        self.assertIn("(one of: frontend-dapr, frontend, customer-order-service", out)


ACTIONS = """name: actions
runFile: RUNFILE
load: {rate: 1, duration: 20s, targets: [{name: dapr, app: frontend-dapr}]}
actions:
  - {name: redis-restart, type: restart, infra: redis, start: 1s, stop: 3s}
  - {name: kafka-restart, type: restart, infra: kafka, start: 1s, stop: 3s}
  - name: freeze
    type: pause
    start: 2s
    stop: 4s
    targets: [{app: customer-audit-service, process: sidecar}, {infra: redis}]
  - {name: slow-blob, type: network, fault: latency, latency: 500ms, jitter: 100ms, start: 1s, stop: 5s,
     targets: [{app: customer-audit-service, link: blob}]}
  - {name: cut-app, type: network, fault: partition, start: 1s, stop: 5s,
     targets: [{app: customer-order-service, instance: 1, link: app}]}
  - {name: slices, type: network, fault: slicer, stream: upstream, sliceSize: 10, start: 1s, stop: 5s,
     targets: [{app: customer-loyalty-job, instance: 2, link: redis}]}
"""


if __name__ == "__main__":
    rt.main()
