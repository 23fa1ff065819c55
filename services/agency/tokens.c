/* tokens: the HTTP API's bearer tokens, with expiry, last use and revocation (see tokens.h). */
#include "agency/tokens.h"
#include "internal.h"
#include "err.h"
#include "log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The record: created_ms(8) expires_ms(8) last_used_ms(8) system (NUL). */
#define T_CREATED 0
#define T_EXPIRES 8
#define T_USED    16
#define T_SYSTEM  24
#define T_MAX     (T_SYSTEM + AGENCY_SYSTEM_CHARS)
/* The record before expiries: created_ms(8) system (NUL). */
#define T_OLD_SYSTEM 8

typedef struct {
    uint64_t created_ms, expires_ms, used_ms;
    char system[AGENCY_SYSTEM_CHARS];
} token_rec_t;

/* Today's layout has a 0 where the old one has the label's first character. */
static int s_old_layout(const MDB_val *v)
{
    return v->mv_size > T_OLD_SYSTEM + 1 && ((const uint8_t *)v->mv_data)[T_OLD_SYSTEM] != 0;
}

/* Parse a record of today's layout. Returns 0 or TACNET_ECORRUPT. */
static int s_rec_get(const MDB_val *v, token_rec_t *out)
{
    const uint8_t *p = v->mv_data;
    if (v->mv_size < T_SYSTEM + 2 || v->mv_size > T_MAX || p[v->mv_size - 1] != 0)
        return TACNET_ECORRUPT;
    out->created_ms = store_u64_get(p + T_CREATED);
    out->expires_ms = store_u64_get(p + T_EXPIRES);
    out->used_ms = store_u64_get(p + T_USED);
    memcpy(out->system, p + T_SYSTEM, v->mv_size - T_SYSTEM);
    return 0;
}

static size_t s_rec_put(const token_rec_t *r, uint8_t out[T_MAX])
{
    size_t sl = strlen(r->system);
    store_u64_put(out + T_CREATED, r->created_ms);
    store_u64_put(out + T_EXPIRES, r->expires_ms);
    store_u64_put(out + T_USED, r->used_ms);
    memcpy(out + T_SYSTEM, r->system, sl + 1);
    return T_SYSTEM + sl + 1;
}

static void s_id(const uint8_t *key, char id[AGENCY_TOKEN_ID_HEX])
{
    sodium_bin2hex(id, AGENCY_TOKEN_ID_HEX, key, (AGENCY_TOKEN_ID_HEX - 1) / 2);
}

/* "system:id", as audit records name a token. */
static void s_object(const char *system, const uint8_t *key, char *out, size_t cap)
{
    char id[AGENCY_TOKEN_ID_HEX];
    s_id(key, id);
    snprintf(out, cap, "%s:%s", system, id);
}

/* The stored key of a token given as hex: BLAKE2b-256 of its bytes. */
static int s_token_key(const char *hex, uint8_t key[32])
{
    uint8_t raw[32];
    size_t n = 0;
    if (!hex || strlen(hex) != 64 ||
        sodium_hex2bin(raw, sizeof(raw), hex, 64, NULL, &n, NULL) != 0 || n != 32)
        return TACNET_EAUTH;
    crypto_generichash(key, 32, raw, sizeof(raw), NULL, 0);
    sodium_memzero(raw, sizeof(raw));
    return 0;
}

/* ------------------------------------------------------------------ add */

typedef struct {
    agency_t *self;
    uint8_t key[32];
    token_rec_t rec;
} token_put_t;

static int s_token_put(MDB_txn *txn, void *arg)
{
    token_put_t *t = arg;
    uint8_t v[T_MAX];
    size_t n = s_rec_put(&t->rec, v);
    int rc = store_put(txn, t->self->tokens, t->key, 32, v, n, MDB_NOOVERWRITE);
    char object[64];
    s_object(t->rec.system, t->key, object, sizeof(object));
    if (rc == 0)
        rc = agency_audit(t->self, txn, "api", "token.add", object, "ok", 0);
    return rc;
}

