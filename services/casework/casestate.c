/* casestate: fold a case's timeline into its state and its due items (see casestate.h). */
#include "casework/casestate.h"

#include "casework/cadence.h"
#include "casework/chair_rule.h"
#include "casework/escalation_engine.h"
#include "casework/family_voice.h"
#include "casework/hv_contacts.h"
#include "casework/why.h"
#include "err.h"
#include "labels.h"
#include "casework/measure.h"
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_AGENCY 16

/* Append ITEM to the protobuf repeated field ARR with count N. Each push reallocates: a case
 * holds tens of items, and it keeps every array exactly sized for free_unpacked. */
#define PUSH(arr, n, item)                                   \
    do {                                                     \
        (arr) = xrealloc((arr), ((n) + 1) * sizeof(*(arr))); \
        (arr)[(n)++] = (item);                               \
    } while (0)

/* A deep copy of any message through its wire form: the state owns everything it holds, so
 * it outlives the timeline and frees with free_unpacked. */
static void *s_copy(const void *msg)
{
    const ProtobufCMessage *m = msg;
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = xmalloc(len ? len : 1);
    protobuf_c_message_pack(m, buf);
    void *c = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
    free(buf);
    if (!c)
        abort(); /* a message we packed ourselves always unpacks, unless memory ran out */
    return c;
}

static ProtobufCBinaryData s_bytes(const uint8_t *data, size_t len)
{
    ProtobufCBinaryData b = { len, xmalloc(len ? len : 1) };
    memcpy(b.data, data, len);
    return b;
}

static int s_same(ProtobufCBinaryData a, ProtobufCBinaryData b)
{
    return a.len == b.len && a.len > 0 && memcmp(a.data, b.data, a.len) == 0;
}

static int s_is_agency(uint32_t a)
{
    return a >= 1 && a < MAX_AGENCY && a != TACNET__AGENCY__BROKER;
}

typedef struct fold {
    const casestate_opts_t *opts;
    Tacnet__CaseState *s;
    Tacnet__TeamMember *team[MAX_AGENCY];
    uint32_t lead_agency;
    int lead_accepted;       /* the lead has changed hands by an accepted hand-over */
    int opened;              /* an agency event has been folded */
    uint64_t *plan_start_ms; /* per plan in s->plans: when it (its latest version) started */
    size_t latest_plan;      /* index in s->plans of the plan published last */
    /* each event's sender by msg_id, to find who a disagreement challenges */
    struct {
        uint8_t id[16];
        uint32_t sender;
    } * senders;
    size_t n_senders;
    /* each disagreement: its escalation view, the agency and event it challenged, and the
     * escalation it joined by the broker's rule as this view saw the case then (if any) */
    struct {
        Tacnet__EscalationView *e;
        uint32_t other;
        uint8_t msg_id[16];
        uint8_t refers_to[16];
        int has_refers_to;
        uint64_t at_ms;
        Tacnet__EscalationView *joins;
    } * challenges;
    size_t n_challenges;
    /* the broker's word on each join: the disagreement JOINED joined escalation E */
    struct {
        uint8_t joined[16];
        Tacnet__EscalationView *e;
    } * joins;
    size_t n_joins;
    /* views not yet sought (family_voice.h): who, by when, and the event that deferred them */
    struct {
        uint8_t id[16];
        uint32_t sender, kind, ask_by;
        family_voice_who_t who;
    } * asks;
    size_t n_asks;
    hv_contacts_t hv; /* health visiting's universal contacts so far */
    /* the days of the planned contacts that took place, for the communication plan in force:
     * a later plan (or one delivered after its contacts) starts from its own start date */
    uint32_t *kept_contacts;
    size_t n_kept_contacts;
} fold_t;

/* ------------------------------------------------------------------ team and lead */

static Tacnet__TeamMember *s_member(fold_t *f, uint32_t agency, uint64_t at_ms)
{
    if (!s_is_agency(agency))
        return NULL;
    if (!f->team[agency]) {
        Tacnet__TeamMember *m = xcalloc(1, sizeof(*m));
        tacnet__team_member__init(m);
        m->agency = (Tacnet__Agency)agency;
        m->has_joined_ms = 1;
        m->joined_ms = at_ms;
        f->team[agency] = m;
    }
    return f->team[agency];
}

static void s_member_left(fold_t *f, uint32_t agency)
{
    if (s_is_agency(agency) && f->team[agency]) {
        tacnet__team_member__free_unpacked(f->team[agency], NULL);
        f->team[agency] = NULL;
    }
}

static void s_lead_set(fold_t *f, uint32_t agency, const Tacnet__Professional *who)
{
    if (f->s->lead)
        tacnet__professional__free_unpacked(f->s->lead, NULL);
    if (who) {
        f->s->lead = s_copy(who);
    } else {
        f->s->lead = xcalloc(1, sizeof(*f->s->lead));
        tacnet__professional__init(f->s->lead);
    }
    if (!f->s->lead->has_agency) {
        f->s->lead->has_agency = 1;
        f->s->lead->agency = (Tacnet__Agency)agency;
    }
    f->lead_agency = f->s->lead->agency;
    /* The lead professional is their agency's named contact unless it named another. */
    Tacnet__TeamMember *m = who ? s_member(f, f->lead_agency, 0) : NULL;
    if (m && !m->named_contact)
        m->named_contact = s_copy(who);
}

/* The team names one lead professional, whoever leads now, so its rows agree with the lead the
 * case shows: a named contact who joined as the lead professional but no longer leads (the lead
 * was handed over, or the agency never led) is a practitioner; once a hand-over has been
 * accepted, the new lead's agency's named contact who is that lead (the same initials, or any
 * when the acceptance named none) is the lead professional. The lead the case opened with (the
 * opening agency, unnamed) leaves its agency's contact's own role as it was named. */
static void s_team_roles(fold_t *f)
{
    const Tacnet__Professional *lead = f->s->lead;
    if (!lead)
        return;
    for (unsigned a = 1; a < MAX_AGENCY; a++) {
        Tacnet__Professional *p = f->team[a] ? f->team[a]->named_contact : NULL;
        if (!p)
            continue;
        int leads =
            a == f->lead_agency && (!lead->initials.len || s_same(lead->initials, p->initials));
        if (leads && f->lead_accepted) {
            p->has_role = 1;
            p->role = TACNET__ROLE__LEAD_PROFESSIONAL;
        } else if (!leads && p->has_role && p->role == TACNET__ROLE__LEAD_PROFESSIONAL) {
            p->role = TACNET__ROLE__PRACTITIONER;
        }
    }
}

static void s_handover_clear(fold_t *f)
{
    if (f->s->pending_handover) {
        tacnet__handover_view__free_unpacked(f->s->pending_handover, NULL);
        f->s->pending_handover = NULL;
    }
}

/* ------------------------------------------------------------------ meetings and actions */

static Tacnet__MeetingView *s_meeting(fold_t *f, ProtobufCBinaryData id)
{
    if (id.len == 0)
        return NULL;
    for (size_t i = 0; i < f->s->n_meetings; i++)
        if (s_same(f->s->meetings[i]->meeting_id, id))
            return f->s->meetings[i];
    Tacnet__MeetingView *m = xcalloc(1, sizeof(*m));
    tacnet__meeting_view__init(m);
    m->meeting_id = s_bytes(id.data, id.len);
    PUSH(f->s->meetings, f->s->n_meetings, m);
    return m;
}

static Tacnet__ActionView *s_action_find(fold_t *f, ProtobufCBinaryData id)
{
    for (size_t i = 0; i < f->s->n_actions; i++)
        if (s_same(f->s->actions[i]->action->action_id, id))
            return f->s->actions[i];
    return NULL;
}

/* The chair rule, judged against the team as it is when the meeting is scheduled or minuted.
 * A lead recorded without initials is taken to be the lead agency's named contact. */
static void s_judge_chair(fold_t *f, Tacnet__MeetingView *m, const Tacnet__Professional *chair)
{
    const Tacnet__Professional *involved[MAX_AGENCY];
    size_t n = 0;
    for (uint32_t a = 0; a < MAX_AGENCY; a++)
        if (f->team[a] && f->team[a]->named_contact)
            involved[n++] = f->team[a]->named_contact;
    const Tacnet__Professional *lead = f->s->lead;
    if (lead && !lead->has_initials && s_is_agency(f->lead_agency) && f->team[f->lead_agency])
        lead = f->team[f->lead_agency]->named_contact;
    m->has_chair_rule = 1;
    m->chair_rule = (Tacnet__ChairRule)chair_rule_judge(chair, lead, involved, n);
}

