/* zone: the partnership's time zone, in which people read and type times ([http] time_zone, a
 * tz database name such as Europe/London; UTC when not set): the dashboard shows and reads times
 * in it, and the tacnet command prints the times of its replies in the zone the daemon names.
 * Everything stored and sent stays in UTC (ms since the epoch); only what a person reads or types
 * is local.
 *
 * The zone is the process's (TZ): one agency daemon serves one dashboard. Besides the dashboard
 * only the minutes' date check reads local time (a meeting's day is its day in this zone;
 * agency/publish.c); logs and the working-day calendar use UTC.
 */
#ifndef TACNET_ZONE_H
#define TACNET_ZONE_H

#include <stddef.h>
#include <stdint.h>

/* Show and read times in ZONE (NULL or "": UTC). Returns 0, or TACNET_ECONFIG with WHY when
 * ZONE is not a name of the tz database installed here (package tzdata). */
int zone_set(const char *zone, char *why, size_t whylen);

/* The zone's name as configured ("UTC" when none). */
const char *zone_name(void);

/* MS as "2026-12-03 14:30 GMT" (the zone's abbreviation at that moment) into OUT; "" for 0.
 * Returns the length written. */
size_t zone_format(uint64_t ms, char *out, size_t cap);

/* A local date and time as typed ("2026-12-03T14:30", a datetime-local input) to ms since the
 * epoch; 0 when it is not one, and for a time the clocks skip (01:30 when they go forward at
 * 01:00), which no clock in the zone shows; in the hour they go back, the C library picks one
 * of the two. */
uint64_t zone_parse(const char *local);

/* MS as a datetime-local input shows it, "2026-12-03T14:30", into OUT (at least 17 bytes). */
void zone_input(uint64_t ms, char *out, size_t cap);

#endif
