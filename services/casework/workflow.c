/* workflow: workflow checks on an event body before it is sealed (see workflow.h). */
#include "casework/workflow.h"
#include "casework/why.h"

#include "clock.h"
#include "err.h"
#include "casework/capa.h"
#include "casework/challenge.h"
#include "casework/family_voice.h"
#include "casework/goals.h"
#include "casework/involvement.h"
#include "casework/ladder.h"
#include "casework/measure.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int s_id16(const ProtobufCBinaryData *b, int has)
{
    return has && b->len == 16;
}

static int s_plan(const Tacnet__CarePlan *p, char *why, size_t cap)
{
    if (!p->has_type || p->type == TACNET__PLAN_TYPE__PLAN_UNKNOWN)
        return casework_refuse(TACNET_EFIELD, why, cap, "care_plan.type is required");
    if (p->type == TACNET__PLAN_TYPE__CAPA_PARTNERSHIP && !p->review_interval_days)
        return casework_refuse(
            TACNET_EFIELD, why, cap,
            "care_plan.review_interval_days: a CAPA partnership plan agrees its review "
            "interval");
    if (p->has_start_date && !clock_date_valid(p->start_date))
        return casework_refuse(TACNET_EFIELD, why, cap, "care_plan.start_date: %u is not a date",
                               p->start_date);
    if (p->n_goals > MEASURE_GBO_MAX_GOALS)
        return casework_refuse(TACNET_EFIELD, why, cap, "care_plan.goals: %zu goals; at most %d",
                               p->n_goals, MEASURE_GBO_MAX_GOALS);
    unsigned seen = 0;
    for (size_t i = 0; i < p->n_goals; i++) {
        uint32_t id = p->goals[i]->goal_id;
        if (id < 1 || id > MEASURE_GBO_MAX_GOALS)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "care_plan.goals[%zu].goal_id: %u is outside 1-%d", i, id,
                                   MEASURE_GBO_MAX_GOALS);
        if (seen & (1u << id))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "care_plan.goals[%zu].goal_id: goal %u twice", i, id);
        seen |= 1u << id;
        if (!casework_has_text(p->goals[i]->description))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "care_plan.goals[%zu].description is required", i);
    }
    return 0;
}

static int s_actions(Tacnet__Action *const *a, size_t n, char *why, size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        if (!s_id16(&a[i]->action_id, a[i]->has_action_id))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "meeting_outcome.actions[%zu].action_id must be 16 bytes", i);
        if (!casework_has_text(a[i]->description))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "meeting_outcome.actions[%zu].description is required", i);
        if (!a[i]->has_owner_agency || a[i]->owner_agency == TACNET__AGENCY__AGENCY_UNKNOWN)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "meeting_outcome.actions[%zu].owner_agency is required", i);
        if (!a[i]->has_due_date || !clock_date_valid(a[i]->due_date))
            return casework_refuse(
                TACNET_EFIELD, why, cap,
                "meeting_outcome.actions[%zu].due_date is required (a real date)", i);
        if (!a[i]->has_status || a[i]->status == TACNET__ACTION_STATUS__ACTION_UNKNOWN)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "meeting_outcome.actions[%zu].status is required", i);
    }
    return 0;
}

