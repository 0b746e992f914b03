/* SPDX-License-Identifier: Apache-2.0 */
/* tflite.c: a TFLite model (read by tflite_read.c) as a qsnn float model (qsnn/import.h).
 *
 * The graph must be a chain: operator k's first input is the previous operator's output (the subgraph's input
 * for the first), and the last one's output is the subgraph's output. Weighted operators become layers; an ADD
 * of a constant vector, a standalone RELU/RELU6 and a pooling operator fold into the layer before them (bias,
 * activation, pool_after); RESHAPE is a no-op on NHWC data and is accepted where qsnn's layers see the same data
 * (before the first layer, before a dense layer, at the end); SOFTMAX must come last (qsnn models output
 * logits; the softmax is applied by whoever wants probabilities).
 * Weights are copied into qsnn's layouts (qsnn/tensor.h) and dequantized; every tensor's byte size is checked
 * against its shape and type before it is read. */
#include "qsnn/import.h"

#include "import/tflite_internal.h"
#include "qsnn/io.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *w, *bias; /* qsnn layouts (malloc'ed); NULL when absent */
    size_t n_w, n_bias;
} layer_data;

typedef struct {
    const qsnn_tfl_model *g;
    const char *origin;
    qsnn_arch a;
    layer_data ld[QSNN_MAX_LAYERS];
    qsnn_shape cur; /* the shape flowing between operators */
    int softmax_seen;
} builder;

static const char *opname(int code)
{
    const char *n = qsnn_tfl_op_name(code);
    return n ? n : "builtin operator";
}

