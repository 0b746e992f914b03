/* SPDX-License-Identifier: Apache-2.0 */
/* feature_file.c: the versioned feature file (qsnn_featureset_save / _load / _free).
 *
 * Layout, version 2, all integers little-endian:
 *   offset size
 *   0      8   magic "QSNNFEAT"
 *   8      4   u32 version (2; version 1 is the same without the trailer, and still loads with a warning)
 *   12     4   u32 header size (64)
 *   16     4   u32 flags: bit 0 = features are uint8 (else float32); other bits must be 0
 *   20     4   u32 h (frames, 49)       24  4  u32 w (coefficients, 10)      28  4  u32 c (1)
 *   32     4   u32 num_labels (1..64)   36  4  u32 label size (32 = QSNN_LABEL_MAX)
 *   40     8   u64 n (samples)
 *   48     8   u64 bytes of the source-path table
 *   56     4   f32 scale_min            60  4  f32 scale_max  (training range of the uint8 scaling)
 *   64         labels: num_labels x 32 bytes, NUL-terminated names, NUL-padded
 *              label of each sample: n x i32, in [0, num_labels)
 *              split of each sample: n x u8 (0 train, 1 validation, 2 test)
 *              sources: n NUL-terminated paths (relative to the data dir, or "_silence_"), exactly filling the table
 *              features: n x h x w x c, uint8 or float32, sample-major, frame-major inside a sample (NHWC)
 *              u32 CRC-32 of every byte before it (version 2)
 * Invariant of the reader: the header is validated completely and the file size must equal the size the header
 * implies (computed with overflow checks) before anything is allocated, so a corrupt size field can never make
 * it allocate more than the file holds; every error names the file and the field. */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/data.h"
#include "qsnn/io.h"
#include "qsnn/snn.h" /* qsnn_label_valid */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FEAT_MAGIC "QSNNFEAT"
#define FEAT_VERSION 2u
#define FEAT_HEADER 64u
#define FEAT_FLAG_U8 1u
#define FEAT_MAX_DIM 65536u
#define FEAT_MAX_SOURCE 4096u /* bytes of one source path, NUL included */
#define CHUNK 4096

