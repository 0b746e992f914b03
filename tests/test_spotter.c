/* SPDX-License-Identifier: Apache-2.0 */
/* test_spotter.c: the keyword pipeline of qsnn/kws.h (src/kws) with the shipped model, converted.
 *
 * The input is a few seconds of audio: real keyword clips of ../shared/data when it is there (else the MFCC
 * fixtures of tests/data), digital silence and quiet noise between them. Checked: the windows of a stream are
 * those of the whole input whatever the sizes of the pieces fed; their number follows the hop; every window's
 * label equals the engine's class of qsnn_kws_clip_u8 of the same second computed from scratch (so the
 * incremental MFCC changes nothing); silence is gated and `--gate off` runs the model on it; detections are runs
 * of `smooth` keyword windows (QSNN_KWS_RUNS; the score decision is tests/test_kws.c's); with the device front end
 * every window's class and score equal those of the device MFCC (qsnn_mfcc_device) of the same second computed
 * from scratch, through the engine and the softmax (what the firmware of examples/mcu computes); bad options and
 * feeding after the end are refused.
 * (`qsnn stream`'s command-line behaviour is tests/test_tutorial.c's.) */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsnn/audio.h"
#include "qsnn/convert.h"
#include "qsnn/detect.h"
#include "qsnn/kws.h"
#include "qsnn/mfcc_device.h"
#include "qsnn/model.h"
#include "qsnn/snn.h"

static unsigned char *g_img;
static qsnn_snn_model g_m;
static float *g_audio;
static size_t g_n;

#define MAX_WIN 4096

typedef struct {
    size_t n;
    int32_t label[MAX_WIN];
    int gated[MAX_WIN];
    long det[MAX_WIN];
    float score[MAX_WIN]; /* the predicted class's score, -1 without scores */
    size_t index_error; /* windows that came with an unexpected index */
} trace;

static void on_window(void *user, const qsnn_kws_window *w)
{
    trace *t = user;
    if (w->index != t->n || t->n >= MAX_WIN) {
        t->index_error++;
        return;
    }
    t->label[t->n] = w->label;
    t->gated[t->n] = w->gated;
    t->det[t->n] = w->detection;
    t->score[t->n] = w->scores ? w->scores[w->label] : -1.0f;
    t->n++;
}

static int append_file(const char *path, float **buf, size_t *n, size_t *cap)
{
    float *x = NULL;
    size_t k = 0;
    if (qsnn_audio_read(path, &x, &k, NULL) != QSNN_OK)
        return 0;
    if (*n + k + 8000 > *cap) {
        *cap = 2 * (*n + k + 8000);
        *buf = realloc(*buf, *cap * sizeof **buf);
    }
    memcpy(*buf + *n, x, k * sizeof *x);
    *n += k;
    for (size_t i = 0; i < 8000; i++) /* half a second of quiet noise (about -60 dBFS) between clips */
        (*buf)[(*n)++] = (float)(((i * 2654435761u) >> 13) & 63) / 32768.0f - 0.001f;
    free(x);
    return 1;
}

static int setup(void **state)
{
    (void)state;
    qsnn_model fm;
    size_t sz = 0;
    if (qsnn_model_load(&fm, QSNN_SOURCE_DIR "/models/mobilenet_kws_pretrained.qsnn") != QSNN_OK)
        return -1;
    qsnn_status st = qsnn_convert_model(&fm, &g_img, &sz, NULL);
    qsnn_model_free(&fm);
    if (st != QSNN_OK || qsnn_snn_model_init(&g_m, g_img, sz, "pretrained") != QSNN_OK)
        return -1;
    size_t cap = 0;
    const char *words[] = {"yes", "no", "up", "down", "left", "stop"};
    int got = 0;
    /* QSNN_SHARED_DATA (the environment variable) overrides the build's ../shared/data, e.g. from a worktree */
    const char *root = getenv("QSNN_SHARED_DATA");
    if (!root || !root[0])
        root = QSNN_SHARED_DATA;
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/speech_commands_subset/%s", root, words[w]);
        struct dirent **ents = NULL;
        int ne = scandir(path, &ents, NULL, alphasort);
        char name[512] = "";
        for (int i = 0; i < ne; i++) {
            size_t L = strlen(ents[i]->d_name);
            if (!name[0] && L > 4 && !strcmp(ents[i]->d_name + L - 4, ".wav"))
                snprintf(name, sizeof name, "%s", ents[i]->d_name);
            free(ents[i]);
        }
        free(ents);
        char file[1600];
        snprintf(file, sizeof file, "%s/%s", path, name);
        got += name[0] && append_file(file, &g_audio, &g_n, &cap);
    }
    if (!got) { /* no shared data: the fixtures */
        const char *fx[] = {"mfcc_chirp.wav", "mfcc_noise.wav", "mfcc_low.wav", "mfcc_tone1k.wav"};
        for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
            char file[1024];
            snprintf(file, sizeof file, "%s/%s", QSNN_TEST_DATA, fx[i]);
            if (!append_file(file, &g_audio, &g_n, &cap))
                return -1;
        }
    }
    /* then 1.5 s of digital silence, which the gate takes */
    if (g_n + 24000 > cap)
        g_audio = realloc(g_audio, (g_n + 24000) * sizeof *g_audio);
    memset(g_audio + g_n, 0, 24000 * sizeof *g_audio);
    g_n += 24000;
    fprintf(stderr, "test_spotter: %.2f s of audio (%s)\n", (double)g_n / QSNN_SAMPLE_RATE,
            got ? "real clips of the shared data" : "fixtures");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(g_img);
    free(g_audio);
    return 0;
}

