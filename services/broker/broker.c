/* broker: the poll loop, publish pipeline, group commit and delivery. */
#include "broker.h"
#include "escalation_journal.h"
#include "journal.h"
#include "notice.h"
#include "quota.h"
#include "route.h"
#include "zap.h"

#include "err.h"
#include "clock.h"
#include "fault.h"
#include "log.h"
#include "names.h"
#include "policy.h"
#include "roster.h"
#include "seal.h"
#include "store.h"
#include "verifier.h"
#include "wire.h"

#include <errno.h>
#include <jansson.h>
#include <lmdb.h>
#include <protobuf-c/protobuf-c.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93 /* handled by libzmq 4.3.4, hidden behind the draft API */
#endif

#define BROKER_MAX_AGENCY   ROUTE_MAX_AGENCY
#define BROKER_MAX_CREDIT   4096
#define BROKER_MAX_REJECTS  64
#define BROKER_CURSOR_FLUSH 1000 /* ms between persisting delivery cursors */
/* Status counts an agency's backlog by walking its delivery index inside the loop, so the walk
 * is capped: uncapped, a status request against an agency a million events behind held the
 * loop (and all delivery) for a tenth of a second (make bench, scale and catch-up). */
#define BROKER_STATUS_BACKLOG_MAX 10000

volatile sig_atomic_t broker_stop_flag = 0;
volatile sig_atomic_t broker_reload_flag = 0;

/* One connected agency. Identity is the ZAP User-Id; the routing id is only where to send. */
typedef struct session {
    int connected;
    uint8_t rid[WIRE_MAX_RID];
    size_t rid_len;
    uint32_t key_id;    /* CURVE key the connection authenticated with */
    uint64_t cursor;    /* last seq sent (or the HELLO's last applied) */
    uint64_t acked;     /* cumulative ACK */
    uint64_t scanned;   /* nothing for this agency after cursor up to here (rcpt is append-only) */
    uint64_t persisted; /* acked value last written to LMDB */
    uint32_t credit;
    uint64_t *inflight; /* ring of sent, unacknowledged seqs */
    size_t n_inflight, head;
    uint64_t last_seen_ms;
    /* The TCP connection under the session, to cut it when its key is revoked (libzmq has no
     * call to drop one ROUTER peer): the fd and its peer address, checked before cutting so a
     * reused descriptor is never touched. */
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
} session_t;

#define BROKER_MAX_CUTS 16

/* A connection to cut at the next tick. */
typedef struct broker_cut {
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
} broker_cut_t;

/* A PUBLISH that passed the stateless checks, waiting for the batch commit. */
typedef struct pending {
    wire_msg_t msg;
    Tacnet__Header *h;
    uint32_t agency;
    uint8_t sign_pk[SEAL_KEY_BYTES]; /* the sender's key named by the header */
    int refused; /* result of the signature and wrapped-key checks, before the commit */
    const char *refused_detail;
    int code;           /* result of the stateful checks */
    const char *detail; /* static reason for a refusal, or NULL */
    uint64_t seq;       /* assigned or original */
    int duplicate;      /* retry of an accepted msg_id */
} pending_t;

struct broker {
    broker_config_t cfg;
    char endpoint[256];
    char data_dir[4096];
    void *ctx, *router, *zap, *admin;
    journal_t *journal;
    roster_t *roster;
    struct stat roster_st; /* the roster file as last loaded (or last refused) */
    uint8_t root_pk[SEAL_KEY_BYTES];
    seal_keys_t *keys;
    seal_ctx_t *seal;
    verifier_t *verifier; /* a batch's signature checks on helper threads */
    holidays_t *holidays;
    notice_t *notice;
    escalation_journal_t *escalation;
    quota_t *quota;
    session_t sessions[BROKER_MAX_AGENCY];
    /* After a failed commit (a full map or disk), the lowest sender_seq refused per agency: its
     * later events are refused too until that one is accepted, so a smaller batch that still
     * fits can never accept an event past a refused one (whose resend would then be a replay). */
    uint64_t storage_refused_from[BROKER_MAX_AGENCY];
    int storage_refused_code[BROKER_MAX_AGENCY]; /* the failed commit's code, repeated */
    pending_t *batch;
    size_t n_batch;
    uint64_t next_flush_ms;
    /* The journal head when the current store_write began: its function starts from here on
     * every run (it runs again after the map grows, and the head it set is then void). */
    uint64_t write_head;
    /* Per agency, the seq up to which every overdue event addressed to it has been reported
     * (or nothing was addressed to it): the once-a-second non-delivery scan starts there rather
     * than at its acknowledged cursor, which for a long-offline agency is far behind. Kept in
     * memory (from 0 after a restart: `reported` makes the rescan harmless); expiry_next holds
     * the scan's result until its transaction has committed. */
    uint64_t expiry_done[BROKER_MAX_AGENCY], expiry_next[BROKER_MAX_AGENCY];
    /* counters for `tacnet broker status` */
    uint64_t accepted, duplicates, delivered, commits, batched_events;
    broker_cut_t cuts[BROKER_MAX_CUTS];
    size_t n_cuts;
    struct {
        int code;
        uint64_t n;
    } rejects[BROKER_MAX_REJECTS];
};

/* ---------------------------------------------------------------- helpers */

static void s_count_reject(broker_t *self, int code)
{
    for (int i = 0; i < BROKER_MAX_REJECTS; i++) {
        if (self->rejects[i].code == code || self->rejects[i].code == 0) {
            self->rejects[i].code = code;
            self->rejects[i].n++;
            return;
        }
    }
}

