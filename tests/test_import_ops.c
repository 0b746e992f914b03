/* SPDX-License-Identifier: Apache-2.0 */
/* test_import_ops.c: the TFLite importer on small models made by tests/ref/make_tflite.py (every supported
 * operator, SAME/VALID with TensorFlow's asymmetric padding, int8 per-channel / per-tensor and uint8 weights
 * with a zero point, ADD as a bias, standalone RELU / RELU6, pooling after an activation, two dense layers),
 * against the numpy float64 forward of the
 * generator (logits within 1e-4); and malformed flatbuffers: every truncation, every byte flipped, offsets out of
 * range, huge vector lengths, a bad vtable, unknown operators, a fully int8 model: clear errors naming the field,
 * and no crash (this test also runs under ASan/UBSan in CI). */
#include "qsnn/import.h"
#include "qsnn/infer.h"
#include "qsnn/io.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static unsigned char *load(const char *name, size_t *n)
{
    char path[512], *buf;
    snprintf(path, sizeof path, "%s/tflite/%s", QSNN_TEST_DATA, name);
    assert_int_equal(qsnn_read_text_file(path, 1 << 20, &buf, n), QSNN_OK);
    return (unsigned char *)buf;
}

static void check_model(const char *base, int layers)
{
    char name[128];
    snprintf(name, sizeof name, "%s.tflite", base);
    size_t n;
    unsigned char *buf = load(name, &n);
    qsnn_model m;
    assert_int_equal(qsnn_import_tflite_mem(&m, buf, n, name, NULL), QSNN_OK);
    assert_int_equal(m.arch.num_layers, layers);
    snprintf(name, sizeof name, "%s.json", base);
    size_t jn;
    unsigned char *js = load(name, &jn);
    cJSON *root = cJSON_Parse((char *)js);
    assert_non_null(root);
    const cJSON *in = cJSON_GetObjectItem(root, "input"), *want = cJSON_GetObjectItem(root, "logits");
    size_t in_sz = qsnn_model_input_size(&m);
    assert_int_equal((size_t)cJSON_GetArraySize(in), in_sz);
    assert_int_equal(cJSON_GetArraySize(want), m.arch.num_classes);
    float *x = malloc(in_sz * sizeof *x), lg[16];
    for (size_t i = 0; i < in_sz; i++)
        x[i] = (float)cJSON_GetArrayItem(in, (int)i)->valuedouble;
    assert_int_equal(qsnn_model_predict_float(&m, x, 1, lg, NULL), QSNN_OK);
    double worst = 0;
    for (int k = 0; k < m.arch.num_classes; k++)
        worst = fmax(worst, fabs(lg[k] - cJSON_GetArrayItem(want, k)->valuedouble));
    print_message("%s: %d layers, worst |logit - numpy| %.3g\n", base, layers, worst);
    assert_true(worst <= 1e-4);
    /* the saved model runs the same */
    char out[256];
    snprintf(out, sizeof out, "%s/test_import_%s.qsnn", QSNN_BINARY_DIR, base);
    assert_int_equal(qsnn_model_save(&m, out), QSNN_OK);
    qsnn_model r;
    assert_int_equal(qsnn_model_load(&r, out), QSNN_OK);
    float lg2[16];
    assert_int_equal(qsnn_model_predict_float(&r, x, 1, lg2, NULL), QSNN_OK);
    assert_memory_equal(lg, lg2, (size_t)m.arch.num_classes * sizeof *lg);
    remove(out);
    qsnn_model_free(&r);
    free(x);
    cJSON_Delete(root);
    free(js);
    qsnn_model_free(&m);
    free(buf);
}

static void test_ops_a(void **state)
{
    (void)state;
    check_model("ops_a", 4); /* conv, depthwise int8/channel, 1x1 conv int8 + ADD bias + max pool, dense */
}

static void test_ops_b(void **state)
{
    (void)state;
    check_model("ops_b", 3); /* depthwise VALID + avg pool SAME, conv uint8 + avg pool, dense */
}

