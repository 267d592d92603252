/* SPDX-License-Identifier: MIT */
/* TZif reader (RFC 8536): only transitions and their UTC offsets are kept.
 * The 64-bit (version 2+) block is preferred; the 32-bit block is a fallback
 * for version 1 files. The POSIX footer rule is not interpreted. */
#include "sidecar/components/bindings/cron_tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/str.h"

#define MAX_TZ_FILE (512 * 1024)

struct rs_cron_tz {
    char *name;
    int64_t *trans;   /* transition instants, ascending */
    int32_t *offs;    /* offset in effect from trans[i] on */
    size_t n;
    int32_t initial;  /* offset before the first transition */
};

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t be64(const unsigned char *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

typedef struct {
    uint32_t isut, isstd, leap, time, type, chars;
} counts_t;

static int read_counts(const unsigned char *p, size_t len, counts_t *c) {
    if (len < 44 || memcmp(p, "TZif", 4) != 0) return -1;
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    if (c->time > 100000 || c->type == 0 || c->type > 256 || c->chars > 65536 || c->leap > 10000) return -1;
    return 0;
}

static size_t block_len(const counts_t *c, int tsize) {
    return (size_t)c->time * (size_t)tsize + c->time + (size_t)c->type * 6 + c->chars +
           (size_t)c->leap * (size_t)(tsize + 4) + c->isstd + c->isut;
}

/* Parses one data block starting after its header. */
static int parse_block(rs_cron_tz_t *z, const unsigned char *p, size_t len, const counts_t *c, int tsize) {
    if (block_len(c, tsize) > len) return -1;
    const unsigned char *times = p, *idx = p + (size_t)c->time * (size_t)tsize, *types = idx + c->time;
    z->n = c->time;
    z->trans = rs_xcalloc(z->n ? z->n : 1, sizeof *z->trans);
    z->offs = rs_xcalloc(z->n ? z->n : 1, sizeof *z->offs);
    for (size_t i = 0; i < z->n; i++) {
        z->trans[i] = tsize == 8 ? be64(times + 8 * i) : (int64_t)(int32_t)be32(times + 4 * i);
        if (idx[i] >= c->type) return -1;
        z->offs[i] = (int32_t)be32(types + 6 * idx[i]);
    }
    /* RFC 8536: the offset before the first transition is that of type 0. */
    z->initial = (int32_t)be32(types);
    return 0;
}

static int parse_tzif(rs_cron_tz_t *z, const unsigned char *p, size_t len) {
    counts_t c1;
    if (read_counts(p, len, &c1) != 0) return -1;
    size_t v1len = 44 + block_len(&c1, 4);
    if (p[4] >= '2' && len > v1len) {
        counts_t c2;
        if (read_counts(p + v1len, len - v1len, &c2) == 0)
            return parse_block(z, p + v1len + 44, len - v1len - 44, &c2, 8);
    }
    return parse_block(z, p + 44, len - 44, &c1, 4);
}

static int load_file(rs_cron_tz_t *z, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    /* A buffer of the file's size (zone files are a few KB), not of the bound: every cron schedule loads its zone. */
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > MAX_TZ_FILE) {
        fclose(f);
        return -1;
    }
    unsigned char *buf = rs_xmalloc((size_t)st.st_size);
    size_t len = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    int rc = parse_tzif(z, buf, len);
    free(buf);
    return rc;
}

static int is_utc_name(const char *name) {
    return strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 || strcmp(name, "") == 0;
}

/* Zone names come from resource files: keep them inside the zoneinfo folder. */
static int valid_zone_name(const char *name) {
    if (name[0] == '/' || strstr(name, "..")) return 0;
    for (const char *p = name; *p; p++)
        if (!(*p == '/' || *p == '_' || *p == '-' || *p == '+' || (*p >= '0' && *p <= '9') ||
              (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return 0;
    return 1;
}

rs_cron_tz_t *rs_cron_tz_load(const char *name, char *err, size_t errlen) {
    rs_cron_tz_t *z = rs_xcalloc(1, sizeof *z);
    if (!name || strcmp(name, "Local") == 0) {
        z->name = rs_strdup("Local");
        const char *tz = getenv("TZ");
        int ok = -1;
        if (tz && *tz) {
            if (*tz == ':') tz++;
            if (is_utc_name(tz)) ok = 0;
            else if (tz[0] == '/') ok = load_file(z, tz);
            else if (valid_zone_name(tz)) {
                char path[512];
                snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
                ok = load_file(z, path);
            }
        } else {
            ok = load_file(z, "/etc/localtime");
        }
        (void)ok; /* like Go: an unreadable local zone means UTC */
        return z;
    }
    z->name = rs_strdup(name);
    if (is_utc_name(name)) return z;
    char path[512];
    if (!valid_zone_name(name) || strlen(name) > 200) {
        snprintf(err, errlen, "unknown time zone %s", name);
        rs_cron_tz_free(z);
        return NULL;
    }
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    if (load_file(z, path) != 0) {
        snprintf(err, errlen, "unknown time zone %s", name);
        rs_cron_tz_free(z);
        return NULL;
    }
    return z;
}

void rs_cron_tz_free(rs_cron_tz_t *z) {
    if (!z) return;
    free(z->name);
    free(z->trans);
    free(z->offs);
    free(z);
}

const char *rs_cron_tz_name(const rs_cron_tz_t *z) { return z->name; }

int32_t rs_cron_tz_offset(const rs_cron_tz_t *z, int64_t t) {
    if (z->n == 0 || t < z->trans[0]) return z->initial;
    size_t lo = 0, hi = z->n; /* find the last transition <= t */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (z->trans[mid] <= t) lo = mid;
        else hi = mid;
    }
    return z->offs[lo];
}

int64_t rs_cron_tz_wall_to_utc(const rs_cron_tz_t *z, int64_t wall) {
    /* Go's time.Date: guess with the offset at `wall`, then correct once. */
    int32_t off1 = rs_cron_tz_offset(z, wall);
    int64_t utc = wall - off1;
    int32_t off2 = rs_cron_tz_offset(z, utc);
    return off2 == off1 ? utc : wall - off2;
}
