/* SPDX-License-Identifier: MIT */
/* The CEL subset: breaker trip expressions over int counters and route rules over event.* strings. */
#include <stdlib.h>
#include <string.h>

#include "sidecar/cel/cel.h"
#include "test.h"

typedef struct {
    long long requests, total_successes, total_failures, consecutive_successes, consecutive_failures;
    const char *type, *source;
} vars_t;

static int resolve(void *ctx, const char *path, rs_cel_value_t *out) {
    vars_t *v = ctx;
    out->type = RS_CEL_INT;
    if (strcmp(path, "requests") == 0) out->i = v->requests;
    else if (strcmp(path, "totalSuccesses") == 0) out->i = v->total_successes;
    else if (strcmp(path, "totalFailures") == 0) out->i = v->total_failures;
    else if (strcmp(path, "consecutiveSuccesses") == 0) out->i = v->consecutive_successes;
    else if (strcmp(path, "consecutiveFailures") == 0) out->i = v->consecutive_failures;
    else if (strcmp(path, "event.type") == 0) {
        out->type = RS_CEL_STRING;
        out->s = v->type;
    } else if (strcmp(path, "event.source") == 0) {
        out->type = RS_CEL_STRING;
        out->s = v->source;
    } else return -1;
    return 0;
}

static int eval_bool(const char *src, vars_t *v) {
    char err[200];
    rs_cel_t *e = rs_cel_compile(src, err, sizeof err);
    if (!e) {
        printf("  compile failed: %s: %s\n", src, err);
        return -2;
    }
    int r = rs_cel_eval_bool(e, resolve, v);
    rs_cel_free(e);
    return r;
}

static int eval_status(const char *src, vars_t *v, rs_cel_value_t *out) {
    rs_cel_t *e = rs_cel_compile(src, NULL, 0);
    if (!e) return -2;
    int r = rs_cel_eval(e, resolve, v, out);
    rs_cel_free(e);
    return r;
}

TEST(trip_expressions) {
    vars_t v = {.consecutive_failures = 5};
    ASSERT_EQ(eval_bool("consecutiveFailures > 5", &v), 0);
    v.consecutive_failures = 6;
    ASSERT_EQ(eval_bool("consecutiveFailures > 5", &v), 1);
    ASSERT_EQ(eval_bool("consecutiveFailures>=6&&requests==0", &v), 1);
    v.requests = 10;
    v.total_failures = 6;
    ASSERT_EQ(eval_bool("requests >= 10 && totalFailures * 100 / requests > 50", &v), 1);
    ASSERT_EQ(eval_bool("requests >= 10 && totalFailures * 100 / requests > 60", &v), 0);
    ASSERT_EQ(eval_bool("!(consecutiveFailures < 3) || totalSuccesses > 100", &v), 1);
    ASSERT_EQ(eval_bool("(requests - totalFailures) % 4 == 0", &v), 1);
    ASSERT_EQ(eval_bool("1 + 2 * 3 == 7", &v), 1);
    ASSERT_EQ(eval_bool("(1 + 2) * 3 == 9", &v), 1);
    ASSERT_EQ(eval_bool("-3 < 0x10", &v), 1);
    ASSERT_EQ(eval_bool("10 - 2 - 3 == 5", &v), 1); /* left associative */
    ASSERT_EQ(eval_bool("true", &v), 1);
    ASSERT_EQ(eval_bool("false || !false", &v), 1);
}

TEST(evaluation_errors_mean_false) {
    vars_t v = {0};
    rs_cel_value_t out;
    ASSERT_EQ(eval_status("requests / 0 > 1", &v, &out), -1);
    ASSERT_EQ(eval_bool("requests / 0 > 1", &v), 0);
    ASSERT_EQ(eval_status("unknownVar > 1", &v, &out), -1);
    ASSERT_EQ(eval_status("requests + \"a\" > 1", &v, &out), -1);
    ASSERT_EQ(eval_status("!requests", &v, &out), -1);
    ASSERT_EQ(eval_status("9223372036854775807 + 1 > 0", &v, &out), -1); /* overflow */
    ASSERT_EQ(eval_status("requests && true", &v, &out), -1);
    /* a non-bool result is not a trip */
    ASSERT_EQ(eval_status("requests + 1", &v, &out), 0);
    ASSERT_EQ(out.type, RS_CEL_INT);
    ASSERT_EQ(out.i, 1);
    ASSERT_EQ(eval_bool("requests + 1", &v), 0);
    /* CEL's logical operators absorb errors when the other side decides */
    ASSERT_EQ(eval_bool("unknownVar > 1 || true", &v), 1);
    ASSERT_EQ(eval_status("unknownVar > 1 && false", &v, &out), 0);
    ASSERT_EQ(out.i, 0);
    ASSERT_EQ(eval_status("unknownVar > 1 && true", &v, &out), -1);
}

