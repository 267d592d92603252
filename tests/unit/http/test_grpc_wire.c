/* SPDX-License-Identifier: MIT */
/* gRPC's wire pieces: message prefix, grpc-timeout, grpc-message encoding and decoding. */
#include "http/grpc_wire.h"
#include "test.h"

TEST(prefix_round_trip) {
    uint8_t p[RS_GRPC_PREFIX_LEN];
    rs_grpc_prefix_write(p, 0x01020304u);
    int compressed;
    uint32_t len;
    rs_grpc_prefix_read(p, &compressed, &len);
    ASSERT_EQ(compressed, 0);
    ASSERT_EQ(len, 0x01020304u);
    ASSERT_EQ(p[1], 1);
    ASSERT_EQ(p[4], 4);
}

TEST(timeout_units) {
    int64_t ms;
    ASSERT_EQ(rs_grpc_timeout_parse("2H", &ms), 0);
    ASSERT_EQ(ms, 7200000);
    ASSERT_EQ(rs_grpc_timeout_parse("3M", &ms), 0);
    ASSERT_EQ(ms, 180000);
    ASSERT_EQ(rs_grpc_timeout_parse("10S", &ms), 0);
    ASSERT_EQ(ms, 10000);
    ASSERT_EQ(rs_grpc_timeout_parse("250m", &ms), 0);
    ASSERT_EQ(ms, 250);
    ASSERT_EQ(rs_grpc_timeout_parse("1500u", &ms), 0);
    ASSERT_EQ(ms, 2); /* rounded up */
    ASSERT_EQ(rs_grpc_timeout_parse("1n", &ms), 0);
    ASSERT_EQ(ms, 1); /* a positive timeout never becomes 0 */
    ASSERT_EQ(rs_grpc_timeout_parse("99999999S", &ms), 0);
}

TEST(timeout_malformed) {
    int64_t ms;
    ASSERT_EQ(rs_grpc_timeout_parse("", &ms), -1);
    ASSERT_EQ(rs_grpc_timeout_parse("S", &ms), -1);
    ASSERT_EQ(rs_grpc_timeout_parse("10", &ms), -1);
    ASSERT_EQ(rs_grpc_timeout_parse("10s", &ms), -1);
    ASSERT_EQ(rs_grpc_timeout_parse("-1S", &ms), -1);
    ASSERT_EQ(rs_grpc_timeout_parse("123456789S", &ms), -1); /* nine digits */
    ASSERT_EQ(rs_grpc_timeout_parse(NULL, &ms), -1);
}

TEST(message_percent_encoding) {
    char out[64];
    ASSERT_STREQ(rs_grpc_message_encode("plain text: ok", out, sizeof out), "plain text: ok");
    ASSERT_STREQ(rs_grpc_message_encode("50% \xc3\xa9\n", out, sizeof out), "50%25 %C3%A9%0A");
    /* cut at a whole escape */
    ASSERT_STREQ(rs_grpc_message_encode("ab\n", out, 5), "ab");
}

TEST(message_percent_decoding) {
    char out[64];
    ASSERT_STREQ(rs_grpc_message_decode("50%25 %C3%A9%0A", 15, out, sizeof out), "50% \xc3\xa9\n");
    /* a '%' without two hex digits stays, as grpc-go keeps it */
    ASSERT_STREQ(rs_grpc_message_decode("100% sure %4", 12, out, sizeof out), "100% sure %4");
    ASSERT_STREQ(rs_grpc_message_decode("abcdef", 6, out, 4), "abc"); /* cut when full */
}

TEST(timeout_format_round_trip) {
    char out[12];
    int64_t ms;
    ASSERT_STREQ(rs_grpc_timeout_format(250, out), "250m");
    ASSERT_EQ(rs_grpc_timeout_parse(out, &ms), 0);
    ASSERT_EQ(ms, 250);
    ASSERT_STREQ(rs_grpc_timeout_format(0, out), "1m"); /* never 0: that would be no time at all */
    ASSERT_STREQ(rs_grpc_timeout_format(100000000, out), "100000S"); /* too many digits for m */
    ASSERT_EQ(rs_grpc_timeout_parse(out, &ms), 0);
    ASSERT_EQ(ms, 100000000);
}

int main(void) {
    RUN(prefix_round_trip);
    RUN(timeout_units);
    RUN(timeout_malformed);
    RUN(message_percent_encoding);
    RUN(message_percent_decoding);
    RUN(timeout_format_round_trip);
    return TEST_SUMMARY();
}
