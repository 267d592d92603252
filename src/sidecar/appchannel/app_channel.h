/* SPDX-License-Identifier: MIT */
/* The app channel: the one way ripstopd calls its own app (spec §2.1 app
 * channel). Service invocation's local leg, input-binding and pub/sub
 * deliveries (single and bulk), the binding OPTIONS probe and the
 * GET /dapr/subscribe fetch all go through rs_app_call, which owns:
 *
 *   - the app's base URL ("http://<app-channel-address>:<app-port>");
 *   - the app API token (dapr-api-token on every call when APP_API_TOKEN is set);
 *   - the reply cap (--max-body-size, as daprd reads app replies);
 *   - the mapping of the app's answer to a resiliency outcome;
 *   - aborting a call in flight.
 *
 * Callers speak HTTP: a request is a method, a path, headers and a body, and
 * the answer a status, headers and a body. With --app-protocol grpc the
 * channel carries the same calls as Dapr's AppCallback service
 * (grpc_app.c): each request says what it is (rs_app_kind_t), the channel
 * turns it into the matching gRPC call and the app's reply back into the
 * HTTP answer the caller already understands, so no caller knows which
 * protocol the app speaks.
 *
 * A call's state lives in an rs_app_call_t the caller embeds in its own
 * operation, so a call costs no allocation of its own (the invoke path is
 * allocation-counted, docs/performance.md). */
#ifndef RS_SIDECAR_APP_CHANNEL_H
#define RS_SIDECAR_APP_CHANNEL_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"
#include "http/client.h"
#include "sidecar/resiliency/run.h"

typedef struct rs_app_channel rs_app_channel_t;

/** A gRPC app's error status on an invocation, in the HTTP-shaped answer (which has the HTTP status and JSON body
 *  daprd gives an HTTP caller) as three answer headers: the code, the percent-encoded message and the
 *  grpc-status-details-bin value. They travel with the answer (also through a peer sidecar) so that the gRPC API
 *  answers InvokeService with the app's own status, as daprd; ops/invoke.c drops them for every other caller. An
 *  HTTP app's answer never carries them: the channel drops them, so an HTTP app cannot fake a gRPC status. */
#define RS_APP_GRPC_STATUS "ripstop-grpc-status"
#define RS_APP_GRPC_MESSAGE "ripstop-grpc-message"
#define RS_APP_GRPC_DETAILS "ripstop-grpc-status-details-bin"

/** Which answers of the app count as success for the caller's resiliency policy. */
typedef enum {
    RS_APP_ACCEPT_2XX_3XX = 0, /* service invocation: 200-399 */
    RS_APP_ACCEPT_2XX,         /* pub/sub: 200-299 (the body then says SUCCESS/RETRY/DROP) */
    RS_APP_ACCEPT_200,         /* input bindings: exactly 200, so Dapr retries even a 204 */
} rs_app_accept_t;

/** What a call is for. Only the gRPC channel needs it (it picks the AppCallback method by it); 0 is invocation. */
typedef enum {
    RS_APP_INVOKE = 0,          /* OnInvoke; the answer is the app's */
    RS_APP_TOPIC_EVENT,         /* OnTopicEvent; body = the CloudEvent; answer 200 {"status": SUCCESS|RETRY|DROP} */
    RS_APP_BULK_TOPIC_EVENT,    /* OnBulkTopicEventAlpha1; body = the bulk request; answer 200 {"statuses": [...]} */
    RS_APP_BINDING_EVENT,       /* OnBindingEvent for binding `name`; headers but Content-Type = the metadata */
    RS_APP_BINDING_PROBE,       /* ListInputBindings: 200 when it lists binding `name`, else 404 */
    RS_APP_SUBSCRIPTIONS,       /* ListTopicSubscriptions; answer 200 with the JSON of GET /dapr/subscribe */
    RS_APP_HEALTH_PROBE,        /* AppCallbackHealthCheck/HealthCheck; answer 200 when it succeeds. As daprd's
                                 * probes, sent without the app token and left out of the http_client metrics */
} rs_app_kind_t;

/** One call to the app. Everything is borrowed for the duration of rs_app_call only. */
typedef struct rs_app_request {
    const char *method;     /* "POST", "GET", "OPTIONS", ... */
    const char *path;       /* after the base URL; a '/' is put first when it has none ("orders" -> /orders) */
    const char *query;      /* without the '?', or NULL */
    rs_kvlist_t *headers;   /* the caller's headers; the channel sets dapr-api-token on them (once); may be NULL */
    const void *body;       /* may be NULL */
    size_t body_len;
    int64_t timeout_ms;     /* whole call; 0 = none (a resiliency timeout still applies) */
    rs_app_accept_t accept;
    rs_app_kind_t kind;
    const char *name;       /* the binding's name, for RS_APP_BINDING_EVENT and RS_APP_BINDING_PROBE */
} rs_app_request_t;

/** The app's answer. resp is the client's (valid during the call only; the callback may take resp->body with
 *  rs_buf_steal or resp->headers, as http/client.h allows). o is resp judged by the request's `accept`: ok, or an
 *  error carrying the status (retriable) or the transport failure; the callback may change it before passing it
 *  to rs_attempt_done. */
