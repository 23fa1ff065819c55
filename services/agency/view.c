/* view: the agency's own LMDB view — events encrypted at rest, blind case indexes, case state.
 *
 * Every case has its own random key (case_keys, wrapped under the agency's rest key); the case's
 * events, its state record and its identity register are encrypted under it, so destroying that
 * one key destroys the case (crypto-shredding, sweep.c), whatever copies of its ciphertext stay
 * behind in free pages or backups.
 *
 * Databases:
 *   meta       "last_applied" | "sender_seq" | "local_seq" | "view_format" -> u64 BE
 *   outbox, outbox_ids, outbox_case, dead, settled, delivered, dead_body, withdrawn, unapplied,
 *   accepted                              the queued, refused and accepted publishes: outbox.h
 *   import_jobs, import_ids               the latest intake import job and its events: import.c
 *   api_ids    key id(16) -> sender_seq(8) msg_id(16) print(16) (24 bytes before prints)
 *                                         API request keys (retries): the id is a hash of the key;
 *                                         an 8-byte value is older, its msg_id the key id itself
 *   events     local_seq(8) -> blind(16) enc_case(broker seq(8) hlen(4) header body)
 *                                                                  AD "events" || local_seq
 *   applied    msg_id(16) -> local_seq(8)                                   idempotent apply
 *   by_case    blind(16) local_seq(8) -> empty, or enc_case(content key(32) sealed digest(32))
 *                                         the case's timeline; the value is the event's content
 *                                         key kept for granting it to a later member (history.c)
 *   cases      blind(16) -> enc_case(route_case(32) last_ms(8) reflen(1) ref initials)
 *   identity   blind(16) -> enc_case(names, NUL separated)
 *   case_keys  blind(16) -> enc_rest(case key(32))                          AD "case_keys" || blind
 *   holds      blind(16) -> enc_rest(reason(4) set_ms(8) ref)               (sweep.c)
 *   tombstones blind(16) -> class(1) closed_date(4) shredded_ms(8)         (sweep.c)
 *   quarantine broker seq(8) -> code(4) header                              (never the body)
 *   event_keys blind(16) msg_id(16) -> ...  views before format 3 kept the content keys here;
 *                                         they move into by_case when the view is opened
 *   grants     grantee(1) msg_id(16) done(1) -> packed Grant: waiting for the broker (history.c)
 *   history    local_seq(8) -> granter(1): the event came as history on joining
 *   history_wait blind(16) -> agencies (u32 BE bit mask) whose grants are still due (history.c)
 *   audit      common/audit.h
 * enc_X(v) is seal_at_rest under key X with AD = database name || record key (vault.c, which holds
 * the rest key and the blind key and wraps the case keys).
 *
 * view_format 2 is the per-case layout. A view written before it (no view_format: everything
 * under the rest key, events without the blind prefix) is migrated when it is opened, in one
 * transaction, so a view is always wholly one format or the other. Format 3 keeps each event's
 * content key in its by_case value instead of a tree of its own (event_keys), so applying an
 * event touches one tree fewer per synced commit; an older view's event_keys are folded into
 * by_case in the same migrating transaction.
 */
#include "internal.h"
#include "agency/history.h"
#include "agency/vault.h"
#include "agencies.h"
#include "casework/casestate.h"
#include "casework/kin.h"
#include "audit.h"
#include "bytes.h"
#include "err.h"
#include "log.h"
#include "wire.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_dbs[] = { "meta",      "outbox",      "outbox_ids",   "dead",
                                     "events",    "applied",     "by_case",      "cases",
                                     "identity",  "quarantine",  AUDIT_DB,       "outbox_case",
                                     "case_keys", "holds",       "tombstones",   "api_ids",
                                     "settled",   "delivered",   "dead_body",    "withdrawn",
                                     "unapplied", "import_jobs", "import_ids",   "event_keys",
                                     "grants",    "history",     "history_wait", "accepted" };
#define N_DBS (sizeof(s_dbs) / sizeof(s_dbs[0]))

void agency_view_close(agency_t *self)
{
    store_destroy(&self->store);
}

void agency_view_blind(const agency_t *self, const uint8_t *ref, size_t len, uint8_t out[16])
{
    agency_vault_blind(self->vault, ref, len, out);
}

