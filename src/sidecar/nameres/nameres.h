/* SPDX-License-Identifier: MIT */
/* Name resolution: app id -> address of a ripstopd serving that app, through
 * a shared SQLite table like Dapr's nameresolution.sqlite (spec §3.8).
 *
 * Each sidecar registers its own HTTP endpoint ("127.0.0.1:<dapr-http-port>")
 * on start, refreshes last_update on a heartbeat, and deletes its row on exit.
 * Resolution picks a random live row (last_update newer than updateInterval),
 * so replicas share traffic and a sidecar killed with -9 drops out within
 * updateInterval. The rows hold ripstopd HTTP endpoints, not daprd's internal
 * gRPC endpoints: do not share the table with real daprd.
 *
 * The metadata table also holds the hop key: a random secret the first
 * sidecar writes and every sidecar sharing the table reads. A sidecar marks
 * its calls to a peer with it (ops/invoke.c), so an API client, which cannot
 * read the table, cannot pass itself off as a peer sidecar. ripstopd makes
 * the database file readable by its own user only. */
#ifndef RS_SIDECAR_NAMERES_H
#define RS_SIDECAR_NAMERES_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rs_nameres rs_nameres_t;

typedef struct {
    char *connection_string; /* db file path (a "file:" URI is accepted too) */
    int64_t update_interval_ms; /* default 5s; whole seconds, >= timeout + 1s */
    int64_t timeout_ms;         /* default 1s */
    int64_t cleanup_interval_ms;/* default 1h; 0 disables the stale-row cleanup */
    int64_t busy_timeout_ms;    /* default 800ms */
    char *table;                /* default "hosts" */
    char *metadata_table;       /* default "metadata" */
    int disable_wal;
} rs_nameres_config_t;

/** Reads `spec.nameResolution` from a Configuration document (may be NULL). Without one, or for a
 *  component other than sqlite (warned), uses $RIPSTOP_NAMERES_DB if set (a runner gives each run its own),
 *  else a per-user default file: $XDG_RUNTIME_DIR/ripstop-nameres.db, else /tmp/ripstop-nameres-<uid>.db. Returns 0, or -1 with a reason. Free with rs_nameres_config_free. */
int rs_nameres_config_parse(const json_t *configuration, rs_nameres_config_t *out, char *err, size_t errlen);
void rs_nameres_config_free(rs_nameres_config_t *c);

/** Opens the table (creating it), registers app_id at `address` ("host:port") unless app_id or address is
 *  NULL, and starts the heartbeat on base. Returns NULL with a reason on failure. Takes cfg (zeroes it). */
rs_nameres_t *rs_nameres_new(struct event_base *base, rs_nameres_config_t *cfg, const char *app_id,
                             const char *address, char *err, size_t errlen);
/** Registers app_id at `address` now (e.g. once the app is reachable) and starts the heartbeat.
 *  Only once per resolver. Returns 0, or -1 with a reason. */
int rs_nameres_register(rs_nameres_t *n, const char *app_id, const char *address, char *err, size_t errlen);
/** Deletes the registration and closes the database. */
void rs_nameres_free(rs_nameres_t *n);

/** Resolves app_id to "host:port" of a random live instance. Results are cached for at most
 *  min(1s, updateInterval/2). Returns 0, or -1 with "no host found with the given ID" (or a db error). */
int rs_nameres_resolve(rs_nameres_t *n, const char *app_id, char *out, size_t outlen, char *err, size_t errlen);
/** The hop key shared by the sidecars of this table (64 hex digits). */
const char *rs_nameres_hop_key(const rs_nameres_t *n);
/** Forgets a cached address after a connection to it failed, so the next call picks another. */
void rs_nameres_forget(rs_nameres_t *n, const char *app_id, const char *address);

struct rs_sidecar;

#endif
