"""Messages dropped before they reach the app are counted (issue 17 item 8): a stored payload that is not a
CloudEvent, an event past its ttlInSeconds, an event no route matches, and a poison event that can never be sent to
a gRPC app (data_base64 that is not base64). Each is acked (or dead-lettered), logged, and counted as daprd counts
it: dapr_component_pubsub_ingress_count{process_status="drop"} with no latency sample for single deliveries,
dapr_component_pubsub_ingress_bulk_event_count{process_status="drop"} for bulk subscriptions. Real brokers: Redis
Streams and kafka-mock."""

import json
import re

import ripstop_testlib as rt
from grpc_fault_app import FaultApp
from pubsub_fixtures import pending_count, publish, redis_pubsub_yaml, sub_v1_yaml, sub_v2_yaml
from sub_app import SubApp
from test_kafka_pubsub import KafkaMock, kafka_component_yaml

APP = "dropper"
PAST = "2000-01-01T00:00:00Z"


def raw(sc, pubsub, topic, body):
    """Stores body verbatim (rawPayload), so the subscriber reads exactly these bytes."""
    r = publish(sc, pubsub, topic, body, ctype="application/octet-stream", metadata={"rawPayload": "true"})
    assert r.status == 204, r
    return r


def expired_event(eid):
    return json.dumps({"id": eid, "source": "test", "type": "t", "specversion": "1.0", "datacontenttype":
                       "application/json", "data": {"n": 1}, "expiration": PAST})


def publish_three_drops(tc, sc, pubsub, topic):
    """Not a CloudEvent, expired, no route (for a subscription whose rule refuses type "unrouted"), then a live
    event with id "live"."""
    raw(sc, pubsub, topic, "not a json object {")
    raw(sc, pubsub, topic, expired_event("old-1"))
    tc.assertEqual(publish(sc, pubsub, topic, "x", ctype="text/plain", metadata={"cloudevent.type": "unrouted"}).status,
                   204)
    tc.assertEqual(publish(sc, pubsub, topic, {"n": 1}, metadata={"cloudevent.id": "live"}).status, 204)


def bulk(yaml_text, n=10, await_ms=200):
    return yaml_text + (f"  bulkSubscribe:\n    enabled: true\n    maxMessagesCount: {n}\n"
                        f"    maxAwaitDurationMs: {await_ms}\n")


def metric(sc, family, **labels):
    """The value of one series (0 if absent); labels must name every label but app_id and component."""
    text = rt.request("GET", sc.metrics_port, "/metrics").text
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r'^%s\{app_id="[^"]*",component="[^"]*",(.*)\} (\S+)$' % re.escape(family), line)
        if m and m.group(1) == want:
            return float(m.group(2))
    return 0.0


def drops(sc, topic):
    return metric(sc, "dapr_component_pubsub_ingress_count", process_status="drop", topic=topic)


def drop_latency_samples(sc, topic):
    return metric(sc, "dapr_component_pubsub_ingress_latencies_count", process_status="drop", topic=topic)


