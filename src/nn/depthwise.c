/* SPDX-License-Identifier: Apache-2.0 */
/* depthwise.c: depthwise 2-D convolution (depth multiplier 1, NHWC, weights [kh][kw][c]), forward and backward.
 *
 * _ref: plain loops whose inner loop runs over the channels (contiguous everywhere), scatter form.
 * Fast path (AVX2 + FMA, chosen at run time: qsnn/simd.h; channels a multiple of 8): results accumulate in registers,
 * 32 channels at a time, and are written once: forward gathers the taps of an output pixel; the input gradient (stride
 * 1) gathers the taps of an input pixel (correlation with the flipped kernel); the weight gradient sums x * g over all
 * valid output pixels of a tap. 3x3 stride-1 kernels (every separable layer of mobilenet_kws) have a faster path
 * (dw33_*): 8 channels at a time with the 9 taps in registers, 4 output pixels of a row in flight; the input gradient
 * is the same plane kernel run on g with the flipped kernel. With 'same' padding and rows of at most 8 pixels (dw33s_*:
 * mobilenet_kws' 25 x 5 planes) a whole output row stays in registers, the width is a compile-time constant (no guarded
 * loads) and the weight gradient keeps its 9 tap sums in registers for a whole plane. Other shapes use _ref. Summation
 * order differs from _ref (float rounding only). */
#include "qsnn/nn.h"
#include "qsnn/simd.h"

#include <string.h>

void qsnn_depthwise_forward_ref(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c)
{
    const int C = c->cin;
    const size_t in_sz = (size_t)c->h * c->w * C, out_sz = (size_t)c->oh * c->ow * C;
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        float *y = out + s * out_sz;
        for (int oy = 0; oy < c->oh; oy++)
            for (int ox = 0; ox < c->ow; ox++) {
                float *restrict yo = y + ((size_t)oy * c->ow + ox) * C;
                memset(yo, 0, (size_t)C * sizeof *yo);
                for (int ky = 0; ky < c->kh; ky++) {
                    int iy = oy * c->sh - c->pad_t + ky;
                    if (iy < 0 || iy >= c->h)
                        continue;
                    for (int kx = 0; kx < c->kw; kx++) {
                        int ix = ox * c->sw - c->pad_l + kx;
                        if (ix < 0 || ix >= c->w)
                            continue;
                        const float *restrict xi = x + ((size_t)iy * c->w + ix) * C;
                        const float *restrict wk = wt + ((size_t)ky * c->kw + kx) * C;
                        for (int ch = 0; ch < C; ch++)
                            yo[ch] += xi[ch] * wk[ch];
                    }
                }
            }
    }
}

void qsnn_depthwise_backward_ref(float *din, float *dwt, const float *dout, const float *in, const float *wt, size_t n,
                             const qsnn_conv_cfg *c)
{
    const int C = c->cin;
    const size_t in_sz = (size_t)c->h * c->w * C, out_sz = (size_t)c->oh * c->ow * C;
    if (din)
        memset(din, 0, n * in_sz * sizeof *din);
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        const float *dy = dout + s * out_sz;
        float *dx = din ? din + s * in_sz : NULL;
        for (int oy = 0; oy < c->oh; oy++)
            for (int ox = 0; ox < c->ow; ox++) {
                const float *restrict g = dy + ((size_t)oy * c->ow + ox) * C;
                for (int ky = 0; ky < c->kh; ky++) {
                    int iy = oy * c->sh - c->pad_t + ky;
                    if (iy < 0 || iy >= c->h)
                        continue;
                    for (int kx = 0; kx < c->kw; kx++) {
                        int ix = ox * c->sw - c->pad_l + kx;
                        if (ix < 0 || ix >= c->w)
                            continue;
                        size_t ioff = ((size_t)iy * c->w + ix) * C;
                        size_t koff = ((size_t)ky * c->kw + kx) * C;
                        const float *restrict xi = x + ioff;
                        float *restrict dwk = dwt + koff;
                        for (int ch = 0; ch < C; ch++)
                            dwk[ch] += xi[ch] * g[ch];
                        if (dx) {
                            float *restrict dxi = dx + ioff;
                            const float *restrict wk = wt + koff;
                            for (int ch = 0; ch < C; ch++)
                                dxi[ch] += g[ch] * wk[ch];
                        }
                    }
                }
            }
    }
}

