/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_mfcc.c: `qsnn mfcc FILE`: the MFCC features of one audio file, exactly as the training pipeline computes them.
 *
 * Decoding, crop/pad and features go through the library (qsnn_audio_read, qsnn_mfcc_*), so what this prints is
 * what `qsnn features` and training see. Text output is one frame per line, %.9g (round-trips float32 exactly).
 */
#include "cli.h"

#include "qsnn/audio.h"
#include "qsnn/frontend.h"
#include "qsnn/io.h"
#include "qsnn/mfcc_device.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_help(void)
{
    printf(
        "Usage: qsnn mfcc [options] FILE\n"
        "\n"
        "Print the MFCC features of one audio file (WAV, FLAC, OGG... anything libsndfile reads): by default\n"
        "49 lines of 10 numbers for a one-second 16 kHz clip, one line per 20 ms frame, printed with %%.9g so the\n"
        "float32 values are exact.\n"
        "\n"
        "It matches TensorFlow's speech_commands front end (input_data.py, preprocess='mfcc') op for op:\n"
        "  DecodeWav(desired_channels=1, desired_samples=16000)   PCM16 / 32768, cropped or zero-padded\n"
        "  AudioSpectrogram(window_size=640, stride=320, magnitude_squared=True)\n"
        "                                                        periodic Hann, FFT 1024, |X|^2\n"
        "  Mfcc(sample_rate=16000, lower_frequency_limit=20, upper_frequency_limit=4000,\n"
        "       filterbank_channel_count=40, dct_coefficient_count=10)\n"
        "                                                        mel triangles on |X|, ln(max(x, 1e-12)),\n"
        "                                                        DCT-II * sqrt(2/40)\n"
        "i.e. tf.raw_ops.AudioSpectrogram + tf.raw_ops.Mfcc (tensorflow/core/kernels/spectrogram.cc, mfcc.cc,\n"
        "mfcc_mel_filterbank.cc, mfcc_dct.cc), with the 40 ms / 20 ms framing of Hello Edge / ML-KWS-for-MCU and the\n"
        "Akida KWS tutorial. It is NOT tf.signal.mfccs_from_log_mel_spectrograms (different mel weights, log and DCT).\n"
        "Agreement with a float64 reference of those ops: within 4e-5 on every coefficient (tests/test_mfcc.c).\n"
        "\n"
        "Beyond DecodeWav (16-bit PCM WAV only): other formats are converted (8/24/32-bit, float; FLAC, OGG),\n"
        "channels are averaged (DecodeWav would keep the first one; Speech Commands is mono), and other rates are\n"
        "resampled to 16 kHz (libsamplerate, with a notice on stderr).\n"
        "\n"
        "With --frontend tf-signal it prints instead the MFCC of tf.signal as the MLPerf Tiny KWS scripts compute\n"
        "it (samples divided by their signed peak, 30 ms Hann frames every 20 ms, 512-point FFT, magnitude, the mel\n"
        "matrix of linear_to_mel_weight_matrix, ln(x + 1e-6), DCT-II * sqrt(2/40); docs/frontends.md).\n"
        "\n"
        "Options:\n"
        "  --frontend NAME    tf-audio-ops (default, the above) or tf-signal; the options below change either\n"
        "  --fft-size N       tf-signal: FFT length, a power of two >= the window (default 512)\n"
        "  --no-peak-normalize  tf-signal: use the samples as they are\n"
        "  --npy OUT          save the features as a float32 .npy of shape [frames, coeffs] instead of printing\n"
        "  --json             print {file, orig_rate, samples, frames, coeffs, params, features: [[...], ...]}\n"
        "  --no-crop          use the whole file (all frames) instead of cropping/padding to one second\n"
        "  --window N         samples per frame (default 640 = 40 ms; tf-signal 480 = 30 ms)\n"
        "  --stride N         samples between frames (default 320 = 20 ms)\n"
        "  --channels N       mel filterbank channels (default 40)\n"
        "  --coeffs N         DCT coefficients kept (default 10; TF's op default is 13)\n"
        "  --lower-hz F       lowest filterbank frequency (default 20)\n"
        "  --upper-hz F       highest filterbank frequency (default 4000, at most 8000)\n"
        "  --device           compute with the device MFCC (qsnn/mfcc_device.h, libc-only, float32: the bits a\n"
        "                     microcontroller computes, examples/mcu) instead of KissFFT + double; default\n"
        "                     parameters only\n"
        "  -q, --quiet        no notices on stderr\n"
        "  -h, --help         this help\n"
        "\n"
        "Examples:\n"
        "  qsnn mfcc yes.wav\n"
        "  qsnn mfcc --npy yes_mfcc.npy yes.wav     # np.load('yes_mfcc.npy').shape == (49, 10)\n"
        "  qsnn mfcc --json --coeffs 13 yes.wav\n"
        "\n"
        "Exit status: 0 ok, 1 the file could not be read (the message says why), 2 usage error.\n");
}

