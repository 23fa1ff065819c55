/* agency: the daemon's loop, the sync with the broker and the outbox; what front ends read. */
#include "internal.h"
#include "agency/auth.h"
#include "agency/endpoints.h"
#include "agency/history.h"
#include "agency/import.h"
#include "agency/outbox.h"
#include "agency/outcome.h"
#include "agency/reseal.h"
#include "agency/sweep.h"
#include "agency/vault.h"
#include "casework/initials.h"
#include "err.h"
#include "fault.h"
#include "kinds.h"
#include "log.h"
#include "merkle.h"
#include "names.h"
#include "verifier.h"
#include "wire.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zmq.h>

#define AGENCY_BATCH           512
#define AGENCY_BATCH_REGISTERS 8 /* cases whose identity register a batch reads once */
#define AGENCY_PING_MS         2000
#define AGENCY_LIVENESS        3
#define AGENCY_SWEEP_FIRST_MS  60000ull

/* Pause after the broker's E_QUOTA before resending the outbox. */
#define AGENCY_QUOTA_BACKOFF_MS 250

volatile sig_atomic_t agency_stop_flag = 0;
volatile sig_atomic_t agency_reload_flag = 0;

/* ------------------------------------------------------------------ outbox */

/* The events of one send turn, signed when they are sent: the outbox holds them unsigned
 * (outbox.h), a turn of two or more goes out under one signature over its Merkle root, each event
 * with its proof (merkle.h), so the sender signs and the broker and every recipient verify the
 * turn once; a turn of one carries the event's own signature, as a single publish always has.
 * A resend after a reconnect is a new turn, signed again. */
typedef struct {
    agency_outbox_record_t *recs;
    uint64_t *seqs;
    size_t n;
    uint8_t *frames;
    size_t *frame_lens;
} send_turn_t;

/* Sign turn T into T->frames. Returns 0 or the signing code (nothing of the turn is sent then). */
static int s_turn_sign(agency_t *self, send_turn_t *t)
{
    t->frames = xmalloc(t->n * MERKLE_FRAME_MAX);
    t->frame_lens = xcalloc(t->n, sizeof(*t->frame_lens));
    if (t->n == 1) {
        t->frame_lens[0] = SEAL_SIG_BYTES;
        return seal_sign_event(self->seal, t->recs[0].header, t->recs[0].hlen, t->recs[0].sealed,
                               t->recs[0].slen, t->frames);
    }
    const uint8_t **headers = xcalloc(t->n, sizeof(*headers));
    size_t *hlens = xcalloc(t->n, sizeof(*hlens));
    uint8_t *digests = xmalloc(t->n * SEAL_DIGEST_LEN);
    for (size_t i = 0; i < t->n; i++) {
        headers[i] = t->recs[i].header;
        hlens[i] = t->recs[i].hlen;
        seal_digest(t->recs[i].sealed, t->recs[i].slen, digests + i * SEAL_DIGEST_LEN);
    }
    int rc = merkle_sign(self->seal, headers, hlens, digests, t->n, t->frames, t->frame_lens);
    free(headers);
    free(hlens);
    free(digests);
    return rc;
}

/* The msg_id of REC's header into OUT: 0, or -1 when the header does not decode. */
static int s_record_msg_id(const agency_outbox_record_t *rec, uint8_t out[16])
{
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(rec->header, rec->hlen, &err);
    int ok = h && h->msg_id.len == 16;
    if (ok)
        memcpy(out, h->msg_id.data, 16);
    if (h)
        wire_free(&h->base);
    return ok ? 0 : -1;
}

typedef struct outbox_done outbox_done_t;
static int s_outbox_done(MDB_txn *txn, void *arg);
static void s_refuse_unsendable(agency_t *self, const uint8_t msg_id[16]);

void agency_outbox_pump(agency_t *self)
{
    if (!self->welcomed || !self->dealer || clock_mono_ms() < self->quota_until_ms ||
        self->in_flight >= self->send_window)
        return;
    MDB_txn *txn;
    if (store_read_begin(self->store, &txn) != 0)
        return;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->outbox, &cur) != 0) {
        mdb_txn_abort(txn);
        return;
    }
    size_t room = self->send_window - self->in_flight;
    send_turn_t t = { .recs = xcalloc(room, sizeof(*t.recs)), .seqs = xcalloc(room, 8) };
    uint8_t key[8];
    store_u64_put(key, self->send_cursor + 1);
    MDB_val k = { 8, key }, v;
    for (int op = MDB_SET_RANGE; t.n < room && mdb_cursor_get(cur, &k, &v, op) == 0;
         op = MDB_NEXT) {
        if (agency_outbox_decode(v.mv_data, v.mv_size, &t.recs[t.n]) != 0)
            continue;
        t.seqs[t.n++] = store_u64_get(k.mv_data);
    }
    int src = t.n ? s_turn_sign(self, &t) : 0;
    self->pump_retry = src != 0;
    if (src != 0)
        log_error("could not sign %zu queued events: %s; trying again", t.n, tacnet_errname(src));
    uint8_t(*too_big)[16] = xcalloc(t.n ? t.n : 1, 16);
    size_t n_big = 0;
    for (size_t i = 0; src == 0 && i < t.n; i++) {
        const agency_outbox_record_t *rec = &t.recs[i];
        Tacnet__Publish pub = TACNET__PUBLISH__INIT;
        pub.has_ack_batches = pub.ack_batches = 1; /* several PUBACKs per message */
        int rc =
            wire_send_sig(self->dealer, NULL, 0, WIRE_PUBLISH, &pub.base, rec->header, rec->hlen,
                          rec->sealed, rec->slen, t.frames + i * MERKLE_FRAME_MAX, t.frame_lens[i]);
        if (rc == TACNET_ETOOBIG && s_record_msg_id(rec, too_big[n_big]) == 0) {
            n_big++; /* never sendable: refused below, and the queue goes on past it */
            self->send_cursor = t.seqs[i];
            continue;
        }
        if (rc != 0)
            break; /* not connected yet, or the pipe is full: resent after the next WELCOME */
        self->send_cursor = t.seqs[i];
        self->in_flight++;
    }
    free(t.recs);
    free(t.seqs);
    free(t.frames);
    free(t.frame_lens);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    for (size_t i = 0; i < n_big; i++)
        s_refuse_unsendable(self, too_big[i]);
    free(too_big);
}

struct outbox_done {
    agency_t *self;
    const uint8_t *msg_id;
    int code; /* 0: PUBACK, else the NACK code */
    const char *reason;
    uint64_t seq; /* PUBACK: the broker's seq */
    int local;    /* refused by this daemon, not the broker (the audit record says so) */
};

/* Accepted, not yet back (outbox.h): the header of the outbox record at KEY, kept under the
 * broker's seq with its case BLIND until the view applies the event's DELIVER. */
static int s_accepted_put(MDB_txn *txn, const outbox_done_t *o, const uint8_t key[8],
                          const uint8_t blind[16])
{
    MDB_val rv;
    agency_outbox_record_t rec;
    int rc = store_get(txn, o->self->outbox, key, 8, &rv);
    if (rc == TACNET_ENOTFOUND)
        return 0;
    if (rc != 0 || (rc = agency_outbox_decode(rv.mv_data, rv.mv_size, &rec)) != 0)
        return rc;
    uint8_t seq[8], *v = xmalloc(16 + rec.hlen);
    store_u64_put(seq, o->seq);
    memcpy(v, blind, 16);
    memcpy(v + 16, rec.header, rec.hlen);
    rc = store_put(txn, o->self->accepted, seq, 8, v, 16 + rec.hlen, 0);
    free(v);
    return rc;
}