static qsnn_status op_fail(const builder *b, int i, qsnn_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static qsnn_status op_fail(const builder *b, int i, qsnn_status st, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return qsnn_fail(st, "%s: operator %d (%s, code %d): %s", b->origin, i, opname(b->g->ops[i].code),
                     b->g->ops[i].code, msg);
}

/* Element count of a tensor, or 0 with an error if a dimension is zero or the count exceeds 2^28. */
static size_t tensor_count(const qsnn_tfl_tensor *t)
{
    size_t n = 1;
    for (int d = 0; d < t->rank; d++) {
        if (t->shape[d] <= 0)
            return 0;
        n *= (size_t)t->shape[d];
        if (n > (1u << 28))
            return 0;
    }
    return n;
}

/* The per-sample shape of an activation tensor: [1, h, w, c], [1, h, w], [1, n] or [n]. */
static int act_shape(const qsnn_tfl_tensor *t, qsnn_shape *s)
{
    const int32_t *d = t->shape;
    if (t->rank == 4 && d[0] == 1)
        *s = (qsnn_shape){d[1], d[2], d[3]};
    else if (t->rank == 3 && d[0] == 1)
        *s = (qsnn_shape){d[1], d[2], 1};
    else if (t->rank == 2 && d[0] == 1)
        *s = (qsnn_shape){1, 1, d[1]};
    else if (t->rank == 1)
        *s = (qsnn_shape){1, 1, d[0]};
    else
        return 0;
    /* qsnn's own limits (arch.c): every dimension 1..4096, so counts and products below cannot overflow */
    return s->h > 0 && s->w > 0 && s->c > 0 && s->h <= 4096 && s->w <= 4096 && s->c <= 4096 &&
           qsnn_shape_count(*s) <= (1u << 28);
}

/* Tensor ti as float32 values in its own order, dequantized; `chan_dim` is the dimension that per-channel scales
 * follow. *out is malloc'ed with `want` elements. */
static qsnn_status tensor_floats(const builder *b, int op, int ti, size_t want, int chan_dim, float **out,
                                 const char *role)
{
    const qsnn_tfl_model *g = b->g;
    const qsnn_tfl_tensor *t = &g->tensors[ti];
    char d[160];
    snprintf(d, sizeof d, "%s tensor %d '%s'", role, ti, t->name);
    size_t n = tensor_count(t);
    if (n != want) {
        return op_fail(b, op, QSNN_ERR_FORMAT, "%s has %zu elements, the layer needs %zu", d, n, want);
    }
    const qsnn_fb_vec *bv = &g->buffers[t->buffer];
    size_t es = t->type == TFL_FLOAT32 ? 4 : (t->type == TFL_INT8 || t->type == TFL_UINT8) ? 1 : 0;
    if (!es) {
        return op_fail(b, op, QSNN_ERR_UNSUPPORTED, "%s has type %u (float32, or int8/uint8 weights with scales, are supported)", d,
                 t->type);
    }
    if (t->buffer == 0 || bv->len != n * es) {
        return op_fail(b, op, QSNN_ERR_FORMAT, "%s: its buffer %u holds %u bytes, its shape and type need %zu", d, t->buffer, bv->len,
                 n * es);
    }
    size_t nch = 1, inner = 1;
    if (es == 1) {
        if (t->scale.len == 0) {
            return op_fail(b, op, QSNN_ERR_FORMAT, "%s is 8-bit without quantization scales", d);
        }
        if (t->scale.len > 1) {
            if (t->qdim != chan_dim || chan_dim < 0 || chan_dim >= t->rank ||
                t->scale.len != (uint32_t)t->shape[chan_dim]) {
                return op_fail(b, op, QSNN_ERR_UNSUPPORTED, "%s: %u scales along dimension %d (per-tensor, or per channel along %d)", d,
                         t->scale.len, t->qdim, chan_dim);
            }
            nch = t->scale.len;
            for (int k = chan_dim + 1; k < t->rank; k++)
                inner *= (size_t)t->shape[k];
        }
        if (t->zero_point.len != 0 && t->zero_point.len != t->scale.len) {
            return op_fail(b, op, QSNN_ERR_FORMAT, "%s: %u zero points for %u scales", d, t->zero_point.len, t->scale.len);
        }
    }
    float *v = malloc(n * sizeof *v);
    if (!v)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", b->origin);
    const uint8_t *src = g->fb.buf + bv->pos;
    for (size_t i = 0; i < n; i++) {
        if (es == 4) {
            memcpy(&v[i], src + 4 * i, 4);
        } else {
            uint32_t ch = nch > 1 ? (uint32_t)((i / inner) % nch) : 0;
            double q = t->type == TFL_INT8 ? (double)(int8_t)src[i] : (double)src[i];
            double zp = t->zero_point.len ? (double)qsnn_fb_vec_i64(&g->fb, &t->zero_point, ch) : 0.0;
            v[i] = (float)(qsnn_fb_vec_f32(&g->fb, &t->scale, ch) * (q - zp));
        }
        if (!isfinite(v[i])) {
            free(v);
            return op_fail(b, op, QSNN_ERR_FORMAT, "%s: element %zu is not finite", d, i);
        }
    }
    *out = v;
    return QSNN_OK;
}

static qsnn_status set_act(builder *b, int i, qsnn_layer_desc *l, uint8_t act)
{
    if (act == TFL_ACT_NONE)
        return QSNN_OK;
    if (act != TFL_ACT_RELU && act != TFL_ACT_RELU6) {
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "fused activation %u (NONE, RELU, RELU6 are supported)", act);
    }
    l->activation = 1;
    l->act_relu = act == TFL_ACT_RELU;
    return QSNN_OK;
}

static qsnn_layer_desc *new_layer(builder *b, int i, qsnn_op op, const char *prefix, qsnn_status *st)
{
    if (b->a.num_layers >= QSNN_MAX_LAYERS) {
        *st = op_fail(b, i, QSNN_ERR_UNSUPPORTED, "more weighted layers than qsnn's limit of 32");
        return NULL;
    }
    int k = b->a.num_layers++;
    qsnn_layer_desc *l = &b->a.layers[k];
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s_%d", prefix, k);
    l->op = op;
    l->stride_h = l->stride_w = 1;
    l->kh = l->kw = 1;
    l->padding_same = 1;
    l->weight_bits = 0;
    l->act_bits = 4;
    *st = QSNN_OK;
    return l;
}

