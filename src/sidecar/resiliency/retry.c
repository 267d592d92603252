/* SPDX-License-Identifier: MIT */
/* Back-off arithmetic follows cenkalti/backoff v4 as Dapr configures it:
 * the interval grows by x1.5 from 500ms up to maxInterval, each wait is the
 * current interval randomised by +-50% (after the cap), and the schedule stops
 * when the elapsed time plus the next wait would pass 15 minutes. */
#include "sidecar/resiliency/retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "sidecar/resiliency/values.h"

void rs_retry_spec_default(rs_retry_spec_t *s) {
    memset(s, 0, sizeof *s);
    s->kind = RS_RETRY_CONSTANT;
    s->duration_ms = 5000;
    s->max_interval_ms = 60000;
    s->max_retries = -1;
}

static int parse_code(const char *p, size_t n, long *out) {
    if (n == 0 || n > 6) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

int rs_retry_codes_parse(const char *list, int lo, int hi, uint8_t *bitmap, char *err, size_t errlen) {
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0) { /* empty items are skipped */
            char item[32];
            snprintf(item, sizeof item, "%.*s", (int)(n < 31 ? n : 31), p);
            const char *dash = memchr(p, '-', n);
            long a, b;
            int bad;
            if (dash) bad = parse_code(p, (size_t)(dash - p), &a) || parse_code(dash + 1, n - (size_t)(dash - p) - 1, &b);
            else bad = parse_code(p, n, &a), b = a;
            if (bad) {
                snprintf(err, errlen, "invalid status code item \"%s\" in \"%s\" (spaces are not allowed)", item, list);
                return -1;
            }
            if (a < lo || b > hi || a > hi || b < lo) {
                snprintf(err, errlen, "status code item \"%s\" out of range %d-%d", item, lo, hi);
                return -1;
            }
            if (b < a) {
                snprintf(err, errlen, "status code range \"%s\": end is below start", item);
                return -1;
            }
            for (long c = a; c <= b; c++) bitmap[c] = 1;
        }
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

int rs_retry_spec_parse(const json_t *obj, rs_retry_spec_t *s, char *err, size_t errlen) {
    rs_retry_spec_default(s);
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "a retry policy must be a mapping");
        return -1;
    }
    const json_t *v;
    if ((v = json_object_get(obj, "policy")) && !json_is_null(v)) {
        const char *p = json_string_value(v);
        if (p && strcmp(p, "constant") == 0) s->kind = RS_RETRY_CONSTANT;
        else if (p && strcmp(p, "exponential") == 0) s->kind = RS_RETRY_EXPONENTIAL;
        else if (p && !*p) s->kind = RS_RETRY_CONSTANT;
        else {
            snprintf(err, errlen, "policy must be constant or exponential");
            return -1;
        }
    }
    if ((v = json_object_get(obj, "duration")) && !json_is_null(v) && rs_res_duration_ms(v, &s->duration_ms) != 0) {
        snprintf(err, errlen, "invalid duration");
        return -1;
    }
    if ((v = json_object_get(obj, "maxInterval")) && !json_is_null(v) &&
        rs_res_duration_ms(v, &s->max_interval_ms) != 0) {
        snprintf(err, errlen, "invalid maxInterval");
        return -1;
    }
    long long mr;
    if ((v = json_object_get(obj, "maxRetries")) && !json_is_null(v)) {
        if (rs_res_int(v, &mr) != 0 || mr < -1) {
            snprintf(err, errlen, "maxRetries must be an integer >= -1");
            return -1;
        }
        s->max_retries = mr;
    }
    const json_t *m = json_object_get(obj, "matching");
    if (m && !json_is_null(m)) {
        if (!json_is_object(m)) {
            snprintf(err, errlen, "matching must be a mapping");
            return -1;
        }
        char why[200];
        const json_t *h = json_object_get(m, "httpStatusCodes");
        if (h && !json_is_null(h)) {
            char num[32];
            const char *list = json_string_value(h);
            if (json_is_integer(h)) { /* a single code written without quotes */
                snprintf(num, sizeof num, "%lld", (long long)json_integer_value(h));
                list = num;
            }
            if (!list || rs_retry_codes_parse(list, 100, 599, s->http_codes, why, sizeof why) != 0) {
                snprintf(err, errlen, "matching.httpStatusCodes: %s", list ? why : "must be a string");
                return -1;
            }
            s->has_http_codes = list[0] != '\0';
        }
        const json_t *g = json_object_get(m, "gRPCStatusCodes");
        if (g && !json_is_null(g)) {
            char num[32];
            const char *list = json_string_value(g);
            if (json_is_integer(g)) {
                snprintf(num, sizeof num, "%lld", (long long)json_integer_value(g));
                list = num;
            }
            if (!list || rs_retry_codes_parse(list, 0, 16, s->grpc_codes, why, sizeof why) != 0) {
                snprintf(err, errlen, "matching.gRPCStatusCodes: %s", list ? why : "must be a string");
                return -1;
            }
            s->has_grpc_codes = list[0] != '\0';
        }
    }
    return 0;
}

int rs_retry_status_retriable(const rs_retry_spec_t *s, int status) {
    if (status <= 0) return 1; /* errors without a code are always retried */
    if (status <= 16) return s->has_grpc_codes ? s->grpc_codes[status] : 1;
    if (status < 100 || status > 599) return 1;
    return s->has_http_codes ? s->http_codes[status] : 1;
}

int64_t rs_retry_next_delay(const rs_retry_spec_t *s, int64_t retries_done, int64_t elapsed_ms, double rnd) {
    if (s->max_retries >= 0 && retries_done >= s->max_retries) return -1;
    if (s->kind == RS_RETRY_CONSTANT) return s->duration_ms;
    /* Interval for this wait: 500ms x 1.5^n, capped (cenkalti caps once current >= max / multiplier). */
    double current = RS_RETRY_EXP_INITIAL_MS;
    double max = (double)s->max_interval_ms;
    for (int64_t i = 0; i < retries_done; i++) {
        if (current >= max / RS_RETRY_EXP_MULTIPLIER) {
            current = max;
            break;
        }
        current *= RS_RETRY_EXP_MULTIPLIER;
    }
    double delta = RS_RETRY_EXP_JITTER * current;
    double lo = current - delta, hi = current + delta;
    int64_t wait = (int64_t)(lo + rnd * (hi - lo));
    if (elapsed_ms + wait > RS_RETRY_EXP_MAX_ELAPSED_MS) return -1;
    return wait;
}
