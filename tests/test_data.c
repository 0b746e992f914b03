/* SPDX-License-Identifier: Apache-2.0 */
/* test_data.c: Speech Commands datasets: TF's which_set against Python hashlib (tests/data/which_set.txt), both
 * layouts with and without list files (built in /tmp with qsnn_audio_write_wav16), index sizes (ceil counts),
 * label order, seed determinism, bad clips, augmentation (shift range, noise probability and volumes,
 * the exact mix), thread-count independence of the features, uint8 scaling with clamping, the evaluation loader,
 * the `qsnn features` command, and the real data in ../shared/data when it is present. */
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

#ifdef _OPENMP
#include <omp.h>
#endif

#include "data/dataset_internal.h"
#include "qsnn/audio.h"
#include "qsnn/data.h"
#include "qsnn/io.h"

static char g_root[64];

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

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

/* Clip `id`: a recognisable pattern of n samples, value ((j * 7 + id * 131) % 2000 - 1000) / 32768. */
static float clip_value(int id, size_t j) { return (float)((int)((j * 7 + (size_t)id * 131) % 2000) - 1000) / 32768.0f; }

static void write_clip(const char *dir, const char *rel, int id, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    char folder[512];
    snprintf(folder, sizeof folder, "%s", path);
    *strrchr(folder, '/') = '\0';
    mkdirs(folder);
    float *x = malloc((n ? n : 1) * sizeof *x);
    for (size_t j = 0; j < n; j++)
        x[j] = clip_value(id, j);
    assert_int_equal(qsnn_audio_write_wav16(path, x, n, QSNN_SAMPLE_RATE), QSNN_OK);
    free(x);
}

static void write_bytes(const char *dir, const char *rel, const char *bytes, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (n)
        assert_int_equal(fwrite(bytes, 1, n, fp), n);
    fclose(fp);
}

#define NOISE_LEN 20000
static float noise_value(size_t j) { return 0.5f * sinf((float)j * 0.05f) + 0.25f * sinf((float)j * 0.31f); }

/* Full layout: yes 30, no 17 (wanted), cat 12, dog 9 (other words), two bad clips, background noise.
 * Speaker ids are distinct per clip index ("s%03d"), so which_set spreads them. */
static void make_full(const char *dir, int with_lists, int with_noise)
{
    static const struct {
        const char *word;
        int n;
    } words[] = {{"yes", 30}, {"no", 17}, {"cat", 12}, {"dog", 9}};
    int id = 0;
    for (int w = 0; w < 4; w++)
        for (int i = 0; i < words[w].n; i++) {
            char rel[128];
            snprintf(rel, sizeof rel, "%s/s%03d_nohash_%d.wav", words[w].word, i, w);
            /* a few clips shorter or longer than one second: padded or cropped */
            size_t n = i == 7 ? 12000 : (i == 8 ? 17000 : QSNN_CLIP_SAMPLES);
            write_clip(dir, rel, id++, n);
        }
    write_bytes(dir, "yes/bad_nohash_0.wav", "RIFF this is not audio at all, just text......", 47);
    write_bytes(dir, "no/empty_nohash_0.wav", "", 0);
    if (with_lists) {
        const char *val = "yes/s000_nohash_0.wav\nyes/s001_nohash_0.wav\r\nyes/s002_nohash_0.wav\n"
                          "no/s000_nohash_1.wav\ncat/s000_nohash_2.wav\ncat/s001_nohash_2.wav\n"
                          "yes/missing_nohash_0.wav\n\n";
        const char *test = "yes/s003_nohash_0.wav\nyes/s004_nohash_0.wav\nno/s001_nohash_1.wav\ndog/s000_nohash_3.wav";
        write_bytes(dir, "validation_list.txt", val, strlen(val));
        write_bytes(dir, "testing_list.txt", test, strlen(test));
    }
    if (with_noise) {
        char path[512];
        snprintf(path, sizeof path, "%s/_background_noise_", dir);
        mkdirs(path);
        float *x = malloc(NOISE_LEN * sizeof *x);
        for (size_t j = 0; j < NOISE_LEN; j++)
            x[j] = noise_value(j);
        snprintf(path, sizeof path, "%s/_background_noise_/noise.wav", dir);
        assert_int_equal(qsnn_audio_write_wav16(path, x, NOISE_LEN, QSNN_SAMPLE_RATE), QSNN_OK);
        snprintf(path, sizeof path, "%s/_background_noise_/short.wav", dir); /* shorter than a clip: skipped */
        assert_int_equal(qsnn_audio_write_wav16(path, x, 1000, QSNN_SAMPLE_RATE), QSNN_OK);
        free(x);
        write_bytes(dir, "_background_noise_/README.md", "noise", 5);
    }
}

static void make_test_layout(const char *dir)
{
    static const struct {
        const char *folder;
        int n;
    } f[] = {{"_silence_", 3}, {"_unknown_", 4}, {"yes", 5}, {"no", 2}, {"cat", 1}};
    int id = 0;
    for (int k = 0; k < 5; k++)
        for (int i = 0; i < f[k].n; i++) {
            char rel[128];
            snprintf(rel, sizeof rel, "%s/t%02d_nohash_0.wav", f[k].folder, i);
            write_clip(dir, rel, id++, QSNN_CLIP_SAMPLES);
        }
}

static char g_full[128], g_full_nolist[128], g_full_nonoise[128], g_testl[128];