int agency_meta_get(agency_t *self, MDB_txn *txn, const char *key, uint64_t *v)
{
    MDB_val d;
    *v = 0;
    int rc = store_get(txn, self->meta, key, strlen(key), &d);
    if (rc == TACNET_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (d.mv_size != 8)
        return TACNET_ECORRUPT;
    *v = store_u64_get(d.mv_data);
    return 0;
}

int agency_meta_put(agency_t *self, MDB_txn *txn, const char *key, uint64_t v)
{
    uint8_t b[8];
    store_u64_put(b, v);
    return store_put(txn, self->meta, key, strlen(key), b, 8, 0);
}

/* Encrypt VAL under case key CK (NULL: the rest key) for database DB, record key KEY (both bound
 * as associated data), with PREFIX (PLEN bytes, clear) before the ciphertext, and put it. */
static int s_put_sealed(agency_t *self, MDB_txn *txn, MDB_dbi dbi,
                        const agency_vault_case_key_t *ck, const char *db, const void *key,
                        size_t klen, const uint8_t *prefix, size_t plen, const uint8_t *val,
                        size_t vlen)
{
    uint8_t *enc = NULL;
    size_t elen = 0;
    int rc =
        agency_vault_seal(self->vault, ck, db, key, klen, prefix, plen, val, vlen, &enc, &elen);
    if (rc == 0)
        rc = store_put(txn, dbi, key, klen, enc, elen, 0);
    free(enc);
    return rc;
}

/* Get and decrypt a record under case key CK (NULL: the rest key); *OUT malloc'd (caller wipes
 * and frees). */
static int s_get_sealed(agency_t *self, MDB_txn *txn, MDB_dbi dbi,
                        const agency_vault_case_key_t *ck, const char *db, const void *key,
                        size_t klen, uint8_t **out, size_t *outlen)
{
    MDB_val v;
    int rc = store_get(txn, dbi, key, klen, &v);
    if (rc != 0)
        return rc;
    return agency_vault_open(self->vault, ck, db, key, klen, v.mv_data, v.mv_size, out, outlen);
}

static void s_free_secret(uint8_t *p, size_t len)
{
    if (p) {
        sodium_memzero(p, len);
        free(p);
    }
}

/* Keep the vault's keys readable across an operation on many records (each record would
 * otherwise unlock and lock them). Returns whether to call s_release: when the hold is refused,
 * each record's own unlock reports it. */
static bool s_hold(agency_t *self)
{
    return agency_vault_hold(self->vault) == 0;
}

static void s_release(agency_t *self, bool held)
{
    if (held)
        agency_vault_release(self->vault);
}

int agency_view_put_rest(agency_t *self, MDB_txn *txn, MDB_dbi dbi, const char *db, const void *key,
                         size_t klen, const uint8_t *val, size_t vlen)
{
    return s_put_sealed(self, txn, dbi, NULL, db, key, klen, NULL, 0, val, vlen);
}

int agency_view_get_rest(agency_t *self, MDB_txn *txn, MDB_dbi dbi, const char *db, const void *key,
                         size_t klen, uint8_t **out, size_t *outlen)
{
    return s_get_sealed(self, txn, dbi, NULL, db, key, klen, out, outlen);
}

void agency_view_case_keys_keep(agency_t *self)
{
    agency_view_case_keys_forget(self);
    self->keeping_keys = self->kept_keys != NULL;
}

void agency_view_case_keys_forget(agency_t *self)
{
    if (self->kept_keys)
        sodium_memzero(self->kept_keys, AGENCY_KEPT_CASE_KEYS * sizeof(*self->kept_keys));
    self->n_kept_keys = 0;
    self->keeping_keys = 0;
}

/* Unwrap the key of case BLIND into *CK, the caller's own (the caller wipes it with
 * agency_vault_case_key_wipe: verifier threads read case records at the same time, so there is
 * no shared scratch), drawing a new one when CREATE and the case has none. Returns 0,
 * TACNET_ENOTFOUND (no key: a shredded or unknown case), TACNET_ECORRUPT, or a store code. */
static int s_case_key(agency_t *self, MDB_txn *txn, const uint8_t blind[16], int create,
                      agency_vault_case_key_t *ck)
{
    /* Kept keys only inside a DELIVER batch's transaction, which the loop thread runs after the
     * verifier threads have finished preparing the batch. */
    for (size_t i = 0; self->keeping_keys && i < self->n_kept_keys; i++) {
        if (sodium_memcmp(self->kept_keys[i].blind, blind, 16) == 0) {
            memcpy(ck->k, self->kept_keys[i].k, sizeof(ck->k));
            return 0;
        }
    }
    MDB_val v;
    int rc = store_get(txn, self->case_keys, blind, 16, &v);
    if (rc == 0) {
        rc = agency_vault_case_key_open(self->vault, blind, v.mv_data, v.mv_size, ck);
        if (rc == 0 && self->keeping_keys && self->n_kept_keys < AGENCY_KEPT_CASE_KEYS) {
            struct agency_kept_case_key *kk = &self->kept_keys[self->n_kept_keys++];
            memcpy(kk->blind, blind, 16);
            memcpy(kk->k, ck->k, sizeof(kk->k));
        }
        return rc;
    }
    if (rc != TACNET_ENOTFOUND || !create)
        return rc;
    uint8_t *wrapped = NULL;
    size_t wlen = 0;
    if ((rc = agency_vault_case_key_new(self->vault, blind, ck, &wrapped, &wlen)) == 0)
        rc = store_put(txn, self->case_keys, blind, 16, wrapped, wlen, 0);
    free(wrapped);
    return rc;
}

/* Put VAL encrypted under the key of case BLIND (created on first use). */
static int s_put_case(agency_t *self, MDB_txn *txn, MDB_dbi dbi, const char *db,
                      const uint8_t blind[16], const void *key, size_t klen, const uint8_t *prefix,
                      size_t plen, const uint8_t *val, size_t vlen)
{
    agency_vault_case_key_t ck;
    int rc = s_case_key(self, txn, blind, 1, &ck);
    if (rc == 0)
        rc = s_put_sealed(self, txn, dbi, &ck, db, key, klen, prefix, plen, val, vlen);
    agency_vault_case_key_wipe(&ck);
    return rc;
}

/* Get and decrypt a record of case BLIND; ENOTFOUND when the record or the case's key is gone. */
static int s_get_case(agency_t *self, MDB_txn *txn, MDB_dbi dbi, const char *db,
                      const uint8_t blind[16], const void *key, size_t klen, uint8_t **out,
                      size_t *outlen)
{
    MDB_val v;
    int rc = store_get(txn, dbi, key, klen, &v);
    if (rc != 0)
        return rc;
    agency_vault_case_key_t ck;
    if ((rc = s_case_key(self, txn, blind, 0, &ck)) == 0)
        rc = agency_vault_open(self->vault, &ck, db, key, klen, v.mv_data, v.mv_size, out, outlen);
    agency_vault_case_key_wipe(&ck);
    return rc;
}

int agency_view_put_case(agency_t *self, MDB_txn *txn, MDB_dbi dbi, const char *db,
                         const uint8_t blind[16], const void *key, size_t klen, const uint8_t *val,
                         size_t vlen)
{
    return s_put_case(self, txn, dbi, db, blind, key, klen, NULL, 0, val, vlen);
}

int agency_view_get_case(agency_t *self, MDB_txn *txn, MDB_dbi dbi, const char *db,
                         const uint8_t blind[16], const void *key, size_t klen, uint8_t **out,
                         size_t *outlen)
{
    return s_get_case(self, txn, dbi, db, blind, key, klen, out, outlen);
}

/* An event record: blind(16) then the case-key ciphertext. */
static int s_event_open(agency_t *self, MDB_txn *txn, const uint8_t lk[8], const MDB_val *v,
                        uint8_t **out, size_t *outlen)
{
    if (v->mv_size < 16)
        return TACNET_ECORRUPT;
    const uint8_t *blind = v->mv_data;
    agency_vault_case_key_t ck;
    int rc = s_case_key(self, txn, blind, 0, &ck);
    if (rc == 0)
        rc = agency_vault_open(self->vault, &ck, "events", lk, 8, blind + 16, v->mv_size - 16, out,
                               outlen);
    agency_vault_case_key_wipe(&ck);
    return rc;
}

/* ------------------------------------------------------------------ the startup integrity walk */

typedef struct walk_ctx {
    agency_t *self;
    const char *db;
    uint64_t key;
} walk_ctx_t;

/* Records under the rest key must authenticate; the applied index holds 8-byte values. */
static int s_walk_record(const char *db, const MDB_val *k, const MDB_val *v, void *arg)
{
    walk_ctx_t *c = arg;
    c->db = db;
    c->key = k->mv_size == 8 ? store_u64_get(k->mv_data) : 0;
    if (strcmp(db, "applied") == 0)
        return v->mv_size == 8 ? 0 : TACNET_ECORRUPT;
    if (strcmp(db, "case_keys") != 0 && strcmp(db, "holds") != 0)
        return 0;
    uint8_t *out = NULL;
    size_t outlen = 0;
    int rc = agency_vault_open(c->self->vault, NULL, db, k->mv_data, k->mv_size, v->mv_data,
                               v->mv_size, &out, &outlen);
    s_free_secret(out, outlen);
    return rc == 0 ? 0 : TACNET_ECORRUPT;
}

/* Every record under a case key (events, case records, identity registers) must authenticate:
 * a flipped bit in any of them fails its MAC (T06). */
static int s_walk_cases(agency_t *self, walk_ctx_t *c)
{
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    const struct {
        const char *db;
        MDB_dbi dbi;
    } dbs[] = { { "events", self->events },
                { "cases", self->cases },
                { "identity", self->identity } };
    for (size_t d = 0; rc == 0 && d < sizeof(dbs) / sizeof(dbs[0]); d++) {
        MDB_cursor *cur;
        if ((rc = mdb_cursor_open(txn, dbs[d].dbi, &cur)) != 0) {
            rc = TACNET_ESTORE;
            break;
        }
        MDB_val k, v;
        c->db = dbs[d].db;
        for (int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && rc == 0;
             mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            uint8_t *out = NULL;
            size_t outlen = 0;
            if (d == 0) {
                c->key = k.mv_size == 8 ? store_u64_get(k.mv_data) : 0;
                rc = k.mv_size == 8 ? s_event_open(self, txn, k.mv_data, &v, &out, &outlen)
                                    : TACNET_ECORRUPT;
            } else {
                c->key = 0;
                rc = k.mv_size == 16 ? s_get_case(self, txn, dbs[d].dbi, dbs[d].db, k.mv_data,
                                                  k.mv_data, 16, &out, &outlen)
                                     : TACNET_ECORRUPT;
            }
            s_free_secret(out, outlen);
            if (rc != 0)
                rc = TACNET_ECORRUPT;
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    return rc;
}

/* The startup integrity walk: every page LMDB visits, every encrypted record's MAC, the audit
 * chain. Nothing is repaired: a failure refuses to start, naming the record. */
static int s_walk(agency_t *self, char *why, size_t whylen)
{
    walk_ctx_t c = { .self = self };
    size_t n = 0;
    uint64_t t0 = clock_mono_ms();
    int rc = store_walk(self->store, s_walk_record, &c, &n);
    if (rc == 0)
        rc = s_walk_cases(self, &c);
    if (rc != 0) {
        if (c.db && strcmp(c.db, "events") == 0)
            snprintf(why, whylen, "%s: integrity walk: event record %llu does not authenticate",
                     self->data_dir, (unsigned long long)c.key);
        else
            snprintf(why, whylen, "%s: integrity walk: database %s: %s", self->data_dir,
                     c.db && *c.db ? c.db : "(main)", tacnet_strerror(rc));
        return rc;
    }
    MDB_txn *txn;
    uint64_t bad = 0;
    if ((rc = store_read_begin(self->store, &txn)) == 0) {
        rc = audit_verify(txn, self->audit, NULL, &bad);
        mdb_txn_abort(txn);
    }
    if (rc != 0) {
        snprintf(why, whylen, "%s: integrity walk: audit record %llu: %s", self->data_dir,
                 (unsigned long long)bad, tacnet_strerror(rc));
        return rc;
    }
    log_info("integrity walk: %zu records in %llu ms", n,
             (unsigned long long)(clock_mono_ms() - t0));
    return 0;
}

/* The per-case layout with the kept content keys in by_case (see the top of this file). */
#define VIEW_FORMAT 3u

typedef struct view_migration {
    agency_t *self;
    int migrated;
    uint64_t cases, events, identities, kept;
    char why[96];
} view_migration_t;

/* The keys of database DBI (each KLEN bytes), copied out so the database can be rewritten. */
static uint8_t *s_keys(MDB_txn *txn, MDB_dbi dbi, size_t klen, size_t *n)
{
    MDB_cursor *cur;
    uint8_t *out = NULL;
    size_t cap = 0;
    *n = 0;
    if (mdb_cursor_open(txn, dbi, &cur) != 0)
        return NULL;
    MDB_val k, v;
    for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        if (k.mv_size != klen)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            out = xrealloc(out, cap * klen);
        }
        memcpy(out + *n * klen, k.mv_data, klen);
        (*n)++;
    }
    mdb_cursor_close(cur);
    return out;
}

/* Re-encrypt the records of DB (keyed by blind) from the rest key to their case's key. */
static int s_migrate_by_blind(agency_t *self, MDB_txn *txn, MDB_dbi dbi, const char *db,
                              uint64_t *count)
{
    size_t n;
    uint8_t *keys = s_keys(txn, dbi, 16, &n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint8_t *v = NULL;
        size_t vl = 0;
        const uint8_t *blind = keys + i * 16;
        rc = s_get_sealed(self, txn, dbi, NULL, db, blind, 16, &v, &vl);
        if (rc == 0)
            rc = s_put_case(self, txn, dbi, db, blind, blind, 16, NULL, 0, v, vl);
        s_free_secret(v, vl);
        (*count)++;
    }
    free(keys);
    return rc;
}

/* Each event: open under the rest key, find its case from the header inside, store it as
 * blind || ciphertext under the case's key. */
static int s_migrate_events(agency_t *self, MDB_txn *txn, view_migration_t *m)
{
    size_t n;
    uint8_t *lks = s_keys(txn, self->events, 8, &n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const uint8_t *lk = lks + i * 8;
        uint8_t *rec = NULL;
        size_t rl = 0;
        rc = s_get_sealed(self, txn, self->events, NULL, "events", lk, 8, &rec, &rl);
        size_t hlen = rc == 0 && rl >= 12 ? bytes_be32_get(rec + 8) : 0;
        Tacnet__Header *h = rc == 0 && rl >= 12 && 12 + hlen <= rl
                                ? tacnet__header__unpack(NULL, hlen, rec + 12)
                                : NULL;
        if (!h || h->case_ref.len == 0) {
            snprintf(m->why, sizeof(m->why), "event at local seq %llu does not open",
                     (unsigned long long)store_u64_get(lk));
            rc = TACNET_ECORRUPT;
        } else {
            uint8_t blind[16];
            agency_view_blind(self, h->case_ref.data, h->case_ref.len, blind);
            rc = s_put_case(self, txn, self->events, "events", blind, lk, 8, blind, 16, rec, rl);
            m->events++;
        }
        if (h)
            tacnet__header__free_unpacked(h, NULL);
        s_free_secret(rec, rl);
    }
    free(lks);
    return rc;
}

/* Format 3: each kept content key (event_keys, blind || msg_id) moves into the by_case value
 * of its event (blind || local_seq, the local seq found through applied), re-encrypted under the
 * case key for its new place; then event_keys is emptied. A key whose event or case is no longer
 * in the view has nothing to be granted with and is dropped with the tree. */
static int s_migrate_kept(agency_t *self, MDB_txn *txn, view_migration_t *m)
{
    size_t n;
    uint8_t *kks = s_keys(txn, self->event_keys, 32, &n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const uint8_t *kk = kks + i * 32;
        uint8_t ck[24], *v = NULL;
        size_t vl = 0;
        MDB_val a;
        if ((rc = store_get(txn, self->applied, kk + 16, 16, &a)) == 0 && a.mv_size != 8)
            rc = TACNET_ECORRUPT;
        if (rc == 0) {
            memcpy(ck, kk, 16);
            memcpy(ck + 16, a.mv_data, 8);
            rc = s_get_case(self, txn, self->event_keys, "event_keys", kk, kk, 32, &v, &vl);
        }
        if (rc == 0) {
            rc = s_put_case(self, txn, self->by_case, "by_case", kk, ck, 24, NULL, 0, v, vl);
            m->kept++;
        } else if (rc == TACNET_ENOTFOUND) {
            rc = 0; /* the event was erased with its case, or the case key is gone */
        } else {
            snprintf(m->why, sizeof(m->why), "a kept event key (event_keys) does not open");
        }
        s_free_secret(v, vl);
    }
    free(kks);
    int mrc;
    if (rc == 0 && (mrc = mdb_drop(txn, self->event_keys, 0)) != 0)
        rc = store_lmdb_err(mrc);
    return rc;
}

static int s_migrate(MDB_txn *txn, void *arg)
{
    view_migration_t *m = arg;
    agency_t *self = m->self;
    m->migrated = 0;
    m->cases = m->events = m->identities = m->kept = 0;
    m->why[0] = 0;
    uint64_t format;
    int rc = agency_meta_get(self, txn, "view_format", &format);
    if (rc != 0 || format >= VIEW_FORMAT)
        return rc;
    if (format < 2) {
        MDB_stat st;
        if (mdb_stat(txn, self->events, &st) != 0)
            return TACNET_ESTORE;
        m->migrated = st.ms_entries > 0;
        if ((rc = s_migrate_events(self, txn, m)) != 0 ||
            (rc = s_migrate_by_blind(self, txn, self->cases, "cases", &m->cases)) != 0 ||
            (rc = s_migrate_by_blind(self, txn, self->identity, "identity", &m->identities)) != 0)
            return rc;
        m->migrated = m->migrated || m->cases || m->identities;
    }
    if ((rc = s_migrate_kept(self, txn, m)) != 0)
        return rc;
    return agency_meta_put(self, txn, "view_format", VIEW_FORMAT);
}

static int s_store_open(agency_t *self, int *err)
{
    self->store = store_open(self->data_dir, self->cfg.map_size, s_dbs, N_DBS, err);
    if (!self->store)
        return *err;
    MDB_dbi *slots[] = {
        &self->meta,      &self->outbox,      &self->outbox_ids,   &self->dead,
        &self->events,    &self->applied,     &self->by_case,      &self->cases,
        &self->identity,  &self->quarantine,  &self->audit,        &self->outbox_case,
        &self->case_keys, &self->holds,       &self->tombstones,   &self->api_ids,
        &self->settled,   &self->delivered,   &self->dead_body,    &self->withdrawn,
        &self->unapplied, &self->import_jobs, &self->import_ids,   &self->event_keys,
        &self->grants,    &self->history,     &self->history_wait, &self->accepted
    };
    _Static_assert(sizeof(slots) / sizeof(slots[0]) == N_DBS, "a slot for every database");
    for (size_t i = 0; i < N_DBS; i++)
        if ((*err = store_dbi(self->store, s_dbs[i], slots[i])) != 0)
            return *err;
    return 0;
}

int agency_view_reopen(agency_t *self)
{
    int err = 0;
    store_destroy(&self->store);
    if (s_store_open(self, &err) != 0)
        return err;
    return store_map_max_set(self->store, self->cfg.map_max);
}

/* Move an old view to the per-case layout, then walk it (see s_walk). Returns 0 or a code with
 * WHY. */
static int s_migrate_and_walk(agency_t *self, char *why, size_t whylen)
{
    view_migration_t m = { .self = self };
    int rc = store_write(self->store, s_migrate, &m);
    if (rc != 0) {
        snprintf(why, whylen, "%s: cannot move the view to per-case keys: %s", self->data_dir,
                 m.why[0] ? m.why : tacnet_strerror(rc));
        return rc;
    }
    if (m.migrated)
        log_info("view moved to per-case keys: %llu cases, %llu events, %llu identity registers",
                 (unsigned long long)m.cases, (unsigned long long)m.events,
                 (unsigned long long)m.identities);
    if (m.kept)
        log_info("view format 3: %llu kept event keys moved into the case timelines",
                 (unsigned long long)m.kept);
    return s_walk(self, why, whylen);
}

int agency_view_open(agency_t *self, int *err, char *why, size_t whylen)
{
    if (s_store_open(self, err) != 0) {
        store_open_why(self->data_dir, "view", *err, why, whylen);
        return *err;
    }
    if ((*err = store_map_max_set(self->store, self->cfg.map_max)) != 0) {
        snprintf(why, whylen, "%s: map_max_mb: %s", self->data_dir, tacnet_strerror(*err));
        return *err;
    }
    bool held = s_hold(self);
    *err = s_migrate_and_walk(self, why, whylen);
    s_release(self, held);
    if (*err != 0)
        return *err;
    MDB_txn *txn;
    if (store_read_begin(self->store, &txn) == 0) {
        agency_meta_get(self, txn, "last_applied", &self->last_applied);
        mdb_txn_abort(txn);
    }
    return 0;
}

typedef agency_case_rec_t case_rec_t;

/* ------------------------------------------------------------------ a DELIVER batch's records */

void agency_view_batch_begin(agency_t *self, MDB_txn *txn)
{
    agency_view_case_keys_keep(self);
    if (self->batch_cases)
        sodium_memzero(self->batch_cases, AGENCY_KEPT_CASE_KEYS * sizeof(*self->batch_cases));
    self->n_batch_cases = 0;
    self->batch_local = 0;
    self->batch_local_set = self->batch_local_dirty = 0;
    self->batch_txn = self->batch_cases ? txn : NULL;
}

/* The batch's copy of case BLIND's record, when TXN is the batch's; NULL: read the view. */
static struct agency_batch_case *s_batch_case(agency_t *self, MDB_txn *txn, const uint8_t blind[16])
{
    if (!self->batch_txn || txn != self->batch_txn)
        return NULL;
    for (size_t i = 0; i < self->n_batch_cases; i++)
        if (memcmp(self->batch_cases[i].blind, blind, 16) == 0)
            return &self->batch_cases[i];
    return NULL;
}

/* A new copy of case BLIND's record in the batch, or NULL (not the batch's TXN, or full). */
static struct agency_batch_case *s_batch_case_add(agency_t *self, MDB_txn *txn,
                                                  const uint8_t blind[16], const case_rec_t *r)
{
    if (!self->batch_txn || txn != self->batch_txn || self->n_batch_cases == AGENCY_KEPT_CASE_KEYS)
        return NULL;
    struct agency_batch_case *bc = &self->batch_cases[self->n_batch_cases++];
    memcpy(bc->blind, blind, 16);
    bc->dirty = 0;
    bc->r = *r;
    return bc;
}

/* The blind token of case REF: from the batch's copy of its record inside TXN (the token is a
 * keyed hash of the reference the record holds), else computed. */
static void s_batch_blind(agency_t *self, MDB_txn *txn, const ProtobufCBinaryData *ref,
                          uint8_t blind[16])
{
    for (size_t i = 0; self->batch_txn && txn == self->batch_txn && i < self->n_batch_cases; i++) {
        const case_rec_t *r = &self->batch_cases[i].r;
        if (ref->len < sizeof(r->ref) && strlen(r->ref) == ref->len &&
            memcmp(r->ref, ref->data, ref->len) == 0) {
            memcpy(blind, self->batch_cases[i].blind, 16);
            return;
        }
    }
    agency_view_blind(self, ref->data, ref->len, blind);
}

/* Forget the batch's copy of case BLIND (the case is erased in TXN). */
static void s_batch_case_drop(agency_t *self, MDB_txn *txn, const uint8_t blind[16])
{
    struct agency_batch_case *bc = s_batch_case(self, txn, blind);
    if (!bc)
        return;
    struct agency_batch_case *last = &self->batch_cases[--self->n_batch_cases];
    if (bc != last)
        *bc = *last;
    sodium_memzero(last, sizeof(*last));
}

/* The view's local_seq: the batch's copy inside its TXN. */
static int s_local_get(agency_t *self, MDB_txn *txn, uint64_t *local)
{
    int batch = self->batch_txn && txn == self->batch_txn;
    if (batch && self->batch_local_set) {
        *local = self->batch_local;
        return 0;
    }
    int rc = agency_meta_get(self, txn, "local_seq", local);
    if (rc == 0 && batch) {
        self->batch_local = *local;
        self->batch_local_set = 1;
    }
    return rc;
}

static int s_local_put(agency_t *self, MDB_txn *txn, uint64_t local)
{
    if (self->batch_txn && txn == self->batch_txn && self->batch_local_set) {
        self->batch_local = local;
        self->batch_local_dirty = 1;
        return 0;
    }
    return agency_meta_put(self, txn, "local_seq", local);
}

static int s_case_write(agency_t *self, MDB_txn *txn, const uint8_t blind[16], const case_rec_t *r);

int agency_view_batch_end(agency_t *self, MDB_txn *txn, int rc)
{
    int ours = self->batch_txn && txn == self->batch_txn;
    self->batch_txn = NULL; /* from here on the writes below go to the view */
    for (size_t i = 0; ours && rc == 0 && i < self->n_batch_cases; i++)
        if (self->batch_cases[i].dirty)
            rc = s_case_write(self, txn, self->batch_cases[i].blind, &self->batch_cases[i].r);
    if (ours && rc == 0 && self->batch_local_dirty)
        rc = agency_meta_put(self, txn, "local_seq", self->batch_local);
    if (self->batch_cases)
        sodium_memzero(self->batch_cases, AGENCY_KEPT_CASE_KEYS * sizeof(*self->batch_cases));
    self->n_batch_cases = 0;
    self->batch_local = 0;
    self->batch_local_set = self->batch_local_dirty = 0;
    agency_view_case_keys_forget(self);
    return rc;
}

/* ------------------------------------------------------------------ case records */

static int s_case_load(agency_t *self, MDB_txn *txn, const uint8_t blind[16], case_rec_t *r)
{
    const struct agency_batch_case *bc = s_batch_case(self, txn, blind);
    if (bc) {
        *r = bc->r;
        return 0;
    }
    uint8_t *v = NULL;
    size_t n = 0;
    memset(r, 0, sizeof(*r));
    int rc = s_get_case(self, txn, self->cases, "cases", blind, blind, 16, &v, &n);
    if (rc != 0)
        return rc;
    rc = TACNET_ECORRUPT;
    /* The routing state's length by its version (route.h): a record written before version 2
     * reads as it is, and the case's next change stores it as version 2. */
    size_t cl = route_case_len(v, n);
    if (cl && n >= cl + 9 && route_case_decode(v, cl, &r->c) == 0) {
        r->last_ms = store_u64_get(v + cl);
        size_t rl = v[cl + 8];
        size_t il = n - cl - 9 - rl;
        if (rl < sizeof(r->ref) && cl + 9 + rl <= n && il < sizeof(r->initials)) {
            memcpy(r->ref, v + cl + 9, rl);
            memcpy(r->initials, v + cl + 9 + rl, il);
            rc = 0;
        }
    }
    s_free_secret(v, n);
    if (rc == 0)
        s_batch_case_add(self, txn, blind, r);
    return rc;
}

static int s_case_write(agency_t *self, MDB_txn *txn, const uint8_t blind[16], const case_rec_t *r)
{
    uint8_t v[ROUTE_CASE_BYTES + 9 + 64 + 8];
    size_t rl = strlen(r->ref), il = strlen(r->initials);
    route_case_encode(&r->c, v);
    store_u64_put(v + ROUTE_CASE_BYTES, r->last_ms);
    v[ROUTE_CASE_BYTES + 8] = (uint8_t)rl;
    memcpy(v + ROUTE_CASE_BYTES + 9, r->ref, rl);
    memcpy(v + ROUTE_CASE_BYTES + 9 + rl, r->initials, il);
    int rc = s_put_case(self, txn, self->cases, "cases", blind, blind, 16, NULL, 0, v,
                        ROUTE_CASE_BYTES + 9 + rl + il);
    sodium_memzero(v, sizeof(v)); /* the clear record: reference and initials */
    return rc;
}

/* Store case BLIND's record: in the batch's copy inside its transaction, written when the batch
 * ends. */
static int s_case_store(agency_t *self, MDB_txn *txn, const uint8_t blind[16], const case_rec_t *r)
{
    struct agency_batch_case *bc = s_batch_case(self, txn, blind);
    if (!bc)
        bc = s_batch_case_add(self, txn, blind, r);
    if (!bc)
        return s_case_write(self, txn, blind, r);
    bc->r = *r;
    bc->dirty = 1;
    return 0;
}

int agency_view_case_initials(agency_t *self, MDB_txn *txn, const uint8_t *ref, size_t len,
                              route_case_t *c, int *found, char initials[8])
{
    uint8_t blind[16];
    case_rec_t r;
    agency_view_blind(self, ref, len, blind);
    int rc = s_case_load(self, txn, blind, &r);
    *found = rc == 0;
    *c = r.c;
    memcpy(initials, rc == 0 ? r.initials : "", rc == 0 ? sizeof(r.initials) : 1);
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

int agency_view_case_get(agency_t *self, MDB_txn *txn, const uint8_t *ref, size_t len,
                         route_case_t *c, int *found)
{
    uint8_t blind[16];
    case_rec_t r;
    agency_view_blind(self, ref, len, blind);
    int rc = s_case_load(self, txn, blind, &r);
    *found = rc == 0;
    *c = r.c;
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

/* The case's routing state folded again from its headers in case order: history arrives after
 * the join, and folding it then (an old consent over a newer one) would be wrong. */
typedef struct fold_hdr {
    uint64_t case_seq, local;
    Tacnet__Header *h;
} fold_hdr_t;

typedef struct fold_ctx {
    fold_hdr_t *v;
    size_t n, cap;
} fold_ctx_t;

static int s_fold_collect(const Tacnet__Header *h, uint64_t case_seq, uint64_t local,
                          const uint8_t *hbytes, size_t hlen, void *arg)
{
    fold_ctx_t *f = arg;
    (void)h;
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 32;
        f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
    }
    Tacnet__Header *copy = tacnet__header__unpack(NULL, hlen, hbytes);
    if (!copy)
        return TACNET_ECORRUPT;
    f->v[f->n++] = (fold_hdr_t){ case_seq, local, copy };
    return 0;
}

static int s_fold_cmp(const void *a, const void *b)
{
    const fold_hdr_t *x = a, *y = b;
    if (x->case_seq != y->case_seq)
        return x->case_seq < y->case_seq ? -1 : 1;
    return x->local < y->local ? -1 : x->local > y->local;
}

static int s_route_refold(agency_t *self, MDB_txn *txn, const uint8_t blind[16], route_case_t *c)
{
    fold_ctx_t f = { 0 };
    int rc = agency_view_case_headers(self, txn, blind, s_fold_collect, &f);
    if (rc == 0) {
        qsort(f.v, f.n, sizeof(*f.v), s_fold_cmp);
        memset(c, 0, sizeof(*c));
        for (size_t i = 0; i < f.n; i++)
            if (f.v[i].h->sender != TACNET__AGENCY__BROKER)
                route_apply(c, f.v[i].h);
    }
    for (size_t i = 0; i < f.n; i++)
        tacnet__header__free_unpacked(f.v[i].h, NULL);
    free(f.v);
    return rc;
}

/* Event H's by_case entry CK (blind(16) local_seq(8)): its kept content key and digest
 * encrypted under the case key, or empty when there is nothing to keep (a broker notice). */
static int s_by_case_put(agency_t *self, MDB_txn *txn, const uint8_t ck[24], const uint8_t *kept,
                         size_t kept_len)
{
    if (!kept)
        return store_put(txn, self->by_case, ck, 24, "", 0, 0);
    return s_put_case(self, txn, self->by_case, "by_case", ck, ck, 24, NULL, 0, kept, kept_len);
}

/* Apply an event at case order SEQ; GRANTER non-zero marks it as history granted by it. */
static int s_apply(agency_t *self, MDB_txn *txn, uint64_t seq, uint32_t granter,
                   const Tacnet__Header *h, const uint8_t *hbytes, size_t hlen, const uint8_t *body,
                   size_t blen, const uint8_t *kept, size_t kept_len)
{
    MDB_val v;
    uint8_t ck[24];
    s_batch_blind(self, txn, &h->case_ref, ck);
    int rc = store_get(txn, self->applied, h->msg_id.data, 16, &v);
    if (rc == 0) {
        /* Already applied (a redelivery after a lost ACK): only its key is kept again. */
        if (!kept)
            return 0;
        if (v.mv_size != 8)
            return TACNET_ECORRUPT;
        memcpy(ck + 16, v.mv_data, 8);
        return s_by_case_put(self, txn, ck, kept, kept_len);
    }
    if (rc != TACNET_ENOTFOUND)
        return rc;
    uint64_t local;
    if ((rc = s_local_get(self, txn, &local)) != 0)
        return rc;
    local++;
    uint8_t lk[8];
    store_u64_put(lk, local);
    size_t n = 8 + 4 + hlen + blen;
    uint8_t *rec = xmalloc(n);
    store_u64_put(rec, seq);
    bytes_be32_put(rec + 8, (uint32_t)hlen);
    memcpy(rec + 12, hbytes, hlen);
    memcpy(rec + 12 + hlen, body, blen);
    memcpy(ck + 16, lk, 8);
    rc = s_put_case(self, txn, self->events, "events", ck, lk, 8, ck, 16, rec, n);
    s_free_secret(rec, n);
    if (rc != 0)
        return rc;
    if ((rc = store_put(txn, self->applied, h->msg_id.data, 16, lk, 8, 0)) != 0)
        return rc;
    if ((rc = s_by_case_put(self, txn, ck, kept, kept_len)) != 0)
        return rc;
    uint8_t g = (uint8_t)granter;
    if (granter && (rc = store_put(txn, self->history, lk, 8, &g, 1, 0)) != 0)
        return rc;
    case_rec_t r;
    rc = s_case_load(self, txn, ck, &r);
    if (rc == TACNET_ENOTFOUND) {
        memset(&r, 0, sizeof(r));
        snprintf(r.ref, sizeof(r.ref), "%.*s", (int)h->case_ref.len, h->case_ref.data);
        snprintf(r.initials, sizeof(r.initials), "%.*s", (int)h->initials.len, h->initials.data);
    } else if (rc != 0) {
        return rc;
    }
    rc = 0;
    if (granter)
        rc = s_route_refold(self, txn, ck, &r.c);
    else if (h->sender != TACNET__AGENCY__BROKER)
        route_apply(&r.c, h);
    if (rc != 0)
        return rc;
    r.last_ms = h->created_at_ms > r.last_ms ? h->created_at_ms : r.last_ms;
    if ((rc = s_case_store(self, txn, ck, &r)) != 0)
        return rc;
    return s_local_put(self, txn, local);
}

int agency_view_apply(agency_t *self, MDB_txn *txn, uint64_t seq, const Tacnet__Header *h,
                      const uint8_t *hbytes, size_t hlen, const uint8_t *body, size_t blen)
{
    return s_apply(self, txn, seq, 0, h, hbytes, hlen, body, blen, NULL, 0);
}

int agency_view_apply_kept(agency_t *self, MDB_txn *txn, uint64_t seq, const Tacnet__Header *h,
                           const uint8_t *hbytes, size_t hlen, const uint8_t *body, size_t blen,
                           const uint8_t *kept, size_t kept_len)
{
    return s_apply(self, txn, seq, 0, h, hbytes, hlen, body, blen, kept, kept_len);
}

int agency_view_apply_history(agency_t *self, MDB_txn *txn, uint64_t case_seq, uint32_t granter,
                              const Tacnet__Header *h, const uint8_t *hbytes, size_t hlen,
                              const uint8_t *body, size_t blen, const uint8_t *kept,
                              size_t kept_len)
{
    if (granter == 0)
        return TACNET_EINVAL;
    return s_apply(self, txn, case_seq, granter, h, hbytes, hlen, body, blen, kept, kept_len);
}

int agency_view_kept_get(agency_t *self, MDB_txn *txn, const uint8_t blind[16], uint64_t local,
                         uint8_t **out, size_t *outlen)
{
    uint8_t ck[24];
    memcpy(ck, blind, 16);
    store_u64_put(ck + 16, local);
    MDB_val v;
    int rc = store_get(txn, self->by_case, ck, 24, &v);
    if (rc != 0)
        return rc;
    if (v.mv_size == 0)
        return TACNET_ENOTFOUND; /* applied without a key to keep (a broker notice) */
    return s_get_case(self, txn, self->by_case, "by_case", blind, ck, 24, out, outlen);
}

int agency_view_event_get(agency_t *self, MDB_txn *txn, const uint8_t msg_id[16], uint8_t **rec,
                          size_t *n)
{
    MDB_val a, ev;
    *rec = NULL;
    *n = 0;
    int rc = store_get(txn, self->applied, msg_id, 16, &a);
    if (rc != 0 || a.mv_size != 8)
        return rc ? rc : TACNET_ECORRUPT;
    if ((rc = store_get(txn, self->events, a.mv_data, 8, &ev)) != 0)
        return rc; /* erased with its case */
    if ((rc = s_event_open(self, txn, a.mv_data, &ev, rec, n)) != 0)
        return rc;
    if (*n < 12 || 12 + (size_t)bytes_be32_get(*rec + 8) > *n) {
        s_free_secret(*rec, *n);
        *rec = NULL;
        return TACNET_ECORRUPT;
    }
    return 0;
}

int agency_view_case_headers(agency_t *self, MDB_txn *txn, const uint8_t blind[16],
                             agency_view_header_fn fn, void *arg)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->by_case, &cur) != 0)
        return TACNET_ESTORE;
    MDB_val k = { 16, (void *)blind }, v;
    int rc = 0;
    for (int op = MDB_SET_RANGE; rc == 0 && mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        if (k.mv_size != 24 || memcmp(k.mv_data, blind, 16) != 0)
            break;
        const uint8_t *lk = (const uint8_t *)k.mv_data + 16;
        MDB_val ev;
        uint8_t *rec = NULL;
        size_t n = 0;
        if (store_get(txn, self->events, lk, 8, &ev) != 0 ||
            s_event_open(self, txn, lk, &ev, &rec, &n) != 0 || n < 12 ||
            12 + (size_t)bytes_be32_get(rec + 8) > n) {
            s_free_secret(rec, n);
            continue; /* the view never serves what it cannot authenticate */
        }
        size_t hlen = bytes_be32_get(rec + 8);
        Tacnet__Header *h = tacnet__header__unpack(NULL, hlen, rec + 12);
        if (h) {
            rc = fn(h, store_u64_get(rec), store_u64_get(lk), rec + 12, hlen, arg);
            tacnet__header__free_unpacked(h, NULL);
        }
        s_free_secret(rec, n);
    }
    mdb_cursor_close(cur);
    return rc;
}

