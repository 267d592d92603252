/* SPDX-License-Identifier: MIT */
/* Parser and next-activation search, following robfig/cron v3's algorithm:
 * each field is a 64-bit set (bit 63 = "was * or ?"); Next walks month, day,
 * hour, minute, second forward, wrapping to the outer field when one rolls
 * over. The walk happens in wall-clock seconds of the schedule's zone and is
 * converted to an instant at the end. */
#include "sidecar/components/bindings/cron_schedule.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/duration.h"
#include "core/str.h"

#define STAR_BIT (1ULL << 63)

struct rs_cron_schedule {
    uint64_t second, minute, hour, dom, month, dow;
    int64_t every_s;  /* > 0 for @every */
    rs_cron_tz_t *zone;
};

typedef struct {
    unsigned min, max;
    const char *const *names; /* index = value - names_base */
    unsigned names_base;
} bounds_t;

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const bounds_t b_seconds = {0, 59, NULL, 0}, b_minutes = {0, 59, NULL, 0}, b_hours = {0, 23, NULL, 0},
                      b_dom = {1, 31, NULL, 0}, b_months = {1, 12, month_names, 1}, b_dow = {0, 6, dow_names, 0};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* robfig's mustParseInt: a non-negative decimal. */
static int parse_uint(const char *s, unsigned *out, const char *expr, char *err, size_t errlen) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno) return fail(err, errlen, "failed to parse int from %s: invalid syntax", s);
    if (v < 0) return fail(err, errlen, "negative number (%lld) not allowed: %s", v, expr);
    if (v > 1000000) return fail(err, errlen, "failed to parse int from %s: value out of range", s);
    *out = (unsigned)v;
    return 0;
}

static int parse_int_or_name(const char *s, const bounds_t *r, unsigned *out, const char *expr, char *err,
                             size_t errlen) {
    if (r->names)
        for (unsigned i = 0; r->names[i]; i++)
            if (strcasecmp(s, r->names[i]) == 0) {
                *out = i + r->names_base;
                return 0;
            }
    return parse_uint(s, out, expr, err, errlen);
}

static uint64_t bits_range(unsigned lo, unsigned hi, unsigned step) {
    uint64_t b = 0;
    if (step == 1) return (~(~0ULL << (hi + 1))) & (~0ULL << lo);
    for (unsigned i = lo; i <= hi; i += step) b |= 1ULL << i;
    return b;
}

/* One comma-separated item: "*", "?", "a", "a-b", with an optional "/step". */
static int parse_range(const char *expr, const bounds_t *r, uint64_t *out, char *err, size_t errlen) {
    char buf[128];
    if (strlen(expr) >= sizeof buf) return fail(err, errlen, "failed to parse int from %s: invalid syntax", expr);
    strcpy(buf, expr);
    char *slash = strchr(buf, '/');
    char *step_s = NULL;
    if (slash) {
        *slash = 0;
        step_s = slash + 1;
        if (strchr(step_s, '/')) return fail(err, errlen, "too many slashes: %s", expr);
    }
    unsigned start, end, step = 1;
    uint64_t extra = 0;
    char *dash = strchr(buf, '-');
    int single = dash == NULL;
    if (strcmp(buf, "*") == 0 || strcmp(buf, "?") == 0) {
        start = r->min;
        end = r->max;
        extra = STAR_BIT;
    } else {
        if (dash) {
            *dash = 0;
            if (strchr(dash + 1, '-')) return fail(err, errlen, "too many hyphens: %s", expr);
        }
        if (parse_int_or_name(buf, r, &start, expr, err, errlen) != 0) return -1;
        end = start;
        if (dash && parse_int_or_name(dash + 1, r, &end, expr, err, errlen) != 0) return -1;
    }
    if (step_s) {
        if (parse_uint(step_s, &step, expr, err, errlen) != 0) return -1;
        if (single) end = r->max; /* "N/step" means "N-max/step" */
        if (step > 1) extra = 0;
    }
    if (start < r->min) return fail(err, errlen, "beginning of range (%u) below minimum (%u): %s", start, r->min, expr);
    if (end > r->max) return fail(err, errlen, "end of range (%u) above maximum (%u): %s", end, r->max, expr);
    if (start > end) return fail(err, errlen, "beginning of range (%u) beyond end of range (%u): %s", start, end, expr);
    if (step == 0) return fail(err, errlen, "step of range should be a positive number: %s", expr);
    *out = bits_range(start, end, step) | extra;
    return 0;
}