static int print_json(const char *file, int orig_rate, size_t n, const qsnn_mfcc_params *p, int crop,
                      const float *f, int frames, int coeffs)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return 0;
    cJSON_AddStringToObject(root, "file", file);
    cJSON_AddNumberToObject(root, "orig_rate", orig_rate);
    cJSON_AddNumberToObject(root, "samples", (double)n);
    cJSON_AddNumberToObject(root, "frames", frames);
    cJSON_AddNumberToObject(root, "coeffs", coeffs);
    cJSON *jp = cJSON_AddObjectToObject(root, "params");
    if (jp) {
        cJSON_AddNumberToObject(jp, "sample_rate", p->sample_rate);
        cJSON_AddNumberToObject(jp, "window", p->window);
        cJSON_AddNumberToObject(jp, "stride", p->stride);
        cJSON_AddNumberToObject(jp, "channels", p->num_channels);
        cJSON_AddNumberToObject(jp, "coeffs", p->num_coeffs);
        cJSON_AddNumberToObject(jp, "lower_hz", p->lower_hz);
        cJSON_AddNumberToObject(jp, "upper_hz", p->upper_hz);
        cJSON_AddBoolToObject(jp, "crop", crop);
    }
    cJSON *rows = cJSON_AddArrayToObject(root, "features");
    for (int t = 0; rows && t < frames; t++) {
        cJSON *row = cJSON_CreateArray();
        if (!row)
            break;
        for (int k = 0; k < coeffs; k++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)f[(size_t)t * (size_t)coeffs + (size_t)k]));
        cJSON_AddItemToArray(rows, row);
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s)
        return 0;
    puts(s);
    cJSON_free(s);
    return 1;
}

/* --frontend tf-signal: the qsnn_frontend object, with the options given (a whole-file clip with --no-crop) */
static int cmd_mfcc_frontend(const char *file, const qsnn_mfcc_params *mp, int window_set, int fft, int peak,
                             int crop, const char *npy, int json)
{
    qsnn_frontend_params fp;
    qsnn_frontend_defaults(&fp, QSNN_FRONTEND_TF_SIGNAL);
    if (window_set)
        fp.window = mp->window;
    fp.stride = mp->stride;
    fp.num_bands = mp->num_channels;
    fp.num_coeffs = mp->num_coeffs;
    fp.lower_hz = mp->lower_hz;
    fp.upper_hz = mp->upper_hz;
    fp.fft_size = fft;
    fp.peak_normalize = peak;
    float *x = NULL, *feat = NULL;
    size_t n = 0;
    int orig_rate = 0;
    qsnn_frontend *fe = NULL;
    qsnn_status st = qsnn_audio_read(file, &x, &n, &orig_rate);
    if (st == QSNN_OK && !crop)
        fp.clip_samples = n > (size_t)fp.window ? (int)(n < (1u << 22) ? n : (1u << 22)) : fp.window;
    if (st == QSNN_OK)
        st = qsnn_frontend_create(&fe, &fp);
    const int frames = qsnn_frontend_num_frames(&fp), coeffs = fp.num_coeffs;
    if (st == QSNN_OK && !(feat = malloc((size_t)frames * (size_t)coeffs * sizeof *feat)))
        st = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", file);
    if (st == QSNN_OK)
        st = qsnn_frontend_compute(fe, feat, x, n);
    if (st == QSNN_OK && npy) {
        size_t shape[2] = {(size_t)frames, (size_t)coeffs};
        st = qsnn_npy_write(npy, "<f4", shape, 2, feat);
    } else if (st == QSNN_OK && json) {
        cJSON *root = cJSON_CreateObject(), *jp = cJSON_AddObjectToObject(root, "params");
        cJSON_AddStringToObject(root, "file", file);
        cJSON_AddNumberToObject(root, "orig_rate", orig_rate);
        cJSON_AddNumberToObject(root, "samples", (double)n);
        cJSON_AddNumberToObject(root, "frames", frames);
        cJSON_AddNumberToObject(root, "coeffs", coeffs);
        if (jp)
            st = qsnn_frontend_to_json(&fp, jp);
        cJSON *rows = cJSON_AddArrayToObject(root, "features");
        for (int t = 0; rows && t < frames; t++) {
            cJSON *row = cJSON_CreateArray();
            for (int k = 0; row && k < coeffs; k++)
                cJSON_AddItemToArray(row, cJSON_CreateNumber((double)feat[(size_t)t * coeffs + (size_t)k]));
            cJSON_AddItemToArray(rows, row);
        }
        char *txt = cJSON_PrintUnformatted(root);
        if (txt)
            puts(txt);
        else
            st = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory formatting JSON", file);
        cJSON_free(txt);
        cJSON_Delete(root);
    } else if (st == QSNN_OK) {
        for (int t = 0; t < frames; t++)
            for (int k = 0; k < coeffs; k++)
                printf("%.9g%c", (double)feat[(size_t)t * (size_t)coeffs + (size_t)k], k + 1 < coeffs ? ' ' : '\n');
    }
    free(feat);
    free(x);
    qsnn_frontend_destroy(fe);
    return st == QSNN_OK ? QSNN_EXIT_OK : cli_fail("mfcc", st);
}

