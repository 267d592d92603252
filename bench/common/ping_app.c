/* SPDX-License-Identifier: MIT */
#include "ping_app.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int port;
    const char *subs;  /* the /dapr/subscribe answer, or NULL */
    atomic_int *posts; /* counts POSTs, or NULL */
} app_t;

static void app_cb(struct evhttp_request *req, void *arg) {
    app_t *a = arg;
    struct evbuffer *b = evbuffer_new();
    const char *uri = evhttp_request_get_uri(req);
    if (a->subs && strcmp(uri, "/dapr/subscribe") == 0) {
        evbuffer_add(b, a->subs, strlen(a->subs));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    } else {
        if (a->posts && evhttp_request_get_command(req) == EVHTTP_REQ_POST) ++*a->posts;
        evbuffer_add(b, "ok", 2);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    }
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static void *app_thread(void *arg) {
    app_t *a = arg;
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    evhttp_set_gencb(http, app_cb, a);
    if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)a->port) != 0) {
        fprintf(stderr, "app: cannot bind %d\n", a->port);
        exit(1);
    }
    event_base_dispatch(base);
    return NULL;
}

void bu_ping_app_start_subscriber(int port, const char *subs, atomic_int *posts) {
    app_t *a = malloc(sizeof *a); /* lives as long as the app thread, i.e. the process */
    if (!a) exit(1);
    *a = (app_t){port, subs, posts};
    pthread_t th;
    pthread_create(&th, NULL, app_thread, a);
    pthread_detach(th);
}

void bu_ping_app_start(int port) { bu_ping_app_start_subscriber(port, NULL, NULL); }
