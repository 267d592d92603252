/* SPDX-License-Identifier: MIT */
/* Subscriptions: programmatic parsing, declarative conversion, merge, routing; delivery verdicts; topic scopes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/appchannel/app_channel.h"
#include "sidecar/messaging/delivery.h"
#include "sidecar/messaging/scopes.h"
#include "sidecar/messaging/subscriptions.h"
#include "test.h"

static json_t *ev(const char *text) { return json_loads(text, 0, NULL); }

TEST(programmatic_v1_and_v2) {
    const char *body = "[{\"pubsubname\":\"ps\",\"topic\":\"a\",\"route\":\"a-handler\"},"
                       "{\"pubsubname\":\"ps\",\"topic\":\"b\",\"route\":\"/ignored\",\"routes\":{\"rules\":"
                       "[{\"match\":\"event.type == \\\"x\\\"\",\"path\":\"/x\"},{\"match\":\"event.data.n > 5\",\"path\":\"/big\"}],"
                       "\"default\":\"/b\"},\"deadLetterTopic\":\"dlq\",\"metadata\":{\"rawPayload\":\"true\"}},"
                       "{\"pubsubname\":\"ps\",\"topic\":\"noroute\"},"
                       "{\"pubsubname\":\"ps\",\"topic\":\"bulk\",\"route\":\"/bulk\",\"bulkSubscribe\":"
                       "{\"enabled\":true,\"maxMessagesCount\":7}}]";
    rs_subscriptions_t l = {0};
    char err[256];
    ASSERT_EQ(rs_subscriptions_add_programmatic(&l, body, strlen(body), err, sizeof err), 0);
    ASSERT_EQ(l.len, 3);
    ASSERT_STREQ(l.items[0]->rules[0].path, "/a-handler");
    ASSERT_TRUE(!l.items[0]->bulk_enabled);
    rs_subscription_t *bk = rs_subscriptions_find(&l, "ps", "bulk");
    ASSERT_TRUE(bk && bk->bulk_enabled);
    ASSERT_EQ(bk->bulk_max_messages, 7);
    ASSERT_EQ(bk->bulk_max_await_ms, 1000);
    rs_subscription_t *b = rs_subscriptions_find(&l, "ps", "b");
    ASSERT_TRUE(b != NULL);
    ASSERT_EQ(b->nrules, 3);
    ASSERT_STREQ(b->rules[2].path, "/b"); /* routes.default wins over route */
    ASSERT_STREQ(b->dead_letter_topic, "dlq");
    ASSERT_TRUE(b->raw_payload);
    ASSERT_TRUE(b->programmatic);

    json_t *e1 = ev("{\"type\":\"x\",\"data\":{\"n\":1}}");
    json_t *e2 = ev("{\"type\":\"y\",\"data\":{\"n\":9}}");
    json_t *e3 = ev("{\"type\":\"y\",\"data\":\"str\"}");
    ASSERT_STREQ(rs_subscription_route(b, e1), "/x");
    ASSERT_STREQ(rs_subscription_route(b, e2), "/big");
    ASSERT_STREQ(rs_subscription_route(b, e3), "/b"); /* evaluation error = no match */
    json_decref(e1);
    json_decref(e2);
    json_decref(e3);

    json_t *j = rs_subscription_json(b);
    ASSERT_STREQ(json_string_value(json_object_get(j, "type")), "PROGRAMMATIC");
    ASSERT_EQ(json_array_size(json_object_get(j, "rules")), 3);
    ASSERT_TRUE(json_object_get(json_array_get(json_object_get(j, "rules"), 2), "match") == NULL);
    json_decref(j);
    rs_subscriptions_free(&l);
}

