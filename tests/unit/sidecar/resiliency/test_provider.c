/* SPDX-License-Identifier: MIT */
/* The provider: merging documents, named targets, default-name lookup order (spec §1.3), breaker keys. */
#include <jansson.h>
#include <stdlib.h>

#include "sidecar/metrics/metrics.h"
#include "sidecar/resiliency/policy.h"
#include "sidecar/resiliency/resiliency.h"
#include "test.h"

static rs_resiliency_t *load(const char *const *docs, char *err, size_t errlen) {
    rs_resources_t res = {0};
    size_t n = 0;
    while (docs[n]) n++;
    res.resiliencies = calloc(n, sizeof *res.resiliencies);
    res.nresiliencies = n;
    for (size_t i = 0; i < n; i++) {
        json_error_t je;
        res.resiliencies[i].doc = json_loads(docs[i], 0, &je);
        if (!res.resiliencies[i].doc) printf("  bad test json: %s\n", je.text);
        res.resiliencies[i].name = "res";
        res.resiliencies[i].file = "resiliency.yaml";
        res.resiliencies[i].line = 3;
    }
    rs_resiliency_t *r = rs_resiliency_new(NULL, &res, "caller", err, errlen);
    for (size_t i = 0; i < n; i++) json_decref(res.resiliencies[i].doc);
    free(res.resiliencies);
    return r;
}

static const rs_component_type_t state_type = {.type = "state.redis", .kind = RS_KIND_STATE};
static const rs_component_type_t pubsub_type = {.type = "pubsub.kafka", .kind = RS_KIND_PUBSUB};

TEST(named_app_target) {
    const char *docs[] = {"{\"spec\":{\"policies\":{\"timeouts\":{\"general\":\"5s\",\"DefaultTimeoutPolicy\":7},"
                          "\"retries\":{\"r1\":{\"policy\":\"constant\",\"duration\":\"1s\",\"maxRetries\":3}},"
                          "\"circuitBreakers\":{\"cb1\":{\"trip\":\"consecutiveFailures > 2\"}}},"
                          "\"targets\":{\"apps\":{\"appB\":{\"timeout\":\"general\",\"retry\":\"r1\"}}}}}",
                          NULL};
    char err[300];
    rs_resiliency_t *r = load(docs, err, sizeof err);
    ASSERT_TRUE(r != NULL);
    rs_policy_t *p = rs_resiliency_app_policy(r, "appB", "m");
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ(p->timeout_ms, 5000);
    ASSERT_EQ(p->has_retry, 1);
    ASSERT_EQ(p->retry.max_retries, 3);
    ASSERT_TRUE(p->breaker == NULL); /* a named target uses only what it names */
    ASSERT_STREQ(p->target, "app_appB");
    rs_policy_release(p);
    /* another app: falls back to Default<K>Policy per kind */
    p = rs_resiliency_app_policy(r, "appC", "m");
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ(p->timeout_ms, 7);
    ASSERT_EQ(p->has_retry, 0);
    rs_policy_release(p);
    rs_resiliency_free(r);
}

TEST(no_policy_is_null_and_unknown_names_are_no_policy) {
    const char *docs[] = {"{\"spec\":{\"policies\":{},\"targets\":{\"apps\":{\"appB\":{\"retry\":\"missing\","
                          "\"circuitBreaker\":\"missingcb\"}},\"components\":{\"store\":{\"outbound\":"
                          "{\"circuitBreaker\":\"nope\"}}}}}}",
                          NULL};
    char err[300];
    rs_resiliency_t *r = load(docs, err, sizeof err);
    ASSERT_TRUE(r != NULL);
    ASSERT_TRUE(rs_resiliency_app_policy(r, "appB", "m") == NULL);
    ASSERT_TRUE(rs_resiliency_app_policy(r, "other", "m") == NULL);
    rs_component_t c = {.name = "store", .type = &state_type};
    ASSERT_TRUE(rs_resiliency_component_policy(r, &c, RS_DIR_OUTBOUND) == NULL);
    rs_resiliency_free(r);
    ASSERT_TRUE(rs_resiliency_app_policy(NULL, "x", "m") == NULL);
}

