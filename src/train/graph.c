/* SPDX-License-Identifier: Apache-2.0 */
/* graph.c: the training graph of a qsnn_model: one threaded step, forward in training mode and backward (the
 * trainer's memory: trainer_mem.c; Adam: optimizer.c).
 *
 * Threading: one OpenMP parallel region per step; thread t owns samples [n*t/T, n*(t+1)/T) of every activation
 * buffer and runs the single-threaded kernels of qsnn/nn.h on its slice. Batch norm needs whole-batch sums:
 * each thread accumulates partial sums (double) for its slice; after one barrier every thread adds all partials
 * in thread order into its own copy (deterministic, the same in every thread; partial-sum buffers alternate
 * between consecutive BN events so a fast thread never overwrites partials a slow one is still reading); weight gradients go to per-thread accumulators added in thread order after the
 * region. With T = 1 everything is sequential and bit-reproducible. Shared tails: in segments that end at a BN
 * barrier, the last QSNN_TRAIN_TAIL chunks of every slice go to a pool that whichever thread is free first takes
 * from (the machine slows threads down at random); a pooled chunk's BN partials and weight gradients go to its own
 * slot, added to its owner's sums in a fixed order, so results stay deterministic for a given thread count.
 * Segments and chunks: between two BN barriers all work is per sample, so each such segment (forward: BN apply +
 * activation of the layer below, the ops up to the next BN layer, its statistics; backward: BN apply, the layers'
 * backward down to the next BN layer, its sums) runs over the thread's slice in chunks of QSNN_TRAIN_CHUNK samples,
 * every kernel of the segment on one chunk before the next, so intermediates stay in L2 and live in small
 * per-thread chunk buffers. Stored across segments: op outputs z (and pooled p), outputs of layers without BN,
 * the logits; BN outputs and separable intermediates are recomputed from them in the backward (cheap elementwise
 * and depthwise work in cache instead of streaming 3.2 MB tensors through memory). Gradients crossing a barrier
 * go to per-thread slabs of the largest per-sample size, chunk c at c * max_act (chunks never overlap).
 * Memory: created once per (batch, model): activations in one arena, gradients / Adam moments / per-thread
 * gradients / quantized weights as single allocations with the parameter layout. A step allocates nothing.
 * Quantized weights: the float master weights are quantized once per step (qsnn_plan_weights); the backward
 * produces gradients with respect to the quantized weights and the straight-through mask maps them back. */
#define _DEFAULT_SOURCE /* sched_yield */
#include "train/graph_internal.h"

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

/* whether layer l's BN output is stored (the last layer's: the logits) */

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

/* ---- one step ---- */

/* this thread's copy of the sums of BN event parity par: the threads' partials added in thread order (every
 * thread gets the same values) */
static double *bn_combine(qsnn_trainer *t, int c, int par, int tid, int tails)
{
    const size_t stride = 2 * (size_t)t->plan.max_c;
    double *s = t->comb + (size_t)tid * stride;
    const double *pp = t->part + (size_t)par * (size_t)t->threads * stride;
    const double *tp = t->tpart + (size_t)par * (size_t)t->threads * (size_t)t->ktail * stride;
    memset(s, 0, 2 * (size_t)c * sizeof *s);
    for (int k = 0; k < t->threads; k++) { /* thread k's own chunks, then its tail chunks in order */
        for (int j = 0; j < 2 * c; j++)
            s[j] += pp[(size_t)k * stride + (size_t)j];
        for (int q = 0; tails && q < t->ktail; q++)
            for (int j = 0; j < 2 * c; j++)
                s[j] += tp[((size_t)k * (size_t)t->ktail + (size_t)q) * stride + (size_t)j];
    }
    return s;
}

static qsnn_act layer_act(const qsnn_model *m, const qsnn_layer_desc *d)
{
    qsnn_act a;
    a.kind = m->quant_acts ? QSNN_ACT_QRELU : QSNN_ACT_RELU6;
    a.q = qsnn_qrelu_params(d->act_bits);
    return a;
}


