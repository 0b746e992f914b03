/* SPDX-License-Identifier: Apache-2.0 */
/* convert.c: a quantized float model (qsnn_model) -> an integer .snn image (docs/design.md s4.1-4.7).
 *
 * Per layer: integer weights w_int = clip(rint(w * delta)) (the float model's own integers, wq = w_int/delta);
 * the potential p = scale * x with scale = alpha * delta [* delta_dw] * A (alpha: 255 for the uint8 input,
 * 1/gamma_act after a quantized activation; A: pooled area); the float model's level test
 * "BN(x) > t0 + (n-1) gamma_act" folded into "p > T + (n-1) S" (real numbers, computed in double), flipped and
 * negated for gamma < 0, constant for gamma = 0 or an all-zero kernel; then T and S rounded to int32 in units
 * of 2^-f with the largest f <= 24 the format allows for the layer (docs/snn.md: why this is exact).
 * Invariant: nothing is written unless the whole model converts; every error names the layer.
 */
#include "qsnn/convert.h"
#include "qsnn/tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LFAIL(st, li, d, ...) conv_fail(st, li, (d)->name, __VA_ARGS__)

static qsnn_status conv_fail(qsnn_status st, int li, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#include <stdarg.h>
static qsnn_status conv_fail(qsnn_status st, int li, const char *name, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return qsnn_fail(st, "convert: layer %d '%s': %s", li, name, msg);
}

void qsnn_convert_info_free(qsnn_convert_info *info)
{
    if (!info)
        return;
    for (int i = 0; i < QSNN_SNN_MAX_LAYERS; i++) {
        free(info->layer[i].t);
        free(info->layer[i].s);
        free(info->layer[i].neg);
        free(info->layer[i].constant);
    }
    memset(info, 0, sizeof *info);
}

/* Integer weights exactly as qsnn_quant_weights computes them (float32 product, rintf, clip). */
static float int_weights(int8_t *out, const float *w, size_t n, int bits)
{
    float delta = qsnn_quant_weights_delta(w, n, bits);
    int kmax = (1 << (bits - 1)) - 1;
    if (kmax < 1)
        kmax = 1;
    for (size_t i = 0; i < n; i++) {
        float k = delta > 0.0f ? rintf(w[i] * delta) : 0.0f;
        if (k > (float)kmax)
            k = (float)kmax;
        if (k < (float)-kmax)
            k = (float)-kmax;
        out[i] = (int8_t)k;
    }
    return delta;
}

/* Largest f <= 24 with |round(T 2^f)| + 16 round(S 2^f) + 2^(f+1) < 2^31 and round(S 2^f) >= 1 for all. */
static int choose_frac_bits(const double *t, const double *s, int n)
{
    for (int f = QSNN_SNN_MAX_FRAC_BITS; f >= 0; f--) {
        double sc = ldexp(1.0, f);
        int ok = 1;
        for (int j = 0; j < n && ok; j++) {
            double tq = nearbyint(t[j] * sc), sq = nearbyint(s[j] * sc);
            if (!(sq >= 1.0) || fabs(tq) + 16.0 * sq + 2.0 * sc >= 2147483647.0)
                ok = 0;
        }
        if (ok)
            return f;
    }
    return -1;
}

qsnn_status qsnn_convert_model(const qsnn_model *m, unsigned char **image, size_t *size, qsnn_convert_info *info)
{
    if (m && qsnn_arch_trainable(&m->arch) != QSNN_OK) /* float-only parts or another front end */
        return qsnn_fail_context(QSNN_ERR_UNSUPPORTED, "convert");
    *image = NULL;
    *size = 0;
    if (info)
        memset(info, 0, sizeof *info);
    const qsnn_arch *a = &m->arch;
    if (a->num_layers < 1 || a->num_layers > QSNN_SNN_MAX_LAYERS)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "convert: %d layers (1..%d)", a->num_layers, QSNN_SNN_MAX_LAYERS);
    if (a->num_classes > QSNN_SNN_MAX_CLASSES)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "convert: %d classes (max %d)", a->num_classes, QSNN_SNN_MAX_CLASSES);
    if (!m->quant_weights || !m->quant_acts)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED,
                         "convert: the model is not fully quantized (quantized weights %s, activations %s; "
                         "train episode 3 first)", m->quant_weights ? "yes" : "no", m->quant_acts ? "yes" : "no");
    if (!(m->scale_max > m->scale_min) || !isfinite(m->scale_min) || !isfinite(m->scale_max))
        return qsnn_fail(QSNN_ERR_UNSUPPORTED,
                         "convert: the model records no valid uint8 input scaling range (scale_min %g, scale_max %g)",
                         (double)m->scale_min, (double)m->scale_max);
    qsnn_convert_build b;
    memset(&b, 0, sizeof b);
    b.in_h = a->input.h;
    b.in_w = a->input.w;
    b.in_c = a->input.c;
    b.num_classes = a->num_classes;
    b.scale_min = m->scale_min;
    b.scale_max = m->scale_max;
    b.input_scale = 255.0f;
    for (int i = 0; i < a->num_classes && i < m->num_labels; i++)
        b.labels[i] = m->labels[i];
    b.num_layers = a->num_layers;

    /* per-layer buffers, freed at the end */
    int8_t *wbuf[QSNN_SNN_MAX_LAYERS] = {0}, *dwbuf[QSNN_SNN_MAX_LAYERS] = {0};
    int32_t *tbuf[QSNN_SNN_MAX_LAYERS] = {0};
    double *td = NULL, *sd = NULL;
    int8_t *negd = NULL, *constd = NULL;
    qsnn_status st = QSNN_OK;
    double alpha = 255.0;
    int prev_act = 8;
    for (int li = 0; li < a->num_layers && st == QSNN_OK; li++) {
        const qsnn_layer_desc *d = &a->layers[li];
        const qsnn_layer_params *lp = &m->lp[li];
        int last = li == a->num_layers - 1;
        qsnn_convert_layer *L = &b.layers[li];
        qsnn_snn_layer *r = &L->rec;
        snprintf(r->name, sizeof r->name, "%s", d->name);
        int type;
        switch (d->op) {
        case QSNN_OP_CONV2D: type = li == 0 ? QSNN_SNN_INPUT_CONV : QSNN_SNN_CONV; break;
        case QSNN_OP_SEPARABLE: type = QSNN_SNN_SEPARABLE; break;
        case QSNN_OP_DENSE: type = QSNN_SNN_FC; break;
        default:
            st = LFAIL(QSNN_ERR_UNSUPPORTED, li, d, "unsupported layer type (depthwise alone has no Akida 1.x layer; "
                                                    "use a separable layer)");
            continue;
        }
        if (d->weight_bits < 1 || d->weight_bits > 8) {
            st = LFAIL(QSNN_ERR_UNSUPPORTED, li, d, "weight bit-width %d out of range 1..8%s", d->weight_bits,
                       d->weight_bits == 0 ? " (float weights)" : "");
            continue;
        }
        if (last) {
            if (d->activation) {
                st = LFAIL(QSNN_ERR_UNSUPPORTED, li, d, "the last layer must have no activation (its integer "
                                                        "potentials give the class)");
                continue;
            }
            if (d->batch_norm) {
                st = LFAIL(QSNN_ERR_UNSUPPORTED, li, d, "batch norm on the last layer (without activation) cannot "
                                                        "be folded into integer potentials");
                continue;
            }
        } else {
            if (!d->activation) {
                st = LFAIL(QSNN_ERR_UNSUPPORTED, li, d, "only the last layer may have no activation");
                continue;
            }
            if (d->act_bits < 1 || d->act_bits > 4) {
                st = LFAIL(QSNN_ERR_UNSUPPORTED, li, d, "activation bit-width %d out of range 1..4", d->act_bits);
                continue;
            }
        }
        if (d->pool == QSNN_POOL_GLOBAL_AVG && type == QSNN_SNN_FC) {
            st = LFAIL(QSNN_ERR_UNSUPPORTED, li, d, "global pooling on a dense layer");
            continue;
        }
        qsnn_convert_layer_shape(r, type, d->in.h, d->in.w, d->in.c, d->filters, d->kh, d->kw, d->stride_h,
                                 d->stride_w, d->padding_same, d->pool == QSNN_POOL_GLOBAL_AVG);
        if (r->out_h != d->out.h || r->out_w != d->out.w || r->out_c != d->out.c) {
            st = LFAIL(QSNN_ERR_SHAPE, li, d, "output %dx%dx%d differs from the model's %dx%dx%d", (int)r->out_h,
                       (int)r->out_w, (int)r->out_c, d->out.h, d->out.w, d->out.c);
            continue;
        }
        r->weight_bits = d->weight_bits;
        r->in_bits = prev_act;
        r->act_bits = last ? 0 : d->act_bits;
        int F = r->out_c;
        size_t n_w = lp->n_w, n_dw = type == QSNN_SNN_SEPARABLE ? lp->n_dw : 0;
        wbuf[li] = malloc(n_w ? n_w : 1);
        dwbuf[li] = malloc(n_dw ? n_dw : 1);
        tbuf[li] = malloc(8 * (size_t)F);
        td = malloc(sizeof(double) * (size_t)F);
        sd = malloc(sizeof(double) * (size_t)F);
        negd = calloc((size_t)F, 1);
        constd = calloc((size_t)F, 1);
        if (!wbuf[li] || !dwbuf[li] || !tbuf[li] || !td || !sd || !negd || !constd) {
            st = qsnn_fail(QSNN_ERR_NOMEM, "convert: out of memory");
            continue;
        }
        double delta = int_weights(wbuf[li], lp->w, n_w, d->weight_bits);
        if (n_dw)
            delta *= int_weights(dwbuf[li], lp->dw, n_dw, d->weight_bits);
        double area = r->pool ? (double)r->conv_h * (double)r->conv_w : 1.0;
        double scale = alpha * delta * area;
        size_t per_neuron = n_w / (size_t)F; /* weights of neuron f: w[k * F + f] */
        int any_bias = 0;
        for (size_t j = 0; lp->bias && j < lp->n_bias; j++)
            any_bias |= lp->bias[j] != 0.0f;
        if (last) {
            if (scale > 0.0 && isfinite(1.0 / scale))
                b.logit_scale = (float)(1.0 / scale); /* logits = potentials / scale */
            if (any_bias) {
                st = LFAIL(QSNN_ERR_UNSUPPORTED, li, d, "bias on the last layer (without activation) cannot be "
                                                        "represented in integer potentials");
                continue;
            }
        } else {
            qsnn_qrelu q = qsnn_qrelu_params(d->act_bits);
            double t0 = q.t0, ga = q.gamma;
            for (int f = 0; f < F; f++) {
                double g = 1, be = 0, mu = 0, sig = 1, bias = lp->bias ? lp->bias[f] : 0.0;
                if (d->batch_norm) {
                    g = lp->gamma[f];
                    be = lp->beta[f];
                    mu = lp->moving_mean[f];
                    sig = sqrt((double)lp->moving_var[f] + (double)m->bn_eps);
                }
                if (!isfinite(g) || !isfinite(be) || !isfinite(mu) || !isfinite(sig) || !isfinite(bias)) {
                    st = LFAIL(QSNN_ERR_RANGE, li, d, "neuron %d: non-finite batch norm or bias", f);
                    break;
                }
                if (g == 0.0 || !(scale > 0.0)) {
                    /* constant level c: zero weights, T = 0.5 - c, S = 1 gives level(p = 0) = c exactly */
                    float xc = (float)(g == 0.0 ? be : g * (bias - mu) / sig + be);
                    int c = qsnn_qrelu_level(&q, xc);
                    for (size_t k = 0; k < per_neuron; k++)
                        wbuf[li][k * (size_t)F + (size_t)f] = 0;
                    td[f] = 0.5 - c;
                    sd[f] = 1.0;
                    constd[f] = 1;
                    continue;
                }
                double ratio = sig / g;
                double t = scale * (mu - bias + ratio * (t0 - be));
                double s = scale * ratio * ga;
                if (g < 0) { /* BN(x) > B  <=>  x < ...: negate the potential (weights) and the thresholds */
                    t = -t;
                    s = -s;
                    negd[f] = 1;
                    for (size_t k = 0; k < per_neuron; k++)
                        wbuf[li][k * (size_t)F + (size_t)f] = (int8_t)-wbuf[li][k * (size_t)F + (size_t)f];
                }
                if (!isfinite(t) || !isfinite(s) || !(s > 0)) {
                    st = LFAIL(QSNN_ERR_RANGE, li, d, "neuron %d: threshold %g / step %g not representable", f, t, s);
                    break;
                }
                td[f] = t;
                sd[f] = s;
            }
            if (st != QSNN_OK)
                continue;
            int fb = choose_frac_bits(td, sd, F);
            if (fb < 0) {
                int worst = 0;
                for (int f = 1; f < F; f++)
                    if (fabs(td[f]) + 16 * sd[f] > fabs(td[worst]) + 16 * sd[worst])
                        worst = f;
                st = LFAIL(QSNN_ERR_RANGE, li, d, "threshold overflow: neuron %d threshold %.6g step %.6g (potential "
                                                  "units) do not fit the int32 threshold format", worst, td[worst],
                           sd[worst]);
                continue;
            }
            r->frac_bits = fb;
            int32_t *tt = tbuf[li], *ss = tbuf[li] + F;
            for (int f = 0; f < F; f++) {
                tt[f] = (int32_t)nearbyint(ldexp(td[f], fb));
                ss[f] = (int32_t)nearbyint(ldexp(sd[f], fb));
            }
            L->th_t = tt;
            L->th_s = ss;
            prev_act = d->act_bits;
            alpha = 1.0 / (double)q.gamma;
        }
        L->w = wbuf[li];
        L->dw = n_dw ? dwbuf[li] : NULL;
        if (info) {
            qsnn_convert_fold *fo = &info->layer[li];
            fo->scale = scale;
            if (!last) {
                fo->t = td;
                fo->s = sd;
                fo->neg = negd;
                fo->constant = constd;
                td = sd = NULL;
                negd = constd = NULL;
                for (int f = 0; f < F; f++) {
                    info->negated += fo->neg[f];
                    info->constant += fo->constant[f];
                }
            }
            info->num_layers = li + 1;
        }
        free(td);
        free(sd);
        free(negd);
        free(constd);
        td = sd = NULL;
        negd = constd = NULL;
    }
    free(td);
    free(sd);
    free(negd);
    free(constd);
    if (st == QSNN_OK) {
        st = qsnn_convert_build_image(&b, image, size);
        if (st != QSNN_OK)
            qsnn_fail_context(st, "convert");
    }
    for (int i = 0; i < QSNN_SNN_MAX_LAYERS; i++) {
        free(wbuf[i]);
        free(dwbuf[i]);
        free(tbuf[i]);
    }
    if (st != QSNN_OK && info)
        qsnn_convert_info_free(info);
    return st;
}
