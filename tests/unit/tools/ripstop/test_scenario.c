/* SPDX-License-Identifier: MIT */
/* Scenario loading (src/tools/ripstop/scenario.c): the shipped scenario and its --quick overrides, defaults,
 * and scenarios that must be refused: unknown fields, bad numbers, bad actions. */
#include "tmpdir.h" /* first: it asks for _GNU_SOURCE */

#include <signal.h>

#include "test.h"
#include "tools/ripstop/scenario.h"

static char err[1024];

/* The repository root, from this file's path (as `ripstop demo` finds its default scenario). */
static const char *src_root(void) {
    static char root[PATH_MAX];
    const char *me = __FILE__, *tail = strstr(me, "tests/unit/tools/ripstop/test_scenario.c");
    snprintf(root, sizeof root, "%.*s", tail ? (int)(tail - me) : 0, me);
    return root;
}

/* The text must be refused with the fragment in the message. */
#define ASSERT_REFUSED(text, fragment)                                                                                \
    do {                                                                                                              \
        rs_scenario_t s_;                                                                                             \
        int rc_ = rs_scenario_load(tmp_write("bad.yaml", text), 0, &s_, err, sizeof err);                             \
        if (rc_ == 0) rs_scenario_free(&s_);                                                                          \
        ASSERT_EQ(rc_, -1);                                                                                           \
        if (!strstr(err, fragment)) TEST_FAIL_AT("'%s' not in: %s", fragment, err);                                   \
    } while (0)

#define BASE "load: {targets: [{name: dapr, app: frontend}]}\n"

TEST(the_shipped_scenario) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%sdeploy/local/scenario.yaml", src_root());
    rs_scenario_t s;
    int rc = rs_scenario_load(path, 0, &s, err, sizeof err);
    if (rc) TEST_FAIL_AT("%s", err);
    ASSERT_EQ(rc, 0);
    ASSERT_STREQ(s.name, "kubecon-2022-chaos");
    ASSERT_EQ(s.seed, 42);
    ASSERT_NEAR(s.rate, 1, 1e-9);
    ASSERT_EQ(s.load_ms, 90000);
    ASSERT_EQ(s.timeout_ms, 180000);
    ASSERT_EQ(s.warmup_ms, 5000);
    ASSERT_EQ(s.ntargets, 2);
    ASSERT_STREQ(s.targets[1].app, "frontend");
    ASSERT_EQ(s.nactions, 2);
    ASSERT_EQ(s.actions[0].type, RS_ACT_KAFKA_LATENCY);
    ASSERT_EQ(s.actions[0].latency_ms, 6000);
    ASSERT_EQ(s.actions[0].jitter_ms, 2000);
    ASSERT_EQ(s.actions[1].type, RS_ACT_KILL);
    ASSERT_EQ(s.actions[1].signal, 9);
    ASSERT_EQ(s.actions[1].nkills, 3);
    ASSERT_EQ(s.actions[1].kills[2].instance, 2);
    ASSERT_EQ(s.actions[1].stop_ms, -1);
    ASSERT_EQ(s.actions[1].align_every_ms, 5000);
    ASSERT_EQ(s.actions[1].align_offset_ms, 0);
    ASSERT_STREQ(s.actions[1].hold_app, "customer-loyalty-job");
    ASSERT_EQ(s.actions[1].hold_instance, 2);
    ASSERT_STREQ(s.actions[1].hold_lock, "frontend-dapr-*");
    ASSERT_STREQ(s.actions[1].hold_unless, "customer-loyalty-job||processed:{lock}");
    ASSERT_EQ(s.actions[1].hold_within_ms, 75000);
    ASSERT_STREQ(s.env[0], "DIRECT_FRONTEND_TIMEOUT_MS=5000");
    ASSERT_TRUE(s.env[1] == NULL);
    ASSERT_TRUE(strstr(s.run_file, "deploy/local/dapr.yaml") != NULL);
    ASSERT_NEAR(json_real_value(json_object_get(s.criteria, "min_dapr_chaos_success")), 0.9, 1e-9);
    ASSERT_EQ(json_integer_value(json_object_get(s.criteria, "min_chaos_requests")), 10);
    ASSERT_EQ(rs_scenario_end_ms(&s), 90000);
    rs_scenario_free(&s);

    rc = rs_scenario_load(path, 1, &s, err, sizeof err);
    if (rc) TEST_FAIL_AT("%s", err);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(s.load_ms, 45000);
    ASSERT_EQ(s.actions[0].start_ms, 5000);
    ASSERT_EQ(s.actions[0].stop_ms, 25000);
    ASSERT_EQ(s.actions[1].start_ms, 32000);
    ASSERT_EQ(json_integer_value(json_object_get(s.criteria, "min_chaos_requests")), 8);
    ASSERT_STREQ(s.env[1], "LOCK_EXPIRY_SECONDS=20");
    ASSERT_TRUE(json_object_get(s.json, "quick") == NULL);
    rs_scenario_free(&s);
}

