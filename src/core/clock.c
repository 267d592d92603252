/* SPDX-License-Identifier: MIT */
#include "core/clock.h"

#include <time.h>

int64_t rs_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t rs_now_ms(void) { return rs_now_us() / 1000; }

int64_t rs_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t system_now(rs_clock_t *self) {
    (void)self;
    return rs_now_ms();
}

static rs_clock_t system_clock = {system_now, 0};

rs_clock_t *rs_clock_system(void) { return &system_clock; }

static int64_t manual_now(rs_clock_t *self) { return self->manual_ms; }

void rs_clock_manual_init(rs_clock_t *c, int64_t start_ms) {
    c->now_ms = manual_now;
    c->manual_ms = start_ms;
}

void rs_clock_advance(rs_clock_t *c, int64_t ms) { c->manual_ms += ms; }
