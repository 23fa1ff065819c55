/* retention_cmd: the agency commands for legal holds and the retention sweep. */
#ifndef TACNET_CLI_RETENTION_CMD_H
#define TACNET_CLI_RETENTION_CMD_H

#include "client/client.h"

typedef struct cli_retention_opts {
    tn_client_t *client; /* connected to the agency daemon; not owned */
    int json;
    int timeout_ms;
} cli_retention_opts_t;

/* ARGV[0] is "hold" / "retention". Return the exit status (0 ok, 1 refused, 2 usage or no
 * answer). */
int cli_hold_command(const cli_retention_opts_t *o, int argc, char **argv);
int cli_retention_command(const cli_retention_opts_t *o, int argc, char **argv);

#endif
