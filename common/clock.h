/* clock: injectable time, and working-day arithmetic for escalation and review deadlines.
 *
 * Everything that reads the time goes through clock_now_ms(), so tests can fix or advance it.
 * Working days skip Saturdays, Sundays and the bank holidays listed in a data file
 * (deploy/bank-holidays-england-wales.txt: one yyyy-mm-dd per line, '#' comments). Days are
 * counted in UTC dates.
 */
#ifndef TACNET_CLOCK_H
#define TACNET_CLOCK_H

#include <stdint.h>

#define CLOCK_DAY_MS  86400000ULL
#define CLOCK_HOUR_MS 3600000ULL

/* Wall-clock milliseconds since the Unix epoch (or the fake time when set). */
uint64_t clock_now_ms(void);
/* Monotonic milliseconds, for timeouts (also follows the fake time when set). */
uint64_t clock_mono_ms(void);
/* Monotonic microseconds that never follow the fake time: for measuring how long something
 * took (a commit), which a fixed test clock would otherwise make zero. */
uint64_t clock_elapsed_us(void);

/* Tests: fix the time at MS (0 returns to the real clock); advance the fake time. */
void clock_fake_set(uint64_t ms);
void clock_fake_advance(uint64_t ms);

typedef struct holidays holidays_t;

/* Load bank holidays from PATH. Returns an owned set or NULL with *ERR (TACNET_ENOTFOUND,
 * TACNET_EIO, TACNET_ECONFIG with *LINE set to the bad line number). */
holidays_t *holidays_load(const char *path, int *err, int *line);
/* An empty set (weekends only). */
holidays_t *holidays_new(void);
/* Add one date (yyyymmdd). Returns 0 or TACNET_EINVAL for an impossible date. */
int holidays_add(holidays_t *self, uint32_t yyyymmdd);
void holidays_destroy(holidays_t **self_p);
/* First and last year covered (0 when empty). */
void holidays_range(const holidays_t *self, int *first_year, int *last_year);

/* 1 if the UTC date of MS is a working day (self may be NULL: weekends only), else 0. */
int clock_is_working_day(const holidays_t *self, uint64_t ms);

/* The deadline DAYS working days after START_MS: the same time of day on the DAYS-th working
 * day after START's date (a start on a non-working day counts from the next working day's
 * start). DAYS == 0 returns START_MS. */
uint64_t clock_add_working_days(const holidays_t *self, uint64_t start_ms, unsigned days);

/* Number of whole working days after FROM_MS's date up to and including TO_MS's date
 * (0 when TO <= FROM). */
unsigned clock_working_days_between(const holidays_t *self, uint64_t from_ms, uint64_t to_ms);

/* Date helpers (UTC): yyyymmdd <-> ms at 00:00 UTC. clock_date_to_ms returns 0 for an invalid
 * date. */
uint64_t clock_date_to_ms(uint32_t yyyymmdd);
/* 1 if YYYYMMDD names a real calendar day from 1970 to 9999 (what clock_date_to_ms accepts). */
int clock_date_valid(uint32_t yyyymmdd);
uint32_t clock_ms_to_date(uint64_t ms);
/* The offset from UTC in seconds of the process's local zone (TZ; the dashboard's [http]
 * time_zone) at MS: +3600 in London in summer, 0 in UTC or when the zone cannot be read. */
long clock_local_offset_s(uint64_t ms);
/* The date (yyyymmdd) of the instant MS in the process's local zone: the day people there name. */
uint32_t clock_local_date(uint64_t ms);
/* "2026-11-22T08:55:10Z" into OUT (at least 21 bytes). */
void clock_format_iso(uint64_t ms, char *out, unsigned long cap);

#endif
