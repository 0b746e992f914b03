/* SPDX-License-Identifier: Apache-2.0 */
/* test_synth.c: the synthetic Speech Commands generator: voice table and which_set, noise colours, and small
 * end-to-end runs checking the layout, the WAV format and lengths, unclipped words, voice-disjoint splits that
 * agree with the list files and which_set, byte-identical determinism across job counts, resumability, real-noise
 * import, bad options and the missing-synthesizer-data error. Runs are tiny (a few dozen clips). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qsnn/audio.h"
#include "qsnn/core.h"
#include "qsnn/synth.h"

/* ---- helpers ---- */
static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}
static void rm_rf(const char *dir) { nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

static void make_tmp(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/qsnn_test_synth_XXXXXX");
    assert_non_null(mkdtemp(buf));
}

static unsigned char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    assert_non_null(b);
    size_t got = fread(b, 1, (size_t)len, f);
    fclose(f);
    assert_int_equal(got, (size_t)len);
    *n = (size_t)len;
    return b;
}

static int same_file(const char *a, const char *b)
{
    size_t na, nb;
    unsigned char *x = read_all(a, &na), *y = read_all(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

/* Relative paths "<dir>/<file>" of every file one level down (sorted), plus top-level files. */
typedef struct {
    char p[512][600];
    int n;
} file_list;

static int cmp_p(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

static void list_files(const char *root, file_list *fl)
{
    fl->n = 0;
    DIR *d = opendir(root);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char sub[600];
        snprintf(sub, sizeof sub, "%s/%s", root, de->d_name);
        struct stat st;
        assert_int_equal(stat(sub, &st), 0);
        if (!S_ISDIR(st.st_mode)) {
            assert_true(fl->n < 512);
            snprintf(fl->p[fl->n++], 600, "%s", de->d_name);
            continue;
        }
        DIR *d2 = opendir(sub);
        assert_non_null(d2);
        struct dirent *f;
        while ((f = readdir(d2))) {
            if (f->d_name[0] == '.')
                continue;
            assert_true(fl->n < 512);
            snprintf(fl->p[fl->n++], 600, "%s/%s", de->d_name, f->d_name);
        }
        closedir(d2);
    }
    closedir(d);
    qsort(fl->p, (size_t)fl->n, sizeof fl->p[0], cmp_p);
}

static const char *k_words = "yes,no,cat,marvin";

static void small_opts(qsnn_synth_opts *o, const char *dir)
{
    qsnn_synth_default_opts(o);
    o->out_dir = dir;
    o->words = k_words;
    o->per_word = 6;
    o->unknown_per_word = 3;
    o->num_voices = 20;
    o->noise_seconds = 1.0;
    o->jobs = 2;
    o->seed = 7;
}

static uint32_t le32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static unsigned le16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }

/* Parse a RIFF/WAVE file: PCM format 1, mono, 16 kHz, 16 bits; returns the sample count, samples in *pcm. */
static size_t check_wav_pcm16(const char *path, int16_t **pcm)
{
    size_t n;
    unsigned char *b = read_all(path, &n);
    assert_non_null(b);
    assert_true(n >= 44);
    assert_memory_equal(b, "RIFF", 4);
    assert_memory_equal(b + 8, "WAVE", 4);
    size_t pos = 12, data_len = 0, data_at = 0;
    int fmt_ok = 0;
    while (pos + 8 <= n) {
        uint32_t len = le32(b + pos + 4);
        if (!memcmp(b + pos, "fmt ", 4)) {
            assert_int_equal(le16(b + pos + 8), 1);      /* PCM */
            assert_int_equal(le16(b + pos + 10), 1);     /* mono */
            assert_int_equal(le32(b + pos + 12), 16000); /* rate */
            assert_int_equal(le16(b + pos + 22), 16);    /* bits */
            fmt_ok = 1;
        } else if (!memcmp(b + pos, "data", 4)) {
            data_len = len;
            data_at = pos + 8;
            break;
        }
        pos += 8 + len + (len & 1);
    }
    assert_true(fmt_ok);
    assert_true(data_at + data_len <= n);
    size_t ns = data_len / 2;
    *pcm = malloc(ns * sizeof **pcm);
    assert_non_null(*pcm);
    for (size_t i = 0; i < ns; i++)
        (*pcm)[i] = (int16_t)le16(b + data_at + 2 * i);
    free(b);
    return ns;
}

/* ---- voice table and which_set ---- */
static void test_which_set_matches_tensorflow(void **state)
{
    (void)state;
    /* Expected splits computed with TensorFlow's formula in Python:
     *   h = int(hashlib.sha1(name.encode()).hexdigest(), 16); pct = (h % 2**27) * (100.0 / (2**27 - 1))
     *   0a7c2a8d -> 56.84 train, f2e59fea -> 11.77 test, 105e72bb -> 0.33 validation, qsnn -> 31.85 train */
    assert_int_equal(qsnn_synth_which_set("0a7c2a8d"), QSNN_SPLIT_TRAIN);
    assert_int_equal(qsnn_synth_which_set("f2e59fea"), QSNN_SPLIT_TEST);
    assert_int_equal(qsnn_synth_which_set("105e72bb"), QSNN_SPLIT_VALIDATION);
    assert_int_equal(qsnn_synth_which_set("qsnn"), QSNN_SPLIT_TRAIN);
}

static void test_voice_table(void **state)
{
    (void)state;
    int n = qsnn_synth_num_voices();
    assert_true(n >= 100);
    qsnn_synth_voice *v = calloc((size_t)n, sizeof *v);
    assert_non_null(v);
    int engines[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        assert_int_equal(qsnn_synth_voice_get(i, &v[i]), QSNN_OK);
        assert_int_equal(strlen(v[i].id), 8);
        for (int k = 0; k < 8; k++)
            assert_non_null(strchr("0123456789abcdef", v[i].id[k]));
        assert_int_equal(qsnn_synth_which_set(v[i].id), v[i].split);
        engines[v[i].engine]++;
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(v[i].id, v[j].id);
            /* distinct configurations */
            assert_false(v[i].engine == v[j].engine && !strcmp(v[i].name, v[j].name) && v[i].pitch == v[j].pitch &&
                         v[i].rate == v[j].rate);
        }
    }
    assert_true(engines[QSNN_SYNTH_ESPEAK] >= 100);
    assert_true(engines[QSNN_SYNTH_FLITE] >= 10);
    /* every 10 consecutive voices: 8 train, 1 validation, 1 test */
    for (int b = 0; b + 10 <= n; b += 10) {
        int c[3] = {0, 0, 0};
        for (int i = b; i < b + 10; i++)
            c[v[i].split]++;
        assert_int_equal(c[0], 8);
        assert_int_equal(c[1], 1);
        assert_int_equal(c[2], 1);
    }
    /* stable: a second lookup gives the same id */
    qsnn_synth_voice again;
    assert_int_equal(qsnn_synth_voice_get(n - 1, &again), QSNN_OK);
    assert_string_equal(again.id, v[n - 1].id);
    assert_int_equal(qsnn_synth_voice_get(n, &again), QSNN_ERR_RANGE);
    assert_int_equal(qsnn_synth_voice_get(-1, &again), QSNN_ERR_RANGE);
    free(v);
}

