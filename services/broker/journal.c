/* journal: append-only event journal and its indexes in the broker's LMDB. */
#include "journal.h"
#include "audit.h"
#include "err.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "log.h"
#include "merkle.h"
#include "seal.h"
#include "wire.h"

static const char *const s_names[] = { "journal",  "by_msgid", "by_rcpt",     "by_case", "senders",
                                       "cases",    "cursors",  "escalations", "meta",    "audit",
                                       "reported", "rcpt",     "granted" };
#define N_NAMES (sizeof(s_names) / sizeof(s_names[0]))

/* meta key of the startup walk's digest checkpoint (below). */
#define JOURNAL_WALK_KEY "walk"

struct journal {
    store_t *store; /* owned */
    MDB_dbi journal, by_msgid, by_rcpt, by_case, senders, cases, cursors, escalations, meta, audit,
        reported, rcpt, granted;
    uint64_t epoch;
    uint64_t head;
};

static int s_init_meta(MDB_txn *txn, void *arg)
{
    journal_t *self = arg;
    MDB_val v;
    int rc = store_get(txn, self->meta, "epoch", 5, &v);
    if (rc == 0 && v.mv_size == 8) {
        self->epoch = store_u64_get(v.mv_data);
    } else {
        uint8_t b[8];
        randombytes_buf(b, sizeof(b));
        self->epoch = store_u64_get(b);
        if ((rc = store_put(txn, self->meta, "epoch", 5, b, 8, 0)) != 0)
            return rc;
    }
    /* The head is the last journal key: nothing else to keep consistent. */
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->journal, &cur) != 0)
        return TACNET_ESTORE;
    MDB_val k, d;
    self->head = 0;
    if (mdb_cursor_get(cur, &k, &d, MDB_LAST) == 0 && k.mv_size == 8)
        self->head = store_u64_get(k.mv_data);
    mdb_cursor_close(cur);
    return 0;
}

/* A journal written before the rcpt index kept one by_rcpt key per recipient (agency, seq):
 * fold them into one mask per seq, and empty by_rcpt, in one transaction. */
static int s_migrate_rcpt_write(MDB_txn *txn, void *arg)
{
    journal_t *self = arg;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->by_rcpt, &cur) != 0)
        return TACNET_ESTORE;
    MDB_val k, v;
    int rc = 0, mrc;
    for (mrc = store_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && rc == 0;
         mrc = store_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 9 || ((const uint8_t *)k.mv_data)[0] >= 32) {
            rc = TACNET_ECORRUPT;
            break;
        }
        const uint8_t *seq = (const uint8_t *)k.mv_data + 1;
        uint32_t mask = 0;
        MDB_val old;
        if ((rc = store_get(txn, self->rcpt, seq, 8, &old)) == 0 && old.mv_size == 4)
            mask = bytes_be32_get(old.mv_data);
        else if (rc != 0 && rc != TACNET_ENOTFOUND)
            break;
        uint8_t b[4];
        bytes_be32_put(b, mask | 1u << ((const uint8_t *)k.mv_data)[0]);
        rc = store_put(txn, self->rcpt, seq, 8, b, 4, 0);
    }
    mdb_cursor_close(cur);
    if (rc == 0 && mrc != TACNET_ENOTFOUND)
        rc = mrc;
    if (rc == 0 && (mrc = mdb_drop(txn, self->by_rcpt, 0)) != 0)
        rc = store_lmdb_err(mrc);
    return rc;
}

static int s_migrate_rcpt(journal_t *self)
{
    MDB_txn *txn;
    MDB_stat st;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    rc = mdb_stat(txn, self->by_rcpt, &st);
    mdb_txn_abort(txn);
    if (rc != 0)
        return store_lmdb_err(rc);
    if (st.ms_entries == 0)
        return 0;
    if ((rc = store_write(self->store, s_migrate_rcpt_write, self)) == 0)
        log_info("delivery index: %zu by_rcpt entries folded into rcpt", (size_t)st.ms_entries);
    return rc;
}

journal_t *journal_open(const char *dir, size_t map_size, int *err)
{
    journal_t *self = xcalloc(1, sizeof(*self));
    self->store = store_open(dir, map_size, s_names, N_NAMES, err);
    if (!self->store)
        goto fail;
    MDB_dbi *slots[] = { &self->journal, &self->by_msgid, &self->by_rcpt,  &self->by_case,
                         &self->senders, &self->cases,    &self->cursors,  &self->escalations,
                         &self->meta,    &self->audit,    &self->reported, &self->rcpt,
                         &self->granted };
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
        if ((*err = store_dbi(self->store, s_names[i], slots[i])) != 0)
            goto fail;
    if ((*err = store_write(self->store, s_init_meta, self)) != 0)
        goto fail;
    if ((*err = s_migrate_rcpt(self)) != 0)
        goto fail;
    return self;
fail:
    journal_destroy(&self);
    return NULL;
}