int agency_token_add(agency_t *self, const char *system, uint64_t valid_ms,
                     char token[AGENCY_SECRET_HEX], char id[AGENCY_TOKEN_ID_HEX],
                     uint64_t *expires_ms)
{
    size_t n = system ? strlen(system) : 0;
    if (n == 0 || n >= AGENCY_SYSTEM_CHARS ||
        strspn(system, "abcdefghijklmnopqrstuvwxyz"
                       "0123456789_-") != n)
        return TACNET_EFIELD;
    if (valid_ms == 0 || valid_ms > (uint64_t)AGENCY_TOKEN_MAX_DAYS * 86400000u)
        return TACNET_EFIELD;
    uint8_t raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(token, AGENCY_SECRET_HEX, raw, sizeof(raw));
    token_put_t t = { .self = self };
    crypto_generichash(t.key, 32, raw, sizeof(raw), NULL, 0);
    sodium_memzero(raw, sizeof(raw));
    t.rec.created_ms = clock_now_ms();
    t.rec.expires_ms = t.rec.created_ms + valid_ms;
    memcpy(t.rec.system, system, n + 1);
    int rc = store_write(self->store, s_token_put, &t);
    if (rc != 0) {
        sodium_memzero(token, AGENCY_SECRET_HEX);
        return rc;
    }
    s_id(t.key, id);
    *expires_ms = t.rec.expires_ms;
    return 0;
}

/* ------------------------------------------------------------------ check */

typedef struct {
    agency_t *self;
    uint8_t key[32];
    uint64_t now;
} token_used_t;

static int s_token_used(MDB_txn *txn, void *arg)
{
    token_used_t *u = arg;
    MDB_val v;
    token_rec_t rec;
    /* Revoked or rewritten since the check: nothing to note. */
    if (store_get(txn, u->self->tokens, u->key, 32, &v) != 0 || s_rec_get(&v, &rec) != 0)
        return 0;
    rec.used_ms = u->now;
    uint8_t out[T_MAX];
    size_t n = s_rec_put(&rec, out);
    return store_put(txn, u->self->tokens, u->key, 32, out, n, 0);
}

int agency_token_check(agency_t *self, const char *token, char system[AGENCY_SYSTEM_CHARS])
{
    token_used_t u = { .self = self, .now = clock_now_ms() };
    if (s_token_key(token, u.key) != 0)
        return TACNET_EAUTH;
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return TACNET_EAUTH;
    MDB_val v;
    token_rec_t rec;
    rc = store_get(txn, self->tokens, u.key, 32, &v);
    if (rc == 0)
        rc = s_rec_get(&v, &rec);
    mdb_txn_abort(txn);
    if (rc != 0 || rec.expires_ms <= u.now)
        return TACNET_EAUTH;
    snprintf(system, AGENCY_SYSTEM_CHARS, "%s", rec.system);
    /* The last use, to the minute: a failed note costs the caller nothing. */
    if (u.now - rec.used_ms >= AGENCY_TOKEN_USED_MS &&
        (rc = store_write(self->store, s_token_used, &u)) != 0)
        log_warn("cannot note the use of an API token of %s: %s", rec.system, tacnet_errname(rc));
    return 0;
}

/* ------------------------------------------------------------------ list and revoke */

static void s_info_add(Tacnet__TokenList *out, const uint8_t *key, const token_rec_t *rec)
{
    Tacnet__TokenInfo *ti = xcalloc(1, sizeof(*ti));
    tacnet__token_info__init(ti);
    ti->id = xmalloc(AGENCY_TOKEN_ID_HEX);
    s_id(key, ti->id);
    ti->system = xstrdup(rec->system);
    ti->created_ms = rec->created_ms;
    ti->expires_ms = rec->expires_ms;
    ti->has_last_used_ms = rec->used_ms != 0;
    ti->last_used_ms = rec->used_ms;
    out->tokens = xrealloc(out->tokens, (out->n_tokens + 1) * sizeof(*out->tokens));
    out->tokens[out->n_tokens++] = ti;
}