typedef void (*rs_app_reply_fn)(void *arg, rs_http_response_t *resp, rs_outcome_t *o);

/** What a gRPC app's OnBindingEvent reply asks for beyond its data: BindingEventResponse.to and .concurrency. daprd
 *  sends the reply's data to these output bindings (binding_delivery.c does); an HTTP app's reply asks for
 *  nothing (daprd reads only the body as the binding's answer). */
typedef struct rs_app_binding_forward {
    char **to;     /* output binding names, as the app wrote them */
    size_t n_to;
    int parallel;  /* PARALLEL; else SEQUENTIAL, the default */
} rs_app_binding_forward_t;

/** A call's state, embedded in the caller's operation. Zero-initialise it; reuse it for the next attempt. */
typedef struct rs_app_call {
    /* private */
    rs_http_call_t *http_;
    struct rs_app_grpc_call *grpc_;
    rs_app_accept_t accept_;
    rs_app_reply_fn reply_;
    void *arg_;
    rs_app_channel_t *ch_;
    const char *method_;  /* a static label */
    int64_t start_us_;
    size_t sent_;
    int probe_;           /* a health probe (RS_APP_HEALTH_PROBE) */
    const rs_app_binding_forward_t *forward_; /* set during the reply callback only */
} rs_app_call_t;

/** Creates the channel. address/port: the app (port 0 = no app: every call fails with "app channel is not
 *  initialized"). app_token: APP_API_TOKEN or NULL (copied). reply_cap: the largest reply body accepted. */
rs_app_channel_t *rs_app_channel_new(rs_http_client_t *http, const char *address, int port, const char *app_token,
                                     size_t reply_cap);
struct rs_metrics;
/** Records daprd's HTTP client families for every answered call in m (NULL: none): dapr_http_client_completed_count
 *  and _roundtrip_latency (method, status), _sent_bytes (method, status) and _received_bytes (request and answer
 *  bodies). */
void rs_app_channel_set_metrics(rs_app_channel_t *ch, struct rs_metrics *m);
/** The same for an app that serves Dapr's AppCallback service over gRPC (--app-protocol grpc): one HTTP/2
 *  connection on base, dialled by the first call. */
rs_app_channel_t *rs_app_channel_new_grpc(struct event_base *base, const char *address, int port,
                                          const char *app_token, size_t reply_cap);
/** Frees the channel. Calls in flight must have been aborted (or the HTTP client freed) first. */
void rs_app_channel_free(rs_app_channel_t *ch);
/** 1 if there is an app to call (an app port was given). */
int rs_app_channel_has_app(const rs_app_channel_t *ch);
/** Tells the channel the app's health (app_health.h). While unhealthy, an invocation (RS_APP_INVOKE) fails at once
 *  with daprd's "app is not in a healthy state" (retriable, as daprd's error is); other kinds still go. */
void rs_app_channel_set_healthy(rs_app_channel_t *ch, int healthy);
/** "http" or "grpc": the protocol the app speaks. */
const char *rs_app_channel_protocol(const rs_app_channel_t *ch);

/** 1 if the CloudEvent text (len bytes) can be handed to this app; 0 with a reason in why when it never can,
 *  whatever the app does (a gRPC app: not a JSON object, or data_base64 that is not base64). An HTTP app is sent
 *  any bytes. Delivery drops such a poison message instead of retrying it for ever. */
int rs_app_channel_event_sendable(const rs_app_channel_t *ch, const char *event, size_t len, char *why,
                                  size_t whylen);

/** Writes the app URL for path and query (as rs_app_call builds it for an HTTP app) into out. Returns its length,
 *  or -1 when there is no app or it does not fit in cap bytes. */
long rs_app_channel_url(const rs_app_channel_t *ch, const char *path, const char *query, char *out, size_t cap);

/** Starts a call. reply runs exactly once from the loop, unless rs_app_call_abort runs first. When the call
 *  cannot start (no app, URL too long, client refused) reply runs before rs_app_call returns, with
 *  resp->result RS_HTTP_ERR_TRANSPORT and o an error (permanent when retrying cannot help); rs_app_call then
 *  returns -1 and the caller must not touch state that reply may have freed. Returns 0 when started. */
int rs_app_call(rs_app_channel_t *ch, rs_app_call_t *call, const rs_app_request_t *req, rs_app_reply_fn reply,
                void *arg);
/** In the reply callback of an RS_APP_BINDING_EVENT call that the app answered: the output bindings its reply
 *  names (n_to > 0), or NULL. Valid during the callback only. */
static inline const rs_app_binding_forward_t *rs_app_call_binding_forward(const rs_app_call_t *call) {
    return call->forward_;
}
/** Aborts the call in flight, if any: its reply will not run. */
void rs_app_call_abort(rs_app_call_t *call);
/** 1 while a call is in flight. */
static inline int rs_app_call_pending(const rs_app_call_t *call) { return call->http_ != NULL || call->grpc_ != NULL; }

/** Judges an answer as rs_app_call does (also for a peer sidecar's answer, which passes the app's through):
 *  a transport failure is a retriable error with its reason; a status outside `accept` a retriable error carrying
 *  the status; anything else ok. */
void rs_app_outcome(const rs_http_response_t *resp, rs_app_accept_t accept, rs_outcome_t *o);

#endif
