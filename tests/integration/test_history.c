/* History on joining: an agency that joins a case late is granted the earlier events the sharing
 * policy lets it see, and ends up holding what a member from the start holds. The real broker
 * and agency daemons on loopback, driven through libtacnet-client; the broker's refusals of
 * forged grants through the raw protocol; crashes of the broker and of a granter by their fault
 * points (broker.after_grant_commit, agency.before_grant_settle). */
#include "harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "err.h"
#include "grant.h"

#include "client/client.h"
#include "pbjson.h"
#include "pbjson_fixture.h"

#define S       TACNET__AGENCY__SCHOOL
#define SC      TACNET__AGENCY__SOCIAL_CARE
#define CA      TACNET__AGENCY__CAMHS
#define HV      TACNET__AGENCY__HEALTH_VISITING
#define EARLY   "LA7-2026-000201"
#define LATE    "LA7-2026-000202"
#define CALL_MS 10000

/* The fault points this file arms (T03 in tests/reliability/test_rel_crash.c checks it does). */
#define GRANT_COMMIT_POINT "broker.after_grant_commit"
#define GRANT_SETTLE_POINT "agency.before_grant_settle"

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

TestSuite(history, .init = setup, .fini = teardown, .timeout = 180);

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

/* Publish the PublishRequest JSON TEMPLATE on CASE_REF (it stands where the template says
 * "@CASE@"); the msg_id into MSG_ID (may be NULL). */
static void s_pub(tn_client_t *c, const char *case_ref, const char *template, uint8_t *msg_id)
{
    char json[2048];
    const char *at = strstr(template, "@CASE@");
    cr_assert_not_null(at);
    snprintf(json, sizeof(json), "%.*s%s%s", (int)(at - template), template, case_ref,
             at + strlen("@CASE@"));
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, json);
    Tacnet__ApiReply *r = NULL;
    int rc = tn_client_publish(c, req, &r, CALL_MS);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    cr_assert_not_null(r, "no reply: %s", tacnet_errname(rc));
    cr_assert_eq(rc, 0, "publish refused: %s (%s) for %s", tacnet_errname(rc),
                 r->reason ? r->reason : "", json);
    if (msg_id)
        memcpy(msg_id, r->published->msg_id.data, 16);
    tn_client_reply_free(&r);
}

#define HEAD "{\"case_ref\":\"@CASE@\",\"initials\":\"TB\","
#define CONCERN_1                                                                               \
    HEAD "\"kind\":\"concern\",\"body\":{\"concern\":{\"category\":\"attendance\",\"summary\":" \
         "\"Missed two appointments.\"}}}"
#define CONSENT                                                                               \
    HEAD "\"kind\":\"consent_recorded\",\"body\":{\"consent_recorded\":{\"state\":\"given\"," \
         "\"scope\":[\"routine\",\"health\",\"safeguarding\"],\"given_by\":\"mother\","       \
         "\"recorded_date\":\"2026-11-03\"}}}"
#define REFERRAL                                                                              \
    HEAD "\"kind\":\"referral\",\"subject_agency\":\"social_care\",\"body\":{\"referral\":{"  \
         "\"to_agency\":\"social_care\",\"category\":\"neglect\",\"summary\":\"Low mood and " \
         "hunger at weekends.\",\"family_aware\":true,\"consent_obtained\":true,"             \
         "\"referred_date\":\"2026-11-05\"}}}"
#define HEALTH_ASSESSMENT                                                                    \
    HEAD "\"kind\":\"assessment\",\"sensitivity\":\"health\",\"level_of_need\":2,\"body\":{" \
         "\"assessment\":{\"type\":\"capa_choice\",\"level_of_need\":2,\"summary\":\"Low "   \
         "mood; sleep poor.\",\"completed_date\":\"2026-11-16\"}}}"
#define CONCERN_2                                                                   \
    HEAD "\"kind\":\"concern\",\"sensitivity\":\"routine\",\"body\":{\"concern\":{" \
         "\"category\":\"attendance\",\"summary\":\"Late on three Mondays.\"}}}"
#define SC_ASSESSMENT                                                                        \
    HEAD "\"kind\":\"assessment\",\"level_of_need\":2,\"body\":{\"assessment\":{\"type\":"   \
         "\"child_and_family\",\"level_of_need\":2,\"summary\":\"Early help with a team.\"," \
         "\"completed_date\":\"2026-11-12\"}}}"
