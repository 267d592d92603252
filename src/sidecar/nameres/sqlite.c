/* SPDX-License-Identifier: MIT */
/* nameresolution.sqlite for ripstopd. Queries run on the loop thread against
 * a local file with a busy timeout (WAL keeps readers from waiting on the
 * heartbeat writers); resolutions are cached for under a second so a busy
 * invocation path does not hit the database on every call. */
#include "sidecar/nameres/nameres.h"

#include <ctype.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/duration.h"
#include "core/ids.h"
#include "core/json_util.h"
#include "core/log.h"
#include "core/str.h"

#define MAX_CACHE 64
#define MAX_ADDRS 32
#define HOP_KEY_NAME "ripstop-hop-key" /* its row in the metadata table */
#define HOP_KEY_HEX 64

typedef struct {
    char *app_id;
    char *addrs[MAX_ADDRS];
    int n;
    int64_t fetched_ms;
} cache_entry_t;

struct rs_nameres {
    struct event_base *base;
    rs_nameres_config_t cfg;
    sqlite3 *db;
    char *app_id, *address;
    char reg_id[37];
    char hop_key[HOP_KEY_HEX + 1];
    struct event *heartbeat_ev, *cleanup_ev;
    cache_entry_t cache[MAX_CACHE];
    int ncache;
    int64_t cache_ttl_ms;
};

/* ---------- configuration ---------- */

static int get_duration(const json_t *o, const char *key, int64_t *out, char *err, size_t errlen) {
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    char buf[64];
    const char *s = json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        s = buf;
    }
    /* Dapr's metadata decoder reads a bare number as seconds. */
    if (!s || rs_duration_parse_s_default(s, out) != 0 || *out < 0) {
        snprintf(err, errlen, "nameResolution: %s: invalid duration", key);
        return -1;
    }
    return 0;
}

static int valid_ident(const char *s) {
    if (!s || !*s || strlen(s) > 64) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return 0;
    return 1;
}

int rs_nameres_config_parse(const json_t *configuration, rs_nameres_config_t *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->update_interval_ms = 5000;
    c->timeout_ms = 1000;
    c->cleanup_interval_ms = 3600 * 1000;
    c->busy_timeout_ms = 800;
    const json_t *nr = json_object_get(json_object_get(configuration, "spec"), "nameResolution");
    const json_t *conf = NULL;
    if (nr) {
        const char *component = rs_json_str(nr, "component");
        if (component && strcmp(component, "sqlite") != 0) {
            RS_WARN("nameres", "nameResolution component '%s' is not supported by ripstopd; using sqlite", component);
        } else {
            conf = json_object_get(nr, "configuration");
        }
    }
    if (conf) {
        const char *cs = rs_json_str(conf, "connectionString");
        if (cs && *cs) c->connection_string = rs_strdup(cs);
        if (get_duration(conf, "updateInterval", &c->update_interval_ms, err, errlen) != 0 ||
            get_duration(conf, "timeout", &c->timeout_ms, err, errlen) != 0 ||
            get_duration(conf, "cleanupInterval", &c->cleanup_interval_ms, err, errlen) != 0 ||
            get_duration(conf, "busyTimeout", &c->busy_timeout_ms, err, errlen) != 0) {
            rs_nameres_config_free(c);
            return -1;
        }
        const char *t = rs_json_str(conf, "tableName");
        const char *mt = rs_json_str(conf, "metadataTableName");
        if ((t && !valid_ident(t)) || (mt && !valid_ident(mt))) {
            snprintf(err, errlen, "nameResolution: table names may hold only letters, digits and '_'");
            rs_nameres_config_free(c);
            return -1;
        }
        if (t) c->table = rs_strdup(t);
        if (mt) c->metadata_table = rs_strdup(mt);
        const json_t *w = json_object_get(conf, "disableWAL");
        if (json_is_boolean(w)) c->disable_wal = json_is_true(w);
        else if (json_is_string(w) && rs_parse_bool(json_string_value(w), &c->disable_wal) != 0) c->disable_wal = 0;
        if (!c->connection_string) {
            snprintf(err, errlen, "nameResolution: sqlite needs configuration.connectionString");
            rs_nameres_config_free(c);
            return -1;
        }
    }
    if (c->update_interval_ms % 1000 != 0 || c->update_interval_ms < c->timeout_ms + 1000) {
        snprintf(err, errlen, "nameResolution: updateInterval must be whole seconds and at least timeout + 1s");
        rs_nameres_config_free(c);
        return -1;
    }
    if (!c->connection_string && getenv("RIPSTOP_NAMERES_DB") && *getenv("RIPSTOP_NAMERES_DB"))
        c->connection_string = rs_strdup(getenv("RIPSTOP_NAMERES_DB")); /* one run's private table */
    if (!c->connection_string) {
        const char *dir = getenv("XDG_RUNTIME_DIR");
        char path[512];
        if (dir && *dir && access(dir, W_OK) == 0) snprintf(path, sizeof path, "%s/ripstop-nameres.db", dir);
        else snprintf(path, sizeof path, "/tmp/ripstop-nameres-%u.db", (unsigned)getuid());
        c->connection_string = rs_strdup(path);
    }
    if (!c->table) c->table = rs_strdup("hosts");
    if (!c->metadata_table) c->metadata_table = rs_strdup("metadata");
    return 0;
}

