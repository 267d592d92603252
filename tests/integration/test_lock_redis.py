"""Lock API v1.0-alpha1 on lock.redis against a real redis-server: try-lock and
unlock results, Dapr's key layout, expiry, validation order, error codes, and
Redis going away and coming back."""

import ripstop_testlib as t

APP = "lockapp"
LOCK = "/v1.0-alpha1/lock/lockstore"
UNLOCK = "/v1.0-alpha1/unlock/lockstore"


def lock_yaml(redis, extra=""):
    return f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: lockstore
spec:
  type: lock.redis
  version: v1
  metadata:
  - name: redisHost
    value: {redis.addr}
{extra}"""


class LockCase(t.ProcTestCase):
    def start(self, extra=""):
        self.redis = self.track(t.Redis())
        self.sc = self.track(t.Sidecar(APP, resources=t.write_resources({"lock.yaml": lock_yaml(self.redis, extra)})))
        return self.sc

    def lock(self, rid, owner, expiry=10):
        return self.sc.req("POST", LOCK, {"resourceId": rid, "lockOwner": owner, "expiryInSeconds": expiry})

    def unlock(self, rid, owner):
        return self.sc.req("POST", UNLOCK, {"resourceId": rid, "lockOwner": owner})

    def assertError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json()["errorCode"], code, r)


class Locking(LockCase):
    def test_lock_unlock_statuses_and_layout(self):
        self.start()
        r = self.lock("order-1", "replica-a", 30)
        self.assertEqual((r.status, r.json()), (200, {"success": True}))
        self.assertEqual(r.headers["content-type"], "application/json")
        # Dapr's layout: a plain string key lock||<appId>||<resourceId> holding the owner, with the expiry as TTL.
        self.assertEqual(self.redis.cli("GET", f"lock||{APP}||order-1"), "replica-a")
        self.assertTrue(0 < int(self.redis.cli("TTL", f"lock||{APP}||order-1")) <= 30)
        self.assertEqual(self.lock("order-1", "replica-b").json(), {"success": False})
        self.assertEqual(self.lock("order-1", "replica-a").json(), {"success": False})  # not re-entrant
        self.assertEqual(self.unlock("order-1", "replica-b").json(), {"status": 2})  # belongs to others
        self.assertEqual(self.unlock("order-1", "replica-a").json(), {"status": 0})
        self.assertEqual(self.unlock("order-1", "replica-a").json(), {"status": 1})  # does not exist
        self.assertEqual(self.lock("order-1", "replica-b").json(), {"success": True})

    def test_lock_taken_by_dapr_is_honoured(self):
        self.start()
        self.redis.cli("SET", f"lock||{APP}||shared", "daprd-owner", "EX", "60")
        self.assertEqual(self.lock("shared", "me").json(), {"success": False})
        self.assertEqual(self.unlock("shared", "daprd-owner").json(), {"status": 0})
        self.assertEqual(self.redis.cli("EXISTS", f"lock||{APP}||shared"), "0")

    def test_expiry(self):
        sc = self.start()
        self.assertTrue(self.lock("r", "a", 1).json()["success"])
        t.wait_for(lambda: self.lock("r", "b", 5).json()["success"], 5, what="lock to expire")
        # expiryInSeconds may also be a numeric string (protojson reads int32 that way)
        r = sc.req("POST", LOCK, {"resourceId": "s", "lockOwner": "a", "expiryInSeconds": "5"})
        self.assertEqual(r.json(), {"success": True})

    def test_key_prefix_name(self):
        self.start("  - name: keyPrefix\n    value: name\n")
        self.assertTrue(self.lock("r", "a").json()["success"])
        self.assertEqual(self.redis.cli("KEYS", "*"), "lock||lockstore||r")


class Validation(LockCase):
    def test_bad_requests(self):
        sc = self.start()
        # expiry <= 0 is checked before the other fields
        r = sc.req("POST", LOCK, {"expiryInSeconds": 0})
        self.assertError(r, 400, "ERR_MALFORMED_REQUEST")
        self.assertIn("ExpiryInSeconds", r.json()["message"])
        self.assertError(sc.req("POST", LOCK, {"resourceId": "r", "lockOwner": "o", "expiryInSeconds": -5}), 400,
                         "ERR_MALFORMED_REQUEST")
        self.assertError(sc.req("POST", LOCK, {"resourceId": "r", "lockOwner": "o"}), 400, "ERR_MALFORMED_REQUEST")
        r = sc.req("POST", LOCK, {"lockOwner": "o", "expiryInSeconds": 5})
        self.assertError(r, 400, "ERR_MALFORMED_REQUEST")
        self.assertIn("ResourceId", r.json()["message"])
        r = sc.req("POST", LOCK, {"resourceId": "r", "expiryInSeconds": 5})
        self.assertIn("LockOwner", r.json()["message"])
        self.assertError(sc.req("POST", UNLOCK, {"resourceId": "r"}), 400, "ERR_MALFORMED_REQUEST")
        self.assertError(sc.req("POST", UNLOCK, {"lockOwner": "o"}), 400, "ERR_MALFORMED_REQUEST")
        self.assertError(sc.req("POST", LOCK, b"{nope"), 400, "ERR_MALFORMED_REQUEST")
        self.assertError(sc.req("POST", LOCK, {"resourceId": 5, "lockOwner": "o", "expiryInSeconds": 5}), 400,
                         "ERR_MALFORMED_REQUEST")
        self.assertError(sc.req("POST", LOCK, {"resourceId": "r", "lockOwner": "o", "expiryInSeconds": "x"}), 400,
                         "ERR_MALFORMED_REQUEST")
        self.assertError(self.lock("a||b", "o"), 400, "ERR_MALFORMED_REQUEST")
        # unknown fields are ignored
        r = sc.req("POST", LOCK, {"resourceId": "r", "lockOwner": "o", "expiryInSeconds": 5, "extra": True})
        self.assertEqual(r.json(), {"success": True})
        r = sc.req("POST", "/v1.0-alpha1/lock/other", {"resourceId": "r", "lockOwner": "o", "expiryInSeconds": 5})
        self.assertError(r, 400, "ERR_LOCK_STORE_NOT_FOUND")
        self.assertError(sc.req("POST", "/v1.0-alpha1/unlock/other", {"resourceId": "r", "lockOwner": "o"}), 400,
                         "ERR_LOCK_STORE_NOT_FOUND")
        self.assertEqual(self.redis.cli("KEYS", "*"), f"lock||{APP}||r")

    def test_no_lock_store(self):
        sc = self.track(t.Sidecar("nolocks"))
        r = sc.req("POST", LOCK, {"resourceId": "r", "lockOwner": "o", "expiryInSeconds": 5})
        self.assertError(r, 500, "ERR_LOCK_STORE_NOT_CONFIGURED")
        self.assertError(sc.req("POST", UNLOCK, {"resourceId": "r", "lockOwner": "o"}), 500,
                         "ERR_LOCK_STORE_NOT_CONFIGURED")


class Connection(LockCase):
    def test_redis_restart(self):
        sc = self.start()
        self.assertTrue(self.lock("r", "a").json()["success"])
        self.redis.stop()
        t.wait_for(lambda: self.lock("r", "a").status == 500, 5, what="lock to fail")
        self.assertError(self.lock("r", "a"), 500, "ERR_TRY_LOCK")
        self.assertError(self.unlock("r", "a"), 500, "ERR_UNLOCK")
        self.assertEqual(sc.req("GET", "/v1.0/healthz").status, 204)
        self.redis.start()
        t.wait_for(lambda: self.lock("r", "a").status == 200, 10, what="reconnect")
        self.assertEqual(self.unlock("r", "a").json(), {"status": 0})


if __name__ == "__main__":
    t.main()
