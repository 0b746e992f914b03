/* SPDX-License-Identifier: Apache-2.0 */
/* test_file_kind.c: qsnn_file_kind_of (qsnn/io.h) on a real file of every qsnn format, written by the module that
 * owns it (model file, .snn image, feature file, trainer checkpoint), on a folder, on other files and on paths
 * that cannot be read: the magics of src/io/file_kind.c are the formats' own. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qsnn/convert.h"
#include "qsnn/data.h"
#include "qsnn/io.h"
#include "qsnn/model.h"
#include "qsnn/snn.h"
#include "qsnn/train.h"

static char g_dir[256];

static const char *tmp(const char *name)
{
    static char buf[4][512];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, 512, "%s/%s", g_dir, name);
    return p;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/qsnn_test_file_kind_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void test_formats(void **state)
{
    (void)state;
    /* the shipped model as a model file, and converted to a .snn image */
    qsnn_model m;
    assert_int_equal(qsnn_model_load(&m, QSNN_SOURCE_DIR "/models/mobilenet_kws_pretrained.qsnn"), QSNN_OK);
    assert_int_equal(qsnn_model_save(&m, tmp("m.qsnn")), QSNN_OK);
    assert_int_equal(qsnn_file_kind_of(tmp("m.qsnn")), QSNN_FILE_MODEL);
    unsigned char *img = NULL;
    size_t sz = 0;
    assert_int_equal(qsnn_convert_model(&m, &img, &sz, NULL), QSNN_OK);
    assert_int_equal(qsnn_snn_save(tmp("m.snn"), img, sz), QSNN_OK);
    assert_int_equal(qsnn_file_kind_of(tmp("m.snn")), QSNN_FILE_SNN);
    free(img);

    /* a feature file of 40 random samples, and a checkpoint of one epoch trained on them */
    enum { N = 40 };
    qsnn_featureset fs;
    memset(&fs, 0, sizeof fs);
    fs.n = N;
    fs.h = QSNN_DATA_FRAMES;
    fs.w = QSNN_DATA_COEFFS;
    fs.num_labels = m.num_labels;
    memcpy(fs.labels, m.labels, sizeof fs.labels);
    fs.is_u8 = 1;
    fs.u8 = malloc((size_t)N * QSNN_DATA_FEATURE_SIZE);
    fs.label = malloc(N * sizeof *fs.label);
    fs.split = malloc(N);
    fs.source = malloc(N * sizeof *fs.source);
    assert_true(fs.u8 && fs.label && fs.split && fs.source);
    qsnn_rng r;
    qsnn_rng_seed(&r, 5);
    for (size_t i = 0; i < (size_t)N * QSNN_DATA_FEATURE_SIZE; i++)
        fs.u8[i] = (uint8_t)qsnn_rng_below(&r, 256);
    for (int i = 0; i < N; i++) {
        fs.label[i] = i % m.num_labels;
        fs.split[i] = QSNN_SPLIT_TRAIN;
        fs.source[i] = "_silence_";
    }
    fs.scale_min = m.scale_min;
    fs.scale_max = m.scale_max;
    assert_int_equal(qsnn_featureset_save(&fs, tmp("f.qfeat")), QSNN_OK);
    assert_int_equal(qsnn_file_kind_of(tmp("f.qfeat")), QSNN_FILE_FEATURES);

    qsnn_train_opts o;
    qsnn_train_default_opts(&o);
    o.num_episodes = 1;
    o.episodes[0] = 3;
    o.epochs[0] = 1;
    o.batch = 20;
    o.threads = 1;
    o.quiet = 1;
    o.ckpt_dir = tmp("ckpt");
    qsnn_train_data td = {.train_u8 = fs.u8, .train_labels = fs.label, .n_train = N}; /* no validation */
    qsnn_train_result *res = calloc(1, sizeof *res);
    assert_non_null(res);
    assert_int_equal(qsnn_train_run(&m, &td, &o, res), QSNN_OK);
    free(res);
    assert_int_equal(qsnn_file_kind_of(tmp("ckpt/state.qsnnckpt")), QSNN_FILE_CHECKPOINT);
    assert_int_equal(qsnn_file_kind_of(tmp("ckpt/model.qsnn")), QSNN_FILE_MODEL);
    assert_int_equal(qsnn_file_kind_of(tmp("ckpt")), QSNN_FILE_DIR);
    free(fs.u8);
    free(fs.label);
    free(fs.split);
    free(fs.source);
    qsnn_model_free(&m);
}

static void test_others(void **state)
{
    (void)state;
    assert_int_equal(qsnn_file_kind_of(g_dir), QSNN_FILE_DIR);
    assert_int_equal(qsnn_file_kind_of(QSNN_TEST_DATA "/mfcc_chirp.wav"), QSNN_FILE_OTHER);
    write_bytes(tmp("short"), "QSNN", 4); /* shorter than a magic */
    assert_int_equal(qsnn_file_kind_of(tmp("short")), QSNN_FILE_OTHER);
    write_bytes(tmp("empty"), "", 0);
    assert_int_equal(qsnn_file_kind_of(tmp("empty")), QSNN_FILE_OTHER);
    write_bytes(tmp("near"), "QSNNMODX........", 16); /* one byte off */
    assert_int_equal(qsnn_file_kind_of(tmp("near")), QSNN_FILE_OTHER);
    assert_int_equal(qsnn_file_kind_of(tmp("missing")), QSNN_FILE_UNREADABLE);
    assert_non_null(strstr(qsnn_last_error(), "missing"));
    if (geteuid() != 0) { /* root reads anything */
        write_bytes(tmp("locked"), "QSNN_SNN", 8);
        chmod(tmp("locked"), 0);
        assert_int_equal(qsnn_file_kind_of(tmp("locked")), QSNN_FILE_UNREADABLE);
    }
    assert_string_equal(qsnn_file_kind_name(QSNN_FILE_SNN), "integer model (.snn)");
    assert_string_equal(qsnn_file_kind_name(QSNN_FILE_DIR), "folder");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_others),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
