/* tacnet: the command line for people and scripts. Each subcommand lives in its own file;
 * this only dispatches. Exit codes: 0 ok, 1 the command ran and refused or found a problem,
 * 2 usage or could not run (see README "The tacnet command"). */
#include "cli.h"
#include "proc.h"
#include "version.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

static int s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: tacnet COMMAND ...\n"
        "  provision --out DIR [--agencies FILE] [--sharing FILE] [--escalation FILE] "
        "[--validity-days N]\n"
        "            [--partnership]   (also a key for the partnership contact, last stage)\n"
        "  provision --out DIR --rotate NODE [--overlap-seconds N]   (new CURVE + signing key;\n"
        "            the old one stays valid N s more, default 3600; then reload every node)\n"
        "  provision --out DIR --revoke NODE [--key-id N] [--at-ms EPOCH_MS]\n"
        "  policy check [--register FILE] [--gazetteer DIR]   (text lines on stdin)\n"
        "  audit verify PATH [--json]\n"
        "  broker status --data-dir DIR [--json]\n"
        "  broker report --data-dir DIR [--json | --html FILE]   (partnership figures, no\n"
        "        identifiers; --html: an accessible page for the partnership, - for stdout)\n"
        "  backup --data-dir DIR --out FILE   (hot, compacted, 0600)\n"
        "  restore --from FILE --data-dir NEWDIR\n"
        "  user add --agency NAME --initials XX --role "
        "practitioner|line_manager|dsl|lead_professional\n"
        "           [--password-file FILE] [--replace]   (dashboard log-in; password prompted\n"
        "           if no file; an existing user is refused unless --replace, which ends its\n"
        "           sessions)\n"
        "  user list|remove|unlock --agency NAME [--initials XX]\n"
        "  token add --agency NAME --system LABEL [--days N]   (HTTP API token, printed once;\n"
        "            valid N days, default 90)\n"
        "  token list|revoke --agency NAME [--id ID]\n"
        "  --agency NAME [--socket PATH] [--json] AGENCY-COMMAND ...   (see tacnet help agency)\n");
    return 2;
}

int main(int argc, char **argv)
{
    /* Keys, rosters and backups it writes are never world-readable, whatever the caller's umask. */
    proc_umask_private();
    if (argc < 2)
        return s_usage(stderr);
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        /* Asked for: printed on stdout, and that is success. */
        if (argc >= 3 && strcmp(argv[2], "agency") == 0)
            cli_agency_usage(stdout);
        else
            s_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("tacnet %s (wire schema %d)\n", TACNET_VERSION, WIRE_SCHEMA_VERSION);
        return 0;
    }
    const char *cmd = argv[1];
    cli_agencies_load();
    if (strcmp(cmd, "provision") == 0)
        return cli_provision_main(argc - 1, argv + 1);
    if (strcmp(cmd, "policy") == 0)
        return cli_policy_main(argc - 1, argv + 1);
    if (strcmp(cmd, "audit") == 0)
        return cli_audit_main(argc - 1, argv + 1);
    if (strcmp(cmd, "broker") == 0)
        return cli_broker_main(argc - 1, argv + 1);
    if (strcmp(cmd, "backup") == 0)
        return cli_backup_main(argc - 1, argv + 1);
    if (strcmp(cmd, "restore") == 0)
        return cli_restore_main(argc - 1, argv + 1);
    if (strcmp(cmd, "user") == 0)
        return cli_user_main(argc - 1, argv + 1);
    if (strcmp(cmd, "token") == 0)
        return cli_token_main(argc - 1, argv + 1);
    if (strcmp(cmd, "--agency") == 0 || strncmp(cmd, "--agency=", 9) == 0)
        return cli_agency_main(argc - 1, argv + 1);
    fprintf(stderr, "tacnet: unknown command \"%s\"\n", cmd);
    return s_usage(stderr);
}
