/* main.c -- spotlight's entry point; everything else is in the library so
 * that tests link the same code. */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