#if QSNN_SIMD_X86
#include <immintrin.h>
QSNN_AVX2_BEGIN

#define INLINE static inline __attribute__((always_inline))

/* Kernels on NB blocks of 8 channels starting at c0; NB is a literal at every call so the accumulators stay in
 * registers (a runtime block count makes GCC spill them to the stack). */
INLINE void dw_fwd_px(float *yo, const float *x, const float *wt, const qsnn_conv_cfg *c, int iy0, int ix0,
                      int ky0, int ky1, int kx0, int kx1, int c0, const int NB)
{
    const int C = c->cin;
    __m256 acc[4];
    for (int b = 0; b < NB; b++)
        acc[b] = _mm256_setzero_ps();
    for (int ky = ky0; ky < ky1; ky++)
        for (int kx = kx0; kx < kx1; kx++) {
            const float *xi = x + ((size_t)(iy0 + ky) * c->w + (ix0 + kx)) * C + c0;
            const float *wk = wt + ((size_t)ky * c->kw + kx) * C + c0;
            for (int b = 0; b < NB; b++)
                acc[b] = _mm256_fmadd_ps(_mm256_loadu_ps(xi + 8 * b), _mm256_loadu_ps(wk + 8 * b), acc[b]);
        }
    for (int b = 0; b < NB; b++)
        _mm256_storeu_ps(yo + c0 + 8 * b, acc[b]);
}

static void dw_fwd_fast(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c)
{
    const int C = c->cin;
    const size_t in_sz = (size_t)c->h * c->w * C, out_sz = (size_t)c->oh * c->ow * C;
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        float *y = out + s * out_sz;
        for (int oy = 0; oy < c->oh; oy++) {
            const int iy0 = oy * c->sh - c->pad_t;
            const int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = c->h - iy0 < c->kh ? c->h - iy0 : c->kh;
            for (int ox = 0; ox < c->ow; ox++) {
                const int ix0 = ox * c->sw - c->pad_l;
                const int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = c->w - ix0 < c->kw ? c->w - ix0 : c->kw;
                float *yo = y + ((size_t)oy * c->ow + ox) * C;
                int c0 = 0;
                for (; c0 + 32 <= C; c0 += 32)
                    dw_fwd_px(yo, x, wt, c, iy0, ix0, ky0, ky1, kx0, kx1, c0, 4);
                for (; c0 < C; c0 += 8)
                    dw_fwd_px(yo, x, wt, c, iy0, ix0, ky0, ky1, kx0, kx1, c0, 1);
            }
        }
    }
}

INLINE void dw_wgrad_tap(float *dwk, const float *x, const float *g, const qsnn_conv_cfg *c, int ky, int kx,
                         int oy0, int oy1, int ox0, int ox1, int c0, const int NB)
{
    const int C = c->cin;
    __m256 acc[4];
    for (int b = 0; b < NB; b++)
        acc[b] = _mm256_setzero_ps();
    for (int oy = oy0; oy < oy1; oy++) {
        const int iy = oy * c->sh - c->pad_t + ky;
        for (int ox = ox0; ox < ox1; ox++) {
            const int ix = ox * c->sw - c->pad_l + kx;
            const float *xi = x + ((size_t)iy * c->w + ix) * C + c0;
            const float *gi = g + ((size_t)oy * c->ow + ox) * C + c0;
            for (int b = 0; b < NB; b++)
                acc[b] = _mm256_fmadd_ps(_mm256_loadu_ps(xi + 8 * b), _mm256_loadu_ps(gi + 8 * b), acc[b]);
        }
    }
    for (int b = 0; b < NB; b++)
        _mm256_storeu_ps(dwk + c0 + 8 * b, _mm256_add_ps(_mm256_loadu_ps(dwk + c0 + 8 * b), acc[b]));
}

