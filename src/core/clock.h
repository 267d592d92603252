/* SPDX-License-Identifier: MIT */
/* Time sources. Anything whose behaviour depends on time (breakers, retry
 * schedules, leases) takes an rs_clock_t so tests can drive time by hand. */
#ifndef RS_CORE_CLOCK_H
#define RS_CORE_CLOCK_H

#include <stdint.h>

typedef struct rs_clock {
    int64_t (*now_ms)(struct rs_clock *self); /* monotonic milliseconds */
    int64_t manual_ms;                         /* used by the manual clock */
} rs_clock_t;

/** The process-wide monotonic clock. */
rs_clock_t *rs_clock_system(void);
/** Initialises a clock that only moves when rs_clock_advance is called. */
void rs_clock_manual_init(rs_clock_t *c, int64_t start_ms);
void rs_clock_advance(rs_clock_t *c, int64_t ms);
static inline int64_t rs_clock_now(rs_clock_t *c) { return c->now_ms(c); }

/** Monotonic milliseconds and microseconds, for code that needs no injection. */
int64_t rs_now_ms(void);
int64_t rs_now_us(void);
/** Wall-clock milliseconds since the Unix epoch. */
int64_t rs_wall_ms(void);

#endif
