/* SPDX-License-Identifier: Apache-2.0 */
/* trainer_mem.c: creation of a trainer: the activation arena (2 MB aligned, huge pages where the system allows),
 * gradients, Adam moments, per-thread buffers and quantized weights, all sized once for (batch, model) so that a
 * step allocates nothing; and the trainer's accessors. */
#define _DEFAULT_SOURCE /* madvise */
#include "train/graph_internal.h"

#include <omp.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

int qsnn_trainer_threads(const qsnn_trainer *t) { return t->threads; }
float *qsnn_trainer_grads(qsnn_trainer *t) { return t->grad; }
float *qsnn_trainer_adam_m(qsnn_trainer *t) { return t->adam_m; }
float *qsnn_trainer_adam_v(qsnn_trainer *t) { return t->adam_v; }
int64_t *qsnn_trainer_adam_t(qsnn_trainer *t) { return &t->adam_t; }

size_t qsnn_trainer_mem_bytes(const qsnn_trainer *t)
{
    return t->arena.size + t->np * sizeof(float) * (4 + (size_t)(t->threads - 1)) +
           3 * (size_t)t->threads * 2 * (size_t)t->plan.max_c * sizeof(double);
}

void qsnn_trainer_free(qsnn_trainer *t)
{
    if (!t)
        return;
    qsnn_arena_free(&t->arena);
    free(t->arena_mem);
    free(t->grad);
    free(t->tgrad);
    free(t->adam_m);
    free(t->adam_v);
    free(t->wq);
    free(t->part);
    free(t->tpart);
    free(t->tslot);
    free(t->comb);
    free(t->wpix);
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
    qsnn_status xs = qsnn_arch_trainable(&m->arch);
    if (xs != QSNN_OK)
        return xs;
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
    t->bn_momentum = 0.99f;
    qsnn_status st = qsnn_plan_build(&t->plan, m);
    if (st != QSNN_OK) {
        free(t);
        return st;
    }
    const qsnn_plan *p = &t->plan;
    const size_t B = (size_t)batch;
    /* arena size: one pass to count (64-byte rounding per buffer) */
    t->chunk = QSNN_TRAIN_CHUNK;
    t->tsz = p->max_t;
    for (int l = 0; l < p->num_layers; l++) {
        const qsnn_plan_layer *L = &p->L[l];
        if (!pool_first(L))
            continue;
        const size_t need = (size_t)L->cc.kw * (size_t)L->cin + (size_t)L->cout; /* also bwd_pool_first's */
        t->tsz = need > t->tsz ? need : t->tsz;
        t->wpix_off[l] = t->wpix_n;
        t->wpix_n += L->in_sz;
    }
    const size_t scr_floats = (size_t)threads * (size_t)t->chunk * (3 * p->max_act + 2 * t->tsz);
    size_t floats = B * p->in_sz + B * (size_t)p->classes + B * p->max_act + scr_floats;
    size_t nbuf = 5;
    for (int l = 0; l < p->num_layers; l++) {
        const qsnn_plan_layer *L = &p->L[l];
        floats += (pool_first(L) ? B * (size_t)L->cin * (1 + (size_t)L->cc.kh * (size_t)L->cc.kw) : B * L->z_sz) +
                  2 * (size_t)threads * (size_t)L->cout;
        nbuf += 4;
        if (L->d->pool == QSNN_POOL_GLOBAL_AVG)
            floats += B * L->out_sz, nbuf++;
        if (stores_post(p, l))
            floats += B * L->out_sz, nbuf++;
        if (L->d->activation && !L->d->batch_norm)
            floats += B * L->out_sz, nbuf++;
    }
    /* the arena on 2 MB boundaries and, on Linux, backed by transparent huge pages where the system allows it on
     * request (a step walks ~20 MB of activations: 4 KB pages cost a TLB miss every 16 rows of 64 channels) */
    const size_t huge = (size_t)2 << 20;
    const size_t abytes = (floats * sizeof(float) + nbuf * 64 + 64 + huge - 1) / huge * huge;
    t->arena_mem = aligned_alloc(huge, abytes);
    if (!t->arena_mem) {
        free(t);
        return qsnn_fail(QSNN_ERR_NOMEM, "trainer: out of memory (batch %d)", batch);
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(t->arena_mem, abytes, MADV_HUGEPAGE); /* advice only: failure changes nothing */
#endif
    qsnn_arena_init_from(&t->arena, t->arena_mem, abytes);
    int ok = 1;
    t->x = carve(&t->arena, B * p->in_sz, &ok);
    t->probs = carve(&t->arena, B * (size_t)p->classes, &ok);
    t->ga = carve(&t->arena, B * p->max_act, &ok);
    t->scr = carve(&t->arena, scr_floats, &ok);
    for (int l = 0; l < p->num_layers; l++) {
        const qsnn_plan_layer *L = &p->L[l];
        layer_bufs *b = &t->lb[l];
        b->z = pool_first(L) ? NULL : carve(&t->arena, B * L->z_sz, &ok);
        b->p = L->d->pool == QSNN_POOL_GLOBAL_AVG ? carve(&t->arena, B * L->out_sz, &ok) : NULL;
        b->xbn = b->p ? b->p : b->z;
        if (L->d->batch_norm) { /* the BN output (+ activation) is recomputed where needed, except the logits */
            b->y = b->a = stores_post(p, l) ? carve(&t->arena, B * L->out_sz, &ok) : NULL;
        } else {
            b->y = b->xbn;
            b->a = L->d->activation ? carve(&t->arena, B * L->out_sz, &ok) : b->y;
        }
        b->mean = carve(&t->arena, (size_t)threads * (size_t)L->cout, &ok);
        if (pool_first(L)) {
            b->tp = carve(&t->arena, B * (size_t)L->cin, &ok);
            b->ws = carve(&t->arena, B * (size_t)L->cin * (size_t)L->cc.kh * (size_t)L->cc.kw, &ok);
        }
        b->invstd = carve(&t->arena, (size_t)threads * (size_t)L->cout, &ok);
    }
    t->np = m->num_params;
    t->grad = calloc(t->np, sizeof(float));
    t->tgrad = threads > 1 ? calloc((size_t)(threads - 1) * t->np, sizeof(float)) : NULL;
    t->adam_m = calloc(t->np, sizeof(float));
    t->adam_v = calloc(t->np, sizeof(float));
    t->wq = calloc(t->np, sizeof(float));
    t->part = calloc(2 * (size_t)threads * 2 * (size_t)p->max_c, sizeof(double));
    t->ktail = threads > 1 ? QSNN_TRAIN_TAIL : 0;
    const size_t ntail = (size_t)threads * (size_t)(t->ktail ? t->ktail : 1);
    t->tpart = calloc(2 * ntail * 2 * (size_t)p->max_c, sizeof(double));
    t->tslot = t->ktail ? calloc(2 * ntail * t->np, sizeof(float)) : NULL;
    t->comb = calloc((size_t)threads * 2 * (size_t)p->max_c, sizeof(double));
    t->wpix = t->wpix_n ? calloc((size_t)threads * t->wpix_n, sizeof(float)) : NULL;
    if ((t->wpix_n && !t->wpix) || !ok || !t->grad || (threads > 1 && !t->tgrad) || !t->adam_m || !t->adam_v || !t->wq || !t->part ||
        !t->comb || !t->tpart || (t->ktail && !t->tslot)) {
        qsnn_trainer_free(t);
        return qsnn_fail(QSNN_ERR_NOMEM, "trainer: out of memory (batch %d)", batch);
    }
    qsnn_nn_blas_single_thread();
    *out = t;
    return QSNN_OK;
}
