/* SPDX-License-Identifier: MIT */
/* Output binding API (spec §2.4): POST|PUT /v1.0/bindings/{name} with
 * {"data":…,"metadata":{…},"operation":"…"}.
 *
 * `data` is re-marshalled the way Go does it (go_json.h), so a JSON string
 * reaches the component with its quotes. The call runs under the component's
 * outbound resiliency policy; each attempt is one component invoke, and a
 * timed-out attempt cancels the component's call. Answers: 200 with the data
 * (Content-Type application/json) and Metadata.<k> headers, 204 when the
 * component returns nothing, 400 ERR_MALFORMED_REQUEST for a body that is not
 * such an object, and 500 ERR_INVOKE_OUTPUT_BINDING otherwise. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/log.h"
#include "sidecar/api/api.h"
#include "sidecar/components/bindings/bindings.h"
#include "sidecar/components/bindings/go_json.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/resiliency/run.h"

typedef struct out_req {
    rs_http_req_t *r;
    rs_sidecar_t *sc;
    rs_component_t *c;
    char *operation;
    char *data;
    size_t len;
    rs_kvlist_t metadata;
    rs_run_t *run;
    rs_attempt_t *attempt;
    rs_binding_call_t *call;
    /* the successful answer, copied out of the component's callback */
    int has_resp;
    char *resp_data;
    size_t resp_len;
    rs_kvlist_t resp_md;
    int64_t start_us;
} out_req_t;

static void out_req_free(out_req_t *o) {
    free(o->operation);
    free(o->data);
    rs_kvlist_free(&o->metadata);
    free(o->resp_data);
    rs_kvlist_free(&o->resp_md);
    free(o);
}

/* Go's textproto.CanonicalMIMEHeaderKey: "metadata.blobName" -> "Metadata.blobname". */
static void canonical_header(const char *in, char *out, size_t outlen) {
    size_t n = strlen(in);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= ' ' || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c)) { /* not a token: Go leaves it alone */
            snprintf(out, outlen, "%s", in);
            return;
        }
    }
    int upper = 1;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outlen; i++) {
        char c = in[i];
        out[o++] = upper ? (char)toupper((unsigned char)c) : (char)tolower((unsigned char)c);
        upper = c == '-';
    }
    out[o] = 0;
}

static void reply(out_req_t *o, const rs_outcome_t *final) {
    rs_http_req_t *r = o->r;
    if (final->kind != RS_OUTCOME_OK) {
        rs_api_reply_err(r, RS_ERR_INVOKE_OUTPUT_BINDING, "error invoking output binding %s: %s", o->c->name,
                            final->error);
        return;
    }
    if (!o->has_resp) {
        rs_http_reply_empty(r, 204);
        return;
    }
    rs_kvlist_t h = {0};
    for (size_t i = 0; i < o->resp_md.len; i++) {
        char raw[512], name[512];
        snprintf(raw, sizeof raw, "metadata.%s", o->resp_md.items[i].key);
        canonical_header(raw, name, sizeof name);
        rs_kvlist_add(&h, name, o->resp_md.items[i].value);
    }
    /* Dapr answers application/json whatever the bytes are (spec §2.4). */
    rs_kvlist_set(&h, "Content-Type", "application/json");
    rs_http_reply(r, 200, &h, o->resp_data, o->resp_len);
    rs_kvlist_free(&h);
}

static void on_run_done(void *arg, const rs_outcome_t *final) {
    out_req_t *o = arg;
    o->run = NULL;
    /* daprd's component metrics: dapr_component_output_binding_count / _latencies. */
    const char *labels[] = {"component", o->c->name, "operation", o->operation,
                            "success", final->kind == RS_OUTCOME_OK ? "true" : "false", NULL};
    rs_metrics_inc(o->sc->metrics, "dapr_component_output_binding_count", "output binding calls", labels, 1);
    rs_metrics_observe(o->sc->metrics, "dapr_component_output_binding_latencies",
                       "output binding call latency (ms)", labels, (double)(rs_now_us() - o->start_us) / 1000.0);
    reply(o, final);
    out_req_free(o);
}

static void on_invoke_done(void *arg, int ok, const rs_binding_resp_t *resp, const char *err) {
    out_req_t *o = arg;
    o->call = NULL;
    rs_outcome_t oc;
    if (ok) {
        free(o->resp_data);
        rs_kvlist_free(&o->resp_md);
        o->resp_data = NULL;
        o->resp_len = 0;
        o->has_resp = resp != NULL;
        if (resp) {
            o->resp_data = rs_xmalloc(resp->len + 1);
            if (resp->len) memcpy(o->resp_data, resp->data, resp->len);
            o->resp_data[resp->len] = 0;
            o->resp_len = resp->len;
            rs_kvlist_copy(&o->resp_md, &resp->metadata);
        }
        rs_outcome_ok(&oc);
    } else {
        /* Component errors carry no status code: the retry policy treats them as retriable. */
        rs_outcome_error(&oc, 0, 0, "%s", err ? err : "unknown error");
    }
    rs_attempt_done(o->attempt, &oc);
}

static void start_attempt(rs_attempt_t *a, void *arg) {
    out_req_t *o = arg;
    o->attempt = a;
    const rs_binding_ops_t *ops = rs_binding_ops(o->c);
    /* invoke returns NULL when it already called back (local components). */
    o->call = ops->invoke(o->c, o->operation, o->data, o->len, &o->metadata, on_invoke_done, o);
}

static void abort_attempt(rs_attempt_t *a, void *arg) {
    out_req_t *o = arg;
    (void)a;
    if (o->call) rs_binding_ops(o->c)->cancel(o->c, o->call);
    o->call = NULL;
}

