/* snn_engine.c: inference of a validated .snn model in caller-provided memory (libc only).
 *
 * Memory (one block from the caller, carved once by qsnn_snn_init, 64-byte aligned pieces):
 *   ctx | act[0], act[1]: 4-bit packed activation maps (ping-pong; layer l writes act[l & 1]) |
 *   out_pot[num_classes] | scratch: the largest per-layer need over the three modes |
 *   cached contexts only: per layer the unpacked weights and fire constants, then act8[0], act8[1]: the same
 *   maps with one byte per level, used instead of act[] when no layer callback is set (no nibble packing
 *   between layers; the depthwise reads its taps straight from the map).
 * Layer 0 reads the caller's uint8 input in place. Nothing is allocated, nothing outlives a call but ctx.
 *
 * Paths (identical integers, tests/test_snn.c):
 *   event: for every non-zero input value (event) scatter v * w into the potentials of the output rows it
 *          reaches, kept in a ring of ceil(kh/sh)+1 rows; a row is finalised (pointwise stage for separable,
 *          then fire or pool) as soon as no later input row can reach it. Separable: the depthwise
 *          potentials are exact int32 and each non-zero one is an event for the pointwise stage.
 *   ref:   plain scalar gather per output pixel.
 *   dense: gather with the SIMD gemv (im2col for convolutions, depthwise in int16 then pointwise for
 *          separable); used where the int16 depthwise bound holds, else the layer runs the ref path.
 */
#include "qsnn/snn.h"

#include <string.h>
#include <time.h>

#if !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
#define QSNN_SNN_HAVE_MT 1
#endif

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#define ALIGN 64
#define MAXL QSNN_SNN_MAX_LAYERS

/* What a cached context prepares once per layer (NULL where the layer has none); kept in the cached part of the
 * workspace so that the minimal context stays small. */
struct layer_cache {
    int16_t *w16, *dw16; /* weights unpacked, pair-interleaved int16; depthwise kernel as int16 */
    int8_t *w8q;         /* separable, weights in [-8, 8]: pointwise weights in quads (qsnn_snn_gemv2_u8_s8) */
    int32_t *bias8;      /* with w8q: -128 sum_k w[k][j] (the pixel's depthwise sums enter offset by 128) */
    int8_t *dwp;         /* has_dwp: depthwise taps paired for vpmaddubsw (fill_dwp) */
    double *fpre;        /* fire constants (qsnn_snn_fire_pre_fill) */
#if defined(QSNN_SNN_HAVE_MT)
    atomic_int claim;    /* qsnn_snn_run_mt: pair chunks claimed past the static shares (next_pairs) */
#endif
};

struct qsnn_snn_ctx {
    const qsnn_snn_model *m;
    qsnn_snn_mode mode;
    qsnn_snn_layer_cb cb;
    void *user;
    uint8_t *act[2];
    size_t act_bytes;
    uint8_t *act8[2]; /* cached contexts: activation maps as bytes (NULL otherwise) */
    int32_t *out_pot;
    unsigned char *scratch;
    size_t scratch_bytes;
    unsigned char dense_ok[MAXL];
    struct layer_cache *lc; /* cached contexts: per layer, in the cached part of the workspace; else NULL */
    int nthreads;                                   /* workers of qsnn_snn_run_mt (1: none) */
    unsigned char *tscratch[QSNN_SNN_MAX_THREADS]; /* scratch of each worker (tscratch[0] = scratch) */
#if defined(QSNN_SNN_HAVE_MT)
    atomic_int bar_count; /* the workers' barrier: arrivals, and the generation (wraps) */
    atomic_uint bar_gen;
#endif
};

/* Size arithmetic saturates at SIZE_MAX instead of wrapping, so that a size computed for a model the validator
 * has not vetted (or on a 32-bit target) can only come out too large, never too small; qsnn_snn_model_init
 * refuses a model whose workspace passes QSNN_SNN_MAX_WORKSPACE. */
static size_t sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }
static size_t sat_mul(size_t a, size_t b) { return b && a > SIZE_MAX / b ? SIZE_MAX : a * b; }
static size_t up(size_t n) { return n > SIZE_MAX - ALIGN ? SIZE_MAX : (n + ALIGN - 1) / ALIGN * ALIGN; }
static size_t count_of(int h, int w, int c) { return sat_mul(sat_mul((size_t)h, (size_t)w), (size_t)c); }
static size_t count3(size_t a, size_t b, size_t c) { return sat_mul(sat_mul(a, b), c); }

static int ring_rows(const qsnn_snn_layer *l) { return (l->kh + l->stride_h - 1) / l->stride_h + 1; }

static int max_in(const qsnn_snn_layer *l) { return l->in_bits == 8 ? 255 : (1 << l->in_bits) - 1; }

/* The depthwise sums of a separable layer fit int16 (dense path precondition). */
static int dw_fits_s16(const qsnn_snn_model *m, int li)
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

/* Input quads of the uint8 pointwise pass (K rounded up to a multiple of 4). */
static size_t quads(int k) { return ((size_t)k + 3) / 4; }

/* A separable layer whose pointwise weights suit qsnn_snn_gemv2_u8_s8 ([-8, 8]: 4-bit weights). */
static int has_w8q(const qsnn_snn_layer *l) { return l->type == QSNN_SNN_SEPARABLE && l->weight_bits <= 4; }

#define MAX_TAPS 64

/* A separable layer whose depthwise runs as uint8 x int8 tap pairs over a zero-padded input (dw_pairs_u8):
 * AVX2, 4-bit weights (|pair sums| <= 2 * 255 * 8, no saturation), channels in blocks of 32. */
static int has_dwp(const qsnn_snn_layer *l)
{
#if defined(__AVX2__)
    return has_w8q(l) && l->in_c % 32 == 0 && l->kh * l->kw <= MAX_TAPS;
#else
    (void)l;
    return 0;
#endif
}

/* Scratch layouts. Each returns the bytes needed and, when base != NULL, sets the pointers. */
typedef struct {
    int32_t *ring, *pix, *gap, *dwv, *pot, *pot2, *idx, *dwsum;
    uint8_t *lv;
    int8_t *w2, *dwq;
    int16_t *col, *col2, *dw16;
    uint8_t *rows, *padded;
    uint8_t *ucol, *ucol2; /* a pixel pair's depthwise sums + 128 as bytes (the uint8 pointwise pass) */
} scratch_ptrs;

/* Zero-padded copy of a convolution's input (cached contexts): every tap of every output pixel in bounds. */
static int padded_h(const qsnn_snn_layer *l) { return (l->conv_h - 1) * l->stride_h + l->kh; }
static int padded_w(const qsnn_snn_layer *l) { return (l->conv_w - 1) * l->stride_w + l->kw; }
#define IM2COL_SLACK 16 /* values written past a kernel row by the 16-wide im2col copy */

