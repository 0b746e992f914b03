/* SPDX-License-Identifier: Apache-2.0 */
/* open_regular.c: qsnn_open_regular, the one way every reader of a file format opens its file (the .snn loader
 * of the engine library included, so it lives in core: the C library's stdio, plus stat() where POSIX has it).
 * On POSIX systems a path that is not a regular file (a FIFO would block, a device never ends, a folder) is
 * refused before it is opened; elsewhere (bare-metal C libraries) it is a plain fopen(path, "rb"). */
#if defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#include <sys/stat.h>
#define QSNN_HAVE_STAT 1
#endif
#include "qsnn/core.h"

#include <errno.h>
#include <string.h>

qsnn_status qsnn_open_regular(const char *path, FILE **fp)
{
    *fp = NULL;
#ifdef QSNN_HAVE_STAT
    struct stat st;
    if (stat(path, &st) != 0)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return qsnn_fail(QSNN_ERR_IO, "%s: is a folder, not a regular file", path);
    if (!S_ISREG(st.st_mode))
        return qsnn_fail(QSNN_ERR_IO, "%s: not a regular file (FIFO, device or socket): not read", path);
#endif
    *fp = fopen(path, "rb");
    if (!*fp)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    return QSNN_OK;
}
