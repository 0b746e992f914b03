/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/io.h: file helpers shared by every file format: atomic writes, checked reads, .npy export, what a file is.
 *
 * Atomic write: data goes to "<path>.tmp.<pid>", is flushed and fsync'ed, then renamed over <path>; a crash or
 * an error midway leaves the previous file intact. */
#ifndef QSNN_IO_H
#define QSNN_IO_H

#include "qsnn/core.h"

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    FILE *fp;
    char path[4096];
    char tmp_path[4096 + 32];
    int failed; /* set by qsnn_atomic_write on a short write */
    int direct; /* path is a character device (/dev/null): written through, no temporary file, no rename */
} qsnn_atomic_file;

/* Start writing `path`. An existing regular file is replaced at commit with its mode kept; a symbolic link's target
 * is replaced (the link stays); a character device is written through; a folder, FIFO, socket, block device or
 * dangling link is refused (QSNN_ERR_IO). Stale "<path>.tmp.<pid>" files of qsnn processes that no longer run
 * are removed. */
qsnn_status qsnn_atomic_open(qsnn_atomic_file *f, const char *path);
/* fwrite with error tracking; returns QSNN_ERR_IO (message names the file) on a short write. */
qsnn_status qsnn_atomic_write(qsnn_atomic_file *f, const void *data, size_t n);
/* Flush, fsync, close, rename into place and fsync the folder. On failure the temporary file is removed and the
 * message names the file and the reason (ENOSPC, EIO...). */
qsnn_status qsnn_atomic_commit(qsnn_atomic_file *f);
/* Close and remove the temporary file; the destination is untouched. */
void qsnn_atomic_abort(qsnn_atomic_file *f);

/* mkdir -p: create `path` and its missing parents (mode 0777 before umask). Fails with QSNN_ERR_IO naming the
 * folder when one cannot be created or `path` exists and is not a folder; QSNN_ERR_ARG for "" or a path over
 * 4095 bytes. */
qsnn_status qsnn_mkdir_p(const char *path);

/* What every command calls on its outputs before doing any work, so that a bad output path fails at once and
 * never after the work or by destroying something. Each non-NULL output must be:
 *   - not the same file (st_dev/st_ino, through symbolic links) as any input or any other output;
 *   - missing, an existing regular file (replaced atomically), or a writable character device (/dev/null:
 *     written through); a folder, FIFO, socket, block device or dangling symbolic link is refused;
 *   - in an existing writable folder with at least `room` bytes free (0: no room check).
 * NULL entries of either list are skipped; inputs that do not exist are skipped (their reader reports them).
 * Returns QSNN_ERR_ARG (a collision) or QSNN_ERR_IO (a path that cannot be written), naming the paths. */
qsnn_status qsnn_check_outputs(const char *const *outputs, size_t num_outputs, const char *const *inputs,
                               size_t num_inputs, uint64_t room);

/* The folder part of `file` into dir[cap]: "." for a bare name, "/" for "/name". QSNN_ERR_ARG if too long. */
qsnn_status qsnn_output_dir(char *dir, size_t cap, const char *file);

/* qsnn_open_regular (every reader of a file format opens through it) is in qsnn/core.h. */

/* Read exactly n bytes or fail with QSNN_ERR_FORMAT "<path>: truncated (<what>)". */
qsnn_status qsnn_read_exact(FILE *fp, void *dst, size_t n, const char *path, const char *what);

/* Write a NumPy .npy file (format 1.0, little-endian, C order) atomically.
 * dtype: "<f4", "|u1", "<i4", "<i8". shape: ndim sizes. */
qsnn_status qsnn_npy_write(const char *path, const char *dtype, const size_t *shape, int ndim, const void *data);

/* Whole file into a malloc'ed NUL-terminated buffer (for JSON); *len excludes the NUL. max_bytes guards
 * against reading something enormous by mistake. */
qsnn_status qsnn_read_text_file(const char *path, size_t max_bytes, char **out, size_t *len);

/* What a path holds: a folder, one of qsnn's file formats (told by its 8-byte magic), another file, or nothing
 * readable. The one way every command tells a model from a .snn model, a feature file from a dataset folder. */
typedef enum {
    QSNN_FILE_UNREADABLE = -1, /* missing or unreadable (qsnn_last_error() names the file and the reason) */
    QSNN_FILE_OTHER = 0,       /* a file of no qsnn format (audio, JSON, text, shorter than 8 bytes...) */
    QSNN_FILE_DIR,             /* a folder (a dataset directory) */
    QSNN_FILE_MODEL,           /* float/quantized model, "QSNNMODL" (qsnn/model.h) */
    QSNN_FILE_SNN,             /* integer event-based model, "QSNN_SNN" (qsnn/snn.h) */
    QSNN_FILE_FEATURES,        /* feature file, "QSNNFEAT" (qsnn/data.h) */
    QSNN_FILE_CHECKPOINT       /* trainer checkpoint state, "QSNNCKPT" (qsnn/train.h) */
} qsnn_file_kind;
qsnn_file_kind qsnn_file_kind_of(const char *path);
/* "folder", "qsnn model (.qsnn)", "integer model (.snn)", "feature file"... */
const char *qsnn_file_kind_name(qsnn_file_kind k);

/* Little-endian fixed-width helpers for portable binary formats. */
static inline void qsnn_put_u32le(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}
static inline uint32_t qsnn_get_u32le(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#ifdef __cplusplus
}
#endif
#endif
