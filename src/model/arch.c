/* SPDX-License-Identifier: Apache-2.0 */
/* arch.c: architectures as data. JSON <-> qsnn_arch (cJSON), the built-in architectures, validation (shapes
 * with TF 'same'/'valid' padding) and Keras' parameter count.
 *
 * Invariants: a qsnn_arch that passed qsnn_arch_validate has 1..QSNN_MAX_LAYERS layers, NUL-terminated unique
 * names, every field in its documented range, in/out shapes filled in, and its last layer gives 1 x 1 x classes.
 * The parser rejects unknown fields and wrong JSON types; ranges are checked by the validator so that both paths
 * (JSON and structs built in C) give the same messages: "<origin>: layer <i> '<name>': <field> <problem>".
 * The JSON format is documented in docs/model.md.
 */
#include "qsnn/model.h"
#include "qsnn/io.h"

#include <cjson/cJSON.h>

#include "model/arch_ext_internal.h"
#include "model/arch_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARCH_DIM_MAX 4096     /* any input / shape dimension */
#define ARCH_FILTERS_MAX 4096
#define ARCH_KERNEL_MAX 15
#define ARCH_STRIDE_MAX 8
#define ARCH_PARAMS_MAX (1u << 28) /* 268M parameters: 1 GiB of float32 */

/* ---------------------------------------------------------------- defaults, built-ins */

static void layer_defaults(qsnn_layer_desc *l)
{
    memset(l, 0, sizeof *l);
    l->op = QSNN_OP_CONV2D;
    l->kh = l->kw = 0; /* required, except for dense */
    l->stride_h = l->stride_w = 1;
    l->padding_same = 1;
    l->use_bias = 0;
    l->weight_bits = 4;
    l->pool = QSNN_POOL_NONE;
    l->batch_norm = 1;
    l->activation = 1;
    l->act_bits = 4;
}

static qsnn_layer_desc *add_layer(qsnn_arch *a, const char *name, qsnn_op op, int filters, int kh, int kw,
                                  int stride, int weight_bits)
{
    qsnn_layer_desc *l = &a->layers[a->num_layers++];
    layer_defaults(l);
    snprintf(l->name, sizeof l->name, "%s", name);
    l->op = op;
    l->filters = filters;
    l->kh = kh;
    l->kw = kw;
    l->stride_h = l->stride_w = stride;
    l->weight_bits = weight_bits;
    return l;
}

/* The tutorial's mobilenet_kws (docs/design.md s3.2): conv_0 then separable_1..6, no biases, 4-bit ReLU. */
static void build_mobilenet_kws(qsnn_arch *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "mobilenet_kws");
    a->input = (qsnn_shape){49, 10, 1};
    a->num_classes = 12;
    add_layer(a, "conv_0", QSNN_OP_CONV2D, 32, 5, 5, 2, 8);
    char name[QSNN_NAME_MAX];
    for (int i = 1; i <= 5; i++) {
        snprintf(name, sizeof name, "separable_%d", i);
        qsnn_layer_desc *l = add_layer(a, name, QSNN_OP_SEPARABLE, 64, 3, 3, 1, 4);
        if (i == 5)
            l->pool = QSNN_POOL_GLOBAL_AVG; /* before separable_5_BN, as in the tutorial */
    }
    qsnn_layer_desc *last = add_layer(a, "separable_6", QSNN_OP_SEPARABLE, 12, 3, 3, 1, 4);
    last->batch_norm = 0;
    last->activation = 0;
}

/* MLPerf Tiny KWS DS-CNN (training/keyword_spotting/keras_model.py, "ds_cnn"): Conv2D 64 (10,4) stride 2 same
 * + BN + ReLU, 4 x [DepthwiseConv2D 3x3 same + BN + ReLU, Conv2D 64 1x1 + BN + ReLU], AveragePooling2D over the
 * whole 25x5 map, Flatten, Dense 12. Keras' default use_bias=True is kept (biases everywhere), which gives
 * MLPerf's 24,908 parameters (23,756 trainable). Differences forced by our op set, documented in docs/model.md:
 * the average pooling is the pool of pw_4 and so comes before pw_4's BN and ReLU (MLPerf pools after the ReLU);
 * the dropout layers (0.2, 0.4) are not part of the architecture; the dense layer has no softmax (logits). */
