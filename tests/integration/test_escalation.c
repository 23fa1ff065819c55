/* escalation: the real broker running professional-disagreement escalations on a seconds-scale
 * policy, watched by raw clients for each party, the lead professional's agency and the
 * partnership contact. */
#include "harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

#include <jansson.h>

#include "casework/escalation_engine.h"

#define CAMHS  TACNET__AGENCY__CAMHS
#define SCHOOL TACNET__AGENCY__SCHOOL
#define HV     TACNET__AGENCY__HEALTH_VISITING
#define SC     TACNET__AGENCY__SOCIAL_CARE
#define PSHIP  TACNET__AGENCY__PARTNERSHIP
#define CASE   "LA7-2026-000321"

#define K_NOTICE TACNET__EVENT_KIND__ESCALATION_NOTICE
#define K_NONRSP TACNET__EVENT_KIND__NON_RESPONSE
#define E_OPEN   TACNET__ESCALATION_EVENT__ESC_OPENED
#define E_ADV    TACNET__ESCALATION_EVENT__ESC_ADVANCED
#define E_RES    TACNET__ESCALATION_EVENT__ESC_RESOLVED
#define E_CLOSE  TACNET__ESCALATION_EVENT__ESC_CLOSED

static h_env_t env;
static char s_policy[256];

/* A broker notice as a recipient saw it. */
typedef struct seen {
    uint32_t kind, event, stage, audience, subject;
    uint8_t ref[16];
    uint64_t seq;
} seen_t;

/* A receiving connection of one agency: it HELLOs, verifies, ACKs and records notices. The
 * publishing connections never HELLO, so their PUBACKs never swallow a DELIVER. */
typedef struct rx {
    h_client_t *c;
    uint32_t agency;
    uint64_t last;
    seen_t seen[128];
    size_t n;
} rx_t;

static void s_policy_write(unsigned s1, unsigned s2, unsigned s3, unsigned s4, unsigned nr)
{
    snprintf(s_policy, sizeof(s_policy), "/tmp/tacnet-esc-policy-XXXXXX");
    int fd = mkstemp(s_policy);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    fprintf(f, "[escalation]\nlevel_gap = 2\n");
    if (nr)
        fprintf(f, "non_response_seconds = %u\n", nr);
    const char *aud[] = { "practitioner", "line_manager", "dsl", "partnership_lead" };
    unsigned secs[] = { s1, s2, s3, s4 };
    for (int i = 0; i < 4; i++)
        fprintf(f, "[stage%d]\naudience = %s\nworking_days = 5\nseconds = %u\n", i + 1, aud[i],
                secs[i]);
    fclose(f);
}

/* Provision with the policy above and the partnership contact, start the broker. */
static void s_start(unsigned s1, unsigned s2, unsigned s3, unsigned s4, unsigned nr)
{
    s_policy_write(s1, s2, s3, s4, nr);
    h_escalation_path = s_policy;
    h_with_partnership = 1;
    h_setup(&env, "tick_ms = 50");
    cr_assert_eq(h_broker_start(&env, NULL), 0, "broker did not start");
}

static void s_down(void)
{
    h_teardown(&env);
    if (s_policy[0])
        unlink(s_policy);
    h_escalation_path = NULL;
    h_with_partnership = 0;
}

TestSuite(escalation, .fini = s_down, .timeout = 90);

static void s_rx_open(rx_t *r, uint32_t agency)
{
    r->agency = agency;
    r->c = h_connect(&env, agency);
    cr_assert_eq(h_hello(r->c, r->last, 256, NULL), 0, "HELLO as %u", agency);
}

/* After a broker restart: a new connection resuming from the last applied seq. */
static void s_rx_reopen(rx_t *r)
{
    h_close(&r->c);
    s_rx_open(r, r->agency);
}

/* Receive for up to MS, verifying every DELIVER, checking the per-recipient chain and recording
 * broker notices. Stops early once STOP returns non-zero (may be NULL). */
static void s_rx_drain(rx_t *r, int ms, int (*stop)(const rx_t *, const void *), const void *arg)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    while (h_now_ms() < deadline && !(stop && stop(r, arg))) {
        wire_msg_t m;
        if (h_recv(r->c, (int)(deadline - h_now_ms()), &m) != 0)
            break;
        if (m.cmd == WIRE_DELIVER) {
            uint64_t seq, prev;
            Tacnet__Header *h = NULL;
            int rc = h_open_deliver(r->c, &m, &seq, &prev, &h);
            cr_assert_eq(rc, 0, "agency %u: DELIVER %llu: %s", r->agency, (unsigned long long)seq,
                         tacnet_errname(rc));
            cr_assert_eq(prev, r->last, "agency %u: DELIVER %llu names prev %llu, applied %llu",
                         r->agency, (unsigned long long)seq, (unsigned long long)prev,
                         (unsigned long long)r->last);
            if (h->sender == TACNET__AGENCY__BROKER) {
                cr_assert_lt(r->n, sizeof(r->seen) / sizeof(r->seen[0]));
                seen_t *s = &r->seen[r->n++];
                s->kind = (uint32_t)h->kind;
                s->event = h->has_escalation_event ? (uint32_t)h->escalation_event : 0;
                s->stage = h->escalation_stage;
                s->audience = (uint32_t)h->audience;
                s->subject = h->has_subject_agency ? (uint32_t)h->subject_agency : 0;
                cr_assert(h->has_refers_to && h->refers_to.len == 16);
                /* timer notices carry the case's initials too, found from its events */
                cr_assert(h->initials.len == 2 && memcmp(h->initials.data, "JS", 2) == 0);
                memcpy(s->ref, h->refers_to.data, 16);
                s->seq = seq;
            }
            wire_free(&h->base);
            r->last = seq;
            h_ack(r->c, seq);
        }
        wire_msg_clear(&m);
    }
}