/* ---- noise ---- */
static double lag1(const float *x, size_t n)
{
    double a = 0, b = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        a += (double)x[i] * x[i + 1];
        b += (double)x[i] * x[i];
    }
    return a / b;
}

static void test_noise_colours(void **state)
{
    (void)state;
    enum { N = 64000 };
    float *w = malloc(N * sizeof *w), *p = malloc(N * sizeof *p), *br = malloc(N * sizeof *br), *w2 = malloc(N * sizeof *w2);
    assert_non_null(w);
    assert_non_null(p);
    assert_non_null(br);
    assert_non_null(w2);
    assert_int_equal(qsnn_noise_generate(w, N, QSNN_NOISE_WHITE, 0.3, 5), QSNN_OK);
    assert_int_equal(qsnn_noise_generate(p, N, QSNN_NOISE_PINK, 0.3, 5), QSNN_OK);
    assert_int_equal(qsnn_noise_generate(br, N, QSNN_NOISE_BROWN, 0.3, 5), QSNN_OK);
    float *all[3] = {w, p, br};
    for (int c = 0; c < 3; c++) {
        double ss = 0, peak = 0;
        for (int i = 0; i < N; i++) {
            ss += (double)all[c][i] * all[c][i];
            peak = fmax(peak, fabs(all[c][i]));
        }
        double rms = sqrt(ss / N);
        assert_true(rms > 0.28 && rms < 0.305);
        assert_true(peak <= 0.99f);
    }
    /* spectral slope shows in the lag-1 autocorrelation: white ~0, pink in between, brown ~1 */
    double rw = lag1(w, N), rp = lag1(p, N), rb = lag1(br, N);
    assert_true(fabs(rw) < 0.03);
    assert_true(rp > 0.5 && rp < 0.97);
    assert_true(rb > 0.98);
    /* deterministic per seed */
    assert_int_equal(qsnn_noise_generate(w2, N, QSNN_NOISE_WHITE, 0.3, 5), QSNN_OK);
    assert_memory_equal(w, w2, N * sizeof *w);
    assert_int_equal(qsnn_noise_generate(w2, N, QSNN_NOISE_WHITE, 0.3, 6), QSNN_OK);
    assert_true(memcmp(w, w2, N * sizeof *w) != 0);
    assert_int_equal(qsnn_noise_generate(w2, N, QSNN_NOISE_WHITE, 1.5, 6), QSNN_ERR_ARG);
    assert_int_equal(qsnn_noise_generate(w2, N, (qsnn_noise_color)9, 0.3, 6), QSNN_ERR_ARG);
    free(w);
    free(p);
    free(br);
    free(w2);
}

