#include <criterion/criterion.h>

#include "casework/retention.h"
#include "clock.h"
#include "err.h"

#define DAY_MS 86400000ull

static uint64_t s_noon(uint32_t date)
{
    return clock_date_to_ms(date) + 12 * 3600000ull;
}

static const retention_policy_t s_policy = { .closed_case_days = 365, .audit_days = 730 };

Test(retention, open_case_is_never_due)
{
    uint32_t due = 1;
    cr_assert_eq(retention_case_decide(&s_policy, 0, 0, s_noon(20991231), &due),
                 RETENTION_KEEP_OPEN);
    cr_assert_eq(due, 0);
}

Test(retention, closed_case_is_kept_through_its_last_day)
{
    uint32_t due = 0;
    /* Closed 1 March 2026, 365 days: 2026 is not a leap year, so due on 1 March 2027. */
    cr_assert_eq(retention_case_decide(&s_policy, 20260301, 0, s_noon(20270228), &due),
                 RETENTION_KEEP_PERIOD);
    cr_assert_eq(due, 20270301);
    cr_assert_eq(
        retention_case_decide(&s_policy, 20260301, 0, clock_date_to_ms(20270301) - 1, NULL),
        RETENTION_KEEP_PERIOD);
}

Test(retention, closed_case_past_its_period_is_shredded_from_the_due_day)
{
    cr_assert_eq(retention_case_decide(&s_policy, 20260301, 0, clock_date_to_ms(20270301), NULL),
                 RETENTION_SHRED);
    cr_assert_eq(retention_case_decide(&s_policy, 20260301, 0, s_noon(20300101), NULL),
                 RETENTION_SHRED);
}

Test(retention, leap_day_is_counted)
{
    uint32_t due = 0;
    /* 2028 is a leap year: 365 days from 1 March 2027 is 29 February 2028. */
    cr_assert_eq(retention_case_decide(&s_policy, 20270301, 0, s_noon(20280228), &due),
                 RETENTION_KEEP_PERIOD);
    cr_assert_eq(due, 20280229);
}

Test(retention, legal_hold_keeps_a_case_past_its_period)
{
    cr_assert_eq(retention_case_decide(&s_policy, 20200101, 1, s_noon(20300101), NULL),
                 RETENTION_KEEP_HELD);
}

Test(retention, legal_hold_inside_the_period_reports_the_period)
{
    /* The hold changes nothing until the period ends: the sweep reports the earlier reason. */
    cr_assert_eq(retention_case_decide(&s_policy, 20260301, 1, s_noon(20260302), NULL),
                 RETENTION_KEEP_PERIOD);
}

Test(retention, zero_days_keeps_for_ever)
{
    retention_policy_t p = { .closed_case_days = 0, .audit_days = 0 };
    uint32_t due = 1;
    cr_assert_eq(retention_case_decide(&p, 19990101, 0, s_noon(20991231), &due),
                 RETENTION_KEEP_FOREVER);
    cr_assert_eq(due, 0);
    cr_assert_eq(retention_audit_cutoff_ms(&p, s_noon(20991231)), 0);
}

Test(retention, impossible_closure_date_is_kept_and_flagged)
{
    cr_assert_eq(retention_case_decide(&s_policy, 20260230, 0, s_noon(20991231), NULL),
                 RETENTION_KEEP_BADDATE);
    cr_assert_eq(retention_case_decide(&s_policy, 12345, 0, s_noon(20991231), NULL),
                 RETENTION_KEEP_BADDATE);
}

Test(retention, one_day_period_goes_the_next_day)
{
    retention_policy_t p = { .closed_case_days = 1, .audit_days = 0 };
    cr_assert_eq(retention_case_decide(&p, 20261122, 0, s_noon(20261122), NULL),
                 RETENTION_KEEP_PERIOD);
    cr_assert_eq(retention_case_decide(&p, 20261122, 0, clock_date_to_ms(20261123), NULL),
                 RETENTION_SHRED);
}

Test(retention, audit_cutoff_is_its_period_before_now)
{
    uint64_t now = s_noon(20301231);
    cr_assert_eq(retention_audit_cutoff_ms(&s_policy, now), now - 730 * DAY_MS);
    retention_policy_t p = { .closed_case_days = 0, .audit_days = 1 };
    cr_assert_eq(retention_audit_cutoff_ms(&p, 1000), 0);
}

Test(retention, policy_check_names_the_key_at_fault)
{
    char why[160];
    retention_policy_t p = { .closed_case_days = RETENTION_MAX_DAYS + 1, .audit_days = 0 };
    cr_assert_eq(retention_policy_check(&p, why, sizeof(why)), TACNET_ECONFIG);
    cr_assert(strstr(why, "closed_case_days"));
    p = (retention_policy_t){ .closed_case_days = 3650, .audit_days = 365 };
    cr_assert_eq(retention_policy_check(&p, why, sizeof(why)), TACNET_ECONFIG);
    cr_assert(strstr(why, "audit_days"));
    p = (retention_policy_t){ .closed_case_days = 0, .audit_days = 365 };
    cr_assert_eq(retention_policy_check(&p, why, sizeof(why)), TACNET_ECONFIG);
    p = (retention_policy_t){ .closed_case_days = 365, .audit_days = 365 };
    cr_assert_eq(retention_policy_check(&p, why, sizeof(why)), 0);
    p = (retention_policy_t){ .closed_case_days = 0, .audit_days = 0 };
    cr_assert_eq(retention_policy_check(&p, why, sizeof(why)), 0);
}

Test(retention, names_are_stable)
{
    cr_assert_str_eq(retention_verdict_name(RETENTION_SHRED), "shred");
    cr_assert_str_eq(retention_verdict_name(RETENTION_KEEP_HELD), "held");
    cr_assert_str_eq(retention_class_name(RETENTION_CLASS_CLOSED_CASE), "closed_case");
    cr_assert_str_eq(retention_class_name(RETENTION_CLASS_AUDIT), "audit");
}
