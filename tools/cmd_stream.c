/* cmd_stream.c: `qsnn stream MODEL.snn AUDIO|-`: keyword spotting on audio of any length with the integer engine.
 *
 * The spotter is the library's (qsnn/kws.h: windows, incremental MFCC, energy gate, runs of predictions); this
 * file parses the options, feeds it a file or stdin, and prints.
 *
 * AUDIO "-": live input, raw 16 kHz mono signed 16-bit little-endian samples on stdin (`arecord -f S16_LE -r 16000
 * -c 1 -t raw`), processed as they arrive: the same windows as for a file holding those samples, each detection
 * printed (and flushed) when its run reaches --smooth windows (tests/test_tutorial.c: the windows shared with a
 * 10 ms hop, computed from scratch, get the same predictions). */
#include "cli.h"

#include "qsnn/audio.h"
#include "qsnn/kws.h"
#include "qsnn/snn.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "stream"

static void print_help(void)
{
    printf("Usage: qsnn stream MODEL.snn AUDIO|- [--hop-ms MS] [--smooth N] [--gate-db DB|off] [--all] [--json]\n"
           "\n"
           "Spot keywords in AUDIO (any length and format libsndfile reads; resampled to 16 kHz mono) with the\n"
           "integer model MODEL.snn: a one-second window every MS milliseconds through the engine; a keyword is\n"
           "reported when N consecutive windows predict it (at the start of the first one), once per run.\n"
           "Audio shorter than a second is zero-padded to one window.\n"
           "\n"
           "AUDIO '-' reads live audio from stdin: raw 16 kHz mono signed 16-bit little-endian samples, e.g.\n"
           "  arecord -q -f S16_LE -r 16000 -c 1 -t raw | qsnn stream kws.snn -\n"
           "Each detection is printed as soon as its run reaches N windows (time and label; with --json one JSON\n"
           "object per line), then a summary at the end of the input.\n"
           "\n"
           "Options:\n"
           "  --hop-ms MS   window step in milliseconds, 10..1000 (default 100)\n"
           "  --smooth N    consecutive windows needed for a detection, 1..100 (default 3)\n"
           "  --gate-db DB  windows quieter than DB dBFS (RMS) are _silence_ without running the model, -200..0\n"
           "                (default -80: digital silence and near-silence); 'off' runs the model on every window.\n"
           "                Needs a _silence_ label in the model (otherwise no gate).\n"
           "  --all         also print every window's prediction\n"
           "  --json        results as JSON on stdout\n"
           "  -h, --help    this help\n"
           "\n"
           "Output: one line per detection (time in seconds, label, windows in the run), then the number of windows\n"
           "and the speed as a multiple of real time.\n"
           "\n"
           "Exit status: 0 ok (with or without detections), 1 unreadable model or audio, 2 usage error.\n");
}

/* What the command keeps besides the spotter: the model (labels), every window's prediction for --all, the
 * output mode, the progress of a file. */
typedef struct {
    const qsnn_snn_model *m;
    qsnn_kws_spotter *sp;
    int live, json, keep_preds;
    int32_t *preds;
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
            if (!q) {
                r->err = qsnn_fail(QSNN_ERR_NOMEM, "stream: out of memory");
                return;
            }
            r->preds = q;
            r->pred_cap = nc;
        }
        r->preds[w->index] = w->label;
    }
    if (r->live && w->detection >= 0) {
        const qsnn_kws_detection *det;
        qsnn_kws_spotter_detections(r->sp, &det);
        const qsnn_kws_detection *d = &det[w->detection];
        if (r->json)
            printf("{\"time_s\": %.3f, \"label\": \"%s\"}\n", d->time_s, r->m->labels[d->label]);
        else
            printf("%8.3f s  %s\n", d->time_s, r->m->labels[d->label]);
        fflush(stdout);
    }
    if (r->prog && (w->index & 255) == 0)
        qsnn_progress_update(r->prog, w->index + 1, NULL);
}

/* A file: the whole audio, windows every hop (one zero-padded window if shorter than a second). */
static qsnn_status spot_file(stream_run *r, const char *path, size_t hop, double *seconds)
{
    float *audio = NULL;
    size_t n = 0;
    qsnn_status st = qsnn_audio_read(path, &audio, &n, NULL);
    if (st != QSNN_OK)
        return st;
    size_t nwin = n <= QSNN_CLIP_SAMPLES ? 1 : 1 + (n - QSNN_CLIP_SAMPLES) / hop;
    qsnn_progress pr;
    qsnn_progress_begin(&pr, "streaming", "windows", nwin);
    r->prog = &pr;
    st = qsnn_kws_spotter_feed(r->sp, audio, n);
    if (st == QSNN_OK)
        st = qsnn_kws_spotter_finish(r->sp);
    r->prog = NULL;
    if (st == QSNN_OK)
        qsnn_progress_end(&pr, nwin, NULL);
    *seconds = (double)n / QSNN_SAMPLE_RATE;
    free(audio);
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
        cJSON_AddNumberToObject(root, "smooth", ko->smooth);
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
            cJSON_AddNumberToObject(d, "windows", det[i].windows);
            cJSON_AddItemToArray(arr, d);
        }
        if (all) {
            cJSON *wp = cJSON_AddArrayToObject(root, "window_predictions");
            for (size_t w = 0; w < sum.windows; w++)
                cJSON_AddItemToArray(wp, cJSON_CreateString(m->labels[r->preds[w]]));
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
            printf("window %8.3f s  %s\n", (double)(w * sum.hop) / QSNN_SAMPLE_RATE, m->labels[r->preds[w]]);
    if (!r->live) /* (live: printed as they came) */
        for (size_t i = 0; i < ndet; i++)
            printf("%8.3f s  %-12s (%d windows)\n", det[i].time_s, m->labels[det[i].label], det[i].windows);
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
    enum { O_HOP = 256, O_SMOOTH, O_GATE, O_ALL, O_JSON };
    static const struct option opts[] = {{"hop-ms", required_argument, 0, O_HOP},
                                         {"smooth", required_argument, 0, O_SMOOTH},
                                         {"gate-db", required_argument, 0, O_GATE},
                                         {"all", no_argument, 0, O_ALL},
                                         {"json", no_argument, 0, O_JSON},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int hop_ms = 100, smooth = 3, all = 0, json = 0, gate = 1, c;
    double gate_db = -80.0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
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
        case O_ALL: all = 1; break;
        case O_JSON: json = 1; break;
        case 'h': print_help(); return QSNN_EXIT_OK;
        default: return cli_usage_error(CMD, "unknown option");
        }
    }
    if (optind + 2 != argc)
        return cli_usage_error(CMD, "expected MODEL.snn and AUDIO");
    const char *model_path = argv[optind], *audio_path = argv[optind + 1];

    qsnn_snn_model m;
    unsigned char *img = NULL;
    qsnn_status st = qsnn_snn_load(model_path, &m, &img);
    if (st != QSNN_OK)
        return cli_fail(CMD, st);
    qsnn_kws_opts ko = {hop_ms, smooth, gate, gate_db};
    stream_run r = {&m, NULL, !strcmp(audio_path, "-"), json, all, NULL, 0, QSNN_OK, NULL};
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
    free(img);
    return st == QSNN_OK ? QSNN_EXIT_OK : cli_fail(CMD, st);
}
