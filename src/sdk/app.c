/* SPDX-License-Identifier: MIT */
/* The app-side HTTP server. One libevent loop thread accepts connections and
 * parses requests; each routed request becomes a job for a pool of worker
 * threads that run the handlers; a worker hands the finished reply back to the
 * loop with event_active (libevent is made thread-aware with
 * evthread_use_pthreads). Only the loop thread touches evhttp objects, so a
 * slow handler occupies one worker, never the loop. */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <limits.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dapr/app.h"
#include "internal.h"

#define DEFAULT_THREADS 8
#define MAX_THREADS 256
#define DEFAULT_MAX_BODY (4u * 1024u * 1024u)
/* Requests waiting for a worker beyond this are answered 503 at once, so a flood cannot grow memory
 * without bound. */
#define MAX_QUEUED 4096

typedef enum { ROUTE_HANDLER, ROUTE_EVENT, ROUTE_BINDING } route_kind_t;

typedef struct {
    char *method; /* "*" = any */
    char *path;
    route_kind_t kind;
    dapr_handler_fn fn;
    dapr_event_fn efn;
    void *arg;
} route_t;

typedef struct {
    char *pubsub, *topic, *route;
} sub_t;

struct dapr_reply {
    int status;
    char *content_type;
    char *body;
    size_t len;
    dapr_kv_t *headers;
    size_t nheaders;
};

typedef struct job {
    dapr_app_t *app;
    struct evhttp_request *req; /* NULL once the client connection closed: nobody to answer */
    struct event *done_ev;      /* activated by the worker; runs on the loop thread */
    const route_t *route;
    dapr_request_t r;           /* views into the copies below */
    char *method, *path, *query, *body;
    dapr_kv_t *headers;
    dapr_reply_t rep;
    struct job *next;
} job_t;

struct dapr_app {
    char *host;
    int port;
    int nthreads;
    size_t max_body;
    char *token; /* NULL: no token check */
    int no_signals;
    struct event_base *base;
    struct evhttp *http;
    route_t *routes;
    size_t nroutes;
    sub_t *subs;
    size_t nsubs;
    /* the job queue */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_t *head, *tail;
    size_t queued;
    int stopping;
    pthread_t *workers;
    int nworkers;
    /* dapr_app_start's loop thread */
    pthread_t loop_thread;
    int bg_running;
};

/* ---------- replies ---------- */

static void reply_reset(dapr_reply_t *rep) {
    free(rep->content_type);
    free(rep->body);
    for (size_t i = 0; i < rep->nheaders; i++) {
        free((char *)rep->headers[i].key);
        free((char *)rep->headers[i].value);
    }
    free(rep->headers);
    memset(rep, 0, sizeof *rep);
}

void dapr_reply_set(dapr_reply_t *rep, int status, const char *content_type, const void *body, size_t len) {
    free(rep->content_type);
    free(rep->body);
    rep->status = status;
    rep->content_type = content_type ? dapri_xstrdup(content_type) : NULL;
    rep->body = dapri_xstrndup(body ? body : "", body ? len : 0);
    rep->len = body ? len : 0;
}

void dapr_reply_text(dapr_reply_t *rep, int status, const char *fmt, ...) {
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) abort();
    dapr_reply_set(rep, status, "text/plain; charset=utf-8", s, (size_t)n);
    free(s);
}

void dapr_reply_json(dapr_reply_t *rep, int status, const char *json) {
    dapr_reply_set(rep, status, "application/json", json, json ? strlen(json) : 0);
}

void dapr_reply_header(dapr_reply_t *rep, const char *name, const char *value) {
    rep->headers = dapri_xrealloc(rep->headers, (rep->nheaders + 1) * sizeof *rep->headers);
    rep->headers[rep->nheaders].key = dapri_xstrdup(name);
    rep->headers[rep->nheaders].value = dapri_xstrdup(value);
    rep->nheaders++;
}

const char *dapr_request_header(const dapr_request_t *req, const char *name) {
    for (size_t i = 0; req && i < req->nheaders; i++) {
        if (strcasecmp(req->headers[i].key, name) == 0) return req->headers[i].value;
    }
    return NULL;
}

