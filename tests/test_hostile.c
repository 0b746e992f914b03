/* SPDX-License-Identifier: Apache-2.0 */
/* test_hostile.c: crafted inputs against the readers and writers, by position and by class: the .snn validator's
 * geometry limits (on the host and, in QEMU, on a Cortex-M4 whose size_t is 32 bits), label characters, what
 * `qsnn export` embeds in C, control characters on a terminal, model/feature mismatches in `qsnn eval`, the
 * .qfeat checksum, non-finite models and audio, and bounded work (only the frames needed are decoded). */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE /* wait4 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_shell.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
    int rc = test_system(cmd);
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
    int rc = test_system(cmd);
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
    assert_int_equal(test_system(cmd), 0);
    assert_int_equal(run_q("export '%s/m\"q.snn' -o '%s/k.h' --name kws --input '%s/tests/data/mfcc_chirp.wav'", sub,
                           sub, QSNN_SOURCE_DIR), 0);
    snprintf(cmd, sizeof cmd,
             "printf '#include \"qsnn/snn.h\"\\n#include \"%s/k.h\"\\nint main(void){return !kws_labels[0];}\\n' | "
             "cc -std=c11 -Wall -Werror -fsyntax-only -I'%s/include' -x c - 2>'%s/cc.txt'",
             sub, QSNN_SOURCE_DIR, g_dir);
    if (test_system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "%s/cc.txt", g_dir);
        size_t n;
        char *txt = (char *)read_all(cmd, &n);
        fail_msg("exported header does not compile:\n%s", txt);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", sub);
    assert_int_equal(test_system(cmd), 0);
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

/* Peak resident memory (KB) of `sh -c cmd` and what it ran; -1 when it could not run or exited non-zero. */
static long maxrss_kb(const char *cmd)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return ru.ru_maxrss;
}

/* A FLAC (or float WAV) of `frames` samples at 16 kHz: silence, or `x` repeated. */
static void write_audio(const char *path, int format, size_t frames, const float *x, size_t nx)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = 16000;
    info.channels = 1;
    info.format = format;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    assert_non_null(sf);
    static float buf[4096];
    for (size_t i = 0; i < frames; i += 4096) {
        size_t k = frames - i < 4096 ? frames - i : 4096;
        for (size_t j = 0; j < k; j++)
            buf[j] = x ? x[(i + j) % nx] : 0.0f;
        assert_int_equal(sf_writef_float(sf, buf, (sf_count_t)k), (sf_count_t)k);
    }
    sf_close(sf);
}

/* Work bounded by what is used: `qsnn mfcc` of a 10-minute FLAC decodes one second, `qsnn stream` of it holds one
 * window, not the recording. Memory, not time, is compared (with a one-second clip's run as the baseline): a whole
 * decode of 10 minutes is 38 MB of samples. */
static void test_bounded_work(void **state)
{
    (void)state;
    char flac[128], cmd[1024];
    snprintf(flac, sizeof flac, "%s/ten_min.flac", g_dir);
    write_audio(flac, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 10 * 60 * 16000, NULL, 0);
    snprintf(cmd, sizeof cmd, "'%s' mfcc '%s/tests/data/mfcc_chirp.wav' >/dev/null 2>&1", exe(), QSNN_SOURCE_DIR);
    long base = maxrss_kb(cmd);
    snprintf(cmd, sizeof cmd, "'%s' mfcc '%s' >/dev/null 2>&1", exe(), flac);
    long mfcc = maxrss_kb(cmd);
    snprintf(cmd, sizeof cmd, "'%s' stream '%s/m.snn' '%s/tests/data/mfcc_chirp.wav' >/dev/null 2>&1", exe(), g_dir,
             QSNN_SOURCE_DIR);
    long sbase = maxrss_kb(cmd);
    snprintf(cmd, sizeof cmd, "'%s' stream '%s/m.snn' '%s' >/dev/null 2>&1", exe(), g_dir, flac);
    long stream = maxrss_kb(cmd);
    print_message("peak memory: mfcc 1 s %ld KB, 10 min %ld KB; stream 1 s %ld KB, 10 min %ld KB\n", base, mfcc,
                  sbase, stream);
    assert_true(base > 0 && mfcc > 0 && sbase > 0 && stream > 0);
    if (mfcc > base + 16 * 1024 || stream > sbase + 16 * 1024)
        fail_msg("memory grows with the file: mfcc %ld KB vs %ld KB, stream %ld KB vs %ld KB", mfcc, base, stream,
                 sbase);
    unlink(flac);
}

/* A dataset folder holding a FIFO named *.wav: skipped with a count (never read: it would block forever), and a
 * wanted word whose folder is empty: refused, naming it. */
