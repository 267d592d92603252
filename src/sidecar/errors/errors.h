/* SPDX-License-Identifier: MIT */
/* The Dapr error codes ripstopd answers with: ONE table, as an X-macro (the
 * model is libuv's UV_ERRNO_MAP). Each row is
 *
 *     XX(NAME, "ERR_CODE", HTTP status, gRPC status)
 *
 * and generates RS_ERR_<NAME> in rs_dapr_err_t, the code string, the HTTP
 * status and the gRPC status code. A Dapr code that daprd answers with more
 * than one HTTP status (ERR_STATE_SAVE: 409 etag mismatch, 400 invalid etag,
 * 500 otherwise) has one row per status, each with its own NAME; the code
 * string repeats. Callers name the row, never a status or a string.
 *
 * The HTTP adapters reply with rs_api_reply_err() (sidecar/api/api.h); the
 * operation layer (sidecar/ops/) hands an rs_dapr_error_t to its caller.
 * docs/compatibility.md ("Error codes") lists every row; the unit test
 * tests/unit/sidecar/errors/test_errors.c checks the list against this table both
 * ways. The gRPC codes are the ones daprd uses (pkg/messages, pkg/api/errors). */
#ifndef RS_SIDECAR_ERRORS_H
#define RS_SIDECAR_ERRORS_H

#include <stddef.h>

#define RS_DAPR_ERRORS(XX)                                                                         \
    /* requests the HTTP server itself turns away (http/server.c, rs_http_error_code) */           \
    XX(MALFORMED_REQUEST, "ERR_MALFORMED_REQUEST", 400, INVALID_ARGUMENT)                          \
    XX(NOT_FOUND, "ERR_NOT_FOUND", 404, UNIMPLEMENTED)                                             \
    XX(METHOD_NOT_ALLOWED, "ERR_METHOD_NOT_ALLOWED", 405, UNIMPLEMENTED)                           \
    XX(REQUEST_TIMEOUT, "ERR_REQUEST_TIMEOUT", 408, DEADLINE_EXCEEDED)                             \
    XX(REQUEST_TOO_LARGE, "ERR_REQUEST_TOO_LARGE", 413, RESOURCE_EXHAUSTED)                        \
    XX(HEADERS_TOO_LARGE, "ERR_HEADERS_TOO_LARGE", 431, RESOURCE_EXHAUSTED)                        \
    XX(INTERNAL, "ERR_INTERNAL", 500, INTERNAL)                                                    \
    XX(NOT_IMPLEMENTED, "ERR_NOT_IMPLEMENTED", 501, UNIMPLEMENTED)                                 \
    XX(HTTP_VERSION, "ERR_HTTP_VERSION", 505, UNIMPLEMENTED)                                       \
    /* health */                                                                                   \
    XX(HEALTH_NOT_READY, "ERR_HEALTH_NOT_READY", 500, UNAVAILABLE)                                 \
    XX(HEALTH_APPID_NOT_MATCH, "ERR_HEALTH_APPID_NOT_MATCH", 500, INTERNAL)                        \
    /* state */                                                                                    \
    XX(STATE_STORE_NOT_CONFIGURED, "ERR_STATE_STORE_NOT_CONFIGURED", 500, FAILED_PRECONDITION)     \
    XX(STATE_STORE_NOT_FOUND, "ERR_STATE_STORE_NOT_FOUND", 400, INVALID_ARGUMENT)                  \
    XX(STATE_STORE_NOT_SUPPORTED, "ERR_STATE_STORE_NOT_SUPPORTED", 500, UNIMPLEMENTED)             \
    XX(STATE_GET, "ERR_STATE_GET", 500, INTERNAL)                                                  \
    XX(STATE_SAVE, "ERR_STATE_SAVE", 500, INTERNAL)                                                \
    XX(STATE_SAVE_ETAG_MISMATCH, "ERR_STATE_SAVE", 409, ABORTED)                                   \
    XX(STATE_SAVE_ETAG_INVALID, "ERR_STATE_SAVE", 400, INVALID_ARGUMENT)                           \
    XX(STATE_DELETE, "ERR_STATE_DELETE", 500, INTERNAL)                                            \
    XX(STATE_DELETE_ETAG_MISMATCH, "ERR_STATE_DELETE", 409, ABORTED)                               \
    XX(NOT_SUPPORTED_STATE_OPERATION, "ERR_NOT_SUPPORTED_STATE_OPERATION", 400, UNIMPLEMENTED)     \
    XX(STATE_TRANSACTION, "ERR_STATE_TRANSACTION", 500, INTERNAL)                                  \
    /* lock */                                                                                     \
    XX(LOCK_STORE_NOT_CONFIGURED, "ERR_LOCK_STORE_NOT_CONFIGURED", 500, FAILED_PRECONDITION)       \
    XX(LOCK_STORE_NOT_FOUND, "ERR_LOCK_STORE_NOT_FOUND", 400, INVALID_ARGUMENT)                    \
    XX(TRY_LOCK, "ERR_TRY_LOCK", 500, INTERNAL)                                                    \
    XX(UNLOCK, "ERR_UNLOCK", 500, INTERNAL)                                                        \
    /* secrets */                                                                                  \
    XX(SECRET_STORES_NOT_CONFIGURED, "ERR_SECRET_STORES_NOT_CONFIGURED", 500, FAILED_PRECONDITION) \
    XX(SECRET_STORE_NOT_FOUND, "ERR_SECRET_STORE_NOT_FOUND", 401, INVALID_ARGUMENT)                \
    XX(PERMISSION_DENIED, "ERR_PERMISSION_DENIED", 403, PERMISSION_DENIED)                         \
    XX(SECRET_GET, "ERR_SECRET_GET", 500, INTERNAL)                                                \
    /* output bindings */                                                                          \
    XX(INVOKE_OUTPUT_BINDING, "ERR_INVOKE_OUTPUT_BINDING", 500, INTERNAL)                          \
    /* publish */                                                                                  \
    XX(PUBSUB_NOT_CONFIGURED, "ERR_PUBSUB_NOT_CONFIGURED", 400, FAILED_PRECONDITION)               \
    XX(PUBSUB_EMPTY, "ERR_PUBSUB_EMPTY", 404, INVALID_ARGUMENT)                                    \
    XX(PUBSUB_NOT_FOUND, "ERR_PUBSUB_NOT_FOUND", 404, INVALID_ARGUMENT)                            \
    XX(TOPIC_NAME_EMPTY, "ERR_TOPIC_NAME_EMPTY", 404, INVALID_ARGUMENT)                            \
    XX(PUBSUB_FORBIDDEN, "ERR_PUBSUB_FORBIDDEN", 403, PERMISSION_DENIED)                           \
    XX(PUBSUB_REQUEST_METADATA, "ERR_PUBSUB_REQUEST_METADATA", 400, INVALID_ARGUMENT)              \
    XX(PUBSUB_CLOUD_EVENTS_SER, "ERR_PUBSUB_CLOUD_EVENTS_SER", 500, INVALID_ARGUMENT)              \
    XX(PUBSUB_EVENTS_SER, "ERR_PUBSUB_EVENTS_SER", 400, INVALID_ARGUMENT)                          \
    XX(PUBSUB_PUBLISH_MESSAGE, "ERR_PUBSUB_PUBLISH_MESSAGE", 500, INTERNAL)                        \
    /* service invocation */                                                                       \
    XX(DIRECT_INVOKE, "ERR_DIRECT_INVOKE", 500, INTERNAL)                                          \
    XX(DIRECT_INVOKE_NO_APP_ID, "ERR_DIRECT_INVOKE", 404, NOT_FOUND)                               \
    XX(DIRECT_INVOKE_INVALID, "ERR_DIRECT_INVOKE", 400, INVALID_ARGUMENT)

