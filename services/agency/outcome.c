/* outcome: where this agency's own publishes stand, and the waiters (see outcome.h). */
#include "agency/outcome.h"
#include "internal.h"
#include "agency/outbox.h"
#include "agency/reply.h"
#include "clock.h"
#include "bytes.h"
#include "err.h"
#include "names.h"
#include "wire.h"

#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* An outbox listing stops here; the rest are counted, not shown. */
#define OUTCOME_OUTBOX_MAX 1000

struct agency_waiter {
    uint8_t msg_id[16];
    uint64_t deadline_ms; /* monotonic */
    agency_outcome_fn fn;
    void *arg;
};

static int s_withdrawn(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16], uint64_t *at_ms,
                       uint8_t by[16]);

/* ------------------------------------------------------------------ recording */

/* The recipients that have applied MSG_ID so far (0: none, or no report yet). */
static int s_applied_mask(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16], uint32_t *mask)
{
    MDB_val v;
    *mask = 0;
    int rc = store_get(txn, self->delivered, msg_id, 16, &v);
    if (rc == TACNET_ENOTFOUND)
        return 0;
    if (rc == 0 && v.mv_size == 4) /* any other size: as if no report had come */
        *mask = bytes_be32_get(v.mv_data);
    return rc;
}

/* MSG_ID's delivery report now says APPLIED: once every recipient but this agency has applied
 * it, it is no longer watched. */
static int s_unapplied_update(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16],
                              uint32_t applied)
{
    MDB_val v;
    agency_outbox_settled_t s;
    int rc = store_get(txn, self->settled, msg_id, 16, &v);
    if (rc == TACNET_ENOTFOUND)
        return 0; /* not settled here yet: the settle looks at the report */
    if (rc != 0 || (rc = agency_outbox_settled_decode(v.mv_data, v.mv_size, &s)) != 0)
        return rc;
    uint32_t others = s.recipients & ~(1u << self->profile->agency);
    if (s.state != TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED || (others & ~applied) != 0)
        return 0;
    uint8_t uk[AGENCY_OUTBOX_UNAPPLIED_KEY_BYTES];
    agency_outbox_unapplied_key(uk, s.settled_ms, msg_id);
    rc = store_del(txn, self->unapplied, uk, sizeof(uk));
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

int agency_outcome_settle(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16],
                          uint64_t sender_seq, uint64_t seq, int code)
{
    agency_outbox_settled_t s = { .state = code ? TACNET__PUBLISH_STATE__PUBLISH_REFUSED
                                                : TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED,
                                  .seq = code ? 0 : seq,
                                  .settled_ms = clock_now_ms() };
    uint8_t key[8];
    store_u64_put(key, sender_seq);
    MDB_val v;
    int rc = store_get(txn, self->outbox, key, 8, &v);
    agency_outbox_record_t rec;
    if (rc == 0 && agency_outbox_decode(v.mv_data, v.mv_size, &rec) == 0) {
        int err = 0;
        Tacnet__Header *h = wire_header_unpack(rec.header, rec.hlen, &err);
        if (h) {
            s.recipients = route_recipient_mask(h);
            s.kind = (uint32_t)h->kind;
            wire_free(&h->base);
        }
        if (code != 0) {
            /* Kept so that it can be corrected and sent again (agency_outcome_draft). Copied
             * first: the value points into a page this transaction may rewrite. */
            uint8_t *copy = xmalloc(v.mv_size);
            memcpy(copy, v.mv_data, v.mv_size);
            rc = store_put(txn, self->dead_body, msg_id, 16, copy, v.mv_size, 0);
            free(copy);
            if (rc != 0)
                return rc;
        }
    } else if (rc != 0 && rc != TACNET_ENOTFOUND) {
        return rc;
    }
    uint8_t val[AGENCY_OUTBOX_SETTLED_BYTES];
    agency_outbox_settled_encode(val, &s);
    if ((rc = store_put(txn, self->settled, msg_id, 16, val, sizeof(val), 0)) != 0)
        return rc;
    uint32_t others = s.recipients & ~(1u << self->profile->agency);
    if (code != 0 || !others)
        return 0;
    /* Watched until every other recipient has applied it (a delivery report may already have
     * said so). */
    uint32_t applied = 0;
    if ((rc = s_applied_mask(self, txn, msg_id, &applied)) != 0)
        return rc;
    if ((others & ~applied) == 0)
        return 0;
    uint8_t uk[AGENCY_OUTBOX_UNAPPLIED_KEY_BYTES];
    agency_outbox_unapplied_key(uk, s.settled_ms, msg_id);
    return store_put(txn, self->unapplied, uk, sizeof(uk), "", 0, 0);
}

