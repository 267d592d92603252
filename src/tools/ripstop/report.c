/* SPDX-License-Identifier: MIT */
/* Finds the demo page and writes the report with the run's data embedded. */
#include "tools/ripstop/report.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/str.h"

#define PAGE "demo.html"
#define MARKER "<!--RIPSTOP_DATA-->"

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    rs_buf_t b;
    rs_buf_init(&b, 8u << 20);
    char chunk[8192];
    size_t n;
    int ok = 1;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (rs_buf_append(&b, chunk, n) != 0) ok = 0;
    fclose(f);
    if (!ok) {
        rs_buf_free(&b);
        return NULL;
    }
    return rs_buf_steal(&b, NULL);
}

char *rs_web_page_load(char *err, size_t errlen) {
    char cands[4][PATH_MAX];
    int n = 0;
    const char *env = getenv("RIPSTOP_WEB_DIR");
    if (env && *env) snprintf(cands[n++], PATH_MAX, "%s/" PAGE, env);
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *dir = dirname(exe);
        snprintf(cands[n++], PATH_MAX, "%.*s/web/" PAGE, PATH_MAX - 20, dir);
        snprintf(cands[n++], PATH_MAX, "%.*s/../web/" PAGE, PATH_MAX - 20, dir);
    }
    /* This file is src/tools/ripstop/report.c in the source tree the binary was built from. */
    const char *me = __FILE__, *tail = strstr(me, "src/tools/ripstop/report.c");
    if (tail && me[0] == '/') snprintf(cands[n++], PATH_MAX, "%.*sweb/" PAGE, (int)(tail - me), me);
    for (int i = 0; i < n; i++) {
        char *page = read_file(cands[i]);
        if (page) return page;
    }
    size_t off = (size_t)snprintf(err, errlen, "web/" PAGE " not found; tried:");
    for (int i = 0; i < n && off < errlen; i++) off += (size_t)snprintf(err + off, errlen - off, " %s", cands[i]);
    return NULL;
}

int rs_report_write(const char *path, const json_t *state, char *err, size_t errlen) {
    char *page = rs_web_page_load(err, errlen);
    if (!page) return -1;
    char *mark = strstr(page, MARKER);
    if (!mark) {
        snprintf(err, errlen, "the page has no %s marker", MARKER);
        free(page);
        return -1;
    }
    char *js = json_dumps(state, JSON_COMPACT);
    FILE *f = fopen(path, "wb");
    if (!f || !js) {
        snprintf(err, errlen, "cannot write %s", path);
        if (f) fclose(f);
        free(js);
        free(page);
        return -1;
    }
    fwrite(page, 1, (size_t)(mark - page), f);
    fputs("<script>window.RIPSTOP_DATA = ", f);
    /* "</" inside a string would end the script element early; "<\/" is the same JSON string. */
    for (const char *p = js; *p; p++) {
        if (p[0] == '<' && p[1] == '/') fputs("<\\", f);
        else fputc(*p, f);
    }
    fputs(";</script>", f);
    fputs(mark + strlen(MARKER), f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        snprintf(err, errlen, "error writing %s", path);
        free(js);
        free(page);
        return -1;
    }
    free(js);
    free(page);
    return 0;
}