static size_t s_count(const rx_t *r, uint32_t kind, uint32_t event, uint32_t stage)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->seen[i].kind == kind && r->seen[i].event == event && r->seen[i].stage == stage;
    return n;
}

typedef struct want {
    uint32_t kind, event, stage;
} want_t;

static int s_has_want(const rx_t *r, const void *arg)
{
    const want_t *w = arg;
    return s_count(r, w->kind, w->event, w->stage) > 0;
}

/* Drain until R has seen a notice (KIND, EVENT, STAGE), or fail after MS. */
static void s_rx_wait(rx_t *r, uint32_t kind, uint32_t event, uint32_t stage, int ms)
{
    want_t w = { kind, event, stage };
    s_rx_drain(r, ms, s_has_want, &w);
    cr_assert(s_has_want(r, &w), "agency %u never saw notice kind %u event %u stage %u", r->agency,
              kind, event, stage);
}

/* Start AGENCY's event of KIND on CASE with recipients RCPT (N). */
static void s_pub(h_pub_t *p, uint32_t agency, Tacnet__EventKind kind, uint64_t sseq, size_t n,
                  const uint32_t *rcpt)
{
    h_pub_init(p, agency, kind, CASE, sseq);
    h_pub_rcpt(p, n, rcpt);
}

static int s_send(h_client_t *pub, h_pub_t *p, uint32_t signer)
{
    h_pub_seal(&env, p, signer, NULL, NULL, 0);
    return h_publish(pub, p, NULL);
}

static const uint32_t s_team[] = { CAMHS, SCHOOL, SC };

/* CAMHS opens the case with a level-2 assessment, brings in the school and social care, and
 * hands the lead to social care, which accepts. Returns CAMHS's decision's msg_id in DECISION.
 * PUB[agency] are the publishing connections; *SSEQ counts every sender's sequence. */
static void s_build_case(h_client_t **pub, uint64_t *sseq, uint8_t decision[16])
{
    h_pub_t p = { 0 };
    s_pub(&p, CAMHS, TACNET__EVENT_KIND__ASSESSMENT, ++sseq[CAMHS], 1, s_team);
    p.h.has_level_of_need = 1;
    p.h.level_of_need = 2;
    cr_assert_eq(s_send(pub[CAMHS], &p, CAMHS), 0);
    s_pub(&p, CAMHS, TACNET__EVENT_KIND__MEMBER_JOINED, ++sseq[CAMHS], 2, s_team);
    p.h.has_subject_agency = 1;
    p.h.subject_agency = SCHOOL;
    cr_assert_eq(s_send(pub[CAMHS], &p, CAMHS), 0);
    s_pub(&p, CAMHS, TACNET__EVENT_KIND__MEMBER_JOINED, ++sseq[CAMHS], 3, s_team);
    p.h.has_subject_agency = 1;
    p.h.subject_agency = SC;
    cr_assert_eq(s_send(pub[CAMHS], &p, CAMHS), 0);
    s_pub(&p, CAMHS, TACNET__EVENT_KIND__LEAD_HANDOVER, ++sseq[CAMHS], 3, s_team);
    p.h.has_subject_agency = 1;
    p.h.subject_agency = SC;
    cr_assert_eq(s_send(pub[CAMHS], &p, CAMHS), 0);
    s_pub(&p, SC, TACNET__EVENT_KIND__LEAD_ACCEPTED, ++sseq[SC], 3,
          (const uint32_t[]){ SC, CAMHS, SCHOOL });
    cr_assert_eq(s_send(pub[SC], &p, SC), 0);
    s_pub(&p, CAMHS, TACNET__EVENT_KIND__DECISION, ++sseq[CAMHS], 3, s_team);
    cr_assert_eq(s_send(pub[CAMHS], &p, CAMHS), 0);
    memcpy(decision, p.msg_id, 16);
    h_pub_free(&p);
}

/* SENDER's event of KIND about REF (16 bytes), to the whole team. Returns the broker's answer;
 * the msg_id is left in P. */
static int s_about(h_client_t **pub, uint64_t *sseq, h_pub_t *p, uint32_t sender,
                   Tacnet__EventKind kind, const uint8_t *ref)
{
    uint32_t rcpt[3] = { sender, 0, 0 };
    for (size_t i = 0, n = 1; i < 3; i++)
        if (s_team[i] != sender)
            rcpt[n++] = s_team[i];
    s_pub(p, sender, kind, ++sseq[sender], 3, rcpt);
    if (ref) {
        p->h.has_refers_to = 1;
        p->h.refers_to = (ProtobufCBinaryData){ 16, (uint8_t *)ref };
    }
    return s_send(pub[sender], p, sender);
}