static int s_kind_check(const Tacnet__PublishRequest *req, char *why, size_t cap)
{
    const Tacnet__Body *b = req->body;
    char mwhy[MEASURE_WHY_MAX];
    switch (req->kind) {
    case TACNET__EVENT_KIND__OUTCOME_MEASURE: {
        measure_score_t sc;
        if (measure_score(b->outcome_measure, &sc, mwhy, sizeof(mwhy)) != 0)
            return casework_refuse(TACNET_EMEASURE, why, cap, "outcome_measure: %s", mwhy);
        if (b->outcome_measure->has_measured_date &&
            !clock_date_valid(b->outcome_measure->measured_date))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "outcome_measure.measured_date: %u is not a date",
                                   b->outcome_measure->measured_date);
        if (b->outcome_measure->has_plan_id &&
            (b->outcome_measure->tool != TACNET__MEASURE_TOOL__GBO ||
             b->outcome_measure->plan_id.len != 16))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   b->outcome_measure->tool != TACNET__MEASURE_TOOL__GBO
                                       ? "outcome_measure.plan_id: only a GBO measure scores a "
                                         "plan's goals"
                                       : "outcome_measure.plan_id: a plan id is 32 hex digits");
        return 0;
    }
    case TACNET__EVENT_KIND__CONCERN:
        if (b->concern && b->concern->has_attendance_permille &&
            b->concern->attendance_permille > 1000)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "concern.attendance_permille: %u is over 1000; attendance is "
                                   "in tenths of a per cent, 0 to 1000 (92.5%% is 925)",
                                   b->concern->attendance_permille);
        return 0;
    case TACNET__EVENT_KIND__CARE_PLAN:
        return s_plan(b->care_plan, why, cap);
    case TACNET__EVENT_KIND__DISAGREEMENT:
        if (!casework_has_text(b->disagreement->topic))
            return casework_refuse(TACNET_EFIELD, why, cap, "disagreement.topic is required");
        if (!casework_has_text(b->disagreement->child_safety))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "disagreement.child_safety is required: is the child safe now?");
        return 0;
    case TACNET__EVENT_KIND__ESCALATION_RESPONSE:
    case TACNET__EVENT_KIND__ESCALATION_ACK:
    case TACNET__EVENT_KIND__ESCALATION_RESOLVED:
        if (!s_id16(&req->refers_to, req->has_refers_to))
            return casework_refuse(
                TACNET_EFIELD, why, cap,
                "refers_to is required: the msg_id of the disagreement escalated");
        if (req->kind == TACNET__EVENT_KIND__ESCALATION_RESOLVED) {
            if (!casework_has_text(b->escalation_resolved->outcome))
                return casework_refuse(TACNET_EFIELD, why, cap,
                                       "escalation_resolved.outcome is required");
            if (!casework_has_text(b->escalation_resolved->child_safety))
                return casework_refuse(
                    TACNET_EFIELD, why, cap,
                    "escalation_resolved.child_safety is required: the child's current "
                    "safety");
        }
        if (req->kind == TACNET__EVENT_KIND__ESCALATION_RESPONSE &&
            (!b->escalation_response->has_position ||
             b->escalation_response->position == TACNET__STAGE_POSITION__POSITION_UNKNOWN))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "escalation_response.position is required");
        return 0;
    case TACNET__EVENT_KIND__PARTNERSHIP_RATING:
        return ladder_check(b->partnership_rating, why, cap);
    case TACNET__EVENT_KIND__MEETING_REQUESTED:
        if (!s_id16(&b->meeting_requested->meeting_id, b->meeting_requested->has_meeting_id))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "meeting_requested.meeting_id must be 16 bytes");
        return 0;
    case TACNET__EVENT_KIND__MEETING_SCHEDULED:
        if (!s_id16(&b->meeting_scheduled->meeting_id, b->meeting_scheduled->has_meeting_id))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "meeting_scheduled.meeting_id must be 16 bytes");
        if (!b->meeting_scheduled->has_starts_at_ms)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "meeting_scheduled.starts_at_ms is required");
        return 0;
    case TACNET__EVENT_KIND__MEETING_OUTCOME:
        if (!s_id16(&b->meeting_outcome->meeting_id, b->meeting_outcome->has_meeting_id))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "meeting_outcome.meeting_id must be 16 bytes");
        if (!b->meeting_outcome->has_held_date || !clock_date_valid(b->meeting_outcome->held_date))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "meeting_outcome.held_date is required (a real date)");
        return s_actions(b->meeting_outcome->actions, b->meeting_outcome->n_actions, why, cap);
    case TACNET__EVENT_KIND__ACTION_UPDATE:
        if (!s_id16(&b->action_update->action_id, b->action_update->has_action_id))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "action_update.action_id must be 16 bytes");
        if (!b->action_update->has_status ||
            b->action_update->status == TACNET__ACTION_STATUS__ACTION_UNKNOWN)
            return casework_refuse(TACNET_EFIELD, why, cap, "action_update.status is required");
        return 0;
    case TACNET__EVENT_KIND__COMMUNICATION_PLAN:
        if (!b->communication_plan->every_days)
            return casework_refuse(
                TACNET_EFIELD, why, cap,
                "communication_plan.every_days: agree a timetable of at least one "
                "contact every N days");
        if (!b->communication_plan->has_start_date ||
            !clock_date_valid(b->communication_plan->start_date))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "communication_plan.start_date is required (a real date)");
        if (!b->communication_plan->named_contact)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "communication_plan.named_contact is required");
        return 0;
    case TACNET__EVENT_KIND__CONTACT_LOGGED:
        /* A contact says with whom and how: an empty one was shared as "a contact". */
        if (!b->contact_logged->has_with ||
            b->contact_logged->with == TACNET__FAMILY_ROLE__FAMILY_UNKNOWN)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "contact_logged.with is required: who in the family");
        if (!b->contact_logged->has_method ||
            b->contact_logged->method == TACNET__CONTACT_METHOD__METHOD_UNKNOWN)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "contact_logged.method is required: how the contact was made");
        return 0;
    case TACNET__EVENT_KIND__INVOLVEMENT_PREFERENCES:
        return involvement_check(b->involvement_preferences, why, cap);
    case TACNET__EVENT_KIND__CASE_CLOSED:
        /* A closure is for good (E_CLOSED after): it says why and on what day, which the
         * partnership's figures and the retention clock (closed_case_days) count from. */
        if (!b->case_closed->has_reason ||
            b->case_closed->reason == TACNET__CLOSURE_REASON__CLOSURE_UNKNOWN)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "case_closed.reason is required: why the case closes (needs "
                                   "met, stepped down, stepped up, moved away, family declined, "
                                   "opened in error)");
        if (!b->case_closed->has_closed_date || !clock_date_valid(b->case_closed->closed_date))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "case_closed.closed_date is required (a real date, not after "
                                   "today): the day the case closes");
        return 0;
    case TACNET__EVENT_KIND__LEAD_HANDOVER:
        if (!b->lead_handover->new_lead || !b->lead_handover->new_lead->has_agency)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "lead_handover.new_lead.agency is required");
        if (req->has_subject_agency && req->subject_agency != b->lead_handover->new_lead->agency)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "lead_handover.new_lead.agency differs from the subject agency");
        return 0;
    default:
        return 0;
    }
}

