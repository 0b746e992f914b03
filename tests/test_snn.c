/* SPDX-License-Identifier: Apache-2.0 */
/* test_snn.c: the integer engine. Fire kernels exact (incl. docs/design.md s4.6's counter-example), fast == _ref
 * kernels, event == dense == ref paths on random models of every layer type, caller-memory API (exact size,
 * canaries, no allocator symbol in the engine library), .snn image/file round trip and corruption errors,
 * hardware rules, Akida statistics on a hand-computed case. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qsnn/convert.h"
#include "qsnn/io.h"
#include "qsnn/snn.h"
#include "snn/kernels_internal.h"

/* ---------------------------------------------------------------- fire */

static void test_fire_counter_example(void **state)
{
    (void)state;
    /* T = 10.7, S = 2.5, p = 13: 13 > 10.7 but 13 <= 13.2, so the float model's level is 1. Akida's floored
     * threshold (10) would give 13 > 12.5 -> level 2. Our T, S in 2^-24 units keep it exact. */
    int f = 24;
    int32_t t = (int32_t)llround(10.7 * (1 << f) / 1.0), s = (int32_t)(2.5 * (1 << f));
    /* 10.7 * 2^24 overflows int32? 10.7 * 16777216 = 179.5M < 2^31: fine. */
    int32_t p[6] = {10, 11, 13, 14, 15, 16};
    uint8_t a[6], b[6];
    qsnn_snn_fire_s32(a, p, (int32_t[]){t, t, t, t, t, t}, (int32_t[]){s, s, s, s, s, s}, 6, f, 15);
    qsnn_snn_fire_s32_ref(b, p, (int32_t[]){t, t, t, t, t, t}, (int32_t[]){s, s, s, s, s, s}, 6, f, 15);
    const uint8_t want[6] = {0, 1, 1, 2, 2, 3}; /* boundaries 10.7, 13.2, 15.7 */
    for (int i = 0; i < 6; i++) {
        assert_int_equal(a[i], want[i]);
        assert_int_equal(b[i], want[i]);
    }
    /* Akida's floored representation (f = 0, T = floor(10.7) = 10) gets p = 13 wrong: level 2 */
    int32_t t0 = 10, s0 = 2; /* the integer step cannot even hold 2.5: any f = 0 representation is off */
    uint8_t c;
    qsnn_snn_fire_s32_ref(&c, (int32_t[]){13}, &t0, &s0, 1, 0, 15);
    assert_int_equal(c, 2);
}

static void test_fire_fast_equals_ref(void **state)
{
    (void)state;
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 7);
    enum { N = 4096 };
    static int32_t p[N], t[N], s[N];
    static uint8_t a[N], b[N];
    for (int round = 0; round < 200; round++) {
        int f = (int)qsnn_rng_below(&rng, 25);
        int levels = (int)qsnn_rng_range(&rng, 1, 16);
        for (int j = 0; j < N; j++) {
            /* step in 2^-f units, 1 .. large; threshold anywhere allowed by the precondition */
            int64_t smax = ((int64_t)1 << 31) / 40;
            int64_t sj = 1 + (int64_t)(qsnn_rng_uniform(&rng) * qsnn_rng_uniform(&rng) * (double)smax);
            int64_t room = ((int64_t)1 << 31) - 1 - 16 * sj - ((int64_t)2 << f);
            if (room < 1) {
                sj = 1;
                room = ((int64_t)1 << 31) - 1 - 16 - ((int64_t)2 << f);
            }
            int64_t tj = qsnn_rng_range(&rng, -room + 1, room);
            if (round & 1) { /* converted models: large steps, thresholds a few steps from 0 (the float pass) */
                sj = ((int64_t)1 << 20) + (int64_t)(qsnn_rng_uniform(&rng) * (double)(smax - ((int64_t)1 << 20)));
                room = ((int64_t)1 << 31) - 1 - 16 * sj - ((int64_t)2 << f);
                int64_t tmax = 40 * sj < room ? 40 * sj : room;
                tj = qsnn_rng_range(&rng, -tmax + 1, tmax);
            }
            s[j] = (int32_t)sj;
            t[j] = (int32_t)tj;
            int64_t ti = tj >> f;
            int kind = (int)qsnn_rng_below(&rng, 4);
            int64_t pj;
            if (kind == 0) { /* exactly on a boundary p 2^f = t + k s, when representable */
                int64_t k = qsnn_rng_range(&rng, 0, levels + 1);
                pj = (tj + k * sj) >> f;
                pj += qsnn_rng_range(&rng, -1, 2);
            } else if (kind == 1) {
                pj = ti + qsnn_rng_range(&rng, -3, (int64_t)((16 * sj) >> f) + 4);
            } else {
                pj = qsnn_rng_range(&rng, INT32_MIN / 2, INT32_MAX / 2);
            }
            if (pj > INT32_MAX)
                pj = INT32_MAX;
            if (pj < INT32_MIN)
                pj = INT32_MIN;
            p[j] = (int32_t)pj;
        }
        qsnn_snn_fire_s32(a, p, t, s, N, f, levels);
        qsnn_snn_fire_s32_ref(b, p, t, s, N, f, levels);
        for (int j = 0; j < N; j++)
            if (a[j] != b[j])
                fail_msg("fire mismatch: p %d t %d s %d f %d L %d: fast %d ref %d", p[j], t[j], s[j], f, levels,
                         a[j], b[j]);
        /* the double form with precomputed constants (cached contexts); n = N - 3 exercises the scalar tail */
        static double pre[2 * N];
        qsnn_snn_fire_pre_fill(pre, t, s, N - 3, f);
        qsnn_snn_fire_pre(a, p, pre, N - 3, levels);
        for (int j = 0; j < N - 3; j++)
            if (a[j] != b[j])
                fail_msg("fire_pre mismatch: p %d t %d s %d f %d L %d: pre %d ref %d", p[j], t[j], s[j], f, levels,
                         a[j], b[j]);
    }
}

