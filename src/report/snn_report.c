/* SPDX-License-Identifier: Apache-2.0 */
/* snn_report.c: the Akida-style summary of a .snn model and Akida's statistics printout.
 *
 * Summary: the tutorial's table (121 characters; columns end at 23, 27, 41, 55, 69, 95, 121; each field is cut
 * to its column and the column's last character is a space, as Akida/Keras' print_row does), "-" rules after
 * every row, "=" under the header. Shapes are Akida's [W, H, C]. #Weights = floor(nnz / (num_neurons
 * [+ pointwise neurons])) with num_neurons = C_in for separable layers (docs/design.md s5.5); ThFire is the layer
 * parameter, 0 for converted models. After the table: the reasons of every HW "no" and the model size.
 * Statistics: docs/design.md s5.4 (30-character name column, 20-character value columns, 2 decimals, ops %.0f).
 */
#include "qsnn/convert.h"
#include "qsnn/report.h"

#include <stdio.h>
#include <string.h>

#define SUM_WIDTH 121
static const int sum_end[7] = {23, 27, 41, 55, 69, 95, 121};

static void print_row(FILE *out, const char *const *fields)
{
    char line[SUM_WIDTH + 1];
    size_t len = 0;
    for (int i = 0; i < 7; i++) {
        if (i > 0 && len > 0)
            line[len - 1] = ' ';
        size_t n = strlen(fields[i]), room = (size_t)sum_end[i] - len;
        if (n > room)
            n = room;
        memcpy(line + len, fields[i], n);
        len += n;
        while (len < (size_t)sum_end[i])
            line[len++] = ' ';
    }
    line[len] = 0;
    fprintf(out, "%s\n", line);
}

static void rule(FILE *out, char ch)
{
    char line[SUM_WIDTH + 1];
    memset(line, ch, SUM_WIDTH);
    line[SUM_WIDTH] = 0;
    fprintf(out, "%s\n", line);
}

void qsnn_report_snn_summary(FILE *out, const qsnn_snn_model *m)
{
    static const char *head[7] = {"Layer (type)", "HW", "Input shape", "Output shape", "Kernel shape",
                                  "Learning (#classes)", "#InConn/#Weights/ThFire"};
    rule(out, '-');
    print_row(out, head);
    rule(out, '=');
    int nos = 0;
    for (int i = 0; i < m->num_layers; i++) {
        const qsnn_snn_layer *l = &m->layers[i];
        char name[96], in[48], outs[48], kern[64], conn[64];
        snprintf(name, sizeof name, "%s (%s)", l->name, qsnn_snn_type_name(l->type));
        snprintf(in, sizeof in, "[%d, %d, %d]", (int)l->in_w, (int)l->in_h, (int)l->in_c);
        snprintf(outs, sizeof outs, "[%d, %d, %d]", (int)l->out_w, (int)l->out_h, (int)l->out_c);
        long inconn;
        if (l->type == QSNN_SNN_FC) {
            inconn = (long)l->in_w * l->in_h * l->in_c;
            snprintf(kern, sizeof kern, "(1 x 1 x %ld)", inconn);
        } else {
            inconn = (long)l->kw * l->kh * l->in_c;
            snprintf(kern, sizeof kern, "(%d x %d x %d)", (int)l->kw, (int)l->kh, (int)l->in_c);
        }
        size_t neurons = l->type == QSNN_SNN_SEPARABLE ? (size_t)l->in_c + (size_t)l->out_c : (size_t)l->out_c;
        snprintf(conn, sizeof conn, "%ld / %zu / 0", inconn, qsnn_snn_weight_nnz(m, i) / neurons);
        int bad = qsnn_convert_hw_check(m, i, NULL, 0);
        nos += bad > 0;
        const char *row[7] = {name, bad ? "no" : "yes", in, outs, kern, "N/A", conn};
        print_row(out, row);
        rule(out, '-');
    }
    if (nos) {
        fprintf(out, "Hardware incompatibilities (Akida NSoC v1):\n");
        for (int i = 0; i < m->num_layers; i++) {
            char why[1024];
            if (qsnn_convert_hw_check(m, i, why, sizeof why))
                fprintf(out, "  %s: %s\n", m->layers[i].name, why);
        }
    }
    fprintf(out, "Model size: %zu bytes\n", m->size);
}

void qsnn_report_snn_stats(FILE *out, const qsnn_snn_model *m, const qsnn_snn_stats *st)
{
    double total = 0;
    for (int i = 0; i < m->num_layers; i++) {
        const qsnn_snn_layer *l = &m->layers[i];
        qsnn_snn_layer_stats ls;
        qsnn_snn_stats_layer(m, st, i, &ls);
        char name[96];
        snprintf(name, sizeof name, "%s (%s)", l->name, qsnn_snn_type_name(l->type));
        if (!ls.has_input) {
            fprintf(out, "%-30s%-20s\n", "Layer (type)", "output sparsity");
            fprintf(out, "%-30.29s%-20.2f\n", name, ls.out_sparsity);
        } else {
            fprintf(out, "%-30s%-20s%-20s%-20s\n", "Layer (type)", "input sparsity", "output sparsity", "ops");
            char ops[32];
            snprintf(ops, sizeof ops, "%.0f", ls.ops);
            fprintf(out, "%-30.29s%-20.2f%-20.2f%-20s\n", name, ls.in_sparsity, ls.out_sparsity, ops);
        }
        total += ls.time_us;
    }
    fprintf(out, "Layer time (mean per clip over %llu clips)\n", (unsigned long long)st->samples);
    fprintf(out, "%-30s%-20s\n", "Layer (type)", "time (us)");
    for (int i = 0; i < m->num_layers; i++) {
        qsnn_snn_layer_stats ls;
        qsnn_snn_stats_layer(m, st, i, &ls);
        char name[96];
        snprintf(name, sizeof name, "%s (%s)", m->layers[i].name, qsnn_snn_type_name(m->layers[i].type));
        fprintf(out, "%-30.29s%-20.2f\n", name, ls.time_us);
    }
    fprintf(out, "%-30s%-20.2f\n", "total", total);
}
