/* SPDX-License-Identifier: Apache-2.0 */
/* clip.c: one clip's model input: one second of audio -> TensorFlow's 49x10 MFCC -> uint8 with the model's
 * range (qsnn/kws.h). The same arithmetic as the training features (qsnn_dataset_features, then
 * qsnn_features_to_u8) and the spotter's windows. */
#include "kws/kws_internal.h"

#include <stdlib.h>

qsnn_status qsnn_kws_check_input(const qsnn_snn_model *m, const qsnn_mfcc *mf, const char *what)
{
    size_t in_n = (size_t)m->in_h * (size_t)m->in_w * (size_t)m->in_c;
    if ((size_t)qsnn_mfcc_num_frames(mf, QSNN_CLIP_SAMPLES) * (size_t)qsnn_mfcc_num_coeffs(mf) != in_n)
        return qsnn_fail(QSNN_ERR_SHAPE, "%s: the model's input is %dx%dx%d, not a one-second MFCC (%dx%d)", what,
                         m->in_h, m->in_w, m->in_c, qsnn_mfcc_num_frames(mf, QSNN_CLIP_SAMPLES),
                         qsnn_mfcc_num_coeffs(mf));
    return QSNN_OK;
}

static qsnn_status clip_u8(uint8_t *out, const qsnn_snn_model *m, const float *clip, const char *what)
{
    size_t in_n = (size_t)m->in_h * (size_t)m->in_w * (size_t)m->in_c;
    float *feat = malloc(sizeof(float) * (in_n ? in_n : 1));
    qsnn_mfcc_params mp;
    qsnn_mfcc_default_params(&mp);
    qsnn_mfcc *mf = NULL;
    qsnn_status st = feat ? qsnn_mfcc_create(&mf, &mp) : qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", what);
    if (st == QSNN_OK)
        st = qsnn_kws_check_input(m, mf, what);
    if (st == QSNN_OK)
        st = qsnn_mfcc_compute(mf, feat, clip, QSNN_CLIP_SAMPLES);
    if (st == QSNN_OK)
        qsnn_features_to_u8(out, feat, in_n, m->scale_min, m->scale_max);
    qsnn_mfcc_destroy(mf);
    free(feat);
    return st;
}

qsnn_status qsnn_kws_clip_u8(uint8_t *out, const qsnn_snn_model *m, const float *clip)
{
    return clip_u8(out, m, clip, "clip");
}

qsnn_status qsnn_kws_file_u8(uint8_t *out, const qsnn_snn_model *m, const char *path)
{
    float *clip = malloc(sizeof(float) * QSNN_CLIP_SAMPLES);
    qsnn_status st = clip ? qsnn_audio_read_clip(path, clip, QSNN_CLIP_SAMPLES)
                          : qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", path);
    if (st == QSNN_OK)
        st = clip_u8(out, m, clip, path);
    free(clip);
    return st;
}