/* Dates that say when something happened (a contact, a meeting held, a score measured): never
 * after today. A day's margin for the UK's hour ahead of UTC in summer. Not birth_date: an
 * antenatal contact names the expected one. */
static const char *const s_happened[] = { "referred_date", "observed_date", "completed_date",
                                          "decided_date",  "held_date",     "measured_date",
                                          "contact_date",  "recorded_date", "agreed_date",
                                          "rated_date",    "closed_date" };

/* A uint32 field VALUE named NAME at PATH against the rules on dates and levels of need. */
static int s_value_check(const char *path, const char *name, uint32_t value, uint32_t latest,
                         char *why, size_t cap)
{
    if (strcmp(name, "level_of_need") == 0 || strcmp(name, "agreed_level_of_need") == 0) {
        if (value < 1 || value > 4)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "%s: %u is not a level of need (1 universal, 2 early help, 3 "
                                   "child in need, 4 child protection)",
                                   path, value);
        return 0;
    }
    for (size_t i = 0; i < sizeof(s_happened) / sizeof(s_happened[0]); i++)
        if (strcmp(name, s_happened[i]) == 0 && value > latest && clock_date_valid(value))
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "%s: %04u-%02u-%02u is in the future: it says when something "
                                   "happened",
                                   path, value / 10000, value / 100 % 100, value % 100);
    return 0;
}

/* A free-text field is a note, not a document: past this many characters (about four pages) the
 * record belongs in the agency's own system, with a summary here. */
#define WORKFLOW_TEXT_MAX 10000