/* Answers directly from the loop thread (errors, OPTIONS, /dapr/subscribe). */
static void send_now(struct evhttp_request *req, int status, const char *ctype, const char *body) {
    struct evbuffer *b = evbuffer_new();
    if (ctype) evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    if (body) evbuffer_add(b, body, strlen(body));
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
}

static void send_error(struct evhttp_request *req, int status, const char *code, const char *msg) {
    json_t *o = json_pack("{s:s,s:s}", "errorCode", code, "message", msg);
    char *s = json_dumps(o, JSON_COMPACT);
    send_now(req, status, "application/json", s);
    free(s);
    json_decref(o);
}

/* ---------- jobs ---------- */

static void job_free(job_t *j) {
    if (j->done_ev) event_free(j->done_ev);
    free(j->method);
    free(j->path);
    free(j->query);
    free(j->body);
    for (size_t i = 0; i < j->r.nheaders; i++) {
        free((char *)j->headers[i].key);
        free((char *)j->headers[i].value);
    }
    free(j->headers);
    reply_reset(&j->rep);
    free(j);
}

static void on_conn_close(struct evhttp_connection *evcon, void *arg) {
    (void)evcon;
    job_t *j = arg;
    j->req = NULL; /* evhttp frees the request right after this callback */
}

/* Loop thread: the worker finished; send its reply. */
static void on_job_done(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    job_t *j = arg;
    if (j->req) {
        struct evhttp_request *req = j->req;
        struct evhttp_connection *evcon = evhttp_request_get_connection(req);
        if (evcon) evhttp_connection_set_closecb(evcon, NULL, NULL);
        struct evkeyvalq *out = evhttp_request_get_output_headers(req);
        if (j->rep.content_type) evhttp_add_header(out, "Content-Type", j->rep.content_type);
        for (size_t i = 0; i < j->rep.nheaders; i++) evhttp_add_header(out, j->rep.headers[i].key, j->rep.headers[i].value);
        struct evbuffer *b = evbuffer_new();
        if (j->rep.len) evbuffer_add(b, j->rep.body, j->rep.len);
        evhttp_send_reply(req, j->rep.status ? j->rep.status : 200, NULL, b);
        evbuffer_free(b);
    }
    job_free(j);
}

static void run_event_route(job_t *j) {
    dapr_event_t ev;
    dapr_cloudevent_parse(j->r.body, j->r.body_len, &ev);
    dapr_event_status_t st = j->route->efn(&ev, &j->r, j->route->arg);
    dapr_event_clear(&ev);
    if (st == DAPR_EVENT_RETRY) {
        /* A non-2xx status makes any Dapr runtime retry, whether or not it reads the body. */
        dapr_reply_json(&j->rep, 500, "{\"status\":\"RETRY\"}");
    } else if (st == DAPR_EVENT_DROP) {
        dapr_reply_json(&j->rep, 200, "{\"status\":\"DROP\"}");
    } else {
        dapr_reply_json(&j->rep, 200, "{\"status\":\"SUCCESS\"}");
    }
}

static void *worker_main(void *arg) {
    dapr_app_t *app = arg;
    for (;;) {
        pthread_mutex_lock(&app->mu);
        while (!app->head && !app->stopping) pthread_cond_wait(&app->cv, &app->mu);
        if (app->stopping) {
            pthread_mutex_unlock(&app->mu);
            return NULL;
        }
        job_t *j = app->head;
        app->head = j->next;
        if (!app->head) app->tail = NULL;
        app->queued--;
        pthread_mutex_unlock(&app->mu);

        /* The handler's Dapr calls carry the request's trace context (trace.h). */
        dapr_trace_context_set(dapr_request_header(&j->r, "traceparent"), dapr_request_header(&j->r, "tracestate"));
        if (j->route->kind == ROUTE_EVENT) {
            run_event_route(j);
        } else {
            j->route->fn(&j->r, &j->rep, j->route->arg);
        }
        dapr_trace_context_set(NULL, NULL);
        event_active(j->done_ev, EV_READ, 1); /* j belongs to the loop thread from here on */
    }
}

/* ---------- request dispatch (loop thread) ---------- */

static const char *method_name(enum evhttp_cmd_type t) {
    switch (t) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    }
    return "GET";
}

