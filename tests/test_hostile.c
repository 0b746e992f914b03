/* test_hostile.c: crafted inputs against the readers and writers, by position and by class: the .snn validator's
 * geometry limits (on the host and, in QEMU, on a Cortex-M4 whose size_t is 32 bits), label characters, what
 * `qsnn export` embeds in C, control characters on a terminal, model/feature mismatches in `qsnn eval`, the
 * .qfeat checksum, non-finite models and audio, and bounded work (only the frames needed are decoded). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qsnn/qsnn.h"

#include "target/snn_limits.c"

#define MODEL QSNN_SOURCE_DIR "/models/mobilenet_kws_pretrained.qsnn"

static char g_dir[64];
static char g_err[8192]; /* stderr of the last run_q */

static const char *exe(void)
{
    const char *e = getenv("QSNN_EXE");
    return e ? e : QSNN_BINARY_DIR "/qsnn";
}

static int run_sh(const char *cmd)
{
    int rc = system(cmd);
    return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

/* Run `qsnn ARGS` with stderr captured into g_err; returns the exit status. */
static int run_q(const char *fmt, ...)
{
    char args[3000], cmd[4096], errf[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(errf, sizeof errf, "%s/stderr.txt", g_dir);
    snprintf(cmd, sizeof cmd, "'%s' %s 2>'%s'", exe(), args, errf);
    int rc = run_sh(cmd);
    g_err[0] = 0;
    FILE *fp = fopen(errf, "r");
    if (fp) {
        size_t n = fread(g_err, 1, sizeof g_err - 1, fp);
        g_err[n] = 0;
        fclose(fp);
    }
    return rc;
}

static void expect_refusal(int rc, const char *what)
{
    if (rc != 1 || !strstr(g_err, what))
        fail_msg("expected exit 1 with '%s', got exit %d: %s", what, rc, g_err);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/qsnn_test_hostile_XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    return run_q("convert '%s' -o '%s/m.snn' >/dev/null", MODEL, g_dir) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void say_fail(const char *line) { print_error("%s", line); }

static unsigned char *read_all(const char *path, size_t *n)
{
    char *txt = NULL;
    assert_int_equal(qsnn_read_text_file(path, 1 << 26, &txt, n), QSNN_OK);
    return (unsigned char *)txt;
}

/* Geometry limits and label characters of the .snn validator, on this host. */
static void test_snn_limits_host(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/m.snn", g_dir);
    size_t n;
    unsigned char *img = read_all(p, &n);
    unsigned char *work = aligned_alloc(64, (n + 63) / 64 * 64);
    assert_non_null(work);
    assert_int_equal(snn_limits_run(img, n, work, say_fail), 0);
    free(work);
    free(img);
}

/* The same checks built for a Cortex-M4 (32-bit size_t) and run in QEMU by examples/mcu/run_qemu.sh with
 * MAIN=tests/target/snn_limits.c; skipped when the Arm tools are missing (scripts/bootstrap.sh test installs them). */
static void test_snn_limits_cortex_m4(void **state)
{
    (void)state;
    char bdir[1024], cmd[3000], out[128];
    snprintf(bdir, sizeof bdir, "%s", exe());
    char *slash = strrchr(bdir, '/');
    assert_non_null(slash);
    *slash = 0;
    snprintf(out, sizeof out, "%s/qemu.txt", g_dir);
    snprintf(cmd, sizeof cmd,
             "MAIN='%s/tests/target/snn_limits.c' sh '%s/examples/mcu/run_qemu.sh' '%s' '%s/m.snn' "
             "'%s/tests/data/mfcc_chirp.wav' > '%s' 2>&1",
             QSNN_SOURCE_DIR, QSNN_SOURCE_DIR, bdir, g_dir, QSNN_SOURCE_DIR, out);
    int rc = run_sh(cmd);
    size_t n;
    char *txt = (char *)read_all(out, &n);
    if (rc == 77) {
        free(txt);
        skip();
    }
    if (rc != 0 || !strstr(txt, "32-bit size_t, every crafted image refused as expected"))
        fail_msg("snn limits on the Cortex-M4: exit %d\n%s", rc, txt);
    free(txt);
}

/* `qsnn export` puts paths and labels into C comments and strings: a path holding a comment end, a quote or a
 * newline still gives a header that compiles as C11 and defines nothing but what it should. */
static void test_export_escapes(void **state)
{
    (void)state;
    char sub[256], cmd[3000];
    snprintf(sub, sizeof sub, "%s/x*", g_dir); /* "<dir>/x*" + "/k.h": the path holds "*" "/" */
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(cmd, sizeof cmd, "cp '%s/m.snn' '%s/m\"q.snn'", g_dir, sub);
    assert_int_equal(run_sh(cmd), 0);
    assert_int_equal(run_q("export '%s/m\"q.snn' -o '%s/k.h' --name kws --input '%s/tests/data/mfcc_chirp.wav'", sub,
                           sub, QSNN_SOURCE_DIR), 0);
    snprintf(cmd, sizeof cmd,
             "printf '#include \"qsnn/snn.h\"\\n#include \"%s/k.h\"\\nint main(void){return !kws_labels[0];}\\n' | "
             "cc -std=c11 -Wall -Werror -fsyntax-only -I'%s/include' -x c - 2>'%s/cc.txt'",
             sub, QSNN_SOURCE_DIR, g_dir);
    if (run_sh(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "%s/cc.txt", g_dir);
        size_t n;
        char *txt = (char *)read_all(cmd, &n);
        fail_msg("exported header does not compile:\n%s", txt);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", sub);
    assert_int_equal(run_sh(cmd), 0);
}

/* Control characters from file or folder names never reach the terminal raw. */
static void test_plain_text(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/plain.txt", g_dir);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    qsnn_fputs_plain("a\033[2Jb\rc\x7f\td\n", fp);
    fclose(fp);
    size_t n;
    char *txt = (char *)read_all(p, &n);
    assert_string_equal(txt, "a?[2Jb?c?\td\n");
    free(txt);
    /* an error naming such a file: the command's message is plain too */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/e\033]0;x\007.snn", g_dir);
    fp = fopen(bad, "w");
    assert_non_null(fp);
    fputs("not a model", fp);
    fclose(fp);
    expect_refusal(run_q("summary '%s'", bad), "not a qsnn model");
    assert_null(strchr(g_err, '\033'));
    assert_null(strchr(g_err, '\007'));
    unlink(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snn_limits_host),
        cmocka_unit_test(test_snn_limits_cortex_m4),
        cmocka_unit_test(test_export_escapes),
        cmocka_unit_test(test_plain_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
