"""Name resolution with replicas (spec §3.8): calls spread over live instances of an app id, a sidecar
killed with -9 stops receiving calls within updateInterval, a stopped one leaves at once, a restarted one
comes back."""
import tempfile
import time

import ripstop_testlib as t
from fault_app import FaultApp
from test_invoke_basic import nameres_config, wait_resolvable

UPDATE_INTERVAL = 2.0


class Replicas(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        d = tempfile.mkdtemp(prefix="ripstop-replicas-")
        self.cfg = nameres_config(d, update="2s", timeout="500ms")
        self.apps = [self.track(FaultApp(f"r{i}")) for i in (1, 2)]
        self.sidecars = [self.track(t.Sidecar("orders", app_port=a.port, config=self.cfg)) for a in self.apps]
        self.caller = self.track(t.Sidecar("caller", config=self.cfg))
        wait_resolvable(self.caller, "orders")

    def instances(self, n):
        seen = []
        for _ in range(n):
            r = self.caller.req("GET", "/v1.0/invoke/orders/method/echo", timeout=5)
            seen.append(r.json()["instance"] if r.status == 200 else f"error {r.status}")
        return seen

    def wait_both(self):
        # the cache holds a resolution for under a second: poll until both replicas have answered
        t.wait_for(lambda: {"r1", "r2"} <= set(self.instances(20)), 10, what="both replicas serve")

    def test_random_spread_and_kill9_moves_traffic(self):
        self.wait_both()
        self.sidecars[0].proc.kill9()
        killed = time.monotonic()

        def only_live():
            return set(self.instances(20)) == {"r2"}

        t.wait_for(only_live, UPDATE_INTERVAL + 4, interval=0.05, what="traffic only on the live replica")
        moved_after = time.monotonic() - killed
        # stale rows are ignored after updateInterval; resolutions are cached for at most 1s
        self.assertLess(moved_after, UPDATE_INTERVAL + 1.5)
        self.assertEqual(set(self.instances(30)), {"r2"})

    def test_graceful_stop_deregisters_and_restart_rejoins(self):
        self.wait_both()
        self.sidecars[1].stop()
        t.wait_for(lambda: set(self.instances(20)) == {"r1"}, 3, what="stopped replica gone")
        self.sidecars[1] = self.track(t.Sidecar("orders", app_port=self.apps[1].port, config=self.cfg))
        self.wait_both()


if __name__ == "__main__":
    t.main()