TEST(app_default_order) {
    const char *docs[] = {"{\"spec\":{\"policies\":{\"retries\":{\"DefaultRetryPolicy\":{\"maxRetries\":1},"
                          "\"DefaultAppRetryPolicy\":{\"maxRetries\":2}},"
                          "\"circuitBreakers\":{\"DefaultCircuitBreakerPolicy\":{}}}}}",
                          NULL};
    char err[300];
    rs_resiliency_t *r = load(docs, err, sizeof err);
    rs_policy_t *p = rs_resiliency_app_policy(r, "x", "m");
    ASSERT_EQ(p->retry.max_retries, 2); /* DefaultApp<K>Policy wins over Default<K>Policy */
    ASSERT_TRUE(p->breaker != NULL);
    ASSERT_STREQ(p->cb_name, "DefaultCircuitBreakerPolicy");
    rs_policy_release(p);
    /* components do not see DefaultApp*: they get DefaultRetryPolicy */
    rs_component_t c = {.name = "s", .type = &state_type};
    p = rs_resiliency_component_policy(r, &c, RS_DIR_OUTBOUND);
    ASSERT_EQ(p->retry.max_retries, 1);
    rs_policy_release(p);
    rs_resiliency_free(r);
}

TEST(component_default_order) {
    /* each candidate name has a distinct maxRetries so we can tell which one was chosen */
    const char *docs[] = {"{\"spec\":{\"policies\":{\"retries\":{"
                          "\"DefaultStatestoreComponentOutboundRetryPolicy\":{\"maxRetries\":1},"
                          "\"DefaultComponentOutboundRetryPolicy\":{\"maxRetries\":2},"
                          "\"DefaultComponentRetryPolicy\":{\"maxRetries\":3},"
                          "\"DefaultRetryPolicy\":{\"maxRetries\":4},"
                          "\"DefaultPubsubComponentInboundRetryPolicy\":{\"maxRetries\":5}},"
                          "\"timeouts\":{\"DefaultComponentInboundTimeoutPolicy\":\"2s\"}}}}",
                          NULL};
    char err[300];
    rs_resiliency_t *r = load(docs, err, sizeof err);
    ASSERT_TRUE(r != NULL);
    rs_component_t st = {.name = "statestore", .type = &state_type};
    rs_component_t ps = {.name = "pubsub", .type = &pubsub_type};
    rs_policy_t *p = rs_resiliency_component_policy(r, &st, RS_DIR_OUTBOUND);
    ASSERT_EQ(p->retry.max_retries, 1);
    ASSERT_STREQ(p->flow, "outbound");
    rs_policy_release(p);
    p = rs_resiliency_component_policy(r, &ps, RS_DIR_OUTBOUND);
    ASSERT_EQ(p->retry.max_retries, 2);
    ASSERT_EQ(p->timeout_ms, 0);
    rs_policy_release(p);
    p = rs_resiliency_component_policy(r, &ps, RS_DIR_INBOUND);
    ASSERT_EQ(p->retry.max_retries, 5);
    ASSERT_EQ(p->timeout_ms, 2000);
    rs_policy_release(p);
    p = rs_resiliency_component_policy(r, &st, RS_DIR_INBOUND);
    ASSERT_EQ(p->retry.max_retries, 3);
    rs_policy_release(p);
    rs_resiliency_free(r);
}

TEST(component_targets_share_one_breaker) {
    const char *docs[] = {"{\"spec\":{\"policies\":{\"circuitBreakers\":{\"cb\":{\"trip\":\"consecutiveFailures > 0\"}},"
                          "\"retries\":{\"r\":{}}},"
                          "\"targets\":{\"components\":{\"ps\":{\"outbound\":{\"circuitBreaker\":\"cb\"},"
                          "\"inbound\":{\"circuitBreaker\":\"cb\",\"retry\":\"r\"}}}}}}",
                          NULL};
    char err[300];
    rs_resiliency_t *r = load(docs, err, sizeof err);
    rs_component_t ps = {.name = "ps", .type = &pubsub_type};
    rs_policy_t *out = rs_resiliency_component_policy(r, &ps, RS_DIR_OUTBOUND);
    rs_policy_t *in = rs_resiliency_component_policy(r, &ps, RS_DIR_INBOUND);
    ASSERT_TRUE(out->breaker != NULL);
    ASSERT_TRUE(out->breaker == in->breaker);
    ASSERT_EQ(out->has_retry, 0);
    ASSERT_EQ(in->has_retry, 1);
    rs_policy_release(out);
    rs_policy_release(in);
    rs_resiliency_free(r);
}

