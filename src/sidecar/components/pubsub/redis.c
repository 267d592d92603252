/* SPDX-License-Identifier: MIT */
/* pubsub.redis: Redis Streams (spec §3.3).
 *
 * Publish:   XADD <topic> [MAXLEN ~ maxLenApprox | MINID ~ <now - streamTTL>-1] * data <bytes> metadata <JSON map>
 * Subscribe: XGROUP CREATE <topic> <consumerID> 0 MKSTREAM, then a loop of
 *            XREADGROUP GROUP <consumerID> <consumerID> COUNT <free queue slots> BLOCK 2000 STREAMS <topic> >
 *            on a dedicated connection (the block must not hold up XADD/XACK).
 * Entries wait in a queue of queueDepth and are handed to the runtime by at
 * most `concurrency` at a time.
 *
 * At-least-once: an entry is XACKed only when the runtime acknowledges it
 * with success (the app accepted it, or it was deliberately dropped or
 * dead-lettered). A failed entry stays in the group's pending list; every
 * redeliverInterval, XPENDING (IDLE processingTimeout) lists pending entries
 * idle for at least processingTimeout; they are XCLAIMed and delivered again. (Dapr >= 1.17
 * XACKs failed deliveries too; we keep them, see docs/compatibility.md.) */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/duration.h"
#include "core/json_util.h"
#include "core/log.h"
#include "sidecar/components/pubsub/pubsub.h"
#include "sidecar/components/redis_conn.h"

#define READ_BLOCK_MS "2000"
#define READ_RETRY_MS 1000
#define PROBE_TIMEOUT_MS 2000

typedef struct redis_ps redis_ps_t;
typedef struct sub sub_t;

typedef struct rmsg {
    rs_pubsub_msg_t m;
    sub_t *sub;
    char *id;
    struct rmsg *next; /* in the queue, or in the in-flight list */
    struct rmsg *prev;
} rmsg_t;

struct sub {
    redis_ps_t *ps;
    char *topic;
    rs_pubsub_handler_fn handler;
    void *ctx;
    rs_redis_t *block;             /* XREADGROUP only */
    rs_redis_call_t *read_call;    /* the outstanding XREADGROUP */
    rs_redis_call_t *group_call;   /* the outstanding XGROUP CREATE */
    int group_ready;
    rmsg_t *q_head, *q_tail;       /* read, not yet handed over */
    int queued;
    rmsg_t *busy;                  /* handed to the runtime, not yet acked */
    int inflight;
    int dispatching;
    struct event *read_retry_ev;
    struct event *reclaim_ev;
    rs_redis_call_t *reclaim_call;
    sub_t *next;
};

struct redis_ps {
    rs_component_t *c;
    rs_redis_options_t opt;
    rs_redis_t *cmd;
    char *group;                   /* consumerID: group and consumer name */
    int64_t processing_timeout_ms;
    int64_t redeliver_interval_ms;
    int queue_depth;
    int concurrency;
    long long max_len_approx;
    int64_t stream_ttl_ms;         /* 0 = none */
    int no_idle_filter;            /* the server lacks XPENDING ... IDLE (Redis < 6.2) */
    sub_t *subs;
    int closing;
    char scope[160];
};

static void read_next(sub_t *s);
static void dispatch(sub_t *s);

/* ---- messages ---- */

static void rmsg_free(rmsg_t *r) {
    free(r->m.topic);
    free(r->m.data);
    rs_kvlist_free(&r->m.metadata);
    free(r->id);
    free(r);
}

static void busy_unlink(sub_t *s, rmsg_t *r) {
    if (r->prev) r->prev->next = r->next;
    else s->busy = r->next;
    if (r->next) r->next->prev = r->prev;
    r->next = r->prev = NULL;
}

static void on_xack(void *arg, redisReply *reply, const char *err) {
    sub_t *s = arg;
    if (err && !s->ps->closing)
        RS_WARN(s->ps->scope, "XACK on %s failed: %s (the entry will be redelivered)", s->topic, err);
}