/* cached: the context has the weight cache (no packing buffer; a second col and pot for pixel pairs). */
static size_t layout(const qsnn_snn_layer *l, int mode, int dense_ok, int cached, unsigned char *base,
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
        int dok = l->type != QSNN_SNN_FC && (l->type != QSNN_SNN_SEPARABLE || dw_fits_s16(m, i));
        for (int mode = 0; mode < 3; mode++) {
            size_t s = layout(l, mode, dok, cached, NULL, NULL);
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
    if (l->type == QSNN_SNN_FC || (l->type == QSNN_SNN_SEPARABLE && !dw_fits_s16(m, i)))
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
        c->dense_ok[i] = l->type != QSNN_SNN_FC && (l->type != QSNN_SNN_SEPARABLE || dw_fits_s16(m, i));
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

/* ---- shared pieces ---- */

static inline int in_at(const uint8_t *in, int u8, size_t i) { return u8 ? in[i] : qsnn_snn_nibble_u4(in, i); }

typedef struct {
    const qsnn_snn_model *m;
    int li;
    const qsnn_snn_layer *l;
    const uint8_t *in;
    int in_u8;        /* input stored one value per byte (else packed nibbles) */
    uint8_t *out;     /* levels of an activated layer: packed nibbles, or bytes when out_u8 */
    int out_u8;
    int32_t *out_pot; /* last layer */
    int32_t *pot_dump; /* run_layer: potentials of an activated layer (after pooling), or NULL */
    const int32_t *th_t, *th_s;
    const uint8_t *wb, *dwb; /* raw weight bytes */
    scratch_ptrs s;
    uint64_t nnz;
    int count_nnz; /* statistics requested */
    const int16_t *w16, *dw16; /* weights unpacked once at init (cached contexts), else NULL */
    const double *fpre;        /* fire constants (cached contexts), else NULL */
    const int8_t *w8q;         /* uint8 pointwise pass (cached contexts, has_w8q), else NULL */
    const int8_t *dwp;         /* paired depthwise taps (cached contexts, has_dwp), else NULL */
    const int32_t *bias8;
    int part, parts;           /* pair paths: this worker's share of the pixel pairs (0 of 1: all) */
#if defined(QSNN_SNN_HAVE_MT)
    atomic_int *claim;         /* parts > 1: the layer's shared chunk counter (NULL: static split only) */
#endif
} run_state;

static inline int wget(const run_state *r, size_t i)
{
    return r->l->weight_bits <= 4 ? qsnn_snn_nibble_s4(r->wb, i) : (int)(int8_t)r->wb[i];
}
static inline int dwget(const run_state *r, size_t i)
{
    return r->l->weight_bits <= 4 ? qsnn_snn_nibble_s4(r->dwb, i) : (int)(int8_t)r->dwb[i];
}

/* qsnn_snn_fire_s32 with the per-neuron constants precomputed (same operations, same integers: the
 * path-agreement tests compare cached contexts with the reference). */
/* Number of non-zero bytes (a form the compiler vectorises: int counter, no early exit). */
static int count_nonzero(const uint8_t *v, int n)
{
    int c = 0;
    for (int j = 0; j < n; j++)
        c += v[j] != 0;
    return c;
}

static void fire_or_store(run_state *r, const int32_t *pot, size_t pixel, int ref)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c;
    if (!l->act_bits) {
        memcpy(r->out_pot + pixel * (size_t)F, pot, (size_t)F * 4);
        return;
    }
    if (r->pot_dump)
        memcpy(r->pot_dump + pixel * (size_t)F, pot, (size_t)F * 4);
    /* levels: straight into the byte map, or into scratch and then packed into the nibble map */
    size_t base = pixel * (size_t)F;
    uint8_t *lv = r->out_u8 ? r->out + base : r->s.lv;
    if (ref)
        qsnn_snn_fire_s32_ref(lv, pot, r->th_t, r->th_s, F, l->frac_bits, (1 << l->act_bits) - 1);
    else if (r->fpre)
        qsnn_snn_fire_pre(lv, pot, r->fpre, F, (1 << l->act_bits) - 1);
    else
        qsnn_snn_fire_s32(lv, pot, r->th_t, r->th_s, F, l->frac_bits, (1 << l->act_bits) - 1);
    if (r->count_nnz)
        r->nnz += (uint64_t)count_nonzero(lv, F);
    if (r->out_u8)
        return;
    if (!(base & 1) && !(F & 1)) {
        uint8_t *o = r->out + base / 2;
        for (int j = 0; j < F / 2; j++)
            o[j] = (uint8_t)(lv[2 * j] | (lv[2 * j + 1] << 4));
    } else {
        for (int j = 0; j < F; j++) {
            size_t i = base + (size_t)j;
            r->out[i >> 1] = (uint8_t)((r->out[i >> 1] & ~(15u << ((i & 1) * 4))) | ((unsigned)lv[j] << ((i & 1) * 4)));
        }
    }
}

static void add_s32(int32_t *restrict acc, const int32_t *restrict v, int n)
{
    for (int i = 0; i < n; i++)
        acc[i] += v[i];
}

/* Potentials of one output pixel (before pooling): fire it now or add it to the pooled sum. */
static void emit(run_state *r, const int32_t *pot, int y, int x, int ref)
{
    const qsnn_snn_layer *l = r->l;
    if (l->pool) {
        add_s32(r->s.gap, pot, l->out_c);
        return;
    }
    fire_or_store(r, pot, (size_t)y * (size_t)l->out_w + (size_t)x, ref);
}

/* Two consecutive raster pixels (p, p+1 < conv_h conv_w), or one when pot1 is NULL: straight to the byte map in
 * the plain case, else through emit. */
static void emit_pair(run_state *r, const int32_t *pot0, const int32_t *pot1, int y, int x)
{
    const qsnn_snn_layer *l = r->l;
    if (pot1 && r->out_u8 && r->fpre && !l->pool && !r->pot_dump && l->act_bits) {
        int F = l->out_c;
        uint8_t *o = r->out + ((size_t)y * (size_t)l->out_w + (size_t)x) * (size_t)F;
        qsnn_snn_fire_pre(o, pot0, r->fpre, F, (1 << l->act_bits) - 1);
        qsnn_snn_fire_pre(o + F, pot1, r->fpre, F, (1 << l->act_bits) - 1);
        if (r->count_nnz)
            r->nnz += (uint64_t)count_nonzero(o, 2 * F);
        return;
    }
    emit(r, pot0, y, x, 0);
    if (pot1) {
        if (++x == l->conv_w)
            x = 0, y++;
        emit(r, pot1, y, x, 0);
    }
}

static void finish_pool(run_state *r, int ref)
{
    if (r->l->pool)
        fire_or_store(r, r->s.gap, 0, ref);
}

/* ---- ref path: scalar gather ---- */

static void layer_ref(run_state *r)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c, C = l->in_c;
    if (l->type == QSNN_SNN_FC) {
        size_t n = count_of(l->in_h, l->in_w, C);
        for (int f = 0; f < F; f++) {
            int32_t acc = 0;
            for (size_t i = 0; i < n; i++)
                acc += in_at(r->in, r->in_u8, i) * wget(r, i * (size_t)F + (size_t)f);
            r->s.pot[f] = acc;
        }
        fire_or_store(r, r->s.pot, 0, 1);
        return;
    }
    for (int y = 0; y < l->conv_h; y++)
        for (int x = 0; x < l->conv_w; x++) {
            if (l->type == QSNN_SNN_SEPARABLE) {
                for (int c = 0; c < C; c++) {
                    int32_t acc = 0;
                    for (int ky = 0; ky < l->kh; ky++) {
                        int iy = y * l->stride_h - l->pad_top + ky;
                        if (iy < 0 || iy >= l->in_h)
                            continue;
                        for (int kx = 0; kx < l->kw; kx++) {
                            int ix = x * l->stride_w - l->pad_left + kx;
                            if (ix < 0 || ix >= l->in_w)
                                continue;
                            acc += in_at(r->in, r->in_u8, ((size_t)iy * (size_t)l->in_w + (size_t)ix) * (size_t)C + (size_t)c) *
                                   dwget(r, ((size_t)ky * (size_t)l->kw + (size_t)kx) * (size_t)C + (size_t)c);
                        }
                    }
                    r->s.dwv[c] = acc;
                }
                for (int f = 0; f < F; f++) {
                    int32_t acc = 0;
                    for (int c = 0; c < C; c++)
                        acc += r->s.dwv[c] * wget(r, (size_t)c * (size_t)F + (size_t)f);
                    r->s.pot[f] = acc;
                }
            } else {
                for (int f = 0; f < F; f++) {
                    int32_t acc = 0;
                    for (int ky = 0; ky < l->kh; ky++) {
                        int iy = y * l->stride_h - l->pad_top + ky;
                        if (iy < 0 || iy >= l->in_h)
                            continue;
                        for (int kx = 0; kx < l->kw; kx++) {
                            int ix = x * l->stride_w - l->pad_left + kx;
                            if (ix < 0 || ix >= l->in_w)
                                continue;
                            for (int c = 0; c < C; c++)
                                acc += in_at(r->in, r->in_u8, ((size_t)iy * (size_t)l->in_w + (size_t)ix) * (size_t)C + (size_t)c) *
                                       wget(r, (((size_t)ky * (size_t)l->kw + (size_t)kx) * (size_t)C + (size_t)c) * (size_t)F + (size_t)f);
                        }
                    }
                    r->s.pot[f] = acc;
                }
            }
            emit(r, r->s.pot, y, x, 1);
        }
    finish_pool(r, 1);
}

