/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_train.c: `qsnn train FEATURES|DATA_DIR -o MODEL`: quantization-aware training in three episodes
 * (qsnn/train.h). Data: a feature file (fixed features; its train split trains, --val-split validates) or a
 * Speech Commands directory (the training split is re-featurized with augmentation every epoch, seed
 * f(seed, episode, epoch); validation/test are clean). The model records the label names and the uint8 scaling
 * range of the training features (clean training features' min/max for a directory; the file's range for a
 * feature file). After training, each episode's model is evaluated on the test split when the data has one.
 * Results (per-episode best validation / test accuracy, samples/s) on stdout, --json for scripts; progress on
 * stderr. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "train_teacher.h"

#include "qsnn/data.h"
#include "qsnn/io.h"
#include "qsnn/model.h"
#include "qsnn/train.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

static const char *CMD = "train";

static void help(void)
{
    printf(
            "Usage: qsnn train FEATURES|DATA_DIR -o MODEL [options]\n"
            "\n"
            "Quantization-aware training of the tutorial's recipe: episode 1 float weights and ReLU6, episode 2\n"
            "4-bit quantized ReLU, episode 3 also 8-bit (first layer) / 4-bit weights; each episode starts from the\n"
            "best-validation model of the previous one, with a fresh Adam. Writes MODEL (the last episode's best\n"
            "model) and each episode's best model, named with .epN before MODEL's extension (kws.qsnn: kws.ep1.qsnn,\n"
            "kws.ep2.qsnn, kws.ep3.qsnn; without an extension MODEL.epN).\n"
            "\n"
            "Data: a feature file from `qsnn features` (fixed features), or a Speech Commands directory (training\n"
            "features computed with augmentation - time shift, background noise, and the options below).\n"
            "\n"
            "Options:\n"
            "  -o, --output MODEL       model file to write (required)\n"
            "      --arch NAME|FILE     mobilenet_kws (default), ds_cnn, or an architecture JSON file\n"
            "      --init MODEL         start from this model (its architecture and weights)\n"
            "      --episodes LIST      episodes to run, e.g. 1,2,3 (default) or 3\n"
            "      --epochs N|LIST      epochs per episode, one value or one per episode (default: a budget of\n"
            "                           3600/1800/1800 optimizer steps, epochs = steps x batch / training clips, >= 3;\n"
            "                           120/60/60 on 3,000 clips; --recipe tutorial: 16)\n"
            "      --batch N            batch size (default 100)\n"
            "      --schedule S         cosine (default: from MAX to MIN over each episode), cyclic (Keras CyclicLR\n"
            "                           triangular, half-period 4*N_train/batch steps, as BrainChip's kws_train;\n"
            "                           use --lr 2e-3,5e-6 and epochs a multiple of 8), or constant\n"
            "      --lr MAX[,MIN]       learning rates (default 1e-3,1e-5)\n"
            "      --threads N          at most N threads (default: all cores)\n"
            "      --seed S             seed of the initialisation, shuffling and augmentation (default 1)\n"
            "      --checkpoint DIR     checkpoint directory, written after every epoch (default MODEL.ckpt)\n"
            "      --no-checkpoint      do not write checkpoints\n"
            "      --resume DIR         continue a run from its checkpoint directory (same command and options)\n"
            "      --log FILE.json      JSON log of every epoch\n"
            "      --plot FILE.png      training curves, PNG or SVG (FILE.svg) by the extension\n"
            "      --val-split NAME     validation split (default validation; 'none' to keep the last epoch)\n"
            "      --test-split NAME    split evaluated with each episode's model at the end (default test; 'none')\n"
            "      --extra-data DIR     another Speech Commands directory trained on with DATA_DIR (repeatable):\n"
            "                           each keeps its own splits and quotas, validation/test include its clips\n");
    printf("      --recipe NAME        default (budget in optimizer steps, BN re-estimation, 12 augmented sets) or\n"
            "                           tutorial (16 epochs per episode, TF's augmentation fresh every epoch, moving\n"
            "                           averages only); explicit options override it\n"
            "      --teacher MODEL      distil from a float qsnn model (trained, or imported with qsnn import): it labels\n"
            "                           every augmented training clip through its own front end\n"
            "      --kd-weight A        loss (1 - A) x cross-entropy + A x T^2 x KL(teacher || student) (default 0.9)\n"
            "      --kd-temperature T   softmax temperature of both in the KL term (default 2)\n"
            "      --speed PCT          speed perturbation: each training clip resampled (libsamplerate) by a factor\n"
            "                           uniform in [1 - PCT/100, 1 + PCT/100] (default 0: off)\n"
            "      --level DB           level change: clip gain uniform in [-DB, +DB] dB before the noise (default 0)\n"
            "      --spec-time N,MAX    SpecAugment: N masks of 1..MAX frames set to the clip's mean (default 0,0)\n"
            "      --spec-freq N,MAX    SpecAugment: N masks of 1..MAX MFCC coefficients set to their clip mean (0,0)\n"
            "      --aug-sets K         augment K training sets once (each with the teacher's probabilities) and cycle\n"
            "                           through them, epoch e using set e %% K (default 12; 0: a fresh set every epoch,\n"
            "                           the tutorial's way; a teacher then labels every epoch)\n"
            "      --bn-batches N       before every validation, re-estimate the batch-norm moving statistics as the\n"
            "                           mean over N training batches, weights frozen (default 10; 0: moving averages\n"
            "                           only, which lag the weights by ~100 steps)\n"
            "      --json               print the results as JSON\n"
            "  -q, --quiet              no progress or notes on stderr\n"
            "  -h, --help               this help\n"
            "\n"
            "Examples:\n"
            "  qsnn train ../shared/data/speech_commands_subset -o kws.qsnn --log log.json --plot curves.png\n"
            "  qsnn import models/teachers/mlperf_tiny_kws/kws_ref_model_float32.tflite --frontend tf-signal \\\n"
            "      --labels down,go,left,no,off,on,right,stop,up,yes,_silence_,_unknown_ -o teacher.qsnn\n"
            "  qsnn train ../shared/data/speech_commands_subset -o kws.qsnn --teacher teacher.qsnn\n");
}