TEST(strings_and_events) {
    vars_t v = {.type = "order.created", .source = "svc"};
    ASSERT_EQ(eval_bool("event.type == \"order.created\"", &v), 1);
    ASSERT_EQ(eval_bool("event.type == 'order.deleted'", &v), 0);
    ASSERT_EQ(eval_bool("event.type != 'x' && event.source == \"svc\"", &v), 1);
    ASSERT_EQ(eval_bool("event.source + '/' + event.type == 'svc/order.created'", &v), 1);
    ASSERT_EQ(eval_bool("event.type < 'p'", &v), 1);
    ASSERT_EQ(eval_bool("event.type == 1", &v), 0); /* different types are not equal */
    ASSERT_EQ(eval_bool("event.missing == 'x'", &v), 0);
    ASSERT_EQ(eval_bool("'a\\'b' == \"a'b\"", &v), 1);
    rs_cel_value_t out;
    rs_cel_t *e = rs_cel_compile("event.source + '-' + event.type", NULL, 0);
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(rs_cel_eval(e, resolve, &v, &out), 0);
    ASSERT_EQ(out.type, RS_CEL_STRING);
    ASSERT_STREQ(out.s, "svc-order.created");
    rs_cel_free(e);
}

TEST(doubles) {
    vars_t v = {0};
    ASSERT_EQ(eval_bool("1.5 * 2.0 == 3.0", &v), 1);
    ASSERT_EQ(eval_bool("2 > 1.5", &v), 1); /* numeric comparison across int/double */
    rs_cel_value_t out;
    ASSERT_EQ(eval_status("1 + 1.5", &v, &out), -1); /* no mixed arithmetic */
}

TEST(compile_errors) {
    static const char *bad[] = {
        "", "   ", "consecutiveFailures >", "(requests > 1", "requests > 1)", "requests >> 1", "a = 1",
        "'unterminated", "requests > 1 2", "5x > 1", "a. > 1", "&& true", "requests ? 1 : 2", "a[0] > 1",
        "99999999999999999999 > 1", "\"bad \\q escape\"", NULL,
    };
    for (int i = 0; bad[i]; i++) {
        char err[200] = "";
        rs_cel_t *e = rs_cel_compile(bad[i], err, sizeof err);
        if (e) {
            printf("  accepted bad expression: %s\n", bad[i]);
            rs_cel_free(e);
        }
        ASSERT_TRUE(e == NULL);
        ASSERT_TRUE(err[0] != '\0');
    }
    char err[200];
    ASSERT_TRUE(rs_cel_compile("(requests > 1", err, sizeof err) == NULL);
    ASSERT_TRUE(strstr(err, "column") != NULL);
}

TEST(deep_nesting_is_rejected_not_crashing) {
    char src[4000];
    size_t n = 0;
    for (int i = 0; i < 1000; i++) src[n++] = '(';
    src[n++] = '1';
    for (int i = 0; i < 1000; i++) src[n++] = ')';
    src[n] = '\0';
    char err[200];
    ASSERT_TRUE(rs_cel_compile(src, err, sizeof err) == NULL);
    n = 0;
    for (int i = 0; i < 1000; i++) src[n++] = '!';
    strcpy(src + n, "true");
    ASSERT_TRUE(rs_cel_compile(src, err, sizeof err) == NULL);
}

int main(void) {
    RUN(trip_expressions);
    RUN(evaluation_errors_mean_false);
    RUN(strings_and_events);
    RUN(doubles);
    RUN(compile_errors);
    RUN(deep_nesting_is_rejected_not_crashing);
    return TEST_SUMMARY();
}
