/* cmd_eval.c: `qsnn eval`. PLACEHOLDER until its issue lands: it only says so. */
#include "cli.h"

#include <stdio.h>

int cmd_eval(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "qsnn eval: not implemented yet\n");
    return QSNN_EXIT_FAIL;
}
