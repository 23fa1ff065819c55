/* casestate: the fold of a synthetic case's timeline into state and due items. Events are written
 * as JSON (common/pbjson) so each test reads like the case history it models. Nobody is real. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casework/casestate.h"
#include "casework/escalation_rights.h"
#include "err.h"
#include "zone.h"
#include "pbjson_fixture.h"

#define MAX_EVENTS 32

typedef struct tl {
    Tacnet__TimelineEntry *e[MAX_EVENTS];
    size_t n;
} tl_t;

/* Append one event: HEADER_JSON and BODY_JSON (or NULL) are the fields of Header and Body;
 * the common header fields are filled in here. MSG_ID_BYTE makes the msg_id 16 of that byte. */
static void s_ev(tl_t *t, unsigned msg_id_byte, const char *sender, const char *kind, uint32_t date,
                 const char *header_extra, const char *body_json)
{
    char buf[4096], id[33];
    for (int i = 0; i < 16; i++)
        snprintf(id + 2 * i, 3, "%02x", msg_id_byte);
    snprintf(buf, sizeof(buf),
             "{\"local_seq\":%zu,\"header\":{\"schema_version\":1,\"msg_id\":\"%s\",\"sender\":"
             "\"%s\",\"kind\":\"%s\",\"case_ref\":\"LA9-2026-000777\",\"initials\":\"QZ\","
             "\"sender_seq\":%zu,\"created_at_ms\":%llu,\"sender_key_id\":1,\"policy_version\":1,"
             "\"sensitivity\":\"routine\",\"lawful_basis\":\"consent\"%s%s}%s%s}",
             t->n + 1, id, sender, kind, t->n + 1,
             (unsigned long long)(clock_date_to_ms(date) + 10 * CLOCK_HOUR_MS),
             header_extra ? "," : "", header_extra ? header_extra : "",
             body_json ? ",\"body\":" : "", body_json ? body_json : "");
    Tacnet__TimelineEntry *e =
        (Tacnet__TimelineEntry *)pbjson_fixture_message(&tacnet__timeline_entry__descriptor, buf);
    cr_assert_lt(t->n, MAX_EVENTS);
    t->e[t->n++] = e;
}

static void s_free(tl_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        tacnet__timeline_entry__free_unpacked(t->e[i], NULL);
    t->n = 0;
}

static casestate_result_t s_fold(tl_t *t, uint32_t today, const holidays_t *h)
{
    casestate_opts_t o = { .holidays = h, .now_ms = clock_date_to_ms(today) + 12 * CLOCK_HOUR_MS };
    casestate_result_t r;
    cr_assert_eq(casestate_fold(t->e, t->n, &o, &r), 0);
    cr_assert_not_null(r.state);
    return r;
}

static const Tacnet__DueItem *s_due(const casestate_result_t *r, const char *what)
{
    for (size_t i = 0; i < r->n_due; i++)
        if (strcmp(r->due[i]->what, what) == 0)
            return r->due[i];
    return NULL;
}

static void s_opened(tl_t *t)
{
    s_ev(t, 1, "school", "concern", 20261102, NULL,
         "{\"concern\":{\"category\":\"attendance\",\"summary\":\"Late most days.\"}}");
    s_ev(t, 2, "school", "referral", 20261103, "\"subject_agency\":\"social_care\"",
         "{\"referral\":{\"to_agency\":\"social_care\",\"category\":\"neglect\"}}");
}

Test(casestate, opener_leads_and_members_carry_named_contacts_and_levels)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "member_joined", 20261104, "\"subject_agency\":\"camhs\"",
         "{\"member_joined\":{\"named_contact\":{\"agency\":\"camhs\",\"initials\":\"RK\","
         "\"role\":\"practitioner\"},\"team\":\"Getting Help\",\"how_to_reach\":\"Duty line\"}}");
    s_ev(&t, 4, "social_care", "assessment", 20261105, "\"level_of_need\":2",
         "{\"assessment\":{\"type\":\"child_and_family\",\"level_of_need\":2}}");
    casestate_result_t r = s_fold(&t, 20261106, NULL);
    Tacnet__CaseState *s = r.state;
    cr_assert_not_null(s->lead);
    cr_assert_eq(s->lead->agency, TACNET__AGENCY__SCHOOL);
    cr_assert_eq(s->n_team, 3);
    int seen = 0;
    for (size_t i = 0; i < s->n_team; i++) {
        Tacnet__TeamMember *m = s->team[i];
        if (m->agency == TACNET__AGENCY__CAMHS) {
            cr_assert_not_null(m->named_contact);
            cr_assert_eq(m->named_contact->initials.len, 2);
            cr_assert_str_eq(m->how_to_reach, "Duty line");
            seen |= 1;
        }
        if (m->agency == TACNET__AGENCY__SOCIAL_CARE) {
            cr_assert_eq(m->level_of_need, 2);
            seen |= 2;
        }
    }
    cr_assert_eq(seen, 3);
    casestate_result_clear(&r);
    cr_assert_null(r.state);
    s_free(&t);
}

Test(casestate, lead_stays_until_the_hand_over_is_accepted_and_an_unaccepted_one_is_flagged)
{
    tl_t t = { 0 };
    s_opened(&t);
    /* Offered Friday 4 December 2026 10:00: five working days end Friday 11 December 10:00. */
    s_ev(&t, 3, "school", "lead_handover", 20261204, "\"subject_agency\":\"social_care\"",
         "{\"lead_handover\":{\"new_lead\":{\"agency\":\"social_care\",\"initials\":\"AW\"}}}");
    casestate_result_t r = s_fold(&t, 20261210, NULL);
    cr_assert_eq(r.state->lead->agency, TACNET__AGENCY__SCHOOL);
    cr_assert_not_null(r.state->pending_handover);
    const Tacnet__DueItem *d = s_due(&r, "hand-over");
    cr_assert_not_null(d);
    cr_assert_eq(d->overdue, 0);
    cr_assert_eq(d->owner, TACNET__AGENCY__SCHOOL);
    casestate_result_clear(&r);
    r = s_fold(&t, 20261214, NULL);
    cr_assert(s_due(&r, "hand-over")->overdue);
    cr_assert(r.state->pending_handover->overdue);
    cr_assert_eq(r.overdue_items, 1);
    casestate_result_clear(&r);

    s_ev(&t, 4, "social_care", "lead_accepted", 20261214, NULL,
         "{\"lead_accepted\":{\"lead\":{\"agency\":\"social_care\",\"initials\":\"AW\"}}}");
    r = s_fold(&t, 20261215, NULL);
    cr_assert_eq(r.state->lead->agency, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_null(r.state->pending_handover);
    cr_assert_null(s_due(&r, "hand-over"));
    casestate_result_clear(&r);
    s_free(&t);
}

/* The role of the team's named contacts, role TACNET__ROLE__..., of AGENCY (0: none there). */
static int s_contact_role(const Tacnet__CaseState *s, uint32_t agency)
{
    for (size_t i = 0; i < s->n_team; i++)
        if ((uint32_t)s->team[i]->agency == agency && s->team[i]->named_contact)
            return s->team[i]->named_contact->has_role ? (int)s->team[i]->named_contact->role : 0;
    return -1;
}

/* After a hand-over is accepted the team names one lead professional, the one who leads now:
 * the previous lead's named contact, who joined as lead professional, is a practitioner, and the
 * new lead's named contact (the same person the acceptance names) is the lead professional. */
Test(casestate, only_whoever_leads_now_is_the_lead_professional_in_the_team)
{
    tl_t t = { 0 };
    s_ev(&t, 1, "social_care", "concern", 20261102, NULL,
         "{\"concern\":{\"category\":\"neglect\"}}");
    s_ev(&t, 2, "social_care", "member_joined", 20261102, "\"subject_agency\":\"social_care\"",
         "{\"member_joined\":{\"named_contact\":{\"agency\":\"social_care\",\"initials\":"
         "\"AW\",\"role\":\"lead_professional\",\"job_title\":\"Social worker\"}}}");
    s_ev(&t, 3, "social_care", "member_joined", 20261103, "\"subject_agency\":\"camhs\"",
         "{\"member_joined\":{\"named_contact\":{\"agency\":\"camhs\",\"initials\":\"RK\","
         "\"role\":\"practitioner\",\"job_title\":\"CAMHS clinician\"}}}");
    casestate_result_t r = s_fold(&t, 20261104, NULL);
    cr_assert_eq(s_contact_role(r.state, TACNET__AGENCY__SOCIAL_CARE),
                 TACNET__ROLE__LEAD_PROFESSIONAL, "social care leads: AW is the lead professional");
    cr_assert_eq(s_contact_role(r.state, TACNET__AGENCY__CAMHS), TACNET__ROLE__PRACTITIONER);
    casestate_result_clear(&r);

    s_ev(&t, 4, "social_care", "lead_handover", 20261104, "\"subject_agency\":\"camhs\"",
         "{\"lead_handover\":{\"new_lead\":{\"agency\":\"camhs\",\"initials\":\"RK\"}}}");
    r = s_fold(&t, 20261105, NULL);
    cr_assert_eq(s_contact_role(r.state, TACNET__AGENCY__SOCIAL_CARE),
                 TACNET__ROLE__LEAD_PROFESSIONAL, "an offer alone moves nothing");
    cr_assert_eq(s_contact_role(r.state, TACNET__AGENCY__CAMHS), TACNET__ROLE__PRACTITIONER);
    casestate_result_clear(&r);

    s_ev(&t, 5, "camhs", "lead_accepted", 20261105, NULL,
         "{\"lead_accepted\":{\"lead\":{\"agency\":\"camhs\",\"initials\":\"RK\","
         "\"job_title\":\"CAMHS clinician\"}}}");
    r = s_fold(&t, 20261106, NULL);
    cr_assert_eq(r.state->lead->agency, TACNET__AGENCY__CAMHS);
    cr_assert_eq(s_contact_role(r.state, TACNET__AGENCY__CAMHS), TACNET__ROLE__LEAD_PROFESSIONAL,
                 "RK leads now");
    cr_assert_eq(s_contact_role(r.state, TACNET__AGENCY__SOCIAL_CARE), TACNET__ROLE__PRACTITIONER,
                 "AW no longer leads");
    casestate_result_clear(&r);

    /* Social care names AW again, as lead professional: still not the lead, so not shown as one. */
    s_ev(&t, 6, "social_care", "member_joined", 20261106, "\"subject_agency\":\"social_care\"",
         "{\"member_joined\":{\"named_contact\":{\"agency\":\"social_care\",\"initials\":"
         "\"AW\",\"role\":\"lead_professional\"}}}");
    r = s_fold(&t, 20261107, NULL);
    cr_assert_eq(s_contact_role(r.state, TACNET__AGENCY__SOCIAL_CARE), TACNET__ROLE__PRACTITIONER);
    cr_assert_eq(s_contact_role(r.state, TACNET__AGENCY__CAMHS), TACNET__ROLE__LEAD_PROFESSIONAL);
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, team_around_family_review_is_due_six_weeks_after_the_last_review)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "care_plan", 20261102, NULL,
         "{\"care_plan\":{\"type\":\"team_around_family\",\"start_date\":\"2026-11-02\"}}");
    casestate_result_t r = s_fold(&t, 20261214, NULL);
    const Tacnet__DueItem *d = s_due(&r, "review");
    cr_assert_not_null(d);
    cr_assert_eq(d->due_date, 20261214);
    cr_assert_eq(d->overdue, 0);
    casestate_result_clear(&r);
    r = s_fold(&t, 20261215, NULL);
    cr_assert(s_due(&r, "review")->overdue);
    casestate_result_clear(&r);

    s_ev(&t, 4, "social_care", "meeting_outcome", 20261210, NULL,
         "{\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"held_date\":\"2026-12-10\"}}");
    r = s_fold(&t, 20261215, NULL);
    d = s_due(&r, "review");
    cr_assert_eq(d->due_date, 20270121);
    cr_assert_eq(d->overdue, 0);
    cr_assert_eq(r.state->plan->last_review_date, 20261210);
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, child_protection_first_core_group_counts_working_days_past_bank_holidays)
{
    holidays_t *h = holidays_new();
    cr_assert_eq(holidays_add(h, 20261225), 0);
    cr_assert_eq(holidays_add(h, 20261228), 0);
    cr_assert_eq(holidays_add(h, 20270101), 0);
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "care_plan", 20261221, NULL,
         "{\"care_plan\":{\"type\":\"child_protection\",\"start_date\":\"2026-12-21\"}}");
    casestate_result_t r = s_fold(&t, 20270107, h);
    const Tacnet__DueItem *d = s_due(&r, "review");
    cr_assert_eq(d->due_date, 20270107);
    cr_assert_eq(d->overdue, 0);
    casestate_result_clear(&r);
    s_free(&t);
    holidays_destroy(&h);
}