static int s_by_created(const void *a, const void *b)
{
    const Tacnet__TokenInfo *x = *(Tacnet__TokenInfo *const *)a;
    const Tacnet__TokenInfo *y = *(Tacnet__TokenInfo *const *)b;
    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

int agency_token_list(agency_t *self, Tacnet__TokenList *out)
{
    agency_token_list_clear(out);
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    if (mdb_cursor_open(txn, self->tokens, &cur) != 0) {
        mdb_txn_abort(txn);
        return TACNET_ESTORE;
    }
    MDB_val k, v;
    for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        token_rec_t rec;
        if (k.mv_size == 32 && s_rec_get(&v, &rec) == 0)
            s_info_add(out, k.mv_data, &rec);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (out->n_tokens > 1)
        qsort(out->tokens, out->n_tokens, sizeof(*out->tokens), s_by_created);
    return 0;
}

typedef struct {
    agency_t *self;
    const char *id;
    size_t len;
    Tacnet__TokenList *out;
} token_revoke_t;

static int s_token_revoke(MDB_txn *txn, void *arg)
{
    token_revoke_t *r = arg;
    agency_token_list_clear(r->out); /* store_write may run this again */
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, r->self->tokens, &cur) != 0)
        return TACNET_ESTORE;
    uint8_t key[32];
    token_rec_t rec;
    int found = 0;
    MDB_val k, v;
    for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        char id[AGENCY_TOKEN_ID_HEX];
        token_rec_t one;
        if (k.mv_size != 32 || s_rec_get(&v, &one) != 0)
            continue;
        s_id(k.mv_data, id);
        if (strncmp(id, r->id, r->len) == 0 && found++ == 0) {
            memcpy(key, k.mv_data, 32);
            rec = one;
        }
    }
    mdb_cursor_close(cur);
    if (found != 1)
        return found ? TACNET_EEXISTS : TACNET_ENOTFOUND;
    int rc = store_del(txn, r->self->tokens, key, 32);
    char object[64];
    s_object(rec.system, key, object, sizeof(object));
    if (rc == 0)
        rc = agency_audit(r->self, txn, "api", "token.revoke", object, "ok", 0);
    if (rc == 0)
        s_info_add(r->out, key, &rec);
    return rc;
}

int agency_token_revoke(agency_t *self, const char *id, Tacnet__TokenList *out)
{
    size_t len = id ? strlen(id) : 0;
    if (len < 6 || len > AGENCY_TOKEN_ID_HEX - 1 || strspn(id, "0123456789abcdef") != len)
        return TACNET_EFIELD;
    token_revoke_t r = { self, id, len, out };
    int rc = store_write(self->store, s_token_revoke, &r);
    if (rc != 0)
        agency_token_list_clear(out);
    return rc;
}

void agency_token_list_clear(Tacnet__TokenList *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n_tokens; i++) {
        free(list->tokens[i]->id);
        free(list->tokens[i]->system);
        free(list->tokens[i]);
    }
    free(list->tokens);
    list->tokens = NULL;
    list->n_tokens = 0;
}

/* ------------------------------------------------------------------ migration */

typedef struct {
    agency_t *self;
    uint64_t now;
} token_migrate_t;

static int s_tokens_migrate(MDB_txn *txn, void *arg)
{
    token_migrate_t *m = arg;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, m->self->tokens, &cur) != 0)
        return TACNET_ESTORE;
    int rc = 0;
    MDB_val k, v;
    for (int op = MDB_FIRST; rc == 0 && mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        const uint8_t *p = v.mv_data;
        if (k.mv_size != 32 || !s_old_layout(&v))
            continue;
        token_rec_t rec = { .created_ms = store_u64_get(p), .expires_ms = m->now };
        rec.expires_ms += (uint64_t)AGENCY_TOKEN_DAYS * 86400000u;
        snprintf(rec.system, sizeof(rec.system), "%.*s", (int)(v.mv_size - T_OLD_SYSTEM),
                 (const char *)p + T_OLD_SYSTEM);
        uint8_t key[32], out[T_MAX];
        memcpy(key, k.mv_data, 32);
        MDB_val nv = { s_rec_put(&rec, out), out };
        rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT) == 0 ? 0 : TACNET_ESTORE;
        char object[64];
        s_object(rec.system, key, object, sizeof(object));
        if (rc == 0)
            rc = agency_audit(m->self, txn, "api", "token.migrate", object, "ok", 0);
    }
    mdb_cursor_close(cur);
    return rc;
}

int agency_tokens_migrate(agency_t *self)
{
    /* Look first: a daemon start writes nothing when there is nothing to rewrite. */
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = store_read_begin(self->store, &txn), old = 0;
    if (rc != 0)
        return rc;
    if (mdb_cursor_open(txn, self->tokens, &cur) == 0) {
        MDB_val k, v;
        for (int op = MDB_FIRST; !old && mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT)
            old = k.mv_size == 32 && s_old_layout(&v);
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    if (!old)
        return 0;
    token_migrate_t m = { self, clock_now_ms() };
    if ((rc = store_write(self->store, s_tokens_migrate, &m)) == 0)
        log_info("API tokens without an expiry now expire in %d days", AGENCY_TOKEN_DAYS);
    return rc;
}
