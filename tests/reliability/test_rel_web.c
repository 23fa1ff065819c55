/* Reliability T26-T29: attacks on an agency's dashboard from outside, against a real broker and
 * school daemon on loopback, spoken to over plain sockets bound to chosen loopback addresses
 * (127.0.0.x: each a different source to the daemon).
 *   T26 100,000 failed log-ins and 100,000 bad API tokens from one source: the view grows by
 *       less than 1 MiB, a handful of audit records; a known and an unknown user fail in about
 *       the same time.
 *   T27 ten failed log-ins at an account from one source: the owner still logs in from another,
 *       the lock-out is audited once.
 *   T28 1,000 slow connections from one source (headers and bodies trickled): GET /login from
 *       another answers within 1 s; a trickler is cut at the read deadline.
 *   T29 log-in CSRF: a made-up log-in token, a cross-origin POST, a foreign Host are refused;
 *       HTTPS with [http] cert and key (Secure cookies); no plain HTTP beyond loopback.
 *   T30 failed log-ins from 60 sources at once (each respecting Retry-After): the budget of
 *       password checks refuses the excess unchecked (429), the local API keeps answering, the
 *       refusals are audited once, not per attempt; a user who logged in from their desk before
 *       the attack logs in from it every 2 s during it (the reserve of a known source).
 *   T31 bad API tokens from 3,000 sources, one each: a round of summaries is a bounded number
 *       of audit records (8 sources on their own, one for the further ones), not one a source.
 *   T32 slow connections from 20 sources, each up to its per-source limit (more than the whole
 *       table): GET /login from another source is still answered; the slowest are shed. */
#include "harness.h"
#include "rel.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <lmdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>

#include "audit.h"
#include "client/client.h"
#include "err.h"

#define S        TACNET__AGENCY__SCHOOL
#define PASSWORD "correct-horse-battery"
#define CALL_MS  10000

static h_env_t env;
static h_agency_t *school;
static int port;
static char base_conf[8192]; /* the school's config before its [http] section */

static void s_down(void)
{
    h_teardown(&env);
    memset(&env, 0, sizeof(env));
    school = NULL;
}

TestSuite(rel_web, .fini = s_down, .timeout = 600);

/* ------------------------------------------------------------------ the world */

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

/* Write the school's config with EXTRA in its [http] section (on a fresh port). */
static void s_http_conf(const char *extra)
{
    port = s_free_port();
    FILE *f = fopen(school->conf, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s[http]\nport = %d\n%s", base_conf, port, extra ? extra : "");
    fclose(f);
}

/* The broker and a school daemon serving HTTP with EXTRA in its [http] section. */
static void s_up(const char *extra)
{
    h_setup(&env, NULL);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    school = h_agency_add(&env, S);
    FILE *f = fopen(school->conf, "r");
    cr_assert_not_null(f);
    size_t n = fread(base_conf, 1, sizeof(base_conf) - 1, f);
    base_conf[n] = 0;
    fclose(f);
    s_http_conf(extra);
    cr_assert_eq(h_agency_start(school, NULL), 0, "the school did not start (log %s)", school->log);
}

/* A user with the cost `tacnet user add` uses (INTERACTIVE), or the smallest (quick). */
static void s_add_user(const char *initials, int interactive)
{
    char hash[crypto_pwhash_STRBYTES];
    cr_assert_eq(crypto_pwhash_str(
                     hash, PASSWORD, strlen(PASSWORD),
                     interactive ? crypto_pwhash_OPSLIMIT_INTERACTIVE : crypto_pwhash_OPSLIMIT_MIN,
                     interactive ? crypto_pwhash_MEMLIMIT_INTERACTIVE : crypto_pwhash_MEMLIMIT_MIN),
                 0);
    Tacnet__AddUserRequest au = TACNET__ADD_USER_REQUEST__INIT;
    au.initials.data = (uint8_t *)initials;
    au.initials.len = strlen(initials);
    au.role = TACNET__ROLE__DSL;
    au.password_hash = hash;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_ADD_USER;
    req.add_user = &au;
    int err = 0;
    tn_client_t *c = tn_client_new(school->data, &err);
    cr_assert_not_null(c, "tn_client_new: %s", tacnet_errname(err));
    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_call(c, &req, &r, CALL_MS), 0);
    tn_client_reply_free(&r);
    tn_client_destroy(&c);
}

