/* SPDX-License-Identifier: MIT */
#include "core/ids.h"

#include <ctype.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Trace ids, jitter and replica choice need unpredictable, well-spread
 * numbers, not secrets, and are drawn on every invocation: a per-thread
 * xoshiro256** seeded once from the kernel costs a few nanoseconds where
 * OpenSSL's RAND_bytes cost a few percent of a sidecar's CPU. */
static __thread uint64_t rng_state[4];
static __thread int rng_seeded;

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A forked child starts with its parent's state and would draw the same numbers (the same UUIDs as its parent
 * and siblings): the child's forking thread reseeds. */
static void rng_forget(void) { rng_seeded = 0; }
static void rng_atfork(void) { pthread_atfork(NULL, NULL, rng_forget); }

static uint64_t rng_next(void) {
    if (!rng_seeded) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, rng_atfork);
        uint64_t seed = 0;
        if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) { /* no entropy source: still distinct */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            seed = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 32);
        }
        for (int i = 0; i < 4; i++) rng_state[i] = splitmix64(&seed);
        rng_seeded = 1;
    }
    uint64_t *s = rng_state;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void rs_random_bytes(void *out, size_t n) {
    unsigned char *p = out;
    while (n) {
        uint64_t v = rng_next();
        size_t k = n < sizeof v ? n : sizeof v;
        memcpy(p, &v, k);
        p += k;
        n -= k;
    }
}

/* From the per-thread generator (libuuid's uuid_generate_random read the kernel's random source on every call:
 * ~9,000 instructions and a system call per published CloudEvent id). */
void rs_uuid(char out[37]) {
    unsigned char u[16];
    rs_random_bytes(u, sizeof u);
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    char *w = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *w++ = '-';
        *w++ = hex[u[i] >> 4];
        *w++ = hex[u[i] & 15];
    }
    *w = '\0';
}

int rs_secure_random(void *out, size_t n) {
    unsigned char *p = out;
    while (n) {
        ssize_t k = getrandom(p, n, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

void rs_hex_encode(const void *in, size_t n, char *out) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static void random_hex(char *out, size_t nbytes) {
    unsigned char raw[32];
    rs_random_bytes(raw, nbytes);
    rs_hex_encode(raw, nbytes, out);
}

void rs_traceparent_new(char out[56]) {
    char trace[33], span[17];
    random_hex(trace, 16);
    random_hex(span, 8);
    snprintf(out, 56, "00-%s-%s-01", trace, span);
}

int rs_traceparent_valid(const char *s) {
    if (!s || strlen(s) != 55) return 0;
    for (int i = 0; i < 55; i++) {
        if (i == 2 || i == 35 || i == 52) {
            if (s[i] != '-') return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

double rs_random_unit(void) { return (double)(rng_next() >> 11) / (double)(1ULL << 53); }

uint32_t rs_random_below(uint32_t n) { return (uint32_t)(rs_random_unit() * n) % n; }

int rs_app_id_check(const char *id, char *why, size_t whylen) {
    size_t n = id ? strlen(id) : 0;
    if (n == 0) {
        snprintf(why, whylen, "app id is empty");
        return -1;
    }
    if (n > RS_APP_ID_MAX) {
        snprintf(why, whylen, "app id is longer than %d characters", RS_APP_ID_MAX);
        return -1;
    }
    if (id[0] == '-') {
        snprintf(why, whylen, "app id must not start with '-'");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (!(isalnum(ch) && ch < 0x80) && ch != '-' && ch != '_') {
            if (ch > 0x20 && ch < 0x7f)
                snprintf(why, whylen, "app id may hold only letters, digits, '-' and '_' (found '%c')", ch);
            else
                snprintf(why, whylen, "app id may hold only letters, digits, '-' and '_' (found byte 0x%02x)", ch);
            return -1;
        }
    }
    return 0;
}
