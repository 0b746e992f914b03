/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/tensor.h: the one tensor layout of the project, and shape helpers.
 *
 * Layout: NHWC, row-major, everywhere (features, activations, gradients, the integer engine).
 *   N = batch, H = frames (49 for one second of audio), W = MFCC coefficients (10), C = channels.
 * Akida prints shapes as [W, H, C]; only the report code converts to that order, at print time.
 *
 * Weight layouts (Keras order, cross-correlation, never flipped):
 *   conv2d     [KH][KW][CIN][COUT]
 *   depthwise  [KH][KW][C]          (depth multiplier 1)
 *   pointwise  [CIN][COUT]
 *   dense      [IN][OUT]
 */
#ifndef QSNN_TENSOR_H
#define QSNN_TENSOR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int h, w, c; /* one sample; the batch size travels separately */
} qsnn_shape;

static inline size_t qsnn_shape_count(qsnn_shape s) { return (size_t)s.h * (size_t)s.w * (size_t)s.c; }

/* Offset of (y, x, ch) inside one NHWC sample of shape s. */
static inline size_t qsnn_shape_at(qsnn_shape s, int y, int x, int ch)
{
    return ((size_t)y * (size_t)s.w + (size_t)x) * (size_t)s.c + (size_t)ch;
}

/* TensorFlow's 'same' padding along one axis: out = ceil(in / stride),
 * pad_total = max((out - 1) * stride + k - in, 0), pad_before = pad_total / 2 (the remainder goes after).
 * 'valid': out = (in - k) / stride + 1, no padding. Returns out (0 when the window does not fit). */
static inline int qsnn_conv_out_size(int in, int k, int stride, int same, int *pad_before)
{
    if (same) {
        int out = (in + stride - 1) / stride;
        int total = (out - 1) * stride + k - in;
        if (total < 0)
            total = 0;
        if (pad_before)
            *pad_before = total / 2;
        return out;
    }
    if (pad_before)
        *pad_before = 0;
    return in < k ? 0 : (in - k) / stride + 1;
}

#ifdef __cplusplus
}
#endif
#endif
