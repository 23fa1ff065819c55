/* Integration test of a large intake import run as a job (services/agency/import.c): a
 * synthetic school attendance file of TACNET_IMPORT_ROWS rows (default 20,000 here; the
 * README's figures are for 100,000) is imported with `import --no-wait` while the dashboard is
 * asked for a page every ~100 ms. Every page must come within 1 s, the job's progress must move,
 * the daemon must stay connected to the broker, every row must reach the broker, and importing
 * the same file again must queue nothing new. The figures are printed for the README. */
#include "harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>

#include "client/client.h"
#include "err.h"

#define S             TACNET__AGENCY__SCHOOL
#define PASSWORD      "correct-horse-battery"
#define CALL_MS       10000
#define ROWS_DEFAULT  20000
#define PAGE_EVERY_MS 100
#define PAGE_MAX_MS   1000
/* The import's status every quarter second (its progress must be seen moving: an import that
 * signs nothing per row queues 20,000 rows in about 2 s), the broker's view of the connection
 * every second. */
#define STATUS_EVERY_MS 250
#define CONNECTED_EVERY 4

static h_env_t env;
static h_agency_t *school;
static int port;

static void setup(void)
{
    h_setup(&env, NULL);
    cr_assert_eq(h_broker_start(&env, NULL), 0, "broker did not start (log %s)", env.log);
}

static void teardown(void)
{
    h_teardown(&env);
}

TestSuite(import_job, .init = setup, .fini = teardown, .timeout = 600);

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

static tn_client_t *s_client(void)
{
    int err = 0;
    tn_client_t *c = tn_client_new(school->data, &err);
    cr_assert_not_null(c, "tn_client_new: %s", tacnet_errname(err));
    return c;
}

static void s_add_user(const char *initials)
{
    char hash[crypto_pwhash_STRBYTES];
    /* The smallest Argon2id cost keeps the test quick; the command uses INTERACTIVE. */
    cr_assert_eq(crypto_pwhash_str(hash, PASSWORD, strlen(PASSWORD), crypto_pwhash_OPSLIMIT_MIN,
                                   crypto_pwhash_MEMLIMIT_MIN),
                 0);
    Tacnet__AddUserRequest au = TACNET__ADD_USER_REQUEST__INIT;
    au.initials.data = (uint8_t *)initials;
    au.initials.len = strlen(initials);
    au.role = TACNET__ROLE__DSL;
    au.password_hash = hash;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_ADD_USER;
    req.add_user = &au;
    tn_client_t *c = s_client();
    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_call(c, &req, &r, CALL_MS), 0);
    tn_client_reply_free(&r);
    tn_client_destroy(&c);
}

/* ------------------------------------------------------------------ a tiny HTTP client */

typedef struct {
    int status;
    char *text; /* headers and body */
    const char *body;
} resp_t;

static void s_resp_free(resp_t *r)
{
    free(r->text);
    memset(r, 0, sizeof(*r));
}

static resp_t s_http(const char *method, const char *path, const char *headers, const char *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect to %d", port);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char req[2048];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, headers ? headers : "",
                     body ? "Content-Type: application/x-www-form-urlencoded\r\n" : "", blen,
                     body ? body : "");
    cr_assert(n > 0 && (size_t)n < sizeof(req));
    cr_assert_eq(write(fd, req, (size_t)n), n);
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

/* The 64-hex token after NEEDLE in TEXT, into OUT. */
static int s_find_hex(const char *text, const char *needle, char out[65])
{
    const char *p = strstr(text, needle);
    if (!p)
        return 0;
    p += strlen(needle);
    snprintf(out, 65, "%.64s", p);
    return strspn(out, "0123456789abcdef") == 64;
}

/* Log in as INITIALS through the form (the log-in token is its CSRF token); the session cookie
 * header into COOKIE. */
static void s_login(const char *initials, char *cookie, size_t cap)
{
    resp_t r = s_http("GET", "/login", NULL, NULL);
    cr_assert_eq(r.status, 200);
    char ltok[65], sid[65], hdr[160], body[256];
    cr_assert(s_find_hex(r.text, "tn_login_school=", ltok), "%s", r.text);
    s_resp_free(&r);
    snprintf(hdr, sizeof(hdr), "Cookie: tn_login_school=%s\r\n", ltok);
    snprintf(body, sizeof(body), "csrf=%s&initials=%s&password=%s", ltok, initials, PASSWORD);
    r = s_http("POST", "/login", hdr, body);
    cr_assert_eq(r.status, 303, "log-in refused: %s", r.text);
    cr_assert(s_find_hex(r.text, "tn_session_school=", sid), "%s", r.text);
    snprintf(cookie, cap, "Cookie: tn_session_school=%s\r\n", sid);
    s_resp_free(&r);
}

/* ------------------------------------------------------------------ the import */

