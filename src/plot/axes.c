/* SPDX-License-Identifier: Apache-2.0 */
/* axes.c: nice ticks, axes (grid, frame, tick labels, names, title), line series clipped to the box, vertical
 * markers, labels over spans and the legend box.
 *
 * Nice ticks: the candidate steps are 1, 2 and 5 x 10^k, tried from below range / max_ticks upwards; the first
 * whose multiples from floor(lo / step) to ceil(hi / step) number at most max_ticks wins, so the ticks always
 * cover the range and the step is the finest that fits. Tick values are first + i * step computed from the
 * integer index (no accumulated rounding), and `decimals` is -k for a step m x 10^k (0 for k >= 0), which prints
 * every tick exactly. Legend placement counts, for each candidate corner, the data points and the points
 * sampled along each line piece that fall under the box, and takes the emptiest (ties: the preferred order).
 */
#include "qsnn/plot.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PI 3.14159265358979323846

static const double GRID = 0.9, TICK_LEN = 5, FONT_TICK = 11, FONT_NAME = 12.5, FONT_TITLE = 13.5;

qsnn_status qsnn_plot_nice_ticks(qsnn_plot_ticks *t, double lo, double hi, int max_ticks, int integer)
{
    memset(t, 0, sizeof *t);
    if (!isfinite(lo) || !isfinite(hi) || lo > hi || !isfinite(hi - lo))
        return qsnn_fail(QSNN_ERR_ARG, "plot ticks: range [%g, %g]", lo, hi);
    if (max_ticks < 3)
        max_ticks = 3; /* a range across 0 needs -s, 0, s */
    if (hi == lo) {
        double d = lo != 0 ? fabs(lo) * 0.1 : 1.0;
        lo -= d;
        hi += d;
    }
    static const double mant[3] = {1, 2, 5};
    int k = (int)floor(log10((hi - lo) / max_ticks)) - 1;
    for (int tries = 0; tries < 64; tries++, k++) { /* ends within a few: step grows x10 per round */
        double p = pow(10.0, k);
        for (int m = 0; m < 3; m++) {
            double step = mant[m] * p;
            if (integer && step < 1)
                continue;
            /* a bound within 1e-9 of a step counts as on it (0.3 / 0.1 is 2.9999999999999996) */
            double a = floor(lo / step + 1e-9), b = ceil(hi / step - 1e-9);
            if (b - a + 1 <= max_ticks) {
                t->step = step;
                t->first = a * step;
                t->count = (int)(b - a) + 1;
                t->decimals = k < 0 ? -k : 0;
                return QSNN_OK;
            }
        }
    }
    return qsnn_fail(QSNN_ERR_ARG, "plot ticks: no step for [%g, %g]", lo, hi);
}

double qsnn_plot_tick(const qsnn_plot_ticks *t, int i)
{
    /* (index of first + i) x mantissa / 10^decimals: integers until the one division, so 3 x 0.1 is 0.3 */
    double scale = pow(10.0, t->decimals), m = round(t->step * scale);
    double v = (round(t->first / t->step) + (double)i) * m / scale;
    return v == 0 ? 0.0 : v; /* no "-0" */
}

static qsnn_status axis_init(qsnn_plot_axis *ax, const char *which)
{
    if (!isfinite(ax->lo) || !isfinite(ax->hi) || ax->lo > ax->hi || (ax->log && ax->lo <= 0))
        return qsnn_fail(QSNN_ERR_ARG, "plot %s axis '%s': range [%g, %g]%s", which, ax->name ? ax->name : "", ax->lo,
                         ax->hi, ax->log ? " on a log axis" : "");
    if (ax->log) {
        if (!ax->fixed) {
            ax->lo = pow(10.0, floor(log10(ax->lo) + 1e-9));
            ax->hi = pow(10.0, ceil(log10(ax->hi) - 1e-9));
        }
        if (ax->hi <= ax->lo)
            ax->hi = ax->lo * 10;
        return QSNN_OK;
    }
    qsnn_status st = qsnn_plot_nice_ticks(&ax->ticks, ax->lo, ax->hi, ax->max_ticks ? ax->max_ticks : 7, ax->integer);
    if (st != QSNN_OK)
        return st;
    if (!ax->fixed || ax->hi == ax->lo) {
        ax->lo = qsnn_plot_tick(&ax->ticks, 0);
        ax->hi = qsnn_plot_tick(&ax->ticks, ax->ticks.count - 1);
    }
    return QSNN_OK;
}

