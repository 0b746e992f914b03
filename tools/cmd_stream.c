/* cmd_stream.c: `qsnn stream MODEL.snn AUDIO|-`: keyword spotting on audio of any length with the integer engine.
 *
 * One-second windows every --hop-ms: the window's 49x10 MFCC (the training features' MFCC), scaled to uint8
 * with the model's recorded range, through the engine (cached context). A keyword (a label not starting with
 * '_') is detected when --smooth consecutive windows predict it; it is reported once, at the start of the first
 * of those windows, and not again until the run of predictions is broken.
 *
 * Energy gate: a window whose RMS level is below --gate-db dBFS is predicted `_silence_` without running the model
 * (when the model has that label). The models never see digital silence in training (the pipeline's silence is
 * background noise at a random volume, docs/design.md s2.5), and the log-mel floor of an all-zero window is far from
 * anything they were trained on: the shipped model calls it "go". The default, -80 dBFS, is below every real
 * recording of the development data (RMS over the clip: the quietest of the 4,120 clips of
 * speech_commands_subset is -74.3 dBFS, the quietest test `_silence_` clip -66.0), so it only catches digital
 * silence and near-silence.
 *
 * AUDIO "-": live input, raw 16 kHz mono signed 16-bit little-endian samples on stdin (`arecord -f S16_LE -r 16000
 * -c 1 -t raw`), processed as they arrive: the same windows as for a file holding those samples (a window every
 * hop once a second is buffered; at end of input no partial window), each detection printed (and flushed) when its
 * run reaches --smooth windows.
 *
 * Incremental MFCC: when the hop is a whole number of MFCC strides (20 ms; the default 100 ms is 5), a window keeps
 * the previous window's frames that it shares (every frame depends only on its own 640 samples: the same numbers)
 * and computes only the new ones, 5 instead of 49 at the default hop (tests/test_tutorial.c: the windows shared
 * with a 10 ms hop, computed from scratch, get the same predictions). */
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

typedef struct {
    double t;   /* start of the first window of the run, seconds */
    int label;  /* class index */
    int length; /* windows in the run */
} detection;

/* The per-window state: features, engine, energy gate, runs of predictions, detections so far. */
typedef struct {
    const qsnn_snn_model *m;
    qsnn_snn_ctx *ctx;
    qsnn_mfcc *mf;
    float *feat; /* the last window's MFCC (frame-major), kept for the next window */
    uint8_t *x;
    size_t in_n, hop;
    int frames, coeffs, stride, window; /* MFCC geometry of one window */
    int shift;                          /* frames per hop when hop is a whole number of strides, else 0 */
    int have_prev;                      /* feat holds the window one hop before the next one */
    int smooth, sil, live, json, keep_preds;
    double gate_ms, gate_db;
    int run_label, run_len;
    size_t run_start;
    long cur; /* the detection the current run produced, if any */
    detection *det;
    size_t ndet, det_cap;
    int32_t *preds;
    size_t nwin, pred_cap, ngated;
} spotter;

static qsnn_status grow(void **p, size_t *cap, size_t need, size_t elem, const char *what)
{
    if (need <= *cap)
        return QSNN_OK;
    size_t nc = *cap ? 2 * *cap : 256;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", what);
    *p = q;
    *cap = nc;
    return QSNN_OK;
}

