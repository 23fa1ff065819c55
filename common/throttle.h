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
 * Nothing is written on a failure: the caller learns what to record from throttle_sweep, which
 * reports once per source and window how many failures and refused attempts there were (one
 * summary instead of one record per attempt), and once per lock-out that an account was locked.
 * The tables are bounded (config sources, set-associative; the least recently seen entry of a
 * full set goes, its counts folded into a summary for "other sources"), so memory is too.
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
    uint32_t burst;          /* failures a source may make before it is slowed (>= 1) */
    uint32_t refill_ms;      /* one more failure allowed every refill_ms (>= 1) */
    uint32_t backoff_max_ms; /* the longest block, and the quiet time that forgets backoff */
    uint32_t lock_fails;     /* failures at one account from one source that lock it (>= 1) */
    uint32_t lock_ms;        /* how long such a lock lasts, and the window failures count in */
    uint32_t window_ms;      /* at most one summary per source per window */
    uint32_t sources;        /* capacity of each table (rounded up to a multiple of 8) */
    uint8_t seed[16];        /* key of the table's hash (random in a daemon) */
} throttle_config_t;

/* What throttle_sweep reports. */
typedef enum throttle_what {
    THROTTLE_SUMMARY = 1, /* failures and refusals of one source (all zero: evicted sources) */
    THROTTLE_LOCKED = 2,  /* ACCOUNT was locked for SOURCE */
} throttle_what_t;

typedef struct throttle_report {
    throttle_what_t what;
    throttle_source_t source;
    char account[THROTTLE_ACCOUNT]; /* THROTTLE_LOCKED only */
    int known;                      /* THROTTLE_LOCKED: the caller said the account exists */
    uint64_t failures;              /* checked and failed since the last summary */
    uint64_t refused;               /* refused unchecked (blocked or locked) since then */
} throttle_report_t;

typedef void (*throttle_report_fn)(void *arg, const throttle_report_t *r);

/* Defaults: burst 10, refill 5 s, backoff up to 5 min, 5 failures lock an account for 15 min at
 * that source, one summary per minute, 4096 sources; the seed is zero (set your own). */
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
/* A log-in at ACCOUNT from SOURCE succeeded: that source's failures at that account are
 * forgotten (its bucket is not refilled). */
void throttle_success(throttle_t *self, const throttle_source_t *src, const char *account);
/* Lift every source's lock-out of ACCOUNT (an administrator's unlock). Returns how many. */
size_t throttle_unlock(throttle_t *self, const char *account);

/* How ACCOUNT stands at NOW_MS, over every source: its recent failures (summed) and the latest
 * end of a lock-out still running (0: none). */
void throttle_account(const throttle_t *self, const char *account, uint64_t now_ms, uint32_t *fails,
                      uint64_t *locked_until_ms);

/* Report what is due at NOW_MS through FN: a summary for each source whose window has passed
 * with failures or refusals in it, and each new lock-out once. Also forgets entries that have
 * nothing left to say. Returns the number of reports. */
size_t throttle_sweep(throttle_t *self, uint64_t now_ms, throttle_report_fn fn, void *arg);

/* Entries in use (sources, source-and-account pairs): for tests and the status. */
void throttle_counts(const throttle_t *self, size_t *sources, size_t *accounts);

#endif
