/* route: membership and sharing decisions, from clear headers only. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "err.h"
#include "policyfile.h"
#include "agencies.h"
#include "agencyconf.h"
#include "roster.h"
#include "route.h"
#include "seal.h"

#define CAMHS  TACNET__AGENCY__CAMHS
#define SCHOOL TACNET__AGENCY__SCHOOL
#define HV     TACNET__AGENCY__HEALTH_VISITING
#define SC     TACNET__AGENCY__SOCIAL_CARE
#define BIT(a) (1u << (a))

static roster_t *roster;

/* A roster carrying deploy/sharing.conf (school: routine + safeguarding with consent, nothing
 * without; social care: safeguarding without consent). */
static void s_up(void)
{
    cr_assert_eq(seal_init(), 0);
    Tacnet__Roster r = TACNET__ROSTER__INIT;
    char why[256];
    const char *src = getenv("TACNET_SRC") ? getenv("TACNET_SRC") : ".";
    char sharing[512], escalation[512];
    snprintf(sharing, sizeof(sharing), "%s/deploy/sharing.conf", src);
    snprintf(escalation, sizeof(escalation), "%s/deploy/escalation.conf", src);
    char agencies_path[512];
    snprintf(agencies_path, sizeof(agencies_path), "%s/deploy/agencies.conf", src);
    /* The deploy policy names family_support: the partnership's agencies come first. */
    cr_assert_eq(agencyconf_load(agencies_path, &r, why, sizeof(why)), 0, "%s", why);
    agencies_register(r.agencies, r.n_agencies);
    cr_assert_eq(policyfile_load(sharing, escalation, &r, why, sizeof(why)), 0, "%s", why);
    r.version = 1;
    seal_keys_t *root = seal_root_generate();
    uint8_t *signed_roster = NULL;
    size_t len = 0;
    cr_assert_eq(roster_sign(&r, root, &signed_roster, &len), 0);
    int err = 0;
    roster = roster_parse(signed_roster, len, root->sign_pk, &err);
    cr_assert_not_null(roster, "roster_parse: %s", tacnet_errname(err));
    free(signed_roster);
    seal_keys_destroy(&root);
    policyfile_free(&r);
    agencyconf_free(&r);
}

static void s_down(void)
{
    roster_destroy(&roster);
    cr_assert_null(roster);
}

TestSuite(route, .init = s_up, .fini = s_down);

static Tacnet__Agency s_rcpt[ROUTE_MAX_AGENCY];

static void s_header(Tacnet__Header *h, Tacnet__Agency sender, Tacnet__EventKind kind,
                     Tacnet__Sensitivity s, uint32_t rcpt_mask)
{
    tacnet__header__init(h);
    h->sender = sender;
    h->kind = kind;
    h->sensitivity = s;
    h->lawful_basis = TACNET__LAWFUL_BASIS__CONSENT;
    h->n_recipients = 0;
    h->recipients = s_rcpt;
    for (unsigned a = 1; a < ROUTE_MAX_AGENCY; a++)
        if (rcpt_mask & BIT(a))
            s_rcpt[h->n_recipients++] = (Tacnet__Agency)a;
}

static route_case_t s_case(uint32_t members, uint8_t consent)
{
    route_case_t c;
    memset(&c, 0, sizeof(c));
    c.members = members;
    c.lead = SC;
    c.consent = consent;
    if (consent == TACNET__CONSENT_STATE__GIVEN) /* a consent without a scope covers all */
        for (unsigned a = 1; a < ROUTE_COVER_AGENCIES; a++)
            c.cover[a] = ROUTE_COVER_SLOT(a) ? ROUTE_CLASSES_ALL : 0;
    return c;
}

/* A consent record by SENDER with state STATE for the classes in CLASSES (mask of
 * ROUTE_CLASS_BIT) and the agencies in AGENCIES (bitmask), addressed to RCPT. */
static Tacnet__Sensitivity s_scope[4];
static Tacnet__Agency s_agencies[ROUTE_MAX_AGENCY];
static void s_consent_header(Tacnet__Header *h, Tacnet__Agency sender, Tacnet__ConsentState state,
                             uint8_t classes, uint32_t agencies, uint32_t rcpt)
{
    s_header(h, sender, TACNET__EVENT_KIND__CONSENT_RECORDED, TACNET__SENSITIVITY__ROUTINE, rcpt);
    h->has_consent = 1;
    h->consent = state;
    h->consent_scope = s_scope;
    h->consent_agencies = s_agencies;
    for (uint32_t k = 1; k <= 3; k++)
        if (classes & ROUTE_CLASS_BIT(k))
            s_scope[h->n_consent_scope++] = (Tacnet__Sensitivity)k;
    for (unsigned a = 1; a < ROUTE_MAX_AGENCY; a++)
        if (agencies & BIT(a))
            s_agencies[h->n_consent_agencies++] = (Tacnet__Agency)a;
}

Test(route, a_concern_opens_a_new_case_with_the_sender_alone)
{
    Tacnet__Header h;
    route_verdict_t v;
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__CONCERN, TACNET__SENSITIVITY__ROUTINE, BIT(SCHOOL));
    cr_assert_eq(route_check(NULL, &h, roster, &v), 0);
    cr_assert_eq(v.required, BIT(SCHOOL));
    route_case_t c;
    memset(&c, 0, sizeof(c));
    route_apply(&c, &h);
    cr_assert_eq(c.members, BIT(SCHOOL));
    cr_assert_eq(c.lead, SCHOOL, "whoever opens a case leads until a hand-over");
}

