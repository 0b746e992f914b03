/* SPDX-License-Identifier: Apache-2.0 */
/* dataset.c: Speech Commands directory scanning, TensorFlow's split assignment and index building, and decoding
 * of the clips into memory (qsnn_dataset_open and its accessors).
 *
 * Layouts (detected by the presence of a _silence_ or _unknown_ folder):
 *   full: word folders, _background_noise_/, validation_list.txt, testing_list.txt. Every clip listed in neither
 *         list is training data. Without both list files, TF's which_set (SHA1 of the speaker part of the name,
 *         mod 2^27) assigns clips with opts->validation_pct / testing_pct.
 *   test: the released 12-class test set: _silence_ clips are label 0 (real silence recordings, used as they
 *         are), _unknown_ clips label 1, wanted-word folders their word, any other folder label 1. All test.
 *
 * Index building follows TF's input_data.py prepare_data_index (docs/design.md s2.3): per split, with n the
 * number of wanted-word clips, ceil(n * silence_pct / 100) silence entries and the first
 * ceil(n * unknown_pct / 100) of that split's shuffled unknown-word clips are added, then the split is shuffled;
 * splits are processed in TF's order (validation, testing, training) with one RNG.
 * Decision: the RNG is qsnn's xoshiro256** seeded with opts->seed (default 59185, TF's seed), not Python's
 * Mersenne Twister: matching random.shuffle bit for bit would also need TF's glob order of the files, which is
 * file-system dependent, so the exact TF index is not reproducible anyway. Ours is deterministic for a seed: files
 * are sorted bytewise by relative path before anything random happens.
 *
 * Memory: clips are decoded once, at open, into int16 (32 KB per clip). Only clips that enter the index are
 * decoded: every wanted-word clip, and unknown-word clips in shuffled order until the split's quota is met (a
 * clip that fails to decode is skipped, counted, named in a warning, and the next one taken). For the full
 * 105,829-clip dataset that is about 1.4 GB with the default 10 % unknown, and at most ~3.4 GB if every clip is
 * used (unknown_pct large): acceptable on a training machine. Background noise files are kept as float.
 * Decoding is parallel (OpenMP) over clips; progress goes to stderr from thread 0 only. */
#define _POSIX_C_SOURCE 200809L
#include "data/dataset_internal.h"

#include "qsnn/audio.h"
#include "qsnn/io.h"
#include "qsnn/snn.h" /* qsnn_label_valid */

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

#define DEFAULT_WORDS "down,go,left,no,off,on,right,stop,up,yes"

static qsnn_status check_opts(const qsnn_data_opts *o)
{
    if (!(o->silence_pct >= 0 && o->silence_pct <= 10000))
        return qsnn_fail(QSNN_ERR_ARG, "data options: silence_pct %g not in [0, 10000]", o->silence_pct);
    if (!(o->unknown_pct >= 0 && o->unknown_pct <= 10000))
        return qsnn_fail(QSNN_ERR_ARG, "data options: unknown_pct %g not in [0, 10000]", o->unknown_pct);
    if (!(o->validation_pct >= 0 && o->testing_pct >= 0 && o->validation_pct + o->testing_pct <= 100))
        return qsnn_fail(QSNN_ERR_ARG, "data options: validation_pct %g + testing_pct %g not in [0, 100]",
                         o->validation_pct, o->testing_pct);
    if (!(o->time_shift_ms >= 0 && o->time_shift_ms <= 1000))
        return qsnn_fail(QSNN_ERR_ARG, "data options: time_shift_ms %g not in [0, 1000]", o->time_shift_ms);
    if (!(o->background_volume >= 0 && o->background_volume <= 10))
        return qsnn_fail(QSNN_ERR_ARG, "data options: background_volume %g not in [0, 10]", o->background_volume);
    if (!(o->background_frequency >= 0 && o->background_frequency <= 1))
        return qsnn_fail(QSNN_ERR_ARG, "data options: background_frequency %g not in [0, 1]",
                         o->background_frequency);
    if (!(o->speed_pct >= 0 && o->speed_pct <= 50))
        return qsnn_fail(QSNN_ERR_ARG, "data options: speed_pct %g not in [0, 50]", o->speed_pct);
    if (!(o->level_db >= 0 && o->level_db <= 40))
        return qsnn_fail(QSNN_ERR_ARG, "data options: level_db %g not in [0, 40]", o->level_db);
    if (o->time_masks < 0 || o->time_masks > 10 || o->time_mask_max < 0 || o->time_mask_max > 49 ||
        o->freq_masks < 0 || o->freq_masks > 10 || o->freq_mask_max < 0 || o->freq_mask_max > 10)
        return qsnn_fail(QSNN_ERR_ARG, "data options: SpecAugment masks %d x %d frames, %d x %d coefficients out "
                         "of range (0..10 masks, at most 49 frames / 10 coefficients)", o->time_masks,
                         o->time_mask_max, o->freq_masks, o->freq_mask_max);
    return QSNN_OK;
}

