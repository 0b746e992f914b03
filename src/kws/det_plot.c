/* SPDX-License-Identifier: Apache-2.0 */
/* det_plot.c: the DET curve of qsnn/stream_eval.h drawn with cairo (as src/report draws its figures): miss rate
 * (linear, %) against false accepts per hour on the keyword-free recording (log axis; points without any false
 * accept sit on the "0" column at the left edge), one line per averaging span over the threshold sweep, the
 * budget as a dashed vertical line and the calibrated point circled. PNG or SVG by the file extension; written
 * to a temporary name and renamed into place.
 */
#include "qsnn/stream_eval.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PI 3.14159265358979323846

enum { W = 800, H = 600 };
static const double L = 80, R = 620, T = 50, B = 530; /* plot box; legend to the right */

static double xpos(double fa, double lo, double hi)
{
    if (fa <= 0)
        return L - 0.0;
    double v = (log10(fa) - log10(lo)) / (log10(hi) - log10(lo));
    return L + 30 + v * (R - L - 30);
}
static double ypos(double miss) { return B - miss * (B - T); }

static void text(cairo_t *cr, const char *s, double x, double y, double ax, double ay)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - ax * e.width - e.x_bearing, y - ay * e.height - e.y_bearing);
    cairo_show_text(cr, s);
}

static void draw(cairo_t *cr, const qsnn_det_point *pts, const int *spans, int nspan, int nth, int chosen,
                 double budget, const char *title)
{
    static const double col[][3] = {{0.12, 0.47, 0.71}, {1.0, 0.5, 0.05}, {0.17, 0.63, 0.17},
                                    {0.84, 0.15, 0.16}, {0.58, 0.4, 0.74}, {0.55, 0.34, 0.29}};
    double lo = 0.1, hi = 10.0;
    for (int i = 0; i < nspan * nth; i++) {
        double fa = qsnn_stream_fa_per_hour(&pts[i].kwfree);
        while (fa > hi)
            hi *= 10.0;
    }
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    /* grid and axes */
    cairo_set_line_width(cr, 1);
    char buf[64];
    cairo_set_font_size(cr, 12);
    for (double d = lo; d <= hi * 1.001; d *= 10) {
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, xpos(d, lo, hi), T);
        cairo_line_to(cr, xpos(d, lo, hi), B);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(buf, sizeof buf, "%g", d);
        text(cr, buf, xpos(d, lo, hi), B + 8, 0.5, 0);
    }
    text(cr, "0", L, B + 8, 0.5, 0);
    for (int k = 0; k <= 10; k++) {
        double m = k / 10.0;
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_move_to(cr, L, ypos(m));
        cairo_line_to(cr, R, ypos(m));
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(buf, sizeof buf, "%d%%", k * 10);
        text(cr, buf, L - 8, ypos(m), 1, 0.5);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, L, T, R - L, B - T);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 13);
    text(cr, "false accepts per hour, keyword-free recording (log; left edge: none)", (L + R) / 2, B + 30, 0.5, 0);
    cairo_save(cr);
    cairo_translate(cr, 22, (T + B) / 2);
    cairo_rotate(cr, -PI / 2);
    text(cr, "missed keywords", 0, 0, 0.5, 0.5);
    cairo_restore(cr);
    cairo_set_font_size(cr, 15);
    text(cr, title ? title : "DET curve", W / 2.0, 18, 0.5, 0);
    /* the budget */
    if (budget > 0) {
        double dash[] = {6, 4};
        cairo_set_dash(cr, dash, 2, 0);
        cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
        cairo_move_to(cr, xpos(budget, lo, hi), T);
        cairo_line_to(cr, xpos(budget, lo, hi), B);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_set_font_size(cr, 11);
        snprintf(buf, sizeof buf, "budget %g/h", budget);
        text(cr, buf, xpos(budget, lo, hi) + 4, T + 6, 0, 0);
    }
    /* one line per span, thresholds in sweep order */
    cairo_set_line_width(cr, 2);
    cairo_set_font_size(cr, 12);
    for (int a = 0; a < nspan; a++) {
        const double *c = col[a % 6];
        cairo_set_source_rgb(cr, c[0], c[1], c[2]);
        for (int t = 0; t < nth; t++) {
            const qsnn_det_point *p = &pts[a * nth + t];
            double x = xpos(qsnn_stream_fa_per_hour(&p->kwfree), lo, hi), y = ypos(qsnn_stream_miss_rate(&p->kw));
            if (t == 0)
                cairo_move_to(cr, x, y);
            else
                cairo_line_to(cr, x, y);
        }
        cairo_stroke(cr);
        for (int t = 0; t < nth; t++) {
            const qsnn_det_point *p = &pts[a * nth + t];
            cairo_new_path(cr);
            cairo_arc(cr, xpos(qsnn_stream_fa_per_hour(&p->kwfree), lo, hi), ypos(qsnn_stream_miss_rate(&p->kw)),
                      2.2, 0, 2 * PI);
            cairo_fill(cr);
        }
        cairo_move_to(cr, R + 20, T + 20 + 22 * a);
        cairo_line_to(cr, R + 50, T + 20 + 22 * a);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(buf, sizeof buf, "average %d ms", spans[a]);
        text(cr, buf, R + 56, T + 20 + 22 * a, 0, 0.5);
    }
    if (chosen >= 0) {
        const qsnn_det_point *p = &pts[chosen];
        double x = xpos(qsnn_stream_fa_per_hour(&p->kwfree), lo, hi), y = ypos(qsnn_stream_miss_rate(&p->kw));
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, 2);
        cairo_new_path(cr); /* no line from the current point (the legend's text) */
        cairo_arc(cr, x, y, 8, 0, 2 * PI);
        cairo_stroke(cr);
        double y0 = T + 30 + 22 * nspan;
        cairo_set_font_size(cr, 12);
        text(cr, "circled: calibrated", R + 20, y0, 0, 0);
        snprintf(buf, sizeof buf, "threshold %.4g, %d ms", (double)p->threshold, p->average_ms);
        text(cr, buf, R + 20, y0 + 16, 0, 0);
        snprintf(buf, sizeof buf, "%.1f%% missed", 100.0 * qsnn_stream_miss_rate(&p->kw));
        text(cr, buf, R + 20, y0 + 32, 0, 0);
        snprintf(buf, sizeof buf, "%.2f false accepts/h", qsnn_stream_fa_per_hour(&p->kwfree));
        text(cr, buf, R + 20, y0 + 48, 0, 0);
    }
    cairo_set_font_size(cr, 10);
    text(cr, "dots: thresholds 0.05..0.9999", R + 20, T + 100 + 22 * nspan, 0, 0);
    text(cr, "(higher: up and left)", R + 20, T + 114 + 22 * nspan, 0, 0);
}