static void test_dataset_special_files(void **state)
{
    (void)state;
    char d[160], p[256], cmd[1024];
    snprintf(d, sizeof d, "%s/ds", g_dir);
    const char *words[2] = {"yes", "no"};
    for (int w = 0; w < 2; w++) {
        snprintf(p, sizeof p, "%s/%s", d, words[w]);
        snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s/tests/data/mfcc_chirp.wav' '%s/aa%d_nohash_0.wav' && "
                 "cp '%s/tests/data/mfcc_tone1k.wav' '%s/bb%d_nohash_0.wav'", p, QSNN_SOURCE_DIR, p, w,
                 QSNN_SOURCE_DIR, p, w);
        assert_int_equal(test_system(cmd), 0);
    }
    snprintf(p, sizeof p, "%s/yes/cc_nohash_0.wav", d);
    assert_int_equal(mkfifo(p, 0644), 0);
    assert_int_equal(run_q("features '%s' -o '%s/ds.qf' --words yes,no >/dev/null", d, g_dir), 0);
    if (!strstr(g_err, "skipped 1 .wav entries that are not regular files"))
        fail_msg("no count of the skipped FIFO in: %s", g_err);
    snprintf(p, sizeof p, "%s/empty", d);
    assert_int_equal(mkdir(p, 0755), 0);
    expect_refusal(run_q("features '%s' -o '%s/ds2.qf' --words yes,no,empty", d, g_dir),
                   "'empty' has no folder, or no .wav clips in it");
}

/* `qsnn eval` refuses data that does not fit the model, naming both files: another shape with as many values
 * (7x70 for 49x10), other label names; a model with a NaN parameter (valid checksum) is refused by every command;
 * a float clip of 1e30 is refused naming the file. */
static void test_silent_wrong_results(void **state)
{
    (void)state;
    qsnn_model m;
    assert_int_equal(qsnn_model_load(&m, MODEL), QSNN_OK);
    qsnn_featureset fs;
    memset(&fs, 0, sizeof fs);
    fs.n = 3, fs.num_labels = m.num_labels, fs.is_u8 = 1, fs.scale_min = m.scale_min, fs.scale_max = m.scale_max;
    for (int i = 0; i < m.num_labels; i++)
        snprintf(fs.labels[i], QSNN_LABEL_MAX, "%s", m.labels[i]);
    uint8_t u8[3 * 490] = {0};
    int32_t label[3] = {0, 1, 2};
    uint8_t split[3] = {QSNN_SPLIT_TEST, QSNN_SPLIT_TEST, QSNN_SPLIT_TEST};
    char *src[3] = {"a.wav", "b.wav", "c.wav"};
    fs.u8 = u8, fs.label = label, fs.split = split, fs.source = src;
    char p[160], nanm[160];
    snprintf(p, sizeof p, "%s/f.qf", g_dir);
    fs.h = 7, fs.w = 70;
    assert_int_equal(qsnn_featureset_save(&fs, p), QSNN_OK);
    expect_refusal(run_q("eval '%s' '%s'", MODEL, p), "features are 7x70, the model");
    if (!strstr(g_err, p) || !strstr(g_err, "mobilenet_kws_pretrained.qsnn"))
        fail_msg("the refusal does not name both files: %s", g_err);
    expect_refusal(run_q("eval '%s/m.snn' '%s'", g_dir, p), "takes 49x10");
    fs.h = 49, fs.w = 10;
    snprintf(fs.labels[2], QSNN_LABEL_MAX, "cat");
    assert_int_equal(qsnn_featureset_save(&fs, p), QSNN_OK);
    expect_refusal(run_q("eval '%s' '%s'", MODEL, p), "class 2 'down' is not among the data's");
    expect_refusal(run_q("eval '%s/m.snn' '%s'", g_dir, p), "class 2 'down' is not among the data's");
    if (!strstr(g_err, p) || !strstr(g_err, "m.snn (model)"))
        fail_msg("the refusal does not name both files: %s", g_err);
    snprintf(fs.labels[2], QSNN_LABEL_MAX, "%s", m.labels[2]);
    assert_int_equal(qsnn_featureset_save(&fs, p), QSNN_OK);
    assert_int_equal(run_q("eval '%s' '%s' >/dev/null", MODEL, p), 0);
    /* NaN parameter: the file's checksum is valid, the model is not */
    m.params[m.num_params / 2] = NAN;
    snprintf(nanm, sizeof nanm, "%s/nan.qsnn", g_dir);
    assert_int_equal(qsnn_model_save(&m, nanm), QSNN_OK);
    qsnn_model_free(&m);
    expect_refusal(run_q("eval '%s' '%s'", nanm, p), "is nan: the model is not usable");
    expect_refusal(run_q("convert '%s' -o '%s/nan.snn'", nanm, g_dir), "is nan");
    expect_refusal(run_q("summary '%s'", nanm), "is nan");
    /* a float clip of 1e30: every feature would be NaN */
    float x[4] = {0.1f, -0.2f, 1e30f, 0.0f};
    snprintf(p, sizeof p, "%s/huge.wav", g_dir);
    write_audio(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, x, 4);
    expect_refusal(run_q("mfcc '%s'", p), "huge.wav: sample at frame 2 is 1e+30");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded_work), /* first: peak memory of children, before anything large ran */
        cmocka_unit_test(test_dataset_special_files),
        cmocka_unit_test(test_silent_wrong_results),
        cmocka_unit_test(test_snn_limits_host),
        cmocka_unit_test(test_snn_limits_cortex_m4),
        cmocka_unit_test(test_export_escapes),
        cmocka_unit_test(test_plain_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
