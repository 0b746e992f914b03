/* SPDX-License-Identifier: Apache-2.0 */
/* dataset_files.c: the files behind a Speech Commands dataset: folder listings and list files (sorted bytewise,
 * so that nothing depends on the file system's order), decoding the indexed clips into memory in parallel, and
 * the background-noise pool (dataset.c builds the index from these). */
#define _POSIX_C_SOURCE 200809L
#include "data/dataset_internal.h"

#include "qsnn/audio.h"
#include "qsnn/io.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <nettle/sha1.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define MAX_WARNED_CLIPS 20

/* ---------------------------------------------------------------- directory scanning */

void qsnn_data_strvec_free(qsnn_strvec *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int strvec_push(qsnn_strvec *s, const char *str)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **nv = realloc(s->v, cap * sizeof *nv);
        if (!nv)
            return 0;
        s->v = nv;
        s->cap = cap;
    }
    char *d = strdup(str);
    if (!d)
        return 0;
    s->v[s->n++] = d;
    return 1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

char *qsnn_data_join_path(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

int qsnn_data_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_wav_ext(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && name[n - 4] == '.' && tolower((unsigned char)name[n - 3]) == 'w' &&
           tolower((unsigned char)name[n - 2]) == 'a' && tolower((unsigned char)name[n - 1]) == 'v';
}

/* Names in `path` (no hidden entries), sorted bytewise. want_dirs: 1 = directories only, 0 = .wav files only. */
qsnn_status qsnn_data_list_dir(const char *path, int want_dirs, qsnn_strvec *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(path);
    if (!d)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot open directory: %s", path, strerror(errno));
    struct dirent *e;
    size_t special = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *full = qsnn_data_join_path(path, e->d_name);
        if (!full) {
            closedir(d);
            qsnn_data_strvec_free(out);
            return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
        }
        struct stat st;
        int ok = stat(full, &st) == 0, dir = ok && S_ISDIR(st.st_mode), reg = ok && S_ISREG(st.st_mode);
        free(full);
        if (!want_dirs && !dir && !reg && has_wav_ext(e->d_name)) {
            special++; /* a FIFO or device named *.wav would block or never end: skipped, counted */
            continue;
        }
        if (want_dirs ? !dir : !reg || !has_wav_ext(e->d_name))
            continue;
        if (!strvec_push(out, e->d_name)) {
            closedir(d);
            qsnn_data_strvec_free(out);
            return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    closedir(d);
    if (special)
        qsnn_warn("%s: skipped %zu .wav entries that are not regular files (FIFOs, devices, dangling links)", path,
                  special);
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return QSNN_OK;
}

/* A list file (validation_list.txt, testing_list.txt) as a sorted vector of relative paths.
 * *present = 0 when the file does not exist (not an error). */
qsnn_status qsnn_data_read_list(const char *dir, const char *name, qsnn_strvec *out, int *present)
{
    memset(out, 0, sizeof *out);
    *present = 0;
    char *path = qsnn_data_join_path(dir, name);
    if (!path)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", dir);
    struct stat st;
    if (stat(path, &st) != 0) {
        free(path);
        return QSNN_OK;
    }
    free(path);
    path = NULL;
    char *text = NULL;
    size_t len = 0;
    char *full = qsnn_data_join_path(dir, name);
    qsnn_status rc = full ? qsnn_read_text_file(full, (size_t)256 << 20, &text, &len)
                          : qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", dir);
    free(full);
    if (rc != QSNN_OK)
        return rc;
    *present = 1;
    char *line = text;
    while (line < text + len) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        char *end = nl ? nl : text + len;
        while (end > line && isspace((unsigned char)end[-1]))
            end--;
        while (line < end && isspace((unsigned char)*line))
            line++;
        if (end > line) {
            char saved = *end;
            *end = '\0';
            if (!strvec_push(out, line)) {
                free(text);
                qsnn_data_strvec_free(out);
                return qsnn_fail(QSNN_ERR_NOMEM, "%s/%s: out of memory", dir, name);
            }
            *end = saved;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    free(text);
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return QSNN_OK;
}

int qsnn_data_list_has(const qsnn_strvec *l, const char *rel)
{
    return l->n && bsearch(&rel, l->v, l->n, sizeof *l->v, cmp_str) != NULL;
}

/* ---------------------------------------------------------------- decoding */

static int16_t to_pcm16(float x)
{
    /* PCM16 input gives x = k / 32768 exactly, so this recovers k exactly */
    float v = x * 32768.0f;
    if (!(v > -32768.0f))
        return -32768;
    if (v >= 32767.0f)
        return 32767;
    return (int16_t)lrintf(v);
}

/* Decode clips cand[order[0..n)] into dst[n * 16000]; ok[k] = 1 on success. Failures are named (the first
 * MAX_WARNED_CLIPS of the whole open) and counted in ds->skipped. */
static qsnn_status decode_batch(qsnn_dataset *ds, const char *dir, const qsnn_candidate *cand, const size_t *order,
                                size_t n, int16_t *dst, unsigned char *ok, qsnn_decode_progress *dp)
{
    char **err = calloc(n ? n : 1, sizeof *err);
    if (!err)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory decoding clips", dir);
    int nomem = 0;
    size_t done0 = dp->done, done = 0;
#pragma omp parallel
    {
        float *buf = malloc(QSNN_CLIP_SAMPLES * sizeof *buf);
        if (!buf) {
#pragma omp atomic write
            nomem = 1;
        }
#pragma omp for schedule(dynamic, 8)
        for (size_t k = 0; k < n; k++) {
            ok[k] = 0;
            if (!buf)
                continue;
            char *full = qsnn_data_join_path(dir, cand[order[k]].rel);
            qsnn_status st = full ? qsnn_audio_read_clip(full, buf, QSNN_CLIP_SAMPLES) : QSNN_ERR_NOMEM;
            if (st == QSNN_OK) {
                int16_t *o = dst + k * QSNN_CLIP_SAMPLES;
                for (size_t j = 0; j < QSNN_CLIP_SAMPLES; j++)
                    o[j] = to_pcm16(buf[j]);
                ok[k] = 1;
            } else {
                const char *m = qsnn_last_error();
                err[k] = strdup(m && m[0] ? m : qsnn_status_str(st));
            }
            free(full);
            size_t d;
#pragma omp atomic capture
            d = ++done;
#ifdef _OPENMP
            if (omp_get_thread_num() == 0)
#endif
                qsnn_progress_update(&dp->prog, done0 + d, NULL);
        }
        free(buf);
    }
    dp->done = done0 + n;
    if (nomem) {
        for (size_t k = 0; k < n; k++)
            free(err[k]);
        free(err);
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory decoding clips", dir);
    }
    for (size_t k = 0; k < n; k++) {
        if (ok[k])
            continue;
        if (ds->skipped < MAX_WARNED_CLIPS)
            qsnn_warn("skipping clip %s: %s", cand[order[k]].rel, err[k] ? err[k] : "cannot decode");
        else if (ds->skipped == MAX_WARNED_CLIPS)
            qsnn_warn("more clips cannot be decoded; not naming them all (count reported at the end)");
        ds->skipped++;
        free(err[k]);
    }
    free(err);
    return QSNN_OK;
}

static qsnn_status reserve_clips(qsnn_dataset *ds, size_t extra)
{
    size_t want;
    if (!qsnn_add_size(&want, ds->num_clips, extra))
        return qsnn_fail(QSNN_ERR_RANGE, "dataset: too many clips");
    if (want <= ds->cap_clips)
        return QSNN_OK;
    size_t cap = ds->cap_clips ? ds->cap_clips : 256;
    while (cap < want)
        cap *= 2;
    size_t bytes;
    if (!qsnn_mul_size(&bytes, cap, QSNN_CLIP_SAMPLES * sizeof(int16_t)))
        return qsnn_fail(QSNN_ERR_RANGE, "dataset: too many clips");
    int16_t *a = realloc(ds->audio, bytes);
    if (!a)
        return qsnn_fail(QSNN_ERR_NOMEM, "dataset: out of memory for %zu clips (%zu MB)", cap, bytes >> 20);
    ds->audio = a;
    char **p = realloc(ds->clip_path, cap * sizeof *p);
    if (!p)
        return qsnn_fail(QSNN_ERR_NOMEM, "dataset: out of memory");
    ds->clip_path = p;
    ds->cap_clips = cap;
    return QSNN_OK;
}

/* Decode cand[order[0..n)] and append the good ones to ds; ids[k] receives the clip index or -1. */
qsnn_status qsnn_data_decode_append(qsnn_dataset *ds, const char *dir, const char *prefix,
                                    const qsnn_candidate *cand, const size_t *order, size_t n, int32_t *ids,
                                    qsnn_decode_progress *dp)
{
    if (n == 0)
        return QSNN_OK;
    qsnn_status rc = reserve_clips(ds, n);
    if (rc != QSNN_OK)
        return rc;
    unsigned char *ok = malloc(n);
    if (!ok)
        return qsnn_fail(QSNN_ERR_NOMEM, "dataset: out of memory");
    int16_t *dst = ds->audio + ds->num_clips * QSNN_CLIP_SAMPLES;
    rc = decode_batch(ds, dir, cand, order, n, dst, ok, dp);
    if (rc != QSNN_OK) {
        free(ok);
        return rc;
    }
    /* compact: good clips stay in order; slot w <= k so memmove never overwrites an unread clip */
    size_t w = 0;
    for (size_t k = 0; k < n; k++) {
        ids[k] = -1;
        if (!ok[k])
            continue;
        if (ds->num_clips + w > INT32_MAX) {
            free(ok);
            return qsnn_fail(QSNN_ERR_RANGE, "dataset: more than 2^31 clips");
        }
        if (w != k)
            memmove(dst + w * QSNN_CLIP_SAMPLES, dst + k * QSNN_CLIP_SAMPLES, QSNN_CLIP_SAMPLES * sizeof *dst);
        ds->clip_path[ds->num_clips + w] =
            prefix ? qsnn_data_join_path(prefix, cand[order[k]].rel) : strdup(cand[order[k]].rel);
        if (!ds->clip_path[ds->num_clips + w]) {
            ds->num_clips += w;
            free(ok);
            return qsnn_fail(QSNN_ERR_NOMEM, "dataset: out of memory");
        }
        ids[k] = (int32_t)(ds->num_clips + w);
        w++;
    }
    ds->num_clips += w;
    free(ok);
    return QSNN_OK;
}

/* ---------------------------------------------------------------- background noise */

/* Appends the usable recordings of dir/_background_noise_ to the dataset's noise pool (all directories of
 * qsnn_dataset_open_many share one pool). A recording equal, sample for sample, to one already in the pool is
 * not added twice (`qsnn synth --noise` copies the real recordings into a synthetic set). *added receives the
 * number of recordings of this directory that are usable (added or already present). */
qsnn_status qsnn_data_load_noise(qsnn_dataset *ds, const char *dir, int *added)
{
    *added = 0;
    char *bg = qsnn_data_join_path(dir, QSNN_DATA_BACKGROUND_DIR);
    if (!bg)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", dir);
    if (!qsnn_data_is_dir(bg)) {
        free(bg);
        return QSNN_OK;
    }
    qsnn_strvec files;
    qsnn_status rc = qsnn_data_list_dir(bg, 0, &files);
    if (rc != QSNN_OK) {
        free(bg);
        return rc;
    }
    size_t cap = (size_t)ds->num_noise + files.n + 1;
    float **nv = realloc(ds->noise, cap * sizeof *nv);
    if (nv)
        ds->noise = nv;
    size_t *nl = nv ? realloc(ds->noise_len, cap * sizeof *nl) : NULL;
    if (nl)
        ds->noise_len = nl;
    if (!nv || !nl) {
        qsnn_data_strvec_free(&files);
        free(bg);
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", dir);
    }
    for (size_t i = 0; i < files.n; i++) {
        char *full = qsnn_data_join_path(bg, files.v[i]);
        float *x = NULL;
        size_t n = 0;
        qsnn_status st = full ? qsnn_audio_read(full, &x, &n, NULL) : QSNN_ERR_NOMEM;
        if (st != QSNN_OK) {
            qsnn_warn("skipping background noise %s/%s/%s: %s", dir, QSNN_DATA_BACKGROUND_DIR, files.v[i],
                      qsnn_last_error());
        } else if (n < QSNN_CLIP_SAMPLES) {
            qsnn_warn("skipping background noise %s/%s/%s: %zu samples, shorter than one clip", dir,
                      QSNN_DATA_BACKGROUND_DIR, files.v[i], n);
            free(x);
        } else {
            int dup = 0;
            for (int k = 0; k < ds->num_noise && !dup; k++)
                dup = ds->noise_len[k] == n && memcmp(ds->noise[k], x, n * sizeof *x) == 0;
            if (dup) {
                free(x);
            } else {
                ds->noise[ds->num_noise] = x;
                ds->noise_len[ds->num_noise] = n;
                ds->num_noise++;
            }
            (*added)++;
        }
        free(full);
    }
    qsnn_data_strvec_free(&files);
    free(bg);
    return QSNN_OK;
}
