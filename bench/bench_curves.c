/* SPDX-License-Identifier: Apache-2.0 */
/* bench_curves.c: per-epoch validation accuracy of several `qsnn train --log` runs, one panel per episode, one
 * colour per run (solid: validation, thin: training accuracy), as a PNG: how docs/training.md shows what batch-norm
 * re-estimation changes (docs/bn_curves.png).
 *   bench_curves OUT.png LABEL=LOG.json [LABEL=LOG.json ...]   (at most 6 runs) */
#include "qsnn/io.h"

#include <cairo.h>
#include <cjson/cJSON.h>
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
        if (!cJSON_IsNumber(ep) || !cJSON_IsNumber(va) || !cJSON_IsNumber(ta) || ep->valueint < 1 ||
            ep->valueint > 3)
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

static cairo_status_t png_write(void *closure, const unsigned char *data, unsigned int len)
{
    return qsnn_atomic_write(closure, data, len) == QSNN_OK ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc - 2 > MAX_RUNS) {
        fprintf(stderr, "usage: bench_curves OUT.png LABEL=LOG.json [...] (1..%d runs)\n", MAX_RUNS);
        return 2;
    }
    static run runs[MAX_RUNS];
    const int nr = argc - 2;
    for (int i = 0; i < nr; i++)
        if (!load(&runs[i], argv[i + 2]))
            return 1;
    static const double col[MAX_RUNS][3] = {{0.85, 0.3, 0.1}, {0.1, 0.35, 0.8}, {0.1, 0.6, 0.2},
                                            {0.6, 0.2, 0.7},  {0.4, 0.4, 0.4},  {0.9, 0.7, 0.1}};
    const int W = 1260, H = 440, PW = 360, PH = 300, X0 = 50, Y0 = 50;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    for (int k = 0; k < 3; k++) {
        const double x0 = X0 + k * (PW + 40), y0 = Y0;
        int nmax = 1;
        for (int i = 0; i < nr; i++)
            nmax = runs[i].n[k] > nmax ? runs[i].n[k] : nmax;
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, 1);
        cairo_rectangle(cr, x0, y0, PW, PH);
        cairo_stroke(cr);
        char buf[96];
        cairo_set_font_size(cr, 13);
        snprintf(buf, sizeof buf, "episode %d: accuracy per epoch (%d epochs)", k + 1, nmax);
        cairo_move_to(cr, x0, y0 - 8);
        cairo_show_text(cr, buf);
        cairo_set_font_size(cr, 10);
        for (int t = 0; t <= 5; t++) {
            snprintf(buf, sizeof buf, "%.1f", t / 5.0);
            cairo_move_to(cr, x0 - 24, y0 + PH * (1 - t / 5.0) + 3);
            cairo_show_text(cr, buf);
        }
        for (int i = 0; i < nr; i++)
            for (int w = 0; w < 2; w++) {
                const double *v = w ? runs[i].train[k] : runs[i].val[k];
                cairo_set_source_rgb(cr, col[i][0], col[i][1], col[i][2]);
                cairo_set_line_width(cr, w ? 0.8 : 2.0);
                for (int e = 0; e < runs[i].n[k]; e++) {
                    double x = x0 + PW * (nmax > 1 ? (double)e / (nmax - 1) : 0.5), y = y0 + PH * (1 - v[e]);
                    if (e == 0)
                        cairo_move_to(cr, x, y);
                    else
                        cairo_line_to(cr, x, y);
                }
                cairo_stroke(cr);
            }
    }
    cairo_set_font_size(cr, 12);
    for (int i = 0; i < nr; i++) {
        cairo_set_source_rgb(cr, col[i][0], col[i][1], col[i][2]);
        cairo_move_to(cr, X0 + (i % 2) * 600, Y0 + PH + 30 + (i / 2) * 18);
        char buf[128];
        snprintf(buf, sizeof buf, "%.63s: validation (thick), training (thin)", runs[i].label);
        cairo_show_text(cr, buf);
    }
    cairo_destroy(cr);
    qsnn_atomic_file f;
    qsnn_status st = qsnn_atomic_open(&f, argv[1]);
    if (st == QSNN_OK) {
        if (cairo_surface_write_to_png_stream(s, png_write, &f) != CAIRO_STATUS_SUCCESS) {
            qsnn_atomic_abort(&f);
            st = qsnn_fail(QSNN_ERR_IO, "%s: writing the PNG failed", argv[1]);
        } else {
            st = qsnn_atomic_commit(&f);
        }
    }
    cairo_surface_destroy(s);
    if (st != QSNN_OK)
        fprintf(stderr, "bench_curves: %s\n", qsnn_last_error());
    return st == QSNN_OK ? 0 : 1;
}
