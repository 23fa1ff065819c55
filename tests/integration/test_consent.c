/* Consent as recorded, end to end: the broker routes by each consent's scope (classes and
 * agencies) and refuses a member outside it (E_CONSENT); the daemons pick and record the lawful
 * basis another agency's sharing rests on (direct care between the health agencies the policy
 * names); and a case holds every agency's plans side by side. Real broker and daemons on
 * loopback; the case is synthetic. */
#include "harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "err.h"
#include "pbjson_fixture.h"

#define SCH     TACNET__AGENCY__SCHOOL
#define SC      TACNET__AGENCY__SOCIAL_CARE
#define CA      TACNET__AGENCY__CAMHS
#define HV      TACNET__AGENCY__HEALTH_VISITING
#define CASE    "LA7-2026-000321"
#define CALL_MS 10000

static h_env_t env;

static void setup(void)
{
    h_setup(&env, NULL);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
}

static void teardown(void)
{
    h_teardown(&env);
}

TestSuite(consent, .init = setup, .fini = teardown, .timeout = 120);

/* ---------------------------------------------------------------- the broker, raw */

static Tacnet__Sensitivity s_routine[] = { TACNET__SENSITIVITY__ROUTINE };
static Tacnet__Agency s_school_camhs[] = { TACNET__AGENCY__SCHOOL, TACNET__AGENCY__CAMHS };

Test(consent, the_broker_refuses_a_member_outside_the_consent_in_force)
{
    h_client_t *school = h_connect(&env, SCH);
    cr_assert_eq(h_hello(school, 0, 64, NULL), 0);
    h_pub_t p;
    memset(&p, 0, sizeof(p));
    uint64_t sseq = 1;

    h_pub_init(&p, SCH, TACNET__EVENT_KIND__CONCERN, CASE, sseq++);
    p.h.lawful_basis = TACNET__LAWFUL_BASIS__CONSENT;
    h_pub_seal(&env, &p, SCH, NULL, NULL, 0);
    cr_assert_eq(h_publish(school, &p, NULL), 0, "the concern opens the case");

    /* Consent for routine events with the school and CAMHS only. */
    h_pub_init(&p, SCH, TACNET__EVENT_KIND__CONSENT_RECORDED, CASE, sseq++);
    p.h.lawful_basis = TACNET__LAWFUL_BASIS__CONSENT;
    p.h.has_consent = 1;
    p.h.consent = TACNET__CONSENT_STATE__GIVEN;
    p.h.consent_scope = s_routine;
    p.h.n_consent_scope = 1;
    p.h.consent_agencies = s_school_camhs;
    p.h.n_consent_agencies = 2;
    h_pub_seal(&env, &p, SCH, NULL, NULL, 0);
    cr_assert_eq(h_publish(school, &p, NULL), 0, "consent recorded");

    /* A referral brings CAMHS in, telling it the consent in force. */
    Tacnet__ConsentCover cc[2], *ccp[2] = { &cc[0], &cc[1] };
    for (int i = 0; i < 2; i++) {
        tacnet__consent_cover__init(&cc[i]);
        cc[i].agency = s_school_camhs[i];
        cc[i].classes = s_routine;
        cc[i].n_classes = 1;
    }
    h_pub_init(&p, SCH, TACNET__EVENT_KIND__REFERRAL, CASE, sseq++);
    p.h.lawful_basis = TACNET__LAWFUL_BASIS__CONSENT;
    p.h.has_subject_agency = 1;
    p.h.subject_agency = CA;
    p.h.has_consent = 1;
    p.h.consent = TACNET__CONSENT_STATE__GIVEN;
    h_pub_rcpt(&p, 2, (const uint32_t[]){ SCH, CA });
    h_pub_seal(&env, &p, SCH, NULL, NULL, 0);
    cr_assert_eq(h_publish(school, &p, NULL), TACNET_ECONSENT,
                 "a referral telling CAMHS consent for everything is refused");
    h_pub_init(&p, SCH, TACNET__EVENT_KIND__REFERRAL, CASE, sseq - 1);
    p.h.lawful_basis = TACNET__LAWFUL_BASIS__CONSENT;
    p.h.has_subject_agency = 1;
    p.h.subject_agency = CA;
    p.h.has_consent = 1;
    p.h.consent = TACNET__CONSENT_STATE__GIVEN;
    p.h.consent_cover = ccp;
    p.h.n_consent_cover = 2;
    h_pub_rcpt(&p, 2, (const uint32_t[]){ SCH, CA });
    h_pub_seal(&env, &p, SCH, NULL, NULL, 0);
    cr_assert_eq(h_publish(school, &p, NULL), 0, "the referral with the consent in force");

    /* A safeguarding concern: outside the consent for CAMHS. */
    h_pub_init(&p, SCH, TACNET__EVENT_KIND__CONCERN, CASE, sseq++);
    p.h.lawful_basis = TACNET__LAWFUL_BASIS__CONSENT;
    p.h.sensitivity = TACNET__SENSITIVITY__SAFEGUARDING;
    h_pub_rcpt(&p, 2, (const uint32_t[]){ SCH, CA });
    h_pub_seal(&env, &p, SCH, NULL, NULL, 0);
    cr_assert_eq(h_publish(school, &p, NULL), TACNET_ECONSENT,
                 "CAMHS named for a class its consent does not cover");
    /* The same concern kept to the school is accepted, and a statutory duty reaches CAMHS. */
    h_pub_init(&p, SCH, TACNET__EVENT_KIND__CONCERN, CASE, sseq - 1);
    p.h.lawful_basis = TACNET__LAWFUL_BASIS__CONSENT;
    p.h.sensitivity = TACNET__SENSITIVITY__SAFEGUARDING;
    h_pub_seal(&env, &p, SCH, NULL, NULL, 0);
    cr_assert_eq(h_publish(school, &p, NULL), 0);
    h_pub_init(&p, SCH, TACNET__EVENT_KIND__CONCERN, CASE, sseq++);
    p.h.lawful_basis = TACNET__LAWFUL_BASIS__LEGAL_DUTY;
    p.h.sensitivity = TACNET__SENSITIVITY__SAFEGUARDING;
    h_pub_rcpt(&p, 2, (const uint32_t[]){ SCH, CA });
    h_pub_seal(&env, &p, SCH, NULL, NULL, 0);
    cr_assert_eq(h_publish(school, &p, NULL), 0, "a statutory duty is another lawful basis");
    /* The school gives no direct care: that basis is not its to use. */
    h_pub_init(&p, SCH, TACNET__EVENT_KIND__CONCERN, CASE, sseq++);
    p.h.lawful_basis = TACNET__LAWFUL_BASIS__DIRECT_CARE;
    h_pub_rcpt(&p, 2, (const uint32_t[]){ SCH, CA });
    h_pub_seal(&env, &p, SCH, NULL, NULL, 0);
    cr_assert_eq(h_publish(school, &p, NULL), TACNET_ECONSENT);
    h_pub_free(&p);
    h_close(&school);
}

