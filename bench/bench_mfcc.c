/* SPDX-License-Identifier: Apache-2.0 */
/* bench_mfcc.c: one-second clips per second per core for the front ends (single thread): qsnn_mfcc (tf-audio-ops)
 * and tf-signal, with the FFT backend of this build (KissFFT, or FFTW with -DQSNN_FFTW=ON: printed first).
 *
 *   bench_mfcc [--data DIR] [--runs N] [--clips N]
 *
 * Each line is the median of N runs (default 7). Rates are per core: clips per second of this thread's CPU
 * time (CLOCK_THREAD_CPUTIME_ID), so that other processes on a shared machine do not count; the wall-clock
 * rate is printed beside it. Cases:
 *   compute          create once, compute many (the feature-extraction path)
 *   create+compute   a new qsnn_mfcc per clip
 *   decode+compute   qsnn_audio_read_clip of a real WAV (page cache warm) + compute, when DIR holds the shared
 *                    Speech Commands data (--data, else $QSNN_SHARED_DATA; skipped when absent)
 *   tf-signal        qsnn_frontend_compute with the tf-signal defaults (49x10 from window 480, fft 512)
 *   FFT only         the FFT calls alone (49 frames of 1024): the used bins 2..256 as qsnn_mfcc asks for them, and
 *                    the plain transform (kiss_fftr): the floor under everything else
 * on white noise, a real clip when present, and a full-scale 1 kHz tone (the worst case: its extreme spectral
 * dynamic range sends most channels through the exact double-precision bin fallback).
 */
#define _POSIX_C_SOURCE 200809L
#include "audio/fft_internal.h"
#include "qsnn/audio.h"
#include "qsnn/core.h"
#include "qsnn/frontend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { MODE_COMPUTE, MODE_CREATE, MODE_DECODE, MODE_TFS, MODE_FFT4, MODE_FFTR };

static volatile float g_sink;

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

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
    int mode;
    const float *clip; /* 16000 samples (compute modes) */
    const char *path;  /* MODE_DECODE */
} bench_case;

/* Run `clips` clips; returns 0 on failure. *cpu and *wall receive seconds. */
static int run(const bench_case *bc, int clips, double *cpu, double *wall)
{
    qsnn_mfcc_params p;
    qsnn_mfcc_default_params(&p);
    qsnn_mfcc *m = NULL;
    float out[49 * 10];
    static float buf[QSNN_CLIP_SAMPLES];
    qsnn_fft *fft = NULL;
    qsnn_frontend *fe = NULL;
    int ok = 1;
    if (bc->mode >= MODE_FFT4) {
        qsnn_fft_cfg fc = {1024, 2, 256, bc->mode == MODE_FFTR, NULL};
        if (qsnn_fft_create(&fft, &fc) != QSNN_OK)
            return 0;
    }
    if (bc->mode == MODE_TFS) {
        qsnn_frontend_params fp;
        qsnn_frontend_defaults(&fp, QSNN_FRONTEND_TF_SIGNAL);
        if (qsnn_frontend_create(&fe, &fp) != QSNN_OK)
            return 0;
    }
    if (bc->mode != MODE_CREATE && bc->mode < MODE_TFS && qsnn_mfcc_create(&m, &p) != QSNN_OK)
        return 0;
    double w0 = qsnn_time_now(), c0 = cpu_now();
    for (int i = 0; i < clips && ok; i++) {
        switch (bc->mode) {
        case MODE_FFT4:
        case MODE_FFTR:
            for (int f = 0; f < 49; f++) {
                qsnn_fft_in(fft)[f] = (float)i;
                qsnn_fft_forward(fft);
                g_sink += qsnn_fft_out(fft)[3].r;
            }
            break;
        case MODE_TFS:
            ok = qsnn_frontend_compute(fe, out, bc->clip, QSNN_CLIP_SAMPLES) == QSNN_OK;
            g_sink += out[i % 490];
            break;
        case MODE_CREATE:
            ok = qsnn_mfcc_create(&m, &p) == QSNN_OK && qsnn_mfcc_compute(m, out, bc->clip, QSNN_CLIP_SAMPLES) == 0;
            qsnn_mfcc_destroy(m);
            m = NULL;
            g_sink += out[i % 490];
            break;
        case MODE_DECODE:
            ok = qsnn_audio_read_clip(bc->path, buf, QSNN_CLIP_SAMPLES) == QSNN_OK &&
                 qsnn_mfcc_compute(m, out, buf, QSNN_CLIP_SAMPLES) == QSNN_OK;
            g_sink += out[i % 490];
            break;
        default:
            ok = qsnn_mfcc_compute(m, out, bc->clip, QSNN_CLIP_SAMPLES) == QSNN_OK;
            g_sink += out[i % 490];
            break;
        }
    }
    *cpu = cpu_now() - c0;
    *wall = qsnn_time_now() - w0;
    qsnn_mfcc_destroy(m);
    qsnn_fft_destroy(fft);
    qsnn_frontend_destroy(fe);
    if (!ok)
        fprintf(stderr, "bench_mfcc: %s\n", qsnn_last_error());
    return ok;
}

