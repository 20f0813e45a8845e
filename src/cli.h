/* cli.h -- the command line: argument parsing, subcommand dispatch, exit
 * codes, progress output. */
#ifndef SP_CLI_H
#define SP_CLI_H

/* Exit codes, as documented in `spotlight help` and the man page. */
enum {
    EXIT_DONE = 0,       /* done */
    EXIT_REFUSED = 1,    /* the input was refused; nothing stored */
    EXIT_USAGE = 2,      /* the command line was wrong */
    EXIT_OTHER = 3       /* anything else (I/O, database, memory) */
};

int cli_main(int argc, char **argv);

#endif
