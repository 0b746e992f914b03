/* SPDX-License-Identifier: Apache-2.0 */
/* arch_ext.c: the parts of the architecture language that imported models need (docs/model.md): an unbounded
 * ReLU ("activation": "relu"), a pooling layer after the activation ("pool_after": "avg" / "max" with
 * "pool_size", "pool_stride", "pool_padding"), and the model's front end ("features", qsnn/frontend.h).
 * arch.c calls these from its parser, validator and writer; the messages follow arch.c's form
 * "<origin>: layer <i> '<name>': <field> <problem>". */
#include "model/arch_ext_internal.h"

#include <string.h>

#define POOL_MAX 4096

static qsnn_status pair(const cJSON *it, int *a, int *b, const char *origin, const char *where, const char *f)
{
    const cJSON *x = it, *y = it;
    if (cJSON_IsArray(it)) {
        if (cJSON_GetArraySize(it) != 2)
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s%s must be an integer or [h, w]", origin, where, f);
        x = cJSON_GetArrayItem(it, 0);
        y = cJSON_GetArrayItem(it, 1);
    }
    if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y) || x->valuedouble != (int)x->valuedouble ||
        y->valuedouble != (int)y->valuedouble)
        return qsnn_fail(QSNN_ERR_FORMAT, "%s: %s%s must be an integer or [h, w]", origin, where, f);
    *a = (int)x->valuedouble;
    *b = (int)y->valuedouble;
    return QSNN_OK;
}

qsnn_status qsnn_arch_ext_field(qsnn_layer_desc *l, const cJSON *it, const char *origin, const char *where,
                                int *handled)
{
    const char *k = it->string ? it->string : "";
    *handled = 1;
    if (!strcmp(k, "activation") && cJSON_IsString(it)) {
        const char *v = it->valuestring;
        l->activation = strcmp(v, "none") != 0;
        l->act_relu = !strcmp(v, "relu");
        if (strcmp(v, "none") && strcmp(v, "relu") && strcmp(v, "relu6"))
            return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: %sactivation '%.40s' (true, false, \"relu6\", \"relu\", "
                             "\"none\")", origin, where, v);
        return QSNN_OK;
    }
    if (!strcmp(k, "pool_after")) {
        const char *v = cJSON_IsString(it) ? it->valuestring : "";
        if (!strcmp(v, "avg"))
            l->pool_after = QSNN_POOL_AVG;
        else if (!strcmp(v, "max"))
            l->pool_after = QSNN_POOL_MAX;
        else if (!strcmp(v, "none"))
            l->pool_after = QSNN_POOL_NONE;
        else
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: %spool_after must be \"avg\", \"max\" or \"none\"", origin, where);
        return QSNN_OK;
    }
    if (!strcmp(k, "pool_size")) {
        qsnn_status st = pair(it, &l->pool_kh, &l->pool_kw, origin, where, "pool_size");
        if (st == QSNN_OK && l->pool_sh == 0 && l->pool_sw == 0) { /* stride defaults to the size */
            l->pool_sh = -l->pool_kh;
            l->pool_sw = -l->pool_kw;
        }
        return st;
    }
    if (!strcmp(k, "pool_stride"))
        return pair(it, &l->pool_sh, &l->pool_sw, origin, where, "pool_stride");
    if (!strcmp(k, "pool_padding")) {
        if (cJSON_IsString(it) && !strcmp(it->valuestring, "same"))
            l->pool_same = 1;
        else if (cJSON_IsString(it) && !strcmp(it->valuestring, "valid"))
            l->pool_same = 0;
        else
            return qsnn_fail(QSNN_ERR_FORMAT, "%s: %spool_padding must be \"same\" or \"valid\"", origin, where);
        return QSNN_OK;
    }
    *handled = 0;
    return QSNN_OK;
}

static int in_range(int v, int lo, int hi) { return v >= lo && v <= hi; }

qsnn_status qsnn_arch_ext_validate(qsnn_layer_desc *l, qsnn_shape *o, const char *origin, int i)
{
    /* a stride still marked "default" (negative: set with pool_size) becomes the size */
    if (l->pool_sh < 0 && l->pool_sw < 0) {
        l->pool_sh = -l->pool_sh;
        l->pool_sw = -l->pool_sw;
    }
    if (l->act_relu != 0 && l->act_relu != 1)
        return qsnn_fail(QSNN_ERR_RANGE, "%s: layer %d '%s': act_relu %d is not 0 or 1", origin, i, l->name,
                         l->act_relu);
    if (l->act_relu && !l->activation)
        return qsnn_fail(QSNN_ERR_ARG, "%s: layer %d '%s': act_relu without activation", origin, i, l->name);
    l->act = *o;
    if (l->pool_after == QSNN_POOL_NONE) {
        if (l->pool_kh || l->pool_kw || l->pool_same)
            return qsnn_fail(QSNN_ERR_ARG, "%s: layer %d '%s': pool_size or pool_padding without pool_after",
                             origin, i, l->name);
        l->pool_sh = l->pool_sw = 0;
        return QSNN_OK;
    }
    if (l->pool_after != QSNN_POOL_AVG && l->pool_after != QSNN_POOL_MAX)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: layer %d '%s': pool_after %d (avg or max)", origin, i, l->name,
                         (int)l->pool_after);
    if (l->op == QSNN_OP_DENSE || l->pool != QSNN_POOL_NONE)
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "%s: layer %d '%s': pool_after on a dense or already pooled layer",
                         origin, i, l->name);
    if (!in_range(l->pool_kh, 1, POOL_MAX) || !in_range(l->pool_kw, 1, POOL_MAX))
        return qsnn_fail(QSNN_ERR_RANGE, "%s: layer %d '%s': pool_size [%d, %d] out of range 1..%d", origin, i,
                         l->name, l->pool_kh, l->pool_kw, POOL_MAX);
    if (!in_range(l->pool_sh, 1, POOL_MAX) || !in_range(l->pool_sw, 1, POOL_MAX))
        return qsnn_fail(QSNN_ERR_RANGE, "%s: layer %d '%s': pool_stride [%d, %d] out of range 1..%d", origin, i,
                         l->name, l->pool_sh, l->pool_sw, POOL_MAX);
    if (l->pool_same != 0 && l->pool_same != 1)
        return qsnn_fail(QSNN_ERR_RANGE, "%s: layer %d '%s': pool_same %d is not 0 or 1", origin, i, l->name,
                         l->pool_same);
    int oh = qsnn_conv_out_size(o->h, l->pool_kh, l->pool_sh, l->pool_same, NULL);
    int ow = qsnn_conv_out_size(o->w, l->pool_kw, l->pool_sw, l->pool_same, NULL);
    if (oh <= 0 || ow <= 0)
        return qsnn_fail(QSNN_ERR_SHAPE, "%s: layer %d '%s': pool_size %dx%d does not fit the %dx%d map", origin, i,
                         l->name, l->pool_kh, l->pool_kw, o->h, o->w);
    o->h = oh;
    o->w = ow;
    return QSNN_OK;
}

