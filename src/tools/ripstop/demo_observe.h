/* SPDX-License-Identifier: MIT */
/* What the demo looks at while and after it runs, all asynchronous on the
 * demo's loop through rs_http_client: the loyalty state (through a loyalty
 * job's sidecar state API), the blobs still waiting in a binding, and each
 * sidecar's metrics (the circuit-breaker gauge and the resiliency counters,
 * from one scrape). Each call reports once through its callback. */
#ifndef RS_TOOLS_DEMO_OBSERVE_H
#define RS_TOOLS_DEMO_OBSERVE_H

#include <jansson.h>

#include "http/client.h"

/** Result: {"<id>": {"loyaltyPoints":n, "orderCount":n}} for the customers that have a record (new ref,
 *  owned by the callee), or NULL when the sidecar could not be read. */
typedef void (*rs_observe_json_fn)(void *arg, json_t *state);
/** Result: a count, or -1 when unknown. */
typedef void (*rs_observe_int_fn)(void *arg, int value);

/** Reads customers 1..ncustomers from state store `store` on the sidecar at 127.0.0.1:port. */
void rs_observe_loyalty(rs_http_client_t *h, int port, const char *store, int ncustomers, rs_observe_json_fn done,
                        void *arg);
/** Counts the items a blob binding lists (operation "list") on the sidecar at 127.0.0.1:port. */
void rs_observe_blobs(rs_http_client_t *h, int port, const char *binding, rs_observe_int_fn done, void *arg);

/** What a sidecar's resiliency layer has done so far (Prometheus counters, totals since it started). */
typedef struct {
    double retries;       /* dapr_resiliency_activations_total{policy="retry"}: calls retried */
    double timeouts;      /* ... {policy="timeout"}: attempts cut by a timeout */
    double redeliveries;  /* dapr_component_pubsub_ingress_count{process_status="retry"}: messages left for redelivery */
} rs_res_counts_t;
/** What one scrape of a sidecar's Prometheus endpoint says. */
typedef struct {
    int breaker;              /* dapr_resiliency_cb_state, highest over all breakers: 0 closed (or none yet),
                                 1 half-open, 2 open */
    rs_res_counts_t counts;
} rs_sidecar_metrics_t;
/** Result: the figures, or NULL when the sidecar could not be read. */
typedef void (*rs_observe_metrics_fn)(void *arg, const rs_sidecar_metrics_t *m);
/** Reads 127.0.0.1:port/metrics once, for both the breaker gauge and the resiliency counters. */
void rs_observe_metrics(rs_http_client_t *h, int port, rs_observe_metrics_fn done, void *arg);
/** Sums the counters of rs_res_counts_t in a Prometheus text body. */
void rs_observe_parse_resiliency(const char *text, rs_res_counts_t *out);

/** Parses a Prometheus text body for the highest dapr_resiliency_cb_state value (0 when absent). */
int rs_observe_parse_breaker(const char *text);

#endif
