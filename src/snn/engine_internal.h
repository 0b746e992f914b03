/* SPDX-License-Identifier: Apache-2.0 */
/* engine_internal.h (private to src/snn): what the engine's files share: the context and its workspace, the
 * per-layer run state, and the pieces every path uses (weight access, fire-or-store, emit, pooling).
 *
 * The engine, by file:
 *   snn_context.c  memory sizes, the workspace layout, the weight cache, qsnn_snn_init
 *   snn_ref.c      the reference path      snn_event.c  the event path      snn_dense.c  the dense SIMD path
 *   snn_run.c      the driver: qsnn_snn_run, the worker threads of qsnn_snn_run_mt, qsnn_snn_run_layer
 *   snn_stats.c    Akida's statistics      snn_kernels.c  fire and gemv kernels (kernels_internal.h)
 *   snn_model.c    image validation        snn_file.c     the .snn file (not in the libc-only library)
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
#ifndef QSNN_SNN_ENGINE_INTERNAL_H
#define QSNN_SNN_ENGINE_INTERNAL_H

#include "qsnn/simd.h"
#include "qsnn/snn.h"
#include "snn/kernels_internal.h"

#include <string.h>

#if !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
#define QSNN_SNN_HAVE_MT 1
#endif

#if QSNN_SIMD_X86
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
static inline size_t sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }
static inline size_t sat_mul(size_t a, size_t b) { return b && a > SIZE_MAX / b ? SIZE_MAX : a * b; }
static inline size_t up(size_t n) { return n > SIZE_MAX - ALIGN ? SIZE_MAX : (n + ALIGN - 1) / ALIGN * ALIGN; }
static inline size_t count3(size_t a, size_t b, size_t c) { return sat_mul(sat_mul(a, b), c); }
static inline size_t count_of(int h, int w, int c) { return count3((size_t)h, (size_t)w, (size_t)c); }

static inline int ring_rows(const qsnn_snn_layer *l) { return (l->kh + l->stride_h - 1) / l->stride_h + 1; }

static inline int max_in(const qsnn_snn_layer *l) { return l->in_bits == 8 ? 255 : (1 << l->in_bits) - 1; }

/* Input quads of the uint8 pointwise pass (K rounded up to a multiple of 4). */
static inline size_t quads(int k) { return ((size_t)k + 3) / 4; }

/* A separable layer whose pointwise weights suit qsnn_snn_gemv2_u8_s8 ([-8, 8]: 4-bit weights). */
static inline int has_w8q(const qsnn_snn_layer *l) { return l->type == QSNN_SNN_SEPARABLE && l->weight_bits <= 4; }

#define MAX_TAPS 64

/* A separable layer whose depthwise runs as uint8 x int8 tap pairs over a zero-padded input (dw_pairs_u8):
 * the AVX2 kernels (chosen at run time: the workspace layout follows the choice), 4-bit weights (|pair sums| <= 2 * 255 * 8, no saturation), channels in blocks of 32. */
static inline int has_dwp(const qsnn_snn_layer *l)
{
#if QSNN_SIMD_X86
    return has_w8q(l) && l->in_c % 32 == 0 && l->kh * l->kw <= MAX_TAPS && qsnn_simd_avx2();
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
static inline int padded_h(const qsnn_snn_layer *l) { return (l->conv_h - 1) * l->stride_h + l->kh; }
static inline int padded_w(const qsnn_snn_layer *l) { return (l->conv_w - 1) * l->stride_w + l->kw; }
#define IM2COL_SLACK 16 /* values written past a kernel row by the 16-wide im2col copy */

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
static inline int count_nonzero(const uint8_t *v, int n)
{
    int c = 0;
    for (int j = 0; j < n; j++)
        c += v[j] != 0;
    return c;
}

static inline void fire_or_store(run_state *r, const int32_t *pot, size_t pixel, int ref)
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

static inline void add_s32(int32_t *restrict acc, const int32_t *restrict v, int n)
{
    for (int i = 0; i < n; i++)
        acc[i] += v[i];
}

/* Potentials of one output pixel (before pooling): fire it now or add it to the pooled sum. */
static inline void emit(run_state *r, const int32_t *pot, int y, int x, int ref)
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
static inline void emit_pair(run_state *r, const int32_t *pot0, const int32_t *pot1, int y, int x)
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

static inline void finish_pool(run_state *r, int ref)
{
    if (r->l->pool)
        fire_or_store(r, r->s.gap, 0, ref);
}

/* The depthwise sums of a separable layer fit int16 (dense path precondition; snn_context.c). */
int qsnn_snn_dw_fits_s16(const qsnn_snn_model *m, int li);
/* Scratch layout of one layer (snn_context.c): the bytes needed and, when base != NULL, the pointers. */
size_t qsnn_snn_layout(const qsnn_snn_layer *l, int mode, int dense_ok, int cached, unsigned char *base,
                       scratch_ptrs *p);
/* The three paths, one layer each (snn_ref.c, snn_event.c, snn_dense.c). */
void qsnn_snn_layer_ref(run_state *r);
qsnn_status qsnn_snn_layer_event(run_state *r);
void qsnn_snn_layer_dense(run_state *r);
/* The layer runs the pixel-pair kernels that qsnn_snn_run_mt splits (snn_dense.c). */
int qsnn_snn_pair_path(const run_state *r);

#endif