static void s_nack(broker_t *self, const wire_msg_t *m, const uint8_t *msg_id, int code,
                   const char *detail)
{
    char hex[33] = "-";
    if (msg_id)
        wire_msgid_hex(msg_id, 16, hex);
    log_info("reject %s from %s: %s", hex, m->user_id[0] ? m->user_id : "?", tacnet_errname(code));
    s_count_reject(self, code);
    if (detail)
        log_info("reject %s: %s", hex, detail);
    wire_send_nack(self->router, m->rid, m->rid_len, WIRE_NACK, msg_id, msg_id ? 16 : 0, code,
                   detail);
}

static int s_user(const wire_msg_t *m, uint32_t *agency, uint32_t *key_id)
{
    return zap_user_parse(m->user_id, agency, key_id);
}

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

/* Cut the connection a message M came in on (its key was just found revoked) at the next
 * tick, so the refusal just queued for it has left first. */
static void s_conn_cut_later(broker_t *self, const wire_msg_t *m)
{
    if (self->n_cuts == BROKER_MAX_CUTS || m->src_fd < 0)
        return;
    broker_cut_t *c = &self->cuts[self->n_cuts];
    c->peer_len = sizeof(c->peer);
    c->fd = m->src_fd;
    if (getpeername(m->src_fd, (struct sockaddr *)&c->peer, &c->peer_len) == 0)
        self->n_cuts++;
}

static void s_conn_cut_pending(broker_t *self)
{
    for (size_t i = 0; i < self->n_cuts; i++)
        if (s_conn_cut(self->cuts[i].fd, &self->cuts[i].peer, self->cuts[i].peer_len))
            log_warn("connection with a revoked or expired key cut");
    self->n_cuts = 0;
}

/* ---------------------------------------------------------------- delivery */

static void s_session_reset(session_t *s, uint64_t from, uint32_t credit)
{
    s->cursor = from;
    s->scanned = from;
    s->acked = from;
    s->credit = credit;
    s->n_inflight = 0;
    s->head = 0;
}

/* Send DELIVERs to one agency until its window is full or it is caught up. */
static void s_pump(broker_t *self, uint32_t agency, MDB_txn *txn)
{
    session_t *s = &self->sessions[agency];
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
        Tacnet__Deliver d = TACNET__DELIVER__INIT;
        d.seq = next;
        d.prev_seq = s->cursor;
        int rc = wire_send(self->router, s->rid, s->rid_len, WIRE_DELIVER, &d.base, e.header,
                           e.header_len, e.sealed, e.sealed_len, e.sig);
        if (rc == TACNET_EHOSTUNREACH) {
            log_info("%s disconnected", names_agency(agency));
            s->connected = 0;
            break;
        }
        if (rc != 0)
            break; /* TACNET_EAGAIN: its pipe is full; the window resumes on the next ACK */
        FAULT_POINT("broker.after_deliver");
        s->inflight[(s->head + s->n_inflight) % BROKER_MAX_CREDIT] = next;
        s->n_inflight++;
        s->cursor = next;
        self->delivered++;
    }
    if (cur)
        mdb_cursor_close(cur);
}

static void s_pump_all(broker_t *self)
{
    MDB_txn *txn;
    if (store_read_begin(journal_store(self->journal), &txn) != 0)
        return;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY; a++)
        if (self->sessions[a].connected)
            s_pump(self, a, txn);
    mdb_txn_abort(txn);
}

/* ---------------------------------------------------------------- publish pipeline */

/* The checks that need no state, cheapest first, up to the signature (checked for the whole
 * batch at once, s_check_batch). Returns 0, the unpacked header in *HP and the key its
 * signature must verify under in SIGN_PK. */
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
    /* A sender's clock far off ours makes deadlines and expiry meaningless (and a far-past
     * created_at could pass for history): bound it both ways. The past bound is loose because
     * an agency's outbox legitimately holds events through a long outage. */
    if (h->created_at_ms > now + (uint64_t)self->cfg.max_clock_skew_s * 1000) {
        *detail = "created_at_ms is ahead of the broker's clock by more than max_clock_skew_s";
        return TACNET_ECLOCK;
    }
    if (h->created_at_ms + (uint64_t)self->cfg.max_event_age_days * CLOCK_DAY_MS < now) {
        *detail = "created_at_ms is older than max_event_age_days";
        return TACNET_ECLOCK;
    }
    if ((err = policy_case_ref_check(h->case_ref.data, h->case_ref.len)) != 0)
        return err;
    if ((err = policy_initials_check(h->initials.data, h->initials.len)) != 0)
        return err;
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

/* Inside the batch's write transaction: replay, membership and sharing, then append. Runs
 * again from the same inputs if LMDB asks for a bigger map, so it only reads from the batch. */
