/* Integration tests of the dashboard and HTTP/JSON API: real broker and agency daemons on
 * loopback, spoken to over plain sockets by a tiny HTTP/1.1 client (no new dependency). */
#include "cli/report_cmd.h"
#include "harness.h"
#include "jschema.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/socket.h>

#include "client/client.h"
#include "pbjson.h"

#define CAMHS    TACNET__AGENCY__CAMHS
#define S        TACNET__AGENCY__SCHOOL
#define SC       TACNET__AGENCY__SOCIAL_CARE
#define HV       TACNET__AGENCY__HEALTH_VISITING
#define CASE     "LA7-2026-000123"
#define HV_CASE  "LA7-2026-000124"
#define PASSWORD "correct-horse-battery"
#define CALL_MS  10000
/* The child's and the family's views (or why absent) every decision and challenge carries. */
#define VIEWS_FORM                                                                      \
    "&body.decision.child_view=Likes+the+club&body.decision.family_view_absent.reason=" \
    "declined"
#define VIEWS_JSON \
    ",\"child_view_absent\":{\"reason\":\"too_young\"},\"family_view\":\"Agree with school\""

static h_env_t env;
static h_agency_t *school, *social, *hv;
/* Wait until an agency's view of CASE holds N plans (defined with the plan tests). */
static void s_wait_plans(const h_agency_t *a, size_t n);
static int port[16];

/* A port the kernel says is free now. */
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

static h_agency_t *s_up(uint32_t agency)
{
    h_agency_t *a = h_agency_add(&env, agency);
    port[agency] = s_free_port();
    FILE *f = fopen(a->conf, "a");
    cr_assert_not_null(f);
    /* Health visiting serves on IPv6 loopback, the others on the default (IPv4 loopback). */
    fprintf(f, "[http]\n%sport = %d\n", agency == HV ? "listen = ::1\n" : "", port[agency]);
    fclose(f);
    cr_assert_eq(h_agency_start(a, NULL), 0, "agency %u did not start (log %s)", agency, a->log);
    return a;
}

static tn_client_t *s_client(const h_agency_t *a)
{
    int err = 0;
    tn_client_t *c = tn_client_new(a->data, &err);
    cr_assert_not_null(c, "tn_client_new: %s", tacnet_errname(err));
    return c;
}

static void s_publish(const h_agency_t *a, const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    cr_assert_not_null(j);
    char why[256];
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_to_message(
        &tacnet__publish_request__descriptor, j, why, sizeof(why));
    json_decref(j);
    cr_assert_not_null(req, "%s", why);
    tn_client_t *c = s_client(a);
    Tacnet__ApiReply *r = NULL;
    int rc = tn_client_publish(c, req, &r, CALL_MS);
    /* The case's first event makes the agency a member once it is back from the broker: a
     * second publish that overtakes it is refused E_NOTMEMBER, so wait for it (up to 10 s). */
    /* Likewise an acceptance of the lead waits for the hand-over to reach the view (E_KIND
     * until it has), and a former lead's leaving for the acceptance (E_FORBIDDEN until then). */
    int accepting = strstr(json, "\"lead_accepted\"") != NULL;
    int leaving = strstr(json, "\"member_left\"") != NULL;
    for (int i = 0; (rc == TACNET_ENOTMEMBER || (accepting && rc == TACNET_EKIND) ||
                     (leaving && rc == TACNET_EFORBIDDEN)) &&
                    i < 500;
         i++) {
        tn_client_reply_free(&r);
        h_sleep_ms(20);
        rc = tn_client_publish(c, req, &r, CALL_MS);
    }
    cr_assert_eq(rc, 0, "publish refused: %s", tacnet_errname(rc));
    tn_client_reply_free(&r);
    tn_client_destroy(&c);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

static void s_add_user(const h_agency_t *a, const char *initials, Tacnet__Role role)
{
    char hash[crypto_pwhash_STRBYTES];
    /* The smallest Argon2id cost keeps the test quick; the command uses INTERACTIVE. */
    cr_assert_eq(crypto_pwhash_str(hash, PASSWORD, strlen(PASSWORD), crypto_pwhash_OPSLIMIT_MIN,
                                   crypto_pwhash_MEMLIMIT_MIN),
                 0);
    Tacnet__AddUserRequest au = TACNET__ADD_USER_REQUEST__INIT;
    au.initials.data = (uint8_t *)initials;
    au.initials.len = strlen(initials);
    au.role = role;
    au.password_hash = hash;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_ADD_USER;
    req.add_user = &au;
    tn_client_t *c = s_client(a);
    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_call(c, &req, &r, CALL_MS), 0);
    tn_client_reply_free(&r);
    tn_client_destroy(&c);
}

static char *s_add_token(const h_agency_t *a, const char *system)
{
    Tacnet__AddTokenRequest at = TACNET__ADD_TOKEN_REQUEST__INIT;
    at.system = (char *)system;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_ADD_TOKEN;
    req.add_token = &at;
    tn_client_t *c = s_client(a);
    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_call(c, &req, &r, CALL_MS), 0);
    cr_assert_eq(r->result_case, TACNET__API_REPLY__RESULT_TOKEN);
    char *t = strdup(r->token->token);
    tn_client_reply_free(&r);
    tn_client_destroy(&c);
    return t;
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

/* How long a read waits: a live stream never ends, so its tests read what came in a while. */
static int s_read_ms = 10000;

static resp_t s_http(uint32_t agency, const char *method, const char *path, const char *headers,
                     const char *body)
{
    int fd;
    if (agency == HV) {
        fd = socket(AF_INET6, SOCK_STREAM, 0);
        struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6,
                                    .sin6_port = htons((uint16_t)port[agency]),
                                    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        cr_assert_eq(connect(fd, (struct sockaddr *)&sa6, sizeof(sa6)), 0, "connect to [::1]:%d",
                     port[agency]);
    } else {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)port[agency]),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect to %d",
                     port[agency]);
    }
    struct timeval tv = { s_read_ms / 1000, (s_read_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    size_t blen = body ? strlen(body) : 0;
    size_t cap0 = 1024 + blen + (headers ? strlen(headers) : 0) + strlen(path);
    char *req = malloc(cap0);
    int n = snprintf(req, cap0,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, headers ? headers : "",
                     body && !strstr(headers ? headers : "", "Content-Type")
                         ? strncmp(path, "/api/", 5) == 0
                               ? "Content-Type: application/json\r\n"
                               : "Content-Type: application/x-www-form-urlencoded\r\n"
                         : "",
                     blen, body ? body : "");
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

/* The value of a 64-hex token after NEEDLE in TEXT, into OUT. */
static int s_find_hex(const char *text, const char *needle, char out[65])
{
    const char *p = strstr(text, needle);
    if (!p)
        return 0;
    p += strlen(needle);
    snprintf(out, 65, "%.64s", p);
    return strspn(out, "0123456789abcdef") == 64;
}

typedef struct {
    char cookie[160]; /* "Cookie: tn_session=...\r\n" */
    char csrf[65];
} login_t;

/* Log in at AGENCY; returns the HTTP status of the log-in POST. */
static int s_login(uint32_t agency, const char *initials, const char *password, login_t *l)
{
    resp_t r = s_http(agency, "GET", "/login", NULL, NULL);
    cr_assert_eq(r.status, 200);
    char ltok[65], hdr[160], body[256];
    const char *name = agency == S                  ? "school"
                       : agency == SC               ? "social_care"
                       : agency == CAMHS            ? "camhs"
                       : agency == H_FAMILY_SUPPORT ? "family_support"
                                                    : "health_visiting";
    char cname[64];
    snprintf(cname, sizeof(cname), "tn_login_%s=", name);
    cr_assert(s_find_hex(r.text, cname, ltok));
    s_resp_free(&r);
    snprintf(hdr, sizeof(hdr), "Cookie: %s%s\r\n", cname, ltok);
    snprintf(body, sizeof(body), "csrf=%s&initials=%s&password=%s", ltok, initials, password);
    r = s_http(agency, "POST", "/login", hdr, body);
    int status = r.status;
    char sid[65];
    if (status == 303) {
        snprintf(cname, sizeof(cname), "tn_session_%s=", name);
        cr_assert(s_find_hex(r.text, cname, sid));
        cr_assert(strstr(r.text, "HttpOnly") && strstr(r.text, "SameSite=Strict") &&
                  strstr(r.text, "Path=/;"));
        snprintf(l->cookie, sizeof(l->cookie), "Cookie: %s%s\r\n", cname, sid);
        s_resp_free(&r);
        r = s_http(agency, "GET", "/", l->cookie, NULL);
        cr_assert_eq(r.status, 200);
        cr_assert(s_find_hex(r.text, "name=\"csrf\" value=\"", l->csrf));
    }
    s_resp_free(&r);
    return status;
}

/* ------------------------------------------------------------------ the world */

static void setup(void)
{
    h_setup(&env, NULL);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    school = s_up(S);
    social = s_up(SC);
    hv = s_up(HV);
    s_publish(school, "{\"kind\":\"concern\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"sensitivity\":\"routine\",\"body\":{\"concern\":{\"category\":"
                      "\"attendance\",\"summary\":\"Late most Mondays.\"}}}");
    s_publish(school, "{\"kind\":\"consent_recorded\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"body\":{\"consent_recorded\":{\"state\":\"given\",\"scope\":"
                      "[\"routine\",\"health\",\"safeguarding\"]}}}");
    s_publish(school, "{\"kind\":\"referral\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"subject_agency\":\"social_care\",\"body\":{\"referral\":{\"to_agency\":"
                      "\"social_care\",\"summary\":\"Persistent absence.\"}}}");
    s_publish(hv, "{\"kind\":\"assessment\",\"case_ref\":\"" HV_CASE "\",\"initials\":\"MB\","
                  "\"level_of_need\":2,\"body\":{\"assessment\":{\"level_of_need\":2}}}");
    s_add_user(school, "DL", TACNET__ROLE__DSL);
    s_add_user(social, "AW", TACNET__ROLE__LEAD_PROFESSIONAL);
    s_add_user(hv, "PD", TACNET__ROLE__PRACTITIONER);
    /* Wait until the school's own events are back in its view. */
    tn_client_t *c = s_client(school);
    for (int i = 0; i < 250; i++) {
        Tacnet__ApiReply *r = NULL;
        int ok = tn_client_case(c, CASE, &r, CALL_MS) == 0 && r->show_case->n_timeline >= 3;
        tn_client_reply_free(&r);
        if (ok)
            break;
        h_sleep_ms(20);
    }
    tn_client_destroy(&c);
}

static void teardown(void)
{
    h_teardown(&env);
}

TestSuite(http, .init = setup, .fini = teardown, .timeout = 120);

Test(http, no_page_without_log_in)
{
    const char *paths[] = { "/", "/inbox", "/cases/" CASE, "/cases/" CASE "/forms/decision" };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        resp_t r = s_http(S, "GET", paths[i], NULL, NULL);
        cr_expect_eq(r.status, 303, "%s gave %d", paths[i], r.status);
        cr_expect(strstr(r.text, "Location: /login"), "%s does not send to /login", paths[i]);
        cr_expect(!strstr(r.body, CASE), "%s leaked the case", paths[i]);
        s_resp_free(&r);
    }
    resp_t r = s_http(S, "GET", "/events", NULL, NULL);
    cr_expect_eq(r.status, 401);
    s_resp_free(&r);
    r = s_http(S, "GET", "/api/v1/cases", NULL, NULL);
    cr_expect_eq(r.status, 401);
    cr_expect(strstr(r.body, "\"E_AUTH\""));
    s_resp_free(&r);
    /* Every response carries the security headers. */
    r = s_http(S, "GET", "/login", NULL, NULL);
    cr_expect(strstr(r.text, "Content-Security-Policy: default-src 'none'; script-src 'self'"));
    cr_expect(strstr(r.text, "X-Frame-Options: DENY"));
    cr_expect(strstr(r.text, "X-Content-Type-Options: nosniff"));
    cr_expect(strstr(r.text, "Referrer-Policy: same-origin"));
    cr_expect(!strstr(r.body, "<script>"), "inline script on the log-in page");
    s_resp_free(&r);
}

/* Adding an agency to a case is one form: its "Agency joining" list offers every agency of the
 * roster, family_support (deploy/agencies.conf) by its title among the named ones. */
Test(http, the_member_joined_form_offers_every_roster_agency)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = s_http(S, "GET", "/cases/" CASE "/forms/member_joined", l.cookie, NULL);
    cr_assert_eq(r.status, 200, "%s", r.text);
    const char *join = strstr(r.body, "name=\"subject_agency\"");
    cr_assert_not_null(join, "no subject_agency field: %s", r.body);
    const char *end = strstr(join, "</select>");
    cr_assert_not_null(end);
    const char *fs = strstr(join, "<option value=\"family_support\">Family support</option>");
    cr_assert(fs && fs < end, "family_support is not offered: %.*s", (int)(end - join), join);
    const char *camhs = strstr(join, "<option value=\"camhs\">CAMHS</option>");
    cr_assert(camhs && camhs < end, "the named agencies are still offered");
    s_resp_free(&r);
    /* My cases filters by it too. */
    r = s_http(S, "GET", "/", l.cookie, NULL);
    const char *member = strstr(r.body, "name=\"member\"");
    cr_assert_not_null(member, "%s", r.body);
    end = strstr(member, "</select>");
    fs = strstr(member, "<option value=\"family_support\">Family support</option>");
    cr_expect(fs && end && fs < end, "My cases cannot filter by family_support: %.*s",
              end ? (int)(end - member) : 200, member);
    s_resp_free(&r);
}

Test(http, practitioner_cannot_read_another_agencys_case_by_url_or_api)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, "Late most Mondays."));
    s_resp_free(&r);
    r = s_http(S, "GET", "/cases/" HV_CASE, l.cookie, NULL);
    cr_expect_eq(r.status, 404);
    cr_expect(strstr(r.body, "E_NOTFOUND"));
    s_resp_free(&r);
    r = s_http(S, "GET", "/cases/" HV_CASE "/forms/decision", l.cookie, NULL);
    cr_expect_eq(r.status, 404);
    s_resp_free(&r);
    r = s_http(S, "GET", "/", l.cookie, NULL);
    cr_expect(strstr(r.body, CASE) && !strstr(r.body, HV_CASE));
    s_resp_free(&r);

    char *tok = s_add_token(school, "mis"), hdr[160];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
    r = s_http(S, "GET", "/api/v1/cases/" HV_CASE, hdr, NULL);
    cr_expect_eq(r.status, 404);
    cr_expect(strstr(r.body, "\"code\":-1003") && strstr(r.body, "E_NOTFOUND"));
    s_resp_free(&r);
    r = s_http(S, "GET", "/api/v1/cases/" CASE, hdr, NULL);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, "\"show_case\""));
    s_resp_free(&r);
    free(tok);
    /* Health visiting holds its own case. */
    cr_assert_eq(s_login(HV, "PD", PASSWORD, &l), 303);
    r = s_http(HV, "GET", "/cases/" HV_CASE, l.cookie, NULL);
    cr_expect_eq(r.status, 200);
    s_resp_free(&r);
}

Test(http, forged_or_missing_csrf_token_is_refused)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    const char *bodies[] = {
        "body.decision.topic=Sleep&body.decision.chosen=Breakfast+club",
        "csrf=0000000000000000000000000000000000000000000000000000000000000000"
        "&body.decision.topic=Sleep&body.decision.chosen=Breakfast+club",
    };
    for (size_t i = 0; i < 2; i++) {
        resp_t r = s_http(S, "POST", "/cases/" CASE "/forms/decision", l.cookie, bodies[i]);
        cr_expect_eq(r.status, 403, "body %zu gave %d", i, r.status);
        cr_expect(strstr(r.body, "E_CSRF"));
        s_resp_free(&r);
    }
    /* Another session's token is forged too. */
    login_t other;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &other), 303);
    char body[256];
    snprintf(body, sizeof(body), "csrf=%s&body.decision.topic=Sleep&body.decision.chosen=X",
             other.csrf);
    resp_t r = s_http(S, "POST", "/cases/" CASE "/forms/decision", l.cookie, body);
    cr_expect_eq(r.status, 403);
    s_resp_free(&r);
    /* With the session's own token it goes through. */
    snprintf(body, sizeof(body),
             "csrf=%s&body.decision.topic=Sleep&body.decision.chosen=Breakfast+club" VIEWS_FORM,
             l.csrf);
    r = s_http(S, "POST", "/cases/" CASE "/forms/decision", l.cookie, body);
    cr_expect_eq(r.status, 303);
    cr_expect(strstr(r.text, "Location: /cases/" CASE "?published="));
    s_resp_free(&r);
}

Test(http, api_tokens_are_scoped_to_their_agency)
{
    char *tok = s_add_token(school, "school-mis"), hdr[160];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
    resp_t r = s_http(S, "GET", "/api/v1/cases", hdr, NULL);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, CASE));
    s_resp_free(&r);
    r = s_http(SC, "GET", "/api/v1/cases", hdr, NULL);
    cr_expect_eq(r.status, 401, "a school token opened social care's API");
    cr_expect(strstr(r.body, "E_AUTH"));
    s_resp_free(&r);
    r = s_http(HV, "GET", "/api/v1/cases/" HV_CASE, hdr, NULL);
    cr_expect_eq(r.status, 401);
    s_resp_free(&r);
    /* Posting an event: the local API's JSON shape, codes and reasons. */
    char h2[256];
    snprintf(h2, sizeof(h2), "%sContent-Type: application/json\r\n", hdr);
    r = s_http(S, "POST", "/api/v1/events", h2,
               "{\"kind\":\"contact_logged\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
               "\"body\":{\"contact_logged\":{\"with\":\"mother\",\"method\":\"phone_call\","
               "\"summary\":\"Rang Hollis Brennick about Monday.\"}}}");
    cr_expect_eq(r.status, 422);
    cr_expect(strstr(r.body, "\"code\":-1300") && strstr(r.body, "\"E_TEXT\""));
    cr_expect(strstr(r.body, "\"field\":\"contact_logged.summary\""), "%s", r.body);
    cr_expect(strstr(r.body, "\"start\":5") && strstr(r.body, "\"end\":20"), "%s", r.body);
    s_resp_free(&r);
    r = s_http(S, "POST", "/api/v1/events", h2,
               "{\"kind\":\"contact_logged\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
               "\"body\":{\"contact_logged\":{\"with\":\"mother\",\"method\":\"phone_call\"}}}");
    cr_expect_eq(r.status, 201, "%s", r.body);
    cr_expect(strstr(r.body, "\"published\""));
    s_resp_free(&r);
    r = s_http(S, "GET", "/api/v1/events?after=0", hdr, NULL);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, "\"next_local_seq\""));
    cr_expect(!strstr(r.body, HV_CASE));
    s_resp_free(&r);
    r = s_http(S, "GET", "/api/v1/cases", "Authorization: Bearer 0123\r\n", NULL);
    cr_expect_eq(r.status, 401);
    s_resp_free(&r);
    free(tok);
}

Test(http, an_api_publish_must_be_json_and_says_so)
{
    char *tok = s_add_token(school, "mis"), hdr[400];
    const char *ev =
        "{\"kind\":\"contact_logged\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
        "\"body\":{\"contact_logged\":{\"with\":\"mother\",\"method\":\"phone_call\"}}}";
    const char *types[] = { "text/plain", "application/x-www-form-urlencoded" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\nContent-Type: %s\r\n", tok,
                 types[i]);
        resp_t r = s_http(S, "POST", "/api/v1/events?wait=0", hdr, ev);
        cr_expect_eq(r.status, 415, "%s: %d %s", types[i], r.status, r.body);
        cr_expect(strstr(r.body, "\"error\":\"E_FIELD\"") && strstr(r.body, "application/json"),
                  "%s", r.body);
        s_resp_free(&r);
    }
    /* JSON with a charset is JSON; a broken body is told where it breaks. */
    snprintf(hdr, sizeof(hdr),
             "Authorization: Bearer %s\r\nContent-Type: application/json; charset=utf-8\r\n", tok);
    resp_t r = s_http(S, "POST", "/api/v1/events?wait=0", hdr, "{\"kind\":\n\"contact_logged\",,}");
    cr_expect_eq(r.status, 422, "%s", r.body);
    cr_expect(strstr(r.body, "E_BADMSG") && strstr(r.body, "line 2"), "%s", r.body);
    s_resp_free(&r);
    r = s_http(S, "POST", "/api/v1/events?wait=0", hdr, ev);
    cr_expect_eq(r.status, 202, "%s", r.body);
    s_resp_free(&r);
    /* Another site's page posting to the API is refused in JSON too. */
    snprintf(hdr, sizeof(hdr),
             "Authorization: Bearer %s\r\nContent-Type: application/json\r\nOrigin: "
             "https://elsewhere.example\r\n",
             tok);
    r = s_http(S, "POST", "/api/v1/events?wait=0", hdr, ev);
    cr_expect_eq(r.status, 403, "%s", r.body);
    cr_expect(strstr(r.body, "\"error\":\"E_FORBIDDEN\""), "%s", r.text);
    cr_expect(strstr(r.text, "application/json"), "%s", r.text);
    s_resp_free(&r);
    free(tok);
}

