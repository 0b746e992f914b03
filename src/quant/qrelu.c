/* SPDX-License-Identifier: Apache-2.0 */
/* qrelu.c: ActivationDiscreteRelu of cnn2snn 1.x (docs/design.md s3.4-3.5), forward and straight-through backward, and
 * ReLU6 (the float episodes' activation).
 *
 * level(x) = clip(ceil((x - t0) / gamma), 0, levels), y = gamma * level, computed in float32 exactly in that order
 * (so a tie x = t0 + n*gamma that is exact in float goes down to level n). Gradient: 1 where the unclipped level
 * lies in [0, levels], i.e. x in (t0 - gamma, t0 + levels*gamma], else 0. NaN inputs give level 0. */
#include "qsnn/quant.h"
#include "qsnn/simd.h"

#include <math.h>
#if QSNN_SIMD_X86
#include <immintrin.h>
#endif

qsnn_qrelu qsnn_qrelu_params(int bits)
{
    qsnn_qrelu q;
    if (bits < 1)
        bits = 1;
    if (bits > 16)
        bits = 16;
    q.bits = bits;
    q.levels = (1 << bits) - 1;
    q.relumax = q.levels < 6 ? (float)q.levels : 6.0f;
    q.gamma = q.relumax / (float)q.levels;
    q.t0 = q.gamma / 2.0f;
    q.step = (float)(1 << bits) * q.gamma / 16.0f;
    return q;
}

int qsnn_qrelu_level(const qsnn_qrelu *q, float x)
{
    float u = ceilf((x - q->t0) / q->gamma);
    if (!(u > 0.0f)) /* also NaN */
        return 0;
    if (u >= (float)q->levels)
        return q->levels;
    return (int)u;
}

/* The loops are written with AVX intrinsics where the AVX2 kernels run (GCC does not vectorise ceilf or NaN-aware
 * clamps under strict C11); both paths compute exactly clip(ceilf((x - t0) / gamma), 0, levels), NaN -> 0. The
 * AVX2 versions do the first n - n % 8 elements and return that count; the scalar loops do the rest. */
#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
static size_t qrelu_fwd_avx2(float *y, const float *x, size_t n, float t0, float g, float lv)
{
    const __m256 vt0 = _mm256_set1_ps(t0), vg = _mm256_set1_ps(g), vlv = _mm256_set1_ps(lv),
                 zero = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_ceil_ps(_mm256_div_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vt0), vg));
        v = _mm256_min_ps(_mm256_max_ps(v, zero), vlv); /* max_ps(NaN, 0) = 0 */
        _mm256_storeu_ps(y + i, _mm256_mul_ps(vg, v));
    }
    return i;
}

static size_t qrelu_bwd_avx2(float *dx, const float *dy, const float *x, size_t n, float t0, float g, float lv)
{
    const __m256 vt0 = _mm256_set1_ps(t0), vg = _mm256_set1_ps(g), vlv = _mm256_set1_ps(lv),
                 m1 = _mm256_set1_ps(-1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) { /* ceil(v) in [0, levels]  <=>  -1 < v <= levels */
        __m256 v = _mm256_div_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vt0), vg);
        __m256 mask = _mm256_and_ps(_mm256_cmp_ps(v, m1, _CMP_GT_OQ), _mm256_cmp_ps(v, vlv, _CMP_LE_OQ));
        _mm256_storeu_ps(dx + i, _mm256_and_ps(mask, _mm256_loadu_ps(dy + i)));
    }
    return i;
}
QSNN_AVX2_END
#endif

void qsnn_qrelu_forward(float *y, const float *x, size_t n, const qsnn_qrelu *q)
{
    const float t0 = q->t0, g = q->gamma, lv = (float)q->levels;
    size_t i = 0;
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2())
        i = qrelu_fwd_avx2(y, x, n, t0, g, lv);
#endif
    for (; i < n; i++) {
        float u = ceilf((x[i] - t0) / g);
        u = u > 0.0f ? u : 0.0f;
        u = u < lv ? u : lv;
        y[i] = g * u;
    }
}

void qsnn_qrelu_backward(float *dx, const float *dy, const float *x, size_t n, const qsnn_qrelu *q)
{
    const float t0 = q->t0, g = q->gamma, lv = (float)q->levels;
    size_t i = 0;
#if QSNN_SIMD_X86
    if (qsnn_simd_avx2())
        i = qrelu_bwd_avx2(dx, dy, x, n, t0, g, lv);
#endif
    for (; i < n; i++) {
        float v = (x[i] - t0) / g;
        dx[i] = (v > -1.0f && v <= lv) ? dy[i] : 0.0f;
    }
}

void qsnn_relu6_forward(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i] > 0.0f ? x[i] : 0.0f;
        y[i] = v < 6.0f ? v : 6.0f;
    }
}

void qsnn_relu6_backward(float *dx, const float *dy, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = (x[i] > 0.0f && x[i] < 6.0f) ? dy[i] : 0.0f;
}
