/* qsnn/nn.h: float layers for training and float inference, with their backward passes.
 *
 * Conventions (llm.c style): one qsnn_<layer>_forward / _backward pair per layer; outputs first, then inputs,
 * then sizes/hyperparameters (small structs). Tensors are NHWC float32 (qsnn/tensor.h); `n` is the number of
 * samples the call processes. Every kernel is single-threaded and allocation-free: the trainer (src/train)
 * threads over the batch by calling kernels on slices of samples, and owns all memory. Backward functions
 * ACCUMULATE (+=) into weight gradients and OVERWRITE input gradients; an input-gradient pointer may be NULL
 * when it is not needed (the first layer). Kernels with a fast version have a plain `_ref` twin; tests show they
 * agree.
 */
#ifndef QSNN_NN_H
#define QSNN_NN_H

#include "qsnn/model.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- quantizers (src/quant); forward values in qsnn/model.h ---- */

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
