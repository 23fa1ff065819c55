#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "err.h"

#define DAY_MS 86400000L

static const cfg_option_t s_table[] = {
    { "", "version", CFG_INT, "1", 1, 1, 0, "file format version", CFG_NO_FIELD },
    { "broker", "name", CFG_STRING, NULL, 0, 0, 1, "name shown in logs", CFG_NO_FIELD },
    { "broker", "bind", CFG_STRING, "tcp://127.0.0.1:5555", 0, 0, 0, "ZeroMQ endpoint",
      CFG_NO_FIELD },
    { "broker", "max_frame", CFG_INT, "65536", 1024, 1048576, 0, "largest frame in bytes",
      CFG_NO_FIELD },
    { "broker", "curve", CFG_BOOL, "yes", 0, 0, 0, "require CURVE", CFG_NO_FIELD },
    { "broker", "offset", CFG_INT, "-3", 0, 0, 0, "unbounded integer", CFG_NO_FIELD },
    { "store", "dir", CFG_PATH, "data", 0, 0, 0, "LMDB directory", CFG_NO_FIELD },
    { "store", "keys", CFG_PATH, NULL, 0, 0, 0, "key directory", CFG_NO_FIELD },
    { "escalation", "stage_one", CFG_DURATION, "2d", 3600000, 30 * DAY_MS, 0, "first stage",
      CFG_NO_FIELD },
    { "escalation", "poll", CFG_DURATION, "250ms", 0, 0, 0, "timer period", CFG_NO_FIELD },
};
#define N_TABLE (sizeof(s_table) / sizeof(s_table[0]))

static cfg_t *s_load(const char *text, int *err, char *why, size_t whylen)
{
    return cfg_load_string(text, "conf/broker.conf", s_table, N_TABLE, err, why, whylen);
}

Test(cfg, comments_blank_lines_and_defaults)
{
    const char *text = "# tacnet broker (synthetic test config)\n"
                       "; a semicolon comment\n"
                       "\n"
                       "[broker]\n"
                       "    # an indented comment is still a comment\n"
                       "name = test-broker\n"
                       "\n";
    int err = -1;
    char why[256] = "unchanged";
    cfg_t *cfg = s_load(text, &err, why, sizeof(why));
    cr_assert_not_null(cfg, "%s", why);
    cr_assert_eq(err, 0);
    cr_assert_str_eq(why, "");
    cr_assert_str_eq(cfg_str(cfg, "broker", "name"), "test-broker");
    cr_assert_eq(cfg_line(cfg, "broker", "name"), 6);
    cr_assert_str_eq(cfg_str(cfg, "broker", "bind"), "tcp://127.0.0.1:5555");
    cr_assert_eq(cfg_line(cfg, "broker", "bind"), 0);
    cr_assert_eq(cfg_int(cfg, "broker", "max_frame"), 65536);
    cr_assert_eq(cfg_int(cfg, "broker", "offset"), -3);
    cr_assert_eq(cfg_int(cfg, "", "version"), 1);
    cr_assert_eq(cfg_bool(cfg, "broker", "curve"), 1);
    cr_assert_eq(cfg_duration_ms(cfg, "escalation", "stage_one"), 2 * DAY_MS);
    cr_assert_eq(cfg_duration_ms(cfg, "escalation", "poll"), 250);
    cr_assert_str_eq(cfg_str(cfg, "store", "dir"), "conf/data", "default resolved too");
    cr_assert_null(cfg_str(cfg, "store", "keys"));
    cfg_destroy(&cfg);
    cr_assert_null(cfg);
    cfg_destroy(&cfg);
    cfg_destroy(NULL);
}

