/* SPDX-License-Identifier: Apache-2.0 */
/* bench_snn.c: speed and memory of the integer engine, and the machine's arithmetic limit.
 *
 *   bench_snn [MODEL.snn | MODEL.qsnn] [--calls N] [--clips N] [--json]
 *
 * Model: a .snn file, a .qsnn model (converted here), or by default the tutorial's mobilenet_kws shape with random
 * 8/4-bit weights and random thresholds (the dense path's cost does not depend on the values; the event path's
 * does, through sparsity). Inputs: random smooth uint8 clips (fixed seed).
 * Figures (one thread, this process pinned to nothing; run on an idle machine):
 *   - single-clip latency: median (and p90) of --calls calls of qsnn_snn_run per mode after a warm-up;
 *   - clips/s/core: --clips clips through qsnn_snn_run_batch on one thread;
 *   - dense_2t: the same clips, each on two workers (qsnn_snn_run_mt: this thread and a second one that spins
 *     between clips); clips/s is per core (half the pair's rate);
 *   - dense MACs per clip: every multiply-accumulate of a dense evaluation (conv: HWo*kh*kw*Cin*F; separable:
 *     HWo*(kh*kw*Cin + Cin*F); FC: In*F) = 2.73 M for mobilenet_kws;
 *   - arithmetic limit: measured peak of a loop of 6 independent AVX2 vpmaddwd+vpaddd chains (16 int16 MACs per
 *     instruction, the engine's inner operation) and of 12 independent FMA chains (8 float32 MACs each, what a
 *     float engine such as PyTorch uses), best of 400 short repetitions (so that a repetition without
 *     preemption is likely even on a loaded machine), and the engine's own gemv kernel on an L1-resident 64x64
 *     problem; the int16 peak is the larger of the two; limit time = dense MACs / peak rate; ratio = latency /
 *     limit time;
 *   - model bytes (the .snn image; the engine reads it in place), workspace bytes (qsnn_snn_mem_size) and its
 *     activation part (qsnn_snn_act_mem_size).
 */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/convert.h"
#include "qsnn/data.h"
#include "qsnn/io.h"
#include "qsnn/model.h"
#include "qsnn/simd.h"
#include "qsnn/snn.h"
#include "snn/kernels_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if QSNN_SIMD_X86
#include <immintrin.h>
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- peak arithmetic ---- */

static volatile int g_sink;

/* the peaks are those of the AVX2 instructions: 0 where the AVX2 kernels do not run (qsnn/simd.h) */
QSNN_AVX2_BEGIN

static double peak_int16_macs_per_s(void)
{
#if QSNN_SIMD_X86
    if (!qsnn_simd_avx2())
        return 0;
    /* 6 independent accumulators (no spills), each += vpmaddwd(broadcast pair, 16 int16 weights from L1), the engine's
     * inner operation; the broadcast is re-materialised every iteration (empty asm) so nothing is hoisted */
    static int16_t wb[6][16];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 16; j++)
            wb[i][j] = (int16_t)(i + j);
    __m256i a = _mm256_set1_epi32(0x00030005), c[6];
    for (int i = 0; i < 6; i++)
        c[i] = _mm256_set1_epi32(i);
    long iters = 20000; /* short repetitions, best of many: robust to preemption on a shared machine */
    double best = 0;
    for (int rep = 0; rep < 400; rep++) {
        double t0 = now();
        for (long k = 0; k < iters; k++) {
            __asm__ volatile("" : "+x"(a));
            for (int i = 0; i < 6; i++)
                c[i] = _mm256_add_epi32(c[i], _mm256_madd_epi16(a, _mm256_loadu_si256((const __m256i *)wb[i])));
        }
        double dt = now() - t0;
        double r = (double)iters * 6 * 16 / dt;
        best = r > best ? r : best;
    }
    int s = 0;
    for (int i = 0; i < 6; i++)
        s += _mm256_extract_epi32(c[i], 0);
    g_sink = s;
    return best;
#else
    return 0;
#endif
}

