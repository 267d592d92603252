/* SPDX-License-Identifier: MIT */
/* libdapr distributed lock API (Dapr alpha: /v1.0-alpha1/lock|unlock/<store>).
 *
 * The owner string identifies the holder: give every process (every replica of
 * an app) its own owner, or one replica can release another's lock. */
#ifndef DAPR_LOCK_H
#define DAPR_LOCK_H

#include "client.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Result of dapr_unlock (Dapr's status numbers). */
typedef enum {
    DAPR_UNLOCK_SUCCESS = 0,
    DAPR_UNLOCK_NOT_FOUND = 1,          /**< LOCK_DOES_NOT_EXIST: expired or never taken */
    DAPR_UNLOCK_BELONGS_TO_OTHERS = 2,
    DAPR_UNLOCK_INTERNAL_ERROR = 3,
} dapr_unlock_status_t;

/**
 * Tries once to take the lock on resource_id for owner, expiring after
 * expiry_seconds (> 0). On 0, *acquired is 1 if the lock was taken, 0 if someone
 * holds it. -1 means the call itself failed (err filled).
 */
int dapr_lock_try(dapr_client_t *c, const char *store, const char *resource_id, const char *owner,
                  int expiry_seconds, int *acquired, dapr_error_t *err);

/** Releases the lock. On 0, *status (may be NULL) says what happened. */
int dapr_unlock(dapr_client_t *c, const char *store, const char *resource_id, const char *owner,
                dapr_unlock_status_t *status, dapr_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
