/* SPDX-License-Identifier: MIT */
/* The Dapr error codes ripstopd answers with: ONE table, as an X-macro (the
 * model is libuv's UV_ERRNO_MAP). Each row is
 *
 *     XX(NAME, "ERR_CODE", HTTP status, gRPC status, reason, resource type)
 *
 * and generates RS_ERR_<NAME> in rs_dapr_err_t, the code string, the HTTP
 * status and the gRPC status code. A Dapr code that daprd answers with more
 * than one HTTP status or reason (ERR_STATE_SAVE: 409 etag mismatch, 400
 * invalid etag, 500 otherwise) has one row per status or reason, each with
 * its own NAME; the code string repeats. Callers name the row, never a status
 * or a string.
 *
 * reason is non-NULL for the errors daprd builds with rich details (dapr/kit
 * errors): they carry a google.rpc.ErrorInfo {reason, domain "dapr.io",
 * metadata}, and, when resource type is non-NULL, a google.rpc.ResourceInfo
 * {type, the component's name} before it; rs_dapr_err_help() names the rows
 * that also carry a google.rpc.Help link. The gRPC adapters send them in
 * grpc-status-details-bin, the HTTP ones as the JSON body's "details" array,
 * in daprd's order (BadRequest or Help, ResourceInfo, ErrorInfo). The values
 * (component name, metadata, the field at fault) come with each error in
 * rs_dapr_error_t. Rows with a NULL reason are daprd's plain errors: code and
 * message only.
 *
 * The HTTP adapters reply with rs_api_reply_err() (sidecar/api/api.h); the
 * operation layer (sidecar/ops/) hands an rs_dapr_error_t to its caller.
 * docs/compatibility.md ("Error codes") lists every row; the unit test
 * tests/unit/sidecar/errors/test_errors.c checks the list against this table both
 * ways. The gRPC codes and reasons are the ones daprd uses (pkg/messages,
 * pkg/messages/errorcodes, pkg/api/errors). */
#ifndef RS_SIDECAR_ERRORS_H
#define RS_SIDECAR_ERRORS_H

#include <stddef.h>

