/* SPDX-License-Identifier: Apache-2.0 */
/* test_kws.c: the keyword pipeline on streams: the detector on crafted score sequences (softmax, averaging,
 * threshold, suppression, re-arming, the word's span), event scoring on synthetic event lists (a hit, a miss, a
 * wrong label, a false accept, a repeated detection, both sides of the tolerance edge), the calibration choice,
 * the .snn metadata block (round trip, an older file without it, corrupt blocks refused), the recordings built
 * from a small dataset made in /tmp (deterministic, in range, label file round trip) and `qsnn eval-stream` end
 * to end on them with the shipped model; the spotter's detections against eval-stream's replay
 * of the stored scores on keyword audio (real clips with ../shared/data, else synthetic words). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qsnn/audio.h"
#include "qsnn/convert.h"
#include "qsnn/detect.h"
#include "qsnn/io.h"
#include "qsnn/kws.h"
#include "qsnn/model.h"
#include "qsnn/snn_meta.h"
#include "qsnn/stream_eval.h"

static char g_root[64];

/* ---- detector ---- */

static qsnn_detector *make_det(const qsnn_detect_params *p, int classes, const uint8_t *kw, void **mem)
{
    size_t n = qsnn_detect_mem_size(p, classes);
    assert_true(n > 0);
    *mem = malloc(n);
    qsnn_detector *d = NULL;
    assert_int_equal(qsnn_detect_init(&d, p, classes, kw, *mem, n), QSNN_OK);
    return d;
}

static void test_softmax(void **state)
{
    (void)state;
    int32_t pot[3] = {100, 0, -2147483647};
    float s[3];
    qsnn_detect_scores(s, pot, 3, 0.01f);
    double e1 = exp(-1.0);
    assert_true(fabs(s[0] - 1.0 / (1.0 + e1)) < 1e-6);
    assert_true(fabs(s[1] - e1 / (1.0 + e1)) < 1e-6);
    assert_true(s[2] == 0.0f); /* no overflow with a far potential */
}

static void test_detector_threshold_suppression(void **state)
{
    (void)state;
    /* classes: 0 _silence_, 1 _unknown_, 2 yes, 3 no; 100 ms hop, average over 3 windows; scores chosen so that
     * every average is exact in float */
    uint8_t kw[4] = {0, 0, 1, 1};
    qsnn_detect_params p;
    qsnn_detect_default_params(&p);
    p.threshold = 0.5f;
    p.average_ms = 300;
    p.suppress_ms = 1000;
    void *mem;
    qsnn_detector *d = make_det(&p, 4, kw, &mem);
    float yes[4] = {0, 0, 0.75f, 0.25f}, sil[4] = {1, 0, 0, 0}, unk[4] = {0, 1, 0, 0}, no[4] = {0, 0, 0, 1};
    float under[4] = {0, 0, 0.4f, 0.4f};
    qsnn_detection det;
    /* the average divides by the span from the start: 0.25, 0.5 (fires at window 1) */
    assert_int_equal(qsnn_detect_feed(d, yes, &det), 0);
    assert_int_equal(qsnn_detect_feed(d, yes, &det), 1);
    assert_int_equal(det.label, 2);
    assert_true(det.score == 0.5f);
    assert_int_equal(det.window, 1);
    assert_true(fabs(det.time_s - 1.1) < 1e-9);
    /* windows 0 and 1 scored it >= 0.5: the word is in both, [0.1, 1.0] */
    assert_true(fabs(det.start_s - 0.1) < 1e-9 && fabs(det.end_s - 1.0) < 1e-9);
    /* held: no second detection while the average stays up (disarmed) */
    for (int i = 0; i < 20; i++)
        assert_int_equal(qsnn_detect_feed(d, yes, &det), 0);
    /* falling below the threshold re-arms, but the suppression (1 s) still counts from window 1 */
    qsnn_detect_reset(d);
    assert_int_equal(qsnn_detect_feed(d, yes, &det), 0);
    assert_int_equal(qsnn_detect_feed(d, yes, &det), 1); /* window 1 */
    assert_int_equal(qsnn_detect_feed(d, sil, &det), 0); /* average 0.5: still up, disarmed */
    assert_int_equal(qsnn_detect_feed(d, sil, &det), 0); /* 0.25: re-armed */
    assert_int_equal(qsnn_detect_feed(d, yes, &det), 0); /* window 4: 0.25 */
    assert_int_equal(qsnn_detect_feed(d, yes, &det), 0); /* window 5: 0.5, but within 1 s of window 1 */
    int fired = -1;
    for (int w = 6; w < 20 && fired < 0; w++)
        if (qsnn_detect_feed(d, yes, &det))
            fired = w;
    assert_int_equal(fired, 11); /* (11 - 1) * 100 ms = 1000 ms: the first window allowed */
    /* another keyword is not suppressed by the first */
    assert_int_equal(qsnn_detect_feed(d, no, &det), 0); /* yes and no tie at 0.5: yes (first) is disarmed */
    assert_int_equal(qsnn_detect_feed(d, no, &det), 1);
    assert_int_equal(det.label, 3);
    assert_true(det.score == 0.75f);
    /* a non-keyword class never fires, nor an average under the threshold */
    qsnn_detect_reset(d);
    for (int i = 0; i < 10; i++)
        assert_int_equal(qsnn_detect_feed(d, unk, &det), 0);
    qsnn_detect_reset(d);
    for (int i = 0; i < 10; i++)
        assert_int_equal(qsnn_detect_feed(d, under, &det), 0);
    float avg[4];
    qsnn_detect_average(d, avg);
    assert_true(fabs(avg[2] - 0.4f) < 1e-6 && avg[0] == 0.0f);
    free(mem);
    /* bad parameters are refused with a message */
    p.threshold = 0.0f;
    assert_int_equal(qsnn_detect_check_params(&p), QSNN_ERR_ARG);
    assert_int_equal(qsnn_detect_mem_size(&p, 4), 0);
    p.threshold = 0.5f;
    p.average_ms = 50; /* shorter than one hop */
    assert_int_equal(qsnn_detect_check_params(&p), QSNN_ERR_ARG);
    p.average_ms = 300;
    char small[16];
    assert_int_equal(qsnn_detect_init(&d, &p, 4, kw, small, sizeof small), QSNN_ERR_ARG);
}

