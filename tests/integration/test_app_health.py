"""App health checks (`--enable-app-health-check`), as daprd runs them.

HttpAppHealth: an HTTP app whose GET /healthz answers 200, 503 or never, behind
ripstopd with a real redis-server (pub/sub) and a cron input binding. While
the app is unhealthy, topic messages are held (not lost: delivered after it
recovers), cron events are not delivered, invocations are refused with
daprd's "app is not in a healthy state", and the sidecar's own API keeps
answering. A probe that times out counts as a failure. The metadata API shows
daprd's `health` properties.

GrpcAppHealth: a raw HTTP/2 app (tests/lib/grpc_fault_app.py) probed through
AppCallbackHealthCheck/HealthCheck: an error status and a call that never
answers make it unhealthy, an OK makes it healthy again.

Probes run every 200 ms (a Go duration: ripstopd's addition to daprd's whole
seconds) so each test takes seconds."""

import json
import subprocess
import threading
import time

import ripstop_testlib as t
from grpc_fault_app import FaultApp
from pubsub_fixtures import publish, redis_pubsub_yaml

HEALTH_ARGS = ["--enable-app-health-check", "--app-health-probe-interval", "200ms",
               "--app-health-probe-timeout", "150ms", "--app-health-threshold", "2"]


class HealthApp(t.HttpApp):
    """GET /healthz answers by `health` ("ok" 200, "fail" 503, "hang": no answer for 3 s); GET /dapr/subscribe
    subscribes to `orders` on `bus`; OPTIONS/POST /tick is the cron binding; POST /orders records the event id;
    POST /hello answers 200. Every request is recorded with its time."""

    def __init__(self):
        self.health = "ok"
        self.requests = []  # (method, path, headers, body, monotonic time)
        self.lock = threading.Lock()
        app = self

        class H(t.QuietHandler):
            def _record(self, body=b""):
                with app.lock:
                    app.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                         body, time.monotonic()))

            def do_GET(self):
                self._record()
                if self.path == "/healthz":
                    mode = app.health
                    if mode == "hang":
                        time.sleep(3)  # longer than the probe's timeout: the sidecar gives up first
                        return
                    return self.reply(200 if mode == "ok" else 503)
                if self.path == "/dapr/subscribe":
                    return self.reply(200, json.dumps([{"pubsubname": "bus", "topic": "orders",
                                                        "route": "/orders"}]).encode())
                self.reply(404)

            def do_OPTIONS(self):
                self._record()
                self.reply(200)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._record(body)
                self.reply(200, b'{"status":"SUCCESS"}' if self.path == "/orders" else b"{}")

        super().__init__(H)

    def where(self, method, path):
        with self.lock:
            return [r for r in self.requests if r[0] == method and r[1] == path]

    def order_ids(self):
        return [json.loads(r[3])["data"]["n"] for r in self.where("POST", "/orders")]


def set_health(sidecar, app, mode, healthy):
    """Sets the app's health mode and waits for the sidecar to log the change it must cause; returns the time."""
    text = "app entered healthy status" if healthy else "app entered un-healthy status"
    before = sidecar.proc.log().count(text)
    app.health = mode
    t.wait_for(lambda: sidecar.proc.log().count(text) > before, 10, what=text)
    return time.monotonic()


