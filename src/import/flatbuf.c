/* SPDX-License-Identifier: Apache-2.0 */
/* flatbuf.c: the bounds-checked FlatBuffers reader (flatbuf_internal.h). Every position is a size_t inside [0, size);
 * sums are formed in uint64_t after checking each term, so a hostile offset or length can neither wrap nor
 * point outside the buffer. */
#include "import/flatbuf_internal.h"

#include <string.h>

static uint16_t rd16(const qsnn_fb *fb, size_t p)
{
    return (uint16_t)(fb->buf[p] | (fb->buf[p + 1] << 8));
}

static uint32_t rd32(const qsnn_fb *fb, size_t p)
{
    const uint8_t *b = fb->buf + p;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static int fits(const qsnn_fb *fb, uint64_t pos, uint64_t n) { return pos <= fb->size && n <= fb->size - pos; }

static qsnn_status bad(const qsnn_fb *fb, const char *what, const char *problem, uint64_t v)
{
    return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s: %s (%llu; the file has %zu bytes)", fb->origin, what, problem,
                     (unsigned long long)v, fb->size);
}

static qsnn_status table_at(const qsnn_fb *fb, uint64_t pos, qsnn_fb_table *t, const char *what)
{
    if (!fits(fb, pos, 4))
        return bad(fb, what, "table offset outside the file", pos);
    int32_t so;
    uint32_t u = rd32(fb, (size_t)pos);
    memcpy(&so, &u, sizeof so);
    int64_t vt = (int64_t)pos - (int64_t)so;
    if (vt < 0 || !fits(fb, (uint64_t)vt, 4))
        return bad(fb, what, "vtable outside the file", (uint64_t)(vt < 0 ? -vt : vt));
    uint16_t vs = rd16(fb, (size_t)vt), ts = rd16(fb, (size_t)vt + 2);
    if (vs < 4 || (vs & 1) || !fits(fb, (uint64_t)vt, vs))
        return bad(fb, what, "vtable size invalid or past the end of the file", vs);
    if (ts < 4 || !fits(fb, pos, ts))
        return bad(fb, what, "table size invalid or past the end of the file", ts);
    t->pos = (size_t)pos;
    t->vt = (size_t)vt;
    t->vt_size = vs;
    t->tbl_size = ts;
    return QSNN_OK;
}

qsnn_status qsnn_fb_root(const qsnn_fb *fb, qsnn_fb_table *t)
{
    if (!fb->buf || fb->size < 8)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: %zu bytes, too short for a flatbuffer", fb->origin, fb->size);
    return table_at(fb, rd32(fb, 0), t, "root table");
}

/* Position of field id inside the table, or 0 when absent; checks `width` bytes fit in the table. */
static qsnn_status field_pos(const qsnn_fb *fb, const qsnn_fb_table *t, int id, size_t width, size_t *pos,
                             const char *what)
{
    *pos = 0;
    if (id < 0)
        return qsnn_fail(QSNN_ERR_ARG, "%s: %s: bad field id %d", fb->origin, what, id);
    uint64_t slot = 4 + 2 * (uint64_t)id;
    if (slot + 2 > t->vt_size)
        return QSNN_OK;
    uint16_t off = rd16(fb, t->vt + (size_t)slot);
    if (off == 0)
        return QSNN_OK;
    if (off < 4 || (uint64_t)off + width > t->tbl_size)
        return bad(fb, what, "field offset outside its table", off);
    *pos = t->pos + off;
    return QSNN_OK;
}

/* The W little-endian bytes of scalar field id into *v; *v = def_bits when absent. */
static qsnn_status scalar(const qsnn_fb *fb, const qsnn_fb_table *t, int id, size_t W, uint64_t def_bits,
                          uint64_t *v, const char *what)
{
    size_t p;
    qsnn_status st = field_pos(fb, t, id, W, &p, what);
    *v = def_bits;
    if (st != QSNN_OK || !p)
        return st;
    uint64_t x = 0;
    for (size_t k = W; k-- > 0;)
        x = (x << 8) | fb->buf[p + k];
    *v = x;
    return QSNN_OK;
}

qsnn_status qsnn_fb_u8(const qsnn_fb *fb, const qsnn_fb_table *t, int id, uint8_t def, uint8_t *out,
                       const char *what)
{
    uint64_t v;
    qsnn_status st = scalar(fb, t, id, 1, def, &v, what);
    *out = (uint8_t)v;
    return st;
}

qsnn_status qsnn_fb_u32(const qsnn_fb *fb, const qsnn_fb_table *t, int id, uint32_t def, uint32_t *out,
                        const char *what)
{
    uint64_t v;
    qsnn_status st = scalar(fb, t, id, 4, def, &v, what);
    *out = (uint32_t)v;
    return st;
}

qsnn_status qsnn_fb_i32(const qsnn_fb *fb, const qsnn_fb_table *t, int id, int32_t def, int32_t *out,
                        const char *what)
{
    uint32_t d, u;
    memcpy(&d, &def, sizeof d);
    qsnn_status st = qsnn_fb_u32(fb, t, id, d, &u, what);
    memcpy(out, &u, sizeof u);
    return st;
}

