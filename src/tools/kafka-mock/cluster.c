/* SPDX-License-Identifier: MIT */
/* The mock cluster and its fault state. librdkafka runs the brokers on its own
 * threads; the setters below are thread-safe calls into it, so the tool's event
 * loop only has to remember what it set (for GET /state) and re-draw jittered
 * latencies on a timer. */
#include "cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"

struct broker {
    int up;
    int latency_ms;
    int jitter_ms;
    int rtt_ms; /* the value currently applied */
};

struct rs_kmock {
    struct event_base *base;
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    char *bootstraps;
    int nbrokers;
    struct broker *brokers; /* index id-1 */
    uint64_t seed;
    uint64_t rng;
    int jitter_interval_ms;
    struct event *jitter_ev;
    json_t *topics; /* [{"name","partitions"}] created through us */
};

/* xorshift64*: tiny, seedable, good enough to spread latencies. */
static uint64_t rng_next(rs_kmock_t *m) {
    uint64_t x = m->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    m->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void apply_rtt(rs_kmock_t *m, int id) {
    struct broker *b = &m->brokers[id - 1];
    int rtt = b->latency_ms;
    if (b->jitter_ms > 0) {
        uint64_t span = (uint64_t)b->jitter_ms * 2 + 1;
        rtt = b->latency_ms - b->jitter_ms + (int)(rng_next(m) % span);
    }
    if (rtt < 0) rtt = 0;
    b->rtt_ms = rtt;
    rd_kafka_mock_broker_set_rtt(m->mc, id, rtt);
}

static void on_jitter(evutil_socket_t fd, short what, void *arg) {
    rs_kmock_t *m = arg;
    (void)fd;
    (void)what;
    for (int id = 1; id <= m->nbrokers; id++)
        if (m->brokers[id - 1].jitter_ms > 0) apply_rtt(m, id);
}

rs_kmock_t *rs_kmock_new(struct event_base *base, int brokers, uint64_t seed, int jitter_interval_ms, char *err,
                         size_t errlen) {
    if (brokers < 1 || brokers > 64) {
        snprintf(err, errlen, "broker count must be 1..64");
        return NULL;
    }
    rs_kmock_t *m = rs_xcalloc(1, sizeof *m);
    m->base = base;
    m->nbrokers = brokers;
    m->brokers = rs_xcalloc((size_t)brokers, sizeof *m->brokers);
    for (int i = 0; i < brokers; i++) m->brokers[i].up = 1;
    m->seed = seed;
    m->rng = seed ? seed : 0x9E3779B97F4A7C15ULL; /* xorshift must not start at 0 */
    m->jitter_interval_ms = jitter_interval_ms > 0 ? jitter_interval_ms : 250;
    m->topics = json_array();

    /* The mock cluster hangs off a client handle; a producer with no brokers never connects anywhere. */
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", e, sizeof e);
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!m->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "rd_kafka_new: %s", e);
        rs_kmock_free(m);
        return NULL;
    }
    m->mc = rd_kafka_mock_cluster_new(m->rk, brokers);
    if (!m->mc) {
        snprintf(err, errlen, "could not start the mock cluster");
        rs_kmock_free(m);
        return NULL;
    }
    m->bootstraps = rs_strdup(rd_kafka_mock_cluster_bootstraps(m->mc));
    m->jitter_ev = event_new(base, -1, EV_PERSIST, on_jitter, m);
    struct timeval tv = {m->jitter_interval_ms / 1000, (m->jitter_interval_ms % 1000) * 1000};
    event_add(m->jitter_ev, &tv);
    return m;
}

void rs_kmock_free(rs_kmock_t *m) {
    if (!m) return;
    if (m->jitter_ev) event_free(m->jitter_ev);
    if (m->mc) rd_kafka_mock_cluster_destroy(m->mc);
    if (m->rk) rd_kafka_destroy(m->rk);
    json_decref(m->topics);
    free(m->bootstraps);
    free(m->brokers);
    free(m);
}

const char *rs_kmock_bootstraps(const rs_kmock_t *m) { return m->bootstraps; }
int rs_kmock_broker_count(const rs_kmock_t *m) { return m->nbrokers; }

int rs_kmock_create_topic(rs_kmock_t *m, const char *name, int partitions, char *err, size_t errlen) {
    if (!name || !*name || strlen(name) > 249) {
        snprintf(err, errlen, "topic name must be 1..249 characters");
        return -1;
    }
    if (partitions < 1 || partitions > 1000) {
        snprintf(err, errlen, "partitions must be 1..1000");
        return -1;
    }
    int repl = m->nbrokers < 3 ? m->nbrokers : 3;
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(m->mc, name, partitions, repl);
    if (e) {
        snprintf(err, errlen, "create topic %s: %s", name, rd_kafka_err2str(e));
        return -1;
    }
    json_array_append_new(m->topics, json_pack("{s:s,s:i}", "name", name, "partitions", partitions));
    return 0;
}

