/* SPDX-License-Identifier: MIT */
/* State over gRPC vs over HTTP: client threads, each with one connection and
 * one call in flight, drive SaveState and GetState (dapr.proto.runtime.v1.Dapr)
 * on --dapr-grpc-port, then POST /v1.0/state and GET /v1.0/state/{key} on the
 * HTTP port of the same ripstopd, then redis-benchmark runs HSET / HGETALL
 * with the same concurrency against the same Redis. Prints the rates and the
 * ratios. The gRPC client is nghttp2 on a blocking socket with the messages
 * generated from proto/. Never asserts timings. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"

static int n_req = 20000, conc = 16;
static const char *VALUE = "{\"customer\":\"c-42\",\"orders\":17,\"total\":1234.5,\"tier\":\"gold\"}";

/* ---- a blocking unary gRPC client on one HTTP/2 connection ---- */

typedef struct {
    int fd;
    nghttp2_session *h2;
    const uint8_t *out; /* the request being sent */
    size_t out_len, out_off;
    int done, grpc_status;
} gconn_t;

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

static int gconnect(gconn_t *c, int port) {
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

static void gclose(gconn_t *c) {
    nghttp2_session_del(c->h2);
    close(c->fd);
}

/* One call: the packed request m on `method`; returns the grpc-status, or -1 on a broken connection. */
static int gcall(gconn_t *c, const char *method, const ProtobufCMessage *m) {
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

/* ---- phases ---- */

typedef struct {
    int port, is_get, grpc;
} phase_t;

static int grpc_client(const phase_t *ph, int id, int n, int64_t *lat) {
    gconn_t c;
    if (gconnect(&c, ph->port) != 0) return n;
    int failed = 0;
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d-%d", id, i % 100);
        int64_t t0 = bu_now_us();
        int st;
        if (ph->is_get) {
            Dapr__Proto__Runtime__V1__GetStateRequest r = DAPR__PROTO__RUNTIME__V1__GET_STATE_REQUEST__INIT;
            r.store_name = "statestore";
            r.key = key;
            st = gcall(&c, "GetState", &r.base);
        } else {
            Dapr__Proto__Common__V1__StateItem it = DAPR__PROTO__COMMON__V1__STATE_ITEM__INIT;
            it.key = key;
            it.value = (ProtobufCBinaryData){strlen(VALUE), (uint8_t *)VALUE};
            Dapr__Proto__Common__V1__StateItem *items[1] = {&it};
            Dapr__Proto__Runtime__V1__SaveStateRequest r = DAPR__PROTO__RUNTIME__V1__SAVE_STATE_REQUEST__INIT;
            r.store_name = "statestore";
            r.n_states = 1;
            r.states = items;
            st = gcall(&c, "SaveState", &r.base);
        }
        lat[i] = bu_now_us() - t0;
        if (st != 0) failed++;
        if (st < 0) { /* broken connection: reconnect and go on */
            gclose(&c);
            if (gconnect(&c, ph->port) != 0) return failed + n - i - 1;
        }
    }
    gclose(&c);
    return failed;
}

static int client(void *ctx, int id, int n, int64_t *lat) {
    const phase_t *ph = ctx;
    return ph->grpc ? grpc_client(ph, id, n, lat) : bu_state_http_client(ph->port, ph->is_get, VALUE, id, n, lat);
}

static bu_stats_t run_phase(int port, int grpc, int is_get, int *failed) {
    phase_t ph = {port, is_get, grpc};
    return bu_run_clients(conc, n_req / conc, client, &ph, failed);
}

static void row(const char *what, bu_stats_t s, int failed) {
    printf("  %-30s %9.0f req/s   p50 %6.2f ms   p99 %6.2f ms   failed %d\n", what, s.rate, s.p50_ms, s.p99_ms,
           failed);
}

int main(int argc, char **argv) {
    if (bu_parse_load_flags(argc, argv, "bench_grpc", &n_req, &conc) != 0) return 2;
    bu_state_env_t env;
    int rc = 1;
    if (bu_state_env_start(&env) != 0) goto out;
    int port = env.http_port, gport = env.grpc_port, rport = env.redis_port;

    printf("state over gRPC and HTTP: %d requests per phase, %d concurrent connections (one call in flight each), "
           "value %zu bytes\n", n_req, conc, strlen(VALUE));
    int f_gs, f_gg, f_hs, f_hg;
    run_phase(gport, 1, 0, &f_gs); /* warm-up: connections, script cache, keys exist for the get phases */
    bu_stats_t gsave = run_phase(gport, 1, 0, &f_gs), gget = run_phase(gport, 1, 1, &f_gg);
    run_phase(port, 0, 0, &f_hs);
    bu_stats_t hsave = run_phase(port, 0, 0, &f_hs), hget = run_phase(port, 0, 1, &f_hg);
    char hset[512], hgetall[128];
    snprintf(hset, sizeof hset, "HSET 'bench||k0-0' data '%s'", VALUE);
    snprintf(hgetall, sizeof hgetall, "HGETALL 'bench||k0-0'");
    double base_set = bu_redis_benchmark(rport, conc, n_req, hset), base_get = bu_redis_benchmark(rport, conc, n_req, hgetall);

    row("gRPC SaveState", gsave, f_gs);
    row("gRPC GetState", gget, f_gg);
    row("HTTP POST /v1.0/state", hsave, f_hs);
    row("HTTP GET /v1.0/state/{key}", hget, f_hg);
    printf("  %-30s %9.0f req/s\n", "redis-benchmark HSET", base_set);
    printf("  %-30s %9.0f req/s\n", "redis-benchmark HGETALL", base_get);
    if (hsave.rate > 0 && hget.rate > 0)
        printf("ratio gRPC/HTTP: save %.2f, get %.2f\n", gsave.rate / hsave.rate, gget.rate / hget.rate);
    if (base_set > 0 && base_get > 0)
        printf("ratio gRPC/redis-benchmark: save %.2f, get %.2f; HTTP/redis-benchmark: save %.2f, get %.2f\n",
               gsave.rate / base_set, gget.rate / base_get, hsave.rate / base_set, hget.rate / base_get);
    rc = f_gs || f_gg || f_hs || f_hg ? 1 : 0;
out:
    bu_state_env_stop(&env);
    return rc;
}