void journal_destroy(journal_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_destroy(&(*self_p)->store);
    free(*self_p);
    *self_p = NULL;
}

store_t *journal_store(journal_t *self)
{
    return self->store;
}

uint64_t journal_epoch(const journal_t *self)
{
    return self->epoch;
}

uint64_t journal_head(const journal_t *self)
{
    return self->head;
}

void journal_head_set(journal_t *self, uint64_t seq)
{
    self->head = seq;
}

MDB_dbi journal_dbi(const journal_t *self, const char *name)
{
    MDB_dbi dbi = 0;
    (void)store_dbi(self->store, name, &dbi);
    return dbi;
}

int journal_msgid_find(journal_t *self, MDB_txn *txn, const uint8_t *msg_id, uint64_t *seq)
{
    MDB_val v;
    int rc = store_get(txn, self->by_msgid, msg_id, 16, &v);
    if (rc != 0)
        return rc;
    if (v.mv_size != 8)
        return TACNET_ECORRUPT;
    *seq = store_u64_get(v.mv_data);
    return 0;
}

int journal_sender_last(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t *last)
{
    uint8_t k = (uint8_t)agency;
    MDB_val v;
    int rc = store_get(txn, self->senders, &k, 1, &v);
    *last = 0;
    if (rc == TACNET_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (v.mv_size != 8)
        return TACNET_ECORRUPT;
    *last = store_u64_get(v.mv_data);
    return 0;
}

/* A case record is its routing state, then the initials its events carry (length(1), up to
 * JOURNAL_INITIALS bytes, zero-padded), which timer notices take. It is rewritten only when one
 * of them changes: most events (concerns, contacts) change neither, and rewriting it for each
 * cost a page of the cases tree (more with many cases) in every synced commit. Older records
 * hold the routing state followed by the seq of the case's latest event (JOURNAL_TAIL_SEQ),
 * or the routing state alone (its latest event then in by_case); their initials are read from
 * that event, and the case's next event rewrites the record in this layout. The routing state's
 * own length comes from its version byte (route.h): a version 1 state is read as it is and
 * written again as version 2 with whatever follows it. */
#define JOURNAL_INITIALS      8
#define JOURNAL_TAIL_INITIALS (1 + JOURNAL_INITIALS)
#define JOURNAL_TAIL_SEQ      8
#define JOURNAL_CASE_MAX      (ROUTE_CASE_BYTES + JOURNAL_TAIL_INITIALS)

/* The length of the routing state in the stored record V, or 0 when V is no case record (an
 * unknown version, or a trailer of no known layout). */
static size_t s_case_route_len(const MDB_val *v)
{
    size_t rl = route_case_len(v->mv_data, v->mv_size);
    size_t tail = v->mv_size - rl;
    return rl && (tail == 0 || tail == JOURNAL_TAIL_SEQ || tail == JOURNAL_TAIL_INITIALS) ? rl : 0;
}

int journal_case_get(journal_t *self, MDB_txn *txn, const uint8_t *ref, size_t len, route_case_t *c,
                     int *found)
{
    MDB_val v;
    int rc = store_get(txn, self->cases, ref, len, &v);
    *found = 0;
    memset(c, 0, sizeof(*c));
    if (rc == TACNET_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    size_t rl = s_case_route_len(&v);
    if (rl == 0 || route_case_decode(v.mv_data, rl, c) != 0)
        return TACNET_ECORRUPT;
    *found = 1;
    return 0;
}

int journal_case_put(journal_t *self, MDB_txn *txn, const uint8_t *ref, size_t len,
                     const route_case_t *c)
{
    uint8_t b[JOURNAL_CASE_MAX] = { 0 };
    size_t n = ROUTE_CASE_BYTES;
    MDB_val v;
    int rc = store_get(txn, self->cases, ref, len, &v);
    if (rc != 0 && rc != TACNET_ENOTFOUND)
        return rc;
    route_case_encode(c, b);
    size_t rl = rc == 0 ? s_case_route_len(&v) : 0;
    if (rl && v.mv_size > rl) {
        if (rl == ROUTE_CASE_BYTES && memcmp(v.mv_data, b, ROUTE_CASE_BYTES) == 0)
            return 0; /* unchanged: the page stays as it is */
        memcpy(b + ROUTE_CASE_BYTES, (const uint8_t *)v.mv_data + rl, v.mv_size - rl);
        n = ROUTE_CASE_BYTES + v.mv_size - rl;
    }
    return store_put(txn, self->cases, ref, len, b, n, 0);
}

/* Keep the initials of the case's latest event in its record (above), writing only when they
 * differ from those kept or the record is in an older layout (a version 1 routing state among
 * them). */
static int s_case_initials_set(journal_t *self, MDB_txn *txn, const uint8_t *ref, size_t len,
                               const ProtobufCBinaryData *initials)
{
    MDB_val v;
    int rc = store_get(txn, self->cases, ref, len, &v);
    if (rc == TACNET_ENOTFOUND)
        return 0; /* no routing state to sit beside (not reached: the event was routed) */
    if (rc != 0)
        return rc;
    size_t rl = s_case_route_len(&v);
    route_case_t c;
    if (rl == 0 || route_case_decode(v.mv_data, rl, &c) != 0)
        return TACNET_ECORRUPT;
    uint8_t b[JOURNAL_CASE_MAX] = { 0 };
    size_t il = initials->len < JOURNAL_INITIALS ? initials->len : JOURNAL_INITIALS;
    route_case_encode(&c, b);
    b[ROUTE_CASE_BYTES] = (uint8_t)il;
    if (il)
        memcpy(b + ROUTE_CASE_BYTES + 1, initials->data, il);
    if (v.mv_size == sizeof(b) && memcmp(v.mv_data, b, sizeof(b)) == 0)
        return 0;
    return store_put(txn, self->cases, ref, len, b, sizeof(b), 0);
}

int journal_append(journal_t *self, MDB_txn *txn, uint64_t seq, const Tacnet__Header *h,
                   const uint8_t *header, size_t hlen, const uint8_t *sealed, size_t slen,
                   const uint8_t *sig, size_t sig_len, uint32_t rcpt_mask, uint64_t now_ms)
{
    uint8_t key[8];
    store_u64_put(key, seq);
    if (!merkle_frame_len_ok(sig_len))
        return TACNET_EINVAL;
    size_t vlen = 8 + 4 + hlen + 4 + slen + sig_len;
    uint8_t *val = xmalloc(vlen), *p = val;
    store_u64_put(p, now_ms);
    p += 8;
    bytes_be32_put(p, (uint32_t)hlen);
    memcpy(p + 4, header, hlen);
    p += 4 + hlen;
    bytes_be32_put(p, (uint32_t)slen);
    memcpy(p + 4, sealed, slen);
    p += 4 + slen;
    memcpy(p, sig, sig_len);
    int rc = store_put(txn, self->journal, key, 8, val, vlen, MDB_APPEND);
    free(val);
    if (rc != 0)
        return rc;
    if ((rc = store_put(txn, self->by_msgid, h->msg_id.data, 16, key, 8, MDB_NOOVERWRITE)) != 0)
        return rc;
    if (rcpt_mask) {
        uint8_t mb[4];
        bytes_be32_put(mb, rcpt_mask);
        if ((rc = store_put(txn, self->rcpt, key, 8, mb, 4, MDB_APPEND)) != 0)
            return rc;
    }
    if ((rc = s_case_initials_set(self, txn, h->case_ref.data, h->case_ref.len, &h->initials)) != 0)
        return rc;
    uint8_t sk = (uint8_t)h->sender, sv[8];
    store_u64_put(sv, h->sender_seq);
    return store_put(txn, self->senders, &sk, 1, sv, 8, 0);
}

/* The second length field of a record holding this value marks it: in place of a header length,
 * a grant record; in place of a sealed length, an event whose body was removed. */
#define JOURNAL_MARK 0xffffffffu
/* ... in place of a header length: a grant carrying its own sealed body and signature (the
 * sender sealed the event again for the grantee when the journal no longer held the body). */
#define JOURNAL_MARK_SEALED 0xfffffffeu

/* An event record (header, then the sealed body or, once removed, its digest, then the
 * signature) into OUT. */
static int s_event_parse(const uint8_t *p, const uint8_t *end, journal_entry_t *out)
{
    out->header_len = bytes_be32_get(p);
    p += 4;
    if ((size_t)(end - p) < out->header_len + 4 + 64)
        return TACNET_ECORRUPT;
    out->header = p;
    p += out->header_len;
    uint32_t slen = bytes_be32_get(p);
    p += 4;
    /* The signature is the rest of the record: 64 bytes, or a batched one (merkle.h). */
    if (slen == JOURNAL_MARK) {
        if ((size_t)(end - p) < SEAL_DIGEST_LEN ||
            !merkle_frame_len_ok((size_t)(end - p) - SEAL_DIGEST_LEN))
            return TACNET_ECORRUPT;
        out->digest = p;
        out->sealed = NULL;
        out->sealed_len = 0;
        out->sig = p + SEAL_DIGEST_LEN;
        out->sig_len = (size_t)(end - out->sig);
        return 0;
    }
    out->sealed_len = slen;
    if ((size_t)(end - p) < out->sealed_len ||
        !merkle_frame_len_ok((size_t)(end - p) - out->sealed_len))
        return TACNET_ECORRUPT;
    out->sealed = p;
    out->sig = p + out->sealed_len;
    out->sig_len = (size_t)(end - out->sig);
    return 0;
}

int journal_get(journal_t *self, MDB_txn *txn, uint64_t seq, journal_entry_t *out)
{
    uint8_t key[8];
    store_u64_put(key, seq);
    MDB_val v;
    int rc = store_get(txn, self->journal, key, 8, &v);
    if (rc != 0)
        return rc;
    const uint8_t *p = v.mv_data, *end = p + v.mv_size;
    memset(out, 0, sizeof(*out));
    if (v.mv_size < 8 + 4 + 8)
        return TACNET_ECORRUPT;
    out->seq = seq;
    out->received_ms = store_u64_get(p);
    p += 8;
    uint32_t mark = bytes_be32_get(p);
    if (mark != JOURNAL_MARK && mark != JOURNAL_MARK_SEALED) {
        if (v.mv_size < 8 + 4 + 4 + 64)
            return TACNET_ECORRUPT;
        out->case_seq = seq;
        return s_event_parse(p, end, out);
    }
    /* A grant: the original event it gives a key to, delivered with the grant. */
    uint64_t orig = store_u64_get(p + 4);
    const uint8_t *grant = p + 12, *sealed = NULL;
    size_t glen = (size_t)(end - grant), slen = 0;
    if (mark == JOURNAL_MARK_SEALED) {
        if (glen < 4 || (glen = bytes_be32_get(grant)) + 8 + 64 > (size_t)(end - grant - 4))
            return TACNET_ECORRUPT;
        grant += 4;
        slen = bytes_be32_get(grant + glen);
        sealed = grant + glen + 4;
        if ((size_t)(end - sealed) != slen + 64)
            return TACNET_ECORRUPT;
    }
    if (orig == 0 || orig >= seq || glen == 0)
        return TACNET_ECORRUPT;
    if ((rc = journal_get(self, txn, orig, out)) != 0)
        return rc == TACNET_ENOTFOUND ? TACNET_ECORRUPT : rc;
    if (out->grant)
        return TACNET_ECORRUPT; /* a grant of a grant */
    out->seq = seq;
    out->case_seq = orig;
    out->grant = grant;
    out->grant_len = glen;
    if (sealed) {
        out->sealed = sealed;
        out->sealed_len = slen;
        out->sig = sealed + slen;
        out->sig_len = SEAL_SIG_BYTES;
        out->digest = NULL;
    }
    return 0;
}

int journal_grant_append(journal_t *self, MDB_txn *txn, uint64_t seq, uint64_t orig_seq,
                         uint32_t grantee, const uint8_t *grant, size_t glen, const uint8_t *dedup,
                         size_t dlen, uint64_t now_ms)
{
    uint8_t key[8];
    store_u64_put(key, seq);
    size_t vlen = 8 + 4 + 8 + glen;
    uint8_t *val = xmalloc(vlen);
    store_u64_put(val, now_ms);
    bytes_be32_put(val + 8, JOURNAL_MARK);
    store_u64_put(val + 12, orig_seq);
    memcpy(val + 20, grant, glen);
    int rc = store_put(txn, self->journal, key, 8, val, vlen, MDB_APPEND);
    free(val);
    if (rc != 0)
        return rc;
    uint8_t mb[4];
    bytes_be32_put(mb, grantee < 32 ? 1u << grantee : 0);
    if ((rc = store_put(txn, self->rcpt, key, 8, mb, 4, MDB_APPEND)) != 0)
        return rc;
    return store_put(txn, self->granted, dedup, dlen, key, 8, MDB_NOOVERWRITE);
}

int journal_grant_append_sealed(journal_t *self, MDB_txn *txn, uint64_t seq, uint64_t orig_seq,
                                uint32_t grantee, const uint8_t *grant, size_t glen,
                                const uint8_t *sealed, size_t slen, const uint8_t *sig,
                                const uint8_t *dedup, size_t dlen, uint64_t now_ms)
{
    uint8_t key[8];
    store_u64_put(key, seq);
    size_t vlen = 8 + 4 + 8 + 4 + glen + 4 + slen + 64;
    uint8_t *val = xmalloc(vlen), *p = val;
    store_u64_put(p, now_ms);
    bytes_be32_put(p + 8, JOURNAL_MARK_SEALED);
    store_u64_put(p + 12, orig_seq);
    bytes_be32_put(p + 20, (uint32_t)glen);
    memcpy(p + 24, grant, glen);
    p += 24 + glen;
    bytes_be32_put(p, (uint32_t)slen);
    memcpy(p + 4, sealed, slen);
    memcpy(p + 4 + slen, sig, 64);
    int rc = store_put(txn, self->journal, key, 8, val, vlen, MDB_APPEND);
    free(val);
    if (rc != 0)
        return rc;
    uint8_t mb[4];
    bytes_be32_put(mb, grantee < 32 ? 1u << grantee : 0);
    if ((rc = store_put(txn, self->rcpt, key, 8, mb, 4, MDB_APPEND)) != 0)
        return rc;
    return store_put(txn, self->granted, dedup, dlen, key, 8, MDB_NOOVERWRITE);
}

int journal_grant_find(journal_t *self, MDB_txn *txn, const uint8_t *dedup, size_t dlen,
                       uint64_t *seq)
{
    MDB_val v;
    int rc = store_get(txn, self->granted, dedup, dlen, &v);
    if (rc != 0)
        return rc;
    if (v.mv_size != 8)
        return TACNET_ECORRUPT;
    *seq = store_u64_get(v.mv_data);
    return 0;
}

int journal_grants_each(journal_t *self, MDB_txn *txn, const uint8_t msg_id[16],
                        int (*fn)(uint32_t grantee, uint64_t seq, void *arg), void *arg)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->granted, &cur) != 0)
        return TACNET_ESTORE;
    MDB_val k = { 16, (void *)msg_id }, d;
    int rc = 0, mrc;
    for (mrc = store_cursor_get(cur, &k, &d, MDB_SET_RANGE); mrc == 0 && rc == 0;
         mrc = store_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size < 17 || memcmp(k.mv_data, msg_id, 16) != 0)
            break;
        if (d.mv_size != 8) {
            rc = TACNET_ECORRUPT;
            break;
        }
        rc = fn(((const uint8_t *)k.mv_data)[16], store_u64_get(d.mv_data), arg);
    }
    mdb_cursor_close(cur);
    if (rc == 0 && mrc != 0 && mrc != TACNET_ENOTFOUND)
        rc = mrc;
    return rc;
}