static qsnn_status conv_geometry(builder *b, int i, qsnn_layer_desc *l, const qsnn_tfl_op *o)
{
    if (o->dil_w != 1 || o->dil_h != 1)
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "dilation other than 1");
    if (o->stride_w < 1 || o->stride_h < 1 || o->stride_w > 8 || o->stride_h > 8)
        return op_fail(b, i, QSNN_ERR_FORMAT, "stride out of range 1..8");
    if (o->padding != TFL_PAD_SAME && o->padding != TFL_PAD_VALID)
        return op_fail(b, i, QSNN_ERR_FORMAT, "padding is neither SAME nor VALID");
    l->stride_h = o->stride_h;
    l->stride_w = o->stride_w;
    l->padding_same = o->padding == TFL_PAD_SAME;
    return QSNN_OK;
}

/* The layer's bias from optional input 2 of a conv / depthwise / fully connected operator. */
static qsnn_status take_bias(builder *b, int i, int k, int cout)
{
    const qsnn_tfl_op *o = &b->g->ops[i];
    if (o->num_in < 3 || o->in[2] < 0)
        return QSNN_OK;
    if (b->g->tensors[o->in[2]].type == TFL_INT32)
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED,
                       "int32 bias: a fully int8-quantized model (int8 activations) is not supported; import "
                       "the float or dynamic-range model");
    b->a.layers[k].use_bias = 1;
    b->ld[k].n_bias = (size_t)cout;
    return tensor_floats(b, i, o->in[2], (size_t)cout, 0, &b->ld[k].bias, "bias");
}

static qsnn_status add_weighted(builder *b, int i, const qsnn_tfl_op *o)
{
    const qsnn_tfl_model *g = b->g;
    if (o->num_in < 2 || o->in[1] < 0)
        return op_fail(b, i, QSNN_ERR_FORMAT, "no weight tensor");
    const qsnn_tfl_tensor *wt = &g->tensors[o->in[1]];
    qsnn_status st;
    qsnn_layer_desc *l = NULL;
    float *raw = NULL;
    const qsnn_shape s = b->cur;
    if (o->code == TFL_FULLY_CONNECTED) {
        size_t in_n = qsnn_shape_count(s);
        if (wt->rank != 2 || (size_t)wt->shape[1] != in_n || wt->shape[0] < 1)
            return op_fail(b, i, QSNN_ERR_SHAPE, "weights are not [out, in] with in = the flattened input");
        if (o->weights_format != 0)
            return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "shuffled weights format");
        const int out_n = wt->shape[0];
        size_t n_w;
        if (out_n > 4096 || !qsnn_mul_size(&n_w, (size_t)out_n, in_n) || n_w > (1u << 28))
            return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "%d x %zu weights (at most 4096 outputs, 2^28 weights)", out_n,
                           in_n);
        if (!(l = new_layer(b, i, QSNN_OP_DENSE, "dense", &st)))
            return st;
        l->filters = out_n;
        int k = b->a.num_layers - 1;
        if ((st = tensor_floats(b, i, o->in[1], n_w, 0, &raw, "weight")) != QSNN_OK)
            return st;
        float *w = malloc(n_w * sizeof *w);
        if (!w) {
            free(raw);
            return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", b->origin);
        }
        for (int oo = 0; oo < out_n; oo++) /* [out][in] -> [in][out] */
            for (size_t ii = 0; ii < in_n; ii++)
                w[ii * (size_t)out_n + (size_t)oo] = raw[(size_t)oo * in_n + ii];
        free(raw);
        b->ld[k].w = w;
        b->ld[k].n_w = n_w;
        b->cur = (qsnn_shape){1, 1, out_n};
        if ((st = set_act(b, i, l, o->act)) != QSNN_OK)
            return st;
        return take_bias(b, i, k, out_n);
    }
    if (wt->rank != 4)
        return op_fail(b, i, QSNN_ERR_SHAPE, "weights are not 4-D");
    const int kh = wt->shape[1], kw = wt->shape[2];
    if (kh < 1 || kw < 1 || kh > 15 || kw > 15)
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "kernel size outside 1..15");
    if (o->code == TFL_DEPTHWISE_CONV_2D) {
        if (wt->shape[0] != 1 || wt->shape[3] != s.c || (o->depth_multiplier != 1 && o->depth_multiplier != 0))
            return op_fail(b, i, QSNN_ERR_UNSUPPORTED,
                           "weights are not [1, h, w, channels] with depth multiplier 1");
        if (!(l = new_layer(b, i, QSNN_OP_DEPTHWISE, "dw", &st)))
            return st;
    } else {
        if (wt->shape[3] != s.c || wt->shape[0] < 1)
            return op_fail(b, i, QSNN_ERR_SHAPE, "weights are not [out, h, w, in] with in = the input channels");
        if (!(l = new_layer(b, i, QSNN_OP_CONV2D, kh == 1 && kw == 1 ? "pw" : "conv", &st)))
            return st;
        l->filters = wt->shape[0];
    }
    l->kh = kh;
    l->kw = kw;
    if ((st = conv_geometry(b, i, l, o)) != QSNN_OK)
        return st;
    const int k = b->a.num_layers - 1, cout = o->code == TFL_DEPTHWISE_CONV_2D ? s.c : wt->shape[0];
    const size_t n = (size_t)kh * kw * s.c * (o->code == TFL_DEPTHWISE_CONV_2D ? 1 : (size_t)cout);
    if ((st = tensor_floats(b, i, o->in[1], n, o->code == TFL_DEPTHWISE_CONV_2D ? 3 : 0, &raw, "weight")) != QSNN_OK)
        return st;
    if (o->code == TFL_DEPTHWISE_CONV_2D) {
        b->ld[k].w = raw; /* [1][kh][kw][c] is qsnn's [kh][kw][c] */
    } else {
        float *w = malloc(n * sizeof *w);
        if (!w) {
            free(raw);
            return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", b->origin);
        }
        for (int oo = 0; oo < cout; oo++) /* [out][kh][kw][in] -> [kh][kw][in][out] */
            for (size_t t = 0; t < (size_t)kh * kw * s.c; t++)
                w[t * (size_t)cout + (size_t)oo] = raw[(size_t)oo * kh * kw * s.c + t];
        free(raw);
        b->ld[k].w = w;
    }
    b->ld[k].n_w = n;
    b->cur = (qsnn_shape){qsnn_conv_out_size(s.h, kh, l->stride_h, l->padding_same, NULL),
                          qsnn_conv_out_size(s.w, kw, l->stride_w, l->padding_same, NULL), cout};
    if (b->cur.h <= 0 || b->cur.w <= 0)
        return op_fail(b, i, QSNN_ERR_SHAPE, "the kernel does not fit the input with VALID padding");
    if ((st = set_act(b, i, l, o->act)) != QSNN_OK)
        return st;
    return take_bias(b, i, k, cout);
}

