/* SPDX-License-Identifier: MIT */
#include "sidecar/components/bindings/go_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"

/* Shortest decimal digits that read back as f (Go's strconv with precision -1):
 * fills digits (no dot, no sign) and the decimal exponent of the first digit. */
static void shortest(double f, char *digits, int *exp10) {
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, f);
        if (strtod(buf, NULL) == f) break;
    }
    /* buf = "[-]d[.ddd]e[+-]XX" */
    const char *p = buf;
    if (*p == '-') p++;
    size_t n = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0') n--; /* "1.50e+00" never happens at shortest, but be safe */
    digits[n] = 0;
    *exp10 = atoi(p + 1);
}

void rs_go_json_float(double f, char out[32]) {
    if (!isfinite(f)) { /* Go refuses these; jansson never produces them */
        snprintf(out, 32, "null");
        return;
    }
    char digits[32];
    int e;
    shortest(f, digits, &e);
    size_t nd = strlen(digits), o = 0;
    double a = fabs(f);
    if (signbit(f)) out[o++] = '-';
    if (a != 0 && (a < 1e-6 || a >= 1e21)) {
        /* 'e' format: d[.ddd]e±dd, then Go's JSON encoder turns e-07 into e-7 */
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, nd - 1);
            o += nd - 1;
        }
        int ae = e < 0 ? -e : e;
        o += (size_t)snprintf(out + o, 32 - o, "e%c%s%d", e < 0 ? '-' : '+', (ae < 10 && e >= 0) ? "0" : "", ae);
        return;
    }
    if (a == 0) {
        out[o++] = '0';
        out[o] = 0;
        return;
    }
    if (e >= 0) {
        for (int i = 0; i <= e; i++) out[o++] = (size_t)i < nd ? digits[i] : '0';
        if ((size_t)e + 1 < nd) {
            out[o++] = '.';
            for (size_t i = (size_t)e + 1; i < nd; i++) out[o++] = digits[i];
        }
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -e - 1; i++) out[o++] = '0';
        for (size_t i = 0; i < nd; i++) out[o++] = digits[i];
    }
    out[o] = 0;
}

static void put_string(rs_buf_t *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    rs_buf_append(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned char c = *p;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            rs_buf_append(b, esc, 2);
        } else if (c == '\n') rs_buf_append(b, "\\n", 2);
        else if (c == '\r') rs_buf_append(b, "\\r", 2);
        else if (c == '\t') rs_buf_append(b, "\\t", 2);
        else if (c == '\b') rs_buf_append(b, "\\b", 2);
        else if (c == '\f') rs_buf_append(b, "\\f", 2);
        else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            snprintf(esc, sizeof esc, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
            rs_buf_append(b, esc, 6);
        } else if (c == 0xE2 && end - p >= 3 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
            rs_buf_append(b, p[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            p += 3;
            continue;
        } else {
            rs_buf_append(b, p, 1);
        }
        p++;
    }
    rs_buf_append(b, "\"", 1);
}

static int cmp_keys(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static void put_value(rs_buf_t *b, const json_t *v, int depth) {
    if (!v || depth > 1000) {
        rs_buf_puts(b, "null");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = rs_xcalloc(n ? n : 1, sizeof *keys);
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) keys[i++] = k;
        qsort(keys, n, sizeof *keys, cmp_keys);
        rs_buf_append(b, "{", 1);
        for (i = 0; i < n; i++) {
            if (i) rs_buf_append(b, ",", 1);
            put_string(b, keys[i], strlen(keys[i]));
            rs_buf_append(b, ":", 1);
            put_value(b, json_object_get(v, keys[i]), depth + 1);
        }
        rs_buf_append(b, "}", 1);
        free(keys);
        break;
    }
    case JSON_ARRAY:
        rs_buf_append(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) rs_buf_append(b, ",", 1);
            put_value(b, json_array_get(v, i), depth + 1);
        }
        rs_buf_append(b, "]", 1);
        break;
    case JSON_STRING: put_string(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER:
    case JSON_REAL: {
        char num[32];
        rs_go_json_float(json_number_value(v), num);
        rs_buf_puts(b, num);
        break;
    }
    case JSON_TRUE: rs_buf_puts(b, "true"); break;
    case JSON_FALSE: rs_buf_puts(b, "false"); break;
    default: rs_buf_puts(b, "null"); break;
    }
}

char *rs_go_json_marshal(const json_t *v, size_t *len) {
    rs_buf_t b;
    rs_buf_init(&b, (size_t)1 << 30);
    put_value(&b, v, 0);
    char *s = rs_buf_steal(&b, len);
    if (!s) {
        s = rs_strdup("null");
        *len = 4;
    }
    return s;
}