/* ---- end-to-end ---- */
typedef struct {
    char a[64], b[64];
} dirs;

static int setup_dirs(void **state)
{
    dirs *d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    make_tmp(d->a, sizeof d->a);
    make_tmp(d->b, sizeof d->b);
    *state = d;
    return 0;
}

static int teardown_dirs(void **state)
{
    dirs *d = *state;
    rm_rf(d->a);
    rm_rf(d->b);
    free(d);
    return 0;
}

static int in_list(const char *list_path, const char *rel)
{
    FILE *f = fopen(list_path, "r");
    assert_non_null(f);
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!strcmp(line, rel))
            found = 1;
    }
    fclose(f);
    return found;
}

static void test_run_layout_splits_determinism_resume(void **state)
{
    dirs *d = *state;
    qsnn_log_set_level(QSNN_LOG_QUIET);
    qsnn_synth_opts o;
    small_opts(&o, d->a);
    qsnn_synth_summary s;
    qsnn_status st = qsnn_synth_run(&o, &s);
    assert_int_equal(st, QSNN_OK);
    const size_t total = 2 * 6 + 2 * 3;
    assert_int_equal(s.clips_written, total);
    assert_int_equal(s.clips_kept, 0);
    assert_int_equal(s.noise_written, 3);
    assert_int_equal(s.clips_split[0] + s.clips_split[1] + s.clips_split[2], total);

    /* layout and format */
    static file_list fl;
    list_files(d->a, &fl);
    int clips = 0, noise = 0, per_word[4] = {0, 0, 0, 0};
    const char *wl[4] = {"yes", "no", "cat", "marvin"};
    char ids[64][9];
    int id_split[64], nid = 0;
    int split_clips[3] = {0, 0, 0};
    char path[700], vpath[700], tpath[700];
    snprintf(vpath, sizeof vpath, "%s/validation_list.txt", d->a);
    snprintf(tpath, sizeof tpath, "%s/testing_list.txt", d->a);
    for (int i = 0; i < fl.n; i++) {
        const char *rel = fl.p[i];
        snprintf(path, sizeof path, "%s/%s", d->a, rel);
        if (!strchr(rel, '/')) {
            assert_true(!strcmp(rel, "validation_list.txt") || !strcmp(rel, "testing_list.txt") ||
                        !strcmp(rel, "synth_voices.txt"));
            continue;
        }
        int16_t *pcm = NULL;
        size_t ns = check_wav_pcm16(path, &pcm);
        if (!strncmp(rel, "_background_noise_/", 19)) {
            assert_int_equal(ns, 16000); /* noise_seconds = 1 */
            noise++;
            free(pcm);
            continue;
        }
        /* <word>/<8 hex>_nohash_<n>.wav */
        const char *slash = strchr(rel, '/');
        const char *name = slash + 1;
        int w = -1;
        for (int k = 0; k < 4; k++)
            if ((size_t)(slash - rel) == strlen(wl[k]) && !strncmp(rel, wl[k], strlen(wl[k])))
                w = k;
        assert_true(w >= 0);
        per_word[w]++;
        assert_true(strlen(name) > 17);
        for (int k = 0; k < 8; k++)
            assert_non_null(strchr("0123456789abcdef", name[k]));
        assert_memory_equal(name + 8, "_nohash_", 8);
        assert_int_equal(ns, QSNN_CLIP_SAMPLES);
        int peak = 0;
        for (size_t k = 0; k < ns; k++)
            peak = abs(pcm[k]) > peak ? abs(pcm[k]) : peak;
        assert_true(peak < (int)(0.9 * 32768)); /* never clipped */
        assert_true(peak > 1000);                /* and there is a word */
        /* the word is inside the second: both ends are at the noise floor */
        int edge = 0;
        for (size_t k = 0; k < 32; k++) {
            edge = abs(pcm[k]) > edge ? abs(pcm[k]) : edge;
            edge = abs(pcm[ns - 1 - k]) > edge ? abs(pcm[ns - 1 - k]) : edge;
        }
        assert_true(edge < 300);
        free(pcm);
        /* also readable by the library, as exactly one second */
        float *x = NULL;
        size_t nx = 0;
        int rate = 0;
        assert_int_equal(qsnn_audio_read(path, &x, &nx, &rate), QSNN_OK);
        assert_int_equal(nx, 16000);
        assert_int_equal(rate, 16000);
        free(x);
        /* split: from the list files; one split per voice; agrees with which_set */
        int in_v = in_list(vpath, rel), in_t = in_list(tpath, rel);
        assert_false(in_v && in_t);
        int split = in_v ? 1 : in_t ? 2 : 0;
        split_clips[split]++;
        char id[9];
        memcpy(id, name, 8);
        id[8] = 0;
        assert_int_equal(qsnn_synth_which_set(id), split);
        int found = -1;
        for (int k = 0; k < nid; k++)
            if (!strcmp(ids[k], id))
                found = k;
        if (found < 0) {
            assert_true(nid < 64);
            memcpy(ids[nid], id, 9);
            id_split[nid++] = split;
        } else {
            assert_int_equal(id_split[found], split);
        }
        clips++;
    }
    assert_int_equal(clips, (int)total);
    assert_int_equal(noise, 3);
    assert_int_equal(per_word[0], 6);
    assert_int_equal(per_word[1], 6);
    assert_int_equal(per_word[2], 3);
    assert_int_equal(per_word[3], 3);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(split_clips[k], (int)s.clips_split[k]);
        assert_true(split_clips[k] > 0); /* 20 voices: 16/2/2, every split has clips */
    }
    /* every listed file exists */
    const char *lists[2] = {vpath, tpath};
    for (int l = 0; l < 2; l++) {
        FILE *f = fopen(lists[l], "r");
        assert_non_null(f);
        char line[512];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = 0;
            snprintf(path, sizeof path, "%s/%s", d->a, line);
            assert_int_equal(access(path, R_OK), 0);
        }
        fclose(f);
    }

    /* determinism: one job instead of two, same bytes everywhere */
    small_opts(&o, d->b);
    o.jobs = 1;
    assert_int_equal(qsnn_synth_run(&o, &s), QSNN_OK);
    static file_list fb;
    list_files(d->b, &fb);
    assert_int_equal(fb.n, fl.n);
    for (int i = 0; i < fl.n; i++) {
        assert_string_equal(fl.p[i], fb.p[i]);
        char pa[700], pb[700];
        snprintf(pa, sizeof pa, "%s/%s", d->a, fl.p[i]);
        snprintf(pb, sizeof pb, "%s/%s", d->b, fb.p[i]);
        if (!same_file(pa, pb))
            fail_msg("%s differs between two runs with one seed", fl.p[i]);
    }

    /* resumability: a changed clip is kept, a deleted one is made again identically */
    const char *keep = NULL, *gone = NULL;
    for (int i = 0; i < fl.n; i++)
        if (!strncmp(fl.p[i], "yes/", 4)) {
            if (!keep)
                keep = fl.p[i];
            else if (!gone)
                gone = fl.p[i];
        }
    assert_non_null(keep);
    assert_non_null(gone);
    float marker[16000];
    for (int i = 0; i < 16000; i++)
        marker[i] = 0.25f * sinf(0.05f * (float)i);
    snprintf(path, sizeof path, "%s/%s", d->a, keep);
    assert_int_equal(qsnn_audio_write_wav16(path, marker, 16000, 16000), QSNN_OK);
    size_t nm;
    unsigned char *mbytes = read_all(path, &nm);
    snprintf(path, sizeof path, "%s/%s", d->a, gone);
    assert_int_equal(remove(path), 0);
    /* a temporary file of an interrupted run (its process is gone) is removed */
    pid_t dead = fork();
    assert_true(dead >= 0);
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    char stale[700];
    snprintf(stale, sizeof stale, "%s/yes/deadbeef_nohash_0.wav.tmp.%ld", d->a, (long)dead);
    FILE *sf = fopen(stale, "w");
    assert_non_null(sf);
    fclose(sf);
    small_opts(&o, d->a);
    assert_int_equal(qsnn_synth_run(&o, &s), QSNN_OK);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(s.clips_written, 1);
    assert_int_equal(s.clips_kept, total - 1);
    assert_int_equal(s.noise_kept, 3);
    snprintf(path, sizeof path, "%s/%s", d->a, keep);
    size_t nk;
    unsigned char *kbytes = read_all(path, &nk);
    assert_int_equal(nk, nm);
    assert_memory_equal(kbytes, mbytes, nm);
    free(kbytes);
    free(mbytes);
    char pa[700], pb[700];
    snprintf(pa, sizeof pa, "%s/%s", d->a, gone);
    snprintf(pb, sizeof pb, "%s/%s", d->b, gone);
    assert_true(same_file(pa, pb));

    /* another seed gives other clips (same names: the voices do not depend on the seed) */
    rm_rf(d->b);
    assert_int_equal(mkdir(d->b, 0700), 0);
    small_opts(&o, d->b);
    o.seed = 8;
    o.words = "yes";
    o.noise_seconds = 0;
    assert_int_equal(qsnn_synth_run(&o, &s), QSNN_OK);
    assert_int_equal(s.noise_written, 0);
    int differ = 0, compared = 0;
    for (int i = 0; i < fl.n; i++)
        if (!strncmp(fl.p[i], "yes/", 4) && fl.p[i] != keep && fl.p[i] != gone) {
            snprintf(pa, sizeof pa, "%s/%s", d->a, fl.p[i]);
            snprintf(pb, sizeof pb, "%s/%s", d->b, fl.p[i]);
            assert_int_equal(access(pb, R_OK), 0);
            compared++;
            differ += !same_file(pa, pb);
        }
    assert_true(compared >= 4);
    assert_int_equal(differ, compared);
}