/* The last layer, for an operator that folds into it; it must not have pool_after yet (and, for a bias or an
 * activation, no activation yet). */
static qsnn_status last_layer(builder *b, int i, int need_no_act, qsnn_layer_desc **out)
{
    if (b->a.num_layers == 0)
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "comes before any weighted layer");
    qsnn_layer_desc *l = &b->a.layers[b->a.num_layers - 1];
    if (l->pool_after != QSNN_POOL_NONE || (need_no_act && l->activation))
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "%s",
                       need_no_act ? "follows an activation or a pooling (only a bias or activation directly on a "
                                     "layer's output folds into it)"
                                   : "a second pooling after one layer");
    *out = l;
    return QSNN_OK;
}

static qsnn_status add_pool(builder *b, int i, const qsnn_tfl_op *o)
{
    qsnn_layer_desc *l = NULL;
    qsnn_status st = last_layer(b, i, 0, &l);
    if (st != QSNN_OK)
        return st;
    if (l->op == QSNN_OP_DENSE)
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "pooling after a fully connected layer");
    if (o->act != TFL_ACT_NONE)
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "a fused activation on a pooling");
    if (o->filter_w < 1 || o->filter_h < 1 || o->filter_w > 4096 || o->filter_h > 4096 || o->stride_w < 1 ||
        o->stride_h < 1 || o->stride_w > 4096 || o->stride_h > 4096)
        return op_fail(b, i, QSNN_ERR_FORMAT, "filter size or stride out of range 1..4096");
    if (o->padding != TFL_PAD_SAME && o->padding != TFL_PAD_VALID)
        return op_fail(b, i, QSNN_ERR_FORMAT, "padding is neither SAME nor VALID");
    l->pool_after = o->code == TFL_MAX_POOL_2D ? QSNN_POOL_MAX : QSNN_POOL_AVG;
    l->pool_kh = o->filter_h;
    l->pool_kw = o->filter_w;
    l->pool_sh = o->stride_h;
    l->pool_sw = o->stride_w;
    l->pool_same = o->padding == TFL_PAD_SAME;
    b->cur.h = qsnn_conv_out_size(b->cur.h, l->pool_kh, l->pool_sh, l->pool_same, NULL);
    b->cur.w = qsnn_conv_out_size(b->cur.w, l->pool_kw, l->pool_sw, l->pool_same, NULL);
    if (b->cur.h <= 0 || b->cur.w <= 0)
        return op_fail(b, i, QSNN_ERR_SHAPE, "the window does not fit the map with VALID padding");
    return QSNN_OK;
}

