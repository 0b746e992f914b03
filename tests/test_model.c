/* SPDX-License-Identifier: Apache-2.0 */
/* test_model.c: architectures as data (built-ins, JSON parsing and its errors, shapes, Keras parameter counts),
 * model initialisation, the model file (bit-exact round trip; truncated, corrupted and absurd files give clear
 * errors without crashing or allocating wildly) and the Keras summary against the tutorial's printed table. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qsnn/io.h"
#include "qsnn/model.h"
#include "qsnn/version.h"

/* ---------------------------------------------------------------- helpers */

static char *read_file(const char *path, size_t *len)
{
    char *s = NULL;
    size_t n = 0;
    if (qsnn_read_text_file(path, 1u << 26, &s, &n) != QSNN_OK)
        return NULL;
    if (len)
        *len = n;
    return s;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    fclose(fp);
}

static void tmp_path(char *dst, size_t cap, const char *name)
{
    snprintf(dst, cap, "%s/test_model_%ld_%s", QSNN_BINARY_DIR, (long)getpid(), name);
}

/* parse `json`, expect failure whose message contains `needle` */
static void expect_json_error(const char *json, const char *needle)
{
    qsnn_arch a;
    qsnn_status st = qsnn_arch_from_json(&a, json, "model.json");
    if (st == QSNN_OK || !strstr(qsnn_last_error(), needle))
        fail_msg("expected an error containing \"%s\", got status %d: \"%s\"", needle, (int)st, qsnn_last_error());
}

/* A tiny valid architecture for the exhaustive file-corruption tests (small file). */
static const char *tiny_json = "{\"name\": \"tiny\", \"input\": [4, 3, 1], \"classes\": 2, \"layers\": ["
                               "{\"name\": \"c0\", \"op\": \"conv2d\", \"filters\": 3, \"kernel\": [3, 2], "
                               "\"pool\": \"global_avg\"},"
                               "{\"name\": \"d1\", \"op\": \"dense\", \"filters\": 2, \"use_bias\": true, "
                               "\"batch_norm\": false, \"activation\": false}]}";

/* ---------------------------------------------------------------- architectures */

static void test_mobilenet_kws_builtin(void **state)
{
    (void)state;
    qsnn_arch a;
    assert_int_equal(qsnn_arch_builtin(&a, "mobilenet_kws"), QSNN_OK);
    assert_int_equal(a.num_layers, 7);
    assert_string_equal(a.layers[0].name, "conv_0");
    assert_string_equal(a.layers[6].name, "separable_6");
    /* conv_0: 5x5 stride 2 'same' on 49x10 -> 25x5 (TF pads rows 2/2 and columns 1/2) */
    assert_int_equal(a.layers[0].out.h, 25);
    assert_int_equal(a.layers[0].out.w, 5);
    assert_int_equal(a.layers[0].out.c, 32);
    assert_int_equal(a.layers[0].weight_bits, 8);
    assert_int_equal(a.layers[4].out.c, 64);
    assert_int_equal(a.layers[4].out.h, 25);
    assert_int_equal(a.layers[5].pool, QSNN_POOL_GLOBAL_AVG);
    assert_int_equal(a.layers[5].out.h, 1);
    assert_int_equal(a.layers[6].in.c, 64);
    assert_int_equal(a.layers[6].out.c, 12);
    assert_false(a.layers[6].batch_norm);
    assert_false(a.layers[6].activation);
    for (int i = 0; i < 7; i++)
        assert_false(a.layers[i].use_bias);

    size_t trainable = 0;
    assert_int_equal(qsnn_arch_param_count(&a, &trainable), 24576);
    assert_int_equal(trainable, 23872);
}

