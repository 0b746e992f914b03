/* SPDX-License-Identifier: Apache-2.0 */
/* snn_run.c: the driver: one clip layer by layer (qsnn_snn_run, _batch, _run_layer), and the
 * worker threads of qsnn_snn_run_mt that split the pixel pairs of a layer and meet at a barrier (libc only). */
#include "snn/engine_internal.h"
#include <time.h>

/* Wall clock for the per-layer times of the statistics. C11's timespec_get where the C library has it; a firmware
 * whose libc has none (newlib) can define QSNN_SNN_NOW_NS() as its own clock in nanoseconds (a cycle counter),
 * else the layer times read 0. */
static double now_ns(void)
{
#if defined(QSNN_SNN_NOW_NS)
    return (double)(QSNN_SNN_NOW_NS());
#elif defined(TIME_UTC)
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
#else
    return 0.0;
#endif
}

/* A layer's run state over worker part's scratch (part 0 of 1: the whole layer). in_u8 / out_u8: the input /
 * output map is stored one value per byte (else packed nibbles). Returns the effective mode. */
static int layer_state(run_state *r, qsnn_snn_ctx *ctx, int li, const uint8_t *in, int in_u8, uint8_t *out,
                       int out_u8, int part, int parts)
{
    const qsnn_snn_model *m = ctx->m;
    memset(r, 0, sizeof *r);
    r->m = m;
    r->li = li;
    r->l = &m->layers[li];
    r->in = in;
    r->in_u8 = in_u8;
    r->out = out;
    r->out_u8 = out_u8;
    r->out_pot = ctx->out_pot;
    if (ctx->lc) {
        r->w16 = ctx->lc[li].w16;
        r->dw16 = ctx->lc[li].dw16;
        r->fpre = ctx->lc[li].fpre;
        r->w8q = ctx->lc[li].w8q;
        r->bias8 = ctx->lc[li].bias8;
        r->dwp = ctx->lc[li].dwp;
    }
    r->wb = m->image + r->l->off_w;
    r->dwb = m->image + r->l->off_dw;
    r->part = part;
    r->parts = parts;
#if defined(QSNN_SNN_HAVE_MT)
    /* (a one-layer model has no barrier before the layer to reset the counter behind) */
    r->claim = ctx->lc && m->num_layers > 1 ? &ctx->lc[li].claim : NULL;
#endif
    if (r->l->act_bits) {
        r->th_t = (const int32_t *)(const void *)(m->image + r->l->off_th);
        r->th_s = r->th_t + r->l->out_c;
    }
    int mode = ctx->mode;
    if (mode == QSNN_SNN_DENSE && !ctx->dense_ok[li])
        mode = QSNN_SNN_REF;
    qsnn_snn_layout(r->l, mode, ctx->dense_ok[li], ctx->act8[0] != NULL, ctx->tscratch[part], &r->s);
    return mode;
}

static qsnn_status run_one_layer(qsnn_snn_ctx *ctx, int li, const uint8_t *in, int in_u8, uint8_t *out, int out_u8,
                                 uint64_t *out_nnz, int32_t *pot_dump, int count_nnz)
{
    run_state r;
    int mode = layer_state(&r, ctx, li, in, in_u8, out, out_u8, 0, 1);
    r.pot_dump = pot_dump;
    r.count_nnz = count_nnz;
    if (r.l->pool)
        memset(r.s.gap, 0, (size_t)r.l->out_c * 4);
    if (r.l->act_bits && !out_u8)
        memset(out, 0, (count_of(r.l->out_h, r.l->out_w, r.l->out_c) + 1) / 2);
    qsnn_status st = QSNN_OK;
    if (mode == QSNN_SNN_EVENT)
        st = qsnn_snn_layer_event(&r);
    else if (mode == QSNN_SNN_DENSE)
        qsnn_snn_layer_dense(&r);
    else
        qsnn_snn_layer_ref(&r);
    *out_nnz = r.nnz;
    return st;
}

