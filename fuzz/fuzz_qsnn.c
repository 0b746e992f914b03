/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_qsnn.c: the float/quantized model reader (qsnn_model_load: header, checksum, architecture JSON, labels,
 * parameters) and, for a model it accepts, one prediction, which must give finite logits and a class in range. */
#include "fuzz_common.h"
#include "qsnn/model.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t sealed[1 << 16];
    data = fuzz_reseal_tail(data, size, sealed, sizeof sealed);
    const char *path = fuzz_file(data, size, ".qsnn");
    qsnn_model m;
    if (!path || qsnn_model_load(&m, path) != QSNN_OK)
        return 0;
    size_t in = qsnn_shape_count(m.arch.input);
    uint8_t *x = calloc(in ? in : 1, 1);
    float *logits = calloc((size_t)m.arch.num_classes, sizeof *logits);
    int32_t pred = -1;
    if (x && logits && in <= ((size_t)1 << 20)) {
        for (size_t i = 0; i < in; i++)
            x[i] = (uint8_t)(i * 37u);
        if (qsnn_model_predict(&m, x, 1, logits, &pred) == QSNN_OK &&
            (pred < 0 || pred >= m.arch.num_classes))
            abort();
    }
    free(x);
    free(logits);
    qsnn_model_free(&m);
    return 0;
}
