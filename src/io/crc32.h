/* crc32.h (private to libqsnn): CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib's crc32()), for
 * the integrity check of the model file. zlib is not a dependency of qsnn, hence this small table version. */
#ifndef QSNN_IO_CRC32_H
#define QSNN_IO_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0; qsnn_crc32(qsnn_crc32(0, a, n), b, m) == CRC of a||b. */
uint32_t qsnn_crc32(uint32_t crc, const void *data, size_t n);

#endif
