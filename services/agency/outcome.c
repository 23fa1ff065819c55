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

/* ------------------------------------------------------------------ recording */

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
    } else if (rc != 0 && rc != TACNET_ENOTFOUND) {
        return rc;
    }
    uint8_t val[AGENCY_OUTBOX_SETTLED_BYTES];
    agency_outbox_settled_encode(val, &s);
    return store_put(txn, self->settled, msg_id, 16, val, sizeof(val), 0);
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
        MDB_val v;
        rc = store_get(txn, self->delivered, a->msg_id.data, 16, &v);
        if (rc == 0 && v.mv_size == 4)
            mask = bytes_be32_get(v.mv_data);
        if (rc != 0 && rc != TACNET_ENOTFOUND)
            break;
        uint8_t val[4];
        bytes_be32_put(val, mask | 1u << a->recipient);
        rc = store_put(txn, self->delivered, a->msg_id.data, 16, val, 4, 0);
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
        return 0;
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

/* Append the status of every msg_id of DBI to OUT. */
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
        uint8_t id[16];
        memcpy(id, k.mv_data, 16); /* status reads other databases in TXN */
        Tacnet__EventStatus *st = xcalloc(1, sizeof(*st));
        tacnet__event_status__init(st);
        rc = agency_outcome_status(self, txn, id, st);
        out->events[out->n_events++] = st;
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