static void test_gemv_fast_equals_ref(void **state)
{
    (void)state;
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 11);
    const int ns[] = {1, 7, 8, 12, 16, 32, 33, 64, 70, 128, 200};
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
        int n = ns[ni];
        for (int kp = 1; kp <= 40; kp += 13) {
            int16_t *a = malloc(sizeof(int16_t) * 2 * (size_t)kp);
            int8_t *w = malloc(2 * (size_t)kp * (size_t)n);
            int32_t *x = calloc((size_t)n, 4), *y = calloc((size_t)n, 4);
            for (int k = 0; k < 2 * kp; k++)
                a[k] = (int16_t)qsnn_rng_range(&rng, -32767, 32768);
            for (int k = 0; k < 2 * kp * n; k++)
                w[k] = (int8_t)qsnn_rng_range(&rng, -127, 128);
            for (int j = 0; j < n; j++)
                x[j] = y[j] = (int32_t)qsnn_rng_range(&rng, -1000, 1000);
            /* keep the sums within int32: |a w| <= 2^22 per term, 2 kp <= 80 terms */
            qsnn_snn_gemv_s16_s8(x, a, w, kp, n);
            qsnn_snn_gemv_s16_s8_ref(y, a, w, kp, n);
            assert_memory_equal(x, y, 4 * (size_t)n);
            int16_t *w16 = malloc(sizeof(int16_t) * 2 * (size_t)kp * (size_t)n);
            for (int k = 0; k < 2 * kp * n; k++)
                w16[k] = (int16_t)qsnn_rng_range(&rng, -2000, 2001);
            for (int k = 0; k < 2 * kp; k++)
                a[k] = (int16_t)qsnn_rng_range(&rng, -1000, 1001);
            qsnn_snn_gemv_s16_s16(x, a, w16, kp, n);
            qsnn_snn_gemv_s16_s16_ref(y, a, w16, kp, n);
            assert_memory_equal(x, y, 4 * (size_t)n);
            /* two inputs at once (stores, not accumulates: start from garbage) */
            int16_t *b = malloc(sizeof(int16_t) * 2 * (size_t)kp);
            for (int k = 0; k < 2 * kp; k++)
                b[k] = (int16_t)qsnn_rng_range(&rng, -1000, 1001);
            int32_t *x1 = malloc((size_t)n * 4), *y1 = malloc((size_t)n * 4);
            memset(x, 0x5a, (size_t)n * 4), memset(x1, 0xa5, (size_t)n * 4);
            qsnn_snn_gemv2_s16_s16(x, x1, a, b, w16, kp, n);
            qsnn_snn_gemv2_s16_s16_ref(y, y1, a, b, w16, kp, n);
            assert_memory_equal(x, y, 4 * (size_t)n);
            assert_memory_equal(x1, y1, 4 * (size_t)n);
            memset(x, 0, (size_t)n * 4);
            qsnn_snn_gemv_s16_s16_ref(x, b, w16, kp, n); /* the second output is the one-input product of b */
            assert_memory_equal(x, y1, 4 * (size_t)n);
            memcpy(y, x, (size_t)n * 4); /* equal starting sums for the sparse check below */
            free(b), free(x1), free(y1);
            /* sparse form over a random subset of the pairs, in random order, equals the dense one on those */
            int32_t idx[40];
            int np = 0;
            for (int k = kp - 1; k >= 0; k--)
                if (qsnn_rng_below(&rng, 2))
                    idx[np++] = k;
            int16_t a2[80];
            for (int q = 0; q < np; q++) {
                a2[2 * q] = a[2 * idx[q]];
                a2[2 * q + 1] = a[2 * idx[q] + 1];
            }
            qsnn_snn_gemv_sparse_s16_s16(x, a2, idx, np, w16, n);
            qsnn_snn_gemv_sparse_s16_s16_ref(y, a2, idx, np, w16, n);
            assert_memory_equal(x, y, 4 * (size_t)n);
            free(w16);
            free(a);
            free(w);
            free(x);
            free(y);
        }
    }
}

/* The uint8 x int8 two-input GEMV with quads: random inputs over the whole uint8 range and weights in [-8, 8],
 * plus the extremes (every activation 255, every weight -8 or 8: the largest int16 partial sums, 8 x 4080). */