/* The default front end (TensorFlow's audio ops MFCC) of one file, printed, or written as .npy or JSON. */
/* device: compute with the device MFCC (qsnn/mfcc_device.h) instead of qsnn_mfcc (default parameters only). */
static int run_tf_audio_ops(const char *file, const qsnn_mfcc_params *p, int crop, const char *npy, int json,
                            int device)
{
    qsnn_mfcc *m = NULL;
    qsnn_status st = qsnn_mfcc_create(&m, p);
    if (st)
        return cli_fail("mfcc", st);
    float *x = NULL, *feat = NULL;
    size_t n = 0;
    int orig_rate = 0, rc = QSNN_EXIT_OK;
    /* a clip needs its first second only: a file declaring hours is not decoded beyond it */
    st = qsnn_audio_read_first(file, crop ? QSNN_CLIP_SAMPLES : SIZE_MAX, &x, &n, &orig_rate);
    if (st)
        goto fail;
    if (crop) {
        float *y = calloc(QSNN_CLIP_SAMPLES, sizeof *y);
        if (!y) {
            st = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", file);
            goto fail;
        }
        memcpy(y, x, (n < QSNN_CLIP_SAMPLES ? n : QSNN_CLIP_SAMPLES) * sizeof *y);
        free(x);
        x = y;
        n = QSNN_CLIP_SAMPLES;
    }
    int frames = qsnn_mfcc_num_frames(m, n), coeffs = qsnn_mfcc_num_coeffs(m);
    if (frames <= 0) {
        st = qsnn_fail(QSNN_ERR_SHAPE, "%s: %zu samples is shorter than one %d-sample window", file, n, p->window);
        goto fail;
    }
    feat = malloc((size_t)frames * (size_t)coeffs * sizeof *feat);
    if (!feat) {
        st = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory", file);
        goto fail;
    }
    if (device) {
        static qsnn_mfcc_device fe; /* 16 KB of tables */
        qsnn_mfcc_device_init(&fe);
        st = qsnn_mfcc_device_compute(&fe, feat, x, n);
    } else {
        st = qsnn_mfcc_compute(m, feat, x, n);
    }
    if (st)
        goto fail;
    if (npy) {
        size_t shape[2] = {(size_t)frames, (size_t)coeffs};
        st = qsnn_npy_write(npy, "<f4", shape, 2, feat);
        if (st)
            goto fail;
        qsnn_info("%s: %d x %d features written to %s", file, frames, coeffs, npy);
    } else if (json) {
        if (!print_json(file, orig_rate, n, p, crop, feat, frames, coeffs)) {
            st = qsnn_fail(QSNN_ERR_NOMEM, "%s: out of memory formatting JSON", file);
            goto fail;
        }
    } else {
        for (int t = 0; t < frames; t++)
            for (int k = 0; k < coeffs; k++)
                printf("%.9g%c", (double)feat[(size_t)t * (size_t)coeffs + (size_t)k], k + 1 < coeffs ? ' ' : '\n');
    }
    goto done; /* stdout's write errors: checked for every command in main.c */
fail:
    rc = cli_fail("mfcc", st);
done:
    free(feat);
    free(x);
    qsnn_mfcc_destroy(m);
    return rc;
}