/* Pages of the view in use (LMDB's high-water mark), in bytes. */
static uint64_t s_view_bytes(void)
{
    MDB_env *e;
    MDB_envinfo info;
    MDB_stat st;
    cr_assert_eq(mdb_env_create(&e), 0);
    mdb_env_set_maxdbs(e, 64);
    cr_assert_eq(mdb_env_open(e, school->data, MDB_RDONLY, 0600), 0);
    mdb_env_info(e, &info);
    mdb_env_stat(e, &st);
    mdb_env_close(e);
    return (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
}

typedef struct {
    uint64_t records, summaries, locks, logins, busy, further;
    char last_summary[72];
} audit_count_t;

static int s_audit_one(uint64_t seq, const audit_record_t *rec, void *arg)
{
    (void)seq;
    audit_count_t *c = arg;
    c->records++;
    if (strcmp(rec->action, "auth.failures") == 0) {
        c->summaries++;
        snprintf(c->last_summary, sizeof(c->last_summary), "%s", rec->object);
        c->further += strstr(rec->object, "further sources") != NULL;
    }
    c->locks += strcmp(rec->action, "login.locked") == 0;
    c->logins += strcmp(rec->action, "login") == 0;
    c->busy += strcmp(rec->action, "login.busy") == 0;
    return 0;
}

static audit_count_t s_audit(void)
{
    audit_count_t c = { 0 };
    MDB_env *e;
    MDB_txn *txn;
    MDB_dbi dbi;
    cr_assert_eq(mdb_env_create(&e), 0);
    mdb_env_set_maxdbs(e, 64);
    cr_assert_eq(mdb_env_open(e, school->data, MDB_RDONLY, 0600), 0);
    cr_assert_eq(mdb_txn_begin(e, NULL, MDB_RDONLY, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, AUDIT_DB, 0, &dbi), 0);
    cr_assert_eq(audit_iterate(txn, dbi, 1, s_audit_one, &c), 0);
    mdb_txn_abort(txn);
    mdb_env_close(e);
    return c;
}

/* ------------------------------------------------------------------ a small HTTP client */

/* A connection from loopback address SRC (127.0.0.x) to the dashboard, with what has been read
 * and not yet parsed. */
typedef struct {
    int fd;
    char *buf;
    size_t len, cap;
} hc_t;

static int s_connect_from(const char *src, int nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in from = { .sin_family = AF_INET };
    cr_assert_eq(inet_pton(AF_INET, src, &from.sin_addr), 1);
    cr_assert_eq(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0, "bind %s: %s", src,
                 strerror(errno));
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    int rc = connect(fd, (struct sockaddr *)&to, sizeof(to));
    cr_assert(rc == 0 || (nonblock && errno == EINPROGRESS), "connect from %s: %s", src,
              strerror(errno));
    return fd;
}

static void s_hc_open(hc_t *c, const char *src)
{
    memset(c, 0, sizeof(*c));
    c->fd = s_connect_from(src, 0);
    struct timeval tv = { 10, 0 };
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    c->cap = 1 << 16;
    c->buf = malloc(c->cap);
}

static void s_hc_close(hc_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

static void s_hc_send(hc_t *c, const char *data, size_t n)
{
    while (n) {
        ssize_t w = write(c->fd, data, n);
        cr_assert_gt(w, 0, "write: %s", strerror(errno));
        data += w, n -= (size_t)w;
    }
}

/* NEEDLE in the LEN bytes at P, or NULL. */
static char *s_mem(char *p, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(p + i, needle, n) == 0)
            return p + i;
    return NULL;
}

/* Read one whole response (headers and Content-Length body). Returns its status with the
 * response text in OUT (cut to CAP), or -1 when the server closed first. */
static int s_hc_read(hc_t *c, char *out, size_t cap)
{
    for (;;) {
        char *end = s_mem(c->buf, c->len, "\r\n\r\n");
        if (end) {
            size_t head = (size_t)(end + 4 - c->buf), body = 0;
            const char *cl = s_mem(c->buf, head, "Content-Length: ");
            if (cl)
                body = strtoul(cl + 16, NULL, 10);
            if (c->len >= head + body) {
                int status = 0;
                sscanf(c->buf, "HTTP/1.1 %d", &status);
                size_t n = head + body < cap - 1 ? head + body : cap - 1;
                if (out) {
                    memcpy(out, c->buf, n);
                    out[n] = 0;
                }
                memmove(c->buf, c->buf + head + body, c->len - head - body);
                c->len -= head + body;
                return status;
            }
        }
        if (c->cap - c->len < 4096)
            c->buf = realloc(c->buf, c->cap *= 2);
        ssize_t got = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (got <= 0)
            return -1;
        c->len += (size_t)got;
    }
}

/* The Host s_http names (NULL: 127.0.0.1). */
static const char *s_host;

/* One request on a fresh connection from SRC. */
static int s_http(const char *src, const char *method, const char *path, const char *headers,
                  const char *body, char *out, size_t cap)
{
    hc_t c;
    s_hc_open(&c, src);
    char req[4096];
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n%s"
                     "%sContent-Length: %zu\r\n\r\n%s",
                     method, path, s_host ? s_host : "127.0.0.1", port, headers ? headers : "",
                     body ? "Content-Type: application/x-www-form-urlencoded\r\n" : "",
                     body ? strlen(body) : 0, body ? body : "");
    cr_assert(n > 0 && (size_t)n < sizeof(req));
    s_hc_send(&c, req, (size_t)n);
    int status = s_hc_read(&c, out, cap);
    s_hc_close(&c);
    return status;
}

/* The value of a 64-hex token after NEEDLE in TEXT, into OUT. */
static int s_find_hex(const char *text, const char *needle, char out[65])
{
    const char *p = strstr(text, needle);
    if (!p)
        return 0;
    snprintf(out, 65, "%.64s", p + strlen(needle));
    return strspn(out, "0123456789abcdef") == 64;
}

/* A log-in form token (and its cookie) fetched from SRC. */
static void s_login_token(const char *src, char tok[65])
{
    static char page[65536];
    cr_assert_eq(s_http(src, "GET", "/login", NULL, NULL, page, sizeof(page)), 200);
    cr_assert(s_find_hex(page, "tn_login_school=", tok));
}

/* A log-in POST from SRC with TOK; its status, the response in OUT. */
static int s_login(const char *src, const char *tok, const char *initials, const char *password,
                   const char *extra, char *out, size_t cap)
{
    char hdr[512], body[256];
    snprintf(hdr, sizeof(hdr), "Cookie: tn_login_school=%s\r\n%s", tok, extra ? extra : "");
    snprintf(body, sizeof(body), "csrf=%s&initials=%s&password=%s", tok, initials, password);
    return s_http(src, "POST", "/login", hdr, body, out, cap);
}

/* ------------------------------------------------------------------ T26 */

/* Answers counted by s_flood. */
enum { C_OTHER, C_401, C_429, C_IN, C_N };

/* Send N requests built by MAKE on one kept-alive connection from SRC, 64 in flight at a time;
 * count the answers into COUNTS (C_IN: any 2xx or 3xx, which would be a way in). */
