/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/train.h: quantization-aware training of a qsnn_model (docs/design.md s3.3-3.7): the training graph
 * (forward, backward, Adam), learning-rate schedules, and the trainer loop with checkpoints, logs and plots.
 *
 * Graph: each layer runs op -> [bias] -> [global average pooling] -> [batch norm] -> [activation], with
 * batch-norm training statistics, ReLU6 (model->quant_acts == 0) or the quantized ReLU (act_bits), and weights
 * quantized on the fly from the float master weights when model->quant_weights (straight-through gradient).
 * Memory: parameters, gradients and Adam moments are one allocation each with the model's parameter layout;
 * activations live in one arena sized at creation for (batch, input shape): a step allocates nothing.
 * Threads: the batch is split into one contiguous slice per thread (OpenMP); batch-norm statistics and weight
 * gradients are reduced across slices in a fixed order, so a run is deterministic for a given thread count and
 * bit-reproducible with one thread.
 */
#ifndef QSNN_TRAIN_H
#define QSNN_TRAIN_H

#include "qsnn/data.h"
#include "qsnn/model.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qsnn_trainer qsnn_trainer;

typedef struct {
    float beta1, beta2, eps; /* Keras defaults 0.9, 0.999, 1e-7 */
} qsnn_adam_cfg;

/* Build the graph of m (not owned; must outlive the trainer) for batches of up to `batch` samples on `threads`
 * threads (0 = OpenMP's default). */
qsnn_status qsnn_trainer_create(qsnn_trainer **out, qsnn_model *m, int batch, int threads);
void qsnn_trainer_free(qsnn_trainer *t);
int qsnn_trainer_threads(const qsnn_trainer *t);
/* Bytes held by the trainer (arena, gradients, Adam state, per-thread buffers). */
size_t qsnn_trainer_mem_bytes(const qsnn_trainer *t);

/* Forward in training mode (batch statistics; moving averages updated) and backward on n <= batch samples
 * x[n * h * w * c] uint8 (the model sees x / 255) with labels[n]. Gradients of the mean cross-entropy are
 * written (not accumulated) to qsnn_trainer_grads(). *loss = mean loss, *correct = argmax hits (both optional). */
qsnn_status qsnn_trainer_forward_backward(qsnn_trainer *t, const uint8_t *x, const int32_t *labels, size_t n,
                                          double *loss, int *correct);
/* Distillation: the same with soft[n * classes] the teacher's probabilities at temperature T (rows summing to 1);
 * the loss is (1 - a) * CE(labels, softmax(z)) + a * T^2 * KL(soft || softmax(z / T)) (Hinton et al.), a in
 * [0, 1]; soft == NULL is qsnn_trainer_forward_backward. */
qsnn_status qsnn_trainer_forward_backward_kd(qsnn_trainer *t, const uint8_t *x, const int32_t *labels,
                                             const float *soft, float kd_weight, float kd_temperature, size_t n,
                                             double *loss, int *correct);
/* Forward in training mode only (batch statistics, no gradients) with the moving averages updated as
 * moving = momentum * moving + (1 - momentum) * batch: with momentum k / (k + 1) on the k-th call (k = 0, 1, ...)
 * the moving statistics become the mean of the batches' statistics (batch-norm re-estimation). */
qsnn_status qsnn_trainer_bn_stats(qsnn_trainer *t, const uint8_t *x, size_t n, float momentum);
/* Same, on float inputs (already scaled; used by gradient tests). */
qsnn_status qsnn_trainer_forward_backward_f32(qsnn_trainer *t, const float *x, const int32_t *labels, size_t n,
                                              double *loss, int *correct);
/* Gradients [num_params], same layout as m->params (zero for the BN moving statistics). */
float *qsnn_trainer_grads(qsnn_trainer *t);
/* Adam moments [num_params] each, and the step count (for checkpoints). */
float *qsnn_trainer_adam_m(qsnn_trainer *t);
float *qsnn_trainer_adam_v(qsnn_trainer *t);
int64_t *qsnn_trainer_adam_t(qsnn_trainer *t);
void qsnn_trainer_adam_reset(qsnn_trainer *t);
/* One Adam update (Keras form: lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)) of the trainable parameters. */
void qsnn_trainer_adam_step(qsnn_trainer *t, float lr, const qsnn_adam_cfg *cfg);

