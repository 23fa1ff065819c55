/* accounts: the credential store — users, sessions, log-in failures and API tokens (see
 * accounts.h). */
#include "accounts.h"
#include "agency/tokens.h"
#include "internal.h"
#include "agency/auth.h"
#include "err.h"
#include "names.h"
#include "log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A dashboard user holds one of the roles the escalation procedure addresses its stages to,
 * named as it names them (names.h: practitioner, line_manager, dsl, lead_professional), so the
 * inbox's "waits on" and a user's role are one vocabulary. */
static int s_user_role(uint32_t role)
{
    return role == TACNET__ROLE__PRACTITIONER || role == TACNET__ROLE__LINE_MANAGER ||
           role == TACNET__ROLE__DSL || role == TACNET__ROLE__LEAD_PROFESSIONAL;
}

const char *agency_role_name(uint32_t role)
{
    return s_user_role(role) ? names_enum(&tacnet__role__descriptor, (int)role) : NULL;
}

int agency_role_parse(const char *name, uint32_t *role)
{
    int v;
    if (!name)
        return TACNET_EENUM;
    /* The names earlier releases used. */
    if (strcmp(name, "manager") == 0)
        name = "line_manager";
    else if (strcmp(name, "lead") == 0)
        name = "lead_professional";
    if (names_enum_parse(&tacnet__role__descriptor, name, &v) != 0 || !s_user_role((uint32_t)v))
        return TACNET_EENUM;
    *role = (uint32_t)v;
    return 0;
}

int agency_users_open(agency_t *self)
{
    int rc = store_dbi_add(self->store, "users", &self->users);
    if (rc == 0)
        rc = store_dbi_add(self->store, "sessions", &self->sessions);
    if (rc == 0)
        rc = store_dbi_add(self->store, "logins", &self->logins);
    if (rc == 0)
        rc = store_dbi_add(self->store, "tokens", &self->tokens);
    if (rc == 0)
        rc = agency_tokens_migrate(self);
    return rc;
}

static void s_hex(const uint8_t *in, size_t n, char *out)
{
    sodium_bin2hex(out, n * 2 + 1, in, n);
}

/* The stored key of a secret given as hex: BLAKE2b-256 of its bytes. */
static int s_secret_key(const char *hex, uint8_t key[32])
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

static int s_initials_ok(const char *s, size_t len)
{
    return policy_initials_check((const uint8_t *)s, len) == 0;
}

/* ------------------------------------------------------------------ users */

typedef struct {
    agency_t *self;
    const uint8_t *initials;
    size_t len;
    uint32_t role;
    const char *hash;
} user_put_t;

static int s_user_put(MDB_txn *txn, void *arg)
{
    user_put_t *u = arg;
    size_t hl = strlen(u->hash);
    uint8_t *v = xmalloc(1 + hl + 1);
    v[0] = (uint8_t)u->role;
    memcpy(v + 1, u->hash, hl + 1);
    /* A user that exists is refused: replacing one is removing it (ending its sessions, which
     * carry its role) and adding it again in the same transaction, said so by the caller
     * (`tacnet user add --replace`: s_user_replace). */
    int rc = store_put(txn, u->self->users, u->initials, u->len, v, hl + 2, MDB_NOOVERWRITE);
    free(v);
    /* A new password clears any lock-out. */
    if (rc == 0 && (rc = store_del(txn, u->self->logins, u->initials, u->len)) == TACNET_ENOTFOUND)
        rc = 0;
    char who[8];
    snprintf(who, sizeof(who), "%.*s", (int)u->len, (const char *)u->initials);
    if (rc == 0)
        rc = agency_audit(u->self, txn, "api", "user.add", who, "ok", 0);
    return rc;
}

/* The checks agency_user_add makes before it writes: a replace makes them all before it
 * removes anything. */
static int s_user_valid(const uint8_t *initials, size_t len, uint32_t role, const char *hash)
{
    if (!s_initials_ok((const char *)initials, len))
        return TACNET_EINITIALS;
    if (!agency_role_name(role))
        return TACNET_EENUM;
    if (!hash || strncmp(hash, "$argon2id$", 10) != 0 || strlen(hash) >= crypto_pwhash_STRBYTES)
        return TACNET_EFIELD;
    return 0;
}

