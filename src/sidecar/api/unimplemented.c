/* SPDX-License-Identifier: MIT */
/* Dapr API routes that ripstopd does not implement (actors, workflows, configuration, crypto, jobs,
 * conversation, state query). They answer 501 ERR_NOT_IMPLEMENTED naming the route instead of falling
 * through to service invocation, whose "failed getting app id" would mislead. A path Dapr does not have
 * at all still reaches the invocation fallback and its 404. Registered just above that fallback. */
#include <string.h>

#include "sidecar/api/api.h"

typedef struct {
    const char *prefix; /* path prefix; a trailing '/' matches the group and everything below it */
    const char *route;  /* the route label for metrics (static, as rs_http_req_set_route needs) */
    const char *what;   /* the API named in the answer */
} unimplemented_t;

/* Dapr's HTTP API groups (daprd 1.14+) that ripstopd has no implementation of. */
static const unimplemented_t routes[] = {
    {"/v1.0/actors/", "/v1.0/actors", "actors"},
    {"/v1.0-alpha1/workflows/", "/v1.0-alpha1/workflows", "workflows"},
    {"/v1.0-beta1/workflows/", "/v1.0-beta1/workflows", "workflows"},
    {"/v1.0/workflows/", "/v1.0/workflows", "workflows"},
    {"/v1.0/configuration/", "/v1.0/configuration", "configuration"},
    {"/v1.0-alpha1/configuration/", "/v1.0-alpha1/configuration", "configuration"},
    {"/v1.0-alpha1/crypto/", "/v1.0-alpha1/crypto", "cryptography"},
    {"/v1.0-alpha1/jobs/", "/v1.0-alpha1/jobs", "jobs"},
    {"/v1.0-alpha1/conversation/", "/v1.0-alpha1/conversation", "conversation"},
    {"/v1.0-alpha2/conversation/", "/v1.0-alpha2/conversation", "conversation"},
    {"/v1.0-alpha1/state/", "/v1.0-alpha1/state/{store}/query", "state query"},
    {"/v1.0-beta1/state/", "/v1.0-beta1/state/{store}/query", "state query"},
};

static int on_request(rs_http_req_t *r, void *ctx) {
    (void)ctx;
    /* Every request that reaches invocation passes here first: the /v1.0/ groups above start with a, w or c, so
     * /v1.0/invoke/... is turned away on one letter instead of twelve prefix compares (~1,500 instructions). */
    if (strncmp(r->path, "/v1.0/", 6) == 0 && !strchr("awc", r->path[6])) return 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const unimplemented_t *u = &routes[i];
        const char *rest = rs_api_match(r, u->prefix);
        size_t n = strlen(u->prefix) - 1; /* also the group's own path without the slash */
        if (!rest && !(strncmp(r->path, u->prefix, n) == 0 && r->path[n] == '\0')) continue;
        rs_http_req_set_route(r, u->route);
        rs_api_reply_err(r, RS_ERR_NOT_IMPLEMENTED, "%s %s: the %s API is not implemented by ripstopd", r->method,
                         r->path, u->what);
        return 1;
    }
    return 0;
}

void rs_api_unimplemented_register(rs_sidecar_t *sc) { rs_http_server_add(sc->api, on_request, sc); }
