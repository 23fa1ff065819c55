/* publish: the broker's publish pipeline (docs/ARCHITECTURE.md, "The publish path"), in the
 * order a PUBLISH meets it.
 *
 *   1. identity     the connection's ZAP User-Id names a roster agency;
 *   2. stateless    cheapest first: header unpack within its budget, schema version, clock
 *                   window, identifiers, sender binding, connection and signing key ids;
 *   3. quota        before any signature is checked, so a flood costs no Ed25519 verify;
 *   4. batch        up to batch_max publishes wait for one commit;
 *   5. signatures   the whole batch on the verifier's threads, then the wrapped keys;
 *   6. commit       one write transaction: order (dedup by msg_id, replay, storage hold-back),
 *                   policy (membership, sharing, escalation facts), append (journal, audit,
 *                   notices, escalation records);
 *   7. answer       in order, only after the commit has synced: PUBACK, or a NACK with a stable
 *                   code and a reason. A refused publish stores nothing.
 */
#include "broker_internal.h"
#include "zap.h"
#include "casework/header_rules.h"

#include "err.h"
#include "fault.h"
#include "log.h"
#include "names.h"
#include "policy.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- 2. stateless checks */

/* A sender's clock far off ours makes deadlines and expiry meaningless (and a far-past
 * created_at could pass for history): bound it both ways. The past bound is loose because an
 * agency's outbox legitimately holds events through a long outage. */
static int s_check_clock(const broker_t *self, const Tacnet__Header *h, uint64_t now,
                         const char **detail)
{
    if (h->created_at_ms > now + (uint64_t)self->cfg.max_clock_skew_s * 1000) {
        *detail = "created_at_ms is ahead of the broker's clock by more than max_clock_skew_s";
        return TACNET_ECLOCK;
    }
    if (h->created_at_ms + (uint64_t)self->cfg.max_event_age_days * CLOCK_DAY_MS < now) {
        *detail = "created_at_ms is older than max_event_age_days";
        return TACNET_ECLOCK;
    }
    return 0;
}

/* No free bytes in the clear header: the case reference and initials by their formats, the case
 * reference's prefix one of the roster's area codes, the msg_id's creation time within the
 * clock window created_at_ms is held to and next to created_at_ms itself, and refers_to only on the kinds that use it (which
 * event or escalation it names is checked against the journal at the commit). */
static int s_check_identifiers(broker_t *self, const Tacnet__Header *h, uint64_t now,
                               const char **detail)
{
    /* The loop is single-threaded and answers a refusal before reading the next publish. */
    static char why[128];
    int err = policy_case_ref_check(h->case_ref.data, h->case_ref.len);
    if (err == 0)
        err = policy_initials_check(h->initials.data, h->initials.len);
    if (err == 0 &&
        (err = roster_case_prefix_check(self->roster, h->case_ref.data, h->case_ref.len)) != 0)
        *detail = "not one of the roster's area_codes";
    if (err == 0 &&
        (err = header_rules_msgid_check(h->msg_id.data, h->msg_id.len, now, h->created_at_ms,
                                        (uint64_t)self->cfg.max_clock_skew_s * 1000,
                                        (uint64_t)self->cfg.max_event_age_days * CLOCK_DAY_MS, why,
                                        sizeof(why))) != 0)
        *detail = why;
    if (err == 0 && h->has_refers_to && !header_rules_refers_to_used(h->kind)) {
        *detail = "this kind names no other event";
        err = TACNET_EREFERSTO;
    }
    return err;
}

/* The header's sender is the connection's agency, the connection's key is still valid, and the
 * signing key the header names is current: its public half goes to SIGN_PK. */
static int s_check_sender(const broker_t *self, const Tacnet__Header *h, uint32_t agency,
                          uint32_t conn_key_id, uint64_t now, uint8_t sign_pk[SEAL_KEY_BYTES],
                          const char **detail)
{
    int err = 0;
    if ((uint32_t)h->sender != agency)
        return TACNET_ESENDER;
    /* Revocation applies to live connections: the key this connection authenticated with must
     * still be valid on every message, not only at the handshake. */
    if (!roster_key_find(self->roster, agency, conn_key_id, now, &err)) {
        *detail = "connection key revoked or expired";
        return TACNET_EKEYID;
    }
    const Tacnet__NodeKey *k = roster_key_find(self->roster, agency, h->sender_key_id, now, &err);
    if (!k)
        return TACNET_EKEYID;
    memcpy(sign_pk, k->sign_pk.data, SEAL_KEY_BYTES);
    return 0;
}

