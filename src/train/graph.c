/* graph.c: the training graph of a qsnn_model: forward in training mode, backward, Adam.
 *
 * Threading: one OpenMP parallel region per step; thread t owns samples [n*t/T, n*(t+1)/T) of every activation
 * buffer and runs the single-threaded kernels of qsnn/nn.h on its slice. Batch norm needs whole-batch sums:
 * each thread accumulates partial sums (double) for its slice, then one thread adds the partials in thread order
 * (deterministic) and finishes; weight gradients go to per-thread accumulators added in thread order after the
 * region. With T = 1 everything is sequential and bit-reproducible. Buffers shared by layers of different
 * per-sample sizes (the gradient ping-pong buffers) are split into per-thread slabs of the largest size.
 * Memory: created once per (batch, model): activations in one arena, gradients / Adam moments / per-thread
 * gradients / quantized weights as single allocations with the parameter layout. A step allocates nothing.
 * Quantized weights: the float master weights are quantized once per step (qsnn_plan_weights); the backward
 * produces gradients with respect to the quantized weights and the straight-through mask maps them back. */
#include "qsnn/train.h"

#include "graph_priv.h"

#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

typedef struct {
    float *t;      /* [B, oh, ow, cin] separable intermediate (NULL otherwise) */
    float *z;      /* [B, oh, ow, cout] op output (+ bias) */
    float *p;      /* [B, cout] pooled (NULL without pooling) */
    float *xbn;    /* BN input: p or z */
    float *y;      /* pre-activation: xbn without BN; with BN it is stored only when there is no activation (then
                    * y == a), otherwise recomputed from xbn by the fused kernels */
    float *a;      /* layer output (== y without activation) */
    float *mean, *invstd; /* [cout] batch statistics of this step */
} layer_bufs;

struct qsnn_trainer {
    qsnn_model *m;
    qsnn_plan plan;
    int batch, threads;
    qsnn_arena arena;
    layer_bufs lb[QSNN_MAX_LAYERS];
    float *x;          /* [B, in] scaled input */
    float *probs;      /* [B, classes] */
    float *ga, *gb;    /* [B, max_act] gradient ping-pong */
    float *gt;         /* [B, max_t] separable intermediate gradient */
    size_t np;
    float *grad;       /* [np] */
    float *tgrad;      /* [threads - 1][np] per-thread accumulators of threads 1.. (thread 0 uses grad) */
    float *adam_m, *adam_v;
    int64_t adam_t;
    float *wq;         /* [np] quantized weights (w/dw parts) */
    float deltas[2 * QSNN_MAX_LAYERS];
    double *part;      /* [threads][2 * max_c] BN partial sums */
    double *comb;      /* [2 * max_c] */
    double loss_part[256];
    int correct_part[256];
    const int32_t *labels;
    size_t n;
    /* the team barrier of a step (sense-reversing): spins briefly, then yields the CPU, so that a thread whose
     * partner lost its core (a loaded machine) does not burn the time the partner needs; OpenMP's own barriers
     * spin much longer under the default wait policy (measured 2x slower steps at load 8 on 2 cores) */
    atomic_int bar_count;
    atomic_int bar_sense;
    int sense0;
};

static void team_barrier(qsnn_trainer *t, int *sense)
{
    *sense = !*sense;
    if (atomic_fetch_add(&t->bar_count, 1) == t->threads - 1) {
        atomic_store(&t->bar_count, 0);
        atomic_store(&t->bar_sense, *sense);
        return;
    }
    for (int spins = 0; atomic_load(&t->bar_sense) != *sense; spins++) {
        if (spins < 2000)
            CPU_RELAX();
        else
            sched_yield();
    }
}

int qsnn_trainer_threads(const qsnn_trainer *t) { return t->threads; }
float *qsnn_trainer_grads(qsnn_trainer *t) { return t->grad; }
float *qsnn_trainer_adam_m(qsnn_trainer *t) { return t->adam_m; }
float *qsnn_trainer_adam_v(qsnn_trainer *t) { return t->adam_v; }
int64_t *qsnn_trainer_adam_t(qsnn_trainer *t) { return &t->adam_t; }