static int setup(void **state)
{
    (void)state;
    qsnn_log_set_level(QSNN_LOG_QUIET);
    snprintf(g_root, sizeof g_root, "/tmp/qsnn_test_data_XXXXXX");
    if (!mkdtemp(g_root))
        return -1;
    snprintf(g_full, sizeof g_full, "%s/full", g_root);
    snprintf(g_full_nolist, sizeof g_full_nolist, "%s/full_nolist", g_root);
    snprintf(g_full_nonoise, sizeof g_full_nonoise, "%s/full_nonoise", g_root);
    snprintf(g_testl, sizeof g_testl, "%s/testlayout", g_root);
    make_full(g_full, 1, 1);
    make_full(g_full_nolist, 0, 1);
    make_full(g_full_nonoise, 1, 0);
    make_test_layout(g_testl);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    return system(cmd) == 0 ? 0 : -1;
}

static qsnn_dataset *open_ok(const char *dir, const qsnn_data_opts *o)
{
    qsnn_dataset *ds = NULL;
    qsnn_status st = qsnn_dataset_open(&ds, dir, o);
    if (st != QSNN_OK)
        fail_msg("open %s: %s", dir, qsnn_last_error());
    return ds;
}

static size_t count_label(const qsnn_dataset *ds, qsnn_split s, int lo, int hi)
{
    size_t c = 0;
    for (size_t i = 0; i < qsnn_dataset_count(ds, s); i++) {
        int l = qsnn_dataset_label(ds, s, i);
        c += l >= lo && l <= hi;
    }
    return c;
}

/* ---------------------------------------------------------------- which_set */

static void test_which_set_matches_python(void **state)
{
    (void)state;
    FILE *fp = fopen(QSNN_TEST_DATA "/which_set.txt", "r");
    assert_non_null(fp);
    char line[1024];
    int rows = 0, per_set[3] = {0, 0, 0};
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#')
            continue;
        char *path = strtok(line, "\t"), *mod = strtok(NULL, "\t"), *pct = strtok(NULL, "\t"),
             *set = strtok(NULL, "\t\n");
        assert_non_null(set);
        uint32_t want = (uint32_t)strtoul(mod, NULL, 10);
        uint32_t got = qsnn_which_set_hash(path);
        if (got != want)
            fail_msg("%s: hash mod 2^27 %u, Python %u", path, got, want);
        /* the percentage is computed in double exactly as Python does */
        double p = (double)got * (100.0 / 134217727.0);
        assert_true(p == strtod(pct, NULL));
        qsnn_split s;
        assert_true(qsnn_split_parse(set, &s));
        assert_int_equal(qsnn_which_set(path, 10.0, 10.0), s);
        per_set[s]++;
        rows++;
    }
    fclose(fp);
    assert_true(rows >= 200);
    assert_true(per_set[0] > 0 && per_set[1] > 0 && per_set[2] > 0);
    /* only the part before _nohash_ and the base name count */
    assert_int_equal(qsnn_which_set_hash("a/b/0a7c2a8d_nohash_1.wav"), qsnn_which_set_hash("0a7c2a8d_nohash_7.x"));
}

static void test_split_names(void **state)
{
    (void)state;
    qsnn_split s;
    assert_string_equal(qsnn_split_name(QSNN_SPLIT_TRAIN), "train");
    assert_string_equal(qsnn_split_name(QSNN_SPLIT_VALIDATION), "validation");
    assert_string_equal(qsnn_split_name(QSNN_SPLIT_TEST), "test");
    assert_true(qsnn_split_parse("val", &s) && s == QSNN_SPLIT_VALIDATION);
    assert_true(qsnn_split_parse("validation", &s) && s == QSNN_SPLIT_VALIDATION);
    assert_true(qsnn_split_parse("test", &s) && s == QSNN_SPLIT_TEST);
    assert_true(qsnn_split_parse("train", &s) && s == QSNN_SPLIT_TRAIN);
    assert_false(qsnn_split_parse("bogus", &s));
}

/* ---------------------------------------------------------------- index building */