#define JOIN(who)                                                                            \
    HEAD "\"kind\":\"member_joined\",\"subject_agency\":\"" who "\",\"body\":{"              \
         "\"member_joined\":{\"named_contact\":{\"agency\":\"" who "\",\"initials\":\"RK\"," \
         "\"role\":\"practitioner\"}}}}"

/* The case's content before and after the team forms: CAMHS opens it (and so leads it) and
 * refers to social care, which brings in the school and health visiting, early or late. */
typedef struct story {
    uint8_t concern1[16], consent[16], referral[16], health[16], concern2[16], sc_assess[16];
    uint8_t join_school[16], join_hv[16];
} story_t;

static void s_opening(tn_client_t *camhs, tn_client_t *sc, h_agency_t *asc, const char *ref,
                      story_t *st)
{
    s_pub(camhs, ref, CONCERN_1, st->concern1);
    s_pub(camhs, ref, CONSENT, st->consent);
    s_pub(camhs, ref, REFERRAL, st->referral);
    /* Social care publishes once its view holds the referral that made it a member. */
    char out[256], cmd[128];
    snprintf(cmd, sizeof(cmd), "case %s", ref);
    for (int i = 0; i < 200 && h_cli(asc, cmd, out, sizeof(out)) != 0; i++)
        h_sleep_ms(50);
    (void)sc;
}

static void s_content(tn_client_t *camhs, tn_client_t *sc, const char *ref, story_t *st)
{
    s_pub(camhs, ref, HEALTH_ASSESSMENT, st->health);
    s_pub(camhs, ref, CONCERN_2, st->concern2);
    s_pub(sc, ref, SC_ASSESSMENT, st->sc_assess);
}

/* BY (CAMHS early, social care late) brings in the school and health visiting. */
static void s_joins(tn_client_t *by, const char *ref, story_t *st)
{
    s_pub(by, ref, JOIN("school"), st->join_school);
    s_pub(by, ref, JOIN("health_visiting"), st->join_hv);
}

/* The case as C's view shows it (NULL when unknown there). */
static Tacnet__ApiReply *s_show(tn_client_t *c, const char *ref)
{
    Tacnet__ApiReply *r = NULL;
    if (tn_client_case(c, ref, &r, CALL_MS) != 0 || !r->show_case) {
        tn_client_reply_free(&r);
        return NULL;
    }
    return r;
}

/* How often MSG_ID is in the timeline of R. */
static int s_count(const Tacnet__ApiReply *r, const uint8_t *msg_id)
{
    int n = 0;
    for (size_t i = 0; r && i < r->show_case->n_timeline; i++) {
        const Tacnet__Header *h = r->show_case->timeline[i]->header;
        n += memcmp(h->msg_id.data, msg_id, 16) == 0;
    }
    return n;
}

/* Wait until C's view of REF holds WANT events and has no history pending. */
static Tacnet__ApiReply *s_wait_settled(tn_client_t *c, const char *ref, size_t want, int ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    for (;;) {
        Tacnet__ApiReply *r = s_show(c, ref);
        if (r && r->show_case->n_timeline >= want && r->show_case->summary->n_history_pending == 0)
            return r;
        size_t have = r ? r->show_case->n_timeline : 0;
        char seen[512] = "";
        for (size_t i = 0; i < have; i++) {
            const Tacnet__Header *h = r->show_case->timeline[i]->header;
            size_t len = strlen(seen);
            snprintf(seen + len, sizeof(seen) - len, " %d/%d", h->sender, h->kind);
        }
        size_t pending = r ? r->show_case->summary->n_history_pending : 0;
        tn_client_reply_free(&r);
        cr_assert(h_now_ms() < deadline, "%s: %zu of %zu events (%s), %zu pending", ref, have, want,
                  seen, pending);
        h_sleep_ms(50);
    }
}

/* An event's content, whatever its msg_id: sender, kind, class and summary. */
static void s_fingerprint(const Tacnet__TimelineEntry *e, char *out, size_t cap)
{
    const Tacnet__Body *b = e->body;
    const char *summary = "";
    if (b && b->event_case == TACNET__BODY__EVENT_CONCERN)
        summary = b->concern->summary;
    else if (b && b->event_case == TACNET__BODY__EVENT_ASSESSMENT)
        summary = b->assessment->summary;
    else if (b && b->event_case == TACNET__BODY__EVENT_REFERRAL)
        summary = b->referral->summary;
    snprintf(out, cap, "%d/%d/%d/%s", e->header->sender, e->header->kind, e->header->sensitivity,
             summary ? summary : "");
}

