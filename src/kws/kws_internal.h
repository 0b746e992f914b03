/* SPDX-License-Identifier: Apache-2.0 */
/* kws_internal.h (private to src/kws): what clip.c and spotter.c share. */
#ifndef QSNN_KWS_KWS_INTERNAL_H
#define QSNN_KWS_KWS_INTERNAL_H

#include "qsnn/audio.h"
#include "qsnn/data.h"
#include "qsnn/kws.h"

/* QSNN_ERR_SHAPE (naming `what`) unless the model's input is the one-second MFCC that mf computes. */
qsnn_status qsnn_kws_check_input(const qsnn_snn_model *m, const qsnn_mfcc *mf, const char *what);

#endif