static void s_flood(const char *src, long n, int (*make)(char *buf, size_t cap, long i, void *arg),
                    void *arg, long counts[C_N])
{
    hc_t c;
    s_hc_open(&c, src);
    char req[1024];
    long sent = 0, got = 0;
    while (got < n) {
        long batch = n - sent < 64 ? n - sent : 64;
        size_t cap = 64 * sizeof(req), len = 0;
        char *out = malloc(cap);
        for (long k = 0; k < batch; k++) {
            int m = make(req, sizeof(req), sent + k, arg);
            memcpy(out + len, req, (size_t)m);
            len += (size_t)m;
        }
        s_hc_send(&c, out, len);
        free(out);
        sent += batch;
        while (got < sent) {
            int st = s_hc_read(&c, NULL, 0);
            if (st < 0) { /* closed on us: reconnect and resend what was not answered */
                s_hc_close(&c);
                s_hc_open(&c, src);
                sent = got;
                break;
            }
            counts[st == 401               ? C_401
                   : st == 429             ? C_429
                   : st >= 200 && st < 400 ? C_IN
                                           : C_OTHER]++;
            got++;
        }
    }
    s_hc_close(&c);
}

typedef struct {
    char tok[65];
} login_flood_t;

static int s_make_login(char *buf, size_t cap, long i, void *arg)
{
    login_flood_t *f = arg;
    char body[200];
    /* Known and unknown initials, two to four letters. */
    static const char *const who[] = { "KN", "ZQX", "AB", "QQQQ", "XY" };
    int bl = snprintf(body, sizeof(body), "csrf=%s&initials=%s&password=guess-%ld", f->tok,
                      who[i % 5], i);
    return snprintf(
        buf, cap,
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: tn_login_school=%s\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
        port, f->tok, bl, body);
}

static int s_make_token(char *buf, size_t cap, long i, void *arg)
{
    (void)arg;
    return snprintf(buf, cap,
                    "GET /api/v1/cases HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer "
                    "%064lx\r\n\r\n",
                    port, (unsigned long)i * 2654435761ul);
}

/* Mean ms of N failed log-ins at INITIALS from SRC. */
static double s_fail_ms(const char *src, const char *tok, const char *initials, int n)
{
    static char page[65536];
    uint64_t t0 = h_now_ms();
    for (int i = 0; i < n; i++)
        cr_assert_eq(s_login(src, tok, initials, "not-the-password", NULL, page, sizeof(page)), 401,
                     "failed log-in %d at %s", i, initials);
    return (double)(h_now_ms() - t0) / n;
}

Test(rel_web, t26_failed_authentication_costs_nothing_durable)
{
    rel_seed_init("T26");
    s_up(NULL);
    s_add_user("KN", 1);
    long n = rel_env("REL_T26_ATTEMPTS", 100000);
    /* Timing first, from sources of their own: a known and an unknown user, alternately. */
    char tok[65];
    s_login_token("127.0.0.9", tok);
    /* The quickest of three each: the machine's load only ever adds. */
    double known = 1e9, unknown = 1e9;
    s_fail_ms("127.0.0.9", tok, "WU", 1); /* the first log-in makes the dummy hash */
    for (int r = 0; r < 3; r++) {
        double k = s_fail_ms("127.0.0.9", tok, "KN", 1), u = s_fail_ms("127.0.0.9", tok, "ZQX", 1);
        known = k < known ? k : known;
        unknown = u < unknown ? u : unknown;
    }
    uint64_t bytes0 = s_view_bytes();
    audit_count_t a0 = s_audit();
    login_flood_t f;
    s_login_token("127.0.0.3", f.tok);
    long logins[C_N] = { 0 }, tokens[C_N] = { 0 };
    uint64_t t0 = h_now_ms();
    s_flood("127.0.0.3", n, s_make_login, &f, logins);
    s_flood("127.0.0.3", n, s_make_token, NULL, tokens);
    uint64_t took = h_now_ms() - t0;
    /* The flood's summary is due a minute after it started: wait for it. */
    while (h_now_ms() < t0 + 62000)
        h_sleep_ms(500);
    uint64_t bytes1 = s_view_bytes();
    audit_count_t a1 = s_audit();
    long grew_kib = (long)((bytes1 - bytes0) / 1024);
    fprintf(stderr,
            "[rel] T26: %ld failed log-ins (%ld 401, %ld 429) and %ld bad tokens (%ld 401, %ld "
            "429) from one source in %llu ms: view +%ld KiB, +%llu audit records; failed log-in "
            "%.1f ms known vs %.1f ms unknown user\n",
            n, logins[C_401], logins[C_429], n, tokens[C_401], tokens[C_429],
            (unsigned long long)took, grew_kib, (unsigned long long)(a1.records - a0.records),
            known, unknown);
    rel_stat("t26_failed_auth", 2 * n);
    rel_stat("t26_view_growth_kib", grew_kib);
    rel_stat("t26_audit_records", (long)(a1.records - a0.records));
    rel_stat("t26_known_ms10", (long)(known * 10));
    rel_stat("t26_unknown_ms10", (long)(unknown * 10));
    rel_stat("attacks_tried", 2);
    cr_expect_eq(logins[C_401] + logins[C_429], n,
                 "every log-in refused (401 or 429): %ld in, %ld other", logins[C_IN],
                 logins[C_OTHER]);
    cr_expect_eq(tokens[C_401] + tokens[C_429], n, "every bad token refused: %ld in, %ld other",
                 tokens[C_IN], tokens[C_OTHER]);
    cr_expect_lt(bytes1 - bytes0, 1u << 20, "the view grew by %ld KiB", grew_kib);
    cr_expect_leq(a1.records - a0.records, 8, "%llu audit records for the flood",
                  (unsigned long long)(a1.records - a0.records));
    cr_expect_geq(a1.summaries - a0.summaries, 1, "no summary of the flood was written");
    cr_expect(strstr(a1.last_summary, "failed=") && strstr(a1.last_summary, "refused="), "%s",
              a1.last_summary);
    fprintf(stderr, "[rel] T26: last summary: %s\n", a1.last_summary);
    /* Within a few ms or a quarter of each other, whichever is larger. */
    double diff = known > unknown ? known - unknown : unknown - known;
    cr_expect(diff < 5 || diff < 0.25 * (known > unknown ? known : unknown),
              "failed log-ins: %.1f ms for a known user, %.1f ms for an unknown one", known,
              unknown);
    rel_stat("attacks_accepted", 0);
}

