/* SPDX-License-Identifier: MIT */
/* pubsub.kafka against a real kafka-mock process, on an event loop like
 * ripstopd's: publish/consume round trip with metadata, redelivery of failed
 * messages in partition order, offsets committed only after acks, and the
 * kafka-mock control API (latency, brokers down/up, pushed errors). */
#include "kafka_harness.h"
#include "test.h"

static kh_mock_t mock;
static kh_env_t env;

/* ---- publishing ---- */

typedef struct {
    int done, ok, failed;
    char err[256];
} pubs_t;

static void on_published(void *arg, int ok, const char *err) {
    pubs_t *p = arg;
    p->done++;
    if (ok) p->ok++;
    else {
        p->failed++;
        snprintf(p->err, sizeof p->err, "%s", err ? err : "?");
    }
}

static int pubs_all_done(void *arg) {
    pubs_t *p = ((pubs_t **)arg)[0];
    return p->done >= *((int *)((void **)arg)[1]);
}

/* Publishes n messages "msg-<i>" with metadata id=<i> and partitionKey k<i % keys>; waits for all reports. */
static int publish_n(rs_component_t *c, const char *topic, int first, int n, int keys, pubs_t *p, int timeout_ms) {
    for (int i = first; i < first + n; i++) {
        char body[64], id[16], key[16];
        snprintf(body, sizeof body, "msg-%d", i);
        snprintf(id, sizeof id, "%d", i);
        snprintf(key, sizeof key, "k%d", i % keys);
        rs_kvlist_t md = {0};
        rs_kvlist_set(&md, "id", id);
        rs_kvlist_set(&md, "partitionKey", key);
        kh_ops()->publish(c, topic, body, strlen(body), &md, on_published, p);
        rs_kvlist_free(&md);
    }
    int target = p->done + n;
    void *args[2] = {p, &target};
    return kh_run_until(&env, pubs_all_done, args, timeout_ms);
}

/* ---- receiving ---- */

#define MAXMSG 8192
typedef struct {
    int received;                /* handler calls */
    int acked;                   /* acked with success */
    int seen[MAXMSG];            /* deliveries per message id */
    int64_t last_offset[16];     /* per partition, of the last delivered message */
    int order_violations;
    int outstanding;             /* messages with the handler, not yet acked */
    int fail_first_of;           /* id whose first delivery is acked with success = 0 (-1: none) */
    int64_t failed_at_ms, redelivered_at_ms;
    int hold_from;               /* ids >= this are held (not acked) (-1: none) */
    rs_pubsub_msg_t *held;
    int async_ack;               /* ack successes from a zero timer (one loop turn later), like a real app call */
    int first_id;                /* id of the first message received (-1 before) */
    char key[32], topic[64], hdr_id[16], partition[8], offset[24], timestamp[24];
    char data[64];
} recv_t;

static void recv_init(recv_t *r) {
    memset(r, 0, sizeof *r);
    r->fail_first_of = -1;
    r->hold_from = -1;
    r->first_id = -1;
    for (int i = 0; i < 16; i++) r->last_offset[i] = -1;
}

static void ack_later(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    rs_pubsub_msg_ack(arg, 1);
}

static void on_message(void *ctx, rs_pubsub_msg_t *m) {
    recv_t *r = ctx;
    r->received++;
    const char *id = rs_kvlist_get(&m->metadata, "id");
    const char *part = rs_kvlist_get(&m->metadata, "__partition");
    const char *off = rs_kvlist_get(&m->metadata, "__offset");
    int i = id ? atoi(id) : -1;
    if (r->first_id < 0) r->first_id = i;
    snprintf(r->key, sizeof r->key, "%s", rs_kvlist_get(&m->metadata, "__key") ?: "(none)");
    snprintf(r->topic, sizeof r->topic, "%s", rs_kvlist_get(&m->metadata, "__topic") ?: "(none)");
    snprintf(r->hdr_id, sizeof r->hdr_id, "%s", id ?: "(none)");
    snprintf(r->partition, sizeof r->partition, "%s", part ?: "(none)");
    snprintf(r->offset, sizeof r->offset, "%s", off ?: "(none)");
    snprintf(r->timestamp, sizeof r->timestamp, "%s", rs_kvlist_get(&m->metadata, "__timestamp") ?: "(none)");
    snprintf(r->data, sizeof r->data, "%.*s", (int)m->len, m->data);
    if (part && off) {
        int p = atoi(part);
        long long o = atoll(off);
        if (p >= 0 && p < 16) {
            /* redelivery repeats the same offset; anything else must move forward */
            if (o < r->last_offset[p]) r->order_violations++;
            r->last_offset[p] = o;
        }
    }
    if (i >= 0 && i < MAXMSG) r->seen[i]++;
    if (i == r->fail_first_of && r->seen[i] == 2) r->redelivered_at_ms = rs_now_ms();
    if (i == r->fail_first_of && r->seen[i] == 1) {
        r->failed_at_ms = rs_now_ms();
        rs_pubsub_msg_ack(m, 0);
        return;
    }
    if (r->hold_from >= 0 && i >= r->hold_from) {
        r->outstanding++;
        if (!r->held) r->held = m;
        else rs_pubsub_msg_ack(m, 0); /* only one per partition can be out; single-partition tests never get here */
        return;
    }
    r->acked++;
    if (r->async_ack && event_base_once(env.base, -1, EV_TIMEOUT, ack_later, m, &(struct timeval){0, 0}) == 0) return;
    rs_pubsub_msg_ack(m, 1);
}