static void test_ops_c(void **state)
{
    (void)state;
    check_model("ops_c", 4); /* conv int8 per channel + RELU6 op, depthwise s2 + RELU op, dense int8 + RELU, dense */
}

static void expect_fail(const unsigned char *buf, size_t n, qsnn_status want, const char *text)
{
    qsnn_model m;
    qsnn_status st = qsnn_import_tflite_mem(&m, buf, n, "bad.tflite", NULL);
    if (st == QSNN_OK)
        qsnn_model_free(&m);
    if (st != want || (text && !strstr(qsnn_last_error(), text)))
        fail_msg("expected status %d with \"%s\", got %d: %s", (int)want, text ? text : "", (int)st,
                 qsnn_last_error());
}

static void test_refused_models(void **state)
{
    (void)state;
    size_t n;
    unsigned char *b = load("bad_unknown_op.tflite", &n);
    expect_fail(b, n, QSNN_ERR_UNSUPPORTED, "operator 1 (LSTM, code 16): not supported");
    free(b);
    b = load("bad_int8.tflite", &n);
    expect_fail(b, n, QSNN_ERR_UNSUPPORTED, "int8");
    free(b);
    static const char *cases[][2] = {
        {"bad_dilation.tflite", "operator 0 (CONV_2D, code 3): dilation other than 1"},
        {"bad_multiplier.tflite", "operator 1 (DEPTHWISE_CONV_2D, code 4): weights are not [1, h, w, channels] with "
                                  "depth multiplier 1"},
        {"bad_beta.tflite", "operator 3 (SOFTMAX, code 25): beta 0.5"},
        {"bad_branch.tflite", "operator 1 (CONV_2D, code 3): its input is tensor 0, not the previous operator's"},
        {"bad_pool_act.tflite", "operator 1 (MAX_POOL_2D, code 17): a fused activation on a pooling"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        b = load(cases[i][0], &n);
        expect_fail(b, n, QSNN_ERR_UNSUPPORTED, cases[i][1]);
        free(b);
    }
}

/* the raw layout, read here independently of the importer's reader */
static uint32_t u32_at(const unsigned char *b, size_t p) { return b[p] | b[p + 1] << 8 | b[p + 2] << 16 | (uint32_t)b[p + 3] << 24; }
static void put_u32(unsigned char *b, size_t p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        b[p + k] = (unsigned char)(v >> (8 * k));
}
static size_t field(const unsigned char *b, size_t table, int id)
{
    size_t vt = table - (size_t)(int32_t)u32_at(b, table);
    unsigned vs = b[vt] | b[vt + 1] << 8;
    if (4u + 2u * (unsigned)id + 2u > vs)
        return 0;
    unsigned off = b[vt + 4 + 2 * id] | b[vt + 5 + 2 * id] << 8;
    return off ? table + off : 0;
}
static size_t deref(const unsigned char *b, size_t p) { return p + u32_at(b, p); }

static void test_malformed(void **state)
{
    (void)state;
    size_t n;
    unsigned char *orig = load("ops_a.tflite", &n), *b = malloc(n);
    /* every truncation is refused */
    for (size_t len = 0; len < n; len++) {
        memcpy(b, orig, len);
        qsnn_model m;
        qsnn_status st = qsnn_import_tflite_mem(&m, b, len, "cut.tflite", NULL);
        if (st == QSNN_OK)
            fail_msg("truncated to %zu of %zu bytes and accepted", len, n);
    }
    /* every byte flipped: no crash (the sanitizers watch), most are refused */
    size_t refused = 0;
    for (size_t p = 0; p < n; p++)
        for (int pat = 0; pat < 2; pat++) {
            memcpy(b, orig, n);
            b[p] = pat ? 0xFF : (unsigned char)(b[p] ^ 0x80);
            qsnn_model m;
            qsnn_status st = qsnn_import_tflite_mem(&m, b, n, "flip.tflite", NULL);
            if (st == QSNN_OK)
                qsnn_model_free(&m);
            else
                refused++;
        }
    print_message("byte flips: %zu of %zu variants refused, none crashed\n", refused, 2 * n);
    assert_true(refused > n / 2);
    const size_t root = u32_at(orig, 0), subs_f = field(orig, root, 2), subs = deref(orig, subs_f);
    const size_t sg = deref(orig, subs + 4), tens_f = field(orig, sg, 0), tens = deref(orig, tens_f);
    assert_true(subs_f && tens_f);
    /* the root offset out of range */
    memcpy(b, orig, n);
    put_u32(b, 0, (uint32_t)n + 100);
    expect_fail(b, n, QSNN_ERR_FORMAT, "root table: table offset outside the file");
    /* an offset past the end */
    memcpy(b, orig, n);
    put_u32(b, subs_f, 0xFFFFFF00u);
    expect_fail(b, n, QSNN_ERR_FORMAT, "subgraphs: offset points past the end of the file");
    /* huge vector lengths */
    memcpy(b, orig, n);
    put_u32(b, tens, 0x7FFFFFFFu);
    expect_fail(b, n, QSNN_ERR_FORMAT, "subgraphs[0].tensors: vector length runs past the end of the file");
    memcpy(b, orig, n);
    put_u32(b, tens, 0xFFFFFFFFu);
    expect_fail(b, n, QSNN_ERR_FORMAT, "subgraphs[0].tensors: vector length");
    /* a shape vector of tensor 0 with a huge length */
    const size_t t0 = deref(orig, tens + 4), shape = deref(orig, field(orig, t0, 0));
    memcpy(b, orig, n);
    put_u32(b, shape, 0x40000000u);
    expect_fail(b, n, QSNN_ERR_FORMAT, "subgraphs[0].tensors[0].shape: vector length");
    /* a vtable outside the file, and one with an odd size */
    memcpy(b, orig, n);
    put_u32(b, root, (uint32_t)(root + 64));
    expect_fail(b, n, QSNN_ERR_FORMAT, "root table: vtable outside the file");
    memcpy(b, orig, n);
    size_t vt = root - (size_t)(int32_t)u32_at(orig, root);
    b[vt] = 5;
    b[vt + 1] = 0;
    expect_fail(b, n, QSNN_ERR_FORMAT, "vtable size invalid");
    /* a field offset beyond its table */
    memcpy(b, orig, n);
    b[vt + 4 + 2 * 2] = 0xF0;
    b[vt + 5 + 2 * 2] = 0x0F;
    expect_fail(b, n, QSNN_ERR_FORMAT, "subgraphs: field offset outside its table");
    /* an unknown operator code: operator_codes[0].builtin_code = 99 */
    const size_t codes = deref(orig, field(orig, root, 1)), c0 = deref(orig, codes + 4), bc = field(orig, c0, 3);
    assert_true(bc != 0);
    memcpy(b, orig, n);
    put_u32(b, bc, 99);
    expect_fail(b, n, QSNN_ERR_UNSUPPORTED, "operator 0 (builtin operator, code 99): not supported");
    /* a tensor referring to a buffer that does not exist */
    memcpy(b, orig, n);
    put_u32(b, field(orig, t0, 2), 1000);
    expect_fail(b, n, QSNN_ERR_FORMAT, "subgraphs[0].tensors[0].buffer: 1000 out of range");
    /* not a TFLite file at all */
    memcpy(b, orig, n);
    memcpy(b + 4, "ABCD", 4);
    expect_fail(b, n, QSNN_ERR_FORMAT, "not a TensorFlow Lite model");
    expect_fail(orig, 0, QSNN_ERR_FORMAT, NULL);
    free(b);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_a),
        cmocka_unit_test(test_ops_b),
        cmocka_unit_test(test_ops_c),
        cmocka_unit_test(test_refused_models),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
