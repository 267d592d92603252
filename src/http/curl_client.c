/* SPDX-License-Identifier: MIT */
/* The libcurl transport (https and DNS names; see transport.h): libcurl
 * multi on libevent, following curl's documented socket-action pattern: curl tells us which sockets to watch (socket callback) and when to
 * wake it (timer callback); we tell curl when a socket is ready. Completed
 * transfers are read off curl_multi_info_read and handed to their callbacks. */
#include "http/transport.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <event2/event_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/log.h"

/* libcurl is opened with dlopen on the first call that needs it (https, DNS names), not linked: linking it
 * maps its dependency tree (gnutls, krb5, ldap, ssh2, rtmp, psl, p11-kit... about 3 MB of RSS, and gnutls's
 * constructor runs at start) into every sidecar, most of which only ever call IP addresses over the h1 pool
 * (bench/system/bench_memory.py). */
static struct {
    int state; /* 0 not tried, 1 loaded, -1 failed */
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_reset)(CURL *);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *);
    CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} lib;

/* Loads libcurl once; 0 when every function was found. */
static int load_libcurl(void) {
    if (lib.state) return lib.state > 0 ? 0 : -1;
    lib.state = -1;
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        RS_ERROR("http", "https and DNS-name URLs need libcurl, which could not be loaded: %s", dlerror());
        return -1;
    }
    struct {
        const char *name;
        void **slot;
    } syms[] = {
#define SYM(f) {"curl_" #f, (void **)&lib.f}
        SYM(global_init),   SYM(easy_init),        SYM(easy_reset),          SYM(easy_cleanup),
        SYM(easy_setopt),   SYM(easy_getinfo),     SYM(easy_strerror),       SYM(multi_init),
        SYM(multi_cleanup), SYM(multi_setopt),     SYM(multi_add_handle),    SYM(multi_remove_handle),
        SYM(multi_assign),  SYM(multi_info_read),  SYM(multi_socket_action), SYM(slist_append),
        SYM(slist_free_all),
#undef SYM
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].slot = dlsym(h, syms[i].name); /* POSIX: a function pointer round-trips through void * */
        if (!*syms[i].slot) {
            RS_ERROR("http", "libcurl.so.4 has no %s", syms[i].name);
            return -1;
        }
    }
    if (lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -1;
    lib.state = 1;
    return 0;
}

/* Easy handles kept for reuse: creating one per call showed up as a few percent
 * of a sidecar's CPU per proxied request. */
#define EASY_POOL_MAX 256

struct rs_curl_client {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct curl_call *calls; /* in flight, for cleanup on free */
    CURL *easy_pool[EASY_POOL_MAX];
    int easy_pooled;
};

typedef struct curl_call {
    rs_http_call_t base; /* first: routes rs_http_cancel here */
    rs_curl_client_t *client;
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    rs_http_response_t resp;
    rs_http_done_fn done;
    void *arg;
    int64_t start_us;
    int too_large;
    struct curl_call *prev, *next;
} curl_call_t;

static void link_call(rs_curl_client_t *c, curl_call_t *call) {
    call->next = c->calls;
    if (c->calls) c->calls->prev = call;
    c->calls = call;
}

static void unlink_call(rs_curl_client_t *c, curl_call_t *call) {
    if (call->prev) call->prev->next = call->next;
    else c->calls = call->next;
    if (call->next) call->next->prev = call->prev;
}

struct sock_ctx {
    struct event ev;  /* embedded: re-assigned, not re-allocated, when curl changes what it waits for */
    int assigned;
    rs_curl_client_t *client;
};

static CURL *take_easy(rs_curl_client_t *c) {
    return c->easy_pooled ? c->easy_pool[--c->easy_pooled] : lib.easy_init();
}

static void give_back_easy(rs_curl_client_t *c, CURL *e) {
    if (!e) return;
    if (c->easy_pooled < EASY_POOL_MAX) {
        lib.easy_reset(e); /* forgets options; connections live in the multi handle's cache */
        c->easy_pool[c->easy_pooled++] = e;
    } else {
        lib.easy_cleanup(e);
    }
}

