/* SPDX-License-Identifier: Apache-2.0 */
/* test_plot.c: the figures' module (qsnn/plot.h) and the training plot.
 *  - nice ticks: known ranges give the expected 1/2/5 x 10^k steps; on 2,000 random ranges every step is a nice
 *    one, the ticks cover the range, fit max_ticks, and the next finer nice step would not fit; tick values are
 *    exact (3 x 0.1 is 0.3) and their labels distinct; bad ranges are refused;
 *  - the format comes from the extension (any case); anything else is refused naming the file, nothing written;
 *  - a PNG is cropped to the ink plus the margin (size and pixels read back with cairo, signature and IHDR read
 *    by hand); an SVG is a well-formed XML document (a small tag-balance parser) with an svg root, paths and
 *    glyphs; a draw error stops the rendering and leaves no file;
 *  - the training curves (qsnn train --plot) as PNG and SVG with no blank margin.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_fonts.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qsnn/io.h"
#include "qsnn/plot.h"
#include "train/train_internal.h"

static int is_nice(double step)
{
    double k = floor(log10(step) + 1e-12), m = step / pow(10.0, k);
    return fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9;
}

/* The nice step just below `step` (5 -> 2 -> 1 -> 0.5). */
static double finer(double step)
{
    double k = floor(log10(step) + 1e-12), m = round(step / pow(10.0, k));
    return m == 1 ? 0.5 * step : m == 2 ? 0.5 * step : 0.4 * step;
}

static void check_ticks(double lo, double hi, int max_ticks, int integer)
{
    qsnn_plot_ticks t;
    assert_int_equal(qsnn_plot_nice_ticks(&t, lo, hi, max_ticks, integer), QSNN_OK);
    double first = qsnn_plot_tick(&t, 0), last = qsnn_plot_tick(&t, t.count - 1), eps = 1e-9 * t.step;
    if (!is_nice(t.step) || first > lo + eps || last < hi - eps || t.count > max_ticks || t.count < 2 ||
        (integer && t.step < 1))
        fail_msg("[%.17g, %.17g] max %d: step %g, ticks %.17g..%.17g (%d)", lo, hi, max_ticks, t.step, first, last,
                 t.count);
    /* the finest step that fits: the next finer one needs more ticks (or is below 1 on an integer axis) */
    double f = finer(t.step);
    if (!(integer && f < 1) && lo < hi) {
        double a = floor(lo / f + 1e-9), b = ceil(hi / f - 1e-9);
        if (b - a + 1 <= max_ticks)
            fail_msg("[%.17g, %.17g] max %d: step %g chosen, %g fits too", lo, hi, max_ticks, t.step, f);
    }
    /* labels: exact at `decimals` digits, distinct, increasing */
    char prev[64] = "", buf[64];
    for (int i = 0; i < t.count; i++) {
        double v = qsnn_plot_tick(&t, i);
        snprintf(buf, sizeof buf, "%.*f", t.decimals, v);
        if (fabs(strtod(buf, NULL) - v) > eps || !strcmp(buf, prev) || !strcmp(buf, "-0"))
            fail_msg("[%g, %g]: tick %d is %.17g, printed '%s' (previous '%s')", lo, hi, i, v, buf, prev);
        snprintf(prev, sizeof prev, "%s", buf);
    }
}

