/* SPDX-License-Identifier: MIT */
/* The tracer: spec.tracing, daprd's sampling rule, and spans from start to end. See tracing.h. */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "core/ids.h"
#include "core/str.h"
#include "sidecar/tracing/tracer_private.h"

#define DEFAULT_QUEUE 2048
#define DEFAULT_BATCH 512
#define DEFAULT_FLUSH_MS 1000

static int64_t wall_us(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* samplingRate is a string in Dapr's schema ("1", "0.01"); a YAML number arrives as a JSON number. */
static double parse_rate(const json_t *v) {
    if (json_is_number(v)) return json_number_value(v);
    if (!json_is_string(v)) return 0;
    const char *s = json_string_value(v);
    char *end;
    double d = strtod(s, &end);
    if (end == s || *end || !isfinite(d) || d < 0) return 0; /* daprd: an unparsable rate disables tracing */
    return d;
}

/* OTLP/HTTP: "host:port" or a URL; the traces path is /v1/traces unless one is given. */
static char *otel_url(const char *endpoint, int secure) {
    const char *scheme = strstr(endpoint, "://") ? "" : secure ? "https://" : "http://";
    const char *after = strstr(endpoint, "://");
    after = after ? after + 3 : endpoint;
    const char *path = strchr(after, '/') ? "" : "/v1/traces";
    size_t n = strlen(scheme) + strlen(endpoint) + strlen(path) + 1;
    char *url = rs_xmalloc(n);
    snprintf(url, n, "%s%s%s", scheme, endpoint, path);
    return url;
}

int rs_tracing_config_parse(const json_t *configuration, rs_tracing_config_t *out, char *why, size_t whylen) {
    memset(out, 0, sizeof *out);
    out->queue_max = DEFAULT_QUEUE;
    out->batch_max = DEFAULT_BATCH;
    out->flush_ms = DEFAULT_FLUSH_MS;
    const json_t *tracing = json_object_get(json_object_get(configuration, "spec"), "tracing");
    if (!json_is_object(tracing)) return 0;
    out->sampling_rate = parse_rate(json_object_get(tracing, "samplingRate"));
    const json_t *st = json_object_get(tracing, "stdout");
    out->to_stdout = json_is_true(st) || (json_is_string(st) && strcasecmp(json_string_value(st), "true") == 0);
    const char *zipkin = json_string_value(json_object_get(json_object_get(tracing, "zipkin"), "endpointAddress"));
    if (zipkin && *zipkin) out->zipkin_url = rs_strdup(zipkin);
    const json_t *otel = json_object_get(tracing, "otel");
    const char *endpoint = json_string_value(json_object_get(otel, "endpointAddress"));
    if (endpoint && *endpoint) {
        const char *protocol = json_string_value(json_object_get(otel, "protocol"));
        if (protocol && strcasecmp(protocol, "http") != 0) {
            snprintf(why, whylen, "tracing.otel.protocol '%s' is not supported (only http)", protocol);
            rs_tracing_config_free(out);
            return -1;
        }
        const json_t *sec = json_object_get(otel, "isSecure");
        out->otel_url = otel_url(endpoint, json_is_true(sec));
    }
    return 0;
}

void rs_tracing_config_free(rs_tracing_config_t *cfg) {
    RS_SAFEFREE(cfg->zipkin_url);
    RS_SAFEFREE(cfg->otel_url);
}

rs_tracer_t *rs_tracer_new(struct event_base *base, rs_http_client_t *http, const rs_tracing_config_t *cfg,
                           const char *service_name, struct rs_metrics *const *metrics) {
    if (!(cfg->sampling_rate > 0)) return NULL;
    rs_tracer_t *t = rs_xcalloc(1, sizeof *t);
    t->base = base;
    t->http = http;
    t->cfg = *cfg;
    t->cfg.zipkin_url = cfg->zipkin_url ? rs_strdup(cfg->zipkin_url) : NULL;
    t->cfg.otel_url = cfg->otel_url ? rs_strdup(cfg->otel_url) : NULL;
    if (!t->cfg.queue_max) t->cfg.queue_max = DEFAULT_QUEUE;
    if (!t->cfg.batch_max) t->cfg.batch_max = DEFAULT_BATCH;
    if (t->cfg.flush_ms <= 0) t->cfg.flush_ms = DEFAULT_FLUSH_MS;
    t->service = rs_strdup(service_name ? service_name : "");
    t->metrics = metrics;
    double rate = cfg->sampling_rate >= 1 ? 1 : cfg->sampling_rate;
    t->threshold = rate >= 1 ? UINT64_MAX : (uint64_t)(rate * 9223372036854775808.0); /* rate * 2^63 */
    if (rs_tracing_export_start_(t) != 0) {
        rs_tracer_free(t);
        return NULL;
    }
    return t;
}

void rs_tracer_set_endpoint(rs_tracer_t *t, const char *ipv4, int port) {
    if (!t) return;
    struct in_addr a;
    t->ipv4[0] = '\0';
    if (ipv4 && strlen(ipv4) < sizeof t->ipv4 && inet_pton(AF_INET, ipv4, &a) == 1) snprintf(t->ipv4, sizeof t->ipv4, "%s", ipv4);
    t->port = port > 0 && port <= 65535 ? port : 0;
}

void rs_tracer_free(rs_tracer_t *t) {
    if (!t) return;
    rs_tracing_export_stop_(t);
    rs_tracing_config_free(&t->cfg);
    free(t->service);
    free(t);
}

static uint64_t low_half(const unsigned char id[16]) {
    uint64_t x = 0;
    for (int i = 8; i < 16; i++) x = x << 8 | id[i];
    return x;
}

rs_span_t *rs_span_start(rs_tracer_t *t, const char *parent, const char *name, rs_span_kind_t kind) {
    if (!t) return NULL;
    unsigned char raw[24];
    rs_random_bytes(raw, sizeof raw);
    int has_parent = parent && rs_traceparent_valid(parent);
    if (has_parent) {
        /* parent-based: follow the caller's decision (the flags' low bit) */
        unsigned flags = (unsigned)strtoul(parent + 53, NULL, 16);
        if (!(flags & 1)) return NULL;
    } else if (t->threshold != UINT64_MAX && (low_half(raw) >> 1) >= t->threshold) {
        return NULL;
    }
    rs_span_t *s = rs_xcalloc(1, sizeof *s);
    s->tracer = t;
    if (has_parent) {
        memcpy(s->trace_id, parent + 3, 32);
        memcpy(s->parent_id, parent + 36, 16);
    } else {
        rs_hex_encode(raw, 16, s->trace_id);
    }
    rs_hex_encode(raw + 16, 8, s->span_id);
    s->name = rs_strdup(name ? name : "");
    s->kind = kind;
    s->start_us = wall_us();
    return s;
}

void rs_span_set_name(rs_span_t *s, const char *name) {
    if (!s) return;
    free(s->name);
    s->name = rs_strdup(name ? name : "");
}

void rs_span_attr(rs_span_t *s, const char *key, const char *value) {
    if (s && key && value) rs_kvlist_set(&s->attrs, key, value);
}

void rs_span_attr_int(rs_span_t *s, const char *key, long long value) {
    if (!s) return;
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", value);
    rs_kvlist_set(&s->attrs, key, buf);
}

void rs_span_error(rs_span_t *s, const char *message) {
    if (!s) return;
    s->error = 1;
    free(s->status_msg);
    s->status_msg = rs_strdup(message ? message : "");
}

void rs_span_traceparent(const rs_span_t *s, char out[56]) {
    snprintf(out, 56, "00-%s-%s-01", s->trace_id, s->span_id);
}

void rs_span_free_(rs_span_t *s) {
    if (!s) return;
    free(s->name);
    free(s->status_msg);
    rs_kvlist_free(&s->attrs);
    free(s);
}

void rs_span_end(rs_span_t *s) {
    if (!s) return;
    rs_tracer_t *t = s->tracer;
    if (t->current == s) t->current = NULL;
    s->end_us = wall_us();
    if (s->end_us <= s->start_us) s->end_us = s->start_us + 1; /* Zipkin wants a duration of at least 1 us */
    rs_tracing_enqueue_(t, s);
}

rs_span_t *rs_tracer_current(const rs_tracer_t *t) { return t ? t->current : NULL; }
void rs_tracer_set_current(rs_tracer_t *t, rs_span_t *s) {
    if (t) t->current = s;
}
uint64_t rs_tracer_exported(const rs_tracer_t *t) { return t ? t->exported : 0; }
uint64_t rs_tracer_dropped(const rs_tracer_t *t) { return t ? t->dropped : 0; }
