/* SPDX-License-Identifier: Apache-2.0 */
/* snn_file.c: the .snn file: the image of qsnn/snn.h written atomically and read back whole, validated
 * (qsnn_snn_model_init: magic, version, sizes, CRC-32, every record) before anything uses it.
 */
#include "qsnn/snn.h"
#include "qsnn/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SNN_FILE_MAX (64u << 20)

qsnn_status qsnn_snn_save(const char *path, const void *image, size_t size)
{
    qsnn_atomic_file f;
    qsnn_status st = qsnn_atomic_open(&f, path);
    if (st != QSNN_OK)
        return st;
    st = qsnn_atomic_write(&f, image, size);
    if (st != QSNN_OK) {
        qsnn_atomic_abort(&f);
        return st;
    }
    return qsnn_atomic_commit(&f);
}

qsnn_status qsnn_snn_load(const char *path, qsnn_snn_model *m, unsigned char **image)
{
    *image = NULL;
    memset(m, 0, sizeof *m);
    FILE *fp;
    qsnn_status open_st = qsnn_open_regular(path, &fp);
    if (open_st != QSNN_OK)
        return open_st;
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
    qsnn_status st = qsnn_read_exact(fp, buf, (size_t)len, path, "image");
    fclose(fp);
    if (st == QSNN_OK)
        st = qsnn_snn_model_init(m, buf, (size_t)len, path);
    if (st != QSNN_OK) {
        free(buf);
        return st;
    }
    *image = buf;
    return QSNN_OK;
}
