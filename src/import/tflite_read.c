/* SPDX-License-Identifier: Apache-2.0 */
/* tflite_read.c: the TFLite flatbuffer (schema.fbs of tensorflow/lite/schema, version 3) read into the small
 * in-memory description of tflite_internal.h: operator codes, the tensors of the one subgraph, its operators with their
 * options, and the buffers. Only the tables and fields the importer uses are read; every access goes through
 * the bounds-checked reader (flatbuf_internal.h) and every error names the field's path.
 *
 * Field numbers used (schema order): Model {version 0, operator_codes 1, subgraphs 2, description 3, buffers 4};
 * OperatorCode {deprecated_builtin_code 0, custom_code 1, version 2, builtin_code 3}; SubGraph {tensors 0,
 * inputs 1, outputs 2, operators 3}; Tensor {shape 0, type 1, buffer 2, name 3, quantization 4};
 * QuantizationParameters {scale 2, zero_point 3, quantized_dimension 6}; Operator {opcode_index 0, inputs 1,
 * outputs 2, builtin_options_type 3, builtin_options 4}; Buffer {data 0, offset 1}. */
#include "import/tflite_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CK(x)                                                                                                \
    do {                                                                                                     \
        qsnn_status ck_ = (x);                                                                               \
        if (ck_ != QSNN_OK)                                                                                  \
            return ck_;                                                                                      \
    } while (0)

const char *qsnn_tfl_op_name(int code)
{
    switch (code) {
    case TFL_ADD: return "ADD";
    case TFL_AVERAGE_POOL_2D: return "AVERAGE_POOL_2D";
    case 2: return "CONCATENATION";
    case TFL_CONV_2D: return "CONV_2D";
    case TFL_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case TFL_DEQUANTIZE: return "DEQUANTIZE";
    case TFL_FULLY_CONNECTED: return "FULLY_CONNECTED";
    case 14: return "LOGISTIC";
    case 16: return "LSTM";
    case TFL_MAX_POOL_2D: return "MAX_POOL_2D";
    case 18: return "MUL";
    case TFL_RELU: return "RELU";
    case TFL_RELU6: return "RELU6";
    case TFL_RESHAPE: return "RESHAPE";
    case TFL_SOFTMAX: return "SOFTMAX";
    case 28: return "TANH";
    case 32: return "CUSTOM";
    case 34: return "PAD";
    case 40: return "MEAN";
    case 41: return "SUB";
    case TFL_QUANTIZE: return "QUANTIZE";
    default: return NULL;
    }
}

static qsnn_status read_ivec(const qsnn_fb *fb, const qsnn_fb_table *t, int id, int32_t *dst, int cap, int *n,
                             const char *what)
{
    qsnn_fb_vec v;
    CK(qsnn_fb_vec_field(fb, t, id, 4, &v, what));
    if (v.len > (uint32_t)cap)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: %s: %u entries (at most %d)", fb->origin, what, v.len, cap);
    for (uint32_t i = 0; i < v.len; i++)
        dst[i] = qsnn_fb_vec_i32(fb, &v, i);
    *n = (int)v.len;
    return QSNN_OK;
}

