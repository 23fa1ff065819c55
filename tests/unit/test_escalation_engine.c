#include <criterion/criterion.h>
#include <string.h>

#include "casework/escalation_engine.h"
#include "err.h"
#include "events.pb-c.h"
#include "wire.pb-c.h"

#define CASE_A "LA7-2026-000123"
#define CASE_B "LA7-2026-000456"

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

static void s_id(uint8_t id[ESCALATE_ID_LEN], uint8_t fill)
{
    memset(id, fill, ESCALATE_ID_LEN);
}

static escalation_engine_request_t s_req(const uint8_t *msg_id, const uint8_t *refers_to,
                                         const char *case_ref, uint32_t raiser, uint32_t other)
{
    escalation_engine_request_t r = { 0 };
    r.msg_id = msg_id;
    r.refers_to = refers_to;
    r.case_ref = case_ref;
    r.raiser = raiser;
    r.other = other;
    r.lead_agency = TACNET__AGENCY__SOCIAL_CARE;
    return r;
}

static int s_has(const escalation_engine_notice_t *n, uint32_t agency)
{
    for (unsigned i = 0; i < n->n_recipients; i++)
        if (n->recipients[i] == agency)
            return 1;
    return 0;
}

Test(escalate, stage_one_deadline_skips_good_friday_and_easter_monday)
{
    holidays_t *h = s_holidays();
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    p.stages[0].working_days = 5;
    /* Thursday 2 April 2026, 10:00: Good Friday 3rd, the weekend, Easter Monday 6th. */
    uint64_t start = s_at(20260402, 10);
    cr_assert_eq(escalation_engine_deadline(&p, h, 1, 0, start), s_at(20260413, 10));
    cr_assert_eq(escalation_engine_deadline(&p, NULL, 1, 0, start), s_at(20260409, 10));
    /* A disagreement raised on a bank holiday counts from the next working day */
    /* (as if raised at 00:00 on Tuesday 7 April) */
    cr_assert_eq(escalation_engine_deadline(&p, h, 1, 0, s_at(20260403, 10)), s_at(20260414, 0));
    cr_assert_eq(escalation_engine_deadline(&p, h, 5, 0, start), 0);
    holidays_destroy(&h);
}

Test(escalate, urgent_track_runs_in_hours_through_holidays)
{
    holidays_t *h = s_holidays();
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    escalation_engine_t *e = escalation_engine_new(&p, h);
    uint8_t m[ESCALATE_ID_LEN];
    s_id(m, 1);
    escalation_engine_request_t r =
        s_req(m, NULL, CASE_A, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__CAMHS);
    r.urgent = 1;
    escalation_engine_notices_t out = { 0 };
    cr_assert_eq(escalation_engine_open(e, &r, s_at(20260403, 17), &out, NULL), 0);
    cr_assert_eq(out.n, 1);
    cr_assert_eq(out.items[0].deadline_ms, s_at(20260404, 17));
    cr_assert_eq(out.items[0].urgent, 1);
    cr_assert_eq(escalation_engine_due(e, s_at(20260404, 17), &out), 1);
    cr_assert_eq(out.items[1].stage, 2);
    cr_assert_eq(out.items[1].deadline_ms, s_at(20260405, 17));
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
    cr_assert_null(e);
    holidays_destroy(&h);
}

/* An urgent challenge joining an open escalation on the working-day track moves it to the urgent
 * track: the stage's deadline comes forward to the urgent hours from now, and the parties hear it
 * once. A later urgent challenge, or one to an escalation already urgent, changes nothing. */