static void test_full_layout_with_lists(void **state)
{
    (void)state;
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.wanted_words = "yes,no";
    qsnn_dataset *ds = open_ok(g_full, &o);
    assert_int_equal(qsnn_dataset_num_labels(ds), 4);
    assert_string_equal(qsnn_dataset_label_name(ds, 0), "_silence_");
    assert_string_equal(qsnn_dataset_label_name(ds, 1), "_unknown_");
    assert_string_equal(qsnn_dataset_label_name(ds, 2), "no"); /* alphabetical, not command-line order */
    assert_string_equal(qsnn_dataset_label_name(ds, 3), "yes");
    assert_null(qsnn_dataset_label_name(ds, 4));
    assert_int_equal(qsnn_dataset_num_skipped(ds), 2); /* bad and empty clip */
    /* wanted clips: val 3 yes + 1 no, test 2 yes + 1 no, train 25 + 15; silence and unknown: ceil(10 %) */
    size_t want_kw[3] = {40, 4, 3}, want_extra[3] = {4, 1, 1};
    for (int s = 0; s < 3; s++) {
        assert_int_equal(count_label(ds, s, 2, 3), want_kw[s]);
        assert_int_equal(count_label(ds, s, 0, 0), want_extra[s]);
        assert_int_equal(count_label(ds, s, 1, 1), want_extra[s]);
        assert_int_equal(qsnn_dataset_count(ds, s), want_kw[s] + 2 * want_extra[s]);
    }
    assert_int_equal(count_label(ds, QSNN_SPLIT_TRAIN, 3, 3), 25);
    /* sources: silence entries are "_silence_"; clips agree with the lists and their folder */
    for (int s = 0; s < 3; s++)
        for (size_t i = 0; i < qsnn_dataset_count(ds, s); i++) {
            const char *src = qsnn_dataset_source(ds, s, i);
            int l = qsnn_dataset_label(ds, s, i);
            assert_null(strstr(src, "bad_"));
            assert_null(strstr(src, "empty_"));
            if (l == 0) {
                assert_string_equal(src, "_silence_");
                continue;
            }
            if (l == 1)
                assert_true(!strncmp(src, "cat/", 4) || !strncmp(src, "dog/", 4));
            else
                assert_true(!strncmp(src, qsnn_dataset_label_name(ds, l), strlen(qsnn_dataset_label_name(ds, l))));
            int in_val = !strcmp(src, "yes/s000_nohash_0.wav") || !strcmp(src, "yes/s001_nohash_0.wav") ||
                         !strcmp(src, "yes/s002_nohash_0.wav") || !strcmp(src, "no/s000_nohash_1.wav") ||
                         !strcmp(src, "cat/s000_nohash_2.wav") || !strcmp(src, "cat/s001_nohash_2.wav");
            int in_test = !strcmp(src, "yes/s003_nohash_0.wav") || !strcmp(src, "yes/s004_nohash_0.wav") ||
                          !strcmp(src, "no/s001_nohash_1.wav") || !strcmp(src, "dog/s000_nohash_3.wav");
            assert_int_equal(s == QSNN_SPLIT_VALIDATION, in_val);
            assert_int_equal(s == QSNN_SPLIT_TEST, in_test);
        }
    assert_null(qsnn_dataset_source(ds, QSNN_SPLIT_TRAIN, 1000));
    assert_int_equal(qsnn_dataset_label(ds, QSNN_SPLIT_TRAIN, 1000), -1);

    /* determinism: same seed, same index; another seed, another order */
    qsnn_dataset *ds2 = open_ok(g_full, &o);
    o.seed = 12345;
    qsnn_dataset *ds3 = open_ok(g_full, &o);
    int differ = 0;
    for (int s = 0; s < 3; s++) {
        assert_int_equal(qsnn_dataset_count(ds, s), qsnn_dataset_count(ds2, s));
        for (size_t i = 0; i < qsnn_dataset_count(ds, s); i++) {
            assert_string_equal(qsnn_dataset_source(ds, s, i), qsnn_dataset_source(ds2, s, i));
            assert_int_equal(qsnn_dataset_label(ds, s, i), qsnn_dataset_label(ds2, s, i));
            differ += strcmp(qsnn_dataset_source(ds, s, i), qsnn_dataset_source(ds3, s, i)) != 0;
        }
    }
    assert_true(differ > 10);
    qsnn_dataset_free(ds);
    qsnn_dataset_free(ds2);
    qsnn_dataset_free(ds3);
}

static void test_ceil_counts_and_unknown_cap(void **state)
{
    (void)state;
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.wanted_words = "no,yes";
    o.silence_pct = 25; /* train 40 -> 10, val 4 -> 1, test 3 -> ceil(0.75) = 1 */
    o.unknown_pct = 1000; /* more than exist: train 18 (10 cat + 8 dog), val 2 (cat), test 1 (dog) */
    qsnn_dataset *ds = open_ok(g_full, &o);
    size_t sil[3] = {10, 1, 1}, unk[3] = {18, 2, 1};
    for (int s = 0; s < 3; s++) {
        assert_int_equal(count_label(ds, s, 0, 0), sil[s]);
        assert_int_equal(count_label(ds, s, 1, 1), unk[s]);
    }
    qsnn_dataset_free(ds);
    o.silence_pct = 0;
    o.unknown_pct = 0;
    ds = open_ok(g_full, &o);
    for (int s = 0; s < 3; s++)
        assert_int_equal(count_label(ds, s, 0, 1), 0);
    qsnn_dataset_free(ds);
}

static void test_only_one_list_file(void **state)
{
    (void)state;
    char dir[160];
    snprintf(dir, sizeof dir, "%s/onelist", g_root);
    write_clip(dir, "yes/a1_nohash_0.wav", 1, QSNN_CLIP_SAMPLES);
    write_clip(dir, "yes/a2_nohash_0.wav", 2, QSNN_CLIP_SAMPLES);
    write_clip(dir, "yes/a3_nohash_0.wav", 3, QSNN_CLIP_SAMPLES);
    write_bytes(dir, "validation_list.txt", "yes/a2_nohash_0.wav\n", 20);
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.wanted_words = "yes";
    qsnn_dataset *ds = open_ok(dir, &o);
    /* the present list is used, the missing one means an empty split (not which_set) */
    assert_int_equal(count_label(ds, QSNN_SPLIT_VALIDATION, 2, 2), 1);
    assert_int_equal(count_label(ds, QSNN_SPLIT_TEST, 2, 2), 0);
    assert_int_equal(count_label(ds, QSNN_SPLIT_TRAIN, 2, 2), 2);
    assert_int_equal(qsnn_dataset_count(ds, QSNN_SPLIT_TEST), 0);
    qsnn_dataset_free(ds);
}

static void test_full_layout_which_set(void **state)
{
    (void)state;
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.wanted_words = "yes,no";
    o.validation_pct = 30;
    o.testing_pct = 30;
    qsnn_dataset *ds = open_ok(g_full_nolist, &o);
    size_t kw = 0;
    for (int s = 0; s < 3; s++) {
        size_t n_kw = count_label(ds, s, 2, 3);
        kw += n_kw;
        assert_int_equal(count_label(ds, s, 0, 0), (size_t)ceil((double)n_kw * 10.0 / 100.0));
        for (size_t i = 0; i < qsnn_dataset_count(ds, s); i++) {
            const char *src = qsnn_dataset_source(ds, s, i);
            if (strcmp(src, "_silence_"))
                assert_int_equal(qsnn_which_set(src, 30, 30), s);
        }
        assert_true(n_kw > 0); /* 47 speakers spread over 30/30/40 % */
    }
    assert_int_equal(kw, 30 + 17);
    qsnn_dataset_free(ds);
}

