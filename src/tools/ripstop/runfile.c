/* SPDX-License-Identifier: MIT */
/* Run-file parsing with libfyaml directly (not the YAML→JSON helper) so that
 * every error can name the line of the offending key. Parsing happens in two
 * steps: the raw fields of `common` and of each app are collected exactly as
 * written, then merged (Dapr: an unset app field inherits from common) and
 * resolved against the right base directory. */
#define _GNU_SOURCE /* asprintf, realpath */
#include "runfile.h"

#include <errno.h>
#include <libfyaml.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/duration.h"

#define UNSET INT_MIN

static const char *const link_names[] = {"app", "redis", "blob"};

int rs_runfile_link_bit(const char *name) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, link_names[i])) return 1 << i;
    return -1;
}

const char *rs_runfile_link_name(int bit) {
    for (int i = 0; i < 3; i++)
        if (bit == 1 << i) return link_names[i];
    return "?";
}

typedef struct {
    int line;
    char *app_dir_path, *app_id, *app_protocol, *resources_path, *config_file_path;
    char *log_level, *health_check_path, *app_channel_address;
    int app_port, http_port, grpc_port, metrics_port;
    int app_log_dest, daprd_log_dest;
    int replicas, restart, no_sidecar, enable_api_logging, enable_health_check;
    int chaos_links; /* RS_LINK_* bits, UNSET when not given */
    int health_interval, health_timeout, health_threshold; /* appHealthProbe*, appHealthThreshold; UNSET */
    int64_t restart_delay_ms, restart_max_delay_ms; /* -1 = unset */
    rs_strlist_t command, resources_paths;
    int has_command, has_resources_paths;
    rs_kvlist_t env;
} raw_app_t;

typedef struct {
    const char *file;
    char *err;
    size_t errlen;
    rs_strlist_t *warnings;
} ctx_t;

static int node_line(struct fy_node *n) {
    struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    return m ? m->line + 1 : 0;
}

