/* SPDX-License-Identifier: MIT */
/* Bridges a librdkafka queue into the sidecar's libevent loop without
 * blocking it. librdkafka writes a byte to a pipe whenever the queue gets
 * work (rd_kafka_queue_io_event_enable); a libevent read event on the other
 * end calls `serve`, which polls the queue with a zero timeout. `serve` also
 * runs once a second while idle, because librdkafka expects a consumer to poll
 * at least every max.poll.interval.ms. Private to the pubsub.kafka component. */
#ifndef RS_SIDECAR_PUBSUB_KAFKA_LOOP_H
#define RS_SIDECAR_PUBSUB_KAFKA_LOOP_H

#include <event2/event.h>
#include <librdkafka/rdkafka.h>

typedef struct rs_kafka_watch rs_kafka_watch_t;

/** Serves the queue with zero-timeout polls. It should do bounded work; if it stopped with work left it
 *  calls rs_kafka_watch_kick so the rest is served on a later loop turn (the pipe is only written when the
 *  queue goes from empty to non-empty, so leftover work would otherwise wait for the next event). */
typedef void (*rs_kafka_serve_fn)(void *arg);

/** Watches queue q (the caller keeps ownership of q and must keep it alive until rs_kafka_watch_free).
 *  Returns NULL if no pipe could be made. serve runs once right away to pick up work already queued. */
rs_kafka_watch_t *rs_kafka_watch_new(struct event_base *base, rd_kafka_queue_t *q, rs_kafka_serve_fn serve, void *arg);
/** Runs serve again on the next loop turn. */
void rs_kafka_watch_kick(rs_kafka_watch_t *w);
/** rd_kafka_conf_new for the sidecar, or NULL with why in err when librdkafka cannot be loaded (the first call
 *  opens it: kafka_lib.h). The first call also points Cyrus SASL's plugin path at a folder that does
 *  not exist (unless SASL_PATH is set): librdkafka's global init calls sasl_client_init, which loads every
 *  plugin under /usr/lib/.../sasl2 (and libdb with them, about 0.5 MB of RSS), while the mechanisms a
 *  pubsub.kafka component can ask for (PLAIN, SCRAM) are librdkafka's own. */
rd_kafka_conf_t *rs_kafka_conf_new(char *err, size_t errlen);
/** Routes librdkafka's log lines and error events through the queue that is served on the loop (instead of
 *  librdkafka's own threads) into rs_log with scope "pubsub.kafka". Call on the conf before rd_kafka_new,
 *  then rs_kafka_logs_to_main(rk) once the handle exists. */
void rs_kafka_conf_logging(rd_kafka_conf_t *conf);
void rs_kafka_logs_to_main(rd_kafka_t *rk);
/** Disables the io event on the queue and frees the watch. NULL is ignored. */
void rs_kafka_watch_free(rs_kafka_watch_t *w);

#endif