/* ---- scoring ---- */

static qsnn_detection dt(int label, double t)
{
    qsnn_detection d;
    memset(&d, 0, sizeof d);
    d.label = label;
    d.time_s = t;
    return d;
}

static void test_score_events(void **state)
{
    (void)state;
    qsnn_stream_event ev[5] = {{"yes", 2, 10.0}, {"no", 3, 20.0}, {"yes", 2, 30.0}, {"no", 3, 40.0},
                               {"marvin", -1, 50.0}};
    qsnn_stream_recording r;
    memset(&r, 0, sizeof r);
    r.ev = ev;
    r.nev = 5;
    r.n = (size_t)3600 * QSNN_SAMPLE_RATE; /* one hour */
    qsnn_detection d[] = {
        dt(2, 11.2),  /* hit of yes@10, delay 0.2 */
        dt(2, 11.5),  /* a repeat: false accept */
        dt(2, 21.0),  /* no@20 detected as yes: wrong label */
        dt(3, 21.3),  /* ... then as no: a hit (same-label matches first), so the yes above is a false accept */
        dt(2, 31.75), /* yes@30 at the tolerance edge (30 + 1 + 0.75): hit, delay 0.75 */
        dt(3, 41.76), /* no@40 just past the edge: false accept, no@40 missed */
        dt(2, 50.5),  /* on a non-keyword event: false accept */
        dt(2, 100.0), /* nowhere: false accept */
    };
    qsnn_stream_score s;
    assert_int_equal(qsnn_stream_score_events(&s, &r, d, 8, 0.75), QSNN_OK);
    assert_int_equal(s.keywords, 4);
    assert_int_equal(s.hits, 3);
    assert_int_equal(s.misses, 1);
    assert_int_equal(s.wrong, 0);
    assert_int_equal(s.false_accepts, 5);
    assert_true(fabs(qsnn_stream_mean_delay(&s) - (0.2 + 0.3 + 0.75) / 3) < 1e-9);
    assert_true(fabs(qsnn_stream_fa_per_hour(&s) - 5.0) < 1e-9);
    assert_true(fabs(qsnn_stream_miss_rate(&s) - 0.25) < 1e-12);
    /* a wrong label alone makes the event a wrong-label miss, not a false accept */
    qsnn_detection w[] = {dt(3, 10.5), dt(3, 10.6)};
    assert_int_equal(qsnn_stream_score_events(&s, &r, w, 2, 0.75), QSNN_OK);
    assert_int_equal(s.hits, 0);
    assert_int_equal(s.wrong, 1);
    assert_int_equal(s.misses, 4);
    assert_int_equal(s.false_accepts, 1); /* the second one */
    /* a detection before the clip starts does not count for it */
    qsnn_detection early[] = {dt(2, 9.99)};
    assert_int_equal(qsnn_stream_score_events(&s, &r, early, 1, 0.75), QSNN_OK);
    assert_int_equal(s.hits, 0);
    assert_int_equal(s.false_accepts, 1);
    assert_int_equal(qsnn_stream_score_events(&s, &r, early, 1, -1.0), QSNN_ERR_ARG);
}