/* Field by field: the struct's padding is not part of a detection. */
static int same_detection(const qsnn_kws_detection *a, const qsnn_kws_detection *b)
{
    return a->time_s == b->time_s && a->label == b->label && a->windows == b->windows && a->score == b->score &&
           a->end_s == b->end_s && a->detected_s == b->detected_s;
}

/* Run the spotter over the whole input fed in pieces of `piece` samples (0: all at once). */
static void spot(trace *t, const qsnn_kws_opts *o, size_t piece, qsnn_kws_detection *det, size_t *ndet,
                 qsnn_kws_summary *sum)
{
    memset(t, 0, sizeof *t);
    qsnn_kws_spotter *s = NULL;
    assert_int_equal(qsnn_kws_spotter_create(&s, &g_m, o, on_window, t), QSNN_OK);
    size_t step = piece ? piece : g_n;
    for (size_t i = 0; i < g_n; i += step)
        assert_int_equal(qsnn_kws_spotter_feed(s, g_audio + i, g_n - i < step ? g_n - i : step), QSNN_OK);
    assert_int_equal(qsnn_kws_spotter_finish(s), QSNN_OK);
    const qsnn_kws_detection *d;
    *ndet = qsnn_kws_spotter_detections(s, &d);
    assert_true(*ndet < 256);
    if (*ndet) /* none: d may be NULL */
        memcpy(det, d, *ndet * sizeof *d);
    qsnn_kws_spotter_summary(s, sum);
    /* feeding after the end is an error, finishing twice is not */
    float z = 0;
    assert_int_equal(qsnn_kws_spotter_feed(s, &z, 1), QSNN_ERR_ARG);
    assert_int_equal(qsnn_kws_spotter_finish(s), QSNN_OK);
    qsnn_kws_spotter_free(s);
    assert_int_equal(t->index_error, 0);
}

static size_t pieces_and_windows(int smooth)
{
    qsnn_kws_opts o;
    qsnn_kws_default_opts(&o);
    assert_int_equal(o.hop_ms, 100);
    assert_int_equal(o.smooth, 3);
    assert_int_equal(o.decision, QSNN_KWS_SCORES);
    o.decision = QSNN_KWS_RUNS; /* the runs of predictions (the score decision: tests/test_kws.c) */
    o.smooth = smooth;
    static trace ref, t;
    qsnn_kws_detection dref[256], d[256];
    size_t nref, n;
    qsnn_kws_summary sref, s;
    spot(&ref, &o, 0, dref, &nref, &sref);
    assert_int_equal(ref.n, 1 + (g_n - QSNN_CLIP_SAMPLES) / 1600);
    assert_int_equal(sref.windows, ref.n);
    assert_int_equal(sref.samples, g_n);
    assert_int_equal(sref.hop, 1600);
    assert_true(sref.gate_active);
    const size_t pieces[] = {1, 37, 1600, 4097, 16000};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        spot(&t, &o, pieces[k], d, &n, &s);
        assert_int_equal(t.n, ref.n);
        assert_memory_equal(t.label, ref.label, ref.n * sizeof ref.label[0]);
        assert_memory_equal(t.gated, ref.gated, ref.n * sizeof ref.gated[0]);
        assert_memory_equal(t.det, ref.det, ref.n * sizeof ref.det[0]);
        assert_int_equal(n, nref);
        for (size_t j = 0; j < n; j++)
            assert_true(same_detection(&d[j], &dref[j]));
    }
    /* detections: each starts a run of `smooth` windows of a keyword, reported at the run's first window */
    size_t seen = 0;
    for (size_t w = 0; w < ref.n; w++) {
        if (ref.det[w] < 0)
            continue;
        assert_int_equal(ref.det[w], (long)seen);
        const qsnn_kws_detection *x = &dref[seen++];
        assert_int_equal(x->label, ref.label[w]);
        assert_true(g_m.labels[x->label][0] != '_');
        assert_true(x->windows >= o.smooth);
        size_t first = w + 1 - (size_t)o.smooth;
        assert_true(x->time_s == (double)(first * 1600) / QSNN_SAMPLE_RATE);
        for (size_t j = first; j <= w; j++)
            assert_int_equal(ref.label[j], x->label);
        assert_true(first == 0 || ref.label[first - 1] != x->label);
    }
    assert_int_equal(seen, nref);
    fprintf(stderr, "test_spotter: %zu windows, %zu gated, %zu detections (runs of %d)\n", sref.windows,
            sref.gated_windows, nref, smooth);
    return nref;
}

