/* Integration tests of the agency daemons: the real tacnet-broker and tacnet-<agency> processes
 * on loopback, driven through libtacnet-client as an agency's own systems would. */
#include "harness.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zmq.h>

#include "agency/agency.h" /* AGENCY_FOLLOW_MAX_WAITS */
#include "err.h"

#include <jansson.h>

#include "client/client.h"
#include "pbjson.h"
#include "pbjson_fixture.h"

#define S       TACNET__AGENCY__SCHOOL
#define SC      TACNET__AGENCY__SOCIAL_CARE
#define CA      TACNET__AGENCY__CAMHS
#define HV      TACNET__AGENCY__HEALTH_VISITING
#define CASE    "LA7-2026-000123"
#define CALL_MS 10000

static h_env_t env;

static void setup(void)
{
    h_setup(&env, NULL);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
}

static void teardown(void)
{
    h_teardown(&env);
}

TestSuite(agency, .init = setup, .fini = teardown, .timeout = 120);

static tn_client_t *s_client(const h_agency_t *a)
{
    int err = 0;
    tn_client_t *c = tn_client_new(a->data, &err);
    cr_assert_not_null(c, "tn_client_new %s: %s", a->data, tacnet_errname(err));
    return c;
}

static h_agency_t *s_up(uint32_t agency)
{
    return h_agency_up(&env, agency);
}

/* Publish the PublishRequest given as JSON; returns the daemon's code, the msg_id in MSG_ID (may
 * be NULL) and the reply in *REPLY_P (may be NULL: freed here). */
static int s_publish(tn_client_t *c, const char *json, uint8_t *msg_id, Tacnet__ApiReply **reply_p)
{
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, json);
    Tacnet__ApiReply *reply = NULL;
    int rc = tn_client_publish(c, req, &reply, CALL_MS);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    cr_assert_not_null(reply, "no reply from the daemon: %s", tacnet_errname(rc));
    if (rc == 0 && msg_id) {
        cr_assert_eq(reply->result_case, TACNET__API_REPLY__RESULT_PUBLISHED);
        cr_assert_eq(reply->published->msg_id.len, 16);
        memcpy(msg_id, reply->published->msg_id.data, 16);
    }
    if (reply_p)
        *reply_p = reply;
    else
        tn_client_reply_free(&reply);
    return rc;
}

static void s_publish_ok(tn_client_t *c, const char *json, uint8_t *msg_id)
{
    Tacnet__ApiReply *r = NULL;
    int rc = s_publish(c, json, msg_id, &r);
    cr_assert_eq(rc, 0, "publish refused: %s (%s)", tacnet_errname(rc),
                 r && r->reason ? r->reason : "");
    tn_client_reply_free(&r);
}

/* How often MSG_ID appears in C's timeline of CASE_REF; -1 if the case is unknown there. */
static int s_in_case(tn_client_t *c, const char *case_ref, const uint8_t *msg_id)
{
    Tacnet__ApiReply *r = NULL;
    int rc = tn_client_case(c, case_ref, &r, CALL_MS);
    int n = -1;
    if (rc == 0 && r->show_case) {
        n = 0;
        for (size_t i = 0; i < r->show_case->n_timeline; i++) {
            const Tacnet__Header *h = r->show_case->timeline[i]->header;
            n += h->msg_id.len == 16 && memcmp(h->msg_id.data, msg_id, 16) == 0;
        }
    }
    tn_client_reply_free(&r);
    return n;
}

static int s_wait_in_case(tn_client_t *c, const char *case_ref, const uint8_t *msg_id, int ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    int n;
    while ((n = s_in_case(c, case_ref, msg_id)) <= 0 && h_now_ms() < deadline)
        h_sleep_ms(20);
    return n;
}

/* A number from the broker's admin status. */
static uint64_t s_status_number(const char *name)
{
    char *st = h_admin_status(&env);
    cr_assert_not_null(st, "no admin status");
    json_t *j = json_loads(st, 0, NULL);
    free(st);
    cr_assert_not_null(j);
    json_t *h = json_object_get(j, name);
    cr_assert(json_is_integer(h), "status has no %s", name);
    uint64_t v = (uint64_t)json_integer_value(h);
    json_decref(j);
    return v;
}

/* The broker's journal head from its admin status. */
static uint64_t s_head(void)
{
    return s_status_number("head_seq");
}

static uint64_t s_wait_head(uint64_t want, int ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms, head;
    while ((head = s_head()) < want && h_now_ms() < deadline)
        h_sleep_ms(20);
    return head;
}

/* Every event C's view has applied: counts of each of the N msg_ids in IDS into COUNTS, returns
 * the total number of entries. */
static size_t s_follow_all(tn_client_t *c, const uint8_t (*ids)[16], size_t n, unsigned *counts)
{
    uint64_t after = 0;
    size_t total = 0;
    if (counts)
        memset(counts, 0, n * sizeof(*counts));
    for (;;) {
        Tacnet__ApiReply *r = NULL;
        int rc = tn_client_follow(c, after, 1000, &r, CALL_MS);
        cr_assert_eq(rc, 0, "follow: %s", tacnet_errname(rc));
        Tacnet__FollowReply *f = r->follow;
        size_t got = f->n_entries;
        for (size_t i = 0; i < got; i++) {
            const Tacnet__Header *h = f->entries[i]->header;
            for (size_t k = 0; counts && k < n; k++)
                if (h->msg_id.len == 16 && memcmp(h->msg_id.data, ids[k], 16) == 0)
                    counts[k]++;
        }
        total += got;
        after = f->next_local_seq;
        tn_client_reply_free(&r);
        if (got == 0)
            return total;
    }
}