int journal_body_remove(journal_t *self, MDB_txn *txn, uint64_t seq)
{
    journal_entry_t e;
    int rc = journal_get(self, txn, seq, &e);
    if (rc != 0)
        return rc;
    if (e.grant || !e.sealed)
        return 0; /* a grant holds no body; a removed body is gone already */
    size_t vlen = 8 + 4 + e.header_len + 4 + SEAL_DIGEST_LEN + e.sig_len;
    uint8_t *val = xmalloc(vlen), *p = val;
    store_u64_put(p, e.received_ms);
    p += 8;
    bytes_be32_put(p, (uint32_t)e.header_len);
    memcpy(p + 4, e.header, e.header_len);
    p += 4 + e.header_len;
    bytes_be32_put(p, JOURNAL_MARK);
    seal_digest(e.sealed, e.sealed_len, p + 4);
    memcpy(p + 4 + SEAL_DIGEST_LEN, e.sig, e.sig_len);
    uint8_t key[8];
    store_u64_put(key, seq);
    rc = store_put(txn, self->journal, key, 8, val, vlen, 0);
    free(val);
    /* The walk's digest checkpoint covered the old bytes: the next start hashes the journal
     * afresh and re-verifies its newest records (the removed ones against their digest). */
    if (rc == 0 && (rc = store_del(txn, self->meta, JOURNAL_WALK_KEY, strlen(JOURNAL_WALK_KEY))) ==
                       TACNET_ENOTFOUND)
        rc = 0;
    return rc;
}