qsnn_status qsnn_fb_u64(const qsnn_fb *fb, const qsnn_fb_table *t, int id, uint64_t def, uint64_t *out,
                        const char *what)
{
    return scalar(fb, t, id, 8, def, out, what);
}

qsnn_status qsnn_fb_f32(const qsnn_fb *fb, const qsnn_fb_table *t, int id, float def, float *out,
                        const char *what)
{
    uint32_t d, u;
    memcpy(&d, &def, sizeof d);
    qsnn_status st = qsnn_fb_u32(fb, t, id, d, &u, what);
    memcpy(out, &u, sizeof u);
    return st;
}

/* Target of the offset field id: 0 when absent. */
static qsnn_status deref(const qsnn_fb *fb, const qsnn_fb_table *t, int id, uint64_t *target, const char *what)
{
    size_t p;
    qsnn_status st = field_pos(fb, t, id, 4, &p, what);
    *target = 0;
    if (st != QSNN_OK || !p)
        return st;
    uint64_t tg = (uint64_t)p + rd32(fb, p);
    if (tg >= fb->size)
        return bad(fb, what, "offset points past the end of the file", tg);
    *target = tg;
    return QSNN_OK;
}

qsnn_status qsnn_fb_table_field(const qsnn_fb *fb, const qsnn_fb_table *t, int id, qsnn_fb_table *out,
                                int *present, const char *what)
{
    uint64_t tg;
    *present = 0;
    qsnn_status st = deref(fb, t, id, &tg, what);
    if (st != QSNN_OK || !tg)
        return st;
    st = table_at(fb, tg, out, what);
    *present = st == QSNN_OK;
    return st;
}

static qsnn_status vec_at(const qsnn_fb *fb, uint64_t pos, uint32_t elem, qsnn_fb_vec *out, const char *what)
{
    if (!fits(fb, pos, 4))
        return bad(fb, what, "vector offset outside the file", pos);
    uint32_t len = rd32(fb, (size_t)pos);
    if (!fits(fb, pos + 4, (uint64_t)len * elem))
        return bad(fb, what, "vector length runs past the end of the file", len);
    out->pos = (size_t)pos + 4;
    out->len = len;
    out->elem = elem;
    return QSNN_OK;
}

qsnn_status qsnn_fb_vec_field(const qsnn_fb *fb, const qsnn_fb_table *t, int id, uint32_t elem, qsnn_fb_vec *out,
                              const char *what)
{
    uint64_t tg;
    out->pos = 0;
    out->len = 0;
    out->elem = elem;
    qsnn_status st = deref(fb, t, id, &tg, what);
    if (st != QSNN_OK || !tg)
        return st;
    return vec_at(fb, tg, elem, out, what);
}

qsnn_status qsnn_fb_vec_table(const qsnn_fb *fb, const qsnn_fb_vec *v, uint32_t i, qsnn_fb_table *out,
                              const char *what)
{
    if (i >= v->len || v->elem != 4)
        return qsnn_fail(QSNN_ERR_ARG, "%s: %s: element %u of %u", fb->origin, what, i, v->len);
    size_t p = v->pos + (size_t)i * 4;
    return table_at(fb, (uint64_t)p + rd32(fb, p), out, what);
}

qsnn_status qsnn_fb_string(const qsnn_fb *fb, const qsnn_fb_table *t, int id, char *out, size_t cap,
                           const char *what)
{
    qsnn_fb_vec v;
    if (cap)
        out[0] = '\0';
    qsnn_status st = qsnn_fb_vec_field(fb, t, id, 1, &v, what);
    if (st != QSNN_OK || !v.len || !cap)
        return st;
    size_t n = v.len < cap - 1 ? v.len : cap - 1;
    memcpy(out, fb->buf + v.pos, n);
    out[n] = '\0';
    for (size_t k = 0; k < n; k++) /* names go into messages and JSON: keep them printable */
        if ((unsigned char)out[k] < 32 || (unsigned char)out[k] > 126)
            out[k] = '?';
    return QSNN_OK;
}

int32_t qsnn_fb_vec_i32(const qsnn_fb *fb, const qsnn_fb_vec *v, uint32_t i)
{
    uint32_t u = rd32(fb, v->pos + (size_t)i * 4);
    int32_t s;
    memcpy(&s, &u, sizeof s);
    return s;
}

int64_t qsnn_fb_vec_i64(const qsnn_fb *fb, const qsnn_fb_vec *v, uint32_t i)
{
    size_t p = v->pos + (size_t)i * 8;
    uint64_t u = (uint64_t)rd32(fb, p) | ((uint64_t)rd32(fb, p + 4) << 32);
    int64_t s;
    memcpy(&s, &u, sizeof s);
    return s;
}

float qsnn_fb_vec_f32(const qsnn_fb *fb, const qsnn_fb_vec *v, uint32_t i)
{
    uint32_t u = rd32(fb, v->pos + (size_t)i * 4);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
