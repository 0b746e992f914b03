/* SPDX-License-Identifier: Apache-2.0 */
/* keras_summary.c: qsnn_model_print_summary, the Keras model.summary() table exactly as tf.keras 2.x prints it
 * for the tutorial's model (line length 65, columns at 29 / 55 / 65, every field cut to its column with one
 * separating space, "_" rules between rows, "=" rules around the body, thousands separators in the totals).
 *
 * One qsnn layer prints as the Keras layers akida_models builds for it: the weighted layer, then
 * <name>_global_avg (GlobalAveragePooling2D, output (None, C)), <name>_BN, <name>_relu (ActivationDiscreteRelu
 * when the model quantizes activations, else ReLU). A flat (None, C) tensor entering a convolution gets a
 * reshape_<k> (Reshape) to (None, 1, 1, C); a spatial tensor entering a dense layer gets a flatten_<k>; the end is
 * act_softmax (Activation) and, for a 1x1xC output, reshape_<k> to (None, C). Reshape numbering starts at 1.
 */
#include "qsnn/model.h"

#include "model/arch_internal.h"

#include <stdio.h>
#include <string.h>

#define SUMMARY_WIDTH 65
static const int col_end[3] = {29, 55, 65};

/* Keras' print_row: each field is appended after replacing the line's last character with a space, then the line
 * is cut (or padded with spaces) to the field's end column. */
static void print_row(FILE *out, const char *f0, const char *f1, const char *f2)
{
    char line[SUMMARY_WIDTH + 1];
    size_t len = 0;
    const char *fields[3] = {f0, f1, f2};
    for (int i = 0; i < 3; i++) {
        if (i > 0 && len > 0)
            line[len - 1] = ' ';
        size_t n = strlen(fields[i]);
        size_t room = (size_t)col_end[i] - len;
        if (n > room)
            n = room;
        memcpy(line + len, fields[i], n);
        len += n;
        while (len < (size_t)col_end[i])
            line[len++] = ' ';
    }
    line[len] = '\0';
    fprintf(out, "%s\n", line);
}

static void rule(FILE *out, char ch)
{
    char line[SUMMARY_WIDTH + 1];
    memset(line, ch, SUMMARY_WIDTH);
    line[SUMMARY_WIDTH] = '\0';
    fprintf(out, "%s\n", line);
}

/* 24576 -> "24,576" */
static void thousands(char *dst, size_t cap, size_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%zu", v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            dst[o++] = ',';
        dst[o++] = digits[i];
    }
    dst[o] = '\0';
}

typedef struct {
    FILE *out;
    int rows; /* rows printed so far: a "_" rule goes between rows */
} table;

static void row(table *t, const char *name, const char *type, const char *shape, size_t params)
{
    char f0[128], f2[32];
    if (t->rows > 0)
        rule(t->out, '_');
    snprintf(f0, sizeof f0, "%s (%s)", name, type);
    snprintf(f2, sizeof f2, "%zu", params);
    print_row(t->out, f0, shape, f2);
    t->rows++;
}

static void shape_str(char *dst, size_t cap, qsnn_shape s, int flat)
{
    if (flat)
        snprintf(dst, cap, "(None, %d)", s.h * s.w * s.c);
    else
        snprintf(dst, cap, "(None, %d, %d, %d)", s.h, s.w, s.c);
}

/* a float layer (weight_bits 0: an imported model) shows as the plain Keras layer */
static const char *op_class(qsnn_op op, int quantized)
{
    if (!quantized)
        return op == QSNN_OP_CONV2D      ? "Conv2D"
               : op == QSNN_OP_DEPTHWISE ? "DepthwiseConv2D"
               : op == QSNN_OP_SEPARABLE ? "SeparableConv2D"
                                         : "Dense";
    switch (op) {
    case QSNN_OP_CONV2D: return "QuantizedConv2D";
    case QSNN_OP_DEPTHWISE: return "QuantizedDepthwiseConv2D";
    case QSNN_OP_SEPARABLE: return "QuantizedSeparableConv2D";
    case QSNN_OP_DENSE: return "QuantizedDense";
    }
    return "Layer";
}

