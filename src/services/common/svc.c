/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* vasprintf */
#include "svc.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *svc_name = "service";

void rs_svc_set_name(const char *name) { svc_name = name; }

void rs_svc_log(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[1200];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: %s\n", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, svc_name,
                     msg);
    if (n > (int)sizeof line - 1) {
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    /* One write per line so lines of concurrent handlers never interleave. */
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

const char *rs_svc_env(const char *name, const char *def) {
    const char *v = getenv(name);
    return v && *v ? v : def;
}

long rs_svc_env_long(const char *name, long def, long min, long max) {
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end = NULL;
    long x = strtol(v, &end, 10);
    if (*end || x < min || x > max) {
        rs_svc_log("ignoring %s=%s (want an integer in %ld..%ld), using %ld", name, v, min, max, def);
        return def;
    }
    return x;
}

void rs_svc_random_hex(char *out, size_t nbytes) {
    unsigned char buf[64];
    if (nbytes > sizeof buf) nbytes = sizeof buf;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, buf, nbytes) : -1;
    if (fd >= 0) close(fd);
    if (got != (ssize_t)nbytes) { /* no urandom: time and pid still differ between replicas */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long x = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16) ^ (unsigned long)ts.tv_sec;
        for (size_t i = 0; i < nbytes; i++) buf[i] = (unsigned char)(x >> ((i % 8) * 8));
    }
    for (size_t i = 0; i < nbytes; i++) sprintf(out + 2 * i, "%02x", buf[i]);
    out[2 * nbytes] = '\0';
}

dapr_app_t *rs_svc_app_new(void) {
    dapr_error_t err;
    dapr_app_options_t aopt = {.port = (int)rs_svc_env_long("APP_PORT", RS_SVC_DEFAULT_PORT, 1, 65535)};
    dapr_app_t *app = dapr_app_new(&aopt, &err);
    if (!app) {
        char e[640];
        rs_svc_log("cannot listen: %s", dapr_error_str(&err, e, sizeof e));
    }
    return app;
}

int rs_svc_app_run(dapr_app_t *app) {
    int rc = dapr_app_run(app);
    rs_svc_log("stopped");
    dapr_app_free(app);
    return rc;
}