/* ------------------------------------------------------------------ queries */

static Tacnet__CaseSummary *s_summary(const case_rec_t *r)
{
    Tacnet__CaseSummary *s = xcalloc(1, sizeof(*s));
    tacnet__case_summary__init(s);
    s->case_ref.data = (uint8_t *)xstrdup(r->ref);
    s->case_ref.len = strlen(r->ref);
    s->initials.data = (uint8_t *)xstrdup(r->initials);
    s->initials.len = strlen(r->initials);
    if (r->c.lead) {
        s->has_lead = 1;
        s->lead = (Tacnet__Agency)r->c.lead;
    }
    s->members = xcalloc(ROUTE_MAX_AGENCY, sizeof(*s->members));
    for (unsigned a = 1; a < ROUTE_MAX_AGENCY; a++)
        if (r->c.members & (1u << a))
            s->members[s->n_members++] = (Tacnet__Agency)a;
    s->level_of_need = xcalloc(ROUTE_MAX_AGENCY, sizeof(*s->level_of_need));
    /* Every id the roster can give an agency, the extra ones (family support, 6) included. */
    _Static_assert(AGENCIES_EXTRA_LAST < ROUTE_MAX_AGENCY, "the level table holds every agency id");
    s->n_level_of_need = AGENCIES_EXTRA_LAST + 1;
    for (unsigned a = 0; a <= AGENCIES_EXTRA_LAST; a++)
        s->level_of_need[a] = r->c.level[a];
    s->has_last_activity_ms = 1;
    s->last_activity_ms = r->last_ms;
    /* Closed is a fact of the clear headers; its date is in the body, read by the fold. */
    s->has_closed = s->closed = r->c.closed != 0;
    return s;
}

