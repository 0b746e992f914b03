/* depthwise.c: depthwise 2-D convolution (depth multiplier 1, NHWC, weights [kh][kw][c]), forward and backward.
 *
 * Every inner loop runs over the channels, contiguous in input, output and weights, so it vectorises (64
 * channels = 8 AVX registers). Padding taps are skipped. */
#include "qsnn/nn.h"

#include <string.h>

void qsnn_depthwise_forward(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c)
{
    const int C = c->cin;
    const size_t in_sz = (size_t)c->h * c->w * C, out_sz = (size_t)c->oh * c->ow * C;
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        float *y = out + s * out_sz;
        for (int oy = 0; oy < c->oh; oy++)
            for (int ox = 0; ox < c->ow; ox++) {
                float *restrict yo = y + ((size_t)oy * c->ow + ox) * C;
                memset(yo, 0, (size_t)C * sizeof *yo);
                for (int ky = 0; ky < c->kh; ky++) {
                    int iy = oy * c->sh - c->pad_t + ky;
                    if (iy < 0 || iy >= c->h)
                        continue;
                    for (int kx = 0; kx < c->kw; kx++) {
                        int ix = ox * c->sw - c->pad_l + kx;
                        if (ix < 0 || ix >= c->w)
                            continue;
                        const float *restrict xi = x + ((size_t)iy * c->w + ix) * C;
                        const float *restrict wk = wt + ((size_t)ky * c->kw + kx) * C;
                        for (int ch = 0; ch < C; ch++)
                            yo[ch] += xi[ch] * wk[ch];
                    }
                }
            }
    }
}

void qsnn_depthwise_backward(float *din, float *dwt, const float *dout, const float *in, const float *wt, size_t n,
                             const qsnn_conv_cfg *c)
{
    const int C = c->cin;
    const size_t in_sz = (size_t)c->h * c->w * C, out_sz = (size_t)c->oh * c->ow * C;
    if (din)
        memset(din, 0, n * in_sz * sizeof *din);
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        const float *dy = dout + s * out_sz;
        float *dx = din ? din + s * in_sz : NULL;
        for (int oy = 0; oy < c->oh; oy++)
            for (int ox = 0; ox < c->ow; ox++) {
                const float *restrict g = dy + ((size_t)oy * c->ow + ox) * C;
                for (int ky = 0; ky < c->kh; ky++) {
                    int iy = oy * c->sh - c->pad_t + ky;
                    if (iy < 0 || iy >= c->h)
                        continue;
                    for (int kx = 0; kx < c->kw; kx++) {
                        int ix = ox * c->sw - c->pad_l + kx;
                        if (ix < 0 || ix >= c->w)
                            continue;
                        size_t ioff = ((size_t)iy * c->w + ix) * C;
                        size_t koff = ((size_t)ky * c->kw + kx) * C;
                        const float *restrict xi = x + ioff;
                        float *restrict dwk = dwt + koff;
                        for (int ch = 0; ch < C; ch++)
                            dwk[ch] += xi[ch] * g[ch];
                        if (dx) {
                            float *restrict dxi = dx + ioff;
                            const float *restrict wk = wt + koff;
                            for (int ch = 0; ch < C; ch++)
                                dxi[ch] += g[ch] * wk[ch];
                        }
                    }
                }
            }
    }
}