static void msg_ack(rs_pubsub_msg_t *m, int success) {
    rmsg_t *r = (rmsg_t *)m;
    sub_t *s = r->sub;
    busy_unlink(s, r);
    s->inflight--;
    if (success && !s->ps->closing) {
        const char *argv[] = {"XACK", s->topic, s->ps->group, r->id};
        char err[200];
        if (!rs_redis_cmd(s->ps->cmd, on_xack, s, err, sizeof err, 4, argv, NULL))
            RS_WARN(s->ps->scope, "XACK %s %s: %s (the entry will be redelivered)", s->topic, r->id, err);
    }
    rmsg_free(r);
    if (s->ps->closing) return;
    dispatch(s);
    read_next(s);
}

/* Is entry `id` held by this sidecar (queued or being delivered)? Such entries are not reclaimed by ourselves. */
static int held(const sub_t *s, const char *id) {
    for (const rmsg_t *r = s->q_head; r; r = r->next)
        if (strcmp(r->id, id) == 0) return 1;
    for (const rmsg_t *r = s->busy; r; r = r->next)
        if (strcmp(r->id, id) == 0) return 1;
    return 0;
}

/* Builds a message from a stream entry reply [id, [field, value, ...]] and queues it. */
static void enqueue_entry(sub_t *s, const redisReply *entry) {
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 2 || entry->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *id = entry->element[0]->str;
    if (held(s, id)) return;
    rmsg_t *r = rs_xcalloc(1, sizeof *r);
    r->sub = s;
    r->id = rs_strdup(id);
    r->m.topic = rs_strdup(s->topic);
    r->m.ack_ = msg_ack;
    r->m.impl_ = r;
    const redisReply *fields = entry->element[1];
    if (fields->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < fields->elements; i += 2) {
            const redisReply *k = fields->element[i], *v = fields->element[i + 1];
            if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
            if (strcmp(k->str, "data") == 0 && !r->m.data) {
                r->m.data = rs_xmalloc(v->len + 1);
                memcpy(r->m.data, v->str, v->len);
                r->m.data[v->len] = '\0';
                r->m.len = v->len;
            } else if (strcmp(k->str, "metadata") == 0) {
                json_t *md = rs_json_parse(v->str, v->len, NULL, 0);
                const char *mk;
                json_t *mv;
                json_object_foreach(md, mk, mv) {
                    if (json_is_string(mv)) rs_kvlist_set(&r->m.metadata, mk, json_string_value(mv));
                }
                json_decref(md);
            }
        }
    }
    if (!r->m.data) r->m.data = rs_strdup("");
    if (s->q_tail) s->q_tail->next = r;
    else s->q_head = r;
    s->q_tail = r;
    s->queued++;
}

static void dispatch(sub_t *s) {
    if (s->dispatching) return; /* an ack from inside a handler call: the outer loop continues */
    s->dispatching = 1;
    while (!s->ps->closing && s->q_head && s->inflight < s->ps->concurrency) {
        rmsg_t *r = s->q_head;
        s->q_head = r->next;
        if (!s->q_head) s->q_tail = NULL;
        s->queued--;
        r->next = s->busy;
        r->prev = NULL;
        if (s->busy) s->busy->prev = r;
        s->busy = r;
        s->inflight++;
        s->handler(s->ctx, &r->m);
    }
    s->dispatching = 0;
}

/* ---- the read loop ---- */

static void retry_read_later(sub_t *s) {
    struct timeval tv = {READ_RETRY_MS / 1000, (READ_RETRY_MS % 1000) * 1000};
    evtimer_add(s->read_retry_ev, &tv);
}

static void ensure_group(sub_t *s);