static void test_gemv_u8_s8_fast_equals_ref(void **state)
{
    (void)state;
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 12);
    const int ns[] = {1, 7, 8, 12, 16, 24, 33, 64, 70};
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
        int n = ns[ni];
        for (int kq = 1; kq <= 25; kq += 4) {
            int8_t *w = malloc((size_t)kq * 4 * (size_t)n);
            uint8_t *a0 = malloc((size_t)kq * 4), *a1 = malloc((size_t)kq * 4);
            int32_t *bias = malloc((size_t)n * 4), *x0 = malloc((size_t)n * 4), *x1 = malloc((size_t)n * 4);
            int32_t *y0 = malloc((size_t)n * 4), *y1 = malloc((size_t)n * 4);
            for (int trial = 0; trial < 3; trial++) {
                for (int k = 0; k < kq * 4 * n; k++)
                    w[k] = (int8_t)(trial == 0 ? qsnn_rng_range(&rng, -8, 9) : trial == 1 ? -8 : 8);
                for (int k = 0; k < kq * 4; k++) {
                    a0[k] = (uint8_t)(trial == 0 ? qsnn_rng_below(&rng, 256) : 255);
                    a1[k] = (uint8_t)qsnn_rng_below(&rng, 256);
                }
                for (int j = 0; j < n; j++)
                    bias[j] = (int32_t)qsnn_rng_range(&rng, -100000, 100001);
                memset(x0, 0x5a, (size_t)n * 4), memset(x1, 0xa5, (size_t)n * 4);
                qsnn_snn_gemv2_u8_s8(x0, x1, a0, a1, w, bias, kq, n);
                qsnn_snn_gemv2_u8_s8_ref(y0, y1, a0, a1, w, bias, kq, n);
                assert_memory_equal(x0, y0, 4 * (size_t)n);
                assert_memory_equal(x1, y1, 4 * (size_t)n);
                if (trial == 1) /* every activation 255, every weight -8: bias - 8 * 255 * 4 kq */
                    assert_int_equal(x0[n - 1], bias[n - 1] - 8 * 255 * 4 * kq);
            }
            free(w), free(a0), free(a1), free(bias), free(x0), free(x1), free(y0), free(y1);
        }
    }
}

/* ---------------------------------------------------------------- random models */

typedef struct {
    qsnn_convert_build b;
    int8_t *w[QSNN_SNN_MAX_LAYERS], *dw[QSNN_SNN_MAX_LAYERS];
    int32_t *t[QSNN_SNN_MAX_LAYERS];
} rand_model;

static void rand_model_free(rand_model *r)
{
    for (int i = 0; i < QSNN_SNN_MAX_LAYERS; i++) {
        free(r->w[i]);
        free(r->dw[i]);
        free(r->t[i]);
    }
}

static void rand_weights(qsnn_rng *rng, int8_t *w, size_t n, int bits, double density)
{
    int kmax = bits <= 2 ? 1 : (1 << (bits - 1)) - 1;
    for (size_t i = 0; i < n; i++)
        w[i] = qsnn_rng_uniform(rng) < density ? (int8_t)qsnn_rng_range(rng, -kmax, kmax + 1) : 0;
}

/* Append a layer with random weights and thresholds that make a useful fraction of neurons fire. */
static void add_layer(rand_model *r, qsnn_rng *rng, int type, int filters, int k, int stride, int same, int pool,
                      int wbits, int act_bits)
{
    qsnn_convert_build *b = &r->b;
    int li = b->num_layers++;
    int h = li ? b->layers[li - 1].rec.out_h : b->in_h, w = li ? b->layers[li - 1].rec.out_w : b->in_w;
    int c = li ? b->layers[li - 1].rec.out_c : b->in_c;
    int in_bits = li ? b->layers[li - 1].rec.act_bits : 8;
    qsnn_snn_layer *rec = &b->layers[li].rec;
    memset(rec, 0, sizeof *rec);
    snprintf(rec->name, sizeof rec->name, "layer_%d", li);
    qsnn_convert_layer_shape(rec, type, h, w, c, filters, k, k, stride, stride, same, pool);
    rec->weight_bits = wbits;
    rec->in_bits = in_bits;
    rec->act_bits = act_bits;
    size_t kk = (size_t)k * (size_t)k, nw, ndw = 0;
    if (type == QSNN_SNN_SEPARABLE) {
        ndw = kk * (size_t)c;
        nw = (size_t)c * (size_t)filters;
    } else if (type == QSNN_SNN_FC) {
        nw = (size_t)h * (size_t)w * (size_t)c * (size_t)filters;
    } else {
        nw = kk * (size_t)c * (size_t)filters;
    }
    r->w[li] = malloc(nw);
    rand_weights(rng, r->w[li], nw, wbits, 0.8);
    b->layers[li].w = r->w[li];
    if (ndw) {
        r->dw[li] = malloc(ndw);
        rand_weights(rng, r->dw[li], ndw, wbits, 0.8);
        b->layers[li].dw = r->dw[li];
    }
    if (act_bits) {
        int f = (int)qsnn_rng_below(rng, 17);
        r->t[li] = malloc(8 * (size_t)filters);
        double *tt = malloc(sizeof(double) * (size_t)filters), *ss = malloc(sizeof(double) * (size_t)filters);
        /* scale of typical potentials: sqrt(fan-in) * max input * max weight */
        double maxin = in_bits == 8 ? 255 : (1 << in_bits) - 1;
        double fan = type == QSNN_SNN_SEPARABLE ? kk * c : (double)nw / filters;
        double typ = sqrt(fan) * maxin * ((1 << (wbits - 1)) - 0.5) * 0.5 * (type == QSNN_SNN_SEPARABLE ? kk : 1);
        if (pool)
            typ *= rec->conv_h * rec->conv_w;
        double worst = 0;
        for (int j = 0; j < filters; j++) {
            tt[j] = (qsnn_rng_uniform(rng) - 0.3) * typ;
            ss[j] = (0.02 + qsnn_rng_uniform(rng)) * typ / 8 + 0.3;
            if (fabs(tt[j]) + 16 * ss[j] + 2 > worst)
                worst = fabs(tt[j]) + 16 * ss[j] + 2;
        }
        while (f > 0 && ldexp(worst + 2, f) >= 2147483647.0) /* the format's precondition */
            f--;
        rec->frac_bits = f;
        for (int j = 0; j < filters; j++) {
            r->t[li][j] = (int32_t)llround(ldexp(tt[j], f));
            r->t[li][filters + j] = (int32_t)llround(ldexp(ss[j], f));
        }
        free(tt);
        free(ss);
        b->layers[li].th_t = r->t[li];
        b->layers[li].th_s = r->t[li] + filters;
    }
}