static char *subscriptions_json(const dapr_app_t *app) {
    json_t *arr = json_array();
    for (size_t i = 0; i < app->nsubs; i++) {
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "pubsubname", app->subs[i].pubsub, "topic",
                                             app->subs[i].topic, "route", app->subs[i].route));
    }
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

static void enqueue(dapr_app_t *app, struct evhttp_request *req, const route_t *route, const char *method,
                    const char *path, const char *query) {
    pthread_mutex_lock(&app->mu);
    int full = app->queued >= MAX_QUEUED;
    pthread_mutex_unlock(&app->mu);
    if (full) {
        send_error(req, 503, DAPR_ERR_APP_BUSY, "too many requests waiting for a worker");
        return;
    }
    job_t *j = dapri_xcalloc(1, sizeof *j);
    j->app = app;
    j->req = req;
    j->route = route;
    j->method = dapri_xstrdup(method);
    j->path = dapri_xstrdup(path);
    j->query = dapri_xstrdup(query ? query : "");
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t blen = evbuffer_get_length(in);
    j->body = dapri_xmalloc(blen + 1);
    evbuffer_copyout(in, j->body, blen);
    j->body[blen] = '\0';
    size_t nh = 0;
    struct evkeyval *kv;
    struct evkeyvalq *hdrs = evhttp_request_get_input_headers(req);
    for (kv = hdrs->tqh_first; kv; kv = kv->next.tqe_next) nh++;
    j->headers = dapri_xcalloc(nh, sizeof *j->headers);
    size_t i = 0;
    for (kv = hdrs->tqh_first; kv; kv = kv->next.tqe_next) {
        j->headers[i].key = dapri_xstrdup(kv->key);
        j->headers[i].value = dapri_xstrdup(kv->value);
        i++;
    }
    j->r = (dapr_request_t){.method = j->method, .path = j->path, .query = j->query, .body = j->body,
                            .body_len = blen, .headers = j->headers, .nheaders = nh};
    j->done_ev = event_new(app->base, -1, 0, on_job_done, j);
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (evcon) evhttp_connection_set_closecb(evcon, on_conn_close, j);

    pthread_mutex_lock(&app->mu);
    if (app->tail) app->tail->next = j; else app->head = j;
    app->tail = j;
    app->queued++;
    pthread_cond_signal(&app->cv);
    pthread_mutex_unlock(&app->mu);
}

/* 1 if the request's token equals ours, taking as long for every token of a given length (no timing oracle).
 * libdapr stands alone (sources.cmake), so this is its own copy of core's rs_secret_equal. */
static int token_equal(const char *got, const char *want) {
    if (!got) return 0;
    size_t n = strlen(want), m = strlen(got);
    volatile unsigned char diff = (unsigned char)(n != m);
    for (size_t i = 0; i < m; i++) diff |= (unsigned char)(got[i] ^ want[i % (n ? n : 1)]);
    return diff == 0 && n > 0;
}

