/* SPDX-License-Identifier: Apache-2.0 */
/* test_arch_ext.c: the architecture-language additions for models trained elsewhere (docs/model.md): bias without
 * batch norm, a standalone depthwise followed by a separate pointwise with an activation between, an unbounded
 * ReLU, average and max pooling over a window after the activation (SAME and VALID), a non-square kernel, a dense
 * classifier, and the "features" object:
 *  - JSON parsing, errors naming the field, round trip;
 *  - the two float inference paths agree: the double-precision one on uint8 inputs (qsnn_model_predict) and the
 *    float32 one on x / 255 (qsnn_model_predict_float), within 1e-4, and both match a plain reference forward
 *    written here (so a pooling or activation bug shared by both would still fail);
 *  - the trainer and the converter refuse what they cannot do, naming the layer. */
#include "qsnn/convert.h"
#include "qsnn/infer.h"
#include "qsnn/model.h"
#include "qsnn/train.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *k_arch =
    "{\"name\": \"ext\", \"input\": [9, 6, 1], \"classes\": 3, \"layers\": ["
    "{\"name\": \"c\", \"op\": \"conv2d\", \"filters\": 4, \"kernel\": [3, 2], \"stride\": [2, 1], \"use_bias\": true,"
    " \"batch_norm\": false, \"weight_bits\": 0, \"activation\": \"relu\"},"
    "{\"name\": \"d\", \"op\": \"depthwise\", \"kernel\": 3, \"use_bias\": true, \"batch_norm\": false,"
    " \"weight_bits\": 0, \"activation\": \"relu6\", \"pool_after\": \"max\", \"pool_size\": 2, \"pool_padding\": \"same\"},"
    "{\"name\": \"p\", \"op\": \"conv2d\", \"filters\": 5, \"kernel\": 1, \"use_bias\": true, \"batch_norm\": false,"
    " \"weight_bits\": 0, \"activation\": \"relu\", \"pool_after\": \"avg\", \"pool_size\": [2, 3], \"pool_stride\": 1,"
    " \"pool_padding\": \"same\"},"
    "{\"name\": \"f\", \"op\": \"dense\", \"filters\": 3, \"use_bias\": true, \"batch_norm\": false, \"weight_bits\": 0,"
    " \"activation\": \"none\"}]}";

static void fill(qsnn_model *m)
{
    uint32_t r = 99;
    for (size_t i = 0; i < m->num_params; i++) {
        r = r * 1664525u + 1013904223u;
        m->params[i] = ((float)(r >> 8) / 16777216.0f - 0.5f) * 1.5f;
    }
}

/* plain reference of one sample, in double: conv (TF same), bias, act, window pooling (TF same, avg over inside) */
static void ref_conv(double *o, const double *x, int h, int w, int ci, const float *wt, const float *b, int kh, int kw,
                     int sh, int sw, int co, int dw, int *oh, int *ow)
{
    int ph = ((h + sh - 1) / sh - 1) * sh + kh - h, pw = ((w + sw - 1) / sw - 1) * sw + kw - w;
    ph = ph > 0 ? ph / 2 : 0;
    pw = pw > 0 ? pw / 2 : 0;
    *oh = (h + sh - 1) / sh;
    *ow = (w + sw - 1) / sw;
    for (int y = 0; y < *oh; y++)
        for (int z = 0; z < *ow; z++)
            for (int c = 0; c < co; c++) {
                double a = b[c];
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++) {
                        int iy = y * sh - ph + ky, ix = z * sw - pw + kx;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                            continue;
                        if (dw)
                            a += x[(iy * w + ix) * ci + c] * wt[(ky * kw + kx) * ci + c];
                        else
                            for (int k = 0; k < ci; k++)
                                a += x[(iy * w + ix) * ci + k] * wt[((ky * kw + kx) * ci + k) * co + c];
                    }
                o[(y * *ow + z) * co + c] = a;
            }
}