typedef struct {
    uint8_t *lv[QSNN_SNN_MAX_LAYERS];
    size_t n[QSNN_SNN_MAX_LAYERS];
} trace;

static void trace_cb(void *user, int layer, const uint8_t *packed, const int32_t *pot, size_t count)
{
    trace *t = user;
    t->n[layer] = count;
    if (packed)
        for (size_t i = 0; i < count; i++)
            t->lv[layer][i] = (uint8_t)qsnn_snn_nibble_u4(packed, i);
    (void)pot;
}

/* qsnn_snn_run_mt with T workers (T - 1 threads started here, worker 0 on this thread) */
typedef struct {
    qsnn_snn_ctx *ctx;
    int tid;
    const uint8_t *x;
    qsnn_status st;
} mt_job;

static void *mt_worker(void *arg)
{
    mt_job *j = arg;
    j->st = qsnn_snn_run_mt(j->ctx, j->tid, j->x, NULL, NULL);
    return NULL;
}

static void run_mt_all(qsnn_snn_ctx *ctx, int T, const uint8_t *x, int32_t *pot, int32_t *pred)
{
    pthread_t th[QSNN_SNN_MAX_THREADS];
    mt_job job[QSNN_SNN_MAX_THREADS];
    for (int t = 1; t < T; t++) {
        job[t] = (mt_job){ctx, t, x, QSNN_OK};
        assert_int_equal(pthread_create(&th[t], NULL, mt_worker, &job[t]), 0);
    }
    assert_int_equal(qsnn_snn_run_mt(ctx, 0, x, pot, pred), QSNN_OK);
    for (int t = 1; t < T; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(job[t].st, QSNN_OK);
    }
}

static void check_paths_agree(const qsnn_snn_model *m, qsnn_rng *rng, int samples)
{
    /* contexts: dense, event, ref, then dense (k = 3) and event (k = 4) with the weight cache, all traced by a
     * callback (packed maps); then cached dense, event, ref without a callback (k = 5, 6, 7: byte maps between
     * layers), compared on the potentials */
    enum { NK = 8, NT = 5 };
    size_t ms = qsnn_snn_mem_size(m), msc = qsnn_snn_mem_size_cached(m);
    assert_true(msc >= ms);
    void *mem[NK];
    qsnn_snn_ctx *ctx[NK];
    trace tr[NK];
    for (int k = 0; k < NK; k++) {
        mem[k] = malloc(k >= 3 ? msc : ms);
        assert_int_equal(qsnn_snn_init(&ctx[k], m, mem[k], k >= 3 ? msc : ms), QSNN_OK);
        qsnn_snn_set_mode(ctx[k], k >= 5 ? (qsnn_snn_mode)(k - 5)
                                  : k == 3 ? QSNN_SNN_DENSE : k == 4 ? QSNN_SNN_EVENT : (qsnn_snn_mode)k);
        memset(&tr[k], 0, sizeof tr[k]);
        for (int l = 0; l < m->num_layers; l++) {
            const qsnn_snn_layer *L = &m->layers[l];
            tr[k].lv[l] = calloc((size_t)L->out_h * L->out_w * L->out_c, 1);
        }
        if (k < NT)
            qsnn_snn_set_callback(ctx[k], trace_cb, &tr[k]);
    }
    size_t in_n = (size_t)m->in_h * m->in_w * m->in_c;
    uint8_t *x = malloc(in_n);
    int32_t pot[NK][QSNN_SNN_MAX_CLASSES];
    int32_t pred[NK];
    /* one clip on 2 and on 3 workers (qsnn_snn_run_mt) */
    void *mem_mt[2];
    qsnn_snn_ctx *ctx_mt[2];
    for (int k = 0; k < 2; k++) {
        size_t n = qsnn_snn_mem_size_mt(m, 2 + k);
        assert_true(n > msc);
        mem_mt[k] = malloc(n);
        assert_int_equal(qsnn_snn_init_mt(&ctx_mt[k], m, mem_mt[k], n, 2 + k), QSNN_OK);
    }
    assert_int_equal(qsnn_snn_init_mt(&ctx_mt[0], m, mem_mt[0], qsnn_snn_mem_size_mt(m, 2) - 1, 2), QSNN_ERR_ARG);
    assert_int_equal(qsnn_snn_init_mt(&ctx_mt[0], m, mem_mt[0], qsnn_snn_mem_size_mt(m, 2), 2), QSNN_OK);
    size_t fired = 0, total = 0;
    for (int s = 0; s < samples; s++) {
        double density = qsnn_rng_uniform(rng);
        for (size_t i = 0; i < in_n; i++)
            x[i] = qsnn_rng_uniform(rng) < density ? (uint8_t)qsnn_rng_below(rng, 256) : 0;
        for (int k = 0; k < NK; k++)
            assert_int_equal(qsnn_snn_run(ctx[k], x, pot[k], &pred[k], NULL), QSNN_OK);
        for (int l = 0; l + 1 < m->num_layers; l++) {
            for (size_t i = 0; i < tr[0].n[l]; i++) {
                if (tr[0].lv[l][i] != tr[1].lv[l][i] || tr[0].lv[l][i] != tr[2].lv[l][i] ||
                    tr[0].lv[l][i] != tr[3].lv[l][i] || tr[0].lv[l][i] != tr[4].lv[l][i])
                    fail_msg("layer %d value %zu: dense %d event %d ref %d cached dense %d event %d", l, i,
                             tr[0].lv[l][i], tr[1].lv[l][i], tr[2].lv[l][i], tr[3].lv[l][i], tr[4].lv[l][i]);
                fired += tr[0].lv[l][i] != 0;
                total++;
            }
        }
        assert_memory_equal(pot[0], pot[1], 4 * (size_t)m->num_classes);
        assert_memory_equal(pot[0], pot[2], 4 * (size_t)m->num_classes);
        assert_memory_equal(pot[0], pot[3], 4 * (size_t)m->num_classes);
        for (int k = 4; k < NK; k++) {
            assert_memory_equal(pot[0], pot[k], 4 * (size_t)m->num_classes);
            assert_int_equal(pred[0], pred[k]);
        }
        for (int k = 0; k < 2; k++) {
            int32_t pm[QSNN_SNN_MAX_CLASSES], prm = -1;
            memset(pm, 0x55, sizeof pm);
            run_mt_all(ctx_mt[k], 2 + k, x, pm, &prm);
            assert_memory_equal(pot[0], pm, 4 * (size_t)m->num_classes);
            assert_int_equal(pred[0], prm);
        }
        assert_int_equal(pred[0], pred[1]);
        assert_int_equal(pred[0], qsnn_snn_argmax_s32(pot[0], m->num_classes));
    }
    /* the comparison must not be vacuous: some but not all neurons fire */
    assert_true(fired > total / 50);
    assert_true(fired < total);
    free(x);
    free(mem_mt[0]);
    free(mem_mt[1]);
    for (int k = 0; k < NK; k++) {
        for (int l = 0; l < m->num_layers; l++)
            free(tr[k].lv[l]);
        free(mem[k]);
    }
}

