/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_common.h: what the file-reading fuzz targets share: the input written to a private temporary file (the
 * readers take paths, as the commands do) and a quiet log. */
#ifndef QSNN_FUZZ_COMMON_H
#define QSNN_FUZZ_COMMON_H

#include "qsnn/core.h"


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Formats whose last 4 bytes are the CRC-32 of the rest (.qsnn, .qfeat, checkpoints): the harness rewrites the
 * trailer of a copy so that mutations get past the checksum to the checks behind it (the checksum itself is
 * tested by the unit tests; one input size in 7 is left as it is, so refusals by checksum are exercised too).
 * Returns data or the resealed copy in buf[cap]. */
static inline const uint8_t *fuzz_reseal_tail(const uint8_t *data, size_t size, uint8_t *buf, size_t cap)
{
    if (size < 8 || size > cap || size % 7 == 3)
        return data;
    memcpy(buf, data, size);
    uint32_t crc = qsnn_crc32(0, buf, size - 4);
    for (int i = 0; i < 4; i++)
        buf[size - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
    return buf;
}

/* The input as a file: one path per process (libFuzzer runs one input at a time per process). NULL on failure. */
static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
    static char path[256];
    static int ready;
    if (!ready) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/qsnn_fuzz_%ld%s", dir && dir[0] ? dir : "/tmp", (long)getpid(), suffix);
        qsnn_log_set_level(QSNN_LOG_QUIET);
        ready = 1;
    }
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return NULL;
    size_t n = size ? fwrite(data, 1, size, fp) : 0;
    if (fclose(fp) != 0 || n != size)
        return NULL;
    return path;
}

#endif