static int s_commit_batch(MDB_txn *txn, void *arg)
{
    broker_t *self = arg;
    uint64_t seq = self->write_head;
    uint64_t now = clock_now_ms();
    escalation_journal_begin(self->escalation);
    for (size_t i = 0; i < self->n_batch; i++) {
        pending_t *p = &self->batch[i];
        Tacnet__Header *h = p->h;
        p->code = p->refused;
        p->detail = p->refused_detail;
        p->duplicate = 0;
        if (p->code)
            continue; /* a forged or mis-wrapped publish is not even looked up */
        uint64_t orig;
        int rc = journal_msgid_find(self->journal, txn, h->msg_id.data, &orig);
        if (rc == 0) {
            p->duplicate = 1;
            p->seq = orig;
            continue;
        }
        if (rc != TACNET_ENOTFOUND)
            return rc;
        uint64_t last;
        if ((rc = journal_sender_last(self->journal, txn, p->agency, &last)) != 0)
            return rc;
        char hex[33];
        wire_msgid_hex(h->msg_id.data, 16, hex);
        if (h->sender_seq <= last) {
            p->code = TACNET_EREPLAY;
            continue;
        }
        /* A refused event that is in the journal after all (a resend of an accepted one was
         * in the refused batch) no longer holds the sender back. */
        uint64_t *refused = &self->storage_refused_from[p->agency];
        if (*refused && *refused <= last)
            *refused = 0;
        if (*refused && h->sender_seq > *refused) {
            p->code = self->storage_refused_code[p->agency];
            continue;
        }
        route_case_t c;
        int found;
        rc = journal_case_get(self->journal, txn, h->case_ref.data, h->case_ref.len, &c, &found);
        if (rc != 0)
            return rc;
        route_verdict_t v;
        /* A refusal stores nothing, not even an audit record: the journal stays byte-identical
         * (refusals are counted in `tacnet broker status` and logged by code). */
        if ((p->code = route_check(found ? &c : NULL, h, self->roster, &v)) != 0)
            continue;
        /* Escalation header facts refuse like the sharing policy does: storing nothing. */
        rc = escalation_journal_check(self->escalation, txn, h, &c, now, &p->detail);
        if (rc == TACNET_EFIELD || rc == TACNET_ENOTMEMBER || rc == TACNET_EKIND) {
            p->code = rc;
            continue;
        }
        if (rc != 0)
            return rc;
        route_case_t before = c;
        route_apply(&c, h);
        if ((rc = journal_case_put(self->journal, txn, h->case_ref.data, h->case_ref.len, &c)))
            return rc;
        p->seq = ++seq;
        rc = journal_append(self->journal, txn, p->seq, h, p->msg.header, p->msg.header_len,
                            p->msg.sealed, p->msg.sealed_len, p->msg.sig, v.required, now);
        if (rc != 0)
            return rc;
        /* The actor names the signing key ("school/key2"), so a rotation is visible per event. */
        char actor[48];
        snprintf(actor, sizeof(actor), "%s/key%u", names_agency(p->agency), h->sender_key_id);
        if ((rc = journal_audit(self->journal, txn, actor, "publish", hex, "accepted", 0)) != 0)
            return rc;
        FAULT_POINT("broker.after_put");
        /* Broker notices caused by this event commit with it, so none is lost or doubled. */
        if ((rc = notice_on_event(self->notice, txn, h, &c, v.override_used, &seq)) != 0)
            return rc;
        if ((rc = escalation_journal_apply(self->escalation, txn, h, &before, &c, now, &seq)) != 0)
            return rc;
    }
    int rc = escalation_journal_persist(self->escalation, txn);
    if (rc != 0)
        return rc;
    journal_head_set(self->journal, seq);
    return 0;
}

/* The signatures of the whole batch, checked on the verifier's threads (the largest cost of a
 * publish: ingest would otherwise use one core), then the wrapped-key check for those that
 * verified. Refusals are answered with the batch, in order. Returns how many passed. */
static size_t s_check_batch(broker_t *self)
{
    size_t n_ok = 0;
    verifier_job_t *jobs = xcalloc(self->n_batch, sizeof(*jobs));
    for (size_t i = 0; i < self->n_batch; i++) {
        pending_t *p = &self->batch[i];
        jobs[i] = (verifier_job_t){ p->sign_pk,
                                    p->msg.header,
                                    p->msg.header_len,
                                    p->msg.sealed,
                                    p->msg.sealed_len,
                                    p->msg.sig,
                                    0 };
    }
    verifier_run(self->verifier, jobs, self->n_batch);
    for (size_t i = 0; i < self->n_batch; i++) {
        pending_t *p = &self->batch[i];
        p->refused_detail = NULL;
        p->refused = jobs[i].result != 0 ? TACNET_ESIGNATURE
                                         : s_check_wrapped(&p->msg, p->h, &p->refused_detail);
        n_ok += p->refused == 0;
    }
    free(jobs);
    return n_ok;
}

static void s_flush_batch(broker_t *self)
{
    if (self->n_batch == 0)
        return;
    size_t n_ok = s_check_batch(self);
    uint64_t head_before = journal_head(self->journal);
    self->write_head = head_before;
    int rc = 0;
    if (n_ok == 0) {
        for (size_t i = 0; i < self->n_batch; i++)
            self->batch[i].code = self->batch[i].refused; /* nothing to store */
    } else if ((rc = store_write(journal_store(self->journal), s_commit_batch, self)) != 0) {
        journal_head_set(self->journal, head_before);
        escalation_journal_abort(self->escalation);
        /* Nothing was stored: every publish in the batch gets an explicit refusal (a full
         * disk or map is never acknowledged). */
        log_error("journal commit failed: %s; %zu publishes refused", tacnet_errname(rc),
                  self->n_batch);
    } else {
        escalation_journal_commit(self->escalation);
        self->commits++;
        self->batched_events += n_ok;
        FAULT_POINT("broker.after_commit");
    }
    for (size_t i = 0; i < self->n_batch; i++) {
        pending_t *p = &self->batch[i];
        uint64_t *refused = &self->storage_refused_from[p->agency];
        if (rc != 0 && !p->refused) {
            if (!*refused || p->h->sender_seq < *refused)
                *refused = p->h->sender_seq;
            self->storage_refused_code[p->agency] = rc;
        } else if (rc == 0 && p->code == 0 && !p->refused && *refused &&
                   p->h->sender_seq >= *refused) {
            *refused = 0;
        }
        if (p->refused != 0) {
            s_nack(self, &p->msg, p->h->msg_id.data, p->refused, p->refused_detail);
        } else if (rc != 0) {
            s_nack(self, &p->msg, p->h->msg_id.data, rc, NULL);
        } else if (p->code != 0) {
            s_nack(self, &p->msg, p->h->msg_id.data, p->code, p->detail);
        } else {
            Tacnet__Puback a = TACNET__PUBACK__INIT;
            a.msg_id.data = p->h->msg_id.data;
            a.msg_id.len = 16;
            a.seq = p->seq;
            a.has_duplicate = p->duplicate;
            a.duplicate = p->duplicate;
            wire_send(self->router, p->msg.rid, p->msg.rid_len, WIRE_PUBACK, &a.base, NULL, 0, NULL,
                      0, NULL);
            if (p->duplicate)
                self->duplicates++;
            else
                self->accepted++;
        }
        wire_free(&p->h->base);
        wire_msg_clear(&p->msg);
    }
    self->n_batch = 0;
    s_pump_all(self);
}

