/* SPDX-License-Identifier: MIT */
/* bindings.localstorage (spec §3.7): files under a root folder.
 *
 * Metadata: rootPath (required; created, then made absolute with symlinks
 * resolved; /, /proc, /sys, /boot and /var/run/secrets are refused) and,
 * unlike Dapr, an optional decodeBase64 (default false).
 * Request metadata `fileName` names the file, relative to the root.
 *
 * Containment: a name that is absolute or has a ".." segment is refused
 * outright (Dapr's securejoin silently clamps it into the root instead), and
 * after creating parent folders the real path of the parent (and of the file,
 * when it is a symlink) must still be inside the root, so symlinks pointing
 * out are refused too. Files are opened with O_NOFOLLOW on the resolved path.
 *
 * Deliberate difference: Dapr base64-decodes `data` whenever it happens to be
 * valid base64 (so the text "test" is stored as three binary bytes); we store
 * the data as sent unless the component sets decodeBase64: true.
 *
 * The work is local file I/O done inline; done is called before invoke
 * returns. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/ids.h"
#include "core/json_util.h"
#include "core/log.h"
#include "sidecar/components/bindings/azure_sharedkey.h"
#include "sidecar/components/bindings/bindings.h"

#define MAX_FILE (64u * 1024 * 1024)
#define MAX_LIST_DEPTH 64
#define MAX_LIST_ENTRIES 100000

typedef struct {
    char root[PATH_MAX];
    int decode_base64;
} ls_t;

static const char *const operations[] = {"create", "get", "delete", "list", NULL};

static int under(const char *root, const char *path) {
    size_t n = strlen(root);
    return strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == 0);
}

static int forbidden_root(const char *p) {
    static const char *const no[] = {"/proc", "/sys", "/boot", "/var/run/secrets", "/run/secrets", NULL};
    if (strcmp(p, "/") == 0) return 1;
    for (size_t i = 0; no[i]; i++)
        if (under(no[i], p)) return 1;
    return 0;
}

/* Cleans a relative name: drops empty and "." segments; refuses absolute names and "..". */
static int clean_name(const char *name, char *out, size_t outlen, char *err, size_t errlen) {
    if (name[0] == '/') {
        snprintf(err, errlen, "fileName %s is absolute; it must be relative to rootPath", name);
        return -1;
    }
    size_t o = 0;
    const char *p = name;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            snprintf(err, errlen, "fileName %s leaves rootPath", name);
            return -1;
        }
        if (n && !(n == 1 && p[0] == '.')) {
            if (o + n + 2 > outlen) {
                snprintf(err, errlen, "fileName too long");
                return -1;
            }
            if (o) out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n + (slash ? 1 : 0);
    }
    out[o] = 0;
    return 0;
}

/* Creates the parent folders of rel one by one. Each existing step is resolved first and must be inside the
 * root, so a symlinked folder cannot make us create anything outside it. */
static int mkdir_under(const char *root, const char *rel, char *err, size_t errlen) {
    char cur[PATH_MAX], next[PATH_MAX * 2], real[PATH_MAX];
    snprintf(cur, sizeof cur, "%s", root);
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash) return 0; /* the last segment is the file itself */
        snprintf(next, sizeof next, "%s/%.*s", cur, (int)(slash - p), p);
        if (mkdir(next, 0777) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create folder %s: %s", next, strerror(errno));
            return -1;
        }
        if (!realpath(next, real) || !under(root, real)) {
            snprintf(err, errlen, "fileName %s leaves rootPath (through a symlink)", rel);
            return -1;
        }
        snprintf(cur, sizeof cur, "%s", real);
        p = slash + 1;
    }
}

/* Resolves the parent folder of root/rel (creating it when `create`), checks it is inside the root, and
 * writes the final path (resolved parent + last segment) to out. */