static void test_nice_ticks(void **state)
{
    (void)state;
    static const struct {
        double lo, hi;
        int max, integer;
        double step, first;
        int count, decimals;
    } cases[] = {
        {0, 1, 7, 0, 0.2, 0, 6, 1},           /* accuracy */
        {0, 2.454424859, 7, 0, 0.5, 0, 6, 1}, /* the loss axis: not 2.45, 1.84, ... */
        {0, 96, 8, 1, 20, 0, 6, 0},           /* 96 epochs */
        {0, 240, 8, 1, 50, 0, 6, 0},          /* 240 epochs */
        {0, 3, 8, 1, 1, 0, 4, 0},             /* few epochs: whole numbers, never 0.5 */
        {0, 0.3, 7, 0, 0.05, 0, 7, 2},        /* 0.3 / 0.1 is 2.9999999999999996 */
        {-3.7, 12.2, 6, 0, 5, -5, 5, 0},
        {0.00123, 0.00456, 5, 0, 0.001, 0.001, 5, 3},
        {1234, 98765, 6, 0, 20000, 0, 6, 0},
        {5, 5, 7, 0, 0.2, 4.4, 7, 1}, /* a single value is widened by 10 % */
        {0, 1, 11, 0, 0.1, 0, 11, 1}, /* DET's percent axis */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        qsnn_plot_ticks t;
        assert_int_equal(qsnn_plot_nice_ticks(&t, cases[i].lo, cases[i].hi, cases[i].max, cases[i].integer), QSNN_OK);
        if (fabs(t.step - cases[i].step) > 1e-12 * cases[i].step || fabs(t.first - cases[i].first) > 1e-9 ||
            t.count != cases[i].count || t.decimals != cases[i].decimals)
            fail_msg("case %zu [%g, %g]: step %g first %g count %d decimals %d", i, cases[i].lo, cases[i].hi, t.step,
                     t.first, t.count, t.decimals);
        check_ticks(cases[i].lo, cases[i].hi, cases[i].max, cases[i].integer);
    }
    /* exact values: the fourth tick of 0, 0.1, ... is the double nearest 0.3 */
    qsnn_plot_ticks t;
    assert_int_equal(qsnn_plot_nice_ticks(&t, 0, 1, 11, 0), QSNN_OK);
    assert_true(qsnn_plot_tick(&t, 3) == 0.3);
    assert_true(qsnn_plot_tick(&t, 7) == 0.7);
    /* random ranges, scales from 1e-6 to 1e6, either sign */
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 2000; i++) {
        double u[3];
        for (int k = 0; k < 3; k++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            u[k] = (double)(s >> 11) / 9007199254740992.0;
        }
        double scale = pow(10.0, -6 + 12 * u[0]), lo = (u[1] - 0.5) * scale, hi = lo + u[2] * scale;
        check_ticks(lo, hi, 3 + i % 10, i % 7 == 0 && scale > 10);
    }
    /* refused */
    assert_int_equal(qsnn_plot_nice_ticks(&t, NAN, 1, 7, 0), QSNN_ERR_ARG);
    assert_int_equal(qsnn_plot_nice_ticks(&t, 0, INFINITY, 7, 0), QSNN_ERR_ARG);
    assert_int_equal(qsnn_plot_nice_ticks(&t, 2, 1, 7, 0), QSNN_ERR_ARG);
    assert_int_equal(qsnn_plot_nice_ticks(&t, -1.7e308, 1.7e308, 7, 0), QSNN_ERR_ARG);
    qsnn_plot_axes a = {.x = 0, .y = 0, .w = 100, .h = 100, .xa = {.lo = 0, .hi = 10, .log = 1}, .ya = {.hi = 1}};
    assert_int_equal(qsnn_plot_axes_init(&a), QSNN_ERR_ARG); /* a log axis from 0 */
    /* an axis widens to whole ticks unless fixed */
    qsnn_plot_axes b = {.w = 100, .h = 100, .xa = {.hi = 2.45}, .ya = {.hi = 0.93, .fixed = 1}};
    assert_int_equal(qsnn_plot_axes_init(&b), QSNN_OK);
    assert_true(b.xa.lo == 0 && b.xa.hi == 2.5);
    assert_true(b.ya.lo == 0 && b.ya.hi == 0.93);
}

