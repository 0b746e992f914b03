/* SPDX-License-Identifier: Apache-2.0 */
/* synth.c: qsnn_synth_run, the synthetic Speech Commands generator: plan the clips, make the missing ones in
 * forked processes, add background noise, rebuild the list files.
 *
 * Plan: word w gets `count` clips (per_word for keywords, unknown_per_word otherwise); clip j uses voice
 * (off_w + j) mod V, off_w = hash(w) mod V, repetition n = j / V: consecutive table voices, so every word gets the
 * table's 80/10/10 split mix, and different words start with different voices. A clip's content depends on
 * (seed, word, voice, n) only.
 *
 * Parallelism: one forked process per clip, at most `jobs` at a time. espeak-ng is not thread-safe and both
 * synthesizers keep state between utterances; a fork of the never-used parent state is both parallel and
 * deterministic (about 10 ms of fork and voice loading per clip, measured in docs/synth.md). A child reports
 * failure by its exit status and its error message through a pipe; the parent keeps the first error, stops
 * launching and waits for the running ones.
 *
 * The list files are rebuilt from the directory (every <word>/<id>_nohash_<n>.wav of a table voice, assigned by
 * which_set of the id), so they also cover clips of earlier, larger runs; lines of existing list files that name
 * other clips are kept, so synthetic clips can be added to a real dataset without changing its splits. */
#define _POSIX_C_SOURCE 200809L
#include "synth/synth_internal.h"

#include "qsnn/audio.h"
#include "qsnn/io.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Split names as in the list files' sense ("train", "validation", "test"); kept local so that this file does not
 * depend on the dataset reader. */
static const char *split_str(int s) { return s == 1 ? "validation" : s == 2 ? "test" : "train"; }

#define MAX_WORDS 256
#define MAX_JOBS 64
#define NOISE_DIR "_background_noise_"

void qsnn_synth_default_opts(qsnn_synth_opts *o)
{
    memset(o, 0, sizeof *o);
    o->per_word = 150;
    o->unknown_per_word = 30;
    o->seed = 1;
    o->noise_seconds = 60.0;
}

typedef struct {
    char w[MAX_WORDS][SYNTH_WORD_MAX];
    int n;
} word_list;

static qsnn_status parse_words(word_list *wl, const char *s, const char *what)
{
    wl->n = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && *q != ',')
            q++;
        size_t len = (size_t)(q - p);
        while (len && p[len - 1] == ' ')
            len--;
        if (len >= SYNTH_WORD_MAX)
            return qsnn_fail(QSNN_ERR_ARG, "%s: word '%.*s' longer than %d bytes", what, (int)len, p,
                             SYNTH_WORD_MAX - 1);
        for (size_t i = 0; i < len; i++) {
            char c = p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '\''))
                return qsnn_fail(QSNN_ERR_ARG, "%s: word '%.*s': only lowercase letters, digits, - and ' allowed",
                                 what, (int)len, p);
        }
        if (wl->n == MAX_WORDS)
            return qsnn_fail(QSNN_ERR_ARG, "%s: more than %d words", what, MAX_WORDS);
        memcpy(wl->w[wl->n], p, len);
        wl->w[wl->n][len] = 0;
        for (int k = 0; k < wl->n; k++)
            if (!strcmp(wl->w[k], wl->w[wl->n]))
                return qsnn_fail(QSNN_ERR_ARG, "%s: word '%s' given twice", what, wl->w[k]);
        wl->n++;
        p = q;
    }
    return QSNN_OK;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 44;
}

/* Remove "<name>.wav.tmp.<pid>" files that an interrupted run left in dir (atomic writes that never got renamed),
 * when process <pid> no longer exists. Best effort: a file that cannot be removed is left. */
static void remove_stale_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *t = strstr(de->d_name, ".wav.tmp.");
        if (!t)
            continue;
        char *end;
        long pid = strtol(t + 9, &end, 10);
        if (*end || pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (remove(p) == 0)
            qsnn_debug("synth: removed %s, left by an interrupted run", p);
    }
    closedir(d);
}

/* ---- the process pool ---- */
typedef struct {
    pid_t pid;
    int fd;
    char msg[512];
    size_t msg_len;
    size_t job;
    qsnn_status st; /* the child's status (exit code - 10), QSNN_ERR_IO when it died */
} slot;