/* The content events of R (not joins, not broker notices), fingerprinted, in case order. */
static size_t s_contents(const Tacnet__ApiReply *r, char (*out)[160], size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < r->show_case->n_timeline && n < cap; i++) {
        const Tacnet__TimelineEntry *e = r->show_case->timeline[i];
        if (e->header->kind == TACNET__EVENT_KIND__MEMBER_JOINED ||
            e->header->sender == TACNET__AGENCY__BROKER)
            continue;
        s_fingerprint(e, out[n++], sizeof(out[0]));
    }
    return n;
}

static int s_strcmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

Test(history, a_late_member_holds_what_an_early_one_holds_but_what_its_class_withholds)
{
    h_agency_t *aca = s_up(CA), *asc = s_up(SC), *as = s_up(S), *ahv = s_up(HV);
    tn_client_t *camhs = s_client(aca), *sc = s_client(asc), *school = s_client(as),
                *hv = s_client(ahv);
    story_t early, late;
    /* EARLY: the school and health visiting join as soon as CAMHS has opened the case and
     * recorded consent (those two are all they are granted); LATE: they join once everything
     * has happened. */
    s_pub(camhs, EARLY, CONCERN_1, early.concern1);
    s_pub(camhs, EARLY, CONSENT, early.consent);
    s_joins(camhs, EARLY, &early);
    s_pub(camhs, EARLY, REFERRAL, early.referral);
    char out[256];
    for (int i = 0; i < 200 && h_cli(asc, "case " EARLY, out, sizeof(out)) != 0; i++)
        h_sleep_ms(50);
    s_content(camhs, sc, EARLY, &early);
    /* LATE: the same content, then they join. */
    s_opening(camhs, sc, asc, LATE, &late);
    s_content(camhs, sc, LATE, &late);
    s_joins(sc, LATE, &late);

    struct {
        tn_client_t *c;
        const char *name;
        int sees_health;
    } who[] = { { school, "school", 0 }, { hv, "health visiting", 1 } };
    for (size_t w = 0; w < 2; w++) {
        /* Joins and content: 8 events, less the two HEALTH-class ones the school may not see
         * (CAMHS's referral and assessment are clinical records). */
        size_t want = who[w].sees_health ? 8 : 6;
        Tacnet__ApiReply *e = s_wait_settled(who[w].c, EARLY, want, 20000);
        Tacnet__ApiReply *l = s_wait_settled(who[w].c, LATE, want, 20000);
        char ec[16][160], lc[16][160];
        size_t ne = s_contents(e, ec, 16), nl = s_contents(l, lc, 16);
        cr_assert_eq(nl, ne, "%s: %zu content events joining late, %zu from the start", who[w].name,
                     nl, ne);
        /* The same events, whatever order the broker took different senders' in... */
        qsort(ec, ne, sizeof(ec[0]), s_strcmp);
        qsort(lc, nl, sizeof(lc[0]), s_strcmp);
        for (size_t i = 0; i < ne; i++)
            cr_assert_str_eq(lc[i], ec[i], "%s: event %zu differs (late %s, early %s)", who[w].name,
                             i, lc[i], ec[i]);
        /* ... and the late view in case order, history included. */
        for (size_t i = 1; i < l->show_case->n_timeline; i++)
            cr_assert_lt(l->show_case->timeline[i - 1]->case_seq,
                         l->show_case->timeline[i]->case_seq, "%s: entry %zu out of case order",
                         who[w].name, i);
        /* Each once, the withheld class withheld, and what came before the join is history. */
        const uint8_t *before[] = { late.concern1, late.consent,  late.referral,
                                    late.health,   late.concern2, late.sc_assess };
        for (size_t i = 0; i < 6; i++) {
            int health = before[i] == late.health || before[i] == late.referral;
            int expect = health && !who[w].sees_health ? 0 : 1;
            cr_assert_eq(s_count(l, before[i]), expect, "%s: event %zu held %d times", who[w].name,
                         i, s_count(l, before[i]));
        }
        for (size_t i = 0; i < l->show_case->n_timeline; i++) {
            const Tacnet__TimelineEntry *t = l->show_case->timeline[i];
            int joined = memcmp(t->header->msg_id.data, late.join_school, 16) == 0 ||
                         memcmp(t->header->msg_id.data, late.join_hv, 16) == 0;
            if (joined)
                continue;
            cr_assert(t->has_history && t->history, "%s: entry %zu not marked as history",
                      who[w].name, i);
            cr_assert(t->has_granted_by && (t->granted_by == (Tacnet__Agency)t->header->sender ||
                                            t->granted_by == CA),
                      "%s: entry %zu granted by %d", who[w].name, i, t->granted_by);
        }
        /* The late view's team and consent agree with the early one's. */
        cr_assert_eq(l->show_case->summary->n_members, e->show_case->summary->n_members);
        cr_assert_eq(l->show_case->summary->lead, e->show_case->summary->lead);
        tn_client_reply_free(&e);
        tn_client_reply_free(&l);
    }
    /* The partnership's figures read past the grants in the journal (history repeats events
     * already counted): two cases, so "<5", and no read error. */
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "%s/tacnet broker report --data-dir %s > %s/report.txt 2>&1",
             getenv("TACNET_BIN"), env.data, env.dir);
    int st = system(cmd);
    snprintf(cmd, sizeof(cmd), "%s/report.txt", env.dir);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "broker report exit %d", st);
    cr_assert(h_file_contains(cmd, "cases <5, closed <5"), "report in %s", cmd);
    tn_client_destroy(&camhs);
    tn_client_destroy(&sc);
    tn_client_destroy(&school);
    tn_client_destroy(&hv);
}

