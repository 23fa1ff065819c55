/* Unit tests of the dashboard's time zone (services/dashboard/timezone.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "zone.h"
#include "err.h"

/* 2026-07-01 12:00 UTC and 2026-12-01 12:00 UTC. */
#define SUMMER 1782907200000ull
#define WINTER 1796126400000ull

Test(dashboard_tz, utc_when_none_is_set)
{
    char why[256], out[48];
    cr_assert_eq(zone_set(NULL, why, sizeof(why)), 0, "%s", why);
    cr_assert_str_eq(zone_name(), "UTC");
    zone_format(SUMMER, out, sizeof(out));
    cr_assert_str_eq(out, "2026-07-01 12:00 UTC");
    cr_assert_eq(zone_parse("2026-07-01T12:00"), SUMMER);
    cr_assert_eq(zone_format(0, out, sizeof(out)), 0, "no time is shown as none");
}

Test(dashboard_tz, london_shows_and_reads_summer_and_winter_time)
{
    char why[256], out[48];
    cr_assert_eq(zone_set("Europe/London", why, sizeof(why)), 0, "%s", why);
    cr_assert_str_eq(zone_name(), "Europe/London");
    zone_format(SUMMER, out, sizeof(out));
    cr_assert_str_eq(out, "2026-07-01 13:00 BST");
    zone_format(WINTER, out, sizeof(out));
    cr_assert_str_eq(out, "2026-12-01 12:00 GMT");
    /* What a person types is their clock's time. */
    cr_assert_eq(zone_parse("2026-07-01T13:00"), SUMMER);
    cr_assert_eq(zone_parse("2026-12-01T12:00"), WINTER);
    zone_input(SUMMER, out, sizeof(out));
    cr_assert_str_eq(out, "2026-07-01T13:00");
    /* The clocks go forward at 01:00 GMT on 28 March 2027: 01:30 is shown by no clock. */
    cr_assert_eq(zone_parse("2027-03-28T01:30"), 0);
    cr_assert_neq(zone_parse("2027-03-28T02:30"), 0);
    cr_assert_eq(zone_set("", why, sizeof(why)), 0);
}

Test(dashboard_tz, what_is_not_a_time_is_refused)
{
    char why[256];
    cr_assert_eq(zone_set(NULL, why, sizeof(why)), 0);
    cr_assert_eq(zone_parse("2026-11-31T09:00"), 0, "31 November");
    cr_assert_eq(zone_parse("2026-12-01T24:00"), 0);
    cr_assert_eq(zone_parse("2026-12-01T09:00x"), 0);
    cr_assert_eq(zone_parse("tomorrow"), 0);
    cr_assert_eq(zone_parse(NULL), 0);
}

Test(dashboard_tz, a_zone_not_in_the_database_is_refused_by_name)
{
    char why[256] = "";
    cr_assert_eq(zone_set("Europe/Atlantis", why, sizeof(why)), TACNET_ECONFIG);
    cr_assert_not_null(strstr(why, "[http] time_zone = Europe/Atlantis"), "%s", why);
    cr_assert_eq(zone_set("../../etc/passwd", why, sizeof(why)), TACNET_ECONFIG);
    cr_assert_eq(zone_set("/etc/localtime", why, sizeof(why)), TACNET_ECONFIG);
    cr_assert_str_eq(zone_name(), "UTC", "a refused zone changes nothing");
}