static int secure_path(const ls_t *ls, const char *rel, int create, char *out, size_t outlen, char *err,
                       size_t errlen) {
    char joined[PATH_MAX * 2], parent[PATH_MAX], real[PATH_MAX];
    snprintf(joined, sizeof joined, "%s/%s", ls->root, rel);
    const char *last = strrchr(joined, '/');
    snprintf(parent, sizeof parent, "%.*s", (int)(last - joined), joined);
    if (create && mkdir_under(ls->root, rel, err, errlen) != 0) return -1;
    if (!realpath(parent, real)) {
        snprintf(err, errlen, "file not found: %s", joined);
        return -1;
    }
    if (!under(ls->root, real)) {
        snprintf(err, errlen, "fileName %s leaves rootPath (through a symlink)", rel);
        return -1;
    }
    if ((size_t)snprintf(out, outlen, "%s/%s", real, last + 1) >= outlen) {
        snprintf(err, errlen, "fileName too long");
        return -1;
    }
    struct stat st;
    if (lstat(out, &st) == 0 && S_ISLNK(st.st_mode)) {
        /* A symlink as the file itself: only if it resolves inside the root. */
        char target[PATH_MAX];
        if (!realpath(out, target) || !under(ls->root, target)) {
            snprintf(err, errlen, "fileName %s leaves rootPath (through a symlink)", rel);
            return -1;
        }
        snprintf(out, outlen, "%s", target);
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void op_create(ls_t *ls, const char *rel, const char *data, size_t len, rs_binding_done_fn done, void *arg) {
    char path[PATH_MAX * 2], err[PATH_MAX + 200];
    if (secure_path(ls, rel, 1, path, sizeof path, err, sizeof err) != 0) {
        done(arg, 0, NULL, err);
        return;
    }
    size_t ulen = 0;
    char *uq = rs_json_unquote(data, len, &ulen); /* Go's strconv.Unquote on the re-marshalled data */
    const char *payload = uq ? uq : data;
    size_t plen = uq ? ulen : len;
    unsigned char *dec = NULL;
    if (ls->decode_base64) {
        size_t declen;
        if (rs_base64_decode(payload, plen, &dec, &declen) != 0) {
            free(uq);
            done(arg, 0, NULL, "illegal base64 data in the request data (decodeBase64 is set)");
            return;
        }
        payload = (const char *)dec;
        plen = declen;
    }
    /* O_NONBLOCK: opening a FIFO someone put in rootPath must not wait for a reader on the loop; whatever is
     * not a regular file is refused before a byte is written. */
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0666);
    struct stat st;
    int rc = -1, special = 0;
    if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) special = 1;
    else if (fd >= 0 && ftruncate(fd, 0) == 0) rc = write_all(fd, payload, plen);
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && rc == 0) rc = -1;
    free(uq);
    free(dec);
    if (rc != 0) {
        if (special || saved == ENXIO) snprintf(err, sizeof err, "error writing file %s: not a regular file", path);
        else snprintf(err, sizeof err, "error writing file %s: %s", path, strerror(saved));
        done(arg, 0, NULL, err);
        return;
    }
    json_t *j = json_pack("{s:s}", "fileName", rel);
    char *body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    rs_binding_resp_t r = {.data = body, .len = strlen(body)};
    done(arg, 1, &r, NULL);
    free(body);
}

static void op_get(ls_t *ls, const char *rel, rs_binding_done_fn done, void *arg) {
    char path[PATH_MAX * 2], err[PATH_MAX + 200];
    if (secure_path(ls, rel, 0, path, sizeof path, err, sizeof err) != 0) {
        done(arg, 0, NULL, err);
        return;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block the loop */
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        snprintf(err, sizeof err, "file not found: %s", path);
        done(arg, 0, NULL, err);
        return;
    }
    if ((unsigned long long)st.st_size > MAX_FILE) {
        close(fd);
        snprintf(err, sizeof err, "file %s is larger than %u bytes", path, MAX_FILE);
        done(arg, 0, NULL, err);
        return;
    }
    rs_buf_t b;
    rs_buf_init(&b, MAX_FILE);
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        if (rs_buf_append(&b, chunk, (size_t)n) != 0) break;
    close(fd);
    rs_binding_resp_t r = {.data = b.data ? b.data : "", .len = b.len};
    done(arg, 1, &r, NULL);
    rs_buf_free(&b);
}

static void op_delete(ls_t *ls, const char *rel, rs_binding_done_fn done, void *arg) {
    char path[PATH_MAX * 2], err[PATH_MAX + 200];
    if (secure_path(ls, rel, 0, path, sizeof path, err, sizeof err) != 0) {
        done(arg, 0, NULL, err);
        return;
    }
    if (unlink(path) != 0) {
        if (errno == ENOENT) snprintf(err, sizeof err, "file not found: %s", path);
        else snprintf(err, sizeof err, "remove %s: %s", path, strerror(errno));
        done(arg, 0, NULL, err);
        return;
    }
    done(arg, 1, NULL, NULL);
}

/* Recursive listing of everything that is not a folder, like Go's filepath.Walk; symlinks are not followed. */
static void walk(const char *dir, json_t *out, int depth) {
    if (depth > MAX_LIST_DEPTH || json_array_size(out) >= MAX_LIST_ENTRIES) return;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    /* filepath.Walk visits names in lexical order: collect and sort. */
    json_t *names = json_array();
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) json_array_append_new(names, json_string(e->d_name));
    closedir(d);
    size_t n = json_array_size(names);
    const char **v = rs_xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = json_string_value(json_array_get(names, i));
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            const char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX * 2];
        snprintf(p, sizeof p, "%s/%s", dir, v[i]);
        struct stat st;
        if (lstat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) walk(p, out, depth + 1);
        else if (json_array_size(out) < MAX_LIST_ENTRIES) json_array_append_new(out, json_string(p));
    }
    free(v);
    json_decref(names);
}

