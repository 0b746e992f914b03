/* SPDX-License-Identifier: Apache-2.0 */
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

#include "qsnn/core.h"
#include "qsnn/quant.h"
#include "qsnn/tensor.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- convolution geometry ---- */
typedef struct {
    int h, w, cin;        /* input sample shape */
    int cout;             /* output channels (depthwise: == cin) */
    int kh, kw, sh, sw;   /* kernel and strides */
    int pad_t, pad_l;     /* TF 'same' padding before (the remainder goes after), 0 for 'valid' */
    int oh, ow;           /* output spatial size */
} qsnn_conv_cfg;

/* Fill the geometry (TF 'same' or 'valid' rule of qsnn_conv_out_size). Returns QSNN_ERR_SHAPE if the output
 * would be empty or a size is not positive. */
qsnn_status qsnn_conv_cfg_make(qsnn_conv_cfg *c, int h, int w, int cin, int cout, int kh, int kw, int sh, int sw,
                               int same);
/* Output pixels a kernel tap reaches inside the image: [*o0, *o1) along one axis, for tap offset k, stride s,
 * leading padding pad, input size n and output size on (rows: ky, sh, pad_t, h, oh; columns: kx, sw, pad_l, w,
 * ow); the weight and input gradients of the convolutions loop over exactly these. */
void qsnn_conv_tap_span(int k, int s, int pad, int n, int on, int *o0, int *o1);

/* ---- 2-D convolution (src/nn/conv2d.c), Keras cross-correlation, weights [kh][kw][cin][cout] ---- */
void qsnn_conv2d_forward(float *out /* [n, oh, ow, cout] */, const float *in /* [n, h, w, cin] */,
                         const float *wt /* [kh, kw, cin, cout] */, size_t n, const qsnn_conv_cfg *c);
void qsnn_conv2d_backward(float *din /* [n, h, w, cin] or NULL */, float *dwt /* += [kh, kw, cin, cout] */,
                          const float *dout /* [n, oh, ow, cout] */, const float *in, const float *wt, size_t n,
                          const qsnn_conv_cfg *c);
void qsnn_conv2d_forward_ref(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c);
void qsnn_conv2d_backward_ref(float *din, float *dwt, const float *dout, const float *in, const float *wt, size_t n,
                              const qsnn_conv_cfg *c);

/* ---- depthwise convolution, depth multiplier 1 (src/nn/depthwise.c), weights [kh][kw][c] ---- */
void qsnn_depthwise_forward(float *out /* [n, oh, ow, c] */, const float *in /* [n, h, w, c] */,
                            const float *wt /* [kh, kw, c] */, size_t n, const qsnn_conv_cfg *c);
void qsnn_depthwise_backward(float *din /* [n, h, w, c] or NULL */, float *dwt /* += [kh, kw, c] */,
                             const float *dout /* [n, oh, ow, c] */, const float *in, const float *wt, size_t n,
                             const qsnn_conv_cfg *c);
void qsnn_depthwise_forward_ref(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c);
void qsnn_depthwise_backward_ref(float *din, float *dwt, const float *dout, const float *in, const float *wt,
                                 size_t n, const qsnn_conv_cfg *c);

/* ---- pointwise (1x1) convolution and dense layer: a GEMM over m = n*h*w rows (src/nn/pointwise.c) ----
 * Uses OpenBLAS cblas_sgemm when the build has it (single-threaded per call: the caller threads over samples);
 * the _ref versions are plain loops. */
void qsnn_pointwise_forward(float *out /* [m, cout] */, const float *in /* [m, cin] */,
                            const float *wt /* [cin, cout] */, size_t m, int cin, int cout);
void qsnn_pointwise_backward(float *din /* [m, cin] or NULL */, float *dwt /* += [cin, cout] */,
                             const float *dout /* [m, cout] */, const float *in, const float *wt, size_t m, int cin,
                             int cout);
void qsnn_pointwise_forward_ref(float *out, const float *in, const float *wt, size_t m, int cin, int cout);
void qsnn_pointwise_backward_ref(float *din, float *dwt, const float *dout, const float *in, const float *wt,
                                 size_t m, int cin, int cout);
/* Make BLAS single-threaded (call once before threading over samples; no-op without OpenBLAS). */
void qsnn_nn_blas_single_thread(void);

/* ---- bias (src/nn/bias.c) ---- */
void qsnn_bias_forward(float *x /* in place [m, c] */, const float *bias /* [c] */, size_t m, int c);
void qsnn_bias_backward(float *dbias /* += [c] */, const float *dout /* [m, c] */, size_t m, int c);

/* ---- global average pooling (src/nn/avgpool.c); the forward may run in place (out == in) ---- */
void qsnn_avgpool_forward(float *out /* [n, c] */, const float *in /* [n, hw, c] */, size_t n, int hw, int c);
void qsnn_avgpool_backward(float *din /* [n, hw, c] */, const float *dout /* [n, c] */, size_t n, int hw, int c);

/* ---- window pooling of pool_after (src/nn/pool2d.c), inference only: c describes the window (kh, kw),
 * strides, TF padding and channels (cin = cout); the average divides by the taps inside the image ---- */
void qsnn_pool2d_forward(float *out /* [n, oh, ow, c] */, const float *in /* [n, h, w, c] */, size_t n,
                         const qsnn_conv_cfg *c, int is_max);
