/* SPDX-License-Identifier: MIT */
#include "core/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/encoding.h"

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

/* Writes msg quoted for a text log line: '"' and '\\' escaped, control bytes as \n, \r, \t or \xNN, so that text a
 * client sent (a path with %0A in it) can never start a line of its own or end the quoted field. */
static void quote_into(char *out, size_t cap, const char *msg) {
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)msg; *p && w + 5 < cap; p++) {
        unsigned char ch = *p;
        if (ch == '"' || ch == '\\') {
            out[w++] = '\\';
            out[w++] = (char)ch;
        } else if (ch == '\n' || ch == '\r' || ch == '\t') {
            out[w++] = '\\';
            out[w++] = ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't';
        } else if (ch < 0x20 || ch == 0x7f) {
            w += (size_t)snprintf(out + w, cap - w, "\\x%02x", ch);
        } else {
            out[w++] = (char)ch;
        }
    }
    out[w] = '\0';
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
        /* JSON carries only UTF-8: a message quoting a client's bytes gets U+FFFD for the others, never lost */
        char *clean = rs_utf8_valid(msg, strlen(msg)) ? NULL : rs_utf8_sanitize(msg, strlen(msg), NULL);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "time", when, "level", level_names[level], "scope",
                              scope ? scope : "", "msg", clean ? clean : msg);
        free(clean);
        if (app_id[0]) json_object_set_new(o, "app_id", json_string(app_id));
        char *line = json_dumps(o, JSON_COMPACT);
        if (line) fprintf(stderr, "%s\n", line);
        free(line);
        json_decref(o);
    } else {
        char quoted[4 * sizeof msg];
        quote_into(quoted, sizeof quoted, msg);
        fprintf(stderr, "time=\"%s\" level=%s scope=%s%s%s msg=\"%s\"\n", when, level_names[level], scope ? scope : "",
                app_id[0] ? " app_id=" : "", app_id, quoted);
    }
}

void rs_log(rs_log_level_t level, const char *scope, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rs_logv(level, scope, fmt, ap);
    va_end(ap);
}
