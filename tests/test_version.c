/* SPDX-License-Identifier: Apache-2.0 */
/* test_version.c: the version generated from CMakeLists.txt (qsnn/version.h) and where it is written (issue 15):
 * the macros agree with qsnn_version() and with each other, `qsnn --version` prints it, a converted .snn records
 * it in its metadata block (block version 2), and a block of version 1 (qsnn 0.1.0: reserved 0 there) still
 * loads with writer 0 while a version 1 block with non-zero reserved bytes is refused. (The .qsnn file's writer
 * field: tests/test_model.c.) */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsnn/convert.h"
#include "qsnn/io.h"
#include "qsnn/model.h"
#include "qsnn/snn.h"
#include "qsnn/snn_meta.h"
#include "qsnn/version.h"

#define SHIPPED QSNN_SOURCE_DIR "/models/mobilenet_kws_pretrained.qsnn"

static void test_version_macros(void **state)
{
    (void)state;
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", QSNN_VERSION_MAJOR, QSNN_VERSION_MINOR, QSNN_VERSION_PATCH);
    assert_string_equal(QSNN_VERSION_STRING, want);
    assert_string_equal(qsnn_version(), QSNN_VERSION_STRING);
    assert_int_equal(QSNN_VERSION_U32 >> 16, QSNN_VERSION_MAJOR);
    assert_int_equal((QSNN_VERSION_U32 >> 8) & 0xFF, QSNN_VERSION_MINOR);
    assert_int_equal(QSNN_VERSION_U32 & 0xFF, QSNN_VERSION_PATCH);
    assert_true(QSNN_VERSION_U32 >= 0x000200u); /* this work is 0.2.0 */
}

static void test_version_command(void **state)
{
    (void)state;
    const char *exe = getenv("QSNN_EXE");
    if (!exe)
        exe = QSNN_BINARY_DIR "/qsnn";
    char cmd[1200], line[256] = "";
    snprintf(cmd, sizeof cmd, "'%s' --version", exe);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    assert_int_equal(pclose(p), 0);
    char want[64];
    snprintf(want, sizeof want, "qsnn %s\n", QSNN_VERSION_STRING);
    assert_string_equal(line, want);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void reseal(unsigned char *img, size_t n)
{
    put32(img + 20, 0);
    put32(img + 20, qsnn_crc32(0, img, n));
}

static void test_version_in_snn(void **state)
{
    (void)state;
    qsnn_model fm;
    assert_int_equal(qsnn_model_load(&fm, SHIPPED), QSNN_OK);
    unsigned char *img = NULL;
    size_t n = 0;
    assert_int_equal(qsnn_convert_model(&fm, &img, &n, NULL), QSNN_OK);
    qsnn_model_free(&fm);
    qsnn_snn_model m;
    assert_int_equal(qsnn_snn_model_init(&m, img, n, "converted"), QSNN_OK);
    qsnn_snn_meta meta;
    qsnn_snn_meta_get(&m, &meta);
    assert_true(meta.flags & QSNN_SNN_META_SCALE);
    assert_int_equal(meta.writer_version, QSNN_VERSION_U32);
    size_t off = qsnn_snn_meta_offset(&m);
    assert_int_equal(n, off + QSNN_SNN_META_SIZE);
    assert_int_equal(img[off + 8], 2); /* block version 2 */

    /* a 0.1.0 block: version 1, reserved 0 -> loads, writer unknown; the other fields as before */
    unsigned char *old = malloc(n);
    assert_non_null(old);
    memcpy(old, img, n);
    put32(old + off + 8, 1);
    put32(old + off + 44, 0);
    reseal(old, n);
    qsnn_snn_model m1;
    assert_int_equal(qsnn_snn_model_init(&m1, old, n, "old"), QSNN_OK);
    qsnn_snn_meta meta1;
    qsnn_snn_meta_get(&m1, &meta1);
    assert_int_equal(meta1.writer_version, 0);
    assert_int_equal(meta1.flags, meta.flags);
    assert_true(meta1.logit_scale == meta.logit_scale);
    /* version 1 with non-zero reserved bytes: refused */
    put32(old + off + 44, 7);
    reseal(old, n);
    assert_int_equal(qsnn_snn_model_init(&m1, old, n, "old"), QSNN_ERR_FORMAT);
    assert_non_null(strstr(qsnn_last_error(), "reserved"));
    /* a rewrite of the block keeps what the caller passes (eval-stream --calibrate keeps the converter's) */
    unsigned char *re = malloc(n);
    assert_non_null(re);
    size_t rn = 0;
    meta.writer_version = 0x010203u;
    assert_int_equal(qsnn_snn_meta_write(&m, &meta, re, n, &rn), QSNN_OK);
    qsnn_snn_model m2;
    assert_int_equal(qsnn_snn_model_init(&m2, re, rn, "rewritten"), QSNN_OK);
    qsnn_snn_meta meta2;
    qsnn_snn_meta_get(&m2, &meta2);
    assert_int_equal(meta2.writer_version, 0x010203u);
    free(re);
    free(old);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_macros),
        cmocka_unit_test(test_version_command),
        cmocka_unit_test(test_version_in_snn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