Test(casestate, open_actions_past_due_are_flagged_to_their_owner_until_done)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "meeting_outcome", 20261120, NULL,
         "{\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"held_date\":\"2026-11-20\",\"actions\":[{\"action_id\":"
         "\"a1a2a3a4a5a6a7a8a9aaabacadaeaf00\",\"description\":\"Breakfast club place\","
         "\"owner_agency\":\"school\",\"due_date\":\"2026-11-27\",\"status\":\"open\"},"
         "{\"action_id\":\"b1b2b3b4b5b6b7b8b9babbbcbdbebf00\",\"description\":\"Sleep sessions\","
         "\"owner_agency\":\"camhs\",\"due_date\":\"2026-12-11\",\"status\":\"open\"}]}}");
    casestate_result_t r = s_fold(&t, 20261130, NULL);
    cr_assert_eq(r.state->n_actions, 2);
    cr_assert_eq(r.state->n_meetings, 1);
    cr_assert_eq(r.overdue_items, 1);
    const Tacnet__DueItem *d = s_due(&r, "action");
    cr_assert(d->overdue);
    cr_assert_eq(d->owner, TACNET__AGENCY__SCHOOL);
    cr_assert_str_eq(d->label, "Breakfast club place");
    casestate_result_clear(&r);

    s_ev(&t, 4, "school", "action_update", 20261130, NULL,
         "{\"action_update\":{\"action_id\":\"a1a2a3a4a5a6a7a8a9aaabacadaeaf00\","
         "\"status\":\"done\"}}");
    r = s_fold(&t, 20261201, NULL);
    cr_assert_eq(r.overdue_items, 0);
    d = s_due(&r, "action");
    cr_assert_eq(d->owner, TACNET__AGENCY__CAMHS);
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, a_missed_planned_parent_contact_is_flagged_to_the_named_contact)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "communication_plan", 20261102, NULL,
         "{\"communication_plan\":{\"named_contact\":{\"agency\":\"health_visiting\","
         "\"initials\":\"PD\"},\"every_days\":14,\"start_date\":\"2026-11-02\"}}");
    s_ev(&t, 4, "health_visiting", "contact_logged", 20261116, NULL,
         "{\"contact_logged\":{\"with\":\"mother\",\"contact_date\":\"2026-11-16\","
         "\"planned\":true,\"successful\":false}}");
    casestate_result_t r = s_fold(&t, 20261117, NULL);
    const Tacnet__DueItem *d = s_due(&r, "parent contact");
    cr_assert_not_null(d);
    cr_assert(d->overdue, "an unanswered attempt does not keep the plan");
    cr_assert_eq(d->owner, TACNET__AGENCY__HEALTH_VISITING);
    casestate_result_clear(&r);

    s_ev(&t, 5, "health_visiting", "contact_logged", 20261117, NULL,
         "{\"contact_logged\":{\"with\":\"mother\",\"contact_date\":\"2026-11-17\","
         "\"planned\":true,\"successful\":true}}");
    r = s_fold(&t, 20261118, NULL);
    d = s_due(&r, "parent contact");
    cr_assert_eq(d->overdue, 0);
    cr_assert_eq(r.state->last_planned_contact_date, 20261117);
    casestate_result_clear(&r);
    s_free(&t);
}

/* Health visiting visited on 14 November; social care's communication plan started on the 20th.
 * The visit kept no plan: there is no last planned contact until one on or after the start, the
 * first contact is due a fortnight from the start, and a later plan starts afresh. */
Test(casestate, a_contact_before_the_communication_plan_started_is_not_its_last_contact)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "health_visiting", "contact_logged", 20261114, NULL,
         "{\"contact_logged\":{\"with\":\"mother\",\"contact_date\":\"2026-11-14\","
         "\"planned\":true,\"successful\":true}}");
    s_ev(&t, 4, "social_care", "communication_plan", 20261120, NULL,
         "{\"communication_plan\":{\"named_contact\":{\"agency\":\"social_care\","
         "\"initials\":\"AW\"},\"every_days\":14,\"start_date\":\"2026-11-20\"}}");
    casestate_result_t r = s_fold(&t, 20261121, NULL);
    cr_assert_not(r.state->has_last_planned_contact_date, "last contact %u",
                  r.state->last_planned_contact_date);
    const Tacnet__DueItem *d = s_due(&r, "parent contact");
    cr_assert_not_null(d);
    cr_assert_eq(d->due_date, 20261204u);
    casestate_result_clear(&r);

    s_ev(&t, 5, "social_care", "contact_logged", 20261121, NULL,
         "{\"contact_logged\":{\"with\":\"mother\",\"contact_date\":\"2026-11-21\","
         "\"planned\":true,\"successful\":true}}");
    r = s_fold(&t, 20261122, NULL);
    cr_assert(r.state->has_last_planned_contact_date);
    cr_assert_eq(r.state->last_planned_contact_date, 20261121);
    casestate_result_clear(&r);

    s_ev(&t, 6, "social_care", "communication_plan", 20261201, NULL,
         "{\"communication_plan\":{\"named_contact\":{\"agency\":\"social_care\","
         "\"initials\":\"AW\"},\"every_days\":7,\"start_date\":\"2026-12-01\"}}");
    r = s_fold(&t, 20261202, NULL);
    cr_assert_not(r.state->has_last_planned_contact_date, "a contact under the plan before");
    casestate_result_clear(&r);
    s_free(&t);
}

/* The tester's "parent contact due 2026-12-04 00:00 (overdue by 22h 20m)" with no overdue mark:
 * the item is due by the end of the 4th in the partnership's zone, and the due item, its overdue
 * flag and the overdue count say the same thing. */
Test(casestate, a_date_item_is_due_by_the_end_of_its_day_in_the_due_list_and_the_counts)
{
    char why[128];
    cr_assert_eq(zone_set("Europe/London", why, sizeof(why)), 0, "%s", why);
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "communication_plan", 20261120, NULL,
         "{\"communication_plan\":{\"named_contact\":{\"agency\":\"health_visiting\","
         "\"initials\":\"PD\"},\"every_days\":14,\"start_date\":\"2026-11-20\"}}");
    casestate_opts_t o = { .now_ms = clock_date_to_ms(20261204) + 22 * CLOCK_HOUR_MS + 20 * 60000 };
    casestate_result_t r;
    cr_assert_eq(casestate_fold(t.e, t.n, &o, &r), 0);
    const Tacnet__DueItem *d = s_due(&r, "parent contact");
    cr_assert_not_null(d);
    cr_assert(d->has_due_date);
    cr_assert_eq(d->due_date, 20261204u);
    cr_assert_eq(d->due_ms, clock_date_to_ms(20261205), "due by the end of the 4th");
    cr_assert_eq(d->overdue, 0);
    cr_assert_eq(r.overdue_items, 0);
    casestate_result_clear(&r);
    o.now_ms = clock_date_to_ms(20261205) + 10 * 60000;
    cr_assert_eq(casestate_fold(t.e, t.n, &o, &r), 0);
    d = s_due(&r, "parent contact");
    cr_assert(d->overdue);
    cr_assert_eq(r.overdue_items, 1);
    casestate_result_clear(&r);
    s_free(&t);
}

/* A view lacking a class (family support without health detail) may not hold the minutes of a
 * meeting asked for: past its wanted-by date it is not called overdue there. A full view still
 * flags it. */
Test(casestate, a_partial_view_does_not_call_a_requested_meeting_overdue)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "meeting_requested", 20261110, NULL,
         "{\"meeting_requested\":{\"meeting_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
         "\"purpose\":\"First team around the family meeting\","
         "\"wanted_by_date\":\"2026-11-26\"}}");
    casestate_opts_t o = { .now_ms = clock_date_to_ms(20261204) + 12 * CLOCK_HOUR_MS };
    casestate_result_t r;
    cr_assert_eq(casestate_fold(t.e, t.n, &o, &r), 0);
    const Tacnet__DueItem *d = s_due(&r, "meeting");
    cr_assert_not_null(d);
    cr_assert(d->overdue);
    cr_assert_eq(r.overdue_items, 1);
    casestate_result_clear(&r);
    o.partial = 1;
    cr_assert_eq(casestate_fold(t.e, t.n, &o, &r), 0);
    cr_assert_null(s_due(&r, "meeting"), "minutes may be at a class this view lacks");
    cr_assert_eq(r.overdue_items, 0);
    casestate_result_clear(&r);
    /* Before its date it is still due, a countdown, in a partial view too. */
    o.now_ms = clock_date_to_ms(20261120);
    cr_assert_eq(casestate_fold(t.e, t.n, &o, &r), 0);
    cr_assert_not_null(s_due(&r, "meeting"));
    casestate_result_clear(&r);
    s_free(&t);
}