/* A form refused because it is another agency's to send answers 403, as the JSON API does: only
 * the lead professional's agency closes a case. */
Test(http, a_form_refused_as_forbidden_answers_403)
{
    login_t l;
    cr_assert_eq(s_login(SC, "AW", PASSWORD, &l), 303);
    char body[512];
    snprintf(body, sizeof(body),
             "csrf=%s&body.case_closed.reason=needs_met&body.case_closed.closed_date=2026-12-01",
             l.csrf);
    resp_t r = s_http(SC, "POST", "/cases/" CASE "/forms/case_closed", l.cookie, body);
    cr_expect_eq(r.status, 403, "%d %s", r.status, r.body);
    cr_expect(strstr(r.body, "E_FORBIDDEN"), "%s", r.body);
    s_resp_free(&r);
}

Test(http, repeated_failures_lock_the_account)
{
    login_t l;
    for (int i = 0; i < 5; i++)
        cr_expect_eq(s_login(SC, "AW", "wrong-password-123", &l), 401, "attempt %d", i + 1);
    cr_expect_eq(s_login(SC, "AW", PASSWORD, &l), 429, "the right password got in while locked");
    /* The page says so. */
    resp_t r = s_http(SC, "GET", "/login", NULL, NULL);
    char ltok[65], hdr[160], body[256];
    cr_assert(s_find_hex(r.text, "tn_login_social_care=", ltok));
    s_resp_free(&r);
    snprintf(hdr, sizeof(hdr), "Cookie: tn_login_social_care=%s\r\n", ltok);
    snprintf(body, sizeof(body), "csrf=%s&initials=AW&password=%s", ltok, PASSWORD);
    r = s_http(SC, "POST", "/login", hdr, body);
    cr_expect(strstr(r.body, "E_LOCKED") && strstr(r.body, "locked"));
    s_resp_free(&r);
    /* The log-in form itself needs its token. */
    r = s_http(SC, "POST", "/login", NULL, "initials=AW&password=x");
    cr_expect_eq(r.status, 403);
    s_resp_free(&r);
}

Test(http, a_form_refusal_shows_the_offending_spans)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    char body[512];
    snprintf(body, sizeof(body),
             "csrf=%s&body.decision.topic=Sleep&body.decision.chosen="
             "Refer+Hollis+Brennick+to+the+nurse" VIEWS_FORM,
             l.csrf);
    resp_t r = s_http(S, "POST", "/cases/" CASE "/forms/decision", l.cookie, body);
    cr_expect_eq(r.status, 422);
    cr_expect(strstr(r.body, "<code>E_TEXT</code>"), "no code");
    cr_expect(strstr(r.body, "<span class=\"field\"><a href=\"#body.decision.chosen\">"),
              "the finding does not name and link its field");
    cr_expect(strstr(r.body, "Refer <mark>Hollis Brennick</mark> to the nurse"), "no marked span");
    cr_expect(strstr(r.body, "aria-invalid=\"true\""), "field not marked invalid");
    s_resp_free(&r);
}

Test(http, an_unticked_box_is_recorded_as_no)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    char body[512];
    /* "Contact made" left unticked: the browser sends nothing for it. */
    snprintf(body, sizeof(body),
             "csrf=%s&body.contact_logged.with=mother&body.contact_logged.method=office_visit"
             "&body.contact_logged.contact_date=2026-11-30",
             l.csrf);
    resp_t r = s_http(S, "POST", "/cases/" CASE "/forms/contact_logged", l.cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.body);
    s_resp_free(&r);
    const char *want = "logged an office visit with the mother (no answer)";
    int seen = 0;
    for (int i = 0; i < 250 && !seen; i++) {
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        seen = strstr(r.body, want) != NULL;
        s_resp_free(&r);
        if (!seen)
            h_sleep_ms(20);
    }
    cr_expect(seen, "the case page never said \"%s\"", want);
}

/* The Location header of R (after "Location: "), into OUT. */
static void s_location(const resp_t *r, char *out, size_t cap)
{
    const char *l = strstr(r->text, "Location: ");
    cr_assert_not_null(l, "no Location: %s", r->text);
    l += 10;
    size_t n = strcspn(l, "\r\n");
    snprintf(out, cap, "%.*s", (int)n, l);
}

/* The same form content sent again from a new drawing of the form (the browser's Back button,
 * then Send) is not recorded twice unless the user says so; the same drawing sent twice is one
 * event, answered as the first. */
Test(http, the_same_form_sent_again_from_back_asks_before_recording_it_twice)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    char body[768];
    const char *fields = "&body.contact_logged.with=mother&body.contact_logged.method=office_visit"
                         "&body.contact_logged.contact_date=2026-11-30"
                         "&body.contact_logged.successful=1";
    snprintf(body, sizeof(body), "csrf=%s&form_key=%s%s", l.csrf,
             "0123456789abcdef0123456789abcdef", fields);
    resp_t r = s_http(S, "POST", "/cases/" CASE "/forms/contact_logged", l.cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.body);
    char first[256];
    s_location(&r, first, sizeof(first));
    s_resp_free(&r);
    /* The same drawing again (a second click): the first's answer. */
    r = s_http(S, "POST", "/cases/" CASE "/forms/contact_logged", l.cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.body);
    char second[256];
    s_location(&r, second, sizeof(second));
    s_resp_free(&r);
    cr_assert_str_eq(first, second);
    /* Another drawing, same content: asked, nothing sent. */
    snprintf(body, sizeof(body), "csrf=%s&form_key=%s%s", l.csrf,
             "fedcba9876543210fedcba9876543210", fields);
    r = s_http(S, "POST", "/cases/" CASE "/forms/contact_logged", l.cookie, body);
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_expect(strstr(r.body, "sent exactly this contact"), "%s", r.body);
    cr_expect(strstr(r.body, "name=\"again\""), "no way to record it again");
    s_resp_free(&r);
    /* Said on purpose: a second event. */
    snprintf(body, sizeof(body), "csrf=%s&form_key=%s%s&again=1", l.csrf,
             "fedcba9876543210fedcba9876543210", fields);
    r = s_http(S, "POST", "/cases/" CASE "/forms/contact_logged", l.cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.body);
    s_location(&r, second, sizeof(second));
    s_resp_free(&r);
    cr_assert_str_neq(first, second, "recording it again gave the first event");
}

/* A case is opened from the dashboard with a concern: My cases offers it; the form asks for the
 * reference and initials; a bad reference is refused keeping what was typed; the accepted one
 * leads to the case page, which holds the concern. */
Test(http, a_case_is_opened_from_the_dashboard_with_a_concern)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = s_http(S, "GET", "/", l.cookie, NULL);
    cr_expect(strstr(r.body, "href=\"/cases/new/forms/concern\">Open a case"), "%s", r.body);
    s_resp_free(&r);
    r = s_http(S, "GET", "/cases/new/forms/concern", l.cookie, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect(strstr(r.body, "name=\"case_ref\""), "no reference field");
    cr_expect(strstr(r.body, "name=\"initials\""), "no initials field");
    s_resp_free(&r);
    char body[768];
    /* A postcode where the reference goes. */
    snprintf(body, sizeof(body),
             "csrf=%s&case_ref=SW1A+1AA&initials=KM&body.concern.category=attendance"
             "&body.concern.summary=Absent+three+Mondays.",
             l.csrf);
    r = s_http(S, "POST", "/cases/new/forms/concern", l.cookie, body);
    cr_assert_eq(r.status, 422, "%s", r.body);
    cr_expect(strstr(r.body, "E_CASEREF"), "%s", r.body);
    cr_expect(strstr(r.body, "Absent three Mondays."), "what was typed was lost");
    s_resp_free(&r);
    /* Missing fields are named by their labels. */
    snprintf(body, sizeof(body), "csrf=%s&body.concern.category=attendance", l.csrf);
    r = s_http(S, "POST", "/cases/new/forms/concern", l.cookie, body);
    cr_assert_eq(r.status, 422, "%s", r.body);
    cr_expect(strstr(r.body, "required: Case reference"), "%s", r.body);
    cr_expect(strstr(r.body, "What was seen or heard"), "%s", r.body);
    s_resp_free(&r);
    snprintf(body, sizeof(body),
             "csrf=%s&case_ref=LA7-2026-000888&initials=KM&body.concern.category=attendance"
             "&body.concern.summary=Absent+three+Mondays.&body.concern.observed_date=2026-11-30",
             l.csrf);
    r = s_http(S, "POST", "/cases/new/forms/concern", l.cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.body);
    char loc[256];
    s_location(&r, loc, sizeof(loc));
    s_resp_free(&r);
    cr_assert(strncmp(loc, "/cases/LA7-2026-000888?published=", 33) == 0, "%s", loc);
    int seen = 0;
    for (int i = 0; i < 250 && !seen; i++) {
        r = s_http(S, "GET", loc, l.cookie, NULL);
        cr_assert_eq(r.status, 200, "%s", r.body);
        seen = strstr(r.body, "Absent three Mondays.") != NULL;
        cr_expect(seen || strstr(r.body, "Case opened"), "%s", r.body);
        s_resp_free(&r);
        if (!seen)
            h_sleep_ms(20);
    }
    cr_expect(seen, "the new case never showed its concern");

    /* Health visiting, not in the school's team, "opens" the school's case: the broker refuses
     * it, and the page says so rather than that the case was opened. */
    login_t h;
    cr_assert_eq(s_login(HV, "PD", PASSWORD, &h), 303);
    snprintf(body, sizeof(body),
             "csrf=%s&case_ref=" CASE "&initials=TB&body.concern.category=attendance"
             "&body.concern.summary=Seen+at+clinic.",
             h.csrf);
    r = s_http(HV, "POST", "/cases/new/forms/concern", h.cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.body);
    s_location(&r, loc, sizeof(loc));
    s_resp_free(&r);
    r = s_http(HV, "GET", loc, h.cookie, NULL);
    cr_expect(strstr(r.body, "Not shared"), "%s", r.body);
    cr_expect(strstr(r.body, "E_NOTMEMBER"), "%s", r.body);
    cr_expect_null(strstr(r.body, "Case opened"), "%s", r.body);
    cr_expect_null(strstr(r.body, "Correct it and send it again"), "%s", r.body);
    s_resp_free(&r);
    /* Its outbox does not link to a case it has no page for, nor offer a correction that cannot
     * change who the team are. */
    r = s_http(HV, "GET", "/outbox", h.cookie, NULL);
    cr_expect(strstr(r.body, "This agency is not in this case's team"), "%s", r.body);
    cr_expect_null(strstr(r.body, "<a href=\"/cases/" CASE "\">"), "%s", r.body);
    cr_expect_null(strstr(r.body, "Correct and send again"), "%s", r.body);
    cr_expect(strstr(r.body, "Withdraw"), "%s", r.body);
    s_resp_free(&r);
}

/* The school opens case REF (initials AB) from the dashboard with a concern whose summary is
 * SUMMARY; the case page once it shows the concern, into *R. */
static void s_open_new(const login_t *l, const char *ref, const char *summary, resp_t *r)
{
    char body[512], path[64];
    snprintf(body, sizeof(body),
             "csrf=%s&case_ref=%s&initials=AB&body.concern.category=attendance"
             "&body.concern.summary=%s",
             l->csrf, ref, summary);
    *r = s_http(S, "POST", "/cases/new/forms/concern", l->cookie, body);
    cr_assert_eq(r->status, 303, "%s", r->body);
    s_resp_free(r);
    snprintf(path, sizeof(path), "/cases/%s", ref);
    int seen = 0;
    for (int i = 0; i < 250 && !seen; i++) {
        *r = s_http(S, "GET", path, l->cookie, NULL);
        seen = strstr(r->body, "Absent") != NULL;
        if (!seen) {
            s_resp_free(r);
            h_sleep_ms(20);
        }
    }
    cr_assert(seen, "case %s never showed its concern: %s", ref, r->body);
}

/* A case the school has just opened, alone: its view misses nothing, since no other agency is
 * or was on it to have sent anything, though no consent lets the school receive any class. */
Test(http, the_only_member_of_a_new_case_is_told_nothing_is_withheld)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r;
    s_open_new(&l, "LA7-2026-000200", "Absent+on+Fridays.", &r);
    cr_expect_null(strstr(r.body, "This agency's view:"),
                   "the only member is told detail is withheld: %s", r.body);
    cr_expect_null(strstr(r.body, "withheld"), "%s", r.body);
    s_resp_free(&r);
}

/* A new case's first event, no consent recorded: its timeline does not claim consent; an event
 * after the family's consent is recorded is shared on it. */
Test(http, the_timeline_claims_consent_only_where_it_was_recorded)
{
#define NEW_CASE "LA7-2026-000201"
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r;
    s_open_new(&l, NEW_CASE, "Absent+most+Mondays.", &r);
    cr_expect_null(strstr(r.body, "shared on the basis of consent"),
                   "consent claimed where none is recorded: %s", r.body);
    cr_expect(strstr(r.body, "no consent recorded"), "%s", r.body);
    s_resp_free(&r);

    s_publish(school, "{\"kind\":\"consent_recorded\",\"case_ref\":\"" NEW_CASE "\","
                      "\"initials\":\"AB\",\"body\":{\"consent_recorded\":{\"state\":"
                      "\"given\",\"scope\":[\"routine\"]}}}");
    s_publish(school, "{\"kind\":\"contact_logged\",\"case_ref\":\"" NEW_CASE "\",\"initials\":"
                      "\"AB\",\"sensitivity\":\"routine\",\"body\":{\"contact_logged\":{"
                      "\"with\":\"mother\",\"method\":\"phone_call\"}}}");
    int seen = 0;
    for (int i = 0; i < 250 && !seen; i++) {
        r = s_http(S, "GET", "/cases/" NEW_CASE, l.cookie, NULL);
        seen = strstr(r.body, "Routine information, shared on the basis of consent") != NULL;
        if (!seen) {
            s_resp_free(&r);
            h_sleep_ms(20);
        }
    }
    cr_expect(seen, "an event after consent was given is not said to be shared on it: %s", r.body);
    cr_expect(strstr(r.body, "no consent recorded"), "the concern before it: %s", r.body);
    s_resp_free(&r);
#undef NEW_CASE
}

/* After a lead hand-over, the team table and the family summary name as lead professional only
 * whoever leads now: the school's contact who joined as lead is then a practitioner. */
Test(http, after_a_hand_over_only_the_new_lead_is_the_lead_professional)
{
    s_publish(school, "{\"kind\":\"member_joined\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"subject_agency\":\"school\",\"body\":{\"member_joined\":{"
                      "\"named_contact\":{\"agency\":\"school\",\"initials\":\"DL\",\"role\":"
                      "\"lead_professional\",\"job_title\":\"Head of year\"}}}}");
    s_publish(social, "{\"kind\":\"member_joined\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"subject_agency\":\"social_care\",\"body\":{\"member_joined\":{"
                      "\"named_contact\":{\"agency\":\"social_care\",\"initials\":\"AW\","
                      "\"role\":\"practitioner\",\"job_title\":\"Social worker\"}}}}");
    s_publish(school, "{\"kind\":\"lead_handover\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"subject_agency\":\"social_care\",\"body\":{\"lead_handover\":{"
                      "\"new_lead\":{\"agency\":\"social_care\",\"initials\":\"AW\"},\"reason\":"
                      "\"Social care holds the case.\"}}}");
    s_publish(social, "{\"kind\":\"lead_accepted\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"body\":{\"lead_accepted\":{\"lead\":{\"agency\":\"social_care\","
                      "\"initials\":\"AW\",\"job_title\":\"Social worker\"}}}}");
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    int seen = 0;
    resp_t r = { 0 };
    for (int i = 0; i < 250 && !seen; i++) {
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        seen = strstr(r.body, "Lead professional: <strong>AW</strong>") != NULL;
        if (!seen) {
            s_resp_free(&r);
            h_sleep_ms(20);
        }
    }
    cr_assert(seen, "the hand-over never showed: %s", r.body);
    cr_expect(strstr(r.body, "<strong>AW</strong> (Lead professional)"), "%s", r.body);
    cr_expect(strstr(r.body, "<strong>DL</strong> (Practitioner)"), "%s", r.body);
    cr_expect_null(strstr(r.body, "<strong>DL</strong> (Lead professional)"),
                   "the previous lead is still the lead professional: %s", r.body);
    s_resp_free(&r);
    r = s_http(S, "GET", "/cases/" CASE "/family-summary", l.cookie, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect(strstr(r.body, "<strong>AW</strong> (Lead professional)"), "%s", r.body);
    cr_expect_null(strstr(r.body, "<strong>DL</strong> (Lead professional)"),
                   "the family summary names the previous lead: %s", r.body);
    s_resp_free(&r);
}

/* The drawn form's key in PAGE (32 hex digits), into OUT. */
static void s_form_key_of(const char *page, char out[33])
{
    const char *k = strstr(page, "name=\"form_key\" value=\"");
    cr_assert_not_null(k, "no form key: %s", page);
    k += strlen("name=\"form_key\" value=\"");
    cr_assert_eq(strspn(k, "0123456789abcdef"), 32, "%s", page);
    memcpy(out, k, 32);
    out[32] = 0;
}

Test(http, the_timeline_says_who_received_this_agency_s_own_events)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    /* The referral went to social care, which applies it and reports so (once a second). */
    int seen = 0;
    resp_t r = { 0 };
    for (int i = 0; i < 250 && !seen; i++) {
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        seen = strstr(r.body, "shared with Social care · applied by Social care") != NULL;
        if (!seen) {
            s_resp_free(&r);
            h_sleep_ms(40);
        }
    }
    cr_assert(seen, "the referral's recipients never showed: %s", r.body);
    /* The first concern, sent when the school was the only member, reached nobody else. */
    cr_expect(strstr(r.body, "no other agency receives it"), "%s", r.body);
    s_resp_free(&r);
}

Test(http, an_ended_session_says_so_and_logs_in_back_to_where_it_was)
{
    /* A form sent with a session that is no longer one: nothing sent, and said so. */
    const char *stale = "Cookie: tn_session_school="
                        "00000000000000000000000000000000000000000000000000000000000000ab\r\n";
    resp_t r = s_http(S, "POST", "/cases/" CASE "/forms/contact_logged", stale,
                      "csrf=x&body.contact_logged.with=mother");
    cr_assert_eq(r.status, 303, "%s", r.text);
    cr_expect(strstr(r.text, "Location: /login?next=/cases/" CASE "/forms/contact_logged&why=sent"),
              "%s", r.text);
    s_resp_free(&r);
    r = s_http(S, "GET", "/login?next=/cases/" CASE "/forms/contact_logged&why=sent", NULL, NULL);
    cr_expect(strstr(r.body, "nothing was sent"), "%s", r.body);
    cr_expect(strstr(r.body, "name=\"next\" value=\"/cases/" CASE "/forms/contact_logged\""), "%s",
              r.body);
    /* Logged in with that page to go back to, the browser goes there, not to My cases. */
    char ltok[65], hdr[200], body[400];
    cr_assert(s_find_hex(r.text, "tn_login_school=", ltok));
    s_resp_free(&r);
    snprintf(hdr, sizeof(hdr), "Cookie: tn_login_school=%s\r\n", ltok);
    snprintf(body, sizeof(body),
             "csrf=%s&initials=DL&password=%s&next=/cases/" CASE "/forms/contact_logged", ltok,
             PASSWORD);
    r = s_http(S, "POST", "/login", hdr, body);
    cr_assert_eq(r.status, 303, "%s", r.text);
    cr_expect(strstr(r.text, "Location: /cases/" CASE "/forms/contact_logged\r\n"), "%s", r.text);
    s_resp_free(&r);
    /* Another site's address is never a page to go back to. */
    r = s_http(S, "GET", "/login?next=//elsewhere.example/x", NULL, NULL);
    cr_expect(!strstr(r.body, "elsewhere"), "%s", r.body);
    s_resp_free(&r);
    /* An expired session on a page: back to that page. */
    r = s_http(S, "GET", "/cases/" CASE, stale, NULL);
    cr_expect(strstr(r.text, "Location: /login?next=/cases/" CASE "&why=expired"), "%s", r.text);
    s_resp_free(&r);
}

