"""State API on state.redis against a real redis-server: every route and the
status codes of spec §2.5, etag and first-write semantics, TTLs, keyPrefix
modes, Dapr's hash layout, the atomic transaction, bad input, and Redis going
away and coming back while ripstopd keeps running."""

import json
import os
import signal
import subprocess
import time

import ripstop_testlib as t

APP = "stateapp"
BASE = "/v1.0/state/statestore"


def save(sc, items, store="statestore"):
    return sc.req("POST", f"/v1.0/state/{store}", items)


class StateCase(t.ProcTestCase):
    def start(self, extra="", app=APP, sidecar_args=None, redis=None):
        self.redis = redis or self.track(t.Redis())
        res = t.write_resources({"state.yaml": t.redis_state_yaml("statestore", self.redis, extra)})
        self.sc = self.track(t.Sidecar(app, resources=res, extra_args=sidecar_args))
        return self.sc

    def hgetall(self, key, db=None):
        args = (["-n", str(db)] if db is not None else [])
        out = self.redis.cli(*args, "HGETALL", key).split("\n")
        return dict(zip(out[0::2], out[1::2])) if out != [""] else {}

    def assertError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.headers.get("content-type"), "application/json")
        self.assertEqual(r.json()["errorCode"], code, r)


class SaveGetDelete(StateCase):
    def test_save_get_and_dapr_hash_layout(self):
        sc = self.start()
        r = save(sc, [{"key": "k1", "value": {"a": 1, "s": "x", "f": 1.5}}, {"key": "k2", "value": "hi"}])
        self.assertEqual(r.status, 204, r)
        r = sc.req("GET", f"{BASE}/k1")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b'{"a":1,"s":"x","f":1.5}')
        self.assertEqual(r.headers["content-type"], "application/json")
        self.assertEqual(r.headers["etag"], "1")
        # The storage layout Dapr uses: a hash <appId>||<key> with data and version.
        self.assertEqual(self.redis.cli("TYPE", f"{APP}||k1"), "hash")
        self.assertEqual(self.hgetall(f"{APP}||k1"), {"data": '{"a":1,"s":"x","f":1.5}', "version": "1"})
        self.assertEqual(self.hgetall(f"{APP}||k2"), {"data": '"hi"', "version": "1"})
        self.assertEqual(sc.req("GET", f"{BASE}/k2").body, b'"hi"')
        # Every write bumps the version, which is the etag.
        self.assertEqual(save(sc, [{"key": "k1", "value": 2}]).status, 204)
        r = sc.req("GET", f"{BASE}/k1")
        self.assertEqual((r.body, r.headers["etag"]), (b"2", "2"))
        self.assertEqual(sc.req("PUT", BASE, [{"key": "k1", "value": 3}]).status, 204)  # PUT is accepted too
        self.assertEqual(sc.req("GET", f"{BASE}/k1").headers["etag"], "3")

    def test_get_missing_is_204_and_empty_save_is_204(self):
        sc = self.start()
        r = sc.req("GET", f"{BASE}/nothing-here")
        self.assertEqual((r.status, r.body), (204, b""))
        self.assertEqual(save(sc, []).status, 204)

    def test_keys_are_percent_decoded(self):
        sc = self.start()
        self.assertEqual(save(sc, [{"key": "order 1/a", "value": 1}]).status, 204)
        self.assertEqual(sc.req("GET", f"{BASE}/order%201%2Fa").body, b"1")
        self.assertEqual(self.hgetall(f"{APP}||order 1/a")["data"], "1")

    def test_reads_values_written_by_dapr(self):
        sc = self.start()
        # What daprd's setScript leaves behind; ripstopd must read and update it the same way.
        self.redis.cli("HSET", f"{APP}||fromdapr", "data", '{"n":7}', "version", "5")
        r = sc.req("GET", f"{BASE}/fromdapr")
        self.assertEqual((r.status, r.body, r.headers["etag"]), (200, b'{"n":7}', "5"))
        self.assertEqual(save(sc, [{"key": "fromdapr", "value": 8, "etag": "5"}]).status, 204)
        self.assertEqual(self.hgetall(f"{APP}||fromdapr"), {"data": "8", "version": "6"})
        # A plain string key (not a hash) is read with GET, as Dapr falls back.
        self.redis.cli("SET", f"{APP}||plain", "raw")
        self.assertEqual(sc.req("GET", f"{BASE}/plain").body, b"raw")

    def test_scripts_survive_a_flushed_script_cache_and_replace_other_types(self):
        sc = self.start()
        # Writes go out as EVALSHA; a Redis that lost its script cache answers NOSCRIPT and the write is
        # sent again with the script's text, so nothing fails.
        self.assertEqual(save(sc, [{"key": "s", "value": 1}]).status, 204)
        self.assertEqual(self.redis.cli("SCRIPT", "FLUSH"), "OK")
        self.assertEqual(save(sc, [{"key": "s", "value": 2, "etag": "1"}]).status, 204)
        self.assertEqual(self.hgetall(f"{APP}||s"), {"data": "2", "version": "2"})
        self.redis.cli("SCRIPT", "FLUSH")
        self.assertEqual(sc.req("DELETE", f"{BASE}/s", headers={"If-Match": "2"}).status, 204)
        self.redis.cli("SCRIPT", "FLUSH")
        r = sc.req("POST", f"{BASE}/transaction", {"operations": [
            {"operation": "upsert", "request": {"key": "t", "value": 1}}]})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.hgetall(f"{APP}||t"), {"data": "1", "version": "1"})
        # A key of another type is replaced by the save (Dapr's script deletes it first).
        self.redis.cli("SET", f"{APP}||other", "raw")
        self.assertEqual(save(sc, [{"key": "other", "value": 5}]).status, 204)
        self.assertEqual(self.hgetall(f"{APP}||other"), {"data": "5", "version": "1"})

    def test_delete(self):
        sc = self.start()
        save(sc, [{"key": "d", "value": 1}])
        save(sc, [{"key": "d", "value": 2}])
        r = sc.req("DELETE", f"{BASE}/d", headers={"If-Match": "1"})
        self.assertError(r, 409, "ERR_STATE_DELETE")
        self.assertEqual(self.hgetall(f"{APP}||d")["version"], "2")
        self.assertEqual(sc.req("DELETE", f"{BASE}/d", headers={"If-Match": "2"}).status, 204)
        self.assertEqual(sc.req("GET", f"{BASE}/d").status, 204)
        self.assertEqual(self.redis.cli("EXISTS", f"{APP}||d"), "0")
        # Deleting a missing key (with or without an etag) succeeds.
        self.assertEqual(sc.req("DELETE", f"{BASE}/d").status, 204)
        self.assertEqual(sc.req("DELETE", f"{BASE}/d", headers={"If-Match": "9"}).status, 204)
        self.assertError(sc.req("DELETE", f"{BASE}/d?concurrency=sometimes"), 400, "ERR_MALFORMED_REQUEST")