void rs_nameres_config_free(rs_nameres_config_t *c) {
    RS_SAFEFREE(c->connection_string);
    RS_SAFEFREE(c->table);
    RS_SAFEFREE(c->metadata_table);
}

/* ---------- database ---------- */

static int exec_sql(rs_nameres_t *n, const char *sql, char *err, size_t errlen) {
    char *msg = NULL;
    if (sqlite3_exec(n->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "nameres sqlite: %s", msg ? msg : sqlite3_errmsg(n->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int is_busy(sqlite3 *db) {
    int code = sqlite3_errcode(db) & 0xff;
    return code == SQLITE_BUSY || code == SQLITE_LOCKED;
}

static int do_register(rs_nameres_t *n, char *err, size_t errlen) {
    char sql[256];
    snprintf(sql, sizeof sql, "REPLACE INTO %s (registration_id, address, app_id, namespace, last_update) "
                              "VALUES (?, ?, ?, '', unixepoch())", n->cfg.table);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(n->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, n->reg_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, n->address, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, n->app_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "nameres: cannot register %s: %s", n->app_id, sqlite3_errmsg(n->db));
        return -1;
    }
    return 0;
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg) {
    rs_nameres_t *n = arg;
    (void)fd;
    (void)what;
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE %s SET last_update = unixepoch() WHERE registration_id = ? AND address = ?",
             n->cfg.table);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(n->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, n->reg_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, n->address, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        RS_WARN("nameres", "heartbeat failed: %s", sqlite3_errmsg(n->db));
    } else if (sqlite3_changes(n->db) == 0) {
        /* daprd exits with "Host registration lost" here; re-registering keeps the sidecar serving. */
        char err[256];
        RS_WARN("nameres", "host registration lost (row removed); registering again");
        if (do_register(n, err, sizeof err) != 0) RS_WARN("nameres", "%s", err);
    }
}

static void on_cleanup(evutil_socket_t fd, short what, void *arg) {
    rs_nameres_t *n = arg;
    (void)fd;
    (void)what;
    /* Deletes stale rows only (Dapr's query is inverted and deletes the live ones, spec §5 item 24). */
    char sql[256];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE unixepoch() - last_update >= %lld", n->cfg.table,
             (long long)(n->cfg.update_interval_ms / 1000));
    char err[256];
    if (exec_sql(n, sql, err, sizeof err) != 0) RS_WARN("nameres", "cleanup failed: %s", err);
}

/* The hop key: the first sidecar's random key wins (INSERT OR IGNORE in the schema script); read it back. */
static int read_hop_key(rs_nameres_t *n, char *err, size_t errlen) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT value FROM %s WHERE key = '" HOP_KEY_NAME "'", n->cfg.metadata_table);
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(n->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        ok = v && strlen(v) == HOP_KEY_HEX && strspn(v, "0123456789abcdef") == HOP_KEY_HEX;
        if (ok) memcpy(n->hop_key, v, HOP_KEY_HEX + 1);
    }
    sqlite3_finalize(st);
    if (!ok) snprintf(err, errlen, "nameres: no valid " HOP_KEY_NAME " row in table %s", n->cfg.metadata_table);
    return ok ? 0 : -1;
}

/* The hop key is in the file: only our user may read it. SQLite gives the -wal and -shm files the mode the
 * database file had when it created them, so all three are changed. A file of another user is left alone. */
static void restrict_mode(sqlite3 *db) {
    const char *path = sqlite3_db_filename(db, "main");
    if (!path || !*path) return;
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        char p[4096];
        struct stat st;
        if ((size_t)snprintf(p, sizeof p, "%s%s", path, suffix[i]) >= sizeof p) return;
        if (stat(p, &st) != 0 || st.st_uid != geteuid() || !(st.st_mode & 077)) continue;
        if (chmod(p, st.st_mode & 0700) != 0) RS_WARN("nameres", "cannot make %s private to its user", p);
    }
}

