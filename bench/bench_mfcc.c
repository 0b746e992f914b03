/* bench_mfcc.c: one-second clips per second per core for the MFCC front end (single thread).
 *
 *   bench_mfcc [--data DIR] [--runs N] [--clips N]
 *
 * Reports the median of N runs (default 7) for:
 *   compute        create once, compute many (the training/feature-extraction path)
 *   create+compute a new qsnn_mfcc per clip
 *   decode+compute qsnn_audio_read_clip of a real WAV (page cache warm) + compute, when DIR holds the shared
 *                  Speech Commands data (--data, else $QSNN_SHARED_DATA; skipped when absent)
 * on white noise, on a real clip when present, and on a full-scale 1 kHz tone (the worst case: its extreme
 * spectral dynamic range sends most channels through the exact double-precision bin fallback).
 */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/audio.h"
#include "qsnn/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static volatile float g_sink;

/* mode 0: create once; 1: create per clip; 2: decode (path) + compute. Returns clips per second. */
static double run(int mode, const float *clip, const char *path, int clips)
{
    qsnn_mfcc_params p;
    qsnn_mfcc_default_params(&p);
    qsnn_mfcc *m = NULL;
    float out[49 * 10];
    float *buf = malloc(QSNN_CLIP_SAMPLES * sizeof *buf);
    if (!buf)
        return 0.0;
    if (mode != 1 && qsnn_mfcc_create(&m, &p) != QSNN_OK) {
        free(buf);
        return 0.0;
    }
    double t0 = qsnn_time_now();
    for (int i = 0; i < clips; i++) {
        const float *x = clip;
        if (mode == 2) {
            if (qsnn_audio_read_clip(path, buf, QSNN_CLIP_SAMPLES) != QSNN_OK) {
                fprintf(stderr, "bench_mfcc: %s\n", qsnn_last_error());
                break;
            }
            x = buf;
        }
        if (mode == 1 && qsnn_mfcc_create(&m, &p) != QSNN_OK)
            break;
        qsnn_mfcc_compute(m, out, x, QSNN_CLIP_SAMPLES);
        g_sink += out[i % 490];
        if (mode == 1) {
            qsnn_mfcc_destroy(m);
            m = NULL;
        }
    }
    double dt = qsnn_time_now() - t0;
    qsnn_mfcc_destroy(m);
    free(buf);
    return clips / dt;
}

static void report(const char *what, int mode, const float *clip, const char *path, int clips, int runs)
{
    double *r = malloc((size_t)runs * sizeof *r);
    if (!r)
        return;
    run(mode, clip, path, clips / 10 + 1); /* warm-up */
    for (int i = 0; i < runs; i++)
        r[i] = run(mode, clip, path, clips);
    double med = median(r, runs);
    printf("%-34s %9.0f clips/s  %7.1f us/clip  (median of %d runs x %d clips; min %.0f, max %.0f)\n", what, med,
           1e6 / med, runs, clips, r[0], r[runs - 1]);
    free(r);
}

int main(int argc, char **argv)
{
    const char *data = getenv("QSNN_SHARED_DATA");
    int runs = 7, clips = 2000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--clips") && i + 1 < argc)
            clips = atoi(argv[++i]);
        else {
            printf("usage: bench_mfcc [--data DIR] [--runs N] [--clips N]\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (runs < 1 || clips < 1) {
        fprintf(stderr, "bench_mfcc: --runs and --clips must be >= 1\n");
        return 2;
    }
    qsnn_log_set_level(QSNN_LOG_WARN);
    static float noise[QSNN_CLIP_SAMPLES], tone[QSNN_CLIP_SAMPLES], real[QSNN_CLIP_SAMPLES];
    qsnn_rng r;
    qsnn_rng_seed(&r, 1);
    for (int i = 0; i < QSNN_CLIP_SAMPLES; i++) {
        noise[i] = (float)(int)qsnn_rng_range(&r, -32768, 32768) / 32768.0f;
        tone[i] = (float)(int)lrint(16384.0 * sin(2.0 * 3.14159265358979323846 * 1000.0 * i / 16000.0)) / 32768.0f;
    }
    printf("bench_mfcc: 16 kHz, window 640, stride 320, 40 channels 20-4000 Hz, 10 coefficients -> 49x10; "
           "single thread\n");
    report("compute, white noise", 0, noise, NULL, clips, runs);
    report("create+compute, white noise", 1, noise, NULL, clips / 4 + 1, runs);
    report("compute, 1 kHz tone (worst case)", 0, tone, NULL, clips / 10 + 1, runs);

    char path[4096] = "";
    struct stat st;
    if (data) {
        snprintf(path, sizeof path, "%s/speech_commands_test_subset/yes/105a0eea_nohash_0.wav", data);
        if (stat(path, &st) != 0)
            path[0] = '\0';
    }
    if (path[0] && qsnn_audio_read_clip(path, real, QSNN_CLIP_SAMPLES) == QSNN_OK) {
        printf("real clip: %s\n", path);
        report("compute, real clip", 0, real, NULL, clips, runs);
        report("decode+compute, real clip", 2, NULL, path, clips, runs);
    } else {
        printf("real clip: none (set --data or QSNN_SHARED_DATA to the shared data root): decode+compute skipped\n");
    }
    return 0;
}