/* Drop the accepted-not-yet-back entries the view now holds: seq <= LAST. */
static int s_accepted_prune(agency_t *self, MDB_txn *txn, uint64_t last)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->accepted, &cur);
    if (rc != 0)
        return store_lmdb_err(rc);
    MDB_val k, v;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 && k.mv_size == 8 &&
           store_u64_get(k.mv_data) <= last)
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_lmdb_err(rc);
}

static int s_outbox_done(MDB_txn *txn, void *arg)
{
    outbox_done_t *o = arg;
    agency_t *self = o->self;
    MDB_val v;
    int rc = store_get(txn, self->outbox_ids, o->msg_id, 16, &v);
    if (rc == TACNET_ENOTFOUND)
        return 0; /* already settled (a duplicate PUBACK) */
    uint64_t seq;
    uint8_t blind[16], key[8], ck[AGENCY_OUTBOX_CASE_KEY_BYTES];
    if (rc != 0 || (rc = agency_outbox_ids_decode(v.mv_data, v.mv_size, &seq, blind)) != 0)
        return rc;
    store_u64_put(key, seq);
    agency_outbox_case_key(ck, blind, seq);
    if (o->code != 0) {
        /* Dead letter: the reason stays visible to the user; the item is never resent. */
        size_t n;
        uint8_t *d = agency_outbox_dead_encode(o->code, o->reason, seq, &n);
        rc = store_put(txn, self->dead, o->msg_id, 16, d, n, 0);
        free(d);
        if (rc != 0)
            return rc;
    }
    if ((rc = agency_outcome_settle(self, txn, o->msg_id, seq, o->seq, o->code)) != 0)
        return rc;
    if (o->code == 0 && o->seq > self->last_applied &&
        (rc = s_accepted_put(txn, o, key, blind)) != 0)
        return rc;
    if ((o->code == TACNET_EREPLAY || o->code == TACNET_ECLOCK) &&
        (rc = agency_outcome_sequence_alert_add(self, txn, seq, o->code)) != 0)
        return rc;
    if ((rc = store_del(txn, self->outbox, key, 8)) != 0 && rc != TACNET_ENOTFOUND)
        return rc;
    if ((rc = store_del(txn, self->outbox_ids, o->msg_id, 16)) != 0 && rc != TACNET_ENOTFOUND)
        return rc;
    if ((rc = store_del(txn, self->outbox_case, ck, sizeof(ck))) != 0 && rc != TACNET_ENOTFOUND)
        return rc;
    char hex[33];
    wire_msgid_hex(o->msg_id, 16, hex);
    return agency_audit(self, txn, o->local ? "agency" : "broker",
                        o->local  ? "publish.refused_locally"
                        : o->code ? "publish.refused"
                                  : "publish.accepted",
                        hex, o->code ? "refused" : "ok", o->code);
}

/* An outbox record larger than the broker takes (queued before the publish path refused such
 * events, or by the test hook): it could never be sent, and it held every later event back.
 * Refused here as the broker would refuse it, so it shows as refused (with its draft, to be
 * corrected and sent again, or withdrawn) and the queue goes on. */
static void s_refuse_unsendable(agency_t *self, const uint8_t msg_id[16])
{
    char hex[33];
    wire_msgid_hex(msg_id, 16, hex);
    log_warn("queued event %s is larger than the broker takes: refused, not sent", hex);
    outbox_done_t o = { self,
                        msg_id,
                        TACNET_ETOOBIG,
                        "the event is larger than the broker takes (256 KiB sealed): shorten its "
                        "free text and send it again",
                        0,
                        1 };
    if (store_write(self->store, s_outbox_done, &o) != 0)
        log_error("could not record the refusal of %s", hex);
    else
        agency_outcome_settled(self, msg_id);
}

/* The PUBACKs read in one turn of the loop, settled together in one write transaction: one
 * synced commit per PUBACK held the loop (and the dashboard) for as long as a whole window of
 * them took to commit. */
typedef struct {
    agency_t *self;
    Tacnet__Puback *acks[AGENCY_BATCH];
    size_t n;
} pubacks_t;

