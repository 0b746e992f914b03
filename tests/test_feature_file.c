/* SPDX-License-Identifier: Apache-2.0 */
/* test_feature_file.c: the versioned feature file: float and uint8 round trips, an empty set, and corrupt files
 * (truncated at many offsets, bad magic, bad version, absurd sizes that must fail before any allocation, bad
 * content), each rejected with a clear message naming the field. */
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
#include <unistd.h>

#include "qsnn/data.h"
#include "qsnn/io.h"

/* header offsets of versions 1 and 2 (see src/data/feature_file.c) */
enum { OFF_VERSION = 8, OFF_HSIZE = 12, OFF_FLAGS = 16, OFF_H = 20, OFF_W = 24, OFF_C = 28, OFF_NL = 32,
       OFF_LSIZE = 36, OFF_N = 40, OFF_SRC = 48, OFF_MIN = 56, OFF_MAX = 60, HDR = 64 };

static char g_dir[64];

static void tmp_path(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", g_dir, name); }

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/qsnn_test_ff_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A small set: n samples of 3 x 2, 4 labels, mixed splits and sources. */
static void make_set(qsnn_featureset *fs, size_t n, int u8)
{
    memset(fs, 0, sizeof *fs);
    fs->n = n;
    fs->h = 3;
    fs->w = 2;
    fs->num_labels = 4;
    strcpy(fs->labels[0], "_silence_");
    strcpy(fs->labels[1], "_unknown_");
    strcpy(fs->labels[2], "no");
    strcpy(fs->labels[3], "yes");
    fs->is_u8 = u8;
    fs->scale_min = -247.5f;
    fs->scale_max = 30.25f;
    size_t cnt = n * 6;
    fs->label = malloc((n + 1) * sizeof *fs->label);
    fs->split = malloc(n + 1);
    fs->source = calloc(n + 1, sizeof *fs->source);
    if (u8)
        fs->u8 = malloc(cnt + 1);
    else
        fs->f32 = malloc((cnt + 1) * sizeof *fs->f32);
    for (size_t i = 0; i < n; i++) {
        fs->label[i] = (int32_t)(i % 4);
        fs->split[i] = (uint8_t)(i % 3);
        char src[128];
        if (i % 4 == 0)
            snprintf(src, sizeof src, "_silence_");
        else
            snprintf(src, sizeof src, "%s/spk%03zu_nohash_%zu.wav", fs->labels[i % 4], i, i % 2);
        fs->source[i] = strdup(src);
    }
    for (size_t k = 0; k < cnt; k++) {
        if (u8)
            fs->u8[k] = (uint8_t)(k * 37 + 11);
        else
            fs->f32[k] = (float)k * 0.37f - 100.0f + (k % 7 == 0 ? 1e-7f : 0.0f);
    }
}

static void assert_sets_equal(const qsnn_featureset *a, const qsnn_featureset *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->h, b->h);
    assert_int_equal(a->w, b->w);
    assert_int_equal(a->num_labels, b->num_labels);
    assert_int_equal(a->is_u8, b->is_u8);
    assert_true(a->scale_min == b->scale_min);
    assert_true(a->scale_max == b->scale_max);
    for (int l = 0; l < a->num_labels; l++)
        assert_string_equal(a->labels[l], b->labels[l]);
    size_t cnt = a->n * (size_t)a->h * (size_t)a->w;
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->label[i], b->label[i]);
        assert_int_equal(a->split[i], b->split[i]);
        assert_string_equal(a->source[i], b->source[i]);
    }
    if (a->is_u8)
        assert_memory_equal(a->u8, b->u8, cnt ? cnt : 1);
    else
        for (size_t k = 0; k < cnt; k++)
            assert_true(memcmp(&a->f32[k], &b->f32[k], sizeof(float)) == 0); /* bit-exact */
}

static void test_round_trip_float_and_u8(void **state)
{
    (void)state;
    for (int u8 = 0; u8 <= 1; u8++) {
        qsnn_featureset a, b;
        make_set(&a, 23, u8);
        char path[128];
        tmp_path(path, sizeof path, u8 ? "rt_u8.qsnnf" : "rt_f32.qsnnf");
        assert_int_equal(qsnn_featureset_save(&a, path), QSNN_OK);
        assert_int_equal(qsnn_featureset_load(&b, path), QSNN_OK);
        assert_sets_equal(&a, &b);
        assert_true(u8 ? b.f32 == NULL : b.u8 == NULL);
        qsnn_featureset_free(&a);
        qsnn_featureset_free(&b);
        assert_null(b.label); /* free resets the struct */
    }
}

