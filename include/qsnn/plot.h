/* SPDX-License-Identifier: Apache-2.0 */
/* qsnn/plot.h: the figures' common parts, drawn with cairo: a canvas written as PNG or SVG by the output file's
 * extension, "nice" ticks (1, 2 or 5 x 10^k), axes with a light grid, named axes and tick labels, line series,
 * labelled vertical markers and a legend box placed where the data is not. Every plot of qsnn (training curves,
 * confusion matrix, DET curve, bench_curves) is drawn with these, so they look alike.
 *
 * Units are canvas units: pixels in a PNG, points in an SVG (one unit each). The canvas is measured on a first
 * drawing and cropped to what was drawn plus a margin, so a figure has no blank band whatever its labels.
 * cairo is only named here (cairo_t, for the drawing a figure does itself); include <cairo.h> to draw.
 */
#ifndef QSNN_PLOT_H
#define QSNN_PLOT_H

#include "qsnn/core.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _cairo cairo_t; /* cairo's own declaration (cairo.h), repeated so this header needs no cairo */

/* ---- output format ---- */
typedef enum { QSNN_PLOT_PNG = 1, QSNN_PLOT_SVG = 2 } qsnn_plot_format;

/* The format of `path` by its extension (.png or .svg, any case) into *fmt; QSNN_ERR_ARG naming the file for
 * anything else, so a command can refuse a bad name before it works (train checks before the first epoch). */
qsnn_status qsnn_plot_format_of(const char *path, qsnn_plot_format *fmt);

/* ---- canvas ---- */
/* A figure: draws onto cr (white background, black, 1-unit lines, sans-serif at 12 units already set) and
 * returns QSNN_OK, or an error that stops the rendering. It is called twice with the same ctx and must draw the
 * same both times (the first call measures). */
typedef qsnn_status (*qsnn_plot_draw_fn)(cairo_t *cr, void *ctx);

/* Renders draw(cr, ctx) into `path`, PNG or SVG by its extension (checked first: QSNN_ERR_ARG naming the file),
 * cropped to the ink plus `margin` units on every side, atomically (the old file stays until the new one is
 * complete; errors name the file). */
qsnn_status qsnn_plot_render(const char *path, double margin, qsnn_plot_draw_fn draw, void *ctx);

/* ---- text ---- */
/* Font size (units) and weight (bold != 0) of the sans-serif face. */
void qsnn_plot_font(cairo_t *cr, double size, int bold);
/* Text anchored at (x, y): ha 0 left, 0.5 centre, 1 right of the advance; va 0 top, 0.5 middle, 1 bottom of the
 * cap height (so baselines of labels line up; descenders hang below), rotated by `angle` radians
 * (counter-clockwise on screen) about the anchor. */
void qsnn_plot_text(cairo_t *cr, const char *s, double x, double y, double ha, double va, double angle);
/* Advance width of s in the current font. */
double qsnn_plot_text_width(cairo_t *cr, const char *s);

/* ---- ticks ---- */
typedef struct {
    double step;  /* 1, 2 or 5 x 10^k */
    double first; /* a multiple of step, <= lo */
    int count;    /* ticks first, first + step, ... ; the last one >= hi */
    int decimals; /* digits after the point that print every tick exactly ("%.*f") */
} qsnn_plot_ticks;

/* The smallest nice step whose ticks cover [lo, hi] with at most max_ticks ticks (at least 3 are allowed: a range
 * across 0 needs -s, 0, s); lo == hi is widened (by 1, or 10 % of |lo|); integer != 0 gives a step of at least 1.
 * QSNN_ERR_ARG on a non-finite bound or range, or lo > hi. */
qsnn_status qsnn_plot_nice_ticks(qsnn_plot_ticks *t, double lo, double hi, int max_ticks, int integer);
/* Tick i: first + i * step as the nearest double (3 x 0.1 gives 0.3), never -0. */
double qsnn_plot_tick(const qsnn_plot_ticks *t, int i);

/* ---- axes ---- */
typedef struct {
    const char *name;      /* axis title ("epoch"), or NULL */
    double lo, hi;         /* the data range; qsnn_plot_axes_init widens a linear axis to whole ticks unless fixed */
    int log;               /* log10 axis (lo > 0): ticks at powers of ten, unlabelled minor ticks at 2..9 x 10^k */
    int integer;           /* ticks at whole numbers only (epochs, counts) */
    int fixed;             /* keep lo and hi as given: the ticks are those inside */
    int max_ticks;         /* 0: 7 */
    double scale;          /* tick labels show value x scale (100: percent); 0 = 1 */
    const char *suffix;    /* printed after each tick label ("%"), or NULL */
    qsnn_plot_ticks ticks; /* set by qsnn_plot_axes_init (linear axes) */
} qsnn_plot_axis;