static void test_format(void **state)
{
    (void)state;
    qsnn_plot_format f;
    assert_int_equal(qsnn_plot_format_of("a/b.png", &f), QSNN_OK);
    assert_int_equal(f, QSNN_PLOT_PNG);
    assert_int_equal(qsnn_plot_format_of("B.SVG", &f), QSNN_OK);
    assert_int_equal(f, QSNN_PLOT_SVG);
    static const char *bad[] = {"curves.jpg", "curves", "dir.png/curves", "curves.png.tmp", ".svgx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(qsnn_plot_format_of(bad[i], &f), QSNN_ERR_ARG);
        assert_non_null(strstr(qsnn_last_error(), bad[i]));
        assert_non_null(strstr(qsnn_last_error(), ".png or .svg"));
    }
}

/* ---- a figure for the tests ---- */
typedef struct {
    int axes;          /* 0: one rectangle at (1000, 2000), 100 x 50; 1: axes, two series, legend */
    qsnn_status fails; /* returned by the draw function */
} fig;

static qsnn_status draw(cairo_t *cr, void *ctx)
{
    const fig *f = ctx;
    if (f->fails)
        return qsnn_fail(f->fails, "the figure failed on purpose");
    if (!f->axes) {
        cairo_set_source_rgb(cr, 1, 0, 0);
        cairo_rectangle(cr, 1000, 2000, 100, 50);
        cairo_fill(cr);
        return QSNN_OK;
    }
    qsnn_plot_axes a = {.x = 60,
                        .y = 40,
                        .w = 300,
                        .h = 200,
                        .title = "test figure",
                        .xa = {.name = "x", .hi = 9.5},
                        .ya = {.name = "y", .lo = -1, .hi = 1}};
    qsnn_status st = qsnn_plot_axes_init(&a);
    if (st != QSNN_OK)
        return st;
    static double x[20], y[20], z[20];
    for (int i = 0; i < 20; i++)
        x[i] = i * 0.5, y[i] = sin(i * 0.5), z[i] = i == 7 ? NAN : cos(i * 0.5);
    qsnn_plot_series s[2] = {{"sin", {0, 0, 0, 1.8, 0, QSNN_PLOT_MARK_DOT, 0}, x, y, 20},
                             {"cos", {0, 0, 0, 1.8, 1, QSNN_PLOT_MARK_NONE, 0}, x, z, 20}};
    qsnn_plot_palette(&s[0].style, 0);
    qsnn_plot_palette(&s[1].style, 1);
    qsnn_plot_axes_draw(cr, &a);
    qsnn_plot_vline(cr, &a, 4, "marker");
    qsnn_plot_band(cr, &a, 0, 4, "first part");
    qsnn_plot_series_draw(cr, &a, &s[0], NAN);
    qsnn_plot_series_draw(cr, &a, &s[1], NAN);
    qsnn_plot_legend(cr, &a, s, 2, NULL, 0);
    return QSNN_OK;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* PNG signature and IHDR by hand, then the image through cairo: *w x *h. */
static cairo_surface_t *read_png(const char *path, int *w, int *h)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    unsigned char head[24];
    assert_int_equal(fread(head, 1, 24, fp), 24);
    fclose(fp);
    assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(head + 12, "IHDR", 4);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    *w = cairo_image_surface_get_width(s);
    *h = cairo_image_surface_get_height(s);
    assert_int_equal(be32(head + 16), (uint32_t)*w);
    assert_int_equal(be32(head + 20), (uint32_t)*h);
    cairo_surface_flush(s);
    return s;
}

static uint32_t pixel(cairo_surface_t *s, int x, int y)
{
    const unsigned char *d = cairo_image_surface_get_data(s);
    return ((const uint32_t *)(const void *)(d + (size_t)y * cairo_image_surface_get_stride(s)))[x] & 0xffffff;
}

/* The blank bands around the ink (pixels not near-white) of a PNG: the largest of the four. The canvas margin
 * is 8 or 10; anti-aliasing and glyph boxes leave a pixel or two more. */