static void build_ds_cnn(qsnn_arch *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "ds_cnn");
    a->input = (qsnn_shape){49, 10, 1};
    a->num_classes = 12;
    qsnn_layer_desc *l = add_layer(a, "conv_0", QSNN_OP_CONV2D, 64, 10, 4, 2, 8);
    l->use_bias = 1;
    char name[QSNN_NAME_MAX];
    for (int i = 1; i <= 4; i++) {
        snprintf(name, sizeof name, "dw_%d", i);
        l = add_layer(a, name, QSNN_OP_DEPTHWISE, 0, 3, 3, 1, 4);
        l->use_bias = 1;
        snprintf(name, sizeof name, "pw_%d", i);
        l = add_layer(a, name, QSNN_OP_CONV2D, 64, 1, 1, 1, 4);
        l->use_bias = 1;
        if (i == 4)
            l->pool = QSNN_POOL_GLOBAL_AVG;
    }
    l = add_layer(a, "dense_5", QSNN_OP_DENSE, 12, 1, 1, 1, 4);
    l->use_bias = 1;
    l->batch_norm = 0;
    l->activation = 0;
}

qsnn_status qsnn_arch_builtin(qsnn_arch *out, const char *name)
{
    if (!out || !name)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_arch_builtin: NULL argument");
    if (strcmp(name, "mobilenet_kws") == 0)
        build_mobilenet_kws(out);
    else if (strcmp(name, "ds_cnn") == 0)
        build_ds_cnn(out);
    else
        return qsnn_fail(QSNN_ERR_ARG, "unknown built-in architecture '%s' (known: mobilenet_kws, ds_cnn)", name);
    return qsnn_arch_validate(out);
}

/* ---------------------------------------------------------------- validation */

void qsnn_arch_layer_sizes(const qsnn_layer_desc *l, size_t *n_w, size_t *n_dw, size_t *n_bias, size_t *n_bn)
{
    size_t k = (size_t)l->kh * (size_t)l->kw, cin = (size_t)l->in.c, cout = (size_t)l->filters;
    *n_w = *n_dw = 0;
    switch (l->op) {
    case QSNN_OP_CONV2D: *n_w = k * cin * cout; break;
    case QSNN_OP_DEPTHWISE: *n_dw = k * cin; break;
    case QSNN_OP_SEPARABLE:
        *n_dw = k * cin;
        *n_w = cin * cout;
        break;
    case QSNN_OP_DENSE: *n_w = qsnn_shape_count(l->in) * cout; break;
    }
    *n_bias = l->use_bias ? cout : 0;
    *n_bn = l->batch_norm ? cout : 0;
}



static const char *op_name(qsnn_op op)
{
    switch (op) {
    case QSNN_OP_CONV2D: return "conv2d";
    case QSNN_OP_DEPTHWISE: return "depthwise";
    case QSNN_OP_SEPARABLE: return "separable";
    case QSNN_OP_DENSE: return "dense";
    }
    return "?";
}

