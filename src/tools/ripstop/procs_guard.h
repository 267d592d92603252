/* SPDX-License-Identifier: MIT */
/* The guard: a small helper process, forked once per ripstop process, that
 * kills every live child process group when ripstop dies — even by kill -9.
 *
 * PR_SET_PDEATHSIG only reaches the direct children; an app's own children
 * (a shell's pipeline, `npm start`'s node) would survive. The runner tells the
 * guard about each group it creates and each group it has finished with over
 * a pipe; when the pipe reaches EOF (ripstop exited, however it died) the guard
 * SIGKILLs the groups still listed and exits. Only groups whose leader has not
 * been reaped yet are listed, so a recycled pid is never killed by mistake. */
#ifndef RS_TOOLS_RIPSTOP_PROCS_GUARD_H
#define RS_TOOLS_RIPSTOP_PROCS_GUARD_H

#include <sys/types.h>

/** Starts the guard if it is not running. Returns 0, or -1 (then groups are only covered by
 *  PR_SET_PDEATHSIG of their leader). Must be called before the first rs_guard_add. */
int rs_guard_start(void);
/** The group led by pgid now exists (called right after fork). */
void rs_guard_add(pid_t pgid);
/** The group's leader was reaped and its members were killed: forget it. */
void rs_guard_remove(pid_t pgid);
/** Pid of the guard process, or 0. */
pid_t rs_guard_pid(void);

#endif
