/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_eval.c: `qsnn eval MODEL DATA`: accuracy of a float/quantized model (.qsnn) or an integer model (.snn) on
 * one split, the confusion matrix (text, and a PNG or SVG figure with --plot), Akida's statistics for a
 * .snn model (--stats, over the first 20 clips as the tutorial), and --json with every clip's file, label and
 * prediction so two models can be compared clip by clip. The data is scaled to uint8 with the model's own
 * recorded training range, as the tutorial scales x_valid with x_train's min/max. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "cli.h"

#include "qsnn/convert.h"
#include "qsnn/data.h"
#include "qsnn/infer.h"
#include "qsnn/io.h"
#include "qsnn/model.h"
#include "qsnn/plot.h"
#include "qsnn/report.h"

#include <cairo.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_help(void)
{
    printf("Usage: qsnn eval MODEL DATA [options]\n"
           "\n"
           "Evaluate MODEL (a .qsnn float/quantized model or a .snn integer model, recognised by content) on one split\n"
           "of DATA (a Speech Commands directory in either layout, or a feature file from `qsnn features`). Prints\n"
           "\"Accuracy: 91.60%%\" as the tutorial, then the confusion matrix (rows: true label; counts and\n"
           "row-normalised).\n"
           "\n"
           "Options:\n"
           "  --split NAME         test (default), validation or train\n"
           "  --stats              .snn only: Akida's statistics (input/output sparsity, ops = events x fan-out) and the\n"
           "                       measured time per layer, counted over the first --stats-samples clips\n"
           "  --stats-samples N    clips counted by --stats (default 20, as the tutorial; 0 = all)\n"
           "  --json               print JSON: accuracy, labels, confusion counts, per-clip file/label/prediction\n"
           "                       (and the statistics with --stats) instead of text\n"
           "  --plot FILE.png      write the confusion matrix figure (.png or .svg): fractions of each row and counts\n"
           "  --threads N          at most N threads (default: all cores)\n"
           "  --mode MODE          .snn only: dense (default, fastest), event (scatter over non-zero inputs) or ref;\n"
           "                       all three give identical integers\n"
           "  -q, --quiet          no progress or notes on stderr\n"
           "  -h, --help           this help\n"
           "\n"
           "Examples:\n"
           "  qsnn eval kws.snn ../shared/data/speech_commands_test_subset --stats --plot cm.png\n"
           "  qsnn eval kws.ep3.qsnn feats.qsf --split validation --json > float.json\n"
           "\n"
           "Exit status: 0 ok, 1 a file could not be used (the message says which and why), 2 usage error.\n");
}

typedef struct {
    qsnn_split split;
    int stats, json;
    long stats_n, threads;
    const char *plot;
    qsnn_snn_mode mode;
    const char *mpath, *dpath;
} eval_args;

/* The options into *a; returns -1 to go on, or the exit code (help printed, usage error). */
static int parse_args(int argc, char **argv, eval_args *a)
{
    enum { O_SPLIT = 256, O_STATS, O_STATS_N, O_PLOT, O_MODE };
    static const struct option opts[] = {{"split", required_argument, 0, O_SPLIT},
                                         {"stats", no_argument, 0, O_STATS},
                                         {"stats-samples", required_argument, 0, O_STATS_N},
                                         {"plot", required_argument, 0, O_PLOT},
                                         {"mode", required_argument, 0, O_MODE},
                                         {0, 0, 0, 0}};
    cli_args ca = {.cmd = "eval", .takes = CLI_THREADS, .help = print_help};
    qsnn_split split = QSNN_SPLIT_TEST;
    int stats = 0, c;
    long stats_n = 20;
    const char *plot = NULL;
    qsnn_snn_mode mode = QSNN_SNN_DENSE;
    while ((c = cli_getopt(&ca, argc, argv, opts)) != -1) {
        switch (c) {
        case CLI_STOP: return ca.rc;
        case O_SPLIT:
            if (!qsnn_split_parse(optarg, &split))
                return cli_usage_error("eval", "unknown split '%s' (test, validation, train)", optarg);
            break;
        case O_STATS: stats = 1; break;
        case O_STATS_N:
            if (!cli_parse_int(optarg, 0, 1000000000, &stats_n))
                return cli_usage_error("eval", "--stats-samples: expected an integer >= 0, got '%s'", optarg);
            break;
        case O_PLOT: plot = optarg; break;
        case O_MODE:
            if (!strcmp(optarg, "dense"))
                mode = QSNN_SNN_DENSE;
            else if (!strcmp(optarg, "event"))
                mode = QSNN_SNN_EVENT;
            else if (!strcmp(optarg, "ref"))
                mode = QSNN_SNN_REF;
            else
                return cli_usage_error("eval", "--mode: dense, event or ref, got '%s'", optarg);
            break;
        }
    }
    const int json = ca.json;
    const long threads = ca.threads;
    if (optind + 2 != argc)
        return cli_usage_error("eval", "expected MODEL and DATA");
    *a = (eval_args){split, stats, json, stats_n, threads, plot, mode, argv[optind], argv[optind + 1]};
    return -1;
}