/* ADD(x, c) with c a constant vector of one value per channel: a bias of the layer before. */
static qsnn_status add_bias(builder *b, int i, const qsnn_tfl_op *o, int cur_tensor)
{
    if (o->num_in != 2)
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "not a bias (two inputs expected)");
    int ci = o->in[0] == cur_tensor ? o->in[1] : o->in[0];
    if (ci < 0)
        return op_fail(b, i, QSNN_ERR_FORMAT, "missing input");
    const qsnn_tfl_tensor *c = &b->g->tensors[ci];
    if (c->buffer == 0 || b->g->buffers[c->buffer].len == 0 || tensor_count(c) != (size_t)b->cur.c)
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "not a bias: the other input is not a constant vector of one "
                       "value per channel");
    qsnn_layer_desc *l = NULL;
    qsnn_status st = last_layer(b, i, 1, &l);
    if (st != QSNN_OK)
        return st;
    const int k = b->a.num_layers - 1;
    float *v;
    if ((st = tensor_floats(b, i, ci, (size_t)b->cur.c, c->rank - 1, &v, "bias")) != QSNN_OK)
        return st;
    if (!b->ld[k].bias) {
        b->ld[k].bias = v;
        b->ld[k].n_bias = (size_t)b->cur.c;
        l->use_bias = 1;
    } else {
        for (int j = 0; j < b->cur.c; j++)
            b->ld[k].bias[j] += v[j];
        free(v);
    }
    return set_act(b, i, l, o->act);
}

