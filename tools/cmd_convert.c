/* cmd_convert.c: `qsnn convert`. PLACEHOLDER until its issue lands: it only says so. */
#include "cli.h"

#include <stdio.h>

int cmd_convert(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "qsnn convert: not implemented yet\n");
    return QSNN_EXIT_FAIL;
}