/* ---------------------------------------------------------------- the daemons */

static tn_client_t *s_client(const h_agency_t *a)
{
    int err = 0;
    tn_client_t *c = tn_client_new(a->data, &err);
    cr_assert_not_null(c, "tn_client_new %s: %s", a->data, tacnet_errname(err));
    return c;
}

static h_agency_t *s_up(uint32_t agency)
{
    h_agency_t *a = h_agency_add(&env, agency);
    cr_assert_eq(h_agency_start(a, NULL), 0, "agency %u did not start (log %s)", agency, a->log);
    return a;
}

/* Publish the PublishRequest given as JSON; the daemon's code, the msg_id into MSG_ID (may be
 * NULL) and the bitmask of recipients into *RCPT (may be NULL). */
/* The reason of the last refusal s_publish got ("" when accepted). */
static char s_last_reason[512];

static int s_publish(tn_client_t *c, const char *json, uint8_t *msg_id, uint32_t *rcpt)
{
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, json);
    req->has_wait_ms = 1;
    req->wait_ms = 5000; /* the broker's answer, not only the queueing */
    Tacnet__ApiReply *reply = NULL;
    int rc = tn_client_publish(c, req, &reply, CALL_MS);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    cr_assert_not_null(reply, "no reply from the daemon: %s", tacnet_errname(rc));
    snprintf(s_last_reason, sizeof(s_last_reason), "%s", rc && reply->reason ? reply->reason : "");
    if (rc == 0) {
        cr_assert_eq(reply->result_case, TACNET__API_REPLY__RESULT_PUBLISHED);
        cr_assert_eq(reply->published->state, TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED,
                     "the broker did not accept %s: state %d, %s", json, reply->published->state,
                     reply->reason ? reply->reason : "");
        if (msg_id)
            memcpy(msg_id, reply->published->msg_id.data, 16);
        if (rcpt) {
            *rcpt = 0;
            for (size_t i = 0; i < reply->published->n_recipients; i++)
                *rcpt |= 1u << reply->published->recipients[i];
        }
    }
    tn_client_reply_free(&reply);
    return rc;
}

