/* SPDX-License-Identifier: MIT */
/* libdapr app side: the HTTP server a Dapr sidecar calls.
 *
 * Register handlers, then run:
 *
 *     dapr_app_t *app = dapr_app_new(NULL, &err);          // port from $APP_PORT
 *     dapr_app_route(app, "POST", "/order", on_order, NULL);
 *     dapr_app_subscribe(app, "order-queue", "order", "/order", on_event, NULL);
 *     dapr_app_binding(app, "/checkorders", on_cron, NULL);
 *     return dapr_app_run(app);                             // until SIGINT/SIGTERM
 *
 * What the server does for you:
 *   - GET /dapr/subscribe answers the subscriptions added with dapr_app_subscribe
 *     (an empty array when there are none);
 *   - subscription routes get the CloudEvent unwrapped (cloudevent.h) and answer
 *     Dapr's delivery protocol from the handler's dapr_event_status_t;
 *   - input-binding routes also answer the sidecar's OPTIONS probe;
 *   - when $APP_API_TOKEN (or options.api_token) is set, every request must carry
 *     header `dapr-api-token` with that value, otherwise 401;
 *   - bodies are capped (options.max_body, default 4 MiB; larger → 413);
 *   - unknown path → 404 JSON error, known path with another method → 405;
 *   - a handler runs with the request's `traceparent`/`tracestate` as its
 *     thread's trace context (trace.h), so the Dapr calls it makes join the
 *     request's trace.
 *
 * Concurrency: one event-loop thread accepts and parses requests and hands each
 * to a pool of worker threads (options.threads, default 8 or $DAPR_APP_THREADS)
 * that run the handlers; replies go back to the loop. A slow handler therefore
 * holds up only its own request. Handlers run concurrently: they must be
 * thread-safe (a shared dapr_client_t is). */
#ifndef DAPR_APP_H
#define DAPR_APP_H

#include <stddef.h>

#include "client.h"
#include "cloudevent.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dapr_app dapr_app_t;
typedef struct dapr_reply dapr_reply_t;

/** An incoming request. Valid only during the handler call. */
typedef struct dapr_request {
    const char *method;      /**< "GET", "POST", ... */
    const char *path;        /**< path without the query, as sent (percent-encoded) */
    const char *query;       /**< query string without '?', "" when none */
    const char *body;        /**< NUL-terminated (not counted in body_len) */
    size_t body_len;
    const dapr_kv_t *headers;
    size_t nheaders;
} dapr_request_t;

/** Header `name` of the request (case-insensitive), or NULL. */
const char *dapr_request_header(const dapr_request_t *req, const char *name);

/** A route handler: read req, fill rep. A reply left untouched is 200 with an empty body. */
typedef void (*dapr_handler_fn)(const dapr_request_t *req, dapr_reply_t *rep, void *arg);

/** What a subscription handler tells Dapr. */
typedef enum {
    DAPR_EVENT_SUCCESS = 0, /**< 200 {"status":"SUCCESS"}: acknowledged */
    DAPR_EVENT_RETRY,       /**< 500 {"status":"RETRY"}: redeliver later */
    DAPR_EVENT_DROP,        /**< 200 {"status":"DROP"}: acknowledged, dropped (dead-lettered) */
} dapr_event_status_t;

/** A subscription handler: ev is the unwrapped CloudEvent, req the raw request. */
typedef dapr_event_status_t (*dapr_event_fn)(const dapr_event_t *ev, const dapr_request_t *req, void *arg);

/** Server options. Zero fields take the environment or default. */
typedef struct dapr_app_options {
    const char *host;        /**< listen address, default "127.0.0.1" ($APP_CHANNEL_ADDRESS if set) */
    int port;                /**< default $APP_PORT; 0 there too = any free port (see dapr_app_port) */
    int threads;             /**< worker threads, default $DAPR_APP_THREADS or 8 */
    size_t max_body;         /**< default 4 MiB */
    const char *api_token;   /**< default $APP_API_TOKEN; "" disables the check */
    int no_signals;          /**< 1: dapr_app_run does not stop on SIGINT/SIGTERM */
} dapr_app_options_t;

/** Creates the server and binds its listening socket (so dapr_app_port is known).
 *  Returns NULL with err filled when the port cannot be bound. Sets SIGPIPE to
 *  SIG_IGN for the process (a client hanging up must not kill the app). */
dapr_app_t *dapr_app_new(const dapr_app_options_t *opts, dapr_error_t *err);

/** The bound TCP port. */
int dapr_app_port(const dapr_app_t *app);

/** Adds a route. method "*" matches any method. path is matched exactly (no query).
 *  Register before dapr_app_run/start. Returns 0, or -1 if the path+method exists. */
int dapr_app_route(dapr_app_t *app, const char *method, const char *path, dapr_handler_fn fn, void *arg);

/** Subscribes to pubsub/topic, delivered to POST route, and lists it in GET /dapr/subscribe. */
int dapr_app_subscribe(dapr_app_t *app, const char *pubsub, const char *topic, const char *route, dapr_event_fn fn,
                       void *arg);

/** Serves POST route as a subscription route without listing it in /dapr/subscribe:
 *  for declarative subscriptions (a Subscription resource names the route). */
int dapr_app_event_route(dapr_app_t *app, const char *route, dapr_event_fn fn, void *arg);

/** Serves an input binding on POST route (also answers OPTIONS route with 200).
 *  Dapr's default route is "/<binding name>". */
int dapr_app_binding(dapr_app_t *app, const char *route, dapr_handler_fn fn, void *arg);

/** Runs the server on the calling thread until dapr_app_stop (or SIGINT/SIGTERM).
 *  Returns 0 after a clean stop. */
int dapr_app_run(dapr_app_t *app);

/** Runs the server on a background thread. Returns 0 when it is accepting. */
int dapr_app_start(dapr_app_t *app);

/** Asks the server to stop; safe from any thread and from a handler. */
void dapr_app_stop(dapr_app_t *app);

/** Stops (if running), waits for the threads and frees everything. */
void dapr_app_free(dapr_app_t *app);

/* ---- replies ---- */

/** Sets status, content type (NULL = none) and a copy of body (len bytes). */
void dapr_reply_set(dapr_reply_t *rep, int status, const char *content_type, const void *body, size_t len);

/** Sets status and a text/plain body from printf-style arguments. */
void dapr_reply_text(dapr_reply_t *rep, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** Sets status and an application/json body (json is copied as is). */
void dapr_reply_json(dapr_reply_t *rep, int status, const char *json);

/** Adds a response header (copied). */
void dapr_reply_header(dapr_reply_t *rep, const char *name, const char *value);

#ifdef __cplusplus
}
#endif
#endif