static void test_test_layout(void **state)
{
    (void)state;
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.wanted_words = "yes,no";
    qsnn_dataset *ds = open_ok(g_testl, &o);
    assert_int_equal(qsnn_dataset_count(ds, QSNN_SPLIT_TRAIN), 0);
    assert_int_equal(qsnn_dataset_count(ds, QSNN_SPLIT_VALIDATION), 0);
    assert_int_equal(qsnn_dataset_count(ds, QSNN_SPLIT_TEST), 15);
    assert_int_equal(count_label(ds, QSNN_SPLIT_TEST, 0, 0), 3);
    assert_int_equal(count_label(ds, QSNN_SPLIT_TEST, 1, 1), 5); /* _unknown_ 4 + the cat clip */
    assert_int_equal(count_label(ds, QSNN_SPLIT_TEST, 2, 2), 2);
    assert_int_equal(count_label(ds, QSNN_SPLIT_TEST, 3, 3), 5);
    for (size_t i = 0; i < 15; i++) {
        const char *src = qsnn_dataset_source(ds, QSNN_SPLIT_TEST, i);
        if (qsnn_dataset_label(ds, QSNN_SPLIT_TEST, i) == 0)
            assert_true(!strncmp(src, "_silence_/", 10)); /* real silence clips, not generated */
    }
    /* real silence clips are used as they are: no noise, no shift */
    float out[QSNN_CLIP_SAMPLES];
    qsnn_mix_info mi;
    for (size_t i = 0; i < 15; i++)
        if (qsnn_dataset_label(ds, QSNN_SPLIT_TEST, i) == 0) {
            qsnn_dataset_mix(ds, QSNN_SPLIT_TEST, i, 0, 1, out, &mi);
            assert_int_equal(mi.noise_index, -1);
            assert_true(mi.fg_volume == 1.0f);
        }
    qsnn_dataset_free(ds);
}

static void test_bad_options(void **state)
{
    (void)state;
    qsnn_data_opts o;
    qsnn_dataset *ds = NULL;
    qsnn_data_default_opts(&o);
    o.wanted_words = "yes,no,house";
    assert_int_equal(qsnn_dataset_open(&ds, g_full, &o), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "'house' has no folder"));
    o.wanted_words = "yes,no,yes";
    assert_int_equal(qsnn_dataset_open(&ds, g_full, &o), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "twice"));
    o.wanted_words = "yes,,no";
    assert_int_equal(qsnn_dataset_open(&ds, g_full, &o), QSNN_ERR_ARG);
    o.wanted_words = "yes,_silence_";
    assert_int_equal(qsnn_dataset_open(&ds, g_full, &o), QSNN_ERR_ARG);
    o.wanted_words = "yes";
    o.validation_pct = 80;
    o.testing_pct = 30;
    assert_int_equal(qsnn_dataset_open(&ds, g_full, &o), QSNN_ERR_ARG);
    qsnn_data_default_opts(&o);
    o.background_frequency = 1.5;
    assert_int_equal(qsnn_dataset_open(&ds, g_full, &o), QSNN_ERR_ARG);
    qsnn_data_default_opts(&o);
    assert_int_equal(qsnn_dataset_open(&ds, "/nonexistent_qsnn_dir", &o), QSNN_ERR_IO);
    assert_null(ds);
    /* an empty directory is not a dataset */
    char empty[160];
    snprintf(empty, sizeof empty, "%s/emptydir/yes", g_root);
    mkdirs(empty);
    *strrchr(empty, '/') = '\0';
    o.wanted_words = "";
    assert_int_equal(qsnn_dataset_open(&ds, empty, &o), QSNN_ERR_ARG);
    o.wanted_words = "yes"; /* its folder exists but is empty: as good as none */
    assert_int_equal(qsnn_dataset_open(&ds, empty, &o), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "'yes' has no folder, or no .wav clips in it"));
}

/* ---------------------------------------------------------------- decoding and augmentation */

/* The decoded int16 clip of an entry, for checking the mix. */
static const int16_t *entry_audio(const qsnn_dataset *ds, qsnn_split s, size_t i)
{
    int32_t c = ds->entries[s][i].clip;
    return c < 0 ? NULL : ds->audio + (size_t)c * QSNN_CLIP_SAMPLES;
}

static size_t find_entry(const qsnn_dataset *ds, qsnn_split s, const char *src)
{
    for (size_t i = 0; i < qsnn_dataset_count(ds, s); i++)
        if (!strcmp(qsnn_dataset_source(ds, s, i), src))
            return i;
    fail_msg("%s not in split %d", src, (int)s);
    return 0;
}

static void test_decode_pad_crop_and_clean_mix(void **state)
{
    (void)state;
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.wanted_words = "yes,no";
    qsnn_dataset *ds = open_ok(g_full, &o);
    float out[QSNN_CLIP_SAMPLES];
    /* yes/s007 has 12000 samples (zero-padded), yes/s008 17000 (cropped); clip ids are 7 and 8 */
    for (int k = 7; k <= 8; k++) {
        char src[64];
        snprintf(src, sizeof src, "yes/s%03d_nohash_0.wav", k);
        size_t i = find_entry(ds, QSNN_SPLIT_TRAIN, src);
        qsnn_mix_info mi;
        qsnn_dataset_mix(ds, QSNN_SPLIT_TRAIN, i, 0, 99, out, &mi);
        assert_int_equal(mi.shift, 0);
        assert_int_equal(mi.noise_index, -1);
        for (size_t j = 0; j < QSNN_CLIP_SAMPLES; j++) {
            float want = (k == 7 && j >= 12000) ? 0.0f : clip_value(k, j);
            if (out[j] != want)
                fail_msg("%s sample %zu: %g, want %g", src, j, (double)out[j], (double)want);
        }
    }
    qsnn_dataset_free(ds);
}

