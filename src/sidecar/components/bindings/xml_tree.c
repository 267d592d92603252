/* SPDX-License-Identifier: MIT */
/* Element tree from expat's callbacks; see the header. */
#include "sidecar/components/bindings/xml_tree.h"

#include <expat.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

typedef struct {
    XML_Parser p;
    rs_xml_node_t *root, *cur;
    int depth, failed;
} builder_t;

#define MAX_DEPTH 32 /* List Blobs nests 5 deep; a bound keeps rs_xml_free's recursion short */

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts) {
    builder_t *b = ud;
    if (++b->depth > MAX_DEPTH) {
        b->failed = 1;
        XML_StopParser(b->p, XML_FALSE);
        return;
    }
    rs_xml_node_t *n = calloc(1, sizeof *n);
    size_t na = 0;
    while (atts[na]) na++;
    char **attrs = n ? calloc(na + 1, sizeof *attrs) : NULL;
    if (!n || !attrs) {
        free(n);
        b->failed = 1;
        XML_StopParser(b->p, XML_FALSE);
        return;
    }
    for (size_t i = 0; i < na; i++) attrs[i] = rs_strdup(atts[i]);
    n->name = rs_strdup(name);
    n->attrs = attrs;
    n->text = rs_strdup("");
    n->parent = b->cur;
    if (!b->cur) {
        b->root = n;
    } else {
        if (b->cur->last_child) b->cur->last_child->next = n;
        else b->cur->children = n;
        b->cur->last_child = n;
    }
    b->cur = n;
}

static void on_end(void *ud, const XML_Char *name) {
    (void)name;
    builder_t *b = ud;
    b->depth--;
    if (b->cur) b->cur = b->cur->parent;
}

static void on_text(void *ud, const XML_Char *s, int len) {
    builder_t *b = ud;
    rs_xml_node_t *n = b->cur;
    if (!n || len <= 0) return;
    char *t = realloc(n->text, n->text_len + (size_t)len + 1);
    if (!t) {
        b->failed = 1;
        XML_StopParser(b->p, XML_FALSE);
        return;
    }
    memcpy(t + n->text_len, s, (size_t)len);
    n->text_len += (size_t)len;
    t[n->text_len] = 0;
    n->text = t;
}

/* No DOCTYPE at all: the blob service never sends one, and without it there are no entities to expand. */
static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid, int internal) {
    (void)name, (void)sysid, (void)pubid, (void)internal;
    builder_t *b = ud;
    b->failed = 1;
    XML_StopParser(b->p, XML_FALSE);
}

rs_xml_node_t *rs_xml_parse(const char *xml, size_t len) {
    if (len > INT_MAX) return NULL;
    builder_t b = {0};
    b.p = XML_ParserCreate(NULL);
    if (!b.p) return NULL;
    XML_SetUserData(b.p, &b);
    XML_SetElementHandler(b.p, on_start, on_end);
    XML_SetCharacterDataHandler(b.p, on_text);
    XML_SetStartDoctypeDeclHandler(b.p, on_doctype);
    int ok = XML_Parse(b.p, xml, (int)len, XML_TRUE) == XML_STATUS_OK && !b.failed;
    XML_ParserFree(b.p);
    if (!ok) {
        rs_xml_free(b.root);
        return NULL;
    }
    return b.root;
}

void rs_xml_free(rs_xml_node_t *n) {
    while (n) {
        rs_xml_free(n->children); /* at most MAX_DEPTH deep */
        rs_xml_node_t *next = n->next;
        for (char **a = n->attrs; a && *a; a++) free(*a);
        free(n->attrs);
        free(n->name);
        free(n->text);
        free(n);
        n = next;
    }
}

const rs_xml_node_t *rs_xml_child(const rs_xml_node_t *n, const char *name) {
    for (const rs_xml_node_t *c = n ? n->children : NULL; c; c = c->next)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

const char *rs_xml_attr(const rs_xml_node_t *n, const char *name) {
    for (char **a = n->attrs; a && a[0] && a[1]; a += 2)
        if (strcmp(a[0], name) == 0) return a[1];
    return NULL;
}
