/* SPDX-License-Identifier: Apache-2.0 */
/* canvas.c: a figure's canvas. The figure's draw function runs twice: onto an unbounded cairo recording surface,
 * which measures its ink, then onto a PNG image or an SVG surface of exactly that size plus the margin, white,
 * shifted into it, streamed through qsnn_atomic_file (the old file stays until the new one is complete, its
 * mode is kept, /dev/null is written through). The format comes from the extension alone, checked before any
 * drawing, so a typo fails at once and names the file. Also the text helpers every figure uses.
 */
#include "qsnn/io.h"
#include "qsnn/plot.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <string.h>
#include <strings.h>

qsnn_status qsnn_plot_format_of(const char *path, qsnn_plot_format *fmt)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (dot && strchr(dot, '/'))
        dot = NULL;
    if (dot && !strcasecmp(dot, ".png")) {
        *fmt = QSNN_PLOT_PNG;
        return QSNN_OK;
    }
    if (dot && !strcasecmp(dot, ".svg")) {
        *fmt = QSNN_PLOT_SVG;
        return QSNN_OK;
    }
    return qsnn_fail(QSNN_ERR_ARG, "%s: unknown plot format '%s' (the file name must end in .png or .svg)",
                     path ? path : "(null)", dot ? dot : "");
}

static cairo_status_t stream_write(void *closure, const unsigned char *data, unsigned int len)
{
    return qsnn_atomic_write(closure, data, len) == QSNN_OK ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* One pass of the figure onto s, shifted by (-x0, -y0); white first when `paint`. */
static qsnn_status pass(cairo_surface_t *s, int paint, double x0, double y0, qsnn_plot_draw_fn draw, void *ctx,
                        cairo_status_t *cs)
{
    cairo_t *cr = cairo_create(s);
    if (paint) {
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
    }
    cairo_translate(cr, -x0, -y0);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    qsnn_plot_font(cr, 12, 0);
    qsnn_status st = draw(cr, ctx);
    *cs = cairo_status(cr);
    cairo_destroy(cr);
    return st;
}

qsnn_status qsnn_plot_render(const char *path, double margin, qsnn_plot_draw_fn draw, void *ctx)
{
    qsnn_plot_format fmt;
    qsnn_status st = qsnn_plot_format_of(path, &fmt);
    if (st != QSNN_OK)
        return st;
    /* pass 1: measure the ink */
    cairo_status_t cs;
    cairo_surface_t *rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, NULL);
    st = pass(rec, 0, 0, 0, draw, ctx, &cs);
    double x0 = 0, y0 = 0, w = 0, h = 0;
    if (st == QSNN_OK && cs == CAIRO_STATUS_SUCCESS)
        cairo_recording_surface_ink_extents(rec, &x0, &y0, &w, &h);
    cairo_surface_destroy(rec);
    if (st != QSNN_OK)
        return st;
    if (cs != CAIRO_STATUS_SUCCESS)
        return qsnn_fail(QSNN_ERR_IO, "%s: drawing the plot failed (%s)", path, cairo_status_to_string(cs));
    if (!(w > 0 && h > 0))
        x0 = y0 = 0, w = h = 1; /* nothing drawn: a blank 1x1 plus the margin */
    x0 = floor(x0 - margin);
    y0 = floor(y0 - margin);
    int W = (int)ceil(w + 2 * margin) + 1, H = (int)ceil(h + 2 * margin) + 1;
    /* pass 2: draw again onto the file's surface, shifted into it. (Not a replay of the recording: cairo 1.16
     * leaks a font reference replaying rotated text into an SVG, and cairo_debug_reset_static_data then aborts.) */
    qsnn_atomic_file f;
    if ((st = qsnn_atomic_open(&f, path)) != QSNN_OK)
        return st;
    cairo_surface_t *s;
    if (fmt == QSNN_PLOT_SVG) {
        s = cairo_svg_surface_create_for_stream(stream_write, &f, W, H);
        st = pass(s, 1, x0, y0, draw, ctx, &cs);
        cairo_surface_finish(s); /* the SVG is written here */
        if (cs == CAIRO_STATUS_SUCCESS)
            cs = cairo_surface_status(s);
    } else {
        s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
        st = pass(s, 1, x0, y0, draw, ctx, &cs);
        cairo_surface_flush(s);
        if (st == QSNN_OK && cs == CAIRO_STATUS_SUCCESS)
            cs = cairo_surface_write_to_png_stream(s, stream_write, &f);
    }
    cairo_surface_destroy(s);
    if (st != QSNN_OK) {
        qsnn_atomic_abort(&f);
        return st;
    }
    if (cs != CAIRO_STATUS_SUCCESS) {
        qsnn_atomic_abort(&f);
        return f.failed ? QSNN_ERR_IO
                        : qsnn_fail(QSNN_ERR_IO, "%s: writing the %s failed (%s)", path,
                                    fmt == QSNN_PLOT_SVG ? "SVG" : "PNG", cairo_status_to_string(cs));
    }
    return qsnn_atomic_commit(&f);
}

/* ---- text ---- */

void qsnn_plot_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

double qsnn_plot_text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

void qsnn_plot_text(cairo_t *cr, const char *s, double x, double y, double ha, double va, double angle)
{
    cairo_text_extents_t e, cap;
    cairo_text_extents(cr, s, &e);
    cairo_text_extents(cr, "X", &cap); /* the cap height: one baseline for every label of a size */
    cairo_save(cr);
    cairo_translate(cr, x, y);
    if (angle != 0)
        cairo_rotate(cr, -angle);
    cairo_move_to(cr, -ha * e.x_advance, -cap.y_bearing * (1.0 - va));
    cairo_show_text(cr, s);
    cairo_new_path(cr); /* no current point left behind for the next path */
    cairo_restore(cr);
}