/* ---------------------------------------------------------------- refusals, raw protocol */

/* A grant of MSG_ID from GRANTER to GRANTEE, signed by GRANTER's key over a zero digest (the
 * broker checks membership and policy before the signature, so a refusal on those grounds is
 * not the signature's). Sent and answered: returns the GRANTACK's code. */
static int s_raw_grant(uint32_t granter, uint32_t grantee, const uint8_t *msg_id)
{
    h_client_t *c = h_connect(&env, granter);
    uint8_t nonce[24] = { 1 }, wrap[48] = { 2 }, sig[64], digest[32] = { 0 };
    Tacnet__Grant g = TACNET__GRANT__INIT;
    g.msg_id.data = (uint8_t *)msg_id;
    g.msg_id.len = 16;
    g.grantee = (Tacnet__Agency)grantee;
    g.grantee_key_id = env.keys[grantee]->key_id;
    g.granter = (Tacnet__Agency)granter;
    g.granter_key_id = env.keys[granter]->key_id;
    g.has_wrap_nonce = g.has_wrap = 1;
    g.wrap_nonce = (ProtobufCBinaryData){ sizeof(nonce), nonce };
    g.wrap = (ProtobufCBinaryData){ sizeof(wrap), wrap };
    g.sig = (ProtobufCBinaryData){ sizeof(sig), sig };
    cr_assert_eq(grant_sign(env.seal[granter], &g, digest), 0);
    cr_assert_eq(wire_send(c->sock, NULL, 0, WIRE_GRANT, &g.base, NULL, 0, NULL, 0, NULL), 0);
    uint64_t deadline = h_now_ms() + 5000;
    int code = 1;
    while (code == 1 && h_now_ms() < deadline) {
        wire_msg_t m;
        memset(&m, 0, sizeof(m));
        if (h_recv(c, 500, &m) == 0 && m.cmd == WIRE_GRANTACK) {
            int err = 0;
            Tacnet__GrantAck *a =
                (Tacnet__GrantAck *)wire_ctl_unpack(WIRE_GRANTACK, m.ctl, m.ctl_len, &err);
            cr_assert_not_null(a);
            code = a->code;
            wire_free(&a->base);
        }
        wire_msg_clear(&m);
    }
    h_close(&c);
    cr_assert_neq(code, 1, "no GRANTACK");
    return code;
}

