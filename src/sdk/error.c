/* SPDX-License-Identifier: MIT */
/* dapr_error_t helpers, and turning a sidecar's error answer into one. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dapr/error.h"
#include "internal.h"

void dapr_error_clear(dapr_error_t *err) {
    if (err) memset(err, 0, sizeof *err);
}

void dapr_error_set(dapr_error_t *err, int status, const char *code, const char *fmt, ...) {
    if (!err) return;
    err->status = status;
    snprintf(err->code, sizeof err->code, "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

const char *dapr_error_str(const dapr_error_t *err, char *buf, unsigned long buflen) {
    if (!buf || buflen == 0) return "";
    if (!err) {
        snprintf(buf, buflen, "no error");
    } else if (err->status) {
        snprintf(buf, buflen, "HTTP %d%s%s: %s", err->status, err->code[0] ? " " : "", err->code, err->message);
    } else {
        snprintf(buf, buflen, "%s%s%s", err->code, err->code[0] ? ": " : "", err->message);
    }
    return buf;
}

void dapri_error_from_response(dapr_error_t *err, const dapr_response_t *r) {
    if (!err) return;
    dapr_error_clear(err);
    err->status = r->status;
    json_t *j = r->body_len ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
    const char *code = j ? json_string_value(json_object_get(j, "errorCode")) : NULL;
    const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
    if (code || msg) {
        snprintf(err->code, sizeof err->code, "%s", code ? code : "");
        snprintf(err->message, sizeof err->message, "%s", msg ? msg : "");
    } else {
        /* Not a Dapr error body (an app's own answer, or the plain-text 401): keep its text. */
        size_t n = r->body_len;
        while (n > 0 && (r->body[n - 1] == '\n' || r->body[n - 1] == '\r')) n--;
        if (n >= sizeof err->message) n = sizeof err->message - 1;
        if (n) memcpy(err->message, r->body, n);
        err->message[n] = '\0';
        if (!n) snprintf(err->message, sizeof err->message, "HTTP status %d", r->status);
    }
    json_decref(j);
}