static int parse_list(const char *s, int *v, int max, long lo, long hi)
{
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return 0;
    strcpy(buf, s);
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long x;
        if (n >= max || !cli_parse_int(tok, lo, hi, &x))
            return 0;
        v[n++] = (int)x;
    }
    return n;
}

/* The default recipe, chosen by measurement (docs/training.md, "Ablation"): optimizer steps per episode (epochs =
 * steps * batch / training clips, at least MIN_EPOCHS), batch-norm re-estimation, and the augmentation beyond
 * TF's. */
static const int DEFAULT_STEPS[3] = {3600, 1800, 1800};
#define MIN_EPOCHS 3
#define DEFAULT_AUG_SETS 12
#define DEFAULT_SPEED_PCT 0.0
#define DEFAULT_LEVEL_DB 0.0
#define DEFAULT_TIME_MASKS 0
#define DEFAULT_TIME_MASK_MAX 0
#define DEFAULT_FREQ_MASKS 0
#define DEFAULT_FREQ_MASK_MAX 0

typedef struct {
    const qsnn_dataset *ds;
    size_t n;
    size_t *idx;
    float *f32;
    float lo, hi;
    teacher_ctx *teacher;
    float kd_t;
} aug_ctx;

static qsnn_status soft_cb(void *ctx, uint64_t seed, float *out)
{
    aug_ctx *a = ctx;
    return teacher_soft_targets(a->teacher, a->ds, a->idx, a->n, seed, a->kd_t, out);
}

static qsnn_status augment_cb(void *ctx, uint64_t seed, uint8_t *out)
{
    aug_ctx *a = ctx;
    qsnn_status st = qsnn_dataset_features(a->ds, QSNN_SPLIT_TRAIN, a->idx, a->n, 1, seed, a->f32);
    if (st == QSNN_OK)
        qsnn_features_to_u8(out, a->f32, a->n * QSNN_DATA_FEATURE_SIZE, a->lo, a->hi);
    return st;
}

/* u8 samples and labels of split s of a feature file (scaled with the file's range when stored as float) */
static qsnn_status split_of_file(const qsnn_featureset *fs, qsnn_split s, uint8_t **x, int32_t **y, size_t *n)
{
    const size_t S = (size_t)fs->h * (size_t)fs->w;
    size_t k = 0;
    for (size_t i = 0; i < fs->n; i++)
        k += fs->split[i] == s;
    *n = k;
    *x = malloc(k * S + 1);
    *y = malloc(k * sizeof **y + 1);
    if (!*x || !*y)
        return qsnn_fail(QSNN_ERR_NOMEM, "out of memory");
    k = 0;
    for (size_t i = 0; i < fs->n; i++) {
        if (fs->split[i] != s)
            continue;
        if (fs->is_u8)
            memcpy(*x + k * S, fs->u8 + i * S, S);
        else
            qsnn_features_to_u8(*x + k * S, fs->f32 + i * S, S, fs->scale_min, fs->scale_max);
        (*y)[k++] = fs->label[i];
    }
    return QSNN_OK;
}

