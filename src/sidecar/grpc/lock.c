/* SPDX-License-Identifier: MIT */
/* gRPC adapter of the distributed lock API: TryLockAlpha1, UnlockAlpha1 (ops/lock.c). */
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "sidecar/grpc/api.h"
#include "sidecar/ops/lock.h"

static void on_locked(void *arg, const rs_lock_reply_t *reply, const rs_dapr_error_t *err) {
    if (err) {
        rs_grpc_reply_dapr_error(arg, err);
        return;
    }
    Dapr__Proto__Runtime__V1__TryLockResponse r = DAPR__PROTO__RUNTIME__V1__TRY_LOCK_RESPONSE__INIT;
    r.success = reply->acquired != 0;
    rs_grpc_call_reply(arg, &r.base);
}

static void on_unlocked(void *arg, const rs_lock_reply_t *reply, const rs_dapr_error_t *err) {
    if (err) {
        rs_grpc_reply_dapr_error(arg, err);
        return;
    }
    Dapr__Proto__Runtime__V1__UnlockResponse r = DAPR__PROTO__RUNTIME__V1__UNLOCK_RESPONSE__INIT;
    r.status = (Dapr__Proto__Runtime__V1__UnlockResponse__Status)reply->status;
    rs_grpc_call_reply(arg, &r.base);
}

static void try_lock(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__TryLockRequest *in = (const void *)m;
    rs_lock_request_t req = {.store = in->store_name, .resource_id = in->resource_id, .lock_owner = in->lock_owner,
                             .expiry_seconds = in->expiry_in_seconds};
    rs_grpc_track_op(call, rs_ops_lock_try(sc, &req, on_locked, call));
}

static void unlock(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *m) {
    const Dapr__Proto__Runtime__V1__UnlockRequest *in = (const void *)m;
    rs_lock_request_t req = {.store = in->store_name, .resource_id = in->resource_id, .lock_owner = in->lock_owner};
    rs_grpc_track_op(call, rs_ops_lock_unlock(sc, &req, on_unlocked, call));
}

const rs_grpc_method_t rs_grpc_lock_methods[] = {
    {"TryLockAlpha1", &dapr__proto__runtime__v1__try_lock_request__descriptor, try_lock},
    {"UnlockAlpha1", &dapr__proto__runtime__v1__unlock_request__descriptor, unlock},
    {NULL, NULL, NULL},
};
