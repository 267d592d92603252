/* SPDX-License-Identifier: MIT */
/* Consumer group on the event loop: poll with zero timeout when librdkafka
 * signals the consumer queue, keep a small FIFO per partition, hand one
 * message per partition to the runtime at a time, store offsets on success.
 *
 * Messages are copied out of librdkafka right away, so nothing we hold pins
 * librdkafka's handle (a late ack after close only frees our copy). When a
 * partition's FIFO grows past PAUSE_AT messages or PAUSE_BYTES (a slow or
 * failing app) the partition is paused in librdkafka; it resumes once the FIFO
 * drains to RESUME_AT messages and a quarter of PAUSE_BYTES. Pausing discards
 * what librdkafka prefetched, and fetching resumes after the last message we
 * polled, so nothing is lost. The resume threshold is high on purpose: the
 * refetch after a resume takes up to ~100 ms, and a FIFO that runs dry meanwhile
 * stalls the partition (with 32 left, a busy partition fell to ~300 msg/s). */
#include "kafka_consumer.h"
#include "sidecar/components/pubsub/kafka_lib.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "sidecar/components/pubsub/kafka_loop.h"

#define PAUSE_AT 2000
#define RESUME_AT 500
#define PAUSE_BYTES (16u << 20)
#define POLL_BATCH 256

struct kmsg {
    struct kmsg *next;
    int64_t offset;
    int64_t timestamp;
    char *key; /* NUL-terminated copy; "" when the record has no key */
    char *data;
    size_t len;
    rs_kvlist_t headers;
};

struct part {
    struct part *next;
    rs_kafka_consumer_t *k; /* NULL once orphaned (revoked or closed while its message is with the handler) */
    char *topic;
    int32_t partition;
    struct kmsg *head, *tail;
    size_t qlen, qbytes;
    struct kmsg *current; /* the message with the handler, or waiting for redelivery */
    int busy;             /* current is with the handler */
    int backoff;          /* current waits for its redelivery timer */
    int attempts;         /* failed deliveries of current */
    int paused;
    struct event *kick_ev;  /* runs dispatch on the next loop turn */
    struct event *retry_ev; /* redelivery timer (kept apart so a pending kick cannot cut a back-off short) */
};

struct sub {
    char *topic;
    rs_pubsub_handler_fn fn;
    void *ctx;
};

struct rs_kafka_consumer {
    struct event_base *base;
    const rs_kafka_config_t *cfg;
    char *scope;
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    rs_kafka_watch_t *watch;
    struct sub *subs;
    size_t nsubs;
    struct part *parts;
};

/* What the runtime holds: the public message plus the partition it came from. */
struct delivery {
    rs_pubsub_msg_t msg;
    struct part *p;
};

static void kmsg_free(struct kmsg *m) {
    if (!m) return;
    free(m->key);
    free(m->data);
    rs_kvlist_free(&m->headers);
    free(m);
}