/* The activation of a layer without BN on samples [s, s + c) (a = act(y)); nothing for other layers. */
static void act_no_bn(const qsnn_model *m, const qsnn_plan_layer *L, layer_bufs *b, size_t s, size_t c)
{
    if (L->off_gamma != QSNN_NO_OFF || !L->d->activation)
        return;
    const size_t o0 = s * L->out_sz, cnt = c * L->out_sz;
    if (m->quant_acts) {
        qsnn_qrelu q = qsnn_qrelu_params(L->d->act_bits);
        qsnn_qrelu_forward(b->a + o0, b->y + o0, cnt, &q);
    } else {
        qsnn_relu6_forward(b->a + o0, b->y + o0, cnt);
    }
}

/* forward of layer l on samples [s, s + c) whose input starts at xs: op, bias, pooling, and the activation of a
 * layer without BN; T: scratch for the separable intermediate */
static void fwd_op(qsnn_trainer *t, const float *W, int l, size_t s, size_t c, const float *xs, float *T)
{
    const qsnn_plan_layer *L = &t->plan.L[l];
    const qsnn_layer_desc *d = L->d;
    const qsnn_model *m = t->m;
    layer_bufs *b = &t->lb[l];
    if (pool_first(L)) { /* pool(dw(x)) x W (+ bias): see pool_first */
        float *ps = b->p + s * L->out_sz;
        const float inv = 1.0f / (float)L->hw; /* as qsnn_avgpool_forward: the sum times 1 / hw */
        const size_t cin = (size_t)L->cin, nk = (size_t)L->cc.kh * (size_t)L->cc.kw;
        for (size_t q = 0; q < c; q++) { /* window sums and the pooled depthwise output, kept for the backward */
            float *tp = b->tp + (s + q) * cin, *S = b->ws + (s + q) * nk * cin;
            qsnn_train_window_sums(S, T, xs + q * L->in_sz, &L->cc);
            qsnn_train_window_dot(tp, S, W + L->off_dw, &L->cc);
            for (size_t k = 0; k < cin; k++)
                tp[k] *= inv;
        }
        qsnn_pointwise_forward(ps, b->tp + s * cin, W + L->off_w, c, L->cin, L->cout);
        if (L->off_bias != QSNN_NO_OFF)
            qsnn_bias_forward(ps, m->params + L->off_bias, c, L->cout);
        act_no_bn(m, L, b, s, c);
        return;
    }
    float *zs = b->z + s * L->z_sz;
    switch (d->op) {
    case QSNN_OP_CONV2D:
        qsnn_conv2d_forward(zs, xs, W + L->off_w, c, &L->cc);
        break;
    case QSNN_OP_DEPTHWISE:
        qsnn_depthwise_forward(zs, xs, W + L->off_dw, c, &L->cc);
        break;
    case QSNN_OP_SEPARABLE:
        qsnn_depthwise_forward(T, xs, W + L->off_dw, c, &L->cc);
        qsnn_pointwise_forward(zs, T, W + L->off_w, c * L->hw, L->cin, L->cout);
        break;
    case QSNN_OP_DENSE:
        qsnn_pointwise_forward(zs, xs, W + L->off_w, c, L->cin, L->cout);
        break;
    }
    if (L->off_bias != QSNN_NO_OFF)
        qsnn_bias_forward(zs, m->params + L->off_bias, c * L->hw, L->cout);
    if (b->p)
        qsnn_avgpool_forward(b->p + s * L->out_sz, zs, c, (int)L->hw, L->cout);
    act_no_bn(m, L, b, s, c);
}

/* batch norm (batch statistics of this step) and activation of layer l on samples [s, s + c), into out */
static void fwd_post(qsnn_trainer *t, int l, size_t s, size_t c, float *out, int tid)
{
    const qsnn_plan_layer *L = &t->plan.L[l];
    const qsnn_model *m = t->m;
    layer_bufs *b = &t->lb[l];
    const size_t o0 = s * L->out_sz;
    const float *mean = b->mean + (size_t)tid * (size_t)L->cout, *invstd = b->invstd + (size_t)tid * (size_t)L->cout;
    if (L->d->activation) {
        const qsnn_act act = layer_act(m, L->d);
        qsnn_bn_act_forward(out, b->xbn + o0, mean, invstd, m->params + L->off_gamma,
                            m->params + L->off_beta, c * L->bn_rows, L->cout, &act);
    } else {
        qsnn_bn_apply(out, b->xbn + o0, mean, invstd, m->params + L->off_gamma, m->params + L->off_beta,
                      c * L->bn_rows, L->cout);
    }
}

