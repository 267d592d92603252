/* SPDX-License-Identifier: MIT */
/* CloudEvent unwrapping: JSON data, text data, data_base64, non-CloudEvent bodies. */
#include <dapr/cloudevent.h>
#include <string.h>

#include "test.h"

#define PARSE(s, ev) dapr_cloudevent_parse((s), strlen(s), (ev))

TEST(json_data_is_given_as_json_text) {
    dapr_event_t ev;
    const char *body = "{\"specversion\":\"1.0\",\"id\":\"e1\",\"source\":\"svc\",\"type\":\"com.dapr.event.sent\","
                       "\"topic\":\"order\",\"pubsubname\":\"order-queue\",\"datacontenttype\":\"application/json\","
                       "\"data\":{\"orderId\":\"o-1\",\"customerId\":3}}";
    ASSERT_EQ(PARSE(body, &ev), 0);
    ASSERT_TRUE(ev.is_cloudevent);
    ASSERT_TRUE(ev.data_is_json);
    ASSERT_STREQ(ev.id, "e1");
    ASSERT_STREQ(ev.topic, "order");
    ASSERT_STREQ(ev.pubsubname, "order-queue");
    ASSERT_STREQ(ev.data, "{\"orderId\":\"o-1\",\"customerId\":3}");
    ASSERT_EQ(ev.data_len, strlen(ev.data));
    ASSERT_TRUE(ev.raw == body);
    dapr_event_clear(&ev);
    ASSERT_TRUE(ev.data == NULL);
}

TEST(text_data_is_unquoted) {
    dapr_event_t ev;
    ASSERT_EQ(PARSE("{\"specversion\":\"1.0\",\"datacontenttype\":\"text/plain\",\"data\":\"hello \\\"x\\\"\"}", &ev), 0);
    ASSERT_STREQ(ev.data, "hello \"x\"");
    ASSERT_EQ(ev.data_is_json, 0);
    dapr_event_clear(&ev);
    /* a JSON string under a JSON content type stays JSON text */
    ASSERT_EQ(PARSE("{\"specversion\":\"1.0\",\"datacontenttype\":\"application/json\",\"data\":\"s\"}", &ev), 0);
    ASSERT_STREQ(ev.data, "\"s\"");
    ASSERT_EQ(ev.data_is_json, 1);
    dapr_event_clear(&ev);
}

TEST(data_base64_is_decoded) {
    dapr_event_t ev;
    /* "raw\0bytes" */
    ASSERT_EQ(PARSE("{\"specversion\":\"1.0\",\"datacontenttype\":\"application/octet-stream\","
                    "\"data_base64\":\"cmF3AGJ5dGVz\"}", &ev), 0);
    ASSERT_EQ(ev.data_len, 9);
    ASSERT_TRUE(memcmp(ev.data, "raw\0bytes", 9) == 0);
    dapr_event_clear(&ev);
    ASSERT_EQ(PARSE("{\"specversion\":\"1.0\",\"data_base64\":\"!!\"}", &ev), -1);
    ASSERT_EQ(ev.data_len, 0);
    dapr_event_clear(&ev);
}

TEST(non_cloudevent_body_is_the_data) {
    dapr_event_t ev;
    ASSERT_EQ(PARSE("{\"customerId\":1}", &ev), 0);
    ASSERT_EQ(ev.is_cloudevent, 0);
    ASSERT_EQ(ev.data_is_json, 1);
    ASSERT_STREQ(ev.data, "{\"customerId\":1}");
    dapr_event_clear(&ev);
    ASSERT_EQ(PARSE("not json", &ev), 0);
    ASSERT_EQ(ev.data_is_json, 0);
    ASSERT_STREQ(ev.data, "not json");
    dapr_event_clear(&ev);
    ASSERT_EQ(dapr_cloudevent_parse(NULL, 0, &ev), 0);
    ASSERT_STREQ(ev.data, "");
    dapr_event_clear(&ev);
}

TEST(missing_data_gives_empty_payload) {
    dapr_event_t ev;
    ASSERT_EQ(PARSE("{\"specversion\":\"1.0\",\"id\":\"x\"}", &ev), 0);
    ASSERT_TRUE(ev.is_cloudevent);
    ASSERT_STREQ(ev.data, "");
    ASSERT_EQ(ev.data_len, 0);
    dapr_event_clear(&ev);
}

int main(void) {
    RUN(json_data_is_given_as_json_text);
    RUN(text_data_is_unquoted);
    RUN(data_base64_is_decoded);
    RUN(non_cloudevent_body_is_the_data);
    RUN(missing_data_gives_empty_payload);
    return TEST_SUMMARY();
}