typedef struct {
    char path[4200];
    int voice;
    int word;
    int rep;
} clip_job;

static void child_run(int fd, const clip_job *j, const qsnn_synth_voice *v, const char *word, uint64_t seed)
{
    qsnn_status st = synth_make_clip(j->path, v, word, j->rep, seed);
    if (st) {
        const char *m = qsnn_last_error();
        char buf[512];
        int k = snprintf(buf, sizeof buf, "%s", (m && m[0]) ? m : qsnn_status_str(st));
        if (k > 0) {
            ssize_t wr = write(fd, buf, (size_t)k < sizeof buf ? (size_t)k : sizeof buf - 1);
            (void)wr;
        }
        close(fd);
        _exit(10 + (int)st);
    }
    close(fd);
    _exit(0);
}

/* Wait until one running slot finishes; returns its index. *ok = 0 and the message in s->msg on failure. */
static int wait_one(slot *s, int nslots, int *ok)
{
    for (;;) {
        struct pollfd pf[MAX_JOBS];
        int map[MAX_JOBS], np = 0;
        for (int i = 0; i < nslots; i++)
            if (s[i].pid > 0) {
                pf[np].fd = s[i].fd;
                pf[np].events = POLLIN;
                pf[np].revents = 0;
                map[np++] = i;
            }
        if (np == 0)
            return -1;
        int r = poll(pf, (nfds_t)np, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (int k = 0; k < np; k++) {
            if (!pf[k].revents)
                continue;
            slot *x = &s[map[k]];
            char buf[256];
            ssize_t got = read(x->fd, buf, sizeof buf);
            if (got > 0) {
                size_t room = sizeof x->msg - 1 - x->msg_len;
                size_t take = (size_t)got < room ? (size_t)got : room;
                memcpy(x->msg + x->msg_len, buf, take);
                x->msg_len += take;
                x->msg[x->msg_len] = 0;
                continue;
            }
            if (got < 0 && errno == EINTR)
                continue;
            /* EOF: the child has exited (or is exiting). */
            close(x->fd);
            int status = 0;
            pid_t w;
            while ((w = waitpid(x->pid, &status, 0)) < 0 && errno == EINTR) {
            }
            x->pid = 0;
            if (w < 0) /* SIGCHLD ignored by the caller: the child was reaped already; its message says it all */
                status = x->msg_len ? (QSNN_ERR_IO + 10) << 8 : 0;
            *ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            x->st = QSNN_OK;
            if (!*ok) {
                int code = WIFEXITED(status) ? WEXITSTATUS(status) - 10 : -1;
                x->st = code > 0 && code <= (int)QSNN_ERR_INTERRUPTED ? (qsnn_status)code : QSNN_ERR_IO;
            }
            if (!*ok && x->msg_len == 0) {
                if (WIFSIGNALED(status))
                    snprintf(x->msg, sizeof x->msg, "clip process killed by signal %d", WTERMSIG(status));
                else
                    snprintf(x->msg, sizeof x->msg, "clip process failed (exit %d)", WEXITSTATUS(status));
            }
            return map[k];
        }
    }
}

/* ---- list files ---- */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef struct {
    char **v;
    size_t n, cap;
} str_vec;

static qsnn_status vec_push(str_vec *s, const char *a, const char *b)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        char **p = realloc(s->v, cap * sizeof *p);
        if (!p)
            return qsnn_fail(QSNN_ERR_NOMEM, "list files: %zu names", cap);
        s->v = p;
        s->cap = cap;
    }
    size_t la = strlen(a), lb = strlen(b);
    char *x = malloc(la + lb + 2);
    if (!x)
        return qsnn_fail(QSNN_ERR_NOMEM, "list files");
    memcpy(x, a, la);
    x[la] = '/';
    memcpy(x + la + 1, b, lb + 1);
    s->v[s->n++] = x;
    return QSNN_OK;
}

