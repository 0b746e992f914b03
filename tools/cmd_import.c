/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_import.c: `qsnn import MODEL.tflite -o MODEL.qsnn`: a TensorFlow Lite model as a qsnn float model, with its
 * label order (--labels) and the front end it was trained on (--frontend; TFLite files do not record it). */
#include "cli.h"

#include "qsnn/frontend.h"
#include "qsnn/import.h"
#include "qsnn/model.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static void print_help(void)
{
    printf("Usage: qsnn import MODEL.tflite -o MODEL.qsnn [options]\n"
           "\n"
           "Read a TensorFlow Lite flatbuffer and write a qsnn float model: its architecture (qsnn JSON), weights\n"
           "(int8 dynamic-range weights are dequantized), label names and front end. Supported: a chain of CONV_2D,\n"
           "DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, MAX_POOL_2D, FULLY_CONNECTED, RESHAPE, SOFTMAX (last), ADD of a\n"
           "bias, RELU, RELU6; fused NONE/RELU/RELU6; SAME/VALID padding; float32 input. Anything else is refused\n"
           "naming the operator and its index. `qsnn eval` then computes the model's own features.\n"
           "\n"
           "Options:\n"
           "  -o, --output FILE    the .qsnn model to write (atomically)\n"
           "  --frontend NAME      the features the model was trained on: tf-audio-ops (default: TensorFlow's\n"
           "                       AudioSpectrogram + Mfcc) or tf-signal (tf.signal as in MLPerf Tiny, with the\n"
           "                       signed-peak normalisation); see docs/frontends.md\n"
           "  --features JSON      the front end with its parameters, as the model file's \"features\" object, e.g.\n"
           "                       '{\"frontend\": \"tf-signal\", \"window\": 400, \"stride\": 160}' (docs/frontends.md)\n"
           "  --labels A,B,...     class names in the model's output order (default: the tutorial's 12 for a\n"
           "                       12-class model, else class_<i>); `qsnn eval` maps them onto a dataset's names\n"
           "  --name NAME          model name (default: imported)\n"
           "  --json               print what was imported as JSON (output, layers, parameters, labels, input,\n"
           "                       features) instead of the summary line\n"
           "  -q, --quiet          no summary line, no notes on stderr\n"
           "  -h, --help           this help\n"
           "\n"
           "Example (the MLPerf Tiny reference KWS model):\n"
           "  qsnn import models/teachers/mlperf_tiny_kws/kws_ref_model_float32.tflite --frontend tf-signal \\\n"
           "      --labels down,go,left,no,off,on,right,stop,up,yes,_silence_,_unknown_ -o teacher.qsnn\n"
           "\n"
           "Exit status: 0 ok, 1 the model could not be read or is not supported (the message says why), 2 usage.\n");
}

