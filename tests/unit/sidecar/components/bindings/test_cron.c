/* SPDX-License-Identifier: MIT */
/* bindings.cron driven without the runtime: a host filled in by hand (its own
 * event loop, a metrics registry, a stopping flag) and the test as the
 * runtime's delivery handler. Real time: "@every 1s" fires once a second. */
#include <event2/event.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "sidecar/components/bindings/bindings.h"
#include "sidecar/components/host.h"
#include "sidecar/metrics/metrics.h"
#include "test.h"

extern const rs_component_type_t rs_bindings_cron_type;

static struct event_base *base;
static rs_component_host_t host;
static int stopping;

/* What the "runtime" (this test) saw. */
static int events;
static char last_read_time[64], last_zone[32];
static size_t last_len;
static int hold;                          /* 1: keep the event's done callback instead of answering */
static rs_binding_event_done_fn held_done;
static void *held_arg;

static void handler(void *ctx, rs_component_t *c, const rs_binding_event_t *ev, rs_binding_event_done_fn done,
                    void *done_arg) {
    (void)ctx;
    (void)c;
    events++;
    last_len = ev->len;
    const char *t = rs_kvlist_get(ev->metadata, "readTimeUTC"), *z = rs_kvlist_get(ev->metadata, "timeZone");
    snprintf(last_read_time, sizeof last_read_time, "%s", t ? t : "");
    snprintf(last_zone, sizeof last_zone, "%s", z ? z : "");
    if (hold) {
        held_done = done;
        held_arg = done_arg;
        return;
    }
    done(done_arg, 1, 200, NULL);
}

static void tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    (void)arg;
}

/* Runs the loop until *flag reaches want or ms pass. */
static void run_until(const int *flag, int want, int ms) {
    int64_t end = rs_now_us() + (int64_t)ms * 1000;
    while (*flag < want && rs_now_us() < end) event_base_loop(base, EVLOOP_ONCE);
}

static double skipped(void) {
    const char *labels[] = {"component", "tick", NULL};
    return rs_metrics_value(host.metrics, "ripstop_cron_skipped_fires_total", labels);
}

static int init_cron(rs_component_t *c, const char *schedule, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->name = (char *)"tick";
    c->type = &rs_bindings_cron_type;
    c->host = &host;
    rs_kvlist_set(&c->metadata, "schedule", schedule);
    return c->type->init(c, err, errlen);
}

static void close_cron(rs_component_t *c) {
    c->type->close(c);
    rs_kvlist_free(&c->metadata);
}

static void reset(void) {
    events = 0;
    hold = 0;
    held_done = NULL;
    stopping = 0;
}

TEST(fires_events_with_dapr_metadata) {
    reset();
    rs_component_t c;
    char err[256] = "";
    ASSERT_EQ(init_cron(&c, "@every 1s", err, sizeof err), 0);
    const rs_binding_ops_t *ops = rs_binding_ops(&c);
    ASSERT_TRUE(ops && ops->start && !ops->invoke);
    ASSERT_EQ(events, 0); /* nothing before start: the runtime decides when (app ready, subscribed) */
    ASSERT_EQ(ops->start(&c, handler, NULL, err, sizeof err), 0);
    ASSERT_TRUE(ops->start(&c, handler, NULL, err, sizeof err) != 0); /* once */
    run_until(&events, 2, 5000);
    ASSERT_EQ(events, 2);
    ASSERT_EQ(last_len, 0);
    ASSERT_STREQ(last_zone, "Local");
    regex_t re; /* Go's time.String() in UTC, whole seconds for @every */
    ASSERT_EQ(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)? \\+0000 UTC$",
                      REG_EXTENDED), 0);
    int match = regexec(&re, last_read_time, 0, NULL, 0);
    regfree(&re);
    ASSERT_EQ(match, 0);
    close_cron(&c);
}

TEST(slow_app_one_in_flight_one_waiting_rest_skipped) {
    reset();
    hold = 1;
    rs_component_t c;
    char err[256] = "";
    ASSERT_EQ(init_cron(&c, "@every 1s", err, sizeof err), 0);
    ASSERT_EQ(rs_binding_ops(&c)->start(&c, handler, NULL, err, sizeof err), 0);
    double before = skipped() < 0 ? 0 : skipped();
    run_until(&events, 1, 3000);
    ASSERT_EQ(events, 1);
    /* The app never answers: the next fire waits, the one after is skipped and counted. */
    int64_t end = rs_now_us() + 5000 * 1000;
    while (skipped() < before + 1 && rs_now_us() < end) event_base_loop(base, EVLOOP_ONCE);
    ASSERT_TRUE(skipped() >= before + 1);
    ASSERT_EQ(events, 1);
    /* The app answers: the waiting fire goes out at once, from inside the callback. */
    char first[64];
    snprintf(first, sizeof first, "%s", last_read_time);
    rs_binding_event_done_fn done = held_done;
    held_done = NULL;
    done(held_arg, 0, 500, "status 500");
    ASSERT_EQ(events, 2);
    ASSERT_TRUE(strcmp(first, last_read_time) < 0); /* its own, later, fire time */
    close_cron(&c);
}

TEST(stopping_host_fires_nothing) {
    reset();
    rs_component_t c;
    char err[256] = "";
    ASSERT_EQ(init_cron(&c, "@every 1s", err, sizeof err), 0);
    ASSERT_EQ(rs_binding_ops(&c)->start(&c, handler, NULL, err, sizeof err), 0);
    run_until(&events, 1, 3000);
    ASSERT_EQ(events, 1);
    stopping = 1;
    /* The timer still runs, but a stopping runtime gets no more events. A fire time passes. */
    int never = 0;
    run_until(&never, 1, 1300);
    ASSERT_EQ(events, 1);
    close_cron(&c);
}

TEST(bad_schedule_and_missing_loop) {
    reset();
    rs_component_t c;
    char err[256] = "";
    ASSERT_TRUE(init_cron(&c, "* * *", err, sizeof err) != 0);
    ASSERT_TRUE(strstr(err, "invalid schedule format") != NULL);
    close_cron(&c);
    /* A host without a loop: init succeeds (metadata checks only), start refuses. */
    rs_component_host_t bare = {0};
    memset(&c, 0, sizeof c);
    c.name = (char *)"tick";
    c.type = &rs_bindings_cron_type;
    c.host = &bare;
    rs_kvlist_set(&c.metadata, "schedule", "@every 1s");
    ASSERT_EQ(c.type->init(&c, err, sizeof err), 0);
    ASSERT_TRUE(rs_binding_ops(&c)->start(&c, handler, NULL, err, sizeof err) != 0);
    close_cron(&c);
}

int main(void) {
    base = event_base_new();
    struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, 10000}; /* so EVLOOP_ONCE returns regularly and run_until sees its deadline */
    event_add(t, &tv);
    host.base = base;
    host.app_id = "cron-test";
    host.metrics = rs_metrics_new("cron-test");
    host.stopping = &stopping;
    RUN(fires_events_with_dapr_metadata);
    RUN(slow_app_one_in_flight_one_waiting_rest_skipped);
    RUN(stopping_host_fires_nothing);
    RUN(bad_schedule_and_missing_loop);
    rs_metrics_free(host.metrics);
    event_free(t);
    event_base_free(base);
    return TEST_SUMMARY();
}