size_t qsnn_trainer_mem_bytes(const qsnn_trainer *t)
{
    return t->arena.size + t->np * sizeof(float) * (4 + (size_t)(t->threads - 1)) +
           (size_t)t->threads * 2 * (size_t)t->plan.max_c * sizeof(double);
}

void qsnn_trainer_free(qsnn_trainer *t)
{
    if (!t)
        return;
    qsnn_arena_free(&t->arena);
    free(t->grad);
    free(t->tgrad);
    free(t->adam_m);
    free(t->adam_v);
    free(t->wq);
    free(t->part);
    free(t->comb);
    free(t);
}

static float *carve(qsnn_arena *a, size_t n, int *ok)
{
    float *p = qsnn_arena_alloc(a, (n ? n : 1) * sizeof(float), 64);
    if (!p)
        *ok = 0;
    return p;
}

qsnn_status qsnn_trainer_create(qsnn_trainer **out, qsnn_model *m, int batch, int threads)
{
    *out = NULL;
    if (batch <= 0 || batch > 1 << 20)
        return qsnn_fail(QSNN_ERR_ARG, "trainer: batch %d out of range", batch);
    if (threads <= 0)
        threads = omp_get_max_threads();
    if (threads > 256)
        threads = 256;
    if (threads > batch)
        threads = batch;
    qsnn_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return qsnn_fail(QSNN_ERR_NOMEM, "trainer: out of memory");
    t->m = m;
    t->batch = batch;
    t->threads = threads;
    qsnn_status st = qsnn_plan_build(&t->plan, m);
    if (st != QSNN_OK) {
        free(t);
        return st;
    }
    const qsnn_plan *p = &t->plan;
    const size_t B = (size_t)batch;
    /* arena size: one pass to count (64-byte rounding per buffer) */
    size_t floats = B * p->in_sz + B * (size_t)p->classes + 2 * B * p->max_act + B * p->max_t;
    size_t nbuf = 5;
    for (int l = 0; l < p->num_layers; l++) {
        const qsnn_plan_layer *L = &p->L[l];
        floats += B * (L->t_sz + L->z_sz) + 2 * (size_t)L->cout;
        nbuf += 4;
        if (L->d->pool == QSNN_POOL_GLOBAL_AVG)
            floats += B * L->out_sz, nbuf++;
        if (L->d->batch_norm && !L->d->activation)
            floats += B * L->out_sz, nbuf++;
        if (L->d->activation)
            floats += B * L->out_sz, nbuf++;
    }
    st = qsnn_arena_init(&t->arena, floats * sizeof(float) + nbuf * 64 + 64);
    if (st != QSNN_OK) {
        free(t);
        return st;
    }
    int ok = 1;
    t->x = carve(&t->arena, B * p->in_sz, &ok);
    t->probs = carve(&t->arena, B * (size_t)p->classes, &ok);
    t->ga = carve(&t->arena, B * p->max_act, &ok);
    t->gb = carve(&t->arena, B * p->max_act, &ok);
    t->gt = carve(&t->arena, B * p->max_t, &ok);
    for (int l = 0; l < p->num_layers; l++) {
        const qsnn_plan_layer *L = &p->L[l];
        layer_bufs *b = &t->lb[l];
        b->t = L->t_sz ? carve(&t->arena, B * L->t_sz, &ok) : NULL;
        b->z = carve(&t->arena, B * L->z_sz, &ok);
        b->p = L->d->pool == QSNN_POOL_GLOBAL_AVG ? carve(&t->arena, B * L->out_sz, &ok) : NULL;
        b->xbn = b->p ? b->p : b->z;
        b->y = (L->d->batch_norm && !L->d->activation) ? carve(&t->arena, B * L->out_sz, &ok) : b->xbn;
        b->a = L->d->activation ? carve(&t->arena, B * L->out_sz, &ok) : b->y;
        b->mean = carve(&t->arena, (size_t)L->cout, &ok);
        b->invstd = carve(&t->arena, (size_t)L->cout, &ok);
    }
    t->np = m->num_params;
    t->grad = calloc(t->np, sizeof(float));
    t->tgrad = threads > 1 ? calloc((size_t)(threads - 1) * t->np, sizeof(float)) : NULL;
    t->adam_m = calloc(t->np, sizeof(float));
    t->adam_v = calloc(t->np, sizeof(float));
    t->wq = calloc(t->np, sizeof(float));
    t->part = calloc((size_t)threads * 2 * (size_t)p->max_c, sizeof(double));
    t->comb = calloc(2 * (size_t)p->max_c, sizeof(double));
    if (!ok || !t->grad || (threads > 1 && !t->tgrad) || !t->adam_m || !t->adam_v || !t->wq || !t->part ||
        !t->comb) {
        qsnn_trainer_free(t);
        return qsnn_fail(QSNN_ERR_NOMEM, "trainer: out of memory (batch %d)", batch);
    }
    qsnn_nn_blas_single_thread();
    *out = t;
    return QSNN_OK;
}