/* The key of form NAME as drawn now for L, into KEY. */
static void s_drawn_key(const login_t *l, const char *name, char key[33])
{
    char path[200];
    snprintf(path, sizeof(path), "/cases/" CASE "/forms/%s", name);
    resp_t r = s_http(S, "GET", path, l->cookie, NULL);
    s_form_key_of(r.body, key);
    s_resp_free(&r);
}

/* Send form NAME with BODY as L; asserts it was taken (303) and gives where it sends the browser
 * (the case page naming the event) in OUT. */
static void s_send_form(const login_t *l, const char *name, const char *body, char *out, size_t cap)
{
    char path[200];
    snprintf(path, sizeof(path), "/cases/" CASE "/forms/%s", name);
    resp_t r = s_http(S, "POST", path, l->cookie, body);
    cr_assert_eq(r.status, 303, "%s: %s", name, r.body);
    s_location(&r, out, cap);
    s_resp_free(&r);
}

#define CONTACT_FORM                                                                        \
    "csrf=%s&form_key=%s&body.contact_logged.with=mother&body.contact_logged.method=letter" \
    "&body.contact_logged.contact_date=2026-11-30&body.contact_logged.successful=1"

Test(http, a_form_sent_twice_is_one_event)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    char key[33], key2[33], body[1024], first[256], again[256], other[256];
    s_drawn_key(&l, "contact_logged", key); /* the drawn form carries its own key */
    snprintf(body, sizeof(body), CONTACT_FORM, l.csrf, key);
    s_send_form(&l, "contact_logged", body, first, sizeof(first));
    /* Sent again (a second click, a resend from history): answered with the first event. */
    s_send_form(&l, "contact_logged", body, again, sizeof(again));
    cr_expect_str_eq(again, first, "the second send made another event");
    /* Drawn again, the form is a new event (the same content, so said on purpose: see
     * the_same_form_sent_again_from_back_asks_before_recording_it_twice). */
    s_drawn_key(&l, "contact_logged", key2);
    cr_expect_str_neq(key2, key);
    snprintf(body, sizeof(body), CONTACT_FORM "&again=1", l.csrf, key2);
    s_send_form(&l, "contact_logged", body, other, sizeof(other));
    cr_expect_str_neq(other, first);

    /* A meeting's actions are numbered from the form's key: the same meeting form sent twice
     * is one event too, not a request key reused on different content. */
    s_drawn_key(&l, "meeting_outcome", key);
    snprintf(body, sizeof(body),
             "csrf=%s&form_key=%s&body.meeting_outcome.meeting_id=0102030405060708090a0b0c0d0e0f10"
             "&body.meeting_outcome.held_date=2026-11-30&body.meeting_outcome.actions%%5B0%%5D."
             "description=Breakfast+club&body.meeting_outcome.actions%%5B0%%5D.owner_agency=school"
             "&body.meeting_outcome.actions%%5B0%%5D.owner_initials=DL&body.meeting_outcome."
             "actions%%5B0%%5D.due_date=2026-12-18&body.meeting_outcome.child_view=Likes+the+club"
             "&body.meeting_outcome.family_view_absent.reason=declined",
             l.csrf, key);
    s_send_form(&l, "meeting_outcome", body, first, sizeof(first));
    s_send_form(&l, "meeting_outcome", body, again, sizeof(again));
    cr_expect_str_eq(again, first, "the meeting sent again made another event");
}

/* The first escalation of CASE in A's view once WANT says it is there (up to 10 s): its id in
 * hex, OUT. WANT: 1 opened, 2 a resolution proposed, 3 at stage 2 with none proposed. */
static void s_escalation_wait(const h_agency_t *a, int want, char out[33])
{
    tn_client_t *c = s_client(a);
    int ok = 0;
    for (int i = 0; i < 500 && !ok; i++) {
        Tacnet__ApiReply *r = NULL;
        if (tn_client_case(c, CASE, &r, CALL_MS) == 0 && r->show_case->state &&
            r->show_case->state->n_escalations) {
            const Tacnet__EscalationView *e = r->show_case->state->escalations[0];
            ok = e->has_state && (want == 1 || (want == 2 && e->resolution) ||
                                  (want == 3 && e->stage == 2 && !e->resolution) ||
                                  (want == 4 && e->state == TACNET__ESCALATION_EVENT__ESC_CLOSED));
            if (ok)
                sodium_bin2hex(out, 33, e->escalation_id.data, 16);
        }
        tn_client_reply_free(&r);
        if (!ok)
            h_sleep_ms(20);
    }
    tn_client_destroy(&c);
    cr_assert(ok, "the escalation never reached state %d in the view", want);
}

#define RESOLUTION_JSON                                                                  \
    "{\"kind\":\"escalation_resolved\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","   \
    "\"refers_to\":\"%s\",\"body\":{\"escalation_resolved\":{\"outcome\":\"Early help, " \
    "reviewed in six weeks.\",\"child_safety\":\"Safe today.\"" VIEWS_JSON "}}}"

/* The school challenges the case's first event (social care's to answer) and social care
 * proposes RESOLUTION_JSON: the escalation's id into ID once the school's view holds the
 * resolution. */
static void s_school_challenge_resolved(char id[33])
{
    tn_client_t *c = s_client(school);
    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_case(c, CASE, &r, CALL_MS), 0);
    char concern[33], json[1024];
    sodium_bin2hex(concern, sizeof(concern), r->show_case->timeline[0]->header->msg_id.data, 16);
    tn_client_reply_free(&r);
    tn_client_destroy(&c);
    snprintf(json, sizeof(json),
             "{\"kind\":\"disagreement\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
             "\"refers_to\":\"%s\",\"subject_agency\":\"social_care\",\"body\":{\"disagreement\":"
             "{\"topic\":\"Level of need\",\"child_safety\":\"Safe today.\"" VIEWS_JSON "}}}",
             concern);
    s_publish(school, json);
    s_escalation_wait(social, 1, id);
    snprintf(json, sizeof(json), RESOLUTION_JSON, id);
    s_publish(social, json);
    s_escalation_wait(school, 2, id);
}

/* A member that is no party to an escalation never gets the broker's notices: its page says so,
 * rather than "awaiting the broker's notice" for good. */
Test(http, a_member_that_is_no_party_is_told_why_no_notice_comes)
{
    s_publish(school, "{\"kind\":\"member_joined\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"subject_agency\":\"health_visiting\",\"body\":{\"member_joined\":{}}}");
    char id[33];
    s_school_challenge_resolved(id);
    login_t l;
    cr_assert_eq(s_login(HV, "PD", PASSWORD, &l), 303);
    resp_t r = { 0 };
    const char *esc = NULL;
    for (int i = 0; i < 250 && !esc; i++) {
        s_resp_free(&r);
        r = s_http(HV, "GET", "/cases/" CASE, l.cookie, NULL);
        esc = strstr(r.body, "<article class=\"escalation");
        if (!esc)
            h_sleep_ms(20);
    }
    cr_assert_not_null(esc, "the disagreement never reached health visiting: %s", r.body);
    cr_expect(strstr(esc, "no notice has come here, so this agency is not one of them"), "%.1500s",
              esc);
    cr_expect_null(strstr(esc, "awaiting the broker's notice"), "%.1500s", esc);
    s_resp_free(&r);
}

/* The dashboard's guard against the same form sent again tells an acknowledgement of a new
 * resolution (the stage 2 one) from the same words sent about the stage 1 one. */
Test(http, an_acknowledgement_of_a_new_resolution_is_not_taken_for_a_repeat)
{
    char json[1024], id[33];
    s_school_challenge_resolved(id);
    s_escalation_wait(social, 2, id);

    /* The proposer is told whom it waits on, on the case page and in its inbox, and is not
     * asked to acknowledge its own resolution. */
    login_t lsc;
    cr_assert_eq(s_login(SC, "AW", PASSWORD, &lsc), 303);
    resp_t mine = s_http(SC, "GET", "/cases/" CASE, lsc.cookie, NULL);
    cr_expect(strstr(mine.body, "This agency proposed this resolution: waiting on the other "
                                "parties to acknowledge it."),
              "%s", mine.body);
    cr_expect_null(strstr(mine.body, "Acknowledged by this agency"), "%s", mine.body);
    s_resp_free(&mine);
    mine = s_http(SC, "GET", "/inbox", lsc.cookie, NULL);
    cr_expect(strstr(mine.body, "Proposed by this agency: waiting on the other parties"), "%s",
              mine.body);
    s_resp_free(&mine);

    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    /* The form names the escalation with its parties, to tell apart two about the same thing. */
    resp_t form = s_http(S, "GET", "/cases/" CASE "/forms/escalation_ack", l.cookie, NULL);
    cr_expect(strstr(form.body, "(School and Social care)</option>"), "%s", form.body);
    s_resp_free(&form);
    char key[33], body[512], where[256];
    s_drawn_key(&l, "escalation_ack", key);
    snprintf(body, sizeof(body), "csrf=%s&form_key=%s&refers_to=%s&body.escalation_ack.accepted=no",
             l.csrf, key, id);
    s_send_form(&l, "escalation_ack", body, where, sizeof(where));
    /* Not accepted: stage 2, where social care proposes the same words again. */
    s_escalation_wait(social, 3, id);
    s_escalation_wait(school, 3, id);
    /* The history tells it in the order it happened: the refusal, then the stage it caused. */
    resp_t page = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
    const char *refused = strstr(page.body, "Resolution proposed at stage 1");
    const char *moved = strstr(page.body, "Moved to the next stage: stage 2");
    cr_assert(refused && moved, "%s", page.body);
    cr_expect_lt(refused, moved, "the stage 2 notice was told before the refusal that caused it");
    s_resp_free(&page);
    snprintf(json, sizeof(json), RESOLUTION_JSON, id);
    s_publish(social, json);
    s_escalation_wait(school, 2, id);
    s_drawn_key(&l, "escalation_ack", key);
    snprintf(body, sizeof(body), "csrf=%s&form_key=%s&refers_to=%s&body.escalation_ack.accepted=no",
             l.csrf, key, id);
    resp_t p = s_http(S, "POST", "/cases/" CASE "/forms/escalation_ack", l.cookie, body);
    cr_expect_eq(p.status, 303, "the stage 2 answer was taken for the stage 1 one: %s", p.body);
    s_resp_free(&p);
}

/* The first event of KIND in A's view of CASE, within 10 s: its msg_id in hex into OUT. */
static void s_kind_wait(const h_agency_t *a, Tacnet__EventKind kind, char out[33])
{
    tn_client_t *c = s_client(a);
    int ok = 0;
    for (int i = 0; i < 500 && !ok; i++) {
        Tacnet__ApiReply *r = NULL;
        if (tn_client_case(c, CASE, &r, CALL_MS) == 0 && r->show_case)
            for (size_t k = 0; !ok && k < r->show_case->n_timeline; k++) {
                const Tacnet__Header *h = r->show_case->timeline[k]->header;
                if (h && h->kind == kind && h->msg_id.len == 16) {
                    sodium_bin2hex(out, 33, h->msg_id.data, 16);
                    ok = 1;
                }
            }
        tn_client_reply_free(&r);
        if (!ok)
            h_sleep_ms(20);
    }
    tn_client_destroy(&c);
    cr_assert(ok, "no %d event reached the view", kind);
}

/* Family support (routine only) joins an escalation after social care proposed its resolution
 * at safeguarding: the broker tells it a resolution is proposed, but it never received the
 * text. Its acknowledgement through the API is refused (the escalation would otherwise close on
 * an agreement to something never read), and its dashboard says what is missing instead of
 * offering Acknowledge, Respond or Resolve. */
Test(http, a_party_without_the_resolution_is_told_so_and_cannot_acknowledge_it)
{
    h_agency_t *fs = s_up(H_FAMILY_SUPPORT);
    s_add_user(fs, "JM", TACNET__ROLE__LEAD_PROFESSIONAL);
    s_publish(social, "{\"kind\":\"member_joined\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"subject_agency\":\"family_support\",\"body\":{\"member_joined\":{"
                      "\"named_contact\":{\"agency\":\"family_support\",\"initials\":\"JM\","
                      "\"role\":\"practitioner\"}}}}");
    s_publish(social, "{\"kind\":\"decision\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"sensitivity\":\"routine\",\"body\":{\"decision\":{\"topic\":\"Level "
                      "of need\",\"chosen\":\"Early help\"" VIEWS_JSON "}}}");
    char decision[33], id[33], json[1024];
    s_kind_wait(fs, TACNET__EVENT_KIND__DECISION, decision);
    snprintf(json, sizeof(json),
             "{\"kind\":\"disagreement\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
             "\"refers_to\":\"%s\",\"body\":{\"disagreement\":{\"topic\":\"Level of "
             "need\",\"child_safety\":\"Safe today.\"" VIEWS_JSON "}}}",
             decision);
    s_publish(school, json);
    s_escalation_wait(social, 1, id);
    snprintf(json, sizeof(json), RESOLUTION_JSON, id); /* safeguarding: not family support's */
    s_publish(social, json);
    s_escalation_wait(school, 2, id);
    /* Family support challenges the same decision: it joins the escalation as a party. */
    snprintf(json, sizeof(json),
             "{\"kind\":\"disagreement\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
             "\"refers_to\":\"%s\",\"body\":{\"disagreement\":{\"topic\":\"Level of "
             "need\",\"child_safety\":\"Safe today.\"" VIEWS_JSON "}}}",
             decision);
    s_publish(fs, json);
    tn_client_t *c = s_client(fs);
    int told = 0;
    for (int i = 0; i < 500 && !told; i++) {
        Tacnet__ApiReply *r = NULL;
        if (tn_client_case(c, CASE, &r, CALL_MS) == 0 && r->show_case->state &&
            r->show_case->state->n_escalations) {
            const Tacnet__EscalationView *e = r->show_case->state->escalations[0];
            told = e->has_state && e->state == TACNET__ESCALATION_EVENT__ESC_RESOLVED &&
                   !e->resolution;
        }
        tn_client_reply_free(&r);
        if (!told)
            h_sleep_ms(20);
    }
    tn_client_destroy(&c);
    cr_assert(told, "family support was never told a resolution is proposed");

    char *tok = s_add_token(fs, "fs-records"), hdr[256];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             tok);
    snprintf(json, sizeof(json),
             "{\"kind\":\"escalation_ack\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
             "\"refers_to\":\"%s\",\"body\":{\"escalation_ack\":{\"accepted\":true}}}",
             id);
    resp_t r = s_http(H_FAMILY_SUPPORT, "POST", "/api/v1/events", hdr, json);
    cr_expect_neq(r.status, 201, "an acknowledgement of a resolution never received: %s", r.body);
    cr_expect(strstr(r.body, "\"E_KIND\"") &&
                  strstr(r.body, "this agency has not received the resolution proposed"),
              "%s", r.body);
    s_resp_free(&r);
    free(tok);

    login_t l;
    cr_assert_eq(s_login(H_FAMILY_SUPPORT, "JM", PASSWORD, &l), 303);
    r = s_http(H_FAMILY_SUPPORT, "GET", "/cases/" CASE, l.cookie, NULL);
    cr_expect(strstr(r.body, "A resolution has been proposed, but its text has not reached this "
                             "agency"),
              "%s", r.body);
    cr_expect_null(strstr(r.body, "forms/escalation_ack?about="), "Acknowledge offered");
    cr_expect_null(strstr(r.body, "forms/escalation_response?about="), "Respond offered");
    cr_expect_null(strstr(r.body, "forms/escalation_resolved?about="), "Resolve offered");
    s_resp_free(&r);
    r = s_http(H_FAMILY_SUPPORT, "GET", "/inbox", l.cookie, NULL);
    cr_expect(strstr(r.body, "Resolution proposed but not received here"), "%s", r.body);
    cr_expect_null(strstr(r.body, "forms/escalation_response?about="), "Respond offered");
    s_resp_free(&r);
}

/* A closed escalation's deadline says it closed, not that a resolution is proposed. */
Test(http, a_closed_escalation_says_it_closed)
{
    char json[1024], id[33];
    s_school_challenge_resolved(id);
    snprintf(json, sizeof(json),
             "{\"kind\":\"escalation_ack\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
             "\"refers_to\":\"%s\",\"body\":{\"escalation_ack\":{\"accepted\":true}}}",
             id);
    s_publish(school, json);
    s_escalation_wait(school, 4, id);
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t page = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
    cr_expect(strstr(page.body, "none: closed, every party accepted the resolution"), "%s",
              page.body);
    cr_expect_null(strstr(page.body, "none: a resolution is proposed"), "%s", page.body);
    s_resp_free(&page);
    /* Nothing more is taken on it: a second acknowledgement is refused, saying why. */
    char *tok = s_add_token(school, "school-closed"), hdr[256];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             tok);
    resp_t again = s_http(S, "POST", "/api/v1/events", hdr, json);
    cr_expect_eq(again.status, 422, "%s", again.body);
    cr_expect(strstr(again.body, "\"E_KIND\"") && strstr(again.body, "this escalation is closed"),
              "%s", again.body);
    s_resp_free(&again);
    free(tok);
}

Test(http, a_form_with_rows_left_blank_sends_only_the_rows_filled_in)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    char body[1024];
    /* One person of three filled in; the blank rows' boxes arrive unticked. */
    snprintf(body, sizeof(body),
             "csrf=%s&body.involvement_preferences.people%%5B0%%5D.who=mother"
             "&body.involvement_preferences.people%%5B0%%5D.decisions=consulted"
             "&body.involvement_preferences.people%%5B0%%5D.meetings=consulted"
             "&body.involvement_preferences.agreed_date=2026-11-30",
             l.csrf);
    resp_t r = s_http(S, "POST", "/cases/" CASE "/forms/involvement_preferences", l.cookie, body);
    cr_expect_eq(r.status, 303, "%s", r.body);
    s_resp_free(&r);
}

Test(http, a_decision_without_the_family_s_views_is_refused_at_the_api_and_the_form)
{
    char *tok = s_add_token(school, "school-mis"), hdr[256];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             tok);
    resp_t r = s_http(S, "POST", "/api/v1/events", hdr,
                      "{\"kind\":\"decision\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"body\":{\"decision\":{\"topic\":\"Sleep\",\"chosen\":\"Club\","
                      "\"child_view\":\"Likes it\"}}}");
    cr_expect_eq(r.status, 422, "%s", r.body);
    cr_expect(strstr(r.body, "\"E_FIELD\"") &&
                  strstr(r.body, "decision.family_view is required, or family_view_absent"),
              "%s", r.body);
    s_resp_free(&r);
    free(tok);
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    r = s_http(S, "GET", "/cases/" CASE "/forms/decision", l.cookie, NULL);
    cr_expect(strstr(r.body, "name=\"body.decision.child_view_absent.reason\"") &&
                  strstr(r.body, "<option value=\"not_yet_asked\"") &&
                  strstr(r.body, "name=\"body.decision.family_view_absent.ask_by_date\""),
              "%s", r.body);
    s_resp_free(&r);
    char body[512];
    snprintf(body, sizeof(body),
             "csrf=%s&body.decision.topic=Sleep&body.decision.chosen=Club"
             "&body.decision.child_view_absent.reason=not_yet_asked"
             "&body.decision.family_view=Agree",
             l.csrf);
    r = s_http(S, "POST", "/cases/" CASE "/forms/decision", l.cookie, body);
    cr_expect_eq(r.status, 422);
    /* In the form's words, linked to the field. */
    cr_expect(strstr(r.body, "<a href=\"#body.decision.child_view_absent.ask_by_date\">"), "%s",
              r.body);
    cr_expect(strstr(r.body, "Not yet asked: ask by</a> is required"), "%s", r.body);
    s_resp_free(&r);
}

/* The case page prompts for the family's names while none are registered, takes them in a small
 * form that never shows them back, and from then on a form naming them is refused. */
