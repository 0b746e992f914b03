/* SPDX-License-Identifier: Apache-2.0 */
/* test_report.c: confusion matrix (counts, row normalisation, text), the figure (PNG signature, size, margins and
 * colours read back with cairo; SVG; bad extension), Akida's statistics printout reproducing tutorial lines from their counts, and the commands
 * (convert, summary, eval --json) end to end on a random quantized model (eval only with the shared data). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_fonts.h"

#include <cairo.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qsnn/convert.h"
#include "qsnn/io.h"
#include "qsnn/model.h"
#include "qsnn/report.h"

static void test_confusion_normalisation(void **state)
{
    (void)state;
    qsnn_confusion cm;
    assert_int_equal(qsnn_confusion_init(&cm, 3), QSNN_OK);
    assert_int_equal(qsnn_confusion_init(&(qsnn_confusion){0}, 0), QSNN_ERR_ARG);
    int pairs[][2] = {{0, 0}, {0, 0}, {0, 1}, {0, 2}, {1, 1}, {9, 1}, {1, -1}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        qsnn_confusion_add(&cm, pairs[i][0], pairs[i][1]); /* out-of-range pairs are ignored */
    assert_int_equal(cm.counts[0], 2);
    assert_int_equal(cm.counts[1], 1);
    assert_int_equal(cm.counts[4], 1);
    double nm[9];
    qsnn_confusion_normalized(&cm, nm);
    assert_true(fabs(nm[0] - 0.5) < 1e-15 && fabs(nm[1] - 0.25) < 1e-15 && fabs(nm[2] - 0.25) < 1e-15);
    assert_true(nm[4] == 1.0 && nm[3] == 0.0);
    for (int j = 0; j < 3; j++)
        assert_true(nm[6 + j] == 0.0); /* a row without samples stays 0 */
    cm.labels[0] = "yes";
    cm.labels[1] = "no";
    cm.labels[2] = "up";
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    qsnn_confusion_print(f, &cm);
    fclose(f);
    assert_non_null(strstr(buf, "yes              2      1      1"));
    assert_non_null(strstr(buf, "yes           0.50   0.25   0.25"));
    free(buf);
    qsnn_confusion_free(&cm);
}