int agency_outcome_sequence_alert_add(agency_t *self, MDB_txn *txn, uint64_t sender_seq, int code)
{
    uint64_t n = 0;
    int rc = agency_meta_get(self, txn, "alert_seq_refusals", &n);
    if (rc != 0 && rc != TACNET_ENOTFOUND)
        return rc;
    if ((rc = agency_meta_put(self, txn, "alert_seq_refusals", n + 1)) == 0)
        rc = agency_meta_put(self, txn, "alert_seq_sender_seq", sender_seq);
    if (rc == 0)
        rc = agency_meta_put(self, txn, "alert_seq_code", (uint64_t)-code);
    if (rc == 0)
        rc = agency_meta_put(self, txn, "alert_seq_ms", clock_now_ms());
    return rc;
}

int agency_sequence_alert(agency_t *self, agency_sequence_alert_t *out)
{
    memset(out, 0, sizeof(*out));
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    uint64_t code = 0;
    rc = agency_meta_get(self, txn, "alert_seq_refusals", &out->refusals);
    if (rc == 0)
        rc = agency_meta_get(self, txn, "alert_seq_sender_seq", &out->sender_seq);
    if (rc == 0)
        rc = agency_meta_get(self, txn, "alert_seq_code", &code);
    if (rc == 0)
        rc = agency_meta_get(self, txn, "alert_seq_ms", &out->at_ms);
    mdb_txn_abort(txn);
    out->code = -(int)code;
    if (rc == TACNET_ENOTFOUND) {
        memset(out, 0, sizeof(*out));
        rc = 0;
    }
    return rc;
}

int agency_outcome_delivered(agency_t *self, MDB_txn *txn, const uint8_t *body, size_t len)
{
    int err = 0;
    Tacnet__Body *b = (Tacnet__Body *)wire_unpack(&tacnet__body__descriptor, body, len, 0, 0, &err);
    if (!b || b->event_case != TACNET__BODY__EVENT_DELIVERY_REPORT) {
        if (b)
            wire_free(&b->base);
        return 0; /* not ours to understand: applied as nothing, like an unknown notice */
    }
    int rc = 0;
    const Tacnet__DeliveryReport *dr = b->delivery_report;
    for (size_t i = 0; rc == 0 && i < dr->n_applied; i++) {
        const Tacnet__DeliveryReport__Applied *a = dr->applied[i];
        if (a->msg_id.len != 16 || !a->has_recipient || (uint32_t)a->recipient >= 32)
            continue;
        uint32_t mask = 0;
        if ((rc = s_applied_mask(self, txn, a->msg_id.data, &mask)) != 0)
            break;
        mask |= 1u << a->recipient;
        uint8_t val[4];
        bytes_be32_put(val, mask);
        rc = store_put(txn, self->delivered, a->msg_id.data, 16, val, 4, 0);
        if (rc == 0)
            rc = s_unapplied_update(self, txn, a->msg_id.data, mask);
    }
    wire_free(&b->base);
    return rc;
}

/* Which recipients have applied MSG_ID, into OUT->applied_by. */
static int s_applied_by(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16],
                        Tacnet__EventStatus *out)
{
    MDB_val v;
    int rc = store_get(txn, self->delivered, msg_id, 16, &v);
    if (rc == TACNET_ENOTFOUND)
        return 0;
    if (rc != 0 || v.mv_size != 4)
        return rc ? rc : TACNET_ECORRUPT;
    uint32_t mask = bytes_be32_get(v.mv_data);
    out->applied_by = xcalloc(32, sizeof(*out->applied_by));
    for (uint32_t a = 1; a < 32; a++)
        if (mask & (1u << a))
            out->applied_by[out->n_applied_by++] = (Tacnet__Agency)a;
    return 0;
}

/* ------------------------------------------------------------------ status */

/* A refused event whose content is kept: its case and when it was written, from its header. */
static void s_refused_header(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16],
                             Tacnet__EventStatus *out)
{
    MDB_val v;
    agency_outbox_record_t rec;
    if (store_get(txn, self->dead_body, msg_id, 16, &v) != 0 ||
        agency_outbox_decode(v.mv_data, v.mv_size, &rec) != 0)
        return;
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(rec.header, rec.hlen, &err);
    if (!h)
        return;
    out->has_case_ref = out->has_created_at_ms = 1;
    out->case_ref.data = xmalloc(h->case_ref.len + 1);
    memcpy(out->case_ref.data, h->case_ref.data, h->case_ref.len);
    out->case_ref.len = h->case_ref.len;
    out->created_at_ms = h->created_at_ms;
    if (!out->has_kind) {
        out->has_kind = 1;
        out->kind = h->kind;
    }
    wire_free(&h->base);
}