static void on_read(void *arg, redisReply *reply, const char *err) {
    sub_t *s = arg;
    s->read_call = NULL;
    if (s->ps->closing) return;
    if (!reply) return; /* connection lost: the state callback starts again when it is back */
    if (err) {
        if (strncmp(err, "NOGROUP", 7) == 0) {
            /* The stream or the group was deleted under us: create them again. */
            s->group_ready = 0;
            ensure_group(s);
            return;
        }
        RS_WARN(s->ps->scope, "XREADGROUP on %s failed: %s", s->topic, err);
        retry_read_later(s);
        return;
    }
    if (reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < reply->elements; i++) {
            const redisReply *stream = reply->element[i];
            if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2) continue;
            const redisReply *entries = stream->element[1];
            if (entries->type != REDIS_REPLY_ARRAY) continue;
            for (size_t k = 0; k < entries->elements; k++) enqueue_entry(s, entries->element[k]);
        }
    }
    dispatch(s);
    read_next(s);
}

static void read_next(sub_t *s) {
    if (s->ps->closing || s->read_call || !s->group_ready || !rs_redis_is_up(s->block)) return;
    int room = s->ps->queue_depth - s->queued;
    if (room <= 0) return; /* msg_ack reads again once the queue drains */
    char count[24];
    snprintf(count, sizeof count, "%d", room);
    const char *argv[] = {"XREADGROUP", "GROUP", s->ps->group, s->ps->group, "COUNT", count, "BLOCK", READ_BLOCK_MS,
                          "STREAMS", s->topic, ">"};
    char err[200];
    s->read_call = rs_redis_cmd(s->block, on_read, s, err, sizeof err, 11, argv, NULL);
    if (!s->read_call) retry_read_later(s);
}

static void on_read_retry(evutil_socket_t fd, short what, void *arg) {
    sub_t *s = arg;
    if (!s->group_ready) ensure_group(s);
    else read_next(s);
}

static void on_group(void *arg, redisReply *reply, const char *err) {
    sub_t *s = arg;
    s->group_call = NULL;
    if (s->ps->closing || !reply) return;
    if (err && strncmp(err, "BUSYGROUP", 9) != 0) {
        RS_ERROR(s->ps->scope, "XGROUP CREATE %s %s: %s", s->topic, s->ps->group, err);
        retry_read_later(s);
        return;
    }
    s->group_ready = 1;
    read_next(s);
}

/* A new group starts at ID 0 and so reads the stream's history, as Dapr's does. */
static void ensure_group(sub_t *s) {
    if (s->ps->closing || s->group_call) return;
    const char *argv[] = {"XGROUP", "CREATE", s->topic, s->ps->group, "0", "MKSTREAM"};
    char err[200];
    s->group_call = rs_redis_cmd(s->block, on_group, s, err, sizeof err, 6, argv, NULL);
    if (!s->group_call) retry_read_later(s);
}

static void on_block_state(void *arg, int up) {
    sub_t *s = arg;
    if (s->ps->closing) return;
    if (up) ensure_group(s);
    else s->group_ready = 0;
}

/* ---- reclaiming pending entries ---- */

static void on_claimed(void *arg, redisReply *reply, const char *err);