/* per-thread view of a step */
typedef struct {
    qsnn_trainer *t;
    const float *W;
    size_t n0, n1;
    float *G;      /* this thread's gradient accumulator */
    int tid;
    double *part;  /* this thread's BN partial sums of the current event */
    const double *comb; /* this thread's combined sums of the last backward event */
    float *gs;     /* segment boundary gradients: chunk at sample s starts at gs + (s - n0) * max_act */
    float *X[2];   /* chunk scratch [chunk * max_act] */
    float *XT;     /* chunk scratch [chunk * tsz] */
    float *A;      /* chunk scratch [chunk * max_act]: a recomputed BN output */
    float *T;      /* chunk scratch [chunk * tsz]: a recomputed separable intermediate */
} step_ctx;

/* the BN layer whose backward sums end the backward segment starting at layer top (resume: with the BN apply of
 * top), or -1 when the segment runs through layer 0 */
static int bwd_seg_end(const qsnn_plan *p, int top, int resume)
{
    for (int j = top;; j--) {
        if (!(resume && j == top) && has_bn(p, j))
            return j;
        if (j == 0)
            return -1;
    }
}

/* the backward of a pool_first layer j on chunk [s, s + c), g: dL/dp [c, cout] in X[0] or X[1] or gs. Writes
 * dL/d(input) where bwd_chunk expects it (gs when layer j - 1 has BN, else the other X buffer). From the pooled
 * depthwise output tp and the window sums ws kept by the forward: the pointwise weight gradient tp^T g and the
 * gradient d = g W^T of tp; every position of the depthwise output then has the gradient d / hw (the pooling),
 * so the depthwise weight gradient is (d / hw) * S[k] and the input gradient (d / hw) * (the sum of the taps
 * that see the position). The layer's input is not needed (not recomputed). */
static void bwd_pool_first(const step_ctx *x, int j, size_t s, size_t c, const float *g)
{
    qsnn_trainer *t = x->t;
    const qsnn_plan *p = &t->plan;
    const qsnn_plan_layer *L = &p->L[j];
    layer_bufs *b = &t->lb[j];
    const int hw = (int)L->hw, cin = L->cin, cout = L->cout;
    const float inv = 1.0f / (float)hw;
    float *dtp = x->XT; /* [c, cin] d, then [c, cout] g / hw for the bias */
    if (L->off_bias != QSNN_NO_OFF) { /* the hw equal rows g / hw of every sample in order */
        float *gp = dtp + c * (size_t)cin;
        for (size_t i = 0; i < c * (size_t)cout; i++)
            gp[i] = g[i] * inv;
        for (size_t q = 0; q < c; q++)
            for (int r = 0; r < hw; r++)
                qsnn_bias_backward(x->G + L->off_bias, gp + q * (size_t)cout, 1, cout);
    }
    float *din = j == 0 ? NULL : has_bn(p, j - 1) ? x->gs + s * p->max_act : (float *)g == x->X[0] ? x->X[1] : x->X[0];
    const size_t nk = (size_t)L->cc.kh * (size_t)L->cc.kw, ci = (size_t)cin;
    qsnn_pointwise_backward(dtp, x->G + L->off_w, g, b->tp + s * ci, x->W + L->off_w, c, cin, cout);
    float *restrict gdw = x->G + L->off_dw;
    const float *restrict wp = t->wpix + (size_t)x->tid * t->wpix_n + t->wpix_off[j];
    float *restrict d = x->T; /* [cin] */
    for (size_t q = 0; q < c; q++) {
        const float *restrict S = b->ws + (s + q) * nk * ci;
        for (size_t ch = 0; ch < ci; ch++)
            d[ch] = dtp[q * ci + ch] * inv;
        for (size_t k = 0; k < nk; k++)
            for (size_t ch = 0; ch < ci; ch++)
                gdw[k * ci + ch] += d[ch] * S[k * ci + ch];
        if (din) {
            float *restrict o = din + q * L->in_sz;
            for (size_t i = 0; i < L->in_sz; i += ci)
                for (size_t ch = 0; ch < ci; ch++)
                    o[i + ch] = d[ch] * wp[i + ch];
        }
    }
}

