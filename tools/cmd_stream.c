/* cmd_stream.c: `qsnn stream MODEL.snn AUDIO`: keyword spotting on audio of any length with the integer engine.
 *
 * One-second windows every --hop-ms: the window's 49x10 MFCC (the training features' MFCC), scaled to uint8
 * with the model's recorded range, through the engine (cached context). A keyword (a label not starting with
 * '_') is detected when --smooth consecutive windows predict it; it is reported once, at the start of the first
 * of those windows, and not again until the run of predictions is broken.
 *
 * Energy gate: a window whose RMS level is below --gate-db dBFS is predicted `_silence_` without running the model
 * (when the model has that label). The models never see digital silence in training (the pipeline's silence is
 * background noise at a random volume, semantics.md 5), and the log-mel floor of an all-zero window is far from
 * anything they were trained on: the shipped model calls it "go". The default, -80 dBFS, is below every real
 * recording of the development data (RMS over the clip: the quietest of the 4,120 clips of
 * speech_commands_subset is -74.3 dBFS, the quietest test `_silence_` clip -66.0), so it only catches digital
 * silence and near-silence. */
#include "cli.h"

#include "qsnn/audio.h"
#include "qsnn/convert.h"
#include "qsnn/data.h"
#include "qsnn/snn.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "stream"

