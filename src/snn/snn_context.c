/* SPDX-License-Identifier: Apache-2.0 */
/* snn_context.c: the context of an inference in caller memory: the memory sizes,
 * the scratch layout of every layer, the weight cache of cached contexts and qsnn_snn_init (libc only;
 * the workspace layout is described in engine_internal.h). */
#include "snn/engine_internal.h"

/* The depthwise sums of a separable layer fit int16 (dense path precondition). */
int qsnn_snn_dw_fits_s16(const qsnn_snn_model *m, int li)
{
    const qsnn_snn_layer *l = &m->layers[li];
    int kk = l->kh * l->kw;
    for (int c = 0; c < l->in_c; c++) {
        long b = 0;
        for (int t = 0; t < kk; t++) {
            int w = qsnn_snn_weight(m, li, 1, (size_t)t * (size_t)l->in_c + (size_t)c);
            b += (w < 0 ? -w : w);
        }
        if (b * max_in(l) > 32767)
            return 0;
    }
    return 1;
}

/* cached: the context has the weight cache (no packing buffer; a second col and pot for pixel pairs). */
size_t qsnn_snn_layout(const qsnn_snn_layer *l, int mode, int dense_ok, int cached, unsigned char *base,
                     scratch_ptrs *p)
{
    size_t off = 0;
    int F = l->out_c, C = l->in_c;
    int sep = l->type == QSNN_SNN_SEPARABLE;
#define CARVE(field, type, count)                                                                                    \
    do {                                                                                                             \
        if (base)                                                                                                    \
            p->field = (type *)(void *)(base + off);                                                                 \
        off = sat_add(off, up(sat_mul((size_t)(count), sizeof(type))));                                              \
    } while (0)
    if (base)
        memset(p, 0, sizeof *p);
    CARVE(lv, uint8_t, 2 * (size_t)F); /* levels of a pixel; two weight rows when packing pairs */
    CARVE(gap, int32_t, F);
    CARVE(pot, int32_t, F);
    if (mode == QSNN_SNN_EVENT && l->type != QSNN_SNN_FC) {
        CARVE(ring, int32_t, count3((size_t)ring_rows(l), (size_t)l->conv_w, (size_t)(sep ? C : F)));
        if (sep) { /* the non-zero depthwise potentials of a pixel, as pairs, for the sparse gemv */
            CARVE(col, int16_t, (size_t)C + 1);
            CARVE(idx, int32_t, (size_t)C / 2 + 1);
        }
    } else if (mode == QSNN_SNN_DENSE && dense_ok) {
        size_t k = sep ? (size_t)C : (size_t)l->kh * (size_t)l->kw * (size_t)C;
        size_t k2 = (k + 1) & ~(size_t)1;
        CARVE(col, int16_t, k2 + IM2COL_SLACK);
        if (cached) {
            CARVE(col2, int16_t, k2 + IM2COL_SLACK);
            CARVE(pot2, int32_t, F);
            if (sep) {
                CARVE(ucol, uint8_t, quads(C) * 4);
                CARVE(ucol2, uint8_t, quads(C) * 4);
                if (l->pool)
                    CARVE(dwsum, int32_t, C);
            }
            if (!sep || has_dwp(l))
                CARVE(padded, uint8_t,
                      sat_add(count3((size_t)padded_h(l), (size_t)padded_w(l), (size_t)C), IM2COL_SLACK));
        } else {
            CARVE(w2, int8_t, sat_mul(k2, (size_t)F));
        }
        if (sep) {
            CARVE(dw16, int16_t, count3((size_t)l->kh, (size_t)l->kw, (size_t)C));
            CARVE(rows, uint8_t, count3((size_t)l->kh, (size_t)l->in_w, (size_t)C));
        }
    } else if (sep) {
        CARVE(dwv, int32_t, C);
    }
#undef CARVE
    return off;
}

size_t qsnn_snn_act_mem_size(const qsnn_snn_model *m)
{
    size_t act = 0;
    for (int i = 0; i + 1 < m->num_layers; i++) {
        const qsnn_snn_layer *l = &m->layers[i];
        size_t b = (count_of(l->out_h, l->out_w, l->out_c) + 1) / 2;
        if (b > act)
            act = b;
    }
    return sat_add(sat_mul(2, up(act)), up((size_t)m->num_classes * 4));
}