int agency_user_add(agency_t *self, const uint8_t *initials, size_t len, uint32_t role,
                    const char *hash)
{
    int rc = s_user_valid(initials, len, role, hash);
    if (rc != 0)
        return rc;
    user_put_t u = { self, initials, len, role, hash };
    return store_write(self->store, s_user_put, &u);
}

/* The user under the cursor's key K (value V) as a UserInfo in OUT, with its failures and
 * lock-out (from the in-memory throttle) and its live sessions counted, as of NOW. */
static void s_user_info_add(agency_t *self, MDB_txn *txn, const MDB_val *k, const MDB_val *v,
                            uint64_t now, Tacnet__UserList *out)
{
    Tacnet__UserInfo *u = xcalloc(1, sizeof(*u));
    tacnet__user_info__init(u);
    u->initials.len = k->mv_size;
    u->initials.data = xmalloc(k->mv_size);
    memcpy(u->initials.data, k->mv_data, k->mv_size);
    u->role = (Tacnet__Role)((const uint8_t *)v->mv_data)[0];
    /* Failures and lock-outs are counted in memory, per source and account (agency/auth.h). */
    char initials[8];
    snprintf(initials, sizeof(initials), "%.*s", (int)(k->mv_size < 7 ? k->mv_size : 7),
             (const char *)k->mv_data);
    uint64_t locked = 0;
    agency_auth_account(self, initials, &u->failures, &locked);
    u->has_failures = 1;
    u->has_locked_until_ms = locked > now;
    u->locked_until_ms = locked > now ? locked : 0;
    MDB_cursor *cur;
    MDB_val sk, sv;
    u->has_sessions = 1;
    if (mdb_cursor_open(txn, self->sessions, &cur) == 0) {
        for (int op = MDB_FIRST; mdb_cursor_get(cur, &sk, &sv, op) == 0; op = MDB_NEXT) {
            const uint8_t *p = sv.mv_data;
            u->sessions += sv.mv_size == 46 && store_u64_get(p + 38) > now &&
                           memcmp(p, k->mv_data, k->mv_size) == 0 &&
                           (k->mv_size == 5 || !p[k->mv_size]);
        }
        mdb_cursor_close(cur);
    }
    out->users = xrealloc(out->users, (out->n_users + 1) * sizeof(*out->users));
    out->users[out->n_users++] = u;
}

int agency_user_list(agency_t *self, Tacnet__UserList *out)
{
    agency_user_list_clear(out);
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    if (mdb_cursor_open(txn, self->users, &cur) != 0) {
        mdb_txn_abort(txn);
        return TACNET_ESTORE;
    }
    uint64_t now = clock_now_ms();
    MDB_val k, v;
    for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT)
        if (k.mv_size >= 2 && k.mv_size <= 4 && v.mv_size >= 2)
            s_user_info_add(self, txn, &k, &v, now, out);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return 0;
}

typedef struct {
    agency_t *self;
    const uint8_t *initials;
    size_t len;
    int remove; /* 1 remove, 0 unlock */
    Tacnet__UserList *out;
} user_change_t;

/* Delete every session USER holds. */
static int s_sessions_end(agency_t *self, MDB_txn *txn, const uint8_t *initials, size_t len)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, self->sessions, &cur) != 0)
        return TACNET_ESTORE;
    MDB_val k, v;
    int rc = 0;
    for (int op = MDB_FIRST; rc == 0 && mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        const uint8_t *p = v.mv_data;
        if (v.mv_size == 46 && memcmp(p, initials, len) == 0 && (len == 5 || !p[len]))
            rc = mdb_cursor_del(cur, 0) == 0 ? 0 : TACNET_ESTORE;
    }
    mdb_cursor_close(cur);
    return rc;
}

