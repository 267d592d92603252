/* SPDX-License-Identifier: MIT */
/* Logging: one line per event, plain text or JSON (daprd's --log-as-json).
 * Every line names its scope (e.g. "resiliency", "state.redis") so a reader
 * can grep one concern out of a busy console. */
#ifndef RS_CORE_LOG_H
#define RS_CORE_LOG_H

#include <stdarg.h>

typedef enum { RS_LOG_DEBUG = 0, RS_LOG_INFO, RS_LOG_WARN, RS_LOG_ERROR, RS_LOG_FATAL } rs_log_level_t;

/** Sets the minimum level printed. */
void rs_log_set_level(rs_log_level_t level);
/** Parses "debug|info|warn|error|fatal"; returns 0, or -1 for an unknown name. */
int rs_log_parse_level(const char *name, rs_log_level_t *out);
/** Switches to one JSON object per line. */
void rs_log_set_json(int on);
/** Sets the app id printed on every line (may be NULL). The string is copied. */
void rs_log_set_app_id(const char *app_id);
/** Returns 1 if a message at this level would be printed. */
int rs_log_enabled(rs_log_level_t level);

/** Writes one line to stderr. `scope` names the module ("api", "state.redis"). */
void rs_log(rs_log_level_t level, const char *scope, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/** rs_log with a va_list. The format attribute lets the compiler check callers that forward their own format. */
void rs_logv(rs_log_level_t level, const char *scope, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

#define RS_DEBUG(scope, ...) do { if (rs_log_enabled(RS_LOG_DEBUG)) rs_log(RS_LOG_DEBUG, scope, __VA_ARGS__); } while (0)
#define RS_INFO(scope, ...) rs_log(RS_LOG_INFO, scope, __VA_ARGS__)
#define RS_WARN(scope, ...) rs_log(RS_LOG_WARN, scope, __VA_ARGS__)
#define RS_ERROR(scope, ...) rs_log(RS_LOG_ERROR, scope, __VA_ARGS__)

#endif