static int fail(ctx_t *c, int line, const char *where, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(ctx_t *c, int line, const char *where, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(c->err, c->errlen, "%s:%d: %s%s%s", c->file, line, where, *where ? ": " : "", msg);
    else
        snprintf(c->err, c->errlen, "%s: %s%s%s", c->file, where, *where ? ": " : "", msg);
    return -1;
}

static void raw_init(raw_app_t *r) {
    memset(r, 0, sizeof *r);
    r->app_port = r->http_port = r->grpc_port = r->metrics_port = UNSET;
    r->app_log_dest = r->daprd_log_dest = UNSET;
    r->replicas = r->restart = r->no_sidecar = r->enable_api_logging = r->enable_health_check = UNSET;
    r->chaos_links = UNSET;
    r->health_interval = r->health_timeout = r->health_threshold = UNSET;
    r->restart_delay_ms = r->restart_max_delay_ms = -1;
}

static void raw_free(raw_app_t *r) {
    free(r->app_dir_path);
    free(r->app_id);
    free(r->app_protocol);
    free(r->resources_path);
    free(r->config_file_path);
    free(r->log_level);
    free(r->health_check_path);
    free(r->app_channel_address);
    rs_strlist_free(&r->command);
    rs_strlist_free(&r->resources_paths);
    rs_kvlist_free(&r->env);
}

static const char *scalar(struct fy_node *n) {
    if (!n || !fy_node_is_scalar(n)) return NULL;
    return fy_node_get_scalar0(n);
}

static int want_scalar(ctx_t *c, struct fy_node *v, int line, const char *where, const char *key, char **out) {
    const char *s = scalar(v);
    if (!s) return fail(c, line, where, "%s: must be a string", key);
    free(*out);
    *out = rs_strdup(s);
    return 0;
}

static int want_bool(ctx_t *c, struct fy_node *v, int line, const char *where, const char *key, int *out) {
    const char *s = scalar(v);
    if (s && (!strcmp(s, "yes") || !strcmp(s, "on"))) s = "true";
    if (s && (!strcmp(s, "no") || !strcmp(s, "off"))) s = "false";
    if (!s || rs_parse_bool(s, out)) return fail(c, line, where, "%s: must be true or false", key);
    return 0;
}

/* A whole number 1..86400000, as the dapr CLI's int fields (the app-health probe settings). */
static int want_count(ctx_t *c, struct fy_node *v, int line, const char *where, const char *key, int *out) {
    const char *s = scalar(v);
    long long n;
    if (!s || rs_parse_int64(s, &n) || n < 1 || n > 86400000)
        return fail(c, line, where, "%s: must be a whole number from 1", key);
    *out = (int)n;
    return 0;
}

/* A port: 1..65535, or `auto`/0 when `allow_auto`. */
static int want_port(ctx_t *c, struct fy_node *v, int line, const char *where, const char *key, int allow_auto,
                     int *out) {
    const char *s = scalar(v);
    long long n;
    if (s && allow_auto && !strcmp(s, "auto")) {
        *out = RS_PORT_AUTO;
        return 0;
    }
    if (!s || rs_parse_int64(s, &n) || n < (allow_auto ? 0 : 1) || n > 65535)
        return fail(c, line, where, "%s: must be a port number (1..65535)%s", key, allow_auto ? " or auto" : "");
    *out = (int)n;
    return 0;
}

static int want_dest(ctx_t *c, struct fy_node *v, int line, const char *where, const char *key, int *out) {
    const char *s = scalar(v);
    if (s && !strcmp(s, "file")) *out = RS_LOGDEST_FILE;
    else if (s && !strcmp(s, "console")) *out = RS_LOGDEST_CONSOLE;
    else if (s && !strcmp(s, "fileAndConsole")) *out = RS_LOGDEST_FILE | RS_LOGDEST_CONSOLE;
    else return fail(c, line, where, "%s: must be file, console or fileAndConsole", key);
    return 0;
}

static int want_duration(ctx_t *c, struct fy_node *v, int line, const char *where, const char *key, int64_t *out) {
    const char *s = scalar(v);
    if (!s || rs_duration_parse_go(s, out) || *out < 0)
        return fail(c, line, where, "%s: must be a duration such as 500ms or 2s", key);
    return 0;
}

static int want_strlist(ctx_t *c, struct fy_node *v, int line, const char *where, const char *key, int allow_scalar,
                        rs_strlist_t *out) {
    rs_strlist_free(out);
    if (allow_scalar && scalar(v)) {
        rs_strlist_add(out, scalar(v));
        return 0;
    }
    if (!v || !fy_node_is_sequence(v)) return fail(c, line, where, "%s: must be a list of strings", key);
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it))) {
        const char *s = scalar(item);
        if (!s) return fail(c, node_line(item) ? node_line(item) : line, where, "%s: every item must be a string", key);
        rs_strlist_add(out, s);
    }
    return 0;
}

static int want_env(ctx_t *c, struct fy_node *v, int line, const char *where, rs_kvlist_t *out) {
    if (!v || !fy_node_is_mapping(v)) return fail(c, line, where, "env: must be a map of NAME: value");
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(v, &it))) {
        const char *k = scalar(fy_node_pair_key(p));
        struct fy_node *val = fy_node_pair_value(p);
        const char *s = val && !fy_node_is_null(val) ? scalar(val) : "";
        int l = node_line(fy_node_pair_key(p));
        if (!k || !*k || strchr(k, '=')) return fail(c, l, where, "env: bad variable name");
        if (!s) return fail(c, l, where, "env.%s: must be a string, not a list or map", k);
        rs_kvlist_set(out, k, s);
    }
    return 0;
}