static void s_recipients(Tacnet__EventStatus *out, uint32_t mask, uint32_t sender)
{
    out->recipients = xcalloc(32, sizeof(*out->recipients));
    for (uint32_t a = 1; a < 32; a++)
        if ((mask & (1u << a)) && a != sender)
            out->recipients[out->n_recipients++] = (Tacnet__Agency)a;
}

/* A queued event: what its clear header says; sent once the cursor has passed it. */
static int s_status_queued(agency_t *self, MDB_txn *txn, uint64_t sender_seq,
                           Tacnet__EventStatus *out)
{
    uint8_t key[8];
    store_u64_put(key, sender_seq);
    MDB_val v;
    agency_outbox_record_t rec;
    int rc = store_get(txn, self->outbox, key, 8, &v);
    if (rc == 0)
        rc = agency_outbox_decode(v.mv_data, v.mv_size, &rec);
    if (rc != 0)
        return rc;
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(rec.header, rec.hlen, &err);
    if (!h)
        return TACNET_ECORRUPT;
    out->state = self->welcomed && sender_seq <= self->send_cursor
                     ? TACNET__PUBLISH_STATE__PUBLISH_SENT
                     : TACNET__PUBLISH_STATE__PUBLISH_QUEUED;
    out->has_kind = 1;
    out->kind = h->kind;
    out->has_case_ref = 1;
    out->case_ref.data = xmalloc(h->case_ref.len + 1);
    memcpy(out->case_ref.data, h->case_ref.data, h->case_ref.len);
    out->case_ref.len = h->case_ref.len;
    out->has_created_at_ms = 1;
    out->created_at_ms = h->created_at_ms;
    s_recipients(out, route_recipient_mask(h), (uint32_t)h->sender);
    wire_free(&h->base);
    return 0;
}

int agency_outcome_status(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16],
                          Tacnet__EventStatus *out)
{
    out->msg_id.data = xmalloc(16);
    memcpy(out->msg_id.data, msg_id, 16);
    out->msg_id.len = 16;
    MDB_val v;
    int rc = store_get(txn, self->outbox_ids, msg_id, 16, &v);
    if (rc == 0) {
        uint64_t sender_seq;
        uint8_t blind[16];
        if ((rc = agency_outbox_ids_decode(v.mv_data, v.mv_size, &sender_seq, blind)) != 0)
            return rc;
        out->has_local_seq = 1;
        out->local_seq = sender_seq;
        return s_status_queued(self, txn, sender_seq, out);
    }
    agency_outbox_settled_t s = { 0 };
    int settled = 0;
    if (rc == TACNET_ENOTFOUND && (rc = store_get(txn, self->settled, msg_id, 16, &v)) == 0) {
        if ((rc = agency_outbox_settled_decode(v.mv_data, v.mv_size, &s)) != 0)
            return rc;
        settled = 1;
        out->has_settled_at_ms = out->has_kind = 1;
        out->settled_at_ms = s.settled_ms;
        out->kind = (Tacnet__EventKind)s.kind;
        s_recipients(out, s.recipients, self->profile->agency);
        out->state = TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED;
        if (s.state == TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED) {
            out->has_seq = 1;
            out->seq = s.seq;
            return s_applied_by(self, txn, msg_id, out);
        }
    }
    /* Refused: the dead letter says why (older refusals have no settled record). */
    if ((rc == 0 || rc == TACNET_ENOTFOUND) &&
        (rc = store_get(txn, self->dead, msg_id, 16, &v)) == 0) {
        int code;
        const char *reason;
        uint64_t sender_seq;
        if ((rc = agency_outbox_dead_decode(v.mv_data, v.mv_size, &code, &reason, &sender_seq)) !=
            0)
            return rc;
        out->state = TACNET__PUBLISH_STATE__PUBLISH_REFUSED;
        out->has_code = out->has_local_seq = 1;
        out->code = code;
        out->local_seq = sender_seq;
        out->reason = xstrdup(reason);
        s_refused_header(self, txn, msg_id, out);
        uint64_t at;
        uint8_t by[16];
        if ((rc = s_withdrawn(self, txn, msg_id, &at, by)) == 1) {
            static const uint8_t none[16];
            out->has_withdrawn_at_ms = 1;
            out->withdrawn_at_ms = at;
            if (memcmp(by, none, 16) != 0) {
                out->has_corrected_by_id = 1;
                out->corrected_by_id.data = xmalloc(16);
                memcpy(out->corrected_by_id.data, by, 16);
                out->corrected_by_id.len = 16;
            }
            rc = 0;
        }
        return rc;
    }
    if (settled && rc == TACNET_ENOTFOUND)
        return TACNET_ECORRUPT; /* settled as refused, but its dead letter is gone */
    return rc;
}

