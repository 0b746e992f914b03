/* SPDX-License-Identifier: Apache-2.0 */
/* snn_load.c: reading a .snn file into memory and validating it (qsnn_snn_load), in the engine library
 * (libqsnn-snn): the C library's stdio only, so that a program linked with the engine alone can load a model
 * (README, "Embedding the engine"). Writing (qsnn_snn_save, atomic) stays in libqsnn (snn_file.c).
 *
 * Invariants: nothing is allocated before the size is known and bounded (SNN_FILE_MAX); on POSIX systems a path
 * that is not a regular file (a FIFO would block, a device never ends) is refused before it is opened
 * (qsnn_open_regular of src/core); the image
 * is handed out only after qsnn_snn_model_init accepted all of it (magic, version, sizes, CRC, every record). */
#include "qsnn/snn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNN_FILE_MAX (64u << 20)

qsnn_status qsnn_snn_load(const char *path, qsnn_snn_model *m, unsigned char **image)
{
    *image = NULL;
    memset(m, 0, sizeof *m);
    if (!path)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_snn_load: NULL path");
    FILE *fp;
    qsnn_status st = qsnn_open_regular(path, &fp);
    if (st != QSNN_OK)
        return st;
    if (fseek(fp, 0, SEEK_END) != 0) {
        fclose(fp);
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot seek", path);
    }
    long len = ftell(fp);
    rewind(fp);
    if (len < 0 || (unsigned long)len > SNN_FILE_MAX) {
        fclose(fp);
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: size %ld out of range (max %u bytes)", path, len, SNN_FILE_MAX);
    }
    if (len < QSNN_SNN_HEADER_SIZE) {
        fclose(fp);
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: truncated header (%ld bytes)", path, len);
    }
    unsigned char *buf = malloc((size_t)len);
    if (!buf) {
        fclose(fp);
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: %ld bytes", path, len);
    }
    size_t got = fread(buf, 1, (size_t)len, fp);
    fclose(fp);
    if (got != (size_t)len)
        st = qsnn_fail(QSNN_ERR_FORMAT, "%s: truncated (image)", path);
    else
        st = qsnn_snn_model_init(m, buf, (size_t)len, path);
    if (st != QSNN_OK) {
        free(buf);
        return st;
    }
    *image = buf;
    return QSNN_OK;
}
