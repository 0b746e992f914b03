/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_qfeat.c: the feature file reader (qsnn_featureset_load): header, sizes, checksum, labels, body. A file
 * it accepts must hold what it claims (labels in range, finite float features). */
#include "fuzz_common.h"
#include "qsnn/data.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t sealed[1 << 16];
    data = fuzz_reseal_tail(data, size, sealed, sizeof sealed);
    const char *path = fuzz_file(data, size, ".qfeat");
    qsnn_featureset fs;
    if (!path || qsnn_featureset_load(&fs, path) != QSNN_OK)
        return 0;
    size_t per = (size_t)fs.h * (size_t)fs.w;
    for (size_t i = 0; i < fs.n; i++) {
        if (fs.label[i] < 0 || fs.label[i] >= fs.num_labels || fs.split[i] >= QSNN_SPLIT_COUNT || !fs.source[i])
            abort();
        for (size_t k = 0; !fs.is_u8 && k < per; k++)
            if (!isfinite(fs.f32[i * per + k]))
                abort();
    }
    qsnn_featureset_free(&fs);
    return 0;
}