static size_t scratch_max(const qsnn_snn_model *m, int cached)
{
    size_t scratch = 0;
    for (int i = 0; i < m->num_layers; i++) {
        const qsnn_snn_layer *l = &m->layers[i];
        int dok = l->type != QSNN_SNN_FC && (l->type != QSNN_SNN_SEPARABLE || qsnn_snn_dw_fits_s16(m, i));
        for (int mode = 0; mode < 3; mode++) {
            size_t s = qsnn_snn_layout(l, mode, dok, cached, NULL, NULL);
            if (s > scratch)
                scratch = s;
        }
    }
    return scratch;
}

size_t qsnn_snn_mem_size(const qsnn_snn_model *m)
{
    return sat_add(sat_add(up(sizeof(struct qsnn_snn_ctx)), qsnn_snn_act_mem_size(m)),
                   sat_add(scratch_max(m, 0), ALIGN));
}

/* Bytes of the int16 weight cache of one layer (0 when the layer does not run the dense path). */
/* w16[k/2][f][k%2] = w[k][f] (zero row for odd K) and dw16 = depthwise kernel, as int16. */
static void fill_cache(const qsnn_snn_model *m, int li, int16_t *w16, int16_t *dw16)
{
    const qsnn_snn_layer *l = &m->layers[li];
    int sep = l->type == QSNN_SNN_SEPARABLE, F = l->out_c;
    size_t K = sep ? (size_t)l->in_c : (size_t)l->kh * (size_t)l->kw * (size_t)l->in_c;
    size_t k2 = (K + 1) & ~(size_t)1;
    for (size_t k = 0; k < k2; k++)
        for (int f = 0; f < F; f++)
            w16[((k / 2) * (size_t)F + (size_t)f) * 2 + (k & 1)] =
                (int16_t)(k < K ? qsnn_snn_weight(m, li, 0, k * (size_t)F + (size_t)f) : 0);
    if (sep && dw16)
        for (size_t i = 0; i < (size_t)l->kh * (size_t)l->kw * (size_t)l->in_c; i++)
            dw16[i] = (int16_t)qsnn_snn_weight(m, li, 1, i);
}

/* Per-neuron fire constants of cached contexts: qsnn_snn_fire_pre_fill's two doubles per neuron. */
static size_t fire_pre_bytes(const qsnn_snn_layer *l) { return l->act_bits ? up(2 * (size_t)l->out_c * 8) : 0; }

static void fill_fire_pre(const qsnn_snn_model *m, int li, double *pre)
{
    const qsnn_snn_layer *l = &m->layers[li];
    int F = l->out_c;
    const int32_t *t = (const int32_t *)(const void *)(m->image + l->off_th);
    qsnn_snn_fire_pre_fill(pre, t, t + F, F, l->frac_bits);
}

/* The weight cache of one layer, in this order: w16, dw16 (separable), w8q and bias8 (has_w8q), dwp (has_dwp),
 * fire constants (activated layers); 0 bytes when the layer does not run the dense path. */
typedef struct {
    size_t w16, dw16, w8q, bias8, dwp, fpre;
} cache_sizes;

static size_t cache_bytes(const qsnn_snn_model *m, int i, cache_sizes *z)
{
    const qsnn_snn_layer *l = &m->layers[i];
    memset(z, 0, sizeof *z);
    if (l->type == QSNN_SNN_FC || (l->type == QSNN_SNN_SEPARABLE && !qsnn_snn_dw_fits_s16(m, i)))
        return 0;
    int sep = l->type == QSNN_SNN_SEPARABLE;
    size_t K = sep ? (size_t)l->in_c : (size_t)l->kh * (size_t)l->kw * (size_t)l->in_c;
    size_t k2 = (K + 1) & ~(size_t)1;
    z->w16 = up(count3(k2, (size_t)l->out_c, 2)); /* 15x15x4096 x 4096 x 2 passes 2^32 */
    z->dw16 = sep ? up((size_t)l->kh * (size_t)l->kw * (size_t)l->in_c * 2) : 0;
    if (has_w8q(l)) {
        z->w8q = up(quads(l->in_c) * 4 * (size_t)l->out_c);
        z->bias8 = up((size_t)l->out_c * 4);
    }
    if (has_dwp(l))
        z->dwp = up(((size_t)l->kh * (size_t)l->kw + 1) / 2 * (size_t)l->in_c * 2);
    z->fpre = fire_pre_bytes(l);
    return sat_add(sat_add(sat_add(z->w16, z->dw16), sat_add(z->w8q, z->bias8)), sat_add(z->dwp, z->fpre));
}

