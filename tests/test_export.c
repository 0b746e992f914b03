/* SPDX-License-Identifier: Apache-2.0 */
/* test_export.c: the header of `qsnn export` in C and C++ (issue 15): written from the shipped model converted,
 * with a test vector and a PCM vector, under two names, it compiles without a warning as C11 (gcc) and C++11
 * (g++, arm-none-eabi-g++ for a Cortex-M4 when installed), two translation units that include it link into one
 * program with one definition of each array (the one with NAME_MODEL_IMPLEMENTATION), that program reads the
 * image 16-byte aligned and equal to the .snn file, and without the implementation file the link fails (the
 * arrays are extern, not a copy per file). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_shell.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qsnn/convert.h"
#include "qsnn/model.h"
#include "qsnn/snn.h"

static char g_dir[64];
static const char *g_exe;
static size_t g_size;
static unsigned g_sum;

static void write_text(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

/* the two translation units: impl defines both models' arrays, user reads them through the declarations */
static const char *k_impl = "#define KWS_MODEL_IMPLEMENTATION\n#include \"kws_model.h\"\n"
                            "#define ALT_MODEL_IMPLEMENTATION\n#include \"alt_model.h\"\n";
static const char *k_user = "#include \"kws_model.h\"\n#include \"kws_model.h\" /* twice: guarded */\n"
                            "#include \"alt_model.h\"\n#include <stdio.h>\n#include <stdint.h>\n"
                            "int main(void)\n{\n    unsigned s = 0;\n"
                            "    for (unsigned i = 0; i < KWS_MODEL_SIZE; i++)\n        s += kws_model[i];\n"
                            "    printf(\"%u %u %d %d %s %u %u\\n\", (unsigned)KWS_MODEL_SIZE, s,\n"
                            "           (int)((uintptr_t)kws_model % 16), alt_model[100] == kws_model[100],\n"
                            "           kws_labels[KWS_TEST_CLASS], (unsigned)kws_test_input[0],\n"
                            "           (unsigned)kws_pcm_classes[0]);\n    return 0;\n}\n";

static int setup(void **state)
{
    (void)state;
    g_exe = getenv("QSNN_EXE");
    if (!g_exe)
        g_exe = QSNN_BINARY_DIR "/qsnn";
    snprintf(g_dir, sizeof g_dir, "/tmp/qsnn_test_export_XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    qsnn_model fm;
    if (qsnn_model_load(&fm, QSNN_SOURCE_DIR "/models/mobilenet_kws_pretrained.qsnn") != QSNN_OK)
        return -1;
    unsigned char *img = NULL;
    qsnn_status st = qsnn_convert_model(&fm, &img, &g_size, NULL);
    qsnn_model_free(&fm);
    if (st != QSNN_OK)
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/kws.snn", g_dir);
    st = qsnn_snn_save(path, img, g_size);
    for (size_t i = 0; i < g_size; i++)
        g_sum += img[i];
    free(img);
    if (st != QSNN_OK)
        return -1;
    const char *wav = QSNN_TEST_DATA "/mfcc_tone1k.wav";
    if (test_shell("cd '%s' && '%s' export kws.snn -o kws_model.h --input '%s' --pcm '%s' 2>/dev/null && "
            "'%s' export kws.snn -o alt_model.h --name alt 2>/dev/null",
            g_dir, g_exe, wav, wav, g_exe))
        return -1;
    write_text("impl.c", k_impl);
    write_text("user.c", k_user);
    write_text("impl.cpp", k_impl);
    write_text("user.cpp", k_user);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_shell("rm -rf '%s'", g_dir);
    return 0;
}

static int have(const char *tool) { return test_shell("command -v %s >/dev/null 2>&1", tool) == 0; }

/* compile impl and user with CC (flags), link them, run; the line it prints must describe the .snn */
static void build_and_run(const char *cc, const char *flags, const char *ext)
{
    assert_int_equal(test_shell("cd '%s' && %s %s -c impl.%s -o impl_%s.o && %s %s -c user.%s -o user_%s.o && "
                         "%s impl_%s.o user_%s.o -o prog_%s",
                         g_dir, cc, flags, ext, ext, cc, flags, ext, ext, cc, ext, ext, ext),
                     0);
    char cmd[512], line[256] = "";
    snprintf(cmd, sizeof cmd, "'%s/prog_%s'", g_dir, ext);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    assert_int_equal(pclose(p), 0);
    unsigned size = 0, sum = 0, in0 = 0, cls0 = 0;
    int align = -1, same = -1;
    char label[64] = "";
    assert_int_equal(sscanf(line, "%u %u %d %d %63s %u %u", &size, &sum, &align, &same, label, &in0, &cls0), 7);
    assert_int_equal(size, g_size);
    assert_int_equal(sum, g_sum); /* the definition holds the image */
    assert_int_equal(align, 0);   /* 16-byte aligned */
    assert_int_equal(same, 1);    /* the second model, defined in the same file */
    assert_true(strlen(label) > 0);
    /* without the implementation file, the arrays are undefined: the header holds no copy of them */
    assert_int_not_equal(test_shell("cd '%s' && %s user_%s.o -o prog_none_%s 2>/dev/null", g_dir, cc, ext, ext), 0);
}

static void test_export_c11(void **state)
{
    (void)state;
    build_and_run("gcc", "-std=c11 -Wall -Wextra -Wpedantic -Werror", "c");
}

static void test_export_cxx11(void **state)
{
    (void)state;
    if (!have("g++"))
        skip();
    build_and_run("g++", "-std=c++11 -Wall -Wextra -Wpedantic -Werror", "cpp");
}

static void test_export_arm_cxx(void **state)
{
    (void)state;
    if (!have("arm-none-eabi-g++"))
        skip(); /* scripts/bootstrap.sh test installs it */
    const char *fl = "-std=c++11 -mcpu=cortex-m4 -mthumb -Os -Wall -Wextra -Wpedantic -Werror";
    assert_int_equal(test_shell("cd '%s' && arm-none-eabi-g++ %s -c impl.cpp -o arm_impl.o && "
                         "arm-none-eabi-g++ %s -c user.cpp -o arm_user.o && "
                         "arm-none-eabi-gcc -std=c11 -mcpu=cortex-m4 -mthumb -Wall -Wextra -Wpedantic -Werror "
                         "-c impl.c -o arm_impl_c.o",
                         g_dir, fl, fl),
                     0);
    /* one definition, in the implementation file; the other only refers to it */
    assert_int_equal(test_shell("cd '%s' && arm-none-eabi-nm arm_impl.o | grep -q ' R kws_model$' && "
                         "arm-none-eabi-nm arm_user.o | grep -q ' U kws_model$'",
                         g_dir),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_c11),
        cmocka_unit_test(test_export_cxx11),
        cmocka_unit_test(test_export_arm_cxx),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