Test(route, a_decision_cannot_open_a_case_and_non_members_cannot_write)
{
    Tacnet__Header h;
    route_verdict_t v;
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__DECISION, TACNET__SENSITIVITY__ROUTINE, BIT(SCHOOL));
    cr_assert_eq(route_check(NULL, &h, roster, &v), TACNET_ENOTMEMBER);
    route_case_t c = s_case(BIT(SC), TACNET__CONSENT_STATE__GIVEN);
    s_header(&h, CAMHS, TACNET__EVENT_KIND__CONCERN, TACNET__SENSITIVITY__ROUTINE, BIT(CAMHS));
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ENOTMEMBER);
}

Test(route, school_never_receives_health_events_even_with_consent)
{
    route_case_t c = s_case(BIT(SC) | BIT(SCHOOL) | BIT(CAMHS), TACNET__CONSENT_STATE__GIVEN);
    Tacnet__Header h;
    route_verdict_t v;
    s_header(&h, CAMHS, TACNET__EVENT_KIND__ASSESSMENT, TACNET__SENSITIVITY__HEALTH,
             BIT(CAMHS) | BIT(SC));
    h.has_level_of_need = 1;
    h.level_of_need = 2;
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    cr_assert_eq(v.required, BIT(CAMHS) | BIT(SC));
    s_header(&h, CAMHS, TACNET__EVENT_KIND__ASSESSMENT, TACNET__SENSITIVITY__HEALTH,
             BIT(CAMHS) | BIT(SC) | BIT(SCHOOL));
    h.has_level_of_need = 1;
    h.level_of_need = 2;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ECONSENT,
                 "naming a member no consent or basis reaches is a consent refusal");
    cr_assert_not_null(v.why);
    s_header(&h, CAMHS, TACNET__EVENT_KIND__ASSESSMENT, TACNET__SENSITIVITY__HEALTH, BIT(CAMHS));
    h.has_level_of_need = 1;
    h.level_of_need = 2;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ERECIPIENTS, "social care left out");
}

Test(route, without_consent_only_social_care_gets_safeguarding)
{
    route_case_t c = s_case(BIT(SC) | BIT(SCHOOL) | BIT(CAMHS), TACNET__CONSENT_STATE__REFUSED);
    Tacnet__Header h;
    route_verdict_t v;
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__CONCERN, TACNET__SENSITIVITY__SAFEGUARDING,
             BIT(SCHOOL) | BIT(SC));
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    cr_assert_eq(v.required, BIT(SCHOOL) | BIT(SC));
    cr_assert_eq(v.override_used, 0);
}

Test(route, safeguarding_override_reaches_every_member_and_needs_a_reason)
{
    route_case_t c = s_case(BIT(SC) | BIT(SCHOOL) | BIT(CAMHS), TACNET__CONSENT_STATE__REFUSED);
    Tacnet__Header h;
    route_verdict_t v;
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__CONCERN, TACNET__SENSITIVITY__SAFEGUARDING,
             BIT(SCHOOL) | BIT(SC) | BIT(CAMHS));
    h.lawful_basis = TACNET__LAWFUL_BASIS__SAFEGUARDING_OVERRIDE;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_EOVERRIDE);
    h.has_override_reason = 1;
    h.override_reason = TACNET__OVERRIDE_REASON__RISK_OF_SIGNIFICANT_HARM;
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    cr_assert_eq(v.override_used, 1);
}

Test(route, referral_with_consent_records_it_and_brings_in_the_referred_agency)
{
    route_case_t c = s_case(BIT(SCHOOL), TACNET__CONSENT_STATE__CONSENT_UNKNOWN);
    c.lead = SCHOOL;
    Tacnet__Header h;
    route_verdict_t v;
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__REFERRAL, TACNET__SENSITIVITY__SAFEGUARDING,
             BIT(SCHOOL) | BIT(CAMHS));
    h.has_subject_agency = 1;
    h.subject_agency = CAMHS;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ECONSENT,
                 "CAMHS may not see safeguarding without consent");
    h.has_consent = 1;
    h.consent = TACNET__CONSENT_STATE__GIVEN;
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    route_apply(&c, &h);
    cr_assert_eq(c.members, BIT(SCHOOL) | BIT(CAMHS));
    cr_assert_eq(c.consent, TACNET__CONSENT_STATE__GIVEN);
    h.consent = TACNET__CONSENT_STATE__REFUSED;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ECONSENT,
                 "a referral may not contradict the consent on record");
}

Test(route, lead_changes_only_when_the_new_lead_accepts)
{
    route_case_t c = s_case(BIT(SC) | BIT(SCHOOL), TACNET__CONSENT_STATE__GIVEN);
    c.lead = SCHOOL;
    Tacnet__Header h;
    route_verdict_t v;
    s_header(&h, SC, TACNET__EVENT_KIND__LEAD_ACCEPTED, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL));
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_EKIND, "nothing was offered");
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__LEAD_HANDOVER, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL));
    h.has_subject_agency = 1;
    h.subject_agency = SC;
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    route_apply(&c, &h);
    cr_assert_eq(c.lead, SCHOOL, "the old lead stays until acceptance");
    s_header(&h, SC, TACNET__EVENT_KIND__LEAD_ACCEPTED, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL));
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    route_apply(&c, &h);
    cr_assert_eq(c.lead, SC);
    cr_assert_eq(c.pending_lead, 0);
}

