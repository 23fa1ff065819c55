/* daemon: the `main` shared by the four agency daemons — flags, config, signals, run. */
#include "agency/daemon.h"
#include "agency.h"
#include "agency/config.h"
#include "cfg.h"
#include "err.h"
#include "log.h"
#include "proc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static void s_on_stop(int sig)
{
    (void)sig;
    agency_stop_flag = 1;
}

static void s_on_hup(int sig)
{
    (void)sig;
    agency_reload_flag = 1;
}

int agency_daemon_main(int argc, char **argv, const agency_profile_t *profile)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
            path = argv[++i];
        else
            path = NULL, i = argc;
    }
    if (!path) {
        fprintf(stderr, "usage: %s --config FILE\n", argv[0]);
        return 2;
    }
    char why[512] = "";
    int err = 0;
    agency_config_t ac;
    cfg_t *cfg = agency_config_load(path, &ac, profile, &err, why, sizeof(why));
    if (!cfg) {
        fprintf(stderr, "%s: %s (%s)\n", argv[0], why, tacnet_errname(err));
        return 1;
    }
    enum log_level level = LOG_LVL_INFO;
    if (log_level_parse(cfg_str(cfg, "log", "level"), &level) != 0) {
        fprintf(stderr, "%s: %s: [log] level must be debug, info, warn or error\n", argv[0], path);
        cfg_destroy(&cfg);
        return 1;
    }
    log_open(profile->name, level);
    proc_daemon_setup(s_on_stop, s_on_hup);

    agency_t *agency = agency_new(&ac, &err, why, sizeof(why));
    if (!agency) {
        log_error("cannot start: %s (%s)", why, tacnet_errname(err));
        cfg_destroy(&cfg);
        return 1;
    }
    int rc = agency_run(agency);
    agency_destroy(&agency);
    cfg_destroy(&cfg);
    return rc == 0 ? 0 : 1;
}
