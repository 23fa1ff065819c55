/* Integration tests of API tokens and dashboard users through the local API (what `tacnet token`
 * and `tacnet user` send) against a real broker and school daemon with its dashboard: expiry,
 * listing, revocation, the migration of tokens from before expiries, and user list, remove and
 * unlock, each change audited. */
#include "harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "err.h"

#include <arpa/inet.h>
#include <lmdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>

#include "client/client.h"

#define S        TACNET__AGENCY__SCHOOL
#define PASSWORD "correct-horse-battery"
#define CALL_MS  10000
#define DAY_MS   86400000ull

static h_env_t env;
static h_agency_t *school;
static int port;

static int s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

static void setup(void)
{
    h_setup(&env, NULL);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    school = h_agency_add(&env, S);
    port = s_free_port();
    FILE *f = fopen(school->conf, "a");
    cr_assert_not_null(f);
    fprintf(f, "[http]\nport = %d\n", port);
    fclose(f);
    cr_assert_eq(h_agency_start(school, NULL), 0, "the school did not start (log %s)", school->log);
}

static void teardown(void)
{
    h_teardown(&env);
}

TestSuite(tokens, .init = setup, .fini = teardown, .timeout = 120);

/* ------------------------------------------------------------------ the local API */

/* Send REQ; returns the reply (the caller frees it) whatever its code. */
static Tacnet__ApiReply *s_call(Tacnet__ApiRequest *req)
{
    int err = 0;
    tn_client_t *c = tn_client_new(school->data, &err);
    cr_assert_not_null(c, "tn_client_new: %s", tacnet_errname(err));
    Tacnet__ApiReply *r = NULL;
    int rc = tn_client_call(c, req, &r, CALL_MS);
    cr_assert_not_null(r, "no answer from the daemon: %s", tacnet_errname(rc));
    tn_client_destroy(&c);
    return r;
}

/* A token for SYSTEM valid DAYS (0: the default) or SECONDS; its id into ID. */
static char *s_token_add(const char *system, uint32_t days, uint32_t seconds, char id[16],
                         uint64_t *expires_ms)
{
    Tacnet__AddTokenRequest at = TACNET__ADD_TOKEN_REQUEST__INIT;
    at.system = (char *)system;
    at.has_days = days != 0, at.days = days;
    at.has_seconds = seconds != 0, at.seconds = seconds;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_ADD_TOKEN;
    req.add_token = &at;
    Tacnet__ApiReply *r = s_call(&req);
    cr_assert_eq(r->code, 0, "token add: %s", tacnet_errname(r->code));
    cr_assert_eq(r->result_case, TACNET__API_REPLY__RESULT_TOKEN);
    cr_assert(r->token->id && r->token->has_expires_ms);
    snprintf(id, 16, "%s", r->token->id);
    *expires_ms = r->token->expires_ms;
    char *t = strdup(r->token->token);
    tn_client_reply_free(&r);
    return t;
}

static Tacnet__ApiReply *s_token_list(void)
{
    Tacnet__ListTokensRequest lt = TACNET__LIST_TOKENS_REQUEST__INIT;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_LIST_TOKENS;
    req.list_tokens = &lt;
    Tacnet__ApiReply *r = s_call(&req);
    cr_assert_eq(r->code, 0);
    cr_assert_eq(r->result_case, TACNET__API_REPLY__RESULT_TOKENS);
    return r;
}

static const Tacnet__TokenInfo *s_token_find(const Tacnet__ApiReply *r, const char *id)
{
    for (size_t i = 0; i < r->tokens->n_tokens; i++)
        if (strcmp(r->tokens->tokens[i]->id, id) == 0)
            return r->tokens->tokens[i];
    return NULL;
}