/* The checks that need no state, cheapest first, up to the signature (checked for the whole
 * batch at once, s_check_signatures). Returns 0, the unpacked header in *HP (also set on some
 * refusals, to name the msg_id) and the key its signature must verify under in SIGN_PK. */
static int s_check_stateless(broker_t *self, const wire_msg_t *m, uint32_t agency,
                             uint32_t conn_key_id, Tacnet__Header **hp,
                             uint8_t sign_pk[SEAL_KEY_BYTES], const char **detail)
{
    int err = 0;
    uint64_t now = clock_now_ms();
    *detail = NULL;
    Tacnet__Header *h = wire_header_unpack(m->header, m->header_len, &err);
    if (!h)
        return err;
    *hp = h;
    if (h->schema_version != WIRE_SCHEMA_VERSION)
        return TACNET_EVERSION;
    if ((err = s_check_clock(self, h, now, detail)) != 0)
        return err;
    if ((err = s_check_identifiers(self, h, now, detail)) != 0)
        return err;
    return s_check_sender(self, h, agency, conn_key_id, now, sign_pk, detail);
}

/* ---------------------------------------------------------------- 3. quota, 4. batch */

/* Before the signature check (which runs batched at the flush), so a flood costs the broker no
 * Ed25519 verify. The connection's identity is CURVE-authenticated, so only the agency itself
 * can spend its tokens or move its own hold (quota.h). Returns whether it refused (and
 * answered) the publish. */
static int s_quota_refused(broker_t *self, const wire_msg_t *m, const Tacnet__Header *h,
                           uint32_t agency)
{
    int rc = quota_take(self->quota, agency, h->sender_seq, clock_mono_ms());
    if (rc == 0)
        return 0;
    /* Counted like every refusal, but logged once per 1000: a line per refused publish would
     * turn a flood into a flood of the log. */
    uint64_t n = quota_refused(self->quota, agency);
    if (n == 1 || n % 1000 == 0)
        log_warn("%s over quota: %llu publishes refused so far", names_agency(agency),
                 (unsigned long long)n);
    broker_reject_count(self, rc);
    wire_send_nack(self->router, m->rid, m->rid_len, WIRE_NACK, h->msg_id.data, 16, rc,
                   "over quota_per_s: resend after a pause, in order");
    return 1;
}

/* Move M's frames and H into the batch. */
static void s_batch_add(broker_t *self, wire_msg_t *m, Tacnet__Header *h, uint32_t agency,
                        const uint8_t sign_pk[SEAL_KEY_BYTES], int ack_batch)
{
    broker_pending_t *p = &self->batch[self->n_batch++];
    p->msg = *m;
    memset(m, 0, sizeof(*m));
    p->h = h;
    p->agency = agency;
    memcpy(p->sign_pk, sign_pk, SEAL_KEY_BYTES);
    p->ack_batch = ack_batch;
}

/* Whether the PUBLISH M asks for PUBACKS: 1 or 0, or a code for a command header that is not a
 * Publish (an empty one is, with nothing asked). */
static int s_publish_ctl(const wire_msg_t *m)
{
    if (m->ctl_len == 0)
        return 0;
    int err = 0;
    Tacnet__Publish *c = (Tacnet__Publish *)wire_ctl_unpack(WIRE_PUBLISH, m->ctl, m->ctl_len, &err);
    if (!c)
        return err;
    int asked = c->has_ack_batches && c->ack_batches;
    wire_free(&c->base);
    return asked;
}

void broker_on_publish(broker_t *self, wire_msg_t *m)
{
    uint32_t agency, key_id;
    if (zap_user_parse(m->user_id, &agency, &key_id) != 0) {
        broker_nack(self, m, NULL, TACNET_ESENDER, "connection has no roster identity");
        wire_msg_clear(m);
        return;
    }
    Tacnet__Header *h = NULL;
    const char *detail = NULL;
    uint8_t sign_pk[SEAL_KEY_BYTES];
    int ack_batch = s_publish_ctl(m), rc = ack_batch;
    if (ack_batch < 0)
        detail = "bad PUBLISH command header";
    else
        rc = s_check_stateless(self, m, agency, key_id, &h, sign_pk, &detail);
    if (rc != 0) {
        const uint8_t *id = h && h->msg_id.len == 16 ? h->msg_id.data : NULL;
        broker_nack(self, m, id, rc, detail);
        if (h)
            wire_free(&h->base);
        wire_msg_clear(m);
        return;
    }
    if (s_quota_refused(self, m, h, agency)) {
        wire_free(&h->base);
        wire_msg_clear(m);
        return;
    }
    s_batch_add(self, m, h, agency, sign_pk, ack_batch);
    if (self->n_batch >= self->cfg.batch_max)
        broker_publish_flush(self);
}

