/* header_rules: what an agency's publish header must hold for its kind, and what it takes from
 * the request, the body and the case. Requests are written as JSON (common/pbjson) in the shape
 * the local API takes; the profile and the cases are made up. */
#include <criterion/criterion.h>
#include <string.h>

#include "bytes.h"
#include "casework/header_rules.h"
#include "clock.h"
#include "err.h"
#include "pbjson_fixture.h"
#include "wire.h"

/* A made-up agency that originates referrals, concerns, assessments, consent records and new
 * members, and marks concerns safeguarding, everything else routine. */
static const uint32_t s_kinds[] = {
    TACNET__EVENT_KIND__REFERRAL,      TACNET__EVENT_KIND__CONCERN,
    TACNET__EVENT_KIND__ASSESSMENT,    TACNET__EVENT_KIND__CONSENT_RECORDED,
    TACNET__EVENT_KIND__MEMBER_JOINED,
};

static uint32_t s_sensitivity(uint32_t kind)
{
    return kind == TACNET__EVENT_KIND__CONCERN ? TACNET__SENSITIVITY__SAFEGUARDING
                                               : TACNET__SENSITIVITY__ROUTINE;
}

static const agency_profile_t s_profile = {
    .agency = TACNET__AGENCY__SCHOOL,
    .name = "school",
    .title = "School",
    .kinds = s_kinds,
    .n_kinds = sizeof(s_kinds) / sizeof(s_kinds[0]),
    .default_sensitivity = s_sensitivity,
};

#define REQ(kind, extra, body)                                                          \
    "{\"kind\":\"" kind "\",\"case_ref\":\"LA9-2026-000777\",\"initials\":\"QZ\"" extra \
    ",\"body\":{" body "}}"

static Tacnet__PublishRequest *s_req(const char *json)
{
    return (Tacnet__PublishRequest *)pbjson_fixture_message(&tacnet__publish_request__descriptor,
                                                            json);
}

static void s_free(Tacnet__PublishRequest *req)
{
    tacnet__publish_request__free_unpacked(req, NULL);
}

/* The header REQ gets on case KNOWN (NULL: a new case). */
static Tacnet__Header s_fill(const Tacnet__PublishRequest *req, const route_case_t *known)
{
    Tacnet__Header h = TACNET__HEADER__INIT;
    header_rules_fill(&h, req, s_profile.default_sensitivity(req->kind), known);
    return h;
}

/* ------------------------------------------------------------------ refusals */

Test(header_rules, a_kind_the_agency_originates_is_accepted)
{
    char why[256] = "";
    cr_assert_eq(header_rules_kind_check(&s_profile, TACNET__EVENT_KIND__CONCERN, why, sizeof(why)),
                 0, "%s", why);
}

Test(header_rules, a_broker_notice_kind_is_refused_for_every_agency)
{
    char why[256] = "";
    int rc = header_rules_kind_check(&s_profile, TACNET__EVENT_KIND__SAFEGUARDING_ALERT, why,
                                     sizeof(why));
    cr_assert_eq(rc, TACNET_EKIND);
    cr_assert_str_eq(why, "agencies cannot publish safeguarding_alert events");
}

Test(header_rules, a_kind_outside_the_profile_is_refused_naming_the_agency)
{
    char why[256] = "";
    int rc = header_rules_kind_check(&s_profile, TACNET__EVENT_KIND__CARE_PLAN, why, sizeof(why));
    cr_assert_eq(rc, TACNET_EKIND);
    cr_assert_str_eq(why, "School does not record a care plan: the agencies whose role it is do "
                          "(ask the lead professional's agency); school sends no care_plan "
                          "events");
}

Test(header_rules, a_body_in_the_member_named_after_its_kind_is_accepted)
{
    char why[256] = "";
    Tacnet__PublishRequest *req = s_req(REQ("concern", "", "\"concern\":{\"summary\":\"late\"}"));
    cr_assert_eq(header_rules_body_check(req, why, sizeof(why)), 0, "%s", why);
    s_free(req);
}

