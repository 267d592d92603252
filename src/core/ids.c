/* SPDX-License-Identifier: MIT */
#include "core/ids.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

void rs_uuid(char out[37]) {
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

static void random_hex(char *out, size_t nbytes) {
    unsigned char raw[32];
    if (RAND_bytes(raw, (int)nbytes) != 1) memset(raw, 0x5a, nbytes);
    for (size_t i = 0; i < nbytes; i++) sprintf(out + 2 * i, "%02x", raw[i]);
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

double rs_random_unit(void) {
    uint64_t v = 0;
    if (RAND_bytes((unsigned char *)&v, sizeof v) != 1) return 0.5;
    return (double)(v >> 11) / (double)(1ULL << 53);
}

uint32_t rs_random_below(uint32_t n) { return (uint32_t)(rs_random_unit() * n) % n; }
