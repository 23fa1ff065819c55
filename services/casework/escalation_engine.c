/* escalate: the escalation state machine. See escalation_engine.h. */
#include "casework/escalation_engine.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "err.h"
#include "events.pb-c.h"
#include "wire.pb-c.h"

struct escalation_engine {
    escalation_engine_policy_t policy;
    const holidays_t *holidays;
    escalation_engine_record_t *recs;
    uint8_t *changed; /* parallel to recs: changed since restored or last taken */
    size_t n;
    size_t cap;
};

#define S_MAGIC           "TESC"
#define S_VERSION         2
#define S_RECORD_BYTES    ESCALATE_RECORD_BYTES
#define S_V1_RECORD_BYTES 188
#define S_AUTO_ID_TAG     "TACNET-ESC-AUTO/1"

void escalation_engine_notices_clear(escalation_engine_notices_t *list)
{
    if (!list)
        return;
    free(list->items);
    memset(list, 0, sizeof(*list));
}

static escalation_engine_notice_t *s_notice_push(escalation_engine_notices_t *list)
{
    if (list->n == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->items = xrealloc(list->items, list->cap * sizeof(*list->items));
    }
    escalation_engine_notice_t *n = &list->items[list->n++];
    memset(n, 0, sizeof(*n));
    return n;
}

void escalation_engine_policy_default(escalation_engine_policy_t *out)
{
    static const escalation_engine_stage_policy_t stages[ESCALATE_MAX_STAGES] = {
        { TACNET__ROLE__PRACTITIONER, 3, 24, 0 },
        { TACNET__ROLE__LINE_MANAGER, 5, 24, 0 },
        { TACNET__ROLE__DSL, 5, 24, 0 },
        { TACNET__ROLE__PARTNERSHIP_LEAD, 14, 48, 0 },
    };
    memset(out, 0, sizeof(*out));
    memcpy(out->stages, stages, sizeof(stages));
    out->n_stages = ESCALATE_MAX_STAGES;
    out->level_gap = 2;
    out->non_response_hours = 48;
}

static int s_policy_valid(const escalation_engine_policy_t *p)
{
    if (!p || p->n_stages < 1 || p->n_stages > ESCALATE_MAX_STAGES || p->level_gap == 0)
        return 0;
    for (unsigned i = 0; i < p->n_stages; i++) {
        uint32_t a = p->stages[i].audience;
        if (a < TACNET__ROLE__PRACTITIONER || a > TACNET__ROLE__LEAD_PROFESSIONAL)
            return 0;
    }
    return 1;
}

int escalation_engine_policy_from_proto(const Tacnet__EscalationPolicy *pb,
                                        escalation_engine_policy_t *out)
{
    if (!pb || !out)
        return TACNET_EINVAL;
    escalation_engine_policy_t p;
    memset(&p, 0, sizeof(p));
    if (pb->n_stages < 1 || pb->n_stages > ESCALATE_MAX_STAGES)
        return TACNET_ECONFIG;
    uint32_t seen = 0;
    for (size_t i = 0; i < pb->n_stages; i++) {
        const Tacnet__EscalationStage *s = pb->stages[i];
        if (!s || s->stage < 1 || s->stage > pb->n_stages || (seen & (1u << s->stage)))
            return TACNET_ECONFIG;
        seen |= 1u << s->stage;
        escalation_engine_stage_policy_t *d = &p.stages[s->stage - 1];
        d->audience = (uint32_t)s->audience;
        d->working_days = s->has_working_days ? s->working_days : 0;
        d->urgent_hours = s->has_urgent_hours ? s->urgent_hours : 0;
        d->seconds = s->has_seconds ? s->seconds : 0;
    }
    p.n_stages = (unsigned)pb->n_stages;
    p.level_gap = pb->has_level_gap ? pb->level_gap : 2;
    p.non_response_hours = pb->has_non_response_hours ? pb->non_response_hours : 0;
    p.non_response_seconds = pb->has_non_response_seconds ? pb->non_response_seconds : 0;
    if (!s_policy_valid(&p))
        return TACNET_ECONFIG;
    *out = p;
    return 0;
}

uint64_t escalation_engine_deadline(const escalation_engine_policy_t *policy,
                                    const holidays_t *holidays, unsigned stage, int urgent,
                                    uint64_t start_ms)
{
    if (!policy || stage < 1 || stage > policy->n_stages)
        return 0;
    const escalation_engine_stage_policy_t *s = &policy->stages[stage - 1];
    if (s->seconds)
        return start_ms + (uint64_t)s->seconds * 1000u;
    if (urgent && s->urgent_hours)
        return start_ms + (uint64_t)s->urgent_hours * CLOCK_HOUR_MS;
    if (s->working_days)
        return clock_add_working_days(holidays, start_ms, s->working_days);
    return 0;
}