/* The header of MSG_ID in C's view of the case, once it arrives (NULL after MS): a copy. */
static Tacnet__Header *s_wait_header(tn_client_t *c, const uint8_t *msg_id, int ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    do {
        Tacnet__ApiReply *r = NULL;
        Tacnet__Header *found = NULL;
        if (tn_client_case(c, CASE, &r, CALL_MS) == 0 && r->show_case)
            for (size_t i = 0; !found && i < r->show_case->n_timeline; i++) {
                const Tacnet__Header *h = r->show_case->timeline[i]->header;
                if (h->msg_id.len == 16 && memcmp(h->msg_id.data, msg_id, 16) == 0) {
                    uint8_t buf[2048];
                    size_t n = tacnet__header__pack(h, buf);
                    found = tacnet__header__unpack(NULL, n, buf);
                }
            }
        tn_client_reply_free(&r);
        if (found)
            return found;
        h_sleep_ms(30);
    } while (h_now_ms() < deadline);
    return NULL;
}

static void s_ok(tn_client_t *c, const char *json, uint8_t *msg_id, uint32_t *rcpt)
{
    int rc = s_publish(c, json, msg_id, rcpt);
    cr_assert_eq(rc, 0, "refused %s: %s", tacnet_errname(rc), json);
}

#define REQ(kind, extra, body)                                                   \
    "{\"kind\":\"" kind "\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\"" extra \
    ",\"body\":{" body "}}"

/* The school opens the case with consent for routine and safeguarding events (every agency),
 * refers to social care, which brings in CAMHS and health visiting and records consent for
 * health detail with CAMHS and itself only. */
static void s_team(tn_client_t *school, tn_client_t *sc, tn_client_t *camhs, tn_client_t *hv)
{
    uint8_t id[16];
    s_ok(school, REQ("concern", "", "\"concern\":{\"category\":\"attendance\"}"), NULL, NULL);
    s_ok(school,
         REQ("consent_recorded", "",
             "\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"routine\",\"safeguarding\"],"
             "\"given_by\":\"mother\",\"child_wishes\":\"Wants help with sleep.\"}"),
         NULL, NULL);
    s_ok(school,
         REQ("referral", ",\"subject_agency\":\"social_care\"",
             "\"referral\":{\"to_agency\":\"social_care\",\"category\":\"neglect\"}"),
         id, NULL);
    /* Social care acts on the case once the referral has reached it. */
    Tacnet__Header *ref = s_wait_header(sc, id, 10000);
    cr_assert_not_null(ref, "the referral did not reach social care");
    tacnet__header__free_unpacked(ref, NULL);
    s_ok(sc, REQ("member_joined", ",\"subject_agency\":\"camhs\"", "\"member_joined\":{}"), id,
         NULL);
    Tacnet__Header *h = s_wait_header(camhs, id, 10000);
    cr_assert_not_null(h, "CAMHS did not join");
    tacnet__header__free_unpacked(h, NULL);
    s_ok(sc,
         REQ("member_joined", ",\"subject_agency\":\"health_visiting\"", "\"member_joined\":{}"),
         id, NULL);
    h = s_wait_header(hv, id, 10000);
    cr_assert_not_null(h, "health visiting did not join");
    tacnet__header__free_unpacked(h, NULL);
    /* Social care takes the lead: the lead records the consent given. */
    s_ok(school,
         REQ("lead_handover", ",\"subject_agency\":\"social_care\"",
             "\"lead_handover\":{\"new_lead\":{\"agency\":\"social_care\",\"initials\":\"AW\","
             "\"role\":\"lead_professional\"},\"reason\":\"Social care assessed.\"}"),
         id, NULL);
    h = s_wait_header(sc, id, 10000);
    cr_assert_not_null(h, "the hand-over did not reach social care");
    tacnet__header__free_unpacked(h, NULL);
    s_ok(sc,
         REQ("lead_accepted", "",
             "\"lead_accepted\":{\"lead\":{\"agency\":\"social_care\",\"initials\":\"AW\","
             "\"role\":\"lead_professional\"}}"),
         id, NULL);
    s_ok(sc,
         REQ("consent_recorded", "",
             "\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"health\"],\"agencies\":"
             "[\"camhs\",\"social_care\"],\"given_by\":\"mother\",\"child_wishes\":\"Not the "
             "school.\"}"),
         id, NULL);
    h = s_wait_header(camhs, id, 10000);
    cr_assert_not_null(h, "the consent did not reach CAMHS");
    tacnet__header__free_unpacked(h, NULL);
    h = s_wait_header(school, id, 10000);
    cr_assert_not_null(h, "the consent (a team fact) did not reach the school");
    cr_assert_eq(h->n_consent_scope, 1);
    tacnet__header__free_unpacked(h, NULL);
}

