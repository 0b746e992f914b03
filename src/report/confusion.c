/* SPDX-License-Identifier: Apache-2.0 */
/* confusion.c: confusion matrices: counts, sklearn-style row normalisation and a text table (the figure is
 * confusion_plot.c).
 */
#include "report/confusion_internal.h"

#include <cairo.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

qsnn_status qsnn_confusion_init(qsnn_confusion *cm, int n)
{
    memset(cm, 0, sizeof *cm);
    if (n < 1 || n > QSNN_SNN_MAX_CLASSES)
        return qsnn_fail(QSNN_ERR_ARG, "confusion matrix: %d classes (1..%d)", n, QSNN_SNN_MAX_CLASSES);
    cm->counts = calloc((size_t)n * (size_t)n, sizeof *cm->counts);
    if (!cm->counts)
        return qsnn_fail(QSNN_ERR_NOMEM, "confusion matrix");
    cm->n = n;
    return QSNN_OK;
}

void qsnn_confusion_free(qsnn_confusion *cm)
{
    free(cm->counts);
    memset(cm, 0, sizeof *cm);
}

void qsnn_confusion_add(qsnn_confusion *cm, int truth, int pred)
{
    if (truth >= 0 && truth < cm->n && pred >= 0 && pred < cm->n)
        cm->counts[(size_t)truth * (size_t)cm->n + (size_t)pred]++;
}

void qsnn_confusion_normalized(const qsnn_confusion *cm, double *out)
{
    int n = cm->n;
    for (int i = 0; i < n; i++) {
        uint64_t row = 0;
        for (int j = 0; j < n; j++)
            row += cm->counts[(size_t)i * n + j];
        for (int j = 0; j < n; j++)
            out[(size_t)i * n + j] = row ? (double)cm->counts[(size_t)i * n + j] / (double)row : 0.0;
    }
}

const char *qsnn_confusion_label(const qsnn_confusion *cm, int i, char *buf, size_t cap)
{
    if (cm->labels[i])
        return cm->labels[i];
    snprintf(buf, cap, "%d", i);
    return buf;
}

void qsnn_confusion_print(FILE *out, const qsnn_confusion *cm)
{
    int n = cm->n;
    double *nm = malloc(sizeof(double) * (size_t)n * (size_t)n);
    if (!nm)
        return;
    qsnn_confusion_normalized(cm, nm);
    char b1[16];
    for (int pass = 0; pass < 2; pass++) {
        fprintf(out, "%s (rows: true label, columns: predicted label)\n",
                pass ? "Confusion matrix, row-normalised" : "Confusion matrix, counts");
        fprintf(out, "%-11s", "");
        for (int j = 0; j < n; j++)
            fprintf(out, " %6.6s", qsnn_confusion_label(cm, j, b1, sizeof b1));
        fprintf(out, "\n");
        for (int i = 0; i < n; i++) {
            fprintf(out, "%-11.11s", qsnn_confusion_label(cm, i, b1, sizeof b1));
            for (int j = 0; j < n; j++) {
                if (pass)
                    fprintf(out, " %6.2f", nm[(size_t)i * n + j]);
                else
                    fprintf(out, " %6llu", (unsigned long long)cm->counts[(size_t)i * n + j]);
            }
            fprintf(out, "\n");
        }
    }
    free(nm);
}

/* Drawing text loads cairo's and fontconfig's process-wide caches; they live until exit. Releasing them lets leak
 * checkers (the ASan build) see only real leaks. FcFini is looked up with dlsym because fontconfig is loaded by
 * cairo, not linked by qsnn. Only call it when nothing else in the process uses cairo or fontconfig any more. */
void qsnn_report_release_font_caches(void)
{
    cairo_debug_reset_static_data();
    void (*fc_fini)(void) = NULL;
    void *sym = dlsym(RTLD_DEFAULT, "FcFini");
    memcpy(&fc_fini, &sym, sizeof sym);
    if (fc_fini)
        fc_fini();
}
