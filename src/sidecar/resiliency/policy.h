/* SPDX-License-Identifier: MIT */
/* The inside of an rs_policy_t, shared by the provider (resiliency.c), which
 * builds policies, and the runner (run.c), which applies them. Not for other
 * modules: they only pass policies from a lookup to rs_run_start. */
#ifndef RS_SIDECAR_RESILIENCY_POLICY_H
#define RS_SIDECAR_RESILIENCY_POLICY_H

#include <stdint.h>

#include "core/clock.h"
#include "sidecar/resiliency/breaker.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/resiliency/retry.h"

struct rs_metrics;

/* Where policies report activations. Reference counted so that a policy in use
 * can outlive the provider at shutdown (metrics is cleared then). */
typedef struct rs_res_sink {
    int refs;
    struct rs_metrics *metrics;
    char *app_id;
} rs_res_sink_t;

struct rs_policy {
    int refs;
    int64_t timeout_ms;       /* per attempt; 0 = none */
    int has_retry;
    rs_retry_spec_t retry;
    rs_breaker_t *breaker;    /* a reference, or NULL */
    char *target;             /* metrics label: "app_<id>" or "component_<name>" */
    const char *flow;         /* "outbound" or "inbound" */
    char *timeout_name, *retry_name, *cb_name; /* policy names, NULL when the kind is absent */
    char *timeout_doc, *retry_doc, *cb_doc;    /* Resiliency resource that defined each */
    rs_clock_t *clock;
    double (*rand)(void);     /* uniform [0,1) for jitter */
    rs_res_sink_t *sink;      /* a reference */
};

/** Counts one activation (dapr_resiliency_activations_total) of `kind` ("retry", "timeout", "circuitbreaker"). */
void rs_policy_note_activation(const rs_policy_t *p, const char *kind, const char *status);
/** Counts one application (dapr_resiliency_count) of each kind the policy has. */
void rs_policy_note_applied(const rs_policy_t *p);

#endif
