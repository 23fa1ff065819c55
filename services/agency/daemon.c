/* daemon: the `main` shared by the four agency daemons — flags, config, signals, run — and the
 * composition root: it creates the agency core and, when [http] port is set, the dashboard on
 * top of it, hands the core's loop the dashboard's poll source, and takes them down in the
 * opposite order. The only file of services/agency that knows the dashboard. */
#include "agency/daemon.h"
#include "agency.h"
#include "dashboard/dashboard.h"
#include "cfg.h"
#include "err.h"
#include "log.h"
#include "proc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const cfg_option_t s_options[] = {
    { "agency", "data_dir", CFG_PATH, NULL, 0, 0, 1, "view directory (local disk, 0700)" },
    { "agency", "broker", CFG_STRING, "", 0, 0, 0, "broker endpoint" },
    { "agency", "broker_endpoint_file", CFG_PATH, NULL, 0, 0, 0, "file naming the endpoint" },
    { "agency", "roster", CFG_PATH, NULL, 0, 0, 1, "signed roster" },
    { "agency", "root_key", CFG_PATH, NULL, 0, 0, 1, "pinned root public key" },
    { "agency", "key", CFG_PATH, NULL, 0, 0, 1, "this agency's key set (0600)" },
    { "agency", "gazetteer", CFG_PATH, NULL, 0, 0, 1, "identifier policy word lists" },
    { "agency", "holidays", CFG_PATH, NULL, 0, 0, 0, "bank holidays file" },
    { "agency", "map_size_mb", CFG_INT, "1024", 1, 1048576, 0, "initial LMDB map" },
    { "agency", "map_max_mb", CFG_INT, "0", 0, 1048576, 0, "ceiling on map growth (0: none)" },
    { "agency", "credit", CFG_INT, "256", 1, 4096, 0, "delivery window" },
    { "agency", "window", CFG_INT, "256", 1, 4096, 0, "publishes in flight" },
    { "agency", "heartbeat_ms", CFG_INT, "2000", 100, 60000, 0, "ZMTP heartbeat" },
    { "http", "listen", CFG_STRING, "127.0.0.1", 0, 0, 0, "dashboard address (IPv4)" },
    { "http", "port", CFG_INT, "0", 0, 65535, 0, "dashboard port; 0 = no HTTP server" },
    { "retention", "closed_case_days", CFG_INT, "0", 0, RETENTION_MAX_DAYS, 0,
      "days a closed case is kept after its closed_date; 0 = for ever" },
    { "retention", "audit_days", CFG_INT, "0", 0, RETENTION_MAX_DAYS, 0,
      "days audit records are kept; 0 = for ever" },
    { "retention", "sweep_interval", CFG_DURATION, "1d", 1000, 31622400000L, 0,
      "how often the sweep runs (1s..366d)" },
    { "log", "level", CFG_STRING, "info", 0, 0, 0, "debug|info|warn|error" },
};

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

/* The dashboard of AGENCY when [http] port is set, its poll source handed to the agency's loop.
 * Returns 0 with *OUT (NULL when there is no port), or the code with WHY. */
static int s_dashboard_start(agency_t *agency, const dashboard_config_t *dc, dashboard_t **out,
                             char *why, size_t whylen)
{
    *out = NULL;
    if (!dc->port)
        return 0;
    int err = 0;
    dashboard_t *dashboard = dashboard_new(agency, dc, &err, why, whylen);
    if (!dashboard)
        return err;
    agency_poll_source_t src = dashboard_poll_source(dashboard);
    if ((err = agency_poll_add(agency, &src)) != 0) {
        snprintf(why, whylen, "cannot poll the dashboard: %s", tacnet_strerror(err));
        dashboard_destroy(&dashboard);
        return err;
    }
    *out = dashboard;
    return 0;
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
    cfg_t *cfg =
        cfg_load(path, s_options, sizeof(s_options) / sizeof(s_options[0]), &err, why, sizeof(why));
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
    agency_config_t ac = {
        .profile = profile,
        .data_dir = cfg_str(cfg, "agency", "data_dir"),
        .broker = cfg_str(cfg, "agency", "broker"),
        .broker_file = cfg_str(cfg, "agency", "broker_endpoint_file"),
        .roster_path = cfg_str(cfg, "agency", "roster"),
        .root_pub_path = cfg_str(cfg, "agency", "root_key"),
        .key_path = cfg_str(cfg, "agency", "key"),
        .gazetteer_dir = cfg_str(cfg, "agency", "gazetteer"),
        .holidays_path = cfg_str(cfg, "agency", "holidays"),
        .map_size = (size_t)cfg_int(cfg, "agency", "map_size_mb") << 20,
        .map_max = (size_t)cfg_int(cfg, "agency", "map_max_mb") << 20,
        .credit = (unsigned)cfg_int(cfg, "agency", "credit"),
        .window = (unsigned)cfg_int(cfg, "agency", "window"),
        .heartbeat_ms = (unsigned)cfg_int(cfg, "agency", "heartbeat_ms"),
        .retention = { .closed_case_days = (uint32_t)cfg_int(cfg, "retention", "closed_case_days"),
                       .audit_days = (uint32_t)cfg_int(cfg, "retention", "audit_days") },
        .sweep_interval_ms = (uint64_t)cfg_duration_ms(cfg, "retention", "sweep_interval"),
    };
    dashboard_config_t dc = {
        .listen = cfg_str(cfg, "http", "listen"),
        .port = (unsigned)cfg_int(cfg, "http", "port"),
    };
    if ((err = retention_policy_check(&ac.retention, why, sizeof(why))) != 0) {
        fprintf(stderr, "%s: %s: %s (%s)\n", argv[0], path, why, tacnet_errname(err));
        cfg_destroy(&cfg);
        return 1;
    }
    proc_daemon_setup(s_on_stop, s_on_hup);

    agency_t *agency = agency_new(&ac, &err, why, sizeof(why));
    dashboard_t *dashboard = NULL;
    if (agency)
        err = s_dashboard_start(agency, &dc, &dashboard, why, sizeof(why));
    int rc = 1;
    if (!agency || err != 0)
        log_error("cannot start: %s (%s)", why, tacnet_errname(err));
    else
        rc = agency_run(agency) == 0 ? 0 : 1;
    /* The dashboard holds the agency and sits in its loop: it goes first. */
    agency_poll_remove(agency, dashboard);
    dashboard_destroy(&dashboard);
    agency_destroy(&agency);
    cfg_destroy(&cfg);
    return rc;
}