/* One window of QSNN_CLIP_SAMPLES samples (window index s->nwin): predict, follow the run, detect. */
static qsnn_status spot_window(spotter *s, const float *win, const char *what)
{
    const qsnn_snn_model *m = s->m;
    double e = 0;
    for (size_t i = 0; i < QSNN_CLIP_SAMPLES; i++)
        e += (double)win[i] * (double)win[i];
    int32_t pred;
    qsnn_status st;
    if (e / QSNN_CLIP_SAMPLES < s->gate_ms) {
        pred = s->sil;
        s->ngated++;
        s->have_prev = 0;
    } else {
        if (s->have_prev && s->shift) {
            /* incremental: the window moved by shift whole frames; every frame depends on its own samples only,
             * so the kept frames are the same numbers: slide them and compute the new ones */
            int keep = s->frames - s->shift;
            memmove(s->feat, s->feat + (size_t)s->shift * (size_t)s->coeffs,
                    sizeof(float) * (size_t)keep * (size_t)s->coeffs);
            st = qsnn_mfcc_compute(s->mf, s->feat + (size_t)keep * (size_t)s->coeffs, win + (size_t)keep * s->stride,
                                   (size_t)s->window + (size_t)(s->shift - 1) * (size_t)s->stride);
        } else {
            st = qsnn_mfcc_compute(s->mf, s->feat, win, QSNN_CLIP_SAMPLES);
        }
        if (st != QSNN_OK)
            return st;
        s->have_prev = 1;
        qsnn_features_to_u8(s->x, s->feat, s->in_n, m->scale_min, m->scale_max);
        if ((st = qsnn_snn_run(s->ctx, s->x, NULL, &pred, NULL)) != QSNN_OK)
            return st;
    }
    size_t w = s->nwin++;
    if (s->keep_preds) {
        if ((st = grow((void **)&s->preds, &s->pred_cap, s->nwin, sizeof(int32_t), what)) != QSNN_OK)
            return st;
        s->preds[w] = pred;
    }
    if (pred == s->run_label) {
        s->run_len++;
    } else {
        s->run_label = pred;
        s->run_len = 1;
        s->run_start = w;
        s->cur = -1;
    }
    if (m->labels[pred][0] != '_' && s->run_len == s->smooth) {
        if ((st = grow((void **)&s->det, &s->det_cap, s->ndet + 1, sizeof(detection), what)) != QSNN_OK)
            return st;
        s->cur = (long)s->ndet;
        detection d = {(double)s->run_start * (double)s->hop / QSNN_SAMPLE_RATE, pred, 0};
        s->det[s->ndet++] = d;
        if (s->live) {
            if (s->json)
                printf("{\"time_s\": %.3f, \"label\": \"%s\"}\n", d.t, m->labels[pred]);
            else
                printf("%8.3f s  %s\n", d.t, m->labels[pred]);
            fflush(stdout);
        }
    }
    if (s->cur >= 0)
        s->det[s->cur].length = s->run_len;
    return QSNN_OK;
}

/* A file: the whole audio, windows every hop (one zero-padded window if shorter than a second). */
static qsnn_status spot_file(spotter *s, const char *path, float *win, double *seconds)
{
    float *audio = NULL;
    size_t n = 0;
    qsnn_status st = qsnn_audio_read(path, &audio, &n, NULL);
    if (st != QSNN_OK)
        return st;
    size_t nwin = n <= QSNN_CLIP_SAMPLES ? 1 : 1 + (n - QSNN_CLIP_SAMPLES) / s->hop;
    qsnn_progress pr;
    qsnn_progress_begin(&pr, "streaming", "windows", nwin);
    for (size_t w = 0; w < nwin && st == QSNN_OK; w++) {
        size_t s0 = w * s->hop, len = n - s0 < QSNN_CLIP_SAMPLES ? n - s0 : QSNN_CLIP_SAMPLES;
        memcpy(win, audio + s0, len * sizeof(float));
        memset(win + len, 0, (QSNN_CLIP_SAMPLES - len) * sizeof(float));
        st = spot_window(s, win, path);
        if ((w & 255) == 0)
            qsnn_progress_update(&pr, w + 1, NULL);
    }
    if (st == QSNN_OK)
        qsnn_progress_end(&pr, nwin, NULL);
    *seconds = (double)n / QSNN_SAMPLE_RATE;
    free(audio);
    return st;
}

/* Up to want samples of raw PCM16 LE from f into x (as float, / 32768); returns how many were read (a trailing odd
 * byte is dropped). */
