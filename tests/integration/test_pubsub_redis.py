"""Pub/sub over Redis Streams through ripstopd: publish API, CloudEvent envelope, subscriptions
(declarative v1/v2 + programmatic), delivery results, dead letter, bulk publish, metadata."""

import base64
import json
import re
import os
import time

import ripstop_testlib as rt
from pubsub_fixtures import (group_info, pending_count, publish, redis_pubsub_yaml, resiliency_yaml,
                             sub_v1_yaml, sub_v2_yaml)
from sub_app import SubApp

APP = "subapp"


class PubsubRedisTest(rt.ProcTestCase):
    def start(self, files, subscriptions=None, plan=None, with_app=True, env=None):
        self.redis = self.track(rt.Redis())
        res = {"pubsub.yaml": redis_pubsub_yaml("pubsub", self.redis, processingTimeout="60s")}
        for k, v in files.items():
            res[k] = v(self.redis) if callable(v) else v
        d = rt.write_resources(res)
        self.app = None
        port = None
        if with_app:
            port = rt.free_port()
            self.app = self.track(SubApp(port, subscriptions, plan))
        self.sc = self.track(rt.Sidecar(APP, d, app_port=port, env=env))
        return self.sc

    def wait_deliveries(self, n, path=None, timeout=10):
        return rt.wait_for(lambda: len(self.app.received(path)) >= n and self.app.received(path), timeout,
                           what=f"{n} deliveries to {path or 'the app'}")

    # ---- publish API ----

    def test_publish_status_codes_and_stored_envelope(self):
        sc = self.start({"scoped.yaml": lambda r: redis_pubsub_yaml("scoped", r, publishingScopes=f"{APP}=allowed")},
                        with_app=False)
        r = publish(sc, "nope", "t", {"a": 1})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["errorCode"], "ERR_PUBSUB_NOT_FOUND")
        r = sc.req("POST", "/v1.0/publish/pubsub/", body="x")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["errorCode"], "ERR_TOPIC_NAME_EMPTY")
        r = publish(sc, "pubsub", "t", "x", metadata={"rawPayload": "maybe"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["errorCode"], "ERR_PUBSUB_REQUEST_METADATA")
        # a ttl past Go's largest duration overflowed a signed integer and formatted an unset struct tm
        for ttl in ("100000000000000000", "9223372037", "1.5", "x"):
            r = publish(sc, "pubsub", "t", "x", metadata={"ttlInSeconds": ttl})
            self.assertEqual(r.status, 400, (ttl, r))
            self.assertEqual(r.json()["errorCode"], "ERR_PUBSUB_REQUEST_METADATA")
            self.assertIn("ttlInSeconds", r.json()["message"])
        r = sc.req("POST", "/v1.0-alpha1/publish/bulk/pubsub/t",
                   body=[{"entryId": "1", "event": {"a": 1}, "metadata": {"ttlInSeconds": "100000000000000000"}}])
        self.assertGreaterEqual(r.status, 400, r)
        self.assertEqual(publish(sc, "pubsub", "t", "x", metadata={"ttlInSeconds": "9223372036"}).status, 204)
        r = publish(sc, "pubsub", "t", "[1,2]", ctype="application/cloudevents+json")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["errorCode"], "ERR_PUBSUB_CLOUD_EVENTS_SER")
        r = publish(sc, "scoped", "other", {"a": 1})
        self.assertEqual(r.status, 403)
        self.assertEqual(r.json()["errorCode"], "ERR_PUBSUB_FORBIDDEN")
        self.assertEqual(publish(sc, "scoped", "allowed", {"a": 1}).status, 204)
        r = sc.req("POST", "/v1.0-alpha1/publish/bulk/scoped/other", body=[{"entryId": "1", "event": {"a": 1}}])
        self.assertEqual(r.status, 403)
        self.assertEqual(sc.req("POST", "/v1.0-alpha1/publish/bulk/scoped/allowed",
                                body=[{"entryId": "1", "event": {"a": 1}}]).status, 204)

        r = publish(sc, "pubsub", "orders", '{"price": 9.99, "n": 1}', metadata={"k1": "v1"},
                    headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
        self.assertEqual(r.status, 204, r.text)
        out = self.redis.cli("XRANGE", "orders", "-", "+")
        lines = out.splitlines()
        self.assertEqual(lines[1], "data")
        ev = json.loads(lines[2])
        self.assertIn('"data":{"price":9.99,"n":1}', lines[2])
        self.assertEqual(ev["topic"], "orders")
        self.assertEqual(ev["pubsubname"], "pubsub")
        self.assertEqual(ev["source"], APP)
        self.assertEqual(ev["type"], "com.dapr.event.sent")
        self.assertEqual(ev["specversion"], "1.0")
        self.assertEqual(ev["datacontenttype"], "application/json")
        self.assertEqual(ev["traceparent"], "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        self.assertEqual(ev["traceid"], ev["traceparent"])
        self.assertRegex(ev["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
        self.assertEqual(lines[3], "metadata")
        self.assertEqual(json.loads(lines[4]), {"k1": "v1"})

        # no pubsub at all
        empty = rt.write_resources({"env.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: env\n"
                                                "spec:\n  type: secretstores.local.env\n  version: v1\n"})
        sc2 = self.track(rt.Sidecar("nopubsub", empty))
        r = publish(sc2, "pubsub", "t", {"a": 1})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["errorCode"], "ERR_PUBSUB_NOT_CONFIGURED")

    def test_envelope_fields_delivered(self):
        files = {"s1.yaml": sub_v1_yaml("s1", "pubsub", "env", "/env"),
                 "s2.yaml": sub_v1_yaml("s2", "pubsub", "raw", "/raw", raw=True)}
        sc = self.start(files, env={"APP_API_TOKEN": "app-secret"})
        tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        # a metadata value with a control character is no header (the app's server would refuse the request on
        # every redelivery: a poison message); the message itself is delivered
        self.assertEqual(publish(sc, "pubsub", "env", {"kind": "json"}, metadata={"color": "blue", "ctl": "a%01b"},
                                 headers={"traceparent": tp}).status, 204)
        self.assertEqual(publish(sc, "pubsub", "env", "hello text", ctype="text/plain").status, 204)
        self.assertEqual(publish(sc, "pubsub", "env", b"\x00\x01bin", ctype="application/octet-stream").status, 204)
        ce = {"id": "my-ce-1", "type": "custom.type", "source": "me", "specversion": "1.0", "data": {"x": 1}}
        self.assertEqual(publish(sc, "pubsub", "env", ce, ctype="application/cloudevents+json").status, 204)
        self.assertEqual(publish(sc, "pubsub", "env", "x", ctype="text/plain",
                                 metadata={"cloudevent.id": "over-1", "cloudevent.type": "t.over",
                                           "cloudevent.subject": "subj"}).status, 204)
        self.assertEqual(publish(sc, "pubsub", "raw", b"raw-bytes", ctype="application/octet-stream",
                                 metadata={"rawPayload": "true"}).status, 204)
        got = self.wait_deliveries(5, "/env")
        by_ct = {d["event"].get("datacontenttype"): d for d in got if d["event"].get("id") not in ("my-ce-1", "over-1")}
        j = by_ct["application/json"]
        self.assertEqual(j["event"]["data"], {"kind": "json"})
        self.assertEqual(j["headers"]["content-type"], "application/cloudevents+json")
        self.assertEqual(j["headers"]["traceparent"], tp)
        self.assertEqual(j["headers"]["color"], "blue")
        self.assertNotIn("ctl", j["headers"])
        self.assertEqual(j["headers"]["pubsubname"], "pubsub")
        self.assertEqual(j["headers"]["dapr-api-token"], "app-secret")
        self.assertEqual(by_ct["text/plain"]["event"]["data"], "hello text")
        b = by_ct["application/octet-stream"]["event"]
        self.assertNotIn("data", b)
        self.assertEqual(base64.b64decode(b["data_base64"]), b"\x00\x01bin")
        mine = [d for d in got if d["event"].get("id") == "my-ce-1"][0]["event"]
        self.assertEqual(mine["type"], "custom.type")
        self.assertEqual(mine["source"], "me")
        self.assertEqual(mine["topic"], "env")
        self.assertEqual(mine["pubsubname"], "pubsub")
        self.assertEqual(mine["data"], {"x": 1})
        over = [d for d in got if d["event"].get("id") == "over-1"][0]["event"]
        self.assertEqual((over["type"], over["subject"]), ("t.over", "subj"))
        # body is the stored bytes exactly
        stored = self.redis.cli("XRANGE", "env", "-", "+", "COUNT", "1").splitlines()[2]
        self.assertEqual(j["raw"].decode(), stored)
        raw = self.wait_deliveries(1, "/raw")[0]["event"]
        self.assertEqual(raw["datacontenttype"], "application/octet-stream")
        self.assertEqual(base64.b64decode(raw["data_base64"]), b"raw-bytes")
        self.assertEqual(len(raw["id"]), 36)
        rt.wait_for(lambda: pending_count(self.redis, "env", APP) == 0, 5, what="all acked")

    # ---- subscriptions ----

    def test_declarative_v2_rules_and_programmatic_merged(self):
        files = {"v2.yaml": sub_v2_yaml("orders", "pubsub", "orders",
                                        [('event.type == "big"', "/big"), ("event.data.n > 10", "/many")],
                                        default="/orders"),
                 "dup.yaml": sub_v1_yaml("dup", "pubsub", "dup", "/decl-dup"),
                 "norule.yaml": sub_v2_yaml("strict", "pubsub", "strict", [('event.type == "only"', "/only")])}
        prog = [{"pubsubname": "pubsub", "topic": "prog", "route": "prog"},
                {"pubsubname": "pubsub", "topic": "dup", "routes": {"default": "/prog-dup"}},
                {"pubsubname": "pubsub", "topic": "noroute"}]
        sc = self.start(files, subscriptions=prog)
        meta = rt.wait_for(lambda: len(sc.req("GET", "/v1.0/metadata").json().get("subscriptions", [])) == 4
                           and sc.req("GET", "/v1.0/metadata").json(), 10, what="subscriptions loaded")
        subs = {s["topic"]: s for s in meta["subscriptions"]}
        self.assertEqual(subs["prog"]["type"], "PROGRAMMATIC")
        self.assertEqual(subs["dup"]["type"], "PROGRAMMATIC")
        self.assertEqual(subs["orders"]["type"], "DECLARATIVE")
        self.assertEqual(subs["orders"]["rules"][0], {"match": 'event.type == "big"', "path": "/big"})
        self.assertEqual(subs["orders"]["rules"][2], {"path": "/orders"})
        self.assertEqual(self.app.subscribe_calls, 1)

        publish(sc, "pubsub", "orders", "x", ctype="text/plain", metadata={"cloudevent.type": "big"})
        publish(sc, "pubsub", "orders", {"n": 11})
        publish(sc, "pubsub", "orders", {"n": 1})
        publish(sc, "pubsub", "prog", {"p": 1})
        publish(sc, "pubsub", "dup", {"d": 1})
        publish(sc, "pubsub", "strict", {"s": 1})  # no rule matches, no default: acked and dropped
        self.wait_deliveries(1, "/big")
        self.wait_deliveries(1, "/many")
        self.wait_deliveries(1, "/orders")
        self.wait_deliveries(1, "/prog")
        self.wait_deliveries(1, "/prog-dup")
        rt.wait_for(lambda: group_info(self.redis, "strict").get("last-delivered-id", "0-0") != "0-0"
                    and pending_count(self.redis, "strict", APP) == 0, 5, what="strict topic read and acked")
        self.assertEqual(self.app.received("/decl-dup"), [])
        self.assertEqual(self.app.received("/only"), [])

    # ---- delivery results ----

    def test_retry_drop_404_and_500(self):
        def plan(path, event, attempt):
            if path == "/retry":
                return (200, '{"status":"RETRY"}') if attempt < 3 else (200, '{"status":"SUCCESS"}')
            if path == "/drop":
                return 200, '{"status":"DROP"}'
            if path == "/nf":
                return 404, ""
            if path == "/err":
                return 500, "boom"
            return 200, ""

        res = resiliency_yaml("pubsub", inbound={"retry": "three"},
                              retries={"three": {"policy": "constant", "duration": "50ms", "maxRetries": 2}})
        files = {"res.yaml": res}
        for t in ("retry", "drop", "nf", "err"):
            files[f"{t}.yaml"] = sub_v1_yaml(t, "pubsub", t, "/" + t)
        sc = self.start(files, plan=plan)
        for t in ("retry", "drop", "nf", "err"):
            self.assertEqual(publish(sc, "pubsub", t, {"t": t}).status, 204)
        self.wait_deliveries(3, "/retry")
        self.wait_deliveries(3, "/err")
        rt.wait_for(lambda: pending_count(self.redis, "retry", APP) == 0, 5, what="retry acked")
        rt.wait_for(lambda: pending_count(self.redis, "drop", APP) == 0 and len(self.app.received("/drop")) == 1, 5,
                    what="drop acked")
        rt.wait_for(lambda: pending_count(self.redis, "nf", APP) == 0 and len(self.app.received("/nf")) == 1, 5,
                    what="404 acked")
        # 500: attempts = maxRetries + 1, then the entry stays pending for redelivery (not acked)
        self.assertEqual(len(self.app.received("/err")), 3)
        self.assertEqual(pending_count(self.redis, "err", APP), 1)
        self.assertEqual(len(self.app.received("/retry")), 3)
        self.assertEqual(len(self.app.received("/drop")), 1)

    def test_inbound_timeout_per_attempt(self):
        starts = []

        def plan(path, event, attempt):
            starts.append(time.monotonic())
            if attempt == 1:
                time.sleep(1.5)  # a hung handler; the sidecar gives up on it after 300 ms
            return 200, ""

        res = resiliency_yaml("pubsub", inbound={"retry": "fast", "timeout": "short"}, timeouts={"short": "300ms"},
                              retries={"fast": {"policy": "constant", "duration": "50ms", "maxRetries": 2}})
        sc = self.start({"res.yaml": res, "s.yaml": sub_v1_yaml("s", "pubsub", "slow", "/slow")}, plan=plan)
        self.assertEqual(publish(sc, "pubsub", "slow", {"s": 1}).status, 204)
        rt.wait_for(lambda: len(starts) >= 2, 10, what="the second attempt")
        gap = starts[1] - starts[0]
        self.assertGreaterEqual(gap, 0.3)
        self.assertLess(gap, 1.2)  # did not wait for the hung attempt
        rt.wait_for(lambda: pending_count(self.redis, "slow", APP) == 0, 5, what="acked after the second attempt")

    def test_dead_letter_after_policy_gives_up(self):
        def plan(path, event, attempt):
            if path == "/work":
                return 500, "no"
            if path == "/picky":
                return 200, '{"status":"DROP"}'
            return 200, ""

        res = resiliency_yaml("pubsub", inbound={"retry": "one"},
                              retries={"one": {"policy": "constant", "duration": "20ms", "maxRetries": 1}})
        files = {"res.yaml": res,
                 "work.yaml": sub_v1_yaml("work", "pubsub", "work", "/work", dead_letter="dead"),
                 "picky.yaml": sub_v1_yaml("picky", "pubsub", "picky", "/picky", dead_letter="dead"),
                 "dead.yaml": sub_v1_yaml("dead", "pubsub", "dead", "/dead")}
        sc = self.start(files, plan=plan)
        self.assertEqual(publish(sc, "pubsub", "work", {"w": 1}, metadata={"cloudevent.id": "w-1"}).status, 204)
        self.assertEqual(publish(sc, "pubsub", "picky", {"p": 1}, metadata={"cloudevent.id": "p-1"}).status, 204)
        got = self.wait_deliveries(2, "/dead")
        ids = sorted(d["event"]["id"] for d in got)
        self.assertEqual(ids, ["p-1", "w-1"])
        for d in got:  # the original bytes: topic still names the original topic
            self.assertEqual(d["event"]["topic"], {"w-1": "work", "p-1": "picky"}[d["event"]["id"]])
        self.assertEqual(len(self.app.received("/work")), 2)
        rt.wait_for(lambda: pending_count(self.redis, "work", APP) == 0, 5, what="work acked after dead letter")
        self.assertEqual(pending_count(self.redis, "picky", APP), 0)

    def test_expired_events_are_dropped(self):
        self.redis = self.track(rt.Redis())
        res = rt.write_resources({"pubsub.yaml": redis_pubsub_yaml("pubsub", self.redis),
                                  "s.yaml": sub_v1_yaml("s", "pubsub", "ttl", "/ttl")})
        port = rt.free_port()
        sc = self.track(rt.Sidecar(APP, res, app_port=port))  # the app is not up yet: nothing is read
        self.assertEqual(publish(sc, "pubsub", "ttl", {"n": 1}, metadata={"ttlInSeconds": "1",
                                                                          "cloudevent.id": "short"}).status, 204)
        self.assertEqual(publish(sc, "pubsub", "ttl", {"n": 2}, metadata={"cloudevent.id": "long"}).status, 204)
        stored = json.loads(self.redis.cli("XRANGE", "ttl", "-", "+", "COUNT", "1").splitlines()[2])
        self.assertRegex(stored["expiration"], r"Z$")
        t0 = time.monotonic()
        rt.wait_for(lambda: time.monotonic() - t0 > 1.5, 5, what="the TTL to pass")
        self.app = self.track(SubApp(port))
        rt.wait_for(lambda: self.app.received("/ttl"), 15, what="the live event")
        rt.wait_for(lambda: group_info(self.redis, "ttl").get("pending") == "0"
                    and group_info(self.redis, "ttl").get("entries-read") == "2", 5, what="both entries handled")
        self.assertEqual([d["event"]["id"] for d in self.app.received("/ttl")], ["long"])

    def test_stream_trimming(self):
        self.redis = self.track(rt.Redis())
        res = rt.write_resources({"a.yaml": redis_pubsub_yaml("capped", self.redis, maxLenApprox="10"),
                                  "b.yaml": redis_pubsub_yaml("aged", self.redis, streamTTL="1s")})
        sc = self.track(rt.Sidecar(APP, res))
        entries = [{"entryId": str(i), "event": {"i": i}} for i in range(400)]
        self.assertEqual(sc.req("POST", "/v1.0-alpha1/publish/bulk/capped/c", body=entries).status, 204)
        self.assertLess(int(self.redis.cli("XLEN", "c")), 250)  # ~ trims whole nodes of 100 entries
        self.assertEqual(sc.req("POST", "/v1.0-alpha1/publish/bulk/aged/a", body=entries).status, 204)
        self.assertEqual(int(self.redis.cli("XLEN", "a")), 400)
        t0 = time.monotonic()
        rt.wait_for(lambda: time.monotonic() - t0 > 1.2, 5, what="streamTTL to pass")
        self.assertEqual(publish(sc, "aged", "a", {"late": 1}).status, 204)
        self.assertLess(int(self.redis.cli("XLEN", "a")), 400)
        print(f"XLEN capped={self.redis.cli('XLEN', 'c')} aged={self.redis.cli('XLEN', 'a')}")

    def test_bulk_subscribe(self):
        seen = {}

        def plan(path, body, attempt):
            if path != "/bulk-sub":
                return 200, ""
            statuses = []
            for e in body["entries"]:
                eid = e["event"]["id"]
                seen[eid] = seen.get(eid, 0) + 1
                kind = e["event"]["data"]["kind"]
                st = {"ok": "SUCCESS", "drop": "DROP"}.get(kind, "RETRY" if seen[eid] == 1 else "SUCCESS")
                if kind == "silent" and seen[eid] == 1:
                    continue  # a missing status means RETRY
                statuses.append({"entryId": e["entryId"], "status": st})
            return 200, json.dumps({"statuses": statuses})

        res = resiliency_yaml("pubsub", inbound={"retry": "few"},
                              retries={"few": {"policy": "constant", "duration": "50ms", "maxRetries": 3}})
        self.redis = self.track(rt.Redis())
        files = rt.write_resources({
            "pubsub.yaml": redis_pubsub_yaml("pubsub", self.redis, concurrency="20"),
            "res.yaml": res,
            "b.yaml": sub_v1_yaml("b", "pubsub", "bulk-in", "/bulk-sub", dead_letter="bulk-dead", bulk=(5, 200)),
            "d.yaml": sub_v1_yaml("d", "pubsub", "bulk-dead", "/dead")})
        port = rt.free_port()
        self.app = self.track(SubApp(port, None, plan))
        sc = self.track(rt.Sidecar(APP, files, app_port=port))
        kinds = ["drop", "flaky", "ok", "silent"]
        for i in range(12):
            self.assertEqual(publish(sc, "pubsub", "bulk-in", {"kind": kinds[i % 4]},
                                     metadata={"cloudevent.id": f"b-{i}"}).status, 204)
        dead = self.wait_deliveries(3, "/dead")
        self.assertEqual(sorted(d["event"]["id"] for d in dead), ["b-0", "b-4", "b-8"])
        rt.wait_for(lambda: pending_count(self.redis, "bulk-in", APP) == 0, 10, what="all bulk entries acked")
        reqs = self.app.received("/bulk-sub")
        self.assertTrue(any(len(r["event"]["entries"]) > 1 for r in reqs), "messages were batched")
        for r in reqs:
            self.assertEqual(r["headers"]["content-type"], "application/json")
            self.assertEqual(r["event"]["type"], "com.dapr.event.sent.bulk")
            self.assertEqual(r["event"]["topic"], "bulk-in")
            self.assertLessEqual(len(r["event"]["entries"]), 5)
            for e in r["event"]["entries"]:
                self.assertEqual(e["contentType"], "application/cloudevents+json")
                self.assertEqual(e["event"]["pubsubname"], "pubsub")
        self.assertEqual(sorted(seen), sorted(f"b-{i}" for i in range(12)))
        for i in range(12):
            self.assertEqual(seen[f"b-{i}"], 2 if kinds[i % 4] in ("flaky", "silent") else 1, f"b-{i}")
        # daprd's bulk ingress families: one per call to the app, entries by their final status
        m = rt.request("GET", sc.metrics_port, "/metrics").text

        def entries(status):
            pat = (r'^dapr_component_pubsub_ingress_bulk_event_count\{app_id="%s",component="pubsub",'
                   r'process_status="%s",topic="bulk-in"\} (\S+)$' % (APP, status))
            return sum(float(v) for v in re.findall(pat, m, re.M))
        self.assertEqual((entries("success"), entries("drop"), entries("retry")), (9, 3, 0))
        calls = re.search(r'^dapr_component_pubsub_ingress_bulk_count\{app_id="%s",component="pubsub",'
                          r'topic="bulk-in"\} (\S+)$' % APP, m, re.M)
        self.assertTrue(calls and float(calls.group(1)) >= 1, m)
        self.assertIn("# TYPE dapr_component_pubsub_ingress_bulk_latencies histogram", m)

    # ---- bulk ----

    def test_bulk_publish(self):
        files = {"b.yaml": sub_v1_yaml("b", "pubsub", "bulk-t", "/bulk")}
        sc = self.start(files)
        entries = [{"entryId": "1", "event": {"n": 1}, "contentType": "application/json"},
                   {"entryId": "2", "event": "plain text", "contentType": "text/plain"},
                   {"entryId": "3", "event": {"id": "ce-3", "specversion": "1.0", "type": "x", "source": "s",
                                              "data": "d"}, "contentType": "application/cloudevents+json",
                    "metadata": {"m": "v"}}]
        r = sc.req("POST", "/v1.0-alpha1/publish/bulk/pubsub/bulk-t", body=entries)
        self.assertEqual(r.status, 204, r.text)
        got = self.wait_deliveries(3, "/bulk")
        datas = sorted(json.dumps(d["event"].get("data")) for d in got)
        self.assertEqual(datas, sorted([json.dumps({"n": 1}), json.dumps("plain text"), json.dumps("d")]))
        ce = [d for d in got if d["event"]["id"] == "ce-3"][0]
        self.assertEqual(ce["headers"]["m"], "v")
        r = sc.req("POST", "/v1.0-alpha1/publish/bulk/pubsub/bulk-t",
                   body=[{"entryId": "1", "event": 1}, {"entryId": "1", "event": 2}])
        self.assertEqual(r.status, 400)
        r = sc.req("POST", "/v1.0-alpha1/publish/bulk/pubsub/bulk-t", body={"not": "a list"})
        self.assertEqual(r.status, 400)
        r = sc.req("POST", "/v1.0-alpha1/publish/bulk/nope/bulk-t", body=entries)
        self.assertEqual(r.status, 404)


if __name__ == "__main__":
    rt.main()