Test(route, closed_case_refuses_further_events_and_state_round_trips)
{
    route_case_t c = s_case(BIT(SC) | BIT(HV), TACNET__CONSENT_STATE__GIVEN);
    c.level[SC] = 3;
    Tacnet__Header h;
    route_verdict_t v;
    s_header(&h, SC, TACNET__EVENT_KIND__CASE_CLOSED, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(HV));
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    route_apply(&c, &h);
    uint8_t buf[ROUTE_CASE_BYTES];
    route_case_t back;
    route_case_encode(&c, buf);
    cr_assert_eq(route_case_decode(buf, sizeof(buf), &back), 0);
    cr_assert_eq(memcmp(&back, &c, sizeof(c)), 0);
    buf[0] = 99;
    cr_assert_eq(route_case_decode(buf, sizeof(buf), &back), TACNET_ECORRUPT);
    s_header(&h, HV, TACNET__EVENT_KIND__CONCERN, TACNET__SENSITIVITY__ROUTINE, BIT(SC) | BIT(HV));
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ECLOSED);
}

/* What only the lead professional's agency does for the team: another member is refused with
 * E_FORBIDDEN and a reason; the lead is not; with no lead (the lead left) any member may. */
Test(route, only_the_lead_hands_over_closes_takes_out_and_records_consent_given)
{
    route_case_t c = s_case(BIT(SC) | BIT(SCHOOL) | BIT(HV), TACNET__CONSENT_STATE__GIVEN);
    uint32_t all = BIT(SC) | BIT(SCHOOL) | BIT(HV);
    Tacnet__Header h;
    route_verdict_t v;
    /* The school (not the lead) offers the lead to itself. */
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__LEAD_HANDOVER, TACNET__SENSITIVITY__ROUTINE, all);
    h.has_subject_agency = 1;
    h.subject_agency = SCHOOL;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_EFORBIDDEN);
    cr_assert_not_null(strstr(v.why, "only the lead"), "%s", v.why);
    /* ... closes the case ... */
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__CASE_CLOSED, TACNET__SENSITIVITY__ROUTINE, all);
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_EFORBIDDEN);
    cr_assert_not_null(strstr(v.why, "closes the case"), "%s", v.why);
    /* ... takes social care out; but it may leave itself. */
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__MEMBER_LEFT, TACNET__SENSITIVITY__ROUTINE, all);
    h.has_subject_agency = 1;
    h.subject_agency = SC;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_EFORBIDDEN);
    h.subject_agency = SCHOOL;
    cr_assert_eq(route_check(&c, &h, roster, &v), 0, "an agency may leave by itself");
    /* ... records consent given for health detail to reach it; a withdrawal it may record. */
    s_consent_header(&h, SCHOOL, TACNET__CONSENT_STATE__GIVEN, ROUTE_CLASS_BIT(2),
                     BIT(SCHOOL) | BIT(HV), all);
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_EFORBIDDEN);
    cr_assert_not_null(strstr(v.why, "consent given"), "%s", v.why);
    s_consent_header(&h, SCHOOL, TACNET__CONSENT_STATE__WITHDRAWN, ROUTE_CLASS_BIT(2),
                     BIT(SCHOOL) | BIT(HV), all);
    cr_assert_eq(route_check(&c, &h, roster, &v), 0, "any member records a withdrawal");
    /* Nor by a referral that would record it (no consent recorded on the case yet). */
    route_case_t fresh = s_case(BIT(SC) | BIT(SCHOOL), TACNET__CONSENT_STATE__CONSENT_UNKNOWN);
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__REFERRAL, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL) | BIT(HV));
    h.has_subject_agency = 1;
    h.subject_agency = HV;
    h.has_consent = 1;
    h.consent = TACNET__CONSENT_STATE__GIVEN;
    cr_assert_eq(route_check(&fresh, &h, roster, &v), TACNET_EFORBIDDEN,
                 "a referral recorded the consent a consent record may not");
    /* The lead does all four. */
    s_consent_header(&h, SC, TACNET__CONSENT_STATE__GIVEN, ROUTE_CLASS_BIT(1), BIT(HV), all);
    cr_assert_eq(route_check(&c, &h, roster, &v), 0, "%s", v.why ? v.why : "");
    s_header(&h, SC, TACNET__EVENT_KIND__MEMBER_LEFT, TACNET__SENSITIVITY__ROUTINE, all);
    h.has_subject_agency = 1;
    h.subject_agency = HV;
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    s_header(&h, SC, TACNET__EVENT_KIND__CASE_CLOSED, TACNET__SENSITIVITY__ROUTINE, all);
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    /* The lead's agency does not leave a team that goes on without handing the lead over. */
    s_header(&h, SC, TACNET__EVENT_KIND__MEMBER_LEFT, TACNET__SENSITIVITY__ROUTINE, all);
    h.has_subject_agency = 1;
    h.subject_agency = SC;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_EFORBIDDEN);
    cr_assert_not_null(strstr(v.why, "hands the lead over"), "%s", v.why);
    /* A case without a lead (its lead's agency taken out with its keys revoked): any member may
     * offer the lead on, and close. */
    route_apply(&c, &h);
    cr_assert_eq(c.lead, 0);
    /* An offer to an agency that then leaves lapses: it cannot accept it on rejoining. */
    route_case_t off = s_case(BIT(SC) | BIT(SCHOOL), TACNET__CONSENT_STATE__GIVEN);
    off.pending_lead = SCHOOL;
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__MEMBER_LEFT, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL));
    h.has_subject_agency = 1;
    h.subject_agency = SCHOOL;
    route_apply(&off, &h);
    cr_assert_eq(off.pending_lead, 0);
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__LEAD_HANDOVER, TACNET__SENSITIVITY__ROUTINE,
             BIT(SCHOOL) | BIT(HV));
    h.has_subject_agency = 1;
    h.subject_agency = HV;
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
}

