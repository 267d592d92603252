/* SPDX-License-Identifier: MIT */
/* Distributed tracing (issue 16): spans as daprd emits them, sampled from the
 * Configuration's spec.tracing and exported in the background.
 *
 * A tracer exists only when spec.tracing.samplingRate is a number above 0;
 * otherwise sc->tracer is NULL and every call below is a NULL check, so
 * tracing off costs nothing on the request path.
 *
 * Sampling is daprd's: ParentBased(TraceIDRatioBased(samplingRate)) — a span
 * whose parent traceparent is valid is sampled exactly when the parent's
 * sampled flag is set; a root span is sampled when the low 63 bits of the
 * trace id's second half fall below rate * 2^63 (OpenTelemetry's rule). A span
 * that is not sampled is not created (NULL): the caller then propagates the
 * trace context as it would with tracing off.
 *
 * Export (tracing/export.c) is asynchronous on the event loop: rs_span_end
 * only moves the span into a bounded queue. A timer sends batches to the
 * configured exporters (zipkin.endpointAddress: Zipkin v2 JSON; otel with
 * protocol http: OTLP/HTTP JSON; stdout: one Zipkin JSON span per line).
 * One batch is in flight at a time; a failed send is retried with back-off
 * (1 s doubling to 30 s) while the queue keeps filling; a span that finds the
 * queue full is dropped and counted in ripstop_tracing_spans_dropped_total.
 * Nothing a collector does (hang, refuse, answer slowly) reaches a request. */
#ifndef RS_SIDECAR_TRACING_H
#define RS_SIDECAR_TRACING_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "http/client.h"

struct rs_metrics;

typedef struct rs_tracer rs_tracer_t;
typedef struct rs_span rs_span_t;

/** Span kinds, as OpenTelemetry numbers them (OTLP's SpanKind). */
typedef enum {
    RS_SPAN_INTERNAL = 1,
    RS_SPAN_SERVER = 2,
    RS_SPAN_CLIENT = 3,
    RS_SPAN_PRODUCER = 4,
    RS_SPAN_CONSUMER = 5,
} rs_span_kind_t;

/** The tracing section of a Configuration, parsed. */
typedef struct {
    double sampling_rate;  /**< 0 = off; above 1 counts as 1 */
    char *zipkin_url;      /**< zipkin.endpointAddress, or NULL */
    char *otel_url;        /**< otel endpoint as a URL ending in /v1/traces, or NULL */
    int to_stdout;         /**< stdout: true */
    size_t queue_max;      /**< spans kept while waiting for export (default 2048) */
    size_t batch_max;      /**< spans per request (default 512) */
    int64_t flush_ms;      /**< how often a batch is sent (default 1000) */
} rs_tracing_config_t;

/** Reads spec.tracing from a Configuration document (NULL = none). Unsupported settings (otel protocol grpc)
 *  fill why and return -1; no tracing section gives rate 0. */
int rs_tracing_config_parse(const json_t *configuration, rs_tracing_config_t *out, char *why, size_t whylen);
/** Frees the strings of a parsed config. */
void rs_tracing_config_free(rs_tracing_config_t *cfg);

/** A tracer for service_name (the app id) that exports with http on base. Returns NULL when cfg's rate is 0 —
 *  tracing off. metrics points at the runtime's registry pointer (it may be set later, or stay NULL). */
rs_tracer_t *rs_tracer_new(struct event_base *base, rs_http_client_t *http, const rs_tracing_config_t *cfg,
                           const char *service_name, struct rs_metrics *const *metrics);
/** The sidecar's own address in Zipkin's localEndpoint, next to serviceName: ipv4 (an IPv4 literal; anything else is
 *  left out) and port (its HTTP API port; 1..65535, else left out). daprd's exporter sends serviceName only; the
 *  two fields are optional in Zipkin v2 and let a collector tell replicas of one app id apart. NULL t is fine. */
void rs_tracer_set_endpoint(rs_tracer_t *t, const char *ipv4, int port);
/** Cancels the send in flight, drops what is still queued (stdout prints it first) and frees the tracer. NULL is fine. */
void rs_tracer_free(rs_tracer_t *t);

/** Starts a span: a child of parent (a W3C traceparent; NULL or invalid = a new trace), or NULL when t is NULL
 *  or the span is not sampled. name is copied. */
rs_span_t *rs_span_start(rs_tracer_t *t, const char *parent, const char *name, rs_span_kind_t kind);
/** Renames the span (the inbound span learns its name only after routing). */
void rs_span_set_name(rs_span_t *s, const char *name);
/** Adds a string attribute (copied). */
void rs_span_attr(rs_span_t *s, const char *key, const char *value);
/** Adds an integer attribute. */
void rs_span_attr_int(rs_span_t *s, const char *key, long long value);
/** Marks the span failed with a message (OTLP status ERROR; Zipkin tag "error"). */
void rs_span_error(rs_span_t *s, const char *message);
/** Writes the span's context as a traceparent (sampled flag set) into out. */
void rs_span_traceparent(const rs_span_t *s, char out[56]);
/** Ends the span and hands it to the export queue (or drops and counts it when the queue is full). NULL is fine. */
void rs_span_end(rs_span_t *s);

/** The inbound span of the request being dispatched right now (set by the API server's hooks for the synchronous
 *  part of a handler), or NULL. Operations started from that handler take it as their parent. */
rs_span_t *rs_tracer_current(const rs_tracer_t *t);
/** Sets (or clears with NULL) the current inbound span. */
void rs_tracer_set_current(rs_tracer_t *t, rs_span_t *s);

/** Spans handed to the exporter and spans dropped so far (for tests and the metric). */
uint64_t rs_tracer_exported(const rs_tracer_t *t);
uint64_t rs_tracer_dropped(const rs_tracer_t *t);

#endif