int cmd_import(int argc, char **argv)
{
    enum { O_FE = 256, O_LABELS, O_NAME, O_FEATURES };
    static const struct option opts[] = {{"frontend", required_argument, 0, O_FE},
                                         {"labels", required_argument, 0, O_LABELS},
                                         {"name", required_argument, 0, O_NAME},
                                         {"features", required_argument, 0, O_FEATURES},
                                         {0, 0, 0, 0}};
    cli_args a = {.cmd = "import", .takes = CLI_OUTPUT, .help = print_help};
    int c;
    qsnn_import_opts io = {0};
    qsnn_frontend_params fe;
    while ((c = cli_getopt(&a, argc, argv, opts)) != -1) {
        switch (c) {
        case CLI_STOP: return a.rc;
        case O_FE: {
            qsnn_frontend_kind k;
            if (qsnn_frontend_parse(optarg, &k) != QSNN_OK)
                return cli_usage_error("import", "--frontend: %s", qsnn_last_error());
            qsnn_frontend_defaults(&fe, k);
            io.features = &fe;
            break;
        }
        case O_FEATURES: {
            cJSON *j = cJSON_Parse(optarg);
            qsnn_status fs = j ? qsnn_frontend_from_json(&fe, j, "--features") : QSNN_ERR_FORMAT;
            cJSON_Delete(j);
            if (fs != QSNN_OK)
                return cli_usage_error("import", "%s", j ? qsnn_last_error() : "--features: not a JSON object");
            io.features = &fe;
            break;
        }
        case O_LABELS: io.labels = optarg; break;
        case O_NAME: io.name = optarg; break;
        }
    }
    const char *out = a.output;
    const int quiet = a.quiet;
    if (optind + 1 != argc)
        return cli_usage_error("import", "expected one MODEL.tflite");
    if (!out)
        return cli_usage_error("import", "-o/--output is required");
    if (io.name && (!io.name[0] || strlen(io.name) > 63 || strpbrk(io.name, " \t\"")))
        return cli_usage_error("import", "--name: 1..63 characters without spaces or quotes");
    const char *in = argv[optind];
    qsnn_model m;
    qsnn_status st = qsnn_import_tflite(&m, in, &io);
    if (st != QSNN_OK)
        return cli_fail("import", st);
    if (!io.labels && !quiet)
        fprintf(stderr, "qsnn import: no --labels: the classes are named %s%s (give --labels in the model's output "
                        "order, or `qsnn eval` will compare the wrong classes)\n",
                m.labels[0], m.num_labels > 1 ? ", ..." : "");
    if (!io.features && !quiet)
        fprintf(stderr, "qsnn import: %s does not say which features it expects: assuming tf-audio-ops (give "
                        "--frontend if it was trained on another front end)\n", in);
    const int fr = qsnn_frontend_num_frames(&m.arch.features), fc = m.arch.features.num_coeffs;
    if (!quiet && (m.arch.input.h != fr || m.arch.input.w != fc || m.arch.input.c != 1))
        fprintf(stderr, "qsnn import: the model input %dx%dx%d is not the %s front end's %dx%d features: `qsnn eval` "
                        "cannot feed it audio (the C API takes its inputs directly)\n", m.arch.input.h,
                m.arch.input.w, m.arch.input.c, qsnn_frontend_name(m.arch.features.kind), fr, fc);
    st = qsnn_model_save(&m, out);
    int rc = st == QSNN_OK ? QSNN_EXIT_OK : cli_fail("import", st);
    size_t trainable, total = qsnn_arch_param_count(&m.arch, &trainable);
    if (st == QSNN_OK && a.json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "model", in);
        cJSON_AddStringToObject(root, "output", out);
        cJSON_AddNumberToObject(root, "layers", m.arch.num_layers);
        cJSON_AddNumberToObject(root, "parameters", (double)total);
        cJSON_AddNumberToObject(root, "classes", m.arch.num_classes);
        cJSON *jl = cJSON_AddArrayToObject(root, "labels");
        for (int i = 0; i < m.num_labels; i++)
            cJSON_AddItemToArray(jl, cJSON_CreateString(m.labels[i]));
        cJSON_AddBoolToObject(root, "labels_given", io.labels != NULL);
        const int shape[3] = {m.arch.input.h, m.arch.input.w, m.arch.input.c};
        cJSON_AddItemToObject(root, "input", cJSON_CreateIntArray(shape, 3));
        cJSON *jf = cJSON_AddObjectToObject(root, "features");
        if (jf)
            qsnn_frontend_to_json(&m.arch.features, jf);
        cJSON_AddBoolToObject(root, "features_given", io.features != NULL);
        rc = cli_json_print("import", root);
    } else if (st == QSNN_OK && !quiet) {
        printf("Imported %s: %d layers, %zu parameters, %d classes (%s", in, m.arch.num_layers, total,
               m.arch.num_classes, m.labels[0]);
        for (int i = 1; i < m.num_labels; i++)
            printf(",%s", m.labels[i]);
        printf("), input %dx%dx%d %s features -> %s\n", m.arch.input.h, m.arch.input.w, m.arch.input.c,
               qsnn_frontend_name(m.arch.features.kind), out);
    }
    qsnn_model_free(&m);
    return rc;
}