/* ------------------------------------------------------------------ T27 */

Test(rel_web, t27_an_attackers_failures_do_not_lock_the_owner_out)
{
    rel_seed_init("T27");
    s_up(NULL);
    s_add_user("OW", 0);
    static char page[65536];
    char tok[65];
    s_login_token("127.0.0.4", tok);
    audit_count_t a0 = s_audit();
    int refused = 0;
    for (int i = 0; i < 10; i++) {
        int st = s_login("127.0.0.4", tok, "OW", "wrong-password-123", NULL, page, sizeof(page));
        cr_expect(st == 401 || st == 429, "failure %d answered %d", i, st);
        refused += st == 429;
    }
    /* From the attacker's address even the right password is refused now... */
    int st = s_login("127.0.0.4", tok, "OW", PASSWORD, NULL, page, sizeof(page));
    cr_expect_eq(st, 429, "the attacker's source got %d with the right password", st);
    cr_expect(strstr(page, "Retry-After: "), "no Retry-After on a 429");
    /* ...and the owner, elsewhere, logs in at once. */
    char own[65];
    s_login_token("127.0.0.5", own);
    uint64_t t0 = h_now_ms();
    int owner = s_login("127.0.0.5", own, "OW", PASSWORD, NULL, page, sizeof(page));
    uint64_t took = h_now_ms() - t0;
    cr_expect_eq(owner, 303, "the owner could not log in from another source (%d)", owner);
    h_sleep_ms(1500);           /* the lock-out's audit record is written by the loop's sweep */
    for (int i = 0; i < 5; i++) /* more attempts: the lock is not audited again */
        s_login("127.0.0.4", tok, "OW", "wrong-password-123", NULL, page, sizeof(page));
    h_sleep_ms(1500);
    audit_count_t a1 = s_audit();
    fprintf(stderr,
            "[rel] T27: 10 failures + 6 more from one source (%d refused unchecked); owner from "
            "another source: %d in %llu ms; lock-out audited %llu time(s)\n",
            refused, owner, (unsigned long long)took, (unsigned long long)(a1.locks - a0.locks));
    rel_stat("t27_owner_login_ok", owner == 303);
    rel_stat("t27_lock_audits", (long)(a1.locks - a0.locks));
    rel_stat("attacks_tried", 1);
    rel_stat("attacks_accepted", owner != 303);
    cr_expect_eq(a1.locks - a0.locks, 1, "the lock-out was audited %llu times",
                 (unsigned long long)(a1.locks - a0.locks));
    cr_expect_eq(a1.logins - a0.logins, 1, "only the owner's log-in is a login record");
}

/* ------------------------------------------------------------------ T28 */

/* Milliseconds until GET /login from SRC is answered whole (its status in *STATUS). */
static uint64_t s_login_page_ms(const char *src, int *status)
{
    static char page[65536];
    uint64_t t0 = h_now_ms();
    *status = s_http(src, "GET", "/login", NULL, NULL, page, sizeof(page));
    return h_now_ms() - t0;
}

/* Whether the server has closed FD (read gives end of stream or an error). */
static int s_closed(int fd)
{
    char b[256];
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, 0) <= 0)
        return 0;
    ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