qsnn_status qsnn_stream_det_plot(const qsnn_det_point *pts, const int *spans, int nspan, int nth, int chosen,
                                 double budget, const char *title, const char *path)
{
    size_t len = strlen(path);
    int svg = len > 4 && !strcmp(path + len - 4, ".svg");
    if (!svg && !(len > 4 && !strcmp(path + len - 4, ".png")))
        return qsnn_fail(QSNN_ERR_ARG, "%s: the DET plot is .png or .svg", path);
    if (nspan < 1 || nth < 1)
        return qsnn_fail(QSNN_ERR_ARG, "%s: nothing to plot", path);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cairo_surface_t *s =
        svg ? cairo_svg_surface_create(tmp, W, H) : cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(s);
    draw(cr, pts, spans, nspan, nth, chosen, budget, title);
    cairo_destroy(cr);
    cairo_status_t cs;
    if (svg) {
        cairo_surface_finish(s);
        cs = cairo_surface_status(s);
    } else {
        cairo_surface_flush(s);
        cs = cairo_surface_write_to_png(s, tmp);
    }
    cairo_surface_destroy(s);
    if (cs != CAIRO_STATUS_SUCCESS) {
        remove(tmp);
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot write the plot: %s", path, cairo_status_to_string(cs));
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot rename the plot into place", path);
    }
    return QSNN_OK;
}
