/* SPDX-License-Identifier: Apache-2.0 */
/* pool_first.c: the depthwise half of a pool_first layer in training (graph.c): the window sums of its input,
 * their dot product with the depthwise weights, and the weights summed per input position (graph_internal.h).
 * The AVX2 window sums (chosen at run time: qsnn/simd.h) make the same additions in the same order as the plain
 * loops, so both paths give the same floats. */
#include "qsnn/simd.h"
#include "train/graph_internal.h"

#include <string.h>
#if QSNN_SIMD_X86
#include <immintrin.h>
#endif

/* whether input row iy is under tap row ky of some output row (the same test serves columns) */
static int dw_tap_valid(int i, int k, int pad, int stride, int out)
{
    const int t = i + pad - k;
    return t >= 0 && t % stride == 0 && t / stride < out;
}

/* The depthwise part of a pool_first layer never needs its output, only the output summed over positions, and
 * the gradient of its output is the same at every position (g / hw times W^T). So, per sample x [h, w, cin]:
 * S[k][ch] = the sum of the inputs under tap k over all output positions (zero padding adds nothing), computed as
 * row sums per tap column, added per tap row; the summed output is sum_k w[k] S[k], the weight gradient
 * d * S[k] and the input gradient d * (sum of the taps that see the position), d the gradient row.
 * qsnn_train_window_sums: S [kh * kw * cin], rs: [kw * cin] scratch. */
#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
/* qsnn_train_window_sums for 3x3 kernels and channels a multiple of 8: the 9 sums of a block of 8 channels stay in registers
 * over the whole plane (the generic loop adds them through memory: each add waits on the previous store). The same
 * additions in the same order as the generic loop. */
static void dw_window_sums33(float *S, const float *x, const qsnn_conv_cfg *cc)
{
    const int C = cc->cin, W = cc->w;
    for (int c0 = 0; c0 < C; c0 += 8) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0;
        for (int iy = 0; iy < cc->h; iy++) {
            const int v0 = dw_tap_valid(iy, 0, cc->pad_t, cc->sh, cc->oh),
                      v1 = dw_tap_valid(iy, 1, cc->pad_t, cc->sh, cc->oh),
                      v2 = dw_tap_valid(iy, 2, cc->pad_t, cc->sh, cc->oh);
            if (!(v0 | v1 | v2))
                continue;
            const float *row = x + (size_t)iy * (size_t)W * (size_t)C + (size_t)c0;
            __m256 r0 = _mm256_setzero_ps(), r1 = r0, r2 = r0; /* the row's inputs under tap columns 0, 1, 2 */
            for (int ox = 0; ox < cc->ow; ox++) {
                const int ib = ox * cc->sw - cc->pad_l;
                if (ib >= 0 && ib < W)
                    r0 = _mm256_add_ps(r0, _mm256_loadu_ps(row + (size_t)ib * (size_t)C));
                if (ib + 1 >= 0 && ib + 1 < W)
                    r1 = _mm256_add_ps(r1, _mm256_loadu_ps(row + (size_t)(ib + 1) * (size_t)C));
                if (ib + 2 >= 0 && ib + 2 < W)
                    r2 = _mm256_add_ps(r2, _mm256_loadu_ps(row + (size_t)(ib + 2) * (size_t)C));
            }
            if (v0)
                a0 = _mm256_add_ps(a0, r0), a1 = _mm256_add_ps(a1, r1), a2 = _mm256_add_ps(a2, r2);
            if (v1)
                a3 = _mm256_add_ps(a3, r0), a4 = _mm256_add_ps(a4, r1), a5 = _mm256_add_ps(a5, r2);
            if (v2)
                a6 = _mm256_add_ps(a6, r0), a7 = _mm256_add_ps(a7, r1), a8 = _mm256_add_ps(a8, r2);
        }
        const __m256 a[9] = {a0, a1, a2, a3, a4, a5, a6, a7, a8};
        for (int k = 0; k < 9; k++)
            _mm256_storeu_ps(S + (size_t)k * (size_t)C + (size_t)c0, a[k]);
    }
}

/* rs[c0 .. c0 + 8 C/8) of one tap column kx: the row's inputs under it, in position order (the sum in a register:
 * through memory it waits on each store); returns the channels done (C - C % 8) */
