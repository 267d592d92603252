/* SPDX-License-Identifier: MIT */
/* bindings.cron (spec §3.5): an input binding that produces an event with an
 * empty body on every fire of `schedule`, with metadata timeZone (always
 * "Local": Dapr prints the scheduler's location, not the schedule's CRON_TZ=
 * zone) and readTimeUTC (Go's time.String() of the fire time in UTC).
 *
 * The runtime starts it (ops->start) once the app is ready and subscribed and
 * delivers each event (messaging/binding_delivery.c: POST /<route> under the
 * component's inbound resiliency policy); the app's answer only counts, as in
 * Dapr.
 *
 * A slow app: Dapr starts every fire in its own goroutine, so calls pile up
 * without bound. Here at most one delivery is in flight and at most one more
 * fire waits behind it (with its own readTimeUTC); further fires while both
 * slots are taken are skipped and counted (logged as warnings at 1, 10, 100,
 * ... skips). So the app sees every fire when it keeps up, and no backlog
 * grows when it does not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "sidecar/components/bindings/bindings.h"
#include "sidecar/components/bindings/cron_schedule.h"
#include "sidecar/metrics/metrics.h"

#define SCOPE "bindings.cron"

typedef struct {
    rs_component_t *c;
    rs_cron_schedule_t *sched;
    struct event *timer;
    int64_t last_target_ms;     /* the fire time the timer was last armed for */
    int running;                /* started, timer armed */
    rs_binding_handler_fn handler;
    void *handler_ctx;
    int in_flight;              /* an event is with the runtime */
    int pending;                /* a fire waits for the delivery in flight */
    char pending_time[64];
    unsigned long long fired, delivered, failed, skipped;
} cron_t;

static const char *const no_operations[] = {NULL};

