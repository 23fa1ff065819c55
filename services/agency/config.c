/* config: an agency daemon's table, each row bound to the agency_config_t field it fills. */
#include "agency/config.h"
#include "err.h"

#include <stdio.h>
#include <string.h>

#define S_FIELD(member) CFG_FIELD(agency_config_t, member)
#define S_MIB(member)   CFG_FIELD_SCALED(agency_config_t, member, CFG_MIB)

const cfg_option_t agency_config_options[] = {
    { "agency", "data_dir", CFG_PATH, NULL, 0, 0, 1, "view directory (local disk, 0700)",
      S_FIELD(data_dir) },
    /* Read before the agency exists: tacnet-agency serves the roster's agency of this name; a
     * named daemon refuses a name other than its own. */
    { "agency", "name", CFG_STRING, "", 0, 0, 0, "the agency served, as the roster names it",
      CFG_NO_FIELD },
    { "agency", "broker", CFG_STRING, "", 0, 0, 0,
      "broker endpoints, comma-separated (active and standbys: tried in turn)", S_FIELD(broker) },
    { "agency", "broker_endpoint_file", CFG_PATH, NULL, 0, 0, 0,
      "file naming the endpoints, one per line", S_FIELD(broker_file) },
    { "agency", "roster", CFG_PATH, NULL, 0, 0, 1, "signed roster", S_FIELD(roster_path) },
    { "agency", "root_key", CFG_PATH, NULL, 0, 0, 1, "pinned root public key",
      S_FIELD(root_pub_path) },
    { "agency", "key", CFG_PATH, NULL, 0, 0, 1, "this agency's key set (0600)", S_FIELD(key_path) },
    { "agency", "gazetteer", CFG_PATH, NULL, 0, 0, 1, "identifier policy word lists",
      S_FIELD(gazetteer_dir) },
    { "agency", "holidays", CFG_PATH, NULL, 0, 0, 0, "bank holidays file", S_FIELD(holidays_path) },
    { "agency", "map_size_mb", CFG_INT, "1024", 1, 1048576, 0, "initial LMDB map",
      S_MIB(map_size) },
    { "agency", "map_max_mb", CFG_INT, "0", 0, 1048576, 0, "ceiling on map growth (0: none)",
      S_MIB(map_max) },
    { "agency", "credit", CFG_INT, "2048", 1, 4096, 0, "delivery window", S_FIELD(credit) },
    { "agency", "window", CFG_INT, "256", 1, 4096, 0, "publishes in flight", S_FIELD(window) },
    { "agency", "heartbeat_ms", CFG_INT, "2000", 100, 60000, 0, "ZMTP heartbeat",
      S_FIELD(heartbeat_ms) },
    /* Read by the daemon's main into the dashboard's own config (dashboard_config_t). */
    { "http", "listen", CFG_STRING, "127.0.0.1", 0, 0, 0, "dashboard address (IPv4 or IPv6)",
      CFG_NO_FIELD },
    { "http", "port", CFG_INT, "0", 0, 65535, 0, "dashboard port; 0 = no HTTP server",
      CFG_NO_FIELD },
    { "http", "hosts", CFG_STRING, "", 0, 0, 0,
      "Host names served, comma-separated (empty: listen address, localhost, 127.0.0.1, ::1)",
      CFG_NO_FIELD },
    { "http", "cert", CFG_PATH, NULL, 0, 0, 0, "PEM certificate chain: serve HTTPS (with key)",
      CFG_NO_FIELD },
    { "http", "key", CFG_PATH, NULL, 0, 0, 0, "PEM private key for cert (0600 or 0640)",
      CFG_NO_FIELD },
    { "http", "behind_tls_proxy", CFG_BOOL, "false", 0, 0, 0,
      "a proxy in front terminates TLS: plain HTTP beyond loopback, Secure cookies", CFG_NO_FIELD },
    { "http", "time_zone", CFG_STRING, "", 0, 0, 0,
      "the time zone the dashboard and tacnet show (and the dashboard reads) times in, a tz "
      "database name such as Europe/London (empty: UTC)",
      S_FIELD(time_zone) },
    { "retention", "closed_case_days", CFG_INT, "0", 0, RETENTION_MAX_DAYS, 0,
      "days a closed case is kept after its closed_date; 0 = for ever",
      S_FIELD(retention.closed_case_days) },
    { "retention", "audit_days", CFG_INT, "0", 0, RETENTION_MAX_DAYS, 0,
      "days audit records are kept; 0 = for ever", S_FIELD(retention.audit_days) },
    { "retention", "sweep_interval", CFG_DURATION, "1d", 1000, 31622400000L, 0,
      "how often the sweep runs (1s..366d)", S_FIELD(sweep_interval_ms) },
    { "outbox", "unapplied_after", CFG_DURATION, "1d", 1000, 31622400000L, 0,
      "an accepted event some recipient has not applied after this long is listed in the "
      "outbox (1s..366d)",
      S_FIELD(unapplied_after_ms) },
    { "log", "level", CFG_STRING, "info", 0, 0, 0, "debug|info|warn|error", CFG_NO_FIELD },
};

const size_t agency_config_n_options =
    sizeof(agency_config_options) / sizeof(agency_config_options[0]);

void agency_config_defaults(agency_config_t *ac, const agency_profile_t *profile)
{
    memset(ac, 0, sizeof(*ac));
    cfg_defaults_fill(agency_config_options, agency_config_n_options, ac);
    ac->profile = profile;
}

cfg_t *agency_config_load(const char *path, agency_config_t *ac, const agency_profile_t *profile,
                          int *err, char *why, size_t whylen)
{
    cfg_t *cfg = cfg_load(path, agency_config_options, agency_config_n_options, err, why, whylen);
    if (!cfg)
        return NULL;
    memset(ac, 0, sizeof(*ac));
    cfg_fill(cfg, ac);
    ac->profile = profile;
    char reason[256];
    int rc = retention_policy_check(&ac->retention, reason, sizeof(reason));
    if (rc != 0) {
        if (why && whylen)
            snprintf(why, whylen, "%s: %s", path, reason);
        if (err)
            *err = rc;
        cfg_destroy(&cfg);
    }
    return cfg;
}