/* Wait until C has applied every one of IDS (each at least once). */
static void s_wait_all(tn_client_t *c, const uint8_t (*ids)[16], size_t n, unsigned *counts, int ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    for (;;) {
        s_follow_all(c, ids, n, counts);
        size_t have = 0;
        for (size_t k = 0; k < n; k++)
            have += counts[k] > 0;
        if (have == n)
            return;
        cr_assert(h_now_ms() < deadline, "only %zu of %zu events arrived", have, n);
        h_sleep_ms(50);
    }
}

static const char *s_concern(char *buf, size_t cap, const char *summary)
{
    snprintf(buf, cap,
             "{\"kind\":\"concern\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\",\"body\":"
             "{\"concern\":{\"category\":\"attendance\",\"summary\":\"%s\"}}}",
             summary);
    return buf;
}

/* School shares with social care: consent, then a referral (social care becomes a member). */
static void s_refer(tn_client_t *school, tn_client_t *sc)
{
    uint8_t ref[16];
    char buf[512];
    s_publish_ok(school, s_concern(buf, sizeof(buf), "Tired in class."), NULL);
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
    cr_assert_eq(s_wait_in_case(sc, CASE, ref, 10000), 1, "referral did not reach social care");
    /* ... and the school's earlier events, granted to social care on joining. */
    uint64_t deadline = h_now_ms() + 10000;
    for (;;) {
        Tacnet__ApiReply *r = NULL;
        int settled = tn_client_case(sc, CASE, &r, CALL_MS) == 0 &&
                      r->show_case->summary->n_history_pending == 0;
        tn_client_reply_free(&r);
        if (settled)
            break;
        cr_assert(h_now_ms() < deadline, "social care's history never arrived");
        h_sleep_ms(20);
    }
}

Test(agency, each_agency_sees_what_the_sharing_policy_allows)
{
    h_agency_t *as = s_up(S), *asc = s_up(SC), *aca = s_up(CA);
    tn_client_t *school = s_client(as), *sc = s_client(asc), *camhs = s_client(aca);
    char buf[1024];
    uint8_t concern[16], joined[16], health[16], routine[16];
    s_refer(school, sc);
    /* Social care became a member with the referral: what school shares next reaches it. */
    s_publish_ok(school, s_concern(buf, sizeof(buf), "Late most Mondays."), concern);
    cr_assert_eq(s_wait_in_case(sc, CASE, concern, 10000), 1, "concern not delivered");

    s_publish_ok(sc,
                 "{\"kind\":\"member_joined\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                 "\"subject_agency\":\"camhs\",\"body\":{\"member_joined\":{\"named_contact\":"
                 "{\"agency\":\"camhs\",\"initials\":\"RK\",\"role\":\"practitioner\"}}}}",
                 joined);
    cr_assert_eq(s_wait_in_case(camhs, CASE, joined, 10000), 1, "camhs did not join");
    cr_assert_eq(s_wait_in_case(school, CASE, joined, 10000), 1, "school not told of the join");

    s_publish_ok(camhs,
                 "{\"kind\":\"assessment\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                 "\"sensitivity\":\"health\",\"level_of_need\":2,\"body\":{\"assessment\":"
                 "{\"type\":\"capa_choice\",\"level_of_need\":2,\"summary\":\"Low mood; sleep "
                 "poor.\",\"completed_date\":\"2026-11-16\"}}}",
                 health);
    s_publish_ok(camhs,
                 "{\"kind\":\"concern\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                 "\"sensitivity\":\"routine\",\"body\":{\"concern\":{\"category\":"
                 "\"attendance\",\"summary\":\"Missed two appointments.\"}}}",
                 routine);
    cr_assert_eq(s_wait_in_case(sc, CASE, health, 10000), 1, "social care lacks the HEALTH event");
    cr_assert_eq(s_wait_in_case(sc, CASE, routine, 10000), 1);
    cr_assert_eq(s_wait_in_case(school, CASE, routine, 10000), 1, "school lacks the routine one");
    /* The routine event was published after the HEALTH one, so had school been sent it, it
     * would be there by now. */
    cr_assert_eq(s_in_case(school, CASE, health), 0, "school got a CAMHS HEALTH-class event");
    cr_assert_eq(s_in_case(camhs, CASE, health), 1);

    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_case(school, CASE, &r, CALL_MS), 0);
    for (size_t i = 0; i < r->show_case->n_timeline; i++) {
        const Tacnet__Header *h = r->show_case->timeline[i]->header;
        cr_expect_neq(h->sensitivity, TACNET__SENSITIVITY__HEALTH,
                      "school timeline entry %zu is HEALTH-class (sender %d)", i, h->sender);
    }
    tn_client_reply_free(&r);
    tn_client_destroy(&school);
    tn_client_destroy(&sc);
    tn_client_destroy(&camhs);
}

/* Publish a concern with SUMMARY; assert E_TEXT with one finding of KIND on concern.summary at
 * [START, END). */
