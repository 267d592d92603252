/* SPDX-License-Identifier: MIT */
/* libdapr client: a handle on one Dapr sidecar's HTTP API, and the calls that
 * do not belong to a building block (raw requests, service invocation, health,
 * metadata, shutdown). Building blocks have their own headers: state.h,
 * pubsub.h, bindings.h, lock.h, secrets.h.
 *
 * Configuration comes from the environment, as a Dapr sidecar runner sets it:
 *   DAPR_HTTP_ENDPOINT  full base URL (e.g. http://127.0.0.1:3500); wins over the two below
 *   DAPR_HTTP_HOST  sidecar address, default 127.0.0.1 (a libdapr convention)
 *   DAPR_HTTP_PORT  sidecar HTTP port, default 3500
 *   DAPR_API_TOKEN  when set, sent as header `dapr-api-token` on every call
 * and can be overridden with dapr_client_options_t.
 *
 * Threads: a client may be shared by any number of threads. Each call borrows a
 * libcurl handle from a small pool inside the client, so TCP connections to the
 * sidecar are kept alive and reused across calls.
 *
 * Trace context: every call carries the calling thread's W3C traceparent /
 * tracestate (trace.h; set by the app server while a handler runs) unless the
 * call's own headers include a traceparent.
 *
 * Return convention of every call: 0 when the sidecar answered 2xx, -1
 * otherwise with *err filled (see error.h). Calls block until the answer or the
 * client's timeout. */
#ifndef DAPR_CLIENT_H
#define DAPR_CLIENT_H

#include <stddef.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dapr_client dapr_client_t;

/** A name/value pair: request headers, metadata, query parameters. */
typedef struct dapr_kv {
    const char *key;
    const char *value;
} dapr_kv_t;

/** Options for dapr_client_new. Zero / NULL fields take the environment or default. */
typedef struct dapr_client_options {
    const char *host;       /**< default $DAPR_HTTP_HOST or "127.0.0.1" */
    int port;               /**< default $DAPR_HTTP_PORT or 3500 */
    const char *api_token;  /**< default $DAPR_API_TOKEN (none when unset) */
    const char *base_url;   /**< talk to this URL instead of a sidecar (e.g. "http://127.0.0.1:8081");
                                 no api token is sent then. For plain HTTP peers. */
    long timeout_ms;        /**< per-call timeout, default 60000 */
    long connect_timeout_ms;/**< default 5000 */
} dapr_client_options_t;

/** An HTTP answer. Owned by the caller: release with dapr_response_free. */
typedef struct dapr_response {
    int status;             /**< HTTP status */
    char *body;             /**< NUL-terminated body (the NUL is not counted in body_len); never NULL after a response */
    size_t body_len;
    dapr_kv_t *headers;     /**< response headers (strings owned by the response) */
    size_t nheaders;
} dapr_response_t;

/** Creates a client. opts may be NULL (environment and defaults). Never returns NULL
 *  (aborts on out of memory). Does not contact the sidecar. */
dapr_client_t *dapr_client_new(const dapr_client_options_t *opts);

/** Frees the client and its pooled connections. No call may be running on it. */
void dapr_client_free(dapr_client_t *c);

/** The base URL calls go to, e.g. "http://127.0.0.1:3500". Valid for the client's lifetime. */
const char *dapr_client_base_url(const dapr_client_t *c);

/** Releases what a response owns and zeroes it. NULL-safe. */
void dapr_response_free(dapr_response_t *r);

/** The value of header `name` (case-insensitive), or NULL. */
const char *dapr_response_header(const dapr_response_t *r, const char *name);

/**
 * Sends one HTTP request to the sidecar: `method` (GET, POST ...) on `path`
 * (must start with '/', already URL-encoded, may include a query string).
 * headers may be NULL; body may be NULL (no body). When `out` is non-NULL it is
 * filled whenever an HTTP answer arrived, whatever its status (free it with
 * dapr_response_free). Returns 0 on 2xx, -1 otherwise (err filled: for a
 * non-2xx answer with Dapr's errorCode/message when the body is a Dapr error).
 */
int dapr_client_request(dapr_client_t *c, const char *method, const char *path, const dapr_kv_t *headers,
                        size_t nheaders, const void *body, size_t body_len, dapr_response_t *out, dapr_error_t *err);

/**
 * Service invocation: `verb` /v1.0/invoke/<app_id>/method/<method>. `method` may
 * contain '/' and a query string and is sent as given. content_type may be NULL
 * (then application/json when there is a body). `out` (may be NULL) receives the
 * callee's answer whatever its status, so a caller can pass it on.
 * Returns 0 when the callee answered 2xx.
 */
int dapr_invoke(dapr_client_t *c, const char *app_id, const char *verb, const char *method, const void *body,
                size_t body_len, const char *content_type, dapr_response_t *out, dapr_error_t *err);

/**
 * Waits until the sidecar's outbound side is ready (GET /v1.0/healthz/outbound
 * answers 204), polling every 100 ms for at most timeout_ms. Returns 0 when
 * ready, -1 on timeout (err holds the last failure).
 */
int dapr_wait_for_sidecar(dapr_client_t *c, long timeout_ms, dapr_error_t *err);

/** GET /v1.0/healthz (fully ready, app included). 0 when 204. */
int dapr_health(dapr_client_t *c, dapr_error_t *err);

/** GET /v1.0/metadata. On success *json_out is the body (caller frees with free()). */
int dapr_metadata_get(dapr_client_t *c, char **json_out, dapr_error_t *err);

/** PUT /v1.0/metadata/<key> with value as body: sets an "extended" metadata entry. */
int dapr_metadata_set(dapr_client_t *c, const char *key, const char *value, dapr_error_t *err);

/** POST /v1.0/shutdown: asks the sidecar to shut down gracefully. */
int dapr_shutdown(dapr_client_t *c, dapr_error_t *err);

/** Percent-encodes s for use as one URL path segment or query value (RFC 3986 unreserved kept).
 *  Returns a malloc'd string (caller frees). */
char *dapr_url_escape(const char *s);

#ifdef __cplusplus
}
#endif
#endif
