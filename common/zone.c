/* zone: local times for people to read and type. See zone.h. */
#include "zone.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char s_zone[64] = "UTC";

int zone_set(const char *zone, char *why, size_t whylen)
{
    if (!zone || !*zone)
        zone = "UTC";
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
    /* A name, not a path: letters, digits and _+-/ without "..", as the tz database's are. */
    size_t n = strlen(zone);
    if (n >= sizeof(s_zone) || zone[0] == '/' || strstr(zone, "..") ||
        strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/") != n ||
        (strcmp(zone, "UTC") != 0 && access(path, R_OK) != 0)) {
        snprintf(why, whylen,
                 "[http] time_zone = %.64s is not a time zone of the tz database installed here "
                 "(%s; package tzdata): use a name such as Europe/London",
                 zone, path);
        return TACNET_ECONFIG;
    }
    memcpy(s_zone, zone, n + 1);
    setenv("TZ", zone, 1);
    tzset();
    return 0;
}

const char *zone_name(void)
{
    return s_zone;
}

size_t zone_format(uint64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (cap)
        out[0] = 0;
    if (!ms || !localtime_r(&t, &tm))
        return 0;
    return strftime(out, cap, "%Y-%m-%d %H:%M %Z", &tm);
}

uint64_t zone_parse(const char *local)
{
    unsigned y, mo, d, h, mi;
    char end;
    if (!local || sscanf(local, "%4u-%2u-%2uT%2u:%2u%c", &y, &mo, &d, &h, &mi, &end) != 5 ||
        y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
        return 0;
    struct tm tm = { .tm_year = (int)y - 1900,
                     .tm_mon = (int)mo - 1,
                     .tm_mday = (int)d,
                     .tm_hour = (int)h,
                     .tm_min = (int)mi,
                     .tm_isdst = -1 };
    time_t t = mktime(&tm);
    /* mktime normalises: 31 November comes back as 1 December, and 01:30 on the night the
     * clocks go forward at 01:00 as 02:30, neither of which is what was typed. */
    if (t == (time_t)-1 || tm.tm_mday != (int)d || tm.tm_mon != (int)mo - 1 ||
        tm.tm_hour != (int)h || tm.tm_min != (int)mi)
        return 0;
    return (uint64_t)t * 1000u;
}

void zone_input(uint64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (cap)
        out[0] = 0;
    if (localtime_r(&t, &tm))
        strftime(out, cap, "%Y-%m-%dT%H:%M", &tm);
}