qsnn_status qsnn_plot_axes_init(qsnn_plot_axes *a)
{
    qsnn_status st = axis_init(&a->xa, "x");
    return st != QSNN_OK ? st : axis_init(&a->ya, "y");
}

static double frac(const qsnn_plot_axis *ax, double v)
{
    if (ax->log)
        return (log10(v) - log10(ax->lo)) / (log10(ax->hi) - log10(ax->lo));
    return (v - ax->lo) / (ax->hi - ax->lo);
}

double qsnn_plot_px(const qsnn_plot_axes *a, double x) { return a->x + frac(&a->xa, x) * a->w; }
double qsnn_plot_py(const qsnn_plot_axes *a, double y) { return a->y + a->h - frac(&a->ya, y) * a->h; }

static void tick_label(char *buf, size_t cap, const qsnn_plot_axis *ax, double v)
{
    double s = ax->scale != 0 ? ax->scale : 1.0;
    const char *suf = ax->suffix ? ax->suffix : "";
    if (ax->log) {
        snprintf(buf, cap, "%g%s", v * s, suf);
        return;
    }
    int dec = ax->ticks.decimals - (int)lround(log10(s));
    snprintf(buf, cap, "%.*f%s", dec > 0 ? dec : 0, v * s == 0 ? 0.0 : v * s, suf);
}

/* The major tick values of an axis inside its range: linear ticks, or the powers of ten of a log axis. */
static int majors(const qsnn_plot_axis *ax, double *v, int cap)
{
    int n = 0;
    if (ax->log) {
        for (double d = pow(10.0, ceil(log10(ax->lo) - 1e-9)); d <= ax->hi * (1 + 1e-9) && n < cap; d *= 10)
            v[n++] = d;
        return n;
    }
    for (int i = 0; i < ax->ticks.count && n < cap; i++) {
        double t = qsnn_plot_tick(&ax->ticks, i);
        double eps = 1e-9 * (ax->hi - ax->lo);
        if (t >= ax->lo - eps && t <= ax->hi + eps)
            v[n++] = t;
    }
    return n;
}

static void line(cairo_t *cr, double x0, double y0, double x1, double y1)
{
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
}

void qsnn_plot_axes_draw(cairo_t *cr, const qsnn_plot_axes *a)
{
    double xv[64], yv[64];
    int nx = majors(&a->xa, xv, 64), ny = majors(&a->ya, yv, 64);
    cairo_save(cr);
    /* grid: pixel-aligned hairlines, light grey */
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, GRID, GRID, GRID);
    for (int i = 0; i < nx; i++) {
        double x = round(qsnn_plot_px(a, xv[i])) + 0.5;
        line(cr, x, a->y, x, a->y + a->h);
    }
    for (int i = 0; i < ny; i++) {
        double y = round(qsnn_plot_py(a, yv[i])) + 0.5;
        line(cr, a->x, y, a->x + a->w, y);
    }
    /* frame */
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_rectangle(cr, round(a->x) + 0.5, round(a->y) + 0.5, round(a->w), round(a->h));
    cairo_stroke(cr);
    /* ticks and their labels */
    char buf[64];
    qsnn_plot_font(cr, FONT_TICK, 0);
    double ylab_w = 0, bottom = a->y + a->h;
    for (int i = 0; i < nx; i++) {
        double x = round(qsnn_plot_px(a, xv[i])) + 0.5;
        line(cr, x, bottom, x, bottom + TICK_LEN);
        tick_label(buf, sizeof buf, &a->xa, xv[i]);
        qsnn_plot_text(cr, buf, x, bottom + TICK_LEN + 4, 0.5, 0, 0);
    }
    for (int i = 0; i < ny; i++) {
        double y = round(qsnn_plot_py(a, yv[i])) + 0.5;
        line(cr, a->x - TICK_LEN, y, a->x, y);
        tick_label(buf, sizeof buf, &a->ya, yv[i]);
        double w = qsnn_plot_text_width(cr, buf);
        ylab_w = w > ylab_w ? w : ylab_w;
        qsnn_plot_text(cr, buf, a->x - TICK_LEN - 4, y, 1, 0.5, 0);
    }
    /* minor ticks of log axes: 2..9 x 10^k */
    for (int ax = 0; ax < 2; ax++) {
        const qsnn_plot_axis *A = ax ? &a->ya : &a->xa;
        if (!A->log)
            continue;
        for (double d = pow(10.0, ceil(log10(A->lo) - 1e-9)); d < A->hi; d *= 10) /* from the first labelled */
            for (int m = 2; m <= 9; m++) {
                double v = d * m;
                if (v < A->lo || v > A->hi)
                    continue;
                if (ax) {
                    double y = round(qsnn_plot_py(a, v)) + 0.5;
                    line(cr, a->x - TICK_LEN * 0.6, y, a->x, y);
                } else {
                    double x = round(qsnn_plot_px(a, v)) + 0.5;
                    line(cr, x, bottom, x, bottom + TICK_LEN * 0.6);
                }
            }
    }
    /* axis names and title */
    cairo_set_source_rgb(cr, 0, 0, 0);
    qsnn_plot_font(cr, FONT_NAME, 0);
    if (a->xa.name)
        qsnn_plot_text(cr, a->xa.name, a->x + a->w / 2, bottom + TICK_LEN + 4 + FONT_TICK + 9, 0.5, 0, 0);
    if (a->ya.name)
        qsnn_plot_text(cr, a->ya.name, a->x - TICK_LEN - 4 - ylab_w - 9, a->y + a->h / 2, 0.5, 1, PI / 2);
    if (a->title) {
        qsnn_plot_font(cr, FONT_TITLE, 1);
        qsnn_plot_text(cr, a->title, a->x + a->w / 2, a->y - 9 - a->title_gap, 0.5, 1, 0);
    }
    cairo_restore(cr);
}

