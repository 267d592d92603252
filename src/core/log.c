/* SPDX-License-Identifier: MIT */
#include "core/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static rs_log_level_t min_level = RS_LOG_INFO;
static int as_json;
static char app_id[128];

static const char *level_names[] = {"debug", "info", "warn", "error", "fatal"};

void rs_log_set_level(rs_log_level_t level) { min_level = level; }
void rs_log_set_json(int on) { as_json = on; }
int rs_log_enabled(rs_log_level_t level) { return level >= min_level; }

void rs_log_set_app_id(const char *id) { snprintf(app_id, sizeof app_id, "%s", id ? id : ""); }

int rs_log_parse_level(const char *name, rs_log_level_t *out) {
    for (int i = 0; i <= RS_LOG_FATAL; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (rs_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void rs_logv(rs_log_level_t level, const char *scope, const char *fmt, va_list ap) {
    if (level < min_level) return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);

    if (as_json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "time", when, "level", level_names[level], "scope",
                              scope ? scope : "", "msg", msg);
        if (app_id[0]) json_object_set_new(o, "app_id", json_string(app_id));
        char *line = json_dumps(o, JSON_COMPACT);
        if (line) fprintf(stderr, "%s\n", line);
        free(line);
        json_decref(o);
    } else {
        fprintf(stderr, "time=\"%s\" level=%s scope=%s%s%s msg=\"%s\"\n", when, level_names[level], scope ? scope : "",
                app_id[0] ? " app_id=" : "", app_id, msg);
    }
}

void rs_log(rs_log_level_t level, const char *scope, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rs_logv(level, scope, fmt, ap);
    va_end(ap);
}