Test(http, the_case_page_registers_the_family_s_names_and_prompts_until_it_has_some)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
    cr_assert_eq(r.status, 200);
    cr_expect(strstr(r.body, "No family names are registered for this case"), "no prompt");
    cr_expect(strstr(r.body, "action=\"/cases/" CASE "/identity\""), "no form");
    s_resp_free(&r);
    char body[256];
    snprintf(body, sizeof(body), "csrf=%s&names=Hollister+Quayle%%0D%%0A+Maren+Quayle+%%0A",
             l.csrf);
    r = s_http(S, "POST", "/cases/" CASE "/identity", l.cookie, body);
    cr_expect_eq(r.status, 303, "%s", r.text);
    cr_expect(strstr(r.text, "Location: /cases/" CASE "?names=added"), "%s", r.text);
    s_resp_free(&r);
    r = s_http(S, "GET", "/cases/" CASE "?names=added", l.cookie, NULL);
    cr_expect(strstr(r.body, "2 names registered"), "no count");
    cr_expect(!strstr(r.body, "No family names are registered"), "still prompting");
    cr_expect(!strstr(r.body, "Quayle"), "a registered name is shown");
    s_resp_free(&r);
    /* The 100-byte limit is the name's, not the relationship's in front of it: 100 bytes after
     * "grandparent: " register, 101 do not. */
    char name[102], longer[512];
    for (size_t i = 0; i < 101; i++)
        name[i] = i % 2 ? 'y' : 'Z';
    name[100] = '\0';
    snprintf(longer, sizeof(longer), "csrf=%s&names=grandparent%%3A+%s", l.csrf, name);
    r = s_http(S, "POST", "/cases/" CASE "/identity", l.cookie, longer);
    cr_expect_eq(r.status, 303, "a 100-byte name after its relationship: %s", r.text);
    s_resp_free(&r);
    name[100] = 'Z';
    name[101] = '\0';
    snprintf(longer, sizeof(longer), "csrf=%s&names=grandparent%%3A+%s", l.csrf, name);
    r = s_http(S, "POST", "/cases/" CASE "/identity", l.cookie, longer);
    cr_expect_eq(r.status, 422, "a 101-byte name: %s", r.text);
    cr_expect(strstr(r.body, "E_FIELD") && strstr(r.body, "at most 100"), "%s", r.body);
    s_resp_free(&r);
    r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
    cr_expect(strstr(r.body, "3 names registered"), "the 101-byte name was registered");
    s_resp_free(&r);
    /* Without the form's token nothing is registered; an empty form is refused. */
    r = s_http(S, "POST", "/cases/" CASE "/identity", l.cookie, "names=Someone+Else");
    cr_expect_eq(r.status, 403);
    s_resp_free(&r);
    snprintf(body, sizeof(body), "csrf=%s&names=+", l.csrf);
    r = s_http(S, "POST", "/cases/" CASE "/identity", l.cookie, body);
    cr_expect_eq(r.status, 422);
    cr_expect(strstr(r.body, "no name was given"), "%s", r.body);
    cr_expect(strstr(r.body, "E_FIELD"), "no code");
    s_resp_free(&r);
    /* A decision naming the child in lower case is now refused as a registered name. */
    snprintf(
        body, sizeof(body),
        "csrf=%s&body.decision.topic=Sleep&body.decision.chosen=Ask+maren+about+sleep" VIEWS_FORM,
        l.csrf);
    r = s_http(S, "POST", "/cases/" CASE "/forms/decision", l.cookie, body);
    cr_expect_eq(r.status, 422);
    cr_expect(strstr(r.body, "<code>E_TEXT</code>") && strstr(r.body, "register_name"), "%s",
              r.body);
    s_resp_free(&r);
}

Test(http, an_api_publish_answers_with_the_broker_s_outcome)
{
    char *tok = s_add_token(school, "school-mis"), hdr[256];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             tok);
    /* Accepted by the broker: 201 with its seq. */
    resp_t r =
        s_http(S, "POST", "/api/v1/events", hdr,
               "{\"kind\":\"concern\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
               "\"body\":{\"concern\":{\"category\":\"attendance\",\"summary\":\"Late.\"}}}");
    cr_expect_eq(r.status, 201, "%s", r.body);
    cr_expect(strstr(r.body, "\"state\":\"publish_accepted\""), "%s", r.body);
    cr_expect(strstr(r.body, "\"seq\":"), "%s", r.body);
    s_resp_free(&r);
    /* Refused by the broker (a challenge to an event it never accepted): 422, its reason. */
    r = s_http(S, "POST", "/api/v1/events", hdr,
               "{\"kind\":\"disagreement\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
               "\"refers_to\":\"0000000000000000000000000000abcd\",\"body\":{\"disagreement\":"
               "{\"topic\":\"Level of need\",\"reason\":\"Weekends\",\"proposed_position\":"
               "\"Level 3\",\"child_safety\":\"Safe today\"" VIEWS_JSON "}}}");
    cr_expect_eq(r.status, 422, "%s", r.body);
    cr_expect(strstr(r.body, "\"E_REFERSTO\"") && strstr(r.body, "no event the broker accepted"),
              "%s", r.body);
    s_resp_free(&r);
    /* Without a wait: 202, queued, no outcome yet. */
    r = s_http(S, "POST", "/api/v1/events?wait=0", hdr,
               "{\"kind\":\"concern\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
               "\"body\":{\"concern\":{\"category\":\"attendance\",\"summary\":\"Late.\"}}}");
    cr_expect_eq(r.status, 202, "%s", r.body);
    s_resp_free(&r);
    r = s_http(S, "POST", "/api/v1/events?wait=forever", hdr, "{}");
    cr_expect_eq(r.status, 422, "%s", r.body);
    s_resp_free(&r);
    free(tok);
    /* The practitioner sees the refusal in the dashboard's outbox, with the broker's reason. */
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    r = s_http(S, "GET", "/outbox", l.cookie, NULL);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, "Refused") && strstr(r.body, "E_REFERSTO") &&
                  strstr(r.body, "no event the broker accepted"),
              "%s", r.body);
    s_resp_free(&r);
}

#define BOGUS_CHALLENGE                                                                       \
    "{\"kind\":\"disagreement\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","               \
    "\"refers_to\":\"0000000000000000000000000000abcd\",\"body\":{\"disagreement\":"          \
    "{\"topic\":\"Level of need\",\"reason\":\"Weekends\",\"proposed_position\":\"Level 3\"," \
    "\"child_safety\":\"Safe today\"" VIEWS_JSON "}}}"

/* The msg_id (32 hex digits) after NEEDLE in TEXT. */
static void s_msg_id_after(const char *text, const char *needle, char out[33])
{
    const char *p = strstr(text, needle);
    cr_assert_not_null(p, "no %s in %s", needle, text);
    snprintf(out, 33, "%.32s", p + strlen(needle));
    cr_assert_eq(strspn(out, "0123456789abcdef"), 32, "%s", text);
}

Test(http, a_refused_event_is_corrected_or_withdrawn_through_the_api_and_the_dashboard)
{
    char *tok = s_add_token(school, "school-mis"), hdr[256], path[128], body[1024];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             tok);
    resp_t r = s_http(S, "POST", "/api/v1/events", hdr, BOGUS_CHALLENGE);
    cr_assert_eq(r.status, 422, "%s", r.body);
    char refused[33], referral[33], again[33];
    s_msg_id_after(r.body, "\"msg_id\":\"", refused);
    s_resp_free(&r);
    /* The draft: what was refused, as the request that sends it again. */
    snprintf(path, sizeof(path), "/api/v1/outbox/%.10s/draft", refused);
    r = s_http(S, "GET", path, hdr, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect(strstr(r.body, "\"draft\":") && strstr(r.body, "\"proposed_position\":\"Level 3\"") &&
                  strstr(r.body, "\"case_ref\":\"" CASE "\""),
              "%s", r.body);
    json_t *got = json_loads(r.body, 0, NULL);
    json_t *draft = json_incref(json_object_get(got, "draft"));
    json_decref(got);
    cr_assert_not_null(draft, "%s", r.body);
    s_resp_free(&r);
    /* Corrected to challenge the referral (naming social care), with replaces: 201. */
    r = s_http(S, "GET", "/api/v1/cases/" CASE, hdr, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    const char *ref = strstr(r.body, "\"referral\":{");
    cr_assert_not_null(ref, "%s", r.body);
    /* The timeline entry's header precedes its body: the last msg_id before the referral body. */
    const char *m = NULL;
    for (const char *p = r.body; (p = strstr(p, "\"msg_id\":\"")) && p < ref; p++)
        m = p;
    cr_assert_not_null(m);
    snprintf(referral, sizeof(referral), "%.32s", m + 10);
    s_resp_free(&r);
    /* The draft as the reply gave it (names, hex, whatever times it holds), posted back with
     * the correction: a request takes the shapes a reply has. */
    json_object_set_new(draft, "refers_to", json_string(referral));
    json_object_set_new(draft, "subject_agency", json_string("social_care"));
    json_object_set_new(draft, "replaces", json_string(refused));
    char *text = json_dumps(draft, JSON_COMPACT);
    json_decref(draft);
    snprintf(body, sizeof(body), "%s", text);
    free(text);
    r = s_http(S, "POST", "/api/v1/events", hdr, body);
    cr_assert_eq(r.status, 201, "%s", r.body);
    s_msg_id_after(r.body, "\"msg_id\":\"", again);
    s_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/events/%s", refused);
    r = s_http(S, "GET", path, hdr, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect(strstr(r.body, "\"corrected_by_id\":\"") && strstr(r.body, again), "%s", r.body);
    s_resp_free(&r);
    r = s_http(S, "GET", "/api/v1/outbox", hdr, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_null(strstr(r.body, refused), "a corrected event is still listed: %s", r.body);
    s_resp_free(&r);
    /* Another refusal, withdrawn from the dashboard's outbox by a logged-in user. */
    r = s_http(S, "POST", "/api/v1/events", hdr, BOGUS_CHALLENGE);
    cr_assert_eq(r.status, 422, "%s", r.body);
    s_msg_id_after(r.body, "\"msg_id\":\"", refused);
    s_resp_free(&r);
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    r = s_http(S, "GET", "/outbox", l.cookie, NULL);
    snprintf(path, sizeof(path), "/outbox/%s/correct", refused);
    cr_expect(strstr(r.body, path) && strstr(r.body, "Withdraw"), "%s", r.body);
    s_resp_free(&r);
    /* Its correction form is the disagreement form, filled in, carrying replaces. */
    r = s_http(S, "GET", path, l.cookie, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    snprintf(body, sizeof(body), "name=\"replaces\" value=\"%s\"", refused);
    cr_expect(strstr(r.body, body) && strstr(r.body, "value=\"Level 3\""), "%s", r.body);
    s_resp_free(&r);
    snprintf(path, sizeof(path), "/outbox/%s/withdraw", refused);
    snprintf(body, sizeof(body), "csrf=%s", l.csrf);
    r = s_http(S, "POST", path, l.cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.text);
    cr_expect_not_null(strstr(r.text, "Location: /outbox?withdrawn="), "%s", r.text);
    s_resp_free(&r);
    r = s_http(S, "POST", path, l.cookie, body);
    cr_expect_eq(r.status, 404, "withdrawn twice: %s", r.body);
    s_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/events/%s", refused);
    r = s_http(S, "GET", path, hdr, NULL);
    cr_expect(strstr(r.body, "\"withdrawn_at\":\"20") && !strstr(r.body, "corrected_by_id"), "%s",
              r.body);
    s_resp_free(&r);
    free(tok);
}

/* Does the file at PATH hold NEEDLE anywhere (binary files too)? */
static int s_file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t cap = 1 << 20, n = 0, got, nl = strlen(needle);
    char *buf = malloc(cap);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    int found = 0;
    for (size_t i = 0; !found && i + nl <= n; i++)
        found = memcmp(buf + i, needle, nl) == 0;
    free(buf);
    return found;
}

/* With the family's names in the school's identity register, the printed summary is theirs by
 * name; the names are in no log, and the broker (every event that left the daemon) never saw
 * them. */
static void s_summary_names(const login_t *l)
{
    char body[256];
    snprintf(body, sizeof(body), "csrf=%s&names=Orla+Pennywhistle%%0D%%0ADov+Pennywhistle",
             l->csrf);
    resp_t r = s_http(S, "POST", "/cases/" CASE "/identity", l->cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.text);
    s_resp_free(&r);
    r = s_http(S, "GET", "/cases/" CASE "/family-summary", l->cookie, NULL);
    cr_assert_eq(r.status, 200);
    cr_expect(strstr(r.body, "<p class=\"for\">For Orla Pennywhistle, Dov Pennywhistle</p>"), "%s",
              r.body);
    s_resp_free(&r);
    /* Who is who, added to that register of bare names (as every register held before
     * relationships were stored): the child first, the others with theirs. */
    snprintf(body, sizeof(body),
             "csrf=%s&names=child%%3A+Kit+Pennywhistle%%0D%%0Amother%%3AOrla+Pennywhistle",
             l->csrf);
    r = s_http(S, "POST", "/cases/" CASE "/identity", l->cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.text);
    s_resp_free(&r);
    snprintf(body, sizeof(body), "csrf=%s&names=auntie%%3A+Mab+Pennywhistle", l->csrf);
    r = s_http(S, "POST", "/cases/" CASE "/identity", l->cookie, body);
    cr_expect_eq(r.status, 422, "an unknown relationship: %s", r.text);
    cr_expect(!strstr(r.body, "Mab"), "the refused name echoed: %s", r.body);
    /* Said with the form again and the way back to the case, not a dead end. */
    cr_expect(strstr(r.body, "write other: for anyone else"), "%s", r.body);
    cr_expect(strstr(r.body, "action=\"/cases/" CASE "/identity\""), "no form: %s", r.body);
    cr_expect(strstr(r.body, "href=\"/cases/" CASE "\""), "no way back: %s", r.body);
    s_resp_free(&r);
    r = s_http(S, "GET", "/cases/" CASE "/family-summary", l->cookie, NULL);
    cr_assert_eq(r.status, 200);
    cr_expect(strstr(r.body, "<p class=\"for\">For Kit Pennywhistle (child); with Orla "
                             "Pennywhistle (mother), Dov Pennywhistle</p>"),
              "%s", r.body);
    s_resp_free(&r);
    char path[700];
    snprintf(path, sizeof(path), "%s/data.mdb", env.data);
    const char *logs[] = { school->log, social->log, hv->log, env.log, path };
    for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++)
        cr_expect(!s_file_has(logs[i], "Pennywhistle"), "a registered name in %s", logs[i]);
}

Test(http, the_case_page_shows_the_family_s_involvement_and_ladder_and_prints_their_summary)
{
    s_publish(social, "{\"kind\":\"care_plan\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"body\":{\"care_plan\":{\"type\":\"team_around_family\",\"start_date\":"
                      "\"2026-11-16\",\"goals\":[{\"goal_id\":1,\"description\":\"Get to school "
                      "on time most days\",\"words\":\"child_words\",\"agreed_by_family\":"
                      "[\"child\"],\"agreed_by\":[\"social_care\"],\"need\":\"need_learning\","
                      "\"quick_win\":true}],\"child_view\":\"Wants to see friends\","
                      "\"family_view\":\"Mornings are hard\"}}}");
    s_publish(school,
              "{\"kind\":\"meeting_outcome\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
              "\"body\":{\"meeting_outcome\":{\"meeting_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
              "\"held_date\":\"2026-11-20\",\"actions\":[{\"action_id\":"
              "\"a1a2a3a4a5a6a7a8a9aaabacadaeaf00\",\"description\":\"Breakfast club place\","
              "\"owner_agency\":\"school\",\"owner_initials\":\"DL\",\"due_date\":\"2026-12-18\","
              "\"status\":\"open\"}],\"next_meeting_date\":\"2027-01-08\",\"child_view_absent\":"
              "{\"reason\":\"too_young\"},\"family_view\":\"Agree\"}}}");
    s_publish(school, "{\"kind\":\"involvement_preferences\",\"case_ref\":\"" CASE "\","
                      "\"initials\":\"TB\",\"body\":{\"involvement_preferences\":{\"people\":[{"
                      "\"who\":\"mother\",\"decisions\":\"decide_together\",\"language\":"
                      "\"Polish\",\"interpreter\":true}],\"revisit_by_date\":\"2027-01-08\"}}}");
    for (unsigned rung = 4; rung <= 6; rung += 2) {
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"kind\":\"partnership_rating\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                 "\"body\":{\"partnership_rating\":{\"about\":\"partnership\",\"by_family\":"
                 "\"mother\",\"rung\":%u,\"rated_date\":\"2026-11-2%u\"}}}",
                 rung, rung);
        s_publish(school, json);
    }
    /* The partnership report reads the rating and the review date from the clear headers: the
     * family's latest rating only, and the plan's review date (28 December from a TAF plan of
     * 16 November, or 1 January once the meeting of 20 November reviewed it) past by 5 January. */
    partnership_report_figures_t f;
    for (int i = 0; i < 100; i++) { /* until the broker has journalled the second rating */
        cr_assert_eq(cli_broker_report_read(env.data, clock_date_to_ms(20270105), &f), 0);
        if (f.ratings[1] == 1 && f.rating_bands[1][1] == 1 && f.cases_review_known == 1)
            break;
        h_sleep_ms(100);
    }
    cr_expect_eq(f.ratings[1], 1, "the family's latest rating of the team");
    cr_expect_eq(f.rating_bands[1][1], 1, "rung 6, Co-ordination");
    cr_expect_eq(f.cases_review_known, 1);
    cr_expect_eq(f.reviews_overdue, 1);
    cr_assert_eq(cli_broker_report_read(env.data, clock_date_to_ms(20261210), &f), 0);
    cr_expect_eq(f.reviews_overdue, 0);
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
    cr_assert_eq(r.status, 200);
    cr_expect(strstr(r.body, "How the family want to be involved") &&
                  strstr(r.body, "decide together") &&
                  strstr(r.body, "Polish <strong>(interpreter)</strong>"),
              "%s", r.body);
    cr_expect(strstr(r.body, "The family (mother), recorded by School</td><td>the whole team"
                             "</td><td><strong>6 Co-ordination</strong>") &&
                  strstr(r.body, "up +2") && strstr(r.body, "4 Compliance (2026-11-24)"),
              "%s", r.body);
    cr_expect(strstr(r.body, "href=\"/cases/" CASE "/family-summary\""), "%s", r.body);
    s_resp_free(&r);
    /* The plan comes from social care: wait for it to reach the school. */
    for (int i = 0; i < 50; i++) {
        r = s_http(S, "GET", "/cases/" CASE "/family-summary", l.cookie, NULL);
        if (r.status == 200 && strstr(r.body, "Get to school on time most days"))
            break;
        s_resp_free(&r);
        usleep(200 * 1000);
    }
    cr_assert_eq(r.status, 200);
    cr_expect(strstr(r.body, "<h1>What we agreed</h1>") &&
                  strstr(r.body, "href=\"/static/family.css\"") &&
                  strstr(r.body, "Get to school on time most days") &&
                  /* the school receives no health detail: the plan's scores may exist */
                  strstr(r.body, "How it is going: ask Social care, who keep this plan's "
                                 "scores.") &&
                  strstr(r.body, "Written in the child's words; agreed by child, Social care. "
                                 "About learning. A quick win.") &&
                  strstr(r.body, "Breakfast club place — School (DL), by 2026-12-18") &&
                  strstr(r.body, "<h2>Our next meeting</h2><p>2027-01-08</p>") &&
                  strstr(r.body, "<h2>If you disagree</h2>") &&
                  strstr(r.body, "It stays with you and is not sent anywhere."),
              "%s", r.body);
    cr_expect_null(strstr(r.body, "aria-label=\"Main\""), "no staff navigation to print");
    cr_expect_null(strstr(r.body, "<p class=\"for\">"), "no names registered yet: %s", r.body);
    s_resp_free(&r);
    s_summary_names(&l);
    r = s_http(S, "GET", "/static/family.css", NULL, NULL);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, "@media print"), "%s", r.body);
    s_resp_free(&r);
    r = s_http(S, "GET", "/cases/" CASE "/family-summary", NULL, NULL);
    cr_expect_neq(r.status, 200, "the summary needs a logged-in user");
    s_resp_free(&r);
}

/* The case page tells each event as a sentence dated by when it happened, forms number from 1
 * and offer labels, and the inbox names each escalation's topic, urgency and who must act. */
