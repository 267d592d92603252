/* SPDX-License-Identifier: MIT */
/* Every call of the Dapr gRPC service as daprd observes it (its unary
 * interceptors, pkg/diagnostics/grpc_monitoring.go and grpc_tracing.go):
 *
 * - metrics: dapr_grpc_io_server_completed_rpcs, _server_latency,
 *   _received_bytes_per_rpc and _sent_bytes_per_rpc, labelled with the full
 *   method ("/dapr.proto.runtime.v1.Dapr/GetState") and grpc-go's status name;
 * - a span: the child of the caller's grpc-trace-bin (OpenCensus binary
 *   format) or, without it, traceparent metadata; named after the full method
 *   ("CallLocal/<id>/<method>" for InvokeService); kind CLIENT, as daprd
 *   gives the runtime API's spans; rpc.service, dapr.api, dapr.protocol grpc
 *   and the request's db.* / messaging.* / net.peer.name attributes; the
 *   status message when the call fails.
 *
 * Only methods of the service are observed (an unknown one reaches no
 * interceptor in daprd, and a client must not make label values up). The
 * reply carries the span's context in grpc-trace-bin (InvokeService's
 * excepted, as in daprd), and W3C baggage is checked and echoed
 * (rs_grpc_observe_baggage). The call's traceparent metadata is replaced by the span's before the handler
 * runs, so what the adapters propagate (invocation headers, the CloudEvent's
 * traceparent) descends from it, and operations started while it runs take
 * it as their parent. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "sidecar/grpc/api.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/tracing/baggage.h"
#include "sidecar/tracing/tracing.h"

#define SERVICE_PREFIX "/dapr.proto.runtime.v1.Dapr/"

struct observed {
    rs_sidecar_t *sc;
    const rs_grpc_method_t *method;
    int64_t start_us;
    size_t received;
    rs_span_t *span;
    int heap; /* allocated here, not in the call's memory */
};

/* grpc-trace-bin (base64 of: version 0, field 0 + 16-byte trace id, field 1 + 8-byte span id, field 2 + 1-byte
 * options) as a traceparent in out; 0 when it is not one. */
static int traceparent_from_bin(const char *b64, char out[56]) {
    size_t n = strlen(b64);
    if (n == 0 || n > 64) return 0;
    char padded[68];
    memcpy(padded, b64, n);
    while (n % 4) padded[n++] = '=';
    padded[n] = '\0';
    unsigned char raw[52];
    int len = EVP_DecodeBlock(raw, (const unsigned char *)padded, (int)n);
    if (len < 0) return 0;
    while (len > 0 && n > 0 && padded[--n] == '=') len--; /* EVP counts the padding as zero bytes */
    if (len < 29 || raw[0] != 0 || raw[1] != 0 || raw[18] != 1 || raw[27] != 2) return 0;
    char *p = out + snprintf(out, 56, "00-");
    for (int i = 2; i < 18; i++) p += sprintf(p, "%02x", raw[i]);
    *p++ = '-';
    for (int i = 19; i < 27; i++) p += sprintf(p, "%02x", raw[i]);
    sprintf(p, "-%02x", raw[28] & 1);
    return 1;
}

/* daprd's AppendSpanAttributes of the request types that have any (pkg/proto/runtime/v1/dapr_tracing.go). */
static void request_attributes(rs_span_t *s, const char *path, const ProtobufCMessage *req) {
    const ProtobufCMessageDescriptor *d = req->descriptor;
    const char *system = NULL, *db = NULL, *topic = NULL;
    if (d == &dapr__proto__runtime__v1__get_state_request__descriptor)
        system = "state", db = ((const Dapr__Proto__Runtime__V1__GetStateRequest *)req)->store_name;
    else if (d == &dapr__proto__runtime__v1__save_state_request__descriptor)
        system = "state", db = ((const Dapr__Proto__Runtime__V1__SaveStateRequest *)req)->store_name;
    else if (d == &dapr__proto__runtime__v1__delete_state_request__descriptor)
        system = "state", db = ((const Dapr__Proto__Runtime__V1__DeleteStateRequest *)req)->store_name;
    else if (d == &dapr__proto__runtime__v1__get_secret_request__descriptor)
        system = "secrets", db = ((const Dapr__Proto__Runtime__V1__GetSecretRequest *)req)->store_name;
    else if (d == &dapr__proto__runtime__v1__invoke_binding_request__descriptor)
        system = "bindings", db = ((const Dapr__Proto__Runtime__V1__InvokeBindingRequest *)req)->name;
    else if (d == &dapr__proto__runtime__v1__publish_event_request__descriptor)
        topic = ((const Dapr__Proto__Runtime__V1__PublishEventRequest *)req)->topic;
    else if (d == &dapr__proto__runtime__v1__bulk_publish_request__descriptor)
        topic = ((const Dapr__Proto__Runtime__V1__BulkPublishRequest *)req)->topic;
    if (d == &dapr__proto__runtime__v1__invoke_service_request__descriptor) {
        const Dapr__Proto__Runtime__V1__InvokeServiceRequest *in = (const void *)req;
        char name[512];
        snprintf(name, sizeof name, "CallLocal/%s/%s", in->id, in->message ? in->message->method : "");
        rs_span_set_name(s, name);
        rs_span_attr(s, "rpc.service", "ServiceInvocation");
        rs_span_attr(s, "net.peer.name", in->id);
        return;
    }
    if (!system && !topic) return;
    rs_span_attr(s, "rpc.service", "Dapr");
    if (system) {
        rs_span_attr(s, "db.system", system);
        rs_span_attr(s, "db.name", db);
        rs_span_attr(s, "db.statement", path);
        rs_span_attr(s, "db.connection_string", system);
    } else {
        rs_span_attr(s, "messaging.system", "pubsub");
        rs_span_attr(s, "messaging.destination.name", topic);
    }
}