/* clean u8 features of split s of a dataset */
static qsnn_status split_of_dataset(const qsnn_dataset *ds, qsnn_split s, float lo, float hi, uint8_t **x,
                                    int32_t **y, size_t *n, float **f32_out)
{
    size_t k = qsnn_dataset_count(ds, s);
    *n = k;
    float *f = malloc(k * QSNN_DATA_FEATURE_SIZE * sizeof *f + 1);
    *x = malloc(k * QSNN_DATA_FEATURE_SIZE + 1);
    *y = malloc(k * sizeof **y + 1);
    if (!f || !*x || !*y) {
        free(f);
        return qsnn_fail(QSNN_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < k; i++)
        (*y)[i] = qsnn_dataset_label(ds, s, i);
    qsnn_status st = qsnn_data_split_features(ds, s, 0, 0, f, NULL, NULL);
    if (st == QSNN_OK && f32_out) {
        *f32_out = f;
        return QSNN_OK;
    }
    if (st == QSNN_OK)
        qsnn_features_to_u8(*x, f, k * QSNN_DATA_FEATURE_SIZE, lo, hi);
    free(f);
    return st;
}

/* Everything the options say. */
typedef struct {
    qsnn_train_opts o;
    const char *out, *arch_name, *init;
    int json, quiet;
    int use_val, use_test;
    qsnn_split val_split, test_split;
    const char *data_dirs[QSNN_DATASET_MAX_DIRS]; /* [0]: the DATA argument, then --extra-data */
    int num_dirs;
    char ckpt_default[4096];
    const char *teacher;   /* --teacher MODEL or NULL */
    int tutorial;          /* --recipe tutorial */
    int auto_epochs;       /* no --epochs: the step budget, once the data's size is known */
    qsnn_data_opts aug;    /* dataset options with the augmentation of the recipe */
} train_args;

/* The training data: from a dataset directory (augmented every epoch) or a feature file. */
typedef struct {
    qsnn_dataset *ds;
    qsnn_featureset fs;
    uint8_t *xt, *xv, *xs;
    int32_t *yt, *yv, *ys;
    size_t nt, nv, ns;
    aug_ctx actx;
    float *clean_f;
} train_inputs;

/* The options into *a (the caller zeroes it); returns -1 to go on, or the exit code (help, usage error). */
static int parse_args(int argc, char **argv, train_args *a)
{
    enum { O_ARCH = 256, O_INIT, O_EPISODES, O_EPOCHS, O_BATCH, O_SCHED, O_LR, O_SEED, O_CKPT, O_NOCKPT,
           O_RESUME, O_LOG, O_PLOT, O_VAL, O_TEST, O_EXTRA, O_BNB, O_RECIPE, O_TEACHER, O_KDW, O_KDT,
           O_SPEED, O_LEVEL, O_SPECT, O_SPECF, O_AUGSETS };
    static const struct option lopts[] = {
        {"arch", required_argument, 0, O_ARCH},
        {"init", required_argument, 0, O_INIT}, {"episodes", required_argument, 0, O_EPISODES},
        {"epochs", required_argument, 0, O_EPOCHS}, {"batch", required_argument, 0, O_BATCH},
        {"schedule", required_argument, 0, O_SCHED}, {"lr", required_argument, 0, O_LR},
        {"seed", required_argument, 0, O_SEED},
        {"checkpoint", required_argument, 0, O_CKPT}, {"no-checkpoint", no_argument, 0, O_NOCKPT},
        {"resume", required_argument, 0, O_RESUME}, {"log", required_argument, 0, O_LOG},
        {"plot", required_argument, 0, O_PLOT}, {"val-split", required_argument, 0, O_VAL},
        {"test-split", required_argument, 0, O_TEST},
        {"extra-data", required_argument, 0, O_EXTRA}, {"bn-batches", required_argument, 0, O_BNB},
        {"recipe", required_argument, 0, O_RECIPE}, {"teacher", required_argument, 0, O_TEACHER},
        {"kd-weight", required_argument, 0, O_KDW}, {"kd-temperature", required_argument, 0, O_KDT},
        {"speed", required_argument, 0, O_SPEED}, {"level", required_argument, 0, O_LEVEL},
        {"spec-time", required_argument, 0, O_SPECT}, {"spec-freq", required_argument, 0, O_SPECF},
        {"aug-sets", required_argument, 0, O_AUGSETS}, {0, 0, 0, 0}};
    cli_args ca = {.cmd = CMD, .takes = CLI_OUTPUT | CLI_THREADS, .help = help};
    qsnn_train_opts o;
    qsnn_train_default_opts(&o);
    o.aug_sets = DEFAULT_AUG_SETS;
    const char *arch_name = "mobilenet_kws", *init = NULL, *ckpt = NULL, *val_name = "validation",
               *test_name = "test";
    int no_ckpt = 0, n_epochs = 0, tutorial = 0, aug_set = 0, bnb_set = 0, augsets_set = 0;
    const char *teacher = NULL;
    qsnn_data_opts aug; /* the augmentation options of the default recipe (set by measurement, docs/training.md) */
    qsnn_data_default_opts(&aug);
    aug.speed_pct = DEFAULT_SPEED_PCT;
    aug.level_db = DEFAULT_LEVEL_DB;
    aug.time_masks = DEFAULT_TIME_MASKS, aug.time_mask_max = DEFAULT_TIME_MASK_MAX;
    aug.freq_masks = DEFAULT_FREQ_MASKS, aug.freq_mask_max = DEFAULT_FREQ_MASK_MAX;
    int epochs[3];
    const char **data_dirs = a->data_dirs;
    int num_dirs = 1;
    int c;
    while ((c = cli_getopt(&ca, argc, argv, lopts)) != -1) {
        long v;
        double d;
        switch (c) {
        case CLI_STOP: return ca.rc;
        case O_ARCH: arch_name = optarg; break;
        case O_INIT: init = optarg; break;
        case O_EPISODES:
            o.num_episodes = parse_list(optarg, o.episodes, 3, 1, 3);
            if (!o.num_episodes)
                return cli_usage_error(CMD, "--episodes: expected a list of 1, 2, 3 (got '%s')", optarg);
            break;
        case O_EPOCHS:
            n_epochs = parse_list(optarg, epochs, 3, 0, 100000);
            if (!n_epochs)
                return cli_usage_error(CMD, "--epochs: expected N or a list (got '%s')", optarg);
            break;
        case O_BATCH:
            if (!cli_parse_int(optarg, 1, 100000, &v))
                return cli_usage_error(CMD, "--batch: expected 1..100000 (got '%s')", optarg);
            o.batch = (int)v;
            break;
        case O_SCHED:
            if (!strcmp(optarg, "cyclic"))
                o.sched = QSNN_SCHED_CYCLIC;
            else if (!strcmp(optarg, "cosine"))
                o.sched = QSNN_SCHED_COSINE;
            else if (!strcmp(optarg, "constant"))
                o.sched = QSNN_SCHED_CONSTANT;
            else
                return cli_usage_error(CMD, "--schedule: expected cyclic, cosine or constant (got '%s')", optarg);
            break;
        case O_LR: {
            char buf[128];
            snprintf(buf, sizeof buf, "%s", optarg);
            char *comma = strchr(buf, ',');
            if (comma)
                *comma = 0;
            if (!cli_parse_double(buf, 1e-12, 10, &d))
                return cli_usage_error(CMD, "--lr: expected MAX[,MIN] (got '%s')", optarg);
            o.lr_max = d;
            if (comma) {
                if (!cli_parse_double(comma + 1, 0, 10, &d))
                    return cli_usage_error(CMD, "--lr: expected MAX[,MIN] (got '%s')", optarg);
                o.lr_min = d;
            }
            break;
        }
        case O_SEED: {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (errno || *end || optarg[0] == '-' || !optarg[0])
                return cli_usage_error(CMD, "--seed: expected a non-negative integer (got '%s')", optarg);
            o.seed = s;
            break;
        }
        case O_CKPT: ckpt = optarg; break;
        case O_NOCKPT: no_ckpt = 1; break;
        case O_RESUME:
            ckpt = optarg;
            o.resume = 1;
            break;
        case O_LOG: o.log_path = optarg; break;
        case O_PLOT: o.plot_path = optarg; break;
        case O_VAL: val_name = optarg; break;
        case O_TEST: test_name = optarg; break;
        case O_EXTRA:
            if (num_dirs >= QSNN_DATASET_MAX_DIRS)
                return cli_usage_error(CMD, "--extra-data: at most %d directories", QSNN_DATASET_MAX_DIRS - 1);
            data_dirs[num_dirs++] = optarg;
            break;
        case O_RECIPE:
            if (strcmp(optarg, "default") && strcmp(optarg, "tutorial"))
                return cli_usage_error(CMD, "--recipe: expected default or tutorial (got '%s')", optarg);
            tutorial = !strcmp(optarg, "tutorial");
            break;
        case O_TEACHER: teacher = optarg; break;
        case O_KDW:
            if (!cli_parse_double(optarg, 0, 1, &d))
                return cli_usage_error(CMD, "--kd-weight: expected 0..1 (got '%s')", optarg);
            o.kd_weight = (float)d;
            break;
        case O_KDT:
            if (!cli_parse_double(optarg, 0.05, 100, &d))
                return cli_usage_error(CMD, "--kd-temperature: expected 0.05..100 (got '%s')", optarg);
            o.kd_temperature = (float)d;
            break;
        case O_SPEED:
            if (!cli_parse_double(optarg, 0, 50, &d))
                return cli_usage_error(CMD, "--speed: expected a percentage 0..50 (got '%s')", optarg);
            aug.speed_pct = d, aug_set |= 1;
            break;
        case O_LEVEL:
            if (!cli_parse_double(optarg, 0, 40, &d))
                return cli_usage_error(CMD, "--level: expected dB 0..40 (got '%s')", optarg);
            aug.level_db = d, aug_set |= 2;
            break;
        case O_SPECT:
        case O_SPECF: {
            int mv[2];
            if (parse_list(optarg, mv, 2, 0, c == O_SPECT ? 49 : 10) != 2 || mv[0] > 10)
                return cli_usage_error(CMD, "--spec-%s: expected MASKS,MAX with 0..10 masks of at most %d (got '%s')",
                                       c == O_SPECT ? "time" : "freq", c == O_SPECT ? 49 : 10, optarg);
            if (c == O_SPECT)
                aug.time_masks = mv[0], aug.time_mask_max = mv[1], aug_set |= 4;
            else
                aug.freq_masks = mv[0], aug.freq_mask_max = mv[1], aug_set |= 8;
            break;
        }
        case O_AUGSETS:
            if (!cli_parse_int(optarg, 0, 1000, &v))
                return cli_usage_error(CMD, "--aug-sets: expected 0..1000 (got '%s')", optarg);
            o.aug_sets = (int)v;
            augsets_set = 1;
            break;
        case O_BNB:
            if (!cli_parse_int(optarg, 0, 100000, &v))
                return cli_usage_error(CMD, "--bn-batches: expected 0..100000 (got '%s')", optarg);
            o.bn_batches = (int)v;
            bnb_set = 1;
            break;
        }
    }
    const char *out = ca.output;
    const int json = ca.json, quiet = ca.quiet;
    o.threads = ca.threads;
    if (optind + 1 != argc)
        return cli_usage_error(CMD, "expected one FEATURES file or DATA_DIR");
    if (!out)
        return cli_usage_error(CMD, "-o MODEL is required");
    if (tutorial) { /* the tutorial's recipe: 16 epochs per episode, TF's augmentation, moving averages only */
        qsnn_data_opts tf;
        qsnn_data_default_opts(&tf);
        if (!(aug_set & 1))
            aug.speed_pct = tf.speed_pct;
        if (!(aug_set & 2))
            aug.level_db = tf.level_db;
        if (!(aug_set & 4))
            aug.time_masks = tf.time_masks, aug.time_mask_max = tf.time_mask_max;
        if (!(aug_set & 8))
            aug.freq_masks = tf.freq_masks, aug.freq_mask_max = tf.freq_mask_max;
        if (!bnb_set)
            o.bn_batches = 0;
        if (!augsets_set)
            o.aug_sets = 0;
    }
    if (n_epochs == 1)
        for (int i = 0; i < 3; i++)
            o.epochs[i] = epochs[0];
    else if (n_epochs) {
        if (n_epochs != o.num_episodes)
            return cli_usage_error(CMD, "--epochs: %d values for %d episodes", n_epochs, o.num_episodes);
        for (int i = 0; i < n_epochs; i++)
            o.epochs[i] = epochs[i];
    }
    qsnn_split val_split = QSNN_SPLIT_VALIDATION, test_split = QSNN_SPLIT_TEST;
    int use_val = strcmp(val_name, "none") != 0, use_test = strcmp(test_name, "none") != 0;
    if (use_val && !qsnn_split_parse(val_name, &val_split))
        return cli_usage_error(CMD, "--val-split: unknown split '%s'", val_name);
    if (use_test && !qsnn_split_parse(test_name, &test_split))
        return cli_usage_error(CMD, "--test-split: unknown split '%s'", test_name);
    if (quiet)
        qsnn_log_set_level(QSNN_LOG_QUIET);
    /* refuse unwritable or colliding outputs now, not after hours of training */
    const char *ins[QSNN_DATASET_MAX_DIRS + 2] = {argv[optind], init, arch_name};
    for (int i = 1; i < num_dirs; i++)
        ins[i + 2] = data_dirs[i];
    qsnn_status cs = qsnn_check_outputs((const char *[]){out, o.log_path, o.plot_path}, 3, ins,
                                        (size_t)num_dirs + 2, 16u << 20);
    if (cs != QSNN_OK)
        return cli_fail(CMD, cs);
    o.quiet = quiet;
    o.out_path = out;
    if (!no_ckpt && !ckpt) {
        snprintf(a->ckpt_default, sizeof a->ckpt_default, "%s.ckpt", out);
        ckpt = a->ckpt_default;
    }
    o.ckpt_dir = no_ckpt && !o.resume ? NULL : ckpt;
    data_dirs[0] = argv[optind];
    a->o = o;
    a->out = out;
    a->arch_name = arch_name;
    a->init = init;
    a->json = json;
    a->quiet = quiet;
    a->use_val = use_val;
    a->use_test = use_test;
    a->val_split = val_split;
    a->test_split = test_split;
    a->num_dirs = num_dirs;
    a->teacher = teacher;
    a->tutorial = tutorial;
    a->auto_epochs = !n_epochs && !tutorial;
    a->aug = aug;
    return -1;

}

/* The model's labels and input range from the data, and the uint8 splits into *d. */
static qsnn_status load_inputs(const train_args *a, const char *data_path, qsnn_model *m, train_inputs *d)
{
    qsnn_status st;
    qsnn_file_kind data_kind = qsnn_file_kind_of(data_path);
    if (data_kind == QSNN_FILE_UNREADABLE) {
        qsnn_fail(QSNN_ERR_IO, "%s: no such file or directory", data_path);
        return QSNN_ERR_IO;
    }
    int num_labels;
    if (data_kind == QSNN_FILE_DIR) {
        if ((st = qsnn_dataset_open_many(&d->ds, a->data_dirs, a->num_dirs, &a->aug)) != QSNN_OK)
            return st;
        num_labels = qsnn_dataset_num_labels(d->ds);
        for (int i = 0; i < num_labels && i < QSNN_MAX_LABELS; i++)
            snprintf(m->labels[i], QSNN_LABEL_MAX, "%s", qsnn_dataset_label_name(d->ds, i));
        /* the scaling range: clean training features */
        if ((st = split_of_dataset(d->ds, QSNN_SPLIT_TRAIN, 0, 0, &d->xt, &d->yt, &d->nt, &d->clean_f)) != QSNN_OK)
            return st;
        float lo = 0, hi = 0;
        for (size_t i = 0; i < d->nt * QSNN_DATA_FEATURE_SIZE; i++) {
            if (i == 0 || d->clean_f[i] < lo)
                lo = d->clean_f[i];
            if (i == 0 || d->clean_f[i] > hi)
                hi = d->clean_f[i];
        }
        if (a->init && m->scale_max > m->scale_min) /* --init: keep the range the model was trained with */
            lo = m->scale_min, hi = m->scale_max;
        m->scale_min = lo;
        m->scale_max = hi;
        d->actx = (aug_ctx){d->ds, d->nt, malloc(d->nt * sizeof(size_t) + 1), d->clean_f, lo, hi, NULL, 0};
        if (!d->actx.idx)
            return qsnn_fail(QSNN_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < d->nt; i++)
            d->actx.idx[i] = i;
        if (a->use_val &&
            (st = split_of_dataset(d->ds, a->val_split, lo, hi, &d->xv, &d->yv, &d->nv, NULL)) != QSNN_OK)
            return st;
        if (a->use_test &&
            (st = split_of_dataset(d->ds, a->test_split, lo, hi, &d->xs, &d->ys, &d->ns, NULL)) != QSNN_OK)
            return st;
    } else {
        if ((st = qsnn_featureset_load(&d->fs, data_path)) != QSNN_OK)
            return st;
        if (d->fs.h != QSNN_DATA_FRAMES || d->fs.w != QSNN_DATA_COEFFS) {
            qsnn_fail(QSNN_ERR_SHAPE, "%s: features are %dx%d, the model needs 49x10", data_path, d->fs.h, d->fs.w);
            return QSNN_ERR_SHAPE;
        }
        num_labels = d->fs.num_labels;
        for (int i = 0; i < num_labels && i < QSNN_MAX_LABELS; i++)
            memcpy(m->labels[i], d->fs.labels[i], QSNN_LABEL_MAX);
        m->scale_min = d->fs.scale_min;
        m->scale_max = d->fs.scale_max;
        if ((st = split_of_file(&d->fs, QSNN_SPLIT_TRAIN, &d->xt, &d->yt, &d->nt)) != QSNN_OK ||
            (a->use_val && (st = split_of_file(&d->fs, a->val_split, &d->xv, &d->yv, &d->nv)) != QSNN_OK) ||
            (a->use_test && (st = split_of_file(&d->fs, a->test_split, &d->xs, &d->ys, &d->ns)) != QSNN_OK))
            return st;
    }
    if (num_labels != m->arch.num_classes) {
        qsnn_fail(QSNN_ERR_SHAPE, "%s: %d labels, the model has %d classes", data_path, num_labels,
                  m->arch.num_classes);
        return QSNN_ERR_SHAPE;
    }
    m->num_labels = num_labels;
    if (d->nt == 0) {
        qsnn_fail(QSNN_ERR_ARG, "%s: the training split is empty", data_path);
        return QSNN_ERR_ARG;
    }
    return QSNN_OK;
}

/* Each episode's model on the test split, then the summary (a table, or one JSON object with --json). Returns
 * the exit code. */
static int print_results(const train_args *a, const train_inputs *d, const qsnn_train_result *res, double secs)
{
    /* test accuracy of each episode's model */
    double test_acc[3] = {-1, -1, -1};
    if (d->ns) {
        for (int i = 0; i < a->o.num_episodes; i++) {
            char path[4096];
            const char *dot = strrchr(a->out, '.'), *slash = strrchr(a->out, '/');
            if (dot && (!slash || dot > slash))
                snprintf(path, sizeof path, "%.*s.ep%d%s", (int)(dot - a->out), a->out, a->o.episodes[i], dot);
            else
                snprintf(path, sizeof path, "%s.ep%d", a->out, a->o.episodes[i]);
            qsnn_model em;
            if (qsnn_model_load(&em, path) == QSNN_OK) {
                qsnn_eval_float(&em, d->xs, d->ys, d->ns, &test_acc[i], NULL);
                qsnn_model_free(&em);
            }
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (a->json) {
        cJSON *root = cJSON_CreateObject(); /* JSON only through cJSON: the path may hold anything */
        cJSON_AddStringToObject(root, "model", a->out);
        cJSON_AddNumberToObject(root, "seconds", round(secs * 10.0) / 10.0);
        cJSON_AddNumberToObject(root, "peak_rss_mb", round(ru.ru_maxrss / 1024.0 * 10.0) / 10.0);
        cJSON *eps = cJSON_AddArrayToObject(root, "episodes");
        for (int i = 0; i < a->o.num_episodes; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "episode", a->o.episodes[i]);
            cJSON_AddNumberToObject(e, "epochs", a->o.epochs[i]);
            /* null: no validation split (--val-split none), no test split, or the episode's file unreadable */
            cli_json_number_or_null(e, "best_val_acc", res->best_val_acc[i], res->best_val_acc[i] >= 0);
            cli_json_number_or_null(e, "test_acc", test_acc[i], test_acc[i] >= 0);
            cJSON_AddNumberToObject(e, "samples_per_s", round(res->samples_per_s[i] * 10.0) / 10.0);
            cJSON_AddItemToArray(eps, e);
        }
        return cli_json_print(CMD, root);
    }
    printf("%-8s %-7s %-10s %-10s %s\n", "episode", "epochs", "best val", "test", "samples/s");
    for (int i = 0; i < a->o.num_episodes; i++) {
        char v[16] = "-", t[16] = "-"; /* "-": no such split */
        if (res->best_val_acc[i] >= 0)
            snprintf(v, sizeof v, "%.4f", res->best_val_acc[i]);
        if (test_acc[i] >= 0)
            snprintf(t, sizeof t, "%.4f", test_acc[i]);
        printf("%-8d %-7d %-10s %-10s %.0f\n", a->o.episodes[i], a->o.epochs[i], v, t, res->samples_per_s[i]);
    }
    printf("model: %s  (%.1f s, peak memory %.1f MB)\n", a->out, secs, ru.ru_maxrss / 1024.0);
    return QSNN_EXIT_OK;
}

int cmd_train(int argc, char **argv)
{
    train_args args;
    memset(&args, 0, sizeof args);
    int prc = parse_args(argc, argv, &args);
    if (prc >= 0)
        return prc;
    qsnn_train_opts o = args.o;
    const char *init = args.init, *arch_name = args.arch_name, *data_path = args.data_dirs[0];
    const int quiet = args.quiet;
    int rc = QSNN_EXIT_FAIL;
    qsnn_status st;
    qsnn_model m;
    memset(&m, 0, sizeof m);
    train_inputs in;
    memset(&in, 0, sizeof in);

    /* model */
    if (init) {
        if ((st = qsnn_model_load(&m, init)) != QSNN_OK)
            return cli_fail(CMD, st);
    } else {
        qsnn_arch a;
        st = qsnn_arch_load(&a, arch_name);
        if (st != QSNN_OK || (st = qsnn_model_init(&m, &a, o.seed)) != QSNN_OK)
            return cli_fail(CMD, st);
    }
    if (m.arch.input.h != QSNN_DATA_FRAMES || m.arch.input.w != QSNN_DATA_COEFFS || m.arch.input.c != 1) {
        qsnn_fail(QSNN_ERR_SHAPE, "model input is %dx%dx%d, features are 49x10x1", m.arch.input.h, m.arch.input.w,
                  m.arch.input.c);
        rc = cli_fail(CMD, QSNN_ERR_SHAPE);
        goto done;
    }

    /* data */
    qsnn_file_kind kind = qsnn_file_kind_of(data_path);
    if (args.num_dirs > 1 && kind != QSNN_FILE_DIR && kind != QSNN_FILE_UNREADABLE) {
        rc = cli_usage_error(CMD, "--extra-data needs a DATA_DIR, not a feature file (%s)", data_path);
        goto done;
    }
    if ((st = load_inputs(&args, data_path, &m, &in)) != QSNN_OK) {
        rc = cli_fail(CMD, st);
        goto done;
    }
    const qsnn_dataset *ds = in.ds;
    if (!quiet)
        fprintf(stderr, "qsnn train: %s, %zu training / %zu validation / %zu test samples, range [%g, %g]%s\n",
                m.arch.name, in.nt, in.nv, in.ns, m.scale_min, m.scale_max, ds ? ", augmentation every epoch" : "");

    if (args.auto_epochs) /* the default budget: optimizer steps per episode, whatever the data's size */
        for (int i = 0; i < o.num_episodes; i++) {
            long e = lround((double)DEFAULT_STEPS[o.episodes[i] - 1] * o.batch / (double)in.nt);
            o.epochs[i] = e < MIN_EPOCHS ? MIN_EPOCHS : (int)e;
        }
    teacher_ctx tch;
    memset(&tch, 0, sizeof tch);
    if (args.teacher) {
        if (!ds) {
            rc = cli_usage_error(CMD, "--teacher needs a DATA_DIR (the teacher hears the audio), not a feature file");
            goto done;
        }
        if ((st = teacher_open(&tch, args.teacher, ds, o.threads)) != QSNN_OK) {
            rc = cli_fail(CMD, st);
            goto done;
        }
        in.actx.teacher = &tch;
        in.actx.kd_t = o.kd_temperature;
    }
    if (!quiet)
        fprintf(stderr, "qsnn train: recipe %s, epochs %d,%d,%d, BN re-estimation %d batches, %d augmented sets, speed "
                "%g %%, level %g dB, SpecAugment %dx%d frames %dx%d coefficients%s%s\n", args.tutorial ? "tutorial" : "default",
                o.epochs[0], o.num_episodes > 1 ? o.epochs[1] : 0, o.num_episodes > 2 ? o.epochs[2] : 0, o.bn_batches,
                o.aug_sets,
                args.aug.speed_pct, args.aug.level_db, args.aug.time_masks, args.aug.time_mask_max, args.aug.freq_masks,
                args.aug.freq_mask_max,
                args.teacher ? ", teacher " : "", args.teacher ? args.teacher : "");

    qsnn_train_data td = {0};
    td.train_u8 = ds ? NULL : in.xt;
    td.train_labels = in.yt;
    td.n_train = in.nt;
    if (ds) {
        td.augment = augment_cb;
        td.augment_ctx = &in.actx;
        td.soft_targets = args.teacher ? soft_cb : NULL;
    }
    td.val_u8 = in.xv;
    td.val_labels = in.yv;
    td.n_val = in.nv;
    qsnn_train_result *res = calloc(1, sizeof *res);
    if (!res) {
        rc = cli_fail(CMD, qsnn_fail(QSNN_ERR_NOMEM, "out of memory"));
        goto done;
    }
    const double t0 = qsnn_time_now();
    st = qsnn_train_run(&m, &td, &o, res);
    const double secs = qsnn_time_now() - t0;
    if (st != QSNN_OK) {
        free(res);
        rc = cli_fail(CMD, st);
        goto done;
    }
    args.o = o; /* the results table shows the epochs run (the default budget's), not the parsed options */
    rc = print_results(&args, &in, res, secs);
    free(res);
done:
    free(in.xt), free(in.yt), free(in.xv), free(in.yv), free(in.xs), free(in.ys), free(in.actx.idx), free(in.clean_f);
    if (in.actx.teacher)
        teacher_close(in.actx.teacher);
    if (in.ds)
        qsnn_dataset_free(in.ds);
    if (in.fs.n || in.fs.label)
        qsnn_featureset_free(&in.fs);
    qsnn_model_free(&m);
    return rc;
}
