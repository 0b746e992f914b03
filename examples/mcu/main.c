/* main.c: keyword spotting on a microcontroller with qsnn's integer engine, as a firmware would do it.
 *
 * kws_model.h comes from `qsnn export kws.snn -o kws_model.h --input CLIP.wav`: the model image (in flash, used in
 * place), the workspace size, the labels and a test vector (a clip's uint8 MFCC and the potentials the host's
 * engine computed from it). This program runs the engine on the test vector in a static workspace of
 * KWS_WORKSPACE_SIZE bytes (no heap), prints the class, and returns 0 only if every potential equals the host's.
 * A firmware feeds its own MFCC frames (scaled with KWS_SCALE_MIN/MAX) instead of kws_test_input.
 *
 * Board glue (console, exit) is board_puts / board_exit: startup_m4.c implements them for QEMU's mps2-an386;
 * built for the host (run_qemu.sh --host), they are stdio's. */
#include "kws_model.h"
#include "qsnn/snn.h"

#include <stdio.h>
#include <string.h>

void board_puts(const char *s);

static _Alignas(16) unsigned char work[KWS_WORKSPACE_SIZE];

int main(void)
{
    char line[160];
    qsnn_snn_model m;
    qsnn_snn_ctx *ctx;
    int32_t pot[KWS_NUM_CLASSES], pred = -1;
    if (qsnn_snn_model_init(&m, kws_model, KWS_MODEL_SIZE, "flash") != QSNN_OK ||
        qsnn_snn_init(&ctx, &m, work, sizeof work) != QSNN_OK ||
        qsnn_snn_run(ctx, kws_test_input, pot, &pred, NULL) != QSNN_OK) {
        snprintf(line, sizeof line, "kws: %s\n", qsnn_last_error());
        board_puts(line);
        return 2;
    }
    int same = pred == KWS_TEST_CLASS && !memcmp(pot, kws_test_potentials, sizeof pot);
    snprintf(line, sizeof line, "kws: model %d bytes, workspace %d bytes: class %ld (%s), potentials %s the host's\n",
             (int)KWS_MODEL_SIZE, (int)sizeof work, (long)pred, kws_labels[pred], same ? "equal to" : "DIFFER from");
    board_puts(line);
    return same ? 0 : 1;
}