static void test_calibrate_choice(void **state)
{
    (void)state;
    qsnn_det_point p[4];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 4; i++) {
        p[i].kw.keywords = 100;
        p[i].kw.hours = p[i].kwfree.hours = 1.0;
        p[i].threshold = 0.5f + 0.1f * (float)i;
    }
    p[0].kw.misses = 5, p[0].kwfree.false_accepts = 3;  /* over the budget */
    p[1].kw.misses = 10, p[1].kwfree.false_accepts = 1; /* meets it */
    p[2].kw.misses = 10, p[2].kwfree.false_accepts = 0; /* as many misses, fewer false accepts: chosen */
    p[3].kw.misses = 20, p[3].kwfree.false_accepts = 0;
    assert_int_equal(qsnn_stream_calibrate(p, 4, 1.0), 2);
    assert_int_equal(qsnn_stream_calibrate(p, 4, 3.0), 0);
    p[2].kwfree.false_accepts = p[3].kwfree.false_accepts = 2;
    p[1].kwfree.false_accepts = 2;
    assert_int_equal(qsnn_stream_calibrate(p, 4, 1.0), -1);
}

/* ---- the .snn metadata block ---- */

/* A one-layer model: FC 2 inputs -> 3 classes. */
static void tiny_image(unsigned char **img, size_t *size, float logit_scale)
{
    static const int8_t w[6] = {1, -1, 2, 0, 3, -3};
    qsnn_convert_build b;
    memset(&b, 0, sizeof b);
    b.in_h = 1, b.in_w = 1, b.in_c = 2, b.num_classes = 3;
    b.scale_min = 0, b.scale_max = 1, b.input_scale = 255;
    b.num_layers = 1;
    b.logit_scale = logit_scale;
    qsnn_convert_layer_shape(&b.layers[0].rec, QSNN_SNN_FC, 1, 1, 2, 3, 1, 1, 1, 1, 0, 0);
    snprintf(b.layers[0].rec.name, 32, "fc");
    b.layers[0].rec.weight_bits = 4;
    b.layers[0].rec.in_bits = 8;
    b.layers[0].w = w;
    assert_int_equal(qsnn_convert_build_image(&b, img, size), QSNN_OK);
}

static void test_snn_meta(void **state)
{
    (void)state;
    unsigned char *old, *img;
    size_t nold, n;
    qsnn_snn_model m;
    qsnn_snn_meta meta;
    /* an older image (no block) loads and has no metadata */
    tiny_image(&old, &nold, 0.0f);
    assert_int_equal(qsnn_snn_model_init(&m, old, nold, "old"), QSNN_OK);
    qsnn_snn_meta_get(&m, &meta);
    assert_int_equal(meta.flags, 0);
    assert_int_equal(qsnn_snn_meta_offset(&m), nold);
    /* the converter's block: the scale only */
    tiny_image(&img, &n, 0.125f);
    assert_int_equal(n, nold + QSNN_SNN_META_SIZE);
    assert_memory_equal(img + 24, old + 24, nold - 24); /* same sections, then the block */
    assert_int_equal(qsnn_snn_model_init(&m, img, n, "new"), QSNN_OK);
    qsnn_snn_meta_get(&m, &meta);
    assert_int_equal(meta.flags, QSNN_SNN_META_SCALE);
    assert_true(meta.logit_scale == 0.125f);
    /* calibration replaces the block (size unchanged), written on top of an older image too */
    meta.flags |= QSNN_SNN_META_DETECT;
    meta.threshold = 0.93f;
    meta.average_ms = 750;
    meta.suppress_ms = 1500;
    meta.calib_fa_per_hour = 0.5f;
    meta.calib_miss_rate = 0.25f;
    unsigned char *out = malloc(n + 64);
    size_t nout;
    assert_int_equal(qsnn_snn_meta_write(&m, &meta, out, n + 64, &nout), QSNN_OK);
    assert_int_equal(nout, n);
    qsnn_snn_model m2;
    assert_int_equal(qsnn_snn_model_init(&m2, out, nout, "calibrated"), QSNN_OK);
    qsnn_snn_meta got;
    qsnn_snn_meta_get(&m2, &got);
    assert_int_equal(got.flags, QSNN_SNN_META_SCALE | QSNN_SNN_META_DETECT);
    assert_true(got.threshold == 0.93f && got.average_ms == 750 && got.suppress_ms == 1500);
    assert_true(got.calib_fa_per_hour == 0.5f && got.calib_miss_rate == 0.25f && got.logit_scale == 0.125f);
    assert_int_equal(qsnn_snn_model_init(&m, old, nold, "old"), QSNN_OK);
    assert_int_equal(qsnn_snn_meta_write(&m, &meta, out, n + 64, &nout), QSNN_OK);
    assert_int_equal(nout, n);
    assert_int_equal(qsnn_snn_model_init(&m2, out, nout, "old+block"), QSNN_OK);
    assert_int_equal(qsnn_snn_meta_write(&m, &meta, out, n - 1, &nout), QSNN_ERR_ARG); /* no room */
    meta.threshold = 1.5f;
    assert_int_equal(qsnn_snn_meta_write(&m, &meta, out, n + 64, &nout), QSNN_ERR_ARG);
    /* corrupt blocks are refused (CRC recomputed so the block itself is what fails) */
    struct {
        size_t at;
        uint32_t v;
    } bad[] = {{0, 0x58585858u}, {8, 0}, {12, 44}, {16, 0x80u}, {20, 0xff800000u}, {16, 3u}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        memcpy(out, img, n);
        unsigned char *b = out + nold + bad[k].at;
        for (int i = 0; i < 4; i++)
            b[i] = (unsigned char)(bad[k].v >> (8 * i));
        memset(out + 20, 0, 4);
        uint32_t crc = qsnn_crc32(0, out, n);
        for (int i = 0; i < 4; i++)
            out[20 + i] = (unsigned char)(crc >> (8 * i));
        assert_int_equal(qsnn_snn_model_init(&m2, out, n, "corrupt"), QSNN_ERR_FORMAT);
        assert_non_null(strstr(qsnn_last_error(), "corrupt: "));
    }
    /* trailing bytes that are not a block */
    memcpy(out, old, nold);
    memset(out + nold, 0, 16);
    out[16] = (unsigned char)(nold + 16), out[17] = (unsigned char)((nold + 16) >> 8);
    memset(out + 20, 0, 4);
    uint32_t crc = qsnn_crc32(0, out, nold + 16);
    for (int i = 0; i < 4; i++)
        out[20 + i] = (unsigned char)(crc >> (8 * i));
    assert_int_equal(qsnn_snn_model_init(&m2, out, nold + 16, "trailing"), QSNN_ERR_FORMAT);
    free(out);
    free(old);
    free(img);
}

