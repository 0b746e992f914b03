/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_synth.c: `qsnn synth -o DIR`: make (or complete) a synthetic Speech Commands dataset with Debian's speech
 * synthesizers (espeak-ng, flite). All the work is qsnn_synth_run (src/synth/synth.c); this file parses options and
 * prints the summary (text or --json) on stdout. */
#include "cli.h"

#include "qsnn/synth.h"

#include <cjson/cJSON.h>
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
        "voices. Same --seed, same bytes, whatever the number of processes. Existing files are kept: an interrupted or\n"
        "smaller earlier run is completed, and the list files are rebuilt from what is in DIR.\n"
        "\n"
        "Options:\n"
        "  -o, --output DIR         output folder (created) [required]\n"
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
        "  --threads N              at most N parallel processes, 1..64 (default: number of cores)\n"
        "  --espeak-data DIR        espeak-ng data folder (default: espeak-ng's own)\n"
        "  --json                   print the summary as JSON\n"
        "  -q, --quiet              no progress or notes on stderr\n"
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

static int print_json(const char *dir, const qsnn_synth_opts *o, const qsnn_synth_summary *s)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return cli_json_print("synth", NULL);
    cJSON_AddStringToObject(root, "output", dir);
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
    return cli_json_print("synth", root);
}

int cmd_synth(int argc, char **argv)
{
    enum { OPT_PER = 256, OPT_UNK, OPT_WORDS, OPT_KEYS, OPT_VOICES, OPT_SEED, OPT_NOISE, OPT_NOISE_S, OPT_ESPEAK };
    static const struct option opts[] = {
        {"per-word", required_argument, NULL, OPT_PER},
        {"unknown-per-word", required_argument, NULL, OPT_UNK},
        {"words", required_argument, NULL, OPT_WORDS},
        {"keywords", required_argument, NULL, OPT_KEYS},
        {"voices", required_argument, NULL, OPT_VOICES},
        {"seed", required_argument, NULL, OPT_SEED},
        {"noise", required_argument, NULL, OPT_NOISE},
        {"noise-seconds", required_argument, NULL, OPT_NOISE_S},
        {"espeak-data", required_argument, NULL, OPT_ESPEAK},
        {NULL, 0, NULL, 0},
    };
    cli_args a = {.cmd = "synth", .takes = CLI_OUTPUT | CLI_THREADS, .help = print_help};
    qsnn_synth_opts o;
    qsnn_synth_default_opts(&o);
    long v;
    double d;
    int c;
    while ((c = cli_getopt(&a, argc, argv, opts)) != -1) {
        switch (c) {
        case CLI_STOP: return a.rc;
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
        case OPT_ESPEAK: o.espeak_data = optarg; break;
        }
    }
    if (a.threads > 64)
        return cli_usage_error("synth", "--threads: at most 64 processes, got %d", a.threads);
    if (a.threads > 0)
        o.jobs = a.threads;
    if (a.output)
        o.out_dir = a.output;
    const int json = a.json;
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
    if (json)
        return print_json(o.out_dir, &o, &s);
    printf("%s: %zu clips made, %zu kept (train %zu, validation %zu, test %zu clips; voices %d/%d/%d), "
           "%zu noise files made, %zu kept\n",
           o.out_dir, s.clips_written, s.clips_kept, s.clips_split[0], s.clips_split[1], s.clips_split[2],
           s.voices_split[0], s.voices_split[1], s.voices_split[2], s.noise_written, s.noise_kept);
    printf("time %.1f s, %.1f clips/s\n", s.seconds, s.clips_per_second);
    return QSNN_EXIT_OK;
}