static int str_terminated(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

#define LFAIL(st, ...) layer_fail(st, origin, i, l->name, __VA_ARGS__)

static qsnn_status layer_fail(qsnn_status st, const char *origin, int i, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static qsnn_status layer_fail(qsnn_status st, const char *origin, int i, const char *name, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return qsnn_fail(st, "%s: layer %d '%s': %s", origin, i, name, msg);
}

static int in_range(int v, int lo, int hi) { return v >= lo && v <= hi; }

static qsnn_status arch_validate_origin(qsnn_arch *a, const char *origin)
{
    if (!str_terminated(a->name, sizeof a->name))
        return qsnn_fail(QSNN_ERR_ARG, "%s: name is not NUL-terminated", origin);
    if (!in_range(a->input.h, 1, ARCH_DIM_MAX) || !in_range(a->input.w, 1, ARCH_DIM_MAX) ||
        !in_range(a->input.c, 1, ARCH_DIM_MAX))
        return qsnn_fail(QSNN_ERR_RANGE, "%s: input [%d, %d, %d] out of range (each 1..%d)", origin, a->input.h,
                         a->input.w, a->input.c, ARCH_DIM_MAX);
    if (!in_range(a->num_classes, 2, QSNN_MAX_LABELS))
        return qsnn_fail(QSNN_ERR_RANGE, "%s: classes %d out of range 2..%d", origin, a->num_classes,
                         QSNN_MAX_LABELS);
    if (!in_range(a->num_layers, 1, QSNN_MAX_LAYERS))
        return qsnn_fail(QSNN_ERR_RANGE, "%s: %d layers, expected 1..%d", origin, a->num_layers, QSNN_MAX_LAYERS);
    qsnn_shape s = a->input;
    size_t total = 0;
    for (int i = 0; i < a->num_layers; i++) {
        qsnn_layer_desc *l = &a->layers[i];
        if (!str_terminated(l->name, sizeof l->name))
            return qsnn_fail(QSNN_ERR_ARG, "%s: layer %d: name is not NUL-terminated", origin, i);
        if (l->name[0] == '\0')
            return qsnn_fail(QSNN_ERR_ARG, "%s: layer %d: empty name", origin, i);
        for (int j = 0; j < i; j++)
            if (strcmp(a->layers[j].name, l->name) == 0)
                return LFAIL(QSNN_ERR_ARG, "name duplicates layer %d", j);
        if ((unsigned)l->op > (unsigned)QSNN_OP_DENSE)
            return LFAIL(QSNN_ERR_ARG, "op %d unknown", (int)l->op);
        if (l->op == QSNN_OP_DENSE) {
            /* a dense layer sees the flattened input; kernel and stride do not apply */
            l->kh = l->kw = 1;
            l->stride_h = l->stride_w = 1;
        } else {
            if (!in_range(l->kh, 1, ARCH_KERNEL_MAX))
                return LFAIL(QSNN_ERR_RANGE, "kernel %d out of range 1..%d", l->kh, ARCH_KERNEL_MAX);
            if (!in_range(l->kw, 1, ARCH_KERNEL_MAX))
                return LFAIL(QSNN_ERR_RANGE, "kernel %d out of range 1..%d", l->kw, ARCH_KERNEL_MAX);
            if (!in_range(l->stride_h, 1, ARCH_STRIDE_MAX) || !in_range(l->stride_w, 1, ARCH_STRIDE_MAX))
                return LFAIL(QSNN_ERR_RANGE, "stride [%d, %d] out of range 1..%d", l->stride_h, l->stride_w,
                             ARCH_STRIDE_MAX);
        }
        if (l->op == QSNN_OP_DEPTHWISE)
            l->filters = s.c;
        else if (!in_range(l->filters, 1, ARCH_FILTERS_MAX))
            return LFAIL(QSNN_ERR_RANGE, "filters %d out of range 1..%d", l->filters, ARCH_FILTERS_MAX);
        if (l->padding_same != 0 && l->padding_same != 1)
            return LFAIL(QSNN_ERR_RANGE, "padding_same %d is not 0 or 1", l->padding_same);
        if (l->use_bias != 0 && l->use_bias != 1)
            return LFAIL(QSNN_ERR_RANGE, "use_bias %d is not 0 or 1", l->use_bias);
        if (l->batch_norm != 0 && l->batch_norm != 1)
            return LFAIL(QSNN_ERR_RANGE, "batch_norm %d is not 0 or 1", l->batch_norm);
        if (l->activation != 0 && l->activation != 1)
            return LFAIL(QSNN_ERR_RANGE, "activation %d is not 0 or 1", l->activation);
        if (l->weight_bits != 0 && !in_range(l->weight_bits, 2, 8))
            return LFAIL(QSNN_ERR_RANGE, "weight_bits %d out of range (0 = float, or 2..8)", l->weight_bits);
        if (!in_range(l->act_bits, 1, 8))
            return LFAIL(QSNN_ERR_RANGE, "act_bits %d out of range 1..8", l->act_bits);
        if (l->pool != QSNN_POOL_NONE && l->pool != QSNN_POOL_GLOBAL_AVG)
            return LFAIL(QSNN_ERR_UNSUPPORTED, "pool %d unsupported (only global_avg)", (int)l->pool);
        if (l->op == QSNN_OP_DENSE && l->pool != QSNN_POOL_NONE)
            return LFAIL(QSNN_ERR_UNSUPPORTED, "pool on a dense layer (its output is already 1x1)");

        l->in = s;
        qsnn_shape o;
        if (l->op == QSNN_OP_DENSE) {
            o = (qsnn_shape){1, 1, l->filters};
        } else {
            o.h = qsnn_conv_out_size(s.h, l->kh, l->stride_h, l->padding_same, NULL);
            o.w = qsnn_conv_out_size(s.w, l->kw, l->stride_w, l->padding_same, NULL);
            o.c = l->filters;
            if (o.h <= 0 || o.w <= 0)
                return LFAIL(QSNN_ERR_SHAPE, "kernel %dx%d does not fit the %dx%d input with valid padding", l->kh,
                             l->kw, s.h, s.w);
        }
        if (l->pool == QSNN_POOL_GLOBAL_AVG)
            o.h = o.w = 1;
        qsnn_status xs = qsnn_arch_ext_validate(l, &o, origin, i);
        if (xs != QSNN_OK)
            return xs;
        l->out = o;
        s = o;

        /* the parameter count must stay sane (sizes are bounded above, so these products cannot overflow) */
        size_t n_w, n_dw, n_bias, n_bn;
        qsnn_arch_layer_sizes(l, &n_w, &n_dw, &n_bias, &n_bn);
        total += n_w + n_dw + n_bias + 4 * n_bn;
        if (total > ARCH_PARAMS_MAX)
            return LFAIL(QSNN_ERR_RANGE, "the model exceeds %u parameters", ARCH_PARAMS_MAX);
    }
    const qsnn_layer_desc *last = &a->layers[a->num_layers - 1];
    if (last->out.h != 1 || last->out.w != 1 || last->out.c != a->num_classes)
        return qsnn_fail(QSNN_ERR_SHAPE,
                         "%s: layer %d '%s': output %dx%dx%d, the last layer must give 1x1x%d (classes); add "
                         "\"pool\": \"global_avg\" or a dense layer",
                         origin, a->num_layers - 1, last->name, last->out.h, last->out.w, last->out.c,
                         a->num_classes);
    return qsnn_arch_ext_features_validate(a, origin);
}

qsnn_status qsnn_arch_validate(qsnn_arch *a)
{
    if (!a)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_arch_validate: NULL architecture");
    char origin[80];
    if (str_terminated(a->name, sizeof a->name))
        snprintf(origin, sizeof origin, "architecture '%.60s'", a->name);
    else
        snprintf(origin, sizeof origin, "architecture");
    return arch_validate_origin(a, origin);
}

/* ---------------------------------------------------------------- parameter count */

size_t qsnn_arch_param_count(const qsnn_arch *a, size_t *trainable)
{
    size_t total = 0, train = 0;
    for (int i = 0; a && i < a->num_layers && i < QSNN_MAX_LAYERS; i++) {
        size_t n_w, n_dw, n_bias, n_bn;
        qsnn_arch_layer_sizes(&a->layers[i], &n_w, &n_dw, &n_bias, &n_bn);
        total += n_w + n_dw + n_bias + 4 * n_bn;
        train += n_w + n_dw + n_bias + 2 * n_bn;
    }
    if (trainable)
        *trainable = train;
    return total;
}

/* ---------------------------------------------------------------- JSON parsing */

static qsnn_status get_int(const cJSON *item, int *out, const char *origin, const char *where, const char *field)
{
    if (!cJSON_IsNumber(item))
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s%s must be an integer", origin, where, field);
    double v = item->valuedouble;
    if (!(v >= -1e6 && v <= 1e6) || v != floor(v))
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s%s must be an integer, got %g", origin, where, field, v);
    *out = (int)v;
    return QSNN_OK;
}

/* "kernel": 5 or [10, 4] (same for "stride") */
static qsnn_status get_pair(const cJSON *item, int *a, int *b, const char *origin, const char *where,
                            const char *field)
{
    if (cJSON_IsNumber(item)) {
        qsnn_status st = get_int(item, a, origin, where, field);
        *b = *a;
        return st;
    }
    if (cJSON_IsArray(item) && cJSON_GetArraySize(item) == 2) {
        qsnn_status st = get_int(cJSON_GetArrayItem(item, 0), a, origin, where, field);
        if (st == QSNN_OK)
            st = get_int(cJSON_GetArrayItem(item, 1), b, origin, where, field);
        return st;
    }
    return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s%s must be an integer or [h, w]", origin, where, field);
}

static qsnn_status get_bool(const cJSON *item, int *out, const char *origin, const char *where, const char *field)
{
    if (!cJSON_IsBool(item))
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s%s must be true or false", origin, where, field);
    *out = cJSON_IsTrue(item) ? 1 : 0;
    return QSNN_OK;
}

static qsnn_status get_name(const cJSON *item, char *dst, size_t cap, const char *origin, const char *where,
                            const char *field)
{
    if (!cJSON_IsString(item) || !item->valuestring)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s%s must be a string", origin, where, field);
    size_t n = strlen(item->valuestring);
    if (n == 0 || n >= cap)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s%s must have 1..%zu characters", origin, where, field, cap - 1);
    for (size_t k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)item->valuestring[k];
        if (ch < 0x21 || ch > 0x7e || ch == '"' || ch == '\\')
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s%s '%s': only printable ASCII without spaces or quotes",
                             origin, where, field, item->valuestring);
    }
    memcpy(dst, item->valuestring, n + 1);
    return QSNN_OK;
}