/* ---- learning-rate schedules ---- */
typedef enum { QSNN_SCHED_CYCLIC = 0, QSNN_SCHED_COSINE = 1, QSNN_SCHED_CONSTANT = 2 } qsnn_sched_kind;
typedef struct {
    qsnn_sched_kind kind;
    double lr_max;    /* cyclic max (kws_train: 2e-3) / cosine start (default 1e-3) / constant */
    double lr_min;    /* cyclic base (kws_train: 5e-6) / cosine end (default 1e-5) */
    double step_size; /* cyclic half-period in steps (kws_train: 4 * N_train / batch) */
    double total;     /* cosine: steps of the episode */
} qsnn_sched;
/* Learning rate at step `it` (0-based, within an episode). Cyclic = Keras CyclicLR 'triangular'. */
double qsnn_sched_lr(const qsnn_sched *s, double it);

/* ---- training loop ---- */
typedef struct {
    int episodes[3];   /* which episodes to run, in order (1 float, 2 quantized ReLU, 3 + quantized weights) */
    int num_episodes;
    int epochs[3];     /* epochs of each listed episode */
    int batch;         /* 100 */
    int threads;       /* 0 = default */
    uint64_t seed;
    qsnn_sched_kind sched;
    double lr_max, lr_min; /* defaults (qsnn_train_default_opts): cosine from 1e-3 to 1e-5 */
    const char *out_path;   /* final model; per-episode best models go to <out>.ep<N> */
    const char *ckpt_dir;   /* NULL: no checkpoints */
    int resume;             /* continue from ckpt_dir */
    const char *log_path;   /* JSON log (NULL: none) */
    const char *plot_path;  /* PNG of the curves (NULL: none) */
    int stop_after_epochs;  /* > 0: stop (as if killed) after this many epochs of this run (tests) */
    int bn_batches;         /* > 0: before every validation (and so in every kept model) the BN moving statistics
                             * are re-estimated as the mean of the batch statistics of this many training batches
                             * of the epoch, weights frozen (qsnn_trainer_bn_stats); 0: moving averages only */
    int aug_sets;           /* > 0: with data->augment, a cycle of this many augmented training sets (and their soft
                             * targets), each computed once when first used (epoch e uses set e % aug_sets, seeded
                             * by the set's index): the augmentation and the teacher cost once per set instead of
                             * once per epoch; 0: a fresh set every epoch (seed f(seed, episode, epoch)) */
    float kd_weight;        /* distillation weight a (with data->soft_targets): (1 - a) CE + a T^2 KL */
    float kd_temperature;   /* T */
    int quiet;              /* no progress lines */
} qsnn_train_opts;

void qsnn_train_default_opts(qsnn_train_opts *o);

/* Training data: n_train uint8 samples with labels. With on-the-fly augmentation (augment != NULL) the trainer
 * calls augment(ctx, seed, out) at the start of every epoch to produce the epoch's training samples out[n_train *
 * sample] (same order and labels as train_labels; train_u8 may then be NULL), with seed = f(seed, episode, epoch);
 * the command implements it with qsnn_dataset_features(..., augment = 1, seed) and the model's uint8 scaling.
 * Validation: fixed uint8 samples (n_val may be 0: then each episode keeps its last epoch). */
typedef struct {
    const uint8_t *train_u8;  /* [n_train * sample] */
    const int32_t *train_labels;
    size_t n_train;
    qsnn_status (*augment)(void *ctx, uint64_t seed, uint8_t *out);
    void *augment_ctx;
    /* Distillation (may be NULL): right after augment (same ctx and seed), the teacher's probabilities at
     * temperature opts.kd_temperature on each of the epoch's training samples, out[n_train * classes]. */
    qsnn_status (*soft_targets)(void *ctx, uint64_t seed, float *out);
    const uint8_t *val_u8;
    const int32_t *val_labels;
    size_t n_val;
} qsnn_train_data;

typedef struct {
    int episode;
    int epoch;          /* 1-based within the episode */
    double loss, train_acc, val_acc, lr, samples_per_s, seconds;
} qsnn_epoch_record;

typedef struct {
    double best_val_acc[3];         /* per run episode */
    double samples_per_s[3];        /* mean training throughput per run episode */
    size_t num_records;
    qsnn_epoch_record records[1024];
    int stopped_early;              /* stop_after_epochs reached */
} qsnn_train_result;

/* Run the episodes on m (initialised or loaded by the caller, with labels and scaling set). On return m holds the
 * final model (the best-validation model of the last episode) and it is saved to out_path if set. */
qsnn_status qsnn_train_run(qsnn_model *m, const qsnn_train_data *data, const qsnn_train_opts *o,
                           qsnn_train_result *res);

#ifdef __cplusplus
}
#endif
#endif
