"""bindings.cron through ripstopd: the OPTIONS probe, POST /<route> on each fire
with timeZone and readTimeUTC headers, route and direction metadata, the
inbound resiliency policy, a slow app (bounded: one in flight, one waiting),
and a rejected schedule."""

import re
import threading
import time

import ripstop_testlib as T

READ_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})? \+0000 UTC$")


class CronApp(T.HttpApp):
    """Records every request; answers OPTIONS with options_status and POST with post_plan(n) -> status,
    after post_delay seconds."""

    def __init__(self, options_status=200, post_plan=None, post_delay=0.0):
        self.options_status = options_status
        self.post_plan = post_plan or (lambda n: 200)
        self.post_delay = post_delay
        self.requests = []  # (method, path, headers, body, t)
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        app = self

        class H(T.QuietHandler):
            def do_OPTIONS(self):
                with app.lock:
                    app.requests.append(("OPTIONS", self.path, {k.lower(): v for k, v in self.headers.items()}, b"",
                                         time.monotonic()))
                self.reply(app.options_status, ctype=None)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with app.lock:
                    app.requests.append(("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                                         time.monotonic()))
                    count = sum(1 for r in app.requests if r[0] == "POST")
                    app.in_flight += 1
                    app.max_in_flight = max(app.max_in_flight, app.in_flight)
                if app.post_delay:
                    time.sleep(app.post_delay)  # the app is slow on purpose
                with app.lock:
                    app.in_flight -= 1
                self.reply(app.post_plan(count), ctype=None)

        super().__init__(H)

    def posts(self):
        with self.lock:
            return [r for r in self.requests if r[0] == "POST"]

    def options(self):
        with self.lock:
            return [r for r in self.requests if r[0] == "OPTIONS"]


class CronBindingTest(T.ProcTestCase):
    def start(self, files, app):
        res = T.write_resources(files)
        return self.track(T.Sidecar("cronapp", res, app_port=app.port))

    def test_probe_then_fires_with_headers(self):
        app = self.track(CronApp())
        self.start({"c.yaml": T.cron_yaml("tick", "* * * * * *")}, app)
        T.wait_for(lambda: len(app.posts()) >= 3, 8, what="three cron fires")
        opts = app.options()
        self.assertEqual(len(opts), 1, "one OPTIONS probe")
        self.assertEqual(opts[0][1], "/tick")
        self.assertLess(opts[0][4], app.posts()[0][4], "the probe comes before the first fire")
        times = []
        for method, path, headers, body, _ in app.posts():
            self.assertEqual(path, "/tick")
            self.assertEqual(body, b"")
            self.assertEqual(headers.get("timezone"), "Local")
            self.assertRegex(headers.get("readtimeutc", ""), READ_TIME_RE)
            self.assertEqual(headers.get("content-type"), "application/json")
            times.append(headers["readtimeutc"][:19])
        self.assertEqual(len(set(times)), len(times), "one fire per second, each with its own time")

    def test_route_and_direction_input_skip_the_probe(self):
        app = self.track(CronApp(options_status=404))
        extra = "  - name: route\n    value: /custom/path\n  - name: direction\n    value: input\n"
        self.start({"c.yaml": T.cron_yaml("tick2", "CRON_TZ=UTC */1 * * * * *", extra)}, app)
        T.wait_for(lambda: len(app.posts()) >= 2, 8, what="fires on the custom route")
        self.assertEqual(app.options(), [])
        self.assertEqual({p[1] for p in app.posts()}, {"/custom/path"})
        self.assertEqual(app.posts()[0][2].get("timezone"), "Local")  # Dapr's quirk: not the CRON_TZ zone

    def test_not_subscribed_when_options_fails(self):
        app = self.track(CronApp(options_status=404))
        sc = self.start({"c.yaml": T.cron_yaml("tick3", "* * * * * *")}, app)
        T.wait_for(lambda: "app has not subscribed to binding tick3" in sc.proc.log(), 8, what="not-subscribed log")
        # Fires would come every second; watch a bounded window in which none may arrive.
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            self.assertEqual(app.posts(), [])
            time.sleep(0.1)
        self.assertEqual(len(app.options()), 1)

    def test_inbound_policy_retries_a_failed_fire(self):
        # The first delivery fails with 500, the retry (same fire, same readTimeUTC) succeeds.
        app = self.track(CronApp(post_plan=lambda n: 500 if n == 1 else 200))
        resiliency = """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: r
spec:
  policies:
    retries:
      quick:
        policy: constant
        duration: 100ms
        maxRetries: 3
  targets:
    components:
      tick4:
        inbound:
          retry: quick
"""
        self.start({"c.yaml": T.cron_yaml("tick4", "@every 2s"), "r.yaml": resiliency}, app)
        T.wait_for(lambda: len(app.posts()) >= 2, 8, what="a fire and its retry")
        p = app.posts()
        self.assertEqual(p[0][2]["readtimeutc"], p[1][2]["readtimeutc"], "the retry carries the same fire time")
        self.assertLess(p[1][4] - p[0][4], 1.5, "retried after 100ms, not at the next fire")

    def test_204_is_retried_then_counts_as_delivered(self):
        # Dapr's inbound policy treats anything but 200 as a failure; once retries run out a 2xx is still success.
        app = self.track(CronApp(post_plan=lambda n: 204))
        resiliency = """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: r
spec:
  policies:
    retries:
      twice:
        policy: constant
        duration: 50ms
        maxRetries: 2
  targets:
    components:
      tick6:
        inbound:
          retry: twice
"""
        sc = self.start({"c.yaml": T.cron_yaml("tick6", "@every 5s"), "r.yaml": resiliency}, app)
        T.wait_for(lambda: len(app.posts()) >= 3, 10, what="a fire and two retries")
        first_fire = app.posts()[0][2]["readtimeutc"]
        self.assertEqual([p[2]["readtimeutc"] for p in app.posts()[:3]], [first_fire] * 3)
        T.wait_for(lambda: 'dapr_component_input_binding_count{app_id="cronapp",component="tick6",success="true"} 1'
                   in T.request("GET", sc.metrics_port, "/metrics").text, 5, what="delivery counted as success")

    def test_slow_app_is_bounded(self):
        # Fires every second, the app needs 2.5 s per call: one call in flight, one fire waiting, the rest skipped.
        app = self.track(CronApp(post_delay=2.5))
        sc = self.start({"c.yaml": T.cron_yaml("tick5", "* * * * * *")}, app)
        T.wait_for(lambda: "fire(s) skipped" in sc.proc.log(), 10, what="skipped fires logged")
        T.wait_for(lambda: len(app.posts()) >= 2, 10, what="the waiting fire delivered after the slow one")
        self.assertEqual(app.max_in_flight, 1, "never more than one delivery in flight")
        first, second = app.posts()[0], app.posts()[1]
        self.assertGreaterEqual(second[4] - first[4], 2.3, "the waiting fire goes out only after the slow call")
        metrics = T.request("GET", sc.metrics_port, "/metrics").text
        self.assertRegex(metrics, r'ripstop_cron_skipped_fires_total\{app_id="cronapp",component="tick5"\} [1-9]')
        self.assertRegex(metrics, r'dapr_component_input_binding_count\{app_id="cronapp",component="tick5",'
                                  r'success="true"\} [1-9]')

    def test_rejected_schedule_stops_startup(self):
        app = self.track(CronApp())
        res = T.write_resources({"c.yaml": T.cron_yaml("bad", "61 * * * * *")})
        sc = self.track(T.Sidecar("cronbad", res, app_port=app.port, wait=False))
        T.wait_for(lambda: not sc.proc.alive(), 10, what="ripstopd to exit")
        self.assertIn("invalid schedule format '61 * * * * *': end of range (61) above maximum (59): 61",
                      sc.proc.log())


if __name__ == "__main__":
    T.main()