static void s_on_publish(broker_t *self, wire_msg_t *m)
{
    uint32_t agency, key_id;
    if (s_user(m, &agency, &key_id) != 0) {
        s_nack(self, m, NULL, TACNET_ESENDER, "connection has no roster identity");
        wire_msg_clear(m);
        return;
    }
    Tacnet__Header *h = NULL;
    const char *detail = NULL;
    uint8_t sign_pk[SEAL_KEY_BYTES];
    int rc = s_check_stateless(self, m, agency, key_id, &h, sign_pk, &detail);
    if (rc != 0) {
        const uint8_t *id = h && h->msg_id.len == 16 ? h->msg_id.data : NULL;
        s_nack(self, m, id, rc, detail);
        if (h)
            wire_free(&h->base);
        wire_msg_clear(m);
        return;
    }
    /* Before the signature check (which runs batched at the flush), so a flood costs the
     * broker no Ed25519 verify. The connection's identity is CURVE-authenticated, so only the
     * agency itself can spend its tokens or move its own hold (quota.h). */
    if ((rc = quota_take(self->quota, agency, h->sender_seq, clock_mono_ms())) != 0) {
        /* Counted like every refusal, but logged once per 1000: a line per refused publish
         * would turn a flood into a flood of the log. */
        uint64_t n = quota_refused(self->quota, agency);
        if (n == 1 || n % 1000 == 0)
            log_warn("%s over quota: %llu publishes refused so far", names_agency(agency),
                     (unsigned long long)n);
        s_count_reject(self, rc);
        wire_send_nack(self->router, m->rid, m->rid_len, WIRE_NACK, h->msg_id.data, 16, rc,
                       "over quota_per_s: resend after a pause, in order");
        wire_free(&h->base);
        wire_msg_clear(m);
        return;
    }
    pending_t *p = &self->batch[self->n_batch++];
    p->msg = *m;
    memset(m, 0, sizeof(*m));
    p->h = h;
    p->agency = agency;
    memcpy(p->sign_pk, sign_pk, SEAL_KEY_BYTES);
    if (self->n_batch >= self->cfg.batch_max)
        s_flush_batch(self);
}

/* ---------------------------------------------------------------- control commands */

static void s_on_hello(broker_t *self, wire_msg_t *m, uint32_t agency, uint32_t key_id)
{
    int err = 0;
    Tacnet__Hello *hello = (Tacnet__Hello *)wire_ctl_unpack(WIRE_HELLO, m->ctl, m->ctl_len, &err);
    if (!hello) {
        s_nack(self, m, NULL, err, "bad HELLO");
        return;
    }
    session_t *s = &self->sessions[agency];
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
    log_info("%s HELLO last_applied=%llu credit=%u", names_agency(agency),
             (unsigned long long)hello->last_applied_seq, credit);
    wire_free(&hello->base);

    Tacnet__Welcome w = TACNET__WELCOME__INIT;
    w.epoch = journal_epoch(self->journal);
    w.head_seq = journal_head(self->journal);
    wire_send(self->router, m->rid, m->rid_len, WIRE_WELCOME, &w.base, NULL, 0, NULL, 0, NULL);
    MDB_txn *txn;
    if (store_read_begin(journal_store(self->journal), &txn) == 0) {
        s_pump(self, agency, txn);
        mdb_txn_abort(txn);
    }
}