static void put_u64le(unsigned char *p, uint64_t v)
{
    qsnn_put_u32le(p, (uint32_t)v);
    qsnn_put_u32le(p + 4, (uint32_t)(v >> 32));
}
static uint64_t get_u64le(const unsigned char *p)
{
    return (uint64_t)qsnn_get_u32le(p) | ((uint64_t)qsnn_get_u32le(p + 4) << 32);
}
static void put_f32le(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    qsnn_put_u32le(p, u);
}
static float get_f32le(const unsigned char *p)
{
    uint32_t u = qsnn_get_u32le(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void qsnn_featureset_free(qsnn_featureset *fs)
{
    if (!fs)
        return;
    free(fs->f32);
    free(fs->u8);
    free(fs->label);
    free(fs->split);
    if (fs->source) {
        for (size_t i = 0; i < fs->n; i++)
            free(fs->source[i]);
        free(fs->source);
    }
    memset(fs, 0, sizeof *fs);
}

/* ---------------------------------------------------------------- save */

static qsnn_status check_set(const qsnn_featureset *fs, const char *path, size_t *count, size_t *src_bytes)
{
    if (fs->h < 1 || fs->w < 1 || (unsigned)fs->h > FEAT_MAX_DIM || (unsigned)fs->w > FEAT_MAX_DIM)
        return qsnn_fail(QSNN_ERR_ARG, "%s: feature shape %d x %d out of range", path, fs->h, fs->w);
    if (fs->num_labels < 1 || fs->num_labels > QSNN_MAX_LABELS)
        return qsnn_fail(QSNN_ERR_ARG, "%s: num_labels %d out of range [1, %d]", path, fs->num_labels,
                         QSNN_MAX_LABELS);
    for (int l = 0; l < fs->num_labels; l++)
        if (!memchr(fs->labels[l], '\0', QSNN_LABEL_MAX) || !fs->labels[l][0] || !qsnn_label_valid(fs->labels[l]))
            return qsnn_fail(QSNN_ERR_ARG, "%s: label %d empty, not NUL-terminated or with a character outside "
                                           QSNN_LABEL_CHARS, path, l);
    if (!qsnn_mul_size(count, fs->n, (size_t)fs->h * (size_t)fs->w))
        return qsnn_fail(QSNN_ERR_RANGE, "%s: %zu samples too many", path, fs->n);
    if (fs->n && (!fs->label || !fs->split || !fs->source || (fs->is_u8 ? !fs->u8 : !fs->f32)))
        return qsnn_fail(QSNN_ERR_ARG, "%s: feature set has missing arrays", path);
    if (!isfinite(fs->scale_min) || !isfinite(fs->scale_max) || fs->scale_min > fs->scale_max)
        return qsnn_fail(QSNN_ERR_ARG, "%s: scaling range [%g, %g] invalid", path, (double)fs->scale_min,
                         (double)fs->scale_max);
    *src_bytes = 0;
    for (size_t i = 0; i < fs->n; i++) {
        if (fs->label[i] < 0 || fs->label[i] >= fs->num_labels)
            return qsnn_fail(QSNN_ERR_ARG, "%s: sample %zu: label %d out of range", path, i, (int)fs->label[i]);
        if (fs->split[i] >= QSNN_SPLIT_COUNT)
            return qsnn_fail(QSNN_ERR_ARG, "%s: sample %zu: split %d out of range", path, i, (int)fs->split[i]);
        if (!fs->source[i])
            return qsnn_fail(QSNN_ERR_ARG, "%s: sample %zu: no source path", path, i);
        size_t len = strlen(fs->source[i]);
        if (len == 0 || len + 1 > FEAT_MAX_SOURCE)
            return qsnn_fail(QSNN_ERR_ARG, "%s: sample %zu: source path of %zu bytes", path, i, len);
        *src_bytes += len + 1;
    }
    return QSNN_OK;
}

static qsnn_status crc_write(qsnn_atomic_file *f, uint32_t *crc, const void *p, size_t n)
{
    *crc = qsnn_crc32(*crc, p, n);
    return qsnn_atomic_write(f, p, n);
}

/* Version 2: the CRC-32 of the first `body` bytes equals the 4-byte trailer after them. Leaves fp at the end of the
 * header, where the body's reader starts. */
static qsnn_status check_crc(FILE *fp, const char *path, size_t body)
{
    unsigned char buf[1 << 16];
    uint32_t crc = 0;
    if (fseek(fp, 0, SEEK_SET) != 0)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot seek", path);
    for (size_t done = 0; done < body;) {
        size_t m = body - done < sizeof buf ? body - done : sizeof buf;
        qsnn_status rc = qsnn_read_exact(fp, buf, m, path, "checksum pass");
        if (rc != QSNN_OK)
            return rc;
        crc = qsnn_crc32(crc, buf, m);
        done += m;
    }
    qsnn_status rc = qsnn_read_exact(fp, buf, 4, path, "checksum");
    if (rc != QSNN_OK)
        return rc;
    if (qsnn_get_u32le(buf) != crc)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: checksum mismatch (file %08x, content %08x): the file is corrupt; "
                                          "make it again with `qsnn features`", path, qsnn_get_u32le(buf), crc);
    if (fseek(fp, FEAT_HEADER, SEEK_SET) != 0)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot seek", path);
    return QSNN_OK;
}

qsnn_status qsnn_featureset_save(const qsnn_featureset *fs, const char *path)
{
    size_t count = 0, src_bytes = 0;
    qsnn_status rc = check_set(fs, path, &count, &src_bytes);
    if (rc != QSNN_OK)
        return rc;
    unsigned char hdr[FEAT_HEADER];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, FEAT_MAGIC, 8);
    qsnn_put_u32le(hdr + 8, FEAT_VERSION);
    qsnn_put_u32le(hdr + 12, FEAT_HEADER);
    qsnn_put_u32le(hdr + 16, fs->is_u8 ? FEAT_FLAG_U8 : 0);
    qsnn_put_u32le(hdr + 20, (uint32_t)fs->h);
    qsnn_put_u32le(hdr + 24, (uint32_t)fs->w);
    qsnn_put_u32le(hdr + 28, 1);
    qsnn_put_u32le(hdr + 32, (uint32_t)fs->num_labels);
    qsnn_put_u32le(hdr + 36, QSNN_LABEL_MAX);
    put_u64le(hdr + 40, (uint64_t)fs->n);
    put_u64le(hdr + 48, (uint64_t)src_bytes);
    put_f32le(hdr + 56, fs->scale_min);
    put_f32le(hdr + 60, fs->scale_max);

    qsnn_atomic_file f;
    rc = qsnn_atomic_open(&f, path);
    if (rc != QSNN_OK)
        return rc;
    uint32_t crc = 0;
    rc = crc_write(&f, &crc, hdr, sizeof hdr);
    for (int l = 0; l < fs->num_labels && rc == QSNN_OK; l++) {
        char name[QSNN_LABEL_MAX];
        memset(name, 0, sizeof name);
        strncpy(name, fs->labels[l], sizeof name - 1);
        rc = crc_write(&f, &crc, name, sizeof name);
    }
    unsigned char buf[CHUNK * 4];
    for (size_t i = 0; i < fs->n && rc == QSNN_OK; i += CHUNK) {
        size_t m = fs->n - i < CHUNK ? fs->n - i : CHUNK;
        for (size_t k = 0; k < m; k++)
            qsnn_put_u32le(buf + 4 * k, (uint32_t)fs->label[i + k]);
        rc = crc_write(&f, &crc, buf, 4 * m);
    }
    if (rc == QSNN_OK)
        rc = crc_write(&f, &crc, fs->split, fs->n);
    for (size_t i = 0; i < fs->n && rc == QSNN_OK; i++)
        rc = crc_write(&f, &crc, fs->source[i], strlen(fs->source[i]) + 1);
    if (fs->is_u8) {
        if (rc == QSNN_OK)
            rc = crc_write(&f, &crc, fs->u8, count);
    } else {
        for (size_t i = 0; i < count && rc == QSNN_OK; i += CHUNK) {
            size_t m = count - i < CHUNK ? count - i : CHUNK;
            for (size_t k = 0; k < m; k++)
                put_f32le(buf + 4 * k, fs->f32[i + k]);
            rc = crc_write(&f, &crc, buf, 4 * m);
        }
    }
    unsigned char tail[4];
    qsnn_put_u32le(tail, crc);
    if (rc == QSNN_OK)
        rc = qsnn_atomic_write(&f, tail, 4);
    if (rc != QSNN_OK) {
        qsnn_atomic_abort(&f);
        return rc;
    }
    return qsnn_atomic_commit(&f);
}

