"""End to end: the whole order system via `ripstop run -f deploy/local/dapr.yaml` (Redis, Azurite and
kafka-mock started by the runner), orders through both frontends, then after the loyalty jobs have
drained the blob containers:
  - every order a frontend answered with success was published (read back from Kafka);
  - both containers are empty;
  - `loyalty-store` is exact for all ten customers w.r.t. the distinct orderIds published;
  - `loyalty-store-nolock` counts at least as many (usually more).
Then the same again while customer-loyalty-job replicas are killed with -9 during processing.
Prints the measured drain rate (orders per second processed by the jobs).

Knobs (environment): RIPSTOP_E2E_ORDERS (per frontend and phase, default 40),
RIPSTOP_E2E_SCHEDULE (cron of both jobs, default every second), RIPSTOP_E2E_LIST_SIZE (default 10)."""

import concurrent.futures
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import ripstop_testlib as rt
from runner_fixtures import RunnerProc, pid_gone

N = int(os.environ.get("RIPSTOP_E2E_ORDERS", "40"))
SCHEDULE = os.environ.get("RIPSTOP_E2E_SCHEDULE", "*/1 * * * * *")
LIST_SIZE = os.environ.get("RIPSTOP_E2E_LIST_SIZE", "10")
TOTALS = {1: 13, 2: 56, 3: 22, 4: 107, 5: 89, 6: 17, 7: 168, 8: 158, 9: 74, 10: 72}
DRAIN_DEADLINE = 240  # a replica killed while holding a blob's lock leaves it locked for up to 60 s


class OrderSystem:
    """The running system: ports parsed from `ripstop run`'s summary, helpers to talk to it."""

    def __init__(self):
        self.logdir = tempfile.mkdtemp(prefix="ripstop-e2e-")
        run_file = os.path.join(rt.SRC, "deploy", "local", "dapr.yaml")
        self.runner = RunnerProc(run_file, ["--log-dir", self.logdir, "--quiet", "--ready-timeout", "150",
                                            "--env", "LOYALTY_SCHEDULE=" + SCHEDULE, "--env", "LIST_SIZE=" + LIST_SIZE],
                                 logdir=self.logdir)
        self.runner.wait_ready(180)
        out = self.runner.out()
        self.ports = {}
        for m in re.finditer(r"\[ripstop\]\s+(\S+)#(\d+)\s+app port (\d+)\s+dapr http port (\d+)", out):
            self.ports[(m.group(1), int(m.group(2)))] = (int(m.group(3)), int(m.group(4)))
        self.infra = dict(re.findall(r"\[ripstop\] (RIPSTOP_\w+)=(\S+)", out))

    def app_port(self, app, inst=1):
        return self.ports[(app, inst)][0]

    def sidecar(self, app, inst=1):
        return self.ports[(app, inst)][1]

    def blobs(self, binding):
        """Names of the blobs in a container, listed through the audit service's sidecar."""
        r = rt.request("POST", self.sidecar("customer-audit-service"), "/v1.0/bindings/" + binding,
                       {"operation": "list", "data": {"maxResults": 5000}}, timeout=10)
        if r.status != 200:
            raise AssertionError("list %s: %s" % (binding, r))
        return [b["Name"] for b in (r.json() or [])]

    def loyalty(self, store, app):
        out = {}
        for cid in TOTALS:
            r = rt.request("GET", self.sidecar(app), "/v1.0/state/%s/%d" % (store, cid), timeout=10)
            out[cid] = r.json() if r.status == 200 and r.body else {"orderCount": 0, "loyaltyPoints": 0}
        return out

    def published(self):
        """{orderId: customerId} of every message on topic `order`, read back from the broker."""
        res = subprocess.run([rt.binary("ripstop"), "kafka-dump", "--brokers", self.infra["RIPSTOP_KAFKA_BROKERS"],
                              "--topic", "order", "--timeout-ms", "30000"], capture_output=True, text=True, timeout=60)
        if res.returncode != 0:
            raise AssertionError("kafka-dump failed: " + res.stderr)
        msgs = json.loads(res.stdout)
        out = {}
        for m in msgs:
            if "orderId" not in m:
                raise AssertionError("a message on 'order' is not an order: %r" % m)
            out[m["orderId"]] = m["customerId"]
        return out, len(msgs)

    def stop(self):
        """Stops the run (SIGTERM); returns (its exit status, every pid it started)."""
        pids = self.runner.all_pids()
        pids += [int(p) for p in re.findall(r"\[ripstop\] started (?:redis|azurite|kafka-mock) \(pid (\d+)\)",
                                            self.runner.out())]
        return self.runner.proc.stop(timeout=40), pids


