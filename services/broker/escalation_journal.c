/* escalation_journal: the escalation engine live in the broker (see escalation_journal.h). */
#include "escalation_journal.h"

#include "casework/escalation_rights.h"
#include "err.h"
#include "log.h"
#include "names.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

struct escalation_journal {
    journal_t *journal;         /* borrowed */
    notice_t *notice;           /* borrowed */
    const holidays_t *holidays; /* borrowed */
    escalation_engine_policy_t policy;
    escalation_engine_t *engine;         /* committed state */
    escalation_engine_t *work;           /* this transaction's copy, NULL until its first change */
    escalation_engine_notices_t pending; /* staged by escalation_check for escalation_apply */
};

static int s_policy(const roster_t *roster, escalation_engine_policy_t *out)
{
    const Tacnet__EscalationPolicy *pb = roster ? roster_msg(roster)->escalation : NULL;
    if (!pb || pb->n_stages == 0) {
        escalation_engine_policy_default(out);
        return 0;
    }
    return escalation_engine_policy_from_proto(pb, out);
}

typedef struct {
    escalation_engine_t *engine;
    size_t bad;
} load_arg_t;

static int s_load_one(const uint8_t *rec, size_t len, void *arg)
{
    load_arg_t *a = arg;
    escalation_engine_record_t r;
    if (escalation_engine_record_decode(rec, len, &r) != 0 ||
        escalation_engine_restore(a->engine, &r) != 0)
        a->bad++;
    return 0;
}

/* A new engine under POLICY holding every record stored in the journal. */
static escalation_engine_t *s_load(escalation_journal_t *self,
                                   const escalation_engine_policy_t *policy, int *err)
{
    escalation_engine_t *e = escalation_engine_new(policy, self->holidays);
    if (!e) {
        *err = TACNET_ECONFIG;
        return NULL;
    }
    MDB_txn *txn;
    if ((*err = store_read_begin(journal_store(self->journal), &txn)) != 0) {
        escalation_engine_destroy(&e);
        return NULL;
    }
    load_arg_t a = { e, 0 };
    *err = journal_escalations_each(self->journal, txn, s_load_one, &a);
    mdb_txn_abort(txn);
    if (*err == 0 && a.bad)
        *err = TACNET_ECORRUPT;
    if (*err != 0)
        escalation_engine_destroy(&e);
    return e;
}

escalation_journal_t *escalation_journal_new(journal_t *journal, notice_t *notice,
                                             const roster_t *roster, const holidays_t *holidays,
                                             int *err, char *why, size_t whylen)
{
    escalation_journal_t *self = xcalloc(1, sizeof(*self));
    self->journal = journal;
    self->notice = notice;
    self->holidays = holidays;
    if ((*err = s_policy(roster, &self->policy)) != 0) {
        snprintf(why, whylen, "the roster's escalation policy is invalid: %s",
                 tacnet_strerror(*err));
        goto fail;
    }
    self->engine = s_load(self, &self->policy, err);
    if (!self->engine) {
        snprintf(why, whylen,
                 "cannot load escalations (a record is unreadable or beyond the "
                 "policy's stages): %s",
                 tacnet_strerror(*err));
        goto fail;
    }
    return self;
fail:
    escalation_journal_destroy(&self);
    return NULL;
}

void escalation_journal_destroy(escalation_journal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    escalation_journal_t *self = *self_p;
    escalation_engine_destroy(&self->engine);
    escalation_engine_destroy(&self->work);
    escalation_engine_notices_clear(&self->pending);
    free(self);
    *self_p = NULL;
}

int escalation_journal_roster_set(escalation_journal_t *self, const roster_t *roster)
{
    escalation_engine_policy_t p;
    if (s_policy(roster, &p) != 0)
        return TACNET_ECONFIG;
    if (memcmp(&p, &self->policy, sizeof(p)) == 0)
        return 0;
    /* Rebuild from the committed records under the new policy; refuse if one does not fit. */
    escalation_engine_t *e = escalation_engine_new(&p, self->holidays);
    for (size_t i = 0; e && i < escalation_engine_count(self->engine); i++) {
        escalation_engine_record_t r;
        escalation_engine_at(self->engine, i, &r);
        if (escalation_engine_restore(e, &r) != 0)
            escalation_engine_destroy(&e);
    }
    if (!e)
        return TACNET_ECONFIG;
    escalation_engine_destroy(&self->engine);
    self->engine = e;
    self->policy = p;
    return 0;
}