static int s_token_revoke(const char *id)
{
    Tacnet__RevokeTokenRequest rt = TACNET__REVOKE_TOKEN_REQUEST__INIT;
    rt.id = (char *)id;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_REVOKE_TOKEN;
    req.revoke_token = &rt;
    Tacnet__ApiReply *r = s_call(&req);
    int code = r->code;
    if (code == 0)
        cr_expect(r->tokens && r->tokens->n_tokens == 1 &&
                      strncmp(r->tokens->tokens[0]->id, id, strlen(id)) == 0,
                  "the revoke reply does not name the token");
    tn_client_reply_free(&r);
    return code;
}

static void s_user_add(const char *initials)
{
    char hash[crypto_pwhash_STRBYTES];
    cr_assert_eq(crypto_pwhash_str(hash, PASSWORD, strlen(PASSWORD), crypto_pwhash_OPSLIMIT_MIN,
                                   crypto_pwhash_MEMLIMIT_MIN),
                 0);
    Tacnet__AddUserRequest au = TACNET__ADD_USER_REQUEST__INIT;
    au.initials = (ProtobufCBinaryData){ strlen(initials), (uint8_t *)initials };
    au.role = TACNET__ROLE__DSL;
    au.password_hash = hash;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_ADD_USER;
    req.add_user = &au;
    Tacnet__ApiReply *r = s_call(&req);
    cr_assert_eq(r->code, 0, "user add: %s", tacnet_errname(r->code));
    tn_client_reply_free(&r);
}

/* `tacnet user add --replace` as the CLI sends it, with ROLE and HASH as given. Returns the
 * reply's code. */
static int s_user_replace(const char *initials, Tacnet__Role role, const char *hash)
{
    Tacnet__AddUserRequest au = TACNET__ADD_USER_REQUEST__INIT;
    au.initials = (ProtobufCBinaryData){ strlen(initials), (uint8_t *)initials };
    au.role = role;
    au.password_hash = (char *)hash;
    au.has_replace = au.replace = 1;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_ADD_USER;
    req.add_user = &au;
    Tacnet__ApiReply *r = s_call(&req);
    int code = r->code;
    tn_client_reply_free(&r);
    return code;
}

/* The user INITIALS as `user list` shows it (NULL: not listed); R is freed by the caller. */
static const Tacnet__UserInfo *s_user_listed(const char *initials, Tacnet__ApiReply **r)
{
    Tacnet__ListUsersRequest lu = TACNET__LIST_USERS_REQUEST__INIT;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_LIST_USERS;
    req.list_users = &lu;
    *r = s_call(&req);
    cr_assert_eq((*r)->code, 0);
    cr_assert_eq((*r)->result_case, TACNET__API_REPLY__RESULT_USERS);
    for (size_t i = 0; i < (*r)->users->n_users; i++) {
        const Tacnet__UserInfo *u = (*r)->users->users[i];
        if (u->initials.len == strlen(initials) &&
            memcmp(u->initials.data, initials, u->initials.len) == 0)
            return u;
    }
    return NULL;
}

static int s_user_change(const char *initials, int remove)
{
    Tacnet__UserRequest ur = TACNET__USER_REQUEST__INIT;
    ur.initials = (ProtobufCBinaryData){ strlen(initials), (uint8_t *)initials };
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case =
        remove ? TACNET__API_REQUEST__OP_REMOVE_USER : TACNET__API_REQUEST__OP_UNLOCK_USER;
    if (remove)
        req.remove_user = &ur;
    else
        req.unlock_user = &ur;
    Tacnet__ApiReply *r = s_call(&req);
    int code = r->code;
    tn_client_reply_free(&r);
    return code;
}

/* ------------------------------------------------------------------ a tiny HTTP client */

typedef struct {
    int status;
    char *text;
    const char *body;
} resp_t;

