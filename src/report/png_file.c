/* SPDX-License-Identifier: Apache-2.0 */
/* png_file.c: qsnn_png_save, cairo's PNG stream into qsnn_atomic_file. */
#include "report/png_internal.h"

#include "qsnn/io.h"

static cairo_status_t png_write(void *closure, const unsigned char *data, unsigned int len)
{
    return qsnn_atomic_write(closure, data, len) == QSNN_OK ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

qsnn_status qsnn_png_save(cairo_surface_t *s, const char *path)
{
    qsnn_atomic_file f;
    qsnn_status st = qsnn_atomic_open(&f, path);
    if (st != QSNN_OK)
        return st;
    cairo_status_t cs = cairo_surface_write_to_png_stream(s, png_write, &f);
    if (cs != CAIRO_STATUS_SUCCESS) {
        qsnn_atomic_abort(&f);
        return f.failed ? QSNN_ERR_IO : qsnn_fail(QSNN_ERR_IO, "%s: writing PNG failed (%s)", path,
                                                  cairo_status_to_string(cs));
    }
    return qsnn_atomic_commit(&f);
}
