/* daemon: the `main` shared by the four agency daemons — flags, config, signals, run — and the
 * composition root: it creates the agency core and, when [http] port is set, the dashboard on
 * top of it, hands the core's loop the dashboard's poll source, and takes them down in the
 * opposite order. It lives in its own folder so that the core (services/agency) never includes
 * the dashboard, which is built on the core's narrow header. */
#include "agencyd/daemon.h"
#include "version.h"
#include "wire.h"
#include "agency/agency.h"
#include "agency/config.h"
#include "dashboard/dashboard.h"
#include "cfg.h"
#include "err.h"
#include "log.h"
#include "zone.h"
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

int agencyd_main(int argc, char **argv, const agency_profile_t *profile)
{
    const char *path = NULL;
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("%s (tacnet %s, wire schema %d)\n", argv[0], TACNET_VERSION, WIRE_SCHEMA_VERSION);
        return 0;
    }
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
    const char *name = cfg_str(cfg, "agency", "name");
    if (name && *name && strcmp(name, profile->name) != 0) {
        fprintf(stderr, "%s: %s: [agency] name is %s but this is the %s daemon\n", argv[0], path,
                name, profile->name);
        cfg_destroy(&cfg);
        return 1;
    }
    enum log_level level = LOG_LVL_INFO;
    if (log_level_parse(cfg_str(cfg, "log", "level"), &level) != 0) {
        fprintf(stderr, "%s: %s: [log] level must be debug, info, warn or error\n", argv[0], path);
        cfg_destroy(&cfg);
        return 1;
    }
    log_open(profile->name, level);
    /* The partnership's zone for the whole process, dashboard or not: the minutes' date check
     * and the zone named in API replies read it. A name the tz database lacks stops the start. */
    if (zone_set(ac.time_zone, why, sizeof(why)) != 0) {
        fprintf(stderr, "%s: %s: [http] time_zone: %s (E_CONFIG)\n", argv[0], path, why);
        cfg_destroy(&cfg);
        return 1;
    }
    /* The [http] rows of the agency's table have no field in agency_config_t but time_zone
     * (the core names it in its API replies): the core does not serve HTTP. Their defaults are
     * the table's. */
    dashboard_config_t dc = {
        .listen = cfg_str(cfg, "http", "listen"),
        .port = (unsigned)cfg_int(cfg, "http", "port"),
        .hosts = cfg_str(cfg, "http", "hosts"),
        .cert = cfg_str(cfg, "http", "cert"),
        .key = cfg_str(cfg, "http", "key"),
        .behind_tls_proxy = cfg_bool(cfg, "http", "behind_tls_proxy"),
        .time_zone = ac.time_zone,
    };
    proc_daemon_setup(s_on_stop, s_on_hup);

    agency_t *agency = agency_new(&ac, &err, why, sizeof(why));
    dashboard_t *dashboard = NULL;
    if (agency)
        err = s_dashboard_start(agency, &dc, &dashboard, why, sizeof(why));
    /* The API socket last: its appearance tells scripts and agency systems that everything,
     * the dashboard included, is serving. */
    if (agency && err == 0)
        err = agency_api_listen(agency, why, sizeof(why));
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