static qsnn_status parse_layer(qsnn_layer_desc *l, const cJSON *obj, int i, const char *origin)
{
    char where[64];
    layer_defaults(l);
    snprintf(where, sizeof where, "layer %d: ", i);
    if (!cJSON_IsObject(obj))
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: layer %d must be an object", origin, i);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "name");
    if (!name)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: layer %d: missing field 'name'", origin, i);
    qsnn_status st = get_name(name, l->name, sizeof l->name, origin, where, "name");
    if (st)
        return st;
    snprintf(where, sizeof where, "layer %d '%s': ", i, l->name);
    int have_op = 0, have_kernel = 0, have_filters = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        const char *k = it->string ? it->string : "";
        int handled = 0;
        st = qsnn_arch_ext_field(l, it, origin, where, &handled);
        if (st || handled) {
            if (st)
                return st;
            continue;
        }
        if (strcmp(k, "name") == 0) {
            continue;
        } else if (strcmp(k, "op") == 0) {
            if (!cJSON_IsString(it))
                return qsnn_fail(QSNN_ERR_FORMAT, "%s: %sop must be a string", origin, where);
            const char *v = it->valuestring;
            if (strcmp(v, "conv2d") == 0)
                l->op = QSNN_OP_CONV2D;
            else if (strcmp(v, "depthwise") == 0)
                l->op = QSNN_OP_DEPTHWISE;
            else if (strcmp(v, "separable") == 0)
                l->op = QSNN_OP_SEPARABLE;
            else if (strcmp(v, "dense") == 0)
                l->op = QSNN_OP_DENSE;
            else
                return qsnn_fail(QSNN_ERR_UNSUPPORTED,
                                 "%s: %sunknown op '%.40s' (conv2d, depthwise, separable, dense)", origin, where, v);
            have_op = 1;
        } else if (strcmp(k, "filters") == 0) {
            st = get_int(it, &l->filters, origin, where, "filters");
            have_filters = 1;
        } else if (strcmp(k, "kernel") == 0) {
            st = get_pair(it, &l->kh, &l->kw, origin, where, "kernel");
            have_kernel = 1;
        } else if (strcmp(k, "stride") == 0) {
            st = get_pair(it, &l->stride_h, &l->stride_w, origin, where, "stride");
        } else if (strcmp(k, "padding") == 0) {
            if (cJSON_IsString(it) && strcmp(it->valuestring, "same") == 0)
                l->padding_same = 1;
            else if (cJSON_IsString(it) && strcmp(it->valuestring, "valid") == 0)
                l->padding_same = 0;
            else
                return qsnn_fail(QSNN_ERR_FORMAT, "%s: %spadding must be \"same\" or \"valid\"", origin, where);
        } else if (strcmp(k, "use_bias") == 0) {
            st = get_bool(it, &l->use_bias, origin, where, "use_bias");
        } else if (strcmp(k, "weight_bits") == 0) {
            st = get_int(it, &l->weight_bits, origin, where, "weight_bits");
        } else if (strcmp(k, "pool") == 0) {
            if (cJSON_IsString(it) && strcmp(it->valuestring, "global_avg") == 0)
                l->pool = QSNN_POOL_GLOBAL_AVG;
            else if (cJSON_IsString(it) && strcmp(it->valuestring, "none") == 0)
                l->pool = QSNN_POOL_NONE;
            else
                return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: %spool must be \"global_avg\" or \"none\"", origin,
                                 where);
        } else if (strcmp(k, "batch_norm") == 0) {
            st = get_bool(it, &l->batch_norm, origin, where, "batch_norm");
        } else if (strcmp(k, "activation") == 0) {
            st = get_bool(it, &l->activation, origin, where, "activation");
        } else if (strcmp(k, "act_bits") == 0) {
            st = get_int(it, &l->act_bits, origin, where, "act_bits");
        } else {
            return qsnn_fail(QSNN_ERR_FORMAT,
                             "%s: %sunknown field '%.40s' (name, op, filters, kernel, stride, padding, use_bias, "
                             "weight_bits, pool, batch_norm, activation, act_bits, pool_after, pool_size, pool_stride, "
                             "pool_padding)",
                             origin, where, k);
        }
        if (st)
            return st;
    }
    if (!have_op)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: %smissing field 'op'", origin, where);
    if (!have_kernel && l->op != QSNN_OP_DENSE)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: %smissing field 'kernel'", origin, where);
    if (!have_filters && l->op != QSNN_OP_DEPTHWISE)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: %smissing field 'filters'", origin, where);
    if (have_filters && l->op == QSNN_OP_DEPTHWISE)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: %sfilters does not apply to depthwise (it keeps the channels)",
                         origin, where);
    return QSNN_OK;
}

