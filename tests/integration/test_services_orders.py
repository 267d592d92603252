"""The order path with the real services, ripstopd sidecars, kafka-mock, Redis and
Azurite on the deploy/local resources: both frontends (Dapr and direct mode) →
customer-order-service → Kafka topic "order" → customer-audit-service → both blob
containers, one blob per orderId. Also: X-Order-Id on every answer, unique ids,
the frontend's 500 when its target is down, the order service's 400 for a bad
body, and the audit service asking for redelivery while blob storage is down."""

import json
import os
import tempfile

import ripstop_testlib as T
import services_fixtures as F

TOTALS = {1: 13, 2: 56, 3: 22, 4: 107, 5: 89, 6: 17, 7: 168, 8: 158, 9: 74, 10: 72}


class OrderPath(T.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.logdir = tempfile.mkdtemp(prefix="sdk-services-")
        self.redis = self.track(T.Redis(password=F.secret("redis-password")))
        self.az = self.track(F.Azurite())
        self.kafka = self.track(F.KafkaMock())
        self.config = F.private_nameres_config()
        infra = {
            "RIPSTOP_REDIS_HOST": self.redis.addr,
            "RIPSTOP_BLOB_ENDPOINT": self.az.endpoint,
            "RIPSTOP_KAFKA_BROKERS": self.kafka.bootstrap,
            "RIPSTOP_SECRETS_FILE": F.SECRETS_FILE,
        }
        res = T.write_resources({"a.yaml": F.blob_yaml("orders", "orders", self.az),
                                 "b.yaml": F.blob_yaml("orders-nolock", "orders-nolock", self.az)})
        self.seeder = self.track(T.Sidecar("seeder", resources=res, config=self.config, logdir=self.logdir))
        self.audit = self.track(F.Instance(self, "customer-audit-service", "customer-audit-service",
                                           infra_env=infra, config=self.config))
        self.orders = self.track(F.Instance(self, "customer-order-service", "customer-order-service",
                                            infra_env=infra, config=self.config))
        self.fe_dapr = self.track(F.Instance(self, "frontend-dapr", "frontend", env={"FRONTEND_MODE": "dapr"},
                                             infra_env=infra, config=self.config))
        self.fe_direct = self.track(F.Instance(
            self, "frontend", "frontend", no_sidecar=True,
            env={"FRONTEND_MODE": "direct", "ORDER_SERVICE_URL": f"http://127.0.0.1:{self.orders.app_port}",
                 "FRONTEND_TIMEOUT_MS": "3000"}))

    def blob_names(self, binding):
        r = self.seeder.req("POST", f"/v1.0/bindings/{binding}", {"operation": "list", "data": {}}, timeout=30)
        self.assertEqual(r.status, 200, r)
        return sorted(b["Name"] for b in (r.json() or []))

    def get_blob(self, binding, name):
        r = self.seeder.req("POST", f"/v1.0/bindings/{binding}",
                            {"operation": "get", "metadata": {"blobName": name}}, timeout=30)
        self.assertEqual(r.status, 200, r)
        return json.loads(r.body)

    def place(self, fe, n):
        ids = []
        for _ in range(n):
            r = T.request("GET", fe.app_port, "/", timeout=60)
            self.assertEqual(r.status, 200, r)
            oid = r.headers["x-order-id"]
            self.assertIn(oid, r.text)
            ids.append(oid)
        return ids

    def test_orders_flow_to_both_containers(self):
        ids = self.place(self.fe_dapr, 10) + self.place(self.fe_direct, 10)
        self.assertEqual(len(set(ids)), 20)
        self.assertTrue(all(i.startswith("frontend-dapr-") for i in ids[:10]))
        self.assertTrue(all(i.startswith("frontend-") and not i.startswith("frontend-dapr-") for i in ids[10:]))
        for binding in ("orders", "orders-nolock"):
            T.wait_for(lambda: self.blob_names(binding) == sorted(ids), 60, interval=0.3,
                       what=f"20 order blobs in {binding}")
        # Round robin from customer 1; the original fields unchanged, orderId added.
        for n, oid in enumerate(ids[:10]):
            k = n + 1
            self.assertEqual(self.get_blob("orders", oid), {"customerId": k, "orderTotal": TOTALS[k],
                                                            "loyaltyPoints": 0, "orderCount": 0, "orderId": oid})
        self.assertIn("written to order-binding-nolock", self.audit.logs())

    def test_bad_order_body_is_400(self):
        r = T.request("POST", self.orders.app_port, "/order", "not json", {"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        r = T.request("GET", self.fe_dapr.app_port, "/healthz")
        self.assertEqual((r.status, r.text), (200, "ok\n"))

    def test_direct_frontend_answers_500_when_the_order_service_is_down(self):
        self.orders.app.stop()
        r = T.request("GET", self.fe_direct.app_port, "/", timeout=30)
        self.assertEqual(r.status, 500)
        self.assertTrue(r.headers["x-order-id"].startswith("frontend-"))
        self.assertIn("failed", r.text)

    def test_audit_asks_for_redelivery_while_blob_storage_is_down(self):
        self.az.stop()
        [oid] = self.place(self.fe_dapr, 1)
        T.wait_for(lambda: "asking for redelivery" in self.audit.logs(), 60, what="audit failing")
        self.az.start()
        T.wait_for(lambda: oid in self.blob_names("orders-nolock"), 90, interval=0.5, what="redelivered order")
        self.assertEqual(self.blob_names("orders"), [oid])


if __name__ == "__main__":
    T.main()