int journal_next_for(journal_t *self, MDB_txn *txn, MDB_cursor **cur, uint32_t agency,
                     uint64_t after, uint64_t *seq, uint64_t *scanned)
{
    if (!*cur && mdb_cursor_open(txn, self->rcpt, cur) != 0)
        return TACNET_ESTORE;
    uint8_t start[8];
    store_u64_put(start, after + 1);
    MDB_val k = { sizeof(start), start }, d;
    uint32_t bit = agency < 32 ? 1u << agency : 0;
    uint64_t last = after;
    int rc;
    for (rc = store_cursor_get(*cur, &k, &d, MDB_SET_RANGE); rc == 0;
         rc = store_cursor_get(*cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size != 8 || d.mv_size != 4)
            return TACNET_ECORRUPT;
        uint64_t s = store_u64_get(k.mv_data);
        if (bytes_be32_get(d.mv_data) & bit) {
            *seq = s;
            if (scanned)
                *scanned = s - 1;
            return 0;
        }
        last = s;
    }
    if (rc != TACNET_ENOTFOUND)
        return rc;
    if (scanned)
        *scanned = last;
    return TACNET_ENOTFOUND;
}

uint64_t journal_backlog(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t after,
                         uint64_t limit)
{
    MDB_cursor *cur = NULL;
    uint64_t n = 0, seq = after;
    while (n < limit && journal_next_for(self, txn, &cur, agency, seq, &seq, NULL) == 0)
        n++;
    if (cur)
        mdb_cursor_close(cur);
    return n;
}