static qsnn_status add_op(builder *b, int i, int *cur_tensor)
{
    const qsnn_tfl_model *g = b->g;
    const qsnn_tfl_op *o = &g->ops[i];
    if (o->num_in < 1 || o->num_out < 1 || o->out[0] < 0)
        return op_fail(b, i, QSNN_ERR_FORMAT, "no input or no output");
    if (o->code != TFL_ADD && o->in[0] != *cur_tensor) {
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "its input is tensor %d, not the previous operator's output %d (only chains of "
                 "operators are supported)", o->in[0], *cur_tensor);
    }
    if (o->code == TFL_ADD && o->in[0] != *cur_tensor && (o->num_in < 2 || o->in[1] != *cur_tensor))
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "does not take the previous operator's output");
    const qsnn_tfl_tensor *ot = &g->tensors[o->out[0]];
    if (ot->type != TFL_FLOAT32)
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "its output is not float32: a fully int8-quantized model (int8 "
                       "activations) is not supported; import the float or dynamic-range model");
    if (b->softmax_seen && o->code != TFL_RESHAPE)
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "follows the SOFTMAX (it must be the last operator)");
    qsnn_status st = QSNN_OK;
    switch (o->code) {
    case TFL_CONV_2D:
    case TFL_DEPTHWISE_CONV_2D:
    case TFL_FULLY_CONNECTED:
        st = add_weighted(b, i, o);
        break;
    case TFL_AVERAGE_POOL_2D:
    case TFL_MAX_POOL_2D:
        st = add_pool(b, i, o);
        break;
    case TFL_ADD:
        st = add_bias(b, i, o, *cur_tensor);
        break;
    case TFL_RELU:
    case TFL_RELU6: {
        qsnn_layer_desc *l = NULL;
        st = last_layer(b, i, 1, &l);
        if (st == QSNN_OK)
            st = set_act(b, i, l, o->code == TFL_RELU ? TFL_ACT_RELU : TFL_ACT_RELU6);
        break;
    }
    case TFL_RESHAPE: {
        qsnn_shape ns;
        if (!act_shape(ot, &ns) || qsnn_shape_count(ns) != qsnn_shape_count(b->cur))
            return op_fail(b, i, QSNN_ERR_SHAPE, "its output shape does not hold the input's values");
        /* a reshape is a no-op on NHWC data; qsnn needs the layers after it to see the same shape, except a
         * dense layer (it flattens), or the network input (the first layer takes the reshaped input) */
        int next = i + 1 < g->num_ops ? g->ops[i + 1].code : -1;
        if (b->a.num_layers == 0)
            b->a.input = ns;
        else if (next != TFL_FULLY_CONNECTED && next != TFL_SOFTMAX && next != -1 &&
                 (ns.h != b->cur.h || ns.w != b->cur.w || ns.c != b->cur.c))
            return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "changes the map's shape between convolutions");
        if (b->a.num_layers == 0 || next == TFL_FULLY_CONNECTED)
            b->cur = ns;
        break;
    }
    case TFL_SOFTMAX:
        if (o->beta != 1.0f) {
            return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "beta %g (only 1: qsnn models output logits)", (double)o->beta);
        }
        b->softmax_seen = 1;
        break;
    case TFL_QUANTIZE:
    case TFL_DEQUANTIZE:
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "not supported: a fully int8-quantized or float16 model; import "
                       "the float32 or dynamic-range model");
    default:
        return op_fail(b, i, QSNN_ERR_UNSUPPORTED, "not supported (CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, "
                       "MAX_POOL_2D, FULLY_CONNECTED, RESHAPE, SOFTMAX, ADD as a bias, RELU, RELU6)");
    }
    if (st != QSNN_OK)
        return st;
    *cur_tensor = o->out[0];
    return QSNN_OK;
}

qsnn_status qsnn_labels_parse(char labels[][QSNN_LABEL_MAX], int count, const char *csv)
{
    int n = 0;
    const char *p = csv;
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n >= count)
            return qsnn_fail(QSNN_ERR_ARG, "labels: more than %d names", count);
        if (len == 0 || len >= QSNN_LABEL_MAX)
            return qsnn_fail(QSNN_ERR_ARG, "labels: name %d has %zu characters (1..%d)", n, len, QSNN_LABEL_MAX - 1);
        for (size_t k = 0; k < len; k++) /* the characters label names may hold everywhere in qsnn */
            if (!((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z') || (p[k] >= '0' && p[k] <= '9') ||
                  strchr("_.+-", p[k])))
                return qsnn_fail(QSNN_ERR_ARG, "labels: name %d has a character outside A-Z a-z 0-9 _ . + -", n);
        memcpy(labels[n], p, len);
        labels[n][len] = '\0';
        for (int j = 0; j < n; j++)
            if (!strcmp(labels[j], labels[n]))
                return qsnn_fail(QSNN_ERR_ARG, "labels: '%s' appears twice", labels[n]);
        n++;
        p = e ? e + 1 : NULL;
    }
    if (n != count)
        return qsnn_fail(QSNN_ERR_ARG, "labels: %d names for %d classes", n, count);
    return QSNN_OK;
}