/* Dapr fields we accept without acting on them (a warning says so). */
static const char *const ignored_fields[] = {
    "daprInternalGRPCPort", "appMaxConcurrency", "placementHostAddress", "schedulerHostAddress", "appSSL",
    "maxBodySize", "readBufferSize", "daprHTTPMaxRequestSize", "daprHTTPReadBufferSize", "enableProfiling",
    "profilePort", "unixDomainSocket", "runtimePath", "containerImage", "containerImagePullPolicy", "createService", "apiListenAddresses",
    "daprPath", "enableAppHealth", "daprdInstallPath", NULL,
};

static int parse_app_fields(ctx_t *c, struct fy_node *map, const char *where, int is_common, raw_app_t *r) {
    if (!fy_node_is_mapping(map)) return fail(c, node_line(map), where, "must be a map");
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(map, &it))) {
        struct fy_node *kn = fy_node_pair_key(p), *v = fy_node_pair_value(p);
        const char *k = scalar(kn);
        int l = node_line(kn);
        int rc = 0;
        if (!k) return fail(c, l, where, "keys must be strings");
        if (!r->line) r->line = l;
        if (v && fy_node_is_null(v)) continue; /* `key:` with no value = unset */
        if (!strcmp(k, "appDirPath") && !is_common) rc = want_scalar(c, v, l, where, k, &r->app_dir_path);
        else if (!strcmp(k, "appID") && !is_common) rc = want_scalar(c, v, l, where, k, &r->app_id);
        else if (!strcmp(k, "appPort")) rc = want_port(c, v, l, where, k, 1, &r->app_port);
        else if (!strcmp(k, "daprHTTPPort")) rc = want_port(c, v, l, where, k, 1, &r->http_port);
        else if (!strcmp(k, "daprGRPCPort")) rc = want_port(c, v, l, where, k, 0, &r->grpc_port);
        else if (!strcmp(k, "metricsPort")) rc = want_port(c, v, l, where, k, 1, &r->metrics_port);
        else if (!strcmp(k, "appProtocol")) rc = want_scalar(c, v, l, where, k, &r->app_protocol);
        else if (!strcmp(k, "command")) {
            rc = want_strlist(c, v, l, where, k, 0, &r->command);
            r->has_command = 1;
        } else if (!strcmp(k, "env")) rc = want_env(c, v, l, where, &r->env);
        else if (!strcmp(k, "resourcesPath")) rc = want_scalar(c, v, l, where, k, &r->resources_path);
        else if (!strcmp(k, "resourcesPaths")) {
            /* The docs show a scalar, the code wants a list (spec §4.2); accept both. */
            rc = want_strlist(c, v, l, where, k, 1, &r->resources_paths);
            r->has_resources_paths = 1;
        } else if (!strcmp(k, "configFilePath")) rc = want_scalar(c, v, l, where, k, &r->config_file_path);
        else if (!strcmp(k, "appLogDestination")) rc = want_dest(c, v, l, where, k, &r->app_log_dest);
        else if (!strcmp(k, "daprdLogDestination")) rc = want_dest(c, v, l, where, k, &r->daprd_log_dest);
        else if (!strcmp(k, "logLevel")) rc = want_scalar(c, v, l, where, k, &r->log_level);
        else if (!strcmp(k, "enableApiLogging")) rc = want_bool(c, v, l, where, k, &r->enable_api_logging);
        else if (!strcmp(k, "appHealthCheckPath")) rc = want_scalar(c, v, l, where, k, &r->health_check_path);
        else if (!strcmp(k, "enableAppHealthCheck")) rc = want_bool(c, v, l, where, k, &r->enable_health_check);
        else if (!strcmp(k, "appHealthProbeInterval")) rc = want_count(c, v, l, where, k, &r->health_interval);
        else if (!strcmp(k, "appHealthProbeTimeout")) rc = want_count(c, v, l, where, k, &r->health_timeout);
        else if (!strcmp(k, "appHealthThreshold")) rc = want_count(c, v, l, where, k, &r->health_threshold);
        else if (!strcmp(k, "appChannelAddress")) rc = want_scalar(c, v, l, where, k, &r->app_channel_address);
        else if (!strcmp(k, "noSidecar")) rc = want_bool(c, v, l, where, k, &r->no_sidecar);
        else if (!strcmp(k, "replicas")) {
            const char *s = scalar(v);
            long long n;
            if (!s || rs_parse_int64(s, &n) || n < 1 || n > 64) return fail(c, l, where, "replicas: must be 1..64");
            r->replicas = (int)n;
        } else if (!strcmp(k, "restart")) {
            const char *s = scalar(v);
            if (s && !strcmp(s, "always")) r->restart = RS_RESTART_ALWAYS;
            else if (s && (!strcmp(s, "on-failure") || !strcmp(s, "onFailure"))) r->restart = RS_RESTART_ON_FAILURE;
            else if (s && !strcmp(s, "never")) r->restart = RS_RESTART_NEVER;
            else return fail(c, l, where, "restart: must be always, on-failure or never");
        } else if (!strcmp(k, "chaosLinks")) {
            rs_strlist_t links = {0};
            rc = want_strlist(c, v, l, where, k, 0, &links);
            r->chaos_links = 0;
            for (size_t i = 0; !rc && i < links.len; i++) {
                int bit = rs_runfile_link_bit(links.items[i]);
                if (bit < 0)
                    rc = fail(c, l, where, "chaosLinks: '%s' is not one of app, redis, blob (Kafka brokers "
                              "advertise their own addresses, so a TCP proxy cannot sit in a Kafka path)",
                              links.items[i]);
                else r->chaos_links |= bit;
            }
            rs_strlist_free(&links);
        } else if (!strcmp(k, "restartDelay")) rc = want_duration(c, v, l, where, k, &r->restart_delay_ms);
        else if (!strcmp(k, "restartMaxDelay")) rc = want_duration(c, v, l, where, k, &r->restart_max_delay_ms);
        else {
            int ignored = 0;
            for (const char *const *f = ignored_fields; *f; f++)
                if (!strcmp(*f, k)) ignored = 1;
            if (!ignored) {
                if (is_common && (!strcmp(k, "appDirPath") || !strcmp(k, "appID")))
                    return fail(c, l, where, "%s: not allowed in common", k);
                return fail(c, l, where, "%s: unknown field (see docs/runner.md)", k);
            }
            char w[256];
            snprintf(w, sizeof w, "%s:%d: %s: %s is not supported by ripstop and is ignored", c->file, l, where, k);
            rs_strlist_add(c->warnings, w);
        }
        if (rc) return rc;
    }
    return 0;
}

