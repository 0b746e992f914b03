/* SPDX-License-Identifier: Apache-2.0 */
/* train_teacher.h: the distillation teacher of `qsnn train --teacher` (train_teacher.c). */
#ifndef QSNN_TOOLS_TRAIN_TEACHER_H
#define QSNN_TOOLS_TRAIN_TEACHER_H

#include "qsnn/data.h"
#include "qsnn/infer.h"
#include "qsnn/model.h"

typedef struct {
    qsnn_model m;
    qsnn_infer *inf;
    int K;                      /* teacher classes */
    int num_labels;             /* dataset labels */
    int map[QSNN_MAX_LABELS];   /* dataset label -> teacher class (by name) */
    size_t in_sz;
    float *x, *logits;
    double secs;                /* time spent labelling (front end + forward) */
} teacher_ctx;

/* Load the teacher (any float qsnn model, trained or imported, with its own front end) and map its labels onto
 * the dataset's by name: every dataset label must be one of the teacher's (errors name the file and the label). */
qsnn_status teacher_open(teacher_ctx *tc, const char *path, const qsnn_dataset *ds, int threads);
void teacher_close(teacher_ctx *tc);
/* out[n * num_labels]: softmax(z / T) of the teacher's logits z restricted to the dataset's labels, on the
 * augmented clips of training entries idx[0..n) with augmentation seed `seed` (the student's clips). */
qsnn_status teacher_soft_targets(teacher_ctx *tc, const qsnn_dataset *ds, const size_t *idx, size_t n,
                                 uint64_t seed, float T, float *out);

#endif