escalation_engine_t *escalation_engine_new(const escalation_engine_policy_t *policy,
                                           const holidays_t *holidays)
{
    if (!s_policy_valid(policy))
        return NULL;
    escalation_engine_t *self = xcalloc(1, sizeof(*self));
    self->policy = *policy;
    self->holidays = holidays;
    return self;
}

void escalation_engine_destroy(escalation_engine_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    escalation_engine_t *self = *self_p;
    free(self->recs);
    free(self->changed);
    free(self);
    *self_p = NULL;
}

static escalation_engine_record_t *s_find(const escalation_engine_t *self,
                                          const uint8_t id[ESCALATE_ID_LEN])
{
    for (size_t i = 0; i < self->n; i++)
        if (memcmp(self->recs[i].id, id, ESCALATE_ID_LEN) == 0)
            return &self->recs[i];
    return NULL;
}

static int s_is_party(const escalation_engine_record_t *r, uint32_t agency)
{
    for (unsigned i = 0; i < r->n_parties; i++)
        if (r->parties[i] == agency)
            return (int)i;
    return -1;
}

/* A dispute between the same two agencies on the same case that is still being worked on. */
static escalation_engine_record_t *s_find_pair(const escalation_engine_t *self,
                                               const char *case_ref, uint32_t a, uint32_t b)
{
    for (size_t i = 0; i < self->n; i++) {
        escalation_engine_record_t *r = &self->recs[i];
        if (r->state != ESCALATE_CLOSED && strcmp(r->case_ref, case_ref) == 0 &&
            s_is_party(r, a) >= 0 && s_is_party(r, b) >= 0)
            return r;
    }
    return NULL;
}

/* Mark R as changed, so the caller persists it. */
static void s_touch(escalation_engine_t *self, const escalation_engine_record_t *r)
{
    self->changed[r - self->recs] = 1;
}

static escalation_engine_record_t *s_add(escalation_engine_t *self)
{
    if (self->n == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 16;
        self->recs = xrealloc(self->recs, self->cap * sizeof(*self->recs));
        self->changed = xrealloc(self->changed, self->cap);
    }
    self->changed[self->n] = 1;
    escalation_engine_record_t *r = &self->recs[self->n++];
    memset(r, 0, sizeof(*r));
    return r;
}

static void s_add_recipient(escalation_engine_notice_t *n, uint32_t agency)
{
    if (!agency)
        return;
    for (unsigned i = 0; i < n->n_recipients; i++)
        if (n->recipients[i] == agency)
            return;
    n->recipients[n->n_recipients++] = agency;
}

static void s_emit(const escalation_engine_t *self, const escalation_engine_record_t *r,
                   uint32_t event, escalation_engine_notices_t *out)
{
    escalation_engine_notice_t *n = s_notice_push(out);
    memcpy(n->escalation_id, r->id, ESCALATE_ID_LEN);
    memcpy(n->case_ref, r->case_ref, sizeof(n->case_ref));
    n->event = event;
    n->stage = r->stage;
    n->audience = self->policy.stages[r->stage - 1].audience;
    n->deadline_ms = r->state == ESCALATE_OPEN ? r->deadline_ms : 0;
    n->automatic = r->automatic;
    n->urgent = r->urgent;
    memcpy(n->parties, r->parties, sizeof(n->parties));
    n->n_parties = r->n_parties;
    for (unsigned i = 0; i < r->n_parties; i++)
        s_add_recipient(n, r->parties[i]);
    s_add_recipient(n, r->lead_agency);
    if (r->stage == self->policy.n_stages)
        s_add_recipient(n, TACNET__AGENCY__PARTNERSHIP);
    if (event == TACNET__ESCALATION_EVENT__ESC_CLOSED)
        memcpy(n->stage_took_ms, r->stage_took_ms, sizeof(n->stage_took_ms));
}

static int s_case_ref_ok(const char *case_ref)
{
    size_t len = case_ref ? strlen(case_ref) : 0;
    return len > 0 && len <= ESCALATE_CASEREF_MAX;
}