/* Joins base and a relative path; returns a new string (absolute paths are copied). */
static char *resolve(const char *base, const char *p) {
    if (p[0] == '/') return rs_strdup(p);
    if (p[0] == '~' && (p[1] == '/' || !p[1])) {
        const char *home = getenv("HOME");
        char *out;
        if (asprintf(&out, "%s%s", home ? home : "", p + 1) < 0) abort();
        return out;
    }
    char *out;
    if (!strcmp(p, ".")) return rs_strdup(base);
    if (asprintf(&out, "%s/%s", base, rs_has_prefix(p, "./") ? p + 2 : p) < 0) abort();
    return out;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *basename_of(const char *p) {
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') n--;
    const char *s = p + n;
    while (s > p && s[-1] != '/') s--;
    return s;
}

static int valid_app_id(const char *s) {
    if (!*s || strlen(s) > 63) return 0;
    for (const char *q = s; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '-' ||
              *q == '_' || *q == '.'))
            return 0;
    return 1;
}

#define PICK(f, unset) (a->f != (unset) ? a->f : cm->f)

static int merge_app(ctx_t *c, const rs_runfile_t *rf, const raw_app_t *cm, const raw_app_t *a, const char *where,
                     rs_runfile_app_t *o) {
    memset(o, 0, sizeof *o);
    if (!a->app_dir_path || !*a->app_dir_path) return fail(c, a->line, where, "appDirPath: required");
    o->dir = resolve(rf->dir, a->app_dir_path);
    /* Keep the path tidy when appDirPath is "./x/" (trailing slash). */
    size_t n = strlen(o->dir);
    while (n > 1 && o->dir[n - 1] == '/') o->dir[--n] = 0;
    if (!is_dir(o->dir)) return fail(c, a->line, where, "appDirPath: %s is not a directory", o->dir);
    char dirbuf[PATH_MAX];
    if (realpath(o->dir, dirbuf)) {
        free(o->dir);
        o->dir = rs_strdup(dirbuf);
    }
    o->app_id = rs_strdup(a->app_id ? a->app_id : basename_of(o->dir));
    if (!valid_app_id(o->app_id))
        return fail(c, a->line, where, "appID: '%s' must be 1-63 letters, digits, '-', '_' or '.'", o->app_id);

    o->app_port = PICK(app_port, UNSET);
    if (o->app_port == UNSET) o->app_port = RS_PORT_NONE;
    o->http_port = PICK(http_port, UNSET);
    if (o->http_port == UNSET) o->http_port = RS_PORT_AUTO;
    o->grpc_port = PICK(grpc_port, UNSET);
    if (o->grpc_port == UNSET) o->grpc_port = RS_PORT_AUTO; /* each sidecar its own gRPC port, as the dapr CLI */
    o->metrics_port = PICK(metrics_port, UNSET);
    if (o->metrics_port == UNSET) o->metrics_port = RS_PORT_AUTO;
    o->app_protocol = rs_strdup(a->app_protocol ? a->app_protocol : cm->app_protocol ? cm->app_protocol : "http");
    const char *protos[] = {"http", "https", "grpc", "grpcs", "h2c", NULL};
    int okp = 0;
    for (const char **q = protos; *q; q++) okp |= !strcmp(*q, o->app_protocol);
    if (!okp) return fail(c, a->line, where, "appProtocol: must be http, https, grpc, grpcs or h2c");
    o->app_log_dest = PICK(app_log_dest, UNSET);
    if (o->app_log_dest == UNSET) o->app_log_dest = RS_LOGDEST_FILE | RS_LOGDEST_CONSOLE;
    o->daprd_log_dest = PICK(daprd_log_dest, UNSET);
    if (o->daprd_log_dest == UNSET) o->daprd_log_dest = RS_LOGDEST_FILE;
    o->replicas = PICK(replicas, UNSET);
    if (o->replicas == UNSET) o->replicas = 1;
    o->restart = PICK(restart, UNSET);
    if (o->restart == (rs_restart_policy_t)UNSET) o->restart = RS_RESTART_ALWAYS;
    o->no_sidecar = PICK(no_sidecar, UNSET);
    if (o->no_sidecar == UNSET) o->no_sidecar = 0;
    o->enable_api_logging = PICK(enable_api_logging, UNSET);
    if (o->enable_api_logging == UNSET) o->enable_api_logging = 0;
    o->enable_health_check = PICK(enable_health_check, UNSET);
    if (o->enable_health_check == UNSET) o->enable_health_check = 0;
    o->restart_delay_ms = PICK(restart_delay_ms, -1);
    if (o->restart_delay_ms < 0) o->restart_delay_ms = 1000;
    o->restart_max_delay_ms = PICK(restart_max_delay_ms, -1);
    if (o->restart_max_delay_ms < 0) o->restart_max_delay_ms = 30000;
    if (o->restart_max_delay_ms < o->restart_delay_ms) o->restart_max_delay_ms = o->restart_delay_ms;
    const char *ll = a->log_level ? a->log_level : cm->log_level;
    o->log_level = ll ? rs_strdup(ll) : NULL;
    o->chaos_links = PICK(chaos_links, UNSET);
    if (o->chaos_links == UNSET || o->no_sidecar) o->chaos_links = 0;
    o->health_interval_s = PICK(health_interval, UNSET);
    o->health_timeout_ms = PICK(health_timeout, UNSET);
    o->health_threshold = PICK(health_threshold, UNSET);
    if (o->health_interval_s == UNSET) o->health_interval_s = 0;
    if (o->health_timeout_ms == UNSET) o->health_timeout_ms = 0;
    if (o->health_threshold == UNSET) o->health_threshold = 0;
    const char *hp = a->health_check_path ? a->health_check_path : cm->health_check_path;
    o->health_check_path = hp ? rs_strdup(hp) : NULL;
    const char *ca = a->app_channel_address ? a->app_channel_address : cm->app_channel_address;
    o->app_channel_address = ca ? rs_strdup(ca) : NULL;

    if (o->replicas > 1 && o->app_port > 0)
        return fail(c, a->line, where, "appPort: a fixed port cannot be shared by %d replicas; use appPort: auto",
                    o->replicas);
    if (o->replicas > 1 && o->http_port > 0)
        return fail(c, a->line, where, "daprHTTPPort: a fixed port cannot be shared by %d replicas; leave it out",
                    o->replicas);
    if (o->replicas > 1 && (o->grpc_port > 0 || o->metrics_port > 0))
        return fail(c, a->line, where, "daprGRPCPort/metricsPort: fixed ports cannot be shared by replicas");

    const rs_strlist_t *cmd = a->has_command ? &a->command : &cm->command;
    if (cmd->len == 0) return fail(c, a->line, where, "command: required (a list: [program, args...])");
    o->ncommand = cmd->len;
    o->command = rs_xcalloc(cmd->len + 1, sizeof(char *));
    for (size_t i = 0; i < cmd->len; i++) o->command[i] = rs_strdup(cmd->items[i]);
    if (!o->command[0][0]) return fail(c, a->line, where, "command: the program name is empty");

    rs_kvlist_copy(&o->env, &cm->env);
    rs_kvlist_copy(&o->env, &a->env);

    /* Resources path, first match wins (spec §4.2). */
    if (a->has_resources_paths || a->resources_path) {
        for (size_t i = 0; i < a->resources_paths.len; i++)
            rs_strlist_add(&o->resources_paths, a->resources_paths.items[i]);
        if (a->resources_path) rs_strlist_add(&o->resources_paths, a->resources_path);
        for (size_t i = 0; i < o->resources_paths.len; i++) {
            char *p = resolve(o->dir, o->resources_paths.items[i]);
            free(o->resources_paths.items[i]);
            o->resources_paths.items[i] = p;
        }
    } else {
        char *own = resolve(o->dir, ".dapr/resources");
        if (is_dir(own)) {
            rs_strlist_add(&o->resources_paths, own);
        } else if (cm->resources_paths.len || cm->resources_path) {
            for (size_t i = 0; i < cm->resources_paths.len; i++) {
                char *p = resolve(rf->dir, cm->resources_paths.items[i]);
                rs_strlist_add(&o->resources_paths, p);
                free(p);
            }
            if (cm->resources_path) {
                char *p = resolve(rf->dir, cm->resources_path);
                rs_strlist_add(&o->resources_paths, p);
                free(p);
            }
        } else {
            char *home = resolve("/", "~/.dapr/components");
            if (is_dir(home)) rs_strlist_add(&o->resources_paths, home);
            free(home);
        }
        free(own);
    }
    if (!o->no_sidecar)
        for (size_t i = 0; i < o->resources_paths.len; i++)
            if (!is_dir(o->resources_paths.items[i]) && !is_file(o->resources_paths.items[i]))
                return fail(c, a->line, where, "resources path %s does not exist", o->resources_paths.items[i]);

    /* Config file: the app's, then <appDir>/.dapr/config.yaml, then common's. */
    char *cfg = NULL;
    if (a->config_file_path) cfg = resolve(o->dir, a->config_file_path);
    else {
        char *own = resolve(o->dir, ".dapr/config.yaml");
        if (is_file(own)) cfg = own;
        else {
            free(own);
            if (cm->config_file_path) cfg = resolve(rf->dir, cm->config_file_path);
        }
    }
    if (cfg && !o->no_sidecar && !is_file(cfg)) {
        int rc = fail(c, a->line, where, "configFilePath: %s does not exist", cfg);
        free(cfg);
        return rc;
    }
    o->config_path = cfg;
    return 0;
}