Test(history, grants_the_policy_or_the_granter_s_role_does_not_allow_are_refused)
{
    h_agency_t *aca = s_up(CA), *asc = s_up(SC), *as = s_up(S), *ahv = s_up(HV);
    tn_client_t *camhs = s_client(aca), *sc = s_client(asc), *school = s_client(as);
    story_t late;
    s_opening(camhs, sc, asc, LATE, &late);
    s_content(camhs, sc, LATE, &late);
    s_joins(sc, LATE, &late);
    Tacnet__ApiReply *r = s_wait_settled(school, LATE, 6, 20000);
    tn_client_reply_free(&r);
    /* CAMHS's health assessment: the class is withheld from the school, whoever grants it. */
    int rc = s_raw_grant(CA, S, late.health);
    cr_assert_eq(rc, TACNET_ECONSENT, "grant of a HEALTH event to the school: %s",
                 tacnet_errname(rc));
    /* Social care neither sent CAMHS's concern nor leads the case (CAMHS opened it). */
    rc = s_raw_grant(SC, S, late.concern2);
    cr_assert_eq(rc, TACNET_EGRANT, "grant by a non-sender non-lead: %s", tacnet_errname(rc));
    /* Health visiting received its own join: there is nothing to grant it. */
    rc = s_raw_grant(SC, HV, late.join_hv);
    cr_assert_eq(rc, TACNET_EEXISTS, "grant of an event HV received: %s", tacnet_errname(rc));
    /* CAMHS may grant its concern, and has: a copy not signed over the body's digest is still
     * refused, before anyone learns that the grant is journalled already. */
    rc = s_raw_grant(CA, S, late.concern2);
    cr_assert_eq(rc, TACNET_ESIGNATURE, "a forged repeat of a grant: %s", tacnet_errname(rc));
    (void)ahv;
    tn_client_destroy(&camhs);
    tn_client_destroy(&sc);
    tn_client_destroy(&school);
}

/* ---------------------------------------------------------------- crashes */

/* Wait for the broker process (armed with a fault point) to die by SIGKILL. */
static void s_broker_killed(int ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    while (env.pid && h_now_ms() < deadline) {
        int status;
        if (waitpid(env.pid, &status, WNOHANG) == env.pid) {
            cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "broker status %d",
                      status);
            env.pid = 0;
        }
        h_sleep_ms(50);
    }
    cr_assert_eq(env.pid, 0, "the broker was not killed at broker.after_grant_commit");
}

Test(history, grants_wait_for_the_granter_and_survive_kill9_of_broker_and_daemons, .timeout = 240)
{
    h_agency_t *aca = s_up(CA), *asc = s_up(SC), *as = s_up(S);
    tn_client_t *camhs = s_client(aca), *sc = s_client(asc);
    story_t late;
    s_opening(camhs, sc, asc, LATE, &late);
    s_content(camhs, sc, LATE, &late);
    tn_client_destroy(&camhs);
    /* CAMHS (the lead and the sender of most of the history) is away when the school joins:
     * social care grants its own assessment, CAMHS's grants wait. */
    h_agency_signal_wait(aca, SIGTERM);
    s_pub(sc, LATE, JOIN("school"), late.join_school);
    char out[8192], cmd[128];
    snprintf(cmd, sizeof(cmd), "case %s", LATE);
    int waited = 0;
    for (int i = 0; i < 200 && !waited; i++) {
        waited = h_cli(as, cmd, out, sizeof(out)) == 0 &&
                 strstr(out, "history pending from camhs") && strstr(out, "child and family");
        h_sleep_ms(50);
    }
    cr_assert(waited, "the school does not say whose history is pending: %s", out);
    /* Someone holding CAMHS's connection key but not its signing key cannot grant. */
    int rc = s_raw_grant(CA, S, late.concern2);
    cr_assert_eq(rc, TACNET_ESIGNATURE, "a forged grant: %s", tacnet_errname(rc));
    /* CAMHS dies after the broker's first answer, before its queue forgets that grant. */
    cr_assert_eq(h_agency_start(aca, GRANT_SETTLE_POINT ":1"), 0);
    int st = h_agency_wait_exit(aca, 20000);
    cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
              "camhs was not killed at agency.before_grant_settle (%d)", st);
    /* The broker dies after its next grant commit, before answering it. */
    h_broker_signal_wait(&env, SIGTERM);
    cr_assert_eq(h_broker_start(&env, GRANT_COMMIT_POINT ":1"), 0);
    cr_assert_eq(h_agency_start(aca, NULL), 0);
    s_broker_killed(20000);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    /* And the newcomer itself, kill -9 while history arrives. */
    h_sleep_ms(300);
    h_agency_signal_wait(as, SIGKILL);
    cr_assert_eq(h_agency_start(as, NULL), 0);
    tn_client_t *school = s_client(as);
    Tacnet__ApiReply *r = s_wait_settled(school, LATE, 5, 60000);
    const uint8_t *before[] = { late.concern1, late.consent, late.concern2, late.sc_assess,
                                late.join_school };
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(s_count(r, before[i]), 1, "event %zu held %d times", i, s_count(r, before[i]));
    cr_assert_eq(s_count(r, late.health) + s_count(r, late.referral), 0,
                 "the school holds a HEALTH event");
    cr_assert_eq(r->show_case->n_timeline, 5, "%zu events", r->show_case->n_timeline);
    tn_client_reply_free(&r);
    tn_client_destroy(&school);
    tn_client_destroy(&sc);
}

