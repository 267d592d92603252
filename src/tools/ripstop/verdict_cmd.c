/* SPDX-License-Identifier: MIT */
/* `ripstop verify RECORDING.json`: recomputes a demo verdict offline. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tools/ripstop/verdict.h"

int rs_cmd_verify(int argc, char **argv);

int rs_cmd_verify(int argc, char **argv) {
    const char *out = NULL;
    static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (ch == 'o') out = optarg;
        else {
            fprintf(ch == 'h' ? stdout : stderr,
                    "usage: ripstop verify RECORDING.json [--out VERDICT.json]\n"
                    "  Recomputes the demo's verdict from a recording (ripstop demo writes recording.json).\n"
                    "  Exit 0 when the verdict holds, 1 when it does not, 2 on bad input.\n");
            return ch == 'h' ? 0 : 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "ripstop verify: which recording? (ripstop verify RECORDING.json)\n");
        return 2;
    }
    json_error_t je;
    json_t *rec = json_load_file(argv[optind], 0, &je);
    if (!rec || !json_is_object(rec)) {
        fprintf(stderr, "ripstop verify: %s: %s (line %d)\n", argv[optind], rec ? "not a JSON object" : je.text,
                je.line);
        json_decref(rec);
        return 2;
    }
    json_t *v = rs_verdict_compute(rec);
    rs_verdict_print(stdout, v);
    int rc = json_is_true(json_object_get(v, "pass")) ? 0 : 1;
    if (out && json_dump_file(v, out, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "ripstop verify: cannot write %s\n", out);
        rc = 2;
    }
    json_decref(v);
    json_decref(rec);
    return rc;
}
