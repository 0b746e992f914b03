/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_eval_stream.c: `qsnn eval-stream MODEL.snn DATA`: keyword spotting on long labelled recordings, measured as
 * the field reports it (qsnn/stream_eval.h, docs/stream.md): miss rate, false accepts per hour (also on a
 * keyword-free recording), delay, real-time factor, the DET curve, and `--calibrate FA_PER_HOUR`, which writes the
 * chosen threshold and averaging span into the model's metadata block.
 */
#include "cli.h"

#include "qsnn/convert.h"
#include "qsnn/io.h"
#include "qsnn/report.h"
#include "qsnn/snn_meta.h"
#include "qsnn/stream_eval.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CMD "eval-stream"
#define MAX_SPANS 8

static void print_help(void)
{
    printf(
        "Usage: qsnn eval-stream MODEL.snn DATA [options]\n"
        "\n"
        "Keyword spotting with MODEL.snn on long recordings, scored as events. DATA is either a Speech Commands\n"
        "directory (either layout): two seeded recordings are built from its --split, a keyword recording (every\n"
        "keyword clip of the split once, every 3-4 s, unknown words or noise between them) and a keyword-free one\n"
        "(unknown words every 2-3 s, --minutes long), over the dataset's background noise at --snr-db; or an audio\n"
        "file with --labels FILE ('label,time_ms' lines, TensorFlow's streaming test format) and optionally\n"
        "--free AUDIO, a recording without keywords.\n"
        "\n"
        "A detection at time t hits a keyword whose clip starts at s when s <= t <= s + 1 s + tolerance; other\n"
        "detections there are wrong labels, all the rest false accepts. Reported: missed keywords, wrong labels,\n"
        "false accepts per hour on each recording, mean delay from the end of the keyword's clip to its detection,\n"
        "real-time factor, the spotter's cost against the engine's.\n"
        "\n"
        "Options:\n"
        "  --split S          validation (default) or test\n"
        "  --snr-db LO,HI     speech level over the noise bed, dB (default 10,20)\n"
        "  --minutes M        length of the keyword-free recording, 0.1..1440 (default 60)\n"
        "  --seed S           recordings' seed (default 1)\n"
        "  --write-wav DIR    also write the built recordings: DIR/{keywords,keyword_free}_SPLIT.wav + _labels.txt\n"
        "  --labels FILE      DATA is a recording with these labels\n"
        "  --free AUDIO       with --labels: a keyword-free recording\n"
        "  --threshold X      detector threshold (default: the model's calibrated one, else %.2f)\n"
        "  --average-ms MS    averaging span (default: the model's, else %d)\n"
        "  --suppress-ms MS   per-keyword suppression (default: the model's, else %d)\n"
        "  --hop-ms MS        window step, 10..1000 (default 100)\n"
        "  --gate-db DB|off   energy gate of qsnn stream (default -80)\n"
        "  --tolerance-ms MS  time tolerance after the keyword's clip (default 750, TensorFlow's)\n"
        "  --spans LIST       averaging spans of the sweep, ms (default 300,500,750,1000)\n"
        "  --det FILE         DET curve over the threshold range, .png or .svg (repeatable)\n"
        "  --calibrate FA     choose the threshold and span meeting FA false accepts per hour on the keyword-free\n"
        "                     recording with the fewest misses (validation split) and write them into the model\n"
        "  -o, --output FILE  with --calibrate: write the calibrated model there instead of over MODEL.snn\n"
        "  --logit-scale X    softmax scale for a model converted before the metadata block\n"
        "  --smooth N         decide by the earlier rule instead (N consecutive windows agree), for comparison\n"
        "  --json             results as one JSON object on stdout\n"
        "  -q, --quiet        no progress or notes on stderr\n"
        "  -h, --help         this help\n"
        "\n"
        "Exit status: 0 ok, 1 failure (unreadable model or data, no setting meets the budget), 2 usage error.\n",
        (double)QSNN_DETECT_DEFAULT_THRESHOLD, QSNN_DETECT_DEFAULT_AVERAGE_MS, QSNN_DETECT_DEFAULT_SUPPRESS_MS);
}

typedef struct {
    const char *model, *data, *split_name, *write_dir, *labels, *free_audio, *out;
    const char *det[4];
    int ndet, json, set_th, set_avg, set_sup, spans[MAX_SPANS], nspan, smooth;
    qsnn_split split;
    qsnn_stream_build_opts bo;
    qsnn_detect_params dp;
    double gate_db, tol_s, budget, logit_scale;
} opts;

