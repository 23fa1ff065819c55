/* escalation_rights: the one rule for who may answer an escalation, held against the broker's
 * escalation engine so that the daemon, the dashboard and the inbox refuse and offer exactly what
 * the broker accepts. */
#include <criterion/criterion.h>
#include <string.h>

#include "casework/escalation_engine.h"
#include "casework/escalation_rights.h"
#include "err.h"

#define CAMHS  TACNET__AGENCY__CAMHS
#define SCHOOL TACNET__AGENCY__SCHOOL
#define HV     TACNET__AGENCY__HEALTH_VISITING
#define SC     TACNET__AGENCY__SOCIAL_CARE
#define RESP   TACNET__EVENT_KIND__ESCALATION_RESPONSE
#define RESOL  TACNET__EVENT_KIND__ESCALATION_RESOLVED
#define ACK    TACNET__EVENT_KIND__ESCALATION_ACK

/* An escalation the school raised against social care's decision; CAMHS leads the case. */
static Tacnet__Agency s_parties[] = { SCHOOL, SC };
static Tacnet__EscalationView s_view(Tacnet__EscalationEvent state, int resolution)
{
    static Tacnet__EscalationResolved res = TACNET__ESCALATION_RESOLVED__INIT;
    Tacnet__EscalationView e = TACNET__ESCALATION_VIEW__INIT;
    e.parties = s_parties;
    e.n_parties = 2;
    e.has_raised_by = 1;
    e.raised_by = SCHOOL;
    e.has_state = 1;
    e.state = state;
    e.resolution = resolution ? &res : NULL;
    return e;
}

Test(escalation_rights, parties_respond_parties_and_the_lead_resolve)
{
    Tacnet__EscalationView e = s_view(TACNET__ESCALATION_EVENT__ESC_OPENED, 0);
    escalation_rights_t r = escalation_rights_of(&e, SCHOOL, CAMHS);
    cr_assert(r.open && r.party && r.involved && r.respond && r.resolve && !r.acknowledge);
    r = escalation_rights_of(&e, CAMHS, CAMHS);
    cr_assert(r.open && !r.party && r.involved && !r.respond && r.resolve && !r.acknowledge,
              "the lead resolves but does not respond");
    r = escalation_rights_of(&e, HV, CAMHS);
    cr_assert(r.open && !r.involved && !r.respond && !r.resolve && !r.acknowledge,
              "a member that is neither party nor lead is not involved");
}

Test(escalation_rights, a_proposed_resolution_is_still_open_and_waits_on_acknowledgements)
{
    Tacnet__EscalationView e = s_view(TACNET__ESCALATION_EVENT__ESC_RESOLVED, 1);
    escalation_rights_t r = escalation_rights_of(&e, SC, CAMHS);
    cr_assert(r.open, "awaiting acknowledgement is open: the inbox must list it");
    cr_assert(r.acknowledge);
    e = s_view(TACNET__ESCALATION_EVENT__ESC_CLOSED, 1);
    r = escalation_rights_of(&e, SC, CAMHS);
    cr_assert(!r.open && !r.respond && !r.resolve && !r.acknowledge);
    cr_assert(escalation_rights_of(&e, 0, 0).open == 0);
}

Test(escalation_rights, only_answers_are_checked_and_each_refusal_says_why)
{
    Tacnet__EscalationView e = s_view(TACNET__ESCALATION_EVENT__ESC_OPENED, 0);
    const char *why = "unset";
    cr_assert_eq(escalation_rights_check(TACNET__EVENT_KIND__CONCERN, &e, HV, CAMHS, &why), 0);
    cr_assert_null(why);
    cr_assert_eq(escalation_rights_check(RESP, &e, HV, CAMHS, &why), TACNET_ENOTMEMBER);
    cr_assert(why && strstr(why, "only a party"));
    cr_assert_eq(escalation_rights_check(ACK, &e, SCHOOL, CAMHS, &why), TACNET_EKIND);
    cr_assert(why && strstr(why, "no resolution"));
    cr_assert(escalation_rights_is_answer(RESOL) && !escalation_rights_is_answer(0));
}

