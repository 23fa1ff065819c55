/* throttle: what failed authentication costs, kept in memory — a token bucket with backoff per
 * network source, and a lock-out per source and account — so that an outsider guessing
 * passwords or tokens is slowed down without writing anything durable, and without locking the
 * real owner out from elsewhere.
 *
 * A source is an IPv4 address (/32) or an IPv6 /64 (one host's usual allocation; an IPv4-mapped
 * IPv6 address counts as IPv4). Every failure takes one token from its source's bucket, which
 * refills at one token per refill_ms up to burst; an empty bucket blocks the source for
 * refill_ms, doubling with each further block up to backoff_max_ms, and the doubling is forgotten
 * after a quiet backoff_max_ms. Independently, lock_fails failures at one account from one
 * source within lock_ms lock that account for that source only, for lock_ms.
 *
 * Over every source together, password checks have a budget of time (verify_share percent of
 * it, at most verify_burst_ms at once), charged with what each check was measured to take: an
 * outsider with many sources cannot keep a single-threaded caller hashing, and beyond the budget
 * a log-in is refused at once, unchecked (throttle_verify_admit). Beyond it, a source from which
 * someone logged in within known_ms (throttle_success) may still draw on a reserve of its own
 * (known_share percent more): an attack from elsewhere that spends the budget does not lock out
 * the staff at their usual desks. Only successful log-ins make a source known, so failures from
 * any number of sources cannot reach the reserve or push the known sources out of their table.
 *
 * Nothing is written on a failure: the caller learns what to record from throttle_sweep, which
 * reports in rounds at most one window apart how many failures and refused attempts each source
 * had (one summary instead of one record per attempt): the report_sources sources with the most
 * on their own, every other source in one summary of "further sources", so what a round reports
 * is bounded whatever the number of sources. It also reports once each lock-out of an account
 * (report_sources of them per window at most, the rest counted in that further summary), and
 * at most once per window how many log-ins the budget refused. The tables are bounded (config
 * sources, set-associative; the least recently seen entry of a full set goes, its counts folded
 * into the further sources), so memory is too.
 *
 * Pure logic: the time is always passed in, nothing here reads a clock or does I/O.
 */
#ifndef TACNET_THROTTLE_H
#define TACNET_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

typedef struct throttle throttle_t;

#define THROTTLE_ACCOUNT 8 /* an account name of up to 7 bytes, NUL-terminated */
/* A source as text: "192.0.2.7", "2001:db8:1:2::/64", NUL (INET6_ADDRSTRLEN and "/64"). */
#define THROTTLE_ADDR 52

/* A source: 16 bytes, an IPv4 address as ::ffff:a.b.c.d, an IPv6 address cut to its /64. */
typedef struct throttle_source {
    uint8_t b[16];
} throttle_source_t;

typedef struct throttle_config {
    uint32_t burst;           /* failures a source may make before it is slowed (>= 1) */
    uint32_t refill_ms;       /* one more failure allowed every refill_ms (>= 1) */
    uint32_t backoff_max_ms;  /* the longest block, and the quiet time that forgets backoff */
    uint32_t lock_fails;      /* failures at one account from one source that lock it (>= 1) */
    uint32_t lock_ms;         /* how long such a lock lasts, and the window failures count in */
    uint32_t window_ms;       /* at most one summary per source per window */
    uint32_t sources;         /* capacity of each table (rounded up to a multiple of 8) */
    uint32_t report_sources;  /* sources summarised on their own per round (>= 1); lock-outs too */
    uint32_t verify_share;    /* percent of the time password checks may take (0: no budget) */
    uint32_t verify_burst_ms; /* checking time that may be spent at once (>= 1 with a share) */
    uint32_t known_share;     /* percent more for known sources when the rest is spent (0: none;
                                 with verify_share at most 100; no budget: no reserve either) */
    uint32_t known_ms;        /* how long a successful log-in keeps its source known */
    uint8_t seed[16];         /* key of the table's hash (random in a daemon) */
} throttle_config_t;

/* What throttle_sweep reports. */
typedef enum throttle_what {
    THROTTLE_SUMMARY = 1, /* failures and refusals of one source (all zero: further sources) */
    THROTTLE_LOCKED = 2,  /* ACCOUNT was locked for SOURCE */
    THROTTLE_BUSY = 3,    /* log-ins refused unchecked: password checks were over the budget */
} throttle_what_t;

