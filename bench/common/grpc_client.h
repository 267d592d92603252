/* SPDX-License-Identifier: MIT */
/* A blocking unary gRPC client for the benchmarks: one HTTP/2 connection
 * (nghttp2 on a blocking socket), one call in flight, and the state calls
 * the benchmarks drive (SaveState of one item, GetState). */
#ifndef RS_BENCH_GRPC_CLIENT_H
#define RS_BENCH_GRPC_CLIENT_H

#include <nghttp2/nghttp2.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int fd;
    nghttp2_session *h2;
    const uint8_t *out; /* the request being sent */
    size_t out_len, out_off;
    int done, grpc_status;
} gconn_t;

/** Connects to 127.0.0.1:port and queues the client preface. Returns 0 or -1. */
int gconnect(gconn_t *c, int port);
void gclose(gconn_t *c);
/** One call of dapr.proto.runtime.v1.Dapr/<method> with the packed message m; returns the grpc-status, or -1 on a
 *  broken connection. */
int gcall(gconn_t *c, const char *method, const ProtobufCMessage *m);
/** SaveState of one item (store "statestore") / GetState of key; the grpc-status or -1. */
int gcall_save(gconn_t *c, const char *key, const char *value);
int gcall_get(gconn_t *c, const char *key);

#endif