/* ---- event path: scatter non-zero inputs ---- */

static int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int ceil_div(int a, int b) { return -floor_div(-a, b); }

static void finalize_row(run_state *r, int row, int32_t *slot)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c, C = l->in_c;
    for (int x = 0; x < l->conv_w; x++) {
        const int32_t *pot;
        if (l->type == QSNN_SNN_SEPARABLE) {
            const int32_t *d = slot + (size_t)x * (size_t)C;
            memset(r->s.pot, 0, (size_t)F * 4);
            if (r->w16) {
                /* cached weights (so |d| <= 32767, dw_fits_s16): the non-zero pairs are the events */
                int np = 0;
                for (int c = 0; c < C; c += 2) {
                    int32_t v0 = d[c], v1 = c + 1 < C ? d[c + 1] : 0;
                    if (!(v0 | v1))
                        continue;
                    r->s.col[2 * np] = (int16_t)v0;
                    r->s.col[2 * np + 1] = (int16_t)v1;
                    r->s.idx[np++] = c / 2;
                }
                qsnn_snn_gemv_sparse_s16_s16(r->s.pot, r->s.col, r->s.idx, np, r->w16, F);
                emit(r, r->s.pot, row, x, 0);
                continue;
            }
            for (int c = 0; c < C; c++) {
                int32_t v = d[c];
                if (!v)
                    continue; /* a zero depthwise potential sends no event to the pointwise neurons */
                for (int f = 0; f < F; f++)
                    r->s.pot[f] += v * wget(r, (size_t)c * (size_t)F + (size_t)f);
            }
            pot = r->s.pot;
        } else {
            pot = slot + (size_t)x * (size_t)F;
        }
        emit(r, pot, row, x, 0);
    }
}

static qsnn_status layer_event(run_state *r)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c, C = l->in_c;
    if (l->type == QSNN_SNN_FC) {
        size_t n = count_of(l->in_h, l->in_w, C);
        memset(r->s.pot, 0, (size_t)F * 4);
        for (size_t i = 0; i < n; i++) {
            int v = in_at(r->in, r->in_u8, i);
            if (!v)
                continue;
            for (int f = 0; f < F; f++)
                r->s.pot[f] += v * wget(r, i * (size_t)F + (size_t)f);
        }
        fire_or_store(r, r->s.pot, 0, 0);
        return QSNN_OK;
    }
    int sep = l->type == QSNN_SNN_SEPARABLE;
    int KC = sep ? C : F, R = ring_rows(l);
    size_t slot_n = (size_t)l->conv_w * (size_t)KC;
    int next_fin = 0, opened = 0;
    for (int y = 0; y < l->in_h; y++) {
        int r_lo = ceil_div(y + l->pad_top - l->kh + 1, l->stride_h);
        int r_hi = floor_div(y + l->pad_top, l->stride_h);
        if (r_lo < 0)
            r_lo = 0;
        if (r_hi > l->conv_h - 1)
            r_hi = l->conv_h - 1;
        while (opened <= r_hi) {
            if (opened - next_fin >= R)
                return qsnn_fail(QSNN_ERR_RANGE, "snn: layer '%s': event ring overflow (internal)", l->name);
            memset(r->s.ring + (size_t)(opened % R) * slot_n, 0, slot_n * 4);
            opened++;
        }
        for (int x = 0; x < l->in_w; x++) {
            int x_lo = ceil_div(x + l->pad_left - l->kw + 1, l->stride_w);
            int x_hi = floor_div(x + l->pad_left, l->stride_w);
            if (x_lo < 0)
                x_lo = 0;
            if (x_hi > l->conv_w - 1)
                x_hi = l->conv_w - 1;
            size_t ibase = ((size_t)y * (size_t)l->in_w + (size_t)x) * (size_t)C;
            for (int c = 0; c < C; c++) {
                int v = in_at(r->in, r->in_u8, ibase + (size_t)c);
                if (!v)
                    continue;
                for (int ro = r_lo; ro <= r_hi; ro++) {
                    int ky = y + l->pad_top - ro * l->stride_h;
                    int32_t *slot = r->s.ring + (size_t)(ro % R) * slot_n;
                    for (int xo = x_lo; xo <= x_hi; xo++) {
                        int kx = x + l->pad_left - xo * l->stride_w;
                        size_t tap = (size_t)ky * (size_t)l->kw + (size_t)kx;
                        if (sep) {
                            size_t wi = tap * (size_t)C + (size_t)c;
                            slot[(size_t)xo * (size_t)C + (size_t)c] += v * (r->dw16 ? r->dw16[wi] : dwget(r, wi));
                        } else {
                            int32_t *o = slot + (size_t)xo * (size_t)F;
                            size_t k = tap * (size_t)C + (size_t)c;
                            if (r->w16) { /* cached: row k of the pair-interleaved int16 weights */
                                const int16_t *wr = r->w16 + (k / 2) * (size_t)F * 2 + (k & 1);
                                for (int f = 0; f < F; f++)
                                    o[f] += v * wr[2 * f];
                            } else {
                                for (int f = 0; f < F; f++)
                                    o[f] += v * wget(r, k * (size_t)F + (size_t)f);
                            }
                        }
                    }
                }
            }
        }
        while (next_fin < l->conv_h &&
               (next_fin * l->stride_h - l->pad_top + l->kh - 1 <= y || y == l->in_h - 1)) {
            while (opened <= next_fin) {
                memset(r->s.ring + (size_t)(opened % R) * slot_n, 0, slot_n * 4);
                opened++;
            }
            finalize_row(r, next_fin, r->s.ring + (size_t)(next_fin % R) * slot_n);
            next_fin++;
        }
    }
    finish_pool(r, 0);
    return QSNN_OK;
}

/* ---- dense path: SIMD gather ---- */

static void unpack_row(int16_t *restrict dst, const uint8_t *restrict in, int u8, size_t start, size_t n)
{
    if (u8) {
        for (size_t i = 0; i < n; i++)
            dst[i] = in[start + i];
    } else if (!(start & 1) && !(n & 1)) {
        const uint8_t *b = in + start / 2;
        for (size_t i = 0; i < n / 2; i++) {
            dst[2 * i] = (int16_t)(b[i] & 15);
            dst[2 * i + 1] = (int16_t)(b[i] >> 4);
        }
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = (int16_t)qsnn_snn_nibble_u4(in, start + i);
    }
}

