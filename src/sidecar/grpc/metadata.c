/* SPDX-License-Identifier: MIT */
/* gRPC adapter of GetMetadata and SetMetadata (ops/metadata.c), and Shutdown
 * (answered, then the sidecar stops gracefully on the next loop turn, as
 * POST /v1.0/shutdown does). */
#include <stdlib.h>
#include <string.h>

#include "core/json_util.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "sidecar/grpc/api.h"
#include "sidecar/ops/metadata.h"

typedef Dapr__Proto__Runtime__V1__PubsubSubscription pb_sub_t;
typedef Dapr__Proto__Runtime__V1__PubsubSubscriptionRule pb_rule_t;

/* Everything one reply owns, freed after it is packed. */
struct owned {
    void **blocks;
    size_t n;
};

static void *own(struct owned *o, void *p) {
    o->blocks = rs_xrealloc(o->blocks, (o->n + 1) * sizeof *o->blocks);
    o->blocks[o->n++] = p;
    return p;
}

static void owned_free(struct owned *o) {
    for (size_t i = 0; i < o->n; i++) free(o->blocks[i]);
    free(o->blocks);
}

/* One subscription from its metadata JSON (messaging's rs_subscription_json shape). */
static pb_sub_t *subscription(json_t *js, struct owned *o, rs_kvlist_t *md) {
    pb_sub_t *s = own(o, rs_xcalloc(1, sizeof *s));
    dapr__proto__runtime__v1__pubsub_subscription__init(s);
    s->pubsub_name = (char *)(rs_json_str(js, "pubsubname") ? rs_json_str(js, "pubsubname") : "");
    s->topic = (char *)(rs_json_str(js, "topic") ? rs_json_str(js, "topic") : "");
    if (rs_json_str(js, "deadLetterTopic")) s->dead_letter_topic = (char *)rs_json_str(js, "deadLetterTopic");
    const char *type = rs_json_str(js, "type");
    s->type = type && strcmp(type, "PROGRAMMATIC") == 0 ? DAPR__PROTO__RUNTIME__V1__PUBSUB_SUBSCRIPTION_TYPE__PROGRAMMATIC
                                                        : DAPR__PROTO__RUNTIME__V1__PUBSUB_SUBSCRIPTION_TYPE__DECLARATIVE;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(js, "metadata"), k, v) if (json_is_string(v))
        rs_kvlist_add(md, k, json_string_value(v));
    s->n_metadata = md->len;
    s->metadata = own(o, rs_grpc_map_build(md, &dapr__proto__runtime__v1__pubsub_subscription__metadata_entry__descriptor));
    json_t *rules = json_object_get(js, "rules");
    size_t n = json_array_size(rules);
    Dapr__Proto__Runtime__V1__PubsubSubscriptionRules *rs = own(o, rs_xcalloc(1, sizeof *rs));
    dapr__proto__runtime__v1__pubsub_subscription_rules__init(rs);
    pb_rule_t *r = own(o, rs_xcalloc(n + 1, sizeof *r));
    pb_rule_t **rp = own(o, rs_xcalloc(n + 1, sizeof *rp));
    for (size_t i = 0; i < n; i++) {
        json_t *jr = json_array_get(rules, i);
        dapr__proto__runtime__v1__pubsub_subscription_rule__init(&r[i]);
        if (rs_json_str(jr, "match")) r[i].match = (char *)rs_json_str(jr, "match");
        if (rs_json_str(jr, "path")) r[i].path = (char *)rs_json_str(jr, "path");
        rp[i] = &r[i];
    }
    rs->n_rules = n;
    rs->rules = rp;
    s->rules = rs;
    return s;
}

