/* cmd_tutorial.c: `qsnn tutorial`. PLACEHOLDER until its issue lands: it only says so. */
#include "cli.h"

#include <stdio.h>

int cmd_tutorial(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "qsnn tutorial: not implemented yet\n");
    return QSNN_EXIT_FAIL;
}