static int cmp_label(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* Labels: _silence_, _unknown_, then the wanted words sorted bytewise. */
static qsnn_status parse_words(qsnn_dataset *ds, const char *words)
{
    strcpy(ds->labels[0], "_silence_");
    strcpy(ds->labels[1], "_unknown_");
    int n = 2;
    const char *p = words;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len == 0)
            return qsnn_fail(QSNN_ERR_ARG, "wanted words '%s': empty word", words);
        if (len >= QSNN_LABEL_MAX)
            return qsnn_fail(QSNN_ERR_ARG, "wanted words: '%.*s' longer than %d bytes", (int)len, p,
                             QSNN_LABEL_MAX - 1);
        if (n >= QSNN_MAX_LABELS)
            return qsnn_fail(QSNN_ERR_ARG, "wanted words: more than %d words", QSNN_MAX_LABELS - 2);
        memcpy(ds->labels[n], p, len);
        ds->labels[n][len] = '\0';
        if (!qsnn_label_valid(ds->labels[n]))
            return qsnn_fail(QSNN_ERR_ARG, "wanted words: '%s' has a character outside " QSNN_LABEL_CHARS,
                             ds->labels[n]);
        if (strchr(ds->labels[n], '/') || !strcmp(ds->labels[n], "_silence_") ||
            !strcmp(ds->labels[n], "_unknown_") || !strcmp(ds->labels[n], QSNN_DATA_BACKGROUND_DIR))
            return qsnn_fail(QSNN_ERR_ARG, "wanted words: '%s' cannot be a wanted word", ds->labels[n]);
        n++;
        if (!end)
            break;
        p = end + 1;
    }
    qsort(ds->labels[2], (size_t)(n - 2), QSNN_LABEL_MAX, cmp_label);
    for (int i = 3; i < n; i++)
        if (!strcmp(ds->labels[i], ds->labels[i - 1]))
            return qsnn_fail(QSNN_ERR_ARG, "wanted words: '%s' given twice", ds->labels[i]);
    ds->num_labels = n;
    return QSNN_OK;
}

/* Label of a word folder (TF lowercases the folder name), or -1 when it is not a wanted word. */
static int wanted_label(const qsnn_dataset *ds, const char *folder)
{
    char low[QSNN_LABEL_MAX];
    size_t len = strlen(folder);
    if (len >= sizeof low)
        return -1;
    for (size_t i = 0; i <= len; i++)
        low[i] = (char)tolower((unsigned char)folder[i]);
    for (int l = 2; l < ds->num_labels; l++)
        if (!strcmp(ds->labels[l], low))
            return l;
    return -1;
}

/* ---------------------------------------------------------------- open */

typedef struct {
    qsnn_candidate *v;
    size_t n, cap;
} candvec;

static void candvec_free(candvec *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].rel);
    free(c->v);
}