/* A synthetic attendance file of N rows: invented pupils LA7-2026-1xxxxx with invented
 * initials, every one below 90% attendance (so every row is a concern). */
static void s_write_file(const char *path, unsigned n)
{
    static const char letters[] = "ABCDEFGHJKLMNPRSTW";
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "# Synthetic attendance export: invented pupils, no real data.\n"
               "case_ref,initials,period_start,period_end,sessions_possible,sessions_attended\n");
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "LA7-2026-1%05u,%c%c,2026-09-02,2026-11-27,150,%u\n", i, letters[i % 18],
                letters[(i / 18) % 18], 60 + i % 75);
    fclose(f);
}

/* The import job's status (the running or latest); the caller frees *R. */
static const Tacnet__ImportStatus *s_status(tn_client_t *c, Tacnet__ApiReply **r)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__ImportStatusRequest st = TACNET__IMPORT_STATUS_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_IMPORT_STATUS;
    req.import_status = &st;
    cr_assert_eq(tn_client_call(c, &req, r, CALL_MS), 0);
    cr_assert_not_null((*r)->import_status, "no import status: %s", (*r)->reason);
    return (*r)->import_status;
}

static uint64_t s_head(void)
{
    char *st = h_admin_status(&env);
    cr_assert_not_null(st, "no admin status");
    json_t *j = json_loads(st, 0, NULL);
    free(st);
    cr_assert_not_null(j);
    uint64_t v = (uint64_t)json_integer_value(json_object_get(j, "head_seq"));
    json_decref(j);
    return v;
}

/* Whether the broker has the school's session up. */
static int s_school_connected(void)
{
    char *st = h_admin_status(&env);
    cr_assert_not_null(st, "no admin status");
    json_t *j = json_loads(st, 0, NULL);
    free(st);
    cr_assert_not_null(j);
    int up = 0;
    json_t *a, *list = json_object_get(j, "agencies");
    size_t i;
    json_array_foreach(list, i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "agency")), "school") == 0)
            up = json_is_true(json_object_get(a, "connected"));
    }
    json_decref(j);
    return up;
}