static void on_pending(void *arg, redisReply *reply, const char *err) {
    sub_t *s = arg;
    s->reclaim_call = NULL;
    if (s->ps->closing || !reply) return;
    if (err || reply->type != REDIS_REPLY_ARRAY) {
        if (err && !s->ps->no_idle_filter && strncmp(err, "NOGROUP", 7) != 0) {
            /* Redis < 6.2 has no XPENDING IDLE: list the oldest entries and filter here. */
            s->ps->no_idle_filter = 1;
            RS_INFO(s->ps->scope, "XPENDING IDLE not supported (%s); filtering pending entries client-side", err);
        } else if (err && strncmp(err, "NOGROUP", 7) != 0) {
            RS_WARN(s->ps->scope, "XPENDING on %s failed: %s", s->topic, err);
        }
        return;
    }
    char mi[24];
    snprintf(mi, sizeof mi, "%lld", (long long)s->ps->processing_timeout_ms);
    size_t max = reply->elements;
    const char **argv = rs_xcalloc(5 + max, sizeof *argv);
    int argc = 0;
    argv[argc++] = "XCLAIM";
    argv[argc++] = s->topic;
    argv[argc++] = s->ps->group;
    argv[argc++] = s->ps->group;
    argv[argc++] = mi;
    for (size_t i = 0; i < max; i++) {
        const redisReply *p = reply->element[i];
        /* [id, consumer, idle ms, delivery count] */
        if (p->type != REDIS_REPLY_ARRAY || p->elements < 4 || p->element[0]->type != REDIS_REPLY_STRING) continue;
        if (p->element[2]->type != REDIS_REPLY_INTEGER || p->element[2]->integer < s->ps->processing_timeout_ms) continue;
        if (held(s, p->element[0]->str)) continue;
        argv[argc++] = p->element[0]->str;
    }
    if (argc > 5) {
        char e[200];
        s->reclaim_call = rs_redis_cmd(s->ps->cmd, on_claimed, s, e, sizeof e, argc, argv, NULL);
        if (!s->reclaim_call) RS_WARN(s->ps->scope, "XCLAIM on %s: %s", s->topic, e);
    }
    free(argv);
}

static void on_claimed(void *arg, redisReply *reply, const char *err) {
    sub_t *s = arg;
    s->reclaim_call = NULL;
    if (s->ps->closing || !reply) return;
    if (err || reply->type != REDIS_REPLY_ARRAY) {
        if (err) RS_WARN(s->ps->scope, "XCLAIM on %s failed: %s", s->topic, err);
        return;
    }
    int n = 0;
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_ARRAY) continue; /* nil: the entry was deleted (Redis < 7) */
        if (e->elements >= 2 && e->element[1]->type != REDIS_REPLY_ARRAY && e->element[0]->type == REDIS_REPLY_STRING) {
            /* deleted entry with a nil body: nothing to deliver, acknowledge it */
            const char *argv[] = {"XACK", s->topic, s->ps->group, e->element[0]->str};
            char er[200];
            rs_redis_cmd(s->ps->cmd, on_xack, s, er, sizeof er, 4, argv, NULL);
            continue;
        }
        enqueue_entry(s, e);
        n++;
    }
    if (n) RS_INFO(s->ps->scope, "redelivering %d pending entr%s of topic %s idle for >= %lld ms", n, n == 1 ? "y" : "ies",
                   s->topic, (long long)s->ps->processing_timeout_ms);
    dispatch(s);
}

static void on_reclaim_timer(evutil_socket_t fd, short what, void *arg) {
    sub_t *s = arg;
    if (s->ps->closing || s->reclaim_call || !rs_redis_is_up(s->ps->cmd)) return;
    char count[24], idle[24];
    snprintf(count, sizeof count, "%d", s->ps->queue_depth);
    snprintf(idle, sizeof idle, "%lld", (long long)s->ps->processing_timeout_ms);
    char err[200];
    if (s->ps->no_idle_filter) {
        const char *argv[] = {"XPENDING", s->topic, s->ps->group, "-", "+", count};
        s->reclaim_call = rs_redis_cmd(s->ps->cmd, on_pending, s, err, sizeof err, 6, argv, NULL);
    } else {
        /* Only entries idle long enough, so a head of slow in-flight entries cannot hide idle ones behind it. */
        const char *argv[] = {"XPENDING", s->topic, s->ps->group, "IDLE", idle, "-", "+", count};
        s->reclaim_call = rs_redis_cmd(s->ps->cmd, on_pending, s, err, sizeof err, 8, argv, NULL);
    }
}

/* ---- ops ---- */

typedef struct {
    rs_pubsub_publish_cb done;
    void *arg;
    redis_ps_t *ps;
} pub_t;

