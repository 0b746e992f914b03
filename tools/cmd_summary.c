/* cmd_summary.c: `qsnn summary`. PLACEHOLDER until its issue lands: it only says so. */
#include "cli.h"

#include <stdio.h>

int cmd_summary(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "qsnn summary: not implemented yet\n");
    return QSNN_EXIT_FAIL;
}
