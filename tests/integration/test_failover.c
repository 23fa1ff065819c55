/* Integration tests of an agency daemon's broker list: the daemon walks the brokers it is given
 * round robin whenever the one it talks to falls silent (services/agency/endpoints.h). Two
 * plain brokers are not a replicated pair, so these tests check the rotation itself with one
 * real broker and an endpoint nobody listens on: the daemon finds the live broker behind the
 * dead one, and finds it again after it was killed and restarted, resending what it accepted
 * meanwhile. */
#include "harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/client.h"
#include "err.h"
#include "pbjson_fixture.h"

#define S       TACNET__AGENCY__SCHOOL
#define SC      TACNET__AGENCY__SOCIAL_CARE
#define CASE    "LA7-2026-000456"
#define CALL_MS 10000

static h_env_t env;
static char dead_ep[64], live_ep[64];

/* A loopback TCP port free right now (the kernel's choice for an ephemeral bind). */
static int s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void setup(void)
{
    int dead = s_free_port(), live;
    do
        live = s_free_port();
    while (live == dead);
    snprintf(dead_ep, sizeof(dead_ep), "tcp://127.0.0.1:%d", dead);
    snprintf(live_ep, sizeof(live_ep), "tcp://127.0.0.1:%d", live);
    h_bind = live_ep;
    h_setup(&env, NULL);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
}

static void teardown(void)
{
    h_teardown(&env);
    h_bind = NULL;
}

TestSuite(failover, .init = setup, .fini = teardown, .timeout = 120);

/* Replace the daemon config's broker_endpoint_file line (the broker's own file) by LINE. */
static void s_conf_broker(const h_agency_t *a, const char *line)
{
    FILE *f = fopen(a->conf, "r");
    cr_assert_not_null(f);
    char buf[4096], out[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *at = strstr(buf, "broker_endpoint_file = ");
    cr_assert_not_null(at, "%s names no endpoint file", a->conf);
    char *eol = strchr(at, '\n');
    cr_assert_not_null(eol);
    *at = 0;
    snprintf(out, sizeof(out), "%s%s%s", buf, line, eol);
    f = fopen(a->conf, "w");
    cr_assert_not_null(f);
    fputs(out, f);
    fclose(f);
}

static tn_client_t *s_client(const h_agency_t *a)
{
    int err = 0;
    tn_client_t *c = tn_client_new(a->data, &err);
    cr_assert_not_null(c, "tn_client_new %s: %s", a->data, tacnet_errname(err));
    return c;
}

static void s_publish_ok(tn_client_t *c, const char *json, uint8_t *msg_id)
{
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, json);
    Tacnet__ApiReply *r = NULL;
    int rc = tn_client_publish(c, req, &r, CALL_MS);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    cr_assert_not_null(r, "no reply from the daemon: %s", tacnet_errname(rc));
    cr_assert_eq(rc, 0, "publish refused: %s (%s)", tacnet_errname(rc), r->reason ? r->reason : "");
    if (msg_id) {
        cr_assert_eq(r->result_case, TACNET__API_REPLY__RESULT_PUBLISHED);
        memcpy(msg_id, r->published->msg_id.data, 16);
    }
    tn_client_reply_free(&r);
}

/* Wait until MSG_ID is in C's timeline of CASE; returns how often it is there (0: never). */
static int s_wait_in_case(tn_client_t *c, const uint8_t *msg_id, int ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    for (;;) {
        Tacnet__ApiReply *r = NULL;
        int n = 0;
        if (tn_client_case(c, CASE, &r, CALL_MS) == 0 && r->show_case) {
            for (size_t i = 0; i < r->show_case->n_timeline; i++) {
                const Tacnet__Header *h = r->show_case->timeline[i]->header;
                n += h->msg_id.len == 16 && memcmp(h->msg_id.data, msg_id, 16) == 0;
            }
        }
        tn_client_reply_free(&r);
        if (n > 0 || h_now_ms() >= deadline)
            return n;
        h_sleep_ms(50);
    }
}