static qsnn_status parse_arch(qsnn_arch *a, const cJSON *root, const char *origin)
{
    if (!cJSON_IsObject(root))
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: the document must be a JSON object", origin);
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "model");
    int have_input = 0, have_classes = 0, have_layers = 0;
    const cJSON *it;
    qsnn_status st = QSNN_OK;
    cJSON_ArrayForEach(it, root)
    {
        const char *k = it->string ? it->string : "";
        if (strcmp(k, "name") == 0) {
            st = get_name(it, a->name, sizeof a->name, origin, "", "name");
        } else if (strcmp(k, "input") == 0) {
            if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 3)
                return qsnn_fail(QSNN_ERR_FORMAT, "%s: input must be [h, w, c]", origin);
            st = get_int(cJSON_GetArrayItem(it, 0), &a->input.h, origin, "", "input");
            if (!st)
                st = get_int(cJSON_GetArrayItem(it, 1), &a->input.w, origin, "", "input");
            if (!st)
                st = get_int(cJSON_GetArrayItem(it, 2), &a->input.c, origin, "", "input");
            have_input = 1;
        } else if (strcmp(k, "classes") == 0) {
            st = get_int(it, &a->num_classes, origin, "", "classes");
            have_classes = 1;
        } else if (strcmp(k, "layers") == 0) {
            if (!cJSON_IsArray(it))
                return qsnn_fail(QSNN_ERR_FORMAT, "%s: layers must be an array", origin);
            int n = cJSON_GetArraySize(it);
            if (n < 1 || n > QSNN_MAX_LAYERS)
                return qsnn_fail(QSNN_ERR_RANGE, "%s: layers: %d layers, expected 1..%d", origin, n,
                                 QSNN_MAX_LAYERS);
            a->num_layers = n;
            for (int i = 0; i < n && !st; i++)
                st = parse_layer(&a->layers[i], cJSON_GetArrayItem(it, i), i, origin);
            have_layers = 1;
        } else if (strcmp(k, "features") == 0) {
            st = qsnn_frontend_from_json(&a->features, it, origin);
        } else {
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: unknown field '%.40s' (name, input, classes, layers, features)", origin,
                             k);
        }
        if (st)
            return st;
    }
    if (!have_input)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: missing field 'input'", origin);
    if (!have_classes)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: missing field 'classes'", origin);
    if (!have_layers)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: missing field 'layers'", origin);
    return arch_validate_origin(a, origin);
}

