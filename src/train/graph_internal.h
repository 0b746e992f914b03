/* SPDX-License-Identifier: Apache-2.0 */
/* graph_internal.h (private to src/train): the trainer object shared by its files: graph.c (the threaded training
 * step: forward, backward), trainer_mem.c (creation: the arena and every buffer, sized once) and optimizer.c
 * (Adam). The layout of its memory and the threading of a step are described at the top of graph.c. */
#ifndef QSNN_TRAIN_GRAPH_INTERNAL_H
#define QSNN_TRAIN_GRAPH_INTERNAL_H

#include "qsnn/plan.h"
#include "qsnn/train.h"

#include <stdatomic.h>

typedef struct {
    float *z;      /* [B, oh, ow, cout] op output (+ bias) */
    float *p;      /* [B, cout] pooled (NULL without pooling) */
    float *xbn;    /* BN input: p or z */
    float *y;      /* pre-activation: xbn without BN */
    float *a;      /* layer output (== y without activation). With BN, y and a are not stored (NULL; except for the
                    * last layer, whose output is the logits): they are recomputed from xbn, chunk by chunk, where
                    * needed. The separable intermediate is never stored either (recomputed from the input). */
    float *mean, *invstd; /* [threads][cout] batch statistics of this step (each thread computes its own copy) */
    float *tp;     /* pool_first layers: [B, cin] the pooled depthwise output (the pointwise input) */
    float *ws;     /* pool_first layers: [B, kh * kw, cin] the depthwise window sums (dw_window_sums) */
} layer_bufs;

struct qsnn_trainer {
    qsnn_model *m;
    qsnn_plan plan;
    int batch, threads;
    qsnn_arena arena;
    void *arena_mem;   /* the arena's memory (2 MB aligned) */
    layer_bufs lb[QSNN_MAX_LAYERS];
    float *x;          /* [B, in] scaled input */
    float *probs;      /* [B, classes] */
    float *ga;         /* [B, max_act] gradients crossing a BN barrier in the backward (per-thread slabs) */
    float *scr;        /* [threads][chunk * (3 * max_act + 2 * tsz)] per-thread chunk scratch */
    size_t tsz;        /* per-sample size of the XT / T scratch: max_t, or more for pool_first's window sums */
    float *wpix;       /* [threads][wpix_n] per pool_first layer, its depthwise weights summed per input position */
    size_t wpix_n, wpix_off[QSNN_MAX_LAYERS];
    int chunk;         /* samples per chunk of a segment */
    size_t np;
    float *grad;       /* [np] */
    float *tgrad;      /* [threads - 1][np] per-thread accumulators of threads 1.. (thread 0 uses grad) */
    float *adam_m, *adam_v;
    int64_t adam_t;
    float *wq;         /* [np] quantized weights (w/dw parts) */
    float deltas[2 * QSNN_MAX_LAYERS];
    double *part;      /* [2][threads][2 * max_c] BN partial sums, double-buffered (alternate BN events) */
    int ktail;         /* tail chunks per thread slice that any thread may run (0: none) */
    double *tpart;     /* [2][threads * ktail][2 * max_c] BN partial sums of the tail chunks */
    float *tslot;      /* [2][threads * ktail][np] weight-gradient partials of the tail chunks */
    atomic_int ctr[2 * QSNN_MAX_LAYERS + 8]; /* next tail chunk of each shared loop of a step */
    double *comb;      /* [threads][2 * max_c] combined sums, each thread its own copy */
    double loss_part[256];
    int correct_part[256];
    const int32_t *labels;
    size_t n;
    float bn_momentum; /* of the moving averages in this call (0.99 in training steps) */
    int fwd_only;      /* forward (BN statistics) only: no loss, no backward */
    const float *soft; /* NULL, or teacher probabilities at temperature kd_t [n, classes] for this step */
    float kd_a, kd_t;  /* distillation weight and temperature */
    /* the team barrier of a step (sense-reversing): spins briefly, then yields the CPU, so that a thread whose
     * partner lost its core (a loaded machine) does not burn the time the partner needs; OpenMP's own barriers
     * spin much longer under the default wait policy (measured 2x slower steps at load 8 on 2 cores) */
    atomic_int bar_count;
    atomic_int bar_sense;
    int sense0;
};

/* samples per chunk of a segment: 4 keeps a chunk's activations (4 x 32 KB per tensor for mobilenet_kws) and its
 * scratch in L2; measured 2, 4, 5, 6 within noise of each other, 4 slightly ahead */
#define QSNN_TRAIN_CHUNK 4
/* chunks at the end of each thread's slice, in the segments that end at a BN barrier, that whichever thread is
 * free first runs (their sums go to per-chunk slots added in a fixed order: results stay deterministic) */
#define QSNN_TRAIN_TAIL 2

static inline int has_bn(const qsnn_plan *p, int l) { return p->L[l].off_gamma != QSNN_NO_OFF; }
/* a separable layer followed by global average pooling: the pointwise product and the pooling are both linear,
 * so the pooled output is computed as pool(depthwise) x W (one row per sample instead of hw rows: for
 * mobilenet_kws' separable_5 a 125x smaller product in the forward and in both products of the backward), and
 * the op output z is never stored */
static inline int pool_first(const qsnn_plan_layer *L)
{
    return L->d->op == QSNN_OP_SEPARABLE && L->d->pool == QSNN_POOL_GLOBAL_AVG;
}

/* pool_first layers (pool_first.c), per sample x [h, w, cin] of the layer's input (cc its geometry):
 * S [kh * kw * cin] = the inputs under each depthwise tap summed over all output positions (rs: [kw * cin] scratch);
 * out [cin] = sum over taps k (in order) of w[k] S[k]; wp [h, w, cin] = per input position, the sum of the taps
 * that see it. */
void qsnn_train_window_sums(float *S, float *rs, const float *x, const qsnn_conv_cfg *cc);
void qsnn_train_window_dot(float *out, const float *S, const float *w, const qsnn_conv_cfg *cc);
void qsnn_train_weight_plane(float *wp, const float *w, const qsnn_conv_cfg *cc);

static inline int stores_post(const qsnn_plan *p, int l) { return p->L[l].d->batch_norm && l == p->num_layers - 1; }

#endif
