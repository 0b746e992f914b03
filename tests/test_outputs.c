/* SPDX-License-Identifier: Apache-2.0 */
/* test_outputs.c: what commands do to their output paths (qsnn_check_outputs and the atomic writer) and to a
 * standard output that cannot be written: the same file as an input or another output, special files (a
 * character device written through, a FIFO refused, a symbolic link kept), a folder, a replaced file's mode,
 * stale temporary files, a read-only and a full folder (a small tmpfs; skipped where mounting is not allowed),
 * and /dev/full on stdout for every command that prints results. Each case runs the real `qsnn` ($QSNN_EXE). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qsnn/core.h"
#include "qsnn/io.h"

#define MODEL QSNN_SOURCE_DIR "/models/mobilenet_kws_pretrained.qsnn"

static char g_dir[64];
static char g_err[4096]; /* stderr of the last run_q */

static const char *exe(void)
{
    const char *e = getenv("QSNN_EXE");
    return e ? e : QSNN_BINARY_DIR "/qsnn";
}

/* Run `qsnn ARGS` (a shell fragment) with stderr captured into g_err; returns the exit status. */
static int run_q(const char *fmt, ...)
{
    char args[2048], cmd[3072], errf[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(errf, sizeof errf, "%s/stderr.txt", g_dir);
    snprintf(cmd, sizeof cmd, "'%s' %s 2>'%s'", exe(), args, errf);
    int rc = system(cmd);
    g_err[0] = 0;
    FILE *fp = fopen(errf, "r");
    if (fp) {
        size_t n = fread(g_err, 1, sizeof g_err - 1, fp);
        g_err[n] = 0;
        fclose(fp);
    }
    return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

static void expect_refusal(int rc, const char *what)
{
    if (rc != 1 || !strstr(g_err, what))
        fail_msg("expected exit 1 with '%s', got exit %d: %s", what, rc, g_err);
}

static char *path_in(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", g_dir, name);
    return buf;
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/qsnn_test_outputs_XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/m.qsnn'", MODEL, g_dir);
    if (system(cmd) != 0)
        return -1;
    return run_q("convert '%s/m.qsnn' -o '%s/m.snn' >/dev/null", g_dir, g_dir) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "%s/mnt", g_dir);
    umount2(cmd, MNT_DETACH); /* left mounted by a failed case */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* An output that is an input, or two outputs that are one file, are refused before any work, inputs intact. */
static void test_same_file_refused(void **state)
{
    (void)state;
    char m[128], snn[128], link[128];
    path_in(m, sizeof m, "m.qsnn");
    path_in(snn, sizeof snn, "m.snn");
    long msize = file_size(m), ssize = file_size(snn);
    expect_refusal(run_q("convert '%s' -o '%s' >/dev/null", m, m), "same file as the input");
    assert_int_equal(file_size(m), msize);
    /* the same file under another name: a symbolic link and a ./ path */
    path_in(link, sizeof link, "alias.qsnn");
    assert_int_equal(symlink(m, link), 0);
    expect_refusal(run_q("convert '%s' -o '%s' >/dev/null", m, link), "same file as the input");
    expect_refusal(run_q("export '%s' -o '%s/./m.snn'", snn, g_dir), "same file as the input");
    assert_int_equal(file_size(snn), ssize);
    char wav[128], cmd[512];
    path_in(wav, sizeof wav, "c.wav");
    snprintf(cmd, sizeof cmd, "cp '%s/tests/data/mfcc_chirp.wav' '%s'", QSNN_SOURCE_DIR, wav);
    assert_int_equal(system(cmd), 0);
    long wsize = file_size(wav);
    expect_refusal(run_q("mfcc '%s' --npy '%s'", wav, wav), "same file as the input");
    assert_int_equal(file_size(wav), wsize);
    /* train: -o naming --log or --plot (refused before the data is even read) */
    expect_refusal(run_q("train '%s/none.qf' -o '%s/t.qsnn' --log '%s/t.qsnn'", g_dir, g_dir, g_dir),
                   "are the same file");
    expect_refusal(run_q("train '%s/none.qf' -o '%s/t.qsnn' --plot '%s/p.png' --log '%s/./p.png'", g_dir, g_dir,
                         g_dir, g_dir),
                   "are the same file");
    expect_refusal(run_q("train '%s' -o '%s'", m, m), "same file as the input");
    assert_int_equal(file_size(m), msize);
    unlink(link);
}

/* A character device is written through and survives (a private copy of /dev/null made with mknod, so that a
 * regression cannot replace the machine's /dev/null); a FIFO and a folder are refused at once; a symbolic link
 * stays a link to the replaced file; a replaced file keeps its mode; stale temporary files of dead writers go. */
static void test_special_outputs(void **state)
{
    (void)state;
    char m[128], p[128], target[128];
    path_in(m, sizeof m, "m.qsnn");
    struct stat st;
    path_in(p, sizeof p, "null");
    if (mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        assert_int_equal(run_q("convert '%s' -o '%s' >/dev/null", m, p), 0);
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(run_q("export '%s/m.snn' -o '%s'", g_dir, p), 0);
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        unlink(p);
    } else {
        print_message("mknod not permitted: the character-device case runs against /dev/null only\n");
    }
    assert_int_equal(run_q("convert '%s' -o /dev/null >/dev/null", m), 0);
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));

    path_in(p, sizeof p, "fifo.snn");
    assert_int_equal(mkfifo(p, 0644), 0);
    expect_refusal(run_q("convert '%s' -o '%s' >/dev/null", m, p), "not a regular file");
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    unlink(p);

    path_in(p, sizeof p, "adir");
    assert_int_equal(mkdir(p, 0755), 0);
    expect_refusal(run_q("convert '%s' -o '%s' >/dev/null", m, p), "is a folder");
    expect_refusal(run_q("train '%s/none.qf' -o '%s'", g_dir, p), "is a folder");
    rmdir(p);

    path_in(target, sizeof target, "target.snn");
    path_in(p, sizeof p, "link.snn");
    FILE *fp = fopen(target, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(chmod(target, 0600), 0);
    assert_int_equal(symlink("target.snn", p), 0);
    char stale[160];
    snprintf(stale, sizeof stale, "%s.tmp.%d", target, 0x7ffffff0); /* above any pid_max: never running */
    fp = fopen(stale, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(run_q("convert '%s' -o '%s' >/dev/null", m, p), 0);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat(target, &st), 0);
    assert_true(st.st_size > 1000);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(access(stale, F_OK), -1);
    unlink(p);
    unlink(target);
    /* a dangling link is refused */
    assert_int_equal(symlink("missing/x.snn", p), 0);
    expect_refusal(run_q("convert '%s' -o '%s' >/dev/null", m, p), "symbolic link to a missing file");
    unlink(p);
}

/* A read-only folder and a full one (tmpfs mounts): refused before the work, naming the folder; the atomic writer
 * itself on ENOSPC leaves the old file and no temporary file. Skipped where mounting is not permitted. */
static void test_readonly_and_full_folders(void **state)
{
    (void)state;
    char mnt[128], m[128], out[160], cmd[512];
    path_in(mnt, sizeof mnt, "mnt");
    path_in(m, sizeof m, "m.qsnn");
    assert_int_equal(mkdir(mnt, 0755), 0);
    if (mount("tmpfs", mnt, "tmpfs", MS_RDONLY, "size=256k") != 0) {
        rmdir(mnt);
        skip();
    }
    snprintf(out, sizeof out, "%s/k.snn", mnt);
    expect_refusal(run_q("convert '%s' -o '%s' >/dev/null", m, out), "cannot write there");
    assert_int_equal(umount(mnt), 0);
    assert_int_equal(mount("tmpfs", mnt, "tmpfs", 0, "size=64k"), 0);
    snprintf(cmd, sizeof cmd, "dd if=/dev/zero of='%s/fill' bs=4k count=12 2>/dev/null", mnt);
    assert_int_equal(system(cmd), 0);
    expect_refusal(run_q("convert '%s' -o '%s' >/dev/null", m, out), "bytes free");
    /* below the commands' checks: the writer on a full disk keeps the old file and leaves no temporary file */
    FILE *fp = fopen(out, "w");
    assert_non_null(fp);
    fputs("old", fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "dd if=/dev/zero of='%s/fill2' bs=4k count=64 2>/dev/null", mnt);
    (void)system(cmd); /* fills the rest: fails by design */
    static unsigned char big[64 << 10];
    qsnn_atomic_file f;
    assert_int_equal(qsnn_atomic_open(&f, out), QSNN_OK);
    qsnn_status st = qsnn_atomic_write(&f, big, sizeof big);
    if (st == QSNN_OK)
        st = qsnn_atomic_commit(&f);
    else
        qsnn_atomic_abort(&f);
    assert_int_equal(st, QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), "No space left"));
    assert_int_equal(file_size(out), 3);
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", mnt);
    assert_int_not_equal(system(cmd), 0);
    assert_int_equal(umount(mnt), 0);
    rmdir(mnt);
}

