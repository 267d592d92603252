/* SPDX-License-Identifier: MIT */
/* bindings.cron (spec §3.5): an input binding that POSTs an empty body to
 * /<route> (metadata `route`, default the component name) on every fire of
 * `schedule`, with headers timeZone (always "Local": Dapr prints the scheduler's
 * location, not the schedule's CRON_TZ= zone) and
 * readTimeUTC (Go's time.String() of the fire time in UTC).
 *
 * Start: from the sidecar's app-ready hook, after the OPTIONS probe (skipped
 * when metadata `direction` contains input). Each fire is delivered under the
 * component's inbound resiliency policy; the app's answer is otherwise
 * ignored, as in Dapr.
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
#include "sidecar/components/bindings/input.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/sidecar.h"

#define SCOPE "bindings.cron"

typedef struct {
    rs_component_t *c;
    rs_cron_schedule_t *sched;
    char *route;
    struct event *timer;
    int64_t last_target_ms;     /* the fire time the timer was last armed for */
    int running;                /* probe passed, timer armed */
    rs_binding_delivery_t *delivery;
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
    cr->delivery = NULL;
    if (ok) {
        cr->delivered++;
    } else {
        cr->failed++;
        RS_DEBUG(SCOPE, "%s: delivery to /%s failed (status %d): %s", cr->c->name, cr->route, status, err);
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
    cr->delivery = rs_binding_deliver(cr->c, cr->route, "", 0, &md, on_delivered, cr);
    rs_kvlist_free(&md);
    if (!cr->delivery) cr->failed++;
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
    if (cr->c->sidecar->shutting_down) return;
    cr->fired++;
    /* The activation this timer was armed for, not the clock now: a timer that
     * runs a little early or late must still report its own second. */
    struct timespec ts = {cr->last_target_ms / 1000, (cr->last_target_ms % 1000) * 1000000};
    char read_time[64];
    go_time_string(&ts, read_time);
    RS_DEBUG(SCOPE, "%s: schedule fired at %s", cr->c->name, read_time);
    if (!cr->delivery) {
        deliver(cr, read_time);
    } else if (!cr->pending) {
        cr->pending = 1;
        snprintf(cr->pending_time, sizeof cr->pending_time, "%s", read_time);
    } else {
        cr->skipped++;
        const char *labels[] = {"component", cr->c->name, NULL};
        rs_metrics_inc(cr->c->sidecar->metrics, "ripstop_cron_skipped_fires_total",
                       "cron fires skipped because the app was still busy with earlier ones", labels, 1);
        unsigned long long s = cr->skipped;
        while (s % 10 == 0) s /= 10;
        if (s == 1)
            RS_WARN(SCOPE, "%s: the app is slower than the schedule; %llu fire(s) skipped so far (one delivery in "
                    "flight, one waiting)", cr->c->name, cr->skipped);
    }
    arm(cr);
}

static void start(cron_t *cr) {
    cr->running = 1;
    RS_INFO(SCOPE, "%s: started, POST /%s on schedule", cr->c->name, cr->route);
    arm(cr);
}

static void on_probe(void *arg, int subscribed, const char *why) {
    cron_t *cr = arg;
    if (cr->c->sidecar->shutting_down) return;
    if (!subscribed) {
        RS_INFO(SCOPE, "app has not subscribed to binding %s (%s)", cr->c->name, why);
        return;
    }
    start(cr);
}

static void on_app_ready(rs_sidecar_t *sc, void *arg) {
    cron_t *cr = arg;
    if (sc->shutting_down) return;
    if (rs_binding_has_direction(cr->c, "input")) {
        start(cr);
        return;
    }
    if (rs_binding_probe(sc, cr->route, on_probe, cr) != 0)
        RS_ERROR(SCOPE, "%s: cannot send the OPTIONS probe", cr->c->name);
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
    const char *route = rs_kvlist_get_ci(&c->metadata, "route");
    cr->route = rs_strdup(route && *route ? route : c->name);
    if (c->sidecar) {
        cr->timer = evtimer_new(c->sidecar->base, on_fire, cr);
        rs_sidecar_on_app_ready(c->sidecar, on_app_ready, cr);
    }
    return 0;
}

static void cron_close(rs_component_t *c) {
    cron_t *cr = c->impl;
    if (!cr) return;
    if (cr->running)
        RS_INFO(SCOPE, "%s: stopped; fired %llu, delivered %llu, failed %llu, skipped %llu", c->name, cr->fired,
                cr->delivered, cr->failed, cr->skipped);
    if (cr->delivery) rs_binding_delivery_cancel(cr->delivery);
    if (cr->timer) event_free(cr->timer);
    rs_cron_free(cr->sched);
    free(cr->route);
    free(cr);
    c->impl = NULL;
}

static const rs_binding_ops_t cron_ops = {
    .operations = no_operations,
    .invoke = NULL, /* input only */
    .cancel = NULL,
};

const rs_component_type_t rs_bindings_cron_type = {
    .type = "bindings.cron",
    .kind = RS_KIND_BINDING,
    .init = cron_init,
    .close = cron_close,
    .ops = &cron_ops,
};
