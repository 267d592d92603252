/* For the operation-layer tests: a real redis-server on a free loopback port
 * and a sidecar runtime (rs_sidecar_init, no listening server) loaded from
 * component YAML written to a temporary resources directory. */
#ifndef RS_TEST_OPS_HARNESS_H
#define RS_TEST_OPS_HARNESS_H

#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "sidecar/components/redis_conn.h"
#include "sidecar/sidecar.h"

static inline int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* Starts redis-server on port and waits (bounded) until it answers. */
static inline pid_t start_redis(int port) {
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    fflush(NULL); /* or the child's freopen would flush a copy of our buffered output */
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execlp("redis-server", "redis-server", "--port", ps, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               (char *)NULL);
        _exit(127);
    }
    rs_redis_options_t o = {.host = "127.0.0.1", .port = port};
    char err[200];
    for (int i = 0; i < 200; i++) {
        if (rs_redis_probe(&o, 200, NULL, err, sizeof err) == 0) break;
        usleep(20000);
    }
    return pid;
}

static inline void stop_redis(pid_t pid) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* Runs the loop until *flag is set or timeout_ms passes. Returns the flag. */
static inline int loop_until(struct event_base *base, volatile int *flag, int timeout_ms) {
    int64_t end = rs_now_ms() + timeout_ms;
    while (!*flag && rs_now_ms() < end) event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(1000);
    return *flag;
}

/* Runs the loop for ms (for "nothing more happens" checks). */
static inline void loop_for(struct event_base *base, int ms) {
    int64_t end = rs_now_ms() + ms;
    while (rs_now_ms() < end) event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(1000);
}

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

static inline void ops_env_free(ops_env_t *e) {
    rs_sidecar_free(&e->sc);
    event_base_free(e->base);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
    if (system(cmd) != 0) printf("  cannot remove %s\n", e->dir);
}

#endif
