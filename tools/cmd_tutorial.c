/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_tutorial.c: `qsnn tutorial`, BrainChip's "Inference on KWS with MobileNet" tutorial end to end, in C.
 *
 * Steps (numbered as in the tutorial, each timed):
 *   2.  data: a Speech Commands directory (--data, either released layout) or the built-in default, synthetic
 *       speech generated once by `qsnn synth` and cached under $XDG_CACHE_HOME/qsnn (real background noise is
 *       mixed in from --noise DIR or $QSNN_NOISE_DIR, e.g. a dataset's _background_noise_); a build without
 *       synthetic speech (-DQSNN_SYNTH=OFF) needs --data;
 *   3.  the pretrained quantized MobileNet-KWS shipped in share/qsnn/models (tools/paths.c), Keras-style summary;
 *   4.  its accuracy on the chosen split;
 *   5.1 conversion to the integer event-based model, Akida-style summary with the HW column;
 *   5.2 the spiking model's accuracy, its agreement with the quantized model, Akida's statistics (first 20 clips);
 *   5.3 the confusion matrix, printed and saved as a PNG.
 * Outputs go to -o/--output (default ./qsnn-tutorial): the .snn model, the PNG and results.json. Nothing here computes
 * anything the library does not: this file only sequences library calls and prints. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "paths.h"

#include "qsnn/convert.h"
#include "qsnn/data.h"
#include "qsnn/io.h"
#include "qsnn/model.h"
#include "qsnn/report.h"
#include "qsnn/snn.h"
#ifdef QSNN_HAVE_SYNTH
#include "qsnn/synth.h"
#endif

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PRETRAINED_REL "models/mobilenet_kws_pretrained.qsnn"
#define SYNTH_CACHE_NAME "synth-default-v1"

static void usage(void)
{
    printf("Usage: qsnn tutorial [--data DIR] [-o DIR] [options]\n"
           "\n"
           "Runs BrainChip's MetaTF tutorial \"Inference on KWS with MobileNet\" with qsnn: loads the data and the\n"
           "pretrained 4-bit MobileNet-KWS, prints its summary and accuracy, converts it to an integer event-based\n"
           "model, prints that model's summary (with the Akida NSoC HW column), accuracy, agreement with the\n"
           "quantized model and per-layer statistics, and draws the confusion matrix. Every step is timed.\n"
           "\n"
           "Options:\n"
           "  --data DIR       a Speech Commands directory in either released layout (the full dataset with\n"
           "                   validation_list.txt/testing_list.txt, or the 12-folder test set). Default: synthetic\n"
           "                   speech made once with `qsnn synth` and cached in $XDG_CACHE_HOME/qsnn (~/.cache/qsnn)\n"
#ifndef QSNN_HAVE_SYNTH
           "                   (this qsnn was built without synthetic speech, -DQSNN_SYNTH=OFF: --data is needed)\n"
#endif
           "  --split NAME     split to evaluate: test (default), validation or train\n"
           "  --model FILE     quantized model (.qsnn) to use instead of the shipped pretrained one\n"
           "                   (also: environment variable QSNN_MODEL; the shipped one is looked up in\n"
           "                   $QSNN_DATA_DIR/models, else share/qsnn/models of the installation)\n"
           "  -o, --output DIR where the .snn model, confusion_matrix.png and results.json go (default qsnn-tutorial)\n"
           "  --cache DIR      cache folder for the synthetic default (default $XDG_CACHE_HOME/qsnn)\n"
           "  --noise DIR      real background-noise recordings (WAV files) to mix into the synthetic default,\n"
           "                   e.g. a Speech Commands dataset's _background_noise_ (also: QSNN_NOISE_DIR);\n"
           "                   without it the synthetic set has generated noise only\n"
           "  --stats-samples N  clips counted by the statistics (default 20, as the tutorial)\n"
           "  --threads N      at most N threads (default: all cores)\n"
           "  --json           print results.json to stdout at the end (the walk-through then goes to stderr,\n"
           "                   or nowhere with -q)\n"
           "  -q, --quiet      no progress or notes on stderr\n"
           "  -h, --help       this help\n"
           "\n"
           "Examples:\n"
           "  qsnn tutorial\n"
           "  qsnn tutorial --noise speech_commands_v0.02/_background_noise_\n"
           "  qsnn tutorial --data ../shared/data/speech_commands_test_subset -o /tmp/tut\n");
}

static int is_dir(const char *p) { return p && qsnn_file_kind_of(p) == QSNN_FILE_DIR; }

#ifdef QSNN_HAVE_SYNTH
static int is_file(const char *p) { return p && qsnn_file_kind_of(p) >= QSNN_FILE_OTHER && !is_dir(p); }
#endif

typedef struct {
    double t0;
    double total;
    cJSON *steps;
} tut_clock;

static void step_begin(tut_clock *c, const char *num, const char *title)
{
    /* "2. Load the dataset", "5.1 Convert ..." as the tutorial numbers its sections */
    const char *sep = strchr(num, '.') ? " " : ". ";
    printf("\n%s%s%s\n", num, sep, title);
    for (size_t i = 0; i < strlen(num) + strlen(sep) + strlen(title); i++)
        putchar('~');
    putchar('\n');
    fflush(stdout);
    c->t0 = qsnn_time_now();
}

static void step_end(tut_clock *c, const char *num)
{
    double dt = qsnn_time_now() - c->t0;
    c->total += dt;
    printf("[step %s: %.2f s]\n", num, dt);
    fflush(stdout);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "step", num);
    cJSON_AddNumberToObject(s, "seconds", dt);
    cJSON_AddItemToArray(c->steps, s);
}

