/* avgpool.c: global average pooling over the hw positions of each sample (Keras GlobalAveragePooling2D). The sum
 * is accumulated in float in position order, then multiplied by 1/hw. */
#include "qsnn/nn.h"

#include <string.h>

void qsnn_avgpool_forward(float *out, const float *in, size_t n, int hw, int c)
{
    const float inv = 1.0f / (float)hw;
    for (size_t s = 0; s < n; s++) {
        float *restrict y = out + s * (size_t)c;
        const float *x = in + s * (size_t)hw * c;
        memset(y, 0, (size_t)c * sizeof *y);
        for (int p = 0; p < hw; p++)
            for (int j = 0; j < c; j++)
                y[j] += x[(size_t)p * c + j];
        for (int j = 0; j < c; j++)
            y[j] *= inv;
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
