/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_synth.c: `qsnn synth -o DIR`: make (or complete) a synthetic Speech Commands dataset with Debian's speech
 * synthesizers (espeak-ng, flite). All the work is qsnn_synth_run (src/synth/synth.c); this file parses options and
 * prints the summary (text or --json) on stdout. */
#include "cli.h"

#include "qsnn/synth.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Split names as in the list files' sense ("train", "validation", "test"); kept local so that this file does not
 * depend on the dataset reader. */
static const char *split_str(int s) { return s == 1 ? "validation" : s == 2 ? "test" : "train"; }

static void print_help(void)
{
    printf(
        "Usage: qsnn synth -o DIR [options]\n"
        "\n"
        "Make a synthetic Speech Commands dataset in the released layout, so that `qsnn features`, `qsnn train` and\n"
        "`qsnn eval` read it unchanged:\n"
        "  DIR/<word>/<voice>_nohash_<n>.wav    one second, 16 kHz, mono, PCM16\n"
        "  DIR/_background_noise_/               synthetic white, pink and brown noise (+ --noise files)\n"
        "  DIR/validation_list.txt, testing_list.txt, synth_voices.txt\n"
        "\n"
        "Words are spoken by %d voice configurations: espeak-ng's English accents x voice variants and flite's\n"
        "voices x pitch settings, with rate, pitch and loudness varied per utterance, the word at a random offset\n"
        "(never cut), light room reverberation on about a third of the clips. A voice belongs to one split only\n"
        "(about 80/10/10, chosen so that TensorFlow's which_set agrees), so validation and test measure unseen\n"
        "voices. Same --seed, same bytes, whatever the number of jobs. Existing files are kept: an interrupted or\n"
        "smaller earlier run is completed, and the list files are rebuilt from what is in DIR.\n"
        "\n"
        "Options:\n"
        "  -o, --out DIR            output folder (created) [required]\n"
        "  --per-word N             clips per keyword (default 150)\n"
        "  --unknown-per-word N     clips per other word (default 30)\n"
        "  --words LIST             comma-separated words to speak (default: the 10 keywords and the 25 other\n"
        "                           Speech Commands words)\n"
        "  --keywords LIST          which words get --per-word clips (default %s)\n"
        "  --voices N               use the first N voices of the table (default all %d)\n"
        "  --seed N                 random seed (default 1)\n"
        "  --noise DIR              also copy the recordings in DIR (wav/flac/ogg) into _background_noise_,\n"
        "                           converted to 16 kHz mono PCM16\n"
        "  --noise-seconds S        length of each synthetic noise file (default 60; 0 = none)\n"
        "  -j, --jobs N             parallel processes (default: number of cores)\n"
        "  --espeak-data DIR        espeak-ng data folder (default: espeak-ng's own)\n"
        "  --json                   print the summary as JSON\n"
        "  -q, --quiet              no progress on stderr\n"
        "  -h, --help               this help\n"
        "\n"
        "Examples:\n"
        "  qsnn synth -o data/synth\n"
        "  qsnn synth -o data/synth --per-word 400 --unknown-per-word 80      # a bigger set (completes the first)\n"
        "  qsnn synth -o /tmp/s --noise /path/to/speech_commands/_background_noise_\n"
        "  qsnn features data/synth -o data/synth.qf\n"
        "\n"
        "Needs the Debian packages libespeak-ng1 + espeak-ng-data and libflite1 (bash scripts/bootstrap.sh build).\n"
        "Exit status: 0 ok, 1 failure (the message names the file or the missing package), 2 usage error.\n",
        qsnn_synth_num_voices(), QSNN_SYNTH_KEYWORDS, qsnn_synth_num_voices());
}

static void print_json(const char *dir, const qsnn_synth_opts *o, const qsnn_synth_summary *s)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return;
    cJSON_AddStringToObject(root, "out", dir);
    cJSON_AddNumberToObject(root, "seed", (double)o->seed);
    cJSON_AddNumberToObject(root, "clips_written", (double)s->clips_written);
    cJSON_AddNumberToObject(root, "clips_kept", (double)s->clips_kept);
    cJSON *cs = cJSON_AddObjectToObject(root, "clips");
    cJSON *vs = cJSON_AddObjectToObject(root, "voices");
    for (int k = 0; k < QSNN_SPLIT_COUNT; k++) {
        if (cs)
            cJSON_AddNumberToObject(cs, split_str(k), (double)s->clips_split[k]);
        if (vs)
            cJSON_AddNumberToObject(vs, split_str(k), s->voices_split[k]);
    }
    cJSON_AddNumberToObject(root, "noise_written", (double)s->noise_written);
    cJSON_AddNumberToObject(root, "noise_kept", (double)s->noise_kept);
    cJSON_AddNumberToObject(root, "seconds", s->seconds);
    cJSON_AddNumberToObject(root, "clips_per_second", s->clips_per_second);
    char *txt = cJSON_Print(root);
    if (txt) {
        printf("%s\n", txt);
        free(txt);
    }
    cJSON_Delete(root);
}