Test(cfg, every_type_parses_from_the_file)
{
    const char *text = "version = 1\n"
                       "[broker]\n"
                       "name=b\n"
                       "bind = tcp://*:7000\n"
                       "max_frame = 1048576\n"
                       "curve = Off\n"
                       "offset = -123456\n"
                       "[escalation]\n"
                       "stage_one = 36h\n"
                       "poll = 5s\n"
                       "[store]\n"
                       "dir = /var/lib/tacnet\n"
                       "keys = ../keys\n";
    char why[256];
    cfg_t *cfg = s_load(text, NULL, why, sizeof(why));
    cr_assert_not_null(cfg, "%s", why);
    cr_assert_eq(cfg_int(cfg, "", "version"), 1);
    cr_assert_eq(cfg_line(cfg, "", "version"), 1);
    cr_assert_str_eq(cfg_str(cfg, "broker", "bind"), "tcp://*:7000");
    cr_assert_eq(cfg_int(cfg, "broker", "max_frame"), 1048576);
    cr_assert_eq(cfg_bool(cfg, "broker", "curve"), 0);
    cr_assert_eq(cfg_int(cfg, "broker", "offset"), -123456);
    cr_assert_eq(cfg_duration_ms(cfg, "escalation", "stage_one"), 36 * 3600000L);
    cr_assert_eq(cfg_duration_ms(cfg, "escalation", "poll"), 5000);
    cr_assert_str_eq(cfg_str(cfg, "store", "dir"), "/var/lib/tacnet", "absolute stays");
    cr_assert_str_eq(cfg_str(cfg, "store", "keys"), "conf/../keys");
    cfg_destroy(&cfg);
}

Test(cfg, boolean_spellings)
{
    static const struct {
        const char *word;
        int value;
    } cases[] = { { "yes", 1 }, { "TRUE", 1 },  { "on", 1 },  { "1", 1 },
                  { "No", 0 },  { "false", 0 }, { "OFF", 0 }, { "0", 0 } };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[128], why[256];
        snprintf(text, sizeof(text), "[broker]\nname = b\ncurve = %s\n", cases[i].word);
        cfg_t *cfg = s_load(text, NULL, why, sizeof(why));
        cr_assert_not_null(cfg, "%s: %s", cases[i].word, why);
        cr_assert_eq(cfg_bool(cfg, "broker", "curve"), cases[i].value, "%s", cases[i].word);
        cfg_destroy(&cfg);
    }
}

