/* SPDX-License-Identifier: Apache-2.0 */
/* atomic.c: atomic file replacement (temp + fsync + rename + folder fsync), exact reads, whole-file text reads.
 * Invariant: a destination file is either the old version or the complete new one, never a partial write; a
 * replaced file keeps its mode; a symbolic link keeps pointing where it did (its target is replaced); a character
 * device (/dev/null) is written through and never replaced; other special files are refused. */
#define _XOPEN_SOURCE 700 /* realpath, fchmod */
#include "qsnn/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Remove "<base>.tmp.<pid>" files in `dir` left by a qsnn process that no longer runs (killed mid-write). */
static void remove_stale_tmp(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t blen = strlen(base);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp.", 5) != 0)
            continue;
        char *end;
        long pid = strtol(n + blen + 5, &end, 10);
        if (*end || end == n + blen + 5 || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* that writer may still be running */
        char p[8192];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, n);
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            unlink(p);
    }
    closedir(d);
}

qsnn_status qsnn_atomic_open(qsnn_atomic_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    if (strlen(path) >= sizeof f->path)
        return qsnn_fail(QSNN_ERR_ARG, "%s: path too long", path);
    snprintf(f->path, sizeof f->path, "%s", path);
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISCHR(st.st_mode)) { /* /dev/null, a terminal: write through, never replace the node */
        f->direct = 1;
        f->fp = fopen(path, "wb");
        if (!f->fp)
            return qsnn_fail(QSNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return QSNN_OK;
    }
    if (exists && !S_ISREG(st.st_mode))
        return qsnn_fail(QSNN_ERR_IO, "%s: exists and is not a regular file: refusing to replace it", path);
    struct stat lst;
    char real[4096];
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) { /* replace the link's target; the link stays */
        if (!exists || !realpath(path, real))
            return qsnn_fail(QSNN_ERR_IO, "%s: symbolic link to a missing file: refusing to write through it", path);
        snprintf(f->path, sizeof f->path, "%s", real);
    }
    char dir[4096];
    qsnn_status s = qsnn_output_dir(dir, sizeof dir, f->path);
    if (s != QSNN_OK)
        return s;
    const char *slash = strrchr(f->path, '/');
    remove_stale_tmp(dir, slash ? slash + 1 : f->path);
    snprintf(f->tmp_path, sizeof f->tmp_path, "%s.tmp.%ld", f->path, (long)getpid());
    f->fp = fopen(f->tmp_path, "wb");
    if (!f->fp)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot create: %s", f->tmp_path, strerror(errno));
    if (exists && fchmod(fileno(f->fp), st.st_mode & 07777) != 0) { /* the replaced file's mode is kept */
        int e = errno;
        qsnn_atomic_abort(f);
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot keep the mode of %s: %s", f->tmp_path, path, strerror(e));
    }
    return QSNN_OK;
}

qsnn_status qsnn_atomic_write(qsnn_atomic_file *f, const void *data, size_t n)
{
    if (f->failed)
        return QSNN_ERR_IO;
    if (n && fwrite(data, 1, n, f->fp) != n) {
        f->failed = 1;
        return qsnn_fail(QSNN_ERR_IO, "%s: write failed: %s", f->path, strerror(errno));
    }
    return QSNN_OK;
}

qsnn_status qsnn_atomic_commit(qsnn_atomic_file *f)
{
    if (!f->fp)
        return qsnn_fail(QSNN_ERR_ARG, "%s: file not open", f->path);
    int bad = f->failed, e = 0;
    if (fflush(f->fp) != 0 || (!f->direct && fsync(fileno(f->fp)) != 0)) {
        bad = 1;
        e = errno;
    }
    if (fclose(f->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    f->fp = NULL;
    if (bad) {
        if (!f->direct)
            remove(f->tmp_path);
        return qsnn_fail(QSNN_ERR_IO, "%s: write failed: %s", f->path, e ? strerror(e) : "short write");
    }
    if (f->direct)
        return QSNN_OK;
    if (rename(f->tmp_path, f->path) != 0) {
        e = errno;
        remove(f->tmp_path);
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot rename into place: %s", f->path, strerror(e));
    }
    /* the rename itself is durable only once the folder is synced */
    char dir[4096];
    if (qsnn_output_dir(dir, sizeof dir, f->path) != QSNN_OK)
        return QSNN_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return qsnn_fail(QSNN_ERR_IO, "%s: written, but its folder cannot be opened to sync: %s", f->path,
                         strerror(errno));
    int rc = fsync(fd);
    e = errno;
    close(fd);
    if (rc != 0 && e != EINVAL && e != EROFS)
        return qsnn_fail(QSNN_ERR_IO, "%s: written, but syncing its folder failed: %s", f->path, strerror(e));
    return QSNN_OK;
}

void qsnn_atomic_abort(qsnn_atomic_file *f)
{
    if (f->fp) {
        fclose(f->fp);
        f->fp = NULL;
        if (!f->direct)
            remove(f->tmp_path);
    }
}

qsnn_status qsnn_read_exact(FILE *fp, void *dst, size_t n, const char *path, const char *what)
{
    if (n && fread(dst, 1, n, fp) != n)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: truncated (%s)", path, what);
    return QSNN_OK;
}

qsnn_status qsnn_read_text_file(const char *path, size_t max_bytes, char **out, size_t *len)
{
    *out = NULL;
    FILE *fp;
    qsnn_status st = qsnn_open_regular(path, &fp);
    if (st != QSNN_OK)
        return st;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(fp);
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max_bytes) {
                free(buf);
                fclose(fp);
                return qsnn_fail(QSNN_ERR_RANGE, "%s: larger than %zu bytes", path, max_bytes);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(fp);
                return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        free(buf);
        return qsnn_fail(QSNN_ERR_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return QSNN_OK;
}

qsnn_status qsnn_mkdir_p(const char *path)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf)
        return qsnn_fail(QSNN_ERR_ARG, "folder '%s': empty or too long", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return qsnn_fail(QSNN_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
            buf[i] = c;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return qsnn_fail(QSNN_ERR_IO, "%s: exists and is not a folder", path);
    return QSNN_OK;
}
