/* tacnet-broker: parse flags, load the config, run the broker. Logic lives in broker.c. */
#include "broker.h"
#include "cfg.h"
#include "err.h"
#include "log.h"
#include "proc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static const cfg_option_t s_options[] = {
    { "broker", "bind", CFG_STRING, "tcp://127.0.0.1:7750", 0, 0, 0, "ROUTER endpoint" },
    { "broker", "data_dir", CFG_PATH, NULL, 0, 0, 1, "journal directory (local disk, 0700)" },
    { "broker", "roster", CFG_PATH, NULL, 0, 0, 1, "signed roster" },
    { "broker", "root_key", CFG_PATH, NULL, 0, 0, 1, "pinned root public key" },
    { "broker", "key", CFG_PATH, NULL, 0, 0, 1, "the broker's key set (0600)" },
    { "broker", "holidays", CFG_PATH, NULL, 0, 0, 0, "bank holidays file (optional)" },
    { "broker", "map_size_mb", CFG_INT, "1024", 1, 1048576, 0, "initial LMDB map" },
    { "broker", "map_max_mb", CFG_INT, "0", 0, 1048576, 0, "ceiling on map growth (0: none)" },
    { "broker", "batch_max", CFG_INT, "256", 1, 4096, 0, "publishes per commit" },
    { "broker", "credit_max", CFG_INT, "1024", 1, 4096, 0, "delivery window cap" },
    { "broker", "heartbeat_ms", CFG_INT, "2000", 100, 60000, 0, "ZMTP heartbeat" },
    { "broker", "tick_ms", CFG_INT, "200", 10, 10000, 0, "timer resolution" },
    { "broker", "max_clock_skew_s", CFG_INT, "300", 1, 86400, 0, "created_at ahead of us" },
    { "broker", "max_event_age_days", CFG_INT, "30", 1, 3650, 0, "created_at behind us" },
    { "broker", "quota_per_s", CFG_INT, "0", 0, 1000000, 0, "publishes/s per agency, 0 = off" },
    { "broker", "quota_burst", CFG_INT, "0", 0, 100000000, 0, "publishes saved up per agency" },
    { "log", "level", CFG_STRING, "info", 0, 0, 0, "debug|info|warn|error" },
};

static void s_on_stop(int sig)
{
    (void)sig;
    broker_stop_flag = 1;
}

static void s_on_hup(int sig)
{
    (void)sig;
    broker_reload_flag = 1;
}

static int s_usage(void)
{
    fprintf(stderr, "usage: tacnet-broker --config FILE\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
            path = argv[++i];
        else
            return s_usage();
    }
    if (!path)
        return s_usage();

    char why[512] = "";
    int err = 0;
    cfg_t *cfg =
        cfg_load(path, s_options, sizeof(s_options) / sizeof(s_options[0]), &err, why, sizeof(why));
    if (!cfg) {
        fprintf(stderr, "tacnet-broker: %s (%s)\n", why, tacnet_errname(err));
        return 1;
    }
    enum log_level level = LOG_LVL_INFO;
    if (log_level_parse(cfg_str(cfg, "log", "level"), &level) != 0) {
        fprintf(stderr, "tacnet-broker: %s: [log] level must be debug, info, warn or error\n",
                path);
        cfg_destroy(&cfg);
        return 1;
    }
    log_open("broker", level);

    broker_config_t bc = {
        .bind = cfg_str(cfg, "broker", "bind"),
        .data_dir = cfg_str(cfg, "broker", "data_dir"),
        .roster_path = cfg_str(cfg, "broker", "roster"),
        .root_pub_path = cfg_str(cfg, "broker", "root_key"),
        .key_path = cfg_str(cfg, "broker", "key"),
        .holidays_path = cfg_str(cfg, "broker", "holidays"),
        .map_size = (size_t)cfg_int(cfg, "broker", "map_size_mb") << 20,
        .map_max = (size_t)cfg_int(cfg, "broker", "map_max_mb") << 20,
        .batch_max = (unsigned)cfg_int(cfg, "broker", "batch_max"),
        .credit_max = (unsigned)cfg_int(cfg, "broker", "credit_max"),
        .heartbeat_ms = (unsigned)cfg_int(cfg, "broker", "heartbeat_ms"),
        .tick_ms = (unsigned)cfg_int(cfg, "broker", "tick_ms"),
        .max_clock_skew_s = (unsigned)cfg_int(cfg, "broker", "max_clock_skew_s"),
        .max_event_age_days = (unsigned)cfg_int(cfg, "broker", "max_event_age_days"),
        .quota_per_s = (unsigned)cfg_int(cfg, "broker", "quota_per_s"),
        .quota_burst = (unsigned)cfg_int(cfg, "broker", "quota_burst"),
    };
    proc_daemon_setup(s_on_stop, s_on_hup);

    broker_t *broker = broker_new(&bc, &err, why, sizeof(why));
    if (!broker) {
        log_error("cannot start: %s (%s)", why, tacnet_errname(err));
        cfg_destroy(&cfg);
        return 1;
    }
    int rc = broker_run(broker);
    broker_destroy(&broker);
    cfg_destroy(&cfg);
    return rc == 0 ? 0 : 1;
}
