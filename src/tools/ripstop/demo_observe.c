/* SPDX-License-Identifier: MIT */
#include "tools/ripstop/demo_observe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

/* ---- loyalty state: one GET per customer, gathered ---- */

struct loyalty_op {
    rs_observe_json_fn done;
    void *arg;
    json_t *out;
    int pending, failed;
};

struct loyalty_one {
    struct loyalty_op *op;
    int id;
};

static void loyalty_finish(struct loyalty_op *op) {
    if (--op->pending > 0) return;
    if (op->failed) {
        json_decref(op->out);
        op->out = NULL;
    }
    op->done(op->arg, op->out);
    free(op);
}

/* A count read from a state store, as an integer: 0 unless a number within +-1e15 (a cast of 1e300 would be
 * undefined behaviour). */
static json_int_t whole(const json_t *v) {
    double d = json_is_number(v) ? json_number_value(v) : 0;
    return d >= -1e15 && d <= 1e15 ? (json_int_t)d : 0;
}

static void on_loyalty(void *arg, rs_http_response_t *resp) {
    struct loyalty_one *one = arg;
    struct loyalty_op *op = one->op;
    if (resp->result != RS_HTTP_OK || (resp->status != 200 && resp->status != 204)) {
        op->failed = 1;
    } else if (resp->status == 200 && resp->body.len > 0) {
        json_t *v = json_loadb(resp->body.data, resp->body.len, 0, NULL);
        if (json_is_string(v)) { /* stored as a JSON string holding JSON */
            json_t *inner = json_loads(json_string_value(v), 0, NULL);
            json_decref(v);
            v = inner;
        }
        if (json_is_object(v)) {
            json_t *p = json_object_get(v, "loyaltyPoints"), *c = json_object_get(v, "orderCount");
            char key[16];
            snprintf(key, sizeof key, "%d", one->id);
            json_object_set_new(op->out, key, json_pack("{s:I, s:I}", "loyaltyPoints", whole(p), "orderCount", whole(c)));
        }
        json_decref(v);
    }
    free(one);
    loyalty_finish(op);
}

void rs_observe_loyalty(rs_http_client_t *h, int port, const char *store, int ncustomers, rs_observe_json_fn done,
                        void *arg) {
    struct loyalty_op *op = rs_xcalloc(1, sizeof *op);
    op->done = done;
    op->arg = arg;
    op->out = json_object();
    op->pending = 1; /* held until every request is out, so done cannot run early */
    for (int id = 1; id <= ncustomers; id++) {
        char url[256];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/v1.0/state/%s/%d", port, store, id);
        struct loyalty_one *one = rs_xcalloc(1, sizeof *one);
        one->op = op;
        one->id = id;
        rs_http_request_t req = {.method = "GET", .url = url, .timeout_ms = 5000, .max_response = 1 << 20};
        op->pending++;
        if (!rs_http_send(h, &req, on_loyalty, one)) {
            free(one);
            op->failed = 1;
            op->pending--;
        }
    }
    loyalty_finish(op);
}

/* ---- blob listing ---- */

struct int_op {
    rs_observe_int_fn done;
    void *arg;
};

static void on_blobs(void *arg, rs_http_response_t *resp) {
    struct int_op *op = arg;
    int n = -1;
    if (resp->result == RS_HTTP_OK && resp->status == 200) {
        json_t *v = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
        if (json_is_array(v)) n = (int)json_array_size(v);
        else if (json_is_object(v)) {
            /* some bindings wrap the list */
            const char *k;
            json_t *x;
            json_object_foreach(v, k, x) if (json_is_array(x)) n = (int)json_array_size(x);
        }
        json_decref(v);
    } else if (resp->result == RS_HTTP_OK && resp->status == 204) {
        n = 0;
    }
    op->done(op->arg, n);
    free(op);
}

