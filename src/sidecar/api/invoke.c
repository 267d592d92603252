/* SPDX-License-Identifier: MIT */
/* Service invocation (spec §2.1): `/v1.0/invoke/{appId}/method/{method...}`,
 * the `dapr-app-id` header on any other path, and basic auth with user
 * `dapr-app-id`. One handler serves all three and must be registered last.
 *
 * Calls to our own app id go straight to the app. Calls to another app id
 * are resolved to a peer ripstopd (name resolution) and sent to the peer's
 * ordinary invoke route with the `ripstop-hop` header, which tells the peer
 * to deliver to its app as the callee. The caller's sidecar applies the
 * resiliency policy of the target app; every attempt resolves again, so a
 * retry can land on another replica. Request bodies are kept by the request
 * until the reply, so every attempt replays them. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/ids.h"
#include "core/log.h"
#include "sidecar/api/api.h"
#include "sidecar/appchannel/app_channel.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/nameres/nameres.h"
#include "sidecar/resiliency/run.h"

void rs_api_invoke_register(rs_sidecar_t *sc);

#define HOP_HEADER "ripstop-hop"
#define ROUTE_INVOKE "/v1.0/invoke/{id}/method/{method}"
#define ROUTE_HEADER "invoke (dapr-app-id)"
#define ROUTE_HOP "/v1.0/invoke/{id}/method/{method} (hop)"

typedef struct invoke_op {
    rs_sidecar_t *sc;
    rs_http_req_t *req;
    char *app_id;       /* target app id (namespace suffix removed) */
    char *path;         /* "/" + method: the path on the app */
    char *method;       /* as received, still percent-encoded, no leading '/' (path + 1) */
    int local;          /* deliver to our own app */
    int hop;            /* we are the callee side of a sidecar-to-sidecar hop */
    /* Outbound headers, the same for every attempt. A list in reference mode: its strings are the
     * request's own headers (alive until the reply, and no attempt runs after it) and the buffers below. */
    rs_kvlist_t headers;
    char traceparent[56];
    char forwarded[512];
    rs_run_t *run;
    rs_attempt_t *attempt;
    rs_app_call_t app_call; /* local: the call to our app */
    rs_http_call_t *call;   /* remote: the call to the peer sidecar */
    char peer[128];     /* address used by the attempt in flight (remote only) */
    /* the last attempt's response, passed through when the run ends on it */
    int have_resp;
    int status;
    rs_kvlist_t resp_headers;
    char *resp_body;
    size_t resp_len;
    int64_t start_us;
    struct invoke_op *prev, *next;
    char strings[]; /* app_id and method live here: one allocation per call */
} invoke_op_t;

typedef struct {
    rs_sidecar_t *sc;
    invoke_op_t *ops; /* in flight, cancelled at shutdown */
    int closed;       /* shutting down: refuse new calls */
    char hostname[128];
} invoke_ctx_t;

/* ---------- headers ---------- */

static rs_name_set_t hop_by_hop = RS_NAME_SET("connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                               "upgrade", "http2-settings", "te", "trailer", "proxy-authorization",
                                               "proxy-authenticate");

/* Request headers the sidecar replaces or that only describe this hop. */
static rs_name_set_t not_forwarded =
    RS_NAME_SET("host", "content-length", "expect", "dapr-app-id", "dapr-api-token", "dapr-caller-app-id",
                "dapr-callee-app-id", "dapr-caller-namespace", "traceparent", HOP_HEADER);

/* Response headers our server writes itself for the reply. */
static rs_name_set_t written_by_server = RS_NAME_SET("content-length", "date");

static int is_hop_by_hop(const char *name, const char *connection) {
    if (rs_name_set_has(&hop_by_hop, name)) return 1;
    if (connection) { /* headers named by Connection are hop-by-hop too */
        size_t n = strlen(name);
        for (const char *p = connection; *p;) {
            while (*p == ' ' || *p == ',') p++;
            const char *e = p;
            while (*e && *e != ',' && *e != ' ') e++;
            if ((size_t)(e - p) == n && strncasecmp(p, name, n) == 0) return 1;
            p = e;
        }
    }
    return 0;
}