/* A schedule arriving after the minutes (from a view that lacks them) is a date for a further
 * meeting: the held meeting is not shown as scheduled again. */
Test(casestate, a_schedule_after_the_minutes_is_a_further_meeting_not_this_one)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "meeting_requested", 20261110, NULL,
         "{\"meeting_requested\":{\"meeting_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
         "\"purpose\":\"First meeting\"}}");
    s_ev(&t, 4, "social_care", "meeting_outcome", 20261120, NULL,
         "{\"meeting_outcome\":{\"meeting_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
         "\"held_date\":\"2026-11-20\"}}");
    s_ev(&t, 5, "school", "meeting_scheduled", 20261204, NULL,
         "{\"meeting_scheduled\":{\"meeting_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
         "\"starts_at_ms\":1797760800000}}");
    casestate_result_t r = s_fold(&t, 20261204, NULL);
    cr_assert_eq(r.state->n_meetings, 1);
    const Tacnet__MeetingView *m = r.state->meetings[0];
    cr_assert_not_null(m->outcome);
    cr_assert_null(m->scheduled, "the held meeting is not re-dated");
    cr_assert_not_null(m->further);
    cr_assert_eq(m->further->starts_at_ms, 1797760800000ull);
    cr_assert(m->has_further_by);
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, goal_progress_is_change_from_the_baseline_score)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "camhs", "care_plan", 20261116, NULL,
         "{\"care_plan\":{\"type\":\"capa_partnership\",\"review_interval_days\":42,"
         "\"start_date\":\"2026-11-16\",\"goals\":[{\"goal_id\":1,\"description\":\"Sleep\"},"
         "{\"goal_id\":2,\"description\":\"On time\"},{\"goal_id\":3,\"description\":\"New\"}]}}");
    s_ev(&t, 4, "camhs", "outcome_measure", 20261116, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"informant\":\"self_report\",\"values\":[2,3],"
         "\"goal_ids\":[1,2],\"baseline\":true}}");
    s_ev(&t, 5, "camhs", "outcome_measure", 20261214, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"informant\":\"self_report\","
         "\"values\":[5,2,4],\"goal_ids\":[1,2,3]}}");
    casestate_result_t r = s_fold(&t, 20261215, NULL);
    Tacnet__PlanView *p = r.state->plan;
    cr_assert_eq(p->n_progress, 3);
    cr_assert_eq(p->progress[0]->change, 3);
    cr_assert_eq(p->progress[1]->change, -1);
    cr_assert(p->progress[1]->has_change);
    cr_assert_eq(p->progress[2]->has_change, 0, "goal 3 was set after the baseline");
    cr_assert_eq(p->progress[2]->latest_score, 4);
    cr_assert_eq(r.state->n_measures, 2);
    casestate_result_clear(&r);
    s_free(&t);
}

/* A GBO record scores the goals it names, not the plan: a later record scoring other goals
 * leaves each goal's own latest score standing, and a goal first scored after the baseline
 * measure takes that first score as its baseline. */
Test(casestate, each_goal_keeps_its_own_latest_score_across_gbo_records)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "care_plan", 20261116, NULL,
         "{\"care_plan\":{\"type\":\"team_around_family\",\"start_date\":\"2026-11-16\","
         "\"goals\":[{\"goal_id\":1,\"description\":\"On time\"},"
         "{\"goal_id\":2,\"description\":\"Sleep\"}]}}");
    s_ev(&t, 4, "social_care", "outcome_measure", 20261116, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[3],\"goal_ids\":[1],"
         "\"baseline\":true}}");
    /* From a daemon that did not check the plan's goals: goal 3 is no goal of this plan. */
    s_ev(&t, 5, "social_care", "outcome_measure", 20261123, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[9],\"goal_ids\":[3]}}");
    casestate_result_t r = s_fold(&t, 20261124, NULL);
    const Tacnet__GoalProgress *g1 = r.state->plan->progress[0], *g2 = r.state->plan->progress[1];
    cr_assert_eq(g1->goal_id, 1);
    cr_assert(g1->has_baseline_score && g1->has_latest_score, "goal 1 lost its score");
    cr_assert_eq(g1->baseline_score, 3);
    cr_assert_eq(g1->latest_score, 3);
    cr_assert_not(g1->has_change, "scored once: no change yet");
    cr_assert_not(g2->has_baseline_score || g2->has_latest_score, "goal 2 was never scored");
    casestate_result_clear(&r);

    s_ev(&t, 6, "social_care", "outcome_measure", 20261130, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[4],\"goal_ids\":[2]}}");
    s_ev(&t, 7, "social_care", "outcome_measure", 20261207, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[6],\"goal_ids\":[1]}}");
    s_ev(&t, 8, "social_care", "outcome_measure", 20261214, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[7],\"goal_ids\":[2]}}");
    r = s_fold(&t, 20261215, NULL);
    g1 = r.state->plan->progress[0];
    g2 = r.state->plan->progress[1];
    cr_assert_eq(g1->baseline_score, 3);
    cr_assert_eq(g1->latest_score, 6, "goal 1's own latest, not the last record's");
    cr_assert(g1->has_change);
    cr_assert_eq(g1->change, 3);
    cr_assert_eq(g2->baseline_score, 4, "goal 2's first score is its baseline");
    cr_assert_eq(g2->latest_score, 7);
    cr_assert(g2->has_change);
    cr_assert_eq(g2->change, 3);
    casestate_result_clear(&r);
    s_free(&t);
}

/* GBO scores count for the plan they name, in the order they were measured: a score entered late
 * for an earlier session is not the latest, and a new plan's goal 1 starts unscored though the
 * plan before it had a goal 1 too. */
Test(casestate, gbo_scores_count_for_their_own_plan_in_the_order_they_were_measured)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "care_plan", 20261116, NULL,
         "{\"care_plan\":{\"type\":\"team_around_family\",\"start_date\":\"2026-11-16\","
         "\"goals\":[{\"goal_id\":1,\"description\":\"On time\"}]}}");
    const char *taf = "\"plan_id\":\"03030303030303030303030303030303\"";
    char body[512];
    snprintf(body, sizeof(body),
             "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[3],\"goal_ids\":[1],"
             "\"measured_date\":\"2026-11-20\",\"baseline\":true,%s}}",
             taf);
    s_ev(&t, 4, "social_care", "outcome_measure", 20261120, NULL, body);
    snprintf(body, sizeof(body),
             "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[6],\"goal_ids\":[1],"
             "\"measured_date\":\"2026-11-27\",%s}}",
             taf);
    s_ev(&t, 5, "social_care", "outcome_measure", 20261127, NULL, body);
    /* Entered on the 28th for the session of the 23rd. */
    snprintf(body, sizeof(body),
             "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[4],\"goal_ids\":[1],"
             "\"measured_date\":\"2026-11-23\",%s}}",
             taf);
    s_ev(&t, 6, "social_care", "outcome_measure", 20261128, NULL, body);
    casestate_result_t r = s_fold(&t, 20261130, NULL);
    const Tacnet__GoalProgress *g = r.state->plan->progress[0];
    cr_assert_eq(g->baseline_score, 3);
    cr_assert_eq(g->latest_score, 6, "the score measured last (27 Nov), not the one sent last");
    cr_assert_eq(g->change, 3);
    cr_assert(r.state->measures[0]->has_plan_id, "the measure view names its plan");
    casestate_result_clear(&r);

    /* The case steps up to a child in need plan: it replaces the TAF plan, with a goal 1 of its
     * own that nobody has scored yet. */
    s_ev(&t, 7, "social_care", "care_plan", 20261201, NULL,
         "{\"care_plan\":{\"type\":\"child_in_need\",\"start_date\":\"2026-12-01\","
         "\"goals\":[{\"goal_id\":1,\"description\":\"Safe at home\"}]}}");
    r = s_fold(&t, 20261202, NULL);
    g = r.state->plan->progress[0];
    cr_assert_eq(r.state->plan->plan->type, TACNET__PLAN_TYPE__CHILD_IN_NEED);
    cr_assert_not(g->has_latest_score || g->has_baseline_score,
                  "the new plan's goal 1 took the TAF plan's scores");
    casestate_result_clear(&r);

    /* A measure sent before measures named their plan still counts for the owner's plan. */
    s_ev(&t, 8, "social_care", "outcome_measure", 20261203, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[2],\"goal_ids\":[1],"
         "\"measured_date\":\"2026-12-03\"}}");
    r = s_fold(&t, 20261204, NULL);
    g = r.state->plan->progress[0];
    cr_assert(g->has_latest_score);
    cr_assert_eq(g->latest_score, 2);
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, sdq_measure_is_scored_with_its_band)
{
    tl_t t = { 0 };
    s_opened(&t);
    /* 25 ticks of "Somewhat true": every scale scores 5, total difficulties 20. */
    s_ev(&t, 3, "camhs", "outcome_measure", 20261116, NULL,
         "{\"outcome_measure\":{\"tool\":\"sdq\",\"informant\":\"parent_report\",\"values\":"
         "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}}");
    casestate_result_t r = s_fold(&t, 20261116, NULL);
    cr_assert_eq(r.state->n_measures, 1);
    Tacnet__MeasureView *m = r.state->measures[0];
    cr_assert_eq(m->total, 20);
    cr_assert_eq(m->n_subscales, 5);
    cr_assert_not_null(m->band);
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, escalation_follows_its_notices_and_closes)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "school", "disagreement", 20261123, "\"urgent\":true",
         "{\"disagreement\":{\"topic\":\"Level of need\",\"child_safety\":\"Safe today.\"}}");
    uint64_t dl = clock_date_to_ms(20261124) + 10 * CLOCK_HOUR_MS;
    char notice[512];
    snprintf(notice, sizeof(notice),
             "{\"escalation_notice\":{\"escalation_id\":\"03030303030303030303030303030303\","
             "\"event\":\"esc_opened\",\"stage\":1,\"audience\":\"practitioner\","
             "\"deadline_ms\":%llu,\"parties\":[\"school\",\"social_care\"]}}",
             (unsigned long long)dl);
    s_ev(&t, 4, "broker", "escalation_notice", 20261123, NULL, notice);
    casestate_result_t r = s_fold(&t, 20261123, NULL);
    cr_assert_eq(r.open_escalations, 1);
    Tacnet__EscalationView *e = r.state->escalations[0];
    cr_assert_eq(e->stage, 1);
    cr_assert_eq(e->raised_by, TACNET__AGENCY__SCHOOL);
    cr_assert(e->urgent);
    cr_assert_not_null(e->disagreement);
    cr_assert_eq(e->n_parties, 2);
    const Tacnet__DueItem *d = s_due(&r, "escalation");
    cr_assert_eq(d->due_ms, dl);
    cr_assert_eq(d->overdue, 0);
    casestate_result_clear(&r);

    snprintf(notice, sizeof(notice),
             "{\"escalation_notice\":{\"escalation_id\":\"03030303030303030303030303030303\","
             "\"event\":\"esc_advanced\",\"stage\":2,\"audience\":\"line_manager\","
             "\"deadline_ms\":%llu}}",
             (unsigned long long)(dl + 24 * CLOCK_HOUR_MS));
    s_ev(&t, 5, "broker", "escalation_notice", 20261124, NULL, notice);
    s_ev(&t, 6, "social_care", "escalation_resolved", 20261124,
         "\"refers_to\":\"03030303030303030303030303030303\"",
         "{\"escalation_resolved\":{\"outcome\":\"Strategy discussion held\","
         "\"child_safety\":\"Safe.\",\"agreed_level_of_need\":3}}");
    s_ev(&t, 7, "school", "escalation_ack", 20261124,
         "\"refers_to\":\"03030303030303030303030303030303\"",
         "{\"escalation_ack\":{\"accepted\":true}}");
    s_ev(&t, 8, "broker", "escalation_notice", 20261124, NULL,
         "{\"escalation_notice\":{\"escalation_id\":\"03030303030303030303030303030303\","
         "\"event\":\"esc_closed\",\"stage\":2,\"stage_took_ms\":[86400000,3600000]}}");
    r = s_fold(&t, 20261125, NULL);
    e = r.state->escalations[0];
    cr_assert_eq(e->state, TACNET__ESCALATION_EVENT__ESC_CLOSED);
    cr_assert_eq(e->n_history, 3);
    cr_assert_not_null(e->resolution);
    cr_assert_eq(e->n_acknowledged, 1);
    cr_assert_eq(r.open_escalations, 0);
    cr_assert_null(s_due(&r, "escalation"));
    casestate_result_clear(&r);
    s_free(&t);
}