static void s_start(escalation_engine_t *self, escalation_engine_record_t *r, const char *case_ref,
                    uint32_t a, uint32_t b, uint32_t lead, int urgent, uint64_t now_ms)
{
    memcpy(r->case_ref, case_ref, strlen(case_ref) + 1);
    r->parties[0] = a;
    r->parties[1] = b;
    r->n_parties = 2;
    r->lead_agency = lead;
    r->urgent = urgent ? 1 : 0;
    r->state = ESCALATE_OPEN;
    r->stage = 1;
    r->opened_ms = now_ms;
    r->stage_started_ms = now_ms;
    r->deadline_ms =
        escalation_engine_deadline(&self->policy, self->holidays, 1, r->urgent, now_ms);
}

int escalation_engine_join_rank(const escalation_engine_join_candidate_t *c, const uint8_t *msg_id,
                                const uint8_t *refers_to, uint32_t raiser, uint32_t other)
{
    if (!c || !c->id)
        return ESCALATE_JOIN_NONE;
    if (msg_id && memcmp(c->id, msg_id, ESCALATE_ID_LEN) == 0)
        return ESCALATE_JOIN_SAME_ID;
    if (c->closed)
        return ESCALATE_JOIN_NONE;
    if (refers_to && c->refers_to && memcmp(c->refers_to, refers_to, ESCALATE_ID_LEN) == 0)
        return ESCALATE_JOIN_REFERS_TO;
    int a = 0, b = 0;
    for (unsigned i = 0; i < c->n_parties; i++) {
        a |= c->parties[i] == raiser;
        b |= c->parties[i] == other;
    }
    return raiser && other && raiser != other && a && b ? ESCALATE_JOIN_PAIR : ESCALATE_JOIN_NONE;
}

/* The escalation of REQ's case that REQ joins by the shared rule, or NULL. */
static escalation_engine_record_t *s_join_find(const escalation_engine_t *self,
                                               const escalation_engine_request_t *req, int *rank)
{
    escalation_engine_record_t *best = NULL;
    *rank = ESCALATE_JOIN_NONE;
    for (size_t i = 0; i < self->n; i++) {
        escalation_engine_record_t *r = &self->recs[i];
        int same_id = memcmp(r->id, req->msg_id, ESCALATE_ID_LEN) == 0;
        if (!same_id && strcmp(r->case_ref, req->case_ref) != 0)
            continue;
        escalation_engine_join_candidate_t c = { r->id, r->has_refers_to ? r->refers_to : NULL,
                                                 r->parties, r->n_parties,
                                                 r->state == ESCALATE_CLOSED };
        int k =
            escalation_engine_join_rank(&c, req->msg_id, req->refers_to, req->raiser, req->other);
        if (k > *rank) {
            *rank = k;
            best = r;
        }
    }
    return best;
}

/* AGENCY takes part in R from now (a later disagreement joined it); its index, or -1 when R
 * holds ESCALATE_MAX_PARTIES already. */
static int s_party_add(escalation_engine_record_t *r, uint32_t agency)
{
    int idx = s_is_party(r, agency);
    if (idx >= 0 || r->n_parties >= ESCALATE_MAX_PARTIES)
        return idx;
    r->parties[r->n_parties] = agency;
    return (int)r->n_parties++;
}

/* The disagreement REQ joined R: its raiser (and the agency it challenges) become parties, the
 * raiser has answered the current stage by raising it, and every party hears of the join when it
 * made a new party (an urgent one also moves R to the urgent track: its stage deadline comes
 * forward to the urgent hours from now, unless the working-day one is sooner, and is told). */
static void s_join(escalation_engine_t *self, escalation_engine_record_t *r,
                   const escalation_engine_request_t *req, uint64_t now_ms,
                   escalation_engine_notices_t *out)
{
    unsigned before = r->n_parties;
    int idx = s_party_add(r, req->raiser);
    s_party_add(r, req->other);
    int urgent = req->urgent && !r->urgent && r->state == ESCALATE_OPEN;
    if (r->n_parties == before && !urgent)
        return; /* the same parties, the same track: nothing new to tell anyone */
    if (idx >= 0 && r->state == ESCALATE_OPEN)
        r->responded |= 1u << idx;
    uint32_t event = r->state == ESCALATE_RESOLVING ? TACNET__ESCALATION_EVENT__ESC_RESOLVED
                     : r->stage > 1                 ? TACNET__ESCALATION_EVENT__ESC_ADVANCED
                                                    : TACNET__ESCALATION_EVENT__ESC_OPENED;
    if (urgent) {
        r->urgent = 1;
        uint64_t due =
            escalation_engine_deadline(&self->policy, self->holidays, r->stage, 1, now_ms);
        if (due && due < r->deadline_ms)
            r->deadline_ms = due;
        event = TACNET__ESCALATION_EVENT__ESC_ADVANCED;
    }
    s_touch(self, r);
    s_emit(self, r, event, out);
    escalation_engine_notice_t *n = &out->items[out->n - 1];
    n->has_joined = 1;
    memcpy(n->joined, req->msg_id, ESCALATE_ID_LEN);
    n->joined_by = req->raiser;
}

