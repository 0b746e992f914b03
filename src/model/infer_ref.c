/* SPDX-License-Identifier: Apache-2.0 */
/* infer_ref.c: the evaluation forward of a float/quantized model in double precision (QSNN_PREC_F64, what
 * qsnn_model_predict and qsnn_model_forward_trace run by default).
 *
 * It computes the same mathematical function as the float32 forward (plan.c) and the training graph:
 * op -> bias -> [global average pooling] -> [BN with moving statistics] -> [ReLU6 or quantized ReLU], on inputs
 * x / 255, but every quantity in double:
 *  - weights: when quant_weights, wq = k / delta with k the integer code and delta the scale of
 *    qsnn_quant_weights (float32 delta, k = clip(rintf(w * delta)): the very integers the converter uses);
 *    k is recovered exactly from the float32 wq as rint(wq * delta) (|wq * delta - k| <= 127 * 2^-24), and
 *    k / delta is then formed in double; float weights are used as they are (widened);
 *  - quantized ReLU: level = clip(ceil((y - t0) / gamma), 0, levels) with t0, gamma the float32 constants of
 *    qsnn_qrelu_params widened to double (the converter's thresholds use the same values), ties go down;
 *  - BN: (x - mean) / sqrt(var + eps) * gamma + beta with the float32 parameters widened.
 * So it differs from the exact integer engine only where a value sits within ~1e-13 (relative) of a level
 * boundary, against ~1e-6 for float32 sums (docs/snn.md, "Agreement"). Exact ties of the top logits (frequent:
 * they are integer potentials times one scale) are left to the class decision, qsnn_argmax_f64 (infer.c), which
 * treats logits equal up to double rounding as ties and takes the lowest index like the engine.
 *
 * One plain scalar implementation per operation (no BLAS), one sample per call; the caller threads over
 * samples. Each output sums its products in one fixed order (taps, then input channels, ascending); zero inputs
 * may be skipped (exact: adding 0 * w changes no sum), so results do not depend on blocking or threads. */
#include "qsnn/plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

qsnn_status qsnn_plan_weights_f64(const qsnn_plan *p, const qsnn_model *m, double *Wd)
{
    float *wq = malloc((m->num_params ? m->num_params : 1) * sizeof *wq);
    if (!wq)
        return qsnn_fail(QSNN_ERR_NOMEM, "predict: out of memory");
    float deltas[2 * QSNN_MAX_LAYERS];
    const float *W = qsnn_plan_weights(p, m, wq, deltas);
    for (int l = 0; l < p->num_layers; l++) {
        const qsnn_plan_layer *L = &p->L[l];
        for (int part = 0; part < 2; part++) {
            size_t off = part ? L->off_dw : L->off_w;
            size_t n = part ? m->lp[l].n_dw : m->lp[l].n_w;
            if (off == QSNN_NO_OFF)
                continue;
            double delta = deltas[2 * l + part];
            int quantized = m->quant_weights && L->d->weight_bits > 0;
            for (size_t i = 0; i < n; i++) {
                double w = W[off + i];
                if (quantized)
                    w = delta > 0.0 ? rint(w * delta) / delta : 0.0;
                Wd[off + i] = w;
            }
        }
    }
    free(wq);
    return QSNN_OK;
}

/* out[oh, ow, cout] = sum over taps and input channels of in * w, w [kh][kw][cin][cout], TF 'same'/'valid'. */
static void conv2d_f64(double *out, const double *in, const double *w, const qsnn_conv_cfg *c)
{
    const int co_n = c->cout;
    for (int oy = 0; oy < c->oh; oy++)
        for (int ox = 0; ox < c->ow; ox++) {
            double *acc = out + ((size_t)oy * c->ow + ox) * co_n;
            for (int co = 0; co < co_n; co++)
                acc[co] = 0.0;
            for (int ky = 0; ky < c->kh; ky++) {
                int iy = oy * c->sh - c->pad_t + ky;
                if (iy < 0 || iy >= c->h)
                    continue;
                for (int kx = 0; kx < c->kw; kx++) {
                    int ix = ox * c->sw - c->pad_l + kx;
                    if (ix < 0 || ix >= c->w)
                        continue;
                    const double *a = in + ((size_t)iy * c->w + ix) * c->cin;
                    const double *wt = w + ((size_t)ky * c->kw + kx) * c->cin * co_n;
                    for (int ci = 0; ci < c->cin; ci++) {
                        double v = a[ci];
                        if (v == 0.0)
                            continue;
                        const double *wr = wt + (size_t)ci * co_n;
                        for (int co = 0; co < co_n; co++)
                            acc[co] += v * wr[co];
                    }
                }
            }
        }
}

