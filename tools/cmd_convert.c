/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_convert.c: `qsnn convert MODEL -o OUT.snn`: a quantized model (episode 3) -> the integer event-based model,
 * with the hardware verdict of every layer and, with --check DATA, the float-vs-integer level check on a split.
 * The output is written only when the whole conversion succeeded (atomically). */
#include "cli.h"

#include "qsnn/convert.h"
#include "qsnn/data.h"
#include "qsnn/model.h"
#include "qsnn/report.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_help(void)
{
    printf("Usage: qsnn convert MODEL -o OUT.snn [options]\n"
           "\n"
           "Convert a quantized model (trained through episode 3: quantized weights and activations) into an integer\n"
           "event-based model, like cnn2snn.convert(model, input_scaling=(255, 0)) in the tutorial's section 5.1:\n"
           "  - integer weights round(wq * delta): 8-bit in the input convolution, 4-bit elsewhere (two per byte);\n"
           "  - batch norm and the 4-bit activation folded into per-neuron thresholds and steps (exact; negative\n"
           "    gammas flip the neuron), input scaling 255 for the uint8 input, 2.5 between layers;\n"
           "  - global average pooling as a sum over the map (thresholds scaled by its area, 125 here);\n"
           "  - the last layer without activation: its integer potentials give the class.\n"
           "Each layer is checked against the Akida NSoC v1 rules; a layer breaking one still converts and runs in\n"
           "software (see `qsnn summary OUT.snn`). Format and exactness: docs/snn.md.\n"
           "\n"
           "Options:\n"
           "  -o, --output OUT.snn     output file (required)\n"
           "  --check DATA             compare the integer engine with the float model on a split of DATA (a dataset\n"
           "                           directory or a feature file): per-layer levels (each layer fed the float\n"
           "                           model's input, so differences are that layer's), float-rounding ties, and the\n"
           "                           predicted class end to end\n"
           "  --split NAME             split for --check: test (default), validation or train\n"
           "  --check-samples N        check only the first N clips (default: all)\n"
           "  --json                   print a JSON report instead of text\n"
           "  -q, --quiet              no notes on stderr\n"
           "  -h, --help               this help\n"
           "\n"
           "Example:\n"
           "  qsnn convert kws.ep3.qsnn -o kws.snn --check ../shared/data/speech_commands_test_subset\n"
           "\n"
           "Exit status: 0 ok, 1 conversion refused or a file problem (the message names the layer or file),\n"
           "2 usage error.\n");
}