static size_t read_pcm16(FILE *f, float *x, size_t want)
{
    unsigned char b[4096];
    size_t got = 0;
    while (got < want) {
        size_t k = want - got < sizeof b / 2 ? want - got : sizeof b / 2;
        size_t r = fread(b, 2, k, f);
        for (size_t i = 0; i < r; i++)
            x[got + i] = (float)(int16_t)(uint16_t)(b[2 * i] | (b[2 * i + 1] << 8)) / 32768.0f;
        got += r;
        if (r < k)
            break;
    }
    return got;
}

/* Live: stdin, the same windows as a file of those samples would give. */
static qsnn_status spot_stdin(spotter *s, float *win, double *seconds)
{
    size_t n = read_pcm16(stdin, win, QSNN_CLIP_SAMPLES), total = n;
    if (ferror(stdin))
        return qsnn_fail(QSNN_ERR_IO, "stdin: read error");
    if (n < QSNN_CLIP_SAMPLES)
        memset(win + n, 0, (QSNN_CLIP_SAMPLES - n) * sizeof(float));
    qsnn_status st = spot_window(s, win, "stdin");
    while (st == QSNN_OK && n == QSNN_CLIP_SAMPLES) {
        memmove(win, win + s->hop, (QSNN_CLIP_SAMPLES - s->hop) * sizeof(float));
        size_t r = read_pcm16(stdin, win + QSNN_CLIP_SAMPLES - s->hop, s->hop);
        total += r;
        if (r < s->hop)
            break;
        st = spot_window(s, win, "stdin");
    }
    if (st == QSNN_OK && ferror(stdin))
        st = qsnn_fail(QSNN_ERR_IO, "stdin: read error");
    *seconds = (double)total / QSNN_SAMPLE_RATE;
    return st;
}

