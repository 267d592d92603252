/* SPDX-License-Identifier: MIT */
/* Cron schedule parser and next-fire calculation with fixed instants. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sidecar/components/bindings/cron_schedule.h"
#include "test.h"

/* Unix ms of a UTC calendar time. */
static int64_t at(int y, int mo, int d, int h, int mi, int s) {
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
    return (int64_t)timegm(&tm) * 1000;
}

static int64_t next_of(const char *spec, int64_t after) {
    char err[256];
    rs_cron_schedule_t *s = rs_cron_parse(spec, err, sizeof err);
    if (!s) {
        printf("  unexpected parse error for %s: %s\n", spec, err);
        return -2;
    }
    int64_t n = rs_cron_next(s, after);
    rs_cron_free(s);
    return n;
}

/* Parses spec expecting failure; returns the reason (static buffer). */
static const char *reject(const char *spec) {
    static char err[256];
    err[0] = 0;
    rs_cron_schedule_t *s = rs_cron_parse(spec, err, sizeof err);
    if (s) {
        rs_cron_free(s);
        return "(accepted)";
    }
    return err;
}

TEST(six_fields_every_five_seconds) {
    ASSERT_EQ(next_of("CRON_TZ=UTC */5 * * * * *", at(2026, 1, 1, 0, 0, 2)), at(2026, 1, 1, 0, 0, 5));
    /* strictly after: a fire time itself moves on */
    ASSERT_EQ(next_of("CRON_TZ=UTC */5 * * * * *", at(2026, 1, 1, 0, 0, 5)), at(2026, 1, 1, 0, 0, 10));
    /* milliseconds inside the second are ignored */
    ASSERT_EQ(next_of("CRON_TZ=UTC */5 * * * * *", at(2026, 1, 1, 0, 0, 4) + 999), at(2026, 1, 1, 0, 0, 5));
    ASSERT_EQ(next_of("CRON_TZ=UTC */5 * * * * *", at(2026, 12, 31, 23, 59, 58)), at(2027, 1, 1, 0, 0, 0));
}

TEST(five_fields_have_second_zero) {
    ASSERT_EQ(next_of("CRON_TZ=UTC 30 * * * *", at(2026, 3, 4, 10, 30, 0)), at(2026, 3, 4, 11, 30, 0));
    ASSERT_EQ(next_of("CRON_TZ=UTC 0 9 * * *", at(2026, 3, 4, 10, 0, 0)), at(2026, 3, 5, 9, 0, 0));
}

TEST(ranges_lists_steps_names) {
    /* 2026-01-03 is a Saturday: weekdays 1-5 jump to Monday */
    ASSERT_EQ(next_of("CRON_TZ=UTC 0 0 * * 1-5", at(2026, 1, 3, 12, 0, 0)), at(2026, 1, 5, 0, 0, 0));
    ASSERT_EQ(next_of("CRON_TZ=UTC 0 0 * * MON-fri", at(2026, 1, 3, 12, 0, 0)), at(2026, 1, 5, 0, 0, 0));
    ASSERT_EQ(next_of("CRON_TZ=UTC 0 12 1 jan,JUL *", at(2026, 1, 1, 12, 0, 0)), at(2026, 7, 1, 12, 0, 0));
    ASSERT_EQ(next_of("CRON_TZ=UTC 0 10-20/5 * * * *", at(2026, 1, 1, 0, 16, 0)), at(2026, 1, 1, 0, 20, 0));
    /* "N/step" means N-max/step */
    ASSERT_EQ(next_of("CRON_TZ=UTC 0 50/4 * * * *", at(2026, 1, 1, 0, 55, 0)), at(2026, 1, 1, 0, 58, 0));
    ASSERT_EQ(next_of("CRON_TZ=UTC 0 0 0 ? * *", at(2026, 1, 1, 0, 0, 0)), at(2026, 1, 2, 0, 0, 0));
}

TEST(dom_and_dow_are_ored_unless_one_is_star) {
    /* 1st or 15th, or any Friday: from Sat 2026-01-03 the next is Fri 2026-01-09 */
    ASSERT_EQ(next_of("CRON_TZ=UTC 0 0 1,15 * 5", at(2026, 1, 3, 0, 0, 0)), at(2026, 1, 9, 0, 0, 0));
    /* dom star: AND, so only Fridays */
    ASSERT_EQ(next_of("CRON_TZ=UTC 0 0 * * 5", at(2026, 1, 9, 0, 0, 0)), at(2026, 1, 16, 0, 0, 0));
}

