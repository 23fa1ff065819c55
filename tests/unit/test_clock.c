#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"

/* ms for a yyyymmdd date at HH:MM UTC; fails the test on an invalid date. */
static uint64_t s_at(uint32_t yyyymmdd, unsigned hh, unsigned mm)
{
    uint64_t day = clock_date_to_ms(yyyymmdd);
    cr_assert_neq(day, 0, "bad test date %u", yyyymmdd);
    return day + hh * CLOCK_HOUR_MS + mm * 60000ULL;
}

static holidays_t *s_bundled(void)
{
    const char *src = getenv("TACNET_SRC");
    char path[4096];
    snprintf(path, sizeof(path), "%s/deploy/bank-holidays-england-wales.txt", src ? src : ".");
    int err = -1, line = -1;
    holidays_t *h = holidays_load(path, &err, &line);
    cr_assert_not_null(h, "loading %s: %s (line %d)", path, tacnet_errname(err), line);
    cr_assert_eq(err, 0);
    return h;
}

/* A temp dir with one file holding TEXT; returns the file path in PATH. */
static void s_write_file(char *dir, char *path, size_t cap, const char *text)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, cap, "%s/holidays.txt", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void s_remove_file(const char *dir, const char *path)
{
    unlink(path);
    rmdir(dir);
}

static void s_assert_deadline(const holidays_t *h, uint64_t start, unsigned days, uint64_t want)
{
    uint64_t got = clock_add_working_days(h, start, days);
    char g[32], w[32];
    clock_format_iso(got, g, sizeof(g));
    clock_format_iso(want, w, sizeof(w));
    cr_assert_eq(got, want, "%u working days: got %s, want %s", days, g, w);
}

Test(clock, deadline_skips_weekend)
{
    /* Friday 6 March 2026 10:00 -> Monday 9 March 10:00. */
    s_assert_deadline(NULL, s_at(20260306, 10, 0), 1, s_at(20260309, 10, 0));
    s_assert_deadline(NULL, s_at(20260306, 10, 0), 3, s_at(20260311, 10, 0));
}

Test(clock, deadline_skips_good_friday_and_easter_monday_2026)
{
    holidays_t *h = s_bundled();
    /* Thursday 2 April 2026; Good Friday 3 April and Easter Monday 6 April are skipped. */
    s_assert_deadline(h, s_at(20260402, 9, 30), 1, s_at(20260407, 9, 30));
    s_assert_deadline(h, s_at(20260402, 9, 30), 2, s_at(20260408, 9, 30));
    /* The same start without holidays lands on Friday. */
    s_assert_deadline(NULL, s_at(20260402, 9, 30), 1, s_at(20260403, 9, 30));
    holidays_destroy(&h);
}

Test(clock, christmas_2026_uses_substitute_boxing_day)
{
    holidays_t *h = s_bundled();
    cr_assert_eq(clock_is_working_day(h, s_at(20261225, 12, 0)), 0);
    cr_assert_eq(clock_is_working_day(h, s_at(20261228, 12, 0)), 0, "28 Dec 2026 is substitute");
    cr_assert_eq(clock_is_working_day(NULL, s_at(20261228, 12, 0)), 1);
    cr_assert_eq(clock_is_working_day(h, s_at(20261229, 12, 0)), 1);
    /* Thursday 24 December -> Tuesday 29 December. */
    s_assert_deadline(h, s_at(20261224, 14, 0), 1, s_at(20261229, 14, 0));
    holidays_destroy(&h);
}

Test(clock, christmas_2027_uses_two_substitute_days)
{
    holidays_t *h = s_bundled();
    cr_assert_eq(clock_is_working_day(h, s_at(20271227, 0, 0)), 0);
    cr_assert_eq(clock_is_working_day(h, s_at(20271228, 0, 0)), 0);
    /* Friday 24 December 2027 -> Wednesday 29 December. */
    s_assert_deadline(h, s_at(20271224, 16, 45), 1, s_at(20271229, 16, 45));
    holidays_destroy(&h);
}

Test(clock, start_on_saturday_counts_from_monday_morning)
{
    /* Saturday 7 March 2026 15:00 is treated as Monday 9 March 00:00. */
    uint64_t sat = s_at(20260307, 15, 0);
    s_assert_deadline(NULL, sat, 1, s_at(20260310, 0, 0));
    cr_assert_eq(clock_add_working_days(NULL, sat, 4),
                 clock_add_working_days(NULL, s_at(20260309, 0, 0), 4));
    /* Never earlier than a deadline for work that arrived the Friday before. */
    cr_assert_gt(clock_add_working_days(NULL, sat, 1),
                 clock_add_working_days(NULL, s_at(20260306, 23, 59), 1));
}

