"""libdapr client calls against a real ripstopd and redis-server: state (ETag,
first-write, bulk, transaction, delete), lock/unlock, secrets, metadata,
publish content types, API token, thread safety. The calls are driven by the
sdk-probe program (tests/integration/sdk/sdk_probe.c), one process per call."""

import json
import os
import subprocess
import tempfile

import ripstop_testlib as t

LOCK = """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: lockstore
spec:
  type: lock.redis
  version: v1
  metadata:
  - name: redisHost
    value: {addr}
"""

SECRETS = """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: files
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - name: secretsFile
    value: {path}
"""

PUBSUB = """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: bus
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - name: redisHost
    value: {addr}
"""


class SdkAgainstRipstopd(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.redis = self.track(t.Redis())
        sfile = os.path.join(tempfile.mkdtemp(prefix="ripstop-sdk-"), "secrets.json")
        with open(sfile, "w") as f:
            json.dump({"db-password": "s3cret", "nested": {"user": "u1"}}, f)
        res = t.write_resources({
            "state.yaml": t.redis_state_yaml("store", self.redis),
            "lock.yaml": LOCK.format(addr=self.redis.addr),
            "secrets.yaml": SECRETS.format(path=sfile),
            "pubsub.yaml": PUBSUB.format(addr=self.redis.addr),
        })
        self.token = None
        self.sidecar = self.track(t.Sidecar("sdk-test", resources=res, env=self.sidecar_env()))

    def sidecar_env(self):
        return {}

    def probe(self, *args, expect_rc=0, token=None):
        env = dict(os.environ, DAPR_HTTP_PORT=str(self.sidecar.port))
        env.pop("DAPR_API_TOKEN", None)
        if token:
            env["DAPR_API_TOKEN"] = token
        p = subprocess.run([t.binary("sdk-probe"), *args], capture_output=True, text=True, timeout=60, env=env)
        self.assertTrue(p.stdout.strip(), f"sdk-probe {args} printed nothing; stderr: {p.stderr}")
        out = json.loads(p.stdout)
        self.assertEqual(out["rc"], expect_rc, f"sdk-probe {args}: {out}")
        return out

    def test_wait_for_sidecar_and_metadata(self):
        self.probe("wait", "2000")
        md = self.probe("metadata")["json"]
        self.assertEqual(md["id"], "sdk-test")
        names = {c["name"] for c in md.get("components", [])}
        self.assertTrue({"store", "lockstore", "files"} <= names, names)

    def test_state_etag_first_write_and_delete(self):
        miss = self.probe("state-get", "store", "k1")
        self.assertFalse(miss["found"])
        self.probe("state-save", "store", "k1", '{"n":1}')
        got = self.probe("state-get", "store", "k1")
        self.assertTrue(got["found"])
        self.assertEqual(json.loads(got["value"]), {"n": 1})
        etag = got["etag"]
        self.assertTrue(etag)
        # a stale ETag is a conflict: 409 ERR_STATE_SAVE, value unchanged
        self.probe("state-save", "store", "k1", '{"n":2}', etag, "first-write")
        bad = self.probe("state-save", "store", "k1", '{"n":3}', etag, "first-write", expect_rc=-1)
        self.assertEqual((bad["status"], bad["code"]), (409, "ERR_STATE_SAVE"))
        self.assertEqual(json.loads(self.probe("state-get", "store", "k1")["value"]), {"n": 2})
        # non-JSON text is stored as a JSON string
        self.probe("state-save", "store", "txt", "plain words")
        self.assertEqual(json.loads(self.probe("state-get", "store", "txt")["value"]), "plain words")
        # delete with a stale etag conflicts, with the current one succeeds
        cur = self.probe("state-get", "store", "k1")["etag"]
        self.probe("state-delete", "store", "k1", etag, expect_rc=-1)
        self.probe("state-delete", "store", "k1", cur)
        self.assertFalse(self.probe("state-get", "store", "k1")["found"])
        # what the store holds is under Dapr's key prefix
        self.assertEqual(self.redis.cli("HGET", "sdk-test||txt", "data"), '"plain words"')

    def test_bad_key_and_unknown_store_are_dapr_errors(self):
        e = self.probe("state-save", "store", "a||b", "1", expect_rc=-1)
        self.assertEqual((e["status"], e["code"]), (400, "ERR_MALFORMED_REQUEST"))
        e = self.probe("state-get", "nostore", "k", expect_rc=-1)
        self.assertEqual((e["status"], e["code"]), (400, "ERR_STATE_STORE_NOT_FOUND"))

    def test_bulk_get(self):
        self.probe("state-save", "store", "b1", '{"x":1}')
        self.probe("state-save", "store", "b2", '"two"')
        items = {i["key"]: i for i in self.probe("state-bulk", "store", "b1", "b2", "b3")["items"]}
        self.assertEqual(json.loads(items["b1"]["value"]), {"x": 1})
        self.assertEqual(json.loads(items["b2"]["value"]), "two")
        self.assertTrue(items["b1"]["etag"])
        self.assertFalse(items["b3"]["found"])

    def test_transaction_is_etag_checked(self):
        self.probe("state-save", "store", "cust", '{"points":0}')
        etag = self.probe("state-get", "store", "cust")["etag"]
        ops = [{"op": "upsert", "key": "cust", "value": {"points": 13}, "etag": etag},
               {"op": "upsert", "key": "marker", "value": {"done": True}}]
        self.probe("state-txn", "store", json.dumps(ops))
        self.assertEqual(json.loads(self.probe("state-get", "store", "cust")["value"]), {"points": 13})
        self.assertTrue(self.probe("state-get", "store", "marker")["found"])
        # the same transaction again carries a stale etag: 500 ERR_STATE_TRANSACTION
        ops[1]["key"] = "marker2"
        e = self.probe("state-txn", "store", json.dumps(ops), expect_rc=-1)
        self.assertEqual((e["status"], e["code"]), (500, "ERR_STATE_TRANSACTION"))
        self.assertEqual(json.loads(self.probe("state-get", "store", "cust")["value"]), {"points": 13})
        # a delete inside a transaction
        self.probe("state-txn", "store", json.dumps([{"op": "delete", "key": "marker"}]))
        self.assertFalse(self.probe("state-get", "store", "marker")["found"])

    def test_lock_and_unlock(self):
        self.assertTrue(self.probe("lock", "lockstore", "res1", "owner-a", "30")["acquired"])
        self.assertFalse(self.probe("lock", "lockstore", "res1", "owner-b", "30")["acquired"])
        self.assertEqual(self.probe("unlock", "lockstore", "res1", "owner-b")["unlock"], 2)  # belongs to others
        self.assertEqual(self.probe("unlock", "lockstore", "res1", "owner-a")["unlock"], 0)
        self.assertEqual(self.probe("unlock", "lockstore", "res1", "owner-a")["unlock"], 1)  # does not exist
        self.assertTrue(self.probe("lock", "lockstore", "res1", "owner-b", "30")["acquired"])
        e = self.probe("lock", "lockstore", "res2", "owner-a", "0", expect_rc=-1)
        self.assertEqual((e["status"], e["code"]), (400, "ERR_MALFORMED_REQUEST"))

    def test_secrets(self):
        self.assertEqual(self.probe("secret", "files", "db-password")["json"], {"db-password": "s3cret"})
        self.assertEqual(self.probe("secret-value", "files", "nested:user")["value"], "u1")
        bulk = self.probe("secret-bulk", "files")["json"]
        self.assertEqual(bulk["db-password"], {"db-password": "s3cret"})
        e = self.probe("secret", "nofiles", "x", expect_rc=-1)
        self.assertEqual(e["code"], "ERR_SECRET_STORE_NOT_FOUND")

    def test_publish_content_types(self):
        self.probe("publish", "bus", "t1", '{"orderId":"o-1","orderTotal":13}', "application/json")
        self.probe("publish", "bus", "t1", "hello", "-")
        self.probe("publish", "bus", "t1", "raw-bytes", "text/plain", "rawPayload=true")

        def entries():  # the "data" field of each stream entry (redis-cli prints field and value lines)
            lines = self.redis.cli("XRANGE", "t1", "-", "+").splitlines()
            return [lines[i + 1] for i in range(len(lines) - 1) if lines[i] == "data"]
        got = t.wait_for(lambda: len(entries()) >= 3 and entries(), 10, what="3 stream entries")
        ce_json = json.loads(got[0])
        self.assertEqual(ce_json["datacontenttype"], "application/json")
        self.assertEqual(ce_json["data"], {"orderId": "o-1", "orderTotal": 13})
        self.assertEqual(ce_json["topic"], "t1")
        self.assertEqual(ce_json["source"], "sdk-test")
        ce_text = json.loads(got[1])
        self.assertEqual((ce_text["datacontenttype"], ce_text["data"]), ("text/plain", "hello"))
        self.assertIn("raw-bytes", got)
        e = self.probe("publish", "nobus", "t1", "x", "-", expect_rc=-1)
        self.assertEqual((e["status"], e["code"]), (404, "ERR_PUBSUB_NOT_FOUND"))

    def test_one_client_many_threads(self):
        out = self.probe("state-threads", "store", "8", "50")
        self.assertEqual(out["ok"], 400)


class AppSideThroughRipstopd(t.ProcTestCase):
    """A libdapr app (customer-audit-service with AUDIT_SUBSCRIBE=1) behind ripstopd: the sidecar reads its
    programmatic subscription from GET /dapr/subscribe, delivers CloudEvents the SDK unwraps, and sends
    APP_API_TOKEN, which the SDK's server requires."""

    def test_programmatic_subscription_with_app_token(self):
        redis = self.track(t.Redis())
        root = tempfile.mkdtemp(prefix="ripstop-sdk-files-")
        res = t.write_resources({"pubsub.yaml": PUBSUB.format(addr=redis.addr),
                                 "files.yaml": t.localstorage_yaml("files", root)})
        app_port = t.free_port()
        sc = self.track(t.Sidecar("audit-like", resources=res, app_port=app_port, wait=False,
                                  env={"APP_API_TOKEN": "app-tok"}))
        app = self.track(t.Proc("audit-like", [t.binary("customer-audit-service")], env={
            "APP_PORT": str(app_port), "DAPR_HTTP_PORT": str(sc.port), "APP_API_TOKEN": "app-tok",
            "AUDIT_SUBSCRIBE": "1", "ORDER_PUBSUB": "bus", "ORDER_TOPIC": "orders", "AUDIT_BINDINGS": "files"}))
        t.wait_for(lambda: t.port_open(app_port), 10, what="app port")
        sc.wait_ready()
        # Without the token the app refuses (the sidecar's calls carry it).
        self.assertEqual(t.request("POST", app_port, "/order", "{}").status, 401)
        order = {"customerId": 4, "orderTotal": 107, "loyaltyPoints": 0, "orderCount": 0, "orderId": "o-42"}
        md = t.wait_for(lambda: sc.req("GET", "/v1.0/metadata").json().get("subscriptions"), 15,
                        what="subscription registered")
        self.assertEqual((md[0]["pubsubname"], md[0]["topic"]), ("bus", "orders"))
        env = dict(os.environ, DAPR_HTTP_PORT=str(sc.port))
        p = subprocess.run([t.binary("sdk-probe"), "publish", "bus", "orders", json.dumps(order), "application/json"],
                           capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

        def written():
            files = [os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs]
            return files and [json.load(open(f)) for f in files]
        self.assertEqual(t.wait_for(written, 20, what="order written by the app"), [order])
        self.assertIn("order o-42 written to files", app.log())


class SdkWithApiToken(SdkAgainstRipstopd):
    """The same sidecar with DAPR_API_TOKEN: the SDK sends it; without it calls get 401."""

    def sidecar_env(self):
        return {"DAPR_API_TOKEN": "tok-123"}

    def probe(self, *args, expect_rc=0, token="tok-123"):
        return super().probe(*args, expect_rc=expect_rc, token=token)

    def test_missing_token_is_401(self):
        e = super().probe("state-get", "store", "k", expect_rc=-1, token="wrong")
        self.assertEqual(e["status"], 401)
        self.assertIn("invalid api token", e["message"])


if __name__ == "__main__":
    t.main()
