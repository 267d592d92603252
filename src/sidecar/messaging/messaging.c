/* SPDX-License-Identifier: MIT */
#include "sidecar/messaging/messaging.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sidecar/appchannel/app_channel.h"
#include "sidecar/components/pubsub/pubsub.h"
#include "sidecar/messaging/bulk_delivery.h"
#include "sidecar/messaging/delivery.h"
#include "sidecar/messaging/scopes.h"
#include "sidecar/messaging/subscriptions.h"

#define SCOPE "pubsub"
/* Dapr fetches /dapr/subscribe under DaprBuiltInInitializationRetries: exponential from 500 ms, 3 retries. */
#define FETCH_RETRIES 3
#define FETCH_TIMEOUT_MS 10000

struct rs_messaging {
    rs_sidecar_t *sc;
    rs_subscriptions_t subs;
    rs_delivery_set_t deliveries;
    rs_app_call_t fetch;
    struct event *fetch_timer;
    int fetch_attempt;
    int stopping;               /* the shutdown hook is running: nack whatever arrives */
    /* While the app is unhealthy (app health checks) messages are parked here, unacknowledged, oldest first, and
     * delivered when it is healthy again. This is bounded by the components' own windows: a component hands over
     * the next message only as earlier ones are acked (pubsub.redis: `concurrency` per topic; pubsub.kafka: one
     * per partition), so a paused subscription stops reading from the broker, as daprd's unsubscribe does. */
    struct parked *parked_head, *parked_tail;
};

typedef struct parked {
    rs_component_t *c;
    rs_pubsub_msg_t *m;
    struct parked *next;
} parked_t;

static void dispatch(rs_sidecar_t *sc, rs_messaging_t *mg, rs_component_t *c, rs_pubsub_msg_t *m) {
    rs_subscription_t *s = rs_subscriptions_find(&mg->subs, c->name, m->topic);
    if (!s || !s->active) {
        rs_pubsub_msg_ack(m, 0);
        return;
    }
    if (s->bulk) rs_bulk_batcher_add(s->bulk, m);
    else rs_delivery_start(sc, &mg->deliveries, s, m);
}

/* The component calls this for every message. ctx is the component, which outlives this module's state, so a
 * message arriving after shutdown is simply left unacknowledged. The component's host is the sidecar's. */
static void on_message(void *ctx, rs_pubsub_msg_t *m) {
    rs_component_t *c = ctx;
    rs_sidecar_t *sc = c->host ? rs_sidecar_of_host(c->host) : NULL;
    rs_messaging_t *mg = sc ? sc->messaging : NULL;
    if (!mg || mg->stopping || sc->shutting_down) {
        rs_pubsub_msg_ack(m, 0);
        return;
    }
    if (!sc->app_healthy) {
        parked_t *p = rs_xcalloc(1, sizeof *p);
        p->c = c;
        p->m = m;
        if (mg->parked_tail) mg->parked_tail->next = p;
        else mg->parked_head = p;
        mg->parked_tail = p;
        return;
    }
    dispatch(sc, mg, c, m);
}

/* daprd stops its subscriptions while the app is unhealthy and starts them again when it recovers. */
static void on_app_health(rs_sidecar_t *sc, void *arg) {
    (void)arg;
    rs_messaging_t *mg = sc->messaging;
    if (!mg || mg->stopping) return;
    if (!sc->app_healthy) {
        RS_INFO(SCOPE, "app is unhealthy: topic deliveries paused");
        return;
    }
    size_t n = 0;
    /* Take the list first: a delivery may end at once, and its component then hands over its next message. */
    parked_t *p = mg->parked_head;
    mg->parked_head = mg->parked_tail = NULL;
    while (p) {
        parked_t *next = p->next;
        dispatch(sc, mg, p->c, p->m);
        free(p);
        p = next;
        n++;
    }
    RS_INFO(SCOPE, "app is healthy: topic deliveries resumed (%zu message%s held)", n, n == 1 ? "" : "s");
}

static void parked_nack_all(rs_messaging_t *mg) {
    while (mg->parked_head) {
        parked_t *p = mg->parked_head;
        mg->parked_head = p->next;
        rs_pubsub_msg_ack(p->m, 0);
        free(p);
    }
    mg->parked_tail = NULL;
}

static void subscribe_all(rs_messaging_t *mg) {
    rs_sidecar_t *sc = mg->sc;
    for (size_t i = 0; i < mg->subs.len; i++) {
        rs_subscription_t *s = mg->subs.items[i];
        rs_component_t *c = rs_sidecar_component(sc, RS_KIND_PUBSUB, s->pubsubname);
        if (!c) {
            RS_WARN(SCOPE, "subscription to topic %s: pubsub %s not found", s->topic, s->pubsubname);
            continue;
        }
        if (!rs_topic_allowed(c, sc->cfg.app_id, s->topic, RS_TOPIC_SUBSCRIBE)) {
            RS_WARN(SCOPE, "subscribing to topic %s on pubsub %s is not allowed for app id %s", s->topic,
                    s->pubsubname, sc->cfg.app_id);
            continue;
        }
        s->component = c;
        if (s->bulk_enabled && !s->bulk) s->bulk = rs_bulk_batcher_new(sc, s);
        s->active = 1; /* before subscribe: a component may hand over messages at once */
        const rs_pubsub_ops_t *ops = c->type->ops;
        char err[256] = "";
        if (ops->subscribe(c, s->topic, on_message, c, err, sizeof err) != 0) {
            s->active = 0;
            RS_ERROR(SCOPE, "failed to subscribe to topic %s on pubsub %s: %s", s->topic, s->pubsubname, err);
            continue;
        }
        RS_INFO(SCOPE, "subscribed to topic %s on pubsub %s (%s%s, %zu route%s%s%s)", s->topic, s->pubsubname,
                s->programmatic ? "programmatic" : "declarative", s->bulk ? ", bulk" : "", s->nrules,
                s->nrules == 1 ? "" : "s",
                s->dead_letter_topic ? ", dead letter " : "", s->dead_letter_topic ? s->dead_letter_topic : "");
    }
}

