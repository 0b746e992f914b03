/* SPDX-License-Identifier: Apache-2.0 */
/* snn_meta.c: the optional metadata block of a .snn image (qsnn/snn_meta.h, docs/snn.md): where it starts (the
 * 4-byte aligned end of the last section any record or the header points to), its validation, reading, and
 * writing an image with a new block (size and CRC updated). libc only, no allocation.
 *
 * Invariant: after qsnn_snn_model_init, either the image ends at qsnn_snn_meta_offset (no block) or a block of
 * a known version with valid field values fills [offset, size) exactly.
 */
#include "qsnn/snn_meta.h"

#include <math.h>
#include <string.h>

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static float rdf32(const unsigned char *p)
{
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}
static void putf32(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put32(p, u);
}

static size_t end_of(size_t e, uint32_t off, size_t bytes) { return off && off + bytes > e ? off + bytes : e; }

size_t qsnn_snn_meta_offset(const qsnn_snn_model *m)
{
    const unsigned char *p = m->image;
    size_t e = QSNN_SNN_HEADER_SIZE + (size_t)m->num_layers * QSNN_SNN_RECORD_SIZE + rd32(p + 60);
    for (int i = 0; i < m->num_layers; i++) {
        const qsnn_snn_layer *l = &m->layers[i];
        size_t wb = l->weight_bits <= 4 ? 2 : 1;
        e = end_of(e, l->off_w, wb == 2 ? ((size_t)l->n_w + 1) / 2 : l->n_w);
        if (l->n_dw)
            e = end_of(e, l->off_dw, wb == 2 ? ((size_t)l->n_dw + 1) / 2 : l->n_dw);
        if (l->act_bits)
            e = end_of(e, l->off_th, 8 * (size_t)l->out_c);
    }
    return (e + 3) & ~(size_t)3;
}

static int fields_valid(uint32_t flags, float scale, float th, uint32_t avg, uint32_t sup, float fa, float miss)
{
    if (flags & ~(uint32_t)(QSNN_SNN_META_SCALE | QSNN_SNN_META_DETECT))
        return 0;
    if ((flags & QSNN_SNN_META_SCALE) && !(isfinite(scale) && scale > 0.0f))
        return 0;
    if ((flags & QSNN_SNN_META_DETECT) &&
        !(th > 0.0f && th <= 1.0f && avg >= 1 && avg <= 100000 && sup <= 3600000 && isfinite(fa) && fa >= 0.0f &&
          miss >= 0.0f && miss <= 1.0f))
        return 0;
    return 1;
}

qsnn_status qsnn_snn_meta_check(const unsigned char *image, size_t size, size_t off, const char *origin)
{
    if (off > size)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: sections end at %zu, beyond the file's %zu bytes", origin, off, size);
    if (off == size)
        return QSNN_OK; /* no block (every file written before it existed) */
    const unsigned char *b = image + off;
    size_t n = size - off;
    if (n < 16 || memcmp(b, QSNN_SNN_META_MAGIC, 8) != 0)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: %zu bytes after the last section and no metadata block there", origin,
                         n);
    uint32_t ver = rd32(b + 8), bs = rd32(b + 12);
    if (ver < 1)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: metadata block version %u", origin, (unsigned)ver);
    if (ver == 1 && n >= QSNN_SNN_META_SIZE && rd32(b + 44) != 0) /* reserved in version 1 */
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: metadata block version 1 with non-zero reserved bytes", origin);
    if (bs != n || bs < QSNN_SNN_META_SIZE || bs % 4)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: metadata block size %u, %zu bytes left in the file (>= %d, 4-aligned)",
                         origin, (unsigned)bs, n, QSNN_SNN_META_SIZE);
    if (!fields_valid(rd32(b + 16), rdf32(b + 20), rdf32(b + 24), rd32(b + 28), rd32(b + 32), rdf32(b + 36),
                      rdf32(b + 40)))
        return qsnn_fail(QSNN_ERR_FORMAT,
                         "%s: metadata block: invalid values (flags 0x%x, logit_scale %g, threshold %g, average %u "
                         "ms, suppression %u ms)",
                         origin, (unsigned)rd32(b + 16), (double)rdf32(b + 20), (double)rdf32(b + 24),
                         (unsigned)rd32(b + 28), (unsigned)rd32(b + 32));
    return QSNN_OK;
}

void qsnn_snn_meta_get(const qsnn_snn_model *m, qsnn_snn_meta *meta)
{
    memset(meta, 0, sizeof *meta);
    size_t off = qsnn_snn_meta_offset(m);
    if (off + QSNN_SNN_META_SIZE > m->size)
        return;
    const unsigned char *b = m->image + off;
    meta->flags = rd32(b + 16);
    meta->logit_scale = rdf32(b + 20);
    meta->threshold = rdf32(b + 24);
    meta->average_ms = rd32(b + 28);
    meta->suppress_ms = rd32(b + 32);
    meta->calib_fa_per_hour = rdf32(b + 36);
    meta->calib_miss_rate = rdf32(b + 40);
    meta->writer_version = rd32(b + 8) >= 2 ? rd32(b + 44) : 0;
}

qsnn_status qsnn_snn_meta_write(const qsnn_snn_model *m, const qsnn_snn_meta *meta, void *dst, size_t cap,
                                size_t *size)
{
    size_t off = qsnn_snn_meta_offset(m), total = off + QSNN_SNN_META_SIZE;
    *size = 0;
    if (!dst || cap < total)
        return qsnn_fail(QSNN_ERR_ARG, "snn metadata: %zu bytes of room, need %zu", cap, total);
    if (!fields_valid(meta->flags, meta->logit_scale, meta->threshold, meta->average_ms, meta->suppress_ms,
                      meta->calib_fa_per_hour, meta->calib_miss_rate))
        return qsnn_fail(QSNN_ERR_ARG, "snn metadata: invalid values (flags 0x%x, logit_scale %g, threshold %g)",
                         (unsigned)meta->flags, (double)meta->logit_scale, (double)meta->threshold);
    unsigned char *o = dst;
    memcpy(o, m->image, off);
    unsigned char *b = o + off;
    memset(b, 0, QSNN_SNN_META_SIZE);
    memcpy(b, QSNN_SNN_META_MAGIC, 8);
    put32(b + 8, QSNN_SNN_META_VERSION);
    put32(b + 12, QSNN_SNN_META_SIZE);
    put32(b + 16, meta->flags);
    putf32(b + 20, meta->logit_scale);
    putf32(b + 24, meta->threshold);
    put32(b + 28, meta->average_ms);
    put32(b + 32, meta->suppress_ms);
    putf32(b + 36, meta->calib_fa_per_hour);
    putf32(b + 40, meta->calib_miss_rate);
    put32(b + 44, meta->writer_version);
    put32(o + 16, (uint32_t)total);
    put32(o + 20, 0);
    put32(o + 20, qsnn_crc32(0, o, total));
    *size = total;
    return QSNN_OK;
}
