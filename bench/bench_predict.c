/* SPDX-License-Identifier: Apache-2.0 */
/* bench_predict.c: cost of the float model's evaluation forward in its two precisions (qsnn_model_predict_prec),
 * e.g. the trainer's per-epoch validation (709 clips on the real subset).
 *
 *   bench_predict [MODEL.qsnn] [--clips N] [--reps R]
 *
 * Model: a .qsnn file, or by default the tutorial's mobilenet_kws with random (Keras init) weights, quantized
 * weights and activations. Inputs: N random uint8 clips (fixed seed, default 709). Reports, per precision, the
 * best of R timings (default 5) of one qsnn_model_predict_prec call on all N clips with OpenMP's default
 * thread count, and how many classes the two precisions share.
 */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/model.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    size_t n = 709;
    int reps = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--clips") && i + 1 < argc)
            n = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (argv[i][0] != '-')
            path = argv[i];
        else {
            fprintf(stderr, "usage: bench_predict [MODEL.qsnn] [--clips N] [--reps R]\n");
            return 2;
        }
    }
    if (n == 0 || reps < 1) {
        fprintf(stderr, "bench_predict: --clips and --reps must be positive\n");
        return 2;
    }
    qsnn_model m;
    qsnn_status st;
    if (path) {
        st = qsnn_model_load(&m, path);
    } else {
        qsnn_arch a;
        st = qsnn_arch_builtin(&a, "mobilenet_kws");
        if (st == QSNN_OK)
            st = qsnn_model_init(&m, &a, 1);
        m.quant_acts = m.quant_weights = 1;
    }
    if (st != QSNN_OK) {
        fprintf(stderr, "bench_predict: %s\n", qsnn_last_error());
        return 1;
    }
    size_t in = qsnn_shape_count(m.arch.input);
    uint8_t *x = malloc(n * in);
    int32_t *p64 = malloc(n * sizeof *p64), *p32 = malloc(n * sizeof *p32);
    if (!x || !p64 || !p32) {
        fprintf(stderr, "bench_predict: out of memory\n");
        return 1;
    }
    qsnn_rng rng;
    qsnn_rng_seed(&rng, 5);
    for (size_t i = 0; i < n * in; i++)
        x[i] = (uint8_t)(qsnn_rng_uniform(&rng) * 256.0);
    printf("bench_predict: %s, %zu clips, %d threads, best of %d\n", path ? path : "random mobilenet_kws", n,
           omp_get_max_threads(), reps);
    const char *names[2] = {"f64 (default)", "f32"};
    qsnn_precision precs[2] = {QSNN_PREC_F64, QSNN_PREC_F32};
    int32_t *outs[2] = {p64, p32};
    for (int k = 0; k < 2; k++) {
        double best = 1e30;
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            st = qsnn_model_predict_prec(&m, x, n, NULL, outs[k], precs[k]);
            double t = now() - t0;
            if (st != QSNN_OK) {
                fprintf(stderr, "bench_predict: %s\n", qsnn_last_error());
                return 1;
            }
            best = t < best ? t : best;
        }
        printf("%-14s %8.1f ms per call  %8.0f clips/s\n", names[k], 1e3 * best, (double)n / best);
    }
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        same += p64[i] == p32[i];
    printf("same class in both precisions: %zu / %zu\n", same, n);
    free(x);
    free(p64);
    free(p32);
    qsnn_model_free(&m);
    return 0;
}