TEST(descriptors) {
    ASSERT_EQ(next_of("CRON_TZ=UTC @yearly", at(2026, 5, 5, 5, 5, 5)), at(2027, 1, 1, 0, 0, 0));
    ASSERT_EQ(next_of("CRON_TZ=UTC @annually", at(2026, 5, 5, 5, 5, 5)), at(2027, 1, 1, 0, 0, 0));
    ASSERT_EQ(next_of("CRON_TZ=UTC @monthly", at(2026, 5, 5, 5, 5, 5)), at(2026, 6, 1, 0, 0, 0));
    ASSERT_EQ(next_of("CRON_TZ=UTC @weekly", at(2026, 1, 3, 5, 5, 5)), at(2026, 1, 4, 0, 0, 0)); /* Sunday */
    ASSERT_EQ(next_of("CRON_TZ=UTC @daily", at(2026, 5, 5, 5, 5, 5)), at(2026, 5, 6, 0, 0, 0));
    ASSERT_EQ(next_of("CRON_TZ=UTC @midnight", at(2026, 5, 5, 5, 5, 5)), at(2026, 5, 6, 0, 0, 0));
    ASSERT_EQ(next_of("CRON_TZ=UTC @hourly", at(2026, 5, 5, 5, 5, 5)), at(2026, 5, 5, 6, 0, 0));
}

/* A long schedule with the wrong field count: the message lists the fields as far as it has room, and the
 * listing never forms a pointer past its buffer (found by libFuzzer; only clang's UBSan sees it). */
TEST(long_schedule_with_wrong_field_count) {
    char spec[400], err[300];
    snprintf(spec, sizeof spec, "%s 1 2 3 4 5 6", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,"
                                              "26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,"
                                              "49,50,51,52,53,54,55,56,57,58,59,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,"
                                              "16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32");
    ASSERT_TRUE(strlen(spec) > 200);
    rs_cron_schedule_t *s = rs_cron_parse(spec, err, sizeof err);
    ASSERT_TRUE(s == NULL);
    ASSERT_TRUE(strncmp(err, "expected 5 to 6 fields, found 7: [1,2,3", 39) == 0);
    ASSERT_TRUE(strlen(err) < sizeof err);
}

TEST(every_is_a_fixed_delay_in_whole_seconds) {
    ASSERT_EQ(next_of("@every 1m30s", at(2026, 1, 1, 0, 0, 0) + 400), at(2026, 1, 1, 0, 1, 30));
    ASSERT_EQ(next_of("@every 200ms", at(2026, 1, 1, 0, 0, 0)), at(2026, 1, 1, 0, 0, 1));
    ASSERT_EQ(next_of("@every 2500ms", at(2026, 1, 1, 0, 0, 0)), at(2026, 1, 1, 0, 0, 2));
}

TEST(time_zone_prefix) {
    /* Berlin is UTC+1 in January and UTC+2 in July */
    ASSERT_EQ(next_of("CRON_TZ=Europe/Berlin 0 9 * * *", at(2026, 1, 10, 0, 0, 0)), at(2026, 1, 10, 8, 0, 0));
    ASSERT_EQ(next_of("CRON_TZ=Europe/Berlin 0 9 * * *", at(2026, 7, 10, 0, 0, 0)), at(2026, 7, 10, 7, 0, 0));
    ASSERT_EQ(next_of("TZ=America/New_York @daily", at(2026, 1, 10, 12, 0, 0)), at(2026, 1, 11, 5, 0, 0));
    char err[128];
    rs_cron_schedule_t *s = rs_cron_parse("TZ=Europe/Berlin * * * * *", err, sizeof err);
    ASSERT_TRUE(s != NULL);
    ASSERT_STREQ(rs_cron_tz_name(rs_cron_zone(s)), "Europe/Berlin");
    rs_cron_free(s);
}

