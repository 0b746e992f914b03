/* SPDX-License-Identifier: Apache-2.0 */
/* version.c: qsnn_version(), the library's version from the generated qsnn/version.h (cmake/version.h.in). */
#include "qsnn/version.h"

const char *qsnn_version(void) { return QSNN_VERSION_STRING; }
