/* SPDX-License-Identifier: Apache-2.0 */
/* kernels_internal.h (private to src/snn; tests and benchmarks include it): the integer kernels of the engine,
 * each with its plain scalar `_ref` twin (src/snn/snn_kernels.c). An embedder never calls these: qsnn/snn.h is
 * the engine's whole public API. */
#ifndef QSNN_SNN_KERNELS_INTERNAL_H
#define QSNN_SNN_KERNELS_INTERNAL_H

#include "qsnn/snn.h"

#include <stddef.h>
#include <stdint.h>

/* Fire: out[j] = #{ n in 1..levels : p[j] * 2^f > t[j] + (n-1) * s[j] } for j < n. Requirements (checked by
 * model validation): s[j] > 0 and |t[j]| + 16 s[j] + 2^(f+1) < 2^31. _ref counts in int64; the fast version
 * uses a float estimate with an exact integer correction. Both give the same integers. */
void qsnn_snn_fire_s32_ref(uint8_t *out, const int32_t *p, const int32_t *t, const int32_t *s, int n, int f,
                           int levels);
void qsnn_snn_fire_s32(uint8_t *out, const int32_t *p, const int32_t *t, const int32_t *s, int n, int f,
                       int levels);

/* The same levels from per-neuron constants computed once (what a cached context keeps for every layer):
 * pre[j] = 2^f / s[j] and pre[n + j] = (2 t[j] + 1) / (2 s[j]) - 1 as doubles, then with one fma
 * x = p[j] pre[j] - pre[n + j] (= (p 2^f - t - 1/2) / s + 1, exactly, never an integer),
 * out[j] = clamp(ceil(x - 1), 0, levels) = x < 1 ? 0 : min(trunc(x), levels). Exact for every int32 p, t and
 * s >= 1: the rounding error of the fma and of the two constants stays below the 1 / (2 s) offset, which itself
 * is below the distance 1 / s of any non-integer quotient (p 2^f - t) / s from the integers (docs/snn.md). */
void qsnn_snn_fire_pre_fill(double *pre, const int32_t *t, const int32_t *s, int n, int f);
void qsnn_snn_fire_pre(uint8_t *out, const int32_t *p, const double *pre, int n, int levels);

/* acc[j] += sum_{k < 2*kp} a[k] * w[k][j] for j < n, with w stored pair-interleaved: w2[(k/2)][j][k%2]
 * (int8). Exact as long as the sums fit int32 (checked at init). _ref is the plain scalar version. */
void qsnn_snn_gemv_s16_s8(int32_t *acc, const int16_t *a, const int8_t *w2, int kp, int n);
void qsnn_snn_gemv_s16_s8_ref(int32_t *acc, const int16_t *a, const int8_t *w2, int kp, int n);
/* The same with int16 weights (the layout of a cached context's unpacked weights). */
void qsnn_snn_gemv_s16_s16(int32_t *acc, const int16_t *a, const int16_t *w2, int kp, int n);
void qsnn_snn_gemv_s16_s16_ref(int32_t *acc, const int16_t *a, const int16_t *w2, int kp, int n);
/* Two inputs at once (the cached dense path's pointwise stage, two pixels per weight load):
 * o0[j] = sum_k a0[k] w[k][j], o1[j] = sum_k a1[k] w[k][j] (stored, not accumulated). */
void qsnn_snn_gemv2_s16_s16(int32_t *o0, int32_t *o1, const int16_t *a0, const int16_t *a1, const int16_t *w2, int kp,
                            int n);
void qsnn_snn_gemv2_s16_s16_ref(int32_t *o0, int32_t *o1, const int16_t *a0, const int16_t *a1, const int16_t *w2,
                                int kp, int n);
/* Two uint8 inputs, int8 weights in quads, with a bias (the cached path's pointwise stage when a pixel pair's
 * depthwise sums fit in int8: the engine feeds them offset by 128 and folds -128 sum_k w[k][j] into bias):
 * o0[j] = bias[j] + sum_{k < 4 kq} a0[k] w4[k/4][j][k%4], o1 likewise (stored). Weights must be in [-8, 8] (4-bit
 * weights): the int16 partial sums of the fast version then cannot saturate, and it equals _ref for every a. */
void qsnn_snn_gemv2_u8_s8(int32_t *o0, int32_t *o1, const uint8_t *a0, const uint8_t *a1, const int8_t *w4,
                          const int32_t *bias, int kq, int n);
void qsnn_snn_gemv2_u8_s8_ref(int32_t *o0, int32_t *o1, const uint8_t *a0, const uint8_t *a1, const int8_t *w4,
                              const int32_t *bias, int kq, int n);
/* Event form: only the listed input pairs p < np (the non-zero ones): acc[j] += a2[2p] w2[idx[p]][j][0] +
 * a2[2p+1] w2[idx[p]][j][1]. */
void qsnn_snn_gemv_sparse_s16_s16(int32_t *acc, const int16_t *a2, const int32_t *idx, int np, const int16_t *w2,
                                  int n);
void qsnn_snn_gemv_sparse_s16_s16_ref(int32_t *acc, const int16_t *a2, const int32_t *idx, int np,
                                      const int16_t *w2, int n);

#endif