static void report(const char *what, const bench_case *bc, int clips, int runs)
{
    double *rc = malloc((size_t)runs * sizeof *rc), *rw = malloc((size_t)runs * sizeof *rw);
    double cpu, wall;
    if (!rc || !rw || !run(bc, clips / 10 + 1, &cpu, &wall)) { /* warm-up */
        free(rc);
        free(rw);
        return;
    }
    for (int i = 0; i < runs; i++) {
        if (!run(bc, clips, &cpu, &wall))
            return;
        rc[i] = clips / cpu;
        rw[i] = clips / wall;
    }
    double mc = median(rc, runs), mw = median(rw, runs);
    printf("%-36s %7.0f clips/s/core %7.1f us/clip   wall %7.0f clips/s   (cpu min %.0f max %.0f)\n", what, mc,
           1e6 / mc, mw, rc[0], rc[runs - 1]);
    free(rc);
    free(rw);
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
    printf("bench_mfcc: FFT backend %s; 16 kHz, window 640, stride 320, 40 channels 20-4000 Hz, 10 coefficients "
           "-> 49x10; single thread, median of %d runs\n",
           qsnn_fft_backend(), runs);
    bench_case b = {MODE_COMPUTE, noise, NULL};
    report("compute, white noise", &b, clips, runs);
    b.mode = MODE_CREATE;
    report("create+compute, white noise", &b, clips / 4 + 1, runs);
    b.mode = MODE_COMPUTE;
    b.clip = tone;
    report("compute, 1 kHz tone (worst case)", &b, clips / 20 + 1, runs);
    b.mode = MODE_TFS;
    b.clip = noise;
    report("tf-signal, white noise", &b, clips / 2 + 1, runs);
    b.clip = tone;
    report("tf-signal, 1 kHz tone (worst case)", &b, clips / 20 + 1, runs);

    char path[4096] = "";
    struct stat st;
    if (data) {
        snprintf(path, sizeof path, "%s/speech_commands_test_subset/yes/105a0eea_nohash_0.wav", data);
        if (stat(path, &st) != 0)
            path[0] = '\0';
    }
    if (path[0] && qsnn_audio_read_clip(path, real, QSNN_CLIP_SAMPLES) == QSNN_OK) {
        printf("real clip: %s\n", path);
        b.mode = MODE_COMPUTE;
        b.clip = real;
        report("compute, real clip", &b, clips, runs);
        b.mode = MODE_DECODE;
        b.path = path;
        report("decode+compute, real clip", &b, clips, runs);
        b.mode = MODE_TFS;
        report("tf-signal, real clip", &b, clips / 2 + 1, runs);
    } else {
        printf("real clip: none (pass --data or set QSNN_SHARED_DATA to the shared data root): decode+compute "
               "skipped\n");
    }
    b.mode = MODE_FFT4;
    report("FFT only: 1024, bins 2..256", &b, clips, runs);
    b.mode = MODE_FFTR;
    report("FFT only: 1024, plain", &b, clips, runs);
    return 0;
}