Test(escalate, urgent_challenge_moves_an_open_escalation_to_the_urgent_track)
{
    holidays_t *h = s_holidays();
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    escalation_engine_t *e = escalation_engine_new(&p, h);
    uint8_t m1[16], m2[16], m3[16], r1[16], got[16];
    s_id(m1, 0x31);
    s_id(m2, 0x32);
    s_id(m3, 0x33);
    s_id(r1, 0x41);
    escalation_engine_notices_t out = { 0 };
    uint64_t t = s_at(20260601, 9);
    escalation_engine_request_t a =
        s_req(m1, r1, CASE_A, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_eq(escalation_engine_open(e, &a, t, &out, NULL), 0);
    uint64_t slow = out.items[0].deadline_ms;
    cr_assert_eq(out.items[0].urgent, 0);
    escalation_engine_record_t before;
    cr_assert_eq(escalation_engine_get(e, m1, &before), 0);
    escalation_engine_record_t *changed;
    escalation_engine_changed_take(e, &changed);
    free(changed);

    escalation_engine_request_t b =
        s_req(m2, r1, CASE_A, TACNET__AGENCY__SOCIAL_CARE, TACNET__AGENCY__SCHOOL);
    b.urgent = 1;
    cr_assert_eq(escalation_engine_open(e, &b, t + CLOCK_HOUR_MS, &out, got), TACNET_EEXISTS);
    cr_assert_arr_eq(got, m1, 16);
    cr_assert_eq(out.n, 2);
    const escalation_engine_notice_t *n = &out.items[1];
    cr_assert_eq(n->event, TACNET__ESCALATION_EVENT__ESC_ADVANCED);
    cr_assert_eq(n->stage, 1);
    cr_assert_eq(n->urgent, 1);
    cr_assert_eq(n->deadline_ms, t + CLOCK_HOUR_MS + 24 * CLOCK_HOUR_MS);
    cr_assert_lt(n->deadline_ms, slow);
    cr_assert(s_has(n, TACNET__AGENCY__SCHOOL) && s_has(n, TACNET__AGENCY__SOCIAL_CARE));
    escalation_engine_record_t r;
    cr_assert_eq(escalation_engine_get(e, m1, &r), 0);
    cr_assert_eq(r.urgent, 1);
    cr_assert_eq(r.stage, 1);
    cr_assert_eq(r.deadline_ms, n->deadline_ms);
    cr_assert_eq(r.stage_started_ms, before.stage_started_ms);
    cr_assert_eq(escalation_engine_changed_take(e, &changed), 1, "the switch is persisted");
    free(changed);

    /* already urgent: nothing more */
    escalation_engine_request_t c =
        s_req(m3, r1, CASE_A, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__SOCIAL_CARE);
    c.urgent = 1;
    cr_assert_eq(escalation_engine_open(e, &c, t + 2 * CLOCK_HOUR_MS, &out, got), TACNET_EEXISTS);
    cr_assert_eq(out.n, 2);
    cr_assert_eq(escalation_engine_changed_take(e, &changed), 0);
    /* and the urgent deadline fires as the urgent track's */
    cr_assert_eq(escalation_engine_due(e, r.deadline_ms, &out), 1);
    cr_assert_eq(out.items[2].stage, 2);
    cr_assert_eq(out.items[2].deadline_ms, r.deadline_ms + 24 * CLOCK_HOUR_MS);
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
    holidays_destroy(&h);
}

Test(escalate, test_policy_seconds_override_every_track)
{
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    for (unsigned i = 0; i < p.n_stages; i++)
        p.stages[i].seconds = 30;
    cr_assert_eq(escalation_engine_deadline(&p, NULL, 2, 0, 1000), 31000);
    cr_assert_eq(escalation_engine_deadline(&p, NULL, 2, 1, 1000), 31000);
}

Test(escalate, unresolved_stages_advance_through_all_four_once_each)
{
    holidays_t *h = s_holidays();
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p); /* 3, 5, 5, 14 working days */
    escalation_engine_t *e = escalation_engine_new(&p, h);
    uint8_t m[ESCALATE_ID_LEN], r1[ESCALATE_ID_LEN];
    s_id(m, 2);
    s_id(r1, 0x20);
    escalation_engine_request_t req =
        s_req(m, r1, CASE_A, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__HEALTH_VISITING);
    escalation_engine_notices_t out = { 0 };
    cr_assert_eq(escalation_engine_open(e, &req, s_at(20260402, 10), &out, NULL), 0);
    const escalation_engine_notice_t *n = &out.items[0];
    cr_assert_eq(n->event, TACNET__ESCALATION_EVENT__ESC_OPENED);
    cr_assert_eq(n->stage, 1);
    cr_assert_eq(n->audience, TACNET__ROLE__PRACTITIONER);
    cr_assert_eq(n->deadline_ms, s_at(20260409, 10));
    cr_assert_eq(n->n_recipients, 3); /* both parties and the lead */
    cr_assert(s_has(n, TACNET__AGENCY__SOCIAL_CARE));
    cr_assert_not(s_has(n, TACNET__AGENCY__PARTNERSHIP));
    cr_assert_eq(escalation_engine_next_deadline(e), s_at(20260409, 10));

    cr_assert_eq(escalation_engine_due(e, s_at(20260409, 10) - 1, &out), 0);
    static const struct {
        uint32_t now, role, deadline;
    } steps[] = {
        { 20260409, TACNET__ROLE__LINE_MANAGER, 20260416 },
        { 20260416, TACNET__ROLE__DSL, 20260423 },
        /* 14 working days over the early May bank holiday */
        { 20260423, TACNET__ROLE__PARTNERSHIP_LEAD, 20260514 },
    };
    for (unsigned s = 0; s < 3; s++) {
        size_t before = out.n;
        cr_assert_eq(escalation_engine_due(e, s_at(steps[s].now, 10), &out), 1, "stage %u", s + 2);
        cr_assert_eq(escalation_engine_due(e, s_at(steps[s].now, 10), &out), 0);
        n = &out.items[before];
        cr_assert_eq(n->event, TACNET__ESCALATION_EVENT__ESC_ADVANCED);
        cr_assert_eq(n->stage, s + 2);
        cr_assert_eq(n->audience, steps[s].role);
        cr_assert_eq(n->deadline_ms, s_at(steps[s].deadline, 10));
        cr_assert_eq(s_has(n, TACNET__AGENCY__PARTNERSHIP), s == 2);
    }
    /* The last stage stays with the partnership: no further notice, marked breached. */
    cr_assert_eq(escalation_engine_due(e, s_at(20260520, 10), &out), 0);
    escalation_engine_record_t rec;
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.stage, 4);
    cr_assert_eq(rec.breached, 1);
    cr_assert_eq(rec.state, ESCALATE_OPEN);
    cr_assert_eq(escalation_engine_next_deadline(e), 0);
    cr_assert_eq(rec.stage_took_ms[0], 7 * CLOCK_DAY_MS);
    cr_assert_eq(rec.stage_took_ms[1], 7 * CLOCK_DAY_MS);
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
    holidays_destroy(&h);
}