static int dw_row_sums_avx2(float *r, const float *row, const qsnn_conv_cfg *cc, int kx)
{
    const int C = cc->cin;
    int c0 = 0;
    for (; c0 + 8 <= C; c0 += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (int ox = 0; ox < cc->ow; ox++) {
            const int ix = ox * cc->sw - cc->pad_l + kx;
            if (ix >= 0 && ix < cc->w)
                acc = _mm256_add_ps(acc, _mm256_loadu_ps(row + (size_t)ix * (size_t)C + (size_t)c0));
        }
        _mm256_storeu_ps(r + c0, acc);
    }
    return c0;
}
QSNN_AVX2_END
#endif

void qsnn_train_window_sums(float *S, float *rs, const float *x, const qsnn_conv_cfg *cc)
{
    const int C = cc->cin, KH = cc->kh, KW = cc->kw;
#if QSNN_SIMD_X86
    if (KH == 3 && KW == 3 && C % 8 == 0 && qsnn_simd_avx2()) {
        dw_window_sums33(S, x, cc);
        return;
    }
#endif
    memset(S, 0, (size_t)KH * (size_t)KW * (size_t)C * sizeof *S);
    for (int iy = 0; iy < cc->h; iy++) {
        int any = 0;
        for (int ky = 0; ky < KH; ky++)
            any |= dw_tap_valid(iy, ky, cc->pad_t, cc->sh, cc->oh);
        if (!any)
            continue;
        const float *row = x + (size_t)iy * (size_t)cc->w * (size_t)C;
        for (int kx = 0; kx < KW; kx++) { /* rs[kx] = the row's inputs under tap column kx, in position order */
            float *r = rs + (size_t)kx * (size_t)C;
            int c0 = 0;
#if QSNN_SIMD_X86
            if (qsnn_simd_avx2())
                c0 = dw_row_sums_avx2(r, row, cc, kx);
#endif
            for (; c0 < C; c0++) {
                float acc = 0.0f;
                for (int ox = 0; ox < cc->ow; ox++) {
                    const int ix = ox * cc->sw - cc->pad_l + kx;
                    if (ix >= 0 && ix < cc->w)
                        acc += row[(size_t)ix * (size_t)C + (size_t)c0];
                }
                r[c0] = acc;
            }
        }
        for (int ky = 0; ky < KH; ky++) {
            if (!dw_tap_valid(iy, ky, cc->pad_t, cc->sh, cc->oh))
                continue;
            for (int kx = 0; kx < KW; kx++) {
                float *restrict o = S + ((size_t)ky * (size_t)KW + (size_t)kx) * (size_t)C;
                const float *restrict r = rs + (size_t)kx * (size_t)C;
                for (int ch = 0; ch < C; ch++)
                    o[ch] += r[ch];
            }
        }
    }
}

/* out[ch] = sum over taps k (in order) of w[k][ch] * S[k][ch] */
void qsnn_train_window_dot(float *out, const float *S, const float *w, const qsnn_conv_cfg *cc)
{
    const int C = cc->cin, K = cc->kh * cc->kw;
    memset(out, 0, (size_t)C * sizeof *out);
    for (int k = 0; k < K; k++)
        for (int ch = 0; ch < C; ch++)
            out[ch] += w[(size_t)k * (size_t)C + (size_t)ch] * S[(size_t)k * (size_t)C + (size_t)ch];
}

/* wp [h, w, cin]: per input position, the sum of the depthwise taps that see it (tap rows outer, in order) */
void qsnn_train_weight_plane(float *wp, const float *w, const qsnn_conv_cfg *cc)
{
    const int C = cc->cin;
    for (int iy = 0; iy < cc->h; iy++)
        for (int ix = 0; ix < cc->w; ix++) {
            float *o = wp + ((size_t)iy * (size_t)cc->w + (size_t)ix) * (size_t)C;
            memset(o, 0, (size_t)C * sizeof *o);
            for (int ky = 0; ky < cc->kh; ky++) {
                if (!dw_tap_valid(iy, ky, cc->pad_t, cc->sh, cc->oh))
                    continue;
                for (int kx = 0; kx < cc->kw; kx++) {
                    if (!dw_tap_valid(ix, kx, cc->pad_l, cc->sw, cc->ow))
                        continue;
                    const float *wk = w + ((size_t)ky * (size_t)cc->kw + (size_t)kx) * (size_t)C;
                    for (int ch = 0; ch < C; ch++)
                        o[ch] += wk[ch];
                }
            }
        }
}
