/* SPDX-License-Identifier: Apache-2.0 */
/* test_frontend.c: the front ends as data (qsnn/frontend.h).
 *  - tf-signal against the independent float64 numpy reference tests/ref/tf_signal_ref.py on the WAV fixtures of
 *    tests/data (silence, noise, a tone, a chirp, a quiet low tone, a short clip, other parameters, no peak
 *    normalisation): worst absolute difference <= 1e-3, printed; the real clips are in test_import.c
 *    (reference_outputs.json);
 *  - the signed peak: a clip whose samples are all negative is divided by its (negative) maximum, and the
 *    features do not depend on the clip's gain;
 *  - tf-audio-ops through qsnn_frontend is qsnn_mfcc bit for bit;
 *  - the JSON form round-trips and bad parameters are refused naming the field. */
#include "qsnn/audio.h"
#include "qsnn/frontend.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static float *load_txt(const char *name, int *frames, int *coeffs)
{
    char path[512], line[4096];
    snprintf(path, sizeof path, "%s/%s", QSNN_TEST_DATA, name);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    float *v = malloc(200 * 64 * sizeof *v);
    int n = 0, rows = 0, cols = 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#')
            continue;
        int c = 0;
        for (char *p = line, *e; (v[n] = strtof(p, &e)), e != p; p = e, n++, c++)
            ;
        cols = c;
        rows++;
    }
    fclose(fp);
    *frames = rows;
    *coeffs = cols;
    return v;
}

static double run_case(const char *wav, const char *txt, const qsnn_frontend_params *p)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", QSNN_TEST_DATA, wav);
    float *x;
    size_t n;
    assert_int_equal(qsnn_audio_read(path, &x, &n, NULL), QSNN_OK);
    int frames, coeffs;
    float *want = load_txt(txt, &frames, &coeffs);
    assert_int_equal(frames, qsnn_frontend_num_frames(p));
    assert_int_equal(coeffs, p->num_coeffs);
    qsnn_frontend *fe;
    assert_int_equal(qsnn_frontend_create(&fe, p), QSNN_OK);
    float *got = malloc((size_t)frames * coeffs * sizeof *got);
    assert_int_equal(qsnn_frontend_compute(fe, got, x, n), QSNN_OK);
    double worst = 0;
    int at = 0;
    for (int i = 0; i < frames * coeffs; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (d > worst) {
            worst = d;
            at = i;
        }
    }
    print_message("%-44s worst |qsnn - numpy| %.3g at frame %d coefficient %d (%.6g vs %.6g)\n", txt, worst,
                  at / coeffs, at % coeffs, (double)got[at], (double)want[at]);
    qsnn_frontend_destroy(fe);
    free(got);
    free(want);
    free(x);
    return worst;
}

static void test_tf_signal_golden(void **state)
{
    (void)state;
    static const char *cases[][2] = {{"mfcc_silence.wav", "tf_signal_silence.txt"},
                                     {"mfcc_noise.wav", "tf_signal_noise.txt"},
                                     {"mfcc_tone1k.wav", "tf_signal_tone1k.txt"},
                                     {"mfcc_chirp.wav", "tf_signal_chirp.txt"},
                                     {"mfcc_low.wav", "tf_signal_low.txt"},
                                     {"mfcc_short.wav", "tf_signal_short.txt"}};
    qsnn_frontend_params p;
    qsnn_frontend_defaults(&p, QSNN_FRONTEND_TF_SIGNAL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_true(run_case(cases[i][0], cases[i][1], &p) <= 1e-3);
    qsnn_frontend_params q = p;
    q.window = 400;
    q.stride = 160;
    q.fft_size = 1024;
    q.num_bands = 26;
    q.num_coeffs = 13;
    q.lower_hz = 60;
    q.upper_hz = 7600;
    assert_true(run_case("mfcc_tone1k.wav", "tf_signal_tone1k_w400s160_f1024_b26_k13.txt", &q) <= 1e-3);
    q = p;
    q.peak_normalize = 0;
    assert_true(run_case("mfcc_noise.wav", "tf_signal_noise_nopeak.txt", &q) <= 1e-3);
}

static void test_signed_peak_and_gain(void **state)
{
    (void)state;
    enum { N = 16000 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), a[490], b[490];
    uint32_t r = 7;
    for (int i = 0; i < N; i++) { /* every sample negative: the signed maximum is the value nearest 0 */
        r = r * 1664525u + 1013904223u;
        x[i] = -0.01f - 0.5f * (float)(r >> 8) / 16777216.0f;
    }
    float peak = x[0];
    for (int i = 1; i < N; i++)
        peak = x[i] > peak ? x[i] : peak;
    for (int i = 0; i < N; i++)
        y[i] = (float)((double)x[i] / peak); /* what the front end should see: positive values >= 1 */
    qsnn_frontend_params p, q;
    qsnn_frontend_defaults(&p, QSNN_FRONTEND_TF_SIGNAL);
    q = p;
    q.peak_normalize = 0;
    qsnn_frontend *fa, *fb;
    assert_int_equal(qsnn_frontend_create(&fa, &p), QSNN_OK);
    assert_int_equal(qsnn_frontend_create(&fb, &q), QSNN_OK);
    assert_int_equal(qsnn_frontend_compute(fa, a, x, N), QSNN_OK);
    assert_int_equal(qsnn_frontend_compute(fb, b, y, N), QSNN_OK);
    double worst = 0;
    for (int i = 0; i < 490; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]));
    print_message("signed peak: worst difference %.3g\n", worst);
    assert_true(worst < 1e-4);
    /* dividing by the largest magnitude instead would give different features: the test can fail */
    float amax = 0;
    for (int i = 0; i < N; i++)
        amax = fabsf(x[i]) > amax ? fabsf(x[i]) : amax;
    for (int i = 0; i < N; i++)
        y[i] = x[i] / amax;
    assert_int_equal(qsnn_frontend_compute(fb, b, y, N), QSNN_OK);
    worst = 0;
    for (int i = 0; i < 490; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]));
    assert_true(worst > 0.1);
    /* gain does not matter under peak normalisation */
    for (int i = 0; i < N; i++)
        y[i] = 0.125f * x[i];
    assert_int_equal(qsnn_frontend_compute(fa, b, y, N), QSNN_OK);
    worst = 0;
    for (int i = 0; i < 490; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]));
    assert_true(worst < 1e-4);
    /* all zeros: left unscaled, finite */
    memset(y, 0, N * sizeof *y);
    assert_int_equal(qsnn_frontend_compute(fa, b, y, N), QSNN_OK);
    for (int i = 0; i < 490; i++)
        assert_true(isfinite(b[i]));
    qsnn_frontend_destroy(fa);
    qsnn_frontend_destroy(fb);
    free(x);
    free(y);
}

