/* SPDX-License-Identifier: MIT */
/* Span encoders: Zipkin v2 JSON (zipkin2 api/v2 "ListOfSpans") and OTLP/HTTP
 * JSON (ExportTraceServiceRequest, proto3 JSON mapping: ids as hex, 64-bit
 * integers as strings, enums as numbers). */
#include <stdio.h>

#include "sidecar/tracing/tracer_private.h"

static const char *zipkin_kind(rs_span_kind_t k) {
    switch (k) {
    case RS_SPAN_SERVER: return "SERVER";
    case RS_SPAN_CLIENT: return "CLIENT";
    case RS_SPAN_PRODUCER: return "PRODUCER";
    case RS_SPAN_CONSUMER: return "CONSUMER";
    default: return NULL; /* INTERNAL: Zipkin has no kind for it */
    }
}

json_t *rs_tracing_zipkin_span_(const rs_tracer_t *t, const rs_span_t *s) {
    json_t *o = json_object();
    json_object_set_new(o, "traceId", json_string(s->trace_id));
    json_object_set_new(o, "id", json_string(s->span_id));
    if (s->parent_id[0]) json_object_set_new(o, "parentId", json_string(s->parent_id));
    json_object_set_new(o, "name", json_string(s->name));
    const char *kind = zipkin_kind(s->kind);
    if (kind) json_object_set_new(o, "kind", json_string(kind));
    json_object_set_new(o, "timestamp", json_integer(s->start_us));
    json_object_set_new(o, "duration", json_integer(s->end_us - s->start_us));
    json_t *ep = json_object();
    json_object_set_new(ep, "serviceName", json_string(t->service));
    if (t->ipv4[0]) json_object_set_new(ep, "ipv4", json_string(t->ipv4));
    if (t->port) json_object_set_new(ep, "port", json_integer(t->port));
    json_object_set_new(o, "localEndpoint", ep);
    json_t *tags = json_object();
    for (size_t i = 0; i < s->attrs.len; i++)
        json_object_set_new(tags, s->attrs.items[i].key, json_string(s->attrs.items[i].value));
    if (s->error) {
        json_object_set_new(tags, "otel.status_code", json_string("ERROR"));
        json_object_set_new(tags, "error", json_string(s->status_msg ? s->status_msg : ""));
    }
    json_object_set_new(o, "tags", tags);
    return o;
}

json_t *rs_tracing_zipkin_(const rs_tracer_t *t, rs_span_t *const *spans, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, rs_tracing_zipkin_span_(t, spans[i]));
    return a;
}

static json_t *kv(const char *key, const char *value) {
    json_t *v = json_object();
    json_object_set_new(v, "stringValue", json_string(value));
    json_t *o = json_object();
    json_object_set_new(o, "key", json_string(key));
    json_object_set_new(o, "value", v);
    return o;
}

static json_t *nanos(int64_t us) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld000", (long long)us);
    return json_string(buf);
}

json_t *rs_tracing_otlp_(const rs_tracer_t *t, rs_span_t *const *spans, size_t n) {
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const rs_span_t *s = spans[i];
        json_t *o = json_object();
        json_object_set_new(o, "traceId", json_string(s->trace_id));
        json_object_set_new(o, "spanId", json_string(s->span_id));
        if (s->parent_id[0]) json_object_set_new(o, "parentSpanId", json_string(s->parent_id));
        json_object_set_new(o, "name", json_string(s->name));
        json_object_set_new(o, "kind", json_integer(s->kind));
        json_object_set_new(o, "startTimeUnixNano", nanos(s->start_us));
        json_object_set_new(o, "endTimeUnixNano", nanos(s->end_us));
        json_t *attrs = json_array();
        for (size_t j = 0; j < s->attrs.len; j++)
            json_array_append_new(attrs, kv(s->attrs.items[j].key, s->attrs.items[j].value));
        json_object_set_new(o, "attributes", attrs);
        json_t *status = json_object();
        json_object_set_new(status, "code", json_integer(s->error ? 2 : 0)); /* STATUS_CODE_ERROR / _UNSET */
        if (s->error && s->status_msg) json_object_set_new(status, "message", json_string(s->status_msg));
        json_object_set_new(o, "status", status);
        json_array_append_new(list, o);
    }
    json_t *scope = json_object();
    json_object_set_new(scope, "name", json_string("ripstopd"));
    json_t *scope_spans = json_object();
    json_object_set_new(scope_spans, "scope", scope);
    json_object_set_new(scope_spans, "spans", list);
    json_t *res_attrs = json_array();
    json_array_append_new(res_attrs, kv("service.name", t->service));
    json_t *resource = json_object();
    json_object_set_new(resource, "attributes", res_attrs);
    json_t *rs = json_object();
    json_object_set_new(rs, "resource", resource);
    json_object_set_new(rs, "scopeSpans", json_pack("[o]", scope_spans));
    json_t *req = json_object();
    json_object_set_new(req, "resourceSpans", json_pack("[o]", rs));
    return req;
}