/* ---------------------------------------------------------------- 5. signatures */

/* After the signature verified. */
static int s_check_wrapped(const wire_msg_t *m, const Tacnet__Header *h, const char **detail)
{
    /* The body key must be wrapped for exactly the header's recipients, or a recipient the
     * policy approves could not open it (or one it refuses could). */
    uint32_t wrapped[SEAL_MAX_RECIPIENTS];
    int n = seal_recipients(m->sealed, m->sealed_len, wrapped, SEAL_MAX_RECIPIENTS);
    if (n < 0)
        return TACNET_EBADMSG;
    uint32_t wmask = 0;
    for (int i = 0; i < n; i++)
        if (wrapped[i] < BROKER_MAX_AGENCY)
            wmask |= 1u << wrapped[i];
    if ((size_t)n != h->n_recipients || wmask != route_recipient_mask(h)) {
        *detail = "wrapped keys differ from the header's recipients";
        return TACNET_ERECIPIENTS;
    }
    return 0;
}

/* The signatures of the whole batch, checked on the verifier's threads (the largest cost of a
 * publish: ingest would otherwise use one core), then the wrapped-key check for those that
 * verified. Refusals are answered with the batch, in order. Returns how many passed. */
static size_t s_check_signatures(broker_t *self)
{
    size_t n_ok = 0;
    verifier_job_t *jobs = xcalloc(self->n_batch, sizeof(*jobs));
    for (size_t i = 0; i < self->n_batch; i++) {
        broker_pending_t *p = &self->batch[i];
        jobs[i] = verifier_job_of(p->sign_pk, &p->msg);
    }
    verifier_run(self->verifier, jobs, self->n_batch);
    for (size_t i = 0; i < self->n_batch; i++) {
        broker_pending_t *p = &self->batch[i];
        p->refused_detail = NULL;
        p->refused = jobs[i].result != 0 ? TACNET_ESIGNATURE
                                         : s_check_wrapped(&p->msg, p->h, &p->refused_detail);
        n_ok += p->refused == 0;
    }
    free(jobs);
    return n_ok;
}

/* ---------------------------------------------------------------- 6. commit */

/* Each stage below runs inside the batch's write transaction and returns 0 with P->code set
 * (0 to go on, or the refusal) or a storage code that aborts the whole transaction. */

/* A retry of an accepted msg_id gets its original seq (P->duplicate); a sender_seq already
 * used is a replay; a sender held back after a failed commit stays held. */
static int s_commit_order(broker_t *self, MDB_txn *txn, broker_pending_t *p)
{
    const Tacnet__Header *h = p->h;
    uint64_t orig, last;
    int rc = journal_msgid_find(self->journal, txn, h->msg_id.data, &orig);
    if (rc == 0) {
        p->duplicate = 1;
        p->seq = orig;
        return 0;
    }
    if (rc != TACNET_ENOTFOUND)
        return rc;
    if ((rc = journal_sender_last(self->journal, txn, p->agency, &last)) != 0)
        return rc;
    if (h->sender_seq <= last) {
        /* Name the gap: the sender (or whoever holds its key) is behind what was accepted. */
        p->code = TACNET_EREPLAY;
        snprintf(p->detail_buf, sizeof(p->detail_buf),
                 "sender_seq %llu, but the broker has accepted this agency's events up to %llu",
                 (unsigned long long)h->sender_seq, (unsigned long long)last);
        p->detail = p->detail_buf;
        return 0;
    }
    /* A refused event that is in the journal after all (a resend of an accepted one was in the
     * refused batch) no longer holds the sender back. */
    uint64_t *refused = &self->storage_refused_from[p->agency];
    if (*refused && *refused <= last)
        *refused = 0;
    if (*refused && h->sender_seq > *refused)
        p->code = self->storage_refused_code[p->agency];
    return 0;
}

/* A case's events all carry the initials of its first: others mean the wrong case reference or
 * the wrong child, and sharing the event would tell one child's team about another child. The
 * refusal does not say which initials the case has (the sender may not be a member of it). */
