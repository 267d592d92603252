/* SPDX-License-Identifier: MIT */
/* Shared Key signing; see the header for the format. */
#include "sidecar/components/bindings/azure_sharedkey.h"

#include <ctype.h>
#include <nettle/hmac.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"

char *rs_base64_encode(const void *data, size_t len) {
    char *out = rs_xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

static int b64_value(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int rs_base64_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen) {
    /* Strict like Go's StdEncoding: length a multiple of 4, '=' only as trailing padding. */
    if (inlen % 4 != 0) return -1;
    size_t pad = 0;
    if (inlen >= 1 && in[inlen - 1] == '=') pad++;
    if (inlen >= 2 && in[inlen - 2] == '=') pad++;
    for (size_t i = 0; i < inlen - pad; i++)
        if (b64_value((unsigned char)in[i]) < 0) return -1;
    unsigned char *buf = rs_xmalloc(inlen / 4 * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < inlen; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++) v[j] = in[i + j] == '=' ? 0 : b64_value((unsigned char)in[i + j]);
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        buf[n++] = (unsigned char)(w >> 16);
        buf[n++] = (unsigned char)(w >> 8);
        buf[n++] = (unsigned char)w;
    }
    n -= pad;
    /* Go rejects non-zero bits in the final padded group. */
    if (pad && inlen) {
        int last = b64_value((unsigned char)in[inlen - pad - 1]);
        if ((pad == 1 && (last & 0x3)) || (pad == 2 && (last & 0xf))) {
            free(buf);
            return -1;
        }
    }
    buf[n] = 0;
    *out = buf;
    *outlen = n;
    return 0;
}

int rs_azure_cred_init(rs_azure_cred_t *cred, const char *account, const char *key_b64, char *err, size_t errlen) {
    memset(cred, 0, sizeof *cred);
    if (strlen(account) >= sizeof cred->account) {
        snprintf(err, errlen, "account name too long");
        return -1;
    }
    strcpy(cred->account, account);
    unsigned char *key;
    size_t keylen;
    if (rs_base64_decode(key_b64, strlen(key_b64), &key, &keylen) != 0 || keylen == 0) {
        snprintf(err, errlen, "invalid shared key credentials with error: decode account key: illegal base64 data");
        return -1;
    }
    if (keylen > sizeof cred->key) {
        free(key);
        snprintf(err, errlen, "invalid shared key credentials with error: account key too long");
        return -1;
    }
    memcpy(cred->key, key, keylen);
    cred->keylen = keylen;
    free(key);
    return 0;
}

static const char *header(const rs_kvlist_t *h, const char *name) {
    const char *v = h ? rs_kvlist_get_ci(h, name) : NULL;
    return v ? v : "";
}

static int cmp_kv(const void *a, const void *b) {
    const rs_kv_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

static char *lower_dup(const char *s) {
    char *d = rs_strdup(s);
    for (char *p = d; *p; p++) *p = (char)tolower((unsigned char)*p);
    return d;
}

char *rs_azure_string_to_sign(const rs_azure_cred_t *cred, const char *method, const char *escaped_path,
                              const rs_kvlist_t *query, const rs_kvlist_t *headers, size_t content_length) {
    rs_buf_t b;
    rs_buf_init(&b, 1 << 20);
    char clen[32] = "";
    if (content_length) snprintf(clen, sizeof clen, "%zu", content_length);
    rs_buf_printf(&b, "%s\n%s\n%s\n%s\n%s\n%s\n\n%s\n%s\n%s\n%s\n%s\n", method, header(headers, "Content-Encoding"),
                  header(headers, "Content-Language"), clen, header(headers, "Content-MD5"),
                  header(headers, "Content-Type"), header(headers, "If-Modified-Since"), header(headers, "If-Match"),
                  header(headers, "If-None-Match"), header(headers, "If-Unmodified-Since"), header(headers, "Range"));
    /* x-ms-* headers: lower-case names, sorted; repeated names joined with ','. */
    size_t n = 0;
    rs_kv_t *xs = rs_xcalloc(headers ? headers->len + 1 : 1, sizeof *xs);
    for (size_t i = 0; headers && i < headers->len; i++) {
        if (strncasecmp(headers->items[i].key, "x-ms-", 5) != 0) continue;
        xs[n].key = lower_dup(headers->items[i].key);
        xs[n].value = headers->items[i].value;
        n++;
    }
    qsort(xs, n, sizeof *xs, cmp_kv);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(xs[i].key, xs[i - 1].key) == 0) rs_buf_printf(&b, ",%s", xs[i].value);
        else rs_buf_printf(&b, "%s%s:%s", i ? "\n" : "", xs[i].key, xs[i].value);
    }
    for (size_t i = 0; i < n; i++) free(xs[i].key);
    free(xs);
    rs_buf_printf(&b, "\n/%s%s", cred->account, escaped_path && *escaped_path ? escaped_path : "/");
    /* Query: names lower-cased and sorted, values sorted and joined with ','. */
    n = 0;
    rs_kv_t *qs = rs_xcalloc(query ? query->len + 1 : 1, sizeof *qs);
    for (size_t i = 0; query && i < query->len; i++) {
        qs[n].key = lower_dup(query->items[i].key);
        qs[n].value = query->items[i].value;
        n++;
    }
    qsort(qs, n, sizeof *qs, cmp_kv);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(qs[i].key, qs[i - 1].key) == 0) rs_buf_printf(&b, ",%s", qs[i].value);
        else rs_buf_printf(&b, "\n%s:%s", qs[i].key, qs[i].value);
    }
    for (size_t i = 0; i < n; i++) free(qs[i].key);
    free(qs);
    size_t len;
    char *s = rs_buf_steal(&b, &len);
    return s ? s : rs_strdup("");
}

int rs_azure_authorization(const rs_azure_cred_t *cred, const char *string_to_sign, char *out, size_t outlen) {
    /* nettle's HMAC, not OpenSSL's: OpenSSL 3 fetches the algorithm from its provider on first use, which
     * maps about 2 MB more of libcrypto into every sidecar with a blob binding (bench/system/bench_memory.py);
     * nettle's HMAC is a plain function in a small library. */
    struct hmac_sha256_ctx ctx;
    uint8_t mac[SHA256_DIGEST_SIZE];
    hmac_sha256_set_key(&ctx, cred->keylen, (const uint8_t *)cred->key);
    hmac_sha256_update(&ctx, strlen(string_to_sign), (const uint8_t *)string_to_sign);
    hmac_sha256_digest(&ctx, sizeof mac, mac);
    char *sig = rs_base64_encode(mac, sizeof mac);
    int n = snprintf(out, outlen, "SharedKey %s:%s", cred->account, sig);
    free(sig);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

void rs_azure_http_date(long long unix_s, char out[32]) {
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    /* Not strftime: its names follow the locale. */
    snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