void qsnn_plot_xtick(cairo_t *cr, const qsnn_plot_axes *a, double px, const char *label)
{
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 1);
    double x = round(px) + 0.5, bottom = a->y + a->h;
    line(cr, x, bottom, x, bottom + TICK_LEN);
    qsnn_plot_font(cr, FONT_TICK, 0);
    qsnn_plot_text(cr, label, x, bottom + TICK_LEN + 4, 0.5, 0, 0);
    cairo_restore(cr);
}

static void set_style(cairo_t *cr, const qsnn_plot_style *st)
{
    cairo_set_source_rgb(cr, st->r, st->g, st->b);
    cairo_set_line_width(cr, st->width > 0 ? st->width : 1);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    double dash[2] = {5 * (st->width > 1 ? st->width / 1.5 : 1), 3 * (st->width > 1 ? st->width / 1.5 : 1)};
    cairo_set_dash(cr, dash, st->dashed ? 2 : 0, 0);
}

static void mark(cairo_t *cr, const qsnn_plot_style *st, double x, double y)
{
    if (st->mark == QSNN_PLOT_MARK_NONE)
        return;
    double r = st->mark_size > 0 ? st->mark_size : st->mark == QSNN_PLOT_MARK_DOT ? 2.5 : 6;
    cairo_new_path(cr);
    cairo_arc(cr, x, y, r, 0, 2 * PI);
    if (st->mark == QSNN_PLOT_MARK_DOT) {
        cairo_fill(cr);
    } else {
        cairo_save(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_set_line_width(cr, 1.8);
        cairo_stroke(cr);
        cairo_restore(cr);
    }
}

/* Canvas position of point i, or 0 when it is not drawn. */
static int point(const qsnn_plot_axes *a, const qsnn_plot_series *s, size_t i, double x_zero, double *px, double *py)
{
    double x = s->x[i], y = s->y[i];
    if (!isfinite(x) || !isfinite(y))
        return 0;
    if (a->xa.log && x <= 0) {
        if (!isfinite(x_zero))
            return 0;
        *px = x_zero;
    } else {
        *px = qsnn_plot_px(a, x);
    }
    *py = qsnn_plot_py(a, y);
    return 1;
}

void qsnn_plot_series_draw(cairo_t *cr, const qsnn_plot_axes *a, const qsnn_plot_series *s, double x_zero)
{
    cairo_save(cr);
    cairo_rectangle(cr, a->x - 8, a->y - 8, a->w + 16, a->h + 16); /* markers on the frame stay whole */
    cairo_clip(cr);
    cairo_new_path(cr);
    set_style(cr, &s->style);
    double x, y;
    if (s->style.width > 0) {
        cairo_save(cr);
        cairo_new_path(cr);
        cairo_rectangle(cr, a->x, a->y - s->style.width, a->w, a->h + 2 * s->style.width);
        cairo_clip(cr);
        int open = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (!point(a, s, i, x_zero, &x, &y)) {
                open = 0;
                continue;
            }
            if (open)
                cairo_line_to(cr, x, y);
            else
                cairo_move_to(cr, x, y);
            open = 1;
        }
        cairo_stroke(cr);
        cairo_restore(cr);
    }
    for (size_t i = 0; i < s->n; i++)
        if (point(a, s, i, x_zero, &x, &y))
            mark(cr, &s->style, x, y);
    cairo_restore(cr);
}

