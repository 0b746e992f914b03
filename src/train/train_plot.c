/* SPDX-License-Identifier: Apache-2.0 */
/* train_plot.c: PNG of the training curves with cairo: loss (left) and train/validation accuracy (right) against
 * the epoch count over the whole run, episode boundaries as dashed lines. Written atomically. */
#include "qsnn/io.h"

#include "train/train_internal.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>

static cairo_status_t png_write(void *closure, const unsigned char *data, unsigned int len)
{
    return qsnn_atomic_write(closure, data, len) == QSNN_OK ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

typedef struct {
    double x0, y0, w, h, ymin, ymax;
    size_t n;
} panel;

static double px(const panel *p, double i) { return p->x0 + (p->n > 1 ? i / (double)(p->n - 1) : 0.5) * p->w; }
static double py(const panel *p, double v)
{
    double f = (v - p->ymin) / (p->ymax - p->ymin > 0 ? p->ymax - p->ymin : 1);
    return p->y0 + p->h * (1.0 - f);
}

static void draw_panel(cairo_t *cr, const panel *p, const char *title, const qsnn_train_result *res)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, p->x0, p->y0, p->w, p->h);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 13);
    cairo_move_to(cr, p->x0, p->y0 - 8);
    cairo_show_text(cr, title);
    char buf[32];
    cairo_set_font_size(cr, 10);
    for (int k = 0; k <= 4; k++) {
        double v = p->ymin + (p->ymax - p->ymin) * k / 4.0;
        snprintf(buf, sizeof buf, "%.2f", v);
        cairo_move_to(cr, p->x0 - 34, py(p, v) + 3);
        cairo_show_text(cr, buf);
    }
    snprintf(buf, sizeof buf, "%zu epochs", p->n);
    cairo_move_to(cr, p->x0 + p->w - 60, p->y0 + p->h + 16);
    cairo_show_text(cr, buf);
    double dash[] = {4, 4};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    for (size_t i = 1; i < res->num_records; i++)
        if (res->records[i].episode != res->records[i - 1].episode) {
            cairo_move_to(cr, px(p, (double)i - 0.5), p->y0);
            cairo_line_to(cr, px(p, (double)i - 0.5), p->y0 + p->h);
            cairo_stroke(cr);
        }
    cairo_set_dash(cr, NULL, 0, 0);
}

static void curve(cairo_t *cr, const panel *p, const qsnn_train_result *res, int which, double r, double g, double b)
{
    cairo_set_source_rgb(cr, r, g, b);
    cairo_set_line_width(cr, 2);
    int started = 0;
    for (size_t i = 0; i < res->num_records; i++) {
        const qsnn_epoch_record *e = &res->records[i];
        double v = which == 0 ? e->loss : which == 1 ? e->train_acc : e->val_acc;
        if (which == 2 && v < 0)
            continue;
        if (!started)
            cairo_move_to(cr, px(p, (double)i), py(p, v)), started = 1;
        else
            cairo_line_to(cr, px(p, (double)i), py(p, v));
    }
    cairo_stroke(cr);
}

qsnn_status qsnn_train_plot(const char *path, const qsnn_train_result *res)
{
    const int W = 900, H = 380;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    double lmax = 0.1;
    for (size_t i = 0; i < res->num_records; i++)
        if (isfinite(res->records[i].loss) && res->records[i].loss > lmax)
            lmax = res->records[i].loss;
    panel pl = {50, 40, 370, 290, 0, lmax, res->num_records};
    panel pa = {500, 40, 370, 290, 0, 1, res->num_records};
    draw_panel(cr, &pl, "training loss", res);
    draw_panel(cr, &pa, "accuracy: train (blue), validation (orange)", res);
    curve(cr, &pl, res, 0, 0.8, 0.1, 0.1);
    curve(cr, &pa, res, 1, 0.1, 0.3, 0.8);
    curve(cr, &pa, res, 2, 0.95, 0.5, 0.0);
    cairo_destroy(cr);
    qsnn_atomic_file f;
    qsnn_status st = qsnn_atomic_open(&f, path);
    if (st == QSNN_OK) {
        cairo_status_t cs = cairo_surface_write_to_png_stream(s, png_write, &f);
        if (cs != CAIRO_STATUS_SUCCESS) {
            qsnn_atomic_abort(&f);
            st = qsnn_fail(QSNN_ERR_IO, "%s: writing PNG failed (%s)", path, cairo_status_to_string(cs));
        } else {
            st = qsnn_atomic_commit(&f);
        }
    }
    cairo_surface_destroy(s);
    return st;
}
