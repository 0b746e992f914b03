/* SPDX-License-Identifier: Apache-2.0 */
/* bias.c: per-channel bias, forward (in place) and backward (sum over rows). */
#include "qsnn/nn.h"

void qsnn_bias_forward(float *x, const float *bias, size_t m, int c)
{
    for (size_t r = 0; r < m; r++)
        for (int j = 0; j < c; j++)
            x[r * (size_t)c + j] += bias[j];
}

void qsnn_bias_backward(float *dbias, const float *dout, size_t m, int c)
{
    for (size_t r = 0; r < m; r++)
        for (int j = 0; j < c; j++)
            dbias[j] += dout[r * (size_t)c + j];
}