static cJSON *pair_json(int a, int b)
{
    if (a == b)
        return cJSON_CreateNumber(a);
    int v[2] = {a, b};
    return cJSON_CreateIntArray(v, 2);
}

void qsnn_arch_ext_to_json(const qsnn_layer_desc *l, cJSON *o)
{
    if (l->act_relu)
        cJSON_ReplaceItemInObjectCaseSensitive(o, "activation", cJSON_CreateString("relu"));
    if (l->pool_after == QSNN_POOL_NONE)
        return;
    cJSON_AddStringToObject(o, "pool_after", l->pool_after == QSNN_POOL_MAX ? "max" : "avg");
    cJSON_AddItemToObject(o, "pool_size", pair_json(l->pool_kh, l->pool_kw));
    cJSON_AddItemToObject(o, "pool_stride", pair_json(l->pool_sh, l->pool_sw));
    cJSON_AddStringToObject(o, "pool_padding", l->pool_same ? "same" : "valid");
}

qsnn_status qsnn_arch_ext_features_validate(qsnn_arch *a, const char *origin)
{
    if (a->features.sample_rate == 0)
        qsnn_frontend_defaults(&a->features, QSNN_FRONTEND_TF_AUDIO_OPS);
    qsnn_status st = qsnn_frontend_validate(&a->features);
    if (st != QSNN_OK)
        return qsnn_fail_context(st, "%s", origin);
    /* models with the default features may have any input (tests use small ones); a chosen front end must fit */
    qsnn_frontend_params def;
    qsnn_frontend_defaults(&def, QSNN_FRONTEND_TF_AUDIO_OPS);
    if (qsnn_frontend_same(&a->features, &def))
        return QSNN_OK;
    int frames = qsnn_frontend_num_frames(&a->features);
    if (a->input.h != frames || a->input.w != a->features.num_coeffs || a->input.c != 1)
        return qsnn_fail(QSNN_ERR_SHAPE, "%s: input [%d, %d, %d] does not match the features: %s gives %d x %d",
                         origin, a->input.h, a->input.w, a->input.c, qsnn_frontend_name(a->features.kind), frames,
                         a->features.num_coeffs);
    return QSNN_OK;
}

qsnn_status qsnn_arch_ext_features_to_json(const qsnn_arch *a, cJSON *root)
{
    qsnn_frontend_params def;
    qsnn_frontend_defaults(&def, QSNN_FRONTEND_TF_AUDIO_OPS);
    if (a->features.sample_rate == 0 || (qsnn_frontend_same(&a->features, &def) && a->features.input == def.input))
        return QSNN_OK; /* the default is not written: files of models trained before keep their bytes */
    cJSON *o = cJSON_AddObjectToObject(root, "features");
    return o ? qsnn_frontend_to_json(&a->features, o) : qsnn_fail(QSNN_ERR_NOMEM, "arch: out of memory");
}

qsnn_status qsnn_arch_trainable(const qsnn_arch *a)
{
    for (int i = 0; i < a->num_layers && i < QSNN_MAX_LAYERS; i++)
        if (a->layers[i].act_relu || a->layers[i].pool_after != QSNN_POOL_NONE)
            return qsnn_fail(QSNN_ERR_UNSUPPORTED, "model '%s': layer %d '%s': %s is float inference only (training "
                             "and conversion have ReLU6, the quantized ReLU and global_avg pooling)", a->name, i,
                             a->layers[i].name, a->layers[i].act_relu ? "activation \"relu\"" : "pool_after");
    qsnn_frontend_params def;
    qsnn_frontend_defaults(&def, QSNN_FRONTEND_TF_AUDIO_OPS);
    if (a->features.sample_rate && (!qsnn_frontend_same(&a->features, &def) || a->features.input != QSNN_INPUT_U8))
        return qsnn_fail(QSNN_ERR_UNSUPPORTED, "model '%s': the trainer computes tf-audio-ops MFCC scaled to uint8; "
                         "this model expects %s features (%s input)", a->name, qsnn_frontend_name(a->features.kind),
                         a->features.input == QSNN_INPUT_FLOAT ? "float" : "u8");
    return QSNN_OK;
}