static void test_confusion_png(void **state)
{
    (void)state;
    qsnn_confusion cm;
    assert_int_equal(qsnn_confusion_init(&cm, 12), QSNN_OK);
    static const char *labels[12] = {"_silence_", "_unknown_", "down", "go", "left", "no",
                                     "off", "on", "right", "stop", "up", "yes"};
    for (int i = 0; i < 12; i++) {
        cm.labels[i] = labels[i];
        cm.counts[i * 12 + i] = 40;
        cm.counts[i * 12 + (i + 1) % 12] = 3;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/test_report_%ld.png", QSNN_BINARY_DIR, (long)getpid());
    const qsnn_confusion_plot_opts po = {"/some/dir/kws.snn", "test split of data", QSNN_CONFUSION_BOTH};
    assert_int_equal(qsnn_confusion_plot(&cm, &po, path), QSNN_OK);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    unsigned char sig[8];
    assert_int_equal(fread(sig, 1, 8, fp), 8);
    fclose(fp);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    int W = cairo_image_surface_get_width(s), H = cairo_image_surface_get_height(s);
    /* 12 cells of 46.7 units, labels, colour bar: a square-ish figure of 700..900 units */
    assert_true(W > 650 && W < 900);
    assert_true(H > 650 && H < 900);
    cairo_surface_flush(s);
    const unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    /* no wasted margin: something is drawn within 14 px of every edge (the canvas margin is 10) */
    int top = H, bottom = -1, left = W, right = -1;
    size_t dark = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint32_t v = ((const uint32_t *)(const void *)(px + (size_t)y * stride))[x];
            unsigned r = (v >> 16) & 255, g = (v >> 8) & 255, b = v & 255;
            if (r < 200 || g < 200 || b < 200) {
                top = y < top ? y : top, bottom = y > bottom ? y : bottom;
                left = x < left ? x : left, right = x > right ? x : right;
            }
            dark += r < 40 && b > 90; /* #08306b-ish: the 12 diagonal cells (and the colour bar's top) */
        }
    if (top > 14 || left > 14 || H - 1 - bottom > 14 || W - 1 - right > 14)
        fail_msg("blank margin: ink spans x %d..%d of %d, y %d..%d of %d", left, right, W, top, bottom, H);
    assert_true(dark > 12 * 40 * 20);
    cairo_surface_destroy(s);
    remove(path);
    /* the same as SVG, by the extension: an XML document with an svg root and drawn glyphs and paths */
    snprintf(path, sizeof path, "%s/test_report_%ld.svg", QSNN_BINARY_DIR, (long)getpid());
    const qsnn_confusion_plot_opts pc = {NULL, NULL, QSNN_CONFUSION_COUNTS};
    assert_int_equal(qsnn_confusion_plot(&cm, &pc, path), QSNN_OK);
    char *svg;
    size_t len;
    assert_int_equal(qsnn_read_text_file(path, 1u << 24, &svg, &len), QSNN_OK);
    assert_true(!strncmp(svg, "<?xml", 5));
    assert_non_null(strstr(svg, "<svg"));
    assert_non_null(strstr(svg, "</svg>"));
    assert_non_null(strstr(svg, "<path"));
    free(svg);
    remove(path);
    /* an unknown extension: refused, naming the file; nothing written */
    snprintf(path, sizeof path, "%s/test_report_%ld.jpg", QSNN_BINARY_DIR, (long)getpid());
    assert_int_equal(qsnn_confusion_plot(&cm, NULL, path), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), path));
    assert_int_not_equal(access(path, F_OK), 0);
    /* unwritable destination: an error naming the file */
    assert_int_equal(qsnn_confusion_plot(&cm, NULL, "/nonexistent-dir/cm.png"), QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), "/nonexistent-dir/cm.png"));
    qsnn_confusion_free(&cm);
}

