/* SPDX-License-Identifier: Apache-2.0 */
/* snn_stats.c: Akida's per-layer statistics from the counters qsnn_snn_run accumulates
 * (docs/design.md s5.4; libc only). */
#include "snn/engine_internal.h"

uint64_t qsnn_snn_ops_per_event(const qsnn_snn_layer *l)
{
    uint64_t kk = (uint64_t)l->kh * (uint64_t)l->kw, f = (uint64_t)l->out_c;
    switch (l->type) {
    case QSNN_SNN_SEPARABLE: return kk + kk * f;
    case QSNN_SNN_FC: return f;
    default: return kk * f;
    }
}

void qsnn_snn_stats_layer(const qsnn_snn_model *m, const qsnn_snn_stats *st, int layer, qsnn_snn_layer_stats *out)
{
    const qsnn_snn_layer *l = &m->layers[layer];
    memset(out, 0, sizeof *out);
    out->has_input = layer > 0;
    if (!st->samples)
        return;
    double ns = (double)st->samples;
    double in_n = (double)count_of(l->in_h, l->in_w, l->in_c), out_n = (double)count_of(l->out_h, l->out_w, l->out_c);
    double in_events = (double)st->in_nnz[layer] / ns;
    out->in_sparsity = 1.0 - in_events / in_n;
    /* a layer with activations disabled delivers no spikes: Akida prints 0.00 */
    out->out_sparsity = l->act_bits ? 1.0 - (double)st->out_nnz[layer] / ns / out_n : 0.0;
    out->ops = layer > 0 ? (double)qsnn_snn_ops_per_event(l) * in_events : 0.0;
    out->time_us = (double)st->time_ns[layer] / ns / 1000.0;
}

void qsnn_snn_stats_merge(qsnn_snn_stats *dst, const qsnn_snn_stats *src, int num_layers)
{
    dst->samples += src->samples;
    for (int i = 0; i < num_layers; i++) {
        dst->in_nnz[i] += src->in_nnz[i];
        dst->out_nnz[i] += src->out_nnz[i];
        dst->time_ns[i] += src->time_ns[i];
    }
}
