/* SPDX-License-Identifier: MIT */
#include "grpc_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"


/* Sends everything nghttp2 has queued in one write, as a real client's buffered transport does. */
static int flush_out(gconn_t *c) {
    uint8_t buf[8192];
    size_t len = 0;
    for (;;) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->h2, &data);
        if (n < 0) return -1;
        if (n == 0 || len + (size_t)n > sizeof buf) {
            if (len && write(c->fd, buf, len) != (ssize_t)len) return -1;
            len = 0;
            if (n == 0) return 0;
        }
        if ((size_t)n > sizeof buf) {
            if (write(c->fd, data, (size_t)n) != n) return -1;
        } else {
            memcpy(buf + len, data, (size_t)n);
            len += (size_t)n;
        }
    }
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user) {
    gconn_t *c = user;
    if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) c->grpc_status = atoi((const char *)value);
    return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *user) {
    ((gconn_t *)user)->done = 1;
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *user) {
    gconn_t *c = user;
    size_t n = c->out_len - c->out_off;
    if (n > len) n = len;
    memcpy(buf, c->out + c->out_off, n);
    c->out_off += n;
    if (c->out_off == c->out_len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

int gconnect(gconn_t *c, int port) {
    memset(c, 0, sizeof *c);
    bu_conn_t tcp;
    if (bu_connect(&tcp, port) != 0) return -1;
    c->fd = tcp.fd;
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_session_client_new(&c->h2, cb, c);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, NULL, 0);
    return 0;
}

void gclose(gconn_t *c) {
    nghttp2_session_del(c->h2);
    close(c->fd);
}

/* One call: the packed request m on `method`; returns the grpc-status, or -1 on a broken connection. */
int gcall(gconn_t *c, const char *method, const ProtobufCMessage *m) {
    uint8_t buf[1024];
    size_t len = protobuf_c_message_get_packed_size(m);
    if (len + 5 > sizeof buf) return -1;
    buf[0] = 0;
    buf[1] = (uint8_t)(len >> 24), buf[2] = (uint8_t)(len >> 16), buf[3] = (uint8_t)(len >> 8), buf[4] = (uint8_t)len;
    protobuf_c_message_pack(m, buf + 5);
    c->out = buf;
    c->out_len = len + 5;
    c->out_off = 0;
    c->done = 0;
    c->grpc_status = -1;
    char path[96];
    snprintf(path, sizeof path, "/dapr.proto.runtime.v1.Dapr/%s", method);
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv hdrs[] = {NV(":method", "POST"), NV(":scheme", "http"), NV(":path", path),
                         NV(":authority", "127.0.0.1"), NV("content-type", "application/grpc"), NV("te", "trailers")};
    nghttp2_data_provider dp = {.read_callback = read_body};
    if (nghttp2_submit_request(c->h2, NULL, hdrs, sizeof hdrs / sizeof hdrs[0], &dp, NULL) < 0) return -1;
    uint8_t in[16384];
    while (!c->done) {
        if (flush_out(c) != 0) return -1;
        if (c->done) break;
        ssize_t n = read(c->fd, in, sizeof in);
        if (n <= 0 || nghttp2_session_mem_recv(c->h2, in, (size_t)n) < 0) return -1;
    }
    if (flush_out(c) != 0) return -1; /* window updates, settings acks */
    return c->grpc_status;
}

int gcall_save(gconn_t *c, const char *key, const char *value) {
    Dapr__Proto__Common__V1__StateItem it = DAPR__PROTO__COMMON__V1__STATE_ITEM__INIT;
    it.key = (char *)key;
    it.value = (ProtobufCBinaryData){strlen(value), (uint8_t *)value};
    Dapr__Proto__Common__V1__StateItem *items[1] = {&it};
    Dapr__Proto__Runtime__V1__SaveStateRequest r = DAPR__PROTO__RUNTIME__V1__SAVE_STATE_REQUEST__INIT;
    r.store_name = "statestore";
    r.n_states = 1;
    r.states = items;
    return gcall(c, "SaveState", &r.base);
}

int gcall_get(gconn_t *c, const char *key) {
    Dapr__Proto__Runtime__V1__GetStateRequest r = DAPR__PROTO__RUNTIME__V1__GET_STATE_REQUEST__INIT;
    r.store_name = "statestore";
    r.key = (char *)key;
    return gcall(c, "GetState", &r.base);
}
