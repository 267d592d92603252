/* W3C baggage as daprd's tracing middleware checks it (OpenTelemetry's Parse rules): what passes, what is refused,
 * the limits, and joining several headers. */
#include <stdlib.h>
#include <string.h>

#include "sidecar/tracing/baggage.h"
#include "test.h"

static int ok(const char *v) {
    char why[160];
    return rs_baggage_check(v, why, sizeof why) == 0;
}

TEST(valid_baggage) {
    ASSERT_TRUE(ok("userId=alice"));
    ASSERT_TRUE(ok("userId=alice,serverNode=DF%2028,isProduction=false"));
    ASSERT_TRUE(ok(" k1 = v1 , k2=v2;prop1;prop2=x "));  /* whitespace around members, properties */
    ASSERT_TRUE(ok("k=a=b"));                             /* '=' is a baggage-octet */
    ASSERT_TRUE(ok("k="));                                /* an empty value */
    ASSERT_TRUE(ok(""));                                  /* an empty header: no baggage */
}

TEST(malformed_baggage_is_refused_with_a_reason) {
    char why[160];
    ASSERT_EQ(rs_baggage_check("no-equals", why, sizeof why), -1);
    ASSERT_TRUE(strstr(why, "invalid list-member") != NULL);
    ASSERT_TRUE(!ok("a=1,,b=2"));         /* an empty member */
    ASSERT_TRUE(!ok("a=1,"));
    ASSERT_TRUE(!ok("bad key=1"));        /* a key is a token */
    ASSERT_TRUE(!ok("=1"));
    ASSERT_TRUE(!ok("k=a b"));            /* no space, '"', ',', ';' or '\' in a value */
    ASSERT_TRUE(!ok("k=\"q\""));
    ASSERT_TRUE(!ok("k=a\\b"));
    ASSERT_TRUE(!ok("k=%zz"));            /* a bad escape */
    ASSERT_TRUE(!ok("k=%2"));
    ASSERT_TRUE(!ok("k=\xc3\xa9"));       /* raw UTF-8: must be percent-encoded */
    ASSERT_TRUE(!ok("k=v;bad prop"));
    ASSERT_TRUE(!ok("k=v;p=a b"));
    ASSERT_TRUE(!ok("k=v\r\nx: y"));      /* never a header split */
}

TEST(limits) {
    char why[160];
    /* 181 members */
    char *many = malloc(181 * 8 + 1);
    char *w = many;
    for (int i = 0; i < 181; i++) w += sprintf(w, "%sk%03d=1", i ? "," : "", i);
    ASSERT_EQ(rs_baggage_check(many, why, sizeof why), -1);
    ASSERT_TRUE(strstr(why, "more than 180") != NULL);
    many[180 * 7 - 1] = '\0'; /* 180 members: fine */
    ASSERT_TRUE(ok(many));
    free(many);
    /* one member over 4096 bytes, and a value over 8192 */
    char *big = malloc(9000);
    memset(big, 'x', 8999);
    big[8998] = '\0';
    big[0] = 'k';
    big[1] = '=';
    big[4200] = '\0';
    ASSERT_EQ(rs_baggage_check(big, why, sizeof why), -1);
    ASSERT_TRUE(strstr(why, "4096") != NULL);
    big[4200] = 'x';
    ASSERT_EQ(rs_baggage_check(big, why, sizeof why), -1);
    ASSERT_TRUE(strstr(why, "8192") != NULL);
    free(big);
}

TEST(several_headers_join_with_a_comma) {
    rs_kvlist_t h = {0};
    rs_kvlist_add(&h, "Content-Type", "text/plain");
    int too_long;
    ASSERT_TRUE(rs_baggage_join(&h, &too_long) == NULL);
    rs_kvlist_add(&h, "Baggage", "a=1");
    rs_kvlist_add(&h, "baggage", "b=2;p");
    char *b = rs_baggage_join(&h, &too_long);
    ASSERT_STREQ(b, "a=1,b=2;p");
    free(b);
    char why[160];
    ASSERT_EQ(rs_baggage_get(&h, &b, why, sizeof why), 0);
    ASSERT_STREQ(b, "a=1,b=2;p");
    free(b);
    rs_kvlist_add(&h, "baggage", "c");
    ASSERT_EQ(rs_baggage_get(&h, &b, why, sizeof why), -1);
    ASSERT_TRUE(b == NULL);
    rs_kvlist_free(&h);
}

int main(void) {
    RUN(valid_baggage);
    RUN(malformed_baggage_is_refused_with_a_reason);
    RUN(limits);
    RUN(several_headers_join_with_a_comma);
    return TEST_SUMMARY();
}