static void app_free(rs_runfile_app_t *a) {
    free(a->app_id);
    free(a->dir);
    free(a->app_protocol);
    if (a->command)
        for (size_t i = 0; i < a->ncommand; i++) free(a->command[i]);
    free(a->command);
    rs_kvlist_free(&a->env);
    rs_strlist_free(&a->resources_paths);
    free(a->config_path);
    free(a->log_level);
    free(a->health_check_path);
    free(a->app_channel_address);
}

void rs_runfile_free(rs_runfile_t *rf) {
    if (!rf) return;
    for (size_t i = 0; i < rf->napps; i++) app_free(&rf->apps[i]);
    free(rf->apps);
    free(rf->path);
    free(rf->dir);
    free(rf->secrets_file);
    rs_strlist_free(&rf->warnings);
    memset(rf, 0, sizeof *rf);
}

static int parse_infra(ctx_t *c, rs_runfile_t *rf, struct fy_node *v, int line) {
    if (!fy_node_is_mapping(v)) return fail(c, line, "infra", "must be a map (redis/azurite/kafka: true)");
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(v, &it))) {
        const char *k = scalar(fy_node_pair_key(p));
        struct fy_node *val = fy_node_pair_value(p);
        int l = node_line(fy_node_pair_key(p));
        if (!k) return fail(c, l, "infra", "keys must be strings");
        if (!strcmp(k, "redis")) {
            if (want_bool(c, val, l, "infra", k, &rf->infra_redis)) return -1;
        } else if (!strcmp(k, "azurite")) {
            if (want_bool(c, val, l, "infra", k, &rf->infra_azurite)) return -1;
        } else if (!strcmp(k, "kafka")) {
            if (want_bool(c, val, l, "infra", k, &rf->infra_kafka)) return -1;
        } else if (!strcmp(k, "secretsFile")) {
            char *s = NULL;
            if (want_scalar(c, val, l, "infra", k, &s)) return -1;
            free(rf->secrets_file);
            rf->secrets_file = resolve(rf->dir, s);
            free(s);
            if (!is_file(rf->secrets_file)) return fail(c, l, "infra", "secretsFile: %s does not exist", rf->secrets_file);
        } else {
            return fail(c, l, "infra", "%s: unknown field (redis, azurite, kafka, secretsFile)", k);
        }
    }
    return 0;
}

