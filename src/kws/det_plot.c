/* SPDX-License-Identifier: Apache-2.0 */
/* det_plot.c: the DET curve of qsnn/stream_eval.h, drawn with qsnn/plot.h like every other figure: missed
 * keywords (linear, %) against false accepts per hour on the keyword-free recording (log axis over whole
 * decades; points without any false accept sit on the "0" column at the left edge), one line per averaging span
 * over the threshold sweep (a dot per threshold), the budget as a dashed vertical line, the calibrated point
 * circled and described in the legend. PNG or SVG by the file extension, written atomically.
 */
#include "qsnn/plot.h"
#include "qsnn/stream_eval.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { MAX_SPANS = 10 };

typedef struct {
    const qsnn_det_point *pts;
    const int *spans;
    int nspan, nth, chosen;
    double budget, lo, hi;
    const char *title;
    double *x, *y; /* [nspan * nth + 1]: the points, then the chosen one */
} figure;

static qsnn_status draw(cairo_t *cr, void *ctx)
{
    const figure *f = ctx;
    const size_t np = (size_t)f->nspan * (size_t)f->nth;
    const int nth = f->nth;
    double *x = f->x, *y = f->y;
    /* the box's left edge is 0.45 decade below `lo`: room for the "0" column */
    qsnn_plot_axes a = {
        .x = 80,
        .y = 50,
        .w = 560,
        .h = 440,
        .title = f->title ? f->title : "DET curve",
        .xa = {.name = "false accepts per hour on the keyword-free recording (log scale; 0 at the left edge)",
               .lo = f->lo / pow(10.0, 0.45),
               .hi = f->hi,
               .log = 1,
               .fixed = 1},
        .ya = {.name = "missed keywords", .hi = 1, .fixed = 1, .max_ticks = 11, .scale = 100, .suffix = "%"}};
    qsnn_status st = qsnn_plot_axes_init(&a);
    if (st != QSNN_OK)
        return st;
    qsnn_plot_axes_draw(cr, &a);
    qsnn_plot_xtick(cr, &a, a.x, "0");
    char budget_label[48];
    if (f->budget > 0) {
        snprintf(budget_label, sizeof budget_label, "budget %g/h", f->budget);
        qsnn_plot_vline(cr, &a, f->budget, budget_label);
    }
    /* legend rows: one per span, then the calibrated point and its figures, then how to read the dots */
    qsnn_plot_series s[MAX_SPANS + 5];
    char span_label[MAX_SPANS][40], cal[2][80];
    int ns = 0;
    for (int k = 0; k < f->nspan; k++) {
        snprintf(span_label[k], sizeof span_label[k], "scores averaged over %d ms", f->spans[k]);
        s[ns] = (qsnn_plot_series){
            span_label[k], {0, 0, 0, 1.8, 0, QSNN_PLOT_MARK_DOT, 2.2}, x + k * nth, y + k * nth, (size_t)nth};
        qsnn_plot_palette(&s[ns++].style, k);
    }
    for (int k = 0; k < ns; k++)
        qsnn_plot_series_draw(cr, &a, &s[k], a.x);
    int nl = ns;
    if (f->chosen >= 0 && (size_t)f->chosen < np) {
        const qsnn_det_point *c = &f->pts[f->chosen];
        snprintf(cal[0], sizeof cal[0], "calibrated: threshold %.4g, %d ms", (double)c->threshold, c->average_ms);
        snprintf(cal[1], sizeof cal[1], "%.1f %% missed, %.2f false accepts/h", 100.0 * y[np], x[np]);
        s[nl] = (qsnn_plot_series){cal[0], {0.1, 0.1, 0.1, 0, 0, QSNN_PLOT_MARK_RING, 7}, x + np, y + np, 1};
        qsnn_plot_series_draw(cr, &a, &s[nl++], a.x);
        s[nl++] = (qsnn_plot_series){cal[1], {0, 0, 0, 0, 0, QSNN_PLOT_MARK_NONE, 0}, NULL, NULL, 0};
    }
    s[nl++] = (qsnn_plot_series){
        "dots: thresholds 0.05..0.9999, higher up and left", {0, 0, 0, 0, 0, QSNN_PLOT_MARK_NONE, 0}, NULL, NULL, 0};
    qsnn_plot_legend(cr, &a, s, (size_t)nl, s, (size_t)ns);
    return QSNN_OK;
}

qsnn_status qsnn_stream_det_plot(const qsnn_det_point *pts, const int *spans, int nspan, int nth, int chosen,
                                 double budget, const char *title, const char *path)
{
    qsnn_plot_format fmt;
    qsnn_status st = qsnn_plot_format_of(path, &fmt);
    if (st != QSNN_OK)
        return st;
    if (nspan < 1 || nth < 1)
        return qsnn_fail(QSNN_ERR_ARG, "%s: nothing to plot", path);
    if (nspan > MAX_SPANS)
        nspan = MAX_SPANS; /* the legend's colours; the command takes fewer */
    size_t np = (size_t)nspan * (size_t)nth;
    double *x = malloc(sizeof(double) * (np + 1) * 2);
    if (!x)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: DET plot", path);
    double *y = x + np + 1;
    /* the x range: from 0.1 per hour (or the smallest positive rate) to the decade above the largest */
    double lo = 0.1, hi = 10.0;
    for (size_t i = 0; i < np; i++) {
        x[i] = qsnn_stream_fa_per_hour(&pts[i].kwfree);
        y[i] = qsnn_stream_miss_rate(&pts[i].kw);
        if (x[i] > 0 && x[i] < lo)
            lo = pow(10.0, floor(log10(x[i])));
        while (x[i] > hi)
            hi *= 10.0;
    }
    if (budget > 0 && budget < lo)
        lo = pow(10.0, floor(log10(budget)));
    if (budget > hi)
        hi = pow(10.0, ceil(log10(budget)));
    x[np] = y[np] = NAN;
    if (chosen >= 0 && (size_t)chosen < np)
        x[np] = x[chosen], y[np] = y[chosen];
    figure f = {pts, spans, nspan, nth, chosen, budget, lo, hi, title, x, y};
    st = qsnn_plot_render(path, 10, draw, &f);
    free(x);
    return st;
}
