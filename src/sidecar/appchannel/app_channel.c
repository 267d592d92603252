/* SPDX-License-Identifier: MIT */
/* The app channel; see app_channel.h. Service invocation runs through here on
 * every call, so building a call joins strings on the stack and allocates
 * nothing. A gRPC app's calls go to grpc_app.c. */
#include "sidecar/appchannel/app_channel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/str.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/appchannel/grpc_app.h"

#define TOKEN_HEADER "dapr-api-token"

struct rs_app_channel {
    rs_http_client_t *http;
    rs_app_grpc_t *grpc;  /* set for a gRPC app: every call goes there */
    char *token;          /* NULL when APP_API_TOKEN is not set */
    size_t reply_cap;
    char base_url[160];   /* "" when there is no app */
    rs_metrics_t *metrics;
    int unhealthy;        /* the health probes said so: invocations are refused */
};

rs_app_channel_t *rs_app_channel_new(rs_http_client_t *http, const char *address, int port, const char *app_token,
                                     size_t reply_cap) {
    rs_app_channel_t *ch = rs_xcalloc(1, sizeof *ch);
    ch->http = http;
    ch->token = app_token && *app_token ? rs_strdup(app_token) : NULL;
    ch->reply_cap = reply_cap ? reply_cap : 4u << 20;
    if (port > 0)
        snprintf(ch->base_url, sizeof ch->base_url, "http://%s:%d", address && *address ? address : "127.0.0.1",
                 port);
    return ch;
}

rs_app_channel_t *rs_app_channel_new_grpc(struct event_base *base, const char *address, int port,
                                          const char *app_token, size_t reply_cap) {
    rs_app_channel_t *ch = rs_app_channel_new(NULL, address, port, app_token, reply_cap);
    if (port > 0) ch->grpc = rs_app_grpc_new(base, address, port, ch->token, ch->reply_cap);
    return ch;
}

void rs_app_channel_set_healthy(rs_app_channel_t *ch, int healthy) { ch->unhealthy = !healthy; }

const char *rs_app_channel_protocol(const rs_app_channel_t *ch) { return ch && ch->grpc ? "grpc" : "http"; }

int rs_app_channel_event_sendable(const rs_app_channel_t *ch, const char *event, size_t len, char *why,
                                  size_t whylen) {
    if (!ch || !ch->grpc) return 1;
    return rs_app_grpc_event_ok(event, len, why, whylen) == 0;
}

void rs_app_channel_free(rs_app_channel_t *ch) {
    if (!ch) return;
    rs_app_grpc_free(ch->grpc);
    free(ch->token);
    free(ch);
}

void rs_app_channel_set_metrics(rs_app_channel_t *ch, rs_metrics_t *m) {
    ch->metrics = m;
    if (ch->grpc) rs_app_grpc_set_metrics(ch->grpc, m);
}

int rs_app_channel_has_app(const rs_app_channel_t *ch) { return ch && ch->base_url[0]; }

void rs_app_outcome(const rs_http_response_t *resp, rs_app_accept_t accept, rs_outcome_t *o) {
    if (resp->result != RS_HTTP_OK) {
        rs_outcome_error(o, 0, 0, "%s", resp->error);
        return;
    }
    int s = resp->status;
    int ok = accept == RS_APP_ACCEPT_200 ? s == 200 : accept == RS_APP_ACCEPT_2XX ? s >= 200 && s <= 299
                                                                                 : s >= 200 && s <= 399;
    if (ok) rs_outcome_ok(o);
    else rs_outcome_error(o, s, 0, "app answered with status %d", s);
}

long rs_app_channel_url(const rs_app_channel_t *ch, const char *path, const char *query, char *out, size_t cap) {
    if (!rs_app_channel_has_app(ch)) return -1;
    if (!path) path = "";
    /* As Dapr's app channel: a '/' goes first when the path has none; one it has is kept as written. */
    const char *parts[] = {ch->base_url, path[0] == '/' ? "" : "/", path, query ? "?" : "", query ? query : "", NULL};
    return rs_str_join(out, cap, parts);
}