static void test_augmentation_statistics_and_mix(void **state)
{
    (void)state;
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.wanted_words = "yes,no";
    qsnn_dataset *ds = open_ok(g_full, &o);
    assert_int_equal(ds->num_noise, 1); /* short.wav skipped, README.md ignored */
    size_t i = 0;
    while (qsnn_dataset_label(ds, QSNN_SPLIT_TRAIN, i) < 2)
        i++;
    const int16_t *a = entry_audio(ds, QSNN_SPLIT_TRAIN, i);
    float out[QSNN_CLIP_SAMPLES];
    const int draws = 4000;
    int smin = 1 << 30, smax = -(1 << 30), with_noise = 0;
    double vsum = 0;
    for (int d = 0; d < draws; d++) {
        qsnn_mix_info mi;
        qsnn_dataset_mix(ds, QSNN_SPLIT_TRAIN, i, 1, (uint64_t)d, out, &mi);
        assert_true(mi.shift >= -1600 && mi.shift <= 1599);
        smin = mi.shift < smin ? mi.shift : smin;
        smax = mi.shift > smax ? mi.shift : smax;
        assert_true(mi.noise_volume >= 0.0f && mi.noise_volume < 0.1f);
        assert_true(mi.fg_volume == 1.0f);
        assert_int_equal(mi.noise_index, 0);
        assert_true(mi.noise_offset < NOISE_LEN - QSNN_CLIP_SAMPLES);
        if (mi.noise_volume > 0.0f) {
            with_noise++;
            vsum += mi.noise_volume;
        }
        if (d < 50) { /* the exact waveform: shifted clip + volume * noise slice, clipped */
            for (int j = 0; j < QSNN_CLIP_SAMPLES; j++) {
                int src = j - mi.shift;
                float fg = (src >= 0 && src < QSNN_CLIP_SAMPLES) ? (float)a[src] / 32768.0f : 0.0f;
                float bg = (float)(int)lrintf(noise_value(mi.noise_offset + (size_t)j) * 32768.0f) / 32768.0f;
                float v = bg * mi.noise_volume + fg;
                v = v > 1.0f ? 1.0f : (v < -1.0f ? -1.0f : v);
                if (out[j] != v)
                    fail_msg("draw %d sample %d: %g, want %g (shift %d)", d, j, (double)out[j], (double)v, mi.shift);
            }
        }
    }
    assert_true(smin <= -1590 && smax >= 1590);
    double p = (double)with_noise / draws;
    if (fabs(p - 0.8) > 0.03)
        fail_msg("noise probability %.4f, want 0.8", p);
    double mean = vsum / with_noise;
    if (fabs(mean - 0.05) > 0.004)
        fail_msg("mean noise volume %.4f, want 0.05", mean);

    /* silence entries: foreground 0, volume U(0, 1), in training and (deterministically) in validation */
    size_t si = 0;
    while (qsnn_dataset_label(ds, QSNN_SPLIT_TRAIN, si) != 0)
        si++;
    vsum = 0;
    for (int d = 0; d < draws; d++) {
        qsnn_mix_info mi;
        qsnn_dataset_mix(ds, QSNN_SPLIT_TRAIN, si, d & 1, (uint64_t)d, out, &mi);
        assert_true(mi.fg_volume == 0.0f);
        assert_int_equal(mi.noise_index, 0);
        assert_true(mi.noise_volume >= 0.0f && mi.noise_volume < 1.0f);
        vsum += mi.noise_volume;
    }
    if (fabs(vsum / draws - 0.5) > 0.03)
        fail_msg("mean silence volume %.4f, want 0.5", vsum / draws);
    size_t vi = 0;
    while (qsnn_dataset_label(ds, QSNN_SPLIT_VALIDATION, vi) != 0)
        vi++;
    float out2[QSNN_CLIP_SAMPLES];
    qsnn_mix_info m1, m2;
    qsnn_dataset_mix(ds, QSNN_SPLIT_VALIDATION, vi, 0, 7, out, &m1);
    qsnn_dataset_mix(ds, QSNN_SPLIT_VALIDATION, vi, 0, 7, out2, &m2);
    assert_memory_equal(out, out2, sizeof out);
    assert_int_equal(m1.shift, 0);
    assert_true(m1.noise_volume > 0.0f);
    float peak = 0;
    for (int j = 0; j < QSNN_CLIP_SAMPLES; j++)
        peak = fabsf(out[j]) > peak ? fabsf(out[j]) : peak;
    assert_true(peak > 0.0f && peak <= m1.noise_volume * 0.76f); /* |noise| <= 0.75 */
    qsnn_dataset_free(ds);
}

static void test_no_background_noise(void **state)
{
    (void)state;
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.wanted_words = "yes,no";
    qsnn_dataset *ds = open_ok(g_full_nonoise, &o);
    assert_int_equal(ds->num_noise, 0);
    float out[QSNN_CLIP_SAMPLES];
    for (size_t i = 0; i < qsnn_dataset_count(ds, QSNN_SPLIT_TRAIN); i++) {
        qsnn_mix_info mi;
        qsnn_dataset_mix(ds, QSNN_SPLIT_TRAIN, i, 1, 5, out, &mi);
        assert_int_equal(mi.noise_index, -1);
        assert_true(mi.noise_volume == 0.0f);
        if (qsnn_dataset_label(ds, QSNN_SPLIT_TRAIN, i) == 0)
            for (int j = 0; j < QSNN_CLIP_SAMPLES; j++)
                assert_true(out[j] == 0.0f); /* digital silence */
    }
    qsnn_dataset_free(ds);
}