/* The case: consent for routine events with CAMHS and the school only. */
static route_case_t s_routine_consent_case(void)
{
    route_case_t c = s_case(BIT(SC) | BIT(SCHOOL) | BIT(CAMHS) | BIT(HV),
                            TACNET__CONSENT_STATE__CONSENT_UNKNOWN);
    c.lead = SCHOOL; /* the school leads: it records the consent given */
    Tacnet__Header h;
    route_verdict_t v;
    s_consent_header(&h, SCHOOL, TACNET__CONSENT_STATE__GIVEN,
                     ROUTE_CLASS_BIT(TACNET__SENSITIVITY__ROUTINE), BIT(CAMHS) | BIT(SCHOOL),
                     BIT(SC) | BIT(SCHOOL) | BIT(CAMHS) | BIT(HV));
    cr_assert_eq(route_check(&c, &h, roster, &v), 0, "a consent record reaches every member");
    route_apply(&c, &h);
    cr_assert_eq(c.consent, TACNET__CONSENT_STATE__GIVEN);
    cr_assert_eq(c.cover[CAMHS], ROUTE_CLASS_BIT(TACNET__SENSITIVITY__ROUTINE));
    cr_assert_eq(c.cover[SCHOOL], ROUTE_CLASS_BIT(TACNET__SENSITIVITY__ROUTINE));
    cr_assert_eq(c.cover[HV], 0);
    cr_assert_eq(c.cover[SC], 0);
    return c;
}

Test(route, consent_scope_limits_classes_and_agencies)
{
    route_case_t c = s_routine_consent_case();
    cr_assert(route_consent_covers(&c, CAMHS, TACNET__SENSITIVITY__ROUTINE));
    cr_assert_not(route_consent_covers(&c, CAMHS, TACNET__SENSITIVITY__HEALTH));
    cr_assert_not(route_consent_covers(&c, HV, TACNET__SENSITIVITY__ROUTINE));
    Tacnet__Header h;
    route_verdict_t v;
    /* A routine meeting request from social care reaches CAMHS and the school, not HV. */
    s_header(&h, SC, TACNET__EVENT_KIND__MEETING_REQUESTED, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL) | BIT(CAMHS));
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    s_header(&h, SC, TACNET__EVENT_KIND__MEETING_REQUESTED, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL) | BIT(CAMHS) | BIT(HV));
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ECONSENT, "HV is outside the consent");
    /* A health-class care plan from social care (no direct care) reaches nobody else. */
    s_header(&h, SC, TACNET__EVENT_KIND__CARE_PLAN, TACNET__SENSITIVITY__HEALTH,
             BIT(SC) | BIT(CAMHS));
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ECONSENT, "health is outside it");
    cr_assert_eq(v.required, BIT(SC));
}

Test(route, direct_care_is_named_by_the_policy_and_recorded_on_the_event)
{
    route_case_t c = s_routine_consent_case();
    Tacnet__Header h;
    route_verdict_t v;
    /* The leak: a health care plan from CAMHS to health visiting under "consent". */
    s_header(&h, CAMHS, TACNET__EVENT_KIND__CARE_PLAN, TACNET__SENSITIVITY__HEALTH,
             BIT(CAMHS) | BIT(HV));
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ECONSENT);
    h.lawful_basis = TACNET__LAWFUL_BASIS__DIRECT_CARE;
    cr_assert_eq(route_check(&c, &h, roster, &v), 0, "HV gives direct care: CAMHS may share");
    cr_assert_eq(v.required, BIT(CAMHS) | BIT(HV));
    /* The school and social care give no direct care: neither receives, nor sends, on it. */
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__CONTACT_LOGGED, TACNET__SENSITIVITY__ROUTINE,
             BIT(SCHOOL) | BIT(CAMHS));
    h.lawful_basis = TACNET__LAWFUL_BASIS__DIRECT_CARE;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ECONSENT);
    cr_assert_not_null(v.why);
}

