/* The shared async Redis connection against a real redis-server: options,
 * the init probe, commands, fail-fast while down, reconnect after a restart,
 * pending calls failed on connection loss and on close, and cancelled calls
 * whose late replies are dropped. */
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "sidecar/components/redis_conn.h"
#include "redis_server.h"
#include "test.h"

struct rec {
    int called;
    int had_reply;
    char err[200];
    char str[200];
};

static void record(void *arg, redisReply *rep, const char *err) {
    struct rec *r = arg;
    r->called++;
    r->had_reply = rep != NULL;
    snprintf(r->err, sizeof r->err, "%s", err ? err : "");
    if (rep && rep->type == REDIS_REPLY_STRING) snprintf(r->str, sizeof r->str, "%s", rep->str);
}

static rs_redis_call_t *cmd(rs_redis_t *r, struct rec *rec, char *err, int argc, const char **argv) {
    return rs_redis_cmd(r, record, rec, err, 200, argc, argv, NULL);
}

TEST(options) {
    rs_kvlist_t md = {0};
    rs_redis_options_t o;
    char err[200];
    ASSERT_EQ(rs_redis_options_parse(&o, &md, err, sizeof err), -1); /* redisHost required */
    rs_kvlist_set(&md, "redisHost", "127.0.0.1:7000");
    rs_kvlist_set(&md, "redisPassword", "pw");
    rs_kvlist_set(&md, "redisDB", "3");
    ASSERT_EQ(rs_redis_options_parse(&o, &md, err, sizeof err), 0);
    ASSERT_STREQ(o.host, "127.0.0.1");
    ASSERT_EQ(o.port, 7000);
    ASSERT_STREQ(o.password, "pw");
    ASSERT_EQ(o.db, 3);
    ASSERT_TRUE(o.username == NULL);
    rs_redis_options_free(&o);
    rs_kvlist_set(&md, "redisHost", "localhost");
    rs_kvlist_set(&md, "redisPort", "6390");
    ASSERT_EQ(rs_redis_options_parse(&o, &md, err, sizeof err), 0);
    ASSERT_EQ(o.port, 6390);
    rs_redis_options_free(&o);
    rs_kvlist_set(&md, "redisHost", "h:notaport");
    ASSERT_EQ(rs_redis_options_parse(&o, &md, err, sizeof err), -1);
    rs_kvlist_set(&md, "redisHost", "h:1");
    rs_kvlist_set(&md, "redisDB", "x");
    ASSERT_EQ(rs_redis_options_parse(&o, &md, err, sizeof err), -1);
    rs_kvlist_set(&md, "redisDB", "0");
    rs_kvlist_set(&md, "enableTLS", "true");
    ASSERT_EQ(rs_redis_options_parse(&o, &md, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "enableTLS") != NULL);
    rs_kvlist_set(&md, "enableTLS", "false");
    rs_kvlist_set(&md, "redisType", "cluster");
    ASSERT_EQ(rs_redis_options_parse(&o, &md, err, sizeof err), -1);
    rs_kvlist_set(&md, "redisType", "node");
    ASSERT_EQ(rs_redis_options_parse(&o, &md, err, sizeof err), 0);
    ASSERT_EQ(o.dial_timeout_ms, 5000);
    ASSERT_EQ(o.read_timeout_ms, 0);
    rs_redis_options_free(&o);
    rs_kvlist_set(&md, "readTimeout", "1500ms");
    rs_kvlist_set(&md, "dialTimeout", "2s");
    ASSERT_EQ(rs_redis_options_parse(&o, &md, err, sizeof err), 0);
    ASSERT_EQ(o.read_timeout_ms, 1500);
    ASSERT_EQ(o.dial_timeout_ms, 2000);
    rs_redis_options_free(&o);
    rs_kvlist_set(&md, "readTimeout", "soon");
    ASSERT_EQ(rs_redis_options_parse(&o, &md, err, sizeof err), -1);
    rs_kvlist_free(&md);
}

TEST(probe) {
    int port = rs_port_reserve();
    rs_redis_options_t o = {.host = "127.0.0.1", .port = port};
    char err[200] = "";
    ASSERT_EQ(rs_redis_probe(&o, 500, NULL, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "error connecting to redis") != NULL);
    pid_t pid = start_redis(port, "pw");
    o.password = "wrong";
    ASSERT_EQ(rs_redis_probe(&o, 500, NULL, err, sizeof err), -1);
    o.password = "pw";
    int replicas = -1;
    ASSERT_EQ(rs_redis_probe(&o, 500, &replicas, err, sizeof err), 0);
    ASSERT_EQ(replicas, 0);
    stop_redis(pid);
}

static int ups, downs;
static void on_state(void *arg, int up) {
    if (up) ups++;
    else downs++;
}