/* Go's Time.String() for a UTC time: "2006-01-02 15:04:05.999999999 +0000 UTC" (trailing zeros trimmed). */
static void go_time_string(const struct timespec *ts, char out[64]) {
    struct tm tm;
    time_t t = ts->tv_sec;
    gmtime_r(&t, &tm);
    char frac[16] = "";
    if (ts->tv_nsec) {
        /* trim the zeros off the number, not the string: nothing is written past what snprintf wrote */
        long ns = ts->tv_nsec;
        int digits = 9;
        while (ns % 10 == 0) {
            ns /= 10;
            digits--;
        }
        snprintf(frac, sizeof frac, ".%0*ld", digits, ns);
    }
    snprintf(out, 64, "%04d-%02d-%02d %02d:%02d:%02d%s +0000 UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

static void deliver(cron_t *cr, const char *read_time);

static void on_delivered(void *arg, int ok, int status, const char *err) {
    cron_t *cr = arg;
    cr->in_flight = 0;
    if (ok) {
        cr->delivered++;
    } else {
        cr->failed++;
        RS_DEBUG(SCOPE, "%s: delivery failed (status %d): %s", cr->c->name, status, err);
    }
    if (cr->pending) {
        cr->pending = 0;
        deliver(cr, cr->pending_time);
    }
}

static void deliver(cron_t *cr, const char *read_time) {
    rs_kvlist_t md = {0};
    rs_kvlist_set(&md, "timeZone", "Local");
    rs_kvlist_set(&md, "readTimeUTC", read_time);
    rs_binding_event_t ev = {.data = "", .len = 0, .metadata = &md};
    cr->in_flight = 1; /* before the handler: done may run before it returns */
    cr->handler(cr->handler_ctx, cr->c, &ev, on_delivered, cr);
    rs_kvlist_free(&md);
}

static void arm(cron_t *cr) {
    int64_t now = rs_wall_ms();
    /* Never before the last target: a timer that fires a little early must not repeat the same second. */
    int64_t from = now > cr->last_target_ms ? now : cr->last_target_ms;
    int64_t next = rs_cron_next(cr->sched, from);
    if (next < 0) {
        RS_WARN(SCOPE, "%s: the schedule has no further activation; the binding stops", cr->c->name);
        return;
    }
    cr->last_target_ms = next;
    int64_t delay = next - now;
    if (delay < 0) delay = 0;
    struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
    evtimer_add(cr->timer, &tv);
}

static void on_fire(evutil_socket_t fd, short what, void *arg) {
    cron_t *cr = arg;
    (void)fd;
    (void)what;
    if (rs_host_stopping(cr->c->host)) return;
    cr->fired++;
    /* The activation this timer was armed for, not the clock now: a timer that
     * runs a little early or late must still report its own second. */
    struct timespec ts = {cr->last_target_ms / 1000, (cr->last_target_ms % 1000) * 1000000};
    char read_time[64];
    go_time_string(&ts, read_time);
    RS_DEBUG(SCOPE, "%s: schedule fired at %s", cr->c->name, read_time);
    if (!cr->in_flight) {
        deliver(cr, read_time);
    } else if (!cr->pending) {
        cr->pending = 1;
        snprintf(cr->pending_time, sizeof cr->pending_time, "%s", read_time);
    } else {
        cr->skipped++;
        const char *labels[] = {"component", cr->c->name, NULL};
        rs_metrics_inc(cr->c->host->metrics, "ripstop_cron_skipped_fires_total",
                       "cron fires skipped because the app was still busy with earlier ones", labels, 1);
        unsigned long long s = cr->skipped;
        while (s % 10 == 0) s /= 10;
        if (s == 1)
            RS_WARN(SCOPE, "%s: the app is slower than the schedule; %llu fire(s) skipped so far (one delivery in "
                    "flight, one waiting)", cr->c->name, cr->skipped);
    }
    arm(cr);
}

static int cron_start(rs_component_t *c, rs_binding_handler_fn handler, void *ctx, char *err, size_t errlen) {
    cron_t *cr = c->impl;
    if (cr->running || !cr->timer) {
        snprintf(err, errlen, cr->running ? "already started" : "no event loop");
        return -1;
    }
    cr->handler = handler;
    cr->handler_ctx = ctx;
    cr->running = 1;
    RS_INFO(SCOPE, "%s: started", c->name);
    arm(cr);
    return 0;
}

static int cron_init(rs_component_t *c, char *err, size_t errlen) {
    cron_t *cr = rs_xcalloc(1, sizeof *cr);
    cr->c = c;
    c->impl = cr;
    const char *spec = rs_kvlist_get_ci(&c->metadata, "schedule");
    if (!spec || !*spec) {
        snprintf(err, errlen, "schedule not set");
        return -1;
    }
    char why[256];
    cr->sched = rs_cron_parse(spec, why, sizeof why);
    if (!cr->sched) {
        snprintf(err, errlen, "invalid schedule format '%s': %s", spec, why);
        return -1;
    }
    if (c->host && c->host->base) cr->timer = evtimer_new(c->host->base, on_fire, cr);
    return 0;
}

static void cron_close(rs_component_t *c) {
    cron_t *cr = c->impl;
    if (!cr) return;
    if (cr->running)
        RS_INFO(SCOPE, "%s: stopped; fired %llu, delivered %llu, failed %llu, skipped %llu", c->name, cr->fired,
                cr->delivered, cr->failed, cr->skipped);
    if (cr->timer) event_free(cr->timer);
    rs_cron_free(cr->sched);
    free(cr);
    c->impl = NULL;
}

static const rs_binding_ops_t cron_ops = {
    .operations = no_operations,
    .invoke = NULL, /* input only */
    .cancel = NULL,
    .start = cron_start,
};

const rs_component_type_t rs_bindings_cron_type = {
    .type = "bindings.cron",
    .kind = RS_KIND_BINDING,
    .init = cron_init,
    .close = cron_close,
    .ops = &cron_ops,
};
