/* SPDX-License-Identifier: Apache-2.0 */
/* pointwise.c: pointwise (1x1) convolution and dense layer as a GEMM over rows: out[m, cout] = in[m, cin] x
 * wt[cin, cout]; backward din = dout x wt^T and dwt += in^T x dout.
 *
 * Shapes of the separable layers (cin, cout multiples of 16/4) use the copy-free register-blocked kernels of
 * gemm.c (measured faster than OpenBLAS sgemm here: its packing copies cost as much as the arithmetic at K = 64);
 * other shapes use OpenBLAS cblas_sgemm when available (single-threaded: the caller threads over samples, see
 * qsnn_nn_blas_single_thread), else plain loops. The _ref versions are plain loops, the tests' reference. */
#include "qsnn/nn.h"

#include "nn/gemm_internal.h"
#include "qsnn/simd.h"

#include <string.h>
#if QSNN_SIMD_X86
#include <immintrin.h>
#endif

#ifdef QSNN_HAVE_OPENBLAS
#include <cblas.h>
#endif

#define PW_ROWS 96 /* rows per block of the backward (a multiple of 6: whole register blocks) */

void qsnn_nn_blas_single_thread(void)
{
#ifdef QSNN_HAVE_OPENBLAS
    openblas_set_num_threads(1);
#endif
}

void qsnn_pointwise_forward_ref(float *out, const float *in, const float *wt, size_t m, int cin, int cout)
{
    for (size_t r = 0; r < m; r++) {
        float *restrict y = out + r * (size_t)cout;
        const float *x = in + r * (size_t)cin;
        memset(y, 0, (size_t)cout * sizeof *y);
        for (int k = 0; k < cin; k++) {
            const float v = x[k];
            const float *restrict w = wt + (size_t)k * cout;
            for (int j = 0; j < cout; j++)
                y[j] += v * w[j];
        }
    }
}

void qsnn_pointwise_backward_ref(float *din, float *dwt, const float *dout, const float *in, const float *wt,
                                 size_t m, int cin, int cout)
{
    for (size_t r = 0; r < m; r++) {
        const float *restrict g = dout + r * (size_t)cout;
        const float *x = in + r * (size_t)cin;
        for (int k = 0; k < cin; k++) {
            const float v = x[k];
            float *restrict dw = dwt + (size_t)k * cout;
            for (int j = 0; j < cout; j++)
                dw[j] += v * g[j];
        }
        if (din) {
            float *dx = din + r * (size_t)cin;
            for (int k = 0; k < cin; k++) {
                const float *restrict w = wt + (size_t)k * cout;
                float acc = 0.0f;
                for (int j = 0; j < cout; j++)
                    acc += g[j] * w[j];
                dx[k] = acc;
            }
        }
    }
}

/* wtt[cout, cin] = wt[cin, cout]^T; 8 x 8 blocks in registers when both sizes are multiples of 8 (the backward
 * transposes W once per call: a scalar loop cost ~1 % of a training step) */
#if QSNN_SIMD_X86
QSNN_AVX2_BEGIN
static void transpose_avx2(float *restrict wtt, const float *restrict wt, int cin, int cout)
{
    for (int i = 0; i < cin; i += 8)
        for (int j = 0; j < cout; j += 8) {
            __m256 r[8], t[8];
            for (int k = 0; k < 8; k++)
                r[k] = _mm256_loadu_ps(wt + (size_t)(i + k) * (size_t)cout + (size_t)j);
            for (int k = 0; k < 8; k += 2) {
                t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
                t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
            }
            for (int k = 0; k < 8; k += 4) {
                r[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
                r[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xEE);
                r[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
                r[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
            }
            /* r[k] (k < 4): columns k and k + 4 of rows 0-3; r[k + 4]: the same of rows 4-7 */
            const __m256 c0 = _mm256_permute2f128_ps(r[0], r[4], 0x20), c4 = _mm256_permute2f128_ps(r[0], r[4], 0x31),
                         c1 = _mm256_permute2f128_ps(r[1], r[5], 0x20), c5 = _mm256_permute2f128_ps(r[1], r[5], 0x31),
                         c2 = _mm256_permute2f128_ps(r[2], r[6], 0x20), c6 = _mm256_permute2f128_ps(r[2], r[6], 0x31),
                         c3 = _mm256_permute2f128_ps(r[3], r[7], 0x20), c7 = _mm256_permute2f128_ps(r[3], r[7], 0x31);
            const __m256 c[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
            for (int k = 0; k < 8; k++)
                _mm256_storeu_ps(wtt + (size_t)(j + k) * (size_t)cin + (size_t)i, c[k]);
        }
}
QSNN_AVX2_END
#endif

static void transpose(float *restrict wtt, const float *restrict wt, int cin, int cout)
{
#if QSNN_SIMD_X86
    if (cin % 8 == 0 && cout % 8 == 0 && qsnn_simd_avx2()) {
        transpose_avx2(wtt, wt, cin, cout);
        return;
    }
#endif
    for (int i = 0; i < cin; i++)
        for (int j = 0; j < cout; j++)
            wtt[(size_t)j * cin + i] = wt[(size_t)i * cout + j];
}

void qsnn_pointwise_forward(float *out, const float *in, const float *wt, size_t m, int cin, int cout)
{
    if (qsnn_gemm_fast_ok(cin, cout)) {
        qsnn_gemm_nn(out, in, wt, m, cin, cout);
        return;
    }
#ifdef QSNN_HAVE_OPENBLAS
    if (m == 0)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, cout, cin, 1.0f, in, cin, wt, cout, 0.0f, out,
                cout);
#else
    qsnn_pointwise_forward_ref(out, in, wt, m, cin, cout);
#endif
}

void qsnn_pointwise_backward(float *din, float *dwt, const float *dout, const float *in, const float *wt, size_t m,
                             int cin, int cout)
{
    /* din = dout . W^T with W^T [cout, cin] transposed on the stack (at most 64 KB) */
    if (qsnn_gemm_fast_ok(cin, cout) && qsnn_gemm_fast_ok(cout, cin) && (size_t)cin * (size_t)cout <= 16384) {
        if (!din) {
            qsnn_gemm_tn_acc(dwt, in, dout, m, cin, cout);
            return;
        }
        float wtt[16384];
        transpose(wtt, wt, cin, cout);
        /* both products read dout: in blocks of PW_ROWS rows, so the second reads them from L1 */
        for (size_t r0 = 0; r0 < m; r0 += PW_ROWS) {
            const size_t mr = m - r0 < PW_ROWS ? m - r0 : PW_ROWS;
            qsnn_gemm_tn_acc(dwt, in + r0 * (size_t)cin, dout + r0 * (size_t)cout, mr, cin, cout);
            qsnn_gemm_nn(din + r0 * (size_t)cin, dout + r0 * (size_t)cout, wtt, mr, cout, cin);
        }
        return;
    }
#ifdef QSNN_HAVE_OPENBLAS
    if (m == 0)
        return;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cin, cout, (int)m, 1.0f, in, cin, dout, cout, 1.0f, dwt,
                cout);
    if (din)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, cin, cout, 1.0f, dout, cout, wt, cout, 0.0f,
                    din, cin);
#else
    qsnn_pointwise_backward_ref(din, dwt, dout, in, wt, m, cin, cout);
#endif
}
