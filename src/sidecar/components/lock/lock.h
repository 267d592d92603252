/* SPDX-License-Identifier: MIT */
/* The distributed lock kind (lock.redis), Dapr's v1.0-alpha1 lock API.
 *
 * Keys handed to a store are storage keys built by rs_lock_storage_key.
 * Ops are asynchronous and call their callback exactly once; they return a
 * handle for cancel, or NULL when the callback has already run (synchronous
 * failure). After cancel the callback is never called. */
#ifndef RS_SIDECAR_LOCK_H
#define RS_SIDECAR_LOCK_H

#include <stddef.h>

#include "sidecar/components/component.h"

/** Unlock results, as Dapr numbers them in the HTTP reply {"status":N}. */
typedef enum {
    RS_UNLOCK_SUCCESS = 0,
    RS_UNLOCK_DOES_NOT_EXIST = 1,
    RS_UNLOCK_BELONGS_TO_OTHERS = 2,
    RS_UNLOCK_INTERNAL_ERROR = 3,
} rs_unlock_status_t;

typedef struct {
    int failed;          /* the store could not answer (connection, script error) */
    char error[256];
    int acquired;        /* try-lock: 1 if the lock is now ours */
    rs_unlock_status_t status; /* unlock */
} rs_lock_result_t;

typedef struct rs_lock_call rs_lock_call_t;
typedef void (*rs_lock_cb)(void *arg, const rs_lock_result_t *res);

typedef struct rs_lock_ops {
    /** Takes the lock for `owner` for expiry_s seconds if nobody holds it. */
    rs_lock_call_t *(*try_lock)(rs_component_t *c, const char *key, const char *owner, long long expiry_s,
                                rs_lock_cb cb, void *arg);
    /** Releases the lock if `owner` holds it. */
    rs_lock_call_t *(*unlock)(rs_component_t *c, const char *key, const char *owner, rs_lock_cb cb, void *arg);
    void (*cancel)(rs_lock_call_t *call);
} rs_lock_ops_t;

/** Builds "lock||<middle>||<resourceId>": middle is the app id (keyPrefix appid, the default), the store
 *  name (name), a literal keyPrefix; keyPrefix none gives "lock||<resourceId>". Returns a new string,
 *  or NULL with a reason when the id contains "||". */
char *rs_lock_storage_key(const rs_component_t *c, const char *app_id, const char *resource_id, char *err,
                          size_t errlen);

#endif
