/* SPDX-License-Identifier: MIT */
/* The inbound span of every Dapr API call (daprd's HTTP tracing middleware):
 * a SERVER span, the child of the caller's traceparent, named after the path
 * ("CallLocal/<app-id>/<method>" for service invocation), with dapr.api,
 * dapr.protocol, dapr.status_code and the group's db.* / messaging.* / rpc.*
 * attributes. The request's traceparent header is replaced by the span's
 * before any handler runs, so everything the handler propagates (invoke
 * headers, the CloudEvent's traceparent, binding metadata) descends from it,
 * and operations started while it is dispatched take it as their parent.
 * W3C baggage is checked and echoed here too, as daprd's middleware does
 * (tracing/baggage.h); the headers themselves travel on with the call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sidecar/api/api.h"
#include "sidecar/tracing/baggage.h"
#include "sidecar/tracing/tracing.h"

/* Replaces (or adds) the traceparent header; the list holds references, so the value lives in r->traceparent. */
static void set_traceparent(rs_http_req_t *r) {
    rs_kvlist_t *h = &r->headers;
    for (size_t i = 0; i < h->len; i++)
        if (strcasecmp(h->items[i].key, "traceparent") == 0) {
            if (h->refs) h->items[i].value = r->traceparent;
            else rs_kvlist_set(h, h->items[i].key, r->traceparent);
            return;
        }
    rs_kvlist_add(h, "traceparent", r->traceparent);
}

/* daprd's middleware: the request's baggage headers, joined with ",", must parse (else 400, as Go's http.Error
 * writes it); valid baggage is echoed in the reply's `baggage` header. Returns 1 when it answered. */
static int check_baggage(rs_http_req_t *r) {
    char *b, why[160];
    if (rs_baggage_get(&r->headers, &b, why, sizeof why) != 0) {
        char body[256];
        int n = snprintf(body, sizeof body, "invalid baggage header: %s\n", why);
        rs_kvlist_t h = {0};
        rs_kvlist_add(&h, "Content-Type", "text/plain; charset=utf-8");
        rs_kvlist_add(&h, "X-Content-Type-Options", "nosniff");
        rs_http_reply(r, 400, &h, body, n > 0 && (size_t)n < sizeof body ? (size_t)n : strlen(body));
        rs_kvlist_free(&h);
        return 1;
    }
    if (b && *b) rs_kvlist_set(&r->reply_headers, "baggage", b);
    free(b);
    return 0;
}

static int begin(void *arg, rs_http_req_t *r) {
    rs_sidecar_t *sc = arg;
    if (strstr(r->path, "/healthz")) return 0; /* daprd does not trace health probes */
    rs_span_t *s = rs_span_start(sc->tracer, rs_http_req_header(r, "traceparent"), r->path, RS_SPAN_SERVER);
    if (s) {
        r->trace = s;
        rs_span_traceparent(s, r->traceparent);
        set_traceparent(r);
        rs_tracer_set_current(sc->tracer, s);
    }
    return check_baggage(r);
}

static void dispatched(void *arg, rs_http_req_t *r) {
    (void)r;
    rs_tracer_set_current(((rs_sidecar_t *)arg)->tracer, NULL);
}

/* Copies the n-th '/'-separated segment of path (0 = "v1.0") into out; "" when there is none. */
static const char *segment(const char *path, int n, char *out, size_t cap) {
    const char *p = path;
    while (*p == '/') p++;
    for (int i = 0; i < n && p; i++) {
        p = strchr(p, '/');
        if (p) p++;
    }
    size_t len = 0;
    if (p)
        while (p[len] && p[len] != '/') len++;
    if (len >= cap) len = cap - 1;
    memcpy(out, p ? p : "", len);
    out[len] = '\0';
    return out;
}

static const char *status_text(int st) {
    switch (st) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 429: return "Too Many Requests";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

static void end(void *arg, rs_http_req_t *r, int status) {
    (void)arg;
    rs_span_t *s = r->trace;
    r->trace = NULL;
    char group[64], name[256], rest[256], api[512];
    segment(r->path, 1, group, sizeof group);
    segment(r->path, 2, name, sizeof name);
    const char *app_id = rs_http_req_header(r, "dapr-app-id");
    if (strcmp(group, "invoke") == 0 || (app_id && strncmp(r->path, "/v1.0", 5) != 0)) {
        /* /v1.0/invoke/<id>/method/<method>, or any path with dapr-app-id */
        const char *method = r->path;
        if (strcmp(group, "invoke") == 0) {
            const char *m = strstr(r->path, "/method/");
            method = m ? m + 8 : "";
        } else {
            snprintf(name, sizeof name, "%s", app_id);
            while (*method == '/') method++;
        }
        snprintf(rest, sizeof rest, "CallLocal/%s/%s", name, method);
        rs_span_set_name(s, rest);
        rs_span_attr(s, "rpc.service", "ServiceInvocation");
        rs_span_attr(s, "net.peer.name", name);
    } else if (strcmp(group, "state") == 0 || strcmp(group, "secrets") == 0 || strcmp(group, "bindings") == 0) {
        rs_span_attr(s, "db.system", group);
        rs_span_attr(s, "db.name", name);
    } else if (strcmp(group, "publish") == 0) {
        rs_span_attr(s, "messaging.system", "pubsub");
        rs_span_attr(s, "messaging.destination", segment(r->path, 3, rest, sizeof rest));
        rs_span_attr(s, "messaging.destination_kind", "topic");
    }
    snprintf(api, sizeof api, "%s %s", r->method, r->path);
    rs_span_attr(s, "dapr.api", api);
    rs_span_attr(s, "dapr.protocol", "http");
    rs_span_attr_int(s, "dapr.status_code", status);
    if (status >= 400) { /* daprd: Code(<status>): <status text> */
        snprintf(api, sizeof api, "Code(%d): %s", status, status_text(status));
        rs_span_error(s, api);
    }
    rs_span_end(s);
}

void rs_api_tracing_register(rs_sidecar_t *sc) {
    if (!sc->tracer) return; /* tracing off: no hooks, nothing on the request path */
    rs_http_hooks_t h = {.begin = begin, .dispatched = dispatched, .end = end, .arg = sc};
    rs_http_server_set_hooks(sc->api, &h);
}
