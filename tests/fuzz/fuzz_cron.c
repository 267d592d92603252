/* Cron schedules of the cron input binding (components/bindings/cron_schedule.c), read from component YAML.
 * Invariants: a parsed schedule's next activation lies strictly after the instant asked about, and asking again
 * from it moves forward. */
#include "fuzz.h"
#include "sidecar/components/bindings/cron_schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *spec = fz_cstr(data, size);
    char err[256] = "";
    rs_cron_schedule_t *s = rs_cron_parse(spec, err, sizeof err);
    if (!s) {
        FZ_CHECK(err[0] != '\0'); /* a refusal says why */
    } else {
        const int64_t t0 = 1764676800000; /* 2025-12-02T12:00:00Z */
        int64_t t1 = rs_cron_next(s, t0);
        FZ_CHECK(t1 == -1 || t1 > t0);
        if (t1 > 0) {
            int64_t t2 = rs_cron_next(s, t1);
            FZ_CHECK(t2 == -1 || t2 > t1);
        }
        FZ_CHECK(rs_cron_zone(s) != NULL);
        rs_cron_free(s);
    }
    free(spec);
    return 0;
}