class HttpAppHealth(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.redis = self.track(t.Redis())
        self.app = self.track(HealthApp())
        files = {"pubsub.yaml": redis_pubsub_yaml("bus", self.redis), "tick.yaml": t.cron_yaml("tick", "* * * * * *")}
        self.sidecar = self.track(t.Sidecar("healthapp", resources=t.write_resources(files), app_port=self.app.port,
                                            env={"APP_API_TOKEN": "tok"}, extra_args=HEALTH_ARGS))

    def become(self, mode, healthy):
        return set_health(self.sidecar, self.app, mode, healthy)

    def invoke(self):
        return self.sidecar.req("POST", "/v1.0/invoke/healthapp/method/hello", body=b"{}")

    def test_pause_and_resume(self):
        # healthy from the first probe on: GET /healthz without the app token, then subscriptions and bindings
        t.wait_for(lambda: self.app.where("POST", "/tick"), 10, what="a cron event")
        probes = self.app.where("GET", "/healthz")
        self.assertNotIn("dapr-api-token", probes[0][2], "probes go without the app token, as daprd's")
        self.assertLess(probes[0][4], self.app.where("GET", "/dapr/subscribe")[0][4],
                        "nothing goes to the app before its first healthy probe")
        self.assertEqual(publish(self.sidecar, "bus", "orders", {"n": 0}).status, 204)
        t.wait_for(lambda: self.app.order_ids() == [0], 10, what="the first order")
        self.assertEqual(self.invoke().status, 200)
        meta = self.sidecar.req("GET", "/v1.0/metadata").json()["appConnectionProperties"]
        self.assertEqual(meta["health"], {"healthCheckPath": "/healthz", "healthProbeInterval": "200ms",
                                          "healthProbeTimeout": "150ms", "healthThreshold": 2})

        # unhealthy (503 twice in a row)
        since = self.become("fail", healthy=False)
        for n in (1, 2, 3):
            self.assertEqual(publish(self.sidecar, "bus", "orders", {"n": n}).status, 204)
        r = self.invoke()
        self.assertEqual(r.status, 500, r.body)
        self.assertEqual(r.json()["errorCode"], "ERR_DIRECT_INVOKE")
        self.assertIn("app is not in a healthy state", r.json()["message"])
        # A window of two cron fires: no event and no order reaches the app (a call already on its way when the
        # verdict changed may land just after, hence the 300 ms of slack), while the sidecar's API answers.
        deadline = time.monotonic() + 2.2
        while time.monotonic() < deadline:
            self.assertEqual(self.sidecar.req("GET", "/v1.0/healthz").status, 204)
            late = [r for r in self.app.where("POST", "/tick") if r[4] > since + 0.3]
            self.assertEqual(late, [], "no cron event while the app is unhealthy")
            self.assertEqual(self.app.order_ids(), [0], "no order while the app is unhealthy")
            time.sleep(0.1)
        self.assertEqual(len(self.app.where("POST", "/hello")), 1, "the refused invocation never reached it")

        # healthy again: the held orders arrive (concurrently: pubsub.redis delivers 10 at a time) and cron resumes
        recovered = self.become("ok", healthy=True)
        try:
            t.wait_for(lambda: sorted(self.app.order_ids()) == [0, 1, 2, 3], 10, what="the held orders after recovery")
        except TimeoutError:
            self.fail(f"orders {self.app.order_ids()}; sidecar log:\n{self.sidecar.proc.log()[-6000:]}")
        t.wait_for(lambda: [r for r in self.app.where("POST", "/tick") if r[4] > recovered], 5,
                   what="cron events after recovery")
        self.assertEqual(self.invoke().status, 200)

    def test_probe_timeout_is_a_failure(self):
        t.wait_for(lambda: self.app.where("POST", "/tick"), 10, what="a cron event")
        self.become("hang", healthy=False)
        r = self.invoke()
        self.assertIn("app is not in a healthy state", r.json()["message"])
        # the loop stays responsive while probes hang on the app
        for _ in range(5):
            self.assertEqual(self.sidecar.req("GET", "/v1.0/healthz", timeout=2).status, 204)
        self.become("ok", healthy=True)
        self.assertEqual(self.invoke().status, 200)


class GrpcAppHealth(t.ProcTestCase):
    def test_health_check_rpc(self):
        port = t.free_port()
        app = self.track(FaultApp(port))
        sidecar = self.track(t.Sidecar("grpchealth", app_port=port, env={"APP_API_TOKEN": "tok"},
                                       extra_args=["--app-protocol", "grpc"] + HEALTH_ARGS))
        t.wait_for(lambda: "app entered healthy status" in sidecar.proc.log(), 10, what="healthy")
        self.assertNotIn("dapr-api-token", app.health_calls[0], "probes go without the app token, as daprd's")

        def invoke():
            return sidecar.req("POST", "/v1.0/invoke/grpchealth/method/ok", body=b"{}")

        self.assertEqual(invoke().status, 200)
        meta = sidecar.req("GET", "/v1.0/metadata").json()["appConnectionProperties"]
        self.assertEqual(meta["health"], {"healthProbeInterval": "200ms", "healthProbeTimeout": "150ms",
                                          "healthThreshold": 2}, "no path for a gRPC app, as daprd")
        for mode in ("fail", "hang"):  # an error status, then no answer at all
            with self.subTest(mode=mode):
                set_health(sidecar, app, mode, healthy=False)
                calls = len(app.calls)
                r = invoke()
                self.assertEqual(r.status, 500, r.body)
                self.assertIn("app is not in a healthy state", r.json()["message"])
                self.assertEqual(len(app.calls), calls, "the refused invocation never reached the app")
                self.assertEqual(sidecar.req("GET", "/v1.0/healthz").status, 204)
                set_health(sidecar, app, "ok", healthy=True)
                self.assertEqual(invoke().status, 200)


class HealthFlags(t.ProcTestCase):
    def ripstopd(self, *args):
        return subprocess.run([t.binary("ripstopd"), "--app-id", "a", *args], capture_output=True, text=True,
                              timeout=10)

    def test_bad_values_stop_startup(self):
        for flag, value in (("--app-health-threshold", "0"), ("--app-health-threshold", "x"),
                            ("--app-health-probe-interval", "0"), ("--app-health-probe-interval", "-1s"),
                            ("--app-health-probe-timeout", "soon"), ("--app-health-check-path", "/a b"),
                            ("--app-health-check-path", ""), ("--enable-app-health-check=maybe", None)):
            r = self.ripstopd(flag, value) if value is not None else self.ripstopd(flag)
            self.assertEqual(r.returncode, 2, (flag, value, r.stderr))
            self.assertIn("invalid value", r.stderr)
            self.assertIn(flag.split("=")[0], r.stderr)
        # daprd's rule: a probe's timeout may not be longer than the interval between probes
        r = self.ripstopd("--enable-app-health-check", "--app-health-probe-interval", "1", "--app-health-probe-timeout",
                     "1500")
        self.assertEqual(r.returncode, 2)
        self.assertIn("probe timeouts must be smaller than probe intervals", r.stderr)

    def test_tuning_without_enabling_is_noted(self):
        sc = self.track(t.Sidecar("noted", extra_args=["--app-health-threshold", "5"]))
        self.assertIn("the --app-health-* flags have no effect without --enable-app-health-check", sc.proc.log())
        self.assertNotIn("health", sc.req("GET", "/v1.0/metadata").json().get("appConnectionProperties", {}))


if __name__ == "__main__":
    t.main()
