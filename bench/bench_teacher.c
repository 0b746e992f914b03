/* SPDX-License-Identifier: Apache-2.0 */
/* bench_teacher.c: what a teacher costs a distilling trainer: batched float inference of a model on its own
 * features (qsnn_infer_run, clips/s) and the front end (qsnn_frontend_compute, clips/s), on 1 and 2 threads;
 * medians of timed rounds after a warm-up round. Inputs are the features of synthetic clips (noise plus a
 * tone: the speed does not depend on the values).
 *   bench_teacher MODEL.qsnn [--batch 100] [--rounds 20]
 * e.g. bench_teacher teacher.qsnn, teacher.qsnn from `qsnn import` of the MLPerf Tiny model (README). */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/infer.h"
#include "qsnn/qsnn.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU seconds of the whole process (all threads): on a shared, loaded machine clips per CPU-second is the
 * figure that does not depend on how much of the cores this process got */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_teacher MODEL.qsnn [--batch N] [--rounds N]\n");
        return 2;
    }
    int batch = 100, rounds = 20;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--batch"))
            batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rounds"))
            rounds = atoi(argv[i + 1]);
    }
    if (batch < 1 || rounds < 1 || rounds > 1000)
        return 2;
    qsnn_model m;
    if (qsnn_model_load(&m, argv[1]) != QSNN_OK) {
        fprintf(stderr, "bench_teacher: %s\n", qsnn_last_error());
        return 1;
    }
    const size_t in_sz = qsnn_model_input_size(&m), K = (size_t)m.arch.num_classes;
    float *pcm = malloc((size_t)batch * 16000 * sizeof *pcm), *x = malloc((size_t)batch * in_sz * sizeof *x),
          *lg = malloc((size_t)batch * K * sizeof *lg);
    uint32_t r = 12345;
    for (size_t i = 0; i < (size_t)batch * 16000; i++) {
        r = r * 1664525u + 1013904223u;
        pcm[i] = 0.05f * ((float)(r >> 8) / 16777216.0f - 0.5f) + 0.3f * sinf(0.2f * (float)(i % 16000));
    }
    double t_inf[2] = {0}, t_fe[2] = {0}, c_inf[2] = {0}, c_fe[2] = {0};
    for (int T = 1; T <= 2; T++) {
        qsnn_infer *inf;
        if (qsnn_infer_create(&inf, &m, T) != QSNN_OK)
            return 1;
        double *ti = malloc((size_t)rounds * sizeof *ti), *tf = malloc((size_t)rounds * sizeof *tf);
        double cpu_i = 0, cpu_f = 0;
        for (int k = -1; k < rounds; k++) {
            double c0 = cpu_now(), t0 = qsnn_time_now();
#pragma omp parallel num_threads(T)
            {
                qsnn_frontend *fe = NULL;
                if (qsnn_frontend_create(&fe, &m.arch.features) == QSNN_OK) {
#pragma omp for schedule(static)
                    for (int c = 0; c < batch; c++)
                        qsnn_model_input_from_pcm(&m, fe, x + (size_t)c * in_sz, pcm + (size_t)c * 16000, 16000);
                }
                qsnn_frontend_destroy(fe);
            }
            double t1 = qsnn_time_now(), c1 = cpu_now();
            qsnn_infer_run(inf, x, (size_t)batch, lg);
            double t2 = qsnn_time_now(), c2 = cpu_now();
            if (k >= 0) {
                tf[k] = t1 - t0;
                ti[k] = t2 - t1;
                cpu_f += c1 - c0;
                cpu_i += c2 - c1;
            }
        }
        qsort(ti, (size_t)rounds, sizeof *ti, cmp_d);
        qsort(tf, (size_t)rounds, sizeof *tf, cmp_d);
        t_inf[T - 1] = batch / ti[rounds / 2];
        t_fe[T - 1] = batch / tf[rounds / 2];
        c_inf[T - 1] = (double)batch * rounds / cpu_i;
        c_fe[T - 1] = (double)batch * rounds / cpu_f;
        printf("%s threads %d: inference %.0f clips/s (%.0f per CPU-second), front end (%s, with its setup per "
               "batch) %.0f clips/s (%.0f per CPU-second)\n", m.arch.name, T, t_inf[T - 1], c_inf[T - 1],
               qsnn_frontend_name(m.arch.features.kind), t_fe[T - 1], c_fe[T - 1]);
        free(ti);
        free(tf);
        qsnn_infer_destroy(inf);
    }
    printf("{\"model\": \"%s\", \"batch\": %d, \"infer_clips_per_s\": [%.0f, %.0f], \"frontend_clips_per_s\": "
           "[%.0f, %.0f], \"infer_clips_per_cpu_s\": [%.0f, %.0f], \"frontend_clips_per_cpu_s\": [%.0f, %.0f]}\n",
           m.arch.name, batch, t_inf[0], t_inf[1], t_fe[0], t_fe[1], c_inf[0], c_inf[1], c_fe[0], c_fe[1]);
    free(pcm);
    free(x);
    free(lg);
    qsnn_model_free(&m);
    return 0;
}