static int s_case_initials(broker_t *self, MDB_txn *txn, broker_pending_t *p)
{
    const Tacnet__Header *h = p->h;
    uint8_t kept[8];
    size_t klen = 0;
    int rc =
        journal_case_initials(self->journal, txn, h->case_ref.data, h->case_ref.len, kept, &klen);
    if (rc == TACNET_ENOTFOUND || rc == TACNET_ECORRUPT) {
        /* None kept, or an older record whose latest event cannot be read back: nothing to
         * compare, and no reason to refuse the whole batch. */
        if (rc == TACNET_ECORRUPT)
            log_warn("case record: initials not readable (%s); not compared", tacnet_errname(rc));
        return 0;
    }
    if (rc != 0)
        return rc;
    if (klen && (klen != h->initials.len || memcmp(kept, h->initials.data, klen) != 0)) {
        p->code = TACNET_ECASEINITIALS;
        p->detail = "the case's events carry other initials; a case opened with the wrong "
                    "initials is closed as opened in error and opened again";
    }
    return 0;
}

/* Membership and the sharing policy against the case as stored (into *C, with the verdict in
 * *V), then the escalation header facts. A refusal stores nothing, not even an audit record:
 * the journal stays byte-identical (refusals are counted in `tacnet broker status` and logged
 * by code). */
static int s_commit_policy(broker_t *self, MDB_txn *txn, broker_pending_t *p, uint64_t now,
                           route_case_t *c, route_verdict_t *v)
{
    const Tacnet__Header *h = p->h;
    int found;
    int rc = journal_case_get(self->journal, txn, h->case_ref.data, h->case_ref.len, c, &found);
    if (rc != 0)
        return rc;
    /* Members only: to anyone else the case answers E_NOTMEMBER whatever the initials, so the
     * two codes cannot be played against each other to learn a child's initials. */
    if (found && (c->members & (1u << p->agency)) && (rc = s_case_initials(self, txn, p)) != 0)
        return rc;
    if (p->code)
        return 0;
    if ((p->code = route_check(found ? c : NULL, h, self->roster, v)) != 0) {
        p->detail = v->why; /* which consent or basis refused it */
        p->required = p->code == TACNET_ERECIPIENTS ? v->required : 0;
        return 0;
    }
    /* Escalation header facts refuse like the sharing policy does: storing nothing. */
    rc = escalation_journal_check(self->escalation, txn, h, c, now, &p->detail);
    if (rc == TACNET_EFIELD || rc == TACNET_ENOTMEMBER || rc == TACNET_EKIND ||
        rc == TACNET_EREFERSTO || rc == TACNET_EFORBIDDEN || rc == TACNET_ECONSENT) {
        p->code = rc;
        return 0;
    }
    return rc;
}

/* Append the event at ++*SEQ, fold it into case C, and journal the broker notices and escalation
 * records it causes (advancing *SEQ): all in this transaction, so none is lost or doubled. Its
 * audit record is the batch's (s_commit_audit). */
static int s_commit_append(broker_t *self, MDB_txn *txn, broker_pending_t *p, uint64_t now,
                           route_case_t *c, const route_verdict_t *v, uint64_t *seq)
{
    const Tacnet__Header *h = p->h;
    route_case_t before = *c;
    route_apply(c, h);
    int rc = journal_case_put(self->journal, txn, h->case_ref.data, h->case_ref.len, c);
    if (rc != 0)
        return rc;
    p->seq = ++*seq;
    rc = journal_append(self->journal, txn, p->seq, h, p->msg.header, p->msg.header_len,
                        p->msg.sealed, p->msg.sealed_len, p->msg.sig, p->msg.sig_len, v->required,
                        now);
    if (rc != 0)
        return rc;
    FAULT_POINT("broker.after_put");
    if ((rc = notice_on_event(self->notice, txn, h, c, v->override_used, seq)) != 0)
        return rc;
    return escalation_journal_apply(self->escalation, txn, h, &before, c, now, seq);
}

static int s_commit_one(broker_t *self, MDB_txn *txn, broker_pending_t *p, uint64_t now,
                        uint64_t *seq)
{
    p->code = p->refused;
    p->detail = p->refused_detail;
    p->duplicate = 0;
    p->required = 0;
    if (p->code)
        return 0; /* a forged or mis-wrapped publish is not even looked up */
    route_case_t c;
    route_verdict_t v;
    int rc = s_commit_order(self, txn, p);
    if (rc == 0 && !p->duplicate && !p->code)
        rc = s_commit_policy(self, txn, p, now, &c, &v);
    if (rc == 0 && !p->duplicate && !p->code)
        rc = s_commit_append(self, txn, p, now, &c, &v, seq);
    return rc;
}

