/* SPDX-License-Identifier: MIT */
/* Internal to the app channel: its gRPC transport (--app-protocol grpc).
 * app_channel.c hands it the calls of a gRPC app; it turns each into Dapr's
 * AppCallback call for its kind (rs_app_kind_t), sends it with the HTTP/2
 * client (http/grpc_client.h) and answers the caller's reply function with
 * the HTTP-shaped answer the caller already understands. */
#ifndef RS_SIDECAR_APPCHANNEL_GRPC_APP_H
#define RS_SIDECAR_APPCHANNEL_GRPC_APP_H

#include <event2/event.h>
#include <stddef.h>

#include "sidecar/appchannel/app_channel.h"

typedef struct rs_app_grpc rs_app_grpc_t;

/** A transport to the app at address:port. token: APP_API_TOKEN or NULL (borrowed for the transport's life). */
rs_app_grpc_t *rs_app_grpc_new(struct event_base *base, const char *address, int port, const char *token,
                               size_t reply_cap);
struct rs_metrics;
/** Records daprd's dapr_grpc_io_client_* families for every finished call in m (NULL: none). */
void rs_app_grpc_set_metrics(rs_app_grpc_t *g, struct rs_metrics *m);
/** Cancels the calls in flight (their replies do not run) and frees the transport. */
void rs_app_grpc_free(rs_app_grpc_t *g);
/** Starts req for call (whose reply_ and arg_ are set) and returns 0: the reply runs exactly once from the loop
 *  unless rs_app_grpc_abort runs first. Returns -1 with a reason in why when the request cannot be turned into
 *  its gRPC call (the reply does not run then). */
int rs_app_grpc_call(rs_app_grpc_t *g, rs_app_call_t *call, const rs_app_request_t *req, char *why, size_t whylen);
/** 0 if the CloudEvent text can become a TopicEventRequest; -1 with a reason when it never can (not a JSON object,
 *  data_base64 that is not base64). */
int rs_app_grpc_event_ok(const char *event, size_t len, char *why, size_t whylen);
/** Aborts call's gRPC call in flight, if any. */
void rs_app_grpc_abort(rs_app_call_t *call);

#endif