/* Decrypt the event at local seq LK into a timeline entry (header and body unpacked). */
static Tacnet__TimelineEntry *s_entry(agency_t *self, MDB_txn *txn, const uint8_t lk[8])
{
    uint8_t *rec = NULL;
    size_t n = 0;
    MDB_val v;
    if (store_get(txn, self->events, lk, 8, &v) != 0 ||
        s_event_open(self, txn, lk, &v, &rec, &n) != 0 || n < 12)
        goto fail;
    size_t hlen = bytes_be32_get(rec + 8);
    if (12 + hlen > n)
        goto fail;
    Tacnet__TimelineEntry *e = xcalloc(1, sizeof(*e));
    tacnet__timeline_entry__init(e);
    e->local_seq = store_u64_get(lk);
    e->has_case_seq = 1;
    e->case_seq = store_u64_get(rec);
    MDB_val hv;
    if (store_get(txn, self->history, lk, 8, &hv) == 0 && hv.mv_size == 1) {
        e->has_history = e->history = 1;
        e->has_granted_by = 1;
        e->granted_by = (Tacnet__Agency)((const uint8_t *)hv.mv_data)[0];
    }
    e->header = tacnet__header__unpack(NULL, hlen, rec + 12);
    e->body = tacnet__body__unpack(NULL, n - 12 - hlen, rec + 12 + hlen);
    s_free_secret(rec, n);
    if (!e->header) {
        if (e->body)
            tacnet__body__free_unpacked(e->body, NULL);
        free(e);
        return NULL;
    }
    return e;
fail:
    s_free_secret(rec, n);
    return NULL;
}

