/* SPDX-License-Identifier: Apache-2.0 */
/* train_plot.c: the training curves (qsnn train --plot), PNG or SVG by the file's extension (qsnn/plot.h): loss
 * (left) and training / validation accuracy (right) against the epoch counted over the whole run, episode
 * boundaries dashed and each episode named above the plot, the epoch each episode keeps (best validation)
 * circled, a legend box. Rewritten after every epoch, atomically, so a long run can be watched.
 */
#include "qsnn/plot.h"

#include "train/train_internal.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N_MAX = sizeof(((qsnn_train_result *)0)->records) / sizeof(((qsnn_train_result *)0)->records[0]) };

typedef struct {
    double x[N_MAX], loss[N_MAX], tacc[N_MAX], vacc[N_MAX], bx[3], by[3];
    int nbest;
} curves;

static void fill(curves *c, const qsnn_train_result *res)
{
    size_t n = res->num_records;
    c->nbest = 0;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const qsnn_epoch_record *e = &res->records[i];
        c->x[i] = (double)(i + 1);
        c->loss[i] = isfinite(e->loss) ? e->loss : NAN;
        c->tacc[i] = e->train_acc;
        c->vacc[i] = e->val_acc >= 0 ? e->val_acc : NAN;
        if (i + 1 == n || res->records[i + 1].episode != e->episode) { /* the episode [start, i] ends */
            size_t b = start;
            for (size_t k = start; k <= i; k++)
                if (c->vacc[k] > c->vacc[b] || (isnan(c->vacc[b]) && !isnan(c->vacc[k])))
                    b = k;
            if (!isnan(c->vacc[b]) && c->nbest < 3) { /* the trainer keeps the first best epoch */
                c->bx[c->nbest] = c->x[b];
                c->by[c->nbest++] = c->vacc[b];
            }
            start = i + 1;
        }
    }
}

/* Episode boundaries (dashed) and names above the box. */
static void episodes(cairo_t *cr, const qsnn_plot_axes *a, const qsnn_train_result *res)
{
    size_t start = 0, n = res->num_records;
    char buf[32];
    for (size_t i = 0; i < n; i++)
        if (i + 1 == n || res->records[i + 1].episode != res->records[i].episode) {
            snprintf(buf, sizeof buf, "episode %d", res->records[i].episode);
            qsnn_plot_band(cr, a, (double)start + 0.5, (double)i + 1.5, buf);
            if (i + 1 < n)
                qsnn_plot_vline(cr, a, (double)i + 1.5, NULL);
            start = i + 1;
        }
}

static qsnn_plot_series line_of(const char *label, const double *x, const double *y, size_t n, int colour, double width)
{
    qsnn_plot_series s = {label, {0, 0, 0, width, 0, QSNN_PLOT_MARK_NONE, 0}, x, y, n};
    qsnn_plot_palette(&s.style, colour);
    return s;
}

typedef struct {
    const qsnn_train_result *res;
    const curves *c;
    const char *title;
} figure;

static qsnn_status draw(cairo_t *cr, void *ctx)
{
    const figure *f = ctx;
    const curves *c = f->c;
    size_t n = f->res->num_records;
    double lmax = 0;
    for (size_t i = 0; i < n; i++)
        lmax = c->loss[i] > lmax ? c->loss[i] : lmax;
    const double bw = 400, bh = 250, top = 78, gap = 95;
    qsnn_plot_axes la = {.x = 70,
                         .y = top,
                         .w = bw,
                         .h = bh,
                         .xa = {.name = "epoch", .hi = (double)(n ? n : 1), .integer = 1, .fixed = 1, .max_ticks = 8},
                         .ya = {.name = "training loss (cross-entropy)", .hi = lmax > 0 ? lmax : 1}};
    qsnn_plot_axes aa = la;
    aa.x = la.x + bw + gap;
    aa.ya = (qsnn_plot_axis){.name = "accuracy", .hi = 1, .fixed = 1};
    qsnn_status st;
    if ((st = qsnn_plot_axes_init(&la)) != QSNN_OK || (st = qsnn_plot_axes_init(&aa)) != QSNN_OK)
        return st;
    qsnn_plot_font(cr, 14.5, 1);
    qsnn_plot_text(cr, f->title, (la.x + aa.x + bw) / 2, top - 42, 0.5, 1, 0);

    qsnn_plot_axes_draw(cr, &la);
    episodes(cr, &la, f->res);
    qsnn_plot_series loss = line_of("training loss", c->x, c->loss, n, 3, 1.8);
    qsnn_plot_series_draw(cr, &la, &loss, NAN);

    qsnn_plot_axes_draw(cr, &aa);
    episodes(cr, &aa, f->res);
    qsnn_plot_series acc[3] = {line_of("training", c->x, c->tacc, n, 0, 1.8),
                               line_of("validation", c->x, c->vacc, n, 1, 1.8),
                               {"kept: best validation of the episode",
                                {0.1, 0.1, 0.1, 0, 0, QSNN_PLOT_MARK_RING, 5},
                                c->bx,
                                c->by,
                                (size_t)c->nbest}};
    for (int i = 0; i < 3; i++)
        qsnn_plot_series_draw(cr, &aa, &acc[i], NAN);
    /* the legend under both panels: it never hides a curve */
    qsnn_plot_series leg[4] = {loss, acc[0], acc[1], acc[2]};
    leg[1].label = "training accuracy (during the epoch)";
    leg[2].label = "validation accuracy";
    leg[3].label = "kept: the best validation epoch of each episode";
    qsnn_plot_legend_row(cr, (la.x + aa.x + bw) / 2, top + bh + 52, leg, c->nbest ? 4 : 3);
    return QSNN_OK;
}

qsnn_status qsnn_train_plot(const char *path, const char *model_path, const qsnn_train_result *res)
{
    curves *c = malloc(sizeof *c);
    if (!c)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: training plot", path);
    fill(c, res);
    /* the figure's title: the model's file name */
    const char *name = model_path ? strrchr(model_path, '/') : NULL;
    name = name ? name + 1 : model_path;
    char title[320];
    snprintf(title, sizeof title, "Training curves%s%.256s (%zu epochs)", name ? ": " : "", name ? name : "",
             res->num_records);
    figure f = {res, c, title};
    qsnn_status st = qsnn_plot_render(path, 10, draw, &f);
    free(c);
    return st;
}
