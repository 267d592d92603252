/* SPDX-License-Identifier: MIT */
#include "core/encoding.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *rs_percent_decode(const char *in, size_t len, int plus_is_space, size_t *out_len) {
    char *out = rs_xmalloc(len + 1), *w = out;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '%') {
            int hi = i + 1 < len ? hex_value(in[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            *w++ = (char)(hi << 4 | lo);
            i += 2;
        } else if (in[i] == '+' && plus_is_space) {
            *w++ = ' ';
        } else {
            *w++ = in[i];
        }
    }
    *w = '\0';
    if (out_len) *out_len = (size_t)(w - out);
    return out;
}

/* RFC 3986 pchar without '%': the bytes a path segment may hold as they are. */
static int path_safe(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=:@", c);
}

char *rs_percent_encode_path(const char *in) {
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(in);
    char *out = rs_xmalloc(3 * len + 1), *w = out;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if (*p == '/' || path_safe(*p)) {
            *w++ = (char)*p;
        } else {
            *w++ = '%';
            *w++ = hex[*p >> 4];
            *w++ = hex[*p & 15];
        }
    }
    *w = '\0';
    return out;
}

static int is_separator(const char *in, size_t len, size_t i) {
    return in[i] == '/' || (in[i] == '%' && i + 2 < len && in[i + 1] == '2' && (in[i + 2] == 'F' || in[i + 2] == 'f'));
}

long rs_url_path_clean(const char *in, size_t len, char *out, char *why, size_t whylen) {
    static const char hex[] = "0123456789ABCDEF";
    size_t w = 0; /* bytes written to out */
    int trailing = 0;
    for (size_t i = 0; i < len;) {
        /* one segment: in[i..e), validated and decoded on the way */
        size_t start = w, dlen = 0, e = i;
        char d[2] = {0, 0}; /* its first two decoded bytes: is it "." or ".."? */
        if (w) out[w++] = '/';
        for (; e < len && !is_separator(in, len, e); e++) {
            unsigned char c = (unsigned char)in[e];
            if (c == '%') {
                int hi = e + 1 < len ? hex_value(in[e + 1]) : -1;
                int lo = e + 2 < len ? hex_value(in[e + 2]) : -1;
                if (hi < 0 || lo < 0) {
                    snprintf(why, whylen, "malformed escape in the method");
                    return -1;
                }
                memcpy(out + w, in + e, 3);
                w += 3;
                e += 2;
                c = (unsigned char)(hi << 4 | lo);
            } else if (path_safe(c)) {
                out[w++] = (char)c;
            } else {
                out[w++] = '%';
                out[w++] = hex[c >> 4];
                out[w++] = hex[c & 15];
            }
            if (c < 0x20 || c == 0x7f || c == '#' || c == '?') {
                snprintf(why, whylen, "the method holds a control character, '#' or '?'");
                return -1;
            }
            if (dlen < 2) d[dlen] = (char)c;
            dlen++;
        }
        int dot = dlen == 1 && d[0] == '.', dotdot = dlen == 2 && d[0] == '.' && d[1] == '.';
        if (dlen == 0 || dot) {
            w = start; /* "a//b", "a/./b": nothing */
        } else if (dotdot) {
            w = start; /* "a/b/../c": drop this segment and the one before (none above the root) */
            while (w > 0 && out[w - 1] != '/') w--;
            if (w > 0) w--;
        }
        trailing = e < len; /* ended on a separator */
        i = e < len ? e + (in[e] == '/' ? 1 : 3) : e;
    }
    if (trailing && w) out[w++] = '/';
    out[w] = '\0';
    return (long)w;
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0 if there is none. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned min, cp;
    if (c >= 0xc2 && c <= 0xdf) len = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) len = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, min = 0x10000, cp = c & 0x07;
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

int rs_utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq(p + i, len - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

char *rs_utf8_sanitize(const char *s, size_t n, size_t *outlen) {
    char *out = rs_xmalloc(3 * n + 1), *w = out; /* each bad byte becomes 3 bytes at most */
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (k) {
            memcpy(w, p + i, k);
            w += k;
            i += k;
        } else {
            memcpy(w, "\xef\xbf\xbd", 3); /* U+FFFD */
            w += 3;
            i++;
        }
    }
    *w = '\0';
    if (outlen) *outlen = (size_t)(w - out);
    return out;
}
