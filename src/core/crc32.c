/* SPDX-License-Identifier: Apache-2.0 */
/* crc32.c: CRC-32 (IEEE, reflected 0xEDB88320, init and final xor 0xFFFFFFFF), byte-wise with a 256-entry table.
 * Same values as zlib's crc32(): the CRC of "123456789" is 0xCBF43926 (tested). The table is rebuilt on each
 * call (2k operations, nothing next to reading a model file) so that there is no shared state between threads. */
#include "qsnn/core.h"

uint32_t qsnn_crc32(uint32_t crc, const void *data, size_t n)
{
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    const unsigned char *p = data;
    crc ^= 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}