static int parse_field(const char *field, const bounds_t *r, uint64_t *out, char *err, size_t errlen) {
    char *copy = rs_strdup(field);
    uint64_t bits = 0;
    int rc = 0;
    /* strtok_r would skip empty items; robfig fails on them, so split by hand. */
    char *p = copy;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        uint64_t b = 0;
        if (parse_range(p, r, &b, err, errlen) != 0) {
            rc = -1;
            break;
        }
        bits |= b;
        if (!comma) break;
        p = comma + 1;
    }
    free(copy);
    *out = bits;
    return rc;
}

static int parse_descriptor(rs_cron_schedule_t *s, const char *d, char *err, size_t errlen) {
    const uint64_t all_dom = bits_range(1, 31, 1) | STAR_BIT, all_month = bits_range(1, 12, 1) | STAR_BIT,
                   all_dow = bits_range(0, 6, 1) | STAR_BIT, all_hour = bits_range(0, 23, 1) | STAR_BIT;
    s->second = 1;
    s->minute = 1;
    s->hour = 1;
    s->dom = all_dom;
    s->month = all_month;
    s->dow = all_dow;
    if (strcmp(d, "@yearly") == 0 || strcmp(d, "@annually") == 0) {
        s->dom = 1ULL << 1;
        s->month = 1ULL << 1;
    } else if (strcmp(d, "@monthly") == 0) {
        s->dom = 1ULL << 1;
    } else if (strcmp(d, "@weekly") == 0) {
        s->dow = 1ULL << 0;
    } else if (strcmp(d, "@daily") == 0 || strcmp(d, "@midnight") == 0) {
        /* midnight: the defaults above */
    } else if (strcmp(d, "@hourly") == 0) {
        s->hour = all_hour;
    } else if (strncmp(d, "@every ", 7) == 0) {
        int64_t ms;
        const char *dur = d + 7;
        if (rs_duration_parse_go(dur, &ms) != 0)
            return fail(err, errlen, "failed to parse duration %s: time: invalid duration \"%s\"", d, dur);
        s->every_s = ms < 1000 ? 1 : ms / 1000; /* robfig: at least 1s, rounded down to seconds */
    } else {
        return fail(err, errlen, "unrecognized descriptor: %s", d);
    }
    return 0;
}

rs_cron_schedule_t *rs_cron_parse(const char *spec, char *err, size_t errlen) {
    if (!spec || !*spec) {
        fail(err, errlen, "empty spec string");
        return NULL;
    }
    rs_cron_schedule_t *s = rs_xcalloc(1, sizeof *s);
    const char *rest = spec;
    char zone[256] = "";
    int has_zone = 0;
    if (rs_has_prefix(spec, "TZ=") || rs_has_prefix(spec, "CRON_TZ=")) {
        const char *eq = strchr(spec, '='), *sp = strchr(spec, ' ');
        if (!sp) {
            fail(err, errlen, "provided bad location %s: missing schedule after the time zone", eq + 1);
            goto bad;
        }
        size_t n = (size_t)(sp - eq - 1);
        if (n >= sizeof zone) n = sizeof zone - 1;
        memcpy(zone, eq + 1, n);
        zone[n] = 0;
        has_zone = 1;
        rest = sp;
        while (*rest == ' ' || *rest == '\t') rest++;
    }
    char zerr[200] = "";
    s->zone = rs_cron_tz_load(has_zone ? zone : "Local", zerr, sizeof zerr);
    if (!s->zone) {
        fail(err, errlen, "provided bad location %s: %s", zone, zerr);
        goto bad;
    }
    /* trailing whitespace is trimmed by Go's TrimSpace/Fields */
    char *work = rs_strdup(rest);
    size_t wl = strlen(work);
    while (wl && isspace((unsigned char)work[wl - 1])) work[--wl] = 0;
    if (work[0] == '@') {
        int rc = parse_descriptor(s, work, err, errlen);
        free(work);
        if (rc != 0) goto bad;
        return s;
    }
    char *fields[8];
    int nf = 0;
    for (char *save = NULL, *tok = strtok_r(work, " \t\n\r\v\f", &save); tok;
         tok = strtok_r(NULL, " \t\n\r\v\f", &save)) {
        if (nf < 8) fields[nf] = tok;
        nf++;
    }
    if (nf < 5 || nf > 6) {
        /* robfig prints the fields as a Go slice: [a b c] */
        char list[200] = "";
        size_t used = 0;
        /* stop at the buffer's end: list + used past it would be an out-of-bounds pointer even with size 0 */
        for (int i = 0; i < nf && i < 8 && used < sizeof list - 1; i++) {
            int n = snprintf(list + used, sizeof list - used, "%s%s", i ? " " : "", fields[i]);
            if (n < 0) break;
            used += (size_t)n;
        }
        fail(err, errlen, "expected 5 to 6 fields, found %d: [%s]", nf, list);
        free(work);
        goto bad;
    }
    int off = nf == 6 ? 0 : -1; /* 5 fields: seconds are "0" */
    int rc = 0;
    if (off == 0) rc = parse_field(fields[0], &b_seconds, &s->second, err, errlen);
    else s->second = 1;
    if (!rc) rc = parse_field(fields[1 + off], &b_minutes, &s->minute, err, errlen);
    if (!rc) rc = parse_field(fields[2 + off], &b_hours, &s->hour, err, errlen);
    if (!rc) rc = parse_field(fields[3 + off], &b_dom, &s->dom, err, errlen);
    if (!rc) rc = parse_field(fields[4 + off], &b_months, &s->month, err, errlen);
    if (!rc) rc = parse_field(fields[5 + off], &b_dow, &s->dow, err, errlen);
    free(work);
    if (rc != 0) goto bad;
    return s;
bad:
    rs_cron_free(s);
    return NULL;
}