Test(clock, start_on_bank_holiday_counts_from_next_working_day)
{
    holidays_t *h = s_bundled();
    /* Early May bank holiday, Monday 4 May 2026, 11:00 -> Tuesday 5 May 00:00 -> Wed 6 May. */
    cr_assert_eq(clock_is_working_day(h, s_at(20260504, 11, 0)), 0);
    s_assert_deadline(h, s_at(20260504, 11, 0), 1, s_at(20260506, 0, 0));
    /* Good Friday 2026: Fri 3 Apr -> Tue 7 Apr 00:00 -> Wed 8 Apr 00:00. */
    s_assert_deadline(h, s_at(20260403, 8, 0), 1, s_at(20260408, 0, 0));
    holidays_destroy(&h);
}

Test(clock, zero_days_returns_start_unchanged)
{
    holidays_t *h = s_bundled();
    uint64_t sat = s_at(20260307, 15, 7);
    cr_assert_eq(clock_add_working_days(h, sat, 0), sat);
    uint64_t xmas = s_at(20261225, 1, 2);
    cr_assert_eq(clock_add_working_days(h, xmas, 0), xmas);
    holidays_destroy(&h);
}

Test(clock, deadline_crosses_year_boundary)
{
    holidays_t *h = s_bundled();
    /* Wed 29 Dec 2027: Thu 30, Fri 31, then Sat 1 Jan, Sun 2, Mon 3 (substitute New Year). */
    s_assert_deadline(h, s_at(20271229, 10, 0), 2, s_at(20271231, 10, 0));
    s_assert_deadline(h, s_at(20271229, 10, 0), 3, s_at(20280104, 10, 0));
    /* Without holidays, Monday 3 January counts. */
    s_assert_deadline(NULL, s_at(20271229, 10, 0), 3, s_at(20280103, 10, 0));
    holidays_destroy(&h);
}

Test(clock, ten_working_days_from_a_friday)
{
    /* Two clear weeks: Friday 6 March 2026 -> Friday 20 March. */
    s_assert_deadline(NULL, s_at(20260306, 17, 0), 10, s_at(20260320, 17, 0));
    /* Across Easter 2026: Friday 27 March -> Tuesday 14 April. */
    holidays_t *h = s_bundled();
    s_assert_deadline(h, s_at(20260327, 17, 0), 10, s_at(20260414, 17, 0));
    holidays_destroy(&h);
}

Test(clock, working_days_between_counts_after_from_up_to_to)
{
    holidays_t *h = s_bundled();
    /* After Thu 2 Apr 2026 up to Tue 14 Apr: 7, 8, 9, 10, 13, 14 April. */
    cr_assert_eq(clock_working_days_between(h, s_at(20260402, 9, 0), s_at(20260414, 8, 0)), 6);
    cr_assert_eq(clock_working_days_between(NULL, s_at(20260402, 9, 0), s_at(20260414, 8, 0)), 8);
    /* Same date, reversed and equal instants all give 0. */
    cr_assert_eq(clock_working_days_between(h, s_at(20260414, 8, 0), s_at(20260414, 18, 0)), 0);
    cr_assert_eq(clock_working_days_between(h, s_at(20260414, 8, 0), s_at(20260402, 9, 0)), 0);
    cr_assert_eq(clock_working_days_between(h, s_at(20260414, 8, 0), s_at(20260414, 8, 0)), 0);
    /* Friday to the following Monday is one working day. */
    cr_assert_eq(clock_working_days_between(h, s_at(20260306, 9, 0), s_at(20260309, 9, 0)), 1);
    holidays_destroy(&h);
}

Test(clock, working_days_between_inverts_add_working_days)
{
    holidays_t *h = s_bundled();
    uint64_t first = s_at(20251201, 13, 0);
    for (unsigned d = 0; d < 100; d++) {
        uint64_t start = first + d * CLOCK_DAY_MS;
        if (!clock_is_working_day(h, start))
            continue;
        for (unsigned n = 0; n <= 25; n++) {
            uint64_t end = clock_add_working_days(h, start, n);
            cr_assert(clock_is_working_day(h, end));
            cr_assert_eq(clock_working_days_between(h, start, end), n, "start day %u, n %u", d, n);
        }
    }
    holidays_destroy(&h);
}