static void ref_pool(double *o, const double *x, int h, int w, int c, int kh, int kw, int sh, int sw, int mx, int *oh,
                     int *ow)
{
    int ph = ((h + sh - 1) / sh - 1) * sh + kh - h, pw = ((w + sw - 1) / sw - 1) * sw + kw - w;
    ph = ph > 0 ? ph / 2 : 0;
    pw = pw > 0 ? pw / 2 : 0;
    *oh = (h + sh - 1) / sh;
    *ow = (w + sw - 1) / sw;
    for (int y = 0; y < *oh; y++)
        for (int z = 0; z < *ow; z++)
            for (int ch = 0; ch < c; ch++) {
                double a = mx ? -INFINITY : 0;
                int n = 0;
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++) {
                        int iy = y * sh - ph + ky, ix = z * sw - pw + kx;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                            continue;
                        double v = x[(iy * w + ix) * c + ch];
                        a = mx ? fmax(a, v) : a + v;
                        n++;
                    }
                o[(y * *ow + z) * c + ch] = mx ? a : a / n;
            }
}

static void reference(const qsnn_model *m, const uint8_t *u, double *logits)
{
    double a[512], b[512];
    for (int i = 0; i < 54; i++)
        a[i] = u[i] / 255.0;
    int h, w, h2, w2;
    const qsnn_layer_params *lp = m->lp;
    ref_conv(b, a, 9, 6, 1, lp[0].w, lp[0].bias, 3, 2, 2, 1, 4, 0, &h, &w);
    for (int i = 0; i < h * w * 4; i++)
        b[i] = fmax(b[i], 0);
    ref_conv(a, b, h, w, 4, lp[1].dw, lp[1].bias, 3, 3, 1, 1, 4, 1, &h, &w);
    for (int i = 0; i < h * w * 4; i++)
        a[i] = fmin(fmax(a[i], 0), 6);
    ref_pool(b, a, h, w, 4, 2, 2, 2, 2, 1, &h2, &w2);
    ref_conv(a, b, h2, w2, 4, lp[2].w, lp[2].bias, 1, 1, 1, 1, 5, 0, &h, &w);
    for (int i = 0; i < h * w * 5; i++)
        a[i] = fmax(a[i], 0);
    ref_pool(b, a, h, w, 5, 2, 3, 1, 1, 0, &h2, &w2);
    const int n = h2 * w2 * 5;
    for (int k = 0; k < 3; k++) {
        double s = lp[3].bias[k];
        for (int i = 0; i < n; i++)
            s += b[i] * lp[3].w[i * 3 + k];
        logits[k] = s;
    }
}

static void test_parse_run_and_agree(void **state)
{
    (void)state;
    qsnn_arch a;
    assert_int_equal(qsnn_arch_from_json(&a, k_arch, "ext.json"), QSNN_OK);
    assert_int_equal(a.layers[0].act_relu, 1);
    assert_int_equal(a.layers[1].pool_after, QSNN_POOL_MAX);
    assert_int_equal(a.layers[1].pool_sh, 2); /* the stride defaults to the size */
    assert_int_equal(a.layers[1].out.h, 3);   /* 5x6 map, 2x2 same /2 -> 3x3 */
    assert_int_equal(a.layers[2].act.h, 3);
    assert_int_equal(a.layers[2].out.w, 3);   /* stride 1 same keeps 3x3 */
    /* round trip */
    char *json;
    assert_int_equal(qsnn_arch_to_json(&a, &json), QSNN_OK);
    qsnn_arch b;
    assert_int_equal(qsnn_arch_from_json(&b, json, "round trip"), QSNN_OK);
    free(json);
    assert_int_equal(b.layers[2].pool_kw, 3);
    assert_int_equal(b.layers[2].pool_sw, 1);
    assert_int_equal(b.layers[2].pool_same, 1);
    assert_int_equal(b.layers[0].act_relu, 1);
    qsnn_model m;
    assert_int_equal(qsnn_model_init(&m, &a, 1), QSNN_OK);
    fill(&m);
    enum { N = 7 };
    uint8_t u[N * 54];
    float x[N * 54], l64[N * 3], l32[N * 3];
    for (int i = 0; i < N * 54; i++) {
        u[i] = (uint8_t)((i * 37 + 11) % 256);
        x[i] = u[i] / 255.0f;
    }
    assert_int_equal(qsnn_model_predict(&m, u, N, l64, NULL), QSNN_OK);
    assert_int_equal(qsnn_model_predict_float(&m, x, N, l32, NULL), QSNN_OK);
    double worst64 = 0, worst32 = 0;
    for (int s = 0; s < N; s++) {
        double r[3];
        reference(&m, u + s * 54, r);
        for (int k = 0; k < 3; k++) {
            worst64 = fmax(worst64, fabs(l64[s * 3 + k] - r[k]));
            worst32 = fmax(worst32, fabs(l32[s * 3 + k] - r[k]));
        }
    }
    print_message("float64 path %.3g, float32 path %.3g from the reference\n", worst64, worst32);
    assert_true(worst64 < 1e-5);
    assert_true(worst32 < 1e-4);
    /* training and conversion refuse the float-only parts, naming the layer */
    qsnn_trainer *t = NULL;
    assert_int_equal(qsnn_trainer_create(&t, &m, 4, 1), QSNN_ERR_UNSUPPORTED);
    assert_non_null(strstr(qsnn_last_error(), "layer 0 'c'"));
    unsigned char *img = NULL;
    size_t sz = 0;
    assert_int_equal(qsnn_convert_model(&m, &img, &sz, NULL), QSNN_ERR_UNSUPPORTED);
    assert_non_null(strstr(qsnn_last_error(), "convert: model 'ext': layer 0 'c': activation \"relu\" is float"));
    qsnn_model_free(&m);
}