static int candvec_push(candvec *c, char *rel, int label, int split, int wanted)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        qsnn_candidate *nv = realloc(c->v, cap * sizeof *nv);
        if (!nv)
            return 0;
        c->v = nv;
        c->cap = cap;
    }
    c->v[c->n].rel = rel;
    c->v[c->n].label = label;
    c->v[c->n].split = split;
    c->v[c->n].wanted = wanted;
    c->n++;
    return 1;
}

/* Fisher-Yates on entries with the dataset RNG. */
static void shuffle_entries(qsnn_rng *r, qsnn_data_entry *e, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)qsnn_rng_below(r, i);
        qsnn_data_entry t = e[i - 1];
        e[i - 1] = e[j];
        e[j] = t;
    }
}

static size_t pct_count(size_t n, double pct)
{
    /* Python: math.ceil(set_size * percentage / 100) in double */
    double v = ceil((double)n * pct / 100.0);
    return v <= 0 ? 0 : (size_t)v;
}

/* Scan the folders into candidates with labels and splits. found[l] = 1 when label l has a folder (the caller
 * checks the wanted words, so that it can compare directories). */
static qsnn_status scan(qsnn_dataset *ds, const char *dir, candvec *cands, qsnn_layout *layout_out,
                        int found[QSNN_MAX_LABELS])
{
    qsnn_strvec folders;
    qsnn_status rc = qsnn_data_list_dir(dir, 1, &folders);
    if (rc != QSNN_OK)
        return rc;
    memset(found, 0, QSNN_MAX_LABELS * sizeof *found);
    qsnn_layout layout = QSNN_LAYOUT_FULL;
    for (size_t i = 0; i < folders.n; i++)
        if (!strcmp(folders.v[i], "_silence_") || !strcmp(folders.v[i], "_unknown_"))
            layout = QSNN_LAYOUT_TEST;
    *layout_out = layout;

    qsnn_strvec vlist = {0}, tlist = {0};
    int have_v = 0, have_t = 0;
    if (layout == QSNN_LAYOUT_FULL) {
        rc = qsnn_data_read_list(dir, "validation_list.txt", &vlist, &have_v);
        if (rc == QSNN_OK)
            rc = qsnn_data_read_list(dir, "testing_list.txt", &tlist, &have_t);
        if (rc != QSNN_OK) {
            qsnn_data_strvec_free(&folders);
            qsnn_data_strvec_free(&vlist);
            return rc;
        }
        if (have_v != have_t)
            qsnn_warn("%s: %s is missing: its split is empty (the other list file is used)", dir,
                      have_v ? "testing_list.txt" : "validation_list.txt");
        if (!have_v && !have_t)
            qsnn_info("%s: no list files: clips assigned with TensorFlow's which_set (%g %% validation, "
                      "%g %% test)", dir, ds->opts.validation_pct, ds->opts.testing_pct);
    }
    int use_lists = have_v || have_t;
    size_t listed_found = 0;

    for (size_t f = 0; f < folders.n && rc == QSNN_OK; f++) {
        const char *name = folders.v[f];
        int label, wanted = 1;
        if (!strcmp(name, QSNN_DATA_BACKGROUND_DIR))
            continue;
        if (layout == QSNN_LAYOUT_TEST) {
            if (!strcmp(name, "_silence_"))
                label = QSNN_LABEL_SILENCE;
            else if (!strcmp(name, "_unknown_"))
                label = QSNN_LABEL_UNKNOWN;
            else if ((label = wanted_label(ds, name)) < 0) {
                label = QSNN_LABEL_UNKNOWN;
                qsnn_warn("%s/%s: not a wanted word: its clips are labelled _unknown_", dir, name);
            }
        } else {
            label = wanted_label(ds, name);
            if (label < 0) {
                label = QSNN_LABEL_UNKNOWN;
                wanted = 0;
            }
        }
        char *sub = qsnn_data_join_path(dir, name);
        qsnn_strvec files;
        rc = sub ? qsnn_data_list_dir(sub, 0, &files) : qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", dir);
        free(sub);
        if (rc != QSNN_OK)
            break;
        if (files.n) /* an empty wanted-word folder counts as none: its class would be silently empty */
            found[label] = 1;
        for (size_t i = 0; i < files.n; i++) {
            char *rel = qsnn_data_join_path(name, files.v[i]);
            if (!rel) {
                rc = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", dir);
                break;
            }
            int split = QSNN_SPLIT_TEST;
            if (layout == QSNN_LAYOUT_FULL) {
                if (use_lists) {
                    split = QSNN_SPLIT_TRAIN;
                    if (qsnn_data_list_has(&vlist, rel)) {
                        split = QSNN_SPLIT_VALIDATION;
                        listed_found++;
                    } else if (qsnn_data_list_has(&tlist, rel)) {
                        split = QSNN_SPLIT_TEST;
                        listed_found++;
                    }
                } else {
                    split = qsnn_which_set(rel, ds->opts.validation_pct, ds->opts.testing_pct);
                }
            }
            if (!candvec_push(cands, rel, label, split, wanted)) {
                free(rel);
                rc = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", dir);
                break;
            }
        }
        qsnn_data_strvec_free(&files);
    }
    if (rc == QSNN_OK && use_lists && listed_found < vlist.n + tlist.n)
        qsnn_warn("%s: %zu clips named in the list files do not exist", dir, vlist.n + tlist.n - listed_found);
    qsnn_data_strvec_free(&folders);
    qsnn_data_strvec_free(&vlist);
    qsnn_data_strvec_free(&tlist);
    if (rc != QSNN_OK)
        return rc;
    return QSNN_OK;
}

