/* The Dapr error table (src/sidecar/errors/errors.h): its rows are well formed,
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
    char code[64], grpc[32];
    int http;
    int matched;
};

/* Reads the rows "| `ERR_X` | 400 | INVALID_ARGUMENT | ... |" of the "Error codes" section. */
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
        if (sscanf(line, "| `%63[A-Z_]` | %d | %31[A-Z_] |", r->code, &r->http, r->grpc) == 3) n++;
    }
    fclose(f);
    return n;
}

TEST(rows_are_well_formed) {
    for (int e = 0; e < RS_DAPR_ERR_COUNT; e++) {
        ASSERT_TRUE(strncmp(rs_dapr_err_code(e), "ERR_", 4) == 0);
        ASSERT_TRUE(rs_dapr_err_http(e) >= 400 && rs_dapr_err_http(e) <= 599);
        ASSERT_TRUE(rs_dapr_err_grpc(e) != RS_GRPC_OK && rs_grpc_code_name(rs_dapr_err_grpc(e)) != NULL);
        /* one row per (code, HTTP status): an adapter can always name the row it means */
        for (int o = 0; o < e; o++)
            ASSERT_TRUE(strcmp(rs_dapr_err_code(o), rs_dapr_err_code(e)) != 0 ||
                        rs_dapr_err_http(o) != rs_dapr_err_http(e));
    }
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
}

TEST(doc_lists_the_table_both_ways) {
    static struct doc_row doc[256];
    size_t n = read_doc(doc, sizeof doc / sizeof doc[0]);
    ASSERT_TRUE(n > 0);
    for (int e = 0; e < RS_DAPR_ERR_COUNT; e++) {
        int found = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(doc[i].code, rs_dapr_err_code(e)) || doc[i].http != rs_dapr_err_http(e)) continue;
            if (strcmp(doc[i].grpc, rs_grpc_code_name(rs_dapr_err_grpc(e))) != 0) {
                TEST_FAIL_AT("docs/compatibility.md: %s %d has gRPC %s, the table %s", doc[i].code, doc[i].http,
                             doc[i].grpc, rs_grpc_code_name(rs_dapr_err_grpc(e)));
                return;
            }
            doc[i].matched++;
            found = 1;
        }
        if (!found) {
            TEST_FAIL_AT("docs/compatibility.md lacks %s %d (row %s)", rs_dapr_err_code(e), rs_dapr_err_http(e),
                         rs_dapr_err_name(e));
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
    RUN(doc_lists_the_table_both_ways);
    RUN(http_server_codes_are_rows);
    return TEST_SUMMARY();
}
