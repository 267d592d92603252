/* SPDX-License-Identifier: MIT */
/* What a component may use of the runtime that loaded it: the event loop, the
 * shared outbound HTTP client, the app id, the metrics registry and whether
 * the runtime is stopping. Nothing else — a component never sees the sidecar
 * object, so it can be built and driven by a unit test that fills this struct
 * by hand (tests/unit/sidecar/components/...).
 *
 * The runtime owns the host and keeps it alive until every component is
 * closed. Fields may be filled in after a component's init (metrics appears
 * once the metrics server is up), so read them when they are needed, not
 * once at init. */
#ifndef RS_SIDECAR_COMPONENTS_HOST_H
#define RS_SIDECAR_COMPONENTS_HOST_H

#include <event2/event.h>

#include "http/client.h"

struct rs_metrics;

typedef struct rs_component_host {
    struct event_base *base;   /* the loop every component runs on */
    rs_http_client_t *http;    /* outbound HTTP (Azure, ...); may be NULL in a test that needs none */
    const char *app_id;        /* this sidecar's app id (e.g. the default Kafka consumer group); may be NULL */
    struct rs_metrics *metrics;/* may be NULL: rs_metrics_* then do nothing */
    const int *stopping;       /* non-zero once the runtime shuts down; may be NULL (never stops) */
} rs_component_host_t;

/** 1 once the runtime is shutting down: components stop starting new work (timers, deliveries). */
static inline int rs_host_stopping(const rs_component_host_t *h) { return h && h->stopping && *h->stopping; }

#endif
