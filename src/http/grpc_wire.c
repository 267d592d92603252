/* SPDX-License-Identifier: MIT */
/* gRPC's message prefix, grpc-timeout and grpc-message encoding (grpc_wire.h). */
#include "http/grpc_wire.h"

#include <stdio.h>
#include <string.h>

void rs_grpc_prefix_read(const uint8_t *p, int *compressed, uint32_t *len) {
    *compressed = p[0];
    *len = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | (uint32_t)p[4];
}

void rs_grpc_prefix_write(uint8_t *p, uint32_t len) {
    p[0] = 0;
    p[1] = (uint8_t)(len >> 24);
    p[2] = (uint8_t)(len >> 16);
    p[3] = (uint8_t)(len >> 8);
    p[4] = (uint8_t)len;
}

int rs_grpc_timeout_parse(const char *s, int64_t *ms) {
    size_t n = s ? strlen(s) : 0;
    if (n < 2 || n > 9) return -1; /* at most 8 digits and the unit */
    int64_t v = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    /* the unit's length in nanoseconds, as a divisor or multiplier of a millisecond */
    switch (s[n - 1]) {
    case 'H': *ms = v * 3600000; break;
    case 'M': *ms = v * 60000; break;
    case 'S': *ms = v * 1000; break;
    case 'm': *ms = v; break;
    case 'u': *ms = (v + 999) / 1000; break;
    case 'n': *ms = (v + 999999) / 1000000; break;
    default: return -1;
    }
    return 0;
}

char *rs_grpc_message_encode(const char *msg, char *out, size_t cap) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        int plain = *p >= 0x20 && *p <= 0x7e && *p != '%';
        size_t need = plain ? 1 : 3;
        if (o + need + 1 > cap) break;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (cap) out[o] = '\0';
    return out;
}

char *rs_grpc_timeout_format(int64_t ms, char *out) {
    if (ms < 1) ms = 1;
    if (ms <= 99999999) snprintf(out, 12, "%lldm", (long long)ms);
    else snprintf(out, 12, "%lldS", (long long)((ms + 999) / 1000 > 99999999 ? 99999999 : (ms + 999) / 1000));
    return out;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *rs_grpc_message_decode(const char *in, size_t len, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        int hi, lo;
        if (in[i] == '%' && i + 2 < len && (hi = hexval(in[i + 1])) >= 0 && (lo = hexval(in[i + 2])) >= 0) {
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    if (cap) out[o] = '\0';
    return out;
}