qsnn_status qsnn_snn_run(qsnn_snn_ctx *ctx, const uint8_t *x, int32_t *potentials, int32_t *pred,
                         qsnn_snn_stats *stats)
{
    const qsnn_snn_model *m = ctx->m;
    const uint8_t *in = x;
    uint64_t prev_nnz = 0;
    if (stats) {
        size_t n = count_of(m->in_h, m->in_w, m->in_c);
        for (size_t i = 0; i < n; i++)
            prev_nnz += x[i] != 0;
    }
    /* byte maps between layers when the context has them and nobody looks at the packed levels */
    int bytes = ctx->act8[0] && !ctx->cb;
    for (int li = 0; li < m->num_layers; li++) {
        const qsnn_snn_layer *l = &m->layers[li];
        uint8_t *out = bytes ? ctx->act8[li & 1] : ctx->act[li & 1];
        double t0 = stats ? now_ns() : 0;
        uint64_t nnz = 0;
        qsnn_status st = run_one_layer(ctx, li, in, li == 0 ? l->in_bits == 8 : bytes, out, bytes, &nnz, NULL,
                                       stats != NULL);
        if (st != QSNN_OK)
            return st;
        if (stats) {
            stats->time_ns[li] += (uint64_t)(now_ns() - t0);
            stats->in_nnz[li] += prev_nnz;
            stats->out_nnz[li] += nnz;
        }
        prev_nnz = nnz;
        if (ctx->cb)
            ctx->cb(ctx->user, li, l->act_bits ? out : NULL, l->act_bits ? NULL : ctx->out_pot,
                    count_of(l->out_h, l->out_w, l->out_c));
        in = out;
    }
    if (stats)
        stats->samples++;
    if (potentials)
        memcpy(potentials, ctx->out_pot, (size_t)m->num_classes * 4);
    if (pred)
        *pred = qsnn_snn_argmax_s32(ctx->out_pot, m->num_classes);
    return QSNN_OK;
}

#if defined(QSNN_SNN_HAVE_MT)
/* Centralised barrier of the ctx's workers (generation counter; spins: the workers are expected to be on
 * their own cores, as for any latency-bound parallel inference). */
static void barrier(qsnn_snn_ctx *c)
{
    unsigned gen = atomic_load_explicit(&c->bar_gen, memory_order_acquire);
    if (atomic_fetch_add_explicit(&c->bar_count, 1, memory_order_acq_rel) == c->nthreads - 1) {
        atomic_store_explicit(&c->bar_count, 0, memory_order_relaxed);
        atomic_store_explicit(&c->bar_gen, gen + 1u, memory_order_release);
    } else {
        while (atomic_load_explicit(&c->bar_gen, memory_order_acquire) == gen) {
#if QSNN_SIMD_X86
            _mm_pause(); /* SSE2: every x86-64 */
#endif
        }
    }
}
#endif

