/* SPDX-License-Identifier: MIT */
/* The boot sequence of ripstopd: resources → app channel → secret stores →
 * other components → API server → metrics → input-binding delivery → app
 * probe; and the teardown in reverse. This is the one place that knows every
 * module; nothing includes it but main.c (and tests that start a runtime). */
#include "sidecar/boot/boot.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "http/server.h"
#include "sidecar/api/api.h"
#include "sidecar/grpc/api.h"
#include "sidecar/appchannel/app_channel.h"
#include "sidecar/appchannel/app_health.h"
#include "sidecar/messaging/binding_delivery.h"
#include "sidecar/ops/bindings.h"
#include "sidecar/boot/attach.h"
#include "sidecar/metrics/metrics.h"
#include "sidecar/tracing/tracing.h"
#include "sidecar/nameres/nameres.h"
#include "sidecar/boot/resolve.h"
#include "sidecar/boot/unsupported.h"

/* ---- app port probe: daprd dials the app port every 100 ms until it answers ---- */

static void probe_app(evutil_socket_t fd, short what, void *arg);

/* The health probes' verdict: the channel refuses invocations while the app is unhealthy, and the runtime
 * starts the app (first healthy) or pauses and resumes subscriptions and input bindings (its app-health hooks). */
static void on_app_health(void *arg, int healthy) {
    rs_sidecar_t *sc = arg;
    rs_app_channel_set_healthy(sc->app, healthy);
    rs_sidecar_set_app_health(sc, healthy);
}

static void on_probe_event(struct bufferevent *bev, short events, void *arg) {
    rs_sidecar_t *sc = arg;
    bufferevent_free(bev);
    if (events & BEV_EVENT_CONNECTED) {
        rs_sidecar_set_app_ready(sc);
        if (sc->cfg.app_health_check && !sc->app_health_) {
            const rs_sidecar_config_t *c = &sc->cfg;
            rs_app_health_config_t hc = {.path = c->app_health_path, .interval_ms = c->app_health_interval_ms,
                                         .timeout_ms = c->app_health_timeout_ms, .threshold = c->app_health_threshold};
            rs_app_channel_set_healthy(sc->app, 0); /* as daprd: unhealthy until the first probe passes */
            sc->app_health_ = rs_app_health_new(sc->base, sc->app, &hc, on_app_health, sc);
        }
        return;
    }
    struct timeval tv = {0, 100 * 1000};
    evtimer_add(sc->app_probe_, &tv);
}

static void probe_app(evutil_socket_t fd, short what, void *arg) {
    rs_sidecar_t *sc = arg;
    (void)fd;
    (void)what;
    if (sc->shutting_down) return;
    struct sockaddr_in sin = {0};
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)sc->cfg.app_port);
    if (inet_pton(AF_INET, sc->cfg.app_channel_address, &sin.sin_addr) != 1) inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    struct bufferevent *bev = bufferevent_socket_new(sc->base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(bev, NULL, NULL, on_probe_event, sc);
    if (bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof sin) != 0) {
        bufferevent_free(bev);
        struct timeval tv = {0, 100 * 1000};
        evtimer_add(sc->app_probe_, &tv);
    }
}

/* ---- components ---- */

