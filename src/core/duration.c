/* SPDX-License-Identifier: MIT */
#include "core/duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

static int is_bare_int(const char *s) {
    if (*s == '-' || *s == '+') s++;
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

int rs_duration_parse_go(const char *s, int64_t *out_ms) {
    if (!s || !*s) return -1;
    int neg = 0;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (strcmp(s, "0") == 0) {
        *out_ms = 0;
        return 0;
    }
    double total_ns = 0;
    while (*s) {
        if (!isdigit((unsigned char)*s) && *s != '.') return -1;
        /* Go takes digits with at most a fraction: no exponent, hex, inf or nan, which strtod would. */
        size_t n = strspn(s, "0123456789.");
        char *end;
        double v = strtod(s, &end);
        if (end == s || (size_t)(end - s) != n) return -1;
        s = end;
        double unit;
        if (strncmp(s, "ns", 2) == 0) unit = 1, s += 2;
        else if (strncmp(s, "us", 2) == 0) unit = 1e3, s += 2;
        else if (strncmp(s, "\xc2\xb5s", 3) == 0) unit = 1e3, s += 3;
        else if (strncmp(s, "ms", 2) == 0) unit = 1e6, s += 2;
        else if (*s == 's') unit = 1e9, s += 1;
        else if (*s == 'm') unit = 60e9, s += 1;
        else if (*s == 'h') unit = 3600e9, s += 1;
        else return -1;
        total_ns += v * unit;
    }
    if (total_ns >= 9223372036854775808.0) return -1; /* past int64 nanoseconds: Go's "invalid duration" */
    int64_t ms = (int64_t)(total_ns / 1e6);
    *out_ms = neg ? -ms : ms;
    return 0;
}

static int parse_with_bare_unit(const char *s, int64_t *out_ms, int64_t bare_scale) {
    if (!s) return -1;
    if (is_bare_int(s)) {
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (errno == ERANGE || v > INT64_MAX / bare_scale || v < INT64_MIN / bare_scale) return -1;
        *out_ms = v * bare_scale;
        return 0;
    }
    return rs_duration_parse_go(s, out_ms);
}

int rs_duration_parse_ms_default(const char *s, int64_t *out_ms) { return parse_with_bare_unit(s, out_ms, 1); }
int rs_duration_parse_s_default(const char *s, int64_t *out_ms) { return parse_with_bare_unit(s, out_ms, 1000); }

int rs_duration_parse_seconds(const char *s, double max_s, int64_t *out_ms) {
    double v;
    if (rs_parse_double(s, &v) || v < 0 || v > max_s || v > 9e15) return -1;
    *out_ms = (int64_t)(v * 1000);
    return 0;
}

void rs_duration_format_go(int64_t ms, char *out, size_t cap) {
    /* Go's time.Duration.String for a whole number of milliseconds: "500ms", "5s", "1.5s", "1m30s", "1h0m0s" */
    const char *sign = ms < 0 ? "-" : "";
    uint64_t v = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    if (v == 0) {
        snprintf(out, cap, "0s");
        return;
    }
    if (v < 1000) {
        snprintf(out, cap, "%s%llums", sign, (unsigned long long)v);
        return;
    }
    char frac[8] = "";
    unsigned f = (unsigned)(v % 1000);
    if (f) {
        snprintf(frac, sizeof frac, ".%03u", f);
        for (size_t n = strlen(frac); frac[n - 1] == '0'; n--) frac[n - 1] = '\0';
    }
    uint64_t s = v / 1000, h = s / 3600, m = s / 60 % 60;
    if (h) snprintf(out, cap, "%s%lluh%llum%llu%ss", sign, (unsigned long long)h, (unsigned long long)m,
                    (unsigned long long)(s % 60), frac);
    else if (m) snprintf(out, cap, "%s%llum%llu%ss", sign, (unsigned long long)m, (unsigned long long)(s % 60), frac);
    else snprintf(out, cap, "%s%llu%ss", sign, (unsigned long long)s, frac);
}
