/* SPDX-License-Identifier: Apache-2.0 */
/* avgpool.c: global average pooling over the hw positions of each sample (Keras GlobalAveragePooling2D). The sum
 * is accumulated in float in position order, then multiplied by 1/hw. The forward may run in place. */
#include "qsnn/nn.h"

#include <string.h>

void qsnn_avgpool_forward(float *out, const float *in, size_t n, int hw, int c)
{
    /* out may alias in: a sample's sums are complete before its row is written, and row s ends before the
     * input of sample s + 1 starts. */
    const float inv = 1.0f / (float)hw;
    float acc[256];
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * (size_t)hw * c;
        for (int j0 = 0; j0 < c; j0 += 256) {
            int cc = c - j0 < 256 ? c - j0 : 256;
            memset(acc, 0, (size_t)cc * sizeof *acc);
            for (int p = 0; p < hw; p++)
                for (int j = 0; j < cc; j++)
                    acc[j] += x[(size_t)p * c + j0 + j];
            float *y = out + s * (size_t)c + j0;
            for (int j = 0; j < cc; j++)
                y[j] = acc[j] * inv;
        }
    }
}

void qsnn_avgpool_backward(float *din, const float *dout, size_t n, int hw, int c)
{
    const float inv = 1.0f / (float)hw;
    for (size_t s = 0; s < n; s++) {
        const float *g = dout + s * (size_t)c;
        float *dx = din + s * (size_t)hw * c;
        for (int p = 0; p < hw; p++)
            for (int j = 0; j < c; j++)
                dx[(size_t)p * c + j] = g[j] * inv;
    }
}