/* --model, else $QSNN_MODEL, else the shipped model (tools/paths.c); NULL with the error set when not found. */
static const char *default_model_path(const char *opt, char *buf, size_t cap)
{
    const char *env = getenv("QSNN_MODEL");
    if (opt)
        return opt;
    if (env && env[0])
        return env;
    return cli_shipped_file(PRETRAINED_REL, buf, cap) == QSNN_OK ? buf : NULL;
}

#ifdef QSNN_HAVE_SYNTH
/* --noise, else $QSNN_NOISE_DIR, else none (the synthetic set's own generated noise) */
static const char *find_real_noise(const char *opt)
{
    const char *env = getenv("QSNN_NOISE_DIR");
    return opt ? opt : env && env[0] ? env : NULL;
}

static qsnn_status prepare_default_data(const char *cache_opt, const char *noise, char *dir, size_t cap)
{
    char cache[4096];
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (cache_opt)
        snprintf(cache, sizeof cache, "%s", cache_opt);
    else if (xdg && xdg[0])
        snprintf(cache, sizeof cache, "%s/qsnn", xdg);
    else if (home && home[0])
        snprintf(cache, sizeof cache, "%s/.cache/qsnn", home);
    else
        snprintf(cache, sizeof cache, "/tmp/qsnn-cache");
    /* the cached dataset depends on whether real noise is mixed in: two cache entries */
    if (snprintf(dir, cap, "%s/%s%s", cache, SYNTH_CACHE_NAME, noise ? "-realnoise" : "") >= (int)cap)
        return qsnn_fail(QSNN_ERR_ARG, "%s: cache path too long", cache);
    qsnn_status st = qsnn_mkdir_p(dir);
    if (st)
        return st;
    char done[4200];
    snprintf(done, sizeof done, "%s/.complete", dir);
    if (is_file(done)) {
        printf("Using the synthetic Speech Commands set cached in %s\n", dir);
        return QSNN_OK;
    }
    printf("Generating the built-in synthetic Speech Commands set in %s (once; it is cached)%s%s\n", dir,
           noise ? ",\nwith the real background noise recordings of " : "", noise ? noise : "");
    fflush(stdout);
    qsnn_synth_opts so;
    qsnn_synth_default_opts(&so);
    so.out_dir = dir;
    so.noise_dir = noise;
    qsnn_synth_summary sum;
    st = qsnn_synth_run(&so, &sum);
    if (st)
        return st;
    printf("  %zu clips made (%.0f clips/s), %zu kept from an earlier run\n", sum.clips_written, sum.clips_per_second,
           sum.clips_kept);
    FILE *fp = fopen(done, "w");
    if (fp)
        fclose(fp);
    return QSNN_OK;
}
#endif /* QSNN_HAVE_SYNTH */

