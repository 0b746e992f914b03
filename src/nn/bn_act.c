/* SPDX-License-Identifier: Apache-2.0 */
/* bn_act.c: batch norm (given the batch statistics) fused with the activation, forward and the first half of the
 * backward (activation mask + the two per-channel sums; float partial sums of 8 rows added in double), so the
 * training graph reads and writes each activation
 * once per pass and never stores the BN output.
 * Invariant: y is computed as x * scale + shift with scale = gamma * invstd and shift = beta - mean * scale, the
 * same float operations as qsnn_bn_apply, in the forward and in the backward, so the activation masks of the
 * backward are those of the forward. The quantized ReLU uses the same formula as qsnn_qrelu_forward. */
#include "qsnn/nn.h"
#include "qsnn/simd.h"

#include <math.h>
#if QSNN_SIMD_X86
#include <immintrin.h>
#endif

#define CH 256
#define PF_ROWS 16 /* software prefetch distance of the forward, rows */
#define SUM_ROWS 8 /* rows per float partial sum of the backward sums */

#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
/* d[0..8) += v (float to double) */
static inline void add8d(double *d, __m256 v)
{
    _mm256_storeu_pd(d, _mm256_add_pd(_mm256_loadu_pd(d), _mm256_cvtps_pd(_mm256_castps256_ps128(v))));
    _mm256_storeu_pd(d + 4, _mm256_add_pd(_mm256_loadu_pd(d + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
}
QSNN_AVX2_END
#endif

static void coeffs(float *scale, float *shift, const float *mean, const float *invstd, const float *gamma,
                   const float *beta, int j0, int cc)
{
    for (int j = 0; j < cc; j++) {
        scale[j] = gamma[j0 + j] * invstd[j0 + j];
        shift[j] = beta[j0 + j] - mean[j0 + j] * scale[j];
    }
}

static inline float act_fwd1(float y, const qsnn_act *act)
{
    if (act->kind == QSNN_ACT_RELU6) {
        y = y > 0.0f ? y : 0.0f;
        return y < 6.0f ? y : 6.0f;
    }
    if (act->kind == QSNN_ACT_QRELU) {
        float u = ceilf((y - act->q.t0) / act->q.gamma);
        u = u > 0.0f ? u : 0.0f;
        u = u < (float)act->q.levels ? u : (float)act->q.levels;
        return act->q.gamma * u;
    }
    return y;
}

static inline int act_pass1(float y, const qsnn_act *act)
{
    if (act->kind == QSNN_ACT_RELU6)
        return y > 0.0f && y < 6.0f;
    if (act->kind == QSNN_ACT_QRELU) {
        float v = (y - act->q.t0) / act->q.gamma;
        return v > -1.0f && v <= (float)act->q.levels;
    }
    return 1;
}

/* a = act(x * scale + shift) for rows [0, m) and channels [j0, j0 + cc), cc % 8 == 0; KIND a literal at every
 * call so each activation gets its own loop with its constants in registers */
#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
static inline __attribute__((always_inline)) void bn_act_fwd_avx(float *a, const float *x, const float *scale,
                                                                 const float *shift, size_t m, int c, int j0, int cc,
                                                                 float qt0, float qg, float qlv, const int KIND)
{
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f), t0 = _mm256_set1_ps(qt0),
                 g = _mm256_set1_ps(qg), lv = _mm256_set1_ps(qlv);
    for (size_t r = 0; r < m; r++) {
        const float *xr = x + r * (size_t)c + j0;
        float *ar = a + r * (size_t)c + j0;
        if (r + PF_ROWS < m) /* x usually comes from L3 (written a segment earlier): ask for it ahead */
            for (int j = 0; j < cc; j += 16)
                _mm_prefetch((const char *)(xr + PF_ROWS * (size_t)c + j), _MM_HINT_T0);
        for (int j = 0; j < cc; j += 8) {
            /* mul then add (not fma): the same rounding as qsnn_bn_apply */
            __m256 y = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(xr + j), _mm256_loadu_ps(scale + j)),
                                     _mm256_loadu_ps(shift + j));
            if (KIND == QSNN_ACT_RELU6)
                y = _mm256_min_ps(_mm256_max_ps(y, zero), six);
            else if (KIND == QSNN_ACT_QRELU) {
                __m256 u = _mm256_ceil_ps(_mm256_div_ps(_mm256_sub_ps(y, t0), g));
                y = _mm256_mul_ps(g, _mm256_min_ps(_mm256_max_ps(u, zero), lv)); /* max_ps(NaN, 0) = 0 */
            }
            _mm256_storeu_ps(ar + j, y);
        }
    }
}

static void bn_act_fwd_avx2(float *a, const float *x, const float *scale, const float *shift, size_t m, int c,
                            int j0, int cc, const qsnn_act *av)
{
    const float qt0 = av->q.t0, qg = av->q.gamma, qlv = (float)av->q.levels;
    if (av->kind == QSNN_ACT_RELU6)
        bn_act_fwd_avx(a, x, scale, shift, m, c, j0, cc, qt0, qg, qlv, QSNN_ACT_RELU6);
    else if (av->kind == QSNN_ACT_QRELU)
        bn_act_fwd_avx(a, x, scale, shift, m, c, j0, cc, qt0, qg, qlv, QSNN_ACT_QRELU);
    else
        bn_act_fwd_avx(a, x, scale, shift, m, c, j0, cc, qt0, qg, qlv, QSNN_ACT_NONE);
}

