/* delivery: the broker's sessions with agencies and the one delivery path (docs/ARCHITECTURE.md,
 * "The delivery path").
 *
 * HELLO (re)starts a session at the agency's last applied seq with its credit window; WELCOME
 * answers with the epoch and head. Delivery is one path for live and catch-up: a scan of the
 * per-recipient index from the session's cursor, one DELIVER per event naming the previous seq
 * for that agency, until the window is full; a cumulative ACK opens the window again. The
 * acknowledged cursors are persisted once a second. A session whose key is revoked is closed
 * and its connection cut; one silent for three heartbeats is down.
 */
#include "broker_internal.h"

#include "err.h"
#include "fault.h"
#include "log.h"
#include "names.h"
#include "store.h"

#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- connections */

/* Cut the TCP connection FD if its peer is still PEER: libzmq's I/O thread sees the error,
 * closes the connection and ends the pipe; a reconnect then meets ZAP again. shutdown(2)
 * leaves the descriptor itself to libzmq. Returns whether it cut. */
static int s_conn_cut(int fd, const struct sockaddr_storage *peer, socklen_t peer_len)
{
    struct sockaddr_storage now;
    socklen_t len = sizeof(now);
    if (fd < 0 || peer_len == 0 || getpeername(fd, (struct sockaddr *)&now, &len) != 0 ||
        len != peer_len || memcmp(&now, peer, len) != 0)
        return 0;
    return shutdown(fd, SHUT_RDWR) == 0;
}

void broker_cut_later(broker_t *self, const wire_msg_t *m)
{
    if (self->n_cuts == BROKER_MAX_CUTS || m->src_fd < 0)
        return;
    broker_cut_t *c = &self->cuts[self->n_cuts];
    c->peer_len = sizeof(c->peer);
    c->fd = m->src_fd;
    if (getpeername(m->src_fd, (struct sockaddr *)&c->peer, &c->peer_len) == 0)
        self->n_cuts++;
}

void broker_cuts_run(broker_t *self)
{
    for (size_t i = 0; i < self->n_cuts; i++)
        if (s_conn_cut(self->cuts[i].fd, &self->cuts[i].peer, self->cuts[i].peer_len))
            log_warn("connection with a revoked or expired key cut");
    self->n_cuts = 0;
}

/* Every tick: a session whose key the roster revoked or whose window ended is closed and its
 * connection cut, without waiting for its next message (its reconnect then fails at ZAP); a
 * session that sent nothing for the heartbeat timeout (daemons ping every heartbeat) is down,
 * so status shows it and expiry counts from its persisted cursor. */
void broker_sessions_check(broker_t *self)
{
    uint64_t mono = clock_mono_ms(), now = clock_now_ms();
    uint64_t timeout = (uint64_t)self->cfg.heartbeat_ms * 3;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY; a++) {
        broker_session_t *s = &self->sessions[a];
        if (!s->connected)
            continue;
        if (!roster_key_find(self->roster, a, s->key_id, now, NULL)) {
            int cut = s_conn_cut(s->fd, &s->peer, s->peer_len);
            s->connected = 0;
            log_warn("%s key %u revoked or expired: session closed%s", names_agency(a), s->key_id,
                     cut ? ", connection cut" : "");
        } else if (mono - s->last_seen_ms > timeout) {
            s->connected = 0;
            log_info("%s down: silent for %llu ms", names_agency(a),
                     (unsigned long long)(mono - s->last_seen_ms));
        }
    }
}

/* ---------------------------------------------------------------- delivery */

static void s_session_reset(broker_session_t *s, uint64_t from, uint32_t credit)
{
    s->cursor = from;
    s->scanned = from;
    s->acked = from;
    s->credit = credit;
    s->n_inflight = 0;
    s->head = 0;
}

/* After a send to AGENCY that returned RC: 0 to go on, 1 to stop pumping (its pipe is full, and
 * the window resumes on its next ACK; or it is gone, and is marked so until its next HELLO). */
static int s_send_stops(broker_t *self, uint32_t agency, int rc)
{
    if (rc == TACNET_EHOSTUNREACH) {
        log_info("%s disconnected", names_agency(agency));
        self->sessions[agency].connected = 0;
    }
    return rc != 0;
}

/* SEQS[0..N) were sent to S, in order: in flight now. */
static void s_sent(broker_t *self, broker_session_t *s, const uint64_t *seqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        FAULT_POINT("broker.after_deliver");
        s->inflight[(s->head + s->n_inflight) % BROKER_MAX_CREDIT] = seqs[i];
        s->n_inflight++;
        s->cursor = seqs[i];
        self->delivered++;
    }
}

/* The DELIVER of journal entry E (seq NEXT, after PREV for this agency): into BATCH, or sent
 * alone to S when BATCH is NULL. Returns as wire_batch_add or wire_send. */
