/* cmd_synth.c: `qsnn synth`. PLACEHOLDER until its issue lands: it only says so. */
#include "cli.h"

#include <stdio.h>

int cmd_synth(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "qsnn synth: not implemented yet\n");
    return QSNN_EXIT_FAIL;
}