/* Row k of a weight matrix w[k][F] as int8 (4-bit: sign-extended nibbles; 8-bit: bytes). */
static void weight_row(int8_t *dst, const run_state *r, size_t k, int F)
{
    size_t start = k * (size_t)F;
    if (r->l->weight_bits > 4) {
        memcpy(dst, r->wb + start, (size_t)F);
    } else if (!(start & 1) && !(F & 1)) {
        const uint8_t *b = r->wb + start / 2;
        for (int i = 0; i < F / 2; i++) {
            dst[2 * i] = (int8_t)(((b[i] & 15) ^ 8) - 8);
            dst[2 * i + 1] = (int8_t)(((b[i] >> 4) ^ 8) - 8);
        }
    } else {
        for (int i = 0; i < F; i++)
            dst[i] = (int8_t)qsnn_snn_nibble_s4(r->wb, start + (size_t)i);
    }
}

/* w2[k/2][f][k%2] from w[k][f] (k < K, zero row when K is odd). row: F bytes of scratch. */
static void pack_pairs(run_state *r, int8_t *w2, int8_t *row, size_t K, int F)
{
    int8_t *restrict r0 = row, *restrict r1 = row + F;
    for (size_t k = 0; k < K; k += 2) {
        weight_row(r0, r, k, F);
        if (k + 1 < K)
            weight_row(r1, r, k + 1, F);
        else
            memset(r1, 0, (size_t)F);
        int8_t *restrict o = w2 + (k / 2) * (size_t)F * 2;
        for (int f = 0; f < F; f++) {
            o[2 * f] = r0[f];
            o[2 * f + 1] = r1[f];
        }
    }
}

/* Depthwise of one output pixel in int16: out[c] = sum over the ny x nx in-bounds taps (i, j) of
 * a[(i rs + j) C + c] * w[(i kw + j) C + c] (a and w point at the first in-bounds tap; rs = pixels per input row).
 * Exact: |sums| <= 32767 (dw_fits_s16). Accumulators stay in registers across the taps. With u8 != NULL also
 * u8[c] = out[c] + 128 (then 128, a zero sum, up to the next multiple of 4), and the return value says whether
 * every out[c] is in [-128, 127] (if not, u8 is unusable); without u8 it returns 0. */
static int dw_rect_s16(int16_t *restrict out, uint8_t *restrict u8, const uint8_t *a, size_t rs, const int16_t *w,
                       int kw, int ny, int nx, int C)
{
    int c = 0;
    unsigned bad = 0;
#if defined(__AVX2__)
#define LA(p) _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define LW(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define ST(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), v)
    const __m256i off = _mm256_set1_epi16(128);
    __m256i seen = _mm256_setzero_si256(); /* OR of every out + 128: a bit above the low byte = out of range */
    for (; c + 64 <= C; c += 64) {
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (int ky = 0; ky < ny; ky++)
            for (int kx = 0; kx < nx; kx++) {
                const uint8_t *pa = a + ((size_t)ky * rs + (size_t)kx) * (size_t)C + c;
                const int16_t *pw = w + ((size_t)ky * (size_t)kw + (size_t)kx) * (size_t)C + c;
                a0 = _mm256_add_epi16(a0, _mm256_mullo_epi16(LA(pa), LW(pw)));
                a1 = _mm256_add_epi16(a1, _mm256_mullo_epi16(LA(pa + 16), LW(pw + 16)));
                a2 = _mm256_add_epi16(a2, _mm256_mullo_epi16(LA(pa + 32), LW(pw + 32)));
                a3 = _mm256_add_epi16(a3, _mm256_mullo_epi16(LA(pa + 48), LW(pw + 48)));
            }
        ST(out + c, a0), ST(out + c + 16, a1), ST(out + c + 32, a2), ST(out + c + 48, a3);
        if (u8) {
            a0 = _mm256_add_epi16(a0, off), a1 = _mm256_add_epi16(a1, off);
            a2 = _mm256_add_epi16(a2, off), a3 = _mm256_add_epi16(a3, off);
            seen = _mm256_or_si256(seen, _mm256_or_si256(_mm256_or_si256(a0, a1), _mm256_or_si256(a2, a3)));
            ST(u8 + c, _mm256_permute4x64_epi64(_mm256_packus_epi16(a0, a1), 0xD8));
            ST(u8 + c + 32, _mm256_permute4x64_epi64(_mm256_packus_epi16(a2, a3), 0xD8));
        }
    }
    for (; c + 16 <= C; c += 16) {
        __m256i acc = _mm256_setzero_si256();
        for (int ky = 0; ky < ny; ky++)
            for (int kx = 0; kx < nx; kx++)
                acc = _mm256_add_epi16(acc, _mm256_mullo_epi16(LA(a + ((size_t)ky * rs + (size_t)kx) * (size_t)C + c),
                                                               LW(w + ((size_t)ky * (size_t)kw + (size_t)kx) * (size_t)C + c)));
        ST(out + c, acc);
        if (u8) {
            acc = _mm256_add_epi16(acc, off);
            seen = _mm256_or_si256(seen, acc);
            _mm_storeu_si128((__m128i *)(void *)(u8 + c),
                             _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi16(acc, acc), 0xD8)));
        }
    }
    bad = !_mm256_testz_si256(seen, _mm256_set1_epi16((short)0xFF00));
#undef LA
#undef LW
#undef ST
#endif
    for (; c < C; c++) {
        int acc = 0;
        for (int ky = 0; ky < ny; ky++)
            for (int kx = 0; kx < nx; kx++)
                acc += a[((size_t)ky * rs + (size_t)kx) * (size_t)C + (size_t)c] *
                       w[((size_t)ky * (size_t)kw + (size_t)kx) * (size_t)C + (size_t)c];
        out[c] = (int16_t)acc;
        if (u8) {
            bad |= (unsigned)(acc + 128) > 255u;
            u8[c] = (uint8_t)(acc + 128);
        }
    }
    if (!u8)
        return 0;
    for (; c & 3; c++)
        u8[c] = 128;
    return !bad;
}

/* Input values [start, start + n) as uint8 (levels or the uint8 input). */
static void unpack_row_u8(uint8_t *restrict dst, const uint8_t *restrict in, int u8, size_t start, size_t n)
{
    if (u8) {
        memcpy(dst, in + start, n);
    } else if (!(start & 1) && !(n & 1)) {
        const uint8_t *b = in + start / 2;
        for (size_t i = 0; i < n / 2; i++) {
            dst[2 * i] = (uint8_t)(b[i] & 15);
            dst[2 * i + 1] = (uint8_t)(b[i] >> 4);
        }
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = (uint8_t)qsnn_snn_nibble_u4(in, start + i);
    }
}

/* In-bounds taps of output pixel (y, x): ky0 <= ky < ky1, kx0 <= kx < kx1 (input row y sh - pt + ky). */
static void tap_range(const qsnn_snn_layer *l, int y, int x, int *ky0, int *ky1, int *kx0, int *kx1)
{
    int iy0 = y * l->stride_h - l->pad_top, ix0 = x * l->stride_w - l->pad_left;
    *ky0 = iy0 < 0 ? -iy0 : 0;
    *ky1 = l->in_h - iy0 < l->kh ? l->in_h - iy0 : l->kh;
    *kx0 = ix0 < 0 ? -ix0 : 0;
    *kx1 = l->in_w - ix0 < l->kw ? l->in_w - ix0 : l->kw;
}

/* This worker's next pixels [*pb, *pe) of np (whole pairs; *it counts the calls, from 0); 0 when there are no
 * more. One worker: all of them at once. Several (qsnn_snn_run_mt): first a static share, 3/4 of the pairs split
 * evenly, then the last quarter claimed two pairs at a time from the layer's shared counter, so that a worker the
 * machine slows down hands its tail over instead of making the others wait at the layer's barrier (the results
 * do not depend on who computes which pixel). */
