/* chair_rule: a senior not directly involved chairs, else the lead. Synthetic professionals. */
#include <criterion/criterion.h>
#include <string.h>

#include "casework/chair_rule.h"

static Tacnet__Professional s_prof(Tacnet__Agency agency, const char *initials)
{
    Tacnet__Professional p;
    tacnet__professional__init(&p);
    p.has_agency = 1;
    p.agency = agency;
    if (initials) {
        p.has_initials = 1;
        p.initials.data = (uint8_t *)initials;
        p.initials.len = strlen(initials);
    }
    return p;
}

Test(chair_rule, judged_against_the_lead_and_the_named_contacts)
{
    Tacnet__Professional lead = s_prof(TACNET__AGENCY__SCHOOL, "AB");
    Tacnet__Professional camhs = s_prof(TACNET__AGENCY__CAMHS, "RK");
    Tacnet__Professional hv = s_prof(TACNET__AGENCY__HEALTH_VISITING, "TN");
    const Tacnet__Professional *involved[] = { &lead, &camhs, NULL, &hv };

    Tacnet__Professional senior = s_prof(TACNET__AGENCY__CAMHS, "QW");
    cr_assert_eq(chair_rule_judge(&senior, &lead, involved, 4),
                 TACNET__CHAIR_RULE__CHAIR_INDEPENDENT);
    Tacnet__Professional same = s_prof(TACNET__AGENCY__CAMHS, "RK");
    cr_assert_eq(chair_rule_judge(&same, &lead, involved, 4),
                 TACNET__CHAIR_RULE__CHAIR_DIRECTLY_INVOLVED);
    /* The same initials at another agency are another person. */
    Tacnet__Professional other = s_prof(TACNET__AGENCY__SOCIAL_CARE, "RK");
    cr_assert_eq(chair_rule_judge(&other, &lead, involved, 4),
                 TACNET__CHAIR_RULE__CHAIR_INDEPENDENT);
    /* The lead is also a named contact, and meets the rule as the fallback. */
    Tacnet__Professional the_lead = s_prof(TACNET__AGENCY__SCHOOL, "AB");
    cr_assert_eq(chair_rule_judge(&the_lead, &lead, involved, 4), TACNET__CHAIR_RULE__CHAIR_LEAD);
    cr_assert_eq(chair_rule_judge(&the_lead, NULL, involved, 4),
                 TACNET__CHAIR_RULE__CHAIR_DIRECTLY_INVOLVED);
}

Test(chair_rule, a_chair_must_be_named)
{
    Tacnet__Professional lead = s_prof(TACNET__AGENCY__SCHOOL, "AB");
    Tacnet__Professional anon = s_prof(TACNET__AGENCY__SCHOOL, NULL);
    cr_assert_eq(chair_rule_judge(NULL, &lead, NULL, 0), TACNET__CHAIR_RULE__CHAIR_NOT_NAMED);
    cr_assert_eq(chair_rule_judge(&anon, &lead, NULL, 0), TACNET__CHAIR_RULE__CHAIR_NOT_NAMED);
    /* A lead without initials cannot match anyone. */
    cr_assert_eq(chair_rule_judge(&lead, &anon, NULL, 0), TACNET__CHAIR_RULE__CHAIR_INDEPENDENT);
}

Test(chair_rule, meets_and_words)
{
    cr_assert(chair_rule_meets(TACNET__CHAIR_RULE__CHAIR_INDEPENDENT));
    cr_assert(chair_rule_meets(TACNET__CHAIR_RULE__CHAIR_LEAD));
    cr_assert_not(chair_rule_meets(TACNET__CHAIR_RULE__CHAIR_DIRECTLY_INVOLVED));
    cr_assert_not(chair_rule_meets(TACNET__CHAIR_RULE__CHAIR_NOT_NAMED));
    cr_assert_not(chair_rule_meets(TACNET__CHAIR_RULE__CHAIR_UNJUDGED));
    cr_assert_not_null(
        strstr(chair_rule_words(TACNET__CHAIR_RULE__CHAIR_DIRECTLY_INVOLVED), "does not meet"));
    cr_assert_null(chair_rule_words(TACNET__CHAIR_RULE__CHAIR_UNJUDGED));
    cr_assert_null(chair_rule_words(77));
}

/* A meeting's outcome is its convener's or the lead's to record; with no lead, or a convener
 * that has left the team, anyone in it may; a meeting not known has no convener to defer to. */
Test(chair_rule, the_outcome_is_recorded_by_the_convener_or_the_lead)
{
    enum {
        S = TACNET__AGENCY__SCHOOL,
        SC = TACNET__AGENCY__SOCIAL_CARE,
        CA = TACNET__AGENCY__CAMHS
    };
    uint32_t team = (1u << S) | (1u << SC) | (1u << CA);
    Tacnet__MeetingView m = TACNET__MEETING_VIEW__INIT;
    m.has_requested_by = 1;
    m.requested_by = TACNET__AGENCY__SCHOOL;
    cr_assert_eq(chair_rule_minutes_by(&m, CA, SC, team), S, "asked for by the school");
    m.has_scheduled_by = 1;
    m.scheduled_by = TACNET__AGENCY__SOCIAL_CARE;
    cr_assert_eq(chair_rule_minutes_by(&m, CA, SC, team), SC, "scheduled by social care");
    cr_assert_eq(chair_rule_minutes_by(&m, SC, S, team), 0, "the convener");
    cr_assert_eq(chair_rule_minutes_by(&m, S, S, team), 0, "the lead");
    cr_assert_eq(chair_rule_minutes_by(&m, CA, 0, team), 0, "no lead");
    cr_assert_eq(chair_rule_minutes_by(&m, CA, S, team & ~(1u << SC)), 0, "the convener left");
    cr_assert_eq(chair_rule_minutes_by(NULL, CA, S, team), 0, "a meeting not known");
}
