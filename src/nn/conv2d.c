/* SPDX-License-Identifier: Apache-2.0 */
/* conv2d.c: 2-D convolution (Keras cross-correlation, NHWC, weights [kh][kw][cin][cout]) with stride and TF
 * 'same' padding, forward and backward; also the geometry helper.
 *
 * Direct loops ordered so the innermost loop runs over output channels (contiguous in both the weights and the
 * output): the compiler vectorises it. In mobilenet_kws this is only the first layer (cin = 1, 5x5, stride 2,
 * ~4 % of the FLOPs) and takes the padded path below. Padding taps are skipped, never read.
 * Fast path (AVX2 + FMA, chosen at run time: qsnn/simd.h; cout a multiple of 8): the forward accumulates an output
 * pixel in registers (32 output channels at a time) over its taps; the weight gradient accumulates one (tap, input
 * channel) row over all valid output pixels in registers. With 32 output channels and a small input (the first layer) a
 * padded path copies each sample into a zero-bordered plane and keeps two pixels (forward) or two taps (weight
 * gradient) in flight. Larger layers (the GEMM kernels take kh kw cin and cout, and the im2col block fits): blocks of
 * COL_ROWS output pixels are unrolled into rows of kh kw cin inputs (zeros for padding taps) and the forward and the
 * weight gradient are the register-blocked GEMMs of gemm.c. The input gradient of layers after the first vectorises
 * over input channels, one tap's weights transposed at a time (conv_din_fast); other shapes use the _ref loops. */
#include "nn/gemm_internal.h"
#include "qsnn/nn.h"
#include "qsnn/simd.h"

#include <string.h>

qsnn_status qsnn_conv_cfg_make(qsnn_conv_cfg *c, int h, int w, int cin, int cout, int kh, int kw, int sh, int sw,
                               int same)
{
    if (h <= 0 || w <= 0 || cin <= 0 || cout <= 0 || kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0)
        return qsnn_fail(QSNN_ERR_SHAPE, "conv: non-positive size (in %dx%dx%d, kernel %dx%d, stride %dx%d)", h, w,
                         cin, kh, kw, sh, sw);
    c->h = h;
    c->w = w;
    c->cin = cin;
    c->cout = cout;
    c->kh = kh;
    c->kw = kw;
    c->sh = sh;
    c->sw = sw;
    c->oh = qsnn_conv_out_size(h, kh, sh, same, &c->pad_t);
    c->ow = qsnn_conv_out_size(w, kw, sw, same, &c->pad_l);
    if (c->oh <= 0 || c->ow <= 0)
        return qsnn_fail(QSNN_ERR_SHAPE, "conv: kernel %dx%d does not fit input %dx%d", kh, kw, h, w);
    return QSNN_OK;
}

void qsnn_conv_tap_span(int k, int s, int pad, int n, int on, int *o0, int *o1)
{
    int a = 0, b = on;
    while (a < b && a * s - pad + k < 0)
        a++;
    while (b > a && (b - 1) * s - pad + k >= n)
        b--;
    *o0 = a, *o1 = b;
}

void qsnn_conv2d_forward_ref(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c)
{
    const int ci_n = c->cin, co_n = c->cout;
    const size_t in_sz = (size_t)c->h * c->w * ci_n, out_sz = (size_t)c->oh * c->ow * co_n;
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        float *y = out + s * out_sz;
        for (int oy = 0; oy < c->oh; oy++)
            for (int ox = 0; ox < c->ow; ox++) {
                float *yo = y + ((size_t)oy * c->ow + ox) * co_n;
                memset(yo, 0, (size_t)co_n * sizeof *yo);
                for (int ky = 0; ky < c->kh; ky++) {
                    int iy = oy * c->sh - c->pad_t + ky;
                    if (iy < 0 || iy >= c->h)
                        continue;
                    for (int kx = 0; kx < c->kw; kx++) {
                        int ix = ox * c->sw - c->pad_l + kx;
                        if (ix < 0 || ix >= c->w)
                            continue;
                        const float *xi = x + ((size_t)iy * c->w + ix) * ci_n;
                        const float *wk = wt + ((size_t)ky * c->kw + kx) * ci_n * co_n;
                        for (int ci = 0; ci < ci_n; ci++) {
                            const float v = xi[ci];
                            const float *wr = wk + (size_t)ci * co_n;
                            for (int co = 0; co < co_n; co++)
                                yo[co] += v * wr[co];
                        }
                    }
                }
            }
    }
}

