/* SPDX-License-Identifier: MIT */
/* HTTP adapter of service invocation (spec §2.1): `/v1.0/invoke/{appId}/method/{method...}`,
 * the `dapr-app-id` header on any other path, and basic auth with user
 * `dapr-app-id`. One handler serves all three and must be registered last.
 *
 * It only finds the target app id and method in the request, hands the
 * request's own method, headers, query and body to the operation
 * (ops/invoke.c: resiliency, name resolution, peer hop or app channel,
 * metrics) and writes its answer back: the app's status, headers and body
 * unchanged, or Dapr's error body. The request's buffers live until the
 * reply, so the operation borrows them instead of copying (every attempt
 * replays them). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/encoding.h"
#include "sidecar/api/api.h"
#include "sidecar/ops/invoke.h"

void rs_api_invoke_register(rs_sidecar_t *sc);

#define ROUTE_INVOKE "/v1.0/invoke/{id}/method/{method}"
#define ROUTE_HEADER "invoke (dapr-app-id)"
#define ROUTE_HOP "/v1.0/invoke/{id}/method/{method} (hop)"

static void on_client_gone(rs_http_req_t *r, void *arg) {
    /* The caller hung up: stop the operation (even a retry-forever one) and release the request. */
    rs_op_cancel(arg);
    rs_http_reply_empty(r, 499);
}

static void on_done(void *arg, rs_invoke_reply_t *reply, const rs_dapr_error_t *err) {
    rs_http_req_t *r = arg;
    rs_http_req_on_close(r, NULL, NULL);
    if (err) rs_api_reply_dapr_error(r, err);
    else rs_http_reply(r, reply->status, reply->headers, reply->body, reply->body_len);
}

/* ---------- request parsing ---------- */

/* "dapr-app-id:<id>" in a Basic Authorization header. */
static int basic_auth_app_id(const rs_http_req_t *r, char *out, size_t outlen) {
    const char *a = rs_http_req_header(r, "authorization");
    if (!a || strncasecmp(a, "Basic ", 6) != 0) return -1;
    a += 6;
    size_t n = strlen(a);
    if (n == 0 || n > 1024 || n % 4) return -1;
    unsigned char dec[800];
    int len = EVP_DecodeBlock(dec, (const unsigned char *)a, (int)n);
    if (len < 0) return -1;
    while (len > 0 && a[n - 1] == '=') { /* EVP_DecodeBlock counts padding as zero bytes */
        len--;
        n--;
    }
    dec[len] = '\0';
    if (strncmp((char *)dec, "dapr-app-id:", 12) != 0 || !dec[12]) return -1;
    snprintf(out, outlen, "%s", (char *)dec + 12);
    return 0;
}

static int on_invoke(rs_http_req_t *r, void *arg) {
    rs_sidecar_t *sc = arg;
    char app_id[256] = "";
    const char *method = NULL;
    const char *route = ROUTE_HEADER;
    const char *hdr;
    if (strncmp(r->raw_path, "/v1.0/invoke/", 13) == 0) {
        const char *rest = r->raw_path + 13;
        const char *slash = strchr(rest, '/');
        if (slash && strncmp(slash, "/method/", 8) == 0 && (size_t)(slash - rest) < sizeof app_id) {
            size_t n; /* the id segment, percent-decoded */
            char *id = rs_percent_decode(rest, (size_t)(slash - rest), 0, &n);
            int ok = id && strlen(id) == n;
            if (ok) memcpy(app_id, id, n + 1);
            free(id);
            if (!ok) { /* (the server refuses these in any path already; kept so this code needs no such promise) */
                rs_api_reply_err(r, RS_ERR_DIRECT_INVOKE_INVALID, "invalid app id: bad escape or NUL");
                return 1;
            }
            method = slash + 8;
            route = ROUTE_INVOKE;
        }
    }
    if (!method) {
        if ((hdr = rs_http_req_header(r, "dapr-app-id")) && *hdr) snprintf(app_id, sizeof app_id, "%s", hdr);
        else if (basic_auth_app_id(r, app_id, sizeof app_id) != 0) app_id[0] = '\0';
        method = r->raw_path[0] == '/' ? r->raw_path + 1 : r->raw_path;
    }
    rs_http_req_set_route(r, route);
    rs_invoke_request_t req = {.app_id = app_id,
                               .method = method,
                               .verb = r->method,
                               .query = r->query,
                               .headers = &r->headers,
                               .caller_address = r->peer,
                               .body = r->body,
                               .body_len = r->body_len};
    rs_op_t *op = rs_ops_invoke(sc, &req, on_done, r); /* NULL: on_done already replied */
    if (op) {
        if (rs_ops_invoke_op_is_hop(op)) rs_http_req_set_route(r, ROUTE_HOP); /* (the key compared once) */
        rs_http_req_on_close(r, on_client_gone, op);
    }
    return 1;
}

void rs_api_invoke_register(rs_sidecar_t *sc) {
    rs_ops_invoke_attach(sc);
    rs_http_server_add(sc->api, on_invoke, sc);
}
