/* SPDX-License-Identifier: Apache-2.0 */
/* confusion_plot.c: the confusion-matrix figure (qsnn eval --plot, the tutorial's confusion_matrix.png), PNG or
 * SVG through qsnn/plot.h. Rows are true labels, columns predicted labels, the colour is the fraction of the
 * row's clips (matplotlib's Blues on a fixed 0..1 scale, so two figures compare), the text white on dark cells
 * and grey for empty ones. The title names the model and the data and gives the accuracy read off the matrix.
 * The cell size follows the class count and the canvas is cropped to the drawing: no blank margins.
 */
#include "qsnn/plot.h"

#include "report/confusion_internal.h"

#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* matplotlib's Blues (ColorBrewer 9 classes), interpolated linearly; v in 0..1. */
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

static const char *base_name(const char *p)
{
    const char *s = p ? strrchr(p, '/') : NULL;
    return s && s[1] ? s + 1 : p;
}

/* One cell's text: fraction, count, or both on two lines. */
static void cell_text(cairo_t *cr, qsnn_confusion_values values, double v, uint64_t count, double cx, double cy,
                      double cell)
{
    char f[16], c[24];
    snprintf(f, sizeof f, "%.2f", v);
    snprintf(c, sizeof c, "%llu", (unsigned long long)count);
    if (count == 0)
        cairo_set_source_rgb(cr, 0.62, 0.62, 0.62);
    else if (v > 0.5)
        cairo_set_source_rgb(cr, 1, 1, 1);
    else
        cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
    double fs = fmin(12, cell * 0.3);
    if (values == QSNN_CONFUSION_BOTH) {
        qsnn_plot_font(cr, fs, count > 0);
        qsnn_plot_text(cr, count ? f : "0", cx, cy - 0.5 * fs + (count ? 0 : 0.5 * fs), 0.5, 0.5, 0);
        if (count) {
            qsnn_plot_font(cr, fs * 0.82, 0);
            qsnn_plot_text(cr, c, cx, cy + 0.62 * fs, 0.5, 0.5, 0);
        }
    } else {
        qsnn_plot_font(cr, fs, 0);
        qsnn_plot_text(cr, values == QSNN_CONFUSION_COUNTS ? c : count ? f : "0", cx, cy, 0.5, 0.5, 0);
    }
}

static void colour_bar(cairo_t *cr, double x, double y, double w, double h)
{
    for (int k = 0; k < (int)h; k++) {
        double r, g, b;
        blues(1.0 - (k + 0.5) / h, &r, &g, &b);
        cairo_set_source_rgb(cr, r, g, b);
        cairo_rectangle(cr, x, y + k, w, 1.5 < h - k ? 1.5 : h - k);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, round(x) + 0.5, round(y) + 0.5, round(w), round(h));
    cairo_stroke(cr);
    qsnn_plot_ticks t;
    qsnn_plot_nice_ticks(&t, 0, 1, 6, 0);
    qsnn_plot_font(cr, 11, 0);
    char buf[16];
    for (int i = 0; i < t.count; i++) {
        double v = qsnn_plot_tick(&t, i), ty = round(y + h * (1 - v)) + 0.5;
        cairo_move_to(cr, x + w, ty);
        cairo_line_to(cr, x + w + 4, ty);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.*f", t.decimals, v);
        qsnn_plot_text(cr, buf, x + w + 7, ty, 0, 0.5, 0);
    }
    qsnn_plot_font(cr, 12, 0);
    qsnn_plot_text(cr, "fraction of the true class", x + w + 7 + qsnn_plot_text_width(cr, "0.0") + 10, y + h / 2, 0.5,
                   0, PI / 2);
}

typedef struct {
    const qsnn_confusion *cm;
    const qsnn_confusion_plot_opts *o;
    const double *nm; /* row-normalised */
} figure;

