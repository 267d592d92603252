/* SPDX-License-Identifier: MIT */
/* The distributed lock operations (Dapr's v1.0-alpha1 lock API): try-lock and
 * unlock on a lock store, under the store's outbound resiliency policy. The
 * contract every operation follows is in ops/ops.h. */
#ifndef RS_SIDECAR_OPS_LOCK_H
#define RS_SIDECAR_OPS_LOCK_H

#include "sidecar/ops/ops.h"

/** A try-lock or unlock request. */
typedef struct {
    const char *store;
    const char *resource_id;
    const char *lock_owner;
    long long expiry_seconds; /**< try-lock only; must be > 0 */
} rs_lock_request_t;

/** The store's answer. */
typedef struct {
    int acquired; /**< try-lock: 1 if the lock is now the owner's */
    int status;   /**< unlock: Dapr's status, 0 success, 1 does not exist, 2 belongs to others, 3 internal error */
} rs_lock_reply_t;

/** Exactly one of reply and err is non-NULL. */
typedef void (*rs_lock_done_fn)(void *arg, const rs_lock_reply_t *reply, const rs_dapr_error_t *err);

/** Tries to take the lock. Errors, in Dapr's order: LOCK_STORE_NOT_CONFIGURED, MALFORMED_REQUEST (expiry not
 *  positive, empty resource id, empty owner), LOCK_STORE_NOT_FOUND, MALFORMED_REQUEST (bad resource id),
 *  TRY_LOCK (store failure). */
rs_op_t *rs_ops_lock_try(struct rs_sidecar *sc, const rs_lock_request_t *req, rs_lock_done_fn done, void *arg);
/** Releases the lock; errors as rs_ops_lock_try without the expiry check, UNLOCK for a store failure. */
rs_op_t *rs_ops_lock_unlock(struct rs_sidecar *sc, const rs_lock_request_t *req, rs_lock_done_fn done, void *arg);

#endif