/* Returns 0 when the meeting is already minuted: the first minutes stand whoever sends a second
 * account, the same agency too (the event stays in the timeline) and nothing of it is applied —
 * no actions, no review. A second account replacing the first wiped the attendees, the
 * family's views, the decisions and the actions the team had agreed on. */
static int s_meeting_outcome(fold_t *f, const Tacnet__MeetingOutcome *o, uint32_t sender)
{
    Tacnet__MeetingView *m = s_meeting(f, o->meeting_id);
    if (m && (m->has_minuted_by || m->outcome))
        return 0;
    if (m) {
        m->outcome = s_copy(o);
        m->has_minuted_by = 1;
        m->minuted_by = (Tacnet__Agency)sender;
        s_judge_chair(f, m, o->chair);
    }
    for (size_t i = 0; i < o->n_actions; i++) {
        const Tacnet__Action *a = o->actions[i];
        if (a->action_id.len == 0)
            continue;
        Tacnet__ActionView *v = s_action_find(f, a->action_id);
        if (v) { /* the same action carried into a later meeting's minutes */
            tacnet__action__free_unpacked(v->action, NULL);
            v->action = s_copy(a);
            continue;
        }
        v = xcalloc(1, sizeof(*v));
        tacnet__action_view__init(v);
        v->action = s_copy(a);
        if (o->meeting_id.len) {
            v->has_meeting_id = 1;
            v->meeting_id = s_bytes(o->meeting_id.data, o->meeting_id.len);
        }
        PUSH(f->s->actions, f->s->n_actions, v);
    }
    return 1;
}

/* The chair of each meeting: the one scheduled or minuted, else the senior not directly
 * involved whom the request suggested, else the lead professional (docs/DOMAIN.md, meetings). */
static void s_meeting_chairs(fold_t *f)
{
    for (size_t i = 0; i < f->s->n_meetings; i++) {
        Tacnet__MeetingView *m = f->s->meetings[i];
        const Tacnet__Professional *c = NULL;
        if (m->outcome && m->outcome->chair)
            c = m->outcome->chair;
        else if (m->scheduled && m->scheduled->chair)
            c = m->scheduled->chair;
        else if (m->requested && m->requested->suggested_chair)
            c = m->requested->suggested_chair;
        else
            c = f->s->lead;
        if (c)
            m->chair = s_copy(c);
    }
}

/* ------------------------------------------------------------------ escalations */

static Tacnet__EscalationView *s_escalation(fold_t *f, ProtobufCBinaryData id, int create)
{
    if (id.len == 0)
        return NULL;
    for (size_t i = 0; i < f->s->n_escalations; i++)
        if (s_same(f->s->escalations[i]->escalation_id, id))
            return f->s->escalations[i];
    if (!create)
        return NULL;
    Tacnet__EscalationView *e = xcalloc(1, sizeof(*e));
    tacnet__escalation_view__init(e);
    e->escalation_id = s_bytes(id.data, id.len);
    PUSH(f->s->escalations, f->s->n_escalations, e);
    return e;
}

static void s_notice(fold_t *f, const Tacnet__Header *h, const Tacnet__EscalationNotice *n)
{
    ProtobufCBinaryData id = n && n->has_escalation_id ? n->escalation_id : h->refers_to;
    Tacnet__EscalationView *e = s_escalation(f, id, 1);
    if (!e)
        return;
    uint32_t event = n && n->has_event ? n->event : h->escalation_event;
    if (event) {
        e->has_state = 1;
        e->state = (Tacnet__EscalationEvent)event;
    }
    if (event == TACNET__ESCALATION_EVENT__ESC_ADVANCED) {
        /* A new stage (its deadline passed, or a party did not accept the resolution): any
         * resolution proposed before, and its acknowledgements, are gone with the old stage. */
        if (e->resolution)
            tacnet__escalation_resolved__free_unpacked(e->resolution, NULL);
        e->resolution = NULL;
        e->n_acknowledged = 0;
        e->has_resolved_by = 0;
        e->resolved_by = 0;
    }
    uint32_t stage = n && n->has_stage ? n->stage : h->escalation_stage;
    if (stage) {
        e->has_stage = 1;
        e->stage = stage;
    }
    uint32_t audience = n && n->has_audience ? n->audience : h->audience;
    if (audience) {
        e->has_audience = 1;
        e->audience = (Tacnet__Role)audience;
    }
    e->has_deadline_ms = 1;
    e->deadline_ms = n && n->has_deadline_ms ? n->deadline_ms : h->deadline_ms;
    if (h->has_urgent && h->urgent) {
        e->has_urgent = 1;
        e->urgent = 1;
    }
    if (!n)
        return;
    if (n->has_automatic) {
        e->has_automatic = 1;
        e->automatic = n->automatic;
    }
    if (n->has_joined && n->joined.len == 16) {
        f->joins = xrealloc(f->joins, (f->n_joins + 1) * sizeof(*f->joins));
        memcpy(f->joins[f->n_joins].joined, n->joined.data, 16);
        f->joins[f->n_joins++].e = e;
    }
    if (n->n_parties) {
        free(e->parties);
        e->parties = xcalloc(n->n_parties, sizeof(*e->parties));
        memcpy(e->parties, n->parties, n->n_parties * sizeof(*e->parties));
        e->n_parties = n->n_parties;
    }
    PUSH(e->history, e->n_history, (Tacnet__EscalationNotice *)s_copy(n));
    PUSH(e->history_at_ms, e->n_history_at_ms, h->created_at_ms);
}