/* ---- one step ---- */

static void bn_combine(qsnn_trainer *t, int c)
{
    double *s = t->comb;
    memset(s, 0, 2 * (size_t)c * sizeof *s);
    size_t stride = 2 * (size_t)t->plan.max_c;
    for (int k = 0; k < t->threads; k++)
        for (int j = 0; j < 2 * c; j++)
            s[j] += t->part[(size_t)k * stride + (size_t)j];
}

static qsnn_act layer_act(const qsnn_model *m, const qsnn_layer_desc *d)
{
    qsnn_act a;
    a.kind = m->quant_acts ? QSNN_ACT_QRELU : QSNN_ACT_RELU6;
    a.q = qsnn_qrelu_params(d->act_bits);
    return a;
}

static void step_region(qsnn_trainer *t, const float *W, int tid)
{
    const qsnn_plan *p = &t->plan;
    qsnn_model *m = t->m;
    const size_t n = t->n;
    const size_t n0 = n * (size_t)tid / (size_t)t->threads, n1 = n * (size_t)(tid + 1) / (size_t)t->threads;
    const size_t ns = n1 - n0;
    float *G = tid == 0 ? t->grad : t->tgrad + (size_t)(tid - 1) * t->np;
    int sense = t->sense0;
    double *part = t->part + (size_t)tid * 2 * (size_t)p->max_c;
    const qsnn_bn_cfg bncfg = {m->bn_eps > 0.0f ? m->bn_eps : 1e-3f, 0.99f};

    memset(G, 0, t->np * sizeof *G);
    /* ---- forward ---- */
    const float *in = t->x;
    for (int l = 0; l < p->num_layers; l++) {
        const qsnn_plan_layer *L = &p->L[l];
        const qsnn_layer_desc *d = L->d;
        layer_bufs *b = &t->lb[l];
        const float *xs = in + n0 * L->in_sz;
        float *zs = b->z + n0 * L->z_sz;
        switch (d->op) {
        case QSNN_OP_CONV2D:
            qsnn_conv2d_forward(zs, xs, W + L->off_w, ns, &L->cc);
            break;
        case QSNN_OP_DEPTHWISE:
            qsnn_depthwise_forward(zs, xs, W + L->off_dw, ns, &L->cc);
            break;
        case QSNN_OP_SEPARABLE:
            qsnn_depthwise_forward(b->t + n0 * L->t_sz, xs, W + L->off_dw, ns, &L->cc);
            qsnn_pointwise_forward(zs, b->t + n0 * L->t_sz, W + L->off_w, ns * L->hw, L->cin, L->cout);
            break;
        case QSNN_OP_DENSE:
            qsnn_pointwise_forward(zs, xs, W + L->off_w, ns, L->cin, L->cout);
            break;
        }
        if (L->off_bias != QSNN_NO_OFF)
            qsnn_bias_forward(zs, m->params + L->off_bias, ns * L->hw, L->cout);
        if (b->p)
            qsnn_avgpool_forward(b->p + n0 * L->out_sz, zs, ns, (int)L->hw, L->cout);
        const size_t o0 = n0 * L->out_sz, cnt = ns * L->out_sz;
        if (L->off_gamma != QSNN_NO_OFF) {
            memset(part, 0, 2 * (size_t)L->cout * sizeof *part);
            qsnn_bn_stats(part, part + L->cout, b->xbn + o0, ns * L->bn_rows, L->cout);
            team_barrier(t, &sense);
            if (tid == 0) {
                bn_combine(t, L->cout);
                qsnn_bn_finish(b->mean, b->invstd, m->params + L->off_mm, m->params + L->off_mv, t->comb,
                               t->comb + L->cout, n * L->bn_rows, L->cout, &bncfg);
            }
            team_barrier(t, &sense);
            if (d->activation) {
                const qsnn_act act = layer_act(m, d);
                qsnn_bn_act_forward(b->a + o0, b->xbn + o0, b->mean, b->invstd, m->params + L->off_gamma,
                                    m->params + L->off_beta, ns * L->bn_rows, L->cout, &act);
            } else {
                qsnn_bn_apply(b->y + o0, b->xbn + o0, b->mean, b->invstd, m->params + L->off_gamma,
                              m->params + L->off_beta, ns * L->bn_rows, L->cout);
            }
        } else if (d->activation) {
            if (m->quant_acts) {
                qsnn_qrelu q = qsnn_qrelu_params(d->act_bits);
                qsnn_qrelu_forward(b->a + o0, b->y + o0, cnt, &q);
            } else {
                qsnn_relu6_forward(b->a + o0, b->y + o0, cnt);
            }
        }
        in = b->a;
    }
    /* ---- loss ---- */
    const int K = p->classes;
    int correct = 0;
    t->loss_part[tid] = qsnn_softmax_xent_forward(t->probs + n0 * (size_t)K, &correct, in + n0 * (size_t)K,
                                                  t->labels + n0, ns, K);
    t->correct_part[tid] = correct;
    /* gradient buffers: each thread owns the slab [n0 * max, n1 * max) and lays its slice out from the slab's
     * start with each layer's own stride (per-sample offsets with different strides would overlap between
     * threads) */
    float *const ga = t->ga + n0 * p->max_act, *const gb = t->gb + n0 * p->max_act, *const gt = t->gt + n0 * p->max_t;
    float *dcur = ga, *dother = gb;
    qsnn_softmax_xent_backward(dcur, t->probs + n0 * (size_t)K, t->labels + n0, ns, K, 1.0f / (float)n);
    /* ---- backward ---- */
    for (int l = p->num_layers - 1; l >= 0; l--) {
        const qsnn_plan_layer *L = &p->L[l];
        const qsnn_layer_desc *d = L->d;
        layer_bufs *b = &t->lb[l];
        const size_t o0 = n0 * L->out_sz, cnt = ns * L->out_sz;
        float *g = dcur;
        if (d->activation && L->off_gamma == QSNN_NO_OFF) {
            if (m->quant_acts) {
                qsnn_qrelu q = qsnn_qrelu_params(d->act_bits);
                qsnn_qrelu_backward(g, g, b->y + o0, cnt, &q);
            } else {
                qsnn_relu6_backward(g, g, b->y + o0, cnt);
            }
        }
        if (L->off_gamma != QSNN_NO_OFF) {
            memset(part, 0, 2 * (size_t)L->cout * sizeof *part);
            if (d->activation) {
                const qsnn_act act = layer_act(m, d);
                qsnn_bn_act_backward_sums(g, part, part + L->cout, b->xbn + o0, b->mean, b->invstd,
                                          m->params + L->off_gamma, m->params + L->off_beta, ns * L->bn_rows,
                                          L->cout, &act);
            } else {
                qsnn_bn_backward_sums(part, part + L->cout, g, b->xbn + o0, b->mean, b->invstd, ns * L->bn_rows,
                                      L->cout);
            }
            team_barrier(t, &sense);
            if (tid == 0) {
                bn_combine(t, L->cout);
                for (int j = 0; j < L->cout; j++) { /* into thread 0's accumulator */
                    t->grad[L->off_beta + (size_t)j] += (float)t->comb[j];
                    t->grad[L->off_gamma + (size_t)j] += (float)t->comb[L->cout + j];
                }
            }
            team_barrier(t, &sense);
            qsnn_bn_backward_apply(g, g, b->xbn + o0, b->mean, b->invstd, m->params + L->off_gamma, t->comb,
                                   t->comb + L->cout, n * L->bn_rows, ns * L->bn_rows, L->cout);
        }
        float *dz = dcur;
        if (b->p) {
            qsnn_avgpool_backward(dother, g, ns, (int)L->hw, L->cout);
            dz = dother;
        }
        float *dzs = dz;
        if (L->off_bias != QSNN_NO_OFF)
            qsnn_bias_backward(G + L->off_bias, dzs, ns * L->hw, L->cout);
        float *din_buf = dz == ga ? gb : ga;
        float *dins = l > 0 ? din_buf : NULL;
        const float *xin = (l > 0 ? t->lb[l - 1].a : t->x) + n0 * L->in_sz;
        switch (d->op) {
        case QSNN_OP_CONV2D:
            qsnn_conv2d_backward(dins, G + L->off_w, dzs, xin, W + L->off_w, ns, &L->cc);
            break;
        case QSNN_OP_DEPTHWISE:
            qsnn_depthwise_backward(dins, G + L->off_dw, dzs, xin, W + L->off_dw, ns, &L->cc);
            break;
        case QSNN_OP_SEPARABLE: {
            float *gts = gt;
            qsnn_pointwise_backward(gts, G + L->off_w, dzs, b->t + n0 * L->t_sz, W + L->off_w, ns * L->hw, L->cin,
                                    L->cout);
            qsnn_depthwise_backward(dins, G + L->off_dw, gts, xin, W + L->off_dw, ns, &L->cc);
            break;
        }
        case QSNN_OP_DENSE:
            qsnn_pointwise_backward(dins, G + L->off_w, dzs, xin, W + L->off_w, ns, L->cin, L->cout);
            break;
        }
        dcur = din_buf;
        dother = din_buf == ga ? gb : ga;
    }
    /* reduce the per-thread gradients in thread order, each thread a slice of the parameters */
    if (t->threads > 1) {
        team_barrier(t, &sense);
        const size_t np = t->np, i0 = np * (size_t)tid / (size_t)t->threads,
                     i1 = np * (size_t)(tid + 1) / (size_t)t->threads;
        for (size_t i = i0; i < i1; i++) {
            float s = t->grad[i];
            for (int k = 1; k < t->threads; k++)
                s += t->tgrad[(size_t)(k - 1) * np + i];
            t->grad[i] = s;
        }
    }
}