INLINE void dw_igrad_px(float *d, const float *g, const float *wt, const qsnn_conv_cfg *c, int iy, int ix, int c0,
                        const int NB)
{
    const int C = c->cin;
    __m256 acc[4];
    for (int b = 0; b < NB; b++)
        acc[b] = _mm256_setzero_ps();
    for (int ky = 0; ky < c->kh; ky++) {
        const int oy = iy + c->pad_t - ky;
        if (oy < 0 || oy >= c->oh)
            continue;
        for (int kx = 0; kx < c->kw; kx++) {
            const int ox = ix + c->pad_l - kx;
            if (ox < 0 || ox >= c->ow)
                continue;
            const float *gi = g + ((size_t)oy * c->ow + ox) * C + c0;
            const float *wk = wt + ((size_t)ky * c->kw + kx) * C + c0;
            for (int b = 0; b < NB; b++)
                acc[b] = _mm256_fmadd_ps(_mm256_loadu_ps(gi + 8 * b), _mm256_loadu_ps(wk + 8 * b), acc[b]);
        }
    }
    for (int b = 0; b < NB; b++)
        _mm256_storeu_ps(d + c0 + 8 * b, acc[b]);
}

static void dw_bwd_fast(float *din, float *dwt, const float *dout, const float *in, const float *wt, size_t n,
                        const qsnn_conv_cfg *c)
{
    const int C = c->cin;
    const size_t in_sz = (size_t)c->h * c->w * C, out_sz = (size_t)c->oh * c->ow * C;
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        const float *g = dout + s * out_sz;
        /* weight gradient: per tap, sum over the output pixels whose input is inside the image */
        for (int ky = 0; ky < c->kh; ky++) {
            int oy0, oy1;
            qsnn_conv_tap_span(ky, c->sh, c->pad_t, c->h, c->oh, &oy0, &oy1);
            for (int kx = 0; kx < c->kw; kx++) {
                int ox0, ox1;
                qsnn_conv_tap_span(kx, c->sw, c->pad_l, c->w, c->ow, &ox0, &ox1);
                float *dwk = dwt + ((size_t)ky * c->kw + kx) * C;
                int c0 = 0;
                for (; c0 + 32 <= C; c0 += 32)
                    dw_wgrad_tap(dwk, x, g, c, ky, kx, oy0, oy1, ox0, ox1, c0, 4);
                for (; c0 < C; c0 += 8)
                    dw_wgrad_tap(dwk, x, g, c, ky, kx, oy0, oy1, ox0, ox1, c0, 1);
            }
        }
        if (!din)
            continue;
        /* input gradient, stride 1: din[iy, ix] = sum over taps of g[iy + pad_t - ky, ix + pad_l - kx] * w[ky, kx] */
        float *dx = din + s * in_sz;
        for (int iy = 0; iy < c->h; iy++)
            for (int ix = 0; ix < c->w; ix++) {
                float *d = dx + ((size_t)iy * c->w + ix) * C;
                int c0 = 0;
                for (; c0 + 32 <= C; c0 += 32)
                    dw_igrad_px(d, g, wt, c, iy, ix, c0, 4);
                for (; c0 < C; c0 += 8)
                    dw_igrad_px(d, g, wt, c, iy, ix, c0, 1);
            }
    }
}

/* 3x3 stride-1 kernels: 8 channels at a time with the 9 taps held in registers (one load per FMA instead of two)
 * and 4 output pixels of a row in flight (4 independent FMA chains; each input vector loaded once per row group
 * and used for up to 3 outputs). Out-of-image inputs read as zero. */
INLINE __m256 dw_ld(const float *src, int y, int x, int H, int Wd, int C)
{
    if (y < 0 || y >= H || x < 0 || x >= Wd)
        return _mm256_setzero_ps();
    return _mm256_loadu_ps(src + ((size_t)y * Wd + x) * C);
}

