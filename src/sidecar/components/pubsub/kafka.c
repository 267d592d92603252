/* SPDX-License-Identifier: MIT */
/* pubsub.kafka: Dapr's Kafka pub/sub on librdkafka (spec §3.4, design notes in
 * docs/internals/kafka.md).
 *
 * Publish produces asynchronously; the delivery report (served on the event
 * loop through the producer's main queue) calls `done`. Subscribe joins a
 * consumer group lazily on the first topic (kafka_consumer.c). Nothing here
 * blocks the loop except close, which waits for the group to be left. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sidecar/components/pubsub/kafka_lib.h"
#include "sidecar/components/pubsub/kafka_config.h"
#include "sidecar/components/pubsub/kafka_consumer.h"
#include "sidecar/components/pubsub/kafka_loop.h"
#include "sidecar/components/pubsub/pubsub.h"

#define SCOPE "pubsub.kafka"
#define DR_BATCH 1024

typedef struct {
    rs_component_t *c;
    struct event_base *base;
    char *scope; /* "pubsub.kafka/<name>" */
    rs_kafka_config_t cfg;
    rd_kafka_t *producer;
    rd_kafka_queue_t *pq;
    rs_kafka_watch_t *pwatch;
    rs_kafka_consumer_t *consumer;
} kafka_t;

/* One publish in flight: librdkafka hands it back in the delivery report. */
typedef struct {
    rs_pubsub_publish_cb done;
    void *arg;
    char err[256];
} pub_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rm, void *opaque) {
    pub_t *p = rm->_private;
    (void)rk;
    (void)opaque;
    if (!p) return;
    if (rm->err) {
        snprintf(p->err, sizeof p->err, "kafka: publish to %s: %s", rs_rk.topic_name(rm->rkt),
                 rs_rk.err2str(rm->err));
        p->done(p->arg, 0, p->err);
    } else {
        p->done(p->arg, 1, NULL);
    }
    free(p);
}

static void serve_producer(void *arg) {
    kafka_t *k = arg;
    for (int i = 0; i < DR_BATCH; i++)
        if (rs_rk.poll(k->producer, 0) == 0) return;
    rs_kafka_watch_kick(k->pwatch);
}

/* A publish that failed before reaching librdkafka still completes from the loop, never inside publish(). */
static void on_deferred_fail(evutil_socket_t fd, short what, void *arg) {
    pub_t *p = arg;
    (void)fd;
    (void)what;
    p->done(p->arg, 0, p->err);
    free(p);
}

