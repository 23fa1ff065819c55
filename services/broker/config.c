/* config: broker.conf's table, each row bound to the broker_config_t field it fills. */
#include "broker/config.h"

#include <string.h>

#define S_FIELD(member) CFG_FIELD(broker_config_t, member)
#define S_MIB(member)   CFG_FIELD_SCALED(broker_config_t, member, CFG_MIB)

const cfg_option_t broker_config_options[] = {
    { "broker", "bind", CFG_STRING, "tcp://127.0.0.1:7750", 0, 0, 0, "ROUTER endpoint",
      S_FIELD(bind) },
    { "broker", "data_dir", CFG_PATH, NULL, 0, 0, 1, "journal directory (local disk, 0700)",
      S_FIELD(data_dir) },
    { "broker", "roster", CFG_PATH, NULL, 0, 0, 1, "signed roster", S_FIELD(roster_path) },
    { "broker", "root_key", CFG_PATH, NULL, 0, 0, 1, "pinned root public key",
      S_FIELD(root_pub_path) },
    { "broker", "key", CFG_PATH, NULL, 0, 0, 1, "the broker's key set (0600)", S_FIELD(key_path) },
    { "broker", "holidays", CFG_PATH, NULL, 0, 0, 0, "bank holidays file (optional)",
      S_FIELD(holidays_path) },
    { "broker", "map_size_mb", CFG_INT, "1024", 1, 1048576, 0, "initial LMDB map",
      S_MIB(map_size) },
    { "broker", "map_max_mb", CFG_INT, "0", 0, 1048576, 0, "ceiling on map growth (0: none)",
      S_MIB(map_max) },
    { "broker", "batch_max", CFG_INT, "512", 1, 4096, 0, "publishes per commit",
      S_FIELD(batch_max) },
    { "broker", "credit_max", CFG_INT, "2048", 1, 4096, 0, "delivery window cap",
      S_FIELD(credit_max) },
    { "broker", "heartbeat_ms", CFG_INT, "2000", 100, 60000, 0, "ZMTP heartbeat",
      S_FIELD(heartbeat_ms) },
    { "broker", "tick_ms", CFG_INT, "200", 10, 10000, 0, "timer resolution", S_FIELD(tick_ms) },
    { "broker", "max_clock_skew_s", CFG_INT, "300", 1, 86400, 0, "created_at ahead of us",
      S_FIELD(max_clock_skew_s) },
    { "broker", "max_event_age_days", CFG_INT, "30", 1, 3650, 0, "created_at behind us",
      S_FIELD(max_event_age_days) },
    { "broker", "quota_per_s", CFG_INT, "0", 0, 1000000, 0, "publishes/s per agency, 0 = off",
      S_FIELD(quota_per_s) },
    { "broker", "quota_burst", CFG_INT, "0", 0, 100000000, 0, "publishes saved up per agency",
      S_FIELD(quota_burst) },
    { "broker", "history_window_s", CFG_INT, "2592000", 1, 315360000, 0,
      "seconds a sealed body stays for late members' grants", S_FIELD(history_window_s) },
    { "replication", "nats", CFG_STRING, "", 0, 0, 0,
      "NATS URLs, comma-separated (empty: replication off)", S_FIELD(repl_nats) },
    { "replication", "stream", CFG_STRING, "TACNET_JOURNAL", 0, 0, 0, "JetStream stream",
      S_FIELD(repl_stream) },
    { "replication", "replicas", CFG_INT, "3", 1, 5, 0, "copies of stream and lease",
      S_FIELD(repl_replicas) },
    { "replication", "lease_bucket", CFG_STRING, "TACNET_LEASE", 0, 0, 0,
      "key-value bucket of the lease", S_FIELD(repl_lease_bucket) },
    { "replication", "lease_ttl_ms", CFG_INT, "3000", 300, 600000, 0,
      "lease lapses after this without renewal", S_FIELD(repl_lease_ttl_ms) },
    { "replication", "node", CFG_STRING, "", 0, 0, 0, "name in the lease (empty: hostname-pid)",
      S_FIELD(repl_node) },
    { "replication", "ack_timeout_ms", CFG_INT, "2000", 50, 60000, 0,
      "wait for the stream's acknowledgement", S_FIELD(repl_ack_timeout_ms) },
    { "log", "level", CFG_STRING, "info", 0, 0, 0, "debug|info|warn|error", CFG_NO_FIELD },
};

const size_t broker_config_n_options =
    sizeof(broker_config_options) / sizeof(broker_config_options[0]);

void broker_config_defaults(broker_config_t *bc)
{
    memset(bc, 0, sizeof(*bc));
    cfg_defaults_fill(broker_config_options, broker_config_n_options, bc);
}

cfg_t *broker_config_load(const char *path, broker_config_t *bc, int *err, char *why, size_t whylen)
{
    cfg_t *cfg = cfg_load(path, broker_config_options, broker_config_n_options, err, why, whylen);
    if (!cfg)
        return NULL;
    memset(bc, 0, sizeof(*bc));
    cfg_fill(cfg, bc);
    return cfg;
}