int escalation_engine_open(escalation_engine_t *self, const escalation_engine_request_t *req,
                           uint64_t now_ms, escalation_engine_notices_t *out,
                           uint8_t id_out[ESCALATE_ID_LEN])
{
    if (!self || !req || !out || !req->msg_id || !s_case_ref_ok(req->case_ref) || !req->raiser ||
        !req->other || req->raiser == req->other)
        return TACNET_EINVAL;
    int rank;
    escalation_engine_record_t *same = s_join_find(self, req, &rank);
    if (same) {
        if (id_out)
            memcpy(id_out, same->id, ESCALATE_ID_LEN);
        if (rank != ESCALATE_JOIN_SAME_ID)
            s_join(self, same, req, now_ms, out);
        return TACNET_EEXISTS;
    }
    escalation_engine_record_t *r = s_add(self);
    memcpy(r->id, req->msg_id, ESCALATE_ID_LEN);
    if (req->refers_to) {
        memcpy(r->refers_to, req->refers_to, ESCALATE_ID_LEN);
        r->has_refers_to = 1;
    }
    s_start(self, r, req->case_ref, req->raiser, req->other, req->lead_agency, req->urgent, now_ms);
    r->responded = 1u; /* the raiser answered stage 1 by raising it */
    if (id_out)
        memcpy(id_out, r->id, ESCALATE_ID_LEN);
    s_emit(self, r, TACNET__ESCALATION_EVENT__ESC_OPENED, out);
    return 0;
}

void escalation_engine_auto_id(const char *case_ref, uint32_t a, uint32_t b,
                               uint8_t id_out[ESCALATE_ID_LEN])
{
    uint8_t buf[sizeof(S_AUTO_ID_TAG) + ESCALATE_CASEREF_MAX + 1 + 8];
    size_t tag = sizeof(S_AUTO_ID_TAG) - 1;
    size_t len = case_ref ? strnlen(case_ref, ESCALATE_CASEREF_MAX) : 0;
    uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
    memcpy(buf, S_AUTO_ID_TAG, tag);
    if (len)
        memcpy(buf + tag, case_ref, len);
    buf[tag + len] = 0; /* ends the case ref, so "AB-1"+pair cannot collide with "AB-"+... */
    bytes_le32_put(buf + tag + len + 1, lo);
    bytes_le32_put(buf + tag + len + 5, hi);
    crypto_generichash(id_out, ESCALATE_ID_LEN, buf, tag + len + 9, NULL, 0);
}

int escalation_engine_levels(escalation_engine_t *self, const char *case_ref,
                             const escalation_engine_level_t *levels, size_t n_levels,
                             uint32_t lead_agency, uint64_t now_ms,
                             escalation_engine_notices_t *out)
{
    if (!self || !out || !s_case_ref_ok(case_ref) || (n_levels && !levels))
        return TACNET_EINVAL;
    int opened = 0;
    for (size_t i = 0; i < n_levels; i++) {
        for (size_t j = i + 1; j < n_levels; j++) {
            const escalation_engine_level_t *x = &levels[i], *y = &levels[j];
            if (!x->level || !y->level || !x->agency || !y->agency || x->agency == y->agency)
                continue;
            uint32_t gap = x->level > y->level ? x->level - y->level : y->level - x->level;
            if (gap < self->policy.level_gap)
                continue;
            uint8_t id[ESCALATE_ID_LEN];
            escalation_engine_auto_id(case_ref, x->agency, y->agency, id);
            if (s_find(self, id) || s_find_pair(self, case_ref, x->agency, y->agency))
                continue;
            escalation_engine_record_t *r = s_add(self);
            memcpy(r->id, id, ESCALATE_ID_LEN);
            r->automatic = 1;
            s_start(self, r, case_ref, x->agency, y->agency, lead_agency, 0, now_ms);
            s_emit(self, r, TACNET__ESCALATION_EVENT__ESC_OPENED, out);
            opened++;
        }
    }
    return opened;
}