/* The engine's code for KIND by BY on escalation ID (0 or a refusal). */
static int s_engine(escalation_engine_t *eng, const uint8_t *id, uint32_t kind, uint32_t by)
{
    escalation_engine_notices_t out = { 0 };
    int rc;
    if (kind == RESP)
        rc = escalation_engine_respond(eng, id, by, 1000);
    else if (kind == RESOL)
        rc = escalation_engine_resolve(eng, id, by, 1000, &out);
    else
        rc = escalation_engine_ack(eng, id, by, 1, 1000, &out);
    escalation_engine_notices_clear(&out);
    return rc;
}

Test(escalation_rights, every_answer_by_every_agency_gets_the_broker_s_verdict)
{
    holidays_t *h = holidays_new();
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    const uint32_t kinds[] = { RESP, RESOL, ACK }, agencies[] = { CAMHS, SCHOOL, HV, SC };
    for (int resolved = 0; resolved < 2; resolved++) {
        for (size_t k = 0; k < 3; k++) {
            for (size_t a = 0; a < 4; a++) {
                /* A fresh engine per verdict: an answer changes the record. */
                escalation_engine_t *eng = escalation_engine_new(&p, h);
                uint8_t msg[ESCALATE_ID_LEN], about[ESCALATE_ID_LEN], id[ESCALATE_ID_LEN];
                memset(msg, 1, sizeof(msg));
                memset(about, 2, sizeof(about));
                escalation_engine_request_t req = { .msg_id = msg,
                                                    .refers_to = about,
                                                    .case_ref = "LA7-2026-000123",
                                                    .raiser = SCHOOL,
                                                    .other = SC,
                                                    .lead_agency = CAMHS };
                escalation_engine_notices_t out = { 0 };
                cr_assert_eq(escalation_engine_open(eng, &req, 1000, &out, id), 0);
                if (resolved)
                    cr_assert_eq(escalation_engine_resolve(eng, id, SC, 1000, &out), 0);
                escalation_engine_notices_clear(&out);
                Tacnet__EscalationView e = s_view(resolved ? TACNET__ESCALATION_EVENT__ESC_RESOLVED
                                                           : TACNET__ESCALATION_EVENT__ESC_OPENED,
                                                  resolved);
                e.has_resolved_by = resolved;
                e.resolved_by = resolved ? SC : 0;
                const char *why;
                int ours = escalation_rights_check(kinds[k], &e, agencies[a], CAMHS, &why);
                int broker = s_engine(eng, id, kinds[k], agencies[a]);
                /* With a resolution proposed the broker takes a response or a second resolution
                 * from one entitled to it as nothing new; the daemon refuses it and says why. */
                if (resolved && broker == 0 && kinds[k] != ACK)
                    broker = TACNET_EKIND;
                cr_assert_eq(ours, broker,
                             "kind %u by agency %u (resolved %d): daemon %d, broker %d", kinds[k],
                             agencies[a], resolved, ours, broker);
                escalation_engine_destroy(&eng);
            }
        }
    }
    holidays_destroy(&h);
}

Test(escalation_rights, a_party_that_has_acknowledged_is_not_asked_again)
{
    Tacnet__EscalationView e = s_view(TACNET__ESCALATION_EVENT__ESC_RESOLVED, 1);
    Tacnet__Agency done[] = { SC };
    e.acknowledged = done;
    e.n_acknowledged = 1;
    escalation_rights_t r = escalation_rights_of(&e, SC, CAMHS);
    cr_assert(r.open && r.acknowledged && !r.acknowledge);
    r = escalation_rights_of(&e, SCHOOL, CAMHS);
    cr_assert(!r.acknowledged && r.acknowledge);
}

Test(escalation_rights, the_proposer_of_a_resolution_is_not_asked_to_acknowledge_it)
{
    Tacnet__EscalationView e = s_view(TACNET__ESCALATION_EVENT__ESC_RESOLVED, 1);
    e.has_resolved_by = 1;
    e.resolved_by = SC;
    escalation_rights_t r = escalation_rights_of(&e, SC, CAMHS);
    cr_assert(r.open && r.acknowledged && !r.acknowledge, "proposing it was accepting it");
    cr_assert(r.proposed);
    r = escalation_rights_of(&e, SCHOOL, CAMHS);
    cr_assert(!r.acknowledged && r.acknowledge && !r.proposed);
    const char *why;
    cr_assert_eq(escalation_rights_check(ACK, &e, SC, CAMHS, &why), TACNET_EFORBIDDEN);
    cr_assert(why && strstr(why, "proposed the resolution"), "%s", why ? why : "(null)");
    cr_assert_eq(escalation_rights_check(ACK, &e, SCHOOL, CAMHS, &why), 0);
}