/* The characters (UTF-8 code points) of S. */
static size_t s_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int s_text_check(const char *path, const char *s, char *why, size_t cap)
{
    size_t n = s ? s_chars(s) : 0;
    if (n <= WORKFLOW_TEXT_MAX)
        return 0;
    return casework_refuse(TACNET_EFIELD, why, cap,
                           "%s is %zu characters long; a field holds at most %d (about four "
                           "pages): write a summary here and keep the full record in your "
                           "agency's own system",
                           path, n, WORKFLOW_TEXT_MAX);
}

/* Every single uint32 field of M and of the messages in it, by s_value_check, and every string
 * by s_text_check (PATH: M's own). */
static int s_walk(const ProtobufCMessage *m, const char *path, uint32_t latest, char *why,
                  size_t cap)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_UINT32 && f->type != PROTOBUF_C_TYPE_MESSAGE &&
            f->type != PROTOBUF_C_TYPE_STRING)
            continue;
        /* Set or not: a oneof's members share one place, told apart by its case. */
        size_t n = 1;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            n = *(const uint32_t *)(base + f->quantifier_offset) == f->id;
        else if (f->label == PROTOBUF_C_LABEL_REPEATED)
            n = *(const size_t *)(base + f->quantifier_offset);
        else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type == PROTOBUF_C_TYPE_UINT32)
            n = *(const protobuf_c_boolean *)(base + f->quantifier_offset) != 0;
        char sub[160];
        snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", f->name);
        int rc = 0;
        if (f->type == PROTOBUF_C_TYPE_STRING) {
            if (f->label == PROTOBUF_C_LABEL_REPEATED) {
                char *const *ss = *(char *const *const *)(base + f->offset);
                for (size_t k = 0; rc == 0 && k < n; k++)
                    rc = s_text_check(sub, ss[k], why, cap);
            } else if (n) {
                rc = s_text_check(sub, *(char *const *)(base + f->offset), why, cap);
            }
        } else if (f->type == PROTOBUF_C_TYPE_UINT32) {
            if (n && f->label != PROTOBUF_C_LABEL_REPEATED)
                rc = s_value_check(sub, f->name, *(const uint32_t *)(base + f->offset), latest, why,
                                   cap);
        } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            ProtobufCMessage *const *sms = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t k = 0; rc == 0 && k < n; k++)
                if (sms[k])
                    rc = s_walk(sms[k], sub, latest, why, cap);
        } else if (n) {
            const ProtobufCMessage *sm = *(ProtobufCMessage *const *)(base + f->offset);
            if (sm)
                rc = s_walk(sm, sub, latest, why, cap);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------- dates that contradict each other */

/* D (yyyymmdd) as "2026-12-04" into OUT (at least 11 bytes). */
static const char *s_date(uint32_t d, char *out, size_t cap)
{
    snprintf(out, cap, "%04u-%02u-%02u", d / 10000 % 10000, d / 100 % 100, d % 100);
    return out;
}


/* A meeting's actions are due after the meeting that set them, and the next meeting follows it:
 * a due date before the meeting makes an item overdue the moment it is shared. Minutes written
 * up late keep their actions' real due dates, even those passed since. */
static int s_outcome_dates(const Tacnet__MeetingOutcome *o, char *why, size_t cap)
{
    char a[16], h[16];
    for (size_t i = 0; i < o->n_actions; i++)
        if (o->actions[i]->due_date < o->held_date)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "meeting_outcome.actions[%zu].due_date: %s is before the "
                                   "meeting was held (%s): an action agreed at a meeting is due "
                                   "on or after the day it was agreed",
                                   i, s_date(o->actions[i]->due_date, a, sizeof(a)),
                                   s_date(o->held_date, h, sizeof(h)));
    if (o->has_next_meeting_date && o->next_meeting_date && o->next_meeting_date < o->held_date)
        return casework_refuse(TACNET_EFIELD, why, cap,
                               "meeting_outcome.next_meeting_date: %s is before this meeting "
                               "was held (%s): the next meeting comes after it",
                               s_date(o->next_meeting_date, a, sizeof(a)),
                               s_date(o->held_date, h, sizeof(h)));
    return 0;
}