static void s_expect_text_refusal(tn_client_t *c, const char *summary, const char *kind,
                                  uint32_t start, uint32_t end)
{
    char buf[1024];
    Tacnet__ApiReply *r = NULL;
    int rc = s_publish(c, s_concern(buf, sizeof(buf), summary), NULL, &r);
    cr_assert_eq(rc, TACNET_ETEXT, "publish of a %s gave %s", kind, tacnet_errname(rc));
    int found = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        const Tacnet__Finding *f = r->findings[i];
        if (strcmp(f->kind, kind) == 0 && f->field && strcmp(f->field, "concern.summary") == 0 &&
            f->start == start && f->end == end)
            found = 1;
    }
    cr_assert(
        found,
        "no %s finding on concern.summary at [%u,%u) among %zu findings (first: %s %s [%u,%u))",
        kind, start, end, r->n_findings, r->n_findings ? r->findings[0]->kind : "",
        r->n_findings && r->findings[0]->field ? r->findings[0]->field : "",
        r->n_findings ? r->findings[0]->start : 0, r->n_findings ? r->findings[0]->end : 0);
    tn_client_reply_free(&r);
}

Test(agency, identifying_text_is_refused_at_publish_and_never_queued)
{
    h_agency_t *as = s_up(S);
    tn_client_t *school = s_client(as);
    const char *names[] = { "Peregrine Quillfeather", "mother: Wilhelmina Quillfeather" };
    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_register_identity(school, CASE, names, 2, &r, CALL_MS), 0);
    cr_assert_eq(r->code, 0, "%s", r->reason ? r->reason : "");
    tn_client_reply_free(&r);
    /* A relationship the register does not know: nothing registered, the reason said. */
    const char *typo[] = { "Ottoline Quillfeather", "muther:Ottoline Quillfeather" };
    cr_assert_eq(tn_client_register_identity(school, CASE, typo, 2, &r, CALL_MS), TACNET_EFIELD);
    cr_assert_eq(r->code, TACNET_EFIELD);
    cr_assert(r->reason && strstr(r->reason, "relationship"), "%s", r->reason);
    cr_assert_null(strstr(r->reason, "Ottoline"), "the name echoed");
    tn_client_reply_free(&r);
    /* The command line: roles as a prefix, old bare names still taken, a typo refused first. */
    char out[1024];
    cr_assert_eq(h_cli(as,
                       "register --case " CASE " 'child:Perpetua Quillfeather' "
                       "'Ambrose Quillfeather'",
                       out, sizeof(out)),
                 0, "%s", out);
    cr_assert_eq(
        h_cli(as, "register --case " CASE " 'chlid:Perpetua Quillfeather'", out, sizeof(out)), 2,
        "%s", out);
    cr_assert(strstr(out, "name 1:") && !strstr(out, "Perpetua"), "%s", out);
    uint64_t head = s_head();

    s_expect_text_refusal(school, "Seen with Peregrine Quillfeather at the gate.", "register_name",
                          10, 32);
    /* A name registered with its relationship is checked by the name alone. */
    s_expect_text_refusal(school, "Wilhelmina Quillfeather rang.", "register_name", 0, 23);
    s_expect_text_refusal(school, "Perpetua Quillfeather was late.", "register_name", 0, 21);
    s_expect_text_refusal(school, "GP gave NHS 943 476 5919 on the form.", "nhs_number", 12, 24);
    s_expect_text_refusal(school, "Moved to SW1A 1AA last week.", "postcode", 9, 17);

    h_sleep_ms(300);
    cr_assert_eq(s_head(), head, "a refused publish reached the broker");
    char buf[512];
    s_publish_ok(school, s_concern(buf, sizeof(buf), "Late most Mondays."), NULL);
    cr_assert_eq(s_wait_head(head + 1, 10000), head + 1);
    h_sleep_ms(300);
    cr_assert_eq(s_head(), head + 1, "more than the one accepted event reached the broker");
    tn_client_destroy(&school);
}

