/* For the operation-layer tests: a real redis-server (redis_server.h) and a
 * sidecar runtime (rs_sidecar_init, no listening server) loaded from
 * component YAML written to a temporary resources directory. */
#ifndef RS_TEST_OPS_HARNESS_H
#define RS_TEST_OPS_HARNESS_H

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_server.h"
#include "sidecar/boot/boot.h"

typedef struct {
    char dir[64];
    struct event_base *base;
    rs_sidecar_t sc;
} ops_env_t;

/* Writes yaml as <dir>/components.yaml and initialises a sidecar with app id "opsapp" from it and the
 * Configuration file config (NULL: none). Returns 0 or -1. */
static inline int ops_env_init_with_config(ops_env_t *e, const char *yaml, const char *config) {
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/rs-ops-XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    char path[128];
    snprintf(path, sizeof path, "%s/components.yaml", e->dir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(yaml, f);
    fclose(f);
    e->base = event_base_new();
    rs_sidecar_config_defaults(&e->sc.cfg);
    e->sc.cfg.app_id = strdup("opsapp");
    rs_strlist_add(&e->sc.cfg.resources_paths, e->dir);
    if (config) e->sc.cfg.config_path = strdup(config);
    char err[512] = "";
    if (rs_sidecar_init(&e->sc, e->base, err, sizeof err) != 0) {
        printf("  sidecar init: %s\n", err);
        return -1;
    }
    return 0;
}

static inline int ops_env_init(ops_env_t *e, const char *yaml) { return ops_env_init_with_config(e, yaml, NULL); }

/* rm -rf dir (a directory the test made under /tmp). */
static inline int remove_dir(const char *dir) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static inline void ops_env_free(ops_env_t *e) {
    rs_sidecar_free(&e->sc);
    event_base_free(e->base);
    if (remove_dir(e->dir) != 0) printf("  cannot remove %s\n", e->dir);
}

#endif