static resp_t s_http(const char *method, const char *path, const char *headers, const char *body)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    /* A daemon just started answers its API socket a moment before its dashboard listens. */
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; i++) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            close(fd);
            fd = -1;
            h_sleep_ms(50);
        }
    }
    cr_assert_geq(fd, 0, "connect to %d", port);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    size_t blen = body ? strlen(body) : 0;
    size_t cap0 = 1024 + blen + (headers ? strlen(headers) : 0) + strlen(path);
    char *req = malloc(cap0);
    int n = snprintf(req, cap0,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://127.0.0.1:%d\r\n"
                     "Connection: close\r\n%s%sContent-Length: %zu\r\n\r\n%s",
                     method, path, port, port, headers ? headers : "",
                     body ? "Content-Type: application/x-www-form-urlencoded\r\n" : "", blen,
                     body ? body : "");
    cr_assert_gt(n, 0);
    cr_assert_eq(write(fd, req, (size_t)n), n);
    free(req);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ssize_t got;
    while ((got = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)got;
        if (cap - len < 4096)
            buf = realloc(buf, cap *= 2);
    }
    close(fd);
    buf[len] = 0;
    resp_t r = { 0, buf, "" };
    sscanf(buf, "HTTP/1.1 %d", &r.status);
    char *sep = strstr(buf, "\r\n\r\n");
    r.body = sep ? sep + 4 : "";
    return r;
}

/* GET /api/v1/cases with TOKEN: the status; a 401 must be the API's JSON E_AUTH. */
static int s_api_status(const char *token)
{
    char hdr[160];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", token);
    resp_t r = s_http("GET", "/api/v1/cases", hdr, NULL);
    int status = r.status;
    if (status == 401)
        cr_expect(strstr(r.text, "application/json") && strstr(r.body, "E_AUTH"),
                  "a 401 on /api/ that is not JSON E_AUTH: %s", r.text);
    free(r.text);
    return status;
}

/* The 64-hex value after NEEDLE in TEXT. */
static int s_find_hex(const char *text, const char *needle, char out[65])
{
    const char *p = strstr(text, needle);
    if (!p)
        return 0;
    snprintf(out, 65, "%.64s", p + strlen(needle));
    return strspn(out, "0123456789abcdef") == 64;
}

/* Log in as INITIALS with PASSWORD through the form: the status of the POST (303 in), and the
 * session cookie header into COOKIE when in. */
static int s_login(const char *initials, const char *password, char cookie[160])
{
    resp_t r = s_http("GET", "/login", NULL, NULL);
    cr_assert_eq(r.status, 200);
    char ctok[65], ftok[65], hdr[160], body[256];
    cr_assert(s_find_hex(r.text, "tn_login_school=", ctok));
    if (!s_find_hex(r.text, "name=\"csrf\" value=\"", ftok))
        memcpy(ftok, ctok, sizeof(ftok));
    free(r.text);
    snprintf(hdr, sizeof(hdr), "Cookie: tn_login_school=%s\r\n", ctok);
    snprintf(body, sizeof(body), "csrf=%s&initials=%s&password=%s", ftok, initials, password);
    r = s_http("POST", "/login", hdr, body);
    int status = r.status;
    char sid[65];
    if (status == 303 && cookie) {
        cr_assert(s_find_hex(r.text, "tn_session_school=", sid));
        snprintf(cookie, 160, "Cookie: tn_session_school=%s\r\n", sid);
    }
    free(r.text);
    return status;
}

/* ------------------------------------------------------------------ audit */

typedef struct {
    const char *action;
    long n;
} audit_count_t;

static int s_audit_one(uint64_t seq, const audit_record_t *rec, void *arg)
{
    (void)seq;
    audit_count_t *c = arg;
    c->n += strcmp(rec->action, c->action) == 0 && rec->code == 0;
    return 0;
}

/* Audit records of ACTION in the stopped school daemon's view. */
static long s_audited(const char *action)
{
    audit_count_t c = { action, 0 };
    MDB_env *e;
    MDB_txn *txn;
    MDB_dbi dbi;
    cr_assert_eq(mdb_env_create(&e), 0);
    mdb_env_set_maxdbs(e, 32);
    cr_assert_eq(mdb_env_open(e, school->data, MDB_RDONLY, 0600), 0);
    cr_assert_eq(mdb_txn_begin(e, NULL, MDB_RDONLY, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, AUDIT_DB, 0, &dbi), 0);
    cr_assert_eq(audit_iterate(txn, dbi, 1, s_audit_one, &c), 0);
    mdb_txn_abort(txn);
    mdb_env_close(e);
    return c.n;
}

