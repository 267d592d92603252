/* SPDX-License-Identifier: MIT */
/* Azure Storage Shared Key authorisation (the scheme behind account keys and
 * connection strings):
 *
 *   Authorization: SharedKey <account>:base64(HMAC-SHA256(key, StringToSign))
 *
 * StringToSign is the verb, eleven standard headers (Content-Length empty
 * when 0, Date empty because x-ms-date is sent), the canonicalised x-ms-*
 * headers (lower-case, sorted, "name:value") and the canonicalised resource
 * ("/<account><escaped path>" then "\n<param>:<v1,v2>" per query parameter,
 * names lower-cased and sorted, values decoded and sorted), exactly as the
 * Azure SDKs build it. Pure functions; OpenSSL does the HMAC and base64. */
#ifndef RS_BINDINGS_AZURE_SHAREDKEY_H
#define RS_BINDINGS_AZURE_SHAREDKEY_H

#include <stddef.h>

#include "core/str.h"

typedef struct {
    char account[128];
    unsigned char key[128];
    size_t keylen;
} rs_azure_cred_t;

/** Fills cred from an account name and a base64 account key. Returns 0, or -1 with a reason
 *  (e.g. the key is not valid base64). */
int rs_azure_cred_init(rs_azure_cred_t *cred, const char *account, const char *key_b64, char *err, size_t errlen);

/** Builds the string to sign (caller frees). `escaped_path` is the URL path as sent ("/acct/container/blob%20x");
 *  `query` holds decoded parameter names and values (repeated names allowed); headers are the request
 *  headers that will be sent (names compared case-insensitively). */
char *rs_azure_string_to_sign(const rs_azure_cred_t *cred, const char *method, const char *escaped_path,
                              const rs_kvlist_t *query, const rs_kvlist_t *headers, size_t content_length);

/** Writes "SharedKey <account>:<signature>" for string_to_sign into out. Returns 0, or -1 if out is too small. */
int rs_azure_authorization(const rs_azure_cred_t *cred, const char *string_to_sign, char *out, size_t outlen);

/** Standard base64 (with padding) helpers on OpenSSL. decode returns -1 for invalid input (Go's StdEncoding rules:
 *  padding required, no whitespace). The outputs are malloc'd and NUL-terminated. */
char *rs_base64_encode(const void *data, size_t len);
int rs_base64_decode(const char *in, size_t inlen, unsigned char **out, size_t *outlen);

/** Formats a Unix time as an RFC 1123 GMT date for x-ms-date ("Wed, 25 Nov 2026 12:00:00 GMT"). */
void rs_azure_http_date(long long unix_s, char out[32]);

#endif
