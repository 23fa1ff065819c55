/* make install: the installed tree works. scripts/install.sh (what `make install` runs) puts the
 * build into a scratch DESTDIR; the C example in deploy/examples/c is then built against the
 * installed libtacnet-client with nothing but pkg-config, and lists a live daemon's cases; and
 * the installed units pass systemd-analyze verify with the paths they name. */
#include "harness.h"

#include <sys/wait.h>

#include <criterion/criterion.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CASE "LA7-2026-000123"

static h_env_t env;

static void setup(void)
{
    h_setup(&env, NULL);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
}

static void teardown(void)
{
    h_teardown(&env);
}

TestSuite(install, .init = setup, .fini = teardown, .timeout = 180);

/* Run CMD through the shell; its output (stdout and stderr) into OUT; its exit status. */
static int s_sh(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t len = fread(out, 1, cap - 1, p);
    out[len] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The build directory: TACNET_BIN is <build>/bin. */
static void s_build_dir(char *out, size_t cap)
{
    char bin[1024];
    snprintf(bin, sizeof(bin), "%s", getenv("TACNET_BIN"));
    snprintf(out, cap, "%s", dirname(bin));
}

Test(install, the_c_example_builds_with_pkg_config_and_lists_a_live_daemon_s_cases)
{
    char build[1024], cmd[8192], out[16384];
    s_build_dir(build, sizeof(build));
    /* Installed under /usr/local in a scratch DESTDIR, as a package build would. */
    snprintf(cmd, sizeof(cmd), "%s/scripts/install.sh %s %s/destdir /usr/local 0 2>&1", h_src(),
             build, env.dir);
    cr_assert_eq(s_sh(cmd, out, sizeof(out)), 0, "%s", out);
    /* The compiler sees only what pkg-config says (the prefix moved into the DESTDIR). Under a
     * sanitizer build the library needs the sanitizer's runtime in the program too. */
    const char *san = getenv("TACNET_SANITIZE");
    snprintf(cmd, sizeof(cmd),
             "cd %s && PKG_CONFIG_PATH=destdir/usr/local/lib/pkgconfig cc -std=c11 -Wall -Wextra "
             "-Werror %s%s %s/deploy/examples/c/tacnet_cases.c -o tacnet_cases "
             "$(PKG_CONFIG_PATH=destdir/usr/local/lib/pkgconfig pkg-config "
             "--define-variable=prefix=%s/destdir/usr/local --cflags --libs tacnet-client) 2>&1",
             env.dir, san && *san ? "-fsanitize=" : "", san && *san ? san : "", h_src(), env.dir);
    cr_assert_eq(s_sh(cmd, out, sizeof(out)), 0, "%s", out);
    /* Against a live daemon holding one case. */
    h_agency_t *school = h_agency_add(&env, TACNET__AGENCY__SCHOOL);
    cr_assert_eq(h_agency_start(school, NULL), 0, "log %s", school->log);
    cr_assert_eq(h_cli(school,
                       "publish concern --case " CASE " --initials TB --body "
                       "'{\"category\":\"attendance\",\"summary\":\"Late most Mondays.\"}'",
                       out, sizeof(out)),
                 0, "%s", out);
    snprintf(cmd, sizeof(cmd),
             "LD_LIBRARY_PATH=%s/destdir/usr/local/lib ASAN_OPTIONS=detect_leaks=0 "
             "%s/tacnet_cases %s 2>&1",
             env.dir, env.dir, school->data);
    cr_assert_eq(s_sh(cmd, out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, CASE " TB open escalations 0"), "%s", out);
    /* No daemon there: exit 2, said in words. */
    snprintf(cmd, sizeof(cmd),
             "LD_LIBRARY_PATH=%s/destdir/usr/local/lib ASAN_OPTIONS=detect_leaks=0 "
             "%s/tacnet_cases %s/nowhere 2>&1",
             env.dir, env.dir, env.dir);
    cr_assert_eq(s_sh(cmd, out, sizeof(out)), 2, "%s", out);
    cr_assert_not_null(strstr(out, "cannot reach the daemon"), "%s", out);
}

Test(install, the_installed_units_verify_and_start_what_was_installed)
{
    if (access("/usr/bin/systemd-analyze", X_OK) != 0)
        cr_skip_test("systemd-analyze is not installed (package systemd)");
    char build[1024], cmd[8192], out[16384];
    s_build_dir(build, sizeof(build));
    /* Installed at its final place (no DESTDIR), so every path a unit names exists. */
    snprintf(cmd, sizeof(cmd), "%s/scripts/install.sh %s '' %s/prefix 0 2>&1", h_src(), build,
             env.dir);
    cr_assert_eq(s_sh(cmd, out, sizeof(out)), 0, "%s", out);
    /* The four named daemons and family_support, served by tacnet-agency (agencies.conf). */
    const char *agencies[] = { "camhs", "school", "health_visiting", "social_care",
                               "family_support" };
    for (size_t i = 0; i < sizeof(agencies) / sizeof(agencies[0]); i++) {
        /* An instance per agency, named as provisioning names it (its key, config, view). */
        snprintf(cmd, sizeof(cmd),
                 "cd %s/prefix/lib/systemd/system && cp tacnet-agency@.service "
                 "tacnet-agency@%s.service && systemd-analyze verify tacnet-agency@%s.service "
                 "2>&1",
                 env.dir, agencies[i], agencies[i]);
        cr_assert_eq(s_sh(cmd, out, sizeof(out)), 0, "%s: %s", agencies[i], out);
        cr_assert_null(strstr(out, "not executable"), "%s: %s", agencies[i], out);
    }
    snprintf(cmd, sizeof(cmd),
             "cd %s/prefix/lib/systemd/system && systemd-analyze verify tacnet-broker.service 2>&1",
             env.dir);
    cr_assert_eq(s_sh(cmd, out, sizeof(out)), 0, "%s", out);
    /* A unit naming a binary that is not there fails verification: the check can fail. */
    snprintf(cmd, sizeof(cmd),
             "cd %s/prefix/lib/systemd/system && sed 's|agency-%%i|agency-nobody|' "
             "tacnet-agency@.service >tacnet-agency@school.service && systemd-analyze verify "
             "tacnet-agency@school.service 2>&1",
             env.dir);
    cr_assert_neq(s_sh(cmd, out, sizeof(out)), 0, "%s", out);
}
