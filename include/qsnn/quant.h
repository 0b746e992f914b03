/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/quant.h: the quantizers of cnn2snn 1.x (docs/design.md s3.3-3.4): weights to signed integers times a
 * per-tensor scale, and the tutorial's quantized ReLU, with the straight-through gradients the training graph
 * uses (src/quant). Below the layers (qsnn/nn.h: the fused batch norm + activation takes a qsnn_qrelu) and the
 * model (qsnn/model.h); the converter (qsnn/convert.h) folds the same values into integer thresholds.
 */
#ifndef QSNN_QUANT_H
#define QSNN_QUANT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- quantizers (cnn2snn 1.x, docs/design.md s3.3-3.4) ---- */

/* Weight quantizer: kmax = 2^(bits-1) - 1; threshold = 3 for bits > 2, else 1;
 * delta = kmax / (threshold * std(w)) (population std); wq = clip(round_half_even(w * delta), -kmax, kmax) / delta.
 * Writes wq[n] (may alias w) and returns delta. An all-zero tensor has delta = 0 and wq = 0. */
float qsnn_quant_weights(float *wq, const float *w, size_t n, int bits);
float qsnn_quant_weights_delta(const float *w, size_t n, int bits);

/* ActivationDiscreteRelu(bits): levels = 2^bits - 1, relumax = min(levels, 6), gamma = relumax / levels,
 * t0 = gamma / 2. level(x) = clip(ceil((x - t0) / gamma), 0, levels); y = gamma * level. */
typedef struct {
    int bits;
    int levels;
    float relumax, gamma, t0;
    float step; /* Akida's threshold_fire_step unit: 2^bits * gamma / 16 */
} qsnn_qrelu;
qsnn_qrelu qsnn_qrelu_params(int bits);
int qsnn_qrelu_level(const qsnn_qrelu *q, float x);

/* ---- the same quantizers for the training graph: given delta, and the straight-through gradients ---- */

/* wq[i] = clip(rint(w[i] * delta), -kmax, kmax) / delta for a given delta (0 -> wq = 0). */
void qsnn_quant_weights_apply(float *wq, const float *w, size_t n, int bits, float delta);
/* Straight-through gradient: dw[i] = dwq[i] where |rint(w[i] * delta)| <= kmax, else 0. No gradient through
 * std(w) (see src/quant/weight_quant.c). dw may alias dwq. */
void qsnn_quant_weights_backward(float *dw, const float *dwq, const float *w, size_t n, int bits, float delta);

/* Quantized ReLU y[n] = gamma * level(x) and its straight-through gradient (1 for x in (t0 - gamma,
 * t0 + levels * gamma], else 0). dx may alias dy. */
void qsnn_qrelu_forward(float *y, const float *x, size_t n, const qsnn_qrelu *q);
void qsnn_qrelu_backward(float *dx, const float *dy, const float *x, size_t n, const qsnn_qrelu *q);
/* ReLU6: y = min(max(x, 0), 6); gradient 1 for 0 < x < 6. dx may alias dy. */
void qsnn_relu6_forward(float *y, const float *x, size_t n);
void qsnn_relu6_backward(float *dx, const float *dy, const float *x, size_t n);

#ifdef __cplusplus
}
#endif
#endif
