/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_snn.c: the integer engine's validator (qsnn_snn_model_init) on any bytes, and for an image it accepts, a
 * run in each mode in exactly the workspace qsnn_snn_mem_size asks for (ASan catches any write past it); the three
 * modes must agree, as the validator's invariant promises. */
#include "qsnn/snn.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *img = malloc(size ? size : 1); /* the image must be 4-byte aligned: malloc's is */
    if (!img)
        return 0;
    memcpy(img, data, size);
    if (size >= 64 && size % 7 != 3) { /* reseal the CRC (offset 20, computed with the field zeroed), so that
                                        * mutations reach the checks behind it; one size in 7 stays as it is */
        static const unsigned char zero[4] = {0, 0, 0, 0};
        uint32_t crc = qsnn_crc32(qsnn_crc32(qsnn_crc32(0, img, 20), zero, 4), img + 24, size - 24);
        for (int i = 0; i < 4; i++)
            img[20 + i] = (unsigned char)(crc >> (8 * i));
    }
    qsnn_snn_model m;
    if (qsnn_snn_model_init(&m, img, size, "fuzz.snn") != QSNN_OK) {
        free(img);
        return 0;
    }
    size_t in = (size_t)m.in_h * (size_t)m.in_w * (size_t)m.in_c, ws = qsnn_snn_mem_size(&m);
    uint8_t *x = malloc(in);
    unsigned char *work = ws <= ((size_t)64 << 20) ? malloc(ws) : NULL;
    if (x && work) {
        for (size_t i = 0; i < in; i++)
            x[i] = (uint8_t)(i * 131u + 7u);
        int32_t pot[3][QSNN_SNN_MAX_CLASSES], pred[3];
        for (int mode = 0; mode < 3; mode++) {
            qsnn_snn_ctx *ctx;
            if (qsnn_snn_init(&ctx, &m, work, ws) != QSNN_OK)
                abort(); /* the size it asked for must do */
            qsnn_snn_set_mode(ctx, (qsnn_snn_mode)mode);
            if (qsnn_snn_run(ctx, x, pot[mode], &pred[mode], NULL) != QSNN_OK)
                abort();
        }
        if (memcmp(pot[0], pot[1], (size_t)m.num_classes * 4) || memcmp(pot[0], pot[2], (size_t)m.num_classes * 4))
            abort();
    }
    free(work);
    free(x);
    free(img);
    return 0;
}
