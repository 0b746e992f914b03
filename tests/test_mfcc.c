/* SPDX-License-Identifier: Apache-2.0 */
/* test_mfcc.c: qsnn_mfcc against the independent float64 numpy reference (tests/ref/mfcc_ref.py).
 *
 * tests/data/mfcc_cases.txt lists each case (clip, window, stride, channels, coefficients, band, crop); the
 * expected features are in tests/data/mfcc_<case>.txt. Every coefficient of every frame must be within 1e-3
 * (absolute) of the reference; the worst element of each case is printed, with its position on failure.
 * Cases on "shared:" clips (real Speech Commands audio) are skipped cleanly when the shared data is absent
 * (QSNN_SHARED_DATA: the environment variable if set, else the build-time default).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio/mfcc_internal.h"
#include "qsnn/audio.h"
#include "qsnn/core.h"

#define TOLERANCE 1e-3

/* The shared data root: $QSNN_SHARED_DATA when set (e.g. from a worktree elsewhere), else the build's default. */
static const char *shared_root(void)
{
    const char *e = getenv("QSNN_SHARED_DATA");
    return (e && e[0]) ? e : QSNN_SHARED_DATA;
}

typedef struct {
    char name[128];
    char wav[512];
    qsnn_mfcc_params p;
    long crop;
} mfcc_case;

/* Expected features of one case: frames x coeffs floats (malloc'ed). */
static float *load_expected(const char *name, int *frames, int *coeffs)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/mfcc_%s.txt", QSNN_TEST_DATA, name);
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("cannot open %s", path);
    char line[8192];
    *frames = *coeffs = 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#')
            continue;
        if (sscanf(line, "frames %d coeffs %d", frames, coeffs) == 2)
            break;
    }
    if (*frames <= 0 || *coeffs <= 0 || *frames > 100000 || *coeffs > 1024)
        fail_msg("%s: bad 'frames F coeffs K' line", path);
    size_t total = (size_t)*frames * (size_t)*coeffs;
    float *v = malloc(total * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < total; i++)
        if (fscanf(fp, "%f", &v[i]) != 1)
            fail_msg("%s: only %zu of %zu values", path, i, total);
    float extra;
    if (fscanf(fp, "%f", &extra) == 1)
        fail_msg("%s: more than %zu values", path, total);
    fclose(fp);
    return v;
}

/* Run one case; returns 1 if run, 0 if skipped (shared clip absent). *worst_out receives the worst difference. */
static int run_case(const mfcc_case *c, double *worst_out)
{
    char path[1024];
    if (!strncmp(c->wav, "shared:", 7)) {
        snprintf(path, sizeof path, "%s/%s", shared_root(), c->wav + 7);
        struct stat st;
        if (stat(path, &st) != 0)
            return 0;
    } else {
        snprintf(path, sizeof path, "%s/%s", QSNN_TEST_DATA, c->wav);
    }
    float *x = NULL;
    size_t n;
    if (c->crop > 0) {
        n = (size_t)c->crop;
        x = malloc(n * sizeof *x);
        assert_non_null(x);
        if (qsnn_audio_read_clip(path, x, n) != QSNN_OK)
            fail_msg("%s: %s", c->name, qsnn_last_error());
    } else if (qsnn_audio_read(path, &x, &n, NULL) != QSNN_OK) {
        fail_msg("%s: %s", c->name, qsnn_last_error());
    }
    qsnn_mfcc *m;
    if (qsnn_mfcc_create(&m, &c->p) != QSNN_OK)
        fail_msg("%s: %s", c->name, qsnn_last_error());
    int frames = qsnn_mfcc_num_frames(m, n), coeffs = qsnn_mfcc_num_coeffs(m);
    int ef, ek;
    float *want = load_expected(c->name, &ef, &ek);
    if (frames != ef || coeffs != ek)
        fail_msg("%s: shape %dx%d, reference %dx%d", c->name, frames, coeffs, ef, ek);
    float *got = malloc((size_t)frames * (size_t)coeffs * sizeof *got);
    assert_non_null(got);
    assert_int_equal(qsnn_mfcc_compute(m, got, x, n), QSNN_OK);
    double worst = -1.0;
    int wf = 0, wk = 0;
    for (int f = 0; f < frames; f++)
        for (int k = 0; k < coeffs; k++) {
            double d = fabs((double)got[f * coeffs + k] - (double)want[f * coeffs + k]);
            if (!(d <= worst)) { /* also catches NaN */
                worst = d;
                wf = f;
                wk = k;
            }
        }
    printf("  %-26s %3dx%-2d worst |diff| %.3g at frame %d coeff %d\n", c->name, frames, coeffs, worst, wf, wk);
    if (!(worst <= TOLERANCE))
        print_error("%s: worst |diff| %.6g > %g at frame %d coeff %d: got %.9g, reference %.9g", c->name, worst,
                 TOLERANCE, wf, wk, (double)got[wf * coeffs + wk], (double)want[wf * coeffs + wk]);

    *worst_out = worst;
    if (!(worst <= TOLERANCE))
        *worst_out = INFINITY;
    free(got);
    free(want);
    free(x);
    qsnn_mfcc_destroy(m);
    return 1;
}