Test(clock, bundled_file_covers_2025_to_2028)
{
    holidays_t *h = s_bundled();
    int first = -1, last = -1;
    holidays_range(h, &first, &last);
    cr_assert_eq(first, 2025);
    cr_assert_eq(last, 2028);
    static const uint32_t expected[] = {
        20250101, 20250418, 20250421, 20250505, 20250526, 20250825, 20251225, 20251226,
        20260101, 20260403, 20260406, 20260504, 20260525, 20260831, 20261225, 20261228,
        20270101, 20270326, 20270329, 20270503, 20270531, 20270830, 20271227, 20271228,
        20280103, 20280414, 20280417, 20280501, 20280529, 20280828, 20281225, 20281226,
    };
    size_t n = sizeof(expected) / sizeof(expected[0]);
    for (size_t i = 0; i < n; i++) {
        uint64_t ms = clock_date_to_ms(expected[i]);
        cr_assert_eq(clock_is_working_day(NULL, ms), 1, "%u falls on a weekend", expected[i]);
        cr_assert_eq(clock_is_working_day(h, ms), 0, "%u missing", expected[i]);
    }
    /* Every weekday of 2025-2028 not listed above is a working day. */
    unsigned non_working_weekdays = 0;
    for (uint64_t ms = clock_date_to_ms(20250101); ms <= clock_date_to_ms(20281231);
         ms += CLOCK_DAY_MS)
        if (clock_is_working_day(NULL, ms) && !clock_is_working_day(h, ms))
            non_working_weekdays++;
    cr_assert_eq(non_working_weekdays, n);
    holidays_destroy(&h);
}