static int next_pairs(run_state *r, int np, int *it, int *pb, int *pe)
{
    int npairs = (np + 1) / 2, k = (*it)++, a, b;
    if (r->parts == 1) {
        *pb = 0, *pe = np;
        return k == 0;
    }
#if defined(QSNN_SNN_HAVE_MT)
    int share = r->claim ? npairs * 3 / 4 / r->parts : 0;
#else
    int share = 0;
#endif
    if (k == 0 && !share) { /* static split of everything */
        a = (int)((long)npairs * r->part / r->parts), b = (int)((long)npairs * (r->part + 1) / r->parts);
    } else if (k == 0) {
        a = r->part * share, b = a + share;
    } else {
#if defined(QSNN_SNN_HAVE_MT)
        a = share ? r->parts * share + 2 * atomic_fetch_add_explicit(r->claim, 1, memory_order_relaxed) : npairs;
#else
        a = npairs;
#endif
        if (a >= npairs)
            return 0;
        b = a + 2 < npairs ? a + 2 : npairs;
    }
    *pb = 2 * a;
    *pe = 2 * b < np ? 2 * b : np;
    return 1;
}

/* The layer's byte input copied into the zero-padded map r->s.padded (padded_h x padded_w pixels): every tap of
 * every output pixel in bounds. */
static void fill_padded(run_state *r)
{
    const qsnn_snn_layer *l = r->l;
    int hp = padded_h(l), wp = padded_w(l);
    size_t C = (size_t)l->in_c;
    uint8_t *pad = r->s.padded;
    memset(pad, 0, (size_t)hp * (size_t)wp * C + IM2COL_SLACK);
    for (int iy = 0; iy < l->in_h; iy++) {
        int yy = iy + l->pad_top, xx = l->pad_left, n = l->in_w;
        if (yy >= hp)
            break;
        if (xx + n > wp)
            n = wp - xx;
        if (n > 0)
            memcpy(pad + ((size_t)yy * (size_t)wp + (size_t)xx) * C, r->in + (size_t)iy * (size_t)l->in_w * C,
                   (size_t)n * C);
    }
}

#if defined(__AVX2__)
/* Depthwise of one output pixel from the zero-padded map, taps in pairs: a points at the window's top-left,
 * toff[t] is tap t's byte offset from it (T taps), dwp the paired weights (fill_dwp). The two taps' activation
 * vectors are interleaved byte by byte (vpunpck{l,h}bw) and multiplied by the paired weights with vpmaddubsw:
 * |pair| <= 2 * 255 * 8, and every partial sum is a partial depthwise sum, within int16 (dw_fits_s16). Writes
 * out[c] (int16, channel order restored with two lane permutes) and u8[c] = out[c] + 128 as dw_rect_s16 does;
 * returns whether every out[c] is in [-128, 127]. */
static int dw_pairs_u8(int16_t *restrict out, uint8_t *restrict u8, const uint8_t *a, const int32_t *toff, int T,
                       const int8_t *dwp, int C)
{
    const __m256i off = _mm256_set1_epi16(128), zero = _mm256_setzero_si256();
    __m256i seen = zero;
    int G = C / 32, np = T / 2;
#define LD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
    for (int g = 0; g < G; g++) {
        const uint8_t *ag = a + 32 * g;
        const int8_t *wv = dwp + (size_t)g * 64;
        __m256i lo = zero, hi = zero;
        for (int i = 0; i < np; i++, wv += (size_t)G * 64) {
            __m256i x0 = LD(ag + toff[2 * i]), x1 = LD(ag + toff[2 * i + 1]);
            lo = _mm256_add_epi16(lo, _mm256_maddubs_epi16(_mm256_unpacklo_epi8(x0, x1), LD(wv)));
            hi = _mm256_add_epi16(hi, _mm256_maddubs_epi16(_mm256_unpackhi_epi8(x0, x1), LD(wv + 32)));
        }
        if (T & 1) {
            __m256i x0 = LD(ag + toff[T - 1]);
            lo = _mm256_add_epi16(lo, _mm256_maddubs_epi16(_mm256_unpacklo_epi8(x0, zero), LD(wv)));
            hi = _mm256_add_epi16(hi, _mm256_maddubs_epi16(_mm256_unpackhi_epi8(x0, zero), LD(wv + 32)));
        }
        /* lo holds channels 0-7 | 16-23 of the block, hi 8-15 | 24-31 */
        _mm256_storeu_si256((__m256i *)(void *)(out + 32 * g), _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(void *)(out + 32 * g + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
        lo = _mm256_add_epi16(lo, off), hi = _mm256_add_epi16(hi, off);
        seen = _mm256_or_si256(seen, _mm256_or_si256(lo, hi));
        _mm256_storeu_si256((__m256i *)(void *)(u8 + 32 * g), _mm256_packus_epi16(lo, hi)); /* in channel order */
    }
#undef LD
    return _mm256_testz_si256(seen, _mm256_set1_epi16((short)0xFF00));
}
#endif

/* Separable layer, byte-map input, cached int16 weights: pixels in pairs (depthwise of both, then one pointwise
 * pass for the two), in raster order. A pooled layer sums the depthwise outputs over its pixels instead and runs
 * the pointwise once on the sum (pool_pointwise): the pointwise is linear, so the pooled potentials are the same
 * integers, for 1/(pixels) of the pointwise work. */
static void pool_pointwise(run_state *r, int C, int F)
{
    const int32_t *d = r->s.dwsum;
    int32_t *gap = r->s.gap;
    for (int c = 0; c < C; c += 2) {
        int32_t a0 = d[c], a1 = c + 1 < C ? d[c + 1] : 0;
        const int16_t *row = r->w16 + (size_t)(c / 2) * (size_t)F * 2;
        for (int j = 0; j < F; j++) /* within int32: |partial sums| <= the model's validated potential bound */
            gap[j] += a0 * row[2 * j] + a1 * row[2 * j + 1];
    }
}

static void layer_sep_pairs(run_state *r, const int16_t *dwq, size_t k2)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c, C = l->in_c, np = l->conv_h * l->conv_w;
    int16_t *col[2] = {r->s.col, r->s.col2};
    uint8_t *ucol[2] = {r->s.ucol, r->s.ucol2};
    int32_t *pot[2] = {r->s.pot, r->s.pot2};
    col[0][k2 - 1] = col[1][k2 - 1] = 0;
    if (l->pool)
        memset(r->s.dwsum, 0, (size_t)C * 4);
#if defined(__AVX2__)
    int32_t toff[MAX_TAPS];
    int T = l->kh * l->kw;
    size_t wpad = (size_t)padded_w(l);
    if (r->dwp) { /* the padded map and the taps' offsets in it */
        fill_padded(r);
        for (int t = 0; t < T; t++)
            toff[t] = (int32_t)(((size_t)(t / l->kw) * wpad + (size_t)(t % l->kw)) * (size_t)C);
    }
#endif
    int pb, pe, it = 0;
    while (next_pairs(r, np, &it, &pb, &pe)) /* (y, x): raster position of pixel p */
    for (int p = pb, y = pb / l->conv_w, x = pb % l->conv_w; p < pe; p += 2) {
        int nq = p + 1 < np ? 2 : 1, y0 = y, x0 = x, fit = r->w8q != NULL;
        for (int q = 0; q < nq; q++) {
            int iy0 = y * l->stride_h - l->pad_top, ix0 = x * l->stride_w - l->pad_left, ky0, ky1, kx0, kx1;
            tap_range(l, y, x, &ky0, &ky1, &kx0, &kx1);
#if defined(__AVX2__)
            if (r->dwp) {
                const uint8_t *a = r->s.padded + ((size_t)(y * l->stride_h) * wpad + (size_t)(x * l->stride_w)) * (size_t)C;
                fit &= dw_pairs_u8(col[q], ucol[q], a, toff, T, r->dwp, C);
            } else
#endif
            if (ky1 > ky0 && kx1 > kx0) {
                const uint8_t *a = r->in + ((size_t)(iy0 + ky0) * (size_t)l->in_w + (size_t)(ix0 + kx0)) * (size_t)C;
                const int16_t *w = dwq + ((size_t)ky0 * (size_t)l->kw + (size_t)kx0) * (size_t)C;
                fit &= dw_rect_s16(col[q], fit ? ucol[q] : NULL, a, (size_t)l->in_w, w, l->kw, ky1 - ky0, kx1 - kx0, C);
            } else {
                memset(col[q], 0, (size_t)C * 2);
                if (fit)
                    memset(ucol[q], 128, quads(C) * 4);
            }
            if (++x == l->conv_w)
                x = 0, y++;
        }
        if (l->pool) {
            for (int q = 0; q < nq; q++)
                for (int c = 0; c < C; c++)
                    r->s.dwsum[c] += col[q][c];
            continue;
        }
        if (fit)
            qsnn_snn_gemv2_u8_s8(pot[0], pot[1], ucol[0], ucol[nq - 1], r->w8q, r->bias8, (int)quads(C), F);
        else
            qsnn_snn_gemv2_s16_s16(pot[0], pot[1], col[0], col[nq - 1], r->w16, (int)(k2 / 2), F);
        emit_pair(r, pot[0], nq == 2 ? pot[1] : NULL, y0, x0);
    }
    if (l->pool)
        pool_pointwise(r, C, F);
}

/* Convolution, byte input, cached int16 weights: the input copied once into a zero-padded map, then pixels in
 * pairs: im2col of both (16 values per copy, the spill past a kernel row overwritten by the next row, the tail
 * of col zeroed), one pointwise pass for the two. */
static void layer_conv_pairs(run_state *r, size_t K, size_t k2)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c, np = l->conv_h * l->conv_w, wp = padded_w(l);
    size_t C = (size_t)l->in_c, rowv = (size_t)l->kw * C; /* values per kernel row */
    uint8_t *pad = r->s.padded;
    fill_padded(r);
    int16_t *col[2] = {r->s.col, r->s.col2};
    int32_t *pot[2] = {r->s.pot, r->s.pot2};
    int pb, pe, it = 0;
    while (next_pairs(r, np, &it, &pb, &pe))
    for (int p = pb, y = pb / l->conv_w, x = pb % l->conv_w; p < pe; p += 2) {
        int nq = p + 1 < np ? 2 : 1, y0 = y, x0 = x;
        for (int q = 0; q < nq; q++) {
            int16_t *c = col[q];
            for (int ky = 0; ky < l->kh; ky++) {
                const uint8_t *src = pad + ((size_t)(y * l->stride_h + ky) * (size_t)wp + (size_t)(x * l->stride_w)) * C;
                int16_t *dst = c + (size_t)ky * rowv;
                for (size_t i = 0; i < rowv; i += 16) {
#if defined(__AVX2__)
                    _mm256_storeu_si256((__m256i *)(void *)(dst + i),
                                        _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(src + i))));
#else
                    for (size_t j = i; j < i + 16; j++)
                        dst[j] = src[j];
#endif
                }
            }
            for (size_t k = K; k < k2; k++)
                c[k] = 0;
            if (++x == l->conv_w)
                x = 0, y++;
        }
        qsnn_snn_gemv2_s16_s16(pot[0], pot[1], col[0], col[nq - 1], r->w16, (int)(k2 / 2), F);
        emit_pair(r, pot[0], nq == 2 ? pot[1] : NULL, y0, x0);
    }
}

