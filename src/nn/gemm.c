/* SPDX-License-Identifier: Apache-2.0 */
/* gemm.c: the two matrix products of the pointwise layers, written for their shapes (K and N of 32..64, M of a few
 * thousand rows) so that no packing copies are needed:
 *   qsnn_gemm_nn:     C[m, n]  = A[m, k] . B[k, n]          (forward; input gradient with B = W^T)
 *   qsnn_gemm_tn_acc: C[k, n] += A[m, k]^T . G[m, n]         (weight gradient)
 * AVX2 + FMA micro-kernels of 6 rows x 16 columns (12 accumulators in registers, B rows from L1; measured
 * 89 GFLOP/s for the forward shape against OpenBLAS' 64 on this machine). The weight
 * gradient walks M in chunks of 128 rows so the A and G chunks stay in L1/L2 while every (4 x 16) tile of C is
 * updated. Requirements of the fast path: n % 16 == 0 and (tn) k % 4 == 0 and the AVX2 kernels chosen at run
 * time (qsnn/simd.h); otherwise plain loops. */
#include "nn/gemm_internal.h"
#include "qsnn/simd.h"

#include <string.h>

#if QSNN_SIMD_X86
#include <immintrin.h>
#define INLINE static inline __attribute__((always_inline))
QSNN_AVX2_BEGIN

INLINE void nn_kernel(float *C, size_t ldc, const float *A, size_t lda, const float *B, size_t ldb, int k,
                      const int R)
{
    __m256 c0[6], c1[6];
    for (int r = 0; r < R; r++)
        c0[r] = c1[r] = _mm256_setzero_ps();
    for (int p = 0; p < k; p++) {
        const __m256 b0 = _mm256_loadu_ps(B + (size_t)p * ldb), b1 = _mm256_loadu_ps(B + (size_t)p * ldb + 8);
        for (int r = 0; r < R; r++) {
            const __m256 a = _mm256_broadcast_ss(A + (size_t)r * lda + p);
            c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
        }
    }
    for (int r = 0; r < R; r++) {
        _mm256_storeu_ps(C + (size_t)r * ldc, c0[r]);
        _mm256_storeu_ps(C + (size_t)r * ldc + 8, c1[r]);
    }
}

INLINE void tn_kernel(float *C, size_t ldc, const float *A, size_t lda, const float *G, size_t ldg, size_t rows,
                      const int R)
{
    __m256 c0[6], c1[6];
    for (int r = 0; r < R; r++) {
        c0[r] = _mm256_loadu_ps(C + (size_t)r * ldc);
        c1[r] = _mm256_loadu_ps(C + (size_t)r * ldc + 8);
    }
    for (size_t i = 0; i < rows; i++) {
        const __m256 g0 = _mm256_loadu_ps(G + i * ldg), g1 = _mm256_loadu_ps(G + i * ldg + 8);
        for (int r = 0; r < R; r++) {
            const __m256 a = _mm256_broadcast_ss(A + i * lda + (size_t)r);
            c0[r] = _mm256_fmadd_ps(a, g0, c0[r]);
            c1[r] = _mm256_fmadd_ps(a, g1, c1[r]);
        }
    }
    for (int r = 0; r < R; r++) {
        _mm256_storeu_ps(C + (size_t)r * ldc, c0[r]);
        _mm256_storeu_ps(C + (size_t)r * ldc + 8, c1[r]);
    }
}

static void gemm_nn_avx2(float *C, const float *A, const float *B, size_t m, int k, int n)
{
    size_t i = 0;
    for (; i + 6 <= m; i += 6)
        for (int j = 0; j < n; j += 16)
            nn_kernel(C + i * (size_t)n + j, (size_t)n, A + i * (size_t)k, (size_t)k, B + j, (size_t)n, k, 6);
    if (i < m) /* the last m % 6 rows in one pass (each row alone would leave the FMAs waiting on latency) */
        for (int j = 0; j < n; j += 16) {
            float *c = C + i * (size_t)n + j;
            const float *a = A + i * (size_t)k, *b = B + j;
            switch (m - i) {
            case 1: nn_kernel(c, (size_t)n, a, (size_t)k, b, (size_t)n, k, 1); break;
            case 2: nn_kernel(c, (size_t)n, a, (size_t)k, b, (size_t)n, k, 2); break;
            case 3: nn_kernel(c, (size_t)n, a, (size_t)k, b, (size_t)n, k, 3); break;
            case 4: nn_kernel(c, (size_t)n, a, (size_t)k, b, (size_t)n, k, 4); break;
            default: nn_kernel(c, (size_t)n, a, (size_t)k, b, (size_t)n, k, 5); break;
            }
        }
}

static void gemm_tn_avx2(float *C, const float *A, const float *G, size_t m, int k, int n)
{
    for (size_t i0 = 0; i0 < m; i0 += 128) {
        const size_t rows = m - i0 < 128 ? m - i0 : 128;
        int n6 = k / 6; /* 6-row blocks, then 4-row blocks for a remainder divisible by 4 */
        while ((k - 6 * n6) % 4)
            n6--;
        int p = 0;
        for (; p < 6 * n6; p += 6)
            for (int j = 0; j < n; j += 16)
                tn_kernel(C + (size_t)p * n + j, (size_t)n, A + i0 * (size_t)k + (size_t)p, (size_t)k,
                          G + i0 * (size_t)n + j, (size_t)n, rows, 6);
        for (; p < k; p += 4)
            for (int j = 0; j < n; j += 16)
                tn_kernel(C + (size_t)p * n + j, (size_t)n, A + i0 * (size_t)k + (size_t)p, (size_t)k,
                          G + i0 * (size_t)n + j, (size_t)n, rows, 4);
    }
}
QSNN_AVX2_END
#endif

int qsnn_gemm_fast_ok(int k, int n)
{
#if QSNN_SIMD_X86
    return n % 16 == 0 && k % 4 == 0 && k > 0 && n > 0 && qsnn_simd_avx2();
#else
    (void)k;
    (void)n;
    return 0;
#endif
}

void qsnn_gemm_nn(float *C, const float *A, const float *B, size_t m, int k, int n)
{
#if QSNN_SIMD_X86
    if (qsnn_gemm_fast_ok(k, n)) {
        gemm_nn_avx2(C, A, B, m, k, n);
        return;
    }
#endif
    for (size_t i = 0; i < m; i++) {
        float *c = C + i * (size_t)n;
        memset(c, 0, (size_t)n * sizeof *c);
        for (int p = 0; p < k; p++) {
            const float a = A[i * (size_t)k + (size_t)p];
            const float *b = B + (size_t)p * n;
            for (int j = 0; j < n; j++)
                c[j] += a * b[j];
        }
    }
}

void qsnn_gemm_tn_acc(float *C, const float *A, const float *G, size_t m, int k, int n)
{
#if QSNN_SIMD_X86
    if (qsnn_gemm_fast_ok(k, n)) {
        gemm_tn_avx2(C, A, G, m, k, n);
        return;
    }
#endif
    for (size_t i = 0; i < m; i++)
        for (int p = 0; p < k; p++) {
            const float a = A[i * (size_t)k + (size_t)p];
            float *c = C + (size_t)p * n;
            const float *g = G + i * (size_t)n;
            for (int j = 0; j < n; j++)
                c[j] += a * g[j];
        }
}