static struct kmsg *kmsg_copy(const rd_kafka_message_t *rm) {
    struct kmsg *m = rs_xcalloc(1, sizeof *m);
    m->offset = rm->offset;
    rd_kafka_timestamp_type_t tstype;
    m->timestamp = rs_rk.message_timestamp(rm, &tstype);
    m->key = rs_xmalloc(rm->key_len + 1);
    if (rm->key_len) memcpy(m->key, rm->key, rm->key_len);
    m->key[rm->key_len] = 0;
    m->len = rm->len;
    m->data = rs_xmalloc(rm->len + 1);
    if (rm->len) memcpy(m->data, rm->payload, rm->len);
    m->data[rm->len] = 0;
    rd_kafka_headers_t *hdrs;
    if (rs_rk.message_headers(rm, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *val;
        size_t size;
        for (size_t i = 0; rs_rk.header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
            char *v = rs_xmalloc(size + 1);
            if (size) memcpy(v, val, size);
            v[size] = 0;
            rs_kvlist_set(&m->headers, name, v);
            free(v);
        }
    }
    return m;
}

static void part_free(struct part *p) {
    while (p->head) {
        struct kmsg *n = p->head->next;
        kmsg_free(p->head);
        p->head = n;
    }
    kmsg_free(p->current);
    if (p->kick_ev) event_free(p->kick_ev);
    if (p->retry_ev) event_free(p->retry_ev);
    free(p->topic);
    free(p);
}

static struct sub *find_sub(rs_kafka_consumer_t *k, const char *topic) {
    for (size_t i = 0; i < k->nsubs; i++)
        if (strcmp(k->subs[i].topic, topic) == 0) return &k->subs[i];
    return NULL;
}

static void set_paused(struct part *p, int pause) {
    rd_kafka_topic_partition_list_t *l = rs_rk.topic_partition_list_new(1);
    rs_rk.topic_partition_list_add(l, p->topic, p->partition);
    rd_kafka_resp_err_t e = pause ? rs_rk.pause_partitions(p->k->rk, l) : rs_rk.resume_partitions(p->k->rk, l);
    rs_rk.topic_partition_list_destroy(l);
    if (e) {
        RS_WARN(p->k->scope, "%s partition %s[%d]: %s", pause ? "pause" : "resume", p->topic, p->partition,
                rs_rk.err2str(e));
        return;
    }
    p->paused = pause;
    RS_DEBUG(p->k->scope, "%s %s[%d] (%zu queued)", pause ? "paused" : "resumed", p->topic, p->partition, p->qlen);
}

static void on_ack(rs_pubsub_msg_t *m, int success);

static void kick(struct part *p) {
    if (!p->backoff) event_active(p->kick_ev, EV_TIMEOUT, 0);
}

/* Hands the partition's next message to the handler if none is out. Runs from the loop (never from inside an
 * ack), so a handler that acks synchronously cannot recurse through a whole backlog. */
static void dispatch(struct part *p) {
    rs_kafka_consumer_t *k = p->k;
    if (p->busy || p->backoff) return;
    if (!p->current && p->head) {
        p->current = p->head;
        p->head = p->head->next;
        if (!p->head) p->tail = NULL;
        p->current->next = NULL;
        p->qlen--;
        p->qbytes -= p->current->len;
        p->attempts = 0;
    }
    if (p->paused && p->qlen <= RESUME_AT && p->qbytes <= PAUSE_BYTES / 4) set_paused(p, 0);
    if (!p->current) return;
    struct sub *s = find_sub(k, p->topic);
    if (!s) { /* cannot happen: we only subscribe to topics with a handler */
        RS_WARN(k->scope, "no handler for %s; skipping offset %" PRId64, p->topic, p->current->offset);
        kmsg_free(p->current);
        p->current = NULL;
        kick(p);
        return;
    }
    struct kmsg *c = p->current;
    struct delivery *d = rs_xcalloc(1, sizeof *d);
    d->p = p;
    d->msg.topic = rs_strdup(p->topic);
    d->msg.data = rs_xmalloc(c->len + 1);
    memcpy(d->msg.data, c->data, c->len + 1);
    d->msg.len = c->len;
    char num[32];
    rs_kvlist_set(&d->msg.metadata, "__key", c->key);
    rs_kvlist_set(&d->msg.metadata, "__topic", p->topic);
    snprintf(num, sizeof num, "%" PRId32, p->partition);
    rs_kvlist_set(&d->msg.metadata, "__partition", num);
    snprintf(num, sizeof num, "%" PRId64, c->offset);
    rs_kvlist_set(&d->msg.metadata, "__offset", num);
    snprintf(num, sizeof num, "%" PRId64, c->timestamp);
    rs_kvlist_set(&d->msg.metadata, "__timestamp", num);
    for (size_t i = 0; i < c->headers.len; i++)
        rs_kvlist_set(&d->msg.metadata, c->headers.items[i].key, c->headers.items[i].value);
    d->msg.ack_ = on_ack;
    d->msg.impl_ = d;
    p->busy = 1;
    s->fn(s->ctx, &d->msg);
}

static void on_kick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    dispatch(arg); /* does nothing while a back-off runs */
}

