/* SPDX-License-Identifier: MIT */
/* The output binding operation (Dapr's bindings API): one invoke of an
 * output binding under its outbound resiliency policy, each attempt one
 * component call (a timed-out attempt cancels it), counted in daprd's
 * component metrics. The contract every operation follows is in ops/ops.h. */
#ifndef RS_SIDECAR_OPS_BINDINGS_H
#define RS_SIDECAR_OPS_BINDINGS_H

#include <stddef.h>

#include "core/str.h"
#include "sidecar/messaging/binding_delivery.h"
#include "sidecar/ops/ops.h"

/** An output binding invoke. */
typedef struct {
    const char *name;
    const char *operation;
    const char *data; /**< the bytes for the component */
    size_t len;
    const rs_kvlist_t *metadata; /**< may be NULL */
} rs_binding_request_t;

/** The component's answer. */
typedef struct {
    int has_data; /**< 0: the component returned nothing (Dapr's 204) */
    const char *data;
    size_t len;
    const rs_kvlist_t *metadata; /**< the component's response metadata */
} rs_binding_reply_t;

/** Exactly one of reply and err is non-NULL. */
typedef void (*rs_binding_done_fn_t)(void *arg, const rs_binding_reply_t *reply, const rs_dapr_error_t *err);

/** Invokes the binding. Every error is INVOKE_OUTPUT_BINDING with Dapr's message: operation missing, no such output
 *  binding, operation not supported (listing the supported ones), the component's or the runner's reason. */
rs_op_t *rs_ops_binding_invoke(struct rs_sidecar *sc, const rs_binding_request_t *req, rs_binding_done_fn_t done,
                               void *arg);

/** rs_ops_binding_invoke as input-binding delivery forwards an app's reply with it: a `create` without metadata;
 *  the error's message, or NULL, to `sent`. */
extern const rs_binding_sender_t rs_ops_binding_sender;

#endif
