/* SPDX-License-Identifier: Apache-2.0 */
/* bench_curves.c: per-epoch validation accuracy of several `qsnn train --log` runs, one panel per episode, one
 * colour per run (thick: validation, thin: training accuracy), as a PNG or SVG (by OUT's extension, qsnn/plot.h):
 * how docs/training.md shows what batch-norm re-estimation changes (docs/bn_curves.png), and the shipped model's
 * curves (models/mobilenet_kws_pretrained.png).
 *   bench_curves OUT.png|OUT.svg LABEL=LOG.json [LABEL=LOG.json ...]   (at most 6 runs)
 * and, from one log, the figure `qsnn train --plot` draws during the run (without training again):
 *   bench_curves --train-plot OUT.png|OUT.svg LOG.json [MODEL_NAME] */
#include "qsnn/io.h"
#include "qsnn/plot.h"

#include "train/train_internal.h"

#include <cairo.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_RUNS = 6, MAX_EP = 4096 };

typedef struct {
    char label[64];
    int n[3];
    double val[3][MAX_EP], train[3][MAX_EP];
} run;

static int load(run *r, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq - arg >= (long)sizeof r->label) {
        fprintf(stderr, "bench_curves: expected LABEL=LOG.json, got '%s'\n", arg);
        return 0;
    }
    memset(r, 0, sizeof *r);
    memcpy(r->label, arg, (size_t)(eq - arg));
    char *txt;
    size_t len;
    if (qsnn_read_text_file(eq + 1, 64u << 20, &txt, &len) != QSNN_OK) {
        fprintf(stderr, "bench_curves: %s\n", qsnn_last_error());
        return 0;
    }
    cJSON *root = cJSON_Parse(txt);
    free(txt);
    const cJSON *eps = root ? cJSON_GetObjectItemCaseSensitive(root, "epochs") : NULL;
    if (!cJSON_IsArray(eps)) {
        fprintf(stderr, "bench_curves: %s: no 'epochs' array (a qsnn train --log file?)\n", eq + 1);
        cJSON_Delete(root);
        return 0;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, eps)
    {
        const cJSON *ep = cJSON_GetObjectItemCaseSensitive(e, "episode");
        const cJSON *va = cJSON_GetObjectItemCaseSensitive(e, "val_acc");
        const cJSON *ta = cJSON_GetObjectItemCaseSensitive(e, "train_acc");
        if (!cJSON_IsNumber(ep) || !cJSON_IsNumber(va) || !cJSON_IsNumber(ta) || ep->valueint < 1 || ep->valueint > 3)
            continue;
        int k = ep->valueint - 1;
        if (r->n[k] < MAX_EP) {
            r->val[k][r->n[k]] = va->valuedouble;
            r->train[k][r->n[k]++] = ta->valuedouble;
        }
    }
    cJSON_Delete(root);
    return 1;
}

typedef struct {
    const run *runs;
    int nr;
} figure;

static qsnn_status draw(cairo_t *cr, void *ctx)
{
    const figure *f = ctx;
    static double ex[MAX_EP];
    for (int e = 0; e < MAX_EP; e++)
        ex[e] = e + 1;
    const double PW = 340, PH = 260, X0 = 70, Y0 = 40, GAP = 40;
    int shown = 0;
    qsnn_status st;
    for (int k = 0; k < 3; k++) {
        int nmax = 0;
        for (int i = 0; i < f->nr; i++)
            nmax = f->runs[i].n[k] > nmax ? f->runs[i].n[k] : nmax;
        if (!nmax)
            continue;
        char title[32];
        snprintf(title, sizeof title, "episode %d", k + 1);
        qsnn_plot_axes a = {
            .x = X0 + shown * (PW + GAP),
            .y = Y0,
            .w = PW,
            .h = PH,
            .title = title,
            .xa = {.name = "epoch of the episode", .hi = nmax, .integer = 1, .fixed = 1, .max_ticks = 8},
            .ya = {.name = shown ? NULL : "accuracy", .hi = 1, .fixed = 1}};
        if ((st = qsnn_plot_axes_init(&a)) != QSNN_OK)
            return st;
        qsnn_plot_axes_draw(cr, &a);
        for (int i = 0; i < f->nr; i++)
            for (int w = 1; w >= 0; w--) { /* training (thin) under validation (thick) */
                qsnn_plot_series s = {NULL,
                                      {0, 0, 0, w ? 0.9 : 1.9, 0, QSNN_PLOT_MARK_NONE, 0},
                                      ex,
                                      w ? f->runs[i].train[k] : f->runs[i].val[k],
                                      (size_t)f->runs[i].n[k]};
                qsnn_plot_palette(&s.style, i);
                qsnn_plot_series_draw(cr, &a, &s, NAN);
            }
        shown++;
    }
    /* the legend under the panels: one colour per run, then the two line widths */
    qsnn_plot_series leg[MAX_RUNS + 2];
    for (int i = 0; i < f->nr; i++) {
        leg[i] = (qsnn_plot_series){f->runs[i].label, {0, 0, 0, 1.9, 0, QSNN_PLOT_MARK_NONE, 0}, NULL, NULL, 0};
        qsnn_plot_palette(&leg[i].style, i);
    }
    leg[f->nr] =
        (qsnn_plot_series){"validation accuracy", {0.35, 0.35, 0.35, 1.9, 0, QSNN_PLOT_MARK_NONE, 0}, NULL, NULL, 0};
    leg[f->nr + 1] = (qsnn_plot_series){
        "training accuracy (during the epoch)", {0.35, 0.35, 0.35, 0.9, 0, QSNN_PLOT_MARK_NONE, 0}, NULL, NULL, 0};
    /* in one row under the panels when it fits, else a column */
    qsnn_plot_font(cr, 11, 0);
    double row = 0;
    for (int i = 0; i < f->nr + 2; i++)
        row += qsnn_plot_text_width(cr, leg[i].label) + 50;
    double span = shown * (PW + GAP) - GAP;
    if (row < span)
        qsnn_plot_legend_row(cr, X0 + span / 2, Y0 + PH + 58, leg, (size_t)f->nr + 2);
    else
        qsnn_plot_legend_at(cr, X0, Y0 + PH + 58, leg, (size_t)f->nr + 2);
    return QSNN_OK;
}

