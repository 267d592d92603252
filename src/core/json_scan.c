/* SPDX-License-Identifier: MIT */
#include "core/json_scan.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/str.h"

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

typedef struct {
    const char *s;
    size_t len, i;
} scan_t;

static void ws(scan_t *c) {
    while (c->i < c->len && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' || c->s[c->i] == '\r'))
        c->i++;
}

static int hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char h = p[k];
        v <<= 4;
        if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
        else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* A string at c->i (on its '"'): control characters refused, escapes checked, UTF-8 checked once per run of raw
 * bytes >= 0x80. */
static int string(scan_t *c) {
    const char *s = c->s;
    size_t i = c->i + 1, hi = 0;
    int high = 0;
    for (;;) {
        if (i >= c->len) return -1;
        unsigned char b = (unsigned char)s[i];
        if (b == '"') break;
        if (b < 0x20) return -1;
        if (b >= 0x80) {
            if (!high) hi = i;
            high = 1;
            i++;
            continue;
        }
        if (high && rs_utf8_valid(s + hi, i - hi) != 1) return -1;
        high = 0;
        if (b != '\\') {
            i++;
            continue;
        }
        if (i + 1 >= c->len) return -1;
        char e = s[i + 1];
        if (strchr("\"\\/bfnrt", e) && e) {
            i += 2;
            continue;
        }
        unsigned u;
        if (e != 'u' || i + 6 > c->len || hex4(s + i + 2, &u)) return -1;
        i += 6;
        if (u == 0) return -1; /* jansson without JSON_ALLOW_NUL */
        if (u >= 0xDC00 && u <= 0xDFFF) return -1; /* a low surrogate alone */
        if (u >= 0xD800 && u <= 0xDBFF) { /* must be followed by \u low surrogate */
            unsigned l;
            if (i + 6 > c->len || s[i] != '\\' || s[i + 1] != 'u' || hex4(s + i + 2, &l) || l < 0xDC00 || l > 0xDFFF)
                return -1;
            i += 6;
        }
    }
    if (high && rs_utf8_valid(s + hi, i - hi) != 1) return -1;
    c->i = i + 1;
    return 0;
}

static int digits(scan_t *c) {
    size_t st = c->i;
    while (c->i < c->len && c->s[c->i] >= '0' && c->s[c->i] <= '9') c->i++;
    return c->i > st ? 0 : -1;
}

/* RFC 8259 number; a real (or an integer read as one) must fit a double, as jansson's strtod check. */
static int number(scan_t *c) {
    size_t st = c->i;
    if (c->s[c->i] == '-') c->i++;
    if (c->i >= c->len) return -1;
    if (c->s[c->i] == '0') c->i++;
    else if (digits(c)) return -1;
    int real = 0;
    if (c->i < c->len && c->s[c->i] == '.') {
        c->i++;
        if (digits(c)) return -1;
        real = 1;
    }
    if (c->i < c->len && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        c->i++;
        if (c->i < c->len && (c->s[c->i] == '+' || c->s[c->i] == '-')) c->i++;
        if (digits(c)) return -1;
        real = 1;
    }
    size_t n = c->i - st;
    if (!real && n <= 15) return 0; /* fits a double whatever it is */
    char buf[64], *tmp = n < sizeof buf ? buf : rs_xmalloc(n + 1);
    memcpy(tmp, c->s + st, n);
    tmp[n] = '\0';
    errno = 0;
    double d = strtod(tmp, NULL);
    if (tmp != buf) free(tmp);
    return errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL) ? -1 : 0;
}

static int value(scan_t *c, int depth);

static int literal(scan_t *c, const char *word) {
    size_t n = strlen(word);
    if (c->len - c->i < n || memcmp(c->s + c->i, word, n) != 0) return -1;
    c->i += n;
    return 0;
}

/* An object or array at c->i; for the top-level object (fn != NULL) each member goes to fn. */
static int container(scan_t *c, int depth, rs_json_member_fn fn, void *arg) {
    if (depth > MAX_DEPTH) return -1;
    char close = c->s[c->i] == '{' ? '}' : ']';
    c->i++;
    ws(c);
    if (c->i < c->len && c->s[c->i] == close) {
        c->i++;
        return 0;
    }
    for (;;) {
        size_t ks = 0, ke = 0;
        if (close == '}') {
            if (c->i >= c->len || c->s[c->i] != '"') return -1;
            ks = c->i;
            if (string(c)) return -1;
            ke = c->i;
            ws(c);
            if (c->i >= c->len || c->s[c->i] != ':') return -1;
            c->i++;
            ws(c);
        }
        size_t vs = c->i;
        if (value(c, depth + 1)) return -1;
        if (fn) fn(arg, c->s + ks, ke - ks, c->s + vs, c->i - vs);
        ws(c);
        if (c->i >= c->len) return -1;
        if (c->s[c->i] == close) {
            c->i++;
            return 0;
        }
        if (c->s[c->i] != ',') return -1;
        c->i++;
        ws(c);
    }
}

static int value(scan_t *c, int depth) {
    if (c->i >= c->len) return -1;
    switch (c->s[c->i]) {
    case '{':
    case '[': return container(c, depth, NULL, NULL);
    case '"': return string(c);
    case 't': return literal(c, "true");
    case 'f': return literal(c, "false");
    case 'n': return literal(c, "null");
    default:
        if (c->s[c->i] == '-' || (c->s[c->i] >= '0' && c->s[c->i] <= '9')) return number(c);
        return -1;
    }
}

int rs_json_scan_object(const char *s, size_t len, rs_json_member_fn fn, void *arg) {
    scan_t c = {s ? s : "", s ? len : 0, 0};
    ws(&c);
    if (c.i >= c.len || c.s[c.i] != '{' || container(&c, 1, fn, arg)) return -1;
    ws(&c);
    return c.i == c.len ? 0 : -1;
}

char *rs_json_scan_string(const char *text, size_t len) {
    if (len < 2 || text[0] != '"' || text[len - 1] != '"') return NULL;
    if (!memchr(text, '\\', len)) {
        char *out = rs_xmalloc(len - 1);
        memcpy(out, text + 1, len - 2);
        out[len - 2] = '\0';
        return out;
    }
    size_t n;
    return rs_json_unquote(text, len, &n); /* escapes: jansson decodes them */
}