rs_nameres_t *rs_nameres_new(struct event_base *base, rs_nameres_config_t *cfg, const char *app_id,
                             const char *address, char *err, size_t errlen) {
    rs_nameres_t *n = rs_xcalloc(1, sizeof *n);
    n->base = base;
    n->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    n->cache_ttl_ms = n->cfg.update_interval_ms / 2 < 1000 ? n->cfg.update_interval_ms / 2 : 1000;
    if (!rs_has_prefix(n->cfg.connection_string, "file:")) { /* a new file is private from the start */
        int fd = open(n->cfg.connection_string, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) close(fd);
    }
    if (sqlite3_open_v2(n->cfg.connection_string, &n->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "nameres: cannot open %s: %s", n->cfg.connection_string,
                 n->db ? sqlite3_errmsg(n->db) : "out of memory");
        rs_nameres_free(n);
        return NULL;
    }
    sqlite3_busy_timeout(n->db, (int)n->cfg.busy_timeout_ms);
    unsigned char raw[HOP_KEY_HEX / 2];
    char key[HOP_KEY_HEX + 1];
    if (rs_secure_random(raw, sizeof raw) != 0) { /* a key for the sidecars' hops: from the kernel's generator */
        snprintf(err, errlen, "nameres: no random bytes for the hop key");
        rs_nameres_free(n);
        return NULL;
    }
    rs_hex_encode(raw, sizeof raw, key);
    explicit_bzero(raw, sizeof raw);
    char sql[1280];
    snprintf(sql, sizeof sql,
             "%s"
             "CREATE TABLE IF NOT EXISTS %s (registration_id TEXT PRIMARY KEY NOT NULL, address TEXT UNIQUE NOT NULL,"
             " app_id TEXT NOT NULL, namespace TEXT NOT NULL DEFAULT '', last_update INTEGER NOT NULL);"
             "CREATE INDEX IF NOT EXISTS %s_app_id ON %s (app_id);"
             "CREATE TABLE IF NOT EXISTS %s (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
             "INSERT OR IGNORE INTO %s (key, value) VALUES ('nr-migrations', '1');"
             "INSERT OR IGNORE INTO %s (key, value) VALUES ('" HOP_KEY_NAME "', '%s');",
             /* heartbeats run on the event loop: in WAL mode, NORMAL skips the fsync per commit (a row lost
              * to a power cut is re-written by the next heartbeat) */
             n->cfg.disable_wal ? "" : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", n->cfg.table, n->cfg.table, n->cfg.table,
             n->cfg.metadata_table, n->cfg.metadata_table, n->cfg.metadata_table, key);
    /* Sidecars started together all create the schema and switch the file to
     * WAL at once; that switch can answer SQLITE_BUSY without waiting on the
     * busy handler, so retry for a while before giving up. */
    int64_t give_up = rs_now_ms() + 5000;
    int rc;
    while ((rc = exec_sql(n, sql, err, errlen)) != 0 && is_busy(n->db) && rs_now_ms() < give_up)
        sqlite3_sleep(20 + (int)(rs_now_ms() % 30)); /* spread the retries of processes started together */
    explicit_bzero(key, sizeof key);
    explicit_bzero(sql, sizeof sql);
    if (rc != 0 || read_hop_key(n, err, errlen) != 0) {
        rs_nameres_free(n);
        return NULL;
    }
    restrict_mode(n->db);
    if (n->cfg.cleanup_interval_ms > 0 && base) {
        on_cleanup(-1, 0, n);
        n->cleanup_ev = event_new(base, -1, EV_PERSIST, on_cleanup, n);
        struct timeval tv = {n->cfg.cleanup_interval_ms / 1000, (n->cfg.cleanup_interval_ms % 1000) * 1000};
        event_add(n->cleanup_ev, &tv);
    }
    if (app_id && address && rs_nameres_register(n, app_id, address, err, errlen) != 0) {
        rs_nameres_free(n);
        return NULL;
    }
    return n;
}