/* The same for the uint8 x int8 pointwise pass: vpmaddubsw (32 MACs into int16 pairs) + vpaddw, 6 accumulators. */
static double peak_u8_macs_per_s(void)
{
#if QSNN_SIMD_X86
    if (!qsnn_simd_avx2())
        return 0;
    static int8_t wb[6][32];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 32; j++)
            wb[i][j] = (int8_t)((i + j) % 7 - 3);
    __m256i a = _mm256_set1_epi32(0x03050709), c[6];
    for (int i = 0; i < 6; i++)
        c[i] = _mm256_set1_epi16((short)i);
    long iters = 20000;
    double best = 0;
    for (int rep = 0; rep < 400; rep++) {
        double t0 = now();
        for (long k = 0; k < iters; k++) {
            __asm__ volatile("" : "+x"(a));
            for (int i = 0; i < 6; i++)
                c[i] = _mm256_add_epi16(c[i], _mm256_maddubs_epi16(a, _mm256_loadu_si256((const __m256i *)wb[i])));
        }
        double dt = now() - t0;
        double r = (double)iters * 6 * 32 / dt;
        best = r > best ? r : best;
    }
    int s = 0;
    for (int i = 0; i < 6; i++)
        s += _mm256_extract_epi16(c[i], 0);
    g_sink = s;
    return best;
#else
    return 0;
#endif
}

static double peak_f32_fma_per_s(void)
{
#if QSNN_SIMD_X86
    if (!qsnn_simd_avx2())
        return 0;
    __m256 a = _mm256_set1_ps(1.0000001f), b = _mm256_set1_ps(0.9999999f);
    __m256 c[12];
    for (int i = 0; i < 12; i++)
        c[i] = _mm256_set1_ps((float)i);
    long iters = 20000;
    double best = 0;
    for (int rep = 0; rep < 400; rep++) {
        double t0 = now();
        for (long k = 0; k < iters; k++) {
            for (int i = 0; i < 12; i++)
                c[i] = _mm256_fmadd_ps(a, c[i], b);
            __asm__ volatile("" : "+x"(a), "+x"(b));
        }
        double dt = now() - t0;
        double r = (double)iters * 12 * 8 / dt;
        best = r > best ? r : best;
    }
    float s = 0;
    for (int i = 0; i < 12; i++)
        s += _mm256_cvtss_f32(c[i]);
    g_sink = (int)s;
    return best;
#else
    return 0;
#endif
}
QSNN_AVX2_END

/* The engine's own int16 GEMV on an L1-resident 64 x 64 problem (its sustained MAC rate). */
static double kernel_int16_macs_per_s(void)
{
    static int16_t a[64], w[64 * 64];
    static int32_t acc[64];
    for (int i = 0; i < 64; i++)
        a[i] = (int16_t)i;
    for (int i = 0; i < 64 * 64; i++)
        w[i] = (int16_t)(i % 13 - 6);
    double best = 0;
    for (int rep = 0; rep < 400; rep++) {
        double t0 = now();
        for (int k = 0; k < 200; k++)
            qsnn_snn_gemv_s16_s16(acc, a, w, 32, 64);
        double r = 4096.0 * 200 / (now() - t0);
        best = r > best ? r : best;
    }
    g_sink = acc[5];
    return best;
}

/* ---- model ---- */

static void rand_w(int8_t *w, size_t n, int bits, unsigned *seed)
{
    int kmax = (1 << (bits - 1)) - 1;
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        w[i] = (int8_t)((int)((*seed >> 16) % (unsigned)(2 * kmax + 1)) - kmax);
    }
}