static json_t *s_status(void)
{
    char *txt = h_admin_status(&env);
    cr_assert_not_null(txt, "no status answer");
    json_error_t jerr;
    json_t *root = json_loads(txt, 0, &jerr);
    free(txt);
    cr_assert_not_null(root, "status is not JSON: %s", jerr.text);
    json_t *esc = json_object_get(root, "escalations");
    cr_assert(json_is_object(esc), "status has no escalations object");
    json_incref(esc);
    json_decref(root);
    return esc;
}

static json_int_t s_status_int(const char *key)
{
    json_t *esc = s_status();
    json_int_t v = json_integer_value(json_object_get(esc, key));
    json_decref(esc);
    return v;
}

static void s_connect_all(h_client_t **pub, rx_t *rx)
{
    for (uint32_t a = CAMHS; a <= SC; a++)
        pub[a] = h_connect(&env, a);
    uint32_t who[] = { CAMHS, SCHOOL, SC, PSHIP };
    for (size_t i = 0; i < 4; i++)
        s_rx_open(&rx[who[i]], who[i]);
}

/* The stage-by-stage counts of every notice R holds about escalation ID. */
static void s_expect_exactly(const rx_t *r, const uint8_t id[16], const uint32_t *want_events,
                             const uint32_t *want_stages, size_t n_want)
{
    size_t about = 0;
    for (size_t i = 0; i < r->n; i++)
        about += memcmp(r->seen[i].ref, id, 16) == 0 && r->seen[i].kind == K_NOTICE;
    cr_expect_eq(about, n_want, "agency %u holds %zu notices about the escalation, want %zu",
                 r->agency, about, n_want);
    for (size_t i = 0; i < n_want; i++)
        cr_expect_eq(s_count(r, K_NOTICE, want_events[i], want_stages[i]), 1,
                     "agency %u: notice event %u stage %u seen %zu times", r->agency,
                     want_events[i], want_stages[i],
                     s_count(r, K_NOTICE, want_events[i], want_stages[i]));
}

/* The CLOSED notice's body as AGENCY opens it. */
static Tacnet__EscalationNotice *s_closed_body(uint32_t agency, uint64_t at_seq,
                                               Tacnet__Body **body_out)
{
    h_client_t *c = h_connect(&env, agency);
    cr_assert_eq(h_hello(c, at_seq - 1, 1, NULL), 0);
    wire_msg_t m;
    cr_assert_eq(h_recv(c, 5000, &m), 0);
    cr_assert_eq(m.cmd, WIRE_DELIVER);
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(m.header, m.header_len, &err);
    cr_assert_not_null(h);
    const Tacnet__NodeKey *k = roster_key_find(env.roster, TACNET__AGENCY__BROKER, h->sender_key_id,
                                               (uint64_t)time(NULL) * 1000, &err);
    cr_assert_not_null(k);
    uint8_t *plain = NULL;
    size_t plen = 0;
    cr_assert_eq(seal_open(env.seal[agency], k->seal_pk.data, m.header, m.header_len, m.sealed,
                           m.sealed_len, &plain, &plen),
                 0);
    Tacnet__Body *b = tacnet__body__unpack(NULL, plen, plain);
    free(plain);
    wire_free(&h->base);
    wire_msg_clear(&m);
    h_close(&c);
    cr_assert_not_null(b);
    cr_assert_eq(b->event_case, TACNET__BODY__EVENT_ESCALATION_NOTICE);
    *body_out = b;
    return b->escalation_notice;
}

/* ---------------------------------------------------------------- stage 1 to 4 across a kill */