Test(consent, daemons_route_by_scope_record_the_basis_and_keep_plans_side_by_side)
{
    h_agency_t *as = s_up(SCH), *asc = s_up(SC), *aca = s_up(CA), *ahv = s_up(HV);
    tn_client_t *school = s_client(as), *sc = s_client(asc), *camhs = s_client(aca),
                *hv = s_client(ahv);
    s_team(school, sc, camhs, hv);

    /* CAMHS's plan is health detail: consent covers social care; health visiting receives it
     * for direct care, and the event records that basis. */
    uint8_t capa[16], hvplan[16];
    uint32_t rcpt = 0;
    s_ok(camhs,
         REQ("care_plan", "",
             "\"care_plan\":{\"type\":\"capa_partnership\",\"review_interval_days\":42,"
             "\"start_date\":\"2026-11-16\",\"goals\":[{\"goal_id\":1,\"description\":\"Sleep\"}]"
             ",\"child_view_absent\":{\"reason\":\"not_yet_asked\",\"ask_by_date\":\"2026-12-01\"},"
             "\"family_view\":\"Agree\"}"),
         capa, &rcpt);
    cr_assert_eq(rcpt, (1u << SC) | (1u << HV), "recipients %#x", rcpt);
    Tacnet__Header *h = s_wait_header(hv, capa, 10000);
    cr_assert_not_null(h, "health visiting lacks CAMHS's plan");
    cr_assert_eq(h->lawful_basis, TACNET__LAWFUL_BASIS__DIRECT_CARE);
    tacnet__header__free_unpacked(h, NULL);

    /* Health visiting's own plan sits beside it in every view that may see both. */
    s_ok(hv,
         REQ("care_plan", "",
             "\"care_plan\":{\"type\":\"health_visiting_plan\",\"review_interval_days\":28,"
             "\"start_date\":\"2026-11-18\",\"child_view_absent\":{\"reason\":\"not_yet_asked\","
             "\"ask_by_date\":\"2026-12-01\"},\"family_view\":\"Agree\"}"),
         hvplan, &rcpt);
    cr_assert(rcpt & (1u << CA), "CAMHS did not receive HV's plan (%#x)", rcpt);
    cr_assert_not(rcpt & (1u << SCH), "the school received health detail");
    h = s_wait_header(camhs, hvplan, 10000);
    cr_assert_not_null(h);
    tacnet__header__free_unpacked(h, NULL);
    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_case(camhs, CASE, &r, CALL_MS), 0);
    const Tacnet__CaseState *st = r->show_case->state;
    cr_assert_eq(st->n_plans, 2, "a new plan from one agency never replaces another's");
    cr_assert_not_null(st->consent);
    cr_assert_str_eq(st->consent->child_wishes, "Not the school.");
    cr_assert_eq(st->n_withheld, 0, "CAMHS sees every class");
    tn_client_reply_free(&r);

    /* The school's view: no health event, consent shown, and health said to be withheld. */
    cr_assert_eq(tn_client_case(school, CASE, &r, CALL_MS), 0);
    st = r->show_case->state;
    for (size_t i = 0; i < r->show_case->n_timeline; i++)
        cr_assert_neq(r->show_case->timeline[i]->header->sensitivity, TACNET__SENSITIVITY__HEALTH,
                      "school holds a health-class event");
    cr_assert_eq(st->n_plans, 0);
    cr_assert_eq(st->n_withheld, 1);
    cr_assert_eq(st->withheld[0], TACNET__SENSITIVITY__HEALTH);
    cr_assert(st->has_consent_state);
    cr_assert_eq(st->n_consents, 2, "both consents, with their scopes, reach the school");
    cr_assert_str_eq(st->consents[0]->child_wishes, "Wants help with sleep.");
    tn_client_reply_free(&r);

    /* The family then refuses health sharing with health visiting: direct care stops there. */
    uint8_t refusal[16];
    s_ok(sc,
         REQ("consent_recorded", "",
             "\"consent_recorded\":{\"state\":\"refused\",\"scope\":[\"health\"],\"agencies\":"
             "[\"health_visiting\"],\"given_by\":\"mother\"}"),
         refusal, NULL);
    h = s_wait_header(camhs, refusal, 10000);
    cr_assert_not_null(h, "the refusal did not reach CAMHS");
    tacnet__header__free_unpacked(h, NULL);
    s_ok(camhs,
         REQ("outcome_measure", "",
             "\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[4],\"goal_ids\":[1],"
             "\"measured_date\":\"2026-12-01\"}"),
         NULL, &rcpt);
    cr_assert_eq(rcpt, 1u << SC, "past the objection only social care (%#x)", rcpt);

    /* Asking for what nothing allows is refused before anything is sent. */
    cr_assert_eq(
        s_publish(camhs,
                  REQ("decision", ",\"sensitivity\":\"health\",\"recipients\":[\"school\"]",
                      "\"decision\":{\"topic\":\"Sleep\",\"chosen\":\"Group\","
                      "\"rationale\":\"Agreed.\",\"child_view\":\"Yes\",\"family_view\":"
                      "\"Yes\",\"options_considered\":[\"Group\",\"One to one\"]}"),
                  NULL, NULL),
        TACNET_ECONSENT);
    cr_assert(strstr(s_last_reason, "does not reach School") ||
                  strstr(s_last_reason, ": not School"),
              "the refusal does not name the school: %s", s_last_reason);
    cr_assert_eq(
        s_publish(sc,
                  REQ("contact_logged", ",\"lawful_basis\":\"direct_care\"",
                      "\"contact_logged\":{\"with\":\"mother\",\"method\":\"phone_call\"}"),
                  NULL, NULL),
        TACNET_ECONSENT, "social care gives no direct care");
    tn_client_destroy(&school);
    tn_client_destroy(&sc);
    tn_client_destroy(&camhs);
    tn_client_destroy(&hv);
}

