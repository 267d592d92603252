/* SPDX-License-Identifier: MIT */
/* `ripstop verify`: the demo's verdict, either recomputed from a recording
 * (`ripstop demo` writes recording.json), or assembled live from a running
 * system anywhere (a Kubernetes cluster's verify Job): the load generator's
 * record (`ripstop load --out`), the scenario's windows and criteria, the
 * orders on the Kafka topic and the loyalty records in Redis, read the way
 * Dapr's state.redis stores them (hash "<app id>||<customer id>", field data). */
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/str.h"
#include "tools/ripstop/scenario.h"
#include "tools/ripstop/verdict.h"
#include "tools/ripstop/verdict_kafka.h"

int rs_cmd_verify(int argc, char **argv);

#define NCUSTOMERS 10 /* the original's ten fixed customers */

/* Where the live inputs come from. */
struct live {
    const char *load_path, *scenario_path, *topic, *redis;
    int quick;
    rs_verdict_kafka_t kafka;
    int settle_s;  /* -1: the scenario's drain.settle */
    int timeout_s; /* -1: the scenario's drain.timeout */
    int kafka_timeout_s;
};

static void usage(FILE *o) {
    fprintf(o,
            "usage: ripstop verify RECORDING.json [--out VERDICT.json]\n"
            "       ripstop verify --load LOAD.json --scenario SCENARIO.yaml [--quick]\n"
            "                      --brokers HOST:PORT[,...] [--topic T] [--kafka-sasl-user U] [--kafka-tls]\n"
            "                      [--kafka-ca FILE] [--kafka-timeout S] --redis HOST:PORT [--settle S]\n"
            "                      [--drain-timeout S]\n"
            "                      [--out VERDICT.json]\n"
            "  First form: recomputes the demo's verdict from a recording (ripstop demo writes recording.json).\n"
            "  Second form: the verdict of a system running elsewhere (a cluster): LOAD.json from\n"
            "  `ripstop load --out`, windows and criteria from the scenario (t = 0 is the load's start), the\n"
            "  orders on the topic (default: the scenario's; read within --kafka-timeout, 60 s) and the loyalty records in Redis. It waits until\n"
            "  the records are unchanged for --settle seconds (default: the scenario's drain.settle; at most\n"
            "  --drain-timeout). Passwords come from the environment: RIPSTOP_KAFKA_PASSWORD (SASL/PLAIN,\n"
            "  with --kafka-sasl-user) and RIPSTOP_REDIS_PASSWORD.\n"
            "  Exit 0 when the verdict holds, 1 when it does not, 2 on bad input or an unreachable endpoint.\n");
}

static int verify_recording(const char *path, const char *out) {
    json_error_t je;
    json_t *rec = json_load_file(path, 0, &je);
    if (!rec || !json_is_object(rec)) {
        fprintf(stderr, "ripstop verify: %s: %s (line %d)\n", path, rec ? "not a JSON object" : je.text, je.line);
        json_decref(rec);
        return 2;
    }
    json_t *v = rs_verdict_compute(rec);
    rs_verdict_print(stdout, v);
    int rc = json_is_true(json_object_get(v, "pass")) ? 0 : 1;
    if (out && json_dump_file(v, out, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "ripstop verify: cannot write %s\n", out);
        rc = 2;
    }
    json_decref(v);
    json_decref(rec);
    return rc;
}