/* ---- recordings from a small dataset in the released test layout ---- */

static const char *const g_words[] = {"down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes"};

static void mkdirs(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0777);
            *p = '/';
        }
    mkdir(buf, 0777);
}

/* A clip: a 0.4 s tone burst (frequency per word and clip) in the middle of a second. */
static void write_tone(const char *dir, const char *folder, int i, double hz)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, folder);
    mkdirs(path);
    snprintf(path, sizeof path, "%s/%s/c%02d_nohash_0.wav", dir, folder, i);
    float x[QSNN_CLIP_SAMPLES];
    for (int j = 0; j < QSNN_CLIP_SAMPLES; j++)
        x[j] = j >= 5000 && j < 11400 ? 0.3f * (float)sin(2 * 3.14159265 * hz * j / QSNN_SAMPLE_RATE) : 0.0f;
    assert_int_equal(qsnn_audio_write_wav16(path, x, QSNN_CLIP_SAMPLES, QSNN_SAMPLE_RATE), QSNN_OK);
}

static void make_dataset(const char *dir)
{
    for (int w = 0; w < 10; w++)
        for (int i = 0; i < 2; i++)
            write_tone(dir, g_words[w], i, 300.0 + 100.0 * w + 37.0 * i);
    for (int i = 0; i < 5; i++)
        write_tone(dir, "_unknown_", i, 2500.0 + 150.0 * i);
    for (int i = 0; i < 2; i++)
        write_tone(dir, "_silence_", i, 0.0);
}