/* The span's context as daprd's grpc-trace-bin reply header: the 29-byte binary form, base64 without padding
 * (as gRPC sends -bin values). */
static void bin_from_span(const rs_span_t *s, char out[48]) {
    char tp[56];
    rs_span_traceparent(s, tp); /* 00-<32 hex>-<16 hex>-01 */
    unsigned char raw[29] = {0};
    for (int i = 0; i < 16; i++) sscanf(tp + 3 + 2 * i, "%2hhx", &raw[2 + i]);
    raw[18] = 1;
    for (int i = 0; i < 8; i++) sscanf(tp + 36 + 2 * i, "%2hhx", &raw[19 + i]);
    raw[27] = 2;
    raw[28] = 1;
    int n = EVP_EncodeBlock((unsigned char *)out, raw, sizeof raw);
    while (n > 0 && out[n - 1] == '=') out[--n] = '\0';
}

static int not_baggage(const char *name) { return strcmp(name, "baggage") != 0; }

char *rs_grpc_baggage_join(rs_grpc_call_t *call, int *too_long) {
    rs_kvlist_t bags = {0};
    rs_grpc_call_copy_metadata(call, not_baggage, &bags);
    char *b = rs_baggage_join(&bags, too_long);
    rs_kvlist_free(&bags);
    return b;
}

int rs_grpc_baggage(rs_grpc_call_t *call, char **out) {
    rs_kvlist_t bags = {0};
    rs_grpc_call_copy_metadata(call, not_baggage, &bags);
    char why[160], msg[200];
    int rc = rs_baggage_get(&bags, out, why, sizeof why);
    rs_kvlist_free(&bags);
    if (rc == 0) return 0;
    snprintf(msg, sizeof msg, "invalid baggage header: %s", why);
    rs_grpc_call_fail(call, RS_GRPC_INVALID_ARGUMENT, msg, NULL, 0);
    return -1;
}

int rs_grpc_observe_baggage(rs_sidecar_t *sc, rs_grpc_call_t *call) {
    if (!sc->tracer) return 0; /* daprd's check lives in its tracing interceptor */
    char *b;
    if (rs_grpc_baggage(call, &b) != 0) return -1;
    if (b && *b) rs_grpc_call_add_reply_header(call, "baggage", b);
    free(b);
    return 0;
}

static void on_finish(void *arg, rs_grpc_code_t code, const char *message, size_t reply_bytes) {
    struct observed *o = arg;
    char method[256];
    size_t nl = strlen(o->method->name); /* a literal of the method tables: short */
    if (nl > sizeof method - sizeof SERVICE_PREFIX) nl = sizeof method - sizeof SERVICE_PREFIX;
    memcpy(method, SERVICE_PREFIX, sizeof SERVICE_PREFIX - 1);
    memcpy(method + sizeof SERVICE_PREFIX - 1, o->method->name, nl);
    method[sizeof SERVICE_PREFIX - 1 + nl] = '\0';
    rs_metrics_grpc_server(o->sc->metrics, method, rs_grpc_code_go_name(code), o->received, reply_bytes,
                           (double)(rs_now_us() - o->start_us) / 1000.0);
    if (o->span) {
        /* a call answered while its handler runs must not stay the parent of what the handler starts next */
        if (rs_tracer_current(o->sc->tracer) == o->span) rs_tracer_set_current(o->sc->tracer, NULL);
        if (code != RS_GRPC_OK) rs_span_error(o->span, message);
        rs_span_end(o->span);
    }
    if (o->heap) free(o);
}

rs_span_t *rs_grpc_observe_start(rs_sidecar_t *sc, rs_grpc_call_t *call, const rs_grpc_method_t *m) {
    struct observed *o = rs_grpc_call_scratch(call, sizeof *o);
    if (!o) {
        o = rs_xcalloc(1, sizeof *o);
        o->heap = 1;
    }
    o->sc = sc;
    o->method = m;
    o->start_us = rs_now_us();
    rs_grpc_call_message(call, &o->received);
    if (sc->tracer) {
        char parent[56];
        const char *bin = rs_grpc_call_metadata(call, "grpc-trace-bin");
        const char *tp = bin && traceparent_from_bin(bin, parent) ? parent : rs_grpc_call_metadata(call, "traceparent");
        const char *path = rs_grpc_call_path(call);
        o->span = rs_span_start(sc->tracer, tp, path, RS_SPAN_CLIENT);
        if (o->span) {
            char mine[56];
            rs_span_traceparent(o->span, mine);
            rs_grpc_call_set_metadata(call, "traceparent", mine);
            rs_span_attr(o->span, "dapr.api", path);
            rs_span_attr(o->span, "dapr.protocol", "grpc");
            /* daprd answers every method but InvokeService with its span's context in grpc-trace-bin */
            if (strcmp(m->name, "InvokeService") != 0) {
                char tb[48];
                bin_from_span(o->span, tb);
                rs_grpc_call_add_reply_header(call, "grpc-trace-bin", tb);
            }
        }
    }
    rs_grpc_call_on_finish(call, on_finish, o);
    return o->span;
}

void rs_grpc_observe_dispatch(rs_sidecar_t *sc, rs_span_t *span, rs_grpc_call_t *call, const ProtobufCMessage *req) {
    if (!span) return;
    request_attributes(span, rs_grpc_call_path(call), req);
    rs_tracer_set_current(sc->tracer, span);
}

void rs_grpc_observe_dispatched(rs_sidecar_t *sc) {
    if (sc->tracer) rs_tracer_set_current(sc->tracer, NULL);
}
