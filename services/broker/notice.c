/* notice: broker-originated, broker-signed events, journalled with their cause. */
#include "notice.h"
#include "err.h"
#include "events.pb-c.h"
#include "fault.h"
#include "store.h"
#include "wire.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct notice {
    journal_t *journal;      /* borrowed */
    const roster_t *roster;  /* borrowed */
    const seal_keys_t *keys; /* borrowed */
    seal_ctx_t *seal;        /* borrowed */
    const holidays_t *holidays;
};

notice_t *notice_new(journal_t *journal, const roster_t *roster, const seal_keys_t *keys,
                     seal_ctx_t *seal, const holidays_t *holidays)
{
    notice_t *self = xcalloc(1, sizeof(*self));
    self->journal = journal;
    self->roster = roster;
    self->keys = keys;
    self->seal = seal;
    self->holidays = holidays;
    return self;
}

void notice_destroy(notice_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

void notice_roster_set(notice_t *self, const roster_t *roster)
{
    self->roster = roster;
}

/* Seal BODY for the agencies in MASK and append it as the broker's next event. Agencies with no
 * valid key in the roster are left out (and a notice with nobody to tell is skipped). */
static int s_emit(notice_t *self, MDB_txn *txn, uint64_t *seq, Tacnet__EventKind kind,
                  const Tacnet__Header *cause, uint32_t mask, Tacnet__Header *extra,
                  Tacnet__Body *body)
{
    uint64_t now = clock_now_ms();
    seal_recipient_t rcpts[SEAL_MAX_RECIPIENTS];
    Tacnet__Agency agencies[SEAL_MAX_RECIPIENTS];
    size_t n = 0;
    for (uint32_t a = 1; a < ROUTE_MAX_AGENCY && n < SEAL_MAX_RECIPIENTS; a++) {
        if (!(mask & (1u << a)))
            continue;
        const Tacnet__NodeKey *k = roster_key_current(self->roster, a, now);
        if (!k || k->seal_pk.len != SEAL_KEY_BYTES)
            continue;
        rcpts[n].agency = a;
        rcpts[n].key_id = k->key_id;
        memcpy(rcpts[n].seal_pk, k->seal_pk.data, SEAL_KEY_BYTES);
        agencies[n++] = (Tacnet__Agency)a;
    }
    if (n == 0)
        return 0;
    uint64_t last;
    int rc = journal_sender_last(self->journal, txn, TACNET__AGENCY__BROKER, &last);
    if (rc != 0)
        return rc;

    uint8_t msg_id[16];
    wire_msgid_new(msg_id);
    Tacnet__Header h = *extra;
    h.schema_version = WIRE_SCHEMA_VERSION;
    h.msg_id.data = msg_id;
    h.msg_id.len = 16;
    h.sender = TACNET__AGENCY__BROKER;
    h.n_recipients = n;
    h.recipients = agencies;
    h.kind = kind;
    h.case_ref = cause->case_ref;
    h.initials = cause->initials;
    h.sender_seq = last + 1;
    h.created_at_ms = now;
    h.sender_key_id = self->keys->key_id;
    const Tacnet__Roster *r = roster_msg(self->roster);
    h.policy_version = r->has_policy_version ? r->policy_version : 1;
    h.sensitivity = TACNET__SENSITIVITY__SAFEGUARDING;
    h.lawful_basis = TACNET__LAWFUL_BASIS__LEGAL_DUTY;

    body->msg_id.data = msg_id;
    body->msg_id.len = 16;
    body->has_msg_id = 1;
    body->sender = TACNET__AGENCY__BROKER;
    body->has_sender = 1;

    size_t hlen = 0, blen = 0, slen = 0;
    uint8_t *hbuf = wire_pack(&h.base, &hlen);
    uint8_t *bbuf = wire_pack(&body->base, &blen);
    uint8_t *sealed = NULL, sig[SEAL_SIG_BYTES];
    rc = seal_event(self->seal, hbuf, hlen, bbuf, blen, rcpts, n, &sealed, &slen, sig);
    sodium_memzero(bbuf, blen);
    free(bbuf);
    if (rc == 0) {
        uint32_t rmask = 0;
        for (size_t i = 0; i < n; i++)
            rmask |= 1u << rcpts[i].agency;
        rc = journal_append(self->journal, txn, *seq + 1, &h, hbuf, hlen, sealed, slen, sig,
                            sizeof(sig), rmask, now);
        if (rc == 0)
            ++*seq;
    }
    free(hbuf);
    free(sealed);
    return rc;
}

static int s_override_alert(notice_t *self, MDB_txn *txn, const Tacnet__Header *h,
                            const route_case_t *c, uint64_t *seq)
{
    Tacnet__SafeguardingAlert alert = TACNET__SAFEGUARDING_ALERT__INIT;
    alert.about_msg_id = h->msg_id;
    alert.has_about_msg_id = 1;
    alert.by_agency = h->sender;
    alert.has_by_agency = 1;
    alert.reason = h->override_reason;
    alert.has_reason = 1;
    Tacnet__Body body = TACNET__BODY__INIT;
    body.event_case = TACNET__BODY__EVENT_SAFEGUARDING_ALERT;
    body.safeguarding_alert = &alert;
    Tacnet__Header extra = TACNET__HEADER__INIT;
    extra.refers_to = h->msg_id;
    extra.has_refers_to = 1;
    uint32_t lead = c->lead ? c->lead : (uint32_t)h->sender;
    return s_emit(self, txn, seq, TACNET__EVENT_KIND__SAFEGUARDING_ALERT, h, 1u << lead, &extra,
                  &body);
}

int notice_on_event(notice_t *self, MDB_txn *txn, const Tacnet__Header *h, const route_case_t *c,
                    int override_used, uint64_t *seq)
{
    int rc = 0;
    if (override_used && (rc = s_override_alert(self, txn, h, c, seq)) != 0)
        return rc;
    return 0;
}

int notice_non_delivery(notice_t *self, MDB_txn *txn, const Tacnet__Header *h, uint32_t recipient,
                        uint64_t about_seq, uint64_t published_ms, uint64_t *seq)
{
    Tacnet__NonDelivery nd = TACNET__NON_DELIVERY__INIT;
    nd.about_msg_id = h->msg_id;
    nd.has_about_msg_id = 1;
    nd.recipient = (Tacnet__Agency)recipient;
    nd.has_recipient = 1;
    nd.seq = about_seq;
    nd.has_seq = 1;
    nd.published_at_ms = published_ms;
    nd.has_published_at_ms = 1;
    Tacnet__Body body = TACNET__BODY__INIT;
    body.event_case = TACNET__BODY__EVENT_NON_DELIVERY;
    body.non_delivery = &nd;
    Tacnet__Header extra = TACNET__HEADER__INIT;
    extra.refers_to = h->msg_id;
    extra.has_refers_to = 1;
    extra.subject_agency = (Tacnet__Agency)recipient;
    extra.has_subject_agency = 1;
    return s_emit(self, txn, seq, TACNET__EVENT_KIND__NON_DELIVERY, h, 1u << h->sender, &extra,
                  &body);
}

int notice_delivery_report(notice_t *self, MDB_txn *txn, uint32_t sender,
                           const Tacnet__Header *cause, Tacnet__DeliveryReport__Applied **applied,
                           size_t n, uint64_t *seq)
{
    Tacnet__DeliveryReport dr = TACNET__DELIVERY_REPORT__INIT;
    dr.applied = applied;
    dr.n_applied = n;
    Tacnet__Body body = TACNET__BODY__INIT;
    body.event_case = TACNET__BODY__EVENT_DELIVERY_REPORT;
    body.delivery_report = &dr;
    Tacnet__Header extra = TACNET__HEADER__INIT;
    return s_emit(self, txn, seq, TACNET__EVENT_KIND__DELIVERY_REPORT, cause, 1u << sender, &extra,
                  &body);
}

int notice_escalation(notice_t *self, MDB_txn *txn, const escalation_engine_notice_t *n,
                      const uint8_t *initials, size_t ilen, uint64_t *seq)
{
    Tacnet__Header cause = TACNET__HEADER__INIT;
    cause.case_ref.data = (uint8_t *)n->case_ref;
    cause.case_ref.len = strlen(n->case_ref);
    cause.initials.data = (uint8_t *)initials;
    cause.initials.len = ilen;
    uint32_t mask = 0;
    for (unsigned i = 0; i < n->n_recipients; i++)
        if (n->recipients[i] < ROUTE_MAX_AGENCY)
            mask |= 1u << n->recipients[i];

    Tacnet__Header extra = TACNET__HEADER__INIT;
    extra.refers_to.data = (uint8_t *)n->escalation_id;
    extra.refers_to.len = ESCALATE_ID_LEN;
    extra.has_refers_to = 1;
    extra.escalation_stage = n->stage;
    extra.has_escalation_stage = 1;
    extra.audience = (Tacnet__Role)n->audience;
    extra.has_audience = 1;
    if (n->urgent) {
        extra.urgent = 1;
        extra.has_urgent = 1;
    }
    Tacnet__Agency parties[ESCALATE_MAX_PARTIES];
    for (unsigned i = 0; i < n->n_parties; i++)
        parties[i] = (Tacnet__Agency)n->parties[i];
    Tacnet__Body body = TACNET__BODY__INIT;

    if (n->non_responder) {
        Tacnet__NonResponse nr = TACNET__NON_RESPONSE__INIT;
        nr.about_msg_id = extra.refers_to;
        nr.has_about_msg_id = 1;
        nr.agency = (Tacnet__Agency)n->non_responder;
        nr.has_agency = 1;
        nr.stage = n->stage;
        nr.has_stage = 1;
        nr.overdue_since_ms = n->overdue_since_ms;
        nr.has_overdue_since_ms = 1;
        extra.subject_agency = (Tacnet__Agency)n->non_responder;
        extra.has_subject_agency = 1;
        body.event_case = TACNET__BODY__EVENT_NON_RESPONSE;
        body.non_response = &nr;
        return s_emit(self, txn, seq, TACNET__EVENT_KIND__NON_RESPONSE, &cause, mask, &extra,
                      &body);
    }

    extra.escalation_event = (Tacnet__EscalationEvent)n->event;
    extra.has_escalation_event = 1;
    if (n->deadline_ms) {
        extra.deadline_ms = n->deadline_ms;
        extra.has_deadline_ms = 1;
    }
    Tacnet__EscalationNotice en = TACNET__ESCALATION_NOTICE__INIT;
    en.escalation_id = extra.refers_to;
    en.has_escalation_id = 1;
    en.event = (Tacnet__EscalationEvent)n->event;
    en.has_event = 1;
    en.stage = n->stage;
    en.has_stage = 1;
    en.audience = (Tacnet__Role)n->audience;
    en.has_audience = 1;
    en.deadline_ms = n->deadline_ms;
    en.has_deadline_ms = n->deadline_ms != 0;
    en.parties = parties;
    en.n_parties = n->n_parties;
    en.automatic = n->automatic != 0;
    en.has_automatic = 1;
    if (n->has_joined) {
        en.joined.data = (uint8_t *)n->joined;
        en.joined.len = ESCALATE_ID_LEN;
        en.has_joined = 1;
        en.joined_by = (Tacnet__Agency)n->joined_by;
        en.has_joined_by = 1;
    }
    uint64_t took[ESCALATE_MAX_STAGES];
    if (n->event == TACNET__ESCALATION_EVENT__ESC_CLOSED) {
        /* one entry per stage reached, so stage i's duration is stage_took_ms[i - 1] */
        for (unsigned i = 0; i < n->stage && i < ESCALATE_MAX_STAGES; i++)
            took[i] = n->stage_took_ms[i];
        en.stage_took_ms = took;
        en.n_stage_took_ms = n->stage < ESCALATE_MAX_STAGES ? n->stage : ESCALATE_MAX_STAGES;
    }
    body.event_case = TACNET__BODY__EVENT_ESCALATION_NOTICE;
    body.escalation_notice = &en;
    return s_emit(self, txn, seq, TACNET__EVENT_KIND__ESCALATION_NOTICE, &cause, mask, &extra,
                  &body);
}
