/* The outbound HTTP/1.1 client's response parser (http/h1_client.c over http-parser): what an app or a peer
 * sidecar answers to a call. A server on a loopback socket answers one GET with the input's bytes and
 * half-closes. Invariants: the call completes exactly once (a response that never ends must end in an error at
 * EOF, not hang); a response has a status in 100..999, a body within the cap and header names and values that
 * cannot split a message when forwarded. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "fuzz.h"
#include "http/client.h"

static struct event_base *base;
static int listen_fd, port;
static struct exchange *current; /* the input being run */

typedef struct exchange {
    const uint8_t *data;
    size_t size;
    int conn;        /* the accepted connection, or -1 */
    int answered;    /* the response was written */
    char head[8192]; /* the request so far */
    size_t head_len;
    int calls;       /* done callbacks */
    struct event *ev;
} exchange_t;

static void on_server(evutil_socket_t fd, short what, void *arg);

static void on_accept(evutil_socket_t fd, short what, void *arg) {
    int c = accept(fd, NULL, NULL);
    if (c < 0) return;
    if (!current || current->conn >= 0) { /* one connection per input */
        close(c);
        return;
    }
    fcntl(c, F_SETFL, O_NONBLOCK);
    current->conn = c;
    current->ev = event_new(base, c, EV_READ | EV_PERSIST, on_server, current);
    event_add(current->ev, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    signal(SIGPIPE, SIG_IGN);
    rs_log_set_level(RS_LOG_FATAL);
    base = event_base_new();
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(listen_fd, 16) != 0 ||
        getsockname(listen_fd, (struct sockaddr *)&sa, &sl) != 0)
        abort();
    port = ntohs(sa.sin_port);
    fcntl(listen_fd, F_SETFL, O_NONBLOCK);
    event_add(event_new(base, listen_fd, EV_READ | EV_PERSIST, on_accept, NULL), NULL);
    return 0;
}

/* The server side: reads the request head, then writes the input and half-closes. */
static void on_server(evutil_socket_t fd, short what, void *arg) {
    exchange_t *x = arg;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    if (x->answered) return;
    size_t k = (size_t)n < sizeof x->head - x->head_len ? (size_t)n : sizeof x->head - x->head_len;
    memcpy(x->head + x->head_len, buf, k);
    x->head_len += k;
    if (!memmem(x->head, x->head_len, "\r\n\r\n", 4)) return;
    size_t sent = 0;
    while (sent < x->size) {
        ssize_t w = send(fd, x->data + sent, x->size - sent, MSG_NOSIGNAL);
        if (w <= 0) break;
        sent += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    x->answered = 1;
}

static void on_done(void *arg, rs_http_response_t *r) {
    exchange_t *x = arg;
    x->calls++;
    if (r->result != RS_HTTP_OK) return;
    FZ_CHECK(r->status >= 100 && r->status <= 999);
    FZ_CHECK(r->body.len <= 1 << 20);
    for (size_t i = 0; i < r->headers.len; i++) {
        const char *k = r->headers.items[i].key, *v = r->headers.items[i].value;
        FZ_CHECK(k && v && !strpbrk(k, "\r\n") && !strpbrk(v, "\r\n"));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    exchange_t x = {.data = data, .size = size, .conn = -1};
    rs_http_client_t *client = rs_http_client_new(base);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);
    rs_http_request_t req = {.method = "GET", .url = url, .max_response = 1 << 20};
    rs_http_call_t *call = rs_http_send(client, &req, on_done, &x);
    FZ_CHECK(call != NULL);
    current = &x;
    while (x.calls == 0) event_base_loop(base, EVLOOP_ONCE);
    FZ_CHECK(x.calls == 1);
    rs_http_client_free(client);
    current = NULL;
    if (x.ev) event_free(x.ev);
    if (x.conn >= 0) close(x.conn);
    return 0;
}