typedef struct {
    recv_t *r;
    int n;
} want_t;

static int got_acked(void *arg) {
    want_t *w = arg;
    return w->r->acked >= w->n;
}

static int got_received(void *arg) {
    want_t *w = arg;
    return w->r->received >= w->n;
}

static const char *const base_meta[] = {"authType", "none", "disableTls", "true", NULL};

/* Builds metadata: brokers + base + extra pairs. */
static const char **meta_with(const char **buf, const char *const *extra) {
    int n = 0;
    buf[n++] = "brokers";
    buf[n++] = mock.bootstrap;
    for (const char *const *p = base_meta; *p; p++) buf[n++] = *p;
    for (const char *const *p = extra; p && *p; p++) buf[n++] = *p;
    buf[n] = NULL;
    return buf;
}

TEST(control_api_rejects_bad_input) {
    char out[1024];
    ASSERT_EQ(kh_control(&mock, "GET", "/healthz", NULL, out, sizeof out), 200);
    ASSERT_EQ(kh_control(&mock, "PUT", "/brokers/all/latency", "{\"latency_ms\":\"x\"}", out, sizeof out), 400);
    ASSERT_EQ(kh_control(&mock, "PUT", "/brokers/7/latency", "{\"latency_ms\":5}", out, sizeof out), 404);
    ASSERT_EQ(kh_control(&mock, "POST", "/brokers/all/sideways", NULL, out, sizeof out), 404);
    ASSERT_EQ(kh_control(&mock, "POST", "/errors", "{\"api\":\"Produce\",\"error\":\"NO_SUCH_ERROR\"}", out, sizeof out),
              400);
    ASSERT_EQ(kh_control(&mock, "POST", "/errors", "not json", out, sizeof out), 400);
    ASSERT_TRUE(strstr(out, "\"errorCode\"") != NULL);
    ASSERT_EQ(kh_control(&mock, "POST", "/topics", "{\"name\":\"made-later\",\"partitions\":2}", out, sizeof out), 201);
    ASSERT_EQ(kh_control(&mock, "GET", "/state", NULL, out, sizeof out), 200);
    ASSERT_TRUE(strstr(out, "\"made-later\"") != NULL);
    ASSERT_TRUE(strstr(out, "\"id\":2") != NULL); /* two brokers */
}

TEST(round_trip_with_metadata_and_order) {
    rs_component_t c;
    char err[256];
    const char *buf[32];
    const char *const extra[] = {"consumerGroup", "g-roundtrip", "initialOffset", "oldest", NULL};
    ASSERT_EQ(kh_component_init(&env, &c, "rt", meta_with(buf, extra), err, sizeof err), 0);
    recv_t r;
    recv_init(&r);
    ASSERT_EQ(kh_ops()->subscribe(&c, "roundtrip", on_message, &r, err, sizeof err), 0);
    pubs_t p = {0};
    ASSERT_TRUE(publish_n(&c, "roundtrip", 0, 60, 5, &p, 10000));
    ASSERT_EQ(p.ok, 60);
    want_t w = {&r, 60};
    ASSERT_TRUE(kh_run_until(&env, got_acked, &w, 20000));
    for (int i = 0; i < 60; i++) ASSERT_EQ(r.seen[i], 1);
    ASSERT_EQ(r.order_violations, 0);
    ASSERT_STREQ(r.topic, "roundtrip");
    ASSERT_TRUE(strncmp(r.key, "k", 1) == 0);
    char expect[64];
    snprintf(expect, sizeof expect, "msg-%s", r.hdr_id);
    ASSERT_STREQ(r.data, expect);
    ASSERT_TRUE(atoll(r.timestamp) > 1600000000000LL); /* milliseconds since the epoch */
    ASSERT_TRUE(atoi(r.partition) >= 0 && atoi(r.partition) < 3);
    kh_component_close(&c);
}

