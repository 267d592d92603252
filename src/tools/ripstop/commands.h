/* SPDX-License-Identifier: MIT */
/* Subcommands of the `ripstop` CLI. Each lives in its own file and has the
 * signature of main(); argv[0] is the subcommand name. */
#ifndef RS_TOOLS_RIPSTOP_COMMANDS_H
#define RS_TOOLS_RIPSTOP_COMMANDS_H

typedef int (*rs_cmd_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    rs_cmd_fn fn;
    const char *summary;
} rs_command_t;

#endif
