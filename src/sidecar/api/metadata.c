/* SPDX-License-Identifier: MIT */
/* HTTP adapter of GET /v1.0/metadata and PUT /v1.0/metadata/{key} (spec §2.7); the data is ops/metadata.c's. */
#include <string.h>

#include "sidecar/api/api.h"
#include "sidecar/ops/metadata.h"

static json_t *components_json(const rs_metadata_t *m) {
    json_t *list = json_array();
    for (size_t i = 0; i < m->ncomponents; i++) {
        const rs_metadata_component_t *c = &m->components[i];
        json_t *caps = json_array();
        if (c->capabilities)
            for (const char *const *p = c->capabilities; *p; p++) json_array_append_new(caps, json_string(*p));
        json_t *o = json_pack("{s:s, s:s, s:s}", "name", c->name, "type", c->type, "version", c->version);
        if (json_array_size(caps)) json_object_set_new(o, "capabilities", caps);
        else json_decref(caps);
        json_array_append_new(list, o);
    }
    return list;
}

static json_t *metadata_json(rs_metadata_t *m) {
    json_t *o = json_pack("{s:s, s:s, s:[]}", "id", m->id, "runtimeVersion", m->runtime_version, "enabledFeatures");
    json_object_set_new(o, "components", components_json(m));
    if (m->extended->len) {
        json_t *ext = json_object();
        for (size_t i = 0; i < m->extended->len; i++)
            json_object_set_new(ext, m->extended->items[i].key, json_string(m->extended->items[i].value));
        json_object_set_new(o, "extended", ext);
    }
    json_object_set(o, "subscriptions", m->subscriptions);
    if (m->app_port) {
        json_t *app = json_pack("{s:i, s:s, s:s, s:i}", "port", m->app_port, "protocol", m->app_protocol,
                                "channelAddress", m->app_channel_address, "maxConcurrency", -1);
        if (m->app_health) {
            json_t *h = json_pack("{s:s, s:s, s:i}", "healthProbeInterval", m->health_probe_interval,
                                  "healthProbeTimeout", m->health_probe_timeout, "healthThreshold", m->health_threshold);
            if (m->health_check_path) json_object_set_new(h, "healthCheckPath", json_string(m->health_check_path));
            json_object_set_new(app, "health", h);
        }
        json_object_set_new(o, "appConnectionProperties", app);
    }
    return o;
}

static int handle_metadata(rs_http_req_t *r, void *ctx) {
    rs_sidecar_t *sc = ctx;
    const char *rest = rs_api_match(r, "/v1.0/metadata");
    if (!rest) return 0;
    if (*rest == '\0' && strcmp(r->method, "GET") == 0) {
        rs_http_req_set_route(r, "/v1.0/metadata");
        rs_metadata_t m;
        rs_ops_metadata_get(sc, &m);
        rs_http_reply_json(r, 200, metadata_json(&m));
        rs_ops_metadata_release(&m);
        return 1;
    }
    if (rest[0] == '/' && rest[1] && strcmp(r->method, "PUT") == 0) {
        rs_http_req_set_route(r, "/v1.0/metadata/{key}");
        rs_dapr_error_t err;
        if (rs_ops_metadata_put(sc, rest + 1, r->body, &err) != 0) rs_api_reply_dapr_error(r, &err);
        else rs_http_reply_empty(r, 204);
        return 1;
    }
    return 0;
}

void rs_api_metadata_register(rs_sidecar_t *sc) { rs_http_server_add(sc->api, handle_metadata, sc); }