Test(escalation, disagreement_runs_stage_one_to_four_across_a_broker_kill_each_notice_once)
{
    /* Stage deadlines 2 s, 4 s, 2 s, 2 s; no non-response alerts. */
    s_start(2, 4, 2, 2, 0);
    h_client_t *pub[H_MAX_AGENCY] = { 0 };
    rx_t rx[H_MAX_AGENCY];
    memset(rx, 0, sizeof(rx));
    uint64_t sseq[H_MAX_AGENCY] = { 0 };
    s_connect_all(pub, rx);
    uint8_t decision[16], id[16];
    s_build_case(pub, sseq, decision);

    h_pub_t p = { 0 };
    cr_assert_eq(s_about(pub, sseq, &p, SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, decision), 0);
    memcpy(id, p.msg_id, 16);
    uint64_t t_open = h_now_ms();
    for (uint32_t a = CAMHS; a <= SC; a++)
        if (a != HV)
            s_rx_wait(&rx[a], K_NOTICE, E_OPEN, 1, 3000);
    cr_assert_eq(s_status_int("open"), 1);
    /* Stage 2 after 2 s, to everyone but the partnership. */
    for (uint32_t a = CAMHS; a <= SC; a++)
        if (a != HV)
            s_rx_wait(&rx[a], K_NOTICE, E_ADV, 2, 5000);
    cr_assert_eq(rx[PSHIP].n, 0, "the partnership is told only at the last stage");

    /* Kill -9 during stage 2 and stay down past the stage 3 and stage 4 deadlines (6 s and 8 s
     * after opening). */
    cr_assert_eq(WTERMSIG(h_broker_signal_wait(&env, SIGKILL)), SIGKILL);
    uint64_t down_until = t_open + 9000;
    while (h_now_ms() < down_until)
        h_sleep_ms(50);
    cr_assert_eq(h_broker_start(&env, NULL), 0, "broker did not restart");
    for (int i = 0; i < 4; i++)
        h_close(&pub[i + 1]);
    uint32_t who[] = { CAMHS, SCHOOL, SC, PSHIP };
    for (size_t i = 0; i < 4; i++)
        s_rx_reopen(&rx[who[i]]);
    for (uint32_t a = CAMHS; a <= SC; a++)
        pub[a] = h_connect(&env, a);
    /* Both late advances fire at once, in order. */
    for (size_t i = 0; i < 4; i++)
        s_rx_wait(&rx[who[i]], K_NOTICE, E_ADV, 4, 3000);
    for (uint32_t a = CAMHS; a <= SC; a++)
        if (a != HV)
            cr_assert_eq(s_count(&rx[a], K_NOTICE, E_ADV, 3), 1);
    json_t *st = s_status();
    json_t *first = json_array_get(json_object_get(st, "escalations"), 0);
    cr_assert_eq(json_integer_value(json_object_get(first, "stage")), 4);
    cr_assert_str_eq(json_string_value(json_object_get(first, "lead")), "social_care");
    json_decref(st);

    /* Resolution by CAMHS, which accepts it by proposing it: it closes once the school, the
     * other party, has acknowledged it too. */
    h_pub_t q = { 0 };
    cr_assert_eq(s_about(pub, sseq, &q, CAMHS, TACNET__EVENT_KIND__ESCALATION_RESOLVED, id), 0);
    s_rx_wait(&rx[SC], K_NOTICE, E_RES, 4, 3000);
    cr_assert_eq(s_status_int("resolving"), 1);
    cr_assert_eq(s_about(pub, sseq, &q, CAMHS, TACNET__EVENT_KIND__ESCALATION_ACK, id),
                 TACNET_EFORBIDDEN, "the proposer acknowledged its own resolution");
    sseq[CAMHS] += 10;
    cr_assert_eq(s_status_int("closed"), 0);
    cr_assert_eq(s_about(pub, sseq, &q, SCHOOL, TACNET__EVENT_KIND__ESCALATION_ACK, id), 0);
    for (size_t i = 0; i < 4; i++)
        s_rx_wait(&rx[who[i]], K_NOTICE, E_CLOSE, 4, 3000);
    cr_assert_eq(s_status_int("closed"), 1);
    cr_assert_eq(s_status_int("open"), 0);
    h_pub_free(&q);
    h_pub_free(&p);

    /* The durable truth: replay everything from seq 0 to each recipient after a clean restart
     * and count each notice about the escalation exactly once. */
    cr_assert_eq(WEXITSTATUS(h_broker_signal_wait(&env, SIGTERM)), 0);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    const uint32_t party_ev[] = { E_OPEN, E_ADV, E_ADV, E_ADV, E_RES, E_CLOSE };
    const uint32_t party_st[] = { 1, 2, 3, 4, 4, 4 };
    const uint32_t pship_ev[] = { E_ADV, E_RES, E_CLOSE };
    const uint32_t pship_st[] = { 4, 4, 4 };
    uint64_t closed_seq = 0;
    for (size_t i = 0; i < 4; i++) {
        rx_t *r = &rx[who[i]];
        r->last = 0;
        r->n = 0;
        s_rx_reopen(r);
        s_rx_drain(r, 1500, NULL, NULL);
        if (who[i] == PSHIP)
            s_expect_exactly(r, id, pship_ev, pship_st, 3);
        else
            s_expect_exactly(r, id, party_ev, party_st, 6);
        for (size_t j = 0; j < r->n; j++)
            if (r->seen[j].event == E_CLOSE)
                closed_seq = r->seen[j].seq;
    }
    /* Each stage's duration: the timers ran from each missed deadline, even while down. */
    Tacnet__Body *body = NULL;
    Tacnet__EscalationNotice *en = s_closed_body(SC, closed_seq, &body);
    cr_assert_eq(en->n_stage_took_ms, 4);
    cr_assert_eq(en->stage_took_ms[0], 2000);
    cr_assert_eq(en->stage_took_ms[1], 4000);
    cr_assert_eq(en->stage_took_ms[2], 2000);
    cr_assert_eq(en->n_parties, 2);
    cr_assert_eq(en->parties[0], SCHOOL);
    cr_assert_eq(en->parties[1], CAMHS);
    tacnet__body__free_unpacked(body, NULL);
}

/* ---------------------------------------------------------------- one escalation per dispute */

/* The number of parties the broker's status lists for its first escalation. */
static size_t s_status_parties(const char *want, int *has_want)
{
    json_t *st = s_status();
    json_t *parties =
        json_object_get(json_array_get(json_object_get(st, "escalations"), 0), "parties");
    size_t n = json_array_size(parties);
    *has_want = 0;
    for (size_t i = 0; i < n; i++)
        *has_want |= strcmp(json_string_value(json_array_get(parties, i)), want) == 0;
    json_decref(st);
    return n;
}