#define RS_DAPR_ERRORS(XX)                                                                                                               \
    /* requests the HTTP server itself turns away (http/server.c, rs_http_error_code) */                                                 \
    XX(MALFORMED_REQUEST, "ERR_MALFORMED_REQUEST", 400, INVALID_ARGUMENT, NULL, NULL)                                                    \
    XX(NOT_FOUND, "ERR_NOT_FOUND", 404, UNIMPLEMENTED, NULL, NULL)                                                                       \
    XX(METHOD_NOT_ALLOWED, "ERR_METHOD_NOT_ALLOWED", 405, UNIMPLEMENTED, NULL, NULL)                                                     \
    XX(REQUEST_TIMEOUT, "ERR_REQUEST_TIMEOUT", 408, DEADLINE_EXCEEDED, NULL, NULL)                                                       \
    XX(REQUEST_TOO_LARGE, "ERR_REQUEST_TOO_LARGE", 413, RESOURCE_EXHAUSTED, NULL, NULL)                                                  \
    XX(HEADERS_TOO_LARGE, "ERR_HEADERS_TOO_LARGE", 431, RESOURCE_EXHAUSTED, NULL, NULL)                                                  \
    XX(INTERNAL, "ERR_INTERNAL", 500, INTERNAL, NULL, NULL)                                                                              \
    XX(NOT_IMPLEMENTED, "ERR_NOT_IMPLEMENTED", 501, UNIMPLEMENTED, NULL, NULL)                                                           \
    XX(HTTP_VERSION, "ERR_HTTP_VERSION", 505, UNIMPLEMENTED, NULL, NULL)                                                                 \
    /* health */                                                                                                                         \
    XX(HEALTH_NOT_READY, "ERR_HEALTH_NOT_READY", 500, UNAVAILABLE, NULL, NULL)                                                           \
    XX(HEALTH_APPID_NOT_MATCH, "ERR_HEALTH_APPID_NOT_MATCH", 500, INTERNAL, NULL, NULL)                                                  \
    /* state */                                                                                                                          \
    XX(STATE_STORE_NOT_CONFIGURED, "ERR_STATE_STORE_NOT_CONFIGURED", 500, FAILED_PRECONDITION, "DAPR_STATE_NOT_CONFIGURED", NULL)        \
    XX(STATE_STORE_NOT_FOUND, "ERR_STATE_STORE_NOT_FOUND", 400, INVALID_ARGUMENT, "DAPR_STATE_NOT_FOUND", NULL)                          \
    XX(STATE_STORE_NOT_SUPPORTED, "ERR_STATE_STORE_NOT_SUPPORTED", 500, UNIMPLEMENTED, "DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED", "state") \
    XX(STATE_GET, "ERR_STATE_GET", 500, INTERNAL, NULL, NULL)                                                                            \
    XX(STATE_SAVE, "ERR_STATE_SAVE", 500, INTERNAL, NULL, NULL)                                                                          \
    XX(STATE_SAVE_ETAG_MISMATCH, "ERR_STATE_SAVE", 409, ABORTED, NULL, NULL)                                                             \
    XX(STATE_SAVE_ETAG_INVALID, "ERR_STATE_SAVE", 400, INVALID_ARGUMENT, NULL, NULL)                                                     \
    XX(STATE_DELETE, "ERR_STATE_DELETE", 500, INTERNAL, NULL, NULL)                                                                      \
    XX(STATE_DELETE_ETAG_MISMATCH, "ERR_STATE_DELETE", 409, ABORTED, NULL, NULL)                                                         \
    XX(NOT_SUPPORTED_STATE_OPERATION, "ERR_NOT_SUPPORTED_STATE_OPERATION", 400, UNIMPLEMENTED, NULL, NULL)                               \
    XX(STATE_TRANSACTION, "ERR_STATE_TRANSACTION", 500, INTERNAL, NULL, NULL)                                                            \
    XX(STATE_ILLEGAL_KEY, "ERR_MALFORMED_REQUEST", 400, INVALID_ARGUMENT, "DAPR_STATE_ILLEGAL_KEY", "state")                             \
    /* lock */                                                                                                                           \
    XX(LOCK_STORE_NOT_CONFIGURED, "ERR_LOCK_STORE_NOT_CONFIGURED", 500, FAILED_PRECONDITION, NULL, NULL)                                 \
    XX(LOCK_STORE_NOT_FOUND, "ERR_LOCK_STORE_NOT_FOUND", 400, INVALID_ARGUMENT, NULL, NULL)                                              \
    XX(TRY_LOCK, "ERR_TRY_LOCK", 500, INTERNAL, NULL, NULL)                                                                              \
    XX(UNLOCK, "ERR_UNLOCK", 500, INTERNAL, NULL, NULL)                                                                                  \
    /* secrets */                                                                                                                        \
    XX(SECRET_STORES_NOT_CONFIGURED, "ERR_SECRET_STORES_NOT_CONFIGURED", 500, FAILED_PRECONDITION, NULL, NULL)                           \
    XX(SECRET_STORE_NOT_FOUND, "ERR_SECRET_STORE_NOT_FOUND", 401, INVALID_ARGUMENT, NULL, NULL)                                          \
    XX(PERMISSION_DENIED, "ERR_PERMISSION_DENIED", 403, PERMISSION_DENIED, NULL, NULL)                                                   \
    XX(SECRET_GET, "ERR_SECRET_GET", 500, INTERNAL, NULL, NULL)                                                                          \
    /* output bindings */                                                                                                                \
    XX(INVOKE_OUTPUT_BINDING, "ERR_INVOKE_OUTPUT_BINDING", 500, INTERNAL, NULL, NULL)                                                    \
    /* publish */                                                                                                                        \
    XX(PUBSUB_NOT_CONFIGURED, "ERR_PUBSUB_NOT_CONFIGURED", 400, FAILED_PRECONDITION, "DAPR_PUBSUB_NOT_CONFIGURED", NULL)                 \
    XX(PUBSUB_EMPTY, "ERR_PUBSUB_EMPTY", 404, INVALID_ARGUMENT, "DAPR_PUBSUB_NAME_EMPTY", "pubsub")                                      \
    XX(PUBSUB_NOT_FOUND, "ERR_PUBSUB_NOT_FOUND", 404, INVALID_ARGUMENT, "DAPR_PUBSUB_NOT_FOUND", NULL)                                   \
    XX(TOPIC_NAME_EMPTY, "ERR_TOPIC_NAME_EMPTY", 404, INVALID_ARGUMENT, "DAPR_PUBSUB_TOPIC_NAME_EMPTY", "pubsub")                        \
    XX(PUBSUB_FORBIDDEN, "ERR_PUBSUB_FORBIDDEN", 403, PERMISSION_DENIED, "DAPR_PUBSUB_FORBIDDEN", "pubsub")                              \
    XX(PUBSUB_REQUEST_METADATA, "ERR_PUBSUB_REQUEST_METADATA", 400, INVALID_ARGUMENT, "DAPR_PUBSUB_METADATA_DESERIALIZATION", "pubsub")  \
    XX(PUBSUB_CLOUD_EVENTS_SER, "ERR_PUBSUB_CLOUD_EVENTS_SER", 500, INVALID_ARGUMENT, "DAPR_PUBSUB_CLOUD_EVENT_CREATION", "pubsub")      \
    XX(PUBSUB_EVENTS_SER, "ERR_PUBSUB_EVENTS_SER", 400, INVALID_ARGUMENT, "DAPR_PUBSUB_UNMARSHAL_EVENTS", "pubsub")                      \
    XX(PUBSUB_PUBLISH_MESSAGE, "ERR_PUBSUB_PUBLISH_MESSAGE", 500, INTERNAL, "DAPR_PUBSUB_PUBLISH_MESSAGE", "pubsub")                     \
    /* service invocation */                                                                                                             \
    XX(DIRECT_INVOKE, "ERR_DIRECT_INVOKE", 500, INTERNAL, NULL, NULL)                                                                    \
    XX(DIRECT_INVOKE_NO_APP_ID, "ERR_DIRECT_INVOKE", 404, NOT_FOUND, NULL, NULL)                                                         \
    XX(DIRECT_INVOKE_INVALID, "ERR_DIRECT_INVOKE", 400, INVALID_ARGUMENT, NULL, NULL)

