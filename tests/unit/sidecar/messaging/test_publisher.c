/* SPDX-License-Identifier: MIT */
/* Publishing under the outbound policy with a fake pub/sub component: per-attempt timeout, retries, late broker
 * answers after a timeout or a cancel (must be dropped safely: run under ASan). */
#include <event2/event.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sidecar/components/pubsub/pubsub.h"
#include "sidecar/messaging/publisher.h"
#include "sidecar/resiliency/resiliency.h"
#include "test.h"

/* ---- the fake component ---- */

enum { HOLD, FAIL_THEN_OK };
static int mode;
static int calls;
static struct held {
    rs_pubsub_publish_cb done;
    void *arg;
} held[16];
static int nheld;

static void fake_publish(rs_component_t *c, const char *topic, const void *data, size_t len, const rs_kvlist_t *md,
                         rs_pubsub_publish_cb done, void *arg) {
    calls++;
    if (mode == HOLD) {
        if (nheld < 16) held[nheld++] = (struct held){done, arg};
        return;
    }
    if (calls < 3) done(arg, 0, "broker said no");
    else done(arg, 1, NULL);
}

static const rs_pubsub_ops_t fake_ops = {.publish = fake_publish};
static const rs_component_type_t fake_type = {.type = "pubsub.fake", .kind = RS_KIND_PUBSUB, .ops = &fake_ops};

/* ---- harness ---- */

static int finished, result_ok;
static char result_err[256];

static void on_done(void *arg, int ok, const char *err) {
    (void)arg;
    finished++;
    result_ok = ok;
    snprintf(result_err, sizeof result_err, "%s", err ? err : "");
}

static void reset(int m) {
    mode = m;
    calls = nheld = finished = result_ok = 0;
    result_err[0] = '\0';
}

static void run_until(struct event_base *base, int *flag, int ms) {
    for (int i = 0; i < ms && !*flag; i++) {
        struct timeval tv = {0, 1000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

static rs_resiliency_t *policy(struct event_base *base) {
    const char *doc = "{\"apiVersion\":\"dapr.io/v1alpha1\",\"kind\":\"Resiliency\",\"metadata\":{\"name\":\"r\"},"
                      "\"spec\":{\"policies\":{\"timeouts\":{\"t\":\"30ms\"},"
                      "\"retries\":{\"r\":{\"policy\":\"constant\",\"duration\":\"5ms\",\"maxRetries\":2}}},"
                      "\"targets\":{\"components\":{\"ps\":{\"outbound\":{\"timeout\":\"t\",\"retry\":\"r\"}}}}}}";
    static rs_resource_doc_t d;
    d.name = "r";
    d.doc = json_loads(doc, 0, NULL);
    d.file = "test.yaml";
    rs_resources_t res = {.resiliencies = &d, .nresiliencies = 1};
    char err[256];
    rs_resiliency_t *r = rs_resiliency_new(base, &res, "app", err, sizeof err);
    if (!r) printf("resiliency: %s\n", err);
    json_decref(d.doc);
    return r;
}

static struct event_base *base;
static rs_sidecar_t sc;
static rs_component_t comp = {.name = "ps", .version = "v1", .type = &fake_type};

TEST(timeouts_then_late_answers_are_dropped) {
    reset(HOLD);
    rs_publisher_send(&sc, &comp, "t", "x", 1, NULL, on_done, NULL);
    run_until(base, &finished, 2000);
    ASSERT_EQ(finished, 1);
    ASSERT_EQ(result_ok, 0);
    ASSERT_TRUE(strstr(result_err, "deadline") != NULL);
    ASSERT_EQ(calls, 3); /* 1 + maxRetries 2, each timed out */
    /* The broker finally answers every attempt: nothing must happen (and nothing leak). */
    for (int i = 0; i < nheld; i++) held[i].done(held[i].arg, 1, NULL);
    run_until(base, &finished, 20);
    ASSERT_EQ(finished, 1);
}

TEST(retries_until_success) {
    reset(FAIL_THEN_OK);
    rs_publisher_send(&sc, &comp, "t", "x", 1, NULL, on_done, NULL);
    run_until(base, &finished, 2000);
    ASSERT_EQ(finished, 1);
    ASSERT_EQ(result_ok, 1);
    ASSERT_EQ(calls, 3);
}

TEST(cancel_then_late_answer) {
    reset(HOLD);
    rs_publish_t *p = rs_publisher_send(&sc, &comp, "t", "x", 1, NULL, on_done, NULL);
    ASSERT_EQ(calls, 1);
    rs_publisher_cancel(p);
    held[0].done(held[0].arg, 1, NULL);
    run_until(base, &finished, 50);
    ASSERT_EQ(finished, 0);
}

int main(void) {
    base = event_base_new();
    sc.base = base;
    sc.resiliency = policy(base);
    if (!sc.resiliency) return 1;
    comp.host = &sc.host;
    RUN(timeouts_then_late_answers_are_dropped);
    RUN(retries_until_success);
    RUN(cancel_then_late_answer);
    rs_resiliency_free(sc.resiliency);
    event_base_free(base);
    return TEST_SUMMARY();
}
