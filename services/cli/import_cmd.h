/* import_cmd: the agency commands for intake imports, which the daemon runs as jobs: `import
 * FILE` starts one and follows its progress to the broker's answers, `import-status [JOB]`
 * shows where one stands. */
#ifndef TACNET_CLI_IMPORT_CMD_H
#define TACNET_CLI_IMPORT_CMD_H

#include "client/client.h"

typedef struct cli_import_opts {
    tn_client_t *client; /* connected to the agency daemon; not owned */
    int json;
    int timeout_ms; /* per call */
    int wait_ms;    /* after the last row is queued: how long to wait for the broker's answers */
} cli_import_opts_t;

/* ARGV[0] is "import" (FILE [--no-wait]) or "import-status" ([JOB]). Returns the exit status:
 * 0 every event accepted (or the job started, with --no-wait; or a status shown), 1 the import
 * failed or the broker refused some, 2 usage or no answer, 3 some not answered in time. */
int cli_import_command(const cli_import_opts_t *o, int argc, char **argv);

#endif
