/* train_teacher.c: the teacher of `qsnn train --teacher MODEL`: any float qsnn model labels every augmented
 * training clip of an epoch. It is given the same audio as the student (qsnn_dataset_audio with the epoch's seed:
 * shift, noise, speed and level, not the student's SpecAugment masks) through its own front end, and its
 * probabilities at temperature T are mapped onto the dataset's labels by name. Work goes in chunks of clips so
 * memory stays small on the full dataset. */
#include "train_teacher.h"

#include "qsnn/audio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 512, CLIP = 16000 };

qsnn_status teacher_open(teacher_ctx *tc, const char *path, const qsnn_dataset *ds, const char *student_path)
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
            return qsnn_fail(QSNN_ERR_SHAPE, "%s: the teacher has no label '%s' of %s", path, name, student_path);
        }
    }
    qsnn_mfcc_params mp;
    qsnn_mfcc_default_params(&mp);
    if ((st = qsnn_mfcc_create(&tc->mfcc, &mp)) != QSNN_OK) {
        qsnn_model_free(&tc->m);
        return st;
    }
    tc->in_sz = qsnn_shape_count(tc->m.arch.input);
    if ((size_t)qsnn_mfcc_num_frames(tc->mfcc, CLIP) * (size_t)qsnn_mfcc_num_coeffs(tc->mfcc) != tc->in_sz) {
        teacher_close(tc);
        return qsnn_fail(QSNN_ERR_SHAPE, "%s: the teacher's input (%dx%dx%d) is not the MFCC of a 1 s clip", path,
                         tc->m.arch.input.h, tc->m.arch.input.w, tc->m.arch.input.c);
    }
    tc->audio = malloc((size_t)CHUNK * CLIP * sizeof *tc->audio);
    tc->feat = malloc((size_t)CHUNK * tc->in_sz * sizeof *tc->feat);
    tc->u8 = malloc((size_t)CHUNK * tc->in_sz);
    tc->logits = malloc((size_t)CHUNK * (size_t)tc->K * sizeof *tc->logits);
    if (!tc->audio || !tc->feat || !tc->u8 || !tc->logits) {
        teacher_close(tc);
        return qsnn_fail(QSNN_ERR_NOMEM, "teacher: out of memory");
    }
    return QSNN_OK;
}

void teacher_close(teacher_ctx *tc)
{
    if (tc->mfcc)
        qsnn_mfcc_destroy(tc->mfcc);
    qsnn_model_free(&tc->m);
    free(tc->audio);
    free(tc->feat);
    free(tc->u8);
    free(tc->logits);
    memset(tc, 0, sizeof *tc);
}

/* the teacher's logits on n clips of audio (its front end: the tutorial's MFCC and its uint8 scaling) */
static qsnn_status teacher_logits(teacher_ctx *tc, const float *audio, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        qsnn_status st = qsnn_mfcc_compute(tc->mfcc, tc->feat + i * tc->in_sz, audio + i * CLIP, CLIP);
        if (st != QSNN_OK)
            return st;
    }
    qsnn_features_to_u8(tc->u8, tc->feat, n * tc->in_sz, tc->m.scale_min, tc->m.scale_max);
    return qsnn_model_predict_prec(&tc->m, tc->u8, n, tc->logits, NULL, QSNN_PREC_F32);
}

qsnn_status teacher_soft_targets(teacher_ctx *tc, const qsnn_dataset *ds, const size_t *idx, size_t n,
                                 uint64_t seed, float T, float *out)
{
    const int D = tc->num_labels;
    for (size_t c0 = 0; c0 < n; c0 += CHUNK) {
        const size_t cn = n - c0 < CHUNK ? n - c0 : CHUNK;
        qsnn_status st = qsnn_dataset_audio(ds, QSNN_SPLIT_TRAIN, idx + c0, cn, 1, seed, tc->audio);
        if (st != QSNN_OK || (st = teacher_logits(tc, tc->audio, cn)) != QSNN_OK)
            return st;
        for (size_t i = 0; i < cn; i++) {
            const float *z = tc->logits + i * (size_t)tc->K;
            float *q = out + (c0 + i) * (size_t)D;
            double mx = z[tc->map[0]], sum = 0;
            for (int d = 1; d < D; d++)
                mx = z[tc->map[d]] > mx ? z[tc->map[d]] : mx;
            for (int d = 0; d < D; d++)
                sum += (q[d] = (float)exp(((double)z[tc->map[d]] - mx) / (double)T));
            for (int d = 0; d < D; d++)
                q[d] = (float)(q[d] / sum);
        }
    }
    return QSNN_OK;
}