Test(http, the_dashboard_speaks_plain_language)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
    cr_assert_eq(r.status, 200);
    const char *dump = getenv("TACNET_DUMP");
    if (dump) {
        FILE *f = fopen(dump, "w");
        if (f) {
            fputs(r.body, f);
            fclose(f);
        }
    }
    cr_expect(strstr(r.body, "School raised a concern about attendance."), "%s", r.body);
    cr_expect(strstr(r.body, "School referred the child to social care."), "%s", r.body);
    cr_expect(strstr(r.body, "School recorded that consent was given."), "%s", r.body);
    cr_expect(strstr(r.body, "Routine information"), "%s", r.body);
    cr_expect(strstr(r.body, "<summary>What was recorded</summary>"), "%s", r.body);
    cr_expect(strstr(r.body, "<dt>Category</dt><dd>Attendance</dd>"), "%s", r.body);
    /* Machine names stay in attributes, never in the text people read. */
    cr_expect_null(strstr(r.body, ">consent_recorded"), "%s", r.body);
    cr_expect_null(strstr(r.body, "<dt>category</dt>"), "%s", r.body);
    s_resp_free(&r);

    /* The timeline a page at a time: the newest event, then the older ones from its cursor. */
    r = s_http(S, "GET", "/cases/" CASE "?limit=1", l.cookie, NULL);
    cr_assert_eq(r.status, 200);
    cr_expect(strstr(r.body, "School referred the child") && !strstr(r.body, "School raised a"),
              "%s", r.body);
    const char *older = strstr(r.body, ">2 older events</a>");
    cr_assert_not_null(older, "%s", r.body);
    const char *href = older;
    while (href > r.body && strncmp(href, "href=\"", 6) != 0)
        href--;
    char path[300];
    snprintf(path, sizeof(path), "%.*s", (int)strcspn(href + 6, "#\""), href + 6);
    for (char *a = strstr(path, "&amp;"); a; a = strstr(a, "&amp;"))
        memmove(a + 1, a + 5, strlen(a + 5) + 1);
    s_resp_free(&r);
    r = s_http(S, "GET", path, l.cookie, NULL);
    cr_expect(strstr(r.body, "School recorded that consent was given.") &&
                  !strstr(r.body, "School referred the child") && strstr(r.body, ">1 older event<"),
              "%s: %s", path, r.body);
    s_resp_free(&r);

    r = s_http(S, "GET", "/cases/" CASE "/forms/decision", l.cookie, NULL);
    cr_assert_eq(r.status, 200);
    cr_expect(strstr(r.body, "<legend>Participant 1</legend>"), "%s", r.body);
    cr_expect(strstr(r.body, "<legend>Participant 3</legend>"), "%s", r.body);
    cr_expect_null(strstr(r.body, "Participant 0"), "%s", r.body);
    cr_expect(strstr(r.body, "<option value=\"social_care\">Social care</option>"), "%s", r.body);
    s_resp_free(&r);

    r = s_http(S, "GET", "/inbox", l.cookie, NULL);
    cr_assert_eq(r.status, 200);
    cr_expect(strstr(r.body, ">Topic</th>") && strstr(r.body, ">Urgency</th>") &&
                  strstr(r.body, ">Who must act</th>"),
              "%s", r.body);
    s_resp_free(&r);
}

/* A live stream opened by a page replays no history: it starts from now unless the page (after)
 * or the browser (Last-Event-ID) says where it was. */
Test(http, a_live_stream_resumes_where_it_was_and_replays_nothing_on_a_page_load)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    s_read_ms = 1500;
    resp_t r = s_http(S, "GET", "/events", l.cookie, NULL);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, "retry: 2000"), "%s", r.body);
    cr_expect_null(strstr(r.body, "event: tacnet"), "a page load replayed history: %s", r.body);
    s_resp_free(&r);
    r = s_http(S, "GET", "/events?after=0", l.cookie, NULL);
    unsigned long long last = 0, id;
    for (const char *p = r.body; (p = strstr(p, "\nid: ")) != NULL; p++)
        if (sscanf(p, "\nid: %llu", &id) == 1 && id > last)
            last = id;
    cr_assert_geq(last, 3, "the school's three events: %s", r.body);
    cr_expect(strstr(r.body, "\"summary\":\"School raised a concern about attendance\""), "%s",
              r.body);
    s_resp_free(&r);
    char hdr[400];
    snprintf(hdr, sizeof(hdr), "%sLast-Event-ID: %llu\r\n", l.cookie, last - 1);
    r = s_http(S, "GET", "/events?after=0", hdr, NULL);
    char want[32], before[32];
    snprintf(want, sizeof(want), "id: %llu\n", last);
    snprintf(before, sizeof(before), "id: %llu\n", last - 1);
    cr_expect(strstr(r.body, want) && !strstr(r.body, before), "resumed wrongly: %s", r.body);
    s_resp_free(&r);
    s_read_ms = 10000;
}

/* A case the agency has left stays in its view, but neither the live stream nor the events API
 * replays it: both keep to the cases it is a member of. */
Test(http, a_live_stream_replays_no_case_the_agency_has_left)
{
#define LEFT_CASE "LA7-2026-000126"
    s_publish(school, "{\"kind\":\"concern\",\"case_ref\":\"" LEFT_CASE "\",\"initials\":\"GW\","
                      "\"sensitivity\":\"routine\",\"body\":{\"concern\":{\"category\":"
                      "\"attendance\",\"summary\":\"Missed a week.\"}}}");
    s_publish(school, "{\"kind\":\"consent_recorded\",\"case_ref\":\"" LEFT_CASE "\",\"initials\":"
                      "\"GW\",\"body\":{\"consent_recorded\":{\"state\":\"given\",\"scope\":"
                      "[\"routine\"]}}}");
    s_publish(school, "{\"kind\":\"referral\",\"case_ref\":\"" LEFT_CASE "\",\"initials\":\"GW\","
                      "\"subject_agency\":\"social_care\",\"body\":{\"referral\":{\"to_agency\":"
                      "\"social_care\",\"summary\":\"Absence.\"}}}");
    /* The school leads (it opened the case): it hands the lead on before it leaves. */
    s_publish(school, "{\"kind\":\"lead_handover\",\"case_ref\":\"" LEFT_CASE "\",\"initials\":"
                      "\"GW\",\"subject_agency\":\"social_care\",\"body\":{\"lead_handover\":{"
                      "\"new_lead\":{\"agency\":\"social_care\",\"initials\":\"AW\"},\"reason\":"
                      "\"Social care holds the case.\"}}}");
    s_publish(social, "{\"kind\":\"lead_accepted\",\"case_ref\":\"" LEFT_CASE "\",\"initials\":"
                      "\"GW\",\"body\":{\"lead_accepted\":{\"lead\":{\"agency\":\"social_care\","
                      "\"initials\":\"AW\"}}}}");
    s_publish(school, "{\"kind\":\"member_left\",\"case_ref\":\"" LEFT_CASE "\",\"initials\":"
                      "\"GW\",\"subject_agency\":\"school\",\"body\":{\"member_left\":{\"reason\":"
                      "\"No longer involved\"}}}");
    /* Until the school's leaving is back in its view. */
    tn_client_t *c = s_client(school);
    int back = 0;
    for (int i = 0; i < 250 && !back; i++) {
        Tacnet__ApiReply *rr = NULL;
        back = tn_client_case(c, LEFT_CASE, &rr, CALL_MS) == 0 && rr->show_case->n_timeline >= 4;
        tn_client_reply_free(&rr);
        if (!back)
            h_sleep_ms(20);
    }
    tn_client_destroy(&c);
    cr_assert(back, "the school's leaving never came back from the broker");
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    s_read_ms = 1500;
    resp_t r = s_http(S, "GET", "/events?after=0", l.cookie, NULL);
    cr_expect(strstr(r.body, CASE), "the school's own case is streamed: %s", r.body);
    cr_expect_null(strstr(r.body, LEFT_CASE), "a case the school left was streamed: %s", r.body);
    s_resp_free(&r);
    char hdr[400];
    snprintf(hdr, sizeof(hdr), "%sLast-Event-ID: 0\r\n", l.cookie);
    r = s_http(S, "GET", "/events", hdr, NULL);
    cr_expect(strstr(r.body, CASE), "%s", r.body);
    cr_expect_null(strstr(r.body, LEFT_CASE), "a case the school left was streamed: %s", r.body);
    s_resp_free(&r);
    s_read_ms = 10000;
    char *tok = s_add_token(school, "mis"), auth[160];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", tok);
    r = s_http(S, "GET", "/api/v1/events?after=0", auth, NULL);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, CASE) && !strstr(r.body, LEFT_CASE), "%s", r.body);
    s_resp_free(&r);
    free(tok);
    /* Nor is it one of the school's cases in My cases or `tacnet cases`. */
    r = s_http(S, "GET", "/", l.cookie, NULL);
    cr_expect(strstr(r.body, CASE) && !strstr(r.body, LEFT_CASE), "%s", r.body);
    s_resp_free(&r);
    char out[8192];
    cr_assert_eq(h_cli(school, "cases", out, sizeof(out)), 0, "%s", out);
    cr_expect(strstr(out, CASE) && !strstr(out, LEFT_CASE), "a case the school left: %s", out);
    /* Social care, still a member, lists it. */
    cr_assert_eq(h_cli(social, "cases", out, sizeof(out)), 0, "%s", out);
    cr_expect_not_null(strstr(out, LEFT_CASE), "%s", out);
#undef LEFT_CASE
}

/* The API's lists come in pages: a limit, and the cursor of the next page until the last. */
Test(http, api_lists_come_in_pages_with_cursors)
{
    /* My cases reads every case once, then only the cases of new events. */
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t page = s_http(S, "GET", "/", l.cookie, NULL);
    cr_expect(strstr(page.body, "<p>1 case; showing 1 to 1.</p>"), "%s", page.body);
    s_resp_free(&page);
    s_publish(school, "{\"kind\":\"concern\",\"case_ref\":\"LA7-2026-000777\",\"initials\":\"QZ\","
                      "\"sensitivity\":\"routine\",\"body\":{\"concern\":{\"category\":"
                      "\"attendance\",\"summary\":\"Late on Fridays.\"}}}");
    char *tok = s_add_token(school, "mis"), hdr[160], path[400];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
    resp_t r = { 0 };
    for (int i = 0; i < 250; i++) { /* until the new case is back in the school's view */
        r = s_http(S, "GET", "/api/v1/cases", hdr, NULL);
        if (strstr(r.body, "LA7-2026-000777"))
            break;
        s_resp_free(&r);
        h_sleep_ms(20);
    }
    s_resp_free(&r);
    page = s_http(S, "GET", "/", l.cookie, NULL);
    cr_expect(strstr(page.body, "<p>2 cases; showing 1 to 2.</p>") &&
                  strstr(page.body, "LA7-2026-000777"),
              "%s", page.body);
    s_resp_free(&page);
    r = s_http(S, "GET", "/api/v1/cases?limit=1", hdr, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    cr_assert_not_null(j, "%s", r.body);
    json_t *cases = json_object_get(j, "cases"); /* flat: the list itself, not wrapped again */
    cr_assert(json_is_array(cases) && json_array_size(cases) == 1, "%s", r.body);
    json_t *c0 = json_array_get(cases, 0);
    cr_expect_str_eq(json_string_value(json_object_get(c0, "case_ref")), CASE);
    /* Names and times, not positions and epoch milliseconds. */
    const char *at = json_string_value(json_object_get(c0, "last_activity"));
    cr_expect(at && strlen(at) >= 20 && at[10] == 'T' && at[strlen(at) - 1] == 'Z', "%s", r.body);
    cr_expect_null(json_object_get(c0, "last_activity_ms"), "%s", r.body);
    json_t *need = json_object_get(c0, "level_of_need");
    cr_expect(!need || json_is_object(need), "level_of_need keyed by agency: %s", r.body);
    const char *next = json_string_value(json_object_get(j, "next"));
    cr_assert_not_null(next, "%s", r.body);
    snprintf(path, sizeof(path), "/api/v1/cases?limit=1&after=%s", next);
    json_decref(j);
    s_resp_free(&r);
    r = s_http(S, "GET", path, hdr, NULL);
    cr_expect(strstr(r.body, "LA7-2026-000777") && !strstr(r.body, CASE), "%s", r.body);
    cr_expect_null(strstr(r.body, "\"next\""), "the last page has no next: %s", r.body);
    s_resp_free(&r);
    r = s_http(S, "GET", "/api/v1/cases?limit=0", hdr, NULL);
    cr_expect_eq(r.status, 422);
    cr_expect(strstr(r.body, "\"error\":\"E_FIELD\"") && strstr(r.body, "limit"), "%s", r.body);
    s_resp_free(&r);
    r = s_http(S, "GET", "/api/v1/cases?after=nonsense", hdr, NULL);
    cr_expect_eq(r.status, 422, "%s", r.body);
    s_resp_free(&r);

    /* Events: a page of one, then the next from its cursor. */
    r = s_http(S, "GET", "/api/v1/events?limit=1", hdr, NULL);
    j = json_loads(r.body, 0, NULL);
    cr_assert_not_null(j, "%s", r.body);
    json_t *entries = json_object_get(j, "entries");
    cr_assert_eq(json_array_size(entries), 1, "%s", r.body);
    json_int_t first = json_integer_value(json_object_get(json_array_get(entries, 0), "local_seq"));
    snprintf(path, sizeof(path), "/api/v1/events?limit=1&after=%s",
             json_string_value(json_object_get(j, "next")));
    json_decref(j);
    s_resp_free(&r);
    r = s_http(S, "GET", path, hdr, NULL);
    j = json_loads(r.body, 0, NULL);
    cr_assert_not_null(j, "%s", r.body);
    entries = json_object_get(j, "entries");
    cr_assert_eq(json_array_size(entries), 1, "%s", r.body);
    cr_expect_gt(json_integer_value(json_object_get(json_array_get(entries, 0), "local_seq")),
                 first);
    json_decref(j);
    s_resp_free(&r);
    free(tok);
}

/* A publish made by another thread DELAY_MS from now (s_late_publish). */
typedef struct {
    const h_agency_t *a;
    const char *json;
    int delay_ms, rc;
} late_publish_t;

static void *s_late_publish(void *arg)
{
    late_publish_t *lp = arg;
    h_sleep_ms(lp->delay_ms);
    char why[256];
    json_t *j = json_loads(lp->json, 0, NULL);
    Tacnet__PublishRequest *req = j ? (Tacnet__PublishRequest *)pbjson_to_message(
                                          &tacnet__publish_request__descriptor, j, why, sizeof(why))
                                    : NULL;
    json_decref(j);
    int err = 0;
    tn_client_t *c = req ? tn_client_new(lp->a->data, &err) : NULL;
    Tacnet__ApiReply *r = NULL;
    lp->rc = c ? tn_client_publish(c, req, &r, CALL_MS) : TACNET_EINVAL;
    tn_client_reply_free(&r);
    tn_client_destroy(&c);
    if (req)
        protobuf_c_message_free_unpacked(&req->base, NULL);
    return NULL;
}

/* GET PATH as the API's JSON (asserted 200), with how long it took in *MS. */
static json_t *s_get_timed(uint32_t agency, const char *path, const char *hdr, uint64_t *ms)
{
    uint64_t t0 = clock_mono_ms();
    resp_t r = s_http(agency, "GET", path, hdr, NULL);
    *ms = clock_mono_ms() - t0;
    cr_assert_eq(r.status, 200, "%s: %s", path, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    cr_assert_not_null(j, "%s", r.body);
    s_resp_free(&r);
    return j;
}

Test(http, a_waited_events_request_answers_when_an_event_is_applied_or_at_its_deadline)
{
    char *tok = s_add_token(school, "mis"), hdr[160], path[400], head[128];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
    uint64_t ms;
    /* The cursor past everything the school holds now. */
    json_t *j = s_get_timed(S, "/api/v1/events?limit=500", hdr, &ms);
    cr_assert_not_null(json_string_value(json_object_get(j, "next")));
    snprintf(head, sizeof(head), "%s", json_string_value(json_object_get(j, "next")));
    json_decref(j);

    /* Nothing comes: answered at the deadline, empty, with the same cursor. */
    snprintf(path, sizeof(path), "/api/v1/events?after=%s&wait=1", head);
    j = s_get_timed(S, path, hdr, &ms);
    cr_expect_geq(ms, 900, "answered after %llu ms, before its wait of 1 s",
                  (unsigned long long)ms);
    cr_expect_lt(ms, 5000, "answered after %llu ms", (unsigned long long)ms);
    cr_expect_eq(json_array_size(json_object_get(j, "entries")), 0);
    cr_expect_str_eq(json_string_value(json_object_get(j, "next")), head);
    json_decref(j);

    /* An event applied 300 ms into a 30 s wait ends it, with that event. */
    late_publish_t lp = { school,
                          "{\"kind\":\"contact_logged\",\"case_ref\":\"" CASE
                          "\",\"initials\":\"TB\","
                          "\"body\":{\"contact_logged\":{\"with\":\"mother\",\"method\":"
                          "\"phone_call\"}}}",
                          300, -1 };
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, s_late_publish, &lp), 0);
    snprintf(path, sizeof(path), "/api/v1/events?after=%s&wait=30", head);
    j = s_get_timed(S, path, hdr, &ms);
    pthread_join(th, NULL);
    cr_assert_eq(lp.rc, 0, "the publish was refused: %s", tacnet_errname(lp.rc));
    cr_expect_lt(ms, 15000, "a 30 s wait was not ended by the applied event (%llu ms)",
                 (unsigned long long)ms);
    json_t *entries = json_object_get(j, "entries");
    cr_assert_eq(json_array_size(entries), 1, "%llu ms", (unsigned long long)ms);
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_object_get(json_array_get(entries, 0), "header"), "kind")),
                     "contact_logged");
    cr_expect_str_neq(json_string_value(json_object_get(j, "next")), head);
    /* What is there already is answered at once, wait or not. */
    snprintf(path, sizeof(path), "/api/v1/events?after=%s&wait=30", head);
    json_decref(j);
    j = s_get_timed(S, path, hdr, &ms);
    cr_expect_eq(json_array_size(json_object_get(j, "entries")), 1);
    cr_expect_lt(ms, 2000, "%llu ms", (unsigned long long)ms);
    json_decref(j);

    /* A wait out of range is refused, naming it; a bad token is refused before any wait. */
    const char *bad[] = { "61", "-1", "soon", "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/api/v1/events?after=%s&wait=%s", head, bad[i]);
        resp_t r = s_http(S, "GET", path, hdr, NULL);
        cr_expect_eq(r.status, 422, "wait=%s: %d", bad[i], r.status);
        cr_expect(strstr(r.body, "\"error\":\"E_FIELD\"") && strstr(r.body, "wait"), "%s", r.body);
        s_resp_free(&r);
    }
    uint64_t t0 = clock_mono_ms();
    snprintf(path, sizeof(path), "/api/v1/events?wait=30");
    resp_t r = s_http(S, "GET", path, "Authorization: Bearer 0123\r\n", NULL);
    cr_expect_eq(r.status, 401);
    cr_expect_lt(clock_mono_ms() - t0, 2000);
    s_resp_free(&r);
    free(tok);
}

/* The reply to METHOD PATH (documented as TEMPLATE) against the document's schema for its status;
 * every documented path and method is exercised once (SEEN counts them). */
static void s_conforms(json_t *doc, const char *method, const char *tmpl, const resp_t *r,
                       int *seen)
{
    char lower[8];
    snprintf(lower, sizeof(lower), "%s", method);
    for (char *c = lower; *c; c++)
        *c = (char)(*c | 0x20);
    json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), tmpl), lower);
    cr_assert_not_null(op, "%s %s is not documented", method, tmpl);
    char status[8];
    snprintf(status, sizeof(status), "%d", r->status);
    json_t *resp = json_object_get(json_object_get(op, "responses"), status);
    cr_assert_not_null(resp, "%s %s answered %d, which is not documented: %s", method, tmpl,
                       r->status, r->body);
    json_t *content = json_object_get(resp, "content");
    json_t *schema = json_object_get(json_object_get(content, "application/json"), "schema");
    if (!schema) /* the FHIR view's own media type */
        schema = json_object_get(json_object_get(content, "application/fhir+json"), "schema");
    cr_assert_not_null(schema, "%s %s %d has no schema", method, tmpl, r->status);
    json_t *body = json_loads(r->body, 0, NULL);
    cr_assert_not_null(body, "%s %s: not JSON: %s", method, tmpl, r->body);
    char why[512];
    cr_expect_eq(jschema_validate(doc, schema, body, why, sizeof(why)), 0, "%s %s (%d): %s\n%s",
                 method, tmpl, r->status, why, r->body);
    if (r->status >= 400)
        cr_expect(json_is_string(json_object_get(body, "error")), "no error name: %s", r->body);
    json_decref(body);
    (*seen)++;
}