static qsnn_status fwd_bwd(qsnn_trainer *t, size_t n, double *loss, int *correct)
{
    const qsnn_plan *p = &t->plan;
    qsnn_model *m = t->m;
    const float *W = qsnn_plan_weights(p, m, t->wq, t->deltas);
    const int T = t->threads;
    if ((size_t)T > n) { /* fewer samples than threads: run on one (slices must not be empty for BN) */
        t->threads = 1;
    }
    t->sense0 = atomic_load(&t->bar_sense);
    atomic_store(&t->bar_count, 0);
#pragma omp parallel num_threads(t->threads)
    {
        /* OpenMP may give fewer threads than asked: every thread checks, and the step runs on one if so */
        if (omp_get_num_threads() != t->threads) {
#pragma omp single
            {
                t->threads = 1;
                step_region(t, W, 0);
            }
        } else {
            step_region(t, W, omp_get_thread_num());
        }
    }
    const int used = t->threads;
    t->threads = T;
    /* straight-through estimator of the weight quantizer */
    if (m->quant_weights)
        for (int l = 0; l < p->num_layers; l++) {
            const qsnn_plan_layer *L = &p->L[l];
            int bits = L->d->weight_bits;
            if (bits <= 0)
                continue;
            if (L->off_w != QSNN_NO_OFF)
                qsnn_quant_weights_backward(t->grad + L->off_w, t->grad + L->off_w, m->params + L->off_w,
                                            m->lp[l].n_w, bits, t->deltas[2 * l]);
            if (L->off_dw != QSNN_NO_OFF)
                qsnn_quant_weights_backward(t->grad + L->off_dw, t->grad + L->off_dw, m->params + L->off_dw,
                                            m->lp[l].n_dw, bits, t->deltas[2 * l + 1]);
        }
    double ls = 0;
    int c = 0;
    for (int k = 0; k < used; k++)
        ls += t->loss_part[k], c += t->correct_part[k];
    if (loss)
        *loss = ls / (double)n;
    if (correct)
        *correct = c;
    return isfinite(ls) ? QSNN_OK : qsnn_fail(QSNN_ERR_RANGE, "training diverged: loss is not finite");
}

