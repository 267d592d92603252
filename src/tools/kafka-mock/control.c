/* SPDX-License-Identifier: MIT */
/* The control API routes. Every request is answered at once: the cluster
 * setters are quick, thread-safe calls into librdkafka. */
#include "control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_util.h"

#define BAD "ERR_BAD_REQUEST"

/* Parses "/brokers/<id|all>/<verb>" into id (0 = all) and verb. Returns 0 or -1. */
static int parse_broker_path(const char *path, int *id, const char **verb) {
    const char *p = path + strlen("/brokers/");
    const char *slash = strchr(p, '/');
    if (!slash || slash == p || strchr(slash + 1, '/')) return -1;
    char idbuf[16];
    size_t n = (size_t)(slash - p);
    if (n >= sizeof idbuf) return -1;
    memcpy(idbuf, p, n);
    idbuf[n] = 0;
    if (strcmp(idbuf, "all") == 0) {
        *id = 0;
    } else {
        long long v;
        if (rs_parse_int64(idbuf, &v) || v < 1 || v > 1000000) return -1;
        *id = (int)v;
    }
    *verb = slash + 1;
    return 0;
}

/* Reads an integer member that may be absent (default) or a JSON integer. Returns 0 or -1 if mistyped. */
static int int_member(json_t *o, const char *key, int def, int *out) {
    json_t *v = json_object_get(o, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < -1000000000 || json_integer_value(v) > 1000000000) return -1;
    *out = (int)json_integer_value(v);
    return 0;
}

static json_t *body_object(rs_http_req_t *req) {
    char e[160];
    json_t *o = req->body_len ? rs_json_parse(req->body, req->body_len, e, sizeof e) : json_object();
    if (!o) {
        rs_http_reply_error(req, 400, BAD, "invalid JSON body: %s", e);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        rs_http_reply_error(req, 400, BAD, "body must be a JSON object");
        return NULL;
    }
    return o;
}

static void reply_state(rs_http_req_t *req, rs_kmock_t *m) { rs_http_reply_json(req, 200, rs_kmock_state_json(m)); }

static void handle_broker(rs_http_req_t *req, rs_kmock_t *m) {
    int id;
    const char *verb;
    char err[200];
    if (parse_broker_path(req->path, &id, &verb)) {
        rs_http_reply_error(req, 400, BAD, "expected /brokers/{id|all}/{latency|down|up}");
        return;
    }
    if (strcmp(verb, "latency") == 0) {
        if (strcmp(req->method, "PUT") && strcmp(req->method, "POST")) {
            rs_http_reply_error(req, 405, BAD, "use PUT");
            return;
        }
        json_t *o = body_object(req);
        if (!o) return;
        int lat, jit;
        if (int_member(o, "latency_ms", 0, &lat) || int_member(o, "jitter_ms", 0, &jit)) {
            json_decref(o);
            rs_http_reply_error(req, 400, BAD, "latency_ms and jitter_ms must be integers");
            return;
        }
        json_decref(o);
        if (rs_kmock_set_latency(m, id, lat, jit, err, sizeof err)) {
            rs_http_reply_error(req, id > rs_kmock_broker_count(m) ? 404 : 400, BAD, "%s", err);
            return;
        }
        reply_state(req, m);
        return;
    }
    if (strcmp(verb, "down") == 0 || strcmp(verb, "up") == 0) {
        if (strcmp(req->method, "POST") && strcmp(req->method, "PUT")) {
            rs_http_reply_error(req, 405, BAD, "use POST");
            return;
        }
        if (rs_kmock_set_up(m, id, verb[0] == 'u', err, sizeof err)) {
            rs_http_reply_error(req, id > rs_kmock_broker_count(m) ? 404 : 400, BAD, "%s", err);
            return;
        }
        reply_state(req, m);
        return;
    }
    rs_http_reply_error(req, 404, BAD, "unknown broker operation '%s'", verb);
}

static int api_of(json_t *v) {
    if (json_is_integer(v)) {
        json_int_t k = json_integer_value(v);
        return k >= 0 && k <= 32767 ? (int)k : -1;
    }
    return json_is_string(v) ? rs_kmock_api_key(json_string_value(v)) : -1;
}

static int error_of(json_t *v, int *out) {
    if (json_is_integer(v)) {
        *out = (int)json_integer_value(v);
        return json_integer_value(v) >= -200 && json_integer_value(v) <= 1000 ? 0 : -1;
    }
    return json_is_string(v) ? rs_kmock_error_code(json_string_value(v), out) : -1;
}

