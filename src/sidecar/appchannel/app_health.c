/* SPDX-License-Identifier: MIT */
/* App health probes; see app_health.h. */
#include "sidecar/appchannel/app_health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define SCOPE "apphealth"

struct rs_app_health {
    rs_app_channel_t *ch;
    rs_app_health_config_t cfg;
    char *path;
    rs_app_health_fn changed;
    void *arg;
    struct event *tick;
    rs_app_call_t call;
    int in_flight;
    int again;     /* a tick came while a probe was in flight: probe once more when it ends */
    int failures;  /* consecutive; starts at threshold: unhealthy until a probe passes (as daprd) */
};

static void probe(rs_app_health_t *h);

static void on_reply(void *arg, rs_http_response_t *resp, rs_outcome_t *o) {
    rs_app_health_t *h = arg;
    h->in_flight = 0;
    int was_healthy = h->failures < h->cfg.threshold;
    if (o->kind == RS_OUTCOME_OK) {
        h->failures = 0;
        if (!was_healthy) {
            RS_INFO(SCOPE, "app entered healthy status");
            h->changed(h->arg, 1);
        }
    } else if (h->failures < h->cfg.threshold) {
        char why[300];
        if (resp->result != RS_HTTP_OK) snprintf(why, sizeof why, "%s", resp->error);
        else snprintf(why, sizeof why, "status %d", resp->status);
        RS_DEBUG(SCOPE, "app health probe failed: %s", why);
        if (++h->failures == h->cfg.threshold) {
            RS_WARN(SCOPE, "app entered un-healthy status: app health check failed %d times (last: %s)", h->failures,
                    why);
            h->changed(h->arg, 0);
        }
    }
    if (h->again) {
        h->again = 0;
        probe(h);
    }
}

static void probe(rs_app_health_t *h) {
    if (h->in_flight) {
        h->again = 1;
        return;
    }
    h->in_flight = 1;
    rs_app_request_t req = {.method = "GET", .path = h->path, .timeout_ms = h->cfg.timeout_ms,
                            .accept = RS_APP_ACCEPT_2XX, .kind = RS_APP_HEALTH_PROBE};
    rs_app_call(h->ch, &h->call, &req, on_reply, h); /* one that cannot start answers at once: a failure */
}

static void on_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    probe(arg);
}

rs_app_health_t *rs_app_health_new(struct event_base *base, rs_app_channel_t *ch, const rs_app_health_config_t *cfg,
                                   rs_app_health_fn changed, void *arg) {
    rs_app_health_t *h = rs_xcalloc(1, sizeof *h);
    h->ch = ch;
    h->cfg = *cfg;
    h->path = rs_strdup(cfg->path && *cfg->path ? cfg->path : "/");
    h->cfg.path = h->path;
    h->changed = changed;
    h->arg = arg;
    h->failures = cfg->threshold;
    h->tick = event_new(base, -1, EV_PERSIST, on_tick, h);
    struct timeval tv = {cfg->interval_ms / 1000, (cfg->interval_ms % 1000) * 1000};
    event_add(h->tick, &tv);
    RS_INFO(SCOPE, "app health probes starting (%s every %d ms, timeout %d ms, threshold %d)",
            strcmp(rs_app_channel_protocol(ch), "grpc") == 0 ? "HealthCheck" : h->path, cfg->interval_ms,
            cfg->timeout_ms, cfg->threshold);
    probe(h);
    return h;
}

void rs_app_health_free(rs_app_health_t *h) {
    if (!h) return;
    rs_app_call_abort(&h->call);
    event_free(h->tick);
    free(h->path);
    free(h);
}

int rs_app_health_healthy(const rs_app_health_t *h) { return h && h->failures < h->cfg.threshold; }
