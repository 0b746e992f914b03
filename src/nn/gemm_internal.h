/* SPDX-License-Identifier: Apache-2.0 */
/* gemm_internal.h (private to src/nn): the pointwise products (see gemm.c). Row-major, no aliasing between C and
 * inputs. */
#ifndef QSNN_NN_GEMM_INTERNAL_H
#define QSNN_NN_GEMM_INTERNAL_H

#include <stddef.h>

/* 1 when the register-blocked kernels apply to these sizes (n % 16 == 0, k % 4 == 0) and the AVX2 kernels run. */
int qsnn_gemm_fast_ok(int k, int n);
/* C[m, n] = A[m, k] . B[k, n] */
void qsnn_gemm_nn(float *C, const float *A, const float *B, size_t m, int k, int n);
/* C[k, n] += A[m, k]^T . G[m, n] */
void qsnn_gemm_tn_acc(float *C, const float *A, const float *G, size_t m, int k, int n);

#endif
