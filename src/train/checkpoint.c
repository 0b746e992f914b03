/* SPDX-License-Identifier: Apache-2.0 */
/* checkpoint.c: trainer checkpoints. <dir>/state.qsnnckpt holds, little-endian:
 *   "QSNNCKPT" | u32 version (2) | u32 num_params | i32 ep_i | i32 epoch | f64 best_acc | u64 opts_hash |
 *   i64 adam_t | u32 num_records | records (i32 episode, i32 epoch, 6 x f64) | params | best | adam_m | adam_v
 *   | "END!" | u32 CRC-32 of every byte before it
 * (floats as raw IEEE-754 little-endian; this project targets little-endian hosts).
 * Written atomically after every epoch, so a killed run loses at most the epoch in progress. The loader checks
 * the whole file before it changes anything: magic, version, sizes, option hash, checksum, the position against
 * the run's episodes and epochs, every record, and that every value is finite (Adam's second moment >= 0).
 * Version 1 files (no checksum) are refused: they cannot be told from a corrupt file. Every refusal ends with
 * how to start over. */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/io.h"

#include "train/train_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CKPT_MAGIC "QSNNCKPT"
#define CKPT_VERSION 2u
#define START_OVER "delete the folder (or run without --resume) to start over"

typedef struct {
    qsnn_atomic_file f;
    uint32_t crc;
} ckpt_writer;

static qsnn_status w(ckpt_writer *cw, const void *p, size_t n)
{
    cw->crc = qsnn_crc32(cw->crc, p, n);
    return qsnn_atomic_write(&cw->f, p, n);
}

qsnn_status qsnn_ckpt_save(const char *dir, qsnn_trainer *t, const qsnn_model *m, const float *best,
                           const qsnn_ckpt_state *cs, const qsnn_train_result *res)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.qsnn", dir);
    qsnn_status st = qsnn_model_save(m, path);
    if (st != QSNN_OK)
        return st;
    snprintf(path, sizeof path, "%s/state.qsnnckpt", dir);
    ckpt_writer cw = {.crc = 0};
    if ((st = qsnn_atomic_open(&cw.f, path)) != QSNN_OK)
        return st;
    uint32_t ver = CKPT_VERSION, np = (uint32_t)m->num_params, nrec = (uint32_t)res->num_records;
    int32_t ep_i = cs->ep_i, epoch = cs->epoch;
    int64_t at = *qsnn_trainer_adam_t(t);
    w(&cw, CKPT_MAGIC, 8);
    w(&cw, &ver, 4);
    w(&cw, &np, 4);
    w(&cw, &ep_i, 4);
    w(&cw, &epoch, 4);
    w(&cw, &cs->best_acc, 8);
    w(&cw, &cs->opts_hash, 8);
    w(&cw, &at, 8);
    w(&cw, &nrec, 4);
    for (uint32_t i = 0; i < nrec; i++) {
        const qsnn_epoch_record *r = &res->records[i];
        int32_t e = r->episode, k = r->epoch;
        double v[6] = {r->loss, r->train_acc, r->val_acc, r->lr, r->samples_per_s, r->seconds};
        w(&cw, &e, 4);
        w(&cw, &k, 4);
        w(&cw, v, sizeof v);
    }
    w(&cw, m->params, np * sizeof(float));
    w(&cw, best, np * sizeof(float));
    w(&cw, qsnn_trainer_adam_m(t), np * sizeof(float));
    w(&cw, qsnn_trainer_adam_v(t), np * sizeof(float));
    w(&cw, "END!", 4);
    uint32_t crc = cw.crc;
    st = qsnn_atomic_write(&cw.f, &crc, 4);
    if (st != QSNN_OK) {
        qsnn_atomic_abort(&cw.f);
        return st;
    }
    return qsnn_atomic_commit(&cw.f);
}

/* Reads that feed the checksum. */
typedef struct {
    FILE *fp;
    const char *path;
    uint32_t crc;
} ckpt_reader;

static qsnn_status rd(ckpt_reader *r, void *dst, size_t n, const char *what)
{
    qsnn_status st = qsnn_read_exact(r->fp, dst, n, r->path, what);
    if (st == QSNN_OK)
        r->crc = qsnn_crc32(r->crc, dst, n);
    else
        qsnn_fail(st, "%s: truncated (%s): " START_OVER, r->path, what);
    return st;
}

static qsnn_status refuse(qsnn_status st, const char *path, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return qsnn_fail(st, "%s: %s: " START_OVER, path, why);
}

/* Index of the first non-finite value of x[n] (or of a negative one when nonneg), n when none. */
static size_t first_bad(const float *x, size_t n, int nonneg)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]) || (nonneg && x[i] < 0.0f))
            return i;
    return n;
}

