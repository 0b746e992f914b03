/* SPDX-License-Identifier: Apache-2.0 */
/* file_kind.c: what a path holds, told from the file system and the first eight bytes: the one place that knows
 * every qsnn file format's magic (the formats themselves live with their modules: model_file.c, snn_model.c,
 * feature_file.c, checkpoint.c; tests/test_file_kind.c checks each against a real file of that format). */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/io.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
    const char magic[9];
    qsnn_file_kind kind;
} magics[] = {
    {"QSNNMODL", QSNN_FILE_MODEL},      /* QSNN_MODEL_MAGIC, qsnn/model.h */
    {"QSNN_SNN", QSNN_FILE_SNN},        /* QSNN_SNN_MAGIC, qsnn/snn.h */
    {"QSNNFEAT", QSNN_FILE_FEATURES},   /* src/data/feature_file.c */
    {"QSNNCKPT", QSNN_FILE_CHECKPOINT}, /* src/train/checkpoint.c */
};

qsnn_file_kind qsnn_file_kind_of(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        qsnn_fail(QSNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return QSNN_FILE_UNREADABLE;
    }
    if (S_ISDIR(sb.st_mode))
        return QSNN_FILE_DIR;
    if (!S_ISREG(sb.st_mode)) { /* a FIFO would block the read of its magic */
        qsnn_fail(QSNN_ERR_IO, "%s: not a regular file (FIFO, device or socket): not read", path);
        return QSNN_FILE_UNREADABLE;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        qsnn_fail(QSNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return QSNN_FILE_UNREADABLE;
    }
    char head[8];
    size_t n = fread(head, 1, sizeof head, fp);
    fclose(fp);
    for (size_t i = 0; n == sizeof head && i < sizeof magics / sizeof magics[0]; i++)
        if (!memcmp(head, magics[i].magic, 8))
            return magics[i].kind;
    return QSNN_FILE_OTHER;
}

const char *qsnn_file_kind_name(qsnn_file_kind k)
{
    switch (k) {
    case QSNN_FILE_UNREADABLE: return "unreadable";
    case QSNN_FILE_OTHER: return "other file";
    case QSNN_FILE_DIR: return "folder";
    case QSNN_FILE_MODEL: return "qsnn model (.qsnn)";
    case QSNN_FILE_SNN: return "integer model (.snn)";
    case QSNN_FILE_FEATURES: return "feature file";
    case QSNN_FILE_CHECKPOINT: return "training checkpoint";
    }
    return "unknown";
}
