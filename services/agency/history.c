/* history: history on joining at the agency daemon (history.h). */
#include "agency/history.h"
#include "bytes.h"
#include "err.h"
#include "fault.h"
#include "grant.h"
#include "log.h"
#include "names.h"
#include "store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRANT_QUEUE_KEY 18 /* grantee(1) msg_id(16) done(1) */
#define GRANT_PUMP_MAX  256

static int s_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen)
{
    int rc = store_del(txn, dbi, key, klen);
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

static int s_is_join(const Tacnet__Header *h)
{
    return (h->kind == TACNET__EVENT_KIND__MEMBER_JOINED ||
            h->kind == TACNET__EVENT_KIND__REFERRAL) &&
           h->has_subject_agency && (unsigned)h->subject_agency < ROUTE_MAX_AGENCY &&
           h->subject_agency != TACNET__AGENCY__BROKER;
}

/* ------------------------------------------------------------------ queueing grants */

typedef struct queue_ctx {
    agency_t *self;
    MDB_txn *txn;
    const Tacnet__Header *join;
    uint64_t join_seq;
    route_case_t c;
    uint32_t grantee;
    const Tacnet__NodeKey *gk; /* the grantee's current key */
    unsigned queued;
} queue_ctx_t;

/* Sign G (its wrap, if any, already set) over DIGEST and put it in the queue. */
static int s_queue_put(queue_ctx_t *q, Tacnet__Grant *g, const uint8_t digest[SEAL_DIGEST_LEN])
{
    agency_t *self = q->self;
    uint8_t sig[SEAL_SIG_BYTES];
    g->sig.data = sig;
    g->sig.len = sizeof(sig);
    int rc = grant_sign(self->seal, g, digest);
    if (rc != 0)
        return rc;
    size_t len = 0;
    uint8_t *packed = wire_pack(&g->base, &len);
    uint8_t key[GRANT_QUEUE_KEY];
    key[0] = (uint8_t)g->grantee;
    memcpy(key + 1, g->msg_id.data, 16);
    key[17] = g->has_done && g->done;
    rc = store_put(q->txn, self->grants, key, sizeof(key), packed, len, 0);
    free(packed);
    if (rc != 0)
        return rc;
    char hex[33], object[64];
    wire_msgid_hex(g->msg_id.data, 16, hex);
    snprintf(object, sizeof(object), "%s>%s", hex, names_agency(q->grantee));
    q->queued += !key[17];
    return agency_audit(self, q->txn, "grant", key[17] ? "grant.done.queued" : "grant.queued",
                        object, "queued", 0);
}

static void s_grant_init(const queue_ctx_t *q, Tacnet__Grant *g, const uint8_t *msg_id)
{
    tacnet__grant__init(g);
    g->msg_id.data = (uint8_t *)msg_id;
    g->msg_id.len = 16;
    g->grantee = (Tacnet__Agency)q->grantee;
    g->grantee_key_id = q->gk->key_id;
    g->granter = (Tacnet__Agency)q->self->profile->agency;
    g->granter_key_id = q->self->keys->key_id;
}

/* One earlier event of the case: grant it when we sent it or lead the case, hold its key, and
 * the policy lets the newcomer see it. */
static int s_queue_one(const Tacnet__Header *h, uint64_t case_seq, uint64_t local,
                       const uint8_t *hbytes, size_t hlen, void *arg)
{
    queue_ctx_t *q = arg;
    agency_t *self = q->self;
    (void)hbytes, (void)hlen;
    uint32_t me = self->profile->agency;
    if (case_seq >= q->join_seq || memcmp(h->msg_id.data, q->join->msg_id.data, 16) == 0)
        return 0;
    if ((uint32_t)h->sender != me && q->c.lead != me)
        return 0;
    if (route_grant_check(&q->c, h, q->grantee, self->roster) != 0)
        return 0;
    uint8_t blind[16], *kept = NULL;
    size_t klen = 0;
    agency_view_blind(self, h->case_ref.data, h->case_ref.len, blind);
    int rc = agency_view_kept_get(self, q->txn, blind, local, &kept, &klen);
    if (rc == TACNET_ENOTFOUND)
        return 0; /* applied before keys were kept: nothing to grant */
    if (rc != 0 || klen != GRANT_KEPT_BYTES) {
        if (kept) {
            sodium_memzero(kept, klen);
            free(kept);
        }
        return rc ? rc : TACNET_ECORRUPT;
    }
    uint8_t nonce[SEAL_NONCE_BYTES], wrap[SEAL_WRAP_BYTES];
    rc = seal_grant_wrap(self->seal, kept, q->gk->seal_pk.data, nonce, wrap);
    if (rc == 0) {
        Tacnet__Grant g;
        s_grant_init(q, &g, h->msg_id.data);
        g.has_wrap_nonce = g.has_wrap = 1;
        g.wrap_nonce.data = nonce;
        g.wrap_nonce.len = sizeof(nonce);
        g.wrap.data = wrap;
        g.wrap.len = sizeof(wrap);
        rc = s_queue_put(q, &g, kept + SEAL_KEY_BYTES);
    }
    sodium_memzero(kept, klen);
    free(kept);
    return rc;
}

/* Another agency joined (JOIN, applied at SEQ): queue its grants, then the done grant. */
static int s_queue_for_join(agency_t *self, MDB_txn *txn, const Tacnet__Header *join, uint64_t seq,
                            const uint8_t *digest)
{
    queue_ctx_t q = { .self = self,
                      .txn = txn,
                      .join = join,
                      .join_seq = seq,
                      .grantee = (uint32_t)join->subject_agency };
    int found = 0;
    int rc = agency_view_case_get(self, txn, join->case_ref.data, join->case_ref.len, &q.c, &found);
    if (rc != 0 || !found)
        return rc;
    q.gk = roster_key_current(self->roster, q.grantee, clock_now_ms());
    if (!q.gk || q.gk->seal_pk.len != SEAL_KEY_BYTES) {
        log_warn("no current key for %s in the roster: no history granted to it",
                 names_agency(q.grantee));
        return 0;
    }
    uint8_t blind[16];
    agency_view_blind(self, join->case_ref.data, join->case_ref.len, blind);
    if ((rc = agency_view_case_headers(self, txn, blind, s_queue_one, &q)) != 0)
        return rc;
    /* A done grant conveys no key and needs no body: it is bound to the join by its msg_id
     * alone (a zero digest), so it still verifies once the broker has removed the join's body. */
    static const uint8_t none[SEAL_DIGEST_LEN];
    Tacnet__Grant g;
    s_grant_init(&q, &g, join->msg_id.data);
    g.has_done = g.done = 1;
    (void)digest;
    return s_queue_put(&q, &g, none);
}

/* Our own join: every member that received it owes us its grants and a done grant. */
static int s_wait_for(agency_t *self, MDB_txn *txn, const Tacnet__Header *join)
{
    uint32_t me = self->profile->agency;
    uint32_t due = route_recipient_mask(join) & ~(1u << me) & ~(1u << TACNET__AGENCY__BROKER);
    uint8_t blind[16], v[4];
    agency_view_blind(self, join->case_ref.data, join->case_ref.len, blind);
    if (!due)
        return s_del(txn, self->history_wait, blind, 16);
    bytes_be32_put(v, due);
    return store_put(txn, self->history_wait, blind, 16, v, 4, 0);
}

void agency_history_kept(const Tacnet__Header *h, const uint8_t *k, const uint8_t *digest,
                         uint8_t kept[GRANT_KEPT_BYTES], size_t *len)
{
    *len = 0;
    if (h->sender == TACNET__AGENCY__BROKER || !k || !digest)
        return; /* notices are never granted */
    memcpy(kept, k, SEAL_KEY_BYTES);
    memcpy(kept + SEAL_KEY_BYTES, digest, SEAL_DIGEST_LEN);
    *len = GRANT_KEPT_BYTES;
}

int agency_history_after_apply(agency_t *self, MDB_txn *txn, const Tacnet__Header *h, uint64_t seq,
                               const uint8_t *digest, int history)
{
    if (h->sender == TACNET__AGENCY__BROKER)
        return 0; /* notices are never granted */
    if (history || !s_is_join(h) || !digest)
        return 0;
    if ((uint32_t)h->subject_agency == self->profile->agency)
        return s_wait_for(self, txn, h);
    return s_queue_for_join(self, txn, h, seq, digest);
}

int agency_history_done(agency_t *self, MDB_txn *txn, const Tacnet__Header *h, uint32_t granter)
{
    uint8_t blind[16];
    agency_view_blind(self, h->case_ref.data, h->case_ref.len, blind);
    MDB_val v;
    int rc = store_get(txn, self->history_wait, blind, 16, &v);
    if (rc == TACNET_ENOTFOUND)
        return 0;
    if (rc != 0 || v.mv_size != 4)
        return rc ? rc : TACNET_ECORRUPT;
    uint32_t due = bytes_be32_get(v.mv_data) & ~(1u << granter);
    char hex[33];
    wire_msgid_hex(h->msg_id.data, 16, hex);
    if ((rc = agency_audit(self, txn, names_agency(granter), "history.done", hex, "ok", 0)) != 0)
        return rc;
    if (!due)
        return s_del(txn, self->history_wait, blind, 16);
    uint8_t b[4];
    bytes_be32_put(b, due);
    return store_put(txn, self->history_wait, blind, 16, b, 4, 0);
}

uint32_t agency_history_pending(agency_t *self, MDB_txn *txn, const uint8_t blind[16])
{
    MDB_val v;
    if (store_get(txn, self->history_wait, blind, 16, &v) != 0 || v.mv_size != 4)
        return 0;
    return bytes_be32_get(v.mv_data);
}

int agency_history_case_erase(agency_t *self, MDB_txn *txn, const uint8_t blind[16])
{
    /* The kept event keys go with the case's by_case entries (agency_view_case_erase). */
    return s_del(txn, self->history_wait, blind, 16);
}

/* ------------------------------------------------------------------ the newcomer */

const uint8_t *agency_history_granter_pk(agency_t *self, const Tacnet__Grant *g)
{
    const Tacnet__NodeKey *k = roster_key_find(self->roster, (uint32_t)g->granter,
                                               g->granter_key_id, clock_now_ms(), NULL);
    return k && k->seal_pk.len == SEAL_KEY_BYTES ? k->seal_pk.data : NULL;
}

int agency_history_open(agency_t *self, const Tacnet__Grant *g, const Tacnet__Header *h,
                        const uint8_t *hbytes, size_t hlen, const uint8_t *sealed, size_t slen,
                        uint8_t **body, size_t *blen, uint8_t k_out[SEAL_KEY_BYTES], int *done)
{
    *done = 0;
    if (grant_check_shape(g) != 0 || memcmp(g->msg_id.data, h->msg_id.data, 16) != 0 ||
        (uint32_t)g->grantee != self->profile->agency)
        return TACNET_EBADMSG;
    const Tacnet__NodeKey *k = roster_key_find(self->roster, (uint32_t)g->granter,
                                               g->granter_key_id, clock_now_ms(), NULL);
    if (!k || k->sign_pk.len != SEAL_KEY_BYTES || k->seal_pk.len != SEAL_KEY_BYTES)
        return TACNET_EKEYID;
    uint8_t digest[SEAL_DIGEST_LEN] = { 0 };
    if (!(g->has_done && g->done))
        seal_digest(sealed, slen, digest); /* a done grant is signed over none */
    if (grant_verify(k->sign_pk.data, g, digest) != 0)
        return TACNET_ESIGNATURE;
    if (g->has_done && g->done) {
        *done = 1;
        return 0;
    }
    if (g->has_resealed && g->resealed) {
        /* Its sender sealed it again for us alone: an ordinary body wrapped for us. */
        if ((uint32_t)g->granter != (uint32_t)h->sender)
            return TACNET_EBADMSG;
        int rc = seal_open(self->seal, k->seal_pk.data, hbytes, hlen, sealed, slen, body, blen);
        if (rc == 0 &&
            (rc = seal_content_key(self->seal, k->seal_pk.data, sealed, slen, k_out)) != 0) {
            sodium_memzero(*body, *blen);
            free(*body);
            *body = NULL;
        }
        return rc;
    }
    return seal_open_granted(self->seal, k->seal_pk.data, g->wrap_nonce.data, g->wrap.data, hbytes,
                             hlen, sealed, slen, body, blen, k_out);
}

/* ------------------------------------------------------------------ sending and settling */

/* A queued grant whose body was sealed again: 0, then the packed grant, header and body each
 * after its length (u32 BE), then the signature. A packed Grant never starts with 0 (no field
 * has number 0), so the two kinds of entry cannot be confused. */
typedef struct resealed_entry {
    const uint8_t *grant, *header, *sealed, *sig;
    size_t glen, hlen, slen;
} resealed_entry_t;

static int s_resealed_decode(const uint8_t *v, size_t n, resealed_entry_t *r)
{
    const uint8_t *p = v + 1, *end = v + n;
    const uint8_t **parts[] = { &r->grant, &r->header, &r->sealed };
    size_t *lens[] = { &r->glen, &r->hlen, &r->slen };
    if (n < 1 || v[0] != 0)
        return TACNET_ECORRUPT;
    for (size_t i = 0; i < 3; i++) {
        if (end - p < 4 || (size_t)(end - p - 4) < bytes_be32_get(p))
            return TACNET_ECORRUPT;
        *lens[i] = bytes_be32_get(p);
        *parts[i] = p + 4;
        p += 4 + *lens[i];
    }
    if (end - p != SEAL_SIG_BYTES)
        return TACNET_ECORRUPT;
    r->sig = p;
    return 0;
}

static void s_send(agency_t *self, const MDB_val *v)
{
    /* The queue holds what this daemon packed; a record that no longer unpacks is skipped (the
     * walk of the view would have refused a damaged file). */
    const uint8_t *b = v->mv_data;
    resealed_entry_t r = { 0 };
    int resealed = v->mv_size > 0 && b[0] == 0;
    if (resealed && s_resealed_decode(b, v->mv_size, &r) != 0)
        return;
    Tacnet__Grant *g = resealed ? tacnet__grant__unpack(NULL, r.glen, r.grant)
                                : tacnet__grant__unpack(NULL, v->mv_size, b);
    if (!g)
        return;
    if (resealed)
        wire_send(self->dealer, NULL, 0, WIRE_REGRANT, &g->base, r.header, r.hlen, r.sealed, r.slen,
                  r.sig);
    else
        wire_send(self->dealer, NULL, 0, WIRE_GRANT, &g->base, NULL, 0, NULL, 0, NULL);
    tacnet__grant__free_unpacked(g, NULL);
}

/* E_GONE: the broker no longer holds the body. If we sent the event, seal it again from our
 * view for the grantee alone and queue that in place of the grant (under KEY). Returns 1 when
 * queued, 0 when we cannot (not ours, or no longer in our view), or a store code. */
static int s_reseal(agency_t *self, MDB_txn *txn, const uint8_t key[GRANT_QUEUE_KEY])
{
    uint8_t *rec = NULL;
    size_t n = 0;
    int rc = agency_view_event_get(self, txn, key + 1, &rec, &n);
    if (rc != 0)
        return rc == TACNET_ENOTFOUND ? 0 : rc;
    size_t hlen = bytes_be32_get(rec + 8);
    const uint8_t *hbytes = rec + 12, *body = rec + 12 + hlen;
    int err = 0, out = 0;
    Tacnet__Header *h = wire_header_unpack(hbytes, hlen, &err);
    const Tacnet__NodeKey *gk = roster_key_current(self->roster, key[0], clock_now_ms());
    uint8_t *sealed = NULL, sig[SEAL_SIG_BYTES], gsig[SEAL_SIG_BYTES], digest[SEAL_DIGEST_LEN];
    size_t slen = 0;
    if (h && gk && (uint32_t)h->sender == self->profile->agency) {
        seal_recipient_t r = { .agency = key[0], .key_id = gk->key_id };
        memcpy(r.seal_pk, gk->seal_pk.data, SEAL_KEY_BYTES);
        rc = seal_event(self->seal, hbytes, hlen, body, n - 12 - hlen, &r, 1, &sealed, &slen, sig);
        Tacnet__Grant g = TACNET__GRANT__INIT;
        g.msg_id = (ProtobufCBinaryData){ 16, (uint8_t *)key + 1 };
        g.grantee = (Tacnet__Agency)key[0];
        g.grantee_key_id = gk->key_id;
        g.granter = (Tacnet__Agency)self->profile->agency;
        g.granter_key_id = self->keys->key_id;
        g.has_resealed = g.resealed = 1;
        g.sig = (ProtobufCBinaryData){ sizeof(gsig), gsig };
        if (rc == 0) {
            seal_digest(sealed, slen, digest);
            rc = grant_sign(self->seal, &g, digest);
        }
        if (rc == 0) {
            size_t glen = 0;
            uint8_t *packed = wire_pack(&g.base, &glen);
            size_t vlen = 1 + 4 + glen + 4 + hlen + 4 + slen + SEAL_SIG_BYTES;
            uint8_t *v = xmalloc(vlen), *p = v;
            *p++ = 0;
            const uint8_t *parts[] = { packed, hbytes, sealed };
            size_t lens[] = { glen, hlen, slen };
            for (size_t i = 0; i < 3; i++) {
                bytes_be32_put(p, (uint32_t)lens[i]);
                memcpy(p + 4, parts[i], lens[i]);
                p += 4 + lens[i];
            }
            memcpy(p, sig, SEAL_SIG_BYTES);
            rc = store_put(txn, self->grants, key, GRANT_QUEUE_KEY, v, vlen, 0);
            free(v);
            free(packed);
            out = rc == 0;
        } else {
            rc = 0; /* could not seal or sign: the refusal stands */
        }
    }
    if (h)
        wire_free(&h->base);
    free(sealed);
    sodium_memzero(rec, n);
    free(rec);
    return rc < 0 ? rc : out;
}

void agency_history_pump(agency_t *self)
{
    if (!self->welcomed || !self->dealer)
        return;
    MDB_txn *txn;
    if (store_read_begin(self->store, &txn) != 0)
        return;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->grants, &cur) != 0) {
        mdb_txn_abort(txn);
        return;
    }
    uint32_t keys_queued = 0; /* grantees with a key grant still queued */
    MDB_val k, v;
    unsigned sent = 0;
    for (int op = MDB_FIRST; sent < GRANT_PUMP_MAX && mdb_cursor_get(cur, &k, &v, op) == 0;
         op = MDB_NEXT)
        if (k.mv_size == GRANT_QUEUE_KEY && !((const uint8_t *)k.mv_data)[17]) {
            keys_queued |= 1u << (((const uint8_t *)k.mv_data)[0] & 31);
            s_send(self, &v);
            sent++;
        }
    for (int op = MDB_FIRST; sent < GRANT_PUMP_MAX && mdb_cursor_get(cur, &k, &v, op) == 0;
         op = MDB_NEXT) {
        const uint8_t *kb = k.mv_data;
        if (k.mv_size == GRANT_QUEUE_KEY && kb[17] && !(keys_queued & (1u << (kb[0] & 31)))) {
            s_send(self, &v);
            sent++;
        }
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
}

