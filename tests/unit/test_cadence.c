#include <criterion/criterion.h>

#include "casework/cadence.h"
#include "err.h"
#include "events.pb-c.h"

/* England and Wales bank holidays from GOV.UK, 2026 and New Year 2027. */
static holidays_t *s_holidays(void)
{
    static const uint32_t days[] = { 20260101, 20260403, 20260406, 20260504, 20260525,
                                     20260831, 20261225, 20261228, 20270101 };
    holidays_t *h = holidays_new();
    for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++)
        cr_assert_eq(holidays_add(h, days[i]), 0);
    return h;
}

static uint64_t s_at(uint32_t date, unsigned hour)
{
    return clock_date_to_ms(date) + hour * CLOCK_HOUR_MS;
}

Test(cadence, cp_core_group_due_ten_working_days_across_christmas_2026)
{
    holidays_t *h = s_holidays();
    cadence_due_t d;
    /* ICPC on Monday 21 December 2026: 25 and 28 December and 1 January are bank holidays. */
    uint64_t icpc = s_at(20261221, 10);
    cr_assert_eq(cadence_review_due(h, TACNET__PLAN_TYPE__CHILD_PROTECTION, 0, icpc, 0,
                                    s_at(20270107, 23), &d),
                 0);
    cr_assert_eq(clock_ms_to_date(d.due_ms), 20270107);
    cr_assert_eq(d.overdue, 0);
    /* Working day 11 without a core group: overdue. */
    cr_assert_eq(cadence_review_due(h, TACNET__PLAN_TYPE__CHILD_PROTECTION, 0, icpc, 0,
                                    s_at(20270108, 9), &d),
                 0);
    cr_assert_eq(d.overdue, 1);
    cr_assert_eq(d.days_overdue, 1);
    /* Counting weekends only would have made it due on Monday 4 January. */
    cr_assert_eq(cadence_review_due(NULL, TACNET__PLAN_TYPE__CHILD_PROTECTION, 0, icpc, 0,
                                    s_at(20270105, 9), &d),
                 0);
    cr_assert_eq(clock_ms_to_date(d.due_ms), 20270104);
    cr_assert_eq(d.overdue, 1);
    holidays_destroy(&h);
    cr_assert_null(h);
}

Test(cadence, cp_core_groups_after_the_first_are_at_most_six_weeks_apart)
{
    cadence_due_t d;
    uint64_t start = s_at(20261221, 10), held = s_at(20270107, 14);
    cr_assert_eq(
        cadence_review_due(NULL, TACNET__PLAN_TYPE__CHILD_PROTECTION, 60, start, held, held, &d),
        0);
    cr_assert_eq(clock_ms_to_date(d.due_ms), 20270218);
    cr_assert_eq(
        cadence_review_due(NULL, TACNET__PLAN_TYPE__CHILD_PROTECTION, 28, start, held, held, &d),
        0);
    cr_assert_eq(clock_ms_to_date(d.due_ms), 20270204);
}

Test(cadence, taf_review_every_six_weeks_from_the_last_review)
{
    cadence_due_t d;
    uint64_t start = s_at(20260302, 9);
    cr_assert_eq(
        cadence_review_due(NULL, TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY, 0, start, 0, start, &d), 0);
    cr_assert_eq(clock_ms_to_date(d.due_ms), 20260413);
    uint64_t held = s_at(20260410, 15);
    cr_assert_eq(cadence_review_due(NULL, TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY, 0, start, held,
                                    s_at(20260522, 20), &d),
                 0);
    cr_assert_eq(clock_ms_to_date(d.due_ms), 20260522);
    cr_assert_eq(d.overdue, 0);
    cr_assert_eq(cadence_review_due(NULL, TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY, 0, start, held,
                                    s_at(20260525, 8), &d),
                 0);
    cr_assert_eq(d.overdue, 1);
    cr_assert_eq(d.days_overdue, 3);
}

Test(cadence, cin_uses_the_plan_interval_or_six_weeks)
{
    cadence_due_t d;
    uint64_t start = s_at(20260601, 9);
    cr_assert_eq(cadence_review_due(NULL, TACNET__PLAN_TYPE__CHILD_IN_NEED, 0, start, 0, start, &d),
                 0);
    cr_assert_eq(clock_ms_to_date(d.due_ms), 20260713);
    cr_assert_eq(
        cadence_review_due(NULL, TACNET__PLAN_TYPE__CHILD_IN_NEED, 28, start, 0, start, &d), 0);
    cr_assert_eq(clock_ms_to_date(d.due_ms), 20260629);
}

