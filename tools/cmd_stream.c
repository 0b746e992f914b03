/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_stream.c: `qsnn stream MODEL.snn AUDIO|-`: keyword spotting on audio of any length with the integer engine.
 *
 * The spotter is the library's (qsnn/kws.h: windows, incremental MFCC, energy gate, scores and decisions); this
 * file parses the options, feeds it a file or stdin, and prints.
 *
 * AUDIO "-": live input, raw 16 kHz mono signed 16-bit little-endian samples on stdin (`arecord -f S16_LE -r 16000
 * -c 1 -t raw`), processed as they arrive: the same windows as for a file holding those samples, each detection
 * printed (and flushed) when it is decided (tests/test_tutorial.c: the windows shared with a 10 ms hop, computed
 * from scratch, get the same predictions).
 *
 * Decision: the model's calibrated score detector by default (qsnn_kws_model_opts), --smooth N for runs. */
#include "cli.h"

#include "qsnn/audio.h"
#include "qsnn/detect.h"
#include "qsnn/kws.h"
#include "qsnn/snn.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "stream"

static void print_help(void)
{
    printf("Usage: qsnn stream MODEL.snn AUDIO|- [options]\n"
           "\n"
           "Spot keywords in AUDIO (any length and format libsndfile reads; resampled to 16 kHz mono) with the\n"
           "integer model MODEL.snn: a one-second window every MS milliseconds through the engine, its class scores\n"
           "(softmax of the potentials), averaged over --average-ms; a keyword is reported when its average reaches\n"
           "--threshold, then not again until it falls below and --suppress-ms have passed. The defaults are the\n"
           "model's calibrated ones (`qsnn eval-stream --calibrate`), else %.2f, %d ms, %d ms (docs/stream.md).\n"
           "--smooth N instead reports a keyword when N consecutive windows predict it (the earlier rule; also what\n"
           "a model converted before the .snn metadata block gets: it has no softmax scale).\n"
           "Audio shorter than a second is zero-padded to one window.\n"
           "\n"
           "AUDIO '-' reads live audio from stdin: raw 16 kHz mono signed 16-bit little-endian samples, e.g.\n"
           "  arecord -q -f S16_LE -r 16000 -c 1 -t raw | qsnn stream kws.snn -\n"
           "Each detection is printed as soon as it is decided (with --json one JSON object per line), then a summary\n"
           "at the end of the input.\n"
           "\n"
           "Options:\n"
           "  --threshold X     averaged score a keyword needs, (0, 1]\n"
           "  --average-ms MS   averaging span, one hop .. 200 hops\n"
           "  --suppress-ms MS  a keyword is not reported again within MS of its last detection, 0..3600000\n"
           "  --smooth N        decide by runs of N consecutive windows instead, 1..100\n"
           "  --hop-ms MS       window step in milliseconds, 10..1000 (default 100)\n"
           "  --gate-db DB      windows quieter than DB dBFS (RMS) are _silence_ without running the model, -200..0\n"
           "                    (default -80: digital silence and near-silence); 'off' runs the model on every\n"
           "                    window.\n"
           "                    Needs a _silence_ label in the model (otherwise no gate).\n"
           "  --device          compute the MFCC with the device front end (qsnn/mfcc_device.h, float32, what the\n"
           "                    firmware of examples/mcu computes): its windows, scores and detections, bit for bit\n"
           "  --all             also print every window's prediction and score\n"
           "  --json            results as JSON on stdout\n"
           "  -q, --quiet       no progress or notes on stderr\n"
           "  -h, --help        this help\n"
           "\n"
           "Output: one line per detection (where the word starts, label, score, the span it is in, when it was\n"
           "decided), then the number of windows and the speed as a multiple of real time.\n"
           "\n"
           "Exit status: 0 ok (with or without detections), 1 unreadable model or audio, 2 usage error.\n",
           (double)QSNN_DETECT_DEFAULT_THRESHOLD, QSNN_DETECT_DEFAULT_AVERAGE_MS, QSNN_DETECT_DEFAULT_SUPPRESS_MS);
}