/* One audit record per run of accepted events signed under one key (the actor, "school/key2",
 * names it, so a rotation is visible), its object "seq FIRST-LAST n N": the run's N events are
 * those journalled between FIRST and LAST whose header names that sender and key (broker notices
 * may sit between them), so each stays attributable through the journal. A record per event cost
 * 285 bytes of the audit tree each, a page per 14 events in every synced commit. */
static int s_commit_audit(broker_t *self, MDB_txn *txn)
{
    int rc = 0;
    for (size_t i = 0; i < self->n_batch && rc == 0;) {
        const broker_pending_t *p = &self->batch[i++];
        if (p->refused || p->code || p->duplicate)
            continue;
        uint64_t last = p->seq;
        size_t n = 1;
        for (; i < self->n_batch; i++) {
            const broker_pending_t *q = &self->batch[i];
            if (q->refused || q->code || q->duplicate)
                continue;
            if (q->agency != p->agency || q->h->sender_key_id != p->h->sender_key_id)
                break;
            last = q->seq;
            n++;
        }
        char actor[48], object[72];
        snprintf(actor, sizeof(actor), "%s/key%u", names_agency(p->agency), p->h->sender_key_id);
        snprintf(object, sizeof(object), "seq %llu-%llu n %zu", (unsigned long long)p->seq,
                 (unsigned long long)last, n);
        rc = journal_audit(self->journal, txn, actor, "publish", object, "accepted", 0);
    }
    return rc;
}

/* The batch's write transaction. Runs again from the same inputs if LMDB asks for a bigger map,
 * so it only reads from the batch. */
static int s_commit_batch(MDB_txn *txn, void *arg)
{
    broker_t *self = arg;
    uint64_t seq = self->write_head;
    uint64_t now = clock_now_ms();
    escalation_journal_begin(self->escalation);
    for (size_t i = 0; i < self->n_batch; i++) {
        int rc = s_commit_one(self, txn, &self->batch[i], now, &seq);
        if (rc != 0)
            return rc;
    }
    int rc = s_commit_audit(self, txn);
    if (rc == 0)
        rc = escalation_journal_persist(self->escalation, txn);
    if (rc != 0)
        return rc;
    journal_head_set(self->journal, seq);
    return 0;
}

/* Commit the batch (N_OK publishes passed their signatures). Returns 0, or the storage code
 * every publish in it is refused with: nothing was stored. */
static int s_commit(broker_t *self, size_t n_ok)
{
    uint64_t head_before = journal_head(self->journal);
    self->write_head = head_before;
    if (n_ok == 0) {
        for (size_t i = 0; i < self->n_batch; i++)
            self->batch[i].code = self->batch[i].refused; /* nothing to store */
        return 0;
    }
    int rc = store_write(journal_store(self->journal), s_commit_batch, self);
    if (rc != 0) {
        journal_head_set(self->journal, head_before);
        escalation_journal_abort(self->escalation);
        /* A full disk or map is never acknowledged: each publish gets an explicit refusal. */
        log_error("journal commit failed: %s; %zu publishes refused", tacnet_errname(rc),
                  self->n_batch);
        return rc;
    }
    escalation_journal_commit(self->escalation);
    self->commits++;
    self->batched_events += n_ok;
    FAULT_POINT("broker.after_commit");
    return 0;
}

/* After a commit that failed with RC, hold P's sender back from its refused sender_seq on; after
 * one that accepted the held-back event (or a later one), let the sender go again. */
static void s_hold_back(broker_t *self, const broker_pending_t *p, int rc)
{
    uint64_t *refused = &self->storage_refused_from[p->agency];
    if (rc != 0 && !p->refused) {
        if (!*refused || p->h->sender_seq < *refused)
            *refused = p->h->sender_seq;
        self->storage_refused_code[p->agency] = rc;
    } else if (rc == 0 && p->code == 0 && !p->refused && *refused && p->h->sender_seq >= *refused) {
        *refused = 0;
    }
}

/* ---------------------------------------------------------------- 7. answer */

/* E_RECIPIENTS from the sharing policy: the NACK names the recipients the case requires, as the
 * broker holds it, so a sender whose view lacked a membership event can re-seal for them. */