qsnn_status qsnn_snn_run_mt(qsnn_snn_ctx *ctx, int tid, const uint8_t *x, int32_t *potentials, int32_t *pred)
{
#if defined(QSNN_SNN_HAVE_MT)
    if (ctx->nthreads == 1 || ctx->cb || ctx->mode != QSNN_SNN_DENSE)
#endif
        return tid == 0 ? qsnn_snn_run(ctx, x, potentials, pred, NULL) : QSNN_OK;
#if defined(QSNN_SNN_HAVE_MT)
    if (tid < 0 || tid >= ctx->nthreads)
        return qsnn_fail(QSNN_ERR_ARG, "snn: worker %d of %d", tid, ctx->nthreads);
    const qsnn_snn_model *m = ctx->m;
    const uint8_t *in = x;
    qsnn_status st = QSNN_OK;
    int T = ctx->nthreads;
    for (int li = 0; li < m->num_layers; li++) {
        const qsnn_snn_layer *l = &m->layers[li];
        uint8_t *out = ctx->act8[li & 1];
        int in_u8 = li == 0 ? l->in_bits == 8 : 1;
        run_state r;
        int mode = layer_state(&r, ctx, li, in, in_u8, out, 1, tid, T);
        /* the next layer's chunk counter, reset before the barrier that ends this layer (no worker is past it; the
         * last layer resets the first one's for the next clip) */
        if (tid == 0 && m->num_layers > 1)
            atomic_store_explicit(&ctx->lc[(li + 1) % m->num_layers].claim, 0, memory_order_relaxed);
        if (mode == QSNN_SNN_DENSE && qsnn_snn_pair_path(&r)) {
            /* every worker: its pixel pairs (pooled layers: its partial sums) */
            if (l->pool)
                memset(r.s.gap, 0, (size_t)l->out_c * 4);
            qsnn_snn_layer_dense(&r);
            barrier(ctx);
            if (l->pool) {
                if (tid == 0) {
                    for (int t = 1; t < T; t++) {
                        scratch_ptrs o;
                        qsnn_snn_layout(l, mode, ctx->dense_ok[li], 1, ctx->tscratch[t], &o);
                        add_s32(r.s.gap, o.gap, l->out_c);
                    }
                    finish_pool(&r, 0);
                }
                barrier(ctx);
            }
        } else {
            if (tid == 0) {
                uint64_t nnz;
                qsnn_status s1 = run_one_layer(ctx, li, in, in_u8, out, 1, &nnz, NULL, 0);
                st = st == QSNN_OK ? s1 : st;
            }
            barrier(ctx);
        }
        in = out;
    }
    if (tid == 0) {
        if (potentials)
            memcpy(potentials, ctx->out_pot, (size_t)m->num_classes * 4);
        if (pred)
            *pred = qsnn_snn_argmax_s32(ctx->out_pot, m->num_classes);
    }
    return st;
#endif
}

qsnn_status qsnn_snn_run_batch(qsnn_snn_ctx *ctx, const uint8_t *x, size_t n, int32_t *potentials, int32_t *pred,
                               qsnn_snn_stats *stats)
{
    const qsnn_snn_model *m = ctx->m;
    size_t in_n = count_of(m->in_h, m->in_w, m->in_c);
    for (size_t i = 0; i < n; i++) {
        qsnn_status st = qsnn_snn_run(ctx, x + i * in_n, potentials ? potentials + i * (size_t)m->num_classes : NULL,
                                      pred ? pred + i : NULL, stats);
        if (st != QSNN_OK)
            return st;
    }
    return QSNN_OK;
}

qsnn_status qsnn_snn_run_layer(qsnn_snn_ctx *ctx, int layer, const uint8_t *in, uint8_t *levels,
                               int32_t *potentials)
{
    const qsnn_snn_model *m = ctx->m;
    if (layer < 0 || layer >= m->num_layers)
        return qsnn_fail(QSNN_ERR_ARG, "snn: layer %d out of range 0..%d", layer, m->num_layers - 1);
    const qsnn_snn_layer *l = &m->layers[layer];
    const uint8_t *src = in;
    uint8_t *packed_in = ctx->act[(layer + 1) & 1], *out = ctx->act[layer & 1];
    if (layer > 0) {
        size_t n = count_of(l->in_h, l->in_w, l->in_c);
        int maxv = (1 << l->in_bits) - 1;
        memset(packed_in, 0, (n + 1) / 2);
        for (size_t i = 0; i < n; i++) {
            if (in[i] > maxv)
                return qsnn_fail(QSNN_ERR_RANGE, "snn: layer '%s': input level %d at %zu exceeds %d", l->name,
                                 in[i], i, maxv);
            packed_in[i >> 1] |= (uint8_t)(in[i] << ((i & 1) * 4));
        }
        src = packed_in;
    }
    uint64_t nnz;
    qsnn_status st = run_one_layer(ctx, layer, src, layer == 0 ? l->in_bits == 8 : 0, out, 0, &nnz,
                                   l->act_bits ? potentials : NULL, 1);
    if (st != QSNN_OK)
        return st;
    size_t n = count_of(l->out_h, l->out_w, l->out_c);
    if (l->act_bits) {
        if (levels)
            for (size_t i = 0; i < n; i++)
                levels[i] = (uint8_t)qsnn_snn_nibble_u4(out, i);
    } else if (potentials) {
        memcpy(potentials, ctx->out_pot, n * 4);
    }
    return QSNN_OK;
}