/* The layer runs the pixel-pair kernels (byte input, cached weights): the part that qsnn_snn_run_mt splits. */
static int pair_path(const run_state *r)
{
    if (!r->in_u8 || !r->w16)
        return 0;
    return r->l->type == QSNN_SNN_SEPARABLE ? r->dw16 != NULL : r->s.padded != NULL;
}

static void layer_dense(run_state *r)
{
    const qsnn_snn_layer *l = r->l;
    int F = l->out_c, C = l->in_c;
    int sep = l->type == QSNN_SNN_SEPARABLE;
    size_t K = sep ? (size_t)C : (size_t)l->kh * (size_t)l->kw * (size_t)C;
    size_t k2 = (K + 1) & ~(size_t)1;
    if (!r->w16)
        pack_pairs(r, r->s.w2, (int8_t *)r->s.lv, K, F);
    int16_t *col = r->s.col;
    col[k2 - 1] = 0;
    const int16_t *dwq = r->dw16 ? r->dw16 : r->s.dw16;
    if (pair_path(r)) {
        if (sep)
            layer_sep_pairs(r, r->dw16, k2);
        else
            layer_conv_pairs(r, K, k2);
        if (r->parts > 1)
            return; /* pooling: the partial sums are combined by qsnn_snn_run_mt */
    } else if (sep) {
        size_t kk = (size_t)l->kh * (size_t)l->kw;
        if (r->dw16) {
            /* cached */
        } else if (l->weight_bits <= 4) {
            size_t n = kk * (size_t)C, i = 0;
            for (; i + 1 < n; i += 2) {
                uint8_t b = r->dwb[i / 2];
                r->s.dw16[i] = (int16_t)(((b & 15) ^ 8) - 8);
                r->s.dw16[i + 1] = (int16_t)(((b >> 4) ^ 8) - 8);
            }
            for (; i < n; i++)
                r->s.dw16[i] = (int16_t)dwget(r, i);
        } else {
            for (size_t i = 0; i < kk * (size_t)C; i++)
                r->s.dw16[i] = (int16_t)(int8_t)r->dwb[i];
        }
        size_t rowlen = (size_t)l->in_w * (size_t)C;
        for (int y = 0; y < l->conv_h; y++) {
            /* the kernel's input rows: the byte map itself, or unpacked into scratch (row ky of rows = input
             * row y sh - pt + ky) */
            int iyb = y * l->stride_h - l->pad_top;
            if (!r->in_u8)
                for (int ky = 0; ky < l->kh; ky++)
                    if (iyb + ky >= 0 && iyb + ky < l->in_h)
                        unpack_row_u8(r->s.rows + (size_t)ky * rowlen, r->in, 0, (size_t)(iyb + ky) * rowlen, rowlen);
            for (int x = 0; x < l->conv_w; x++) {
                int ix0 = x * l->stride_w - l->pad_left, ky0, ky1, kx0, kx1;
                tap_range(l, y, x, &ky0, &ky1, &kx0, &kx1);
                if (ky1 > ky0 && kx1 > kx0) {
                    const uint8_t *a = r->in_u8 ? r->in + (size_t)(iyb + ky0) * rowlen : r->s.rows + (size_t)ky0 * rowlen;
                    dw_rect_s16(col, NULL, a + (size_t)(ix0 + kx0) * (size_t)C, (size_t)l->in_w,
                                dwq + ((size_t)ky0 * (size_t)l->kw + (size_t)kx0) * (size_t)C, l->kw, ky1 - ky0,
                                kx1 - kx0, C);
                } else {
                    memset(col, 0, (size_t)C * 2);
                }
                memset(r->s.pot, 0, (size_t)F * 4);
                if (r->w16)
                    qsnn_snn_gemv_s16_s16(r->s.pot, col, r->w16, (int)(k2 / 2), F);
                else
                    qsnn_snn_gemv_s16_s8(r->s.pot, col, r->s.w2, (int)(k2 / 2), F);
                emit(r, r->s.pot, y, x, 0);
            }
        }
    } else {
        for (int y = 0; y < l->conv_h; y++)
            for (int x = 0; x < l->conv_w; x++) {
                size_t k = 0;
                for (int ky = 0; ky < l->kh; ky++) {
                    int iy = y * l->stride_h - l->pad_top + ky;
                    int x0 = x * l->stride_w - l->pad_left;
                    if (iy < 0 || iy >= l->in_h) {
                        memset(col + k, 0, (size_t)l->kw * (size_t)C * 2);
                        k += (size_t)l->kw * (size_t)C;
                        continue;
                    }
                    if (r->in_u8 && x0 >= 0 && x0 + l->kw <= l->in_w) {
                        /* the whole kernel row inside the map: kw * C consecutive uint8 values */
                        const uint8_t *src = r->in + ((size_t)iy * (size_t)l->in_w + (size_t)x0) * (size_t)C;
                        size_t n = (size_t)l->kw * (size_t)C;
                        for (size_t i = 0; i < n; i++)
                            col[k + i] = src[i];
                        k += n;
                        continue;
                    }
                    for (int kx = 0; kx < l->kw; kx++, k += (size_t)C) {
                        int ix = x0 + kx;
                        if (ix < 0 || ix >= l->in_w)
                            memset(col + k, 0, (size_t)C * 2);
                        else if (r->in_u8 && C == 1)
                            col[k] = r->in[(size_t)iy * (size_t)l->in_w + (size_t)ix];
                        else
                            unpack_row(col + k, r->in, r->in_u8,
                                       ((size_t)iy * (size_t)l->in_w + (size_t)ix) * (size_t)C, (size_t)C);
                    }
                }
                memset(r->s.pot, 0, (size_t)F * 4);
                if (r->w16)
                    qsnn_snn_gemv_s16_s16(r->s.pot, col, r->w16, (int)(k2 / 2), F);
                else
                    qsnn_snn_gemv_s16_s8(r->s.pot, col, r->s.w2, (int)(k2 / 2), F);
                emit(r, r->s.pot, y, x, 0);
            }
    }
    finish_pool(r, 0);
}

