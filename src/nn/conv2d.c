/* conv2d.c: 2-D convolution (Keras cross-correlation, NHWC, weights [kh][kw][cin][cout]) with stride and TF
 * 'same' padding, forward and backward; also the geometry helper.
 *
 * Direct loops ordered so the innermost loop runs over output channels (contiguous in both the weights and the
 * output): the compiler vectorises it. In mobilenet_kws this is only the first layer (cin = 1, 5x5, stride 2,
 * ~4 % of the FLOPs), so a GEMM formulation is not worth its buffer. Padding taps are skipped, never read. */
#include "qsnn/nn.h"

#include <string.h>

qsnn_status qsnn_conv_cfg_make(qsnn_conv_cfg *c, int h, int w, int cin, int cout, int kh, int kw, int sh, int sw,
                               int same)
{
    if (h <= 0 || w <= 0 || cin <= 0 || cout <= 0 || kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0)
        return qsnn_fail(QSNN_ERR_SHAPE, "conv: non-positive size (in %dx%dx%d, kernel %dx%d, stride %dx%d)", h, w,
                         cin, kh, kw, sh, sw);
    c->h = h;
    c->w = w;
    c->cin = cin;
    c->cout = cout;
    c->kh = kh;
    c->kw = kw;
    c->sh = sh;
    c->sw = sw;
    c->oh = qsnn_conv_out_size(h, kh, sh, same, &c->pad_t);
    c->ow = qsnn_conv_out_size(w, kw, sw, same, &c->pad_l);
    if (c->oh <= 0 || c->ow <= 0)
        return qsnn_fail(QSNN_ERR_SHAPE, "conv: kernel %dx%d does not fit input %dx%d", kh, kw, h, w);
    return QSNN_OK;
}

void qsnn_conv2d_forward(float *out, const float *in, const float *wt, size_t n, const qsnn_conv_cfg *c)
{
    const int ci_n = c->cin, co_n = c->cout;
    const size_t in_sz = (size_t)c->h * c->w * ci_n, out_sz = (size_t)c->oh * c->ow * co_n;
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        float *y = out + s * out_sz;
        for (int oy = 0; oy < c->oh; oy++)
            for (int ox = 0; ox < c->ow; ox++) {
                float *yo = y + ((size_t)oy * c->ow + ox) * co_n;
                memset(yo, 0, (size_t)co_n * sizeof *yo);
                for (int ky = 0; ky < c->kh; ky++) {
                    int iy = oy * c->sh - c->pad_t + ky;
                    if (iy < 0 || iy >= c->h)
                        continue;
                    for (int kx = 0; kx < c->kw; kx++) {
                        int ix = ox * c->sw - c->pad_l + kx;
                        if (ix < 0 || ix >= c->w)
                            continue;
                        const float *xi = x + ((size_t)iy * c->w + ix) * ci_n;
                        const float *wk = wt + ((size_t)ky * c->kw + kx) * ci_n * co_n;
                        for (int ci = 0; ci < ci_n; ci++) {
                            const float v = xi[ci];
                            const float *wr = wk + (size_t)ci * co_n;
                            for (int co = 0; co < co_n; co++)
                                yo[co] += v * wr[co];
                        }
                    }
                }
            }
    }
}

void qsnn_conv2d_backward(float *din, float *dwt, const float *dout, const float *in, const float *wt, size_t n,
                          const qsnn_conv_cfg *c)
{
    const int ci_n = c->cin, co_n = c->cout;
    const size_t in_sz = (size_t)c->h * c->w * ci_n, out_sz = (size_t)c->oh * c->ow * co_n;
    if (din)
        memset(din, 0, n * in_sz * sizeof *din);
    for (size_t s = 0; s < n; s++) {
        const float *x = in + s * in_sz;
        const float *dy = dout + s * out_sz;
        float *dx = din ? din + s * in_sz : NULL;
        for (int oy = 0; oy < c->oh; oy++)
            for (int ox = 0; ox < c->ow; ox++) {
                const float *g = dy + ((size_t)oy * c->ow + ox) * co_n;
                for (int ky = 0; ky < c->kh; ky++) {
                    int iy = oy * c->sh - c->pad_t + ky;
                    if (iy < 0 || iy >= c->h)
                        continue;
                    for (int kx = 0; kx < c->kw; kx++) {
                        int ix = ox * c->sw - c->pad_l + kx;
                        if (ix < 0 || ix >= c->w)
                            continue;
                        size_t ioff = ((size_t)iy * c->w + ix) * ci_n;
                        const float *xi = x + ioff;
                        size_t koff = ((size_t)ky * c->kw + kx) * ci_n * co_n;
                        for (int ci = 0; ci < ci_n; ci++) {
                            const float v = xi[ci];
                            float *dwr = dwt + koff + (size_t)ci * co_n;
                            for (int co = 0; co < co_n; co++)
                                dwr[co] += v * g[co];
                            if (dx) {
                                const float *wr = wt + koff + (size_t)ci * co_n;
                                float acc = 0.0f;
                                for (int co = 0; co < co_n; co++)
                                    acc += g[co] * wr[co];
                                dx[ioff + ci] += acc;
                            }
                        }
                    }
                }
            }
    }
}