/* What the command keeps besides the spotter: the model (labels), every window's prediction for --all, the
 * output mode, the progress of a file. */
typedef struct {
    const qsnn_snn_model *m;
    qsnn_kws_spotter *sp;
    int live, json, keep_preds, calibrated;
    int32_t *preds;
    float *pscores; /* --all: the predicted class's score per window (-1 without scores) */
    size_t pred_cap;
    qsnn_status err; /* a failure inside the callback (out of memory for --all) */
    qsnn_progress *prog;
} stream_run;

static void on_window(void *user, const qsnn_kws_window *w)
{
    stream_run *r = user;
    if (r->keep_preds && r->err == QSNN_OK) {
        if (w->index >= r->pred_cap) {
            size_t nc = r->pred_cap ? 2 * r->pred_cap : 256;
            int32_t *q = realloc(r->preds, nc * sizeof *q);
            if (q)
                r->preds = q;
            float *f = q ? realloc(r->pscores, nc * sizeof *f) : NULL;
            if (!q || !f) {
                r->err = qsnn_fail(QSNN_ERR_NOMEM, "stream: out of memory");
                return;
            }
            r->pscores = f;
            r->pred_cap = nc;
        }
        r->preds[w->index] = w->label;
        r->pscores[w->index] = w->scores ? w->scores[w->label] : -1.0f;
    }
    if (r->live && w->detection >= 0) {
        const qsnn_kws_detection *det;
        qsnn_kws_spotter_detections(r->sp, &det);
        const qsnn_kws_detection *d = &det[w->detection];
        if (r->json) { /* JSON only through cJSON */
            cJSON *jd = cJSON_CreateObject();
            cJSON_AddNumberToObject(jd, "time_s", round(d->time_s * 1000.0) / 1000.0);
            cJSON_AddStringToObject(jd, "label", r->m->labels[d->label]);
            cJSON_AddNumberToObject(jd, "score", round((double)d->score * 10000.0) / 10000.0);
            cJSON_AddNumberToObject(jd, "end_s", round(d->end_s * 1000.0) / 1000.0);
            cJSON_AddNumberToObject(jd, "detected_s", round(d->detected_s * 1000.0) / 1000.0);
            char *txt = cJSON_PrintUnformatted(jd);
            if (txt)
                printf("%s\n", txt);
            else
                r->err = qsnn_fail(QSNN_ERR_NOMEM, "stream: out of memory formatting JSON");
            free(txt);
            cJSON_Delete(jd);
        } else
            printf("%8.3f s  %-12s score %.4f  (%.3f-%.3f s, decided at %.3f s)\n", d->time_s, r->m->labels[d->label],
                   (double)d->score, d->time_s, d->end_s, d->detected_s);
        fflush(stdout);
    }
    if (r->prog && (w->index & 255) == 0)
        qsnn_progress_update(r->prog, w->index + 1, NULL);
}

/* A file, streamed a block at a time (memory stays one block and the spotter's window, for an hour as for a
 * second): windows every hop (one zero-padded window if shorter than a second). */
static qsnn_status spot_file(stream_run *r, const char *path, size_t hop, double *seconds)
{
    qsnn_audio_stream *as;
    qsnn_status st = qsnn_audio_stream_open(&as, path, NULL);
    if (st != QSNN_OK)
        return st;
    size_t n = qsnn_audio_stream_length(as), got = 0;
    size_t nwin = n <= QSNN_CLIP_SAMPLES ? 1 : 1 + (n - QSNN_CLIP_SAMPLES) / hop;
    qsnn_progress pr;
    qsnn_progress_begin(&pr, "streaming", "windows", nwin);
    r->prog = &pr;
    static float block[16384];
    while (st == QSNN_OK && r->err == QSNN_OK &&
           (st = qsnn_audio_stream_read(as, block, sizeof block / sizeof block[0], &got)) == QSNN_OK && got > 0)
        st = qsnn_kws_spotter_feed(r->sp, block, got);
    qsnn_audio_stream_close(as);
    if (st == QSNN_OK)
        st = qsnn_kws_spotter_finish(r->sp);
    r->prog = NULL;
    if (st == QSNN_OK)
        qsnn_progress_end(&pr, nwin, NULL);
    *seconds = (double)n / QSNN_SAMPLE_RATE;
    return st;
}