static void on_client_gone(rs_http_req_t *r, void *arg) {
    out_req_t *o = arg;
    if (o->run) rs_run_cancel(o->run);
    o->run = NULL;
    rs_http_reply_empty(r, 499);
    out_req_free(o);
}

/* The JSON value of `name` in o: an exact key first, then a case-insensitive one, as Go's decoder matches. */
static json_t *field(json_t *o, const char *name) {
    json_t *v = json_object_get(o, name);
    if (v) return v;
    const char *k;
    json_object_foreach(o, k, v) if (strcasecmp(k, name) == 0) return v;
    return NULL;
}

static const char *json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    default: return "null";
    }
}

static void invoke_binding(rs_http_req_t *r, rs_sidecar_t *sc, const char *name) {
    json_error_t e;
    /* Go's json.Decoder: the first value counts, numbers are float64. */
    json_t *body = json_loadb(r->body, r->body_len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK |
                                                        JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &e);
    if (!body) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "failed deserializing HTTP body: %s",
                            r->body_len ? e.text : "EOF");
        return;
    }
    if (!json_is_object(body) && !json_is_null(body)) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST,
                            "failed deserializing HTTP body: json: cannot unmarshal %s into Go value of type "
                            "http.OutputBindingRequest", json_kind(body));
        json_decref(body);
        return;
    }
    json_t *data = json_is_object(body) ? field(body, "data") : NULL;
    json_t *md = json_is_object(body) ? field(body, "metadata") : NULL;
    json_t *op = json_is_object(body) ? field(body, "operation") : NULL;
    const char *bad = NULL;
    if (op && !json_is_string(op) && !json_is_null(op)) bad = "operation";
    if (md && !json_is_object(md) && !json_is_null(md)) bad = "metadata";
    const char *mk;
    json_t *mv;
    if (json_is_object(md))
        json_object_foreach(md, mk, mv) if (!json_is_string(mv) && !json_is_null(mv)) bad = "metadata";
    if (bad) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST,
                            "failed deserializing HTTP body: json: cannot unmarshal into Go struct field "
                            "OutputBindingRequest.%s", bad);
        json_decref(body);
        return;
    }
    const char *operation = json_is_string(op) ? json_string_value(op) : "";
    if (!*operation) {
        rs_api_reply_err(r, RS_ERR_INVOKE_OUTPUT_BINDING,
                            "error invoking output binding %s: operation field is missing from request", name);
        json_decref(body);
        return;
    }
    rs_component_t *c = rs_sidecar_component(sc, RS_KIND_BINDING, name);
    if (!c || !rs_binding_is_output(c)) {
        rs_api_reply_err(r, RS_ERR_INVOKE_OUTPUT_BINDING,
                            "error invoking output binding %s: couldn't find output binding %s", name, name);
        json_decref(body);
        return;
    }
    const rs_binding_ops_t *ops = rs_binding_ops(c);
    int supported = 0;
    char list[512] = "";
    for (size_t i = 0; ops->operations && ops->operations[i]; i++) {
        if (strcmp(ops->operations[i], operation) == 0) supported = 1;
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? " " : "", ops->operations[i]);
    }
    if (!supported) {
        rs_api_reply_err(r, RS_ERR_INVOKE_OUTPUT_BINDING,
                            "error invoking output binding %s: binding %s does not support operation %s. "
                            "supported operations:%s", name, name, operation, list);
        json_decref(body);
        return;
    }
    out_req_t *o = rs_xcalloc(1, sizeof *o);
    o->r = r;
    o->sc = sc;
    o->c = c;
    o->operation = rs_strdup(operation);
    o->start_us = rs_now_us();
    o->data = rs_go_json_marshal(data, &o->len); /* a missing data is null */
    if (json_is_object(md))
        json_object_foreach(md, mk, mv) if (json_is_string(mv)) rs_kvlist_set(&o->metadata, mk, json_string_value(mv));
    json_decref(body);
    /* Trace context travels to the component in the metadata, as in Dapr. */
    const char *tp = rs_http_req_header(r, "traceparent"), *ts = rs_http_req_header(r, "tracestate");
    if (tp && *tp) rs_kvlist_set(&o->metadata, "traceparent", tp);
    if (ts && *ts) rs_kvlist_set(&o->metadata, "tracestate", ts);
    rs_policy_t *policy = rs_resiliency_component_policy(sc->resiliency, c, RS_DIR_OUTBOUND);
    o->run = rs_run_start(sc->base, policy, start_attempt, abort_attempt, on_run_done, o);
    if (policy) rs_policy_release(policy);
    if (!o->run) {
        rs_api_reply_err(r, RS_ERR_INVOKE_OUTPUT_BINDING, "error invoking output binding %s: out of memory",
                            name);
        out_req_free(o);
        return;
    }
    rs_http_req_on_close(r, on_client_gone, o);
}

static int handle_bindings(rs_http_req_t *r, void *ctx) {
    rs_sidecar_t *sc = ctx;
    const char *name = rs_api_match(r, "/v1.0/bindings/");
    /* {name} is one path segment; anything else falls through like an unmatched Dapr route. */
    if (!name || !*name || strchr(name, '/')) return 0;
    if (strcmp(r->method, "POST") != 0 && strcmp(r->method, "PUT") != 0) return 0;
    rs_http_req_set_route(r, "/v1.0/bindings/{name}");
    invoke_binding(r, sc, name);
    return 1;
}

/* At shutdown the API server is freed before the components are closed; its
 * connections' close callbacks (on_client_gone) cancel every run in flight,
 * and with it the component's call. */
void rs_api_bindings_register(rs_sidecar_t *sc) { rs_http_server_add(sc->api, handle_bindings, sc); }