void qsnn_conv2d_backward_ref(float *din, float *dwt, const float *dout, const float *in, const float *wt, size_t n,
                          const qsnn_conv_cfg *c)
{
    const int ci_n = c->cin, co_n = c->cout;
    const size_t in_sz = (size_t)c->h * c->w * ci_n, out_sz = (size_t)c->oh * c->ow * co_n;
    if (din)
        memset(din, 0, n * in_sz * sizeof *din);
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        const float *dy = dout + s * out_sz;
        float *dx = din ? din + s * in_sz : NULL;
        for (int oy = 0; oy < c->oh; oy++)
            for (int ox = 0; ox < c->ow; ox++) {
                const float *g = dy + ((size_t)oy * c->ow + ox) * co_n;
                for (int ky = 0; ky < c->kh; ky++) {
                    int iy = oy * c->sh - c->pad_t + ky;
                    if (iy < 0 || iy >= c->h)
                        continue;
                    for (int kx = 0; kx < c->kw; kx++) {
                        int ix = ox * c->sw - c->pad_l + kx;
                        if (ix < 0 || ix >= c->w)
                            continue;
                        size_t ioff = ((size_t)iy * c->w + ix) * ci_n;
                        const float *xi = x + ioff;
                        size_t koff = ((size_t)ky * c->kw + kx) * ci_n * co_n;
                        for (int ci = 0; ci < ci_n; ci++) {
                            const float v = xi[ci];
                            float *dwr = dwt + koff + (size_t)ci * co_n;
                            for (int co = 0; co < co_n; co++)
                                dwr[co] += v * g[co];
                            if (dx) {
                                const float *wr = wt + koff + (size_t)ci * co_n;
                                float acc = 0.0f;
                                for (int co = 0; co < co_n; co++)
                                    acc += g[co] * wr[co];
                                dx[ioff + ci] += acc;
                            }
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

/* NB blocks of 8 output channels from c0; NB is a literal at every call (accumulators stay in registers). */
INLINE void conv_fwd_px(float *yo, const float *x, const float *wt, const qsnn_conv_cfg *c, int iy0, int ix0,
                        int ky0, int ky1, int kx0, int kx1, int c0, const int NB)
{
    const int ci_n = c->cin, co_n = c->cout;
    __m256 acc[4];
    for (int b = 0; b < NB; b++)
        acc[b] = _mm256_setzero_ps();
    for (int ky = ky0; ky < ky1; ky++)
        for (int kx = kx0; kx < kx1; kx++) {
            const float *xi = x + ((size_t)(iy0 + ky) * c->w + (ix0 + kx)) * ci_n;
            const float *wk = wt + ((size_t)ky * c->kw + kx) * ci_n * co_n + c0;
            for (int ci = 0; ci < ci_n; ci++) {
                const __m256 v = _mm256_broadcast_ss(xi + ci);
                const float *wr = wk + (size_t)ci * co_n;
                for (int b = 0; b < NB; b++)
                    acc[b] = _mm256_fmadd_ps(v, _mm256_loadu_ps(wr + 8 * b), acc[b]);
            }
        }
    for (int b = 0; b < NB; b++)
        _mm256_storeu_ps(yo + c0 + 8 * b, acc[b]);
}

static void conv_fwd_fast(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c)
{
    const int ci_n = c->cin, co_n = c->cout;
    const size_t in_sz = (size_t)c->h * c->w * ci_n, out_sz = (size_t)c->oh * c->ow * co_n;
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        float *y = out + s * out_sz;
        for (int oy = 0; oy < c->oh; oy++) {
            const int iy0 = oy * c->sh - c->pad_t;
            const int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = c->h - iy0 < c->kh ? c->h - iy0 : c->kh;
            for (int ox = 0; ox < c->ow; ox++) {
                const int ix0 = ox * c->sw - c->pad_l;
                const int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = c->w - ix0 < c->kw ? c->w - ix0 : c->kw;
                float *yo = y + ((size_t)oy * c->ow + ox) * co_n;
                int c0 = 0;
                for (; c0 + 32 <= co_n; c0 += 32)
                    conv_fwd_px(yo, x, wt, c, iy0, ix0, ky0, ky1, kx0, kx1, c0, 4);
                for (; c0 < co_n; c0 += 8)
                    conv_fwd_px(yo, x, wt, c, iy0, ix0, ky0, ky1, kx0, kx1, c0, 1);
            }
        }
    }
}

INLINE void conv_wgrad_row(float *dwr, const float *x, const float *g, const qsnn_conv_cfg *c, int ky, int kx,
                           int ci, int oy0, int oy1, int ox0, int ox1, int c0, const int NB)
{
    const int ci_n = c->cin, co_n = c->cout;
    __m256 acc[4];
    for (int b = 0; b < NB; b++)
        acc[b] = _mm256_setzero_ps();
    for (int oy = oy0; oy < oy1; oy++) {
        const int iy = oy * c->sh - c->pad_t + ky;
        for (int ox = ox0; ox < ox1; ox++) {
            const int ix = ox * c->sw - c->pad_l + kx;
            const __m256 v = _mm256_broadcast_ss(x + ((size_t)iy * c->w + ix) * ci_n + ci);
            const float *gi = g + ((size_t)oy * c->ow + ox) * co_n + c0;
            for (int b = 0; b < NB; b++)
                acc[b] = _mm256_fmadd_ps(v, _mm256_loadu_ps(gi + 8 * b), acc[b]);
        }
    }
    for (int b = 0; b < NB; b++)
        _mm256_storeu_ps(dwr + c0 + 8 * b, _mm256_add_ps(_mm256_loadu_ps(dwr + c0 + 8 * b), acc[b]));
}

static void conv_dw_fast(float *dwt, const float *dout, const float *in, size_t n, const qsnn_conv_cfg *c)
{
    const int ci_n = c->cin, co_n = c->cout;
    const size_t in_sz = (size_t)c->h * c->w * ci_n, out_sz = (size_t)c->oh * c->ow * co_n;
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        const float *g = dout + s * out_sz;
        for (int ky = 0; ky < c->kh; ky++) {
            int oy0, oy1;
            qsnn_conv_tap_span(ky, c->sh, c->pad_t, c->h, c->oh, &oy0, &oy1);
            for (int kx = 0; kx < c->kw; kx++) {
                int ox0, ox1;
                qsnn_conv_tap_span(kx, c->sw, c->pad_l, c->w, c->ow, &ox0, &ox1);
                for (int ci = 0; ci < ci_n; ci++) {
                    float *dwr = dwt + (((size_t)ky * c->kw + kx) * ci_n + ci) * co_n;
                    int c0 = 0;
                    for (; c0 + 32 <= co_n; c0 += 32)
                        conv_wgrad_row(dwr, x, g, c, ky, kx, ci, oy0, oy1, ox0, ox1, c0, 4);
                    for (; c0 < co_n; c0 += 8)
                        conv_wgrad_row(dwr, x, g, c, ky, kx, ci, oy0, oy1, ox0, ox1, c0, 1);
                }
            }
        }
    }
}

/* im2col + GEMM path. */
#define COL_ROWS 32
#define COL_MAX 24576 /* floats of one block: COL_ROWS x kh kw cin */

static int conv_gemm_ok(const qsnn_conv_cfg *c)
{
    const int K = c->kh * c->kw * c->cin;
    return qsnn_gemm_fast_ok(K, c->cout) && (size_t)COL_ROWS * (size_t)K <= COL_MAX;
}

/* col[r][ (ky kw + kx) cin + ci ] for output pixels p0 .. p0 + rows - 1 of one sample (raster order) */
static void im2col_block(float *col, const float *x, const qsnn_conv_cfg *c, int p0, int rows)
{
    const int ci_n = c->cin, K = c->kh * c->kw * ci_n;
    for (int r = 0; r < rows; r++) {
        const int oy = (p0 + r) / c->ow, ox = (p0 + r) % c->ow;
        float *cr = col + (size_t)r * K;
        for (int ky = 0; ky < c->kh; ky++) {
            const int iy = oy * c->sh - c->pad_t + ky;
            for (int kx = 0; kx < c->kw; kx++) {
                const int ix = ox * c->sw - c->pad_l + kx;
                float *d = cr + ((size_t)ky * c->kw + kx) * ci_n;
                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                    memset(d, 0, (size_t)ci_n * sizeof *d);
                else
                    memcpy(d, x + ((size_t)iy * c->w + ix) * ci_n, (size_t)ci_n * sizeof *d);
            }
        }
    }
}

static void conv_gemm_fwd(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c)
{
    const int K = c->kh * c->kw * c->cin, np = c->oh * c->ow;
    const size_t in_sz = (size_t)c->h * c->w * c->cin, out_sz = (size_t)np * c->cout;
    float col[COL_MAX];
    for (size_t s = 0; s < n; s++)
        for (int p0 = 0; p0 < np; p0 += COL_ROWS) {
            const int rows = np - p0 < COL_ROWS ? np - p0 : COL_ROWS;
            im2col_block(col, in + s * in_sz, c, p0, rows);
            qsnn_gemm_nn(out + s * out_sz + (size_t)p0 * c->cout, col, wt, (size_t)rows, K, c->cout);
        }
}

static void conv_gemm_dw(float *dwt, const float *dout, const float *in, size_t n, const qsnn_conv_cfg *c)
{
    const int K = c->kh * c->kw * c->cin, np = c->oh * c->ow;
    const size_t in_sz = (size_t)c->h * c->w * c->cin, out_sz = (size_t)np * c->cout;
    float col[COL_MAX];
    for (size_t s = 0; s < n; s++)
        for (int p0 = 0; p0 < np; p0 += COL_ROWS) {
            const int rows = np - p0 < COL_ROWS ? np - p0 : COL_ROWS;
            im2col_block(col, in + s * in_sz, c, p0, rows);
            qsnn_gemm_tn_acc(dwt, col, dout + s * out_sz + (size_t)p0 * c->cout, (size_t)rows, K, c->cout);
        }
}

/* Input gradient (layers after the first): per kernel tap, the tap's weights transposed to [cout][cin] (on the
 * stack, at most 64 KB), then for every output pixel that tap reaches din[pixel + tap] += dout[pixel] . W_tap^T,
 * 8 input channels per vector, NB blocks in registers. */
#define DIN_MAX 16384 /* floats of one transposed tap */

static int conv_din_ok(const qsnn_conv_cfg *c)
{
    return c->cin % 8 == 0 && (size_t)c->cin * (size_t)c->cout <= DIN_MAX;
}

INLINE void conv_din_px(float *dx, const float *g, const float *wtt, int co_n, int ci_n, int c0, const int NB)
{
    __m256 acc[4];
    for (int b = 0; b < NB; b++)
        acc[b] = _mm256_loadu_ps(dx + c0 + 8 * b);
    for (int co = 0; co < co_n; co++) {
        const __m256 v = _mm256_broadcast_ss(g + co);
        const float *wr = wtt + (size_t)co * ci_n + c0;
        for (int b = 0; b < NB; b++)
            acc[b] = _mm256_fmadd_ps(v, _mm256_loadu_ps(wr + 8 * b), acc[b]);
    }
    for (int b = 0; b < NB; b++)
        _mm256_storeu_ps(dx + c0 + 8 * b, acc[b]);
}

static void conv_din_fast(float *din, const float *dout, const float *wt, size_t n, const qsnn_conv_cfg *c)
{
    const int ci_n = c->cin, co_n = c->cout;
    const size_t in_sz = (size_t)c->h * c->w * ci_n, out_sz = (size_t)c->oh * c->ow * co_n;
    memset(din, 0, n * in_sz * sizeof *din);
    float wtt[DIN_MAX];
    for (int ky = 0; ky < c->kh; ky++) {
        int oy0, oy1;
        qsnn_conv_tap_span(ky, c->sh, c->pad_t, c->h, c->oh, &oy0, &oy1);
        for (int kx = 0; kx < c->kw; kx++) {
            int ox0, ox1;
            qsnn_conv_tap_span(kx, c->sw, c->pad_l, c->w, c->ow, &ox0, &ox1);
            const float *wk = wt + ((size_t)ky * c->kw + kx) * ci_n * co_n;
            for (int ci = 0; ci < ci_n; ci++)
                for (int co = 0; co < co_n; co++)
                    wtt[(size_t)co * ci_n + ci] = wk[(size_t)ci * co_n + co];
            for (size_t s = 0; s < n; s++)
                for (int oy = oy0; oy < oy1; oy++) {
                    const int iy = oy * c->sh - c->pad_t + ky;
                    for (int ox = ox0; ox < ox1; ox++) {
                        const int ix = ox * c->sw - c->pad_l + kx;
                        const float *g = dout + s * out_sz + ((size_t)oy * c->ow + ox) * co_n;
                        float *dx = din + s * in_sz + ((size_t)iy * c->w + ix) * ci_n;
                        int c0 = 0;
                        for (; c0 + 32 <= ci_n; c0 += 32)
                            conv_din_px(dx, g, wtt, co_n, ci_n, c0, 4);
                        for (; c0 < ci_n; c0 += 8)
                            conv_din_px(dx, g, wtt, co_n, ci_n, c0, 1);
                    }
                }
        }
    }
}

/* Padded path (cout == 32, small inputs: the first layer): each sample is copied into a zero-bordered plane, so
 * every output pixel runs over all taps without bounds tests (padding taps multiply zeros), and two output pixels
 * (forward) or two taps (weight gradient) are in flight: 8 independent accumulator chains instead of 4, which
 * the FMA latency otherwise limits. */
#define PAD_MAX 4096 /* floats of the padded plane */

static int conv_pad_ok(const qsnn_conv_cfg *c)
{
    const int hp = (c->oh - 1) * c->sh + c->kh, wp = (c->ow - 1) * c->sw + c->kw;
    return c->cout == 32 && (size_t)hp * (size_t)wp * (size_t)c->cin <= PAD_MAX;
}

/* xp[hp][wp][cin]: x placed at (pad_t, pad_l), zeros elsewhere (rows/columns past the input included) */
static void conv_pad_copy(float *xp, const float *x, const qsnn_conv_cfg *c, int hp, int wp)
{
    const int ci_n = c->cin;
    memset(xp, 0, (size_t)hp * wp * ci_n * sizeof *xp);
    /* input columns landing inside the plane: [x0, x1) */
    const int x0 = c->pad_l < 0 ? -c->pad_l : 0, x1 = wp - c->pad_l < c->w ? wp - c->pad_l : c->w;
    if (x1 <= x0)
        return;
    for (int y = 0; y < c->h; y++) {
        const int py = y + c->pad_t;
        if (py < 0 || py >= hp)
            continue;
        const float *src = x + ((size_t)y * c->w + x0) * ci_n;
        float *dst = xp + ((size_t)py * wp + x0 + c->pad_l) * ci_n;
        for (size_t i = 0; i < (size_t)(x1 - x0) * ci_n; i++)
            dst[i] = src[i];
    }
}

/* P output pixels (ox0 .. ox0 + P - 1 of row oy), 32 channels */
INLINE void conv_pad_fwd_px(float *y, const float *xp, const float *wt, const qsnn_conv_cfg *c, int wp, int oy,
                            int ox0, const int P)
{
    const int ci_n = c->cin;
    __m256 acc[2][4];
    for (int q = 0; q < P; q++)
        for (int b = 0; b < 4; b++)
            acc[q][b] = _mm256_setzero_ps();
    for (int ky = 0; ky < c->kh; ky++) {
        const float *xr = xp + ((size_t)(oy * c->sh + ky) * wp + (size_t)ox0 * c->sw) * ci_n;
        for (int kx = 0; kx < c->kw; kx++)
            for (int ci = 0; ci < ci_n; ci++) {
                const float *wr = wt + (((size_t)ky * c->kw + kx) * ci_n + ci) * 32;
                const __m256 w0 = _mm256_loadu_ps(wr), w1 = _mm256_loadu_ps(wr + 8), w2 = _mm256_loadu_ps(wr + 16),
                             w3 = _mm256_loadu_ps(wr + 24);
                for (int q = 0; q < P; q++) {
                    const __m256 v = _mm256_broadcast_ss(xr + ((size_t)q * c->sw + kx) * ci_n + ci);
                    acc[q][0] = _mm256_fmadd_ps(v, w0, acc[q][0]);
                    acc[q][1] = _mm256_fmadd_ps(v, w1, acc[q][1]);
                    acc[q][2] = _mm256_fmadd_ps(v, w2, acc[q][2]);
                    acc[q][3] = _mm256_fmadd_ps(v, w3, acc[q][3]);
                }
            }
    }
    for (int q = 0; q < P; q++) {
        float *yo = y + ((size_t)oy * c->ow + ox0 + q) * 32;
        for (int b = 0; b < 4; b++)
            _mm256_storeu_ps(yo + 8 * b, acc[q][b]);
    }
}

static void conv_pad_fwd(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c)
{
    const int hp = (c->oh - 1) * c->sh + c->kh, wp = (c->ow - 1) * c->sw + c->kw;
    const size_t in_sz = (size_t)c->h * c->w * c->cin, out_sz = (size_t)c->oh * c->ow * 32;
    float xp[PAD_MAX];
    for (size_t s = 0; s < n; s++) {
        conv_pad_copy(xp, in + s * in_sz, c, hp, wp);
        float *y = out + s * out_sz;
        for (int oy = 0; oy < c->oh; oy++) {
            int ox = 0;
            for (; ox + 2 <= c->ow; ox += 2)
                conv_pad_fwd_px(y, xp, wt, c, wp, oy, ox, 2);
            for (; ox < c->ow; ox++)
                conv_pad_fwd_px(y, xp, wt, c, wp, oy, ox, 1);
        }
    }
}

/* dwt rows of taps (ky, kx0 .. kx0 + P - 1), input channel ci, 32 output channels: sums over all output pixels */
INLINE void conv_pad_wgrad(float *dwt, const float *xp, const float *g, const qsnn_conv_cfg *c, int wp, int ky,
                           int kx0, int ci, const int P)
{
    const int ci_n = c->cin;
    __m256 acc[2][4];
    for (int q = 0; q < P; q++)
        for (int b = 0; b < 4; b++)
            acc[q][b] = _mm256_setzero_ps();
    for (int oy = 0; oy < c->oh; oy++) {
        const float *xr = xp + ((size_t)(oy * c->sh + ky) * wp + (size_t)kx0) * ci_n + ci;
        const float *gr = g + (size_t)oy * c->ow * 32;
        for (int ox = 0; ox < c->ow; ox++) {
            const float *gi = gr + (size_t)ox * 32;
            const __m256 g0 = _mm256_loadu_ps(gi), g1 = _mm256_loadu_ps(gi + 8), g2 = _mm256_loadu_ps(gi + 16),
                         g3 = _mm256_loadu_ps(gi + 24);
            for (int q = 0; q < P; q++) {
                const __m256 v = _mm256_broadcast_ss(xr + ((size_t)ox * c->sw + q) * ci_n);
                acc[q][0] = _mm256_fmadd_ps(v, g0, acc[q][0]);
                acc[q][1] = _mm256_fmadd_ps(v, g1, acc[q][1]);
                acc[q][2] = _mm256_fmadd_ps(v, g2, acc[q][2]);
                acc[q][3] = _mm256_fmadd_ps(v, g3, acc[q][3]);
            }
        }
    }
    for (int q = 0; q < P; q++) {
        float *d = dwt + (((size_t)ky * c->kw + kx0 + q) * ci_n + ci) * 32;
        for (int b = 0; b < 4; b++)
            _mm256_storeu_ps(d + 8 * b, _mm256_add_ps(_mm256_loadu_ps(d + 8 * b), acc[q][b]));
    }
}

static void conv_pad_dw(float *dwt, const float *dout, const float *in, size_t n, const qsnn_conv_cfg *c)
{
    const int hp = (c->oh - 1) * c->sh + c->kh, wp = (c->ow - 1) * c->sw + c->kw;
    const size_t in_sz = (size_t)c->h * c->w * c->cin, out_sz = (size_t)c->oh * c->ow * 32;
    float xp[PAD_MAX];
    for (size_t s = 0; s < n; s++) {
        conv_pad_copy(xp, in + s * in_sz, c, hp, wp);
        const float *g = dout + s * out_sz;
        for (int ky = 0; ky < c->kh; ky++)
            for (int ci = 0; ci < c->cin; ci++) {
                int kx = 0;
                for (; kx + 2 <= c->kw; kx += 2)
                    conv_pad_wgrad(dwt, xp, g, c, wp, ky, kx, ci, 2);
                for (; kx < c->kw; kx++)
                    conv_pad_wgrad(dwt, xp, g, c, wp, ky, kx, ci, 1);
            }
    }
}
QSNN_AVX2_END
#endif

/* A 1x1, stride-1, unpadded convolution is a pointwise product over the n h w pixels ([1][1][cin][cout] is the
 * pointwise weight layout): the GEMM kernels of pointwise.c (ds_cnn's pw layers spent 85 % of a step in the
 * generic loops). */
static int is_pointwise(const qsnn_conv_cfg *c)
{
    return c->kh == 1 && c->kw == 1 && c->sh == 1 && c->sw == 1 && c->pad_t == 0 && c->pad_l == 0 && c->oh == c->h &&
           c->ow == c->w;
}

void qsnn_conv2d_forward(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c)
{
    if (is_pointwise(c)) {
        qsnn_pointwise_forward(out, in, wt, n * (size_t)c->h * (size_t)c->w, c->cin, c->cout);
        return;
    }
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2()) {
        if (conv_pad_ok(c)) {
            conv_pad_fwd(out, in, wt, n, c);
            return;
        }
        if (conv_gemm_ok(c)) {
            conv_gemm_fwd(out, in, wt, n, c);
            return;
        }
        if (c->cout % 8 == 0) {
            conv_fwd_fast(out, in, wt, n, c);
            return;
        }
    }
#endif
    qsnn_conv2d_forward_ref(out, in, wt, n, c);
}

void qsnn_conv2d_backward(float *din, float *dwt, const float *dout, const float *in, const float *wt, size_t n,
                          const qsnn_conv_cfg *c)
{
    if (is_pointwise(c)) {
        qsnn_pointwise_backward(din, dwt, dout, in, wt, n * (size_t)c->h * (size_t)c->w, c->cin, c->cout);
        return;
    }
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2()) {
        if (conv_pad_ok(c) && !din) {
            conv_pad_dw(dwt, dout, in, n, c);
            return;
        }
        if ((conv_gemm_ok(c) || c->cout % 8 == 0) && (!din || conv_din_ok(c))) {
            if (conv_gemm_ok(c))
                conv_gemm_dw(dwt, dout, in, n, c);
            else
                conv_dw_fast(dwt, dout, in, n, c);
            if (din)
                conv_din_fast(din, dout, wt, n, c);
            return;
        }
    }
#endif
    qsnn_conv2d_backward_ref(din, dwt, dout, in, wt, n, c);
}
