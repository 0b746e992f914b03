/* SPDX-License-Identifier: Apache-2.0 */
/* confusion.c: confusion matrices: counts, sklearn-style row normalisation, a text table and a PNG drawn with
 * cairo that reproduces the tutorial's matplotlib figure (8x8 inches at 100 dpi: imshow with the Blues
 * colormap scaled to [min, max] of the normalised matrix, ".2f" in every cell, white text above max/2, x tick
 * labels rotated 45 degrees, title, colorbar, "True label" / "Predicted label").
 */
#include "report/png_internal.h"
#include "qsnn/report.h"

#include <cairo.h>
#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

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

static const char *label_of(const qsnn_confusion *cm, int i, char *buf, size_t cap)
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
            fprintf(out, " %6.6s", label_of(cm, j, b1, sizeof b1));
        fprintf(out, "\n");
        for (int i = 0; i < n; i++) {
            fprintf(out, "%-11.11s", label_of(cm, i, b1, sizeof b1));
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

/* matplotlib's Blues (ColorBrewer 9 classes), interpolated linearly. */
static void blues(double v, double *r, double *g, double *b)
{
    static const unsigned char c[9][3] = {{0xf7, 0xfb, 0xff}, {0xde, 0xeb, 0xf7}, {0xc6, 0xdb, 0xef},
                                          {0x9e, 0xca, 0xe1}, {0x6b, 0xae, 0xd6}, {0x42, 0x92, 0xc6},
                                          {0x21, 0x71, 0xb5}, {0x08, 0x51, 0x9c}, {0x08, 0x30, 0x6b}};
    if (!(v > 0))
        v = 0;
    if (v > 1)
        v = 1;
    double x = v * 8;
    int i = (int)x;
    if (i > 7)
        i = 7;
    double t = x - i;
    *r = ((1 - t) * c[i][0] + t * c[i + 1][0]) / 255.0;
    *g = ((1 - t) * c[i][1] + t * c[i + 1][1]) / 255.0;
    *b = ((1 - t) * c[i][2] + t * c[i + 1][2]) / 255.0;
}

static void text_at(cairo_t *cr, const char *s, double x, double y, double ha, double va)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - ha * e.width - e.x_bearing, y - va * e.height - e.y_bearing);
    cairo_show_text(cr, s);
}

qsnn_status qsnn_confusion_plot_png(const qsnn_confusion *cm, const char *title, const char *path)
{
    const int W = 800, H = 800, n = cm->n;
    double *nm = malloc(sizeof(double) * (size_t)n * (size_t)n);
    if (!nm)
        return qsnn_fail(QSNN_ERR_NOMEM, "confusion plot");
    qsnn_confusion_normalized(cm, nm);
    double vmin = nm[0], vmax = nm[0];
    for (int i = 1; i < n * n; i++) {
        vmin = nm[i] < vmin ? nm[i] : vmin;
        vmax = nm[i] > vmax ? nm[i] : vmax;
    }
    double span = vmax > vmin ? vmax - vmin : 1.0, thresh = vmax / 2.0;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    const double left = 150, top = 70, side = 500, cell = side / n;
    /* cells */
    char buf[32];
    double fs = cell * 0.28 < 12 ? cell * 0.28 : 12;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double v = nm[(size_t)i * n + j], r, g, b;
            blues((v - vmin) / span, &r, &g, &b);
            cairo_set_source_rgb(cr, r, g, b);
            cairo_rectangle(cr, left + j * cell, top + i * cell, cell + 0.5, cell + 0.5);
            cairo_fill(cr);
            snprintf(buf, sizeof buf, "%.2f", v);
            cairo_set_font_size(cr, fs);
            if (v > thresh)
                cairo_set_source_rgb(cr, 1, 1, 1);
            else
                cairo_set_source_rgb(cr, 0, 0, 0);
            text_at(cr, buf, left + (j + 0.5) * cell, top + (i + 0.5) * cell, 0.5, 0.5);
        }
    /* frame and ticks */
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, left, top, side, side);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 13);
    for (int i = 0; i < n; i++) {
        const char *lab = label_of(cm, i, buf, sizeof buf);
        double c = (i + 0.5) * cell;
        cairo_move_to(cr, left, top + c);
        cairo_line_to(cr, left - 5, top + c);
        cairo_move_to(cr, left + c, top + side);
        cairo_line_to(cr, left + c, top + side + 5);
        cairo_stroke(cr);
        text_at(cr, lab, left - 8, top + c, 1.0, 0.5);
        /* x label rotated 45 degrees, its end at the tick */
        cairo_save(cr);
        cairo_translate(cr, left + c, top + side + 10);
        cairo_rotate(cr, -PI / 4);
        cairo_text_extents_t e;
        cairo_text_extents(cr, lab, &e);
        cairo_move_to(cr, -e.x_advance, e.height / 2);
        cairo_show_text(cr, lab);
        cairo_restore(cr);
    }
    /* title and axis labels */
    cairo_set_font_size(cr, 16);
    text_at(cr, title ? title : "Confusion matrix", left + side / 2, top - 25, 0.5, 0.5);
    cairo_set_font_size(cr, 14);
    text_at(cr, "Predicted label", left + side / 2, top + side + 115, 0.5, 0.5);
    cairo_save(cr);
    cairo_translate(cr, 30, top + side / 2);
    cairo_rotate(cr, -PI / 2);
    text_at(cr, "True label", 0, 0, 0.5, 0.5);
    cairo_restore(cr);
    /* colorbar */
    const double cbx = left + side + 30, cbw = 22;
    for (int k = 0; k < (int)side; k++) {
        double r, g, b;
        blues(1.0 - (k + 0.5) / side, &r, &g, &b);
        cairo_set_source_rgb(cr, r, g, b);
        cairo_rectangle(cr, cbx, top + k, cbw, 1.5);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, cbx, top, cbw, side);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 12);
    double step = span > 0.5 ? 0.1 : span > 0.2 ? 0.05 : 0.02;
    for (double t = ceil(vmin / step - 1e-9) * step; t <= vmax + 1e-9; t += step) {
        double y = top + side * (1.0 - (t - vmin) / span);
        double tv = fabs(t) < 1e-9 ? 0.0 : t;
        cairo_move_to(cr, cbx + cbw, y);
        cairo_line_to(cr, cbx + cbw + 4, y);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, step < 0.1 ? "%.2f" : "%.1f", tv);
        text_at(cr, buf, cbx + cbw + 7, y, 0.0, 0.5);
    }
    cairo_destroy(cr);
    cairo_surface_flush(s);
    qsnn_status st = qsnn_png_save(s, path);
    cairo_surface_destroy(s);
    free(nm);
    return st;
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
