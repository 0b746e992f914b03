/* SPDX-License-Identifier: Apache-2.0 */
/* model_file.c: the versioned model file (qsnn_model_save / qsnn_model_load). Format in docs/model.md:
 *
 *   off size field (all integers and floats little-endian)
 *    0   8   magic "QSNNMODL"
 *    8   4   u32 version (2; 1 is still read)
 *   12   4   u32 header size (64: offset of the arch JSON)
 *   16   4   u32 flags: bit 0 quant_acts, bit 1 quant_weights (other bits 0)
 *   20   4   u32 episode (0..3)
 *   24   4   u32 arch JSON length in bytes (1..1 MiB)
 *   28   4   u32 number of labels (= classes)
 *   32   4   u32 bytes per label (32, NUL-padded)
 *   36   4   f32 scale_min
 *   40   4   f32 scale_max
 *   44   4   f32 bn_eps
 *   48   8   u64 number of float32 parameters (= qsnn_arch_param_count of the arch)
 *   56   4   u32 writer version: QSNN_VERSION_U32 of the qsnn that saved it (version 2; 0 and reserved in 1)
 *   60   4   reserved, 0
 *   64       arch JSON (qsnn_arch_to_json, no NUL), labels, parameters (float32, model.c's layout)
 *   end-4 4  u32 CRC-32 of every byte before it
 *
 * Invariants: the loader checks the header and that every length adds up exactly to the file size before it
 * allocates anything (the one allocation is bounded by the real file size), then the checksum, then the arch
 * (parse + validate) against the parameter count. Errors name the file and the field. Writes are atomic.
 */
#define _POSIX_C_SOURCE 200809L /* fileno */
#include "qsnn/io.h"
#include "qsnn/snn.h" /* qsnn_label_valid */
#include "qsnn/model.h"
#include "qsnn/version.h"

#include "model/model_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MODEL_VERSION 2u /* 2 (qsnn 0.2.0): the writer version at 56; 1 (0.1.0) had 0 there */
#define MODEL_HEADER 64u
#define MODEL_JSON_MAX (1u << 20)
#define MODEL_FILE_MAX ((uint64_t)2 << 30) /* 2 GiB: far above any model this project builds */
#define FLAG_QUANT_ACTS 1u
#define FLAG_QUANT_WEIGHTS 2u

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void put_u64le(unsigned char *p, uint64_t v)
{
    qsnn_put_u32le(p, (uint32_t)v);
    qsnn_put_u32le(p + 4, (uint32_t)(v >> 32));
}
static uint64_t get_u64le(const unsigned char *p)
{
    return (uint64_t)qsnn_get_u32le(p) | ((uint64_t)qsnn_get_u32le(p + 4) << 32);
}

/* write + CRC in one step */
static qsnn_status put(qsnn_atomic_file *f, uint32_t *crc, const void *data, size_t n)
{
    *crc = qsnn_crc32(*crc, data, n);
    return qsnn_atomic_write(f, data, n);
}

qsnn_status qsnn_model_save(const qsnn_model *m, const char *path)
{
    if (!m || !path || !m->params)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_model_save: NULL model or path");
    if (m->num_labels != m->arch.num_classes)
        return qsnn_fail(QSNN_ERR_ARG, "%s: model has %d labels for %d classes", path, m->num_labels,
                         m->arch.num_classes);
    char *json = NULL;
    qsnn_status st = qsnn_arch_to_json(&m->arch, &json);
    if (st)
        return st;
    size_t json_len = strlen(json);
    unsigned char h[MODEL_HEADER];
    memset(h, 0, sizeof h);
    memcpy(h, QSNN_MODEL_MAGIC, 8);
    qsnn_put_u32le(h + 8, MODEL_VERSION);
    qsnn_put_u32le(h + 12, MODEL_HEADER);
    qsnn_put_u32le(h + 16, (m->quant_acts ? FLAG_QUANT_ACTS : 0) | (m->quant_weights ? FLAG_QUANT_WEIGHTS : 0));
    qsnn_put_u32le(h + 20, (uint32_t)m->episode);
    qsnn_put_u32le(h + 24, (uint32_t)json_len);
    qsnn_put_u32le(h + 28, (uint32_t)m->num_labels);
    qsnn_put_u32le(h + 32, QSNN_LABEL_MAX);
    qsnn_put_u32le(h + 36, f32_bits(m->scale_min));
    qsnn_put_u32le(h + 40, f32_bits(m->scale_max));
    qsnn_put_u32le(h + 44, f32_bits(m->bn_eps));
    put_u64le(h + 48, (uint64_t)m->num_params);
    qsnn_put_u32le(h + 56, QSNN_VERSION_U32);

    qsnn_atomic_file f;
    st = qsnn_atomic_open(&f, path);
    if (st) {
        free(json);
        return st;
    }
    uint32_t crc = 0;
    st = put(&f, &crc, h, sizeof h);
    if (!st)
        st = put(&f, &crc, json, json_len);
    free(json);
    for (int i = 0; !st && i < m->num_labels; i++) {
        char lab[QSNN_LABEL_MAX];
        memset(lab, 0, sizeof lab);
        snprintf(lab, sizeof lab, "%s", m->labels[i]);
        st = put(&f, &crc, lab, sizeof lab);
    }
    unsigned char buf[4096];
    for (size_t k = 0; !st && k < m->num_params;) {
        size_t n = m->num_params - k;
        if (n > sizeof buf / 4)
            n = sizeof buf / 4;
        for (size_t j = 0; j < n; j++)
            qsnn_put_u32le(buf + 4 * j, f32_bits(m->params[k + j]));
        st = put(&f, &crc, buf, 4 * n);
        k += n;
    }
    if (!st) {
        unsigned char t[4];
        qsnn_put_u32le(t, crc);
        st = qsnn_atomic_write(&f, t, 4);
    }
    if (st) {
        qsnn_atomic_abort(&f);
        return st;
    }
    return qsnn_atomic_commit(&f);
}