/* /api/v1/openapi.json is public and documents every path; every documented path's live replies
 * fit the schemas it gives (generated from the protobuf descriptors). */
Test(http, the_openapi_document_describes_every_live_reply)
{
    resp_t r = s_http(S, "GET", "/api/v1/openapi.json", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *doc = json_loads(r.body, 0, NULL);
    cr_assert_not_null(doc, "%s", r.body);
    s_resp_free(&r);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *paths = json_object_get(doc, "paths");
    size_t documented = 0;
    const char *k;
    json_t *v;
    json_object_foreach(paths, k, v) documented += json_object_size(v);
    /* The document's own entry is its 200 above (no schema: it is this document). */
    int seen = 1;

    char *tok = s_add_token(school, "mis"), hdr[256], path[200], id[33];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             tok);
    r = s_http(S, "GET", "/api/v1/cases", NULL, NULL);
    cr_expect_eq(r.status, 401);
    s_conforms(doc, "GET", "/api/v1/cases", &r, &seen);
    s_resp_free(&r);
    seen--; /* the same path again below, with a token */
    r = s_http(S, "GET", "/api/v2/anything", NULL, NULL);
    cr_expect(r.status == 401 && strstr(r.body, "\"error\":\"E_AUTH\""), "%s", r.text);
    s_resp_free(&r);

    r = s_http(S, "GET", "/api/v1/cases", hdr, NULL);
    s_conforms(doc, "GET", "/api/v1/cases", &r, &seen);
    s_resp_free(&r);
    r = s_http(S, "GET", "/api/v1/cases/" CASE, hdr, NULL);
    s_conforms(doc, "GET", "/api/v1/cases/{ref}", &r, &seen);
    s_resp_free(&r);
    r = s_http(S, "GET", "/api/v1/fhir/Bundle/" CASE, hdr, NULL);
    s_conforms(doc, "GET", "/api/v1/fhir/Bundle/{ref}", &r, &seen);
    s_resp_free(&r);
    r = s_http(S, "GET", "/api/v1/events?limit=5", hdr, NULL);
    s_conforms(doc, "GET", "/api/v1/events", &r, &seen);
    s_resp_free(&r);
    r = s_http(S, "POST", "/api/v1/events", hdr, BOGUS_CHALLENGE);
    cr_expect_eq(r.status, 422, "%s", r.body);
    s_msg_id_after(r.body, "\"msg_id\":\"", id);
    s_conforms(doc, "POST", "/api/v1/events", &r, &seen);
    s_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/events/%s", id);
    r = s_http(S, "GET", path, hdr, NULL);
    s_conforms(doc, "GET", "/api/v1/events/{id}", &r, &seen);
    s_resp_free(&r);
    r = s_http(S, "GET", "/api/v1/outbox", hdr, NULL);
    s_conforms(doc, "GET", "/api/v1/outbox", &r, &seen);
    s_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/outbox/%s/draft", id);
    r = s_http(S, "GET", path, hdr, NULL);
    cr_expect_eq(r.status, 200, "%s", r.body);
    s_conforms(doc, "GET", "/api/v1/outbox/{id}/draft", &r, &seen);
    s_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/outbox/%s/withdraw", id);
    r = s_http(S, "POST", path, hdr, "");
    cr_expect_eq(r.status, 200, "%s", r.body);
    s_conforms(doc, "POST", "/api/v1/outbox/{id}/withdraw", &r, &seen);
    s_resp_free(&r);
    cr_expect_eq((size_t)seen, documented, "%d of %zu documented operations exercised", seen,
                 documented);
    free(tok);
    json_decref(doc);
}

/* A form for every step a lead records: each opens for this case, and one sent through the
 * publish path shows on the case page as its sentence. */
Test(http, every_workflow_step_has_a_form)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    const char *forms[] = { "consent_recorded", "meeting_scheduled", "action_update",
                            "lead_handover",    "lead_accepted",     "member_joined",
                            "care_plan",        "referral",          "assessment",
                            "case_closed",      "member_left" };
    char path[200], body[600];
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        snprintf(path, sizeof(path), "/cases/" CASE "/forms/%s", forms[i]);
        resp_t r = s_http(S, "GET", path, l.cookie, NULL);
        cr_expect_eq(r.status, 200, "%s: %d", forms[i], r.status);
        cr_expect(strstr(r.body, "<form method=\"post\""), "%s: %s", forms[i], r.body);
        s_resp_free(&r);
        snprintf(path, sizeof(path), "href=\"/cases/" CASE "/forms/%s\"", forms[i]);
        if (strcmp(forms[i], "meeting_scheduled") && strcmp(forms[i], "action_update") &&
            strcmp(forms[i], "lead_accepted")) { /* those are offered where they apply */
            r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
            cr_expect(strstr(r.body, path), "the case page has no %s link", forms[i]);
            s_resp_free(&r);
        }
    }
    snprintf(body, sizeof(body),
             "csrf=%s&body.consent_recorded.state=withdrawn&body.consent_recorded.given_by=mother"
             "&body.consent_recorded.scope%%5B0%%5D=health&body.consent_recorded.recorded_date="
             "2026-11-30",
             l.csrf);
    resp_t r = s_http(S, "POST", "/cases/" CASE "/forms/consent_recorded", l.cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.text);
    s_resp_free(&r);
    int seen = 0;
    for (int i = 0; i < 250 && !seen; i++) {
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        seen = strstr(r.body, "School recorded that consent was withdrawn by the mother.") != NULL;
        if (seen)
            cr_expect(strstr(r.body, "<strong>2026-11-30</strong>"), "%s", r.body);
        s_resp_free(&r);
        if (!seen)
            h_sleep_ms(20);
    }
    cr_expect(seen, "the consent never showed on the case page");
    /* Consent names what it covers and may name the agencies; left blank, the class is asked
     * for rather than taken as every class. */
    r = s_http(S, "GET", "/cases/" CASE "/forms/consent_recorded", l.cookie, NULL);
    cr_expect(strstr(r.body, "name=\"body.consent_recorded.agencies[0]\""), "%s", r.body);
    cr_expect(strstr(r.body, "name=\"body.consent_recorded.scope[0]\" required"), "%s", r.body);
    s_resp_free(&r);
    snprintf(body, sizeof(body),
             "csrf=%s&body.consent_recorded.state=given&body.consent_recorded.given_by=mother"
             "&body.consent_recorded.recorded_date=2026-11-30",
             l.csrf);
    r = s_http(S, "POST", "/cases/" CASE "/forms/consent_recorded", l.cookie, body);
    cr_expect_eq(r.status, 422, "a consent covering nothing named was taken: %s", r.text);
    cr_expect(strstr(r.body, "required: Covers"), "%s", r.body);
    s_resp_free(&r);
}

/* How many entries of BUNDLE are of resource TYPE. */
static size_t s_fhir_count(json_t *bundle, const char *type)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        const char *t =
            json_string_value(json_object_get(json_object_get(e, "resource"), "resourceType"));
        n += t && strcmp(t, type) == 0;
    }
    return n;
}

/* The entry of the only TYPE resource in BUNDLE, or NULL. */
static json_t *s_fhir_entry(json_t *bundle, const char *type)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(bundle, "entry"), i, e)
    {
        const char *t =
            json_string_value(json_object_get(json_object_get(e, "resource"), "resourceType"));
        if (t && strcmp(t, type) == 0)
            return e;
    }
    return NULL;
}

/* GET /api/v1/fhir/Bundle/REF: the case as FHIR R4 resources, one per thing the case holds,
 * the subject by reference and initials only, never a registered name; a case this agency is
 * not a member of answers as one it never held. */
Test(http, the_fhir_bundle_holds_the_case_as_resources_and_no_name)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    char body[300];
    snprintf(body, sizeof(body), "csrf=%s&names=Hollister+Quayle%%0D%%0AMaren+Quayle", l.csrf);
    resp_t r = s_http(S, "POST", "/cases/" CASE "/identity", l.cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.text);
    s_resp_free(&r);
    s_publish(school, "{\"kind\":\"care_plan\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"body\":{\"care_plan\":{\"type\":\"team_around_family\",\"start_date\":"
                      "\"2026-11-16\",\"goals\":[{\"goal_id\":1,\"description\":\"Get to school "
                      "on time most days\",\"target_date\":\"2027-02-01\",\"words\":"
                      "\"child_words\",\"agreed_by_family\":[\"child\"],\"agreed_by\":"
                      "[\"school\"]}],\"child_view\":\"Wants to see friends\","
                      "\"family_view\":\"Mornings are hard\"}}}");
    s_wait_plans(school, 1); /* so the GBO below is placed on the plan */
    s_publish(school,
              "{\"kind\":\"meeting_outcome\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
              "\"body\":{\"meeting_outcome\":{\"meeting_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
              "\"held_date\":\"2026-11-20\",\"child_view_absent\":{\"reason\":\"too_young\"},"
              "\"family_view\":\"Agree\"}}}");
    s_publish(school, "{\"kind\":\"outcome_measure\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"body\":{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[4],"
                      "\"goal_ids\":[1],\"measured_date\":\"2026-12-01\"}}}");
    s_publish(school, "{\"kind\":\"contact_logged\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"body\":{\"contact_logged\":{\"with\":\"mother\",\"method\":\"phone_call\","
                      "\"contact_date\":\"2026-11-25\",\"successful\":false}}}");
    char *tok = s_add_token(school, "ehr"), hdr[256];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
    json_t *b = NULL;
    for (int i = 0; i < 50; i++) {
        r = s_http(S, "GET", "/api/v1/fhir/Bundle/" CASE, hdr, NULL);
        cr_assert_eq(r.status, 200, "%s", r.text);
        cr_expect(strstr(r.text, "application/fhir+json"), "%s", r.text);
        cr_expect_null(strstr(r.body, "Hollister"), "a name in the bundle: %s", r.body);
        cr_expect_null(strstr(r.body, "Quayle"), "a name in the bundle: %s", r.body);
        json_decref(b);
        b = json_loads(r.body, 0, NULL);
        cr_assert_not_null(b, "%s", r.body);
        s_resp_free(&r);
        if (s_fhir_count(b, "Communication") && s_fhir_count(b, "Observation"))
            break;
        usleep(200 * 1000);
    }
    cr_expect_str_eq(json_string_value(json_object_get(b, "resourceType")), "Bundle");
    cr_expect_str_eq(json_string_value(json_object_get(b, "type")), "collection");
    const char *types[] = { "CareTeam",  "CarePlan",    "Goal",         "Consent",
                            "Encounter", "Observation", "Communication" };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        cr_expect_eq(s_fhir_count(b, types[i]), 1, "%zu %s", s_fhir_count(b, types[i]), types[i]);
    char *text = json_dumps(b, JSON_COMPACT);
    cr_expect(strstr(text, "\"subject\":{\"display\":\"" CASE " (TB)\"}"), "%s", text);
    cr_expect(strstr(text, "\"member\":{\"display\":\"School\"}") ||
                  strstr(text, "(Designated safeguarding lead), School"),
              "%s", text);
    cr_expect(strstr(text, "\"dueDate\":\"2027-02-01\"") &&
                  strstr(text, "\"status\":\"not-done\"") && strstr(text, "\"valueInteger\":4") &&
                  strstr(text, "\"status\":\"finished\"") &&
                  strstr(text, "\"code\":\"patient-privacy\""),
              "%s", text);
    free(text);
    /* The GBO score's Observation points at the Goal it scores. */
    json_t *goal = s_fhir_entry(b, "Goal"), *obs = s_fhir_entry(b, "Observation");
    cr_assert(goal && obs);
    const char *focus = json_string_value(json_object_get(
        json_array_get(json_object_get(json_object_get(obs, "resource"), "focus"), 0),
        "reference"));
    const char *goal_url = json_string_value(json_object_get(goal, "fullUrl"));
    cr_expect(focus && goal_url && strcmp(focus, goal_url) == 0, "focus %s, goal %s",
              focus ? focus : "(none)", goal_url ? goal_url : "(none)");
    json_decref(b);
    /* Not a member (the health visitor's case) and no such case read alike. */
    r = s_http(S, "GET", "/api/v1/fhir/Bundle/" HV_CASE, hdr, NULL);
    resp_t none = s_http(S, "GET", "/api/v1/fhir/Bundle/LA7-2026-999999", hdr, NULL);
    cr_expect(r.status == 404 && none.status == 404 && strcmp(r.body, none.body) == 0, "%s\n%s",
              r.text, none.text);
    s_resp_free(&r);
    s_resp_free(&none);
    r = s_http(S, "GET", "/api/v1/fhir/Bundle/" CASE, NULL, NULL);
    cr_expect_eq(r.status, 401, "%s", r.text);
    s_resp_free(&r);
    free(tok);
}

/* The dashboard's forms carry a CAPA partnership plan's core and specific workers and a Choice
 * appointment's record, and the case page says them in plain words. */
/* Wait until A's view of CASE counts AGENCY among its members (up to 10 s). */
static void s_wait_member(const h_agency_t *a, uint32_t agency)
{
    tn_client_t *c = s_client(a);
    int found = 0;
    for (int i = 0; i < 500 && !found; i++) {
        Tacnet__ApiReply *r = NULL;
        if (tn_client_case(c, CASE, &r, CALL_MS) == 0 && r->show_case && r->show_case->summary)
            for (size_t k = 0; k < r->show_case->summary->n_members; k++)
                found |= (uint32_t)r->show_case->summary->members[k] == agency;
        tn_client_reply_free(&r);
        if (!found)
            h_sleep_ms(20);
    }
    tn_client_destroy(&c);
    cr_assert(found, "agency %u never learnt it joined %s", agency, CASE);
}

Test(http, the_capa_records_go_through_the_forms_and_show_on_the_case_page)
{
    /* CAPA is CAMHS's: the school brings CAMHS into the team, and CAMHS records the Choice
     * appointment and its partnership plan from its dashboard. */
    h_agency_t *camhs = s_up(CAMHS);
    s_add_user(camhs, "RK", TACNET__ROLE__PRACTITIONER);
    s_publish(school, "{\"kind\":\"member_joined\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"subject_agency\":\"camhs\",\"body\":{\"member_joined\":{"
                      "\"named_contact\":{\"agency\":\"camhs\",\"initials\":\"RK\","
                      "\"role\":\"practitioner\"}}}}");
    s_wait_member(camhs, CAMHS);
    login_t l;
    cr_assert_eq(s_login(CAMHS, "RK", PASSWORD, &l), 303);
    char body[1024];
    snprintf(body, sizeof(body),
             "csrf=%s&body.care_plan.type=capa_partnership&body.care_plan.start_date=2026-11-16"
             "&body.care_plan.review_interval_days=42&body.care_plan.core_worker.initials=RK"
             "&body.care_plan.core_worker.role=CAMHS+clinician"
             "&body.care_plan.specific_workers%%5B0%%5D.initials=JS"
             "&body.care_plan.specific_workers%%5B0%%5D.role=Family+therapist"
             "&body.care_plan.specific_workers%%5B0%%5D.brings=Family+sessions"
             "&body.care_plan.child_view=Wants+to+sleep&body.care_plan.family_view=Agree",
             l.csrf);
    resp_t r = s_http(CAMHS, "POST", "/cases/" CASE "/forms/care_plan", l.cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.body);
    s_resp_free(&r);
    snprintf(body, sizeof(body),
             "csrf=%s&body.assessment.type=capa_choice&body.assessment.level_of_need=2"
             "&body.assessment.completed_date=2026-11-16"
             "&body.assessment.capa_choice.joint_formulation=Worry+keeps+sleep+short"
             "&body.assessment.capa_choice.alternatives=Parenting+group%%0D%%0ASchool+counsellor"
             "&body.assessment.capa_choice.chosen=chosen_partnership",
             l.csrf);
    r = s_http(CAMHS, "POST", "/cases/" CASE "/forms/assessment", l.cookie, body);
    cr_assert_eq(r.status, 303, "%s", r.body);
    s_resp_free(&r);
    /* Without a formulation the record is refused, naming the field. */
    snprintf(body, sizeof(body),
             "csrf=%s&body.assessment.type=capa_choice&body.assessment.level_of_need=2"
             "&body.assessment.completed_date=2026-11-16"
             "&body.assessment.capa_choice.chosen=chosen_self_help",
             l.csrf);
    r = s_http(CAMHS, "POST", "/cases/" CASE "/forms/assessment", l.cookie, body);
    cr_expect_eq(r.status, 422);
    cr_expect(strstr(r.body, "The formulation we reached together</a> is required"), "%s", r.body);
    s_resp_free(&r);
    for (int i = 0; i < 50; i++) {
        r = s_http(CAMHS, "GET", "/cases/" CASE, l.cookie, NULL);
        if (r.status == 200 && strstr(r.body, "Choice appointment with") &&
            strstr(r.body, "Core worker"))
            break;
        s_resp_free(&r);
        usleep(200 * 1000);
    }
    cr_assert_eq(r.status, 200);
    cr_expect(strstr(r.body, "<li>Core worker (holds the plan): RK, CAMHS clinician</li>") &&
                  strstr(r.body, "<li>Specific worker: JS, Family therapist, who brings Family "
                                 "sessions</li>"),
              "%s", r.body);
    cr_expect(strstr(r.body, "The family chose partnership work with CAMHS.") &&
                  strstr(r.body, "<dt>What we understood together</dt><dd>Worry keeps sleep "
                                 "short</dd>") &&
                  strstr(r.body, "<li>School counsellor</li>"),
              "%s", r.body);
    s_resp_free(&r);
}

/* The value of PAGE's hidden input NAME, into OUT (empty when there is none). */
static void s_hidden_of(const char *page, const char *name, char *out, size_t cap)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "name=\"%s\" value=\"", name);
    const char *k = strstr(page, needle);
    out[0] = 0;
    if (!k)
        return;
    k += strlen(needle);
    size_t n = strcspn(k, "\"");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), k);
}

#define ACT "c1c2c3c4c5c6c7c8c9cacbcccdcecfc0"
/* An action update as its form posts it: csrf, form key, seen, status. */
#define ACTION_FORM   "csrf=%s&form_key=%s&seen=%s&body.action_update.action_id=" ACT ACTION_STATUS
#define ACTION_STATUS "&body.action_update.status=%s"

Test(http, an_action_changed_since_its_form_was_drawn_is_not_overwritten)
{
    s_publish(school,
              "{\"kind\":\"meeting_outcome\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
              "\"body\":{\"meeting_outcome\":{\"meeting_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1aa\","
              "\"held_date\":\"2026-11-20\",\"actions\":[{\"action_id\":\"" ACT "\","
              "\"description\":\"Walk to school on Mondays\",\"owner_agency\":\"school\","
              "\"owner_initials\":\"DL\",\"due_date\":\"2026-12-18\",\"status\":\"open\"}],"
              "\"child_view_absent\":{\"reason\":\"too_young\"},\"family_view\":\"Agree\"}}}");
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    const char *path = "/cases/" CASE "/forms/action_update?about=" ACT;
    /* The action in the view, then the form drawn in two tabs. */
    resp_t r = { 0 };
    for (int i = 0; i < 500; i++) {
        s_resp_free(&r);
        r = s_http(S, "GET", path, l.cookie, NULL);
        if (strstr(r.body, "name=\"seen\""))
            break;
        h_sleep_ms(20);
    }
    char key1[33], key2[33], seen1[80], seen2[80], body[1024], where[256];
    s_form_key_of(r.body, key1);
    s_hidden_of(r.body, "seen", seen1, sizeof(seen1));
    s_resp_free(&r);
    r = s_http(S, "GET", path, l.cookie, NULL);
    s_form_key_of(r.body, key2);
    s_hidden_of(r.body, "seen", seen2, sizeof(seen2));
    s_resp_free(&r);
    cr_assert_str_eq(seen1, ACT ":0", "an action no update has moved");
    cr_assert_str_eq(seen2, seen1);
    /* The first tab marks it done. */
    snprintf(body, sizeof(body), ACTION_FORM, l.csrf, key1, seen1, "done");
    s_send_form(&l, "action_update", body, where, sizeof(where));
    for (int i = 0; i < 500; i++) {
        s_resp_free(&r);
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        if (strstr(r.body, "(marked by School, "))
            break;
        h_sleep_ms(20);
    }
    cr_assert_not_null(strstr(r.body, "(marked by School, "), "the case page does not say who");
    s_resp_free(&r);
    /* The second, drawn before that, would cancel it: stopped, told what changed, nothing sent. */
    snprintf(body, sizeof(body), ACTION_FORM, l.csrf, key2, seen2, "cancelled");
    r = s_http(S, "POST", "/cases/" CASE "/forms/action_update", l.cookie, body);
    cr_assert_eq(r.status, 409, "%d: %s", r.status, r.body);
    cr_assert_not_null(strstr(r.body, "School marked this action done at "), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "nothing was sent"), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "E_CHANGED"), "%s", r.body);
    char seen3[80], key3[33];
    s_hidden_of(r.body, "seen", seen3, sizeof(seen3));
    s_form_key_of(r.body, key3);
    s_resp_free(&r);
    cr_assert_str_neq(seen3, seen2, "the form still shows the action as it was");
    cr_assert_eq(strncmp(seen3, ACT ":", 33), 0, "%s", seen3);
    /* Sent again from the form as it now stands: taken. */
    snprintf(body, sizeof(body), ACTION_FORM, l.csrf, key3, seen3, "cancelled");
    s_send_form(&l, "action_update", body, where, sizeof(where));
}

