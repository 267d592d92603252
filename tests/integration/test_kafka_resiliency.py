"""Issue item 5 on Kafka: the original's outbound policy on `order-queue`
(per-attempt timeout, retry forever every 200 ms, breaker trips at
consecutiveFailures > 10) under injected broker latency. Attempts time out,
the breaker opens and the publish fails with 500; publishes fail fast while it
is open; after the latency is removed and the breaker's open period passes,
publishes succeed again.

Times are scaled down from the original (timeout 5 s, latency 6 s ± 2 s,
open 60 s): timeout 500 ms, breaker open 3 s, latency 800 ms ± 200 ms. The
original's window lets about a quarter of attempts finish inside the timeout
(6 s ± 2 s vs 5 s), so the number of attempts before 11 consecutive failures is
random; here every attempt exceeds the timeout, which keeps the test exact."""

import time

import ripstop_testlib as rt
import test_kafka_pubsub as kp

RESILIENCY = """apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: myresiliency
spec:
  policies:
    timeouts:
      general: 500ms
    retries:
      retryForever:
        policy: constant
        duration: 200ms
        maxRetries: -1
    circuitBreakers:
      general:
        maxRequests: 1
        interval: 0s
        timeout: 3s
        trip: consecutiveFailures > 10
  targets:
    components:
      order-queue:
        outbound:
          retry: retryForever
          timeout: general
          circuitBreaker: general
"""


class KafkaBreakerTest(rt.ProcTestCase):
    def test_breaker_opens_under_latency_and_closes_after(self):
        mock = self.track(kp.KafkaMock(brokers=1, topics=["order:1"]))
        res = rt.write_resources({"kafka.yaml": kp.kafka_component_yaml("order-queue", mock),
                                  "resiliency.yaml": RESILIENCY})
        sc = self.track(rt.Sidecar("customer-order-service", resources=res))

        def publish(i, timeout=30):
            t0 = time.monotonic()
            r = sc.req("POST", "/v1.0/publish/order-queue/order", {"orderId": i}, timeout=timeout)
            return r, time.monotonic() - t0

        r, _ = publish(0)
        self.assertEqual(r.status, 204, r)

        mock.control("PUT", "/brokers/all/latency", {"latency_ms": 800, "jitter_ms": 200})
        # 11 attempts time out (11 x 500 ms + 10 x 200 ms back-off), the 11th failure trips the breaker and the
        # next attempt is rejected: a permanent error that ends the retry loop.
        r, took = publish(1)
        self.assertEqual(r.status, 500, r)
        self.assertEqual(r.json()["errorCode"], "ERR_PUBSUB_PUBLISH_MESSAGE", r)
        self.assertIn("circuit breaker is open", r.json()["message"])
        self.assertGreaterEqual(took, 11 * 0.5 + 10 * 0.2 - 0.3, "attempts should each have timed out")

        # Open: rejected at once, without touching the broker.
        for i in range(3):
            r, took = publish(10 + i)
            self.assertEqual(r.status, 500, r)
            self.assertIn("circuit breaker is open", r.json()["message"])
            self.assertLess(took, 0.4)

        mock.control("PUT", "/brokers/all/latency", {"latency_ms": 0})
        # After the open period the breaker lets one request through (half-open); it succeeds and closes it.
        opened_until = time.monotonic() + 3.0
        attempts = [0]

        def recovered():
            attempts[0] += 1
            return publish(100 + attempts[0], timeout=10)[0].status == 204

        rt.wait_for(recovered, 15, interval=0.1, what="publish to succeed after the breaker closes")
        self.assertGreaterEqual(time.monotonic(), opened_until - 0.5, "the breaker stayed open for its timeout")
        for i in range(5):
            r, took = publish(200 + i)
            self.assertEqual(r.status, 204, r)
            self.assertLess(took, 0.5)


if __name__ == "__main__":
    rt.main()
