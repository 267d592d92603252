/* What the runtime reads when it delivers a message to the app (messaging/delivery.c): the app's answer to a
 * delivery (status + body: {"status":"SUCCESS|RETRY|DROP"}) and which message metadata entries may become
 * request headers. Input: a status (2 bytes), then "key\0value\0body". Invariants: the verdict is one of the
 * three; an entry allowed as a header is a valid HTTP field (a token name, a value without control characters
 * but HTAB, as Go's server requires; else the app would answer 400 and the message come back for ever). */
#include "fuzz.h"
#include "sidecar/messaging/delivery.h"

static int token_char(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned hi = fz_take_byte(&data, &size), lo = fz_take_byte(&data, &size);
    int status = (int)((hi << 8 | lo) % 1000);
    /* key\0value\0body */
    const uint8_t *k = data, *kend = memchr(data, 0, size);
    if (!kend) return 0;
    const uint8_t *v = kend + 1, *vend = memchr(v, 0, size - (size_t)(v - data));
    if (!vend) return 0;
    const uint8_t *body = vend + 1;
    size_t blen = size - (size_t)(body - data);

    rs_app_verdict_t verdict = rs_delivery_classify(status, (const char *)body, blen);
    FZ_CHECK(verdict == RS_APP_SUCCESS || verdict == RS_APP_RETRY || verdict == RS_APP_DROP);

    if (rs_delivery_header_safe((const char *)k, (const char *)v)) {
        FZ_CHECK(kend > k);
        for (const uint8_t *p = k; p < kend; p++) FZ_CHECK(token_char(*p));
        for (const uint8_t *p = v; p < vend; p++) FZ_CHECK(*p == '\t' || (*p >= 0x20 && *p != 0x7f));
    }
    return 0;
}
