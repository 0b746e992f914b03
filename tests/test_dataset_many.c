/* SPDX-License-Identifier: Apache-2.0 */
/* test_dataset_many.c: several Speech Commands directories as one dataset (qsnn_dataset_open_many), built in /tmp:
 * the merged splits are each directory's own index (list files for one, which_set for the other) one after the
 * other, with per-split silence/unknown quotas of each directory; sources carry the directory prefix; clean
 * features of a clip are the same merged or alone; background noise is pooled with identical recordings once;
 * a directory without a wanted word that another has is refused naming both; bad arguments; determinism; the
 * one-directory case equals qsnn_dataset_open; `qsnn features --extra-data`. */
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

#include "data/dataset_internal.h"
#include "qsnn/audio.h"
#include "qsnn/data.h"
#include "qsnn/io.h"

static char g_root[64], g_a[128], g_b[128], g_c[128];

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

static void write_wav(const char *dir, const char *rel, float (*f)(int, size_t), int id, size_t n)
{
    char path[512], folder[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    snprintf(folder, sizeof folder, "%s", path);
    *strrchr(folder, '/') = '\0';
    mkdirs(folder);
    float *x = malloc(n * sizeof *x);
    for (size_t j = 0; j < n; j++)
        x[j] = f(id, j);
    assert_int_equal(qsnn_audio_write_wav16(path, x, n, QSNN_SAMPLE_RATE), QSNN_OK);
    free(x);
}

static float clip_value(int id, size_t j) { return (float)((int)((j * 7 + (size_t)id * 131) % 2000) - 1000) / 32768.0f; }
static float noise_value(int id, size_t j) { return 0.4f * sinf((float)j * (0.05f + 0.01f * (float)id)); }

static void write_text(const char *dir, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* A: list files; yes 20, no 10, cat 8; noise 0.  B: which_set (no lists); yes 12, no 9, dog 6; noise 0 (the
 * same recording) and noise 1.  C: like B without a "no" folder. Clip ids differ between directories. */
static void make_dir(const char *dir, int nyes, int nno, const char *other, int nother, int id0, int lists,
                     int noise_ids)
{
    int id = id0;
    const char *words[3] = {"yes", "no", other};
    int n[3] = {nyes, nno, nother};
    for (int w = 0; w < 3; w++)
        for (int i = 0; i < n[w]; i++) {
            char rel[128];
            snprintf(rel, sizeof rel, "%s/%c%03d_nohash_%d.wav", words[w], 'a' + id0 / 100, i, w);
            write_wav(dir, rel, clip_value, id++, QSNN_CLIP_SAMPLES);
        }
    if (lists) {
        write_text(dir, "validation_list.txt", "yes/a000_nohash_0.wav\nyes/a001_nohash_0.wav\nno/a000_nohash_1.wav\n"
                                               "cat/a000_nohash_2.wav\n");
        write_text(dir, "testing_list.txt", "yes/a002_nohash_0.wav\nno/a001_nohash_1.wav\nno/a002_nohash_1.wav\n");
    }
    for (int k = 0; k < 2; k++)
        if (noise_ids & (1 << k)) {
            char rel[64];
            snprintf(rel, sizeof rel, "_background_noise_/n%d.wav", k);
            write_wav(dir, rel, noise_value, k, 20000);
        }
}

static int setup(void **state)
{
    (void)state;
    qsnn_log_set_level(QSNN_LOG_QUIET);
    snprintf(g_root, sizeof g_root, "/tmp/qsnn_test_many_XXXXXX");
    if (!mkdtemp(g_root))
        return -1;
    snprintf(g_a, sizeof g_a, "%s/a", g_root);
    snprintf(g_b, sizeof g_b, "%s/b/", g_root); /* trailing slash: not part of the source prefix */
    snprintf(g_c, sizeof g_c, "%s/c", g_root);
    make_dir(g_a, 20, 10, "cat", 8, 0, 1, 1);
    make_dir(g_b, 12, 9, "dog", 6, 100, 0, 3);
    make_dir(g_c, 12, 0, "dog", 6, 200, 0, 2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    return system(cmd) == 0 ? 0 : -1;
}

static qsnn_data_opts yes_no(void)
{
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.wanted_words = "yes,no";
    o.unknown_pct = 20;
    return o;
}

static qsnn_dataset *open_dirs(const char *const *dirs, int n)
{
    qsnn_data_opts o = yes_no();
    qsnn_dataset *ds = NULL;
    qsnn_status st = qsnn_dataset_open_many(&ds, dirs, n, &o);
    if (st != QSNN_OK)
        fail_msg("open_many: %s", qsnn_last_error());
    return ds;
}

static size_t count_label(const qsnn_dataset *ds, qsnn_split s, int label, size_t from, size_t to)
{
    size_t c = 0;
    for (size_t i = from; i < to; i++)
        c += qsnn_dataset_label(ds, s, i) == label;
    return c;
}

static void test_merge_counts_sources_features(void **state)
{
    (void)state;
    const char *da[1] = {g_a}, *db[1] = {g_b}, *dab[2] = {g_a, g_b};
    qsnn_dataset *a = open_dirs(da, 1), *b = open_dirs(db, 1), *m = open_dirs(dab, 2);
    assert_int_equal(qsnn_dataset_num_labels(m), 4);
    /* A by its list files: validation yes 2 + no 1 (+ silence ceil(0.3) = 1, unknown ceil(0.6) = 1 of cat's 1),
     * test yes 1 + no 2 (+1 silence, + 0 unknown: no cat clip listed for test), train yes 17 + no 7 (+3, +5) */
    assert_int_equal(qsnn_dataset_count(a, QSNN_SPLIT_VALIDATION), 3 + 1 + 1);
    assert_int_equal(qsnn_dataset_count(a, QSNN_SPLIT_TEST), 3 + 1 + 0);
    assert_int_equal(qsnn_dataset_count(a, QSNN_SPLIT_TRAIN), 24 + 3 + 5);
    char pa[200], pb[200];
    snprintf(pa, sizeof pa, "%s/", g_a);
    snprintf(pb, sizeof pb, "%s", g_b); /* g_b ends with '/' */
    for (int s = 0; s < QSNN_SPLIT_COUNT; s++) {
        size_t na = qsnn_dataset_count(a, (qsnn_split)s), nb = qsnn_dataset_count(b, (qsnn_split)s);
        assert_int_equal(qsnn_dataset_count(m, (qsnn_split)s), na + nb);
        /* per split and class: the sum of the directories' own quotas */
        for (int l = 0; l < 4; l++)
            assert_int_equal(count_label(m, (qsnn_split)s, l, 0, na + nb),
                             count_label(a, (qsnn_split)s, l, 0, na) + count_label(b, (qsnn_split)s, l, 0, nb));
        /* A's entries first, then B's, each in its own order; sources prefixed with the directory */
        for (size_t i = 0; i < na + nb; i++) {
            const qsnn_dataset *one = i < na ? a : b;
            size_t j = i < na ? i : i - na;
            assert_int_equal(qsnn_dataset_label(m, (qsnn_split)s, i), qsnn_dataset_label(one, (qsnn_split)s, j));
            const char *src1 = qsnn_dataset_source(one, (qsnn_split)s, j), *srcm = qsnn_dataset_source(m, (qsnn_split)s, i);
            if (!strcmp(src1, "_silence_")) {
                assert_string_equal(srcm, "_silence_");
                continue;
            }
            const char *pre = i < na ? pa : pb;
            assert_memory_equal(srcm, pre, strlen(pre));
            assert_string_equal(srcm + strlen(pre), src1);
        }
    }
    /* clean features of a clip entry are the same merged or alone (B's first non-silence training entry) */
    size_t na = qsnn_dataset_count(a, QSNN_SPLIT_TRAIN), j = 0;
    while (!strcmp(qsnn_dataset_source(b, QSNN_SPLIT_TRAIN, j), "_silence_"))
        j++;
    size_t im = na + j;
    float f1[QSNN_DATA_FEATURE_SIZE], f2[QSNN_DATA_FEATURE_SIZE];
    assert_int_equal(qsnn_dataset_features(b, QSNN_SPLIT_TRAIN, &j, 1, 0, 5, f1), QSNN_OK);
    assert_int_equal(qsnn_dataset_features(m, QSNN_SPLIT_TRAIN, &im, 1, 0, 5, f2), QSNN_OK);
    assert_memory_equal(f1, f2, sizeof f1);
    /* noise pool: A's n0, B's n0 (identical: kept once) and n1 */
    assert_int_equal(a->num_noise, 1);
    assert_int_equal(b->num_noise, 2);
    assert_int_equal(m->num_noise, 2);
    qsnn_dataset_free(a);
    qsnn_dataset_free(b);
    qsnn_dataset_free(m);
}

static void test_one_dir_is_open_and_deterministic(void **state)
{
    (void)state;
    const char *dab[2] = {g_a, g_b};
    qsnn_dataset *m1 = open_dirs(dab, 2), *m2 = open_dirs(dab, 2);
    qsnn_data_opts o = yes_no();
    qsnn_dataset *a = NULL, *a1 = NULL;
    assert_int_equal(qsnn_dataset_open(&a, g_a, &o), QSNN_OK);
    const char *da[1] = {g_a};
    assert_int_equal(qsnn_dataset_open_many(&a1, da, 1, &o), QSNN_OK);
    for (int s = 0; s < QSNN_SPLIT_COUNT; s++) {
        assert_int_equal(qsnn_dataset_count(m1, (qsnn_split)s), qsnn_dataset_count(m2, (qsnn_split)s));
        for (size_t i = 0; i < qsnn_dataset_count(m1, (qsnn_split)s); i++) {
            assert_int_equal(qsnn_dataset_label(m1, (qsnn_split)s, i), qsnn_dataset_label(m2, (qsnn_split)s, i));
            assert_string_equal(qsnn_dataset_source(m1, (qsnn_split)s, i), qsnn_dataset_source(m2, (qsnn_split)s, i));
        }
        assert_int_equal(qsnn_dataset_count(a, (qsnn_split)s), qsnn_dataset_count(a1, (qsnn_split)s));
        for (size_t i = 0; i < qsnn_dataset_count(a, (qsnn_split)s); i++) /* one directory: no prefix */
            assert_string_equal(qsnn_dataset_source(a, (qsnn_split)s, i), qsnn_dataset_source(a1, (qsnn_split)s, i));
    }
    /* augmented features of the merged set are reproducible */
    size_t n = qsnn_dataset_count(m1, QSNN_SPLIT_TRAIN);
    size_t *idx = malloc(n * sizeof *idx);
    float *f1 = malloc(n * QSNN_DATA_FEATURE_SIZE * sizeof *f1), *f2 = malloc(n * QSNN_DATA_FEATURE_SIZE * sizeof *f2);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    assert_int_equal(qsnn_dataset_features(m1, QSNN_SPLIT_TRAIN, idx, n, 1, 9, f1), QSNN_OK);
    assert_int_equal(qsnn_dataset_features(m2, QSNN_SPLIT_TRAIN, idx, n, 1, 9, f2), QSNN_OK);
    assert_memory_equal(f1, f2, n * QSNN_DATA_FEATURE_SIZE * sizeof *f1);
    free(idx);
    free(f1);
    free(f2);
    qsnn_dataset_free(m1);
    qsnn_dataset_free(m2);
    qsnn_dataset_free(a);
    qsnn_dataset_free(a1);
}

static void test_label_mismatch_and_bad_arguments(void **state)
{
    (void)state;
    qsnn_data_opts o = yes_no();
    qsnn_dataset *ds = (qsnn_dataset *)1;
    const char *dac[2] = {g_a, g_c};
    assert_int_equal(qsnn_dataset_open_many(&ds, dac, 2, &o), QSNN_ERR_ARG);
    assert_null(ds);
    const char *msg = qsnn_last_error();
    assert_non_null(strstr(msg, g_c));
    assert_non_null(strstr(msg, g_a));
    assert_non_null(strstr(msg, "'no'"));
    /* the same in the other order: the directory without the folder is named first */
    const char *dca[2] = {g_c, g_a};
    assert_int_equal(qsnn_dataset_open_many(&ds, dca, 2, &o), QSNN_ERR_ARG);
    assert_ptr_equal(strstr(qsnn_last_error(), g_c), qsnn_last_error());
    /* alone, C lacks the word with the one-directory message */
    assert_int_equal(qsnn_dataset_open(&ds, g_c, &o), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "has no folder"));

    const char *dup[2] = {g_a, g_a};
    assert_int_equal(qsnn_dataset_open_many(&ds, dup, 2, &o), QSNN_ERR_ARG);
    assert_int_equal(qsnn_dataset_open_many(&ds, dup, 0, &o), QSNN_ERR_ARG);
    assert_int_equal(qsnn_dataset_open_many(&ds, NULL, 1, &o), QSNN_ERR_ARG);
    const char *withnull[2] = {g_a, NULL};
    assert_int_equal(qsnn_dataset_open_many(&ds, withnull, 2, &o), QSNN_ERR_ARG);
    const char *missing[2] = {g_a, "/nonexistent_qsnn_dir"};
    assert_int_equal(qsnn_dataset_open_many(&ds, missing, 2, &o), QSNN_ERR_IO);
    assert_null(ds);
}

static int run(const char *args)
{
    const char *exe = getenv("QSNN_EXE");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' features %s >'%s/cmd.out' 2>'%s/cmd.err'", exe, args, g_root, g_root);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_features_command_extra_data(void **state)
{
    (void)state;
    if (!getenv("QSNN_EXE"))
        skip();
    char args[1024], path[256];
    snprintf(path, sizeof path, "%s/m.qsnnf", g_root);
    snprintf(args, sizeof args, "'%s' --extra-data '%s' -o '%s' --words yes,no --unknown-pct 20 -q", g_a, g_b, path);
    assert_int_equal(run(args), 0);
    qsnn_featureset fs;
    assert_int_equal(qsnn_featureset_load(&fs, path), QSNN_OK);
    const char *dab[2] = {g_a, g_b};
    qsnn_dataset *m = open_dirs(dab, 2);
    size_t total = 0;
    for (int s = 0; s < QSNN_SPLIT_COUNT; s++)
        total += qsnn_dataset_count(m, (qsnn_split)s);
    assert_int_equal(fs.n, total);
    /* the range is the min and max of the clean training features of both directories */
    float lo = INFINITY, hi = -INFINITY;
    int from_b = 0;
    for (size_t i = 0; i < fs.n; i++) {
        if (fs.split[i] != QSNN_SPLIT_TRAIN)
            continue;
        from_b += strstr(fs.source[i], "/b/") != NULL;
        for (int k = 0; k < QSNN_DATA_FEATURE_SIZE; k++) {
            float v = fs.f32[i * QSNN_DATA_FEATURE_SIZE + (size_t)k];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }
    assert_true(from_b > 0);
    assert_true(fs.scale_min == lo && fs.scale_max == hi);
    qsnn_featureset_free(&fs);
    qsnn_dataset_free(m);
    snprintf(args, sizeof args, "'%s' --extra-data '%s' -o '%s' --words yes,no -q", g_a, g_c, path);
    assert_int_equal(run(args), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_counts_sources_features),
        cmocka_unit_test(test_one_dir_is_open_and_deterministic),
        cmocka_unit_test(test_label_mismatch_and_bad_arguments),
        cmocka_unit_test(test_features_command_extra_data),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