int escalation_engine_due(escalation_engine_t *self, uint64_t now_ms,
                          escalation_engine_notices_t *out)
{
    if (!self || !out)
        return 0;
    int fired = 0;
    for (size_t i = 0; i < self->n; i++) {
        escalation_engine_record_t *r = &self->recs[i];
        if (r->state != ESCALATE_OPEN || !r->deadline_ms || r->deadline_ms > now_ms)
            continue;
        if (r->stage >= self->policy.n_stages) {
            if (!r->breached)
                s_touch(self, r);
            r->breached = 1;
            continue;
        }
        uint64_t missed = r->deadline_ms;
        r->stage_took_ms[r->stage - 1] = missed - r->stage_started_ms;
        r->stage++;
        r->stage_started_ms = missed;
        r->responded = 0;
        r->nr_sent = 0;
        s_touch(self, r);
        r->deadline_ms =
            escalation_engine_deadline(&self->policy, self->holidays, r->stage, r->urgent, missed);
        s_emit(self, r, TACNET__ESCALATION_EVENT__ESC_ADVANCED, out);
        fired++;
    }
    return fired;
}

uint64_t escalation_engine_next_deadline(const escalation_engine_t *self)
{
    uint64_t next = 0;
    for (size_t i = 0; self && i < self->n; i++) {
        const escalation_engine_record_t *r = &self->recs[i];
        if (r->state != ESCALATE_OPEN || !r->deadline_ms || r->breached)
            continue;
        if (!next || r->deadline_ms < next)
            next = r->deadline_ms;
    }
    return next;
}

/* The acknowledgement bit of the party that proposed R's resolution (0 when the lead proposed it
 * and is no party): proposing a resolution is accepting it. */
static uint32_t s_proposer_bit(const escalation_engine_record_t *r)
{
    int idx = r->state != ESCALATE_OPEN && r->resolved_by ? s_is_party(r, r->resolved_by) : -1;
    return idx >= 0 ? 1u << idx : 0;
}

int escalation_engine_resolve(escalation_engine_t *self, const uint8_t id[ESCALATE_ID_LEN],
                              uint32_t by, uint64_t now_ms, escalation_engine_notices_t *out)
{
    if (!self || !id || !out)
        return TACNET_EINVAL;
    escalation_engine_record_t *r = s_find(self, id);
    if (!r)
        return TACNET_ENOTFOUND;
    if (s_is_party(r, by) < 0 && (by == 0 || by != r->lead_agency))
        return TACNET_ENOTMEMBER;
    if (r->state != ESCALATE_OPEN)
        return 0;
    r->stage_took_ms[r->stage - 1] =
        now_ms > r->stage_started_ms ? now_ms - r->stage_started_ms : 0;
    r->state = ESCALATE_RESOLVING;
    r->resolved_ms = now_ms;
    r->resolved_by = by;
    r->nr_sent = 0; /* a new ask: acknowledge the resolution */
    r->acked = s_proposer_bit(r);
    s_touch(self, r);
    s_emit(self, r, TACNET__ESCALATION_EVENT__ESC_RESOLVED, out);
    return 0;
}

int escalation_engine_ack(escalation_engine_t *self, const uint8_t id[ESCALATE_ID_LEN], uint32_t by,
                          int accept, uint64_t now_ms, escalation_engine_notices_t *out)
{
    if (!self || !id || !out)
        return TACNET_EINVAL;
    escalation_engine_record_t *r = s_find(self, id);
    if (!r)
        return TACNET_ENOTFOUND;
    int idx = s_is_party(r, by);
    if (idx < 0)
        return TACNET_ENOTMEMBER;
    if (r->state == ESCALATE_OPEN)
        return TACNET_EKIND;
    if (by == r->resolved_by)
        return TACNET_EFORBIDDEN; /* it accepted its own resolution by proposing it */
    if (r->state == ESCALATE_CLOSED)
        return 0;
    if (!accept && r->stage < self->policy.n_stages) {
        /* Not settled: the next stage takes it up (the resolved stage's time was recorded when
         * the resolution was proposed). */
        r->stage++;
        r->stage_started_ms = now_ms;
        r->state = ESCALATE_OPEN;
        r->responded = 0;
        r->acked = 0;
        r->nr_sent = 0;
        r->resolved_ms = 0;
        r->resolved_by = 0;
        r->deadline_ms =
            escalation_engine_deadline(&self->policy, self->holidays, r->stage, r->urgent, now_ms);
        s_touch(self, r);
        s_emit(self, r, TACNET__ESCALATION_EVENT__ESC_ADVANCED, out);
        return 0;
    }
    if (!(r->acked & (1u << idx)))
        s_touch(self, r);
    r->acked |= (1u << idx) | s_proposer_bit(r); /* the bit is missing in older records */
    if (r->acked != (1u << r->n_parties) - 1)
        return 0;
    r->state = ESCALATE_CLOSED;
    r->closed_ms = now_ms;
    s_emit(self, r, TACNET__ESCALATION_EVENT__ESC_CLOSED, out);
    return 0;
}