void qsnn_model_print_summary(FILE *out, const qsnn_model *m)
{
    if (!out || !m)
        return;
    const qsnn_arch *a = &m->arch;
    table t = {out, 0};
    char shape[64], name[QSNN_NAME_MAX + 32];
    fprintf(out, "Model: \"%s\"\n", a->name);
    rule(out, '_');
    print_row(out, "Layer (type)", "Output Shape", "Param #");
    rule(out, '=');
    snprintf(shape, sizeof shape, "[(None, %d, %d, %d)]", a->input.h, a->input.w, a->input.c);
    row(&t, "input_1", "InputLayer", shape, 0);
    int flat = 0, reshape = 0;
    qsnn_shape cur = a->input;
    for (int i = 0; i < a->num_layers && i < QSNN_MAX_LAYERS; i++) {
        const qsnn_layer_desc *l = &a->layers[i];
        size_t n_w, n_dw, n_bias, n_bn;
        qsnn_arch_layer_sizes(l, &n_w, &n_dw, &n_bias, &n_bn);
        if (l->op == QSNN_OP_DENSE) {
            if (!flat) {
                snprintf(name, sizeof name, "flatten_%d", ++reshape);
                shape_str(shape, sizeof shape, cur, 1);
                row(&t, name, "Flatten", shape, 0);
            }
            flat = 1;
        } else if (flat) {
            snprintf(name, sizeof name, "reshape_%d", ++reshape);
            shape_str(shape, sizeof shape, cur, 0);
            row(&t, name, "Reshape", shape, 0);
            flat = 0;
        }
        qsnn_shape conv_out = l->pool_after != QSNN_POOL_NONE ? l->act : l->out;
        if (l->pool == QSNN_POOL_GLOBAL_AVG) {
            /* the weighted layer's own output, before the pooling (pool is never on a dense layer) */
            conv_out.h = qsnn_conv_out_size(l->in.h, l->kh, l->stride_h, l->padding_same, NULL);
            conv_out.w = qsnn_conv_out_size(l->in.w, l->kw, l->stride_w, l->padding_same, NULL);
        }
        shape_str(shape, sizeof shape, conv_out, flat);
        row(&t, l->name, op_class(l->op, l->weight_bits > 0), shape, n_w + n_dw + n_bias);
        if (l->pool == QSNN_POOL_GLOBAL_AVG) {
            flat = 1;
            snprintf(name, sizeof name, "%s_global_avg", l->name);
            shape_str(shape, sizeof shape, l->out, 1);
            row(&t, name, "GlobalAveragePooling2D", shape, 0);
        }
        shape_str(shape, sizeof shape, l->pool_after != QSNN_POOL_NONE ? l->act : l->out, flat);
        if (l->batch_norm) {
            snprintf(name, sizeof name, "%s_BN", l->name);
            row(&t, name, "BatchNormalization", shape, 4 * n_bn);
        }
        if (l->activation) {
            snprintf(name, sizeof name, "%s_relu", l->name);
            row(&t, name, m->quant_acts ? "ActivationDiscreteRelu" : "ReLU", shape, 0);
        }
        if (l->pool_after != QSNN_POOL_NONE) {
            snprintf(name, sizeof name, "%s_pool", l->name);
            shape_str(shape, sizeof shape, l->out, flat);
            row(&t, name, l->pool_after == QSNN_POOL_MAX ? "MaxPooling2D" : "AveragePooling2D", shape, 0);
        }
        cur = l->out;
    }
    shape_str(shape, sizeof shape, cur, flat);
    row(&t, "act_softmax", "Activation", shape, 0);
    if (!flat) {
        snprintf(name, sizeof name, "reshape_%d", ++reshape);
        shape_str(shape, sizeof shape, cur, 1);
        row(&t, name, "Reshape", shape, 0);
    }
    rule(out, '=');
    size_t trainable, total = qsnn_arch_param_count(a, &trainable);
    char num[32];
    thousands(num, sizeof num, total);
    fprintf(out, "Total params: %s\n", num);
    thousands(num, sizeof num, trainable);
    fprintf(out, "Trainable params: %s\n", num);
    thousands(num, sizeof num, total - trainable);
    fprintf(out, "Non-trainable params: %s\n", num);
    rule(out, '_');
}