/* Run every case of the manifest whose clip is (shared != 0) a shared clip or (shared == 0) a fixture. */
static int run_manifest(int shared, int *listed)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/mfcc_cases.txt", QSNN_TEST_DATA);
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("cannot open %s", path);
    char line[2048];
    int ran = 0, failed = 0;
    *listed = 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        mfcc_case c;
        memset(&c, 0, sizeof c);
        if (sscanf(line, "%127s %511s %d %d %d %d %lf %lf %ld", c.name, c.wav, &c.p.window, &c.p.stride,
                   &c.p.num_channels, &c.p.num_coeffs, &c.p.lower_hz, &c.p.upper_hz, &c.crop) != 9)
            fail_msg("%s: bad line '%s'", path, line);
        c.p.sample_rate = QSNN_SAMPLE_RATE;
        if ((strncmp(c.wav, "shared:", 7) == 0) != (shared != 0))
            continue;
        (*listed)++;
        double worst = 0.0;
        ran += run_case(&c, &worst);
        if (!(worst <= TOLERANCE))
            failed++;
    }
    fclose(fp);
    if (failed)
        fail_msg("%d case(s) of %s beyond the %g tolerance (see above)", failed, path, TOLERANCE);
    return ran;
}

static void test_fixtures_match_reference(void **state)
{
    (void)state;
    int listed;
    int ran = run_manifest(0, &listed);
    /* 6 default-parameter clips + no-crop + 13 coefficients + window/stride/band variants */
    assert_true(ran >= 13);
    assert_int_equal(ran, listed);
}

static void test_real_clips_match_reference(void **state)
{
    (void)state;
    struct stat st;
    if (stat(shared_root(), &st) != 0) {
        printf("  %s absent: skipping real-clip comparison\n", shared_root());
        skip();
    }
    int listed;
    int ran = run_manifest(1, &listed);
    if (ran == 0) {
        printf("  none of the %d shared clips present: skipping\n", listed);
        skip();
    }
    assert_true(listed >= 1);
}

static void test_frame_count(void **state)
{
    (void)state;
    qsnn_mfcc_params p;
    qsnn_mfcc_default_params(&p);
    qsnn_mfcc *m;
    assert_int_equal(qsnn_mfcc_create(&m, &p), QSNN_OK);
    assert_int_equal(qsnn_mfcc_num_coeffs(m), 10);
    const size_t n[] = {0, 1, 639, 640, 959, 960, 15999, 16000, 16319, 16320};
    const int want[] = {0, 0, 0, 1, 1, 2, 48, 49, 49, 50};
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++) {
        assert_int_equal(qsnn_mfcc_num_frames(m, n[i]), want[i]);
        /* the formula of docs/design.md s1.2: 1 + (n - window) / stride */
        if (n[i] >= 640)
            assert_int_equal(want[i], 1 + (int)(n[i] - 640) / 320);
    }
    /* fewer samples than a window: nothing computed, nothing written, not an error */
    float out[1] = {42.0f}, x[100] = {0};
    assert_int_equal(qsnn_mfcc_compute(m, out, x, 100), QSNN_OK);
    assert_true(out[0] == 42.0f);
    qsnn_mfcc_destroy(m);

    p.window = 480;
    p.stride = 160;
    p.num_coeffs = 13;
    assert_int_equal(qsnn_mfcc_create(&m, &p), QSNN_OK);
    assert_int_equal(qsnn_mfcc_num_frames(m, 16000), 98);
    assert_int_equal(qsnn_mfcc_num_coeffs(m), 13);
    qsnn_mfcc_destroy(m);
}

