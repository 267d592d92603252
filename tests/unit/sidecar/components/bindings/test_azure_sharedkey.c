/* SPDX-License-Identifier: MIT */
/* Shared Key string-to-sign and signature, checked against a vector computed
 * independently (Python hmac/hashlib) from the Azurite development key. */
#include <stdlib.h>
#include <string.h>

#include "sidecar/components/bindings/azure_sharedkey.h"
#include "test.h"

static const char *DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

TEST(string_to_sign_and_signature) {
    rs_azure_cred_t cred;
    char err[128];
    ASSERT_EQ(rs_azure_cred_init(&cred, "devstoreaccount1", DEV_KEY, err, sizeof err), 0);
    rs_kvlist_t h = {0}, q = {0};
    rs_kvlist_add(&h, "x-ms-version", "2021-12-02");
    rs_kvlist_add(&h, "X-MS-Date", "Wed, 25 Nov 2026 12:00:00 GMT");
    rs_kvlist_add(&h, "Content-Type", "text/plain");
    rs_kvlist_add(&h, "x-ms-meta-custom", "a");
    rs_kvlist_add(&h, "x-ms-meta-custom", "b");
    rs_kvlist_add(&h, "x-ms-blob-type", "BlockBlob");
    rs_kvlist_add(&h, "Host", "ignored");
    rs_kvlist_add(&q, "restype", "container");
    rs_kvlist_add(&q, "include", "metadata");
    rs_kvlist_add(&q, "comp", "list");
    rs_kvlist_add(&q, "include", "copy");
    char *sts = rs_azure_string_to_sign(&cred, "PUT", "/devstoreaccount1/orders/a%20b", &q, &h, 11);
    ASSERT_STREQ(sts, "PUT\n\n\n11\n\ntext/plain\n\n\n\n\n\n\n"
                      "x-ms-blob-type:BlockBlob\nx-ms-date:Wed, 25 Nov 2026 12:00:00 GMT\nx-ms-meta-custom:a,b\n"
                      "x-ms-version:2021-12-02\n/devstoreaccount1/devstoreaccount1/orders/a%20b\n"
                      "comp:list\ninclude:copy,metadata\nrestype:container");
    char auth[200];
    ASSERT_EQ(rs_azure_authorization(&cred, sts, auth, sizeof auth), 0);
    ASSERT_STREQ(auth, "SharedKey devstoreaccount1:sSqH9Ij5JeD4FUgKpU4gTVWKi4nu3c6VEkwGfpzgdag=");
    free(sts);
    rs_kvlist_free(&h);
    rs_kvlist_free(&q);
}

TEST(zero_length_is_empty_and_no_query) {
    rs_azure_cred_t cred;
    char err[128];
    ASSERT_EQ(rs_azure_cred_init(&cred, "acct", DEV_KEY, err, sizeof err), 0);
    char *sts = rs_azure_string_to_sign(&cred, "GET", "/c/b", NULL, NULL, 0);
    ASSERT_STREQ(sts, "GET\n\n\n\n\n\n\n\n\n\n\n\n\n/acct/c/b");
    free(sts);
}

TEST(bad_key_is_rejected) {
    rs_azure_cred_t cred;
    char err[128] = "";
    ASSERT_EQ(rs_azure_cred_init(&cred, "acct", "not base64!", err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "illegal base64") != NULL);
}

TEST(base64_round_trip_and_strictness) {
    unsigned char *out;
    size_t n;
    ASSERT_EQ(rs_base64_decode("aGVsbG8=", 8, &out, &n), 0);
    ASSERT_EQ(n, 5);
    ASSERT_TRUE(memcmp(out, "hello", 5) == 0);
    free(out);
    ASSERT_EQ(rs_base64_decode("aGVsbG8", 7, &out, &n), -1);  /* missing padding */
    ASSERT_EQ(rs_base64_decode("aGV=bG8=", 8, &out, &n), -1); /* padding inside */
    ASSERT_EQ(rs_base64_decode("aGVsbG9=", 8, &out, &n), -1); /* non-zero trailing bits */
    ASSERT_EQ(rs_base64_decode("", 0, &out, &n), 0);
    ASSERT_EQ(n, 0);
    free(out);
    char *e = rs_base64_encode("hello", 5);
    ASSERT_STREQ(e, "aGVsbG8=");
    free(e);
}

TEST(http_date) {
    char d[32];
    rs_azure_http_date(1795593600LL, d); /* 2026-11-25T08:00:00Z */
    ASSERT_STREQ(d, "Wed, 25 Nov 2026 08:00:00 GMT");
}

int main(void) {
    RUN(string_to_sign_and_signature);
    RUN(zero_length_is_empty_and_no_query);
    RUN(bad_key_is_rejected);
    RUN(base64_round_trip_and_strictness);
    RUN(http_date);
    return TEST_SUMMARY();
}
