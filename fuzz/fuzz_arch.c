/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_arch.c: the architecture JSON parser (qsnn_arch_from_json, what `qsnn train --arch FILE` reads): any text,
 * and an architecture it accepts must size its parameters without overflow. */
#include "qsnn/model.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = malloc(size + 1);
    if (!json)
        return 0;
    memcpy(json, data, size);
    json[size] = 0;
    qsnn_arch a;
    if (qsnn_arch_from_json(&a, json, "fuzz.json") == QSNN_OK) {
        char *back = NULL;
        qsnn_arch b;
        if (qsnn_arch_to_json(&a, &back) != QSNN_OK || qsnn_arch_from_json(&b, back, "round trip") != QSNN_OK ||
            qsnn_arch_param_count(&a, NULL) != qsnn_arch_param_count(&b, NULL))
            abort(); /* what it accepts it can write and read back, to the same model */
        free(back);
    }
    free(json);
    return 0;
}