void rs_cron_free(rs_cron_schedule_t *s) {
    if (!s) return;
    rs_cron_tz_free(s->zone);
    free(s);
}

const rs_cron_tz_t *rs_cron_zone(const rs_cron_schedule_t *s) { return s->zone; }
int rs_cron_is_every(const rs_cron_schedule_t *s) { return s->every_s > 0; }

static int day_matches(const rs_cron_schedule_t *s, const struct tm *tm) {
    int dom = (s->dom >> tm->tm_mday) & 1, dow = (s->dow >> tm->tm_wday) & 1;
    if ((s->dom & STAR_BIT) || (s->dow & STAR_BIT)) return dom && dow;
    return dom || dow;
}

/* Wall-clock helpers: a wall time is seconds since the epoch read as UTC. */
static void split(int64_t w, struct tm *tm) {
    time_t t = (time_t)w;
    gmtime_r(&t, tm);
}

static int64_t join(struct tm *tm) { return (int64_t)timegm(tm); }

int64_t rs_cron_next(const rs_cron_schedule_t *s, int64_t after_ms) {
    int64_t t_s = after_ms >= 0 ? after_ms / 1000 : -((-after_ms + 999) / 1000);
    if (s->every_s > 0) return (t_s + s->every_s) * 1000; /* ConstantDelaySchedule: truncate to s, add delay */
    int64_t w = t_s + rs_cron_tz_offset(s->zone, t_s) + 1; /* the upcoming second */
    struct tm tm;
    split(w, &tm);
    int added = 0, year_limit = tm.tm_year + 5;
    /* Each loop below runs at most 60 times per wrap; wraps are bounded by the year limit. */
wrap:
    if (tm.tm_year > year_limit) return -1;
    while (!((s->month >> (tm.tm_mon + 1)) & 1)) {
        if (!added) {
            added = 1;
            tm.tm_mday = 1;
            tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        }
        tm.tm_mon++;
        w = join(&tm);
        split(w, &tm);
        if (tm.tm_mon == 0) goto wrap;
    }
    while (!day_matches(s, &tm)) {
        if (!added) {
            added = 1;
            tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        }
        tm.tm_mday++;
        w = join(&tm);
        split(w, &tm);
        if (tm.tm_mday == 1) goto wrap;
    }
    while (!((s->hour >> tm.tm_hour) & 1)) {
        if (!added) {
            added = 1;
            tm.tm_min = tm.tm_sec = 0;
        }
        tm.tm_hour++;
        w = join(&tm);
        split(w, &tm);
        if (tm.tm_hour == 0) goto wrap;
    }
    while (!((s->minute >> tm.tm_min) & 1)) {
        if (!added) {
            added = 1;
            tm.tm_sec = 0;
        }
        tm.tm_min++;
        w = join(&tm);
        split(w, &tm);
        if (tm.tm_min == 0) goto wrap;
    }
    while (!((s->second >> tm.tm_sec) & 1)) {
        added = 1;
        tm.tm_sec++;
        w = join(&tm);
        split(w, &tm);
        if (tm.tm_sec == 0) goto wrap;
    }
    return rs_cron_tz_wall_to_utc(s->zone, join(&tm)) * 1000;
}