/* Social care, not a party, challenges the decision the school already challenged: it joins that
 * escalation as a party (every party and it told by a notice), answers it, and its
 * acknowledgement is needed to close it. */
Test(escalation, a_challenge_of_the_same_decision_joins_its_raiser_as_a_party)
{
    s_start(60, 60, 60, 60, 0);
    h_client_t *pub[H_MAX_AGENCY] = { 0 };
    rx_t rx[H_MAX_AGENCY];
    memset(rx, 0, sizeof(rx));
    uint64_t sseq[H_MAX_AGENCY] = { 0 };
    s_connect_all(pub, rx);
    uint8_t decision[16], id[16];
    s_build_case(pub, sseq, decision);
    h_pub_t p = { 0 };
    cr_assert_eq(s_about(pub, sseq, &p, SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, decision), 0);
    memcpy(id, p.msg_id, 16);
    s_rx_wait(&rx[SC], K_NOTICE, E_OPEN, 1, 3000);
    int has = 0;
    cr_assert_eq(s_status_parties("social_care", &has), 2);
    cr_assert(!has);
    cr_assert_eq(s_about(pub, sseq, &p, SC, TACNET__EVENT_KIND__ESCALATION_RESPONSE, id),
                 TACNET_ENOTMEMBER, "the lead is no party yet");
    sseq[SC] += 10;

    cr_assert_eq(s_about(pub, sseq, &p, SC, TACNET__EVENT_KIND__DISAGREEMENT, decision), 0);
    cr_assert_eq(s_status_int("open"), 1, "the challenge opened another escalation");
    cr_assert_eq(s_status_parties("social_care", &has), 3);
    cr_assert(has, "the joiner is not a party");
    for (uint32_t a = CAMHS; a <= SC; a++) {
        if (a == HV)
            continue;
        s_rx_drain(&rx[a], 1000, NULL, NULL);
        cr_expect_eq(s_count(&rx[a], K_NOTICE, E_OPEN, 1), 2, "agency %u not told of the join", a);
    }
    cr_assert_eq(s_about(pub, sseq, &p, SC, TACNET__EVENT_KIND__ESCALATION_RESPONSE, id), 0);
    cr_assert_eq(s_about(pub, sseq, &p, SCHOOL, TACNET__EVENT_KIND__ESCALATION_RESOLVED, id), 0);
    cr_assert_eq(s_about(pub, sseq, &p, CAMHS, TACNET__EVENT_KIND__ESCALATION_ACK, id), 0);
    cr_assert_eq(s_status_int("resolving"), 1, "closed without the joiner's acknowledgement");
    cr_assert_eq(s_about(pub, sseq, &p, SC, TACNET__EVENT_KIND__ESCALATION_ACK, id), 0);
    cr_assert_eq(s_status_int("closed"), 1);
    h_pub_free(&p);
}

/* An answer on an escalation must reach every party still on the team, or the party it misses
 * could never accept a resolution it never saw: the broker itself refuses one whose recipients
 * leave a party out (E_CONSENT, storing nothing), though they are what the sharing policy
 * requires for its class (the school receives no health detail). */
Test(escalation, an_answer_that_misses_a_party_is_refused_by_the_broker)
{
    s_start(60, 60, 60, 60, 0);
    h_client_t *pub[H_MAX_AGENCY] = { 0 };
    rx_t rx[H_MAX_AGENCY];
    memset(rx, 0, sizeof(rx));
    uint64_t sseq[H_MAX_AGENCY] = { 0 };
    s_connect_all(pub, rx);
    uint8_t decision[16], id[16];
    s_build_case(pub, sseq, decision);
    h_pub_t p = { 0 };
    cr_assert_eq(s_about(pub, sseq, &p, SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, decision), 0);
    memcpy(id, p.msg_id, 16);
    s_rx_wait(&rx[SC], K_NOTICE, E_OPEN, 1, 3000);
    s_pub(&p, CAMHS, TACNET__EVENT_KIND__ESCALATION_RESPONSE, ++sseq[CAMHS], 2,
          (const uint32_t[]){ CAMHS, SC });
    p.h.sensitivity = TACNET__SENSITIVITY__HEALTH;
    p.h.has_refers_to = 1;
    p.h.refers_to = (ProtobufCBinaryData){ 16, id };
    cr_assert_eq(s_send(pub[CAMHS], &p, CAMHS), TACNET_ECONSENT,
                 "a response the school, a party, would never receive was accepted");
    cr_assert_eq(s_status_int("open"), 1, "the refusal changed the escalation");
    sseq[CAMHS] += 10;
    /* At a class every party receives, to the whole team, it goes. */
    cr_assert_eq(s_about(pub, sseq, &p, CAMHS, TACNET__EVENT_KIND__ESCALATION_RESPONSE, id), 0);
    h_pub_free(&p);
}