/* Minutes reach every action's owner or are refused before anything is sent; a meeting's
 * outcome is its convener's or the lead's to record, once. After s_team social care leads;
 * health detail goes to CAMHS and social care only. */
#define M1 "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define M2 "1f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define M3 "2f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define OUTCOME(meeting, sens, owner, initials)                                                  \
    REQ("meeting_outcome", ",\"sensitivity\":\"" sens "\"",                                      \
        "\"meeting_outcome\":{\"meeting_id\":\"" meeting "\",\"held_date\":\"2026-11-20\","      \
        "\"actions\":[{\"action_id\":\"a1a2a3a4a5a6a7a8a9aaabacadaeaf00\",\"description\":"      \
        "\"Sleep sessions\",\"owner_agency\":\"" owner "\",\"owner_initials\":\"" initials "\"," \
        "\"due_date\":\"2026-12-18\",\"status\":\"open\"}],\"child_view_absent\":{\"reason\":"   \
        "\"not_yet_asked\",\"ask_by_date\":\"2026-12-01\"},\"family_view\":\"Agree\"}")

Test(consent, minutes_reach_every_action_owner_and_are_the_convener_s_once)
{
    h_agency_t *as = s_up(SCH), *asc = s_up(SC), *aca = s_up(CA), *ahv = s_up(HV);
    tn_client_t *school = s_client(as), *sc = s_client(asc), *camhs = s_client(aca),
                *hv = s_client(ahv);
    s_team(school, sc, camhs, hv);
    uint8_t id[16];
    /* Social care asks for the meeting (held on 2026-11-20: a schedule for a day gone is
     * refused, so the minutes follow the request). */
    s_ok(sc,
         REQ("meeting_requested", "",
             "\"meeting_requested\":{\"meeting_id\":\"" M1 "\",\"purpose\":\"Review\"}"),
         id, NULL);
    /* Health-class minutes giving the school an action the school would never see. */
    int rc = s_publish(sc, OUTCOME(M1, "health", "school", "DL"), NULL, NULL);
    cr_assert_eq(rc, TACNET_ECONSENT, "got %s", tacnet_errname(rc));
    cr_assert_not_null(strstr(s_last_reason, "action 1 is School's, but School would not receive"),
                       "%s", s_last_reason);
    cr_assert_not_null(strstr(s_last_reason, "; nothing was sent"), "cut short: %s", s_last_reason);
    /* The same minutes with CAMHS's action go, and reach CAMHS. */
    uint32_t rcpt = 0;
    s_ok(sc, OUTCOME(M1, "health", "camhs", "RK"), id, &rcpt);
    cr_assert(rcpt & (1u << CA), "CAMHS, the action's owner, did not receive it (%#x)", rcpt);
    Tacnet__Header *h = s_wait_header(camhs, id, 10000);
    cr_assert_not_null(h, "the minutes did not reach CAMHS");
    tacnet__header__free_unpacked(h, NULL);
    /* CAMHS may not record a second account of the same meeting. */
    rc = s_publish(camhs, OUTCOME(M1, "routine", "camhs", "RK"), NULL, NULL);
    cr_assert_eq(rc, TACNET_EEXISTS, "got %s", tacnet_errname(rc));
    cr_assert_not_null(strstr(s_last_reason, "Social care has recorded this meeting's outcome"),
                       "%s", s_last_reason);
    /* The action is CAMHS's, in minutes the school does not receive: to the school it is an
     * action of nothing it knows (refused, not shared as an update of nothing); CAMHS marks it. */
#define UPDATE(action) \
    REQ("action_update", "", "\"action_update\":{\"action_id\":\"" action "\",\"status\":\"done\"}")
    h = s_wait_header(school, id, 10000);
    if (h)
        tacnet__header__free_unpacked(h, NULL);
    rc = s_publish(school, UPDATE("a1a2a3a4a5a6a7a8a9aaabacadaeaf00"), NULL, NULL);
    cr_assert_eq(rc, TACNET_ENOTFOUND, "got %s", tacnet_errname(rc));
    cr_assert_not_null(strstr(s_last_reason, "no action with that id"), "%s", s_last_reason);
    s_ok(camhs, UPDATE("a1a2a3a4a5a6a7a8a9aaabacadaeaf00"), NULL, NULL);
    /* Nor may social care record it again: its first minutes stand. */
    rc = s_publish(sc, OUTCOME(M1, "routine", "camhs", "RK"), NULL, NULL);
    cr_assert_eq(rc, TACNET_EEXISTS, "got %s", tacnet_errname(rc));
    cr_assert_not_null(strstr(s_last_reason, "your agency has recorded this meeting's outcome"),
                       "%s", s_last_reason);
    /* A meeting the school convened is minuted by the school or the lead, not by CAMHS. */
    s_ok(school,
         REQ("meeting_requested", "",
             "\"meeting_requested\":{\"meeting_id\":\"" M2 "\",\"purpose\":\"Attendance\"}"),
         id, NULL);
    h = s_wait_header(camhs, id, 10000);
    cr_assert_not_null(h, "the request did not reach CAMHS");
    tacnet__header__free_unpacked(h, NULL);
    rc = s_publish(camhs, OUTCOME(M2, "routine", "camhs", "RK"), NULL, NULL);
    cr_assert_eq(rc, TACNET_EFORBIDDEN, "got %s", tacnet_errname(rc));
    cr_assert_not_null(strstr(s_last_reason, "School convened this meeting"), "%s", s_last_reason);
    s_ok(sc, OUTCOME(M2, "routine", "school", "DL"), id, NULL);
    /* Health visiting receives these minutes; the action in them is the school's, and health
     * visiting (neither its owner, nor the lead, nor the minute-taker) may not mark it. */
    h = s_wait_header(hv, id, 10000);
    cr_assert_not_null(h, "the minutes did not reach health visiting");
    tacnet__header__free_unpacked(h, NULL);
    rc = s_publish(hv, UPDATE("a1a2a3a4a5a6a7a8a9aaabacadaeaf00"), NULL, NULL);
    cr_assert_eq(rc, TACNET_EFORBIDDEN, "got %s", tacnet_errname(rc));
    cr_assert_not_null(strstr(s_last_reason, "this action is School's"), "%s", s_last_reason);
    /* A meeting nobody asked for or scheduled here (a mistyped id, or a meeting held by phone):
     * refused to CAMHS naming the lead, recorded by the lead. */
    rc = s_publish(camhs, OUTCOME(M3, "routine", "camhs", "RK"), NULL, NULL);
    cr_assert_eq(rc, TACNET_ENOTFOUND, "got %s", tacnet_errname(rc));
    cr_assert_not_null(strstr(s_last_reason, "no meeting with that id"), "%s", s_last_reason);
    cr_assert_not_null(strstr(s_last_reason, "ask Social care"), "%s", s_last_reason);
    s_ok(sc, OUTCOME(M3, "routine", "camhs", "RK"), id, NULL);
    tn_client_destroy(&school);
    tn_client_destroy(&sc);
    tn_client_destroy(&camhs);
    tn_client_destroy(&hv);
}