static void test_paths_agree_random_models(void **state)
{
    (void)state;
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 2024);
    for (int trial = 0; trial < 24; trial++) {
        rand_model r;
        memset(&r, 0, sizeof r);
        r.b.in_h = (int)qsnn_rng_range(&rng, 5, 20);
        r.b.in_w = (int)qsnn_rng_range(&rng, 3, 12);
        r.b.in_c = (int)qsnn_rng_range(&rng, 1, 4);
        r.b.scale_min = -1;
        r.b.scale_max = 1;
        r.b.input_scale = 255;
        int classes = (int)qsnn_rng_range(&rng, 2, 13);
        r.b.num_classes = classes;
        int k0 = (int)qsnn_rng_range(&rng, 1, 8), s0 = (int)qsnn_rng_range(&rng, 1, 4);
        int same = trial % 5 != 0;
        if (!same && (k0 > r.b.in_w || k0 > r.b.in_h))
            k0 = 1;
        int act = (int[]){1, 2, 3, 4}[trial % 4];
        add_layer(&r, &rng, QSNN_SNN_INPUT_CONV, (int)qsnn_rng_range(&rng, 1, 20), k0, s0, same, 0,
                  (int)qsnn_rng_range(&rng, 2, 9), act);
        int nmid = (int)qsnn_rng_range(&rng, 0, 3);
        for (int i = 0; i < nmid; i++) {
            int type = qsnn_rng_below(&rng, 3) ? QSNN_SNN_SEPARABLE : QSNN_SNN_CONV;
            int k = (int)qsnn_rng_range(&rng, 1, 6), st = (int)qsnn_rng_range(&rng, 1, 3);
            add_layer(&r, &rng, type, (int)qsnn_rng_range(&rng, 1, 40), k, st, 1, 0, (int)qsnn_rng_range(&rng, 2, 5),
                      (int)qsnn_rng_range(&rng, 1, 5));
        }
        int ending = trial % 3;
        if (ending == 0) { /* tutorial-like: pooled separable, then a 1x1-input separable without activation */
            add_layer(&r, &rng, QSNN_SNN_SEPARABLE, (int)qsnn_rng_range(&rng, 1, 24), 3, 1, 1, 1, 4, 4);
            add_layer(&r, &rng, QSNN_SNN_SEPARABLE, classes, 3, 1, 1, 0, 4, 0);
        } else if (ending == 1) { /* fully connected head */
            add_layer(&r, &rng, QSNN_SNN_FC, (int)qsnn_rng_range(&rng, 1, 20), 1, 1, 1, 0, 4, 2);
            add_layer(&r, &rng, QSNN_SNN_FC, classes, 1, 1, 1, 0, 3, 0);
        } else { /* pooled convolution as the output */
            add_layer(&r, &rng, QSNN_SNN_CONV, classes, 3, 1, 1, 1, 2, 0);
        }
        unsigned char *img;
        size_t sz;
        qsnn_status st = qsnn_convert_build_image(&r.b, &img, &sz);
        if (st != QSNN_OK)
            fail_msg("trial %d: %s", trial, qsnn_last_error());
        qsnn_snn_model m;
        assert_int_equal(qsnn_snn_model_init(&m, img, sz, "random"), QSNN_OK);
        check_paths_agree(&m, &rng, 6);
        free(img);
        rand_model_free(&r);
    }
}

/* The tutorial's shape: conv_0 5x5/2 8-bit, separable_1..5 (pool on 5), separable_6 without activation. */
static unsigned char *kws_like(qsnn_rng *rng, size_t *sz)
{
    rand_model r;
    memset(&r, 0, sizeof r);
    r.b.in_h = 49;
    r.b.in_w = 10;
    r.b.in_c = 1;
    r.b.num_classes = 12;
    r.b.scale_min = -247;
    r.b.scale_max = 30;
    r.b.input_scale = 255;
    add_layer(&r, rng, QSNN_SNN_INPUT_CONV, 32, 5, 2, 1, 0, 8, 4);
    add_layer(&r, rng, QSNN_SNN_SEPARABLE, 64, 3, 1, 1, 0, 4, 4);
    for (int i = 0; i < 3; i++)
        add_layer(&r, rng, QSNN_SNN_SEPARABLE, 64, 3, 1, 1, 0, 4, 4);
    add_layer(&r, rng, QSNN_SNN_SEPARABLE, 64, 3, 1, 1, 1, 4, 4);
    add_layer(&r, rng, QSNN_SNN_SEPARABLE, 12, 3, 1, 1, 0, 4, 0);
    unsigned char *img;
    qsnn_status st = qsnn_convert_build_image(&r.b, &img, sz);
    rand_model_free(&r);
    if (st != QSNN_OK)
        fail_msg("%s", qsnn_last_error());
    return img;
}