static void test_build_recordings(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/ds", g_root);
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.unknown_pct = 10000;
    o.silence_pct = 0;
    qsnn_dataset *ds;
    assert_int_equal(qsnn_dataset_open(&ds, dir, &o), QSNN_OK);
    qsnn_stream_build_opts bo;
    qsnn_stream_default_build_opts(&bo);
    bo.free_minutes = 0.5;
    qsnn_stream_recording kw, fr, kw2;
    assert_int_equal(qsnn_stream_build(&kw, &fr, ds, QSNN_SPLIT_TEST, &bo), QSNN_OK);
    assert_int_equal(kw.nev, 20);
    for (size_t i = 0; i < kw.nev; i++) {
        if (i) {
            double gap = kw.ev[i].start_s - kw.ev[i - 1].start_s;
            assert_true(gap >= 3.0 - 1e-3 && gap <= 4.0 + 1e-3);
        }
        assert_true(kw.ev[i].start_s * QSNN_SAMPLE_RATE + QSNN_CLIP_SAMPLES <= (double)kw.n);
    }
    for (size_t i = 0; i < kw.n; i++)
        assert_true(kw.audio[i] >= -1.0f && kw.audio[i] <= 1.0f);
    assert_int_equal(fr.nev, 0);
    assert_int_equal(fr.n, (size_t)(30.0 * QSNN_SAMPLE_RATE));
    assert_true(fr.words >= 10 && fr.words <= 15); /* one every 2-3 s */
    /* the tone ends at 11400 of 16000 samples: 0.2875 s before the clip's end (10 ms frames: 0.28-0.29) */
    assert_true(fabs(kw.word_end_s - 0.2875) < 0.011);
    /* deterministic; another seed differs */
    assert_int_equal(qsnn_stream_build(&kw2, NULL, ds, QSNN_SPLIT_TEST, &bo), QSNN_OK);
    assert_int_equal(kw2.n, kw.n);
    assert_memory_equal(kw2.audio, kw.audio, kw.n * sizeof(float));
    qsnn_stream_recording_free(&kw2);
    bo.seed = 2;
    assert_int_equal(qsnn_stream_build(&kw2, NULL, ds, QSNN_SPLIT_TEST, &bo), QSNN_OK);
    assert_true(kw2.n != kw.n || memcmp(kw2.audio, kw.audio, kw.n * sizeof(float)) != 0);
    qsnn_stream_recording_free(&kw2);
    /* the validation split of this layout is empty */
    assert_int_equal(qsnn_stream_build(&kw2, NULL, ds, QSNN_SPLIT_VALIDATION, &bo), QSNN_ERR_ARG);
    /* WAV + label file round trip; names resolve against model labels */
    char wav[256], lab[256];
    snprintf(wav, sizeof wav, "%s/k.wav", g_root);
    snprintf(lab, sizeof lab, "%s/k_labels.txt", g_root);
    assert_int_equal(qsnn_stream_recording_write(&kw, wav, lab), QSNN_OK);
    qsnn_stream_recording rd;
    assert_int_equal(qsnn_stream_recording_read(&rd, wav, lab), QSNN_OK);
    assert_int_equal(rd.n, kw.n);
    assert_int_equal(rd.nev, kw.nev);
    for (size_t i = 0; i < kw.nev; i++) {
        assert_string_equal(rd.ev[i].name, kw.ev[i].name);
        assert_true(fabs(rd.ev[i].start_s - kw.ev[i].start_s) <= 0.0005 + 1e-9);
    }
    for (size_t i = 0; i < kw.n; i += 997)
        assert_true(fabs(rd.audio[i] - kw.audio[i]) <= 1.0f / 32768.0f + 1e-7f);
    const char *labels[4] = {"_silence_", "_unknown_", "yes", "no"};
    size_t nk = qsnn_stream_resolve(&rd, labels, 4);
    assert_int_equal(nk, 4); /* 2 yes + 2 no */
    qsnn_stream_recording_free(&rd);
    /* a bad label file names the file and the line */
    FILE *fp = fopen(lab, "w");
    fputs("# comment\nyes,1000\n\nno;2000\n", fp);
    fclose(fp);
    assert_int_equal(qsnn_stream_recording_read(&rd, wav, lab), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "k_labels.txt:4:"));
    fp = fopen(lab, "w");
    fputs("yes,-5\n", fp);
    fclose(fp);
    assert_int_equal(qsnn_stream_recording_read(&rd, wav, lab), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), ":1:"));
    qsnn_stream_recording_free(&kw);
    qsnn_stream_recording_free(&fr);
    qsnn_dataset_free(ds);
}

/* qsnn eval-stream end to end: the shipped model converted, the small dataset's test split, JSON checked. */
static cJSON *run_json(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = 0;
    int rc = pclose(p);
    if (rc != 0)
        fail_msg("%s: exit %d\n%s", cmd, rc, buf);
    cJSON *j = cJSON_Parse(buf);
    assert_non_null(j);
    return j;
}

static double num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItem(o, a);
    if (b)
        x = cJSON_GetObjectItem(x, b);
    assert_non_null(x);
    return x->valuedouble;
}

/* Keyword audio for the spotter checks: the ten keywords spoken once each, 2.5 s apart, over a low noise floor
 * (about -50 dBFS, a fixed LCG: the engine runs on every window, none is gated), written to DIR/speech.wav. The
 * words are real clips of the test subset when ../shared/data is there (the first clip of each keyword folder,
 * sorted; QSNN_SHARED_DATA), else the synthetic words of `qsnn synth` (one test voice). Returns 1 for real clips. */
static const char *shared_root(void);

