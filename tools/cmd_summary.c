/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_summary.c: `qsnn summary MODEL`: the layer table of a model, chosen by the file's magic: a float/quantized
 * model (QSNNMODL) prints Keras' model.summary(), an integer .snn model (QSNN_SNN) Akida's model.summary() with
 * the HW column, the reasons of every "no" and the model size; --json gives the same facts as one object. */
#include "cli.h"

#include "qsnn/convert.h"
#include "qsnn/frontend.h"
#include "qsnn/io.h"
#include "qsnn/model.h"
#include "qsnn/report.h"
#include "qsnn/snn_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_help(void)
{
    printf("Usage: qsnn summary MODEL [options]\n"
           "\n"
           "Print the layer table of MODEL:\n"
           "  a .qsnn model (float or quantized, from `qsnn train`): the Keras summary of the tutorial's section 3;\n"
           "  a .snn model (from `qsnn convert`): the Akida summary of section 5.1 (Layer (type), HW, Input shape,\n"
           "    Output shape, Kernel shape, Learning (#classes), #InConn/#Weights/ThFire; shapes in Akida's [W, H, C]),\n"
           "    then the reason of every HW \"no\" (Akida NSoC v1 rules) and the model size in bytes.\n"
           "Both end with the qsnn version that wrote the file (not recorded before 0.2.0).\n"
           "The kind of file is recognised by its first bytes, not its name.\n"
           "\n"
           "Options:\n"
           "      --json       print JSON instead: the kind (\"model\" or \"snn\"), written_by (or null), labels, input,\n"
           "                   and per layer its name, type and shapes ([H, W, C]), with parameters (.qsnn) or\n"
           "                   bits, HW verdict and reasons (.snn)\n"
           "  -q, --quiet      no notes on stderr\n"
           "  -h, --help       this help\n"
           "\n"
           "Exit status: 0 ok, 1 the file is unreadable, corrupt or of another kind, 2 usage error.\n");
}

/* "qsnn 0.2.0" from a "written by" field (QSNN_VERSION_U32 layout); 0: written before 0.2.0 recorded it. */
static void writer_string(char *buf, size_t cap, uint32_t v)
{
    if (v)
        snprintf(buf, cap, "qsnn %u.%u.%u", (unsigned)(v >> 16), (unsigned)((v >> 8) & 0xFF), (unsigned)(v & 0xFF));
    else
        snprintf(buf, cap, "not recorded (before qsnn 0.2.0)");
}

static void add_writer(cJSON *root, uint32_t v)
{
    char buf[64];
    writer_string(buf, sizeof buf, v);
    cli_json_string_or_null(root, "written_by", v ? buf : NULL);
}

static cJSON *shape3(int h, int w, int c)
{
    const int v[3] = {h, w, c};
    return cJSON_CreateIntArray(v, 3);
}

static cJSON *model_json(const char *path, const qsnn_model *m)
{
    static const char *const ops[] = {"conv2d", "depthwise", "separable", "dense"};
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "file", path);
    cJSON_AddStringToObject(root, "kind", "model");
    add_writer(root, m->writer_version);
    cJSON_AddStringToObject(root, "name", m->arch.name);
    cJSON_AddNumberToObject(root, "episode", m->episode);
    cJSON_AddBoolToObject(root, "quantized_activations", m->quant_acts);
    cJSON_AddBoolToObject(root, "quantized_weights", m->quant_weights);
    size_t trainable, total = qsnn_arch_param_count(&m->arch, &trainable);
    cJSON_AddNumberToObject(root, "parameters", (double)total);
    cJSON_AddNumberToObject(root, "trainable_parameters", (double)trainable);
    cJSON_AddItemToObject(root, "input", shape3(m->arch.input.h, m->arch.input.w, m->arch.input.c));
    cJSON *fe = cJSON_AddObjectToObject(root, "features");
    if (fe)
        qsnn_frontend_to_json(&m->arch.features, fe);
    cJSON *labels = cJSON_AddArrayToObject(root, "labels");
    for (int i = 0; i < m->num_labels; i++)
        cJSON_AddItemToArray(labels, cJSON_CreateString(m->labels[i]));
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    for (int i = 0; i < m->arch.num_layers; i++) {
        const qsnn_layer_desc *l = &m->arch.layers[i];
        const qsnn_layer_params *p = &m->lp[i];
        cJSON *jl = cJSON_CreateObject();
        cJSON_AddStringToObject(jl, "name", l->name);
        cJSON_AddStringToObject(jl, "type", (unsigned)l->op < 4 ? ops[l->op] : "unknown");
        cJSON_AddItemToObject(jl, "input", shape3(l->in.h, l->in.w, l->in.c));
        cJSON_AddItemToObject(jl, "output", shape3(l->out.h, l->out.w, l->out.c));
        cJSON_AddNumberToObject(jl, "parameters", (double)(p->n_w + p->n_dw + p->n_bias + 4 * p->n_bn));
        cJSON_AddItemToArray(layers, jl);
    }
    return root;
}

