/* qrelu.c: ActivationDiscreteRelu of cnn2snn 1.x (semantics.md 1.2), forward and straight-through backward, and
 * ReLU6 (the float episodes' activation).
 *
 * level(x) = clip(ceil((x - t0) / gamma), 0, levels), y = gamma * level, computed in float32 exactly in that order
 * (so a tie x = t0 + n*gamma that is exact in float goes down to level n). Gradient: 1 where the unclipped level
 * lies in [0, levels], i.e. x in (t0 - gamma, t0 + levels*gamma], else 0. NaN inputs give level 0. */
#include "qsnn/model.h"
#include "qsnn/nn.h"

#include <math.h>

qsnn_qrelu qsnn_qrelu_params(int bits)
{
    qsnn_qrelu q;
    if (bits < 1)
        bits = 1;
    if (bits > 16)
        bits = 16;
    q.bits = bits;
    q.levels = (1 << bits) - 1;
    q.relumax = q.levels < 6 ? (float)q.levels : 6.0f;
    q.gamma = q.relumax / (float)q.levels;
    q.t0 = q.gamma / 2.0f;
    q.step = (float)(1 << bits) * q.gamma / 16.0f;
    return q;
}

int qsnn_qrelu_level(const qsnn_qrelu *q, float x)
{
    float u = ceilf((x - q->t0) / q->gamma);
    if (!(u > 0.0f)) /* also NaN */
        return 0;
    if (u >= (float)q->levels)
        return q->levels;
    return (int)u;
}

void qsnn_qrelu_forward(float *y, const float *x, size_t n, const qsnn_qrelu *q)
{
    const float t0 = q->t0, g = q->gamma, lv = (float)q->levels;
    for (size_t i = 0; i < n; i++) {
        float u = ceilf((x[i] - t0) / g);
        u = u > 0.0f ? u : 0.0f;
        u = u < lv ? u : lv;
        y[i] = g * u;
    }
}

void qsnn_qrelu_backward(float *dx, const float *dy, const float *x, size_t n, const qsnn_qrelu *q)
{
    const float t0 = q->t0, g = q->gamma, lv = (float)q->levels;
    for (size_t i = 0; i < n; i++) {
        float u = ceilf((x[i] - t0) / g);
        dx[i] = (u >= 0.0f && u <= lv) ? dy[i] : 0.0f;
    }
}

void qsnn_relu6_forward(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i] > 0.0f ? x[i] : 0.0f;
        y[i] = v < 6.0f ? v : 6.0f;
    }
}

void qsnn_relu6_backward(float *dx, const float *dy, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = (x[i] > 0.0f && x[i] < 6.0f) ? dy[i] : 0.0f;
}
