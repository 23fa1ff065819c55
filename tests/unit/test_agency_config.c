#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agency/config.h"
#include "err.h"

static char s_dir[64];

static const char *s_write(const char *text)
{
    static char path[128];
    snprintf(s_dir, sizeof(s_dir), "/tmp/tacnet-acfg-XXXXXX");
    cr_assert_not_null(mkdtemp(s_dir));
    snprintf(path, sizeof(path), "%s/camhs.conf", s_dir);
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

#define S_REQUIRED \
    "[agency]\ndata_dir = d\nroster = r.bin\nroot_key = root.pub\nkey = c.key\ngazetteer = g\n"

Test(agency_config, a_file_with_only_the_required_keys_gives_the_table_defaults)
{
    const char *path = s_write(S_REQUIRED);
    agency_config_t from_file, from_table;
    char why[256];
    cfg_t *cfg = agency_config_load(path, &from_file, &camhs_profile, NULL, why, sizeof(why));
    cr_assert_not_null(cfg, "%s", why);
    agency_config_defaults(&from_table, &camhs_profile);

    cr_assert_eq(from_file.profile, &camhs_profile);
    cr_assert_eq(from_table.profile, &camhs_profile);
    cr_assert_str_eq(from_file.broker, from_table.broker);
    cr_assert_eq(from_file.map_size, from_table.map_size);
    cr_assert_eq(from_file.map_max, from_table.map_max);
    cr_assert_eq(from_file.credit, from_table.credit);
    cr_assert_eq(from_file.window, from_table.window);
    cr_assert_eq(from_file.heartbeat_ms, from_table.heartbeat_ms);
    cr_assert_str_eq(cfg_str(cfg, "http", "listen"), "127.0.0.1");
    cr_assert_eq(cfg_int(cfg, "http", "port"), 0);
    cr_assert_eq(from_file.retention.closed_case_days, from_table.retention.closed_case_days);
    cr_assert_eq(from_file.retention.audit_days, from_table.retention.audit_days);
    cr_assert_eq(from_file.sweep_interval_ms, from_table.sweep_interval_ms);
    cr_assert_null(from_file.broker_file);
    cr_assert_null(from_file.holidays_path);
    cr_assert_null(from_table.data_dir);
    cr_assert_null(from_table.gazetteer_dir);
    cfg_destroy(&cfg);
    s_cleanup(path);
}

Test(agency_config, the_defaults_are_the_documented_ones)
{
    agency_config_t ac;
    agency_config_defaults(&ac, &school_profile);
    cr_assert_str_eq(ac.broker, "");
    cr_assert_eq(ac.map_size, (size_t)1024 << 20);
    cr_assert_eq(ac.map_max, 0);
    cr_assert_eq(ac.credit, 2048);
    cr_assert_eq(ac.window, 256);
    cr_assert_eq(ac.heartbeat_ms, 2000);
    cr_assert_eq(ac.retention.closed_case_days, 0);
    cr_assert_eq(ac.retention.audit_days, 0);
    cr_assert_eq(ac.sweep_interval_ms, 86400000);
}

Test(agency_config, values_in_the_file_reach_their_fields)
{
    const char *path = s_write(S_REQUIRED "credit = 8\nheartbeat_ms = 500\n[http]\nport = 8401\n"
                                          "[retention]\nclosed_case_days = 365\naudit_days = 730\n"
                                          "sweep_interval = 2h\n");
    agency_config_t ac;
    char why[256];
    cfg_t *cfg = agency_config_load(path, &ac, &camhs_profile, NULL, why, sizeof(why));
    cr_assert_not_null(cfg, "%s", why);
    cr_assert_eq(ac.credit, 8);
    cr_assert_eq(ac.heartbeat_ms, 500);
    cr_assert_eq(cfg_int(cfg, "http", "port"), 8401);
    cr_assert_eq(ac.retention.closed_case_days, 365);
    cr_assert_eq(ac.retention.audit_days, 730);
    cr_assert_eq(ac.sweep_interval_ms, 2 * 3600 * 1000);
    cfg_destroy(&cfg);
    s_cleanup(path);
}

Test(agency_config, a_retention_policy_that_contradicts_itself_is_refused)
{
    const char *path =
        s_write(S_REQUIRED "[retention]\nclosed_case_days = 3650\naudit_days = 365\n");
    agency_config_t ac;
    int err = 0;
    char why[256];
    cr_assert_null(agency_config_load(path, &ac, &camhs_profile, &err, why, sizeof(why)));
    cr_assert_eq(err, TACNET_ECONFIG);
    cr_assert(strstr(why, "camhs.conf: "), "%s", why);
    cr_assert(strstr(why, "audit_days"), "%s", why);
    s_cleanup(path);
}

Test(agency_config, the_deploy_examples_load)
{
    const char *src = getenv("TACNET_SRC") ? getenv("TACNET_SRC") : ".";
    /* agency: tacnet-agency's example (the generic daemon, [agency] name). */
    const char *names[] = { "camhs", "school", "health_visiting", "social_care", "agency" };
    setenv("CREDENTIALS_DIRECTORY", "/run/credentials/tacnet.service", 1);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/deploy/%s.conf", src, names[i]);
        agency_config_t ac;
        char why[256];
        cfg_t *cfg = agency_config_load(path, &ac, &camhs_profile, NULL, why, sizeof(why));
        cr_assert_not_null(cfg, "%s", why);
        cfg_destroy(&cfg);
    }
    unsetenv("CREDENTIALS_DIRECTORY");
}