static void test_ds_cnn_builtin(void **state)
{
    (void)state;
    qsnn_arch a;
    assert_int_equal(qsnn_arch_builtin(&a, "ds_cnn"), QSNN_OK);
    assert_int_equal(a.num_layers, 10);
    assert_int_equal(a.layers[0].out.h, 25);
    assert_int_equal(a.layers[0].out.w, 5);
    assert_int_equal(a.layers[1].filters, 64); /* depthwise keeps the channels */
    assert_int_equal(a.layers[9].in.h * a.layers[9].in.w * a.layers[9].in.c, 64);
    /* By hand, Keras' count with MLPerf's biases:
     *   conv_0  10*4*1*64 + 64 = 2,624          BN 4*64 = 256
     *   dw_i    3*3*64 + 64    =   640  (x4)    BN 256 (x4)
     *   pw_i    64*64 + 64     = 4,160  (x4)    BN 256 (x4)
     *   dense_5 64*12 + 12     =   780
     *   total = 2,624 + 256 + 4*(640 + 256 + 4,160 + 256) + 780 = 24,908
     *   non-trainable = BN moving mean/var = 2*64*9 = 1,152 -> trainable 23,756 */
    size_t trainable = 0;
    assert_int_equal(qsnn_arch_param_count(&a, &trainable), 24908);
    assert_int_equal(trainable, 23756);
    qsnn_arch bad;
    assert_int_not_equal(qsnn_arch_builtin(&bad, "resnet"), QSNN_OK);
    assert_non_null(strstr(qsnn_last_error(), "resnet"));
}

static void test_json_files_match_builtins(void **state)
{
    (void)state;
    const char *names[2] = {"mobilenet_kws", "ds_cnn"};
    for (int k = 0; k < 2; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/models/%s.json", QSNN_SOURCE_DIR, names[k]);
        char *json = read_file(path, NULL);
        assert_non_null(json);
        qsnn_arch fa, ba;
        memset(&fa, 0, sizeof fa);
        memset(&ba, 0, sizeof ba);
        if (qsnn_arch_from_json(&fa, json, path) != QSNN_OK)
            fail_msg("%s", qsnn_last_error());
        free(json);
        assert_int_equal(qsnn_arch_builtin(&ba, names[k]), QSNN_OK);
        assert_memory_equal(&fa, &ba, sizeof fa);
    }
}

static void test_json_round_trip(void **state)
{
    (void)state;
    const char *names[2] = {"mobilenet_kws", "ds_cnn"};
    for (int k = 0; k < 2; k++) {
        qsnn_arch a, b;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        assert_int_equal(qsnn_arch_builtin(&a, names[k]), QSNN_OK);
        char *json = NULL;
        assert_int_equal(qsnn_arch_to_json(&a, &json), QSNN_OK);
        if (qsnn_arch_from_json(&b, json, "round trip") != QSNN_OK)
            fail_msg("%s\n%s", qsnn_last_error(), json);
        free(json);
        assert_memory_equal(&a, &b, sizeof a);
    }
    /* defaults: stride 1, same, no bias, BN and activation on, act_bits 4 */
    qsnn_arch t;
    assert_int_equal(qsnn_arch_from_json(&t, tiny_json, "tiny"), QSNN_OK);
    assert_int_equal(t.layers[0].stride_h, 1);
    assert_int_equal(t.layers[0].padding_same, 1);
    assert_int_equal(t.layers[0].use_bias, 0);
    assert_int_equal(t.layers[0].batch_norm, 1);
    assert_int_equal(t.layers[0].activation, 1);
    assert_int_equal(t.layers[0].act_bits, 4);
    assert_int_equal(t.layers[0].kh, 3);
    assert_int_equal(t.layers[0].kw, 2);
}

