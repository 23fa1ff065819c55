/* clock: injectable time, and working days over UTC calendar dates.
 *
 * Dates are handled as day numbers since 1970-01-01 with Howard Hinnant's civil calendar
 * algorithms, so no timezone database or locale is involved and the results are the same on
 * every host.
 */
#include "clock.h"
#include "err.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 0 means "use the real clock". Atomic because a test (or a daemon's helper thread) may read
 * the time while another thread moves it. */
static _Atomic uint64_t s_fake_ms;

static uint64_t s_clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t clock_now_ms(void)
{
    uint64_t fake = atomic_load(&s_fake_ms);
    return fake ? fake : s_clock_ms(CLOCK_REALTIME);
}

uint64_t clock_mono_ms(void)
{
    uint64_t fake = atomic_load(&s_fake_ms);
    return fake ? fake : s_clock_ms(CLOCK_MONOTONIC);
}

uint64_t clock_elapsed_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void clock_fake_set(uint64_t ms)
{
    atomic_store(&s_fake_ms, ms);
}

void clock_fake_advance(uint64_t ms)
{
    /* Advancing the real clock starts the fake one from now, so a test can freeze and move on
     * in one call. */
    uint64_t fake = atomic_load(&s_fake_ms);
    if (!fake)
        fake = s_clock_ms(CLOCK_REALTIME);
    atomic_store(&s_fake_ms, fake + ms);
}

/* --- Civil calendar (proleptic Gregorian), after H. Hinnant, "chrono-Compatible Low-Level
 * Date Algorithms". Day 0 is 1970-01-01. */

static int64_t s_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void s_civil_from_days(int64_t z, int64_t *y_out, unsigned *m_out, unsigned *d_out)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *y_out = (int64_t)yoe + era * 400 + (m <= 2);
    *m_out = m;
    *d_out = d;
}

static int s_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned s_days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && s_is_leap(y) ? 29 : dim[m - 1];
}

/* Day number of a yyyymmdd date from 1970 to 9999, or -1 when no such day exists. */
static int64_t s_day_of_date(uint32_t yyyymmdd)
{
    uint32_t y = yyyymmdd / 10000, m = yyyymmdd / 100 % 100, d = yyyymmdd % 100;
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > s_days_in_month(y, m))
        return -1;
    return s_days_from_civil(y, m, d);
}

static uint32_t s_date_of_day(int64_t day)
{
    int64_t y;
    unsigned m, d;
    s_civil_from_days(day, &y, &m, &d);
    return (uint32_t)(y * 10000 + m * 100 + d);
}

uint64_t clock_date_to_ms(uint32_t yyyymmdd)
{
    int64_t day = s_day_of_date(yyyymmdd);
    return day < 0 ? 0 : (uint64_t)day * CLOCK_DAY_MS;
}

int clock_date_valid(uint32_t yyyymmdd)
{
    return s_day_of_date(yyyymmdd) >= 0;
}

uint32_t clock_ms_to_date(uint64_t ms)
{
    return s_date_of_day((int64_t)(ms / CLOCK_DAY_MS));
}

void clock_format_iso(uint64_t ms, char *out, unsigned long cap)
{
    int64_t y;
    unsigned m, d;
    s_civil_from_days((int64_t)(ms / CLOCK_DAY_MS), &y, &m, &d);
    uint64_t sec = ms % CLOCK_DAY_MS / 1000;
    snprintf(out, cap, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d,
             (unsigned)(sec / 3600), (unsigned)(sec / 60 % 60), (unsigned)(sec % 60));
}

/* --- Holidays: a sorted set of day numbers. */

struct holidays {
    int64_t *days;
    size_t count;
    size_t cap;
};

holidays_t *holidays_new(void)
{
    return xcalloc(1, sizeof(holidays_t));
}

void holidays_destroy(holidays_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    holidays_t *self = *self_p;
    free(self->days);
    free(self);
    *self_p = NULL;
}