static unsigned char *random_kws(size_t *sz)
{
    static int8_t w[7][4096], dw[7][576];
    static int32_t th[7][128];
    qsnn_convert_build b;
    memset(&b, 0, sizeof b);
    b.in_h = 49;
    b.in_w = 10;
    b.in_c = 1;
    b.num_classes = 12;
    b.scale_min = -247;
    b.scale_max = 30;
    b.input_scale = 255;
    b.num_layers = 7;
    unsigned seed = 1;
    int h = 49, wd = 10, c = 1;
    for (int l = 0; l < 7; l++) {
        qsnn_snn_layer *r = &b.layers[l].rec;
        snprintf(r->name, sizeof r->name, l ? "separable_%d" : "conv_0", l);
        int F = l == 0 ? 32 : l == 6 ? 12 : 64;
        if (l == 0)
            qsnn_convert_layer_shape(r, QSNN_SNN_INPUT_CONV, h, wd, c, F, 5, 5, 2, 2, 1, 0);
        else
            qsnn_convert_layer_shape(r, QSNN_SNN_SEPARABLE, h, wd, c, F, 3, 3, 1, 1, 1, l == 5);
        r->weight_bits = l ? 4 : 8;
        r->in_bits = l ? 4 : 8;
        r->act_bits = l == 6 ? 0 : 4;
        rand_w(w[l], (size_t)r->out_c * (l ? (size_t)c : 25), r->weight_bits, &seed);
        b.layers[l].w = w[l];
        if (l) {
            rand_w(dw[l], 9 * (size_t)c, 4, &seed);
            b.layers[l].dw = dw[l];
        }
        if (r->act_bits) {
            /* thresholds giving roughly half the neurons firing: T ~ typical potential scale, S ~ T / 8 */
            double typ = l == 0 ? 255.0 * 127 * 2 : 15.0 * 7 * 3 * 7 * sqrt((double)c);
            if (r->pool)
                typ *= 125;
            r->frac_bits = 8;
            for (int j = 0; j < F; j++) {
                th[l][j] = (int32_t)(typ * 0.2 * 256);
                th[l][F + j] = (int32_t)(typ / 10 * 256);
            }
            b.layers[l].th_t = th[l];
            b.layers[l].th_s = th[l] + F;
        }
        h = r->out_h;
        wd = r->out_w;
        c = r->out_c;
    }
    unsigned char *img;
    if (qsnn_convert_build_image(&b, &img, sz) != QSNN_OK) {
        fprintf(stderr, "bench_snn: %s\n", qsnn_last_error());
        exit(1);
    }
    return img;
}

static double dense_macs(const qsnn_snn_model *m)
{
    double t = 0;
    for (int i = 0; i < m->num_layers; i++) {
        const qsnn_snn_layer *l = &m->layers[i];
        double hw = (double)l->conv_h * l->conv_w, kk = (double)l->kh * l->kw;
        if (l->type == QSNN_SNN_SEPARABLE)
            t += hw * (kk * l->in_c + (double)l->in_c * l->out_c);
        else if (l->type == QSNN_SNN_FC)
            t += (double)l->in_h * l->in_w * l->in_c * l->out_c;
        else
            t += hw * kk * l->in_c * l->out_c;
    }
    return t;
}

/* A second worker for qsnn_snn_run_mt, kept spinning between clips (what a latency-bound caller would do):
 * post() hands it the clip, wait() returns when it has left the engine. */
typedef struct {
    qsnn_snn_ctx *ctx;
    const uint8_t *x;
    atomic_int go, done, quit;
} mt_worker;

static void *mt_loop(void *arg)
{
    mt_worker *w = arg;
    int seen = 0;
    while (!atomic_load_explicit(&w->quit, memory_order_acquire)) {
        int g = atomic_load_explicit(&w->go, memory_order_acquire);
        if (g == seen) {
#if QSNN_SIMD_X86
            _mm_pause();
#endif
            continue;
        }
        seen = g;
        qsnn_snn_run_mt(w->ctx, 1, w->x, NULL, NULL);
        atomic_store_explicit(&w->done, g, memory_order_release);
    }
    return NULL;
}

static void run_2t(mt_worker *w, const uint8_t *x, int32_t *pred)
{
    w->x = x;
    int g = atomic_load_explicit(&w->go, memory_order_relaxed) + 1;
    atomic_store_explicit(&w->go, g, memory_order_release);
    qsnn_snn_run_mt(w->ctx, 0, x, NULL, pred);
    while (atomic_load_explicit(&w->done, memory_order_acquire) != g) {
#if QSNN_SIMD_X86
        _mm_pause();
#endif
    }
}

