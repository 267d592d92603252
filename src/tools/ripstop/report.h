/* SPDX-License-Identifier: MIT */
/* The demo's page (web/demo.html) and the self-contained HTML report.
 *
 * One page serves both uses: the live dashboard polls /api/state; the report
 * is the same page with the final state embedded as `window.RIPSTOP_DATA`, so
 * it opens from disk with no network. */
#ifndef RS_TOOLS_REPORT_H
#define RS_TOOLS_REPORT_H

#include <jansson.h>
#include <stddef.h>

/** Reads web/demo.html into a NUL-terminated malloc'd string. Looked up in $RIPSTOP_WEB_DIR, then
 *  <dir of the binary>/web, <dir of the binary>/../web, then the source tree this binary was built from.
 *  NULL (with the places tried in err) when not found. */
char *rs_web_page_load(char *err, size_t errlen);

/** Writes the report to `path`: the page with `state` (the dashboard's state object) embedded.
 *  Returns 0, or -1 with err. */
int rs_report_write(const char *path, const json_t *state, char *err, size_t errlen);

#endif