class Etags(StateCase):
    def test_etag_rules(self):
        sc = self.start()
        save(sc, [{"key": "e", "value": 1}])
        self.assertEqual(save(sc, [{"key": "e", "value": 2, "etag": "1"}]).status, 204)
        r = save(sc, [{"key": "e", "value": 3, "etag": "1"}])  # stale
        self.assertError(r, 409, "ERR_STATE_SAVE")
        self.assertEqual(self.hgetall(f"{APP}||e"), {"data": "2", "version": "2"})
        # Dapr's Redis store accepts any etag on a missing key.
        self.assertEqual(save(sc, [{"key": "fresh", "value": 1, "etag": "42"}]).status, 204)
        self.assertEqual(self.hgetall(f"{APP}||fresh")["version"], "1")
        # A non-integer etag is invalid (400); an etag that is not a JSON string is malformed.
        self.assertError(save(sc, [{"key": "e", "value": 1, "etag": "abc"}]), 400, "ERR_STATE_SAVE")
        self.assertError(save(sc, [{"key": "e", "value": 1, "etag": 2}]), 400, "ERR_MALFORMED_REQUEST")
        # Explicit last-write ignores a stale etag.
        r = save(sc, [{"key": "e", "value": 9, "etag": "1", "options": {"concurrency": "last-write"}}])
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.hgetall(f"{APP}||e"), {"data": "9", "version": "3"})
        # In a multi-item save the etag error decides the status; the good item is still written.
        r = save(sc, [{"key": "ok1", "value": 1}, {"key": "e", "value": 0, "etag": "1"}])
        self.assertError(r, 409, "ERR_STATE_SAVE")
        self.assertEqual(sc.req("GET", f"{BASE}/ok1").status, 200)

    def test_first_write(self):
        sc = self.start()
        fw = {"concurrency": "first-write"}
        self.assertEqual(save(sc, [{"key": "f", "value": 1, "options": fw}]).status, 204)
        self.assertEqual(self.hgetall(f"{APP}||f"), {"data": "1", "first-write": "0", "version": "1"})
        # A key created with first-write refuses writes without an etag (a 500: no etag was given)...
        self.assertError(save(sc, [{"key": "f", "value": 2}]), 500, "ERR_STATE_SAVE")
        self.assertError(save(sc, [{"key": "f", "value": 2, "options": fw}]), 500, "ERR_STATE_SAVE")
        # ...a wrong etag is a 409, the right one succeeds.
        self.assertError(save(sc, [{"key": "f", "value": 2, "etag": "7", "options": fw}]), 409, "ERR_STATE_SAVE")
        self.assertEqual(save(sc, [{"key": "f", "value": 2, "etag": "1", "options": fw}]).status, 204)
        self.assertEqual(self.hgetall(f"{APP}||f")["version"], "2")
        # first-write without an etag on a key written last-write overwrites (Dapr's script does the same).
        save(sc, [{"key": "lw", "value": 1}])
        self.assertEqual(save(sc, [{"key": "lw", "value": 2, "options": fw}]).status, 204)