void escalation_journal_begin(escalation_journal_t *self)
{
    escalation_engine_destroy(&self->work);
    self->pending.n = 0;
}

/* The engine this transaction reads. */
static const escalation_engine_t *s_view(const escalation_journal_t *self)
{
    return self->work ? self->work : self->engine;
}

/* The engine this transaction changes: a copy of the committed one, made on first use. */
static escalation_engine_t *s_work(escalation_journal_t *self)
{
    if (!self->work)
        self->work = escalation_engine_clone(self->engine);
    return self->work;
}

static int s_has_id(const Tacnet__Header *h)
{
    return h->has_refers_to && h->refers_to.len == ESCALATE_ID_LEN;
}

static void s_case_ref(const Tacnet__Header *h, char out[ESCALATE_CASEREF_MAX + 1])
{
    size_t n = h->case_ref.len < ESCALATE_CASEREF_MAX ? h->case_ref.len : ESCALATE_CASEREF_MAX;
    memcpy(out, h->case_ref.data, n);
    out[n] = 0;
}

/* The agency a DISAGREEMENT challenges: the sender of the event it refers to (on the same case),
 * or its subject_agency when the raiser challenges its own event. */
static int s_challenged(escalation_journal_t *self, MDB_txn *txn, const Tacnet__Header *h,
                        const route_case_t *c, uint32_t *other, const char **detail)
{
    uint64_t seq;
    int rc = journal_msgid_find(self->journal, txn, h->refers_to.data, &seq);
    if (rc == TACNET_ENOTFOUND) {
        *detail = "refers_to names no event the broker accepted";
        return TACNET_EREFERSTO;
    }
    if (rc != 0)
        return rc;
    journal_entry_t e;
    if ((rc = journal_get(self->journal, txn, seq, &e)) != 0)
        return rc;
    int err = 0;
    Tacnet__Header *about = wire_header_unpack(e.header, e.header_len, &err);
    if (!about)
        return TACNET_ECORRUPT;
    uint32_t sender = (uint32_t)about->sender;
    int same_case = about->case_ref.len == h->case_ref.len &&
                    memcmp(about->case_ref.data, h->case_ref.data, h->case_ref.len) == 0;
    wire_free(&about->base);
    if (!same_case) {
        *detail = "refers_to names an event of another case";
        return TACNET_EREFERSTO;
    }
    if (sender == TACNET__AGENCY__BROKER) {
        *detail = "refers_to names a broker notice, not an agency's decision or assessment";
        return TACNET_EFIELD;
    }
    if (sender == (uint32_t)h->sender) {
        if (!h->has_subject_agency || (uint32_t)h->subject_agency == sender ||
            (unsigned)h->subject_agency >= ROUTE_MAX_AGENCY ||
            !(c->members & (1u << h->subject_agency))) {
            *detail = "challenging the raiser's own event needs subject_agency naming another "
                      "member";
            return TACNET_EFIELD;
        }
        sender = (uint32_t)h->subject_agency;
    }
    *other = sender;
    return 0;
}

static int s_check_disagreement(escalation_journal_t *self, MDB_txn *txn, const Tacnet__Header *h,
                                const route_case_t *c, uint64_t now_ms, const char **detail)
{
    if (!s_has_id(h)) {
        *detail = "a disagreement names the challenged event in refers_to (16 bytes)";
        return TACNET_EFIELD;
    }
    uint32_t other = 0;
    int rc = s_challenged(self, txn, h, c, &other, detail);
    if (rc != 0)
        return rc;
    char case_ref[ESCALATE_CASEREF_MAX + 1];
    s_case_ref(h, case_ref);
    escalation_engine_request_t req = { .msg_id = h->msg_id.data,
                                        .refers_to = h->refers_to.data,
                                        .case_ref = case_ref,
                                        .raiser = (uint32_t)h->sender,
                                        .other = other,
                                        .lead_agency = c->lead,
                                        .urgent = h->has_urgent && h->urgent };
    /* Already escalated (a repeat, or the same dispute): the event is accepted and joins it. */
    rc = escalation_engine_open(s_work(self), &req, now_ms, &self->pending, NULL);
    if (rc == TACNET_EEXISTS)
        return 0;
    if (rc != 0)
        *detail = "the disagreement cannot open an escalation";
    return rc == 0 ? 0 : TACNET_EFIELD;
}