/* Method labels are static strings: a call's method string may not outlive the call. */
static const char *method_label(const char *m) {
    static const char *const known[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", NULL};
    for (size_t i = 0; known[i]; i++)
        if (m && strcmp(m, known[i]) == 0) return known[i];
    return "other";
}

/* daprd's http/client families (pkg/diagnostics/http_monitoring.go): count and latency by method and status, the
 * request body size by method and status, the response body size by app_id only. */
static const rs_metrics_view_t http_client_view = {
    {"method", "status"},
    {{"dapr_http_client_completed_count", "Count of completed requests", RS_METRIC_COUNTER, 3},
     {"dapr_http_client_roundtrip_latency", "End-to-end latency", RS_METRIC_HISTOGRAM, 3},
     {"dapr_http_client_sent_bytes", "Total bytes sent in request body (not including headers)", RS_METRIC_SIZES, 3},
     {"dapr_http_client_received_bytes",
      "Total bytes received in response bodies (not including headers but including error responses with bodies)",
      RS_METRIC_SIZES, 0}},
};

/* A call that got an answer (one without has no status to record). */
static void count_call(const rs_app_call_t *call, const rs_http_response_t *resp) {
    rs_metrics_t *m = call->ch_->metrics;
    if (!m || resp->result != RS_HTTP_OK || call->probe_) return;
    char st[21];
    rs_utoa((unsigned)resp->status, st);
    const char *values[] = {call->method_, st};
    const double obs[] = {1, (double)(rs_now_us() - call->start_us_) / 1000.0, (double)call->sent_,
                          (double)resp->body.len};
    rs_metrics_record(m, &http_client_view, values, obs);
}

/* Only the gRPC channel sets these (app_channel.h): an HTTP app that sends them would fake a gRPC app's status to
 * a gRPC caller, so they are dropped from its answer. */
static rs_name_set_t grpc_status_headers = RS_NAME_SET(RS_APP_GRPC_STATUS, RS_APP_GRPC_MESSAGE, RS_APP_GRPC_DETAILS);

static void drop_grpc_status(rs_kvlist_t *h) {
    size_t kept = 0;
    for (size_t i = 0; i < h->len; i++) {
        rs_kv_t kv = h->items[i];
        if (rs_name_set_has(&grpc_status_headers, kv.key)) {
            if (!h->refs) rs_kv_free(&kv);
            continue;
        }
        h->items[kept++] = kv;
    }
    h->len = kept;
}

static void on_http_done(void *arg, rs_http_response_t *resp) {
    rs_app_call_t *call = arg;
    call->http_ = NULL;
    drop_grpc_status(&resp->headers);
    count_call(call, resp);
    rs_outcome_t o;
    rs_app_outcome(resp, call->accept_, &o);
    call->reply_(call->arg_, resp, &o);
}

/* The call never started: answer at once, as the caller's reply would have been answered from the loop. */
static int fail_now(rs_app_call_t *call, int permanent, const char *why) {
    rs_http_response_t resp;
    memset(&resp, 0, sizeof resp);
    resp.result = RS_HTTP_ERR_TRANSPORT;
    snprintf(resp.error, sizeof resp.error, "%s", why);
    rs_outcome_t o;
    rs_outcome_error(&o, 0, permanent, "%s", why);
    call->reply_(call->arg_, &resp, &o);
    return -1;
}

int rs_app_call(rs_app_channel_t *ch, rs_app_call_t *call, const rs_app_request_t *req, rs_app_reply_fn reply,
                void *arg) {
    call->http_ = NULL;
    call->grpc_ = NULL;
    call->accept_ = req->accept;
    call->reply_ = reply;
    call->arg_ = arg;
    call->ch_ = ch;
    call->method_ = method_label(req->method);
    call->start_us_ = ch->metrics ? rs_now_us() : 0;
    call->sent_ = req->body ? req->body_len : 0;
    call->probe_ = req->kind == RS_APP_HEALTH_PROBE;
    call->forward_ = NULL;
    if (!rs_app_channel_has_app(ch)) return fail_now(call, 1, "app channel is not initialized");
    if (ch->unhealthy && req->kind == RS_APP_INVOKE) return fail_now(call, 0, "app is not in a healthy state");
    if (ch->grpc) {
        char why[200];
        return rs_app_grpc_call(ch->grpc, call, req, why, sizeof why) == 0 ? 0 : fail_now(call, 1, why);
    }
    char url[8192];
    if (rs_app_channel_url(ch, req->path, req->query, url, sizeof url) < 0) return fail_now(call, 1, "URL too long");
    rs_kvlist_t own = {0};
    rs_kvlist_t *headers = req->headers ? req->headers : &own;
    if (ch->token && !call->probe_) {
        /* Set once per list: an operation reuses its list for every attempt. */
        const char *cur = rs_kvlist_get(headers, TOKEN_HEADER);
        if (cur != ch->token && (!cur || strcmp(cur, ch->token) != 0)) rs_kvlist_set(headers, TOKEN_HEADER, ch->token);
    }
    rs_http_request_t hr = {.method = req->method, .url = url, .headers = headers, .body = req->body,
                            .body_len = req->body_len, .timeout_ms = req->timeout_ms, .max_response = ch->reply_cap};
    call->http_ = rs_http_send(ch->http, &hr, on_http_done, call);
    rs_kvlist_free(&own);
    if (!call->http_) return fail_now(call, 0, "cannot start the request");
    return 0;
}

void rs_app_call_abort(rs_app_call_t *call) {
    if (call->http_) rs_http_cancel(call->http_);
    call->http_ = NULL;
    rs_app_grpc_abort(call);
}