qsnn_status qsnn_trainer_forward_backward(qsnn_trainer *t, const uint8_t *x, const int32_t *labels, size_t n,
                                          double *loss, int *correct)
{
    if (n == 0 || n > (size_t)t->batch)
        return qsnn_fail(QSNN_ERR_ARG, "trainer: %zu samples for a batch of %d", n, t->batch);
    const size_t cnt = n * t->plan.in_sz;
    for (size_t i = 0; i < cnt; i++)
        t->x[i] = (float)x[i] / 255.0f;
    t->labels = labels;
    t->n = n;
    return fwd_bwd(t, n, loss, correct);
}

qsnn_status qsnn_trainer_forward_backward_f32(qsnn_trainer *t, const float *x, const int32_t *labels, size_t n,
                                              double *loss, int *correct)
{
    if (n == 0 || n > (size_t)t->batch)
        return qsnn_fail(QSNN_ERR_ARG, "trainer: %zu samples for a batch of %d", n, t->batch);
    memcpy(t->x, x, n * t->plan.in_sz * sizeof *x);
    t->labels = labels;
    t->n = n;
    return fwd_bwd(t, n, loss, correct);
}

/* ---- Adam ---- */

void qsnn_trainer_adam_reset(qsnn_trainer *t)
{
    memset(t->adam_m, 0, t->np * sizeof(float));
    memset(t->adam_v, 0, t->np * sizeof(float));
    t->adam_t = 0;
}

