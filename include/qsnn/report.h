/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/report.h: what the eval/summary commands print: the Akida-style summary of a .snn model, Akida's
 * statistics table, confusion matrices (text, and a PNG or SVG figure), and the threaded
 * batch evaluation of a .snn model (OpenMP lives here, never in src/snn).
 */
#ifndef QSNN_REPORT_H
#define QSNN_REPORT_H

#include "qsnn/core.h"
#include "qsnn/snn.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Akida 1.x model.summary() table (docs/design.md s5.5; column widths of the tutorial's log):
 * Layer (type) | HW | Input shape [W, H, C] | Output shape | Kernel shape (kw x kh x C_in) | Learning (#classes)
 * | #InConn/#Weights/ThFire, then the reasons of every HW "no", then the model size in bytes. */
void qsnn_report_snn_summary(FILE *out, const qsnn_snn_model *m);

/* Akida's statistics printout (docs/design.md s5.4): per layer a header and a row; layer 0 shows output sparsity
 * only. Followed by a per-layer time table (mean microseconds per clip). */
void qsnn_report_snn_stats(FILE *out, const qsnn_snn_model *m, const qsnn_snn_stats *st);

/* Confusion matrix: counts[true * n + pred]. */
typedef struct {
    int n;
    const char *labels[QSNN_SNN_MAX_CLASSES];
    uint64_t *counts;
} qsnn_confusion;

qsnn_status qsnn_confusion_init(qsnn_confusion *cm, int n);
void qsnn_confusion_free(qsnn_confusion *cm);
void qsnn_confusion_add(qsnn_confusion *cm, int truth, int pred);
/* Row-normalised matrix (sklearn's cm / cm.sum(axis=1)): out[n*n]; a row without samples stays 0. */
void qsnn_confusion_normalized(const qsnn_confusion *cm, double *out);
/* Text: counts and row-normalised values (.2f) with label headers. */
void qsnn_confusion_print(FILE *out, const qsnn_confusion *cm);
/* What each cell of the figure prints: the fraction of its true class (row-normalised, .2f), the count, or both
 * (the fraction, the count below it; over 14 classes the cells are too small for two lines and show the
 * fraction). The colour is always the fraction, on a fixed 0..1 scale (Blues). */
typedef enum { QSNN_CONFUSION_FRACTIONS = 0, QSNN_CONFUSION_COUNTS = 1, QSNN_CONFUSION_BOTH = 2 } qsnn_confusion_values;

typedef struct {
    const char *model; /* the model evaluated (a file name: its last component is shown), or NULL */
    const char *split; /* the data evaluated ("test split", a folder), or NULL */
    qsnn_confusion_values values;
} qsnn_confusion_plot_opts;

/* The figure, PNG or SVG by the extension of path (qsnn/plot.h): title "Confusion matrix: MODEL, SPLIT" and the
 * accuracy (the matrix's trace over its total, with the clip count), true labels in rows, predicted labels in
 * columns rotated 45 degrees, zero cells in grey, a colour bar; cells grow with few classes and shrink with
 * many (30..90 units), the canvas is cropped to the drawing. o may be NULL (fractions, no names). Errors name
 * the file (QSNN_ERR_ARG for an unknown extension, QSNN_ERR_IO when it cannot be written). */
qsnn_status qsnn_confusion_plot(const qsnn_confusion *cm, const qsnn_confusion_plot_opts *o, const char *path);
/* Release the process-wide font caches that drawing text loaded (cairo, fontconfig), e.g. at exit so leak
 * checkers stay quiet. Only call it when nothing in the process uses cairo or fontconfig any more. */
void qsnn_report_release_font_caches(void);

/* Threaded evaluation: runs n clips x[n][in] with `threads` contexts (0 = OpenMP default), each with its own
 * workspace allocated once. pred[n], potentials[n][classes] and stats (merged) may be NULL; stats_samples
 * limits the statistics to the first clips (0 = all), as the tutorial's 20. */
qsnn_status qsnn_report_snn_predict(const qsnn_snn_model *m, qsnn_snn_mode mode, const uint8_t *x, size_t n,
                                    int threads, int32_t *pred, int32_t *potentials, qsnn_snn_stats *stats,
                                    size_t stats_samples);

#ifdef __cplusplus
}
#endif
#endif