typedef struct throttle_report {
    throttle_what_t what;
    throttle_source_t source;
    char account[THROTTLE_ACCOUNT]; /* THROTTLE_LOCKED only */
    int known;                      /* THROTTLE_LOCKED: the caller said the account exists */
    uint64_t failures;              /* checked and failed since the last summary */
    uint64_t refused; /* refused unchecked (blocked or locked; BUSY: over the budget) since then */
    uint64_t sources; /* SUMMARY: how many sources it sums (1: SOURCE's own) */
    uint64_t locks;   /* SUMMARY of further sources: lock-outs of known accounts not reported */
} throttle_report_t;

typedef void (*throttle_report_fn)(void *arg, const throttle_report_t *r);

/* Defaults: burst 10, refill 5 s, backoff up to 5 min, 5 failures lock an account for 15 min at
 * that source, one round of summaries per minute naming 8 sources at most, 4096 sources,
 * password checks a third of the time and at most 1 s at once, and a tenth more for sources
 * someone logged in from in the last 14 days; the seed is zero (set your own). */
void throttle_config_default(throttle_config_t *cfg);

/* A throttle with CFG (copied). Returns an owned object, or NULL when CFG is out of range. */
throttle_t *throttle_new(const throttle_config_t *cfg);
/* Free. Null-safe; sets *SELF_P to NULL. */
void throttle_destroy(throttle_t **self_p);

/* The source of SA (AF_INET or AF_INET6). Returns 0, or TACNET_EINVAL for another family. */
int throttle_source_from(const struct sockaddr *sa, throttle_source_t *out);
/* The source as text, "192.0.2.7" or "2001:db8::/64", into OUT. */
void throttle_source_str(const throttle_source_t *src, char out[THROTTLE_ADDR]);

/* May SOURCE try ACCOUNT's credential now (ACCOUNT NULL: a token, no account)? Returns 0, or
 * TACNET_ELOCKED with *RETRY_MS (may be NULL) how long until it may, the attempt counted as
 * refused. */
int throttle_admit(throttle_t *self, const throttle_source_t *src, const char *account,
                   uint64_t now_ms, uint64_t *retry_ms);
/* A checked attempt from SOURCE at ACCOUNT (NULL: a token) failed; KNOWN: the account exists
 * (only said in the lock report). */
void throttle_fail(throttle_t *self, const throttle_source_t *src, const char *account, int known,
                   uint64_t now_ms);
/* A log-in at ACCOUNT from SOURCE succeeded at NOW_MS: that source's failures at that account
 * are forgotten (its bucket is not refilled), and the source is known (the reserve of checks). */
void throttle_success(throttle_t *self, const throttle_source_t *src, const char *account,
                      uint64_t now_ms);
/* Lift every source's lock-out of ACCOUNT (an administrator's unlock). Returns how many. */
size_t throttle_unlock(throttle_t *self, const char *account);

/* Which budget an admitted check is charged to. */
#define THROTTLE_POOL_ALL     0 /* every source's */
#define THROTTLE_POOL_RESERVE 1 /* the known sources' reserve */

/* May SRC's password be checked at NOW_MS (the budget over every source, then the reserve if SRC
 * is known)? Returns 0 with *POOL, the budget to charge; or TACNET_ELOCKED with *RETRY_MS (may
 * be NULL) how long until every source's budget allows one again, the attempt counted for the
 * BUSY report. NOW_MS should be a clock the caller does not fake: it is what the checks' time
 * is measured on. */
int throttle_verify_admit(throttle_t *self, const throttle_source_t *src, uint64_t now_ms,
                          int *pool, uint64_t *retry_ms);
/* A check admitted from POOL ended at NOW_MS having taken SPENT_US microseconds: charged. */
void throttle_verify_spent(throttle_t *self, int pool, uint64_t spent_us, uint64_t now_ms);

/* How ACCOUNT stands at NOW_MS, over every source: its recent failures (summed) and the latest
 * end of a lock-out still running (0: none). */
void throttle_account(const throttle_t *self, const char *account, uint64_t now_ms, uint32_t *fails,
                      uint64_t *locked_until_ms);

/* Report what is due at NOW_MS through FN: once the oldest failure or refusal not yet reported
 * is a window old, a round of summaries of every source with some (report_sources on their own,
 * the most first, the rest in one further summary); each new lock-out once (report_sources of
 * known accounts per window, the rest counted in the next further summary); and the budget's
 * refusals, at once when they start and then at most once per window. Also forgets entries that
 * have nothing left to say. Returns the number of reports: at most 2 * report_sources + 2 a
 * window, plus lock-outs of unknown accounts (the caller need not record those). */
size_t throttle_sweep(throttle_t *self, uint64_t now_ms, throttle_report_fn fn, void *arg);

/* Entries in use (sources, source-and-account pairs): for tests and the status. */
void throttle_counts(const throttle_t *self, size_t *sources, size_t *accounts);

#endif