/* The minutes form records who attended (rows left blank are not sent), and the case page
 * lists them. */
Test(http, the_minutes_form_records_the_professionals_who_attended)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    char key[33], body[1400], where[256];
    s_drawn_key(&l, "meeting_outcome", key);
    snprintf(
        body, sizeof(body),
        "csrf=%s&form_key=%s&body.meeting_outcome.meeting_id=aa02030405060708090a0b0c0d0e0f10"
        "&body.meeting_outcome.held_date=2026-11-30"
        "&body.meeting_outcome.attendees%%5B0%%5D.agency=school"
        "&body.meeting_outcome.attendees%%5B0%%5D.initials=DL"
        "&body.meeting_outcome.attendees%%5B0%%5D.role=dsl"
        "&body.meeting_outcome.attendees%%5B1%%5D.agency=social_care"
        "&body.meeting_outcome.attendees%%5B1%%5D.initials=QX"
        "&body.meeting_outcome.attendees%%5B2%%5D.agency=&body.meeting_outcome.attendees%%5B2%%5D"
        ".initials=&body.meeting_outcome.child_view=Likes+the+club"
        "&body.meeting_outcome.family_view_absent.reason=declined",
        l.csrf, key);
    s_send_form(&l, "meeting_outcome", body, where, sizeof(where));
    resp_t r = { 0 };
    int seen = 0;
    for (int i = 0; i < 250 && !seen; i++) {
        s_resp_free(&r);
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        seen = strstr(r.body, "QX") != NULL;
        if (!seen)
            h_sleep_ms(20);
    }
    cr_assert(seen, "the attendees are not on the case page");
    /* So are the child's and the family's views as minuted. */
    cr_assert_not_null(strstr(r.body, "<dt>The child's view</dt><dd>Likes the club</dd>"), "%s",
                       strstr(r.body, "Attended") ? strstr(r.body, "Attended") : r.body);
    cr_assert_not_null(strstr(r.body, "<dt>The family's view</dt><dd>not given: "), "no family");
    s_resp_free(&r);
}

#define EARLY_MEETING "ee02030405060708090a0b0c0d0e0f10"
#define EARLY_MINUTES                                                                   \
    "csrf=%s&form_key=%s&body.meeting_outcome.meeting_id=" EARLY_MEETING                \
    "&body.meeting_outcome.held_date=%s&body.meeting_outcome.child_view=Likes+the+club" \
    "&body.meeting_outcome.family_view_absent.reason=declined"

/* Today (UTC, the zone of these tests' daemons) plus DAYS as "YYYY-MM-DD" into OUT. */
static void s_ymd(int days, char out[16])
{
    uint32_t d = clock_ms_to_date(clock_now_ms() + (uint64_t)((int64_t)days * 86400000LL));
    snprintf(out, 16, "%04u-%02u-%02u", d / 10000 % 10000, d / 100 % 100, d % 100);
}

/* The school's meeting EARLY_MEETING, asked for and scheduled for 00:01 UTC today (a meeting
 * is scheduled for today or later, not for a day gone), once it is on the school's case page
 * for L (the page as it stands into R). */
static void s_early_meeting(const login_t *l, resp_t *r)
{
    char req[512];
    uint64_t starts = clock_now_ms() / 86400000ull * 86400000ull + 60000;
    s_publish(school, "{\"kind\":\"meeting_requested\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"body\":{\"meeting_requested\":{\"meeting_id\":\"" EARLY_MEETING
                      "\",\"purpose\":\"Attendance review\"}}}");
    snprintf(req, sizeof(req),
             "{\"kind\":\"meeting_scheduled\",\"case_ref\":\"" CASE "\",\"initials\":"
             "\"TB\",\"body\":{\"meeting_scheduled\":{\"meeting_id\":\"" EARLY_MEETING
             "\",\"starts_at_ms\":%llu,\"mode\":\"in_person\",\"invited\":[\"school\","
             "\"social_care\",\"school\"],\"family_invited\":[\"mother\"]}}}",
             (unsigned long long)starts);
    s_publish(school, req);
    int seen = 0;
    for (int i = 0; i < 250 && !seen; i++) {
        s_resp_free(r);
        *r = s_http(S, "GET", "/cases/" CASE, l->cookie, NULL);
        const char *m = strstr(r->body, "Attendance review");
        seen = m && strstr(m, "<dt>Scheduled</dt>");
        if (!seen)
            h_sleep_ms(20);
    }
    cr_assert(seen, "the scheduled meeting is not on the case page");
    /* Who is invited, each once. */
    const char *inv = strstr(strstr(r->body, "Attendance review"), "<dt>Invited</dt><dd>");
    cr_expect(inv && strncmp(inv + 20, "School, Social care, ", 21) == 0 &&
                  strstr(inv, "</dd>") - inv < 60,
              "%.200s", inv ? inv : r->body);
}

/* Minutes dated before the day their meeting was scheduled for are refused, in the form's words;
 * dated the day itself, they are recorded. */
Test(http, minutes_dated_before_the_meeting_are_refused_in_plain_words)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = { 0 };
    s_early_meeting(&l, &r);
    s_resp_free(&r);
    char key[33], body[1024], where[256], yesterday[16], today[16], expect[160];
    s_ymd(-1, yesterday);
    s_ymd(0, today);
    s_drawn_key(&l, "meeting_outcome", key);
    snprintf(body, sizeof(body), EARLY_MINUTES, l.csrf, key, yesterday);
    r = s_http(S, "POST", "/cases/" CASE "/forms/meeting_outcome", l.cookie, body);
    cr_assert_eq(r.status, 422, "%d %s", r.status, r.body);
    const char *refusal = strstr(r.body, "Not sent");
    cr_assert_not_null(refusal, "%s", r.body);
    cr_expect_not_null(strstr(refusal, "E_FIELD"), "%.600s", refusal);
    snprintf(expect, sizeof(expect),
             ">Held on</a>: the minutes are dated %s, before the meeting, which was scheduled "
             "for %s",
             yesterday, today);
    cr_expect_not_null(strstr(refusal, expect), "%.600s", refusal);
    s_resp_free(&r);
    s_drawn_key(&l, "meeting_outcome", key);
    snprintf(body, sizeof(body), EARLY_MINUTES, l.csrf, key, today);
    s_send_form(&l, "meeting_outcome", body, where, sizeof(where));
}

/* A meeting whose minutes are recorded leaves the schedule for the meetings held; one asked for
 * and not yet held stays on the schedule. */
Test(http, a_held_meeting_is_listed_with_the_minutes_not_on_the_schedule)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = { 0 };
    s_early_meeting(&l, &r);
    s_resp_free(&r);
    s_publish(school, "{\"kind\":\"meeting_requested\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"body\":{\"meeting_requested\":{\"meeting_id\":"
                      "\"ef02030405060708090a0b0c0d0e0f10\",\"purpose\":\"Next review\"}}}");
    char key[33], body[1024], where[256], today[16];
    s_ymd(0, today);
    s_drawn_key(&l, "meeting_outcome", key);
    snprintf(body, sizeof(body), EARLY_MINUTES, l.csrf, key, today);
    s_send_form(&l, "meeting_outcome", body, where, sizeof(where));
    const char *schedule = NULL, *held = NULL;
    for (int i = 0; i < 250 && !(held && strstr(schedule, "Next review")); i++) {
        s_resp_free(&r);
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        schedule = strstr(r.body, "<h3>Schedule</h3>");
        held = schedule ? strstr(schedule, "<h3>Held (minutes recorded)</h3>") : NULL;
        if (!(held && strstr(schedule, "Next review")))
            h_sleep_ms(20);
    }
    cr_assert(schedule && held, "no schedule apart from the meetings held: %.2000s",
              strstr(r.body, "Meetings and actions") ? strstr(r.body, "Meetings and actions")
                                                     : r.body);
    const char *next = strstr(schedule, "Next review"),
               *early = strstr(schedule, "Attendance review");
    cr_expect(next && next < held, "the meeting to come is not on the schedule");
    cr_expect(early && early > held, "the meeting held is on the schedule: %.1500s", schedule);
    s_resp_free(&r);
}

/* The minutes form chooses the class of information, as the API and `tacnet publish` do: drawn
 * at the school's default for minutes (routine), and sent at the class chosen. */
Test(http, the_minutes_form_chooses_the_class_of_information)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = s_http(S, "GET", "/cases/" CASE "/forms/meeting_outcome", l.cookie, NULL);
    cr_assert_eq(r.status, 200);
    const char *sel = strstr(r.body, "<select id=\"sensitivity\" name=\"sensitivity\"");
    cr_assert_not_null(sel, "the minutes form has no class of information");
    const char *end = strstr(sel, "</select>");
    const char *routine = strstr(sel, "<option value=\"routine\" selected>");
    cr_expect(routine && routine < end, "not drawn at the default: %.400s", sel);
    s_resp_free(&r);
    char key[33], body[1200], where[256];
    s_drawn_key(&l, "meeting_outcome", key);
    snprintf(body, sizeof(body),
             "csrf=%s&form_key=%s&body.meeting_outcome.meeting_id=ab02030405060708090a0b0c0d0e0f10"
             "&body.meeting_outcome.held_date=2026-11-30&body.meeting_outcome.child_view=Likes+the+"
             "club&body.meeting_outcome.family_view_absent.reason=declined&sensitivity=health",
             l.csrf, key);
    s_send_form(&l, "meeting_outcome", body, where, sizeof(where));
    int seen = 0;
    for (int i = 0; i < 250 && !seen; i++) {
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        seen = strstr(r.body, "Health information, shared on the basis of") != NULL;
        s_resp_free(&r);
        if (!seen)
            h_sleep_ms(20);
    }
    cr_expect(seen, "the minutes were not sent at the class chosen");
}

/* The forms that answer an escalation (and the one that opens it) choose their class of
 * information, drawn at this agency's default for the kind: an answer must reach every party,
 * and the sender lowers the class when a party does not receive the default. */
Test(http, the_escalation_forms_choose_the_class_of_information)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    const char *forms[] = { "disagreement", "escalation_response", "escalation_resolved" };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        char path[200];
        snprintf(path, sizeof(path), "/cases/" CASE "/forms/%s", forms[i]);
        resp_t r = s_http(S, "GET", path, l.cookie, NULL);
        cr_assert_eq(r.status, 200, "%s", forms[i]);
        const char *sel = strstr(r.body, "<select id=\"sensitivity\" name=\"sensitivity\"");
        cr_assert_not_null(sel, "the %s form has no class of information", forms[i]);
        const char *end = strstr(sel, "</select>");
        const char *dflt = strstr(sel, "<option value=\"safeguarding\" selected>");
        cr_expect(dflt && dflt < end, "%s not drawn at the school's default: %.400s", forms[i],
                  sel);
        cr_expect(strstr(r.body, "every party to the escalation must receive it"), "%s", forms[i]);
        s_resp_free(&r);
    }
}

/* A closed case says so on its page and in My cases, and offers no form. */
Test(http, a_closed_case_says_so_and_offers_no_form)
{
    s_publish(school, "{\"kind\":\"case_closed\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"body\":{\"case_closed\":{\"reason\":\"needs_met\",\"closed_date\":"
                      "\"2026-12-01\"}}}");
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = { 0 };
    for (int i = 0; i < 250; i++) {
        s_resp_free(&r);
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        if (strstr(r.body, "This case is closed"))
            break;
        h_sleep_ms(20);
    }
    const char *banner = strstr(r.body, "This case is closed");
    cr_assert_not_null(banner, "no banner");
    const char *want = "This case is closed (2026-12-01): the child's needs are met.";
    cr_assert_eq(strncmp(banner, want, strlen(want)), 0, "%.120s", banner);
    cr_assert_null(strstr(r.body, "/forms/concern\""), "a closed case offers forms");
    s_resp_free(&r);
    r = s_http(S, "GET", "/", l.cookie, NULL);
    cr_assert_not_null(strstr(r.body, "closed 2026-12-01"), "%s", r.body);
    s_resp_free(&r);
    /* And so does `tacnet cases`, for people and as JSON. */
    char out[8192], line[512] = "";
    cr_assert_eq(h_cli(school, "cases", out, sizeof(out)), 0, "%s", out);
    const char *row = strstr(out, CASE);
    cr_assert_not_null(row, "%s", out);
    sscanf(row, "%511[^\n]", line);
    cr_expect_not_null(strstr(line, "closed 2026-12-01"), "%s", out);
    cr_assert_eq(h_cli(school, "--json cases", out, sizeof(out)), 0, "%s", out);
    json_t *j = json_loads(out, 0, NULL);
    cr_assert_not_null(j, "%s", out);
    json_t *c0 = json_array_get(json_object_get(j, "cases"), 0);
    cr_expect(json_is_true(json_object_get(c0, "closed")), "%s", out);
    cr_expect_str_eq(json_string_value(json_object_get(c0, "closed_date")), "2026-12-01");
    json_decref(j);
}

Test(http, a_header_fact_the_body_gives_otherwise_and_an_empty_closure_are_refused)
{
    char *tok = s_add_token(hv, "hv-mis"), hdr[256];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             tok);
    /* The clear header said need 4 (an automatic escalation) while the sealed body said 1. */
    resp_t r = s_http(HV, "POST", "/api/v1/events", hdr,
                      "{\"kind\":\"assessment\",\"case_ref\":\"" HV_CASE "\",\"initials\":\"MB\","
                      "\"level_of_need\":4,\"body\":{\"assessment\":{\"level_of_need\":1}}}");
    cr_expect_eq(r.status, 422, "%s", r.body);
    cr_expect(strstr(r.body, "E_FIELD") && strstr(r.body, "level_of_need: the request says 4") &&
                  strstr(r.body, "says 1"),
              "%s", r.body);
    s_resp_free(&r);
    /* A closure without its reason and date closed the case for good. */
    r = s_http(HV, "POST", "/api/v1/events", hdr,
               "{\"kind\":\"case_closed\",\"case_ref\":\"" HV_CASE "\",\"initials\":\"MB\","
               "\"body\":{\"case_closed\":{}}}");
    cr_expect_eq(r.status, 422, "%s", r.body);
    cr_expect(strstr(r.body, "E_FIELD") && strstr(r.body, "case_closed.reason is required"), "%s",
              r.body);
    s_resp_free(&r);
    /* The case is still open: a consistent assessment is accepted. */
    r = s_http(HV, "POST", "/api/v1/events", hdr,
               "{\"kind\":\"assessment\",\"case_ref\":\"" HV_CASE "\",\"initials\":\"MB\","
               "\"level_of_need\":2,\"body\":{\"assessment\":{\"level_of_need\":2}}}");
    cr_expect_eq(r.status, 201, "%s", r.body);
    s_resp_free(&r);
    free(tok);
}

Test(http, an_events_cursor_that_overflows_or_is_beyond_the_newest_event_is_refused)
{
    char *tok = s_add_token(school, "cursor-mis"), hdr[256];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
    /* Each of these answered from local_seq 1, as if the caller had read nothing. */
    const char *bad[] = { "18446744073709551615", "99999999999999999999", "999999" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "/api/v1/events?after=%s", bad[i]);
        resp_t r = s_http(S, "GET", path, hdr, NULL);
        cr_expect_eq(r.status, 422, "%s: %s", bad[i], r.body);
        cr_expect(strstr(r.body, "E_FIELD") && strstr(r.body, "after"), "%s: %s", bad[i], r.body);
        cr_expect_null(strstr(r.body, "\"local_seq\":1,"), "%s: %s", bad[i], r.body);
        s_resp_free(&r);
    }
    /* A cursor within the stream still answers. */
    resp_t r = s_http(S, "GET", "/api/v1/events?after=0&limit=1", hdr, NULL);
    cr_expect_eq(r.status, 200, "%s", r.body);
    s_resp_free(&r);
    free(tok);
}

/* A word where a form wants numbers is refused in the form's words, not the decoder's. */
Test(http, a_word_where_numbers_go_is_refused_in_plain_words)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    char body[600];
    snprintf(body, sizeof(body),
             "csrf=%s&body.outcome_measure.tool=gbo&body.outcome_measure.values=seven"
             "&body.outcome_measure.measured_date=2026-11-30",
             l.csrf);
    resp_t r = s_http(S, "POST", "/cases/" CASE "/forms/outcome_measure", l.cookie, body);
    cr_assert_eq(r.status, 422, "%d", r.status);
    cr_assert_not_null(strstr(r.body, "is not what this field takes: write whole numbers"),
                       "%.300s", strstr(r.body, "Not sent") ? strstr(r.body, "Not sent") : r.body);
    cr_assert_null(strstr(r.body, "expected an array"));
    s_resp_free(&r);
}

/* Wait until AGENCY's view of CASE holds N plans. */
static void s_wait_plans(const h_agency_t *a, size_t n)
{
    tn_client_t *c = s_client(a);
    size_t have = 0;
    for (int i = 0; i < 250 && have < n; i++) {
        Tacnet__ApiReply *r = NULL;
        if (tn_client_case(c, CASE, &r, CALL_MS) == 0 && r->show_case->state)
            have = r->show_case->state->n_plans;
        tn_client_reply_free(&r);
        if (have < n)
            h_sleep_ms(20);
    }
    tn_client_destroy(&c);
    cr_assert_geq(have, n, "the plan never reached the view");
}

/* In a view that lacks a class, the last planned contact says it is counted from this agency's
 * records only (a contact logged at a class it does not receive is not). */
Test(http, a_partial_view_says_its_last_contact_is_from_its_own_records)
{
    s_publish(social, "{\"kind\":\"communication_plan\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"sensitivity\":\"routine\",\"body\":{\"communication_plan\":{"
                      "\"named_contact\":{\"agency\":\"social_care\",\"initials\":\"AW\","
                      "\"role\":\"lead_professional\"},\"every_days\":14,\"method\":"
                      "\"home_visit\",\"start_date\":\"2026-11-16\"}}}");
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = { 0 };
    for (int i = 0; i < 50; i++) {
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        if (r.status == 200 && strstr(r.body, "Communication plan with the family"))
            break;
        s_resp_free(&r);
        usleep(200 * 1000);
    }
    const char *plan = strstr(r.body, "Communication plan with the family");
    cr_assert_not_null(plan, "%s", r.body);
    cr_expect(strstr(plan, "a contact logged at such a class is not counted here"), "%.600s", plan);
    s_resp_free(&r);
}

/* Minutes whose child's view is not yet asked say by when it is to be asked, as plans do. */
Test(http, minutes_say_by_when_a_view_not_yet_asked_is_to_be_asked)
{
    s_publish(school,
              "{\"kind\":\"meeting_outcome\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
              "\"body\":{\"meeting_outcome\":{\"meeting_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
              "\"held_date\":\"2026-11-20\",\"child_view_absent\":{\"reason\":\"not_yet_asked\","
              "\"ask_by_date\":\"2027-01-10\"},\"family_view\":\"Agree\"}}}");
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = { 0 };
    for (int i = 0; i < 50; i++) {
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        if (r.status == 200 && strstr(r.body, "<dt>Held</dt>"))
            break;
        s_resp_free(&r);
        usleep(200 * 1000);
    }
    cr_expect(strstr(r.body, "not given: not yet asked, to be asked by 2027-01-10"), "%s", r.body);
    s_resp_free(&r);
}