/** One row of the table: RS_ERR_MALFORMED_REQUEST, RS_ERR_STATE_SAVE_ETAG_MISMATCH, ... */
typedef enum {
#define RS_DAPR_ERR_ENUM(name, code, http, grpc) RS_ERR_##name,
    RS_DAPR_ERRORS(RS_DAPR_ERR_ENUM)
#undef RS_DAPR_ERR_ENUM
        RS_DAPR_ERR_COUNT
} rs_dapr_err_t;

/** The gRPC status codes (google.golang.org/grpc/codes), numbered as on the wire. */
typedef enum {
    RS_GRPC_OK = 0,
    RS_GRPC_CANCELLED = 1,
    RS_GRPC_UNKNOWN = 2,
    RS_GRPC_INVALID_ARGUMENT = 3,
    RS_GRPC_DEADLINE_EXCEEDED = 4,
    RS_GRPC_NOT_FOUND = 5,
    RS_GRPC_ALREADY_EXISTS = 6,
    RS_GRPC_PERMISSION_DENIED = 7,
    RS_GRPC_RESOURCE_EXHAUSTED = 8,
    RS_GRPC_FAILED_PRECONDITION = 9,
    RS_GRPC_ABORTED = 10,
    RS_GRPC_OUT_OF_RANGE = 11,
    RS_GRPC_UNIMPLEMENTED = 12,
    RS_GRPC_INTERNAL = 13,
    RS_GRPC_UNAVAILABLE = 14,
    RS_GRPC_DATA_LOSS = 15,
    RS_GRPC_UNAUTHENTICATED = 16,
} rs_grpc_code_t;

/** Longest Dapr error message ripstopd sends (longer ones are cut); the HTTP reply uses the same bound. */
#define RS_DAPR_MSG_MAX 1024

/** A table error and its message, as the operation layer reports it to an adapter. */
typedef struct {
    rs_dapr_err_t code;
    char message[RS_DAPR_MSG_MAX];
} rs_dapr_error_t;

/** The Dapr code string of a row, e.g. "ERR_STATE_SAVE"; "ERR_INTERNAL" for a value outside the table. */
const char *rs_dapr_err_code(rs_dapr_err_t e);
/** The HTTP status daprd answers a row with (and ripstopd does), e.g. 409 for RS_ERR_STATE_SAVE_ETAG_MISMATCH. */
int rs_dapr_err_http(rs_dapr_err_t e);
/** The gRPC status code of a row. */
rs_grpc_code_t rs_dapr_err_grpc(rs_dapr_err_t e);
/** The row's name without the prefix, e.g. "STATE_SAVE_ETAG_MISMATCH". */
const char *rs_dapr_err_name(rs_dapr_err_t e);
/** The gRPC code's name as in the proto (e.g. "INVALID_ARGUMENT"), or NULL if out of range. */
const char *rs_grpc_code_name(rs_grpc_code_t c);
/** Fills *err with the row and the printf-formatted message. */
void rs_dapr_error_set(rs_dapr_error_t *err, rs_dapr_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