int agency_outcome_settled_state(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16])
{
    MDB_val v;
    agency_outbox_settled_t s;
    int rc = store_get(txn, self->settled, msg_id, 16, &v);
    if (rc == 0 && agency_outbox_settled_decode(v.mv_data, v.mv_size, &s) == 0)
        return s.state;
    if (rc != 0 && rc != TACNET_ENOTFOUND)
        return rc;
    rc = store_get(txn, self->dead, msg_id, 16, &v);
    if (rc == 0)
        return TACNET__PUBLISH_STATE__PUBLISH_REFUSED;
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

void agency_outcome_status_free(Tacnet__EventStatus *st)
{
    if (!st)
        return;
    free(st->msg_id.data);
    free(st->case_ref.data);
    free(st->reason);
    free(st->recipients);
    free(st->applied_by);
    free(st->corrected_by_id.data);
    st->corrected_by_id.data = NULL;
    st->msg_id.data = st->case_ref.data = NULL;
    st->reason = NULL;
    st->recipients = NULL;
    st->applied_by = NULL;
}

/* ------------------------------------------------------------------ waiters */

/* Call W's callback with MSG_ID's status now (read in a fresh transaction). */
static void s_answer(agency_t *self, const struct agency_waiter *w)
{
    Tacnet__EventStatus st = TACNET__EVENT_STATUS__INIT;
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc == 0) {
        rc = agency_outcome_status(self, txn, w->msg_id, &st);
        mdb_txn_abort(txn);
    }
    if (rc != 0) {
        /* Not found or unreadable: say what we know for certain, that it is not accepted. */
        st.state = TACNET__PUBLISH_STATE__PUBLISH_QUEUED;
    }
    w->fn(self, w->arg, &st);
    agency_outcome_status_free(&st);
}

static void s_remove(agency_t *self, size_t i)
{
    self->waiters[i] = self->waiters[--self->n_waiters];
}

void agency_outcome_settled(agency_t *self, const uint8_t msg_id[16])
{
    for (size_t i = 0; i < self->n_waiters;) {
        if (memcmp(self->waiters[i].msg_id, msg_id, 16) != 0) {
            i++;
            continue;
        }
        struct agency_waiter w = self->waiters[i];
        s_remove(self, i);
        s_answer(self, &w);
    }
}

static int s_settled(agency_t *self, const uint8_t msg_id[16])
{
    MDB_txn *txn;
    MDB_val v;
    if (store_read_begin(self->store, &txn) != 0)
        return 0;
    int done = store_get(txn, self->settled, msg_id, 16, &v) == 0 ||
               store_get(txn, self->dead, msg_id, 16, &v) == 0;
    mdb_txn_abort(txn);
    return done;
}

int agency_outcome_wait(agency_t *self, const uint8_t msg_id[16], uint32_t wait_ms,
                        agency_outcome_fn fn, void *arg)
{
    struct agency_waiter w = { .deadline_ms = clock_mono_ms() + wait_ms, .fn = fn, .arg = arg };
    memcpy(w.msg_id, msg_id, 16);
    if (s_settled(self, msg_id)) {
        s_answer(self, &w);
        return 0;
    }
    if (self->n_waiters >= AGENCY_OUTCOME_MAX_WAITERS)
        return TACNET_EQUOTA;
    if (!self->waiters)
        self->waiters = xcalloc(AGENCY_OUTCOME_MAX_WAITERS, sizeof(*self->waiters));
    self->waiters[self->n_waiters++] = w;
    return 0;
}

void agency_outcome_cancel(agency_t *self, void *arg)
{
    for (size_t i = 0; i < self->n_waiters;) {
        if (self->waiters[i].arg == arg)
            s_remove(self, i);
        else
            i++;
    }
}

int agency_outcome_read(agency_t *self, const uint8_t msg_id[16], Tacnet__EventStatus *out)
{
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    rc = agency_outcome_status(self, txn, msg_id, out);
    mdb_txn_abort(txn);
    return rc;
}