TEST(dst_changes) {
    /* Berlin springs forward on 2026-03-29 at 02:00 CET: 02:30 does not exist and fires at 03:30 CEST (01:30Z),
     * like Go's time.Date normalises it (robfig skips that day; see docs/internals/bindings.md). */
    ASSERT_EQ(next_of("CRON_TZ=Europe/Berlin 30 2 * * *", at(2026, 3, 28, 12, 0, 0)), at(2026, 3, 29, 1, 30, 0));
    /* The day after is normal again: 02:30 CEST = 00:30Z. */
    ASSERT_EQ(next_of("CRON_TZ=Europe/Berlin 30 2 * * *", at(2026, 3, 29, 12, 0, 0)), at(2026, 3, 30, 0, 30, 0));
    /* Falling back on 2026-10-25, 02:30 happens twice; we fire once, at the occurrence Go's time.Date picks
     * (the second, CET, 01:30Z); robfig fires at both. */
    ASSERT_EQ(next_of("CRON_TZ=Europe/Berlin 30 2 * * *", at(2026, 10, 24, 12, 0, 0)), at(2026, 10, 25, 1, 30, 0));
    ASSERT_EQ(next_of("CRON_TZ=Europe/Berlin 30 2 * * *", at(2026, 10, 25, 1, 30, 0)), at(2026, 10, 26, 1, 30, 0));
}

TEST(local_zone_follows_TZ) {
    setenv("TZ", "Asia/Tokyo", 1); /* UTC+9, no DST */
    char err[128];
    rs_cron_schedule_t *s = rs_cron_parse("0 0 * * *", err, sizeof err);
    ASSERT_TRUE(s != NULL);
    ASSERT_STREQ(rs_cron_tz_name(rs_cron_zone(s)), "Local");
    ASSERT_EQ(rs_cron_next(s, at(2026, 1, 10, 0, 0, 0)), at(2026, 1, 10, 15, 0, 0));
    rs_cron_free(s);
    unsetenv("TZ");
}

TEST(impossible_date_gives_none) { ASSERT_EQ(next_of("CRON_TZ=UTC 0 0 30 2 *", at(2026, 1, 1, 0, 0, 0)), -1); }

TEST(rejected_specs_say_why) {
    ASSERT_STREQ(reject(""), "empty spec string");
    ASSERT_STREQ(reject("* * *"), "expected 5 to 6 fields, found 3: [* * *]");
    ASSERT_STREQ(reject("* * * * * * *"), "expected 5 to 6 fields, found 7: [* * * * * * *]");
    ASSERT_STREQ(reject("60 * * * * *"), "end of range (60) above maximum (59): 60");
    ASSERT_STREQ(reject("* * * * 7"), "end of range (7) above maximum (6): 7");
    ASSERT_STREQ(reject("0 0 0 0 * *"), "beginning of range (0) below minimum (1): 0");
    ASSERT_STREQ(reject("5-1 * * * *"), "beginning of range (5) beyond end of range (1): 5-1");
    ASSERT_STREQ(reject("*/0 * * * *"), "step of range should be a positive number: */0");
    ASSERT_STREQ(reject("a * * * *"), "failed to parse int from a: invalid syntax");
    ASSERT_STREQ(reject("1-2-3 * * * *"), "too many hyphens: 1-2-3");
    ASSERT_STREQ(reject("*/2/3 * * * *"), "too many slashes: */2/3");
    ASSERT_STREQ(reject("1,,2 * * * *"), "failed to parse int from : invalid syntax");
    ASSERT_STREQ(reject("* * * foo *"), "failed to parse int from foo: invalid syntax");
    ASSERT_STREQ(reject("@fortnightly"), "unrecognized descriptor: @fortnightly");
    ASSERT_STREQ(reject("@every soon"), "failed to parse duration @every soon: time: invalid duration \"soon\"");
    ASSERT_STREQ(reject("CRON_TZ=Mars/Olympus * * * * *"), "provided bad location Mars/Olympus: unknown time zone Mars/Olympus");
    ASSERT_STREQ(reject("CRON_TZ=../../etc/passwd * * * * *"),
                 "provided bad location ../../etc/passwd: unknown time zone ../../etc/passwd");
    ASSERT_TRUE(strstr(reject("TZ=UTC"), "provided bad location") != NULL);
}

int main(void) {
    RUN(six_fields_every_five_seconds);
    RUN(five_fields_have_second_zero);
    RUN(ranges_lists_steps_names);
    RUN(dom_and_dow_are_ored_unless_one_is_star);
    RUN(descriptors);
    RUN(long_schedule_with_wrong_field_count);
    RUN(every_is_a_fixed_delay_in_whole_seconds);
    RUN(time_zone_prefix);
    RUN(dst_changes);
    RUN(local_zone_follows_TZ);
    RUN(impossible_date_gives_none);
    RUN(rejected_specs_say_why);
    return TEST_SUMMARY();
}