typedef struct {
    const char *name;
    qsnn_stream_recording rec;
    qsnn_stream_windows win;
    qsnn_stream_score score;
    double detect_s;
    int present;
} recording;

static int parse_spans(const char *s, opts *o)
{
    o->nspan = 0;
    for (const char *p = s; *p && o->nspan < MAX_SPANS;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 10 || v > 20000)
            return 0;
        o->spans[o->nspan++] = (int)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return 0;
    }
    return o->nspan > 0;
}

static int parse_args(int argc, char **argv, opts *o)
{
    enum { O_SPLIT = 256, O_SNR, O_MIN, O_SEED, O_WAV, O_LAB, O_FREE, O_TH, O_AVG, O_SUP, O_HOP, O_GATE, O_TOL,
           O_SPANS, O_DET, O_CAL, O_SCALE, O_SMOOTH };
    static const struct option lo[] = {
        {"split", 1, 0, O_SPLIT},   {"snr-db", 1, 0, O_SNR},         {"minutes", 1, 0, O_MIN},
        {"seed", 1, 0, O_SEED},     {"write-wav", 1, 0, O_WAV},      {"labels", 1, 0, O_LAB},
        {"free", 1, 0, O_FREE},     {"threshold", 1, 0, O_TH},       {"average-ms", 1, 0, O_AVG},
        {"suppress-ms", 1, 0, O_SUP}, {"hop-ms", 1, 0, O_HOP},       {"gate-db", 1, 0, O_GATE},
        {"tolerance-ms", 1, 0, O_TOL}, {"spans", 1, 0, O_SPANS},     {"det", 1, 0, O_DET},
        {"calibrate", 1, 0, O_CAL}, {"logit-scale", 1, 0, O_SCALE}, {"smooth", 1, 0, O_SMOOTH},
        {0, 0, 0, 0}};
    cli_args a = {.cmd = CMD, .takes = CLI_OUTPUT, .help = print_help};
    memset(o, 0, sizeof *o);
    qsnn_stream_default_build_opts(&o->bo);
    qsnn_detect_default_params(&o->dp);
    o->split = QSNN_SPLIT_VALIDATION;
    o->gate_db = -80.0;
    o->tol_s = 0.75;
    o->budget = -1;
    parse_spans("300,500,750,1000", o);
    int c;
    long v;
    double d;
    while ((c = cli_getopt(&a, argc, argv, lo)) != -1) {
        switch (c) {
        case CLI_STOP: return a.rc ? a.rc : -1; /* -1: help printed */
        case O_SPLIT:
            if (!qsnn_split_parse(optarg, &o->split) || o->split == QSNN_SPLIT_TRAIN)
                return cli_usage_error(CMD, "--split '%s': expected validation or test", optarg);
            o->split_name = optarg;
            break;
        case O_SNR:
            if (sscanf(optarg, "%lf,%lf", &o->bo.snr_lo_db, &o->bo.snr_hi_db) != 2 ||
                !(o->bo.snr_lo_db <= o->bo.snr_hi_db && o->bo.snr_lo_db >= -20 && o->bo.snr_hi_db <= 80))
                return cli_usage_error(CMD, "--snr-db '%s': expected LO,HI with -20 <= LO <= HI <= 80", optarg);
            break;
        case O_MIN:
            if (!cli_parse_double(optarg, 0.1, 1440, &o->bo.free_minutes))
                return cli_usage_error(CMD, "--minutes '%s': expected 0.1..1440", optarg);
            break;
        case O_SEED:
            if (!cli_parse_int(optarg, 0, 2147483647L, &v))
                return cli_usage_error(CMD, "--seed '%s': expected 0..2147483647", optarg);
            o->bo.seed = (uint64_t)v;
            break;
        case O_WAV: o->write_dir = optarg; break;
        case O_LAB: o->labels = optarg; break;
        case O_FREE: o->free_audio = optarg; break;
        case O_TH:
            if (!cli_parse_double(optarg, 1e-6, 1.0, &d))
                return cli_usage_error(CMD, "--threshold '%s': expected (0, 1]", optarg);
            o->dp.threshold = (float)d;
            o->set_th = 1;
            break;
        case O_AVG:
        case O_SUP:
        case O_HOP:
            if (!cli_parse_int(optarg, c == O_SUP ? 0 : 10, c == O_HOP ? 1000 : 20000, &v))
                return cli_usage_error(CMD, "--%s '%s': out of range", c == O_AVG ? "average-ms" : c == O_SUP ?
                                       "suppress-ms" : "hop-ms", optarg);
            *(c == O_AVG ? &o->dp.average_ms : c == O_SUP ? &o->dp.suppress_ms : &o->dp.hop_ms) = (int)v;
            o->set_avg |= c == O_AVG;
            o->set_sup |= c == O_SUP;
            break;
        case O_GATE:
            if (!strcmp(optarg, "off"))
                o->gate_db = -1000;
            else if (!cli_parse_double(optarg, -200, 0, &o->gate_db))
                return cli_usage_error(CMD, "--gate-db '%s': expected -200..0 or off", optarg);
            break;
        case O_TOL:
            if (!cli_parse_int(optarg, 0, 10000, &v))
                return cli_usage_error(CMD, "--tolerance-ms '%s': expected 0..10000", optarg);
            o->tol_s = (double)v / 1000.0;
            break;
        case O_SPANS:
            if (!parse_spans(optarg, o))
                return cli_usage_error(CMD, "--spans '%s': expected up to %d spans of 10..20000 ms", optarg,
                                       MAX_SPANS);
            break;
        case O_DET:
            if (o->ndet == 4)
                return cli_usage_error(CMD, "--det: at most 4 files");
            if (strlen(optarg) < 5 || (strcmp(optarg + strlen(optarg) - 4, ".png") &&
                                       strcmp(optarg + strlen(optarg) - 4, ".svg")))
                return cli_usage_error(CMD, "--det '%s': expected a .png or .svg file", optarg);
            o->det[o->ndet++] = optarg;
            break;
        case O_CAL:
            if (!cli_parse_double(optarg, 0, 1e6, &o->budget))
                return cli_usage_error(CMD, "--calibrate '%s': expected false accepts per hour >= 0", optarg);
            break;
        case O_SCALE:
            if (!cli_parse_double(optarg, 1e-12, 1e6, &o->logit_scale))
                return cli_usage_error(CMD, "--logit-scale '%s': expected > 0", optarg);
            break;
        case O_SMOOTH:
            if (!cli_parse_int(optarg, 1, 100, &v))
                return cli_usage_error(CMD, "--smooth '%s': expected 1..100", optarg);
            o->smooth = (int)v;
            break;
        }
    }
    o->out = a.output;
    o->json = a.json;
    if (optind + 2 != argc)
        return cli_usage_error(CMD, "expected MODEL.snn and DATA");
    o->model = argv[optind];
    o->data = argv[optind + 1];
    if (o->free_audio && !o->labels)
        return cli_usage_error(CMD, "--free needs --labels (DATA is then a recording)");
    if (o->budget >= 0 && (o->split != QSNN_SPLIT_VALIDATION || o->labels))
        return cli_usage_error(CMD, "--calibrate works on the validation split's built recordings (never test)");
    if (o->smooth && (o->budget >= 0 || o->ndet || o->set_th || o->set_avg || o->set_sup))
        return cli_usage_error(CMD, "--smooth (runs of windows) has no threshold: no --calibrate, --det, --threshold, "
                                    "--average-ms or --suppress-ms");
    if (o->out && o->budget < 0)
        return cli_usage_error(CMD, "-o/--output goes with --calibrate");
    for (int i = 0; i < o->nspan; i++)
        if (o->spans[i] < o->dp.hop_ms)
            return cli_usage_error(CMD, "--spans: %d ms is shorter than the hop (%d ms)", o->spans[i], o->dp.hop_ms);
    return 0;
}