/* The due list names the day a plan's review is due, and how long is left; the plan's short id
 * is the one the CLI shows. */
Test(http, the_due_list_names_the_day_each_item_is_due)
{
    s_publish(social, "{\"kind\":\"care_plan\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"body\":{\"care_plan\":{\"type\":\"team_around_family\",\"start_date\":"
                      "\"2026-11-16\",\"review_interval_days\":20,\"goals\":[{\"goal_id\":1,"
                      "\"description\":\"On time\"}],\"child_view\":\"Wants to see friends\","
                      "\"family_view\":\"Agree\"}}}");
    s_wait_plans(social, 1);
    tn_client_t *c = s_client(social);
    Tacnet__ApiReply *cr = NULL;
    cr_assert_eq(tn_client_case(c, CASE, &cr, CALL_MS), 0);
    uint32_t due = 0;
    for (size_t i = 0; i < cr->show_case->n_due; i++)
        if (strcmp(cr->show_case->due[i]->what, "review") == 0)
            due = cr->show_case->due[i]->due_date;
    /* The plan's short id is its random part, as the CLI shows it, not its creation time. */
    char short_id[32] = "";
    const Tacnet__PlanView *pv = cr->show_case->state->plans[0];
    snprintf(short_id, sizeof(short_id), "Plan %02x%02x%02x%02x", pv->plan_id.data[6],
             pv->plan_id.data[7], pv->plan_id.data[8], pv->plan_id.data[9]);
    tn_client_reply_free(&cr);
    tn_client_destroy(&c);
    cr_assert(due, "no review due in the view");
    char want[64];
    snprintf(want, sizeof(want), " — due %04u-%02u-%02u (", due / 10000, due / 100 % 100,
             due % 100);
    login_t l;
    cr_assert_eq(s_login(SC, "AW", PASSWORD, &l), 303);
    resp_t r = s_http(SC, "GET", "/cases/" CASE, l.cookie, NULL);
    const char *li = strstr(r.body, "<li>review");
    cr_assert_not_null(li, "%s", r.body);
    const char *end = strstr(li, "</li>");
    const char *at = strstr(li, want);
    cr_expect(at && at < end, "%.300s (wanted %s)", li, want);
    cr_expect(strstr(r.body, short_id), "no %s: %s", short_id, r.body);
    s_resp_free(&r);
}

/* Social care's plan has one goal: a GBO score of goal 3 is refused by its daemon, naming the
 * field; a score of goal 1 goes. */
Test(http, a_gbo_score_for_a_goal_the_plan_does_not_have_is_refused)
{
    s_publish(social, "{\"kind\":\"care_plan\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"body\":{\"care_plan\":{\"type\":\"team_around_family\",\"start_date\":"
                      "\"2026-11-16\",\"goals\":[{\"goal_id\":1,\"description\":\"On time\"}],"
                      "\"child_view\":\"Wants to see friends\",\"family_view\":\"Agree\"}}}");
    s_wait_plans(social, 1);
    char *tok = s_add_token(social, "sc-mis"), hdr[256];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
    resp_t r = s_http(SC, "POST", "/api/v1/events", hdr,
                      "{\"kind\":\"outcome_measure\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"body\":{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[9],"
                      "\"goal_ids\":[3],\"measured_date\":\"2026-11-23\"}}}");
    cr_expect_eq(r.status, 422, "%s", r.body);
    cr_expect(strstr(r.body, "E_FIELD") &&
                  strstr(r.body, "outcome_measure.goal_ids: goal 3 is not a goal of this "
                                 "agency's plan (team around the family plan: goal 1)"),
              "%s", r.body);
    s_resp_free(&r);
    r = s_http(SC, "POST", "/api/v1/events", hdr,
               "{\"kind\":\"outcome_measure\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
               "\"body\":{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[3],"
               "\"goal_ids\":[1],\"measured_date\":\"2026-11-23\",\"baseline\":true}}}");
    cr_expect_eq(r.status, 201, "%s", r.body);
    s_resp_free(&r);
    free(tok);
    /* The daemon wrote the plan the scores are for into the event (outcome_measure.plan_id). */
    tn_client_t *c = s_client(social);
    int placed = 0;
    for (int i = 0; i < 250 && !placed; i++) {
        Tacnet__ApiReply *cr = NULL;
        const Tacnet__CaseState *st = NULL;
        if (tn_client_case(c, CASE, &cr, CALL_MS) == 0)
            st = cr->show_case->state;
        for (size_t k = 0; st && k < st->n_measures; k++) {
            const Tacnet__MeasureView *m = st->measures[k];
            if (m->tool != TACNET__MEASURE_TOOL__GBO)
                continue;
            cr_expect(m->has_plan_id, "the GBO measure names no plan");
            cr_expect(st->n_plans == 1 && m->plan_id.len == st->plans[0]->plan_id.len &&
                          memcmp(m->plan_id.data, st->plans[0]->plan_id.data, m->plan_id.len) == 0,
                      "the GBO measure names another plan");
            placed = 1;
        }
        tn_client_reply_free(&cr);
        if (!placed)
            h_sleep_ms(20);
    }
    tn_client_destroy(&c);
    cr_expect(placed, "the GBO measure never reached the view");
}

/* A form is offered only to an agency that can send it: health visiting does not record outcome
 * measures, so its case page has no such button; a form reached by its address is refused in
 * plain words (E_KIND), before anything is sent. */
Test(http, a_form_the_agency_cannot_send_is_not_offered_and_is_refused_plainly)
{
    login_t l;
    cr_assert_eq(s_login(HV, "PD", PASSWORD, &l), 303);
    resp_t r = s_http(HV, "GET", "/cases/" HV_CASE, l.cookie, NULL);
    cr_assert_eq(r.status, 200);
    cr_expect_null(strstr(r.body, "/forms/outcome_measure\""), "offered an outcome measure");
    cr_expect_not_null(strstr(r.body, "/forms/decision\""), "no decision form");
    s_resp_free(&r);
    /* Opened by its address, the form says so before anyone types. */
    r = s_http(HV, "GET", "/cases/" HV_CASE "/forms/outcome_measure", l.cookie, NULL);
    cr_expect_eq(r.status, 403, "%d", r.status);
    cr_expect_not_null(strstr(r.body, "Health visiting does not record an outcome measure"),
                       "%.600s", r.body);
    cr_expect_null(strstr(r.body, "<form method=\"post\""), "drawn to be filled in");
    s_resp_free(&r);
    r = s_http(HV, "GET", "/cases/" HV_CASE "/forms/decision", l.cookie, NULL);
    char key[33], body[512];
    s_form_key_of(r.body, key);
    s_resp_free(&r);
    snprintf(body, sizeof(body),
             "csrf=%s&form_key=%s&body.outcome_measure.tool=gbo"
             "&body.outcome_measure.values=4&body.outcome_measure.goal_ids=1"
             "&body.outcome_measure.measured_date=2026-11-20",
             l.csrf, key);
    r = s_http(HV, "POST", "/cases/" HV_CASE "/forms/outcome_measure", l.cookie, body);
    const char *refusal = strstr(r.body, "Not sent");
    cr_assert_not_null(refusal, "%d %.800s", r.status, r.body);
    cr_expect_not_null(strstr(refusal, "E_KIND"), "%.600s", refusal);
    cr_expect_not_null(strstr(refusal, "Health visiting does not record an outcome measure"),
                       "%.600s", refusal);
    s_resp_free(&r);
}

/* The options of the select NAME in PAGE (up to its </select>), into OUT. */
static void s_select_of(const char *page, const char *name, char *out, size_t cap)
{
    char needle[160];
    snprintf(needle, sizeof(needle), "name=\"%s\"", name);
    const char *p = strstr(page, needle);
    cr_assert_not_null(p, "no select %s", name);
    const char *end = strstr(p, "</select>");
    cr_assert_not_null(end);
    snprintf(out, cap, "%.*s", (int)(end - p), p);
}

/* An assessment of a type only another agency carries out (a section 47 enquiry is social
 * care's) is refused at the sending daemon, E_FIELD naming the field, the type and who carries
 * it out, and the assessment form offers each agency only its own types. */
Test(http, an_assessment_only_another_agency_carries_out_is_refused_and_not_offered)
{
    char *tok = s_add_token(school, "school-mis"), hdr[256];
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
             tok);
    resp_t r = s_http(S, "POST", "/api/v1/events", hdr,
                      "{\"kind\":\"assessment\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"level_of_need\":4,\"body\":{\"assessment\":{\"type\":\"section_47\","
                      "\"level_of_need\":4,\"summary\":\"Enquiry\",\"completed_date\":"
                      "\"2026-12-04\"}}}");
    cr_expect_eq(r.status, 422, "%d %s", r.status, r.body);
    cr_expect(strstr(r.body, "\"E_FIELD\""), "%s", r.body);
    cr_expect(strstr(r.body, "assessment.type is child protection enquiry (section 47), which "
                             "Social care carries out, not School"),
              "%s", r.body);
    s_resp_free(&r);
    /* Nothing was queued: the school's outbox and timeline hold no assessment. */
    r = s_http(S, "GET", "/api/v1/cases/" CASE, hdr, NULL);
    cr_expect_eq(r.status, 200);
    cr_expect_null(strstr(r.body, "section_47"), "%s", r.body);
    s_resp_free(&r);
    /* Its own kind of assessment goes. */
    r = s_http(S, "POST", "/api/v1/events", hdr,
               "{\"kind\":\"assessment\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
               "\"level_of_need\":2,\"body\":{\"assessment\":{\"type\":\"school_sen\","
               "\"level_of_need\":2,\"summary\":\"Reading support\",\"completed_date\":"
               "\"2026-12-04\"}}}");
    cr_expect_eq(r.status, 201, "%d %s", r.status, r.body);
    s_resp_free(&r);
    free(tok);

    /* The school's form offers early help and special educational needs; social care's its
     * statutory assessments and early help, no SEN. */
    char opts[4096];
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    r = s_http(S, "GET", "/cases/" CASE "/forms/assessment", l.cookie, NULL);
    cr_assert_eq(r.status, 200, "%d", r.status);
    s_select_of(r.body, "body.assessment.type", opts, sizeof(opts));
    /* Nor health visiting's contact fields or CAMHS's Choice record. */
    cr_expect(!strstr(r.body, "name=\"body.assessment.hv_contact\"") &&
                  !strstr(r.body, "name=\"body.assessment.capa_choice.curious\""),
              "%s", r.body);
    s_resp_free(&r);
    cr_expect(strstr(opts, "value=\"early_help\"") && strstr(opts, "value=\"school_sen\""), "%s",
              opts);
    cr_expect(!strstr(opts, "section_47") && !strstr(opts, "child_and_family") &&
                  !strstr(opts, "capa_choice") && !strstr(opts, "developmental_review") &&
                  !strstr(opts, "promotional_interview"),
              "%s", opts);
    cr_assert_eq(s_login(SC, "AW", PASSWORD, &l), 303);
    r = s_http(SC, "GET", "/cases/" CASE "/forms/assessment", l.cookie, NULL);
    cr_assert_eq(r.status, 200, "%d", r.status);
    s_select_of(r.body, "body.assessment.type", opts, sizeof(opts));
    s_resp_free(&r);
    cr_expect(strstr(opts, "value=\"section_47\"") && strstr(opts, "value=\"child_and_family\"") &&
                  strstr(opts, "value=\"early_help\""),
              "%s", opts);
    cr_expect(!strstr(opts, "school_sen") && !strstr(opts, "capa_choice"), "%s", opts);
}

/* A meeting whose minutes this agency holds is not scheduled again: the schedule is refused
 * (E_EXISTS) in plain words, before anything is sent. */
Test(http, a_meeting_already_minuted_is_not_scheduled_again)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = { 0 };
    s_early_meeting(&l, &r);
    s_resp_free(&r);
    char key[33], body[1024], where[256], today[16], tomorrow[16];
    s_ymd(0, today);
    s_ymd(1, tomorrow);
    s_drawn_key(&l, "meeting_outcome", key);
    snprintf(body, sizeof(body), EARLY_MINUTES, l.csrf, key, today);
    s_send_form(&l, "meeting_outcome", body, where, sizeof(where));
    int held = 0;
    for (int i = 0; i < 250 && !held; i++) {
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        held = strstr(r.body, "<h3>Held (minutes recorded)</h3>") != NULL;
        s_resp_free(&r);
        if (!held)
            h_sleep_ms(20);
    }
    cr_assert(held, "the minutes are not on the case page");
    s_drawn_key(&l, "meeting_scheduled", key);
    snprintf(body, sizeof(body),
             "csrf=%s&form_key=%s&body.meeting_scheduled.meeting_id=" EARLY_MEETING
             "&body.meeting_scheduled.starts_at_ms=%sT10%%3A00&body.meeting_scheduled.mode="
             "in_person",
             l.csrf, key, tomorrow);
    r = s_http(S, "POST", "/cases/" CASE "/forms/meeting_scheduled", l.cookie, body);
    const char *refusal = strstr(r.body, "Not sent");
    cr_assert_not_null(refusal, "%d %.800s", r.status, r.body);
    cr_expect_not_null(strstr(refusal, "E_EXISTS"), "%.600s", refusal);
    snprintf(where, sizeof(where), "this meeting was held on %s and its minutes are recorded",
             today);
    cr_expect_not_null(strstr(refusal, where), "%.600s", refusal);
    s_resp_free(&r);
    /* The schedule form no longer offers the meeting held, and asks whom to invite. */
    r = s_http(S, "GET", "/cases/" CASE "/forms/meeting_scheduled", l.cookie, NULL);
    cr_expect_null(strstr(r.body, "<option value=\"" EARLY_MEETING "\""), "%s", r.body);
    cr_expect(strstr(r.body, "name=\"body.meeting_scheduled.invited[0]\"") &&
                  strstr(r.body, "name=\"body.meeting_scheduled.family_invited[0]\""),
              "%s", r.body);
    s_resp_free(&r);
}

/* The school does not receive health detail, so minutes recorded at that class would not reach
 * its view: a meeting asked for and not scheduled there is not offered for scheduling as if
 * certainly not held; the page says what is true and to ask the lead. */
Test(http, a_partial_view_says_a_meeting_may_have_been_minuted_before_offering_to_schedule_it)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    s_publish(school, "{\"kind\":\"meeting_requested\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"body\":{\"meeting_requested\":{\"meeting_id\":"
                      "\"ed02030405060708090a0b0c0d0e0f10\",\"purpose\":\"Sleep review\"}}}");
    resp_t r = { 0 };
    const char *m = NULL;
    for (int i = 0; i < 250 && !m; i++) {
        s_resp_free(&r);
        r = s_http(S, "GET", "/cases/" CASE, l.cookie, NULL);
        m = strstr(r.body, "Sleep review");
        if (!m)
            h_sleep_ms(20);
    }
    cr_assert_not_null(m, "the meeting asked for is not on the case page");
    cr_assert_not_null(strstr(r.body, "This agency's view: "), "the school's view is whole here");
    cr_expect_not_null(strstr(m, "minutes may have been recorded at a class this agency does not "
                                 "receive; ask the lead professional"),
                       "%.800s", m);
    cr_expect_null(strstr(m, ">Schedule it</a>"), "%.800s", m);
    s_resp_free(&r);
}

/* The goal-score chart draws goal 1 of social care's plan and goal 1 of the school's as two
 * lines, each named by whose plan it is, never as one line through both agencies' scores. */
Test(http, the_goal_chart_keeps_each_agency_s_goals_apart)
{
    s_publish(social, "{\"kind\":\"care_plan\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"body\":{\"care_plan\":{\"type\":\"team_around_family\",\"start_date\":"
                      "\"2026-11-16\",\"goals\":[{\"goal_id\":1,\"description\":\"On time\"}],"
                      "\"child_view\":\"Wants to see friends\",\"family_view\":\"Agree\"}}}");
    s_publish(school, "{\"kind\":\"care_plan\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                      "\"body\":{\"care_plan\":{\"type\":\"team_around_family\",\"start_date\":"
                      "\"2026-11-16\",\"goals\":[{\"goal_id\":1,\"description\":\"Reading\"}],"
                      "\"child_view\":\"Likes stories\",\"family_view\":\"Agree\"}}}");
    s_wait_plans(social, 1);
    s_wait_plans(school, 1);
    s_publish(social, "{\"kind\":\"outcome_measure\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"body\":{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[3],"
                      "\"goal_ids\":[1],\"measured_date\":\"2026-11-20\",\"baseline\":true}}}");
    s_publish(school, "{\"kind\":\"outcome_measure\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"body\":{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[8],"
                      "\"goal_ids\":[1],\"measured_date\":\"2026-11-21\",\"baseline\":true}}}");
    login_t l;
    cr_assert_eq(s_login(SC, "AW", PASSWORD, &l), 303);
    resp_t r = { 0 };
    for (int i = 0; i < 50; i++) {
        r = s_http(SC, "GET", "/cases/" CASE, l.cookie, NULL);
        if (r.status == 200 && strstr(r.body, "Goal 1 of School's "))
            break;
        s_resp_free(&r);
        usleep(200 * 1000);
    }
    cr_assert_eq(r.status, 200);
    /* Both are team around the family plans, so whichever came last replaced the other as the
     * case's lead plan: the key calls the other "earlier plan", or, when its scores were sent
     * while its view held no plan of its own, says there is none here. */
    const char *sc_key = strstr(r.body, "Goal 1 of Social care's "),
               *school_key = strstr(r.body, "Goal 1 of School's ");
    cr_assert(sc_key && school_key, "%s", r.body);
    const char *sc_one = strstr(sc_key, " (1 score)"),
               *school_one = strstr(school_key, " (1 score)");
    cr_expect(sc_one && sc_one < strstr(sc_key, "</span>"), "%.200s", sc_key);
    cr_expect(school_one && school_one < strstr(school_key, "</span>"), "%.200s", school_key);
    cr_expect_null(strstr(r.body, "(2 scores)"), "one line through two agencies' goals");
    s_resp_free(&r);
}

/* Scores from an agency with no plan in the view are drawn, and the key says there is no plan of
 * theirs here rather than naming one. */
Test(http, the_goal_chart_says_when_scores_have_no_plan_in_the_view)
{
    s_publish(social, "{\"kind\":\"outcome_measure\",\"case_ref\":\"" CASE "\",\"initials\":"
                      "\"TB\",\"body\":{\"outcome_measure\":{\"tool\":\"gbo\",\"values\":[3],"
                      "\"goal_ids\":[1],\"measured_date\":\"2026-11-20\",\"baseline\":true}}}");
    login_t l;
    cr_assert_eq(s_login(SC, "AW", PASSWORD, &l), 303);
    resp_t r = { 0 };
    for (int i = 0; i < 50; i++) {
        r = s_http(SC, "GET", "/cases/" CASE, l.cookie, NULL);
        if (r.status == 200 && strstr(r.body, "Goal 1 of Social care's "))
            break;
        s_resp_free(&r);
        usleep(200 * 1000);
    }
    cr_expect(strstr(r.body, "Goal 1 of Social care's plan (none in this view) (1 score)"), "%s",
              r.body);
    s_resp_free(&r);
}

/* The hand-over form offers the team's other members only: not the agency that holds the lead
 * (the school, which opened the case) and not one outside the team (CAMHS), which the sender
 * and the broker refuse. */
Test(http, the_hand_over_form_offers_only_the_other_members)
{
    login_t l;
    cr_assert_eq(s_login(S, "DL", PASSWORD, &l), 303);
    resp_t r = s_http(S, "GET", "/cases/" CASE "/forms/lead_handover", l.cookie, NULL);
    cr_assert_eq(r.status, 200, "%d", r.status);
    const char *sel = strstr(r.body, "<select id=\"subject_agency\"");
    cr_assert_not_null(sel, "%s", r.body);
    const char *end = strstr(sel, "</select>");
    cr_assert_not_null(end);
    char options[2048];
    snprintf(options, sizeof(options), "%.*s", (int)(end - sel), sel);
    cr_expect_not_null(strstr(options, "value=\"social_care\""), "%s", options);
    cr_expect_null(strstr(options, "value=\"school\""), "the lead's own agency: %s", options);
    cr_expect_null(strstr(options, "value=\"camhs\""), "not a member: %s", options);
    s_resp_free(&r);
}