int journal_cursor_put(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t upto)
{
    uint8_t k = (uint8_t)agency, v[8];
    store_u64_put(v, upto);
    return store_put(txn, self->cursors, &k, 1, v, 8, 0);
}

int journal_cursor_get(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t *upto)
{
    uint8_t k = (uint8_t)agency;
    MDB_val v;
    *upto = 0;
    int rc = store_get(txn, self->cursors, &k, 1, &v);
    if (rc == TACNET_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (v.mv_size != 8)
        return TACNET_ECORRUPT;
    *upto = store_u64_get(v.mv_data);
    return 0;
}

/* Keys of the cursors database besides an agency's delivery cursor (1 byte): a tag and the
 * agency. Every value is 8 bytes. */
#define JOURNAL_TAG_REPORTED 'd'
#define JOURNAL_TAG_WANTS    'w'

static int s_tagged_get(journal_t *self, MDB_txn *txn, uint8_t tag, uint32_t agency, uint64_t *v,
                        int *found)
{
    uint8_t k[2] = { tag, (uint8_t)agency };
    MDB_val val;
    *v = 0;
    *found = 0;
    int rc = store_get(txn, self->cursors, k, 2, &val);
    if (rc == TACNET_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (val.mv_size != 8)
        return TACNET_ECORRUPT;
    *v = store_u64_get(val.mv_data);
    *found = 1;
    return 0;
}

static int s_tagged_put(journal_t *self, MDB_txn *txn, uint8_t tag, uint32_t agency, uint64_t v)
{
    uint8_t k[2] = { tag, (uint8_t)agency }, val[8];
    store_u64_put(val, v);
    return store_put(txn, self->cursors, k, 2, val, 8, 0);
}

int journal_reported_upto_get(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t *upto,
                              int *found)
{
    return s_tagged_get(self, txn, JOURNAL_TAG_REPORTED, agency, upto, found);
}

int journal_reported_upto_put(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t upto)
{
    return s_tagged_put(self, txn, JOURNAL_TAG_REPORTED, agency, upto);
}

int journal_wants_reports_get(journal_t *self, MDB_txn *txn, uint32_t agency, int *wants)
{
    uint64_t v;
    int found;
    int rc = s_tagged_get(self, txn, JOURNAL_TAG_WANTS, agency, &v, &found);
    *wants = rc == 0 && found && v;
    return rc;
}

int journal_wants_reports_put(journal_t *self, MDB_txn *txn, uint32_t agency, int wants)
{
    return s_tagged_put(self, txn, JOURNAL_TAG_WANTS, agency, wants ? 1 : 0);
}

int journal_audit(journal_t *self, MDB_txn *txn, const char *actor, const char *action,
                  const char *object, const char *outcome, int code)
{
    return audit_append_now(txn, self->audit, actor, action, object, outcome, code);
}

int journal_reported(journal_t *self, MDB_txn *txn, uint32_t agency, uint64_t seq, int mark)
{
    uint8_t k[9] = { (uint8_t)agency };
    store_u64_put(k + 1, seq);
    if (mark)
        return store_put(txn, self->reported, k, 9, "", 0, 0);
    MDB_val v;
    int rc = store_get(txn, self->reported, k, 9, &v);
    return rc == 0 ? 1 : (rc == TACNET_ENOTFOUND ? 0 : rc);
}

/* The seq of the latest event of a case whose record is in an older layout (V): kept in the
 * record, or, older still, in by_case. */
static int s_case_last_legacy(journal_t *self, MDB_txn *txn, const uint8_t *ref, size_t len,
                              const MDB_val *v, uint64_t *seq)
{
    uint8_t ck[64 + 9];
    size_t rl = s_case_route_len(v);
    if (rl && v->mv_size == rl + JOURNAL_TAIL_SEQ) {
        uint64_t last = store_u64_get((const uint8_t *)v->mv_data + rl);
        if (last) {
            *seq = last;
            return 0;
        }
    }
    memcpy(ck, ref, len);
    ck[len] = 0;
    memset(ck + len + 1, 0xff, 8);
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->by_case, &cur) != 0)
        return TACNET_ESTORE;
    /* Position after the case's last key, then step back onto it. */
    MDB_val k = { len + 9, ck }, d;
    int rc = store_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    if (rc == 0 || rc == TACNET_ENOTFOUND)
        rc = store_cursor_get(cur, &k, &d, rc ? MDB_LAST : MDB_PREV);
    int out = TACNET_ENOTFOUND;
    if (rc == 0 && k.mv_size == len + 9 && memcmp(k.mv_data, ck, len + 1) == 0) {
        *seq = store_u64_get((const uint8_t *)k.mv_data + len + 1);
        out = 0;
    } else if (rc != 0 && rc != TACNET_ENOTFOUND) {
        out = rc;
    }
    mdb_cursor_close(cur);
    return out;
}