Test(import_job, a_large_import_keeps_the_dashboard_answering_and_imports_once)
{
    const char *env_rows = getenv("TACNET_IMPORT_ROWS");
    unsigned rows = env_rows && atoi(env_rows) > 0 ? (unsigned)atoi(env_rows) : ROWS_DEFAULT;
    /* TACNET_PAGE_MAX_MS loosens the Outbox bound while importing, to measure on a machine
     * busy with other work; My cases is always held to PAGE_MAX_MS. */
    const char *env_max = getenv("TACNET_PAGE_MAX_MS");
    uint64_t page_max = env_max && atoi(env_max) > 0 ? (uint64_t)atoi(env_max) : PAGE_MAX_MS;
    cr_assert(rows <= 100000, "case references LA7-2026-1xxxxx hold 100,000 rows");
    school = h_agency_add(&env, S);
    port = s_free_port();
    FILE *f = fopen(school->conf, "a");
    cr_assert_not_null(f);
    fprintf(f, "[http]\nport = %d\n", port);
    fclose(f);
    cr_assert_eq(h_agency_start(school, NULL), 0, "school did not start (log %s)", school->log);
    s_add_user("DS");
    char cookie[160], path[600], cmd[700], out[8192];
    s_login("DS", cookie, sizeof(cookie));
    snprintf(path, sizeof(path), "%s/attendance.csv", env.dir);
    s_write_file(path, rows);
    uint64_t head0 = s_head();

    uint64_t t0 = h_now_ms();
    snprintf(cmd, sizeof(cmd), "import %s --no-wait", path);
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "import job 1 started"), "%s", out);

    /* While it runs: a dashboard page every ~100 ms, each within 1 s; the progress moves. */
    tn_client_t *c = s_client();
    uint64_t worst = 0, pages = 0, next_status = 0, t_done = 0, t_all = 0;
    unsigned moves = 0, last = 0, disconnected = 0, samples = 0, conn_samples = 0;
    for (;;) {
        uint64_t a = h_now_ms();
        resp_t r = s_http("GET", "/outbox", cookie, NULL);
        uint64_t took = h_now_ms() - a;
        cr_assert_eq(r.status, 200, "%s", r.text);
        cr_assert_lt(took, page_max, "the outbox page took %llu ms", (unsigned long long)took);
        if (pages == 0 || !t_done)
            cr_assert_not_null(strstr(r.body, "Import"), "no import section: %s", r.body);
        s_resp_free(&r);
        worst = took > worst ? took : worst;
        pages++;
        if (h_now_ms() >= next_status) {
            Tacnet__ApiReply *sr = NULL;
            const Tacnet__ImportStatus *st = s_status(c, &sr);
            cr_assert_neq(st->phase, TACNET__IMPORT_PHASE__IMPORT_FAILED, "%s", st->reason);
            unsigned at = st->checked + st->queued + st->duplicates;
            moves += at != last;
            last = at;
            if (st->phase == TACNET__IMPORT_PHASE__IMPORT_DONE && !t_done)
                t_done = h_now_ms();
            int all = st->phase == TACNET__IMPORT_PHASE__IMPORT_DONE && st->unanswered == 0;
            cr_assert_eq(st->refused, 0);
            tn_client_reply_free(&sr);
            if (samples++ % CONNECTED_EVERY == 0) {
                disconnected += !s_school_connected();
                conn_samples++;
            }
            next_status = h_now_ms() + STATUS_EVERY_MS;
            if (all) {
                t_all = h_now_ms();
                break;
            }
            cr_assert_lt(h_now_ms() - t0, 480000, "the import did not finish in 8 minutes");
        }
        h_sleep_ms(PAGE_EVERY_MS);
    }
    tn_client_destroy(&c);
    cr_assert_gt(moves, 2, "the progress did not move (%u status samples)", samples);
    /* Under the sanitizers every turn of both loops is several times slower, and on a shared
     * two-core machine one sample in a long import may catch the 1.5 s heartbeat timeout (the
     * harness's 500 ms heartbeat); the plain build is held to none. */
    const char *san = getenv("TACNET_SANITIZE");
    unsigned tolerated = san && *san ? 1 : 0;
    cr_assert_leq(disconnected, tolerated,
                  "the broker saw the school disconnected in %u of %u samples", disconnected,
                  conn_samples);
    cr_assert(!h_file_contains(school->log, "broker silent"), "the daemon lost the broker");
    cr_assert_eq(s_head(), head0 + rows, "not every row reached the broker");
    double secs = (double)(t_done - t0) / 1000.0;
    fprintf(stderr,
            "import_job: %u rows queued in %.1f s (%.0f rows/s), all accepted by the broker "
            "after %.1f s; %llu dashboard pages, worst %llu ms\n",
            rows, secs, rows / secs, (double)(t_all - t0) / 1000.0, (unsigned long long)pages,
            (unsigned long long)worst);

    /* My cases with every imported case: one page of them, quickly, and the next page from the
     * cursor the page gives. */
    char want_n[64];
    snprintf(want_n, sizeof(want_n), "<p>%u cases; showing 1 to 50.</p>", rows);
    uint64_t waited = h_now_ms(), page_ms = 0;
    size_t page_bytes = 0;
    resp_t r = { 0 };
    for (;;) {
        uint64_t a = h_now_ms();
        r = s_http("GET", "/", cookie, NULL);
        page_ms = h_now_ms() - a;
        page_bytes = strlen(r.body);
        if (strstr(r.body, want_n))
            break;
        cr_assert_lt(h_now_ms() - waited, 120000, "the view never held %u cases: %.300s", rows,
                     r.body);
        s_resp_free(&r);
        h_sleep_ms(500);
    }
    s_resp_free(&r);
    /* That answer read every case, or the cases of the events applied since the last one; the
     * next ones read only their page (services/dashboard/case_index.c). */
    uint64_t first_ms = page_ms;
    page_ms = 0;
    for (int i = 0; i < 3; i++) { /* the worst of three */
        uint64_t a = h_now_ms();
        r = s_http("GET", "/", cookie, NULL);
        uint64_t took = h_now_ms() - a;
        page_ms = took > page_ms ? took : page_ms;
        page_bytes = strlen(r.body);
        if (i < 2)
            s_resp_free(&r);
    }
    fprintf(stderr,
            "import_job: My cases with %u cases: %llu ms, %zu bytes (worst of 3; the first "
            "answer with them all took %llu ms)\n",
            rows, (unsigned long long)page_ms, page_bytes, (unsigned long long)first_ms);
    const char *pager = strstr(r.body, "class=\"pager\"");
    const char *next = pager ? strstr(pager, "after=") : NULL;
    cr_assert_not_null(next, "no next page: %.300s", r.body);
    cr_assert(strstr(r.body, "data-live=\"/events?after="), "the page would replay history");
    char page2[300];
    snprintf(page2, sizeof(page2), "/?%.*s", (int)strcspn(next, "\"&"), next);
    s_resp_free(&r);
    cr_assert_lt(page_ms, PAGE_MAX_MS, "My cases took %llu ms", (unsigned long long)page_ms);
    cr_assert_lt(page_bytes, 200 * 1024, "My cases is %zu bytes", page_bytes);
    r = s_http("GET", page2, cookie, NULL);
    cr_assert(strstr(r.body, "showing 51 to 100."), "%s: %.300s", page2, r.body);
    s_resp_free(&r);

    /* The escalation filter, the deadline sort and the inbox: the first answer after the import
     * reads the cases the index has no escalation facts for; later ones read none. */
    const char *filtered[] = { "/?esc=1", "/?sort=deadline", "/inbox" };
    for (size_t k = 0; k < sizeof(filtered) / sizeof(filtered[0]); k++) {
        uint64_t a = h_now_ms(), worst_ms = 0;
        r = s_http("GET", filtered[k], cookie, NULL);
        uint64_t first = h_now_ms() - a;
        cr_assert_eq(r.status, 200, "%s: %s", filtered[k], r.text);
        s_resp_free(&r);
        size_t bytes = 0;
        for (int i = 0; i < 3; i++) {
            a = h_now_ms();
            r = s_http("GET", filtered[k], cookie, NULL);
            uint64_t took = h_now_ms() - a;
            worst_ms = took > worst_ms ? took : worst_ms;
            bytes = strlen(r.body);
            s_resp_free(&r);
        }
        fprintf(stderr,
                "import_job: %s with %u cases: %llu ms, %zu bytes (worst of 3; the first "
                "answer took %llu ms)\n",
                filtered[k], rows, (unsigned long long)worst_ms, bytes, (unsigned long long)first);
        cr_assert_lt(worst_ms, PAGE_MAX_MS, "%s took %llu ms", filtered[k],
                     (unsigned long long)worst_ms);
        cr_assert_lt(bytes, 200 * 1024, "%s is %zu bytes", filtered[k], bytes);
    }

    /* The same file again: every row a duplicate, nothing new reaches the broker. */
    snprintf(cmd, sizeof(cmd), "import %s", path);
    int rc = h_cli(school, cmd, out, sizeof(out));
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    char want[128];
    snprintf(want, sizeof(want), "%u of them were imported before", rows);
    cr_assert_not_null(strstr(out, want), "%s", out);
    h_sleep_ms(500);
    cr_assert_eq(s_head(), head0 + rows, "the second import reached the broker");
}

