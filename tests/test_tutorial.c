/* SPDX-License-Identifier: Apache-2.0 */
/* test_tutorial.c: end-to-end test of `qsnn tutorial` (issue 6) with the shipped pretrained model on a small
 * synthetic Speech Commands set made by `qsnn synth`: the command finishes, results.json is consistent
 * (accuracies in [0, 1], agreement computed and equal to the fraction the printed text gives, HW compatible,
 * size target), the .snn file and the confusion-matrix PNG are written and valid; bad input fails cleanly. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_shell.h"

#include <cairo.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qsnn/audio.h"
#include "qsnn/io.h"
#include "qsnn/snn.h"
#include "qsnn/convert.h"

static char g_tmp[256];
static const char *g_exe;

static int setup(void **state)
{
    (void)state;
    g_exe = getenv("QSNN_EXE");
    if (!g_exe)
        g_exe = QSNN_BINARY_DIR "/qsnn";
    snprintf(g_tmp, sizeof g_tmp, "/tmp/qsnn_test_tutorial_XXXXXX");
    if (!mkdtemp(g_tmp))
        return -1;
    /* 60 voices give a few unseen test voices; a handful of clips per word keeps it quick (also under ASan) */
    return test_shell("'%s' synth -o '%s/synth' --per-word 4 --unknown-per-word 1 --voices 60 --noise-seconds 4 -q",
               g_exe, g_tmp);
}

static int teardown(void **state)
{
    (void)state;
    test_shell("rm -rf '%s'", g_tmp);
    return 0;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_non_null(v);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void test_tutorial_end_to_end(void **state)
{
    (void)state;
    char out[512], path[600];
    snprintf(out, sizeof out, "%s/out", g_tmp);
    int rc = test_shell("'%s' tutorial --data '%s/synth' --out '%s' > '%s/stdout.txt' 2> '%s/stderr.txt'", g_exe, g_tmp,
                 out, g_tmp, g_tmp);
    if (rc != 0) {
        test_shell("cat '%s/stderr.txt'", g_tmp);
        fail_msg("qsnn tutorial exited with %d", rc);
    }

    /* results.json */
    snprintf(path, sizeof path, "%s/results.json", out);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(qsnn_read_text_file(path, 1 << 20, &text, &len), QSNN_OK);
    cJSON *res = cJSON_Parse(text);
    free(text);
    assert_non_null(res);
    double clips = num(res, "clips");
    double acc_q = num(res, "accuracy_quantized"), acc_s = num(res, "accuracy_spiking"), agr = num(res, "agreement");
    assert_true(clips >= 1);
    assert_true(acc_q >= 0 && acc_q <= 1);
    assert_true(acc_s >= 0 && acc_s <= 1);
    assert_true(agr >= 0 && agr <= 1);
    /* accuracies and agreement are fractions of the clip count */
    assert_true(fabs(acc_s * clips - round(acc_s * clips)) < 1e-6);
    assert_true(fabs(agr * clips - round(agr * clips)) < 1e-6);
    /* the two models can differ on at most the clips where they disagree */
    assert_true(fabs(acc_q - acc_s) <= (1.0 - agr) + 1e-9);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "hw_compatible")));
    assert_true(num(res, "snn_bytes") > 0 && num(res, "snn_bytes") <= 16384);
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(res, "steps");
    assert_true(cJSON_IsArray(steps));
    assert_int_equal(cJSON_GetArraySize(steps), 6);
    cJSON_Delete(res);

    /* the printed text carries the tutorial's outputs */
    snprintf(path, sizeof path, "%s/stdout.txt", g_tmp);
    assert_int_equal(qsnn_read_text_file(path, 1 << 22, &text, &len), QSNN_OK);
    assert_non_null(strstr(text, "Total params: 24,576"));
    assert_non_null(strstr(text, "conv_0 (InputConvoluti yes"));
    assert_non_null(strstr(text, "separable_6 (SeparableConvolu"));
    assert_non_null(strstr(text, "Accuracy: "));
    assert_non_null(strstr(text, "Agreement with the quantized model"));
    free(text);

    /* the .snn file loads and validates */
    snprintf(path, sizeof path, "%s/mobilenet_kws.snn", out);
    qsnn_snn_model sm;
    unsigned char *image = NULL;
    assert_int_equal(qsnn_snn_load(path, &sm, &image), QSNN_OK);
    assert_int_equal(sm.num_layers, 7);
    assert_int_equal(sm.num_classes, 12);
    free(image);

    /* the PNG is a valid image of a sensible size */
    snprintf(path, sizeof path, "%s/confusion_matrix.png", out);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    assert_true(cairo_image_surface_get_width(s) >= 400);
    assert_true(cairo_image_surface_get_height(s) >= 400);
    cairo_surface_destroy(s);
    cairo_debug_reset_static_data();
}