/* --json: the summary, the confusion matrix, every clip, and the statistics with --stats. Returns the exit code. */
static int print_json(const eval_args *a, int is_snn, const qsnn_featureset *fs, const qsnn_confusion *cm,
                       const int32_t *pred, size_t correct, const qsnn_snn_model *smp, const qsnn_snn_stats *sst)
{
    const char *mpath = a->mpath, *dpath = a->dpath;
    const int classes = cm->n;
    const double acc = (double)correct / (double)fs->n;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", mpath);
    cJSON_AddStringToObject(root, "model_type", is_snn ? "snn" : "float");
    cJSON_AddStringToObject(root, "data", dpath);
    cJSON_AddStringToObject(root, "split", qsnn_split_name(a->split));
    cJSON_AddNumberToObject(root, "num_clips", (double)fs->n);
    cJSON_AddNumberToObject(root, "correct", (double)correct);
    cJSON_AddNumberToObject(root, "accuracy", acc);
    cJSON *jl = cJSON_AddArrayToObject(root, "labels");
    for (int i = 0; i < classes; i++)
        cJSON_AddItemToArray(jl, cJSON_CreateString(cm->labels[i]));
    cJSON *jc = cJSON_AddArrayToObject(root, "confusion");
    for (int i = 0; i < classes; i++) {
        cJSON *row = cJSON_CreateArray();
        for (int j = 0; j < classes; j++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)cm->counts[(size_t)i * classes + j]));
        cJSON_AddItemToArray(jc, row);
    }
    cJSON *clips = cJSON_AddArrayToObject(root, "clips");
    for (size_t i = 0; i < fs->n; i++) {
        cJSON *e = cJSON_CreateObject();
        cli_json_string_or_null(e, "file", fs->source ? fs->source[i] : NULL);
        cJSON_AddNumberToObject(e, "label", fs->label[i]);
        cJSON_AddNumberToObject(e, "pred", pred[i]);
        cJSON_AddItemToArray(clips, e);
    }
    if (a->stats) {
        cJSON *js = cJSON_AddObjectToObject(root, "statistics");
        cJSON_AddNumberToObject(js, "samples", (double)sst->samples);
        cJSON *jls = cJSON_AddArrayToObject(js, "layers");
        for (int l = 0; l < smp->num_layers; l++) {
            qsnn_snn_layer_stats ls;
            qsnn_snn_stats_layer(smp, sst, l, &ls);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", smp->layers[l].name);
            cJSON_AddStringToObject(e, "type", qsnn_snn_type_name(smp->layers[l].type));
            cli_json_number_or_null(e, "input_sparsity", ls.in_sparsity, ls.has_input);
            cli_json_number_or_null(e, "ops", ls.ops, ls.has_input);
            cJSON_AddNumberToObject(e, "output_sparsity", ls.out_sparsity);
            cJSON_AddNumberToObject(e, "time_us", ls.time_us);
            cJSON_AddItemToArray(jls, e);
        }
    }
    return cli_json_print("eval", root);
}

/* Whether MODEL is a .snn (1) or a .qsnn (0) model; returns -1 to go on, or the exit code. */
static int model_kind(const eval_args *a, int *is_snn)
{
    qsnn_file_kind kind = qsnn_file_kind_of(a->mpath);
    if (kind == QSNN_FILE_UNREADABLE)
        return cli_fail("eval", QSNN_ERR_IO);
    *is_snn = kind == QSNN_FILE_SNN;
    if (!*is_snn && kind != QSNN_FILE_MODEL) {
        return cli_fail("eval",
                        qsnn_fail(QSNN_ERR_FORMAT, "%s: not a qsnn model (neither .qsnn nor .snn)", a->mpath));
    }
    if (a->stats && !*is_snn)
        return cli_usage_error("eval", "--stats needs a .snn model (Akida statistics count spikes)");
    return -1;
}