static void s_on_ack(broker_t *self, wire_msg_t *m, uint32_t agency)
{
    int err = 0;
    session_t *s = &self->sessions[agency];
    Tacnet__Ack *ack = (Tacnet__Ack *)wire_ctl_unpack(WIRE_ACK, m->ctl, m->ctl_len, &err);
    if (!ack) {
        s_nack(self, m, NULL, err, "bad ACK");
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
    MDB_txn *txn;
    if (store_read_begin(journal_store(self->journal), &txn) == 0) {
        s_pump(self, agency, txn);
        mdb_txn_abort(txn);
    }
}

static void s_on_router(broker_t *self)
{
    for (unsigned n = 0; n < self->cfg.batch_max; n++) {
        wire_msg_t m;
        memset(&m, 0, sizeof(m));
        int rc = wire_recv(self->router, 1, ZMQ_DONTWAIT, &m);
        if (rc == TACNET_EAGAIN || rc == TACNET_EINTR || rc == TACNET_EIO) {
            wire_msg_clear(&m); /* nothing was taken from the socket */
            break;
        }
        if (rc != 0) {
            if (m.rid_len)
                s_nack(self, &m, NULL, rc, NULL);
            wire_msg_clear(&m);
            continue;
        }
        uint32_t agency, key_id;
        if (s_user(&m, &agency, &key_id) != 0) {
            /* Unreachable with ZAP enforced; refuse rather than trust a routing id. */
            s_nack(self, &m, NULL, TACNET_ESENDER, "connection has no roster identity");
            wire_msg_clear(&m);
            continue;
        }
        session_t *s = &self->sessions[agency];
        int own = s->connected && s->rid_len == m.rid_len && memcmp(s->rid, m.rid, m.rid_len) == 0;
        if (own)
            s->last_seen_ms = clock_mono_ms();
        /* Revocation reaches live connections: a connection whose key is no longer valid gets
         * a refusal for whatever it sends (a PUBLISH names its msg_id) and is cut. */
        int err = 0;
        if (!roster_key_find(self->roster, agency, key_id, clock_now_ms(), &err)) {
            s_conn_cut_later(self, &m); /* before s_on_publish takes the message */
            if (m.cmd == WIRE_PUBLISH)
                s_on_publish(self, &m);
            else
                s_nack(self, &m, NULL, TACNET_EKEYID, "connection key revoked or expired");
            if (own)
                s->connected = 0;
            wire_msg_clear(&m);
            continue;
        }
        switch (m.cmd) {
        case WIRE_PUBLISH:
            s_on_publish(self, &m);
            break;
        case WIRE_HELLO:
            s_on_hello(self, &m, agency, key_id);
            break;
        case WIRE_ACK:
        case WIRE_PING:
            if (!s->connected || s->rid_len != m.rid_len || memcmp(s->rid, m.rid, m.rid_len) != 0) {
                wire_send_nack(self->router, m.rid, m.rid_len, WIRE_ERROR, NULL, 0,
                               TACNET_EUNKNOWNPEER, NULL);
                break;
            }
            if (m.cmd == WIRE_ACK) {
                s_on_ack(self, &m, agency);
            } else {
                Tacnet__Pong pong = TACNET__PONG__INIT;
                pong.epoch = journal_epoch(self->journal);
                wire_send(self->router, m.rid, m.rid_len, WIRE_PONG, &pong.base, NULL, 0, NULL, 0,
                          NULL);
            }
            break;
        default:
            s_nack(self, &m, NULL, TACNET_EFRAMES, "command not accepted by the broker");
            break;
        }
        wire_msg_clear(&m);
    }
    s_flush_batch(self);
}

/* ---------------------------------------------------------------- cursors, roster, status */

typedef struct {
    broker_t *self;
} flush_arg_t;

static int s_write_cursors(MDB_txn *txn, void *arg)
{
    broker_t *self = arg;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY; a++) {
        session_t *s = &self->sessions[a];
        if (s->acked != s->persisted) {
            int rc = journal_cursor_put(self->journal, txn, a, s->acked);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

static void s_flush_cursors(broker_t *self)
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

/* Every event addressed to an agency that it has not acknowledged within the expiry produces
 * one non-delivery report to its sender (MESH's rule: never silence). The scan starts at each
 * agency's acknowledged cursor and stops at the first event still within its time; `reported`
 * makes each report happen once, across restarts. */
static int s_expiry_write(MDB_txn *txn, void *arg)
{
    broker_t *self = arg;
    uint64_t now = clock_now_ms(), expiry = s_expiry_ms(self);
    uint64_t seq = self->write_head;
    int rc = 0;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY && rc == 0; a++) {
        if (a == TACNET__AGENCY__BROKER || !roster_key_current(self->roster, a, now))
            continue;
        uint64_t acked = self->sessions[a].acked, at = 0, scanned = 0;
        if (!self->sessions[a].connected &&
            (rc = journal_cursor_get(self->journal, txn, a, &acked)) != 0)
            break;
        uint64_t *done_upto = &self->expiry_next[a];
        *done_upto = acked > self->expiry_done[a] ? acked : self->expiry_done[a];
        MDB_cursor *cur = NULL;
        int nrc;
        for (at = *done_upto;
             (nrc = journal_next_for(self->journal, txn, &cur, a, at, &at, &scanned)) == 0;) {
            journal_entry_t e;
            if ((rc = journal_get(self->journal, txn, at, &e)) != 0)
                break;
            if (e.received_ms + expiry > now)
                break;
            *done_upto = at; /* reported before, or reported below in this transaction */
            int done = journal_reported(self->journal, txn, a, at, 0);
            if (done != 0) {
                rc = done < 0 ? done : 0;
                if (rc)
                    break;
                continue;
            }
            int err = 0;
            Tacnet__Header *h = wire_header_unpack(e.header, e.header_len, &err);
            if (h && h->sender != TACNET__AGENCY__BROKER && (uint32_t)h->sender != a)
                rc = notice_non_delivery(self->notice, txn, h, a, at, e.received_ms, &seq);
            if (h)
                wire_free(&h->base);
            if (rc == 0)
                rc = journal_reported(self->journal, txn, a, at, 1);
            if (rc != 0)
                break;
        }
        if (rc == 0 && nrc == TACNET_ENOTFOUND)
            *done_upto = scanned; /* nothing more for this agency */
        else if (rc == 0 && nrc != 0)
            rc = nrc;
        if (cur)
            mdb_cursor_close(cur);
    }
    if (rc == 0)
        journal_head_set(self->journal, seq);
    return rc;
}

static void s_check_expiry(broker_t *self)
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
        s_pump_all(self);
    }
}

/* ---------------------------------------------------------------- escalation timers */

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
static void s_check_escalations(broker_t *self)
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
        s_pump_all(self);
    }
}

static int s_roster_load(broker_t *self, char *why, size_t whylen)
{
    int err = 0;
    /* Stat before reading: a file replaced in between is then reloaded on the next tick. */
    struct stat st;
    memset(&st, 0, sizeof(st));
    stat(self->cfg.roster_path, &st);
    roster_t *r = roster_load(self->cfg.roster_path, self->root_pk, &err);
    if (!r) {
        snprintf(why, whylen, "%s: %s", self->cfg.roster_path, tacnet_strerror(err));
        return err;
    }
    if (self->roster && roster_version(r) < roster_version(self->roster)) {
        snprintf(why, whylen, "%s: version %u is older than %u in use", self->cfg.roster_path,
                 roster_version(r), roster_version(self->roster));
        roster_destroy(&r);
        return TACNET_EROSTEROLD;
    }
    self->roster_st = st;
    roster_destroy(&self->roster);
    self->roster = r;
    if (self->notice)
        notice_roster_set(self->notice, r);
    if (self->escalation && escalation_journal_roster_set(self->escalation, r) != 0)
        log_warn("roster version %u: escalation policy not adopted (invalid, or fewer stages "
                 "than an open escalation has reached); the previous policy stays",
                 roster_version(r));
    return 0;
}