static void print_results(const spotter *s, const char *model_path, const char *audio_path, int hop_ms, int all,
                          double audio_s, double rt)
{
    const qsnn_snn_model *m = s->m;
    if (s->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "model", model_path);
        cJSON_AddStringToObject(root, "audio", audio_path);
        cJSON_AddNumberToObject(root, "seconds", audio_s);
        cJSON_AddNumberToObject(root, "hop_ms", hop_ms);
        cJSON_AddNumberToObject(root, "smooth", s->smooth);
        cJSON_AddNumberToObject(root, "windows", (double)s->nwin);
        if (s->sil >= 0)
            cJSON_AddNumberToObject(root, "gate_db", s->gate_db);
        else
            cJSON_AddNullToObject(root, "gate_db");
        cJSON_AddNumberToObject(root, "gated_windows", (double)s->ngated);
        cJSON_AddNumberToObject(root, "realtime_factor", rt);
        cJSON *arr = cJSON_AddArrayToObject(root, "detections");
        for (size_t i = 0; i < s->ndet; i++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddNumberToObject(d, "time_s", s->det[i].t);
            cJSON_AddStringToObject(d, "label", m->labels[s->det[i].label]);
            cJSON_AddNumberToObject(d, "windows", s->det[i].length);
            cJSON_AddItemToArray(arr, d);
        }
        if (all) {
            cJSON *wp = cJSON_AddArrayToObject(root, "window_predictions");
            for (size_t w = 0; w < s->nwin; w++)
                cJSON_AddItemToArray(wp, cJSON_CreateString(m->labels[s->preds[w]]));
        }
        char *txt = s->live ? cJSON_PrintUnformatted(root) : cJSON_Print(root);
        if (txt)
            printf("%s\n", txt);
        free(txt);
        cJSON_Delete(root);
        return;
    }
    if (all)
        for (size_t w = 0; w < s->nwin; w++)
            printf("window %8.3f s  %s\n", (double)(w * s->hop) / QSNN_SAMPLE_RATE, m->labels[s->preds[w]]);
    if (!s->live) /* (live: printed as they came) */
        for (size_t i = 0; i < s->ndet; i++)
            printf("%8.3f s  %-12s (%d windows)\n", s->det[i].t, m->labels[s->det[i].label], s->det[i].length);
    char g[64];
    if (s->sil >= 0)
        snprintf(g, sizeof g, "%zu below %.0f dBFS taken as silence", s->ngated, s->gate_db);
    else
        snprintf(g, sizeof g, "no energy gate");
    printf("%zu detection%s in %.2f s of audio (%zu window%s of 1 s every %d ms, %s, %.0fx real time)\n", s->ndet,
           s->ndet == 1 ? "" : "s", audio_s, s->nwin, s->nwin == 1 ? "" : "s", hop_ms, g, rt);
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
    spotter s;
    memset(&s, 0, sizeof s);
    s.m = &m;
    s.in_n = (size_t)m.in_h * (size_t)m.in_w * (size_t)m.in_c;
    s.hop = (size_t)hop_ms * QSNN_SAMPLE_RATE / 1000;
    s.smooth = smooth;
    s.live = !strcmp(audio_path, "-");
    s.json = json;
    s.keep_preds = all;
    s.run_label = -1;
    s.cur = -1;
    s.gate_db = gate_db;
    s.sil = -1; /* the gate's label */
    for (int k = 0; k < m.num_classes && gate; k++)
        if (!strcmp(m.labels[k], "_silence_"))
            s.sil = k;
    /* mean square below which a window is gated: 10 log10(ms) < gate_db */
    s.gate_ms = s.sil >= 0 ? pow(10.0, gate_db / 10.0) : -1.0;
    qsnn_mfcc_params mp;
    qsnn_mfcc_default_params(&mp);
    size_t ms = qsnn_snn_mem_size_cached(&m);
    void *mem = malloc(ms);
    float *win = calloc(QSNN_CLIP_SAMPLES, sizeof(float));
    s.x = malloc(s.in_n);
    s.feat = malloc(sizeof(float) * s.in_n);
    if (!mem || !win || !s.x || !s.feat)
        st = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", audio_path);
    if (st == QSNN_OK)
        st = qsnn_mfcc_create(&s.mf, &mp);
    if (st == QSNN_OK && (size_t)qsnn_mfcc_num_frames(s.mf, QSNN_CLIP_SAMPLES) *
                                 (size_t)qsnn_mfcc_num_coeffs(s.mf) != s.in_n)
        st = qsnn_fail(QSNN_ERR_SHAPE, "%s: input %dx%dx%d, but a one-second MFCC is %dx%d", model_path, m.in_h,
                       m.in_w, m.in_c, qsnn_mfcc_num_frames(s.mf, QSNN_CLIP_SAMPLES), qsnn_mfcc_num_coeffs(s.mf));
    if (st == QSNN_OK)
        st = qsnn_snn_init(&s.ctx, &m, mem, ms);
    s.frames = s.mf ? qsnn_mfcc_num_frames(s.mf, QSNN_CLIP_SAMPLES) : 0;
    s.coeffs = s.mf ? qsnn_mfcc_num_coeffs(s.mf) : 0;
    s.stride = mp.stride;
    s.window = mp.window;
    if (s.hop % (size_t)mp.stride == 0 && s.hop / (size_t)mp.stride < (size_t)s.frames)
        s.shift = (int)(s.hop / (size_t)mp.stride);
    double t0 = qsnn_time_now(), audio_s = 0;
    if (st == QSNN_OK)
        st = s.live ? spot_stdin(&s, win, &audio_s) : spot_file(&s, audio_path, win, &audio_s);
    double secs = qsnn_time_now() - t0;
    if (st == QSNN_OK)
        print_results(&s, model_path, audio_path, hop_ms, all, audio_s, secs > 0 ? audio_s / secs : 0);
    qsnn_mfcc_destroy(s.mf);
    free(s.feat);
    free(s.preds);
    free(s.det);
    free(s.x);
    free(win);
    free(mem);
    free(img);
    return st == QSNN_OK ? QSNN_EXIT_OK : cli_fail(CMD, st);
}
