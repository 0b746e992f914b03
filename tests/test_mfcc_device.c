/* SPDX-License-Identifier: Apache-2.0 */
/* test_mfcc_device.c: the libc-only device front end (src/audio/mfcc_device.c) against independent references:
 * its real FFT against KissFFT's kiss_fftr (float) and a double DFT, its MFCC against the float64 numpy reference
 * of tests/data (tests/ref/mfcc_ref.py, the same fixtures as test_mfcc.c) and against qsnn_mfcc, its uint8 features
 * against qsnn_mfcc's on real clips (QSNN_SHARED_DATA; skipped when absent), and `qsnn mfcc --device`. Worst errors
 * are printed; each check fails loudly with the worst element. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <kissfft/kiss_fftr.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "qsnn/audio.h"
#include "qsnn/core.h"
#include "qsnn/mfcc_device.h"

#define N QSNN_MFCC_DEVICE_FFT
#define K QSNN_MFCC_DEVICE_COEFFS

static qsnn_mfcc_device g_fe; /* 16 KB: static, as a firmware has it */

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 11;
}

/* rfft against kiss_fftr and a double DFT on noise, a tone and an impulse: worst |diff| relative to max |X|. */
static void test_rfft_matches_kissfft(void **state)
{
    (void)state;
    qsnn_mfcc_device_init(&g_fe);
    kiss_fftr_cfg cfg = kiss_fftr_alloc(N, 0, NULL, NULL);
    assert_non_null(cfg);
    static float in[N], got[N / 2 + 1][2];
    static kiss_fft_cpx kf[N / 2 + 1];
    uint64_t seed = 7;
    double worst_kiss = 0.0, worst_dft = 0.0, worst_kiss_vs_dft = 0.0;
    for (int sig = 0; sig < 6; sig++) {
        for (int j = 0; j < N; j++) {
            if (sig < 4) /* uniform noise in [-1, 1), the last two only in the first 640 samples */
                in[j] = sig < 2 || j < QSNN_MFCC_DEVICE_WINDOW
                            ? (float)((double)lcg(&seed) / 9007199254740992.0 * 2 - 1)
                            : 0.0f;
            else if (sig == 4)
                in[j] = (float)cos(2 * 3.14159265358979 * 37.3 * j / N);
            else
                in[j] = j == 5 ? 1.0f : 0.0f;
        }
        qsnn_mfcc_device_rfft(&g_fe, got, in);
        kiss_fftr(cfg, in, kf);
        double peak = 0.0, e_kiss = 0.0, e_dft = 0.0, e_kd = 0.0;
        for (int k = 0; k <= N / 2; k++) {
            double re = 0.0, im = 0.0;
            for (int j = 0; j < N; j++) {
                re += in[j] * cos(2 * 3.14159265358979323846 * (double)((long)j * k % N) / N);
                im -= in[j] * sin(2 * 3.14159265358979323846 * (double)((long)j * k % N) / N);
            }
            peak = fmax(peak, hypot(re, im));
            e_kiss = fmax(e_kiss, hypot(got[k][0] - kf[k].r, got[k][1] - kf[k].i));
            e_dft = fmax(e_dft, hypot(got[k][0] - re, got[k][1] - im));
            e_kd = fmax(e_kd, hypot(kf[k].r - re, kf[k].i - im));
        }
        worst_kiss = fmax(worst_kiss, e_kiss / peak);
        worst_dft = fmax(worst_dft, e_dft / peak);
        worst_kiss_vs_dft = fmax(worst_kiss_vs_dft, e_kd / peak);
    }
    printf("  rfft 1024 worst |X - X_ref| / max |X|: vs kiss_fftr %.3g, vs double DFT %.3g (kiss_fftr vs DFT %.3g)\n",
           worst_kiss, worst_dft, worst_kiss_vs_dft);
    kiss_fftr_free(cfg);
    /* float32 FFTs of 1024 points: a few 1e-7 of the peak; 1e-6 leaves margin and catches any wrong twiddle */
    if (!(worst_kiss < 1e-6) || !(worst_dft < 1e-6))
        fail_msg("rfft error too large: vs kiss %.3g, vs DFT %.3g (limit 1e-6)", worst_kiss, worst_dft);
}

