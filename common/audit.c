/* audit: encoding, appending and verifying the hash-chained audit records. */
#include "audit.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "clock.h"
#include "err.h"
#include "store.h"

#define AUDIT_VERSION   1
#define AUDIT_HEAD_SIZE (8 + AUDIT_HASH_BYTES)

enum {
    OFF_VERSION = 0,
    OFF_SEQ = 1,
    OFF_AT = 9,
    OFF_CODE = 17,
    OFF_ACTOR = 21,
    OFF_ACTION = 69,
    OFF_OBJECT = 101,
    OFF_OUTCOME = 173,
    OFF_REASON = 189,
    OFF_PREV = 221,
    OFF_HASH = 253,
};

_Static_assert(OFF_ACTION == OFF_ACTOR + sizeof(((audit_record_t *)0)->actor), "layout");
_Static_assert(OFF_OBJECT == OFF_ACTION + sizeof(((audit_record_t *)0)->action), "layout");
_Static_assert(OFF_OUTCOME == OFF_OBJECT + sizeof(((audit_record_t *)0)->object), "layout");
_Static_assert(OFF_REASON == OFF_OUTCOME + sizeof(((audit_record_t *)0)->outcome), "layout");
_Static_assert(OFF_PREV == OFF_REASON + sizeof(((audit_record_t *)0)->reason), "layout");
_Static_assert(OFF_HASH + AUDIT_HASH_BYTES == AUDIT_RECORD_BYTES, "layout");

/* The head (count and last hash) sits after every record, so an append rewrites one leaf of the
 * tree for both (at the front, the head cost a leaf and a branch page of its own per commit).
 * Nine 0xff bytes sort after any 8-byte seq. Chains written before keep theirs under eight zero
 * bytes (s_legacy_head_key), moved to the end by their next append. */
static const uint8_t s_head_key[9] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t s_legacy_head_key[8] = { 0 };
/* After a prune: first kept seq (8) || hash of the last pruned record (32). Nine zero bytes:
 * it sorts between the head and record 1, so MDB_APPEND of new records still works. */
static const uint8_t s_anchor_key[9] = { 0 };
#define AUDIT_ANCHOR_SIZE (8 + AUDIT_HASH_BYTES)

/* The anchor: *FIRST (1 when none) and the prev_hash the first record must carry (zeros when
 * none). Returns 0, or TACNET_EAUDIT for a malformed anchor, or a store code. */