/* W3C trace context: keep the caller's trace id and flags, start a new span. This runs on every call. */
static void child_traceparent(const char *in, char out[56]) {
    unsigned char raw[24];
    rs_random_bytes(raw, sizeof raw);
    int keep = in && rs_traceparent_valid(in);
    char trace[33], span[17];
    rs_hex_encode(raw, 16, trace);
    rs_hex_encode(raw + 16, 8, span);
    memcpy(out, "00-", 3);
    memcpy(out + 3, keep ? in + 3 : trace, 32);
    out[35] = '-';
    memcpy(out + 36, span, 16);
    out[52] = '-';
    memcpy(out + 53, keep ? in + 53 : "01", 2);
    out[55] = '\0';
}

static void build_headers(invoke_op_t *op, const char *caller, const char *host_name) {
    rs_http_req_t *r = op->req;
    rs_sidecar_t *sc = op->sc;
    const char *connection = rs_http_req_header(r, "connection");
    for (size_t i = 0; i < r->headers.len; i++) {
        const rs_kv_t *h = &r->headers.items[i];
        if (!is_hop_by_hop(h->key, connection) && !rs_name_set_has(&not_forwarded, h->key))
            rs_kvlist_add(&op->headers, h->key, h->value);
    }
    child_traceparent(rs_http_req_header(r, "traceparent"), op->traceparent);
    rs_kvlist_add(&op->headers, "traceparent", op->traceparent);
    rs_kvlist_add(&op->headers, "dapr-caller-app-id", caller);
    rs_kvlist_add(&op->headers, "dapr-caller-namespace", "");
    rs_kvlist_add(&op->headers, "dapr-callee-app-id", op->app_id);
    if (!op->local) { /* (the app channel adds the app token to a local call) */
        /* Remote hop: mark it for the peer, and say where the call came from. */
        rs_kvlist_add(&op->headers, HOP_HEADER, "1");
        if (sc->cfg.api_token) rs_kvlist_add(&op->headers, "dapr-api-token", sc->cfg.api_token);
        const char *host = rs_http_req_header(r, "host");
        const char *fwd[] = {"for=", r->peer, ";by=127.0.0.1;host=", host_name, NULL};
        rs_str_join(op->forwarded, sizeof op->forwarded, fwd);
        rs_kvlist_add(&op->headers, "X-Forwarded-For", r->peer);
        if (host) rs_kvlist_add(&op->headers, "X-Forwarded-Host", host);
        rs_kvlist_add(&op->headers, "Forwarded", op->forwarded);
    }
}

/* ---------- the operation ---------- */

static void clear_resp(invoke_op_t *op) {
    op->have_resp = 0;
    rs_kvlist_free(&op->resp_headers);
    RS_SAFEFREE(op->resp_body);
    op->resp_len = 0;
}

static void op_free(invoke_ctx_t *ctx, invoke_op_t *op) {
    if (op->prev) op->prev->next = op->next;
    else ctx->ops = op->next;
    if (op->next) op->next->prev = op->prev;
    clear_resp(op);
    rs_kvlist_free(&op->headers);
    free(op);
}

static void count_result(invoke_op_t *op, int status) {
    rs_metrics_t *m = op->sc->metrics;
    if (!m || op->hop) return;
    char st[21];
    rs_utoa((unsigned)status, st);
    const char *labels[] = {"destination_app_id", op->app_id, "status", st, NULL};
    rs_metrics_inc(m, "dapr_service_invocation_res_recv_total", "Number of responses received by service invocation.",
                   labels, 1);
    const char *llabels[] = {"destination_app_id", op->app_id, NULL};
    rs_metrics_observe(m, "dapr_service_invocation_res_recv_latency_ms",
                       "Latency of service invocation from request to response, in milliseconds.", llabels,
                       (double)(rs_now_us() - op->start_us) / 1000.0);
}

/* The attempt's answer, from our app or from the peer sidecar (which passes its app's answer through). */
static void attempt_answered(invoke_op_t *op, rs_http_response_t *resp, rs_outcome_t *o) {
    if (resp->result == RS_HTTP_OK) {
        op->have_resp = 1;
        op->status = resp->status;
        op->resp_headers = resp->headers; /* taken, not copied (client.h allows it) */
        memset(&resp->headers, 0, sizeof resp->headers);
        op->resp_body = rs_buf_steal(&resp->body, &op->resp_len);
    }
    rs_attempt_done(op->attempt, o);
}