int journal_case_initials(journal_t *self, MDB_txn *txn, const uint8_t *ref, size_t len,
                          uint8_t out[8], size_t *olen)
{
    *olen = 0;
    if (len == 0 || len > 64)
        return TACNET_ENOTFOUND;
    MDB_val v;
    int rc = store_get(txn, self->cases, ref, len, &v);
    if (rc != 0)
        return rc;
    const uint8_t *b = v.mv_data;
    size_t rl = s_case_route_len(&v);
    if (rl == 0)
        return TACNET_ECORRUPT;
    if (v.mv_size == rl + JOURNAL_TAIL_INITIALS) {
        if (b[rl] > JOURNAL_INITIALS)
            return TACNET_ECORRUPT;
        *olen = b[rl];
        memcpy(out, b + rl + 1, *olen);
        return 0;
    }
    uint64_t seq;
    journal_entry_t e;
    if ((rc = s_case_last_legacy(self, txn, ref, len, &v, &seq)) != 0 ||
        (rc = journal_get(self, txn, seq, &e)) != 0)
        return rc;
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(e.header, e.header_len, &err);
    if (!h)
        return TACNET_ECORRUPT;
    *olen = h->initials.len < JOURNAL_INITIALS ? h->initials.len : JOURNAL_INITIALS;
    memcpy(out, h->initials.data, *olen);
    wire_free(&h->base);
    return 0;
}