/* An agency whose key the partnership revokes receives nothing more, and the rest of the team
 * goes on sharing: before, every routine event of its cases was refused E_KEYID at the sender
 * (no key to seal for it), even the lead's taking it out of the team. */
Test(consent, a_revoked_member_is_left_out_and_the_team_goes_on)
{
    h_agency_t *as = s_up(SCH), *asc = s_up(SC), *aca = s_up(CA), *ahv = s_up(HV);
    tn_client_t *school = s_client(as), *sc = s_client(asc), *camhs = s_client(aca),
                *hv = s_client(ahv);
    s_team(school, sc, camhs, hv);
    h_roster_revoke(&env, HV, 2);
    kill(env.pid, SIGHUP);
    h_agency_t *all[] = { as, asc, aca, ahv };
    for (size_t i = 0; i < 4; i++)
        kill(all[i]->pid, SIGHUP);
    h_sleep_ms(500);
    uint8_t id[16];
    uint32_t rcpt = 0;
    int rc = 0;
    /* The school's routine contact, until every node has read the new roster. */
    for (int i = 0; i < 50; i++) {
        rc = s_publish(school,
                       REQ("contact_logged", "",
                           "\"contact_logged\":{\"with\":\"mother\",\"method\":\"phone_call\"}"),
                       id, &rcpt);
        if (rc != TACNET_EKEYID && rc != TACNET_ERECIPIENTS)
            break;
        h_sleep_ms(100);
    }
    cr_assert_eq(rc, 0, "the school could not share: %s", tacnet_errname(rc));
    cr_assert_eq(rcpt & (1u << HV), 0, "sealed for a revoked agency (%#x)", rcpt);
    cr_assert(rcpt & (1u << CA), "CAMHS left out too (%#x)", rcpt);
    /* The lead takes health visiting out of the team. */
    s_ok(sc, REQ("member_left", ",\"subject_agency\":\"health_visiting\"", "\"member_left\":{}"),
         id, &rcpt);
    cr_assert_eq(rcpt & (1u << HV), 0, "%#x", rcpt);
    tn_client_destroy(&school);
    tn_client_destroy(&sc);
    tn_client_destroy(&camhs);
    tn_client_destroy(&hv);
}