Test(escalate, resolution_closes_only_when_every_party_acknowledges)
{
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    escalation_engine_t *e = escalation_engine_new(&p, NULL);
    uint8_t m[ESCALATE_ID_LEN], unknown[ESCALATE_ID_LEN];
    s_id(m, 3);
    s_id(unknown, 0x77);
    escalation_engine_request_t req =
        s_req(m, NULL, CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL);
    escalation_engine_notices_t out = { 0 };
    uint64_t t0 = s_at(20260511, 9); /* Monday */
    cr_assert_eq(escalation_engine_open(e, &req, t0, &out, NULL), 0);
    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__CAMHS, 1, t0, &out), TACNET_EKIND);
    cr_assert_eq(escalation_engine_resolve(e, m, TACNET__AGENCY__HEALTH_VISITING, t0, &out),
                 TACNET_ENOTMEMBER);
    cr_assert_eq(escalation_engine_resolve(e, unknown, TACNET__AGENCY__CAMHS, t0, &out),
                 TACNET_ENOTFOUND);
    /* The lead professional's agency may record the resolution. */
    uint64_t t1 = t0 + 2 * CLOCK_DAY_MS;
    cr_assert_eq(escalation_engine_resolve(e, m, TACNET__AGENCY__SOCIAL_CARE, t1, &out), 0);
    cr_assert_eq(out.n, 2);
    cr_assert_eq(out.items[1].event, TACNET__ESCALATION_EVENT__ESC_RESOLVED);
    cr_assert_eq(out.items[1].deadline_ms, 0);
    cr_assert_eq(escalation_engine_resolve(e, m, TACNET__AGENCY__CAMHS, t1, &out), 0); /* retry */
    cr_assert_eq(out.n, 2);
    /* A resolved stage no longer advances. */
    cr_assert_eq(escalation_engine_due(e, t0 + 30 * CLOCK_DAY_MS, &out), 0);

    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__CAMHS, 1, t1, &out), 0);
    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__CAMHS, 1, t1, &out), 0);
    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__SOCIAL_CARE, 1, t1, &out),
                 TACNET_ENOTMEMBER);
    cr_assert_eq(out.n, 2);
    escalation_engine_record_t rec;
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.state, ESCALATE_RESOLVING);

    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__SCHOOL, 1, t1 + 1000, &out), 0);
    cr_assert_eq(out.n, 3);
    const escalation_engine_notice_t *n = &out.items[2];
    cr_assert_eq(n->event, TACNET__ESCALATION_EVENT__ESC_CLOSED);
    cr_assert_eq(n->stage_took_ms[0], 2 * CLOCK_DAY_MS);
    cr_assert_eq(n->stage_took_ms[1], 0);
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.state, ESCALATE_CLOSED);
    cr_assert_eq(rec.closed_ms, t1 + 1000);
    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__SCHOOL, 1, t1 + 2000, &out), 0);
    cr_assert_eq(out.n, 3);
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
}

/* A party that does not accept the proposed resolution takes the dispute to the next stage,
 * open again with that stage's deadline and nobody's acknowledgement kept; at the last stage a
 * refusal is recorded by its event and counts as an acknowledgement (the partnership's
 * decision is final). */
Test(escalate, a_resolution_not_accepted_goes_to_the_next_stage)
{
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    escalation_engine_t *e = escalation_engine_new(&p, NULL);
    uint8_t m[ESCALATE_ID_LEN];
    s_id(m, 4);
    escalation_engine_request_t req =
        s_req(m, NULL, CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL);
    escalation_engine_notices_t out = { 0 };
    uint64_t t0 = s_at(20260511, 9); /* Monday */
    cr_assert_eq(escalation_engine_open(e, &req, t0, &out, NULL), 0);
    uint64_t t1 = t0 + CLOCK_DAY_MS;
    cr_assert_eq(escalation_engine_resolve(e, m, TACNET__AGENCY__SOCIAL_CARE, t1, &out), 0);
    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__CAMHS, 1, t1, &out), 0);
    size_t before = out.n;
    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__SCHOOL, 0, t1 + 1000, &out), 0);
    cr_assert_eq(out.n, before + 1);
    const escalation_engine_notice_t *n = &out.items[before];
    cr_assert_eq(n->event, TACNET__ESCALATION_EVENT__ESC_ADVANCED);
    cr_assert_eq(n->stage, 2);
    cr_assert_eq(n->deadline_ms, escalation_engine_deadline(&p, NULL, 2, 0, t1 + 1000));
    escalation_engine_record_t rec;
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.state, ESCALATE_OPEN);
    cr_assert_eq(rec.stage, 2);
    cr_assert_eq(rec.acked, 0, "CAMHS's acknowledgement was of the resolution now refused");
    cr_assert_eq(rec.stage_took_ms[0], CLOCK_DAY_MS);
    /* The new stage runs like any other: its deadline passes and it advances again. */
    cr_assert_eq(escalation_engine_due(e, rec.deadline_ms, &out), 1);
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.stage, 3);
    /* At the last stage a refusal does not reopen it: with both acknowledgements it closes. */
    cr_assert_eq(escalation_engine_due(e, rec.deadline_ms, &out), 1);
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.stage, p.n_stages);
    uint64_t t2 = rec.stage_started_ms + CLOCK_DAY_MS;
    cr_assert_eq(escalation_engine_resolve(e, m, TACNET__AGENCY__CAMHS, t2, &out), 0);
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.state, ESCALATE_RESOLVING);
    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__SCHOOL, 0, t2, &out), 0);
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.state, ESCALATE_CLOSED, "CAMHS accepted its resolution by proposing it");
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
}

