/* SPDX-License-Identifier: MIT */
/* The ripstopd runtime object: configuration from flags, loaded resources,
 * component instances, the event loop, the shared HTTP client and the app
 * channel. It is passed explicitly everywhere (no globals) — except to
 * components, which only see its `host` (components/host.h). */
#ifndef RS_SIDECAR_H
#define RS_SIDECAR_H

#include <event2/event.h>
#include <stddef.h>

#include "core/str.h"
#include "http/client.h"
#include "http/limits.h"
#include "sidecar/components/component.h"
#include "sidecar/components/host.h"
#include "sidecar/resiliency/resiliency.h"
#include "sidecar/resources/resources.h"

typedef struct rs_sidecar_config {
    char *app_id;
    int app_port;                 /* 0 = no app */
    char *app_protocol;           /* "http" */
    char *app_channel_address;    /* default 127.0.0.1 */
    int http_port;                /* --dapr-http-port, default 3500 */
    int grpc_port;                /* --dapr-grpc-port, default 50001 (0: a free port) */
    int grpc_port_set;            /* given on the command line: failing to listen on it is fatal */
    rs_strlist_t listen_addresses;/* --dapr-listen-addresses, default 127.0.0.1 */
    rs_strlist_t resources_paths;
    char *config_path;
    int metrics_port;             /* 0 = off; default 9090 */
    size_t max_body_size;         /* --max-body-size, default 4Mi */
    rs_http_limits_t http_limits; /* --max-connections, --read-header-timeout, --read-body-timeout, --idle-timeout */
    char *api_token;              /* env DAPR_API_TOKEN */
    char *app_api_token;          /* env APP_API_TOKEN */
    int enable_api_logging;
    char *log_level;
    int log_as_json;
    /* App health checks (--enable-app-health-check and its tuning flags; appchannel/app_health.h) */
    int app_health_check;         /* 0 = off (daprd's default) */
    char *app_health_path;        /* --app-health-check-path, default /healthz (HTTP apps only) */
    int app_health_interval_ms;   /* --app-health-probe-interval, default 5 s */
    int app_health_timeout_ms;    /* --app-health-probe-timeout, default 500 ms */
    int app_health_threshold;     /* --app-health-threshold, default 3 */
} rs_sidecar_config_t;

/* The API and metrics servers (http/server.h): the runtime holds them; the layers that do not serve HTTP (ops/,
 * messaging/) need not see the server's API. */
typedef struct rs_http_server rs_http_server_t;

typedef struct rs_sidecar rs_sidecar_t;
typedef void (*rs_sidecar_hook_fn)(rs_sidecar_t *sc, void *arg);

struct rs_sidecar {
    struct event_base *base;
    rs_sidecar_config_t cfg;
    rs_resources_t resources;
    rs_component_t **components;
    size_t ncomponents;
    rs_http_server_t *api;
    struct rs_grpc_server *grpc;  /* the gRPC API (grpc/), NULL when off */
    rs_http_server_t *metrics_server;
    rs_http_client_t *http;       /* shared outbound client (apps, peers, Azure) */
    struct rs_app_channel *app;   /* the one way to call the app (appchannel/app_channel.h) */
    rs_component_host_t host;     /* what components see of the runtime; every c->host points here */
    rs_resiliency_t *resiliency;
    struct rs_metrics *metrics;
    struct rs_nameres *nameres;   /* resolves app ids to sidecar addresses */
    struct rs_messaging *messaging; /* pub/sub runtime: subscriptions and deliveries (messaging/) */
    struct rs_invoker *invoker;   /* service invocation in flight (ops/invoke.c) */
    struct rs_tracer *tracer;     /* spans and their export (tracing/tracing.h); NULL = tracing off */
    rs_kvlist_t extended_metadata;/* PUT /v1.0/metadata/{key} */
    int outbound_ready;           /* components and APIs are up */
    int app_ready;                /* the app port accepted a connection (GET /v1.0/healthz) */
    int app_started;              /* the app-ready hooks ran: the app port accepted, and the first health probe
                                   * passed when health checks are on */
    int app_healthy;              /* 1 while the app is healthy (always, once started, without health checks) */
    int shutting_down;
    /* private */
    struct rs_hook *hooks_;
    struct event *app_probe_;
    struct rs_app_health *app_health_;
};

/** Fills cfg with daprd's defaults (port 3500, 127.0.0.1, 4Mi bodies, metrics 9090). */
void rs_sidecar_config_defaults(rs_sidecar_config_t *cfg);

/** Finds a loaded component of `kind` by name, or NULL. */
rs_component_t *rs_sidecar_component(rs_sidecar_t *sc, rs_component_kind_t kind, const char *name);
/** Number of loaded components of `kind`. */
size_t rs_sidecar_count(rs_sidecar_t *sc, rs_component_kind_t kind);
/** Runs fn once the app is there: its port accepted and, with health checks on, its first probe passed (at once
 *  if it already is; never if there is no app port). */
void rs_sidecar_on_app_ready(rs_sidecar_t *sc, rs_sidecar_hook_fn fn, void *arg);
/** Runs fn each time the app's health changes after it started (sc->app_healthy says which way), as daprd stops
 *  and restarts subscriptions and input bindings. Registration order. */
void rs_sidecar_on_app_health(rs_sidecar_t *sc, rs_sidecar_hook_fn fn, void *arg);
/** Runs fn when the sidecar shuts down, before components are closed (reverse order of registration). */
void rs_sidecar_on_shutdown(rs_sidecar_t *sc, rs_sidecar_hook_fn fn, void *arg);
/** The sidecar whose `host` h is (the runtime side, e.g. pub/sub delivery, finds its way back from a
 *  component's host with it; components themselves never do). */
static inline rs_sidecar_t *rs_sidecar_of_host(const rs_component_host_t *h) {
    return (rs_sidecar_t *)((const char *)h - offsetof(rs_sidecar_t, host));
}
/** Marks the app port reachable (the boot sequence's port probe). Without health checks the app has started:
 *  the app-ready hooks run, oldest first (once). */
void rs_sidecar_set_app_ready(rs_sidecar_t *sc);
/** The health probes' verdict (appchannel/app_health.h): the first healthy one starts the app (app-ready hooks);
 *  every later change runs the app-health hooks. */
void rs_sidecar_set_app_health(rs_sidecar_t *sc, int healthy);
/** Runs the shutdown hooks that have not run yet, newest first. */
void rs_sidecar_run_shutdown_hooks(rs_sidecar_t *sc);
/** Frees the hooks, the extended metadata and the configuration (the last step of the boot sequence's free). */
void rs_sidecar_release(rs_sidecar_t *sc);
/** Begins a graceful shutdown (stops the loop after in-flight work is dropped). */
void rs_sidecar_shutdown(rs_sidecar_t *sc);

#endif
