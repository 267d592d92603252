/* SPDX-License-Identifier: MIT */
/* libdapr state API (Dapr /v1.0/state/<store>...).
 *
 * Values are JSON text. On save, a value that is not valid JSON is stored as a
 * JSON string (so "hello" and "\"hello\"" end up the same). On get, the value is
 * the stored bytes exactly as the sidecar returns them.
 *
 * Keys must not contain "||" (Dapr answers 400: the runtime uses it as its
 * key-prefix separator). ETags are opaque strings. */
#ifndef DAPR_STATE_H
#define DAPR_STATE_H

#include "client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    DAPR_CONCURRENCY_DEFAULT = 0, /**< the store's default (last-write for Dapr) */
    DAPR_CONCURRENCY_FIRST_WRITE,
    DAPR_CONCURRENCY_LAST_WRITE,
} dapr_concurrency_t;

typedef enum {
    DAPR_CONSISTENCY_DEFAULT = 0,
    DAPR_CONSISTENCY_EVENTUAL,
    DAPR_CONSISTENCY_STRONG,
} dapr_consistency_t;

/** One item to save (or, in a transaction, to upsert or delete). All pointers are borrowed. */
typedef struct dapr_state_item {
    const char *key;                 /**< required */
    const char *value;               /**< JSON text; NULL = JSON null (ignored for deletes) */
    const char *etag;                /**< NULL = no etag */
    dapr_concurrency_t concurrency;
    dapr_consistency_t consistency;
    const dapr_kv_t *metadata;       /**< e.g. {"ttlInSeconds","60"}; may be NULL */
    size_t nmetadata;
} dapr_state_item_t;

/** A value read from a store. Owned by the caller: dapr_state_free. */
typedef struct dapr_state {
    char *key;          /**< bulk get only (NULL for dapr_state_get) */
    int found;          /**< 0 when the key does not exist (value and etag are NULL then) */
    char *value;        /**< JSON text, NUL-terminated */
    size_t value_len;
    char *etag;         /**< NULL when the store gave none */
    char *error;        /**< bulk get only: the per-key error, NULL when none */
} dapr_state_t;

typedef enum { DAPR_STATE_UPSERT = 0, DAPR_STATE_DELETE = 1 } dapr_state_op_kind_t;

/** One operation of a transaction. */
typedef struct dapr_state_op {
    dapr_state_op_kind_t kind;
    dapr_state_item_t item;
} dapr_state_op_t;

/** Releases what *s owns and zeroes it. */
void dapr_state_free(dapr_state_t *s);

/** Frees an array returned by dapr_state_get_bulk. */
void dapr_state_free_array(dapr_state_t *arr, size_t n);

/**
 * GET /v1.0/state/<store>/<key>. On 0: out->found tells whether the key exists
 * (Dapr answers 204 for a missing key), out->value / out->etag hold the value and
 * its ETag. consistency may be DAPR_CONSISTENCY_DEFAULT.
 */
int dapr_state_get(dapr_client_t *c, const char *store, const char *key, dapr_consistency_t consistency,
                   dapr_state_t *out, dapr_error_t *err);

/** POST /v1.0/state/<store> with n items. An etag mismatch is -1 with err->status 409 (ERR_STATE_SAVE). */
int dapr_state_save(dapr_client_t *c, const char *store, const dapr_state_item_t *items, size_t n,
                    dapr_error_t *err);

/** Saves one key with default options (last-write, no etag). */
int dapr_state_save_one(dapr_client_t *c, const char *store, const char *key, const char *value_json,
                        dapr_error_t *err);

/** DELETE /v1.0/state/<store>/<key>. etag may be NULL; a mismatch gives -1 with status 409. */
int dapr_state_delete(dapr_client_t *c, const char *store, const char *key, const char *etag,
                      dapr_concurrency_t concurrency, dapr_error_t *err);

/**
 * POST /v1.0/state/<store>/bulk: reads n keys (parallelism <= 0: the sidecar's
 * default). On 0, *out is an array of *nout entries (caller frees with
 * dapr_state_free_array), one per key, with key set and found=0 for missing keys.
 */
int dapr_state_get_bulk(dapr_client_t *c, const char *store, const char *const *keys, size_t n, int parallelism,
                        dapr_state_t **out, size_t *nout, dapr_error_t *err);

/**
 * POST /v1.0/state/<store>/transaction: all operations in one request. Dapr
 * reports any store error, an etag mismatch included, as 500 ERR_STATE_TRANSACTION.
 * Whether a failed transaction leaves earlier operations applied depends on the
 * store (Dapr's Redis store has no rollback); see docs/sdk.md.
 */
int dapr_state_transaction(dapr_client_t *c, const char *store, const dapr_state_op_t *ops, size_t n,
                           dapr_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