void agency_outcome_tick(agency_t *self)
{
    uint64_t now = clock_mono_ms();
    for (size_t i = 0; i < self->n_waiters;) {
        if (self->waiters[i].deadline_ms > now) {
            i++;
            continue;
        }
        struct agency_waiter w = self->waiters[i];
        s_remove(self, i);
        s_answer(self, &w);
    }
}

void agency_outcome_drop_all(agency_t *self)
{
    while (self->n_waiters) {
        struct agency_waiter w = self->waiters[self->n_waiters - 1];
        self->n_waiters--;
        w.fn(self, w.arg, NULL);
    }
    free(self->waiters);
    self->waiters = NULL;
}

/* ------------------------------------------------------------------ queries */

/* Every msg_id of DBI matching PREFIX: the first into OUT, the count of others into *N. */
static int s_find_in(MDB_txn *txn, MDB_dbi dbi, const char *prefix, uint8_t out[16], size_t *n)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, dbi, &cur) != 0)
        return TACNET_ESTORE;
    MDB_val k, v;
    for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        if (k.mv_size != 16 || !wire_msgid_prefix_matches(k.mv_data, prefix))
            continue;
        /* A refused event is in `settled` and `dead` both: count each msg_id once. */
        if (*n > 0 && memcmp(out, k.mv_data, 16) == 0)
            continue;
        if (*n == 0)
            memcpy(out, k.mv_data, 16);
        (*n)++;
    }
    mdb_cursor_close(cur);
    return 0;
}

void agency_outcome_status_request(agency_t *self, const Tacnet__StatusRequest *req,
                                   Tacnet__ApiReply *reply)
{
    const char *prefix = req->msg_id ? req->msg_id : "";
    size_t len = strlen(prefix);
    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)prefix[i]))
            len = 0;
    if (len < 2 || len > 32) {
        agency_reply_error(reply, TACNET_EFIELD, "msg_id must be 2 to 32 hex digits");
        return;
    }
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    uint8_t id[16];
    size_t n = 0;
    size_t idlen = 0;
    if (rc == 0 && len == 32) {
        /* A whole msg_id: it is its own key; only a prefix needs a scan. */
        if (sodium_hex2bin(id, sizeof(id), prefix, len, NULL, &idlen, NULL) == 0 && idlen == 16)
            n = 1;
    } else {
        if (rc == 0)
            rc = s_find_in(txn, self->outbox_ids, prefix, id, &n);
        if (rc == 0)
            rc = s_find_in(txn, self->settled, prefix, id, &n);
        if (rc == 0)
            rc = s_find_in(txn, self->dead, prefix, id, &n);
    }
    if (rc == 0 && n == 1) {
        reply->status = xcalloc(1, sizeof(*reply->status));
        tacnet__event_status__init(reply->status);
        reply->result_case = TACNET__API_REPLY__RESULT_STATUS;
        rc = agency_outcome_status(self, txn, id, reply->status);
        if (rc == TACNET_ENOTFOUND) { /* a whole msg_id this agency never published */
            agency_reply_free(reply);
            reply->result_case = TACNET__API_REPLY__RESULT__NOT_SET;
            n = 0;
            rc = 0;
        }
    }
    if (txn)
        mdb_txn_abort(txn);
    if (rc == 0 && n == 0)
        agency_reply_error(reply, TACNET_ENOTFOUND,
                           "no event this agency published has an id starting %s", prefix);
    else if (rc == 0 && n > 1)
        agency_reply_error(reply, TACNET_EFIELD,
                           "%s is ambiguous: %zu of this agency's events match; give more digits",
                           prefix, n);
    else if (rc != 0)
        agency_reply_error(reply, rc, "could not read the outbox: %s", tacnet_strerror(rc));
}

/* Append the status of every msg_id of DBI to OUT (a refused event withdrawn or corrected is
 * settled for good: not listed). */
static int s_list(agency_t *self, MDB_txn *txn, MDB_dbi dbi, Tacnet__OutboxReply *out)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, dbi, &cur) != 0)
        return TACNET_ESTORE;
    MDB_val k, v;
    int rc = 0;
    for (int op = MDB_FIRST;
         rc == 0 && out->n_events < OUTCOME_OUTBOX_MAX && mdb_cursor_get(cur, &k, &v, op) == 0;
         op = MDB_NEXT) {
        if (k.mv_size != 16)
            continue;
        uint8_t id[16], by[16];
        uint64_t at;
        memcpy(id, k.mv_data, 16); /* status reads other databases in TXN */
        if (dbi == self->dead && (rc = s_withdrawn(self, txn, id, &at, by)) != 0) {
            rc = rc == 1 ? 0 : rc;
            continue;
        }
        Tacnet__EventStatus *st = xcalloc(1, sizeof(*st));
        tacnet__event_status__init(st);
        rc = agency_outcome_status(self, txn, id, st);
        out->events[out->n_events++] = st;
    }
    mdb_cursor_close(cur);
    return rc;
}