int cmd_synth(int argc, char **argv)
{
    enum { OPT_PER = 256, OPT_UNK, OPT_WORDS, OPT_KEYS, OPT_VOICES, OPT_SEED, OPT_NOISE, OPT_NOISE_S, OPT_ESPEAK,
           OPT_JSON };
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"per-word", required_argument, NULL, OPT_PER},
        {"unknown-per-word", required_argument, NULL, OPT_UNK},
        {"words", required_argument, NULL, OPT_WORDS},
        {"keywords", required_argument, NULL, OPT_KEYS},
        {"voices", required_argument, NULL, OPT_VOICES},
        {"seed", required_argument, NULL, OPT_SEED},
        {"noise", required_argument, NULL, OPT_NOISE},
        {"noise-seconds", required_argument, NULL, OPT_NOISE_S},
        {"jobs", required_argument, NULL, 'j'},
        {"espeak-data", required_argument, NULL, OPT_ESPEAK},
        {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    qsnn_synth_opts o;
    qsnn_synth_default_opts(&o);
    int json = 0;
    long v;
    double d;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:j:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out_dir = optarg; break;
        case OPT_PER:
            if (!cli_parse_int(optarg, 0, 1000000, &v))
                return cli_usage_error("synth", "--per-word: '%s' is not an integer in [0, 1000000]", optarg);
            o.per_word = (int)v;
            break;
        case OPT_UNK:
            if (!cli_parse_int(optarg, 0, 1000000, &v))
                return cli_usage_error("synth", "--unknown-per-word: '%s' is not an integer in [0, 1000000]",
                                       optarg);
            o.unknown_per_word = (int)v;
            break;
        case OPT_WORDS: o.words = optarg; break;
        case OPT_KEYS: o.keywords = optarg; break;
        case OPT_VOICES:
            if (!cli_parse_int(optarg, 1, qsnn_synth_num_voices(), &v))
                return cli_usage_error("synth", "--voices: '%s' is not an integer in [1, %d]", optarg,
                                       qsnn_synth_num_voices());
            o.num_voices = (int)v;
            break;
        case OPT_SEED: {
            char *end;
            unsigned long long s = strtoull(optarg, &end, 10);
            if (end == optarg || *end || optarg[0] == '-')
                return cli_usage_error("synth", "--seed: '%s' is not a non-negative integer", optarg);
            o.seed = (uint64_t)s;
            break;
        }
        case OPT_NOISE: o.noise_dir = optarg; break;
        case OPT_NOISE_S:
            if (!cli_parse_double(optarg, 0.0, 3600.0, &d))
                return cli_usage_error("synth", "--noise-seconds: '%s' is not a number in [0, 3600]", optarg);
            o.noise_seconds = d;
            break;
        case 'j':
            if (!cli_parse_int(optarg, 1, 64, &v))
                return cli_usage_error("synth", "--jobs: '%s' is not an integer in [1, 64]", optarg);
            o.jobs = (int)v;
            break;
        case OPT_ESPEAK: o.espeak_data = optarg; break;
        case OPT_JSON: json = 1; break;
        case 'q': qsnn_log_set_level(QSNN_LOG_QUIET); break;
        case 'h': print_help(); return QSNN_EXIT_OK;
        case ':': return cli_usage_error("synth", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("synth", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage_error("synth", "unexpected argument '%s'", argv[optind]);
    if (!o.out_dir)
        return cli_usage_error("synth", "missing -o DIR");
    qsnn_synth_summary s;
    qsnn_status st = qsnn_synth_run(&o, &s);
    if (st == QSNN_ERR_ARG) /* a bad --words/--keywords value: a usage error */
        return cli_usage_error("synth", "%s", qsnn_last_error());
    if (st)
        return cli_fail("synth", st);
    if (json) {
        print_json(o.out_dir, &o, &s);
    } else {
        printf("%s: %zu clips made, %zu kept (train %zu, validation %zu, test %zu clips; voices %d/%d/%d), "
               "%zu noise files made, %zu kept\n",
               o.out_dir, s.clips_written, s.clips_kept, s.clips_split[0], s.clips_split[1], s.clips_split[2],
               s.voices_split[0], s.voices_split[1], s.voices_split[2], s.noise_written, s.noise_kept);
        printf("time %.1f s, %.1f clips/s\n", s.seconds, s.clips_per_second);
    }
    return QSNN_EXIT_OK;
}