/* RESPONSE, RESOLVED or ACK about the escalation named in refers_to. */
static int s_check_answer(escalation_journal_t *self, const Tacnet__Header *h,
                          const route_case_t *c, uint64_t now_ms, const char **detail)
{
    escalation_engine_record_t r;
    char case_ref[ESCALATE_CASEREF_MAX + 1];
    s_case_ref(h, case_ref);
    if (!s_has_id(h)) {
        *detail = "an answer names the escalation it answers in refers_to (16 bytes)";
        return TACNET_EFIELD;
    }
    if (escalation_engine_get(s_view(self), h->refers_to.data, &r) != 0 ||
        strcmp(r.case_ref, case_ref) != 0) {
        *detail = "refers_to names no escalation of this case";
        return TACNET_EREFERSTO;
    }
    const uint8_t *id = h->refers_to.data;
    uint32_t by = (uint32_t)h->sender;
    /* Every party still on the team must receive the answer (escalation_rights_unreached): the
     * sending daemon refuses one that misses a party; this is for a client that does not. */
    uint32_t parties = 0, recipients = 0;
    for (unsigned i = 0; i < r.n_parties; i++)
        parties |= r.parties[i] < 32 ? 1u << r.parties[i] : 0;
    for (size_t i = 0; i < h->n_recipients; i++)
        recipients |= (uint32_t)h->recipients[i] < 32 ? 1u << h->recipients[i] : 0;
    if (c && escalation_rights_unreached(parties, by, c->members, recipients)) {
        *detail = "an answer on an escalation must reach every party still on the team, and this "
                  "one's recipients leave a party out: send it at a class every party receives";
        return TACNET_ECONSENT;
    }
    int rc;
    switch (h->kind) {
    case TACNET__EVENT_KIND__ESCALATION_RESPONSE:
        rc = escalation_engine_respond(s_work(self), id, by, now_ms);
        *detail = "only a party to the escalation answers it";
        break;
    case TACNET__EVENT_KIND__ESCALATION_RESOLVED:
        rc = escalation_engine_resolve(s_work(self), id, by, now_ms, &self->pending);
        *detail = "only a party or the lead professional resolves an escalation";
        break;
    default:
        rc = escalation_engine_ack(s_work(self), id, by,
                                   !h->has_resolution_accepted || h->resolution_accepted, now_ms,
                                   &self->pending);
        *detail = rc == TACNET_EKIND ? "nothing to acknowledge: no resolution is proposed at the "
                                       "escalation's current stage"
                  : rc == TACNET_EFORBIDDEN ? ESCALATION_RIGHTS_OWN_RESOLUTION
                                            : "only a party acknowledges a resolution";
        break;
    }
    if (rc == 0)
        *detail = NULL;
    return rc;
}

/* A case does not close while one of its escalations is open (no resolution proposed yet): its
 * stage timers would go on, tell parties they had not answered and mark it breached, on a case
 * where nobody can answer any more (E_CLOSED). One with a resolution proposed has no timer. */
static int s_check_closing(const escalation_journal_t *self, const Tacnet__Header *h,
                           const char **detail)
{
    char case_ref[ESCALATE_CASEREF_MAX + 1];
    s_case_ref(h, case_ref);
    const escalation_engine_t *e = s_view(self);
    for (size_t i = 0; i < escalation_engine_count(e); i++) {
        escalation_engine_record_t r;
        if (escalation_engine_at(e, i, &r) == 0 && r.state == ESCALATE_OPEN &&
            strcmp(r.case_ref, case_ref) == 0) {
            *detail = "an escalation of this case is still open: a resolution is proposed (by a "
                      "party or the lead) before the case closes";
            return TACNET_EFORBIDDEN;
        }
    }
    return 0;
}