/* ---- batch normalization over the m = n*h*w rows of each channel (src/nn/batchnorm.c) ----
 * Training: mean and biased variance of the batch, y = gamma * (x - mean) / sqrt(var + eps) + beta; moving
 * averages (Keras momentum 0.99): mm = mom*mm + (1-mom)*mean, mv = mom*mv + (1-mom)*var*m/(m-1) (unbiased, as
 * TF's fused kernel). Inference: the moving statistics. The phase functions let a threaded caller split the m
 * rows between threads: each accumulates partial sums (+=, double), the caller adds the partials in a fixed order,
 * then every thread applies. */
typedef struct {
    float eps;      /* 1e-3 */
    float momentum; /* 0.99 */
} qsnn_bn_cfg;
void qsnn_bn_stats(double *sum /* += [c] */, double *sumsq /* += [c] */, const float *x /* [m, c] */, size_t m,
                   int c);
/* mean/invstd from the summed statistics over m_total rows; updates the moving averages when mm/mv != NULL. */
void qsnn_bn_finish(float *mean /* [c] */, float *invstd /* [c] */, float *mm, float *mv, const double *sum,
                    const double *sumsq, size_t m_total, int c, const qsnn_bn_cfg *cfg);
/* y = x * scale + shift with scale = gamma * invstd, shift = beta - mean * scale. y may alias x. */
void qsnn_bn_apply(float *y, const float *x, const float *mean, const float *invstd, const float *gamma,
                   const float *beta, size_t m, int c);
void qsnn_bn_backward_sums(double *sdy /* += [c] */, double *sdyxh /* += [c] */, const float *dy, const float *x,
                           const float *mean, const float *invstd, size_t m, int c);
/* dx = gamma * invstd / M * (M * dy - sdy - xhat * sdyxh), M = m_total. dx may alias dy. */
void qsnn_bn_backward_apply(float *dx, const float *dy, const float *x, const float *mean, const float *invstd,
                            const float *gamma, const double *sdy, const double *sdyxh, size_t m_total, size_t m,
                            int c);
/* Single-threaded convenience pairs (tests, small batches). mean/invstd [c] are outputs of forward_train. */
void qsnn_batchnorm_forward_train(float *y, float *mean, float *invstd, float *mm, float *mv, const float *x,
                                  const float *gamma, const float *beta, size_t m, int c, const qsnn_bn_cfg *cfg);
void qsnn_batchnorm_backward(float *dx, float *dgamma /* += */, float *dbeta /* += */, const float *dy,
                             const float *x, const float *mean, const float *invstd, const float *gamma, size_t m,
                             int c);
void qsnn_batchnorm_forward_infer(float *y, const float *x, const float *gamma, const float *beta, const float *mm,
                                  const float *mv, size_t m, int c, float eps);

/* ---- fused batch norm + activation (src/nn/bn_act.c): what the training graph runs, so that the BN output is
 * never stored (the backward recomputes it from x with the same float operations, hence the same masks) ---- */
typedef enum { QSNN_ACT_NONE = 0, QSNN_ACT_RELU6 = 1, QSNN_ACT_QRELU = 2 } qsnn_act_kind;
typedef struct {
    qsnn_act_kind kind;
    qsnn_qrelu q; /* QSNN_ACT_QRELU */
} qsnn_act;
/* a = act(x * scale + shift), scale = gamma * invstd, shift = beta - mean * scale (exactly qsnn_bn_apply followed
 * by the activation). a may alias x. */
void qsnn_bn_act_forward(float *a, const float *x, const float *mean, const float *invstd, const float *gamma,
                         const float *beta, size_t m, int c, const qsnn_act *act);
/* g (in place): the activation's gradient mask applied at y = x * scale + shift; then sdy += g and
 * sdyxh += g * xhat per channel (the inputs of qsnn_bn_backward_apply). */
void qsnn_bn_act_backward_sums(float *g, double *sdy, double *sdyxh, const float *x, const float *mean,
                               const float *invstd, const float *gamma, const float *beta, size_t m, int c,
                               const qsnn_act *act);

/* ---- softmax cross-entropy (src/nn/softmax_xent.c) ----
 * Forward: probs[n, k] = softmax(logits); returns the summed loss -log p[label] (double) and adds the number of
 * argmax hits (lowest index on ties) to *correct. Backward: dlogits = (probs - onehot) * scale, with
 * scale = 1 / batch size for a mean loss. */
double qsnn_softmax_xent_forward(float *probs, int *correct, const float *logits, const int32_t *labels, size_t n,
                                 int k);
void qsnn_softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels, size_t n, int k,
                                float scale);
/* Distillation loss of n rows: returns the sum over rows of (1 - a) * CE(label, softmax(z)) + a * T^2 *
 * KL(soft || softmax(z / T)), counts argmax hits in *correct, and writes to probs[n * k] the values q for which
 * qsnn_softmax_xent_backward(d, q, labels, ...) is the loss's gradient: q = (1 - a) p + a T (p_T - soft) + a onehot
 * (so that d = (q - onehot) * scale = ((1 - a)(p - onehot) + a T (p_T - soft)) * scale). A label < 0 has no CE term. */
double qsnn_softmax_kd_forward(float *probs, int *correct, const float *logits, const int32_t *labels,
                               const float *soft, size_t n, int k, float a, float T);
/* argmax of each row, lowest index on ties. */
void qsnn_argmax_rows(int32_t *pred, const float *x, size_t n, int k);

#ifdef __cplusplus
}
#endif
#endif