/* The tutorial's statistics lines, reproduced from integer counts over 20 samples. */
static void test_stats_table_format(void **state)
{
    (void)state;
    qsnn_model m;
    qsnn_arch a;
    assert_int_equal(qsnn_arch_builtin(&a, "mobilenet_kws"), QSNN_OK);
    assert_int_equal(qsnn_model_init(&m, &a, 3), QSNN_OK);
    m.quant_acts = m.quant_weights = 1;
    m.scale_min = -247;
    m.scale_max = 30;
    for (int l = 0; l < a.num_layers; l++)
        for (size_t j = 0; j < m.lp[l].n_bn; j++)
            m.lp[l].beta[j] = 1.0f;
    unsigned char *img;
    size_t sz;
    if (qsnn_convert_model(&m, &img, &sz, NULL) != QSNN_OK)
        fail_msg("%s", qsnn_last_error());
    qsnn_snn_model sm;
    assert_int_equal(qsnn_snn_model_init(&sm, img, sz, "kws"), QSNN_OK);
    qsnn_snn_stats st;
    memset(&st, 0, sizeof st);
    st.samples = 20;
    /* events per layer input over 20 samples (docs/design.md s5.4's events per sample x 20) */
    const uint64_t nnz[7] = {0, 42423, 72739, 65600, 58320, 53204, 695};
    for (int l = 0; l < 7; l++) {
        st.in_nnz[l] = nnz[l];
        st.out_nnz[l] = l < 6 ? nnz[l + 1] : 0;
        st.time_ns[l] = 20000u * (uint64_t)(l + 1);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    qsnn_report_snn_stats(f, &sm, &st);
    fclose(f);
    const char *want[] = {
        "Layer (type)                  output sparsity     \n"
        "conv_0 (InputConvolutional)   0.47                \n"
        "Layer (type)                  input sparsity      output sparsity     ops                 \n"
        "separable_1 (SeparableConvolu 0.47                0.55                1240873             \n"
        "Layer (type)                  input sparsity      output sparsity     ops                 \n"
        "separable_2 (SeparableConvolu 0.55                0.59                2127616             \n",
        "separable_6 (SeparableConvolu 0.46                0.00                4066                \n",
        "separable_1 (SeparableConvolu 2.00                \n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(buf, want[i]))
            fail_msg("missing:\n%s\nin:\n%s", want[i], buf);
    free(buf);
    free(img);
    qsnn_model_free(&m);
}

/* A model breaking hardware rules: the summary says "no" and prints every reason. */
static void test_summary_hw_no(void **state)
{
    (void)state;
    qsnn_convert_build b;
    memset(&b, 0, sizeof b);
    b.in_h = 6;
    b.in_w = 4;
    b.in_c = 2;
    b.num_classes = 3;
    b.scale_min = 0;
    b.scale_max = 1;
    b.input_scale = 255;
    b.num_layers = 2;
    static int8_t w0[3 * 3 * 2 * 8], w1[6 * 4 * 8 * 3];
    static int32_t th0[16];
    for (int i = 0; i < 8; i++) {
        th0[i] = 0;
        th0[8 + i] = 1;
    }
    qsnn_snn_layer *r = &b.layers[0].rec;
    snprintf(r->name, sizeof r->name, "conv_0");
    qsnn_convert_layer_shape(r, QSNN_SNN_INPUT_CONV, 6, 4, 2, 8, 3, 3, 1, 1, 1, 0);
    r->weight_bits = 4;
    r->in_bits = 8;
    r->act_bits = 4;
    b.layers[0].w = w0;
    b.layers[0].th_t = th0;
    b.layers[0].th_s = th0 + 8;
    r = &b.layers[1].rec;
    snprintf(r->name, sizeof r->name, "dense_1");
    qsnn_convert_layer_shape(r, QSNN_SNN_FC, 6, 4, 8, 3, 1, 1, 1, 1, 1, 0);
    r->weight_bits = 4;
    r->in_bits = 4;
    b.layers[1].w = w1;
    unsigned char *img;
    size_t sz;
    assert_int_equal(qsnn_convert_build_image(&b, &img, &sz), QSNN_OK);
    qsnn_snn_model m;
    assert_int_equal(qsnn_snn_model_init(&m, img, sz, "bad"), QSNN_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    qsnn_report_snn_summary(f, &m);
    fclose(f);
    assert_non_null(strstr(buf, "conv_0 (InputConvoluti no  [4, 6, 2]     [4, 6, 8]     (3 x 3 x 2)   N/A"));
    assert_non_null(strstr(buf, "dense_1 (FullyConnecte no  [4, 6, 8]     [1, 1, 3]     (1 x 1 x 192) N/A"));
    assert_non_null(strstr(buf, "Hardware incompatibilities (Akida NSoC v1):\n"
                                "  conv_0: InputConvolutional needs 1 or 3 input channels (has 2); "
                                "InputConvolutional needs 8-bit weights (has 4)\n"
                                "  dense_1: FullyConnected needs 1- or 2-bit input spikes (previous activation has 4 bits)\n"));
    char want[64];
    snprintf(want, sizeof want, "Model size: %zu bytes\n", sz);
    assert_non_null(strstr(buf, want));
    free(buf);
    free(img);
}

/* ---- commands ---- */

static int run(const char *cmd, char **out)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 4096)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = 0;
    *out = buf;
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_commands(void **state)
{
    (void)state;
    const char *exe = getenv("QSNN_EXE");
    if (!exe)
        skip();
    qsnn_model m;
    qsnn_arch a;
    assert_int_equal(qsnn_arch_builtin(&a, "mobilenet_kws"), QSNN_OK);
    assert_int_equal(qsnn_model_init(&m, &a, 4), QSNN_OK);
    m.quant_acts = m.quant_weights = 1;
    m.episode = 3;
    m.scale_min = -247;
    m.scale_max = 30;
    for (int l = 0; l < a.num_layers; l++)
        for (size_t j = 0; j < m.lp[l].n_bn; j++)
            m.lp[l].beta[j] = 1.0f;
    char mp[512], sp[512], cmd[4096], png[512];
    snprintf(mp, sizeof mp, "%s/test_report_%ld.qsnn", QSNN_BINARY_DIR, (long)getpid());
    snprintf(sp, sizeof sp, "%s/test_report_%ld.snn", QSNN_BINARY_DIR, (long)getpid());
    snprintf(png, sizeof png, "%s/test_report_cm_%ld.png", QSNN_BINARY_DIR, (long)getpid());
    assert_int_equal(qsnn_model_save(&m, mp), QSNN_OK);
    char *out;
    snprintf(cmd, sizeof cmd, "%s convert %s -o %s 2>&1", exe, mp, sp);
    int rc = run(cmd, &out);
    if (rc != 0)
        fail_msg("%s\n%s", cmd, out);
    assert_non_null(strstr(out, "conv_0 (InputConvoluti yes [10, 49, 1]   [5, 25, 32]   (5 x 5 x 1)"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s summary %s", exe, sp);
    assert_int_equal(run(cmd, &out), 0);
    assert_non_null(strstr(out, "Model size: "));
    assert_non_null(strstr(out, "separable_6 (Separable yes [1, 1, 64]    [1, 1, 12]    (3 x 3 x 64)"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s summary %s", exe, mp);
    assert_int_equal(run(cmd, &out), 0);
    assert_non_null(strstr(out, "Total params: 24,576"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s summary %s/CMakeCache.txt 2>&1", exe, QSNN_BINARY_DIR);
    assert_int_equal(run(cmd, &out), 1);
    assert_non_null(strstr(out, "not a qsnn model"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s convert %s 2>&1", exe, mp);
    assert_int_equal(run(cmd, &out), 2); /* usage: no -o */
    free(out);
    char data[1024];
    snprintf(data, sizeof data, "%s/speech_commands_test_subset", QSNN_SHARED_DATA);
    struct stat sb;
    if (stat(data, &sb) == 0) {
        snprintf(cmd, sizeof cmd, "%s eval %s %s --json --stats --plot %s 2>/dev/null", exe, sp, data, png);
        assert_int_equal(run(cmd, &out), 0);
        cJSON *j = cJSON_Parse(out);
        assert_non_null(j);
        cJSON *clips = cJSON_GetObjectItem(j, "clips");
        assert_true(cJSON_IsArray(clips) && cJSON_GetArraySize(clips) > 100);
        cJSON *c0 = cJSON_GetArrayItem(clips, 0);
        assert_true(cJSON_IsString(cJSON_GetObjectItem(c0, "file")));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(c0, "pred")));
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(j, "accuracy")));
        cJSON *sl = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "statistics"), "layers");
        assert_int_equal(cJSON_GetArraySize(sl), 7);
        assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "statistics"), "samples")->valueint, 20);
        cJSON_Delete(j);
        free(out);
        assert_int_equal(stat(png, &sb), 0);
        remove(png);
        /* the float model on the same data, text output */
        snprintf(cmd, sizeof cmd, "%s eval %s %s 2>/dev/null", exe, mp, data);
        assert_int_equal(run(cmd, &out), 0);
        assert_true(!strncmp(out, "Accuracy: ", 10));
        free(out);
    }
    remove(mp);
    remove(sp);
    qsnn_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confusion_normalisation),
        cmocka_unit_test(test_confusion_png),
        cmocka_unit_test(test_stats_table_format),
        cmocka_unit_test(test_summary_hw_no),
        cmocka_unit_test(test_commands),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    test_release_font_caches(); /* so that LeakSanitizer reports only our leaks */
    return rc;
}