/* Index of one directory, appended to the dataset's splits: the directory's entries are built, shuffled and
 * quota'd exactly as if it were opened alone (RNG seeded with opts.seed), so one directory's index does not
 * depend on the others. prefix: NULL, or the string put before the clip paths in the sources. */
static qsnn_status build_index(qsnn_dataset *ds, const char *dir, const char *prefix, qsnn_layout layout,
                               const candvec *cands)
{
    qsnn_status rc = QSNN_OK;
    size_t nc = cands->n;
    size_t *order = malloc(nc * sizeof *order);
    int32_t *ids = malloc(nc * sizeof *ids);
    size_t *unk[QSNN_SPLIT_COUNT] = {NULL, NULL, NULL};
    size_t nunk[QSNN_SPLIT_COUNT] = {0, 0, 0};
    size_t nwanted[QSNN_SPLIT_COUNT] = {0, 0, 0};
    size_t base[QSNN_SPLIT_COUNT] = {ds->count[0], ds->count[1], ds->count[2]};
    for (int s = 0; s < QSNN_SPLIT_COUNT; s++)
        unk[s] = malloc(nc * sizeof *unk[s]);
    if (!order || !ids || !unk[0] || !unk[1] || !unk[2]) {
        rc = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", dir);
        goto done;
    }
    size_t nfixed = 0;
    for (size_t i = 0; i < nc; i++) {
        if (cands->v[i].wanted)
            order[nfixed++] = i;
        else
            unk[cands->v[i].split][nunk[cands->v[i].split]++] = i;
    }

    /* the progress total counts the unknown clips we expect to need (exact unless some fail to decode) */
    size_t expect = nfixed;
    size_t wanted_split[QSNN_SPLIT_COUNT] = {0, 0, 0};
    for (size_t k = 0; k < nfixed; k++)
        wanted_split[cands->v[order[k]].split]++;
    for (int s = 0; s < QSNN_SPLIT_COUNT; s++) {
        size_t need = pct_count(wanted_split[s], ds->opts.unknown_pct);
        expect += need < nunk[s] ? need : nunk[s];
    }
    qsnn_decode_progress dp = {.done = 0};
    qsnn_progress_begin(&dp.prog, "decoding clips", "clips", expect);

    rc = qsnn_data_decode_append(ds, dir, prefix, cands->v, order, nfixed, ids, &dp);
    if (rc != QSNN_OK)
        goto done;
    /* per split, entries: wanted clips in scan order, silence, unknown clips */
    size_t cap[QSNN_SPLIT_COUNT];
    for (int s = 0; s < QSNN_SPLIT_COUNT; s++) {
        for (size_t k = 0; k < nfixed; k++)
            if (ids[k] >= 0 && cands->v[order[k]].split == s)
                nwanted[s]++;
        cap[s] = nwanted[s] + 1;
        if (layout == QSNN_LAYOUT_FULL) {
            cap[s] += pct_count(nwanted[s], ds->opts.silence_pct) + nunk[s];
        }
        qsnn_data_entry *e = realloc(ds->entries[s], (base[s] + cap[s]) * sizeof *e);
        if (!e) {
            rc = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", dir);
            goto done;
        }
        ds->entries[s] = e;
    }
    for (size_t k = 0; k < nfixed; k++) {
        if (ids[k] < 0)
            continue;
        int s = cands->v[order[k]].split;
        ds->entries[s][ds->count[s]].clip = ids[k];
        ds->entries[s][ds->count[s]].label = cands->v[order[k]].label;
        ds->count[s]++;
    }

    if (layout == QSNN_LAYOUT_FULL) {
        qsnn_rng rng;
        qsnn_rng_seed(&rng, ds->opts.seed);
        static const int tf_order[QSNN_SPLIT_COUNT] = {QSNN_SPLIT_VALIDATION, QSNN_SPLIT_TEST, QSNN_SPLIT_TRAIN};
        for (int oi = 0; oi < QSNN_SPLIT_COUNT; oi++) {
            int s = tf_order[oi];
            size_t nsil = pct_count(nwanted[s], ds->opts.silence_pct);
            for (size_t k = 0; k < nsil; k++) {
                ds->entries[s][ds->count[s]].clip = -1;
                ds->entries[s][ds->count[s]].label = QSNN_LABEL_SILENCE;
                ds->count[s]++;
            }
            qsnn_rng_shuffle_size(&rng, unk[s], nunk[s]);
            size_t need = pct_count(nwanted[s], ds->opts.unknown_pct), have = 0, next = 0;
            while (have < need && next < nunk[s]) {
                size_t take = need - have;
                if (take > nunk[s] - next)
                    take = nunk[s] - next;
                rc = qsnn_data_decode_append(ds, dir, prefix, cands->v, unk[s] + next, take, ids, &dp);
                if (rc != QSNN_OK)
                    goto done;
                for (size_t k = 0; k < take; k++) {
                    if (ids[k] < 0)
                        continue;
                    ds->entries[s][ds->count[s]].clip = ids[k];
                    ds->entries[s][ds->count[s]].label = QSNN_LABEL_UNKNOWN;
                    ds->count[s]++;
                    have++;
                }
                next += take;
            }
            if (have < need)
                qsnn_warn("%s: %s split: only %zu unknown-word clips for the %zu wanted (%g %%)", dir,
                          qsnn_split_name((qsnn_split)s), have, need, ds->opts.unknown_pct);
        }
        for (int oi = 0; oi < QSNN_SPLIT_COUNT; oi++) {
            int s = tf_order[oi];
            shuffle_entries(&rng, ds->entries[s] + base[s], ds->count[s] - base[s]);
        }
    }
    qsnn_progress_end(&dp.prog, dp.done, NULL);
done:
    free(order);
    free(ids);
    for (int s = 0; s < QSNN_SPLIT_COUNT; s++)
        free(unk[s]);
    return rc;
}