static void test_round_trip_empty(void **state)
{
    (void)state;
    qsnn_featureset a, b;
    make_set(&a, 0, 0);
    char path[128];
    tmp_path(path, sizeof path, "empty.qsnnf");
    assert_int_equal(qsnn_featureset_save(&a, path), QSNN_OK);
    assert_int_equal(qsnn_featureset_load(&b, path), QSNN_OK);
    assert_int_equal(b.n, 0);
    assert_int_equal(b.num_labels, 4);
    qsnn_featureset_free(&a);
    qsnn_featureset_free(&b);
}

static void test_save_rejects_bad_sets(void **state)
{
    (void)state;
    qsnn_featureset a;
    char path[128];
    tmp_path(path, sizeof path, "bad_save.qsnnf");
    make_set(&a, 5, 0);
    a.label[3] = 4; /* only 4 labels */
    assert_int_equal(qsnn_featureset_save(&a, path), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "label"));
    a.label[3] = 1;
    a.split[2] = 3;
    assert_int_equal(qsnn_featureset_save(&a, path), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "split"));
    a.split[2] = 0;
    a.scale_min = 5.0f;
    a.scale_max = 4.0f;
    assert_int_equal(qsnn_featureset_save(&a, path), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "range"));
    assert_int_not_equal(access(path, F_OK), 0); /* nothing was written */
    a.scale_max = 6.0f;
    assert_int_equal(qsnn_featureset_save(&a, "/nonexistent_dir_qsnn/x.qsnnf"), QSNN_ERR_IO);
    qsnn_featureset_free(&a);
}

/* ---- corrupt files ---- */

static unsigned char *g_good;
static size_t g_good_len;

static void load_good(void)
{
    qsnn_featureset a;
    make_set(&a, 10, 0);
    char path[128];
    tmp_path(path, sizeof path, "good.qsnnf");
    assert_int_equal(qsnn_featureset_save(&a, path), QSNN_OK);
    qsnn_featureset_free(&a);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    g_good_len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    g_good = malloc(g_good_len);
    assert_int_equal(fread(g_good, 1, g_good_len, fp), g_good_len);
    fclose(fp);
}

/* Write bytes[0..len) to a file and load it: expect failure `want` with `needle` in the message. A file of the
 * good file's length gets its checksum recomputed (the field's own check must refuse it, not the checksum). */
static void expect_load_error(const unsigned char *bytes, size_t len, qsnn_status want, const char *needle)
{
    char path[128];
    tmp_path(path, sizeof path, "corrupt.qsnnf");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, len, fp), len);
    if (len == g_good_len && len >= 4) {
        unsigned char crc[4];
        qsnn_put_u32le(crc, qsnn_crc32(0, bytes, len - 4));
        assert_int_equal(fseek(fp, (long)len - 4, SEEK_SET), 0);
        assert_int_equal(fwrite(crc, 1, 4, fp), 4);
    }
    fclose(fp);
    qsnn_featureset fs;
    qsnn_clear_error();
    qsnn_status st = qsnn_featureset_load(&fs, path);
    if (st != want || !strstr(qsnn_last_error(), needle))
        fail_msg("len %zu: status %d (want %d), message '%s' (want '%s')", len, (int)st, (int)want,
                 qsnn_last_error(), needle);
    assert_non_null(strstr(qsnn_last_error(), path)); /* the message names the file */
    assert_null(fs.label);                            /* nothing left allocated */
    assert_null(fs.f32);
}

static void patch_u32(unsigned char *b, size_t off, uint32_t v) { qsnn_put_u32le(b + off, v); }
static void patch_u64(unsigned char *b, size_t off, uint64_t v)
{
    qsnn_put_u32le(b + off, (uint32_t)v);
    qsnn_put_u32le(b + off + 4, (uint32_t)(v >> 32));
}