class BulkAndTransactions(StateCase):
    def test_bulk_get(self):
        sc = self.start()
        save(sc, [{"key": "a", "value": {"x": 1.25}}, {"key": "b", "value": "B"}])
        save(sc, [{"key": "b", "value": "B2"}])
        r = sc.req("POST", f"{BASE}/bulk", {"keys": ["a", "missing", "b"], "parallelism": 2})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), [{"key": "a", "data": {"x": 1.25}, "etag": "1"}, {"key": "missing"},
                                    {"key": "b", "data": "B2", "etag": "2"}])
        self.assertEqual(sc.req("POST", f"{BASE}/bulk", {"keys": []}).json(), [])
        keys = [f"k{i}" for i in range(300)]
        save(sc, [{"key": k, "value": i} for i, k in enumerate(keys)])
        r = sc.req("POST", f"{BASE}/bulk", {"keys": keys, "parallelism": 7})
        self.assertEqual([x["data"] for x in r.json()], list(range(300)))
        self.assertError(sc.req("POST", f"{BASE}/bulk", {"keys": "a"}), 400, "ERR_MALFORMED_REQUEST")
        self.assertError(sc.req("POST", f"{BASE}/bulk", {"keys": [1]}), 400, "ERR_MALFORMED_REQUEST")

    def test_transaction_commits(self):
        sc = self.start()
        save(sc, [{"key": "a", "value": 1}, {"key": "b", "value": 1}])
        ops = {"operations": [
            {"operation": "upsert", "request": {"key": "c", "value": {"n": 3}, "metadata": {"ttlInSeconds": "100"}}},
            {"operation": "upsert", "request": {"key": "a", "value": 2, "etag": "1"}},
            {"operation": "delete", "request": {"key": "b", "etag": "1"}},
            # a second write to the same key sees the first one's version
            {"operation": "upsert", "request": {"key": "a", "value": 3, "etag": "2"}},
        ]}
        r = sc.req("POST", f"{BASE}/transaction", ops)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.hgetall(f"{APP}||a"), {"data": "3", "version": "3"})
        self.assertEqual(self.hgetall(f"{APP}||c"), {"data": '{"n":3}', "version": "1"})
        self.assertGreater(int(self.redis.cli("TTL", f"{APP}||c")), 0)
        self.assertEqual(self.redis.cli("EXISTS", f"{APP}||b"), "0")
        self.assertEqual(sc.req("POST", f"{BASE}/transaction", {"operations": []}).status, 204)

    def test_transaction_is_atomic(self):
        """Deliberate difference from Dapr: one failed condition and nothing is written."""
        sc = self.start()
        save(sc, [{"key": "a", "value": 1}, {"key": "b", "value": 1}])
        save(sc, [{"key": "a", "value": 2}])
        before = self.redis.cli("DBSIZE")
        ops = {"operations": [
            {"operation": "upsert", "request": {"key": "new", "value": 1}},
            {"operation": "delete", "request": {"key": "b"}},
            {"operation": "upsert", "request": {"key": "a", "value": 99, "etag": "1"}},  # stale
        ]}
        r = sc.req("POST", f"{BASE}/transaction", ops)
        self.assertError(r, 500, "ERR_STATE_TRANSACTION")
        self.assertEqual(self.redis.cli("EXISTS", f"{APP}||new"), "0")
        self.assertEqual(self.hgetall(f"{APP}||b"), {"data": "1", "version": "1"})
        self.assertEqual(self.hgetall(f"{APP}||a"), {"data": "2", "version": "2"})
        self.assertEqual(self.redis.cli("DBSIZE"), before)
        # first-write conditions are checked the same way
        save(sc, [{"key": "fw", "value": 1, "options": {"concurrency": "first-write"}}])
        ops = {"operations": [{"operation": "upsert", "request": {"key": "x", "value": 1}},
                              {"operation": "upsert", "request": {"key": "fw", "value": 2}}]}
        self.assertError(sc.req("POST", f"{BASE}/transaction", ops), 500, "ERR_STATE_TRANSACTION")
        self.assertEqual(self.redis.cli("EXISTS", f"{APP}||x"), "0")
        # a stale delete etag rolls back too
        ops = {"operations": [{"operation": "upsert", "request": {"key": "y", "value": 1}},
                              {"operation": "delete", "request": {"key": "a", "etag": "1"}}]}
        self.assertError(sc.req("POST", f"{BASE}/transaction", ops), 500, "ERR_STATE_TRANSACTION")
        self.assertEqual(self.redis.cli("EXISTS", f"{APP}||y"), "0")

    def test_transaction_bad_input(self):
        sc = self.start()
        r = sc.req("POST", f"{BASE}/transaction", {"operations": [{"operation": "merge", "request": {"key": "a"}}]})
        self.assertError(r, 400, "ERR_NOT_SUPPORTED_STATE_OPERATION")
        r = sc.req("POST", f"{BASE}/transaction", {"operations": [{"operation": "upsert", "request": {"value": 1}}]})
        self.assertError(r, 400, "ERR_MALFORMED_REQUEST")
        r = sc.req("POST", f"{BASE}/transaction", {"operations": [{"operation": "upsert",
                                                                   "request": {"key": "a||b", "value": 1}}]})
        self.assertError(r, 400, "ERR_MALFORMED_REQUEST")
        self.assertError(sc.req("POST", f"{BASE}/transaction", b"{"), 400, "ERR_MALFORMED_REQUEST")
        self.assertEqual(self.redis.cli("DBSIZE"), "0")


