/* SPDX-License-Identifier: MIT */
/* The lock-store watch of a kill's whenHolding (src/tools/ripstop/lock_watch.c): whose lock is whose, the
 * unlessKey expansion, and an unreachable Redis reported, not hidden. */
#include <string.h>

#include "core/port_reserve.h"
#include "test.h"
#include "tools/ripstop/lock_watch.h"

TEST(owner_names_the_process) {
    const char *o = "customer-loyalty-job-4242-a1b2c3d4e5f6";
    ASSERT_TRUE(rs_lock_owner_is(o, strlen(o), "customer-loyalty-job", 4242));
    ASSERT_TRUE(!rs_lock_owner_is(o, strlen(o), "customer-loyalty-job", 424));  /* a pid prefix is not the pid */
    ASSERT_TRUE(!rs_lock_owner_is(o, strlen(o), "customer-loyalty-job", 42421));
    ASSERT_TRUE(!rs_lock_owner_is(o, strlen(o), "customer-loyalty", 4242));     /* another app's prefix */
    const char *old = "customer-loyalty-job-a1b2c3d4e5f6";                      /* an owner without the pid */
    ASSERT_TRUE(!rs_lock_owner_is(old, strlen(old), "customer-loyalty-job", 4242));
    ASSERT_TRUE(!rs_lock_owner_is("customer-loyalty-job-4242-", 25, "customer-loyalty-job", 4242)); /* cut short */
}

TEST(unless_key_expands_the_lock) {
    char k[64];
    rs_lock_unless_key("app||processed:{lock}", "order-7", k, sizeof k);
    ASSERT_STREQ(k, "app||processed:order-7");
    rs_lock_unless_key("{lock}/{lock}", "x", k, sizeof k);
    ASSERT_STREQ(k, "x/x");
    rs_lock_unless_key("plain", "x", k, sizeof k);
    ASSERT_STREQ(k, "plain");
    rs_lock_unless_key("a{lock}b", "0123456789", k, 8); /* truncated, still terminated */
    ASSERT_STREQ(k, "a012345");
}

TEST(unreachable_redis_is_an_error) {
    int port = rs_port_reserve(); /* reserved, nothing listens */
    ASSERT_TRUE(port > 0);
    char addr[32], res[64] = "", err[256] = "";
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    rs_lock_watch_t *w = rs_lock_watch_new(addr, NULL);
    ASSERT_EQ(rs_lock_watch_held(w, "app", "*", 1, NULL, res, sizeof res, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, addr) != NULL);
    rs_lock_watch_free(w);
    w = rs_lock_watch_new("127.0.0.1:notaport", NULL);
    ASSERT_EQ(rs_lock_watch_held(w, "app", "*", 1, NULL, res, sizeof res, err, sizeof err), -1);
    ASSERT_STREQ(err, "no Redis address");
    rs_lock_watch_free(w);
}

int main(void) {
    RUN(owner_names_the_process);
    RUN(unless_key_expands_the_lock);
    RUN(unreachable_redis_is_an_error);
    return TEST_SUMMARY();
}