/* Index of the first entry >= DAY. */
static size_t s_lower_bound(const holidays_t *self, int64_t day)
{
    size_t lo = 0, hi = self->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->days[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int s_contains(const holidays_t *self, int64_t day)
{
    if (!self)
        return 0;
    size_t i = s_lower_bound(self, day);
    return i < self->count && self->days[i] == day;
}

int holidays_add(holidays_t *self, uint32_t yyyymmdd)
{
    int64_t day = s_day_of_date(yyyymmdd);
    if (!self || day < 0)
        return TACNET_EINVAL;
    size_t i = s_lower_bound(self, day);
    if (i < self->count && self->days[i] == day)
        return 0;
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 16;
        self->days = xrealloc(self->days, self->cap * sizeof(self->days[0]));
    }
    memmove(self->days + i + 1, self->days + i, (self->count - i) * sizeof(self->days[0]));
    self->days[i] = day;
    self->count++;
    return 0;
}

void holidays_range(const holidays_t *self, int *first_year, int *last_year)
{
    int first = 0, last = 0;
    if (self && self->count) {
        first = (int)(s_date_of_day(self->days[0]) / 10000);
        last = (int)(s_date_of_day(self->days[self->count - 1]) / 10000);
    }
    if (first_year)
        *first_year = first;
    if (last_year)
        *last_year = last;
}

/* Parse one line: blank or comment-only lines give 0 without touching *DATE; a date gives 1;
 * anything else -1. The date must be exactly yyyy-mm-dd so that a typo such as 2026-4-06 or
 * 2026-04-06x is refused rather than guessed at. */
static int s_parse_line(const char *line, uint32_t *date)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '\n' || *p == '\r' || *p == '#')
        return 0;
    static const char shape[] = "dddd-dd-dd";
    uint32_t value = 0;
    for (size_t i = 0; i < sizeof(shape) - 1; i++, p++) {
        if (shape[i] == 'd') {
            if (*p < '0' || *p > '9')
                return -1;
            value = value * 10 + (uint32_t)(*p - '0');
        } else if (*p != shape[i]) {
            return -1;
        }
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '\0' && *p != '\n' && *p != '\r' && *p != '#')
        return -1;
    *date = value;
    return 1;
}

holidays_t *holidays_load(const char *path, int *err, int *line)
{
    int rc = 0, lineno = 0;
    char *buf = NULL;
    size_t bufcap = 0;
    holidays_t *self = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        rc = errno == ENOENT ? TACNET_ENOTFOUND : TACNET_EIO;
        goto fail;
    }
    self = holidays_new();
    while (getline(&buf, &bufcap, f) != -1) {
        lineno++;
        uint32_t date;
        int kind = s_parse_line(buf, &date);
        /* A date listed twice is refused: it is usually a typo for another date. */
        if (kind < 0 ||
            (kind == 1 && (s_day_of_date(date) < 0 || s_contains(self, s_day_of_date(date))))) {
            rc = TACNET_ECONFIG;
            goto fail;
        }
        if (kind == 1)
            holidays_add(self, date);
    }
    if (ferror(f)) {
        rc = TACNET_EIO;
        lineno = 0;
        goto fail;
    }
    lineno = 0;
fail:
    free(buf);
    if (f)
        fclose(f);
    if (rc)
        holidays_destroy(&self);
    if (err)
        *err = rc;
    if (line)
        *line = rc == TACNET_ECONFIG ? lineno : 0;
    return self;
}

/* --- Working days. */

static int s_is_working(const holidays_t *self, int64_t day)
{
    /* Day 0 (1970-01-01) was a Thursday; 0 = Sunday. */
    int64_t weekday = ((day % 7) + 7 + 4) % 7;
    if (weekday == 0 || weekday == 6)
        return 0;
    return !s_contains(self, day);
}

int clock_is_working_day(const holidays_t *self, uint64_t ms)
{
    return s_is_working(self, (int64_t)(ms / CLOCK_DAY_MS));
}

uint64_t clock_add_working_days(const holidays_t *self, uint64_t start_ms, unsigned days)
{
    if (days == 0)
        return start_ms;
    int64_t day = (int64_t)(start_ms / CLOCK_DAY_MS);
    uint64_t time_of_day = start_ms % CLOCK_DAY_MS;
    /* Work that arrives on a weekend or holiday is treated as arriving at the start of the next
     * working day, so it gets no more and no less time than work arriving then. */
    if (!s_is_working(self, day)) {
        time_of_day = 0;
        while (!s_is_working(self, day))
            day++;
    }
    while (days > 0) {
        day++;
        if (s_is_working(self, day))
            days--;
    }
    return (uint64_t)day * CLOCK_DAY_MS + time_of_day;
}

unsigned clock_working_days_between(const holidays_t *self, uint64_t from_ms, uint64_t to_ms)
{
    if (to_ms <= from_ms)
        return 0;
    unsigned n = 0;
    int64_t last = (int64_t)(to_ms / CLOCK_DAY_MS);
    for (int64_t day = (int64_t)(from_ms / CLOCK_DAY_MS) + 1; day <= last; day++)
        n += (unsigned)s_is_working(self, day);
    return n;
}

long clock_local_offset_s(uint64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return tm.tm_gmtoff;
}

uint32_t clock_local_date(uint64_t ms)
{
    return clock_ms_to_date(ms + (uint64_t)(int64_t)clock_local_offset_s(ms) * 1000);
}
