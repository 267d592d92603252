/* SPDX-License-Identifier: MIT */
/* Output-binding data is re-marshalled like Go's encoding/json. */
#include <stdlib.h>
#include <string.h>

#include "sidecar/components/bindings/go_json.h"
#include "test.h"

static char *remarshal(const char *in) {
    json_error_t e;
    json_t *v = json_loads(in, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &e);
    if (!v) return strdup("(parse error)");
    size_t n;
    char *s = rs_go_json_marshal(v, &n);
    json_decref(v);
    return s;
}

#define CHECK(in, want)                                                                                               \
    do {                                                                                                              \
        char *got_ = remarshal(in);                                                                                   \
        int same_ = strcmp(got_, want) == 0;                                                                          \
        if (!same_) TEST_FAIL_AT("%s -> %s, want %s", in, got_, want);                                                \
        free(got_);                                                                                                   \
        if (!same_) return;                                                                                           \
    } while (0)

TEST(strings_keep_quotes_and_escape_like_go) {
    CHECK("\"hi\"", "\"hi\"");
    CHECK("\"a<b>&c\"", "\"a\\u003cb\\u003e\\u0026c\"");
    CHECK("\"tab\\there\\nnl\\u0001\\b\\f\"", "\"tab\\there\\nnl\\u0001\\b\\f\"");
    CHECK("\"\\u2028x\\u2029\"", "\"\\u2028x\\u2029\"");
    CHECK("\"caf\\u00e9 \\\"q\\\" \\\\ \\/\"", "\"café \\\"q\\\" \\\\ /\"");
}

TEST(objects_sorted_compact) {
    CHECK("{\"b\": 1, \"a\": {\"z\": [true, false, null], \"y\": \"s\"}}",
          "{\"a\":{\"y\":\"s\",\"z\":[true,false,null]},\"b\":1}");
    CHECK("[]", "[]");
    CHECK("{}", "{}");
    CHECK("null", "null");
}

TEST(numbers_are_float64) {
    CHECK("1", "1");
    CHECK("1.0", "1");
    CHECK("-0.0", "-0");
    CHECK("1.5", "1.5");
    CHECK("0.1", "0.1");
    CHECK("1e3", "1000");
    CHECK("123456789", "123456789");
    CHECK("12345678901234567890", "12345678901234567000");
    CHECK("1e20", "100000000000000000000");
    CHECK("1e21", "1e+21");
    CHECK("1.5e300", "1.5e+300");
    CHECK("0.000001", "0.000001");
    CHECK("0.0000001", "1e-7");
    CHECK("1.25e-10", "1.25e-10");
    CHECK("3.141592653589793", "3.141592653589793");
    CHECK("-42.5", "-42.5");
}

int main(void) {
    RUN(strings_keep_quotes_and_escape_like_go);
    RUN(objects_sorted_compact);
    RUN(numbers_are_float64);
    return TEST_SUMMARY();
}
