/* SPDX-License-Identifier: Apache-2.0 */
/* mfcc_internal.h: internals of src/audio/mfcc.c shared with its tests (not part of the public API).
 *
 * qsnn_mfcc_compute_ref is qsnn_mfcc_compute with KissFFT's plain real FFT of the full length instead of the
 * fast quarter-length decomposition; tests/test_mfcc.c checks that both agree. */
#ifndef QSNN_AUDIO_MFCC_INTERNAL_H
#define QSNN_AUDIO_MFCC_INTERNAL_H

#include "qsnn/audio.h"

qsnn_status qsnn_mfcc_compute_ref(qsnn_mfcc *m, float *out, const float *samples, size_t n);

#endif