Test(escalate, the_proposer_accepts_its_own_resolution_and_cannot_refuse_it)
{
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    escalation_engine_t *e = escalation_engine_new(&p, NULL);
    uint8_t m[ESCALATE_ID_LEN], m2[ESCALATE_ID_LEN], r1[ESCALATE_ID_LEN], r2[ESCALATE_ID_LEN];
    s_id(m, 7);
    s_id(m2, 8);
    s_id(r1, 9);
    s_id(r2, 10);
    escalation_engine_notices_t out = { 0 };
    uint64_t t = s_at(20260511, 9);
    escalation_engine_request_t req =
        s_req(m, r1, CASE_A, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_eq(escalation_engine_open(e, &req, t, &out, NULL), 0);
    escalation_engine_record_t rec;
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(escalation_engine_due(e, rec.deadline_ms, &out), 1); /* stage 2 */
    cr_assert_eq(escalation_engine_resolve(e, m, TACNET__AGENCY__SOCIAL_CARE, t + 1, &out), 0);
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.acked, 2u, "social care (party 1) accepted by proposing");
    /* social care may not refuse (nor acknowledge) its own resolution */
    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__SOCIAL_CARE, 0, t + 2, &out),
                 TACNET_EFORBIDDEN);
    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__SOCIAL_CARE, 1, t + 2, &out),
                 TACNET_EFORBIDDEN);
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.stage, 2);
    cr_assert_eq(rec.state, ESCALATE_RESOLVING);
    /* the school's acceptance is the last one needed */
    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__SCHOOL, 1, t + 3, &out), 0);
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.state, ESCALATE_CLOSED);
    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__SOCIAL_CARE, 0, t + 4, &out),
                 TACNET_EFORBIDDEN);
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.state, ESCALATE_CLOSED, "a refusal after the fact moves nothing");

    /* The lead, no party, proposes: every party still acknowledges. */
    escalation_engine_request_t b =
        s_req(m2, r2, CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL);
    b.lead_agency = TACNET__AGENCY__SOCIAL_CARE;
    cr_assert_eq(escalation_engine_open(e, &b, t, &out, NULL), 0);
    cr_assert_eq(escalation_engine_resolve(e, m2, TACNET__AGENCY__SOCIAL_CARE, t + 1, &out), 0);
    cr_assert_eq(escalation_engine_get(e, m2, &rec), 0);
    cr_assert_eq(rec.acked, 0);
    cr_assert_eq(escalation_engine_ack(e, m2, TACNET__AGENCY__CAMHS, 1, t + 2, &out), 0);
    cr_assert_eq(escalation_engine_ack(e, m2, TACNET__AGENCY__SCHOOL, 1, t + 2, &out), 0);
    cr_assert_eq(escalation_engine_get(e, m2, &rec), 0);
    cr_assert_eq(rec.state, ESCALATE_CLOSED);
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
}

Test(escalate, level_gap_of_two_opens_one_automatic_escalation)
{
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    escalation_engine_t *e = escalation_engine_new(&p, NULL);
    escalation_engine_notices_t out = { 0 };
    uint64_t t = s_at(20260601, 9);
    escalation_engine_level_t lv[3] = { { TACNET__AGENCY__CAMHS, 2 },
                                        { TACNET__AGENCY__SCHOOL, 3 },
                                        { TACNET__AGENCY__HEALTH_VISITING, 0 } };
    cr_assert_eq(escalation_engine_levels(e, CASE_A, lv, 3, TACNET__AGENCY__SOCIAL_CARE, t, &out),
                 0);
    cr_assert_eq(out.n, 0);
    lv[1].level = 4;
    cr_assert_eq(escalation_engine_levels(e, CASE_A, lv, 3, TACNET__AGENCY__SOCIAL_CARE, t, &out),
                 1);
    cr_assert_eq(out.n, 1);
    cr_assert_eq(out.items[0].automatic, 1);
    uint8_t auto_id[ESCALATE_ID_LEN], swapped[ESCALATE_ID_LEN], other[ESCALATE_ID_LEN];
    escalation_engine_auto_id(CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL, auto_id);
    escalation_engine_auto_id(CASE_A, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__CAMHS, swapped);
    escalation_engine_auto_id(CASE_B, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__CAMHS, other);
    cr_assert_arr_eq(auto_id, swapped, ESCALATE_ID_LEN);
    cr_assert(memcmp(auto_id, other, ESCALATE_ID_LEN) != 0);
    cr_assert_arr_eq(out.items[0].escalation_id, auto_id, ESCALATE_ID_LEN);

    /* The same levels again, and again after a later assessment: still one. */
    cr_assert_eq(
        escalation_engine_levels(e, CASE_A, lv, 3, TACNET__AGENCY__SOCIAL_CARE, t + 1, &out), 0);
    cr_assert_eq(escalation_engine_count(e), 1);
    /* An explicit disagreement between the same pair joins the open dispute. */
    uint8_t m[ESCALATE_ID_LEN], got[ESCALATE_ID_LEN];
    s_id(m, 9);
    escalation_engine_request_t req =
        s_req(m, NULL, CASE_A, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__CAMHS);
    cr_assert_eq(escalation_engine_open(e, &req, t, &out, got), TACNET_EEXISTS);
    cr_assert_arr_eq(got, auto_id, ESCALATE_ID_LEN);
    /* Closed, and the levels still differ: not reopened. */
    cr_assert_eq(escalation_engine_resolve(e, auto_id, TACNET__AGENCY__CAMHS, t, &out), 0);
    /* its proposer accepted it by proposing it */
    cr_assert_eq(escalation_engine_ack(e, auto_id, TACNET__AGENCY__SCHOOL, 1, t, &out), 0);
    cr_assert_eq(
        escalation_engine_levels(e, CASE_A, lv, 3, TACNET__AGENCY__SOCIAL_CARE, t + 2, &out), 0);
    /* A third agency two levels away is a dispute of its own. */
    lv[2].level = 2;
    cr_assert_eq(
        escalation_engine_levels(e, CASE_A, lv, 3, TACNET__AGENCY__SOCIAL_CARE, t + 3, &out), 1);
    cr_assert_eq(escalation_engine_count(e), 2);
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
}

