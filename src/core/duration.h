/* SPDX-License-Identifier: MIT */
/* Durations as Dapr writes them: a Go duration string ("1h2m3.5s", "200ms",
 * "-1s") or a bare integer, which Dapr's resiliency loader reads as
 * milliseconds. */
#ifndef RS_CORE_DURATION_H
#define RS_CORE_DURATION_H

#include <stddef.h>
#include <stdint.h>

/** Parses a Go duration ("300ms", "1m30s", "0"); units ns us µs ms s m h.
 *  Returns 0 and the value in milliseconds (rounded down), or -1 if malformed. */
int rs_duration_parse_go(const char *s, int64_t *out_ms);
/** Like rs_duration_parse_go but a bare integer means milliseconds. */
int rs_duration_parse_ms_default(const char *s, int64_t *out_ms);
/** Like rs_duration_parse_go but a bare integer means seconds. */
int rs_duration_parse_s_default(const char *s, int64_t *out_ms);
/** A command-line number of seconds, fractions allowed ("2.5"), in [0, max_s]. Returns 0 and the value in
 *  milliseconds (rounded down), or -1 if it is not such a number. */
int rs_duration_parse_seconds(const char *s, double max_s, int64_t *out_ms);
/** Writes ms as Go's time.Duration.String prints it ("500ms", "5s", "1.5s", "1m30s", "1h0m0s", "0s"). */
void rs_duration_format_go(int64_t ms, char *out, size_t cap);

#endif
