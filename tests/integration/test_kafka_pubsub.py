"""pubsub.kafka through ripstopd against kafka-mock: publish/subscribe round trip
with CloudEvent + metadata headers, programmatic and declarative subscriptions,
and a subscriber app killed with -9 mid-stream (every message still arrives,
counted by id)."""

import json
import os
import sys
import tempfile
import time

import ripstop_testlib as rt

KafkaMock = rt.KafkaMock


def kafka_component_yaml(name, mock, extra=""):
    return f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: pubsub.kafka
  version: v1
  metadata:
  - name: brokers
    value: "{mock.bootstrap}"
  - name: authType
    value: none
  - name: disableTls
    value: "true"
  - name: initialOffset
    value: oldest
{extra}"""


# A subscriber app (stdlib only): answers GET /dapr/subscribe from $SUBS and appends every delivery
# (CloudEvent + selected headers) as one JSON line to $RECORD, after sleeping $DELAY seconds.
SUBSCRIBER_APP = r'''
import json, os, sys, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
port, record, delay, subs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
out = open(record, "a")
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == "/dapr/subscribe":
            return self.reply(200, subs.encode())
        self.reply(404)
    def do_OPTIONS(self):
        self.reply(200)
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        if delay:
            time.sleep(delay)
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        out.write(json.dumps({"path": self.path, "body": body.decode("utf-8", "replace"), "headers": hdrs}) + "\n")
        out.flush()
        self.reply(200, b'{"status":"SUCCESS"}')
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
'''


class SubscriberApp:
    def __init__(self, port, record, subs, delay=0.0, logdir=None):
        self.port = port
        self.logdir = logdir or tempfile.mkdtemp(prefix="ripstop-app-")
        script = os.path.join(self.logdir, "subscriber.py")
        with open(script, "w") as f:
            f.write(SUBSCRIBER_APP)
        self.proc = rt.Proc(f"subscriber-{port}", [sys.executable, script, str(port), record, str(delay),
                                                   json.dumps(subs)], logdir=self.logdir)
        rt.wait_for(lambda: rt.port_open(port), 10, what="subscriber app")

    def kill9(self):
        self.proc.kill9()

    def stop(self):
        return self.proc.stop()


def records(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            if line.endswith("\n"):
                out.append(json.loads(line))
    return out


class KafkaPubsubTest(rt.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.mock = self.track(KafkaMock(brokers=1, topics=["orders:3", "declared:1", "stream:2"]))
        self.tmp = tempfile.mkdtemp(prefix="ripstop-kafka-test-")

    def start(self, app_id, subs, extra_meta="", extra_files=None, delay=0.0):
        files = {"kafka.yaml": kafka_component_yaml("order-queue", self.mock, extra_meta)}
        files.update(extra_files or {})
        res = rt.write_resources(files)
        record = os.path.join(self.tmp, f"{app_id}.jsonl")
        app_port = rt.free_port()
        app = self.track(SubscriberApp(app_port, record, subs, delay))
        sc = self.track(rt.Sidecar(app_id, resources=res, app_port=app_port))
        return sc, app, record

    def test_round_trip_envelope_and_headers(self):
        subs = [{"pubsubname": "order-queue", "topic": "orders", "route": "/orders"}]
        declared = """apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: declared-sub
spec:
  pubsubname: order-queue
  topic: declared
  routes:
    default: /declared