/* Append to OUT->unapplied the accepted events some recipient has not applied although they
 * were accepted before BEFORE_MS, oldest first. */
static int s_list_unapplied(agency_t *self, MDB_txn *txn, uint64_t before_ms,
                            Tacnet__OutboxReply *out)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->unapplied, &cur) != 0)
        return TACNET_ESTORE;
    out->unapplied = xcalloc(OUTCOME_OUTBOX_MAX, sizeof(*out->unapplied));
    MDB_val k, v;
    int rc = 0;
    for (int op = MDB_FIRST;
         rc == 0 && out->n_unapplied < OUTCOME_OUTBOX_MAX && mdb_cursor_get(cur, &k, &v, op) == 0;
         op = MDB_NEXT) {
        uint64_t settled_ms;
        uint8_t id[16];
        if (agency_outbox_unapplied_key_decode(k.mv_data, k.mv_size, &settled_ms, id) != 0)
            continue;
        if (settled_ms >= before_ms)
            break; /* the rest are younger */
        Tacnet__EventStatus *st = xcalloc(1, sizeof(*st));
        tacnet__event_status__init(st);
        rc = agency_outcome_status(self, txn, id, st);
        out->unapplied[out->n_unapplied++] = st;
    }
    mdb_cursor_close(cur);
    return rc;
}

void agency_outcome_outbox_request(agency_t *self, const Tacnet__OutboxRequest *req,
                                   Tacnet__ApiReply *reply)
{
    reply->outbox = xcalloc(1, sizeof(*reply->outbox));
    tacnet__outbox_reply__init(reply->outbox);
    reply->outbox->events = xcalloc(OUTCOME_OUTBOX_MAX, sizeof(*reply->outbox->events));
    reply->result_case = TACNET__API_REPLY__RESULT_OUTBOX;
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc == 0)
        rc = s_list(self, txn, self->outbox_ids, reply->outbox);
    if (rc == 0 && (!req->has_include_refused || req->include_refused))
        rc = s_list(self, txn, self->dead, reply->outbox);
    uint64_t after = self->cfg.unapplied_after_ms, now = clock_now_ms();
    reply->outbox->has_unapplied_after_ms = 1;
    reply->outbox->unapplied_after_ms = after;
    if (rc == 0)
        rc = s_list_unapplied(self, txn, now > after ? now - after : 0, reply->outbox);
    if (txn)
        mdb_txn_abort(txn);
    agency_sequence_alert_t alert;
    if (rc == 0 && (rc = agency_sequence_alert(self, &alert)) == 0 && alert.refusals) {
        Tacnet__OutboxReply *o = reply->outbox;
        o->has_sequence_refusals = o->has_last_refused_sender_seq = o->has_last_refused_code = 1;
        o->sequence_refusals = (uint32_t)alert.refusals;
        o->last_refused_sender_seq = alert.sender_seq;
        o->last_refused_code = alert.code;
    }
    if (rc != 0)
        agency_reply_error(reply, rc, "could not read the outbox: %s", tacnet_strerror(rc));
}

/* ------------------------------------------------------------------ refused events */

/* 1 if MSG_ID has been withdrawn or corrected (with when and by what), 0 if not, or a code. */
static int s_withdrawn(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16], uint64_t *at_ms,
                       uint8_t by[16])
{
    MDB_val v;
    int rc = store_get(txn, self->withdrawn, msg_id, 16, &v);
    if (rc == TACNET_ENOTFOUND)
        return 0;
    if (rc == 0)
        rc = agency_outbox_withdrawn_decode(v.mv_data, v.mv_size, at_ms, by);
    return rc == 0 ? 1 : rc;
}

/* The refused events of this agency (dead letters) not withdrawn or corrected whose msg_id
 * starts PREFIX: the first into OUT, how many into *N. */
