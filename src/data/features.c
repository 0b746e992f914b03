/* features.c: the loading of one evaluation split as uint8 (qsnn_data_load_split_u8), plus the chunked
 * whole-split feature computation with progress that the features command and the evaluation loader share.
 * The tutorial's uint8 scaling itself (qsnn_features_to_u8, docs/design.md s1.9) is in src/audio/frontend.c, the
 * libc-only front end that firmware builds too. */
#define _POSIX_C_SOURCE 200809L
#include "data/dataset_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

qsnn_status qsnn_data_split_features(const qsnn_dataset *ds, qsnn_split s, int augment, uint64_t seed,
                                     float *out, qsnn_progress *prog, size_t *done)
{
    size_t n = qsnn_dataset_count(ds, s);
    enum { BATCH = 256 };
    size_t idx[BATCH];
    for (size_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? n - i : BATCH;
        for (size_t k = 0; k < m; k++)
            idx[k] = i + k;
        qsnn_status rc = qsnn_dataset_features(ds, s, idx, m, augment, seed, out + i * QSNN_DATA_FEATURE_SIZE);
        if (rc != QSNN_OK)
            return rc;
        if (prog && done) {
            *done += m;
            qsnn_progress_update(prog, *done, NULL);
        }
    }
    return QSNN_OK;
}

static qsnn_status from_dataset(const char *path, qsnn_split s, float min, float max, const qsnn_data_opts *opts,
                                qsnn_featureset *out)
{
    qsnn_dataset *ds = NULL;
    qsnn_status rc = qsnn_dataset_open(&ds, path, opts);
    if (rc != QSNN_OK)
        return rc;
    size_t n = qsnn_dataset_count(ds, s), count;
    float *f = NULL;
    if (!qsnn_mul_size(&count, n, QSNN_DATA_FEATURE_SIZE)) {
        rc = qsnn_fail(QSNN_ERR_RANGE, "%s: too many samples", path);
        goto fail;
    }
    f = malloc((count ? count : 1) * sizeof *f);
    out->u8 = malloc(count ? count : 1);
    out->label = malloc((n ? n : 1) * sizeof *out->label);
    out->split = malloc(n ? n : 1);
    out->source = calloc(n ? n : 1, sizeof *out->source);
    if (!f || !out->u8 || !out->label || !out->split || !out->source) {
        rc = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory for %zu samples", path, n);
        goto fail;
    }
    out->n = n;
    out->h = QSNN_DATA_FRAMES;
    out->w = QSNN_DATA_COEFFS;
    out->is_u8 = 1;
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
    rc = qsnn_data_split_features(ds, s, 0, ds->opts.seed, f, &prog, &done);
    if (rc != QSNN_OK)
        goto fail;
    qsnn_progress_end(&prog, done, NULL);
    qsnn_features_to_u8(out->u8, f, count, min, max);
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
    struct stat st;
    if (stat(path, &st) != 0)
        return qsnn_fail(QSNN_ERR_IO, "%s: no such file or directory", path);
    if (S_ISDIR(st.st_mode))
        return from_dataset(path, s, min, max, opts, out);
    return from_file(path, s, min, max, out);
}