TEST(programmatic_errors) {
    rs_subscriptions_t l = {0};
    char err[256];
    ASSERT_EQ(rs_subscriptions_add_programmatic(&l, "{}", 2, err, sizeof err), -1);
    ASSERT_EQ(rs_subscriptions_add_programmatic(&l, "nope", 4, err, sizeof err), -1);
    const char *bad = "[{\"pubsubname\":\"ps\",\"topic\":\"a\",\"routes\":{\"rules\":[{\"match\":\"event.type ==\",\"path\":\"/x\"}]}}]";
    ASSERT_EQ(rs_subscriptions_add_programmatic(&l, bad, strlen(bad), err, sizeof err), -1);
    const char *badmd = "[{\"pubsubname\":\"ps\",\"topic\":\"a\",\"route\":\"/a\",\"metadata\":{\"k\":1}}]";
    ASSERT_EQ(rs_subscriptions_add_programmatic(&l, badmd, strlen(badmd), err, sizeof err), -1);
    ASSERT_EQ(l.len, 0);
}

TEST(declarative_and_merge) {
    rs_resource_subscription_t d[2] = {0};
    d[0].name = "s1";
    d[0].pubsubname = "ps";
    d[0].topic = "a";
    d[0].route = "/decl-a";
    d[0].file = "f.yaml";
    rs_sub_rule_t rules[1] = {{.match = "event.type == 'z'", .path = "/z"}};
    d[1].name = "s2";
    d[1].v2 = 1;
    d[1].pubsubname = "ps";
    d[1].topic = "c";
    d[1].rules = rules;
    d[1].nrules = 1;
    d[1].route = "/c";
    d[1].dead_letter_topic = "dead";
    d[1].file = "f.yaml";
    rs_resources_t r = {.subscriptions = d, .nsubscriptions = 2};
    rs_subscriptions_t decl = {0};
    rs_subscriptions_add_declarative(&decl, &r);
    ASSERT_EQ(decl.len, 2);
    ASSERT_EQ(decl.items[1]->nrules, 2);
    ASSERT_STREQ(decl.items[1]->dead_letter_topic, "dead");

    rs_subscriptions_t prog = {0};
    const char *body = "[{\"pubsubname\":\"ps\",\"topic\":\"a\",\"route\":\"/prog-a\"}]";
    char err[256];
    ASSERT_EQ(rs_subscriptions_add_programmatic(&prog, body, strlen(body), err, sizeof err), 0);
    rs_subscriptions_merge(&prog, &decl);
    ASSERT_EQ(prog.len, 2);
    ASSERT_EQ(decl.len, 0);
    ASSERT_STREQ(rs_subscriptions_find(&prog, "ps", "a")->rules[0].path, "/prog-a"); /* the app's own wins */
    ASSERT_TRUE(!rs_subscriptions_find(&prog, "ps", "c")->programmatic);
    json_t *e = ev("{\"type\":\"z\"}");
    ASSERT_STREQ(rs_subscription_route(rs_subscriptions_find(&prog, "ps", "c"), e), "/z");
    json_decref(e);
    rs_subscriptions_free(&prog);
}

TEST(no_match_without_default) {
    const char *body = "[{\"pubsubname\":\"ps\",\"topic\":\"a\",\"routes\":{\"rules\":[{\"match\":\"event.type == \\\"x\\\"\",\"path\":\"x\"}]}}]";
    rs_subscriptions_t l = {0};
    char err[256];
    ASSERT_EQ(rs_subscriptions_add_programmatic(&l, body, strlen(body), err, sizeof err), 0);
    json_t *e = ev("{\"type\":\"q\"}");
    ASSERT_TRUE(rs_subscription_route(l.items[0], e) == NULL);
    json_decref(e);
    rs_subscriptions_free(&l);
}

TEST(verdicts) {
    ASSERT_EQ(rs_delivery_classify(200, "", 0), RS_APP_SUCCESS);
    ASSERT_EQ(rs_delivery_classify(204, NULL, 0), RS_APP_SUCCESS);
    ASSERT_EQ(rs_delivery_classify(200, "{}", 2), RS_APP_SUCCESS);
    ASSERT_EQ(rs_delivery_classify(200, "not json", 8), RS_APP_SUCCESS);
    ASSERT_EQ(rs_delivery_classify(200, "{\"status\":\"SUCCESS\"}", 20), RS_APP_SUCCESS);
    ASSERT_EQ(rs_delivery_classify(200, "{\"status\":\"\"}", 13), RS_APP_SUCCESS);
    ASSERT_EQ(rs_delivery_classify(200, "{\"status\":\"retry\"}", 18), RS_APP_RETRY);
    ASSERT_EQ(rs_delivery_classify(200, "{\"status\":\"WHAT\"}", 17), RS_APP_RETRY);
    ASSERT_EQ(rs_delivery_classify(201, "{\"status\":\"DROP\"}", 17), RS_APP_DROP);
    ASSERT_EQ(rs_delivery_classify(404, "", 0), RS_APP_DROP);
    ASSERT_EQ(rs_delivery_classify(500, "{\"status\":\"SUCCESS\"}", 20), RS_APP_RETRY);
    ASSERT_EQ(rs_delivery_classify(400, "", 0), RS_APP_RETRY);
    ASSERT_EQ(rs_delivery_classify(302, "", 0), RS_APP_RETRY);
}

