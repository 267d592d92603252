/* SPDX-License-Identifier: MIT */
/* Service invocation; see ops/invoke.h. This runs on every call: one
 * allocation per call (the operation and its strings), outbound headers in
 * reference mode, URLs joined without printf. */
#include "sidecar/ops/invoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "sidecar/appchannel/app_channel.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/nameres/nameres.h"
#include "sidecar/ops/op_run.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/runtime/sidecar.h"
#include "sidecar/tracing/tracing.h"

#define HOP_HEADER "ripstop-hop"

typedef struct rs_invoker rs_invoker_t;

typedef struct invoke_op {
    rs_op_t op;
    rs_invoker_t *inv;
    rs_sidecar_t *sc;
    const char *verb, *query;
    const void *body;
    size_t body_len;
    char *app_id;       /* target app id (namespace suffix removed) */
    char *path;         /* "/" + method: the path on the app */
    char *method;       /* cleaned (rs_url_path_clean), percent-encoded, no leading '/' (path + 1) */
    int local;          /* deliver to our own app */
    int hop;            /* we are the callee side of a sidecar-to-sidecar hop */
    int keep_grpc;      /* the answer keeps a gRPC app's status headers (for the gRPC API, or the peer's) */
    const char *caller; /* the calling app's id (ours unless hop); a string of `headers` */
    rs_invoke_done_fn done;
    void *arg;
    /* Outbound headers, the same for every attempt. A list in reference mode: its strings are the
     * request's own headers (borrowed until the callback) and the buffers below. */
    rs_kvlist_t headers;
    char traceparent[56];
    char forwarded[512];
    rs_attempt_t *attempt;
    rs_app_call_t app_call; /* local: the call to our app */
    rs_http_call_t *call;   /* remote: the call to the peer sidecar */
    char peer[128];         /* address used by the attempt in flight (remote only) */
    /* the last attempt's answer, passed through when the run ends on it */
    int have_resp;
    int status;
    rs_kvlist_t resp_headers;
    char *resp_body;
    size_t resp_len;
    int64_t start_us;
    struct invoke_op *prev, *next;
    char strings[]; /* app_id, '/', method: one allocation per call */
} invoke_op_t;

struct rs_invoker {
    invoke_op_t *ops; /* in flight, failed at shutdown */
    int closed;       /* shutting down: refuse new calls */
    char hostname[128];
};

/* ---------- headers ---------- */

static rs_name_set_t hop_by_hop = RS_NAME_SET("connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                               "upgrade", "http2-settings", "te", "trailer", "proxy-authorization",
                                               "proxy-authenticate");

/* Request headers the sidecar replaces or that only describe this hop. */
static rs_name_set_t not_forwarded =
    RS_NAME_SET("host", "content-length", "expect", "dapr-app-id", "dapr-api-token", "dapr-caller-app-id",
                "dapr-callee-app-id", "dapr-caller-namespace", "traceparent", HOP_HEADER);

/* A gRPC app's status, for the gRPC API only (app_channel.h). */
static rs_name_set_t grpc_status_headers = RS_NAME_SET(RS_APP_GRPC_STATUS, RS_APP_GRPC_MESSAGE, RS_APP_GRPC_DETAILS);

/* Response headers that describe the app's HTTP message, not the answer: the front door writes its own. */
static rs_name_set_t framing = RS_NAME_SET("content-length", "date");

/* The names every Connection header lists (RFC 9110 7.6.1: they are hop-by-hop too), sorted once so that each
 * header is looked up in log time: h headers against a list of c names cost O((h + c) log c), never h * c (a
 * 45 KB request of both used to hold the loop for 93 ms). The names point into `text`: the headers' own values,
 * or, with own_copy, a private copy (for a list whose Connection entries are freed while it is used). */
struct conn_name {
    const char *p;
    size_t n;
};
typedef struct {
    struct conn_name *v, local[8];
    size_t n, cap;
    char *copy;
} conn_names_t;

