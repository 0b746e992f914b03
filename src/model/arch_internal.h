/* SPDX-License-Identifier: Apache-2.0 */
/* arch_internal.h (private to src/model): sizes of one layer's parameter parts, the single source of the size table
 * used by the parameter count (arch.c) and the parameter allocation (model.c). */
#ifndef QSNN_MODEL_ARCH_INTERNAL_H
#define QSNN_MODEL_ARCH_INTERNAL_H

#include "qsnn/model.h"

/* Element counts for a layer whose `in` shape is known (validated arch). n_bn is the channel count of each of
 * the four BN arrays (0 without batch norm). */
void qsnn_arch_layer_sizes(const qsnn_layer_desc *l, size_t *n_w, size_t *n_dw, size_t *n_bias, size_t *n_bn);

#endif