int escalation_journal_check(escalation_journal_t *self, MDB_txn *txn, const Tacnet__Header *h,
                             const route_case_t *c, uint64_t now_ms, const char **detail)
{
    self->pending.n = 0;
    *detail = NULL;
    switch (h->kind) {
    case TACNET__EVENT_KIND__DISAGREEMENT:
        return s_check_disagreement(self, txn, h, c, now_ms, detail);
    case TACNET__EVENT_KIND__ESCALATION_RESPONSE:
    case TACNET__EVENT_KIND__ESCALATION_RESOLVED:
    case TACNET__EVENT_KIND__ESCALATION_ACK:
        return s_check_answer(self, h, c, now_ms, detail);
    case TACNET__EVENT_KIND__CASE_CLOSED:
        return s_check_closing(self, h, detail);
    default:
        return 0;
    }
}

static int s_emit_all(escalation_journal_t *self, MDB_txn *txn,
                      const escalation_engine_notices_t *list, const uint8_t *initials, size_t ilen,
                      uint64_t *seq)
{
    for (size_t i = 0; i < list->n; i++) {
        int rc = notice_escalation(self->notice, txn, &list->items[i], initials, ilen, seq);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int escalation_journal_apply(escalation_journal_t *self, MDB_txn *txn, const Tacnet__Header *h,
                             const route_case_t *before, const route_case_t *after, uint64_t now_ms,
                             uint64_t *seq)
{
    int rc = s_emit_all(self, txn, &self->pending, h->initials.data, h->initials.len, seq);
    self->pending.n = 0;
    if (rc != 0)
        return rc;
    char case_ref[ESCALATE_CASEREF_MAX + 1];
    s_case_ref(h, case_ref);
    if (h->kind == TACNET__EVENT_KIND__ASSESSMENT && after->level[h->sender]) {
        escalation_engine_level_t levels[ROUTE_MAX_AGENCY];
        size_t n = 0;
        for (uint32_t a = 1; a < ROUTE_MAX_AGENCY; a++)
            if ((after->members & (1u << a)) && after->level[a])
                levels[n++] = (escalation_engine_level_t){ a, after->level[a] };
        /* Only this sender's level changed: skip the copy unless some gap reaches the policy's. */
        uint32_t mine = after->level[h->sender], gap = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t d = levels[i].level > mine ? levels[i].level - mine : mine - levels[i].level;
            gap = d > gap ? d : gap;
        }
        if (gap >= self->policy.level_gap) {
            escalation_engine_notices_t out = { 0 };
            escalation_engine_levels(s_work(self), case_ref, levels, n, after->lead, now_ms, &out);
            rc = s_emit_all(self, txn, &out, h->initials.data, h->initials.len, seq);
            escalation_engine_notices_clear(&out);
        }
    }
    if (rc == 0 && before->lead != after->lead)
        escalation_engine_lead_set(s_work(self), case_ref, after->lead);
    return rc;
}

int escalation_journal_due(const escalation_journal_t *self, uint64_t now_ms)
{
    uint64_t at = escalation_engine_next_timer(self->engine);
    return at && at <= now_ms;
}

/* The initials the case's events carry (kept in its record from its latest journalled event),
 * for a notice with no event behind it. */
static int s_initials(escalation_journal_t *self, MDB_txn *txn, const char *case_ref,
                      uint8_t out[8], size_t *len)
{
    return journal_case_initials(self->journal, txn, (const uint8_t *)case_ref, strlen(case_ref),
                                 out, len);
}

int escalation_journal_tick(escalation_journal_t *self, MDB_txn *txn, uint64_t now_ms,
                            uint64_t *seq)
{
    escalation_engine_notices_t out = { 0 };
    escalation_engine_t *e = s_work(self);
    /* One stage per call: a broker down over several deadlines catches up stage by stage, each
     * advance once, all of them now. */
    while (escalation_engine_due(e, now_ms, &out) > 0) {
    }
    escalation_engine_non_response(e, now_ms, &out);
    int rc = 0;
    for (size_t i = 0; i < out.n && rc == 0; i++) {
        uint8_t initials[8];
        size_t ilen = 0;
        rc = s_initials(self, txn, out.items[i].case_ref, initials, &ilen);
        if (rc == 0)
            rc = notice_escalation(self->notice, txn, &out.items[i], initials, ilen, seq);
    }
    int n = (int)out.n;
    escalation_engine_notices_clear(&out);
    return rc != 0 ? rc : n;
}

int escalation_journal_persist(escalation_journal_t *self, MDB_txn *txn)
{
    if (!self->work)
        return 0;
    escalation_engine_record_t *recs = NULL;
    size_t n = escalation_engine_changed_take(self->work, &recs);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint8_t buf[ESCALATE_RECORD_BYTES];
        int len = escalation_engine_record_encode(&recs[i], buf, sizeof(buf));
        rc = len < 0 ? len
                     : journal_escalation_put(self->journal, txn, recs[i].id, buf, (size_t)len);
    }
    free(recs);
    return rc;
}

