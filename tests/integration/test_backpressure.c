/* Back-pressure end to end: an agency daemon publishing faster than the broker's quota_per_s
 * gets E_QUOTA refusals, keeps every refused event in its outbox and resends it in order, so
 * every event arrives exactly once, in order, and none becomes a dead letter. */
#include "harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#include <jansson.h>

#include "client/client.h"
#include "pbjson_fixture.h"

#define S    TACNET__AGENCY__SCHOOL
#define CASE "LA7-2026-000321"
/* Three times the burst, at a quota low enough that even a loaded machine (each publish is a
 * synced commit) queues the events faster than the broker lets them in. */
#define EVENTS  60
#define QUOTA   10
#define CALL_MS 10000

static h_env_t env;

static void s_publish(tn_client_t *c, int i)
{
    char text[512];
    snprintf(text, sizeof(text),
             "{\"kind\":\"concern\",\"case_ref\":\"" CASE "\",\"initials\":\"QB\","
             "\"sensitivity\":\"routine\",\"body\":{\"concern\":{\"category\":\"attendance\","
             "\"summary\":\"Late on day %d.\"}}}",
             i);
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, text);
    Tacnet__ApiReply *r = NULL;
    int rc = tn_client_publish(c, req, &r, CALL_MS);
    cr_assert_eq(rc, 0, "publish %d refused: %s", i, tacnet_errname(rc));
    tn_client_reply_free(&r);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* The E_QUOTA count in the broker's status (0 when there is none yet). */
static long s_quota_refusals(void)
{
    char *status = h_admin_status(&env);
    cr_assert_not_null(status, "no admin status");
    json_t *root = json_loads(status, 0, NULL);
    free(status);
    cr_assert_not_null(root);
    long n =
        (long)json_integer_value(json_object_get(json_object_get(root, "rejected"), "E_QUOTA"));
    json_decref(root);
    return n;
}

Test(backpressure, a_daemon_over_its_quota_delivers_everything_once_and_in_order, .timeout = 120)
{
    char extra[96];
    snprintf(extra, sizeof(extra), "quota_per_s = %d\nquota_burst = %d", QUOTA, QUOTA);
    h_setup(&env, extra);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    h_agency_t *school = h_agency_add(&env, S);
    cr_assert_eq(h_agency_start(school, NULL), 0, "school did not start (log %s)", school->log);
    int err = 0;
    tn_client_t *c = tn_client_new(school->data, &err);
    cr_assert_not_null(c, "tn_client_new: %s", tacnet_errname(err));
    /* Three times the burst at once: the daemon queues all of them at once. */
    for (int i = 0; i < EVENTS; i++)
        s_publish(c, i);

    /* Every event comes back to the school's own view, once, in the order published. */
    Tacnet__ApiReply *r = NULL;
    size_t got = 0;
    for (int t = 0; t < 3000 && got < EVENTS; t++) {
        tn_client_reply_free(&r);
        int rc = tn_client_case(c, CASE, &r, CALL_MS);
        /* E_NOTFOUND until the first event is back from the broker */
        cr_assert(rc == 0 || rc == TACNET_ENOTFOUND, "show case: %s", tacnet_errname(rc));
        got = rc == 0 ? r->show_case->n_timeline : 0;
        if (got < EVENTS)
            h_sleep_ms(20);
    }
    cr_assert_eq(got, EVENTS, "%zu of %d events came back", got, EVENTS);
    cr_assert_not_null(r);
    /* Applied in local order, each event is the next one the school published. */
    uint64_t prev_seq = 0, prev_sseq = 0;
    for (size_t i = 0; i < got; i++) {
        const Tacnet__TimelineEntry *e = r->show_case->timeline[i];
        cr_assert_gt(e->local_seq, prev_seq);
        cr_assert_gt(e->header->sender_seq, prev_sseq, "sender order broken at %zu", i);
        char want[48];
        snprintf(want, sizeof(want), "Late on day %zu.", i);
        cr_assert(e->body && e->body->concern && e->body->concern->summary &&
                      strcmp(e->body->concern->summary, want) == 0,
                  "entry %zu is not the %zu-th event published", i, i);
        prev_seq = e->local_seq;
        prev_sseq = e->header->sender_seq;
    }
    tn_client_reply_free(&r);
    long refused = s_quota_refusals();
    cr_expect_gt(refused, 0, "the broker never pushed back: the test proves nothing");
    fprintf(stderr, "[backpressure] %d events at quota %d/s: %ld E_QUOTA refusals, 0 lost\n",
            EVENTS, QUOTA, refused);
    tn_client_destroy(&c);
    h_teardown(&env);
}