static double accuracy_of(const int32_t *pred, const int32_t *label, size_t n)
{
    size_t ok = 0;
    for (size_t i = 0; i < n; i++)
        ok += pred[i] == label[i];
    return n ? (double)ok / (double)n : 0.0;
}

/* The clips per class, and the data's labels against the model's (the same names in the same order). */
static qsnn_status print_labels(const qsnn_featureset *fs, const qsnn_model *m, const char *data)
{
    for (int k = 0; k < fs->num_labels; k++) {
        size_t cnt = 0;
        for (size_t i = 0; i < fs->n; i++)
            cnt += fs->label[i] == k;
        printf("  %-10s %zu\n", fs->labels[k], cnt);
        if (strcmp(fs->labels[k], m->labels[k]) != 0)
            return qsnn_fail(QSNN_ERR_SHAPE, "%s: label %d is '%s' in the data but '%s' in the model", data, k,
                             fs->labels[k], m->labels[k]);
    }
    return QSNN_OK;
}

/* Section 5.1: convert, validate, save <out>/mobilenet_kws.snn, print Akida's summary; results into res. */
static qsnn_status convert_step(const qsnn_model *fm, const char *out_dir, unsigned char **image, size_t *image_size,
                                qsnn_snn_model *sm, cJSON *res, char *path, size_t cap)
{
    qsnn_status st;
    if ((st = qsnn_convert_model(fm, image, image_size, NULL)))
        return st;
    if ((st = qsnn_snn_model_init(sm, *image, *image_size, "converted model")))
        return st;
    snprintf(path, cap, "%s/mobilenet_kws.snn", out_dir);
    if ((st = qsnn_snn_save(path, *image, *image_size)))
        return st;
    qsnn_report_snn_summary(stdout, sm);
    printf("Saved %s (%zu bytes)\n", path, *image_size);
    cJSON_AddStringToObject(res, "snn_model", path);
    cJSON_AddNumberToObject(res, "snn_bytes", (double)*image_size);
    int hw_ok = 1;
    for (int l = 0; l < sm->num_layers; l++)
        hw_ok &= qsnn_convert_hw_check(sm, l, NULL, 0) == 0;
    cJSON_AddBoolToObject(res, "hw_compatible", hw_ok);
    return QSNN_OK;
}

/* Section 5.3: the spiking model's confusion matrix, printed and drawn to <out>/confusion_matrix.png. */
static qsnn_status confusion_step(qsnn_confusion *cm, const qsnn_snn_model *sm, const qsnn_featureset *fs,
                                  const int32_t *pred, const char *out_dir, const char *split, cJSON *res,
                                  char *path, size_t cap)
{
    qsnn_status st;
    if ((st = qsnn_confusion_init(cm, sm->num_classes)))
        return st;
    for (int k = 0; k < sm->num_classes; k++)
        cm->labels[k] = sm->labels[k];
    for (size_t i = 0; i < fs->n; i++)
        qsnn_confusion_add(cm, fs->label[i], pred[i]);
    qsnn_confusion_print(stdout, cm);
    snprintf(path, cap, "%s/confusion_matrix.png", out_dir);
    const qsnn_confusion_plot_opts po = {"mobilenet_kws.snn", split, QSNN_CONFUSION_FRACTIONS};
    if ((st = qsnn_confusion_plot(cm, &po, path)))
        return st;
    printf("Saved %s\n", path);
    cJSON_AddStringToObject(res, "confusion_png", path);
    return QSNN_OK;
}

