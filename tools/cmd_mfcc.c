/* cmd_mfcc.c: `qsnn mfcc`. PLACEHOLDER until its issue lands: it only says so. */
#include "cli.h"

#include <stdio.h>

int cmd_mfcc(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "qsnn mfcc: not implemented yet\n");
    return QSNN_EXIT_FAIL;
}