/* dst[oy, ox] = sum over (ky, kx) of src[oy - pt + ky, ox - pl + kx] * w[ky * 3 + kx] for all C channels (pixel
 * stride C); w is wt (flip == 0) or wt with the taps reversed (flip == 1). Rows outermost and channel blocks
 * inside, so the three source rows stay in L1 while every block of 8 channels is computed. */
static void dw33_plane(float *dst, const float *src, const float *wt, int flip, int H, int Wd, int DH, int DW,
                       int pt, int pl, int C)
{
    for (int oy = 0; oy < DH; oy++) {
        const int iy = oy - pt;
        for (int c0 = 0; c0 < C; c0 += 8) {
            const float *sb = src + c0;
            float *drow = dst + (size_t)oy * DW * C + c0;
#define WT(K) _mm256_loadu_ps(wt + (size_t)(flip ? 8 - (K) : (K)) * C + c0)
            const __m256 w0 = WT(0), w1 = WT(1), w2 = WT(2), w3 = WT(3), w4 = WT(4), w5 = WT(5), w6 = WT(6),
                         w7 = WT(7), w8 = WT(8);
#undef WT
            int ox = 0;
            for (; ox + 4 <= DW; ox += 4) {
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
                const int ix = ox - pl;
#define DW_ROW(DY, WA, WB, WC)                                                                                        \
    do {                                                                                                              \
        __m256 v;                                                                                                     \
        v = dw_ld(sb, iy + DY, ix + 0, H, Wd, C);                                                                    \
        a0 = _mm256_fmadd_ps(v, WA, a0);                                                                              \
        v = dw_ld(sb, iy + DY, ix + 1, H, Wd, C);                                                                    \
        a0 = _mm256_fmadd_ps(v, WB, a0);                                                                              \
        a1 = _mm256_fmadd_ps(v, WA, a1);                                                                              \
        v = dw_ld(sb, iy + DY, ix + 2, H, Wd, C);                                                                    \
        a0 = _mm256_fmadd_ps(v, WC, a0);                                                                              \
        a1 = _mm256_fmadd_ps(v, WB, a1);                                                                              \
        a2 = _mm256_fmadd_ps(v, WA, a2);                                                                              \
        v = dw_ld(sb, iy + DY, ix + 3, H, Wd, C);                                                                    \
        a1 = _mm256_fmadd_ps(v, WC, a1);                                                                              \
        a2 = _mm256_fmadd_ps(v, WB, a2);                                                                              \
        a3 = _mm256_fmadd_ps(v, WA, a3);                                                                              \
        v = dw_ld(sb, iy + DY, ix + 4, H, Wd, C);                                                                    \
        a2 = _mm256_fmadd_ps(v, WC, a2);                                                                              \
        a3 = _mm256_fmadd_ps(v, WB, a3);                                                                              \
        v = dw_ld(sb, iy + DY, ix + 5, H, Wd, C);                                                                    \
        a3 = _mm256_fmadd_ps(v, WC, a3);                                                                              \
    } while (0)
            DW_ROW(0, w0, w1, w2);
            DW_ROW(1, w3, w4, w5);
            DW_ROW(2, w6, w7, w8);
#undef DW_ROW
            _mm256_storeu_ps(drow + (size_t)ox * C, a0);
            _mm256_storeu_ps(drow + (size_t)(ox + 1) * C, a1);
            _mm256_storeu_ps(drow + (size_t)(ox + 2) * C, a2);
            _mm256_storeu_ps(drow + (size_t)(ox + 3) * C, a3);
        }
        for (; ox < DW; ox++) {
            const int ix = ox - pl;
            __m256 a = _mm256_mul_ps(dw_ld(sb, iy, ix, H, Wd, C), w0);
            a = _mm256_fmadd_ps(dw_ld(sb, iy, ix + 1, H, Wd, C), w1, a);
            a = _mm256_fmadd_ps(dw_ld(sb, iy, ix + 2, H, Wd, C), w2, a);
            a = _mm256_fmadd_ps(dw_ld(sb, iy + 1, ix, H, Wd, C), w3, a);
            a = _mm256_fmadd_ps(dw_ld(sb, iy + 1, ix + 1, H, Wd, C), w4, a);
            a = _mm256_fmadd_ps(dw_ld(sb, iy + 1, ix + 2, H, Wd, C), w5, a);
            a = _mm256_fmadd_ps(dw_ld(sb, iy + 2, ix, H, Wd, C), w6, a);
            a = _mm256_fmadd_ps(dw_ld(sb, iy + 2, ix + 1, H, Wd, C), w7, a);
            a = _mm256_fmadd_ps(dw_ld(sb, iy + 2, ix + 2, H, Wd, C), w8, a);
            _mm256_storeu_ps(drow + (size_t)ox * C, a);
        }
        }
    }
}