static void on_xadd(void *arg, redisReply *reply, const char *err) {
    pub_t *p = arg;
    /* While closing, nobody is left to answer: drop the completion. */
    if (!p->ps->closing) p->done(p->arg, err == NULL, err);
    free(p);
}

static void ps_publish(rs_component_t *c, const char *topic, const void *data, size_t len, const rs_kvlist_t *metadata,
                       rs_pubsub_publish_cb done, void *arg) {
    redis_ps_t *ps = c->impl;
    json_t *md = json_object();
    for (size_t i = 0; metadata && i < metadata->len; i++)
        json_object_set_new(md, metadata->items[i].key, json_string(metadata->items[i].value));
    char *mdtext = json_dumps(md, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(md);
    if (!mdtext) mdtext = rs_strdup("{}"); /* a value that is not UTF-8 */
    const char *argv[10];
    size_t lens[10];
    int argc = 0;
    char maxlen[24];
#define ARG(s, n) (argv[argc] = (s), lens[argc] = (n), argc++)
    ARG("XADD", 4);
    ARG(topic, strlen(topic));
    if (ps->max_len_approx > 0) {
        snprintf(maxlen, sizeof maxlen, "%lld", ps->max_len_approx);
        ARG("MAXLEN", 6);
        ARG("~", 1);
        ARG(maxlen, strlen(maxlen));
    } else if (ps->stream_ttl_ms > 0) {
        /* Trim entries older than streamTTL, as Dapr does: MINID ~ <now - ttl>-1 */
        snprintf(maxlen, sizeof maxlen, "%lld-1", (long long)(rs_wall_ms() - ps->stream_ttl_ms));
        ARG("MINID", 5);
        ARG("~", 1);
        ARG(maxlen, strlen(maxlen));
    }
    ARG("*", 1);
    ARG("data", 4);
    ARG(data, len);
    ARG("metadata", 8);
    ARG(mdtext, strlen(mdtext));
#undef ARG
    pub_t *p = rs_xcalloc(1, sizeof *p);
    p->done = done;
    p->arg = arg;
    p->ps = ps;
    char err[256];
    if (!rs_redis_cmd(ps->cmd, on_xadd, p, err, sizeof err, argc, argv, lens)) {
        free(p);
        done(arg, 0, err);
    }
    free(mdtext);
}

static int ps_subscribe(rs_component_t *c, const char *topic, rs_pubsub_handler_fn handler, void *ctx, char *err,
                        size_t errlen) {
    redis_ps_t *ps = c->impl;
    for (sub_t *o = ps->subs; o; o = o->next)
        if (strcmp(o->topic, topic) == 0) {
            snprintf(err, errlen, "already subscribed to topic %s", topic);
            return -1;
        }
    sub_t *s = rs_xcalloc(1, sizeof *s);
    s->ps = ps;
    s->topic = rs_strdup(topic);
    s->handler = handler;
    s->ctx = ctx;
    struct event_base *base = c->host->base;
    s->read_retry_ev = evtimer_new(base, on_read_retry, s);
    s->reclaim_ev = event_new(base, -1, EV_PERSIST, on_reclaim_timer, s);
    s->next = ps->subs;
    ps->subs = s;
    char scope[200];
    snprintf(scope, sizeof scope, "%s reader %s", ps->scope, topic);
    s->block = rs_redis_new(base, &ps->opt, scope);
    rs_redis_on_state(s->block, on_block_state, s);
    if (ps->processing_timeout_ms > 0 && ps->redeliver_interval_ms > 0) {
        struct timeval tv = {ps->redeliver_interval_ms / 1000, (ps->redeliver_interval_ms % 1000) * 1000};
        event_add(s->reclaim_ev, &tv);
    }
    return 0;
}

static int meta_int(const rs_component_t *c, const char *name, long long def, long long *out, char *err, size_t errlen) {
    const char *v = rs_component_meta(c, name);
    *out = def;
    if (!v || !*v) return 0;
    if (rs_parse_int64(v, out) != 0 || *out < 0) {
        snprintf(err, errlen, "invalid %s: %s", name, v);
        return -1;
    }
    return 0;
}

static int meta_duration(const rs_component_t *c, const char *name, int64_t def, int64_t *out, char *err,
                         size_t errlen) {
    const char *v = rs_component_meta(c, name);
    *out = def;
    if (!v || !*v) return 0;
    if (rs_duration_parse_ms_default(v, out) != 0 || *out < 0) {
        snprintf(err, errlen, "invalid %s: %s (use milliseconds or a duration such as 10s)", name, v);
        return -1;
    }
    return 0;
}

static void ps_close(rs_component_t *c);

static int ps_init(rs_component_t *c, char *err, size_t errlen) {
    redis_ps_t *ps = rs_xcalloc(1, sizeof *ps);
    c->impl = ps;
    ps->c = c;
    snprintf(ps->scope, sizeof ps->scope, "pubsub.redis %s", c->name);
    if (rs_redis_options_parse(&ps->opt, &c->metadata, err, errlen) != 0) return -1;
    long long qd, conc;
    if (meta_duration(c, "processingTimeout", 60000, &ps->processing_timeout_ms, err, errlen) != 0 ||
        meta_duration(c, "redeliverInterval", 15000, &ps->redeliver_interval_ms, err, errlen) != 0 ||
        meta_int(c, "queueDepth", 100, &qd, err, errlen) != 0 || meta_int(c, "concurrency", 10, &conc, err, errlen) != 0 ||
        meta_int(c, "maxLenApprox", 0, &ps->max_len_approx, err, errlen) != 0 ||
        meta_duration(c, "streamTTL", 0, &ps->stream_ttl_ms, err, errlen) != 0)
        return -1;
    ps->queue_depth = qd > 0 && qd < 100000 ? (int)qd : 100;
    ps->concurrency = conc > 0 && conc < 10000 ? (int)conc : 10;
    const char *cid = rs_component_meta(c, "consumerID");
    if (!cid || !*cid) cid = c->host && c->host->app_id ? c->host->app_id : "ripstop";
    ps->group = rs_strdup(cid);
    /* Dapr fails the component when Redis is unreachable at start-up. */
    if (rs_redis_probe(&ps->opt, PROBE_TIMEOUT_MS, NULL, err, errlen) != 0) return -1;
    ps->cmd = rs_redis_new(c->host->base, &ps->opt, ps->scope);
    return 0;
}

static void ps_close(rs_component_t *c) {
    redis_ps_t *ps = c->impl;
    if (!ps) return;
    ps->closing = 1;
    /* The command connection first: its pending callbacks (XACK, XPENDING, XCLAIM) still point at subscriptions. */
    rs_redis_free(ps->cmd);
    ps->cmd = NULL;
    while (ps->subs) {
        sub_t *s = ps->subs;
        ps->subs = s->next;
        rs_redis_free(s->block);
        event_free(s->read_retry_ev);
        event_free(s->reclaim_ev);
        while (s->q_head) {
            rmsg_t *r = s->q_head;
            s->q_head = r->next;
            rmsg_free(r);
        }
        /* Entries still with the runtime were nacked by its shutdown hook; anything left is freed here. */
        while (s->busy) {
            rmsg_t *r = s->busy;
            s->busy = r->next;
            rmsg_free(r);
        }
        free(s->topic);
        free(s);
    }
    rs_redis_options_free(&ps->opt);
    free(ps->group);
    free(ps);
    c->impl = NULL;
}

static const rs_pubsub_ops_t ops = {.publish = ps_publish, .subscribe = ps_subscribe};

const rs_component_type_t rs_pubsub_redis_type = {
    .type = "pubsub.redis",
    .kind = RS_KIND_PUBSUB,
    .init = ps_init,
    .close = ps_close,
    .ops = &ops,
};
