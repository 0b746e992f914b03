/* SPDX-License-Identifier: Apache-2.0 */
/* model_internal.h (private to src/model): model allocation shared by qsnn_model_init and the model file loader. */
#ifndef QSNN_MODEL_MODEL_INTERNAL_H
#define QSNN_MODEL_MODEL_INTERNAL_H

#include "qsnn/model.h"

/* Zero *m, copy and validate the arch, allocate the parameters (all zero) and carve lp[]; bn_eps = 1e-3,
 * default labels, no quantizers, episode 0. On failure *m holds no allocation. */
qsnn_status qsnn_model_alloc(qsnn_model *m, const qsnn_arch *a);
/* The tutorial's 12 labels when the arch has 12 classes, else "class_<i>". */
void qsnn_model_set_default_labels(qsnn_model *m);

#endif