/* Words longer than the second at normal rate are spoken faster or time-compressed, never cut, and a word that
 * starts at the synthesizer's first sample still gets quiet edges. */
static void test_long_words_fit(void **state)
{
    dirs *d = *state;
    qsnn_log_set_level(QSNN_LOG_QUIET);
    qsnn_synth_opts o;
    small_opts(&o, d->a);
    o.words = "internationalization,on";
    o.keywords = "internationalization,on";
    o.per_word = 10;
    o.noise_seconds = 0;
    qsnn_synth_summary s;
    assert_int_equal(qsnn_synth_run(&o, &s), QSNN_OK);
    assert_int_equal(s.clips_written, 20);
    static file_list fl;
    list_files(d->a, &fl);
    int clips = 0;
    for (int i = 0; i < fl.n; i++) {
        if (!strchr(fl.p[i], '/'))
            continue;
        char path[700];
        snprintf(path, sizeof path, "%s/%s", d->a, fl.p[i]);
        int16_t *pcm = NULL;
        size_t ns = check_wav_pcm16(path, &pcm);
        assert_int_equal(ns, 16000);
        int edge = 0, peak = 0;
        for (size_t k = 0; k < ns; k++)
            peak = abs(pcm[k]) > peak ? abs(pcm[k]) : peak;
        for (size_t k = 0; k < 32; k++) {
            edge = abs(pcm[k]) > edge ? abs(pcm[k]) : edge;
            edge = abs(pcm[ns - 1 - k]) > edge ? abs(pcm[ns - 1 - k]) : edge;
        }
        if (edge >= 300)
            fail_msg("%s: edge amplitude %d (peak %d): the word touches the clip's border", fl.p[i], edge, peak);
        assert_true(peak > 1000 && peak < (int)(0.9 * 32768));
        free(pcm);
        clips++;
    }
    assert_int_equal(clips, 20);
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Synthetic clips added to a real dataset: its list entries and clips stay as they were. */
static void test_add_to_real_dataset(void **state)
{
    dirs *d = *state;
    qsnn_log_set_level(QSNN_LOG_QUIET);
    char path[700], vpath[700], tpath[700];
    snprintf(path, sizeof path, "%s/yes", d->a);
    assert_int_equal(mkdir(path, 0700), 0);
    /* a "real" clip whose listed split (validation) is not its which_set (train), as in the shared subset */
    float x[16000];
    for (int i = 0; i < 16000; i++)
        x[i] = 0.1f * sinf(0.01f * (float)i * (float)i / 16000.0f);
    snprintf(path, sizeof path, "%s/yes/0a7c2a8d_nohash_0.wav", d->a);
    assert_int_equal(qsnn_audio_write_wav16(path, x, 16000, 16000), QSNN_OK);
    size_t n0;
    unsigned char *before = read_all(path, &n0);
    qsnn_synth_voice v0;
    assert_int_equal(qsnn_synth_voice_get(0, &v0), QSNN_OK);
    snprintf(vpath, sizeof vpath, "%s/validation_list.txt", d->a);
    snprintf(tpath, sizeof tpath, "%s/testing_list.txt", d->a);
    FILE *f = fopen(vpath, "w");
    assert_non_null(f);
    /* a stale line naming a synthetic voice is dropped and re-derived from the files */
    fprintf(f, "yes/0a7c2a8d_nohash_0.wav\r\nyes/%s_nohash_9.wav\n", v0.id);
    fclose(f);
    f = fopen(tpath, "w");
    assert_non_null(f);
    fprintf(f, "no/105e72bb_nohash_1.wav\n");
    fclose(f);
    qsnn_synth_opts o;
    small_opts(&o, d->a);
    o.words = "yes";
    o.noise_seconds = 0;
    qsnn_synth_summary s;
    assert_int_equal(qsnn_synth_run(&o, &s), QSNN_OK);
    assert_int_equal(s.clips_written, 6);
    assert_true(in_list(vpath, "yes/0a7c2a8d_nohash_0.wav"));
    assert_true(in_list(tpath, "no/105e72bb_nohash_1.wav"));
    char stale[64];
    snprintf(stale, sizeof stale, "yes/%s_nohash_9.wav", v0.id);
    assert_false(in_list(vpath, stale));
    assert_int_equal(count_lines(vpath) + count_lines(tpath), 2 + (int)(s.clips_split[1] + s.clips_split[2]));
    size_t n1;
    unsigned char *after = read_all(path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
}

static void test_real_noise_import(void **state)
{
    dirs *d = *state;
    qsnn_log_set_level(QSNN_LOG_QUIET);
    /* a 0.5 s 8 kHz recording becomes 8000 samples at 16 kHz */
    char src[700], path[700];
    snprintf(src, sizeof src, "%s/room_tone.wav", d->b);
    float x[4000];
    for (int i = 0; i < 4000; i++)
        x[i] = 0.2f * sinf(0.3f * (float)i);
    assert_int_equal(qsnn_audio_write_wav16(src, x, 4000, 8000), QSNN_OK);
    qsnn_synth_opts o;
    small_opts(&o, d->a);
    o.words = "yes";
    o.per_word = 1;
    o.noise_seconds = 0.5;
    o.noise_dir = d->b;
    qsnn_synth_summary s;
    assert_int_equal(qsnn_synth_run(&o, &s), QSNN_OK);
    assert_int_equal(s.noise_written, 4);
    snprintf(path, sizeof path, "%s/_background_noise_/room_tone.wav", d->a);
    int16_t *pcm = NULL;
    size_t n = check_wav_pcm16(path, &pcm);
    assert_true(n >= 7990 && n <= 8010);
    free(pcm);
    snprintf(path, sizeof path, "%s/_background_noise_/synth_pink_noise.wav", d->a);
    n = check_wav_pcm16(path, &pcm);
    assert_int_equal(n, 8000);
    free(pcm);
    /* a missing noise folder is an error naming it */
    o.noise_dir = "/nonexistent/noise";
    assert_int_equal(qsnn_synth_run(&o, &s), QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), "/nonexistent/noise"));
}

