/* SPDX-License-Identifier: MIT */
/* gRPC adapter of service invocation: InvokeService (ops/invoke.c does the
 * call, local or through the peer's sidecar, under the target's policy).
 *
 * The operation borrows its request until it ends, so the call's copy of
 * it lives in `struct invocation` until the callback or the cancel. As in
 * daprd (gRPC in front of an HTTP app): the verb comes from http_extension
 * (required, not NONE or CONNECT), the body is the Any's value with
 * content_type as Content-Type, gRPC metadata go along as headers, a 2xx
 * answer is the InvokeResponse, and any other status becomes the gRPC code
 * Dapr maps it to, with the HTTP reason phrase as message and a
 * google.rpc.ErrorInfo (domain dapr.io, metadata http.code and the first 63
 * bytes of the body as http.error_message). An app that speaks gRPC
 * answers with its own status instead, which the app channel carries in the
 * answer's RS_APP_GRPC_* headers (app_channel.h, also through the peer's
 * sidecar): it is passed on as it is, code, message and details, as daprd
 * passes a gRPC app's status to a gRPC caller. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/encoding.h"
#include "http/grpc_wire.h"
#include "sidecar/appchannel/app_channel.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "sidecar/grpc/api.h"
#include "sidecar/ops/invoke.h"

struct invocation {
    rs_grpc_call_t *call;
    rs_op_t *op;
    rs_invoke_request_t req;
    char *app_id, *method, *query;
    rs_kvlist_t headers;
    void *body;
};

static void invocation_free(struct invocation *inv) {
    free(inv->app_id);
    free(inv->method);
    free(inv->query);
    rs_kvlist_free(&inv->headers);
    free(inv->body);
    free(inv);
}

/* Go's net/http StatusText for the statuses an app usually answers with ("" otherwise, as Go). */
static const char *status_text(int code) {
    static const struct {
        int code;
        const char *text;
    } t[] = {{400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
             {405, "Method Not Allowed"}, {408, "Request Timeout"}, {409, "Conflict"}, {410, "Gone"},
             {413, "Request Entity Too Large"}, {415, "Unsupported Media Type"}, {422, "Unprocessable Entity"},
             {429, "Too Many Requests"}, {500, "Internal Server Error"}, {501, "Not Implemented"},
             {502, "Bad Gateway"}, {503, "Service Unavailable"}, {504, "Gateway Timeout"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].code == code) return t[i].text;
    return "";
}

/* Dapr's CodeFromHTTPStatus (pkg/messaging/v1). */
static rs_grpc_code_t code_from_http(int s) {
    switch (s) {
    case 408: return RS_GRPC_CANCELLED;
    case 400: return RS_GRPC_INTERNAL;
    case 504: return RS_GRPC_DEADLINE_EXCEEDED;
    case 404: return RS_GRPC_NOT_FOUND;
    case 409: return RS_GRPC_ALREADY_EXISTS;
    case 403: return RS_GRPC_PERMISSION_DENIED;
    case 401: return RS_GRPC_UNAUTHENTICATED;
    case 429: return RS_GRPC_RESOURCE_EXHAUSTED;
    case 501: return RS_GRPC_UNIMPLEMENTED;
    case 503: return RS_GRPC_UNAVAILABLE;
    default: return RS_GRPC_UNKNOWN;
    }
}

/* The app's non-2xx answer as daprd gives it: code, reason phrase, ErrorInfo in grpc-status-details-bin. */
static void fail_with_http_status(rs_grpc_call_t *call, const rs_invoke_reply_t *r) {
    char code[12], detail[64];
    snprintf(code, sizeof code, "%d", r->status);
    size_t dl = r->body_len < sizeof detail - 1 ? r->body_len : sizeof detail - 1;
    memcpy(detail, r->body ? r->body : "", dl);
    detail[dl] = '\0';
    rs_kvlist_t md = {0};
    rs_kvlist_add(&md, "http.code", code);
    char *clean = rs_utf8_sanitize(detail, dl, NULL); /* a protobuf string must be UTF-8; the cut may split one */
    rs_kvlist_add(&md, "http.error_message", clean);
    free(clean);
    Google__Rpc__ErrorInfo info = GOOGLE__RPC__ERROR_INFO__INIT;
    info.reason = (char *)status_text(r->status);
    info.domain = RS_DAPR_ERROR_DOMAIN;
    info.n_metadata = md.len;
    info.metadata = rs_grpc_map_build(&md, &google__rpc__error_info__metadata_entry__descriptor);
    const ProtobufCMessage *details[1] = {&info.base};
    rs_grpc_call_fail_details(call, code_from_http(r->status), status_text(r->status), details, 1);
    free(info.metadata);
    rs_kvlist_free(&md);
}

/* A gRPC app's own status in the answer (app_channel.h): finishes the call with it and returns 1; 0 if there is
 * none (or it is not one: codes 1..16 only). */
static int fail_with_app_status(rs_grpc_call_t *call, const rs_invoke_reply_t *r) {
    const char *code = rs_kvlist_get_ci(r->headers, RS_APP_GRPC_STATUS);
    long long c;
    if (!code || rs_parse_int64(code, &c) != 0 || c < 1 || c > 16) return 0;
    const char *enc = rs_kvlist_get_ci(r->headers, RS_APP_GRPC_MESSAGE);
    char msg[RS_DAPR_MSG_MAX];
    rs_grpc_message_decode(enc ? enc : "", enc ? strlen(enc) : 0, msg, sizeof msg);
    /* grpc-status-details-bin: unpadded base64 of a google.rpc.Status, passed on when it decodes */
    const char *b64 = rs_kvlist_get_ci(r->headers, RS_APP_GRPC_DETAILS);
    unsigned char *details = NULL;
    int dlen = 0;
    size_t n = b64 ? strlen(b64) : 0;
    if (n && n < 64 * 1024) {
        char *padded = rs_xmalloc(n + 4);
        memcpy(padded, b64, n);
        while (n % 4) padded[n++] = '=';
        padded[n] = '\0';
        details = rs_xmalloc(n / 4 * 3 + 1);
        dlen = EVP_DecodeBlock(details, (const unsigned char *)padded, (int)n);
        for (size_t i = n; dlen > 0 && i > 0 && padded[i - 1] == '='; i--) dlen--; /* EVP counts padding as bytes */
        free(padded);
    }
    rs_grpc_call_fail(call, (rs_grpc_code_t)c, msg, dlen > 0 ? details : NULL, dlen > 0 ? (size_t)dlen : 0);
    free(details);
    return 1;
}

static void on_done(void *arg, rs_invoke_reply_t *reply, const rs_dapr_error_t *err) {
    struct invocation *inv = arg;
    rs_grpc_call_t *call = inv->call;
    invocation_free(inv);
    if (err) {
        rs_grpc_reply_dapr_error(call, err);
        return;
    }
    if (reply->status < 200 || reply->status > 299) {
        if (!fail_with_app_status(call, reply)) fail_with_http_status(call, reply);
        return;
    }
    Google__Protobuf__Any data = GOOGLE__PROTOBUF__ANY__INIT;
    data.value = (ProtobufCBinaryData){reply->body_len, (uint8_t *)reply->body};
    Dapr__Proto__Common__V1__InvokeResponse r = DAPR__PROTO__COMMON__V1__INVOKE_RESPONSE__INIT;
    r.data = &data;
    const char *ct = rs_kvlist_get_ci(reply->headers, "content-type");
    if (ct) r.content_type = (char *)ct;
    rs_grpc_call_reply(call, &r.base);
}

static void cancel_invocation(void *arg) {
    struct invocation *inv = arg;
    rs_op_cancel(inv->op);
    invocation_free(inv);
}

static const char *verb_name(Dapr__Proto__Common__V1__HTTPExtension__Verb v) {
    static const char *const names[] = {NULL, "GET", "HEAD", "POST", "PUT", "DELETE", NULL, "OPTIONS", "TRACE", "PATCH"};
    return v >= 0 && (size_t)v < sizeof names / sizeof names[0] ? names[v] : NULL;
}

/* Metadata a gRPC client sends about the transport itself, not meant for the app. */
static int transport_header(const char *name) {
    return strcmp(name, "te") == 0 || strcmp(name, "content-type") == 0 || strncmp(name, "grpc-", 5) == 0 ||
           strcmp(name, "baggage") == 0; /* passed on joined, below */
}

static void invoke_service(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__InvokeServiceRequest *in = (const void *)m;
    const Dapr__Proto__Common__V1__InvokeRequest *msg = in->message;
    if (!msg || !msg->http_extension) {
        rs_grpc_reply_err(call, RS_ERR_DIRECT_INVOKE, "failed to invoke, id: %s, err: missing HTTP extension field",
                          in->id);
        return;
    }
    const char *verb = verb_name(msg->http_extension->verb);
    if (!verb) {
        rs_grpc_reply_err(call, RS_ERR_DIRECT_INVOKE, "failed to invoke, id: %s, err: invalid HTTP verb", in->id);
        return;
    }
    struct invocation *inv = rs_xcalloc(1, sizeof *inv);
    inv->call = call;
    inv->app_id = rs_strdup(in->id);
    /* A gRPC method is a raw name, not a URL path: its '%' and other bytes are literal (as in daprd), so it is
     * escaped here and cleaned with every other method by the operation. */
    inv->method = rs_percent_encode_path(msg->method[0] == '/' ? msg->method + 1 : msg->method);
    if (*msg->http_extension->querystring) inv->query = rs_strdup(msg->http_extension->querystring);
    size_t len = msg->data ? msg->data->value.len : 0;
    inv->body = rs_xmalloc(len + 1);
    if (len) memcpy(inv->body, msg->data->value.data, len);
    if (*msg->content_type) rs_kvlist_add(&inv->headers, "Content-Type", msg->content_type);
    rs_grpc_call_copy_metadata(call, transport_header, &inv->headers);
    /* W3C baggage as one header, its metadata values joined with "," as daprd passes it on */
    int too_long;
    char *bag = rs_grpc_baggage_join(call, &too_long);
    if (bag && *bag) rs_kvlist_set(&inv->headers, "baggage", bag);
    free(bag);
    inv->req = (rs_invoke_request_t){.app_id = inv->app_id, .method = inv->method, .verb = verb, .query = inv->query,
                                     .headers = &inv->headers, .caller_address = rs_grpc_call_peer(call),
                                     .body = inv->body, .body_len = len, .grpc_status = 1};
    rs_op_t *op = rs_ops_invoke(sc, &inv->req, on_done, inv); /* NULL: on_done has run and freed inv */
    if (op) {
        inv->op = op;
        rs_grpc_call_on_cancel(call, cancel_invocation, inv);
    }
}

const rs_grpc_method_t rs_grpc_invoke_methods[] = {
    {"InvokeService", &dapr__proto__runtime__v1__invoke_service_request__descriptor, invoke_service},
    {NULL, NULL, NULL},
};