/* Depthwise, depth multiplier 1: out[oh, ow, c], w [kh][kw][c]. */
static void depthwise_f64(double *out, const double *in, const double *w, const qsnn_conv_cfg *c)
{
    const int C = c->cin;
    for (int oy = 0; oy < c->oh; oy++)
        for (int ox = 0; ox < c->ow; ox++) {
            double *acc = out + ((size_t)oy * c->ow + ox) * C;
            for (int ch = 0; ch < C; ch++)
                acc[ch] = 0.0;
            for (int ky = 0; ky < c->kh; ky++) {
                int iy = oy * c->sh - c->pad_t + ky;
                if (iy < 0 || iy >= c->h)
                    continue;
                for (int kx = 0; kx < c->kw; kx++) {
                    int ix = ox * c->sw - c->pad_l + kx;
                    if (ix < 0 || ix >= c->w)
                        continue;
                    const double *a = in + ((size_t)iy * c->w + ix) * C;
                    const double *wr = w + ((size_t)ky * c->kw + kx) * C;
                    for (int ch = 0; ch < C; ch++)
                        acc[ch] += a[ch] * wr[ch];
                }
            }
        }
}

/* Pointwise / dense: out[rows, cout] = in[rows, cin] x w[cin, cout]. Every output is summed over ci in
 * ascending order whatever the blocking (blocks of 16 outputs held in registers where cout allows), so the
 * result does not depend on it. */
static void pointwise_f64(double *out, const double *in, const double *w, size_t rows, int cin, int cout)
{
    enum { B = 16 };
    for (size_t r = 0; r < rows; r++) {
        const double *x = in + r * (size_t)cin;
        double *o = out + r * (size_t)cout;
        int cb = 0;
        for (; cb + B <= cout; cb += B) {
            double a[B] = {0};
            for (int ci = 0; ci < cin; ci++) {
                const double v = x[ci], *wr = w + (size_t)ci * cout + cb;
                for (int j = 0; j < B; j++)
                    a[j] += v * wr[j];
            }
            memcpy(o + cb, a, sizeof a);
        }
        for (int co = cb; co < cout; co++) {
            double a = 0.0;
            for (int ci = 0; ci < cin; ci++)
                a += x[ci] * w[(size_t)ci * cout + co];
            o[co] = a;
        }
    }
}

/* pool_after: average (over the taps inside the image, as TensorFlow) or maximum of each window. */
static void pool_f64(double *out, const double *in, const qsnn_conv_cfg *c, int is_max)
{
    const int C = c->cin;
    for (int oy = 0; oy < c->oh; oy++)
        for (int ox = 0; ox < c->ow; ox++) {
            double *o = out + ((size_t)oy * c->ow + ox) * C;
            int taps = 0;
            for (int ky = 0; ky < c->kh; ky++) {
                int iy = oy * c->sh - c->pad_t + ky;
                for (int kx = 0; kx < c->kw && iy >= 0 && iy < c->h; kx++) {
                    int ix = ox * c->sw - c->pad_l + kx;
                    if (ix < 0 || ix >= c->w)
                        continue;
                    const double *a = in + ((size_t)iy * c->w + ix) * C;
                    for (int ch = 0; ch < C; ch++)
                        o[ch] = !taps ? a[ch] : is_max ? (a[ch] > o[ch] ? a[ch] : o[ch]) : o[ch] + a[ch];
                    taps++;
                }
            }
            for (int ch = 0; ch < C && !is_max; ch++)
                o[ch] /= taps;
        }
}