TEST(failed_ack_is_redelivered_before_later_messages) {
    rs_component_t c;
    char err[256];
    const char *buf[32];
    const char *const extra[] = {"consumerGroup", "g-retry", "initialOffset", "oldest", "backOffDuration", "100ms",
                                 NULL};
    ASSERT_EQ(kh_component_init(&env, &c, "retry", meta_with(buf, extra), err, sizeof err), 0);
    recv_t r;
    recv_init(&r);
    r.fail_first_of = 3;
    ASSERT_EQ(kh_ops()->subscribe(&c, "single", on_message, &r, err, sizeof err), 0);
    pubs_t p = {0};
    ASSERT_TRUE(publish_n(&c, "single", 0, 10, 1, &p, 10000));
    ASSERT_EQ(p.ok, 10);
    want_t w = {&r, 10};
    ASSERT_TRUE(kh_run_until(&env, got_acked, &w, 20000));
    ASSERT_EQ(r.seen[3], 2); /* failed once, redelivered once */
    ASSERT_EQ(r.received, 11);
    ASSERT_EQ(r.order_violations, 0); /* message 4 came only after 3 succeeded */
    ASSERT_TRUE(r.redelivered_at_ms - r.failed_at_ms >= 95); /* after backOffDuration (100ms), not at once */
    kh_component_close(&c);
}

TEST(offset_committed_only_after_ack) {
    rs_component_t c;
    char err[256];
    const char *buf[32];
    const char *const extra[] = {"consumerGroup", "g-commit", "initialOffset", "oldest", NULL};
    ASSERT_EQ(kh_component_init(&env, &c, "commit", meta_with(buf, extra), err, sizeof err), 0);
    recv_t r;
    recv_init(&r);
    r.hold_from = 5; /* ack 0..4, keep 5 with the "app" */
    ASSERT_EQ(kh_ops()->subscribe(&c, "single2", on_message, &r, err, sizeof err), 0);
    pubs_t p = {0};
    ASSERT_TRUE(publish_n(&c, "single2", 0, 12, 1, &p, 10000));
    ASSERT_EQ(p.ok, 12);
    want_t w = {&r, 6};
    ASSERT_TRUE(kh_run_until(&env, got_received, &w, 20000));
    ASSERT_EQ(r.acked, 5);
    ASSERT_EQ(r.received, 6); /* nothing after the held message was handed over */
    kh_component_close(&c);    /* leaves the group; the held message is still out */
    ASSERT_TRUE(r.held != NULL);
    rs_pubsub_msg_ack(r.held, 1); /* a late ack after close is ignored, not committed */

    rs_component_t c2;
    ASSERT_EQ(kh_component_init(&env, &c2, "commit2", meta_with(buf, extra), err, sizeof err), 0);
    recv_t r2;
    recv_init(&r2);
    ASSERT_EQ(kh_ops()->subscribe(&c2, "single2", on_message, &r2, err, sizeof err), 0);
    want_t w2 = {&r2, 7};
    ASSERT_TRUE(kh_run_until(&env, got_acked, &w2, 20000));
    ASSERT_EQ(r2.first_id, 5); /* resumes exactly at the first unacked message */
    for (int i = 5; i < 12; i++) ASSERT_EQ(r2.seen[i], 1);
    ASSERT_EQ(r2.seen[4], 0);
    kh_component_close(&c2);
}