int main(int argc, char **argv)
{
    const char *path = NULL, *data = NULL;
    int calls = 3000, clips = 5000, json = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (!strcmp(argv[i], "--calls") && i + 1 < argc)
            calls = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--clips") && i + 1 < argc)
            clips = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("Usage: bench_snn [MODEL.snn|MODEL.qsnn] [--data DIR|FEATURES] [--calls N] [--clips N] [--json]\n"
                   "                 [--mode dense|dense_cached|event|ref|dense_2t]\n"
                   "  --data: real clips (the test split, scaled with the model's range) instead of random ones\n"
                   "  --mode: time only this path (for profiling; the other rows print 0)\n");
            return 0;
        } else
            path = argv[i];
    }
    if (calls < 10)
        calls = 10;
    if (clips < 10)
        clips = 10;
    unsigned char *img = NULL;
    size_t sz = 0;
    qsnn_snn_model m;
    if (path && qsnn_file_kind_of(path) == QSNN_FILE_SNN) {
        if (qsnn_snn_load(path, &m, &img) != QSNN_OK) {
            fprintf(stderr, "bench_snn: %s\n", qsnn_last_error());
            return 1;
        }
    } else {
        if (path) {
            qsnn_model fm;
            if (qsnn_model_load(&fm, path) != QSNN_OK || qsnn_convert_model(&fm, &img, &sz, NULL) != QSNN_OK) {
                fprintf(stderr, "bench_snn: %s\n", qsnn_last_error());
                return 1;
            }
            qsnn_model_free(&fm);
        } else {
            img = random_kws(&sz);
        }
        if (qsnn_snn_model_init(&m, img, sz, "bench") != QSNN_OK) {
            fprintf(stderr, "bench_snn: %s\n", qsnn_last_error());
            return 1;
        }
    }
    size_t in_n = (size_t)m.in_h * m.in_w * m.in_c;
    size_t NX = 64;
    uint8_t *x = NULL;
    if (data) {
        qsnn_data_opts o;
        qsnn_data_default_opts(&o);
        qsnn_featureset fs;
        if (qsnn_data_load_split_u8(data, QSNN_SPLIT_TEST, m.scale_min, m.scale_max, &o, &fs) != QSNN_OK ||
            fs.n == 0 || (size_t)fs.h * (size_t)fs.w != in_n) {
            fprintf(stderr, "bench_snn: %s: %s\n", data, qsnn_last_error());
            return 1;
        }
        NX = fs.n;
        x = malloc(in_n * NX);
        memcpy(x, fs.u8, in_n * NX);
        qsnn_featureset_free(&fs);
    } else {
        x = malloc(in_n * NX);
        unsigned seed = 7;
        for (size_t i = 0; i < in_n * NX; i++) {
            seed = seed * 1103515245u + 12345u;
            x[i] = (uint8_t)((seed >> 16) & 255);
        }
    }
    size_t ms = qsnn_snn_mem_size(&m), msc = qsnn_snn_mem_size_cached(&m);
    void *mem = malloc(ms), *memc = malloc(msc);
    qsnn_snn_ctx *ctx0, *ctxc;
    if (qsnn_snn_init(&ctx0, &m, mem, ms) != QSNN_OK || qsnn_snn_init(&ctxc, &m, memc, msc) != QSNN_OK) {
        fprintf(stderr, "bench_snn: %s\n", qsnn_last_error());
        return 1;
    }
    /* 0: dense in the minimal workspace, 1: dense with the weight cache, 2: event (weight cache), 3: ref,
     * 4: dense with the weight cache, one clip on 2 workers (qsnn_snn_run_mt; clips/s of the pair of cores) */
    enum { NM = 5 };
    const char *mode_name[NM] = {"dense", "dense_cached", "event", "ref", "dense_2t"};
    const qsnn_snn_mode mode_of[NM] = {QSNN_SNN_DENSE, QSNN_SNN_DENSE, QSNN_SNN_EVENT, QSNN_SNN_REF, QSNN_SNN_DENSE};
    if (only && strcmp(only, "dense") && strcmp(only, "dense_cached") && strcmp(only, "event") && strcmp(only, "ref") &&
        strcmp(only, "dense_2t")) {
        fprintf(stderr, "bench_snn: --mode %s: not one of dense, dense_cached, event, ref, dense_2t\n", only);
        return 2;
    }
    size_t ms2 = qsnn_snn_mem_size_mt(&m, 2);
    void *mem2 = malloc(ms2);
    mt_worker w2 = {0};
    if (qsnn_snn_init_mt(&w2.ctx, &m, mem2, ms2, 2) != QSNN_OK) {
        fprintf(stderr, "bench_snn: %s\n", qsnn_last_error());
        return 1;
    }
    double lat_med[NM], lat_p90[NM], lat_min[NM], cps[NM];
    double *t = malloc(sizeof(double) * (size_t)calls);
    int32_t pred;
    int32_t *preds = malloc(sizeof(int32_t) * (size_t)clips);
    uint8_t *xb = malloc(in_n * (size_t)clips);
    for (int i = 0; i < clips; i++)
        memcpy(xb + in_n * (size_t)i, x + in_n * (size_t)(i % NX), in_n);
    for (int mode = 0; mode < NM; mode++) {
        lat_med[mode] = lat_p90[mode] = lat_min[mode] = cps[mode] = 0;
        if (only && strcmp(only, mode_name[mode]))
            continue;
        if (mode == 4) { /* the second worker spins only while this mode runs */
            pthread_t th2;
            if (pthread_create(&th2, NULL, mt_loop, &w2) != 0) {
                fprintf(stderr, "bench_snn: cannot start the second worker\n");
                return 1;
            }
            int nc = calls;
            for (int i = 0; i < 50; i++)
                run_2t(&w2, x + in_n * (size_t)(i % NX), &pred);
            for (int i = 0; i < nc; i++) {
                double t0 = now();
                run_2t(&w2, x + in_n * (size_t)(i % NX), &pred);
                t[i] = now() - t0;
            }
            qsort(t, (size_t)nc, sizeof *t, cmp_d);
            lat_med[mode] = t[nc / 2];
            lat_p90[mode] = t[nc * 9 / 10];
            lat_min[mode] = t[0];
            double t0 = now();
            for (int i = 0; i < clips; i++)
                run_2t(&w2, xb + in_n * (size_t)i, &preds[i]);
            cps[mode] = clips / (now() - t0) / 2; /* per core */
            atomic_store_explicit(&w2.quit, 1, memory_order_release);
            pthread_join(th2, NULL);
            continue;
        }
        qsnn_snn_ctx *ctx = (mode == 1 || mode == 2) ? ctxc : ctx0;
        qsnn_snn_set_mode(ctx, mode_of[mode]);
        int nc = mode < 2 ? calls : calls / 10 + 10;
        if (nc > calls)
            nc = calls;
        for (int i = 0; i < 50; i++)
            qsnn_snn_run(ctx, x + in_n * (size_t)(i % NX), NULL, &pred, NULL);
        for (int i = 0; i < nc; i++) {
            double t0 = now();
            qsnn_snn_run(ctx, x + in_n * (size_t)(i % NX), NULL, &pred, NULL);
            t[i] = now() - t0;
        }
        qsort(t, (size_t)nc, sizeof *t, cmp_d);
        lat_med[mode] = t[nc / 2];
        lat_p90[mode] = t[nc * 9 / 10];
        lat_min[mode] = t[0];
        int nb = mode < 2 ? clips : clips / 10 + 10;
        if (nb > clips)
            nb = clips;
        double t0 = now();
        qsnn_snn_run_batch(ctx, xb, (size_t)nb, NULL, preds, NULL);
        cps[mode] = nb / (now() - t0);
    }
    qsnn_snn_stats st;
    memset(&st, 0, sizeof st);
    qsnn_snn_set_mode(ctxc, QSNN_SNN_DENSE); /* the per-layer times are the cached dense path's */
    for (int i = 0; i < 200; i++)
        qsnn_snn_run(ctxc, x + in_n * (size_t)(i % NX), NULL, &pred, &st);
    double macs = dense_macs(&m);
    double pk_loop = peak_int16_macs_per_s(), pk_kern = kernel_int16_macs_per_s(), pk_f = peak_f32_fma_per_s();
    double pk_i = pk_loop > pk_kern ? pk_loop : pk_kern, pk_u8 = peak_u8_macs_per_s();
    double lim_i = pk_i > 0 ? macs / pk_i : 0, lim_f = pk_f > 0 ? macs / pk_f : 0, lim_u8 = pk_u8 > 0 ? macs / pk_u8 : 0;
    if (json) {
        printf("{\"model_bytes\": %zu, \"workspace_bytes\": %zu, \"workspace_cached_bytes\": %zu, "
               "\"activation_bytes\": %zu, \"dense_macs\": %.0f,\n", m.size, ms, msc, qsnn_snn_act_mem_size(&m), macs);
        printf(" \"peak_int16_macs_per_s\": %.4g, \"int16_loop_macs_per_s\": %.4g, \"int16_kernel_macs_per_s\": %.4g, "
               "\"peak_f32_fma_per_s\": %.4g,\n", pk_i, pk_loop, pk_kern, pk_f);
        printf(" \"peak_u8_macs_per_s\": %.4g, \"limit_us_u8\": %.3f,\n", pk_u8, lim_u8 * 1e6);
        printf(" \"limit_us_int16\": %.3f, \"limit_us_f32\": %.3f,\n", lim_i * 1e6, lim_f * 1e6);
        for (int k = 0; k < NM; k++)
            printf(" \"%s\": {\"latency_median_us\": %.3f, \"latency_p90_us\": %.3f, \"latency_min_us\": %.3f, "
                   "\"clips_per_s_per_core\": %.1f},\n",
                   mode_name[k], lat_med[k] * 1e6, lat_p90[k] * 1e6, lat_min[k] * 1e6, cps[k]);
        printf(" \"layers_us\": [");
        for (int l = 0; l < m.num_layers; l++)
            printf("%s%.3f", l ? ", " : "", (double)st.time_ns[l] / (double)st.samples / 1000.0);
        printf("]}\n");
    } else {
        printf("model: %s, %d layers; inputs: %s (%zu clips)\n", path ? path : "random mobilenet_kws (8/4-bit weights)",
               m.num_layers, data ? data : "random", NX);
        printf("model bytes %zu, workspace bytes %zu (activations %zu), with the weight cache %zu\n", m.size, ms,
               qsnn_snn_act_mem_size(&m), msc);
        printf("dense MACs per clip %.0f\n", macs);
        printf("int16 MAC rate: vpmaddwd loop %.2f G/s, engine gemv kernel (L1) %.2f G/s\n", pk_loop / 1e9, pk_kern / 1e9);
        printf("peak int16 MAC rate (the larger)         %.2f G/s -> limit %.2f us/clip\n", pk_i / 1e9, lim_i * 1e6);
        printf("peak f32 FMA rate (AVX2 FMA loop)        %.2f G/s -> limit %.2f us/clip\n", pk_f / 1e9, lim_f * 1e6);
        printf("peak uint8 x int8 rate (vpmaddubsw loop) %.2f G/s -> limit %.2f us/clip (if every MAC were 8-bit)\n",
               pk_u8 / 1e9, lim_u8 * 1e6);
        for (int k = 0; k < NM; k++)
            printf("%-12s latency median %8.2f us  p90 %8.2f us  min %8.2f us  %9.0f clips/s/core\n", mode_name[k],
                   lat_med[k] * 1e6, lat_p90[k] * 1e6, lat_min[k] * 1e6, cps[k]);
        if (lim_i > 0 && lim_f > 0)
            printf("dense latency / int16 limit = %.2fx, / f32 limit = %.2fx (cached: %.2fx, %.2fx)\n",
                   lat_med[0] / lim_i, lat_med[0] / lim_f, lat_med[1] / lim_i, lat_med[1] / lim_f);
        printf("dense (cached) per layer (us):");
        for (int l = 0; l < m.num_layers; l++)
            printf(" %s %.2f", m.layers[l].name, (double)st.time_ns[l] / (double)st.samples / 1000.0);
        printf("\n");
    }
    free(mem2);
    free(t);
    free(preds);
    free(xb);
    free(x);
    free(mem);
    free(memc);
    free(img);
    return 0;
}