class TtlAndPrefixes(StateCase):
    def test_ttl(self):
        sc = self.start()
        save(sc, [{"key": "t", "value": 1, "metadata": {"ttlInSeconds": "100"}}])
        self.assertTrue(0 < int(self.redis.cli("TTL", f"{APP}||t")) <= 100)
        save(sc, [{"key": "t", "value": 2, "metadata": {"ttlInSeconds": "-1"}}])
        self.assertEqual(self.redis.cli("TTL", f"{APP}||t"), "-1")  # PERSIST
        save(sc, [{"key": "short", "value": 1, "metadata": {"ttlInSeconds": "1"}}])
        t.wait_for(lambda: sc.req("GET", f"{BASE}/short").status == 204, 5, what="key to expire")
        self.assertError(save(sc, [{"key": "t", "value": 1, "metadata": {"ttlInSeconds": "soon"}}]), 400,
                         "ERR_MALFORMED_REQUEST")

    def test_component_default_ttl(self):
        sc = self.start(extra="  - name: ttlInSeconds\n    value: \"300\"\n")
        save(sc, [{"key": "d", "value": 1}])
        self.assertTrue(0 < int(self.redis.cli("TTL", f"{APP}||d")) <= 300)

    def test_key_prefix_modes(self):
        for mode, want in (("name", "statestore||k"), ("none", "k"), ("shared", "shared||k"), ("appid", f"{APP}||k")):
            with self.subTest(mode=mode):
                redis = self.track(t.Redis())
                sc = self.start(extra=f"  - name: keyPrefix\n    value: {mode}\n", redis=redis)
                self.assertEqual(save(sc, [{"key": "k", "value": 1}]).status, 204)
                self.assertEqual(redis.cli("KEYS", "*"), want)
                self.assertEqual(sc.req("GET", f"{BASE}/k").body, b"1")
                sc.stop()


