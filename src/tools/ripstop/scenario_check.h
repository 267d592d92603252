/* SPDX-License-Identifier: MIT */
/* A scenario against the system it runs on: every app, instance, process,
 * link and infrastructure server a scenario names must exist in its run file.
 * Checked before anything starts, so a typo costs a second, not a run. */
#ifndef RS_TOOLS_SCENARIO_CHECK_H
#define RS_TOOLS_SCENARIO_CHECK_H

#include <stddef.h>

#include "tools/ripstop/runfile.h"
#include "tools/ripstop/scenario.h"

/** 0 when every name resolves; else -1 with "scenario.yaml:LINE: actions[i].targets[j].app: 'x' is not an app
 *  of dapr.yaml (one of: a, b, c)" in err. */
int rs_scenario_check_system(const rs_scenario_t *s, const rs_runfile_t *rf, char *err, size_t errlen);

#endif