static void test_features_independent_of_threads(void **state)
{
    (void)state;
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.wanted_words = "yes,no";
    qsnn_dataset *ds = open_ok(g_full, &o);
    size_t n = qsnn_dataset_count(ds, QSNN_SPLIT_TRAIN);
    size_t *idx = malloc(n * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    float *a = malloc(n * QSNN_DATA_FEATURE_SIZE * sizeof *a), *b = malloc(n * QSNN_DATA_FEATURE_SIZE * sizeof *b);
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
#endif
    assert_int_equal(qsnn_dataset_features(ds, QSNN_SPLIT_TRAIN, idx, n, 1, 42, a), QSNN_OK);
#ifdef _OPENMP
    omp_set_num_threads(3);
#endif
    assert_int_equal(qsnn_dataset_features(ds, QSNN_SPLIT_TRAIN, idx, n, 1, 42, b), QSNN_OK);
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    assert_memory_equal(a, b, n * QSNN_DATA_FEATURE_SIZE * sizeof *a);
    for (size_t k = 0; k < n * QSNN_DATA_FEATURE_SIZE; k++)
        assert_true(isfinite(a[k]));
    /* an entry's features do not depend on which other entries are computed with it */
    size_t sub[2] = {5, 2};
    assert_int_equal(qsnn_dataset_features(ds, QSNN_SPLIT_TRAIN, sub, 2, 1, 42, b), QSNN_OK);
    assert_memory_equal(b, a + 5 * QSNN_DATA_FEATURE_SIZE, QSNN_DATA_FEATURE_SIZE * sizeof *a);
    assert_memory_equal(b + QSNN_DATA_FEATURE_SIZE, a + 2 * QSNN_DATA_FEATURE_SIZE,
                        QSNN_DATA_FEATURE_SIZE * sizeof *a);
    /* another seed gives other augmented features */
    assert_int_equal(qsnn_dataset_features(ds, QSNN_SPLIT_TRAIN, sub, 1, 1, 43, b), QSNN_OK);
    assert_true(memcmp(b, a + 5 * QSNN_DATA_FEATURE_SIZE, QSNN_DATA_FEATURE_SIZE * sizeof *a) != 0);
    /* clean features ignore the caller's seed: silence entries of every split use the dataset's own seed */
    for (int sp = 0; sp < QSNN_SPLIT_COUNT; sp++) {
        size_t m = qsnn_dataset_count(ds, (qsnn_split)sp), has_silence = 0;
        float *c1 = malloc(m * QSNN_DATA_FEATURE_SIZE * sizeof *c1 + 1), *c2 = malloc(m * QSNN_DATA_FEATURE_SIZE * sizeof *c2 + 1);
        size_t *id = malloc(m * sizeof *id + 1);
        for (size_t i = 0; i < m; i++) {
            id[i] = i;
            has_silence += qsnn_dataset_label(ds, (qsnn_split)sp, i) == QSNN_LABEL_SILENCE;
        }
        assert_true(has_silence > 0);
        assert_int_equal(qsnn_dataset_features(ds, (qsnn_split)sp, id, m, 0, 0, c1), QSNN_OK);
        assert_int_equal(qsnn_dataset_features(ds, (qsnn_split)sp, id, m, 0, 12345, c2), QSNN_OK);
        assert_memory_equal(c1, c2, m * QSNN_DATA_FEATURE_SIZE * sizeof *c1);
        free(c1);
        free(c2);
        free(id);
    }
    size_t bad = n;
    assert_int_equal(qsnn_dataset_features(ds, QSNN_SPLIT_TRAIN, &bad, 1, 0, 1, b), QSNN_ERR_RANGE);
    free(idx);
    free(a);
    free(b);
    qsnn_dataset_free(ds);
}

/* ---------------------------------------------------------------- uint8 scaling */

static void test_u8_scaling_truncation_and_clamping(void **state)
{
    (void)state;
    const float in[] = {-10.0f, 10.0f, 0.0f, 9.99f, -9.99f, -10.5f, -1000.0f, 10.01f, 1e30f, NAN, 2.0f};
    /* (x + 10) * 255 / 20 in float32, truncated: 0, 255, 127.5 -> 127, 254.87 -> 254, 0.1275 -> 0, below -> 0,
     * above -> 255, NaN -> 0, 12 * 255 / 20 = 153 */
    const uint8_t want[] = {0, 255, 127, 254, 0, 0, 0, 255, 255, 0, 153};
    uint8_t out[sizeof want];
    qsnn_features_to_u8(out, in, sizeof want, -10.0f, 10.0f);
    assert_memory_equal(out, want, sizeof want);
    /* matches the float32 formula value by value inside the range */
    for (int k = 0; k < 2000; k++) {
        float x = -247.0f + (float)k * 0.1385f;
        uint8_t u;
        qsnn_features_to_u8(&u, &x, 1, -247.0f, 30.0f);
        float v = (x - -247.0f) * 255.0f / (30.0f - -247.0f);
        uint8_t ref = v >= 255.0f ? 255 : (uint8_t)(int)v;
        assert_int_equal(u, ref);
    }
    qsnn_features_to_u8(out, in, 3, 1.0f, 1.0f); /* degenerate range */
    assert_int_equal(out[0] | out[1] | out[2], 0);
}

static void test_load_split_u8_from_directory(void **state)
{
    (void)state;
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.wanted_words = "yes,no";
    qsnn_featureset fs;
    assert_int_equal(qsnn_data_load_split_u8(g_full, QSNN_SPLIT_VALIDATION, -50.0f, 10.0f, &o, &fs), QSNN_OK);
    qsnn_dataset *ds = open_ok(g_full, &o);
    size_t n = qsnn_dataset_count(ds, QSNN_SPLIT_VALIDATION);
    assert_int_equal(fs.n, n);
    assert_int_equal(fs.is_u8, 1);
    assert_int_equal(fs.h, 49);
    assert_int_equal(fs.w, 10);
    assert_int_equal(fs.num_labels, 4);
    assert_string_equal(fs.labels[3], "yes");
    float *f = malloc(n * QSNN_DATA_FEATURE_SIZE * sizeof *f);
    uint8_t *u = malloc(n * QSNN_DATA_FEATURE_SIZE);
    assert_int_equal(qsnn_data_split_features(ds, QSNN_SPLIT_VALIDATION, 0, o.seed, f, NULL, NULL), QSNN_OK);
    qsnn_features_to_u8(u, f, n * QSNN_DATA_FEATURE_SIZE, -50.0f, 10.0f);
    assert_memory_equal(fs.u8, u, n * QSNN_DATA_FEATURE_SIZE);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fs.label[i], qsnn_dataset_label(ds, QSNN_SPLIT_VALIDATION, i));
        assert_string_equal(fs.source[i], qsnn_dataset_source(ds, QSNN_SPLIT_VALIDATION, i));
        assert_int_equal(fs.split[i], QSNN_SPLIT_VALIDATION);
    }
    free(f);
    free(u);
    qsnn_featureset_free(&fs);
    qsnn_dataset_free(ds);
    assert_int_equal(qsnn_data_load_split_u8("/nonexistent_qsnn", QSNN_SPLIT_TEST, 0, 1, &o, &fs), QSNN_ERR_IO);
}