static int s_entry_cmp(const void *a, const void *b)
{
    const Tacnet__TimelineEntry *x = *(Tacnet__TimelineEntry *const *)a;
    const Tacnet__TimelineEntry *y = *(Tacnet__TimelineEntry *const *)b;
    if (x->case_seq != y->case_seq)
        return x->case_seq < y->case_seq ? -1 : 1;
    return x->local_seq < y->local_seq ? -1 : x->local_seq > y->local_seq;
}

/* Decrypt every event of the case with blind index BLIND, oldest first, into *OUT (grown as
 * needed; *N entries). Events that fail to decrypt are skipped: the view never serves what it
 * cannot authenticate. */
static void s_case_timeline(agency_t *self, MDB_txn *txn, const uint8_t blind[16],
                            Tacnet__TimelineEntry ***out, size_t *n)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->by_case, &cur) != 0)
        return;
    MDB_val k = { 16, (void *)blind }, v;
    size_t cap = *n;
    for (int op = MDB_SET_RANGE; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        if (k.mv_size != 24 || memcmp(k.mv_data, blind, 16) != 0)
            break;
        Tacnet__TimelineEntry *e = s_entry(self, txn, (uint8_t *)k.mv_data + 16);
        if (!e)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            *out = xrealloc(*out, cap * sizeof(**out));
        }
        (*out)[(*n)++] = e;
    }
    mdb_cursor_close(cur);
    /* Case order: history granted on joining was applied after the join but happened before. */
    if (*n > 1)
        qsort(*out, *n, sizeof(**out), s_entry_cmp);
}

