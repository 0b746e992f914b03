/* SPDX-License-Identifier: Apache-2.0 */
/* confusion_internal.h (private to src/report): what confusion.c shares with confusion_plot.c. */
#ifndef QSNN_REPORT_CONFUSION_INTERNAL_H
#define QSNN_REPORT_CONFUSION_INTERNAL_H

#include "qsnn/report.h"

#include <stddef.h>

/* Label i of cm, or its index printed into buf when it has none. */
const char *qsnn_confusion_label(const qsnn_confusion *cm, int i, char *buf, size_t cap);

#endif