static void free_call(curl_call_t *call) {
    lib.slist_free_all(call->hdrs);
    give_back_easy(call->client, call->easy);
    free(call->body);
    rs_kvlist_free(&call->resp.headers);
    rs_buf_free(&call->resp.body);
    free(call);
}

static void check_done(rs_curl_client_t *c) {
    CURLMsg *msg;
    int left;
    while ((msg = lib.multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        curl_call_t *call = NULL;
        lib.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        CURLcode rc = msg->data.result;
        lib.multi_remove_handle(c->multi, msg->easy_handle);
        unlink_call(c, call);
        rs_http_response_t *r = &call->resp;
        r->latency_us = rs_now_us() - call->start_us;
        if (rc == CURLE_OK) {
            long st = 0;
            lib.easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &st);
            r->result = RS_HTTP_OK;
            r->status = (int)st;
        } else {
            if (call->too_large) r->result = RS_HTTP_ERR_TOO_LARGE;
            else if (rc == CURLE_OPERATION_TIMEDOUT) r->result = RS_HTTP_ERR_TIMEOUT;
            else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) r->result = RS_HTTP_ERR_CONNECT;
            else r->result = RS_HTTP_ERR_TRANSPORT;
            snprintf(r->error, sizeof r->error, "%s", call->too_large ? "response too large" : lib.easy_strerror(rc));
        }
        call->done(call->arg, r);
        free_call(call);
    }
}

