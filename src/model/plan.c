/* SPDX-License-Identifier: Apache-2.0 */
/* plan.c: the execution plan of a model (geometry, buffer sizes, parameter offsets) and the float32 inference
 * forward (QSNN_PREC_F32 of qsnn_model_predict_prec / qsnn_model_forward_trace_prec; the default evaluation
 * forward is the double-precision one of infer_ref.c, which uses the same plan).
 *
 * Invariants: every layer's computed output shape equals arch.layers[l].out; every offset is inside params and
 * its size matches the lp[] view. The inference forward applies, per layer, op -> bias -> [pool] -> [BN with
 * moving statistics] -> [ReLU6 or quantized ReLU], exactly the order of the training graph. */
#include "qsnn/plan.h"

#include <math.h>
#include <string.h>

static size_t off_of(const qsnn_model *m, const float *p) { return p ? (size_t)(p - m->params) : QSNN_NO_OFF; }

qsnn_status qsnn_plan_build(qsnn_plan *p, const qsnn_model *m)
{
    memset(p, 0, sizeof *p);
    const qsnn_arch *a = &m->arch;
    if (a->num_layers <= 0 || a->num_layers > QSNN_MAX_LAYERS || !m->params)
        return qsnn_fail(QSNN_ERR_ARG, "model '%s': no layers or no parameters", a->name);
    p->num_layers = a->num_layers;
    p->classes = a->num_classes;
    qsnn_shape s = a->input;
    p->in_sz = qsnn_shape_count(s);
    p->max_act = p->in_sz;
    p->max_t = 1;
    for (int l = 0; l < a->num_layers; l++) {
        const qsnn_layer_desc *d = &a->layers[l];
        const qsnn_layer_params *lp = &m->lp[l];
        qsnn_plan_layer *L = &p->L[l];
        L->d = d;
        L->in_sz = qsnn_shape_count(s);
        int oh = 1, ow = 1;
        qsnn_status st = QSNN_OK;
        switch (d->op) {
        case QSNN_OP_CONV2D:
            L->cin = s.c;
            L->cout = d->filters;
            st = qsnn_conv_cfg_make(&L->cc, s.h, s.w, s.c, d->filters, d->kh, d->kw, d->stride_h, d->stride_w,
                                    d->padding_same);
            oh = L->cc.oh, ow = L->cc.ow;
            break;
        case QSNN_OP_DEPTHWISE:
            L->cin = L->cout = s.c;
            st = qsnn_conv_cfg_make(&L->cc, s.h, s.w, s.c, s.c, d->kh, d->kw, d->stride_h, d->stride_w,
                                    d->padding_same);
            oh = L->cc.oh, ow = L->cc.ow;
            break;
        case QSNN_OP_SEPARABLE:
            L->cin = s.c;
            L->cout = d->filters;
            st = qsnn_conv_cfg_make(&L->cc, s.h, s.w, s.c, s.c, d->kh, d->kw, d->stride_h, d->stride_w,
                                    d->padding_same);
            oh = L->cc.oh, ow = L->cc.ow;
            L->t_sz = (size_t)oh * ow * s.c;
            break;
        case QSNN_OP_DENSE:
            L->cin = (int)L->in_sz;
            L->cout = d->filters;
            break;
        default:
            return qsnn_fail(QSNN_ERR_UNSUPPORTED, "layer %d '%s': unknown op %d", l, d->name, (int)d->op);
        }
        if (st != QSNN_OK)
            return qsnn_fail_context(st, "layer %d '%s'", l, d->name);
        L->hw = (size_t)oh * ow;
        L->z_sz = L->hw * (size_t)L->cout;
        qsnn_shape o = {oh, ow, L->cout};
        if (d->pool == QSNN_POOL_GLOBAL_AVG)
            o.h = o.w = 1;
        L->bn_rows = d->pool == QSNN_POOL_GLOBAL_AVG ? 1 : L->hw;
        L->act_sz = qsnn_shape_count(o);
        if (d->pool_after != QSNN_POOL_NONE) {
            st = qsnn_conv_cfg_make(&L->pc, o.h, o.w, o.c, o.c, d->pool_kh, d->pool_kw, d->pool_sh, d->pool_sw,
                                    d->pool_same);
            if (st != QSNN_OK)
                return qsnn_fail_context(st, "layer %d '%s': pool_after", l, d->name);
            o.h = L->pc.oh;
            o.w = L->pc.ow;
        }
        L->out_sz = qsnn_shape_count(o);
        if (o.h != d->out.h || o.w != d->out.w || o.c != d->out.c)
            return qsnn_fail(QSNN_ERR_SHAPE, "layer %d '%s': computed output %dx%dx%d, arch says %dx%dx%d", l,
                             d->name, o.h, o.w, o.c, d->out.h, d->out.w, d->out.c);
        size_t want_w = d->op == QSNN_OP_DEPTHWISE ? 0 : (size_t)L->cin * L->cout * (d->op == QSNN_OP_CONV2D ? (size_t)d->kh * d->kw : 1);
        size_t want_dw = (d->op == QSNN_OP_DEPTHWISE || d->op == QSNN_OP_SEPARABLE) ? (size_t)d->kh * d->kw * L->cin : 0;
        if (lp->n_w != want_w || lp->n_dw != want_dw || (want_w && !lp->w) || (want_dw && !lp->dw) ||
            (d->use_bias && (lp->n_bias != (size_t)L->cout || !lp->bias)) ||
            (d->batch_norm && (lp->n_bn != (size_t)L->cout || !lp->gamma)))
            return qsnn_fail(QSNN_ERR_SHAPE, "layer %d '%s': parameter sizes do not match the geometry", l, d->name);
        L->off_w = want_w ? off_of(m, lp->w) : QSNN_NO_OFF;
        L->off_dw = want_dw ? off_of(m, lp->dw) : QSNN_NO_OFF;
        L->off_bias = d->use_bias ? off_of(m, lp->bias) : QSNN_NO_OFF;
        if (d->batch_norm) {
            L->off_gamma = off_of(m, lp->gamma);
            L->off_beta = off_of(m, lp->beta);
            L->off_mm = off_of(m, lp->moving_mean);
            L->off_mv = off_of(m, lp->moving_var);
        } else {
            L->off_gamma = L->off_beta = L->off_mm = L->off_mv = QSNN_NO_OFF;
        }
        if (L->z_sz > p->max_act)
            p->max_act = L->z_sz;
        if (L->in_sz > p->max_act)
            p->max_act = L->in_sz;
        if (L->t_sz > p->max_t)
            p->max_t = L->t_sz;
        if (L->cout > p->max_c)
            p->max_c = L->cout;
        s = o;
    }
    if (qsnn_shape_count(s) != (size_t)a->num_classes)
        return qsnn_fail(QSNN_ERR_SHAPE, "model '%s': last layer outputs %zu values for %d classes", a->name,
                         qsnn_shape_count(s), a->num_classes);
    return QSNN_OK;
}