Test(cfg, each_rejection_names_file_line_and_key)
{
    static const struct {
        const char *text;
        const char *why;
    } cases[] = {
        { "[broker]\nname = b\n\n# typo below\nbind_adress = tcp://*:1\n",
          "conf/broker.conf:5: unknown key \"bind_adress\" in [broker]" },
        { "colour = red\n[broker]\nname = b\n",
          "conf/broker.conf:1: unknown key \"colour\" before any [section]" },
        { "[broker]\nname = b\n[brokr]\n", "conf/broker.conf:3: unknown section [brokr]" },
        { "[broker]\nname = b\n[store]\n[broker]\ncurve = no\n",
          "conf/broker.conf:4: section [broker] appears twice (first on line 1)" },
        { "[broker]\nname = a\nbind = x\nname = b\n",
          "conf/broker.conf:4: duplicate key \"name\" in [broker] (first set on line 2)" },
        { "[broker]\nname = b\nmax_frame = 64k\n",
          "conf/broker.conf:3: \"max_frame\" in [broker] must be an integer, not \"64k\"" },
        { "[broker]\nname = b\nmax_frame =\n",
          "conf/broker.conf:3: \"max_frame\" in [broker] must be an integer, not \"\"" },
        { "[broker]\nname = b\nmax_frame = 99999999999999999999999\n",
          "conf/broker.conf:3: \"max_frame\" in [broker] must be an integer, not "
          "\"99999999999999999999999\"" },
        { "[broker]\nname = b\nmax_frame = 512\n",
          "conf/broker.conf:3: \"max_frame\" in [broker] is 512, outside 1024..1048576" },
        { "[broker]\nname = b\nmax_frame = 1048577\n",
          "conf/broker.conf:3: \"max_frame\" in [broker] is 1048577, outside 1024..1048576" },
        { "[broker]\nname = b\ncurve = maybe\n",
          "conf/broker.conf:3: \"curve\" in [broker] must be yes or no, not \"maybe\"" },
        { "[broker]\nname = b\n[escalation]\nstage_one = 2 days\n",
          "conf/broker.conf:4: \"stage_one\" in [escalation] must be a duration such as 250ms, "
          "30s, 5m, 2h or 10d, not \"2 days\"" },
        { "[broker]\nname = b\n[escalation]\nstage_one = 30m\n",
          "conf/broker.conf:4: \"stage_one\" in [escalation] is 30m, outside 3600000..2592000000 "
          "ms" },
        { "[broker]\nbind = tcp://*:1\n",
          "conf/broker.conf: missing required key \"name\" in [broker]" },
        { "[broker]\nname = b\njust some words\n",
          "conf/broker.conf:3: expected \"key = value\", \"[section]\" or a comment" },
        { "[broker\nname = b\n",
          "conf/broker.conf:1: expected \"key = value\", \"[section]\" or a comment" },
        { "[broker]\nname = b\nbind = tcp://*:1 # public\n",
          "conf/broker.conf:3: comment after the value of \"bind\" in [broker]: put it on its "
          "own line" },
        { "[broker]\nname = b\nmax_frame = 2048 ; bytes\n",
          "conf/broker.conf:3: comment after the value of \"max_frame\" in [broker]: put it on "
          "its own line" },
        { "[broker]\nname = b\n  curve = no\n",
          "conf/broker.conf:3: indented line in [broker] (continuation lines are not "
          "allowed)" },
        { "[broker] # main\nname = b\n",
          "conf/broker.conf:1: text after the section header (comments go on their own line)" },
        { "[store]\ndir =\n[broker]\nname = b\n",
          "conf/broker.conf:2: empty path for \"dir\" in [store]" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int err = 0;
        char why[256] = "";
        cfg_t *cfg = s_load(cases[i].text, &err, why, sizeof(why));
        cr_assert_null(cfg, "case %zu accepted", i);
        cr_assert_eq(err, TACNET_ECONFIG, "case %zu: %s", i, tacnet_errname(err));
        cr_assert_str_eq(why, cases[i].why, "case %zu", i);
    }
}

Test(cfg, top_level_range_message_names_no_section)
{
    /* Top-level keys read "before any [section]" rather than an empty "[]". */
    char why[256];
    cr_assert_null(s_load("version = 2\n", NULL, why, sizeof(why)));
    cr_assert_str_eq(why, "conf/broker.conf:1: \"version\" before any [section] is 2, outside "
                          "1..1");
}

Test(cfg, first_error_in_the_file_is_reported)
{
    char why[256];
    cr_assert_null(
        s_load("[broker]\nname = b\ncurve = maybe\nbogus = 1\n", NULL, why, sizeof(why)));
    cr_assert_str_eq(why, "conf/broker.conf:3: \"curve\" in [broker] must be yes or no, not "
                          "\"maybe\"");
    /* A syntax error before a refused key wins, and the other way round. */
    cr_assert_null(s_load("[broker]\nwords\nbogus = 1\nname = b\n", NULL, why, sizeof(why)));
    cr_assert_str_eq(why,
                     "conf/broker.conf:2: expected \"key = value\", \"[section]\" or a comment");
    cr_assert_null(s_load("[broker]\nbogus = 1\nwords\nname = b\n", NULL, why, sizeof(why)));
    cr_assert_str_eq(why, "conf/broker.conf:2: unknown key \"bogus\" in [broker]");
}

Test(cfg, over_long_line_is_refused)
{
    char text[512], why[256];
    int n = snprintf(text, sizeof(text), "[broker]\nname = b\nbind = ");
    memset(text + n, 'x', 250);
    strcpy(text + n + 250, "\n");
    int err = 0;
    cr_assert_null(s_load(text, &err, why, sizeof(why)));
    cr_assert_eq(err, TACNET_ECONFIG);
    cr_assert_str_eq(why, "conf/broker.conf:3: line longer than 199 bytes");
}

Test(cfg, utf8_bom_and_crlf_are_accepted)
{
    char why[256];
    cfg_t *cfg =
        s_load("\xEF\xBB\xBF[broker]\r\nname = b\r\ncurve = no\r\n", NULL, why, sizeof(why));
    cr_assert_not_null(cfg, "%s", why);
    cr_assert_str_eq(cfg_str(cfg, "broker", "name"), "b");
    cr_assert_eq(cfg_bool(cfg, "broker", "curve"), 0);
    cfg_destroy(&cfg);
}

Test(cfg, string_without_a_name_leaves_relative_paths_alone)
{
    cfg_t *cfg = cfg_load_string("[broker]\nname = b\n[store]\nkeys = k\n", NULL, s_table, N_TABLE,
                                 NULL, NULL, 0);
    cr_assert_not_null(cfg);
    cr_assert_str_eq(cfg_str(cfg, "store", "keys"), "k");
    cr_assert_str_eq(cfg_str(cfg, "store", "dir"), "data");
    cfg_destroy(&cfg);

    char why[256];
    cr_assert_null(cfg_load_string("[x]\n", NULL, s_table, N_TABLE, NULL, why, sizeof(why)));
    cr_assert_str_eq(why, "<string>:1: unknown section [x]");
}

Test(cfg, file_paths_resolve_against_the_config_directory)
{
    char dir[] = "/tmp/test_cfg_XXXXXX", path[256], want[300];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/broker.conf", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("# synthetic\n[broker]\nname = b\n[store]\nkeys = keys/broker\n", f);
    fclose(f);

    int err = -1;
    char why[256];
    cfg_t *cfg = cfg_load(path, s_table, N_TABLE, &err, why, sizeof(why));
    cr_assert_not_null(cfg, "%s", why);
    cr_assert_eq(err, 0);
    snprintf(want, sizeof(want), "%s/keys/broker", dir);
    cr_assert_str_eq(cfg_str(cfg, "store", "keys"), want);
    snprintf(want, sizeof(want), "%s/data", dir);
    cr_assert_str_eq(cfg_str(cfg, "store", "dir"), want);
    cfg_destroy(&cfg);

    /* The same refusal rules apply to files, with the path in the reason. */
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("[broker]\nname = b\nbind_adress = x\n", f);
    fclose(f);
    cr_assert_null(cfg_load(path, s_table, N_TABLE, &err, why, sizeof(why)));
    cr_assert_eq(err, TACNET_ECONFIG);
    snprintf(want, sizeof(want), "%s:3: unknown key \"bind_adress\" in [broker]", path);
    cr_assert_str_eq(why, want);

    unlink(path);
    rmdir(dir);
}

Test(cfg, missing_file_is_not_found)
{
    int err = 0;
    char why[256];
    cr_assert_null(
        cfg_load("/nonexistent/tacnet/broker.conf", s_table, N_TABLE, &err, why, sizeof(why)));
    cr_assert_eq(err, TACNET_ENOTFOUND);
    cr_assert_str_eq(why, "/nonexistent/tacnet/broker.conf: cannot open: No such file or "
                          "directory");
}

Test(cfg, short_reason_buffer_is_truncated_not_overrun)
{
    char why[16];
    memset(why, 'Z', sizeof(why));
    cr_assert_null(s_load("[broker]\nname = b\nbogus = 1\n", NULL, why, 12));
    cr_assert_str_eq(why, "conf/broker");
    cr_assert_eq(why[12], 'Z');
}

Test(cfg, asking_for_a_key_not_in_the_table_aborts, .signal = SIGABRT)
{
    cfg_t *cfg = s_load("[broker]\nname = b\n", NULL, NULL, 0);
    cr_assert_not_null(cfg);
    cfg_str(cfg, "broker", "bind_adress");
}

Test(cfg, asking_with_the_wrong_getter_aborts, .signal = SIGABRT)
{
    cfg_t *cfg = s_load("[broker]\nname = b\n", NULL, NULL, 0);
    cr_assert_not_null(cfg);
    cfg_int(cfg, "broker", "curve");
}

Test(cfg, a_credential_path_names_a_file_in_the_systemd_credentials_directory)
{
    int err = 0;
    char why[256];
    unsetenv("CREDENTIALS_DIRECTORY");
    cr_assert_null(s_load("[broker]\nname = b\n[store]\nkeys = credential:camhs.key\n", &err, why,
                          sizeof(why)));
    cr_assert_eq(err, TACNET_ECONFIG);
    cr_assert(strstr(why, "CREDENTIALS_DIRECTORY"), "%s", why);

    setenv("CREDENTIALS_DIRECTORY", "/run/credentials/tacnet-camhs.service", 1);
    cfg_t *cfg = s_load("[broker]\nname = b\n[store]\nkeys = credential:camhs.key\n", &err, why,
                        sizeof(why));
    cr_assert_not_null(cfg, "%s", why);
    cr_assert_str_eq(cfg_str(cfg, "store", "keys"),
                     "/run/credentials/tacnet-camhs.service/camhs.key");
    cfg_destroy(&cfg);
    cr_assert_null(s_load("[broker]\nname = b\n[store]\nkeys = credential:../etc/shadow\n", &err,
                          why, sizeof(why)));
    cr_assert(strstr(why, "has a /"), "%s", why);
    unsetenv("CREDENTIALS_DIRECTORY");
}

/* A config struct with one field of each shape a row can fill. */
typedef struct {
    const char *name;
    const char *dir;
    const char *keys;
    uint8_t level;
    int16_t offset;
    unsigned window;
    size_t map_size;
    int curve;
    uint64_t poll_ms;
    struct {
        uint32_t days;
    } retention;
    long untouched; /* no row fills it */
} s_bound_t;

#define S_FIELD(member) CFG_FIELD(s_bound_t, member)

static const cfg_option_t s_bound[] = {
    { "app", "name", CFG_STRING, "tacnet", 0, 0, 0, "name", S_FIELD(name) },
    { "app", "dir", CFG_PATH, "data", 0, 0, 0, "relative default", S_FIELD(dir) },
    { "app", "keys", CFG_PATH, NULL, 0, 0, 0, "no default", S_FIELD(keys) },
    { "app", "level", CFG_INT, "7", 0, 255, 0, "fits a byte", S_FIELD(level) },
    { "app", "offset", CFG_INT, "-3", -100, 100, 0, "signed", S_FIELD(offset) },
    { "app", "window", CFG_INT, "256", 1, 4096, 0, "unsigned", S_FIELD(window) },
    { "app", "map_size_mb", CFG_INT, "1024", 1, 1048576, 0, "scaled",
      CFG_FIELD_SCALED(s_bound_t, map_size, CFG_MIB) },
    { "app", "curve", CFG_BOOL, "yes", 0, 0, 0, "bool", S_FIELD(curve) },
    { "app", "poll", CFG_DURATION, "250ms", 1, 86400000, 0, "ms", S_FIELD(poll_ms) },
    { "retention", "days", CFG_INT, "30", 0, 36600, 0, "nested", S_FIELD(retention.days) },
    { "log", "level", CFG_STRING, "info", 0, 0, 0, "read with the getter", CFG_NO_FIELD },
};
#define N_BOUND (sizeof(s_bound) / sizeof(s_bound[0]))

Test(cfg, fill_writes_each_bound_row_into_its_field)
{
    const char *text = "[app]\n"
                       "name = camhs\n"
                       "keys = ../keys\n"
                       "level = 200\n"
                       "offset = -77\n"
                       "window = 4096\n"
                       "map_size_mb = 64\n"
                       "curve = no\n"
                       "poll = 2s\n"
                       "[retention]\n"
                       "days = 36600\n";
    char why[256];
    cfg_t *cfg = cfg_load_string(text, "conf/app.conf", s_bound, N_BOUND, NULL, why, sizeof(why));
    cr_assert_not_null(cfg, "%s", why);
    s_bound_t b;
    memset(&b, 0xa5, sizeof(b));
    b.untouched = 42;
    cfg_fill(cfg, &b);
    cr_assert_str_eq(b.name, "camhs");
    cr_assert_eq(b.name, cfg_str(cfg, "app", "name"), "strings point into the cfg");
    cr_assert_str_eq(b.dir, "conf/data", "a default path is resolved like a file's");
    cr_assert_str_eq(b.keys, "conf/../keys");
    cr_assert_eq(b.level, 200);
    cr_assert_eq(b.offset, -77);
    cr_assert_eq(b.window, 4096);
    cr_assert_eq(b.map_size, (size_t)64 << 20);
    cr_assert_eq(b.curve, 0);
    cr_assert_eq(b.poll_ms, 2000);
    cr_assert_eq(b.retention.days, 36600);
    cr_assert_eq(b.untouched, 42, "a field no row names is left alone");
    cfg_destroy(&cfg);
}

Test(cfg, fill_of_a_file_that_sets_nothing_equals_the_defaults_fill)
{
    cfg_t *cfg = cfg_load_string("", NULL, s_bound, N_BOUND, NULL, NULL, 0);
    cr_assert_not_null(cfg);
    s_bound_t from_file, from_table;
    memset(&from_file, 0, sizeof(from_file));
    memset(&from_table, 0, sizeof(from_table));
    cfg_fill(cfg, &from_file);
    cfg_defaults_fill(s_bound, N_BOUND, &from_table);

    cr_assert_str_eq(from_table.name, "tacnet");
    cr_assert_eq(from_table.name, s_bound[0].default_value, "the table's own text");
    cr_assert_str_eq(from_table.dir, "data", "no file: a relative default stays as written");
    cr_assert_null(from_table.keys);
    cr_assert_eq(from_table.level, 7);
    cr_assert_eq(from_table.offset, -3);
    cr_assert_eq(from_table.window, 256);
    cr_assert_eq(from_table.map_size, (size_t)1024 << 20);
    cr_assert_eq(from_table.curve, 1);
    cr_assert_eq(from_table.poll_ms, 250);
    cr_assert_eq(from_table.retention.days, 30);
    cr_assert_eq(from_table.untouched, 0);

    cr_assert_str_eq(from_file.name, from_table.name);
    cr_assert_str_eq(from_file.dir, from_table.dir, "no name: relative paths left alone");
    cr_assert_null(from_file.keys);
    cr_assert_eq(from_file.level, from_table.level);
    cr_assert_eq(from_file.offset, from_table.offset);
    cr_assert_eq(from_file.window, from_table.window);
    cr_assert_eq(from_file.map_size, from_table.map_size);
    cr_assert_eq(from_file.curve, from_table.curve);
    cr_assert_eq(from_file.poll_ms, from_table.poll_ms);
    cr_assert_eq(from_file.retention.days, from_table.retention.days);
    cfg_destroy(&cfg);
}

Test(cfg, a_string_row_bound_to_a_number_aborts, .signal = SIGABRT)
{
    static const cfg_option_t bad[] = {
        { "app", "name", CFG_STRING, "x", 0, 0, 0, "", S_FIELD(window) },
    };
    s_bound_t b;
    cfg_defaults_fill(bad, 1, &b);
}

Test(cfg, a_range_wider_than_its_field_aborts, .signal = SIGABRT)
{
    static const cfg_option_t bad[] = {
        { "app", "level", CFG_INT, "7", 0, 256, 0, "", S_FIELD(level) },
    };
    cfg_destroy(&(cfg_t *){ cfg_load_string("", NULL, bad, 1, NULL, NULL, 0) });
}

Test(cfg, a_scaled_range_that_overflows_its_field_aborts, .signal = SIGABRT)
{
    static const cfg_option_t bad[] = {
        { "app", "window_mb", CFG_INT, "1", 1, 4096, 0, "",
          CFG_FIELD_SCALED(s_bound_t, window, CFG_MIB) },
    };
    s_bound_t b;
    cfg_defaults_fill(bad, 1, &b);
}