Test(agency, a_cli_publish_retried_with_its_request_key_is_sent_once)
{
    h_agency_t *as = s_up(S);
    uint64_t head = s_head();
    static const char args[] =
        "publish concern --case " CASE " --initials TB --request-key attend-2026-0042 "
        "--body '{\"category\":\"attendance\",\"summary\":\"Late most Mondays.\"}'";
    char first[1024], again[1024];
    cr_assert_eq(h_cli(as, args, first, sizeof(first)), 0, "%s", first);
    cr_assert(strncmp(first, "accepted ", 9) == 0, "%s", first);
    cr_assert_null(strstr(first, "already queued"), "%s", first);
    cr_assert_eq(h_cli(as, args, again, sizeof(again)), 0, "%s", again);
    /* The same msg_id and local seq, said to be the first publish's. */
    cr_assert_eq(strncmp(first, again, 9 + 32), 0, "%s / %s", first, again);
    cr_assert_not_null(strstr(again, "already queued under this request key"), "%s", again);
    cr_assert_eq(s_wait_head(head + 1, 10000), head + 1);
    h_sleep_ms(300);
    cr_assert_eq(s_head(), head + 1, "the retry reached the broker too");
    /* The same key on a different event is refused, naming the event it was used for; a retry
     * that waits differently is still the same request. */
    char other[1024];
    cr_assert_neq(h_cli(as,
                        "publish concern --case " CASE " --initials TB --request-key "
                        "attend-2026-0042 --body '{\"category\":\"attendance\",\"summary\":"
                        "\"Late on Fridays.\"}'",
                        other, sizeof(other)),
                  0, "%s", other);
    cr_assert_not_null(strstr(other, "E_EXISTS"), "%s", other);
    cr_assert_not_null(strstr(other, "used for a different event"), "%s", other);
    char id[33];
    memcpy(id, first + 9, 32);
    id[32] = 0;
    cr_assert_not_null(strstr(other, id), "the first event is not named: %s", other);
    char nowait[1200];
    snprintf(nowait, sizeof(nowait), "%s --no-wait", args);
    cr_assert_eq(h_cli(as, nowait, again, sizeof(again)), 0, "%s", again);
    cr_assert_not_null(strstr(again, "already queued under this request key"), "%s", again);
    h_sleep_ms(300);
    cr_assert_eq(s_head(), head + 1, "the other event reached the broker");
    /* A key over 64 bytes is refused with the daemon's reason, and nothing is sent. */
    char bad[1400], out[1024];
    snprintf(bad, sizeof(bad),
             "publish concern --case " CASE " --initials TB --request-key %065d "
             "--body '{\"category\":\"attendance\",\"summary\":\"Late again.\"}'",
             7);
    cr_assert_neq(h_cli(as, bad, out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "request_key must be 1-64 bytes"), "%s", out);
    cr_assert_not_null(strstr(out, "E_FIELD"), "%s", out);
    h_sleep_ms(300);
    cr_assert_eq(s_head(), head + 1, "a refused publish reached the broker");
}

static uint64_t s_next_local(tn_client_t *c)
{
    Tacnet__ApiReply *r = NULL;
    uint64_t after = 0;
    for (;;) {
        cr_assert_eq(tn_client_follow(c, after, 1000, &r, CALL_MS), 0);
        size_t got = r->follow->n_entries;
        after = r->follow->next_local_seq;
        tn_client_reply_free(&r);
        if (!got)
            return after;
    }
}

/* A publish made on another thread after a pause, while the test's own thread waits in a follow
 * (no assertions here: the test checks RC and MSG_ID after joining). */
typedef struct {
    const char *data_dir;
    int pause_ms, rc;
    uint8_t msg_id[16];
} late_publish_t;

static void *s_late_publish(void *arg)
{
    late_publish_t *lp = arg;
    h_sleep_ms(lp->pause_ms);
    int err = 0;
    tn_client_t *c = tn_client_new(lp->data_dir, &err);
    lp->rc = c ? TACNET_EIO : err;
    if (!c)
        return NULL;
    char buf[512];
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, s_concern(buf, sizeof(buf), "Late twice this week."));
    Tacnet__ApiReply *reply = NULL;
    lp->rc = tn_client_publish(c, req, &reply, CALL_MS);
    if (lp->rc == 0 && reply && reply->published && reply->published->msg_id.len == 16)
        memcpy(lp->msg_id, reply->published->msg_id.data, 16);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    tn_client_reply_free(&reply);
    tn_client_destroy(&c);
    return NULL;
}

Test(agency, a_follow_with_a_wait_answers_when_an_event_is_applied_or_at_its_deadline)
{
    h_agency_t *as = s_up(S);
    tn_client_t *school = s_client(as);
    uint64_t head = s_next_local(school);

    /* Nothing new: the reply comes at the deadline, empty, with the cursor unchanged. */
    Tacnet__ApiReply *r = NULL;
    uint64_t t0 = h_now_ms();
    cr_assert_eq(tn_client_follow_wait(school, head, 0, 400, &r, CALL_MS), 0);
    uint64_t took = h_now_ms() - t0;
    cr_assert_eq(r->result_case, TACNET__API_REPLY__RESULT_FOLLOW);
    cr_assert_eq(r->follow->n_entries, 0);
    cr_assert_eq(r->follow->next_local_seq, head);
    cr_assert(took >= 350 && took < 5000, "an empty wait of 400 ms took %llu ms",
              (unsigned long long)took);
    tn_client_reply_free(&r);

    /* An event applied during the wait ends it with that event, long before the deadline. */
    late_publish_t lp = { .data_dir = as->data, .pause_ms = 300 };
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, s_late_publish, &lp), 0);
    t0 = h_now_ms();
    int rc = tn_client_follow_wait(school, head, 0, 30000, &r, 40000);
    took = h_now_ms() - t0;
    pthread_join(th, NULL);
    cr_assert_eq(lp.rc, 0, "the publish on the other thread: %s", tacnet_errname(lp.rc));
    cr_assert_eq(rc, 0, "follow: %s", tacnet_errname(rc));
    cr_assert_geq(r->follow->n_entries, 1);
    const Tacnet__Header *h = r->follow->entries[r->follow->n_entries - 1]->header;
    cr_assert(h->msg_id.len == 16 && memcmp(h->msg_id.data, lp.msg_id, 16) == 0,
              "the reply does not carry the event published during the wait");
    cr_assert_gt(r->follow->next_local_seq, head);
    cr_assert(took >= 250 && took < 15000, "the wait ended after %llu ms",
              (unsigned long long)took);
    tn_client_reply_free(&r);

    /* Events already there: answered at once, as without a wait. */
    t0 = h_now_ms();
    cr_assert_eq(tn_client_follow_wait(school, head, 0, 30000, &r, CALL_MS), 0);
    cr_assert_geq(r->follow->n_entries, 1);
    cr_assert_lt(h_now_ms() - t0, 5000);
    tn_client_reply_free(&r);
    tn_client_destroy(&school);
}