static void get_metadata(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *req) {
    rs_metadata_t m;
    rs_ops_metadata_get(sc, &m);
    struct owned o = {0};
    Dapr__Proto__Runtime__V1__GetMetadataResponse r = DAPR__PROTO__RUNTIME__V1__GET_METADATA_RESPONSE__INIT;
    r.id = (char *)m.id;
    r.runtime_version = (char *)m.runtime_version;
    Dapr__Proto__Runtime__V1__RegisteredComponents *cs = own(&o, rs_xcalloc(m.ncomponents + 1, sizeof *cs));
    Dapr__Proto__Runtime__V1__RegisteredComponents **cp = own(&o, rs_xcalloc(m.ncomponents + 1, sizeof *cp));
    for (size_t i = 0; i < m.ncomponents; i++) {
        dapr__proto__runtime__v1__registered_components__init(&cs[i]);
        cs[i].name = (char *)m.components[i].name;
        cs[i].type = (char *)m.components[i].type;
        cs[i].version = (char *)m.components[i].version;
        size_t nc = 0;
        while (m.components[i].capabilities && m.components[i].capabilities[nc]) nc++;
        cs[i].n_capabilities = nc;
        cs[i].capabilities = (char **)m.components[i].capabilities;
        cp[i] = &cs[i];
    }
    r.n_registered_components = m.ncomponents;
    r.registered_components = cp;
    r.n_extended_metadata = m.extended->len;
    r.extended_metadata = own(&o, rs_grpc_map_build(
        m.extended, &dapr__proto__runtime__v1__get_metadata_response__extended_metadata_entry__descriptor));
    size_t ns = json_array_size(m.subscriptions);
    pb_sub_t **sp = own(&o, rs_xcalloc(ns + 1, sizeof *sp));
    rs_kvlist_t *sub_md = rs_xcalloc(ns + 1, sizeof *sub_md);
    for (size_t i = 0; i < ns; i++) sp[i] = subscription(json_array_get(m.subscriptions, i), &o, &sub_md[i]);
    r.n_subscriptions = ns;
    r.subscriptions = sp;
    Dapr__Proto__Runtime__V1__AppConnectionProperties app = DAPR__PROTO__RUNTIME__V1__APP_CONNECTION_PROPERTIES__INIT;
    Dapr__Proto__Runtime__V1__AppConnectionHealthProperties health =
        DAPR__PROTO__RUNTIME__V1__APP_CONNECTION_HEALTH_PROPERTIES__INIT;
    if (m.app_port) {
        app.port = m.app_port;
        app.protocol = (char *)m.app_protocol;
        app.channel_address = (char *)m.app_channel_address;
        app.max_concurrency = -1;
        if (m.app_health) {
            health.health_check_path = (char *)(m.health_check_path ? m.health_check_path : "");
            health.health_probe_interval = m.health_probe_interval;
            health.health_probe_timeout = m.health_probe_timeout;
            health.health_threshold = m.health_threshold;
            app.health = &health;
        }
        r.app_connection_properties = &app;
    }
    rs_grpc_call_reply(call, &r.base);
    for (size_t i = 0; i < ns; i++) rs_kvlist_free(&sub_md[i]);
    free(sub_md);
    owned_free(&o);
    rs_ops_metadata_release(&m);
}

static void set_metadata(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *req) {
    const Dapr__Proto__Runtime__V1__SetMetadataRequest *in = (const void *)req;
    rs_dapr_error_t err;
    if (rs_ops_metadata_put(sc, in->key ? in->key : "", in->value ? in->value : "", &err) != 0)
        rs_grpc_reply_dapr_error(call, &err);
    else
        rs_grpc_reply_empty(call);
}

static void shutdown_later(evutil_socket_t fd, short what, void *arg) { rs_sidecar_shutdown(arg); }

static void shutdown_sidecar(rs_sidecar_t *sc, rs_grpc_call_t *call, const ProtobufCMessage *req) {
    rs_grpc_reply_empty(call);
    /* after a short while, so the reply is written before the loop stops */
    struct timeval tv = {0, 50 * 1000};
    event_base_once(sc->base, -1, EV_TIMEOUT, shutdown_later, sc, &tv);
}

const rs_grpc_method_t rs_grpc_metadata_methods[] = {
    {"GetMetadata", &dapr__proto__runtime__v1__get_metadata_request__descriptor, get_metadata},
    {"SetMetadata", &dapr__proto__runtime__v1__set_metadata_request__descriptor, set_metadata},
    {"Shutdown", &dapr__proto__runtime__v1__shutdown_request__descriptor, shutdown_sidecar},
    {NULL, NULL, NULL},
};