class RedisDrops(rt.ProcTestCase):
    def start(self, files, plan=None):
        self.redis = self.track(rt.Redis())
        res = {"pubsub.yaml": redis_pubsub_yaml("pubsub", self.redis)}
        res.update(files)
        port = rt.free_port()
        self.app = self.track(SubApp(port, plan=plan))
        return port, rt.write_resources(res)

    def test_single_delivery_drops_counted(self):
        port, res = self.start({
            "notce.yaml": sub_v1_yaml("notce", "pubsub", "notce", "/notce"),
            "old.yaml": sub_v1_yaml("old", "pubsub", "old", "/old"),
            "strict.yaml": sub_v2_yaml("strict", "pubsub", "strict", [('event.type == "only"', "/only")]),
            # dead-lettered: the stored bytes go to "dead" (an expired event would be expired there too)
            "strict-dl.yaml": sub_v2_yaml("strict-dl", "pubsub", "strict-dl", [('event.type == "only"', "/only")],
                                          dead_letter="dead"),
            "dead.yaml": sub_v1_yaml("dead", "pubsub", "dead", "/dead"),
            "ok.yaml": sub_v1_yaml("ok", "pubsub", "ok", "/ok")})
        sc = self.track(rt.Sidecar(APP, res, app_port=port))
        raw(sc, "pubsub", "notce", "not a json object {")
        raw(sc, "pubsub", "old", expired_event("old-1"))
        self.assertEqual(publish(sc, "pubsub", "strict", {"s": 1}).status, 204)
        self.assertEqual(publish(sc, "pubsub", "strict-dl", {"s": 2}, metadata={"cloudevent.id": "dl-1"}).status, 204)
        self.assertEqual(publish(sc, "pubsub", "ok", {"o": 1}).status, 204)
        rt.wait_for(lambda: self.app.received("/ok") and self.app.received("/dead"), 15,
                    what="the live event and the dead-lettered one")
        for topic in ("notce", "old", "strict", "strict-dl"):
            rt.wait_for(lambda: drops(sc, topic) == 1, 5, what=f"the drop on {topic} counted")
            self.assertEqual(drop_latency_samples(sc, topic), 0, topic)  # the app never saw it: no latency
            rt.wait_for(lambda: pending_count(self.redis, topic, APP) == 0, 5, what=f"{topic} acked")
        self.assertEqual([d["event"]["id"] for d in self.app.received("/dead")], ["dl-1"])
        for path in ("/notce", "/old", "/only"):
            self.assertEqual(self.app.received(path), [], path)
        self.assertEqual(metric(sc, "dapr_component_pubsub_ingress_count", process_status="success", topic="ok"), 1)
        self.assertEqual(drops(sc, "ok"), 0)
        log = sc.proc.log()
        self.assertIn("error deserializing cloud event in pubsub pubsub and topic notce", log)
        self.assertIn("dropping expired pub/sub event old-1", log)
        self.assertIn("in pubsub pubsub and topic strict; skipping", log)

    def test_bulk_drops_counted(self):
        def plan(path, body, attempt):  # every entry of a batch: SUCCESS
            return 200, json.dumps({"statuses": [{"entryId": e["entryId"], "status": "SUCCESS"}
                                                 for e in body.get("entries", [])]})

        port, res = self.start({
            "b.yaml": bulk(sub_v2_yaml("b", "pubsub", "bulk-in", [('event.type != "unrouted"', "/bulk")]))}, plan)
        sc = self.track(rt.Sidecar(APP, res, app_port=port))
        publish_three_drops(self, sc, "pubsub", "bulk-in")
        rt.wait_for(lambda: pending_count(self.redis, "bulk-in", APP) == 0
                    and metric(sc, "dapr_component_pubsub_ingress_bulk_event_count", process_status="success",
                               topic="bulk-in") == 1, 15, what="every entry settled")
        self.assertEqual(metric(sc, "dapr_component_pubsub_ingress_bulk_event_count", process_status="drop",
                                topic="bulk-in"), 3)
        got = [e["event"]["id"] for d in self.app.received("/bulk") for e in d["event"]["entries"]]
        self.assertEqual(got, ["live"])

    def test_grpc_poison_dropped(self):
        # data_base64 that is not base64 cannot become a gRPC TopicEventRequest: every attempt and every
        # redelivery would fail the same way (it stayed pending for ever); now it is dropped and counted
        self.redis = self.track(rt.Redis())
        res = rt.write_resources({
            "pubsub.yaml": redis_pubsub_yaml("pubsub", self.redis),
            "p.yaml": sub_v1_yaml("p", "pubsub", "poison", "/poison"),
            "b.yaml": sub_v1_yaml("b", "pubsub", "bulk-poison", "/bulk", bulk=(10, 200))})
        app = self.track(FaultApp(rt.free_port()))
        sc = self.track(rt.Sidecar(APP, res, app_port=app.port, extra_args=["--app-protocol", "grpc"]))
        poison = {"id": "bad-1", "source": "t", "type": "t", "specversion": "1.0", "data_base64": "%%%not base64"}
        raw(sc, "pubsub", "poison", json.dumps(poison))
        raw(sc, "pubsub", "bulk-poison", json.dumps(dict(poison, id="bad-2")))
        # a good entry of the same batch still goes to the app (FaultApp answers UNIMPLEMENTED: dropped there)
        self.assertEqual(publish(sc, "pubsub", "bulk-poison", {"n": 1}).status, 204)
        rt.wait_for(lambda: drops(sc, "poison") == 1, 15, what="the poison event counted as dropped")
        self.assertEqual(drop_latency_samples(sc, "poison"), 0)
        rt.wait_for(lambda: pending_count(self.redis, "poison", APP) == 0, 5, what="the poison event acked")
        rt.wait_for(lambda: pending_count(self.redis, "bulk-poison", APP) == 0, 15, what="the bulk entries acked")
        self.assertEqual(metric(sc, "dapr_component_pubsub_ingress_bulk_event_count", process_status="drop",
                                topic="bulk-poison"), 2)
        self.assertEqual(metric(sc, "dapr_component_pubsub_ingress_bulk_count", topic="bulk-poison"), 1)
        log = sc.proc.log()
        self.assertIn("pub/sub event bad-1 of topic poison can never be sent to the app "
                      "(data_base64 is not valid base64); dropping it", log)
        self.assertIn("pub/sub event bad-2 of topic bulk-poison can never be sent to the app", log)


class KafkaDrops(rt.ProcTestCase):
    def test_single_delivery_drops_counted(self):
        mock = self.track(KafkaMock(brokers=1, topics=["work:1"]))
        port = rt.free_port()
        app = self.track(SubApp(port))
        res = rt.write_resources({
            "kafka.yaml": kafka_component_yaml("queue", mock),
            "work.yaml": sub_v2_yaml("work", "queue", "work", [('event.type != "unrouted"', "/work")])})
        sc = self.track(rt.Sidecar(APP, res, app_port=port))
        publish_three_drops(self, sc, "queue", "work")
        # one partition, in order: the live event arrives only once the three before it were settled
        rt.wait_for(lambda: app.received("/work"), 30, what="the live event")
        self.assertEqual([d["event"]["id"] for d in app.received("/work")], ["live"])
        rt.wait_for(lambda: drops(sc, "work") == 3, 5, what="three drops counted")
        self.assertEqual(drop_latency_samples(sc, "work"), 0)
        self.assertEqual(metric(sc, "dapr_component_pubsub_ingress_count", process_status="success", topic="work"), 1)


if __name__ == "__main__":
    rt.main()
