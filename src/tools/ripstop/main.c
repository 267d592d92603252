/* SPDX-License-Identifier: MIT */
/* `ripstop <command> [args]`: the demo toolbox. Each command is one file;
 * add it to the table below. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

/* Declarations of the command entry points (one per file). */
int rs_cmd_run(int argc, char **argv);
int rs_cmd_kafka_dump(int argc, char **argv);
int rs_cmd_chaos(int argc, char **argv);
int rs_cmd_demo(int argc, char **argv);
int rs_cmd_load(int argc, char **argv);
int rs_cmd_verify(int argc, char **argv);
int rs_cmd_k8s_chaos(int argc, char **argv);
int rs_cmd_matrix(int argc, char **argv);

static const rs_command_t commands[] = {
    {"run", rs_cmd_run, "start apps and sidecars from a Multi-App Run file"},
    {"kafka-dump", rs_cmd_kafka_dump, "print the orders published on a Kafka topic (JSON)"},
    {"demo", rs_cmd_demo, "run the chaos demo end to end: load, verdict, report, live dashboard"},
    {"matrix", rs_cmd_matrix, "run scenarios x seeds from clean starts; one table of verdicts, links to reports"},
    {"chaos", rs_cmd_chaos, "TCP fault proxy with a Toxiproxy-compatible HTTP API"},
    {"load", rs_cmd_load, "open-loop HTTP load generator"},
    {"verify", rs_cmd_verify, "the demo's verdict: from a recording, or live from Kafka and Redis (a cluster)"},
    {"k8s-chaos", rs_cmd_k8s_chaos, "render a scenario's chaos as a Chaos Mesh Workflow (Kubernetes)"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out) {
    fprintf(out, "usage: ripstop <command> [options]\n\ncommands:\n");
    for (const rs_command_t *c = commands; c->name; c++) fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out, "\nrun 'ripstop <command> --help' for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (const rs_command_t *c = commands; c->name; c++)
        if (strcmp(c->name, argv[1]) == 0) return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "ripstop: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