static void test_json_errors(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/models/mobilenet_kws.json", QSNN_SOURCE_DIR);
    char *base = read_file(path, NULL);
    assert_non_null(base);
    /* separable_3 (layer 3) with kernel 0 */
    char *bad = strdup(base);
    char *p = strstr(bad, "\"separable_3\"");
    assert_non_null(p);
    p = strstr(p, "\"kernel\": 3");
    assert_non_null(p);
    p[strlen("\"kernel\": ")] = '0';
    expect_json_error(bad, "model.json: layer 3 'separable_3': kernel 0 out of range 1..15");
    free(bad);
    free(base);

    const char *head = "{\"name\": \"m\", \"input\": [49, 10, 1], \"classes\": 12, \"layers\": [";
    char doc[2048];
#define DOC(layers) (snprintf(doc, sizeof doc, "%s%s]}", head, layers), doc)
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"maxpool\", \"filters\": 12, \"kernel\": 3}"),
                      "model.json: layer 0 'a': unknown op 'maxpool'");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 12}"),
                      "model.json: layer 0 'a': missing field 'kernel'");
    expect_json_error(DOC("{\"name\": \"a\", \"filters\": 12, \"kernel\": 3}"),
                      "model.json: layer 0 'a': missing field 'op'");
    expect_json_error(DOC("{\"op\": \"conv2d\", \"filters\": 12, \"kernel\": 3}"),
                      "model.json: layer 0: missing field 'name'");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 12, \"kernel\": 3, \"dilation\": 2}"),
                      "model.json: layer 0 'a': unknown field 'dilation'");
    /* wrong final shape: 25x5x12 instead of 1x1x12 */
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 12, \"kernel\": 3, \"stride\": 2}"),
                      "model.json: layer 0 'a': output 25x5x12, the last layer must give 1x1x12");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 10, \"kernel\": 3, \"pool\": "
                          "\"global_avg\"}"),
                      "output 1x1x10, the last layer must give 1x1x12");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 12, \"kernel\": 3, \"pool\": "
                          "\"max\"}"),
                      "layer 0 'a': pool must be");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 12, \"kernel\": 3, \"weight_bits\": 9, "
                          "\"pool\": \"global_avg\"}"),
                      "layer 0 'a': weight_bits 9 out of range");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 12, \"kernel\": 3, \"act_bits\": 0, "
                          "\"pool\": \"global_avg\"}"),
                      "layer 0 'a': act_bits 0 out of range 1..8");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 12, \"kernel\": 2.5}"),
                      "layer 0 'a': kernel must be an integer");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 12, \"kernel\": 3, \"use_bias\": 1}"),
                      "layer 0 'a': use_bias must be true or false");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 12, \"kernel\": 16}"),
                      "layer 0 'a': kernel 16 out of range 1..15");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 0, \"kernel\": 3}"),
                      "layer 0 'a': filters 0 out of range");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 8, \"kernel\": 3, \"padding\": "
                          "\"valid\"}, {\"name\": \"a\", \"op\": \"dense\", \"filters\": 12}"),
                      "layer 1 'a': name duplicates layer 0");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"depthwise\", \"filters\": 8, \"kernel\": 3}"),
                      "layer 0 'a': filters does not apply to depthwise");
    expect_json_error(DOC("{\"name\": \"a\", \"op\": \"conv2d\", \"filters\": 8, \"kernel\": 15, \"padding\": "
                          "\"valid\"}"),
                      "layer 0 'a': kernel 15x15 does not fit the 49x10 input");
    expect_json_error(DOC(""), "layers: 0 layers, expected 1..32");
    expect_json_error("{\"name\": \"m\", \"input\": [49, 10, 1], \"layers\": [{\"name\": \"d\", \"op\": "
                      "\"dense\", \"filters\": 12}]}",
                      "missing field 'classes'");
    expect_json_error("{\"name\": \"m\", \"input\": [49, 10], \"classes\": 12, \"layers\": []}",
                      "input must be [h, w, c]");
    expect_json_error("{\"name\": \"m\", \"input\": [49, 10, 1], \"classes\": 12, \"extra\": 1, \"layers\": []}",
                      "model.json: unknown field 'extra'");
    expect_json_error("{\"name\": \"m\",\n \"input\": [49, 10, 1],,}", "model.json: invalid JSON near line 2");
    expect_json_error("[1, 2]", "must be a JSON object");
#undef DOC
    /* a valid dense head: a dense layer gets h*w*c inputs */
    qsnn_arch a;
    const char *ok = "{\"name\": \"m\", \"input\": [49, 10, 1], \"classes\": 12, \"layers\": ["
                     "{\"name\": \"c\", \"op\": \"conv2d\", \"filters\": 4, \"kernel\": 3, \"stride\": [2, 2]},"
                     "{\"name\": \"d\", \"op\": \"dense\", \"filters\": 12, \"activation\": false}]}";
    if (qsnn_arch_from_json(&a, ok, "ok.json") != QSNN_OK)
        fail_msg("%s", qsnn_last_error());
    size_t tr;
    /* conv 3*3*1*4 = 36 + BN 16; dense 25*5*4*12 = 6000 + BN 48 */
    assert_int_equal(qsnn_arch_param_count(&a, &tr), 36 + 16 + 6000 + 48);
    assert_int_equal(tr, 36 + 8 + 6000 + 24);
}