/* A follow request with a wait, sent on DEALER socket S as a REQ would (empty delimiter). */
static void s_follow_wait_send(void *s, uint64_t id, uint64_t after, uint32_t wait_ms)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__FollowRequest fr = TACNET__FOLLOW_REQUEST__INIT;
    fr.after_local_seq = after;
    fr.has_wait_ms = 1;
    fr.wait_ms = wait_ms;
    req.id = id;
    req.op_case = TACNET__API_REQUEST__OP_FOLLOW;
    req.follow = &fr;
    uint8_t buf[64];
    size_t n = tacnet__api_request__pack(&req, buf);
    cr_assert_eq(zmq_send(s, "", 0, ZMQ_SNDMORE), 0);
    cr_assert_eq(zmq_send(s, buf, n, 0), (int)n);
}

/* The entries in the follow reply waiting on S within MS, or -1 when none came. */
static int s_follow_wait_recv(void *s, int ms)
{
    zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&it, 1, ms) <= 0)
        return -1;
    zmq_msg_t m;
    zmq_msg_init(&m);
    cr_assert_eq(zmq_msg_recv(&m, s, 0), 0, "no empty delimiter");
    zmq_msg_close(&m);
    zmq_msg_init(&m);
    cr_assert_geq(zmq_msg_recv(&m, s, 0), 0);
    Tacnet__ApiReply *r = tacnet__api_reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    zmq_msg_close(&m);
    cr_assert_not_null(r);
    cr_assert_eq(r->code, 0);
    cr_assert_eq(r->result_case, TACNET__API_REPLY__RESULT_FOLLOW);
    int n = (int)r->follow->n_entries;
    tacnet__api_reply__free_unpacked(r, NULL);
    return n;
}

Test(agency, held_follows_are_bounded_and_all_answered_by_the_next_event)
{
    enum { N = AGENCY_FOLLOW_MAX_WAITS + 1 };
    h_agency_t *as = s_up(S);
    tn_client_t *school = s_client(as);
    uint64_t head = s_next_local(school);
    void *ctx = zmq_ctx_new();
    static void *socks[N];
    char ep[700];
    snprintf(ep, sizeof(ep), "ipc://%s/api.sock", as->data);
    for (int i = 0; i < N; i++) {
        socks[i] = zmq_socket(ctx, ZMQ_DEALER);
        int zero = 0;
        zmq_setsockopt(socks[i], ZMQ_LINGER, &zero, sizeof(zero));
        cr_assert_eq(zmq_connect(socks[i], ep), 0);
    }
    /* One at a time, so the daemon has held each before the next arrives. */
    for (int i = 0; i < AGENCY_FOLLOW_MAX_WAITS; i++) {
        s_follow_wait_send(socks[i], (uint64_t)i + 1, head, 20000);
        if (i % 64 == 63)
            h_sleep_ms(50);
    }
    h_sleep_ms(300);
    /* One more than the daemon holds: answered at once, with nothing. */
    s_follow_wait_send(socks[N - 1], N, head, 20000);
    cr_assert_eq(s_follow_wait_recv(socks[N - 1], 3000), 0, "the follow past the bound was held");
    for (int i = 0; i < AGENCY_FOLLOW_MAX_WAITS; i++)
        cr_assert_eq(s_follow_wait_recv(socks[i], 0), -1, "held follow %d answered early", i);
    /* The daemon still serves other requests meanwhile. */
    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_cases(school, &r, CALL_MS), 0);
    tn_client_reply_free(&r);
    /* One event applied: every held follow is answered with it. */
    char buf[512];
    s_publish_ok(school, s_concern(buf, sizeof(buf), "Late on Tuesday."), NULL);
    for (int i = 0; i < AGENCY_FOLLOW_MAX_WAITS; i++)
        cr_assert_geq(s_follow_wait_recv(socks[i], 10000), 1, "held follow %d: no event", i);
    for (int i = 0; i < N; i++)
        zmq_close(socks[i]);
    zmq_ctx_term(ctx);
    tn_client_destroy(&school);
}

static const struct {
    uint32_t agency;
    const char *good, *bad;
    size_t n;
    unsigned lines[4];
} s_files[] = {
    { S,
      "deploy/examples/school-attendance.csv",
      "tests/data/intake/school-attendance-bad.csv",
      3,
      { 4, 5, 6, 8 } },
    { S,
      "deploy/examples/school-concerns.csv",
      "tests/data/intake/school-concerns-bad.csv",
      3,
      { 3, 4, 5, 6 } },
    { CA,
      "deploy/examples/camhs-capa.csv",
      "tests/data/intake/camhs-capa-bad.csv",
      8,
      { 3, 4, 6, 8 } },
    { HV,
      "deploy/examples/hv-contacts.csv",
      "tests/data/intake/hv-contacts-bad.csv",
      5,
      { 4, 5, 7, 8 } },
    { SC,
      "deploy/examples/social-care-records.csv",
      "tests/data/intake/social-care-records-bad.csv",
      7,
      { 3, 4, 7, 9 } },
};

