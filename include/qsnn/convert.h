/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/convert.h: conversion of a quantized model (qsnn/model.h) into an integer .snn model (qsnn/snn.h),
 * the Akida NSoC v1 hardware rules and the conversion check (the .snn file itself: qsnn/snn.h).
 *
 * Conversion (docs/design.md s4.1-4.7, cnn2snn.convert(model, input_scaling=(255, 0))):
 *   - integer weights w_int = clip(round_half_even(w * delta), -kmax, kmax), the exact integers the quantized
 *     float model uses (wq = w_int / delta): 8-bit in the input convolution, as trained elsewhere;
 *   - per neuron the float model's test "BN(x) > t0 + (n-1) gamma_act" becomes "p > T + (n-1) S" on the integer
 *     potential p = alpha * delta * A * x (alpha = 255 for the uint8 input, 1/gamma_act = 2.5 after a 4-bit
 *     activation; delta = delta_dw * delta_pw for separable; A = pooled area for global pooling, 125 here);
 *   - negative batch-norm gamma: the inequality flips; the neuron's (pointwise) weights, T and S are negated;
 *     gamma = 0 (or an all-zero kernel) gives a constant level, encoded exactly with zero weights;
 *   - T and S are stored as int32 in units of 2^-f, f per layer as large as the format allows (<= 24):
 *     docs/snn.md shows this reproduces the float model's levels except at float-rounding ties;
 *   - the last layer (no activation, no batch norm, no bias) outputs int32 potentials = alpha*delta*logits;
 *     the image's metadata block (qsnn/snn_meta.h) records logit_scale = 1 / (alpha*delta*A) for the scores.
 * Refused, with the layer named: depthwise-only layers, unquantized weights or activations, bit-widths
 * outside 1..8 (weights) / 1..4 (activations), batch norm or bias on the last layer, an activated last layer,
 * thresholds or potentials that do not fit int32 ("threshold overflow"). */
#ifndef QSNN_CONVERT_H
#define QSNN_CONVERT_H

#include "qsnn/core.h"
#include "qsnn/model.h"
#include "qsnn/snn.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- image builder (used by the converter; tests build hand-made models with it) ---- */

typedef struct {
    qsnn_snn_layer rec;          /* name, type, shapes, bits, pool, frac_bits; offsets/counts are filled in */
    const int8_t *w, *dw;        /* integer weights, n_w / n_dw values (layouts in qsnn/snn.h) */
    const int32_t *th_t, *th_s;  /* out_c values each when rec.act_bits > 0 */
} qsnn_convert_layer;

typedef struct {
    int in_h, in_w, in_c, num_classes;
    float scale_min, scale_max, input_scale;
    const char *labels[QSNN_SNN_MAX_CLASSES]; /* NULL entries become "class<i>" */
    int num_layers;
    qsnn_convert_layer layers[QSNN_SNN_MAX_LAYERS];
    float logit_scale; /* > 0: a metadata block (qsnn/snn_meta.h) records it; 0: no block (the older layout) */
} qsnn_convert_build;

/* Fill the shape fields of a record (conv/out sizes and 'same' padding as TensorFlow). FC: kh = kw = 1. */
void qsnn_convert_layer_shape(qsnn_snn_layer *rec, int type, int in_h, int in_w, int in_c, int filters, int kh,
                              int kw, int stride_h, int stride_w, int padding_same, int pool);
/* Serialise into a malloc'ed image (free() it) and validate it with qsnn_snn_model_init. */
qsnn_status qsnn_convert_build_image(const qsnn_convert_build *b, unsigned char **image, size_t *size);

/* ---- conversion ---- */

/* Per-layer folding results, in double (for checks and reports). Arrays have out_c entries. */
typedef struct {
    double scale;        /* potential units per unit of the float pre-activation (after pooling) */
    double *t, *s;       /* threshold and step in potential units (after any negation) */
    int8_t *neg;         /* 1 where gamma < 0 flipped the neuron */
    int8_t *constant;    /* 1 where the neuron's level is constant (gamma = 0 or zero kernel) */
} qsnn_convert_fold;

typedef struct {
    int num_layers;
    qsnn_convert_fold layer[QSNN_SNN_MAX_LAYERS];
    int negated, constant; /* neuron counts */
} qsnn_convert_info;

/* Convert; *image is malloc'ed (free() it). info (may be NULL) receives the folding (free with
 * qsnn_convert_info_free). */
qsnn_status qsnn_convert_model(const qsnn_model *m, unsigned char **image, size_t *size, qsnn_convert_info *info);
void qsnn_convert_info_free(qsnn_convert_info *info);

/* ---- hardware rules (Akida NSoC v1, docs/design.md s4.9) ---- */

/* Number of rules layer `layer` breaks (0 = "yes"); reasons, "; "-separated, go to buf (may be NULL). */
int qsnn_convert_hw_check(const qsnn_snn_model *m, int layer, char *buf, size_t cap);

/* ---- conversion check (the float model against the integer engine) ---- */

typedef struct {
    size_t samples;
    size_t pred_agree;                       /* full runs: same class */
    size_t neurons[QSNN_SNN_MAX_LAYERS];     /* levels compared (teacher-forced: same input for both) */
    size_t mismatch[QSNN_SNN_MAX_LAYERS];    /* engine level != float model level */
    size_t ties[QSNN_SNN_MAX_LAYERS];        /* ... of which the float model sits at a float-rounding tie */
    size_t exact_mismatch[QSNN_SNN_MAX_LAYERS]; /* engine != exact (double) level of its own potential: 0 */
    double max_tie_dist[QSNN_SNN_MAX_LAYERS];   /* largest BN-unit distance to the boundary among the ties */
    size_t last_argmax_agree;                /* teacher-forced last layer: argmax(potentials) == argmax(logits) */
    size_t last_argmax_ties;                 /* ... the others where the two winners' potentials tie */
    double tie_tol;                          /* relative tolerance defining a tie */
} qsnn_convert_check_result;

/* Run n samples x[n][in] through both models. Per layer, the engine gets the float model's input levels
 * (teacher forcing) so each mismatch belongs to that layer; a mismatch is a tie when the exact BN value of
 * the engine's potential is within tie_tol * max(1, |boundary|) of a level boundary. */
qsnn_status qsnn_convert_check(const qsnn_model *fm, const qsnn_snn_model *sm, const uint8_t *x, size_t n,
                               qsnn_convert_check_result *res);
void qsnn_convert_check_print(FILE *out, const qsnn_snn_model *sm, const qsnn_convert_check_result *res);

#ifdef __cplusplus
}
#endif
#endif
