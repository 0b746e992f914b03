/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_summary.c: `qsnn summary MODEL`: the layer table of a model, chosen by the file's magic: a float/quantized
 * model (QSNNMODL) prints Keras' model.summary(), an integer .snn model (QSNN_SNN) Akida's model.summary() with
 * the HW column, the reasons of every "no" and the model size. */
#include "cli.h"

#include "qsnn/io.h"
#include "qsnn/model.h"
#include "qsnn/report.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_help(void)
{
    printf("Usage: qsnn summary MODEL\n"
           "\n"
           "Print the layer table of MODEL:\n"
           "  a .qsnn model (float or quantized, from `qsnn train`): the Keras summary of the tutorial's section 3;\n"
           "  a .snn model (from `qsnn convert`): the Akida summary of section 5.1 (Layer (type), HW, Input shape,\n"
           "    Output shape, Kernel shape, Learning (#classes), #InConn/#Weights/ThFire; shapes in Akida's [W, H, C]),\n"
           "    then the reason of every HW \"no\" (Akida NSoC v1 rules) and the model size in bytes.\n"
           "The kind of file is recognised by its first bytes, not its name.\n"
           "\n"
           "Options:\n"
           "  -h, --help   this help\n"
           "\n"
           "Exit status: 0 ok, 1 the file is unreadable, corrupt or of another kind, 2 usage error.\n");
}

int cmd_summary(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            print_help();
            return QSNN_EXIT_OK;
        }
        return cli_usage_error("summary", "unknown option");
    }
    if (optind + 1 != argc)
        return cli_usage_error("summary", "expected one MODEL file");
    const char *path = argv[optind];
    qsnn_file_kind kind = qsnn_file_kind_of(path);
    if (kind == QSNN_FILE_UNREADABLE)
        return cli_fail("summary", QSNN_ERR_IO);
    if (kind == QSNN_FILE_MODEL) {
        qsnn_model m;
        qsnn_status st = qsnn_model_load(&m, path);
        if (st != QSNN_OK)
            return cli_fail("summary", st);
        qsnn_model_print_summary(stdout, &m);
        const qsnn_frontend_params *f = &m.arch.features;
        printf("Features: %s, %d x %d (window %d, stride %d, %d bands %g-%g Hz), input %s\n",
               qsnn_frontend_name(f->kind), qsnn_frontend_num_frames(f), f->num_coeffs, f->window, f->stride,
               f->num_bands, f->lower_hz, f->upper_hz,
               f->input == QSNN_INPUT_FLOAT ? "float (the features as they are)" : "uint8 (the tutorial's scaling)");
        printf("Labels: %s", m.labels[0]);
        for (int i = 1; i < m.num_labels; i++)
            printf(",%s", m.labels[i]);
        printf("\n");
        qsnn_model_free(&m);
        return QSNN_EXIT_OK;
    }
    if (kind == QSNN_FILE_SNN) {
        qsnn_snn_model m;
        unsigned char *img;
        qsnn_status st = qsnn_snn_load(path, &m, &img);
        if (st != QSNN_OK)
            return cli_fail("summary", st);
        qsnn_report_snn_summary(stdout, &m);
        free(img);
        return QSNN_EXIT_OK;
    }
    cli_fail("summary", qsnn_fail(QSNN_ERR_FORMAT, "%s: not a qsnn model (neither a .qsnn model nor a .snn model)",
                                  path));
    return QSNN_EXIT_FAIL;
}