Test(escalation, repeated_retried_and_joined_disagreements_open_one_escalation)
{
    s_start(60, 60, 60, 60, 0);
    h_client_t *pub[H_MAX_AGENCY] = { 0 };
    rx_t rx[H_MAX_AGENCY];
    memset(rx, 0, sizeof(rx));
    uint64_t sseq[H_MAX_AGENCY] = { 0 };
    s_connect_all(pub, rx);
    uint8_t decision[16], unknown[16];
    s_build_case(pub, sseq, decision);
    memset(unknown, 0x5a, sizeof(unknown));

    /* Header facts first: refused, storing nothing. */
    size_t blen;
    uint8_t *before = h_data_mdb(&env, &blen);
    h_pub_t p = { 0 };
    cr_assert_eq(s_about(pub, sseq, &p, SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, NULL),
                 TACNET_EFIELD, "no refers_to");
    cr_assert_eq(s_about(pub, sseq, &p, SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, unknown),
                 TACNET_EREFERSTO, "refers_to an unknown event");
    cr_assert_eq(s_about(pub, sseq, &p, CAMHS, TACNET__EVENT_KIND__DISAGREEMENT, decision),
                 TACNET_EFIELD, "own decision without naming whom it challenges");
    cr_assert_eq(s_about(pub, sseq, &p, SCHOOL, TACNET__EVENT_KIND__ESCALATION_RESOLVED, unknown),
                 TACNET_EREFERSTO, "resolution of no escalation");
    size_t alen;
    uint8_t *after = h_data_mdb(&env, &alen);
    cr_expect(alen == blen && memcmp(before, after, blen) == 0, "a refusal changed data.mdb");
    free(before);
    free(after);
    sseq[SCHOOL] = 100; /* the refused sender sequences are spent on nothing; move past them */
    sseq[CAMHS] = 100;

    /* The disagreement, then its retry (same msg_id), then the same challenge again, then CAMHS
     * challenging its own decision against the school: all one dispute. */
    cr_assert_eq(s_about(pub, sseq, &p, SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, decision), 0);
    uint8_t id[16];
    memcpy(id, p.msg_id, 16);
    uint64_t seq2 = 0;
    int dup = 0;
    h_send_pub(pub[SCHOOL], &p);
    cr_assert_eq(h_result(pub[SCHOOL], p.msg_id, 5000, &seq2, &dup), 0);
    cr_assert_eq(dup, 1, "a retry is acknowledged as a duplicate");
    h_pub_t again = { 0 };
    cr_assert_eq(s_about(pub, sseq, &again, SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, decision), 0);
    s_pub(&again, CAMHS, TACNET__EVENT_KIND__DISAGREEMENT, ++sseq[CAMHS], 3, s_team);
    again.h.has_refers_to = 1;
    again.h.refers_to = (ProtobufCBinaryData){ 16, decision };
    again.h.has_subject_agency = 1;
    again.h.subject_agency = SCHOOL;
    cr_assert_eq(s_send(pub[CAMHS], &again, CAMHS), 0);
    h_pub_free(&again);

    s_rx_drain(&rx[SC], 1500, NULL, NULL);
    s_rx_drain(&rx[SCHOOL], 300, NULL, NULL);
    s_rx_drain(&rx[CAMHS], 300, NULL, NULL);
    for (uint32_t a = CAMHS; a <= SC; a++) {
        if (a == HV)
            continue;
        cr_expect_eq(s_count(&rx[a], K_NOTICE, E_OPEN, 1), 1, "agency %u: %zu OPENED notices", a,
                     s_count(&rx[a], K_NOTICE, E_OPEN, 1));
        cr_expect_arr_eq(rx[a].seen[0].ref, id, 16);
        cr_expect_eq(rx[a].seen[0].audience, TACNET__ROLE__PRACTITIONER);
    }
    json_t *st = s_status();
    cr_assert_eq(json_integer_value(json_object_get(st, "open")), 1);
    cr_assert_gt(json_integer_value(json_object_get(st, "next_deadline_ms")), 0);
    json_decref(st);

    /* Answers are checked against the escalation: an acknowledgement before any resolution,
     * and a resolution or acknowledgement from an agency not party to it, are refused. */
    h_pub_t q = { 0 };
    cr_assert_eq(s_about(pub, sseq, &q, SCHOOL, TACNET__EVENT_KIND__ESCALATION_ACK, id),
                 TACNET_EKIND);
    cr_assert_eq(s_about(pub, sseq, &q, SC, TACNET__EVENT_KIND__ESCALATION_ACK, id),
                 TACNET_ENOTMEMBER, "the lead is not a party");
    /* Nor does the case close while it is open: its timers would run on a closed case. */
    cr_assert_eq(s_about(pub, sseq, &q, SC, TACNET__EVENT_KIND__CASE_CLOSED, NULL),
                 TACNET_EFORBIDDEN, "the case closed with an escalation open");
    sseq[SCHOOL] += 10;
    sseq[SC] += 10;
    cr_assert_eq(s_about(pub, sseq, &q, SC, TACNET__EVENT_KIND__ESCALATION_RESOLVED, id), 0,
                 "the lead professional may record the resolution");
    /* CAMHS accepts it, the school does not: the dispute goes to stage 2, open again, and
     * CAMHS's acceptance of the refused resolution no longer counts. */
    cr_assert_eq(s_about(pub, sseq, &q, CAMHS, TACNET__EVENT_KIND__ESCALATION_ACK, id), 0);
    uint32_t rcpt[3] = { SCHOOL, 0, 0 };
    for (size_t i = 0, n = 1; i < 3; i++)
        if (s_team[i] != SCHOOL)
            rcpt[n++] = s_team[i];
    s_pub(&q, SCHOOL, TACNET__EVENT_KIND__ESCALATION_ACK, ++sseq[SCHOOL], 3, rcpt);
    q.h.has_refers_to = 1;
    q.h.refers_to = (ProtobufCBinaryData){ 16, id };
    q.h.has_resolution_accepted = 1;
    q.h.resolution_accepted = 0;
    cr_assert_eq(s_send(pub[SCHOOL], &q, SCHOOL), 0);
    cr_assert_eq(s_status_int("open"), 1, "a resolution not accepted closed the dispute");
    cr_assert_eq(s_status_int("resolving"), 0);
    s_rx_wait(&rx[CAMHS], K_NOTICE, E_ADV, 2, 5000);
    cr_assert_eq(s_count(&rx[CAMHS], K_NOTICE, E_ADV, 2), 1, "no stage 2 notice");
    /* Stage 2 settles it: a new resolution, accepted by both parties. */
    cr_assert_eq(s_about(pub, sseq, &q, SC, TACNET__EVENT_KIND__ESCALATION_RESOLVED, id), 0);
    cr_assert_eq(s_about(pub, sseq, &q, SCHOOL, TACNET__EVENT_KIND__ESCALATION_ACK, id), 0);
    cr_assert_eq(s_status_int("resolving"), 1);
    /* With a resolution proposed the case may close, and the last acknowledgement still
     * finishes the escalation on the closed case. */
    cr_assert_eq(s_about(pub, sseq, &q, SC, TACNET__EVENT_KIND__CASE_CLOSED, NULL), 0);
    cr_assert_eq(s_about(pub, sseq, &q, CAMHS, TACNET__EVENT_KIND__ESCALATION_ACK, id), 0);
    cr_assert_eq(s_status_int("closed"), 1);
    h_pub_free(&q);
    h_pub_free(&p);
}