/* ---- driver ---- */

/* Wall clock for the per-layer times of the statistics. C11's timespec_get where the C library has it; a firmware
 * whose libc has none (newlib) can define QSNN_SNN_NOW_NS() as its own clock in nanoseconds (a cycle counter),
 * else the layer times read 0. */
static double now_ns(void)
{
#if defined(QSNN_SNN_NOW_NS)
    return (double)(QSNN_SNN_NOW_NS());
#elif defined(TIME_UTC)
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
#else
    return 0.0;
#endif
}

/* A layer's run state over worker part's scratch (part 0 of 1: the whole layer). in_u8 / out_u8: the input /
 * output map is stored one value per byte (else packed nibbles). Returns the effective mode. */
static int layer_state(run_state *r, qsnn_snn_ctx *ctx, int li, const uint8_t *in, int in_u8, uint8_t *out,
                       int out_u8, int part, int parts)
{
    const qsnn_snn_model *m = ctx->m;
    memset(r, 0, sizeof *r);
    r->m = m;
    r->li = li;
    r->l = &m->layers[li];
    r->in = in;
    r->in_u8 = in_u8;
    r->out = out;
    r->out_u8 = out_u8;
    r->out_pot = ctx->out_pot;
    if (ctx->lc) {
        r->w16 = ctx->lc[li].w16;
        r->dw16 = ctx->lc[li].dw16;
        r->fpre = ctx->lc[li].fpre;
        r->w8q = ctx->lc[li].w8q;
        r->bias8 = ctx->lc[li].bias8;
        r->dwp = ctx->lc[li].dwp;
    }
    r->wb = m->image + r->l->off_w;
    r->dwb = m->image + r->l->off_dw;
    r->part = part;
    r->parts = parts;
#if defined(QSNN_SNN_HAVE_MT)
    /* (a one-layer model has no barrier before the layer to reset the counter behind) */
    r->claim = ctx->lc && m->num_layers > 1 ? &ctx->lc[li].claim : NULL;
#endif
    if (r->l->act_bits) {
        r->th_t = (const int32_t *)(const void *)(m->image + r->l->off_th);
        r->th_s = r->th_t + r->l->out_c;
    }
    int mode = ctx->mode;
    if (mode == QSNN_SNN_DENSE && !ctx->dense_ok[li])
        mode = QSNN_SNN_REF;
    layout(r->l, mode, ctx->dense_ok[li], ctx->act8[0] != NULL, ctx->tscratch[part], &r->s);
    return mode;
}

static qsnn_status run_one_layer(qsnn_snn_ctx *ctx, int li, const uint8_t *in, int in_u8, uint8_t *out, int out_u8,
                                 uint64_t *out_nnz, int32_t *pot_dump, int count_nnz)
{
    run_state r;
    int mode = layer_state(&r, ctx, li, in, in_u8, out, out_u8, 0, 1);
    r.pot_dump = pot_dump;
    r.count_nnz = count_nnz;
    if (r.l->pool)
        memset(r.s.gap, 0, (size_t)r.l->out_c * 4);
    if (r.l->act_bits && !out_u8)
        memset(out, 0, (count_of(r.l->out_h, r.l->out_w, r.l->out_c) + 1) / 2);
    qsnn_status st = QSNN_OK;
    if (mode == QSNN_SNN_EVENT)
        st = layer_event(&r);
    else if (mode == QSNN_SNN_DENSE)
        layer_dense(&r);
    else
        layer_ref(&r);
    *out_nnz = r.nnz;
    return st;
}

qsnn_status qsnn_snn_run(qsnn_snn_ctx *ctx, const uint8_t *x, int32_t *potentials, int32_t *pred,
                         qsnn_snn_stats *stats)
{
    const qsnn_snn_model *m = ctx->m;
    const uint8_t *in = x;
    uint64_t prev_nnz = 0;
    if (stats) {
        size_t n = count_of(m->in_h, m->in_w, m->in_c);
        for (size_t i = 0; i < n; i++)
            prev_nnz += x[i] != 0;
    }
    /* byte maps between layers when the context has them and nobody looks at the packed levels */
    int bytes = ctx->act8[0] && !ctx->cb;
    for (int li = 0; li < m->num_layers; li++) {
        const qsnn_snn_layer *l = &m->layers[li];
        uint8_t *out = bytes ? ctx->act8[li & 1] : ctx->act[li & 1];
        double t0 = stats ? now_ns() : 0;
        uint64_t nnz = 0;
        qsnn_status st = run_one_layer(ctx, li, in, li == 0 ? l->in_bits == 8 : bytes, out, bytes, &nnz, NULL,
                                       stats != NULL);
        if (st != QSNN_OK)
            return st;
        if (stats) {
            stats->time_ns[li] += (uint64_t)(now_ns() - t0);
            stats->in_nnz[li] += prev_nnz;
            stats->out_nnz[li] += nnz;
        }
        prev_nnz = nnz;
        if (ctx->cb)
            ctx->cb(ctx->user, li, l->act_bits ? out : NULL, l->act_bits ? NULL : ctx->out_pot,
                    count_of(l->out_h, l->out_w, l->out_c));
        in = out;
    }
    if (stats)
        stats->samples++;
    if (potentials)
        memcpy(potentials, ctx->out_pot, (size_t)m->num_classes * 4);
    if (pred)
        *pred = qsnn_snn_argmax_s32(ctx->out_pot, m->num_classes);
    return QSNN_OK;
}

#if defined(QSNN_SNN_HAVE_MT)
/* Centralised barrier of the ctx's workers (generation counter; spins: the workers are expected to be on
 * their own cores, as for any latency-bound parallel inference). */
