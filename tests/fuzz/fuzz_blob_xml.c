/* The Azure Blob service's XML (components/bindings/blob_xml.c): List Blobs pages and error bodies, as the
 * blobstorage binding receives them from the storage account. Invariants: a page's items are JSON objects with
 * a Name; the next marker is set whenever the page parses; a converted date is RFC 3339 in UTC. */
#include <jansson.h>

#include "fuzz.h"
#include "sidecar/components/bindings/blob_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *xml = (const char *)data;
    json_t *items = json_array();
    char *next = NULL;
    char err[256] = "";
    int n = rs_blob_xml_list(xml, size, items, &next, err, sizeof err);
    if (n < 0) {
        FZ_CHECK(err[0] != '\0');
    } else {
        FZ_CHECK(next != NULL);
        FZ_CHECK((size_t)n == json_array_size(items));
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            FZ_CHECK(json_is_object(it));
            FZ_CHECK(json_object_get(it, "Name") != NULL);
        }
        char *text = json_dumps(items, 0);
        FZ_CHECK(text != NULL); /* every string in it is valid UTF-8 */
        free(text);
    }
    free(next);
    json_decref(items);

    char code[128], msg[512];
    rs_blob_xml_error(xml, size, code, sizeof code, msg, sizeof msg);
    FZ_CHECK(strlen(code) < sizeof code && strlen(msg) < sizeof msg);

    char *s = fz_cstr(data, size < 64 ? size : 64);
    char out[64];
    if (rs_blob_rfc1123_to_rfc3339(s, out, sizeof out) == 0) {
        size_t l = strlen(out);
        FZ_CHECK(l >= 20 && out[l - 1] == 'Z' && out[4] == '-' && out[10] == 'T');
    }
    free(s);
    return 0;
}
