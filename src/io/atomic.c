/* atomic.c: atomic file replacement (temp + fsync + rename), exact reads, whole-file text reads.
 * Invariant: a destination file is either the old version or the complete new one, never a partial write. */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/io.h"

#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

qsnn_status qsnn_atomic_open(qsnn_atomic_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    if (strlen(path) >= sizeof f->path)
        return qsnn_fail(QSNN_ERR_ARG, "%s: path too long", path);
    snprintf(f->path, sizeof f->path, "%s", path);
    snprintf(f->tmp_path, sizeof f->tmp_path, "%s.tmp.%ld", path, (long)getpid());
    f->fp = fopen(f->tmp_path, "wb");
    if (!f->fp)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot create: %s", f->tmp_path, strerror(errno));
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
    int bad = f->failed;
    if (fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0)
        bad = 1;
    if (fclose(f->fp) != 0)
        bad = 1;
    f->fp = NULL;
    if (bad) {
        int e = errno;
        remove(f->tmp_path);
        return qsnn_fail(QSNN_ERR_IO, "%s: write failed: %s", f->path, strerror(e));
    }
    if (rename(f->tmp_path, f->path) != 0) {
        int e = errno;
        remove(f->tmp_path);
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot rename into place: %s", f->path, strerror(e));
    }
    return QSNN_OK;
}

void qsnn_atomic_abort(qsnn_atomic_file *f)
{
    if (f->fp) {
        fclose(f->fp);
        f->fp = NULL;
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
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
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

qsnn_status qsnn_check_output_dir(const char *file)
{
    char dir[4096];
    const char *slash = strrchr(file, '/');
    size_t len = slash ? (size_t)(slash - file) : 0;
    if (len >= sizeof dir)
        return qsnn_fail(QSNN_ERR_ARG, "%s: path too long", file);
    if (!slash)
        memcpy(dir, ".", 2);
    else if (len == 0)
        memcpy(dir, "/", 2);
    else {
        memcpy(dir, file, len);
        dir[len] = 0;
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot write there: folder %s: %s", file, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot write there: %s is not a folder", file, dir);
    if (access(dir, W_OK) != 0)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot write there: folder %s: %s", file, dir, strerror(errno));
    return QSNN_OK;
}