/* A resolution a party does not accept: no acknowledgement is counted for it, and once the
 * broker takes the dispute to the next stage the refused resolution and its acknowledgements
 * are gone; a new resolution is acknowledged afresh. */
Test(casestate, a_refused_resolution_leaves_the_view_with_the_stage_it_ended)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "school", "disagreement", 20261123, NULL,
         "{\"disagreement\":{\"topic\":\"Level of need\",\"child_safety\":\"Safe today.\"}}");
    s_ev(&t, 4, "broker", "escalation_notice", 20261123, NULL,
         "{\"escalation_notice\":{\"escalation_id\":\"03030303030303030303030303030303\","
         "\"event\":\"esc_opened\",\"stage\":1,\"parties\":[\"school\",\"social_care\"]}}");
    s_ev(&t, 5, "social_care", "escalation_resolved", 20261124,
         "\"refers_to\":\"03030303030303030303030303030303\"",
         "{\"escalation_resolved\":{\"outcome\":\"Stay at early "
         "help\",\"child_safety\":\"Safe.\"}}");
    s_ev(&t, 6, "social_care", "escalation_ack", 20261124,
         "\"refers_to\":\"03030303030303030303030303030303\",\"resolution_accepted\":true",
         "{\"escalation_ack\":{\"accepted\":true}}");
    s_ev(&t, 7, "school", "escalation_ack", 20261124,
         "\"refers_to\":\"03030303030303030303030303030303\",\"resolution_accepted\":false",
         "{\"escalation_ack\":{\"accepted\":false}}");
    casestate_result_t r = s_fold(&t, 20261124, NULL);
    Tacnet__EscalationView *e = r.state->escalations[0];
    cr_assert_eq(e->n_acknowledged, 1, "the school's refusal counted as an acknowledgement");
    cr_assert_eq(e->acknowledged[0], TACNET__AGENCY__SOCIAL_CARE);
    casestate_result_clear(&r);
    s_ev(&t, 8, "broker", "escalation_notice", 20261124, NULL,
         "{\"escalation_notice\":{\"escalation_id\":\"03030303030303030303030303030303\","
         "\"event\":\"esc_advanced\",\"stage\":2,\"audience\":\"line_manager\"}}");
    r = s_fold(&t, 20261125, NULL);
    e = r.state->escalations[0];
    cr_assert_eq(e->stage, 2);
    cr_assert_null(e->resolution, "the refused resolution is still shown");
    cr_assert_eq(e->n_acknowledged, 0);
    /* ... but kept in the record: what was proposed, by whom, and who did not accept it. */
    cr_assert_eq(e->n_refused, 1);
    cr_assert_eq(e->refused[0]->stage, 1);
    cr_assert_str_eq(e->refused[0]->resolution->outcome, "Stay at early help");
    cr_assert_eq(e->refused[0]->proposed_by, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_eq(e->refused[0]->n_refused_by, 1);
    cr_assert_eq(e->refused[0]->refused_by[0], TACNET__AGENCY__SCHOOL);
    casestate_result_clear(&r);
    s_ev(&t, 9, "social_care", "escalation_resolved", 20261126,
         "\"refers_to\":\"03030303030303030303030303030303\"",
         "{\"escalation_resolved\":{\"outcome\":\"Step up to level "
         "3\",\"child_safety\":\"Safe.\"}}");
    r = s_fold(&t, 20261126, NULL);
    e = r.state->escalations[0];
    cr_assert_not_null(e->resolution);
    cr_assert_str_eq(e->resolution->outcome, "Step up to level 3");
    cr_assert_eq(e->n_acknowledged, 0);
    casestate_result_clear(&r);
    /* At the last stage no stage follows: a party not accepting has answered all the same (the
     * broker counts it as an acknowledgement and the partnership's decision stands). */
    s_ev(&t, 10, "broker", "escalation_notice", 20261127, NULL,
         "{\"escalation_notice\":{\"escalation_id\":\"03030303030303030303030303030303\","
         "\"event\":\"esc_advanced\",\"stage\":4,\"audience\":\"partnership_lead\"}}");
    s_ev(&t, 11, "social_care", "escalation_resolved", 20261128,
         "\"refers_to\":\"03030303030303030303030303030303\"",
         "{\"escalation_resolved\":{\"outcome\":\"Child in need\",\"child_safety\":\"Safe.\"}}");
    s_ev(&t, 12, "school", "escalation_ack", 20261128,
         "\"refers_to\":\"03030303030303030303030303030303\",\"resolution_accepted\":false",
         "{\"escalation_ack\":{\"accepted\":false}}");
    r = s_fold(&t, 20261128, NULL);
    e = r.state->escalations[0];
    cr_assert_eq(e->stage, 4);
    cr_assert_eq(e->n_acknowledged, 1, "the last stage's refusal is an answer");
    cr_assert_eq(e->acknowledged[0], TACNET__AGENCY__SCHOOL);
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, partnership_ratings_keep_their_history_and_a_closed_case_owes_nothing)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "school", "partnership_rating", 20261110, NULL,
         "{\"partnership_rating\":{\"about\":\"social_care\",\"rung\":4}}");
    s_ev(&t, 4, "school", "partnership_rating", 20261210, NULL,
         "{\"partnership_rating\":{\"about\":\"social_care\",\"rung\":7}}");
    s_ev(&t, 5, "social_care", "care_plan", 20261102, NULL,
         "{\"care_plan\":{\"type\":\"team_around_family\",\"start_date\":\"2026-11-02\"}}");
    casestate_result_t r = s_fold(&t, 20270301, NULL);
    cr_assert_eq(r.state->n_ratings, 2);
    cr_assert_eq(r.state->ratings[1]->rating->rung, 7);
    cr_assert_eq(r.overdue_items, 1);
    casestate_result_clear(&r);
    s_ev(&t, 6, "social_care", "case_closed", 20261215, NULL,
         "{\"case_closed\":{\"reason\":\"needs_met\"}}");
    r = s_fold(&t, 20270301, NULL);
    cr_assert_not_null(r.state->closed);
    cr_assert_eq(r.n_due, 0);
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, null_arguments_are_refused)
{
    casestate_opts_t o = { 0 };
    casestate_result_t r;
    cr_assert_eq(casestate_fold(NULL, 1, &o, &r), TACNET_EINVAL);
    cr_assert_eq(casestate_fold(NULL, 0, NULL, &r), TACNET_EINVAL);
}

Test(casestate, a_disagreement_that_joined_an_open_escalation_shows_inside_it)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "decision", 20261120, NULL,
         "{\"decision\":{\"topic\":\"Level of need\",\"chosen\":\"Early help\"}}");
    /* The level-of-need trigger opened an escalation between the school and social care... */
    s_ev(&t, 4, "broker", "escalation_notice", 20261123, NULL,
         "{\"escalation_notice\":{\"escalation_id\":\"09090909090909090909090909090909\","
         "\"event\":\"esc_opened\",\"stage\":1,\"audience\":\"practitioner\","
         "\"deadline_ms\":1795000000000,\"parties\":[\"school\",\"social_care\"],"
         "\"automatic\":true}}");
    /* ...so the school's challenge of the decision joins it and gets no notice of its own. */
    s_ev(&t, 5, "school", "disagreement", 20261123,
         "\"refers_to\":\"03030303030303030303030303030303\"",
         "{\"disagreement\":{\"topic\":\"Level of need\",\"child_safety\":\"Safe today.\"}}");
    casestate_result_t r = s_fold(&t, 20261123, NULL);
    cr_assert_eq(r.state->n_escalations, 1);
    cr_assert_eq(r.open_escalations, 1);
    Tacnet__EscalationView *e = r.state->escalations[0];
    cr_assert(e->automatic);
    cr_assert_eq(e->escalation_id.data[0], 0x09);
    cr_assert_eq(e->n_joined, 1);
    cr_assert_eq(e->joined[0]->raised_by, TACNET__AGENCY__SCHOOL);
    cr_assert_not_null(e->joined[0]->disagreement);
    cr_assert_eq(e->joined[0]->msg_id.data[0], 0x05);
    casestate_result_clear(&r);

    /* A challenge between two agencies without an open escalation stays its own. */
    s_ev(&t, 6, "camhs", "disagreement", 20261124,
         "\"refers_to\":\"03030303030303030303030303030303\"",
         "{\"disagreement\":{\"topic\":\"Plan\",\"child_safety\":\"Safe.\"}}");
    r = s_fold(&t, 20261124, NULL);
    cr_assert_eq(r.state->n_escalations, 2);
    casestate_result_clear(&r);
    s_free(&t);
}

/* School challenges social care's decision; CAMHS challenges the same decision while that
 * escalation is open: the broker joins it (no escalation of its own). */