/* one chunk [s, s + c) of a backward segment (see bwd_seg_end). Gradients inside the segment live in the chunk
 * scratch; a gradient crossing a barrier (the input of a BN layer's sums) is written to the boundary buffer, masked
 * in place by the sums, and read back by the next segment's apply. */
static void bwd_chunk(const step_ctx *x, int top, int resume, size_t s, size_t c)
{
    qsnn_trainer *t = x->t;
    const qsnn_plan *p = &t->plan;
    qsnn_model *m = t->m;
    float *gs = x->gs + s * p->max_act;
    float *g;
    int j = top;
    if (resume) {
        const qsnn_plan_layer *L = &p->L[j];
        layer_bufs *b = &t->lb[j];
        const size_t tc = (size_t)x->tid * (size_t)L->cout;
        qsnn_bn_backward_apply(x->X[0], gs, b->xbn + s * L->out_sz, b->mean + tc, b->invstd + tc,
                               m->params + L->off_gamma, x->comb, x->comb + L->cout, t->n * L->bn_rows, c * L->bn_rows,
                               L->cout);
        g = x->X[0];
    } else {
        const int K = p->classes;
        g = has_bn(p, j) ? gs : x->X[0];
        qsnn_softmax_xent_backward(g, t->probs + s * (size_t)K, t->labels + s, c, K, 1.0f / (float)t->n);
    }
    for (;;) {
        const qsnn_plan_layer *L = &p->L[j];
        const qsnn_layer_desc *d = L->d;
        layer_bufs *b = &t->lb[j];
        const size_t o0 = s * L->out_sz, cnt = c * L->out_sz;
        if (!(resume && j == top)) { /* the start of layer j's backward: activation */
            if (has_bn(p, j)) {
                const float *mean = b->mean + (size_t)x->tid * (size_t)L->cout,
                            *invstd = b->invstd + (size_t)x->tid * (size_t)L->cout;
                if (d->activation) {
                    const qsnn_act act = layer_act(m, d);
                    qsnn_bn_act_backward_sums(g, x->part, x->part + L->cout, b->xbn + o0, mean, invstd,
                                              m->params + L->off_gamma, m->params + L->off_beta, c * L->bn_rows,
                                              L->cout, &act);
                } else {
                    qsnn_bn_backward_sums(x->part, x->part + L->cout, g, b->xbn + o0, mean, invstd,
                                          c * L->bn_rows, L->cout);
                }
                return;
            }
            if (d->activation) {
                if (m->quant_acts) {
                    qsnn_qrelu q = qsnn_qrelu_params(d->act_bits);
                    qsnn_qrelu_backward(g, g, b->y + o0, cnt, &q);
                } else {
                    qsnn_relu6_backward(g, g, b->y + o0, cnt);
                }
            }
        }
        /* g: dL/d(op output after pooling) of layer j, in scratch */
        if (pool_first(L)) {
            bwd_pool_first(x, j, s, c, g);
            if (j == 0)
                return;
            g = has_bn(p, j - 1) ? gs : g == x->X[0] ? x->X[1] : x->X[0];
            j--;
            continue;
        }
        float *dz = g;
        if (b->p) {
            dz = g == x->X[0] ? x->X[1] : x->X[0];
            qsnn_avgpool_backward(dz, g, c, (int)L->hw, L->cout);
        }
        if (L->off_bias != QSNN_NO_OFF)
            qsnn_bias_backward(x->G + L->off_bias, dz, c * L->hw, L->cout);
        float *din = j == 0 ? NULL : has_bn(p, j - 1) ? gs : dz == x->X[0] ? x->X[1] : x->X[0];
        const float *W = x->W;
        const float *xin;
        if (j > 0 && has_bn(p, j - 1)) {
            fwd_post(t, j - 1, s, c, x->A, x->tid);
            xin = x->A;
        } else {
            xin = (j > 0 ? t->lb[j - 1].a : t->x) + s * L->in_sz;
        }
        switch (d->op) {
        case QSNN_OP_CONV2D:
            qsnn_conv2d_backward(din, x->G + L->off_w, dz, xin, W + L->off_w, c, &L->cc);
            break;
        case QSNN_OP_DEPTHWISE:
            qsnn_depthwise_backward(din, x->G + L->off_dw, dz, xin, W + L->off_dw, c, &L->cc);
            break;
        case QSNN_OP_SEPARABLE:
            qsnn_depthwise_forward(x->T, xin, W + L->off_dw, c, &L->cc);
            qsnn_pointwise_backward(x->XT, x->G + L->off_w, dz, x->T, W + L->off_w, c * L->hw, L->cin, L->cout);
            qsnn_depthwise_backward(din, x->G + L->off_dw, x->XT, xin, W + L->off_dw, c, &L->cc);
            break;
        case QSNN_OP_DENSE:
            qsnn_pointwise_backward(din, x->G + L->off_w, dz, xin, W + L->off_w, c, L->cin, L->cout);
            break;
        }
        if (j == 0)
            return;
        g = din;
        j--;
    }
}

