/* SPDX-License-Identifier: Apache-2.0 */
/* batchnorm.c: batch normalization (Keras defaults: epsilon 1e-3, momentum 0.99) in training and inference mode.
 *
 * Statistics are accumulated per channel in double (fast path: float partial sums of 8 rows added in double;
 * partial sums per thread slice, combined by the caller in a fixed order so results do not depend on timing). The backward uses the standard closed form
 * dx = gamma*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)) with xhat recomputed from x. */
#include "qsnn/nn.h"
#include "qsnn/simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* rows per float partial sum (statistics and backward sums): short enough that float rounding of the partial is
 * negligible against the double total */
#define BN_ROWS 8
#define PF_ROWS 16 /* software prefetch distance of the backward apply, rows */

#if QSNN_SIMD_X86
#include <immintrin.h>
QSNN_AVX2_BEGIN
/* d[0..8) += v (float to double) */
static inline void add8d(double *d, __m256 v)
{
    _mm256_storeu_pd(d, _mm256_add_pd(_mm256_loadu_pd(d), _mm256_cvtps_pd(_mm256_castps256_ps128(v))));
    _mm256_storeu_pd(d + 4, _mm256_add_pd(_mm256_loadu_pd(d + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
}

/* c % 8 == 0: float partial sums over blocks of BN_ROWS rows, added in double */
static void bn_stats_avx2(double *sum, double *sumsq, const float *x, size_t m, int c)
{
    for (size_t r0 = 0; r0 < m; r0 += BN_ROWS) {
        const size_t r1 = m - r0 < BN_ROWS ? m : r0 + BN_ROWS;
        for (int j = 0; j < c; j += 8) {
            __m256 s = _mm256_setzero_ps(), q = s;
            for (size_t r = r0; r < r1; r++) {
                const __m256 v = _mm256_loadu_ps(x + r * (size_t)c + j);
                s = _mm256_add_ps(s, v);
                q = _mm256_fmadd_ps(v, v, q);
            }
            add8d(sum + j, s);
            add8d(sumsq + j, q);
        }
    }
}
QSNN_AVX2_END
#endif

void qsnn_bn_stats(double *sum, double *sumsq, const float *x, size_t m, int c)
{
#if QSNN_SIMD_X86
    if (c % 8 == 0 && qsnn_simd_avx2()) {
        bn_stats_avx2(sum, sumsq, x, m, c);
        return;
    }
#endif
    for (size_t r = 0; r < m; r++) {
        const float *xr = x + r * (size_t)c;
        for (int j = 0; j < c; j++) {
            double v = xr[j];
            sum[j] += v;
            sumsq[j] += v * v;
        }
    }
}

void qsnn_bn_finish(float *mean, float *invstd, float *mm, float *mv, const double *sum, const double *sumsq,
                    size_t m_total, int c, const qsnn_bn_cfg *cfg)
{
    for (int j = 0; j < c; j++) {
        double mu = sum[j] / (double)m_total;
        double var = sumsq[j] / (double)m_total - mu * mu;
        if (var < 0.0)
            var = 0.0;
        mean[j] = (float)mu;
        invstd[j] = (float)(1.0 / sqrt(var + (double)cfg->eps));
        if (mm && mv) {
            double unbiased = m_total > 1 ? var * (double)m_total / (double)(m_total - 1) : var;
            mm[j] = (float)(cfg->momentum * mm[j] + (1.0 - cfg->momentum) * mu);
            mv[j] = (float)(cfg->momentum * mv[j] + (1.0 - cfg->momentum) * unbiased);
        }
    }
}

void qsnn_bn_apply(float *y, const float *x, const float *mean, const float *invstd, const float *gamma,
                   const float *beta, size_t m, int c)
{
    float scale[256], shift[256];
    for (int j0 = 0; j0 < c; j0 += 256) {
        int cc = c - j0 < 256 ? c - j0 : 256;
        for (int j = 0; j < cc; j++) {
            scale[j] = gamma[j0 + j] * invstd[j0 + j];
            shift[j] = beta[j0 + j] - mean[j0 + j] * scale[j];
        }
        for (size_t r = 0; r < m; r++) {
            const float *xr = x + r * (size_t)c + j0;
            float *yr = y + r * (size_t)c + j0;
            for (int j = 0; j < cc; j++)
                yr[j] = xr[j] * scale[j] + shift[j];
        }
    }
}

void qsnn_bn_backward_sums(double *sdy, double *sdyxh, const float *dy, const float *x, const float *mean,
                           const float *invstd, size_t m, int c)
{
    for (size_t r = 0; r < m; r++) {
        const float *g = dy + r * (size_t)c;
        const float *xr = x + r * (size_t)c;
        for (int j = 0; j < c; j++) {
            float xh = (xr[j] - mean[j]) * invstd[j];
            sdy[j] += g[j];
            sdyxh[j] += (double)(g[j] * xh);
        }
    }
}

/* The rows of qsnn_bn_backward_apply for channels [j0, j0 + cc): plain C, compiled twice (below), for AVX2 (8-wide
 * vectors: half the instructions of SSE2's 4) and for the baseline. Only multiplies and subtractions (contraction
 * is off), so both give the same floats. */
static inline __attribute__((always_inline)) void bn_bwd_rows(float *dx, const float *dy, const float *x,
                                                              const float *mean, const float *invstd, const float *a,
                                                              const float *b, const float *d, size_t m, int c, int j0,
                                                              int cc)
{
    for (size_t r = 0; r < m; r++) {
        const float *g = dy + r * (size_t)c + j0;
        const float *xr = x + r * (size_t)c + j0;
        float *o = dx + r * (size_t)c + j0;
        if (r + PF_ROWS < m) /* dy and x usually come from L3 (written a segment earlier): ask for them ahead */
            for (int j = 0; j < cc; j += 16) {
                __builtin_prefetch(g + PF_ROWS * (size_t)c + j, 0, 3);
                __builtin_prefetch(xr + PF_ROWS * (size_t)c + j, 0, 3);
            }
        for (int j = 0; j < cc; j++) {
            float xh = (xr[j] - mean[j0 + j]) * invstd[j0 + j];
            o[j] = a[j] * (g[j] - b[j] - xh * d[j]);
        }
    }
}

#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
static void bn_bwd_rows_avx2(float *dx, const float *dy, const float *x, const float *mean, const float *invstd,
                             const float *a, const float *b, const float *d, size_t m, int c, int j0, int cc)
{
    bn_bwd_rows(dx, dy, x, mean, invstd, a, b, d, m, c, j0, cc);
}
QSNN_AVX2_END
#endif

void qsnn_bn_backward_apply(float *dx, const float *dy, const float *x, const float *mean, const float *invstd,
                            const float *gamma, const double *sdy, const double *sdyxh, size_t m_total, size_t m,
                            int c)
{
    float a[256], b[256], d[256];
    const float inv_m = 1.0f / (float)m_total;
    for (int j0 = 0; j0 < c; j0 += 256) {
        int cc = c - j0 < 256 ? c - j0 : 256;
        for (int j = 0; j < cc; j++) {
            a[j] = gamma[j0 + j] * invstd[j0 + j];     /* dx = a * (dy - b - xhat * d) */
            b[j] = (float)sdy[j0 + j] * inv_m;
            d[j] = (float)sdyxh[j0 + j] * inv_m;
        }
#if QSNN_SIMD_X86
        if (qsnn_simd_avx2()) {
            bn_bwd_rows_avx2(dx, dy, x, mean, invstd, a, b, d, m, c, j0, cc);
            continue;
        }
#endif
        bn_bwd_rows(dx, dy, x, mean, invstd, a, b, d, m, c, j0, cc);
    }
}

void qsnn_batchnorm_forward_train(float *y, float *mean, float *invstd, float *mm, float *mv, const float *x,
                                  const float *gamma, const float *beta, size_t m, int c, const qsnn_bn_cfg *cfg)
{
    double *s = calloc(2 * (size_t)c, sizeof *s);
    if (!s)
        return; /* convenience API for tests only: the trainer uses the phase functions */
    qsnn_bn_stats(s, s + c, x, m, c);
    qsnn_bn_finish(mean, invstd, mm, mv, s, s + c, m, c, cfg);
    qsnn_bn_apply(y, x, mean, invstd, gamma, beta, m, c);
    free(s);
}

void qsnn_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                             const float *mean, const float *invstd, const float *gamma, size_t m, int c)
{
    double *s = calloc(2 * (size_t)c, sizeof *s);
    if (!s)
        return;
    qsnn_bn_backward_sums(s, s + c, dy, x, mean, invstd, m, c);
    for (int j = 0; j < c; j++) {
        dbeta[j] += (float)s[j];
        dgamma[j] += (float)s[c + j];
    }
    qsnn_bn_backward_apply(dx, dy, x, mean, invstd, gamma, s, s + c, m, m, c);
    free(s);
}

void qsnn_batchnorm_forward_infer(float *y, const float *x, const float *gamma, const float *beta, const float *mm,
                                  const float *mv, size_t m, int c, float eps)
{
    for (size_t r = 0; r < m; r++)
        for (int j = 0; j < c; j++) {
            size_t i = r * (size_t)c + j;
            y[i] = gamma[j] * (x[i] - mm[j]) / sqrtf(mv[j] + eps) + beta[j];
        }
}