void escalation_journal_commit(escalation_journal_t *self)
{
    if (!self->work)
        return;
    escalation_engine_destroy(&self->engine);
    self->engine = self->work;
    self->work = NULL;
}

void escalation_journal_abort(escalation_journal_t *self)
{
    escalation_engine_destroy(&self->work);
    self->pending.n = 0;
}

static int s_by_deadline(const void *a, const void *b)
{
    const escalation_engine_record_t *x = a, *y = b;
    uint64_t dx = x->deadline_ms ? x->deadline_ms : UINT64_MAX;
    uint64_t dy = y->deadline_ms ? y->deadline_ms : UINT64_MAX;
    return dx < dy ? -1 : dx > dy;
}

json_t *escalation_journal_status_json(const escalation_journal_t *self, size_t limit)
{
    size_t total = escalation_engine_count(self->engine), open = 0, resolving = 0, closed = 0,
           breached = 0, n = 0;
    escalation_engine_record_t *live = xcalloc(total ? total : 1, sizeof(*live));
    for (size_t i = 0; i < total; i++) {
        escalation_engine_record_t r;
        escalation_engine_at(self->engine, i, &r);
        open += r.state == ESCALATE_OPEN;
        resolving += r.state == ESCALATE_RESOLVING;
        closed += r.state == ESCALATE_CLOSED;
        breached += r.state == ESCALATE_OPEN && r.breached;
        if (r.state != ESCALATE_CLOSED)
            live[n++] = r;
    }
    if (n > 1) /* qsort must never see a NULL array, even an empty one */
        qsort(live, n, sizeof(*live), s_by_deadline);
    uint64_t next = escalation_engine_next_deadline(self->engine);
    char iso[40] = "";
    if (next)
        clock_format_iso(next, iso, sizeof(iso));
    json_t *root = json_pack("{s:I, s:I, s:I, s:I, s:I, s:s?}", "open", (json_int_t)open,
                             "resolving", (json_int_t)resolving, "closed", (json_int_t)closed,
                             "breached", (json_int_t)breached, "next_deadline_ms", (json_int_t)next,
                             "next_deadline", next ? iso : NULL);
    json_t *list = json_array();
    for (size_t i = 0; i < n && i < limit; i++) {
        const escalation_engine_record_t *r = &live[i];
        char hex[33];
        wire_msgid_hex(r->id, ESCALATE_ID_LEN, hex);
        json_t *parties = json_array();
        for (unsigned p = 0; p < r->n_parties; p++)
            json_array_append_new(parties, json_string(names_agency(r->parties[p])));
        json_array_append_new(
            list,
            json_pack("{s:s, s:s, s:s, s:i, s:I, s:b, s:b, s:b, s:o, s:s?}", "id", hex, "case_ref",
                      r->case_ref, "state", r->state == ESCALATE_OPEN ? "open" : "resolving",
                      "stage", (int)r->stage, "deadline_ms",
                      (json_int_t)(r->state == ESCALATE_OPEN ? r->deadline_ms : 0), "urgent",
                      (int)r->urgent, "automatic", (int)r->automatic, "breached", (int)r->breached,
                      "parties", parties, "lead",
                      r->lead_agency ? names_agency(r->lead_agency) : NULL));
    }
    free(live);
    json_object_set_new(root, "escalations", list);
    return root;
}