/* ---------------------------------------------------------------- the command */

static int run(const char *args)
{
    const char *exe = getenv("QSNN_EXE");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' features %s >'%s/cmd.out' 2>'%s/cmd.err'", exe, args, g_root, g_root);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_features_command(void **state)
{
    (void)state;
    if (!getenv("QSNN_EXE"))
        skip();
    char args[1024], path[256], npy[256];
    snprintf(path, sizeof path, "%s/cmd.qsnnf", g_root);
    snprintf(npy, sizeof npy, "%s/npy", g_root);
    snprintf(args, sizeof args, "'%s' -o '%s' --words yes,no --npy '%s' --json", g_full, path, npy);
    assert_int_equal(run(args), 0);
    qsnn_featureset fs;
    assert_int_equal(qsnn_featureset_load(&fs, path), QSNN_OK);
    assert_int_equal(fs.n, (40 + 8) + (4 + 2) + (3 + 2));
    assert_int_equal(fs.is_u8, 0);
    /* the range is the clean training features' min and max */
    float lo = INFINITY, hi = -INFINITY;
    size_t ntrain = 0;
    for (size_t i = 0; i < fs.n; i++) {
        if (fs.split[i] != QSNN_SPLIT_TRAIN)
            continue;
        ntrain++;
        for (int k = 0; k < QSNN_DATA_FEATURE_SIZE; k++) {
            float v = fs.f32[i * QSNN_DATA_FEATURE_SIZE + (size_t)k];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
    }
    assert_int_equal(ntrain, 48);
    assert_true(fs.scale_min == lo && fs.scale_max == hi);
    qsnn_featureset_free(&fs);
    char f[300];
    snprintf(f, sizeof f, "%s/x_validation.npy", npy);
    assert_int_equal(access(f, F_OK), 0);
    snprintf(f, sizeof f, "%s/labels.txt", npy);
    char *txt;
    size_t len;
    assert_int_equal(qsnn_read_text_file(f, 4096, &txt, &len), QSNN_OK);
    assert_string_equal(txt, "_silence_\n_unknown_\nno\nyes\n");
    free(txt);
    snprintf(f, sizeof f, "%s/cmd.out", g_root);
    assert_int_equal(qsnn_read_text_file(f, 1 << 20, &txt, &len), QSNN_OK);
    assert_non_null(strstr(txt, "\"skipped_clips\":\t2"));
    free(txt);

    /* uint8 with augmentation: 2 passes of training */
    snprintf(args, sizeof args, "'%s' -o '%s' --words yes,no --u8 --augment 2 --seed 3 -q", g_full, path);
    assert_int_equal(run(args), 0);
    assert_int_equal(qsnn_featureset_load(&fs, path), QSNN_OK);
    assert_int_equal(fs.n, 2 * 48 + 6 + 5);
    assert_int_equal(fs.is_u8, 1);
    qsnn_featureset_free(&fs);

    assert_int_equal(run("--help"), 0);
    assert_int_equal(run("--bogus x"), 2);
    snprintf(args, sizeof args, "'%s'", g_full); /* no -o */
    assert_int_equal(run(args), 2);
    snprintf(args, sizeof args, "'%s' -o '%s' --augment -1", g_full, path);
    assert_int_equal(run(args), 2);
    snprintf(args, sizeof args, "/nonexistent_qsnn -o '%s'", path);
    assert_int_equal(run(args), 1);
}

/* ---------------------------------------------------------------- real data (skipped when absent) */

/* QSNN_SHARED_DATA (the environment variable) overrides the build's ../shared/data, e.g. from a worktree. */
static char g_subset[512], g_testset[512];
static void shared_paths(void)
{
    const char *root = getenv("QSNN_SHARED_DATA");
    if (!root || !root[0])
        root = QSNN_SHARED_DATA;
    snprintf(g_subset, sizeof g_subset, "%s/speech_commands_subset", root);
    snprintf(g_testset, sizeof g_testset, "%s/speech_commands_test_subset", root);
}
#define SUBSET (shared_paths(), g_subset)
#define TESTSET (shared_paths(), g_testset)

static size_t count_list_keywords(const char *list)
{
    char *txt;
    size_t len, n = 0;
    assert_int_equal(qsnn_read_text_file(list, 1 << 24, &txt, &len), QSNN_OK);
    static const char *kw[] = {"down/", "go/", "left/", "no/", "off/", "on/", "right/", "stop/", "up/", "yes/"};
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n"))
        for (int k = 0; k < 10; k++)
            n += !strncmp(line, kw[k], strlen(kw[k]));
    free(txt);
    return n;
}

static void test_real_subset_splits(void **state)
{
    (void)state;
    if (!is_dir(SUBSET))
        skip();
    qsnn_dataset *ds = open_ok(SUBSET, NULL);
    assert_int_equal(qsnn_dataset_num_labels(ds), 12);
    static const char *names[] = {"_silence_", "_unknown_", "down", "go", "left", "no",
                                  "off", "on", "right", "stop", "up", "yes"};
    for (int l = 0; l < 12; l++)
        assert_string_equal(qsnn_dataset_label_name(ds, l), names[l]);
    /* README: keyword clips train 2,494, validation 444, test 410; silence and unknown ceil(10 %) */
    size_t kw[3] = {2494, 444, 410}, extra[3] = {250, 45, 41};
    char list[600];
    snprintf(list, sizeof list, "%s/validation_list.txt", g_subset);
    assert_int_equal(kw[1], count_list_keywords(list));
    snprintf(list, sizeof list, "%s/testing_list.txt", g_subset);
    assert_int_equal(kw[2], count_list_keywords(list));
    for (int s = 0; s < 3; s++) {
        assert_int_equal(count_label(ds, s, 2, 11), kw[s]);
        assert_int_equal(count_label(ds, s, 0, 0), extra[s]);
        assert_int_equal(count_label(ds, s, 1, 1), extra[s]);
    }
    assert_int_equal(qsnn_dataset_num_skipped(ds), 0);
    assert_int_equal(ds->num_noise, 6);
    /* feature ranges are sane: finite, inside TF's observed [-247, 30] give or take, not constant */
    size_t n = qsnn_dataset_count(ds, QSNN_SPLIT_VALIDATION);
    float *f = malloc(n * QSNN_DATA_FEATURE_SIZE * sizeof *f);
    assert_int_equal(qsnn_data_split_features(ds, QSNN_SPLIT_VALIDATION, 0, 1, f, NULL, NULL), QSNN_OK);
    float lo = f[0], hi = f[0];
    for (size_t k = 0; k < n * QSNN_DATA_FEATURE_SIZE; k++) {
        assert_true(isfinite(f[k]));
        lo = f[k] < lo ? f[k] : lo;
        hi = f[k] > hi ? f[k] : hi;
    }
    if (!(lo >= -260.0f && hi <= 100.0f && hi - lo > 10.0f))
        fail_msg("validation feature range [%g, %g]", (double)lo, (double)hi);
    free(f);
    qsnn_dataset_free(ds);
}

static void test_real_subset_every_clip_decodes(void **state)
{
    (void)state;
    if (!is_dir(SUBSET))
        skip();
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    o.unknown_pct = 10000; /* take every other-word clip: README 552 / 112 / 102 */
    qsnn_dataset *ds = open_ok(SUBSET, &o);
    size_t unk[3] = {552, 112, 102};
    for (int s = 0; s < 3; s++)
        assert_int_equal(count_label(ds, s, 1, 1), unk[s]);
    assert_int_equal(qsnn_dataset_num_skipped(ds), 0);
    qsnn_dataset_free(ds);
}

static void test_real_test_layout(void **state)
{
    (void)state;
    if (!is_dir(TESTSET))
        skip();
    qsnn_dataset *ds = open_ok(TESTSET, NULL);
    assert_int_equal(qsnn_dataset_num_labels(ds), 12);
    /* README: _silence_ 43, _unknown_ 102, down 41, go 43, left 46, no 38, off 32, on 45, right 48, stop 37,
     * up 32, yes 48 */
    size_t want[12] = {43, 102, 41, 43, 46, 38, 32, 45, 48, 37, 32, 48};
    for (int l = 0; l < 12; l++)
        assert_int_equal(count_label(ds, QSNN_SPLIT_TEST, l, l), want[l]);
    assert_int_equal(qsnn_dataset_count(ds, QSNN_SPLIT_TRAIN), 0);
    assert_int_equal(qsnn_dataset_count(ds, QSNN_SPLIT_VALIDATION), 0);
    assert_int_equal(qsnn_dataset_num_skipped(ds), 0);
    qsnn_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_which_set_matches_python),
        cmocka_unit_test(test_split_names),
        cmocka_unit_test(test_full_layout_with_lists),
        cmocka_unit_test(test_ceil_counts_and_unknown_cap),
        cmocka_unit_test(test_only_one_list_file),
        cmocka_unit_test(test_full_layout_which_set),
        cmocka_unit_test(test_test_layout),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_decode_pad_crop_and_clean_mix),
        cmocka_unit_test(test_augmentation_statistics_and_mix),
        cmocka_unit_test(test_no_background_noise),
        cmocka_unit_test(test_features_independent_of_threads),
        cmocka_unit_test(test_u8_scaling_truncation_and_clamping),
        cmocka_unit_test(test_load_split_u8_from_directory),
        cmocka_unit_test(test_features_command),
        cmocka_unit_test(test_real_subset_splits),
        cmocka_unit_test(test_real_subset_every_clip_decodes),
        cmocka_unit_test(test_real_test_layout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