/* One step on thread tid's slice. Between two BN barriers every layer's work is per sample, so each such segment
 * runs chunk by chunk (t->chunk samples): the chunk's intermediates stay in L2 from one kernel to the next instead
 * of each kernel streaming the whole slice through memory. */
/* chunk q (0 .. ktail - 1) of the tail of thread u's slice: [*s, *s + *c) */
static void tail_chunk(const qsnn_trainer *t, int u, int q, size_t *s, size_t *c)
{
    const size_t n = t->n, S = (size_t)t->chunk;
    const size_t a = n * (size_t)u / (size_t)t->threads, b = n * (size_t)(u + 1) / (size_t)t->threads;
    const size_t nch = (b - a + S - 1) / S;
    *s = a + (nch - (size_t)t->ktail + (size_t)q) * S;
    *c = b - *s < S ? b - *s : S;
}

/* the parameter ranges (off, len) whose gradients backward segment (top, resume) produces; returns their count */
static int seg_tensors(const qsnn_trainer *t, int top, int resume, size_t *off, size_t *len)
{
    const qsnn_plan *p = &t->plan;
    int nt = 0;
    for (int j = top;; j--) {
        if (!(resume && j == top) && has_bn(p, j))
            break;
        const qsnn_plan_layer *L = &p->L[j];
        const qsnn_layer_params *lp = &t->m->lp[j];
        const size_t o[3] = {L->off_w, L->off_dw, L->off_bias}, n[3] = {lp->n_w, lp->n_dw, lp->n_bias};
        for (int k = 0; k < 3; k++)
            if (o[k] != QSNN_NO_OFF && n[k])
                off[nt] = o[k], len[nt] = n[k], nt++;
        if (j == 0)
            break;
    }
    return nt;
}

/* forward segment work on one chunk: BN apply of l - 1, ops of l..e, statistics of e into part */
static void fwd_seg_chunk(step_ctx *x, int l, int e, double *part, size_t s, size_t c)
{
    qsnn_trainer *t = x->t;
    const qsnn_plan *p = &t->plan;
    const qsnn_plan_layer *E = &p->L[e];
    const float *xs = (l > 0 ? t->lb[l - 1].a : t->x) + s * p->L[l].in_sz;
    if (l > 0 && has_bn(p, l - 1)) {
        fwd_post(t, l - 1, s, c, x->A, x->tid);
        xs = x->A;
    }
    for (int k = l; k <= e; k++)
        fwd_op(t, x->W, k, s, c, k == l ? xs : t->lb[k - 1].a + s * p->L[k].in_sz, x->T);
    if (has_bn(p, e))
        qsnn_bn_stats(part, part + E->cout, t->lb[e].xbn + s * E->out_sz, c * E->bn_rows, E->cout);
}

