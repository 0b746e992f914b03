/* SPDX-License-Identifier: Apache-2.0 */
/* test_core.c: status/error messages, overflow-checked sizes, arena, RNG determinism, atomic writes, .npy, the
 * run-time choice of kernels. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qsnn/core.h"
#include "qsnn/io.h"
#include "qsnn/simd.h"

#include <sys/wait.h>

static void test_fail_records_message(void **state)
{
    (void)state;
    qsnn_clear_error();
    assert_string_equal(qsnn_last_error(), "");
    qsnn_status st = qsnn_fail(QSNN_ERR_FORMAT, "%s: bad magic %d", "x.bin", 7);
    assert_int_equal(st, QSNN_ERR_FORMAT);
    assert_string_equal(qsnn_last_error(), "x.bin: bad magic 7");
    qsnn_fail_context(st, "loading model");
    assert_string_equal(qsnn_last_error(), "loading model: x.bin: bad magic 7");
    assert_string_equal(qsnn_status_str(QSNN_ERR_NOMEM), "out of memory");
}

static void test_mul_add_size_overflow(void **state)
{
    (void)state;
    size_t r;
    assert_true(qsnn_mul_size(&r, 1000, 1000));
    assert_int_equal(r, 1000000);
    assert_false(qsnn_mul_size(&r, (size_t)-1 / 2 + 1, 2));
    assert_int_equal(r, 0);
    assert_true(qsnn_mul_size(&r, 0, (size_t)-1));
    assert_true(qsnn_add_size(&r, (size_t)-2, 1));
    assert_false(qsnn_add_size(&r, (size_t)-1, 1));
}

static void test_arena_alignment_and_exhaustion(void **state)
{
    (void)state;
    unsigned char mem[256];
    qsnn_arena a;
    qsnn_arena_init_from(&a, mem, sizeof mem);
    void *p1 = qsnn_arena_alloc(&a, 3, 1);
    void *p2 = qsnn_arena_alloc(&a, 16, 64);
    assert_non_null(p1);
    assert_non_null(p2);
    assert_int_equal((uintptr_t)p2 % 64, 0);
    assert_null(qsnn_arena_alloc(&a, 1000, 1));
    assert_non_null(strstr(qsnn_last_error(), "arena"));
    assert_null(qsnn_arena_alloc(&a, 8, 3)); /* bad alignment */
    qsnn_arena_reset(&a);
    assert_int_equal(a.used, 0);
    assert_ptr_equal(qsnn_arena_alloc(&a, 256, 1), mem);
}

static void test_rng_deterministic_and_uniform(void **state)
{
    (void)state;
    qsnn_rng a, b, c;
    qsnn_rng_seed(&a, 42);
    qsnn_rng_seed(&b, 42);
    qsnn_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = qsnn_rng_u64(&a);
        assert_true(x == qsnn_rng_u64(&b));
        differ += x != qsnn_rng_u64(&c);
    }
    assert_true(differ > 95);
    /* qsnn_rng_below is within range and roughly uniform over 10 buckets */
    int hist[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint64_t v = qsnn_rng_below(&a, 10);
        assert_true(v < 10);
        hist[v]++;
    }
    for (int i = 0; i < 10; i++)
        assert_true(hist[i] > 9500 && hist[i] < 10500);
    double mean = 0, var = 0;
    for (int i = 0; i < 100000; i++) {
        double z = qsnn_rng_normal(&a);
        mean += z;
        var += z * z;
    }
    mean /= 100000;
    var = var / 100000 - mean * mean;
    assert_true(mean > -0.02 && mean < 0.02);
    assert_true(var > 0.97 && var < 1.03);
}

static void test_atomic_write_keeps_old_on_abort(void **state)
{
    (void)state;
    char path[] = "/tmp/qsnn_test_atomic_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    qsnn_atomic_file f;
    assert_int_equal(qsnn_atomic_open(&f, path), QSNN_OK);
    assert_int_equal(qsnn_atomic_write(&f, "first", 5), QSNN_OK);
    assert_int_equal(qsnn_atomic_commit(&f), QSNN_OK);
    assert_int_equal(qsnn_atomic_open(&f, path), QSNN_OK);
    assert_int_equal(qsnn_atomic_write(&f, "second-partial", 14), QSNN_OK);
    qsnn_atomic_abort(&f);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(qsnn_read_text_file(path, 1 << 20, &text, &len), QSNN_OK);
    assert_string_equal(text, "first");
    assert_int_equal(len, 5);
    free(text);
    assert_int_equal(access(f.tmp_path, F_OK), -1); /* temp file removed */
    remove(path);
    assert_int_equal(qsnn_read_text_file("/nonexistent/qsnn/file", 100, &text, &len), QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), "/nonexistent/qsnn/file"));
}