static void barrier(qsnn_snn_ctx *c)
{
    unsigned gen = atomic_load_explicit(&c->bar_gen, memory_order_acquire);
    if (atomic_fetch_add_explicit(&c->bar_count, 1, memory_order_acq_rel) == c->nthreads - 1) {
        atomic_store_explicit(&c->bar_count, 0, memory_order_relaxed);
        atomic_store_explicit(&c->bar_gen, gen + 1u, memory_order_release);
    } else {
        while (atomic_load_explicit(&c->bar_gen, memory_order_acquire) == gen) {
#if defined(__AVX2__)
            _mm_pause();
#endif
        }
    }
}
#endif

qsnn_status qsnn_snn_run_mt(qsnn_snn_ctx *ctx, int tid, const uint8_t *x, int32_t *potentials, int32_t *pred)
{
#if defined(QSNN_SNN_HAVE_MT)
    if (ctx->nthreads == 1 || ctx->cb || ctx->mode != QSNN_SNN_DENSE)
#endif
        return tid == 0 ? qsnn_snn_run(ctx, x, potentials, pred, NULL) : QSNN_OK;
#if defined(QSNN_SNN_HAVE_MT)
    if (tid < 0 || tid >= ctx->nthreads)
        return qsnn_fail(QSNN_ERR_ARG, "snn: worker %d of %d", tid, ctx->nthreads);
    const qsnn_snn_model *m = ctx->m;
    const uint8_t *in = x;
    qsnn_status st = QSNN_OK;
    int T = ctx->nthreads;
    for (int li = 0; li < m->num_layers; li++) {
        const qsnn_snn_layer *l = &m->layers[li];
        uint8_t *out = ctx->act8[li & 1];
        int in_u8 = li == 0 ? l->in_bits == 8 : 1;
        run_state r;
        int mode = layer_state(&r, ctx, li, in, in_u8, out, 1, tid, T);
        /* the next layer's chunk counter, reset before the barrier that ends this layer (no worker is past it; the
         * last layer resets the first one's for the next clip) */
        if (tid == 0 && m->num_layers > 1)
            atomic_store_explicit(&ctx->lc[(li + 1) % m->num_layers].claim, 0, memory_order_relaxed);
        if (mode == QSNN_SNN_DENSE && pair_path(&r)) {
            /* every worker: its pixel pairs (pooled layers: its partial sums) */
            if (l->pool)
                memset(r.s.gap, 0, (size_t)l->out_c * 4);
            layer_dense(&r);
            barrier(ctx);
            if (l->pool) {
                if (tid == 0) {
                    for (int t = 1; t < T; t++) {
                        scratch_ptrs o;
                        layout(l, mode, ctx->dense_ok[li], 1, ctx->tscratch[t], &o);
                        add_s32(r.s.gap, o.gap, l->out_c);
                    }
                    finish_pool(&r, 0);
                }
                barrier(ctx);
            }
        } else {
            if (tid == 0) {
                uint64_t nnz;
                qsnn_status s1 = run_one_layer(ctx, li, in, in_u8, out, 1, &nnz, NULL, 0);
                st = st == QSNN_OK ? s1 : st;
            }
            barrier(ctx);
        }
        in = out;
    }
    if (tid == 0) {
        if (potentials)
            memcpy(potentials, ctx->out_pot, (size_t)m->num_classes * 4);
        if (pred)
            *pred = qsnn_snn_argmax_s32(ctx->out_pot, m->num_classes);
    }
    return st;
#endif
}

qsnn_status qsnn_snn_run_batch(qsnn_snn_ctx *ctx, const uint8_t *x, size_t n, int32_t *potentials, int32_t *pred,
                               qsnn_snn_stats *stats)
{
    const qsnn_snn_model *m = ctx->m;
    size_t in_n = count_of(m->in_h, m->in_w, m->in_c);
    for (size_t i = 0; i < n; i++) {
        qsnn_status st = qsnn_snn_run(ctx, x + i * in_n, potentials ? potentials + i * (size_t)m->num_classes : NULL,
                                      pred ? pred + i : NULL, stats);
        if (st != QSNN_OK)
            return st;
    }
    return QSNN_OK;
}

qsnn_status qsnn_snn_run_layer(qsnn_snn_ctx *ctx, int layer, const uint8_t *in, uint8_t *levels,
                               int32_t *potentials)
{
    const qsnn_snn_model *m = ctx->m;
    if (layer < 0 || layer >= m->num_layers)
        return qsnn_fail(QSNN_ERR_ARG, "snn: layer %d out of range 0..%d", layer, m->num_layers - 1);
    const qsnn_snn_layer *l = &m->layers[layer];
    const uint8_t *src = in;
    uint8_t *packed_in = ctx->act[(layer + 1) & 1], *out = ctx->act[layer & 1];
    if (layer > 0) {
        size_t n = count_of(l->in_h, l->in_w, l->in_c);
        int maxv = (1 << l->in_bits) - 1;
        memset(packed_in, 0, (n + 1) / 2);
        for (size_t i = 0; i < n; i++) {
            if (in[i] > maxv)
                return qsnn_fail(QSNN_ERR_RANGE, "snn: layer '%s': input level %d at %zu exceeds %d", l->name,
                                 in[i], i, maxv);
            packed_in[i >> 1] |= (uint8_t)(in[i] << ((i & 1) * 4));
        }
        src = packed_in;
    }
    uint64_t nnz;
    qsnn_status st = run_one_layer(ctx, layer, src, layer == 0 ? l->in_bits == 8 : 0, out, 0, &nnz,
                                   l->act_bits ? potentials : NULL, 1);
    if (st != QSNN_OK)
        return st;
    size_t n = count_of(l->out_h, l->out_w, l->out_c);
    if (l->act_bits) {
        if (levels)
            for (size_t i = 0; i < n; i++)
                levels[i] = (uint8_t)qsnn_snn_nibble_u4(out, i);
    } else if (potentials) {
        memcpy(potentials, ctx->out_pot, n * 4);
    }
    return QSNN_OK;
}

/* ---- statistics ---- */

uint64_t qsnn_snn_ops_per_event(const qsnn_snn_layer *l)
{
    uint64_t kk = (uint64_t)l->kh * (uint64_t)l->kw, f = (uint64_t)l->out_c;
    switch (l->type) {
    case QSNN_SNN_SEPARABLE: return kk + kk * f;
    case QSNN_SNN_FC: return f;
    default: return kk * f;
    }
}

void qsnn_snn_stats_layer(const qsnn_snn_model *m, const qsnn_snn_stats *st, int layer, qsnn_snn_layer_stats *out)
{
    const qsnn_snn_layer *l = &m->layers[layer];
    memset(out, 0, sizeof *out);
    out->has_input = layer > 0;
    if (!st->samples)
        return;
    double ns = (double)st->samples;
    double in_n = (double)count_of(l->in_h, l->in_w, l->in_c), out_n = (double)count_of(l->out_h, l->out_w, l->out_c);
    double in_events = (double)st->in_nnz[layer] / ns;
    out->in_sparsity = 1.0 - in_events / in_n;
    /* a layer with activations disabled delivers no spikes: Akida prints 0.00 */
    out->out_sparsity = l->act_bits ? 1.0 - (double)st->out_nnz[layer] / ns / out_n : 0.0;
    out->ops = layer > 0 ? (double)qsnn_snn_ops_per_event(l) * in_events : 0.0;
    out->time_us = (double)st->time_ns[layer] / ns / 1000.0;
}

void qsnn_snn_stats_merge(qsnn_snn_stats *dst, const qsnn_snn_stats *src, int num_layers)
{
    dst->samples += src->samples;
    for (int i = 0; i < num_layers; i++) {
        dst->in_nnz[i] += src->in_nnz[i];
        dst->out_nnz[i] += src->out_nnz[i];
        dst->time_ns[i] += src->time_ns[i];
    }
}
