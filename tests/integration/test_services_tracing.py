"""One order is one trace (issue 16): the real services with libdapr, ripstopd sidecars exporting Zipkin v2
to tests/lib/trace_receiver.py, kafka-mock, Redis and Azurite on the deploy/local resources. An order placed
on frontend-dapr with a sampled traceparent shows up as ONE trace: frontend-dapr's sidecar -> the order
service (its publish) -> Kafka -> the audit service (both blob writes) -> the loyalty job counting it (the
blob's stored traceparent). An order through the plain frontend (no sidecar) is one trace too, from the
order service's publish on. Every span's parent is in its trace."""

import os
import tempfile

import ripstop_testlib as T
import services_fixtures as F
from trace_receiver import TraceReceiver

TRACE = "5f1b0c2d3e4a59687a8b9cadbecfd0e1"
ROOT_SPAN = "a1b2c3d4e5f60718"


class OrderTrace(T.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.logdir = tempfile.mkdtemp(prefix="sdk-services-")
        self.rx = self.track(TraceReceiver())
        self.redis = self.track(T.Redis(password=F.secret("redis-password")))
        self.az = self.track(F.Azurite())
        self.kafka = self.track(F.KafkaMock())
        d = tempfile.mkdtemp(prefix="ripstop-svc-trace-")
        self.config = os.path.join(d, "config.yaml")
        with open(self.config, "w") as f:
            f.write(f"""apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: services-tracing
spec:
  tracing:
    samplingRate: "1"
    zipkin:
      endpointAddress: {self.rx.zipkin_url}
  nameResolution:
    component: sqlite
    configuration:
      connectionString: {os.path.join(d, 'nameres.db')}
      cleanupInterval: 0
""")
        infra = {
            "RIPSTOP_REDIS_HOST": self.redis.addr,
            "RIPSTOP_BLOB_ENDPOINT": self.az.endpoint,
            "RIPSTOP_KAFKA_BROKERS": self.kafka.bootstrap,
            "RIPSTOP_SECRETS_FILE": F.SECRETS_FILE,
            "LOYALTY_SCHEDULE": "*/1 * * * * *",
        }
        mk = lambda app_id, prog, env=None: self.track(F.Instance(self, app_id, prog, env=env, infra_env=infra,
                                                                   config=self.config))
        self.audit = mk("customer-audit-service", "customer-audit-service")
        self.orders = mk("customer-order-service", "customer-order-service")
        self.loyalty = mk("customer-loyalty-job", "customer-loyalty-job", {"LOYALTY_MODE": "lock"})
        self.fe_dapr = mk("frontend-dapr", "frontend", {"FRONTEND_MODE": "dapr"})
        self.fe_direct = self.track(F.Instance(
            self, "frontend", "frontend", no_sidecar=True,
            env={"FRONTEND_MODE": "direct", "ORDER_SERVICE_URL": f"http://127.0.0.1:{self.orders.app_port}"}))

    def trace_of(self, trace_id):
        return [s for s in self.rx.snapshot() if s["trace"] == trace_id]

    def counted(self, customer):
        rec = F.redis_record(self.redis, "customer-loyalty-job", str(customer))
        return rec["orderCount"] if rec else 0

    def wait_counted_in_trace(self, trace_id, what):
        """Until the loyalty job's counting transaction of this order is exported in its trace."""
        def done():
            return any(s["service"] == "customer-loyalty-job" and "/transaction" in s["name"]
                       for s in self.trace_of(trace_id))
        T.wait_for(done, 60, interval=0.3, what=what)
        # Then the blob's get and delete (its listing is the cron tick's; the listing gave the blob's traceparent, so
        # the get is in the order's trace too).
        T.wait_for(lambda: len([s for s in self.trace_of(trace_id) if s["service"] == "customer-loyalty-job"
                                and s["name"] == "/v1.0/bindings/order-binding"]) >= 2, 15, interval=0.3,
                   what="the blob get and delete in the order's trace")

    def assert_linked(self, spans, root_parent=None):
        ids = {s["id"] for s in spans}
        for s in spans:
            if not s["parent"]:
                self.assertIsNone(root_parent, f"a second root: {s}")
            else:
                self.assertTrue(s["parent"] in ids or s["parent"] == root_parent,
                                f"span {s['name']} ({s['service']}) has a parent outside its trace: " +
                                "; ".join(f"{x['service']} {x['kind']} {x['name']} {x['id']}<-{x['parent']}"
                                          for x in spans))

    def test_an_order_is_one_trace(self):
        self.check_dapr_order()
        self.check_direct_order()

    def check_dapr_order(self):
        tp = f"00-{TRACE}-{ROOT_SPAN}-01"
        r = T.request("GET", self.fe_dapr.app_port, "/", headers={"traceparent": tp}, timeout=60)
        self.assertEqual(r.status, 200, r)
        oid = r.headers["x-order-id"]
        T.wait_for(lambda: self.counted(1) == 1, 60, interval=0.3, what=f"order {oid} counted")
        self.wait_counted_in_trace(TRACE, "the count in the order's trace")
        want = {("frontend-dapr", "CallLocal/customer-order-service/order"),             # the API call, its attempt
                ("customer-order-service", "CallLocal/customer-order-service/order"),    # the callee side
                ("customer-order-service", "/v1.0/publish/order-queue/order"),
                ("customer-order-service", "pubsub/order-queue/publish"),                # the publish attempt
                ("customer-audit-service", "pubsub/order"),                              # the delivery
                ("customer-audit-service", "/v1.0/bindings/order-binding"),
                ("customer-audit-service", "/v1.0/bindings/order-binding-nolock"),
                ("customer-loyalty-job", "/v1.0/state/loyalty-store/transaction")}
        # The delivery's span ends after both writes, maybe after the count: wait for the whole set.
        T.wait_for(lambda: want <= {(s["service"], s["name"]) for s in self.trace_of(TRACE)}, 20, interval=0.3,
                   what=f"the spans {want}")
        spans = self.trace_of(TRACE)
        self.assertEqual(self.rx.errors, [])
        services = {s["service"] for s in spans}
        self.assertEqual(services, {"frontend-dapr", "customer-order-service", "customer-audit-service",
                                    "customer-loyalty-job"}, services)
        # The frontend's sidecar span is the child of the caller's traceparent; every other span descends.
        first = [s for s in spans if s["parent"] == ROOT_SPAN]
        self.assertEqual([(s["service"], s["kind"]) for s in first], [("frontend-dapr", "SERVER")])
        self.assert_linked(spans, ROOT_SPAN)
        # The cron tick's listing stays out of the order's trace, but the blob's lock is in it (with the customer's:
        # two try-locks, two unlocks), so a replica that dies holding it shows in the order's trace.
        self.assertFalse(any("/v1.0-alpha1/lock" in s["name"] and s["parent"] == ROOT_SPAN for s in spans))
        T.wait_for(lambda: len([s for s in self.trace_of(TRACE) if s["service"] == "customer-loyalty-job"
                                and s["name"].startswith("/v1.0-alpha1/unlock/")]) >= 2, 15, interval=0.3,
                   what="the blob's and the customer's unlock in the order's trace")
        spans = self.trace_of(TRACE)
        locks = [s for s in spans if s["service"] == "customer-loyalty-job" and s["name"].startswith("/v1.0-alpha1/lock/")]
        self.assertGreaterEqual(len(locks), 2, [s["name"] for s in spans])

    def check_direct_order(self):
        r = T.request("GET", self.fe_direct.app_port, "/", timeout=60)
        self.assertEqual(r.status, 200, r)
        # Each frontend starts its round robin at customer 1: the direct order is customer 1's second.
        T.wait_for(lambda: self.counted(1) == 2, 60, interval=0.3, what="the direct order counted")

        def publish_root():
            roots = [s for s in self.rx.snapshot() if s["service"] == "customer-order-service"
                     and s["name"] == "/v1.0/publish/order-queue/order" and not s["parent"]]
            return roots[0] if roots else None
        T.wait_for(publish_root, 30, interval=0.3, what="the order service's publish span")
        root = publish_root()
        # No sidecar before it (the plain frontend calls the order service's app): its sidecar starts the trace.
        self.wait_counted_in_trace(root["trace"], "the count in the direct order's trace")
        # Each sidecar exports in its own batches: the audit sidecar's spans may arrive after the loyalty job's.
        want = {("customer-audit-service", "pubsub/order"),
                ("customer-audit-service", "/v1.0/bindings/order-binding"),
                ("customer-audit-service", "/v1.0/bindings/order-binding-nolock")}
        T.wait_for(lambda: want <= {(s["service"], s["name"]) for s in self.trace_of(root["trace"])}, 20,
                   interval=0.3, what=f"the spans {want}")
        spans = self.trace_of(root["trace"])
        self.assertEqual({s["service"] for s in spans},
                         {"customer-order-service", "customer-audit-service", "customer-loyalty-job"})
        self.assert_linked(spans)


if __name__ == "__main__":
    T.main()