static void test_npy_header_layout(void **state)
{
    (void)state;
    const char *path = "/tmp/qsnn_test.npy";
    float data[6] = {1, 2, 3, 4, 5, 6};
    size_t shape[2] = {2, 3};
    assert_int_equal(qsnn_npy_write(path, "<f4", shape, 2, data), QSNN_OK);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    unsigned char pre[10];
    assert_int_equal(fread(pre, 1, 10, fp), 10);
    assert_memory_equal(pre, "\x93NUMPY\x01\x00", 8);
    size_t hlen = pre[8] | (pre[9] << 8);
    assert_int_equal((10 + hlen) % 64, 0);
    char hdr[256] = {0};
    assert_int_equal(fread(hdr, 1, hlen, fp), hlen);
    assert_non_null(strstr(hdr, "'shape': (2, 3)"));
    assert_non_null(strstr(hdr, "'descr': '<f4'"));
    float back[6];
    assert_int_equal(fread(back, sizeof(float), 6, fp), 6);
    assert_memory_equal(back, data, sizeof data);
    fclose(fp);
    remove(path);
    assert_int_equal(qsnn_npy_write(path, "<c8", shape, 2, data), QSNN_ERR_ARG);
}

static void test_mkdir_p(void **state)
{
    (void)state;
    char base[] = "/tmp/qsnn_test_mkdir_XXXXXX";
    assert_non_null(mkdtemp(base));
    char deep[256], file[256];
    snprintf(deep, sizeof deep, "%s/a/b/c", base);
    assert_int_equal(qsnn_mkdir_p(deep), QSNN_OK);
    assert_int_equal(access(deep, F_OK), 0);
    assert_int_equal(qsnn_mkdir_p(deep), QSNN_OK); /* already there */
    snprintf(file, sizeof file, "%s/f", base);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(qsnn_mkdir_p(file), QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), file));
    snprintf(deep, sizeof deep, "%s/f/sub", base);
    assert_int_equal(qsnn_mkdir_p(deep), QSNN_ERR_IO);
    assert_int_equal(qsnn_mkdir_p(""), QSNN_ERR_ARG);
    /* output folders checked before long jobs: missing folder, a file in the way, fine ones */
    snprintf(deep, sizeof deep, "%s/missing/model.qsnn", base);
    assert_int_equal(qsnn_check_outputs((const char *[]){deep}, 1, NULL, 0, 0), QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), "missing"));
    snprintf(deep, sizeof deep, "%s/f/model.qsnn", base);
    assert_int_equal(qsnn_check_outputs((const char *[]){deep}, 1, NULL, 0, 0), QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), "not a folder"));
    snprintf(deep, sizeof deep, "%s/a/b/model.qsnn", base);
    assert_int_equal(qsnn_check_outputs((const char *[]){deep}, 1, NULL, 0, 0), QSNN_OK);
    /* the current folder */
    assert_int_equal(qsnn_check_outputs((const char *[]){"model.qsnn"}, 1, NULL, 0, 0), QSNN_OK);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    assert_int_equal(system(cmd), 0);
}

/* The run-time choice of kernels (qsnn/simd.h): AVX2 exactly when the CPU has AVX2 and FMA and QSNN_FORCE_SCALAR
 * is unset, empty or "0". Both settings are checked in child processes (the choice is made once per process),
 * then this process's own against its environment (CI runs the suite once more with QSNN_FORCE_SCALAR=1). */
static qsnn_simd expected_simd(const char *force)
{
#if QSNN_SIMD_X86
    __builtin_cpu_init();
    int cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return (force && *force && strcmp(force, "0")) || !cpu ? QSNN_SIMD_SCALAR : QSNN_SIMD_AVX2;
#else
    (void)force;
    return QSNN_SIMD_SCALAR;
#endif
}

static void test_simd_choice(void **state)
{
    (void)state;
    static const char *force[] = {"1", "0", "", "yes"};
#if QSNN_SIMD_X86
    assert_true(atomic_load(&qsnn_simd_state) < 0); /* not decided yet in this process: the children decide */
#endif
    for (size_t i = 0; i < sizeof force / sizeof force[0]; i++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            setenv("QSNN_FORCE_SCALAR", force[i], 1);
            _exit(qsnn_simd_level() == expected_simd(force[i]) && qsnn_simd_level() == expected_simd(force[i]) ? 0
                                                                                                               : 1);
        }
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        if (WEXITSTATUS(st))
            fail_msg("QSNN_FORCE_SCALAR=\"%s\": the kernels chosen are not the expected %s", force[i],
                     qsnn_simd_name(expected_simd(force[i])));
    }
    qsnn_simd s = qsnn_simd_level();
    print_message("kernels: %s (QSNN_FORCE_SCALAR=%s)\n", qsnn_simd_name(s),
                  getenv("QSNN_FORCE_SCALAR") ? getenv("QSNN_FORCE_SCALAR") : "(unset)");
    assert_int_equal(s, expected_simd(getenv("QSNN_FORCE_SCALAR")));
    assert_string_equal(qsnn_simd_name(QSNN_SIMD_AVX2), "avx2");
    assert_string_equal(qsnn_simd_name(QSNN_SIMD_SCALAR), "scalar");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simd_choice),
        cmocka_unit_test(test_fail_records_message),
        cmocka_unit_test(test_mul_add_size_overflow),
        cmocka_unit_test(test_arena_alignment_and_exhaustion),
        cmocka_unit_test(test_rng_deterministic_and_uniform),
        cmocka_unit_test(test_atomic_write_keeps_old_on_abort),
        cmocka_unit_test(test_npy_header_layout),
        cmocka_unit_test(test_mkdir_p),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