/* Depthwise taps 2i and 2i+1 (raster order over the kernel; a missing last tap has weight 0) for channel block
 * g of 32, in the byte order of vpunpck{l,h}bw of the two taps' activation vectors: 64 bytes per (i, g), the first
 * 32 for the low unpack (channels 0-7 | 16-23 of the block, interleaved tap by tap), the next 32 for the high one
 * (8-15 | 24-31). */
static void fill_dwp(const qsnn_snn_model *m, int li, int8_t *dwp)
{
    const qsnn_snn_layer *l = &m->layers[li];
    int C = l->in_c, T = l->kh * l->kw;
    for (int i = 0; i < (T + 1) / 2; i++)
        for (int g = 0; g < C / 32; g++)
            for (int h = 0; h < 2; h++)          /* low, high unpack */
                for (int lane = 0; lane < 2; lane++)
                    for (int e = 0; e < 8; e++) {
                        int c = 32 * g + 16 * lane + 8 * h + e;
                        int8_t *d = dwp + (((size_t)i * (size_t)(C / 32) + (size_t)g) * 64 + 32 * (size_t)h +
                                           16 * (size_t)lane + 2 * (size_t)e);
                        for (int u = 0; u < 2; u++) {
                            int t = 2 * i + u;
                            d[u] = (int8_t)(t < T ? qsnn_snn_weight(m, li, 1, (size_t)t * (size_t)C + (size_t)c) : 0);
                        }
                    }
}

/* w8q[k/4][f][k%4] = w[k][f] (zero rows up to the quad) and bias8[f] = -128 sum_k w[k][f]. */
static void fill_w8q(const qsnn_snn_model *m, int li, int8_t *w8q, int32_t *bias8)
{
    const qsnn_snn_layer *l = &m->layers[li];
    int F = l->out_c, K = l->in_c;
    for (int f = 0; f < F; f++) {
        int32_t sum = 0;
        for (size_t k = 0; k < quads(K) * 4; k++) {
            int w = k < (size_t)K ? qsnn_snn_weight(m, li, 0, k * (size_t)F + (size_t)f) : 0;
            w8q[((k / 4) * (size_t)F + (size_t)f) * 4 + (k & 3)] = (int8_t)w;
            sum += w;
        }
        bias8[f] = -128 * sum;
    }
}

/* Elements of the largest activation map (one byte each in the cached contexts' act8). */
static size_t map_max(const qsnn_snn_model *m)
{
    size_t n = 0;
    for (int i = 0; i + 1 < m->num_layers; i++) {
        const qsnn_snn_layer *l = &m->layers[i];
        size_t b = count_of(l->out_h, l->out_w, l->out_c);
        if (b > n)
            n = b;
    }
    return n;
}

size_t qsnn_snn_mem_size_cached(const qsnn_snn_model *m)
{
    size_t n = sat_add(sat_add(up(sizeof(struct qsnn_snn_ctx)), qsnn_snn_act_mem_size(m)),
                       sat_add(scratch_max(m, 1), ALIGN));
    cache_sizes z;
    n = sat_add(n, up(sizeof(struct layer_cache) * (size_t)m->num_layers));
    for (int i = 0; i < m->num_layers; i++)
        n = sat_add(n, cache_bytes(m, i, &z));
    n = sat_add(n, sat_mul(2, up(map_max(m))));
    size_t n0 = qsnn_snn_mem_size(m);
    return n > n0 ? n : n0;
}

size_t qsnn_snn_mem_size_mt(const qsnn_snn_model *m, int nthreads)
{
    if (nthreads < 1)
        nthreads = 1;
    return sat_add(qsnn_snn_mem_size_cached(m), sat_mul((size_t)(nthreads - 1), up(scratch_max(m, 1))));
}

qsnn_status qsnn_snn_init(qsnn_snn_ctx **out, const qsnn_snn_model *m, void *mem, size_t size)
{
    return qsnn_snn_init_mt(out, m, mem, size, 1);
}

qsnn_status qsnn_snn_init_mt(qsnn_snn_ctx **out, const qsnn_snn_model *m, void *mem, size_t size, int nthreads)
{
    *out = NULL;
    if (nthreads < 1 || nthreads > QSNN_SNN_MAX_THREADS)
        return qsnn_fail(QSNN_ERR_ARG, "snn: %d threads (1..%d)", nthreads, QSNN_SNN_MAX_THREADS);
#if !defined(QSNN_SNN_HAVE_MT)
    if (nthreads > 1)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "snn: built without C11 atomics: one thread only");
