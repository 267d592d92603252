/* SPDX-License-Identifier: MIT */
#include "http/wire.h"

#include <stdlib.h>
#include <string.h>

int rs_http_wire_header(rs_buf_t *b, const char *name, const char *value) {
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) return 0;
    if (rs_buf_append(b, name, strlen(name)) != 0 || rs_buf_append(b, ": ", 2) != 0 ||
        rs_buf_append(b, value, strlen(value)) != 0)
        return -1;
    return rs_buf_append(b, "\r\n", 2);
}

void rs_http_header_acc_init(rs_http_header_acc_t *a, size_t cap) {
    rs_buf_init(&a->field, cap);
    rs_buf_init(&a->value, cap);
    a->in_value = 0;
}

void rs_http_header_acc_reset(rs_http_header_acc_t *a) {
    rs_buf_reset(&a->field);
    rs_buf_reset(&a->value);
    a->in_value = 0;
}

void rs_http_header_acc_free(rs_http_header_acc_t *a) {
    rs_buf_free(&a->field);
    rs_buf_free(&a->value);
}

int rs_http_header_acc_end(rs_http_header_acc_t *a, rs_kvlist_t *into) {
    if (a->field.len) {
        const char *v = a->value.data ? a->value.data : "";
        size_t vl = a->value.len;
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
        char *val = strndup(v, vl);
        int rc = val ? rs_kvlist_add(into, a->field.data, val) : -1;
        free(val);
        if (rc != 0) return -1;
    }
    rs_http_header_acc_reset(a);
    return 0;
}

int rs_http_header_acc_field(rs_http_header_acc_t *a, const char *at, size_t len, rs_kvlist_t *into) {
    if (a->in_value && rs_http_header_acc_end(a, into) != 0) return -1;
    return rs_buf_append(&a->field, at, len);
}

int rs_http_header_acc_value(rs_http_header_acc_t *a, const char *at, size_t len) {
    a->in_value = 1;
    return rs_buf_append(&a->value, at, len);
}
