/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/plan.h: the per-layer execution plan of a model (src/model/plan.c), shared by the model's inference
 * forwards (src/model/infer.c, infer_ref.c) and the trainer's graph (src/train/graph.c): geometry, per-sample
 * buffer sizes and parameter offsets of each layer. A library-internal API between two modules (the trainer sits
 * above the model), not needed by an embedder; it is public so that no module reads another's private header. */
#ifndef QSNN_PLAN_H
#define QSNN_PLAN_H

#include "qsnn/model.h"
#include "qsnn/nn.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QSNN_NO_OFF SIZE_MAX

typedef struct {
    const qsnn_layer_desc *d;
    qsnn_conv_cfg cc;  /* conv2d / depthwise / separable (depthwise part) geometry */
    int cin, cout;     /* op input / output channels (dense: cin = h*w*c of the input) */
    size_t in_sz;      /* per-sample input count */
    size_t t_sz;       /* separable intermediate per sample: oh*ow*cin */
    size_t hw;         /* op output positions (dense: 1) */
    size_t z_sz;       /* op output per sample: hw*cout */
    size_t out_sz;     /* after pooling (and pool_after) */
    size_t act_sz;     /* per-sample count BN and the activation see (out_sz without pool_after) */
    qsnn_conv_cfg pc;  /* pool_after geometry (cin = cout = channels); unused without pool_after */
    size_t bn_rows;    /* rows per sample seen by batch norm: 1 with pooling, else hw */
    size_t off_w, off_dw, off_bias, off_gamma, off_beta, off_mm, off_mv; /* into params, or QSNN_NO_OFF */
} qsnn_plan_layer;

typedef struct {
    int num_layers;
    qsnn_plan_layer L[QSNN_MAX_LAYERS];
    size_t in_sz;       /* model input per sample */
    size_t max_act;     /* max over layers of in_sz, z_sz (per sample) */
    size_t max_t;       /* max t_sz (per sample), at least 1 */
    int max_c;          /* max channel count (BN) */
    int classes;
} qsnn_plan;

/* Build the plan of a model (checks that lp[] matches the geometry). */
qsnn_status qsnn_plan_build(qsnn_plan *p, const qsnn_model *m);

/* Quantize the weight tensors of m into wq (same layout as params; only w/dw parts are written) when
 * quant_weights; deltas[2*l] (w) and [2*l+1] (dw) receive the scales (0 when not quantized). Returns the
 * pointer the forward should read the w/dw parts from (wq or m->params). */
const float *qsnn_plan_weights(const qsnn_plan *p, const qsnn_model *m, float *wq, float *deltas);

/* Inference forward of ns samples (float input already scaled) on one thread, BN in inference mode.
 * bufA, bufB: [ns * max_act], bufT: [ns * max_t]. Writes logits[ns * classes]; trace (may be NULL): per-layer
 * outputs for ns == 1. */
void qsnn_plan_infer(const qsnn_plan *p, const qsnn_model *m, const float *W, const float *x, size_t ns,
                     float *bufA, float *bufB, float *bufT, float *logits, float *const *trace);

/* Double-precision evaluation forward (infer_ref.c, QSNN_PREC_F64). qsnn_plan_weights_f64 fills the w/dw parts
 * of Wd[num_params] with the weights the forward uses (quantized: k / delta in double, k the exact integer code).
 * qsnn_plan_infer_f64 runs one uint8 sample (seen as x / 255); bufA, bufB: [max_act], bufT: [max_t],
 * sig: [max_c]; writes logits[classes]; trace (may be NULL): per-layer outputs, rounded to float. */
qsnn_status qsnn_plan_weights_f64(const qsnn_plan *p, const qsnn_model *m, double *Wd);
void qsnn_plan_infer_f64(const qsnn_plan *p, const qsnn_model *m, const double *Wd, const uint8_t *x,
                         double *bufA, double *bufB, double *bufT, double *sig, double *logits,
                         float *const *trace);

#ifdef __cplusplus
}
#endif

#endif
