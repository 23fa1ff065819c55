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

uint64_t broker_expiry_ms(const Tacnet__SharingPolicy *sp)
{
    if (sp && sp->has_expiry_seconds && sp->expiry_seconds)
        return (uint64_t)sp->expiry_seconds * 1000;
    if (sp && sp->has_expiry_hours)
        return (uint64_t)sp->expiry_hours * CLOCK_HOUR_MS;
    return (uint64_t)BROKER_EXPIRY_HOURS_DEFAULT * CLOCK_HOUR_MS;
}

static uint64_t s_expiry_ms(const broker_t *self)
{
    return broker_expiry_ms(roster_msg(self->roster)->sharing);
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

/* ---------------------------------------------------------------- delivery reports */

/* Entries in one report notice, and entries one scan reports at most (the rest next second). */
#define REPORT_NOTICE_MAX 256
#define REPORT_SCAN_MAX   8192

/* The entries of one scan still to be journalled, for one sender and case. */
typedef struct report_group {
    uint32_t sender;
    Tacnet__Header cause; /* case_ref and initials point into REF and INITIALS at a flush */
    uint8_t ref[64], initials[8];
    Tacnet__DeliveryReport__Applied *items, **ptrs;
    uint8_t (*ids)[16];
    size_t n;
} report_group_t;

typedef struct report_scan {
    broker_t *self;
    uint64_t seq; /* the journal head as notices are appended */
    report_group_t *groups;
    size_t n_groups, entries;
    int wants[BROKER_MAX_AGENCY]; /* -1 not read yet */
} report_scan_t;

static int s_report_flush(report_scan_t *r, MDB_txn *txn, report_group_t *g)
{
    /* Point into the group only now: the groups array moves as it grows. */
    g->cause.case_ref.data = g->ref;
    g->cause.initials.data = g->initials;
    for (size_t i = 0; i < g->n; i++)
        g->ptrs[i] = &g->items[i];
    int rc = g->n ? notice_delivery_report(r->self->notice, txn, g->sender, &g->cause, g->ptrs,
                                           g->n, &r->seq)
                  : 0;
    g->n = 0;
    return rc;
}

static report_group_t *s_report_group(report_scan_t *r, const Tacnet__Header *h)
{
    for (size_t i = 0; i < r->n_groups; i++) {
        report_group_t *g = &r->groups[i];
        if (g->sender == (uint32_t)h->sender && g->cause.case_ref.len == h->case_ref.len &&
            memcmp(g->ref, h->case_ref.data, h->case_ref.len) == 0)
            return g;
    }
    r->groups = xrealloc(r->groups, (r->n_groups + 1) * sizeof(*r->groups));
    report_group_t *g = &r->groups[r->n_groups++];
    memset(g, 0, sizeof(*g));
    g->sender = (uint32_t)h->sender;
    size_t rl = h->case_ref.len < sizeof(g->ref) ? h->case_ref.len : sizeof(g->ref);
    size_t il = h->initials.len < sizeof(g->initials) ? h->initials.len : sizeof(g->initials);
    memcpy(g->ref, h->case_ref.data, rl);
    memcpy(g->initials, h->initials.data, il);
    tacnet__header__init(&g->cause);
    g->cause.case_ref.len = rl;
    g->cause.initials.len = il;
    g->items = xcalloc(REPORT_NOTICE_MAX, sizeof(*g->items));
    g->ptrs = xcalloc(REPORT_NOTICE_MAX, sizeof(*g->ptrs));
    g->ids = xcalloc(REPORT_NOTICE_MAX, sizeof(*g->ids));
    return g;
}

/* One entry: RECIPIENT applied event SEQ (header H) of H's sender. */
static int s_report_add(report_scan_t *r, MDB_txn *txn, const Tacnet__Header *h, uint32_t recipient,
                        uint64_t seq)
{
    report_group_t *g = s_report_group(r, h);
    Tacnet__DeliveryReport__Applied *a = &g->items[g->n];
    tacnet__delivery_report__applied__init(a);
    memcpy(g->ids[g->n], h->msg_id.data, 16);
    a->msg_id.data = g->ids[g->n];
    a->msg_id.len = 16;
    a->has_msg_id = a->has_recipient = a->has_seq = 1;
    a->recipient = (Tacnet__Agency)recipient;
    a->seq = seq;
    r->entries++;
    return ++g->n == REPORT_NOTICE_MAX ? s_report_flush(r, txn, g) : 0;
}

static int s_wants(report_scan_t *r, MDB_txn *txn, uint32_t sender)
{
    if (sender >= BROKER_MAX_AGENCY)
        return 0;
    if (r->wants[sender] < 0 &&
        journal_wants_reports_get(r->self->journal, txn, sender, &r->wants[sender]) != 0)
        r->wants[sender] = 0;
    return r->wants[sender];
}

void broker_recent_note(broker_t *self, uint64_t seq, const Tacnet__Header *h)
{
    broker_recent_t *r = &self->recent[seq % BROKER_RECENT];
    if (h->msg_id.len != 16 || h->case_ref.len > sizeof(r->ref) ||
        h->initials.len > sizeof(r->initials)) {
        r->seq = 0; /* read from the journal */
        return;
    }
    r->seq = seq;
    r->sender = (uint32_t)h->sender;
    memcpy(r->msg_id, h->msg_id.data, 16);
    r->ref_len = (uint8_t)h->case_ref.len;
    memcpy(r->ref, h->case_ref.data, h->case_ref.len);
    r->initials_len = (uint8_t)h->initials.len;
    memcpy(r->initials, h->initials.data, h->initials.len);
}

/* Event AT's header, as much of it as a report needs: from the recent slots into *STACK, or read
 * from the journal and decoded (*OWNED set: the caller frees it). NULL if it cannot be read. */
static const Tacnet__Header *s_report_header(broker_t *self, MDB_txn *txn, uint64_t at,
                                             Tacnet__Header *stack, Tacnet__Header **owned, int *rc)
{
    *owned = NULL;
    const broker_recent_t *r = &self->recent[at % BROKER_RECENT];
    if (at != 0 && r->seq == at) { /* seqs start at 1: 0 marks an empty slot */
        tacnet__header__init(stack);
        stack->sender = (Tacnet__Agency)r->sender;
        stack->msg_id.data = (uint8_t *)r->msg_id;
        stack->msg_id.len = 16;
        stack->case_ref.data = (uint8_t *)r->ref;
        stack->case_ref.len = r->ref_len;
        stack->initials.data = (uint8_t *)r->initials;
        stack->initials.len = r->initials_len;
        return stack;
    }
    journal_entry_t e;
    if ((*rc = journal_get(self->journal, txn, at, &e)) != 0)
        return NULL;
    int err = 0;
    return *owned = wire_header_unpack(e.header, e.header_len, &err);
}

/* Agency A's events acknowledged since its last scan, each an entry for its sender. */
static int s_report_agency(report_scan_t *r, MDB_txn *txn, uint32_t a)
{
    broker_t *self = r->self;
    uint64_t acked = self->sessions[a].acked, from = 0, at, scanned = 0;
    int found = 0, rc = 0, nrc;
    if (!self->sessions[a].connected &&
        (rc = journal_cursor_get(self->journal, txn, a, &acked)) != 0)
        return rc;
    if ((rc = journal_reported_upto_get(self->journal, txn, a, &from, &found)) != 0)
        return rc;
    if (!found) /* the first scan: report from now on, not the whole history */
        return journal_reported_upto_put(self->journal, txn, a, acked);
    if (from >= acked)
        return 0;
    MDB_cursor *cur = NULL;
    uint64_t done = from;
    for (at = from; r->entries < REPORT_SCAN_MAX &&
                    (nrc = journal_next_for(self->journal, txn, &cur, a, at, &at, &scanned)) == 0 &&
                    at <= acked;) {
        Tacnet__Header stack, *owned;
        const Tacnet__Header *h = s_report_header(self, txn, at, &stack, &owned, &rc);
        if (rc != 0)
            break;
        if (h && h->sender != TACNET__AGENCY__BROKER && (uint32_t)h->sender != a &&
            h->msg_id.len == 16 && s_wants(r, txn, (uint32_t)h->sender))
            rc = s_report_add(r, txn, h, a, at);
        if (owned)
            wire_free(&owned->base);
        if (rc != 0)
            break;
        done = at;
    }
    if (cur)
        mdb_cursor_close(cur);
    if (rc == 0 && r->entries < REPORT_SCAN_MAX)
        done = acked; /* nothing more for this agency up to what it acknowledged */
    return rc == 0 ? journal_reported_upto_put(self->journal, txn, a, done) : rc;
}

static int s_report_write(MDB_txn *txn, void *arg)
{
    report_scan_t *r = arg;
    broker_t *self = r->self;
    uint64_t now = clock_now_ms();
    r->seq = self->write_head;
    r->entries = 0;
    for (size_t i = 0; i < r->n_groups; i++)
        r->groups[i].n = 0; /* a retried transaction starts again */
    for (uint32_t a = 0; a < BROKER_MAX_AGENCY; a++)
        r->wants[a] = -1;
    int rc = 0;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY && rc == 0; a++) {
        if (self->hello_reports[a])
            rc = journal_wants_reports_put(self->journal, txn, a, self->hello_reports[a] == 1);
    }
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY && rc == 0; a++) {
        if (a == TACNET__AGENCY__BROKER || !roster_key_current(self->roster, a, now))
            continue;
        rc = s_report_agency(r, txn, a);
    }
    for (size_t i = 0; i < r->n_groups && rc == 0; i++)
        rc = s_report_flush(r, txn, &r->groups[i]);
    if (rc == 0)
        journal_head_set(self->journal, r->seq);
    return rc;
}

void broker_delivery_reports(broker_t *self)
{
    report_scan_t r = { .self = self };
    uint64_t before = journal_head(self->journal);
    self->write_head = before;
    int rc = store_write(journal_store(self->journal), s_report_write, &r);
    for (size_t i = 0; i < r.n_groups; i++) {
        free(r.groups[i].items);
        free(r.groups[i].ptrs);
        free(r.groups[i].ids);
    }
    free(r.groups);
    if (rc != 0) {
        journal_head_set(self->journal, before);
        log_error("delivery reports failed: %s", tacnet_errname(rc));
        return;
    }
    memset(self->hello_reports, 0, sizeof(self->hello_reports));
    if (journal_head(self->journal) != before)
        broker_pump_all(self);
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
