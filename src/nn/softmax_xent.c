/* SPDX-License-Identifier: Apache-2.0 */
/* softmax_xent.c: softmax cross-entropy on logits (max-subtracted, exp in float, log-sum in double). */
#include "qsnn/nn.h"

#include <math.h>

void qsnn_argmax_rows(int32_t *pred, const float *x, size_t n, int k)
{
    for (size_t s = 0; s < n; s++) {
        const float *r = x + s * (size_t)k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (r[j] > r[best])
                best = j;
        pred[s] = best;
    }
}

double qsnn_softmax_xent_forward(float *probs, int *correct, const float *logits, const int32_t *labels, size_t n,
                                 int k)
{
    double loss = 0.0;
    for (size_t s = 0; s < n; s++) {
        const float *z = logits + s * (size_t)k;
        float *p = probs + s * (size_t)k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (z[j] > z[best])
                best = j;
        float mx = z[best];
        double sum = 0.0;
        for (int j = 0; j < k; j++) {
            p[j] = expf(z[j] - mx);
            sum += p[j];
        }
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < k; j++)
            p[j] *= inv;
        int y = labels[s];
        if (y >= 0 && y < k) {
            loss += -((double)(z[y] - mx) - log(sum));
            if (correct && best == y)
                (*correct)++;
        }
    }
    return loss;
}

void qsnn_softmax_xent_backward(float *dlogits, const float *probs, const int32_t *labels, size_t n, int k,
                                float scale)
{
    for (size_t s = 0; s < n; s++) {
        const float *p = probs + s * (size_t)k;
        float *d = dlogits + s * (size_t)k;
        for (int j = 0; j < k; j++)
            d[j] = p[j] * scale;
        int y = labels[s];
        if (y >= 0 && y < k)
            d[y] -= scale;
    }
}

double qsnn_softmax_kd_forward(float *probs, int *correct, const float *logits, const int32_t *labels,
                               const float *soft, size_t n, int k, float a, float T)
{
    const double ce = qsnn_softmax_xent_forward(probs, correct, logits, labels, n, k);
    double kl = 0.0;
    for (size_t s = 0; s < n; s++) {
        const float *z = logits + s * (size_t)k, *q = soft + s * (size_t)k;
        float *p = probs + s * (size_t)k;
        float mx = z[0];
        for (int j = 1; j < k; j++)
            mx = z[j] > mx ? z[j] : mx;
        double sum = 0.0; /* softmax(z / T) = exp((z - mx) / T) / sum */
        for (int j = 0; j < k; j++)
            sum += exp((double)(z[j] - mx) / (double)T);
        const double lse = log(sum);
        const int y = labels[s];
        const int has_y = y >= 0 && y < k;
        const float ce_w = has_y ? 1.0f - a : 0.0f;
        for (int j = 0; j < k; j++) {
            const double logpt = (double)(z[j] - mx) / (double)T - lse;
            if (q[j] > 0)
                kl += (double)q[j] * (log((double)q[j]) - logpt);
            p[j] = ce_w * p[j] + a * T * ((float)exp(logpt) - q[j]);
        }
        if (has_y)
            p[y] += a;
    }
    return (1.0 - (double)a) * ce + (double)a * (double)T * (double)T * kl;
}