static int s_find_refused(agency_t *self, MDB_txn *txn, const char *prefix, uint8_t out[16],
                          size_t *n)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->dead, &cur) != 0)
        return TACNET_ESTORE;
    MDB_val k, v;
    int rc = 0;
    for (int op = MDB_FIRST; rc == 0 && mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        if (k.mv_size != 16 || !wire_msgid_prefix_matches(k.mv_data, prefix))
            continue;
        uint64_t at;
        uint8_t by[16];
        if ((rc = s_withdrawn(self, txn, k.mv_data, &at, by)) != 0) {
            rc = rc == 1 ? 0 : rc;
            continue;
        }
        if (*n == 0)
            memcpy(out, k.mv_data, 16);
        (*n)++;
    }
    mdb_cursor_close(cur);
    return rc;
}

int agency_outcome_refused_find(agency_t *self, const char *prefix, uint8_t out[16], char *why,
                                size_t whylen)
{
    size_t len = strlen(prefix);
    if (len < 2 || len > 32 || strspn(prefix, "0123456789abcdefABCDEF") != len) {
        snprintf(why, whylen, "\"%.40s\" is not a msg_id or a prefix of one (2 to 32 hex digits)",
                 prefix);
        return TACNET_EFIELD;
    }
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    size_t n = 0;
    if (rc == 0) {
        rc = s_find_refused(self, txn, prefix, out, &n);
        mdb_txn_abort(txn);
    }
    if (rc != 0) {
        snprintf(why, whylen, "could not read the outbox: %s", tacnet_strerror(rc));
        return rc;
    }
    if (n == 0) {
        snprintf(why, whylen,
                 "no refused event of this agency's, not yet withdrawn or corrected, has an id "
                 "starting %s",
                 prefix);
        return TACNET_ENOTFOUND;
    }
    if (n > 1) {
        snprintf(why, whylen, "%s is ambiguous: %zu refused events match; give more digits", prefix,
                 n);
        return TACNET_EFIELD;
    }
    return 0;
}

int agency_outcome_withdraw(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16],
                            const uint8_t *corrected_by)
{
    MDB_val v;
    uint64_t at;
    uint8_t by[16];
    int rc = store_get(txn, self->dead, msg_id, 16, &v);
    if (rc != 0)
        return rc; /* not refused (TACNET_ENOTFOUND) */
    if ((rc = s_withdrawn(self, txn, msg_id, &at, by)) != 0)
        return rc == 1 ? TACNET_EEXISTS : rc;
    uint8_t val[AGENCY_OUTBOX_WITHDRAWN_BYTES];
    agency_outbox_withdrawn_encode(val, clock_now_ms(), corrected_by);
    if ((rc = store_put(txn, self->withdrawn, msg_id, 16, val, sizeof(val), 0)) != 0)
        return rc;
    /* The body was kept only to be corrected: nobody may send it now. */
    if ((rc = store_del(txn, self->dead_body, msg_id, 16)) != 0 && rc != TACNET_ENOTFOUND)
        return rc;
    char hex[33];
    wire_msgid_hex(msg_id, 16, hex);
    return agency_audit(self, txn, "api", corrected_by ? "publish.corrected" : "publish.withdrawn",
                        hex, "ok", 0);
}

typedef struct {
    agency_t *self;
    const uint8_t *msg_id;
} withdraw_t;

static int s_withdraw_txn(MDB_txn *txn, void *arg)
{
    withdraw_t *w = arg;
    return agency_outcome_withdraw(w->self, txn, w->msg_id, NULL);
}

void agency_outcome_withdraw_request(agency_t *self, const Tacnet__WithdrawRequest *req,
                                     Tacnet__ApiReply *reply)
{
    uint8_t id[16];
    char why[200];
    int rc =
        agency_outcome_refused_find(self, req->msg_id ? req->msg_id : "", id, why, sizeof(why));
    if (rc != 0) {
        agency_reply_error(reply, rc, "%s", why);
        return;
    }
    withdraw_t w = { self, id };
    if ((rc = store_write(self->store, s_withdraw_txn, &w)) != 0) {
        agency_reply_error(reply, rc, "could not withdraw it: %s", tacnet_strerror(rc));
        return;
    }
    reply->status = xcalloc(1, sizeof(*reply->status));
    tacnet__event_status__init(reply->status);
    reply->result_case = TACNET__API_REPLY__RESULT_STATUS;
    if ((rc = agency_outcome_read(self, id, reply->status)) != 0)
        agency_reply_error(reply, rc, "withdrawn, but its status could not be read: %s",
                           tacnet_strerror(rc));
}

/* The PublishRequest that sends again the refused event whose outbox record is REC (its body
 * opened with this agency's own key: the sender is always among the recipients). */