/* Whether A and B encode to the same bytes. */
static int s_same_message(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na = protobuf_c_message_get_packed_size(a), nb = protobuf_c_message_get_packed_size(b);
    if (na != nb)
        return 0;
    uint8_t *x = xmalloc(na + 1), *y = xmalloc(nb + 1);
    protobuf_c_message_pack(a, x);
    protobuf_c_message_pack(b, y);
    int same = memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* A party did not accept E's current resolution: kept in E's record of refused resolutions
 * (the view drops the resolution itself once the broker moves the dispute on), one entry per
 * resolution with every party that refused it. */
static void s_refused(Tacnet__EscalationView *e, const Tacnet__Header *h)
{
    if (!e->resolution)
        return;
    Tacnet__RefusedResolution *r = e->n_refused ? e->refused[e->n_refused - 1] : NULL;
    if (r && !(r->stage == (e->has_stage ? e->stage : 1) &&
               s_same_message(&r->resolution->base, &e->resolution->base)))
        r = NULL;
    if (!r) {
        r = xcalloc(1, sizeof(*r));
        tacnet__refused_resolution__init(r);
        r->has_stage = 1;
        r->stage = e->has_stage ? e->stage : 1;
        r->resolution = s_copy(e->resolution);
        r->has_proposed_by = e->has_resolved_by;
        r->proposed_by = e->resolved_by;
        r->has_refused_at_ms = 1;
        r->refused_at_ms = h->created_at_ms;
        PUSH(e->refused, e->n_refused, r);
    }
    for (size_t i = 0; i < r->n_refused_by; i++)
        if (r->refused_by[i] == h->sender)
            return;
    PUSH(r->refused_by, r->n_refused_by, h->sender);
}

static void s_escalation_event(fold_t *f, const Tacnet__Header *h, const Tacnet__Body *b)
{
    Tacnet__EscalationView *e = s_escalation(f, h->refers_to, 0);
    if (!e || !b)
        return;
    switch (h->kind) {
    case TACNET__EVENT_KIND__ESCALATION_RESPONSE:
        if (b->escalation_response) {
            PUSH(e->responses, e->n_responses,
                 (Tacnet__EscalationResponse *)s_copy(b->escalation_response));
            PUSH(e->response_at_ms, e->n_response_at_ms, h->created_at_ms);
        }
        break;
    case TACNET__EVENT_KIND__ESCALATION_RESOLVED:
        if (b->escalation_resolved) {
            if (e->resolution)
                tacnet__escalation_resolved__free_unpacked(e->resolution, NULL);
            e->resolution = s_copy(b->escalation_resolved);
            e->n_acknowledged = 0; /* a new resolution is acknowledged afresh */
            e->has_resolved_by = 1;
            e->resolved_by = h->sender;
        }
        break;
    case TACNET__EVENT_KIND__ESCALATION_ACK:
        /* Not accepting is no acknowledgement: the broker takes the dispute to the next stage
         * (its notice follows). At the last stage there is none: the partnership's decision
         * stands and the broker counts the answer as an acknowledgement, so the view does too. */
        if (h->has_resolution_accepted && !h->resolution_accepted &&
            !(e->has_stage && e->stage >= CASESTATE_ESCALATION_LAST_STAGE)) {
            s_refused(e, h);
            return;
        }
        for (size_t i = 0; i < e->n_acknowledged; i++)
            if (e->acknowledged[i] == h->sender)
                return;
        PUSH(e->acknowledged, e->n_acknowledged, h->sender);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ measures */

static void s_measure(fold_t *f, const Tacnet__Header *h, const Tacnet__OutcomeMeasure *m)
{
    Tacnet__MeasureView *v = xcalloc(1, sizeof(*v));
    tacnet__measure_view__init(v);
    v->msg_id = s_bytes(h->msg_id.data, h->msg_id.len);
    v->by = h->sender;
    v->tool = m->has_tool ? m->tool : TACNET__MEASURE_TOOL__TOOL_UNKNOWN;
    v->has_informant = m->has_informant;
    v->informant = m->informant;
    v->has_measured_date = m->has_measured_date;
    v->measured_date = m->measured_date;
    v->has_baseline = m->has_baseline;
    v->baseline = m->baseline;
    if (m->has_plan_id) {
        v->has_plan_id = 1;
        v->plan_id = s_bytes(m->plan_id.data, m->plan_id.len);
    }
    measure_score_t sc;
    /* Refused at publish by every honest daemon; one that slipped through is shown unscored. */
    if (measure_score(m, &sc, NULL, 0) == 0) {
        const uint32_t *sub = NULL;
        size_t nsub = 0;
        switch (v->tool) {
        case TACNET__MEASURE_TOOL__GBO:
            v->goal_ids = xcalloc(sc.n_goals + 1, sizeof(uint32_t));
            v->goal_scores = xcalloc(sc.n_goals + 1, sizeof(uint32_t));
            memcpy(v->goal_ids, sc.goal_ids, sc.n_goals * sizeof(uint32_t));
            memcpy(v->goal_scores, sc.goal_scores, sc.n_goals * sizeof(uint32_t));
            v->n_goal_ids = v->n_goal_scores = sc.n_goals;
            break;
        case TACNET__MEASURE_TOOL__SDQ:
            sub = sc.sdq_scale, nsub = MEASURE_SDQ_SCALES;
            v->band = xstrdup(measure_band_name(sc.sdq_total_band, 0));
            break;
        case TACNET__MEASURE_TOOL__RCADS:
            sub = sc.rcads_scale, nsub = MEASURE_RCADS_SCALES;
            break;
        default:
            sub = sc.ors_scale, nsub = MEASURE_ORS_SCALES;
            break;
        }
        if (v->tool != TACNET__MEASURE_TOOL__GBO) {
            v->has_total = 1;
            v->total = sc.total;
            v->subscales = xcalloc(nsub, sizeof(uint32_t));
            memcpy(v->subscales, sub, nsub * sizeof(uint32_t));
            v->n_subscales = nsub;
        }
    }
    PUSH(f->s->measures, f->s->n_measures, v);
}

static int s_gbo_score(const Tacnet__MeasureView *v, uint32_t goal, uint32_t *score)
{
    for (size_t i = 0; v && i < v->n_goal_ids; i++)
        if (v->goal_ids[i] == goal) {
            *score = v->goal_scores[i];
            return 1;
        }
    return 0;
}

/* Whether GBO measure V counts for plan P: P's owner's, and for P (its plan_id names P; one
 * that names no plan, sent before measures named their plan, counts for each of the owner's). */
static int s_gbo_for_plan(const Tacnet__MeasureView *v, const Tacnet__PlanView *p)
{
    if (v->tool != TACNET__MEASURE_TOOL__GBO || v->by != p->by)
        return 0;
    if (!v->has_plan_id || !p->has_plan_id)
        return 1;
    return v->plan_id.len == p->plan_id.len &&
           memcmp(v->plan_id.data, p->plan_id.data, p->plan_id.len) == 0;
}

/* Whether measure A was taken after B: by measured_date (a measure without one, as the oldest),
 * then, on the same day, in the order they came (A at index IA, B at IB). */
static int s_measured_after(const Tacnet__MeasureView *a, size_t ia, const Tacnet__MeasureView *b,
                            size_t ib)
{
    uint32_t da = a->has_measured_date ? a->measured_date : 0;
    uint32_t db = b->has_measured_date ? b->measured_date : 0;
    return da != db ? da > db : ia > ib;
}

/* Goal GOAL's scores among plan P's GBO measures (s_gbo_for_plan), in the order they were
 * measured (s_measured_after), not the order they came: a score entered late for an earlier
 * session is not the latest. Its baseline is from the earliest measure marked baseline that scores
 * it, else the earliest that scores it; its latest, from the last measured that scores it. A GBO
 * record scores only the goals it names: taking the latest record whole left a goal it did not
 * name unmeasured, though an earlier record had scored it. Returns how many measures score it;
 * *SAME is 1 when the baseline and the latest are one measure (no change to tell yet). */
static size_t s_gbo_goal(const Tacnet__CaseState *s, const Tacnet__PlanView *p, uint32_t goal,
                         uint32_t *base, uint32_t *latest, int *same)
{
    size_t n = 0, at_base = 0, at_latest = 0;
    int marked = 0;
    for (size_t i = 0; i < s->n_measures; i++) {
        const Tacnet__MeasureView *v = s->measures[i];
        uint32_t score;
        if (!s_gbo_for_plan(v, p) || !s_gbo_score(v, goal, &score))
            continue;
        int is_baseline = v->has_baseline && v->baseline;
        const Tacnet__MeasureView *b = n ? s->measures[at_base] : NULL;
        if (!n || (is_baseline && !marked) ||
            (is_baseline == marked && s_measured_after(b, at_base, v, i))) {
            *base = score;
            at_base = i;
            marked = is_baseline;
        }
        if (!n || s_measured_after(v, i, s->measures[at_latest], at_latest)) {
            *latest = score;
            at_latest = i;
        }
        n++;
    }
    *same = at_base == at_latest;
    return n;
}

/* Change from baseline per goal of plan P (docs/DOMAIN.md: GBO progress is the movement of each
 * goal's score, not a total), from its owner's GBO measures only. Goal ids are numbers each
 * agency gives its own plan's goals, so another agency's goal 2 is a different goal: borrowing
 * its scores showed progress nobody measured on this plan. No scores of the owner's: every
 * goal is left unmeasured (no has_* set). A goal first scored after the baseline measure takes
 * its first score as its baseline; a goal scored once has no change yet. */
static void s_goal_progress_one(fold_t *f, Tacnet__PlanView *p)
{
    for (size_t i = 0; i < p->plan->n_goals; i++) {
        const Tacnet__Goal *g = p->plan->goals[i];
        if (!g->has_goal_id)
            continue;
        Tacnet__GoalProgress *gp = xcalloc(1, sizeof(*gp));
        tacnet__goal_progress__init(gp);
        gp->goal_id = g->goal_id;
        if (g->description)
            gp->description = xstrdup(g->description);
        uint32_t base = 0, latest = 0;
        int same = 1;
        if (s_is_agency(p->by) && s_gbo_goal(f->s, p, g->goal_id, &base, &latest, &same)) {
            gp->has_baseline_score = 1;
            gp->baseline_score = base;
            gp->has_latest_score = 1;
            gp->latest_score = latest;
            gp->has_change = !same;
            gp->change = same ? 0 : (int32_t)latest - (int32_t)base;
        }
        PUSH(p->progress, p->n_progress, gp);
    }
}

/* Progress on every plan; then the lead plan first, and `plan` for readers of one plan: the
 * lead plan, else the one published last. */
static void s_plans_finish(fold_t *f)
{
    Tacnet__CaseState *s = f->s;
    for (size_t i = 0; i < s->n_plans; i++)
        s_goal_progress_one(f, s->plans[i]);
    for (size_t i = 1; i < s->n_plans; i++) {
        if (!s->plans[i]->lead)
            continue;
        Tacnet__PlanView *lead = s->plans[i];
        uint64_t start = f->plan_start_ms[i];
        memmove(s->plans + 1, s->plans, i * sizeof(*s->plans));
        memmove(f->plan_start_ms + 1, f->plan_start_ms, i * sizeof(*f->plan_start_ms));
        s->plans[0] = lead;
        f->plan_start_ms[0] = start;
        f->latest_plan = f->latest_plan < i ? f->latest_plan + 1 : f->latest_plan == i ? 0 : i;
        break;
    }
    if (s->n_plans)
        s->plan = s_copy(s->plans[s->plans[0]->lead ? 0 : f->latest_plan]);
}

/* A care plan: its owner's new version of its plan of that type, or a new plan beside every
 * other agency's. A lead plan replaces the case's lead plan before it, whoever made that one
 * (a step up from a TAF plan to a CIN plan ends the TAF plan). */
static void s_care_plan(fold_t *f, const Tacnet__Header *h, const Tacnet__CarePlan *cp)
{
    Tacnet__CaseState *s = f->s;
    uint32_t type = cp->has_type ? cp->type : TACNET__PLAN_TYPE__PLAN_UNKNOWN;
    size_t i = 0;
    while (i < s->n_plans && !(s->plans[i]->by == h->sender && s->plans[i]->plan->type == type) &&
           !(cadence_plan_is_lead(type) && cadence_plan_is_lead(s->plans[i]->plan->type)))
        i++;
    Tacnet__PlanView *v = xcalloc(1, sizeof(*v));
    tacnet__plan_view__init(v);
    v->msg_id = s_bytes(h->msg_id.data, h->msg_id.len);
    v->by = h->sender;
    v->plan = s_copy(cp);
    v->has_lead = 1;
    v->lead = cadence_plan_is_lead(type);
    v->has_plan_id = 1;
    if (i < s->n_plans && s->plans[i]->by == h->sender && s->plans[i]->plan->type == type &&
        s->plans[i]->has_plan_id)
        v->plan_id = s_bytes(s->plans[i]->plan_id.data, s->plans[i]->plan_id.len); /* revised */
    else
        v->plan_id = s_bytes(h->msg_id.data, h->msg_id.len);
    if (i < s->n_plans) {
        tacnet__plan_view__free_unpacked(s->plans[i], NULL);
        s->plans[i] = v;
    } else {
        size_t n = s->n_plans;
        PUSH(s->plans, s->n_plans, v);
        f->plan_start_ms = xrealloc(f->plan_start_ms, s->n_plans * sizeof(*f->plan_start_ms));
        i = n;
    }
    f->plan_start_ms[i] = cp->has_start_date ? clock_date_to_ms(cp->start_date) : h->created_at_ms;
    v->has_start_date = 1;
    v->start_date = clock_ms_to_date(f->plan_start_ms[i]);
    f->latest_plan = i;
}

/* ------------------------------------------------------------------ one event */

static uint32_t s_sender_of(const fold_t *f, ProtobufCBinaryData id)
{
    for (size_t i = 0; id.len == 16 && i < f->n_senders; i++)
        if (memcmp(f->senders[i].id, id.data, 16) == 0)
            return f->senders[i].sender;
    return 0;
}

static void s_escalation_remove(fold_t *f, const Tacnet__EscalationView *e)
{
    Tacnet__CaseState *s = f->s;
    for (size_t i = 0; i < s->n_escalations; i++)
        if (s->escalations[i] == e) {
            tacnet__escalation_view__free_unpacked(s->escalations[i], NULL);
            memmove(s->escalations + i, s->escalations + i + 1,
                    (s->n_escalations - i - 1) * sizeof(*s->escalations));
            s->n_escalations--;
            return;
        }
}

/* Where the disagreement of challenge I joined: the escalation a broker notice named (its word
 * is final), else the one the shared join rule found when it was folded. NULL: its own. */
static Tacnet__EscalationView *s_joined_into(const fold_t *f, size_t i)
{
    for (size_t k = 0; k < f->n_joins; k++)
        if (memcmp(f->joins[k].joined, f->challenges[i].msg_id, 16) == 0)
            return f->joins[k].e;
    return f->challenges[i].joins;
}

/* The broker keeps one escalation per dispute (escalation_engine_join_rank): a disagreement that
 * joined an open escalation never gets a notice of its own. Fold it inside the escalation it
 * joined, as the README promises, instead of showing it as a separate escalation that nobody
 * can answer and that would hold the case open for ever. One with a notice of its own opened
 * its own escalation, whatever this view guessed. */
static void s_join_disagreements(fold_t *f)
{
    for (size_t i = 0; i < f->n_challenges; i++) {
        Tacnet__EscalationView *d = f->challenges[i].e;
        Tacnet__EscalationView *into = s_joined_into(f, i);
        if (d->has_state || !into || into == d)
            continue;
        Tacnet__JoinedDisagreement *j = xcalloc(1, sizeof(*j));
        tacnet__joined_disagreement__init(j);
        j->msg_id = s_bytes(f->challenges[i].msg_id, 16);
        j->has_msg_id = 1;
        j->has_raised_by = d->has_raised_by;
        j->raised_by = d->raised_by;
        j->disagreement = d->disagreement;
        d->disagreement = NULL;
        j->has_raised_at_ms = f->challenges[i].at_ms != 0;
        j->raised_at_ms = f->challenges[i].at_ms;
        PUSH(into->joined, into->n_joined, j);
        for (size_t k = 0; k < f->n_challenges; k++) {
            if (f->challenges[k].e == d)
                f->challenges[k].e = into;
            if (f->challenges[k].joins == d)
                f->challenges[k].joins = into;
        }
        for (size_t k = 0; k < f->n_joins; k++)
            if (f->joins[k].e == d)
                f->joins[k].e = into;
        s_escalation_remove(f, d);
    }
}

/* The escalation the disagreement in H joins by the broker's rule, judged on what this view
 * holds now: each earlier escalation's challenged event, its parties (from the broker's notices,
 * else its raiser and the agency it challenged) and whether it is closed. */
static Tacnet__EscalationView *s_join_target(fold_t *f, const Tacnet__Header *h, uint32_t other)
{
    Tacnet__EscalationView *best = NULL;
    int rank = ESCALATE_JOIN_NONE;
    const uint8_t *refers_to =
        h->has_refers_to && h->refers_to.len == 16 ? h->refers_to.data : NULL;
    for (size_t i = 0; i < f->s->n_escalations; i++) {
        Tacnet__EscalationView *e = f->s->escalations[i];
        if (e->escalation_id.len != 16 || s_same(e->escalation_id, h->msg_id))
            continue;
        uint32_t parties[ESCALATE_MAX_PARTIES];
        unsigned n = 0;
        const uint8_t *about = NULL;
        int joined = 0; /* a disagreement that joined another: no escalation of its own */
        for (size_t k = 0; k < f->n_challenges; k++)
            if (f->challenges[k].e == e &&
                memcmp(f->challenges[k].msg_id, e->escalation_id.data, 16) == 0) {
                joined |= s_joined_into(f, k) != NULL && !e->has_state;
                if (!f->challenges[k].has_refers_to)
                    continue;
                about = f->challenges[k].refers_to;
                if (!e->n_parties && e->has_raised_by && f->challenges[k].other) {
                    parties[n++] = e->raised_by;
                    parties[n++] = f->challenges[k].other;
                }
            }
        if (joined)
            continue;
        for (size_t k = 0; k < e->n_parties && n < ESCALATE_MAX_PARTIES; k++)
            parties[n++] = (uint32_t)e->parties[k];
        escalation_engine_join_candidate_t c = {
            e->escalation_id.data, about, parties, n,
            e->has_state && e->state == TACNET__ESCALATION_EVENT__ESC_CLOSED
        };
        int k = escalation_engine_join_rank(&c, h->msg_id.data, refers_to, h->sender, other);
        if (k > rank) {
            rank = k;
            best = e;
        }
    }
    return best;
}

/* The latest CAPA Choice record replaces the one before: a family may come back to Choice. */
static void s_capa_choice(fold_t *f, const Tacnet__Header *h, const Tacnet__Assessment *a)
{
    Tacnet__CaseState *s = f->s;
    if (!a->capa_choice)
        return;
    if (s->capa_choice)
        tacnet__capa_choice_view__free_unpacked(s->capa_choice, NULL);
    Tacnet__CapaChoiceView *v = xcalloc(1, sizeof(*v));
    tacnet__capa_choice_view__init(v);
    v->msg_id = s_bytes(h->msg_id.data, h->msg_id.len);
    v->by = h->sender;
    v->has_completed_date = a->has_completed_date;
    v->completed_date = a->completed_date;
    v->record = s_copy(a->capa_choice);
    s->capa_choice = v;
}

/* The team and its lead: who is a member, their level of need, handovers. */
static void s_apply_team(fold_t *f, const Tacnet__Header *h, const Tacnet__Body *b)
{
    Tacnet__CaseState *s = f->s;
    uint64_t at = h->created_at_ms;
    switch (h->kind) {
    case TACNET__EVENT_KIND__REFERRAL:
        if (h->has_subject_agency)
            s_member(f, h->subject_agency, at);
        break;
    case TACNET__EVENT_KIND__ASSESSMENT:
        if (h->sender == TACNET__AGENCY__HEALTH_VISITING && b && b->assessment) {
            const Tacnet__Assessment *a = b->assessment;
            /* A malformed contact or date is the sender's problem; the rest still folds. */
            (void)hv_contacts_record(&f->hv, a->has_hv_contact ? a->hv_contact : 0,
                                     a->has_completed_date ? a->completed_date : 0,
                                     a->has_birth_date ? a->birth_date : 0);
        }
        if (b && b->assessment)
            s_capa_choice(f, h, b->assessment);
        if (h->has_level_of_need) {
            Tacnet__TeamMember *m = s_member(f, h->sender, at);
            if (m) {
                m->has_level_of_need = 1;
                m->level_of_need = h->level_of_need;
            }
        }
        break;
    case TACNET__EVENT_KIND__MEMBER_JOINED: {
        Tacnet__TeamMember *m = s_member(f, h->has_subject_agency ? h->subject_agency : 0, at);
        const Tacnet__MemberJoined *j = b ? b->member_joined : NULL;
        if (m && j) {
            if (j->named_contact) {
                if (m->named_contact)
                    tacnet__professional__free_unpacked(m->named_contact, NULL);
                m->named_contact = s_copy(j->named_contact);
            }
            if (j->team) {
                free(m->team);
                m->team = xstrdup(j->team);
            }
            if (j->how_to_reach) {
                free(m->how_to_reach);
                m->how_to_reach = xstrdup(j->how_to_reach);
            }
        }
        break;
    }
    case TACNET__EVENT_KIND__MEMBER_LEFT:
        if (h->has_subject_agency)
            s_member_left(f, h->subject_agency);
        break;
    case TACNET__EVENT_KIND__LEAD_HANDOVER:
        s_handover_clear(f);
        if (b && b->lead_handover && b->lead_handover->new_lead) {
            Tacnet__HandoverView *hv = xcalloc(1, sizeof(*hv));
            tacnet__handover_view__init(hv);
            hv->from_agency = (Tacnet__Agency)(f->lead_agency ? f->lead_agency : h->sender);
            hv->new_lead = s_copy(b->lead_handover->new_lead);
            if (!hv->new_lead->has_agency && h->has_subject_agency) {
                hv->new_lead->has_agency = 1;
                hv->new_lead->agency = h->subject_agency;
            }
            hv->offered_ms = at;
            s->pending_handover = hv;
        }
        break;
    case TACNET__EVENT_KIND__LEAD_ACCEPTED:
        s_lead_set(f, h->sender, b && b->lead_accepted ? b->lead_accepted->lead : NULL);
        f->lead_accepted = 1;
        s_handover_clear(f);
        break;
    default:
        break;
    }
}

/* A disagreement opens (or joins) an escalation view, remembering the agency and the event it
 * challenges (the sender of that event, or subject_agency when the raiser challenges its own, as
 * the broker reads it) and the escalation it joins by the broker's rule. */
static void s_apply_disagreement(fold_t *f, const Tacnet__Header *h, const Tacnet__Body *b)
{
    if (h->msg_id.len != 16)
        return;
    uint32_t other = h->has_refers_to ? s_sender_of(f, h->refers_to) : 0;
    if (other && other == h->sender && h->has_subject_agency)
        other = h->subject_agency;
    Tacnet__EscalationView *joins = s_join_target(f, h, other);
    Tacnet__EscalationView *e = s_escalation(f, h->msg_id, 1);
    f->challenges = xrealloc(f->challenges, (f->n_challenges + 1) * sizeof(*f->challenges));
    memset(&f->challenges[f->n_challenges], 0, sizeof(*f->challenges));
    f->challenges[f->n_challenges].e = e;
    f->challenges[f->n_challenges].other = other;
    memcpy(f->challenges[f->n_challenges].msg_id, h->msg_id.data, 16);
    if (h->has_refers_to && h->refers_to.len == 16) {
        memcpy(f->challenges[f->n_challenges].refers_to, h->refers_to.data, 16);
        f->challenges[f->n_challenges].has_refers_to = 1;
    }
    f->challenges[f->n_challenges].at_ms = h->created_at_ms;
    f->challenges[f->n_challenges++].joins = joins;
    e->has_raised_by = 1;
    e->raised_by = h->sender;
    if (h->has_urgent && h->urgent) {
        e->has_urgent = 1;
        e->urgent = 1;
    }
    if (b && b->disagreement && !e->disagreement)
        e->disagreement = s_copy(b->disagreement);
}

/* Whether SENDER may change action V's status: the agency that owns it, the case's lead
 * professional's agency as it is at this point of the timeline, or the agency that minuted the
 * meeting that set it. Anyone else's update is ignored on receipt (the event stays in the
 * timeline): a bystander marking another agency's action done hid work still owed. */
static int s_may_update_action(fold_t *f, const Tacnet__ActionView *v, uint32_t sender)
{
    return s_is_agency(sender) &&
           casestate_action_may_update(f->s, v, sender, f->lead_agency, NULL);
}

const Tacnet__ActionView *casestate_action_find(const Tacnet__CaseState *st, ProtobufCBinaryData id)
{
    for (size_t i = 0; st && id.len && i < st->n_actions; i++)
        if (s_same(st->actions[i]->action->action_id, id))
            return st->actions[i];
    return NULL;
}

int casestate_action_may_update(const Tacnet__CaseState *st, const Tacnet__ActionView *v,
                                uint32_t agency, uint32_t lead, uint32_t *minuted)
{
    uint32_t by = 0;
    for (size_t i = 0; st && v->has_meeting_id && i < st->n_meetings; i++) {
        const Tacnet__MeetingView *m = st->meetings[i];
        if (s_same(m->meeting_id, v->meeting_id)) {
            by = m->has_minuted_by ? (uint32_t)m->minuted_by : 0;
            break;
        }
    }
    if (minuted)
        *minuted = by;
    return (v->action->has_owner_agency && (uint32_t)v->action->owner_agency == agency) ||
           (lead && lead == agency) || (by && by == agency);
}

int casestate_minutes_date_check(const Tacnet__MeetingView *m, uint32_t held_date, long offset_s,
                                 char *why, size_t cap)
{
    if (!m || !m->scheduled || !m->scheduled->has_starts_at_ms || !held_date)
        return 0;
    int64_t local = (int64_t)m->scheduled->starts_at_ms + (int64_t)offset_s * 1000;
    uint32_t day = clock_ms_to_date(local > 0 ? (uint64_t)local : 0);
    if (held_date >= day)
        return 0;
    return casework_refuse(TACNET_EFIELD, why, cap,
                           "meeting_outcome.held_date: the minutes are dated %04u-%02u-%02u, "
                           "before the meeting, which was scheduled for %04u-%02u-%02u: give the "
                           "day it was held (if it was brought forward, schedule it again for "
                           "that day first)",
                           held_date / 10000, held_date / 100 % 100, held_date % 100, day / 10000,
                           day / 100 % 100, day % 100);
}

/* Whether the minutes O, sent by SENDER, count as a review of a plan OWNER holds: the owner
 * took part — it minuted the meeting, chaired it, or one of the attendees is its own. A
 * meeting another agency held without it reviews nothing of its plan (a network meeting once
 * moved CAMHS's CAPA plan review though CAMHS was not there). Minutes that list no attendees
 * (the dashboard's do not record them yet) cannot say who was there: they count for the
 * minuting agency's plans and for those of the agencies given actions, which the meeting
 * plainly involved. */
static int s_meeting_reviews(const Tacnet__MeetingOutcome *o, uint32_t sender, uint32_t owner)
{
    if (!s_is_agency(owner))
        return 0;
    if (sender == owner || (o->chair && o->chair->has_agency && o->chair->agency == owner))
        return 1;
    for (size_t i = 0; i < o->n_attendees; i++)
        if (o->attendees[i] && o->attendees[i]->has_agency && o->attendees[i]->agency == owner)
            return 1;
    if (o->n_attendees)
        return 0;
    for (size_t i = 0; i < o->n_actions; i++)
        if (o->actions[i]->has_owner_agency && o->actions[i]->owner_agency == owner)
            return 1;
    return 0;
}

/* Meetings and their actions; a meeting held since a plan started, with the plan's owner taking
 * part, is its latest review. */
static void s_apply_meeting(fold_t *f, const Tacnet__Header *h, const Tacnet__Body *b)
{
    Tacnet__CaseState *s = f->s;
    switch (h->kind) {
    case TACNET__EVENT_KIND__MEETING_REQUESTED:
        if (b && b->meeting_requested) {
            Tacnet__MeetingView *m = s_meeting(f, b->meeting_requested->meeting_id);
            if (m && !m->requested) {
                m->requested = s_copy(b->meeting_requested);
                m->has_requested_by = 1;
                m->requested_by = h->sender;
            }
        }
        break;
    case TACNET__EVENT_KIND__MEETING_SCHEDULED:
        if (b && b->meeting_scheduled) {
            Tacnet__MeetingView *m = s_meeting(f, b->meeting_scheduled->meeting_id);
            if (m && m->outcome) {
                /* Sent by a view that lacks the minutes: the meeting was held, so this is a date
                 * for a further one, not a new date for this one. */
                if (m->further)
                    tacnet__meeting_scheduled__free_unpacked(m->further, NULL);
                m->further = s_copy(b->meeting_scheduled);
                m->has_further_by = 1;
                m->further_by = h->sender;
            } else if (m) {
                /* A new time that names no chair keeps the chair already scheduled: judging
                 * "no chair named" beside the chair still shown said two things at once. */
                Tacnet__Professional *kept = NULL;
                if (m->scheduled && m->scheduled->chair && !b->meeting_scheduled->chair) {
                    kept = m->scheduled->chair;
                    m->scheduled->chair = NULL;
                }
                if (m->scheduled)
                    tacnet__meeting_scheduled__free_unpacked(m->scheduled, NULL);
                m->scheduled = s_copy(b->meeting_scheduled);
                if (kept)
                    m->scheduled->chair = kept;
                if (!m->has_scheduled_by) { /* who convened it: the first to schedule it */
                    m->has_scheduled_by = 1;
                    m->scheduled_by = h->sender;
                }
                /* Judged against the chair the meeting shows (s_meeting_chairs): the scheduled
                 * one, else the one its request suggested. */
                const Tacnet__Professional *chair = m->scheduled->chair;
                if (!chair && m->requested)
                    chair = m->requested->suggested_chair;
                s_judge_chair(f, m, chair);
            }
        }
        break;
    case TACNET__EVENT_KIND__MEETING_OUTCOME:
        if (!b || !b->meeting_outcome ||
            !s_meeting_outcome(f, b->meeting_outcome, (uint32_t)h->sender))
            break;
        for (size_t i = 0; b->meeting_outcome->has_held_date && i < s->n_plans; i++) {
            Tacnet__PlanView *p = s->plans[i];
            uint32_t d = b->meeting_outcome->held_date;
            if (!s_meeting_reviews(b->meeting_outcome, (uint32_t)h->sender, p->by))
                continue;
            if (clock_date_to_ms(d) >= f->plan_start_ms[i] &&
                (!p->has_last_review_date || d > p->last_review_date)) {
                p->has_last_review_date = 1;
                p->last_review_date = d;
            }
        }
        break;
    case TACNET__EVENT_KIND__ACTION_UPDATE:
        if (b && b->action_update && b->action_update->has_status) {
            Tacnet__ActionView *v = s_action_find(f, b->action_update->action_id);
            if (v && s_may_update_action(f, v, (uint32_t)h->sender)) {
                v->action->has_status = 1;
                v->action->status = b->action_update->status;
                v->has_updated_by = v->has_updated_at_ms = 1;
                v->updated_by = h->sender;
                v->updated_at_ms = h->created_at_ms;
            }
        }
        break;
    default:
        break;
    }
}

/* The last planned contact that kept the communication plan in force: on or after its start
 * (cadence_contact_counts), whatever order the plan and the contacts came in. */
static void s_last_planned_contact(fold_t *f)
{
    Tacnet__CaseState *s = f->s;
    const Tacnet__CommunicationPlan *cp = s->communication_plan;
    uint32_t start = cp && cp->has_start_date ? cp->start_date : 0;
    s->has_last_planned_contact_date = 0;
    s->last_planned_contact_date = 0;
    for (size_t i = 0; i < f->n_kept_contacts; i++) {
        uint32_t d = f->kept_contacts[i];
        if (cadence_contact_counts(1, 1, d, start) && d > s->last_planned_contact_date) {
            s->has_last_planned_contact_date = 1;
            s->last_planned_contact_date = d;
        }
    }
}

/* The plan and what is measured and agreed against it: care plan, outcome measures, the
 * communication plan and the contacts logged under it, consent. */
static void s_apply_plan(fold_t *f, const Tacnet__Header *h, const Tacnet__Body *b)
{
    Tacnet__CaseState *s = f->s;
    switch (h->kind) {
    case TACNET__EVENT_KIND__CARE_PLAN:
        if (b && b->care_plan)
            s_care_plan(f, h, b->care_plan);
        break;
    case TACNET__EVENT_KIND__OUTCOME_MEASURE:
        if (b && b->outcome_measure)
            s_measure(f, h, b->outcome_measure);
        break;
    case TACNET__EVENT_KIND__COMMUNICATION_PLAN:
        if (b && b->communication_plan) {
            if (s->communication_plan)
                tacnet__communication_plan__free_unpacked(s->communication_plan, NULL);
            s->communication_plan = s_copy(b->communication_plan);
            s_last_planned_contact(f);
        }
        break;
    case TACNET__EVENT_KIND__CONTACT_LOGGED:
        /* Kept, whenever it was: whether it kept the plan is judged against the plan in force,
         * again when a new plan comes (s_last_planned_contact). */
        if (b && b->contact_logged && b->contact_logged->has_contact_date &&
            cadence_contact_counts(b->contact_logged->planned, b->contact_logged->successful,
                                   b->contact_logged->contact_date, 0)) {
            PUSH(f->kept_contacts, f->n_kept_contacts, b->contact_logged->contact_date);
            s_last_planned_contact(f);
        }
        break;
    case TACNET__EVENT_KIND__CONSENT_RECORDED:
        if (b && b->consent_recorded) {
            if (s->consent)
                tacnet__consent_recorded__free_unpacked(s->consent, NULL);
            s->consent = s_copy(b->consent_recorded);
            /* Consents are scoped, so one does not replace another: keep every record. */
            PUSH(s->consents, s->n_consents,
                 (Tacnet__ConsentRecorded *)s_copy(b->consent_recorded));
        }
        break;
    case TACNET__EVENT_KIND__INVOLVEMENT_PREFERENCES:
        if (b && b->involvement_preferences) {
            if (s->involvement)
                tacnet__involvement_preferences__free_unpacked(s->involvement, NULL);
            s->involvement = s_copy(b->involvement_preferences);
        }
        break;
    default:
        break;
    }
}

/* Records kept as they come: decisions, ratings, the closure, and the broker's alerts and
 * non-response reports. */
static void s_apply_record(fold_t *f, const Tacnet__Header *h, const Tacnet__Body *b)
{
    Tacnet__CaseState *s = f->s;
    switch (h->kind) {
    case TACNET__EVENT_KIND__DECISION:
        if (b && b->decision) {
            Tacnet__DecisionView *d = xcalloc(1, sizeof(*d));
            tacnet__decision_view__init(d);
            d->msg_id = s_bytes(h->msg_id.data, h->msg_id.len);
            d->by = h->sender;
            d->decision = s_copy(b->decision);
            PUSH(s->decisions, s->n_decisions, d);
        }
        break;
    case TACNET__EVENT_KIND__PARTNERSHIP_RATING:
        if (b && b->partnership_rating) {
            Tacnet__RatingView *r = xcalloc(1, sizeof(*r));
            tacnet__rating_view__init(r);
            r->by = h->sender;
            r->rating = s_copy(b->partnership_rating);
            PUSH(s->ratings, s->n_ratings, r);
        }
        break;
    case TACNET__EVENT_KIND__CASE_CLOSED:
        if (b && b->case_closed) {
            if (s->closed)
                tacnet__case_closed__free_unpacked(s->closed, NULL);
            s->closed = s_copy(b->case_closed);
        }
        break;
    case TACNET__EVENT_KIND__SAFEGUARDING_ALERT:
        if (b && b->safeguarding_alert)
            PUSH(s->alerts, s->n_alerts,
                 (Tacnet__SafeguardingAlert *)s_copy(b->safeguarding_alert));
        break;
    case TACNET__EVENT_KIND__NON_RESPONSE:
        if (b && b->non_response)
            PUSH(s->non_responses, s->n_non_responses,
                 (Tacnet__NonResponse *)s_copy(b->non_response));
        break;
    default:
        break;
    }
}

/* The views an event records settle the earlier asks for the same person's view; the views it
 * defers become asks of their own. */
static void s_apply_views(fold_t *f, const Tacnet__Header *h, const Tacnet__Body *b)
{
    for (size_t i = 0; i < f->n_asks;) {
        if (family_voice_heard(h->kind, b, f->asks[i].who))
            f->asks[i] = f->asks[--f->n_asks];
        else
            i++;
    }
    for (int w = FAMILY_VOICE_CHILD; w <= FAMILY_VOICE_FAMILY; w++) {
        uint32_t by;
        if (h->msg_id.len != 16 || !family_voice_ask_by(h->kind, b, (family_voice_who_t)w, &by))
            continue;
        f->asks = xrealloc(f->asks, (f->n_asks + 1) * sizeof(*f->asks));
        memcpy(f->asks[f->n_asks].id, h->msg_id.data, 16);
        f->asks[f->n_asks].sender = h->sender;
        f->asks[f->n_asks].kind = h->kind;
        f->asks[f->n_asks].ask_by = by;
        f->asks[f->n_asks++].who = (family_voice_who_t)w;
    }
}

/* Fold one event into the state: note its sender, then hand it to its kind's group. */
static void s_apply(fold_t *f, const Tacnet__Header *h, const Tacnet__Body *b)
{
    if (h->msg_id.len == 16) {
        f->senders = xrealloc(f->senders, (f->n_senders + 1) * sizeof(*f->senders));
        memcpy(f->senders[f->n_senders].id, h->msg_id.data, 16);
        f->senders[f->n_senders++].sender = h->sender;
    }
    if (s_is_agency(h->sender)) {
        if (!f->opened)
            s_lead_set(f, h->sender, NULL); /* whoever opens the case leads (common/route) */
        f->opened = 1;
        s_member(f, h->sender, h->created_at_ms);
    }
    if (b && family_voice_applies(h->kind))
        s_apply_views(f, h, b);
    switch (h->kind) {
    case TACNET__EVENT_KIND__REFERRAL:
    case TACNET__EVENT_KIND__ASSESSMENT:
    case TACNET__EVENT_KIND__MEMBER_JOINED:
    case TACNET__EVENT_KIND__MEMBER_LEFT:
    case TACNET__EVENT_KIND__LEAD_HANDOVER:
    case TACNET__EVENT_KIND__LEAD_ACCEPTED:
        s_apply_team(f, h, b);
        break;
    case TACNET__EVENT_KIND__DISAGREEMENT:
        s_apply_disagreement(f, h, b);
        break;
    case TACNET__EVENT_KIND__MEETING_REQUESTED:
    case TACNET__EVENT_KIND__MEETING_SCHEDULED:
    case TACNET__EVENT_KIND__MEETING_OUTCOME:
    case TACNET__EVENT_KIND__ACTION_UPDATE:
        s_apply_meeting(f, h, b);
        break;
    case TACNET__EVENT_KIND__CARE_PLAN:
    case TACNET__EVENT_KIND__OUTCOME_MEASURE:
    case TACNET__EVENT_KIND__COMMUNICATION_PLAN:
    case TACNET__EVENT_KIND__CONTACT_LOGGED:
    case TACNET__EVENT_KIND__CONSENT_RECORDED:
    case TACNET__EVENT_KIND__INVOLVEMENT_PREFERENCES:
        s_apply_plan(f, h, b);
        break;
    case TACNET__EVENT_KIND__ESCALATION_RESPONSE:
    case TACNET__EVENT_KIND__ESCALATION_RESOLVED:
    case TACNET__EVENT_KIND__ESCALATION_ACK:
        s_escalation_event(f, h, b);
        break;
    case TACNET__EVENT_KIND__ESCALATION_NOTICE:
        s_notice(f, h, b ? b->escalation_notice : NULL);
        break;
    case TACNET__EVENT_KIND__DECISION:
    case TACNET__EVENT_KIND__PARTNERSHIP_RATING:
    case TACNET__EVENT_KIND__CASE_CLOSED:
    case TACNET__EVENT_KIND__SAFEGUARDING_ALERT:
    case TACNET__EVENT_KIND__NON_RESPONSE:
        s_apply_record(f, h, b);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ due items */

static void s_due(casestate_result_t *r, const char *what, const cadence_due_t *d, uint32_t owner,
                  const ProtobufCBinaryData *ref, const char *label)
{
    Tacnet__DueItem *it = xcalloc(1, sizeof(*it));
    tacnet__due_item__init(it);
    it->what = xstrdup(what);
    it->due_ms = d->due_ms;
    if (d->due_date) {
        it->has_due_date = 1;
        it->due_date = d->due_date;
    }
    it->has_overdue = 1;
    it->overdue = d->overdue != 0;
    if (s_is_agency(owner) || owner == TACNET__AGENCY__PARTNERSHIP) {
        it->has_owner = 1;
        it->owner = (Tacnet__Agency)owner;
    }
    if (ref && ref->len) {
        it->has_ref = 1;
        it->ref = s_bytes(ref->data, ref->len);
    }
    if (label)
        it->label = xstrdup(label);
    PUSH(r->due, r->n_due, it);
    if (d->overdue)
        r->overdue_items++;
}

/* Views not yet sought, and the involvement preferences to revisit. */
static void s_due_views(fold_t *f, casestate_result_t *r)
{
    cadence_due_t d;
    char label[160];
    uint64_t now = f->opts->now_ms;
    for (size_t i = 0; i < f->n_asks; i++) {
        if (cadence_action_due(TACNET__ACTION_STATUS__OPEN, f->asks[i].ask_by, now, &d) != 0)
            continue;
        snprintf(label, sizeof(label), "ask %s (%s)", family_voice_name(f->asks[i].who),
                 labels_kind(f->asks[i].kind));
        ProtobufCBinaryData ref = { 16, f->asks[i].id };
        s_due(r, "views", &d, f->asks[i].sender, &ref, label);
    }
    const Tacnet__InvolvementPreferences *p = f->s->involvement;
    if (p && p->has_revisit_by_date &&
        cadence_action_due(TACNET__ACTION_STATUS__OPEN, p->revisit_by_date, now, &d) == 0)
        s_due(r, "involvement", &d, f->lead_agency, NULL,
              "revisit how the family want to be involved");
}

/* A meeting to come whose chair does not meet the rule: the lead confirms the chair, or finds
 * one who does, before it starts. Once minuted the warning stays on the meeting only. */
static void s_due_chairs(fold_t *f, casestate_result_t *r)
{
    cadence_due_t d;
    for (size_t i = 0; i < f->s->n_meetings; i++) {
        const Tacnet__MeetingView *m = f->s->meetings[i];
        if (m->outcome || !m->scheduled || !m->has_chair_rule || chair_rule_meets(m->chair_rule))
            continue;
        if (cadence_date_due(cadence_local_day(m->scheduled->starts_at_ms), f->opts->now_ms, &d) ==
            0)
            s_due(r, "chair", &d, f->lead_agency, &m->meeting_id,
                  "confirm the meeting's chair (the chair rule)");
    }
}

/* Health visiting's universal contacts, owed only while health visiting is in the team. */
static void s_due_hv(fold_t *f, casestate_result_t *r)
{
    if (!f->team[TACNET__AGENCY__HEALTH_VISITING])
        return;
    cadence_due_t d;
    for (uint32_t c = TACNET__HV_CONTACT__HV_ANTENATAL; c <= TACNET__HV_CONTACT__HV_TWO_YEAR; c++)
        if (hv_contacts_due(&f->hv, c, f->opts->now_ms, &d) == 0)
            s_due(r, "hv contact", &d, TACNET__AGENCY__HEALTH_VISITING, NULL, hv_contacts_name(c));
}

static void s_due_all(fold_t *f, casestate_result_t *r)
{
    const Tacnet__CaseState *s = f->s;
    uint64_t now = f->opts->now_ms;
    cadence_due_t d;
    char label[160];
    if (s->closed)
        return; /* a closed case owes nothing */
    for (size_t i = 0; i < s->n_plans; i++) {
        const Tacnet__PlanView *v = s->plans[i];
        const Tacnet__CarePlan *p = v->plan;
        uint64_t last = v->has_last_review_date ? clock_date_to_ms(v->last_review_date) : 0;
        if (cadence_review_due(f->opts->holidays, p->type, p->review_interval_days,
                               f->plan_start_ms[i], last, now, &d) == 0) {
            /* In words: "CAPA partnership plan review", "early help plan review". */
            char plan[96];
            snprintf(label, sizeof(label), "%s review", labels_plan(p->type, plan, sizeof(plan)));
            /* The agency that owns the plan convenes its reviews (a CAPA plan is CAMHS's). */
            s_due(r, "review", &d, v->by, &v->msg_id, label);
        }
    }
    for (size_t i = 0; i < s->n_actions; i++) {
        Tacnet__ActionView *a = s->actions[i];
        const Tacnet__Action *act = a->action;
        if (!act->has_due_date || act->status != TACNET__ACTION_STATUS__OPEN)
            continue;
        if (cadence_action_due(act->status, act->due_date, now, &d) != 0)
            continue;
        a->has_overdue = 1;
        a->overdue = d.overdue != 0;
        s_due(r, "action", &d, act->owner_agency, &act->action_id, act->description);
    }
    const Tacnet__CommunicationPlan *cp = s->communication_plan;
    if (cp && cp->has_every_days && cp->every_days && cp->has_start_date) {
        uint64_t last =
            s->has_last_planned_contact_date ? clock_date_to_ms(s->last_planned_contact_date) : 0;
        if (cadence_contact_due(cp->every_days, clock_date_to_ms(cp->start_date), last, now, &d) ==
            0) {
            uint32_t owner = cp->named_contact && cp->named_contact->has_agency
                                 ? cp->named_contact->agency
                                 : f->lead_agency;
            /* A contact at a class this view does not receive would not be here: past its date
             * the owner may well have kept it (its own view says so). */
            if (!(d.overdue && f->opts->partial && owner != f->opts->agency))
                s_due(r, "parent contact", &d, owner, NULL, "planned contact with the parents");
        }
    }
    if (s->pending_handover) {
        const Tacnet__HandoverView *hv = s->pending_handover;
        if (cadence_handover_due(f->opts->holidays, hv->offered_ms, 0,
                                 CASESTATE_HANDOVER_WORKING_DAYS, now, &d) == 0) {
            s->pending_handover->has_overdue = 1;
            s->pending_handover->overdue = d.overdue != 0;
            snprintf(label, sizeof(label), "lead hand-over to %s not yet accepted",
                     labels_agency(hv->new_lead->agency));
            s_due(r, "hand-over", &d, hv->from_agency, NULL, label);
        }
    }
    s_due_views(f, r);
    s_due_hv(f, r);
    for (size_t i = 0; i < s->n_meetings; i++) {
        const Tacnet__MeetingView *m = s->meetings[i];
        if (m->outcome || !m->requested || !m->requested->has_wanted_by_date)
            continue;
        if (cadence_action_due(TACNET__ACTION_STATUS__OPEN, m->requested->wanted_by_date, now,
                               &d) != 0)
            continue;
        /* Minutes at a class this view does not receive would not be here: past its date, the
         * meeting may well have been held (the case page says so, and to ask the lead). */
        if (d.overdue && f->opts->partial)
            continue;
        s_due(r, "meeting", &d, f->lead_agency, &m->meeting_id, m->requested->purpose);
    }
    s_due_chairs(f, r);
    for (size_t i = 0; i < s->n_escalations; i++) {
        const Tacnet__EscalationView *e = s->escalations[i];
        /* Only the broker's notices make an escalation this agency's business: a disagreement
         * seen without any is one between other agencies (or one not opened yet). */
        if (!e->has_state || e->state == TACNET__ESCALATION_EVENT__ESC_CLOSED)
            continue;
        r->open_escalations++;
        if (!e->deadline_ms)
            continue;
        d.due_ms = e->deadline_ms;
        d.due_date = 0;
        d.overdue = now > e->deadline_ms;
        d.days_overdue = 0;
        /* What it is about, so two open at once read apart: the disagreement's topic, or an
         * automatic one's cause. */
        const char *about = labels_escalation_about(e);
        /* At most 80 bytes of it, cut between characters (UTF-8), not inside one. */
        int cut = 0;
        if (about) {
            size_t n = strlen(about);
            if (n > 80) {
                n = 80;
                while (n > 0 && ((unsigned char)about[n] & 0xC0) == 0x80)
                    n--;
            }
            cut = (int)n;
        }
        /* Breached: no stage follows, so "to respond" would promise a next step that never
         * comes; say it is past the partnership's last deadline. */
        int breached = casestate_escalation_breached(e, now);
        snprintf(label, sizeof(label), "escalation stage %u%s%.*s%s: %s%s", e->stage,
                 about ? " (" : "", cut, about ? about : "", about ? ")" : "",
                 breached ? "breached, past the partnership's last deadline"
                          : labels_role(e->audience),
                 breached ? "" : " to respond");
        s_due(r, "escalation", &d, 0, &e->escalation_id, label);
    }
}

static int s_due_cmp(const void *a, const void *b)
{
    const Tacnet__DueItem *x = *(Tacnet__DueItem *const *)a, *y = *(Tacnet__DueItem *const *)b;
    return x->due_ms < y->due_ms ? -1 : x->due_ms > y->due_ms;
}

int casestate_fold(Tacnet__TimelineEntry *const *timeline, size_t n, const casestate_opts_t *opts,
                   casestate_result_t *out)
{
    if ((!timeline && n) || !opts || !out)
        return TACNET_EINVAL;
    memset(out, 0, sizeof(*out));
    fold_t f = { .opts = opts };
    f.s = xcalloc(1, sizeof(*f.s));
    tacnet__case_state__init(f.s);
    for (size_t i = 0; i < n; i++)
        if (timeline[i] && timeline[i]->header)
            s_apply(&f, timeline[i]->header, timeline[i]->body);
    s_team_roles(&f);
    for (unsigned a = 1; a < MAX_AGENCY; a++)
        if (f.team[a])
            PUSH(f.s->team, f.s->n_team, f.team[a]);
    s_plans_finish(&f);
    s_meeting_chairs(&f);
    s_join_disagreements(&f);
    free(f.senders);
    free(f.challenges);
    free(f.joins);
    out->state = f.s;
    s_due_all(&f, out);
    free(f.asks);
    free(f.plan_start_ms);
    free(f.kept_contacts);
    if (out->n_due > 1)
        qsort(out->due, out->n_due, sizeof(*out->due), s_due_cmp);
    return 0;
}

void casestate_result_clear(casestate_result_t *r)
{
    if (!r)
        return;
    if (r->state)
        tacnet__case_state__free_unpacked(r->state, NULL);
    for (size_t i = 0; i < r->n_due; i++)
        tacnet__due_item__free_unpacked(r->due[i], NULL);
    free(r->due);
    memset(r, 0, sizeof(*r));
}

int casestate_escalation_breached(const Tacnet__EscalationView *e, uint64_t now_ms)
{
    if (!e || !e->has_state || e->resolution)
        return 0;
    if (e->state != TACNET__ESCALATION_EVENT__ESC_OPENED &&
        e->state != TACNET__ESCALATION_EVENT__ESC_ADVANCED)
        return 0; /* resolved: the clock stopped; closed: nothing owed */
    return e->has_stage && e->stage >= CASESTATE_ESCALATION_LAST_STAGE && e->has_deadline_ms &&
           e->deadline_ms && now_ms > e->deadline_ms;
}