/* Results printed to a standard output that cannot take them (/dev/full): exit 1 with the reason ("No space
 * left on device" when stdio kept it; the first failed write inside a long output can lose errno). */
static void test_stdout_full(void **state)
{
    (void)state;
    char snn[128];
    path_in(snn, sizeof snn, "m.snn");
    const char *wav = QSNN_SOURCE_DIR "/tests/data/mfcc_chirp.wav";
    expect_refusal(run_q("summary '%s' >/dev/full", snn), "standard output failed");
    expect_refusal(run_q("summary '%s/m.qsnn' >/dev/full", g_dir), "standard output failed");
    expect_refusal(run_q("mfcc '%s' >/dev/full", wav), "standard output failed");
    expect_refusal(run_q("mfcc --json '%s' >/dev/full", wav), "standard output failed");
    expect_refusal(run_q("stream '%s' '%s' >/dev/full", snn, wav), "standard output failed");
    expect_refusal(run_q("stream --json '%s' '%s' >/dev/full", snn, wav), "standard output failed");
    expect_refusal(run_q("convert '%s/m.qsnn' -o '%s/n.snn' --json >/dev/full", g_dir, g_dir),
                   "standard output failed");
    expect_refusal(run_q("--help >/dev/full"), "standard output failed");
    /* an output file on a device that is full: the writer's error, exit 1 */
    expect_refusal(run_q("export '%s' -o /dev/full", snn), "No space left");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_file_refused),
        cmocka_unit_test(test_special_outputs),
        cmocka_unit_test(test_readonly_and_full_folders),
        cmocka_unit_test(test_stdout_full),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