/* ------------------------------------------------------------------ tokens */

Test(tokens, a_token_expires_is_listed_without_its_secret_and_is_revoked)
{
    char id[16], id2[16];
    uint64_t expires, expires2, now = (uint64_t)time(NULL) * 1000;
    char *tok = s_token_add("school-mis", 0, 0, id, &expires);
    cr_expect_eq(strlen(id), 12, "id %s", id);
    cr_expect(expires >= now + 90 * DAY_MS - 60000 && expires <= now + 90 * DAY_MS + 60000,
              "the default expiry is not 90 days away");
    char *other = s_token_add("school-finance", 7, 0, id2, &expires2);
    cr_expect(expires2 >= now + 7 * DAY_MS - 60000 && expires2 <= now + 7 * DAY_MS + 60000,
              "a 7-day token does not expire in 7 days");
    cr_assert_eq(s_api_status(tok), 200);
    cr_assert_eq(s_api_status(other), 200);

    /* Listed with id, system, dates and last use; never the token. */
    Tacnet__ApiReply *r = s_token_list();
    const Tacnet__TokenInfo *t = s_token_find(r, id);
    cr_assert_not_null(t, "token %s not listed", id);
    cr_expect_str_eq(t->system, "school-mis");
    cr_expect_eq(t->expires_ms, expires);
    cr_expect(t->created_ms >= now - 60000 && t->created_ms <= expires);
    cr_expect(t->has_last_used_ms && t->last_used_ms >= t->created_ms, "last use not noted");
    size_t plen = protobuf_c_message_get_packed_size(&r->base);
    uint8_t *packed = malloc(plen);
    protobuf_c_message_pack(&r->base, packed);
    int carried = 0;
    for (size_t i = 0; i + 64 <= plen && !carried; i++)
        carried = memcmp(packed + i, tok, 64) == 0;
    cr_expect(!carried, "the list carries the token");
    free(packed);
    tn_client_reply_free(&r);

    /* Revoked by a prefix of its id: 401 from then on, the other token unaffected. */
    char prefix[9];
    snprintf(prefix, sizeof(prefix), "%.8s", id);
    cr_assert_eq(s_token_revoke(prefix), 0);
    cr_expect_eq(s_api_status(tok), 401, "a revoked token still opens the API");
    cr_expect_eq(s_api_status(other), 200, "revoking one token cut another");
    cr_expect_eq(s_token_revoke(prefix), TACNET_ENOTFOUND);
    cr_expect_eq(s_token_revoke("xyz"), TACNET_EFIELD);
    r = s_token_list();
    cr_expect_null(s_token_find(r, id), "a revoked token is still listed");
    cr_expect_not_null(s_token_find(r, id2));
    tn_client_reply_free(&r);

    /* Bounds on the validity. */
    Tacnet__AddTokenRequest at = TACNET__ADD_TOKEN_REQUEST__INIT;
    at.system = (char *)"too-long";
    at.has_days = 1, at.days = 3651;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_ADD_TOKEN;
    req.add_token = &at;
    r = s_call(&req);
    cr_expect_eq(r->code, TACNET_EFIELD, "a 3651-day token: %s", tacnet_errname(r->code));
    tn_client_reply_free(&r);
    at.days = 0;
    r = s_call(&req);
    cr_expect_eq(r->code, TACNET_EFIELD, "a 0-day token: %s", tacnet_errname(r->code));
    tn_client_reply_free(&r);
    free(tok);
    free(other);

    cr_assert_eq(h_agency_signal_wait(school, SIGTERM), 0);
    cr_expect_eq(s_audited("token.add"), 2);
    cr_expect_eq(s_audited("token.revoke"), 1);
}