/* results.json (atomically), and on stdout with --json. */
static qsnn_status write_results(const cJSON *res, const char *out_dir, int json, char *path, size_t cap)
{
    qsnn_status st;
    char *text = cJSON_Print(res);
    snprintf(path, cap, "%s/results.json", out_dir);
    qsnn_atomic_file af;
    if (!text)
        return qsnn_fail(QSNN_ERR_NOMEM, "out of memory for results.json");
    if ((st = qsnn_atomic_open(&af, path)) == QSNN_OK) {
        qsnn_atomic_write(&af, text, strlen(text));
        qsnn_atomic_write(&af, "\n", 1);
        st = qsnn_atomic_commit(&af);
    }
    if (json && st == QSNN_OK)
        printf("%s\n", text);
    free(text);
    return st;
}

typedef struct {
    const char *data, *out_dir, *model_opt, *cache, *noise_opt;
    qsnn_split split;
    long stats_n, threads;
    int json, quiet;
} tut_args;

/* The options into *a; returns -1 to go on, or the exit code (help printed, usage error). */
static int parse_args(int argc, char **argv, tut_args *a)
{
    static const struct option opts[] = {
        {"data", required_argument, 0, 'd'},          {"model", required_argument, 0, 'm'},
        {"split", required_argument, 0, 's'},         {"cache", required_argument, 0, 'c'},
        {"noise", required_argument, 0, 'N'},         {"stats-samples", required_argument, 0, 'n'},
        {0, 0, 0, 0}};
    cli_args ca = {.cmd = "tutorial", .takes = CLI_OUTPUT | CLI_THREADS, .help = usage};
    const char *data = NULL, *model_opt = NULL, *cache = NULL, *noise_opt = NULL;
    qsnn_split split = QSNN_SPLIT_TEST;
    long stats_n = 20;
    int c;
    while ((c = cli_getopt(&ca, argc, argv, opts)) != -1) {
        switch (c) {
        case CLI_STOP: return ca.rc;
        case 'd': data = optarg; break;
        case 'm': model_opt = optarg; break;
        case 'c': cache = optarg; break;
        case 'N': noise_opt = optarg; break;
        case 's':
            if (!qsnn_split_parse(optarg, &split))
                return cli_usage_error("tutorial", "unknown split '%s' (test, validation, train)", optarg);
            break;
        case 'n':
            if (!cli_parse_int(optarg, 0, 1000000000, &stats_n))
                return cli_usage_error("tutorial", "--stats-samples: '%s' is not a count", optarg);
            break;
        }
    }
    const char *out_dir = ca.output ? ca.output : "qsnn-tutorial";
    const long threads = ca.threads;
    const int json = ca.json;
    if (optind < argc)
        return cli_usage_error("tutorial", "unexpected argument '%s'", argv[optind]);
    if (data && !is_dir(data))
        return cli_usage_error("tutorial", "--data %s: not a folder", data);
#ifndef QSNN_HAVE_SYNTH
    if (!data)
        return cli_usage_error("tutorial", "this qsnn was built without synthetic speech (-DQSNN_SYNTH=OFF), so "
                                           "there is no built-in data: give a Speech Commands directory with --data DIR");
#endif
    if (noise_opt && !is_dir(noise_opt))
        return cli_usage_error("tutorial", "--noise %s: not a folder", noise_opt);

    *a = (tut_args){data, out_dir, model_opt, cache, noise_opt, split, stats_n, threads, json, ca.quiet};
    return -1;
}

