/* route: membership and sharing decisions, from clear headers only. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "err.h"
#include "policyfile.h"
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
}

static void s_down(void)
{
    roster_destroy(&roster);
    cr_assert_null(roster);
}

TestSuite(route, .init = s_up, .fini = s_down);

static Tacnet__Agency s_rcpt[8];

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
    for (unsigned a = 1; a < 8; a++)
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
    return c;
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
    cr_assert_eq(route_check(&c, &h, roster, &v), TACNET_ERECIPIENTS);
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