static int make_speech(const char *exe, const char *path)
{
    char cmd[2048], dir[1024];
    snprintf(dir, sizeof dir, "%s/speech_commands_test_subset", shared_root());
    struct stat sb;
    const int real = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (!real) {
        snprintf(dir, sizeof dir, "%s/syn", g_root);
        snprintf(cmd, sizeof cmd,
                 "'%s' synth -o '%s' --words down,go,left,no,off,on,right,stop,up,yes "
                 "--keywords down,go,left,no,off,on,right,stop,up,yes --per-word 1 --unknown-per-word 0 --voices 1 "
                 "--noise-seconds 0 -j 1 -q >/dev/null 2>&1",
                 exe, dir);
        assert_int_equal(system(cmd), 0);
    }
    const size_t gap = QSNN_SAMPLE_RATE * 5 / 2, n = 10 * gap + QSNN_SAMPLE_RATE;
    float *x = calloc(n, sizeof *x);
    assert_non_null(x);
    uint32_t r = 12345u;
    for (size_t i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = ((float)(r >> 8) / 16777216.0f - 0.5f) * 0.01f;
    }
    for (int w = 0; w < 10; w++) {
        snprintf(cmd, sizeof cmd, "ls '%s/%s'/*.wav | head -n 1", dir, g_words[w]);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        char clip[1024] = "";
        assert_non_null(fgets(clip, sizeof clip, p));
        pclose(p);
        clip[strcspn(clip, "\n")] = 0;
        float *c = NULL;
        size_t len = 0;
        assert_int_equal(qsnn_audio_read(clip, &c, &len, NULL), QSNN_OK);
        for (size_t i = 0; i < len && i < QSNN_CLIP_SAMPLES; i++)
            x[QSNN_SAMPLE_RATE / 2 + (size_t)w * gap + i] += c[i];
        free(c);
    }
    assert_int_equal(qsnn_audio_write_wav16(path, x, n, QSNN_SAMPLE_RATE), QSNN_OK);
    free(x);
    return real;
}