/* A replaced roster is noticed by inode, size and nanosecond mtime: a whole-second mtime misses
 * a revocation written within the second of the previous roster. */
static int s_file_changed(const struct stat *a, const struct stat *b)
{
    return a->st_ino != b->st_ino || a->st_dev != b->st_dev || a->st_size != b->st_size ||
           a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

static void s_maybe_reload(broker_t *self)
{
    struct stat st;
    int changed = stat(self->cfg.roster_path, &st) == 0 && s_file_changed(&st, &self->roster_st);
    if (!broker_reload_flag && !changed)
        return;
    broker_reload_flag = 0;
    char why[512];
    uint32_t old = roster_version(self->roster);
    if (s_roster_load(self, why, sizeof(why)) != 0) {
        log_warn("roster not reloaded: %s", why);
        self->roster_st = st; /* do not retry a bad file every tick */
        return;
    }
    log_info("roster reloaded: version %u -> %u", old, roster_version(self->roster));
}

/* Every tick: a session whose key the roster revoked or whose window ended is closed and its
 * connection cut, without waiting for its next message (its reconnect then fails at ZAP); a
 * session that sent nothing for the heartbeat timeout (daemons ping every heartbeat) is down,
 * so status shows it and expiry counts from its persisted cursor. */
static void s_check_sessions(broker_t *self)
{
    uint64_t mono = clock_mono_ms(), now = clock_now_ms();
    uint64_t timeout = (uint64_t)self->cfg.heartbeat_ms * 3;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY; a++) {
        session_t *s = &self->sessions[a];
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

static char *s_status_json(broker_t *self)
{
    size_t map = 0, used = 0;
    store_usage(journal_store(self->journal), &map, &used);
    char epoch[17];
    snprintf(epoch, sizeof(epoch), "%016llx", (unsigned long long)journal_epoch(self->journal));
    json_t *root = json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:i}", "epoch", epoch, "head_seq",
        (json_int_t)journal_head(self->journal), "accepted", (json_int_t)self->accepted,
        "duplicates", (json_int_t)self->duplicates, "delivered", (json_int_t)self->delivered,
        "commits", (json_int_t)self->commits, "events_per_commit",
        self->commits ? (double)self->batched_events / (double)self->commits : 0.0, "map_size",
        (json_int_t)map, "map_used", (json_int_t)used, "roster_version",
        (int)roster_version(self->roster));
    store_commit_stats_t cs;
    store_commit_stats(journal_store(self->journal), &cs);
    json_object_set_new(root, "commit_ms",
                        json_pack("{s:f, s:f, s:f}", "p50", cs.p50_us / 1000.0, "p99",
                                  cs.p99_us / 1000.0, "max", cs.max_us / 1000.0));
    json_t *agencies = json_array();
    MDB_txn *txn = NULL;
    if (store_read_begin(journal_store(self->journal), &txn) != 0)
        txn = NULL;
    for (uint32_t a = 1; a < BROKER_MAX_AGENCY; a++) {
        if (a == TACNET__AGENCY__BROKER || a == TACNET__AGENCY__PARTNERSHIP ||
            !names_enum(&tacnet__agency__descriptor, (int)a))
            continue;
        session_t *s = &self->sessions[a];
        uint64_t acked = s->acked;
        if (!s->connected && txn)
            journal_cursor_get(self->journal, txn, a, &acked);
        uint64_t backlog =
            txn ? journal_backlog(self->journal, txn, a, acked, BROKER_STATUS_BACKLOG_MAX) : 0;
        json_array_append_new(agencies,
                              json_pack("{s:s, s:b, s:I, s:I, s:b, s:I}", "agency", names_agency(a),
                                        "connected", s->connected, "last_ack", (json_int_t)acked,
                                        "backlog", (json_int_t)backlog, "backlog_capped",
                                        backlog >= BROKER_STATUS_BACKLOG_MAX, "inflight",
                                        (json_int_t)s->n_inflight));
    }
    if (txn)
        mdb_txn_abort(txn);
    json_object_set_new(root, "agencies", agencies);
    json_t *rejected = json_object();
    for (int i = 0; i < BROKER_MAX_REJECTS && self->rejects[i].code; i++)
        json_object_set_new(rejected, tacnet_errname(self->rejects[i].code),
                            json_integer((json_int_t)self->rejects[i].n));
    json_object_set_new(root, "rejected", rejected);
    json_object_set_new(root, "escalations", escalation_journal_status_json(self->escalation, 100));
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}

static void s_on_admin(broker_t *self)
{
    char req[64];
    int n = zmq_recv(self->admin, req, sizeof(req) - 1, ZMQ_DONTWAIT);
    if (n < 0)
        return;
    int more = 0;
    size_t ml = sizeof(more);
    while (zmq_getsockopt(self->admin, ZMQ_RCVMORE, &more, &ml) == 0 && more)
        zmq_recv(self->admin, req, 0, 0);
    req[n < (int)sizeof(req) ? n : 0] = 0;
    if (strcmp(req, "status") == 0) {
        char *json = s_status_json(self);
        zmq_send(self->admin, json, strlen(json), 0);
        free(json);
    } else {
        const char *e = "{\"error\":\"E_INVAL\",\"reason\":\"unknown admin request\"}";
        zmq_send(self->admin, e, strlen(e), 0);
    }
}

/* ---------------------------------------------------------------- lifecycle */