/* "History pending from X": the members whose grants of the case's earlier events are due. */
static void s_pending_fill(agency_t *self, MDB_txn *txn, const uint8_t blind[16],
                           Tacnet__CaseSummary *s)
{
    uint32_t mask = agency_history_pending(self, txn, blind);
    if (!mask)
        return;
    s->history_pending = xcalloc(ROUTE_MAX_AGENCY, sizeof(*s->history_pending));
    for (unsigned a = 1; a < ROUTE_MAX_AGENCY; a++)
        if (mask & (1u << a))
            s->history_pending[s->n_history_pending++] = (Tacnet__Agency)a;
}

/* 1 when another agency is or was on case C: a member now, or the sender of an event of its
 * timeline TL (N entries; one that has since left). The broker's notices are not a member's. */
static int s_others(const agency_t *self, const route_case_t *c, Tacnet__TimelineEntry *const *tl,
                    size_t n)
{
    uint32_t mine = (1u << self->profile->agency) | (1u << TACNET__AGENCY__BROKER);
    if (c->members & ~mine)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (tl[i] && tl[i]->header && (uint32_t)tl[i]->header->sender < 32 &&
            !((1u << (uint32_t)tl[i]->header->sender) & mine))
            return 1;
    return 0;
}

/* 1 when class K of case C is withheld from this agency as things stand: its role's sharing
 * policy or the consent in force keeps that class from it, and another agency is or was on the
 * case to have sent some (TL, N: its timeline). An agency alone on its case misses nothing. */
static int s_withheld(const agency_t *self, const route_case_t *c, Tacnet__TimelineEntry *const *tl,
                      size_t n, uint32_t k)
{
    uint32_t me = self->profile->agency;
    return !roster_may_see(self->roster, me, k, route_consent_covers(c, me, k)) &&
           s_others(self, c, tl, n);
}