void qsnn_plot_vline(cairo_t *cr, const qsnn_plot_axes *a, double x, const char *label)
{
    double px = round(qsnn_plot_px(a, x)) + 0.5;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
    cairo_set_line_width(cr, 1.2);
    double dash[2] = {5, 4};
    cairo_set_dash(cr, dash, 2, 0);
    line(cr, px, a->y, px, a->y + a->h);
    if (label) {
        qsnn_plot_font(cr, 10.5, 0);
        qsnn_plot_text(cr, label, px + 4, a->y + 5, 0, 0, 0);
    }
    cairo_restore(cr);
}

void qsnn_plot_band(cairo_t *cr, const qsnn_plot_axes *a, double x0, double x1, const char *label)
{
    double p0 = qsnn_plot_px(a, x0), p1 = qsnn_plot_px(a, x1);
    p0 = p0 < a->x ? a->x : p0;
    p1 = p1 > a->x + a->w ? a->x + a->w : p1;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    qsnn_plot_font(cr, 11, 0);
    double w = qsnn_plot_text_width(cr, label);
    if (w > p1 - p0 - 4) /* a narrow span: a smaller font */
        qsnn_plot_font(cr, 11 * (p1 - p0 - 4) / w > 7 ? 11 * (p1 - p0 - 4) / w : 7, 0);
    qsnn_plot_text(cr, label, (p0 + p1) / 2, a->y - 5, 0.5, 1, 0);
    cairo_restore(cr);
}

/* ---- legend ---- */

static int is_note(const qsnn_plot_style *st) { return st->width <= 0 && st->mark == QSNN_PLOT_MARK_NONE; }

/* Points of the series under the rectangle: every point, and 8 samples along every line piece. */
static size_t covered(const qsnn_plot_axes *a, const qsnn_plot_series *s, size_t n, double x0, double y0, double x1,
                      double y1)
{
    size_t hits = 0;
    for (size_t k = 0; k < n; k++) {
        double px = 0, py = 0, qx, qy;
        int prev = 0;
        for (size_t i = 0; i < s[k].n; i++) {
            if (!point(a, &s[k], i, a->x, &qx, &qy)) {
                prev = 0;
                continue;
            }
            int steps = prev && s[k].style.width > 0 ? 8 : 1;
            for (int j = 1; j <= steps; j++) {
                double t = (double)j / steps, x = steps > 1 ? px + t * (qx - px) : qx,
                       y = steps > 1 ? py + t * (qy - py) : qy;
                hits += x >= x0 && x <= x1 && y >= y0 && y <= y1;
            }
            px = qx, py = qy, prev = 1;
        }
    }
    return hits;
}

static const double LEG_PAD = 7, LEG_KEY = 26, LEG_GAP = 6, LEG_ROW = 17, LEG_INSET = 8;

/* Whether any labelled entry has a key (a line or a marker). */
static int keyed(const qsnn_plot_series *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].label && !is_note(&s[i].style))
            return 1;
    return 0;
}

/* The legend box's size for the labelled entries of s (font set by the caller); 0 rows: nothing to draw. */
static int legend_size(cairo_t *cr, const qsnn_plot_series *s, size_t n, double *bw, double *bh)
{
    double tw = 0, indent = keyed(s, n) ? LEG_KEY + LEG_GAP : 0;
    int rows = 0;
    for (size_t i = 0; i < n; i++) {
        if (!s[i].label)
            continue;
        double w = qsnn_plot_text_width(cr, s[i].label) + indent;
        tw = w > tw ? w : tw;
        rows++;
    }
    *bw = round(tw + 2 * LEG_PAD);
    *bh = round(rows * LEG_ROW + 2 * LEG_PAD - 4);
    return rows;
}

/* A legend's box: white, with a light grey frame. */
static void legend_frame(cairo_t *cr, double bx, double by, double bw, double bh)
{
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
}