Test(cadence, capa_review_needs_an_agreed_interval)
{
    cadence_due_t d;
    uint64_t start = s_at(20260601, 9);
    cr_assert_eq(
        cadence_review_due(NULL, TACNET__PLAN_TYPE__CAPA_PARTNERSHIP, 0, start, 0, start, &d),
        TACNET_EFIELD);
    cr_assert_eq(
        cadence_review_due(NULL, TACNET__PLAN_TYPE__CAPA_PARTNERSHIP, 21, start, 0, start, &d), 0);
    cr_assert_eq(clock_ms_to_date(d.due_ms), 20260622);
    cr_assert_eq(cadence_review_due(NULL, TACNET__PLAN_TYPE__PLAN_UNKNOWN, 21, start, 0, start, &d),
                 TACNET_EENUM);
}

Test(cadence, open_action_past_its_due_date_is_overdue)
{
    cadence_due_t d;
    cr_assert_eq(cadence_action_due(TACNET__ACTION_STATUS__OPEN, 20260415, s_at(20260415, 23), &d),
                 0);
    cr_assert_eq(d.overdue, 0);
    cr_assert_eq(cadence_action_due(TACNET__ACTION_STATUS__OPEN, 20260415, s_at(20260416, 9), &d),
                 0);
    cr_assert_eq(d.overdue, 1);
    cr_assert_eq(d.days_overdue, 1);
    cr_assert_eq(cadence_action_due(TACNET__ACTION_STATUS__OPEN, 20260415, s_at(20260418, 9), &d),
                 0);
    cr_assert_eq(d.days_overdue, 3);
    cr_assert_eq(cadence_action_due(TACNET__ACTION_STATUS__DONE, 20260415, s_at(20260418, 9), &d),
                 0);
    cr_assert_eq(d.overdue, 0);
    cr_assert_eq(
        cadence_action_due(TACNET__ACTION_STATUS__CANCELLED, 20260415, s_at(20260418, 9), &d), 0);
    cr_assert_eq(d.overdue, 0);
    cr_assert_eq(cadence_action_due(TACNET__ACTION_STATUS__OPEN, 20260231, s_at(20260418, 9), &d),
                 TACNET_EINVAL);
}

Test(cadence, missed_planned_parent_contact_is_flagged)
{
    cadence_due_t d;
    uint64_t start = s_at(20260501, 9);
    cr_assert_eq(cadence_contact_due(14, start, 0, s_at(20260515, 9), &d), 0);
    cr_assert_eq(clock_ms_to_date(d.due_ms), 20260515);
    cr_assert_eq(d.overdue, 0);
    uint64_t last = s_at(20260510, 16);
    cr_assert_eq(cadence_contact_due(14, start, last, s_at(20260524, 18), &d), 0);
    cr_assert_eq(clock_ms_to_date(d.due_ms), 20260524);
    cr_assert_eq(d.overdue, 0);
    cr_assert_eq(cadence_contact_due(14, start, last, s_at(20260525, 8), &d), 0);
    cr_assert_eq(d.overdue, 1);
    cr_assert_eq(cadence_contact_due(0, start, last, s_at(20260525, 8), &d), TACNET_EINVAL);
    cr_assert_eq(cadence_contact_counts(1, 1), 1);
    cr_assert_eq(cadence_contact_counts(1, 0), 0);
    cr_assert_eq(cadence_contact_counts(0, 1), 0);
}

Test(cadence, lead_handover_not_accepted_within_working_days_is_flagged)
{
    holidays_t *h = s_holidays();
    cadence_due_t d;
    /* Offered Thursday 2 April 2026; Good Friday and Easter Monday do not count. */
    uint64_t offered = s_at(20260402, 10);
    cr_assert_eq(cadence_handover_due(h, offered, 0, 3, s_at(20260409, 9), &d), 0);
    cr_assert_eq(d.due_ms, s_at(20260409, 10));
    cr_assert_eq(d.overdue, 0);
    cr_assert_eq(cadence_handover_due(h, offered, 0, 3, s_at(20260410, 11), &d), 0);
    cr_assert_eq(d.overdue, 1);
    cr_assert_eq(d.days_overdue, 1);
    cr_assert_eq(cadence_handover_due(h, offered, 1, 3, s_at(20260410, 11), &d), 0);
    cr_assert_eq(d.overdue, 0);
    holidays_destroy(&h);
}