qsnn_status qsnn_arch_from_json(qsnn_arch *out, const char *json, const char *origin)
{
    if (!out || !json)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_arch_from_json: NULL argument");
    if (!origin)
        origin = "model description";
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(json, &end, 1);
    if (!root) {
        size_t off = end ? (size_t)(end - json) : 0;
        size_t line = 1;
        for (size_t k = 0; k < off && json[k]; k++)
            line += json[k] == '\n';
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: invalid JSON near line %zu (byte %zu)", origin, line, off);
    }
    qsnn_arch tmp;
    qsnn_status st = parse_arch(&tmp, root, origin);
    cJSON_Delete(root);
    if (st == QSNN_OK)
        *out = tmp;
    return st;
}

/* ---------------------------------------------------------------- JSON writing */

static cJSON *pair_json(int a, int b)
{
    if (a == b)
        return cJSON_CreateNumber(a);
    cJSON *arr = cJSON_CreateArray();
    if (arr) {
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(a));
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(b));
    }
    return arr;
}

qsnn_status qsnn_arch_to_json(const qsnn_arch *a, char **out)
{
    if (!a || !out)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_arch_to_json: NULL argument");
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return qsnn_fail(QSNN_ERR_NOMEM, "qsnn_arch_to_json: out of memory");
    cJSON_AddStringToObject(root, "name", a->name);
    int in[3] = {a->input.h, a->input.w, a->input.c};
    cJSON_AddItemToObject(root, "input", cJSON_CreateIntArray(in, 3));
    cJSON_AddNumberToObject(root, "classes", a->num_classes);
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    for (int i = 0; layers && i < a->num_layers && i < QSNN_MAX_LAYERS; i++) {
        const qsnn_layer_desc *l = &a->layers[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddItemToArray(layers, o);
        cJSON_AddStringToObject(o, "name", l->name);
        cJSON_AddStringToObject(o, "op", op_name(l->op));
        if (l->op != QSNN_OP_DEPTHWISE)
            cJSON_AddNumberToObject(o, "filters", l->filters);
        if (l->op != QSNN_OP_DENSE) {
            cJSON_AddItemToObject(o, "kernel", pair_json(l->kh, l->kw));
            cJSON_AddItemToObject(o, "stride", pair_json(l->stride_h, l->stride_w));
            cJSON_AddStringToObject(o, "padding", l->padding_same ? "same" : "valid");
        }
        cJSON_AddBoolToObject(o, "use_bias", l->use_bias);
        cJSON_AddNumberToObject(o, "weight_bits", l->weight_bits);
        cJSON_AddStringToObject(o, "pool", l->pool == QSNN_POOL_GLOBAL_AVG ? "global_avg" : "none");
        cJSON_AddBoolToObject(o, "batch_norm", l->batch_norm);
        cJSON_AddBoolToObject(o, "activation", l->activation);
        cJSON_AddNumberToObject(o, "act_bits", l->act_bits);
        qsnn_arch_ext_to_json(l, o);
    }
    if (qsnn_arch_ext_features_to_json(a, root) != QSNN_OK) {
        cJSON_Delete(root);
        return QSNN_ERR_NOMEM;
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s)
        return qsnn_fail(QSNN_ERR_NOMEM, "qsnn_arch_to_json: out of memory");
    /* cJSON's buffer comes from its allocator (malloc by default); copy so the caller can free() it safely */
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    if (!copy) {
        cJSON_free(s);
        return qsnn_fail(QSNN_ERR_NOMEM, "qsnn_arch_to_json: out of memory");
    }
    memcpy(copy, s, n + 1);
    cJSON_free(s);
    *out = copy;
    return QSNN_OK;
}

qsnn_status qsnn_arch_load(qsnn_arch *out, const char *name_or_path)
{
    if (!out || !name_or_path)
        return qsnn_fail(QSNN_ERR_ARG, "qsnn_arch_load: NULL argument");
    size_t n = strlen(name_or_path);
    int is_file = strchr(name_or_path, '/') != NULL || (n >= 5 && strcmp(name_or_path + n - 5, ".json") == 0);
    if (!is_file)
        return qsnn_arch_builtin(out, name_or_path);
    char *txt = NULL;
    qsnn_status st = qsnn_read_text_file(name_or_path, 1 << 20, &txt, NULL);
    if (st == QSNN_OK)
        st = qsnn_arch_from_json(out, txt, name_or_path);
    free(txt);
    return st;
}
