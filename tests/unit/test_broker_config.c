#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/config.h"
#include "err.h"

static char s_dir[64];

static const char *s_write(const char *text)
{
    static char path[128];
    snprintf(s_dir, sizeof(s_dir), "/tmp/tacnet-bcfg-XXXXXX");
    cr_assert_not_null(mkdtemp(s_dir));
    snprintf(path, sizeof(path), "%s/broker.conf", s_dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void s_cleanup(const char *path)
{
    unlink(path);
    rmdir(s_dir);
}

#define S_REQUIRED "[broker]\ndata_dir = d\nroster = r.bin\nroot_key = root.pub\nkey = b.key\n"

Test(broker_config, a_file_with_only_the_required_keys_gives_the_table_defaults)
{
    const char *path = s_write(S_REQUIRED);
    broker_config_t from_file, from_table;
    char why[256];
    cfg_t *cfg = broker_config_load(path, &from_file, NULL, why, sizeof(why));
    cr_assert_not_null(cfg, "%s", why);
    broker_config_defaults(&from_table);

    cr_assert_str_eq(from_file.bind, from_table.bind);
    cr_assert_eq(from_file.map_size, from_table.map_size);
    cr_assert_eq(from_file.map_max, from_table.map_max);
    cr_assert_eq(from_file.batch_max, from_table.batch_max);
    cr_assert_eq(from_file.credit_max, from_table.credit_max);
    cr_assert_eq(from_file.heartbeat_ms, from_table.heartbeat_ms);
    cr_assert_eq(from_file.tick_ms, from_table.tick_ms);
    cr_assert_eq(from_file.max_clock_skew_s, from_table.max_clock_skew_s);
    cr_assert_eq(from_file.max_event_age_days, from_table.max_event_age_days);
    cr_assert_eq(from_file.quota_per_s, from_table.quota_per_s);
    cr_assert_eq(from_file.quota_burst, from_table.quota_burst);
    cr_assert_null(from_file.holidays_path);

    /* The paths the file set, resolved against its directory; the defaults fill has none. */
    char want[160];
    snprintf(want, sizeof(want), "%s/r.bin", s_dir);
    cr_assert_str_eq(from_file.roster_path, want);
    cr_assert_null(from_table.data_dir);
    cr_assert_null(from_table.roster_path);
    cr_assert_null(from_table.root_pub_path);
    cr_assert_null(from_table.key_path);
    cfg_destroy(&cfg);
    s_cleanup(path);
}

Test(broker_config, the_defaults_are_the_documented_ones)
{
    broker_config_t bc;
    broker_config_defaults(&bc);
    cr_assert_str_eq(bc.bind, "tcp://127.0.0.1:7750");
    cr_assert_eq(bc.map_size, (size_t)1024 << 20);
    cr_assert_eq(bc.map_max, 0);
    cr_assert_eq(bc.batch_max, 512);
    cr_assert_eq(bc.credit_max, 2048);
    cr_assert_eq(bc.heartbeat_ms, 2000);
    cr_assert_eq(bc.tick_ms, 200);
    cr_assert_eq(bc.max_clock_skew_s, 300);
    cr_assert_eq(bc.max_event_age_days, 30);
    cr_assert_eq(bc.history_window_s, 30 * 86400);
    cr_assert_eq(bc.quota_per_s, 0);
    cr_assert_eq(bc.quota_burst, 0);
    /* Replication is off unless [replication] nats names servers. */
    cr_assert_str_eq(bc.repl_nats, "");
    cr_assert_str_eq(bc.repl_stream, "TACNET_JOURNAL");
    cr_assert_eq(bc.repl_replicas, 3);
    cr_assert_str_eq(bc.repl_lease_bucket, "TACNET_LEASE");
    cr_assert_eq(bc.repl_lease_ttl_ms, 3000);
    cr_assert_str_eq(bc.repl_node, "");
    cr_assert_eq(bc.repl_ack_timeout_ms, 2000);
    cr_assert_null(bc.repl);
}

Test(broker_config, values_in_the_file_reach_their_fields)
{
    const char *path = s_write(S_REQUIRED "map_size_mb = 8\nmap_max_mb = 64\ncredit_max = 16\n"
                                          "tick_ms = 50\nquota_per_s = 5\nquota_burst = 9\n");
    broker_config_t bc;
    cfg_t *cfg = broker_config_load(path, &bc, NULL, NULL, 0);
    cr_assert_not_null(cfg);
    cr_assert_eq(bc.map_size, (size_t)8 << 20);
    cr_assert_eq(bc.map_max, (size_t)64 << 20);
    cr_assert_eq(bc.credit_max, 16);
    cr_assert_eq(bc.tick_ms, 50);
    cr_assert_eq(bc.quota_per_s, 5);
    cr_assert_eq(bc.quota_burst, 9);
    cfg_destroy(&cfg);
    s_cleanup(path);
}

Test(broker_config, an_unknown_key_is_refused_with_its_line)
{
    const char *path = s_write(S_REQUIRED "credit_maximum = 16\n");
    broker_config_t bc;
    int err = 0;
    char why[256];
    cr_assert_null(broker_config_load(path, &bc, &err, why, sizeof(why)));
    cr_assert_eq(err, TACNET_ECONFIG);
    cr_assert(strstr(why, "broker.conf:6: unknown key \"credit_maximum\" in [broker]"), "%s", why);
    s_cleanup(path);
}

Test(broker_config, the_deploy_example_loads)
{
    const char *src = getenv("TACNET_SRC") ? getenv("TACNET_SRC") : ".";
    char path[1024];
    snprintf(path, sizeof(path), "%s/deploy/broker.conf", src);
    setenv("CREDENTIALS_DIRECTORY", "/run/credentials/tacnet-broker.service", 1);
    broker_config_t bc;
    char why[256];
    cfg_t *cfg = broker_config_load(path, &bc, NULL, why, sizeof(why));
    cr_assert_not_null(cfg, "%s", why);
    cr_assert_str_eq(bc.key_path, "/run/credentials/tacnet-broker.service/broker.key");
    cfg_destroy(&cfg);
    unsetenv("CREDENTIALS_DIRECTORY");
}
