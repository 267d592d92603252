/* SPDX-License-Identifier: MIT */
#include "ping_app.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void app_cb(struct evhttp_request *req, void *arg) {
    (void)arg;
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, "ok", 2);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static void *app_thread(void *arg) {
    int port = (int)(long)arg;
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    evhttp_set_gencb(http, app_cb, NULL);
    if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)port) != 0) {
        fprintf(stderr, "app: cannot bind %d\n", port);
        exit(1);
    }
    event_base_dispatch(base);
    return NULL;
}

void bu_ping_app_start(int port) {
    pthread_t th;
    pthread_create(&th, NULL, app_thread, (void *)(long)port);
    pthread_detach(th);
}