typedef struct ack_ctx {
    agency_t *self;
    const Tacnet__GrantAck *a;
} ack_ctx_t;

static int s_ack_write(MDB_txn *txn, void *arg)
{
    ack_ctx_t *c = arg;
    const Tacnet__GrantAck *a = c->a;
    uint8_t key[GRANT_QUEUE_KEY];
    key[0] = (uint8_t)a->grantee;
    memcpy(key + 1, a->msg_id.data, 16);
    key[17] = a->has_done && a->done;
    char hex[33], object[64];
    wire_msgid_hex(a->msg_id.data, 16, hex);
    snprintf(object, sizeof(object), "%s>%s", hex, names_agency((uint32_t)a->grantee));
    MDB_val v;
    int rc = store_get(txn, c->self->grants, key, sizeof(key), &v);
    if (rc == TACNET_ENOTFOUND)
        return 0; /* settled by an earlier answer to a resend */
    if (rc != 0)
        return rc;
    int resealed = v.mv_size > 0 && ((const uint8_t *)v.mv_data)[0] == 0;
    if (a->code == TACNET_EGONE && resealed)
        return 0; /* answers an earlier send of the plain grant, which this one replaced */
    if (a->code == TACNET_EGONE && !key[17]) {
        /* The broker no longer holds the body: the sender seals it again for the grantee. */
        if ((rc = s_reseal(c->self, txn, key)) < 0)
            return rc;
        if (rc == 1)
            return agency_audit(c->self, txn, "broker", "grant.resealed", object, "queued",
                                a->code);
    }
    if ((rc = store_del(txn, c->self->grants, key, sizeof(key))) != 0)
        return rc;
    return agency_audit(c->self, txn, "broker", a->code ? "grant.refused" : "grant.accepted",
                        object, a->code ? "refused" : "ok", a->code);
}