/* The lead does not close a case while a disagreement about it is open (its stage timers would
 * run on a case nobody can answer on any more): refused, naming it, nothing sent. */
Test(consent, a_case_with_an_open_escalation_does_not_close)
{
    h_agency_t *as = s_up(SCH), *asc = s_up(SC), *aca = s_up(CA), *ahv = s_up(HV);
    tn_client_t *school = s_client(as), *sc = s_client(asc), *camhs = s_client(aca),
                *hv = s_client(ahv);
    s_team(school, sc, camhs, hv);
    uint8_t decision[16], id[16];
    s_ok(sc,
         REQ("decision", "",
             "\"decision\":{\"topic\":\"Level of need\",\"chosen\":\"Early help\",\"rationale\":"
             "\"Needs can be met with support.\",\"child_view\":\"Wants calm at home.\","
             "\"family_view\":\"Agrees.\"}"),
         decision, NULL);
    Tacnet__Header *h = s_wait_header(school, decision, 10000);
    cr_assert_not_null(h, "the decision did not reach the school");
    tacnet__header__free_unpacked(h, NULL);
    char hex[33], json[1024];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", decision[i]);
    snprintf(json, sizeof(json),
             "{\"kind\":\"disagreement\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
             "\"refers_to\":\"%s\",\"body\":{\"disagreement\":{\"topic\":\"Level of need\","
             "\"current_position\":\"Early help\",\"proposed_position\":\"Child in need\","
             "\"reason\":\"Hungry at weekends.\",\"child_safety\":\"Safe in school today.\","
             "\"child_view_absent\":{\"reason\":\"not_yet_asked\",\"ask_by_date\":\"2027-01-08\"},"
             "\"family_view\":\"Weekends are hard.\"}}}",
             hex);
    s_ok(school, json, id, NULL);
    /* Once social care's view has the disagreement, its closing is refused. */
    h = s_wait_header(sc, id, 10000);
    cr_assert_not_null(h, "the disagreement did not reach social care");
    tacnet__header__free_unpacked(h, NULL);
    int rc = s_publish(sc,
                       REQ("case_closed", "",
                           "\"case_closed\":{\"reason\":\"needs_met\",\"closed_date\":"
                           "\"2026-12-01\"}"),
                       NULL, NULL);
    cr_assert_eq(rc, TACNET_EFORBIDDEN, "got %s", tacnet_errname(rc));
    cr_assert_not_null(
        strstr(s_last_reason, "1 escalation of this case is open with no resolution proposed"),
        "%s", s_last_reason);
    cr_assert_not_null(strstr(s_last_reason, "nothing was sent"), "%s", s_last_reason);
    tn_client_destroy(&school);
    tn_client_destroy(&sc);
    tn_client_destroy(&camhs);
    tn_client_destroy(&hv);
}