/* `qsnn train --plot`'s figure from a --log file. */
static int train_plot(const char *out, const char *log, const char *name)
{
    static qsnn_train_result r;
    char *txt;
    size_t len;
    if (qsnn_read_text_file(log, 64u << 20, &txt, &len) != QSNN_OK) {
        fprintf(stderr, "bench_curves: %s\n", qsnn_last_error());
        return 1;
    }
    cJSON *root = cJSON_Parse(txt);
    free(txt);
    const cJSON *eps = root ? cJSON_GetObjectItemCaseSensitive(root, "epochs") : NULL, *e;
    if (!cJSON_IsArray(eps)) {
        fprintf(stderr, "bench_curves: %s: no 'epochs' array (a qsnn train --log file?)\n", log);
        cJSON_Delete(root);
        return 1;
    }
    cJSON_ArrayForEach(e, eps)
    {
        const cJSON *f[5] = {cJSON_GetObjectItemCaseSensitive(e, "episode"),
                             cJSON_GetObjectItemCaseSensitive(e, "epoch"), cJSON_GetObjectItemCaseSensitive(e, "loss"),
                             cJSON_GetObjectItemCaseSensitive(e, "train_acc"),
                             cJSON_GetObjectItemCaseSensitive(e, "val_acc")};
        if (r.num_records == sizeof r.records / sizeof r.records[0] || !cJSON_IsNumber(f[0]) || !cJSON_IsNumber(f[1]) ||
            !cJSON_IsNumber(f[3]))
            continue;
        qsnn_epoch_record *x = &r.records[r.num_records++];
        x->episode = f[0]->valueint;
        x->epoch = f[1]->valueint;
        x->loss = cJSON_IsNumber(f[2]) ? f[2]->valuedouble : NAN;
        x->train_acc = f[3]->valuedouble;
        x->val_acc = cJSON_IsNumber(f[4]) ? f[4]->valuedouble : -1; /* null: no validation */
    }
    cJSON_Delete(root);
    qsnn_status st = qsnn_train_plot(out, name, &r);
    if (st != QSNN_OK)
        fprintf(stderr, "bench_curves: %s\n", qsnn_last_error());
    return st == QSNN_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "--train-plot")) {
        if (argc < 4 || argc > 5) {
            fprintf(stderr, "usage: bench_curves --train-plot OUT.png|OUT.svg LOG.json [MODEL_NAME]\n");
            return 2;
        }
        return train_plot(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    }
    if (argc < 3 || argc - 2 > MAX_RUNS) {
        fprintf(stderr, "usage: bench_curves OUT.png|OUT.svg LABEL=LOG.json [...] (1..%d runs)\n", MAX_RUNS);
        return 2;
    }
    static run runs[MAX_RUNS];
    const int nr = argc - 2;
    for (int i = 0; i < nr; i++)
        if (!load(&runs[i], argv[i + 2]))
            return 1;
    figure f = {runs, nr};
    qsnn_status st = qsnn_plot_render(argv[1], 10, draw, &f);
    if (st != QSNN_OK)
        fprintf(stderr, "bench_curves: %s\n", qsnn_last_error());
    return st == QSNN_OK ? 0 : 1;
}