static int s_user_change(MDB_txn *txn, void *arg)
{
    user_change_t *c = arg;
    agency_user_list_clear(c->out); /* store_write may run this again */
    MDB_val k = { c->len, (void *)c->initials }, v;
    int rc = store_get(txn, c->self->users, c->initials, c->len, &v);
    if (rc != 0)
        return rc;
    s_user_info_add(c->self, txn, &k, &v, clock_now_ms(), c->out);
    if (c->remove && (rc = store_del(txn, c->self->users, c->initials, c->len)) == 0)
        rc = s_sessions_end(c->self, txn, c->initials, c->len);
    if (rc == 0 && (rc = store_del(txn, c->self->logins, c->initials, c->len)) == TACNET_ENOTFOUND)
        rc = 0;
    char who[8];
    snprintf(who, sizeof(who), "%.*s", (int)c->len, (const char *)c->initials);
    if (rc == 0)
        rc = agency_audit(c->self, txn, "api", c->remove ? "user.remove" : "user.unlock", who, "ok",
                          0);
    return rc;
}

static int s_user_change_run(agency_t *self, const uint8_t *initials, size_t len, int remove,
                             Tacnet__UserList *out)
{
    if (!s_initials_ok((const char *)initials, len))
        return TACNET_EINITIALS;
    user_change_t c = { self, initials, len, remove, out };
    int rc = store_write(self->store, s_user_change, &c);
    if (rc != 0)
        agency_user_list_clear(out);
    return rc;
}

typedef struct {
    user_put_t put;
    Tacnet__UserList *was;
} user_replace_t;

/* Remove the user if it is there (as s_user_change does), then add it, in one transaction: a
 * refused add leaves the old user as it was. */
static int s_user_replace(MDB_txn *txn, void *arg)
{
    user_replace_t *r = arg;
    user_put_t *u = &r->put;
    agency_user_list_clear(r->was); /* store_write may run this again */
    MDB_val k = { u->len, (void *)u->initials }, v;
    int rc = store_get(txn, u->self->users, u->initials, u->len, &v);
    if (rc == TACNET_ENOTFOUND)
        return s_user_put(txn, u);
    if (rc != 0)
        return rc;
    s_user_info_add(u->self, txn, &k, &v, clock_now_ms(), r->was);
    if ((rc = store_del(txn, u->self->users, u->initials, u->len)) == 0)
        rc = s_sessions_end(u->self, txn, u->initials, u->len);
    char who[8];
    snprintf(who, sizeof(who), "%.*s", (int)u->len, (const char *)u->initials);
    if (rc == 0)
        rc = agency_audit(u->self, txn, "api", "user.remove", who, "ok", 0);
    return rc == 0 ? s_user_put(txn, u) : rc;
}

int agency_user_replace(agency_t *self, const uint8_t *initials, size_t len, uint32_t role,
                        const char *hash, Tacnet__UserList *was)
{
    agency_user_list_clear(was);
    int rc = s_user_valid(initials, len, role, hash);
    if (rc != 0)
        return rc;
    user_replace_t r = { { self, initials, len, role, hash }, was };
    if ((rc = store_write(self->store, s_user_replace, &r)) != 0)
        agency_user_list_clear(was);
    return rc;
}

int agency_user_remove(agency_t *self, const uint8_t *initials, size_t len, Tacnet__UserList *out)
{
    return s_user_change_run(self, initials, len, 1, out);
}

int agency_user_unlock(agency_t *self, const uint8_t *initials, size_t len, Tacnet__UserList *out)
{
    return s_user_change_run(self, initials, len, 0, out);
}

void agency_user_list_clear(Tacnet__UserList *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n_users; i++) {
        free(list->users[i]->initials.data);
        free(list->users[i]);
    }
    free(list->users);
    list->users = NULL;
    list->n_users = 0;
}

/* ------------------------------------------------------------------ log-in */

/* What a log-in for a user who does not exist is checked against: the hash of a random password
 * with the cost parameters of the users' own hashes (the first user's; `tacnet user add`'s when
 * there is none), so that an unknown user costs the same time as a known one. Made at the first
 * log-in, again when those parameters change. */