static void test_eval_stream_command(void **state)
{
    (void)state;
    const char *exe = getenv("QSNN_EXE");
    if (!exe)
        exe = QSNN_BINARY_DIR "/qsnn";
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' convert '%s/models/mobilenet_kws_pretrained.qsnn' -o '%s/k.snn' >/dev/null 2>&1",
             exe, QSNN_SOURCE_DIR, g_root);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "'%s' eval-stream '%s/k.snn' '%s/ds' --split test --minutes 0.5 --json -q --spans 300,1000 "
             "--write-wav '%s/rec' "
             "--det '%s/det.svg' --det '%s/det.png'",
             exe, g_root, g_root, g_root, g_root, g_root);
    cJSON *j = run_json(cmd);
    assert_int_equal((int)num(j, "keywords", "keywords"), 20);
    double hits = num(j, "keywords", "hits");
    assert_true(hits + num(j, "keywords", "misses") == 20);
    assert_true(fabs(num(j, "keyword_free", "hours") - 0.5 / 60) < 1e-9);
    assert_int_equal((int)num(j, "keyword_free", "keywords"), 0);
    assert_true(num(j, "keywords", "realtime_factor") > 0);
    const cJSON *det = cJSON_GetObjectItem(j, "det");
    assert_int_equal(cJSON_GetArraySize(det), 2 * 38);
    for (int i = 0; i < 2 * 38; i++) {
        const cJSON *pt = cJSON_GetArrayItem(det, i);
        double mr = cJSON_GetObjectItem(pt, "miss_rate")->valuedouble;
        assert_true(mr >= 0 && mr <= 1 && cJSON_GetObjectItem(pt, "fa_per_hour_keyword_free")->valuedouble >= 0);
    }
    cJSON_Delete(j);
    struct stat sb;
    snprintf(cmd, sizeof cmd, "%s/det.png", g_root);
    assert_int_equal(stat(cmd, &sb), 0);
    snprintf(cmd, sizeof cmd, "%s/det.svg", g_root);
    assert_int_equal(stat(cmd, &sb), 0);
    /* the written recording read back with its label file: the same events */
    snprintf(cmd, sizeof cmd,
             "'%s' eval-stream '%s/k.snn' '%s/rec/keywords_test.wav' --labels '%s/rec/keywords_test_labels.txt' "
             "--free '%s/rec/keyword_free_test.wav' --json -q",
             exe, g_root, g_root, g_root, g_root);
    j = run_json(cmd);
    assert_int_equal((int)num(j, "keywords", "keywords"), 20);
    assert_true(fabs(num(j, "keyword_free", "hours") - 0.5 / 60) < 1e-9);
    cJSON_Delete(j);
    /* the library spotter's score decision (what `qsnn stream` runs) gives the detections eval-stream replays
     * from the stored scores, at the same parameters (the model's: qsnn's defaults, it is not calibrated); each
     * carries a score over the threshold and ordered times. On keyword audio, so that there are detections to
     * compare (the device front end against its own reference: tests/test_spotter.c). */
    char speech[160];
    snprintf(speech, sizeof speech, "%s/speech.wav", g_root);
    const int real = make_speech(exe, speech);
    {
        qsnn_snn_model m;
        unsigned char *img;
        snprintf(cmd, sizeof cmd, "%s/k.snn", g_root);
        assert_int_equal(qsnn_snn_load(cmd, &m, &img), QSNN_OK);
        qsnn_stream_recording rec;
        assert_int_equal(qsnn_stream_recording_read(&rec, speech, NULL), QSNN_OK);
        qsnn_kws_opts ko;
        int cal = -1;
        qsnn_kws_model_opts(&ko, &m, &cal);
        assert_int_equal(cal, 0);
        assert_int_equal(ko.decision, QSNN_KWS_SCORES);
        assert_true(ko.logit_scale > 0);
        assert_true(ko.detect.threshold == QSNN_DETECT_DEFAULT_THRESHOLD);
        qsnn_kws_spotter *sp;
        assert_int_equal(qsnn_kws_spotter_create(&sp, &m, &ko, NULL, NULL), QSNN_OK);
        for (size_t at = 0; at < rec.n; at += 1234) /* in pieces, as a microphone would */
            assert_int_equal(qsnn_kws_spotter_feed(sp, rec.audio + at, rec.n - at < 1234 ? rec.n - at : 1234), QSNN_OK);
        assert_int_equal(qsnn_kws_spotter_finish(sp), QSNN_OK);
        const qsnn_kws_detection *kd;
        size_t nk = qsnn_kws_spotter_detections(sp, &kd);
        qsnn_kws_summary sum;
        qsnn_kws_spotter_summary(sp, &sum);
        assert_int_equal(sum.gated_windows, 0);
        qsnn_stream_windows w;
        assert_int_equal(qsnn_stream_run(&w, &m, ko.logit_scale, rec.audio, rec.n, 100, -80.0), QSNN_OK);
        assert_int_equal(w.nwin, sum.windows);
        for (size_t k = 0; k < w.nwin; k++) {
            double sum1 = 0;
            for (int c = 0; c < w.classes; c++)
                sum1 += w.scores[k * (size_t)w.classes + (size_t)c];
            assert_true(fabs(sum1 - 1.0) < 1e-4);
        }
        uint8_t is_kw[QSNN_SNN_MAX_CLASSES];
        for (int c = 0; c < m.num_classes; c++)
            is_kw[c] = m.labels[c][0] != '_';
        qsnn_detect_params dp = ko.detect;
        dp.hop_ms = 100;
        qsnn_detection *dd;
        size_t nd;
        assert_int_equal(qsnn_stream_detect(&w, &dp, is_kw, &dd, &nd, NULL), QSNN_OK);
        /* ten keywords, 2.5 s apart: detections, at most one per word, most of them the word spoken there */
        size_t right = 0;
        for (size_t i = 0; i < nk; i++) { /* the word whose clip starts nearest (clip w starts at 0.5 + 2.5 w s) */
            long wi = lround((kd[i].time_s - 0.5) / 2.5);
            wi = wi < 0 ? 0 : wi > 9 ? 9 : wi;
            right += !strcmp(m.labels[kd[i].label], g_words[wi]);
        }
        printf("  %s keywords: %zu detections, %zu of them the word spoken there\n", real ? "real" : "synthetic", nk,
               right);
        assert_true(nk > 0 && nk <= 10 && 2 * right > nk);
        assert_int_equal(nk, nd);
        for (size_t i = 0; i < nk; i++) {
            assert_int_equal(kd[i].label, dd[i].label);
            assert_true(kd[i].score == dd[i].score && kd[i].score >= ko.detect.threshold);
            assert_true(fabs(kd[i].detected_s - dd[i].time_s) < 1e-9 && fabs(kd[i].time_s - dd[i].start_s) < 1e-9);
            assert_true(kd[i].time_s <= kd[i].end_s && kd[i].end_s <= kd[i].detected_s);
            if (i)
                assert_true(kd[i].detected_s > kd[i - 1].detected_s);
        }
        free(dd);
        qsnn_stream_windows_free(&w);
        qsnn_kws_spotter_free(sp);
        qsnn_stream_recording_free(&rec);
        free(img);
    }
    /* `qsnn stream` decides by scores by default (the model's parameters) and prints them; --smooth goes back to
     * runs */
    snprintf(cmd, sizeof cmd, "'%s' stream '%s/k.snn' '%s' --json", exe, g_root, speech);
    j = run_json(cmd);
    assert_string_equal(cJSON_GetObjectItem(j, "decision")->valuestring, "scores");
    assert_string_equal(cJSON_GetObjectItem(j, "frontend")->valuestring, "host");
    const cJSON *dets = cJSON_GetObjectItem(j, "detections");
    assert_true(cJSON_GetArraySize(dets) > 0);
    const double th = num(j, "threshold", NULL);
    for (int i = 0; i < cJSON_GetArraySize(dets); i++)
        assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(dets, i), "score")->valuedouble >= th);
    cJSON_Delete(j);
    snprintf(cmd, sizeof cmd, "'%s' stream '%s/k.snn' '%s' --json --device", exe, g_root, speech);
    j = run_json(cmd);
    assert_string_equal(cJSON_GetObjectItem(j, "frontend")->valuestring, "device");
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(j, "detections")) > 0);
    cJSON_Delete(j);
    snprintf(cmd, sizeof cmd, "'%s' stream '%s/k.snn' '%s/rec/keywords_test.wav' --json --smooth 3", exe, g_root,
             g_root);
    j = run_json(cmd);
    assert_string_equal(cJSON_GetObjectItem(j, "decision")->valuestring, "runs");
    cJSON_Delete(j);
    /* eval-stream's --smooth: the same keywords scored */
    snprintf(cmd, sizeof cmd, "'%s' eval-stream '%s/k.snn' '%s/ds' --split test --minutes 0.5 --smooth 3 --json -q",
             exe, g_root, g_root);
    j = run_json(cmd);
    assert_int_equal((int)num(j, "keywords", "keywords"), 20);
    assert_null(cJSON_GetObjectItem(j, "det"));
    cJSON_Delete(j);
    /* calibration on the test split is refused; usage errors exit 2 */
    snprintf(cmd, sizeof cmd, "'%s' eval-stream '%s/k.snn' '%s/ds' --split test --calibrate 1 2>/dev/null", exe,
             g_root, g_root);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
}

