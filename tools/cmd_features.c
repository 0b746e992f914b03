/* cmd_features.c: `qsnn features`. PLACEHOLDER until its issue lands: it only says so. */
#include "cli.h"

#include <stdio.h>

int cmd_features(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "qsnn features: not implemented yet\n");
    return QSNN_EXIT_FAIL;
}