/* ---------------------------------------------------------------- load */

static qsnn_status field_range(const char *path, const char *field, uint64_t v, uint64_t lo, uint64_t hi)
{
    if (v < lo || v > hi)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: header: %s = %llu out of range [%llu, %llu]", path, field,
                         (unsigned long long)v, (unsigned long long)lo, (unsigned long long)hi);
    return QSNN_OK;
}

static qsnn_status load_body(qsnn_featureset *fs, FILE *fp, const char *path, size_t count, size_t src_bytes)
{
    unsigned char *buf = NULL;
    char *table = NULL;
    qsnn_status rc;
    for (int l = 0; l < fs->num_labels; l++) {
        rc = qsnn_read_exact(fp, fs->labels[l], QSNN_LABEL_MAX, path, "labels");
        if (rc != QSNN_OK)
            return rc;
        if (!memchr(fs->labels[l], '\0', QSNN_LABEL_MAX) || !fs->labels[l][0])
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: labels: name %d empty or not NUL-terminated", path, l);
        if (!qsnn_label_valid(fs->labels[l]))
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: labels: name %d has a character outside " QSNN_LABEL_CHARS,
                             path, l);
    }
    size_t n = fs->n;
    fs->label = malloc((n ? n : 1) * sizeof *fs->label);
    fs->split = malloc(n ? n : 1);
    fs->source = calloc(n ? n : 1, sizeof *fs->source);
    table = malloc(src_bytes ? src_bytes : 1);
    buf = malloc(CHUNK * 4);
    if (fs->is_u8)
        fs->u8 = malloc(count ? count : 1);
    else
        fs->f32 = malloc((count ? count : 1) * sizeof *fs->f32);
    if (!fs->label || !fs->split || !fs->source || !table || !buf || (fs->is_u8 ? !fs->u8 : !fs->f32)) {
        rc = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory for %zu samples", path, n);
        goto out;
    }
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        if ((rc = qsnn_read_exact(fp, buf, 4 * m, path, "sample labels")) != QSNN_OK)
            goto out;
        for (size_t k = 0; k < m; k++) {
            uint32_t v = qsnn_get_u32le(buf + 4 * k);
            if (v >= (uint32_t)fs->num_labels) {
                rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: sample labels: sample %zu has label %u, only %d labels", path,
                               i + k, v, fs->num_labels);
                goto out;
            }
            fs->label[i + k] = (int32_t)v;
        }
    }
    if ((rc = qsnn_read_exact(fp, fs->split, n, path, "sample splits")) != QSNN_OK)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (fs->split[i] >= QSNN_SPLIT_COUNT) {
            rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: sample splits: sample %zu has split %u", path, i,
                           (unsigned)fs->split[i]);
            goto out;
        }
    if ((rc = qsnn_read_exact(fp, table, src_bytes, path, "sources")) != QSNN_OK)
        goto out;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = table + pos;
        const char *nul = pos < src_bytes ? memchr(s, '\0', src_bytes - pos) : NULL;
        if (!nul) {
            rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: sources: table ends before the path of sample %zu", path, i);
            goto out;
        }
        size_t len = (size_t)(nul - s);
        if (len == 0 || len + 1 > FEAT_MAX_SOURCE) {
            rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: sources: path of sample %zu has %zu bytes", path, i, len);
            goto out;
        }
        fs->source[i] = malloc(len + 1);
        if (!fs->source[i]) {
            rc = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
            goto out;
        }
        memcpy(fs->source[i], s, len + 1);
        pos += len + 1;
    }
    if (pos != src_bytes) {
        rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: sources: %zu bytes left over after %zu paths", path, src_bytes - pos,
                       n);
        goto out;
    }
    if (fs->is_u8) {
        rc = qsnn_read_exact(fp, fs->u8, count, path, "features");
    } else {
        for (size_t i = 0; i < count; i += CHUNK) {
            size_t m = count - i < CHUNK ? count - i : CHUNK;
            if ((rc = qsnn_read_exact(fp, buf, 4 * m, path, "features")) != QSNN_OK)
                goto out;
            for (size_t k = 0; k < m; k++) {
                float v = get_f32le(buf + 4 * k);
                if (!isfinite(v)) {
                    rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: features: value %zu of sample %zu is not finite", path,
                                   (i + k) % ((size_t)fs->h * (size_t)fs->w), (i + k) / ((size_t)fs->h * (size_t)fs->w));
                    goto out;
                }
                fs->f32[i + k] = v;
            }
        }
    }