/* The default-parameter cases of tests/data/mfcc_cases.txt against the float64 reference and against qsnn_mfcc. */
static void test_mfcc_matches_reference(void **state)
{
    (void)state;
    qsnn_mfcc_device_init(&g_fe);
    struct {
        const char *name, *wav;
        double tol;
    } cases[] = {{"silence", "mfcc_silence.wav", 1e-4}, {"noise", "mfcc_noise.wav", 1e-3},
                 {"low", "mfcc_low.wav", 1e-3},         {"short", "mfcc_short.wav", 1e-3},
                 /* no exact-DFT repair here (mfcc_device.h): a pure tone's quiet channels carry float FFT noise */
                 {"tone1k", "mfcc_tone1k.wav", 5e-2},   {"chirp", "mfcc_chirp.wav", 5e-2}};
    qsnn_mfcc_params mp;
    qsnn_mfcc_default_params(&mp);
    qsnn_mfcc *m = NULL;
    assert_int_equal(qsnn_mfcc_create(&m, &mp), QSNN_OK);
    static float x[QSNN_CLIP_SAMPLES], got[49 * K], host[49 * K];
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", QSNN_TEST_DATA, cases[c].wav);
        if (qsnn_audio_read_clip(path, x, QSNN_CLIP_SAMPLES) != QSNN_OK)
            fail_msg("%s: %s", path, qsnn_last_error());
        assert_int_equal(qsnn_mfcc_device_num_frames(QSNN_CLIP_SAMPLES), 49);
        assert_int_equal(qsnn_mfcc_device_compute(&g_fe, got, x, QSNN_CLIP_SAMPLES), QSNN_OK);
        assert_int_equal(qsnn_mfcc_compute(m, host, x, QSNN_CLIP_SAMPLES), QSNN_OK);
        snprintf(path, sizeof path, "%s/mfcc_%s.txt", QSNN_TEST_DATA, cases[c].name);
        FILE *fp = fopen(path, "r");
        if (!fp)
            fail_msg("cannot open %s", path);
        char line[8192];
        int frames = 0, coeffs = 0;
        while (fgets(line, sizeof line, fp))
            if (line[0] != '#' && sscanf(line, "frames %d coeffs %d", &frames, &coeffs) == 2)
                break;
        if (frames != 49 || coeffs != K)
            fail_msg("%s: shape %dx%d, expected 49x%d", path, frames, coeffs, K);
        double worst = 0.0, worst_host = 0.0;
        int at = 0;
        for (int i = 0; i < 49 * K; i++) {
            float want;
            if (fscanf(fp, "%f", &want) != 1)
                fail_msg("%s: only %d values", path, i);
            const double d = fabs((double)got[i] - want);
            if (!(d <= worst)) {
                worst = d;
                at = i;
            }
            worst_host = fmax(worst_host, fabs((double)got[i] - host[i]));
        }
        fclose(fp);
        printf("  %-8s worst |diff| vs float64 reference %.3g (frame %d coeff %d), vs qsnn_mfcc %.3g\n",
               cases[c].name, worst, at / K, at % K, worst_host);
        if (!(worst <= cases[c].tol))
            fail_msg("%s: worst |diff| %.6g > %g at frame %d coeff %d (got %.9g)", cases[c].name, worst,
                     cases[c].tol, at / K, at % K, (double)got[at]);
    }
    qsnn_mfcc_destroy(m);
    /* an all-zero frame: coefficient 0 is sqrt(2/40) * 40 * ln(1e-12) = -247.13936 (docs/design.md s1.7) */
    static const float zero[QSNN_MFCC_DEVICE_WINDOW];
    qsnn_mfcc_device_frame(&g_fe, got, zero);
    const double c0 = sqrt(2.0 / 40.0) * 40.0 * log(1e-12);
    printf("  all-zero frame: %.9g %.3g ... (coefficient 0 must be %.9g)\n", (double)got[0], (double)got[1], c0);
    assert_float_equal(got[0], c0, 1e-4);
    for (int k = 1; k < K; k++)
        assert_float_equal(got[k], 0.0, 1e-4);
}

/* PCM16 input is the float path on x / 32768, bit for bit; bad arguments are refused. */
static void test_s16_and_args(void **state)
{
    (void)state;
    qsnn_mfcc_device_init(&g_fe);
    int16_t pcm[QSNN_MFCC_DEVICE_WINDOW];
    float x[QSNN_MFCC_DEVICE_WINDOW], a[K], b[K];
    uint64_t seed = 3;
    for (int j = 0; j < QSNN_MFCC_DEVICE_WINDOW; j++) {
        pcm[j] = (int16_t)((int)(lcg(&seed) % 65536) - 32768);
        x[j] = (float)pcm[j] / 32768.0f;
    }
    qsnn_mfcc_device_frame_s16(&g_fe, a, pcm);
    qsnn_mfcc_device_frame(&g_fe, b, x);
    assert_memory_equal(a, b, sizeof a);
    /* init twice gives the same tables (deterministic, no hidden state) */
    static qsnn_mfcc_device other;
    qsnn_mfcc_device_init(&other);
    assert_memory_equal(g_fe.window, other.window, sizeof other.window);
    assert_memory_equal(g_fe.dct, other.dct, sizeof other.dct);
    assert_int_equal(qsnn_mfcc_device_num_frames(639), 0);
    assert_int_equal(qsnn_mfcc_device_num_frames(640), 1);
    assert_int_equal(qsnn_mfcc_device_num_frames(959), 1);
    assert_int_equal(qsnn_mfcc_device_num_frames(960), 2);
    assert_int_equal(qsnn_mfcc_device_compute(&g_fe, NULL, x, 640), QSNN_ERR_ARG);
    assert_int_equal(qsnn_mfcc_device_compute(&g_fe, NULL, NULL, 100), QSNN_OK); /* no frame: nothing to do */
}