static void s_camhs_joins(tl_t *t, int with_notice)
{
    s_opened(t);
    s_ev(t, 3, "social_care", "decision", 20261120, NULL,
         "{\"decision\":{\"topic\":\"Level of need\",\"chosen\":\"Early help\"}}");
    s_ev(t, 4, "school", "disagreement", 20261121,
         "\"refers_to\":\"03030303030303030303030303030303\"",
         "{\"disagreement\":{\"topic\":\"Level of need\",\"child_safety\":\"Safe.\"}}");
    s_ev(t, 5, "broker", "escalation_notice", 20261121, NULL,
         "{\"escalation_notice\":{\"escalation_id\":\"04040404040404040404040404040404\","
         "\"event\":\"esc_opened\",\"stage\":1,\"audience\":\"practitioner\","
         "\"deadline_ms\":1795000000000,\"parties\":[\"school\",\"social_care\"]}}");
    s_ev(t, 6, "camhs", "disagreement", 20261122,
         "\"refers_to\":\"03030303030303030303030303030303\"",
         "{\"disagreement\":{\"topic\":\"Same decision\",\"child_safety\":\"Safe.\"}}");
    if (with_notice)
        s_ev(t, 7, "broker", "escalation_notice", 20261122, NULL,
             "{\"escalation_notice\":{\"escalation_id\":\"04040404040404040404040404040404\","
             "\"event\":\"esc_opened\",\"stage\":1,\"audience\":\"practitioner\","
             "\"deadline_ms\":1795000000000,\"parties\":[\"school\",\"social_care\","
             "\"camhs\"],\"joined\":\"06060606060606060606060606060606\","
             "\"joined_by\":\"camhs\"}}");
}

Test(casestate, a_disagreement_about_the_same_event_joins_the_open_escalation)
{
    for (int with_notice = 0; with_notice <= 1; with_notice++) {
        tl_t t = { 0 };
        s_camhs_joins(&t, with_notice);
        casestate_result_t r = s_fold(&t, 20261123, NULL);
        cr_assert_eq(r.state->n_escalations, 1, "notice %d", with_notice);
        cr_assert_eq(r.open_escalations, 1);
        Tacnet__EscalationView *e = r.state->escalations[0];
        cr_assert_eq(e->escalation_id.data[0], 0x04);
        cr_assert_eq(e->raised_by, TACNET__AGENCY__SCHOOL);
        cr_assert_eq(e->n_joined, 1);
        cr_assert_eq(e->joined[0]->raised_by, TACNET__AGENCY__CAMHS);
        cr_assert_str_eq(e->joined[0]->disagreement->topic, "Same decision");
        cr_assert_eq(e->n_parties, with_notice ? 3u : 2u, "the broker's notice names the joiner");
        cr_assert_eq(e->n_history_at_ms, e->n_history, "each notice dated, for the history");
        /* CAMHS is a party by the broker's notice: it may answer the escalation */
        escalation_rights_t rt = escalation_rights_of(e, TACNET__AGENCY__CAMHS, 0);
        cr_assert_eq(rt.respond, with_notice);
        casestate_result_clear(&r);
        s_free(&t);
    }
}

Test(casestate, a_meeting_is_chaired_by_the_named_senior_else_the_lead_professional)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "meeting_requested", 20261116, NULL,
         "{\"meeting_requested\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"purpose\":\"Review\",\"wanted_by_date\":\"2026-11-26\"}}");
    s_ev(&t, 4, "school", "meeting_requested", 20261116, NULL,
         "{\"meeting_requested\":{\"meeting_id\":\"1112131415161718191a1b1c1d1e1f20\","
         "\"purpose\":\"Network\",\"suggested_chair\":{\"agency\":\"social_care\","
         "\"initials\":\"MN\",\"role\":\"line_manager\"}}}");
    casestate_result_t r = s_fold(&t, 20261117, NULL);
    cr_assert_eq(r.state->n_meetings, 2);
    cr_assert_not_null(r.state->meetings[0]->chair);
    cr_assert_eq(r.state->meetings[0]->chair->agency, TACNET__AGENCY__SCHOOL, "the lead");
    cr_assert_eq(r.state->meetings[1]->chair->role, TACNET__ROLE__LINE_MANAGER);
    cr_assert_eq(memcmp(r.state->meetings[1]->chair->initials.data, "MN", 2), 0);
    /* A meeting not held by the date wanted is due, then overdue, to the lead. */
    const Tacnet__DueItem *d = s_due(&r, "meeting");
    cr_assert_not_null(d);
    cr_assert_eq(d->overdue, 0);
    casestate_result_clear(&r);
    r = s_fold(&t, 20261127, NULL);
    cr_assert(s_due(&r, "meeting")->overdue);
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, plans_of_different_agencies_sit_side_by_side_with_one_lead_plan)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "camhs", "care_plan", 20261116, NULL,
         "{\"care_plan\":{\"type\":\"capa_partnership\",\"review_interval_days\":42,"
         "\"start_date\":\"2026-11-16\",\"goals\":[{\"goal_id\":1,\"description\":\"Sleep\"}]}}");
    s_ev(&t, 4, "health_visiting", "care_plan", 20261118, NULL,
         "{\"care_plan\":{\"type\":\"health_visiting_plan\",\"review_interval_days\":28,"
         "\"start_date\":\"2026-11-18\"}}");
    s_ev(&t, 5, "school", "care_plan", 20261120, NULL,
         "{\"care_plan\":{\"type\":\"team_around_family\",\"start_date\":\"2026-11-20\"}}");
    casestate_result_t r = s_fold(&t, 20261121, NULL);
    cr_assert_eq(r.state->n_plans, 3, "a new plan from one agency never replaces another's");
    cr_assert(r.state->plans[0]->lead, "the lead plan comes first");
    cr_assert_eq(r.state->plans[0]->plan->type, TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY);
    cr_assert_eq(r.state->plans[1]->by, TACNET__AGENCY__CAMHS);
    cr_assert_not(r.state->plans[1]->lead);
    cr_assert_eq(r.state->plans[2]->by, TACNET__AGENCY__HEALTH_VISITING);
    cr_assert_eq(r.state->plans[1]->plan_id.len, 16);
    cr_assert_eq(r.state->plans[1]->plan_id.data[0], 3, "a plan's id is its first msg_id");
    cr_assert_eq(r.state->plan->plan->type, TACNET__PLAN_TYPE__TEAM_AROUND_FAMILY,
                 "`plan` is the lead plan");
    unsigned reviews = 0;
    for (size_t i = 0; i < r.n_due; i++)
        reviews += strcmp(r.due[i]->what, "review") == 0;
    cr_assert_eq(reviews, 3, "each plan has its own review cadence");
    casestate_result_clear(&r);

    /* CAMHS revises its plan; social care steps the case up to a CIN plan. */
    s_ev(&t, 6, "camhs", "care_plan", 20261201, NULL,
         "{\"care_plan\":{\"type\":\"capa_partnership\",\"start_date\":\"2026-12-01\"}}");
    s_ev(&t, 7, "social_care", "care_plan", 20261202, NULL,
         "{\"care_plan\":{\"type\":\"child_in_need\",\"start_date\":\"2026-12-02\"}}");
    r = s_fold(&t, 20261203, NULL);
    cr_assert_eq(r.state->n_plans, 3, "a revision and a step up replace, never add");
    cr_assert_eq(r.state->plans[0]->plan->type, TACNET__PLAN_TYPE__CHILD_IN_NEED);
    cr_assert_eq(r.state->plans[0]->by, TACNET__AGENCY__SOCIAL_CARE);
    const Tacnet__PlanView *capa = NULL;
    for (size_t i = 0; i < r.state->n_plans; i++)
        if (r.state->plans[i]->by == TACNET__AGENCY__CAMHS)
            capa = r.state->plans[i];
    cr_assert_not_null(capa);
    cr_assert_eq(capa->msg_id.data[0], 6, "the latest version");
    cr_assert_eq(capa->plan_id.data[0], 3, "keeps the plan's id");
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, goal_progress_is_per_plan_from_its_owner_s_measures)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "camhs", "care_plan", 20261116, NULL,
         "{\"care_plan\":{\"type\":\"capa_partnership\",\"start_date\":\"2026-11-16\","
         "\"goals\":[{\"goal_id\":1,\"description\":\"Sleep\"}]}}");
    s_ev(&t, 4, "health_visiting", "care_plan", 20261116, NULL,
         "{\"care_plan\":{\"type\":\"health_visiting_plan\",\"start_date\":\"2026-11-16\","
         "\"goals\":[{\"goal_id\":1,\"description\":\"Feeding\"}]}}");
    s_ev(&t, 5, "camhs", "outcome_measure", 20261116, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[2],\"goal_ids\":[1],"
         "\"baseline\":true}}");
    s_ev(&t, 6, "health_visiting", "outcome_measure", 20261117, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[7],\"goal_ids\":[1],"
         "\"baseline\":true}}");
    s_ev(&t, 7, "camhs", "outcome_measure", 20261214, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[6],\"goal_ids\":[1]}}");
    casestate_result_t r = s_fold(&t, 20261215, NULL);
    cr_assert_eq(r.state->n_plans, 2);
    cr_assert_eq(r.state->plans[0]->progress[0]->change, 4, "CAMHS: 2 to 6");
    cr_assert_eq(r.state->plans[1]->progress[0]->latest_score, 7, "HV's own goal");
    cr_assert_eq(r.state->plans[1]->progress[0]->change, 0);
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, scoped_consents_are_all_kept_with_the_child_s_wishes)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "school", "consent_recorded", 20261103, "\"consent\":\"given\"",
         "{\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"routine\"],"
         "\"child_wishes\":\"Wants help with sleep.\"}}");
    s_ev(&t, 4, "social_care", "consent_recorded", 20261110, "\"consent\":\"given\"",
         "{\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"health\"],"
         "\"agencies\":[\"camhs\"],\"child_wishes\":\"Not the school.\"}}");
    casestate_result_t r = s_fold(&t, 20261111, NULL);
    cr_assert_eq(r.state->n_consents, 2, "a scoped consent does not replace another");
    cr_assert_str_eq(r.state->consents[0]->child_wishes, "Wants help with sleep.");
    cr_assert_eq(r.state->consents[1]->agencies[0], TACNET__AGENCY__CAMHS);
    cr_assert_str_eq(r.state->consent->child_wishes, "Not the school.", "the latest");
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, a_view_not_yet_asked_is_due_by_its_date_until_a_later_event_records_it)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "decision", 20261120, NULL,
         "{\"decision\":{\"topic\":\"Level of need\",\"chosen\":\"Early help\","
         "\"child_view_absent\":{\"reason\":\"not_yet_asked\",\"ask_by_date\":\"2026-12-01\"},"
         "\"family_view\":\"Agree with early help\"}}");
    casestate_result_t r = s_fold(&t, 20261125, NULL);
    const Tacnet__DueItem *d = s_due(&r, "views");
    cr_assert_not_null(d, "the child's view is owed");
    cr_assert_eq(d->overdue, 0);
    cr_assert_eq(d->owner, TACNET__AGENCY__SOCIAL_CARE);
    cr_assert_str_eq(d->label, "ask the child's view (decision)");
    cr_assert_eq(d->due_date, 20261201u);
    casestate_result_clear(&r);
    r = s_fold(&t, 20261203, NULL);
    cr_assert(s_due(&r, "views")->overdue);
    casestate_result_clear(&r);

    /* A later decision records the family's view only: the child's is still owed. */
    s_ev(&t, 4, "school", "decision", 20261204, NULL,
         "{\"decision\":{\"topic\":\"Breakfast club\",\"chosen\":\"Yes\","
         "\"child_view_absent\":{\"reason\":\"not_yet_asked\",\"ask_by_date\":\"2026-12-01\"},"
         "\"family_view\":\"Yes please\"}}");
    r = s_fold(&t, 20261205, NULL);
    size_t owed = 0;
    for (size_t i = 0; i < r.n_due; i++)
        owed += strcmp(r.due[i]->what, "views") == 0;
    cr_assert_eq(owed, 2);
    casestate_result_clear(&r);

    /* A meeting that minutes the child's own view settles both asks. */
    s_ev(&t, 5, "social_care", "meeting_outcome", 20261206, NULL,
         "{\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"held_date\":\"2026-12-06\",\"family\":[{\"role\":\"child\",\"view\":\"I like the "
         "club\"}],\"family_view_absent\":{\"reason\":\"declined\"}}}");
    r = s_fold(&t, 20261207, NULL);
    cr_assert_null(s_due(&r, "views"));
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, the_latest_involvement_preferences_show_and_are_revisited_by_their_date)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "school", "involvement_preferences", 20261110, NULL,
         "{\"involvement_preferences\":{\"people\":[{\"who\":\"mother\",\"decisions\":"
         "\"consulted\"}],\"revisit_by_date\":\"2026-12-01\"}}");
    s_ev(&t, 4, "school", "involvement_preferences", 20261120, NULL,
         "{\"involvement_preferences\":{\"people\":[{\"who\":\"mother\",\"decisions\":"
         "\"decide_together\",\"language\":\"Polish\",\"interpreter\":true}],"
         "\"revisit_by_date\":\"2027-01-10\"}}");
    casestate_result_t r = s_fold(&t, 20261125, NULL);
    cr_assert_not_null(r.state->involvement);
    cr_assert_eq(r.state->involvement->people[0]->decisions, TACNET__INVOLVEMENT__DECIDE_TOGETHER);
    const Tacnet__DueItem *d = s_due(&r, "involvement");
    cr_assert_not_null(d);
    cr_assert_eq(d->overdue, 0, "the newer record's date, 10 January, counts");
    cr_assert_eq(d->owner, TACNET__AGENCY__SCHOOL, "the lead revisits them");
    casestate_result_clear(&r);
    s_free(&t);
}

