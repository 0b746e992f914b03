/* SPDX-License-Identifier: Apache-2.0 */
/* weight_quant.c: the cnn2snn 1.x weight quantizer (docs/design.md s3.3) and its straight-through gradient.
 *
 * Per tensor: kmax = 2^(bits-1) - 1, threshold 3 above 2 bits and 1 at or below, delta = kmax / (threshold * std)
 * with the population std; wq = clip(round_half_even(w * delta), -kmax, kmax) / delta.
 * Invariants: the std is accumulated in double but delta is formed in float32 the way TF does
 * (float(kmax) / (float(threshold) * float(std))); w * delta is a float32 product rounded with rintf (round half
 * to even under the default rounding mode, never changed in this project). An all-zero (or empty) tensor has
 * delta = 0 and quantizes to 0. Codes are always in [-kmax, kmax]: -2^(bits-1) is never produced.
 *
 * Gradient choice: the backward passes the gradient unchanged where |round(w * delta)| <= kmax and zeroes it
 * where the code is clipped. TF also differentiates through std(w) inside delta (docs/design.md s3.5); we do
 * not: that term is (w - wq)/delta-sized, tiny next to the straight-through term, and skipping it keeps the
 * quantizer a per-element mask (documented in docs/training.md). */
#include "qsnn/quant.h"

#include <math.h>

static int weight_kmax(int bits) { return bits >= 2 ? (1 << (bits - 1)) - 1 : 1; }

float qsnn_quant_weights_delta(const float *w, size_t n, int bits)
{
    if (n == 0 || bits < 1)
        return 0.0f;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += w[i];
    double mean = sum / (double)n;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = w[i] - mean;
        ss += d * d;
    }
    float sd = (float)sqrt(ss / (double)n);
    if (!(sd > 0.0f))
        return 0.0f;
    float threshold = bits > 2 ? 3.0f : 1.0f;
    float delta = (float)weight_kmax(bits) / (threshold * sd);
    return isfinite(delta) ? delta : 0.0f;
}

float qsnn_quant_weights(float *wq, const float *w, size_t n, int bits)
{
    float delta = qsnn_quant_weights_delta(w, n, bits);
    qsnn_quant_weights_apply(wq, w, n, bits, delta);
    return delta;
}

void qsnn_quant_weights_apply(float *wq, const float *w, size_t n, int bits, float delta)
{
    if (!(delta > 0.0f)) {
        for (size_t i = 0; i < n; i++)
            wq[i] = 0.0f;
        return;
    }
    const float kmax = (float)weight_kmax(bits);
    for (size_t i = 0; i < n; i++) {
        float k = rintf(w[i] * delta);
        k = k > kmax ? kmax : (k < -kmax ? -kmax : k);
        wq[i] = k / delta;
    }
}

void qsnn_quant_weights_backward(float *dw, const float *dwq, const float *w, size_t n, int bits, float delta)
{
    const float kmax = (float)weight_kmax(bits);
    if (!(delta > 0.0f)) { /* all-zero tensor: wq == 0 whatever w is near it; pass the gradient (STE) */
        for (size_t i = 0; i < n; i++)
            dw[i] = dwq[i];
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float k = rintf(w[i] * delta);
        dw[i] = (k <= kmax && k >= -kmax) ? dwq[i] : 0.0f;
    }
}