int cmd_tutorial(int argc, char **argv)
{
    tut_args a;
    memset(&a, 0, sizeof a);
    int prc = parse_args(argc, argv, &a);
    if (prc >= 0)
        return prc;
    const char *data = a.data, *out_dir = a.out_dir, *model_opt = a.model_opt;
    const qsnn_split split = a.split;
    int saved_stdout = a.json ? cli_stdout_divert(a.quiet) : -1; /* --json: stdout is the JSON alone */

    char model_buf[4096], synth_dir[4096], path[4200];
    const char *model_path = default_model_path(model_opt, model_buf, sizeof model_buf);
    if (!model_path)
        return cli_fail("tutorial", QSNN_ERR_IO);
    int rc = QSNN_EXIT_FAIL;
    qsnn_status st;
    qsnn_model fm;
    memset(&fm, 0, sizeof fm);
    qsnn_featureset fs;
    memset(&fs, 0, sizeof fs);
    unsigned char *image = NULL;
    size_t image_size = 0;
    int32_t *pred_f = NULL, *pred_s = NULL;
    qsnn_confusion cm;
    memset(&cm, 0, sizeof cm);
    tut_clock clk = {0, 0, cJSON_CreateArray()};
    cJSON *res = cJSON_CreateObject();

    if ((st = qsnn_mkdir_p(out_dir)))
        goto fail;

    printf("qsnn tutorial: Inference on KWS with MobileNet (BrainChip MetaTF 1.x), in C\n");

    /* ---- 2. data ---- */
    step_begin(&clk, "2", "Load the dataset");
    if (!data) {
#ifdef QSNN_HAVE_SYNTH
        const char *noise = find_real_noise(a.noise_opt);
        if ((st = prepare_default_data(a.cache, noise, synth_dir, sizeof synth_dir)))
            goto fail;
        data = synth_dir;
#else
        (void)synth_dir; /* parse_args asked for --data */
#endif
    }
    if ((st = qsnn_model_load(&fm, model_path))) {
        qsnn_fail_context(st, "pretrained model (use --model FILE or QSNN_MODEL)");
        goto fail;
    }
    {
        qsnn_data_opts dopts;
        qsnn_data_default_opts(&dopts);
        if ((st = qsnn_data_load_split_u8(data, split, fm.scale_min, fm.scale_max, &dopts, &fs)))
            goto fail;
    }
    if (fs.n == 0) {
        st = qsnn_fail(QSNN_ERR_FORMAT, "%s: the %s split is empty", data, qsnn_split_name(split));
        goto fail;
    }
    printf("Data: %s, %s split: %zu clips of %d x %d MFCC, %d classes, scaled to uint8 with the model's training\n"
           "range [%.3f, %.3f]\n",
           data, qsnn_split_name(split), fs.n, fs.h, fs.w, fs.num_labels, fs.scale_min, fs.scale_max);
    if (fs.num_labels != fm.num_labels) {
        st = qsnn_fail(QSNN_ERR_SHAPE, "%s: %d classes in the data, %d in the model %s", data, fs.num_labels,
                       fm.num_labels, model_path);
        goto fail;
    }
    if ((st = print_labels(&fs, &fm, data)))
        goto fail;
    cJSON_AddStringToObject(res, "data", data);
    cJSON_AddStringToObject(res, "split", qsnn_split_name(split));
    cJSON_AddNumberToObject(res, "clips", (double)fs.n);
    step_end(&clk, "2");

    /* ---- 3. model ---- */
    step_begin(&clk, "3", "The pretrained quantized MobileNet-KWS (8-bit first layer, 4-bit weights and activations)");
    printf("Model file: %s (episode %d, weights %s, activations %s)\n", model_path, fm.episode,
           fm.quant_weights ? "quantized" : "float", fm.quant_acts ? "quantized" : "float");
    qsnn_model_print_summary(stdout, &fm);
    cJSON_AddStringToObject(res, "model", model_path);
    step_end(&clk, "3");

    /* ---- 4. float/quantized model accuracy ---- */
    step_begin(&clk, "4", "Check performance of the quantized model");
    pred_f = malloc(fs.n * sizeof *pred_f);
    pred_s = malloc(fs.n * sizeof *pred_s);
    if (!pred_f || !pred_s) {
        st = qsnn_fail(QSNN_ERR_NOMEM, "out of memory for %zu predictions", fs.n);
        goto fail;
    }
    if ((st = qsnn_model_predict(&fm, fs.u8, fs.n, NULL, pred_f)))
        goto fail;
    double acc_f = accuracy_of(pred_f, fs.label, fs.n);
    printf("Accuracy: %.2f%%\n", 100.0 * acc_f);
    cJSON_AddNumberToObject(res, "accuracy_quantized", acc_f);
    step_end(&clk, "4");

    /* ---- 5.1 conversion ---- */
    step_begin(&clk, "5.1", "Convert the quantized model to an integer event-based model");
    qsnn_snn_model sm;
    if ((st = convert_step(&fm, out_dir, &image, &image_size, &sm, res, path, sizeof path)))
        goto fail;
    step_end(&clk, "5.1");

    /* ---- 5.2 spiking model accuracy and statistics ---- */
    step_begin(&clk, "5.2", "Check prediction accuracy of the spiking model, and its statistics");
    qsnn_snn_stats stats;
    memset(&stats, 0, sizeof stats);
    if ((st = qsnn_report_snn_predict(&sm, QSNN_SNN_DENSE, fs.u8, fs.n, (int)a.threads, pred_s, NULL, &stats,
                                      (size_t)a.stats_n)))
        goto fail;
    double acc_s = accuracy_of(pred_s, fs.label, fs.n);
    size_t agree = 0;
    for (size_t i = 0; i < fs.n; i++)
        agree += pred_s[i] == pred_f[i];
    double agreement = (double)agree / (double)fs.n;
    printf("Accuracy: %.2f%%\n", 100.0 * acc_s);
    printf("Agreement with the quantized model: %zu of %zu clips predict the same class (%.2f%%)\n", agree, fs.n,
           100.0 * agreement);
    printf("Model statistics (first %zu clips)\n", a.stats_n && (size_t)a.stats_n < fs.n ? (size_t)a.stats_n : fs.n);
    qsnn_report_snn_stats(stdout, &sm, &stats);
    cJSON_AddNumberToObject(res, "accuracy_spiking", acc_s);
    cJSON_AddNumberToObject(res, "agreement", agreement);
    step_end(&clk, "5.2");

    /* ---- 5.3 confusion matrix ---- */
    step_begin(&clk, "5.3", "Confusion matrix of the spiking model (true class in rows)");
    char split_of[4200]; /* the figure's title: "test split of <data folder>" */
    const char *dbase = strrchr(data, '/') && strrchr(data, '/')[1] ? strrchr(data, '/') + 1 : data;
    snprintf(split_of, sizeof split_of, "%s split of %s", qsnn_split_name(split),
             a.data ? dbase : "the synthetic voices");
    if ((st = confusion_step(&cm, &sm, &fs, pred_s, out_dir, split_of, res, path, sizeof path)))
        goto fail;
    step_end(&clk, "5.3");

    printf("\nDone in %.2f s: quantized %.2f%%, spiking %.2f%%, agreement %.2f%%. Outputs in %s/\n", clk.total,
           100.0 * acc_f, 100.0 * acc_s, 100.0 * agreement, out_dir);
    cJSON_AddNumberToObject(res, "seconds", clk.total);
    cJSON_AddItemToObject(res, "steps", clk.steps);
    clk.steps = NULL;
    cli_stdout_restore(&saved_stdout);
    if ((st = write_results(res, out_dir, a.json, path, sizeof path)))
        goto fail;
    rc = QSNN_EXIT_OK;
    goto done;
fail:
    fflush(stdout);
    rc = cli_fail("tutorial", st);
done:
    cli_stdout_restore(&saved_stdout);
    cJSON_Delete(res);
    cJSON_Delete(clk.steps);
    qsnn_confusion_free(&cm);
    free(pred_f);
    free(pred_s);
    free(image);
    qsnn_featureset_free(&fs);
    qsnn_model_free(&fm);
    return rc;
}