TEST(app_breakers_per_method_in_lru) {
    const char *docs[] = {"{\"spec\":{\"policies\":{\"circuitBreakers\":{\"cb\":{}}},"
                          "\"targets\":{\"apps\":{\"b\":{\"circuitBreaker\":\"cb\",\"circuitBreakerCacheSize\":\"2\"}}}}}",
                          NULL};
    char err[300];
    rs_resiliency_t *r = load(docs, err, sizeof err);
    rs_policy_t *m1 = rs_resiliency_app_policy(r, "b", "m1");
    rs_policy_t *m1b = rs_resiliency_app_policy(r, "b", "m1");
    rs_policy_t *m2 = rs_resiliency_app_policy(r, "b", "m2");
    ASSERT_TRUE(m1->breaker == m1b->breaker);
    ASSERT_TRUE(m1->breaker != m2->breaker);
    ASSERT_STREQ(rs_breaker_name(m1->breaker), "app_b:m1");
    rs_policy_t *m3 = rs_resiliency_app_policy(r, "b", "m3"); /* evicts the least recently used (m1) */
    rs_policy_t *m2b = rs_resiliency_app_policy(r, "b", "m2");
    ASSERT_TRUE(m2b->breaker == m2->breaker);
    rs_policy_t *m1c = rs_resiliency_app_policy(r, "b", "m1");
    ASSERT_TRUE(m1c->breaker != m1->breaker); /* a fresh breaker; the old one lives while m1 holds it */
    rs_policy_release(m1);
    rs_policy_release(m1b);
    rs_policy_release(m2);
    rs_policy_release(m3);
    rs_policy_release(m2b);
    rs_resiliency_free(r);
    rs_policy_release(m1c); /* a policy may outlive the provider */
}

TEST(merge_later_overwrites) {
    const char *docs[] = {"{\"spec\":{\"policies\":{\"timeouts\":{\"t\":\"1s\"}},\"targets\":{\"apps\":{\"a\":{\"timeout\":\"t\"}}}}}",
                          "{\"spec\":{\"policies\":{\"timeouts\":{\"t\":\"3s\"}}}}", NULL};
    char err[300];
    rs_resiliency_t *r = load(docs, err, sizeof err);
    ASSERT_EQ(rs_resiliency_count(r), 2);
    rs_policy_t *p = rs_resiliency_app_policy(r, "a", "x");
    ASSERT_EQ(p->timeout_ms, 3000);
    rs_policy_release(p);
    rs_resiliency_free(r);
}

TEST(load_errors_name_file_and_reason) {
    char err[300] = "";
    const char *spaced[] = {"{\"spec\":{\"policies\":{\"retries\":{\"r\":{\"matching\":{\"httpStatusCodes\":\"500, 502\"}}}}}}",
                            NULL};
    ASSERT_TRUE(load(spaced, err, sizeof err) == NULL);
    ASSERT_TRUE(strstr(err, "resiliency.yaml:3") != NULL);
    ASSERT_TRUE(strstr(err, "retry r") != NULL);
    const char *badtrip[] = {"{\"spec\":{\"policies\":{\"circuitBreakers\":{\"c\":{\"trip\":\"x >\"}}}}}", NULL};
    ASSERT_TRUE(load(badtrip, err, sizeof err) == NULL);
    ASSERT_TRUE(strstr(err, "circuitBreaker c") != NULL);
    const char *badto[] = {"{\"spec\":{\"policies\":{\"timeouts\":{\"t\":\"fast\"}}}}", NULL};
    ASSERT_TRUE(load(badto, err, sizeof err) == NULL);
    const char *nospec[] = {"{\"kind\":\"Resiliency\"}", NULL};
    ASSERT_TRUE(load(nospec, err, sizeof err) == NULL);
}

