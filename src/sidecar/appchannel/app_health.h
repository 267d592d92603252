/* SPDX-License-Identifier: MIT */
/* App health checks (--enable-app-health-check), as daprd's apphealth
 * package runs them: the app is probed at once and then every interval
 * through the app channel (an HTTP app: GET <path>, healthy on 2xx; a gRPC
 * app: AppCallbackHealthCheck/HealthCheck, healthy on OK); a probe that gets
 * no answer within the timeout fails. The app starts unhealthy, becomes
 * healthy on one successful probe and unhealthy after `threshold`
 * consecutive failures. Each change is reported to the owner (the boot
 * sequence), which stops and resumes the work that goes to the app.
 *
 * Everything runs on the event loop: a probe is an ordinary non-blocking app
 * call with a deadline, at most one is in flight, and a tick that finds one
 * still running only marks that another is due when it ends. */
#ifndef RS_SIDECAR_APP_HEALTH_H
#define RS_SIDECAR_APP_HEALTH_H

#include <event2/event.h>

#include "sidecar/appchannel/app_channel.h"

typedef struct rs_app_health rs_app_health_t;

typedef struct {
    const char *path;   /* the probe's path for an HTTP app (copied); a '/' is put first when it has none */
    int interval_ms;    /* between probes, > 0 */
    int timeout_ms;     /* a probe's deadline, > 0 and <= interval_ms */
    int threshold;      /* consecutive failures before the app is unhealthy, >= 1 */
} rs_app_health_config_t;

/** Called on every change of the verdict: healthy = 1 (the first one included) or 0. */
typedef void (*rs_app_health_fn)(void *arg, int healthy);

/** Starts probing the app behind ch (borrowed for the prober's life) at once. */
rs_app_health_t *rs_app_health_new(struct event_base *base, rs_app_channel_t *ch, const rs_app_health_config_t *cfg,
                                   rs_app_health_fn changed, void *arg);
/** Stops probing (a probe in flight is aborted; changed is not called again) and frees h. NULL is fine. */
void rs_app_health_free(rs_app_health_t *h);
/** 1 while the app is healthy. */
int rs_app_health_healthy(const rs_app_health_t *h);

#endif
