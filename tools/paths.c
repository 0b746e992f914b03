/* SPDX-License-Identifier: Apache-2.0 */
/* paths.c: the shipped files' folder (tools/paths.h): $QSNN_DATA_DIR, else share/qsnn relative to the running
 * binary (installed: bin/../share/qsnn, QSNN_BIN_TO_DATA from CMake's GNUInstallDirs; build tree:
 * build/share/qsnn, a link to the source's models/). Nothing else in tools/ knows where files are installed. */
#define _POSIX_C_SOURCE 200809L
#include "paths.h"

#include "qsnn/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef QSNN_BIN_TO_DATA
#define QSNN_BIN_TO_DATA "../share/qsnn"
#endif

static int is_dir(const char *p) { return qsnn_file_kind_of(p) == QSNN_FILE_DIR; }

/* The running binary's folder into buf[cap]; 0 when unknown. */
static int exe_dir(char *buf, size_t cap)
{
    if (cap < 2)
        return 0;
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0 || (size_t)n >= cap - 1)
        return 0;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return 0;
    if (slash == buf)
        slash[1] = '\0';
    else
        *slash = '\0';
    return 1;
}

qsnn_status cli_data_dir(char *buf, size_t cap)
{
    const char *env = getenv("QSNN_DATA_DIR");
    if (env && env[0]) {
        if (snprintf(buf, cap, "%s", env) >= (int)cap)
            return qsnn_fail(QSNN_ERR_ARG, "QSNN_DATA_DIR: path too long");
        return QSNN_OK;
    }
    char dir[4096];
    if (!exe_dir(dir, sizeof dir))
        return qsnn_fail(QSNN_ERR_IO, "cannot tell where the qsnn binary is (/proc/self/exe): set QSNN_DATA_DIR to "
                                      "the folder of the shipped files (PREFIX/share/qsnn)");
    const char *tries[2] = {QSNN_BIN_TO_DATA, "share/qsnn"};
    for (int i = 0; i < 2; i++) {
        if (snprintf(buf, cap, "%s/%s", dir, tries[i]) >= (int)cap)
            continue;
        if (is_dir(buf))
            return QSNN_OK;
    }
    return qsnn_fail(QSNN_ERR_IO,
                     "the shipped files are not in %s/%s nor in %s/share/qsnn: install qsnn (cmake --install) or set "
                     "QSNN_DATA_DIR to the folder that holds models/",
                     dir, QSNN_BIN_TO_DATA, dir);
}

qsnn_status cli_shipped_file(const char *rel, char *buf, size_t cap)
{
    char dir[4096];
    qsnn_status st = cli_data_dir(dir, sizeof dir);
    if (st)
        return st;
    if (snprintf(buf, cap, "%s/%s", dir, rel) >= (int)cap)
        return qsnn_fail(QSNN_ERR_ARG, "%s/%s: path too long", dir, rel);
    if (qsnn_file_kind_of(buf) < QSNN_FILE_OTHER || is_dir(buf))
        return qsnn_fail(QSNN_ERR_IO, "%s: missing (the shipped files' folder %s%s)", buf, dir,
                         getenv("QSNN_DATA_DIR") && getenv("QSNN_DATA_DIR")[0] ? ", from QSNN_DATA_DIR" : "");
    return QSNN_OK;
}
