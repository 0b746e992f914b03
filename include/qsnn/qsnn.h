/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/qsnn.h: the whole public API. Include this, or the one module header you need.
 * The integer engine alone (embeddable, libc only) needs just qsnn/core.h and qsnn/snn.h. */
#ifndef QSNN_H
#define QSNN_H
#include "qsnn/version.h"
#include "qsnn/core.h"
#include "qsnn/labels.h"
#include "qsnn/tensor.h"
#include "qsnn/io.h"
#include "qsnn/plot.h"
#include "qsnn/audio.h"
#include "qsnn/frontend.h"
#include "qsnn/mfcc_device.h"
#include "qsnn/data.h"
#include "qsnn/synth.h"
#include "qsnn/quant.h"
#include "qsnn/nn.h"
#include "qsnn/model.h"
#include "qsnn/plan.h"
#include "qsnn/infer.h"
#include "qsnn/import.h"
#include "qsnn/train.h"
#include "qsnn/snn.h"
#include "qsnn/snn_meta.h"
#include "qsnn/convert.h"
#include "qsnn/report.h"
#include "qsnn/detect.h"
#include "qsnn/kws.h"
#include "qsnn/stream_eval.h"
#endif