int rs_nameres_register(rs_nameres_t *n, const char *app_id, const char *address, char *err, size_t errlen) {
    if (n->app_id) {
        snprintf(err, errlen, "nameres: already registered as %s", n->app_id);
        return -1;
    }
    n->app_id = rs_strdup(app_id);
    n->address = rs_strdup(address);
    rs_uuid(n->reg_id);
    if (do_register(n, err, errlen) != 0) {
        RS_SAFEFREE(n->app_id);
        RS_SAFEFREE(n->address);
        return -1;
    }
    int64_t every = n->cfg.update_interval_ms - n->cfg.timeout_ms - 1000;
    if (every < 200) every = 200;
    if (n->base) {
        n->heartbeat_ev = event_new(n->base, -1, EV_PERSIST, on_heartbeat, n);
        struct timeval tv = {every / 1000, (every % 1000) * 1000};
        event_add(n->heartbeat_ev, &tv);
    }
    RS_INFO("nameres", "registered %s at %s in %s (table %s)", app_id, address, n->cfg.connection_string,
            n->cfg.table);
    return 0;
}

static void cache_clear(cache_entry_t *e) {
    free(e->app_id);
    for (int i = 0; i < e->n; i++) free(e->addrs[i]);
    memset(e, 0, sizeof *e);
}

void rs_nameres_free(rs_nameres_t *n) {
    if (!n) return;
    if (n->heartbeat_ev) event_free(n->heartbeat_ev);
    if (n->cleanup_ev) event_free(n->cleanup_ev);
    if (n->db && n->app_id) {
        char sql[256];
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE registration_id = ?", n->cfg.table);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(n->db, sql, -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, n->reg_id, -1, SQLITE_STATIC);
            sqlite3_step(st);
        }
        sqlite3_finalize(st);
    }
    if (n->db) sqlite3_close(n->db);
    for (int i = 0; i < n->ncache; i++) cache_clear(&n->cache[i]);
    rs_nameres_config_free(&n->cfg);
    free(n->app_id);
    free(n->address);
    explicit_bzero(n->hop_key, sizeof n->hop_key);
    free(n);
}

static cache_entry_t *cache_find(rs_nameres_t *n, const char *app_id) {
    for (int i = 0; i < n->ncache; i++)
        if (strcmp(n->cache[i].app_id, app_id) == 0) return &n->cache[i];
    return NULL;
}

static int fetch(rs_nameres_t *n, const char *app_id, cache_entry_t *e, char *err, size_t errlen) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT address FROM %s WHERE app_id = ? AND unixepoch() - last_update < ? LIMIT %d",
             n->cfg.table, MAX_ADDRS);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(n->db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "nameres: %s", sqlite3_errmsg(n->db));
        return -1;
    }
    sqlite3_bind_text(st, 1, app_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, n->cfg.update_interval_ms / 1000);
    int rc;
    for (int i = 0; i < e->n; i++) free(e->addrs[i]);
    e->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && e->n < MAX_ADDRS) {
        const unsigned char *a = sqlite3_column_text(st, 0);
        if (a) e->addrs[e->n++] = rs_strdup((const char *)a);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf(err, errlen, "nameres: %s", sqlite3_errmsg(n->db));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    e->fetched_ms = rs_now_ms();
    return 0;
}

int rs_nameres_resolve(rs_nameres_t *n, const char *app_id, char *out, size_t outlen, char *err, size_t errlen) {
    cache_entry_t *e = cache_find(n, app_id);
    int64_t now = rs_now_ms();
    if (!e || now - e->fetched_ms >= n->cache_ttl_ms || e->n == 0) {
        if (!e) {
            if (n->ncache == MAX_CACHE) { /* evict the oldest entry */
                int old = 0;
                for (int i = 1; i < n->ncache; i++)
                    if (n->cache[i].fetched_ms < n->cache[old].fetched_ms) old = i;
                cache_clear(&n->cache[old]);
                n->cache[old] = n->cache[--n->ncache];
            }
            e = &n->cache[n->ncache++];
            memset(e, 0, sizeof *e);
            e->app_id = rs_strdup(app_id);
        }
        if (fetch(n, app_id, e, err, errlen) != 0) return -1;
    }
    if (e->n == 0) {
        snprintf(err, errlen, "no host found with the given ID");
        return -1;
    }
    snprintf(out, outlen, "%s", e->addrs[e->n == 1 ? 0 : rs_random_below((uint32_t)e->n)]);
    return 0;
}

const char *rs_nameres_hop_key(const rs_nameres_t *n) { return n->hop_key; }

void rs_nameres_forget(rs_nameres_t *n, const char *app_id, const char *address) {
    cache_entry_t *e = cache_find(n, app_id);
    if (!e) return;
    for (int i = 0; i < e->n; i++) {
        if (strcmp(e->addrs[i], address) == 0) {
            free(e->addrs[i]);
            e->addrs[i] = e->addrs[--e->n];
            return;
        }
    }
}