/* One step on thread tid's slice. Between two BN barriers every layer's work is per sample, so each such segment
 * runs chunk by chunk (t->chunk samples): every kernel of the segment on one chunk before the next, so
 * intermediates stay in L2. In segments that end at a BN barrier the last ktail chunks of every slice form a
 * shared pool that the threads empty once done with their own chunks (a thread slowed down by the machine
 * hands work over instead of making the other wait); their sums go to per-chunk slots added in a fixed order. */
static void step_region(qsnn_trainer *t, const float *W, int tid)
{
    const qsnn_plan *p = &t->plan;
    qsnn_model *m = t->m;
    const size_t n = t->n, S = (size_t)t->chunk;
    const int T = t->threads;
    const size_t n0 = n * (size_t)tid / (size_t)T, n1 = n * (size_t)(tid + 1) / (size_t)T;
    const size_t ns = n1 - n0;
    /* tails only when every slice has more chunks than its tail */
    const int K = (T > 1 && t->ktail && (n / (size_t)T + S - 1) / S > (size_t)t->ktail) ? t->ktail : 0;
    const size_t own_end = K ? n0 + ((ns + S - 1) / S - (size_t)K) * S : n1; /* own chunks: [n0, own_end) */
    int sense = t->sense0;
    int loop = 0;
    step_ctx x;
    x.t = t;
    x.W = W;
    x.n0 = n0;
    x.n1 = n1;
    float *const Gown = tid == 0 ? t->grad : t->tgrad + (size_t)(tid - 1) * t->np;
    x.G = Gown;
    x.tid = tid;
    x.comb = NULL;
    int ev = 0; /* BN events so far: the parity selects the partial-sum buffers */
    const size_t pstride = 2 * (size_t)p->max_c;
#define EV_PART(e) (t->part + ((size_t)((e) & 1) * (size_t)T + (size_t)tid) * pstride)
#define TAIL_PART(e, u, q) (t->tpart + (((size_t)((e) & 1) * (size_t)T + (size_t)(u)) * (size_t)t->ktail + (size_t)(q)) * pstride)
#define TAIL_SLOT(e, u, q) (t->tslot + (((size_t)((e) & 1) * (size_t)T + (size_t)(u)) * (size_t)t->ktail + (size_t)(q)) * t->np)
    x.part = EV_PART(ev);
    x.gs = t->ga;
    x.X[0] = t->scr + (size_t)tid * S * (3 * p->max_act + 2 * t->tsz);
    x.X[1] = x.X[0] + S * p->max_act;
    x.A = x.X[1] + S * p->max_act;
    x.XT = x.A + S * p->max_act;
    x.T = x.XT + S * t->tsz;
    for (int l = 0; l < p->num_layers; l++)
        if (pool_first(&p->L[l]))
            qsnn_train_weight_plane(t->wpix + (size_t)tid * t->wpix_n + t->wpix_off[l], W + p->L[l].off_dw, &p->L[l].cc);
    const qsnn_bn_cfg bncfg = {m->bn_eps > 0.0f ? m->bn_eps : 1e-3f, t->bn_momentum};
    const int NL = p->num_layers;

    memset(Gown, 0, t->np * sizeof *Gown);
    /* ---- forward: segments [BN apply of layer l - 1, ops of l..e, BN statistics of e] ---- */
    for (int l = 0; l < NL;) {
        int e = l;
        while (e < NL - 1 && !has_bn(p, e))
            e++;
        const qsnn_plan_layer *E = &p->L[e];
        const int bn_e = has_bn(p, e);
        const int tails = bn_e && K; /* the last segment (no barrier after it) keeps every chunk with its owner */
        double *part = EV_PART(ev);
        if (bn_e)
            memset(part, 0, 2 * (size_t)E->cout * sizeof *part);
        for (size_t s = n0; s < (tails ? own_end : n1); s += S)
            fwd_seg_chunk(&x, l, e, part, s, n1 - s < S ? n1 - s : S);
        if (tails) {
            for (int q; (q = atomic_fetch_add(&t->ctr[loop], 1)) < T * K;) {
                const int u = q % T, r = q / T;
                size_t s, c;
                tail_chunk(t, u, r, &s, &c);
                double *tp = TAIL_PART(ev, u, r);
                memset(tp, 0, 2 * (size_t)E->cout * sizeof *tp);
                fwd_seg_chunk(&x, l, e, tp, s, c);
            }
            loop++;
        }
        if (bn_e) { /* one barrier: every thread combines the partials itself; only thread 0 moves the averages */
            team_barrier(t, &sense);
            const double *cs = bn_combine(t, E->cout, ev & 1, tid, tails);
            const size_t tc = (size_t)tid * (size_t)E->cout;
            qsnn_bn_finish(t->lb[e].mean + tc, t->lb[e].invstd + tc, tid == 0 ? m->params + E->off_mm : NULL,
                           tid == 0 ? m->params + E->off_mv : NULL, cs, cs + E->cout, n * E->bn_rows, E->cout, &bncfg);
            ev++;
        }
        l = e + 1;
    }
    if (has_bn(p, NL - 1))
        for (size_t s = n0; s < n1; s += S)
            fwd_post(t, NL - 1, s, n1 - s < S ? n1 - s : S, t->lb[NL - 1].a + s * p->L[NL - 1].out_sz, tid);
    if (t->fwd_only)
        return;
    /* ---- loss ---- */
    const int Kc = p->classes;
    int correct = 0;
    if (t->soft)
        t->loss_part[tid] = qsnn_softmax_kd_forward(t->probs + n0 * (size_t)Kc, &correct,
                                                    t->lb[NL - 1].a + n0 * (size_t)Kc, t->labels + n0,
                                                    t->soft + n0 * (size_t)Kc, ns, Kc, t->kd_a, t->kd_t);
    else
        t->loss_part[tid] = qsnn_softmax_xent_forward(t->probs + n0 * (size_t)Kc, &correct,
                                                      t->lb[NL - 1].a + n0 * (size_t)Kc, t->labels + n0, ns, Kc);
    t->correct_part[tid] = correct;
    /* ---- backward: segments [BN apply of top, ..., BN sums of the next BN layer below] ---- */
    size_t toff[3 * QSNN_MAX_LAYERS], tlen[3 * QSNN_MAX_LAYERS];
    for (int top = NL - 1, resume = 0;;) {
        const int endl = bwd_seg_end(p, top, resume);
        /* tails in segments between two barriers (the first follows the loss of the owner's own samples) */
        const int tails = K && resume && endl >= 0;
        const int nt = tails ? seg_tensors(t, top, resume, toff, tlen) : 0;
        double *part = EV_PART(ev);
        if (endl >= 0)
            memset(part, 0, 2 * (size_t)p->L[endl].cout * sizeof *part);
        x.G = Gown;
        x.part = part;
        for (size_t s = n0; s < (tails ? own_end : n1); s += S)
            bwd_chunk(&x, top, resume, s, n1 - s < S ? n1 - s : S);
        if (tails) {
            for (int q; (q = atomic_fetch_add(&t->ctr[loop], 1)) < T * K;) {
                const int u = q % T, r = q / T;
                size_t s, c;
                tail_chunk(t, u, r, &s, &c);
                float *slot = TAIL_SLOT(ev, u, r);
                for (int k = 0; k < nt; k++)
                    memset(slot + toff[k], 0, tlen[k] * sizeof *slot);
                x.G = slot;
                x.part = TAIL_PART(ev, u, r);
                memset(x.part, 0, 2 * (size_t)p->L[endl].cout * sizeof *x.part);
                bwd_chunk(&x, top, resume, s, c);
            }
            loop++;
        }
        if (endl < 0)
            break;
        const qsnn_plan_layer *L = &p->L[endl];
        team_barrier(t, &sense);
        const double *cs = bn_combine(t, L->cout, ev & 1, tid, tails);
        x.comb = cs;
        if (tid == 0)
            for (int j = 0; j < L->cout; j++) { /* into thread 0's accumulator */
                t->grad[L->off_beta + (size_t)j] += (float)cs[j];
                t->grad[L->off_gamma + (size_t)j] += (float)cs[L->cout + j];
            }
        /* the weight gradients of this thread's tail chunks, whoever ran them, in order */
        for (int r = 0; tails && r < K; r++) {
            const float *slot = TAIL_SLOT(ev, tid, r);
            for (int k = 0; k < nt; k++)
                for (size_t i = toff[k]; i < toff[k] + tlen[k]; i++)
                    Gown[i] += slot[i];
        }
        ev++;
        top = endl;
        resume = 1;
    }
#undef EV_PART
#undef TAIL_PART
#undef TAIL_SLOT
    /* reduce the per-thread gradients in thread order, each thread a slice of the parameters */
    if (T > 1) {
        team_barrier(t, &sense);
        const size_t np = t->np, i0 = np * (size_t)tid / (size_t)T, i1 = np * (size_t)(tid + 1) / (size_t)T;
        for (size_t i = i0; i < i1; i++) {
            float s = t->grad[i];
            for (int k = 1; k < T; k++)
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
    for (size_t i = 0; i < sizeof t->ctr / sizeof t->ctr[0]; i++)
        atomic_store(&t->ctr[i], 0);
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
    if (t->fwd_only)
        return QSNN_OK;
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

static void load_u8(qsnn_trainer *t, const uint8_t *x, size_t n) /* the model sees x / 255 */
{
    for (size_t i = 0; i < n * t->plan.in_sz; i++)
        t->x[i] = (float)x[i] / 255.0f;
}

qsnn_status qsnn_trainer_forward_backward(qsnn_trainer *t, const uint8_t *x, const int32_t *labels, size_t n,
                                          double *loss, int *correct)
{
    return qsnn_trainer_forward_backward_kd(t, x, labels, NULL, 0, 1, n, loss, correct);
}

qsnn_status qsnn_trainer_forward_backward_kd(qsnn_trainer *t, const uint8_t *x, const int32_t *labels,
                                             const float *soft, float kd_weight, float kd_temperature, size_t n,
                                             double *loss, int *correct)
{
    if (n == 0 || n > (size_t)t->batch)
        return qsnn_fail(QSNN_ERR_ARG, "trainer: %zu samples for a batch of %d", n, t->batch);
    if (soft && !(kd_weight >= 0 && kd_weight <= 1 && kd_temperature > 0))
        return qsnn_fail(QSNN_ERR_ARG, "trainer: distillation weight %g / temperature %g out of range",
                         (double)kd_weight, (double)kd_temperature);
    load_u8(t, x, n);
    t->labels = labels, t->n = n;
    t->soft = soft, t->kd_a = kd_weight, t->kd_t = kd_temperature;
    qsnn_status st = fwd_bwd(t, n, loss, correct);
    t->soft = NULL;
    return st;
}

qsnn_status qsnn_trainer_bn_stats(qsnn_trainer *t, const uint8_t *x, size_t n, float momentum)
{
    if (n == 0 || n > (size_t)t->batch)
        return qsnn_fail(QSNN_ERR_ARG, "trainer: %zu samples for a batch of %d", n, t->batch);
    if (!(momentum >= 0 && momentum <= 1))
        return qsnn_fail(QSNN_ERR_ARG, "trainer: BN momentum %g out of [0, 1]", (double)momentum);
    load_u8(t, x, n);
    t->labels = NULL, t->n = n, t->fwd_only = 1, t->bn_momentum = momentum;
    qsnn_status st = fwd_bwd(t, n, NULL, NULL);
    t->fwd_only = 0, t->bn_momentum = 0.99f;
    return st;
}

qsnn_status qsnn_trainer_forward_backward_f32(qsnn_trainer *t, const float *x, const int32_t *labels, size_t n,
                                              double *loss, int *correct)
{
    if (n == 0 || n > (size_t)t->batch)
        return qsnn_fail(QSNN_ERR_ARG, "trainer: %zu samples for a batch of %d", n, t->batch);
    memcpy(t->x, x, n * t->plan.in_sz * sizeof *x);
    t->labels = labels, t->n = n;
    return fwd_bwd(t, n, loss, correct);
}