static void vec_free(str_vec *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int ends_with_ci(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

static qsnn_status write_list(const char *dir, const char *name, const str_vec *v)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    qsnn_atomic_file f;
    qsnn_status st = qsnn_atomic_open(&f, path);
    if (st)
        return st;
    for (size_t i = 0; i < v->n && !st; i++) {
        st = qsnn_atomic_write(&f, v->v[i], strlen(v->v[i]));
        if (!st)
            st = qsnn_atomic_write(&f, "\n", 1);
    }
    if (st) {
        qsnn_atomic_abort(&f);
        return st;
    }
    return qsnn_atomic_commit(&f);
}

static int cmp_id(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* 1 when `spk` is the id of a voice of the table (any voice, not only this run's: an earlier run may have used
 * more). */
static int is_synth_id(const char *spk)
{
    static char ids[512][9];
    static int n = -1;
    if (n < 0) {
        int nv = qsnn_synth_num_voices();
        n = 0;
        for (int i = 0; i < nv && i < 512; i++) {
            qsnn_synth_voice v;
            if (qsnn_synth_voice_get(i, &v) == QSNN_OK)
                memcpy(ids[n++], v.id, 9);
        }
        qsort(ids, (size_t)n, sizeof ids[0], cmp_id);
    }
    return strlen(spk) == 8 && bsearch(spk, ids, (size_t)n, sizeof ids[0], cmp_id) != NULL;
}

static void speaker_of(char *spk, size_t cap, const char *file)
{
    const char *base = strrchr(file, '/');
    snprintf(spk, cap, "%s", base ? base + 1 : file);
    char *h = strstr(spk, "_nohash_");
    if (h)
        *h = 0;
}

/* Keep the lines of an existing list file that are not ours: when DIR is a real dataset that synthetic clips are
 * added to, its own validation/test assignment must survive. */
static qsnn_status keep_foreign_lines(const char *dir, const char *name, str_vec *out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat sst;
    if (stat(path, &sst) != 0)
        return QSNN_OK;
    char *txt = NULL;
    size_t len = 0;
    qsnn_status st = qsnn_read_text_file(path, (size_t)256 << 20, &txt, &len);
    if (st)
        return st;
    char *line = txt;
    while (!st && line < txt + len) {
        char *nl = memchr(line, '\n', (size_t)(txt + len - line));
        char *end = nl ? nl : txt + len;
        *end = 0;
        if (end > line && end[-1] == '\r')
            end[-1] = 0;
        char spk[256];
        speaker_of(spk, sizeof spk, line);
        const char *slash = strchr(line, '/');
        if (line[0] && slash && !is_synth_id(spk)) {
            char word[256];
            snprintf(word, sizeof word, "%.*s", (int)(slash - line), line);
            st = vec_push(out, word, slash + 1);
        }
        line = end + 1;
    }
    free(txt);
    return st;
}

/* The list files: every clip of a table voice under DIR, by which_set of its id (== its voice's split), plus the
 * lines of the existing list files that name other clips. */
static qsnn_status write_lists(const char *dir)
{
    static const char *const names[QSNN_SPLIT_COUNT] = {NULL, "validation_list.txt", "testing_list.txt"};
    str_vec lists[QSNN_SPLIT_COUNT];
    memset(lists, 0, sizeof lists);
    qsnn_status st = QSNN_OK;
    for (int s = 1; s < QSNN_SPLIT_COUNT && !st; s++)
        st = keep_foreign_lines(dir, names[s], &lists[s]);
    DIR *d = st ? NULL : opendir(dir);
    if (!st && !d)
        st = qsnn_fail(QSNN_ERR_IO, "%s: cannot list: %s", dir, strerror(errno));
    struct dirent *de;
    while (!st && (de = readdir(d))) {
        if (de->d_name[0] == '.' || !strcmp(de->d_name, NOISE_DIR))
            continue;
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
        struct stat sst;
        if (stat(sub, &sst) != 0 || !S_ISDIR(sst.st_mode))
            continue;
        DIR *d2 = opendir(sub);
        if (!d2) {
            st = qsnn_fail(QSNN_ERR_IO, "%s: cannot list: %s", sub, strerror(errno));
            break;
        }
        struct dirent *f;
        while (!st && (f = readdir(d2))) {
            if (f->d_name[0] == '.' || !ends_with_ci(f->d_name, ".wav"))
                continue;
            char spk[256];
            speaker_of(spk, sizeof spk, f->d_name);
            if (!is_synth_id(spk))
                continue;
            qsnn_split s = qsnn_synth_which_set(spk);
            if (s != QSNN_SPLIT_TRAIN)
                st = vec_push(&lists[s], de->d_name, f->d_name);
        }
        closedir(d2);
    }
    if (d)
        closedir(d);
    for (int s = 1; s < QSNN_SPLIT_COUNT && !st; s++) {
        if (lists[s].n)
            qsort(lists[s].v, lists[s].n, sizeof *lists[s].v, cmp_str);
        st = write_list(dir, names[s], &lists[s]);
    }
    for (int s = 0; s < QSNN_SPLIT_COUNT; s++)
        vec_free(&lists[s]);
    return st;
}

static qsnn_status write_voices(const char *dir, int nv)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/synth_voices.txt", dir);
    qsnn_atomic_file f;
    qsnn_status st = qsnn_atomic_open(&f, path);
    if (st)
        return st;
    char line[256];
    int k = snprintf(line, sizeof line,
                     "# qsnn synth voices: id split engine voice pitch pitch_range rate "
                     "(espeak: 0-100, 0-100, words/min; flite: Hz, Hz, duration stretch)\n");
    st = qsnn_atomic_write(&f, line, (size_t)k);
    for (int i = 0; i < nv && !st; i++) {
        qsnn_synth_voice v;
        st = qsnn_synth_voice_get(i, &v);
        if (st)
            break;
        k = snprintf(line, sizeof line, "%s %s %s %s %.1f %.1f %.2f\n", v.id, split_str(v.split),
                     v.engine == QSNN_SYNTH_ESPEAK ? "espeak-ng" : "flite", v.name, v.pitch, v.pitch_range, v.rate);
        st = qsnn_atomic_write(&f, line, (size_t)k);
    }
    if (st) {
        qsnn_atomic_abort(&f);
        return st;
    }
    return qsnn_atomic_commit(&f);
}

/* ---- background noise ---- */
static qsnn_status make_noise(const qsnn_synth_opts *o, qsnn_synth_summary *sum)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", o->out_dir, NOISE_DIR);
    qsnn_status st = qsnn_mkdir_p(dir);
    if (st)
        return st;
    remove_stale_tmp(dir);
    static const char *const names[3] = {"synth_white_noise", "synth_pink_noise", "synth_brown_noise"};
    size_t n = (size_t)(o->noise_seconds * QSNN_SAMPLE_RATE + 0.5);
    for (int c = 0; c < 3 && n > 0; c++) {
        char path[4300];
        snprintf(path, sizeof path, "%s/%s.wav", dir, names[c]);
        if (file_exists(path)) {
            sum->noise_kept++;
            continue;
        }
        float *x = malloc(n * sizeof *x);
        if (!x)
            return qsnn_fail(QSNN_ERR_NOMEM, "%s: %zu samples", path, n);
        st = qsnn_noise_generate(x, n, (qsnn_noise_color)c, 0.3, o->seed);
        if (!st)
            st = qsnn_audio_write_wav16(path, x, n, QSNN_SAMPLE_RATE);
        free(x);
        if (st)
            return st;
        sum->noise_written++;
    }
    if (!o->noise_dir)
        return QSNN_OK;
    DIR *d = opendir(o->noise_dir);
    if (!d)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot open noise folder: %s", o->noise_dir, strerror(errno));
    str_vec files;
    memset(&files, 0, sizeof files);
    struct dirent *de;
    while (!st && (de = readdir(d)))
        if (de->d_name[0] != '.' && (ends_with_ci(de->d_name, ".wav") || ends_with_ci(de->d_name, ".flac") ||
                                     ends_with_ci(de->d_name, ".ogg")))
            st = vec_push(&files, o->noise_dir, de->d_name);
    closedir(d);
    if (!st && files.n == 0)
        st = qsnn_fail(QSNN_ERR_IO, "%s: no .wav, .flac or .ogg files", o->noise_dir);
    if (files.n)
        qsort(files.v, files.n, sizeof *files.v, cmp_str);
    for (size_t i = 0; i < files.n && !st; i++) {
        const char *base = strrchr(files.v[i], '/') + 1;
        char stem[256];
        snprintf(stem, sizeof stem, "%s", base);
        char *dot = strrchr(stem, '.');
        if (dot)
            *dot = 0;
        char path[4600];
        snprintf(path, sizeof path, "%s/%s.wav", dir, stem);
        if (file_exists(path)) {
            sum->noise_kept++;
            continue;
        }
        float *x = NULL;
        size_t m = 0;
        st = qsnn_audio_read(files.v[i], &x, &m, NULL);
        if (!st)
            st = qsnn_audio_write_wav16(path, x, m, QSNN_SAMPLE_RATE);
        free(x);
        if (!st)
            sum->noise_written++;
    }
    vec_free(&files);
    return st;
}

