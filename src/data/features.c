/* SPDX-License-Identifier: Apache-2.0 */
/* features.c: the loading of one evaluation split as uint8 (qsnn_data_load_split_u8), plus the chunked
 * whole-split feature computation with progress that the features command and the evaluation loader share.
 * The tutorial's uint8 scaling itself (qsnn_features_to_u8, docs/design.md s1.9) is in src/audio/mfcc_device.c,
 * the libc-only front end that firmware builds too. */
#define _POSIX_C_SOURCE 200809L
#include "data/dataset_internal.h"

#include "qsnn/io.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

qsnn_status qsnn_data_split_features(const qsnn_dataset *ds, qsnn_split s, int augment, uint64_t seed,
                                     float *out, qsnn_progress *prog, size_t *done)
{
    return qsnn_data_split_features_fe(ds, s, augment, seed, NULL, out, prog, done);
}

qsnn_status qsnn_data_split_features_fe(const qsnn_dataset *ds, qsnn_split s, int augment, uint64_t seed,
                                        const qsnn_frontend_params *fe, float *out, qsnn_progress *prog,
                                        size_t *done)
{
    size_t n = qsnn_dataset_count(ds, s), per = QSNN_DATA_FEATURE_SIZE;
    if (fe)
        per = (size_t)qsnn_frontend_num_frames(fe) * (size_t)fe->num_coeffs;
    enum { BATCH = 256 };
    size_t idx[BATCH];
    for (size_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? n - i : BATCH;
        for (size_t k = 0; k < m; k++)
            idx[k] = i + k;
        qsnn_status rc = qsnn_dataset_features_fe(ds, s, idx, m, augment, seed, fe, out + i * per);
        if (rc != QSNN_OK)
            return rc;
        if (prog && done) {
            *done += m;
            qsnn_progress_update(prog, *done, NULL);
        }
    }
    return QSNN_OK;
}

/* fe NULL: the default MFCC scaled to uint8 with [min, max]; else fe's features as float (is_u8 = 0). */
static qsnn_status from_dataset(const char *path, qsnn_split s, float min, float max, const qsnn_data_opts *opts,
                                const qsnn_frontend_params *fe, qsnn_featureset *out)
{
    qsnn_dataset *ds = NULL;
    qsnn_status rc = fe ? qsnn_frontend_validate(fe) : QSNN_OK;
    if (rc == QSNN_OK)
        rc = qsnn_dataset_open(&ds, path, opts);
    if (rc != QSNN_OK)
        return rc;
    const int fh = fe ? qsnn_frontend_num_frames(fe) : QSNN_DATA_FRAMES, fw = fe ? fe->num_coeffs : QSNN_DATA_COEFFS;
    size_t n = qsnn_dataset_count(ds, s), count;
    float *f = NULL;
    if (!qsnn_mul_size(&count, n, (size_t)fh * (size_t)fw)) {
        rc = qsnn_fail(QSNN_ERR_RANGE, "%s: too many samples", path);
        goto fail;
    }
    f = malloc((count ? count : 1) * sizeof *f);
    out->u8 = fe ? NULL : malloc(count ? count : 1);
    out->label = malloc((n ? n : 1) * sizeof *out->label);
    out->split = malloc(n ? n : 1);
    out->source = calloc(n ? n : 1, sizeof *out->source);
    if (!f || (!fe && !out->u8) || !out->label || !out->split || !out->source) {
        rc = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory for %zu samples", path, n);
        goto fail;
    }
    out->n = n;
    out->h = fh;
    out->w = fw;
    out->is_u8 = !fe;
    out->scale_min = min;
    out->scale_max = max;
    out->num_labels = qsnn_dataset_num_labels(ds);
    for (int l = 0; l < out->num_labels; l++)
        snprintf(out->labels[l], QSNN_LABEL_MAX, "%s", qsnn_dataset_label_name(ds, l));
    for (size_t i = 0; i < n; i++) {
        out->label[i] = qsnn_dataset_label(ds, s, i);
        out->split[i] = (uint8_t)s;
        out->source[i] = strdup(qsnn_dataset_source(ds, s, i));
        if (!out->source[i]) {
            rc = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
            goto fail;
        }
    }
    qsnn_progress prog;
    size_t done = 0;
    qsnn_progress_begin(&prog, "computing features", "samples", n);
    rc = qsnn_data_split_features_fe(ds, s, 0, ds->opts.seed, fe, f, &prog, &done);
    if (rc != QSNN_OK)
        goto fail;
    qsnn_progress_end(&prog, done, NULL);
    if (fe) {
        out->f32 = f;
        f = NULL;
    } else {
        qsnn_features_to_u8(out->u8, f, count, min, max);
    }
    free(f);
    qsnn_dataset_free(ds);
    return QSNN_OK;
fail:
    free(f);
    qsnn_dataset_free(ds);
    qsnn_featureset_free(out);
    return rc;
}