qsnn_status qsnn_model_load(qsnn_model *m, const char *path)
{
    if (!m || !path)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_model_load: NULL argument");
    memset(m, 0, sizeof *m);
    FILE *fp;
    qsnn_status open_st = qsnn_open_regular(path, &fp);
    if (open_st != QSNN_OK)
        return open_st;
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(fp);
        return qsnn_fail(QSNN_ERR_IO, "%s: not a regular file", path);
    }
    uint64_t fsize = (uint64_t)sb.st_size;
    unsigned char h[MODEL_HEADER];
    qsnn_status st = QSNN_OK;
    unsigned char *body = NULL;
    char *json = NULL;
#define BAD(...)                                                                                                  \
    do {                                                                                                          \
        st = qsnn_fail(QSNN_ERR_FORMAT, __VA_ARGS__);                                                             \
        goto done;                                                                                                \
    } while (0)
    if (fsize < 8 || fread(h, 1, 8, fp) != 8)
        BAD("%s: truncated (magic): %llu bytes", path, (unsigned long long)fsize);
    if (memcmp(h, QSNN_MODEL_MAGIC, 8) != 0)
        BAD("%s: magic: not a qsnn model file (expected \"QSNNMODL\")", path);
    if (fsize < MODEL_HEADER + 4 || fread(h + 8, 1, MODEL_HEADER - 8, fp) != MODEL_HEADER - 8)
        BAD("%s: truncated (header): %llu bytes", path, (unsigned long long)fsize);
    uint32_t version = qsnn_get_u32le(h + 8), hsize = qsnn_get_u32le(h + 12), flags = qsnn_get_u32le(h + 16);
    uint32_t episode = qsnn_get_u32le(h + 20), json_len = qsnn_get_u32le(h + 24);
    uint32_t nlab = qsnn_get_u32le(h + 28), lab_size = qsnn_get_u32le(h + 32);
    float scale_min = bits_f32(qsnn_get_u32le(h + 36)), scale_max = bits_f32(qsnn_get_u32le(h + 40));
    float bn_eps = bits_f32(qsnn_get_u32le(h + 44));
    uint64_t nparams = get_u64le(h + 48);
    uint32_t writer = qsnn_get_u32le(h + 56), reserved = qsnn_get_u32le(h + 60);
    if (version != 1 && version != MODEL_VERSION)
        BAD("%s: version: %u is not supported (this build reads versions 1 and %u)", path, version, MODEL_VERSION);
    if (version == 1 && writer != 0)
        BAD("%s: reserved header bytes are not zero", path);
    if (hsize != MODEL_HEADER)
        BAD("%s: header size: %u, expected %u", path, hsize, MODEL_HEADER);
    if (flags & ~(FLAG_QUANT_ACTS | FLAG_QUANT_WEIGHTS))
        BAD("%s: flags: unknown bits 0x%x", path, flags);
    if (episode > 3)
        BAD("%s: episode: %u out of range 0..3", path, episode);
    if (json_len < 2 || json_len > MODEL_JSON_MAX)
        BAD("%s: arch JSON length: %u out of range 2..%u", path, json_len, MODEL_JSON_MAX);
    if (nlab < 2 || nlab > QSNN_MAX_LABELS)
        BAD("%s: label count: %u out of range 2..%d", path, nlab, QSNN_MAX_LABELS);
    if (lab_size != QSNN_LABEL_MAX)
        BAD("%s: label size: %u, expected %d", path, lab_size, QSNN_LABEL_MAX);
    if (!isfinite(scale_min) || !isfinite(scale_max))
        BAD("%s: scaling range: not finite", path);
    if (!(bn_eps > 0.0f && bn_eps < 1.0f))
        BAD("%s: bn_eps: %g out of range (0, 1)", path, (double)bn_eps);
    if (reserved != 0)
        BAD("%s: reserved header bytes are not zero", path);
    if (nparams > (MODEL_FILE_MAX - 4) / 4)
        BAD("%s: parameter count: %llu is absurd", path, (unsigned long long)nparams);
    uint64_t expect = (uint64_t)MODEL_HEADER + json_len + (uint64_t)nlab * lab_size + nparams * 4 + 4;
    if (expect != fsize)
        BAD("%s: size: the header describes %llu bytes but the file has %llu (truncated or corrupt)", path,
            (unsigned long long)expect, (unsigned long long)fsize);

    /* every length is consistent with the file: read the rest (bounded by the file size checked above) */
    size_t body_len = (size_t)(fsize - MODEL_HEADER);
    body = malloc(body_len);
    if (!body) {
        st = qsnn_fail(QSNN_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, body_len);
        goto done;
    }
    if (fread(body, 1, body_len, fp) != body_len)
        BAD("%s: truncated (payload)", path);
    uint32_t crc = qsnn_crc32(qsnn_crc32(0, h, MODEL_HEADER), body, body_len - 4);
    uint32_t stored = qsnn_get_u32le(body + body_len - 4);
    if (crc != stored)
        BAD("%s: checksum: CRC-32 0x%08x does not match the stored 0x%08x (corrupt file)", path, crc, stored);

    json = malloc((size_t)json_len + 1);
    if (!json) {
        st = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    memcpy(json, body, json_len);
    json[json_len] = '\0';
    if (strlen(json) != json_len)
        BAD("%s: arch JSON: contains a NUL byte", path);
    char origin[4200];
    snprintf(origin, sizeof origin, "%s: arch JSON", path);
    qsnn_arch arch;
    st = qsnn_arch_from_json(&arch, json, origin);
    if (st)
        goto done;
    size_t want = qsnn_arch_param_count(&arch, NULL);
    if (nparams != want)
        BAD("%s: parameter count: %llu, the architecture needs %zu", path, (unsigned long long)nparams, want);
    if ((int)nlab != arch.num_classes)
        BAD("%s: label count: %u labels for %d classes", path, nlab, arch.num_classes);
    const unsigned char *labs = body + json_len;
    for (uint32_t i = 0; i < nlab; i++) {
        const unsigned char *lab = labs + (size_t)i * lab_size;
        if (!memchr(lab, 0, lab_size) || lab[0] == 0)
            BAD("%s: label %u: empty or not NUL-terminated", path, i);
        if (!qsnn_label_valid((const char *)lab))
            BAD("%s: label %u: a character outside " QSNN_LABEL_CHARS, path, i);
    }

    st = qsnn_model_alloc(m, &arch);
    if (st)
        goto done;
    for (uint32_t i = 0; i < nlab; i++)
        memcpy(m->labels[i], labs + (size_t)i * lab_size, QSNN_LABEL_MAX);
    m->num_labels = (int)nlab;
    const unsigned char *pp = labs + (size_t)nlab * lab_size;
    for (size_t k = 0; k < m->num_params; k++) {
        m->params[k] = bits_f32(qsnn_get_u32le(pp + 4 * k));
        if (!isfinite(m->params[k])) /* a NaN model passes its checksum and predicts class 0 for everything */
            BAD("%s: parameter %zu of %zu is %g: the model is not usable (a diverged training?)", path, k,
                m->num_params, (double)m->params[k]);
    }
    m->quant_acts = (flags & FLAG_QUANT_ACTS) != 0;
    m->quant_weights = (flags & FLAG_QUANT_WEIGHTS) != 0;
    m->episode = (int)episode;
    m->scale_min = scale_min;
    m->scale_max = scale_max;
    m->bn_eps = bn_eps;
    m->writer_version = writer;
#undef BAD
done:
    free(json);
    free(body);
    fclose(fp);
    if (st)
        qsnn_model_free(m);
    return st;
}