/* The malformed file is refused whole (errors name its lines, nothing reaches the view or the
 * broker); the example file then imports with one msg_id per event and all of them reach the
 * broker. Each file gets a fresh partnership: the examples share case references across
 * agencies, and a case another agency opened is not this one's to write to. */
static void s_import_pair(size_t i)
{
    h_agency_t *a = s_up(s_files[i].agency);
    tn_client_t *c = s_client(a);
    const char *src = getenv("TACNET_SRC") ? getenv("TACNET_SRC") : ".";
    char path[1024];
    Tacnet__ApiReply *r = NULL;

    uint64_t head = s_head(), local = s_next_local(c), grants = s_status_number("grants");
    snprintf(path, sizeof(path), "%s/%s", src, s_files[i].bad);
    int rc = tn_client_import(c, path, &r, CALL_MS);
    cr_assert_eq(rc, TACNET_EIMPORT, "%s: %s", s_files[i].bad, tacnet_errname(rc));
    cr_assert_not_null(r->imported, "%s: no import reply", s_files[i].bad);
    cr_assert_eq(r->imported->n_msg_ids, 0);
    for (size_t k = 0; k < 4; k++) {
        char needle[32];
        snprintf(needle, sizeof(needle), "line %u:", s_files[i].lines[k]);
        int found = 0;
        for (size_t e = 0; e < r->imported->n_errors; e++)
            found |= strncmp(r->imported->errors[e], needle, strlen(needle)) == 0;
        cr_expect(found, "%s: no error for %s", s_files[i].bad, needle);
    }
    tn_client_reply_free(&r);
    h_sleep_ms(300);
    cr_assert_eq(s_head(), head, "%s: the broker's head moved", s_files[i].bad);
    cr_assert_eq(s_next_local(c), local, "%s: events appeared in the view", s_files[i].bad);

    snprintf(path, sizeof(path), "%s/%s", src, s_files[i].good);
    rc = tn_client_import(c, path, &r, CALL_MS);
    cr_assert_eq(rc, 0, "%s: %s (%s; first error: %s)", s_files[i].good, tacnet_errname(rc),
                 r && r->reason ? r->reason : "",
                 r && r->imported && r->imported->n_errors ? r->imported->errors[0] : "");
    cr_assert_eq(r->imported->n_msg_ids, s_files[i].n, "%s: %zu msg_ids, expected %zu",
                 s_files[i].good, r->imported->n_msg_ids, s_files[i].n);
    tn_client_reply_free(&r);
    cr_assert_geq(s_wait_head(head + s_files[i].n, 10000), head + s_files[i].n,
                  "%s did not all reach the broker", s_files[i].good);
    h_sleep_ms(300);
    /* Each row once; a referral in the file also journals this agency's grants of the case's
     * history to the agency referred to (history on joining), which take seqs of their own. */
    cr_assert_eq(s_head(), head + s_files[i].n + (s_status_number("grants") - grants));
    cr_assert(!h_file_contains(a->log, "broker refused"), "%s: the broker refused rows",
              s_files[i].good);
    tn_client_destroy(&c);
}

Test(agency, school_attendance_file_imports_whole_or_not_at_all)
{
    s_import_pair(0);
}

Test(agency, school_concerns_file_imports_whole_or_not_at_all)
{
    s_import_pair(1);
}

Test(agency, camhs_capa_file_imports_whole_or_not_at_all)
{
    s_import_pair(2);
}

Test(agency, hv_contacts_file_imports_whole_or_not_at_all)
{
    s_import_pair(3);
}

Test(agency, social_care_records_file_imports_whole_or_not_at_all)
{
    s_import_pair(4);
}

#define N_CRASH 30

/* Publish up to N concerns as fast as the API answers; stop at the first call with no answer.
 * Returns how many were accepted (their msg_ids in IDS). */
static size_t s_publish_burst(tn_client_t *c, size_t n, uint8_t (*ids)[16], int timeout_ms)
{
    char buf[512], summary[64];
    size_t k = 0;
    for (; k < n; k++) {
        snprintf(summary, sizeof(summary), "Burst event %zu.", k);
        s_concern(buf, sizeof(buf), summary);
        json_t *j = json_loads(buf, 0, NULL);
        Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_to_message(
            &tacnet__publish_request__descriptor, j, NULL, 0);
        json_decref(j);
        cr_assert_not_null(req);
        Tacnet__ApiReply *r = NULL;
        int rc = tn_client_publish(c, req, &r, timeout_ms);
        protobuf_c_message_free_unpacked(&req->base, NULL);
        if (!r)
            break;
        cr_assert_eq(rc, 0, "burst publish %zu: %s", k, tacnet_errname(rc));
        memcpy(ids[k], r->published->msg_id.data, 16);
        tn_client_reply_free(&r);
    }
    return k;
}

static void s_assert_once(const unsigned *counts, size_t n)
{
    for (size_t k = 0; k < n; k++)
        cr_assert_eq(counts[k], 1, "event %zu applied %u times", k, counts[k]);
}