static char s_dummy_hash[crypto_pwhash_STRBYTES];
static unsigned long long s_dummy_ops;
static size_t s_dummy_mem;

/* The Argon2id cost of HASH ("$argon2id$v=19$m=65536,t=2,p=1$..."); 0 when it has none. */
static int s_hash_cost(const char *hash, unsigned long long *ops, size_t *mem)
{
    const char *m = hash ? strstr(hash, "$m=") : NULL;
    unsigned long kib = 0, t = 0;
    if (!m || sscanf(m, "$m=%lu,t=%lu", &kib, &t) != 2 || !kib || !t)
        return -1;
    *ops = t;
    *mem = (size_t)kib * 1024;
    return 0;
}

static const char *s_dummy(const char *like)
{
    unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    if (s_hash_cost(like, &ops, &mem) != 0)
        ops = crypto_pwhash_OPSLIMIT_INTERACTIVE, mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    if (!s_dummy_hash[0] || ops != s_dummy_ops || mem != s_dummy_mem) {
        char pw[33];
        uint8_t raw[16];
        randombytes_buf(raw, sizeof(raw));
        s_hex(raw, sizeof(raw), pw);
        if (crypto_pwhash_str(s_dummy_hash, pw, strlen(pw), ops, mem) != 0)
            s_dummy_hash[0] = 0;
        s_dummy_ops = ops, s_dummy_mem = mem;
        sodium_memzero(pw, sizeof(pw));
        sodium_memzero(raw, sizeof(raw));
    }
    return s_dummy_hash[0] ? s_dummy_hash : NULL;
}

/* The first user's hash into OUT (empty when there are no users). */
static void s_first_hash(MDB_txn *txn, MDB_dbi users, char out[crypto_pwhash_STRBYTES])
{
    MDB_cursor *cur;
    MDB_val k, v;
    out[0] = 0;
    if (mdb_cursor_open(txn, users, &cur) != 0)
        return;
    if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && v.mv_size >= 2 &&
        v.mv_size - 1 <= crypto_pwhash_STRBYTES) {
        memcpy(out, (const uint8_t *)v.mv_data + 1, v.mv_size - 1);
        out[crypto_pwhash_STRBYTES - 1] = 0;
    }
    mdb_cursor_close(cur);
}

typedef struct {
    agency_t *self;
    const char *initials;
    size_t len;
    uint8_t skey[32];
    agency_session_t *s;
} login_t;

/* A successful log-in: its session and its audit record (a failure writes nothing). */
static int s_login_record(MDB_txn *txn, void *arg)
{
    login_t *l = arg;
    agency_t *self = l->self;
    uint8_t v[5 + 1 + 32 + 8];
    memset(v, 0, sizeof(v));
    memcpy(v, l->s->initials, strlen(l->s->initials));
    v[5] = (uint8_t)l->s->role;
    size_t n = 0;
    sodium_hex2bin(v + 6, 32, l->s->csrf, 64, NULL, &n, NULL);
    store_u64_put(v + 38, l->s->expires_ms);
    int rc = store_put(txn, self->sessions, l->skey, 32, v, sizeof(v), 0);
    char actor[32];
    snprintf(actor, sizeof(actor), "web/%.*s", (int)l->len, l->initials);
    if (rc == 0)
        rc = agency_audit(self, txn, actor, "login", actor + 4, "ok", 0);
    return rc;
}

/* Draw the session of a checked log-in into SID and OUT, its key into L. */
static void s_session_draw(login_t *l, uint32_t role, char sid[AGENCY_SECRET_HEX])
{
    uint8_t raw[32], csrf[32];
    randombytes_buf(raw, sizeof(raw));
    randombytes_buf(csrf, sizeof(csrf));
    s_hex(raw, 32, sid);
    s_hex(csrf, 32, l->s->csrf);
    crypto_generichash(l->skey, 32, raw, sizeof(raw), NULL, 0);
    sodium_memzero(raw, sizeof(raw));
    sodium_memzero(csrf, sizeof(csrf));
    snprintf(l->s->initials, sizeof(l->s->initials), "%s", l->initials);
    l->s->role = role;
    l->s->expires_ms = clock_now_ms() + AGENCY_SESSION_MS;
}

