/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_tflite.c: libFuzzer target for the TFLite importer (qsnn_import_tflite_mem, src/import): any input must
 * be imported or refused with a status, never crash, read out of bounds or leak. Seeds: fuzz/corpus/tflite
 * (small models of tests/ref/make_tflite.py and refused variants). Built by the QSNN_FUZZ option with clang
 * (scripts/fuzz.sh), or by hand:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc fuzz/fuzz_tflite.c src/import/[a-z]*.c ...
 */
#include "qsnn/import.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qsnn_model m;
    if (qsnn_import_tflite_mem(&m, data, size, "fuzz.tflite", NULL) == QSNN_OK) {
        /* an accepted model must be a consistent one: its file form loads back */
        char *json = NULL;
        qsnn_arch a;
        if (qsnn_arch_to_json(&m.arch, &json) != QSNN_OK || qsnn_arch_from_json(&a, json, "fuzz") != QSNN_OK)
            abort(); /* the importer built an architecture its own file format would refuse */
        free(json);
        qsnn_model_free(&m);
    }
    return 0;
}