void rs_observe_blobs(rs_http_client_t *h, int port, const char *binding, rs_observe_int_fn done, void *arg) {
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1.0/bindings/%s", port, binding);
    static const char body[] = "{\"operation\":\"list\",\"data\":{\"maxResults\":5000}}";
    rs_kvlist_t hdr = {0};
    rs_kvlist_set(&hdr, "Content-Type", "application/json");
    struct int_op *op = rs_xcalloc(1, sizeof *op);
    op->done = done;
    op->arg = arg;
    rs_http_request_t req = {.method = "POST", .url = url, .headers = &hdr, .body = body, .body_len = sizeof body - 1,
                             .timeout_ms = 5000, .max_response = 16 << 20};
    if (!rs_http_send(h, &req, on_blobs, op)) {
        free(op);
        done(arg, -1);
    }
    rs_kvlist_free(&hdr);
}

/* ---- breaker gauge ---- */

int rs_observe_parse_breaker(const char *text) {
    int best = 0;
    static const char name[] = "dapr_resiliency_cb_state";
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        if (strncmp(p, name, sizeof name - 1) == 0 && (p[sizeof name - 1] == '{' || p[sizeof name - 1] == ' ')) {
            const char *sp = p + sizeof name - 1;
            if (*sp == '{') {
                sp = strchr(sp, '}');
                if (!sp || (eol && sp > eol)) goto next;
                sp++;
            }
            double v = strtod(sp, NULL);
            if ((int)v > best) best = (int)v;
        }
    next:
        p = eol ? eol + 1 : NULL;
    }
    return best;
}

/* ---- resiliency counters ---- */

/* The value of a sample line "name{labels} value" (labels may hold spaces inside quotes; none of ours do). */
static double sample_value(const char *line, const char *eol) {
    const char *close = memchr(line, '}', (size_t)(eol - line));
    return close ? strtod(close + 1, NULL) : 0;
}

static int has_label(const char *line, const char *eol, const char *label) {
    size_t n = strlen(label);
    for (const char *q = line; q + n <= eol; q++)
        if (!memcmp(q, label, n)) return 1;
    return 0;
}

void rs_observe_parse_resiliency(const char *text, rs_res_counts_t *out) {
    memset(out, 0, sizeof *out);
    static const char act[] = "dapr_resiliency_activations_total{", ing[] = "dapr_component_pubsub_ingress_count{";
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        const char *end = eol ? eol : p + strlen(p);
        if (!strncmp(p, act, sizeof act - 1)) {
            if (has_label(p, end, "policy=\"retry\"")) out->retries += sample_value(p, end);
            else if (has_label(p, end, "policy=\"timeout\"")) out->timeouts += sample_value(p, end);
        } else if (!strncmp(p, ing, sizeof ing - 1) && has_label(p, end, "process_status=\"retry\"")) {
            out->redeliveries += sample_value(p, end);
        }
        p = eol ? eol + 1 : NULL;
    }
}

/* ---- one scrape of a sidecar's /metrics, read for both ---- */

struct metrics_op {
    rs_observe_metrics_fn done;
    void *arg;
};

static void on_metrics(void *arg, rs_http_response_t *resp) {
    struct metrics_op *op = arg;
    rs_sidecar_metrics_t m;
    int ok = resp->result == RS_HTTP_OK && resp->status == 200;
    if (ok) {
        const char *text = resp->body.data ? resp->body.data : "";
        m.breaker = rs_observe_parse_breaker(text);
        rs_observe_parse_resiliency(text, &m.counts);
    }
    op->done(op->arg, ok ? &m : NULL);
    free(op);
}

void rs_observe_metrics(rs_http_client_t *h, int port, rs_observe_metrics_fn done, void *arg) {
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    struct metrics_op *op = rs_xcalloc(1, sizeof *op);
    op->done = done;
    op->arg = arg;
    rs_http_request_t req = {.method = "GET", .url = url, .timeout_ms = 3000, .max_response = 8 << 20};
    if (!rs_http_send(h, &req, on_metrics, op)) {
        free(op);
        done(arg, NULL);
    }
}