static void print_help(void)
{
    printf("Usage: qsnn stream MODEL.snn AUDIO [--hop-ms MS] [--smooth N] [--gate-db DB|off] [--all] [--json]\n"
           "\n"
           "Spot keywords in AUDIO (any length and format libsndfile reads; resampled to 16 kHz mono) with the\n"
           "integer model MODEL.snn: a one-second window every MS milliseconds through the engine; a keyword is\n"
           "reported when N consecutive windows predict it (at the start of the first one), once per run.\n"
           "Audio shorter than a second is zero-padded to one window.\n"
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

typedef struct {
    double t;   /* start of the first window of the run, seconds */
    int label;  /* class index */
    int length; /* windows in the run */
} detection;

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
    float *audio = NULL;
    size_t n = 0;
    if ((st = qsnn_audio_read(audio_path, &audio, &n, NULL)) != QSNN_OK) {
        free(img);
        return cli_fail(CMD, st);
    }
    qsnn_mfcc_params mp;
    qsnn_mfcc_default_params(&mp);
    qsnn_mfcc *mf = NULL;
    size_t in_n = (size_t)m.in_h * (size_t)m.in_w * (size_t)m.in_c;
    size_t ms = qsnn_snn_mem_size_cached(&m);
    void *mem = malloc(ms);
    float *win = calloc(QSNN_CLIP_SAMPLES, sizeof(float)), *feat = NULL;
    uint8_t *x = malloc(in_n);
    size_t hop = (size_t)hop_ms * QSNN_SAMPLE_RATE / 1000;
    size_t nwin = n <= QSNN_CLIP_SAMPLES ? 1 : 1 + (n - QSNN_CLIP_SAMPLES) / hop;
    detection *det = malloc(sizeof(detection) * nwin);
    int32_t *preds = malloc(sizeof(int32_t) * nwin);
    qsnn_snn_ctx *ctx = NULL;
    if (!mem || !win || !x || !det || !preds)
        st = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", audio_path);
    if (st == QSNN_OK)
        st = qsnn_mfcc_create(&mf, &mp);
    if (st == QSNN_OK) {
        int frames = qsnn_mfcc_num_frames(mf, QSNN_CLIP_SAMPLES), coeffs = qsnn_mfcc_num_coeffs(mf);
        if ((size_t)frames * (size_t)coeffs != in_n)
            st = qsnn_fail(QSNN_ERR_SHAPE, "%s: input %dx%dx%d, but a one-second MFCC is %dx%d", model_path, m.in_h,
                           m.in_w, m.in_c, frames, coeffs);
        else if (!(feat = malloc(sizeof(float) * in_n)))
            st = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", audio_path);
    }
    if (st == QSNN_OK)
        st = qsnn_snn_init(&ctx, &m, mem, ms);
    int sil = -1; /* the gate's label */
    for (int k = 0; k < m.num_classes && gate; k++)
        if (!strcmp(m.labels[k], "_silence_"))
            sil = k;
    /* mean square below which a window is gated: 10 log10(ms) < gate_db */
    double gate_ms = sil >= 0 ? pow(10.0, gate_db / 10.0) : -1.0;
    size_t ndet = 0, ngated = 0;
    double t0 = qsnn_time_now();
    qsnn_progress pr;
    if (st == QSNN_OK)
        qsnn_progress_begin(&pr, "streaming", "windows", nwin);
    int run_label = -1, run_len = 0;
    size_t run_start = 0;
    long cur = -1; /* the detection the current run produced, if any */
    for (size_t w = 0; w < nwin && st == QSNN_OK; w++) {
        size_t s0 = w * hop, len = n - s0 < QSNN_CLIP_SAMPLES ? n - s0 : QSNN_CLIP_SAMPLES;
        memcpy(win, audio + s0, len * sizeof(float));
        memset(win + len, 0, (QSNN_CLIP_SAMPLES - len) * sizeof(float));
        double e = 0;
        for (size_t i = 0; i < QSNN_CLIP_SAMPLES; i++)
            e += (double)win[i] * (double)win[i];
        int32_t pred;
        if (e / QSNN_CLIP_SAMPLES < gate_ms) {
            pred = sil;
            ngated++;
        } else {
            if ((st = qsnn_mfcc_compute(mf, feat, win, QSNN_CLIP_SAMPLES)) != QSNN_OK)
                break;
            qsnn_features_to_u8(x, feat, in_n, m.scale_min, m.scale_max);
            if ((st = qsnn_snn_run(ctx, x, NULL, &pred, NULL)) != QSNN_OK)
                break;
        }
        preds[w] = pred;
        if (pred == run_label) {
            run_len++;
        } else {
            run_label = pred;
            run_len = 1;
            run_start = w;
            cur = -1;
        }
        if (m.labels[pred][0] != '_' && run_len == smooth) {
            cur = (long)ndet;
            det[ndet++] = (detection){(double)run_start * (double)hop / QSNN_SAMPLE_RATE, pred, 0};
        }
        if (cur >= 0)
            det[cur].length = run_len;
        if ((w & 255) == 0)
            qsnn_progress_update(&pr, w + 1, NULL);
    }
    double secs = qsnn_time_now() - t0;
    if (st == QSNN_OK) {
        qsnn_progress_end(&pr, nwin, NULL);
        double audio_s = (double)n / QSNN_SAMPLE_RATE, rt = secs > 0 ? audio_s / secs : 0;
        if (json) {
            cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "detections");
            cJSON_AddStringToObject(root, "model", model_path);
            cJSON_AddStringToObject(root, "audio", audio_path);
            cJSON_AddNumberToObject(root, "seconds", audio_s);
            cJSON_AddNumberToObject(root, "hop_ms", hop_ms);
            cJSON_AddNumberToObject(root, "smooth", smooth);
            cJSON_AddNumberToObject(root, "windows", (double)nwin);
            if (sil >= 0)
                cJSON_AddNumberToObject(root, "gate_db", gate_db);
            else
                cJSON_AddNullToObject(root, "gate_db");
            cJSON_AddNumberToObject(root, "gated_windows", (double)ngated);
            cJSON_AddNumberToObject(root, "realtime_factor", rt);
            for (size_t i = 0; i < ndet; i++) {
                cJSON *d = cJSON_CreateObject();
                cJSON_AddNumberToObject(d, "time_s", det[i].t);
                cJSON_AddStringToObject(d, "label", m.labels[det[i].label]);
                cJSON_AddNumberToObject(d, "windows", det[i].length);
                cJSON_AddItemToArray(arr, d);
            }
            if (all) {
                cJSON *wp = cJSON_AddArrayToObject(root, "window_predictions");
                for (size_t w = 0; w < nwin; w++)
                    cJSON_AddItemToArray(wp, cJSON_CreateString(m.labels[preds[w]]));
            }
            char *txt = cJSON_Print(root);
            if (txt)
                printf("%s\n", txt);
            free(txt);
            cJSON_Delete(root);
        } else {
            if (all)
                for (size_t w = 0; w < nwin; w++)
                    printf("window %8.3f s  %s\n", (double)(w * hop) / QSNN_SAMPLE_RATE, m.labels[preds[w]]);
            for (size_t i = 0; i < ndet; i++)
                printf("%8.3f s  %-12s (%d windows)\n", det[i].t, m.labels[det[i].label], det[i].length);
            char g[64];
            if (sil >= 0)
                snprintf(g, sizeof g, "%zu below %.0f dBFS taken as silence", ngated, gate_db);
            else
                snprintf(g, sizeof g, "no energy gate");
            printf("%zu detection%s in %.2f s of audio (%zu windows of 1 s every %d ms, %s, %.0fx real time)\n", ndet,
                   ndet == 1 ? "" : "s", audio_s, nwin, hop_ms, g, rt);
        }
    }
    qsnn_mfcc_destroy(mf);
    free(feat);
    free(preds);
    free(det);
    free(x);
    free(win);
    free(mem);
    free(audio);
    free(img);
    return st == QSNN_OK ? QSNN_EXIT_OK : cli_fail(CMD, st);
}
