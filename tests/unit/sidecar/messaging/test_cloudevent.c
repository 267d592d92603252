/* SPDX-License-Identifier: MIT */
/* CloudEvent envelope building (spec §2.2). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/messaging/cloudevent.h"
#include "test.h"

static json_t *build(const char *ct, const char *body, const rs_kvlist_t *md, char **raw_out) {
    rs_ce_input_t in = {.pubsub_name = "ps", .topic = "orders", .app_id = "app1", .content_type = ct,
                        .data = body, .len = strlen(body), .metadata = md, .now = 1700000000};
    char err[256];
    size_t n;
    char *raw = rs_cloudevent_envelope(&in, &n, err, sizeof err);
    if (!raw) return NULL;
    json_t *j = json_loadb(raw, n, JSON_DECODE_INT_AS_REAL, NULL);
    if (raw_out) *raw_out = raw;
    else free(raw);
    return j;
}

TEST(json_data_is_embedded) {
    char *raw = NULL;
    json_t *e = build("application/json", "{ \"price\": 9.99, \"big\": 123456789012345678901234567890 }", NULL, &raw);
    ASSERT_TRUE(e != NULL);
    /* numbers keep the publisher's text */
    ASSERT_TRUE(strstr(raw, "\"data\":{\"price\":9.99,\"big\":123456789012345678901234567890}") != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(e, "datacontenttype")), "application/json");
    ASSERT_STREQ(json_string_value(json_object_get(e, "source")), "app1");
    ASSERT_STREQ(json_string_value(json_object_get(e, "type")), "com.dapr.event.sent");
    ASSERT_STREQ(json_string_value(json_object_get(e, "specversion")), "1.0");
    ASSERT_STREQ(json_string_value(json_object_get(e, "topic")), "orders");
    ASSERT_STREQ(json_string_value(json_object_get(e, "pubsubname")), "ps");
    ASSERT_EQ(strlen(json_string_value(json_object_get(e, "id"))), 36);
    const char *tp = json_string_value(json_object_get(e, "traceparent"));
    ASSERT_EQ(strlen(tp), 55);
    ASSERT_STREQ(json_string_value(json_object_get(e, "traceid")), tp);
    ASSERT_STREQ(json_string_value(json_object_get(e, "tracestate")), "");
    ASSERT_TRUE(json_object_get(e, "subject") == NULL);
    ASSERT_TRUE(json_object_get(e, "data_base64") == NULL);
    /* keys sorted, as Go writes a map */
    ASSERT_TRUE(strncmp(raw, "{\"data\":", 8) == 0);
    free(raw);
    json_decref(e);
}

TEST(json_with_params_and_plus_json) {
    json_t *e = build("application/json; charset=utf-8", "[1,2]", NULL, NULL);
    ASSERT_TRUE(json_is_array(json_object_get(e, "data")));
    json_decref(e);
    e = build("application/problem+json", "{\"a\":1}", NULL, NULL);
    ASSERT_STREQ(json_string_value(json_object_get(e, "data")), "{\"a\":1}");
    json_decref(e);
}

TEST(invalid_json_becomes_string) {
    json_t *e = build("application/json", "{not json", NULL, NULL);
    ASSERT_STREQ(json_string_value(json_object_get(e, "data")), "{not json");
    json_decref(e);
}

/* jansson skips a NUL byte after a number or literal; the body kept as written would then be cut at the NUL
 * and the envelope would not be JSON. Found by fuzz_cloudevent. */
TEST(json_body_with_nul_becomes_string) {
    static const char body[] = "[1\0,1,1]";
    rs_ce_input_t in = {.pubsub_name = "ps", .topic = "t", .app_id = "a", .content_type = "application/json",
                        .data = body, .len = sizeof body - 1, .now = 1700000000};
    char err[256];
    size_t n;
    char *raw = rs_cloudevent_envelope(&in, &n, err, sizeof err);
    ASSERT_TRUE(raw != NULL);
    ASSERT_EQ(strlen(raw), n);
    json_t *e = json_loadb(raw, n, JSON_ALLOW_NUL, NULL);
    ASSERT_TRUE(e != NULL);
    json_t *data = json_object_get(e, "data");
    ASSERT_EQ(json_string_length(data), sizeof body - 1);
    ASSERT_TRUE(memcmp(json_string_value(data), body, sizeof body - 1) == 0);
    json_decref(e);
    free(raw);
    in.content_type = "application/cloudevents+json";
    in.data = "{\"a\":1\0}";
    in.len = 8;
    ASSERT_TRUE(rs_cloudevent_envelope(&in, &n, err, sizeof err) == NULL);
}

