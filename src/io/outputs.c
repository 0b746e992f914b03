/* SPDX-License-Identifier: Apache-2.0 */
/* outputs.c: what every command checks on its output paths before it starts working (qsnn_check_outputs).
 * Invariant: an output accepted here is either a missing file in a writable folder with room for it, an existing
 * regular file (replaced atomically, mode kept), or a character device the user names (written through, never
 * replaced: /dev/null, /dev/stdout); it is never the same file as an input or as another output. */
#define _XOPEN_SOURCE 700 /* realpath, fchmod */
#include "qsnn/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Identity of a path: the file's (st_dev, st_ino) when it exists, else its folder's plus its base name. */
typedef struct {
    dev_t dev;
    ino_t ino;
    const char *base; /* NULL when the file exists */
} file_id;

qsnn_status qsnn_output_dir(char *dir, size_t cap, const char *file)
{
    const char *slash = strrchr(file, '/');
    size_t len = slash ? (size_t)(slash - file) : 0;
    if (len >= cap)
        return qsnn_fail(QSNN_ERR_ARG, "%s: path too long", file);
    if (!slash)
        snprintf(dir, cap, ".");
    else if (len == 0)
        snprintf(dir, cap, "/");
    else {
        memcpy(dir, file, len);
        dir[len] = 0;
    }
    return QSNN_OK;
}

static const char *base_name(const char *file)
{
    const char *slash = strrchr(file, '/');
    return slash ? slash + 1 : file;
}

/* 1 and *id filled when `path` (followed through symlinks) exists or its folder does; 0 otherwise. */
static int path_id(const char *path, file_id *id)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        *id = (file_id){st.st_dev, st.st_ino, NULL};
        return 1;
    }
    char dir[4096];
    if (qsnn_output_dir(dir, sizeof dir, path) != QSNN_OK || stat(dir, &st) != 0)
        return 0;
    *id = (file_id){st.st_dev, st.st_ino, base_name(path)};
    return 1;
}

static int same_id(const file_id *a, const file_id *b)
{
    if (a->dev != b->dev || a->ino != b->ino)
        return 0;
    if (!a->base || !b->base)
        return !a->base && !b->base;
    return strcmp(a->base, b->base) == 0;
}

static qsnn_status check_one(const char *path, uint64_t room)
{
    if (!path[0])
        return qsnn_fail(QSNN_ERR_ARG, "output path is empty");
    if (path[strlen(path) - 1] == '/')
        return qsnn_fail(QSNN_ERR_IO, "%s: output names a folder, not a file", path);
    struct stat lst, st;
    if (lstat(path, &lst) == 0) {
        if (stat(path, &st) != 0)
            return qsnn_fail(QSNN_ERR_IO, "%s: symbolic link to a missing file: refusing to write through it", path);
        if (S_ISDIR(st.st_mode))
            return qsnn_fail(QSNN_ERR_IO, "%s: is a folder, not a file", path);
        if (S_ISCHR(st.st_mode)) { /* written through (e.g. /dev/null); never replaced */
            if (access(path, W_OK) != 0)
                return qsnn_fail(QSNN_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
            return QSNN_OK;
        }
        if (!S_ISREG(st.st_mode))
            return qsnn_fail(QSNN_ERR_IO, "%s: exists and is not a regular file (FIFO, socket or block device): "
                                          "refusing to replace it", path);
    }
    char dir[4096];
    qsnn_status s = qsnn_output_dir(dir, sizeof dir, path);
    if (s != QSNN_OK)
        return s;
    char real[4096];
    if (S_ISLNK(lst.st_mode) && realpath(path, real)) /* the folder that gets the new file is the target's */
        if ((s = qsnn_output_dir(dir, sizeof dir, real)) != QSNN_OK)
            return s;
    if (stat(dir, &st) != 0)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot write there: folder %s: %s", path, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot write there: %s is not a folder", path, dir);
    if (access(dir, W_OK) != 0)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot write there: folder %s: %s", path, dir, strerror(errno));
    struct statvfs vfs;
    if (room && statvfs(dir, &vfs) == 0) {
        uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
        if (avail < room)
            return qsnn_fail(QSNN_ERR_IO, "%s: folder %s has %llu bytes free, about %llu needed", path, dir,
                             (unsigned long long)avail, (unsigned long long)room);
    }
    return QSNN_OK;
}

qsnn_status qsnn_check_outputs(const char *const *outputs, size_t num_outputs, const char *const *inputs,
                               size_t num_inputs, uint64_t room)
{
    for (size_t i = 0; i < num_outputs; i++) {
        if (!outputs[i])
            continue;
        qsnn_status s = check_one(outputs[i], room);
        if (s != QSNN_OK)
            return s;
        file_id oid;
        if (!path_id(outputs[i], &oid))
            continue;
        struct stat st;
        int chr = stat(outputs[i], &st) == 0 && S_ISCHR(st.st_mode);
        for (size_t j = 0; j < num_inputs; j++) {
            file_id iid;
            if (inputs[j] && path_id(inputs[j], &iid) && !iid.base && same_id(&oid, &iid) && !chr)
                return qsnn_fail(QSNN_ERR_ARG, "output %s is the same file as the input %s: refusing to overwrite "
                                               "an input", outputs[i], inputs[j]);
        }
        for (size_t j = 0; j < i; j++) {
            file_id pid;
            if (outputs[j] && path_id(outputs[j], &pid) && same_id(&oid, &pid) && !chr)
                return qsnn_fail(QSNN_ERR_ARG, "outputs %s and %s are the same file: one would overwrite the other",
                                 outputs[j], outputs[i]);
        }
    }
    return QSNN_OK;
}