/* the backward sums of qsnn_bn_act_backward_sums for channels [j0, j0 + cc), cc % 8 == 0 */
static void bn_act_bwd_avx2(float *g, double *sdy, double *sdyxh, const float *x, const float *mean,
                            const float *invstd, const float *scale, const float *shift, size_t m, int c, int j0,
                            int cc, const qsnn_act *act)
{
    /* y and the mask: the same operations as the scalar loop below (no fma contraction), so the masks are
     * those of the forward; the sums: float partials over blocks of SUM_ROWS rows, added in double */
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f), t0 = _mm256_set1_ps(act->q.t0),
                 gm = _mm256_set1_ps(act->q.gamma), lv = _mm256_set1_ps((float)act->q.levels),
                 m1 = _mm256_set1_ps(-1.0f);
    for (size_t r0 = 0; r0 < m; r0 += SUM_ROWS) {
        const size_t r1 = m - r0 < SUM_ROWS ? m : r0 + SUM_ROWS;
        for (int j = 0; j < cc; j += 8) {
            const __m256 sc = _mm256_loadu_ps(scale + j), sh = _mm256_loadu_ps(shift + j),
                         mu = _mm256_loadu_ps(mean + j0 + j), is = _mm256_loadu_ps(invstd + j0 + j);
            __m256 sd = zero, sx = zero;
            for (size_t r = r0; r < r1; r++) {
                const float *xr = x + r * (size_t)c + j0 + j;
                float *gr = g + r * (size_t)c + j0 + j;
                const __m256 xv = _mm256_loadu_ps(xr);
                const __m256 y = _mm256_add_ps(_mm256_mul_ps(xv, sc), sh);
                __m256 mask;
                if (act->kind == QSNN_ACT_RELU6)
                    mask = _mm256_and_ps(_mm256_cmp_ps(y, zero, _CMP_GT_OQ), _mm256_cmp_ps(y, six, _CMP_LT_OQ));
                else if (act->kind == QSNN_ACT_QRELU) {
                    const __m256 v = _mm256_div_ps(_mm256_sub_ps(y, t0), gm);
                    mask = _mm256_and_ps(_mm256_cmp_ps(v, m1, _CMP_GT_OQ), _mm256_cmp_ps(v, lv, _CMP_LE_OQ));
                } else
                    mask = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
                const __m256 gv = _mm256_and_ps(mask, _mm256_loadu_ps(gr));
                _mm256_storeu_ps(gr, gv);
                const __m256 xh = _mm256_mul_ps(_mm256_sub_ps(xv, mu), is);
                sd = _mm256_add_ps(sd, gv);
                sx = _mm256_add_ps(sx, _mm256_mul_ps(gv, xh));
            }
            add8d(sdy + j0 + j, sd);
            add8d(sdyxh + j0 + j, sx);
        }
    }
}
QSNN_AVX2_END
#endif

void qsnn_bn_act_forward(float *a, const float *x, const float *mean, const float *invstd, const float *gamma,
                         const float *beta, size_t m, int c, const qsnn_act *act)
{
    float scale[CH], shift[CH];
    const qsnn_act av = *act; /* a copy: stores to a cannot alias it */
    for (int j0 = 0; j0 < c; j0 += CH) {
        const int cc = c - j0 < CH ? c - j0 : CH;
        coeffs(scale, shift, mean, invstd, gamma, beta, j0, cc);
#if QSNN_SIMD_X86
        if (cc % 8 == 0 && qsnn_simd_avx2()) {
            bn_act_fwd_avx2(a, x, scale, shift, m, c, j0, cc, &av);
            continue;
        }
#endif
        for (size_t r = 0; r < m; r++) {
            const float *xr = x + r * (size_t)c + j0;
            float *ar = a + r * (size_t)c + j0;
            for (int j = 0; j < cc; j++) {
                float y = xr[j] * scale[j] + shift[j];
                ar[j] = act_fwd1(y, &av);
            }
        }
    }
}

void qsnn_bn_act_backward_sums(float *g, double *sdy, double *sdyxh, const float *x, const float *mean,
                               const float *invstd, const float *gamma, const float *beta, size_t m, int c,
                               const qsnn_act *act)
{
    float scale[CH], shift[CH];
    for (int j0 = 0; j0 < c; j0 += CH) {
        const int cc = c - j0 < CH ? c - j0 : CH;
        coeffs(scale, shift, mean, invstd, gamma, beta, j0, cc);
#if QSNN_SIMD_X86
        if (cc % 8 == 0 && qsnn_simd_avx2()) {
            bn_act_bwd_avx2(g, sdy, sdyxh, x, mean, invstd, scale, shift, m, c, j0, cc, act);
            continue;
        }
#endif
        for (size_t r = 0; r < m; r++) {
            const float *xr = x + r * (size_t)c + j0;
            float *gr = g + r * (size_t)c + j0;
            for (int j = 0; j < cc; j++) {
                const float y = xr[j] * scale[j] + shift[j];
                const float gv = act_pass1(y, act) ? gr[j] : 0.0f;
                gr[j] = gv;
                const float xh = (xr[j] - mean[j0 + j]) * invstd[j0 + j];
                sdy[j0 + j] += gv;
                sdyxh[j0 + j] += (double)(gv * xh);
            }
        }
    }
}
