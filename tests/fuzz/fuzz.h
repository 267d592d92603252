/* Shared by the fuzz targets (tests/fuzz/fuzz_*.c). Each target defines
 * LLVMFuzzerTestOneInput and is linked two ways (tests/fuzz/fuzz.cmake):
 * with clang's libFuzzer for `make fuzz`, and with replay_main.c into an
 * ordinary program that ctest runs over the committed corpus. A target checks
 * invariants with FZ_CHECK, which aborts, so a broken invariant is a crash in
 * both. */
#ifndef RS_FUZZ_H
#define RS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional one-time set-up; replay_main.c calls it too when a target defines it. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FZ_CHECK(cond)                                                                                                 \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);                        \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* A NUL-terminated copy of data[0..size) (stops nothing: embedded NULs stay, strlen sees the first). */
static inline char *fz_cstr(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Takes the first byte of the input as a selector (0 when empty) and advances past it. */
static inline unsigned fz_take_byte(const uint8_t **data, size_t *size) {
    if (*size == 0) return 0;
    unsigned b = (*data)[0];
    (*data)++;
    (*size)--;
    return b;
}

#endif
