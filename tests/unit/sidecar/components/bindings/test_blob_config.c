/* SPDX-License-Identifier: MIT */
/* Blob binding metadata (aliases, endpoint, connection strings) and the XML
 * bodies of the Blob service. */
#include <stdlib.h>
#include <string.h>

#include "sidecar/components/bindings/blob_config.h"
#include "sidecar/components/bindings/blob_xml.h"
#include "test.h"

static int parse(rs_blob_config_t *cfg, char *err, const char *const *kv) {
    rs_kvlist_t md = {0};
    for (size_t i = 0; kv[i]; i += 2) rs_kvlist_add(&md, kv[i], kv[i + 1]);
    int rc = rs_blob_config_parse(cfg, &md, err, 256);
    rs_kvlist_free(&md);
    return rc;
}

TEST(aliases_and_endpoint) {
    rs_blob_config_t c;
    char err[256];
    const char *kv[] = {"storageAccount", "devstoreaccount1", "StorageAccessKey", RS_AZURITE_KEY, "container",
                        "orders", "endpoint", "http://127.0.0.1:10000/", NULL};
    ASSERT_EQ(parse(&c, err, kv), 0);
    ASSERT_STREQ(c.account, "devstoreaccount1");
    ASSERT_STREQ(c.origin, "http://127.0.0.1:10000");
    ASSERT_STREQ(c.container_path, "/devstoreaccount1/orders");
    ASSERT_EQ(c.retry_count, 3);
    ASSERT_EQ(c.decode_base64, 0);
    rs_blob_config_free(&c);
}

TEST(real_account_defaults_and_options) {
    rs_blob_config_t c;
    char err[256];
    const char *kv[] = {"accountName", "acct", "accountKey", "a2V5", "containerName", "c1", "decodeBase64", "true",
                        "publicAccessLevel", "blob", "getBlobRetryCount", "7", "retryCount", "2", NULL};
    ASSERT_EQ(parse(&c, err, kv), 0);
    ASSERT_STREQ(c.origin, "https://acct.blob.core.windows.net");
    ASSERT_STREQ(c.container_path, "/c1");
    ASSERT_EQ(c.decode_base64, 1);
    ASSERT_STREQ(c.public_access, "blob");
    ASSERT_EQ(c.retry_count, 7);
    rs_blob_config_free(&c);
}

TEST(connection_strings) {
    rs_blob_config_t c;
    char err[256];
    const char *dev[] = {"connectionString", "UseDevelopmentStorage=true", "containerName", "x", NULL};
    ASSERT_EQ(parse(&c, err, dev), 0);
    ASSERT_STREQ(c.account, "devstoreaccount1");
    ASSERT_STREQ(c.account_key, RS_AZURITE_KEY);
    ASSERT_STREQ(c.origin, "http://127.0.0.1:10000");
    ASSERT_STREQ(c.container_path, "/devstoreaccount1/x");
    rs_blob_config_free(&c);
    const char *ep[] = {"connectionString",
                        "DefaultEndpointsProtocol=http;AccountName=a1;AccountKey=a2V5;"
                        "BlobEndpoint=http://127.0.0.1:4242/a1;",
                        "containerName", "y", NULL};
    ASSERT_EQ(parse(&c, err, ep), 0);
    ASSERT_STREQ(c.origin, "http://127.0.0.1:4242");
    ASSERT_STREQ(c.container_path, "/a1/y");
    rs_blob_config_free(&c);
    const char *sfx[] = {"connectionString", "AccountName=a1;AccountKey=a2V5;EndpointSuffix=core.chinacloudapi.cn",
                         "containerName", "z", NULL};
    ASSERT_EQ(parse(&c, err, sfx), 0);
    ASSERT_STREQ(c.origin, "https://a1.blob.core.chinacloudapi.cn");
    rs_blob_config_free(&c);
}

TEST(errors_use_dapr_wording) {
    rs_blob_config_t c;
    char err[256];
    const char *no_acct[] = {"containerName", "x", NULL};
    ASSERT_EQ(parse(&c, err, no_acct), -1);
    ASSERT_STREQ(err, "missing or empty accountName field from metadata");
    const char *no_cont[] = {"accountName", "a", "accountKey", "a2V5", NULL};
    ASSERT_EQ(parse(&c, err, no_cont), -1);
    ASSERT_STREQ(err, "missing or empty containerName field from metadata");
    const char *bad_pal[] = {"accountName", "a", "accountKey", "a2V5", "container", "c", "publicAccessLevel", "all",
                             NULL};
    ASSERT_EQ(parse(&c, err, bad_pal), -1);
    ASSERT_STREQ(err, "invalid public access level: all; allowed: [blob container]");
    const char *bad_bool[] = {"accountName", "a", "accountKey", "a2V5", "container", "c", "decodeBase64", "yes", NULL};
    ASSERT_EQ(parse(&c, err, bad_bool), -1);
    ASSERT_TRUE(strstr(err, "decodeBase64") != NULL);
}

TEST(path_escape_like_go) {
    char *e = rs_blob_path_escape("a b/c?d$e&é");
    ASSERT_STREQ(e, "a%20b%2Fc%3Fd$e&%C3%A9");
    free(e);
}

