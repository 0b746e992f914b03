/* SPDX-License-Identifier: Apache-2.0 */
/* model.c: a model's parameters as one allocation carved by a size table (llm.c style), their initialisation
 * (Keras defaults) and release.
 *
 * Layout of m->params, layer after layer, each layer in this order (absent parts take no space):
 *   w [n_w], dw [n_dw], bias [n_bias], gamma [n_bn], beta [n_bn], moving_mean [n_bn], moving_var [n_bn]
 * The model file stores the parameters in exactly this order, so a save is one write of m->params.
 * Invariants: m->num_params == qsnn_arch_param_count(&m->arch); every lp[l] pointer lies inside m->params (NULL
 * where the size is 0); qsnn_model_free on a zeroed or freed model is a no-op.
 */
#include "qsnn/model.h"

#include "model/arch_internal.h"
#include "model/model_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tutorial_labels[12] = {"_silence_", "_unknown_", "down", "go",    "left", "no",
                                                 "off",       "on",        "right", "stop", "up",   "yes"};

void qsnn_model_set_default_labels(qsnn_model *m)
{
    int n = m->arch.num_classes;
    if (n > QSNN_MAX_LABELS)
        n = QSNN_MAX_LABELS;
    m->num_labels = n;
    memset(m->labels, 0, sizeof m->labels);
    for (int i = 0; i < n; i++) {
        if (n == 12)
            snprintf(m->labels[i], QSNN_LABEL_MAX, "%s", tutorial_labels[i]);
        else
            snprintf(m->labels[i], QSNN_LABEL_MAX, "class_%d", i);
    }
}

qsnn_status qsnn_model_alloc(qsnn_model *m, const qsnn_arch *a)
{
    memset(m, 0, sizeof *m);
    m->arch = *a;
    qsnn_status st = qsnn_arch_validate(&m->arch);
    if (st)
        return st;
    size_t total = qsnn_arch_param_count(&m->arch, NULL);
    float *p = calloc(total ? total : 1, sizeof(float));
    if (!p)
        return qsnn_fail(QSNN_ERR_NOMEM, "model '%s': cannot allocate %zu parameters", m->arch.name, total);
    m->params = p;
    m->num_params = total;
    size_t off = 0;
    for (int i = 0; i < m->arch.num_layers; i++) {
        qsnn_layer_params *lp = &m->lp[i];
        qsnn_arch_layer_sizes(&m->arch.layers[i], &lp->n_w, &lp->n_dw, &lp->n_bias, &lp->n_bn);
        lp->w = lp->n_w ? p + off : NULL;
        off += lp->n_w;
        lp->dw = lp->n_dw ? p + off : NULL;
        off += lp->n_dw;
        lp->bias = lp->n_bias ? p + off : NULL;
        off += lp->n_bias;
        if (lp->n_bn) {
            lp->gamma = p + off;
            lp->beta = lp->gamma + lp->n_bn;
            lp->moving_mean = lp->beta + lp->n_bn;
            lp->moving_var = lp->moving_mean + lp->n_bn;
            off += 4 * lp->n_bn;
        }
    }
    /* the size table and the parameter count are the same computation */
    if (off != total) {
        qsnn_model_free(m);
        return qsnn_fail(QSNN_ERR_SHAPE, "model '%s': size table %zu != parameter count %zu", a->name, off, total);
    }
    m->bn_eps = 1e-3f;
    qsnn_model_set_default_labels(m);
    return QSNN_OK;
}

/* Keras' glorot_uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)). */
static void glorot_uniform(float *w, size_t n, double fan_in, double fan_out, qsnn_rng *rng)
{
    double limit = sqrt(6.0 / (fan_in + fan_out));
    for (size_t k = 0; k < n; k++)
        w[k] = (float)((2.0 * qsnn_rng_uniform(rng) - 1.0) * limit);
}

qsnn_status qsnn_model_init(qsnn_model *m, const qsnn_arch *a, uint64_t seed)
{
    if (!m || !a)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_model_init: NULL argument");
    qsnn_status st = qsnn_model_alloc(m, a);
    if (st)
        return st;
    qsnn_rng rng;
    qsnn_rng_seed(&rng, seed);
    for (int i = 0; i < m->arch.num_layers; i++) {
        const qsnn_layer_desc *l = &m->arch.layers[i];
        qsnn_layer_params *lp = &m->lp[i];
        double k = (double)l->kh * l->kw, cin = l->in.c, cout = l->filters;
        /* Keras computes fans from the kernel shape: conv (kh,kw,cin,cout): fan_in = k*cin, fan_out = k*cout;
         * depthwise (kh,kw,cin,1): fan_in = k*cin, fan_out = k; pointwise (1,1,cin,cout); dense (in,out). */
        switch (l->op) {
        case QSNN_OP_CONV2D: glorot_uniform(lp->w, lp->n_w, k * cin, k * cout, &rng); break;
        case QSNN_OP_DEPTHWISE: glorot_uniform(lp->dw, lp->n_dw, k * cin, k, &rng); break;
        case QSNN_OP_SEPARABLE:
            glorot_uniform(lp->dw, lp->n_dw, k * cin, k, &rng);
            glorot_uniform(lp->w, lp->n_w, cin, cout, &rng);
            break;
        case QSNN_OP_DENSE:
            glorot_uniform(lp->w, lp->n_w, (double)qsnn_shape_count(l->in), cout, &rng);
            break;
        }
        /* biases and BN beta / moving mean are already 0 (calloc) */
        for (size_t c = 0; c < lp->n_bn; c++) {
            lp->gamma[c] = 1.0f;
            lp->moving_var[c] = 1.0f;
        }
    }
    return QSNN_OK;
}

void qsnn_model_free(qsnn_model *m)
{
    if (!m)
        return;
    free(m->params);
    m->params = NULL;
    m->num_params = 0;
    memset(m->lp, 0, sizeof m->lp);
}