static void test_bad_params(void **state)
{
    (void)state;
    qsnn_mfcc_params d, p;
    qsnn_mfcc_default_params(&d);
    qsnn_mfcc *m = (qsnn_mfcc *)0x1;
#define BAD(field, value)                                                                                          \
    do {                                                                                                           \
        p = d;                                                                                                     \
        p.field = value;                                                                                           \
        qsnn_clear_error();                                                                                        \
        assert_int_equal(qsnn_mfcc_create(&m, &p), QSNN_ERR_ARG);                                                  \
        assert_null(m);                                                                                            \
        assert_true(qsnn_last_error()[0] != '\0');                                                                 \
    } while (0)
    BAD(sample_rate, 0);
    BAD(window, 1);
    BAD(stride, 0);
    BAD(num_channels, 0);
    BAD(num_coeffs, 0);
    BAD(num_coeffs, 41);
    BAD(lower_hz, -1.0);
    BAD(lower_hz, 4000.0);
    BAD(lower_hz, NAN);
    BAD(upper_hz, 8000.5);
#undef BAD
    assert_int_equal(qsnn_mfcc_create(NULL, &d), QSNN_ERR_ARG);
    /* the edges that are valid */
    p = d;
    p.upper_hz = 8000.0;
    p.num_coeffs = 40;
    assert_int_equal(qsnn_mfcc_create(&m, &p), QSNN_OK);
    qsnn_mfcc_destroy(m);
    qsnn_mfcc_destroy(NULL);
}

/* Scratch lives in the object: repeated calls and separate objects give bit-identical results. */
static void test_reuse_is_deterministic(void **state)
{
    (void)state;
    enum { N = 16000 };
    float *x = malloc(N * sizeof *x);
    assert_non_null(x);
    qsnn_rng r;
    qsnn_rng_seed(&r, 3);
    for (int i = 0; i < N; i++)
        x[i] = (float)(qsnn_rng_uniform(&r) - 0.5);
    qsnn_mfcc_params p;
    qsnn_mfcc_default_params(&p);
    qsnn_mfcc *a, *b;
    assert_int_equal(qsnn_mfcc_create(&a, &p), QSNN_OK);
    assert_int_equal(qsnn_mfcc_create(&b, &p), QSNN_OK);
    float o1[490], o2[490], o3[490];
    assert_int_equal(qsnn_mfcc_compute(a, o1, x, N), QSNN_OK);
    float zeros[N / 2] = {0};
    float o0[240];
    assert_int_equal(qsnn_mfcc_compute(a, o0, zeros, N / 2), QSNN_OK); /* something else in between */
    assert_true(fabsf(o0[0] - (float)(sqrt(2.0 / 40) * 40 * log(1e-12))) < 1e-3f);
    assert_int_equal(qsnn_mfcc_compute(a, o2, x, N), QSNN_OK);
    assert_int_equal(qsnn_mfcc_compute(b, o3, x, N), QSNN_OK);
    assert_memory_equal(o1, o2, sizeof o1);
    assert_memory_equal(o1, o3, sizeof o1);
    /* frame t depends only on samples [320 t, 320 t + 640): computing from an offset gives the later rows */
    float o4[470];
    assert_int_equal(qsnn_mfcc_compute(a, o4, x + 640, N - 640), QSNN_OK);
    assert_memory_equal(o4, o1 + 20, sizeof o4);
    qsnn_mfcc_destroy(a);
    qsnn_mfcc_destroy(b);
    free(x);
}

/* The fast quarter-length FFT path agrees with the plain kiss_fftr path (both single precision), for the default
 * and for sizes where k mod (fft_len / 4) wraps inside the used bins; tiny FFTs take the plain path. */
static void test_fast_path_matches_ref(void **state)
{
    (void)state;
    enum { N = 16000 };
    float *x = malloc(N * sizeof *x);
    float *a = malloc(200 * 40 * sizeof *a), *b = malloc(200 * 40 * sizeof *b);
    assert_non_null(x);
    assert_non_null(a);
    assert_non_null(b);
    char wav[1024];
    snprintf(wav, sizeof wav, "%s/mfcc_chirp.wav", QSNN_TEST_DATA);
    assert_int_equal(qsnn_audio_read_clip(wav, x, N), QSNN_OK);
    struct {
        int window, stride, channels, coeffs;
        double lo, hi;
    } v[] = {
        {640, 320, 40, 10, 20.0, 4000.0},  /* default: bins 2..256, the last one wraps to 0 */
        {480, 160, 40, 13, 20.0, 4000.0},  /* fft 512: bins 2..128 wrap at 128 */
        {400, 160, 40, 40, 20.0, 8000.0},  /* fft 512: bins 2..256 wrap at 128 and 256 (Nyquist) */
        {1000, 500, 64, 20, 0.0, 7999.0},  /* fft 1024, lower 0 */
        {3, 1, 1, 1, 20.0, 4000.0},        /* fft 4: the plain path only */
    };
    for (size_t c = 0; c < sizeof v / sizeof v[0]; c++) {
        qsnn_mfcc_params p;
        qsnn_mfcc_default_params(&p);
        p.window = v[c].window;
        p.stride = v[c].stride;
        p.num_channels = v[c].channels;
        p.num_coeffs = v[c].coeffs;
        p.lower_hz = v[c].lo;
        p.upper_hz = v[c].hi;
        qsnn_mfcc *m;
        assert_int_equal(qsnn_mfcc_create(&m, &p), QSNN_OK);
        size_t n = v[c].window == 3 ? 200 : N;
        int frames = qsnn_mfcc_num_frames(m, n), k = qsnn_mfcc_num_coeffs(m);
        assert_true((size_t)frames * (size_t)k <= 200 * 40);
        assert_int_equal(qsnn_mfcc_compute(m, a, x, n), QSNN_OK);
        assert_int_equal(qsnn_mfcc_compute_ref(m, b, x, n), QSNN_OK);
        double worst = 0.0;
        for (int i = 0; i < frames * k; i++) {
            assert_true(isfinite(a[i]));
            worst = fmax(worst, fabs((double)a[i] - (double)b[i]));
        }
        printf("  window %d fft path vs kiss_fftr: worst |diff| %.3g over %dx%d\n", v[c].window, worst, frames, k);
        assert_true(worst <= 2.5e-4); /* both single precision; each is within ~4e-5 of float64 */
        qsnn_mfcc_destroy(m);
    }
    free(x);
    free(a);
    free(b);
}