TEST(list_xml_to_go_field_names) {
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
        "<EnumerationResults ServiceEndpoint=\"http://x/\" ContainerName=\"orders\"><MaxResults>2</MaxResults>"
        "<Blobs><Blob><Name>o1</Name><Properties><Creation-Time>Wed, 25 Nov 2026 12:00:00 GMT</Creation-Time>"
        "<Last-Modified>Wed, 25 Nov 2026 12:00:01 GMT</Last-Modified><Etag>0x8D</Etag>"
        "<Content-Length>42</Content-Length><Content-Type>application/json</Content-Type><Content-MD5 />"
        "<BlobType>BlockBlob</BlobType><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted>"
        "</Properties><Metadata><custom>v</custom></Metadata></Blob>"
        "<Blob><Name Encoded=\"true\">a%0Bb</Name><Properties /></Blob></Blobs>"
        "<NextMarker>MARK</NextMarker></EnumerationResults>";
    json_t *items = json_array();
    char *marker = NULL, err[200];
    ASSERT_EQ(rs_blob_xml_list(xml, strlen(xml), items, &marker, err, sizeof err), 2);
    ASSERT_STREQ(marker, "MARK");
    json_t *b = json_array_get(items, 0);
    ASSERT_STREQ(json_string_value(json_object_get(b, "Name")), "o1");
    json_t *p = json_object_get(b, "Properties");
    ASSERT_STREQ(json_string_value(json_object_get(p, "ETag")), "0x8D");
    ASSERT_STREQ(json_string_value(json_object_get(p, "LastModified")), "2026-11-25T12:00:01Z");
    ASSERT_STREQ(json_string_value(json_object_get(p, "CreationTime")), "2026-11-25T12:00:00Z");
    ASSERT_EQ(json_integer_value(json_object_get(p, "ContentLength")), 42);
    ASSERT_TRUE(json_is_null(json_object_get(p, "ContentMD5")));
    ASSERT_TRUE(json_is_true(json_object_get(p, "ServerEncrypted")));
    ASSERT_TRUE(json_is_null(json_object_get(p, "AccessTier")));
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(b, "Metadata"), "custom")), "v");
    ASSERT_TRUE(json_is_null(json_object_get(b, "VersionID")));
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(items, 1), "Name")), "a\vb");
    free(marker);
    json_decref(items);
}

TEST(list_rejects_non_listing_and_reads_errors) {
    json_t *items = json_array();
    char *marker = NULL, err[200];
    ASSERT_EQ(rs_blob_xml_list("<x/>", 4, items, &marker, err, sizeof err), -1);
    ASSERT_EQ(rs_blob_xml_list("garbage", 7, items, &marker, err, sizeof err), -1);
    json_decref(items);
    const char *e = "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code>"
                    "<Message>Server failed to authenticate the request.\nRequestId:1</Message></Error>";
    char code[64], msg[200];
    rs_blob_xml_error(e, strlen(e), code, sizeof code, msg, sizeof msg);
    ASSERT_STREQ(code, "AuthenticationFailed");
    ASSERT_STREQ(msg, "Server failed to authenticate the request.");
    rs_blob_xml_error("", 0, code, sizeof code, msg, sizeof msg);
    ASSERT_STREQ(code, "");
}

/* A DOCTYPE (entity definitions, the way to an entity bomb) is refused; so is nesting past the bound. */
TEST(xml_refuses_doctype_and_deep_nesting) {
    const char *bomb = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
                       "<Error><Code>&b;</Code></Error>";
    char code[64] = "x", msg[64];
    rs_blob_xml_error(bomb, strlen(bomb), code, sizeof code, msg, sizeof msg);
    ASSERT_STREQ(code, "");
    char deep[2048] = "<EnumerationResults><Blobs>";
    for (int i = 0; i < 40; i++) strcat(deep, "<a>");
    for (int i = 0; i < 40; i++) strcat(deep, "</a>");
    strcat(deep, "</Blobs></EnumerationResults>");
    json_t *items = json_array();
    char *marker = NULL, err[200];
    ASSERT_EQ(rs_blob_xml_list(deep, strlen(deep), items, &marker, err, sizeof err), -1);
    const char *enc = "<EnumerationResults><Blobs><Blob><Name Encoded=\"true\">a%0Ab</Name></Blob>"
                      "<Blob><Name>c &amp; d</Name></Blob></Blobs><NextMarker>m1</NextMarker></EnumerationResults>";
    ASSERT_EQ(rs_blob_xml_list(enc, strlen(enc), items, &marker, err, sizeof err), 2);
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(items, 0), "Name")), "a\nb");
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(items, 1), "Name")), "c & d");
    ASSERT_STREQ(marker, "m1");
    free(marker);
    json_decref(items);
}

int main(void) {
    RUN(aliases_and_endpoint);
    RUN(real_account_defaults_and_options);
    RUN(connection_strings);
    RUN(errors_use_dapr_wording);
    RUN(path_escape_like_go);
    RUN(list_xml_to_go_field_names);
    RUN(list_rejects_non_listing_and_reads_errors);
    RUN(xml_refuses_doctype_and_deep_nesting);
    return TEST_SUMMARY();
}
