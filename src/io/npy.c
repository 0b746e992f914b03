/* SPDX-License-Identifier: Apache-2.0 */
/* npy.c: NumPy .npy (format 1.0) writer, so users can check qsnn's tensors in Python.
 * Header: magic "\x93NUMPY", version 1.0, u16 header length, a Python dict literal padded with spaces to a
 * multiple of 64 bytes and ended by '\n'. Data is little-endian C order (the host is assumed little-endian,
 * checked at run time). */
#include "qsnn/io.h"

#include <string.h>

static size_t dtype_size(const char *dtype)
{
    if (!strcmp(dtype, "<f4") || !strcmp(dtype, "<i4"))
        return 4;
    if (!strcmp(dtype, "|u1"))
        return 1;
    if (!strcmp(dtype, "<i8") || !strcmp(dtype, "<f8"))
        return 8;
    return 0;
}

qsnn_status qsnn_npy_write(const char *path, const char *dtype, const size_t *shape, int ndim, const void *data)
{
    const uint16_t probe = 1;
    if (*(const unsigned char *)&probe != 1)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: .npy export needs a little-endian host", path);
    size_t esz = dtype_size(dtype);
    if (!esz || ndim < 1 || ndim > 8)
        return qsnn_fail(QSNN_ERR_ARG, "%s: bad dtype '%s' or ndim %d", path, dtype, ndim);
    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", dtype);
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        /* Python tuple syntax: "(2, 3)", and "(2,)" for one dimension */
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%s%zu%s", i ? ", " : "", shape[i],
                        ndim == 1 ? "," : "");
        if (!qsnn_mul_size(&count, count, shape[i]))
            return qsnn_fail(QSNN_ERR_RANGE, "%s: shape overflows", path);
    }
    len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
    size_t total = 10 + (size_t)len + 1;
    size_t pad = (64 - total % 64) % 64;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    size_t hlen = (size_t)len + pad + 1;
    pre[8] = (unsigned char)(hlen & 0xff);
    pre[9] = (unsigned char)(hlen >> 8);
    size_t nbytes;
    if (!qsnn_mul_size(&nbytes, count, esz))
        return qsnn_fail(QSNN_ERR_RANGE, "%s: data size overflows", path);

    qsnn_atomic_file f;
    qsnn_status st = qsnn_atomic_open(&f, path);
    if (st)
        return st;
    qsnn_atomic_write(&f, pre, sizeof pre);
    qsnn_atomic_write(&f, dict, (size_t)len);
    for (size_t i = 0; i < pad; i++)
        qsnn_atomic_write(&f, " ", 1);
    qsnn_atomic_write(&f, "\n", 1);
    qsnn_atomic_write(&f, data, nbytes);
    return qsnn_atomic_commit(&f);
}