static void test_tutorial_bad_input(void **state)
{
    (void)state;
    char path[600];
    /* a missing data folder: usage error */
    assert_int_equal(test_shell("'%s' tutorial --data '%s/no_such_dir' --out '%s/o2' 2>/dev/null", g_exe, g_tmp, g_tmp), 2);
    /* a truncated model file: failure, and the message names the file */
    snprintf(path, sizeof path, "%s/broken.qsnn", g_tmp);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("QSNNMODL", fp);
    fclose(fp);
    assert_int_equal(test_shell("'%s' tutorial --data '%s/synth' --model '%s' --out '%s/o3' > /dev/null 2> '%s/err.txt'",
                         g_exe, g_tmp, path, g_tmp, g_tmp),
                     1);
    char *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/err.txt", g_tmp);
    assert_int_equal(qsnn_read_text_file(path, 1 << 20, &text, &len), QSNN_OK);
    assert_non_null(strstr(text, "broken.qsnn"));
    free(text);
    /* an unknown option: usage error */
    assert_int_equal(test_shell("'%s' tutorial --bogus 2>/dev/null", g_exe), 2);
}

/* `qsnn stream` (keyword spotting on long audio with the shipped model, converted): window arithmetic and JSON on
 * noise (no data needed); with ../shared: four real test clips between real silence clips, each keyword
 * detected once in order, near its clip; refusals. */