/* What is legitimately dated in the past is what happened (s_happened); a wish, a schedule or a
 * target is about what is to come. A meeting may be scheduled for earlier today (entered as it
 * starts, or with a clock a little out), not for a day gone. */
static int s_dates_check(const Tacnet__PublishRequest *req, char *why, size_t cap)
{
    const Tacnet__Body *b = req->body;
    uint64_t now = clock_now_ms();
    uint32_t today = clock_local_date(now);
    char a[16], t[16];
    switch (req->kind) {
    case TACNET__EVENT_KIND__MEETING_REQUESTED: {
        const Tacnet__MeetingRequested *m = b->meeting_requested;
        if (m->has_wanted_by_date && m->wanted_by_date && m->wanted_by_date < today)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "meeting_requested.wanted_by_date: %s has passed (today is "
                                   "%s): ask for a meeting by today or a later day",
                                   s_date(m->wanted_by_date, a, sizeof(a)),
                                   s_date(today, t, sizeof(t)));
        return 0;
    }
    case TACNET__EVENT_KIND__MEETING_SCHEDULED: {
        uint64_t at = b->meeting_scheduled->starts_at_ms;
        uint32_t day = clock_local_date(at);
        if (day < today)
            return casework_refuse(TACNET_EFIELD, why, cap,
                                   "meeting_scheduled.starts_at_ms: %s has passed (today is "
                                   "%s): schedule the meeting for today or a later day; a "
                                   "meeting already held is recorded with its outcome",
                                   s_date(day, a, sizeof(a)), s_date(today, t, sizeof(t)));
        return 0;
    }
    case TACNET__EVENT_KIND__MEETING_OUTCOME:
        return s_outcome_dates(b->meeting_outcome, why, cap);
    case TACNET__EVENT_KIND__CARE_PLAN: {
        /* A plan without a start date starts the day it is sent (casestate.c). */
        const Tacnet__CarePlan *p = b->care_plan;
        int named = p->has_start_date && p->start_date;
        uint32_t start = named ? p->start_date : today;
        for (size_t i = 0; i < p->n_goals; i++)
            if (p->goals[i]->has_target_date && p->goals[i]->target_date &&
                p->goals[i]->target_date < start)
                return casework_refuse(TACNET_EFIELD, why, cap,
                                       "care_plan.goals[%zu].target_date: %s is before the plan "
                                       "starts (%s%s): a goal is to be achieved by a day after "
                                       "the plan starts%s",
                                       i, s_date(p->goals[i]->target_date, a, sizeof(a)),
                                       s_date(start, t, sizeof(t)),
                                       named ? "" : ", today, as it names no start_date",
                                       named ? "" : "; or give the plan's start_date");
        return 0;
    }
    default:
        return 0;
    }
}

int workflow_check(const Tacnet__PublishRequest *req, char *why, size_t cap)
{
    if (!req || !req->body)
        return casework_refuse(TACNET_EINVAL, why, cap, "no body");
    uint32_t latest = clock_ms_to_date(clock_now_ms() + CLOCK_DAY_MS);
    if (req->has_level_of_need) {
        int rc =
            s_value_check("level_of_need", "level_of_need", req->level_of_need, latest, why, cap);
        if (rc != 0)
            return rc;
    }
    int rc = s_walk(&req->body->base, "", latest, why, cap);
    if (rc == 0)
        rc = s_kind_check(req, why, cap);
    if (rc == 0)
        rc = s_dates_check(req, why, cap);
    /* The views are checked last, so a body with a structural fault is told that first. */
    if (rc == 0 && req->kind == TACNET__EVENT_KIND__CARE_PLAN)
        rc = goals_check(req->body->care_plan, why, cap);
    if (rc == 0)
        rc = capa_check(req->kind, req->body, why, cap);
    if (rc == 0 && family_voice_applies(req->kind))
        rc = family_voice_check(req->kind, req->body, why, cap);
    if (rc == 0)
        rc = challenge_check(req->kind, req->body, why, cap);
    return rc;
}