/* 3x3 stride-1 'same' padding (one pixel on every side) with rows of at most 8 pixels (mobilenet_kws: 25 x 5): per
 * sample and block of 8 channels, the 9 taps stay in registers for the whole plane and a whole output row is
 * accumulated in registers; the row width is a literal at every call (dw33s_* below are instantiated per width), so
 * the compiler resolves every border test and no load is guarded. Summation order per output: taps row-major, as
 * _ref. */
INLINE void dw33s_plane_blk(float *dst, const float *src, const __m256 *w, int H, int C, const int W)
{
    for (int y = 0; y < H; y++) {
        __m256 acc[8];
        for (int x = 0; x < W; x++)
            acc[x] = _mm256_setzero_ps();
        for (int dy = 0; dy < 3; dy++) {
            const int iy = y - 1 + dy;
            if (iy < 0 || iy >= H)
                continue;
            const float *row = src + (size_t)iy * W * C;
            const __m256 wa = w[3 * dy], wb = w[3 * dy + 1], wc = w[3 * dy + 2];
            for (int ix = 0; ix < W; ix++) { /* input ix feeds outputs ix + 1 (tap 0), ix (tap 1), ix - 1 (tap 2) */
                const __m256 v = _mm256_loadu_ps(row + (size_t)ix * C);
                if (ix + 1 < W)
                    acc[ix + 1] = _mm256_fmadd_ps(v, wa, acc[ix + 1]);
                acc[ix] = _mm256_fmadd_ps(v, wb, acc[ix]);
                if (ix >= 1)
                    acc[ix - 1] = _mm256_fmadd_ps(v, wc, acc[ix - 1]);
            }
        }
        float *drow = dst + (size_t)y * W * C;
        for (int x = 0; x < W; x++)
            _mm256_storeu_ps(drow + (size_t)x * C, acc[x]);
    }
}

/* dwt[k] += sum over output pixels of x[tap k of the pixel] * g[pixel], one block of 8 channels, 9 sums in registers
 * over the whole plane, the output row of g in registers */
INLINE void dw33s_wgrad_blk(float *dwt, const float *x, const float *g, int H, int C, const int W)
{
    __m256 t[9];
    for (int k = 0; k < 9; k++)
        t[k] = _mm256_setzero_ps();
    for (int y = 0; y < H; y++) {
        __m256 gv[8];
        for (int ox = 0; ox < W; ox++)
            gv[ox] = _mm256_loadu_ps(g + ((size_t)y * W + ox) * C);
        for (int dy = 0; dy < 3; dy++) {
            const int iy = y - 1 + dy;
            if (iy < 0 || iy >= H)
                continue;
            const float *row = x + (size_t)iy * W * C;
            for (int ix = 0; ix < W; ix++) { /* input ix is tap 0 of output ix + 1, tap 1 of ix, tap 2 of ix - 1 */
                const __m256 v = _mm256_loadu_ps(row + (size_t)ix * C);
                if (ix + 1 < W)
                    t[3 * dy] = _mm256_fmadd_ps(v, gv[ix + 1], t[3 * dy]);
                t[3 * dy + 1] = _mm256_fmadd_ps(v, gv[ix], t[3 * dy + 1]);
                if (ix >= 1)
                    t[3 * dy + 2] = _mm256_fmadd_ps(v, gv[ix - 1], t[3 * dy + 2]);
            }
        }
    }
    for (int k = 0; k < 9; k++) {
        float *d = dwt + (size_t)k * C;
        _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), t[k]));
    }
}

