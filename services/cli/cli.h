/* cli: the `tacnet` subcommands, one entry point each (argv[0] is the subcommand name). Each
 * returns the process exit status: 0 ok, 1 ran and refused / found a problem, 2 usage or could
 * not run. */
#ifndef TACNET_CLI_H
#define TACNET_CLI_H

#include <stdio.h>

int cli_provision_main(int argc, char **argv);
int cli_policy_main(int argc, char **argv);
int cli_audit_main(int argc, char **argv);
int cli_broker_main(int argc, char **argv);
int cli_agency_main(int argc, char **argv);
int cli_agency_usage(FILE *out);
int cli_user_main(int argc, char **argv);
int cli_token_main(int argc, char **argv);
int cli_backup_main(int argc, char **argv);
int cli_restore_main(int argc, char **argv);

/* Print the broker admin JSON for people. Returns the exit status. */
int cli_broker_status_print(const char *json, FILE *out);

/* The repository's deploy/ directory as seen from the running binary (build/<cfg>/bin/..), or
 * else /usr/local/share/tacnet (where make install puts it with the default PREFIX);
 * TACNET_DEPLOY overrides. Static storage. */
const char *cli_deploy_dir(void);

/* Name the partnership's agencies as its agencies.conf does (TACNET_AGENCIES, else the one in
 * cli_deploy_dir()), so `--agency family_support`, `--subject family_support` and the titles
 * printed work for agencies the enum does not name. A missing file leaves the four named
 * agencies; a malformed one is reported on stderr and ignored (the daemons refuse what the
 * signed roster does not hold either way). */
void cli_agencies_load(void);

#endif
