/* The Dapr error table (src/sidecar/errors/errors.h): its rows are well formed
 * (reasons as daprd names them, rich details only with a reason),
 * docs/compatibility.md §2.8 lists exactly its rows (checked both ways), and
 * the codes the HTTP server answers with by itself are rows with the same
 * status. */
#include <stdlib.h>
#include <string.h>

#include "http/server.h"
#include "sidecar/errors/errors.h"
#include "test.h"

/* The source tree: $RIPSTOP_SRC, else derived from this file's path. */
static void source_path(char *out, size_t n, const char *rel) {
    const char *src = getenv("RIPSTOP_SRC");
    if (src) {
        snprintf(out, n, "%s/%s", src, rel);
        return;
    }
    const char *me = __FILE__, *cut = strstr(me, "tests/unit/sidecar/");
    snprintf(out, n, "%.*s%s", cut ? (int)(cut - me) : 0, me, rel);
}

struct doc_row {
    char code[64], grpc[32], reason[64]; /* reason "" for "—" */
    int http;
    int matched;
};

/* Reads the rows "| `ERR_X` | 400 | INVALID_ARGUMENT | `DAPR_X` or — | ... |" of the "Error codes" section. */
static size_t read_doc(struct doc_row *rows, size_t max) {
    char path[1024];
    source_path(path, sizeof path, "docs/compatibility.md");
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[2048];
    int in = 0;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "#", 1) == 0) in = strstr(line, "Error codes") != NULL;
        if (!in || strncmp(line, "| `ERR_", 7) != 0 || n == max) continue;
        struct doc_row *r = &rows[n];
        int used = 0;
        if (sscanf(line, "| `%63[A-Z_]` | %d | %31[A-Z_] | %n", r->code, &r->http, r->grpc, &used) != 3 || !used)
            continue;
        r->reason[0] = '\0';
        if (sscanf(line + used, "`%63[A-Z_]` |", r->reason) != 1 && strncmp(line + used, "— |", 5) != 0) continue;
        n++;
    }
    fclose(f);
    return n;
}

TEST(rows_are_well_formed) {
    for (int e = 0; e < RS_DAPR_ERR_COUNT; e++) {
        ASSERT_TRUE(strncmp(rs_dapr_err_code(e), "ERR_", 4) == 0);
        ASSERT_TRUE(rs_dapr_err_http(e) >= 400 && rs_dapr_err_http(e) <= 599);
        ASSERT_TRUE(rs_dapr_err_grpc(e) != RS_GRPC_OK && rs_grpc_code_name(rs_dapr_err_grpc(e)) != NULL);
        const char *reason = rs_dapr_err_reason(e);
        ASSERT_TRUE(!reason || strncmp(reason, "DAPR_", 5) == 0);
        ASSERT_TRUE(reason || !rs_dapr_err_resource_type(e)); /* a ResourceInfo goes with an ErrorInfo */
        /* one row per (code, HTTP status, reason): an adapter can always name the row it means */
        for (int o = 0; o < e; o++)
            ASSERT_TRUE(strcmp(rs_dapr_err_code(o), rs_dapr_err_code(e)) != 0 ||
                        rs_dapr_err_http(o) != rs_dapr_err_http(e) ||
                        strcmp(rs_dapr_err_reason(o) ? rs_dapr_err_reason(o) : "", reason ? reason : "") != 0);
    }
    ASSERT_STREQ(rs_dapr_err_reason(RS_ERR_STATE_STORE_NOT_FOUND), "DAPR_STATE_NOT_FOUND");
    ASSERT_TRUE(rs_dapr_err_resource_type(RS_ERR_STATE_STORE_NOT_FOUND) == NULL); /* daprd skips it there */
    ASSERT_STREQ(rs_dapr_err_resource_type(RS_ERR_PUBSUB_FORBIDDEN), "pubsub");
    ASSERT_TRUE(rs_dapr_err_reason(RS_ERR_TRY_LOCK) == NULL); /* daprd's lock errors have no details */
    const char *url, *desc;
    ASSERT_EQ(rs_dapr_err_help(RS_ERR_STATE_STORE_NOT_SUPPORTED, &url, &desc), 1);
    ASSERT_EQ(rs_dapr_err_help(RS_ERR_STATE_GET, &url, &desc), 0);
    ASSERT_STREQ(rs_dapr_err_code(RS_ERR_STATE_SAVE_ETAG_MISMATCH), "ERR_STATE_SAVE");
    ASSERT_EQ(rs_dapr_err_http(RS_ERR_STATE_SAVE_ETAG_MISMATCH), 409);
    ASSERT_EQ(rs_dapr_err_grpc(RS_ERR_STATE_SAVE_ETAG_MISMATCH), RS_GRPC_ABORTED);
    ASSERT_STREQ(rs_dapr_err_name(RS_ERR_SECRET_STORE_NOT_FOUND), "SECRET_STORE_NOT_FOUND");
    ASSERT_STREQ(rs_dapr_err_code((rs_dapr_err_t)RS_DAPR_ERR_COUNT), "ERR_INTERNAL");
}