const float *qsnn_plan_weights(const qsnn_plan *p, const qsnn_model *m, float *wq, float *deltas)
{
    for (int l = 0; l < p->num_layers; l++)
        deltas[2 * l] = deltas[2 * l + 1] = 0.0f;
    if (!m->quant_weights)
        return m->params;
    for (int l = 0; l < p->num_layers; l++) {
        const qsnn_plan_layer *L = &p->L[l];
        int bits = L->d->weight_bits;
        if (L->off_w != QSNN_NO_OFF) {
            if (bits > 0)
                deltas[2 * l] = qsnn_quant_weights(wq + L->off_w, m->params + L->off_w, m->lp[l].n_w, bits);
            else
                memcpy(wq + L->off_w, m->params + L->off_w, m->lp[l].n_w * sizeof *wq);
        }
        if (L->off_dw != QSNN_NO_OFF) {
            if (bits > 0)
                deltas[2 * l + 1] = qsnn_quant_weights(wq + L->off_dw, m->params + L->off_dw, m->lp[l].n_dw, bits);
            else
                memcpy(wq + L->off_dw, m->params + L->off_dw, m->lp[l].n_dw * sizeof *wq);
        }
    }
    return wq;
}

void qsnn_plan_infer(const qsnn_plan *p, const qsnn_model *m, const float *W, const float *x, size_t ns,
                     float *bufA, float *bufB, float *bufT, float *logits, float *const *trace)
{
    const float *in = x;
    float *out = bufA;
    for (int l = 0; l < p->num_layers; l++) {
        const qsnn_plan_layer *L = &p->L[l];
        const qsnn_layer_desc *d = L->d;
        float *z = out;
        switch (d->op) {
        case QSNN_OP_CONV2D:
            qsnn_conv2d_forward(z, in, W + L->off_w, ns, &L->cc);
            break;
        case QSNN_OP_DEPTHWISE:
            qsnn_depthwise_forward(z, in, W + L->off_dw, ns, &L->cc);
            break;
        case QSNN_OP_SEPARABLE:
            qsnn_depthwise_forward(bufT, in, W + L->off_dw, ns, &L->cc);
            qsnn_pointwise_forward(z, bufT, W + L->off_w, ns * L->hw, L->cin, L->cout);
            break;
        case QSNN_OP_DENSE:
            qsnn_pointwise_forward(z, in, W + L->off_w, ns, L->cin, L->cout);
            break;
        }
        /* bias and a float ReLU / ReLU6 straight on the op output (imported models: no pooling, no BN) in one
         * pass over z instead of two; the same float operations as the separate ones */
        const int fuse = L->off_bias != QSNN_NO_OFF && d->pool == QSNN_POOL_NONE && L->off_gamma == QSNN_NO_OFF &&
                         d->activation && !m->quant_acts;
        if (fuse) {
            const float *b = m->params + L->off_bias, top = d->act_relu ? INFINITY : 6.0f;
            const size_t rows = ns * L->hw;
            for (size_t r = 0; r < rows; r++) {
                float *zr = z + r * (size_t)L->cout;
                for (int j = 0; j < L->cout; j++) {
                    float v = zr[j] + b[j];
                    v = v > 0.0f ? v : 0.0f;
                    zr[j] = v < top ? v : top;
                }
            }
        } else if (L->off_bias != QSNN_NO_OFF) {
            qsnn_bias_forward(z, m->params + L->off_bias, ns * L->hw, L->cout);
        }
        if (d->pool == QSNN_POOL_GLOBAL_AVG) /* pooled rows go to the front of the same buffer: safe in order */
            qsnn_avgpool_forward(z, z, ns, (int)L->hw, L->cout);
        size_t cnt = ns * L->act_sz;
        if (L->off_gamma != QSNN_NO_OFF)
            qsnn_batchnorm_forward_infer(z, z, m->params + L->off_gamma, m->params + L->off_beta,
                                         m->params + L->off_mm, m->params + L->off_mv, ns * L->bn_rows, L->cout,
                                         m->bn_eps > 0.0f ? m->bn_eps : 1e-3f);
        if (d->activation && !fuse) {
            if (m->quant_acts) {
                qsnn_qrelu q = qsnn_qrelu_params(d->act_bits);
                qsnn_qrelu_forward(z, z, cnt, &q);
            } else if (d->act_relu) {
                for (size_t i = 0; i < cnt; i++)
                    z[i] = z[i] > 0.0f ? z[i] : 0.0f;
            } else {
                qsnn_relu6_forward(z, z, cnt);
            }
        }
        if (d->pool_after != QSNN_POOL_NONE) { /* the layer input is no longer needed: pool into the other buffer */
            float *pz = (z == bufA) ? bufB : bufA;
            qsnn_pool2d_forward(pz, z, ns, &L->pc, d->pool_after == QSNN_POOL_MAX);
            z = pz;
            cnt = ns * L->out_sz;
        }
        if (trace && trace[l])
            memcpy(trace[l], z, cnt * sizeof *z);
        in = z;
        out = (z == bufA) ? bufB : bufA;
    }
    memcpy(logits, in, ns * (size_t)p->classes * sizeof *logits);
}
