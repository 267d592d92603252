/* SPDX-License-Identifier: MIT */
/* For the files of tracing/ only: what a span and a tracer hold. */
#ifndef RS_SIDECAR_TRACING_PRIVATE_H
#define RS_SIDECAR_TRACING_PRIVATE_H

#include "core/str.h"
#include "sidecar/tracing/tracing.h"

struct rs_span {
    rs_tracer_t *tracer;
    char trace_id[33];
    char span_id[17];
    char parent_id[17]; /* "" for a root span */
    char *name;
    rs_span_kind_t kind;
    int64_t start_us, end_us; /* wall clock, microseconds since the epoch */
    rs_kvlist_t attrs;
    int error;
    char *status_msg;
};

struct rs_tracer {
    struct event_base *base;
    rs_http_client_t *http;
    rs_tracing_config_t cfg;
    char *service;
    char ipv4[16];          /* localEndpoint.ipv4, "" = left out */
    int port;               /* localEndpoint.port, 0 = left out */
    struct rs_metrics *const *metrics;
    uint64_t threshold; /* root spans are sampled when (trace id low 8 bytes >> 1) < threshold */
    rs_span_t *current;
    /* export queue (export.c): a ring of ended spans */
    rs_span_t **queue;
    size_t head, len;
    size_t inflight;        /* spans at the head of the queue being sent now */
    int pending_sends;      /* POSTs of the batch in flight (zipkin and otel) */
    int batch_failed;
    struct rs_tracing_send { rs_tracer_t *t; rs_http_call_t *call; } sends[2]; /* zipkin, otel */
    size_t printed;         /* spans at the head already written to stdout */
    struct event *timer;
    int64_t backoff_ms;     /* 0 = healthy */
    int64_t retry_at_ms;
    uint64_t exported, dropped;
    uint64_t dropped_counted; /* the part of `dropped` already added to the metric */
};

/** Frees a span (export.c after sending, tracer.c when there is nowhere to send it). */
void rs_span_free_(rs_span_t *s);
/** Queues an ended span for export (export.c). */
void rs_tracing_enqueue_(rs_tracer_t *t, rs_span_t *s);
/** Starts the export timer (export.c). Returns 0 or -1. */
int rs_tracing_export_start_(rs_tracer_t *t);
/** Cancels sends in flight, prints/sends nothing more, frees queued spans (export.c). */
void rs_tracing_export_stop_(rs_tracer_t *t);
/** Encoders (encode.c): a JSON body for n spans. */
json_t *rs_tracing_zipkin_(const rs_tracer_t *t, rs_span_t *const *spans, size_t n);
json_t *rs_tracing_otlp_(const rs_tracer_t *t, rs_span_t *const *spans, size_t n);
json_t *rs_tracing_zipkin_span_(const rs_tracer_t *t, const rs_span_t *s);

#endif
