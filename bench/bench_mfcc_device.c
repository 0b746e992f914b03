/* SPDX-License-Identifier: Apache-2.0 */
/* bench_mfcc_device.c: what the device's front end (qsnn/mfcc_device.h, src/audio/mfcc_device.c: libc-only, float32, the
 * same bits on the host and on a Cortex-M4) changes against the host's default one (qsnn_mfcc: KissFFT, double
 * after the FFT, exact-DFT repair), on real clips, and what each costs per frame on this host.
 *
 *   bench_mfcc_device MODEL.snn DIR [--clips N]
 *
 * DIR holds label folders of WAV clips (the released Speech Commands test layout, e.g.
 * ../shared/data/speech_commands_test_subset); every clip's first second goes through both front ends, the
 * model's uint8 scaling and the engine (every folder but _background_noise_). Prints: uint8 values that differ
 * (and by how much at most), clips with any difference, the largest float difference, clips whose predicted class
 * differs, and each front end's accuracy on the clips of folders named after a label; then the CPU time
 * per frame of each front end (single thread, median of 5 passes over 200 clips). */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/audio.h"
#include "qsnn/convert.h"
#include "qsnn/core.h"
#include "qsnn/mfcc_device.h"
#include "qsnn/snn.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define F 49
#define K QSNN_MFCC_DEVICE_COEFFS

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    long max_clips = 1000000;
    if (argc >= 5 && !strcmp(argv[3], "--clips"))
        max_clips = atol(argv[4]);
    if ((argc != 3 && argc != 5) || max_clips <= 0) {
        fprintf(stderr, "usage: bench_mfcc_device MODEL.snn DIR [--clips N]\n");
        return 2;
    }
    qsnn_snn_model m;
    unsigned char *img = NULL;
    if (qsnn_snn_load(argv[1], &m, &img) != QSNN_OK) {
        fprintf(stderr, "bench_mfcc_device: %s\n", qsnn_last_error());
        return 1;
    }
    static qsnn_mfcc_device fe;
    qsnn_mfcc_device_init(&fe);
    qsnn_mfcc_params mp;
    qsnn_mfcc_default_params(&mp);
    qsnn_mfcc *mf = NULL;
    void *mem = malloc(qsnn_snn_mem_size(&m));
    qsnn_snn_ctx *ctx = NULL;
    if (!mem || qsnn_mfcc_create(&mf, &mp) != QSNN_OK || qsnn_snn_init(&ctx, &m, mem, qsnn_snn_mem_size(&m))) {
        fprintf(stderr, "bench_mfcc_device: %s\n", qsnn_last_error());
        return 1;
    }
    /* the clip list, sorted (deterministic), with each clip's label index */
    size_t n = 0, cap = 0;
    char **paths = NULL;
    DIR *d = opendir(argv[2]);
    if (!d) {
        fprintf(stderr, "bench_mfcc_device: cannot open %s\n", argv[2]);
        return 1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        int label = -1;
        for (int c = 0; c < m.num_classes; c++)
            if (!strcmp(e->d_name, m.labels[c]))
                label = c;
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "_background_noise_"))
            continue; /* other folders: the features and classes are compared, the accuracy skips them */
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", argv[2], e->d_name);
        DIR *sd = opendir(sub);
        struct dirent *f;
        while (sd && (f = readdir(sd))) {
            if (!strstr(f->d_name, ".wav"))
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 1024;
                char **np = realloc(paths, cap * sizeof *paths);
                if (!np)
                    return 1;
                paths = np;
            }
            size_t len = strlen(sub) + strlen(f->d_name) + 8;
            paths[n] = malloc(len);
            if (!paths[n])
                return 1;
            snprintf(paths[n], len, "%02d %s/%s", label + 1, sub, f->d_name); /* label + 1 sorts with the path */
            n++;
        }
        if (sd)
            closedir(sd);
    }
    closedir(d);
    qsort(paths, n, sizeof *paths, cmp_str);
    const size_t listed = n;
    if ((size_t)max_clips < n)
        n = (size_t)max_clips;
    static float x[QSNN_CLIP_SAMPLES], a[F * K], b[F * K];
    static uint8_t ua[F * K], ub[F * K];
    size_t values = 0, off = 0, clips_off = 0, pred_diff = 0, right_a = 0, right_b = 0, done = 0, labelled = 0;
    int maxd = 0;
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        const int label = atoi(paths[i]) - 1; /* -1: not a label of the model */
        const char *path = paths[i] + 3;
        if (qsnn_audio_read_clip(path, x, QSNN_CLIP_SAMPLES) != QSNN_OK) {
            fprintf(stderr, "bench_mfcc_device: %s\n", qsnn_last_error());
            return 1;
        }
        qsnn_mfcc_device_compute(&fe, a, x, QSNN_CLIP_SAMPLES);
        qsnn_mfcc_compute(mf, b, x, QSNN_CLIP_SAMPLES);
        qsnn_features_to_u8(ua, a, F * K, m.scale_min, m.scale_max);
        qsnn_features_to_u8(ub, b, F * K, m.scale_min, m.scale_max);
        size_t here = 0;
        for (int j = 0; j < F * K; j++) {
            const int dd = abs((int)ua[j] - (int)ub[j]);
            maxd = dd > maxd ? dd : maxd;
            here += dd != 0;
            worst = fmax(worst, fabs((double)a[j] - (double)b[j]));
        }
        off += here;
        clips_off += here != 0;
        values += F * K;
        int32_t pa, pb;
        if (qsnn_snn_run(ctx, ua, NULL, &pa, NULL) != QSNN_OK || qsnn_snn_run(ctx, ub, NULL, &pb, NULL) != QSNN_OK) {
            fprintf(stderr, "bench_mfcc_device: %s\n", qsnn_last_error());
            return 1;
        }
        pred_diff += pa != pb;
        right_a += pa == label;
        right_b += pb == label;
        labelled += label >= 0;
        done++;
    }
    printf("%zu clips of %s (model %s)\n", done, argv[2], argv[1]);
    printf("uint8 values that differ: %zu of %zu (%.4f %%), by at most %d; clips with a difference: %zu\n", off,
           values, values ? 100.0 * (double)off / (double)values : 0.0, maxd, clips_off);
    printf("largest |float difference|: %.3g\n", worst);
    printf("clips whose class differs: %zu; accuracy on the %zu clips of label folders: device front end %.2f %%, "
           "qsnn_mfcc %.2f %%\n", pred_diff, labelled, labelled ? 100.0 * (double)right_a / (double)labelled : 0.0,
           labelled ? 100.0 * (double)right_b / (double)labelled : 0.0);
    /* CPU time per frame, median of 5 passes over the first 200 clips (decoded once) */
    size_t tn = done < 200 ? done : 200;
    float *clips = malloc(tn * QSNN_CLIP_SAMPLES * sizeof *clips);
    if (!clips)
        return 1;
    for (size_t i = 0; i < tn; i++)
        if (qsnn_audio_read_clip(paths[i] + 3, clips + i * QSNN_CLIP_SAMPLES, QSNN_CLIP_SAMPLES) != QSNN_OK)
            return 1;
    double ta[5], tb[5];
    for (int r = 0; r < 5; r++) {
        double t0 = cpu_now();
        for (size_t i = 0; i < tn; i++)
            qsnn_mfcc_device_compute(&fe, a, clips + i * QSNN_CLIP_SAMPLES, QSNN_CLIP_SAMPLES);
        double t1 = cpu_now();
        for (size_t i = 0; i < tn; i++)
            qsnn_mfcc_compute(mf, b, clips + i * QSNN_CLIP_SAMPLES, QSNN_CLIP_SAMPLES);
        double t2 = cpu_now();
        ta[r] = (t1 - t0) / (double)(tn * F);
        tb[r] = (t2 - t1) / (double)(tn * F);
    }
    qsort(ta, 5, sizeof *ta, cmp_double);
    qsort(tb, 5, sizeof *tb, cmp_double);
    printf("CPU time per frame on this host: device front end %.2f us, qsnn_mfcc %.2f us\n", 1e6 * ta[2], 1e6 * tb[2]);
    free(clips);
    for (size_t i = 0; i < listed; i++)
        free(paths[i]);
    free(paths);
    free(mem);
    free(img);
    qsnn_mfcc_destroy(mf);
    return 0;
}
