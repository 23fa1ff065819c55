/* bodies: the broker does not keep sealed bodies for ever (docs/ARCHITECTURE.md, "History on
 * joining").
 *
 * A body stays while a recipient still needs it (its acknowledged cursor, as persisted, is
 * behind the event, or a grantee's is behind the grant that delivers it) and for
 * history_window_s after it arrived, so a late member can still be granted it. Then the record
 * keeps its header, signature and the body's digest (journal_body_remove), so the integrity walk
 * still verifies it and a grant for it is refused with E_GONE, telling the sender to re-seal.
 * The scan runs once a second over a bounded slice from the first body not yet removed; where
 * it has got to is kept in meta, so a restart does not rescan the journal.
 */
#include "broker_internal.h"

#include "bytes.h"
#include "err.h"
#include "log.h"
#include "store.h"

#include <string.h>

#define BODIES_SLICE    2000
#define BODIES_FROM_KEY "bodies_from"

typedef struct prune {
    broker_t *self;
    uint64_t now;
    int dry;          /* only find out whether there is anything to do */
    uint64_t stored;  /* the progress mark as stored */
    uint64_t from;    /* bodies before it are all removed (or there were none) */
    uint64_t removed; /* in this run (a dry run: that could be) */
} prune_t;

typedef struct grantees {
    broker_t *self;
    MDB_txn *txn;
    int needed;
} grantees_t;

/* A grantee that has not acknowledged the grant still needs the body. */
static int s_grantee_needs(uint32_t grantee, uint64_t seq, void *arg)
{
    grantees_t *g = arg;
    uint64_t upto = 0;
    int rc = journal_cursor_get(g->self->journal, g->txn, grantee, &upto);
    if (rc == 0 && upto < seq)
        g->needed = 1;
    return rc;
}

/* Whether a recipient of the event E at SEQ, or a grantee of it, has yet to acknowledge it.
 * Returns 1, 0, or a negative code. */
static int s_needed(broker_t *self, MDB_txn *txn, const journal_entry_t *e, uint64_t seq)
{
    uint8_t key[8];
    store_u64_put(key, seq);
    MDB_val v;
    int rc = store_get(txn, journal_dbi(self->journal, "rcpt"), key, 8, &v);
    uint32_t mask = rc == 0 && v.mv_size == 4 ? bytes_be32_get(v.mv_data) : 0;
    if (rc != 0 && rc != TACNET_ENOTFOUND)
        return rc;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY; a++) {
        uint64_t upto = 0;
        if (!(mask & (1u << a)))
            continue;
        if ((rc = journal_cursor_get(self->journal, txn, a, &upto)) != 0)
            return rc;
        if (upto < seq)
            return 1;
    }
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(e->header, e->header_len, &err);
    if (!h)
        return TACNET_ECORRUPT;
    grantees_t g = { self, txn, 0 };
    rc = journal_grants_each(self->journal, txn, h->msg_id.data, s_grantee_needs, &g);
    wire_free(&h->base);
    return rc != 0 ? rc : g.needed;
}

/* The scan, in a write transaction, or (P->dry) in a read one to see whether it would change
 * anything: a write every second that changes nothing would still touch the file. */
static int s_prune_write(MDB_txn *txn, void *arg)
{
    prune_t *p = arg;
    broker_t *self = p->self;
    MDB_dbi meta = journal_dbi(self->journal, "meta");
    MDB_val v;
    int rc = store_get(txn, meta, BODIES_FROM_KEY, strlen(BODIES_FROM_KEY), &v);
    p->from = p->stored = rc == 0 && v.mv_size == 8 ? store_u64_get(v.mv_data) : 0;
    p->removed = 0;
    if (rc != 0 && rc != TACNET_ENOTFOUND)
        return rc;
    uint64_t head = journal_head(self->journal),
             window = (uint64_t)self->cfg.history_window_s * 1000;
    int blocked = 0;
    for (uint64_t seq = p->from + 1; seq <= head && seq <= p->from + BODIES_SLICE + 1; seq++) {
        journal_entry_t e;
        if ((rc = journal_get(self->journal, txn, seq, &e)) == TACNET_ENOTFOUND)
            rc = 0; /* not reached: seqs are dense */
        else if (rc != 0)
            return rc;
        else if (e.received_ms + window > p->now)
            break; /* the journal is in arrival order: the rest are younger still */
        else if (!e.grant && e.sealed) {
            int needed = s_needed(self, txn, &e, seq);
            if (needed < 0)
                return needed;
            if (needed) {
                blocked = 1;
                continue;
            }
            if (!p->dry && (rc = journal_body_remove(self->journal, txn, seq)) != 0)
                return rc;
            p->removed++;
        }
        if (!blocked)
            p->from = seq;
    }
    if (p->dry || p->from == p->stored)
        return 0;
    uint8_t b[8];
    store_u64_put(b, p->from);
    return store_put(txn, meta, BODIES_FROM_KEY, strlen(BODIES_FROM_KEY), b, 8, 0);
}

void broker_bodies_prune(broker_t *self)
{
    prune_t p = { .self = self, .now = clock_now_ms(), .dry = 1 };
    MDB_txn *txn;
    if (store_read_begin(journal_store(self->journal), &txn) != 0)
        return;
    int rc = s_prune_write(txn, &p);
    mdb_txn_abort(txn);
    if (rc != 0 || (p.removed == 0 && p.from == p.stored))
        return; /* nothing to do (or the next tick tries again) */
    p.dry = 0;
    rc = store_write(journal_store(self->journal), s_prune_write, &p);
    if (rc != 0)
        log_warn("removing old bodies from the journal failed: %s", tacnet_errname(rc));
    else if (p.removed)
        log_info("%llu sealed bodies past the history window removed (headers kept)",
                 (unsigned long long)p.removed);
}
