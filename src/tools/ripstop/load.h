/* SPDX-License-Identifier: MIT */
/* An open-loop HTTP load generator.
 *
 * Requests leave on a fixed schedule (request i to every target at
 * start + i/rate seconds) whether or not earlier ones have returned, so a slow
 * or failing server cannot slow the offered load down (no coordinated
 * omission). Every request is recorded: target, scheduled and actual send
 * time, outcome, status, latency and the X-Order-Id response header. The
 * generator is bounded: at most `max_requests` per target, sent within
 * `duration_ms`, each with a client timeout.
 *
 * It runs on the caller's libevent loop through rs_http_client (libcurl multi),
 * and never blocks. */
#ifndef RS_TOOLS_LOAD_H
#define RS_TOOLS_LOAD_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "http/client.h"

#define RS_LOAD_MAX_TARGETS 8

typedef struct {
    const char *name;  /* label, e.g. "dapr" or "direct" */
    const char *url;   /* absolute http:// URL; GET */
} rs_load_target_t;

typedef struct {
    double rate;           /* requests per second, per target (> 0) */
    int64_t duration_ms;   /* how long to send */
    int64_t timeout_ms;    /* client timeout per request (0: 30000) */
    int max_requests;      /* cap per target (0: rate*duration) */
    uint64_t trace_run;    /* non-zero: every request starts a sampled W3C trace, traceparent
                              00-<trace_run 16 hex><target 8 hex><seq 8 hex>-<span id>-01, recorded per request */
} rs_load_opts_t;

/** One request's outcome. Times are ms relative to rs_load_start's origin. */
typedef struct {
    int target;             /* index into the targets */
    int seq;                /* request number within its target, from 0 */
    int64_t sched_ms;       /* when the schedule said to send */
    int64_t sent_ms;        /* when it was actually handed to the client */
    int64_t latency_ms;     /* -1 while pending */
    int status;             /* HTTP status, 0 without a response */
    int ok;                 /* 2xx */
    int done;
    char order_id[64];      /* X-Order-Id header, "" when absent */
    char error[96];         /* transport error, "" otherwise */
    char trace_id[33];      /* the trace this request started ("" without opts.trace_run) */
    char span_id[17];       /* its (unexported) root span: the parent of the frontend's first span */
} rs_load_record_t;

typedef struct rs_load rs_load_t;

/** Creates a generator for up to RS_LOAD_MAX_TARGETS targets (strings are copied). NULL on bad options. */
rs_load_t *rs_load_new(struct event_base *base, rs_http_client_t *http, const rs_load_target_t *targets,
                       int ntargets, const rs_load_opts_t *opts);
/** Starts sending now; times in records are relative to origin_ms (rs_now_ms() clock). */
void rs_load_start(rs_load_t *l, int64_t origin_ms);
/** Stops sending further requests (pending ones still complete). */
void rs_load_stop_sending(rs_load_t *l);
/** 1 when every scheduled request was sent and every one has completed. */
int rs_load_finished(const rs_load_t *l);
/** 1 while still sending. */
int rs_load_sending(const rs_load_t *l);
/** The records so far (in send order); valid until the next loop iteration. */
const rs_load_record_t *rs_load_records(const rs_load_t *l, size_t *n);
/** Number of targets and a target's name. */
int rs_load_ntargets(const rs_load_t *l);
const char *rs_load_target_name(const rs_load_t *l, int i);
/** {"targets":[...], "records":[{target,seq,sched_ms,sent_ms,latency_ms,status,ok,order_id,error[,trace_id]}...]}
 *  (new ref). */
json_t *rs_load_json(const rs_load_t *l);
/** Per-second timeline up to now: {"<target>":[{"t":s,"ok":n,"fail":n,"pending":n,"p50":ms,"p99":ms,"max":ms}]}. */
json_t *rs_load_timeline_json(const rs_load_t *l, int64_t now_rel_ms);
/** Cancels pending requests and frees the generator. */
void rs_load_free(rs_load_t *l);

#endif