static void on_retry(evutil_socket_t fd, short what, void *arg) {
    struct part *p = arg;
    (void)fd;
    (void)what;
    p->backoff = 0;
    dispatch(p);
}

static void store_offset(struct part *p, int64_t next) {
    rd_kafka_topic_partition_list_t *l = rs_rk.topic_partition_list_new(1);
    rs_rk.topic_partition_list_add(l, p->topic, p->partition)->offset = next;
    rd_kafka_resp_err_t e = rs_rk.offsets_store(p->k->rk, l);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && l->elems[0].err) e = l->elems[0].err;
    rs_rk.topic_partition_list_destroy(l);
    if (e) RS_WARN(p->k->scope, "store offset %s[%d]@%" PRId64 ": %s", p->topic, p->partition, next, rs_rk.err2str(e));
}

static void on_ack(rs_pubsub_msg_t *m, int success) {
    struct delivery *d = m->impl_;
    struct part *p = d->p;
    free(m->topic);
    free(m->data);
    rs_kvlist_free(&m->metadata);
    free(d);
    p->busy = 0;
    if (!p->k) { /* revoked or closed meanwhile: the next owner redelivers from the committed offset */
        part_free(p);
        return;
    }
    rs_kafka_consumer_t *k = p->k;
    if (success) {
        store_offset(p, p->current->offset + 1);
        kmsg_free(p->current);
        p->current = NULL;
        kick(p);
        return;
    }
    p->attempts++;
    const rs_kafka_retry_t *r = &k->cfg->retry;
    if (r->enabled && (r->max_retries < 0 || p->attempts <= r->max_retries)) {
        int64_t ms = rs_kafka_retry_delay_ms(r, p->attempts);
        RS_DEBUG(k->scope, "redelivering %s[%d]@%" PRId64 " in %lldms (attempt %d)", p->topic, p->partition,
                 p->current->offset, (long long)ms, p->attempts + 1);
        struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
        p->backoff = 1;
        evtimer_add(p->retry_ev, &tv);
        return;
    }
    RS_WARN(k->scope, "giving up on %s[%d]@%" PRId64 " after %d failed deliveries; moving on", p->topic, p->partition,
            p->current->offset, p->attempts);
    kmsg_free(p->current);
    p->current = NULL;
    kick(p);
}

static struct part *find_part(rs_kafka_consumer_t *k, const char *topic, int32_t partition, int create) {
    for (struct part *p = k->parts; p; p = p->next)
        if (p->partition == partition && strcmp(p->topic, topic) == 0) return p;
    if (!create) return NULL;
    struct part *p = rs_xcalloc(1, sizeof *p);
    p->k = k;
    p->topic = rs_strdup(topic);
    p->partition = partition;
    p->kick_ev = evtimer_new(k->base, on_kick, p);
    p->retry_ev = evtimer_new(k->base, on_retry, p);
    p->next = k->parts;
    k->parts = p;
    return p;
}

/* Forgets a partition: queued copies are dropped (the next owner reads them again from the committed offset);
 * a message still with the handler keeps the struct alive until its ack. */
static void release_part(rs_kafka_consumer_t *k, struct part *p) {
    for (struct part **pp = &k->parts; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    if (!p->busy) {
        part_free(p);
        return;
    }
    p->k = NULL;
    event_free(p->kick_ev);
    event_free(p->retry_ev);
    p->kick_ev = p->retry_ev = NULL;
    while (p->head) {
        struct kmsg *n = p->head->next;
        kmsg_free(p->head);
        p->head = n;
    }
    p->tail = NULL;
    p->qlen = 0;
    p->qbytes = 0;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque) {
    rs_kafka_consumer_t *k = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) find_part(k, parts->elems[i].topic, parts->elems[i].partition, 1);
        RS_INFO(k->scope, "assigned %d partition(s) in group %s", parts->cnt, k->cfg->consumer_group);
        rs_rk.assign(rk, parts);
    } else {
        for (int i = 0; i < parts->cnt; i++) {
            struct part *p = find_part(k, parts->elems[i].topic, parts->elems[i].partition, 0);
            if (p) release_part(k, p);
        }
        RS_INFO(k->scope, "revoked %d partition(s) (%s)", parts->cnt, rs_rk.err2name(err));
        rs_rk.assign(rk, NULL);
    }
}

