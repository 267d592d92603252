/* SPDX-License-Identifier: MIT */
#include "sidecar/resiliency/breaker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sidecar/cel/cel.h"
#include "sidecar/resiliency/values.h"

#define DEFAULT_TRIP "consecutiveFailures > 5"

struct rs_breaker {
    int refs;
    char *name;
    char *policy;
    uint32_t max_requests;
    int64_t interval_ms, timeout_ms;
    rs_cel_t *trip;
    rs_clock_t *clock;
    rs_breaker_transition_fn on_transition;
    void *arg;
    rs_cb_state_t state;
    uint64_t generation;
    rs_cb_counts_t counts;
    int64_t expiry_ms; /* 0 = none */
};

int rs_breaker_spec_parse(const json_t *obj, rs_breaker_spec_t *spec, char *err, size_t errlen) {
    memset(spec, 0, sizeof *spec);
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "a circuit breaker policy must be a mapping");
        return -1;
    }
    const json_t *v;
    long long n;
    if ((v = json_object_get(obj, "maxRequests")) && !json_is_null(v)) {
        if (rs_res_int(v, &n) != 0 || n < 0 || n > UINT32_MAX) {
            snprintf(err, errlen, "maxRequests must be a non-negative integer");
            return -1;
        }
        spec->max_requests = (uint32_t)n;
    }
    if ((v = json_object_get(obj, "interval")) && !json_is_null(v) && rs_res_duration_ms(v, &spec->interval_ms) != 0) {
        snprintf(err, errlen, "invalid interval");
        return -1;
    }
    if ((v = json_object_get(obj, "timeout")) && !json_is_null(v) && rs_res_duration_ms(v, &spec->timeout_ms) != 0) {
        snprintf(err, errlen, "invalid timeout");
        return -1;
    }
    if ((v = json_object_get(obj, "trip")) && !json_is_null(v)) {
        if (!json_is_string(v)) {
            snprintf(err, errlen, "trip must be a string");
            return -1;
        }
        char why[200];
        rs_cel_t *e = rs_cel_compile(json_string_value(v), why, sizeof why);
        if (!e) {
            snprintf(err, errlen, "trip \"%s\": %s", json_string_value(v), why);
            return -1;
        }
        rs_cel_free(e);
        spec->trip = rs_strdup(json_string_value(v));
    }
    return 0;
}

void rs_breaker_spec_free(rs_breaker_spec_t *spec) { RS_SAFEFREE(spec->trip); }

rs_breaker_t *rs_breaker_new(const rs_breaker_spec_t *spec, const char *name, const char *policy, rs_clock_t *clock,
                             rs_breaker_transition_fn on_transition, void *arg) {
    rs_breaker_t *b = rs_xcalloc(1, sizeof *b);
    b->refs = 1;
    b->name = rs_strdup(name);
    b->policy = rs_strdup(policy ? policy : "");
    b->max_requests = spec->max_requests ? spec->max_requests : 1;
    b->interval_ms = spec->interval_ms;
    b->timeout_ms = spec->timeout_ms ? spec->timeout_ms : 60000;
    /* The spec's trip compiled when it was parsed, so this only fails on OOM. */
    b->trip = rs_cel_compile(spec->trip ? spec->trip : DEFAULT_TRIP, NULL, 0);
    b->clock = clock ? clock : rs_clock_system();
    b->on_transition = on_transition;
    b->arg = arg;
    b->state = RS_CB_CLOSED;
    b->expiry_ms = b->interval_ms > 0 ? rs_clock_now(b->clock) + b->interval_ms : 0;
    return b;
}

void rs_breaker_ref(rs_breaker_t *b) { b->refs++; }

void rs_breaker_unref(rs_breaker_t *b) {
    if (!b || --b->refs > 0) return;
    rs_cel_free(b->trip);
    free(b->name);
    free(b->policy);
    free(b);
}

void rs_breaker_detach(rs_breaker_t *b) { b->on_transition = NULL; }

