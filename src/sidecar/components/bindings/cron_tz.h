/* SPDX-License-Identifier: MIT */
/* Time zones for cron schedules: a small reader of the system's TZif files
 * (/usr/share/zoneinfo, /etc/localtime) that answers "what is the UTC offset
 * at this instant". It never touches the process-wide TZ setting, so one
 * schedule's CRON_TZ= prefix cannot disturb anything else in ripstopd.
 *
 * Instants after the file's last transition use the last transition's offset
 * (Debian ships "fat" files with transitions up to 2037). */
#ifndef RS_BINDINGS_CRON_TZ_H
#define RS_BINDINGS_CRON_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct rs_cron_tz rs_cron_tz_t;

/** Loads a zone by IANA name ("Europe/Berlin", "UTC"), or the process's local zone for "Local" or NULL
 *  (TZ environment variable, else /etc/localtime, else UTC). Returns NULL with a reason in err
 *  for unknown names and names that try to leave the zoneinfo folder. */
rs_cron_tz_t *rs_cron_tz_load(const char *name, char *err, size_t errlen);
void rs_cron_tz_free(rs_cron_tz_t *z);
/** The zone's name as Go prints a time.Location ("Local", "UTC", "Europe/Berlin"). */
const char *rs_cron_tz_name(const rs_cron_tz_t *z);
/** UTC offset in seconds east of Greenwich at the UTC instant t (Unix seconds). */
int32_t rs_cron_tz_offset(const rs_cron_tz_t *z, int64_t t);
/** Converts a wall-clock time in the zone (given as seconds since the epoch as if it were UTC) to a Unix instant.
 *  Wall times that fall into a DST gap move forward by the gap, like Go's time.Date. */
int64_t rs_cron_tz_wall_to_utc(const rs_cron_tz_t *z, int64_t wall);

#endif
