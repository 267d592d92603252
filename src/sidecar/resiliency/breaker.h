/* SPDX-License-Identifier: MIT */
/* A circuit breaker with sony/gobreaker v0.5.0 semantics (spec §1.5):
 * closed -> open when `trip` (CEL over the counts) says so after a failure;
 * open -> half-open once `timeout` has passed; half-open lets `maxRequests`
 * requests through in total and closes after that many consecutive
 * successes, or reopens on the first failure. Counts reset on every state
 * change (a new generation) and, while closed, every `interval`.
 *
 * Time comes from an injectable rs_clock_t. Breakers are reference counted:
 * a policy in use keeps its breaker alive after the cache evicts it. */
#ifndef RS_SIDECAR_RESILIENCY_BREAKER_H
#define RS_SIDECAR_RESILIENCY_BREAKER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"

typedef enum { RS_CB_CLOSED = 0, RS_CB_HALF_OPEN, RS_CB_OPEN } rs_cb_state_t;

typedef struct {
    uint32_t max_requests;  /* 0 is treated as 1 */
    int64_t interval_ms;    /* 0: counts never cleared while closed */
    int64_t timeout_ms;     /* open -> half-open after this; 0 means 60s */
    char *trip;             /* CEL source; NULL means "consecutiveFailures > 5" */
} rs_breaker_spec_t;

typedef struct {
    uint32_t requests, total_successes, total_failures, consecutive_successes, consecutive_failures;
} rs_cb_counts_t;

typedef struct rs_breaker rs_breaker_t;

/** Called on every state change, for logging and metrics. */
typedef void (*rs_breaker_transition_fn)(void *arg, rs_breaker_t *b, rs_cb_state_t from, rs_cb_state_t to);

/** Parses one `policies.circuitBreakers.<name>` object into spec (free with rs_breaker_spec_free).
 *  Returns 0, or -1 with a reason (including a `trip` that does not compile). */
int rs_breaker_spec_parse(const json_t *obj, rs_breaker_spec_t *spec, char *err, size_t errlen);
void rs_breaker_spec_free(rs_breaker_spec_t *spec);

/** Creates a breaker named `name` (e.g. "appB:method" or a component name) from spec (copied).
 *  `policy` is the circuit breaker policy name, for logs. Returns a breaker with one reference. */
rs_breaker_t *rs_breaker_new(const rs_breaker_spec_t *spec, const char *name, const char *policy, rs_clock_t *clock,
                             rs_breaker_transition_fn on_transition, void *arg);
void rs_breaker_ref(rs_breaker_t *b);
void rs_breaker_unref(rs_breaker_t *b);
/** Stops transition callbacks (their receiver is going away). */
void rs_breaker_detach(rs_breaker_t *b);

/** Before a request: returns 0 and the generation to report with, or 1 for "circuit breaker is open",
 *  2 for "too many requests". */
int rs_breaker_before(rs_breaker_t *b, uint64_t *generation);
/** After a request admitted by rs_breaker_before; ignored if the generation changed meanwhile. */
void rs_breaker_after(rs_breaker_t *b, uint64_t generation, int success);
/** Current state (moves open -> half-open when the timeout has passed, as gobreaker's State() does). */
rs_cb_state_t rs_breaker_state(rs_breaker_t *b);
rs_cb_counts_t rs_breaker_counts(const rs_breaker_t *b);
const char *rs_breaker_name(const rs_breaker_t *b);
const char *rs_breaker_policy(const rs_breaker_t *b);
const char *rs_cb_state_name(rs_cb_state_t s);

#endif
