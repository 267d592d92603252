/* SPDX-License-Identifier: MIT */
/* libdapr: the error every client call reports.
 *
 * Every libdapr function that talks to the sidecar takes a `dapr_error_t *err`
 * (may be NULL). On failure it is filled with the HTTP status (0 when no HTTP
 * response arrived: connection refused, timeout ...), Dapr's `errorCode` from the
 * JSON error body (empty when the body had none) and a human-readable message. */
#ifndef DAPR_ERROR_H
#define DAPR_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* The codes libdapr sets itself (they never come from a sidecar; ripstopd's own codes are in
 * docs/compatibility.md §2.8). Compare err.code with strcmp. */
#define DAPR_ERR_CLIENT "ERR_CLIENT"         /**< the request could not be sent, or the answer not read */
#define DAPR_ERR_TIMEOUT "ERR_TIMEOUT"       /**< the sidecar did not become ready in time */
#define DAPR_ERR_APP_LISTEN "ERR_APP_LISTEN" /**< the app server could not listen */
/* The codes the app server (dapr/app.h) answers the sidecar with. */
#define DAPR_ERR_APP_BUSY "ERR_APP_BUSY"                     /**< 503: too many requests waiting for a worker */
#define DAPR_ERR_APP_STOPPING "ERR_APP_STOPPING"             /**< 503: the app is shutting down */
#define DAPR_ERR_NOT_FOUND "ERR_NOT_FOUND"                   /**< 404: no route for the path */
#define DAPR_ERR_METHOD_NOT_ALLOWED "ERR_METHOD_NOT_ALLOWED" /**< 405: method not allowed on the path */

/** A failed call. Plain value type: no allocation, copy freely. */
typedef struct dapr_error {
    int status;          /**< HTTP status of the sidecar's answer; 0 = no response (transport error) */
    char code[64];       /**< Dapr errorCode, e.g. "ERR_STATE_SAVE"; "" if the body had none */
    char message[512];   /**< Dapr's message, the body text, or the transport error */
} dapr_error_t;

/** Clears *err (status 0, empty strings). NULL is ignored. */
void dapr_error_clear(dapr_error_t *err);

/** Fills *err with a status, code and printf-style message. NULL err is ignored. */
void dapr_error_set(dapr_error_t *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Formats the error as "HTTP 409 ERR_STATE_SAVE: message" into buf (always NUL-terminated).
 *  Returns buf, so it can be used directly in a log call. */
const char *dapr_error_str(const dapr_error_t *err, char *buf, unsigned long buflen);

#ifdef __cplusplus
}
#endif
#endif