/* dir without its trailing slashes, as the prefix of its sources ("a/b/" and "a/b" give the same names) */
static char *dir_prefix(const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, dir, n);
        p[n] = '\0';
    }
    return p;
}

qsnn_status qsnn_dataset_open(qsnn_dataset **out, const char *dir, const qsnn_data_opts *opts)
{
    const char *const dirs[1] = {dir};
    return qsnn_dataset_open_many(out, dirs, 1, opts);
}

/* Wanted words: every directory needs a folder for each. With several directories, a word missing in one but
 * present in another means the directories were made for different label sets: the error names both. */
static qsnn_status check_words(const qsnn_dataset *ds, const char *const *dirs, int num_dirs, const int *found)
{
    for (int k = 0; k < num_dirs; k++)
        for (int l = 2; l < ds->num_labels; l++) {
            if (found[(size_t)k * QSNN_MAX_LABELS + (size_t)l])
                continue;
            for (int j = 0; j < num_dirs; j++)
                if (found[(size_t)j * QSNN_MAX_LABELS + (size_t)l])
                    return qsnn_fail(QSNN_ERR_ARG,
                                     "%s: wanted word '%s' has no folder (or an empty one), but %s has clips of it: "
                                     "the directories' label "
                                     "sets differ (every directory needs a folder for each wanted word; choose "
                                     "common words with --words)",
                                     dirs[k], ds->labels[l], dirs[j]);
            return qsnn_fail(QSNN_ERR_ARG, "%s: wanted word '%s' has no folder, or no .wav clips in it", dirs[k],
                             ds->labels[l]);
        }
    return QSNN_OK;
}