void agency_history_on_ack(agency_t *self, const wire_msg_t *m)
{
    int err = 0;
    Tacnet__GrantAck *a =
        (Tacnet__GrantAck *)wire_ctl_unpack(WIRE_GRANTACK, m->ctl, m->ctl_len, &err);
    if (!a)
        return;
    if (a->msg_id.len != 16) {
        wire_free(&a->base);
        return;
    }
    if (a->code == TACNET_EMAPFULL || a->code == TACNET_EDISKFULL || a->code == TACNET_ESTORE ||
        a->code == TACNET_EIO || a->code == TACNET_EUNAVAILABLE || a->code == TACNET_EFENCED) {
        wire_free(&a->base); /* nothing stored: the next pump sends it again */
        return;
    }
    if (a->code != 0) {
        char hex[33];
        wire_msgid_hex(a->msg_id.data, 16, hex);
        log_warn("broker refused the grant of %s to %s: %s", hex,
                 names_agency((uint32_t)a->grantee), tacnet_errname(a->code));
    }
    /* Before the queue forgets it: a crash here sends the grant again, answered as a duplicate. */
    FAULT_POINT("agency.before_grant_settle");
    ack_ctx_t c = { self, a };
    if (store_write(self->store, s_ack_write, &c) != 0)
        log_error("could not settle a grant; it will be sent again");
    wire_free(&a->base);
}
