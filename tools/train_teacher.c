/* SPDX-License-Identifier: Apache-2.0 */
/* train_teacher.c: the teacher of `qsnn train --teacher MODEL`: any float qsnn model (one qsnn trained, or one
 * imported from TFLite) labels every augmented training clip of an epoch, once per epoch. It is given the same
 * augmented clip as the student (qsnn_dataset_features_fe with the epoch's seed: shift, noise, speed, level; not
 * the student's SpecAugment masks) through its own front end, runs batched float32 inference (qsnn_infer), and
 * its probabilities at temperature T are restricted to the dataset's labels (mapped by name) and renormalised.
 * Work goes in chunks of clips so memory stays small on the full dataset. */
#include "train_teacher.h"

#include "qsnn/core.h"

#include <stdlib.h>
#include <string.h>

enum { CHUNK = 512 };

qsnn_status teacher_open(teacher_ctx *tc, const char *path, const qsnn_dataset *ds, int threads)
{
    memset(tc, 0, sizeof *tc);
    qsnn_status st = qsnn_model_load(&tc->m, path);
    if (st != QSNN_OK)
        return st;
    tc->m.quant_acts = 0; /* a teacher runs as a float model whatever episode it was saved after */
    tc->m.quant_weights = 0;
    tc->K = tc->m.arch.num_classes;
    tc->num_labels = qsnn_dataset_num_labels(ds);
    const int nl = tc->m.num_labels > 0 ? tc->m.num_labels : tc->K;
    for (int d = 0; d < tc->num_labels; d++) {
        const char *name = qsnn_dataset_label_name(ds, d);
        tc->map[d] = -1;
        for (int k = 0; k < nl && k < tc->K; k++)
            if (!strcmp(tc->m.labels[k], name))
                tc->map[d] = k;
        if (tc->map[d] < 0) {
            qsnn_model_free(&tc->m);
            return qsnn_fail(QSNN_ERR_SHAPE, "%s: the teacher has no label '%s' (set its labels with qsnn import "
                             "--labels)", path, name);
        }
    }
    tc->in_sz = qsnn_model_input_size(&tc->m);
    if ((st = qsnn_infer_create(&tc->inf, &tc->m, threads)) != QSNN_OK) {
        qsnn_model_free(&tc->m);
        return st;
    }
    tc->x = malloc((size_t)CHUNK * tc->in_sz * sizeof *tc->x);
    tc->logits = malloc((size_t)CHUNK * (size_t)tc->K * sizeof *tc->logits);
    if (!tc->x || !tc->logits) {
        teacher_close(tc);
        return qsnn_fail(QSNN_ERR_NOMEM, "teacher: out of memory");
    }
    return QSNN_OK;
}

void teacher_close(teacher_ctx *tc)
{
    if (tc->inf)
        qsnn_infer_destroy(tc->inf);
    qsnn_model_free(&tc->m);
    free(tc->x);
    free(tc->logits);
    memset(tc, 0, sizeof *tc);
}

qsnn_status teacher_soft_targets(teacher_ctx *tc, const qsnn_dataset *ds, const size_t *idx, size_t n,
                                 uint64_t seed, float T, float *out)
{
    const double t0 = qsnn_time_now();
    const int D = tc->num_labels;
    float z[QSNN_MAX_LABELS];
    for (size_t c0 = 0; c0 < n; c0 += CHUNK) {
        const size_t cn = n - c0 < CHUNK ? n - c0 : CHUNK;
        qsnn_status st = qsnn_dataset_features_fe(ds, QSNN_SPLIT_TRAIN, idx + c0, cn, 1, seed, &tc->m.arch.features,
                                                  tc->x);
        if (st != QSNN_OK)
            return st;
        qsnn_model_input_from_features(&tc->m, tc->x, tc->x, cn);
        if ((st = qsnn_infer_run(tc->inf, tc->x, cn, tc->logits)) != QSNN_OK)
            return st;
        for (size_t i = 0; i < cn; i++) {
            for (int d = 0; d < D; d++)
                z[d] = tc->logits[i * (size_t)tc->K + (size_t)tc->map[d]];
            qsnn_softmax_rows(out + (c0 + i) * (size_t)D, z, 1, D, T);
        }
    }
    tc->secs += qsnn_time_now() - t0;
    return QSNN_OK;
}