Test(escalate, a_joining_raiser_becomes_a_party_and_is_told)
{
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    escalation_engine_t *e = escalation_engine_new(&p, NULL);
    escalation_engine_notices_t out = { 0 };
    uint64_t t = s_at(20260601, 9);
    uint8_t m1[16], m2[16], r1[16], got[16];
    s_id(m1, 0x51);
    s_id(m2, 0x52);
    s_id(r1, 0x61);
    escalation_engine_request_t a =
        s_req(m1, r1, CASE_A, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_eq(escalation_engine_open(e, &a, t, &out, NULL), 0);
    /* CAMHS challenges the same decision: it joins, as a party, and hears so */
    escalation_engine_request_t b =
        s_req(m2, r1, CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_eq(escalation_engine_open(e, &b, t + 10, &out, got), TACNET_EEXISTS);
    cr_assert_arr_eq(got, m1, 16);
    cr_assert_eq(out.n, 2);
    const escalation_engine_notice_t *n = &out.items[1];
    cr_assert_arr_eq(n->escalation_id, m1, 16);
    cr_assert(n->has_joined);
    cr_assert_arr_eq(n->joined, m2, 16);
    cr_assert_eq(n->joined_by, TACNET__AGENCY__CAMHS);
    cr_assert_eq(n->event, TACNET__ESCALATION_EVENT__ESC_OPENED);
    cr_assert_eq(n->n_parties, 3);
    cr_assert(s_has(n, TACNET__AGENCY__CAMHS) && s_has(n, TACNET__AGENCY__SCHOOL));
    escalation_engine_record_t r;
    cr_assert_eq(escalation_engine_get(e, m1, &r), 0);
    cr_assert_eq(r.n_parties, 3);
    cr_assert_eq(r.parties[2], TACNET__AGENCY__CAMHS);
    cr_assert_eq(r.responded, 1u | 4u, "the joiner answered the stage by raising");
    /* the joiner answers it, and its acknowledgement is needed to close it */
    cr_assert_eq(escalation_engine_respond(e, m1, TACNET__AGENCY__CAMHS, t + 20), 0);
    cr_assert_eq(escalation_engine_resolve(e, m1, TACNET__AGENCY__SCHOOL, t + 30, &out), 0);
    cr_assert_eq(escalation_engine_ack(e, m1, TACNET__AGENCY__SOCIAL_CARE, 1, t + 40, &out), 0);
    cr_assert_eq(escalation_engine_get(e, m1, &r), 0);
    cr_assert_eq(r.state, ESCALATE_RESOLVING, "waiting on the joiner");
    cr_assert_eq(escalation_engine_ack(e, m1, TACNET__AGENCY__CAMHS, 1, t + 50, &out), 0);
    cr_assert_eq(escalation_engine_get(e, m1, &r), 0);
    cr_assert_eq(r.state, ESCALATE_CLOSED);
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
}

Test(escalate, duplicate_disagreements_and_retries_open_exactly_one)
{
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    escalation_engine_t *e = escalation_engine_new(&p, NULL);
    escalation_engine_notices_t out = { 0 };
    uint64_t t = s_at(20260601, 9);
    uint8_t m1[16], m2[16], m3[16], m4[16], m5[16], r1[16], r2[16], r3[16], got[16];
    s_id(m1, 0x11);
    s_id(m2, 0x12);
    s_id(m3, 0x13);
    s_id(m4, 0x14);
    s_id(m5, 0x15);
    s_id(r1, 0x21);
    s_id(r2, 0x22);
    s_id(r3, 0x23);
    escalation_engine_request_t a =
        s_req(m1, r1, CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_eq(escalation_engine_open(e, &a, t, &out, got), 0);
    cr_assert_arr_eq(got, m1, 16);
    /* the daemon's retry of the same message */
    cr_assert_eq(escalation_engine_open(e, &a, t + 5, &out, got), TACNET_EEXISTS);
    /* another agency challenging the same decision */
    escalation_engine_request_t b =
        s_req(m2, r1, CASE_A, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_eq(escalation_engine_open(e, &b, t, &out, got), TACNET_EEXISTS);
    cr_assert_arr_eq(got, m1, 16);
    /* the other side raising it back, about another event */
    escalation_engine_request_t c =
        s_req(m3, r2, CASE_A, TACNET__AGENCY__SOCIAL_CARE, TACNET__AGENCY__CAMHS);
    cr_assert_eq(escalation_engine_open(e, &c, t, &out, got), TACNET_EEXISTS);
    cr_assert_eq(out.n, 2, "the opening, and the school's join told to the parties");
    /* the same pair on another case is another dispute */
    escalation_engine_request_t d =
        s_req(m4, r3, CASE_B, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_eq(escalation_engine_open(e, &d, t, &out, got), 0);
    cr_assert_eq(escalation_engine_count(e), 2);
    /* once closed, a new disagreement between the pair opens a new escalation; a retry of the
     * closed one's message still does not */
    cr_assert_eq(escalation_engine_resolve(e, m1, TACNET__AGENCY__CAMHS, t, &out), 0);
    /* its proposer accepted it by proposing it */
    cr_assert_eq(escalation_engine_ack(e, m1, TACNET__AGENCY__SOCIAL_CARE, 1, t, &out), 0);
    cr_assert_eq(escalation_engine_ack(e, m1, TACNET__AGENCY__SCHOOL, 1, t, &out), 0);
    cr_assert_eq(escalation_engine_open(e, &a, t, &out, got), TACNET_EEXISTS);
    escalation_engine_request_t f =
        s_req(m5, r1, CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_eq(escalation_engine_open(e, &f, t, &out, got), 0);
    cr_assert_eq(escalation_engine_count(e), 3);
    /* bad requests */
    escalation_engine_request_t g =
        s_req(m2, NULL, CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__CAMHS);
    cr_assert_eq(escalation_engine_open(e, &g, t, &out, got), TACNET_EINVAL);
    g = s_req(m2, NULL, "LA7-2026-000123-and-far-too-long-to-be-a-ref", TACNET__AGENCY__CAMHS,
              TACNET__AGENCY__SCHOOL);
    cr_assert_eq(escalation_engine_open(e, &g, t, &out, got), TACNET_EINVAL);
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
}

static void s_save(escalation_engine_t *e, const uint8_t id[16], uint8_t buf[ESCALATE_RECORD_BYTES])
{
    escalation_engine_record_t rec;
    cr_assert_eq(escalation_engine_get(e, id, &rec), 0);
    cr_assert_eq(escalation_engine_record_encode(&rec, buf, ESCALATE_RECORD_BYTES),
                 ESCALATE_RECORD_BYTES);
}

static escalation_engine_t *s_restart(const escalation_engine_policy_t *p, const holidays_t *h,
                                      const uint8_t buf[ESCALATE_RECORD_BYTES])
{
    escalation_engine_t *e = escalation_engine_new(p, h);
    escalation_engine_record_t rec;
    cr_assert_eq(escalation_engine_record_decode(buf, ESCALATE_RECORD_BYTES, &rec), 0);
    cr_assert_eq(escalation_engine_restore(e, &rec), 0);
    cr_assert_eq(escalation_engine_restore(e, &rec), TACNET_EEXISTS);
    return e;
}

Test(escalate, restored_mid_stage_fires_late_deadlines_exactly_once)
{
    holidays_t *h = s_holidays();
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    escalation_engine_t *e = escalation_engine_new(&p, h);
    uint8_t m[16], r1[16], buf[ESCALATE_RECORD_BYTES];
    s_id(m, 0x31);
    s_id(r1, 0x41);
    escalation_engine_request_t req =
        s_req(m, r1, CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL);
    req.urgent = 0;
    escalation_engine_notices_t out = { 0 };
    cr_assert_eq(escalation_engine_open(e, &req, s_at(20260402, 10), &out, NULL), 0);
    cr_assert_eq(escalation_engine_due(e, s_at(20260409, 10), &out), 1); /* stage 2, due 16 April */
    s_save(e, m, buf);
    escalation_engine_destroy(&e);

    /* Restart the next day: nothing is late yet. */
    e = s_restart(&p, h, buf);
    escalation_engine_record_t rec;
    cr_assert_eq(escalation_engine_get(e, m, &rec), 0);
    cr_assert_eq(rec.stage, 2);
    cr_assert_eq(rec.deadline_ms, s_at(20260416, 10));
    cr_assert_eq(rec.has_refers_to, 1);
    cr_assert_arr_eq(rec.refers_to, r1, 16);
    cr_assert_str_eq(rec.case_ref, CASE_A);
    cr_assert_eq(rec.stage_took_ms[0], 7 * CLOCK_DAY_MS);
    cr_assert_eq(escalation_engine_due(e, s_at(20260410, 10), &out), 0);
    /* the restored escalation still deduplicates its dispute */
    cr_assert_eq(escalation_engine_open(e, &req, s_at(20260410, 10), &out, NULL), TACNET_EEXISTS);
    escalation_engine_destroy(&e);

    /* Restart after the broker was down over the stage 2 and stage 3 deadlines. */
    e = s_restart(&p, h, buf);
    size_t before = out.n;
    uint64_t late = s_at(20260427, 12);
    cr_assert_eq(escalation_engine_due(e, late, &out), 1);
    cr_assert_eq(out.items[before].stage, 3);
    cr_assert_eq(out.items[before].deadline_ms, s_at(20260423, 10)); /* from the missed one */
    cr_assert_eq(escalation_engine_due(e, late, &out), 1);
    cr_assert_eq(out.items[before + 1].stage, 4);
    cr_assert_eq(escalation_engine_due(e, late, &out), 0);
    cr_assert_eq(escalation_engine_due(e, late + CLOCK_HOUR_MS, &out), 0);
    cr_assert_eq(out.n, before + 2);

    /* and a record saved after the catch-up does not fire again after another restart */
    s_save(e, m, buf);
    escalation_engine_destroy(&e);
    e = s_restart(&p, h, buf);
    cr_assert_eq(escalation_engine_due(e, late, &out), 0);
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
    holidays_destroy(&h);
}

Test(escalate, damaged_or_future_records_are_refused)
{
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    escalation_engine_t *e = escalation_engine_new(&p, NULL);
    uint8_t m[16], buf[ESCALATE_RECORD_BYTES], bad[ESCALATE_RECORD_BYTES];
    s_id(m, 0x51);
    escalation_engine_request_t req =
        s_req(m, NULL, CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL);
    escalation_engine_notices_t out = { 0 };
    cr_assert_eq(escalation_engine_open(e, &req, s_at(20260601, 9), &out, NULL), 0);
    s_save(e, m, buf);
    escalation_engine_record_t rec;
    cr_assert_eq(escalation_engine_record_decode(buf, sizeof(buf) - 1, &rec), TACNET_ECORRUPT);
    memcpy(bad, buf, sizeof(bad));
    bad[0] ^= 1;
    cr_assert_eq(escalation_engine_record_decode(bad, sizeof(bad), &rec), TACNET_ECORRUPT);
    memcpy(bad, buf, sizeof(bad));
    bad[4] = 9;
    cr_assert_eq(escalation_engine_record_decode(bad, sizeof(bad), &rec), TACNET_EVERSION);
    memcpy(bad, buf, sizeof(bad));
    bad[104] = 9; /* stage 9 */
    cr_assert_eq(escalation_engine_record_decode(bad, sizeof(bad), &rec), TACNET_ECORRUPT);
    cr_assert_eq(escalation_engine_record_encode(&rec, buf, 10), TACNET_EINVAL);
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
}

Test(escalate, roster_policy_is_copied_and_checked)
{
    Tacnet__EscalationStage s1 = TACNET__ESCALATION_STAGE__INIT,
                            s2 = TACNET__ESCALATION_STAGE__INIT;
    s1.stage = 2;
    s1.audience = TACNET__ROLE__PARTNERSHIP_LEAD;
    s1.has_working_days = 1;
    s1.working_days = 14;
    s2.stage = 1;
    s2.audience = TACNET__ROLE__PRACTITIONER;
    s2.has_seconds = 1;
    s2.seconds = 2;
    Tacnet__EscalationStage *stages[2] = { &s1, &s2 };
    Tacnet__EscalationPolicy pb = TACNET__ESCALATION_POLICY__INIT;
    pb.stages = stages;
    pb.n_stages = 2;
    pb.has_level_gap = 1;
    pb.level_gap = 3;
    escalation_engine_policy_t p;
    cr_assert_eq(escalation_engine_policy_from_proto(&pb, &p), 0);
    cr_assert_eq(p.n_stages, 2);
    cr_assert_eq(p.stages[0].seconds, 2);
    cr_assert_eq(p.stages[1].audience, TACNET__ROLE__PARTNERSHIP_LEAD);
    cr_assert_eq(p.level_gap, 3);
    s2.stage = 2; /* stage 2 twice, no stage 1 */
    cr_assert_eq(escalation_engine_policy_from_proto(&pb, &p), TACNET_ECONFIG);
    s2.stage = 1;
    s2.audience = TACNET__ROLE__ROLE_UNKNOWN;
    cr_assert_eq(escalation_engine_policy_from_proto(&pb, &p), TACNET_ECONFIG);
    p.n_stages = 0;
    cr_assert_null(escalation_engine_new(&p, NULL));
}

static size_t s_count_nr(const escalation_engine_notices_t *out, size_t from, uint32_t agency)
{
    size_t n = 0;
    for (size_t i = from; i < out->n; i++)
        n += out->items[i].non_responder == agency;
    return n;
}

Test(escalate, silent_party_gets_one_non_response_alert_per_stage)
{
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    p.non_response_hours = 0;
    p.non_response_seconds = 10;
    for (unsigned i = 0; i < p.n_stages; i++)
        p.stages[i].seconds = 60;
    escalation_engine_t *e = escalation_engine_new(&p, NULL);
    uint8_t m[16];
    s_id(m, 0x61);
    escalation_engine_request_t req =
        s_req(m, NULL, CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL);
    escalation_engine_notices_t out = { 0 };
    uint64_t t0 = s_at(20260601, 9);
    cr_assert_eq(escalation_engine_open(e, &req, t0, &out, NULL), 0);
    cr_assert_eq(escalation_engine_next_timer(e), t0 + 10000);
    cr_assert_eq(escalation_engine_next_deadline(e), t0 + 60000);
    cr_assert_eq(escalation_engine_non_response(e, t0 + 9999, &out), 0);
    /* Stage 1: the raiser answered by raising it; the school has not. */
    size_t before = out.n;
    cr_assert_eq(escalation_engine_non_response(e, t0 + 10000, &out), 1);
    const escalation_engine_notice_t *n = &out.items[before];
    cr_assert_eq(n->non_responder, TACNET__AGENCY__SCHOOL);
    cr_assert_eq(n->event, 0);
    cr_assert_eq(n->stage, 1);
    cr_assert_eq(n->audience, TACNET__ROLE__LINE_MANAGER);
    cr_assert_eq(n->overdue_since_ms, t0 + 10000);
    cr_assert_eq(n->n_recipients, 2);
    cr_assert(s_has(n, TACNET__AGENCY__SCHOOL));
    cr_assert(s_has(n, TACNET__AGENCY__SOCIAL_CARE));
    cr_assert_eq(escalation_engine_non_response(e, t0 + 50000, &out), 0, "once per stage");
    cr_assert_eq(escalation_engine_next_timer(e), t0 + 60000);

    /* Stage 2: the school answers in time, CAMHS stays silent. */
    cr_assert_eq(escalation_engine_due(e, t0 + 60000, &out), 1);
    cr_assert_eq(escalation_engine_respond(e, m, TACNET__AGENCY__SCHOOL, t0 + 61000), 0);
    cr_assert_eq(escalation_engine_respond(e, m, TACNET__AGENCY__HEALTH_VISITING, t0 + 61000),
                 TACNET_ENOTMEMBER);
    before = out.n;
    cr_assert_eq(escalation_engine_non_response(e, t0 + 75000, &out), 1);
    cr_assert_eq(s_count_nr(&out, before, TACNET__AGENCY__CAMHS), 1);
    cr_assert_eq(escalation_engine_non_response(e, t0 + 76000, &out), 0);

    /* Resolution: whoever has not acknowledged within the limit is told, once. */
    cr_assert_eq(escalation_engine_resolve(e, m, TACNET__AGENCY__CAMHS, t0 + 80000, &out), 0);
    /* its proposer accepted it by proposing it */
    before = out.n;
    cr_assert_eq(escalation_engine_non_response(e, t0 + 90000, &out), 1);
    cr_assert_eq(s_count_nr(&out, before, TACNET__AGENCY__SCHOOL), 1);
    cr_assert_eq(escalation_engine_non_response(e, t0 + 99000, &out), 0);
    cr_assert_eq(escalation_engine_ack(e, m, TACNET__AGENCY__SCHOOL, 1, t0 + 99000, &out), 0);
    cr_assert_eq(escalation_engine_next_timer(e), 0);

    /* A policy without a limit never alerts. */
    p.non_response_seconds = 0;
    escalation_engine_t *quiet = escalation_engine_new(&p, NULL);
    cr_assert_eq(escalation_engine_open(quiet, &req, t0, &out, NULL), 0);
    cr_assert_eq(escalation_engine_non_response(quiet, t0 + 365 * CLOCK_DAY_MS, &out), 0);
    escalation_engine_destroy(&quiet);
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
}

Test(escalate, clone_keeps_changes_apart_and_reports_what_changed)
{
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    for (unsigned i = 0; i < p.n_stages; i++)
        p.stages[i].seconds = 5;
    escalation_engine_t *e = escalation_engine_new(&p, NULL);
    uint8_t m1[16], m2[16];
    s_id(m1, 0x71);
    s_id(m2, 0x72);
    escalation_engine_request_t a =
        s_req(m1, NULL, CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL);
    escalation_engine_request_t b =
        s_req(m2, NULL, CASE_B, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL);
    escalation_engine_notices_t out = { 0 };
    uint64_t t0 = s_at(20260601, 9);
    cr_assert_eq(escalation_engine_open(e, &a, t0, &out, NULL), 0);
    escalation_engine_record_t *recs = NULL;
    cr_assert_eq(escalation_engine_changed_take(e, &recs), 1);
    cr_assert_arr_eq(recs[0].id, m1, 16);
    free(recs);
    cr_assert_eq(escalation_engine_changed_take(e, &recs), 0);
    cr_assert_null(recs);

    /* Work on a copy: the original does not see it until the copy replaces it. */
    escalation_engine_t *work = escalation_engine_clone(e);
    cr_assert_eq(escalation_engine_open(work, &b, t0, &out, NULL), 0);
    cr_assert_eq(escalation_engine_due(work, t0 + 5000, &out), 2);
    cr_assert_eq(escalation_engine_lead_set(work, CASE_A, TACNET__AGENCY__CAMHS), 1);
    cr_assert_eq(escalation_engine_lead_set(work, CASE_A, TACNET__AGENCY__CAMHS), 0);
    cr_assert_eq(escalation_engine_count(e), 1);
    escalation_engine_record_t rec;
    cr_assert_eq(escalation_engine_get(e, m1, &rec), 0);
    cr_assert_eq(rec.stage, 1);
    cr_assert_eq(rec.lead_agency, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_eq(escalation_engine_changed_take(work, &recs), 2);
    cr_assert_eq(recs[0].stage, 2);
    cr_assert_eq(recs[0].lead_agency, TACNET__AGENCY__CAMHS);
    cr_assert_arr_eq(recs[1].id, m2, 16);
    free(recs);
    cr_assert_eq(escalation_engine_at(work, 1, &rec), 0);
    cr_assert_arr_eq(rec.id, m2, 16);
    cr_assert_eq(escalation_engine_at(work, 2, &rec), TACNET_ENOTFOUND);

    /* The last stage's deadline marks it breached once, with no notice. */
    for (int i = 0; i < 3; i++)
        escalation_engine_due(work, t0 + 60000, &out);
    cr_assert_eq(escalation_engine_changed_take(work, &recs), 2);
    free(recs);
    size_t before = out.n;
    cr_assert_eq(escalation_engine_due(work, t0 + 61000, &out), 0);
    cr_assert_eq(out.n, before);
    cr_assert_eq(escalation_engine_changed_take(work, &recs), 0);
    cr_assert_eq(escalation_engine_next_deadline(work), 0);
    escalation_engine_destroy(&work);
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
}

Test(escalate, version_one_records_still_decode)
{
    escalation_engine_policy_t p;
    escalation_engine_policy_default(&p);
    escalation_engine_t *e = escalation_engine_new(&p, NULL);
    uint8_t m[16], buf[ESCALATE_RECORD_BYTES];
    s_id(m, 0x81);
    escalation_engine_request_t req =
        s_req(m, NULL, CASE_A, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL);
    escalation_engine_notices_t out = { 0 };
    cr_assert_eq(escalation_engine_open(e, &req, s_at(20260601, 9), &out, NULL), 0);
    s_save(e, m, buf);
    buf[4] = 1; /* the layout before non-response tracking: 188 bytes */
    escalation_engine_record_t rec;
    cr_assert_eq(escalation_engine_record_decode(buf, 188, &rec), 0);
    cr_assert_eq(rec.responded, 0);
    cr_assert_eq(rec.stage, 1);
    cr_assert_str_eq(rec.case_ref, CASE_A);
    cr_assert_eq(escalation_engine_record_decode(buf, ESCALATE_RECORD_BYTES, &rec),
                 TACNET_ECORRUPT);
    escalation_engine_notices_clear(&out);
    escalation_engine_destroy(&e);
}
