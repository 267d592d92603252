/* SPDX-License-Identifier: MIT */
/* The state store kind (state.redis).
 *
 * Keys handed to a store are storage keys: the API layer has already applied
 * the keyPrefix strategy (rs_state_storage_key). Values are the bytes to
 * store (the API stores the request's JSON value compactly, as Dapr does).
 *
 * Every op is asynchronous and calls `cb` exactly once. It returns a handle
 * for rs_state_ops_t.cancel, or NULL when it has already called `cb`
 * (a synchronous failure such as "not connected"). After cancel, `cb` is
 * never called; a late backend reply is dropped. */
#ifndef RS_SIDECAR_STATE_H
#define RS_SIDECAR_STATE_H

#include <stddef.h>

#include "sidecar/components/component.h"

typedef enum {
    RS_STATE_OK = 0,
    RS_STATE_ETAG_MISMATCH, /* the etag or first-write condition failed: 409 (500 in a transaction) */
    RS_STATE_ETAG_INVALID,  /* the etag is not a valid version for this store: 400 */
    RS_STATE_FAILED,        /* any other failure (connection, script, ...): 500 */
} rs_state_code_t;

typedef struct {
    rs_state_code_t code;
    char error[256];
    /* get only, valid during the callback: */
    int found;
    const char *data;
    size_t len;
    const char *etag;
} rs_state_result_t;

/** options.concurrency. Unset is not last-write: an etag given without it is still checked (as in Dapr). */
typedef enum { RS_CONCURRENCY_UNSET = 0, RS_CONCURRENCY_FIRST_WRITE, RS_CONCURRENCY_LAST_WRITE } rs_state_concurrency_t;

/** One write: an upsert, or a delete when `is_delete` is set. */
typedef struct {
    const char *key;        /* storage key */
    const char *value;      /* upsert only */
    size_t len;
    const char *etag;       /* NULL when the request had none */
    int is_delete;
    rs_state_concurrency_t concurrency;
    int has_ttl;            /* metadata.ttlInSeconds given; if not, the store's own default (if any) applies */
    long long ttl_seconds;  /* > 0 expire after that many seconds; <= 0 persist */
} rs_state_write_t;

typedef struct rs_state_call rs_state_call_t;
typedef void (*rs_state_cb)(void *arg, const rs_state_result_t *res);

typedef struct rs_state_ops {
    /** Reads one key. res->found is 0 for a missing key (code OK). */
    rs_state_call_t *(*get)(rs_component_t *c, const char *key, rs_state_cb cb, void *arg);
    /** One upsert or delete with its etag / first-write semantics. */
    rs_state_call_t *(*write)(rs_component_t *c, const rs_state_write_t *w, rs_state_cb cb, void *arg);
    /** All writes or none (NULL if the store is not transactional). A failed condition gives
     *  RS_STATE_ETAG_MISMATCH naming the key, and nothing is written. */
    rs_state_call_t *(*transact)(rs_component_t *c, const rs_state_write_t *ws, size_t n, rs_state_cb cb, void *arg);
    /** Orphans a pending call (see above). */
    void (*cancel)(rs_state_call_t *call);
} rs_state_ops_t;

/** Builds the storage key for `key` per the store's keyPrefix metadata (spec §2.5):
 *  appid (default) "<appId>||k", name "<store>||k", namespace "<ns>.<appId>||k" (ns from $NAMESPACE),
 *  none "k", any other literal "<literal>||k". Returns a new string (free it), or NULL with a reason
 *  when the key contains "||". */
char *rs_state_storage_key(const rs_component_t *c, const char *app_id, const char *key, char *err, size_t errlen);

#endif