Test(route, basis_choice_is_the_narrowest_that_reaches_the_agencies_wanted)
{
    route_case_t c = s_routine_consent_case();
    Tacnet__Header h;
    s_header(&h, CAMHS, TACNET__EVENT_KIND__CARE_PLAN, TACNET__SENSITIVITY__HEALTH, 0);
    cr_assert_eq(route_basis_choose(&c, &h, 0, 0, roster), TACNET__LAWFUL_BASIS__DIRECT_CARE,
                 "direct care reaches health visiting, which consent does not");
    cr_assert_eq(route_basis_choose(&c, &h, BIT(SC), 0, roster), TACNET_ECONSENT,
                 "nothing but a statutory duty reaches social care with health detail");
    cr_assert_eq(route_basis_choose(&c, &h, BIT(SC), 1, roster), TACNET__LAWFUL_BASIS__LEGAL_DUTY);
    cr_assert_eq(route_basis_choose(&c, &h, BIT(SCHOOL), 1, roster), TACNET_ECONSENT,
                 "no basis shows the school health detail");
    s_header(&h, CAMHS, TACNET__EVENT_KIND__MEETING_REQUESTED, TACNET__SENSITIVITY__ROUTINE, 0);
    cr_assert_eq(route_basis_choose(&c, &h, BIT(SCHOOL), 0, roster), TACNET__LAWFUL_BASIS__CONSENT);
    s_header(&h, SC, TACNET__EVENT_KIND__MEETING_REQUESTED, TACNET__SENSITIVITY__ROUTINE, 0);
    cr_assert_eq(route_basis_choose(&c, &h, 0, 0, roster), TACNET__LAWFUL_BASIS__CONSENT,
                 "social care gives no direct care");
    cr_assert_eq(route_basis_choose(&c, &h, BIT(HV), 0, roster), TACNET_ECONSENT);
}

Test(route, withdrawal_is_scoped_and_reaches_every_member)
{
    route_case_t c = s_case(BIT(SC) | BIT(SCHOOL) | BIT(CAMHS), TACNET__CONSENT_STATE__GIVEN);
    Tacnet__Header h;
    route_verdict_t v;
    s_consent_header(&h, CAMHS, TACNET__CONSENT_STATE__WITHDRAWN,
                     ROUTE_CLASS_BIT(TACNET__SENSITIVITY__HEALTH), 0,
                     BIT(SC) | BIT(SCHOOL) | BIT(CAMHS));
    cr_assert_eq(route_check(&c, &h, roster, &v), 0, "the withdrawal goes to the whole team");
    route_apply(&c, &h);
    cr_assert_eq(c.consent, TACNET__CONSENT_STATE__WITHDRAWN);
    cr_assert_not(route_consent_covers(&c, SC, TACNET__SENSITIVITY__HEALTH));
    cr_assert(route_consent_covers(&c, SC, TACNET__SENSITIVITY__ROUTINE), "routine still in force");
    s_header(&h, CAMHS, TACNET__EVENT_KIND__DECISION, TACNET__SENSITIVITY__HEALTH,
             BIT(CAMHS) | BIT(SC));
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ECONSENT);
    s_header(&h, CAMHS, TACNET__EVENT_KIND__DECISION, TACNET__SENSITIVITY__ROUTINE,
             BIT(CAMHS) | BIT(SC) | BIT(SCHOOL));
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
}

Test(route, a_newcomer_is_told_the_consent_in_force_per_agency)
{
    route_case_t c = s_routine_consent_case();
    c.members &= ~BIT(HV);
    Tacnet__Header h;
    route_verdict_t v;
    /* Health visiting, outside the consent, still receives its own join: the team's
     * membership, like its consent, reaches every member. */
    s_header(&h, SC, TACNET__EVENT_KIND__MEMBER_JOINED, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL) | BIT(CAMHS) | BIT(HV));
    h.has_subject_agency = 1;
    h.subject_agency = HV;
    h.has_consent = 1;
    h.consent = TACNET__CONSENT_STATE__GIVEN;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ECONSENT,
                 "without a cover the header claims consent for everything");
    Tacnet__ConsentCover cc[2], *ccp[2] = { &cc[0], &cc[1] };
    Tacnet__Sensitivity routine = TACNET__SENSITIVITY__ROUTINE;
    for (int i = 0; i < 2; i++) {
        tacnet__consent_cover__init(&cc[i]);
        cc[i].agency = i ? SCHOOL : CAMHS;
        cc[i].n_classes = 1;
        cc[i].classes = &routine;
    }
    h.consent_cover = ccp;
    h.n_consent_cover = 2;
    cr_assert_eq(route_check(&c, &h, roster, &v), 0, "%s", v.why ? v.why : "");
    route_case_t joiner;
    memset(&joiner, 0, sizeof(joiner));
    route_apply(&joiner, &h);
    cr_assert_eq(memcmp(joiner.cover, c.cover, sizeof(c.cover)), 0,
                 "the newcomer's view holds the same consent in force");
    uint8_t buf[ROUTE_CASE_BYTES];
    route_case_t back;
    route_case_encode(&c, buf);
    cr_assert_eq(route_case_decode(buf, sizeof(buf), &back), 0);
    cr_assert_eq(memcmp(back.cover, c.cover, sizeof(c.cover)), 0);
}