out:
    free(buf);
    free(table);
    return rc;
}

qsnn_status qsnn_featureset_load(qsnn_featureset *fs, const char *path)
{
    memset(fs, 0, sizeof *fs);
    FILE *fp;
    qsnn_status open_st = qsnn_open_regular(path, &fp);
    if (open_st != QSNN_OK)
        return open_st;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return qsnn_fail(QSNN_ERR_IO, "%s: not a regular file", path);
    }
    unsigned char hdr[FEAT_HEADER];
    memset(hdr, 0, sizeof hdr);
    qsnn_status rc = qsnn_read_exact(fp, hdr, sizeof hdr, path, "header");
    if (rc != QSNN_OK) {
        fclose(fp);
        /* a short file that does not even start with the magic is "not a feature file" */
        if ((size_t)st.st_size < 8 || memcmp(hdr, FEAT_MAGIC, 8) != 0)
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: header: not a qsnn feature file (%lld bytes, no QSNNFEAT magic)",
                             path, (long long)st.st_size);
        return rc;
    }
#define CHECK(expr)                                                                                              \
    do {                                                                                                         \
        if ((rc = (expr)) != QSNN_OK)                                                                            \
            goto fail;                                                                                           \
    } while (0)
    if (memcmp(hdr, FEAT_MAGIC, 8) != 0) {
        rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: header: bad magic (not a qsnn feature file)", path);
        goto fail;
    }
    uint32_t version = qsnn_get_u32le(hdr + 8);
    if (version != FEAT_VERSION && version != 1) {
        rc = qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: header: version %u not supported (this build reads version %u)",
                       path, version, FEAT_VERSION);
        goto fail;
    }
    CHECK(field_range(path, "header size", qsnn_get_u32le(hdr + 12), FEAT_HEADER, FEAT_HEADER));
    uint32_t flags = qsnn_get_u32le(hdr + 16);
    if (flags & ~FEAT_FLAG_U8) {
        rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: header: flags 0x%x has unknown bits", path, flags);
        goto fail;
    }
    uint32_t h = qsnn_get_u32le(hdr + 20), w = qsnn_get_u32le(hdr + 24);
    CHECK(field_range(path, "h", h, 1, FEAT_MAX_DIM));
    CHECK(field_range(path, "w", w, 1, FEAT_MAX_DIM));
    CHECK(field_range(path, "c", qsnn_get_u32le(hdr + 28), 1, 1));
    uint32_t nl = qsnn_get_u32le(hdr + 32);
    CHECK(field_range(path, "num_labels", nl, 1, QSNN_MAX_LABELS));
    CHECK(field_range(path, "label size", qsnn_get_u32le(hdr + 36), QSNN_LABEL_MAX, QSNN_LABEL_MAX));
    uint64_t n64 = get_u64le(hdr + 40), src64 = get_u64le(hdr + 48);
    float smin = get_f32le(hdr + 56), smax = get_f32le(hdr + 60);
    if (!isfinite(smin) || !isfinite(smax) || smin > smax) {
        rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: header: scaling range [%g, %g] invalid", path, (double)smin,
                       (double)smax);
        goto fail;
    }
    /* every sample needs at least 4 (label) + 1 (split) + 2 (source) + h*w bytes: bound n by the file size */
    uint64_t fsize = (uint64_t)st.st_size;
    if (n64 > fsize / 7) {
        rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: size: header claims n = %llu samples, the file has only %llu bytes "
                       "(truncated, or a corrupt n)", path, (unsigned long long)n64, (unsigned long long)fsize);
        goto fail;
    }
    if (src64 > fsize) {
        rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: size: header claims sources size = %llu bytes, the file has only %llu "
                       "(truncated, or a corrupt sources size)", path, (unsigned long long)src64,
                       (unsigned long long)fsize);
        goto fail;
    }
    CHECK(field_range(path, "sources size", src64, 2 * n64, fsize));
    size_t n = (size_t)n64, src_bytes = (size_t)src64, count, esz = (flags & FEAT_FLAG_U8) ? 1 : 4;
    size_t total = FEAT_HEADER + (size_t)nl * QSNN_LABEL_MAX, t;
    int ok = qsnn_mul_size(&count, n, (size_t)h * w) && qsnn_mul_size(&t, count, esz) &&
             qsnn_add_size(&total, total, t) && qsnn_mul_size(&t, n, 5) && qsnn_add_size(&total, total, t) &&
             qsnn_add_size(&total, total, src_bytes);
    if (!ok) {
        rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: header: n = %zu samples of %u x %u overflows", path, n, h, w);
        goto fail;
    }
    size_t body = total;
    if (version >= 2 && !qsnn_add_size(&total, total, 4)) {
        rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: header: size overflows", path);
        goto fail;
    }
    if (total != fsize) {
        rc = qsnn_fail(QSNN_ERR_FORMAT,
                       "%s: size: header implies %zu bytes (n = %zu, %u x %u %s), file has %llu (%s)", path, total,
                       n, h, w, esz == 1 ? "uint8" : "float32", (unsigned long long)fsize,
                       total > fsize ? "truncated" : "trailing data or corrupt header");
        goto fail;
    }
    if (version >= 2)
        CHECK(check_crc(fp, path, body));
    else
        qsnn_warn("%s: version 1 feature file: no checksum, corruption cannot be detected; make it again with "
                  "`qsnn features` to get one", path);
    fs->n = n;
    fs->h = (int)h;
    fs->w = (int)w;
    fs->num_labels = (int)nl;
    fs->is_u8 = (flags & FEAT_FLAG_U8) != 0;
    fs->scale_min = smin;
    fs->scale_max = smax;
    CHECK(load_body(fs, fp, path, count, src_bytes));
#undef CHECK
    fclose(fp);
    return QSNN_OK;
fail:
    fclose(fp);
    qsnn_featureset_free(fs);
    return rc;
}
