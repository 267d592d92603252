/* SPDX-License-Identifier: MIT */
/* Test harness for pubsub.kafka: starts a kafka-mock process, builds a
 * pubsub.kafka component on a private event loop (as ripstopd would), drives
 * the loop until a condition holds, and talks to kafka-mock's control API.
 * Header-only so each test file stays one executable. */
#ifndef RS_TEST_KAFKA_HARNESS_H
#define RS_TEST_KAFKA_HARNESS_H

#include <arpa/inet.h>
#include <event2/event.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/str.h"
#include "sidecar/components/pubsub/pubsub.h"
#include "sidecar/components/host.h"

extern const rs_component_type_t rs_pubsub_kafka_type;

typedef struct {
    pid_t pid;
    char dir[64];
    char bootstrap[512];
    int control_port;
} kh_mock_t;

/* Path of the built kafka-mock: $RIPSTOP_BUILD/kafka-mock, else next to build/tests/<this test>. */
static inline int kh_mock_path(char *out, size_t n) {
    const char *b = getenv("RIPSTOP_BUILD");
    if (b) {
        snprintf(out, n, "%s/kafka-mock", b);
        if (access(out, X_OK) == 0) return 0;
    }
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return -1;
    self[len] = 0;
    snprintf(out, n, "%s/../kafka-mock", dirname(self));
    return access(out, X_OK);
}

static inline int kh_read_file(const char *path, char *out, size_t n) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t r = fread(out, 1, n - 1, f);
    fclose(f);
    out[r] = 0;
    while (r && (out[r - 1] == '\n' || out[r - 1] == '\r')) out[--r] = 0;
    return r ? 0 : -1;
}

/** Starts kafka-mock with extra args (NULL-terminated); waits (bounded) until it wrote its files. */
static inline int kh_mock_start(kh_mock_t *m, const char *const *extra) {
    char path[PATH_MAX];
    if (kh_mock_path(path, sizeof path)) {
        printf("  kafka-mock binary not found\n");
        return -1;
    }
    snprintf(m->dir, sizeof m->dir, "/tmp/rs-kafka-test-XXXXXX");
    if (!mkdtemp(m->dir)) return -1;
    char bfile[128], cfile[128], logf[128];
    snprintf(bfile, sizeof bfile, "%s/bootstrap", m->dir);
    snprintf(cfile, sizeof cfile, "%s/control", m->dir);
    snprintf(logf, sizeof logf, "%s/kafka-mock.log", m->dir);
    const char *argv[32] = {path, "--bootstrap-file", bfile, "--control-file", cfile, "--log-level", "warn"};
    int argc = 7;
    for (; extra && *extra && argc < 30; extra++) argv[argc++] = *extra;
    argv[argc] = NULL;
    m->pid = fork();
    if (m->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a test that crashes must not leave its broker running */
        FILE *lf = freopen(logf, "w", stdout);
        (void)lf;
        dup2(fileno(stdout), 2);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    char port[32];
    for (int i = 0; i < 500; i++) { /* up to 10s */
        if (kh_read_file(bfile, m->bootstrap, sizeof m->bootstrap) == 0 && kh_read_file(cfile, port, sizeof port) == 0) {
            m->control_port = atoi(port);
            return 0;
        }
        if (waitpid(m->pid, NULL, WNOHANG) == m->pid) return -1;
        usleep(20000);
    }
    kill(m->pid, SIGKILL); /* it never got ready: do not leave it running */
    waitpid(m->pid, NULL, 0);
    m->pid = 0;
    return -1;
}

/** SIGTERM, then waits (bounded) and returns the exit status (or -1 if it had to be killed). */
static inline int kh_mock_stop(kh_mock_t *m) {
    if (m->pid <= 0) return -1;
    kill(m->pid, SIGTERM);
    int st = 0;
    for (int i = 0; i < 500; i++) {
        if (waitpid(m->pid, &st, WNOHANG) == m->pid) {
            m->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        usleep(20000);
    }
    kill(m->pid, SIGKILL);
    waitpid(m->pid, &st, 0);
    m->pid = 0;
    return -1;
}

/** One blocking HTTP/1.0 request to the control API. Returns the status (body copied to out), or -1. */
static inline int kh_control(kh_mock_t *m, const char *method, const char *path, const char *body, char *out,
                             size_t outlen) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)m->control_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    char req[2048];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    char resp[8192];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof resp - 1 && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0) got += (size_t)r;
    resp[got] = 0;
    close(fd);
    int status = -1;
    if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) return -1;
    const char *b = strstr(resp, "\r\n\r\n");
    if (out && outlen) snprintf(out, outlen, "%s", b ? b + 4 : "");
    return status;
}

typedef struct {
    struct event_base *base;
    struct event *tick;
    rs_component_host_t host; /* what the component sees of a runtime */
    rs_component_t c;
} kh_env_t;

static inline void kh_tick(evutil_socket_t fd, short w, void *a) {
    (void)fd;
    (void)w;
    (void)a;
}

static inline void kh_env_init(kh_env_t *e) {
    memset(e, 0, sizeof *e);
    e->base = event_base_new();
    /* A steady tick so EVLOOP_ONCE returns regularly and run_until can check its deadline. */
    e->tick = event_new(e->base, -1, EV_PERSIST, kh_tick, NULL);
    struct timeval tv = {0, 10000};
    event_add(e->tick, &tv);
    e->host.base = e->base;
    e->host.app_id = "kafka-test-app";
}

static inline void kh_env_free(kh_env_t *e) {
    event_free(e->tick);
    event_base_free(e->base);
}

/** Inits a pubsub.kafka component named `name` with metadata pairs (NULL-terminated). Returns init's result. */
static inline int kh_component_init(kh_env_t *e, rs_component_t *c, const char *name, const char *const *kv,
                                    char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->name = (char *)name;
    c->type = &rs_pubsub_kafka_type;
    c->host = &e->host;
    for (; kv[0]; kv += 2) rs_kvlist_set(&c->metadata, kv[0], kv[1]);
    return c->type->init(c, err, errlen);
}

static inline void kh_component_close(rs_component_t *c) {
    c->type->close(c);
    rs_kvlist_free(&c->metadata);
}

static inline const rs_pubsub_ops_t *kh_ops(void) { return rs_pubsub_kafka_type.ops; }

/** Runs the loop until cond(arg) is true or timeout_ms passes. Returns 1 if cond held. */
static inline int kh_run_until(kh_env_t *e, int (*cond)(void *), void *arg, int timeout_ms) {
    int64_t deadline = rs_now_ms() + timeout_ms;
    while (!cond(arg)) {
        if (rs_now_ms() > deadline) return 0;
        event_base_loop(e->base, EVLOOP_ONCE);
    }
    return 1;
}

#endif