static void expect_bad(const char *layer_json, qsnn_status want, const char *text)
{
    char doc[1024];
    snprintf(doc, sizeof doc,
             "{\"input\": [9, 6, 1], \"classes\": 3, \"layers\": [%s, {\"name\": \"f\", \"op\": \"dense\", "
             "\"filters\": 3, \"activation\": false}]}", layer_json);
    qsnn_arch a;
    qsnn_status st = qsnn_arch_from_json(&a, doc, "bad.json");
    if (st != want || !strstr(qsnn_last_error(), text))
        fail_msg("%s: expected %d with '%s', got %d: %s", layer_json, (int)want, text, (int)st, qsnn_last_error());
}

static void test_errors(void **state)
{
    (void)state;
    expect_bad("{\"name\": \"c\", \"op\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"activation\": \"tanh\"}",
               QSNN_ERR_UNSUPPORTED, "activation 'tanh'");
    expect_bad("{\"name\": \"c\", \"op\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"pool_after\": \"l2\"}",
               QSNN_ERR_FORMAT, "pool_after must be");
    expect_bad("{\"name\": \"c\", \"op\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"pool_after\": \"avg\"}",
               QSNN_ERR_RANGE, "pool_size [0, 0] out of range");
    expect_bad("{\"name\": \"c\", \"op\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"pool_after\": \"avg\", "
               "\"pool_size\": 10}", QSNN_ERR_SHAPE, "does not fit the 9x6 map");
    expect_bad("{\"name\": \"c\", \"op\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"pool_size\": 2}", QSNN_ERR_ARG,
               "pool_size or pool_padding without pool_after");
    expect_bad("{\"name\": \"c\", \"op\": \"conv2d\", \"filters\": 2, \"kernel\": 3, \"pool\": \"global_avg\", "
               "\"pool_after\": \"max\", \"pool_size\": 1}", QSNN_ERR_UNSUPPORTED, "already pooled");
    /* features that do not fit the input, and unknown feature fields */
    qsnn_arch a;
    assert_int_equal(qsnn_arch_from_json(&a,
                                         "{\"input\": [9, 6, 1], \"classes\": 3, \"features\": {\"frontend\": "
                                         "\"tf-signal\"}, \"layers\": [{\"name\": \"f\", \"op\": \"dense\", "
                                         "\"filters\": 3, \"activation\": false}]}", "f.json"),
                     QSNN_ERR_SHAPE);
    assert_non_null(strstr(qsnn_last_error(), "tf-signal gives 49 x 10"));
    assert_int_equal(qsnn_arch_from_json(&a,
                                         "{\"input\": [49, 10, 1], \"classes\": 3, \"features\": {\"frontend\": "
                                         "\"tf-signal\", \"hop\": 3}, \"layers\": [{\"name\": \"f\", \"op\": "
                                         "\"dense\", \"filters\": 3, \"activation\": false}]}", "f.json"),
                     QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "features: unknown field 'hop'"));
    assert_int_equal(qsnn_arch_from_json(&a,
                                         "{\"input\": [49, 10, 1], \"classes\": 3, \"features\": {\"frontend\": "
                                         "\"tf-signal\"}, \"layers\": [{\"name\": \"f\", \"op\": \"dense\", "
                                         "\"filters\": 3, \"activation\": false}]}", "f.json"),
                     QSNN_OK);
    assert_int_equal(a.features.input, QSNN_INPUT_FLOAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_run_and_agree),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