static void legend_box(cairo_t *cr, double bx, double by, double bw, double bh, const qsnn_plot_series *s, size_t n)
{
    const double indent = keyed(s, n) ? LEG_KEY + LEG_GAP : 0; /* notes line up with the entries' text */
    bx = round(bx) + 0.5, by = round(by) + 0.5;
    legend_frame(cr, bx, by, bw, bh);
    double y = by + LEG_PAD + LEG_ROW / 2 - 2;
    for (size_t i = 0; i < n; i++) {
        if (!s[i].label)
            continue;
        double x = bx + LEG_PAD;
        if (!is_note(&s[i].style)) {
            set_style(cr, &s[i].style);
            if (s[i].style.width > 0)
                line(cr, x, y, x + LEG_KEY, y);
            mark(cr, &s[i].style, x + LEG_KEY / 2, y);
            cairo_set_dash(cr, NULL, 0, 0);
        }
        cairo_set_source_rgb(cr, 0, 0, 0);
        qsnn_plot_text(cr, s[i].label, x + indent, y, 0, 0.5, 0);
        y += LEG_ROW;
    }
}

void qsnn_plot_legend(cairo_t *cr, const qsnn_plot_axes *a, const qsnn_plot_series *s, size_t n,
                      const qsnn_plot_series *avoid, size_t navoid)
{
    if (!avoid)
        avoid = s, navoid = n;
    cairo_save(cr);
    qsnn_plot_font(cr, 11, 0);
    double bw, bh;
    if (legend_size(cr, s, n, &bw, &bh)) {
        /* corners: upper right, lower right, upper left, lower left */
        double cx[4] = {a->x + a->w - LEG_INSET - bw, a->x + a->w - LEG_INSET - bw, a->x + LEG_INSET, a->x + LEG_INSET};
        double cy[4] = {a->y + LEG_INSET, a->y + a->h - LEG_INSET - bh, a->y + LEG_INSET, a->y + a->h - LEG_INSET - bh};
        int best = 0;
        size_t best_hits = (size_t)-1;
        for (int c = 0; c < 4; c++) {
            size_t h = covered(a, avoid, navoid, cx[c] - 3, cy[c] - 3, cx[c] + bw + 3, cy[c] + bh + 3);
            if (h < best_hits)
                best_hits = h, best = c;
        }
        legend_box(cr, cx[best], cy[best], bw, bh, s, n);
    }
    cairo_restore(cr);
}

void qsnn_plot_legend_at(cairo_t *cr, double x, double y, const qsnn_plot_series *s, size_t n)
{
    cairo_save(cr);
    qsnn_plot_font(cr, 11, 0);
    double bw, bh;
    if (legend_size(cr, s, n, &bw, &bh))
        legend_box(cr, x, y, bw, bh, s, n);
    cairo_restore(cr);
}

void qsnn_plot_legend_row(cairo_t *cr, double cx, double y, const qsnn_plot_series *s, size_t n)
{
    cairo_save(cr);
    qsnn_plot_font(cr, 11, 0);
    const double sep = 18;
    double tw = 0;
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].label) {
            tw += qsnn_plot_text_width(cr, s[i].label) + (is_note(&s[i].style) ? 0 : LEG_KEY + LEG_GAP);
            tw += k++ ? sep : 0;
        }
    if (k) {
        double bw = round(tw + 2 * LEG_PAD), bh = round(LEG_ROW + 2 * LEG_PAD - 4);
        double bx = round(cx - bw / 2) + 0.5, by = round(y) + 0.5;
        legend_frame(cr, bx, by, bw, bh);
        double x = bx + LEG_PAD, ty = by + bh / 2;
        for (size_t i = 0; i < n; i++) {
            if (!s[i].label)
                continue;
            if (!is_note(&s[i].style)) {
                set_style(cr, &s[i].style);
                if (s[i].style.width > 0)
                    line(cr, x, ty, x + LEG_KEY, ty);
                mark(cr, &s[i].style, x + LEG_KEY / 2, ty);
                cairo_set_dash(cr, NULL, 0, 0);
                x += LEG_KEY + LEG_GAP;
            }
            cairo_set_source_rgb(cr, 0, 0, 0);
            qsnn_plot_text(cr, s[i].label, x, ty, 0, 0.5, 0);
            x += qsnn_plot_text_width(cr, s[i].label) + sep;
        }
    }
    cairo_restore(cr);
}

void qsnn_plot_palette(qsnn_plot_style *st, int i)
{
    static const unsigned char tab10[10][3] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                               {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                               {188, 189, 34},  {23, 190, 207}};
    const unsigned char *c = tab10[((i % 10) + 10) % 10];
    st->r = c[0] / 255.0;
    st->g = c[1] / 255.0;
    st->b = c[2] / 255.0;
}