Test(tokens, an_expired_token_gets_401)
{
    char id[16];
    uint64_t expires;
    char *tok = s_token_add("short-lived", 0, 2, id, &expires);
    cr_expect_eq(s_api_status(tok), 200, "a fresh token was refused");
    while ((uint64_t)time(NULL) * 1000 <= expires + 100)
        h_sleep_ms(100);
    cr_expect_eq(s_api_status(tok), 401, "an expired token still opens the API");
    /* Still listed (revoke removes it), marked by its past expiry. */
    Tacnet__ApiReply *r = s_token_list();
    const Tacnet__TokenInfo *t = s_token_find(r, id);
    cr_expect(t && t->expires_ms == expires);
    tn_client_reply_free(&r);
    free(tok);
}

/* Rewrite every token of the stopped daemon's view in the layout before expiries. */
static long s_tokens_to_old_layout(void)
{
    MDB_env *e;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    cr_assert_eq(mdb_env_create(&e), 0);
    mdb_env_set_maxdbs(e, 32);
    mdb_env_set_mapsize(e, 64u << 20);
    cr_assert_eq(mdb_env_open(e, school->data, 0, 0600), 0);
    cr_assert_eq(mdb_txn_begin(e, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, "tokens", 0, &dbi), 0);
    cr_assert_eq(mdb_cursor_open(txn, dbi, &cur), 0);
    MDB_val k, v;
    long n = 0;
    for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, op) == 0; op = MDB_NEXT) {
        uint8_t old[64];
        size_t sl = strlen((const char *)v.mv_data + 24);
        memcpy(old, v.mv_data, 8);
        memcpy(old + 8, (const uint8_t *)v.mv_data + 24, sl + 1);
        MDB_val ov = { 8 + sl + 1, old };
        cr_assert_eq(mdb_cursor_put(cur, &k, &ov, MDB_CURRENT), 0);
        n++;
    }
    mdb_cursor_close(cur);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(e);
    return n;
}

Test(tokens, a_token_from_before_expiries_is_migrated_to_90_days_from_the_upgrade)
{
    char id[16];
    uint64_t expires;
    char *tok = s_token_add("legacy-mis", 0, 0, id, &expires);
    cr_assert_eq(h_agency_signal_wait(school, SIGTERM), 0);
    cr_assert_eq(s_tokens_to_old_layout(), 1);
    h_sleep_ms(1100); /* so the migrated expiry is visibly the restart's, not the creation's */
    uint64_t restart = (uint64_t)time(NULL) * 1000;
    cr_assert_eq(h_agency_start(school, NULL), 0);
    cr_expect_eq(s_api_status(tok), 200, "a migrated token was refused");
    Tacnet__ApiReply *r = s_token_list();
    const Tacnet__TokenInfo *t = s_token_find(r, id);
    cr_assert_not_null(t, "the migrated token is not listed");
    cr_expect_str_eq(t->system, "legacy-mis");
    cr_expect(t->expires_ms >= restart + 90 * DAY_MS &&
                  t->expires_ms < restart + 90 * DAY_MS + 60000,
              "migrated expiry %llu, restart %llu", (unsigned long long)t->expires_ms,
              (unsigned long long)restart);
    tn_client_reply_free(&r);
    free(tok);
    /* A second start has nothing left to migrate. */
    cr_assert_eq(h_agency_signal_wait(school, SIGTERM), 0);
    cr_assert_eq(h_agency_start(school, NULL), 0);
    cr_assert_eq(h_agency_signal_wait(school, SIGTERM), 0);
    cr_expect_eq(s_audited("token.migrate"), 1);
}

/* ------------------------------------------------------------------ users */