typedef struct {
    double x, y, w, h; /* the plot box on the canvas: left, top, width, height */
    qsnn_plot_axis xa, ya;
    const char *title; /* above the box (bold), or NULL */
    double title_gap;  /* extra space between the box and the title (room for marker labels), units */
} qsnn_plot_axes;

/* Ticks and final ranges of both axes. QSNN_ERR_ARG on an empty or non-finite range, or lo <= 0 on a log axis. */
qsnn_status qsnn_plot_axes_init(qsnn_plot_axes *a);
/* Canvas coordinates of data coordinates. */
double qsnn_plot_px(const qsnn_plot_axes *a, double x);
double qsnn_plot_py(const qsnn_plot_axes *a, double y);
/* Grid (light grey at every major tick), frame, ticks, tick labels, axis names and title. Draw it first; the data
 * goes on top. */
void qsnn_plot_axes_draw(cairo_t *cr, const qsnn_plot_axes *a);
/* One extra labelled tick under the x axis at canvas x (e.g. DET's "0" column left of a log axis). */
void qsnn_plot_xtick(cairo_t *cr, const qsnn_plot_axes *a, double px, const char *label);

/* ---- data ---- */
typedef enum { QSNN_PLOT_MARK_NONE, QSNN_PLOT_MARK_DOT, QSNN_PLOT_MARK_RING } qsnn_plot_mark;

typedef struct {
    double r, g, b; /* colour, 0..1 */
    double width;   /* line width; 0: no line (markers or a legend note only) */
    int dashed;
    qsnn_plot_mark mark; /* a marker at every point */
    double mark_size;    /* radius; 0: 2.5 (dot), 6 (ring) */
} qsnn_plot_style;

typedef struct {
    const char *label; /* legend text, or NULL: not in the legend */
    qsnn_plot_style style;
    const double *x, *y; /* n points in data coordinates */
    size_t n;            /* a point with a non-finite coordinate is skipped and breaks the line */
} qsnn_plot_series;

/* The series, clipped to the plot box. On a log x axis, x <= 0 is drawn at canvas x `x_zero` (pass the box's
 * left edge, or NAN to skip such points). */
void qsnn_plot_series_draw(cairo_t *cr, const qsnn_plot_axes *a, const qsnn_plot_series *s, double x_zero);
/* A vertical marker across the box at data x (dashed grey); `label`, if any, inside the box at its top, right of
 * the line. */
void qsnn_plot_vline(cairo_t *cr, const qsnn_plot_axes *a, double x, const char *label);
/* A label centred above the box over the data span [x0, x1] (e.g. "episode 2"); an axes title then needs
 * title_gap >= 16 to stay clear of it. */
void qsnn_plot_band(cairo_t *cr, const qsnn_plot_axes *a, double x0, double x1, const char *label);

/* Legend box inside the plot box, in the corner (of upper right, lower right, upper left, lower left, in that
 * order of preference) that covers the fewest points and line pieces of `avoid` (navoid series; NULL: the
 * entries themselves). Entries: every series of `s` with a label, its line and marker as drawn; a series with
 * no line and no marker is a note (text only). */
void qsnn_plot_legend(cairo_t *cr, const qsnn_plot_axes *a, const qsnn_plot_series *s, size_t n,
                      const qsnn_plot_series *avoid, size_t navoid);

/* The same legend box with its top-left corner at canvas (x, y), e.g. outside the plot boxes. */
void qsnn_plot_legend_at(cairo_t *cr, double x, double y, const qsnn_plot_series *s, size_t n);

/* The entries side by side in one box, centred on canvas x cx, its top at y (e.g. under a row of panels). */
void qsnn_plot_legend_row(cairo_t *cr, double cx, double y, const qsnn_plot_series *s, size_t n);

/* A qualitative palette (matplotlib's tab10): colour i % 10 into the style. */
void qsnn_plot_palette(qsnn_plot_style *st, int i);

#ifdef __cplusplus
}
#endif
#endif
