/* SPDX-License-Identifier: Apache-2.0 */
/* pool2d.c: average and max pooling over a window (the pool_after of a layer: Keras AveragePooling2D /
 * MaxPooling2D, TFLite AVERAGE_POOL_2D / MAX_POOL_2D), forward only (float inference of imported models).
 * TensorFlow's rules: 'same' / 'valid' geometry of qsnn_conv_cfg_make; an average over a window that overhangs
 * the image divides by the taps inside it (padding is not counted). */
#include "qsnn/nn.h"

void qsnn_pool2d_forward(float *out, const float *in, size_t n, const qsnn_conv_cfg *c, int is_max)
{
    const int C = c->cin;
    const size_t in_sz = (size_t)c->h * c->w * C, out_sz = (size_t)c->oh * c->ow * C;
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        for (int oy = 0; oy < c->oh; oy++)
            for (int ox = 0; ox < c->ow; ox++) {
                float *o = out + s * out_sz + ((size_t)oy * c->ow + ox) * C;
                int taps = 0;
                for (int ky = 0; ky < c->kh; ky++) {
                    const int iy = oy * c->sh - c->pad_t + ky;
                    if (iy < 0 || iy >= c->h)
                        continue;
                    for (int kx = 0; kx < c->kw; kx++) {
                        const int ix = ox * c->sw - c->pad_l + kx;
                        if (ix < 0 || ix >= c->w)
                            continue;
                        const float *a = x + ((size_t)iy * c->w + ix) * C;
                        if (!taps)
                            for (int ch = 0; ch < C; ch++)
                                o[ch] = a[ch];
                        else if (is_max)
                            for (int ch = 0; ch < C; ch++)
                                o[ch] = a[ch] > o[ch] ? a[ch] : o[ch];
                        else
                            for (int ch = 0; ch < C; ch++)
                                o[ch] += a[ch];
                        taps++;
                    }
                }
                if (!is_max && taps > 1) {
                    const float inv = 1.0f / (float)taps;
                    for (int ch = 0; ch < C; ch++)
                        o[ch] *= inv;
                }
            }
    }
}