TEST(breaker_transitions_reach_metrics) {
    const char *docs[] = {"{\"spec\":{\"policies\":{\"circuitBreakers\":{\"cb\":{\"trip\":\"consecutiveFailures > 0\"}}},"
                          "\"targets\":{\"apps\":{\"b\":{\"circuitBreaker\":\"cb\"}}}}}",
                          NULL};
    char err[300];
    rs_resiliency_t *r = load(docs, err, sizeof err);
    rs_metrics_t *m = rs_metrics_new("caller");
    rs_resiliency_set_metrics(r, m);
    rs_policy_t *p = rs_resiliency_app_policy(r, "b", "m");
    uint64_t g;
    ASSERT_EQ(rs_breaker_before(p->breaker, &g), 0);
    rs_breaker_after(p->breaker, g, 0);
    const char *gl[] = {"name", "cb", "target", "app_b:m", NULL};
    ASSERT_EQ(rs_metrics_value(m, "dapr_resiliency_cb_state", gl), 2);
    const char *al[] = {"name", "cb", "policy", "circuitbreaker", "flow_direction", "", "target", "app_b:m",
                        "status", "open", NULL};
    ASSERT_EQ(rs_metrics_value(m, "dapr_resiliency_activations_total", al), 1);
    const char *ll[] = {"name", "res", NULL};
    ASSERT_EQ(rs_metrics_value(m, "dapr_resiliency_loaded", ll), 1);
    size_t len;
    char *text = rs_metrics_render(m, &len);
    ASSERT_TRUE(strstr(text, "# TYPE dapr_resiliency_activations_total counter") != NULL);
    ASSERT_TRUE(strstr(text, "dapr_resiliency_cb_state{app_id=\"caller\",name=\"cb\",target=\"app_b:m\"} 2") != NULL);
    free(text);
    rs_policy_release(p);
    rs_resiliency_free(r);
    rs_metrics_free(m);
}

TEST(app_breaker_caches_are_bounded) {
    const char *docs[] = {"{\"spec\":{\"policies\":{\"circuitBreakers\":{\"DefaultCircuitBreakerPolicy\":{}}}}}", NULL};
    char err[300];
    rs_resiliency_t *r = load(docs, err, sizeof err);
    rs_policy_t *p0 = rs_resiliency_app_policy(r, "app0", "m");
    rs_breaker_t *b0 = p0->breaker;
    char id[32];
    for (int i = 1; i < 1100; i++) { /* app ids come from requests: old caches are evicted */
        snprintf(id, sizeof id, "app%d", i);
        rs_policy_release(rs_resiliency_app_policy(r, id, "m"));
    }
    rs_policy_t *again = rs_resiliency_app_policy(r, "app0", "m");
    ASSERT_TRUE(again->breaker != b0);
    rs_policy_release(again);
    rs_policy_t *recent = rs_resiliency_app_policy(r, "app1099", "m");
    rs_policy_t *recent2 = rs_resiliency_app_policy(r, "app1099", "m");
    ASSERT_TRUE(recent->breaker == recent2->breaker);
    rs_policy_release(recent);
    rs_policy_release(recent2);
    rs_policy_release(p0);
    rs_resiliency_free(r);
}

int main(void) {
    RUN(app_breaker_caches_are_bounded);
    RUN(named_app_target);
    RUN(no_policy_is_null_and_unknown_names_are_no_policy);
    RUN(app_default_order);
    RUN(component_default_order);
    RUN(component_targets_share_one_breaker);
    RUN(app_breakers_per_method_in_lru);
    RUN(merge_later_overwrites);
    RUN(load_errors_name_file_and_reason);
    RUN(breaker_transitions_reach_metrics);
    return TEST_SUMMARY();
}
