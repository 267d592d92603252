/* SPDX-License-Identifier: MIT */
/* The demo's own Resiliency file (deploy/local/resources/resiliency.yaml, the original's policy) through the
 * real YAML loader and the provider: what the frontend's sidecar and the order service's sidecar apply. */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/components/component.h"
#include "sidecar/resiliency/policy.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/resources/resources.h"
#include "test.h"

static char resdir[1024];

static rs_resiliency_t *load_for(const char *app_id, rs_resources_t *res) {
    rs_strlist_t paths = {0};
    rs_strlist_add(&paths, resdir);
    char err[512];
    memset(res, 0, sizeof *res);
    int rc = rs_resources_load(res, &paths, NULL, app_id, err, sizeof err);
    rs_strlist_free(&paths);
    if (rc != 0) {
        printf("  load failed: %s\n", err);
        return NULL;
    }
    rs_resiliency_t *r = rs_resiliency_new(NULL, res, app_id, err, sizeof err);
    if (!r) printf("  resiliency failed: %s\n", err);
    return r;
}

static const rs_component_type_t kafka = {.type = "pubsub.kafka", .kind = RS_KIND_PUBSUB};
static const rs_component_type_t redis = {.type = "state.redis", .kind = RS_KIND_STATE};

TEST(frontend_calls_to_order_service_retry_forever_with_5s_attempts) {
    rs_resources_t res;
    rs_resiliency_t *r = load_for("frontend-dapr", &res);
    ASSERT_TRUE(r != NULL);
    ASSERT_EQ(rs_resiliency_count(r), 1);
    rs_policy_t *p = rs_resiliency_app_policy(r, "customer-order-service", "order");
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ(p->timeout_ms, 5000);
    ASSERT_EQ(p->has_retry, 1);
    ASSERT_EQ(p->retry.kind, RS_RETRY_CONSTANT);
    ASSERT_EQ(p->retry.duration_ms, 200);
    ASSERT_EQ(p->retry.max_retries, -1);
    ASSERT_TRUE(p->breaker == NULL);
    rs_policy_release(p);
    rs_resiliency_free(r);
    rs_resources_free(&res);
}

TEST(order_service_publishes_behind_the_breaker) {
    rs_resources_t res;
    rs_resiliency_t *r = load_for("customer-order-service", &res);
    ASSERT_TRUE(r != NULL);
    rs_component_t queue = {.name = "order-queue", .type = &kafka};
    rs_policy_t *p = rs_resiliency_component_policy(r, &queue, RS_DIR_OUTBOUND);
    ASSERT_TRUE(p != NULL);
    ASSERT_EQ(p->timeout_ms, 5000);
    ASSERT_EQ(p->retry.max_retries, -1);
    ASSERT_TRUE(p->breaker != NULL);
    ASSERT_STREQ(p->cb_name, "general");
    /* trip consecutiveFailures > 10, maxRequests 1 */
    uint64_t g;
    for (int i = 0; i < 10; i++) {
        ASSERT_EQ(rs_breaker_before(p->breaker, &g), 0);
        rs_breaker_after(p->breaker, g, 0);
    }
    ASSERT_EQ(rs_breaker_state(p->breaker), RS_CB_CLOSED);
    ASSERT_EQ(rs_breaker_before(p->breaker, &g), 0);
    rs_breaker_after(p->breaker, g, 0);
    ASSERT_EQ(rs_breaker_state(p->breaker), RS_CB_OPEN);
    rs_policy_release(p);
    /* no inbound policy and no default names: deliveries run without one */
    ASSERT_TRUE(rs_resiliency_component_policy(r, &queue, RS_DIR_INBOUND) == NULL);
    rs_component_t store = {.name = "statestore", .type = &redis};
    ASSERT_TRUE(rs_resiliency_component_policy(r, &store, RS_DIR_OUTBOUND) == NULL);
    rs_resiliency_free(r);
    rs_resources_free(&res);
}

TEST(other_apps_are_out_of_scope) {
    rs_resources_t res;
    rs_resiliency_t *r = load_for("customer-loyalty-job", &res);
    ASSERT_TRUE(r != NULL);
    ASSERT_EQ(rs_resiliency_count(r), 0);
    ASSERT_TRUE(rs_resiliency_app_policy(r, "customer-order-service", "order") == NULL);
    rs_resiliency_free(r);
    rs_resources_free(&res);
}

int main(void) {
    char here[1024];
    snprintf(here, sizeof here, "%s", __FILE__);
    snprintf(resdir, sizeof resdir, "%s/../../../../deploy/local/resources", dirname(here));
    RUN(frontend_calls_to_order_service_retry_forever_with_5s_attempts);
    RUN(order_service_publishes_behind_the_breaker);
    RUN(other_apps_are_out_of_scope);
    return TEST_SUMMARY();
}