static void adam_range(float *p, const float *g, float *mm, float *vv, size_t n, float lr_t, const qsnn_adam_cfg *c)
{
    const float b1 = c->beta1, b2 = c->beta2, eps = c->eps;
    for (size_t i = 0; i < n; i++) {
        mm[i] = b1 * mm[i] + (1.0f - b1) * g[i];
        vv[i] = b2 * vv[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= lr_t * mm[i] / (sqrtf(vv[i]) + eps);
    }
}

void qsnn_trainer_adam_step(qsnn_trainer *t, float lr, const qsnn_adam_cfg *cfg)
{
    qsnn_adam_cfg c = cfg ? *cfg : (qsnn_adam_cfg){0.9f, 0.999f, 1e-7f};
    t->adam_t++;
    double bc1 = 1.0 - pow((double)c.beta1, (double)t->adam_t), bc2 = 1.0 - pow((double)c.beta2, (double)t->adam_t);
    float lr_t = (float)(lr * sqrt(bc2) / bc1);
    qsnn_model *m = t->m;
    for (int l = 0; l < t->plan.num_layers; l++) {
        const qsnn_plan_layer *L = &t->plan.L[l];
        const qsnn_layer_params *lp = &m->lp[l];
        size_t offs[5] = {L->off_w, L->off_dw, L->off_bias, L->off_gamma, L->off_beta};
        size_t lens[5] = {lp->n_w, lp->n_dw, lp->n_bias, lp->n_bn, lp->n_bn};
        for (int k = 0; k < 5; k++)
            if (offs[k] != QSNN_NO_OFF && lens[k])
                adam_range(m->params + offs[k], t->grad + offs[k], t->adam_m + offs[k], t->adam_v + offs[k],
                           lens[k], lr_t, &c);
    }
}