qsnn_status qsnn_ckpt_load(const char *dir, const qsnn_train_opts *o, qsnn_trainer *t, qsnn_model *m, float *best,
                           qsnn_ckpt_state *cs, qsnn_train_result *res)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/state.qsnnckpt", dir);
    FILE *fp;
    qsnn_status open_st = qsnn_open_regular(path, &fp);
    if (open_st != QSNN_OK)
        return qsnn_fail(QSNN_ERR_IO, "%s: " START_OVER, qsnn_last_error());
    ckpt_reader r = {fp, path, 0};
    qsnn_status st = QSNN_OK;
    float *buf = NULL;
    char magic[8];
    uint32_t ver, np, nrec;
    int32_t ep_i, epoch;
    double best_acc;
    uint64_t hash;
    int64_t at;
    if ((st = rd(&r, magic, 8, "magic")) || (st = rd(&r, &ver, 4, "version")))
        goto out;
    if (memcmp(magic, CKPT_MAGIC, 8)) {
        st = refuse(QSNN_ERR_FORMAT, path, "not a qsnn checkpoint (bad magic)");
        goto out;
    }
    if (ver != CKPT_VERSION) {
        st = refuse(QSNN_ERR_FORMAT, path, "version %u, this qsnn reads version %u%s", ver, CKPT_VERSION,
                    ver == 1 ? " (version 1 has no checksum)" : "");
        goto out;
    }
    if ((st = rd(&r, &np, 4, "num_params")) || (st = rd(&r, &ep_i, 4, "episode")) ||
        (st = rd(&r, &epoch, 4, "epoch")) || (st = rd(&r, &best_acc, 8, "best")) ||
        (st = rd(&r, &hash, 8, "options")) || (st = rd(&r, &at, 8, "adam step")) || (st = rd(&r, &nrec, 4, "records")))
        goto out;
    if (np != m->num_params) {
        st = refuse(QSNN_ERR_FORMAT, path, "num_params %u, the model has %zu", np, m->num_params);
        goto out;
    }
    if (hash != cs->opts_hash) {
        st = refuse(QSNN_ERR_ARG, path, "made with different training options or data (episodes, epochs, batch, "
                                        "seed, schedule, learning rates or training-set size differ)");
        goto out;
    }
    /* the position must be one this run reaches: episode index < episodes run, epoch <= that episode's epochs */
    if (ep_i < 0 || ep_i >= o->num_episodes) {
        st = refuse(QSNN_ERR_FORMAT, path, "episode index %d out of range (the run has %d episodes)", (int)ep_i,
                    o->num_episodes);
        goto out;
    }
    if (epoch < 0 || epoch > o->epochs[ep_i]) {
        st = refuse(QSNN_ERR_FORMAT, path, "epoch %d out of range (episode %d has %d epochs)", (int)epoch,
                    o->episodes[ep_i], o->epochs[ep_i]);
        goto out;
    }
    size_t done_epochs = (size_t)epoch;
    for (int i = 0; i < ep_i; i++)
        done_epochs += (size_t)o->epochs[i];
    const size_t cap = sizeof res->records / sizeof res->records[0]; /* the trainer keeps the first `cap` */
    if (nrec != (done_epochs < cap ? done_epochs : cap)) {
        st = refuse(QSNN_ERR_FORMAT, path, "%u epoch records, the position says %zu epochs are done", nrec,
                    done_epochs);
        goto out;
    }
    if (at < 0 || !(isfinite(best_acc) && best_acc >= -1.0 && best_acc <= 1e9)) {
        st = refuse(QSNN_ERR_FORMAT, path, "Adam step %lld or best score %g out of range", (long long)at, best_acc);
        goto out;
    }
    qsnn_epoch_record recs[1024];
    for (uint32_t i = 0; i < nrec; i++) {
        int32_t e, k;
        double v[6];
        if ((st = rd(&r, &e, 4, "record")) || (st = rd(&r, &k, 4, "record")) || (st = rd(&r, v, sizeof v, "record")))
            goto out;
        int ok = e >= 1 && e <= 3 && k >= 1 && k <= 100000;
        for (int j = 0; j < 6; j++)
            ok = ok && isfinite(v[j]);
        if (!ok) {
            st = refuse(QSNN_ERR_FORMAT, path, "epoch record %u (episode %d epoch %d) out of range or not finite",
                        i, (int)e, (int)k);
            goto out;
        }
        recs[i] = (qsnn_epoch_record){e, k, v[0], v[1], v[2], v[3], v[4], v[5]};
    }
    buf = malloc(4 * (size_t)np * sizeof(float) + 4);
    if (!buf) {
        st = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    if ((st = rd(&r, buf, 4 * (size_t)np * sizeof(float), "arrays")))
        goto out;
    char end[5] = {0};
    uint32_t crc_file, crc = 0;
    if ((st = rd(&r, end, 4, "trailer")))
        goto out;
    crc = r.crc;
    if ((st = rd(&r, &crc_file, 4, "checksum")))
        goto out;
    if (memcmp(end, "END!", 4) || fgetc(fp) != EOF) {
        st = refuse(QSNN_ERR_FORMAT, path, "bad trailer");
        goto out;
    }
    if (crc != crc_file) {
        st = refuse(QSNN_ERR_FORMAT, path, "checksum mismatch (file %08x, content %08x): corrupt", crc_file, crc);
        goto out;
    }
    static const char *const names[4] = {"parameters", "best parameters", "Adam first moment", "Adam second moment"};
    for (int a = 0; a < 4; a++) {
        size_t i = first_bad(buf + (size_t)a * np, np, a == 3);
        if (i < np) {
            st = refuse(QSNN_ERR_FORMAT, path, "%s[%zu] = %g is not a finite%s value", names[a], i,
                        (double)buf[(size_t)a * np + i], a == 3 ? " non-negative" : "");
            goto out;
        }
    }
    /* all valid: apply */
    memcpy(m->params, buf, np * sizeof(float));
    memcpy(best, buf + np, np * sizeof(float));
    memcpy(qsnn_trainer_adam_m(t), buf + 2 * (size_t)np, np * sizeof(float));
    memcpy(qsnn_trainer_adam_v(t), buf + 3 * (size_t)np, np * sizeof(float));
    *qsnn_trainer_adam_t(t) = at;
    cs->ep_i = ep_i;
    cs->epoch = epoch;
    cs->best_acc = best_acc;
    res->num_records = nrec;
    memcpy(res->records, recs, nrec * sizeof recs[0]);
out:
    free(buf);
    fclose(fp);
    return st;
}