int journal_escalation_put(journal_t *self, MDB_txn *txn, const uint8_t *id, const uint8_t *rec,
                           size_t len)
{
    return store_put(txn, self->escalations, id, 16, rec, len, 0);
}

int journal_escalations_each(journal_t *self, MDB_txn *txn,
                             int (*fn)(const uint8_t *rec, size_t len, void *arg), void *arg)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->escalations, &cur) != 0)
        return TACNET_ESTORE;
    MDB_val k, d;
    int rc = 0;
    for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &d, op) == 0 && rc == 0; op = MDB_NEXT)
        rc = fn(d.mv_data, d.mv_size, arg);
    mdb_cursor_close(cur);
    return rc;
}

/* ---------------------------------------------------------------- startup integrity walk */

/* meta "walk" = seq(8) || BLAKE2b-256 over the journal's (key, value) records 1..seq, written
 * after each clean walk: the next walk hashes every record (fast) and compares the digest, and
 * re-verifies signatures only for the records after seq, so a restart does not verify the
 * whole history again. At most JOURNAL_VERIFY_TAIL new records get a signature check per start
 * (the newest ones); older unverified ones are then covered by the digest only. */
#define JOURNAL_VERIFY_TAIL 20000

typedef struct verify_ctx {
    journal_t *self;
    const roster_t *roster;
    uint64_t bad_seq;
    const char *bad_db;
    uint64_t cp_seq, verify_from, last_seq;
    uint8_t cp_digest[32];
    crypto_generichash_state hash;
    int cp_checked;
    size_t verified;
    merkle_cache_t *roots; /* a batch's root is checked once in the walk too */
} verify_ctx_t;

/* The signing key AGENCY used under KEY_ID, whatever its validity now: an event accepted while
 * a key was valid stays valid after the key expires or is revoked. */
static const uint8_t *s_sign_pk(const roster_t *roster, uint32_t agency, uint32_t key_id)
{
    const Tacnet__Roster *r = roster_msg(roster);
    for (size_t i = 0; r && i < r->n_keys; i++) {
        const Tacnet__NodeKey *k = r->keys[i];
        if ((uint32_t)k->agency == agency && k->key_id == key_id && k->sign_pk.len == 32)
            return k->sign_pk.data;
    }
    return NULL;
}

/* A record as journal_get reads it, without following a grant to its event: a grant record
 * (the grant's own signature is checked by the broker when it is made and by its grantee). */
static int s_verify_entry(verify_ctx_t *c, const MDB_val *v)
{
    const uint8_t *p = v->mv_data, *end = p + v->mv_size;
    journal_entry_t e;
    memset(&e, 0, sizeof(e));
    if (v->mv_size < 8 + 4 + 8)
        return TACNET_ECORRUPT;
    uint32_t mark = bytes_be32_get(p + 8);
    if (mark == JOURNAL_MARK || mark == JOURNAL_MARK_SEALED) {
        uint64_t orig = store_u64_get(p + 12);
        return orig && orig < c->last_seq && v->mv_size > 20 ? 0 : TACNET_ECORRUPT;
    }
    if (v->mv_size < 8 + 4 + 4 + SEAL_SIG_BYTES)
        return TACNET_ECORRUPT;
    int rc = s_event_parse(p + 8, end, &e);
    if (rc != 0)
        return rc;
    if (c->last_seq < c->verify_from)
        return 0;
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(e.header, e.header_len, &err);
    if (!h)
        return TACNET_ECORRUPT;
    const uint8_t *pk = s_sign_pk(c->roster, (uint32_t)h->sender, h->sender_key_id);
    wire_free(&h->base);
    if (!pk)
        return TACNET_EKEYID;
    c->verified++;
    if (e.digest)
        return merkle_verify_digest(c->roots, pk, e.header, e.header_len, e.digest, e.sig,
                                    e.sig_len) == 0
                   ? 0
                   : TACNET_ESIGNATURE;
    return merkle_verify(c->roots, pk, e.header, e.header_len, e.sealed, e.sealed_len, e.sig,
                         e.sig_len) == 0
               ? 0
               : TACNET_ESIGNATURE;
}