/* Fold case C's timeline TL: a view lacking a class is told so (casestate_opts_t.partial). */
static void s_fold(agency_t *self, const route_case_t *c, Tacnet__TimelineEntry *const *tl,
                   size_t n, casestate_result_t *r)
{
    casestate_opts_t o = { .holidays = self->holidays,
                           .now_ms = clock_now_ms(),
                           .agency = self->profile->agency };
    for (uint32_t k = TACNET__SENSITIVITY__ROUTINE; k <= TACNET__SENSITIVITY__SAFEGUARDING; k++)
        o.partial |= s_withheld(self, c, tl, n, k);
    casestate_fold(tl, n, &o, r);
}

static void s_summary_counts(Tacnet__CaseSummary *s, const casestate_result_t *r)
{
    s->has_open_escalations = 1;
    s->open_escalations = r->open_escalations;
    s->has_overdue_items = 1;
    s->overdue_items = r->overdue_items;
    const Tacnet__CaseClosed *c = r->state ? r->state->closed : NULL;
    if (c && c->has_closed_date) {
        s->has_closed_date = 1;
        s->closed_date = c->closed_date;
    }
}

static int s_list(agency_t *self, Tacnet__ListCasesReply *out, int flags)
{
    uint32_t me = 1u << self->profile->agency;
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->cases, &cur) != 0) {
        mdb_txn_abort(txn);
        return TACNET_ESTORE;
    }
    MDB_val k, v;
    size_t cap = 0;
    for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        case_rec_t r;
        if (k.mv_size != 16 || s_case_load(self, txn, k.mv_data, &r) != 0)
            continue;
        if ((flags & AGENCY_VIEW_MEMBER) && !(r.c.members & me))
            continue; /* left, or taken out by the lead */
        if (out->n_cases == cap) {
            cap = cap ? cap * 2 : 16;
            out->cases = xrealloc(out->cases, cap * sizeof(*out->cases));
        }
        Tacnet__CaseSummary *sum = s_summary(&r);
        s_pending_fill(self, txn, k.mv_data, sum);
        out->cases[out->n_cases++] = sum;
        if (!(flags & AGENCY_VIEW_COUNTS))
            continue;
        /* Open escalations and overdue items depend on the clock, so they are folded on each
         * read rather than stored. */
        Tacnet__TimelineEntry **tl = NULL;
        size_t n = 0;
        s_case_timeline(self, txn, k.mv_data, &tl, &n);
        casestate_result_t cs;
        s_fold(self, &r.c, tl, n, &cs);
        s_summary_counts(sum, &cs);
        casestate_result_clear(&cs);
        agency_reply_timeline_free(tl, n);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return 0;
}

int agency_view_list(agency_t *self, Tacnet__ListCasesReply *out, int flags)
{
    bool held = s_hold(self);
    int rc = s_list(self, out, flags);
    s_release(self, held);
    return rc;
}

/* What the clear headers say about the case's consent, and the classes this agency cannot see
 * as things stand on a case another agency is or was on (timeline TL, N entries), so a reader is
 * told "withheld" where the state lacks what was not shared with it, rather than "none". */
static void s_consent_facts(const agency_t *self, const route_case_t *c,
                            Tacnet__TimelineEntry *const *tl, size_t n, Tacnet__CaseState *s)
{
    if (c->consent != TACNET__CONSENT_STATE__CONSENT_UNKNOWN) {
        s->has_consent_state = 1;
        s->consent_state = (Tacnet__ConsentState)c->consent;
    }
    s->consent_cover = xcalloc(ROUTE_COVER_AGENCIES, sizeof(*s->consent_cover));
    for (unsigned a = 1; a < ROUTE_COVER_AGENCIES; a++) {
        if (!c->cover[a])
            continue;
        Tacnet__ConsentCover *cc = xcalloc(1, sizeof(*cc));
        tacnet__consent_cover__init(cc);
        cc->agency = (Tacnet__Agency)a;
        cc->classes = xcalloc(3, sizeof(*cc->classes));
        cc->objected = xcalloc(3, sizeof(*cc->objected));
        for (uint32_t k = TACNET__SENSITIVITY__ROUTINE; k <= TACNET__SENSITIVITY__SAFEGUARDING;
             k++) {
            if (route_consent_covers(c, a, k))
                cc->classes[cc->n_classes++] = (Tacnet__Sensitivity)k;
            if (route_consent_objected(c, a, k))
                cc->objected[cc->n_objected++] = (Tacnet__Sensitivity)k;
        }
        s->consent_cover[s->n_consent_cover++] = cc;
    }
    s->withheld = xcalloc(3, sizeof(*s->withheld));
    for (uint32_t k = TACNET__SENSITIVITY__ROUTINE; k <= TACNET__SENSITIVITY__SAFEGUARDING; k++)
        if (s_withheld(self, c, tl, n, k))
            s->withheld[s->n_withheld++] = (Tacnet__Sensitivity)k;
}

static int s_show(agency_t *self, const uint8_t *ref, size_t len, Tacnet__ShowCaseReply *out)
{
    uint8_t blind[16];
    agency_view_blind(self, ref, len, blind);
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    case_rec_t r;
    if ((rc = s_case_load(self, txn, blind, &r)) != 0) {
        /* A case destroyed under its retention schedule says so, rather than "never heard of
         * it": the tombstone is what is left to say. */
        MDB_val t;
        if (rc == TACNET_ENOTFOUND && store_get(txn, self->tombstones, blind, 16, &t) == 0)
            rc = TACNET_ESHREDDED;
        mdb_txn_abort(txn);
        return rc;
    }
    out->summary = s_summary(&r);
    s_pending_fill(self, txn, blind, out->summary);
    s_case_timeline(self, txn, blind, &out->timeline, &out->n_timeline);
    mdb_txn_abort(txn);
    casestate_result_t cs;
    s_fold(self, &r.c, out->timeline, out->n_timeline, &cs);
    out->state = cs.state;
    if (out->state)
        s_consent_facts(self, &r.c, out->timeline, out->n_timeline, out->state);
    out->due = cs.due;
    out->n_due = cs.n_due;
    s_summary_counts(out->summary, &cs);
    return 0;
}

int agency_view_show(agency_t *self, const uint8_t *ref, size_t len, Tacnet__ShowCaseReply *out)
{
    bool held = s_hold(self);
    int rc = s_show(self, ref, len, out);
    s_release(self, held);
    return rc;
}

