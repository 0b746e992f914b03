/* SPDX-License-Identifier: Apache-2.0 */
/* arch_ext_internal.h (private to src/model): the architecture-language parts of arch_ext.c, called by arch.c. */
#ifndef QSNN_MODEL_ARCH_EXT_H
#define QSNN_MODEL_ARCH_EXT_H

#include "qsnn/model.h"

#include <cjson/cJSON.h>

/* One layer field: "activation" given as a string, "pool_after", "pool_size", "pool_stride", "pool_padding".
 * *handled = 0 for any other field (arch.c parses it). */
qsnn_status qsnn_arch_ext_field(qsnn_layer_desc *l, const cJSON *it, const char *origin, const char *where,
                                int *handled);
/* Checks the layer's act_relu and pool_after fields; *o (the activation's output shape) becomes the shape after
 * pool_after; sets l->act. */
qsnn_status qsnn_arch_ext_validate(qsnn_layer_desc *l, qsnn_shape *o, const char *origin, int i);
/* Adds the layer's extension fields to its JSON object (nothing for a layer without them). */
void qsnn_arch_ext_to_json(const qsnn_layer_desc *l, cJSON *o);
/* Fills a zeroed features struct with the tf-audio-ops defaults, validates it and checks the input shape. */
qsnn_status qsnn_arch_ext_features_validate(qsnn_arch *a, const char *origin);
/* Adds "features" to the document unless it is the default. */
qsnn_status qsnn_arch_ext_features_to_json(const qsnn_arch *a, cJSON *root);

#endif