/* ---------------------------------------------------------------- recipients it could not know */

/* CAMHS as a raw client (it never grants anything): opens LATE, brings in the school, then
 * refers to social care in a HEALTH-class referral the school does not receive, so social care's
 * view never learns that the school is a member. */
static void s_raw_camhs_opening(void)
{
    h_client_t *c = h_connect(&env, CA);
    cr_assert_eq(h_hello(c, 0, 64, NULL), 0);
    h_pub_t p = { 0 };
    uint32_t ca_s[] = { CA, S }, ca_sc[] = { CA, SC };
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, LATE, 1);
    h_pub_initials(&p, "TB");
    h_pub_seal(&env, &p, CA, "Missed two appointments.", NULL, 0);
    cr_assert_eq(h_publish(c, &p, NULL), 0);
    h_pub_init(&p, CA, TACNET__EVENT_KIND__MEMBER_JOINED, LATE, 2);
    h_pub_initials(&p, "TB");
    p.h.has_subject_agency = 1;
    p.h.subject_agency = (Tacnet__Agency)S;
    h_pub_rcpt(&p, 2, ca_s);
    h_pub_seal(&env, &p, CA, "School joins.", NULL, 0);
    cr_assert_eq(h_publish(c, &p, NULL), 0);
    h_pub_init(&p, CA, TACNET__EVENT_KIND__REFERRAL, LATE, 3);
    h_pub_initials(&p, "TB");
    p.h.has_subject_agency = 1;
    p.h.subject_agency = (Tacnet__Agency)SC;
    p.h.has_consent = 1;
    p.h.consent = TACNET__CONSENT_STATE__GIVEN;
    p.h.lawful_basis = TACNET__LAWFUL_BASIS__CONSENT;
    p.h.sensitivity = TACNET__SENSITIVITY__HEALTH;
    h_pub_rcpt(&p, 2, ca_sc);
    h_pub_seal(&env, &p, CA, "Low mood.", NULL, 0);
    cr_assert_eq(h_publish(c, &p, NULL), 0);
    h_pub_free(&p);
    h_close(&c);
}

Test(history, an_event_refused_for_recipients_its_sender_could_not_know_is_resealed_once)
{
    h_agency_t *asc = s_up(SC), *as = s_up(S);
    tn_client_t *sc = s_client(asc), *school = s_client(as);
    story_t st;
    s_raw_camhs_opening();
    char out[256];
    for (int i = 0; i < 200 && h_cli(asc, "case " LATE, out, sizeof(out)) != 0; i++)
        h_sleep_ms(50);
    s_pub(sc, LATE, SC_ASSESSMENT, st.sc_assess);
    Tacnet__ApiReply *r = NULL;
    uint64_t deadline = h_now_ms() + 20000;
    int n = 0;
    while ((n = (r = s_show(school, LATE)) ? s_count(r, st.sc_assess) : 0) == 0 &&
           h_now_ms() < deadline) {
        tn_client_reply_free(&r);
        h_sleep_ms(50);
    }
    tn_client_reply_free(&r);
    cr_assert_eq(n, 1, "the school never received social care's assessment");
    cr_assert(h_file_contains(asc->log, "re-sealed for the recipients the broker requires"),
              "social care did not re-seal (log %s)", asc->log);
    cr_assert(h_log_contains(&env, "E_RECIPIENTS (required set sent)"));
    tn_client_destroy(&sc);
    tn_client_destroy(&school);
}

/* ---------------------------------------------------------------- bodies past the window */

