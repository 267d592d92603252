/* SPDX-License-Identifier: MIT */
/* HTTP adapter of the output binding API (spec §2.4): POST|PUT /v1.0/bindings/{name}
 * with {"data":…,"metadata":{…},"operation":"…"}.
 *
 * `data` is re-marshalled the way Go does it (go_json.h), so a JSON string
 * reaches the component with its quotes. The invoke itself (checks, policy,
 * metrics) is ops/bindings.c. Answers: 200 with the data
 * (Content-Type application/json) and Metadata.<k> headers, 204 when the
 * component returns nothing, 400 ERR_MALFORMED_REQUEST for a body that is not
 * such an object, and 500 ERR_INVOKE_OUTPUT_BINDING otherwise. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sidecar/api/api.h"
#include "sidecar/components/bindings/go_json.h"
#include "sidecar/ops/bindings.h"
#include "sidecar/tracing/baggage.h"

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

/* The callback's argument is the HTTP request: it stays alive until the reply (or the hang-up). */
static void on_done(void *arg, const rs_binding_reply_t *reply, const rs_dapr_error_t *err) {
    rs_http_req_t *r = arg;
    rs_http_req_on_close(r, NULL, NULL);
    if (err) {
        rs_api_reply_dapr_error(r, err);
        return;
    }
    if (!reply->has_data) {
        rs_http_reply_empty(r, 204);
        return;
    }
    rs_kvlist_t h = {0};
    for (size_t i = 0; i < reply->metadata->len; i++) {
        char raw[512], name[512];
        snprintf(raw, sizeof raw, "metadata.%s", reply->metadata->items[i].key);
        canonical_header(raw, name, sizeof name);
        rs_kvlist_add(&h, name, reply->metadata->items[i].value);
    }
    /* Dapr answers application/json whatever the bytes are (spec §2.4). */
    rs_kvlist_set(&h, "Content-Type", "application/json");
    rs_http_reply(r, 200, &h, reply->data, reply->len);
    rs_kvlist_free(&h);
}

/* The client left: cancel the operation (and with it the component's call). */
static void on_client_gone(rs_http_req_t *r, void *arg) {
    rs_op_cancel(arg);
    rs_http_reply_empty(r, 499);
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
    rs_binding_request_t req = {.name = name, .operation = json_is_string(op) ? json_string_value(op) : ""};
    rs_kvlist_t metadata = {0};
    if (json_is_object(md))
        json_object_foreach(md, mk, mv) if (json_is_string(mv)) rs_kvlist_set(&metadata, mk, json_string_value(mv));
    /* Trace context travels to the component in the metadata, as in Dapr. */
    const char *tp = rs_http_req_header(r, "traceparent"), *ts = rs_http_req_header(r, "tracestate");
    if (tp && *tp) rs_kvlist_set(&metadata, "traceparent", tp);
    if (ts && *ts) rs_kvlist_set(&metadata, "tracestate", ts);
    /* and W3C baggage, joined and checked as daprd does (a malformed value is refused, tracing on or off) */
    char *bag, why[160];
    if (rs_baggage_get(&r->headers, &bag, why, sizeof why) != 0) {
        rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "invalid baggage header: %s", why);
        rs_kvlist_free(&metadata);
        json_decref(body);
        return;
    }
    if (bag && *bag) rs_kvlist_set(&metadata, "baggage", bag);
    free(bag);
    req.metadata = &metadata;
    char *bytes = rs_go_json_marshal(data, &req.len); /* a missing data is null */
    req.data = bytes;
    rs_op_t *o = rs_ops_binding_invoke(sc, &req, on_done, r);
    if (o) rs_http_req_on_close(r, on_client_gone, o);
    free(bytes);
    rs_kvlist_free(&metadata);
    json_decref(body);
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
 * connections' close callbacks (on_client_gone) cancel every operation in
 * flight, and with it the component's call. */
void rs_api_bindings_register(rs_sidecar_t *sc) { rs_http_server_add(sc->api, handle_bindings, sc); }