static int blank_band(cairo_surface_t *s, int w, int h)
{
    int top = h, bottom = -1, left = w, right = -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t v = pixel(s, x, y);
            if (((v >> 16) & 255) < 250 || ((v >> 8) & 255) < 250 || (v & 255) < 250) {
                top = y < top ? y : top, bottom = y > bottom ? y : bottom;
                left = x < left ? x : left, right = x > right ? x : right;
            }
        }
    int m = top;
    m = left > m ? left : m;
    m = h - 1 - bottom > m ? h - 1 - bottom : m;
    return w - 1 - right > m ? w - 1 - right : m;
}

/* XML well-formedness, enough for cairo's SVG: declarations, comments, start/end/empty tags with quoted
 * attributes, balanced and properly nested; returns the root element's name in root (or fails). */
static void check_xml(const char *x, char *root, size_t cap)
{
    char stack[64][32];
    int depth = 0, elements = 0;
    root[0] = '\0';
    for (const char *p = x; *p;) {
        if (*p != '<') {
            p++;
            continue;
        }
        if (!strncmp(p, "<?", 2) || !strncmp(p, "<!--", 4)) {
            const char *e = strstr(p, p[1] == '?' ? "?>" : "-->");
            assert_non_null(e);
            p = e + 2;
            continue;
        }
        int closing = p[1] == '/';
        const char *n = p + 1 + closing;
        size_t len = strcspn(n, " \t\r\n/>");
        assert_true(len > 0 && len < 32);
        const char *q = n + len;
        while (*q && *q != '>') { /* attributes: skip quoted values whole */
            if (*q == '"' || *q == '\'') {
                const char *e = strchr(q + 1, *q);
                assert_non_null(e);
                q = e + 1;
            } else {
                q++;
            }
        }
        assert_int_equal(*q, '>');
        int empty = q[-1] == '/';
        if (closing) {
            assert_true(depth > 0);
            depth--;
            if (strlen(stack[depth]) != len || strncmp(stack[depth], n, len))
                fail_msg("</%.*s> closes <%s>", (int)len, n, stack[depth]);
        } else {
            if (!elements++)
                snprintf(root, cap, "%.*s", (int)len, n);
            else
                assert_true(depth > 0); /* one root */
            if (!empty) {
                assert_true(depth < 64);
                snprintf(stack[depth++], sizeof stack[0], "%.*s", (int)len, n);
            }
        }
        p = q + 1;
    }
    assert_int_equal(depth, 0);
    assert_true(elements > 1);
}

static void read_svg(const char *path, char **text)
{
    size_t len;
    assert_int_equal(qsnn_read_text_file(path, 1u << 26, text, &len), QSNN_OK);
    assert_true(!strncmp(*text, "<?xml", 5));
    char root[32];
    check_xml(*text, root, sizeof root);
    assert_string_equal(root, "svg");
}

