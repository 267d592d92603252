/* SPDX-License-Identifier: MIT */
/* Lookups generated from the one Dapr error table in errors.h. */
#include "sidecar/errors/errors.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
    const char *name, *code;
    int http;
    rs_grpc_code_t grpc;
} rows[] = {
#define RS_DAPR_ERR_ROW(name, code, http, grpc) {#name, code, http, RS_GRPC_##grpc},
    RS_DAPR_ERRORS(RS_DAPR_ERR_ROW)
#undef RS_DAPR_ERR_ROW
};

static const char *const grpc_names[] = {
    "OK",      "CANCELLED",         "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
};

/* A value outside the table reads as ERR_INTERNAL rather than indexing past the end. */
static rs_dapr_err_t valid(rs_dapr_err_t e) { return (unsigned)e < RS_DAPR_ERR_COUNT ? e : RS_ERR_INTERNAL; }

const char *rs_dapr_err_code(rs_dapr_err_t e) { return rows[valid(e)].code; }
int rs_dapr_err_http(rs_dapr_err_t e) { return rows[valid(e)].http; }
rs_grpc_code_t rs_dapr_err_grpc(rs_dapr_err_t e) { return rows[valid(e)].grpc; }
const char *rs_dapr_err_name(rs_dapr_err_t e) { return rows[valid(e)].name; }

const char *rs_grpc_code_name(rs_grpc_code_t c) {
    return (unsigned)c < sizeof grpc_names / sizeof grpc_names[0] ? grpc_names[c] : NULL;
}

void rs_dapr_error_set(rs_dapr_error_t *err, rs_dapr_err_t code, const char *fmt, ...) {
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}