Test(import_job, an_import_cut_short_by_a_crash_says_so_after_restart_and_a_rerun_completes_it)
{
    const unsigned rows = 6000;
    school = h_agency_add(&env, S);
    cr_assert_eq(h_agency_start(school, NULL), 0, "school did not start (log %s)", school->log);
    char path[600], cmd[700], out[8192];
    snprintf(path, sizeof(path), "%s/attendance.csv", env.dir);
    s_write_file(path, rows);
    uint64_t head0 = s_head();
    snprintf(cmd, sizeof(cmd), "import %s --no-wait", path);
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 0, "%s", out);
    /* Killed as soon as some rows are queued and before all are. */
    tn_client_t *c = s_client();
    unsigned queued = 0;
    for (int i = 0; i < 3000; i++) {
        Tacnet__ApiReply *sr = NULL;
        const Tacnet__ImportStatus *st = s_status(c, &sr);
        int phase = st->phase;
        queued = st->queued;
        tn_client_reply_free(&sr);
        cr_assert_neq(phase, TACNET__IMPORT_PHASE__IMPORT_DONE,
                      "done before the kill: use more rows");
        if (phase == TACNET__IMPORT_PHASE__IMPORT_QUEUEING && queued > 0)
            break;
        h_sleep_ms(2);
    }
    tn_client_destroy(&c);
    cr_assert_gt(queued, 0, "never saw the job queueing");
    h_agency_signal_wait(school, SIGKILL); /* its status is the signal */
    cr_assert_eq(h_agency_start(school, NULL), 0, "log %s", school->log);
    /* The restarted daemon says what became of the job, in words, with a stable code. */
    int rc = h_cli(school, "import-status", out, sizeof(out));
    cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
    cr_assert_not_null(strstr(out, "E_INTR"), "%s", out);
    cr_assert_not_null(strstr(out, "stopped while this import was queueing"), "%s", out);
    /* Importing the file again queues the rest once: nothing sent twice. */
    rc = h_cli(school, cmd, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    c = s_client();
    for (int i = 0; i < 1200; i++) {
        Tacnet__ApiReply *sr = NULL;
        const Tacnet__ImportStatus *st = s_status(c, &sr);
        int done = st->phase == TACNET__IMPORT_PHASE__IMPORT_DONE && st->unanswered == 0;
        unsigned q = st->queued, d = st->duplicates;
        tn_client_reply_free(&sr);
        if (done) {
            cr_assert_eq(q + d, rows, "queued %u + before %u", q, d);
            cr_assert_gt(d, 0, "the rows queued before the crash were queued again");
            break;
        }
        h_sleep_ms(100);
    }
    tn_client_destroy(&c);
    uint64_t until = h_now_ms() + 60000;
    while (s_head() < head0 + rows && h_now_ms() < until)
        h_sleep_ms(200);
    cr_assert_eq(s_head(), head0 + rows, "every row reaches the broker exactly once");
}