static void s_concern(tn_client_t *c, const char *summary, uint8_t *msg_id)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "{\"kind\":\"concern\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\",\"body\":"
             "{\"concern\":{\"category\":\"attendance\",\"summary\":\"%s\"}}}",
             summary);
    s_publish_ok(c, buf, msg_id);
}

/* School shares the case with social care (consent, then a referral); returns once the
 * referral is in social care's view. */
static void s_refer(tn_client_t *school, tn_client_t *sc)
{
    uint8_t ref[16];
    s_concern(school, "Often late.", NULL);
    s_publish_ok(school,
                 "{\"kind\":\"consent_recorded\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                 "\"body\":{\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"routine\","
                 "\"health\",\"safeguarding\"],\"given_by\":\"mother\",\"recorded_date\":"
                 "\"2026-11-03\"}}}",
                 NULL);
    s_publish_ok(school,
                 "{\"kind\":\"referral\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                 "\"subject_agency\":\"social_care\",\"body\":{\"referral\":{\"to_agency\":"
                 "\"social_care\",\"category\":\"neglect\",\"summary\":\"Persistent absence.\","
                 "\"family_aware\":true,\"consent_obtained\":true,\"referred_date\":"
                 "\"2026-11-05\"}}}",
                 ref);
    cr_assert_eq(s_wait_in_case(sc, ref, 20000), 1, "the referral did not reach social care");
}

static void s_assert_switched(const h_agency_t *a, const char *to)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "switching to %s", to);
    cr_assert(h_file_contains(a->log, needle), "%s has no `%s`", a->log, needle);
}

Test(failover, a_daemon_finds_the_live_broker_behind_a_dead_one_and_again_after_its_restart)
{
    /* The school lists the brokers in its config, social care in a file of its own. */
    h_agency_t *as = h_agency_add(&env, S), *asc = h_agency_add(&env, SC);
    char line[900], file[600];
    snprintf(line, sizeof(line), "broker = %s, %s", dead_ep, live_ep);
    s_conf_broker(as, line);
    snprintf(file, sizeof(file), "%s/brokers", env.dir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s\n\n%s\n", dead_ep, live_ep);
    fclose(f);
    snprintf(line, sizeof(line), "broker_endpoint_file = %s", file);
    s_conf_broker(asc, line);
    cr_assert_eq(h_agency_start(as, NULL), 0, "school did not start (log %s)", as->log);
    cr_assert_eq(h_agency_start(asc, NULL), 0, "social care did not start (log %s)", asc->log);
    tn_client_t *school = s_client(as), *sc = s_client(asc);

    /* Both start on the dead endpoint, fall silent there and move on to the live broker. */
    s_refer(school, sc);
    s_assert_switched(as, live_ep);
    s_assert_switched(asc, live_ep);

    /* The broker dies; what the school accepts meanwhile waits in its outbox while both
     * daemons walk the list, and reaches social care once the broker is back. */
    h_broker_signal_wait(&env, SIGKILL);
    uint8_t late[16];
    s_concern(school, "Missed the trip.", late);
    h_sleep_ms(2500);
    s_assert_switched(as, dead_ep);
    s_assert_switched(asc, dead_ep);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    cr_assert_eq(s_wait_in_case(sc, late, 30000), 1,
                 "the event accepted while the broker was "
                 "down did not reach social care once");
    /* And it stays applied once, however often it was resent. */
    h_sleep_ms(1000);
    cr_assert_eq(s_wait_in_case(sc, late, 0), 1);
    tn_client_destroy(&school);
    tn_client_destroy(&sc);
}

Test(failover, a_broker_list_with_no_endpoint_is_refused_at_startup)
{
    h_agency_t *as = h_agency_add(&env, S);
    s_conf_broker(as, "broker = , ,");
    int rc = h_agency_start(as, NULL);
    cr_assert_neq(rc, 0, "the daemon started with no broker endpoint");
    cr_assert(h_file_contains(as->log, "no broker endpoint"), "log %s", as->log);
}