/* ---------------------------------------------------------------- model init */

static void test_model_init(void **state)
{
    (void)state;
    qsnn_arch a;
    assert_int_equal(qsnn_arch_builtin(&a, "mobilenet_kws"), QSNN_OK);
    qsnn_model m, m2, m3;
    assert_int_equal(qsnn_model_init(&m, &a, 42), QSNN_OK);
    assert_int_equal(qsnn_model_init(&m2, &a, 42), QSNN_OK);
    assert_int_equal(qsnn_model_init(&m3, &a, 43), QSNN_OK);
    assert_int_equal(m.num_params, 24576);
    assert_memory_equal(m.params, m2.params, m.num_params * sizeof(float));
    assert_memory_not_equal(m.params, m3.params, m.num_params * sizeof(float));
    /* views cover the allocation exactly, in order */
    size_t off = 0;
    for (int i = 0; i < a.num_layers; i++) {
        const qsnn_layer_params *lp = &m.lp[i];
        if (lp->w) {
            assert_ptr_equal(lp->w, m.params + off);
            off += lp->n_w;
        }
        if (lp->dw) {
            assert_ptr_equal(lp->dw, m.params + off);
            off += lp->n_dw;
        }
        assert_null(lp->bias);
        if (lp->n_bn) {
            assert_ptr_equal(lp->gamma, m.params + off);
            off += 4 * lp->n_bn;
            for (size_t c = 0; c < lp->n_bn; c++) {
                assert_true(lp->gamma[c] == 1.0f && lp->beta[c] == 0.0f);
                assert_true(lp->moving_mean[c] == 0.0f && lp->moving_var[c] == 1.0f);
            }
        }
    }
    assert_int_equal(off, m.num_params);
    assert_int_equal(m.lp[0].n_w, 800);
    assert_int_equal(m.lp[1].n_dw, 288);
    assert_int_equal(m.lp[1].n_w, 2048);
    assert_null(m.lp[6].gamma);
    /* glorot_uniform bounds: conv_0 limit sqrt(6/(25+800)); separable_2 pointwise sqrt(6/128) */
    double lim0 = sqrt(6.0 / (25.0 + 800.0)), maxabs = 0, sum = 0;
    for (size_t k = 0; k < m.lp[0].n_w; k++) {
        maxabs = fmax(maxabs, fabs(m.lp[0].w[k]));
        sum += m.lp[0].w[k];
    }
    assert_true(maxabs <= lim0 && maxabs > 0.9 * lim0);
    assert_true(fabs(sum / 800.0) < 0.1 * lim0);
    double limpw = sqrt(6.0 / 128.0);
    maxabs = 0;
    for (size_t k = 0; k < m.lp[2].n_w; k++)
        maxabs = fmax(maxabs, fabs(m.lp[2].w[k]));
    assert_true(maxabs <= limpw && maxabs > 0.9 * limpw);
    assert_true(m.bn_eps == 1e-3f);
    assert_int_equal(m.num_labels, 12);
    assert_string_equal(m.labels[0], "_silence_");
    assert_string_equal(m.labels[11], "yes");
    assert_int_equal(m.episode, 0);
    qsnn_model_free(&m);
    qsnn_model_free(&m);   /* idempotent */
    qsnn_model_free(&m2);
    qsnn_model_free(&m3);

    qsnn_arch t;
    assert_int_equal(qsnn_arch_from_json(&t, tiny_json, "tiny"), QSNN_OK);
    assert_int_equal(qsnn_model_init(&m, &t, 1), QSNN_OK);
    assert_string_equal(m.labels[1], "class_1");
    assert_non_null(m.lp[1].bias);
    assert_true(m.lp[1].bias[0] == 0.0f && m.lp[1].bias[1] == 0.0f);
    qsnn_model_free(&m);
}

/* ---------------------------------------------------------------- model file */

