/* Storage keys for state and lock: every keyPrefix mode and the "||" refusal. */
#include <stdlib.h>

#include "sidecar/components/lock/lock.h"
#include "sidecar/components/state/state.h"
#include "test.h"

static rs_component_t comp(const char *prefix) {
    rs_component_t c = {.name = "store1"};
    if (prefix) rs_kvlist_set(&c.metadata, "keyPrefix", prefix);
    return c;
}

static void check_state(const char *prefix, const char *app, const char *key, const char *want) {
    rs_component_t c = comp(prefix);
    char err[200];
    char *got = rs_state_storage_key(&c, app, key, err, sizeof err);
    if (!got || strcmp(got, want) != 0) TEST_FAIL_AT("state key(%s, %s, %s) = %s, want %s", prefix ? prefix : "-", app, key,
                                                     got ? got : "(null)", want);
    free(got);
    rs_kvlist_free(&c.metadata);
}

static void check_lock(const char *prefix, const char *app, const char *key, const char *want) {
    rs_component_t c = comp(prefix);
    char err[200];
    char *got = rs_lock_storage_key(&c, app, key, err, sizeof err);
    if (!got || strcmp(got, want) != 0) TEST_FAIL_AT("lock key(%s, %s, %s) = %s, want %s", prefix ? prefix : "-", app, key,
                                                    got ? got : "(null)", want);
    free(got);
    rs_kvlist_free(&c.metadata);
}

TEST(state_prefix_modes) {
    check_state(NULL, "app", "k", "app||k");
    check_state("appid", "app", "k", "app||k");
    check_state("name", "app", "k", "store1||k");
    check_state("none", "app", "k", "k");
    check_state("custom", "app", "k", "custom||k");
    check_state(NULL, "app", "a/b c", "app||a/b c");
    unsetenv("NAMESPACE");
    check_state("namespace", "app", "k", "app||k");
    setenv("NAMESPACE", "prod", 1);
    check_state("namespace", "app", "k", "prod.app||k");
    unsetenv("NAMESPACE");
}

TEST(state_key_with_separator_refused) {
    rs_component_t c = comp(NULL);
    char err[200] = "";
    ASSERT_TRUE(rs_state_storage_key(&c, "app", "a||b", err, sizeof err) == NULL);
    ASSERT_TRUE(strstr(err, "can't contain '||'") != NULL);
}

TEST(lock_prefix_modes) {
    check_lock(NULL, "app", "order-1", "lock||app||order-1");
    check_lock("appid", "app", "r", "lock||app||r");
    check_lock("name", "app", "r", "lock||store1||r");
    check_lock("none", "app", "r", "lock||r");
    check_lock("fixed", "app", "r", "lock||fixed||r");
    rs_component_t c = comp(NULL);
    char err[200];
    ASSERT_TRUE(rs_lock_storage_key(&c, "app", "x||y", err, sizeof err) == NULL);
}

int main(void) {
    RUN(state_prefix_modes);
    RUN(state_key_with_separator_refused);
    RUN(lock_prefix_modes);
    return TEST_SUMMARY();
}
