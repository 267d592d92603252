/* SPDX-License-Identifier: MIT */
/* The Dapr HTTP API of ripstopd. One file per API group (health.c,
 * metadata.c, state.c, lock.c, secrets.c, publish.c, bindings.c, invoke.c);
 * each exports one rs_api_<group>_register() that adds its handler(s) to the
 * server chain. api.c calls them in order; service invocation's fallback
 * (any unmatched path) must stay last. */
#ifndef RS_SIDECAR_API_H
#define RS_SIDECAR_API_H

#include "http/server.h"
#include "sidecar/errors/errors.h"
#include "sidecar/runtime/sidecar.h"

/** Registers every API group on sc->api. */
void rs_api_register_all(rs_sidecar_t *sc);

/** If r->path starts with `prefix`, returns the rest of the path (may be ""), else NULL. Method is not checked. */
const char *rs_api_match(const rs_http_req_t *r, const char *prefix);
/** Collects query parameters `metadata.<k>=<v>` into out as <k> -> <v>. */
void rs_api_query_metadata(const rs_http_req_t *r, rs_kvlist_t *out);
/** Replies with the table row's HTTP status and Dapr's JSON error body {"errorCode","message"}. */
void rs_api_reply_err(rs_http_req_t *r, rs_dapr_err_t code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** Replies with an error the operation layer reported. */
void rs_api_reply_dapr_error(rs_http_req_t *r, const rs_dapr_error_t *err);
/** Parses the request body as JSON; on failure replies 400 ERR_MALFORMED_REQUEST and returns NULL. */
json_t *rs_api_body_json(rs_http_req_t *r);
/** Splits "a/b/c" at the first '/': copies the first segment into seg (bounded) and returns the rest after '/', or "" . */
const char *rs_api_next_segment(const char *path, char *seg, size_t seglen);

#endif