def send_orders(port, n, workers=4):
    """n GET / on a frontend; returns [(status, orderId or None, body)]."""
    def one(_):
        try:
            r = rt.request("GET", port, "/", timeout=60)
        except OSError as e:
            return (0, None, str(e))
        m = re.search(r"Order (\S+) received", r.text)
        return (r.status, m.group(1) if m else None, r.text[:200])
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        return list(ex.map(one, range(n)))


class OrderSystemTest(unittest.TestCase):
    sys_ = None
    answered = {}  # orderId -> frontend, for every success answer over all phases

    @classmethod
    def setUpClass(cls):
        cls.sys_ = OrderSystem()

    @classmethod
    def tearDownClass(cls):
        if cls.sys_:
            rc, pids = cls.sys_.stop()
            for p in pids:
                rt.wait_for(lambda: pid_gone(p), 15, what="pid %d gone after stop" % p)
            if rc != 0 or "Sanitizer" in cls.sys_.runner.out():
                raise AssertionError("ripstop run ended with %s:\n%s" % (rc, cls.sys_.runner.out()[-3000:]))

    def load_both(self, n=N):
        """n orders through each frontend at the same time; returns (results per frontend, seconds)."""
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            fd = ex.submit(send_orders, self.sys_.app_port("frontend-dapr"), n)
            fp = ex.submit(send_orders, self.sys_.app_port("frontend"), n)
            res = {"frontend-dapr": fd.result(), "frontend": fp.result()}
        for name, rs in res.items():
            failed = [r for r in rs if r[0] != 200 or not r[1]]
            self.assertEqual(failed, [], "%s: failed orders without any fault injected" % name)
            for r in rs:
                self.answered[r[1]] = name
        return res, time.monotonic() - t0

    def wait_drained(self, what):
        """Polls until both containers are empty and stay empty for 3 s. Returns the monotonic times at which
        `orders` and `orders-nolock` were (last) seen becoming empty."""
        deadline = time.monotonic() + DRAIN_DEADLINE
        empty_since = {"order-binding": None, "order-binding-nolock": None}
        while time.monotonic() < deadline:
            for b in empty_since:
                if self.sys_.blobs(b):
                    empty_since[b] = None
                elif empty_since[b] is None:
                    empty_since[b] = time.monotonic()
            if all(t is not None and time.monotonic() - t >= 3.0 for t in empty_since.values()):
                return empty_since["order-binding"], empty_since["order-binding-nolock"]
            time.sleep(0.2)
        self.fail("%s: containers not drained after %ds: orders=%d orders-nolock=%d" % (
            what, DRAIN_DEADLINE, len(self.sys_.blobs("order-binding")), len(self.sys_.blobs("order-binding-nolock"))))

    def check_totals(self, phase):
        published, nmsgs = self.sys_.published()
        lost = sorted(set(self.answered) - set(published))
        self.assertEqual(lost, [], "%s: orders answered with success but never published" % phase)
        self.assertEqual(self.sys_.blobs("order-binding"), [])
        self.assertEqual(self.sys_.blobs("order-binding-nolock"), [])
        want = {cid: 0 for cid in TOTALS}
        for oid, cid in published.items():
            want[cid] += 1
        exact = self.sys_.loyalty("loyalty-store", "customer-loyalty-job")
        nolock = self.sys_.loyalty("loyalty-store-nolock", "customer-loyalty-job-nolock")
        for cid, total in TOTALS.items():
            self.assertEqual((exact[cid].get("orderCount"), exact[cid].get("loyaltyPoints")),
                             (want[cid], want[cid] * total), "%s: loyalty-store customer %d" % (phase, cid))
            self.assertGreaterEqual(nolock[cid].get("orderCount", 0), want[cid], "%s: nolock customer %d" % (phase, cid))
        over = sum(nolock[c].get("orderCount", 0) for c in TOTALS) - sum(want.values())
        print("\n[e2e] %s: %d distinct orders published (%d messages), loyalty-store exact for 10 customers, "
              "loyalty-store-nolock over-counts by %d" % (phase, len(published), nmsgs, over), flush=True)
        return len(published)

    def test_1_orders_drain_exactly(self):
        t0 = time.monotonic()
        res, load_s = self.load_both()
        t_lock, t_nolock = self.wait_drained("phase 1")
        n = self.check_totals("phase 1")
        print("[e2e] drain rate (schedule '%s', list size %s, 2 replicas per job): %d orders sent through both "
              "frontends in %.1fs; orders container empty %.1fs after the first order (%.1f orders/s, "
              "customer-loyalty-job), orders-nolock %.1fs (%.1f orders/s, customer-loyalty-job-nolock)" % (
                  SCHEDULE, LIST_SIZE, n, load_s, t_lock - t0, n / (t_lock - t0), t_nolock - t0,
                  n / (t_nolock - t0)), flush=True)

    def app_log(self, label):
        """Path of the current app log of a loyalty-job replica (label "customer-loyalty-job#2")."""
        app, inst = label.split("#")
        prefix = "%s-%s_app_" % (app, inst)
        names = [f for f in os.listdir(self.sys_.logdir) if f.startswith(prefix)]
        self.assertEqual(len(names), 1, names)
        return os.path.join(self.sys_.logdir, names[0])

    def test_2_exact_while_loyalty_job_replicas_are_killed(self):
        stop_load = threading.Event()

        def load():
            self.load_both(2 * N)
            stop_load.set()
        th = threading.Thread(target=load)
        th.start()
        kills = mid_pass = 0
        try:
            for k in range(6):
                label = "customer-loyalty-job#%d" % (1 + k % 2)
                log = self.app_log(label)
                seen = os.path.getsize(log)

                def working():
                    # Kill in the middle of a pass: right after the replica logs progress on an order.
                    with open(log, "rb") as f:
                        f.seek(seen)
                        new = f.read()
                    return re.search(rb"counted|deleted|locked by another", new)
                try:
                    rt.wait_for(working, 20, interval=0.005, what="%s processing" % label)
                    mid_pass += 1
                except TimeoutError:
                    if not stop_load.is_set() or self.sys_.blobs("order-binding"):
                        raise
                pid = self.sys_.runner.pid(label)
                os.kill(pid, signal.SIGKILL)
                kills += 1
                rt.wait_for(lambda: self.sys_.runner.pid(label) != pid, 90, what="%s restarted" % label)
        finally:
            th.join()
        self.assertGreaterEqual(mid_pass, 3, "most kills should land while a replica is processing")
        for inst in (1, 2):  # each replica was killed 3 times and restarted by the runner each time
            starts = [p for (l, k, p) in self.sys_.runner.started() if l == "customer-loyalty-job#%d" % inst and k == "app"]
            self.assertEqual(len(starts), 4, "customer-loyalty-job#%d starts: %s" % (inst, starts))
        self.wait_drained("phase 2")
        self.check_totals("phase 2 (%d kill -9 of loyalty-job replicas, %d of them mid-pass)" % (kills, mid_pass))


if __name__ == "__main__":
    rt.main()
