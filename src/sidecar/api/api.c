/* SPDX-License-Identifier: MIT */
/* The handler chain of the Dapr API and the helpers every group uses. */
#include "sidecar/api/api.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/json_util.h"
#include "core/log.h"

void rs_api_health_register(rs_sidecar_t *sc);
void rs_api_metadata_register(rs_sidecar_t *sc);
void rs_api_shutdown_register(rs_sidecar_t *sc);
void rs_api_publish_register(rs_sidecar_t *sc);
void rs_api_bindings_register(rs_sidecar_t *sc);
void rs_api_state_register(rs_sidecar_t *sc);
void rs_api_lock_register(rs_sidecar_t *sc);
void rs_api_secrets_register(rs_sidecar_t *sc);
void rs_api_unimplemented_register(rs_sidecar_t *sc);
void rs_api_invoke_register(rs_sidecar_t *sc);
void rs_api_tracing_register(rs_sidecar_t *sc);

/* The token check runs first: every route but the two health probes needs
 * dapr-api-token when DAPR_API_TOKEN is set; the answer is plain text, not
 * JSON, as daprd's is. It also does --enable-api-logging. */
static int check_token(rs_http_req_t *r, void *ctx) {
    rs_sidecar_t *sc = ctx;
    if (sc->cfg.enable_api_logging) RS_INFO("api", "%s %s", r->method, r->path);
    if (!sc->cfg.api_token) return 0;
    if (strcmp(r->method, "GET") == 0 &&
        (strcmp(r->path, "/v1.0/healthz") == 0 || strcmp(r->path, "/v1.0/healthz/outbound") == 0))
        return 0;
    const char *got = rs_http_req_header(r, "dapr-api-token");
    if (rs_secret_equal(got, sc->cfg.api_token)) return 0;
    rs_kvlist_t h = {0};
    rs_kvlist_add(&h, "Content-Type", "text/plain");
    static const char msg[] = "invalid api token\n";
    rs_http_req_set_route(r, "unauthorized");
    rs_http_reply(r, 401, &h, msg, sizeof msg - 1);
    rs_kvlist_free(&h);
    return 1;
}

void rs_api_register_all(rs_sidecar_t *sc) {
    rs_http_server_t *s = sc->api;
    rs_api_tracing_register(sc); /* inbound spans around the whole chain (api/tracing.c) */
    rs_http_server_add(s, check_token, sc);
    rs_api_health_register(sc);
    rs_api_metadata_register(sc);
    rs_api_shutdown_register(sc);
    /* API groups: add one line each, above the invocation fallback. */
    rs_api_publish_register(sc);
    rs_api_bindings_register(sc);
    rs_api_state_register(sc);
    rs_api_lock_register(sc);
    rs_api_secrets_register(sc);
    /* Dapr routes ripstopd lacks answer 501 rather than reaching the fallback below. */
    rs_api_unimplemented_register(sc);
    /* The service-invocation fallback (any other path) must stay last. */
    rs_api_invoke_register(sc);
}

const char *rs_api_match(const rs_http_req_t *r, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(r->path, prefix, n) != 0) return NULL;
    return r->path + n;
}

void rs_api_query_metadata(const rs_http_req_t *r, rs_kvlist_t *out) {
    for (size_t i = 0; i < r->query_args.len; i++) {
        const rs_kv_t *kv = &r->query_args.items[i];
        if (strncmp(kv->key, "metadata.", 9) == 0 && kv->key[9]) rs_kvlist_set(out, kv->key + 9, kv->value);
    }
}

void rs_api_reply_err(rs_http_req_t *r, rs_dapr_err_t code, const char *fmt, ...) {
    char msg[RS_DAPR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rs_dapr_error_t err;
    rs_dapr_error_set(&err, code, "%s", msg);
    rs_api_reply_dapr_error(r, &err);
}

#define TYPE_URL_PREFIX "type.googleapis.com/google.rpc."

/* daprd's JSON of the rich details (dapr/kit errors, JSONErrorValue): one object per detail, "@type" first, in the
 * order of the gRPC trailer: [BadRequest | Help,] [ResourceInfo,] ErrorInfo. */
static json_t *details_json(const rs_dapr_error_t *err) {
    json_t *d = json_array();
    const char *url, *desc;
    if (err->field[0])
        json_array_append_new(d, json_pack("{s:s, s:[{s:s, s:s}]}", "@type", TYPE_URL_PREFIX "BadRequest",
                                           "field_violations", "field", err->field, "description", err->message));
    else if (rs_dapr_err_help(err->code, &url, &desc))
        json_array_append_new(d, json_pack("{s:s, s:[{s:s, s:s}]}", "@type", TYPE_URL_PREFIX "Help", "links",
                                           "description", desc, "url", url));
    const char *rtype = rs_dapr_err_resource_type(err->code);
    if (rtype)
        json_array_append_new(d, json_pack("{s:s, s:s, s:s, s:s, s:s}", "@type", TYPE_URL_PREFIX "ResourceInfo",
                                           "resource_type", rtype, "resource_name", err->resource, "owner", "",
                                           "description", strcmp(rtype, "pubsub") == 0 ? err->message : ""));
    json_t *md = json_object();
    for (size_t i = 0; i < err->n_meta; i++) json_object_set_new(md, err->meta[i].key, json_string(err->meta[i].value));
    json_array_append_new(d, json_pack("{s:s, s:s, s:s, s:o}", "@type", TYPE_URL_PREFIX "ErrorInfo", "reason",
                                       rs_dapr_err_reason(err->code), "domain", RS_DAPR_ERROR_DOMAIN, "metadata", md));
    return d;
}

void rs_api_reply_dapr_error(rs_http_req_t *r, const rs_dapr_error_t *err) {
    int status = rs_dapr_err_http(err->code);
    if (!rs_dapr_err_reason(err->code)) {
        rs_http_reply_error(r, status, rs_dapr_err_code(err->code), "%s", err->message);
        return;
    }
    /* the strings of a table error are well-formed UTF-8 (rs_dapr_error_set and friends) */
    rs_http_reply_json(r, status,
                       json_pack("{s:s, s:s, s:o}", "errorCode", rs_dapr_err_code(err->code), "message", err->message,
                                 "details", details_json(err)));
}

json_t *rs_api_body_json(rs_http_req_t *r) {
    char why[RS_ERR_MAX];
    json_t *v = rs_json_parse(r->body, r->body_len, why, sizeof why);
    if (!v) rs_api_reply_err(r, RS_ERR_MALFORMED_REQUEST, "failed deserializing HTTP body: %s", why);
    return v;
}

const char *rs_api_next_segment(const char *path, char *seg, size_t seglen) {
    const char *slash = strchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : strlen(path);
    if (n >= seglen) n = seglen - 1;
    memcpy(seg, path, n);
    seg[n] = '\0';
    return slash ? slash + 1 : "";
}