static int conn_name_cmp(const void *a, const void *b) {
    const struct conn_name *x = a, *y = b;
    int c = strncasecmp(x->p, y->p, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static void conn_names_add_list(conn_names_t *cn, const char *p) {
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ' && *e != '\t') e++;
        if (e > p) {
            if (cn->n == cn->cap) {
                struct conn_name *v = rs_xmalloc(2 * cn->cap * sizeof *v);
                memcpy(v, cn->v, cn->n * sizeof *v);
                if (cn->v != cn->local) free(cn->v);
                cn->v = v;
                cn->cap *= 2;
            }
            cn->v[cn->n++] = (struct conn_name){p, (size_t)(e - p)};
        }
        p = e;
    }
}

static rs_name_set_t connection_name = RS_NAME_SET("connection");

static void conn_names_init(conn_names_t *cn, const rs_kvlist_t *h, int own_copy) {
    cn->v = cn->local;
    cn->n = 0;
    cn->cap = sizeof cn->local / sizeof cn->local[0];
    cn->copy = NULL;
    for (size_t i = 0; i < h->len; i++) { /* every Connection header, not only the first */
        if (!rs_name_set_has(&connection_name, h->items[i].key)) continue;
        const char *list = h->items[i].value;
        if (own_copy) { /* the lists joined with ',' into one private string */
            size_t had = cn->copy ? strlen(cn->copy) : 0, add = strlen(list);
            char *c = rs_xmalloc(had + add + 2);
            if (had) memcpy(c, cn->copy, had);
            c[had] = ',';
            memcpy(c + had + 1, list, add + 1);
            free(cn->copy);
            cn->copy = c;
            continue;
        }
        conn_names_add_list(cn, list);
    }
    if (cn->copy) conn_names_add_list(cn, cn->copy);
    if (cn->n > 1) qsort(cn->v, cn->n, sizeof *cn->v, conn_name_cmp);
}

static void conn_names_free(conn_names_t *cn) {
    if (cn->v != cn->local) free(cn->v);
    free(cn->copy);
}

static int is_hop_by_hop(const char *name, const conn_names_t *cn) {
    if (rs_name_set_has(&hop_by_hop, name)) return 1;
    struct conn_name key = {name, strlen(name)};
    return cn->n && bsearch(&key, cn->v, cn->n, sizeof *cn->v, conn_name_cmp) != NULL;
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

static void build_headers(invoke_op_t *op, const rs_invoke_request_t *req, const char *caller, const char *host_name) {
    const rs_kvlist_t *in = req->headers;
    conn_names_t cn;
    conn_names_init(&cn, in, 0);
    for (size_t i = 0; i < in->len; i++) {
        const rs_kv_t *h = &in->items[i];
        if (!is_hop_by_hop(h->key, &cn) && !rs_name_set_has(&not_forwarded, h->key))
            rs_kvlist_add(&op->headers, h->key, h->value);
    }
    conn_names_free(&cn);
    /* Within a sampled inbound span (the callee side of a hop, or an untraced run) the app gets that span's
     * context, so what the app calls while serving descends from an exported span, as with daprd; a traced run's
     * attempts replace it with their own (attempt_start). */
    rs_span_t *cur = rs_tracer_current(op->sc->tracer);
    if (cur) rs_span_traceparent(cur, op->traceparent);
    else child_traceparent(rs_kvlist_get_ci(in, "traceparent"), op->traceparent);
    rs_kvlist_add(&op->headers, "traceparent", op->traceparent);
    rs_kvlist_add(&op->headers, "dapr-caller-app-id", caller);
    rs_kvlist_add(&op->headers, "dapr-caller-namespace", "");
    rs_kvlist_add(&op->headers, "dapr-callee-app-id", op->app_id);
    if (!op->local) { /* (the app channel adds the app token to a local call) */
        /* Remote hop: mark it for the peer with the key only sidecars know, and say where the call came from. */
        if (op->sc->nameres) rs_kvlist_add(&op->headers, HOP_HEADER, rs_nameres_hop_key(op->sc->nameres));
        if (op->sc->cfg.api_token) rs_kvlist_add(&op->headers, "dapr-api-token", op->sc->cfg.api_token);
        const char *host = rs_kvlist_get_ci(in, "host");
        const char *peer = req->caller_address ? req->caller_address : "";
        const char *fwd[] = {"for=", peer, ";by=127.0.0.1;host=", host_name, NULL};
        rs_str_join(op->forwarded, sizeof op->forwarded, fwd);
        rs_kvlist_add(&op->headers, "X-Forwarded-For", peer);
        if (host) rs_kvlist_add(&op->headers, "X-Forwarded-Host", host);
        rs_kvlist_add(&op->headers, "Forwarded", op->forwarded);
    }
}

/* Drops the app's hop-by-hop and framing headers, and a gRPC app's status unless keep_grpc, in place (this runs on
 * every call; no copy). */
static void filter_reply_headers(rs_kvlist_t *h, int keep_grpc) {
    conn_names_t cn;
    conn_names_init(&cn, h, 1); /* a copy: the Connection entries themselves are dropped below */
    size_t kept = 0;
    for (size_t i = 0; i < h->len; i++) {
        rs_kv_t kv = h->items[i];
        if (is_hop_by_hop(kv.key, &cn) || rs_name_set_has(&framing, kv.key) ||
            (!keep_grpc && rs_name_set_has(&grpc_status_headers, kv.key))) {
            rs_kv_free(&kv);
            continue;
        }
        h->items[kept++] = kv;
    }
    h->len = kept;
    conn_names_free(&cn);
}

/* ---------- the operation ---------- */

static void clear_resp(invoke_op_t *op) {
    op->have_resp = 0;
    rs_kvlist_free(&op->resp_headers);
    RS_SAFEFREE(op->resp_body);
    op->resp_len = 0;
}

static void op_free(invoke_op_t *op) {
    rs_invoker_t *inv = op->inv;
    if (op->prev) op->prev->next = op->next;
    else inv->ops = op->next;
    if (op->next) op->next->prev = op->prev;
    clear_resp(op);
    rs_kvlist_free(&op->headers);
    free(op);
}

/* rs_op_cancel has cancelled op.run (which aborts the attempt's call); only the freeing is left. */
static void free_op(rs_op_t *o) { op_free((invoke_op_t *)o); }

/* daprd's families and labels (pkg/diagnostics): the caller's sidecar counts the requests it sends and the responses
 * received from the target (src_app_id = where the response came from), the callee's the requests received and the
 * responses sent (dst_app_id = the caller). */
static const rs_metrics_view_t req_sent_view = {
    {"dst_app_id", "method"},
    {{"dapr_runtime_service_invocation_req_sent_total", "The number of requests sent via service invocation.",
      RS_METRIC_COUNTER, 3}},
};
static const rs_metrics_view_t req_recv_view = {
    {"src_app_id", "method"},
    {{"dapr_runtime_service_invocation_req_recv_total", "The number of requests received via service invocation.",
      RS_METRIC_COUNTER, 3}},
};
static const rs_metrics_view_t res_sent_view = {
    {"dst_app_id", "method", "status"},
    {{"dapr_runtime_service_invocation_res_sent_total", "The number of responses sent via service invocation.",
      RS_METRIC_COUNTER, 7}},
};
static const rs_metrics_view_t res_recv_view = {
    {"src_app_id", "method", "status"},
    {{"dapr_runtime_service_invocation_res_recv_total", "The number of responses received via service invocation.",
      RS_METRIC_COUNTER, 7},
     {"dapr_runtime_service_invocation_res_recv_latency_ms", "The latency of service invocation response.",
      RS_METRIC_HISTOGRAM, 7}},
};

static void count_result(invoke_op_t *op, int status) {
    rs_metrics_t *m = op->sc->metrics;
    if (!m) return;
    char st[21];
    rs_utoa((unsigned)status, st);
    const char *values[] = {op->hop ? op->caller : op->app_id, op->method, st};
    const double obs[] = {1, (double)(rs_now_us() - op->start_us) / 1000.0};
    rs_metrics_record(m, op->hop ? &res_sent_view : &res_recv_view, values, obs);
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
    rs_attempt_traceparent(a, op->traceparent); /* traced: this attempt's span is the callee's parent */
    if (op->local) {
        rs_app_request_t ar = {.method = op->verb, .path = op->path, .query = op->query, .headers = &op->headers,
                               .body = op->body, .body_len = op->body_len, .accept = RS_APP_ACCEPT_2XX_3XX};
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
    const char *q = op->query;
    const char *parts[] = {"http://", op->peer, "/v1.0/invoke/", op->app_id, "/method/", op->method,
                           q ? "?" : "", q ? q : "", NULL};
    if (rs_str_join(url, sizeof url, parts) < 0) {
        rs_outcome_error(&o, 0, 1, "URL too long");
        rs_attempt_done(a, &o);
        return;
    }
    rs_http_request_t hr = {.method = op->verb,
                            .url = url,
                            .headers = &op->headers,
                            .body = op->body,
                            .body_len = op->body_len,
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

static void run_done(void *arg, const rs_outcome_t *final) {
    invoke_op_t *op = arg;
    op->op.run = NULL;
    /* Count first, answer last: the front door's reply wakes the caller, often onto this CPU (http/server.c). */
    if (op->have_resp && (final->kind == RS_OUTCOME_OK || final->kind == RS_OUTCOME_ERROR)) {
        count_result(op, op->status);
        filter_reply_headers(&op->resp_headers, op->keep_grpc);
        /* the last attempt's status, headers and body, unchanged */
        rs_invoke_reply_t reply = {.status = op->status, .headers = &op->resp_headers, .body = op->resp_body,
                                   .body_len = op->resp_len};
        op->done(op->arg, &reply, NULL);
    } else {
        count_result(op, 500);
        RS_OP_FAIL(op->done, op->arg, RS_ERR_DIRECT_INVOKE, "failed to invoke, id: %s, err: %s", op->app_id,
                   final->error);
    }
    op_free(op);
}

/* ---------- lifecycle ---------- */

static void free_invoker(rs_sidecar_t *sc, void *arg) {
    if (sc->invoker == arg) sc->invoker = NULL;
    free(arg);
}

static void on_shutdown(rs_sidecar_t *sc, void *arg) {
    rs_invoker_t *inv = arg;
    inv->closed = 1;
    while (inv->ops) {
        invoke_op_t *op = inv->ops;
        if (op->op.run) rs_run_cancel(op->op.run);
        op->op.run = NULL;
        RS_OP_FAIL(op->done, op->arg, RS_ERR_DIRECT_INVOKE, "failed to invoke, id: %s, err: sidecar is shutting down",
                   op->app_id);
        op_free(op);
    }
    /* During a graceful shutdown the loop may still hand us requests: keep the invoker (it refuses them) until
     * rs_sidecar_free runs the hooks again (after the loop); otherwise free it now. */
    if (sc->shutting_down) rs_sidecar_on_shutdown(sc, free_invoker, inv);
    else free_invoker(sc, inv);
}

void rs_ops_invoke_attach(rs_sidecar_t *sc) {
    if (sc->invoker) return;
    rs_invoker_t *inv = rs_xcalloc(1, sizeof *inv);
    gethostname(inv->hostname, sizeof inv->hostname - 1);
    sc->invoker = inv;
    rs_sidecar_on_shutdown(sc, on_shutdown, inv);
}

/* 1: a peer sidecar's hop (the header holds the hop key of our name-resolution table); 0: a client's call (no
 * header); -1: a hop header without the key, i.e. a client posing as a sidecar. */
static int hop_kind(rs_sidecar_t *sc, const rs_kvlist_t *headers) {
    const char *v = rs_kvlist_get_ci(headers, HOP_HEADER);
    if (!v) return 0;
    return sc->nameres && rs_secret_equal(v, rs_nameres_hop_key(sc->nameres)) ? 1 : -1;
}

int rs_ops_invoke_op_is_hop(const rs_op_t *op) { return ((const invoke_op_t *)op)->hop == 1; }

/* "id" or "id.namespace": each part an app id by rs_app_id_check's rule (self-hosted namespaces are empty, so
 * the namespace is checked and then ignored). Returns 0, or -1 with a reason. */
static int check_target(const char *target, size_t *id_len, char *why, size_t whylen) {
    char part[RS_APP_ID_MAX + 2];
    const char *dot = strchr(target, '.');
    size_t n = dot ? (size_t)(dot - target) : strlen(target);
    *id_len = n;
    for (int i = 0; i < (dot ? 2 : 1); i++) {
        const char *p = i == 0 ? target : dot + 1;
        size_t len = i == 0 ? n : strlen(p);
        if (len > RS_APP_ID_MAX) len = RS_APP_ID_MAX + 1; /* (too long either way) */
        memcpy(part, p, len);
        part[len] = '\0';
        if (rs_app_id_check(part, why, whylen) != 0) {
            if (i == 1) snprintf(why, whylen, "the namespace after '.' is not valid");
            return -1;
        }
    }
    return 0;
}

rs_op_t *rs_ops_invoke(rs_sidecar_t *sc, const rs_invoke_request_t *req, rs_invoke_done_fn done, void *arg) {
    rs_invoker_t *inv = sc->invoker;
    if (!inv || inv->closed) {
        RS_OP_FAIL(done, arg, RS_ERR_DIRECT_INVOKE, "failed to invoke, err: sidecar is shutting down");
        return NULL;
    }
    const char *app_id = req->app_id ? req->app_id : "";
    if (!*app_id) {
        RS_OP_FAIL(done, arg, RS_ERR_DIRECT_INVOKE_NO_APP_ID,
                   "failed getting app id either from the URL path or the header dapr-app-id");
        return NULL;
    }
    size_t id_len;
    char why[128];
    if (check_target(app_id, &id_len, why, sizeof why) != 0) {
        RS_OP_FAIL(done, arg, RS_ERR_DIRECT_INVOKE_INVALID, "invalid app id: %s", why);
        return NULL;
    }
    int hop = hop_kind(sc, req->headers);
    if (hop < 0) {
        /* The callee's sidecar trusts a hop's dapr-caller-app-id and hands the app its APP_API_TOKEN: only a peer
         * sidecar may make one. */
        RS_OP_FAIL(done, arg, RS_ERR_PERMISSION_DENIED,
                   "failed to invoke, id: %.*s, err: the %s header is for sidecars only (it lacks the hop key)",
                   (int)id_len, app_id, HOP_HEADER);
        return NULL;
    }
    const char *caller = sc->cfg.app_id, *hdr;
    if (hop && (hdr = rs_kvlist_get_ci(req->headers, "dapr-caller-app-id"))) caller = hdr;
    if (rs_app_id_check(caller, why, sizeof why) != 0) { /* (a peer sends its own, checked app id) */
        RS_OP_FAIL(done, arg, RS_ERR_DIRECT_INVOKE_INVALID, "invalid dapr-caller-app-id: %s", why);
        return NULL;
    }
    int local = strlen(sc->cfg.app_id) == id_len && strncmp(app_id, sc->cfg.app_id, id_len) == 0;
    if (hop && !local) {
        /* A peer resolved us for another app id: a stale registration (e.g. a reused port). */
        RS_OP_FAIL(done, arg, RS_ERR_DIRECT_INVOKE, "failed to invoke, id: %.*s, err: wrong sidecar (this is %s)",
                   (int)id_len, app_id, sc->cfg.app_id);
        return NULL;
    }

    const char *method = req->method ? req->method : "";
    size_t method_len = strlen(method);
    /* (room for the cleaned method: rs_url_path_clean may escape every byte) */
    invoke_op_t *op = rs_xcalloc(1, sizeof *op + id_len + 1 + 1 + 3 * method_len + 1);
    op->op.free = free_op;
    op->inv = inv;
    op->sc = sc;
    op->verb = req->verb;
    op->query = req->query;
    op->body = req->body;
    op->body_len = req->body_len;
    op->app_id = memcpy(op->strings, app_id, id_len);
    op->app_id[id_len] = '\0';
    op->path = op->strings + id_len + 1;
    op->path[0] = '/';
    op->method = op->path + 1;
    /* The app and the resiliency policy see the method cleaned, as daprd's (GHSA-85gx-3qv6-4463): no "..",
     * "." or empty segments, %2F a separator, raw bytes escaped; control characters, '#' and '?' refused. */
    if (rs_url_path_clean(method, method_len, op->method, why, sizeof why) < 0) {
        free(op);
        RS_OP_FAIL(done, arg, RS_ERR_DIRECT_INVOKE_INVALID, "failed to invoke, id: %.*s, err: invalid method: %s",
                   (int)id_len, app_id, why);
        return NULL;
    }
    op->done = done;
    op->arg = arg;
    rs_kvlist_init_refs(&op->headers);
    op->local = local;
    op->hop = hop;
    op->keep_grpc = hop || req->grpc_status;
    op->start_us = rs_now_us();
    build_headers(op, req, caller, inv->hostname);
    op->caller = rs_kvlist_get_ci(&op->headers, "dapr-caller-app-id");
    if (!op->caller) op->caller = "";
    op->next = inv->ops;
    if (inv->ops) inv->ops->prev = op;
    inv->ops = op;
    if (sc->metrics) { /* counted before the send, which wakes the peer (see run_done) */
        const char *values[] = {hop ? op->caller : op->app_id, op->method};
        const double one = 1;
        rs_metrics_record(sc->metrics, hop ? &req_recv_view : &req_sent_view, values, &one);
    }
    /* The caller's sidecar applies the target app's policy; the callee side of a hop delivers once. */
    rs_policy_t *policy = hop ? NULL : rs_resiliency_app_policy(sc->resiliency, op->app_id, op->method);
    /* Traced (a sampled inbound span): every attempt is a CLIENT span, the parent of the callee's SERVER span. The
     * callee side of a hop is not: its inbound span is the delivery. */
    rs_run_trace_t tr = {0}, *trp = NULL;
    rs_kvlist_t tattrs;
    char tname[512];
    const char *tparent = sc->tracer && !hop ? rs_kvlist_get_ci(req->headers, "traceparent") : NULL;
    if (tparent) {
        const char *nparts[] = {"CallLocal/", op->app_id, "/", op->method, NULL};
        rs_str_join(tname, sizeof tname, nparts);
        rs_kvlist_init_refs(&tattrs);
        rs_kvlist_add(&tattrs, "rpc.service", "ServiceInvocation");
        rs_kvlist_add(&tattrs, "net.peer.name", op->app_id);
        tr = (rs_run_trace_t){.tracer = sc->tracer, .parent = tparent, .name = tname, .kind = RS_SPAN_CLIENT,
                              .attrs = &tattrs};
        trp = &tr;
    }
    op->op.run = rs_run_start_traced(sc->base, policy, trp, attempt_start, attempt_abort, run_done, op); /* sends at once */
    if (trp) rs_kvlist_free(&tattrs);
    rs_policy_release(policy);
    if (!op->op.run) {
        RS_OP_FAIL(done, arg, RS_ERR_DIRECT_INVOKE, "failed to invoke, id: %s, err: out of memory", op->app_id);
        op_free(op);
        return NULL;
    }
    return &op->op;
}