static qsnn_status read_tensor(const qsnn_fb *fb, const qsnn_fb_table *t, qsnn_tfl_tensor *x, const char *path)
{
    char w[160];
    snprintf(w, sizeof w, "%s.shape", path);
    CK(read_ivec(fb, t, 0, x->shape, TFL_MAX_RANK, &x->rank, w));
    for (int d = 0; d < x->rank; d++)
        if (x->shape[d] < 0 || x->shape[d] > (1 << 24))
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s[%d]: dimension %d out of range 0..%d", fb->origin, w, d,
                             x->shape[d], 1 << 24);
    snprintf(w, sizeof w, "%s.type", path);
    CK(qsnn_fb_u8(fb, t, 1, 0, &x->type, w));
    snprintf(w, sizeof w, "%s.buffer", path);
    CK(qsnn_fb_u32(fb, t, 2, 0, &x->buffer, w));
    snprintf(w, sizeof w, "%s.name", path);
    CK(qsnn_fb_string(fb, t, 3, x->name, sizeof x->name, w));
    qsnn_fb_table q;
    int has_q = 0;
    snprintf(w, sizeof w, "%s.quantization", path);
    CK(qsnn_fb_table_field(fb, t, 4, &q, &has_q, w));
    if (has_q) {
        snprintf(w, sizeof w, "%s.quantization.scale", path);
        CK(qsnn_fb_vec_field(fb, &q, 2, 4, &x->scale, w));
        snprintf(w, sizeof w, "%s.quantization.zero_point", path);
        CK(qsnn_fb_vec_field(fb, &q, 3, 8, &x->zero_point, w));
        snprintf(w, sizeof w, "%s.quantization.quantized_dimension", path);
        CK(qsnn_fb_i32(fb, &q, 6, 0, &x->qdim, w));
    }
    return QSNN_OK;
}

/* The options of one operator, by its builtin code (absent tables give the schema's defaults: zeros, and 1 for
 * the dilation factors). */
static qsnn_status read_options(const qsnn_fb *fb, const qsnn_fb_table *opt, int has, qsnn_tfl_op *o,
                                const char *path)
{
    char w[160];
    snprintf(w, sizeof w, "%s.builtin_options", path);
    o->dil_w = o->dil_h = 1;
    o->beta = 1.0f;
    if (!has)
        return QSNN_OK;
    switch (o->code) {
    case TFL_CONV_2D:
        CK(qsnn_fb_u8(fb, opt, 0, 0, &o->padding, w));
        CK(qsnn_fb_i32(fb, opt, 1, 0, &o->stride_w, w));
        CK(qsnn_fb_i32(fb, opt, 2, 0, &o->stride_h, w));
        CK(qsnn_fb_u8(fb, opt, 3, 0, &o->act, w));
        CK(qsnn_fb_i32(fb, opt, 4, 1, &o->dil_w, w));
        CK(qsnn_fb_i32(fb, opt, 5, 1, &o->dil_h, w));
        break;
    case TFL_DEPTHWISE_CONV_2D:
        CK(qsnn_fb_u8(fb, opt, 0, 0, &o->padding, w));
        CK(qsnn_fb_i32(fb, opt, 1, 0, &o->stride_w, w));
        CK(qsnn_fb_i32(fb, opt, 2, 0, &o->stride_h, w));
        CK(qsnn_fb_i32(fb, opt, 3, 0, &o->depth_multiplier, w));
        CK(qsnn_fb_u8(fb, opt, 4, 0, &o->act, w));
        CK(qsnn_fb_i32(fb, opt, 5, 1, &o->dil_w, w));
        CK(qsnn_fb_i32(fb, opt, 6, 1, &o->dil_h, w));
        break;
    case TFL_AVERAGE_POOL_2D:
    case TFL_MAX_POOL_2D:
        CK(qsnn_fb_u8(fb, opt, 0, 0, &o->padding, w));
        CK(qsnn_fb_i32(fb, opt, 1, 0, &o->stride_w, w));
        CK(qsnn_fb_i32(fb, opt, 2, 0, &o->stride_h, w));
        CK(qsnn_fb_i32(fb, opt, 3, 0, &o->filter_w, w));
        CK(qsnn_fb_i32(fb, opt, 4, 0, &o->filter_h, w));
        CK(qsnn_fb_u8(fb, opt, 5, 0, &o->act, w));
        break;
    case TFL_FULLY_CONNECTED:
        CK(qsnn_fb_u8(fb, opt, 0, 0, &o->act, w));
        CK(qsnn_fb_u8(fb, opt, 1, 0, &o->weights_format, w));
        break;
    case TFL_SOFTMAX:
        CK(qsnn_fb_f32(fb, opt, 0, 0.0f, &o->beta, w));
        break;
    case TFL_ADD:
        CK(qsnn_fb_u8(fb, opt, 0, 0, &o->act, w));
        break;
    default:
        break;
    }
    return QSNN_OK;
}