static int s_pubacks_done(MDB_txn *txn, void *arg)
{
    pubacks_t *p = arg;
    for (size_t i = 0; i < p->n; i++) {
        outbox_done_t o = { p->self, p->acks[i]->msg_id.data, 0, "", p->acks[i]->seq, 0 };
        int rc = s_outbox_done(txn, &o);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void s_pubacks_settle(agency_t *self, pubacks_t *p)
{
    if (p->n == 0)
        return;
    int rc = store_write(self->store, s_pubacks_done, p);
    if (rc != 0)
        log_error("could not settle %zu PUBACKs; they will be resent and deduplicated", p->n);
    for (size_t i = 0; i < p->n; i++) {
        if (rc == 0)
            agency_outcome_settled(self, p->acks[i]->msg_id.data);
        if (self->in_flight)
            self->in_flight--;
        if (self->send_window < self->cfg.window)
            self->send_window++;
        wire_free(&p->acks[i]->base);
    }
    p->n = 0;
}

static void s_on_puback(agency_t *self, const wire_msg_t *m, pubacks_t *p)
{
    int err = 0;
    Tacnet__Puback *a = (Tacnet__Puback *)wire_ctl_unpack(WIRE_PUBACK, m->ctl, m->ctl_len, &err);
    if (!a || a->msg_id.len != 16) {
        if (a)
            wire_free(&a->base);
        return;
    }
    /* Once per PUBACK, none of them committed yet: a crash here loses the batch's settles, and
     * the broker answers the resends with the first seq. */
    FAULT_POINT("agency.before_puback_commit");
    if (p->n == AGENCY_BATCH)
        s_pubacks_settle(self, p);
    p->acks[p->n++] = a;
}

/* E_RECIPIENTS naming the set the case requires: sealed again for it and queued (reseal.h).
 * Returns whether it was; if not, self->reseal_why says why for the refusal's reason. */
static int s_resealed(agency_t *self, const Tacnet__Nack *n)
{
    self->reseal_why[0] = 0;
    if (n->code != TACNET_ERECIPIENTS || n->n_required_recipients == 0)
        return 0;
    uint32_t required = 0;
    for (size_t i = 0; i < n->n_required_recipients; i++)
        if ((unsigned)n->required_recipients[i] < ROUTE_MAX_AGENCY)
            required |= 1u << n->required_recipients[i];
    int rc =
        agency_reseal(self, n->msg_id.data, required, self->reseal_why, sizeof(self->reseal_why));
    if (rc < 0)
        snprintf(self->reseal_why, sizeof(self->reseal_why), "could not re-seal: %s",
                 tacnet_errname(rc));
    return rc == 1;
}

static void s_on_nack(agency_t *self, const wire_msg_t *m)
{
    int err = 0;
    Tacnet__Nack *n = (Tacnet__Nack *)wire_ctl_unpack(m->cmd, m->ctl, m->ctl_len, &err);
    if (!n)
        return;
    if (n->code == TACNET_EUNKNOWNPEER) {
        self->welcomed = 0; /* the broker restarted or forgot us: say HELLO again */
    } else if (n->code == TACNET_EMAPFULL || n->code == TACNET_EDISKFULL ||
               n->code == TACNET_ESTORE || n->code == TACNET_EIO ||
               n->code == TACNET_EUNAVAILABLE || n->code == TACNET_EFENCED) {
        /* The broker stored nothing and will have room again: keep the event in the outbox
         * and resend it, in order, after the next WELCOME (a HELLO waits a ping interval). */
        log_warn("broker storage refused a publish: %s; will resend", tacnet_errname(n->code));
        self->welcomed = 0;
        self->hello_sent_ms = clock_mono_ms();
    } else if (n->code == TACNET_EQUOTA) {
        /* Back-pressure, not a refusal: the event stays in the outbox and everything
         * unacknowledged is resent in order after a pause (the broker holds later ones). The
         * first refusal of a window halves the send window (it grows back by one per PUBACK),
         * so a sender over its quota settles near it instead of resending whole windows that
         * the broker must refuse; the window's other refusals are that hold and change
         * nothing. */
        if (!self->quota_until_ms) {
            self->send_window = self->send_window > 1 ? self->send_window / 2 : 1;
            self->quota_until_ms = clock_mono_ms() + AGENCY_QUOTA_BACKOFF_MS;
            self->send_cursor = 0;
            self->in_flight = 0;
        }
    } else if (n->has_msg_id && n->msg_id.len == 16 && s_resealed(self, n)) {
        if (self->in_flight)
            self->in_flight--;
        agency_outbox_pump(self);
    } else if (n->has_msg_id && n->msg_id.len == 16) {
        char hex[33], reason[512];
        wire_msgid_hex(n->msg_id.data, 16, hex);
        log_warn("broker refused %s: %s", hex, tacnet_errname(n->code));
        snprintf(reason, sizeof(reason), "%s%s%s", n->reason ? n->reason : "",
                 self->reseal_why[0] ? "; " : "", self->reseal_why);
        self->reseal_why[0] = 0;
        outbox_done_t o = { self, n->msg_id.data, n->code, reason, 0, 0 };
        if (store_write(self->store, s_outbox_done, &o) != 0)
            log_error("could not record a refusal");
        else
            agency_outcome_settled(self, n->msg_id.data);
        if (self->in_flight)
            self->in_flight--;
    } else {
        log_warn("broker error: %s", tacnet_errname(n->code));
    }
    wire_free(&n->base);
}

/* ------------------------------------------------------------------ sync */

static void s_hello(agency_t *self)
{
    Tacnet__Hello h = TACNET__HELLO__INIT;
    h.last_applied_seq = self->last_applied;
    h.credit = self->cfg.credit;
    h.has_delivery_reports = h.delivery_reports = 1; /* per recipient: applied or not yet */
    h.has_deliver_batches = h.deliver_batches = 1;   /* several DELIVERs per message */
    self->welcomed = 0;
    self->hello_sent_ms = clock_mono_ms();
    wire_send(self->dealer, NULL, 0, WIRE_HELLO, &h.base, NULL, 0, NULL, 0, NULL);
}

/* Set the DEALER's CURVE keys: the broker's pinned from the roster, ours from the key set. Returns
 * 0 or a code with WHY naming what failed. */
static int s_curve_keys(agency_t *self, char *why, size_t whylen)
{
    const Tacnet__NodeKey *bk =
        roster_key_current(self->roster, TACNET__AGENCY__BROKER, clock_now_ms());
    if (!bk) {
        snprintf(why, whylen, "the roster has no current broker key");
        return TACNET_EKEYID;
    }
    char server[SEAL_Z85_BYTES], pub[SEAL_Z85_BYTES], sec[SEAL_Z85_BYTES];
    seal_z85(bk->curve_pk.data, server);
    seal_z85(self->keys->curve_pk, pub);
    if (seal_keys_curve_z85(self->keys, sec) != 0) {
        snprintf(why, whylen, "cannot read our CURVE secret key");
        return TACNET_EINVAL;
    }
    const char *failed = NULL;
    if (zmq_setsockopt(self->dealer, ZMQ_CURVE_SERVERKEY, server, 40) != 0)
        failed = "ZMQ_CURVE_SERVERKEY";
    else if (zmq_setsockopt(self->dealer, ZMQ_CURVE_PUBLICKEY, pub, 40) != 0)
        failed = "ZMQ_CURVE_PUBLICKEY";
    else if (zmq_setsockopt(self->dealer, ZMQ_CURVE_SECRETKEY, sec, 40) != 0)
        failed = "ZMQ_CURVE_SECRETKEY";
    sodium_memzero(sec, sizeof(sec));
    if (failed) {
        /* Without its keys the DEALER would connect in the clear, which the broker refuses. */
        snprintf(why, whylen, "cannot set %s on the broker socket: %s", failed,
                 zmq_strerror(zmq_errno()));
        return TACNET_ECONFIG;
    }
    return 0;
}

static int s_connect(agency_t *self, char *why, size_t whylen)
{
    if (self->dealer)
        zmq_close(self->dealer);
    self->dealer = zmq_socket(self->ctx, ZMQ_DEALER);
    if (!self->dealer) {
        snprintf(why, whylen, "cannot create the broker socket: %s", zmq_strerror(zmq_errno()));
        return TACNET_EIO;
    }
    /* A socket whose keys could not be set is never connected, so nothing can go out in the
     * clear; the next reconnect (s_tick) makes a fresh one. */
    int rc = s_curve_keys(self, why, whylen);
    if (rc != 0)
        return rc;
    int one = 1, hb = (int)self->cfg.heartbeat_ms, hbt = hb * 3, linger = 0;
    int64_t maxmsg = WIRE_MAX_MSG;
    zmq_setsockopt(self->dealer, ZMQ_IMMEDIATE, &one, sizeof(one));
    /* No transparent reconnect: an event lost with a dropped connection while the next went
     * out on libzmq's new one would arrive out of order and be refused (E_REPLAY) for good
     * (reliability T08). A dead connection is noticed by missing PONGs instead, and a fresh
     * socket resends the whole outbox in order after WELCOME. */
    int no_reconnect = -1;
    zmq_setsockopt(self->dealer, ZMQ_RECONNECT_IVL, &no_reconnect, sizeof(no_reconnect));
    zmq_setsockopt(self->dealer, ZMQ_HEARTBEAT_IVL, &hb, sizeof(hb));
    zmq_setsockopt(self->dealer, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof(hbt));
    zmq_setsockopt(self->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    zmq_setsockopt(self->dealer, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_connect(self->dealer, self->broker_ep) != 0) {
        snprintf(why, whylen, "cannot connect to %s: %s", self->broker_ep,
                 zmq_strerror(zmq_errno()));
        return TACNET_EIO;
    }
    self->welcomed = 0;
    self->in_flight = 0;
    self->last_pong_ms = clock_mono_ms();
    s_hello(self);
    return 0;
}

/* A DELIVER verified and opened before the transaction (crypto outside the writer's lock). */
typedef struct agency_prepared {
    uint64_t seq;
    wire_msg_t msg;
    Tacnet__Header *h;
    const Tacnet__NodeKey *key; /* the sender's, in self->roster */
    uint8_t *body;
    size_t blen;
    int code;           /* 0 apply; else quarantine with this code */
    Tacnet__Deliver *d; /* its F2: a grant (history on joining) and the case seq */
    uint8_t *k;         /* 32 bytes of self->batch_keys: the content key, kept for granting */
    int has_k;
    int done; /* a done grant: nothing to open or apply */
    uint8_t digest[SEAL_DIGEST_LEN];
    int has_digest; /* DIGEST came with the signature check (verifier_job_t) */
    /* The case's identity register, read once for the batch's events of that case (owned by
     * s_prepare_batch; NULL: the event reads its own) */
    const policy_register_t *reg;
} prepared_t;

typedef struct {
    agency_t *self;
    prepared_t *items;
    size_t n;
} apply_arg_t;

/* A verified, opened event into the view (as history when it came with a grant), then what
 * history on joining does with it (history.h). */
static int s_apply_one(agency_t *self, MDB_txn *txn, const prepared_t *p)
{
    const Tacnet__Grant *g = p->d ? p->d->grant : NULL;
    uint8_t kept[GRANT_KEPT_BYTES];
    size_t kept_len = 0;
    agency_history_kept(p->h, p->has_k ? p->k : NULL, p->digest, kept, &kept_len);
    const uint8_t *kp = kept_len ? kept : NULL;
    int rc;
    if (g)
        rc = agency_view_apply_history(self, txn, p->d->has_case_seq ? p->d->case_seq : p->seq,
                                       (uint32_t)g->granter, p->h, p->msg.header, p->msg.header_len,
                                       p->body, p->blen, kp, kept_len);
    else
        rc = agency_view_apply_kept(self, txn, p->seq, p->h, p->msg.header, p->msg.header_len,
                                    p->body, p->blen, kp, kept_len);
    sodium_memzero(kept, sizeof(kept));
    if (rc != 0)
        return rc;
    return agency_history_after_apply(self, txn, p->h, p->seq, p->digest, g != NULL);
}

static int s_apply_batch(MDB_txn *txn, void *arg)
{
    apply_arg_t *a = arg;
    agency_t *self = a->self;
    uint64_t last = 0;
    agency_view_batch_begin(self, txn); /* afresh on every run of this function */
    int rc = agency_meta_get(self, txn, "last_applied", &last);
    for (size_t i = 0; rc == 0 && i < a->n; i++) {
        prepared_t *p = &a->items[i];
        if (p->seq <= last)
            continue;
        /* A header that did not even decode (a relay's forgery) is quarantined too: there is
         * no msg_id or sender to name then. */
        char hex[33] = "-";
        if (p->h)
            wire_msgid_hex(p->h->msg_id.data, 16, hex);
        if (p->code == 0 && p->h->kind == TACNET__EVENT_KIND__DELIVERY_REPORT &&
            p->h->sender == TACNET__AGENCY__BROKER) {
            /* Which recipients applied this agency's events: kept with their outcome, not in a
             * case's timeline. */
            rc = agency_outcome_delivered(self, txn, p->body, p->blen);
        } else if (p->code == 0 && p->done) {
            rc = agency_history_done(self, txn, p->h, (uint32_t)p->d->grant->granter);
        } else if (p->code == 0) {
            rc = s_apply_one(self, txn, p);
        } else {
            /* Quarantined: keep the clear header and the reason, never the body. */
            uint8_t key[8];
            store_u64_put(key, p->seq);
            uint8_t *q = xmalloc(4 + p->msg.header_len);
            uint32_t c = (uint32_t)p->code;
            q[0] = (uint8_t)(c >> 24), q[1] = (uint8_t)(c >> 16), q[2] = (uint8_t)(c >> 8);
            q[3] = (uint8_t)c;
            memcpy(q + 4, p->msg.header, p->msg.header_len);
            rc = store_put(txn, self->quarantine, key, 8, q, 4 + p->msg.header_len, 0);
            free(q);
            if (rc == 0)
                rc = agency_audit(self, txn, p->h ? names_agency(p->h->sender) : "unknown",
                                  "deliver.quarantine", hex, "quarantined", p->code);
        }
        last = p->seq;
    }
    rc = agency_view_batch_end(self, txn, rc); /* the batch's case records and local_seq */
    if (rc == 0)
        rc = agency_meta_put(self, txn, "last_applied", last);
    if (rc == 0)
        rc = s_accepted_prune(self, txn, last);
    FAULT_POINT("agency.before_apply_commit");
    return rc;
}

/* Before the signature check: unpack the header and find the sender's key for this event. */
static void s_prepare_header(agency_t *self, prepared_t *p)
{
    int err = 0;
    p->h = wire_header_unpack(p->msg.header, p->msg.header_len, &err);
    if (!p->h) {
        p->code = err;
        return;
    }
    /* The key as it stood when the event was made (the broker checked it at receipt): a
     * rotated-out key still verifies what it signed in its window, and a revoked one refuses
     * whatever is dated after the revocation. */
    p->key =
        roster_key_find(self->roster, p->h->sender, p->h->sender_key_id, p->h->created_at_ms, &err);
    if (!p->key)
        p->code = TACNET_EKEYID;
}

/* After the signature verified: open, and check the body as its sender should have. */
static void s_prepare_body(agency_t *self, prepared_t *p)
{
    int err = 0;
    Tacnet__Body *b = NULL;
    if (!p->has_digest)
        seal_digest(p->msg.sealed, p->msg.sealed_len, p->digest);
    if (p->d && p->d->grant) {
        /* History on joining: the sender's signature verified over its original frames; the
         * granter's signature over the grant is checked here, then its key opens the body. */
        err = agency_history_open(self, p->d->grant, p->h, p->msg.header, p->msg.header_len,
                                  p->msg.sealed, p->msg.sealed_len, &p->body, &p->blen, p->k,
                                  &p->done);
        p->has_k = err == 0 && !p->done;
        if (err != 0 || p->done) {
            p->code = err;
            return;
        }
    } else {
        /* The content key is kept so that this agency can grant the event to a member joining
         * later (a broker notice is never granted). */
        int keep = p->h->sender != TACNET__AGENCY__BROKER;
        if ((err = seal_open_keep(self->seal, p->key->seal_pk.data, p->msg.header,
                                  p->msg.header_len, p->msg.sealed, p->msg.sealed_len, &p->body,
                                  &p->blen, keep ? p->k : NULL)) != 0) {
            p->code = err;
            return;
        }
        p->has_k = keep;
    }
    b = tacnet__body__unpack(NULL, p->blen, p->body);
    if (!b) {
        p->code = TACNET_EBADMSG;
        return;
    }
    if ((err = seal_body_matches(p->h, b)) != 0 || (err = kinds_body_matches(p->h->kind, b)) != 0) {
        p->code = err;
    } else if (p->h->sender != TACNET__AGENCY__BROKER) {
        /* Check again what the sender should have checked: a violator is not applied. */
        Tacnet__ApiReply scratch = TACNET__API_REPLY__INIT;
        policy_register_t *own =
            p->reg ? NULL : agency_identity_register(self, p->h->case_ref.data, p->h->case_ref.len);
        p->code = agency_publish_text_check(self, p->reg ? p->reg : own, &b->base, &scratch);
        policy_register_destroy(&own);
        agency_reply_free(&scratch);
        /* A name in a body's initials field is quarantined like a name in its text. */
        char field[192];
        if (p->code == 0)
            p->code = initials_body_check(&b->base, field, sizeof(field));
    }
    tacnet__body__free_unpacked(b, NULL);
}

typedef struct {
    agency_t *self;
    prepared_t *items;
    int open_too; /* every sender's pairwise key is cached: seal_open only reads the ctx */
} prepare_arg_t;

/* One item, on a verifier thread or the loop's: everything it touches is the item's own or
 * read-only while the batch is prepared (roster, policy, keys; the view through a read txn of
 * its own). */
static void s_prepare_one(void *argp, size_t i)
{
    prepare_arg_t *a = argp;
    prepared_t *p = &a->items[i];
    if (p->code)
        return;
    if (a->open_too)
        s_prepare_body(a->self, p);
}

/* The senders' signatures of the batch, before anything is opened: on the verifier's threads,
 * each signing batch's root once (verifier_run). A done grant delivers nothing of the join it
 * answers (which this agency applied already, and whose body the broker may have removed
 * since): its own signature, checked when it is opened, is what counts. */
static void s_verify_batch(agency_t *self, prepared_t *items, size_t n)
{
    verifier_job_t *jobs = xcalloc(n ? n : 1, sizeof(*jobs));
    size_t *at = xcalloc(n ? n : 1, sizeof(*at)), nj = 0;
    for (size_t i = 0; i < n; i++) {
        prepared_t *p = &items[i];
        int done = p->d && p->d->grant && p->d->grant->has_done && p->d->grant->done;
        if (p->code || done)
            continue;
        jobs[nj] = verifier_job_of(p->key->sign_pk.data, &p->msg);
        at[nj++] = i;
    }
    verifier_run(self->verifier, jobs, nj);
    for (size_t j = 0; j < nj; j++) {
        if (jobs[j].result != 0) {
            items[at[j]].code = TACNET_ESIGNATURE;
            continue;
        }
        memcpy(items[at[j]].digest, jobs[j].digest, SEAL_DIGEST_LEN);
        items[at[j]].has_digest = 1;
    }
    free(jobs);
    free(at);
}

/* Verify and open every item of the batch, on the verifier's threads as well as this one: the
 * signature check and the text check are most of a DELIVER's cost, and catch-up would
 * otherwise use one core. Recipients verify before opening (docs/ARCHITECTURE.md). */
static void s_prepare_batch(agency_t *self, prepared_t *items, size_t n)
{
    const uint8_t *warm[SEAL_CTX_WARM_MAX];
    size_t n_warm = 0;
    int open_too = 1;
    for (size_t i = 0; i < n; i++) {
        prepared_t *p = &items[i];
        s_prepare_header(self, p);
        if (p->code)
            continue;
        /* A granted event is opened with the granter's pairwise key, not the sender's. */
        const uint8_t *pk = p->d && p->d->grant ? agency_history_granter_pk(self, p->d->grant)
                                                : p->key->seal_pk.data;
        if (!pk)
            continue; /* agency_history_open refuses it */
        size_t w = 0;
        while (w < n_warm && memcmp(warm[w], pk, SEAL_KEY_BYTES) != 0)
            w++;
        if (w < n_warm)
            continue;
        if (n_warm == SEAL_CTX_WARM_MAX || seal_ctx_warm(self->seal, pk) != 0)
            open_too = 0; /* rare (a sender with a bad key): open on this thread below */
        else
            warm[n_warm++] = pk;
    }
    s_verify_batch(self, items, n);
    /* Each case's identity register once for the batch (its events' text checks only read it),
     * not once per event: read here, before the batch is applied, as each event read it. */
    policy_register_t *regs[AGENCY_BATCH_REGISTERS];
    const Tacnet__Header *reg_of[AGENCY_BATCH_REGISTERS];
    size_t n_regs = 0;
    for (size_t i = 0; i < n; i++) {
        prepared_t *p = &items[i];
        if (p->code || p->h->sender == TACNET__AGENCY__BROKER)
            continue;
        const ProtobufCBinaryData *ref = &p->h->case_ref;
        size_t r = 0;
        while (r < n_regs && !(reg_of[r]->case_ref.len == ref->len &&
                               memcmp(reg_of[r]->case_ref.data, ref->data, ref->len) == 0))
            r++;
        if (r == n_regs && n_regs < AGENCY_BATCH_REGISTERS) {
            regs[n_regs] = agency_identity_register(self, ref->data, ref->len);
            reg_of[n_regs++] = p->h;
        }
        p->reg = r < n_regs ? regs[r] : NULL;
    }
    prepare_arg_t a = { self, items, open_too };
    verifier_for(self->verifier, n, s_prepare_one, &a);
    if (!open_too)
        for (size_t i = 0; i < n; i++)
            if (!items[i].code)
                s_prepare_body(self, &items[i]);
    for (size_t i = 0; i < n; i++)
        items[i].reg = NULL;
    for (size_t r = 0; r < n_regs; r++)
        policy_register_destroy(&regs[r]);
}

static void s_prepared_clear(prepared_t *p)
{
    if (p->h)
        wire_free(&p->h->base);
    if (p->d)
        wire_free(&p->d->base);
    if (p->k)
        sodium_memzero(p->k, SEAL_KEY_BYTES);
    if (p->body) {
        sodium_memzero(p->body, p->blen);
        free(p->body);
    }
    wire_msg_clear(&p->msg);
    memset(p, 0, sizeof(*p));
}

/* Verify, open and apply a DELIVER batch in one transaction. Returns 0 or the store's code. */
static int s_apply(agency_t *self, prepared_t *items, size_t n)
{
    /* The secret keys unlocked once for the batch, not per event and per record (a hold
     * refused here is only a lost saving: each use unlocks for itself and reports it). */
    bool seal_held = seal_ctx_hold(self->seal) == 0;
    bool vault_held = agency_vault_hold(self->vault) == 0;
    s_prepare_batch(self, items, n);
    apply_arg_t a = { self, items, n };
    int rc = store_write(self->store, s_apply_batch, &a);
    if (vault_held)
        agency_vault_release(self->vault);
    if (seal_held)
        seal_ctx_release(self->seal);
    return rc;
}

typedef struct {
    agency_t *self;
    uint64_t broker_last, was;
} renumber_t;

static int s_renumber(MDB_txn *txn, void *arg)
{
    renumber_t *r = arg;
    int rc = agency_meta_get(r->self, txn, "sender_seq", &r->was);
    if (rc == TACNET_ENOTFOUND)
        r->was = 0, rc = 0;
    if (rc != 0 || r->was >= r->broker_last)
        return rc;
    char object[64];
    snprintf(object, sizeof(object), "sender_seq %llu -> %llu", (unsigned long long)r->was,
             (unsigned long long)r->broker_last);
    if ((rc = agency_meta_put(r->self, txn, "sender_seq", r->broker_last)) == 0)
        rc = agency_audit(r->self, txn, "agency", "restore.renumber", object, "ok", 0);
    return rc;
}

/* A view restored from a backup has forgotten the events it published after the backup, which
 * the broker accepted: numbered from its own count, its next events would reuse their numbers
 * and be refused E_REPLAY, raising the alarm that someone else holds the key. Once, at the
 * first WELCOME after `tacnet restore` (which leaves the mark), it numbers on from the
 * broker's last instead; without the mark a broker ahead of the view still raises the alarm. */
static void s_restored_renumber(agency_t *self, const Tacnet__Welcome *w)
{
    if (!self->restored)
        return;
    renumber_t r = { .self = self, .broker_last = w->has_last_sender_seq ? w->last_sender_seq : 0 };
    if (store_write(self->store, s_renumber, &r) != 0) {
        log_warn("restored view: could not renumber from the broker's last sender_seq; will "
                 "try at the next WELCOME");
        return;
    }
    if (r.broker_last > r.was)
        log_warn("restored view: the broker accepted this agency's events up to %llu, the "
                 "backup up to %llu; new events are numbered on from %llu",
                 (unsigned long long)r.broker_last, (unsigned long long)r.was,
                 (unsigned long long)r.broker_last + 1);
    char mark[4200];
    snprintf(mark, sizeof(mark), "%s/%s", self->data_dir, STORE_RESTORED_MARK);
    unlink(mark);
    self->restored = 0;
}

/* WELCOME: the session (re)starts; everything unacknowledged is sent again, in order. */
static void s_on_welcome(agency_t *self, const wire_msg_t *m)
{
    int err = 0;
    Tacnet__Welcome *w = (Tacnet__Welcome *)wire_ctl_unpack(WIRE_WELCOME, m->ctl, m->ctl_len, &err);
    if (!w)
        return;
    if (self->epoch && self->epoch != w->epoch)
        log_info("broker restarted (new epoch): resending the outbox");
    self->epoch = w->epoch;
    s_restored_renumber(self, w);
    self->welcomed = 1;
    self->send_cursor = 0;
    self->in_flight = 0;
    wire_free(&w->base);
    agency_history_pump(self);
}

/* Tests only (fault.h, TACNET_FAULT_SKIP): the DELIVER of one of this agency's own events taken
 * as lost in transit, which holds open the window in which the broker has accepted an event
 * that the view does not hold yet. The gap it leaves is healed as any lost DELIVER is. */
static int s_skip_own_deliver(const agency_t *self, const wire_msg_t *m)
{
#ifdef TACNET_NO_FAULT
    (void)self, (void)m;
    return 0;
#else
    if (fault_skip_armed < 0)
        (void)fault_skip(""); /* reads the environment once */
    if (fault_skip_armed == 0)
        return 0;
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(m->header, m->header_len, &err);
    int own = h && (uint32_t)h->sender == self->profile->agency;
    if (h)
        wire_free(&h->base);
    return own && FAULT_SKIP("agency.skip_own_deliver");
#endif
}

/* Where a turn of s_on_dealer stands with the DELIVERs it has read. */
typedef struct turn {
    size_t n;             /* items taken into the batch */
    uint64_t expect_prev; /* the seq the next DELIVER must follow */
    int gap, delivered;
} turn_t;

/* One DELIVER M, read alone or out of a DELIVERS: taken into the batch (M is then empty) when it
 * follows the last one, else noted as a redelivery or a gap. */
static void s_take_deliver(agency_t *self, turn_t *t, wire_msg_t *m)
{
    int err = 0;
    Tacnet__Deliver *d = (Tacnet__Deliver *)wire_ctl_unpack(WIRE_DELIVER, m->ctl, m->ctl_len, &err);
    if (!d)
        return;
    if (s_skip_own_deliver(self, m)) {
        wire_free(&d->base);
        return;
    }
    t->delivered = 1;
    if (d->seq <= t->expect_prev) {
        /* Already applied: acknowledged below, not applied twice. */
    } else if (t->gap || d->prev_seq != t->expect_prev) {
        t->gap = 1;
    } else {
        prepared_t *item = &self->deliver_items[t->n];
        item->seq = d->seq;
        item->msg = *m;
        item->d = d;
        item->k = self->batch_keys + t->n * SEAL_KEY_BYTES;
        d = NULL;
        memset(m, 0, sizeof(*m));
        t->expect_prev = item->seq;
        t->n++;
    }
    if (d)
        wire_free(&d->base);
}

static void s_on_dealer(agency_t *self)
{
    prepared_t *items = self->deliver_items; /* all zero between turns (s_prepared_clear) */
    pubacks_t *acks = xcalloc(1, sizeof(*acks));
    acks->self = self;
    turn_t t = { 0, self->last_applied, 0, 0 };
    /* The frames of the DELIVERS read this turn: the items taken out of them point into them
     * until the batch is applied. */
    void *held[AGENCY_BATCH];
    size_t n_held = 0;
    /* Room for a whole DELIVERS before each read. */
    while (t.n + WIRE_BATCH_MAX <= AGENCY_BATCH && n_held < AGENCY_BATCH) {
        wire_msg_t m;
        memset(&m, 0, sizeof(m));
        int rc = wire_recv(self->dealer, 0, ZMQ_DONTWAIT, &m);
        if (rc == TACNET_EAGAIN || rc == TACNET_EINTR || rc == TACNET_EIO) {
            wire_msg_clear(&m); /* nothing was taken from the socket */
            break;
        }
        if (rc < 0) {
            wire_msg_clear(&m);
            continue;
        }
        int err = 0;
        switch (m.cmd) {
        case WIRE_WELCOME:
            s_pubacks_settle(self, acks); /* before the window starts afresh */
            s_on_welcome(self, &m);
            break;
        case WIRE_DELIVER:
            s_take_deliver(self, &t, &m);
            break;
        case WIRE_DELIVERS: {
            wire_msg_t sub;
            size_t off = 0;
            memset(&sub, 0, sizeof(sub));
            while (wire_batch_next(&m, &off, &sub)) {
                s_take_deliver(self, &t, &sub);
                memset(&sub, 0, sizeof(sub)); /* it holds no frame */
            }
            held[n_held++] = wire_msg_take_frame(&m);
            break;
        }
        case WIRE_PUBACK:
            s_on_puback(self, &m, acks);
            break;
        case WIRE_PUBACKS: {
            wire_msg_t sub;
            size_t off = 0;
            memset(&sub, 0, sizeof(sub));
            while (wire_batch_next(&m, &off, &sub)) {
                s_on_puback(self, &sub, acks); /* unpacks what it keeps */
                memset(&sub, 0, sizeof(sub));
            }
            break;
        }
        case WIRE_GRANTACK:
            agency_history_on_ack(self, &m);
            break;
        case WIRE_NACK:
        case WIRE_ERROR:
            s_pubacks_settle(self, acks); /* in the order the broker answered */
            s_on_nack(self, &m);
            break;
        case WIRE_PONG: {
            Tacnet__Pong *p = (Tacnet__Pong *)wire_ctl_unpack(WIRE_PONG, m.ctl, m.ctl_len, &err);
            self->last_pong_ms = clock_mono_ms();
            if (p && self->epoch && p->epoch != self->epoch) {
                log_info("broker epoch changed: HELLO again");
                self->welcomed = 0;
            }
            if (p)
                wire_free(&p->base);
            break;
        }
        default:
            break;
        }
        wire_msg_clear(&m);
    }
    s_pubacks_settle(self, acks);
    free(acks);
    size_t n = t.n;
    int gap = t.gap;
    if (n > 0) {
        int rc = s_apply(self, items, n);
        if (rc == 0) {
            self->last_applied = items[n - 1].seq;
            FAULT_POINT("agency.before_ack");
            agency_history_pump(self); /* grants a join in this batch queued */
        } else {
            log_error("could not apply %zu events: %s; they will be redelivered", n,
                      tacnet_errname(rc));
            gap = 1;
        }
        for (size_t i = 0; i < n; i++) {
            if (items[i].code)
                log_warn("quarantined event seq %llu: %s", (unsigned long long)items[i].seq,
                         tacnet_errname(items[i].code));
            s_prepared_clear(&items[i]);
        }
    }
    for (size_t i = 0; i < n_held; i++)
        wire_frame_free(held[i]);
    /* Acknowledge whatever arrived, including redeliveries of what was already applied, so
     * the broker's window moves on. */
    if (t.delivered) {
        Tacnet__Ack ack = TACNET__ACK__INIT;
        ack.upto_seq = self->last_applied;
        wire_send(self->dealer, NULL, 0, WIRE_ACK, &ack.base, NULL, 0, NULL, 0, NULL);
    }
    if (gap || !self->welcomed) {
        if (gap)
            log_info("gap after seq %llu: HELLO again", (unsigned long long)self->last_applied);
        if (gap || clock_mono_ms() - self->hello_sent_ms > AGENCY_PING_MS)
            s_hello(self);
    }
    agency_outbox_pump(self);
}

static int s_read_endpoint(agency_t *self);

static void s_tick(agency_t *self)
{
    agency_outcome_tick(self);
    uint64_t now = clock_mono_ms();
    if (self->quota_until_ms && now >= self->quota_until_ms) {
        self->quota_until_ms = 0;
        agency_outbox_pump(self);
    } else if (self->pump_retry) {
        agency_outbox_pump(self); /* the last turn could not be signed */
    }
    if (now < self->next_ping_ms)
        return;
    /* Ping at least every heartbeat: the broker marks a session down after three silent
     * heartbeats, so a slower ping would make a live daemon look partitioned. */
    uint64_t every = self->cfg.heartbeat_ms && self->cfg.heartbeat_ms < AGENCY_PING_MS
                         ? self->cfg.heartbeat_ms
                         : AGENCY_PING_MS;
    self->next_ping_ms = now + every;
    if (now - self->last_pong_ms > every * AGENCY_LIVENESS) {
        /* No PONG for three intervals: the connection is dead or half-open. Start afresh. */
        /* A broker restarted on another address publishes it in the endpoint file: read it
         * again, or the daemon would knock on the old address for ever. With several brokers
         * listed (an active one and standbys) the silent one may have lost its machine or its
         * lease: try the next, round robin. */
        char was[sizeof(self->broker_ep)];
        snprintf(was, sizeof(was), "%s", self->broker_ep);
        self->broker_ix++;
        if (s_read_endpoint(self) != 0) {
            log_warn("broker endpoint file unreadable: keeping %s", was);
            snprintf(self->broker_ep, sizeof(self->broker_ep), "%s", was);
        }
        if (strcmp(was, self->broker_ep) != 0)
            log_warn("broker %s silent: switching to %s", was, self->broker_ep);
        else
            log_info("broker silent: reconnecting");
        char why[256];
        if (s_connect(self, why, sizeof(why)) != 0)
            log_error("reconnect to the broker failed: %s", why);
        return;
    }
    if (!self->welcomed) {
        s_hello(self);
        return;
    }
    Tacnet__Ping ping = TACNET__PING__INIT;
    ping.has_epoch = 1;
    ping.epoch = self->epoch;
    wire_send(self->dealer, NULL, 0, WIRE_PING, &ping.base, NULL, 0, NULL, 0, NULL);
    agency_history_pump(self); /* grants the broker has not yet answered */
}

/* ------------------------------------------------------------------ lifecycle */

static int s_read_endpoint(agency_t *self)
{
    char list[4096];
    if (self->cfg.broker && *self->cfg.broker) {
        snprintf(list, sizeof(list), "%s", self->cfg.broker);
    } else {
        FILE *f = self->cfg.broker_file ? fopen(self->cfg.broker_file, "r") : NULL;
        if (!f)
            return TACNET_ENOTFOUND;
        size_t n = fread(list, 1, sizeof(list) - 1, f);
        fclose(f);
        list[n] = 0;
    }
    int n = agency_endpoints_pick(list, self->broker_ix, self->broker_ep, sizeof(self->broker_ep));
    return n > 0 ? 0 : n;
}

/* Load our key set, lock its secrets away between uses, and set up sealing and the keys at rest.
 * Returns 0 or a code with WHY. */
static int s_keys_open(agency_t *self, const char *path, char *why, size_t whylen)
{
    int rc = seal_keys_load(path, &self->keys, why, whylen);
    if (rc != 0)
        return rc;
    if (self->keys->agency != self->profile->agency) {
        snprintf(why, whylen, "%s: key set belongs to %s, not %s", path,
                 names_agency(self->keys->agency), self->profile->name);
        return TACNET_ECONFIG;
    }
    /* Between uses the secret keys stay unreadable (PROT_NONE): a stray read or an overread
     * meets a guard instead of a key. */
    if ((rc = seal_keys_protect(self->keys)) != 0) {
        snprintf(why, whylen, "%s: cannot lock the secret keys in memory (mprotect)", path);
        return rc;
    }
    if (!(self->seal = seal_ctx_new(self->keys))) {
        snprintf(why, whylen, "%s: cannot set up sealing (no sealing secret, or out of memory)",
                 path);
        return TACNET_ENOMEM;
    }
    if ((rc = agency_vault_new(self->keys, &self->vault)) != 0)
        snprintf(why, whylen, "%s: cannot derive the keys at rest: %s", path, tacnet_strerror(rc));
    return rc;
}

agency_t *agency_new(const agency_config_t *cfg, int *err, char *why, size_t whylen)
{
    agency_t *self = xcalloc(1, sizeof(*self));
    self->cfg = *cfg;
    self->profile = cfg->profile;
    self->send_window = self->cfg.window;
    snprintf(self->data_dir, sizeof(self->data_dir), "%s", cfg->data_dir);
    char mark[4200];
    snprintf(mark, sizeof(mark), "%s/%s", self->data_dir, STORE_RESTORED_MARK);
    self->restored = access(mark, F_OK) == 0;
    if ((*err = seal_init()) != 0) {
        snprintf(why, whylen, "libsodium failed to initialise");
        goto fail;
    }
    if ((*err = roster_root_load(cfg->root_pub_path, self->root_pk)) != 0) {
        snprintf(why, whylen, "%s: cannot read the pinned root key: %s", cfg->root_pub_path,
                 tacnet_strerror(*err));
        goto fail;
    }
    self->roster = roster_load(cfg->roster_path, self->root_pk, err);
    if (!self->roster) {
        snprintf(why, whylen, "%s: %s", cfg->roster_path, tacnet_strerror(*err));
        goto fail;
    }
    if ((*err = s_keys_open(self, cfg->key_path, why, whylen)) != 0)
        goto fail;
    if (!(self->batch_keys = sodium_malloc(AGENCY_BATCH * SEAL_KEY_BYTES)) ||
        !(self->kept_keys = sodium_malloc(AGENCY_KEPT_CASE_KEYS * sizeof(*self->kept_keys))) ||
        !(self->batch_cases = sodium_malloc(AGENCY_KEPT_CASE_KEYS * sizeof(*self->batch_cases)))) {
        snprintf(why, whylen, "cannot allocate guarded memory for content keys");
        *err = TACNET_ENOMEM;
        goto fail;
    }
    self->deliver_items = xcalloc(AGENCY_BATCH, sizeof(*self->deliver_items));
    if (!(self->verifier = verifier_new(0))) {
        snprintf(why, whylen, "cannot start the signature-check threads");
        *err = TACNET_ENOMEM;
        goto fail;
    }
    self->policy = policy_new(cfg->gazetteer_dir, err);
    if (!self->policy) {
        snprintf(why, whylen, "%s: cannot load the gazetteer: %s", cfg->gazetteer_dir,
                 tacnet_strerror(*err));
        goto fail;
    }
    if (cfg->holidays_path && *cfg->holidays_path) {
        int line = 0;
        if (!(self->holidays = holidays_load(cfg->holidays_path, err, &line))) {
            snprintf(why, whylen, "%s:%d: %s", cfg->holidays_path, line, tacnet_strerror(*err));
            goto fail;
        }
    } else {
        self->holidays = holidays_new();
    }
    if ((*err = agency_retention_clock_init(why, whylen)) != 0)
        goto fail;
    if ((*err = agency_view_open(self, err, why, whylen)) != 0)
        goto fail;
    /* The first sweep a minute after start (sooner with a shorter interval), not at once: a
     * restarted daemon catches up with the broker first. */
    self->next_sweep_ms = clock_mono_ms() + (self->cfg.sweep_interval_ms < AGENCY_SWEEP_FIRST_MS
                                                 ? self->cfg.sweep_interval_ms
                                                 : AGENCY_SWEEP_FIRST_MS);
    if ((*err = agency_users_open(self)) != 0) {
        snprintf(why, whylen, "%s: cannot open the users databases: %s", self->data_dir,
                 tacnet_strerror(*err));
        goto fail;
    }
    if ((*err = agency_import_restore(self)) != 0) {
        snprintf(why, whylen, "%s: cannot read the latest import job: %s", self->data_dir,
                 tacnet_strerror(*err));
        goto fail;
    }
    if ((*err = s_read_endpoint(self)) != 0) {
        snprintf(why, whylen, "no broker endpoint (broker or broker_endpoint_file)");
        goto fail;
    }
    self->ctx = zmq_ctx_new();
    if ((*err = s_connect(self, why, whylen)) != 0)
        goto fail;
    return self;
fail:
    agency_destroy(&self);
    return NULL;
}

int agency_api_listen(agency_t *self, char *why, size_t whylen)
{
    if (self->api)
        return 0;
    char ep[4200];
    snprintf(ep, sizeof(ep), "ipc://%s/api.sock", self->data_dir);
    self->api = zmq_socket(self->ctx, ZMQ_ROUTER);
    if (!self->api) {
        snprintf(why, whylen, "cannot make the API socket: %s", zmq_strerror(zmq_errno()));
        return TACNET_EIO;
    }
    int linger = 0;
    zmq_setsockopt(self->api, ZMQ_LINGER, &linger, sizeof(linger));
    int rc = 0;
    if (zmq_bind(self->api, ep) != 0) {
        snprintf(why, whylen, "cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
        rc = TACNET_EIO;
    } else {
        snprintf(ep, sizeof(ep), "%s/api.sock", self->data_dir);
        /* Owner-only: agency systems run as the daemon's user. A socket left wider would let
         * any local user publish as this agency, so a failed chmod stops the daemon. */
        if (chmod(ep, 0600) != 0) {
            snprintf(why, whylen, "cannot make %s owner-only: %s", ep, strerror(errno));
            rc = TACNET_EPERM;
        }
    }
    if (rc != 0) {
        zmq_close(self->api); /* not half-made: agency_run refuses to run without it */
        self->api = NULL;
        return rc;
    }
    log_info("%s up: broker %s, last applied seq %llu", self->profile->name, self->broker_ep,
             (unsigned long long)self->last_applied);
    return 0;
}

/* SIGHUP: take a new signed roster (a key rotated or revoked, a policy changed). One that does
 * not verify, or is older than the one in use, is refused and the current roster stays. */
static void s_roster_reload(agency_t *self)
{
    agency_reload_flag = 0;
    int err = 0;
    roster_t *r = roster_load(self->cfg.roster_path, self->root_pk, &err);
    if (!r) {
        log_warn("roster reload refused: %s: %s", self->cfg.roster_path, tacnet_strerror(err));
        return;
    }
    if (roster_version(r) < roster_version(self->roster)) {
        log_warn("roster reload refused: version %u is older than %u in use", roster_version(r),
                 roster_version(self->roster));
        roster_destroy(&r);
        return;
    }
    roster_destroy(&self->roster);
    self->roster = r;
    log_info("roster version %u loaded", roster_version(r));
}

/* The poll sources' descriptors join ITEMS after the dealer and the API socket (items 0 and 1),
 * and their timers bound *WAIT_MS. Returns the number of items in the set. */
static int s_poll_items(agency_t *self, zmq_pollitem_t *items, long *wait_ms)
{
    int n = 2;
    for (size_t i = 0; i < self->n_poll; i++) {
        const agency_poll_source_t *p = &self->poll[i];
        if (p->fd >= 0)
            items[n++] = (zmq_pollitem_t){ NULL, p->fd, ZMQ_POLLIN, 0 };
        if (p->timeout)
            *wait_ms = p->timeout(p->arg, *wait_ms);
    }
    return n;
}

int agency_run(agency_t *self)
{
    if (!self->api)
        return TACNET_EINVAL; /* agency_api_listen first: the loop polls the API */
    while (!agency_stop_flag) {
        if (agency_reload_flag)
            s_roster_reload(self);
        zmq_pollitem_t items[2 + AGENCY_POLL_SOURCES] = {
            { self->dealer, 0, ZMQ_POLLIN, 0 },
            { self->api, 0, ZMQ_POLLIN, 0 },
        };
        long wait_ms = agency_import_step(self, 200); /* 0 while an import has work */
        int n_items = s_poll_items(self, items, &wait_ms);
        wait_ms = agency_api_follow_timeout(self, wait_ms);
        int rc = zmq_poll(items, n_items, wait_ms);
        if (rc < 0) {
            if (zmq_errno() == EINTR)
                continue;
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            return TACNET_EIO;
        }
        /* The broker's messages first, so that a request sees the broker's latest answers. A
         * PUBACK takes an event out of the outbox and the DELIVER of it back puts it in the
         * view; in between, the publish path finds it in the view's accepted database
         * (outbox.h), so a client that publishes on a case it has just opened finds the case
         * whichever comes first. */
        if (items[0].revents & ZMQ_POLLIN)
            s_on_dealer(self);
        if (items[1].revents & ZMQ_POLLIN) {
            /* A request reads or writes several records: one unlock of the keys at rest. */
            bool held = agency_vault_hold(self->vault) == 0;
            agency_api_handle(self);
            if (held)
                agency_vault_release(self->vault);
        }
        if (!self->store) {
            /* A retention run replaced the file and could not open it again. */
            log_error("the view could not be reopened after compaction: stopping");
            return TACNET_ESTORE;
        }
        for (size_t i = 0; i < self->n_poll; i++)
            self->poll[i].run(self->poll[i].arg);
        s_tick(self);
        /* After the turn's commits: follow requests waiting for them, or for their deadline. */
        agency_api_follow_pump(self);
        /* The sweep walks every case in one go: it waits until a running import is done. */
        if (!agency_import_running(self) && (rc = agency_retention_tick(self)) != 0)
            return rc;
    }
    store_commit_stats_t cs;
    store_commit_stats(self->store, &cs);
    log_info("%s stopped cleanly at seq %llu; %llu commits, p50 %.2f ms, p99 %.2f ms",
             self->profile->name, (unsigned long long)self->last_applied,
             (unsigned long long)cs.commits, cs.p50_us / 1000.0, cs.p99_us / 1000.0);
    uint64_t roots = 0, hits = 0;
    merkle_cache_stats(verifier_cache(self->verifier), &roots, &hits);
    log_info("batched signatures: %llu roots verified, %llu events found their root verified",
             (unsigned long long)roots, (unsigned long long)hits);
    return 0;
}

void agency_destroy(agency_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    agency_t *self = *self_p;
    agency_outcome_drop_all(self);
    agency_api_follow_drop(self);
    agency_import_destroy(self);
    if (self->dealer)
        zmq_close(self->dealer);
    if (self->api)
        zmq_close(self->api);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    agency_view_close(self);
    policy_destroy(&self->policy);
    holidays_destroy(&self->holidays);
    verifier_destroy(&self->verifier);
    agency_vault_destroy(&self->vault);
    seal_ctx_destroy(&self->seal);
    seal_keys_destroy(&self->keys);
    roster_destroy(&self->roster);
    agency_auth_destroy(self);
    if (self->batch_keys)
        sodium_free(self->batch_keys); /* wiped by sodium_free */
    if (self->kept_keys)
        sodium_free(self->kept_keys);
    if (self->batch_cases)
        sodium_free(self->batch_cases);
    free(self->deliver_items);
    free(self);
    *self_p = NULL;
}

/* ------------------------------------------------------------------ front ends */

int agency_poll_add(agency_t *self, const agency_poll_source_t *src)
{
    if (!src || !src->run)
        return TACNET_EINVAL;
    if (self->n_poll == AGENCY_POLL_SOURCES)
        return TACNET_ETOOBIG;
    self->poll[self->n_poll++] = *src;
    return 0;
}

void agency_poll_remove(agency_t *self, const void *arg)
{
    size_t keep = 0;
    for (size_t i = 0; self && i < self->n_poll; i++)
        if (self->poll[i].arg != arg)
            self->poll[keep++] = self->poll[i];
    if (self)
        self->n_poll = keep;
}

const agency_profile_t *agency_profile(const agency_t *self)
{
    return self->profile;
}

uint64_t agency_last_applied(const agency_t *self)
{
    return self->last_applied;
}

typedef struct {
    agency_t *self;
    const char *actor, *action, *object;
    int code;
} audit_record_t;

static int s_audit_record(MDB_txn *txn, void *arg)
{
    audit_record_t *a = arg;
    return agency_audit(a->self, txn, a->actor, a->action, a->object, a->code ? "refused" : "ok",
                        a->code);
}

int agency_audit_record(agency_t *self, const char *actor, const char *action, const char *object,
                        int code)
{
    audit_record_t a = { self, actor, action, object, code };
    return store_write(self->store, s_audit_record, &a);
}