static int s_deliver(broker_t *self, const broker_session_t *s, wire_batch_t *batch,
                     const journal_entry_t *e, uint64_t next, uint64_t prev)
{
    Tacnet__Deliver d = TACNET__DELIVER__INIT;
    d.seq = next;
    d.prev_seq = prev;
    /* A grant: the original event's frames, with the key granted to this agency beside. */
    Tacnet__Grant *g = e->grant ? tacnet__grant__unpack(NULL, e->grant_len, e->grant) : NULL;
    if (g) {
        d.grant = g;
        d.has_case_seq = 1;
        d.case_seq = e->case_seq;
    }
    int rc = batch
                 ? wire_batch_add(batch, WIRE_DELIVER, &d.base, e->header, e->header_len, e->sealed,
                                  e->sealed_len, e->sig, e->sig_len)
                 : wire_send_sig(self->router, s->rid, s->rid_len, WIRE_DELIVER, &d.base, e->header,
                                 e->header_len, e->sealed, e->sealed_len, e->sig, e->sig_len);
    if (g)
        tacnet__grant__free_unpacked(g, NULL);
    return rc;
}

/* s_pump for an agency that reads DELIVERS: up to WIRE_BATCH_MAX DELIVERs (or WIRE_BATCH_BYTES)
 * per message, each exactly the DELIVER s_pump would send alone. A message that cannot be sent
 * (its pipe is full) leaves the cursor and the scan mark where they were, and the next pump takes
 * the same events: the scan mark moves while the message is filled (past every event in it, at
 * the end of the journal), so it is put back, or those events would be skipped for good. */
static void s_pump_batches(broker_t *self, uint32_t agency, MDB_txn *txn)
{
    broker_session_t *s = &self->sessions[agency];
    wire_batch_t *batch = &self->deliver_batch;
    MDB_cursor *cur = NULL;
    uint64_t seqs[WIRE_BATCH_MAX];
    int more = 1;
    while (more && s->connected && s->n_inflight < s->credit) {
        size_t n = 0;
        uint64_t prev = s->cursor, scanned = s->scanned;
        batch->n = batch->len = 0;
        while (n < WIRE_BATCH_MAX && s->n_inflight + n < s->credit &&
               (n == 0 || batch->len < WIRE_BATCH_BYTES)) {
            uint64_t next, from = s->scanned > prev ? s->scanned : prev;
            journal_entry_t e;
            if (journal_next_for(self->journal, txn, &cur, agency, from, &next, &s->scanned) != 0) {
                more = 0;
                break;
            }
            if (journal_get(self->journal, txn, next, &e) != 0) {
                log_error("journal entry %llu unreadable; delivery to %s paused",
                          (unsigned long long)next, names_agency(agency));
                more = 0;
                break;
            }
            int rc = s_deliver(self, s, batch, &e, next, prev);
            if (rc == TACNET_ETOOBIG && n > 0)
                break; /* the next message starts with it */
            if (rc != 0) {
                log_error("journal entry %llu cannot be sent (%s); delivery to %s paused",
                          (unsigned long long)next, tacnet_errname(rc), names_agency(agency));
                more = 0;
                break;
            }
            seqs[n++] = next;
            prev = next;
        }
        if (n == 0)
            break;
        /* The test hook stands for a full pipe (the batch is emptied at the next fill). */
        int rc = FAULT_SKIP("broker.deliver_batch_eagain")
                     ? TACNET_EAGAIN
                     : wire_batch_send(self->router, s->rid, s->rid_len, batch);
        if (rc != 0)
            s->scanned = scanned;
        if (s_send_stops(self, agency, rc))
            break;
        s_sent(self, s, seqs, n);
    }
    if (cur)
        mdb_cursor_close(cur);
}

/* Send DELIVERs to one agency until its window is full or it is caught up. */
static void s_pump(broker_t *self, uint32_t agency, MDB_txn *txn)
{
    broker_session_t *s = &self->sessions[agency];
    if (s->batches) {
        s_pump_batches(self, agency, txn);
        return;
    }
    MDB_cursor *cur = NULL;
    while (s->connected && s->n_inflight < s->credit) {
        uint64_t next, from = s->scanned > s->cursor ? s->scanned : s->cursor;
        if (journal_next_for(self->journal, txn, &cur, agency, from, &next, &s->scanned) != 0)
            break;
        journal_entry_t e;
        if (journal_get(self->journal, txn, next, &e) != 0) {
            log_error("journal entry %llu unreadable; delivery to %s paused",
                      (unsigned long long)next, names_agency(agency));
            break;
        }
        int rc = s_deliver(self, s, NULL, &e, next, s->cursor);
        if (s_send_stops(self, agency, rc))
            break;
        s_sent(self, s, &next, 1);
    }
    if (cur)
        mdb_cursor_close(cur);
}