Test(route, direct_care_does_not_reach_past_the_family_s_objection)
{
    route_case_t c = s_routine_consent_case();
    Tacnet__Header h;
    route_verdict_t v;
    /* The family refuses health sharing with health visiting. */
    s_consent_header(&h, SC, TACNET__CONSENT_STATE__REFUSED,
                     ROUTE_CLASS_BIT(TACNET__SENSITIVITY__HEALTH), BIT(HV),
                     BIT(SC) | BIT(SCHOOL) | BIT(CAMHS) | BIT(HV));
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    route_apply(&c, &h);
    cr_assert(route_consent_objected(&c, HV, TACNET__SENSITIVITY__HEALTH));
    cr_assert_not(route_consent_objected(&c, HV, TACNET__SENSITIVITY__ROUTINE));
    cr_assert(route_consent_covers(&c, CAMHS, TACNET__SENSITIVITY__ROUTINE), "others untouched");
    s_header(&h, CAMHS, TACNET__EVENT_KIND__CARE_PLAN, TACNET__SENSITIVITY__HEALTH,
             BIT(CAMHS) | BIT(HV));
    h.lawful_basis = TACNET__LAWFUL_BASIS__DIRECT_CARE;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ECONSENT, "direct care respects it");
    h.lawful_basis = TACNET__LAWFUL_BASIS__LEGAL_DUTY;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ERECIPIENTS,
                 "a statutory duty does not stop at it (social care must be named too)");
    s_header(&h, CAMHS, TACNET__EVENT_KIND__CARE_PLAN, TACNET__SENSITIVITY__HEALTH, 0);
    cr_assert_eq(route_basis_choose(&c, &h, 0, 0, roster), TACNET__LAWFUL_BASIS__CONSENT,
                 "direct care is no longer chosen");
    /* Consent given again lifts the objection, and the newcomer is told both. */
    s_consent_header(&h, SC, TACNET__CONSENT_STATE__GIVEN,
                     ROUTE_CLASS_BIT(TACNET__SENSITIVITY__HEALTH), BIT(HV),
                     BIT(SC) | BIT(SCHOOL) | BIT(CAMHS) | BIT(HV));
    route_case_t again = c;
    route_apply(&again, &h);
    cr_assert_not(route_consent_objected(&again, HV, TACNET__SENSITIVITY__HEALTH));
    cr_assert(route_consent_covers(&again, HV, TACNET__SENSITIVITY__HEALTH));
    uint8_t buf[ROUTE_CASE_BYTES];
    route_case_t back;
    route_case_encode(&c, buf);
    cr_assert_eq(route_case_decode(buf, sizeof(buf), &back), 0);
    cr_assert(route_consent_objected(&back, HV, TACNET__SENSITIVITY__HEALTH), "stored");
}

Test(route, an_earlier_event_is_judged_for_a_later_member_by_today_s_rule)
{
    route_case_t c = s_routine_consent_case();
    Tacnet__Header h;
    s_header(&h, CAMHS, TACNET__EVENT_KIND__CARE_PLAN, TACNET__SENSITIVITY__HEALTH, BIT(CAMHS));
    cr_assert_not(route_may_receive(&c, &h, HV, roster), "consent does not cover HV's health");
    h.lawful_basis = TACNET__LAWFUL_BASIS__DIRECT_CARE;
    cr_assert(route_may_receive(&c, &h, HV, roster), "the basis recorded on the event does");
    cr_assert_not(route_may_receive(&c, &h, SCHOOL, roster), "never the school");
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__CONCERN, TACNET__SENSITIVITY__ROUTINE, BIT(SCHOOL));
    cr_assert_not(route_may_receive(&c, &h, HV, roster), "HV is outside the routine consent");
    cr_assert(route_may_receive(&c, &h, CAMHS, roster));
    s_consent_header(&h, SCHOOL, TACNET__CONSENT_STATE__GIVEN,
                     ROUTE_CLASS_BIT(TACNET__SENSITIVITY__ROUTINE), BIT(CAMHS), BIT(SCHOOL));
    cr_assert(route_may_receive(&c, &h, HV, roster), "a consent record is a team fact");
    cr_assert_not(route_may_receive(&c, &h, TACNET__AGENCY__BROKER, roster));
}

/* A case record as a broker or agency daemon stored it before version 2 (32 bytes): social care
 * leads a case of CAMHS, the school, social care and the roster's agencies 6 and 7, consent
 * given; CAMHS covered for routine and health, the school for routine, social care for all,
 * agency 6 for routine, agency 7 with the family's objection to health; levels 3 (social care)
 * and 2 (agency 6). */
static const uint8_t s_v1_record[ROUTE_CASE_BYTES_V1] = {
    0x01,                                                                   /* version 1 */
    0x00, 0x00, 0x00, 0xd6,                                                 /* members */
    0x04, 0x00, 0x01, 0x00,                                                 /* lead, ..., closed */
    0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, /* level 0..11 */
    0x00, 0x00, 0x00, 0x00,                                                 /* level 12..15 */
    0x06, 0x02, 0x00, 0x0e,                                                 /* cover 1..4 */
    0x02, 0x40,                                                             /* cover 6, 7 */
    0x01,                                                                   /* cover present */
};