static void test_render(void **state)
{
    (void)state;
    char png[512], svg[512];
    snprintf(png, sizeof png, "%s/test_plot_%ld.png", QSNN_BINARY_DIR, (long)getpid());
    snprintf(svg, sizeof svg, "%s/test_plot_%ld.svg", QSNN_BINARY_DIR, (long)getpid());
    /* cropped: a 100 x 50 rectangle far from the origin and a margin of 10 give 121 x 71 */
    fig f = {0, QSNN_OK};
    assert_int_equal(qsnn_plot_render(png, 10, draw, &f), QSNN_OK);
    int w, h;
    cairo_surface_t *s = read_png(png, &w, &h);
    assert_int_equal(w, 121);
    assert_int_equal(h, 71);
    assert_int_equal(pixel(s, 5, 5), 0xffffff);   /* the margin: white */
    assert_int_equal(pixel(s, 60, 35), 0xff0000); /* the rectangle */
    assert_int_equal(pixel(s, 10, 10), 0xff0000);
    assert_int_equal(pixel(s, 9, 9), 0xffffff);
    cairo_surface_destroy(s);
    assert_int_equal(qsnn_plot_render(svg, 10, draw, &f), QSNN_OK);
    char *text;
    read_svg(svg, &text);
    assert_non_null(strstr(text, "width=\"121pt\" height=\"71pt\""));
    free(text);
    /* a full figure: axes, text, series, legend */
    f.axes = 1;
    assert_int_equal(qsnn_plot_render(png, 8, draw, &f), QSNN_OK);
    s = read_png(png, &w, &h);
    assert_true(w > 330 && w < 420 && h > 240 && h < 330);
    assert_true(blank_band(s, w, h) <= 12);
    cairo_surface_destroy(s);
    assert_int_equal(qsnn_plot_render(svg, 8, draw, &f), QSNN_OK);
    read_svg(svg, &text);
    assert_non_null(strstr(text, "<path"));
    assert_non_null(strstr(text, "<symbol")); /* glyphs: the text was drawn */
    free(text);
    remove(png);
    remove(svg);
    /* a draw error: returned, no file left */
    f.fails = QSNN_ERR_RANGE;
    assert_int_equal(qsnn_plot_render(png, 8, draw, &f), QSNN_ERR_RANGE);
    assert_int_not_equal(access(png, F_OK), 0);
    /* an unknown extension: refused before drawing, naming the file */
    f.fails = QSNN_OK;
    assert_int_equal(qsnn_plot_render("/nonexistent-dir/x.gif", 8, draw, &f), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "/nonexistent-dir/x.gif"));
    assert_int_equal(qsnn_plot_render("/nonexistent-dir/x.svg", 8, draw, &f), QSNN_ERR_IO);
    assert_non_null(strstr(qsnn_last_error(), "/nonexistent-dir/x.svg"));
}

static void test_train_plot(void **state)
{
    (void)state;
    static qsnn_train_result r;
    memset(&r, 0, sizeof r);
    for (int e = 0; e < 3; e++)
        for (int i = 0; i < 20; i++) {
            qsnn_epoch_record *x = &r.records[r.num_records++];
            x->episode = e + 1;
            x->epoch = i + 1;
            x->loss = 2.3 * exp(-0.2 * i) + 0.2 + 0.3 * e;
            x->train_acc = 0.9 - 0.7 * exp(-0.3 * i);
            x->val_acc = e == 2 && i == 5 ? -1 : 0.85 - 0.7 * exp(-0.25 * i); /* -1: no validation */
        }
    char png[512], svg[512];
    snprintf(png, sizeof png, "%s/test_plot_train_%ld.png", QSNN_BINARY_DIR, (long)getpid());
    snprintf(svg, sizeof svg, "%s/test_plot_train_%ld.svg", QSNN_BINARY_DIR, (long)getpid());
    assert_int_equal(qsnn_train_plot(png, "dir/kws.qsnn", &r), QSNN_OK);
    int w, h;
    cairo_surface_t *s = read_png(png, &w, &h);
    assert_true(w > 900 && w < 1100 && h > 330 && h < 480);
    if (blank_band(s, w, h) > 12)
        fail_msg("blank band of %d px in a %d x %d figure", blank_band(s, w, h), w, h);
    cairo_surface_destroy(s);
    assert_int_equal(qsnn_train_plot(svg, NULL, &r), QSNN_OK);
    char *text;
    read_svg(svg, &text);
    assert_non_null(strstr(text, "stroke-dasharray")); /* the episode boundaries */
    free(text);
    assert_int_equal(qsnn_train_plot("curves.pdf", NULL, &r), QSNN_ERR_ARG);
    assert_non_null(strstr(qsnn_last_error(), "curves.pdf"));
    remove(png);
    remove(svg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nice_ticks),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_train_plot),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    test_release_font_caches(); /* so that LeakSanitizer reports only our leaks */
    return rc;
}
