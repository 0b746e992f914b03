/* SPDX-License-Identifier: Apache-2.0 */
/* classify.c: an out-of-tree C program built against an installed qsnn with pkg-config (tests/consumers/run.sh):
 *
 *   cc classify.c $(pkg-config --cflags --libs qsnn) -o classify && ./classify MODEL.snn AUDIO
 *
 * loads a .snn (qsnn_snn_load, the engine library's), computes one clip's model input with libqsnn (the first
 * second of AUDIO as uint8 MFCC, qsnn/kws.h), runs the engine in memory it owns and prints
 *   class LABEL potentials P0 P1 ...
 * Exit status 0, or 1 with qsnn's error message. */
#include "qsnn/kws.h"
#include "qsnn/snn.h"
#include "qsnn/version.h"

#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what)
{
    fprintf(stderr, "classify: %s: %s\n", what, qsnn_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: classify MODEL.snn AUDIO (qsnn %s)\n", qsnn_version());
        return 2;
    }
    qsnn_snn_model m;
    unsigned char *image = NULL;
    if (qsnn_snn_load(argv[1], &m, &image) != QSNN_OK)
        return fail("load");
    size_t in_n = (size_t)m.in_h * (size_t)m.in_w * (size_t)m.in_c;
    uint8_t *x = malloc(in_n);
    size_t ws = qsnn_snn_mem_size(&m);
    void *work = malloc(ws);
    int32_t pot[QSNN_SNN_MAX_CLASSES], pred = -1;
    qsnn_snn_ctx *ctx = NULL;
    int rc = 0;
    if (!x || !work)
        rc = fail("memory");
    else if (qsnn_kws_file_u8(x, &m, argv[2]) != QSNN_OK)
        rc = fail("features");
    else if (qsnn_snn_init(&ctx, &m, work, ws) != QSNN_OK || qsnn_snn_run(ctx, x, pot, &pred, NULL) != QSNN_OK)
        rc = fail("engine");
    if (rc == 0) {
        printf("class %s potentials", m.labels[pred]);
        for (int k = 0; k < m.num_classes; k++)
            printf(" %ld", (long)pot[k]);
        printf("\n");
    }
    free(work);
    free(x);
    free(image);
    return rc;
}
