"""Issue item 5 on Kafka: the original's outbound policy on `order-queue`
(per-attempt timeout, retry forever every 200 ms, breaker trips at
consecutiveFailures > 10) under injected broker latency. Attempts time out,
the breaker opens and the publish fails with 500; publishes fail fast while it
is open; after the latency is removed and the breaker's open period passes,
publishes succeed again.

Times are the original's scaled by 1/10 (timeout 5 s -> 500 ms, latency
6 s ± 2 s -> 600 ms ± 200 ms, breaker open 60 s -> 3 s; the 200 ms retry interval
is kept). A single attempt can finish inside the timeout (the jittered delay
ranges over 400-800 ms), so a publish may still succeed before the breaker
trips; the test publishes until one fails. The publish that fails has had
nothing but failed attempts since the last success, so it took 11 timeouts
before the breaker rejected the 12th attempt."""

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

        mock.control("PUT", "/brokers/all/latency", {"latency_ms": 600, "jitter_ms": 200})
        # Each publish retries until an attempt succeeds or the 11th consecutive timeout trips the breaker and the
        # next attempt is rejected: a permanent error that ends the retry loop with a 500. Bounded: 8 publishes.
        for i in range(8):
            r, took = publish(1 + i, timeout=120)
            if r.status != 204:
                break
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