Test(rel_web, t28_slow_clients_from_one_source_leave_room_for_others)
{
    rel_seed_init("T28");
    s_up(NULL);
    long n = rel_env("REL_T28_CONNECTIONS", 1000);
    int *fds = calloc((size_t)n, sizeof(int));
    /* Half trickle their headers, half announce a body and trickle it. */
    for (long i = 0; i < n; i++) {
        fds[i] = s_connect_from("127.0.0.6", 1);
        if (i % 200 == 199)
            h_sleep_ms(10); /* let the daemon's loop accept (and refuse) as they come */
    }
    h_sleep_ms(300);
    char head[256];
    int hl = 0;
    for (long i = 0; i < n; i++) {
        if (i % 2)
            hl = snprintf(head, sizeof(head),
                          "POST /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: "
                          "application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nc",
                          port);
        else
            hl =
                snprintf(head, sizeof(head), "GET /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", port);
        if (send(fds[i], head, (size_t)hl, MSG_NOSIGNAL) < 0) {
            /* refused by the per-source limit: closed, as it should be */
        }
    }
    uint64_t worst = 0;
    int bad = 0;
    for (int round = 0; round < 8; round++) {
        /* One more byte on every slow connection, then a look from elsewhere. */
        for (long i = 0; i < n; i++)
            if (send(fds[i], i % 2 ? "x" : "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                /* closed by the daemon */
            }
        int st = 0;
        uint64_t ms = s_login_page_ms("127.0.0.7", &st);
        if (ms > worst)
            worst = ms;
        bad += st != 200;
        h_sleep_ms(700);
    }
    long open_now = 0;
    for (long i = 0; i < n; i++)
        open_now += !s_closed(fds[i]);
    fprintf(stderr,
            "[rel] T28: %ld slow connections from one source (%ld still open): GET /login from "
            "another source answered in at most %llu ms over 8 tries (%d not 200)\n",
            n, open_now, (unsigned long long)worst, bad);
    rel_stat("t28_slow_connections", n);
    rel_stat("t28_login_page_max_ms", (long)worst);
    rel_stat("attacks_tried", 1);
    rel_stat("attacks_accepted", worst >= 1000 || bad);
    cr_expect_lt(worst, 1000, "GET /login took %llu ms", (unsigned long long)worst);
    cr_expect_eq(bad, 0);
    cr_expect_leq(open_now, 40, "%ld connections from one source still open", open_now);
    /* The read deadline: by now (about 6 s in) none is cut; a trickle does not stretch it past
     * 30 s (plus a sweep). */
    uint64_t t0 = h_now_ms();
    long cut = 0;
    while (h_now_ms() - t0 < 40000 && cut < open_now) {
        cut = 0;
        for (long i = 0; i < n; i++) {
            if (send(fds[i], "y", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 || s_closed(fds[i]))
                cut++;
        }
        cut -= n - open_now;
        h_sleep_ms(1000);
    }
    uint64_t deadline_s = (h_now_ms() - t0) / 1000 + 6;
    for (long i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    fprintf(stderr, "[rel] T28: the %ld trickling connections were cut after about %llu s\n",
            open_now, (unsigned long long)deadline_s);
    rel_stat("t28_trickle_cut_s", (long)deadline_s);
    cr_expect_eq(cut, open_now, "%ld of %ld trickling connections outlived the deadline", cut,
                 open_now);
    int st = 0;
    cr_expect_lt(s_login_page_ms("127.0.0.6", &st), 1000, "the slow source, once gone, is served");
    cr_expect_eq(st, 200);
}

/* ------------------------------------------------------------------ T29 */

Test(rel_web, t29_login_csrf_cross_origin_posts_and_foreign_hosts_are_refused)
{
    rel_seed_init("T29 csrf");
    s_up(NULL);
    s_add_user("CS", 0);
    static char page[65536];
    char tok[65], fake[65], origin[128];
    int tried = 0, accepted = 0, st;
    /* A log-in token the attacker made up and planted in the victim's cookie jar. */
    for (int i = 0; i < 64; i++)
        fake[i] = "0123456789abcdef"[rel_rand() % 16];
    fake[64] = 0;
    st = s_login("127.0.0.10", fake, "CS", PASSWORD, NULL, page, sizeof(page));
    tried++, accepted += st == 303;
    cr_expect_eq(st, 403, "a made-up log-in token got %d", st);
    cr_expect(strstr(page, "E_CSRF"));
    /* A real token with its time changed. */
    s_login_token("127.0.0.10", tok);
    char bent[65];
    memcpy(bent, tok, 65);
    bent[15] = bent[15] == '0' ? '1' : '0';
    st = s_login("127.0.0.10", bent, "CS", PASSWORD, NULL, page, sizeof(page));
    tried++, accepted += st == 303;
    cr_expect_eq(st, 403, "a re-timed log-in token got %d", st);
    /* A real token posted from another site's page. */
    st = s_login("127.0.0.10", tok, "CS", PASSWORD, "Origin: http://evil.example\r\n", page,
                 sizeof(page));
    tried++, accepted += st == 303;
    cr_expect_eq(st, 403, "a cross-origin log-in got %d", st);
    cr_expect(strstr(page, "E_FORBIDDEN") && strstr(page, "evil.example"), "%s", page);
    st = s_login("127.0.0.10", tok, "CS", PASSWORD, "Sec-Fetch-Site: cross-site\r\n", page,
                 sizeof(page));
    tried++, accepted += st == 303;
    cr_expect_eq(st, 403, "a cross-site log-in without Origin got %d", st);
    /* Another name for this address (DNS rebinding). */
    s_host = "evil.example";
    st = s_http("127.0.0.10", "GET", "/login", NULL, NULL, page, sizeof(page));
    s_host = NULL;
    tried++, accepted += st == 200;
    cr_expect_eq(st, 421, "a foreign Host got %d", st);
    /* The same log-in from this origin works, and its cookie is not Secure over plain HTTP. */
    snprintf(origin, sizeof(origin), "Origin: http://127.0.0.1:%d\r\n", port);
    st = s_login("127.0.0.10", tok, "CS", PASSWORD, origin, page, sizeof(page));
    cr_expect_eq(st, 303, "a same-origin log-in got %d", st);
    cr_expect(strstr(page, "tn_session_school=") && !strstr(page, "Secure"), "%s", page);
    fprintf(stderr,
            "[rel] T29: %d log-in CSRF, cross-origin and foreign-Host attempts, %d "
            "accepted; a same-origin log-in works\n",
            tried, accepted);
    rel_stat("attacks_tried", tried);
    rel_stat("attacks_accepted", accepted);
}

/* ------------------------------------------------------------------ T30 */

/* One attacking source: failed log-ins on fresh connections until STOP, waiting as Retry-After
 * says; what came back counted. No criterion asserts here (another thread). */
typedef struct {
    char src[16];
    const char *tok;
    volatile int *stop;
    long sent, st401, st429, busy, other;
} t30_source_t;

/* A log-in POST from SRC on a connection of its own; the status (-1: no answer) and the
 * Retry-After seconds (0: none) and whether the page says the service is busy. */
static int s_raw_login(const char *src, const char *tok, const char *password, long *retry_s,
                       int *busy)
{
    *retry_s = 0, *busy = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };
    inet_pton(AF_INET, src, &from.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    to.sin_port = htons((uint16_t)port);
    struct timeval tv = { 20, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (fd < 0 || bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char body[256], req[1024], resp[16384];
    int bl = snprintf(body, sizeof(body), "csrf=%s&initials=AT&password=%s", tok, password);
    int n = snprintf(req, sizeof(req),
                     "POST /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                     "Cookie: tn_login_school=%s\r\nContent-Type: "
                     "application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
                     port, tok, bl, body);
    size_t got = 0;
    if (write(fd, req, (size_t)n) == n) {
        ssize_t r;
        while (got < sizeof(resp) - 1 && (r = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
            got += (size_t)r;
    }
    close(fd);
    resp[got] = 0;
    int status = -1;
    if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
        return -1;
    const char *ra = strstr(resp, "Retry-After: ");
    if (ra)
        *retry_s = strtol(ra + 13, NULL, 10);
    *busy = strstr(resp, "Too many log-in attempts on this service right now") != NULL;
    return status;
}

static void *s_t30_source(void *arg)
{
    t30_source_t *a = arg;
    for (long i = 0; !*a->stop; i++) {
        char pw[32];
        long retry = 0;
        int busy = 0;
        snprintf(pw, sizeof(pw), "guess-%ld", i);
        int st = s_raw_login(a->src, a->tok, pw, &retry, &busy);
        a->sent++;
        if (st == 401)
            a->st401++;
        else if (st == 429)
            a->st429++, a->busy += busy;
        else
            a->other++;
        /* As a polite client: wait as told (a second when not told), a little at a time. */
        for (long w = 0; w < (st == 429 ? (retry > 0 ? retry : 1) * 10 : 0) && !*a->stop; w++)
            h_sleep_ms(100);
    }
    return NULL;
}

Test(rel_web, t30_failed_log_ins_from_many_sources_do_not_stall_the_daemon)
{
    rel_seed_init("T30");
    s_up(NULL);
    s_add_user("AT", 1); /* the cost `tacnet user add` uses: what makes checks dear */
    enum { SOURCES = 60 };
    long seconds = rel_env("REL_T30_SECONDS", 15);
    char tok[65];
    s_login_token("127.0.0.13", tok);
    /* The owner's desk: someone logged in from it before the attack began. */
    static char page[65536];
    char desk[65];
    s_login_token("127.0.0.16", desk);
    cr_assert_eq(s_login("127.0.0.16", desk, "AT", PASSWORD, NULL, page, sizeof(page)), 303);
    audit_count_t a0 = s_audit();
    int err = 0;
    tn_client_t *c = tn_client_new(school->data, &err);
    cr_assert_not_null(c, "tn_client_new: %s", tacnet_errname(err));
    volatile int stop = 0;
    static t30_source_t src[SOURCES];
    pthread_t th[SOURCES];
    for (int i = 0; i < SOURCES; i++) {
        memset(&src[i], 0, sizeof(src[i]));
        snprintf(src[i].src, sizeof(src[i].src), "127.0.%d.%d", 1 + i / 250, 1 + i % 250);
        src[i].tok = tok;
        src[i].stop = &stop;
        cr_assert_eq(pthread_create(&th[i], NULL, s_t30_source, &src[i]), 0);
    }
    /* Meanwhile, from the machine: the local API (as `tacnet cases`), and the log-in page from
     * a source of its own. */
    uint64_t t0 = h_now_ms(), api_worst = 0, page_worst = 0, desk_at = 0;
    int api_bad = 0, page_bad = 0, looks = 0, desk_tries = 0, desk_in = 0;
    h_sleep_ms(500);
    while (h_now_ms() - t0 < (uint64_t)seconds * 1000) {
        Tacnet__ApiReply *r = NULL;
        uint64_t a = h_now_ms();
        api_bad += tn_client_cases(c, &r, CALL_MS) != 0;
        a = h_now_ms() - a;
        tn_client_reply_free(&r);
        int st = 0;
        uint64_t p = s_login_page_ms("127.0.0.14", &st);
        page_bad += st != 200;
        api_worst = a > api_worst ? a : api_worst;
        page_worst = p > page_worst ? p : page_worst;
        looks++;
        if (h_now_ms() - t0 > 2000 && h_now_ms() - desk_at >= 2000) {
            desk_at = h_now_ms();
            s_login_token("127.0.0.16", desk);
            desk_tries++;
            desk_in += s_login("127.0.0.16", desk, "AT", PASSWORD, NULL, page, sizeof(page)) == 303;
        }
        h_sleep_ms(250);
    }
    stop = 1;
    long sent = 0, st401 = 0, st429 = 0, busy = 0, other = 0;
    for (int i = 0; i < SOURCES; i++) {
        pthread_join(th[i], NULL);
        sent += src[i].sent, st401 += src[i].st401, st429 += src[i].st429;
        busy += src[i].busy, other += src[i].other;
    }
    tn_client_destroy(&c);
    /* The budget refills while nobody fails: the owner logs in again. */
    h_sleep_ms(3500);
    char own[65];
    s_login_token("127.0.0.15", own);
    int owner = s_login("127.0.0.15", own, "AT", PASSWORD, NULL, page, sizeof(page));
    h_sleep_ms(1500); /* the sweep writes what is due */
    audit_count_t a1 = s_audit();
    fprintf(stderr,
            "[rel] T30: %d sources, %ld failed log-ins in %ld s (%ld 401, %ld 429 of which %ld "
            "over the overall budget, %ld other); local API worst %llu ms and GET /login from "
            "elsewhere worst %llu ms over %d looks (%d and %d failed); login.busy audited %llu "
            "time(s), %llu audit records in all; owner afterwards: %d; from the desk during it: "
            "%d of %d\n",
            SOURCES, sent, seconds, st401, st429, busy, other, (unsigned long long)api_worst,
            (unsigned long long)page_worst, looks, api_bad, page_bad,
            (unsigned long long)(a1.busy - a0.busy), (unsigned long long)(a1.records - a0.records),
            owner, desk_in, desk_tries);
    rel_stat("t30_failed_logins", sent);
    rel_stat("t30_busy_refusals", busy);
    rel_stat("t30_api_worst_ms", (long)api_worst);
    rel_stat("t30_login_page_worst_ms", (long)page_worst);
    rel_stat("attacks_tried", 1);
    rel_stat("attacks_accepted", api_worst >= 2000 || api_bad);
    cr_expect_gt(busy, 0, "the overall budget never refused a log-in");
    cr_expect_eq(other, 0, "%ld log-ins answered neither 401 nor 429", other);
    cr_expect_eq(api_bad, 0);
    cr_expect_lt(api_worst, 2000, "the local API took %llu ms", (unsigned long long)api_worst);
    cr_expect_eq(page_bad, 0);
    cr_expect_geq(a1.busy - a0.busy, 1, "the budget's refusals were not audited");
    cr_expect_leq(a1.busy - a0.busy, 2, "the budget's refusals audited %llu times",
                  (unsigned long long)(a1.busy - a0.busy));
    cr_expect_eq(owner, 303, "the owner could not log in after the attack (%d)", owner);
    cr_expect_gt(desk_tries, 0);
    cr_expect_eq(desk_in, desk_tries, "from the desk during the attack: %d of %d log-ins", desk_in,
                 desk_tries);
}

/* ------------------------------------------------------------------ T31 */

Test(rel_web, t31_bad_tokens_from_many_sources_write_a_bounded_summary)
{
    rel_seed_init("T31");
    s_up(NULL);
    long n = rel_env("REL_T31_SOURCES", 3000);
    uint64_t bytes0 = s_view_bytes();
    audit_count_t a0 = s_audit();
    static char page[65536];
    long st401 = 0, other = 0;
    uint64_t t0 = h_now_ms();
    for (long i = 0; i < n; i++) {
        char src[48], hdr[128];
        snprintf(src, sizeof(src), "127.%ld.%ld.%ld", 1 + i / 62500, 16 + i / 250 % 250,
                 1 + i % 250);
        snprintf(hdr, sizeof(hdr), "Authorization: Bearer %064lx\r\n",
                 (unsigned long)(i + 1) * 2654435761ul);
        int st = s_http(src, "GET", "/api/v1/cases", hdr, NULL, page, sizeof(page));
        st == 401 ? st401++ : other++;
    }
    uint64_t took = h_now_ms() - t0;
    /* The round is due a minute after the first failure: wait for it. */
    while (h_now_ms() < t0 + 62000)
        h_sleep_ms(500);
    uint64_t bytes1 = s_view_bytes();
    audit_count_t a1 = s_audit();
    uint64_t summaries = a1.summaries - a0.summaries, records = a1.records - a0.records;
    long grew_kib = (long)((bytes1 - bytes0) / 1024);
    fprintf(stderr,
            "[rel] T31: %ld bad tokens from %ld sources in %llu ms (%ld 401, %ld other): %llu "
            "summary records (%llu for further sources), %llu audit records in all, view +%ld "
            "KiB; last summary: %s\n",
            n, n, (unsigned long long)took, st401, other, (unsigned long long)summaries,
            (unsigned long long)(a1.further - a0.further), (unsigned long long)records, grew_kib,
            a1.last_summary);
    rel_stat("t31_sources", n);
    rel_stat("t31_audit_records", (long)records);
    rel_stat("t31_view_growth_kib", grew_kib);
    rel_stat("attacks_tried", 1);
    rel_stat("attacks_accepted", other > 0);
    cr_expect_eq(st401, n, "%ld bad tokens answered otherwise", other);
    cr_expect_geq(summaries, 1, "no summary was written");
    cr_expect_leq(summaries, 9, "%llu summary records for one round",
                  (unsigned long long)summaries);
    cr_expect_leq(records, 12, "%llu audit records for the attack", (unsigned long long)records);
    if (n > 8)
        cr_expect_eq(a1.further - a0.further, 1, "no one summary of the further sources");
    cr_expect_lt(bytes1 - bytes0, 1u << 20, "the view grew by %ld KiB", grew_kib);
}

/* ------------------------------------------------------------------ T32 */

Test(rel_web, t32_slow_connections_from_many_sources_leave_room_for_others)
{
    rel_seed_init("T32");
    s_up(NULL);
    enum { SOURCES = 20, EACH = 32 }; /* EACH: the per-source limit */
    long n = SOURCES * EACH;
    int *fds = calloc((size_t)n, sizeof(int));
    char head[256];
    int hl = snprintf(head, sizeof(head), "GET /login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", port);
    for (long i = 0; i < n; i++) {
        char src[32];
        snprintf(src, sizeof(src), "127.0.2.%ld", 1 + i % SOURCES);
        fds[i] = s_connect_from(src, 1);
        if (i % 100 == 99)
            h_sleep_ms(10); /* let the daemon's loop accept them as they come */
    }
    uint64_t t0 = h_now_ms();
    h_sleep_ms(300);
    for (long i = 0; i < n; i++)
        if (send(fds[i], head, (size_t)hl, MSG_NOSIGNAL) < 0) {
            /* refused or shed already */
        }
    uint64_t worst = 0;
    int bad = 0;
    for (int round = 0; round < 8; round++) {
        /* One more header byte on every slow connection, then a look from elsewhere. */
        for (long i = 0; i < n; i++)
            if (send(fds[i], "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                /* closed by the daemon */
            }
        int st = 0;
        uint64_t ms = s_login_page_ms("127.0.0.16", &st);
        worst = ms > worst ? ms : worst;
        bad += st != 200;
        h_sleep_ms(500);
    }
    long open_now = 0;
    for (long i = 0; i < n; i++)
        open_now += !s_closed(fds[i]);
    /* Headers trickled on: cut at their own deadline (10 s), before a whole request's (30 s). */
    long still = open_now;
    while (still > 0 && h_now_ms() - t0 < 25000) {
        still = 0;
        for (long i = 0; i < n; i++)
            still += send(fds[i], "Y", 1, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0 && !s_closed(fds[i]);
        h_sleep_ms(1000);
    }
    uint64_t cut_s = (h_now_ms() - t0) / 1000;
    for (long i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    fprintf(stderr,
            "[rel] T32: %ld slow connections from %d sources (%ld still open after 4 s): GET "
            "/login from another source answered in at most %llu ms over 8 tries (%d not 200); "
            "the last header trickle was cut after about %llu s\n",
            n, SOURCES, open_now, (unsigned long long)worst, bad, (unsigned long long)cut_s);
    cr_expect_eq(still, 0, "%ld header trickles outlived the headers' deadline", still);
    cr_expect_lt(cut_s, 25);
    rel_stat("t32_slow_connections", n);
    rel_stat("t32_login_page_max_ms", (long)worst);
    rel_stat("attacks_tried", 1);
    rel_stat("attacks_accepted", bad > 0);
    cr_expect_eq(bad, 0, "GET /login from another source was refused %d times of 8", bad);
    cr_expect_lt(worst, 2000, "GET /login took %llu ms", (unsigned long long)worst);
    cr_expect_lt(open_now, 512, "%ld slow connections still open: none was shed", open_now);
}

/* Start the school and expect it to refuse to (it may open its API socket before it reads
 * [http]), naming WHY in its log. */
static int s_start_refused(const char *why)
{
    int rc = h_agency_start(school, NULL);
    if (rc == 0) {
        int st = h_agency_wait_exit(school, 10000);
        if (st < 0) {
            h_agency_signal_wait(school, SIGKILL);
            return 0;
        }
        rc = 1000 + (WIFEXITED(st) ? WEXITSTATUS(st) : 128);
    }
    return rc > 1000 && h_file_contains(school->log, why);
}

/* Run CMD (through the shell); its exit status. */
static int s_sh(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

Test(rel_web, t29_https_in_the_daemon_and_no_plain_http_beyond_loopback)
{
    rel_seed_init("T29 tls");
    if (s_sh("command -v openssl >/dev/null && command -v curl >/dev/null") != 0) {
        rel_skip("T29 tls", "openssl or curl missing (scripts/deps.sh reliability)");
        return;
    }
    s_up(NULL);
    char cert[600], key[600], cmd[2048], extra[1400];
    snprintf(cert, sizeof(cert), "%s/dash-cert.pem", env.dir);
    snprintf(key, sizeof(key), "%s/dash-key.pem", env.dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
             "-subj /CN=localhost -keyout '%s' -out '%s' 2>/dev/null && chmod 600 '%s'",
             key, cert, key);
    cr_assert_eq(s_sh(cmd), 0, "openssl could not make a test certificate");
    cr_assert_eq(h_agency_signal_wait(school, SIGTERM) & 0x7f, 0);
    /* HTTPS: the log-in page over TLS, its cookie Secure; plain HTTP on that port gets nothing. */
    snprintf(extra, sizeof(extra), "cert = %s\nkey = %s\n", cert, key);
    s_http_conf(extra);
    cr_assert_eq(h_agency_start(school, NULL), 0, "no start with cert and key (log %s)",
                 school->log);
    char out[600];
    snprintf(out, sizeof(out), "%s/curl.txt", env.dir);
    snprintf(cmd, sizeof(cmd),
             "curl -sk --max-time 10 -D '%s' -o /dev/null https://127.0.0.1:%d/login", out, port);
    cr_expect_eq(s_sh(cmd), 0, "curl over HTTPS failed");
    int https_ok = h_file_contains(out, "HTTP/1.1 200") && h_file_contains(out, "; Secure");
    cr_expect(https_ok, "no 200 with a Secure cookie over HTTPS");
    static char page[65536];
    int plain = s_http("127.0.0.11", "GET", "/login", NULL, NULL, page, sizeof(page));
    cr_expect_neq(plain, 200, "plain HTTP was served on the HTTPS port");
    cr_assert_eq(h_agency_signal_wait(school, SIGTERM) & 0x7f, 0);
    /* A key file others can read is refused. */
    snprintf(cmd, sizeof(cmd), "chmod 644 '%s'", key);
    cr_assert_eq(s_sh(cmd), 0);
    s_http_conf(extra);
    int key_refused = s_start_refused("readable by others");
    cr_expect(key_refused, "a world-readable key was accepted");
    /* Plain HTTP beyond loopback is refused, unless a TLS proxy is said to be in front. */
    s_http_conf("listen = 0.0.0.0\n");
    int plain_refused = s_start_refused("beyond loopback without TLS");
    cr_expect(plain_refused, "plain HTTP on 0.0.0.0 was accepted");
    s_http_conf("listen = 0.0.0.0\nbehind_tls_proxy = true\nhosts = tacnet.example, 127.0.0.1\n");
    cr_assert_eq(h_agency_start(school, NULL), 0, "no start behind a TLS proxy (log %s)",
                 school->log);
    char tok[65];
    s_login_token("127.0.0.12", tok);
    cr_expect_eq(s_http("127.0.0.12", "GET", "/login", NULL, NULL, page, sizeof(page)), 200);
    cr_expect(strstr(page, "; Secure"), "no Secure cookie behind a TLS proxy");
    fprintf(stderr,
            "[rel] T29: HTTPS with a Secure cookie %s; plain HTTP on its port %d; "
            "world-readable key %s; plain HTTP beyond loopback %s\n",
            https_ok ? "ok" : "FAILED", plain, key_refused ? "refused" : "ACCEPTED",
            plain_refused ? "refused" : "ACCEPTED");
    rel_stat("attacks_tried", 3);
    rel_stat("attacks_accepted", (plain == 200) + !key_refused + !plain_refused);
}