static void test_truncated_at_many_offsets(void **state)
{
    (void)state;
    load_good();
    /* n = 10, 4 labels, 3x2 float: header 64, labels 128, sample labels 40, splits 10, sources, features 240 */
    size_t offs[] = {0, 3, 8, 12, 40, 63, 64, 100, 191, 192, 231, 241, g_good_len - 241, g_good_len - 100,
                     g_good_len - 1};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        size_t len = offs[i];
        const char *needle = len < 8 ? "not a qsnn feature file" : (len < HDR ? "truncated (header)" : "truncated");
        expect_load_error(g_good, len, QSNN_ERR_FORMAT, needle);
    }
    /* trailing garbage is rejected as well */
    unsigned char *big = malloc(g_good_len + 3);
    memcpy(big, g_good, g_good_len);
    memset(big + g_good_len, 0, 3);
    expect_load_error(big, g_good_len + 3, QSNN_ERR_FORMAT, "trailing data");
    free(big);
    free(g_good);
}

static void test_bad_header_fields(void **state)
{
    (void)state;
    load_good();
    unsigned char *b = malloc(g_good_len);
#define RESET() memcpy(b, g_good, g_good_len)
    RESET();
    b[0] = 'X';
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "bad magic");
    RESET();
    patch_u32(b, OFF_VERSION, 3);
    expect_load_error(b, g_good_len, QSNN_ERR_UNSUPPORTED, "version 3");
    RESET();
    patch_u32(b, OFF_HSIZE, 128);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "header size");
    RESET();
    patch_u32(b, OFF_FLAGS, 4);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "flags");
    RESET();
    patch_u32(b, OFF_H, 0);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "h = 0");
    RESET();
    patch_u32(b, OFF_W, 0xFFFFFFFFu);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "w = 4294967295");
    RESET();
    patch_u32(b, OFF_C, 3);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "c = 3");
    RESET();
    patch_u32(b, OFF_NL, 0);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "num_labels = 0");
    RESET();
    patch_u32(b, OFF_NL, 65);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "num_labels = 65");
    RESET();
    patch_u32(b, OFF_LSIZE, 16);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "label size");
    RESET();
    float nanv = NAN;
    uint32_t nanbits;
    memcpy(&nanbits, &nanv, 4);
    patch_u32(b, OFF_MIN, nanbits);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "scaling range");
    RESET();
    memcpy(b + OFF_MIN, b + OFF_MAX, 4);
    patch_u32(b, OFF_MAX, 0xC2C80000u); /* -100 < min */
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "scaling range");
    /* absurd sizes: rejected from the header, never allocated (a 2^60-sample claim would be exabytes) */
    RESET();
    patch_u64(b, OFF_N, (uint64_t)1 << 60);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "n = 1152921504606846976");
    RESET();
    patch_u64(b, OFF_N, 11); /* plausible but does not match the file size */
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "size: header implies");
    RESET();
    patch_u64(b, OFF_SRC, UINT64_MAX);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "sources size");
    RESET();
    patch_u32(b, OFF_H, 65536);
    patch_u32(b, OFF_W, 65536);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "size: header implies");
    RESET();
    patch_u32(b, OFF_FLAGS, 1); /* uint8 claimed: the implied size no longer matches */
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "trailing data or corrupt header");
    free(b);
    free(g_good);
#undef RESET
}

static void test_bad_body(void **state)
{
    (void)state;
    load_good();
    unsigned char *b = malloc(g_good_len);
    size_t off_labels = HDR, off_lab = HDR + 4 * 32, off_split = off_lab + 40, off_src = off_split + 10;
    size_t src_bytes = (size_t)qsnn_get_u32le(g_good + OFF_SRC), off_feat = off_src + src_bytes;
    assert_int_equal(off_feat + 240 + 4, g_good_len); /* + the checksum */
    memcpy(b, g_good, g_good_len);
    memset(b + off_labels + 32, 'a', 32); /* label 1 without NUL */
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "labels: name 1");
    memcpy(b, g_good, g_good_len);
    patch_u32(b, off_lab + 4 * 7, 4);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "sample 7 has label 4");
    memcpy(b, g_good, g_good_len);
    b[off_split + 5] = 3;
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "sample 5 has split 3");
    memcpy(b, g_good, g_good_len);
    b[off_feat - 1] = 'x'; /* last path loses its NUL */
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "sources: table ends before the path of sample 9");
    memcpy(b, g_good, g_good_len);
    b[off_src] = '\0'; /* first path empty: also shifts the count, first error is the empty path */
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "path of sample 0 has 0 bytes");
    memcpy(b, g_good, g_good_len);
    float nanv = NAN;
    memcpy(b + off_feat + 4 * 13, &nanv, 4);
    expect_load_error(b, g_good_len, QSNN_ERR_FORMAT, "value 1 of sample 2 is not finite");
    /* any byte flipped, checksum not recomputed: refused by the checksum (a feature, a label, a source) */
    size_t flips[] = {off_feat + 7, off_lab + 2, off_src + 3, off_labels + 40};
    char path[128];
    tmp_path(path, sizeof path, "flipped.qsnnf");
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        memcpy(b, g_good, g_good_len);
        b[flips[i]] ^= 0x01;
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(b, 1, g_good_len, fp), g_good_len);
        fclose(fp);
        qsnn_featureset fs;
        assert_int_equal(qsnn_featureset_load(&fs, path), QSNN_ERR_FORMAT);
        assert_non_null(strstr(qsnn_last_error(), "checksum mismatch"));
    }
    /* a version 1 file (no checksum) still loads, with a warning */
    memcpy(b, g_good, g_good_len);
    patch_u32(b, OFF_VERSION, 1);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, g_good_len - 4, fp), g_good_len - 4);
    fclose(fp);
    qsnn_featureset fs;
    assert_int_equal(qsnn_featureset_load(&fs, path), QSNN_OK);
    assert_int_equal(fs.n, 10);
    qsnn_featureset_free(&fs);
    free(b);
    free(g_good);
}

