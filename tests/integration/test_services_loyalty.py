"""customer-loyalty-job against real ripstopd sidecars, Redis and Azurite, with the
deploy/local resources: two lock-variant replicas count a prepared set of order
blobs exactly; an order blob written again after it was counted (a redelivered or
retried order) is only deleted, never counted twice (the processed marker); two
no-lock replicas count at least as much (the original's race)."""

import json
import os
import tempfile

import ripstop_testlib as T
import services_fixtures as F

TOTALS = {1: 13, 2: 56, 3: 22, 4: 107, 5: 89, 6: 17, 7: 168, 8: 158, 9: 74, 10: 72}
N_ORDERS = 60  # customer k gets 6 orders


def order(i, prefix="o"):
    k = (i - 1) % 10 + 1
    return {"customerId": k, "orderTotal": TOTALS[k], "loyaltyPoints": 0, "orderCount": 0,
            "orderId": f"{prefix}-{i:03d}"}


class LoyaltyJob(T.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.logdir = tempfile.mkdtemp(prefix="sdk-services-")  # app and sidecar logs of this test
        self.redis = self.track(T.Redis(password=F.secret("redis-password")))
        self.az = self.track(F.Azurite())
        self.config = F.private_nameres_config()
        self.infra_env = {
            "RIPSTOP_REDIS_HOST": self.redis.addr,
            "RIPSTOP_BLOB_ENDPOINT": self.az.endpoint,
            "RIPSTOP_SECRETS_FILE": F.SECRETS_FILE,
            "LOYALTY_SCHEDULE": "*/1 * * * * *",
        }
        # A helper sidecar that writes and lists the blobs (the audit service's role).
        res = T.write_resources({"a.yaml": F.blob_yaml("orders", "orders", self.az),
                                 "b.yaml": F.blob_yaml("orders-nolock", "orders-nolock", self.az)})
        self.seeder = self.track(T.Sidecar("seeder", resources=res, config=self.config, logdir=self.logdir))

    def put_blob(self, binding, o):
        r = self.seeder.req("POST", f"/v1.0/bindings/{binding}",
                            {"operation": "create", "data": o, "metadata": {"blobName": o["orderId"]}}, timeout=30)
        self.assertEqual(r.status, 200, r)

    def blob_names(self, binding):
        r = self.seeder.req("POST", f"/v1.0/bindings/{binding}", {"operation": "list", "data": {}}, timeout=30)
        self.assertEqual(r.status, 200, r)
        return sorted(b["Name"] for b in (r.json() or []))

    def start_jobs(self, mode, replicas=2, env=None):
        app_id = "customer-loyalty-job" if mode == "lock" else "customer-loyalty-job-nolock"
        return [self.track(F.Instance(self, app_id, "customer-loyalty-job",
                                      env={"LOYALTY_MODE": mode, "LIST_SIZE": "10", **(env or {})},
                                      infra_env=self.infra_env, config=self.config))
                for _ in range(replicas)]

    def records(self, app_id):
        return {k: F.redis_record(self.redis, app_id, k) for k in TOTALS}

    def test_lock_variant_counts_exactly_and_never_twice(self):
        for i in range(1, N_ORDERS + 1):
            self.put_blob("orders", order(i))
        self.assertEqual(len(self.blob_names("orders")), N_ORDERS)
        jobs = self.start_jobs("lock")
        T.wait_for(lambda: self.blob_names("orders") == [], 120, interval=0.5, what="container orders drained")
        recs = self.records("customer-loyalty-job")
        for k, total in TOTALS.items():
            self.assertEqual((recs[k]["orderCount"], recs[k]["loyaltyPoints"]), (6, 6 * total), f"customer {k}")
        # Each order has its processed marker.
        markers = self.redis.cli("KEYS", "customer-loyalty-job||processed:*").split()
        self.assertEqual(len(markers), N_ORDERS)
        counted = [j.logs().count(" counted: ") for j in jobs]
        print(f"orders counted per replica: {counted}")
        self.assertEqual(sum(counted), N_ORDERS)

        # The same orders arrive again (a retried publish, a redelivered message): the blobs come back
        # with the same names. They are deleted without counting; a new order still counts.
        for i in (5, 17):
            self.put_blob("orders", order(i))
        self.put_blob("orders", order(1, prefix="new"))
        T.wait_for(lambda: self.blob_names("orders") == [], 60, interval=0.5, what="re-sent orders handled")
        recs = self.records("customer-loyalty-job")
        self.assertEqual(recs[5]["orderCount"], 6)
        self.assertEqual(recs[7]["orderCount"], 6)
        self.assertEqual((recs[1]["orderCount"], recs[1]["loyaltyPoints"]), (7, 7 * 13))
        logs = "".join(j.logs() for j in jobs)
        self.assertIn("order o-005 already counted", logs)
        self.assertIn("order o-017 already counted", logs)
        # Lock owners differ per replica (the original used the app id for both).
        owners = {line.split("lock owner ")[1].strip() for j in jobs for line in j.app.log().splitlines()
                  if "lock owner " in line}
        self.assertEqual(len(owners), 2)

    def test_lock_variant_stays_exact_when_replicas_are_killed(self):
        n = 150  # customer k gets 15 orders
        for i in range(1, n + 1):
            self.put_blob("orders", order(i))
        jobs = self.start_jobs("lock", env={"LOCK_EXPIRY_SECONDS": "3"})
        kills = 0
        for round_ in range(6):  # alternate replicas; each kill lands while blobs are being processed
            left = len(self.blob_names("orders"))
            if left < 20:
                break
            T.wait_for(lambda: len(self.blob_names("orders")) <= left - 5, 60, interval=0.05,
                       what="progress before a kill")
            jobs[round_ % 2].kill9_and_restart()
            kills += 1
        print(f"killed a replica {kills} times")
        self.assertGreaterEqual(kills, 3)
        T.wait_for(lambda: self.blob_names("orders") == [], 180, interval=0.5, what="container orders drained")
        recs = self.records("customer-loyalty-job")
        for k, total in TOTALS.items():
            self.assertEqual((recs[k]["orderCount"], recs[k]["loyaltyPoints"]), (15, 15 * total), f"customer {k}")
        again = sum(j.logs().count(" already counted") for j in jobs)
        print(f"orders found already counted after a kill (marker used): {again}")

    def test_replica_dying_between_count_and_delete_does_not_count_twice(self):
        for i in range(1, 21):
            self.put_blob("orders", order(i))
        # Replica a exits right after its 2nd counting transaction, before deleting that blob.
        a = self.start_jobs("lock", replicas=1, env={"LOCK_EXPIRY_SECONDS": "2",
                                                      "LOYALTY_FAULT_EXIT_AFTER_COUNT": "2"})[0]
        T.wait_for(lambda: not a.app.alive(), 60, what="replica a exiting after its 2nd count")
        self.assertIn("fault injection: exiting after counting order", a.app.log())
        b = self.start_jobs("lock", replicas=1, env={"LOCK_EXPIRY_SECONDS": "2"})[0]
        T.wait_for(lambda: self.blob_names("orders") == [], 120, interval=0.5, what="container orders drained")
        recs = self.records("customer-loyalty-job")
        for k, total in TOTALS.items():
            self.assertEqual((recs[k]["orderCount"], recs[k]["loyaltyPoints"]), (2, 2 * total), f"customer {k}")
        self.assertEqual(b.logs().count(" already counted"), 1)

    def test_nolock_variant_counts_at_least_every_order(self):
        for i in range(1, N_ORDERS + 1):
            self.put_blob("orders-nolock", order(i))
        self.start_jobs("nolock")
        T.wait_for(lambda: self.blob_names("orders-nolock") == [], 120, interval=0.5, what="container drained")
        recs = self.records("customer-loyalty-job-nolock")
        total = 0
        for k, t in TOTALS.items():
            self.assertGreaterEqual(recs[k]["orderCount"], 6, f"customer {k}")
            self.assertEqual(recs[k]["loyaltyPoints"], recs[k]["orderCount"] * t)
            total += recs[k]["orderCount"]
        print(f"no-lock variant counted {total} for {N_ORDERS} orders")
        self.assertEqual(self.redis.cli("KEYS", "customer-loyalty-job-nolock||processed:*"), "")


if __name__ == "__main__":
    T.main()