int cmd_mfcc(int argc, char **argv)
{
    enum { OPT_NPY = 256, OPT_NOCROP, OPT_WINDOW, OPT_STRIDE, OPT_CHANNELS, OPT_COEFFS, OPT_LO, OPT_HI,
           OPT_FE, OPT_FFT, OPT_NOPEAK, OPT_DEVICE };
    static const struct option opts[] = {
        {"npy", required_argument, NULL, OPT_NPY},
        {"no-crop", no_argument, NULL, OPT_NOCROP},
        {"window", required_argument, NULL, OPT_WINDOW},
        {"stride", required_argument, NULL, OPT_STRIDE},
        {"channels", required_argument, NULL, OPT_CHANNELS},
        {"coeffs", required_argument, NULL, OPT_COEFFS},
        {"lower-hz", required_argument, NULL, OPT_LO},
        {"upper-hz", required_argument, NULL, OPT_HI},
        {"frontend", required_argument, NULL, OPT_FE},
        {"fft-size", required_argument, NULL, OPT_FFT},
        {"no-peak-normalize", no_argument, NULL, OPT_NOPEAK},
        {"device", no_argument, NULL, OPT_DEVICE},
        {NULL, 0, NULL, 0},
    };
    cli_args a = {.cmd = "mfcc", .help = print_help};
    qsnn_mfcc_params p;
    qsnn_mfcc_default_params(&p);
    qsnn_frontend_kind kind = QSNN_FRONTEND_TF_AUDIO_OPS;
    int window_set = 0, fft = 512, peak = 1;
    const char *npy = NULL;
    int crop = 1, device = 0;
    long v;
    double d;
    int c;
    while ((c = cli_getopt(&a, argc, argv, opts)) != -1) {
        switch (c) {
        case CLI_STOP: return a.rc;
        case OPT_NPY: npy = optarg; break;
        case OPT_NOCROP: crop = 0; break;
        case OPT_DEVICE: device = 1; break;
        case OPT_WINDOW:
            if (!cli_parse_int(optarg, 2, 1 << 20, &v))
                return cli_usage_error("mfcc", "--window: '%s' is not an integer in [2, 1048576]", optarg);
            p.window = (int)v;
            window_set = 1;
            break;
        case OPT_STRIDE:
            if (!cli_parse_int(optarg, 1, 1 << 20, &v))
                return cli_usage_error("mfcc", "--stride: '%s' is not an integer in [1, 1048576]", optarg);
            p.stride = (int)v;
            break;
        case OPT_CHANNELS:
            if (!cli_parse_int(optarg, 1, 1024, &v))
                return cli_usage_error("mfcc", "--channels: '%s' is not an integer in [1, 1024]", optarg);
            p.num_channels = (int)v;
            break;
        case OPT_COEFFS:
            if (!cli_parse_int(optarg, 1, 1024, &v))
                return cli_usage_error("mfcc", "--coeffs: '%s' is not an integer in [1, 1024]", optarg);
            p.num_coeffs = (int)v;
            break;
        case OPT_LO:
            if (!cli_parse_double(optarg, 0.0, 8000.0, &d))
                return cli_usage_error("mfcc", "--lower-hz: '%s' is not a number in [0, 8000]", optarg);
            p.lower_hz = d;
            break;
        case OPT_HI:
            if (!cli_parse_double(optarg, 0.0, 8000.0, &d))
                return cli_usage_error("mfcc", "--upper-hz: '%s' is not a number in [0, 8000]", optarg);
            p.upper_hz = d;
            break;
        case OPT_FE:
            if (qsnn_frontend_parse(optarg, &kind) != QSNN_OK)
                return cli_usage_error("mfcc", "--frontend: %s", qsnn_last_error());
            break;
        case OPT_FFT:
            if (!cli_parse_int(optarg, 16, 1 << 17, &v))
                return cli_usage_error("mfcc", "--fft-size: '%s' is not an integer in [16, 131072]", optarg);
            fft = (int)v;
            break;
        case OPT_NOPEAK: peak = 0; break;
        }
    }
    const int json = a.json;
    if (optind != argc - 1)
        return cli_usage_error("mfcc", optind >= argc ? "missing FILE" : "exactly one FILE expected");
    if (npy && json)
        return cli_usage_error("mfcc", "--npy and --json are exclusive");
    if (p.num_coeffs > p.num_channels)
        return cli_usage_error("mfcc", "--coeffs %d is more than --channels %d", p.num_coeffs, p.num_channels);
    if (!(p.upper_hz > p.lower_hz))
        return cli_usage_error("mfcc", "--upper-hz %g must be above --lower-hz %g", p.upper_hz, p.lower_hz);
    qsnn_mfcc_params def;
    qsnn_mfcc_default_params(&def);
    if (device && (p.window != def.window || p.stride != def.stride || p.num_channels != def.num_channels ||
                   p.num_coeffs != def.num_coeffs || p.lower_hz != def.lower_hz || p.upper_hz != def.upper_hz))
        return cli_usage_error("mfcc", "--device computes the default parameters only");
    const char *file = argv[optind];
    if (device && kind != QSNN_FRONTEND_TF_AUDIO_OPS)
        return cli_usage_error("mfcc", "--device computes the tf-audio-ops front end only");
    if (kind != QSNN_FRONTEND_TF_SIGNAL && (fft != 512 || !peak))
        return cli_usage_error("mfcc", "--fft-size and --no-peak-normalize apply to --frontend tf-signal");
    qsnn_status st = qsnn_check_outputs((const char *[]){npy}, 1, (const char *[]){file}, 1, 1u << 20);
    if (st)
        return cli_fail("mfcc", st);
    if (kind == QSNN_FRONTEND_TF_SIGNAL)
        return cmd_mfcc_frontend(file, &p, window_set, fft, peak, crop, npy, json);

    return run_tf_audio_ops(file, &p, crop, npy, json, device);
}