/* The real development data (skipped without ../shared/data): the validation split's recordings hold every one of
 * its keyword clips once, 3-4 s apart, and the keyword-free one has no event. */
static const char *shared_root(void)
{
    const char *e = getenv("QSNN_SHARED_DATA");
    return (e && e[0]) ? e : QSNN_SHARED_DATA;
}

static void test_real_recordings(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/speech_commands_subset", shared_root());
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        printf("  %s not present: skipping\n", dir);
        skip();
    }
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.unknown_pct = 10000;
    o.silence_pct = 0;
    qsnn_dataset *ds;
    assert_int_equal(qsnn_dataset_open(&ds, dir, &o), QSNN_OK);
    size_t nkw = 0;
    for (size_t i = 0; i < qsnn_dataset_count(ds, QSNN_SPLIT_VALIDATION); i++)
        nkw += qsnn_dataset_label(ds, QSNN_SPLIT_VALIDATION, i) >= 2;
    assert_true(nkw > 100);
    qsnn_stream_build_opts bo;
    qsnn_stream_default_build_opts(&bo);
    bo.free_minutes = 0.2;
    qsnn_stream_recording kw, fr;
    assert_int_equal(qsnn_stream_build(&kw, &fr, ds, QSNN_SPLIT_VALIDATION, &bo), QSNN_OK);
    assert_int_equal(kw.nev, nkw);
    double len = (double)kw.n / QSNN_SAMPLE_RATE;
    assert_true(len >= 3.0 * (double)(nkw - 1) && len <= 4.0 * (double)nkw + 1.5);
    assert_int_equal(fr.nev, 0);
    assert_true(kw.word_end_s > 0.0 && kw.word_end_s < 1.0);
    qsnn_stream_recording_free(&kw);
    qsnn_stream_recording_free(&fr);
    qsnn_dataset_free(ds);
}

static int setup(void **state)
{
    (void)state;
    qsnn_log_set_level(QSNN_LOG_QUIET);
    snprintf(g_root, sizeof g_root, "/tmp/qsnn_test_kws_XXXXXX");
    if (!mkdtemp(g_root))
        return -1;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/ds", g_root);
    make_dataset(dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_detector_threshold_suppression),
        cmocka_unit_test(test_score_events),
        cmocka_unit_test(test_calibrate_choice),
        cmocka_unit_test(test_snn_meta),
        cmocka_unit_test(test_build_recordings),
        cmocka_unit_test(test_eval_stream_command),
        cmocka_unit_test(test_real_recordings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