static void on_app_reply(void *arg, rs_http_response_t *resp, rs_outcome_t *o) { attempt_answered(arg, resp, o); }

static void on_peer_reply(void *arg, rs_http_response_t *resp) {
    invoke_op_t *op = arg;
    op->call = NULL;
    if (resp->result == RS_HTTP_ERR_CONNECT && op->sc->nameres) rs_nameres_forget(op->sc->nameres, op->app_id, op->peer);
    rs_outcome_t o;
    rs_app_outcome(resp, RS_APP_ACCEPT_2XX_3XX, &o);
    attempt_answered(op, resp, &o);
}

static void attempt_start(rs_attempt_t *a, void *arg) {
    invoke_op_t *op = arg;
    rs_sidecar_t *sc = op->sc;
    op->attempt = a;
    clear_resp(op);
    const char *q = op->req->query;
    if (op->local) {
        rs_app_request_t ar = {.method = op->req->method, .path = op->path, .query = q, .headers = &op->headers,
                               .body = op->req->body, .body_len = op->req->body_len, .accept = RS_APP_ACCEPT_2XX_3XX};
        rs_app_call(sc->app, &op->app_call, &ar, on_app_reply, op);
        return;
    }
    rs_outcome_t o;
    char why[RS_ERR_MAX];
    if (!sc->nameres || rs_nameres_resolve(sc->nameres, op->app_id, op->peer, sizeof op->peer, why, sizeof why) != 0) {
        rs_outcome_error(&o, 0, 0, "failed to resolve address for '%s': %s", op->app_id,
                         sc->nameres ? why : "name resolution is not available");
        rs_attempt_done(a, &o);
        return;
    }
    char url[8192]; /* built by joining, not snprintf: this runs for every call */
    const char *parts[] = {"http://", op->peer, "/v1.0/invoke/", op->app_id, "/method/", op->method,
                           q ? "?" : "", q ? q : "", NULL};
    if (rs_str_join(url, sizeof url, parts) < 0) {
        rs_outcome_error(&o, 0, 1, "URL too long");
        rs_attempt_done(a, &o);
        return;
    }
    rs_http_request_t hr = {.method = op->req->method,
                            .url = url,
                            .headers = &op->headers,
                            .body = op->req->body,
                            .body_len = op->req->body_len,
                            .max_response = sc->cfg.max_body_size ? sc->cfg.max_body_size : 4u << 20};
    op->call = rs_http_send(sc->http, &hr, on_peer_reply, op);
    if (!op->call) {
        rs_outcome_error(&o, 0, 0, "cannot start the request");
        rs_attempt_done(a, &o);
    }
}

static void attempt_abort(rs_attempt_t *a, void *arg) {
    invoke_op_t *op = arg;
    (void)a;
    rs_app_call_abort(&op->app_call);
    if (op->call) rs_http_cancel(op->call);
    op->call = NULL;
}

static void reply_passthrough(invoke_op_t *op) {
    /* Filter the response headers in place (this runs on every call; no copy). */
    rs_kvlist_t *h = &op->resp_headers;
    const char *c = rs_kvlist_get_ci(h, "connection");
    char *connection = c ? rs_strdup(c) : NULL; /* the Connection entry itself may be dropped below */
    size_t kept = 0;
    for (size_t i = 0; i < h->len; i++) {
        rs_kv_t kv = h->items[i];
        if (is_hop_by_hop(kv.key, connection) || rs_name_set_has(&written_by_server, kv.key)) {
            rs_kv_free(&kv);
            continue;
        }
        h->items[kept++] = kv;
    }
    h->len = kept;
    free(connection);
    rs_http_reply(op->req, op->status, h, op->resp_body, op->resp_len);
}