static int init_one(rs_sidecar_t *sc, const rs_resource_component_t *rc, int *deferred, char *err, size_t errlen) {
    const rs_component_type_t *type = rs_component_type_find(rc->type);
    char why[512] = "";
    if (!type) {
        snprintf(why, sizeof why, "unknown component type '%s'", rc->type);
        goto failed;
    }
    rs_component_t *c = rs_xcalloc(1, sizeof *c);
    c->name = rs_strdup(rc->name);
    c->version = rs_strdup(rc->version);
    c->type = type;
    c->host = &sc->host;
    c->resource = rc;
    rs_resolve_result_t r = rs_resolve_component_metadata(sc, rc, &c->metadata, why, sizeof why);
    if (r == RS_RESOLVE_DEFERRED) {
        rs_kvlist_free(&c->metadata);
        free(c->name);
        free(c->version);
        free(c);
        *deferred = 1;
        return 0;
    }
    if (r == RS_RESOLVE_OK && type->init(c, why, sizeof why) == 0) {
        sc->components = rs_xrealloc(sc->components, (sc->ncomponents + 1) * sizeof *sc->components);
        sc->components[sc->ncomponents++] = c;
        RS_INFO("runtime", "component loaded: %s (%s/%s)", c->name, rc->type, rc->version);
        return 0;
    }
    if (r == RS_RESOLVE_OK && type->close) type->close(c);
    rs_kvlist_free(&c->metadata);
    free(c->name);
    free(c->version);
    free(c);
failed:
    if (rc->ignore_errors) {
        RS_WARN("runtime", "component %s (%s:%d) failed to initialise and is skipped (ignoreErrors): %s", rc->name,
                rc->file, rc->line, why);
        return 0;
    }
    snprintf(err, errlen, "component %s (%s:%d) failed to initialise: %s", rc->name, rc->file, rc->line, why);
    return -1;
}

/* Secret stores first, so other components can resolve secretKeyRef; a store
 * that itself refers to another store not yet loaded is retried until no
 * more progress is made (Dapr defers such components the same way). */
static int init_components(rs_sidecar_t *sc, char *err, size_t errlen) {
    size_t n = sc->resources.ncomponents;
    char *done = rs_xcalloc(n ? n : 1, 1);
    int rc = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        int progress = 1;
        while (progress && rc == 0) {
            progress = 0;
            for (size_t i = 0; i < n && rc == 0; i++) {
                const rs_resource_component_t *r = &sc->resources.components[i];
                int is_store = rs_component_kind_of_type(r->type) == RS_KIND_SECRETSTORE;
                if (done[i] || (pass == 0 && !is_store)) continue;
                int deferred = 0;
                rc = init_one(sc, r, &deferred, err, errlen);
                if (rc == 0 && !deferred) done[i] = progress = 1;
            }
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (done[i]) continue;
        const rs_resource_component_t *r = &sc->resources.components[i];
        snprintf(err, errlen, "component %s (%s:%d): secret store '%s' named in auth.secretStore is not loaded", r->name,
                 r->file, r->line, r->secret_store ? r->secret_store : "");
        rc = -1;
    }
    free(done);
    return rc;
}

/* Tracing from the Configuration's spec.tracing: sc->tracer stays NULL when the sampling rate is 0. */
static int tracing_attach(rs_sidecar_t *sc, char *err, size_t errlen) {
    rs_tracing_config_t tc;
    char why[256] = "";
    (void)err;
    (void)errlen;
    if (rs_tracing_config_parse(sc->resources.configuration.doc, &tc, why, sizeof why) != 0) {
        RS_WARN("tracing", "%s: tracing is off", why);
        return 0;
    }
    sc->tracer = rs_tracer_new(sc->base, sc->http, &tc, sc->cfg.app_id, &sc->metrics);
    /* the first listen address and the HTTP port: which replica of the app id a span came from */
    rs_tracer_set_endpoint(sc->tracer, sc->cfg.listen_addresses.len ? sc->cfg.listen_addresses.items[0] : "127.0.0.1",
                           sc->cfg.http_port);
    if (sc->tracer)
        RS_INFO("tracing", "tracing on: sampling rate %g%s%s%s%s%s", tc.sampling_rate,
                tc.zipkin_url ? ", zipkin " : "", tc.zipkin_url ? tc.zipkin_url : "", tc.otel_url ? ", otel " : "",
                tc.otel_url ? tc.otel_url : "", tc.to_stdout ? ", stdout" : "");
    rs_tracing_config_free(&tc);
    return 0;
}

