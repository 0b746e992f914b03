/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/infer.h: batched float inference of a model on its own features, and those features from a clip's
 * samples: what evaluation of imported models and a distilling trainer (a teacher's forward passes) use.
 *
 * The network input of a model is arch.input (h x w x c floats per sample), holding, per
 * arch.features.input (qsnn/frontend.h):
 *   QSNN_INPUT_FLOAT  the front end's features as they are (imported TFLite models);
 *   QSNN_INPUT_U8     the features scaled to uint8 with the model's (scale_min, scale_max), divided by 255
 *                     (models qsnn trains; qsnn_model_predict takes the uint8 values themselves).
 * qsnn_model_input_from_pcm computes that input from samples; qsnn_infer runs the float32 forward of the
 * training graph's kernels (GEMM convolutions, src/nn) over batches on several threads.
 *
 * Typical use (a teacher labelling the clips of a training batch):
 *   qsnn_frontend *fe;  qsnn_frontend_create(&fe, &teacher.arch.features);     // one per thread
 *   for each clip i:  qsnn_model_input_from_pcm(&teacher, fe, x + i * in_sz, pcm_i, 16000);
 *   qsnn_infer *inf;  qsnn_infer_create(&inf, &teacher, 2);                       // once
 *   qsnn_infer_run(inf, x, n, logits);  qsnn_softmax_rows(p, logits, n, classes, 2.0f);
 * or, for dataset entries, qsnn_dataset_features_fe (qsnn/data.h) with &teacher.arch.features, then
 * qsnn_model_input_from_features.
 */
#ifndef QSNN_INFER_H
#define QSNN_INFER_H

#include "qsnn/frontend.h"
#include "qsnn/model.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Per-sample network input count: h * w * c of arch.input. */
size_t qsnn_model_input_size(const qsnn_model *m);

/* x[n * in_sz] = the network input for features feat[n * in_sz] (frame-major front-end output): a copy for
 * QSNN_INPUT_FLOAT, the tutorial's uint8 scaling / 255 for QSNN_INPUT_U8. x may alias feat. */
void qsnn_model_input_from_features(const qsnn_model *m, float *x, const float *feat, size_t n);

/* The network input of one clip: samples[n] (float in [-1, 1), 16 kHz; cropped or zero-padded to one clip)
 * through fe, which must have been created from m->arch.features (QSNN_ERR_ARG otherwise), into x[in_sz].
 * Allocation-free; fe is not thread-safe (one per thread). */
qsnn_status qsnn_model_input_from_pcm(const qsnn_model *m, qsnn_frontend *fe, float *x, const float *samples,
                                      size_t n);

/* A model prepared for repeated batched float32 inference (weights quantized once when quant_weights, the plan,
 * per-thread workspaces). The model must outlive it and not change. threads <= 0: all cores (OpenMP). */
typedef struct qsnn_infer qsnn_infer;
qsnn_status qsnn_infer_create(qsnn_infer **out, const qsnn_model *m, int threads);
void qsnn_infer_destroy(qsnn_infer *inf);
/* logits[n * classes] of network inputs x[n * in_sz]; chunks of 16 samples (from the first) over the threads.
 * Results do not depend on the thread count; a sample's logits can differ in the last float bits with its place
 * in a chunk (the GEMM kernels block rows), i.e. with n. Call from one thread at a time (it runs its own
 * parallel region). */
qsnn_status qsnn_infer_run(qsnn_infer *inf, const float *x, size_t n, float *logits);

/* One-shot: logits (may be NULL) and pred (argmax, may be NULL) of float network inputs x[n * in_sz]. */
qsnn_status qsnn_model_predict_float(const qsnn_model *m, const float *x, size_t n, float *logits, int32_t *pred);

/* probs[n * k] = softmax(logits / temperature) per row (temperature > 0; 1 = the model's probabilities),
 * computed stably (max subtracted). probs may alias logits. */
void qsnn_softmax_rows(float *probs, const float *logits, size_t n, int k, float temperature);

#ifdef __cplusplus
}
#endif
#endif