#define DW33S_WIDTHS(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8)
#define DW33S_DEF(WL)                                                                                                 \
    static void dw33s_plane_w##WL(float *dst, const float *src, const __m256 *w, int H, int C)                       \
    {                                                                                                                 \
        dw33s_plane_blk(dst, src, w, H, C, WL);                                                                       \
    }                                                                                                                 \
    static void dw33s_wgrad_w##WL(float *dwt, const float *x, const float *g, int H, int C)                          \
    {                                                                                                                 \
        dw33s_wgrad_blk(dwt, x, g, H, C, WL);                                                                         \
    }
DW33S_WIDTHS(DW33S_DEF)
#undef DW33S_DEF

typedef void (*dw33s_plane_fn)(float *, const float *, const __m256 *, int, int);
typedef void (*dw33s_wgrad_fn)(float *, const float *, const float *, int, int);
#define DW33S_P(WL) dw33s_plane_w##WL,
#define DW33S_G(WL) dw33s_wgrad_w##WL,
static const dw33s_plane_fn dw33s_plane_tab[8] = {DW33S_WIDTHS(DW33S_P)};
static const dw33s_wgrad_fn dw33s_wgrad_tab[8] = {DW33S_WIDTHS(DW33S_G)};
#undef DW33S_P
#undef DW33S_G

static int dw33s_ok(const qsnn_conv_cfg *c)
{
    return c->kh == 3 && c->kw == 3 && c->sh == 1 && c->sw == 1 && c->cin % 8 == 0 && c->pad_t == 1 &&
           c->pad_l == 1 && c->oh == c->h && c->ow == c->w && c->w >= 1 && c->w <= 8;
}

/* dst = src (*) w for n planes; flip: taps reversed (the input gradient: correlation of g with the flipped kernel,
 * which for 'same' 3x3 has the same padding) */
static void dw33s_planes(float *dst, const float *src, const float *wt, int flip, size_t n, const qsnn_conv_cfg *c)
{
    const int C = c->cin, H = c->h;
    const size_t sz = (size_t)H * c->w * C;
    const dw33s_plane_fn f = dw33s_plane_tab[c->w - 1];
    for (size_t s = 0; s < n; s++)
        for (int c0 = 0; c0 < C; c0 += 8) {
            __m256 w[9];
            for (int k = 0; k < 9; k++)
                w[k] = _mm256_loadu_ps(wt + (size_t)(flip ? 8 - k : k) * C + c0);
            f(dst + s * sz + c0, src + s * sz + c0, w, H, C);
        }
}

static void dw33s_bwd(float *din, float *dwt, const float *dout, const float *in, const float *wt, size_t n,
                      const qsnn_conv_cfg *c)
{
    const int C = c->cin, H = c->h;
    const size_t sz = (size_t)H * c->w * C;
    const dw33s_wgrad_fn f = dw33s_wgrad_tab[c->w - 1];
    for (size_t s = 0; s < n; s++) {
        for (int c0 = 0; c0 < C; c0 += 8)
            f(dwt + c0, in + s * sz + c0, dout + s * sz + c0, H, C);
        if (din)
            dw33s_planes(din + s * sz, dout + s * sz, wt, 1, 1, c);
    }
}

static int dw33_ok(const qsnn_conv_cfg *c)
{
    return c->kh == 3 && c->kw == 3 && c->sh == 1 && c->sw == 1 && c->cin % 8 == 0;
}

static void dw33_fwd(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c)
{
    const int C = c->cin;
    const size_t in_sz = (size_t)c->h * c->w * C, out_sz = (size_t)c->oh * c->ow * C;
    for (size_t s = 0; s < n; s++)
        dw33_plane(out + s * out_sz, in + s * in_sz, wt, 0, c->h, c->w, c->oh, c->ow, c->pad_t, c->pad_l, C);
}

