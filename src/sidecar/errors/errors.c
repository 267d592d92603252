/* SPDX-License-Identifier: MIT */
/* Lookups generated from the one Dapr error table in errors.h. */
#include "sidecar/errors/errors.h"

#include "core/encoding.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name, *code;
    int http;
    rs_grpc_code_t grpc;
    const char *reason, *resource;
} rows[] = {
#define RS_DAPR_ERR_ROW(name, code, http, grpc, reason, resource) {#name, code, http, RS_GRPC_##grpc, reason, resource},
    RS_DAPR_ERRORS(RS_DAPR_ERR_ROW)
#undef RS_DAPR_ERR_ROW
};

static const char *const grpc_names[] = {
    "OK",      "CANCELLED",         "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
};

/* grpc-go's codes.Code.String(): daprd's grpc_server_status label */
static const char *const grpc_go_names[] = {
    "OK",         "Canceled",     "Unknown",  "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
    "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
};

/* A value outside the table reads as ERR_INTERNAL rather than indexing past the end. */
static rs_dapr_err_t valid(rs_dapr_err_t e) { return (unsigned)e < RS_DAPR_ERR_COUNT ? e : RS_ERR_INTERNAL; }

const char *rs_dapr_err_code(rs_dapr_err_t e) { return rows[valid(e)].code; }
int rs_dapr_err_http(rs_dapr_err_t e) { return rows[valid(e)].http; }
rs_grpc_code_t rs_dapr_err_grpc(rs_dapr_err_t e) { return rows[valid(e)].grpc; }
const char *rs_dapr_err_name(rs_dapr_err_t e) { return rows[valid(e)].name; }
const char *rs_dapr_err_reason(rs_dapr_err_t e) { return rows[valid(e)].reason; }
const char *rs_dapr_err_resource_type(rs_dapr_err_t e) { return rows[valid(e)].resource; }

int rs_dapr_err_help(rs_dapr_err_t e, const char **url, const char **description) {
    /* daprd's StateStoreError.TransactionsNotSupported is the only error with a help link */
    if (e != RS_ERR_STATE_STORE_NOT_SUPPORTED) return 0;
    *url = "https://docs.dapr.io/reference/components-reference/supported-state-stores/";
    *description = "Check the list of state stores and the features they support";
    return 1;
}

const char *rs_grpc_code_name(rs_grpc_code_t c) {
    return (unsigned)c < sizeof grpc_names / sizeof grpc_names[0] ? grpc_names[c] : NULL;
}

const char *rs_grpc_code_go_name(rs_grpc_code_t c) {
    return (unsigned)c < sizeof grpc_go_names / sizeof grpc_go_names[0] ? grpc_go_names[c] : "Unknown";
}

/* Copies src into dst[n] as well-formed UTF-8 (protobuf strings and JSON need it): bytes that are not become
 * U+FFFD, and a cut never splits a character. */
static void fit_utf8(char *dst, size_t n, const char *src) {
    size_t len = strlen(src);
    char *clean = rs_utf8_valid(src, len) ? NULL : rs_utf8_sanitize(src, len, &len);
    const char *s = clean ? clean : src;
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) len--; /* s[len] starts the first dropped char */
    }
    memmove(dst, s, len);
    dst[len] = '\0';
    free(clean);
}

void rs_dapr_error_set(rs_dapr_error_t *err, rs_dapr_err_t code, const char *fmt, ...) {
    err->code = code;
    err->resource[0] = err->field[0] = '\0';
    err->n_meta = 0;
    char msg[RS_DAPR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fit_utf8(err->message, sizeof err->message, msg);
}

void rs_dapr_error_resource(rs_dapr_error_t *err, const char *name) {
    fit_utf8(err->resource, sizeof err->resource, name ? name : "");
}

void rs_dapr_error_field(rs_dapr_error_t *err, const char *field) {
    fit_utf8(err->field, sizeof err->field, field ? field : "");
}

void rs_dapr_error_meta(rs_dapr_error_t *err, const char *key, const char *value) {
    if (err->n_meta >= RS_DAPR_META_MAX) return;
    fit_utf8(err->meta[err->n_meta].key, sizeof err->meta[0].key, key);
    fit_utf8(err->meta[err->n_meta].value, sizeof err->meta[0].value, value ? value : "");
    err->n_meta++;
}