static void test_paths_agree_kws_shape(void **state)
{
    (void)state;
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 99);
    size_t sz;
    unsigned char *img = kws_like(&rng, &sz);
    qsnn_snn_model m;
    assert_int_equal(qsnn_snn_model_init(&m, img, sz, "kws"), QSNN_OK);
    check_paths_agree(&m, &rng, 4);
    free(img);
}

/* ---------------------------------------------------------------- caller memory */

static void test_caller_memory(void **state)
{
    (void)state;
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 5);
    size_t sz;
    unsigned char *img = kws_like(&rng, &sz);
    qsnn_snn_model m;
    assert_int_equal(qsnn_snn_model_init(&m, img, sz, "kws"), QSNN_OK);
    size_t need = qsnn_snn_mem_size(&m);
    assert_true(need > qsnn_snn_act_mem_size(&m));
    /* the tutorial model's workspace fits 16 KiB */
    assert_true(need <= 16384);
    unsigned char *mem = malloc(need + 256);
    memset(mem, 0xA5, need + 256);
    qsnn_snn_ctx *ctx;
    assert_int_equal(qsnn_snn_init(&ctx, &m, mem, need - 1), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "workspace"));
    assert_int_equal(qsnn_snn_init(&ctx, &m, mem, need), QSNN_OK);
    uint8_t x[490];
    for (int i = 0; i < 490; i++)
        x[i] = (uint8_t)qsnn_rng_below(&rng, 256);
    int32_t pa[12], pb[12], pred;
    for (int mode = 0; mode < 3; mode++) {
        qsnn_snn_set_mode(ctx, (qsnn_snn_mode)mode);
        assert_int_equal(qsnn_snn_run(ctx, x, mode ? pb : pa, &pred, NULL), QSNN_OK);
        if (mode)
            assert_memory_equal(pa, pb, sizeof pa);
    }
    for (int i = 0; i < 256; i++)
        assert_int_equal(mem[need + (size_t)i], 0xA5); /* nothing written past the workspace */
    /* batch API == single-clip API */
    uint8_t xb[3 * 490];
    for (int i = 0; i < 3 * 490; i++)
        xb[i] = (uint8_t)qsnn_rng_below(&rng, 256);
    int32_t potb[36], predb[3];
    qsnn_snn_set_mode(ctx, QSNN_SNN_DENSE);
    assert_int_equal(qsnn_snn_run_batch(ctx, xb, 3, potb, predb, NULL), QSNN_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(qsnn_snn_run(ctx, xb + 490 * i, pa, &pred, NULL), QSNN_OK);
        assert_memory_equal(pa, potb + 12 * i, sizeof pa);
        assert_int_equal(pred, predb[i]);
    }
    free(mem);
    free(img);
}

/* The engine library must not reference any allocator: inspect its undefined symbols, object by object. The one
 * exception is its file loader (snn_load.c: qsnn_snn_load returns the image it read in memory the caller frees). */
static void test_engine_has_no_allocator(void **state)
{
    (void)state;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "nm -u -A %s/libqsnn_snn.a 2>/dev/null | grep -v ':snn_load\\.c\\.o:'",
             QSNN_BINARY_DIR);
    FILE *p = popen(cmd, "r");
    if (!p)
        skip();
    char line[512];
    int lines = 0, bad = 0;
    while (fgets(line, sizeof line, p)) {
        lines++;
        const char *sym = strrchr(line, ' ');
        sym = sym ? sym + 1 : line;
        if (!strncmp(sym, "malloc", 6) || !strncmp(sym, "calloc", 6) || !strncmp(sym, "realloc", 7) ||
            !strncmp(sym, "free\n", 5) || !strncmp(sym, "aligned_alloc", 13))
            bad++, fprintf(stderr, "allocator reference in the engine: %s", line);
    }
    int rc = pclose(p);
    if (rc != 0 || lines == 0)
        skip(); /* nm unavailable */
    assert_int_equal(bad, 0);
}

/* ---------------------------------------------------------------- files */