static size_t s_count(const casestate_result_t *r, const char *what)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_due; i++)
        n += strcmp(r->due[i]->what, what) == 0;
    return n;
}

Test(casestate, health_visiting_contacts_are_due_from_the_birth_date_and_cleared_when_recorded)
{
    tl_t t = { 0 };
    s_opened(&t);
    /* No birth date yet: nothing can be scheduled. */
    s_ev(&t, 3, "school", "member_joined", 20260301, "\"subject_agency\":\"health_visiting\"",
         "{\"member_joined\":{\"team\":\"Health visiting\"}}");
    casestate_result_t r = s_fold(&t, 20260302, NULL);
    cr_assert_eq(s_count(&r, "hv contact"), 0);
    casestate_result_clear(&r);
    /* The antenatal interview, with the expected date 6 May 2026. */
    s_ev(&t, 4, "health_visiting", "assessment", 20260312, "\"level_of_need\":2",
         "{\"assessment\":{\"type\":\"promotional_interview\",\"level_of_need\":2,"
         "\"completed_date\":20260312,\"hv_contact\":\"hv_antenatal\",\"birth_date\":20260506}}");
    r = s_fold(&t, 20260522, NULL);
    cr_assert_eq(s_count(&r, "hv contact"), 4, "new birth, 6-8 week, 1 year, 2-2½ year");
    const Tacnet__DueItem *d = s_due(&r, "hv contact");
    cr_assert_str_eq(d->label, "new birth visit");
    cr_assert_eq(d->owner, TACNET__AGENCY__HEALTH_VISITING);
    cr_assert_eq(d->due_date, 20260520u);
    cr_assert(d->overdue);
    casestate_result_clear(&r);
    s_ev(&t, 5, "health_visiting", "assessment", 20260520, "\"level_of_need\":2",
         "{\"assessment\":{\"type\":\"promotional_interview\",\"level_of_need\":2,"
         "\"completed_date\":20260520,\"hv_contact\":\"hv_new_birth\"}}");
    r = s_fold(&t, 20260522, NULL);
    cr_assert_eq(s_count(&r, "hv contact"), 3);
    d = s_due(&r, "hv contact");
    cr_assert_str_eq(d->label, "6-8 week review");
    cr_assert_eq(d->due_date, 20260701u);
    cr_assert_not(d->overdue);
    size_t reviews = 0;
    for (size_t i = 0; i < r.n_due; i++) {
        if (strcmp(r.due[i]->what, "hv contact") != 0)
            continue;
        if (strcmp(r.due[i]->label, "1 year review") == 0) {
            cr_assert_eq(r.due[i]->due_date, 20270506u, "the first birthday");
            reviews++;
        } else if (strcmp(r.due[i]->label, "2-2½ year review") == 0) {
            cr_assert_eq(r.due[i]->due_date, 20281106u, "30 months");
            cr_assert_eq(r.due[i]->owner, TACNET__AGENCY__HEALTH_VISITING);
            reviews++;
        }
    }
    cr_assert_eq(reviews, 2);
    casestate_result_clear(&r);
    /* The 1 year review recorded: the 6-8 week review, never had, is overtaken. */
    s_ev(&t, 6, "health_visiting", "assessment", 20270420, "\"level_of_need\":1",
         "{\"assessment\":{\"type\":\"developmental_review\",\"level_of_need\":1,"
         "\"completed_date\":20270420,\"hv_contact\":\"hv_one_year\"}}");
    r = s_fold(&t, 20270422, NULL);
    cr_assert_eq(s_count(&r, "hv contact"), 1);
    cr_assert_str_eq(s_due(&r, "hv contact")->label, "2-2½ year review");
    casestate_result_clear(&r);
    /* Health visiting leaves: it owes the team nothing more. */
    s_ev(&t, 7, "health_visiting", "member_left", 20270501,
         "\"subject_agency\":\"health_visiting\"", "{\"member_left\":{}}");
    r = s_fold(&t, 20281201, NULL);
    cr_assert_eq(s_count(&r, "hv contact"), 0);
    casestate_result_clear(&r);
    s_free(&t);
}

Test(casestate, the_chair_rule_is_judged_when_a_meeting_is_scheduled_and_minuted)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "member_joined", 20261104, "\"subject_agency\":\"camhs\"",
         "{\"member_joined\":{\"named_contact\":{\"agency\":\"camhs\",\"initials\":\"RK\","
         "\"role\":\"practitioner\"}}}");
    /* 14 December 2026 at 10:00, chaired by CAMHS's named contact: directly involved. */
    s_ev(&t, 4, "school", "meeting_scheduled", 20261201, NULL,
         "{\"meeting_scheduled\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"starts_at_ms\":1797242400000,\"mode\":\"video\",\"chair\":{\"agency\":\"camhs\","
         "\"initials\":\"RK\"}}}");
    casestate_result_t r = s_fold(&t, 20261202, NULL);
    cr_assert_eq(r.state->n_meetings, 1);
    cr_assert_eq(r.state->meetings[0]->chair_rule, TACNET__CHAIR_RULE__CHAIR_DIRECTLY_INVOLVED);
    const Tacnet__DueItem *d = s_due(&r, "chair");
    cr_assert_not_null(d);
    cr_assert_eq(d->owner, TACNET__AGENCY__SCHOOL, "the lead confirms the chair");
    cr_assert_eq(d->due_date, 20261214u);
    cr_assert_not(d->overdue);
    casestate_result_clear(&r);
    /* Re-scheduled with a CAMHS senior who is not the named contact: the rule is met. */
    s_ev(&t, 5, "school", "meeting_scheduled", 20261203, NULL,
         "{\"meeting_scheduled\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"starts_at_ms\":1797242400000,\"mode\":\"video\",\"chair\":{\"agency\":\"camhs\","
         "\"initials\":\"QW\",\"role\":\"line_manager\"}}}");
    r = s_fold(&t, 20261204, NULL);
    cr_assert_eq(r.state->meetings[0]->chair_rule, TACNET__CHAIR_RULE__CHAIR_INDEPENDENT);
    cr_assert_null(s_due(&r, "chair"));
    casestate_result_clear(&r);
    /* Moved to 15 December with no chair named: the chair scheduled stays, and so does its
     * verdict (not "no chair named" beside a chair still shown). */
    s_ev(&t, 7, "school", "meeting_scheduled", 20261203, NULL,
         "{\"meeting_scheduled\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"starts_at_ms\":1797328800000,\"mode\":\"video\"}}");
    r = s_fold(&t, 20261204, NULL);
    cr_assert_eq(r.state->meetings[0]->chair_rule, TACNET__CHAIR_RULE__CHAIR_INDEPENDENT);
    cr_assert_not_null(r.state->meetings[0]->chair);
    cr_assert(r.state->meetings[0]->chair->initials.len == 2 &&
              memcmp(r.state->meetings[0]->chair->initials.data, "QW", 2) == 0);
    cr_assert_eq(r.state->meetings[0]->scheduled->starts_at_ms, 1797328800000ull);
    cr_assert_null(s_due(&r, "chair"));
    casestate_result_clear(&r);
    /* Minuted as chaired by the named contact after all: the warning stays, no due item. */
    s_ev(&t, 6, "school", "meeting_outcome", 20261214, NULL,
         "{\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"held_date\":20261214,\"chair\":{\"agency\":\"camhs\",\"initials\":\"RK\"},"
         "\"child_view_absent\":{\"reason\":\"too_young\"},"
         "\"family_view_absent\":{\"reason\":\"declined\"}}}");
    r = s_fold(&t, 20261215, NULL);
    cr_assert_eq(r.state->meetings[0]->chair_rule, TACNET__CHAIR_RULE__CHAIR_DIRECTLY_INVOLVED);
    cr_assert_null(s_due(&r, "chair"));
    casestate_result_clear(&r);
    s_free(&t);
}