qsnn_status qsnn_synth_run(const qsnn_synth_opts *o, qsnn_synth_summary *sum_out)
{
    qsnn_synth_summary sum;
    memset(&sum, 0, sizeof sum);
    double t0 = qsnn_time_now();
    if (!o || !o->out_dir || !o->out_dir[0])
        return qsnn_fail(QSNN_ERR_ARG, "qsnn synth: no output folder");
    if (o->per_word < 0 || o->per_word > 1000000 || o->unknown_per_word < 0 || o->unknown_per_word > 1000000)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn synth: clips per word must be in [0, 1000000]");
    int V = qsnn_synth_num_voices();
    if (o->num_voices < 0 || o->num_voices > V)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn synth: --voices %d outside [1, %d]", o->num_voices, V);
    if (o->num_voices)
        V = o->num_voices;
    if (!(o->noise_seconds >= 0.0 && o->noise_seconds <= 3600.0))
        return qsnn_fail(QSNN_ERR_ARG, "qsnn synth: noise seconds %g outside [0, 3600]", o->noise_seconds);
    if (o->jobs < 0 || o->jobs > MAX_JOBS)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn synth: jobs %d outside [0, %d]", o->jobs, MAX_JOBS);
    int jobs = o->jobs;
    if (!jobs) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = nc < 1 ? 1 : nc > MAX_JOBS ? MAX_JOBS : (int)nc;
    }
    static word_list words, keys; /* large: static (qsnn_synth_run is not reentrant, see synth.h) */
    qsnn_status st = parse_words(&words, o->words ? o->words : QSNN_SYNTH_KEYWORDS "," QSNN_SYNTH_OTHER_WORDS,
                                 "words");
    if (!st)
        st = parse_words(&keys, o->keywords ? o->keywords : QSNN_SYNTH_KEYWORDS, "keywords");
    if (st)
        return st;
    if (words.n == 0)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn synth: no words");
    qsnn_synth_voice *voices = malloc((size_t)V * sizeof *voices);
    if (!voices)
        return qsnn_fail(QSNN_ERR_NOMEM, "synth: voices");
    for (int i = 0; i < V && !st; i++)
        st = qsnn_synth_voice_get(i, &voices[i]);
    if (!st)
        st = synth_engines_init(o->espeak_data);
    if (!st)
        st = qsnn_mkdir_p(o->out_dir);

    /* Plan. */
    clip_job *plan = NULL;
    size_t nplan = 0, cap = 0;
    int used[QSNN_SPLIT_COUNT] = {0};
    unsigned char *voice_used = calloc((size_t)V, 1);
    if (!voice_used && !st)
        st = qsnn_fail(QSNN_ERR_NOMEM, "synth: plan");
    for (int w = 0; w < words.n && !st; w++) {
        int is_key = 0;
        for (int k = 0; k < keys.n; k++)
            is_key |= !strcmp(keys.w[k], words.w[w]);
        int count = is_key ? o->per_word : o->unknown_per_word;
        char wdir[4200];
        snprintf(wdir, sizeof wdir, "%s/%s", o->out_dir, words.w[w]);
        if (count > 0) {
            st = qsnn_mkdir_p(wdir);
            remove_stale_tmp(wdir);
        }
        size_t off = (size_t)(synth_hash_str(words.w[w], 0) % (uint64_t)V);
        for (int j = 0; j < count && !st; j++) {
            int vi = (int)((off + (size_t)j) % (size_t)V);
            int rep = j / V;
            const qsnn_synth_voice *v = &voices[vi];
            sum.clips_split[v->split]++;
            if (!voice_used[vi]) {
                voice_used[vi] = 1;
                used[v->split]++;
            }
            char path[4200];
            int pl = snprintf(path, sizeof path, "%s/%s_nohash_%d.wav", wdir, v->id, rep);
            if (pl < 0 || (size_t)pl >= sizeof path) {
                st = qsnn_fail(QSNN_ERR_ARG, "%s: path too long", wdir);
                break;
            }
            if (file_exists(path)) {
                sum.clips_kept++;
                continue;
            }
            if (nplan == cap) {
                cap = cap ? cap * 2 : 256;
                clip_job *p = realloc(plan, cap * sizeof *p);
                if (!p) {
                    st = qsnn_fail(QSNN_ERR_NOMEM, "synth: plan of %zu clips", cap);
                    break;
                }
                plan = p;
            }
            clip_job *cj = &plan[nplan++];
            memcpy(cj->path, path, (size_t)pl + 1);
            cj->voice = vi;
            cj->word = w;
            cj->rep = rep;
        }
    }
    free(voice_used);
    for (int s = 0; s < QSNN_SPLIT_COUNT; s++)
        sum.voices_split[s] = used[s];

    /* Make the missing clips. */
    double tc0 = qsnn_time_now();
    if (!st && nplan) {
        qsnn_progress prog;
        qsnn_progress_begin(&prog, "synth", "clips", nplan);
        slot slots[MAX_JOBS];
        memset(slots, 0, sizeof slots);
        size_t next = 0, done = 0;
        int running = 0;
        char first_err[512] = "";
        qsnn_status first_st = QSNN_ERR_IO;
        while ((next < nplan && !first_err[0]) || running > 0) {
            if (next < nplan && !first_err[0] && running < jobs) {
                int si = 0;
                while (slots[si].pid > 0)
                    si++;
                int fds[2];
                if (pipe(fds) != 0) {
                    snprintf(first_err, sizeof first_err, "synth: pipe: %s", strerror(errno));
                    continue;
                }
                fflush(stdout);
                fflush(stderr);
                pid_t pid = fork();
                if (pid < 0) {
                    snprintf(first_err, sizeof first_err, "synth: fork: %s", strerror(errno));
                    close(fds[0]);
                    close(fds[1]);
                    continue;
                }
                if (pid == 0) {
                    close(fds[0]);
                    for (int k = 0; k < jobs; k++)
                        if (slots[k].pid > 0)
                            close(slots[k].fd);
                    const clip_job *cj = &plan[next];
                    child_run(fds[1], cj, &voices[cj->voice], words.w[cj->word], o->seed);
                }
                close(fds[1]);
                slots[si].pid = pid;
                slots[si].fd = fds[0];
                slots[si].msg_len = 0;
                slots[si].msg[0] = 0;
                slots[si].job = next++;
                running++;
                continue;
            }
            int ok = 0;
            int si = wait_one(slots, jobs, &ok);
            if (si < 0) {
                snprintf(first_err, sizeof first_err, "synth: waiting for clip processes: %s", strerror(errno));
                break;
            }
            running--;
            if (ok) {
                sum.clips_written++;
            } else {
                sum.clips_failed++;
                if (!first_err[0]) {
                    snprintf(first_err, sizeof first_err, "%s", slots[si].msg);
                    first_st = slots[si].st;
                }
            }
            done++;
            qsnn_progress_update(&prog, done, NULL);
        }
        qsnn_progress_end(&prog, done, NULL);
        if (first_err[0])
            st = qsnn_fail(first_st, "%s", first_err);
    }
    double tc1 = qsnn_time_now();
    sum.clips_per_second = sum.clips_written && tc1 > tc0 ? (double)sum.clips_written / (tc1 - tc0) : 0.0;
    free(plan);

    if (!st)
        st = make_noise(o, &sum);
    if (!st)
        st = write_lists(o->out_dir);
    if (!st)
        st = write_voices(o->out_dir, V);
    free(voices);
    sum.seconds = qsnn_time_now() - t0;
    if (sum_out)
        *sum_out = sum;
    return st;
}