static void test_file_round_trip_and_corruption(void **state)
{
    (void)state;
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 3);
    size_t sz;
    unsigned char *img = kws_like(&rng, &sz);
    assert_int_equal(qsnn_crc32(0, "123456789", 9), 0xCBF43926u); /* zlib's check value */
    char path[256];
    snprintf(path, sizeof path, "%s/test_snn_%ld.snn", QSNN_BINARY_DIR, (long)getpid());
    assert_int_equal(qsnn_snn_save(path, img, sz), QSNN_OK);
    assert_int_equal(qsnn_file_kind_of(path), QSNN_FILE_SNN);
    qsnn_snn_model m;
    unsigned char *back;
    assert_int_equal(qsnn_snn_load(path, &m, &back), QSNN_OK);
    assert_int_equal(m.size, sz);
    assert_memory_equal(back, img, sz);
    assert_int_equal(m.num_layers, 7);
    assert_string_equal(m.layers[6].name, "layer_6");
    free(back);

    unsigned char *bad = malloc(sz);
    /* one flipped bit anywhere after the header: checksum */
    memcpy(bad, img, sz);
    bad[sz / 2] ^= 0x10;
    assert_int_equal(qsnn_snn_model_init(&m, bad, sz, "x.snn"), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "checksum"));
    /* truncated */
    assert_int_equal(qsnn_snn_model_init(&m, img, sz - 5, "x.snn"), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "truncated"));
    assert_int_equal(qsnn_snn_model_init(&m, img, 10, "x.snn"), QSNN_ERR_FORMAT);
    /* magic / version */
    memcpy(bad, img, sz);
    bad[0] = 'X';
    assert_int_equal(qsnn_snn_model_init(&m, bad, sz, "x.snn"), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "magic"));
    memcpy(bad, img, sz);
    bad[8] = 9;
    assert_int_equal(qsnn_snn_model_init(&m, bad, sz, "x.snn"), QSNN_ERR_UNSUPPORTED);
    /* a field corrupted with a valid checksum: the validator names the layer and field */
    memcpy(bad, img, sz);
    qsnn_snn_layer *rec = (qsnn_snn_layer *)(void *)(bad + QSNN_SNN_HEADER_SIZE + 2 * QSNN_SNN_RECORD_SIZE);
    rec->kh = 4;
    bad[20] = bad[21] = bad[22] = bad[23] = 0;
    uint32_t crc = qsnn_crc32(0, bad, sz);
    qsnn_put_u32le(bad + 20, crc);
    assert_int_equal(qsnn_snn_model_init(&m, bad, sz, "x.snn"), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "layer 2 'layer_2'"));
    /* truncated file on disk */
    FILE *fp = fopen(path, "wb");
    fwrite(img, 1, sz - 100, fp);
    fclose(fp);
    assert_int_equal(qsnn_snn_load(path, &m, &back), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), path));
    remove(path);
    assert_int_equal(qsnn_snn_load(path, &m, &back), QSNN_ERR_IO);
    free(bad);
    free(img);
}

/* ---------------------------------------------------------------- hardware rules */

static void test_hw_rules(void **state)
{
    (void)state;
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 8);
    size_t sz;
    unsigned char *img = kws_like(&rng, &sz);
    qsnn_snn_model m;
    assert_int_equal(qsnn_snn_model_init(&m, img, sz, "kws"), QSNN_OK);
    char why[512];
    for (int l = 0; l < m.num_layers; l++) {
        int n = qsnn_convert_hw_check(&m, l, why, sizeof why);
        if (n)
            fail_msg("layer %d: %s", l, why);
    }
    free(img);
    /* a model breaking rules: 2-channel input conv with 4-bit weights and a 4x4 kernel; separable with stride 2
     * and 8-bit weights; FC after 4-bit activations */
    rand_model r;
    memset(&r, 0, sizeof r);
    r.b.in_h = 12;
    r.b.in_w = 8;
    r.b.in_c = 2;
    r.b.num_classes = 3;
    r.b.scale_min = 0;
    r.b.scale_max = 1;
    r.b.input_scale = 255;
    add_layer(&r, &rng, QSNN_SNN_INPUT_CONV, 8, 4, 1, 1, 0, 4, 4);
    add_layer(&r, &rng, QSNN_SNN_SEPARABLE, 16, 3, 2, 1, 0, 8, 4);
    add_layer(&r, &rng, QSNN_SNN_FC, 3, 1, 1, 1, 0, 4, 0);
    assert_int_equal(qsnn_convert_build_image(&r.b, &img, &sz), QSNN_OK);
    assert_int_equal(qsnn_snn_model_init(&m, img, sz, "bad"), QSNN_OK);
    assert_int_equal(qsnn_convert_hw_check(&m, 0, why, sizeof why), 3);
    assert_non_null(strstr(why, "1 or 3 input channels"));
    assert_non_null(strstr(why, "8-bit weights"));
    assert_non_null(strstr(why, "kernel must be 3x3, 5x5 or 7x7"));
    assert_int_equal(qsnn_convert_hw_check(&m, 1, why, sizeof why), 2);
    assert_non_null(strstr(why, "stride must be 1"));
    assert_non_null(strstr(why, "2 or 4-bit weights"));
    assert_int_equal(qsnn_convert_hw_check(&m, 2, why, sizeof why), 1);
    assert_non_null(strstr(why, "1- or 2-bit input spikes"));
    /* the model still runs in software */
    size_t ms = qsnn_snn_mem_size(&m);
    void *mem = malloc(ms);
    qsnn_snn_ctx *ctx;
    assert_int_equal(qsnn_snn_init(&ctx, &m, mem, ms), QSNN_OK);
    uint8_t x[12 * 8 * 2] = {0};
    int32_t pred = -1;
    assert_int_equal(qsnn_snn_run(ctx, x, NULL, &pred, NULL), QSNN_OK);
    assert_true(pred >= 0 && pred < 3);
    free(mem);
    free(img);
    rand_model_free(&r);
}

/* ---------------------------------------------------------------- statistics */

/* Hand-computed: input 2x2x1 -> input conv 1x1, 2 filters, weights {1, -1}, T = 0, S = 1 (f = 0), 4-bit
 * -> separable 3x3 same on 2x2x2, global pool, 4 filters, act -> separable 1x1 -> 2 classes. */