TEST(text_and_missing_content_type) {
    json_t *e = build("text/plain", "hello", NULL, NULL);
    ASSERT_STREQ(json_string_value(json_object_get(e, "data")), "hello");
    json_decref(e);
    e = build(NULL, "hi", NULL, NULL);
    ASSERT_STREQ(json_string_value(json_object_get(e, "datacontenttype")), "text/plain");
    ASSERT_STREQ(json_string_value(json_object_get(e, "data")), "hi");
    json_decref(e);
}

TEST(octet_stream_is_base64) {
    json_t *e = build("application/octet-stream", "\x01\x02hello", NULL, NULL);
    ASSERT_STREQ(json_string_value(json_object_get(e, "data_base64")), "AQJoZWxsbw==");
    ASSERT_TRUE(json_object_get(e, "data") == NULL);
    json_decref(e);
}

TEST(invalid_utf8_text_is_replaced) {
    json_t *e = build("text/plain", "a\xffz", NULL, NULL);
    ASSERT_TRUE(e != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(e, "data")), "a\xef\xbf\xbdz");
    json_decref(e);
}

TEST(overrides_and_ttl) {
    rs_kvlist_t md = {0};
    rs_kvlist_set(&md, "cloudevent.id", "my-id");
    rs_kvlist_set(&md, "cloudevent.source", "src");
    rs_kvlist_set(&md, "cloudevent.type", "my.type");
    rs_kvlist_set(&md, "cloudevent.subject", "subj");
    rs_kvlist_set(&md, "cloudevent.traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    rs_kvlist_set(&md, "cloudevent.tracestate", "k=v");
    rs_kvlist_set(&md, "ttlInSeconds", "60");
    json_t *e = build("text/plain", "x", &md, NULL);
    ASSERT_STREQ(json_string_value(json_object_get(e, "id")), "my-id");
    ASSERT_STREQ(json_string_value(json_object_get(e, "source")), "src");
    ASSERT_STREQ(json_string_value(json_object_get(e, "type")), "my.type");
    ASSERT_STREQ(json_string_value(json_object_get(e, "subject")), "subj");
    ASSERT_STREQ(json_string_value(json_object_get(e, "traceid")),
                 "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    ASSERT_STREQ(json_string_value(json_object_get(e, "tracestate")), "k=v");
    ASSERT_STREQ(json_string_value(json_object_get(e, "expiration")), "2023-11-14T22:14:20Z");
    ASSERT_TRUE(!rs_cloudevent_expired(e, 1700000000));
    ASSERT_TRUE(rs_cloudevent_expired(e, 1700000061));
    json_decref(e);
    rs_kvlist_free(&md);
}

TEST(cloudevents_json_kept) {
    char *raw = NULL;
    json_t *e = build("application/cloudevents+json",
                      "{\"id\":\"u1\",\"type\":\"t\",\"topic\":\"other\",\"data\":{\"n\":1.10},\"custom\":true}", NULL, &raw);
    ASSERT_TRUE(e != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(e, "id")), "u1");
    ASSERT_STREQ(json_string_value(json_object_get(e, "type")), "t");
    ASSERT_STREQ(json_string_value(json_object_get(e, "topic")), "orders");
    ASSERT_STREQ(json_string_value(json_object_get(e, "pubsubname")), "ps");
    ASSERT_STREQ(json_string_value(json_object_get(e, "source")), "Dapr");
    ASSERT_STREQ(json_string_value(json_object_get(e, "specversion")), "1.0");
    ASSERT_TRUE(json_is_true(json_object_get(e, "custom")));
    ASSERT_TRUE(json_object_get(e, "time") != NULL);
    ASSERT_TRUE(json_object_get(e, "traceparent") != NULL);
    ASSERT_TRUE(strstr(raw, "{\"n\":1.10}") != NULL);
    free(raw);
    json_decref(e);
}

TEST(cloudevents_json_not_object_fails) {
    rs_ce_input_t in = {.pubsub_name = "ps", .topic = "t", .app_id = "a",
                        .content_type = "application/cloudevents+json", .data = "[1]", .len = 3};
    char err[256];
    size_t n;
    ASSERT_TRUE(rs_cloudevent_envelope(&in, &n, err, sizeof err) == NULL);
    in.data = "nope";
    in.len = 4;
    ASSERT_TRUE(rs_cloudevent_envelope(&in, &n, err, sizeof err) == NULL);
}

TEST(from_raw) {
    size_t n;
    char *raw = rs_cloudevent_from_raw("hi", 2, "t", "ps", &n);
    json_t *e = json_loadb(raw, n, JSON_ALLOW_NUL, NULL);
    ASSERT_STREQ(json_string_value(json_object_get(e, "data_base64")), "aGk=");
    ASSERT_STREQ(json_string_value(json_object_get(e, "datacontenttype")), "application/octet-stream");
    ASSERT_STREQ(json_string_value(json_object_get(e, "topic")), "t");
    ASSERT_EQ(strlen(json_string_value(json_object_get(e, "id"))), 36);
    json_decref(e);
    free(raw);
}

TEST(time_format) {
    char buf[48];
    setenv("TZ", "UTC", 1);
    tzset();
    rs_cloudevent_time(1700000000, buf, sizeof buf);
    ASSERT_STREQ(buf, "2023-11-14T22:13:20Z");
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    rs_cloudevent_time(1700000000, buf, sizeof buf);
    ASSERT_STREQ(buf, "2023-11-14T23:13:20+01:00");
    setenv("TZ", "America/St_Johns", 1);
    tzset();
    rs_cloudevent_time(1700000000, buf, sizeof buf);
    ASSERT_STREQ(buf, "2023-11-14T18:43:20-03:30");
    unsetenv("TZ");
    tzset();
}

TEST(content_types) {
    ASSERT_TRUE(rs_content_type_is_json("Application/JSON"));
    ASSERT_TRUE(rs_content_type_is_json("application/json;charset=utf-8"));
    ASSERT_TRUE(!rs_content_type_is_json("application/jsonx"));
    ASSERT_TRUE(!rs_content_type_is_json("application/cloudevents+json"));
    ASSERT_TRUE(rs_content_type_is_binary("application/octet-stream"));
    ASSERT_TRUE(rs_content_type_is_cloudevent("application/cloudevents+json; charset=utf-8"));
    ASSERT_TRUE(!rs_content_type_is_json(NULL));
}

TEST(compact_keeps_strings) {
    size_t n;
    const char *in = "{ \"a b\" : \"x \\\" y\" ,\n \"c\": [ 1 , 2 ] }";
    char *c = rs_json_compact_text(in, strlen(in), &n);
    ASSERT_STREQ(c, "{\"a b\":\"x \\\" y\",\"c\":[1,2]}");
    free(c);
}

/* Text data is quoted by our own ASCII escaper; it must write exactly what jansson's compact dump writes (the
 * envelope's bytes were jansson's before), for every ASCII byte including NUL, and for non-ASCII text too. */
TEST(string_escapes_match_jansson) {
    char text[300];
    size_t n = 0;
    for (int c = 0; c < 128; c++) text[n++] = (char)c;
    memcpy(text + n, "a\"b\\c/d\xc3\xa9", 10); /* then a non-ASCII tail: the jansson path */
    size_t lens[] = {128, n, n + 10};
    for (int k = 0; k < 3; k++) {
        rs_ce_input_t in = {.pubsub_name = "ps", .topic = "t\"\x01", .app_id = "app1", .content_type = "text/plain",
                            .data = text, .len = lens[k], .now = 1700000000};
        char err[256];
        size_t len;
        char *raw = rs_cloudevent_envelope(&in, &len, err, sizeof err);
        ASSERT_TRUE(raw != NULL);
        json_t *want_data = json_stringn(text, lens[k]);
        char *wd = json_dumps(want_data, JSON_ENCODE_ANY | JSON_COMPACT);
        char *needle = malloc(strlen(wd) + 16);
        sprintf(needle, "\"data\":%s,", wd);
        ASSERT_TRUE(strstr(raw, needle) != NULL);
        ASSERT_TRUE(strstr(raw, "\"topic\":\"t\\\"\\u0001\"") != NULL);
        json_t *e = json_loadb(raw, len, JSON_ALLOW_NUL, NULL);
        ASSERT_TRUE(e != NULL);
        ASSERT_EQ(json_string_length(json_object_get(e, "data")), lens[k]);
        json_decref(e);
        free(needle);
        free(wd);
        json_decref(want_data);
        free(raw);
    }
}

int main(void) {
    RUN(string_escapes_match_jansson);
    RUN(json_data_is_embedded);
    RUN(json_with_params_and_plus_json);
    RUN(invalid_json_becomes_string);
    RUN(json_body_with_nul_becomes_string);
    RUN(text_and_missing_content_type);
    RUN(octet_stream_is_base64);
    RUN(invalid_utf8_text_is_replaced);
    RUN(overrides_and_ttl);
    RUN(cloudevents_json_kept);
    RUN(cloudevents_json_not_object_fails);
    RUN(from_raw);
    RUN(time_format);
    RUN(content_types);
    RUN(compact_keeps_strings);
    return TEST_SUMMARY();
}
