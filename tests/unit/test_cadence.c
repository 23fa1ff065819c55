#include <criterion/criterion.h>

#include "casework/cadence.h"
#include "err.h"
#include "events.pb-c.h"
#include "zone.h"

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
    cr_assert_eq(d.due_date, 20270107);
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
    cr_assert_eq(d.due_date, 20270104);
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
    cr_assert_eq(d.due_date, 20270218);
    cr_assert_eq(
        cadence_review_due(NULL, TACNET__PLAN_TYPE__CHILD_PROTECTION, 28, start, held, held, &d),
        0);
    cr_assert_eq(d.due_date, 20270204);
}

Test(cadence, taf_review_every_six_weeks_from_the_last_review)
{
    cadence_due_t d;
    uint64_t start = s_at(20260302, 9);
    cr_assert_eq(
        cadence_review_due(NULL, TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY, 0, start, 0, start, &d), 0);
    cr_assert_eq(d.due_date, 20260413);
    uint64_t held = s_at(20260410, 15);
    cr_assert_eq(cadence_review_due(NULL, TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY, 0, start, held,
                                    s_at(20260522, 20), &d),
                 0);
    cr_assert_eq(d.due_date, 20260522);
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
    cr_assert_eq(d.due_date, 20260713);
    cr_assert_eq(
        cadence_review_due(NULL, TACNET__PLAN_TYPE__CHILD_IN_NEED, 28, start, 0, start, &d), 0);
    cr_assert_eq(d.due_date, 20260629);
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
    cr_assert_eq(d.due_date, 20260622);
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

/* The tester's case: an action due on 5 December read late on the 4th has a day and more to
 * run, is on time all through the 5th, and is late from the 6th. */
Test(cadence, a_date_item_is_due_by_the_end_of_its_day_not_at_its_start)
{
    char why[128];
    cr_assert_eq(zone_set("Europe/London", why, sizeof(why)), 0, "%s", why);
    cadence_due_t d;
    uint64_t evening = clock_date_to_ms(20261204) + 22 * CLOCK_HOUR_MS + 27 * 60000;
    cr_assert_eq(cadence_action_due(TACNET__ACTION_STATUS__OPEN, 20261205, evening, &d), 0);
    cr_assert_eq(d.due_date, 20261205u);
    cr_assert_eq(d.due_ms, clock_date_to_ms(20261206), "the countdown runs to the day's end");
    cr_assert_eq(d.due_ms - evening, 25 * CLOCK_HOUR_MS + 33 * 60000);
    cr_assert_eq(d.overdue, 0);
    cr_assert_eq(cadence_action_due(TACNET__ACTION_STATUS__OPEN, 20261205,
                                    clock_date_to_ms(20261206) - 60000, &d),
                 0);
    cr_assert_eq(d.overdue, 0, "23:59 on the due day is on time");
    cr_assert_eq(cadence_action_due(TACNET__ACTION_STATUS__OPEN, 20261205, s_at(20261206, 0), &d),
                 0);
    cr_assert_eq(d.overdue, 1);
    cr_assert_eq(d.days_overdue, 1);
}

/* The day ends where the partnership works: in New York (UTC-5 in December) 22:00 on the 5th
 * is 03:00 UTC on the 6th and still on time; in Paris (UTC+1) 23:30 UTC is already the 6th. */
Test(cadence, a_date_items_day_ends_at_midnight_in_the_partnerships_zone)
{
    char why[128];
    cadence_due_t d;
    cr_assert_eq(zone_set("America/New_York", why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(cadence_action_due(TACNET__ACTION_STATUS__OPEN, 20261205, s_at(20261206, 3), &d),
                 0);
    cr_assert_eq(d.due_ms, s_at(20261206, 5));
    cr_assert_eq(d.overdue, 0);
    cr_assert_eq(cadence_action_due(TACNET__ACTION_STATUS__OPEN, 20261205, s_at(20261206, 5), &d),
                 0);
    cr_assert_eq(d.overdue, 1);
    cr_assert_eq(d.days_overdue, 1);
    cr_assert_eq(zone_set("Europe/Paris", why, sizeof(why)), 0, "%s", why);
    uint64_t late = s_at(20261205, 23) + 30 * 60000;
    cr_assert_eq(cadence_action_due(TACNET__ACTION_STATUS__OPEN, 20261205, late, &d), 0);
    cr_assert_eq(d.due_ms, s_at(20261205, 23));
    cr_assert_eq(d.overdue, 1);
    cr_assert_eq(d.days_overdue, 1);
    /* A meeting starting at 23:30 UTC on the 5th is on the 6th in Paris. */
    cr_assert_eq(clock_ms_to_date(cadence_local_day(late)), 20261206u);
}

Test(cadence, missed_planned_parent_contact_is_flagged)
{
    cadence_due_t d;
    uint64_t start = s_at(20260501, 9);
    cr_assert_eq(cadence_contact_due(14, start, 0, s_at(20260515, 9), &d), 0);
    cr_assert_eq(d.due_date, 20260515);
    cr_assert_eq(d.overdue, 0);
    uint64_t last = s_at(20260510, 16);
    cr_assert_eq(cadence_contact_due(14, start, last, s_at(20260524, 18), &d), 0);
    cr_assert_eq(d.due_date, 20260524);
    cr_assert_eq(d.overdue, 0);
    cr_assert_eq(cadence_contact_due(14, start, last, s_at(20260525, 8), &d), 0);
    cr_assert_eq(d.overdue, 1);
    cr_assert_eq(cadence_contact_due(0, start, last, s_at(20260525, 8), &d), TACNET_EINVAL);
    cr_assert_eq(cadence_contact_counts(1, 1, 20260510, 20260501), 1);
    cr_assert_eq(cadence_contact_counts(1, 0, 20260510, 20260501), 0);
    cr_assert_eq(cadence_contact_counts(0, 1, 20260510, 20260501), 0);
}

/* A visit six days before the communication plan started was kept under no plan: it does not
 * count as the plan's last contact; one on the start day does. */
Test(cadence, a_contact_before_the_communication_plan_started_does_not_count)
{
    cr_assert_eq(cadence_contact_counts(1, 1, 20261114, 20261120), 0);
    cr_assert_eq(cadence_contact_counts(1, 1, 20261120, 20261120), 1);
    cr_assert_eq(cadence_contact_counts(1, 1, 20261121, 20261120), 1);
    cr_assert_eq(cadence_contact_counts(1, 1, 20261114, 0), 1, "no plan start: as before");
    cr_assert_eq(cadence_contact_counts(1, 1, 0, 20261120), 0, "no date");
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

/* A care plan of TYPE with an agreed interval of DAYS (0: the type's default). */
static void s_plan(Tacnet__CarePlan *p, uint32_t type, uint32_t days)
{
    tacnet__care_plan__init(p);
    p->has_type = 1;
    p->type = type;
    p->review_interval_days = days;
}

/* A plan view as a case state holds it. */
static Tacnet__PlanView *s_view(Tacnet__CarePlan *p, uint32_t by, uint32_t type, uint32_t days,
                                uint32_t start, uint32_t last)
{
    static Tacnet__PlanView views[4];
    static size_t next;
    Tacnet__PlanView *v = &views[next++ % 4];
    tacnet__plan_view__init(v);
    s_plan(p, type, days);
    v->plan = p;
    v->by = by;
    v->has_start_date = start != 0;
    v->start_date = start;
    v->has_last_review_date = last != 0;
    v->last_review_date = last;
    return v;
}

Test(cadence, the_cases_next_review_is_the_earliest_over_its_plans_after_the_event)
{
    Tacnet__CarePlan taf, capa, cin;
    /* A TAF plan from 2 March 2026 (reviewed 6 April) and a CAPA plan of 28 days from 9 March. */
    Tacnet__PlanView *plans[2] = {
        s_view(&taf, TACNET__AGENCY__SOCIAL_CARE, TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY, 0,
               20260302, 20260406),
        s_view(&capa, TACNET__AGENCY__CAMHS, TACNET__PLAN_TYPE__CAPA_PARTNERSHIP, 28, 20260309, 0),
    };
    /* As they stand: TAF 6 April + 42 days = 18 May; CAPA 9 March + 28 = 6 April. */
    cr_assert_eq(cadence_case_review_date(NULL, plans, 2, 0, NULL, 0, 0), 20260406);
    /* A meeting held on 7 April reviews both: CAPA 5 May, TAF 19 May. */
    cr_assert_eq(cadence_case_review_date(NULL, plans, 2, 0, NULL, 0, 20260407), 20260505);
    /* A meeting held before the CAPA plan started reviews only the TAF plan. */
    cr_assert_eq(cadence_case_review_date(NULL, plans, 2, 0, NULL, 0, 20260303), 20260406);
    /* Social care steps up to a CIN plan from 1 June: it replaces the TAF plan; CAPA's 6 April
     * stays the earliest. */
    s_plan(&cin, TACNET__PLAN_TYPE__CHILD_IN_NEED, 0);
    cr_assert_eq(cadence_case_review_date(NULL, plans, 2, TACNET__AGENCY__SOCIAL_CARE, &cin,
                                          clock_date_to_ms(20260601), 0),
                 20260406);
    /* CAMHS revises its CAPA plan from 20 April: it replaces the old one, the TAF's 18 May
     * comes first. */
    Tacnet__CarePlan capa2;
    s_plan(&capa2, TACNET__PLAN_TYPE__CAPA_PARTNERSHIP, 42);
    cr_assert_eq(cadence_case_review_date(NULL, plans, 2, TACNET__AGENCY__CAMHS, &capa2,
                                          clock_date_to_ms(20260420), 0),
                 20260518);
    /* A first CP plan: the core group within 10 working days (Easter 2026: 3 and 6 April). */
    Tacnet__CarePlan cp;
    s_plan(&cp, TACNET__PLAN_TYPE__CHILD_PROTECTION, 0);
    holidays_t *h = s_holidays();
    cr_assert_eq(cadence_case_review_date(h, NULL, 0, TACNET__AGENCY__SOCIAL_CARE, &cp,
                                          clock_date_to_ms(20260330), 0),
                 20260415);
    holidays_destroy(&h);
    /* No plan, or only a CAPA plan without an interval: no date. */
    cr_assert_eq(cadence_case_review_date(NULL, NULL, 0, 0, NULL, 0, 20260407), 0);
    Tacnet__CarePlan bad;
    Tacnet__PlanView *only[1] = { s_view(&bad, TACNET__AGENCY__CAMHS,
                                         TACNET__PLAN_TYPE__CAPA_PARTNERSHIP, 0, 20260309, 0) };
    cr_assert_eq(cadence_case_review_date(NULL, only, 1, 0, NULL, 0, 0), 0);
}