static void test_stats_hand_computed(void **state)
{
    (void)state;
    qsnn_convert_build b;
    memset(&b, 0, sizeof b);
    b.in_h = 2;
    b.in_w = 2;
    b.in_c = 1;
    b.num_classes = 2;
    b.scale_min = 0;
    b.scale_max = 1;
    b.input_scale = 255;
    b.num_layers = 3;
    static const int8_t w0[2] = {1, -1};
    static const int32_t th0[4] = {0, 0, 1, 1};
    qsnn_snn_layer *r = &b.layers[0].rec;
    snprintf(r->name, sizeof r->name, "conv_0");
    qsnn_convert_layer_shape(r, QSNN_SNN_INPUT_CONV, 2, 2, 1, 2, 1, 1, 1, 1, 1, 0);
    r->weight_bits = 8;
    r->in_bits = 8;
    r->act_bits = 4;
    b.layers[0].w = w0;
    b.layers[0].th_t = th0;
    b.layers[0].th_s = th0 + 2;
    static int8_t dw1[18], pw1[8];
    static const int32_t th1[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    for (int i = 0; i < 18; i++)
        dw1[i] = 1;
    for (int i = 0; i < 8; i++)
        pw1[i] = 1;
    r = &b.layers[1].rec;
    snprintf(r->name, sizeof r->name, "separable_1");
    qsnn_convert_layer_shape(r, QSNN_SNN_SEPARABLE, 2, 2, 2, 4, 3, 3, 1, 1, 1, 1);
    r->weight_bits = 4;
    r->in_bits = 4;
    r->act_bits = 4;
    b.layers[1].w = pw1;
    b.layers[1].dw = dw1;
    b.layers[1].th_t = th1;
    b.layers[1].th_s = th1 + 4;
    static int8_t dw2[36], pw2[8];
    for (int i = 0; i < 36; i++)
        dw2[i] = 1;
    for (int i = 0; i < 8; i++)
        pw2[i] = (int8_t)(i % 2 ? -1 : 1);
    r = &b.layers[2].rec;
    snprintf(r->name, sizeof r->name, "separable_2");
    qsnn_convert_layer_shape(r, QSNN_SNN_SEPARABLE, 1, 1, 4, 2, 3, 3, 1, 1, 1, 0);
    r->weight_bits = 4;
    r->in_bits = 4;
    r->act_bits = 0;
    b.layers[2].w = pw2;
    b.layers[2].dw = dw2;
    unsigned char *img;
    size_t sz;
    assert_int_equal(qsnn_convert_build_image(&b, &img, &sz), QSNN_OK);
    qsnn_snn_model m;
    assert_int_equal(qsnn_snn_model_init(&m, img, sz, "tiny"), QSNN_OK);
    size_t ms = qsnn_snn_mem_size(&m);
    void *mem = malloc(ms);
    qsnn_snn_ctx *ctx;
    assert_int_equal(qsnn_snn_init(&ctx, &m, mem, ms), QSNN_OK);
    qsnn_snn_stats st;
    memset(&st, 0, sizeof st);
    /* sample 1: x = {3, 0, 0, 0}: conv_0 out (1 filter +3 -> level 3, -3 -> 0): 1 of 8 non-zero.
     * separable_1: 1 event; dw potential 3 on channel 0 everywhere (3x3 same on 2x2 reaches every output);
     * pointwise: each of 4 filters gets 3 per position, pooled over 4 positions: 12 -> level min(12, 15) = 12.
     * 4 of 4 outputs non-zero. separable_2: 4 events, potentials (4*12 - 4*12) = 0 for both classes. */
    uint8_t x1[4] = {3, 0, 0, 0}, x2[4] = {0, 0, 0, 0};
    int32_t pot[2], pred;
    assert_int_equal(qsnn_snn_run(ctx, x1, pot, &pred, &st), QSNN_OK);
    assert_int_equal(pot[0], 48);
    assert_int_equal(pot[1], -48);
    assert_int_equal(pred, 0);
    /* sample 2: all zero: nothing fires */
    assert_int_equal(qsnn_snn_run(ctx, x2, pot, &pred, &st), QSNN_OK);
    assert_int_equal(st.samples, 2);
    assert_int_equal(st.in_nnz[1], 1);
    assert_int_equal(st.out_nnz[1], 4);
    assert_int_equal(st.in_nnz[2], 4);
    qsnn_snn_layer_stats ls;
    qsnn_snn_stats_layer(&m, &st, 0, &ls);
    assert_false(ls.has_input);
    assert_true(fabs(ls.out_sparsity - (1.0 - 0.5 / 8.0)) < 1e-12);
    qsnn_snn_stats_layer(&m, &st, 1, &ls);
    assert_true(ls.has_input);
    assert_true(fabs(ls.in_sparsity - (1.0 - 0.5 / 8.0)) < 1e-12);
    assert_true(fabs(ls.out_sparsity - (1.0 - 2.0 / 4.0)) < 1e-12);
    assert_true(fabs(ls.ops - 0.5 * 9 * (1 + 4)) < 1e-12); /* 0.5 events/sample x kw*kh*(1+F) */
    qsnn_snn_stats_layer(&m, &st, 2, &ls);
    assert_true(fabs(ls.ops - 2.0 * 9 * (1 + 2)) < 1e-12);
    assert_true(ls.out_sparsity == 0.0); /* activations disabled: Akida prints 0.00 */
    free(mem);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fire_counter_example),
        cmocka_unit_test(test_fire_fast_equals_ref),
        cmocka_unit_test(test_gemv_fast_equals_ref),
        cmocka_unit_test(test_gemv_u8_s8_fast_equals_ref),
        cmocka_unit_test(test_paths_agree_random_models),
        cmocka_unit_test(test_paths_agree_kws_shape),
        cmocka_unit_test(test_caller_memory),
        cmocka_unit_test(test_engine_has_no_allocator),
        cmocka_unit_test(test_file_round_trip_and_corruption),
        cmocka_unit_test(test_hw_rules),
        cmocka_unit_test(test_stats_hand_computed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