TEST(commands_reconnect_and_cancel) {
    int port = rs_port_reserve();
    pid_t pid = start_redis(port, "pw");
    struct event_base *base = event_base_new();
    rs_redis_options_t o = {.host = "127.0.0.1", .port = port, .password = "pw", .db = 2};
    rs_redis_t *r = rs_redis_new(base, &o, "test");
    rs_redis_on_state(r, on_state, NULL);
    char err[200];

    /* A command issued during the first connect queues behind AUTH/SELECT. */
    struct rec set = {0};
    const char *setv[] = {"SET", "k", "v1"};
    ASSERT_TRUE(cmd(r, &set, err, 3, setv) != NULL);
    ASSERT_TRUE(loop_until(base, &set.called, 3000));
    ASSERT_STREQ(set.err, "");
    ASSERT_TRUE(rs_redis_is_up(r));
    ASSERT_EQ(ups, 1);

    /* A cancelled call never calls back, even though its reply arrives. */
    struct rec cancelled = {0}, after = {0};
    const char *getv[] = {"GET", "k"};
    rs_redis_call_t *c = cmd(r, &cancelled, err, 2, getv);
    ASSERT_TRUE(c != NULL);
    rs_redis_cancel(c);
    ASSERT_TRUE(cmd(r, &after, err, 2, getv) != NULL);
    ASSERT_TRUE(loop_until(base, &after.called, 3000));
    ASSERT_STREQ(after.str, "v1");
    ASSERT_EQ(cancelled.called, 0);

    /* Error replies carry err and the reply. */
    struct rec bad = {0};
    const char *badv[] = {"NOSUCHCOMMAND"};
    ASSERT_TRUE(cmd(r, &bad, err, 1, badv) != NULL);
    ASSERT_TRUE(loop_until(base, &bad.called, 3000));
    ASSERT_TRUE(bad.had_reply && strstr(bad.err, "unknown command") != NULL);

    /* A pending call fails with "connection lost" when Redis dies; then commands fail fast. */
    struct rec blocked = {0};
    const char *blpop[] = {"BLPOP", "nothing", "5"};
    ASSERT_TRUE(cmd(r, &blocked, err, 3, blpop) != NULL);
    loop_until(base, &(int){0}, 50);
    stop_redis(pid);
    ASSERT_TRUE(loop_until(base, &blocked.called, 3000));
    ASSERT_TRUE(!blocked.had_reply);
    ASSERT_TRUE(blocked.err[0] != '\0');
    ASSERT_TRUE(!rs_redis_is_up(r));
    ASSERT_EQ(downs, 1);
    struct rec down = {0};
    ASSERT_TRUE(cmd(r, &down, err, 2, getv) == NULL);
    ASSERT_TRUE(strstr(err, "not connected") != NULL);
    ASSERT_EQ(down.called, 0);

    /* Back after a restart on the same port (data is gone: no persistence). */
    pid = start_redis(port, "pw");
    volatile int up = 0;
    int64_t end = rs_now_ms() + 5000;
    while (!(up = rs_redis_is_up(r)) && rs_now_ms() < end) loop_until(base, &(int){0}, 20);
    ASSERT_TRUE(up);
    struct rec again = {0};
    const char *sel[] = {"SET", "k2", "x"};
    ASSERT_TRUE(cmd(r, &again, err, 3, sel) != NULL);
    ASSERT_TRUE(loop_until(base, &again.called, 3000));
    ASSERT_STREQ(again.err, "");

    /* Closing fails what is still pending. */
    struct rec closing = {0};
    ASSERT_TRUE(cmd(r, &closing, err, 3, blpop) != NULL);
    rs_redis_free(r);
    ASSERT_EQ(closing.called, 1);
    ASSERT_STREQ(closing.err, "connection closed");
    event_base_free(base);
    stop_redis(pid);
}

TEST(read_timeout_drops_a_frozen_connection) {
    int port = rs_port_reserve();
    pid_t pid = start_redis(port, NULL);
    struct event_base *base = event_base_new();
    rs_redis_options_t o = {.host = "127.0.0.1", .port = port, .read_timeout_ms = 300};
    rs_redis_t *r = rs_redis_new(base, &o, "test");
    char err[200];
    struct rec first = {0};
    const char *ping[] = {"PING"};
    ASSERT_TRUE(cmd(r, &first, err, 1, ping) != NULL);
    ASSERT_TRUE(loop_until(base, &first.called, 3000));
    /* Idle is fine: nothing is owed, so nothing times out. */
    loop_until(base, &(int){0}, 500);
    ASSERT_TRUE(rs_redis_is_up(r));
    kill(pid, SIGSTOP);
    struct rec frozen = {0};
    int64_t t0 = rs_now_ms();
    ASSERT_TRUE(cmd(r, &frozen, err, 1, ping) != NULL);
    ASSERT_TRUE(loop_until(base, &frozen.called, 3000));
    int64_t took = rs_now_ms() - t0;
    ASSERT_STREQ(frozen.err, "timed out waiting for a reply");
    ASSERT_TRUE(took >= 250 && took < 2000);
    kill(pid, SIGCONT);
    volatile int up = 0;
    int64_t end = rs_now_ms() + 5000;
    while (!(up = rs_redis_is_up(r)) && rs_now_ms() < end) loop_until(base, &(int){0}, 20);
    ASSERT_TRUE(up);
    struct rec after = {0};
    ASSERT_TRUE(cmd(r, &after, err, 1, ping) != NULL);
    ASSERT_TRUE(loop_until(base, &after.called, 3000));
    ASSERT_STREQ(after.err, "");
    rs_redis_free(r);
    event_base_free(base);
    stop_redis(pid);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    RUN(options);
    RUN(probe);
    RUN(commands_reconnect_and_cancel);
    RUN(read_timeout_drops_a_frozen_connection);
    return TEST_SUMMARY();
}