Test(route, a_version_1_record_reads_as_it_was_stored)
{
    route_case_t c;
    cr_assert_eq(route_case_len(s_v1_record, sizeof(s_v1_record)), ROUTE_CASE_BYTES_V1);
    cr_assert_eq(route_case_decode(s_v1_record, sizeof(s_v1_record), &c), 0);
    cr_assert_eq(c.members, BIT(CAMHS) | BIT(SCHOOL) | BIT(SC) | BIT(6) | BIT(7));
    cr_assert_eq(c.lead, SC);
    cr_assert_eq(c.pending_lead, 0);
    cr_assert_eq(c.consent, TACNET__CONSENT_STATE__GIVEN);
    cr_assert_eq(c.closed, 0);
    cr_assert_eq(c.level[SC], 3);
    cr_assert_eq(c.level[6], 2);
    cr_assert(route_consent_covers(&c, CAMHS, TACNET__SENSITIVITY__HEALTH));
    cr_assert_not(route_consent_covers(&c, CAMHS, TACNET__SENSITIVITY__SAFEGUARDING));
    cr_assert(route_consent_covers(&c, SCHOOL, TACNET__SENSITIVITY__ROUTINE));
    cr_assert_not(route_consent_covers(&c, HV, TACNET__SENSITIVITY__ROUTINE));
    cr_assert_eq(c.cover[SC], ROUTE_CLASSES_ALL);
    cr_assert(route_consent_covers(&c, 6, TACNET__SENSITIVITY__ROUTINE));
    cr_assert(route_consent_objected(&c, 7, TACNET__SENSITIVITY__HEALTH));
    for (unsigned a = 8; a < ROUTE_COVER_AGENCIES; a++)
        cr_assert_eq(c.cover[a], 0, "agency %u", a);

    /* Written again, it is version 2 and reads back the same. */
    uint8_t buf[ROUTE_CASE_BYTES];
    route_case_t back;
    route_case_encode(&c, buf);
    cr_assert_eq(buf[0], 2);
    cr_assert_eq(route_case_len(buf, sizeof(buf)), ROUTE_CASE_BYTES);
    cr_assert_eq(route_case_decode(buf, sizeof(buf), &back), 0);
    cr_assert_eq(memcmp(&back, &c, sizeof(c)), 0);

    /* Stored before consent had a scope (byte 31 zero): a given consent covered the four named
     * agencies for everything, and nobody else. */
    uint8_t old[ROUTE_CASE_BYTES_V1];
    memcpy(old, s_v1_record, sizeof(old));
    memset(old + 25, 0, 7);
    cr_assert_eq(route_case_decode(old, sizeof(old), &back), 0);
    for (unsigned a = CAMHS; a <= SC; a++)
        cr_assert_eq(back.cover[a], ROUTE_CLASSES_ALL, "agency %u", a);
    cr_assert_eq(back.cover[6], 0);
    cr_assert_eq(back.cover[7], 0);
}

/* Version 2 keeps consent for every id a roster may give an agency: here agency 12. */
Test(route, a_version_2_record_keeps_consent_for_agency_12)
{
    route_case_t c = s_case(BIT(SC) | BIT(12), TACNET__CONSENT_STATE__CONSENT_UNKNOWN);
    Tacnet__Header h;
    s_consent_header(&h, SC, TACNET__CONSENT_STATE__GIVEN,
                     ROUTE_CLASS_BIT(TACNET__SENSITIVITY__ROUTINE), BIT(12), BIT(SC) | BIT(12));
    route_apply(&c, &h);
    s_consent_header(&h, SC, TACNET__CONSENT_STATE__REFUSED,
                     ROUTE_CLASS_BIT(TACNET__SENSITIVITY__HEALTH), BIT(12) | BIT(14),
                     BIT(SC) | BIT(12));
    route_apply(&c, &h);
    c.level[12] = 2;
    cr_assert(route_consent_covers(&c, 12, TACNET__SENSITIVITY__ROUTINE));
    cr_assert(route_consent_objected(&c, 14, TACNET__SENSITIVITY__HEALTH));

    uint8_t buf[ROUTE_CASE_BYTES];
    route_case_t back;
    route_case_encode(&c, buf);
    cr_assert_eq(buf[0], 2);
    cr_assert_eq(buf[25 + 11], c.cover[12], "agency 12's cover byte");
    cr_assert_neq(buf[25 + 11], 0);
    cr_assert_eq(route_case_decode(buf, sizeof(buf), &back), 0);
    cr_assert_eq(memcmp(&back, &c, sizeof(c)), 0);
    cr_assert(route_consent_covers(&back, 12, TACNET__SENSITIVITY__ROUTINE));
    cr_assert(route_consent_objected(&back, 12, TACNET__SENSITIVITY__HEALTH));
    cr_assert_not(route_consent_covers(&back, 12, TACNET__SENSITIVITY__HEALTH));
    cr_assert(route_consent_objected(&back, 14, TACNET__SENSITIVITY__HEALTH));
    cr_assert_eq(back.level[12], 2);
    cr_assert_eq(back.members, BIT(SC) | BIT(12));
    /* The partnership contact and the broker never hold consent, whatever the byte says. */
    buf[25 + TACNET__AGENCY__BROKER - 1] = ROUTE_CLASSES_ALL;
    cr_assert_eq(route_case_decode(buf, sizeof(buf), &back), 0);
    cr_assert_not(
        route_consent_covers(&back, TACNET__AGENCY__BROKER, TACNET__SENSITIVITY__ROUTINE));
}