static void serve(void *arg) {
    rs_kafka_consumer_t *k = arg;
    for (int i = 0; i < POLL_BATCH; i++) {
        rd_kafka_message_t *rm = rs_rk.consumer_poll(k->rk, 0);
        if (!rm) return;
        if (rm->err) {
            if (rm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                RS_WARN(k->scope, "consume: %s", rs_rk.message_errstr(rm));
            rs_rk.message_destroy(rm);
            continue;
        }
        struct part *p = find_part(k, rs_rk.topic_name(rm->rkt), rm->partition, 1);
        struct kmsg *m = kmsg_copy(rm);
        rs_rk.message_destroy(rm);
        if (p->tail) p->tail->next = m;
        else p->head = m;
        p->tail = m;
        p->qlen++;
        p->qbytes += m->len;
        if ((p->qlen >= PAUSE_AT || p->qbytes >= PAUSE_BYTES) && !p->paused) set_paused(p, 1);
        dispatch(p);
    }
    rs_kafka_watch_kick(k->watch); /* more may be waiting: continue on the next loop turn */
}

rs_kafka_consumer_t *rs_kafka_consumer_new(struct event_base *base, const rs_kafka_config_t *cfg, const char *scope,
                                           char *err, size_t errlen) {
    if (!cfg->consumer_group) {
        snprintf(err, errlen, "kafka: no consumerGroup, consumerID or app id to name the consumer group");
        return NULL;
    }
    rs_kafka_consumer_t *k = rs_xcalloc(1, sizeof *k);
    k->base = base;
    k->cfg = cfg;
    k->scope = rs_strdup(scope);
    rd_kafka_conf_t *conf = rs_kafka_conf_new(err, errlen);
    if (!conf) {
        rs_kafka_consumer_free(k);
        return NULL;
    }
    if (rs_kafka_conf_apply(conf, &cfg->common, err, errlen) || rs_kafka_conf_apply(conf, &cfg->consumer, err, errlen)) {
        rs_rk.conf_destroy(conf);
        rs_kafka_consumer_free(k);
        return NULL;
    }
    rs_kafka_conf_logging(conf);
    rs_rk.conf_set_rebalance_cb(conf, on_rebalance);
    rs_rk.conf_set_opaque(conf, k);
    char e[256];
    k->rk = rs_rk.new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (!k->rk) {
        rs_rk.conf_destroy(conf);
        snprintf(err, errlen, "kafka: consumer: %s", e);
        rs_kafka_consumer_free(k);
        return NULL;
    }
    rs_kafka_logs_to_main(k->rk);
    rs_rk.poll_set_consumer(k->rk); /* logs, errors and rebalances arrive with the messages */
    k->q = rs_rk.queue_get_consumer(k->rk);
    k->watch = rs_kafka_watch_new(base, k->q, serve, k);
    if (!k->watch) {
        snprintf(err, errlen, "kafka: cannot create a wake-up pipe");
        rs_kafka_consumer_free(k);
        return NULL;
    }
    return k;
}

int rs_kafka_consumer_subscribe(rs_kafka_consumer_t *k, const char *topic, rs_pubsub_handler_fn handler, void *ctx,
                                char *err, size_t errlen) {
    struct sub *s = find_sub(k, topic);
    if (s) {
        s->fn = handler;
        s->ctx = ctx;
        return 0;
    }
    k->subs = rs_xrealloc(k->subs, (k->nsubs + 1) * sizeof *k->subs);
    k->subs[k->nsubs++] = (struct sub){rs_strdup(topic), handler, ctx};
    rd_kafka_topic_partition_list_t *l = rs_rk.topic_partition_list_new((int)k->nsubs);
    for (size_t i = 0; i < k->nsubs; i++)
        rs_rk.topic_partition_list_add(l, k->subs[i].topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rs_rk.subscribe(k->rk, l);
    rs_rk.topic_partition_list_destroy(l);
    if (e) {
        snprintf(err, errlen, "kafka: subscribe %s: %s", topic, rs_rk.err2str(e));
        free(k->subs[--k->nsubs].topic);
        return -1;
    }
    RS_INFO(k->scope, "subscribed to %s (group %s)", topic, k->cfg->consumer_group);
    return 0;
}

/* Commits stored offsets and leaves the group, so a restarted subscriber gets the partitions at once; the revoke
 * runs on_rebalance, which orphans partitions with a message still out. rd_kafka_consumer_close would wait
 * ~11 s with the brokers down, so the close is bounded: after CLOSE_WAIT_MS the group finds out by itself
 * (sessionTimeout) and uncommitted messages are redelivered — at-least-once either way. */
#define CLOSE_WAIT_MS 2000
static void close_bounded(rs_kafka_consumer_t *k) {
    rd_kafka_queue_t *cq = rs_rk.queue_new(k->rk);
    rd_kafka_error_t *e = rs_rk.consumer_close_queue(k->rk, cq);
    if (e) {
        RS_WARN(k->scope, "close: %s", rs_rk.error_string(e));
        rs_rk.error_destroy(e);
    } else {
        int64_t deadline = rs_now_ms() + CLOSE_WAIT_MS;
        /* Served as events, not callbacks: a fetched message still forwarded to this queue would make
         * rd_kafka_queue_poll_callback abort (librdkafka asserts on an op it cannot serve). A message dropped
         * here was never acked, so its offset was never stored: it is redelivered (at-least-once). */
        while (!rs_rk.consumer_closed(k->rk) && rs_now_ms() < deadline) {
            rd_kafka_event_t *ev = rs_rk.queue_poll(cq, 50);
            if (!ev) continue;
            if (rs_rk.event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
                on_rebalance(k->rk, rs_rk.event_error(ev), rs_rk.event_topic_partition_list(ev), k);
            rs_rk.event_destroy(ev);
        }
        if (!rs_rk.consumer_closed(k->rk))
            RS_WARN(k->scope, "leaving group %s timed out after %d ms", k->cfg->consumer_group, CLOSE_WAIT_MS);
    }
    rs_rk.queue_destroy(cq);
}

static void *destroy_main(void *rk) {
    rs_rk.destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return NULL;
}

/* rd_kafka_destroy waits for librdkafka's group machinery, ~8 s more when the coordinator is unreachable. At
 * shutdown that is not worth holding the process for: wait DESTROY_WAIT_S, then let it finish on its own thread
 * (no callback of ours runs there: the consumer is closed and NO_CONSUMER_CLOSE skips the rebalance). */
#define DESTROY_WAIT_S 1
static void destroy_bounded(rs_kafka_consumer_t *k) {
    pthread_t th;
    if (pthread_create(&th, NULL, destroy_main, k->rk) != 0) {
        destroy_main(k->rk);
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += DESTROY_WAIT_S;
    if (pthread_timedjoin_np(th, NULL, &until) != 0) {
        RS_WARN(k->scope, "librdkafka is still shutting down; not waiting for it");
        pthread_detach(th);
    }
}

void rs_kafka_consumer_free(rs_kafka_consumer_t *k) {
    if (!k) return;
    if (k->rk) close_bounded(k);
    rs_kafka_watch_free(k->watch);
    while (k->parts) release_part(k, k->parts);
    if (k->q) rs_rk.queue_destroy(k->q);
    if (k->rk) destroy_bounded(k);
    for (size_t i = 0; i < k->nsubs; i++) free(k->subs[i].topic);
    free(k->subs);
    free(k->scope);
    free(k);
}