static void dw33_bwd(float *din, float *dwt, const float *dout, const float *in, const float *wt, size_t n,
                     const qsnn_conv_cfg *c)
{
    const int C = c->cin, H = c->h, Wd = c->w, OH = c->oh, OW = c->ow, pt = c->pad_t, pl = c->pad_l;
    const size_t in_sz = (size_t)H * Wd * C, out_sz = (size_t)OH * OW * C;
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        const float *g = dout + s * out_sz;
        /* weight gradient: rows outermost (the rows stay in L1), per block of 8 channels the 9 tap sums in
         * registers over the row, added to dwt once per row */
        for (int oy = 0; oy < OH; oy++) {
            const int iy = oy - pt;
            for (int c0 = 0; c0 < C; c0 += 8) {
                __m256 t0 = _mm256_setzero_ps(), t1 = t0, t2 = t0, t3 = t0, t4 = t0, t5 = t0, t6 = t0, t7 = t0,
                       t8 = t0;
                const float *xb = x + c0;
                for (int ox = 0; ox < OW; ox++) {
                    const int ix = ox - pl;
                    const __m256 gv = _mm256_loadu_ps(g + ((size_t)oy * OW + ox) * C + c0);
                    t0 = _mm256_fmadd_ps(dw_ld(xb, iy, ix, H, Wd, C), gv, t0);
                    t1 = _mm256_fmadd_ps(dw_ld(xb, iy, ix + 1, H, Wd, C), gv, t1);
                    t2 = _mm256_fmadd_ps(dw_ld(xb, iy, ix + 2, H, Wd, C), gv, t2);
                    t3 = _mm256_fmadd_ps(dw_ld(xb, iy + 1, ix, H, Wd, C), gv, t3);
                    t4 = _mm256_fmadd_ps(dw_ld(xb, iy + 1, ix + 1, H, Wd, C), gv, t4);
                    t5 = _mm256_fmadd_ps(dw_ld(xb, iy + 1, ix + 2, H, Wd, C), gv, t5);
                    t6 = _mm256_fmadd_ps(dw_ld(xb, iy + 2, ix, H, Wd, C), gv, t6);
                    t7 = _mm256_fmadd_ps(dw_ld(xb, iy + 2, ix + 1, H, Wd, C), gv, t7);
                    t8 = _mm256_fmadd_ps(dw_ld(xb, iy + 2, ix + 2, H, Wd, C), gv, t8);
                }
                const __m256 tv[9] = {t0, t1, t2, t3, t4, t5, t6, t7, t8};
                for (int k = 0; k < 9; k++) {
                    float *d = dwt + (size_t)k * C + c0;
                    _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), tv[k]));
                }
            }
        }
        /* input gradient: correlation of g with the flipped kernel, padding 2 - pad */
        if (din)
            dw33_plane(din + s * in_sz, g, wt, 1, OH, OW, H, Wd, 2 - pt, 2 - pl, C);
    }
}
QSNN_AVX2_END
#endif

void qsnn_depthwise_forward(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c)
{
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2()) {
        if (dw33s_ok(c)) {
            dw33s_planes(out, in, wt, 0, n, c);
            return;
        }
        if (dw33_ok(c)) {
            dw33_fwd(out, in, wt, n, c);
            return;
        }
        if (c->cin % 8 == 0) {
            dw_fwd_fast(out, in, wt, n, c);
            return;
        }
    }
#endif
    qsnn_depthwise_forward_ref(out, in, wt, n, c);
}

void qsnn_depthwise_backward(float *din, float *dwt, const float *dout, const float *in, const float *wt, size_t n,
                             const qsnn_conv_cfg *c)
{
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2()) {
        if (dw33s_ok(c)) {
            dw33s_bwd(din, dwt, dout, in, wt, n, c);
            return;
        }
        if (dw33_ok(c)) {
            dw33_bwd(din, dwt, dout, in, wt, n, c);
            return;
        }
        if (c->cin % 8 == 0 && (!din || (c->sh == 1 && c->sw == 1))) {
            dw_bwd_fast(din, dwt, dout, in, wt, n, c);
            return;
        }
    }
#endif
    qsnn_depthwise_backward_ref(din, dwt, dout, in, wt, n, c);
}