/* A meeting's minutes are the first minuting agency's: its own later outcome corrects them,
 * another agency's does not replace them (it stays in the timeline). */
Test(casestate, a_meeting_keeps_who_scheduled_and_minuted_it_and_the_first_minutes_stand)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "school", "meeting_scheduled", 20261201, NULL,
         "{\"meeting_scheduled\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"starts_at_ms\":1797242400000}}");
    s_ev(&t, 4, "school", "meeting_outcome", 20261214, NULL,
         "{\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"held_date\":20261214,\"decisions\":[\"Plan agreed\"]}}");
    s_ev(&t, 5, "social_care", "meeting_outcome", 20261215, NULL,
         "{\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"held_date\":20261214,\"decisions\":[\"Something else\"]}}");
    casestate_result_t r = s_fold(&t, 20261216, NULL);
    cr_assert_eq(r.state->n_meetings, 1);
    const Tacnet__MeetingView *m = r.state->meetings[0];
    cr_assert(m->has_scheduled_by && m->scheduled_by == TACNET__AGENCY__SCHOOL);
    cr_assert(m->has_minuted_by && m->minuted_by == TACNET__AGENCY__SCHOOL);
    cr_assert_str_eq(m->outcome->decisions[0], "Plan agreed",
                     "another agency's minutes replaced "
                     "the first");
    casestate_result_clear(&r);
    /* The same agency recording the outcome again changes nothing either: the first account's
     * attendees, decisions and actions stand, and a later held date moves no review. */
    s_ev(&t, 7, "school", "care_plan", 20261214, NULL,
         "{\"care_plan\":{\"type\":\"team_around_family\",\"start_date\":\"2026-12-01\"}}");
    s_ev(&t, 6, "school", "meeting_outcome", 20261216, NULL,
         "{\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"held_date\":20261216,\"decisions\":[\"Plan agreed, corrected\"],\"actions\":[{"
         "\"action_id\":\"a1a2a3a4a5a6a7a8a9aaabacadaeaf00\",\"description\":\"Extra\","
         "\"owner_agency\":\"school\",\"due_date\":\"2026-12-20\",\"status\":\"open\"}]}}");
    r = s_fold(&t, 20261217, NULL);
    cr_assert_str_eq(r.state->meetings[0]->outcome->decisions[0], "Plan agreed",
                     "the same agency's second account replaced the first");
    cr_assert_eq(r.state->n_actions, 0, "a second account's actions were added");
    cr_assert_not(r.state->plan->has_last_review_date, "a second account counted as a review");
    casestate_result_clear(&r);
    s_free(&t);
}

/* The latest CAPA Choice record is the case's: a family coming back to Choice replaces it, and
 * an assessment without one leaves it as it was. */
Test(casestate, the_latest_capa_choice_record_is_kept_with_who_and_when)
{
    tl_t t = { 0 };
    s_opened(&t);
    casestate_result_t r = s_fold(&t, 20261110, NULL);
    cr_assert_null(r.state->capa_choice);
    casestate_result_clear(&r);
    s_ev(&t, 3, "camhs", "assessment", 20261112, "\"level_of_need\":2",
         "{\"assessment\":{\"type\":\"capa_choice\",\"level_of_need\":2,\"completed_date\":"
         "20261112,\"capa_choice\":{\"joint_formulation\":\"Worry keeps sleep short\","
         "\"alternatives\":[\"Parenting group\"],\"chosen\":\"chosen_self_help\"}}}");
    s_ev(&t, 4, "camhs", "assessment", 20261201, "\"level_of_need\":2",
         "{\"assessment\":{\"type\":\"capa_choice\",\"level_of_need\":2,\"completed_date\":"
         "20261201,\"capa_choice\":{\"joint_formulation\":\"Still not sleeping\","
         "\"chosen\":\"chosen_partnership\",\"engagement\":\"Sleep diary\"}}}");
    s_ev(&t, 5, "camhs", "assessment", 20261205, "\"level_of_need\":2",
         "{\"assessment\":{\"type\":\"capa_choice\",\"level_of_need\":2}}");
    r = s_fold(&t, 20261206, NULL);
    const Tacnet__CapaChoiceView *v = r.state->capa_choice;
    cr_assert_not_null(v);
    cr_assert_eq(v->by, TACNET__AGENCY__CAMHS);
    cr_assert_eq(v->completed_date, 20261201);
    cr_assert_eq(v->msg_id.data[0], 4, "the second record, not the first nor the bare third");
    cr_assert_eq(v->record->chosen, TACNET__CAPA_CHOSEN__CHOSEN_PARTNERSHIP);
    cr_assert_str_eq(v->record->engagement, "Sleep diary");
    casestate_result_clear(&r);
    s_free(&t);
}

/* Goal ids are each plan's own numbers: social care's goal 2 is not CAMHS's goal 2. A plan
 * whose owner has scored nothing shows its goals unmeasured, never another agency's scores. */
Test(casestate, a_plan_s_goal_progress_never_borrows_another_agency_s_scores)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "camhs", "care_plan", 20261116, NULL,
         "{\"care_plan\":{\"type\":\"capa_partnership\",\"start_date\":\"2026-11-16\","
         "\"goals\":[{\"goal_id\":1,\"description\":\"Sleep\"},"
         "{\"goal_id\":2,\"description\":\"Calmer mornings\"}]}}");
    s_ev(&t, 4, "camhs", "outcome_measure", 20261116, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[2,3],\"goal_ids\":[1,2],"
         "\"baseline\":true}}");
    s_ev(&t, 5, "camhs", "outcome_measure", 20261214, NULL,
         "{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[5,7],\"goal_ids\":[1,2]}}");
    s_ev(&t, 6, "social_care", "care_plan", 20261215, NULL,
         "{\"care_plan\":{\"type\":\"child_in_need\",\"start_date\":\"2026-12-15\","
         "\"goals\":[{\"goal_id\":1,\"description\":\"Safe at home\"},"
         "{\"goal_id\":2,\"description\":\"At school every day\"}]}}");
    casestate_result_t r = s_fold(&t, 20261216, NULL);
    const Tacnet__PlanView *cin = NULL, *capa = NULL;
    for (size_t i = 0; i < r.state->n_plans; i++) {
        if (r.state->plans[i]->by == TACNET__AGENCY__SOCIAL_CARE)
            cin = r.state->plans[i];
        if (r.state->plans[i]->by == TACNET__AGENCY__CAMHS)
            capa = r.state->plans[i];
    }
    cr_assert_not_null(cin);
    cr_assert_not_null(capa);
    cr_assert_eq(cin->n_progress, 2);
    for (size_t g = 0; g < cin->n_progress; g++) {
        cr_assert_not(cin->progress[g]->has_baseline_score, "goal %zu borrowed a baseline", g + 1);
        cr_assert_not(cin->progress[g]->has_latest_score, "goal %zu borrowed a latest score",
                      g + 1);
        cr_assert_not(cin->progress[g]->has_change, "goal %zu borrowed a change", g + 1);
    }
    cr_assert_eq(capa->progress[1]->change, 4, "CAMHS's own goal 2: 3 to 7");
    casestate_result_clear(&r);
    s_free(&t);
}

/* A meeting reviews a plan only when the plan's owner took part: attended, chaired or minuted
 * it. Minutes without attendees count for the minuting agency and the agencies given actions. */
Test(casestate, a_meeting_reviews_only_the_plans_of_agencies_that_took_part)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "camhs", "care_plan", 20261102, NULL,
         "{\"care_plan\":{\"type\":\"capa_partnership\",\"review_interval_days\":42,"
         "\"start_date\":\"2026-11-02\"}}");
    s_ev(&t, 4, "social_care", "care_plan", 20261102, NULL,
         "{\"care_plan\":{\"type\":\"child_in_need\",\"start_date\":\"2026-11-02\"}}");
    s_ev(&t, 5, "health_visiting", "care_plan", 20261102, NULL,
         "{\"care_plan\":{\"type\":\"health_visiting_plan\",\"review_interval_days\":28,"
         "\"start_date\":\"2026-11-02\"}}");
    s_ev(&t, 6, "social_care", "meeting_outcome", 20261201, NULL,
         "{\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"held_date\":\"2026-12-01\",\"chair\":{\"agency\":\"social_care\",\"initials\":\"AW\"},"
         "\"attendees\":[{\"agency\":\"school\",\"initials\":\"QZ\"},"
         "{\"agency\":\"health_visiting\",\"initials\":\"PD\"}]}}");
    casestate_result_t r = s_fold(&t, 20261202, NULL);
    const Tacnet__PlanView *capa = NULL, *cin = NULL, *hv = NULL;
    for (size_t i = 0; i < r.state->n_plans; i++) {
        const Tacnet__PlanView *p = r.state->plans[i];
        if (p->by == TACNET__AGENCY__CAMHS)
            capa = p;
        else if (p->by == TACNET__AGENCY__SOCIAL_CARE)
            cin = p;
        else if (p->by == TACNET__AGENCY__HEALTH_VISITING)
            hv = p;
    }
    cr_assert(capa && cin && hv);
    cr_assert_not(capa->has_last_review_date, "CAMHS was not there: no review of its plan");
    cr_assert_eq(cin->last_review_date, 20261201, "minuted (and chaired) by social care");
    cr_assert_eq(hv->last_review_date, 20261201, "health visiting attended");
    casestate_result_clear(&r);

    /* No attendees listed (the dashboard's minutes): the minuting agency's plans and those of
     * the agencies given actions. */
    s_ev(&t, 7, "school", "meeting_outcome", 20261208, NULL,
         "{\"meeting_outcome\":{\"meeting_id\":\"1102030405060708090a0b0c0d0e0f10\","
         "\"held_date\":\"2026-12-08\",\"actions\":[{\"action_id\":"
         "\"a1a2a3a4a5a6a7a8a9aaabacadaeaf00\",\"description\":\"Sleep sessions\","
         "\"owner_agency\":\"camhs\",\"due_date\":\"2026-12-20\",\"status\":\"open\"}]}}");
    r = s_fold(&t, 20261209, NULL);
    for (size_t i = 0; i < r.state->n_plans; i++) {
        const Tacnet__PlanView *p = r.state->plans[i];
        if (p->by == TACNET__AGENCY__CAMHS)
            cr_assert_eq(p->last_review_date, 20261208, "CAMHS was given an action");
        else
            cr_assert_eq(p->last_review_date, 20261201, "%s was not there",
                         p->by == TACNET__AGENCY__SOCIAL_CARE ? "social care" : "HV");
    }
    casestate_result_clear(&r);
    s_free(&t);
}