/* Live: raw PCM16 LE from stdin, fed as it arrives, at most a hop at a time so that a window runs as soon as its
 * last sample is in (a trailing odd byte is dropped). */
static qsnn_status spot_stdin(stream_run *r, size_t hop, double *seconds)
{
    unsigned char b[4096];
    float x[sizeof b / 2];
    size_t total = 0, chunk = hop < sizeof b / 2 ? hop : sizeof b / 2;
    qsnn_status st = QSNN_OK;
    size_t got;
    while (st == QSNN_OK && r->err == QSNN_OK && (got = fread(b, 2, chunk, stdin)) > 0) {
        for (size_t i = 0; i < got; i++)
            x[i] = (float)(int16_t)(uint16_t)(b[2 * i] | (b[2 * i + 1] << 8)) / 32768.0f;
        total += got;
        st = qsnn_kws_spotter_feed(r->sp, x, got);
    }
    if (st == QSNN_OK && ferror(stdin))
        st = qsnn_fail(QSNN_ERR_IO, "stdin: read error");
    if (st == QSNN_OK)
        st = qsnn_kws_spotter_finish(r->sp);
    *seconds = (double)total / QSNN_SAMPLE_RATE;
    return st;
}

static void print_results(const stream_run *r, const qsnn_kws_opts *ko, const char *model_path,
                          const char *audio_path, int all, double audio_s, double rt)
{
    const qsnn_snn_model *m = r->m;
    const qsnn_kws_detection *det;
    size_t ndet = qsnn_kws_spotter_detections(r->sp, &det);
    qsnn_kws_summary sum;
    qsnn_kws_spotter_summary(r->sp, &sum);
    if (r->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "model", model_path);
        cJSON_AddStringToObject(root, "audio", audio_path);
        cJSON_AddNumberToObject(root, "seconds", audio_s);
        cJSON_AddNumberToObject(root, "hop_ms", ko->hop_ms);
        cJSON_AddStringToObject(root, "frontend", ko->frontend == QSNN_KWS_FRONTEND_DEVICE ? "device" : "host");
        if (ko->decision == QSNN_KWS_RUNS) {
            cJSON_AddStringToObject(root, "decision", "runs");
            cJSON_AddNumberToObject(root, "smooth", ko->smooth);
            cJSON_AddNullToObject(root, "threshold");
            cJSON_AddNullToObject(root, "average_ms");
            cJSON_AddNullToObject(root, "suppress_ms");
            cJSON_AddBoolToObject(root, "calibrated", r->calibrated);
        } else {
            cJSON_AddStringToObject(root, "decision", "scores");
            cJSON_AddNullToObject(root, "smooth");
            cJSON_AddNumberToObject(root, "threshold", (double)ko->detect.threshold);
            cJSON_AddNumberToObject(root, "average_ms", ko->detect.average_ms);
            cJSON_AddNumberToObject(root, "suppress_ms", ko->detect.suppress_ms);
            cJSON_AddBoolToObject(root, "calibrated", r->calibrated);
        }
        cJSON_AddNumberToObject(root, "windows", (double)sum.windows);
        if (sum.gate_active)
            cJSON_AddNumberToObject(root, "gate_db", ko->gate_db);
        else
            cJSON_AddNullToObject(root, "gate_db");
        cJSON_AddNumberToObject(root, "gated_windows", (double)sum.gated_windows);
        cJSON_AddNumberToObject(root, "realtime_factor", rt);
        cJSON *arr = cJSON_AddArrayToObject(root, "detections");
        for (size_t i = 0; i < ndet; i++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddNumberToObject(d, "time_s", det[i].time_s);
            cJSON_AddStringToObject(d, "label", m->labels[det[i].label]);
            cJSON_AddNumberToObject(d, "score", (double)det[i].score);
            cJSON_AddNumberToObject(d, "end_s", det[i].end_s);
            cJSON_AddNumberToObject(d, "detected_s", det[i].detected_s);
            cli_json_number_or_null(d, "windows", det[i].windows, ko->decision == QSNN_KWS_RUNS);
            cJSON_AddItemToArray(arr, d);
        }
        if (all) {
            cJSON *wp = cJSON_AddArrayToObject(root, "window_predictions");
            cJSON *ws = cJSON_AddArrayToObject(root, "window_scores");
            for (size_t w = 0; w < sum.windows; w++) {
                cJSON_AddItemToArray(wp, cJSON_CreateString(m->labels[r->preds[w]]));
                cJSON_AddItemToArray(ws, r->pscores[w] < 0 ? cJSON_CreateNull() /* no scores: runs */
                                                           : cJSON_CreateNumber((double)r->pscores[w]));
            }
        }
        char *txt = r->live ? cJSON_PrintUnformatted(root) : cJSON_Print(root);
        if (txt)
            printf("%s\n", txt);
        free(txt);
        cJSON_Delete(root);
        return;
    }
    if (all)
        for (size_t w = 0; w < sum.windows; w++)
            printf("window %8.3f s  %-12s %.4f\n", (double)(w * sum.hop) / QSNN_SAMPLE_RATE, m->labels[r->preds[w]],
                   (double)r->pscores[w]);
    if (!r->live) /* (live: printed as they came) */
        for (size_t i = 0; i < ndet; i++) {
            printf("%8.3f s  %-12s score %.4f", det[i].time_s, m->labels[det[i].label], (double)det[i].score);
            if (ko->decision == QSNN_KWS_RUNS)
                printf("  (%d windows)\n", det[i].windows);
            else
                printf("  (%.3f-%.3f s, decided at %.3f s)\n", det[i].time_s, det[i].end_s, det[i].detected_s);
        }
    if (ko->decision == QSNN_KWS_RUNS)
        printf("decision: runs of %d windows\n", ko->smooth);
    else
        printf("decision: scores averaged over %d ms >= %.4f, suppression %d ms (%s)\n", ko->detect.average_ms,
               (double)ko->detect.threshold, ko->detect.suppress_ms,
               r->calibrated ? "the model's calibration" : "qsnn's defaults: the model is not calibrated");
    char g[64];
    if (sum.gate_active)
        snprintf(g, sizeof g, "%zu below %.0f dBFS taken as silence", sum.gated_windows, ko->gate_db);
    else
        snprintf(g, sizeof g, "no energy gate");
    printf("%zu detection%s in %.2f s of audio (%zu window%s of 1 s every %d ms, %s, %.0fx real time)\n", ndet,
           ndet == 1 ? "" : "s", audio_s, sum.windows, sum.windows == 1 ? "" : "s", ko->hop_ms, g, rt);
}