/** One row of the table: RS_ERR_MALFORMED_REQUEST, RS_ERR_STATE_SAVE_ETAG_MISMATCH, ... */
typedef enum {
#define RS_DAPR_ERR_ENUM(name, code, http, grpc, reason, resource) RS_ERR_##name,
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

/** ErrorInfo's domain on every Dapr error (dapr/kit errors.Domain). */
#define RS_DAPR_ERROR_DOMAIN "dapr.io"

/** Longest Dapr error message ripstopd sends (longer ones are cut); the HTTP reply uses the same bound. */
#define RS_DAPR_MSG_MAX 1024

/** Bounds of an error's detail values (longer ones are cut). */
#define RS_DAPR_NAME_MAX 256
#define RS_DAPR_META_MAX 8
#define RS_DAPR_META_KEY_MAX 64
#define RS_DAPR_META_VALUE_MAX 256

/** A table error and its message, as the operation layer reports it to an adapter, with the values of its rich
 *  details (used only by rows with a reason; all empty after rs_dapr_error_set). */
typedef struct {
    rs_dapr_err_t code;
    char message[RS_DAPR_MSG_MAX];
    char resource[RS_DAPR_NAME_MAX]; /**< the component the error is about: ResourceInfo's resource_name */
    char field[RS_DAPR_NAME_MAX];    /**< the request value at fault: a BadRequest field violation when non-empty */
    size_t n_meta;                   /**< ErrorInfo's metadata, in order */
    struct {
        char key[RS_DAPR_META_KEY_MAX], value[RS_DAPR_META_VALUE_MAX];
    } meta[RS_DAPR_META_MAX];
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
/** daprd's ErrorInfo reason for the row (e.g. "DAPR_STATE_NOT_FOUND"), or NULL: the row has no rich details. */
const char *rs_dapr_err_reason(rs_dapr_err_t e);
/** The ResourceInfo resource_type of the row ("state", "pubsub"), or NULL: no ResourceInfo. */
const char *rs_dapr_err_resource_type(rs_dapr_err_t e);
/** The google.rpc.Help link daprd adds to the row: 1 with *url and *description set, or 0. */
int rs_dapr_err_help(rs_dapr_err_t e, const char **url, const char **description);
/** The gRPC code as grpc-go prints it (codes.Code.String(): "OK", "InvalidArgument", ...; "Unknown" if out of
 *  range): daprd's grpc_server_status metric label. */
const char *rs_grpc_code_go_name(rs_grpc_code_t c);
/** Fills *err with the row and the printf-formatted message (no resource, field or metadata). */
void rs_dapr_error_set(rs_dapr_error_t *err, rs_dapr_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Sets the component the error is about (ResourceInfo). */
void rs_dapr_error_resource(rs_dapr_error_t *err, const char *name);
/** Sets the request value at fault (BadRequest's field violation). */
void rs_dapr_error_field(rs_dapr_error_t *err, const char *field);
/** Adds an ErrorInfo metadata entry (ignored beyond RS_DAPR_META_MAX; long values are cut). */
void rs_dapr_error_meta(rs_dapr_error_t *err, const char *key, const char *value);

#endif
