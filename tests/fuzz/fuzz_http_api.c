/* ripstopd's HTTP API end to end over a socket (http/server.c: request line, headers, chunked and sized bodies,
 * limits; the handler chain and routes of sidecar/api/; each API's JSON body parser: state items, bulk get,
 * transactions, publish and bulk publish, bindings, lock/unlock, metadata; service invocation through to an app
 * on the same loop). The input is the bytes a client sends on one connection (any number of pipelined
 * requests), through a socketpair handed to the server; components are the in-memory fakes of fake_sidecar.h.
 * Invariants: the server always ends a half-closed connection; everything it writes parses as a sequence of
 * HTTP/1.1 responses (no header split by client bytes); every JSON error response is a JSON object with an
 * errorCode. */
#define _GNU_SOURCE /* memmem */
#include <http_parser.h>
#include <jansson.h>
#include <strings.h>

#include "fake_sidecar.h"
#include "fuzz.h"

typedef struct {
    int status;
    int json;
    rs_buf_t body;
    int in_ct; /* the header value being read is Content-Type's */
} resp_t;

static int on_header_field(http_parser *p, const char *at, size_t len) {
    resp_t *r = p->data;
    r->in_ct = len == 12 && strncasecmp(at, "Content-Type", 12) == 0;
    return 0;
}
static int on_header_value(http_parser *p, const char *at, size_t len) {
    resp_t *r = p->data;
    if (r->in_ct) r->json = len >= 16 && strncasecmp(at, "application/json", 16) == 0;
    return 0;
}
static int on_body(http_parser *p, const char *at, size_t len) {
    resp_t *r = p->data;
    rs_buf_append(&r->body, at, len);
    return 0;
}
static int on_message_begin(http_parser *p) {
    resp_t *r = p->data;
    r->json = 0;
    r->in_ct = 0;
    rs_buf_reset(&r->body);
    return 0;
}
static int on_message_complete(http_parser *p) {
    resp_t *r = p->data;
    if (p->status_code >= 400 && r->json) {
        json_t *e = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
        FZ_CHECK(json_is_object(e));
        FZ_CHECK(json_is_string(json_object_get(e, "errorCode")));
        json_decref(e);
    }
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fs_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rs_buf_t out;
    int closed = fs_exchange(FS_HTTP_API, data, size, &out, 8 << 20, 100000);
    FZ_CHECK(closed);
    /* A HEAD response has no body although it may announce one, which a response parser cannot know. */
    if (!memmem(data, size, "HEAD", 4) && out.len) {
        http_parser p;
        http_parser_settings st = {.on_message_begin = on_message_begin, .on_header_field = on_header_field,
                                   .on_header_value = on_header_value, .on_body = on_body,
                                   .on_message_complete = on_message_complete};
        resp_t r = {0};
        rs_buf_init(&r.body, 16 << 20);
        http_parser_init(&p, HTTP_RESPONSE);
        p.data = &r;
        size_t n = http_parser_execute(&p, &st, out.data, out.len);
        if (n != out.len || HTTP_PARSER_ERRNO(&p) != HPE_OK) {
            fprintf(stderr, "unparsable response (%s) at %zu of %zu:\n%.*s\n",
                    http_errno_name(HTTP_PARSER_ERRNO(&p)), n, out.len, (int)(out.len < 2000 ? out.len : 2000),
                    out.data);
            FZ_CHECK(!"the server wrote something that is not an HTTP/1.1 response");
        }
        rs_buf_free(&r.body);
    }
    rs_buf_free(&out);
    return 0;
}