#endif
    size_t need = nthreads > 1 ? qsnn_snn_mem_size_mt(m, nthreads) : qsnn_snn_mem_size(m);
    if (!mem || size < need)
        return qsnn_fail(QSNN_ERR_ARG, "snn: workspace of %zu bytes, need %zu (%s)", size, need,
                         nthreads > 1 ? "qsnn_snn_mem_size_mt" : "qsnn_snn_mem_size");
    unsigned char *base = mem;
    base += (ALIGN - ((uintptr_t)base & (ALIGN - 1))) & (ALIGN - 1);
    struct qsnn_snn_ctx *c = (struct qsnn_snn_ctx *)(void *)base;
    memset(c, 0, sizeof *c);
    c->m = m;
    c->mode = QSNN_SNN_DENSE;
    c->nthreads = 1;
#if defined(QSNN_SNN_HAVE_MT)
    atomic_init(&c->bar_count, 0);
    atomic_init(&c->bar_gen, 0u);
#endif
    size_t act = 0;
    for (int i = 0; i + 1 < m->num_layers; i++) {
        const qsnn_snn_layer *l = &m->layers[i];
        size_t b = (count_of(l->out_h, l->out_w, l->out_c) + 1) / 2;
        if (b > act)
            act = b;
    }
    unsigned char *p = base + up(sizeof *c);
    c->act_bytes = act;
    c->act[0] = p;
    p += up(act);
    c->act[1] = p;
    p += up(act);
    c->out_pot = (int32_t *)(void *)p;
    p += up((size_t)m->num_classes * 4);
    c->scratch = p;
    c->tscratch[0] = p;
    c->scratch_bytes = (size_t)((unsigned char *)mem + size - p);
    for (int i = 0; i < m->num_layers; i++) {
        const qsnn_snn_layer *l = &m->layers[i];
        c->dense_ok[i] = l->type != QSNN_SNN_FC && (l->type != QSNN_SNN_SEPARABLE || qsnn_snn_dw_fits_s16(m, i));
    }
    if (size >= qsnn_snn_mem_size_cached(m)) {
        /* cached context: the scratch of the cached layout comes first, the weight cache after it */
        unsigned char *q = p + scratch_max(m, 1);
        c->lc = (struct layer_cache *)(void *)q;
        memset(c->lc, 0, sizeof(struct layer_cache) * (size_t)m->num_layers);
#if defined(QSNN_SNN_HAVE_MT)
        for (int i = 0; i < m->num_layers; i++)
            atomic_init(&c->lc[i].claim, 0);
#endif
        q += up(sizeof(struct layer_cache) * (size_t)m->num_layers);
        for (int i = 0; i < m->num_layers; i++) {
            cache_sizes z;
            if (!cache_bytes(m, i, &z))
                continue;
            struct layer_cache *lc = &c->lc[i];
            lc->w16 = (int16_t *)(void *)q;
            q += z.w16;
            lc->dw16 = z.dw16 ? (int16_t *)(void *)q : NULL;
            q += z.dw16;
            lc->w8q = z.w8q ? (int8_t *)(void *)q : NULL;
            q += z.w8q;
            lc->bias8 = z.bias8 ? (int32_t *)(void *)q : NULL;
            q += z.bias8;
            lc->dwp = z.dwp ? (int8_t *)(void *)q : NULL;
            q += z.dwp;
            lc->fpre = z.fpre ? (double *)(void *)q : NULL;
            q += z.fpre;
            fill_cache(m, i, lc->w16, lc->dw16);
            if (lc->w8q)
                fill_w8q(m, i, lc->w8q, lc->bias8);
            if (lc->dwp)
                fill_dwp(m, i, lc->dwp);
            if (lc->fpre)
                fill_fire_pre(m, i, lc->fpre);
        }
        c->act8[0] = q;
        q += up(map_max(m));
        c->act8[1] = q;
        q += up(map_max(m));
        c->scratch_bytes = (size_t)(q - c->scratch);
        if (nthreads > 1 && size >= qsnn_snn_mem_size_mt(m, nthreads)) {
            for (int t = 1; t < nthreads; t++) {
                c->tscratch[t] = q;
                q += up(scratch_max(m, 1));
            }
            c->nthreads = nthreads;
        }
    }
    *out = c;
    return QSNN_OK;
}

void qsnn_snn_set_mode(qsnn_snn_ctx *ctx, qsnn_snn_mode mode) { ctx->mode = mode; }
void qsnn_snn_set_callback(qsnn_snn_ctx *ctx, qsnn_snn_layer_cb cb, void *user)
{
    ctx->cb = cb;
    ctx->user = user;
}