static int allowed(const char *k1, const char *v1, const char *k2, const char *v2, const char *app, const char *topic,
                   rs_topic_op_t op) {
    rs_component_t c = {0};
    if (k1) rs_kvlist_set(&c.metadata, k1, v1);
    if (k2) rs_kvlist_set(&c.metadata, k2, v2);
    int r = rs_topic_allowed(&c, app, topic, op);
    rs_kvlist_free(&c.metadata);
    return r;
}

TEST(app_urls) {
    /* Dapr's app channel puts a '/' before a route without one; a route that has one is kept as written. */
    rs_app_channel_t *ch = rs_app_channel_new(NULL, "127.0.0.1", 6001, NULL, 0);
    const char *cases[][2] = {{"/orders", "http://127.0.0.1:6001/orders"},
                              {"orders", "http://127.0.0.1:6001/orders"},
                              {"a/b?x=1", "http://127.0.0.1:6001/a/b?x=1"},
                              {"//x", "http://127.0.0.1:6001//x"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char u[256];
        ASSERT_TRUE(rs_app_channel_url(ch, cases[i][0], NULL, u, sizeof u) > 0);
        ASSERT_STREQ(u, cases[i][1]);
    }
    rs_app_channel_free(ch);
}

TEST(topic_scopes) {
    ASSERT_TRUE(allowed(NULL, NULL, NULL, NULL, "a", "t", RS_TOPIC_PUBLISH));
    ASSERT_TRUE(allowed("allowedTopics", "t1, t2", NULL, NULL, "a", "t2", RS_TOPIC_PUBLISH));
    ASSERT_TRUE(!allowed("allowedTopics", "t1,t2", NULL, NULL, "a", "t3", RS_TOPIC_PUBLISH));
    ASSERT_TRUE(allowed("publishingScopes", "a=t1,t2;b=t3", NULL, NULL, "a", "t1", RS_TOPIC_PUBLISH));
    ASSERT_TRUE(!allowed("publishingScopes", "a=t1,t2;b=t3", NULL, NULL, "a", "t3", RS_TOPIC_PUBLISH));
    ASSERT_TRUE(allowed("publishingScopes", "a=t1,t2;b=t3", NULL, NULL, "c", "t3", RS_TOPIC_PUBLISH));
    ASSERT_TRUE(!allowed("publishingScopes", "a=", NULL, NULL, "a", "t3", RS_TOPIC_PUBLISH));
    ASSERT_TRUE(allowed("publishingScopes", "a=", NULL, NULL, "a", "t3", RS_TOPIC_SUBSCRIBE));
    ASSERT_TRUE(!allowed("subscriptionScopes", "a=x", NULL, NULL, "a", "t3", RS_TOPIC_SUBSCRIBE));
    ASSERT_TRUE(!allowed("protectedTopics", "p", NULL, NULL, "a", "p", RS_TOPIC_PUBLISH));
    ASSERT_TRUE(allowed("protectedTopics", "p", "publishingScopes", "a=p", "a", "p", RS_TOPIC_PUBLISH));
}

int main(void) {
    RUN(programmatic_v1_and_v2);
    RUN(programmatic_errors);
    RUN(declarative_and_merge);
    RUN(no_match_without_default);
    RUN(verdicts);
    RUN(app_urls);
    RUN(topic_scopes);
    return TEST_SUMMARY();
}
