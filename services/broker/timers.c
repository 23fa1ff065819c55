/* timers: the broker's work on the clock rather than on a message.
 *
 * Non-delivery (MESH's rule: never silence): every event an agency has not acknowledged within
 * the sharing policy's expiry produces one non-delivery report to its sender. Escalation ticks:
 * due stage advances and non-response alerts. Each is journalled with what it changes in one
 * write transaction, so a crash before the commit fires it after the restart and one after it
 * never again; what it journalled is then delivered like any event.
 */
#include "broker_internal.h"

#include "err.h"
#include "fault.h"
#include "log.h"
#include "store.h"

#include <string.h>

/* ---------------------------------------------------------------- non-delivery */

static uint64_t s_expiry_ms(const broker_t *self)
{
    const Tacnet__SharingPolicy *sp = roster_msg(self->roster)->sharing;
    if (sp && sp->has_expiry_seconds && sp->expiry_seconds)
        return (uint64_t)sp->expiry_seconds * 1000;
    if (sp && sp->has_expiry_hours && sp->expiry_hours)
        return (uint64_t)sp->expiry_hours * CLOCK_HOUR_MS;
    return 0;
}

/* Report event AT (entry E) as not delivered to agency A, once: `reported` remembers it across
 * restarts. */
static int s_expiry_report(broker_t *self, MDB_txn *txn, uint32_t a, uint64_t at,
                           const journal_entry_t *e, uint64_t *seq)
{
    int done = journal_reported(self->journal, txn, a, at, 0);
    if (done != 0)
        return done < 0 ? done : 0;
    int rc = 0, err = 0;
    Tacnet__Header *h = wire_header_unpack(e->header, e->header_len, &err);
    if (h && h->sender != TACNET__AGENCY__BROKER && (uint32_t)h->sender != a)
        rc = notice_non_delivery(self->notice, txn, h, a, at, e->received_ms, seq);
    if (h)
        wire_free(&h->base);
    if (rc == 0)
        rc = journal_reported(self->journal, txn, a, at, 1);
    return rc;
}

/* Agency A's overdue events, from where its last scan or its acknowledged cursor left off up to
 * the first event still within its time; expiry_next[A] gets how far that is. */
static int s_expiry_agency(broker_t *self, MDB_txn *txn, uint32_t a, uint64_t now, uint64_t expiry,
                           uint64_t *seq)
{
    uint64_t acked = self->sessions[a].acked, at = 0, scanned = 0;
    int rc = 0, nrc;
    if (!self->sessions[a].connected &&
        (rc = journal_cursor_get(self->journal, txn, a, &acked)) != 0)
        return rc;
    uint64_t *done_upto = &self->expiry_next[a];
    *done_upto = acked > self->expiry_done[a] ? acked : self->expiry_done[a];
    MDB_cursor *cur = NULL;
    for (at = *done_upto;
         (nrc = journal_next_for(self->journal, txn, &cur, a, at, &at, &scanned)) == 0;) {
        journal_entry_t e;
        if ((rc = journal_get(self->journal, txn, at, &e)) != 0)
            break;
        if (e.received_ms + expiry > now)
            break;
        *done_upto = at; /* reported before, or reported below in this transaction */
        if ((rc = s_expiry_report(self, txn, a, at, &e, seq)) != 0)
            break;
    }
    if (rc == 0 && nrc == TACNET_ENOTFOUND)
        *done_upto = scanned; /* nothing more for this agency */
    else if (rc == 0 && nrc != 0)
        rc = nrc;
    if (cur)
        mdb_cursor_close(cur);
    return rc;
}

/* The scan for every agency with a current key, in one write transaction. */
static int s_expiry_write(MDB_txn *txn, void *arg)
{
    broker_t *self = arg;
    uint64_t now = clock_now_ms(), expiry = s_expiry_ms(self);
    uint64_t seq = self->write_head;
    int rc = 0;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY && rc == 0; a++) {
        if (a == TACNET__AGENCY__BROKER || !roster_key_current(self->roster, a, now))
            continue;
        rc = s_expiry_agency(self, txn, a, now, expiry, &seq);
    }
    if (rc == 0)
        journal_head_set(self->journal, seq);
    return rc;
}

void broker_expiry_check(broker_t *self)
{
    if (s_expiry_ms(self) == 0)
        return;
    uint64_t before = journal_head(self->journal);
    self->write_head = before;
    int rc = store_write(journal_store(self->journal), s_expiry_write, self);
    if (rc == 0)
        memcpy(self->expiry_done, self->expiry_next, sizeof(self->expiry_done));
    if (rc != 0) {
        journal_head_set(self->journal, before);
        log_error("non-delivery check failed: %s", tacnet_errname(rc));
    } else if (journal_head(self->journal) != before) {
        log_info("sent %llu non-delivery reports",
                 (unsigned long long)(journal_head(self->journal) - before));
        broker_pump_all(self);
    }
}

/* ---------------------------------------------------------------- escalation ticks */

static int s_escalation_write(MDB_txn *txn, void *arg)
{
    broker_t *self = arg;
    uint64_t seq = self->write_head;
    escalation_journal_begin(self->escalation);
    int rc = escalation_journal_tick(self->escalation, txn, clock_now_ms(), &seq);
    if (rc < 0)
        return rc;
    FAULT_POINT("broker.escalation_before_commit");
    if ((rc = escalation_journal_persist(self->escalation, txn)) != 0)
        return rc;
    journal_head_set(self->journal, seq);
    return 0;
}

/* Due stage advances and non-response alerts, journalled with the records they change in one
 * transaction: a crash before the commit fires them after the restart, one after it never
 * again. */
void broker_escalations_check(broker_t *self)
{
    if (!escalation_journal_due(self->escalation, clock_now_ms()))
        return;
    uint64_t before = journal_head(self->journal);
    self->write_head = before;
    int rc = store_write(journal_store(self->journal), s_escalation_write, self);
    if (rc != 0) {
        journal_head_set(self->journal, before);
        escalation_journal_abort(self->escalation);
        log_error("escalation timers failed: %s", tacnet_errname(rc));
        return;
    }
    escalation_journal_commit(self->escalation);
    FAULT_POINT("broker.escalation_after_commit");
    if (journal_head(self->journal) != before) {
        log_info("escalation timers: %llu notices",
                 (unsigned long long)(journal_head(self->journal) - before));
        broker_pump_all(self);
    }
}
