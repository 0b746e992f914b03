/* SPDX-License-Identifier: Apache-2.0 */
/* png_internal.h (private to libqsnn): a cairo surface as a PNG file through the atomic writer, for every plot
 * (the confusion matrix; the training plot does the same in src/train): the old file stays until the new one is complete, its mode is kept, a
 * special file is refused and /dev/null written through, like every other output. */
#ifndef QSNN_REPORT_PNG_INTERNAL_H
#define QSNN_REPORT_PNG_INTERNAL_H

#include "qsnn/core.h"

#include <cairo.h>

qsnn_status qsnn_png_save(cairo_surface_t *s, const char *path);

#endif
