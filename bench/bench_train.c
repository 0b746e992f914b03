/* SPDX-License-Identifier: Apache-2.0 */
/* bench_train.c: training throughput (samples/s) of mobilenet_kws (or --arch) per episode on 1 and 2 threads:
 * median over timed steps of forward + backward + Adam at batch 100, after warm-up steps; peak RSS (getrusage).
 * Data: the training split of a feature file when one is given, else random uint8 inputs and labels.
 *   bench_train [FEATURES] [--arch NAME|FILE.json] [--steps N] [--threads 1,2] [--batch 100]
 * Prints one line per (episode, threads) and a JSON summary line. */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/qsnn.h"
#include "qsnn/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *feat = NULL, *arch_name = "mobilenet_kws";
    int steps = 30, batch = 100;
    int thr[8] = {1, 2}, nthr = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--arch") && i + 1 < argc)
            arch_name = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            nthr = 0;
            for (char *s = strtok(argv[++i], ","); s && nthr < 8; s = strtok(NULL, ","))
                thr[nthr++] = atoi(s);
        } else if (argv[i][0] != '-')
            feat = argv[i];
        else {
            fprintf(stderr, "usage: bench_train [FEATURES] [--arch NAME|FILE.json] [--steps N] [--threads 1,2]\n");
            return 2;
        }
    }
    if (steps < 3 || batch < 1)
        return 2;
    qsnn_arch a;
    qsnn_status st;
    st = qsnn_arch_load(&a, arch_name);
    if (st != QSNN_OK) {
        fprintf(stderr, "bench_train: %s\n", qsnn_last_error());
        return 1;
    }
    size_t sample = qsnn_shape_count(a.input);
    size_t pool_n = 2000;
    uint8_t *x = NULL;
    int32_t *y = NULL;
    qsnn_featureset fs;
    memset(&fs, 0, sizeof fs);
    if (feat) {
        if (qsnn_featureset_load(&fs, feat) != QSNN_OK) {
            fprintf(stderr, "bench_train: %s\n", qsnn_last_error());
            return 1;
        }
        size_t k = 0;
        pool_n = fs.n;
        x = malloc(pool_n * sample);
        y = malloc(pool_n * sizeof *y);
        for (size_t i = 0; i < fs.n; i++) {
            if (fs.split[i] != QSNN_SPLIT_TRAIN)
                continue;
            if (fs.is_u8)
                memcpy(x + k * sample, fs.u8 + i * sample, sample);
            else
                qsnn_features_to_u8(x + k * sample, fs.f32 + i * sample, sample, fs.scale_min, fs.scale_max);
            y[k++] = fs.label[i] % a.num_classes;
        }
        pool_n = k;
    } else {
        qsnn_rng r;
        qsnn_rng_seed(&r, 7);
        x = malloc(pool_n * sample);
        y = malloc(pool_n * sizeof *y);
        for (size_t i = 0; i < pool_n * sample; i++)
            x[i] = (uint8_t)qsnn_rng_below(&r, 256);
        for (size_t i = 0; i < pool_n; i++)
            y[i] = (int32_t)qsnn_rng_below(&r, (uint64_t)a.num_classes);
    }
    if (pool_n < (size_t)batch) {
        fprintf(stderr, "bench_train: only %zu training samples\n", pool_n);
        return 1;
    }
    printf("bench_train: %s, batch %d, %d timed steps, data: %s\n", a.name, batch, steps,
           feat ? feat : "random");
    char json[2048];
    int jl = snprintf(json, sizeof json, "{\"arch\": \"%s\", \"batch\": %d, \"results\": [", a.name, batch);
    for (int ti = 0; ti < nthr; ti++)
        for (int ep = 1; ep <= 3; ep++) {
            qsnn_model m;
            if (qsnn_model_init(&m, &a, 1) != QSNN_OK)
                return 1;
            m.quant_acts = ep >= 2;
            m.quant_weights = ep >= 3;
            qsnn_trainer *t;
            if (qsnn_trainer_create(&t, &m, batch, thr[ti]) != QSNN_OK) {
                fprintf(stderr, "bench_train: %s\n", qsnn_last_error());
                return 1;
            }
            double *dt = malloc((size_t)steps * sizeof *dt);
            size_t pos = 0;
            for (int s = -3; s < steps; s++) {
                if (pos + (size_t)batch > pool_n)
                    pos = 0;
                double t0 = qsnn_time_now(), loss;
                qsnn_trainer_forward_backward(t, x + pos * sample, y + pos, (size_t)batch, &loss, NULL);
                qsnn_trainer_adam_step(t, 1e-3f, NULL);
                if (s >= 0)
                    dt[s] = qsnn_time_now() - t0;
                pos += (size_t)batch;
            }
            qsort(dt, (size_t)steps, sizeof *dt, cmp_d);
            double med = dt[steps / 2], sps = batch / med;
            printf("episode %d  threads %d  median step %.2f ms  %.0f samples/s  (trainer memory %.1f MB)\n", ep,
                   qsnn_trainer_threads(t), med * 1e3, sps, qsnn_trainer_mem_bytes(t) / 1e6);
            jl += snprintf(json + jl, sizeof json - (size_t)jl, "%s{\"episode\": %d, \"threads\": %d, \"samples_per_s\": %.1f}",
                           (ti || ep > 1) ? ", " : "", ep, qsnn_trainer_threads(t), sps);
            free(dt);
            qsnn_trainer_free(t);
            qsnn_model_free(&m);
        }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %.1f MB\n", ru.ru_maxrss / 1024.0);
    printf("%s], \"peak_rss_mb\": %.1f}\n", json, ru.ru_maxrss / 1024.0);
    free(x);
    free(y);
    if (feat)
        qsnn_featureset_free(&fs);
    return 0;
}