/* ---------------------------------------------------------------- level-of-need trigger */

Test(escalation, levels_two_apart_open_one_automatic_escalation)
{
    s_start(60, 60, 60, 60, 0);
    h_client_t *pub[H_MAX_AGENCY] = { 0 };
    rx_t rx[H_MAX_AGENCY];
    memset(rx, 0, sizeof(rx));
    uint64_t sseq[H_MAX_AGENCY] = { 0 };
    s_connect_all(pub, rx);
    uint8_t decision[16];
    s_build_case(pub, sseq, decision); /* CAMHS assessed level 2 */

    h_pub_t p = { 0 };
    unsigned levels[] = { 3, 4, 3 };
    for (size_t i = 0; i < 3; i++) {
        s_pub(&p, SCHOOL, TACNET__EVENT_KIND__ASSESSMENT, ++sseq[SCHOOL], 3,
              (const uint32_t[]){ SCHOOL, CAMHS, SC });
        p.h.has_level_of_need = 1;
        p.h.level_of_need = levels[i];
        cr_assert_eq(s_send(pub[SCHOOL], &p, SCHOOL), 0);
        if (i == 0) {
            s_rx_drain(&rx[CAMHS], 800, NULL, NULL);
            cr_assert_eq(s_count(&rx[CAMHS], K_NOTICE, E_OPEN, 1), 0, "a gap of 1 opens nothing");
        }
    }
    /* Then an explicit challenge between the same pair joins the automatic one. */
    cr_assert_eq(s_about(pub, sseq, &p, SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, decision), 0);
    uint8_t want[16];
    escalation_engine_auto_id(CASE, CAMHS, SCHOOL, want);
    for (uint32_t a = CAMHS; a <= SC; a++) {
        if (a == HV)
            continue;
        s_rx_drain(&rx[a], 1200, NULL, NULL);
        cr_expect_eq(s_count(&rx[a], K_NOTICE, E_OPEN, 1), 1, "agency %u: %zu OPENED", a,
                     s_count(&rx[a], K_NOTICE, E_OPEN, 1));
        cr_expect_arr_eq(rx[a].seen[0].ref, want, 16, "the automatic escalation's id");
    }
    json_t *st = s_status();
    cr_assert_eq(json_integer_value(json_object_get(st, "open")), 1);
    json_t *first = json_array_get(json_object_get(st, "escalations"), 0);
    cr_assert(json_is_true(json_object_get(first, "automatic")));
    json_decref(st);
    h_pub_free(&p);
}

/* ---------------------------------------------------------------- non-response */