int escalation_engine_get(const escalation_engine_t *self, const uint8_t id[ESCALATE_ID_LEN],
                          escalation_engine_record_t *out)
{
    const escalation_engine_record_t *r = self && id ? s_find(self, id) : NULL;
    if (!r)
        return TACNET_ENOTFOUND;
    if (out)
        *out = *r;
    return 0;
}

size_t escalation_engine_count(const escalation_engine_t *self)
{
    return self ? self->n : 0;
}

int escalation_engine_at(const escalation_engine_t *self, size_t i, escalation_engine_record_t *out)
{
    if (!self || i >= self->n)
        return TACNET_ENOTFOUND;
    if (out)
        *out = self->recs[i];
    return 0;
}

uint64_t escalation_engine_non_response_ms(const escalation_engine_t *self)
{
    if (!self)
        return 0;
    if (self->policy.non_response_seconds)
        return (uint64_t)self->policy.non_response_seconds * 1000u;
    return (uint64_t)self->policy.non_response_hours * CLOCK_HOUR_MS;
}

int escalation_engine_respond(escalation_engine_t *self, const uint8_t id[ESCALATE_ID_LEN],
                              uint32_t by, uint64_t now_ms)
{
    (void)now_ms;
    if (!self || !id)
        return TACNET_EINVAL;
    escalation_engine_record_t *r = s_find(self, id);
    if (!r)
        return TACNET_ENOTFOUND;
    int idx = s_is_party(r, by);
    if (idx < 0)
        return TACNET_ENOTMEMBER;
    if (r->state != ESCALATE_OPEN || (r->responded & (1u << idx)))
        return 0;
    r->responded |= 1u << idx;
    s_touch(self, r);
    return 0;
}

/* When the current phase of R started and which parties have answered it. */
static uint64_t s_phase(const escalation_engine_record_t *r, uint32_t *answered)
{
    if (r->state == ESCALATE_RESOLVING) {
        *answered = r->acked | s_proposer_bit(r);
        return r->resolved_ms;
    }
    *answered = r->responded;
    return r->stage_started_ms;
}

/* The time R's next non-response notice falls due, or 0. */
static uint64_t s_non_response_at(const escalation_engine_t *self,
                                  const escalation_engine_record_t *r)
{
    uint64_t limit = escalation_engine_non_response_ms(self);
    if (!limit || r->state == ESCALATE_CLOSED)
        return 0;
    uint32_t answered;
    uint64_t start = s_phase(r, &answered);
    uint32_t all = (1u << r->n_parties) - 1;
    if (((answered | r->nr_sent) & all) == all)
        return 0;
    return start + limit;
}

int escalation_engine_non_response(escalation_engine_t *self, uint64_t now_ms,
                                   escalation_engine_notices_t *out)
{
    if (!self || !out)
        return 0;
    int sent = 0;
    for (size_t i = 0; i < self->n; i++) {
        escalation_engine_record_t *r = &self->recs[i];
        uint64_t at = s_non_response_at(self, r);
        if (!at || at > now_ms)
            continue;
        uint32_t answered;
        s_phase(r, &answered);
        for (unsigned p = 0; p < r->n_parties; p++) {
            uint32_t bit = 1u << p;
            if ((answered | r->nr_sent) & bit)
                continue;
            r->nr_sent |= bit;
            escalation_engine_notice_t *n = s_notice_push(out);
            memcpy(n->escalation_id, r->id, ESCALATE_ID_LEN);
            memcpy(n->case_ref, r->case_ref, sizeof(n->case_ref));
            n->stage = r->stage;
            n->audience = TACNET__ROLE__LINE_MANAGER;
            n->automatic = r->automatic;
            n->urgent = r->urgent;
            memcpy(n->parties, r->parties, sizeof(n->parties));
            n->n_parties = r->n_parties;
            n->non_responder = r->parties[p];
            n->overdue_since_ms = at;
            s_add_recipient(n, r->parties[p]);
            s_add_recipient(n, r->lead_agency);
            sent++;
        }
        s_touch(self, r);
    }
    return sent;
}

