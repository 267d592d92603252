/* SPDX-License-Identifier: MIT */
/* The state operations (Dapr's state API): get, bulk get, save, delete and
 * transaction on a state store. Each store call ("unit": one key, or the
 * whole transaction) runs under the store's outbound resiliency policy; bulk
 * get runs at most `parallelism` keys at a time. The contract every
 * operation follows is in ops/ops.h.
 *
 * An adapter that must report errors in Dapr's order checks the store first
 * (rs_ops_state_check_store), then each key as it parses it
 * (rs_ops_state_check_key); the operations repeat both checks themselves. */
#ifndef RS_SIDECAR_OPS_STATE_H
#define RS_SIDECAR_OPS_STATE_H

#include <stddef.h>

#include "sidecar/components/state/state.h"
#include "sidecar/ops/ops.h"

/** Items (keys, writes) one request may hold: each becomes a unit of a few hundred bytes, so a 4 MiB body of
 *  one-letter keys would otherwise cost the sidecar 300 MB. More is MALFORMED_REQUEST. */
#define RS_STATE_MAX_ITEMS 10000
/** Bytes of values (with keys and etags) one bulk get may gather for its reply: a short request naming a large
 *  value many times would otherwise make a reply of any size. Past it the bulk get fails with STATE_GET. */
#define RS_STATE_BULK_MAX_BYTES (32 << 20)

/** One key to read, or one write. Strings are copied by the operation. */
typedef struct {
    const char *key;                     /**< the user's key (the operation applies the store's keyPrefix) */
    const char *etag;                    /**< NULL: none */
    const char *value;                   /**< save / transaction upsert: the bytes to store */
    size_t len;
    int is_delete;                       /**< transaction: a delete instead of an upsert */
    rs_state_concurrency_t concurrency;
    int has_ttl;                         /**< metadata ttlInSeconds was given */
    long long ttl_seconds;
} rs_state_item_t;

/** A state request: get and delete take one item, save, bulk get (keys only) and transaction any number. */
typedef struct {
    const char *store;
    const rs_state_item_t *items;
    size_t n;
    long long parallelism; /**< bulk get: keys in flight; <= 0 means 100; at most 1000 */
} rs_state_request_t;

/** One key's answer (get, bulk get). */
typedef struct {
    const char *key;   /**< the user's key */
    const char *error; /**< bulk get: the store's reason for this key, or NULL */
    int found;
    const char *data;  /**< the stored bytes when found */
    size_t len;
    const char *etag;  /**< when found, or NULL */
} rs_state_value_t;

/** The answer: one value for get, one per key (in request order) for bulk get, none for writes. */
typedef struct {
    const rs_state_value_t *values;
    size_t n;
} rs_state_reply_t;

/** Exactly one of reply and err is non-NULL. */
typedef void (*rs_state_done_fn)(void *arg, const rs_state_reply_t *reply, const rs_dapr_error_t *err);

/** 0 if `store` names a loaded state store (and, with `transactional`, one that supports transactions); else -1
 *  with STATE_STORE_NOT_CONFIGURED, STATE_STORE_NOT_FOUND or STATE_STORE_NOT_SUPPORTED in *err. */
int rs_ops_state_check_store(struct rs_sidecar *sc, const char *store, int transactional, rs_dapr_error_t *err);
/** 0 if key can be stored, else -1 with STATE_ILLEGAL_KEY (a key may not contain "||"; the details name store and
 *  key). */
int rs_ops_state_check_key(const char *store, const char *key, rs_dapr_error_t *err);

/** Reads items[0].key. Errors: the store and key checks, STATE_GET. */
rs_op_t *rs_ops_state_get(struct rs_sidecar *sc, const rs_state_request_t *req, rs_state_done_fn done, void *arg);
/** Reads every item's key; a key that fails has its own error in the reply (the operation itself succeeds).
 *  Errors: the store and key checks, MALFORMED_REQUEST (more than RS_STATE_MAX_ITEMS keys), STATE_GET (the values
 *  passed RS_STATE_BULK_MAX_BYTES). */
rs_op_t *rs_ops_state_bulk_get(struct rs_sidecar *sc, const rs_state_request_t *req, rs_state_done_fn done,
                               void *arg);
/** Writes every item (each its own unit). Errors: STATE_SAVE_ETAG_MISMATCH / STATE_SAVE_ETAG_INVALID (the first
 *  etag failure decides), else STATE_SAVE. */
rs_op_t *rs_ops_state_save(struct rs_sidecar *sc, const rs_state_request_t *req, rs_state_done_fn done, void *arg);
/** Deletes items[0]. Errors: STATE_DELETE_ETAG_MISMATCH for any store error (as Dapr's Redis store), STATE_DELETE
 *  when the resiliency runner ended it (timeout, breaker open). */
rs_op_t *rs_ops_state_delete(struct rs_sidecar *sc, const rs_state_request_t *req, rs_state_done_fn done,
                             void *arg);
/** Applies every item atomically in one unit. Errors: STATE_STORE_NOT_SUPPORTED, STATE_TRANSACTION. */
rs_op_t *rs_ops_state_transact(struct rs_sidecar *sc, const rs_state_request_t *req, rs_state_done_fn done,
                               void *arg);

#endif
