/* SPDX-License-Identifier: MIT */
/* GET /v1.0/metadata and PUT /v1.0/metadata/{key} (spec §2.7). */
#include <string.h>

#include "sidecar/api/api.h"
#include "sidecar/messaging/messaging.h"

static json_t *components_json(rs_sidecar_t *sc) {
    json_t *list = json_array();
    for (size_t i = 0; i < sc->ncomponents; i++) {
        const rs_component_t *c = sc->components[i];
        json_t *caps = json_array();
        if (c->type->capabilities)
            for (const char *const *p = c->type->capabilities; *p; p++) json_array_append_new(caps, json_string(*p));
        json_t *o = json_pack("{s:s, s:s, s:s}", "name", c->name, "type", c->type->type, "version", c->version);
        if (json_array_size(caps)) json_object_set_new(o, "capabilities", caps);
        else json_decref(caps);
        json_array_append_new(list, o);
    }
    return list;
}

static int handle_metadata(rs_http_req_t *r, void *ctx) {
    rs_sidecar_t *sc = ctx;
    const char *rest = rs_api_match(r, "/v1.0/metadata");
    if (!rest) return 0;
    if (*rest == '\0' && strcmp(r->method, "GET") == 0) {
        rs_http_req_set_route(r, "/v1.0/metadata");
        json_t *o = json_pack("{s:s, s:s, s:[]}", "id", sc->cfg.app_id, "runtimeVersion", "ripstopd-" RIPSTOP_VERSION,
                              "enabledFeatures");
        json_object_set_new(o, "components", components_json(sc));
        if (sc->extended_metadata.len) {
            json_t *ext = json_object();
            for (size_t i = 0; i < sc->extended_metadata.len; i++)
                json_object_set_new(ext, sc->extended_metadata.items[i].key,
                                    json_string(sc->extended_metadata.items[i].value));
            json_object_set_new(o, "extended", ext);
        }
        json_object_set_new(o, "subscriptions", rs_subscriptions_metadata_json(sc));
        if (sc->cfg.app_port) {
            json_object_set_new(o, "appConnectionProperties",
                                json_pack("{s:i, s:s, s:s, s:i}", "port", sc->cfg.app_port, "protocol", "http",
                                          "channelAddress", sc->cfg.app_channel_address, "maxConcurrency", -1));
        }
        rs_http_reply_json(r, 200, o);
        return 1;
    }
    if (rest[0] == '/' && rest[1] && strcmp(r->method, "PUT") == 0) {
        rs_http_req_set_route(r, "/v1.0/metadata/{key}");
        rs_kvlist_set(&sc->extended_metadata, rest + 1, r->body);
        rs_http_reply_empty(r, 204);
        return 1;
    }
    return 0;
}

void rs_api_metadata_register(rs_sidecar_t *sc) { rs_http_server_add(sc->api, handle_metadata, sc); }
