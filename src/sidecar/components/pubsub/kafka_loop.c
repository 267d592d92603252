/* SPDX-License-Identifier: MIT */
/* librdkafka queue -> pipe -> libevent. The write end is non-blocking: when the
 * pipe is full a wake-up is already pending, so a dropped byte loses nothing. */
#include "kafka_loop.h"
#include "sidecar/components/pubsub/kafka_lib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"
#include "core/str.h"

struct rs_kafka_watch {
    rd_kafka_queue_t *q;
    int fds[2];
    struct event *ev;
    struct event *tick;
    rs_kafka_serve_fn serve;
    void *arg;
};

static void on_readable(evutil_socket_t fd, short what, void *arg) {
    rs_kafka_watch_t *w = arg;
    (void)what;
    char buf[256];
    /* Drain first: a byte written after this point means new work and wakes us again. */
    for (int i = 0; i < 64 && read(fd, buf, sizeof buf) > 0; i++) {
    }
    w->serve(w->arg);
}

/* librdkafka counts a consumer that has not called rd_kafka_consumer_poll for max.poll.interval.ms (5 min) as
 * stuck and leaves the group, even when there was simply nothing to read. The tick keeps polling while idle. */
static void on_tick(evutil_socket_t fd, short what, void *arg) {
    rs_kafka_watch_t *w = arg;
    (void)fd;
    (void)what;
    w->serve(w->arg);
}

rs_kafka_watch_t *rs_kafka_watch_new(struct event_base *base, rd_kafka_queue_t *q, rs_kafka_serve_fn serve,
                                     void *arg) {
    rs_kafka_watch_t *w = rs_xcalloc(1, sizeof *w);
    if (pipe2(w->fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        free(w);
        return NULL;
    }
    w->q = q;
    w->serve = serve;
    w->arg = arg;
    w->ev = event_new(base, w->fds[0], EV_READ | EV_PERSIST, on_readable, w);
    event_add(w->ev, NULL);
    w->tick = event_new(base, -1, EV_PERSIST, on_tick, w);
    struct timeval tv = {1, 0};
    event_add(w->tick, &tv);
    static const char one = 1;
    rs_rk.queue_io_event_enable(q, w->fds[1], &one, 1);
    event_active(w->ev, EV_READ, 0);
    return w;
}

void rs_kafka_watch_kick(rs_kafka_watch_t *w) { event_active(w->ev, EV_READ, 0); }

void rs_kafka_watch_free(rs_kafka_watch_t *w) {
    if (!w) return;
    rs_rk.queue_io_event_enable(w->q, -1, NULL, 0);
    event_free(w->ev);
    event_free(w->tick);
    close(w->fds[0]);
    close(w->fds[1]);
    free(w);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    rs_log_level_t lv = level <= 3 ? RS_LOG_ERROR : level == 4 ? RS_LOG_WARN : level == 5 ? RS_LOG_INFO : RS_LOG_DEBUG;
    if (rs_log_enabled(lv)) rs_log(lv, "pubsub.kafka", "%s: %s: %s", rs_rk.name(rk), fac, buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)opaque;
    RS_WARN("pubsub.kafka", "%s: %s: %s", rs_rk.name(rk), rs_rk.err2name((rd_kafka_resp_err_t)err), reason);
}

rd_kafka_conf_t *rs_kafka_conf_new(char *err, size_t errlen) {
    static int sasl_path_done;
    if (!sasl_path_done) { /* before librdkafka is loaded and its global init runs, on the loop thread */
        setenv("SASL_PATH", "/nonexistent/ripstopd-uses-no-cyrus-sasl-plugins", 0);
        sasl_path_done = 1;
    }
    return rs_rdkafka_load(err, errlen) ? NULL : rs_rk.conf_new();
}

void rs_kafka_conf_logging(rd_kafka_conf_t *conf) {
    char e[128];
    rs_rk.conf_set(conf, "log.queue", "true", e, sizeof e);
    rs_rk.conf_set_log_cb(conf, on_log);
    rs_rk.conf_set_error_cb(conf, on_error);
}

void rs_kafka_logs_to_main(rd_kafka_t *rk) { rs_rk.set_log_queue(rk, NULL); }