static void test_bad_options_and_missing_data(void **state)
{
    dirs *d = *state;
    qsnn_log_set_level(QSNN_LOG_QUIET);
    qsnn_synth_opts o;
    small_opts(&o, d->a);
    o.words = "Yes";
    assert_int_equal(qsnn_synth_run(&o, NULL), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "Yes"));
    o.words = "yes,yes";
    assert_int_equal(qsnn_synth_run(&o, NULL), QSNN_ERR_ARG);
    o.words = "../x";
    assert_int_equal(qsnn_synth_run(&o, NULL), QSNN_ERR_ARG);
    o.words = " , ";
    assert_int_equal(qsnn_synth_run(&o, NULL), QSNN_ERR_ARG);
    small_opts(&o, d->a);
    o.per_word = -1;
    assert_int_equal(qsnn_synth_run(&o, NULL), QSNN_ERR_ARG);
    small_opts(&o, d->a);
    o.num_voices = qsnn_synth_num_voices() + 1;
    assert_int_equal(qsnn_synth_run(&o, NULL), QSNN_ERR_ARG);
    small_opts(&o, NULL);
    assert_int_equal(qsnn_synth_run(&o, NULL), QSNN_ERR_ARG);
    /* missing synthesizer data: the error names the Debian package */
    small_opts(&o, d->a);
    o.espeak_data = "/nonexistent/espeak-ng-data";
    assert_int_equal(qsnn_synth_run(&o, NULL), QSNN_ERR_DEPENDENCY);
    assert_non_null(strstr(qsnn_last_error(), "espeak-ng-data"));
    assert_non_null(strstr(qsnn_last_error(), "install"));
}