void qsnn_plan_infer_f64(const qsnn_plan *p, const qsnn_model *m, const double *Wd, const uint8_t *x,
                         double *bufA, double *bufB, double *bufT, double *sig, double *logits,
                         float *const *trace)
{
    for (size_t i = 0; i < p->in_sz; i++)
        bufB[i] = (double)x[i] / 255.0;
    const double *in = bufB;
    double *z = bufA;
    const double eps = m->bn_eps > 0.0f ? (double)m->bn_eps : (double)1e-3f;
    for (int l = 0; l < p->num_layers; l++) {
        const qsnn_plan_layer *L = &p->L[l];
        const qsnn_layer_desc *d = L->d;
        const int C = L->cout;
        switch (d->op) {
        case QSNN_OP_CONV2D:
            conv2d_f64(z, in, Wd + L->off_w, &L->cc);
            break;
        case QSNN_OP_DEPTHWISE:
            depthwise_f64(z, in, Wd + L->off_dw, &L->cc);
            break;
        case QSNN_OP_SEPARABLE:
            depthwise_f64(bufT, in, Wd + L->off_dw, &L->cc);
            pointwise_f64(z, bufT, Wd + L->off_w, L->hw, L->cin, C);
            break;
        case QSNN_OP_DENSE:
            pointwise_f64(z, in, Wd + L->off_w, 1, L->cin, C);
            break;
        }
        if (L->off_bias != QSNN_NO_OFF) {
            const float *b = m->params + L->off_bias;
            for (size_t r = 0; r < L->hw; r++)
                for (int f = 0; f < C; f++)
                    z[r * (size_t)C + (size_t)f] += (double)b[f];
        }
        if (d->pool == QSNN_POOL_GLOBAL_AVG) { /* row 0 accumulates the others: safe in place */
            for (size_t r = 1; r < L->hw; r++)
                for (int f = 0; f < C; f++)
                    z[f] += z[r * (size_t)C + (size_t)f];
            for (int f = 0; f < C; f++)
                z[f] /= (double)L->hw;
        }
        const size_t cnt = L->act_sz;
        if (L->off_gamma != QSNN_NO_OFF) {
            const float *g = m->params + L->off_gamma, *be = m->params + L->off_beta, *mu = m->params + L->off_mm,
                        *var = m->params + L->off_mv;
            for (int f = 0; f < C; f++)
                sig[f] = sqrt((double)var[f] + eps);
            for (size_t i = 0; i < cnt; i += (size_t)C)
                for (int f = 0; f < C; f++)
                    z[i + (size_t)f] = (z[i + (size_t)f] - (double)mu[f]) / sig[f] * (double)g[f] + (double)be[f];
        }
        if (d->activation) {
            if (m->quant_acts) {
                qsnn_qrelu q = qsnn_qrelu_params(d->act_bits);
                const double t0 = q.t0, ga = q.gamma, lv = q.levels;
                for (size_t i = 0; i < cnt; i++) {
                    double u = ceil((z[i] - t0) / ga);
                    u = u > 0.0 ? u : 0.0; /* NaN -> 0 */
                    u = u < lv ? u : lv;
                    z[i] = ga * u;
                }
            } else {
                const double top = d->act_relu ? INFINITY : 6.0;
                for (size_t i = 0; i < cnt; i++) {
                    double v = z[i] > 0.0 ? z[i] : 0.0;
                    z[i] = v < top ? v : top;
                }
            }
        }
        if (d->pool_after != QSNN_POOL_NONE) { /* the layer input is no longer needed: pool into the other buffer */
            double *pz = (z == bufA) ? bufB : bufA;
            pool_f64(pz, z, &L->pc, d->pool_after == QSNN_POOL_MAX);
            z = pz;
        }
        if (trace && trace[l])
            for (size_t i = 0; i < L->out_sz; i++)
                trace[l][i] = (float)z[i];
        in = z;
        z = (z == bufA) ? bufB : bufA;
    }
    memcpy(logits, in, (size_t)p->classes * sizeof *logits);
}