static void s_nack_recipients(broker_t *self, const broker_pending_t *p)
{
    char reason[200];
    Tacnet__Agency list[BROKER_MAX_AGENCY];
    Tacnet__Nack n = TACNET__NACK__INIT;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY; a++)
        if (p->required & (1u << a))
            list[n.n_required_recipients++] = (Tacnet__Agency)a;
    n.required_recipients = list;
    n.has_msg_id = 1;
    n.msg_id.data = p->h->msg_id.data;
    n.msg_id.len = 16;
    n.code = TACNET_ERECIPIENTS;
    snprintf(reason, sizeof(reason), "%s: the case's members now require %u recipients",
             tacnet_strerror(TACNET_ERECIPIENTS), (unsigned)n.n_required_recipients);
    n.reason = reason;
    broker_reject_count(self, TACNET_ERECIPIENTS);
    log_info("reject from %s: E_RECIPIENTS (required set sent)", names_agency(p->agency));
    wire_send(self->router, p->msg.rid, p->msg.rid_len, WIRE_NACK, &n.base, NULL, 0, NULL, 0, NULL);
}

/* Send the PUBACKS being filled, if any. */
static void s_acks_flush(broker_t *self)
{
    if (self->ack_batch.n)
        (void)wire_batch_send(self->router, self->ack_rid, self->ack_rid_len, &self->ack_batch);
}

/* P's PUBACK into the PUBACKS for its connection (sending the one for another first). */
static void s_ack_batch(broker_t *self, const broker_pending_t *p, const Tacnet__Puback *a)
{
    const wire_msg_t *m = &p->msg;
    if (self->ack_batch.n &&
        (m->rid_len != self->ack_rid_len || memcmp(m->rid, self->ack_rid, m->rid_len) != 0 ||
         self->ack_batch.n == WIRE_BATCH_MAX))
        s_acks_flush(self);
    if (self->ack_batch.n == 0) {
        memcpy(self->ack_rid, m->rid, m->rid_len);
        self->ack_rid_len = m->rid_len;
    }
    if (wire_batch_add(&self->ack_batch, WIRE_PUBACK, &a->base, NULL, 0, NULL, 0, NULL, 0) != 0) {
        s_acks_flush(self); /* cannot happen for a PUBACK; sent alone rather than lost */
        wire_send(self->router, m->rid, m->rid_len, WIRE_PUBACK, &a->base, NULL, 0, NULL, 0, NULL);
    }
}

/* P's answer after a commit that returned RC: its own refusal, the commit's, or a PUBACK. A
 * PUBACK its sender asked to get batched joins the PUBACKS for its connection; anything else
 * first sends that, so every sender sees its answers in the order of its publishes. */
static void s_answer(broker_t *self, const broker_pending_t *p, int rc)
{
    const uint8_t *id = p->h->msg_id.data;
    int ack = p->refused == 0 && rc == 0 && p->code == 0;
    if (!(ack && p->ack_batch))
        s_acks_flush(self);
    if (p->refused != 0) {
        broker_nack(self, &p->msg, id, p->refused, p->refused_detail);
    } else if (rc != 0) {
        broker_nack(self, &p->msg, id, rc, NULL);
    } else if (p->code == TACNET_ERECIPIENTS && p->required) {
        s_nack_recipients(self, p);
    } else if (p->code != 0) {
        broker_nack(self, &p->msg, id, p->code, p->detail);
    } else {
        Tacnet__Puback a = TACNET__PUBACK__INIT;
        a.msg_id.data = p->h->msg_id.data;
        a.msg_id.len = 16;
        a.seq = p->seq;
        a.has_duplicate = p->duplicate;
        a.duplicate = p->duplicate;
        if (p->ack_batch)
            s_ack_batch(self, p, &a);
        else
            wire_send(self->router, p->msg.rid, p->msg.rid_len, WIRE_PUBACK, &a.base, NULL, 0, NULL,
                      0, NULL);
        if (p->duplicate)
            self->duplicates++;
        else
            self->accepted++;
    }
}

void broker_publish_flush(broker_t *self)
{
    if (self->n_batch == 0)
        return;
    size_t n_ok = s_check_signatures(self);
    int rc = s_commit(self, n_ok);
    for (size_t i = 0; i < self->n_batch; i++) {
        broker_pending_t *p = &self->batch[i];
        if (rc == 0 && !p->refused && !p->code && !p->duplicate)
            broker_recent_note(self, p->seq, p->h);
        s_hold_back(self, p, rc);
        s_answer(self, p, rc);
        wire_free(&p->h->base);
        wire_msg_clear(&p->msg);
    }
    s_acks_flush(self);
    self->n_batch = 0;
    broker_pump_all(self);
}