uint64_t escalation_engine_next_timer(const escalation_engine_t *self)
{
    uint64_t next = escalation_engine_next_deadline(self);
    for (size_t i = 0; self && i < self->n; i++) {
        uint64_t at = s_non_response_at(self, &self->recs[i]);
        if (at && (!next || at < next))
            next = at;
    }
    return next;
}

int escalation_engine_lead_set(escalation_engine_t *self, const char *case_ref, uint32_t lead)
{
    int changed = 0;
    for (size_t i = 0; self && case_ref && i < self->n; i++) {
        escalation_engine_record_t *r = &self->recs[i];
        if (r->state == ESCALATE_CLOSED || r->lead_agency == lead ||
            strcmp(r->case_ref, case_ref) != 0)
            continue;
        r->lead_agency = lead;
        s_touch(self, r);
        changed++;
    }
    return changed;
}

escalation_engine_t *escalation_engine_clone(const escalation_engine_t *self)
{
    if (!self)
        return NULL;
    escalation_engine_t *c = xcalloc(1, sizeof(*c));
    *c = *self;
    c->recs = NULL;
    c->changed = NULL;
    if (self->cap) {
        c->recs = xmalloc(self->cap * sizeof(*c->recs));
        c->changed = xmalloc(self->cap);
        if (self->n) {
            memcpy(c->recs, self->recs, self->n * sizeof(*c->recs));
            memcpy(c->changed, self->changed, self->n);
        }
    }
    return c;
}

size_t escalation_engine_changed_take(escalation_engine_t *self, escalation_engine_record_t **out)
{
    size_t n = 0;
    *out = NULL;
    for (size_t i = 0; self && i < self->n; i++)
        n += self->changed[i] != 0;
    if (!n)
        return 0;
    *out = xmalloc(n * sizeof(**out));
    size_t j = 0;
    for (size_t i = 0; i < self->n; i++) {
        if (self->changed[i]) {
            (*out)[j++] = self->recs[i];
            self->changed[i] = 0;
        }
    }
    return n;
}

static int s_record_valid(const escalation_engine_record_t *r, unsigned max_stage)
{
    size_t len = strnlen(r->case_ref, sizeof(r->case_ref));
    return len > 0 && len <= ESCALATE_CASEREF_MAX && r->n_parties >= 2 &&
           r->n_parties <= ESCALATE_MAX_PARTIES && r->state >= ESCALATE_OPEN &&
           r->state <= ESCALATE_CLOSED && r->stage >= 1 && r->stage <= max_stage &&
           r->acked < (1u << r->n_parties) && r->responded < (1u << r->n_parties) &&
           r->nr_sent < (1u << r->n_parties);
}

int escalation_engine_restore(escalation_engine_t *self, const escalation_engine_record_t *rec)
{
    if (!self || !rec)
        return TACNET_EINVAL;
    if (!s_record_valid(rec, self->policy.n_stages))
        return TACNET_ECORRUPT;
    if (s_find(self, rec->id))
        return TACNET_EEXISTS;
    escalation_engine_record_t *r = s_add(self);
    *r = *rec;
    self->changed[r - self->recs] = 0; /* it came from storage */
    return 0;
}

/* Layout version 2, little-endian, fixed offsets:
 *   0 magic "TESC" | 4 version | 5 flags | 6 n_parties | 7 case_ref length
 *   8 id[16] | 24 refers_to[16] | 40 case_ref[32] zero-padded | 72 parties u32[6]
 *   96 lead, state, stage, acked, resolved_by u32 | 116 opened, stage_started, deadline,
 *   resolved, closed u64 | 156 stage_took u64[4] | 188 responded, nr_sent u32 | 196 end
 * Version 1 is the same up to 188 (no non-response bookkeeping). */
enum { S_F_REFERS = 1, S_F_URGENT = 2, S_F_AUTO = 4, S_F_BREACHED = 8 };