static void new_generation(rs_breaker_t *b, int64_t now) {
    b->generation++;
    memset(&b->counts, 0, sizeof b->counts);
    switch (b->state) {
    case RS_CB_CLOSED: b->expiry_ms = b->interval_ms > 0 ? now + b->interval_ms : 0; break;
    case RS_CB_OPEN: b->expiry_ms = now + b->timeout_ms; break;
    case RS_CB_HALF_OPEN: b->expiry_ms = 0; break;
    }
}

static void set_state(rs_breaker_t *b, rs_cb_state_t to, int64_t now) {
    if (b->state == to) return;
    rs_cb_state_t from = b->state;
    b->state = to;
    new_generation(b, now);
    if (b->on_transition) b->on_transition(b->arg, b, from, to);
}

/* gobreaker's currentState: time-driven moves happen when someone looks. */
static rs_cb_state_t current_state(rs_breaker_t *b, int64_t now) {
    if (b->state == RS_CB_CLOSED) {
        if (b->expiry_ms && b->expiry_ms < now) new_generation(b, now);
    } else if (b->state == RS_CB_OPEN) {
        if (b->expiry_ms < now) set_state(b, RS_CB_HALF_OPEN, now);
    }
    return b->state;
}

int rs_breaker_before(rs_breaker_t *b, uint64_t *generation) {
    int64_t now = rs_clock_now(b->clock);
    rs_cb_state_t st = current_state(b, now);
    if (st == RS_CB_OPEN) return 1;
    if (st == RS_CB_HALF_OPEN && b->counts.requests >= b->max_requests) return 2;
    b->counts.requests++;
    *generation = b->generation;
    return 0;
}

static int resolve_counts(void *ctx, const char *path, rs_cel_value_t *out) {
    const rs_cb_counts_t *c = ctx;
    out->type = RS_CEL_INT;
    if (strcmp(path, "requests") == 0) out->i = c->requests;
    else if (strcmp(path, "totalSuccesses") == 0) out->i = c->total_successes;
    else if (strcmp(path, "totalFailures") == 0) out->i = c->total_failures;
    else if (strcmp(path, "consecutiveSuccesses") == 0) out->i = c->consecutive_successes;
    else if (strcmp(path, "consecutiveFailures") == 0) out->i = c->consecutive_failures;
    else return -1;
    return 0;
}

void rs_breaker_after(rs_breaker_t *b, uint64_t generation, int success) {
    int64_t now = rs_clock_now(b->clock);
    rs_cb_state_t st = current_state(b, now);
    if (generation != b->generation) return;
    rs_cb_counts_t *c = &b->counts;
    if (success) {
        c->total_successes++;
        c->consecutive_successes++;
        c->consecutive_failures = 0;
        if (st == RS_CB_HALF_OPEN && c->consecutive_successes >= b->max_requests) set_state(b, RS_CB_CLOSED, now);
    } else {
        c->total_failures++;
        c->consecutive_failures++;
        c->consecutive_successes = 0;
        if (st == RS_CB_CLOSED) {
            /* An evaluation error or a non-bool result means "do not trip". */
            if (rs_cel_eval_bool(b->trip, resolve_counts, c)) set_state(b, RS_CB_OPEN, now);
        } else if (st == RS_CB_HALF_OPEN) {
            set_state(b, RS_CB_OPEN, now);
        }
    }
}

rs_cb_state_t rs_breaker_state(rs_breaker_t *b) { return current_state(b, rs_clock_now(b->clock)); }
rs_cb_counts_t rs_breaker_counts(const rs_breaker_t *b) { return b->counts; }
const char *rs_breaker_name(const rs_breaker_t *b) { return b->name; }
const char *rs_breaker_policy(const rs_breaker_t *b) { return b->policy; }

const char *rs_cb_state_name(rs_cb_state_t s) {
    switch (s) {
    case RS_CB_CLOSED: return "closed";
    case RS_CB_HALF_OPEN: return "half-open";
    case RS_CB_OPEN: return "open";
    }
    return "?";
}