static int load_doc(ctx_t *c, rs_runfile_t *rf, struct fy_node *root) {
    if (!root || !fy_node_is_mapping(root)) return fail(c, 0, "", "the file must be a YAML map (version, common, apps)");
    struct fy_node *common = NULL, *apps = NULL;
    int have_version = 0, common_line = 0, apps_line = 0;
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(root, &it))) {
        const char *k = scalar(fy_node_pair_key(p));
        struct fy_node *v = fy_node_pair_value(p);
        int l = node_line(fy_node_pair_key(p));
        if (!k) return fail(c, l, "", "keys must be strings");
        if (!strcmp(k, "version")) {
            const char *s = scalar(v);
            if (!s || strcmp(s, "1")) return fail(c, l, "version", "must be 1");
            have_version = 1;
        } else if (!strcmp(k, "common")) {
            common = v;
            common_line = l;
        } else if (!strcmp(k, "apps")) {
            apps = v;
            apps_line = l;
        } else if (!strcmp(k, "infra")) {
            if (v && !fy_node_is_null(v) && parse_infra(c, rf, v, l)) return -1;
        } else {
            return fail(c, l, "", "%s: unknown top-level field (version, common, apps, infra)", k);
        }
    }
    if (!have_version) return fail(c, 0, "version", "required (version: 1)");
    if (!apps || !fy_node_is_sequence(apps) || fy_node_sequence_item_count(apps) == 0)
        return fail(c, apps_line, "apps", "required: a non-empty list of apps");

    raw_app_t cm;
    raw_init(&cm);
    int rc = 0;
    if (common && !fy_node_is_null(common)) {
        if (!fy_node_is_mapping(common)) rc = fail(c, common_line, "common", "must be a map");
        else rc = parse_app_fields(c, common, "common", 1, &cm);
    }
    size_t n = (size_t)fy_node_sequence_item_count(apps);
    rf->apps = rs_xcalloc(n, sizeof *rf->apps);
    it = NULL;
    struct fy_node *item;
    for (size_t i = 0; !rc && (item = fy_node_sequence_iterate(apps, &it)); i++) {
        char where[160];
        snprintf(where, sizeof where, "apps[%zu]", i);
        raw_app_t a;
        raw_init(&a);
        /* Name the app in every message about it, even those about fields before appID. */
        const char *id = fy_node_is_mapping(item) ? scalar(fy_node_mapping_lookup_by_string(item, "appID", 5)) : NULL;
        if (id) snprintf(where, sizeof where, "apps[%zu] (%s)", i, id);
        rc = parse_app_fields(c, item, where, 0, &a);
        if (!a.line) a.line = apps_line;
        if (!rc) rc = merge_app(c, rf, &cm, &a, where, &rf->apps[i]);
        rf->napps = i + 1; /* so that rs_runfile_free releases a half-built app too */
        if (!rc)
            for (size_t j = 0; j < i; j++)
                if (!strcmp(rf->apps[j].app_id, rf->apps[i].app_id))
                    rc = fail(c, a.line, where, "appID: '%s' is used twice (apps[%zu])", rf->apps[i].app_id, j);
        raw_free(&a);
    }
    raw_free(&cm);
    return rc;
}