/* Connects (and authenticates, when RIPSTOP_REDIS_PASSWORD is set) to host:port. */
static redisContext *redis_open(const char *addr, char *err, size_t errlen) {
    char host[256];
    const char *colon = strrchr(addr, ':');
    long long port = 6379;
    if (colon && (rs_parse_int64(colon + 1, &port) || port < 1 || port > 65535)) {
        snprintf(err, errlen, "redis %s: not HOST:PORT", addr);
        return NULL;
    }
    snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - addr) : (int)strlen(addr), addr);
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout(host, (int)port, tv);
    if (!c || c->err) {
        snprintf(err, errlen, "redis %s: %s", addr, c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    const char *pw = getenv("RIPSTOP_REDIS_PASSWORD");
    if (pw && *pw) {
        redisReply *r = redisCommand(c, "AUTH %s", pw);
        int bad = !r || r->type == REDIS_REPLY_ERROR;
        snprintf(err, errlen, "redis %s: AUTH: %s", addr, !r ? c->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "");
        if (r) freeReplyObject(r);
        if (bad) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

/* {"<customer>": {loyaltyPoints, orderCount}} of app_id's records, or NULL with err. */
static json_t *read_loyalty(redisContext *c, const char *addr, const char *app_id, char *err, size_t errlen) {
    json_t *out = json_object();
    for (int k = 1; k <= NCUSTOMERS; k++) {
        redisReply *r = redisCommand(c, "HGET %s||%d data", app_id, k);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "redis %s: HGET %s||%d: %s", addr, app_id, k, r ? r->str : c->errstr);
            if (r) freeReplyObject(r);
            json_decref(out);
            return NULL;
        }
        if (r->type == REDIS_REPLY_STRING) {
            json_t *v = json_loadb(r->str, r->len, 0, NULL);
            if (json_is_object(v)) {
                char key[16];
                snprintf(key, sizeof key, "%d", k);
                json_object_set_new(out, key,
                                    json_pack("{s:O?, s:O?}", "loyaltyPoints", json_object_get(v, "loyaltyPoints"),
                                              "orderCount", json_object_get(v, "orderCount")));
            }
            json_decref(v);
        }
        freeReplyObject(r);
    }
    return out;
}

/* The scenario's action windows on the load's clock, as `ripstop demo` records them. */
static json_t *windows_json(const rs_scenario_t *s) {
    json_t *ws = json_array();
    for (int i = 0; i < s->nactions; i++) {
        const rs_action_t *a = &s->actions[i];
        json_int_t end = a->stop_ms >= 0 ? a->stop_ms : a->start_ms + 1000;
        json_array_append_new(ws, json_pack("{s:s, s:s, s:I, s:I, s:b}", "name", a->name, "kind", a->kind, "start_ms",
                                            (json_int_t)a->start_ms, "end_ms", end, "happened", 1));
    }
    return ws;
}

/* Reads both stores until they are unchanged for settle_s (drained = 1) or timeout_s passes. */
static int read_settled(const struct live *o, const rs_scenario_t *s, json_t **lock, json_t **nolock, int *drained,
                        char *err, size_t errlen) {
    redisContext *c = redis_open(o->redis, err, errlen);
    if (!c) return -1;
    int settle = o->settle_s >= 0 ? o->settle_s : (int)(s->settle_ms / 1000);
    int timeout = o->timeout_s >= 0 ? o->timeout_s : (int)(s->drain_timeout_ms / 1000);
    int64_t start = rs_now_ms(), stable_since = start;
    char *last = NULL;
    *drained = 0;
    for (;;) {
        json_t *l = read_loyalty(c, o->redis, s->lock_app, err, errlen);
        json_t *n = l ? read_loyalty(c, o->redis, s->nolock_app, err, errlen) : NULL;
        if (!n) {
            json_decref(l);
            free(last);
            redisFree(c);
            return -1;
        }
        json_t *both = json_pack("{s:o, s:o}", "lock", l, "nolock", n);
        char *now_s = json_dumps(both, JSON_SORT_KEYS | JSON_COMPACT);
        int64_t now = rs_now_ms();
        if (!last || strcmp(last, now_s) != 0) stable_since = now;
        free(last);
        last = now_s;
        if (now - stable_since >= (int64_t)settle * 1000 || now - start >= (int64_t)timeout * 1000) {
            *drained = now - stable_since >= (int64_t)settle * 1000;
            *lock = json_incref(json_object_get(both, "lock"));
            *nolock = json_incref(json_object_get(both, "nolock"));
            json_decref(both);
            break;
        }
        json_decref(both);
        struct timespec ts = {1, 0}; /* the loyalty jobs' cron ticks every 5 s: a read per second is plenty */
        nanosleep(&ts, NULL);
    }
    free(last);
    redisFree(c);
    return 0;
}

static int verify_live(const struct live *o, const char *out) {
    char err[512] = "";
    rs_scenario_t s;
    if (rs_scenario_load(o->scenario_path, o->quick, &s, err, sizeof err) != 0) {
        fprintf(stderr, "ripstop verify: %s\n", err);
        return 2;
    }
    json_error_t je;
    json_t *load = json_load_file(o->load_path, 0, &je);
    if (!json_is_array(json_object_get(load, "records"))) {
        fprintf(stderr, "ripstop verify: %s: %s\n", o->load_path, load ? "no \"records\" (not `ripstop load --out`)" : je.text);
        json_decref(load);
        rs_scenario_free(&s);
        return 2;
    }
    const char *topic = o->topic ? o->topic : s.topic;
    json_t *pub = rs_verdict_read_orders_from(&o->kafka, topic, o->kafka_timeout_s * 1000, err, sizeof err);
    if (!pub) {
        fprintf(stderr, "ripstop verify: reading topic '%s' from %s: %s\n", topic, o->kafka.brokers, err);
        json_decref(load);
        rs_scenario_free(&s);
        return 2;
    }
    json_t *lock = NULL, *nolock = NULL;
    int drained = 0;
    if (read_settled(o, &s, &lock, &nolock, &drained, err, sizeof err) != 0) {
        fprintf(stderr, "ripstop verify: reading the loyalty records: %s\n", err);
        json_decref(pub);
        json_decref(load);
        rs_scenario_free(&s);
        return 2;
    }
    json_t *rec = json_object();
    json_object_set(rec, "scenario", s.json);
    json_object_set_new(rec, "load", load);
    json_object_set_new(rec, "windows", windows_json(&s));
    json_object_set_new(rec, "published", pub);
    json_object_set_new(rec, "loyalty", json_pack("{s:o, s:o}", "lock", lock, "nolock", nolock));
    json_object_set_new(rec, "drained", json_boolean(drained));
    json_object_set(rec, "criteria", s.criteria);
    json_t *v = rs_verdict_compute(rec);
    rs_verdict_print(stdout, v);
    int rc = json_is_true(json_object_get(v, "pass")) ? 0 : 1;
    if (out) {
        json_t *both = json_pack("{s:O, s:O}", "verdict", v, "recording", rec);
        if (json_dump_file(both, out, JSON_INDENT(1)) != 0) {
            fprintf(stderr, "ripstop verify: cannot write %s\n", out);
            rc = 2;
        }
        json_decref(both);
    }
    json_decref(v);
    json_decref(rec);
    rs_scenario_free(&s);
    return rc;
}

/* A flag's whole number of seconds in [min, 86400]; prints why not and returns -1 otherwise. */
static int seconds_flag(const char *flag, const char *s, int min, int *out) {
    long long v;
    if (rs_parse_int64(s, &v) || v < min || v > 86400) {
        fprintf(stderr, "ripstop verify: %s wants whole seconds (%d..86400), got '%s'\n", flag, min, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int rs_cmd_verify(int argc, char **argv) {
    const char *out = NULL;
    struct live o = {.settle_s = -1, .timeout_s = -1, .kafka_timeout_s = 60};
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"load", required_argument, 0, 'l'},
                                         {"scenario", required_argument, 0, 's'},
                                         {"quick", no_argument, 0, 'q'},
                                         {"brokers", required_argument, 0, 'b'},
                                         {"topic", required_argument, 0, 't'},
                                         {"kafka-sasl-user", required_argument, 0, 'U'},
                                         {"kafka-tls", no_argument, 0, 'T'},
                                         {"kafka-ca", required_argument, 0, 'C'},
                                         {"kafka-timeout", required_argument, 0, 'K'},
                                         {"redis", required_argument, 0, 'r'},
                                         {"settle", required_argument, 0, 'S'},
                                         {"drain-timeout", required_argument, 0, 'D'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': out = optarg; break;
        case 'l': o.load_path = optarg; break;
        case 's': o.scenario_path = optarg; break;
        case 'q': o.quick = 1; break;
        case 'b': o.kafka.brokers = optarg; break;
        case 't': o.topic = optarg; break;
        case 'U': o.kafka.sasl_user = optarg; break;
        case 'T': o.kafka.tls = 1; break;
        case 'C': o.kafka.ca_file = optarg; break;
        case 'K': if (seconds_flag("--kafka-timeout", optarg, 1, &o.kafka_timeout_s)) return 2; break;
        case 'r': o.redis = optarg; break;
        case 'S': if (seconds_flag("--settle", optarg, 0, &o.settle_s)) return 2; break;
        case 'D': if (seconds_flag("--drain-timeout", optarg, 0, &o.timeout_s)) return 2; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (o.load_path || o.scenario_path || o.kafka.brokers || o.redis) {
        if (!o.load_path || !o.scenario_path || !o.kafka.brokers || !o.redis) {
            fprintf(stderr, "ripstop verify: a live verdict needs --load, --scenario, --brokers and --redis\n");
            return 2;
        }
        o.kafka.sasl_password = getenv("RIPSTOP_KAFKA_PASSWORD");
        if (o.kafka.sasl_user && !(o.kafka.sasl_password && *o.kafka.sasl_password)) {
            fprintf(stderr, "ripstop verify: --kafka-sasl-user needs RIPSTOP_KAFKA_PASSWORD in the environment\n");
            return 2;
        }
        return verify_live(&o, out);
    }
    if (optind >= argc) {
        fprintf(stderr, "ripstop verify: which recording? (ripstop verify RECORDING.json)\n");
        return 2;
    }
    return verify_recording(argv[optind], out);
}