static void kafka_publish(rs_component_t *c, const char *topic, const void *data, size_t len,
                          const rs_kvlist_t *metadata, rs_pubsub_publish_cb done, void *arg) {
    kafka_t *k = c->impl;
    pub_t *p = rs_xcalloc(1, sizeof *p);
    p->done = done;
    p->arg = arg;
    const char *key = NULL;
    int32_t partition = RD_KAFKA_PARTITION_UA;
    rd_kafka_headers_t *hdrs = NULL;
    if (metadata && metadata->len) {
        key = rs_kvlist_get(metadata, "partitionKey");
        if (!key) key = rs_kvlist_get(metadata, "__key");
        const char *pn = rs_kvlist_get(metadata, "partitionNumber");
        long long v;
        if (pn) {
            if (rs_parse_int64(pn, &v) || v < 0 || v > INT32_MAX) {
                snprintf(p->err, sizeof p->err, "kafka: partitionNumber '%s' is not a partition number", pn);
                goto fail;
            }
            partition = (int32_t)v;
        }
        hdrs = rs_rk.headers_new(metadata->len);
        for (size_t i = 0; i < metadata->len; i++)
            rs_rk.header_add(hdrs, metadata->items[i].key, -1, metadata->items[i].value, -1);
    }
    rd_kafka_resp_err_t e = rs_rk.producev(
        k->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE((void *)data, len), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(p), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return; /* the headers now belong to librdkafka */
    snprintf(p->err, sizeof p->err, "kafka: publish to %s: %s", topic, rs_rk.err2str(e));
fail:
    if (hdrs) rs_rk.headers_destroy(hdrs);
    RS_DEBUG(k->scope, "%s", p->err);
    if (event_base_once(k->base, -1, EV_TIMEOUT, on_deferred_fail, p, &(struct timeval){0, 0}) != 0) {
        done(arg, 0, p->err); /* could not defer (out of memory in libevent): report now rather than never */
        free(p);
    }
}

static int kafka_subscribe(rs_component_t *c, const char *topic, rs_pubsub_handler_fn handler, void *ctx, char *err,
                           size_t errlen) {
    kafka_t *k = c->impl;
    if (!topic || !*topic) {
        snprintf(err, errlen, "kafka: empty topic");
        return -1;
    }
    if (!k->consumer) {
        k->consumer = rs_kafka_consumer_new(k->base, &k->cfg, k->scope, err, errlen);
        if (!k->consumer) return -1;
    }
    return rs_kafka_consumer_subscribe(k->consumer, topic, handler, ctx, err, errlen);
}

static void kafka_close(rs_component_t *c) {
    kafka_t *k = c->impl;
    if (!k) return;
    rs_kafka_consumer_free(k->consumer);
    if (k->producer) {
        /* Fail what is still queued (their callers get done(ok=0) now) instead of waiting out the timeout. */
        rs_rk.purge(k->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rs_rk.flush(k->producer, 100);
        while (rs_rk.poll(k->producer, 0) > 0) {
        }
    }
    rs_kafka_watch_free(k->pwatch);
    if (k->pq) rs_rk.queue_destroy(k->pq);
    if (k->producer) rs_rk.destroy(k->producer);
    rs_kafka_config_free(&k->cfg);
    free(k->scope);
    free(k);
    c->impl = NULL;
}

static int kafka_init(rs_component_t *c, char *err, size_t errlen) {
    kafka_t *k = rs_xcalloc(1, sizeof *k);
    c->impl = k;
    k->c = c;
    k->base = c->host->base;
    size_t n = strlen(SCOPE) + strlen(c->name) + 2;
    k->scope = rs_xmalloc(n);
    snprintf(k->scope, n, "%s/%s", SCOPE, c->name);
    if (rs_kafka_config_parse(&c->metadata, c->host->app_id, &k->cfg, err, errlen)) return -1;

    rd_kafka_conf_t *conf = rs_kafka_conf_new(err, errlen);
    if (!conf) return -1;
    if (rs_kafka_conf_apply(conf, &k->cfg.common, err, errlen) ||
        rs_kafka_conf_apply(conf, &k->cfg.producer, err, errlen)) {
        rs_rk.conf_destroy(conf);
        return -1;
    }
    rs_kafka_conf_logging(conf);
    rs_rk.conf_set_dr_msg_cb(conf, on_delivery);
    char e[256];
    k->producer = rs_rk.new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!k->producer) {
        rs_rk.conf_destroy(conf);
        snprintf(err, errlen, "kafka: producer: %s", e);
        return -1;
    }
    rs_kafka_logs_to_main(k->producer);
    k->pq = rs_rk.queue_get_main(k->producer);
    k->pwatch = rs_kafka_watch_new(k->base, k->pq, serve_producer, k);
    if (!k->pwatch) {
        snprintf(err, errlen, "kafka: cannot create a wake-up pipe");
        return -1;
    }
    RS_INFO(k->scope, "brokers %s, consumer group %s, client id %s", k->cfg.brokers,
            k->cfg.consumer_group ? k->cfg.consumer_group : "(none)", k->cfg.client_id);
    return 0;
}

static const rs_pubsub_ops_t kafka_ops = {
    .publish = kafka_publish,
    .subscribe = kafka_subscribe,
};

const rs_component_type_t rs_pubsub_kafka_type = {
    .type = "pubsub.kafka",
    .kind = RS_KIND_PUBSUB,
    .capabilities = NULL,
    .init = kafka_init,
    .close = kafka_close,
    .ops = &kafka_ops,
};