static int s_verify_record(const char *db, const MDB_val *k, const MDB_val *v, void *arg)
{
    verify_ctx_t *c = arg;
    c->bad_db = db;
    if (strcmp(db, "by_msgid") == 0 || strcmp(db, "senders") == 0 || strcmp(db, "cursors") == 0 ||
        strcmp(db, "granted") == 0)
        return v->mv_size == 8 ? 0 : TACNET_ECORRUPT;
    if (strcmp(db, "by_rcpt") == 0) /* emptied by the rcpt migration at open */
        return k->mv_size == 9 && v->mv_size == 0 ? 0 : TACNET_ECORRUPT;
    if (strcmp(db, "rcpt") == 0)
        return k->mv_size == 8 && v->mv_size == 4 ? 0 : TACNET_ECORRUPT;
    if (strcmp(db, "journal") != 0)
        return 0;
    if (k->mv_size != 8)
        return TACNET_ECORRUPT;
    uint64_t seq = store_u64_get(k->mv_data);
    if (seq <= c->last_seq)
        return TACNET_ECORRUPT;
    c->bad_seq = c->last_seq = seq;
    crypto_generichash_update(&c->hash, k->mv_data, k->mv_size);
    crypto_generichash_update(&c->hash, v->mv_data, v->mv_size);
    if (seq == c->cp_seq) {
        crypto_generichash_state copy = c->hash;
        uint8_t d[32];
        crypto_generichash_final(&copy, d, sizeof(d));
        if (sodium_memcmp(d, c->cp_digest, sizeof(d)) != 0)
            return TACNET_ECORRUPT;
        c->cp_checked = 1;
    }
    return s_verify_entry(c, v);
}

typedef struct walk_put {
    journal_t *self;
    uint8_t val[40];
} walk_put_t;

static int s_walk_put(MDB_txn *txn, void *arg)
{
    walk_put_t *w = arg;
    return store_put(txn, w->self->meta, JOURNAL_WALK_KEY, strlen(JOURNAL_WALK_KEY), w->val,
                     sizeof(w->val), 0);
}

int journal_verify(journal_t *self, const roster_t *roster, size_t *records, char *why,
                   size_t whylen)
{
    verify_ctx_t c = { .self = self, .roster = roster };
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    c.roots = merkle_cache_new();
    MDB_val v;
    if (store_get(txn, self->meta, JOURNAL_WALK_KEY, strlen(JOURNAL_WALK_KEY), &v) == 0) {
        if (v.mv_size != 40) {
            mdb_txn_abort(txn);
            snprintf(why, whylen, "integrity walk: digest checkpoint: %s",
                     tacnet_strerror(TACNET_ECORRUPT));
            return TACNET_ECORRUPT;
        }
        c.cp_seq = store_u64_get(v.mv_data);
        memcpy(c.cp_digest, (const uint8_t *)v.mv_data + 8, 32);
    }
    mdb_txn_abort(txn);
    uint64_t head = self->head;
    c.verify_from = c.cp_seq + 1;
    if (head > c.cp_seq + JOURNAL_VERIFY_TAIL)
        c.verify_from = head - JOURNAL_VERIFY_TAIL + 1;
    crypto_generichash_init(&c.hash, NULL, 0, 32);
    rc = store_walk(self->store, s_verify_record, &c, records);
    merkle_cache_destroy(&c.roots);
    if (rc == 0 && c.cp_seq && !c.cp_checked)
        rc = TACNET_ECORRUPT; /* the checkpointed record is gone: truncated or rewritten */
    uint64_t bad = 0;
    if (rc == 0 && (rc = store_read_begin(self->store, &txn)) == 0) {
        rc = audit_verify(txn, self->audit, NULL, &bad);
        mdb_txn_abort(txn);
        if (rc != 0) {
            snprintf(why, whylen, "integrity walk: audit record %llu: %s", (unsigned long long)bad,
                     tacnet_strerror(rc));
            return rc;
        }
    }
    if (rc != 0) {
        if (c.bad_db && strcmp(c.bad_db, "journal") == 0)
            snprintf(why, whylen, "integrity walk: journal record %llu: %s",
                     (unsigned long long)c.bad_seq,
                     rc == TACNET_ESIGNATURE ? "record signature mismatch"
                     : c.bad_seq == c.cp_seq ? "records differ from the digest checkpoint"
                                             : tacnet_strerror(rc));
        else
            snprintf(why, whylen, "integrity walk: database %s: %s",
                     c.bad_db && *c.bad_db ? c.bad_db : "(main)", tacnet_strerror(rc));
        return rc;
    }
    if (c.last_seq > c.cp_seq) {
        walk_put_t w = { .self = self };
        store_u64_put(w.val, c.last_seq);
        crypto_generichash_final(&c.hash, w.val + 8, 32);
        /* A full map must not stop the start: the next walk verifies these records again. */
        if (store_write(self->store, s_walk_put, &w) != 0)
            c.verified = 0;
    }
    return 0;
}