int cmd_stream(int argc, char **argv)
{
    enum { O_HOP = 256, O_SMOOTH, O_GATE, O_ALL, O_TH, O_AVG, O_SUP, O_DEVICE };
    static const struct option opts[] = {{"hop-ms", required_argument, 0, O_HOP},
                                         {"smooth", required_argument, 0, O_SMOOTH},
                                         {"threshold", required_argument, 0, O_TH},
                                         {"average-ms", required_argument, 0, O_AVG},
                                         {"suppress-ms", required_argument, 0, O_SUP},
                                         {"gate-db", required_argument, 0, O_GATE},
                                         {"device", no_argument, 0, O_DEVICE},
                                         {"all", no_argument, 0, O_ALL},
                                         {0, 0, 0, 0}};
    cli_args a = {.cmd = CMD, .help = print_help};
    int hop_ms = 100, smooth = 0, all = 0, gate = 1, c, avg = -1, sup = -1, device = 0;
    double gate_db = -80.0, th = -1;
    while ((c = cli_getopt(&a, argc, argv, opts)) != -1) {
        char *end;
        switch (c) {
        case CLI_STOP: return a.rc;
        case O_HOP:
            hop_ms = (int)strtol(optarg, &end, 10);
            if (*end || hop_ms < 10 || hop_ms > 1000)
                return cli_usage_error(CMD, "--hop-ms '%s': expected 10..1000", optarg);
            break;
        case O_SMOOTH:
            smooth = (int)strtol(optarg, &end, 10);
            if (*end || smooth < 1 || smooth > 100)
                return cli_usage_error(CMD, "--smooth '%s': expected 1..100", optarg);
            break;
        case O_GATE:
            if (!strcmp(optarg, "off")) {
                gate = 0;
                break;
            }
            gate_db = strtod(optarg, &end);
            if (*end || end == optarg || !(gate_db >= -200.0 && gate_db <= 0.0))
                return cli_usage_error(CMD, "--gate-db '%s': expected -200..0 or off", optarg);
            break;
        case O_TH:
            if (!cli_parse_double(optarg, 1e-6, 1.0, &th))
                return cli_usage_error(CMD, "--threshold '%s': expected (0, 1]", optarg);
            break;
        case O_AVG:
        case O_SUP: {
            long v;
            if (!cli_parse_int(optarg, c == O_AVG ? 10 : 0, c == O_AVG ? 200000 : 3600000, &v))
                return cli_usage_error(CMD, "--%s '%s': out of range", c == O_AVG ? "average-ms" : "suppress-ms",
                                       optarg);
            *(c == O_AVG ? &avg : &sup) = (int)v;
            break;
        }
        case O_DEVICE: device = 1; break;
        case O_ALL: all = 1; break;
        }
    }
    const int json = a.json;
    if (optind + 2 != argc)
        return cli_usage_error(CMD, "expected MODEL.snn and AUDIO");
    if (smooth && (th > 0 || avg >= 0 || sup >= 0))
        return cli_usage_error(CMD, "--smooth decides by runs: no --threshold, --average-ms or --suppress-ms");
    const char *model_path = argv[optind], *audio_path = argv[optind + 1];

    qsnn_snn_model m;
    unsigned char *img = NULL;
    qsnn_status st = qsnn_snn_load(model_path, &m, &img);
    if (st != QSNN_OK)
        return cli_fail(CMD, st);
    qsnn_kws_opts ko;
    stream_run r = {&m, NULL, !strcmp(audio_path, "-"), json, all, 0, NULL, NULL, 0, QSNN_OK, NULL};
    qsnn_kws_model_opts(&ko, &m, &r.calibrated);
    ko.hop_ms = hop_ms;
    ko.gate = gate;
    ko.gate_db = gate_db;
    ko.frontend = device ? QSNN_KWS_FRONTEND_DEVICE : QSNN_KWS_FRONTEND_HOST;
    if (smooth) {
        ko.decision = QSNN_KWS_RUNS;
        ko.smooth = smooth;
    } else if (ko.decision == QSNN_KWS_RUNS) {
        qsnn_warn("%s: no softmax scale (converted before the .snn metadata block): deciding by runs of %d windows; "
                  "convert the model again for scores", model_path, ko.smooth);
    }
    if (th > 0)
        ko.detect.threshold = (float)th;
    if (avg >= 0)
        ko.detect.average_ms = avg;
    if (sup >= 0)
        ko.detect.suppress_ms = sup;
    st = qsnn_kws_spotter_create(&r.sp, &m, &ko, on_window, &r);
    const size_t hop = (size_t)hop_ms * QSNN_SAMPLE_RATE / 1000;
    double t0 = qsnn_time_now(), audio_s = 0;
    if (st == QSNN_OK)
        st = r.live ? spot_stdin(&r, hop, &audio_s) : spot_file(&r, audio_path, hop, &audio_s);
    if (st == QSNN_OK)
        st = r.err;
    double secs = qsnn_time_now() - t0;
    if (st == QSNN_OK)
        print_results(&r, &ko, model_path, audio_path, all, audio_s, secs > 0 ? audio_s / secs : 0);
    qsnn_kws_spotter_free(r.sp);
    free(r.preds);
    free(r.pscores);
    free(img);
    return st == QSNN_OK ? QSNN_EXIT_OK : cli_fail(CMD, st);
}
