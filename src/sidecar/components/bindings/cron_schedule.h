/* SPDX-License-Identifier: MIT */
/* Cron schedules as Dapr's cron binding parses them (dapr/kit/cron, a fork of
 * robfig/cron v3 with SecondOptional | Minute | Hour | Dom | Month | Dow |
 * Descriptor), spec §3.5:
 *   - 5 fields "min hour dom mon dow" or 6 fields with seconds first;
 *   - each field: `*` or `?`, numbers, names (jan-dec, sun-sat, any case),
 *     ranges a-b, steps x/n (a single x/n means x-max/n), lists a,b,c;
 *   - day of month and day of week are ANDed when either is `*`/`?`, else ORed;
 *   - descriptors @yearly @annually @monthly @weekly @daily @midnight @hourly
 *     and "@every <Go duration>" (rounded down to whole seconds, at least 1s);
 *   - an optional "CRON_TZ=<zone> " or "TZ=<zone> " prefix; otherwise the
 *     process's local zone.
 * Pure: no clock, no I/O beyond loading a zone file while parsing. */
#ifndef RS_BINDINGS_CRON_SCHEDULE_H
#define RS_BINDINGS_CRON_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "sidecar/components/bindings/cron_tz.h"

typedef struct rs_cron_schedule rs_cron_schedule_t;

/** Parses spec. Returns a schedule, or NULL with the reason in err (robfig's wording,
 *  e.g. "expected 5 to 6 fields, found 3: [* * *]"). */
rs_cron_schedule_t *rs_cron_parse(const char *spec, char *err, size_t errlen);
void rs_cron_free(rs_cron_schedule_t *s);

/** The next activation strictly after the instant `after_ms` (Unix milliseconds), in Unix milliseconds.
 *  Returns -1 if there is none within five years (e.g. "0 0 30 2 *"). */
int64_t rs_cron_next(const rs_cron_schedule_t *s, int64_t after_ms);

/** The schedule's zone (for the timeZone header: "Local" unless a prefix named one). */
const rs_cron_tz_t *rs_cron_zone(const rs_cron_schedule_t *s);

/** 1 for "@every" schedules (fixed delay), 0 for calendar schedules. */
int rs_cron_is_every(const rs_cron_schedule_t *s);

#endif
