/* SPDX-License-Identifier: MIT */
/* core/encoding.h and the app id rule of core/ids.h: what a client's text may and may not be. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encoding.h"
#include "core/ids.h"
#include "test.h"

static int decodes_to(const char *in, int plus, const char *want, size_t want_len) {
    size_t n = 0;
    char *out = rs_percent_decode(in, strlen(in), plus, &n);
    int ok = out && n == want_len && memcmp(out, want, n) == 0 && out[n] == '\0';
    free(out);
    return ok;
}

TEST(percent_decoding) {
    ASSERT_TRUE(decodes_to("a%20b", 0, "a b", 3));
    ASSERT_TRUE(decodes_to("a+b", 0, "a+b", 3));
    ASSERT_TRUE(decodes_to("a+b", 1, "a b", 3));
    ASSERT_TRUE(decodes_to("%2e%2E%2f", 0, "../", 3));
    ASSERT_TRUE(decodes_to("", 0, "", 0));
    ASSERT_TRUE(decodes_to("a%00b", 0, "a\0b", 3)); /* kept, with its length: the caller refuses it */
    ASSERT_TRUE(decodes_to("%ff%FE", 0, "\xff\xfe", 2));
    const char *bad[] = {"%", "a%", "%4", "%4g", "%zz", "%%41"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = 7;
        ASSERT_TRUE(rs_percent_decode(bad[i], strlen(bad[i]), 0, &n) == NULL);
    }
}

TEST(utf8_validity) {
    ASSERT_TRUE(rs_utf8_valid("plain", 5));
    ASSERT_TRUE(rs_utf8_valid("gr\xc3\xbc\xc3\x9f", 6));             /* grüß */
    ASSERT_TRUE(rs_utf8_valid("\xf0\x9f\x99\x82", 4));                /* U+1F642 */
    ASSERT_TRUE(!rs_utf8_valid("\xff\xfe", 2));
    ASSERT_TRUE(!rs_utf8_valid("\xc0\xaf", 2));                       /* overlong '/' */
    ASSERT_TRUE(!rs_utf8_valid("\xed\xa0\x80", 3));                   /* a surrogate */
    ASSERT_TRUE(!rs_utf8_valid("\xf4\x90\x80\x80", 4));               /* past U+10FFFF */
    ASSERT_TRUE(!rs_utf8_valid("\xc3", 1));                           /* cut short */
}

TEST(utf8_sanitizing) {
    size_t n = 0;
    char *s = rs_utf8_sanitize("a\xff" "b\xc3", 4, &n);
    ASSERT_STREQ(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd");
    ASSERT_EQ(n, 8);
    free(s);
    s = rs_utf8_sanitize("gr\xc3\xbc\xc3\x9f", 6, NULL);
    ASSERT_STREQ(s, "gr\xc3\xbc\xc3\x9f");
    free(s);
}

TEST(app_ids) {
    char why[128];
    const char *good[] = {"customer-order-service", "frontend_dapr", "A1", "x"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) ASSERT_EQ(rs_app_id_check(good[i], why, sizeof why), 0);
    const char *bad[] = {"", "a.b", "a||b", "../x", "a b", "a/b", "-a", "\xff\xfe", "a\nb",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}; /* 59 characters */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        ASSERT_EQ(rs_app_id_check(bad[i], why, sizeof why), -1);
        ASSERT_TRUE(strstr(why, "app id") != NULL);
    }
    ASSERT_TRUE(rs_app_id_check("a.b", why, sizeof why) == -1 && strstr(why, "'.'") != NULL);
    ASSERT_TRUE(rs_app_id_check("\xff", why, sizeof why) == -1 && strstr(why, "0xff") != NULL);
}

static int cleans_to(const char *in, const char *want) {
    size_t len = strlen(in);
    char *out = malloc(3 * len + 1), why[128];
    long n = rs_url_path_clean(in, len, out, why, sizeof why);
    int ok = want ? n >= 0 && (size_t)n == strlen(want) && strcmp(out, want) == 0 : n == -1 && why[0];
    if (!ok) fprintf(stderr, "  rs_url_path_clean(\"%s\") = %ld \"%s\"\n", in, n, n >= 0 ? out : why);
    free(out);
    return ok;
}

TEST(url_path_cleaning) {
    ASSERT_TRUE(cleans_to("echo/a/b%20c", "echo/a/b%20c")); /* escapes of a kept segment stay as they were */
    ASSERT_TRUE(cleans_to("", ""));
    ASSERT_TRUE(cleans_to("a/b/", "a/b/"));                 /* a trailing slash stays */
    ASSERT_TRUE(cleans_to("../../v1.0/shutdown", "v1.0/shutdown"));
    ASSERT_TRUE(cleans_to("%2e%2E/%2E%2e/v1.0/shutdown", "v1.0/shutdown"));
    ASSERT_TRUE(cleans_to("admin%2F..%2Fpublic", "public"));   /* %2F separates, as Go's decoded path */
    ASSERT_TRUE(cleans_to("admin%2f..%2fpublic%2F", "public/"));
    ASSERT_TRUE(cleans_to("//a//b//", "a/b/"));
    ASSERT_TRUE(cleans_to("a/./b/../c", "a/c"));
    ASSERT_TRUE(cleans_to("a/..", ""));
    ASSERT_TRUE(cleans_to("..", ""));
    ASSERT_TRUE(cleans_to("...", "..."));                   /* not a dot segment */
    ASSERT_TRUE(cleans_to(".a/a.", ".a/a."));
    ASSERT_TRUE(cleans_to("caf\xc3\xa9", "caf%C3%A9"));      /* raw bytes >= 0x80 are escaped */
    ASSERT_TRUE(cleans_to("a\"b<c", "a%22b%3Cc"));
    ASSERT_TRUE(cleans_to("%41", "%41"));
    ASSERT_TRUE(cleans_to("a\tb", NULL));
    ASSERT_TRUE(cleans_to("a%09b", NULL));
    ASSERT_TRUE(cleans_to("a%00", NULL));
    ASSERT_TRUE(cleans_to("a%7F", NULL));
    ASSERT_TRUE(cleans_to("a%23b", NULL));                  /* '#' */
    ASSERT_TRUE(cleans_to("a%3Fb", NULL));                  /* '?' */
    ASSERT_TRUE(cleans_to("a%2", NULL));
    ASSERT_TRUE(cleans_to("a%zz", NULL));
    ASSERT_TRUE(cleans_to("%", NULL));
    char *e = rs_percent_encode_path("admin%2F../a b/\xc3\xa9~:@");
    ASSERT_STREQ(e, "admin%252F../a%20b/%C3%A9~:@"); /* a gRPC method's '%' is a literal character */
    free(e);
}

int main(void) {
    RUN(percent_decoding);
    RUN(url_path_cleaning);
    RUN(utf8_validity);
    RUN(utf8_sanitizing);
    RUN(app_ids);
    return TEST_SUMMARY();
}
