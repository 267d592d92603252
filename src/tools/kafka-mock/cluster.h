/* SPDX-License-Identifier: MIT */
/* kafka-mock's cluster: librdkafka's built-in mock cluster (a real
 * Kafka-protocol broker set running on threads inside this process), plus the
 * fault state we layer on top of it: per-broker latency with jitter, brokers
 * down/up, and queued request errors.
 *
 * librdkafka offers setters but no getters for that state, so this wrapper
 * remembers what it set and reports it with rs_kmock_state_json. All calls
 * come from the tool's event loop thread. */
#ifndef RS_TOOLS_KAFKA_MOCK_CLUSTER_H
#define RS_TOOLS_KAFKA_MOCK_CLUSTER_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rs_kmock rs_kmock_t;

/** Starts a mock cluster with `brokers` brokers (ids 1..brokers). Jittered latencies are re-drawn every
 *  `jitter_interval_ms` from a PRNG seeded with `seed`, on a timer of `base`.
 *  Returns NULL with a reason in err. */
rs_kmock_t *rs_kmock_new(struct event_base *base, int brokers, uint64_t seed, int jitter_interval_ms, char *err,
                         size_t errlen);
/** Stops the cluster (closes every broker connection) and frees everything. NULL is ignored. */
void rs_kmock_free(rs_kmock_t *m);

/** The bootstrap address list ("127.0.0.1:p1,127.0.0.1:p2"), owned by m. */
const char *rs_kmock_bootstraps(const rs_kmock_t *m);
/** Number of brokers. */
int rs_kmock_broker_count(const rs_kmock_t *m);

/** Creates a topic with `partitions` partitions (replication min(3, brokers)). Returns 0 or -1 with a reason. */
int rs_kmock_create_topic(rs_kmock_t *m, const char *name, int partitions, char *err, size_t errlen);
/** Sets the response delay of broker `id` (0 = every broker) to latency_ms, re-drawn within
 *  [latency-jitter, latency+jitter] (never below 0) on every jitter tick. latency 0 and jitter 0 clears it.
 *  Returns 0, or -1 for an unknown broker or negative values. */
int rs_kmock_set_latency(rs_kmock_t *m, int id, int latency_ms, int jitter_ms, char *err, size_t errlen);
/** Takes broker `id` (0 = every broker) down (connections closed, new ones refused) or back up. */
int rs_kmock_set_up(rs_kmock_t *m, int id, int up, char *err, size_t errlen);
/** Queues `n` errors for the next `n` requests of API `api_key` (any broker); error code 0 lets one request pass. */
int rs_kmock_push_errors(rs_kmock_t *m, int api_key, size_t n, const int *errors, char *err, size_t errlen);
/** Drops queued errors of API `api_key`. */
void rs_kmock_clear_errors(rs_kmock_t *m, int api_key);

/** Parses a Kafka API name ("Produce", "Fetch", ...) or a decimal ApiKey. Returns the key, or -1. */
int rs_kmock_api_key(const char *s);
/** Parses a librdkafka error name ("REQUEST_TIMED_OUT", "RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION") or a
 *  decimal code. Returns 0 and sets *out, or -1. */
int rs_kmock_error_code(const char *s, int *out);

/** The current state: {"bootstrap", "brokers":[{"id","up","latency_ms","jitter_ms","rtt_ms"}], "topics":[...],
 *  "seed", "jitter_interval_ms"}. New reference. */
json_t *rs_kmock_state_json(const rs_kmock_t *m);

#endif