qsnn_status qsnn_dataset_open_many(qsnn_dataset **out, const char *const *dirs, int num_dirs,
                                   const qsnn_data_opts *opts)
{
    *out = NULL;
    if (!dirs || num_dirs < 1)
        return qsnn_fail(QSNN_ERR_ARG, "dataset: no directory given");
    if (num_dirs > QSNN_DATASET_MAX_DIRS)
        return qsnn_fail(QSNN_ERR_ARG, "dataset: %d directories, at most %d", num_dirs, QSNN_DATASET_MAX_DIRS);
    for (int k = 0; k < num_dirs; k++)
        if (!dirs[k])
            return qsnn_fail(QSNN_ERR_ARG, "dataset: no directory given");
    for (int k = 0; k < num_dirs; k++)
        for (int j = 0; j < k; j++)
            if (!strcmp(dirs[j], dirs[k]))
                return qsnn_fail(QSNN_ERR_ARG, "%s: directory given twice", dirs[k]);
    qsnn_dataset *ds = calloc(1, sizeof *ds);
    candvec *cands = calloc((size_t)num_dirs, sizeof *cands);
    qsnn_layout *layouts = calloc((size_t)num_dirs, sizeof *layouts);
    int *found = calloc((size_t)num_dirs * QSNN_MAX_LABELS, sizeof *found);
    int *noise_found = calloc((size_t)num_dirs, sizeof *noise_found);
    if (!ds || !cands || !layouts || !found || !noise_found) {
        free(ds);
        free(cands);
        free(layouts);
        free(found);
        free(noise_found);
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", dirs[0]);
    }
    if (opts)
        ds->opts = *opts;
    else
        qsnn_data_default_opts(&ds->opts);
    qsnn_status rc = check_opts(&ds->opts);
    if (rc == QSNN_OK)
        rc = parse_words(ds, ds->opts.wanted_words ? ds->opts.wanted_words : DEFAULT_WORDS);
    ds->opts.wanted_words = NULL; /* the caller's string is not kept */
    for (int k = 0; k < num_dirs && rc == QSNN_OK; k++)
        if (!qsnn_data_is_dir(dirs[k]))
            rc = qsnn_fail(QSNN_ERR_IO, "%s: not a directory", dirs[k]);
    /* scan every directory before decoding anything, so a label mismatch is reported at once */
    for (int k = 0; k < num_dirs && rc == QSNN_OK; k++)
        rc = scan(ds, dirs[k], &cands[k], &layouts[k], found + (size_t)k * QSNN_MAX_LABELS);
    if (rc == QSNN_OK)
        rc = check_words(ds, dirs, num_dirs, found);
    for (int k = 0; k < num_dirs && rc == QSNN_OK; k++)
        if (cands[k].n == 0)
            rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: no .wav clips in any folder (not a Speech Commands directory?)",
                           dirs[k]);
    if (rc == QSNN_OK)
        ds->layout = layouts[0];
    for (int k = 0; k < num_dirs && rc == QSNN_OK; k++) {
        char *prefix = NULL;
        if (num_dirs > 1 && !(prefix = dir_prefix(dirs[k])))
            rc = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", dirs[k]);
        if (rc == QSNN_OK)
            rc = build_index(ds, dirs[k], prefix, layouts[k], &cands[k]);
        free(prefix);
        candvec_free(&cands[k]);
        memset(&cands[k], 0, sizeof cands[k]);
        if (layouts[k] == QSNN_LAYOUT_FULL)
            ds->layout = QSNN_LAYOUT_FULL; /* full when any directory is */
    }
    for (int k = 0; k < num_dirs && rc == QSNN_OK; k++)
        rc = qsnn_data_load_noise(ds, dirs[k], &noise_found[k]);
    if (rc == QSNN_OK) {
        for (int k = 0; k < num_dirs; k++) {
            if (layouts[k] != QSNN_LAYOUT_FULL || noise_found[k])
                continue;
            if (ds->num_noise == 0)
                qsnn_warn("%s: no usable %s folder: silence entries are digital zeros and no noise is mixed in",
                          dirs[k], QSNN_DATA_BACKGROUND_DIR);
            else
                qsnn_info("%s: no usable %s folder: its silence entries and augmentation use the noise of the "
                          "other directories", dirs[k], QSNN_DATA_BACKGROUND_DIR);
        }
        if (ds->skipped)
            qsnn_warn("%s%s: %zu clips skipped (cannot be decoded)", dirs[0], num_dirs > 1 ? " and the others" : "",
                      ds->skipped);
    }
    for (int k = 0; k < num_dirs; k++)
        candvec_free(&cands[k]);
    free(cands);
    free(layouts);
    free(found);
    free(noise_found);
    if (rc != QSNN_OK) {
        qsnn_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return QSNN_OK;
}