static qsnn_status draw(cairo_t *cr, void *ctx)
{
    const figure *f = ctx;
    const qsnn_confusion *cm = f->cm;
    const qsnn_confusion_plot_opts *o = f->o;
    const double *nm = f->nm;
    const int n = cm->n;
    uint64_t total = 0, hits = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            total += cm->counts[(size_t)i * n + j];
            hits += i == j ? cm->counts[(size_t)i * n + j] : 0;
        }
    double cell = fmin(90, fmax(30, 560.0 / n)), side = cell * n;
    /* two lines of text need 40 units: smaller cells (over 14 classes) print the fraction alone */
    qsnn_confusion_values values = o->values == QSNN_CONFUSION_BOTH && cell < 40 ? QSNN_CONFUSION_FRACTIONS : o->values;
    char buf[32];
    /* labels first: the box starts right of the widest true label */
    qsnn_plot_font(cr, 12, 0);
    double lw = 0;
    for (int i = 0; i < n; i++)
        lw = fmax(lw, qsnn_plot_text_width(cr, qsnn_confusion_label(cm, i, buf, sizeof buf)));
    const double x0 = lw + 40, y0 = 62;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double v = nm[(size_t)i * n + j], r, g, b;
            blues(v, &r, &g, &b);
            cairo_set_source_rgb(cr, r, g, b);
            cairo_rectangle(cr, x0 + j * cell, y0 + i * cell, cell + 0.5, cell + 0.5);
            cairo_fill(cr);
            cell_text(cr, values, v, cm->counts[(size_t)i * n + j], x0 + (j + 0.5) * cell, y0 + (i + 0.5) * cell, cell);
        }
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, round(x0) + 0.5, round(y0) + 0.5, round(side), round(side));
    cairo_stroke(cr);
    double bottom_w = 0; /* the longest rotated label: where "predicted label" goes */
    for (int i = 0; i < n; i++) {
        const char *lab = qsnn_confusion_label(cm, i, buf, sizeof buf);
        double c = round((i + 0.5) * cell) + 0.5;
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        cairo_move_to(cr, x0, y0 + c);
        cairo_line_to(cr, x0 - 4, y0 + c);
        cairo_move_to(cr, x0 + c, y0 + side);
        cairo_line_to(cr, x0 + c, y0 + side + 4);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        qsnn_plot_font(cr, 12, 0);
        qsnn_plot_text(cr, lab, x0 - 7, y0 + c, 1, 0.5, 0);
        /* rotated 45 degrees, its end under the column */
        qsnn_plot_text(cr, lab, x0 + c + 3, y0 + side + 9, 1, 0.5, PI / 4);
        bottom_w = fmax(bottom_w, qsnn_plot_text_width(cr, lab));
    }
    qsnn_plot_font(cr, 12.5, 0);
    qsnn_plot_text(cr, "predicted label", x0 + side / 2, y0 + side + 14 + bottom_w * 0.7071 + 8, 0.5, 0, 0);
    qsnn_plot_text(cr, "true label", x0 - 7 - lw - 12, y0 + side / 2, 0.5, 1, PI / 2);
    colour_bar(cr, x0 + side + 16, y0, 16, side);
    /* title: what, on what; then the accuracy */
    char title[320], sub[160];
    const char *model = base_name(o->model);
    snprintf(title, sizeof title, "Confusion matrix%s%.120s%s%.120s", model || o->split ? ": " : "", model ? model : "",
             model && o->split ? ", " : "", o->split ? o->split : "");
    if (total)
        snprintf(sub, sizeof sub, "accuracy %.2f %% (%llu of %llu clips)%s", 100.0 * (double)hits / (double)total,
                 (unsigned long long)hits, (unsigned long long)total,
                 values == QSNN_CONFUSION_COUNTS ? "; cells: clips"
                 : values == QSNN_CONFUSION_BOTH ? "; cells: fraction of the row, clips"
                                                 : "; cells: fraction of the row");
    else
        snprintf(sub, sizeof sub, "no clips");
    cairo_set_source_rgb(cr, 0, 0, 0);
    qsnn_plot_font(cr, 14.5, 1);
    qsnn_plot_text(cr, title, x0 + side / 2, y0 - 30, 0.5, 1, 0);
    qsnn_plot_font(cr, 12, 0);
    cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
    qsnn_plot_text(cr, sub, x0 + side / 2, y0 - 11, 0.5, 1, 0);
    return QSNN_OK;
}

qsnn_status qsnn_confusion_plot(const qsnn_confusion *cm, const qsnn_confusion_plot_opts *opts, const char *path)
{
    static const qsnn_confusion_plot_opts none = {NULL, NULL, QSNN_CONFUSION_FRACTIONS};
    qsnn_plot_format fmt;
    qsnn_status st = qsnn_plot_format_of(path, &fmt);
    if (st != QSNN_OK)
        return st;
    double *nm = malloc(sizeof(double) * (size_t)cm->n * (size_t)cm->n);
    if (!nm)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: confusion plot", path);
    qsnn_confusion_normalized(cm, nm);
    figure f = {cm, opts ? opts : &none, nm};
    st = qsnn_plot_render(path, 10, draw, &f);
    free(nm);
    return st;
}