static int check_id(const rs_kmock_t *m, int id, char *err, size_t errlen) {
    if (id < 0 || id > m->nbrokers) {
        snprintf(err, errlen, "unknown broker %d (brokers are 1..%d, 0 = all)", id, m->nbrokers);
        return -1;
    }
    return 0;
}

int rs_kmock_set_latency(rs_kmock_t *m, int id, int latency_ms, int jitter_ms, char *err, size_t errlen) {
    if (check_id(m, id, err, errlen)) return -1;
    if (latency_ms < 0 || jitter_ms < 0 || latency_ms > 3600000 || jitter_ms > 3600000) {
        snprintf(err, errlen, "latency_ms and jitter_ms must be 0..3600000");
        return -1;
    }
    for (int b = 1; b <= m->nbrokers; b++) {
        if (id && b != id) continue;
        m->brokers[b - 1].latency_ms = latency_ms;
        m->brokers[b - 1].jitter_ms = jitter_ms;
        apply_rtt(m, b);
    }
    return 0;
}

int rs_kmock_set_up(rs_kmock_t *m, int id, int up, char *err, size_t errlen) {
    if (check_id(m, id, err, errlen)) return -1;
    for (int b = 1; b <= m->nbrokers; b++) {
        if (id && b != id) continue;
        rd_kafka_resp_err_t e = up ? rd_kafka_mock_broker_set_up(m->mc, b) : rd_kafka_mock_broker_set_down(m->mc, b);
        if (e) {
            snprintf(err, errlen, "broker %d: %s", b, rd_kafka_err2str(e));
            return -1;
        }
        m->brokers[b - 1].up = up;
    }
    return 0;
}

int rs_kmock_push_errors(rs_kmock_t *m, int api_key, size_t n, const int *errors, char *err, size_t errlen) {
    if (api_key < 0 || api_key > 32767) {
        snprintf(err, errlen, "unknown api key %d", api_key);
        return -1;
    }
    if (n == 0 || n > 100000) {
        snprintf(err, errlen, "error count must be 1..100000");
        return -1;
    }
    rd_kafka_resp_err_t *errs = rs_xmalloc(n * sizeof *errs);
    for (size_t i = 0; i < n; i++) errs[i] = (rd_kafka_resp_err_t)errors[i];
    rd_kafka_mock_push_request_errors_array(m->mc, (int16_t)api_key, n, errs);
    free(errs);
    return 0;
}

void rs_kmock_clear_errors(rs_kmock_t *m, int api_key) { rd_kafka_mock_clear_request_errors(m->mc, (int16_t)api_key); }

static const struct {
    const char *name;
    int key;
} api_names[] = {
    {"Produce", 0},       {"Fetch", 1},         {"ListOffsets", 2},    {"Metadata", 3},       {"OffsetCommit", 8},
    {"OffsetFetch", 9},   {"FindCoordinator", 10}, {"JoinGroup", 11},  {"Heartbeat", 12},     {"LeaveGroup", 13},
    {"SyncGroup", 14},    {"DescribeGroups", 15}, {"ListGroups", 16},  {"ApiVersions", 18},   {"CreateTopics", 19},
    {"InitProducerId", 22}, {"AddPartitionsToTxn", 24}, {"EndTxn", 26},
};

int rs_kmock_api_key(const char *s) {
    if (!s || !*s) return -1;
    long long v;
    if (rs_parse_int64(s, &v) == 0) return v >= 0 && v <= 32767 ? (int)v : -1;
    for (size_t i = 0; i < sizeof api_names / sizeof api_names[0]; i++)
        if (strcasecmp(s, api_names[i].name) == 0) return api_names[i].key;
    return -1;
}

int rs_kmock_error_code(const char *s, int *out) {
    if (!s || !*s) return -1;
    long long v;
    if (rs_parse_int64(s, &v) == 0) {
        if (v < -200 || v > 1000) return -1;
        *out = (int)v;
        return 0;
    }
    if (strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0) s += 18;
    const struct rd_kafka_err_desc *descs;
    size_t n;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++)
        if (descs[i].name && strcasecmp(descs[i].name, s) == 0) {
            *out = (int)descs[i].code;
            return 0;
        }
    return -1;
}

json_t *rs_kmock_state_json(const rs_kmock_t *m) {
    json_t *brokers = json_array();
    for (int id = 1; id <= m->nbrokers; id++) {
        const struct broker *b = &m->brokers[id - 1];
        json_array_append_new(brokers, json_pack("{s:i,s:b,s:i,s:i,s:i}", "id", id, "up", b->up, "latency_ms",
                                                 b->latency_ms, "jitter_ms", b->jitter_ms, "rtt_ms", b->rtt_ms));
    }
    return json_pack("{s:s,s:o,s:O,s:I,s:i}", "bootstrap", m->bootstraps, "brokers", brokers, "topics", m->topics,
                     "seed", (json_int_t)m->seed, "jitter_interval_ms", m->jitter_interval_ms);
}
