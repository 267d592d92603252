/* SPDX-License-Identifier: MIT */
#include "sidecar/messaging/scopes.h"

#include <stdlib.h>
#include <string.h>

#include "core/str.h"

/* Splits `s` (spaces removed) at `sep` into out. */
static void split(const char *s, char sep, rs_strlist_t *out) {
    size_t n = strlen(s);
    char *buf = rs_xmalloc(n + 1), *w = buf;
    for (const char *p = s; *p; p++)
        if (*p != ' ') *w++ = *p;
    *w = '\0';
    char *start = buf;
    for (char *p = buf;; p++) {
        if (*p == sep || *p == '\0') {
            char end = *p;
            *p = '\0';
            rs_strlist_add(out, start);
            if (end == '\0') break;
            start = p + 1;
        }
    }
    free(buf);
}

/* The topics listed for app_id in a scopes value ("app1=t1,t2;app2=t3"), like Dapr's GetScopedTopics. */
static void scoped_topics(const char *val, const char *app_id, rs_strlist_t *out) {
    if (!val || !*val) return;
    rs_strlist_t apps = {0};
    split(val, ';', &apps);
    for (size_t i = 0; i < apps.len; i++) {
        char *eq = strchr(apps.items[i], '=');
        if (eq) *eq = '\0';
        if (strcmp(apps.items[i], app_id) != 0 || !eq) continue;
        rs_strlist_t topics = {0};
        split(eq + 1, ',', &topics);
        for (size_t k = 0; k < topics.len; k++)
            if (!rs_strlist_contains(out, topics.items[k])) rs_strlist_add(out, topics.items[k]);
        rs_strlist_free(&topics);
    }
    rs_strlist_free(&apps);
}

static int listed(const char *val, const char *topic) {
    if (!val || !*val) return -1; /* no list */
    rs_strlist_t l = {0};
    split(val, ',', &l);
    int found = rs_strlist_contains(&l, topic);
    rs_strlist_free(&l);
    return found;
}

int rs_topic_allowed(const rs_component_t *c, const char *app_id, const char *topic, rs_topic_op_t op) {
    rs_strlist_t scoped = {0};
    scoped_topics(rs_component_meta(c, op == RS_TOPIC_PUBLISH ? "publishingScopes" : "subscriptionScopes"),
                  app_id ? app_id : "", &scoped);
    int allowed;
    int in_allowed = listed(rs_component_meta(c, "allowedTopics"), topic);
    int in_protected = listed(rs_component_meta(c, "protectedTopics"), topic) == 1;
    if (in_allowed == 0 && scoped.len == 0) allowed = 0;
    else if (!in_protected && scoped.len == 0) allowed = 1;
    else allowed = rs_strlist_contains(&scoped, topic);
    rs_strlist_free(&scoped);
    return allowed;
}
