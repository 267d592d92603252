/* SPDX-License-Identifier: MIT */
/* The Multi-App Run file (spec §4.2) with Ripstop's extensions (docs/runner.md),
 * parsed and resolved: inheritance from `common`, relative paths made absolute,
 * the resources path and config file chosen in Dapr's order. Nothing here
 * starts processes; ${VAR} expansion happens at spawn time (runner.c). */
#ifndef RS_TOOLS_RIPSTOP_RUNFILE_H
#define RS_TOOLS_RIPSTOP_RUNFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/str.h"
#include "runner.h"

enum { RS_LOGDEST_FILE = 1, RS_LOGDEST_CONSOLE = 2 };

/* chaosLinks: which of a sidecar's connections go through a fault proxy when the runner is given a
 * link hook (ripstop demo): to its app, to Redis, to blob storage. */
enum { RS_LINK_APP = 1, RS_LINK_REDIS = 2, RS_LINK_BLOB = 4 };
#define RS_LINK_ALL_NAMES "app, redis, blob"
/** The bit of a link name ("app", "redis", "blob"), or -1. */
int rs_runfile_link_bit(const char *name);
/** The name of one RS_LINK_* bit. */
const char *rs_runfile_link_name(int bit);

#define RS_PORT_NONE (-1) /* no port (Dapr: appPort omitted) */
#define RS_PORT_AUTO 0    /* the runner picks a free one */

typedef struct {
    char *app_id;
    char *dir;                  /* absolute appDirPath */
    int app_port;               /* RS_PORT_NONE, RS_PORT_AUTO or a fixed port */
    int http_port;              /* RS_PORT_AUTO or fixed */
    int grpc_port;              /* RS_PORT_AUTO or fixed */
    int metrics_port;           /* RS_PORT_AUTO or fixed */
    char *app_protocol;         /* "http" by default */
    char **command;             /* NULL-terminated argv (unexpanded) */
    size_t ncommand;
    rs_kvlist_t env;            /* common.env overridden by the app's env (unexpanded) */
    rs_strlist_t resources_paths; /* absolute; may be empty */
    char *config_path;          /* absolute, or NULL */
    int app_log_dest, daprd_log_dest; /* RS_LOGDEST_* bits */
    int replicas;
    rs_restart_policy_t restart;
    int64_t restart_delay_ms, restart_max_delay_ms;
    int no_sidecar;
    char *log_level;            /* or NULL */
    int enable_api_logging;
    char *health_check_path;    /* or NULL */
    int enable_health_check;
    int health_interval_s;      /* appHealthProbeInterval (seconds), 0 = daprd's default */
    int health_timeout_ms;      /* appHealthProbeTimeout (milliseconds), 0 = default */
    int health_threshold;       /* appHealthThreshold, 0 = default */
    char *app_channel_address;  /* or NULL */
    int chaos_links;            /* RS_LINK_* bits: the sidecar's connections a chaos proxy may sit in */
} rs_runfile_app_t;

typedef struct {
    char *path;                 /* absolute path of the file */
    char *dir;                  /* its directory */
    rs_runfile_app_t *apps;
    size_t napps;
    int infra_redis, infra_azurite, infra_kafka;
    char *secrets_file;         /* absolute, or NULL when none */
    rs_strlist_t warnings;      /* e.g. Dapr fields we accept but ignore */
} rs_runfile_t;

/** Loads and validates a run file (or <dir>/dapr.yaml). Returns 0, or -1 with
 *  "<file>:<line>: <where>: <what>" in err. On error *out is left empty. */
int rs_runfile_load(rs_runfile_t *out, const char *path, char *err, size_t errlen);
void rs_runfile_free(rs_runfile_t *rf);

#endif