TEST(large_backlog_pauses_and_resumes_without_loss) {
    /* 5000 messages on one partition arrive far faster than one-at-a-time dispatch drains them, so the FIFO
     * passes PAUSE_AT (2000), the partition is paused and later resumed; every message must still arrive once,
     * in order. */
    rs_component_t c;
    char err[256];
    const char *buf[32];
    const char *const extra[] = {"consumerGroup", "g-backlog", "initialOffset", "oldest", NULL};
    ASSERT_EQ(kh_component_init(&env, &c, "backlog", meta_with(buf, extra), err, sizeof err), 0);
    pubs_t p = {0};
    ASSERT_TRUE(publish_n(&c, "backlog", 0, 5000, 1, &p, 30000));
    ASSERT_EQ(p.ok, 5000);
    recv_t *r = calloc(1, sizeof *r);
    recv_init(r);
    r->async_ack = 1;
    ASSERT_EQ(kh_ops()->subscribe(&c, "backlog", on_message, r, err, sizeof err), 0);
    want_t w = {r, 5000};
    int ok = kh_run_until(&env, got_acked, &w, 60000);
    int missing = 0, dup = 0;
    for (int i = 0; i < 5000; i++) {
        if (r->seen[i] == 0) missing++;
        if (r->seen[i] > 1) dup++;
    }
    int violations = r->order_violations;
    free(r);
    kh_component_close(&c);
    ASSERT_TRUE(ok);
    ASSERT_EQ(missing, 0);
    ASSERT_EQ(dup, 0);
    ASSERT_EQ(violations, 0);
}

static int never(void *arg) {
    (void)arg;
    return 0;
}

TEST(topic_created_on_first_subscribe_newest_offset) {
    /* "fresh" was not created up front: the consumer's metadata request creates it (4 partitions). With the
     * default initialOffset newest, messages published after the group got its partitions are delivered. */
    rs_component_t c;
    char err[256];
    const char *buf[32];
    const char *const extra[] = {"consumerGroup", "g-fresh", NULL};
    ASSERT_EQ(kh_component_init(&env, &c, "fresh", meta_with(buf, extra), err, sizeof err), 0);
    recv_t r;
    recv_init(&r);
    ASSERT_EQ(kh_ops()->subscribe(&c, "fresh", on_message, &r, err, sizeof err), 0);
    kh_run_until(&env, never, NULL, 4500); /* the mock's first group assignment takes ~3 s */
    pubs_t p = {0};
    ASSERT_TRUE(publish_n(&c, "fresh", 0, 20, 20, &p, 10000));
    ASSERT_EQ(p.ok, 20);
    want_t w = {&r, 20};
    ASSERT_TRUE(kh_run_until(&env, got_acked, &w, 20000));
    int parts_seen = 0;
    for (int i = 0; i < 16; i++) parts_seen += r.last_offset[i] >= 0;
    ASSERT_TRUE(parts_seen > 1); /* auto-created with several partitions */
    kh_component_close(&c);
}

static int64_t publish_one_ms(rs_component_t *c, const char *topic, pubs_t *p, int timeout_ms) {
    int64_t t0 = rs_now_ms();
    if (!publish_n(c, topic, 0, 1, 1, p, timeout_ms)) return -1;
    return rs_now_ms() - t0;
}

