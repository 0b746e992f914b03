/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_features.c: `qsnn features DATA_DIR -o FILE`: the train/validation/test MFCC features of a Speech Commands
 * directory (either layout, see qsnn/data.h) into a versioned feature file, optionally exported as .npy.
 *
 * Samples are stored split by split (train, validation, test), each split in its index order. Training is one
 * clean pass (default) or N augmented passes (--augment N, pass p uses seed + 1 + p); validation and test are
 * always clean (their silence entries are noise drawn from the stream of the seed, so they are fixed).
 * Scaling range decision: [min, max] is taken over the CLEAN training features, even with --augment, so the
 * range (and a model's uint8 input) does not depend on the number of augmented passes or their seed; augmented
 * or evaluation values outside it are clamped by the uint8 conversion (their count is reported). In practice the
 * minimum is the log floor of digital silence (~-247, TF's fixed range, docs/design.md s1.9) either way.
 * Output: a summary table of counts per split and class on stdout (or --json), progress on stderr. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "qsnn/data.h"
#include "qsnn/frontend.h"
#include "qsnn/io.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *CMD = "features";

static void help(void)
{
    printf(
            "Usage: qsnn features DATA_DIR -o FILE [options]\n"
            "\n"
            "Compute the 49x10 MFCC features of a Speech Commands directory (the released full dataset with its\n"
            "list files, a copy without list files (TensorFlow's which_set), or the released 12-class test set)\n"
            "and write them to a versioned feature file (labels, splits, source paths, scaling range).\n"
            "\n"
            "Options:\n"
            "  -o, --output FILE      feature file to write (required)\n"
            "      --u8               store uint8 features scaled with the training range (default: float32)\n"
            "      --npy DIR          also export x_<split>.npy (n,49,10,1), y_<split>.npy (int32), labels.txt,\n"
            "                         scale.txt (\"min max\") into DIR\n"
            "      --augment N        N augmented passes of the training split (time shift, background noise);\n"
            "                         default 0 = one clean pass\n"
            "      --seed S           seed of the index building and augmentation (default 59185, TF's)\n"
            "      --words LIST       comma-separated wanted words (default down,go,left,no,off,on,right,stop,up,yes)\n"
            "      --silence-pct P    silence entries per split, %% of its wanted-word clips (default 10)\n"
            "      --unknown-pct P    unknown-word entries per split, %% of its wanted-word clips (default 10)\n"
            "      --validation-pct P, --testing-pct P\n"
            "                         split sizes when the list files are missing (default 10 and 10)\n"
            "      --range MIN,MAX    use this scaling range instead of the training features' min and max\n"
            "      --extra-data DIR   another Speech Commands directory in the same file (repeatable): each keeps\n"
            "                         its own splits and quotas, sources are prefixed with their directory\n"
            "      --frontend NAME    tf-audio-ops (default, the MFCC qsnn trains on) or tf-signal (MLPerf Tiny's\n"
            "                         tf.signal MFCC, docs/frontends.md), each with its default parameters (49 x 10);\n"
            "                         the file does not record it: use tf-signal files for --npy export and models\n"
            "                         that expect it, not for `qsnn train`\n"
            "      --threads N        at most N threads (default: all cores)\n"
            "      --json             print the summary as JSON\n"
            "  -q, --quiet            no progress or warnings on stderr\n"
            "  -h, --help             this help\n"
            "\n"
            "Labels: 0 _silence_, 1 _unknown_, then the wanted words in alphabetical order.\n");
}

typedef struct {
    const char *dir, *output, *npy_dir;
    const char *dirs[QSNN_DATASET_MAX_DIRS]; /* dir, then the --extra-data directories */
    int num_dirs;
    int u8, json, quiet;
    long augment;
    int have_range;
    float range_min, range_max;
    qsnn_data_opts dopts;
    const qsnn_frontend_params *fe; /* --frontend: NULL = the default tf-audio-ops MFCC */
    qsnn_frontend_params fe_params;
} options;

static int parse_seed(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s[0] || s[0] == '-')
        return 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

static int parse_range(const char *s, float *lo, float *hi)
{
    const char *comma = strchr(s, ',');
    if (!comma)
        return 0;
    char a[64];
    size_t n = (size_t)(comma - s);
    if (n == 0 || n >= sizeof a)
        return 0;
    memcpy(a, s, n);
    a[n] = '\0';
    double x, y;
    if (!cli_parse_double(a, -1e30, 1e30, &x) || !cli_parse_double(comma + 1, -1e30, 1e30, &y) || !(x < y))
        return 0;
    *lo = (float)x;
    *hi = (float)y;
    return *lo < *hi;
}

static int parse_args(int argc, char **argv, options *o)
{
    enum { O_U8 = 256, O_NPY, O_AUG, O_SEED, O_WORDS, O_SIL, O_UNK, O_VAL, O_TEST, O_RANGE, O_EXTRA, O_FE };
    static const struct option longopts[] = {
        {"u8", no_argument, NULL, O_U8},
        {"npy", required_argument, NULL, O_NPY},  {"augment", required_argument, NULL, O_AUG},
        {"seed", required_argument, NULL, O_SEED}, {"words", required_argument, NULL, O_WORDS},
        {"silence-pct", required_argument, NULL, O_SIL}, {"unknown-pct", required_argument, NULL, O_UNK},
        {"validation-pct", required_argument, NULL, O_VAL}, {"testing-pct", required_argument, NULL, O_TEST},
        {"range", required_argument, NULL, O_RANGE},
        {"extra-data", required_argument, NULL, O_EXTRA}, {"frontend", required_argument, NULL, O_FE},
        {NULL, 0, NULL, 0}};
    cli_args a = {.cmd = CMD, .takes = CLI_OUTPUT | CLI_THREADS, .help = help};
    memset(o, 0, sizeof *o);
    o->num_dirs = 1;
    qsnn_data_default_opts(&o->dopts);
    int c;
    double d;
    while ((c = cli_getopt(&a, argc, argv, longopts)) != -1) {
        switch (c) {
        case CLI_STOP: return a.rc ? a.rc : -1; /* -1: help printed */
        case O_U8: o->u8 = 1; break;
        case O_FE: {
            qsnn_frontend_kind k;
            if (qsnn_frontend_parse(optarg, &k) != QSNN_OK)
                return cli_usage_error(CMD, "--frontend: %s", qsnn_last_error());
            qsnn_frontend_defaults(&o->fe_params, k);
            o->fe = k == QSNN_FRONTEND_TF_AUDIO_OPS ? NULL : &o->fe_params;
            break;
        }
        case O_NPY: o->npy_dir = optarg; break;
        case O_AUG:
            if (!cli_parse_int(optarg, 0, 1000, &o->augment))
                return cli_usage_error(CMD, "--augment: '%s' is not an integer in [0, 1000]", optarg);
            break;
        case O_SEED:
            if (!parse_seed(optarg, &o->dopts.seed))
                return cli_usage_error(CMD, "--seed: '%s' is not a non-negative integer", optarg);
            break;
        case O_WORDS: o->dopts.wanted_words = optarg; break;
        case O_SIL:
            if (!cli_parse_double(optarg, 0, 10000, &d))
                return cli_usage_error(CMD, "--silence-pct: '%s' is not a number in [0, 10000]", optarg);
            o->dopts.silence_pct = d;
            break;
        case O_UNK:
            if (!cli_parse_double(optarg, 0, 10000, &d))
                return cli_usage_error(CMD, "--unknown-pct: '%s' is not a number in [0, 10000]", optarg);
            o->dopts.unknown_pct = d;
            break;
        case O_VAL:
            if (!cli_parse_double(optarg, 0, 100, &d))
                return cli_usage_error(CMD, "--validation-pct: '%s' is not a number in [0, 100]", optarg);
            o->dopts.validation_pct = d;
            break;
        case O_TEST:
            if (!cli_parse_double(optarg, 0, 100, &d))
                return cli_usage_error(CMD, "--testing-pct: '%s' is not a number in [0, 100]", optarg);
            o->dopts.testing_pct = d;
            break;
        case O_RANGE:
            if (!parse_range(optarg, &o->range_min, &o->range_max))
                return cli_usage_error(CMD, "--range: '%s' is not MIN,MAX with MIN < MAX", optarg);
            o->have_range = 1;
            break;
        case O_EXTRA:
            if (o->num_dirs >= QSNN_DATASET_MAX_DIRS)
                return cli_usage_error(CMD, "--extra-data: at most %d directories", QSNN_DATASET_MAX_DIRS - 1);
            o->dirs[o->num_dirs++] = optarg;
            break;
        }
    }
    o->output = a.output;
    o->json = a.json;
    o->quiet = a.quiet;
    if (optind >= argc)
        return cli_usage_error(CMD, "missing DATA_DIR");
    if (optind + 1 < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind + 1]);
    o->dir = argv[optind];
    o->dirs[0] = o->dir;
    if (!o->output)
        return cli_usage_error(CMD, "missing -o FILE");
    if (o->dopts.validation_pct + o->dopts.testing_pct > 100)
        return cli_usage_error(CMD, "--validation-pct + --testing-pct exceed 100");
    return 0;
}

static void min_max(const float *x, size_t n, float *lo, float *hi)
{
    float a = x[0], b = x[0];
    for (size_t i = 1; i < n; i++) {
        if (x[i] < a)
            a = x[i];
        if (x[i] > b)
            b = x[i];
    }
    *lo = a;
    *hi = b;
}

static qsnn_status write_npy(const options *o, const qsnn_featureset *fs, const size_t *first, const size_t *count)
{
    if (mkdir(o->npy_dir, 0777) != 0 && errno != EEXIST)
        return qsnn_fail(QSNN_ERR_IO, "%s: cannot create directory: %s", o->npy_dir, strerror(errno));
    size_t per = (size_t)fs->h * (size_t)fs->w;
    char path[4096];
    qsnn_status rc = QSNN_OK;
    for (int s = 0; s < QSNN_SPLIT_COUNT && rc == QSNN_OK; s++) {
        const char *name = qsnn_split_name((qsnn_split)s);
        size_t shape[4] = {count[s], (size_t)fs->h, (size_t)fs->w, 1};
        snprintf(path, sizeof path, "%s/x_%s.npy", o->npy_dir, name);
        if (fs->is_u8)
            rc = qsnn_npy_write(path, "|u1", shape, 4, fs->u8 + first[s] * per);
        else
            rc = qsnn_npy_write(path, "<f4", shape, 4, fs->f32 + first[s] * per);
        if (rc != QSNN_OK)
            break;
        snprintf(path, sizeof path, "%s/y_%s.npy", o->npy_dir, name);
        rc = qsnn_npy_write(path, "<i4", shape, 1, fs->label + first[s]);
    }
    if (rc != QSNN_OK)
        return rc;
    qsnn_atomic_file f;
    snprintf(path, sizeof path, "%s/labels.txt", o->npy_dir);
    if ((rc = qsnn_atomic_open(&f, path)) != QSNN_OK)
        return rc;
    for (int l = 0; l < fs->num_labels && rc == QSNN_OK; l++) {
        rc = qsnn_atomic_write(&f, fs->labels[l], strlen(fs->labels[l]));
        if (rc == QSNN_OK)
            rc = qsnn_atomic_write(&f, "\n", 1);
    }
    if (rc != QSNN_OK) {
        qsnn_atomic_abort(&f);
        return rc;
    }
    if ((rc = qsnn_atomic_commit(&f)) != QSNN_OK)
        return rc;
    char line[128];
    int len = snprintf(line, sizeof line, "%.9g %.9g\n", (double)fs->scale_min, (double)fs->scale_max);
    snprintf(path, sizeof path, "%s/scale.txt", o->npy_dir);
    if ((rc = qsnn_atomic_open(&f, path)) != QSNN_OK)
        return rc;
    if ((rc = qsnn_atomic_write(&f, line, (size_t)len)) != QSNN_OK) {
        qsnn_atomic_abort(&f);
        return rc;
    }
    return qsnn_atomic_commit(&f);
}

typedef struct {
    size_t first[QSNN_SPLIT_COUNT], count[QSNN_SPLIT_COUNT];
    size_t per_class[QSNN_SPLIT_COUNT][QSNN_MAX_LABELS];
    size_t below, above; /* feature values outside the scaling range */
    const char *range_from;
    double seconds;
    size_t skipped;
} summary;

static void print_table(const options *o, const qsnn_featureset *fs, const summary *sm)
{
    printf("features: %s (%s, %dx%d, %zu samples)\n", o->output, fs->is_u8 ? "uint8" : "float32", fs->h, fs->w,
           fs->n);
    printf("scaling range (%s): [%.6g, %.6g]; values outside: %zu below, %zu above\n", sm->range_from,
           (double)fs->scale_min, (double)fs->scale_max, sm->below, sm->above);
    printf("%-12s %10s %10s %10s\n", "label", "train", "validation", "test");
    for (int l = 0; l < fs->num_labels; l++)
        printf("%-12s %10zu %10zu %10zu\n", fs->labels[l], sm->per_class[0][l], sm->per_class[1][l],
               sm->per_class[2][l]);
    printf("%-12s %10zu %10zu %10zu\n", "total", sm->count[0], sm->count[1], sm->count[2]);
    if (o->augment)
        printf("train: %ld augmented passes of %zu entries\n", o->augment, sm->count[0] / (size_t)o->augment);
    printf("skipped clips: %zu\n", sm->skipped);
    printf("time: %.1f s\n", sm->seconds);
}

static int print_json(const options *o, const qsnn_featureset *fs, const summary *sm)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return 0;
    cJSON_AddStringToObject(root, "file", o->output);
    cJSON_AddStringToObject(root, "data_dir", o->dir);
    if (o->num_dirs > 1) {
        cJSON *extra = cJSON_AddArrayToObject(root, "extra_data");
        for (int k = 1; k < o->num_dirs; k++)
            cJSON_AddItemToArray(extra, cJSON_CreateString(o->dirs[k]));
    }
    cJSON_AddStringToObject(root, "dtype", fs->is_u8 ? "uint8" : "float32");
    cJSON_AddNumberToObject(root, "h", fs->h);
    cJSON_AddNumberToObject(root, "w", fs->w);
    cJSON_AddNumberToObject(root, "samples", (double)fs->n);
    cJSON_AddNumberToObject(root, "augment_passes", (double)o->augment);
    cJSON_AddNumberToObject(root, "seed", (double)o->dopts.seed);
    cJSON *labels = cJSON_AddArrayToObject(root, "labels");
    for (int l = 0; l < fs->num_labels; l++)
        cJSON_AddItemToArray(labels, cJSON_CreateString(fs->labels[l]));
    cJSON *splits = cJSON_AddObjectToObject(root, "splits");
    for (int s = 0; s < QSNN_SPLIT_COUNT; s++) {
        cJSON *js = cJSON_AddObjectToObject(splits, qsnn_split_name((qsnn_split)s));
        cJSON_AddNumberToObject(js, "total", (double)sm->count[s]);
        cJSON *pc = cJSON_AddObjectToObject(js, "per_class");
        for (int l = 0; l < fs->num_labels; l++)
            cJSON_AddNumberToObject(pc, fs->labels[l], (double)sm->per_class[s][l]);
    }
    cJSON *range = cJSON_AddObjectToObject(root, "scaling_range");
    cJSON_AddNumberToObject(range, "min", (double)fs->scale_min);
    cJSON_AddNumberToObject(range, "max", (double)fs->scale_max);
    cJSON_AddStringToObject(range, "from", sm->range_from);
    cJSON_AddNumberToObject(range, "values_below", (double)sm->below);
    cJSON_AddNumberToObject(range, "values_above", (double)sm->above);
    cJSON_AddNumberToObject(root, "skipped_clips", (double)sm->skipped);
    cJSON_AddNumberToObject(root, "seconds", sm->seconds);
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    if (!txt)
        return 0;
    printf("%s\n", txt);
    free(txt);
    return 1;
}