int rs_sidecar_init(rs_sidecar_t *sc, struct event_base *base, char *err, size_t errlen) {
    sc->base = base;
    if (rs_resources_load(&sc->resources, &sc->cfg.resources_paths, sc->cfg.config_path, sc->cfg.app_id, err, errlen) !=
        0)
        return -1;
    rs_warn_unsupported(&sc->resources);
    sc->http = rs_http_client_new(base);
    if (sc->cfg.app_protocol && strcmp(sc->cfg.app_protocol, "grpc") == 0)
        sc->app = rs_app_channel_new_grpc(base, sc->cfg.app_channel_address, sc->cfg.app_port,
                                          sc->cfg.app_api_token, sc->cfg.max_body_size);
    else
        sc->app = rs_app_channel_new(sc->http, sc->cfg.app_channel_address, sc->cfg.app_port,
                                     sc->cfg.app_api_token, sc->cfg.max_body_size);
    sc->host.base = base;
    sc->host.http = sc->http;
    sc->host.app_id = sc->cfg.app_id;
    sc->host.stopping = &sc->shutting_down;
    if (tracing_attach(sc, err, errlen) != 0) return -1;
    /* Resiliency before components: they look up their policies at init. */
    if (!(sc->resiliency = rs_resiliency_new(base, &sc->resources, sc->cfg.app_id, err, errlen))) return -1;
    if (init_components(sc, err, errlen) != 0) return -1;
    if (rs_nameres_attach(sc, err, errlen) != 0) return -1;
    return 0;
}

int rs_sidecar_start(rs_sidecar_t *sc, char *err, size_t errlen) {
    sc->api = rs_http_server_new(sc->base, sc->cfg.max_body_size);
    if (!sc->api) {
        snprintf(err, errlen, "cannot create the API server");
        return -1;
    }
    rs_http_server_set_limits(sc->api, &sc->cfg.http_limits);
    for (size_t i = 0; i < sc->cfg.listen_addresses.len; i++) {
        const char *addr = sc->cfg.listen_addresses.items[i];
        if (rs_http_server_listen(sc->api, addr, sc->cfg.http_port) < 0) {
            snprintf(err, errlen, "cannot listen on %s:%d: %s", addr, sc->cfg.http_port, strerror(errno));
            return -1;
        }
    }
    rs_api_register_all(sc);
    if (rs_grpc_api_start(sc, err, errlen) != 0) return -1;
    /* Metrics after the API server exists: attaching observes it. Components see the registry from here on. */
    if (rs_metrics_attach(sc, err, errlen) != 0) return -1;
    sc->host.metrics = sc->metrics;
    rs_input_bindings_attach(sc, &rs_ops_binding_sender);
    sc->outbound_ready = 1;
    RS_INFO("runtime", "dapr API listening on port %d; app id %s", sc->cfg.http_port, sc->cfg.app_id);
    if (sc->cfg.app_port) {
        sc->app_probe_ = evtimer_new(sc->base, probe_app, sc);
        probe_app(-1, 0, sc);
    }
    return 0;
}

void rs_sidecar_free(rs_sidecar_t *sc) {
    rs_app_health_free(sc->app_health_); /* first: no health change may reach a module being torn down */
    sc->app_health_ = NULL;
    rs_sidecar_run_shutdown_hooks(sc);
    if (sc->api) rs_http_server_set_hooks(sc->api, NULL); /* a request still pending keeps no span past here */
    rs_grpc_api_stop(sc); /* gRPC calls in flight are cancelled: they end their spans and metrics here */
    rs_tracer_free(sc->tracer); /* after the hooks (they end spans), before the HTTP client */
    sc->tracer = NULL;
    rs_nameres_detach(sc);
    sc->host.metrics = NULL;
    rs_metrics_detach(sc);
    rs_resiliency_free(sc->resiliency);
    sc->resiliency = NULL;
    rs_http_server_free(sc->api);
    for (size_t i = sc->ncomponents; i-- > 0;) {
        rs_component_t *c = sc->components[i];
        if (c->type->close) c->type->close(c);
        rs_kvlist_free(&c->metadata);
        free(c->name);
        free(c->version);
        free(c);
    }
    free(sc->components);
    rs_http_client_free(sc->http);
    rs_app_channel_free(sc->app);
    if (sc->app_probe_) event_free(sc->app_probe_);
    rs_resources_free(&sc->resources);
    rs_sidecar_release(sc);
}
