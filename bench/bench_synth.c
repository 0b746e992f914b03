/* SPDX-License-Identifier: Apache-2.0 */
/* bench_synth.c: generation speed of `qsnn synth` (clips per second), by engine and by job count.
 *
 *   bench_synth [--clips N] [--jobs N] [--dir DIR]
 *
 * Each case makes N clips (default 200) from scratch into a fresh folder under DIR (default /tmp) with one seed,
 * noise off, and prints wall-clock clips/s (what a user waits for; the clip processes are forked, so their CPU time
 * is not this process's) and the CPU time per clip of the clip processes (RUSAGE_CHILDREN) and of the parent
 * (RUSAGE_SELF: fork, poll, wait), which do not depend on the machine's other load: on an idle machine with C
 * cores the rate approaches C / (their sum). Cases: the whole voice table with 1 job, then with --jobs (default: cores).
 * Words are the 35 Speech Commands words, so lengths and engines mix as in a default run.
 */
#define _XOPEN_SOURCE 700
#include "qsnn/core.h"
#include "qsnn/synth.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static double cpu_of(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

/* One run of `clips` clips: words x per_word over the voice prefix [0, voices). */
static int run_case(const char *label, const char *root, int clips, int jobs, int voices, const char *words)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/qsnn_bench_synth_%ld", root, (long)getpid());
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    int nwords = 1;
    for (const char *p = words; *p; p++)
        nwords += *p == ',';
    qsnn_synth_opts o;
    qsnn_synth_default_opts(&o);
    o.out_dir = dir;
    o.words = words;
    o.keywords = words;
    o.per_word = (clips + nwords - 1) / nwords;
    o.num_voices = voices;
    o.noise_seconds = 0;
    o.jobs = jobs;
    qsnn_synth_summary s;
    double c0 = cpu_of(RUSAGE_CHILDREN), p0 = cpu_of(RUSAGE_SELF);
    qsnn_status st = qsnn_synth_run(&o, &s);
    double c1 = cpu_of(RUSAGE_CHILDREN), p1 = cpu_of(RUSAGE_SELF);
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    if (st) {
        fprintf(stderr, "bench_synth: %s: %s\n", label, qsnn_last_error());
        return 1;
    }
    double k = s.clips_written ? 1000.0 / (double)s.clips_written : 0.0;
    printf("%-12s jobs %2d  %5zu clips  %7.1f clips/s wall  CPU/clip: %5.2f ms in clip processes + %5.2f ms in "
           "the parent (fork, wait)\n",
           label, jobs, s.clips_written, s.clips_per_second, k * (c1 - c0), k * (p1 - p0));
    return 0;
}

int main(int argc, char **argv)
{
    int clips = 200, jobs = 0;
    const char *root = "/tmp";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--clips") && i + 1 < argc)
            clips = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--jobs") && i + 1 < argc)
            jobs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            root = argv[++i];
        else {
            fprintf(stderr, "usage: bench_synth [--clips N] [--jobs N] [--dir DIR]\n");
            return 2;
        }
    }
    if (clips < 1 || jobs < 0 || jobs > 64) {
        fprintf(stderr, "bench_synth: bad --clips or --jobs\n");
        return 2;
    }
    if (!jobs) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = nc < 1 ? 1 : nc > 64 ? 64 : (int)nc;
    }
    qsnn_log_set_level(QSNN_LOG_QUIET);
    const char *all = QSNN_SYNTH_KEYWORDS "," QSNN_SYNTH_OTHER_WORDS;
    printf("bench_synth: %d voices, %d clips per case\n", qsnn_synth_num_voices(), clips);
    int bad = 0;
    bad |= run_case("all voices", root, clips, 1, 0, all);
    if (jobs > 1)
        bad |= run_case("all voices", root, clips, jobs, 0, all);
    return bad;
}
