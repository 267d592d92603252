/* SPDX-License-Identifier: MIT */
/* The Dapr service on the gRPC server: the API token (metadata
 * dapr-api-token, checked as daprd's interceptor does), --enable-api-logging,
 * the method table of every group, request decoding, and UNIMPLEMENTED by
 * name for the rest of the service. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "http/pb_decode.h"
#include "sidecar/grpc/api.h"
#include "sidecar/ops/invoke.h"
#include "sidecar/tracing/tracing.h"

#define SERVICE "dapr.proto.runtime.v1.Dapr"

static const rs_grpc_method_t *const groups[] = {
    rs_grpc_state_methods, rs_grpc_publish_methods, rs_grpc_bindings_methods,
    rs_grpc_secrets_methods, rs_grpc_lock_methods, rs_grpc_metadata_methods, rs_grpc_invoke_methods,
};

static const rs_grpc_method_t *find_method(const char *name) {
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
        for (const rs_grpc_method_t *m = groups[g]; m->name; m++)
            if (strcmp(m->name, name) == 0) return m;
    return NULL;
}

/* daprd answers a missing or wrong token with UNAUTHENTICATED before the method runs (health excepted). */
static int token_ok(rs_sidecar_t *sc, rs_grpc_call_t *call) {
    if (!sc->cfg.api_token) return 1;
    const char *got = rs_grpc_call_metadata(call, "dapr-api-token");
    if (rs_secret_equal(got, sc->cfg.api_token)) return 1;
    rs_grpc_call_fail(call, RS_GRPC_UNAUTHENTICATED,
                      got ? "authentication error: api token mismatch" : "missing api token in request metadata", NULL, 0);
    return 0;
}

static void handle(rs_grpc_call_t *call, void *ctx) {
    rs_sidecar_t *sc = ctx;
    const char *path = rs_grpc_call_path(call);
    if (sc->cfg.enable_api_logging) RS_INFO("api", "gRPC %s", path);
    char msg[512];
    static const char prefix[] = "/" SERVICE "/";
    const rs_grpc_method_t *m = strncmp(path, prefix, sizeof prefix - 1) == 0 ? find_method(path + sizeof prefix - 1)
                                                                               : NULL;
    /* metrics and span for the service's methods only: the label values are then ours, not a client's */
    rs_span_t *span = m ? rs_grpc_observe_start(sc, call, m) : NULL;
    if (!token_ok(sc, call)) return;
    if (strncmp(path, prefix, sizeof prefix - 1) != 0) {
        /* grpc-go's words for a service the server does not have */
        const char *svc = path[0] == '/' ? path + 1 : path;
        const char *slash = strchr(svc, '/');
        snprintf(msg, sizeof msg, "unknown service %.*s", slash ? (int)(slash - svc) : (int)strlen(svc), svc);
        rs_grpc_call_fail(call, RS_GRPC_UNIMPLEMENTED, msg, NULL, 0);
        return;
    }
    const char *name = path + sizeof prefix - 1;
    if (!m) {
        snprintf(msg, sizeof msg, "unknown method %s for service " SERVICE " (ripstopd does not serve it)", name);
        rs_grpc_call_fail(call, RS_GRPC_UNIMPLEMENTED, msg, NULL, 0);
        return;
    }
    size_t len;
    const uint8_t *data = rs_grpc_call_message(call, &len);
    ProtobufCAllocator *pb = rs_grpc_call_allocator(call);
    ProtobufCMessage *req = rs_pb_decode(m->input, pb, len, data);
    if (!req) {
        snprintf(msg, sizeof msg, "grpc: error unmarshalling request: not a valid %s message", m->input->name);
        rs_grpc_call_fail(call, RS_GRPC_INTERNAL, msg, NULL, 0);
        return;
    }
    if (rs_grpc_observe_baggage(sc, call) != 0) { /* answered INVALID_ARGUMENT */
        protobuf_c_message_free_unpacked(req, pb);
        return;
    }
    rs_grpc_observe_dispatch(sc, span, call, req);
    m->fn(sc, call, req);
    rs_grpc_observe_dispatched(sc);
    protobuf_c_message_free_unpacked(req, pb);
}

int rs_grpc_api_start(rs_sidecar_t *sc, char *err, size_t errlen) {
    rs_ops_invoke_attach(sc);
    sc->grpc = rs_grpc_server_new(sc->base, sc->cfg.max_body_size, handle, sc);
    for (size_t i = 0; i < sc->cfg.listen_addresses.len; i++) {
        const char *addr = sc->cfg.listen_addresses.items[i];
        int port = rs_grpc_server_listen(sc->grpc, addr, sc->cfg.grpc_port);
        if (port >= 0) {
            if (i == 0) sc->cfg.grpc_port = port;
            continue;
        }
        if (!sc->cfg.grpc_port_set && errno == EADDRINUSE) {
            /* Only the default port was asked for, and another sidecar on this host has it (as two daprd
             * would clash): run without the gRPC API rather than not at all. */
            RS_WARN("runtime", "gRPC API off: port %d is in use (give each sidecar its own --dapr-grpc-port)",
                    sc->cfg.grpc_port);
            rs_grpc_api_stop(sc);
            return 0;
        }
        snprintf(err, errlen, "cannot listen on %s:%d (--dapr-grpc-port): %s", addr, sc->cfg.grpc_port,
                 strerror(errno));
        return -1;
    }
    RS_INFO("runtime", "dapr gRPC API listening on port %d", sc->cfg.grpc_port);
    return 0;
}

void rs_grpc_api_stop(rs_sidecar_t *sc) {
    rs_grpc_server_free(sc->grpc);
    sc->grpc = NULL;
}
