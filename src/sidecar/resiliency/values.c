/* SPDX-License-Identifier: MIT */
#include "sidecar/resiliency/values.h"

#include "core/duration.h"
#include "core/str.h"

int rs_res_int(const json_t *v, long long *out) {
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) return rs_parse_int64(json_string_value(v), out);
    return -1;
}

int rs_res_duration_ms(const json_t *v, int64_t *out_ms) {
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0) return -1;
        *out_ms = json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v)) return -1;
    if (rs_duration_parse_ms_default(json_string_value(v), out_ms) != 0 || *out_ms < 0) return -1;
    return 0;
}