/* Programmatic first, then declarative: on a duplicate pubsub+topic the app's own wins, as in Dapr. */
static void load_and_subscribe(rs_messaging_t *mg, rs_subscriptions_t *programmatic) {
    rs_subscriptions_t decl = {0};
    rs_subscriptions_add_declarative(&decl, &mg->sc->resources);
    rs_subscriptions_merge(programmatic, &decl);
    rs_subscriptions_merge(&mg->subs, programmatic);
    subscribe_all(mg);
}

static void fetch_start(rs_messaging_t *mg);

static void on_fetch_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    fetch_start(arg);
}

static void on_subscribe_reply(void *arg, rs_http_response_t *resp, rs_outcome_t *o) {
    rs_messaging_t *mg = arg;
    (void)o; /* judged here: 404 means "no programmatic subscriptions", not a failure */
    rs_subscriptions_t prog = {0};
    if (resp->result != RS_HTTP_OK) {
        if (mg->fetch_attempt <= FETCH_RETRIES) {
            /* 500 ms, 750 ms, 1125 ms ... */
            long ms = 500;
            for (int i = 1; i < mg->fetch_attempt; i++) ms = ms * 3 / 2;
            struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
            evtimer_add(mg->fetch_timer, &tv);
            return;
        }
        RS_ERROR(SCOPE, "error getting topics from app: %s", resp->error);
    } else if (resp->status == 404) {
        RS_DEBUG(SCOPE, "app has no programmatic subscriptions (GET /dapr/subscribe: 404)");
    } else if (resp->status != 200) {
        RS_ERROR(SCOPE, "app returned http status code %d from subscription endpoint", resp->status);
    } else {
        char err[256];
        if (rs_subscriptions_add_programmatic(&prog, resp->body.data, resp->body.len, err, sizeof err) != 0)
            RS_ERROR(SCOPE, "error getting topics from app: %s", err);
    }
    load_and_subscribe(mg, &prog);
    rs_subscriptions_free(&prog);
}

static void fetch_start(rs_messaging_t *mg) {
    rs_app_request_t req = {.method = "GET", .path = "/dapr/subscribe", .timeout_ms = FETCH_TIMEOUT_MS,
                            .kind = RS_APP_SUBSCRIPTIONS};
    mg->fetch_attempt++;
    rs_app_call(mg->sc->app, &mg->fetch, &req, on_subscribe_reply, mg); /* a call that cannot start is retried */
}

static void on_app_ready(rs_sidecar_t *sc, void *arg) {
    rs_messaging_t *mg = arg;
    if (sc->messaging != mg || sc->shutting_down) return;
    if (rs_sidecar_count(sc, RS_KIND_PUBSUB) == 0) return; /* nothing to subscribe on: don't bother the app */
    fetch_start(mg);
}

static void on_shutdown(rs_sidecar_t *sc, void *arg) {
    rs_messaging_t *mg = arg;
    mg->stopping = 1;
    parked_nack_all(mg);
    rs_app_call_abort(&mg->fetch);
    event_free(mg->fetch_timer);
    rs_delivery_cancel_all(&mg->deliveries);
    for (size_t i = 0; i < mg->subs.len; i++) {
        rs_bulk_batcher_t *b = mg->subs.items[i]->bulk;
        mg->subs.items[i]->bulk = NULL;
        rs_bulk_batcher_free(b);
    }
    rs_subscriptions_free(&mg->subs);
    free(mg);
    sc->messaging = NULL;
}

rs_messaging_t *rs_messaging_get(rs_sidecar_t *sc) {
    if (sc->messaging || sc->shutting_down) return sc->messaging;
    rs_messaging_t *mg = rs_xcalloc(1, sizeof *mg);
    mg->sc = sc;
    mg->fetch_timer = evtimer_new(sc->base, on_fetch_timer, mg);
    sc->messaging = mg;
    rs_sidecar_on_app_ready(sc, on_app_ready, mg);
    rs_sidecar_on_app_health(sc, on_app_health, NULL); /* finds mg through sc: it outlives mg */
    rs_sidecar_on_shutdown(sc, on_shutdown, mg);
    return mg;
}

json_t *rs_subscriptions_metadata_json(rs_sidecar_t *sc) {
    rs_messaging_t *mg = sc->messaging;
    if (!mg || mg->subs.len == 0) return NULL;
    json_t *arr = json_array();
    for (size_t i = 0; i < mg->subs.len; i++) json_array_append_new(arr, rs_subscription_json(mg->subs.items[i]));
    return arr;
}

size_t rs_messaging_inflight(rs_sidecar_t *sc) { return sc->messaging ? sc->messaging->deliveries.count : 0; }
