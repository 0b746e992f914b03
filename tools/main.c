/* SPDX-License-Identifier: Apache-2.0 */
/* main.c: the qsnn command. Dispatches `qsnn <cmd> [args]` to tools/cmd_<cmd>.c; `qsnn help` lists them.
 * Whatever a command printed, its results reach stdout or the command fails: stdout's error flag (sticky over
 * every printf/fwrite/putchar) and its final flush and close are checked here, once for all commands. */
#include "cli.h"

#include "qsnn/report.h"
#include "qsnn/version.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const qsnn_cmd k_cmds[] = {
    {"tutorial", cmd_tutorial, "the whole MobileNet-KWS tutorial: data, model, conversion, spiking inference"},
    {"mfcc", cmd_mfcc, "print (or save as .npy) the 49x10 TensorFlow MFCC of one audio file"},
    {"features", cmd_features, "compute train/validation/test features of a Speech Commands directory"},
#ifdef QSNN_HAVE_SYNTH /* -DQSNN_SYNTH=OFF: built without espeak-ng and flite */
    {"synth", cmd_synth, "generate a synthetic Speech Commands dataset with Debian's speech synthesizers"},
#endif
    {"train", cmd_train, "quantization-aware training in three episodes (float, 4-bit activations, 8/4-bit weights)"},
    {"eval", cmd_eval, "accuracy, confusion matrix and statistics of a float or spiking model on a split"},
    {"summary", cmd_summary, "print a model's layer table (Keras-style for .qsnn, Akida-style for .snn)"},
    {"convert", cmd_convert, "convert a quantized model into an integer event-based model (.snn)"},
    {"stream", cmd_stream, "spot keywords in audio of any length with an integer model (sliding one-second windows)"},
    {"eval-stream", cmd_eval_stream, "keyword spotting on long labelled recordings: misses, false accepts/hour, DET, calibration"},
    {"import", cmd_import, "read a TensorFlow Lite model as a qsnn float model (with its labels and front end)"},
    {"export", cmd_export, "write a .snn model as a C header (aligned const array and sizes) for firmware"},
};

static void print_help(FILE *out)
{
    fprintf(out, "qsnn %s: quantized event-based neural networks for keyword spotting\n\n", qsnn_version());
    fprintf(out, "Usage: qsnn <command> [options]\n       qsnn <command> --help\n       qsnn --version\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof k_cmds / sizeof k_cmds[0]; i++)
        fprintf(out, "  %-12s %s\n", k_cmds[i].name, k_cmds[i].summary);
    fprintf(out, "\nEvery command takes -q/--quiet, --json and -h/--help; -o/--output where it writes, --threads N where\n"
                 "it works in parallel (docs/cli.md).\n");
    fprintf(out, "\nStart with `qsnn tutorial`; see README.md for the file formats and the full walk-through.\n");
}

/* rc, or QSNN_EXIT_FAIL with the reason when anything written to stdout was lost (a full disk, /dev/full, EIO). */
static int finish_stdout(const char *name, int rc)
{
    errno = 0;
    int bad = fflush(stdout) != 0 || ferror(stdout);
    int e = errno;
    if (fclose(stdout) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad)
        return rc;
    fprintf(stderr, "qsnn %s: writing the results to standard output failed: %s\n", name,
            e ? strerror(e) : "write error");
    return QSNN_EXIT_FAIL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return QSNN_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
        if (argc > 2) {
            for (size_t i = 0; i < sizeof k_cmds / sizeof k_cmds[0]; i++)
                if (!strcmp(argv[2], k_cmds[i].name)) {
                    char help[] = "--help";
                    char *sub[] = {argv[2], help, NULL};
                    return finish_stdout(argv[2], k_cmds[i].fn(2, sub));
                }
        }
        print_help(stdout);
        return finish_stdout("help", QSNN_EXIT_OK);
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("qsnn %s\n", qsnn_version());
        return finish_stdout("version", QSNN_EXIT_OK);
    }
    for (size_t i = 0; i < sizeof k_cmds / sizeof k_cmds[0]; i++)
        if (!strcmp(name, k_cmds[i].name)) {
            int rc = k_cmds[i].fn(argc - 1, argv + 1);
            qsnn_report_release_font_caches(); /* plots (eval, train, tutorial) load them; nothing runs after */
            return finish_stdout(name, rc);
        }
    fprintf(stderr, "qsnn: unknown command '%s'\n\n", name);
    print_help(stderr);
    return QSNN_EXIT_USAGE;
}
