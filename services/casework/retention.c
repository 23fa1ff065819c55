/* retention: the pure retention decision (see retention.h). */
#include "casework/retention.h"
#include "clock.h"
#include "err.h"

#include <stdio.h>

#define DAY_MS 86400000ull

retention_verdict_t retention_case_decide(const retention_policy_t *p, uint32_t closed_date,
                                          int held, uint64_t now_ms, uint32_t *due_date)
{
    if (due_date)
        *due_date = 0;
    if (closed_date == 0)
        return RETENTION_KEEP_OPEN;
    /* A closure dated impossibly cannot be counted from: keeping it is the safe error, and the
     * sweep reports it so a person looks. */
    if (!clock_date_valid(closed_date))
        return RETENTION_KEEP_BADDATE;
    if (p->closed_case_days == 0)
        return RETENTION_KEEP_FOREVER;
    uint64_t due_ms = clock_date_to_ms(closed_date) + (uint64_t)p->closed_case_days * DAY_MS;
    if (due_date)
        *due_date = clock_ms_to_date(due_ms);
    /* Whole UTC days: a case closed on 1 March with 1 day of retention goes from 2 March. */
    if (now_ms < due_ms)
        return RETENTION_KEEP_PERIOD;
    return held ? RETENTION_KEEP_HELD : RETENTION_SHRED;
}

uint64_t retention_audit_cutoff_ms(const retention_policy_t *p, uint64_t now_ms)
{
    if (p->audit_days == 0)
        return 0;
    uint64_t span = (uint64_t)p->audit_days * DAY_MS;
    return now_ms > span ? now_ms - span : 0;
}

int retention_policy_check(const retention_policy_t *p, char *why, unsigned long whylen)
{
    if (p->closed_case_days > RETENTION_MAX_DAYS) {
        snprintf(why, whylen, "[retention] closed_case_days must be 0..%u", RETENTION_MAX_DAYS);
        return TACNET_ECONFIG;
    }
    if (p->audit_days > RETENTION_MAX_DAYS) {
        snprintf(why, whylen, "[retention] audit_days must be 0..%u", RETENTION_MAX_DAYS);
        return TACNET_ECONFIG;
    }
    /* The audit is the proof that a case was destroyed on schedule: it must outlive the
     * closed cases it speaks about, or the proof goes before the question can be asked. */
    if (p->audit_days != 0 && (p->closed_case_days == 0 || p->audit_days < p->closed_case_days)) {
        snprintf(why, whylen,
                 "[retention] audit_days (%u) must be 0 (for ever) or at least closed_case_days "
                 "(%u, 0 = for ever)",
                 p->audit_days, p->closed_case_days);
        return TACNET_ECONFIG;
    }
    return 0;
}

const char *retention_verdict_name(retention_verdict_t v)
{
    switch (v) {
    case RETENTION_KEEP_OPEN:
        return "open";
    case RETENTION_KEEP_PERIOD:
        return "period";
    case RETENTION_KEEP_FOREVER:
        return "forever";
    case RETENTION_KEEP_HELD:
        return "held";
    case RETENTION_KEEP_BADDATE:
        return "bad_date";
    case RETENTION_SHRED:
        return "shred";
    }
    return "?";
}

const char *retention_class_name(retention_class_t c)
{
    switch (c) {
    case RETENTION_CLASS_CLOSED_CASE:
        return "closed_case";
    case RETENTION_CLASS_AUDIT:
        return "audit";
    }
    return "?";
}