static int s_follow(agency_t *self, uint64_t after, uint32_t max, Tacnet__FollowReply *out)
{
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    if (max == 0 || max > 1000)
        max = 1000;
    out->next_local_seq = after;
    MDB_cursor *cur;
    /* Nothing comes after the last local_seq there can be (and after + 1 would wrap to 0). */
    if (after < UINT64_MAX && mdb_cursor_open(txn, self->events, &cur) == 0) {
        uint8_t lk[8];
        store_u64_put(lk, after + 1);
        MDB_val k = { 8, lk }, v;
        out->entries = xcalloc(max, sizeof(*out->entries));
        for (int op = MDB_SET_RANGE; out->n_entries < max && mdb_cursor_get(cur, &k, &v, op) == 0;
             op = MDB_NEXT) {
            Tacnet__TimelineEntry *e = s_entry(self, txn, k.mv_data);
            out->next_local_seq = store_u64_get(k.mv_data);
            if (e)
                out->entries[out->n_entries++] = e;
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    return 0;
}

int agency_view_follow(agency_t *self, uint64_t after, uint32_t max, Tacnet__FollowReply *out)
{
    bool held = s_hold(self);
    int rc = s_follow(self, after, max, out);
    s_release(self, held);
    return rc;
}

int agency_view_head(agency_t *self, uint64_t *local_seq)
{
    *local_seq = 0;
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    rc = agency_meta_get(self, txn, "local_seq", local_seq);
    mdb_txn_abort(txn);
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

/* ------------------------------------------------------------------ retention */

int agency_view_case_closure(agency_t *self, MDB_txn *txn, const uint8_t blind[16],
                             uint32_t *closed_date, char ref[64])
{
    case_rec_t r;
    *closed_date = 0;
    int rc = s_case_load(self, txn, blind, &r);
    if (rc != 0)
        return rc;
    memcpy(ref, r.ref, 64);
    Tacnet__TimelineEntry **tl = NULL;
    size_t n = 0;
    s_case_timeline(self, txn, blind, &tl, &n);
    for (size_t i = 0; i < n; i++) {
        const Tacnet__Body *b = tl[i]->body;
        /* The body's events share a oneof: read case_closed only when it is the one set. */
        const Tacnet__CaseClosed *c =
            b && b->event_case == TACNET__BODY__EVENT_CASE_CLOSED ? b->case_closed : NULL;
        if (c)
            *closed_date = c->has_closed_date ? c->closed_date
                                              : clock_ms_to_date(tl[i]->header->created_at_ms);
    }
    agency_reply_timeline_free(tl, n);
    return 0;
}

static int s_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen)
{
    int rc = store_del(txn, dbi, key, klen);
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

/* Delete the quarantined headers (clear case references) of case BLIND. */
static int s_erase_quarantine(agency_t *self, MDB_txn *txn, const uint8_t blind[16])
{
    size_t n;
    uint8_t *seqs = s_keys(txn, self->quarantine, 8, &n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        MDB_val v;
        if (store_get(txn, self->quarantine, seqs + i * 8, 8, &v) != 0 || v.mv_size < 4)
            continue;
        Tacnet__Header *h = tacnet__header__unpack(NULL, v.mv_size - 4, (uint8_t *)v.mv_data + 4);
        uint8_t b[16];
        if (h) {
            agency_view_blind(self, h->case_ref.data, h->case_ref.len, b);
            if (sodium_memcmp(b, blind, 16) == 0)
                rc = s_del(txn, self->quarantine, seqs + i * 8, 8);
            tacnet__header__free_unpacked(h, NULL);
        }
    }
    free(seqs);
    return rc;
}

int agency_view_case_erase(agency_t *self, MDB_txn *txn, const uint8_t blind[16], uint64_t *events)
{
    if (events)
        *events = 0;
    /* The key first: from here on nothing of the case can be read, whatever else survives. */
    if (self->keeping_keys) {
        agency_view_case_keys_forget(self);
        self->keeping_keys = 1;
    }
    int rc = s_del(txn, self->case_keys, blind, 16);
    MDB_cursor *cur;
    if (rc == 0 && mdb_cursor_open(txn, self->by_case, &cur) != 0)
        rc = TACNET_ESTORE;
    if (rc != 0)
        return rc;
    uint8_t *keys = NULL;
    size_t n = 0, cap = 0;
    MDB_val k = { 16, (void *)blind }, v;
    for (int op = MDB_SET_RANGE; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        if (k.mv_size != 24 || memcmp(k.mv_data, blind, 16) != 0)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            keys = xrealloc(keys, cap * 24);
        }
        memcpy(keys + n++ * 24, k.mv_data, 24);
    }
    mdb_cursor_close(cur);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if ((rc = s_del(txn, self->events, keys + i * 24 + 16, 8)) == 0 &&
            (rc = s_del(txn, self->history, keys + i * 24 + 16, 8)) == 0)
            rc = s_del(txn, self->by_case, keys + i * 24, 24);
    }
    free(keys);
    if (rc == 0 && events)
        *events = n;
    if (rc == 0) {
        s_batch_case_drop(self, txn, blind);
        rc = s_del(txn, self->cases, blind, 16);
    }
    if (rc == 0)
        rc = s_del(txn, self->identity, blind, 16);
    if (rc == 0)
        rc = s_erase_quarantine(self, txn, blind);
    if (rc == 0)
        rc = agency_history_case_erase(self, txn, blind);
    return rc;
}

/* ------------------------------------------------------------------ identity, audit */

typedef struct {
    agency_t *self;
    uint8_t blind[16];
    char **names;
    size_t n;
} ident_arg_t;

static int s_ident_write(MDB_txn *txn, void *arg)
{
    ident_arg_t *a = arg;
    uint8_t *old = NULL;
    size_t oldlen = 0;
    int rc = s_get_case(a->self, txn, a->self->identity, "identity", a->blind, a->blind, 16, &old,
                        &oldlen);
    if (rc != 0 && rc != TACNET_ENOTFOUND)
        return rc;
    /* Entries may carry who the person is to the child (casework/kin.h); bare ones, as
     * registers held before, still read. */
    size_t cap = kin_merge_bound(oldlen, a->names, a->n), n = 0;
    uint8_t *buf = xmalloc(cap + 1);
    rc = kin_merge(old, oldlen, a->names, a->n, buf, cap, &n);
    if (rc == 0)
        rc = s_put_case(a->self, txn, a->self->identity, "identity", a->blind, a->blind, 16, NULL,
                        0, buf, n);
    if (rc == 0)
        rc = agency_audit(a->self, txn, "api", "identity.register", "case", "ok", 0);
    s_free_secret(old, oldlen);
    s_free_secret(buf, cap + 1);
    return rc;
}

static int s_identity_add(agency_t *self, const uint8_t *ref, size_t len, char **names, size_t n)
{
    ident_arg_t a = { .self = self, .names = names, .n = n };
    kin_role_t role;
    const char *name;
    for (size_t i = 0; i < n; i++)
        if (kin_parse(names[i], &role, &name) != 0)
            return TACNET_EFIELD; /* before any write: all of them or none */
    agency_view_blind(self, ref, len, a.blind);
    return store_write(self->store, s_ident_write, &a);
}

int agency_identity_add(agency_t *self, const uint8_t *ref, size_t len, char **names, size_t n)
{
    bool held = s_hold(self);
    int rc = s_identity_add(self, ref, len, names, n);
    s_release(self, held);
    return rc;
}

/* The case's identity register, decrypted (*V: free with s_free_secret), in its own read
 * transaction. */
static int s_identity_read(agency_t *self, const uint8_t *ref, size_t len, uint8_t **v, size_t *n)
{
    uint8_t blind[16];
    MDB_txn *txn;
    bool held = s_hold(self);
    agency_view_blind(self, ref, len, blind);
    int rc = store_read_begin(self->store, &txn);
    if (rc == 0) {
        rc = s_get_case(self, txn, self->identity, "identity", blind, blind, 16, v, n);
        mdb_txn_abort(txn);
    }
    s_release(self, held);
    return rc;
}

int agency_identity_count(agency_t *self, const uint8_t *ref, size_t len, size_t *count)
{
    uint8_t *v = NULL;
    size_t n = 0;
    *count = 0;
    int rc = s_identity_read(self, ref, len, &v, &n);
    for (size_t off = 0; rc == 0 && off < n;) {
        size_t l = strnlen((const char *)v + off, n - off);
        *count += l < n - off;
        off += l + 1;
    }
    s_free_secret(v, n);
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

int agency_identity_each(agency_t *self, const uint8_t *ref, size_t len,
                         void (*each)(const char *name, const char *role, void *arg), void *arg)
{
    uint8_t *v = NULL;
    size_t n = 0;
    int rc = s_identity_read(self, ref, len, &v, &n);
    for (size_t off = 0; rc == 0 && off < n;) {
        const char *name = (const char *)v + off;
        size_t l = strnlen(name, n - off);
        if (l == n - off)
            break;
        kin_role_t role;
        const char *bare;
        kin_entry_decode(name, &role, &bare);
        each(bare, kin_role_name(role), arg);
        off += l + 1;
    }
    s_free_secret(v, n);
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

policy_register_t *agency_identity_register(agency_t *self, const uint8_t *ref, size_t len)
{
    uint8_t blind[16];
    policy_register_t *reg = policy_register_new();
    bool held = s_hold(self);
    agency_view_blind(self, ref, len, blind);
    MDB_txn *txn;
    if (store_read_begin(self->store, &txn) != 0) {
        s_release(self, held);
        return reg;
    }
    uint8_t *v = NULL;
    size_t n = 0;
    int rc = s_get_case(self, txn, self->identity, "identity", blind, blind, 16, &v, &n);
    s_release(self, held);
    if (rc == 0) {
        for (size_t off = 0; off < n;) {
            const char *name = (const char *)v + off;
            size_t l = strnlen(name, n - off);
            if (l == n - off)
                break;
            kin_role_t role;
            const char *bare;
            kin_entry_decode(name, &role, &bare);
            policy_register_add(reg, bare);
            off += l + 1;
        }
    }
    s_free_secret(v, n);
    mdb_txn_abort(txn);
    return reg;
}

int agency_audit(agency_t *self, MDB_txn *txn, const char *actor, const char *action,
                 const char *object, const char *outcome, int code)
{
    return audit_append_now(txn, self->audit, actor, action, object, outcome, code);
}