void qsnn_dataset_free(qsnn_dataset *ds)
{
    if (!ds)
        return;
    for (size_t i = 0; i < ds->num_clips; i++)
        free(ds->clip_path[i]);
    free(ds->clip_path);
    free(ds->audio);
    for (int s = 0; s < QSNN_SPLIT_COUNT; s++)
        free(ds->entries[s]);
    for (int k = 0; k < ds->num_noise; k++)
        free(ds->noise[k]);
    free(ds->noise);
    free(ds->noise_len);
    free(ds);
}

int qsnn_dataset_num_labels(const qsnn_dataset *ds) { return ds->num_labels; }

const char *qsnn_dataset_label_name(const qsnn_dataset *ds, int label)
{
    if (label < 0 || label >= ds->num_labels)
        return NULL;
    return ds->labels[label];
}

size_t qsnn_dataset_count(const qsnn_dataset *ds, qsnn_split s)
{
    if ((int)s < 0 || s >= QSNN_SPLIT_COUNT)
        return 0;
    return ds->count[s];
}

int qsnn_dataset_label(const qsnn_dataset *ds, qsnn_split s, size_t i)
{
    if ((int)s < 0 || s >= QSNN_SPLIT_COUNT || i >= ds->count[s])
        return -1;
    return ds->entries[s][i].label;
}

const char *qsnn_dataset_source(const qsnn_dataset *ds, qsnn_split s, size_t i)
{
    if ((int)s < 0 || s >= QSNN_SPLIT_COUNT || i >= ds->count[s])
        return NULL;
    int32_t c = ds->entries[s][i].clip;
    return c < 0 ? "_silence_" : ds->clip_path[c];
}

size_t qsnn_dataset_num_skipped(const qsnn_dataset *ds) { return ds->skipped; }
