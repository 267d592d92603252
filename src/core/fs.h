/* SPDX-License-Identifier: MIT */
/* File-system helpers shared by the sidecar and the tools. */
#ifndef RS_CORE_FS_H
#define RS_CORE_FS_H

#include <sys/types.h>

/** mkdir -p: creates path and every missing parent with mode (before the umask); existing ones are fine.
 *  Returns 0, or -1 with errno set (ENAMETOOLONG when path does not fit PATH_MAX). */
int rs_mkdir_p(const char *path, mode_t mode);

#endif