static void run_done(void *arg, const rs_outcome_t *final) {
    invoke_op_t *op = arg;
    invoke_ctx_t *ctx = op->req->user;
    op->run = NULL;
    /* Count first, reply last: writing the reply wakes the caller, often onto this CPU (server.c). */
    if (op->have_resp && (final->kind == RS_OUTCOME_OK || final->kind == RS_OUTCOME_ERROR)) {
        count_result(op, op->status);
        reply_passthrough(op); /* the last attempt's status, headers and body, unchanged */
    } else {
        count_result(op, 500);
        rs_api_reply_err(op->req, RS_ERR_DIRECT_INVOKE, "failed to invoke, id: %s, err: %s", op->app_id,
                            final->error);
    }
    op_free(ctx, op);
}

static void on_client_gone(rs_http_req_t *r, void *arg) {
    invoke_op_t *op = arg;
    invoke_ctx_t *ctx = r->user;
    /* The caller hung up: stop the run (even a retry-forever one) and release the request. */
    if (op->run) rs_run_cancel(op->run);
    op->run = NULL;
    rs_http_reply_empty(r, 499);
    op_free(ctx, op);
}

static void free_ctx(rs_sidecar_t *sc, void *arg) {
    (void)sc;
    free(arg);
}

static void on_shutdown(rs_sidecar_t *sc, void *arg) {
    invoke_ctx_t *ctx = arg;
    ctx->closed = 1;
    while (ctx->ops) {
        invoke_op_t *op = ctx->ops;
        if (op->run) rs_run_cancel(op->run);
        op->run = NULL;
        rs_api_reply_err(op->req, RS_ERR_DIRECT_INVOKE, "failed to invoke, id: %s, err: sidecar is shutting down",
                            op->app_id);
        op_free(ctx, op);
    }
    /* During a graceful shutdown the loop may still hand us requests: keep the context until
     * rs_sidecar_free runs the hooks again (after the loop); otherwise free it now. */
    if (sc->shutting_down) rs_sidecar_on_shutdown(sc, free_ctx, ctx);
    else free(ctx);
}

/* ---------- request parsing ---------- */

/* "dapr-app-id:<id>" in a Basic Authorization header. */
static int basic_auth_app_id(const rs_http_req_t *r, char *out, size_t outlen) {
    const char *a = rs_http_req_header(r, "authorization");
    if (!a || strncasecmp(a, "Basic ", 6) != 0) return -1;
    a += 6;
    size_t n = strlen(a);
    if (n == 0 || n > 1024 || n % 4) return -1;
    unsigned char dec[800];
    int len = EVP_DecodeBlock(dec, (const unsigned char *)a, (int)n);
    if (len < 0) return -1;
    while (len > 0 && a[n - 1] == '=') { /* EVP_DecodeBlock counts padding as zero bytes */
        len--;
        n--;
    }
    dec[len] = '\0';
    if (strncmp((char *)dec, "dapr-app-id:", 12) != 0 || !dec[12]) return -1;
    snprintf(out, outlen, "%s", (char *)dec + 12);
    return 0;
}

static int valid_app_id(const char *s) {
    if (!*s || strlen(s) > 200) return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || *s == '/' || *s == '?' || *s == '#' || *s == '%') return 0;
    return 1;
}