static void test_tf_audio_ops_is_mfcc(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/mfcc_chirp.wav", QSNN_TEST_DATA);
    float clip[16000], a[490], b[490];
    assert_int_equal(qsnn_audio_read_clip(path, clip, 16000), QSNN_OK);
    qsnn_frontend_params p;
    qsnn_frontend_defaults(&p, QSNN_FRONTEND_TF_AUDIO_OPS);
    qsnn_frontend *fe;
    assert_int_equal(qsnn_frontend_create(&fe, &p), QSNN_OK);
    assert_int_equal(qsnn_frontend_compute(fe, a, clip, 16000), QSNN_OK);
    qsnn_mfcc_params mp;
    qsnn_mfcc_default_params(&mp);
    qsnn_mfcc *m;
    assert_int_equal(qsnn_mfcc_create(&m, &mp), QSNN_OK);
    assert_int_equal(qsnn_mfcc_compute(m, b, clip, 16000), QSNN_OK);
    assert_memory_equal(a, b, sizeof a);
    /* a shorter input is zero-padded to the clip */
    assert_int_equal(qsnn_frontend_compute(fe, a, clip, 9000), QSNN_OK);
    memset(clip + 9000, 0, 7000 * sizeof *clip);
    assert_int_equal(qsnn_mfcc_compute(m, b, clip, 16000), QSNN_OK);
    assert_memory_equal(a, b, sizeof a);
    qsnn_mfcc_destroy(m);
    qsnn_frontend_destroy(fe);
}

static void test_json_and_validation(void **state)
{
    (void)state;
    qsnn_frontend_params p, q;
    qsnn_frontend_defaults(&p, QSNN_FRONTEND_TF_SIGNAL);
    p.num_coeffs = 13;
    cJSON *o = cJSON_CreateObject();
    assert_int_equal(qsnn_frontend_to_json(&p, o), QSNN_OK);
    assert_int_equal(qsnn_frontend_from_json(&q, o, "t"), QSNN_OK);
    assert_true(qsnn_frontend_same(&p, &q));
    assert_int_equal(q.input, QSNN_INPUT_FLOAT);
    cJSON_AddNumberToObject(o, "wndow", 3);
    assert_int_equal(qsnn_frontend_from_json(&q, o, "t"), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "'wndow'"));
    cJSON_Delete(o);
    cJSON *bad = cJSON_Parse("{\"frontend\": \"tf-signal\", \"fft_size\": 500}");
    assert_int_equal(qsnn_frontend_from_json(&q, bad, "t"), QSNN_ERR_RANGE);
    assert_non_null(strstr(qsnn_last_error(), "fft_size"));
    cJSON_Delete(bad);
    bad = cJSON_Parse("{\"frontend\": \"librosa\"}");
    assert_int_equal(qsnn_frontend_from_json(&q, bad, "t"), QSNN_ERR_FORMAT);
    cJSON_Delete(bad);
    bad = cJSON_Parse("{\"frontend\": \"tf-audio-ops\", \"log_offset\": 0.001}");
    assert_int_not_equal(qsnn_frontend_from_json(&q, bad, "t"), QSNN_OK);
    cJSON_Delete(bad);
    qsnn_frontend_kind k;
    assert_int_equal(qsnn_frontend_parse("tf-signal", &k), QSNN_OK);
    assert_int_equal(k, QSNN_FRONTEND_TF_SIGNAL);
    assert_int_equal(qsnn_frontend_parse("mfcc", &k), QSNN_ERR_ARG);
    qsnn_frontend_defaults(&p, QSNN_FRONTEND_TF_SIGNAL);
    p.stride = 0;
    assert_int_equal(qsnn_frontend_validate(&p), QSNN_ERR_RANGE);
    p.stride = 320;
    p.num_coeffs = 41;
    assert_int_equal(qsnn_frontend_validate(&p), QSNN_ERR_RANGE);
    qsnn_frontend *fe = NULL;
    assert_int_equal(qsnn_frontend_create(&fe, &p), QSNN_ERR_RANGE);
    assert_null(fe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tf_signal_golden),
        cmocka_unit_test(test_signed_peak_and_gain),
        cmocka_unit_test(test_tf_audio_ops_is_mfcc),
        cmocka_unit_test(test_json_and_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
