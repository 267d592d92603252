"""At-least-once delivery over Redis Streams: a subscriber killed with -9 mid-stream loses nothing;
failed entries are reclaimed after processingTimeout; publish honours the outbound breaker."""

import os
import signal
import sys
import tempfile
import time

import ripstop_testlib as rt
from pubsub_fixtures import pending_count, publish, redis_pubsub_yaml, resiliency_yaml, sub_v1_yaml
from sub_app import SubApp

APP = "sub"
SUB_APP = os.path.join(rt.SRC, "tests", "lib", "sub_app.py")


def read_ids(path):
    try:
        with open(path) as f:
            return [line.strip() for line in f if line.strip()]
    except FileNotFoundError:
        return []


class AtLeastOnceTest(rt.ProcTestCase):
    def start_app_proc(self, port, record, delay_ms=5):
        p = self.track(rt.Proc(f"sub-app-{port}", [sys.executable, SUB_APP, "--port", str(port), "--record", record,
                                                    "--delay-ms", str(delay_ms)]))
        rt.wait_for(lambda: rt.port_open(port), 10, what="sub app up")
        return p

    def test_subscriber_killed_mid_stream_loses_nothing(self):
        redis = self.track(rt.Redis())
        res = rt.write_resources({
            # processingTimeout in the millisecond form, redeliverInterval in ms
            "pubsub.yaml": redis_pubsub_yaml("pubsub", redis, processingTimeout="1000", redeliverInterval="300",
                                             concurrency="5"),
            "sub.yaml": sub_v1_yaml("s", "pubsub", "stream", "/stream"),
        })
        port = rt.free_port()
        record = os.path.join(tempfile.mkdtemp(prefix="ripstop-sub-"), "ids.txt")
        app = self.start_app_proc(port, record)
        sc = self.track(rt.Sidecar(APP, res, app_port=port))
        total = 300
        ids = [f"m-{i}" for i in range(total)]
        for i in ids[:100]:
            self.assertEqual(publish(sc, "pubsub", "stream", {"i": i}, metadata={"cloudevent.id": i}).status, 204)
        rt.wait_for(lambda: len(read_ids(record)) >= 30, 20, what="30 deliveries before the kill")
        app.kill9()
        before = set(read_ids(record))
        self.assertLess(len(before), total)
        for i in ids[100:]:
            self.assertEqual(publish(sc, "pubsub", "stream", {"i": i}, metadata={"cloudevent.id": i}).status, 204)
        # the sidecar keeps reading while the app is down; those deliveries fail and stay pending
        rt.wait_for(lambda: pending_count(redis, "stream", APP) > 0, 10, what="pending entries while the app is down")
        self.start_app_proc(port, record)
        rt.wait_for(lambda: set(ids) <= set(read_ids(record)), 90, interval=0.2, what="every message delivered")
        rt.wait_for(lambda: pending_count(redis, "stream", APP) == 0, 20, what="everything acked")
        got = read_ids(record)
        self.assertEqual(set(got), set(ids))
        print(f"delivered {len(set(got))} distinct of {total}; {len(got) - len(set(got))} duplicates; "
              f"{len(before)} before the kill")

    def test_sidecar_killed_mid_stream_loses_nothing(self):
        redis = self.track(rt.Redis())
        res = rt.write_resources({
            "pubsub.yaml": redis_pubsub_yaml("pubsub", redis, processingTimeout="1s", redeliverInterval="300"),
            "sub.yaml": sub_v1_yaml("s", "pubsub", "stream2", "/stream"),
        })
        port = rt.free_port()

        def plan(path, event, attempt):
            time.sleep(0.01)  # simulated work, so that deliveries are in flight when the sidecar dies
            return 200, ""

        app = self.track(SubApp(port, None, plan))
        sc = self.track(rt.Sidecar(APP, res, app_port=port))
        total = 200
        ids = [f"s-{i}" for i in range(total)]
        for i in ids:
            self.assertEqual(publish(sc, "pubsub", "stream2", {"i": i}, metadata={"cloudevent.id": i}).status, 204)
            if i == ids[60]:
                rt.wait_for(lambda: len(app.received()) >= 20, 10, what="20 deliveries before the kill")
                sc.proc.kill9()
                sc = self.track(rt.Sidecar(APP, res, app_port=port))

        def delivered():
            return {d["event"]["id"] for d in app.received() if d["status"] == 200}

        rt.wait_for(lambda: set(ids) <= delivered(), 60, interval=0.2, what="every message delivered")
        rt.wait_for(lambda: pending_count(redis, "stream2", APP) == 0, 20, what="everything acked")
        n = len(app.received())
        print(f"sidecar kill -9: {len(delivered())} distinct of {total}, {n - len(delivered())} duplicates")

    def test_subscription_resumes_after_redis_restart(self):
        redis = self.track(rt.Redis())
        res = rt.write_resources({"pubsub.yaml": redis_pubsub_yaml("pubsub", redis),
                                  "sub.yaml": sub_v1_yaml("s", "pubsub", "events", "/events")})
        port = rt.free_port()
        app = self.track(SubApp(port))
        sc = self.track(rt.Sidecar(APP, res, app_port=port))
        self.assertEqual(publish(sc, "pubsub", "events", {"n": 1}, metadata={"cloudevent.id": "before"}).status, 204)
        rt.wait_for(lambda: app.received("/events"), 10, what="first event")
        redis.stop()  # no persistence: the stream and the group are gone too
        r = publish(sc, "pubsub", "events", {"n": 2})
        self.assertEqual(r.status, 500)  # fails fast while Redis is down
        redis.start()
        rt.wait_for(lambda: publish(sc, "pubsub", "events", {"n": 3}, metadata={"cloudevent.id": "after"}).status
                    == 204, 15, interval=0.1, what="publish works again")
        rt.wait_for(lambda: "after" in [d["event"]["id"] for d in app.received("/events")], 15,
                    what="delivery after the restart")

    def test_sidecar_stopped_mid_delivery(self):
        redis = self.track(rt.Redis())
        res = rt.write_resources({
            "pubsub.yaml": redis_pubsub_yaml("pubsub", redis, processingTimeout="1s", redeliverInterval="200"),
            "sub.yaml": sub_v1_yaml("s", "pubsub", "slow", "/slow"),
        })
        port = rt.free_port()

        def plan(path, event, attempt):
            time.sleep(0.3)  # simulated slow handler: deliveries are in flight at the stop
            return 200, ""

        app = self.track(SubApp(port, None, plan))
        sc = self.track(rt.Sidecar(APP, res, app_port=port))
        ids = [f"g-{i}" for i in range(30)]
        for i in ids:
            self.assertEqual(publish(sc, "pubsub", "slow", {"i": i}, metadata={"cloudevent.id": i}).status, 204)
        rt.wait_for(lambda: app.received("/slow"), 10, what="a first delivery")
        self.assertEqual(sc.stop(), 0)  # SIGTERM with deliveries in flight: clean exit
        self.assertNotIn("Sanitizer", sc.proc.log())
        sc = self.track(rt.Sidecar(APP, res, app_port=port))

        def delivered():
            return {d["event"]["id"] for d in app.received("/slow") if d["status"] == 200}

        rt.wait_for(lambda: set(ids) <= delivered(), 30, interval=0.2, what="every message delivered")
        rt.wait_for(lambda: pending_count(redis, "slow", APP) == 0, 20, what="everything acked")

    def test_failed_entry_reclaimed_after_processing_timeout(self):
        redis = self.track(rt.Redis())
        res = rt.write_resources({
            "pubsub.yaml": redis_pubsub_yaml("pubsub", redis, processingTimeout="1s", redeliverInterval="200"),
            "sub.yaml": sub_v1_yaml("s", "pubsub", "work", "/work"),
        })
        port = rt.free_port()
        times = []

        def plan(path, event, attempt):
            times.append(time.monotonic())
            return (500, "not yet") if attempt == 1 else (200, "")

        app = self.track(SubApp(port, None, plan))
        sc = self.track(rt.Sidecar(APP, res, app_port=port))
        self.assertEqual(publish(sc, "pubsub", "work", {"w": 1}).status, 204)
        rt.wait_for(lambda: len(app.received("/work")) >= 2, 10, what="redelivery")
        gap = times[1] - times[0]
        self.assertGreaterEqual(gap, 0.95)  # not before processingTimeout
        self.assertLess(gap, 3.0)            # but soon after it (redeliverInterval 200 ms)
        rt.wait_for(lambda: pending_count(redis, "work", APP) == 0, 5, what="acked after success")
        self.assertEqual([d["status"] for d in app.received("/work")], [500, 200])
        print(f"redelivered after {gap:.2f}s")

    def test_publish_breaker_opens_while_redis_is_stalled(self):
        redis = self.track(rt.Redis())
        res = rt.write_resources({
            "pubsub.yaml": redis_pubsub_yaml("pubsub", redis),
            "res.yaml": resiliency_yaml("pubsub", outbound={"timeout": "short", "circuitBreaker": "cb"},
                                        timeouts={"short": "300ms"},
                                        breakers={"cb": {"trip": "consecutiveFailures > 2", "timeout": "2s",
                                                         "maxRequests": 1}}),
        })
        sc = self.track(rt.Sidecar(APP, res))
        self.assertEqual(publish(sc, "pubsub", "t", {"a": 1}).status, 204)
        os.kill(redis.proc.pid, signal.SIGSTOP)
        try:
            for _ in range(3):
                t0 = time.monotonic()
                r = publish(sc, "pubsub", "t", {"a": 2})
                self.assertEqual(r.status, 500)
                self.assertEqual(r.json()["errorCode"], "ERR_PUBSUB_PUBLISH_MESSAGE")
                self.assertIn("deadline", r.json()["message"])
                self.assertGreaterEqual(time.monotonic() - t0, 0.25)
            t0 = time.monotonic()
            r = publish(sc, "pubsub", "t", {"a": 3})
            fast = time.monotonic() - t0
            self.assertEqual(r.status, 500)
            self.assertIn("circuit breaker is open", r.json()["message"])
            self.assertLess(fast, 0.2)
            opened = time.monotonic()
        finally:
            os.kill(redis.proc.pid, signal.SIGCONT)
        rt.wait_for(lambda: publish(sc, "pubsub", "t", {"a": 4}).status == 204, 10, interval=0.1,
                    what="publish succeeds after the breaker closes")
        self.assertGreaterEqual(time.monotonic() - opened, 1.5)
        print(f"fail-fast publish while open took {fast * 1000:.1f} ms")


if __name__ == "__main__":
    rt.main()