static void handle_push_errors(rs_http_req_t *req, rs_kmock_t *m) {
    json_t *o = body_object(req);
    if (!o) return;
    int api = api_of(json_object_get(o, "api"));
    json_t *list = json_object_get(o, "errors");
    json_t *one = json_object_get(o, "error");
    int *codes = NULL;
    size_t n = 0;
    char err[200];
    if (api < 0) {
        rs_http_reply_error(req, 400, BAD, "'api' must be a Kafka API name (Produce, Fetch, ...) or ApiKey number");
        goto out;
    }
    if (json_is_array(list) && json_array_size(list) > 0 && json_array_size(list) <= 100000) {
        n = json_array_size(list);
        codes = rs_xcalloc(n, sizeof *codes);
        for (size_t i = 0; i < n; i++)
            if (error_of(json_array_get(list, i), &codes[i])) {
                rs_http_reply_error(req, 400, BAD, "errors[%zu] is not a known Kafka error name or code", i);
                goto out;
            }
    } else if (one) {
        int code, count;
        if (error_of(one, &code)) {
            rs_http_reply_error(req, 400, BAD, "'error' is not a known Kafka error name or code");
            goto out;
        }
        if (int_member(o, "count", 1, &count) || count < 1 || count > 100000) {
            rs_http_reply_error(req, 400, BAD, "'count' must be 1..100000");
            goto out;
        }
        n = (size_t)count;
        codes = rs_xcalloc(n, sizeof *codes);
        for (size_t i = 0; i < n; i++) codes[i] = code;
    } else {
        rs_http_reply_error(req, 400, BAD, "give 'errors' (a non-empty array) or 'error' with an optional 'count'");
        goto out;
    }
    if (rs_kmock_push_errors(m, api, n, codes, err, sizeof err)) {
        rs_http_reply_error(req, 400, BAD, "%s", err);
        goto out;
    }
    rs_http_reply_json(req, 200, json_pack("{s:i,s:I}", "api", api, "queued", (json_int_t)n));
out:
    free(codes);
    json_decref(o);
}

static void handle_create_topic(rs_http_req_t *req, rs_kmock_t *m) {
    json_t *o = body_object(req);
    if (!o) return;
    const char *name = rs_json_str(o, "name");
    int partitions;
    char err[200];
    if (!name || int_member(o, "partitions", 1, &partitions)) {
        rs_http_reply_error(req, 400, BAD, "expected {\"name\": string, \"partitions\": integer}");
    } else if (rs_kmock_create_topic(m, name, partitions, err, sizeof err)) {
        rs_http_reply_error(req, 400, BAD, "%s", err);
    } else {
        rs_http_reply_json(req, 201, json_pack("{s:s,s:i}", "name", name, "partitions", partitions));
    }
    json_decref(o);
}

static int handle(rs_http_req_t *req, void *ctx) {
    rs_kmock_t *m = ctx;
    const char *p = req->path;
    int get = strcmp(req->method, "GET") == 0;
    if (strcmp(p, "/healthz") == 0 && get) {
        rs_http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
    } else if (strcmp(p, "/state") == 0 && get) {
        reply_state(req, m);
    } else if (rs_has_prefix(p, "/brokers/")) {
        handle_broker(req, m);
    } else if (strcmp(p, "/errors") == 0 && strcmp(req->method, "POST") == 0) {
        handle_push_errors(req, m);
    } else if (rs_has_prefix(p, "/errors/") && strcmp(req->method, "DELETE") == 0) {
        int api = rs_kmock_api_key(p + strlen("/errors/"));
        if (api < 0) {
            rs_http_reply_error(req, 400, BAD, "unknown Kafka API '%s'", p + strlen("/errors/"));
        } else {
            rs_kmock_clear_errors(m, api);
            rs_http_reply_empty(req, 204);
        }
    } else if (strcmp(p, "/topics") == 0 && strcmp(req->method, "POST") == 0) {
        handle_create_topic(req, m);
    } else {
        rs_http_reply_error(req, 404, "ERR_NOT_FOUND", "no route %s %s", req->method, p);
    }
    return 1;
}

void rs_kmock_control_attach(rs_http_server_t *s, rs_kmock_t *m) { rs_http_server_add(s, handle, m); }