/* An action's status changes only by its owner, the case's lead professional's agency or the
 * agency that minuted the meeting; anyone else's update is ignored on receipt. */
Test(casestate, only_the_owner_the_lead_or_the_minuting_agency_updates_an_action)
{
    tl_t t = { 0 };
    s_opened(&t); /* the school opened the case: it leads */
    s_ev(&t, 3, "social_care", "meeting_outcome", 20261120, NULL,
         "{\"meeting_outcome\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"held_date\":\"2026-11-20\",\"actions\":[{\"action_id\":"
         "\"a1a2a3a4a5a6a7a8a9aaabacadaeaf00\",\"description\":\"Sleep sessions\","
         "\"owner_agency\":\"camhs\",\"due_date\":\"2026-12-11\",\"status\":\"open\"}]}}");
    s_ev(&t, 4, "health_visiting", "action_update", 20261121, NULL,
         "{\"action_update\":{\"action_id\":\"a1a2a3a4a5a6a7a8a9aaabacadaeaf00\","
         "\"status\":\"done\"}}");
    casestate_result_t r = s_fold(&t, 20261122, NULL);
    cr_assert_eq(r.state->n_actions, 1);
    cr_assert_eq(r.state->actions[0]->action->status, TACNET__ACTION_STATUS__OPEN,
                 "a bystander's update was applied");
    cr_assert_not(r.state->actions[0]->has_updated_by);
    casestate_result_clear(&r);

    const char *may[] = { "camhs", "school", "social_care" }; /* owner, lead, minuted */
    const char *status[] = { "done", "open", "cancelled" };
    for (unsigned i = 0; i < 3; i++) {
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"action_update\":{\"action_id\":\"a1a2a3a4a5a6a7a8a9aaabacadaeaf00\","
                 "\"status\":\"%s\"}}",
                 status[i]);
        s_ev(&t, 5 + i, may[i], "action_update", 20261122 + i, NULL, body);
        r = s_fold(&t, 20261126, NULL);
        cr_assert_eq(r.state->actions[0]->updated_by, t.e[t.n - 1]->header->sender, "%s", may[i]);
        cr_assert_eq(r.state->actions[0]->updated_at_ms, t.e[t.n - 1]->header->created_at_ms);
        casestate_result_clear(&r);
    }
    r = s_fold(&t, 20261126, NULL);
    cr_assert_eq(r.state->actions[0]->action->status, TACNET__ACTION_STATUS__CANCELLED);
    casestate_result_clear(&r);
    s_free(&t);
}

/* The broker marks an escalation breached past its last stage's deadline without a notice: the
 * recipient works it out by the same rule, and says so in its due item. */
Test(casestate, an_escalation_past_the_last_stage_s_deadline_is_breached)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "school", "disagreement", 20261123, NULL,
         "{\"disagreement\":{\"topic\":\"Level of need\",\"child_safety\":\"Safe today.\"}}");
    uint64_t dl = clock_date_to_ms(20261201) + 10 * CLOCK_HOUR_MS;
    char notice[512];
    snprintf(notice, sizeof(notice),
             "{\"escalation_notice\":{\"escalation_id\":\"03030303030303030303030303030303\","
             "\"event\":\"esc_advanced\",\"stage\":3,\"audience\":\"dsl\","
             "\"deadline_ms\":%llu,\"parties\":[\"school\",\"social_care\"]}}",
             (unsigned long long)dl);
    s_ev(&t, 4, "broker", "escalation_notice", 20261124, NULL, notice);
    casestate_result_t r = s_fold(&t, 20261202, NULL);
    const Tacnet__EscalationView *e = r.state->escalations[0];
    cr_assert_not(casestate_escalation_breached(e, dl + 1), "stage 3 of 4 moves on by itself");
    casestate_result_clear(&r);
    snprintf(notice, sizeof(notice),
             "{\"escalation_notice\":{\"escalation_id\":\"03030303030303030303030303030303\","
             "\"event\":\"esc_advanced\",\"stage\":4,\"audience\":\"partnership_lead\","
             "\"deadline_ms\":%llu}}",
             (unsigned long long)(dl + 14 * CLOCK_DAY_MS));
    s_ev(&t, 5, "broker", "escalation_notice", 20261201, NULL, notice);
    r = s_fold(&t, 20261210, NULL);
    e = r.state->escalations[0];
    cr_assert_not(casestate_escalation_breached(e, dl + 14 * CLOCK_DAY_MS), "on the deadline");
    cr_assert(casestate_escalation_breached(e, dl + 14 * CLOCK_DAY_MS + 1));
    casestate_result_clear(&r);
    r = s_fold(&t, 20261216, NULL);
    const Tacnet__DueItem *d = s_due(&r, "escalation");
    cr_assert(d->overdue);
    cr_assert_not_null(strstr(d->label, "breached, past the partnership's last deadline"), "%s",
                       d->label);
    casestate_result_clear(&r);
    /* A resolution proposed stops the clock: not breached, whatever the time. */
    s_ev(&t, 6, "social_care", "escalation_resolved", 20261216,
         "\"refers_to\":\"03030303030303030303030303030303\"",
         "{\"escalation_resolved\":{\"outcome\":\"Step up\",\"child_safety\":\"Safe.\"}}");
    r = s_fold(&t, 20261217, NULL);
    cr_assert_not(casestate_escalation_breached(r.state->escalations[0], UINT64_MAX));
    cr_assert_not(casestate_escalation_breached(NULL, 0));
    casestate_result_clear(&r);
    s_free(&t);
}

/* Minutes are not dated before the day their meeting was scheduled for: the refusal names the
 * field and both days; the day itself, a later day, and a meeting never scheduled pass. */
Test(casestate, minutes_dated_before_the_scheduled_day_are_refused)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "school", "meeting_scheduled", 20261201, NULL,
         "{\"meeting_scheduled\":{\"meeting_id\":\"0102030405060708090a0b0c0d0e0f10\","
         "\"starts_at_ms\":1797242400000}}"); /* 2026-12-14 10:00 UTC */
    s_ev(&t, 4, "school", "meeting_requested", 20261201, NULL,
         "{\"meeting_requested\":{\"meeting_id\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\","
         "\"purpose\":\"Review\"}}");
    casestate_result_t r = s_fold(&t, 20261216, NULL);
    cr_assert_eq(r.state->n_meetings, 2);
    const Tacnet__MeetingView *m = r.state->meetings[0], *unscheduled = r.state->meetings[1];
    cr_assert_not_null(m->scheduled);
    char why[320] = "";
    cr_expect_eq(casestate_minutes_date_check(m, 20261212, 0, why, sizeof(why)), TACNET_EFIELD);
    cr_expect_not_null(strstr(why, "meeting_outcome.held_date: the minutes are dated 2026-12-12, "
                                   "before the meeting, which was scheduled for 2026-12-14"),
                       "%s", why);
    cr_expect_eq(casestate_minutes_date_check(m, 20261213, 0, why, sizeof(why)), TACNET_EFIELD);
    cr_expect_eq(casestate_minutes_date_check(m, 20261214, 0, why, sizeof(why)), 0);
    cr_expect_eq(casestate_minutes_date_check(m, 20261215, 0, why, sizeof(why)), 0);
    cr_expect_eq(casestate_minutes_date_check(unscheduled, 20261101, 0, why, sizeof(why)), 0);
    cr_expect_eq(casestate_minutes_date_check(NULL, 20261101, 0, why, sizeof(why)), 0);
    /* The meeting's day in the partnership's zone: 10:00 UTC on the 14th is 23:00 on the 13th
     * at UTC-11, so minutes dated the 13th are that meeting's; from UTC-10 it is the 14th; at
     * UTC+14 it is already the 15th. */
    const long hour = 3600;
    cr_expect_eq(casestate_minutes_date_check(m, 20261213, -11 * hour, why, sizeof(why)), 0);
    cr_expect_eq(casestate_minutes_date_check(m, 20261212, -11 * hour, why, sizeof(why)),
                 TACNET_EFIELD);
    cr_expect_eq(casestate_minutes_date_check(m, 20261213, -10 * hour - 1, why, sizeof(why)), 0);
    cr_expect_eq(casestate_minutes_date_check(m, 20261213, -10 * hour, why, sizeof(why)),
                 TACNET_EFIELD);
    cr_expect_eq(casestate_minutes_date_check(m, 20261214, 13 * hour, why, sizeof(why)), 0);
    cr_expect_eq(casestate_minutes_date_check(m, 20261214, 14 * hour, why, sizeof(why)),
                 TACNET_EFIELD);
    cr_expect_not_null(strstr(why, "scheduled for 2026-12-15"), "%s", why);
    casestate_result_clear(&r);
    s_free(&t);
}

/* The school's view lacks the health class, so social care's contacts at that class never
 * reach it: social care's planned contact past its date is not called overdue there (it may
 * well have been kept); social care's own view, partial or not, still says it is overdue. */
Test(casestate, another_agency_s_contact_is_not_called_overdue_in_a_partial_view)
{
    tl_t t = { 0 };
    s_opened(&t);
    s_ev(&t, 3, "social_care", "communication_plan", 20261120, NULL,
         "{\"communication_plan\":{\"named_contact\":{\"agency\":\"social_care\","
         "\"initials\":\"AW\"},\"every_days\":14,\"start_date\":\"2026-11-20\"}}");
    casestate_opts_t o = { .now_ms = clock_date_to_ms(20261210),
                           .partial = 1,
                           .agency = TACNET__AGENCY__SCHOOL };
    casestate_result_t r;
    cr_assert_eq(casestate_fold(t.e, t.n, &o, &r), 0);
    cr_expect_null(s_due(&r, "parent contact"), "overdue in a view that may lack the contact");
    cr_expect_eq(r.overdue_items, 0);
    casestate_result_clear(&r);
    o.agency = TACNET__AGENCY__SOCIAL_CARE;
    cr_assert_eq(casestate_fold(t.e, t.n, &o, &r), 0);
    const Tacnet__DueItem *d = s_due(&r, "parent contact");
    cr_assert_not_null(d);
    cr_expect(d->overdue);
    casestate_result_clear(&r);
    o.partial = 0;
    o.agency = TACNET__AGENCY__SCHOOL;
    cr_assert_eq(casestate_fold(t.e, t.n, &o, &r), 0);
    d = s_due(&r, "parent contact");
    cr_assert_not_null(d);
    cr_expect(d->overdue);
    casestate_result_clear(&r);
    s_free(&t);
}
