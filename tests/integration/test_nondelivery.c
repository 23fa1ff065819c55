/* Non-delivery reports (docs/DOMAIN.md): an event a recipient has not applied within the sharing
 * policy's expiry produces one broker-signed report to its sender, never silence. */
#include "harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CAMHS  TACNET__AGENCY__CAMHS
#define SCHOOL TACNET__AGENCY__SCHOOL

static h_env_t env;
static char s_sharing[512];

static void s_up(void)
{
    /* The default policy, with an expiry of two seconds instead of five days. */
    snprintf(s_sharing, sizeof(s_sharing), "/tmp/tacnet-nd-sharing-%d.conf", (int)getpid());
    FILE *f = fopen(s_sharing, "w");
    cr_assert_not_null(f);
    fprintf(f, "[policy]\nversion = 1\nexpiry_seconds = 2\n"
               "[camhs]\nwith_consent = routine, health, safeguarding\n"
               "[school]\nwith_consent = routine, safeguarding\n"
               "[health_visiting]\nwith_consent = routine, health, safeguarding\n"
               "[social_care]\nwith_consent = routine, health, safeguarding\n"
               "without_consent = safeguarding\n");
    fclose(f);
    h_sharing_path = s_sharing;
    h_setup(&env, NULL);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
}

static void s_down(void)
{
    h_teardown(&env);
    unlink(s_sharing);
}

TestSuite(nondelivery, .init = s_up, .fini = s_down, .timeout = 60);

/* Count the NON_DELIVERY events CLIENT receives within TIMEOUT_MS, checking each one opens and
 * names WANT_ABOUT. */
static int s_count_reports(h_client_t *c, const uint8_t *want_about, int timeout_ms)
{
    int n = 0;
    uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
    while (h_now_ms() < end) {
        wire_msg_t m;
        if (h_recv(c, 200, &m) != 0)
            continue;
        if (m.cmd == WIRE_DELIVER) {
            int err = 0;
            Tacnet__Header *h = wire_header_unpack(m.header, m.header_len, &err);
            cr_assert_not_null(h);
            if (h->kind == TACNET__EVENT_KIND__NON_DELIVERY) {
                cr_expect_eq(h->sender, TACNET__AGENCY__BROKER);
                cr_expect(h->has_refers_to && memcmp(h->refers_to.data, want_about, 16) == 0,
                          "the report names the undelivered event");
                cr_expect_eq(h->subject_agency, TACNET__AGENCY__SCHOOL);
                n++;
            }
            uint64_t seq = 0, prev = 0;
            Tacnet__Deliver *d =
                (Tacnet__Deliver *)wire_ctl_unpack(WIRE_DELIVER, m.ctl, m.ctl_len, &err);
            if (d) {
                seq = d->seq;
                prev = d->prev_seq;
                wire_free(&d->base);
            }
            (void)prev;
            h_ack(c, seq);
            wire_free(&h->base);
        }
        wire_msg_clear(&m);
    }
    return n;
}

Test(nondelivery, unapplied_event_is_reported_to_its_sender_once)
{
    h_client_t *camhs = h_connect(&env, CAMHS);
    cr_assert_eq(h_hello(camhs, 0, 64, NULL), 0);
    h_pub_t p = { 0 };
    h_pub_init(&p, CAMHS, TACNET__EVENT_KIND__REFERRAL, "LA7-2026-000090", 1);
    p.h.has_subject_agency = 1;
    p.h.subject_agency = SCHOOL;
    h_pub_rcpt(&p, 2, (const uint32_t[]){ CAMHS, SCHOOL });
    h_pub_seal(&env, &p, CAMHS, NULL, NULL, 0);
    cr_assert_eq(h_publish(camhs, &p, NULL), 0);
    /* The school never connects. After the two-second expiry CAMHS gets exactly one report,
     * however many checks run (one a second). */
    int n = s_count_reports(camhs, p.msg_id, 6000);
    cr_expect_eq(n, 1, "got %d non-delivery reports, want 1", n);
    h_pub_free(&p);
    /* A broker restart does not report it again. */
    cr_assert_eq(h_broker_signal_wait(&env, SIGTERM), 0);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    h_close(&camhs);
    camhs = h_connect(&env, CAMHS);
    cr_assert_eq(h_hello(camhs, 100, 64, NULL), 0);
    cr_expect_eq(s_count_reports(camhs, p.msg_id, 3000), 0, "reported again after a restart");
}

Test(nondelivery, applied_event_is_not_reported)
{
    h_client_t *camhs = h_connect(&env, CAMHS), *school = h_connect(&env, SCHOOL);
    cr_assert_eq(h_hello(school, 0, 64, NULL), 0);
    h_pub_t p = { 0 };
    h_pub_init(&p, CAMHS, TACNET__EVENT_KIND__REFERRAL, "LA7-2026-000091", 1);
    p.h.has_subject_agency = 1;
    p.h.subject_agency = SCHOOL;
    h_pub_rcpt(&p, 2, (const uint32_t[]){ CAMHS, SCHOOL });
    h_pub_seal(&env, &p, CAMHS, NULL, NULL, 0);
    cr_assert_eq(h_publish(camhs, &p, NULL), 0);
    uint64_t seqs[1];
    cr_assert_eq(h_collect(school, 1, 3000, seqs, NULL, 1), 1); /* h_collect acknowledges */
    cr_assert_eq(h_hello(camhs, 0, 64, NULL), 0);
    cr_expect_eq(s_count_reports(camhs, p.msg_id, 4000), 0);
    h_pub_free(&p);
}
