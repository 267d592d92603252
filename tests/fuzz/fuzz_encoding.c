/* Percent-decoding and UTF-8 (core/encoding.c), where every URL path, query
 * and header value from a client goes through. Invariants: sanitize always
 * yields valid UTF-8 and leaves valid UTF-8 untouched; decoding never grows
 * the text; percent-encoding every byte and decoding gives the bytes back. */
#include "core/encoding.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    int valid = rs_utf8_valid(s, size);
    size_t slen = 0;
    char *clean = rs_utf8_sanitize(s, size, &slen);
    FZ_CHECK(clean != NULL);
    FZ_CHECK(clean[slen] == '\0');
    FZ_CHECK(rs_utf8_valid(clean, slen));
    if (valid) FZ_CHECK(slen == size && memcmp(clean, s, size) == 0);
    free(clean);

    for (int plus = 0; plus <= 1; plus++) {
        size_t dlen = 0;
        char *dec = rs_percent_decode(s, size, plus, &dlen);
        if (dec) {
            FZ_CHECK(dlen <= size);
            FZ_CHECK(dec[dlen] == '\0');
            free(dec);
        }
    }

    /* Round trip: %XX for every byte decodes to the input, '+' included. */
    static const char hex[] = "0123456789ABCDEF";
    char *enc = malloc(size * 3 + 1);
    if (!enc) abort();
    for (size_t i = 0; i < size; i++) {
        enc[i * 3] = '%';
        enc[i * 3 + 1] = hex[data[i] >> 4];
        enc[i * 3 + 2] = hex[data[i] & 15];
    }
    size_t rlen = 0;
    char *back = rs_percent_decode(enc, size * 3, 1, &rlen);
    FZ_CHECK(back != NULL);
    FZ_CHECK(rlen == size && memcmp(back, data, size) == 0);
    free(back);
    free(enc);
    return 0;
}