static void test_stream(void **state)
{
    (void)state;
    char snn[400], wav[400], js[400];
    snprintf(snn, sizeof snn, "%s/stream.snn", g_tmp);
    assert_int_equal(test_shell("'%s' convert '%s/models/mobilenet_kws_pretrained.qsnn' -o '%s' >/dev/null 2>&1", g_exe,
                         QSNN_SOURCE_DIR, snn), 0);
    /* 2.5 s of quiet white noise: 1 + (40000 - 16000) / 1600 = 16 windows at the default 100 ms hop */
    enum { NOISE = 40000 };
    float *x = malloc(sizeof(float) * 9 * 16000);
    assert_non_null(x);
    uint32_t seed = 12345;
    for (int i = 0; i < NOISE; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = ((float)(seed >> 8) / 16777216.0f - 0.5f) * 0.002f;
    }
    snprintf(wav, sizeof wav, "%s/noise.wav", g_tmp);
    snprintf(js, sizeof js, "%s/stream.json", g_tmp);
    assert_int_equal(qsnn_audio_write_wav16(wav, x, NOISE, 16000), QSNN_OK);
    assert_int_equal(test_shell("'%s' stream '%s' '%s' --json --all > '%s' 2>/dev/null", g_exe, snn, wav, js), 0);
    char *txt = NULL;
    assert_int_equal(qsnn_read_text_file(js, 1 << 20, &txt, NULL), QSNN_OK);
    cJSON *root = cJSON_Parse(txt);
    assert_non_null(root);
    assert_int_equal((int)cJSON_GetObjectItem(root, "windows")->valuedouble, 16);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "window_predictions")), 16);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(root, "detections")));
    cJSON_Delete(root);
    free(txt);
    /* the noise (-65 dBFS) is above the default gate; 2 s of digital silence is below it: every window _silence_
     * without the model; with the gate off the model runs on every window */
    txt = NULL;
    cJSON *gated = NULL;
    memset(x, 0, sizeof(float) * 32000);
    snprintf(wav, sizeof wav, "%s/zeros.wav", g_tmp);
    assert_int_equal(qsnn_audio_write_wav16(wav, x, 32000, 16000), QSNN_OK);
    for (int off = 0; off < 2; off++) {
        assert_int_equal(test_shell("'%s' stream '%s' '%s' --json --all %s > '%s' 2>/dev/null", g_exe, snn, wav,
                             off ? "--gate-db off" : "", js), 0);
        assert_int_equal(qsnn_read_text_file(js, 1 << 20, &txt, NULL), QSNN_OK);
        assert_non_null(gated = cJSON_Parse(txt));
        cJSON *wp = cJSON_GetObjectItem(gated, "window_predictions");
        assert_int_equal(cJSON_GetArraySize(wp), 11);
        assert_int_equal((int)cJSON_GetObjectItem(gated, "gated_windows")->valuedouble, off ? 0 : 11);
        if (!off) { /* (ungated, the shipped model calls zeros "go": outside its training data, not asserted) */
            for (int w = 0; w < 11; w++)
                assert_string_equal(cJSON_GetArrayItem(wp, w)->valuestring, "_silence_");
            assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(gated, "detections")), 0);
        }
        cJSON_Delete(gated);
        free(txt);
    }
    snprintf(wav, sizeof wav, "%s/noise.wav", g_tmp);
    assert_int_equal(test_shell("'%s' stream '%s' '%s' --json > '%s' 2>/dev/null", g_exe, snn, wav, js), 0);
    assert_int_equal(qsnn_read_text_file(js, 1 << 20, &txt, NULL), QSNN_OK);
    assert_non_null(gated = cJSON_Parse(txt));
    assert_int_equal((int)cJSON_GetObjectItem(gated, "gated_windows")->valuedouble, 0);
    cJSON_Delete(gated);
    free(txt);
    assert_int_equal(test_shell("'%s' stream '%s' '%s' --gate-db 3 2>/dev/null", g_exe, snn, wav), 2);
    /* refusals */
    assert_int_equal(test_shell("'%s' stream '%s' '%s/missing.wav' 2>/dev/null", g_exe, snn, g_tmp), 1);
    assert_int_equal(test_shell("'%s' stream '%s' '%s' --hop-ms 5 2>/dev/null", g_exe, snn, wav), 2);
    assert_int_equal(test_shell("'%s' stream '%s' '%s' 2>/dev/null", g_exe, wav, wav), 1);
    /* real speech */
    const char *root_dir = getenv("QSNN_SHARED_DATA") ? getenv("QSNN_SHARED_DATA") : QSNN_SHARED_DATA;
    char dir[400], path[600];
    snprintf(dir, sizeof dir, "%s/speech_commands_test_subset", root_dir);
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        free(x);
        skip();
    }
    const char *words[4] = {"yes", "no", "go", "stop"};
    const char *clips[4] = {"yes/105a0eea_nohash_0.wav", "no/1093c8e7_nohash_0.wav", "go/2a1f4853_nohash_2.wav",
                            "stop/105a0eea_nohash_0.wav"};
    const char *quiet[5] = {"1083.wav", "1141.wav", "1177.wav", "1083.wav", "1141.wav"};
    for (int k = 0; k < 9; k++) { /* silence, word, silence, word, ... silence */
        if (k % 2 == 0)
            snprintf(path, sizeof path, "%s/_silence_/%s", dir, quiet[k / 2]);
        else
            snprintf(path, sizeof path, "%s/%s", dir, clips[k / 2]);
        assert_int_equal(qsnn_audio_read_clip(path, x + (size_t)k * 16000, 16000), QSNN_OK);
    }
    snprintf(wav, sizeof wav, "%s/speech.wav", g_tmp);
    assert_int_equal(qsnn_audio_write_wav16(wav, x, 9 * 16000, 16000), QSNN_OK);
    /* the same samples as raw PCM16 LE for the live input (the clips' samples are k / 32768: exact) */
    char raw[400], live[400], script[400];
    snprintf(raw, sizeof raw, "%s/speech.raw", g_tmp);
    FILE *fr = fopen(raw, "wb");
    assert_non_null(fr);
    for (int i = 0; i < 9 * 16000; i++) {
        int v = (int)lrintf(x[i] * 32768.0f);
        unsigned char b[2] = {(unsigned char)(v & 255), (unsigned char)((v >> 8) & 255)};
        assert_int_equal(fwrite(b, 1, 2, fr), 2);
    }
    assert_int_equal(fclose(fr), 0);
    free(x);
    assert_int_equal(test_shell("'%s' stream '%s' '%s' --smooth 5 --json > '%s' 2>/dev/null", g_exe, snn, wav, js), 0);
    assert_int_equal(qsnn_read_text_file(js, 1 << 20, &txt, NULL), QSNN_OK);
    root = cJSON_Parse(txt);
    assert_non_null(root);
    cJSON *det = cJSON_GetObjectItem(root, "detections");
    assert_int_equal(cJSON_GetArraySize(det), 4);
    for (int i = 0; i < 4; i++) {
        cJSON *d = cJSON_GetArrayItem(det, i);
        double t = cJSON_GetObjectItem(d, "time_s")->valuedouble, start = 1.0 + 2.0 * i; /* the clip's start */
        assert_string_equal(cJSON_GetObjectItem(d, "label")->valuestring, words[i]);
        assert_true(t > start - 1.0 && t < start + 0.5);
    }
    /* a hop of whole MFCC strides (20, 100 ms) slides the previous window's frames and computes only the new ones;
     * 10 ms computes every window from scratch: the windows they share must get the same predictions (real speech: the predictions change along the file) */
    {
        char j10[400];
        snprintf(j10, sizeof j10, "%s/h10.json", g_tmp);
        assert_int_equal(test_shell("'%s' stream '%s' '%s' --hop-ms 10 --all --json > '%s' 2>/dev/null", g_exe, snn, wav, j10), 0);
        char *t10 = NULL;
        assert_int_equal(qsnn_read_text_file(j10, 1 << 20, &t10, NULL), QSNN_OK);
        cJSON *r10 = cJSON_Parse(t10), *w10 = cJSON_GetObjectItem(r10, "window_predictions");
        assert_int_equal(cJSON_GetArraySize(w10), 801); /* 1 + (144000 - 16000) / 160 */
        const int hops[2] = {20, 100};
        for (int h = 0; h < 2; h++) {
            assert_int_equal(test_shell("'%s' stream '%s' '%s' --hop-ms %d --all --json > '%s' 2>/dev/null", g_exe, snn, wav,
                                 hops[h], js), 0);
            char *th = NULL;
            assert_int_equal(qsnn_read_text_file(js, 1 << 20, &th, NULL), QSNN_OK);
            cJSON *rh = cJSON_Parse(th), *wh = cJSON_GetObjectItem(rh, "window_predictions");
            int step = hops[h] / 10, n = cJSON_GetArraySize(wh);
            assert_int_equal(n, 1 + 800 / step);
            for (int w = 0; w < n; w++)
                assert_string_equal(cJSON_GetArrayItem(wh, w)->valuestring,
                                    cJSON_GetArrayItem(w10, w * step)->valuestring);
            cJSON_Delete(rh);
            free(th);
        }
        cJSON_Delete(r10);
        free(t10);
    }
    /* live input (stdin, raw PCM16): the same windows and detections; the summary is the last line, after one
     * JSON line per detection */
    snprintf(live, sizeof live, "%s/live.json", g_tmp);
    assert_int_equal(test_shell("'%s' stream '%s' - --smooth 5 --json < '%s' > '%s' 2>/dev/null", g_exe, snn, raw, live), 0);
    char *ltxt = NULL;
    assert_int_equal(qsnn_read_text_file(live, 1 << 20, &ltxt, NULL), QSNN_OK);
    char *last = ltxt + strlen(ltxt) - 1;
    while (last > ltxt && last[-1] != '\n')
        last--;
    for (int i = 0; i < 4; i++) { /* the detection lines, in order */
        char want[64];
        snprintf(want, sizeof want, "\"label\":\"%s\",", words[i]); /* cJSON_PrintUnformatted */
        assert_non_null(strstr(ltxt, want));
    }
    cJSON *lroot = cJSON_Parse(last);
    assert_non_null(lroot);
    assert_int_equal((int)cJSON_GetObjectItem(lroot, "windows")->valuedouble,
                     (int)cJSON_GetObjectItem(root, "windows")->valuedouble);
    cJSON *ldet = cJSON_GetObjectItem(lroot, "detections");
    assert_int_equal(cJSON_GetArraySize(ldet), 4);
    for (int i = 0; i < 4; i++) {
        cJSON *a = cJSON_GetArrayItem(det, i), *b = cJSON_GetArrayItem(ldet, i);
        assert_string_equal(cJSON_GetObjectItem(a, "label")->valuestring, cJSON_GetObjectItem(b, "label")->valuestring);
        assert_true(fabs(cJSON_GetObjectItem(a, "time_s")->valuedouble - cJSON_GetObjectItem(b, "time_s")->valuedouble) <
                    1e-9);
        assert_int_equal((int)cJSON_GetObjectItem(a, "windows")->valuedouble,
                         (int)cJSON_GetObjectItem(b, "windows")->valuedouble);
    }
    cJSON_Delete(lroot);
    free(ltxt);
    cJSON_Delete(root);
    free(txt);
    /* live means live: with only the first 3 s written to a FIFO (the "yes" ends at 2 s), the detection is printed
     * while the input is still open */
    snprintf(script, sizeof script, "%s/live.sh", g_tmp);
    FILE *fs = fopen(script, "w");
    assert_non_null(fs);
    fprintf(fs,
            "d='%s'; rm -f \"$d/fifo\" \"$d/live.txt\"; mkfifo \"$d/fifo\" || exit 3\n"
            "'%s' stream '%s' - --smooth 5 < \"$d/fifo\" > \"$d/live.txt\" 2>/dev/null &\n"
            "exec 3> \"$d/fifo\"\n"
            "head -c 96000 '%s' >&3\n"
            "i=0; while [ $i -lt 300 ] && ! grep -q yes \"$d/live.txt\"; do sleep 0.1; i=$((i+1)); done\n"
            "grep -q yes \"$d/live.txt\"; ok=$?\n"
            "tail -c +96001 '%s' >&3; exec 3>&-; wait $! || exit 4\n"
            "[ $(grep -c ' s  ' \"$d/live.txt\") -eq 4 ] || exit 5\n"
            "exit $ok\n",
            g_tmp, g_exe, snn, raw, raw);
    assert_int_equal(fclose(fs), 0);
    assert_int_equal(test_shell("sh '%s'", script), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tutorial_end_to_end),
        cmocka_unit_test(test_tutorial_bad_input),
        cmocka_unit_test(test_stream),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