"""
        sc, app, record = self.start("audit", subs, extra_files={"sub.yaml": declared})
        n = 12
        for i in range(n):
            r = sc.req("POST", f"/v1.0/publish/order-queue/orders?metadata.partitionKey=cust-{i % 3}"
                               f"&metadata.orderid={i}", {"id": i, "total": 10 + i})
            self.assertEqual(r.status, 204, r)
        r = sc.req("POST", "/v1.0/publish/order-queue/declared", "plain text", {"Content-Type": "text/plain"})
        self.assertEqual(r.status, 204, r)

        def all_in():
            recs = records(record)
            ids = {json.loads(x["body"])["data"]["id"] for x in recs if x["path"] == "/orders"}
            return len(ids) == n and any(x["path"] == "/declared" for x in recs)

        rt.wait_for(all_in, 30, what="all messages delivered")
        recs = records(record)
        by_id = {}
        for x in recs:
            if x["path"] == "/orders":
                by_id[json.loads(x["body"])["data"]["id"]] = x
        x = by_id[4]
        ce = json.loads(x["body"])
        self.assertEqual(ce["data"], {"id": 4, "total": 14})
        self.assertEqual(ce["topic"], "orders")
        self.assertEqual(ce["pubsubname"], "order-queue")
        self.assertEqual(ce["source"], "audit")
        self.assertEqual(ce["specversion"], "1.0")
        self.assertEqual(ce["datacontenttype"], "application/json")
        h = x["headers"]
        self.assertEqual(h["content-type"], "application/cloudevents+json")
        self.assertEqual(h["__key"], "cust-1")
        self.assertEqual(h["__topic"], "orders")
        self.assertIn(h["__partition"], ("0", "1", "2"))
        self.assertTrue(h["__offset"].isdigit())
        self.assertGreater(int(h["__timestamp"]), 1600000000000)
        self.assertEqual(h["orderid"], "4")          # publish metadata travels as a record header
        self.assertEqual(h["partitionkey"], "cust-1")
        # same key -> same partition, in publish order
        for key in range(3):
            offs = [(int(by_id[i]["headers"]["__partition"]), int(by_id[i]["headers"]["__offset"]))
                    for i in range(n) if i % 3 == key]
            self.assertEqual(len({p for p, _ in offs}), 1, offs)
            self.assertEqual([o for _, o in offs], sorted(o for _, o in offs))
        decl = [x for x in recs if x["path"] == "/declared"][0]
        self.assertEqual(json.loads(decl["body"])["data"], "plain text")

    def test_subscriber_killed_mid_stream_loses_nothing(self):
        subs = [{"pubsubname": "order-queue", "topic": "stream", "route": "/stream"}]
        sc, app, record = self.start("stream-app", subs, extra_meta="""  - name: backOffDuration
    value: 200ms
""", delay=0.01)
        n = 150
        for i in range(n):
            r = sc.req("POST", f"/v1.0/publish/order-queue/stream?metadata.partitionKey=k{i % 7}", {"id": i})
            self.assertEqual(r.status, 204, r)

        def ids():
            return {json.loads(x["body"])["data"]["id"] for x in records(record)}

        rt.wait_for(lambda: len(ids()) >= 30, 30, what="first deliveries")
        app.kill9()
        before = len(ids())
        self.assertLess(before, n, "the app must be killed mid-stream")
        app2 = self.track(SubscriberApp(app.port, record, subs, 0.0))
        rt.wait_for(lambda: len(ids()) == n, 60, what="every message after the restart")
        got = [json.loads(x["body"])["data"]["id"] for x in records(record)]
        self.assertEqual(set(got), set(range(n)))   # none lost
        self.assertGreaterEqual(len(got), n)        # duplicates allowed (at-least-once)
        app2.stop()

    def test_sidecar_killed_mid_stream_loses_nothing(self):
        # The sidecar itself dies with -9: offsets it had not committed (messages the app had not accepted) are
        # delivered again by the restarted sidecar once the group gives the partitions back.
        subs = [{"pubsubname": "order-queue", "topic": "stream", "route": "/stream"}]
        meta = """  - name: sessionTimeout
    value: 6s
  - name: heartbeatInterval
    value: 2s
"""
        res = rt.write_resources({"kafka.yaml": kafka_component_yaml("order-queue", self.mock, meta)})
        record = os.path.join(self.tmp, "sc-kill.jsonl")
        app_port = rt.free_port()
        self.track(SubscriberApp(app_port, record, subs, 0.02))
        sc = self.track(rt.Sidecar("sc-kill", resources=res, app_port=app_port))
        n = 120
        for i in range(n):
            r = sc.req("POST", f"/v1.0/publish/order-queue/stream?metadata.partitionKey=k{i % 5}", {"id": i})
            self.assertEqual(r.status, 204, r)

        def ids():
            return {json.loads(x["body"])["data"]["id"] for x in records(record)}

        rt.wait_for(lambda: len(ids()) >= 20, 30, what="first deliveries")
        sc.proc.kill9()
        self.assertLess(len(ids()), n, "the sidecar must be killed mid-stream")
        self.track(rt.Sidecar("sc-kill", resources=res, app_port=app_port))
        rt.wait_for(lambda: len(ids()) == n, 60, what="every message after the sidecar restarted")
        self.assertEqual(ids(), set(range(n)))


if __name__ == "__main__":
    rt.main()