static qsnn_status from_file(const char *path, qsnn_split s, float min, float max, qsnn_featureset *out)
{
    qsnn_featureset fs;
    qsnn_status rc = qsnn_featureset_load(&fs, path);
    if (rc != QSNN_OK)
        return rc;
    if (fs.is_u8 && (fs.scale_min != min || fs.scale_max != max)) {
        rc = qsnn_fail(QSNN_ERR_UNSUPPORTED,
                       "%s: holds uint8 features scaled with [%.9g, %.9g], asked for [%.9g, %.9g]: recompute the "
                       "file with float features (qsnn features without --u8)",
                       path, (double)fs.scale_min, (double)fs.scale_max, (double)min, (double)max);
        qsnn_featureset_free(&fs);
        return rc;
    }
    size_t per = (size_t)fs.h * (size_t)fs.w, n = 0;
    for (size_t i = 0; i < fs.n; i++)
        n += fs.split[i] == (uint8_t)s;
    out->n = n;
    out->h = fs.h;
    out->w = fs.w;
    out->num_labels = fs.num_labels;
    memcpy(out->labels, fs.labels, sizeof out->labels);
    out->is_u8 = 1;
    out->scale_min = min;
    out->scale_max = max;
    out->u8 = malloc(n > 0 ? n * per : 1); /* n * per <= fs.n * per, which the loader checked */
    out->label = malloc((n ? n : 1) * sizeof *out->label);
    out->split = malloc(n ? n : 1);
    out->source = calloc(n ? n : 1, sizeof *out->source);
    if (!out->u8 || !out->label || !out->split || !out->source) {
        qsnn_featureset_free(&fs);
        qsnn_featureset_free(out);
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t j = 0;
    for (size_t i = 0; i < fs.n; i++) {
        if (fs.split[i] != (uint8_t)s)
            continue;
        if (fs.is_u8)
            memcpy(out->u8 + j * per, fs.u8 + i * per, per);
        else
            qsnn_features_to_u8(out->u8 + j * per, fs.f32 + i * per, per, min, max);
        out->label[j] = fs.label[i];
        out->split[j] = (uint8_t)s;
        out->source[j] = fs.source[i]; /* ownership moves */
        fs.source[i] = NULL;
        j++;
    }
    qsnn_featureset_free(&fs);
    return QSNN_OK;
}

qsnn_status qsnn_data_load_split_u8(const char *path, qsnn_split s, float min, float max,
                                    const qsnn_data_opts *opts, qsnn_featureset *out)
{
    memset(out, 0, sizeof *out);
    if (!path || (int)s < 0 || s >= QSNN_SPLIT_COUNT)
        return qsnn_fail(QSNN_ERR_ARG, "load split: bad arguments");
    if (!(min < max) || min != min || max != max)
        return qsnn_fail(QSNN_ERR_ARG, "load split: scaling range [%g, %g] invalid", (double)min, (double)max);
    qsnn_file_kind kind = qsnn_file_kind_of(path);
    if (kind == QSNN_FILE_UNREADABLE)
        return qsnn_fail(QSNN_ERR_IO, "%s: no such file or directory", path);
    if (kind == QSNN_FILE_DIR)
        return from_dataset(path, s, min, max, opts, NULL, out);
    return from_file(path, s, min, max, out);
}

qsnn_status qsnn_featureset_check_model(const qsnn_featureset *fs, const char *data_path, const qsnn_model_expect *m)
{
    if (fs->h != m->in_h || fs->w != m->in_w)
        return qsnn_fail(QSNN_ERR_SHAPE, "%s: features are %dx%d, the model %s takes %dx%d", data_path, fs->h, fs->w,
                         m->path, m->in_h, m->in_w);
    if (fs->num_labels != m->num_labels)
        return qsnn_fail(QSNN_ERR_SHAPE, "%s: %d labels, the model %s has %d classes", data_path, fs->num_labels,
                         m->path, m->num_labels);
    for (int i = 0; m->labels && i < m->num_labels; i++)
        if (strcmp(fs->labels[i], m->labels[i]) != 0)
            return qsnn_fail(QSNN_ERR_SHAPE, "%s: label %d is '%s', the model %s has '%s' there (other words, or "
                                             "another order: pass the model's words with --words)",
                             data_path, i, fs->labels[i], m->path, m->labels[i]);
    return QSNN_OK;
}

void qsnn_data_opts_words_of(qsnn_data_opts *o, char *buf, size_t cap, const char *const *labels, int num_labels)
{
    if (!labels || num_labels < 3 || cap == 0 || strcmp(labels[0], "_silence_") || strcmp(labels[1], "_unknown_"))
        return;
    buf[0] = 0;
    size_t len = 0;
    for (int i = 2; i < num_labels; i++) {
        int n = snprintf(buf + len, cap - len, "%s%s", i > 2 ? "," : "", labels[i]);
        if (n < 0 || (size_t)n >= cap - len)
            return; /* does not fit: keep the default words (the label check then says what differs) */
        len += (size_t)n;
    }
    o->wanted_words = buf;
}

qsnn_status qsnn_data_load_split_fe(const char *path, qsnn_split s, const qsnn_frontend_params *fe,
                                    const qsnn_data_opts *opts, qsnn_featureset *out)
{
    memset(out, 0, sizeof *out);
    if (!path || !fe || (int)s < 0 || s >= QSNN_SPLIT_COUNT)
        return qsnn_fail(QSNN_ERR_ARG, "load split: bad arguments");
    qsnn_file_kind kind = qsnn_file_kind_of(path);
    if (kind == QSNN_FILE_UNREADABLE)
        return qsnn_fail(QSNN_ERR_IO, "%s: no such file or directory", path);
    if (kind != QSNN_FILE_DIR)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: a feature file holds tf-audio-ops MFCC; a model with %s features "
                         "needs the dataset directory", path, qsnn_frontend_name(fe->kind));
    return from_dataset(path, s, 0.0f, 0.0f, opts, fe, out);
}

qsnn_status qsnn_labels_map(int *map, const char *const *from, int n_from, const char *const *to, int n_to)
{
    if (n_from != n_to)
        return qsnn_fail(QSNN_ERR_SHAPE, "labels: the model has %d classes, the data %d", n_from, n_to);
    for (int i = 0; i < n_from; i++) {
        map[i] = -1;
        for (int j = 0; j < n_to && map[i] < 0; j++)
            if (!strcmp(from[i], to[j]))
                map[i] = j;
        if (map[i] < 0) {
            char names[512] = "";
            for (int j = 0; j < n_to; j++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? "," : "", to[j]);
            return qsnn_fail(QSNN_ERR_ARG, "labels: the model's class %d '%s' is not among the data's (%s); import "
                             "the model with --labels", i, from[i], names);
        }
    }
    return QSNN_OK;
}