Test(history, bodies_every_recipient_has_past_the_window_are_removed_and_grants_for_them_refused)
{
    h_broker_signal_wait(&env, SIGTERM);
    h_config_write(&env, "history_window_s = 1");
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    h_client_t *c = h_connect(&env, CA);
    cr_assert_eq(h_hello(c, 0, 64, NULL), 0);
    h_pub_t p = { 0 };
    uint8_t concern[16], joined[16];
    uint32_t ca_s[] = { CA, S };
    h_pub_init(&p, CA, TACNET__EVENT_KIND__CONCERN, LATE, 1);
    h_pub_seal(&env, &p, CA, "Missed two appointments.", NULL, 0);
    memcpy(concern, p.msg_id, 16);
    cr_assert_eq(h_publish(c, &p, NULL), 0);
    /* CAMHS, its only recipient, applies it; the school joins but is not running. */
    cr_assert_eq(h_collect(c, 1, 5000, NULL, NULL, 0), 1);
    h_pub_init(&p, CA, TACNET__EVENT_KIND__MEMBER_JOINED, LATE, 2);
    p.h.has_subject_agency = 1;
    p.h.subject_agency = (Tacnet__Agency)S;
    h_pub_rcpt(&p, 2, ca_s);
    h_pub_seal(&env, &p, CA, "School joins.", NULL, 0);
    memcpy(joined, p.msg_id, 16);
    cr_assert_eq(h_publish(c, &p, NULL), 0);
    cr_assert_eq(h_collect(c, 1, 5000, NULL, NULL, 0), 1);
    h_pub_free(&p);
    h_close(&c);
    /* Within a second or two; generous for a loaded machine. */
    uint64_t deadline = h_now_ms() + 30000;
    while (!h_log_contains(&env, "sealed bodies past the history window removed") &&
           h_now_ms() < deadline)
        h_sleep_ms(100);
    cr_assert(h_log_contains(&env, "1 sealed bodies past the history window removed"),
              "the acknowledged body was not removed (or the unacknowledged one was too)");
    int rc = s_raw_grant(CA, S, concern);
    cr_assert_eq(rc, TACNET_EGONE, "a grant of a removed body: %s", tacnet_errname(rc));
    /* The journal still verifies at start (the removed body's digest stands for it), and the
     * school, whose join waited for it, still receives it whole. */
    h_broker_signal_wait(&env, SIGTERM);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    h_agency_t *as = s_up(S);
    tn_client_t *school = s_client(as);
    Tacnet__ApiReply *r = NULL;
    deadline = h_now_ms() + 10000;
    while (!(r = s_show(school, LATE)) && h_now_ms() < deadline)
        h_sleep_ms(50);
    cr_assert_not_null(r, "the school never received its join");
    cr_assert_eq(s_count(r, joined), 1);
    tn_client_reply_free(&r);
    tn_client_destroy(&school);
}

Test(history, a_grant_for_a_removed_body_is_sealed_again_by_its_sender)
{
    h_broker_signal_wait(&env, SIGTERM);
    h_config_write(&env, "history_window_s = 1");
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    h_agency_t *aca = s_up(CA), *as = s_up(S);
    tn_client_t *camhs = s_client(aca), *school = s_client(as);
    story_t st;
    s_pub(camhs, LATE, CONCERN_1, st.concern1);
    s_pub(camhs, LATE, CONSENT, st.consent);
    /* CAMHS alone received them: once it has, and the window has passed, the bodies go. */
    /* Within a second or two; generous for a loaded machine. */
    uint64_t deadline = h_now_ms() + 30000;
    while (!h_log_contains(&env, "sealed bodies past the history window removed") &&
           h_now_ms() < deadline)
        h_sleep_ms(100);
    h_sleep_ms(1500);
    cr_assert(h_log_contains(&env, "sealed bodies past the history window removed"));
    s_pub(camhs, LATE, JOIN("school"), st.join_school);
    Tacnet__ApiReply *r = s_wait_settled(school, LATE, 3, 20000);
    cr_assert_eq(s_count(r, st.concern1), 1);
    cr_assert_eq(s_count(r, st.consent), 1);
    for (size_t i = 0; i < r->show_case->n_timeline; i++) {
        const Tacnet__TimelineEntry *t = r->show_case->timeline[i];
        if (memcmp(t->header->msg_id.data, st.join_school, 16) != 0)
            cr_assert(t->has_history && t->history && t->granted_by == CA,
                      "entry %zu not history granted by CAMHS", i);
    }
    tn_client_reply_free(&r);
    /* The broker refused the key grants (the bodies were gone) and took the bodies CAMHS sealed
     * again for the school alone. */
    cr_assert(h_log_contains(&env, "refused: E_GONE"), "no grant met a removed body");
    tn_client_destroy(&camhs);
    tn_client_destroy(&school);
}