static int s_draft(agency_t *self, const agency_outbox_record_t *rec, Tacnet__PublishRequest **out)
{
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(rec->header, rec->hlen, &err);
    if (!h)
        return TACNET_ECORRUPT;
    uint8_t *plain = NULL;
    size_t plen = 0;
    int rc = seal_open(self->seal, self->keys->seal_pk, rec->header, rec->hlen, rec->sealed,
                       rec->slen, &plain, &plen);
    Tacnet__Body *b = NULL;
    if (rc == 0 &&
        !(b = (Tacnet__Body *)wire_unpack(&tacnet__body__descriptor, plain, plen, 0, 0, &err)))
        rc = TACNET_ECORRUPT;
    if (plain)
        sodium_memzero(plain, plen);
    free(plain);
    if (rc != 0) {
        wire_free(&h->base);
        return rc;
    }
    /* The daemon fills these in again when it is sent. */
    b->has_msg_id = b->has_sender = 0;
    Tacnet__PublishRequest r = TACNET__PUBLISH_REQUEST__INIT;
    r.kind = h->kind;
    r.case_ref = h->case_ref;
    r.initials = h->initials;
    r.has_sensitivity = r.has_lawful_basis = 1;
    r.sensitivity = h->sensitivity;
    r.lawful_basis = h->lawful_basis;
    r.has_refers_to = h->has_refers_to;
    r.refers_to = h->refers_to;
    r.has_subject_agency = h->has_subject_agency;
    r.subject_agency = h->subject_agency;
    r.has_level_of_need = h->has_level_of_need;
    r.level_of_need = h->level_of_need;
    r.has_urgent = h->has_urgent;
    r.urgent = h->urgent;
    r.has_override_reason = h->has_override_reason;
    r.override_reason = h->override_reason;
    r.body = b;
    size_t n;
    uint8_t *packed = wire_pack(&r.base, &n);
    *out = (Tacnet__PublishRequest *)wire_unpack(&tacnet__publish_request__descriptor, packed, n, 0,
                                                 0, &err);
    sodium_memzero(packed, n);
    free(packed);
    wire_free(&b->base);
    wire_free(&h->base);
    return *out ? 0 : TACNET_ECORRUPT;
}

void agency_outcome_draft_request(agency_t *self, const Tacnet__DraftRequest *req,
                                  Tacnet__ApiReply *reply)
{
    uint8_t id[16];
    char why[200];
    int rc =
        agency_outcome_refused_find(self, req->msg_id ? req->msg_id : "", id, why, sizeof(why));
    if (rc != 0) {
        agency_reply_error(reply, rc, "%s", why);
        return;
    }
    MDB_txn *txn;
    MDB_val v;
    agency_outbox_record_t rec;
    Tacnet__PublishRequest *draft = NULL;
    if ((rc = store_read_begin(self->store, &txn)) != 0) {
        agency_reply_error(reply, rc, "could not read the outbox: %s", tacnet_strerror(rc));
        return;
    }
    rc = store_get(txn, self->dead_body, id, 16, &v);
    if (rc == 0)
        rc = agency_outbox_decode(v.mv_data, v.mv_size, &rec);
    if (rc == 0)
        rc = s_draft(self, &rec, &draft);
    mdb_txn_abort(txn);
    if (rc == TACNET_ENOTFOUND)
        agency_reply_error(reply, rc,
                           "this refusal predates kept bodies: its content is not held here; "
                           "write it again and withdraw this one");
    else if (rc != 0)
        agency_reply_error(reply, rc, "could not open the refused event: %s", tacnet_strerror(rc));
    else {
        reply->draft = draft;
        reply->result_case = TACNET__API_REPLY__RESULT_DRAFT;
    }
}

int agency_outcome_case_erase(agency_t *self, MDB_txn *txn, const uint8_t blind[16])
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->dead_body, &cur) != 0)
        return TACNET_ESTORE;
    MDB_val k, v;
    int rc = 0;
    for (int op = MDB_FIRST; rc == 0 && mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        agency_outbox_record_t rec;
        int err = 0;
        if (agency_outbox_decode(v.mv_data, v.mv_size, &rec) != 0)
            continue;
        Tacnet__Header *h = wire_header_unpack(rec.header, rec.hlen, &err);
        if (!h)
            continue;
        uint8_t b[16];
        agency_view_blind(self, h->case_ref.data, h->case_ref.len, b);
        wire_free(&h->base);
        if (memcmp(b, blind, 16) == 0 && mdb_cursor_del(cur, 0) != 0)
            rc = TACNET_ESTORE;
    }
    mdb_cursor_close(cur);
    return rc;
}
