/* SPDX-License-Identifier: MIT */
/* The runtime object's own behaviour: defaults, component lookup, the hooks
 * other modules register (app ready, shutdown), and shutdown. Building and
 * tearing it down is the boot sequence's (boot/boot.c). */
#include "sidecar/runtime/sidecar.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

enum { HOOK_APP_READY, HOOK_SHUTDOWN, HOOK_APP_HEALTH };

struct rs_hook {
    int kind; /* HOOK_* */
    rs_sidecar_hook_fn fn;
    void *arg;
    struct rs_hook *next;
};

void rs_sidecar_config_defaults(rs_sidecar_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->app_protocol = rs_strdup("http");
    cfg->app_channel_address = rs_strdup("127.0.0.1");
    cfg->http_port = 3500;
    cfg->grpc_port = 50001;
    cfg->metrics_port = 9090;
    cfg->max_body_size = 4u << 20;
    rs_http_limits_defaults(&cfg->http_limits);
    cfg->log_level = rs_strdup("info");
    cfg->app_health_path = rs_strdup("/healthz");
    cfg->app_health_interval_ms = 5000;
    cfg->app_health_timeout_ms = 500;
    cfg->app_health_threshold = 3;
}

rs_component_t *rs_sidecar_component(rs_sidecar_t *sc, rs_component_kind_t kind, const char *name) {
    for (size_t i = 0; i < sc->ncomponents; i++) {
        rs_component_t *c = sc->components[i];
        if (c->type->kind == kind && strcmp(c->name, name) == 0) return c;
    }
    return NULL;
}

size_t rs_sidecar_count(rs_sidecar_t *sc, rs_component_kind_t kind) {
    size_t n = 0;
    for (size_t i = 0; i < sc->ncomponents; i++) n += sc->components[i]->type->kind == kind;
    return n;
}

static void add_hook(rs_sidecar_t *sc, int kind, rs_sidecar_hook_fn fn, void *arg) {
    struct rs_hook *h = rs_xcalloc(1, sizeof *h);
    h->kind = kind;
    h->fn = fn;
    h->arg = arg;
    /* Prepend: shutdown hooks then run newest first; app-ready and app-health hooks are reversed when run. */
    h->next = sc->hooks_;
    sc->hooks_ = h;
}

void rs_sidecar_on_app_ready(rs_sidecar_t *sc, rs_sidecar_hook_fn fn, void *arg) {
    if (!sc->cfg.app_port) return;
    if (sc->app_started) {
        fn(sc, arg);
        return;
    }
    add_hook(sc, HOOK_APP_READY, fn, arg);
}

void rs_sidecar_on_app_health(rs_sidecar_t *sc, rs_sidecar_hook_fn fn, void *arg) {
    if (sc->cfg.app_port) add_hook(sc, HOOK_APP_HEALTH, fn, arg);
}

void rs_sidecar_on_shutdown(rs_sidecar_t *sc, rs_sidecar_hook_fn fn, void *arg) { add_hook(sc, HOOK_SHUTDOWN, fn, arg); }

/* Registration order: collect the hooks of a kind, then call them oldest first. */
static void run_hooks(rs_sidecar_t *sc, int kind) {
    size_t n = 0;
    for (struct rs_hook *h = sc->hooks_; h; h = h->next) n += h->kind == kind;
    struct rs_hook **list = rs_xcalloc(n ? n : 1, sizeof *list);
    size_t i = n;
    for (struct rs_hook *h = sc->hooks_; h; h = h->next)
        if (h->kind == kind) list[--i] = h;
    for (i = 0; i < n; i++) list[i]->fn(sc, list[i]->arg);
    free(list);
}

static void start_app(rs_sidecar_t *sc) {
    if (sc->app_started) return;
    sc->app_started = 1;
    sc->app_healthy = 1;
    run_hooks(sc, HOOK_APP_READY);
}

void rs_sidecar_set_app_ready(rs_sidecar_t *sc) {
    if (sc->app_ready) return;
    sc->app_ready = 1;
    RS_INFO("runtime", "application discovered on port %d", sc->cfg.app_port);
    if (!sc->cfg.app_health_check) start_app(sc);
}

void rs_sidecar_set_app_health(rs_sidecar_t *sc, int healthy) {
    if (sc->shutting_down) return;
    if (!sc->app_started) {
        if (healthy) start_app(sc); /* as daprd: nothing reaches the app before its first healthy probe */
        return;
    }
    if (sc->app_healthy == healthy) return;
    sc->app_healthy = healthy;
    run_hooks(sc, HOOK_APP_HEALTH);
}

void rs_sidecar_run_shutdown_hooks(rs_sidecar_t *sc) {
    for (struct rs_hook *h = sc->hooks_; h; h = h->next)
        if (h->kind == HOOK_SHUTDOWN && h->fn) {
            rs_sidecar_hook_fn fn = h->fn;
            h->fn = NULL; /* once */
            fn(sc, h->arg);
        }
}

void rs_sidecar_shutdown(rs_sidecar_t *sc) {
    if (sc->shutting_down) return;
    sc->shutting_down = 1;
    RS_INFO("runtime", "shutting down");
    rs_sidecar_run_shutdown_hooks(sc);
    event_base_loopexit(sc->base, NULL);
}

void rs_sidecar_release(rs_sidecar_t *sc) {
    while (sc->hooks_) {
        struct rs_hook *h = sc->hooks_;
        sc->hooks_ = h->next;
        free(h);
    }
    rs_kvlist_free(&sc->extended_metadata);
    rs_sidecar_config_t *cfg = &sc->cfg;
    free(cfg->app_id);
    free(cfg->app_protocol);
    free(cfg->app_channel_address);
    rs_strlist_free(&cfg->listen_addresses);
    rs_strlist_free(&cfg->resources_paths);
    free(cfg->config_path);
    free(cfg->api_token);
    free(cfg->app_api_token);
    free(cfg->log_level);
    free(cfg->app_health_path);
}