Test(route, a_case_record_of_another_version_or_size_is_refused)
{
    route_case_t c = s_case(BIT(SC), TACNET__CONSENT_STATE__GIVEN), back;
    uint8_t buf[ROUTE_CASE_BYTES + 1] = { 0 };
    route_case_encode(&c, buf);
    cr_assert_eq(route_case_decode(buf, ROUTE_CASE_BYTES, &back), 0);
    cr_assert_eq(route_case_decode(buf, ROUTE_CASE_BYTES - 1, &back), TACNET_ECORRUPT);
    cr_assert_eq(route_case_decode(buf, ROUTE_CASE_BYTES + 1, &back), TACNET_ECORRUPT);
    cr_assert_eq(route_case_decode(buf, ROUTE_CASE_BYTES_V1, &back), TACNET_ECORRUPT);
    cr_assert_eq(route_case_decode(buf, 0, &back), TACNET_ECORRUPT);
    cr_assert_eq(route_case_len(buf, ROUTE_CASE_BYTES - 1), 0, "too short for its version");
    cr_assert_eq(route_case_len(buf, ROUTE_CASE_BYTES + 1), ROUTE_CASE_BYTES);
    /* A version 1 record is 32 bytes, never 48. */
    buf[0] = 1;
    cr_assert_eq(route_case_decode(buf, ROUTE_CASE_BYTES, &back), TACNET_ECORRUPT);
    cr_assert_eq(route_case_decode(s_v1_record, ROUTE_CASE_BYTES_V1 - 1, &back), TACNET_ECORRUPT);
    /* No version but these. */
    for (unsigned v = 0; v < 256; v++) {
        if (v == 1 || v == 2)
            continue;
        buf[0] = (uint8_t)v;
        cr_assert_eq(route_case_len(buf, sizeof(buf)), 0, "version %u", v);
        cr_assert_eq(route_case_decode(buf, ROUTE_CASE_BYTES, &back), TACNET_ECORRUPT, "version %u",
                     v);
        cr_assert_eq(route_case_decode(buf, ROUTE_CASE_BYTES_V1, &back), TACNET_ECORRUPT,
                     "version %u", v);
    }
    /* Version 2's reserved bytes are zero. */
    route_case_encode(&c, buf);
    buf[ROUTE_CASE_BYTES - 1] = 1;
    cr_assert_eq(route_case_decode(buf, ROUTE_CASE_BYTES, &back), TACNET_ECORRUPT);
}

/* Closing the case is a fact about the team: every member whose role may see its class with
 * consent is told, whatever the consent in force covers (a member left out would go on working
 * a closed case, and every event it sent would be refused E_CLOSED). */
Test(route, closing_the_case_reaches_every_member_whatever_the_consent)
{
    route_case_t c = s_case(BIT(SC) | BIT(SCHOOL) | BIT(CAMHS), TACNET__CONSENT_STATE__REFUSED);
    Tacnet__Header h;
    route_verdict_t v;
    s_header(&h, SC, TACNET__EVENT_KIND__CONTACT_LOGGED, TACNET__SENSITIVITY__ROUTINE, BIT(SC));
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    cr_assert_eq(v.required & BIT(SCHOOL), 0, "routine work goes nowhere without consent");
    s_header(&h, SC, TACNET__EVENT_KIND__CASE_CLOSED, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL) | BIT(CAMHS));
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
    cr_assert_eq(v.required, BIT(SC) | BIT(SCHOOL) | BIT(CAMHS), "%#x", v.required);
}

Test(route, handing_the_lead_to_an_agency_outside_the_team_says_which_is_not_a_member)
{
    route_case_t c = s_case(BIT(SC) | BIT(SCHOOL), TACNET__CONSENT_STATE__GIVEN);
    Tacnet__Header h;
    route_verdict_t v;
    s_header(&h, SC, TACNET__EVENT_KIND__LEAD_HANDOVER, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL));
    h.has_subject_agency = 1;
    h.subject_agency = CAMHS;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ENOTMEMBER);
    cr_assert_not_null(v.why);
    cr_assert_not_null(strstr(v.why, "handed to is not a member"), "%s", v.why);
}

/* The lead is not handed to the agency that holds it: the timeline would read "social care
 * offered the lead to social care". A case with no lead may be offered to anyone. */
Test(route, the_lead_is_not_handed_to_the_agency_that_holds_it)
{
    route_case_t c = s_case(BIT(SC) | BIT(SCHOOL), TACNET__CONSENT_STATE__GIVEN);
    c.lead = SC;
    Tacnet__Header h;
    route_verdict_t v;
    s_header(&h, SC, TACNET__EVENT_KIND__LEAD_HANDOVER, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL));
    h.has_subject_agency = 1;
    h.subject_agency = SC;
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_EFIELD);
    cr_assert_not_null(v.why);
    cr_assert_not_null(strstr(v.why, "already holds the lead"), "%s", v.why);
    h.subject_agency = SCHOOL;
    cr_assert_eq(route_check(&c, &h, roster, &v), 0, "%s", v.why ? v.why : "");
    c.lead = 0;
    h.subject_agency = SC;
    cr_assert_eq(route_check(&c, &h, roster, &v), 0, "%s", v.why ? v.why : "");
}

/* A closed case takes nothing more but the acknowledgements of a resolution proposed before it
 * closed, so that its escalation can finish. */
Test(route, a_closed_case_still_takes_the_acknowledgement_of_a_resolution)
{
    route_case_t c = s_case(BIT(SC) | BIT(SCHOOL), TACNET__CONSENT_STATE__GIVEN);
    c.closed = 1;
    Tacnet__Header h;
    route_verdict_t v;
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__CONTACT_LOGGED, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL));
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ECLOSED);
    s_header(&h, SCHOOL, TACNET__EVENT_KIND__ESCALATION_ACK, TACNET__SENSITIVITY__ROUTINE,
             BIT(SC) | BIT(SCHOOL));
    cr_assert_eq(route_check(&c, &h, roster, &v), 0);
}