Test(escalation, a_silent_party_and_the_lead_are_told_once_per_stage)
{
    /* Stage 1 lasts 4 s, non-response after 1 s. */
    s_start(4, 60, 60, 60, 1);
    h_client_t *pub[H_MAX_AGENCY] = { 0 };
    rx_t rx[H_MAX_AGENCY];
    memset(rx, 0, sizeof(rx));
    uint64_t sseq[H_MAX_AGENCY] = { 0 };
    s_connect_all(pub, rx);
    uint8_t decision[16], id[16];
    s_build_case(pub, sseq, decision);
    h_pub_t p = { 0 };
    cr_assert_eq(s_about(pub, sseq, &p, SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, decision), 0);
    memcpy(id, p.msg_id, 16);
    /* Stage 1: CAMHS (challenged) has not answered; the school raised it. */
    s_rx_wait(&rx[CAMHS], K_NONRSP, 0, 1, 4000);
    s_rx_wait(&rx[SC], K_NONRSP, 0, 1, 2000);
    /* Stage 2: the school answers; CAMHS stays silent and is told again, once. */
    s_rx_wait(&rx[SCHOOL], K_NOTICE, E_ADV, 2, 5000);
    cr_assert_eq(s_about(pub, sseq, &p, SCHOOL, TACNET__EVENT_KIND__ESCALATION_RESPONSE, id), 0);
    s_rx_wait(&rx[CAMHS], K_NONRSP, 0, 2, 4000);
    s_rx_drain(&rx[CAMHS], 2000, NULL, NULL);
    s_rx_drain(&rx[SCHOOL], 300, NULL, NULL);
    s_rx_drain(&rx[SC], 300, NULL, NULL);
    for (uint32_t stage = 1; stage <= 2; stage++) {
        cr_expect_eq(s_count(&rx[CAMHS], K_NONRSP, 0, stage), 1, "CAMHS stage %u: %zu alerts",
                     stage, s_count(&rx[CAMHS], K_NONRSP, 0, stage));
        cr_expect_eq(s_count(&rx[SC], K_NONRSP, 0, stage), 1, "lead stage %u: %zu alerts", stage,
                     s_count(&rx[SC], K_NONRSP, 0, stage));
        cr_expect_eq(s_count(&rx[SCHOOL], K_NONRSP, 0, stage), 0, "the school answered");
    }
    for (size_t i = 0; i < rx[SC].n; i++) {
        if (rx[SC].seen[i].kind != K_NONRSP)
            continue;
        cr_expect_eq(rx[SC].seen[i].subject, CAMHS, "the alert names the silent agency");
        cr_expect_eq(rx[SC].seen[i].audience, TACNET__ROLE__LINE_MANAGER);
        cr_expect_arr_eq(rx[SC].seen[i].ref, id, 16);
    }
    h_pub_free(&p);
}

/* ---------------------------------------------------------------- crash at the timer commit */

Test(escalation, a_crash_either_side_of_the_timer_commit_fires_the_advance_once)
{
    s_start(2, 60, 60, 60, 0);
    /* Restart armed to die just before the first timer commit. */
    cr_assert_eq(WEXITSTATUS(h_broker_signal_wait(&env, SIGTERM)), 0);
    cr_assert_eq(h_broker_start(&env, "broker.escalation_before_commit"), 0);
    h_client_t *pub[H_MAX_AGENCY] = { 0 };
    rx_t rx[H_MAX_AGENCY];
    memset(rx, 0, sizeof(rx));
    uint64_t sseq[H_MAX_AGENCY] = { 0 };
    s_connect_all(pub, rx);
    uint8_t decision[16];
    s_build_case(pub, sseq, decision);
    h_pub_t p = { 0 };
    cr_assert_eq(s_about(pub, sseq, &p, SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, decision), 0);
    h_pub_free(&p);
    s_rx_wait(&rx[SC], K_NOTICE, E_OPEN, 1, 3000);
    /* The stage 1 deadline passes: the broker dies before committing the advance. */
    for (int i = 0; i < 100 && env.pid; i++) {
        int status;
        if (waitpid(env.pid, &status, WNOHANG) == env.pid)
            env.pid = 0;
        else
            h_sleep_ms(50);
    }
    cr_assert_eq(env.pid, 0, "broker still running after the fault point");
    /* Restart armed to die just after the commit: the advance is journalled, then lost from
     * memory with the process. */
    /* The late advance fires on the first tick, so the broker may die before its start is
     * seen. */
    int rc = h_broker_start(&env, "broker.escalation_after_commit");
    cr_assert(rc == 0 || rc == 1000 + 128 + SIGKILL, "restart: %d", rc);
    for (int i = 0; i < 100 && env.pid; i++) {
        int status;
        if (waitpid(env.pid, &status, WNOHANG) == env.pid)
            env.pid = 0;
        else
            h_sleep_ms(50);
    }
    cr_assert_eq(env.pid, 0, "broker did not reach the after-commit fault point");
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    s_rx_reopen(&rx[SC]);
    s_rx_wait(&rx[SC], K_NOTICE, E_ADV, 2, 3000);
    s_rx_drain(&rx[SC], 1500, NULL, NULL);
    cr_assert_eq(s_count(&rx[SC], K_NOTICE, E_ADV, 2), 1, "stage 2 notice seen %zu times",
                 s_count(&rx[SC], K_NOTICE, E_ADV, 2));
    cr_assert_eq(s_count(&rx[SC], K_NOTICE, E_OPEN, 1), 1);
    json_t *st = s_status();
    json_t *first = json_array_get(json_object_get(st, "escalations"), 0);
    cr_assert_eq(json_integer_value(json_object_get(first, "stage")), 2);
    json_decref(st);
}
