/* SPDX-License-Identifier: MIT */
/* Subscriptions (spec §2.3): declarative (Subscription resources v1alpha1 and
 * v2alpha1) and programmatic (the app's answer to GET /dapr/subscribe),
 * merged into one list, and the choice of a route for an event.
 *
 * Like Dapr, every route is a rule: v2alpha1 rules first, in order, then the
 * default route (or v1alpha1 `route`) as a rule without a match, which always
 * matches. A subscription without any route is dropped. */
#ifndef RS_SIDECAR_SUBSCRIPTIONS_H
#define RS_SIDECAR_SUBSCRIPTIONS_H

#include <jansson.h>
#include <stddef.h>

#include "core/str.h"
#include "sidecar/cel/cel.h"
#include "sidecar/resources/resources.h"

typedef struct rs_route_rule {
    char *match_src;  /* the CEL text, "" for the default route */
    rs_cel_t *match;  /* NULL: always matches */
    char *path;       /* app path, always starting with '/' */
} rs_route_rule_t;

typedef struct rs_subscription {
    char *pubsubname;
    char *topic;
    rs_route_rule_t *rules;
    size_t nrules;
    char *dead_letter_topic;  /* NULL if none */
    rs_kvlist_t metadata;
    int raw_payload;          /* metadata rawPayload=true */
    int programmatic;         /* 1: from GET /dapr/subscribe, 0: declarative */
    int bulk_enabled;         /* bulkSubscribe.enabled */
    int bulk_max_messages;    /* bulkSubscribe.maxMessagesCount, default 100 */
    int bulk_max_await_ms;    /* bulkSubscribe.maxAwaitDurationMs, default 1000 */
    /* runtime, set by the messaging module: */
    struct rs_component *component;
    int active;               /* subscribed on the component */
    struct rs_bulk_batcher *bulk; /* collects messages when bulk_enabled */
} rs_subscription_t;

typedef struct rs_subscriptions {
    rs_subscription_t **items;
    size_t len;
} rs_subscriptions_t;

/** Adds the declarative subscriptions (already filtered by scopes). Invalid ones (bad CEL, no route) are logged and
 *  skipped. */
void rs_subscriptions_add_declarative(rs_subscriptions_t *l, const rs_resources_t *r);

/** Parses the app's GET /dapr/subscribe body and adds its items. Returns 0, or -1 with a reason (not a JSON array,
 *  a non-string metadata value, an invalid match): then nothing is added, as in Dapr. Items without pubsubname,
 *  topic or route are skipped. */
int rs_subscriptions_add_programmatic(rs_subscriptions_t *l, const char *body, size_t len, char *err, size_t errlen);

/** Moves the items of `from` to the end of `into`, skipping (with a warning) any whose pubsubname + topic is
 *  already in `into`. Call with the programmatic list as `into`: it wins, as in Dapr. `from` ends up empty. */
void rs_subscriptions_merge(rs_subscriptions_t *into, rs_subscriptions_t *from);

/** Finds the subscription for pubsub + topic, or NULL. */
rs_subscription_t *rs_subscriptions_find(const rs_subscriptions_t *l, const char *pubsub, const char *topic);

/** Chooses the route for an event (a parsed CloudEvent object): the first rule whose match is true; rules whose
 *  match fails to evaluate do not match. Returns the path (owned by s), or NULL when nothing matches. */
const char *rs_subscription_route(const rs_subscription_t *s, const json_t *event);

/** The subscription as GET /v1.0/metadata shows it: {pubsubname, topic, metadata?, rules:[{match,path}],
 *  deadLetterTopic?, type: DECLARATIVE|PROGRAMMATIC}. */
json_t *rs_subscription_json(const rs_subscription_t *s);

void rs_subscription_free(rs_subscription_t *s);
void rs_subscriptions_free(rs_subscriptions_t *l);

#endif