Test(agency, publisher_killed_before_puback_commit_loses_and_repeats_nothing)
{
    h_agency_t *as = s_up(S), *asc = s_up(SC);
    tn_client_t *school = s_client(as), *sc = s_client(asc);
    s_refer(school, sc);
    tn_client_destroy(&school);

    /* The fault kills the school at its fifth PUBACK: events before it are settled, the rest
     * are in the outbox (some sent, unacknowledged). */
    h_agency_signal_wait(as, SIGTERM);
    cr_assert_eq(h_agency_start(as, "agency.before_puback_commit:5"), 0);
    school = s_client(as);
    static uint8_t ids[2 * N_CRASH][16];
    size_t n = s_publish_burst(school, N_CRASH, ids, 2000);
    int st = h_agency_wait_exit(as, 10000);
    cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
              "school was not killed by the fault (%d)", st);
    cr_assert_geq(n, 5);
    tn_client_destroy(&school);

    /* And a plain SIGKILL right after the API has answered. */
    cr_assert_eq(h_agency_start(as, NULL), 0);
    school = s_client(as);
    size_t m = s_publish_burst(school, N_CRASH, ids + n, CALL_MS);
    cr_assert_eq(m, N_CRASH);
    h_agency_signal_wait(as, SIGKILL);
    tn_client_destroy(&school);

    cr_assert_eq(h_agency_start(as, NULL), 0);
    unsigned counts[2 * N_CRASH];
    s_wait_all(sc, (const uint8_t(*)[16])ids, n + m, counts, 20000);
    h_sleep_ms(500);
    s_follow_all(sc, (const uint8_t(*)[16])ids, n + m, counts);
    s_assert_once(counts, n + m);
    tn_client_destroy(&sc);
}

Test(agency, recipient_killed_mid_apply_applies_once_and_misses_nothing)
{
    h_agency_t *as = s_up(S), *asc = s_up(SC);
    tn_client_t *school = s_client(as), *sc = s_client(asc);
    s_refer(school, sc);
    tn_client_destroy(&sc);

    static const char *faults[] = { "agency.before_apply_commit", "agency.before_ack" };
    static uint8_t ids[2 * N_CRASH][16];
    size_t n = 0;
    for (size_t f = 0; f < 2; f++) {
        h_agency_signal_wait(asc, SIGTERM);
        cr_assert_eq(h_agency_start(asc, faults[f]), 0);
        size_t got = s_publish_burst(school, N_CRASH, ids + n, CALL_MS);
        cr_assert_eq(got, N_CRASH);
        n += got;
        int st = h_agency_wait_exit(asc, 10000);
        cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
                  "social care was not killed at %s (%d)", faults[f], st);
    }
    cr_assert_eq(h_agency_start(asc, NULL), 0);
    sc = s_client(asc);
    unsigned counts[2 * N_CRASH];
    s_wait_all(sc, (const uint8_t(*)[16])ids, n, counts, 20000);
    h_sleep_ms(500);
    s_follow_all(sc, (const uint8_t(*)[16])ids, n, counts);
    s_assert_once(counts, n);
    tn_client_destroy(&sc);
    tn_client_destroy(&school);
}

#define N_CATCHUP 10000

Test(agency, offline_recipient_catches_up_ten_thousand_events, .timeout = 240)
{
    h_agency_t *as = s_up(S), *asc = s_up(SC);
    tn_client_t *school = s_client(as), *sc = s_client(asc);
    s_refer(school, sc);
    tn_client_destroy(&sc);
    size_t before = 0;
    {
        tn_client_t *c = s_client(asc);
        before = s_follow_all(c, NULL, 0, NULL);
        tn_client_destroy(&c);
    }
    h_agency_signal_wait(asc, SIGTERM);

    uint8_t(*ids)[16] = calloc(N_CATCHUP, 16);
    uint64_t head0 = s_head();
    cr_assert_eq(s_publish_burst(school, N_CATCHUP, ids, CALL_MS), N_CATCHUP);
    /* At least: the broker's delivery reports on the referral's events may land meanwhile. */
    cr_assert_geq(s_wait_head(head0 + N_CATCHUP, 60000), head0 + N_CATCHUP);

    cr_assert_eq(h_agency_start(asc, NULL), 0);
    sc = s_client(asc);
    uint64_t deadline = h_now_ms() + 90000;
    size_t total;
    while ((total = s_follow_all(sc, NULL, 0, NULL)) < before + N_CATCHUP && h_now_ms() < deadline)
        h_sleep_ms(200);
    cr_assert_eq(total, before + N_CATCHUP, "social care has %zu events, expected %zu", total,
                 before + (size_t)N_CATCHUP);
    unsigned *counts = calloc(N_CATCHUP, sizeof(*counts));
    s_follow_all(sc, (const uint8_t(*)[16])ids, N_CATCHUP, counts);
    s_assert_once(counts, N_CATCHUP);
    free(counts);
    free(ids);
    tn_client_destroy(&sc);
    tn_client_destroy(&school);
}

