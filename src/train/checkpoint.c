/* checkpoint.c: trainer checkpoints. <dir>/state.qsnnckpt holds, little-endian:
 *   "QSNNCKPT" | u32 version (1) | u32 num_params | i32 ep_i | i32 epoch | f64 best_acc | u64 opts_hash |
 *   i64 adam_t | u32 num_records | records (i32 episode, i32 epoch, 6 x f64) | params | best | adam_m | adam_v
 * (floats as raw IEEE-754 little-endian; this project targets little-endian hosts) | u32 CRC-free trailer "END!".
 * Written atomically after every epoch, so a killed run loses at most the epoch in progress. The loader checks
 * the whole file (magic, version, sizes, option hash, trailer) before it changes anything. */
#define _POSIX_C_SOURCE 200809L
#include "qsnn/io.h"

#include "train/train_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CKPT_MAGIC "QSNNCKPT"
#define CKPT_VERSION 1u

static qsnn_status w(qsnn_atomic_file *f, const void *p, size_t n) { return qsnn_atomic_write(f, p, n); }

qsnn_status qsnn_ckpt_save(const char *dir, qsnn_trainer *t, const qsnn_model *m, const float *best,
                           const qsnn_ckpt_state *cs, const qsnn_train_result *res)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.qsnn", dir);
    qsnn_status st = qsnn_model_save(m, path);
    if (st != QSNN_OK)
        return st;
    snprintf(path, sizeof path, "%s/state.qsnnckpt", dir);
    qsnn_atomic_file f;
    if ((st = qsnn_atomic_open(&f, path)) != QSNN_OK)
        return st;
    uint32_t ver = CKPT_VERSION, np = (uint32_t)m->num_params, nrec = (uint32_t)res->num_records;
    int32_t ep_i = cs->ep_i, epoch = cs->epoch;
    int64_t at = *qsnn_trainer_adam_t(t);
    w(&f, CKPT_MAGIC, 8);
    w(&f, &ver, 4);
    w(&f, &np, 4);
    w(&f, &ep_i, 4);
    w(&f, &epoch, 4);
    w(&f, &cs->best_acc, 8);
    w(&f, &cs->opts_hash, 8);
    w(&f, &at, 8);
    w(&f, &nrec, 4);
    for (uint32_t i = 0; i < nrec; i++) {
        const qsnn_epoch_record *r = &res->records[i];
        int32_t e = r->episode, k = r->epoch;
        double v[6] = {r->loss, r->train_acc, r->val_acc, r->lr, r->samples_per_s, r->seconds};
        w(&f, &e, 4);
        w(&f, &k, 4);
        w(&f, v, sizeof v);
    }
    w(&f, m->params, np * sizeof(float));
    w(&f, best, np * sizeof(float));
    w(&f, qsnn_trainer_adam_m(t), np * sizeof(float));
    st = w(&f, qsnn_trainer_adam_v(t), np * sizeof(float));
    st = w(&f, "END!", 4);
    if (st != QSNN_OK) {
        qsnn_atomic_abort(&f);
        return st;
    }
    return qsnn_atomic_commit(&f);
}

qsnn_status qsnn_ckpt_load(const char *dir, qsnn_trainer *t, qsnn_model *m, float *best, qsnn_ckpt_state *cs,
                           qsnn_train_result *res)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/state.qsnnckpt", dir);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot open checkpoint", path);
    qsnn_status st = QSNN_OK;
    float *buf = NULL;
    char magic[8];
    uint32_t ver, np, nrec;
    int32_t ep_i, epoch;
    double best_acc;
    uint64_t hash;
    int64_t at;
    if ((st = qsnn_read_exact(fp, magic, 8, path, "magic")) || (st = qsnn_read_exact(fp, &ver, 4, path, "version")) ||
        (st = qsnn_read_exact(fp, &np, 4, path, "num_params")) || (st = qsnn_read_exact(fp, &ep_i, 4, path, "episode")) ||
        (st = qsnn_read_exact(fp, &epoch, 4, path, "epoch")) || (st = qsnn_read_exact(fp, &best_acc, 8, path, "best")) ||
        (st = qsnn_read_exact(fp, &hash, 8, path, "options")) || (st = qsnn_read_exact(fp, &at, 8, path, "adam step")) ||
        (st = qsnn_read_exact(fp, &nrec, 4, path, "records")))
        goto out;
    if (memcmp(magic, CKPT_MAGIC, 8)) {
        st = qsnn_fail(QSNN_ERR_FORMAT, "%s: not a qsnn checkpoint (bad magic)", path);
        goto out;
    }
    if (ver != CKPT_VERSION) {
        st = qsnn_fail(QSNN_ERR_FORMAT, "%s: version %u, expected %u", path, ver, CKPT_VERSION);
        goto out;
    }
    if (np != m->num_params) {
        st = qsnn_fail(QSNN_ERR_FORMAT, "%s: num_params %u, the model has %zu", path, np, m->num_params);
        goto out;
    }
    if (hash != cs->opts_hash) {
        st = qsnn_fail(QSNN_ERR_ARG, "%s: made with different training options or data (episodes, epochs, batch, "
                                     "seed, schedule, learning rates or training-set size differ)", path);
        goto out;
    }
    if (ep_i < 0 || ep_i > 3 || epoch < 0 || at < 0 || nrec > sizeof res->records / sizeof res->records[0]) {
        st = qsnn_fail(QSNN_ERR_FORMAT, "%s: position or record count out of range", path);
        goto out;
    }
    qsnn_epoch_record recs[1024];
    for (uint32_t i = 0; i < nrec; i++) {
        int32_t e, k;
        double v[6];
        if ((st = qsnn_read_exact(fp, &e, 4, path, "record")) || (st = qsnn_read_exact(fp, &k, 4, path, "record")) ||
            (st = qsnn_read_exact(fp, v, sizeof v, path, "record")))
            goto out;
        recs[i] = (qsnn_epoch_record){e, k, v[0], v[1], v[2], v[3], v[4], v[5]};
    }
    buf = malloc(4 * (size_t)np * sizeof(float) + 4);
    if (!buf) {
        st = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    if ((st = qsnn_read_exact(fp, buf, 4 * (size_t)np * sizeof(float), path, "arrays")))
        goto out;
    char end[5] = {0};
    if ((st = qsnn_read_exact(fp, end, 4, path, "trailer")))
        goto out;
    if (memcmp(end, "END!", 4) || fgetc(fp) != EOF) {
        st = qsnn_fail(QSNN_ERR_FORMAT, "%s: bad trailer", path);
        goto out;
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