static cJSON *snn_json(const char *path, const qsnn_snn_model *m)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "file", path);
    cJSON_AddStringToObject(root, "kind", "snn");
    qsnn_snn_meta meta;
    qsnn_snn_meta_get(m, &meta);
    add_writer(root, meta.writer_version);
    cJSON_AddNumberToObject(root, "bytes", (double)m->size);
    cJSON_AddNumberToObject(root, "workspace_bytes", (double)qsnn_snn_mem_size(m));
    cJSON_AddItemToObject(root, "input", shape3(m->in_h, m->in_w, m->in_c));
    cJSON *labels = cJSON_AddArrayToObject(root, "labels");
    for (int i = 0; i < m->num_classes; i++)
        cJSON_AddItemToArray(labels, cJSON_CreateString(m->labels[i]));
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    int all_hw = 1;
    for (int i = 0; i < m->num_layers; i++) {
        const qsnn_snn_layer *l = &m->layers[i];
        cJSON *jl = cJSON_CreateObject();
        char why[1024];
        int bad = qsnn_convert_hw_check(m, i, why, sizeof why);
        all_hw &= !bad;
        cJSON_AddStringToObject(jl, "name", l->name);
        cJSON_AddStringToObject(jl, "type", qsnn_snn_type_name(l->type));
        cJSON_AddItemToObject(jl, "input", shape3(l->in_h, l->in_w, l->in_c));
        cJSON_AddItemToObject(jl, "output", shape3(l->out_h, l->out_w, l->out_c));
        const int k[2] = {l->kh, l->kw};
        cJSON_AddItemToObject(jl, "kernel", cJSON_CreateIntArray(k, 2));
        cJSON_AddNumberToObject(jl, "weight_bits", l->weight_bits);
        cJSON_AddNumberToObject(jl, "input_bits", l->in_bits);
        cli_json_number_or_null(jl, "activation_bits", l->act_bits, l->act_bits > 0);
        cJSON_AddBoolToObject(jl, "hw", !bad);
        cli_json_string_or_null(jl, "hw_reasons", bad ? why : NULL);
        cJSON_AddItemToArray(layers, jl);
    }
    cJSON_AddBoolToObject(root, "hw_compatible", all_hw);
    return root;
}

int cmd_summary(int argc, char **argv)
{
    cli_args a = {.cmd = "summary", .help = print_help};
    int c;
    while ((c = cli_getopt(&a, argc, argv, NULL)) != -1)
        if (c == CLI_STOP)
            return a.rc;
    if (optind + 1 != argc)
        return cli_usage_error("summary", "expected one MODEL file");
    const char *path = argv[optind];
    qsnn_file_kind kind = qsnn_file_kind_of(path);
    if (kind == QSNN_FILE_UNREADABLE)
        return cli_fail("summary", QSNN_ERR_IO);
    if (kind == QSNN_FILE_MODEL) {
        qsnn_model m;
        qsnn_status st = qsnn_model_load(&m, path);
        if (st != QSNN_OK)
            return cli_fail("summary", st);
        if (a.json) {
            int rc = cli_json_print("summary", model_json(path, &m));
            qsnn_model_free(&m);
            return rc;
        }
        qsnn_model_print_summary(stdout, &m);
        const qsnn_frontend_params *f = &m.arch.features;
        printf("Features: %s, %d x %d (window %d, stride %d, %d bands %g-%g Hz), input %s\n",
               qsnn_frontend_name(f->kind), qsnn_frontend_num_frames(f), f->num_coeffs, f->window, f->stride,
               f->num_bands, f->lower_hz, f->upper_hz,
               f->input == QSNN_INPUT_FLOAT ? "float (the features as they are)" : "uint8 (the tutorial's scaling)");
        printf("Labels: %s", m.labels[0]);
        for (int i = 1; i < m.num_labels; i++)
            printf(",%s", m.labels[i]);
        char wb[64];
        writer_string(wb, sizeof wb, m.writer_version);
        printf("\nWritten by: %s\n", wb);
        qsnn_model_free(&m);
        return QSNN_EXIT_OK;
    }
    if (kind == QSNN_FILE_SNN) {
        qsnn_snn_model m;
        unsigned char *img;
        qsnn_status st = qsnn_snn_load(path, &m, &img);
        if (st != QSNN_OK)
            return cli_fail("summary", st);
        int rc = QSNN_EXIT_OK;
        if (a.json)
            rc = cli_json_print("summary", snn_json(path, &m));
        else {
            qsnn_report_snn_summary(stdout, &m);
            qsnn_snn_meta meta;
            qsnn_snn_meta_get(&m, &meta);
            char wb[64];
            writer_string(wb, sizeof wb, meta.writer_version);
            printf("Converted by: %s\n", wb);
        }
        free(img);
        return rc;
    }
    cli_fail("summary", qsnn_fail(QSNN_ERR_FORMAT, "%s: not a qsnn model (neither a .qsnn model nor a .snn model)",
                                  path));
    return QSNN_EXIT_FAIL;
}
