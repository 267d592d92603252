/* SPDX-License-Identifier: MIT */
#include "http/wire.h"

#include <stdlib.h>
#include <string.h>

int rs_http_wire_header(rs_buf_t *b, const char *name, const char *value) {
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) return 0;
    size_t nl = strlen(name), vl = strlen(value);
    char *at = rs_buf_extend(b, nl + vl + 4);
    if (!at) return -1;
    memcpy(at, name, nl);
    at += nl;
    *at++ = ':';
    *at++ = ' ';
    memcpy(at, value, vl);
    at += vl;
    *at++ = '\r';
    *at = '\n';
    return 0;
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
        if (rs_kvlist_add_n(into, a->field.data, a->field.len, v, vl) != 0) return -1;
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