TEST(error_set_formats) {
    rs_dapr_error_t err;
    rs_dapr_error_set(&err, RS_ERR_TRY_LOCK, "failed to try acquiring lock: %s", "boom");
    ASSERT_EQ(err.code, RS_ERR_TRY_LOCK);
    ASSERT_STREQ(err.message, "failed to try acquiring lock: boom");
    rs_dapr_error_resource(&err, "store");
    rs_dapr_error_meta(&err, "appID", "a");
    ASSERT_STREQ(err.resource, "store");
    ASSERT_EQ((int)err.n_meta, 1);
    rs_dapr_error_set(&err, RS_ERR_TRY_LOCK, "again"); /* a new error has no details left over */
    ASSERT_EQ((int)err.n_meta, 0);
    ASSERT_STREQ(err.resource, "");
}

TEST(details_are_bounded_utf8) {
    rs_dapr_error_t err;
    rs_dapr_error_set(&err, RS_ERR_PUBSUB_NOT_FOUND, "bad \xff byte");
    ASSERT_STREQ(err.message, "bad \xef\xbf\xbd byte"); /* U+FFFD, as Go's JSON and protobuf need */
    char big[600];
    memset(big, 'a', sizeof big);
    memcpy(big + 254, "\xc3\xa9", 2); /* a 2-byte character across the 255-byte cut */
    big[sizeof big - 1] = '\0';
    rs_dapr_error_meta(&err, "k", big);
    ASSERT_EQ((int)strlen(err.meta[0].value), 254);
    for (int i = 0; i < RS_DAPR_META_MAX + 3; i++) rs_dapr_error_meta(&err, "k", "v");
    ASSERT_EQ((int)err.n_meta, RS_DAPR_META_MAX);
}

TEST(doc_lists_the_table_both_ways) {
    static struct doc_row doc[256];
    size_t n = read_doc(doc, sizeof doc / sizeof doc[0]);
    ASSERT_TRUE(n > 0);
    for (int e = 0; e < RS_DAPR_ERR_COUNT; e++) {
        int found = 0;
        for (size_t i = 0; i < n; i++) {
            const char *reason = rs_dapr_err_reason(e) ? rs_dapr_err_reason(e) : "";
            if (strcmp(doc[i].code, rs_dapr_err_code(e)) || doc[i].http != rs_dapr_err_http(e) ||
                strcmp(doc[i].reason, reason))
                continue;
            if (strcmp(doc[i].grpc, rs_grpc_code_name(rs_dapr_err_grpc(e))) != 0) {
                TEST_FAIL_AT("docs/compatibility.md: %s %d has gRPC %s, the table %s", doc[i].code, doc[i].http,
                             doc[i].grpc, rs_grpc_code_name(rs_dapr_err_grpc(e)));
                return;
            }
            doc[i].matched++;
            found = 1;
        }
        if (!found) {
            TEST_FAIL_AT("docs/compatibility.md lacks %s %d %s (row %s)", rs_dapr_err_code(e), rs_dapr_err_http(e),
                         rs_dapr_err_reason(e) ? rs_dapr_err_reason(e) : "—", rs_dapr_err_name(e));
            return;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (doc[i].matched != 1) {
            TEST_FAIL_AT("docs/compatibility.md lists %s %d %d times; the table has it once", doc[i].code, doc[i].http,
                         doc[i].matched);
            return;
        }
    }
    ASSERT_EQ((int)n, RS_DAPR_ERR_COUNT);
}

TEST(http_server_codes_are_rows) {
    /* every status the server maps to a code of its own (all but the ERR_INTERNAL default) */
    for (int st = 400; st <= 599; st++) {
        const char *code = rs_http_error_code(st);
        if (st != 500 && strcmp(code, "ERR_INTERNAL") == 0) continue;
        int found = 0;
        for (int e = 0; e < RS_DAPR_ERR_COUNT; e++)
            found |= strcmp(rs_dapr_err_code(e), code) == 0 && rs_dapr_err_http(e) == st;
        if (!found) {
            TEST_FAIL_AT("the HTTP server answers %d %s, which is not a row of the table", st, code);
            return;
        }
    }
}

int main(void) {
    RUN(rows_are_well_formed);
    RUN(error_set_formats);
    RUN(details_are_bounded_utf8);
    RUN(doc_lists_the_table_both_ways);
    RUN(http_server_codes_are_rows);
    return TEST_SUMMARY();
}