/* The broker's notice says a resolution is proposed, but its text never reached this view (it
 * went at a class this agency does not receive): there is nothing to accept, so no acknowledgement
 * is offered or sent, and the page says what is missing instead of offering a response. */
Test(escalation_rights, a_resolution_the_view_does_not_hold_is_not_acknowledged)
{
    Tacnet__EscalationView e = s_view(TACNET__ESCALATION_EVENT__ESC_RESOLVED, 0);
    escalation_rights_t r = escalation_rights_of(&e, SCHOOL, CAMHS);
    cr_assert(r.open && r.party && r.unheld && !r.acknowledge && !r.acknowledged);
    r = escalation_rights_of(&e, CAMHS, CAMHS);
    cr_assert(!r.unheld, "the lead is no party: nothing is asked of it, so nothing is missing");
    const char *why = NULL;
    cr_assert_eq(escalation_rights_check(ACK, &e, SCHOOL, CAMHS, &why), TACNET_EKIND);
    cr_assert(why && strstr(why, "has not received the resolution"), "%s", why ? why : "");
    cr_assert_str_eq(why, ESCALATION_RIGHTS_UNHELD);

    /* Held, it is acknowledged as before; not proposed at all, it is the older refusal. */
    e = s_view(TACNET__ESCALATION_EVENT__ESC_RESOLVED, 1);
    r = escalation_rights_of(&e, SCHOOL, CAMHS);
    cr_assert(!r.unheld && r.acknowledge);
    cr_assert_eq(escalation_rights_check(ACK, &e, SCHOOL, CAMHS, &why), 0);
    e = s_view(TACNET__ESCALATION_EVENT__ESC_OPENED, 0);
    cr_assert(!escalation_rights_of(&e, SCHOOL, CAMHS).unheld);
    cr_assert_eq(escalation_rights_check(ACK, &e, SCHOOL, CAMHS, &why), TACNET_EKIND);
    cr_assert(why && strstr(why, "no resolution"));
}

/* The parties an answer misses: those still on the team, other than its sender, outside its
 * recipients. */
Test(escalation_rights, an_answer_misses_only_parties_still_on_the_team)
{
    uint32_t parties = (1u << SC) | (1u << SCHOOL), team = parties | (1u << CAMHS);
    cr_assert_eq(escalation_rights_unreached(parties, SC, team, 1u << CAMHS), 1u << SCHOOL);
    cr_assert_eq(escalation_rights_unreached(parties, SC, team, (1u << CAMHS) | (1u << SCHOOL)), 0);
    cr_assert_eq(escalation_rights_unreached(parties, SC, team & ~(1u << SCHOOL), 1u << CAMHS), 0,
                 "a party that left the team does not block the answer");
    cr_assert_eq(escalation_rights_unreached(parties, CAMHS, team, 1u << SC), 1u << SCHOOL,
                 "the lead answering reaches one party, not the other");
}

/* Nothing more is taken on a closed escalation, and while a resolution is proposed the answer
 * owed is an acknowledgement: the daemon refuses the rest, saying why (the broker would take them
 * as nothing new, and a view's history would say a party answered what was settled). */
Test(escalation_rights, a_closed_escalation_takes_no_answer_and_a_proposed_one_only_acks)
{
    Tacnet__EscalationView e = s_view(TACNET__ESCALATION_EVENT__ESC_CLOSED, 1);
    const char *why = NULL;
    for (uint32_t k = 0; k < 3; k++) {
        uint32_t kind = k == 0 ? RESP : k == 1 ? RESOL : ACK;
        cr_assert_eq(escalation_rights_check(kind, &e, SCHOOL, CAMHS, &why), TACNET_EKIND);
        cr_assert(why && strstr(why, "this escalation is closed"), "%s", why ? why : "");
    }
    e = s_view(TACNET__ESCALATION_EVENT__ESC_RESOLVED, 1);
    cr_assert_eq(escalation_rights_check(RESP, &e, SCHOOL, CAMHS, &why), TACNET_EKIND);
    cr_assert(why && strstr(why, "a resolution is already proposed"), "%s", why ? why : "");
    cr_assert_eq(escalation_rights_check(RESOL, &e, CAMHS, CAMHS, &why), TACNET_EKIND);
    cr_assert_eq(escalation_rights_check(ACK, &e, SCHOOL, CAMHS, &why), 0);
}