static void test_command_line(void **state)
{
    (void)state;
    const char *exe = getenv("QSNN_EXE");
    if (!exe)
        skip();
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s synth --help > /dev/null", exe);
    int r = system(cmd);
    assert_true(WIFEXITED(r) && WEXITSTATUS(r) == 0);
    snprintf(cmd, sizeof cmd, "%s synth --per-word 3 2> /dev/null", exe); /* no -o */
    r = system(cmd);
    assert_true(WIFEXITED(r) && WEXITSTATUS(r) == 2);
    snprintf(cmd, sizeof cmd, "%s synth -o /tmp/x --voices 0 2> /dev/null", exe);
    r = system(cmd);
    assert_true(WIFEXITED(r) && WEXITSTATUS(r) == 2);
    snprintf(cmd, sizeof cmd, "%s synth -q -o /tmp/qsnn_test_synth_cli --espeak-data /nonexistent 2> /dev/null",
             exe);
    r = system(cmd);
    assert_true(WIFEXITED(r) && WEXITSTATUS(r) == 1);
    rm_rf("/tmp/qsnn_test_synth_cli");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_which_set_matches_tensorflow),
        cmocka_unit_test(test_voice_table),
        cmocka_unit_test(test_noise_colours),
        cmocka_unit_test_setup_teardown(test_run_layout_splits_determinism_resume, setup_dirs, teardown_dirs),
        cmocka_unit_test_setup_teardown(test_long_words_fit, setup_dirs, teardown_dirs),
        cmocka_unit_test_setup_teardown(test_add_to_real_dataset, setup_dirs, teardown_dirs),
        cmocka_unit_test_setup_teardown(test_real_noise_import, setup_dirs, teardown_dirs),
        cmocka_unit_test_setup_teardown(test_bad_options_and_missing_data, setup_dirs, teardown_dirs),
        cmocka_unit_test(test_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