static void on_request(struct evhttp_request *req, void *arg) {
    dapr_app_t *app = arg;
    if (app->token) {
        const char *t = evhttp_find_header(evhttp_request_get_input_headers(req), "dapr-api-token");
        if (!token_equal(t, app->token)) {
            send_now(req, 401, "text/plain", "invalid api token\n");
            return;
        }
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    if (!path || !*path) path = "/";
    const char *method = method_name(evhttp_request_get_command(req));

    if (strcmp(path, "/dapr/subscribe") == 0 && strcmp(method, "GET") == 0) {
        char *s = subscriptions_json(app);
        send_now(req, 200, "application/json", s);
        free(s);
        return;
    }
    int path_known = 0;
    for (size_t i = 0; i < app->nroutes; i++) {
        const route_t *r = &app->routes[i];
        if (strcmp(r->path, path) != 0) continue;
        path_known = 1;
        if (r->kind == ROUTE_BINDING && strcmp(method, "OPTIONS") == 0) {
            send_now(req, 200, NULL, NULL); /* the sidecar's input-binding probe */
            return;
        }
        if (strcmp(r->method, "*") == 0 || strcmp(r->method, method) == 0) {
            enqueue(app, req, r, method, path, query);
            return;
        }
    }
    if (path_known) {
        send_error(req, 405, DAPR_ERR_METHOD_NOT_ALLOWED, "method not allowed on this path");
    } else {
        send_error(req, 404, DAPR_ERR_NOT_FOUND, "no route for this path");
    }
}

/* ---------- lifecycle ---------- */

static const char *env_or(const char *name, const char *def) {
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static evutil_socket_t listen_on(const char *host, int port, int *bound_port, dapr_error_t *err) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        dapr_error_set(err, 0, DAPR_ERR_APP_LISTEN, "bad listen address %s (IPv4 expected)", host);
        return -1;
    }
    evutil_socket_t fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        dapr_error_set(err, 0, DAPR_ERR_APP_LISTEN, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 512) != 0) {
        dapr_error_set(err, 0, DAPR_ERR_APP_LISTEN, "listen on %s:%d: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    *bound_port = ntohs(sa.sin_port);
    evutil_make_socket_nonblocking(fd);
    return fd;
}

/* event_active from worker threads needs a lock-aware libevent, set up before the base exists. */
static void threads_init(void) { evthread_use_pthreads(); }

dapr_app_t *dapr_app_new(const dapr_app_options_t *opts, dapr_error_t *err) {
    dapr_error_clear(err);
    dapr_app_options_t o = {0};
    if (opts) o = *opts;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, threads_init);
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up must not kill the app */

    dapr_app_t *app = dapri_xcalloc(1, sizeof *app);
    app->host = dapri_xstrdup(o.host ? o.host : env_or("APP_CHANNEL_ADDRESS", "127.0.0.1"));
    int port = o.port > 0 ? o.port : dapri_env_int("APP_PORT", 0, 0, 65535);
    app->nthreads = o.threads > 0 ? o.threads : dapri_env_int("DAPR_APP_THREADS", 0, 0, INT_MAX);
    if (app->nthreads <= 0) app->nthreads = DEFAULT_THREADS;
    if (app->nthreads > MAX_THREADS) app->nthreads = MAX_THREADS;
    app->max_body = o.max_body ? o.max_body : DEFAULT_MAX_BODY;
    const char *tok = o.api_token ? o.api_token : getenv("APP_API_TOKEN");
    if (tok && *tok) app->token = dapri_xstrdup(tok);
    app->no_signals = o.no_signals;
    pthread_mutex_init(&app->mu, NULL);
    pthread_cond_init(&app->cv, NULL);

    evutil_socket_t fd = listen_on(app->host, port, &app->port, err);
    app->base = fd >= 0 ? event_base_new() : NULL;
    app->http = app->base ? evhttp_new(app->base) : NULL;
    if (!app->http || evhttp_accept_socket(app->http, fd) != 0) {
        if (fd >= 0) {
            close(fd);
            dapr_error_set(err, 0, DAPR_ERR_APP_LISTEN, "cannot start the HTTP server");
        }
        dapr_app_free(app);
        return NULL;
    }
    evhttp_set_gencb(app->http, on_request, app);
    evhttp_set_max_body_size(app->http, (ev_ssize_t)app->max_body);
    evhttp_set_max_headers_size(app->http, 64 * 1024);
    evhttp_set_allowed_methods(app->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    return app;
}

int dapr_app_port(const dapr_app_t *app) { return app->port; }

static int add_route(dapr_app_t *app, const char *method, const char *path, route_kind_t kind, dapr_handler_fn fn,
                     dapr_event_fn efn, void *arg) {
    for (size_t i = 0; i < app->nroutes; i++) {
        if (strcmp(app->routes[i].path, path) == 0 &&
            (strcmp(app->routes[i].method, method) == 0 || strcmp(app->routes[i].method, "*") == 0 ||
             strcmp(method, "*") == 0)) {
            return -1;
        }
    }
    app->routes = dapri_xrealloc(app->routes, (app->nroutes + 1) * sizeof *app->routes);
    app->routes[app->nroutes++] = (route_t){.method = dapri_xstrdup(method), .path = dapri_xstrdup(path),
                                            .kind = kind, .fn = fn, .efn = efn, .arg = arg};
    return 0;
}

int dapr_app_route(dapr_app_t *app, const char *method, const char *path, dapr_handler_fn fn, void *arg) {
    return add_route(app, method ? method : "*", path, ROUTE_HANDLER, fn, NULL, arg);
}

int dapr_app_event_route(dapr_app_t *app, const char *route, dapr_event_fn fn, void *arg) {
    return add_route(app, "POST", route, ROUTE_EVENT, NULL, fn, arg);
}

int dapr_app_subscribe(dapr_app_t *app, const char *pubsub, const char *topic, const char *route, dapr_event_fn fn,
                       void *arg) {
    if (dapr_app_event_route(app, route, fn, arg) != 0) return -1;
    app->subs = dapri_xrealloc(app->subs, (app->nsubs + 1) * sizeof *app->subs);
    app->subs[app->nsubs++] =
        (sub_t){.pubsub = dapri_xstrdup(pubsub), .topic = dapri_xstrdup(topic), .route = dapri_xstrdup(route)};
    return 0;
}

int dapr_app_binding(dapr_app_t *app, const char *route, dapr_handler_fn fn, void *arg) {
    return add_route(app, "POST", route, ROUTE_BINDING, fn, NULL, arg);
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    (void)sig;
    (void)what;
    event_base_loopbreak(((dapr_app_t *)arg)->base);
}

static int serve(dapr_app_t *app) {
    app->workers = dapri_xcalloc((size_t)app->nthreads, sizeof *app->workers);
    for (app->nworkers = 0; app->nworkers < app->nthreads; app->nworkers++) {
        if (pthread_create(&app->workers[app->nworkers], NULL, worker_main, app) != 0) break;
    }
    struct event *sigs[2] = {NULL, NULL};
    if (!app->no_signals) {
        sigs[0] = evsignal_new(app->base, SIGINT, on_signal, app);
        sigs[1] = evsignal_new(app->base, SIGTERM, on_signal, app);
        for (int i = 0; i < 2; i++) event_add(sigs[i], NULL);
    }
    int rc = event_base_dispatch(app->base) < 0 ? -1 : 0;
    for (int i = 0; i < 2; i++) if (sigs[i]) event_free(sigs[i]);

    /* Stop the workers (each finishes its current handler), then send the replies they produced. */
    pthread_mutex_lock(&app->mu);
    app->stopping = 1;
    pthread_cond_broadcast(&app->cv);
    pthread_mutex_unlock(&app->mu);
    for (int i = 0; i < app->nworkers; i++) pthread_join(app->workers[i], NULL);
    free(app->workers);
    app->workers = NULL;
    app->nworkers = 0;
    event_base_loop(app->base, EVLOOP_NONBLOCK);
    /* Requests no worker picked up: tell the caller we are going away. */
    for (job_t *j = app->head, *next; j; j = next) {
        next = j->next;
        if (j->req) {
            struct evhttp_connection *evcon = evhttp_request_get_connection(j->req);
            if (evcon) evhttp_connection_set_closecb(evcon, NULL, NULL);
            send_error(j->req, 503, DAPR_ERR_APP_STOPPING, "the app is shutting down");
        }
        job_free(j);
    }
    app->head = app->tail = NULL;
    return rc;
}

int dapr_app_run(dapr_app_t *app) { return serve(app); }

static void *loop_main(void *arg) {
    serve(arg);
    return NULL;
}

int dapr_app_start(dapr_app_t *app) {
    app->no_signals = 1; /* signals belong to the program's own main loop then */
    if (pthread_create(&app->loop_thread, NULL, loop_main, app) != 0) return -1;
    app->bg_running = 1;
    return 0;
}

void dapr_app_stop(dapr_app_t *app) {
    if (app && app->base) event_base_loopbreak(app->base);
}

void dapr_app_free(dapr_app_t *app) {
    if (!app) return;
    if (app->bg_running) {
        dapr_app_stop(app);
        pthread_join(app->loop_thread, NULL);
    }
    if (app->http) evhttp_free(app->http);
    if (app->base) event_base_free(app->base);
    for (size_t i = 0; i < app->nroutes; i++) {
        free(app->routes[i].method);
        free(app->routes[i].path);
    }
    free(app->routes);
    for (size_t i = 0; i < app->nsubs; i++) {
        free(app->subs[i].pubsub);
        free(app->subs[i].topic);
        free(app->subs[i].route);
    }
    free(app->subs);
    pthread_mutex_destroy(&app->mu);
    pthread_cond_destroy(&app->cv);
    free(app->host);
    free(app->token);
    free(app);
}
