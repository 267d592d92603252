/* Each served method of the gRPC API (dapr.proto.runtime.v1.Dapr): the protobuf-c decoding of its request and
 * its adapter (the files of sidecar/grpc/) into the operation layer, reached through the real HTTP/2 server over a
 * socket, with the in-memory components of fake_sidecar.h. Input: a selector byte (the method), then
 * the request message's bytes.
 * Invariants: a message that decodes re-encodes to bytes that decode and re-encode to the same bytes; the
 * server answers in valid HTTP/2, ends the call with a grpc-status (every method but InvokeService, whose app
 * call is still in flight when the client half-closes) and closes the half-closed connection.
 * With RS_FUZZ_WRITE_FRAMES=<dir>, writes each input's HTTP/2 bytes after the preface to <dir> (the seeds of
 * fuzz_grpc_frames). */
#include <nghttp2/nghttp2.h>

#include "fake_sidecar.h"
#include "fuzz.h"
#include "http/pb_decode.h"
#include "sidecar/grpc/api.h"

/* ---- a gRPC client for one unary call: builds the bytes with an nghttp2 client session and reads the server's
 * answer back through the same session ---- */

typedef struct {
    nghttp2_session *h2;
    rs_buf_t wire;           /* what the session sent */
    const uint8_t *body;     /* the DATA to send: prefix + message */
    size_t body_len, body_off;
    int32_t stream;
    int got_status;          /* a grpc-status header arrived on the stream */
    int closed;              /* the stream was closed */
} gc_call_t;

static ssize_t gc_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *user) {
    gc_call_t *c = user;
    if (rs_buf_append(&c->wire, data, len) != 0) return NGHTTP2_ERR_CALLBACK_FAILURE;
    return (ssize_t)len;
}

static ssize_t gc_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                       nghttp2_data_source *src, void *user) {
    gc_call_t *c = user;
    size_t n = c->body_len - c->body_off;
    if (n > length) n = length;
    memcpy(buf, c->body + c->body_off, n);
    c->body_off += n;
    if (c->body_off == c->body_len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int gc_on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen, uint8_t flags, void *user) {
    gc_call_t *c = user;
    if (f->hd.stream_id == c->stream && namelen == 11 && memcmp(name, "grpc-status", 11) == 0) c->got_status = 1;
    return 0;
}

static int gc_on_close(nghttp2_session *s, int32_t id, uint32_t code, void *user) {
    gc_call_t *c = user;
    if (id == c->stream) c->closed = 1;
    return 0;
}

/* Prepares the bytes of one call to `path` carrying `msg` (at most 60000 bytes: the initial flow-control
 * window). 0, or -1. */
static int gc_build(gc_call_t *c, const char *path, const uint8_t *msg, size_t len, uint8_t *frame) {
    memset(c, 0, sizeof *c);
    rs_buf_init(&c->wire, 1 << 20);
    frame[0] = 0;
    frame[1] = (uint8_t)(len >> 24);
    frame[2] = (uint8_t)(len >> 16);
    frame[3] = (uint8_t)(len >> 8);
    frame[4] = (uint8_t)len;
    memcpy(frame + 5, msg, len);
    c->body = frame;
    c->body_len = len + 5;
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_send_callback(cb, gc_send);
    nghttp2_session_callbacks_set_on_header_callback(cb, gc_on_header);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, gc_on_close);
    int rc = nghttp2_session_client_new(&c->h2, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0) return -1;
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, NULL, 0);
#define GC_NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
    const nghttp2_nv hdrs[] = {GC_NV(":method", "POST"),          GC_NV(":scheme", "http"),
                               GC_NV(":path", path),              GC_NV(":authority", "127.0.0.1"),
                               GC_NV("content-type", "application/grpc"), GC_NV("te", "trailers")};
#undef GC_NV
    nghttp2_data_provider dp = {.read_callback = gc_read};
    c->stream = nghttp2_submit_request(c->h2, NULL, hdrs, sizeof hdrs / sizeof *hdrs, &dp, NULL);
    if (c->stream < 0 || nghttp2_session_send(c->h2) != 0) return -1;
    return 0;
}

/* Feeds the server's bytes to the session. Returns 0 if they are valid HTTP/2 for it, else -1. */
static int gc_receive(gc_call_t *c, const char *data, size_t len) {
    ssize_t n = nghttp2_session_mem_recv(c->h2, (const uint8_t *)data, len);
    return n == (ssize_t)len ? 0 : -1;
}

static void gc_free(gc_call_t *c) {
    nghttp2_session_del(c->h2);
    rs_buf_free(&c->wire);
}


/* ---- the target ---- */

static const rs_grpc_method_t *methods[64];
static size_t nmethods;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fs_init();
    const rs_grpc_method_t *const groups[] = {rs_grpc_state_methods,   rs_grpc_publish_methods,
                                              rs_grpc_bindings_methods, rs_grpc_secrets_methods,
                                              rs_grpc_lock_methods,    rs_grpc_metadata_methods,
                                              rs_grpc_invoke_methods};
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
        for (const rs_grpc_method_t *m = groups[g]; m->name && nmethods < 64; m++) methods[nmethods++] = m;
    return 0;
}

/* What ripstopd decodes (rs_pb_decode) packs to bytes that decode and pack to the same bytes. */
static void round_trip(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t size) {
    ProtobufCMessage *m = rs_pb_decode(d, NULL, size, data);
    if (!m) return;
    size_t n1 = protobuf_c_message_get_packed_size(m);
    uint8_t *b1 = malloc(n1 ? n1 : 1);
    FZ_CHECK(protobuf_c_message_pack(m, b1) == n1);
    protobuf_c_message_free_unpacked(m, NULL);
    ProtobufCMessage *m2 = rs_pb_decode(d, NULL, n1, b1);
    FZ_CHECK(m2 != NULL);
    size_t n2 = protobuf_c_message_get_packed_size(m2);
    uint8_t *b2 = malloc(n2 ? n2 : 1);
    FZ_CHECK(protobuf_c_message_pack(m2, b2) == n2);
    FZ_CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
    protobuf_c_message_free_unpacked(m2, NULL);
    free(b1);
    free(b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const rs_grpc_method_t *m = methods[fz_take_byte(&data, &size) % nmethods];
    if (size > 60000) return 0;
    round_trip(m->input, data, size);

    char path[128];
    snprintf(path, sizeof path, "/dapr.proto.runtime.v1.Dapr/%s", m->name);
    uint8_t *frame = malloc(size + 5);
    gc_call_t c;
    FZ_CHECK(gc_build(&c, path, data, size, frame) == 0);
    const char *dump = getenv("RS_FUZZ_WRITE_FRAMES");
    if (dump) {
        static int seq;
        char name[512];
        snprintf(name, sizeof name, "%s/%s-%d", dump, m->name, seq++);
        FILE *f = fopen(name, "wb");
        if (f) {
            fwrite(c.wire.data + NGHTTP2_CLIENT_MAGIC_LEN, 1, c.wire.len - NGHTTP2_CLIENT_MAGIC_LEN, f);
            fclose(f);
        }
    }
    rs_buf_t out;
    int closed = fs_exchange(FS_GRPC_API, (const uint8_t *)c.wire.data, c.wire.len, &out, 8 << 20, 100000);
    FZ_CHECK(closed);
    FZ_CHECK(gc_receive(&c, out.data ? out.data : "", out.len) == 0);
    if (strcmp(m->name, "InvokeService") != 0) FZ_CHECK(c.got_status);
    rs_buf_free(&out);
    gc_free(&c);
    free(frame);
    return 0;
}