int escalation_engine_record_encode(const escalation_engine_record_t *rec, uint8_t *buf, size_t cap)
{
    if (!rec || !buf || cap < S_RECORD_BYTES)
        return TACNET_EINVAL;
    memset(buf, 0, S_RECORD_BYTES);
    memcpy(buf, S_MAGIC, 4);
    buf[4] = S_VERSION;
    buf[5] = (uint8_t)((rec->has_refers_to ? S_F_REFERS : 0) | (rec->urgent ? S_F_URGENT : 0) |
                       (rec->automatic ? S_F_AUTO : 0) | (rec->breached ? S_F_BREACHED : 0));
    buf[6] = (uint8_t)rec->n_parties;
    size_t len = strnlen(rec->case_ref, ESCALATE_CASEREF_MAX);
    buf[7] = (uint8_t)len;
    memcpy(buf + 8, rec->id, ESCALATE_ID_LEN);
    memcpy(buf + 24, rec->refers_to, ESCALATE_ID_LEN);
    memcpy(buf + 40, rec->case_ref, len);
    for (unsigned i = 0; i < ESCALATE_MAX_PARTIES; i++)
        bytes_le32_put(buf + 72 + 4 * i, i < rec->n_parties ? rec->parties[i] : 0);
    bytes_le32_put(buf + 96, rec->lead_agency);
    bytes_le32_put(buf + 100, rec->state);
    bytes_le32_put(buf + 104, rec->stage);
    bytes_le32_put(buf + 108, rec->acked);
    bytes_le32_put(buf + 112, rec->resolved_by);
    bytes_le64_put(buf + 116, rec->opened_ms);
    bytes_le64_put(buf + 124, rec->stage_started_ms);
    bytes_le64_put(buf + 132, rec->deadline_ms);
    bytes_le64_put(buf + 140, rec->resolved_ms);
    bytes_le64_put(buf + 148, rec->closed_ms);
    for (unsigned i = 0; i < ESCALATE_MAX_STAGES; i++)
        bytes_le64_put(buf + 156 + 8 * i, rec->stage_took_ms[i]);
    bytes_le32_put(buf + 188, rec->responded);
    bytes_le32_put(buf + 192, rec->nr_sent);
    return S_RECORD_BYTES;
}

int escalation_engine_record_decode(const uint8_t *buf, size_t len, escalation_engine_record_t *out)
{
    if (!buf || !out)
        return TACNET_EINVAL;
    if (len < 5 || memcmp(buf, S_MAGIC, 4) != 0)
        return TACNET_ECORRUPT;
    if (buf[4] != S_VERSION && buf[4] != 1)
        return TACNET_EVERSION;
    if (len != (buf[4] == 1 ? S_V1_RECORD_BYTES : S_RECORD_BYTES))
        return TACNET_ECORRUPT;
    escalation_engine_record_t r;
    memset(&r, 0, sizeof(r));
    r.has_refers_to = (buf[5] & S_F_REFERS) != 0;
    r.urgent = (buf[5] & S_F_URGENT) != 0;
    r.automatic = (buf[5] & S_F_AUTO) != 0;
    r.breached = (buf[5] & S_F_BREACHED) != 0;
    r.n_parties = buf[6];
    size_t clen = buf[7];
    if ((buf[5] & ~0x0f) || r.n_parties > ESCALATE_MAX_PARTIES || clen > ESCALATE_CASEREF_MAX ||
        memchr(buf + 40, 0, clen))
        return TACNET_ECORRUPT;
    memcpy(r.id, buf + 8, ESCALATE_ID_LEN);
    memcpy(r.refers_to, buf + 24, ESCALATE_ID_LEN);
    memcpy(r.case_ref, buf + 40, clen);
    for (unsigned i = 0; i < r.n_parties; i++)
        r.parties[i] = bytes_le32_get(buf + 72 + 4 * i);
    r.lead_agency = bytes_le32_get(buf + 96);
    r.state = bytes_le32_get(buf + 100);
    r.stage = bytes_le32_get(buf + 104);
    r.acked = bytes_le32_get(buf + 108);
    r.resolved_by = bytes_le32_get(buf + 112);
    r.opened_ms = bytes_le64_get(buf + 116);
    r.stage_started_ms = bytes_le64_get(buf + 124);
    r.deadline_ms = bytes_le64_get(buf + 132);
    r.resolved_ms = bytes_le64_get(buf + 140);
    r.closed_ms = bytes_le64_get(buf + 148);
    for (unsigned i = 0; i < ESCALATE_MAX_STAGES; i++)
        r.stage_took_ms[i] = bytes_le64_get(buf + 156 + 8 * i);
    if (buf[4] != 1) {
        r.responded = bytes_le32_get(buf + 188);
        r.nr_sent = bytes_le32_get(buf + 192);
    }
    if (!s_record_valid(&r, ESCALATE_MAX_STAGES))
        return TACNET_ECORRUPT;
    *out = r;
    return 0;
}
