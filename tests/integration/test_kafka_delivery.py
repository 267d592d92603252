"""Delivery outcomes on Kafka through ripstopd (issue items 3 and 7): SUCCESS,
RETRY, DROP, 404, 500 answered by the app, the pubsub component's inbound
policy, the dead-letter topic, and what happens when the policy gives up
without a dead-letter topic (the Kafka component redelivers, keeping the
partition's order). A declarative subscription feeds the work topics; the app
subscribes to the dead-letter topic programmatically."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import ripstop_testlib as rt
import test_kafka_pubsub as kp

RESILIENCY = """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: delivery
spec:
  policies:
    retries:
      threeTimes:
        policy: constant
        duration: 100ms
        maxRetries: 2
  targets:
    components:
      order-queue:
        inbound:
          retry: threeTimes
"""

SUBSCRIPTIONS = """apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: work
spec:
  pubsubname: order-queue
  topic: work
  routes:
    default: /work
  deadLetterTopic: work-dlq
---
apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata:
  name: nodlq
spec:
  pubsubname: order-queue
  topic: nodlq
  route: /nodlq
"""


class App:
    """An in-process subscriber: the message's data says how to answer each attempt."""

    def __init__(self):
        self.lock = threading.Lock()
        self.attempts = {}   # (path, name) -> count
        self.log = []        # (path, name) in arrival order
        self.dlq = []        # CloudEvents received on the dead-letter topic
        app = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def reply(self, code, body=b""):
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/dapr/subscribe":
                    subs = [{"pubsubname": "order-queue", "topic": "work-dlq", "route": "/dlq"}]
                    return self.reply(200, json.dumps(subs).encode())
                self.reply(404)

            def do_POST(self):
                ce = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.reply(*app.answer(self.path, ce))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path, ce):
        with self.lock:
            if path == "/dlq":
                self.dlq.append(ce)
                return 200, b""
            name, mode = ce["data"]["name"], ce["data"]["mode"]
            n = self.attempts.get((path, name), 0) + 1
            self.attempts[(path, name)] = n
            self.log.append((path, name))
        if mode == "ok":
            return 200, b'{"status":"SUCCESS"}'
        if mode == "retry-once":
            return 200, (b'{"status":"RETRY"}' if n == 1 else b"")
        if mode == "500-once":
            return (500, b"") if n == 1 else (200, b"{}")
        if mode == "drop":
            return 200, b'{"status":"DROP"}'
        if mode == "404":
            return 404, b""
        if mode == "500-always":
            return 500, b""
        if mode.startswith("500x"):
            return (500, b"") if n <= int(mode[4:]) else (200, b"")
        return 400, b""

    def count(self, path, name):
        with self.lock:
            return self.attempts.get((path, name), 0)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class KafkaDeliveryTest(rt.ProcTestCase):
    def test_app_answers_policy_and_dead_letter(self):
        mock = self.track(kp.KafkaMock(brokers=1, topics=["work:1", "work-dlq:1", "nodlq:1"]))
        app = self.track(App())
        res = rt.write_resources({
            "kafka.yaml": kp.kafka_component_yaml("order-queue", mock, """  - name: backOffDuration
    value: 300ms
"""),
            "resiliency.yaml": RESILIENCY,
            "subs.yaml": SUBSCRIPTIONS,
        })
        sc = self.track(rt.Sidecar("worker", resources=res, app_port=app.port))

        def pub(topic, name, mode):
            r = sc.req("POST", f"/v1.0/publish/order-queue/{topic}", {"name": name, "mode": mode})
            self.assertEqual(r.status, 204, r)

        for name, mode in [("a", "ok"), ("b", "retry-once"), ("c", "500-once"), ("d", "drop"), ("e", "404"),
                           ("f", "500-always"), ("z", "ok")]:
            pub("work", name, mode)
        # No dead-letter topic: the policy gives up after 3 attempts, the component redelivers after its back-off
        # and the policy runs again; the next message of the partition waits for it.
        pub("nodlq", "g", "500x4")
        pub("nodlq", "h", "ok")

        rt.wait_for(lambda: app.count("/work", "z") >= 1 and len(app.dlq) >= 3 and app.count("/nodlq", "h") >= 1,
                    40, what="every message settled")
        self.assertEqual(app.count("/work", "a"), 1)
        self.assertEqual(app.count("/work", "b"), 2)   # RETRY is retried by the inbound policy
        self.assertEqual(app.count("/work", "c"), 2)   # so is a 500
        self.assertEqual(app.count("/work", "d"), 1)   # DROP: acked, dead-lettered
        self.assertEqual(app.count("/work", "e"), 1)   # 404: dropped, dead-lettered
        self.assertEqual(app.count("/work", "f"), 3)   # 1 + maxRetries 2, then dead letter
        dlq_names = sorted(ce["data"]["name"] for ce in app.dlq)
        self.assertEqual(dlq_names, ["d", "e", "f"])
        for ce in app.dlq:
            self.assertEqual(ce["topic"], "work")      # the original bytes, naming the original topic
        # order within the partition: each message was settled before the next one was handed over
        work = [n for p, n in app.log if p == "/work"]
        self.assertEqual(work, ["a", "b", "b", "c", "c", "d", "e", "f", "f", "f", "z"])
        self.assertEqual(app.count("/nodlq", "g"), 5)  # 3 attempts, component redelivery, 2 more
        nodlq = [n for p, n in app.log if p == "/nodlq"]
        self.assertEqual(nodlq, ["g"] * 5 + ["h"])


if __name__ == "__main__":
    rt.main()