/* The windows and the runs, at smooth 3 (the default) and 1 (every keyword window starts a run: detections on the
 * fixtures too, where the shipped model hears no three keyword windows in a row), so that the checks of the
 * detections below are never vacuous. */
static void test_pieces_and_windows(void **state)
{
    (void)state;
    size_t total = 0;
    for (int sm = 3; sm >= 1; sm -= 2)
        total += pieces_and_windows(sm);
    assert_true(total > 0);
}

/* Every window's class equals the engine's on the same second computed from scratch (qsnn_kws_clip_u8): the
 * incremental MFCC of the spotter gives the same features. The gate takes the silent windows; off, it takes none. */
static void test_incremental_and_gate(void **state)
{
    (void)state;
    qsnn_kws_opts o;
    qsnn_kws_default_opts(&o);
    o.decision = QSNN_KWS_RUNS;
    static trace t;
    qsnn_kws_detection d[256];
    size_t n;
    qsnn_kws_summary s;
    spot(&t, &o, 3200, d, &n, &s);
    void *mem = malloc(qsnn_snn_mem_size(&g_m));
    qsnn_snn_ctx *ctx;
    assert_int_equal(qsnn_snn_init(&ctx, &g_m, mem, qsnn_snn_mem_size(&g_m)), QSNN_OK);
    uint8_t x[490];
    int sil = -1;
    for (int k = 0; k < g_m.num_classes; k++)
        if (!strcmp(g_m.labels[k], "_silence_"))
            sil = k;
    assert_true(sil >= 0);
    size_t gated = 0, compared = 0;
    for (size_t w = 0; w < t.n; w++) {
        const float *win = g_audio + w * 1600;
        double e = 0;
        for (size_t i = 0; i < QSNN_CLIP_SAMPLES; i++)
            e += (double)win[i] * win[i];
        int quiet = e / QSNN_CLIP_SAMPLES < 1e-8; /* -80 dBFS */
        assert_int_equal(t.gated[w], quiet);
        if (quiet) {
            assert_int_equal(t.label[w], sil);
            gated++;
            continue;
        }
        int32_t pred;
        assert_int_equal(qsnn_kws_clip_u8(x, &g_m, win), QSNN_OK);
        assert_int_equal(qsnn_snn_run(ctx, x, NULL, &pred, NULL), QSNN_OK);
        assert_int_equal(pred, t.label[w]);
        compared++;
    }
    free(mem);
    assert_true(gated >= 5 && compared > 10);
    assert_int_equal(s.gated_windows, gated);
    o.gate = 0;
    static trace t2;
    spot(&t2, &o, 0, d, &n, &s);
    assert_int_equal(s.gated_windows, 0);
    assert_false(s.gate_active);
    for (size_t w = 0; w < t2.n; w++)
        assert_int_equal(t2.gated[w], 0);
}

/* The device front end (QSNN_KWS_FRONTEND_DEVICE, `qsnn stream --device`): every window's class and score equal
 * those of the device MFCC of the same second computed from scratch (qsnn_mfcc_device_compute over its 16,000
 * samples), the model's uint8 scaling, the engine and the softmax: the incremental frames and the pieces change
 * nothing, bit for bit. The host front end is counted against it (equal classes on real clips; the fixtures'
 * tones and chirps are where the two MFCCs differ most). */