Test(clock, malformed_holiday_file_is_refused_with_line_number)
{
    static const struct {
        const char *text;
        int line;
    } cases[] = {
        { "# header\n2026-01-01\n2026-4-06\n", 3 },
        { "2026-01-01 # ok\n\n  \n2026-02-29  # not a leap year\n", 4 },
        { "2026-12-25\n2026-12-25x\n", 2 },
        { "2026-12-25\n2026-12-25\n", 2 },
        { "2026-13-01\n", 1 },
        { "# a\n# b\nChristmas Day\n", 3 },
        { "2026/12/25\n", 1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char dir[] = "/tmp/test_clock_XXXXXX", path[256];
        s_write_file(dir, path, sizeof(path), cases[i].text);
        int err = 0, line = 0;
        holidays_t *h = holidays_load(path, &err, &line);
        cr_assert_null(h, "case %zu accepted", i);
        cr_assert_eq(err, TACNET_ECONFIG, "case %zu: %s", i, tacnet_errname(err));
        cr_assert_eq(line, cases[i].line, "case %zu: line %d", i, line);
        s_remove_file(dir, path);
    }
}

Test(clock, well_formed_holiday_file_loads_with_comments)
{
    char dir[] = "/tmp/test_clock_XXXXXX", path[256];
    s_write_file(dir, path, sizeof(path),
                 "# synthetic\n\n2030-06-03  # a Monday\n\t2030-06-04\r\n2031-01-01#x\n");
    int err = -1, line = -1;
    holidays_t *h = holidays_load(path, &err, &line);
    cr_assert_not_null(h);
    cr_assert_eq(err, 0);
    cr_assert_eq(line, 0);
    int first, last;
    holidays_range(h, &first, &last);
    cr_assert_eq(first, 2030);
    cr_assert_eq(last, 2031);
    cr_assert_eq(clock_is_working_day(h, clock_date_to_ms(20300603)), 0);
    cr_assert_eq(clock_is_working_day(h, clock_date_to_ms(20300604)), 0);
    cr_assert_eq(clock_is_working_day(h, clock_date_to_ms(20300605)), 1);
    holidays_destroy(&h);
    cr_assert_null(h);
    s_remove_file(dir, path);
}

Test(clock, missing_holiday_file_is_not_found)
{
    int err = 0, line = -1;
    cr_assert_null(holidays_load("/nonexistent/tacnet/holidays.txt", &err, &line));
    cr_assert_eq(err, TACNET_ENOTFOUND);
    cr_assert_eq(line, 0);
}

Test(clock, holidays_add_refuses_impossible_dates)
{
    holidays_t *h = holidays_new();
    int first = -1, last = -1;
    holidays_range(h, &first, &last);
    cr_assert_eq(first, 0);
    cr_assert_eq(last, 0);
    cr_assert_eq(holidays_add(h, 20260229), TACNET_EINVAL);
    cr_assert_eq(holidays_add(h, 20260010), TACNET_EINVAL);
    cr_assert_eq(holidays_add(h, 20260431), TACNET_EINVAL);
    cr_assert_eq(holidays_add(h, 20280229), 0);
    cr_assert_eq(holidays_add(h, 20280229), 0, "adding twice is harmless");
    cr_assert_eq(holidays_add(h, 20270104), 0);
    holidays_range(h, &first, &last);
    cr_assert_eq(first, 2027);
    cr_assert_eq(last, 2028);
    cr_assert_eq(clock_is_working_day(h, clock_date_to_ms(20280229)), 0);
    holidays_destroy(&h);
    holidays_destroy(&h); /* null-safe */
    holidays_destroy(NULL);
}

Test(clock, fake_time_can_be_set_and_advanced)
{
    uint64_t t = s_at(20261122, 8, 55) + 10000;
    clock_fake_set(t);
    cr_assert_eq(clock_now_ms(), t);
    cr_assert_eq(clock_mono_ms(), t);
    clock_fake_advance(CLOCK_HOUR_MS);
    cr_assert_eq(clock_now_ms(), t + CLOCK_HOUR_MS);
    cr_assert_eq(clock_mono_ms(), t + CLOCK_HOUR_MS);
    char iso[32];
    clock_format_iso(clock_now_ms(), iso, sizeof(iso));
    cr_assert_str_eq(iso, "2026-11-22T09:55:10Z");
    /* 0 returns to the real clock, which is after the fake time set from 2020 below. */
    clock_fake_set(s_at(20200101, 0, 0));
    clock_fake_set(0);
    cr_assert_gt(clock_now_ms(), s_at(20240101, 0, 0));
}

Test(clock, advancing_the_real_clock_freezes_it_from_now)
{
    uint64_t before = clock_now_ms();
    clock_fake_advance(CLOCK_DAY_MS);
    uint64_t frozen = clock_now_ms();
    cr_assert_geq(frozen, before + CLOCK_DAY_MS);
    cr_assert_lt(frozen, before + CLOCK_DAY_MS + 60000);
    cr_assert_eq(clock_now_ms(), frozen, "fake time does not move by itself");
}

Test(clock, date_conversions_round_trip_and_refuse_invalid_dates)
{
    cr_assert_eq(clock_date_to_ms(20260229), 0, "2026 is not a leap year");
    cr_assert_eq(clock_date_to_ms(21000229), 0, "2100 is not a leap year");
    cr_assert_eq(clock_date_to_ms(20261301), 0);
    cr_assert_eq(clock_date_to_ms(20260100), 0);
    cr_assert_eq(clock_date_to_ms(20260631), 0);
    cr_assert_eq(clock_date_to_ms(19691231), 0, "before the epoch");
    cr_assert_neq(clock_date_to_ms(20280229), 0, "2028 is a leap year");
    cr_assert_neq(clock_date_to_ms(20000229), 0, "2000 is a leap year");
    cr_assert_eq(clock_date_to_ms(20280301) - clock_date_to_ms(20280229), CLOCK_DAY_MS);
    cr_assert_eq(clock_date_to_ms(20261122), 1795305600ULL * 1000);
    cr_assert_eq(clock_ms_to_date(0), 19700101);
    cr_assert_eq(clock_ms_to_date(1795337710000ULL), 20261122);
    cr_assert_eq(clock_ms_to_date(clock_date_to_ms(20280229) + CLOCK_DAY_MS - 1), 20280229);
    /* Every day from 1970 to 2100 round-trips and dates increase by one day at a time. */
    uint32_t prev = 19700101;
    for (uint64_t ms = CLOCK_DAY_MS; ms < clock_date_to_ms(21000101); ms += CLOCK_DAY_MS) {
        uint32_t date = clock_ms_to_date(ms);
        cr_assert_gt(date, prev);
        cr_assert_eq(clock_date_to_ms(date), ms, "date %u", date);
        prev = date;
    }
    char iso[32];
    clock_format_iso(1795337710915ULL, iso, sizeof(iso));
    cr_assert_str_eq(iso, "2026-11-22T08:55:10Z");
    clock_format_iso(0, iso, 21);
    cr_assert_str_eq(iso, "1970-01-01T00:00:00Z");
}

Test(clock, date_valid_accepts_real_days_only)
{
    cr_assert(clock_date_valid(20260228));
    cr_assert(clock_date_valid(20280229), "2028 is a leap year");
    cr_assert_not(clock_date_valid(20260229));
    cr_assert_not(clock_date_valid(20261131));
    cr_assert_not(clock_date_valid(20261300));
    cr_assert_not(clock_date_valid(19691231), "before the epoch the clock counts from");
}

/* The local zone's offset at a moment, as the minutes' date check reads it: London is UTC in
 * winter and an hour ahead in summer; a process with no zone set reads 0. Criterion runs each
 * test in its own process, so setting TZ here touches no other test. */
Test(clock, local_offset_follows_the_zone_and_its_summer_time)
{
    const uint64_t winter = clock_date_to_ms(20261214) + 10 * 3600000ull;
    const uint64_t summer = clock_date_to_ms(20260714) + 10 * 3600000ull;
    cr_assert_eq(setenv("TZ", "Europe/London", 1), 0);
    tzset();
    cr_expect_eq(clock_local_offset_s(winter), 0);
    cr_expect_eq(clock_local_offset_s(summer), 3600);
    cr_assert_eq(setenv("TZ", "America/New_York", 1), 0);
    tzset();
    cr_expect_eq(clock_local_offset_s(winter), -5 * 3600);
    cr_assert_eq(setenv("TZ", "UTC", 1), 0);
    tzset();
    cr_expect_eq(clock_local_offset_s(summer), 0);
}
