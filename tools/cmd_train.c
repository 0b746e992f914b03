/* cmd_train.c: `qsnn train`. PLACEHOLDER until its issue lands: it only says so. */
#include "cli.h"

#include <stdio.h>

int cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "qsnn train: not implemented yet\n");
    return QSNN_EXIT_FAIL;
}