static int on_invoke(rs_http_req_t *r, void *arg) {
    invoke_ctx_t *ctx = arg;
    rs_sidecar_t *sc = ctx->sc;
    char app_id[256] = "";
    const char *method = NULL;
    const char *route = ROUTE_HEADER;
    const char *hdr;
    if (strncmp(r->raw_path, "/v1.0/invoke/", 13) == 0) {
        const char *rest = r->raw_path + 13;
        const char *slash = strchr(rest, '/');
        if (slash && strncmp(slash, "/method/", 8) == 0 && (size_t)(slash - rest) < sizeof app_id) {
            size_t j = 0; /* percent-decode the id segment */
            for (const char *p = rest; p < slash; p++) {
                unsigned hi, lo;
                if (*p == '%' && p + 2 < slash && sscanf(p + 1, "%1x%1x", &hi, &lo) == 2) {
                    app_id[j++] = (char)(hi * 16 + lo);
                    p += 2;
                } else {
                    app_id[j++] = *p;
                }
            }
            app_id[j] = '\0';
            method = slash + 8;
            route = ROUTE_INVOKE;
        }
    }
    if (!method) {
        if ((hdr = rs_http_req_header(r, "dapr-app-id")) && *hdr) snprintf(app_id, sizeof app_id, "%s", hdr);
        else if (basic_auth_app_id(r, app_id, sizeof app_id) != 0) app_id[0] = '\0';
        method = r->raw_path[0] == '/' ? r->raw_path + 1 : r->raw_path;
    }
    rs_http_req_set_route(r, route);
    if (ctx->closed) {
        rs_api_reply_err(r, RS_ERR_DIRECT_INVOKE, "failed to invoke, err: sidecar is shutting down");
        return 1;
    }
    if (!app_id[0]) {
        rs_api_reply_err(r, RS_ERR_DIRECT_INVOKE_NO_APP_ID,
                            "failed getting app id either from the URL path or the header dapr-app-id");
        return 1;
    }
    char *dot = strchr(app_id, '.'); /* "id.namespace": self-hosted namespaces are empty */
    if (dot) *dot = '\0';
    if (!valid_app_id(app_id)) {
        rs_api_reply_err(r, RS_ERR_DIRECT_INVOKE_BAD_APP_ID, "invalid app id");
        return 1;
    }
    int hop = rs_http_req_header(r, HOP_HEADER) != NULL;
    int local = strcmp(app_id, sc->cfg.app_id) == 0;
    if (hop && !local) {
        /* A peer resolved us for another app id: a stale registration (e.g. a reused port). */
        rs_api_reply_err(r, RS_ERR_DIRECT_INVOKE, "failed to invoke, id: %s, err: wrong sidecar (this is %s)",
                            app_id, sc->cfg.app_id);
        return 1;
    }
    if (hop) rs_http_req_set_route(r, ROUTE_HOP);

    size_t id_len = strlen(app_id), method_len = strlen(method);
    invoke_op_t *op = rs_xcalloc(1, sizeof *op + id_len + 1 + 1 + method_len + 1);
    op->sc = sc;
    op->req = r;
    op->app_id = memcpy(op->strings, app_id, id_len + 1);
    op->path = op->strings + id_len + 1;
    op->path[0] = '/';
    op->method = memcpy(op->path + 1, method, method_len + 1);
    rs_kvlist_init_refs(&op->headers);
    op->local = local;
    op->hop = hop;
    op->start_us = rs_now_us();
    const char *caller = sc->cfg.app_id;
    if (hop && (hdr = rs_http_req_header(r, "dapr-caller-app-id"))) caller = hdr;
    build_headers(op, caller, ctx->hostname);
    op->next = ctx->ops;
    if (ctx->ops) ctx->ops->prev = op;
    ctx->ops = op;
    r->user = ctx;
    rs_http_req_on_close(r, on_client_gone, op);
    if (!hop && sc->metrics) { /* counted before the send, which wakes the peer (see run_done) */
        const char *labels[] = {"destination_app_id", app_id, NULL};
        rs_metrics_inc(sc->metrics, "dapr_service_invocation_req_sent_total",
                       "Number of requests sent by service invocation.", labels, 1);
    }
    /* The caller's sidecar applies the target app's policy; the callee side of a hop delivers once. */
    rs_policy_t *policy = hop ? NULL : rs_resiliency_app_policy(sc->resiliency, app_id, method);
    op->run = rs_run_start(sc->base, policy, attempt_start, attempt_abort, run_done, op); /* sends at once */
    rs_policy_release(policy);
    if (!op->run) {
        rs_api_reply_err(r, RS_ERR_DIRECT_INVOKE, "failed to invoke, id: %s, err: out of memory", app_id);
        op_free(ctx, op);
    }
    return 1;
}

void rs_api_invoke_register(rs_sidecar_t *sc) {
    invoke_ctx_t *ctx = rs_xcalloc(1, sizeof *ctx);
    ctx->sc = sc;
    gethostname(ctx->hostname, sizeof ctx->hostname - 1);
    rs_sidecar_on_shutdown(sc, on_shutdown, ctx);
    rs_http_server_add(sc->api, on_invoke, ctx);
}
