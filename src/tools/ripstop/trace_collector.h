/* SPDX-License-Identifier: MIT */
/* The demo's trace collector: a Zipkin-compatible endpoint
 * (POST /api/v2/spans, Zipkin v2 JSON) on a loopback port of the demo's loop,
 * and the spans it received, grouped by trace. The sidecars of a demo run
 * export to it (the demo's Configuration points spec.tracing.zipkin there).
 *
 * Bounded: at most max_spans spans are kept; later ones are counted as
 * dropped. Only what a waterfall needs is kept of each span (ids, service,
 * name, kind, start, duration, error, attempt, and localEndpoint.port when
 * the sender gave it: ripstopd's HTTP port, which tells replicas apart). */
#ifndef RS_TOOLS_TRACE_COLLECTOR_H
#define RS_TOOLS_TRACE_COLLECTOR_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rs_traces rs_traces_t;

/** An empty store keeping at most max_spans spans. */
rs_traces_t *rs_traces_new(size_t max_spans);
void rs_traces_free(rs_traces_t *t);

/** Adds the spans of one Zipkin v2 JSON body (a list of spans). Spans without a valid traceId, id, timestamp
 *  or duration are skipped. Returns the number kept, or -1 with err when the body is not a JSON array. */
int rs_traces_add_zipkin(rs_traces_t *t, const char *body, size_t len, char *err, size_t errlen);

/** The spans of a trace (borrowed; an array of {id, parent, service, name, kind, ts_us, dur_us, error, attempt,
 *  status, port}; the last four only when present),
 *  or NULL when none arrived. */
const json_t *rs_traces_get(const rs_traces_t *t, const char *trace_id);

/** Spans kept / traces / spans dropped over the bound. */
size_t rs_traces_span_count(const rs_traces_t *t);
size_t rs_traces_trace_count(const rs_traces_t *t);
size_t rs_traces_dropped(const rs_traces_t *t);

/** Serves POST /api/v2/spans on 127.0.0.1 (port 0 = a free one) on base. Returns the bound port, or -1. */
int rs_traces_listen(rs_traces_t *t, struct event_base *base, int port);

#endif