Test(header_rules, a_body_in_another_member_is_refused)
{
    char why[256] = "";
    Tacnet__PublishRequest *req = s_req(REQ("concern", "", "\"assessment\":{\"level_of_need\":2}"));
    cr_assert_eq(header_rules_body_check(req, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_str_eq(why, "a concern event needs its body in the \"concern\" field");
    s_free(req);
}

Test(header_rules, a_disagreement_without_the_challenged_event_is_refused_as_the_broker_would)
{
    char why[256] = "";
    Tacnet__PublishRequest *req =
        s_req(REQ("disagreement", "", "\"disagreement\":{\"topic\":\"level\"}"));
    cr_assert_eq(header_rules_refers_to_check(req, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_str_eq(why, "a disagreement names the challenged event in refers_to (16 bytes)");
    s_free(req);
}

Test(header_rules, an_escalation_answer_without_its_escalation_is_refused)
{
    char why[256] = "";
    Tacnet__PublishRequest *req = s_req(REQ("escalation_response", ",\"refers_to\":\"0102\"",
                                            "\"escalation_response\":{\"stage\":1}"));
    cr_assert_eq(header_rules_refers_to_check(req, why, sizeof(why)), TACNET_EFIELD);
    cr_assert_str_eq(why,
                     "escalation_response names the escalation it answers in refers_to (16 bytes)");
    s_free(req);
}

Test(header_rules, a_disagreement_naming_its_event_and_a_concern_without_one_pass)
{
    char why[256] = "";
    Tacnet__PublishRequest *req =
        s_req(REQ("disagreement", ",\"refers_to\":\"000102030405060708090a0b0c0d0e0f\"",
                  "\"disagreement\":{\"topic\":\"level\"}"));
    cr_assert_eq(header_rules_refers_to_check(req, why, sizeof(why)), 0, "%s", why);
    s_free(req);
    req = s_req(REQ("concern", "", "\"concern\":{\"summary\":\"late\"}"));
    cr_assert_eq(header_rules_refers_to_check(req, why, sizeof(why)), 0, "%s", why);
    s_free(req);
}

Test(header_rules, the_body_member_of_each_publishable_kind_is_known)
{
    Tacnet__Body__EventCase member;
    cr_assert_eq(header_rules_body_member(TACNET__EVENT_KIND__ACTION_UPDATE, &member), 0);
    cr_assert_eq(member, TACNET__BODY__EVENT_ACTION_UPDATE);
    cr_assert_eq(header_rules_body_member(TACNET__EVENT_KIND__ESCALATION_NOTICE, &member),
                 TACNET_EKIND);
}

/* ------------------------------------------------------------------ the header */

Test(header_rules, sensitivity_and_lawful_basis_default_to_the_profile_and_consent)
{
    Tacnet__PublishRequest *req = s_req(REQ("concern", "", "\"concern\":{}"));
    Tacnet__Header h = s_fill(req, NULL);
    cr_assert_eq(h.kind, TACNET__EVENT_KIND__CONCERN);
    cr_assert_eq(h.sensitivity, TACNET__SENSITIVITY__SAFEGUARDING);
    cr_assert_eq(h.lawful_basis, TACNET__LAWFUL_BASIS__CONSENT);
    cr_assert_eq(h.case_ref.len, 15);
    cr_assert_eq(memcmp(h.case_ref.data, "LA9-2026-000777", 15), 0);
    cr_assert_eq(h.initials.len, 2);
    cr_assert_not(h.has_consent);
    s_free(req);
}

Test(header_rules, the_request_s_sensitivity_basis_and_override_reason_are_kept)
{
    Tacnet__PublishRequest *req =
        s_req(REQ("concern",
                  ",\"sensitivity\":\"health\",\"lawful_basis\":\"safeguarding_override\","
                  "\"override_reason\":\"risk_of_significant_harm\",\"urgent\":true",
                  "\"concern\":{}"));
    Tacnet__Header h = s_fill(req, NULL);
    cr_assert_eq(h.sensitivity, TACNET__SENSITIVITY__HEALTH);
    cr_assert_eq(h.lawful_basis, TACNET__LAWFUL_BASIS__SAFEGUARDING_OVERRIDE);
    cr_assert(h.has_override_reason);
    cr_assert_eq(h.override_reason, TACNET__OVERRIDE_REASON__RISK_OF_SIGNIFICANT_HARM);
    cr_assert(h.has_urgent && h.urgent);
    s_free(req);
}

Test(header_rules, refers_to_is_carried_as_the_request_gives_it)
{
    Tacnet__PublishRequest *req =
        s_req(REQ("disagreement", ",\"refers_to\":\"03030303030303030303030303030303\"",
                  "\"disagreement\":{}"));
    Tacnet__Header h = s_fill(req, NULL);
    cr_assert(h.has_refers_to);
    cr_assert_eq(h.refers_to.len, 16);
    cr_assert_eq(h.refers_to.data[0], 0x03);
    s_free(req);
}

Test(header_rules, a_referral_names_the_agency_in_its_body_as_the_subject)
{
    Tacnet__PublishRequest *req =
        s_req(REQ("referral", "", "\"referral\":{\"to_agency\":\"social_care\"}"));
    Tacnet__Header h = s_fill(req, NULL);
    cr_assert(h.has_subject_agency);
    cr_assert_eq(h.subject_agency, TACNET__AGENCY__SOCIAL_CARE);
    s_free(req);
}

Test(header_rules, a_referral_s_own_subject_agency_wins_over_its_body)
{
    Tacnet__PublishRequest *req = s_req(REQ("referral", ",\"subject_agency\":\"camhs\"",
                                            "\"referral\":{\"to_agency\":\"social_care\"}"));
    Tacnet__Header h = s_fill(req, NULL);
    cr_assert_eq(h.subject_agency, TACNET__AGENCY__CAMHS);
    s_free(req);
}

Test(header_rules, a_referral_to_a_new_case_with_consent_obtained_says_consent_given)
{
    Tacnet__PublishRequest *req = s_req(
        REQ("referral", "", "\"referral\":{\"to_agency\":\"camhs\",\"consent_obtained\":true}"));
    Tacnet__Header h = s_fill(req, NULL);
    cr_assert(h.has_consent);
    cr_assert_eq(h.consent, TACNET__CONSENT_STATE__GIVEN);
    s_free(req);
}

Test(header_rules, a_referral_without_consent_obtained_carries_no_consent)
{
    Tacnet__PublishRequest *req =
        s_req(REQ("referral", "", "\"referral\":{\"to_agency\":\"camhs\"}"));
    Tacnet__Header h = s_fill(req, NULL);
    cr_assert_not(h.has_consent);
    s_free(req);
}

Test(header_rules, a_referral_on_a_case_with_recorded_consent_carries_the_case_s_consent)
{
    route_case_t c;
    memset(&c, 0, sizeof(c));
    c.consent = TACNET__CONSENT_STATE__WITHDRAWN;
    Tacnet__PublishRequest *req = s_req(
        REQ("referral", "", "\"referral\":{\"to_agency\":\"camhs\",\"consent_obtained\":true}"));
    Tacnet__Header h = s_fill(req, &c);
    cr_assert(h.has_consent);
    cr_assert_eq(h.consent, TACNET__CONSENT_STATE__WITHDRAWN);
    s_free(req);
}

Test(header_rules, a_new_member_carries_the_case_s_consent)
{
    route_case_t c;
    memset(&c, 0, sizeof(c));
    c.consent = TACNET__CONSENT_STATE__GIVEN;
    Tacnet__PublishRequest *req =
        s_req(REQ("member_joined", ",\"subject_agency\":\"camhs\"", "\"member_joined\":{}"));
    Tacnet__Header h = s_fill(req, &c);
    cr_assert(h.has_consent);
    cr_assert_eq(h.consent, TACNET__CONSENT_STATE__GIVEN);
    Tacnet__Header fresh = s_fill(req, NULL);
    cr_assert_not(fresh.has_consent);
    s_free(req);
}

Test(header_rules, a_consent_record_puts_its_state_in_the_header)
{
    Tacnet__PublishRequest *req =
        s_req(REQ("consent_recorded", "", "\"consent_recorded\":{\"state\":\"refused\"}"));
    Tacnet__Header h = s_fill(req, NULL);
    cr_assert(h.has_consent);
    cr_assert_eq(h.consent, TACNET__CONSENT_STATE__REFUSED);
    s_free(req);
}

Test(header_rules, a_concern_never_takes_the_case_s_consent)
{
    route_case_t c;
    memset(&c, 0, sizeof(c));
    c.consent = TACNET__CONSENT_STATE__GIVEN;
    Tacnet__PublishRequest *req = s_req(REQ("concern", "", "\"concern\":{}"));
    Tacnet__Header h = s_fill(req, &c);
    cr_assert_not(h.has_consent);
    s_free(req);
}

Test(header_rules, an_assessment_s_level_of_need_comes_from_its_body)
{
    Tacnet__PublishRequest *req =
        s_req(REQ("assessment", "", "\"assessment\":{\"level_of_need\":3}"));
    Tacnet__Header h = s_fill(req, NULL);
    cr_assert(h.has_level_of_need);
    cr_assert_eq(h.level_of_need, 3);
    s_free(req);
    /* A request giving another is refused (header_rules_facts_check); the header never carries
     * a level the sealed body does not. */
    req = s_req(REQ("assessment", ",\"level_of_need\":2", "\"assessment\":{\"level_of_need\":3}"));
    h = s_fill(req, NULL);
    cr_assert_eq(h.level_of_need, 3);
    s_free(req);
}

Test(header_rules, a_consent_record_puts_its_scope_in_the_header)
{
    Tacnet__PublishRequest *req = s_req(
        REQ("consent_recorded", "",
            "\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"routine\"],"
            "\"agencies\":[\"camhs\",\"school\"],\"child_wishes\":\"Happy for school to know\"}"));
    Tacnet__Header h = s_fill(req, NULL);
    cr_assert_eq(h.n_consent_scope, 1);
    cr_assert_eq(h.consent_scope[0], TACNET__SENSITIVITY__ROUTINE);
    cr_assert_eq(h.n_consent_agencies, 2);
    cr_assert_eq(h.consent_agencies[1], TACNET__AGENCY__SCHOOL);
    s_free(req);
}

Test(header_rules, a_new_member_is_told_the_consent_in_force_per_agency)
{
    route_case_t c;
    memset(&c, 0, sizeof(c));
    c.consent = TACNET__CONSENT_STATE__GIVEN;
    c.cover[TACNET__AGENCY__CAMHS] = ROUTE_CLASS_BIT(TACNET__SENSITIVITY__ROUTINE);
    c.cover[TACNET__AGENCY__SCHOOL] = ROUTE_CLASS_BIT(TACNET__SENSITIVITY__ROUTINE) |
                                      ROUTE_CLASS_BIT(TACNET__SENSITIVITY__SAFEGUARDING);
    Tacnet__PublishRequest *req = s_req(
        REQ("member_joined", ",\"subject_agency\":\"health_visiting\"", "\"member_joined\":{}"));
    Tacnet__Header h = s_fill(req, &c);
    header_rules_cover_t store;
    header_rules_cover_fill(&h, &c, &store);
    cr_assert_eq(h.n_consent_cover, 2, "only the agencies the consent covers");
    cr_assert_eq(h.consent_cover[0]->agency, TACNET__AGENCY__CAMHS);
    cr_assert_eq(h.consent_cover[0]->n_classes, 1);
    cr_assert_eq(h.consent_cover[1]->agency, TACNET__AGENCY__SCHOOL);
    cr_assert_eq(h.consent_cover[1]->n_classes, 2);
    cr_assert_eq(h.consent_cover[1]->classes[1], TACNET__SENSITIVITY__SAFEGUARDING);
    s_free(req);
    req = s_req(REQ("concern", "", "\"concern\":{}"));
    h = s_fill(req, &c);
    header_rules_cover_fill(&h, &c, &store);
    cr_assert_eq(h.n_consent_cover, 0, "a concern tells no one the consent");
    s_free(req);
}

Test(header_rules, a_new_member_is_told_the_family_s_objections_too)
{
    route_case_t c;
    memset(&c, 0, sizeof(c));
    c.consent = TACNET__CONSENT_STATE__REFUSED;
    c.cover[TACNET__AGENCY__HEALTH_VISITING] = ROUTE_OBJECT_BIT(TACNET__SENSITIVITY__HEALTH);
    Tacnet__PublishRequest *req =
        s_req(REQ("member_joined", ",\"subject_agency\":\"camhs\"", "\"member_joined\":{}"));
    Tacnet__Header h = s_fill(req, &c);
    header_rules_cover_t store;
    header_rules_cover_fill(&h, &c, &store);
    cr_assert_eq(h.n_consent_cover, 1);
    cr_assert_eq(h.consent_cover[0]->agency, TACNET__AGENCY__HEALTH_VISITING);
    cr_assert_eq(h.consent_cover[0]->n_classes, 0);
    cr_assert_eq(h.consent_cover[0]->n_objected, 1);
    cr_assert_eq(h.consent_cover[0]->objected[0], TACNET__SENSITIVITY__HEALTH);
    s_free(req);
}

/* ------------------------------------------------------------------ no free bytes */

Test(header_rules, refers_to_on_a_kind_that_takes_none_is_refused)
{
    char why[256];
    Tacnet__PublishRequest *req = s_req(
        REQ("concern", ",\"refers_to\":\"4e48532039343320343736203539310a\"", "\"concern\":{}"));
    cr_assert_eq(header_rules_refers_to_check(req, why, sizeof(why)), TACNET_EREFERSTO);
    cr_assert_str_eq(why, "a concern event names no other event: refers_to is not allowed");
    s_free(req);
    cr_assert(header_rules_refers_to_used(TACNET__EVENT_KIND__DISAGREEMENT));
    cr_assert(header_rules_refers_to_used(TACNET__EVENT_KIND__ESCALATION_RESPONSE));
    cr_assert(header_rules_refers_to_used(TACNET__EVENT_KIND__ESCALATION_RESOLVED));
    cr_assert(header_rules_refers_to_used(TACNET__EVENT_KIND__ESCALATION_ACK));
    cr_assert_not(header_rules_refers_to_used(TACNET__EVENT_KIND__CONCERN));
    cr_assert_not(header_rules_refers_to_used(TACNET__EVENT_KIND__ACTION_UPDATE));
    cr_assert_not(header_rules_refers_to_used(TACNET__EVENT_KIND__DECISION));
}

/* A msg_id is its creation time (6 bytes) and random bytes: text in it reads as a time far
 * outside the window, so it is refused; ids made with their header (now, a few minutes ahead,
 * weeks old) pass, and one of another time than its header's does not. */
static int s_msgid_at(uint64_t t, uint64_t now, uint64_t created, char *why, size_t cap)
{
    uint8_t id[16], ms[8];
    memset(id, 0x5a, sizeof(id));
    bytes_be64_put(ms, t);
    memcpy(id, ms + 2, 6);
    cr_expect_eq(wire_msgid_time(id), t);
    return header_rules_msgid_check(id, 16, now, created, 300000, 30ULL * 86400000, why, cap);
}

Test(header_rules, a_msg_id_s_time_must_fall_in_the_clock_window_with_its_header)
{
    char why[128];
    const uint64_t now = 1795000000000ULL, day = 86400000ULL;
    /* Made with the header, at any time the window allows. */
    cr_expect_eq(s_msgid_at(now, now, now, why, sizeof(why)), 0, "%s", why);
    cr_expect_eq(s_msgid_at(now + 299000, now, now + 299000, why, sizeof(why)), 0, "%s", why);
    cr_expect_eq(s_msgid_at(now - 29 * day, now, now - 29 * day + 5, why, sizeof(why)), 0, "%s",
                 why);
    /* created_at in whole seconds: the id up to 2 s after it. */
    cr_expect_eq(s_msgid_at(now + 999, now, now, why, sizeof(why)), 0, "%s", why);
    cr_expect_eq(s_msgid_at(now + 301000, now, now, why, sizeof(why)), TACNET_EMSGID);
    cr_expect_str_eq(why, "msg_id's creation time is ahead of the clock window");
    cr_expect_eq(s_msgid_at(now - 31 * day, now, now - 31 * day, why, sizeof(why)), TACNET_EMSGID);
    cr_expect_str_eq(why, "msg_id's creation time is behind the clock window");
    /* Inside the window but not its header's time: more free bits, refused. */
    cr_expect_eq(s_msgid_at(now - 10 * day, now, now, why, sizeof(why)), TACNET_EMSGID);
    cr_expect_str_eq(why, "msg_id's creation time is not its header's created_at_ms");
    cr_expect_eq(s_msgid_at(now + 3000, now, now, why, sizeof(why)), TACNET_EMSGID);
    cr_expect_eq(s_msgid_at(now - 301000, now, now, why, sizeof(why)), TACNET_EMSGID);
    cr_expect_eq(header_rules_msgid_check((const uint8_t *)"Jane Smith SW1A1", 16, now, now, 300000,
                                          30 * day, why, sizeof(why)),
                 TACNET_EMSGID);
    uint8_t id[16];
    wire_msgid_new(id);
    cr_expect_eq(header_rules_msgid_check(id, 15, now, now, 300000, 30 * day, why, sizeof(why)),
                 TACNET_EMSGID);
    /* What wire_msgid_new makes now passes with a header made now. */
    uint64_t t = clock_now_ms();
    cr_expect_eq(header_rules_msgid_check(id, 16, t, t, 300000, 30 * day, why, sizeof(why)), 0,
                 "%s", why);
}

Test(header_rules, a_ratings_rung_rater_and_subject_go_in_the_clear_and_its_comment_does_not)
{
    Tacnet__PublishRequest *req =
        s_req(REQ("PARTNERSHIP_RATING", "",
                  "\"partnership_rating\":{\"about\":\"PARTNERSHIP\",\"rung\":7,"
                  "\"comment\":\"they listen now\",\"by_family\":\"MOTHER\"}"));
    Tacnet__Header h = s_fill(req, NULL);
    cr_assert(h.has_ladder_rung && h.ladder_rung == 7);
    cr_assert(h.has_rated_by_family && h.rated_by_family);
    cr_assert(h.has_subject_agency && h.subject_agency == TACNET__AGENCY__PARTNERSHIP);
    s_free(req);
    req = s_req(REQ("PARTNERSHIP_RATING", "",
                    "\"partnership_rating\":{\"about\":\"SOCIAL_CARE\",\"rung\":4}"));
    h = s_fill(req, NULL);
    cr_assert(h.has_ladder_rung && h.ladder_rung == 4);
    cr_assert(!h.has_rated_by_family, "an agency's own rating");
    cr_assert_eq(h.subject_agency, TACNET__AGENCY__SOCIAL_CARE);
    s_free(req);
    req = s_req(REQ("CONCERN", "", "\"concern\":{\"summary\":\"x\"}"));
    h = s_fill(req, NULL);
    cr_assert(!h.has_ladder_rung && !h.has_rated_by_family && !h.has_review_due_date);
    s_free(req);
}

/* ------------------------------------------------------------------ request and body agree */

Test(header_rules, an_assessment_whose_request_and_body_give_two_levels_of_need_is_refused)
{
    char why[512] = "";
    Tacnet__PublishRequest *req =
        s_req(REQ("assessment", ",\"level_of_need\":4", "\"assessment\":{\"level_of_need\":1}"));
    cr_assert_eq(header_rules_body_check(req, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "level_of_need: the request says 4"), "%s", why);
    cr_assert(strstr(why, "assessment.level_of_need) says 1"), "%s", why);
    s_free(req);
    /* The same level in both, or in one of them, passes. */
    req = s_req(REQ("assessment", ",\"level_of_need\":2", "\"assessment\":{\"level_of_need\":2}"));
    cr_assert_eq(header_rules_body_check(req, why, sizeof(why)), 0, "%s", why);
    s_free(req);
    req = s_req(REQ("assessment", ",\"level_of_need\":2", "\"assessment\":{}"));
    cr_assert_eq(header_rules_body_check(req, why, sizeof(why)), 0, "%s", why);
    s_free(req);
}

Test(header_rules, a_referral_whose_subject_agency_is_not_the_one_referred_to_is_refused)
{
    char why[512] = "";
    Tacnet__PublishRequest *req = s_req(REQ("referral", ",\"subject_agency\":\"camhs\"",
                                            "\"referral\":{\"to_agency\":\"social_care\"}"));
    cr_assert_eq(header_rules_body_check(req, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "subject_agency: the request says camhs"), "%s", why);
    cr_assert(strstr(why, "referral.to_agency) says social_care"), "%s", why);
    s_free(req);
    req = s_req(
        REQ("referral", ",\"subject_agency\":\"camhs\"", "\"referral\":{\"to_agency\":\"camhs\"}"));
    cr_assert_eq(header_rules_body_check(req, why, sizeof(why)), 0, "%s", why);
    s_free(req);
}

Test(header_rules, a_rating_whose_subject_agency_is_not_the_one_rated_is_refused)
{
    char why[512] = "";
    Tacnet__PublishRequest *req =
        s_req(REQ("partnership_rating", ",\"subject_agency\":\"camhs\"",
                  "\"partnership_rating\":{\"about\":\"social_care\",\"rung\":4}"));
    cr_assert_eq(header_rules_body_check(req, why, sizeof(why)), TACNET_EFIELD);
    cr_assert(strstr(why, "partnership_rating.about) says social_care"), "%s", why);
    s_free(req);
}