int agency_login(agency_t *self, const char *initials, const char *password,
                 char sid[AGENCY_SECRET_HEX], agency_session_t *out, int *known)
{
    size_t len = initials ? strlen(initials) : 0;
    memset(out, 0, sizeof(*out));
    *known = 0;
    if (!s_initials_ok(initials, len))
        return TACNET_EINITIALS;
    login_t l = { .self = self, .initials = initials, .len = len, .s = out };
    char hash[crypto_pwhash_STRBYTES] = "";
    uint32_t role = 0;
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    MDB_val v;
    if (store_get(txn, self->users, initials, len, &v) == 0 && v.mv_size >= 2 &&
        v.mv_size - 1 <= sizeof(hash)) {
        role = ((const uint8_t *)v.mv_data)[0];
        memcpy(hash, (const uint8_t *)v.mv_data + 1, v.mv_size - 1);
        hash[sizeof(hash) - 1] = 0;
    }
    char like[crypto_pwhash_STRBYTES];
    s_first_hash(txn, self->users, like);
    mdb_txn_abort(txn);

    /* One Argon2id check whether the user exists or not. */
    *known = hash[0] != 0;
    const char *dummy = s_dummy(like);
    sodium_memzero(like, sizeof(like));
    const char *against = hash[0] ? hash : dummy;
    const char *pw = password ? password : "";
    int ok =
        against && crypto_pwhash_str_verify(against, pw, strlen(pw)) == 0 && hash[0] && password;
    sodium_memzero(hash, sizeof(hash));
    if (!ok)
        return TACNET_EAUTH;
    s_session_draw(&l, role, sid);
    rc = store_write(self->store, s_login_record, &l);
    sodium_memzero(l.skey, sizeof(l.skey));
    return rc;
}

int agency_session_get(agency_t *self, const char *sid, agency_session_t *out)
{
    uint8_t key[32];
    if (s_secret_key(sid, key) != 0)
        return TACNET_EAUTH;
    MDB_txn *txn;
    int rc = store_read_begin(self->store, &txn);
    if (rc != 0)
        return rc;
    MDB_val v;
    rc = store_get(txn, self->sessions, key, 32, &v);
    if (rc == 0 && v.mv_size == 46) {
        const uint8_t *p = v.mv_data;
        memset(out, 0, sizeof(*out));
        memcpy(out->initials, p, 4);
        out->role = p[5];
        s_hex(p + 6, 32, out->csrf);
        out->expires_ms = store_u64_get(p + 38);
    } else {
        rc = TACNET_EAUTH;
    }
    mdb_txn_abort(txn);
    if (rc == 0 && out->expires_ms <= clock_now_ms())
        rc = TACNET_EAUTH;
    return rc == 0 ? 0 : TACNET_EAUTH;
}

typedef struct {
    agency_t *self;
    uint8_t key[32];
} session_del_t;

static int s_session_del(MDB_txn *txn, void *arg)
{
    session_del_t *d = arg;
    int rc = store_del(txn, d->self->sessions, d->key, 32);
    /* Sweep sessions that expired, so the database does not only grow. */
    MDB_cursor *cur;
    if ((rc == 0 || rc == TACNET_ENOTFOUND) && mdb_cursor_open(txn, d->self->sessions, &cur) == 0) {
        MDB_val k, v;
        uint64_t now = clock_now_ms();
        for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT)
            if (v.mv_size == 46 && store_u64_get((const uint8_t *)v.mv_data + 38) <= now)
                mdb_cursor_del(cur, 0);
        mdb_cursor_close(cur);
    }
    return rc == TACNET_ENOTFOUND ? 0 : rc;
}

int agency_session_end(agency_t *self, const char *sid)
{
    session_del_t d = { .self = self };
    if (s_secret_key(sid, d.key) != 0)
        return 0;
    return store_write(self->store, s_session_del, &d);
}
