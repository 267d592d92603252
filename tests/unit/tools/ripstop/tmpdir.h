/* SPDX-License-Identifier: MIT */
/* A scratch directory for the tools' file-loading tests: write files into it, remove it at the end. */
#ifndef RS_TEST_TOOLS_TMPDIR_H
#define RS_TEST_TOOLS_TMPDIR_H

#define _GNU_SOURCE /* nftw's FTW_DEPTH */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp_root[PATH_MAX];

/* Makes the scratch directory (once per test program); aborts when it cannot. */
static inline const char *tmp_dir(void) {
    if (!tmp_root[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmp_root, sizeof tmp_root, "%s/ripstop-unit-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmp_root)) abort();
    }
    return tmp_root;
}

/* Makes every directory on the way to the last '/' of path (a path under the scratch directory). */
static inline void make_parents(char *path) {
    for (char *p = path + strlen(tmp_root) + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(path, 0755);
            *p = '/';
        }
}

/* Writes text to <scratch>/rel (making its directories) and returns the full path (static buffer). */
static inline const char *tmp_write(const char *rel, const char *text) {
    static char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", tmp_dir(), rel);
    make_parents(path);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) abort();
    return path;
}

/* Makes the directory <scratch>/rel (and its parents). */
static inline void tmp_mkdir(const char *rel) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s/", tmp_dir(), rel);
    make_parents(path);
}

static inline int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* Removes the scratch directory and everything in it. */
static inline void tmp_cleanup(void) {
    if (tmp_root[0]) nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