TEST(defaults_and_relative_run_file) {
    rs_scenario_t s;
    const char *path = tmp_write("sub/min.yaml", BASE "actions:\n"
                                                      "- {name: outage, type: kafka-down, start: 2000, stop: 3s}\n"
                                                      "- {name: toxic, type: http, start: 1s, stop: 120s,"
                                                      " onStart: {method: POST, url: 'http://x/'}}\n");
    int rc = rs_scenario_load(path, 0, &s, err, sizeof err);
    if (rc) TEST_FAIL_AT("%s", err);
    ASSERT_EQ(rc, 0);
    ASSERT_STREQ(s.name, "scenario");
    ASSERT_EQ(s.seed, 1);
    ASSERT_EQ(s.load_ms, 60000);
    ASSERT_EQ(s.drain_timeout_ms, 120000);
    ASSERT_STREQ(s.targets[0].path, "/");
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/sub/dapr.yaml", tmp_dir());
    ASSERT_STREQ(s.run_file, want);
    ASSERT_EQ(s.actions[0].start_ms, 2000); /* a bare number is milliseconds */
    ASSERT_STREQ(s.actions[0].brokers, "all");
    ASSERT_STREQ(s.actions[0].kind, "chaos");
    ASSERT_TRUE(s.actions[1].on_start != NULL && s.actions[1].on_stop == NULL);
    ASSERT_EQ(rs_scenario_end_ms(&s), 120000);
    ASSERT_STREQ(s.topic, "order");
    ASSERT_EQ(json_object_size(s.criteria), 0);
    rs_scenario_free(&s);
}

TEST(unknown_fields_are_refused) {
    ASSERT_REFUSED(BASE "laod: {rate: 2}\n", "laod: unknown field");
    ASSERT_REFUSED("load: {rate: 1, duraton: 5s, targets: [{name: a, app: b}]}\n", "load.duraton: unknown field");
    ASSERT_REFUSED("load: {targets: [{name: a, app: b, port: 1}]}\n", "load.targets[0].port: unknown field");
    ASSERT_REFUSED(BASE "drain: {settel: 1s}\n", "drain.settel: unknown field");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kafka-down, strat: 1s, stop: 2s}\n",
                   "actions[0].strat: unknown field");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kill, start: 1s, targets: [{app: a, replica: 2}]}\n",
                   "actions[0].targets[0].replica: unknown field");
    ASSERT_REFUSED(BASE "verify: {minDaprSuccess: 0.5}\n", "verify.minDaprSuccess: unknown field");
    /* in the quick overrides too, even without --quick */
    ASSERT_REFUSED(BASE "quick: {load: {durration: 1s}}\n", "quick.load.durration: unknown field");
    ASSERT_REFUSED(BASE "quick: {actions: {k: {stpo: 1s}}}\n", "quick.actions.k.stpo: unknown field");
    ASSERT_REFUSED(BASE "quick: {speed: 2}\n", "quick.speed: unknown field");
}

TEST(bad_numbers_are_refused) {
    ASSERT_REFUSED("seed: -1\n" BASE, "seed: must be in 0..");
    ASSERT_REFUSED("seed: 1.5\n" BASE, "seed: not a whole number");
    ASSERT_REFUSED("seed: 99999999999999999999\n" BASE, "seed: not a whole number");
    ASSERT_REFUSED("load: {rate: abc, targets: [{name: a, app: b}]}\n", "load.rate: not a number");
    ASSERT_REFUSED("load: {rate: nan, targets: [{name: a, app: b}]}\n", "load.rate: not a number");
    ASSERT_REFUSED("load: {rate: 1e999, targets: [{name: a, app: b}]}\n", "load.rate: not a number");
    ASSERT_REFUSED("load: {rate: ' 2', targets: [{name: a, app: b}]}\n", "load.rate: not a number");
    ASSERT_REFUSED("load: {rate: 0, targets: [{name: a, app: b}]}\n", "load.rate: must be in (0, 1000]");
    ASSERT_REFUSED("load: {rate: 1001, targets: [{name: a, app: b}]}\n", "load.rate: must be in (0, 1000]");
    ASSERT_REFUSED("load: {duration: soon, targets: [{name: a, app: b}]}\n", "load.duration: not a duration");
    ASSERT_REFUSED("load: {duration: 0, targets: [{name: a, app: b}]}\n", "load.duration: must be > 0");
    ASSERT_REFUSED(BASE "warmup: -5\n", "warmup: not a duration");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kill, start: 1s, signal: 0, targets: [{app: a}]}\n",
                   "actions[0].signal: must be in 1..");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kill, start: 1s, signal: 1e3, targets: [{app: a}]}\n",
                   "actions[0].signal: not a whole number");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kill, start: 1s, alignOffset: 1s, targets: [{app: a}]}\n",
                   "actions[0].alignOffset: wants alignEvery, and less than it");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kill, start: 1s, alignEvery: 2h, targets: [{app: a}]}\n",
                   "actions[0].alignEvery: at most 1h");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kafka-down, start: 1s, stop: 2s, alignEvery: 5s}\n",
                   "actions[0].alignEvery: not a field of a kafka-down action");
    /* whenHolding: a mapping naming one of the kill's app targets, a lock glob and a bounded wait */
