/* SPDX-License-Identifier: MIT */
/* core/log.h: a message quoting a client's bytes stays one line in text mode and one valid JSON object in
 * JSON mode, whatever those bytes are. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "test.h"

/* Runs one rs_log call with stderr sent to a temporary file, and returns what it wrote (to free). */
static char *logged(int json, const char *arg) {
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), 2);
    rs_log_set_json(json);
    rs_log(RS_LOG_WARN, "api", "GET %s", arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rs_log_set_json(0);
    long n = ftell(tmp);
    char *out = calloc(1, (size_t)n + 1);
    rewind(tmp);
    size_t got = fread(out, 1, (size_t)n, tmp);
    out[got] = '\0';
    fclose(tmp);
    return out;
}

TEST(text_lines_cannot_be_forged) {
    char *line = logged(0, "/x\ntime=\"forged\" level=error msg=\"\\o/\"\r\x01");
    ASSERT_TRUE(strchr(line, '\n') == line + strlen(line) - 1); /* one line */
    ASSERT_TRUE(strstr(line, "msg=\"GET /x\\ntime=\\\"forged\\\" level=error msg=\\\"\\\\o/\\\"\\r\\x01\"") != NULL);
    free(line);
}

TEST(json_lines_survive_invalid_utf8) {
    char *line = logged(1, "/a\xff\xfe\"b");
    json_error_t e;
    json_t *o = json_loads(line, 0, &e);
    ASSERT_TRUE(o != NULL);
    ASSERT_STREQ(json_string_value(json_object_get(o, "msg")), "GET /a\xef\xbf\xbd\xef\xbf\xbd\"b");
    json_decref(o);
    free(line);
}

int main(void) {
    RUN(text_lines_cannot_be_forged);
    RUN(json_lines_survive_invalid_utf8);
    return TEST_SUMMARY();
}