/* `qsnn mfcc FILE` prints exactly what the library computes (%.9g round-trips float32); --npy writes the same. */
static void test_command_output(void **state)
{
    (void)state;
    const char *exe = getenv("QSNN_EXE");
    if (!exe || !exe[0]) {
        printf("  QSNN_EXE not set (run through ctest): skipping\n");
        skip();
    }
    char wav[1024], cmd[4096];
    snprintf(wav, sizeof wav, "%s/mfcc_chirp.wav", QSNN_TEST_DATA);
    float x[QSNN_CLIP_SAMPLES], want[49 * 13], got[49 * 13];
    assert_int_equal(qsnn_audio_read_clip(wav, x, QSNN_CLIP_SAMPLES), QSNN_OK);
    qsnn_mfcc_params p;
    qsnn_mfcc_default_params(&p);
    p.num_coeffs = 13;
    qsnn_mfcc *m;
    assert_int_equal(qsnn_mfcc_create(&m, &p), QSNN_OK);
    assert_int_equal(qsnn_mfcc_compute(m, want, x, QSNN_CLIP_SAMPLES), QSNN_OK);
    qsnn_mfcc_destroy(m);
    snprintf(cmd, sizeof cmd, "'%s' mfcc --coeffs 13 '%s'", exe, wav);
    FILE *fp = popen(cmd, "r");
    assert_non_null(fp);
    int count = 0;
    while (count < 49 * 13 && fscanf(fp, "%f", &got[count]) == 1)
        count++;
    float extra;
    assert_int_not_equal(fscanf(fp, "%f", &extra), 1);
    assert_int_equal(pclose(fp), 0);
    assert_int_equal(count, 49 * 13);
    assert_memory_equal(got, want, sizeof want);

    /* --npy: 128-byte header (v1.0) then the same floats */
    char npy[256];
    snprintf(npy, sizeof npy, "/tmp/qsnn_test_mfcc.%ld.npy", (long)getpid());
    snprintf(cmd, sizeof cmd, "'%s' mfcc -q --coeffs 13 --npy '%s' '%s'", exe, npy, wav);
    assert_int_equal(system(cmd), 0);
    FILE *fn = fopen(npy, "rb");
    assert_non_null(fn);
    unsigned char hdr[128];
    assert_int_equal(fread(hdr, 1, sizeof hdr, fn), sizeof hdr);
    assert_non_null(strstr((const char *)hdr + 10, "'shape': (49, 13)"));
    assert_int_equal(fread(got, sizeof(float), 49 * 13, fn), 49 * 13);
    assert_int_equal(fgetc(fn), EOF);
    fclose(fn);
    remove(npy);
    assert_memory_equal(got, want, sizeof want);

    /* a bad file fails with exit status 1, a bad option with 2 */
    snprintf(cmd, sizeof cmd, "'%s' mfcc /nonexistent/x.wav 2>/dev/null", exe);
    int rc = system(cmd);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    snprintf(cmd, sizeof cmd, "'%s' mfcc --coeffs 0 '%s' 2>/dev/null", exe, wav);
    rc = system(cmd);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_match_reference),
        cmocka_unit_test(test_real_clips_match_reference),
        cmocka_unit_test(test_frame_count),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_reuse_is_deterministic),
        cmocka_unit_test(test_fast_path_matches_ref),
        cmocka_unit_test(test_command_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