TEST(mock_latency_and_outage_are_visible_to_publishers) {
    rs_component_t c;
    char err[256], out[2048];
    const char *buf[32];
    ASSERT_EQ(kh_component_init(&env, &c, "faults", meta_with(buf, NULL), err, sizeof err), 0);
    pubs_t p = {0};
    int64_t base_ms = publish_one_ms(&c, "faults", &p, 10000); /* warms up metadata and connections */
    ASSERT_TRUE(base_ms >= 0);
    ASSERT_EQ(p.ok, 1);
    /* No wall-clock bound on a normal publish (a loaded machine may take long): the injected latency is
     * checked against the mock's guaranteed minimum below, and against the quickest of three normal ones. */
    for (int i = 0; i < 3; i++) {
        int64_t t = publish_one_ms(&c, "faults", &p, 10000);
        ASSERT_TRUE(t >= 0);
        if (i == 0 || t < base_ms) base_ms = t;
    }

    ASSERT_EQ(kh_control(&mock, "PUT", "/brokers/all/latency", "{\"latency_ms\":400,\"jitter_ms\":50}", out, sizeof out),
              200);
    ASSERT_TRUE(strstr(out, "\"latency_ms\":400") != NULL);
    int64_t slow = publish_one_ms(&c, "faults", &p, 10000);
    ASSERT_TRUE(slow >= 340);     /* at least latency - jitter */
    ASSERT_TRUE(slow > base_ms);  /* and slower than the quickest normal publish */
    ASSERT_EQ(kh_control(&mock, "PUT", "/brokers/all/latency", "{\"latency_ms\":0}", out, sizeof out), 200);

    /* All brokers down: the publish cannot complete; once they are up again it succeeds. */
    ASSERT_EQ(kh_control(&mock, "POST", "/brokers/all/down", NULL, out, sizeof out), 200);
    ASSERT_TRUE(strstr(out, "\"up\":false") != NULL);
    int ok_before = p.ok;
    ASSERT_EQ(publish_one_ms(&c, "faults", &p, 1500), -1);
    ASSERT_EQ(p.ok, ok_before);
    ASSERT_EQ(kh_control(&mock, "POST", "/brokers/all/up", NULL, out, sizeof out), 200);
    pubs_t *pp = &p;
    int target = p.done + 1;
    void *args[2] = {pp, &target};
    ASSERT_TRUE(kh_run_until(&env, pubs_all_done, args, 15000)); /* the queued message goes out */
    ASSERT_EQ(p.failed, 0);
    ASSERT_TRUE(publish_one_ms(&c, "faults", &p, 10000) >= 0);
    ASSERT_EQ(p.failed, 0);

    /* A pushed non-retriable Produce error fails exactly one publish. */
    ASSERT_EQ(kh_control(&mock, "POST", "/errors", "{\"api\":\"Produce\",\"error\":\"MSG_SIZE_TOO_LARGE\"}", out,
                         sizeof out),
              200);
    ASSERT_TRUE(publish_one_ms(&c, "faults", &p, 10000) >= 0);
    ASSERT_EQ(p.failed, 1);
    ASSERT_TRUE(strstr(p.err, "too large") != NULL || strstr(p.err, "MSG_SIZE") != NULL);
    ASSERT_TRUE(publish_one_ms(&c, "faults", &p, 10000) >= 0);
    ASSERT_EQ(p.failed, 1);
    kh_component_close(&c);
}

TEST(bad_publish_metadata_fails_from_the_loop) {
    rs_component_t c;
    char err[256];
    const char *buf[32];
    ASSERT_EQ(kh_component_init(&env, &c, "badmeta", meta_with(buf, NULL), err, sizeof err), 0);
    pubs_t p = {0};
    rs_kvlist_t md = {0};
    rs_kvlist_set(&md, "partitionNumber", "minus one");
    kh_ops()->publish(&c, "faults", "x", 1, &md, on_published, &p);
    rs_kvlist_free(&md);
    ASSERT_EQ(p.done, 0); /* never inside publish() */
    pubs_t *pp = &p;
    int target = 1;
    void *args[2] = {pp, &target};
    ASSERT_TRUE(kh_run_until(&env, pubs_all_done, args, 2000));
    ASSERT_EQ(p.failed, 1);
    ASSERT_TRUE(strstr(p.err, "partitionNumber") != NULL);
    kh_component_close(&c);
}

TEST(init_rejects_bad_metadata) {
    rs_component_t c;
    char err[256] = "";
    const char *const kv[] = {"brokers", "127.0.0.1:1", "authType", "oidc", NULL};
    ASSERT_EQ(kh_component_init(&env, &c, "bad", kv, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "authType") != NULL);
    kh_component_close(&c);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const char *const args[] = {"--brokers", "2", "--topic", "roundtrip:3", "--topic", "single:1", "--topic",
                                "single2:1", "--topic", "faults:1", "--topic", "backlog:1", NULL};
    if (kh_mock_start(&mock, args)) {
        printf("FAIL could not start kafka-mock\n");
        return 1;
    }
    kh_env_init(&env);
    RUN(control_api_rejects_bad_input);
    RUN(init_rejects_bad_metadata);
    RUN(bad_publish_metadata_fails_from_the_loop);
    RUN(round_trip_with_metadata_and_order);
    RUN(failed_ack_is_redelivered_before_later_messages);
    RUN(offset_committed_only_after_ack);
    RUN(large_backlog_pauses_and_resumes_without_loss);
    RUN(topic_created_on_first_subscribe_newest_offset);
    RUN(mock_latency_and_outage_are_visible_to_publishers);
    kh_env_free(&env);
    int rc = kh_mock_stop(&mock);
    if (rc != 0) {
        printf("FAIL kafka-mock did not exit cleanly on SIGTERM (%d)\n", rc);
        test_failed_total++;
    } else {
        printf("ok   kafka_mock_exits_cleanly_on_sigterm\n");
        test_passed_total++;
    }
    return TEST_SUMMARY();
}
