/* SPDX-License-Identifier: MIT */
/* A small element tree built with expat, for the few XML bodies the blob
 * binding reads (List Blobs pages, error bodies). Elements keep their name,
 * attributes and their own text; comments and processing instructions are
 * dropped. A document with a DOCTYPE is refused (no entity definitions, so
 * no entity expansion), and nothing is fetched from the network. expat, not
 * libxml2: libxml2 brings ICU and libstdc++, about 2.5 MB of RSS in every
 * sidecar (bench/system/bench_memory.py). */
#ifndef RS_BINDINGS_XML_TREE_H
#define RS_BINDINGS_XML_TREE_H

#include <stddef.h>

typedef struct rs_xml_node {
    char *name;
    char **attrs;    /* name, value, name, value, ..., NULL */
    char *text;      /* the element's own character data ("" when none) */
    size_t text_len;
    struct rs_xml_node *parent, *children, *last_child, *next;
} rs_xml_node_t;

/** Parses a whole document; returns its root element, or NULL when it is not well-formed XML
 *  (or has a DOCTYPE). Free with rs_xml_free. */
rs_xml_node_t *rs_xml_parse(const char *xml, size_t len);
void rs_xml_free(rs_xml_node_t *root);

/** The first child element called name, or NULL (n may be NULL). */
const rs_xml_node_t *rs_xml_child(const rs_xml_node_t *n, const char *name);
/** The value of attribute name, or NULL. */
const char *rs_xml_attr(const rs_xml_node_t *n, const char *name);

#endif