static qsnn_status build(builder *b, qsnn_model *m, const qsnn_import_opts *opts)
{
    const qsnn_tfl_model *g = b->g;
    if (g->num_inputs != 1 || g->num_outputs != 1)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: subgraphs[0]: %d inputs and %d outputs (one of each is "
                         "supported)", b->origin, g->num_inputs, g->num_outputs);
    const qsnn_tfl_tensor *in = &g->tensors[g->inputs[0]];
    if (in->type != TFL_FLOAT32)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: input tensor '%s' has type %u, not float32: a fully "
                         "int8-quantized model is not supported; import the float or dynamic-range model",
                         b->origin, in->name, in->type);
    if (!act_shape(in, &b->cur))
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: input tensor '%s': shape of rank %d is not [1, h, w, c]",
                         b->origin, in->name, in->rank);
    b->a.input = b->cur;
    snprintf(b->a.name, sizeof b->a.name, "%s", opts && opts->name ? opts->name : "imported");
    int cur = g->inputs[0];
    for (int i = 0; i < g->num_ops; i++) {
        qsnn_status st = add_op(b, i, &cur);
        if (st != QSNN_OK)
            return st;
    }
    if (cur != g->outputs[0])
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: the last operator's output (tensor %d) is not the model output "
                         "(tensor %d)", b->origin, cur, g->outputs[0]);
    if (b->a.num_layers == 0)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: no weighted layer", b->origin);
    b->a.num_classes = b->cur.c;
    if (opts && opts->features)
        b->a.features = *opts->features;
    else
        qsnn_frontend_defaults(&b->a.features, QSNN_FRONTEND_TF_AUDIO_OPS);
    b->a.features.input = QSNN_INPUT_FLOAT;
    qsnn_status st = qsnn_arch_validate(&b->a);
    if (st != QSNN_OK)
        return qsnn_fail_context(st, "%s: the imported graph is not a valid qsnn model", b->origin);
    if ((st = qsnn_model_init(m, &b->a, 0)) != QSNN_OK)
        return st;
    for (int k = 0; k < b->a.num_layers; k++) {
        qsnn_layer_params *lp = &m->lp[k];
        float *dst = b->a.layers[k].op == QSNN_OP_DEPTHWISE ? lp->dw : lp->w;
        size_t want = b->a.layers[k].op == QSNN_OP_DEPTHWISE ? lp->n_dw : lp->n_w;
        if (want != b->ld[k].n_w || lp->n_bias != b->ld[k].n_bias) {
            qsnn_model_free(m);
            return qsnn_fail(QSNN_ERR_SHAPE, "%s: layer %d: %zu weights and %zu biases read, the model has %zu and "
                             "%zu", b->origin, k, b->ld[k].n_w, b->ld[k].n_bias, want, lp->n_bias);
        }
        memcpy(dst, b->ld[k].w, want * sizeof *dst);
        if (lp->n_bias)
            memcpy(lp->bias, b->ld[k].bias, lp->n_bias * sizeof *lp->bias);
    }
    if (opts && opts->labels) {
        m->num_labels = b->a.num_classes;
        if ((st = qsnn_labels_parse(m->labels, m->num_labels, opts->labels)) != QSNN_OK) {
            qsnn_model_free(m);
            return st;
        }
    }
    return QSNN_OK;
}

qsnn_status qsnn_import_tflite_mem(qsnn_model *m, const void *buf, size_t size, const char *origin,
                                   const qsnn_import_opts *opts)
{
    if (!m || (!buf && size))
        return qsnn_fail(QSNN_ERR_ARG, "import: NULL argument");
    memset(m, 0, sizeof *m);
    qsnn_fb fb = {buf, size, origin ? origin : "model.tflite"};
    qsnn_tfl_model g;
    qsnn_status st = qsnn_tfl_read(&g, &fb);
    if (st != QSNN_OK)
        return st;
    builder *b = calloc(1, sizeof *b);
    if (!b) {
        qsnn_tfl_free(&g);
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", fb.origin);
    }
    b->g = &g;
    b->origin = fb.origin;
    st = build(b, m, opts);
    for (int k = 0; k < QSNN_MAX_LAYERS; k++) {
        free(b->ld[k].w);
        free(b->ld[k].bias);
    }
    free(b);
    qsnn_tfl_free(&g);
    return st;
}

qsnn_status qsnn_import_tflite(qsnn_model *m, const char *path, const qsnn_import_opts *opts)
{
    char *buf = NULL;
    size_t len = 0;
    qsnn_status st = qsnn_read_text_file(path, (size_t)256 << 20, &buf, &len);
    if (st != QSNN_OK)
        return st;
    st = qsnn_import_tflite_mem(m, buf, len, path, opts);
    free(buf);
    return st;
}