static int s_anchor(MDB_txn *txn, MDB_dbi dbi, uint64_t *first, uint8_t prev[AUDIT_HASH_BYTES])
{
    MDB_val v;
    *first = 1;
    memset(prev, 0, AUDIT_HASH_BYTES);
    int rc = store_get(txn, dbi, s_anchor_key, sizeof(s_anchor_key), &v);
    if (rc == TACNET_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (v.mv_size != AUDIT_ANCHOR_SIZE || store_u64_get(v.mv_data) < 2)
        return TACNET_EAUDIT;
    *first = store_u64_get(v.mv_data);
    memcpy(prev, (const uint8_t *)v.mv_data + 8, AUDIT_HASH_BYTES);
    return 0;
}

static int s_is_head(const MDB_val *k)
{
    return (k->mv_size == sizeof(s_head_key) &&
            memcmp(k->mv_data, s_head_key, sizeof(s_head_key)) == 0) ||
           (k->mv_size == sizeof(s_legacy_head_key) &&
            memcmp(k->mv_data, s_legacy_head_key, sizeof(s_legacy_head_key)) == 0);
}

/* The head into HEAD (zeros when the chain is empty); *LEGACY = 1 when it is still at the front.
 * Returns 0, TACNET_EAUDIT for a head of the wrong size, or a store code. */
static int s_head_get(MDB_txn *txn, MDB_dbi dbi, uint8_t head[8 + AUDIT_HASH_BYTES], int *legacy)
{
    MDB_val v;
    *legacy = 0;
    memset(head, 0, 8 + AUDIT_HASH_BYTES);
    int rc = store_get(txn, dbi, s_head_key, sizeof(s_head_key), &v);
    if (rc == TACNET_ENOTFOUND) {
        rc = store_get(txn, dbi, s_legacy_head_key, sizeof(s_legacy_head_key), &v);
        *legacy = rc == 0;
    }
    if (rc == TACNET_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (v.mv_size != 8 + AUDIT_HASH_BYTES)
        return TACNET_EAUDIT;
    memcpy(head, v.mv_data, v.mv_size);
    return 0;
}

static int s_is_anchor(const MDB_val *k)
{
    return k->mv_size == sizeof(s_anchor_key) &&
           memcmp(k->mv_data, s_anchor_key, sizeof(s_anchor_key)) == 0;
}

/* Printable ASCII only: the fields are codes and ids, and `tacnet audit` prints them raw. */
static int s_field_ok(const char *s, size_t cap)
{
    const char *nul = memchr(s, '\0', cap);
    if (!nul)
        return 0;
    for (const char *p = s; p < nul; p++)
        if (*p < 0x20 || *p > 0x7e)
            return 0;
    return 1;
}

/* The stored form is canonical: the NUL and everything after it in the field are zero, so
 * exactly one byte string encodes a record and the hash covers no slack. */
static int s_field_canonical(const uint8_t *f, size_t cap)
{
    const uint8_t *nul = memchr(f, 0, cap);
    if (!nul)
        return 0;
    for (const uint8_t *p = f; p < nul; p++)
        if (*p < 0x20 || *p > 0x7e)
            return 0;
    for (const uint8_t *p = nul; p < f + cap; p++)
        if (*p != 0)
            return 0;
    return 1;
}

static void s_hash(uint8_t out[AUDIT_HASH_BYTES], const uint8_t rec[AUDIT_RECORD_BYTES])
{
    crypto_generichash(out, AUDIT_HASH_BYTES, rec, OFF_HASH, NULL, 0);
}

static void s_encode(uint8_t out[AUDIT_RECORD_BYTES], uint64_t seq, const audit_record_t *rec,
                     const uint8_t prev[AUDIT_HASH_BYTES])
{
    memset(out, 0, AUDIT_RECORD_BYTES);
    out[OFF_VERSION] = AUDIT_VERSION;
    store_u64_put(out + OFF_SEQ, seq);
    store_u64_put(out + OFF_AT, rec->at_ms);
    bytes_be32_put(out + OFF_CODE, (uint32_t)rec->code);
    memcpy(out + OFF_ACTOR, rec->actor, strlen(rec->actor));
    memcpy(out + OFF_ACTION, rec->action, strlen(rec->action));
    memcpy(out + OFF_OBJECT, rec->object, strlen(rec->object));
    memcpy(out + OFF_OUTCOME, rec->outcome, strlen(rec->outcome));
    memcpy(out + OFF_REASON, rec->reason, strlen(rec->reason));
    memcpy(out + OFF_PREV, prev, AUDIT_HASH_BYTES);
    s_hash(out + OFF_HASH, out);
}

/* Structure only (no hash check). Returns 0 or TACNET_ECORRUPT. */
static int s_decode(const MDB_val *v, uint64_t *seq, audit_record_t *rec)
{
    const uint8_t *b = v->mv_data;
    if (v->mv_size != AUDIT_RECORD_BYTES || b[OFF_VERSION] != AUDIT_VERSION)
        return TACNET_ECORRUPT;
    if (!s_field_canonical(b + OFF_ACTOR, sizeof(rec->actor)) ||
        !s_field_canonical(b + OFF_ACTION, sizeof(rec->action)) ||
        !s_field_canonical(b + OFF_OBJECT, sizeof(rec->object)) ||
        !s_field_canonical(b + OFF_OUTCOME, sizeof(rec->outcome)) ||
        !s_field_canonical(b + OFF_REASON, sizeof(rec->reason)))
        return TACNET_ECORRUPT;
    *seq = store_u64_get(b + OFF_SEQ);
    rec->at_ms = store_u64_get(b + OFF_AT);
    rec->code = (int32_t)bytes_be32_get(b + OFF_CODE);
    memcpy(rec->actor, b + OFF_ACTOR, sizeof(rec->actor));
    memcpy(rec->action, b + OFF_ACTION, sizeof(rec->action));
    memcpy(rec->object, b + OFF_OBJECT, sizeof(rec->object));
    memcpy(rec->outcome, b + OFF_OUTCOME, sizeof(rec->outcome));
    memcpy(rec->reason, b + OFF_REASON, sizeof(rec->reason));
    return 0;
}

int audit_append(MDB_txn *txn, MDB_dbi dbi, const audit_record_t *rec, uint64_t *seq_out)
{
    if (!txn || !rec || !s_field_ok(rec->actor, sizeof(rec->actor)) ||
        !s_field_ok(rec->action, sizeof(rec->action)) ||
        !s_field_ok(rec->object, sizeof(rec->object)) ||
        !s_field_ok(rec->outcome, sizeof(rec->outcome)) ||
        !s_field_ok(rec->reason, sizeof(rec->reason)) || !rec->actor[0] || !rec->action[0])
        return TACNET_EINVAL;

    uint8_t head[AUDIT_HEAD_SIZE];
    int legacy = 0;
    int rc = s_head_get(txn, dbi, head, &legacy);
    if (rc != 0)
        return rc;
    uint64_t seq = store_u64_get(head) + 1;
    if (seq == 0)
        return TACNET_EAUDIT;

    uint8_t buf[AUDIT_RECORD_BYTES];
    s_encode(buf, seq, rec, head + 8);
    uint8_t key[8];
    store_u64_put(key, seq);
    /* Nothing may sit at or above the new seq (no record the head does not vouch for): the
     * first key from there on must be the head's. */
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
        return store_lmdb_err(rc);
    MDB_val k = { sizeof(key), key }, v;
    rc = store_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    int above = rc == 0 && !s_is_head(&k);
    mdb_cursor_close(cur);
    if (rc != 0 && rc != TACNET_ENOTFOUND)
        return rc;
    if (above)
        return TACNET_EEXISTS;
    if ((rc = store_put(txn, dbi, key, sizeof(key), buf, sizeof(buf), MDB_NOOVERWRITE)) != 0)
        return rc;
    store_u64_put(head, seq);
    memcpy(head + 8, buf + OFF_HASH, AUDIT_HASH_BYTES);
    rc = store_put(txn, dbi, s_head_key, sizeof(s_head_key), head, sizeof(head), 0);
    if (rc == 0 && legacy)
        rc = store_del(txn, dbi, s_legacy_head_key, sizeof(s_legacy_head_key));
    if (rc != 0)
        return rc;
    if (seq_out)
        *seq_out = seq;
    return 0;
}

int audit_append_now(MDB_txn *txn, MDB_dbi dbi, const char *actor, const char *action,
                     const char *object, const char *outcome, int code)
{
    audit_record_t rec;
    memset(&rec, 0, sizeof(rec));
    rec.at_ms = clock_now_ms();
    snprintf(rec.actor, sizeof(rec.actor), "%s", actor);
    snprintf(rec.action, sizeof(rec.action), "%s", action);
    snprintf(rec.object, sizeof(rec.object), "%s", object);
    snprintf(rec.outcome, sizeof(rec.outcome), "%s", outcome);
    snprintf(rec.reason, sizeof(rec.reason), "%s", code ? tacnet_errname(code) : "");
    rec.code = code;
    return audit_append(txn, dbi, &rec, NULL);
}

/* Walk the records in key order; stop at the first that does not continue the chain. */
static int s_walk(MDB_cursor *cur, uint64_t *count, uint64_t *bad, int *have_head,
                  uint8_t head[AUDIT_HEAD_SIZE], uint8_t last[AUDIT_HASH_BYTES])
{
    uint64_t expect = 1;
    uint8_t prev[AUDIT_HASH_BYTES] = { 0 };
    MDB_val k, v;
    int rc = s_anchor(mdb_cursor_txn(cur), mdb_cursor_dbi(cur), &expect, prev);
    *bad = 0;
    if (rc == TACNET_EAUDIT) {
        *bad = 1;
        *count = 0;
        return 0;
    }
    if (rc != 0)
        return rc;
    for (rc = store_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = store_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (s_is_anchor(&k))
            continue;
        if (s_is_head(&k)) {
            /* Two heads (the old place and the new) is a tampered file, not an old one. */
            *have_head = v.mv_size == AUDIT_HEAD_SIZE && *have_head == 0 ? 1 : -1;
            if (*have_head == 1)
                memcpy(head, v.mv_data, AUDIT_HEAD_SIZE);
            continue;
        }
        if (k.mv_size != 8 || store_u64_get(k.mv_data) != expect) {
            *bad = expect;
            break;
        }
        audit_record_t rec;
        uint64_t seq = 0;
        uint8_t h[AUDIT_HASH_BYTES];
        const uint8_t *b = v.mv_data;
        if (s_decode(&v, &seq, &rec) != 0 || seq != expect ||
            sodium_memcmp(b + OFF_PREV, prev, AUDIT_HASH_BYTES) != 0) {
            *bad = expect;
            break;
        }
        s_hash(h, b);
        if (sodium_memcmp(h, b + OFF_HASH, AUDIT_HASH_BYTES) != 0) {
            *bad = expect;
            break;
        }
        memcpy(prev, h, AUDIT_HASH_BYTES);
        expect++;
    }
    *count = expect - 1;
    memcpy(last, prev, AUDIT_HASH_BYTES);
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

int audit_verify(MDB_txn *txn, MDB_dbi dbi, uint64_t *count, uint64_t *first_bad)
{
    if (!txn)
        return TACNET_EINVAL;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return store_lmdb_err(rc);
    uint64_t n = 0, bad = 0;
    int have_head = 0;
    uint8_t head[AUDIT_HEAD_SIZE] = { 0 }, last[AUDIT_HASH_BYTES];
    rc = s_walk(cur, &n, &bad, &have_head, head, last);
    mdb_cursor_close(cur);
    if (rc != 0)
        return rc;

    if (bad == 0) {
        /* The records chain; the head says how many there must be and how the last hashes. */
        uint64_t want = have_head == 1 ? store_u64_get(head) : 0;
        if (have_head < 0 || (have_head == 0 && n > 0))
            bad = n;
        else if (want > n)
            bad = n + 1; /* records missing at the end */
        else if (want < n)
            bad = want + 1; /* records the head never vouched for */
        else if (n > 0 && sodium_memcmp(head + 8, last, AUDIT_HASH_BYTES) != 0)
            bad = n;
    }
    if (count)
        *count = bad ? bad - 1 : n;
    if (first_bad)
        *first_bad = bad;
    return bad ? TACNET_EAUDIT : 0;
}

int audit_verify_dir(const char *lmdb_dir, uint64_t *count, uint64_t *first_bad)
{
    if (!lmdb_dir)
        return TACNET_EINVAL;
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    int rc = store_peek_begin(lmdb_dir, &env, &txn);
    if (rc == 0)
        rc = store_lmdb_err(mdb_dbi_open(txn, AUDIT_DB, 0, &dbi));
    if (rc == 0)
        rc = audit_verify(txn, dbi, count, first_bad);
    store_peek_end(&env, &txn);
    return rc;
}

int audit_iterate(MDB_txn *txn, MDB_dbi dbi, uint64_t from_seq,
                  int (*fn)(uint64_t seq, const audit_record_t *rec, void *arg), void *arg)
{
    if (!txn || !fn)
        return TACNET_EINVAL;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return store_lmdb_err(rc);
    uint8_t start[8];
    store_u64_put(start, from_seq ? from_seq : 1);
    MDB_val k = { .mv_size = sizeof(start), .mv_data = start }, v;
    for (rc = store_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = store_cursor_get(cur, &k, &v, MDB_NEXT)) {
        audit_record_t rec;
        uint64_t seq = 0;
        if (s_is_anchor(&k) || s_is_head(&k))
            continue;
        if (k.mv_size != 8 || s_decode(&v, &seq, &rec) != 0 || seq != store_u64_get(k.mv_data)) {
            rc = TACNET_ECORRUPT;
            goto fail;
        }
        rc = fn(seq, &rec, arg);
        if (rc != 0)
            goto fail;
    }
    rc = rc == TACNET_ENOTFOUND ? 0 : rc;
fail:
    mdb_cursor_close(cur);
    return rc;
}

int audit_prune(MDB_txn *txn, MDB_dbi dbi, uint64_t before_ms, uint64_t *pruned)
{
    if (!txn)
        return TACNET_EINVAL;
    uint64_t first, last = 0;
    uint8_t prev[AUDIT_HASH_BYTES];
    if (pruned)
        *pruned = 0;
    int rc = s_anchor(txn, dbi, &first, prev);
    if (rc != 0)
        return rc;
    MDB_val v;
    uint8_t head[AUDIT_HEAD_SIZE];
    int legacy = 0;
    if ((rc = s_head_get(txn, dbi, head, &legacy)) != 0)
        return rc;
    last = store_u64_get(head);
    if (last == 0)
        return 0; /* an empty chain */
    uint64_t seq = first, n = 0;
    /* The newest record always stays: the head vouches for it, and it is where the chain goes
     * on from. */
    for (; seq < last; seq++) {
        uint8_t key[8];
        store_u64_put(key, seq);
        if ((rc = store_get(txn, dbi, key, 8, &v)) != 0)
            return rc == TACNET_ENOTFOUND ? TACNET_EAUDIT : rc;
        audit_record_t rec;
        uint64_t got = 0;
        if (s_decode(&v, &got, &rec) != 0 || got != seq)
            return TACNET_EAUDIT;
        if (rec.at_ms >= before_ms)
            break;
        memcpy(prev, (const uint8_t *)v.mv_data + OFF_HASH, AUDIT_HASH_BYTES);
        if ((rc = store_del(txn, dbi, key, 8)) != 0)
            return rc;
        n++;
    }
    if (n) {
        uint8_t anchor[AUDIT_ANCHOR_SIZE];
        store_u64_put(anchor, seq);
        memcpy(anchor + 8, prev, AUDIT_HASH_BYTES);
        rc = store_put(txn, dbi, s_anchor_key, sizeof(s_anchor_key), anchor, sizeof(anchor), 0);
        if (rc != 0)
            return rc;
    }
    if (pruned)
        *pruned = n;
    return 0;
}
