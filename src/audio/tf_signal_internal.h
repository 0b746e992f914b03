/* SPDX-License-Identifier: Apache-2.0 */
/* tf_signal_internal.h (private to libqsnn): the tf.signal front end behind qsnn_frontend (frontend.c). The parameters
 * passed to create have been validated (qsnn_frontend_validate). */
#ifndef QSNN_AUDIO_TF_SIGNAL_H
#define QSNN_AUDIO_TF_SIGNAL_H

#include "qsnn/frontend.h"

typedef struct qsnn_tf_signal qsnn_tf_signal;

qsnn_status qsnn_tf_signal_create(qsnn_tf_signal **out, const qsnn_frontend_params *p);
void qsnn_tf_signal_destroy(qsnn_tf_signal *t);
/* out[frames * num_coeffs] from samples[n] (cropped or zero-padded to clip_samples). */
qsnn_status qsnn_tf_signal_compute(qsnn_tf_signal *t, float *out, const float *samples, size_t n);

#endif