/* The recordings: built from a dataset directory, or read from files. */
static qsnn_status get_recordings(const opts *o, recording *kw, recording *fr)
{
    struct stat sb;
    if (o->labels) {
        qsnn_status st = qsnn_stream_recording_read(&kw->rec, o->data, o->labels);
        kw->present = st == QSNN_OK;
        if (st == QSNN_OK && o->free_audio) {
            st = qsnn_stream_recording_read(&fr->rec, o->free_audio, NULL);
            fr->present = st == QSNN_OK;
        }
        return st;
    }
    if (stat(o->data, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return qsnn_fail(QSNN_ERR_ARG, "%s: not a dataset directory (a recording needs --labels FILE)", o->data);
    qsnn_data_opts dopt;
    qsnn_data_default_opts(&dopt);
    dopt.unknown_pct = 10000; /* every unknown-word clip of the split */
    dopt.silence_pct = 0;
    qsnn_dataset *ds = NULL;
    qsnn_status st = qsnn_dataset_open(&ds, o->data, &dopt);
    if (st == QSNN_OK)
        st = qsnn_stream_build(&kw->rec, &fr->rec, ds, o->split, &o->bo);
    qsnn_dataset_free(ds);
    kw->present = fr->present = st == QSNN_OK;
    if (st != QSNN_OK || !o->write_dir)
        return st;
    if ((st = qsnn_mkdir_p(o->write_dir)) != QSNN_OK)
        return st;
    const char *sp = qsnn_split_name(o->split);
    char wav[4096], lab[4096];
    snprintf(wav, sizeof wav, "%s/keywords_%s.wav", o->write_dir, sp);
    snprintf(lab, sizeof lab, "%s/keywords_%s_labels.txt", o->write_dir, sp);
    st = qsnn_stream_recording_write(&kw->rec, wav, lab);
    snprintf(wav, sizeof wav, "%s/keyword_free_%s.wav", o->write_dir, sp);
    snprintf(lab, sizeof lab, "%s/keyword_free_%s_labels.txt", o->write_dir, sp);
    if (st == QSNN_OK)
        st = qsnn_stream_recording_write(&fr->rec, wav, lab);
    if (st == QSNN_OK)
        qsnn_info("wrote the recordings to %s/", o->write_dir);
    return st;
}

/* The threshold grid of the sweep: coarse, then finer toward 1 (softmax scores crowd there). */
static int threshold_grid(float *th)
{
    int n = 0;
    for (int i = 1; i <= 18; i++)
        th[n++] = (float)(0.05 * i);
    for (int i = 91; i <= 99; i++)
        th[n++] = (float)(0.01 * i);
    for (int i = 991; i <= 999; i++)
        th[n++] = (float)(0.001 * i);
    th[n++] = 0.9995f;
    th[n++] = 0.9999f;
    return n;
}

static void add_score(cJSON *o, const char *key, const qsnn_stream_score *s)
{
    cJSON *j = cJSON_AddObjectToObject(o, key);
    cJSON_AddNumberToObject(j, "hours", s->hours);
    cJSON_AddNumberToObject(j, "keywords", (double)s->keywords);
    cJSON_AddNumberToObject(j, "hits", (double)s->hits);
    cJSON_AddNumberToObject(j, "misses", (double)s->misses);
    cJSON_AddNumberToObject(j, "wrong_label", (double)s->wrong);
    cJSON_AddNumberToObject(j, "false_accepts", (double)s->false_accepts);
    cJSON_AddNumberToObject(j, "miss_rate", qsnn_stream_miss_rate(s));
    cJSON_AddNumberToObject(j, "false_accepts_per_hour", qsnn_stream_fa_per_hour(s));
    cJSON_AddNumberToObject(j, "mean_delay_s", qsnn_stream_mean_delay(s));
}

static void print_score(const char *name, const recording *r)
{
    const qsnn_stream_score *s = &r->score;
    double rt = r->win.front_s + r->win.engine_s + r->win.decide_s + r->detect_s;
    printf("%-13s %7.1f min  ", name, r->win.audio_s / 60.0);
    if (s->keywords)
        printf("%zu keywords: %zu hit, %zu missed (%.1f %%, %zu of them wrong label), ", s->keywords, s->hits,
               s->misses, 100.0 * qsnn_stream_miss_rate(s), s->wrong);
    printf("%zu false accepts (%.2f per hour)", s->false_accepts, qsnn_stream_fa_per_hour(s));
    if (s->hits)
        printf(", delay %.3f s", qsnn_stream_mean_delay(s));
    printf(", %.0fx real time\n", rt > 0 ? r->win.audio_s / rt : 0.0);
}

static qsnn_status calibrate_write(const opts *o, const qsnn_snn_model *m, const qsnn_det_point *pt)
{
    qsnn_snn_meta meta;
    qsnn_snn_meta_get(m, &meta);
    meta.flags |= QSNN_SNN_META_SCALE | QSNN_SNN_META_DETECT;
    meta.logit_scale = (float)o->logit_scale;
    meta.threshold = pt->threshold;
    meta.average_ms = (uint32_t)pt->average_ms;
    meta.suppress_ms = (uint32_t)o->dp.suppress_ms;
    meta.calib_fa_per_hour = (float)qsnn_stream_fa_per_hour(&pt->kwfree);
    meta.calib_miss_rate = (float)qsnn_stream_miss_rate(&pt->kw);
    size_t cap = qsnn_snn_meta_offset(m) + QSNN_SNN_META_SIZE, size;
    unsigned char *img = malloc(cap);
    if (!img)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s", o->model);
    qsnn_status st = qsnn_snn_meta_write(m, &meta, img, cap, &size);
    qsnn_snn_model chk;
    if (st == QSNN_OK)
        st = qsnn_snn_model_init(&chk, img, size, o->out ? o->out : o->model);
    if (st == QSNN_OK)
        st = qsnn_snn_save(o->out ? o->out : o->model, img, size);
    free(img);
    return st;
}

/* The sweep, the calibration and the plots. Fills *chosen (or -1). */
static qsnn_status sweep(const opts *o, const qsnn_snn_model *m, recording *kw, recording *fr,
                         const uint8_t *is_kw, cJSON *root, int *chosen)
{
    float th[64];
    int nth = threshold_grid(th);
    size_t np = (size_t)o->nspan * (size_t)nth;
    qsnn_det_point *pts = malloc(np * sizeof *pts);
    if (!pts)
        return qsnn_fail(QSNN_ERR_NOMEM, "DET sweep");
    qsnn_status st = qsnn_stream_det(pts, &o->dp, o->spans, o->nspan, th, nth, &kw->rec, &kw->win,
                                     fr->present ? &fr->rec : NULL, fr->present ? &fr->win : NULL, is_kw, o->tol_s);
    *chosen = st == QSNN_OK && o->budget >= 0 ? qsnn_stream_calibrate(pts, np, o->budget) : -1;
    if (st == QSNN_OK && o->budget >= 0 && *chosen < 0)
        st = qsnn_fail(QSNN_ERR_RANGE, "%s: no threshold and span meet %g false accepts per hour", o->model,
                       o->budget);
    if (st == QSNN_OK && *chosen >= 0)
        st = calibrate_write(o, m, &pts[*chosen]);
    char title[256];
    snprintf(title, sizeof title, "DET, %s split (%zu keywords, %.0f min keyword-free)",
             o->labels ? "given" : qsnn_split_name(o->split), kw->score.keywords, fr->win.audio_s / 60.0);
    for (int i = 0; i < o->ndet && st == QSNN_OK; i++)
        st = qsnn_stream_det_plot(pts, o->spans, o->nspan, nth, *chosen, o->budget, title, o->det[i]);
    if (st == QSNN_OK && root) {
        cJSON *a = cJSON_AddArrayToObject(root, "det");
        for (size_t i = 0; i < np; i++) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddNumberToObject(p, "threshold", (double)pts[i].threshold);
            cJSON_AddNumberToObject(p, "average_ms", pts[i].average_ms);
            cJSON_AddNumberToObject(p, "miss_rate", qsnn_stream_miss_rate(&pts[i].kw));
            cJSON_AddNumberToObject(p, "fa_per_hour_keywords", qsnn_stream_fa_per_hour(&pts[i].kw));
            cJSON_AddNumberToObject(p, "fa_per_hour_keyword_free", qsnn_stream_fa_per_hour(&pts[i].kwfree));
            cJSON_AddItemToArray(a, p);
        }
    } else if (st == QSNN_OK) {
        printf("\nDET (threshold: missed %% / false accepts per hour keyword-free / on the keyword recording)\n");
        for (int a = 0; a < o->nspan; a++) {
            printf("average %d ms:\n", o->spans[a]);
            for (int t = 0; t < nth; t++) {
                const qsnn_det_point *p = &pts[(size_t)a * nth + t];
                printf("  %.4f %5.1f %7.2f %7.2f%s", (double)p->threshold, 100.0 * qsnn_stream_miss_rate(&p->kw),
                       qsnn_stream_fa_per_hour(&p->kwfree), qsnn_stream_fa_per_hour(&p->kw), t % 3 == 2 ? "\n" : "");
            }
            printf("\n");
        }
    }
    if (st == QSNN_OK && *chosen >= 0) {
        const qsnn_det_point *p = &pts[*chosen];
        if (root) {
            cJSON *c = cJSON_AddObjectToObject(root, "calibrated");
            cJSON_AddNumberToObject(c, "budget_fa_per_hour", o->budget);
            cJSON_AddNumberToObject(c, "threshold", (double)p->threshold);
            cJSON_AddNumberToObject(c, "average_ms", p->average_ms);
            cJSON_AddNumberToObject(c, "suppress_ms", o->dp.suppress_ms);
            add_score(c, "keywords", &p->kw);
            add_score(c, "keyword_free", &p->kwfree);
            cJSON_AddStringToObject(c, "model", o->out ? o->out : o->model);
        } else {
            printf("calibrated for <= %g false accepts per hour: threshold %.4f, average %d ms, suppression %d ms: "
                   "%.1f %% missed, %.2f false accepts per hour keyword-free, %.2f on the keyword recording; "
                   "written to %s\n",
                   o->budget, (double)p->threshold, p->average_ms, o->dp.suppress_ms,
                   100.0 * qsnn_stream_miss_rate(&p->kw), qsnn_stream_fa_per_hour(&p->kwfree),
                   qsnn_stream_fa_per_hour(&p->kw), o->out ? o->out : o->model);
        }
    }
    free(pts);
    return st;
}

static qsnn_status evaluate(opts *o, const qsnn_snn_model *m, recording *rec, cJSON *root)
{
    uint8_t is_kw[QSNN_SNN_MAX_CLASSES];
    for (int c = 0; c < m->num_classes; c++)
        is_kw[c] = m->labels[c][0] != '_';
    qsnn_status st = get_recordings(o, &rec[0], &rec[1]);
    double engine = 0, decide = 0, windows = 0;
    for (int i = 0; i < 2 && st == QSNN_OK; i++) {
        recording *r = &rec[i];
        if (!r->present)
            continue;
        size_t nk = qsnn_stream_resolve(&r->rec, m->labels, m->num_classes);
        if (i == 0 && o->labels && nk < r->rec.nev)
            qsnn_warn("%s: %zu of %zu labels are not keywords of %s (ignored)", o->labels, r->rec.nev - nk,
                      r->rec.nev, o->model);
        st = qsnn_stream_run(&r->win, m, (float)o->logit_scale, r->rec.audio, r->rec.n, o->dp.hop_ms, o->gate_db);
        qsnn_detection *det = NULL;
        size_t nd = 0;
        if (st == QSNN_OK && o->smooth)
            st = qsnn_stream_detect_runs(m, r->rec.audio, r->rec.n, o->dp.hop_ms, o->gate_db, o->smooth, &det, &nd);
        else if (st == QSNN_OK)
            st = qsnn_stream_detect(&r->win, &o->dp, is_kw, &det, &nd, &r->detect_s);
        if (st == QSNN_OK)
            st = qsnn_stream_score_events(&r->score, &r->rec, det, nd, o->tol_s);
        free(det);
        engine += r->win.engine_s;
        decide += r->win.decide_s + r->detect_s;
        windows += (double)(r->win.nwin - r->win.gated);
    }
    if (st != QSNN_OK)
        return st;
    if (root) {
        cJSON_AddStringToObject(root, "model", o->model);
        cJSON_AddStringToObject(root, "data", o->data);
        cJSON_AddStringToObject(root, "split", o->labels ? "given" : qsnn_split_name(o->split));
        cJSON *p = cJSON_AddObjectToObject(root, "detector");
        cJSON_AddNumberToObject(p, "threshold", (double)o->dp.threshold);
        cJSON_AddNumberToObject(p, "average_ms", o->dp.average_ms);
        cJSON_AddNumberToObject(p, "suppress_ms", o->dp.suppress_ms);
        cJSON_AddNumberToObject(p, "hop_ms", o->dp.hop_ms);
        cJSON_AddNumberToObject(p, "tolerance_ms", o->tol_s * 1000.0);
        cJSON_AddNumberToObject(p, "logit_scale", o->logit_scale);
        for (int i = 0; i < 2; i++)
            if (rec[i].present) {
                add_score(root, rec[i].name, &rec[i].score);
                double t = rec[i].win.front_s + rec[i].win.engine_s + rec[i].win.decide_s + rec[i].detect_s;
                cJSON *j = cJSON_GetObjectItem(root, rec[i].name);
                cli_json_number_or_null(j, "realtime_factor", t > 0 ? rec[i].win.audio_s / t : 0.0, t > 0);
                cJSON_AddNumberToObject(j, "clip_end_after_word_s", rec[i].rec.word_end_s);
            }
        cli_json_number_or_null(root, "engine_us_per_window", windows > 0 ? 1e6 * engine / windows : 0.0, windows > 0);
        cli_json_number_or_null(root, "spotter_us_per_window", windows > 0 ? 1e6 * decide / windows : 0.0, windows > 0);
        if (o->smooth)
            cJSON_AddNumberToObject(p, "smooth", o->smooth);
    } else if (o->smooth) {
        printf("decision: runs of %d windows (the earlier rule), hop %d ms, tolerance %.0f ms\n", o->smooth,
               o->dp.hop_ms, o->tol_s * 1000.0);
        for (int i = 0; i < 2; i++)
            if (rec[i].present)
                print_score(rec[i].name, &rec[i]);
    } else {
        printf("detector: threshold %.4f, average %d ms, suppression %d ms, hop %d ms, tolerance %.0f ms\n",
               (double)o->dp.threshold, o->dp.average_ms, o->dp.suppress_ms, o->dp.hop_ms, o->tol_s * 1000.0);
        for (int i = 0; i < 2; i++)
            if (rec[i].present)
                print_score(rec[i].name, &rec[i]);
        if (rec[0].rec.word_end_s > 0)
            printf("(the words end %.3f s before their clips on average: add it for the delay from the end of "
                   "speech)\n", rec[0].rec.word_end_s);
        printf("engine %.1f us per window, spotter (softmax + detector) %.2f us per window (%.2f %%)\n",
               windows > 0 ? 1e6 * engine / windows : 0.0, windows > 0 ? 1e6 * decide / windows : 0.0,
               engine > 0 ? 100.0 * decide / engine : 0.0);
    }
    int chosen = -1;
    if (!o->smooth && (o->ndet || o->budget >= 0 || root))
        st = sweep(o, m, &rec[0], &rec[1], is_kw, root, &chosen);
    return st;
}

int cmd_eval_stream(int argc, char **argv)
{
    opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? QSNN_EXIT_OK : rc;
    qsnn_snn_model m;
    unsigned char *img = NULL;
    qsnn_status st = qsnn_snn_load(o.model, &m, &img);
    if (st != QSNN_OK)
        return cli_fail(CMD, st);
    qsnn_snn_meta meta;
    qsnn_snn_meta_get(&m, &meta);
    if (o.logit_scale <= 0 && (meta.flags & QSNN_SNN_META_SCALE))
        o.logit_scale = meta.logit_scale;
    if (o.logit_scale <= 0) {
        free(img);
        qsnn_fail(QSNN_ERR_FORMAT, "%s: no softmax scale (converted before the metadata block): convert the model "
                                   "again or give --logit-scale", o.model);
        return cli_fail(CMD, QSNN_ERR_FORMAT);
    }
    if (meta.flags & QSNN_SNN_META_DETECT) { /* calibrated defaults, unless given */
        if (!o.set_th)
            o.dp.threshold = meta.threshold;
        if (!o.set_avg)
            o.dp.average_ms = (int)meta.average_ms;
        if (!o.set_sup)
            o.dp.suppress_ms = (int)meta.suppress_ms;
    }
    if ((st = qsnn_detect_check_params(&o.dp)) != QSNN_OK) {
        free(img);
        return cli_fail(CMD, st);
    }
    recording rec[2];
    memset(rec, 0, sizeof rec);
    rec[0].name = "keywords";
    rec[1].name = "keyword_free";
    cJSON *root = o.json ? cJSON_CreateObject() : NULL;
    st = evaluate(&o, &m, rec, root);
    if (st == QSNN_OK && root) {
        char *txt = cJSON_Print(root);
        if (txt)
            printf("%s\n", txt);
        free(txt);
    }
    cJSON_Delete(root);
    for (int i = 0; i < 2; i++) {
        qsnn_stream_recording_free(&rec[i].rec);
        qsnn_stream_windows_free(&rec[i].win);
    }
    free(img);
    if (o.ndet)
        qsnn_report_release_font_caches();
    return st == QSNN_OK ? QSNN_EXIT_OK : cli_fail(CMD, st);
}