int broker_check_libraries(char *why, size_t whylen)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    if (major * 10000 + minor * 100 + patch < 40304) {
        snprintf(why, whylen, "libzmq %d.%d.%d is older than 4.3.4", major, minor, patch);
        return TACNET_ECONFIG;
    }
    if (sodium_library_version_major() < 10 ||
        (sodium_library_version_major() == 10 && sodium_library_version_minor() < 3)) {
        snprintf(why, whylen, "libsodium %s is older than 1.0.18", sodium_version_string());
        return TACNET_ECONFIG;
    }
    if (protobuf_c_version_number() < 1004001) {
        snprintf(why, whylen, "protobuf-c %s is older than 1.4.1", protobuf_c_version());
        return TACNET_ECONFIG;
    }
    mdb_version(&major, &minor, &patch);
    if (major * 10000 + minor * 100 + patch < 924) {
        snprintf(why, whylen, "LMDB %d.%d.%d is older than 0.9.24", major, minor, patch);
        return TACNET_ECONFIG;
    }
    return 0;
}

static int s_bind(broker_t *self, char *why, size_t whylen)
{
    int one = 1, hb = (int)self->cfg.heartbeat_ms, hbt = (int)self->cfg.heartbeat_ms * 3;
    int64_t maxmsg = WIRE_MAX_MSG;
    int linger = 1000, hwm = 100000;
    self->zap = zmq_socket(self->ctx, ZMQ_REP);
    if (!self->zap || zmq_bind(self->zap, ZAP_ENDPOINT) != 0) {
        snprintf(why, whylen, "cannot bind the ZAP handler: %s", zmq_strerror(zmq_errno()));
        return TACNET_EIO;
    }
    self->router = zmq_socket(self->ctx, ZMQ_ROUTER);
    char z85[SEAL_Z85_BYTES];
    seal_z85(self->keys->curve_sk, z85);
    int enforce = 1, readback = 0;
    size_t rl = sizeof(readback);
    int rc = zmq_setsockopt(self->router, ZMQ_CURVE_SERVER, &one, sizeof(one));
    rc |= zmq_setsockopt(self->router, ZMQ_CURVE_SECRETKEY, z85, 40);
    rc |= zmq_setsockopt(self->router, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN));
    rc |= zmq_setsockopt(self->router, ZMQ_ZAP_ENFORCE_DOMAIN, &enforce, sizeof(enforce));
    rc |= zmq_getsockopt(self->router, ZMQ_ZAP_ENFORCE_DOMAIN, &readback, &rl);
    sodium_memzero(z85, sizeof(z85));
    rc |= zmq_setsockopt(self->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
    rc |= zmq_setsockopt(self->router, ZMQ_ROUTER_HANDOVER, &one, sizeof(one));
    rc |= zmq_setsockopt(self->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    rc |= zmq_setsockopt(self->router, ZMQ_HEARTBEAT_IVL, &hb, sizeof(hb));
    rc |= zmq_setsockopt(self->router, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof(hbt));
    rc |= zmq_setsockopt(self->router, ZMQ_HEARTBEAT_TTL, &hbt, sizeof(hbt));
    rc |= zmq_setsockopt(self->router, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    rc |= zmq_setsockopt(self->router, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    rc |= zmq_setsockopt(self->router, ZMQ_LINGER, &linger, sizeof(linger));
    if (rc != 0 || readback != 1) {
        snprintf(why, whylen, "cannot enforce CURVE authentication (ZAP_ENFORCE_DOMAIN): %s",
                 zmq_strerror(zmq_errno()));
        return TACNET_ECONFIG;
    }
    if (zmq_bind(self->router, self->cfg.bind) != 0) {
        snprintf(why, whylen, "cannot bind %s: %s", self->cfg.bind, zmq_strerror(zmq_errno()));
        return TACNET_EIO;
    }
    size_t el = sizeof(self->endpoint);
    zmq_getsockopt(self->router, ZMQ_LAST_ENDPOINT, self->endpoint, &el);

    char path[4200];
    snprintf(path, sizeof(path), "ipc://%s/admin.sock", self->data_dir);
    self->admin = zmq_socket(self->ctx, ZMQ_REP);
    zmq_setsockopt(self->admin, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(self->admin, path) != 0) {
        snprintf(why, whylen, "cannot bind admin socket %s: %s", path, zmq_strerror(zmq_errno()));
        return TACNET_EIO;
    }
    snprintf(path, sizeof(path), "%s/admin.sock", self->data_dir);
    chmod(path, 0600);
    /* Tests and `make run` read the resolved endpoint (port * picks a free one). */
    snprintf(path, sizeof(path), "%s/endpoint", self->data_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%s\n", self->endpoint);
        fclose(f);
    }
    return 0;
}

broker_t *broker_new(const broker_config_t *cfg, int *err, char *why, size_t whylen)
{
    broker_t *self = xcalloc(1, sizeof(*self));
    self->cfg = *cfg;
    if (!self->cfg.batch_max)
        self->cfg.batch_max = 256;
    if (!self->cfg.credit_max || self->cfg.credit_max > BROKER_MAX_CREDIT)
        self->cfg.credit_max = BROKER_MAX_CREDIT;
    if (!self->cfg.heartbeat_ms)
        self->cfg.heartbeat_ms = 2000;
    if (!self->cfg.tick_ms)
        self->cfg.tick_ms = 200;
    if (!self->cfg.max_clock_skew_s)
        self->cfg.max_clock_skew_s = 300;
    if (!self->cfg.max_event_age_days)
        self->cfg.max_event_age_days = 30;
    self->quota = quota_new(self->cfg.quota_per_s, self->cfg.quota_burst);
    snprintf(self->data_dir, sizeof(self->data_dir), "%s", cfg->data_dir);
    self->batch = xcalloc(self->cfg.batch_max, sizeof(pending_t));
    for (int a = 0; a < BROKER_MAX_AGENCY; a++)
        self->sessions[a].inflight = xcalloc(BROKER_MAX_CREDIT, sizeof(uint64_t));

    if ((*err = broker_check_libraries(why, whylen)) != 0)
        goto fail;
    if ((*err = seal_init()) != 0) {
        snprintf(why, whylen, "libsodium failed to initialise");
        goto fail;
    }
    if ((*err = roster_root_load(cfg->root_pub_path, self->root_pk)) != 0) {
        snprintf(why, whylen, "%s: cannot read the pinned root key: %s", cfg->root_pub_path,
                 tacnet_strerror(*err));
        goto fail;
    }
    if ((*err = s_roster_load(self, why, whylen)) != 0)
        goto fail;
    if ((*err = seal_keys_load(cfg->key_path, &self->keys, why, whylen)) != 0)
        goto fail;
    if (self->keys->agency != TACNET__AGENCY__BROKER) {
        snprintf(why, whylen, "%s: not a broker key set", cfg->key_path);
        *err = TACNET_ECONFIG;
        goto fail;
    }
    self->seal = seal_ctx_new(self->keys);
    if (!(self->verifier = verifier_new(0))) {
        snprintf(why, whylen, "cannot start the signature-check threads");
        *err = TACNET_ENOMEM;
        goto fail;
    }
    if (cfg->holidays_path && *cfg->holidays_path) {
        int line = 0;
        self->holidays = holidays_load(cfg->holidays_path, err, &line);
        if (!self->holidays) {
            snprintf(why, whylen, "%s:%d: %s", cfg->holidays_path, line, tacnet_strerror(*err));
            goto fail;
        }
    } else {
        self->holidays = holidays_new();
    }
    self->journal = journal_open(cfg->data_dir, cfg->map_size, err);
    if (!self->journal) {
        store_open_why(cfg->data_dir, "journal", *err, why, whylen);
        goto fail;
    }
    if ((*err = store_map_max_set(journal_store(self->journal), cfg->map_max)) != 0) {
        snprintf(why, whylen, "%s: map_max_mb: %s", cfg->data_dir, tacnet_strerror(*err));
        goto fail;
    }
    /* Fail closed on bit rot before serving or acknowledging anything (T06). */
    uint64_t walk_t0 = clock_mono_ms();
    size_t walked = 0;
    if ((*err = journal_verify(self->journal, self->roster, &walked, why, whylen)) != 0)
        goto fail;
    log_info("integrity walk: %zu records in %llu ms", walked,
             (unsigned long long)(clock_mono_ms() - walk_t0));
    self->notice = notice_new(self->journal, self->roster, self->keys, self->seal, self->holidays);
    if (!self->notice) {
        *err = TACNET_ESTORE;
        snprintf(why, whylen, "cannot load escalation state");
        goto fail;
    }
    self->escalation = escalation_journal_new(self->journal, self->notice, self->roster,
                                              self->holidays, err, why, whylen);
    if (!self->escalation)
        goto fail;
    self->ctx = zmq_ctx_new();
    if ((*err = s_bind(self, why, whylen)) != 0)
        goto fail;
    log_info("listening on %s, journal head %llu, epoch %016llx, roster version %u", self->endpoint,
             (unsigned long long)journal_head(self->journal),
             (unsigned long long)journal_epoch(self->journal), roster_version(self->roster));
    return self;
fail:
    broker_destroy(&self);
    return NULL;
}

const char *broker_endpoint(const broker_t *self)
{
    return self->endpoint;
}

int broker_run(broker_t *self)
{
    uint64_t next_tick = clock_mono_ms();
    while (!broker_stop_flag) {
        zmq_pollitem_t items[] = {
            { self->zap, 0, ZMQ_POLLIN, 0 },
            { self->router, 0, ZMQ_POLLIN, 0 },
            { self->admin, 0, ZMQ_POLLIN, 0 },
        };
        uint64_t now = clock_mono_ms();
        long timeout = next_tick > now ? (long)(next_tick - now) : 0;
        int rc = zmq_poll(items, 3, timeout);
        if (rc < 0) {
            if (zmq_errno() == EINTR)
                continue;
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            return TACNET_EIO;
        }
        if (items[0].revents & ZMQ_POLLIN)
            zap_handle(self->zap, self->roster, clock_now_ms());
        if (items[1].revents & ZMQ_POLLIN)
            s_on_router(self);
        if (items[2].revents & ZMQ_POLLIN)
            s_on_admin(self);
        now = clock_mono_ms();
        if (now >= next_tick) {
            next_tick = now + self->cfg.tick_ms;
            s_conn_cut_pending(self);
            s_maybe_reload(self);
            s_check_sessions(self);
            s_check_escalations(self);
            if (now >= self->next_flush_ms) {
                s_flush_cursors(self);
                s_check_expiry(self);
                self->next_flush_ms = now + BROKER_CURSOR_FLUSH;
            }
        }
    }
    s_flush_batch(self);
    s_flush_cursors(self);
    store_commit_stats_t cs;
    store_commit_stats(journal_store(self->journal), &cs);
    log_info("stopped cleanly at journal head %llu; %llu commits, p50 %.2f ms, p99 %.2f ms",
             (unsigned long long)journal_head(self->journal), (unsigned long long)cs.commits,
             cs.p50_us / 1000.0, cs.p99_us / 1000.0);
    return 0;
}

void broker_destroy(broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_t *self = *self_p;
    if (self->router)
        zmq_close(self->router);
    if (self->zap)
        zmq_close(self->zap);
    if (self->admin)
        zmq_close(self->admin);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    quota_destroy(&self->quota);
    escalation_journal_destroy(&self->escalation);
    notice_destroy(&self->notice);
    journal_destroy(&self->journal);
    holidays_destroy(&self->holidays);
    verifier_destroy(&self->verifier);
    seal_ctx_destroy(&self->seal);
    seal_keys_destroy(&self->keys);
    roster_destroy(&self->roster);
    for (int a = 0; a < BROKER_MAX_AGENCY; a++)
        free(self->sessions[a].inflight);
    free(self->batch);
    free(self);
    *self_p = NULL;
}