Test(agency, quarantined_incoming_event_is_not_applied_and_is_audited)
{
    h_agency_t *as = s_up(S), *asc = s_up(SC);
    tn_client_t *school = s_client(as), *sc = s_client(asc);
    s_refer(school, sc);
    tn_client_destroy(&school);
    h_agency_signal_wait(as, SIGTERM);

    /* As the school, but past its daemon's text check: a correctly sealed event with an NHS
     * number in its free text. */
    h_client_t *raw = h_connect(&env, S);
    cr_assert_eq(h_hello(raw, 0, 16, NULL), 0);
    h_pub_t p = { 0 };
    h_pub_init(&p, S, TACNET__EVENT_KIND__CONCERN, CASE, 1000);
    h_pub_initials(&p, "TB");
    uint32_t rcpt[] = { S, SC };
    h_pub_rcpt(&p, 2, rcpt);
    h_pub_seal(&env, &p, S, "NHS number 943 476 5919 was on the letter.", NULL, 0);
    cr_assert_eq(h_publish(raw, &p, NULL), 0, "the broker refused the raw event");

    uint64_t deadline = h_now_ms() + 10000;
    char line[128];
    snprintf(line, sizeof(line), "quarantined event");
    while (!h_file_contains(asc->log, line) && h_now_ms() < deadline)
        h_sleep_ms(20);
    cr_assert(h_file_contains(asc->log, line), "social care log does not report the quarantine");
    cr_assert_eq(s_in_case(sc, CASE, p.msg_id), 0, "a quarantined event was applied");
    h_pub_free(&p);
    tn_client_destroy(&sc);
    h_agency_signal_wait(asc, SIGTERM);

    char cmd[2048], out[600];
    snprintf(out, sizeof(out), "%s/audit.json", env.dir);
    const char *bin = getenv("TACNET_BIN");
    snprintf(cmd, sizeof(cmd), "'%s/tacnet' audit verify '%s' --json > '%s' 2>&1",
             bin ? bin : "build/default/bin", asc->data, out);
    cr_assert_eq(system(cmd), 0, "tacnet audit verify failed (%s)", out);
    cr_assert(h_file_contains(out, "\"ok\":true"), "audit chain not OK (%s)", out);
    /* Audit records are kept in clear (they hold no free text), so the action is visible. */
    snprintf(out, sizeof(out), "%s/data.mdb", asc->data);
    cr_assert(h_file_contains(out, "deliver.quarantine"), "no deliver.quarantine audit record");
}

/* Issue 22: an import's rows leave the daemon in one send turn, signed once over a Merkle root,
 * and the broker checks that root's signature once for the whole turn (the others hash their
 * paths). The broker reports its counts when it stops. */
Test(agency, an_imported_file_leaves_in_one_signed_turn_and_the_broker_verifies_it_once)
{
    s_import_pair(1);
    h_broker_signal_wait(&env, SIGTERM);
    FILE *f = fopen(env.log, "r");
    cr_assert_not_null(f);
    char line[512];
    unsigned long long roots = 0, hits = 0;
    int found = 0;
    while (fgets(line, sizeof(line), f)) {
        const char *at = strstr(line, "batched signatures: ");
        if (at)
            found = sscanf(at, "batched signatures: %llu roots verified, %llu events", &roots,
                           &hits) == 2;
    }
    fclose(f);
    cr_assert(found, "the broker did not report its batched signatures");
    cr_assert_geq(roots, 1, "no batch root verified");
    /* Every row was in a turn of two or more: each is a root checked or a root found. */
    cr_assert_geq((long long)(roots + hits), (long long)s_files[1].n,
                  "%llu roots and %llu events without a check of their own for %zu rows", roots,
                  hits, s_files[1].n);
}

/* A retry under the same request key says who receives the event, as the first answer did: the
 * CLI's text and the local API's reply (what the HTTP API answers from) name the recipients. */
Test(agency, a_retried_publish_names_the_first_publish_s_recipients)
{
    h_agency_t *as = s_up(S), *asc = s_up(SC);
    tn_client_t *school = s_client(as), *sc = s_client(asc);
    s_refer(school, sc);
    static const char args[] =
        "publish concern --case " CASE " --initials TB --request-key retry-recipients-1 "
        "--body '{\"category\":\"attendance\",\"summary\":\"Late on Tuesdays.\"}'";
    char first[1024], again[1024];
    cr_assert_eq(h_cli(as, args, first, sizeof(first)), 0, "%s", first);
    cr_assert_not_null(strstr(first, "shared with social_care"), "%s", first);
    cr_assert_eq(h_cli(as, args, again, sizeof(again)), 0, "%s", again);
    cr_assert_not_null(strstr(again, "already queued under this request key"), "%s", again);
    cr_assert_not_null(strstr(again, "shared with social_care"), "%s", again);
    cr_assert_null(strstr(again, "no other agency receives it"), "%s", again);
    /* The local API's duplicate reply, without a wait. */
    char nowait[1200];
    snprintf(nowait, sizeof(nowait), "%s --no-wait", args);
    cr_assert_eq(h_cli(as, nowait, again, sizeof(again)), 0, "%s", again);
    cr_assert_not_null(strstr(again, "shared with social_care"), "%s", again);
    snprintf(nowait, sizeof(nowait), "--json %s --no-wait", args);
    cr_assert_eq(h_cli(as, nowait, again, sizeof(again)), 0, "%s", again);
    cr_assert(strstr(again, "\"duplicate\"") && strstr(again, "social_care"), "%s", again);
    tn_client_destroy(&school);
    tn_client_destroy(&sc);
}