/* The text report: accuracy, statistics with --stats, the confusion matrix. */
static void print_text(const eval_args *a, const qsnn_featureset *fs, const qsnn_confusion *cm, size_t correct,
                       double acc, const qsnn_snn_model *sm, const qsnn_snn_stats *sst)
{
    printf("Accuracy: %.2f%%\n", 100.0 * acc);
    printf("(%zu of %zu clips, %s split of %s)\n", correct, fs->n, qsnn_split_name(a->split), a->dpath);
    if (a->stats) {
        printf("Model statistics\n");
        qsnn_report_snn_stats(stdout, sm, sst);
    }
    qsnn_confusion_print(stdout, cm);
    if (a->plot)
        printf("Confusion matrix plot: %s\n", a->plot);
}

int cmd_eval(int argc, char **argv)
{
    eval_args a;
    memset(&a, 0, sizeof a);
    int prc = parse_args(argc, argv, &a);
    if (prc >= 0)
        return prc;
    const char *mpath = a.mpath, *dpath = a.dpath;
    const qsnn_split split = a.split;
    const int stats = a.stats, json = a.json;
    const char *plot = a.plot;
    qsnn_status st = qsnn_check_outputs(&plot, 1, (const char *[]){mpath, dpath}, 2, 1u << 20);
    qsnn_plot_format plot_fmt;
    if (st == QSNN_OK && plot)
        st = qsnn_plot_format_of(plot, &plot_fmt); /* .png or .svg, before the evaluation */
    if (st != QSNN_OK)
        return cli_fail("eval", st);
    int is_snn = 0;
    if ((prc = model_kind(&a, &is_snn)) >= 0)
        return prc;
    qsnn_model fm;
    qsnn_snn_model sm;
    unsigned char *img = NULL;
    float smin, smax;
    int classes, in_h, in_w;
    const char *const *mlabels = NULL;
    const char *flabels[QSNN_MAX_LABELS];
    if (is_snn) {
        st = qsnn_snn_load(mpath, &sm, &img);
        if (st != QSNN_OK)
            return cli_fail("eval", st);
        smin = sm.scale_min;
        smax = sm.scale_max;
        classes = sm.num_classes;
        mlabels = sm.labels;
        in_h = sm.in_h, in_w = sm.in_w * sm.in_c;
    } else {
        st = qsnn_model_load(&fm, mpath);
        if (st != QSNN_OK)
            return cli_fail("eval", st);
        smin = fm.scale_min;
        smax = fm.scale_max;
        classes = fm.arch.num_classes;
        in_h = fm.arch.input.h, in_w = fm.arch.input.w * fm.arch.input.c;
        for (int i = 0; i < fm.num_labels && i < QSNN_MAX_LABELS; i++)
            flabels[i] = fm.labels[i];
        mlabels = fm.num_labels >= classes ? flabels : NULL;
    }
    qsnn_data_opts o;
    qsnn_data_default_opts(&o);
    char words[QSNN_MAX_LABELS * QSNN_LABEL_MAX];
    qsnn_data_opts_words_of(&o, words, sizeof words, mlabels, classes);
    qsnn_featureset fs;
    memset(&fs, 0, sizeof fs);
    /* a model with its own front end (an imported one) gets its own features, as float */
    qsnn_frontend_params def;
    qsnn_frontend_defaults(&def, QSNN_FRONTEND_TF_AUDIO_OPS);
    const int own_fe = !is_snn && (!qsnn_frontend_same(&fm.arch.features, &def) ||
                                   fm.arch.features.input != QSNN_INPUT_U8);
    if (own_fe)
        st = qsnn_data_load_split_fe(dpath, split, &fm.arch.features, &o, &fs);
    else
        st = qsnn_data_load_split_u8(dpath, split, smin, smax, &o, &fs);
    int map[QSNN_MAX_LABELS];
    int32_t *pred = NULL;
    qsnn_snn_stats sst;
    memset(&sst, 0, sizeof sst);
    qsnn_confusion cm;
    memset(&cm, 0, sizeof cm);
    int rc = QSNN_EXIT_FAIL, out_rc = QSNN_EXIT_OK;
    if (st != QSNN_OK)
        goto done;
    if (fs.n == 0) {
        st = qsnn_fail(QSNN_ERR_ARG, "%s: no clips in the %s split", dpath, qsnn_split_name(split));
        goto done;
    }
    if (own_fe && (size_t)fs.h * (size_t)fs.w != (size_t)fm.arch.input.h * fm.arch.input.w * fm.arch.input.c) {
        st = qsnn_fail(QSNN_ERR_SHAPE, "%s: its %s front end gives %dx%d features, the model input is %dx%dx%d", mpath,
                       qsnn_frontend_name(fm.arch.features.kind), fs.h, fs.w, fm.arch.input.h, fm.arch.input.w,
                       fm.arch.input.c);
        goto done;
    }
    /* the exact shape (a 7x70 set is not a 49x10 model's input) and the class count; names are mapped below */
    qsnn_model_expect want = {mpath, in_h, in_w, classes, NULL};
    if ((st = qsnn_featureset_check_model(&fs, dpath, &want)) != QSNN_OK)
        goto done;
    if (mlabels) { /* the model's classes onto the dataset's names (an imported model has its own order) */
        const char *dl[QSNN_MAX_LABELS];
        for (int i = 0; i < fs.num_labels; i++)
            dl[i] = fs.labels[i];
        st = qsnn_labels_map(map, mlabels, classes, dl, fs.num_labels);
        if (st != QSNN_OK) {
            qsnn_fail_context(st, "%s (data) and %s (model)", dpath, mpath);
            goto done;
        }
    } else {
        for (int i = 0; i < classes; i++)
            map[i] = i;
    }
    pred = malloc(sizeof(int32_t) * fs.n);
    if (!pred) {
        st = qsnn_fail(QSNN_ERR_NOMEM, "eval: %zu predictions", fs.n);
        goto done;
    }
    double t0 = qsnn_time_now();
    if (is_snn) {
        if (fs.h * fs.w != sm.in_h * sm.in_w * sm.in_c) {
            st = qsnn_fail(QSNN_ERR_SHAPE, "%s: features %dx%d do not fit the model input %dx%dx%d", dpath, fs.h,
                           fs.w, sm.in_h, sm.in_w, sm.in_c);
            goto done;
        }
        st = qsnn_report_snn_predict(&sm, a.mode, fs.u8, fs.n, (int)a.threads, pred, NULL, stats ? &sst : NULL,
                                     (size_t)a.stats_n);
    } else if (own_fe) {
        qsnn_model_input_from_features(&fm, fs.f32, fs.f32, fs.n);
        st = qsnn_model_predict_float(&fm, fs.f32, fs.n, NULL, pred);
    } else {
        st = qsnn_model_predict(&fm, fs.u8, fs.n, NULL, pred);
    }
    for (size_t i = 0; st == QSNN_OK && i < fs.n; i++)
        pred[i] = map[pred[i]];
    double secs = qsnn_time_now() - t0;
    if (st != QSNN_OK)
        goto done;
    qsnn_info("eval: %zu clips in %.3f s", fs.n, secs);
    st = qsnn_confusion_init(&cm, classes);
    if (st != QSNN_OK)
        goto done;
    for (int i = 0; i < classes; i++)
        cm.labels[i] = fs.labels[i]; /* predictions are in the dataset's order */
    size_t correct = 0;
    for (size_t i = 0; i < fs.n; i++) {
        correct += pred[i] == fs.label[i];
        qsnn_confusion_add(&cm, fs.label[i], pred[i]);
    }
    double acc = (double)correct / (double)fs.n;
    if (plot) {
        char split_of[4200]; /* the figure's title: "test split of <data>" */
        const char *dbase = strrchr(a.dpath, '/') && strrchr(a.dpath, '/')[1] ? strrchr(a.dpath, '/') + 1 : a.dpath;
        snprintf(split_of, sizeof split_of, "%s split of %s", qsnn_split_name(a.split), dbase);
        const qsnn_confusion_plot_opts po = {a.mpath, split_of, QSNN_CONFUSION_BOTH};
        st = qsnn_confusion_plot(&cm, &po, plot);
        if (st != QSNN_OK)
            goto done;
    }
    if (json)
        out_rc = print_json(&a, is_snn, &fs, &cm, pred, correct, is_snn ? &sm : NULL, &sst);
    else
        print_text(&a, &fs, &cm, correct, acc, &sm, &sst);
    rc = QSNN_EXIT_OK;
done:
    if (rc != QSNN_EXIT_OK)
        cli_fail("eval", st);
    qsnn_confusion_free(&cm);
    free(pred);
    qsnn_featureset_free(&fs);
    if (is_snn)
        free(img);
    else
        qsnn_model_free(&fm);
    return rc == QSNN_EXIT_OK ? out_rc : rc;
}