int cmd_features(int argc, char **argv)
{
    options o;
    int pr = parse_args(argc, argv, &o);
    if (pr < 0)
        return QSNN_EXIT_OK;
    if (pr > 0)
        return pr;
    if (o.quiet)
        qsnn_log_set_level(QSNN_LOG_QUIET);
    double t0 = qsnn_time_now();

    qsnn_dataset *ds = NULL;
    qsnn_status rc = qsnn_dataset_open_many(&ds, o.dirs, o.num_dirs, &o.dopts);
    if (rc != QSNN_OK)
        return cli_fail(CMD, rc);

    summary sm;
    memset(&sm, 0, sizeof sm);
    size_t passes = o.augment ? (size_t)o.augment : 1;
    size_t ntrain = qsnn_dataset_count(ds, QSNN_SPLIT_TRAIN);
    qsnn_featureset fs;
    memset(&fs, 0, sizeof fs);
    float *clean_train = NULL;
    int ok = qsnn_mul_size(&sm.count[0], ntrain, passes);
    sm.count[1] = qsnn_dataset_count(ds, QSNN_SPLIT_VALIDATION);
    sm.count[2] = qsnn_dataset_count(ds, QSNN_SPLIT_TEST);
    size_t n = 0, total_values = 0;
    ok = ok && qsnn_add_size(&n, sm.count[0], sm.count[1]) && qsnn_add_size(&n, n, sm.count[2]) &&
         qsnn_mul_size(&total_values, n, QSNN_DATA_FEATURE_SIZE);
    if (!ok) {
        rc = qsnn_fail(QSNN_ERR_RANGE, "%s: too many samples", o.dir);
        goto fail;
    }
    rc = qsnn_check_outputs(&o.output, 1, o.dirs, (size_t)o.num_dirs, (uint64_t)total_values * (o.u8 ? 1 : 4));
    if (rc != QSNN_OK)
        goto fail;
    sm.first[0] = 0;
    sm.first[1] = sm.count[0];
    sm.first[2] = sm.count[0] + sm.count[1];
    fs.h = QSNN_DATA_FRAMES;
    fs.w = QSNN_DATA_COEFFS;
    fs.num_labels = qsnn_dataset_num_labels(ds);
    for (int l = 0; l < fs.num_labels; l++)
        snprintf(fs.labels[l], QSNN_LABEL_MAX, "%s", qsnn_dataset_label_name(ds, l));
    fs.f32 = malloc((total_values ? total_values : 1) * sizeof *fs.f32);
    fs.label = malloc((n ? n : 1) * sizeof *fs.label);
    fs.split = malloc(n ? n : 1);
    fs.source = calloc(n ? n : 1, sizeof *fs.source);
    if (!fs.f32 || !fs.label || !fs.split || !fs.source) {
        rc = qsnn_fail(QSNN_ERR_NOMEM, "out of memory for %zu samples (%zu MB of features)", n,
                       total_values * sizeof(float) >> 20);
        goto fail;
    }
    fs.n = n;
    for (int s = 0; s < QSNN_SPLIT_COUNT; s++) {
        size_t cnt = qsnn_dataset_count(ds, (qsnn_split)s);
        size_t reps = s == QSNN_SPLIT_TRAIN ? passes : 1;
        for (size_t p = 0; p < reps; p++)
            for (size_t i = 0; i < cnt; i++) {
                size_t j = sm.first[s] + p * cnt + i;
                fs.label[j] = qsnn_dataset_label(ds, (qsnn_split)s, i);
                fs.split[j] = (uint8_t)s;
                fs.source[j] = strdup(qsnn_dataset_source(ds, (qsnn_split)s, i));
                if (!fs.source[j]) {
                    rc = qsnn_fail(QSNN_ERR_NOMEM, "out of memory");
                    goto fail;
                }
                sm.per_class[s][fs.label[j]]++;
            }
    }

    qsnn_progress prog;
    size_t done = 0;
    qsnn_progress_begin(&prog, "computing features", "samples", n + (o.augment ? ntrain : 0));
    uint64_t seed = o.dopts.seed;
    for (size_t p = 0; p < passes && rc == QSNN_OK; p++)
        rc = qsnn_data_split_features_fe(ds, QSNN_SPLIT_TRAIN, o.augment ? 1 : 0, o.augment ? seed + 1 + p : seed,
                                         o.fe, fs.f32 + (p * ntrain) * QSNN_DATA_FEATURE_SIZE, &prog, &done);
    for (int s = 1; s < QSNN_SPLIT_COUNT && rc == QSNN_OK; s++)
        rc = qsnn_data_split_features_fe(ds, (qsnn_split)s, 0, seed, o.fe,
                                         fs.f32 + sm.first[s] * QSNN_DATA_FEATURE_SIZE, &prog, &done);
    if (rc == QSNN_OK && o.augment && ntrain) {
        clean_train = malloc(ntrain * QSNN_DATA_FEATURE_SIZE * sizeof *clean_train);
        rc = clean_train ? qsnn_data_split_features_fe(ds, QSNN_SPLIT_TRAIN, 0, seed, o.fe, clean_train, &prog, &done)
                         : qsnn_fail(QSNN_ERR_NOMEM, "out of memory");
    }
    if (rc != QSNN_OK)
        goto fail;
    qsnn_progress_end(&prog, done, NULL);

    if (o.have_range) {
        fs.scale_min = o.range_min;
        fs.scale_max = o.range_max;
        sm.range_from = "given with --range";
    } else if (ntrain) {
        min_max(o.augment ? clean_train : fs.f32, ntrain * QSNN_DATA_FEATURE_SIZE, &fs.scale_min, &fs.scale_max);
        sm.range_from = "clean training features";
    } else if (n) {
        qsnn_warn("%s: no training samples: the scaling range is taken from all samples (give the model's "
                  "range with --range)", o.dir);
        min_max(fs.f32, total_values, &fs.scale_min, &fs.scale_max);
        sm.range_from = "all samples (no training data)";
    } else {
        rc = qsnn_fail(QSNN_ERR_FORMAT, "%s: no samples", o.dir);
        goto fail;
    }
    for (size_t i = 0; i < total_values; i++) {
        sm.below += fs.f32[i] < fs.scale_min;
        sm.above += fs.f32[i] > fs.scale_max;
    }
    if (o.u8) {
        fs.u8 = malloc(total_values ? total_values : 1);
        if (!fs.u8) {
            rc = qsnn_fail(QSNN_ERR_NOMEM, "out of memory");
            goto fail;
        }
        qsnn_features_to_u8(fs.u8, fs.f32, total_values, fs.scale_min, fs.scale_max);
        free(fs.f32);
        fs.f32 = NULL;
        fs.is_u8 = 1;
    }
    if ((rc = qsnn_featureset_save(&fs, o.output)) != QSNN_OK)
        goto fail;
    if (o.npy_dir && (rc = write_npy(&o, &fs, sm.first, sm.count)) != QSNN_OK)
        goto fail;
    sm.skipped = qsnn_dataset_num_skipped(ds);
    sm.seconds = qsnn_time_now() - t0;
    if (o.json) {
        if (!print_json(&o, &fs, &sm)) {
            rc = qsnn_fail(QSNN_ERR_NOMEM, "out of memory printing JSON");
            goto fail;
        }
    } else {
        print_table(&o, &fs, &sm);
    }
    if (sm.skipped)
        qsnn_warn("%s: %zu clips could not be decoded and were skipped", o.dir, sm.skipped);
    free(clean_train);
    qsnn_featureset_free(&fs);
    qsnn_dataset_free(ds);
    return QSNN_EXIT_OK;
fail:
    free(clean_train);
    qsnn_featureset_free(&fs);
    qsnn_dataset_free(ds);
    return cli_fail(CMD, rc);
}
