/* SPDX-License-Identifier: MIT */
/* Spans live in a jansson object keyed by trace id, each trace an array of
 * compact span objects; the HTTP endpoint is one handler on its own server. */
#include "tools/ripstop/trace_collector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "http/server.h"

/* Largest export batch accepted: ripstopd sends at most 512 spans per POST. */
#define MAX_BODY (16u * 1024u * 1024u)

struct rs_traces {
    json_t *by_trace; /* trace id -> [span] */
    size_t max_spans, nspans, dropped;
    rs_http_server_t *srv;
};

rs_traces_t *rs_traces_new(size_t max_spans) {
    rs_traces_t *t = rs_xcalloc(1, sizeof *t);
    t->by_trace = json_object();
    t->max_spans = max_spans;
    return t;
}

void rs_traces_free(rs_traces_t *t) {
    if (!t) return;
    if (t->srv) rs_http_server_free(t->srv);
    json_decref(t->by_trace);
    free(t);
}

static int lower_hex(const char *s, size_t n) {
    if (!s || strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static const char *str_or(json_t *o, const char *key, const char *def) {
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : def;
}

/* One Zipkin v2 span -> the compact form, or NULL when it lacks what a waterfall needs. */
static json_t *compact(json_t *s, const char **trace_id) {
    const char *tid = json_string_value(json_object_get(s, "traceId"));
    const char *id = json_string_value(json_object_get(s, "id"));
    const char *parent = json_string_value(json_object_get(s, "parentId"));
    json_t *ts = json_object_get(s, "timestamp"), *dur = json_object_get(s, "duration");
    if (!(lower_hex(tid, 32) || lower_hex(tid, 16)) || !lower_hex(id, 16) || !json_is_integer(ts)) return NULL;
    if (parent && !lower_hex(parent, 16)) parent = NULL;
    json_t *tags = json_object_get(s, "tags");
    const char *error = json_is_object(tags) ? json_string_value(json_object_get(tags, "error")) : NULL;
    const char *attempt = json_is_object(tags) ? json_string_value(json_object_get(tags, "ripstop.attempt")) : NULL;
    const char *status = json_is_object(tags) ? json_string_value(json_object_get(tags, "dapr.status_code")) : NULL;
    json_t *ep = json_object_get(s, "localEndpoint");
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "id", id, "service",
                          json_is_object(ep) ? str_or(ep, "serviceName", "?") : "?", "name", str_or(s, "name", ""),
                          "kind", str_or(s, "kind", ""), "ts_us", (json_int_t)json_integer_value(ts), "dur_us",
                          (json_int_t)(json_is_integer(dur) ? json_integer_value(dur) : 0));
    if (!o) return NULL; /* a string that is not UTF-8 */
    json_object_set_new(o, "parent", parent ? json_string(parent) : json_null());
    /* ripstopd puts its HTTP port in localEndpoint: which replica of the app id sent the span */
    json_t *port = json_is_object(ep) ? json_object_get(ep, "port") : NULL;
    if (json_is_integer(port) && json_integer_value(port) > 0 && json_integer_value(port) < 65536)
        json_object_set_new(o, "port", json_integer(json_integer_value(port)));
    if (error) json_object_set_new(o, "error", json_string(error));
    if (attempt) json_object_set_new(o, "attempt", json_integer(atoi(attempt)));
    if (status) json_object_set_new(o, "status", json_integer(atoi(status)));
    *trace_id = tid;
    return o;
}

int rs_traces_add_zipkin(rs_traces_t *t, const char *body, size_t len, char *err, size_t errlen) {
    json_error_t je;
    json_t *arr = json_loadb(body, len, 0, &je);
    if (!json_is_array(arr)) {
        snprintf(err, errlen, "not a Zipkin v2 span list: %s", arr ? "not an array" : je.text);
        json_decref(arr);
        return -1;
    }
    int kept = 0;
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s) {
        const char *tid = NULL;
        json_t *o = json_is_object(s) ? compact(s, &tid) : NULL;
        if (!o) continue;
        if (t->nspans >= t->max_spans) {
            t->dropped++;
            json_decref(o);
            continue;
        }
        json_t *list = json_object_get(t->by_trace, tid);
        if (!list) {
            list = json_array();
            json_object_set_new(t->by_trace, tid, list);
        }
        json_array_append_new(list, o);
        t->nspans++;
        kept++;
    }
    json_decref(arr);
    return kept;
}

const json_t *rs_traces_get(const rs_traces_t *t, const char *trace_id) {
    return json_object_get(t->by_trace, trace_id);
}

size_t rs_traces_span_count(const rs_traces_t *t) { return t->nspans; }
size_t rs_traces_trace_count(const rs_traces_t *t) { return json_object_size(t->by_trace); }
size_t rs_traces_dropped(const rs_traces_t *t) { return t->dropped; }

static int handle(rs_http_req_t *r, void *ctx) {
    rs_traces_t *t = ctx;
    if (strcmp(r->path, "/api/v2/spans") != 0) {
        rs_http_reply_error(r, 404, "ERR_NOT_FOUND", "only POST /api/v2/spans (Zipkin v2 JSON) is served here");
        return 1;
    }
    if (strcmp(r->method, "POST") != 0) {
        rs_http_reply_error(r, 405, "ERR_METHOD", "only POST");
        return 1;
    }
    char err[256];
    if (rs_traces_add_zipkin(t, r->body, r->body_len, err, sizeof err) < 0) {
        rs_http_reply_error(r, 400, "ERR_BAD_SPANS", "%s", err);
        return 1;
    }
    rs_http_reply_empty(r, 202); /* what a Zipkin server answers */
    return 1;
}

int rs_traces_listen(rs_traces_t *t, struct event_base *base, int port) {
    if (t->srv) return -1;
    t->srv = rs_http_server_new(base, MAX_BODY);
    rs_http_server_add(t->srv, handle, t);
    return rs_http_server_listen(t->srv, "127.0.0.1", port);
}