int rs_runfile_load(rs_runfile_t *out, const char *path, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    char *file = NULL;
    if (is_dir(path)) {
        if (asprintf(&file, "%s/dapr.yaml", path) < 0) abort();
    } else {
        file = rs_strdup(path);
    }
    ctx_t c = {.file = file, .err = err, .errlen = errlen, .warnings = &out->warnings};
    if (!is_file(file)) {
        fail(&c, 0, "", "cannot read the run file: %s", strerror(errno ? errno : ENOENT));
        free(file);
        return -1;
    }
    char abs[PATH_MAX];
    if (!realpath(file, abs)) {
        fail(&c, 0, "", "cannot resolve the path: %s", strerror(errno));
        free(file);
        return -1;
    }
    out->path = rs_strdup(abs);
    char *slash = strrchr(abs, '/');
    if (slash == abs) slash[1] = 0;
    else *slash = 0;
    out->dir = rs_strdup(abs);

    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG, .diag = diag};
    struct fy_document *doc = fy_document_build_from_file(&pcfg, file);
    int rc;
    if (!doc) {
        void *it = NULL;
        struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
        if (e) fail(&c, e->line + 1, "", "YAML syntax error: %s", e->msg);
        else fail(&c, 0, "", "YAML syntax error");
        rc = -1;
    } else {
        rc = load_doc(&c, out, fy_document_root(doc));
        fy_document_destroy(doc);
    }
    fy_diag_destroy(diag);
    if (!rc && !out->secrets_file) {
        char *def = resolve(out->dir, "secrets.json");
        if (is_file(def)) out->secrets_file = def;
        else free(def);
    }
    free(file);
    if (rc) rs_runfile_free(out);
    return rc;
}