/* Real clips: the uint8 features of the front end and of qsnn_mfcc (the shipped model's range [-247.139359, 37.306324],
 * docs/design.md s1.9) differ by at most 1 and rarely. Skipped without the shared data. */
static void test_real_clips_u8(void **state)
{
    (void)state;
    const char *root = getenv("QSNN_SHARED_DATA") ? getenv("QSNN_SHARED_DATA") : QSNN_SHARED_DATA;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/speech_commands_test_subset/yes", root);
    DIR *d = opendir(dir);
    if (!d) {
        printf("  %s absent: skipping the real-clip comparison\n", dir);
        skip();
    }
    qsnn_mfcc_device_init(&g_fe);
    qsnn_mfcc_params mp;
    qsnn_mfcc_default_params(&mp);
    qsnn_mfcc *m = NULL;
    assert_int_equal(qsnn_mfcc_create(&m, &mp), QSNN_OK);
    static float x[QSNN_CLIP_SAMPLES], a[49 * K], b[49 * K];
    static uint8_t ua[49 * K], ub[49 * K];
    const float lo = -247.139359f, hi = 37.306324f;
    long values = 0, off = 0;
    int clips = 0, maxd = 0;
    struct dirent *e;
    while ((e = readdir(d)) && clips < 40) {
        if (!strstr(e->d_name, ".wav"))
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (qsnn_audio_read_clip(path, x, QSNN_CLIP_SAMPLES) != QSNN_OK)
            fail_msg("%s: %s", path, qsnn_last_error());
        assert_int_equal(qsnn_mfcc_device_compute(&g_fe, a, x, QSNN_CLIP_SAMPLES), QSNN_OK);
        assert_int_equal(qsnn_mfcc_compute(m, b, x, QSNN_CLIP_SAMPLES), QSNN_OK);
        qsnn_features_to_u8(ua, a, 49 * K, lo, hi);
        qsnn_features_to_u8(ub, b, 49 * K, lo, hi);
        for (int i = 0; i < 49 * K; i++) {
            const int dd = abs((int)ua[i] - (int)ub[i]);
            maxd = dd > maxd ? dd : maxd;
            off += dd != 0;
        }
        values += 49 * K;
        clips++;
    }
    closedir(d);
    qsnn_mfcc_destroy(m);
    printf("  %d real clips: %ld of %ld uint8 values differ from qsnn_mfcc's, by at most %d\n", clips, off, values,
           maxd);
    assert_true(clips > 0);
    if (maxd > 1 || off * 1000 > values)
        fail_msg("%ld of %ld uint8 values differ (limit 1 per 1000), by up to %d (limit 1)", off, values, maxd);
}

/* `qsnn mfcc --device FILE` prints exactly qsnn_mfcc_device_compute's floats (%.9g round-trips float32); --device
 * with non-default parameters is a usage error. */
static void test_command_device(void **state)
{
    (void)state;
    const char *exe = getenv("QSNN_EXE") ? getenv("QSNN_EXE") : QSNN_BINARY_DIR "/qsnn";
    char cmd[2048], path[1024];
    snprintf(path, sizeof path, "%s/mfcc_noise.wav", QSNN_TEST_DATA);
    snprintf(cmd, sizeof cmd, "'%s' mfcc --device '%s'", exe, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    static float x[QSNN_CLIP_SAMPLES], want[49 * K];
    qsnn_mfcc_device_init(&g_fe);
    assert_int_equal(qsnn_audio_read_clip(path, x, QSNN_CLIP_SAMPLES), QSNN_OK);
    assert_int_equal(qsnn_mfcc_device_compute(&g_fe, want, x, QSNN_CLIP_SAMPLES), QSNN_OK);
    int i = 0;
    float v;
    while (i < 49 * K && fscanf(p, "%f", &v) == 1) {
        if (v != want[i])
            fail_msg("qsnn mfcc --device: value %d (frame %d coeff %d) is %.9g, qsnn_mfcc_device_compute %.9g", i,
                     i / K, i % K, (double)v, (double)want[i]);
        i++;
    }
    assert_int_equal(pclose(p), 0);
    assert_int_equal(i, 49 * K);
    snprintf(cmd, sizeof cmd, "'%s' mfcc --device --coeffs 13 '%s' >/dev/null 2>&1", exe, path);
    int rc = system(cmd);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfft_matches_kissfft),
        cmocka_unit_test(test_mfcc_matches_reference),
        cmocka_unit_test(test_s16_and_args),
        cmocka_unit_test(test_real_clips_u8),
        cmocka_unit_test(test_command_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