static void test_missing_file(void **state)
{
    (void)state;
    qsnn_featureset fs;
    assert_int_equal(qsnn_featureset_load(&fs, "/nonexistent_qsnn/x.qsnnf"), QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), "/nonexistent_qsnn/x.qsnnf"));
    assert_int_equal(qsnn_featureset_load(&fs, "/tmp"), QSNN_ERR_IO);
}

static void test_load_split_u8_from_file(void **state)
{
    (void)state;
    qsnn_featureset a, s;
    make_set(&a, 12, 0);
    char path[128];
    tmp_path(path, sizeof path, "split.qsnnf");
    assert_int_equal(qsnn_featureset_save(&a, path), QSNN_OK);
    assert_int_equal(qsnn_data_load_split_u8(path, QSNN_SPLIT_VALIDATION, -100.0f, -90.0f, NULL, &s), QSNN_OK);
    assert_int_equal(s.n, 4); /* splits cycle 0,1,2 over 12 samples */
    assert_int_equal(s.is_u8, 1);
    for (size_t j = 0; j < s.n; j++) {
        size_t i = 3 * j + 1;
        assert_int_equal(s.split[j], QSNN_SPLIT_VALIDATION);
        assert_int_equal(s.label[j], a.label[i]);
        assert_string_equal(s.source[j], a.source[i]);
        uint8_t want[6];
        qsnn_features_to_u8(want, a.f32 + i * 6, 6, -100.0f, -90.0f);
        assert_memory_equal(s.u8 + j * 6, want, 6);
    }
    qsnn_featureset_free(&s);
    /* a uint8 file can only be used with its own range */
    qsnn_featureset u;
    make_set(&u, 6, 1);
    tmp_path(path, sizeof path, "split_u8.qsnnf");
    assert_int_equal(qsnn_featureset_save(&u, path), QSNN_OK);
    assert_int_equal(qsnn_data_load_split_u8(path, QSNN_SPLIT_TRAIN, u.scale_min, u.scale_max, NULL, &s),
                     QSNN_OK);
    assert_int_equal(s.n, 2);
    assert_memory_equal(s.u8, u.u8, 6);
    assert_memory_equal(s.u8 + 6, u.u8 + 18, 6);
    qsnn_featureset_free(&s);
    assert_int_equal(qsnn_data_load_split_u8(path, QSNN_SPLIT_TRAIN, -1.0f, 1.0f, NULL, &s), QSNN_ERR_UNSUPPORTED);
    assert_non_null(strstr(qsnn_last_error(), "uint8"));
    assert_int_equal(qsnn_data_load_split_u8(path, QSNN_SPLIT_TRAIN, 1.0f, 1.0f, NULL, &s), QSNN_ERR_ARG);
    qsnn_featureset_free(&u);
    qsnn_featureset_free(&a);
}

int main(void)
{
    qsnn_log_set_level(QSNN_LOG_QUIET);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_float_and_u8),
        cmocka_unit_test(test_round_trip_empty),
        cmocka_unit_test(test_save_rejects_bad_sets),
        cmocka_unit_test(test_truncated_at_many_offsets),
        cmocka_unit_test(test_bad_header_fields),
        cmocka_unit_test(test_bad_body),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_load_split_u8_from_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
