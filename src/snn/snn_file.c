/* SPDX-License-Identifier: Apache-2.0 */
/* snn_file.c: writing a .snn file: the image of qsnn/snn.h written atomically through src/io (temporary file,
 * fsync, rename), so it lives in libqsnn, not in the libc-only engine library. Reading it back (qsnn_snn_load,
 * validated whole before use) is the engine's: snn_load.c.
 */
#include "qsnn/snn.h"
#include "qsnn/io.h"

qsnn_status qsnn_snn_save(const char *path, const void *image, size_t size)
{
    qsnn_atomic_file f;
    qsnn_status st = qsnn_atomic_open(&f, path);
    if (st != QSNN_OK)
        return st;
    st = qsnn_atomic_write(&f, image, size);
    if (st != QSNN_OK) {
        qsnn_atomic_abort(&f);
        return st;
    }
    return qsnn_atomic_commit(&f);
}