int cmd_convert(int argc, char **argv)
{
    enum { O_CHECK = 256, O_SPLIT, O_CHECK_N };
    static const struct option opts[] = {{"check", required_argument, 0, O_CHECK},
                                         {"split", required_argument, 0, O_SPLIT},
                                         {"check-samples", required_argument, 0, O_CHECK_N},
                                         {0, 0, 0, 0}};
    cli_args a = {.cmd = "convert", .takes = CLI_OUTPUT, .help = print_help};
    const char *check = NULL;
    qsnn_split split = QSNN_SPLIT_TEST;
    long check_n = 0;
    int c;
    while ((c = cli_getopt(&a, argc, argv, opts)) != -1) {
        switch (c) {
        case CLI_STOP: return a.rc;
        case O_CHECK: check = optarg; break;
        case O_SPLIT:
            if (!qsnn_split_parse(optarg, &split))
                return cli_usage_error("convert", "unknown split '%s' (test, validation, train)", optarg);
            break;
        case O_CHECK_N:
            if (!cli_parse_int(optarg, 1, 100000000, &check_n))
                return cli_usage_error("convert", "--check-samples: expected a positive integer, got '%s'", optarg);
            break;
        }
    }
    const char *out = a.output;
    const int json = a.json;
    if (optind + 1 != argc)
        return cli_usage_error("convert", "expected one MODEL file");
    if (!out)
        return cli_usage_error("convert", "missing -o OUT.snn");
    const char *in = argv[optind];
    qsnn_status st = qsnn_check_outputs((const char *[]){out}, 1, (const char *[]){in, check}, 2, 1u << 20);
    if (st != QSNN_OK)
        return cli_fail("convert", st);
    qsnn_model m;
    st = qsnn_model_load(&m, in);
    if (st != QSNN_OK)
        return cli_fail("convert", st);
    unsigned char *img = NULL;
    size_t sz = 0;
    qsnn_convert_info info;
    st = qsnn_convert_model(&m, &img, &sz, &info);
    if (st != QSNN_OK) {
        qsnn_fail_context(st, "%s", in);
        qsnn_model_free(&m);
        return cli_fail("convert", st);
    }
    qsnn_snn_model sm;
    st = qsnn_snn_model_init(&sm, img, sz, out);
    if (st == QSNN_OK)
        st = qsnn_snn_save(out, img, sz);
    if (st != QSNN_OK) {
        free(img);
        qsnn_convert_info_free(&info);
        qsnn_model_free(&m);
        return cli_fail("convert", st);
    }
    qsnn_convert_check_result res;
    int have_check = 0;
    if (check) {
        qsnn_data_opts o;
        qsnn_data_default_opts(&o);
        char words[QSNN_MAX_LABELS * QSNN_LABEL_MAX];
        qsnn_data_opts_words_of(&o, words, sizeof words, sm.labels, sm.num_classes);
        qsnn_featureset fs;
        st = qsnn_data_load_split_u8(check, split, m.scale_min, m.scale_max, &o, &fs);
        if (st == QSNN_OK) {
            size_t n = fs.n;
            if (check_n && (size_t)check_n < n)
                n = (size_t)check_n;
            qsnn_model_expect want = {in, sm.in_h, sm.in_w * sm.in_c, sm.num_classes, sm.labels};
            if ((st = qsnn_featureset_check_model(&fs, check, &want)) == QSNN_OK)
                st = qsnn_convert_check(&m, &sm, fs.u8, n, &res);
            have_check = st == QSNN_OK;
            qsnn_featureset_free(&fs);
        }
        if (st != QSNN_OK) {
            free(img);
            qsnn_convert_info_free(&info);
            qsnn_model_free(&m);
            return cli_fail("convert", st);
        }
    }
    int rc = QSNN_EXIT_OK;
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "model", in);
        cJSON_AddStringToObject(root, "output", out);
        cJSON_AddNumberToObject(root, "bytes", (double)sz);
        cJSON_AddNumberToObject(root, "workspace_bytes", (double)qsnn_snn_mem_size(&sm));
        cJSON_AddNumberToObject(root, "negated_neurons", info.negated);
        cJSON_AddNumberToObject(root, "constant_neurons", info.constant);
        cJSON *layers = cJSON_AddArrayToObject(root, "layers");
        for (int i = 0; i < sm.num_layers; i++) {
            cJSON *jl = cJSON_CreateObject();
            char why[1024];
            int bad = qsnn_convert_hw_check(&sm, i, why, sizeof why);
            cJSON_AddStringToObject(jl, "name", sm.layers[i].name);
            cJSON_AddStringToObject(jl, "type", qsnn_snn_type_name(sm.layers[i].type));
            cJSON_AddBoolToObject(jl, "hw", !bad);
            cli_json_string_or_null(jl, "hw_reasons", bad ? why : NULL);
            cJSON_AddNumberToObject(jl, "frac_bits", sm.layers[i].frac_bits);
            if (have_check && i + 1 < sm.num_layers) {
                cJSON_AddNumberToObject(jl, "levels_compared", (double)res.neurons[i]);
                cJSON_AddNumberToObject(jl, "levels_differ", (double)res.mismatch[i]);
                cJSON_AddNumberToObject(jl, "float_ties", (double)res.ties[i]);
                cJSON_AddNumberToObject(jl, "engine_vs_exact_differ", (double)res.exact_mismatch[i]);
            }
            cJSON_AddItemToArray(layers, jl);
        }
        if (have_check) {
            cJSON *jc = cJSON_AddObjectToObject(root, "check");
            cJSON_AddStringToObject(jc, "data", check);
            cJSON_AddStringToObject(jc, "split", qsnn_split_name(split));
            cJSON_AddNumberToObject(jc, "clips", (double)res.samples);
            cJSON_AddNumberToObject(jc, "same_class", (double)res.pred_agree);
            cli_json_number_or_null(jc, "agreement", res.samples ? (double)res.pred_agree / (double)res.samples : 0,
                                    res.samples > 0);
            cJSON_AddNumberToObject(jc, "last_layer_argmax_agree", (double)res.last_argmax_agree);
            cJSON_AddNumberToObject(jc, "last_layer_argmax_ties", (double)res.last_argmax_ties);
            cJSON_AddNumberToObject(jc, "tie_tolerance", res.tie_tol);
        }
        rc = cli_json_print("convert", root);
    } else {
        printf("Converted %s -> %s: %zu bytes, %d layers, workspace %zu bytes\n", in, out, sz, sm.num_layers,
               qsnn_snn_mem_size(&sm));
        printf("Neurons with negative batch-norm gamma (flipped): %d; constant neurons: %d\n", info.negated,
               info.constant);
        qsnn_report_snn_summary(stdout, &sm);
        if (have_check)
            qsnn_convert_check_print(stdout, &sm, &res);
    }
    free(img);
    qsnn_convert_info_free(&info);
    qsnn_model_free(&m);
    return rc;
}