Test(tokens, users_are_listed_unlocked_and_removed)
{
    s_user_add("DL");
    s_user_add("AB");
    Tacnet__ApiReply *r = NULL;
    const Tacnet__UserInfo *u = s_user_listed("DL", &r);
    cr_assert_not_null(u, "DL is not listed");
    cr_expect_eq(u->role, TACNET__ROLE__DSL);
    cr_expect(!u->has_locked_until_ms);
    tn_client_reply_free(&r);

    /* Locked out by failures, then unlocked: the right password gets in again. */
    int locked = 0, fails = 0;
    for (; fails < 20 && !locked; fails++) {
        int st = s_login("DL", "wrong-password-123", NULL);
        cr_expect(st == 401 || st == 429, "a wrong password got %d", st);
        locked = st == 429;
    }
    cr_expect_eq(s_login("DL", PASSWORD, NULL), 429, "not locked after %d failures", fails);
    u = s_user_listed("DL", &r);
    cr_expect(u && u->has_locked_until_ms && u->failures >= 5, "the lock-out is not listed");
    tn_client_reply_free(&r);
    cr_assert_eq(s_user_change("DL", 0), 0);
    u = s_user_listed("DL", &r);
    cr_expect(u && !u->has_locked_until_ms && u->failures == 0, "still locked after unlock");
    tn_client_reply_free(&r);
    char cookie[160];
    cr_expect_eq(s_login("DL", PASSWORD, cookie), 303, "unlocked, the owner cannot log in");
    u = s_user_listed("DL", &r);
    cr_expect(u && u->sessions == 1, "the session is not listed");
    tn_client_reply_free(&r);

    /* Removed: gone from the list, its session ended, its password refused. */
    resp_t page = s_http("GET", "/", cookie, NULL);
    cr_expect_eq(page.status, 200, "the session does not open the dashboard");
    free(page.text);
    cr_assert_eq(s_user_change("DL", 1), 0);
    u = s_user_listed("DL", &r);
    cr_expect_null(u, "a removed user is still listed");
    tn_client_reply_free(&r);
    cr_expect_not_null(s_user_listed("AB", &r), "removing DL removed AB");
    tn_client_reply_free(&r);
    page = s_http("GET", "/", cookie, NULL);
    cr_expect_neq(page.status, 200, "a removed user's session still opens the dashboard");
    free(page.text);
    cr_expect_eq(s_login("DL", PASSWORD, NULL), 401, "a removed user logged in");
    cr_expect_eq(s_user_change("DL", 1), TACNET_ENOTFOUND);
    cr_expect_eq(s_user_change("DL", 0), TACNET_ENOTFOUND);
    cr_expect_eq(s_user_change("dl", 0), TACNET_EINITIALS);

    cr_assert_eq(h_agency_signal_wait(school, SIGTERM), 0);
    cr_expect_eq(s_audited("user.unlock"), 1);
    cr_expect_eq(s_audited("user.remove"), 1);
}