static void test_device_front_end(void **state)
{
    (void)state;
    qsnn_kws_opts o;
    qsnn_kws_model_opts(&o, &g_m, NULL);
    assert_int_equal(o.frontend, QSNN_KWS_FRONTEND_HOST);
    assert_int_equal(o.decision, QSNN_KWS_SCORES);
    o.frontend = QSNN_KWS_FRONTEND_DEVICE;
    static trace t, th;
    qsnn_kws_detection d[256];
    size_t n;
    qsnn_kws_summary s;
    spot(&t, &o, 1234, d, &n, &s);
    o.frontend = QSNN_KWS_FRONTEND_HOST;
    spot(&th, &o, 0, d, &n, &s);
    assert_int_equal(t.n, th.n);
    void *mem = malloc(qsnn_snn_mem_size(&g_m));
    qsnn_mfcc_device *fe = malloc(sizeof *fe);
    float *f = malloc(sizeof(float) * 49 * QSNN_MFCC_DEVICE_COEFFS);
    assert_true(mem && fe && f);
    qsnn_mfcc_device_init(fe);
    qsnn_snn_ctx *ctx;
    assert_int_equal(qsnn_snn_init(&ctx, &g_m, mem, qsnn_snn_mem_size(&g_m)), QSNN_OK);
    uint8_t x[490];
    size_t compared = 0, host_differs = 0;
    for (size_t w = 0; w < t.n; w++) {
        host_differs += t.label[w] != th.label[w];
        if (t.gated[w])
            continue;
        assert_int_equal(qsnn_mfcc_device_compute(fe, f, g_audio + w * 1600, QSNN_CLIP_SAMPLES), QSNN_OK);
        qsnn_features_to_u8(x, f, sizeof x, g_m.scale_min, g_m.scale_max);
        int32_t pred, pot[QSNN_SNN_MAX_CLASSES];
        float sc[QSNN_SNN_MAX_CLASSES];
        assert_int_equal(qsnn_snn_run(ctx, x, pot, &pred, NULL), QSNN_OK);
        qsnn_detect_scores(sc, pot, g_m.num_classes, o.logit_scale);
        assert_int_equal(pred, t.label[w]);
        assert_true(sc[pred] == t.score[w]);
        compared++;
    }
    fprintf(stderr, "test_spotter: device front end: %zu windows equal to the from-scratch device MFCC; the host front "
            "end's class differs in %zu of %zu windows\n", compared, host_differs, t.n);
    assert_true(compared > 10);
    free(f);
    free(fe);
    free(mem);
    o.frontend = 7;
    qsnn_kws_spotter *sp;
    assert_int_equal(qsnn_kws_spotter_create(&sp, &g_m, &o, NULL, NULL), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "front end"));
}

/* Input shorter than a second: one zero-padded window at the end; the clip of a file equals that of its samples. */
static void test_short_input_and_clip(void **state)
{
    (void)state;
    static trace t;
    qsnn_kws_spotter *s;
    assert_int_equal(qsnn_kws_spotter_create(&s, &g_m, NULL, on_window, &t), QSNN_OK);
    assert_int_equal(qsnn_kws_spotter_feed(s, g_audio, 5000), QSNN_OK);
    assert_int_equal(t.n, 0);
    assert_int_equal(qsnn_kws_spotter_finish(s), QSNN_OK);
    assert_int_equal(t.n, 1);
    qsnn_kws_spotter_free(s);
    float *clip = calloc(QSNN_CLIP_SAMPLES, sizeof *clip);
    assert_non_null(clip);
    const char *wav = QSNN_TEST_DATA "/mfcc_short.wav";
    assert_int_equal(qsnn_audio_read_clip(wav, clip, QSNN_CLIP_SAMPLES), QSNN_OK);
    uint8_t a[490], b[490];
    assert_int_equal(qsnn_kws_clip_u8(a, &g_m, clip), QSNN_OK);
    assert_int_equal(qsnn_kws_file_u8(b, &g_m, wav), QSNN_OK);
    assert_memory_equal(a, b, sizeof a);
    free(clip);
    assert_int_equal(qsnn_kws_file_u8(b, &g_m, QSNN_TEST_DATA "/missing.wav"), QSNN_ERR_IO);
}

static void test_bad_options(void **state)
{
    (void)state;
    qsnn_kws_spotter *s = (qsnn_kws_spotter *)&s;
    qsnn_kws_opts o;
    qsnn_kws_default_opts(&o);
    o.hop_ms = 5;
    assert_int_equal(qsnn_kws_spotter_create(&s, &g_m, &o, NULL, NULL), QSNN_ERR_ARG);
    assert_null(s);
    assert_non_null(strstr(qsnn_last_error(), "hop"));
    qsnn_kws_default_opts(&o);
    o.smooth = 0;
    assert_int_equal(qsnn_kws_spotter_create(&s, &g_m, &o, NULL, NULL), QSNN_ERR_ARG);
    qsnn_kws_default_opts(&o);
    o.gate_db = 3;
    assert_int_equal(qsnn_kws_spotter_create(&s, &g_m, &o, NULL, NULL), QSNN_ERR_ARG);
    /* a model whose input is not a one-second MFCC */
    qsnn_snn_model m2 = g_m;
    m2.in_h = 48;
    assert_int_equal(qsnn_kws_spotter_create(&s, &m2, NULL, NULL, NULL), QSNN_ERR_SHAPE);
    uint8_t x[490];
    float clip[QSNN_CLIP_SAMPLES] = {0};
    assert_int_equal(qsnn_kws_clip_u8(x, &m2, clip), QSNN_ERR_SHAPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_and_windows),
        cmocka_unit_test(test_incremental_and_gate),
        cmocka_unit_test(test_device_front_end),
        cmocka_unit_test(test_short_input_and_clip),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