class BadInput(StateCase):
    def test_errors(self):
        sc = self.start(sidecar_args=["--max-body-size", "2Ki"])
        self.assertError(sc.req("GET", "/v1.0/state/nosuch/k"), 400, "ERR_STATE_STORE_NOT_FOUND")
        self.assertError(save(sc, [{"key": "k", "value": 1}], store="nosuch"), 400, "ERR_STATE_STORE_NOT_FOUND")
        self.assertError(sc.req("DELETE", "/v1.0/state/nosuch/k"), 400, "ERR_STATE_STORE_NOT_FOUND")
        self.assertError(sc.req("GET", f"{BASE}/a||b"), 400, "ERR_MALFORMED_REQUEST")
        self.assertError(save(sc, [{"key": "a||b", "value": 1}]), 400, "ERR_MALFORMED_REQUEST")
        self.assertError(sc.req("POST", BASE, b'[{"key":"k",'), 400, "ERR_MALFORMED_REQUEST")
        self.assertError(sc.req("POST", BASE, {"key": "k"}), 400, "ERR_MALFORMED_REQUEST")  # not an array
        self.assertError(save(sc, [{"value": 1}]), 400, "ERR_MALFORMED_REQUEST")  # missing key
        self.assertError(save(sc, [{"key": "", "value": 1}]), 400, "ERR_MALFORMED_REQUEST")
        self.assertError(save(sc, ["k"]), 400, "ERR_MALFORMED_REQUEST")
        self.assertError(save(sc, [{"key": "k", "options": {"concurrency": "sometimes"}}]), 400,
                         "ERR_MALFORMED_REQUEST")
        self.assertError(save(sc, [{"key": "k", "options": {"consistency": "total"}}]), 400, "ERR_MALFORMED_REQUEST")
        self.assertError(save(sc, [{"key": "k", "metadata": {"ttlInSeconds": 5}}]), 400, "ERR_MALFORMED_REQUEST")
        r = save(sc, [{"key": "big", "value": "x" * 4096}])
        self.assertEqual(r.status, 413)
        # Nothing above reached Redis, and the sidecar still serves.
        self.assertEqual(self.redis.cli("DBSIZE"), "0")
        self.assertEqual(save(sc, [{"key": "k", "value": 1}]).status, 204)

    def test_no_state_store_configured(self):
        sc = self.track(t.Sidecar("nostores"))
        r = sc.req("GET", "/v1.0/state/statestore/k")
        self.assertEqual((r.status, r.json()["errorCode"]), (500, "ERR_STATE_STORE_NOT_CONFIGURED"))

    def test_redis_unreachable_at_start_stops_startup(self):
        port = t.free_port()

        class Gone:
            addr = f"127.0.0.1:{port}"
        res = t.write_resources({"state.yaml": t.redis_state_yaml("statestore", Gone)})
        p = subprocess.run([t.binary("ripstopd"), "--app-id", "a", "--resources-path", res, "--dapr-http-port",
                            str(t.free_port()), "--metrics-port", "0"], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn("component statestore", p.stderr)
        self.assertIn("error connecting to redis", p.stderr)
        res = t.write_resources({"state.yaml": t.redis_state_yaml("statestore", Gone).replace(
            "version: v1", "version: v1\n  ignoreErrors: true")})
        sc = self.track(t.Sidecar("a", resources=res))
        self.assertEqual(sc.req("GET", f"{BASE}/k").status, 500)  # not loaded: no state stores at all
        res = t.write_resources({"state.yaml": t.redis_state_yaml("statestore", Gone,
                                                                   "  - name: enableTLS\n    value: \"true\"\n")})
        p = subprocess.run([t.binary("ripstopd"), "--app-id", "a", "--resources-path", res, "--dapr-http-port",
                            str(t.free_port()), "--metrics-port", "0"], capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn("enableTLS", p.stderr)


class Connection(StateCase):
    def test_redis_restart_mid_test(self):
        sc = self.start()
        self.assertEqual(save(sc, [{"key": "k", "value": 1}]).status, 204)
        self.redis.stop()
        t0 = time.monotonic()
        # Fail fast with 500 while Redis is down...
        r = t.wait_for(lambda: (lambda x: x if x.status == 500 else None)(sc.req("GET", f"{BASE}/k")), 5,
                       what="get to fail")
        self.assertEqual(r.json()["errorCode"], "ERR_STATE_GET")
        self.assertError(save(sc, [{"key": "k", "value": 2}]), 500, "ERR_STATE_SAVE")
        self.assertError(sc.req("POST", f"{BASE}/transaction",
                                {"operations": [{"operation": "upsert", "request": {"key": "k", "value": 1}}]}),
                         500, "ERR_STATE_TRANSACTION")
        r = sc.req("POST", f"{BASE}/bulk", {"keys": ["k"]})
        self.assertEqual(r.status, 200)
        self.assertIn("error", r.json()[0])
        # Dapr's Redis store reports every delete error as an etag mismatch.
        self.assertError(sc.req("DELETE", f"{BASE}/k"), 409, "ERR_STATE_DELETE")
        self.assertLess(time.monotonic() - t0, 5)
        # ...while the sidecar itself keeps running.
        self.assertEqual(sc.req("GET", "/v1.0/healthz").status, 204)
        self.assertTrue(sc.proc.alive())
        # Back on the same port: requests succeed again without restarting ripstopd.
        self.redis.start()
        t.wait_for(lambda: save(sc, [{"key": "k", "value": 3}]).status == 204, 10, what="reconnect")
        r = sc.req("GET", f"{BASE}/k")
        self.assertEqual((r.status, r.body), (200, b"3"))
        self.assertIn("reconnecting", sc.proc.log())

    def test_frozen_redis_times_out_and_recovers(self):
        # No resiliency policy here: the connection's readTimeout alone ends the wait.
        sc = self.start(extra="  - name: readTimeout\n    value: 500ms\n")
        self.assertEqual(save(sc, [{"key": "k", "value": 1}]).status, 204)
        os.kill(self.redis.proc.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            r = sc.req("GET", f"{BASE}/k", timeout=10)
            took = time.monotonic() - t0
            self.assertError(r, 500, "ERR_STATE_GET")
            self.assertIn("timed out waiting for a reply", r.json()["message"])
            self.assertTrue(0.4 < took < 3, took)
        finally:
            os.kill(self.redis.proc.pid, signal.SIGCONT)
        t.wait_for(lambda: sc.req("GET", f"{BASE}/k").status == 200, 10, what="reconnect")

    def test_password_from_secret_store_and_db(self):
        redis = self.track(t.Redis(password="s3cret"))
        secrets = os.path.join(t.write_resources({}), "secrets.json")
        with open(secrets, "w") as f:
            json.dump({"redis": {"password": "s3cret"}}, f)
        comp = f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.redis
  version: v1
  metadata:
  - name: redisHost
    value: {redis.addr}
  - name: redisDB
    value: "3"
  - name: redisPassword
    secretKeyRef:
      name: redis:password
      key: redis:password
auth:
  secretStore: localsecrets
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: localsecrets
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - name: secretsFile
    value: {secrets}
"""
        sc = self.track(t.Sidecar(APP, resources=t.write_resources({"c.yaml": comp})))
        self.redis = redis
        self.assertEqual(save(sc, [{"key": "k", "value": 1}]).status, 204)
        self.assertEqual(self.hgetall(f"{APP}||k", db=3)["data"], "1")
        self.assertEqual(redis.cli("DBSIZE"), "0")  # db 0 untouched
        # The same password survives a restart (AUTH and SELECT are redone on reconnect).
        redis.stop()
        t.wait_for(lambda: sc.req("GET", f"{BASE}/k").status == 500, 5, what="get to fail")
        redis.start()
        t.wait_for(lambda: save(sc, [{"key": "k2", "value": 2}]).status == 204, 10, what="reconnect")
        self.assertEqual(self.hgetall(f"{APP}||k2", db=3)["data"], "2")

    def test_metadata_lists_state_store(self):
        sc = self.start()
        comps = sc.req("GET", "/v1.0/metadata").json()["components"]
        self.assertEqual(comps, [{"name": "statestore", "type": "state.redis", "version": "v1",
                                  "capabilities": ["ETAG", "TRANSACTIONAL", "TTL"]}])


if __name__ == "__main__":
    t.main()