void qsnn_tfl_free(qsnn_tfl_model *g)
{
    free(g->tensors);
    free(g->ops);
    free(g->buffers);
    memset(g, 0, sizeof *g);
}

static qsnn_status read_model(qsnn_tfl_model *g, const qsnn_fb *fb)
{
    if (fb->size < 8 || memcmp(fb->buf + 4, "TFL3", 4))
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: not a TensorFlow Lite model (no \"TFL3\" identifier at byte 4)",
                         fb->origin);
    qsnn_fb_table root;
    CK(qsnn_fb_root(fb, &root));
    CK(qsnn_fb_u32(fb, &root, 0, 0, &g->version, "version"));
    if (g->version != 3)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: version: schema version %u (this reader knows 3)", fb->origin,
                         g->version);
    /* operator codes */
    qsnn_fb_vec codes;
    CK(qsnn_fb_vec_field(fb, &root, 1, 4, &codes, "operator_codes"));
    if (codes.len > TFL_MAX_CODES)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: operator_codes: %u codes (at most %d)", fb->origin, codes.len,
                         TFL_MAX_CODES);
    g->num_codes = (int)codes.len;
    for (uint32_t i = 0; i < codes.len; i++) {
        char w[64];
        snprintf(w, sizeof w, "operator_codes[%u]", i);
        qsnn_fb_table c;
        CK(qsnn_fb_vec_table(fb, &codes, i, &c, w));
        uint8_t dep;
        int32_t code;
        CK(qsnn_fb_u8(fb, &c, 0, 0, &dep, w));
        CK(qsnn_fb_i32(fb, &c, 3, 0, &code, w));
        /* files before schema 3a hold the code in the byte field only; later ones in both (the larger counts) */
        g->codes[i] = code > (int32_t)(int8_t)dep ? code : (int32_t)(int8_t)dep;
    }
    /* the subgraph */
    qsnn_fb_vec subs;
    CK(qsnn_fb_vec_field(fb, &root, 2, 4, &subs, "subgraphs"));
    if (subs.len != 1)
        return qsnn_fail(subs.len ? QSNN_ERR_UNSUPPORTED : QSNN_ERR_FORMAT,
                         "%s: subgraphs: %u subgraphs (a model with exactly one is supported)", fb->origin, subs.len);
    qsnn_fb_table sg;
    CK(qsnn_fb_vec_table(fb, &subs, 0, &sg, "subgraphs[0]"));
    qsnn_fb_vec tens, ops, bufs;
    CK(qsnn_fb_vec_field(fb, &sg, 0, 4, &tens, "subgraphs[0].tensors"));
    CK(qsnn_fb_vec_field(fb, &sg, 3, 4, &ops, "subgraphs[0].operators"));
    CK(qsnn_fb_vec_field(fb, &root, 4, 4, &bufs, "buffers"));
    if (tens.len > TFL_MAX_TENSORS || ops.len > TFL_MAX_OPS || bufs.len > TFL_MAX_TENSORS + 1)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: subgraphs[0]: %u tensors, %u operators, %u buffers (at most %d, "
                         "%d, %d)", fb->origin, tens.len, ops.len, bufs.len, TFL_MAX_TENSORS, TFL_MAX_OPS,
                         TFL_MAX_TENSORS + 1);
    CK(read_ivec(fb, &sg, 1, g->inputs, TFL_MAX_IO, &g->num_inputs, "subgraphs[0].inputs"));
    CK(read_ivec(fb, &sg, 2, g->outputs, TFL_MAX_IO, &g->num_outputs, "subgraphs[0].outputs"));
    g->num_tensors = (int)tens.len;
    g->num_ops = (int)ops.len;
    g->num_buffers = (int)bufs.len;
    g->tensors = calloc(tens.len ? tens.len : 1, sizeof *g->tensors);
    g->ops = calloc(ops.len ? ops.len : 1, sizeof *g->ops);
    g->buffers = calloc(bufs.len ? bufs.len : 1, sizeof *g->buffers);
    if (!g->tensors || !g->ops || !g->buffers)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", fb->origin);
    for (uint32_t i = 0; i < tens.len; i++) {
        char w[64];
        snprintf(w, sizeof w, "subgraphs[0].tensors[%u]", i);
        qsnn_fb_table t;
        CK(qsnn_fb_vec_table(fb, &tens, i, &t, w));
        CK(read_tensor(fb, &t, &g->tensors[i], w));
        if (g->tensors[i].buffer >= bufs.len)
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s.buffer: %u out of range (%u buffers)", fb->origin, w,
                             g->tensors[i].buffer, bufs.len);
    }
    for (uint32_t i = 0; i < bufs.len; i++) {
        char w[64];
        snprintf(w, sizeof w, "buffers[%u]", i);
        qsnn_fb_table b;
        CK(qsnn_fb_vec_table(fb, &bufs, i, &b, w));
        CK(qsnn_fb_vec_field(fb, &b, 0, 1, &g->buffers[i], w));
        uint64_t off;
        CK(qsnn_fb_u64(fb, &b, 1, 0, &off, w));
        if (off > 1)
            return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: %s.offset: data stored outside the flatbuffer (models over "
                             "2 GB) is not supported", fb->origin, w);
    }
    for (uint32_t i = 0; i < ops.len; i++) {
        char w[64];
        snprintf(w, sizeof w, "subgraphs[0].operators[%u]", i);
        qsnn_fb_table o;
        CK(qsnn_fb_vec_table(fb, &ops, i, &o, w));
        qsnn_tfl_op *op = &g->ops[i];
        uint32_t oc;
        CK(qsnn_fb_u32(fb, &o, 0, 0, &oc, w));
        if (oc >= (uint32_t)g->num_codes)
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s.opcode_index: %u out of range (%d operator codes)", fb->origin,
                             w, oc, g->num_codes);
        op->code = g->codes[oc];
        char wi[160];
        snprintf(wi, sizeof wi, "%s.inputs", w);
        CK(read_ivec(fb, &o, 1, op->in, TFL_MAX_OP_IO, &op->num_in, wi));
        snprintf(wi, sizeof wi, "%s.outputs", w);
        CK(read_ivec(fb, &o, 2, op->out, TFL_MAX_OP_IO, &op->num_out, wi));
        for (int k = 0; k < op->num_in + op->num_out; k++) {
            int32_t t = k < op->num_in ? op->in[k] : op->out[k - op->num_in];
            if (t < -1 || t >= g->num_tensors)
                return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s.%s: tensor %d out of range (%d tensors)", fb->origin, w,
                                 k < op->num_in ? "inputs" : "outputs", t, g->num_tensors);
        }
        qsnn_fb_table opt;
        int has = 0;
        snprintf(wi, sizeof wi, "%s.builtin_options", w);
        CK(qsnn_fb_table_field(fb, &o, 4, &opt, &has, wi));
        CK(read_options(fb, &opt, has, op, w));
    }
    for (int k = 0; k < g->num_inputs + g->num_outputs; k++) {
        int32_t t = k < g->num_inputs ? g->inputs[k] : g->outputs[k - g->num_inputs];
        if (t < 0 || t >= g->num_tensors)
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: subgraphs[0].%s: tensor %d out of range (%d tensors)", fb->origin,
                             k < g->num_inputs ? "inputs" : "outputs", t, g->num_tensors);
    }
    return QSNN_OK;
}

qsnn_status qsnn_tfl_read(qsnn_tfl_model *g, const qsnn_fb *fb)
{
    memset(g, 0, sizeof *g);
    g->fb = *fb;
    qsnn_status st = read_model(g, fb);
    if (st != QSNN_OK)
        qsnn_tfl_free(g);
    return st;
}