#define KILL_A2 "actions:\n- {name: k, type: kill, start: 1s, targets: [{app: a, instance: 2}], "
    ASSERT_REFUSED(BASE KILL_A2 "whenHolding: yes}\n",
                   "actions[0].whenHolding: a mapping {app, instance, lock, unlessKey, within}");
    ASSERT_REFUSED(BASE KILL_A2 "whenHolding: {app: a, instance: 2, lock: '*', wihtin: 5s}}\n",
                   "actions[0].whenHolding.wihtin: unknown field");
    ASSERT_REFUSED(BASE KILL_A2 "whenHolding: {app: a, instance: 2}}\n", "actions[0].whenHolding.lock: required");
    ASSERT_REFUSED(BASE KILL_A2 "whenHolding: {app: a, instance: 2, lock: 'x||y'}}\n",
                   "actions[0].whenHolding.lock: a lock resource id or glob (no '||', no spaces)");
    ASSERT_REFUSED(BASE KILL_A2 "whenHolding: {app: a, instance: 2, lock: '*', unlessKey: 'a b'}}\n",
                   "actions[0].whenHolding.unlessKey: a Redis key (no spaces)");
    ASSERT_REFUSED(BASE KILL_A2 "whenHolding: {app: a, instance: 2, lock: '*', within: 0s}}\n",
                   "actions[0].whenHolding.within: more than 0 and at most 10m");
    ASSERT_REFUSED(BASE KILL_A2 "whenHolding: {app: a, instance: 2, lock: '*', within: 11m}}\n",
                   "actions[0].whenHolding.within: more than 0 and at most 10m");
    ASSERT_REFUSED(BASE KILL_A2 "whenHolding: {app: a, lock: '*'}}\n",
                   "actions[0].whenHolding: a#1's app is not one of the action's targets");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kill, start: 1s, targets: [{app: a, process: sidecar}], "
                        "whenHolding: {app: a, lock: '*'}}\n",
                   "actions[0].whenHolding: a#1's app is not one of the action's targets");
    ASSERT_REFUSED(BASE "actions:\n- {name: p, type: pause, start: 1s, stop: 2s, targets: [{app: a}], "
                        "whenHolding: {app: a, lock: '*'}}\n",
                   "actions[0].whenHolding: not a field of a pause action");
#undef KILL_A2
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kill, start: 1s, targets: [{app: a, instance: 0}]}\n",
                   "actions[0].targets[0].instance: must be in 1..64");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kill, start: 1s, targets: [{app: a, instance: two}]}\n",
                   "actions[0].targets[0].instance: not a whole number");
    ASSERT_REFUSED(BASE "verify: {minSuccessGap: lots}\n", "verify.minSuccessGap: not a number");
}

TEST(bad_actions_are_refused) {
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: flood, start: 1s}\n", "actions[0].type: 'flood' is not one of");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kafka-down, stop: 1s}\n", "actions[0].start: required");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kafka-latency, start: 1s}\n", "stop: required for kafka-latency");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kafka-down, start: 5s, stop: 2s}\n", "actions[0].stop: before start");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: http, start: 1s, onStart: {method: GET}}\n",
                   "wants {method, url, body}");
    ASSERT_REFUSED(BASE "actions:\n- {name: k, type: kill, start: 1s, targets: [x]}\n", "targets[0]: not a mapping");
    ASSERT_REFUSED(BASE "actions: {k: 1}\n", "actions: a list of at most");
    ASSERT_REFUSED(BASE "env: {A: [1]}\n", "env.A: a string or number");
    ASSERT_REFUSED("load: {targets: []}\n", "load.targets: a list of 1..");
    ASSERT_REFUSED("load: 5\n", "load: a mapping");
    ASSERT_REFUSED("- a\n", "the top level must be a mapping");
    ASSERT_REFUSED("key: [unclosed\n", "cannot read or parse the YAML");
}

int main(void) {
    RUN(the_shipped_scenario);
    RUN(defaults_and_relative_run_file);
    RUN(unknown_fields_are_refused);
    RUN(bad_numbers_are_refused);
    RUN(bad_actions_are_refused);
    tmp_cleanup();
    return TEST_SUMMARY();
}