/* Run `tacnet user ARGS` against the school's daemon: its exit status, its output in OUT. */
static int s_user_cli(const char *args, char *out, size_t cap)
{
    char cmd[2048], path[700];
    snprintf(path, sizeof(path), "%s/user.out", env.dir);
    snprintf(cmd, sizeof(cmd), "%s/tacnet user %s --agency school --data-dir %s >%s 2>&1",
             getenv("TACNET_BIN"), args, school->data, path);
    int st = system(cmd);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = 0;
    if (f)
        fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

Test(tokens, adding_a_user_that_exists_is_refused_unless_replace_which_ends_its_sessions)
{
    s_user_add("DL");
    char cookie[160], out[2048], pw[700], args[1024];
    cr_assert_eq(s_login("DL", PASSWORD, cookie), 303);
    snprintf(pw, sizeof(pw), "%s/new-password", env.dir);
    FILE *f = fopen(pw, "w");
    cr_assert_not_null(f);
    fputs("another-long-password\n", f);
    fclose(f);
    /* Added again: refused by name, and nothing changes (password, role, session). */
    snprintf(args, sizeof(args), "add --initials DL --role practitioner --password-file %s", pw);
    int rc = s_user_cli(args, out, sizeof(out));
    cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "E_EXISTS") && strstr(out, "user DL exists") && strstr(out, "--replace"),
              "%s", out);
    Tacnet__ApiReply *r = NULL;
    const Tacnet__UserInfo *u = s_user_listed("DL", &r);
    cr_expect(u && u->role == TACNET__ROLE__DSL && u->sessions == 1, "the user was changed");
    tn_client_reply_free(&r);
    resp_t page = s_http("GET", "/", cookie, NULL);
    cr_expect_eq(page.status, 200, "the refusal ended the session");
    free(page.text);
    cr_expect_eq(s_login("DL", "another-long-password", NULL), 401, "the password was replaced");
    /* --replace: the new password and role, and the session with the old role is ended. */
    snprintf(args, sizeof(args),
             "add --initials DL --role practitioner --password-file %s --replace", pw);
    rc = s_user_cli(args, out, sizeof(out));
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "user DL replaced: role practitioner") && strstr(out, "ended"), "%s",
              out);
    u = s_user_listed("DL", &r);
    cr_expect(u && u->role == TACNET__ROLE__PRACTITIONER && u->sessions == 0, "not replaced");
    tn_client_reply_free(&r);
    page = s_http("GET", "/", cookie, NULL);
    cr_expect_neq(page.status, 200, "the old role's session still opens the dashboard");
    free(page.text);
    cr_expect_eq(s_login("DL", "another-long-password", NULL), 303);
    /* --replace of a user that is not there adds it. */
    snprintf(args, sizeof(args), "add --initials NW --role dsl --password-file %s --replace", pw);
    rc = s_user_cli(args, out, sizeof(out));
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "user NW (dsl) can now log in"), "%s", out);
}

/* A replace is one transaction: when the add is refused (a bad role or password hash), the old
 * user was not removed, keeps its sessions and still logs in. */
Test(tokens, a_refused_replace_leaves_the_user_as_it_was)
{
    s_user_add("DL");
    char cookie[160];
    cr_assert_eq(s_login("DL", PASSWORD, cookie), 303);
    cr_assert_eq(s_user_replace("DL", TACNET__ROLE__PRACTITIONER, "not-an-argon2id-hash"),
                 TACNET_EFIELD);
    char hash[crypto_pwhash_STRBYTES];
    cr_assert_eq(crypto_pwhash_str(hash, "another-long-password", 21, crypto_pwhash_OPSLIMIT_MIN,
                                   crypto_pwhash_MEMLIMIT_MIN),
                 0);
    cr_assert_eq(s_user_replace("DL", TACNET__ROLE__PARTNERSHIP_LEAD, hash), TACNET_EENUM);
    Tacnet__ApiReply *r = NULL;
    const Tacnet__UserInfo *u = s_user_listed("DL", &r);
    cr_expect(u && u->role == TACNET__ROLE__DSL && u->sessions == 1,
              "a refused replace removed or changed the user");
    tn_client_reply_free(&r);
    resp_t page = s_http("GET", "/", cookie, NULL);
    cr_expect_eq(page.status, 200, "a refused replace ended the session");
    free(page.text);
    cr_expect_eq(s_login("DL", PASSWORD, NULL), 303, "the old password no longer logs in");
    /* And one that is not refused replaces it, as `tacnet user add --replace` does. */
    cr_assert_eq(s_user_replace("DL", TACNET__ROLE__PRACTITIONER, hash), 0);
    u = s_user_listed("DL", &r);
    cr_expect(u && u->role == TACNET__ROLE__PRACTITIONER && u->sessions == 0, "not replaced");
    tn_client_reply_free(&r);
    cr_expect_eq(s_login("DL", "another-long-password", NULL), 303);
    /* Only the replace that took is audited: one removal and its add, after the first add. */
    cr_assert_eq(h_agency_signal_wait(school, SIGTERM), 0);
    cr_expect_eq(s_audited("user.remove"), 1);
    cr_expect_eq(s_audited("user.add"), 2);
}