static void test_crc32_known_value(void **state)
{
    (void)state;
    assert_int_equal(qsnn_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(qsnn_crc32(qsnn_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}

static void test_model_file_round_trip(void **state)
{
    (void)state;
    const char *names[2] = {"mobilenet_kws", "ds_cnn"};
    char path[1200];
    tmp_path(path, sizeof path, "rt.qsnn");
    for (int k = 0; k < 2; k++) {
        qsnn_arch a;
        assert_int_equal(qsnn_arch_builtin(&a, names[k]), QSNN_OK);
        qsnn_model m, back;
        assert_int_equal(qsnn_model_init(&m, &a, 7), QSNN_OK);
        /* values that a text format would lose */
        m.params[0] = -0.0f;
        m.params[1] = 1e-40f; /* subnormal */
        m.params[2] = 0.1f;
        m.quant_acts = 1;
        m.quant_weights = k == 0;
        m.episode = 3;
        m.scale_min = -247.5f;
        m.scale_max = 30.25f;
        m.bn_eps = 1e-3f;
        snprintf(m.labels[4], QSNN_LABEL_MAX, "left_word");
        if (qsnn_model_save(&m, path) != QSNN_OK)
            fail_msg("%s", qsnn_last_error());
        if (qsnn_model_load(&back, path) != QSNN_OK)
            fail_msg("%s", qsnn_last_error());
        assert_memory_equal(&back.arch, &m.arch, sizeof m.arch);
        assert_int_equal(back.num_params, m.num_params);
        assert_memory_equal(back.params, m.params, m.num_params * sizeof(float));
        assert_int_equal(back.quant_acts, 1);
        assert_int_equal(back.quant_weights, k == 0);
        assert_int_equal(back.episode, 3);
        assert_true(back.scale_min == -247.5f && back.scale_max == 30.25f && back.bn_eps == 1e-3f);
        assert_int_equal(back.num_labels, 12);
        assert_memory_equal(back.labels, m.labels, sizeof m.labels);
        for (int i = 0; i < a.num_layers; i++) {
            assert_int_equal(back.lp[i].w ? back.lp[i].w - back.params : -1, m.lp[i].w ? m.lp[i].w - m.params : -1);
            assert_int_equal(back.lp[i].n_bn, m.lp[i].n_bn);
        }
        qsnn_model_free(&m);
        qsnn_model_free(&back);
    }
    remove(path);
}

static void expect_load_error(const char *path, const char *needle)
{
    qsnn_model m;
    qsnn_status st = qsnn_model_load(&m, path);
    if (st == QSNN_OK) {
        qsnn_model_free(&m);
        fail_msg("loading %s succeeded, expected an error containing \"%s\"", path, needle);
    }
    assert_null(m.params);
    if (!strstr(qsnn_last_error(), needle))
        fail_msg("expected an error containing \"%s\", got \"%s\"", needle, qsnn_last_error());
    if (!strstr(qsnn_last_error(), path))
        fail_msg("the error does not name the file: \"%s\"", qsnn_last_error());
}

/* re-seal a modified image with a valid CRC so that the checks behind the checksum are reached */
static void reseal(unsigned char *img, size_t n)
{
    qsnn_put_u32le(img + n - 4, qsnn_crc32(0, img, n - 4));
}

static void test_model_file_corruption(void **state)
{
    (void)state;
    qsnn_arch t;
    assert_int_equal(qsnn_arch_from_json(&t, tiny_json, "tiny"), QSNN_OK);
    qsnn_model m;
    assert_int_equal(qsnn_model_init(&m, &t, 3), QSNN_OK);
    char good[1200], bad[1200];
    tmp_path(good, sizeof good, "good.qsnn");
    tmp_path(bad, sizeof bad, "bad.qsnn");
    assert_int_equal(qsnn_model_save(&m, good), QSNN_OK);
    size_t n = 0;
    unsigned char *img = (unsigned char *)read_file(good, &n);
    assert_non_null(img);
    assert_true(n > 100);
    unsigned char *copy = malloc(n);
    assert_non_null(copy);

    /* truncation at every length */
    for (size_t len = 0; len < n; len++) {
        write_bytes(bad, img, len);
        qsnn_model x;
        assert_int_not_equal(qsnn_model_load(&x, bad), QSNN_OK);
        assert_null(x.params);
        assert_non_null(strstr(qsnn_last_error(), bad));
    }
    expect_load_error(bad, "truncated");
    write_bytes(bad, img, 30);
    expect_load_error(bad, "truncated (header)");
    write_bytes(bad, img, n - 1);
    expect_load_error(bad, "size: the header describes");

    /* every single byte flipped is detected */
    for (size_t k = 0; k < n; k++) {
        memcpy(copy, img, n);
        copy[k] ^= 0x5A;
        write_bytes(bad, copy, n);
        qsnn_model x;
        if (qsnn_model_load(&x, bad) == QSNN_OK) {
            qsnn_model_free(&x);
            fail_msg("flipping byte %zu went unnoticed", k);
        }
        assert_null(x.params);
    }
    memcpy(copy, img, n);
    copy[n - 10] ^= 1;
    write_bytes(bad, copy, n);
    expect_load_error(bad, "checksum");

    /* header fields */
    memcpy(copy, img, n);
    memcpy(copy, "QSNNFEAT", 8);
    write_bytes(bad, copy, n);
    expect_load_error(bad, "magic");
    memcpy(copy, img, n);
    qsnn_put_u32le(copy + 8, 3);
    write_bytes(bad, copy, n);
    expect_load_error(bad, "version: 3 is not supported");
    memcpy(copy, img, n);
    qsnn_put_u32le(copy + 24, 0xFFFFFFFFu); /* absurd JSON length */
    write_bytes(bad, copy, n);
    expect_load_error(bad, "arch JSON length");
    memcpy(copy, img, n);
    qsnn_put_u32le(copy + 24, 1000); /* plausible JSON length that does not add up */
    write_bytes(bad, copy, n);
    expect_load_error(bad, "size: the header describes");
    memcpy(copy, img, n);
    qsnn_put_u32le(copy + 48, 0xFFFFFFFFu); /* absurd parameter count */
    qsnn_put_u32le(copy + 52, 0xFFFFFFFFu);
    write_bytes(bad, copy, n);
    expect_load_error(bad, "parameter count");
    memcpy(copy, img, n);
    qsnn_put_u32le(copy + 52, 1); /* 2^32 parameters: no 16 GiB allocation */
    write_bytes(bad, copy, n);
    expect_load_error(bad, "parameter count");
    memcpy(copy, img, n);
    qsnn_put_u32le(copy + 48, qsnn_get_u32le(img + 48) + 100000); /* plausible count that does not add up */
    write_bytes(bad, copy, n);
    expect_load_error(bad, "size: the header describes");
    memcpy(copy, img, n);
    qsnn_put_u32le(copy + 28, 1000);
    write_bytes(bad, copy, n);
    expect_load_error(bad, "label count");
    memcpy(copy, img, n);
    qsnn_put_u32le(copy + 16, 8);
    write_bytes(bad, copy, n);
    expect_load_error(bad, "flags");

    /* the writer's version (format version 2, qsnn 0.2.0): this build's; a version 1 file (0.1.0: zero there)
     * still loads, with writer 0; non-zero reserved bytes are refused in either */
    assert_int_equal(qsnn_get_u32le(img + 8), 2);
    assert_int_equal(qsnn_get_u32le(img + 56), QSNN_VERSION_U32);
    {
        qsnn_model x;
        assert_int_equal(qsnn_model_load(&x, good), QSNN_OK);
        assert_int_equal(x.writer_version, QSNN_VERSION_U32);
        qsnn_model_free(&x);
        memcpy(copy, img, n);
        qsnn_put_u32le(copy + 8, 1);
        qsnn_put_u32le(copy + 56, 0);
        reseal(copy, n);
        write_bytes(bad, copy, n);
        assert_int_equal(qsnn_model_load(&x, bad), QSNN_OK);
        assert_int_equal(x.writer_version, 0);
        assert_memory_equal(x.params, m.params, m.num_params * sizeof(float));
        qsnn_model_free(&x);
    }
    qsnn_put_u32le(copy + 56, 0x00000100u); /* version 1 with a writer: the old reserved bytes */
    reseal(copy, n);
    write_bytes(bad, copy, n);
    expect_load_error(bad, "reserved header bytes");
    memcpy(copy, img, n);
    qsnn_put_u32le(copy + 60, 1);
    reseal(copy, n);
    write_bytes(bad, copy, n);
    expect_load_error(bad, "reserved header bytes");

    /* behind a valid checksum: the arch JSON is parsed and validated, the parameter count checked */
    uint32_t json_len = qsnn_get_u32le(img + 24);
    memcpy(copy, img, n);
    char *kern = memmem(copy + 64, json_len, "\"kernel\":[3,2]", 14);
    assert_non_null(kern);
    kern[10] = '0';
    reseal(copy, n);
    write_bytes(bad, copy, n);
    expect_load_error(bad, "arch JSON: layer 0 'c0': kernel 0 out of range");
    memcpy(copy, img, n);
    char *op = memmem(copy + 64, json_len, "conv2d", 6);
    assert_non_null(op);
    memcpy(op, "convxx", 6);
    reseal(copy, n);
    write_bytes(bad, copy, n);
    expect_load_error(bad, "unknown op 'convxx'");
    memcpy(copy, img, n);
    copy[64] = '[';
    reseal(copy, n);
    write_bytes(bad, copy, n);
    expect_load_error(bad, "arch JSON: invalid JSON");
    memcpy(copy, img, n);
    char *filt = memmem(copy + 64, json_len, "\"filters\":3", 11);
    assert_non_null(filt);
    filt[10] = '4'; /* 4 filters: valid arch, but the parameter count no longer matches the file */
    reseal(copy, n);
    write_bytes(bad, copy, n);
    expect_load_error(bad, "parameter count");
    memcpy(copy, img, n);
    memset(copy + 64 + json_len, 'x', QSNN_LABEL_MAX); /* label without NUL */
    reseal(copy, n);
    write_bytes(bad, copy, n);
    expect_load_error(bad, "label 0");

    /* not there / not a regular file */
    char missing[1300];
    snprintf(missing, sizeof missing, "%s.missing", good);
    expect_load_error(missing, "cannot open");
    expect_load_error(QSNN_BINARY_DIR, "not a regular file");

    /* the original still loads */
    qsnn_model back;
    assert_int_equal(qsnn_model_load(&back, good), QSNN_OK);
    assert_memory_equal(back.params, m.params, m.num_params * sizeof(float));
    qsnn_model_free(&back);
    qsnn_model_free(&m);
    free(copy);
    free(img);
    remove(good);
    remove(bad);
}

/* a big model: truncation and flips at a sample of offsets */
static void test_model_file_mobilenet_sampled(void **state)
{
    (void)state;
    qsnn_arch a;
    assert_int_equal(qsnn_arch_builtin(&a, "mobilenet_kws"), QSNN_OK);
    qsnn_model m;
    assert_int_equal(qsnn_model_init(&m, &a, 5), QSNN_OK);
    char good[1200], bad[1200];
    tmp_path(good, sizeof good, "mn.qsnn");
    tmp_path(bad, sizeof bad, "mnbad.qsnn");
    assert_int_equal(qsnn_model_save(&m, good), QSNN_OK);
    size_t n = 0;
    unsigned char *img = (unsigned char *)read_file(good, &n);
    assert_non_null(img);
    assert_true(n > 4 * 24576);
    for (size_t len = 0; len < n; len += 997) {
        write_bytes(bad, img, len);
        qsnn_model x;
        assert_int_not_equal(qsnn_model_load(&x, bad), QSNN_OK);
        assert_null(x.params);
    }
    for (size_t k = 0; k < n; k += 1009) {
        img[k] ^= 0x80;
        write_bytes(bad, img, n);
        img[k] ^= 0x80;
        qsnn_model x;
        assert_int_not_equal(qsnn_model_load(&x, bad), QSNN_OK);
        assert_null(x.params);
    }
    free(img);
    qsnn_model_free(&m);
    remove(good);
    remove(bad);
}

/* ---------------------------------------------------------------- Keras summary */

static char *summary_text(const qsnn_model *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    qsnn_model_print_summary(fp, m);
    fclose(fp);
    return buf;
}

static void test_summary_matches_tutorial(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/keras_summary_mobilenet_kws.txt", QSNN_TEST_DATA);
    char *expected = read_file(path, NULL);
    assert_non_null(expected);
    const char *body = strchr(expected, '\n'); /* skip the provenance line */
    assert_non_null(body);
    body++;
    qsnn_arch a;
    assert_int_equal(qsnn_arch_builtin(&a, "mobilenet_kws"), QSNN_OK);
    qsnn_model m;
    assert_int_equal(qsnn_model_init(&m, &a, 1), QSNN_OK);
    m.quant_acts = 1;
    char *got = summary_text(&m);
    if (strcmp(got, body) != 0) {
        size_t i = 0;
        while (got[i] && got[i] == body[i])
            i++;
        fail_msg("summary differs at byte %zu:\n--- got ---\n%s\n--- expected ---\n%s", i, got, body);
    }
    free(got);
    /* float activations print Keras' ReLU */
    m.quant_acts = 0;
    got = summary_text(&m);
    assert_non_null(strstr(got, "conv_0_relu (ReLU)           (None, 25, 5, 32)         0         \n"));
    free(got);
    qsnn_model_free(&m);
    free(expected);
}

static void test_summary_ds_cnn(void **state)
{
    (void)state;
    qsnn_arch a;
    assert_int_equal(qsnn_arch_builtin(&a, "ds_cnn"), QSNN_OK);
    qsnn_model m;
    assert_int_equal(qsnn_model_init(&m, &a, 1), QSNN_OK);
    m.quant_acts = 1;
    char *got = summary_text(&m);
    assert_non_null(strstr(got, "Model: \"ds_cnn\"\n"));
    assert_non_null(strstr(got, "conv_0 (QuantizedConv2D)     (None, 25, 5, 64)         2624      \n"));
    assert_non_null(strstr(got, "dw_1 (QuantizedDepthwiseConv (None, 25, 5, 64)         640       \n"));
    assert_non_null(strstr(got, "pw_4_global_avg (GlobalAvera (None, 64)                0         \n"));
    assert_non_null(strstr(got, "dense_5 (QuantizedDense)     (None, 12)                780       \n"));
    assert_non_null(strstr(got, "act_softmax (Activation)     (None, 12)                0         \n"));
    assert_null(strstr(got, "reshape_"));
    assert_non_null(strstr(got, "Total params: 24,908\nTrainable params: 23,756\nNon-trainable params: 1,152\n"));
    free(got);
    qsnn_model_free(&m);
}

/* qsnn_arch_load: what --arch takes: a built-in name or a JSON file; the shipped JSON equals the built-in. */
static void test_arch_load_name_or_file(void **state)
{
    (void)state;
    qsnn_arch a, b;
    assert_int_equal(qsnn_arch_load(&a, "mobilenet_kws"), QSNN_OK);
    assert_int_equal(qsnn_arch_load(&b, QSNN_SOURCE_DIR "/models/mobilenet_kws.json"), QSNN_OK);
    assert_int_equal(a.num_layers, b.num_layers);
    size_t ta, tb;
    assert_int_equal(qsnn_arch_param_count(&a, &ta), qsnn_arch_param_count(&b, &tb));
    assert_int_equal(ta, tb);
    for (int l = 0; l < a.num_layers; l++) {
        assert_string_equal(a.layers[l].name, b.layers[l].name);
        assert_int_equal(a.layers[l].out.c, b.layers[l].out.c);
    }
    assert_int_equal(qsnn_arch_load(&a, "no_such_arch"), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "no_such_arch"));
    assert_int_equal(qsnn_arch_load(&a, "/nonexistent/dir/m.json"), QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), "/nonexistent/dir/m.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mobilenet_kws_builtin),
        cmocka_unit_test(test_ds_cnn_builtin),
        cmocka_unit_test(test_json_files_match_builtins),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_model_init),
        cmocka_unit_test(test_crc32_known_value),
        cmocka_unit_test(test_model_file_round_trip),
        cmocka_unit_test(test_model_file_corruption),
        cmocka_unit_test(test_model_file_mobilenet_sampled),
        cmocka_unit_test(test_summary_matches_tutorial),
        cmocka_unit_test(test_summary_ds_cnn),
        cmocka_unit_test(test_arch_load_name_or_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