static void on_socket_ready(evutil_socket_t fd, short what, void *arg) {
    rs_curl_client_t *c = arg;
    int flags = 0, running;
    if (what & EV_READ) flags |= CURL_CSELECT_IN;
    if (what & EV_WRITE) flags |= CURL_CSELECT_OUT;
    lib.multi_socket_action(c->multi, fd, flags, &running);
    check_done(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    rs_curl_client_t *c = arg;
    int running;
    (void)fd;
    (void)what;
    lib.multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
    rs_curl_client_t *c = userp;
    struct sock_ctx *sc = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (sc) {
            if (sc->assigned) event_del(&sc->ev);
            free(sc);
            lib.multi_assign(c->multi, s, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST;
    if (what & CURL_POLL_IN) kind |= EV_READ;
    if (what & CURL_POLL_OUT) kind |= EV_WRITE;
    if (!sc) {
        sc = calloc(1, sizeof *sc);
        if (!sc) return -1;
        sc->client = c;
        lib.multi_assign(c->multi, s, sc);
    } else if (sc->assigned) {
        event_del(&sc->ev);
    }
    event_assign(&sc->ev, c->base, s, kind, on_socket_ready, c);
    sc->assigned = 1;
    event_add(&sc->ev, NULL);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    rs_curl_client_t *c = userp;
    (void)multi;
    if (timeout_ms < 0) {
        evtimer_del(c->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
    return 0;
}

static size_t on_body(char *ptr, size_t size, size_t n, void *arg) {
    curl_call_t *call = arg;
    if (rs_buf_append(&call->resp.body, ptr, size * n) != 0) {
        call->too_large = 1;
        return 0; /* makes curl abort the transfer */
    }
    return size * n;
}

static size_t on_header(char *line, size_t size, size_t n, void *arg) {
    curl_call_t *call = arg;
    size_t len = size * n;
    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* A new response (e.g. after 100 Continue): keep only the last one's headers. */
        rs_kvlist_free(&call->resp.headers);
        return len;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon) return len;
    char *key = strndup(line, (size_t)(colon - line));
    const char *v = colon + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    char *val = strndup(v, (size_t)(end - v));
    if (key && val) rs_kvlist_add(&call->resp.headers, key, val);
    free(key);
    free(val);
    return len;
}

rs_curl_client_t *rs_curl_client_new(struct event_base *base) {
    if (load_libcurl()) return NULL;
    rs_curl_client_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->base = base;
    c->multi = lib.multi_init();
    c->timer = evtimer_new(base, on_timer, c);
    lib.multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    lib.multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    lib.multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    lib.multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    lib.multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 512L);
    return c;
}

void rs_curl_client_free(rs_curl_client_t *c) {
    if (!c) return;
    while (c->calls) rs_curl_cancel(&c->calls->base);
    while (c->easy_pooled) lib.easy_cleanup(c->easy_pool[--c->easy_pooled]);
    lib.multi_cleanup(c->multi);
    event_free(c->timer);
    free(c);
}

rs_http_call_t *rs_curl_send(rs_curl_client_t *c, const rs_http_request_t *req, rs_http_done_fn done, void *arg) {
    curl_call_t *call = calloc(1, sizeof *call);
    if (!call) return NULL;
    call->base.via = RS_HTTP_VIA_CURL;
    call->client = c;
    call->done = done;
    call->arg = arg;
    call->start_us = rs_now_us();
    rs_buf_init(&call->resp.body, req->max_response ? req->max_response : RS_HTTP_DEFAULT_MAX_RESPONSE);
    call->easy = take_easy(c);
    if (!call->easy) {
        free(call);
        return NULL;
    }
    CURL *e = call->easy;
    lib.easy_setopt(e, CURLOPT_URL, req->url);
    lib.easy_setopt(e, CURLOPT_PRIVATE, call);
    lib.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    lib.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    lib.easy_setopt(e, CURLOPT_WRITEDATA, call);
    lib.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    lib.easy_setopt(e, CURLOPT_HEADERDATA, call);
    lib.easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    lib.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (req->timeout_ms > 0) lib.easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);

    const char *method = req->method ? req->method : "GET";
    if (strcmp(method, "GET") == 0) {
        lib.easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        lib.easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        lib.easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    if (req->body_len || (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0)) {
        call->body = malloc(req->body_len + 1);
        if (!call->body) {
            free_call(call);
            return NULL;
        }
        if (req->body_len) memcpy(call->body, req->body, req->body_len);
        lib.easy_setopt(e, CURLOPT_POSTFIELDS, call->body);
        lib.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        if (strcmp(method, "POST") != 0) lib.easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    /* Suppress curl's defaults that the caller did not ask for. */
    call->hdrs = lib.slist_append(call->hdrs, "Expect:");
    int has_ct = 0, has_accept = 0;
    if (req->headers) {
        for (size_t i = 0; i < req->headers->len; i++) {
            const rs_kv_t *h = &req->headers->items[i];
            if (strcasecmp(h->key, "content-type") == 0) has_ct = 1;
            if (strcasecmp(h->key, "accept") == 0) has_accept = 1;
            char *line = NULL;
            if (h->value[0]) {
                if (asprintf(&line, "%s: %s", h->key, h->value) < 0) line = NULL;
            } else if (asprintf(&line, "%s;", h->key) < 0) {
                line = NULL; /* curl's syntax for a header with an empty value */
            }
            if (line) call->hdrs = lib.slist_append(call->hdrs, line);
            free(line);
        }
    }
    if (!has_ct && call->body) call->hdrs = lib.slist_append(call->hdrs, "Content-Type:");
    if (!has_accept) call->hdrs = lib.slist_append(call->hdrs, "Accept:");
    lib.easy_setopt(e, CURLOPT_HTTPHEADER, call->hdrs);

    if (lib.multi_add_handle(c->multi, e) != CURLM_OK) {
        free_call(call);
        return NULL;
    }
    link_call(c, call);
    return &call->base;
}

void rs_curl_cancel(rs_http_call_t *handle) {
    curl_call_t *call = (curl_call_t *)handle;
    rs_curl_client_t *c = call->client;
    lib.multi_remove_handle(c->multi, call->easy);
    unlink_call(c, call);
    free_call(call);
}

