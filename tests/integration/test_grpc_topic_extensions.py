"""TopicEventRequest.extensions over the gRPC app channel: the CloudEvent's
attributes other than id, source, type, specversion, datacontenttype, data and
data_base64 (daprd's extractCloudEventExtensions) reach a gRPC app as a
google.protobuf.Struct, with strings, numbers (doubles), booleans, null, lists
and nested objects. A raw HTTP/2 app (tests/lib/grpc_fault_app.py) records
each OnTopicEvent, behind ripstopd and a real redis-server."""

import json

import ripstop_testlib as t
from grpc_fault_app import FaultApp
from h2grpc import decode
from pubsub_fixtures import publish, redis_pubsub_yaml, sub_v1_yaml


def struct_of(raw):
    """google.protobuf.Struct bytes -> dict."""
    out = {}
    for entry in decode(raw).get(1, []):
        e = decode(entry)
        out[e[1][0].decode()] = value_of(e.get(2, [b""])[0])
    return out


def value_of(raw):
    f = decode(raw)
    if 1 in f:
        return None
    if 2 in f:
        return f[2][0]
    if 3 in f:
        return f[3][0].decode()
    if 4 in f:
        return bool(f[4][0])
    if 5 in f:
        return struct_of(f[5][0])
    if 6 in f:
        return [value_of(v) for v in decode(f[6][0]).get(1, [])]
    raise AssertionError(f"a Value with no kind set: {raw!r}")


class TopicExtensions(t.ProcTestCase):
    def test_extensions_reach_the_app(self):
        redis = self.track(t.Redis())
        port = t.free_port()
        app = self.track(FaultApp(port))
        files = {"pubsub.yaml": redis_pubsub_yaml("bus", redis), "sub.yaml": sub_v1_yaml("s", "bus", "orders", "/orders")}
        sidecar = self.track(t.Sidecar("extapp", resources=t.write_resources(files), app_port=port,
                                       extra_args=["--app-protocol", "grpc"]))
        event = {"specversion": "1.0", "id": "ev-1", "source": "tests", "type": "order.placed",
                 "datacontenttype": "application/json", "data": {"n": 1},
                 "myext": "v", "count": 3, "ratio": 0.5, "flag": False, "nothing": None,
                 "nested": {"a": [1, True, "x", {"deep": "yes"}], "empty": {}}, "tags": []}
        self.assertEqual(publish(sidecar, "bus", "orders", json.dumps(event),
                                 ctype="application/cloudevents+json").status, 204)
        events = t.wait_for(lambda: app.topic_events, 15, what="the event at the app")
        req = events[0]
        self.assertEqual(req[1][0], b"ev-1")  # id
        self.assertEqual(json.loads(req[7][0]), {"n": 1})  # data
        ext = struct_of(req[10][0])
        for core in ("id", "source", "type", "specversion", "datacontenttype", "data", "data_base64"):
            self.assertNotIn(core, ext)
        self.assertEqual(ext["myext"], "v")
        self.assertEqual(ext["count"], 3.0)
        self.assertEqual(ext["ratio"], 0.5)
        self.assertIs(ext["flag"], False)
        self.assertIsNone(ext["nothing"])
        self.assertEqual(ext["nested"], {"a": [1.0, True, "x", {"deep": "yes"}], "empty": {}})
        self.assertEqual(ext["tags"], [])
        # what the sidecar adds to the event is an attribute like any other, as in daprd
        self.assertEqual((ext["topic"], ext["pubsubname"]), ("orders", "bus"))


if __name__ == "__main__":
    t.main()
