/* SPDX-License-Identifier: MIT */
/* A tiny unit-test harness. Each test file defines TEST(name) functions and a
 * main() that calls RUN(name) for each, then returns TEST_SUMMARY(). Failed
 * assertions print both values and mark the current test failed; asserts stay
 * active in every build type (no NDEBUG surprises). */
#ifndef RS_TEST_H
#define RS_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_total, test_passed_total, test_current_failed;

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                              \
    do {                                                                       \
        test_current_failed = 0;                                               \
        test_##name();                                                         \
        if (test_current_failed) {                                             \
            test_failed_total++;                                               \
            printf("FAIL %s\n", #name);                                        \
        } else {                                                               \
            test_passed_total++;                                               \
            printf("ok   %s\n", #name);                                        \
        }                                                                      \
    } while (0)

#define TEST_FAIL_AT(...)                                                      \
    do {                                                                       \
        printf("  %s:%d: ", __FILE__, __LINE__);                               \
        printf(__VA_ARGS__);                                                   \
        printf("\n");                                                          \
        test_current_failed = 1;                                               \
    } while (0)

#define ASSERT_TRUE(c)                                                         \
    do {                                                                       \
        if (!(c)) { TEST_FAIL_AT("expected true: %s", #c); return; }           \
    } while (0)

#define ASSERT_EQ(a, b)                                                        \
    do {                                                                       \
        long long va_ = (long long)(a), vb_ = (long long)(b);                  \
        if (va_ != vb_) { TEST_FAIL_AT("%s == %s: %lld != %lld", #a, #b, va_, vb_); return; } \
    } while (0)

#define ASSERT_STREQ(a, b)                                                     \
    do {                                                                       \
        const char *sa_ = (a), *sb_ = (b);                                     \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                           \
            TEST_FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); \
            return;                                                            \
        }                                                                      \
    } while (0)

#define ASSERT_NEAR(a, b, eps)                                                 \
    do {                                                                       \
        double da_ = (double)(a), db_ = (double)(b);                           \
        if (da_ - db_ > (eps) || db_ - da_ > (eps)) { TEST_FAIL_AT("%s ~ %s: %g vs %g", #a, #b, da_, db_); return; } \
    } while (0)

/* Prints the closing line CI reads ("N passed, N failed") and returns the exit code. */
#define TEST_SUMMARY()                                                         \
    (printf("%d passed, %d failed\n", test_passed_total, test_failed_total), test_failed_total ? 1 : 0)

#endif
