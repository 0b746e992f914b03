/* SPDX-License-Identifier: Apache-2.0 */
/* paths.h: where the qsnn command finds the files it ships (the pretrained model, the architecture files, the
 * MLPerf Tiny teacher): one place, tools/paths.c. No path of the build tree is compiled in. */
#ifndef QSNN_TOOLS_PATHS_H
#define QSNN_TOOLS_PATHS_H

#include "qsnn/core.h"

#include <stddef.h>

/* The folder of the shipped files (it holds models/), the first of:
 *   1. $QSNN_DATA_DIR, when set and non-empty (taken as it is: an error later names it if it is wrong);
 *   2. <folder of the running binary>/QSNN_BIN_TO_DATA: the installed layout, bin/qsnn -> share/qsnn;
 *   3. <folder of the running binary>/share/qsnn: the build tree, which mirrors the installed layout.
 * The binary's folder comes from /proc/self/exe (Linux). Into buf[cap]; QSNN_ERR_IO, naming what was tried, when
 * none exists. */
qsnn_status cli_data_dir(char *buf, size_t cap);
/* <cli_data_dir()>/<rel> into buf[cap] (rel e.g. "models/mobilenet_kws_pretrained.qsnn"); QSNN_ERR_IO when the
 * folder is not found or the file is missing there (the message names both and QSNN_DATA_DIR). */
qsnn_status cli_shipped_file(const char *rel, char *buf, size_t cap);

#endif