/* A view restored from a backup has forgotten the events its agency published after the
 * backup, which the broker accepted: its next events are numbered on from the broker's last
 * (before, each was refused E_REPLAY, and the sequence alarm said someone else held the key). */
Test(consent, a_restored_view_numbers_its_events_on_from_the_broker_s)
{
    h_agency_t *as = s_up(SCH), *asc = s_up(SC), *aca = s_up(CA), *ahv = s_up(HV);
    tn_client_t *school = s_client(as), *sc = s_client(asc), *camhs = s_client(aca),
                *hv = s_client(ahv);
    s_team(school, sc, camhs, hv);
    char backup[700], cmd[2400], lost[700];
    snprintf(backup, sizeof(backup), "%s/school.backup", env.dir);
    snprintf(cmd, sizeof(cmd), "'%s/tacnet' backup --data-dir '%s' --out '%s' >/dev/null",
             getenv("TACNET_BIN"), as->data, backup);
    cr_assert_eq(system(cmd), 0, "tacnet backup failed");
#define CONTACT                                                          \
    REQ("contact_logged", "",                                            \
        "\"contact_logged\":{\"with\":\"mother\",\"method\":\"letter\"," \
        "\"contact_date\":\"2026-11-30\"}")
    s_ok(school, CONTACT, NULL, NULL); /* after the backup: the restored view will not know */
    s_ok(school, CONTACT, NULL, NULL);
    tn_client_destroy(&school);
    h_agency_signal_wait(as, SIGTERM);
    snprintf(lost, sizeof(lost), "%s.lost", as->data);
    cr_assert_eq(rename(as->data, lost), 0);
    snprintf(cmd, sizeof(cmd), "'%s/tacnet' restore --from '%s' --data-dir '%s' >/dev/null",
             getenv("TACNET_BIN"), backup, as->data);
    cr_assert_eq(system(cmd), 0, "tacnet restore failed");
    /* The restore key and config files came from the lost directory. */
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && for f in *; do [ -f \"$f\" ] && [ ! -e '%s/'\"$f\" ] && cp -p \"$f\" "
             "'%s/'; done; true",
             lost, as->data, as->data);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(h_agency_start(as, NULL), 0, "the daemon did not start on the restored view");
    school = s_client(as);
    int rc = 0;
    for (int i = 0; i < 50; i++) { /* until the session is back */
        rc = s_publish(school, CONTACT, NULL, NULL);
        if (rc != TACNET_ETIMEOUT && rc != TACNET_EHOSTUNREACH)
            break;
        h_sleep_ms(100);
    }
    cr_assert_eq(rc, 0, "after the restore: %s (%s)", tacnet_errname(rc), s_last_reason);
    char mark[800];
    snprintf(mark, sizeof(mark), "%s/restored-from-backup", as->data);
    cr_assert_neq(access(mark, F_OK), 0, "the restore mark is still there");
    tn_client_destroy(&school);
    tn_client_destroy(&sc);
    tn_client_destroy(&camhs);
    tn_client_destroy(&hv);
}