/* s_pump for one agency in a read transaction of its own. */
static void s_pump_one(broker_t *self, uint32_t agency)
{
    MDB_txn *txn;
    if (store_read_begin(journal_store(self->journal), &txn) == 0) {
        s_pump(self, agency, txn);
        mdb_txn_abort(txn);
    }
}

void broker_pump_all(broker_t *self)
{
    MDB_txn *txn;
    if (store_read_begin(journal_store(self->journal), &txn) != 0)
        return;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY; a++)
        if (self->sessions[a].connected)
            s_pump(self, a, txn);
    mdb_txn_abort(txn);
}

void broker_on_hello(broker_t *self, wire_msg_t *m, uint32_t agency, uint32_t key_id)
{
    int err = 0;
    Tacnet__Hello *hello = (Tacnet__Hello *)wire_ctl_unpack(WIRE_HELLO, m->ctl, m->ctl_len, &err);
    if (!hello) {
        broker_nack(self, m, NULL, err, "bad HELLO");
        return;
    }
    broker_session_t *s = &self->sessions[agency];
    memcpy(s->rid, m->rid, m->rid_len);
    s->rid_len = m->rid_len;
    s->key_id = key_id;
    s->connected = 1;
    s->last_seen_ms = clock_mono_ms();
    s->fd = m->src_fd;
    s->peer_len = sizeof(s->peer);
    if (s->fd < 0 || getpeername(s->fd, (struct sockaddr *)&s->peer, &s->peer_len) != 0)
        s->peer_len = 0;
    uint32_t credit = hello->credit ? hello->credit : 64;
    if (credit > self->cfg.credit_max)
        credit = self->cfg.credit_max;
    s_session_reset(s, hello->last_applied_seq, credit);
    s->batches = hello->has_deliver_batches && hello->deliver_batches;
    self->hello_reports[agency] = hello->has_delivery_reports && hello->delivery_reports ? 1 : 2;
    log_info("%s HELLO last_applied=%llu credit=%u", names_agency(agency),
             (unsigned long long)hello->last_applied_seq, credit);
    wire_free(&hello->base);

    Tacnet__Welcome w = TACNET__WELCOME__INIT;
    w.epoch = journal_epoch(self->journal);
    w.head_seq = journal_head(self->journal);
    MDB_txn *txn;
    if (store_read_begin(journal_store(self->journal), &txn) == 0) {
        uint64_t last = 0;
        if (journal_sender_last(self->journal, txn, agency, &last) == 0 && last) {
            w.has_last_sender_seq = 1;
            w.last_sender_seq = last;
        }
        mdb_txn_abort(txn);
    }
    wire_send(self->router, m->rid, m->rid_len, WIRE_WELCOME, &w.base, NULL, 0, NULL, 0, NULL);
    s_pump_one(self, agency);
}

void broker_on_ack(broker_t *self, wire_msg_t *m, uint32_t agency)
{
    int err = 0;
    broker_session_t *s = &self->sessions[agency];
    Tacnet__Ack *ack = (Tacnet__Ack *)wire_ctl_unpack(WIRE_ACK, m->ctl, m->ctl_len, &err);
    if (!ack) {
        broker_nack(self, m, NULL, err, "bad ACK");
        return;
    }
    if (ack->upto_seq > s->acked && ack->upto_seq <= s->cursor)
        s->acked = ack->upto_seq;
    while (s->n_inflight > 0 && s->inflight[s->head] <= s->acked) {
        s->head = (s->head + 1) % BROKER_MAX_CREDIT;
        s->n_inflight--;
    }
    if (ack->has_credit && ack->credit > 0)
        s->credit = ack->credit < self->cfg.credit_max ? ack->credit : self->cfg.credit_max;
    wire_free(&ack->base);
    s_pump_one(self, agency);
}

/* ---------------------------------------------------------------- cursors */

static int s_write_cursors(MDB_txn *txn, void *arg)
{
    broker_t *self = arg;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY; a++) {
        broker_session_t *s = &self->sessions[a];
        if (s->acked != s->persisted) {
            int rc = journal_cursor_put(self->journal, txn, a, s->acked);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

void broker_cursors_flush(broker_t *self)
{
    int dirty = 0;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY; a++)
        dirty |= self->sessions[a].acked != self->sessions[a].persisted;
    if (!dirty)
        return;
    if (store_write(journal_store(self->journal), s_write_cursors, self) == 0)
        for (uint32_t a = 1; a < BROKER_MAX_AGENCY; a++)
            self->sessions[a].persisted = self->sessions[a].acked;
}
