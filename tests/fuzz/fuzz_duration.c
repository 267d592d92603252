/* Go durations and second counts (core/duration.c): resiliency timeouts and
 * intervals, cron's @every, command-line flags. Invariants: the three Go-style
 * parsers agree on every input that carries a unit, and a parsed number of
 * seconds lies within the bound asked for. */
#include "core/duration.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fz_cstr(data, size);
    int64_t go = 0, ms = 0, sec = 0;
    int rgo = rs_duration_parse_go(s, &go);
    int rms = rs_duration_parse_ms_default(s, &ms);
    int rsec = rs_duration_parse_s_default(s, &sec);
    if (rgo == 0) {
        /* A Go duration means the same whatever a bare number would default to. */
        FZ_CHECK(rms == 0 && ms == go);
        FZ_CHECK(rsec == 0 && sec == go);
    }
    int64_t secs = 0;
    if (rs_duration_parse_seconds(s, 3600.0, &secs) == 0) FZ_CHECK(secs >= 0 && secs <= 3600 * 1000);
    if (rs_duration_parse_seconds(s, 1e300, &secs) == 0) FZ_CHECK(secs >= 0);
    free(s);
    return 0;
}