static void op_list(ls_t *ls, const char *rel, rs_binding_done_fn done, void *arg) {
    char dir[PATH_MAX * 2], err[PATH_MAX + 200];
    if (!rel[0]) {
        snprintf(dir, sizeof dir, "%s", ls->root);
    } else {
        char joined[PATH_MAX * 2];
        snprintf(joined, sizeof joined, "%s/%s", ls->root, rel);
        if (!realpath(joined, dir)) {
            snprintf(err, sizeof err, "file not found: %s", joined);
            done(arg, 0, NULL, err);
            return;
        }
        if (!under(ls->root, dir)) {
            snprintf(err, sizeof err, "fileName %s leaves rootPath (through a symlink)", rel);
            done(arg, 0, NULL, err);
            return;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, sizeof err, "unable to list files as the file specified is not a directory [%s]", dir);
        done(arg, 0, NULL, err);
        return;
    }
    json_t *files = json_array();
    walk(dir, files, 0);
    char *body = json_dumps(files, JSON_COMPACT);
    json_decref(files);
    rs_binding_resp_t r = {.data = body, .len = strlen(body)};
    done(arg, 1, &r, NULL);
    free(body);
}

static rs_binding_call_t *ls_invoke(rs_component_t *c, const char *operation, const char *data, size_t len,
                                    const rs_kvlist_t *metadata, rs_binding_done_fn done, void *arg) {
    ls_t *ls = c->impl;
    const char *name = metadata ? rs_kvlist_get(metadata, "fileName") : NULL;
    char id[37], rel[PATH_MAX], err[PATH_MAX + 100];
    if ((!name || !*name) && strcmp(operation, "create") == 0) {
        rs_uuid(id);
        name = id;
    }
    if (clean_name(name ? name : "", rel, sizeof rel, err, sizeof err) != 0) {
        done(arg, 0, NULL, err);
        return NULL;
    }
    if (strcmp(operation, "list") == 0) {
        op_list(ls, rel, done, arg);
        return NULL;
    }
    if (!rel[0]) {
        done(arg, 0, NULL, "fileName is a required attribute");
        return NULL;
    }
    if (strcmp(operation, "create") == 0) op_create(ls, rel, data, len, done, arg);
    else if (strcmp(operation, "get") == 0) op_get(ls, rel, done, arg);
    else if (strcmp(operation, "delete") == 0) op_delete(ls, rel, done, arg);
    else done(arg, 0, NULL, "unsupported operation");
    return NULL;
}

static void ls_cancel(rs_component_t *c, rs_binding_call_t *call) {
    (void)c;
    (void)call; /* never pending */
}

static int ls_init(rs_component_t *c, char *err, size_t errlen) {
    ls_t *ls = rs_xcalloc(1, sizeof *ls);
    c->impl = ls;
    const char *root = rs_kvlist_get_ci(&c->metadata, "rootPath");
    if (!root || !*root) {
        snprintf(err, errlen, "failed to parse metadata: missing rootPath");
        return -1;
    }
    const char *d64 = rs_kvlist_get_ci(&c->metadata, "decodeBase64");
    if (d64 && *d64 && rs_parse_bool(d64, &ls->decode_base64) != 0) {
        snprintf(err, errlen, "failed to parse metadata: decodeBase64: invalid boolean \"%s\"", d64);
        return -1;
    }
    char abs[PATH_MAX];
    if (root[0] == '/') {
        snprintf(abs, sizeof abs, "%s", root);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) cwd[0] = 0;
        snprintf(abs, sizeof abs, "%s/%s", cwd, root);
    }
    /* Check the literal path first, so nothing is created under /proc or /sys. */
    if (forbidden_root(abs)) {
        snprintf(err, errlen, "rootPath %s is not allowed (/, /proc, /sys, /boot and /var/run/secrets are refused)",
                 abs);
        return -1;
    }
    if (rs_mkdir_p(abs, 0777) != 0) {
        snprintf(err, errlen, "unable to create directory specified by 'rootPath' %s: %s", abs, strerror(errno));
        return -1;
    }
    if (!realpath(abs, ls->root)) {
        snprintf(err, errlen, "cannot resolve rootPath %s: %s", abs, strerror(errno));
        return -1;
    }
    if (forbidden_root(ls->root)) {
        snprintf(err, errlen, "rootPath %s resolves to %s, which is not allowed", abs, ls->root);
        return -1;
    }
    RS_INFO("bindings.localstorage", "%s: root %s", c->name, ls->root);
    return 0;
}

static void ls_close(rs_component_t *c) {
    free(c->impl);
    c->impl = NULL;
}

static const rs_binding_ops_t ls_ops = {
    .operations = operations,
    .invoke = ls_invoke,
    .cancel = ls_cancel,
};

const rs_component_type_t rs_bindings_localstorage_type = {
    .type = "bindings.localstorage",
    .kind = RS_KIND_BINDING,
    .init = ls_init,
    .close = ls_close,
    .ops = &ls_ops,
};
