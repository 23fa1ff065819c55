/* retention: how long an agency keeps what it holds, and what a legal hold changes — the pure
 * decision behind the daemon's retention sweep (docs/RELIABILITY.md T25, the Records
 * Management Code of Practice: retention is a per-record-class schedule, never a constant).
 *
 * Record classes and the date each is counted from:
 *   closed_case  a case this agency's view holds, from the closed_date of its latest
 *                CaseClosed event (an open case is never due);
 *   audit        an audit record, from its own timestamp.
 * A period of 0 days means "keep for ever". A case under a legal hold (a public inquiry's "do not
 * destroy" notice, litigation, ...) is kept whatever its period; the hold carries a reason code,
 * never free text. Dates are UTC days (yyyymmdd); a record falls due on the day after its last
 * day of retention, i.e. closed_date + days. Pure logic: the time is always a parameter.
 */
#ifndef TACNET_CASEWORK_RETENTION_H
#define TACNET_CASEWORK_RETENTION_H

#include <stdint.h>

#define RETENTION_MAX_DAYS 36600u /* 100 years: beyond that a typo, not a schedule */

typedef enum retention_class {
    RETENTION_CLASS_CLOSED_CASE = 1,
    RETENTION_CLASS_AUDIT = 2,
} retention_class_t;

typedef struct retention_policy {
    uint32_t closed_case_days; /* [retention] closed_case_days; 0 = keep for ever */
    uint32_t audit_days;       /* [retention] audit_days; 0 = keep for ever */
} retention_policy_t;

typedef enum retention_verdict {
    RETENTION_KEEP_OPEN = 0,    /* the case is not closed */
    RETENTION_KEEP_PERIOD = 1,  /* closed, still inside its retention period */
    RETENTION_KEEP_FOREVER = 2, /* the class's period is 0 */
    RETENTION_KEEP_HELD = 3,    /* past its period but under a legal hold: kept and readable */
    RETENTION_KEEP_BADDATE = 4, /* the closure date is not a real day: kept, and reported */
    RETENTION_SHRED = 5,        /* past its period and not held: destroy */
} retention_verdict_t;

/* The verdict for one case of class closed_case. CLOSED_DATE is the yyyymmdd of its latest
 * closure (0: open), HELD 1 under a legal hold, NOW_MS the time of the sweep. *DUE_DATE
 * (optional) gets the yyyymmdd from which the case may be destroyed (0 when never: open, or a
 * period of 0, or a bad date). */
retention_verdict_t retention_case_decide(const retention_policy_t *p, uint32_t closed_date,
                                          int held, uint64_t now_ms, uint32_t *due_date);

/* The time before which audit records are past their period under P at NOW_MS: records with
 * at_ms < the result may be pruned. 0 when the audit is kept for ever. */
uint64_t retention_audit_cutoff_ms(const retention_policy_t *p, uint64_t now_ms);

/* Check a policy read from configuration. Returns 0 or TACNET_ECONFIG with WHY naming the key. */
int retention_policy_check(const retention_policy_t *p, char *why, unsigned long whylen);

/* "open", "period", "forever", "held", "bad_date", "shred". */
const char *retention_verdict_name(retention_verdict_t v);
/* "closed_case", "audit", or "?". */
const char *retention_class_name(retention_class_t c);

#endif
