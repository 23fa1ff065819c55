/* Integration tests of "initials only, no free bytes" (issue 17): every initials field of a body
 * is initials at publish and on receipt, the clear header's msg_id and refers_to carry no text,
 * case references start with one of the roster's area codes, and an intake file's family names
 * are registered so that the next event naming the child is refused. The real broker and
 * daemons, driven as an agency's systems and as an insider holding an agency's keys would. */
#include "harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "err.h"
#include "wire.h"

#include "client/client.h"
#include "pbjson_fixture.h"

#define S       TACNET__AGENCY__SCHOOL
#define SC      TACNET__AGENCY__SOCIAL_CARE
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

TestSuite(identifiers, .init = setup, .fini = teardown, .timeout = 120);

static h_agency_t *s_up(uint32_t agency)
{
    h_agency_t *a = h_agency_add(&env, agency);
    cr_assert_eq(h_agency_start(a, NULL), 0, "agency %u did not start (log %s)", agency, a->log);
    return a;
}

static tn_client_t *s_client(const h_agency_t *a)
{
    int err = 0;
    tn_client_t *c = tn_client_new(a->data, &err);
    cr_assert_not_null(c, "tn_client_new %s: %s", a->data, tacnet_errname(err));
    return c;
}

/* Publish the PublishRequest given as JSON: the daemon's code, the reason in WHY and the first
 * finding's field in FIELD (both may be NULL), the msg_id in MSG_ID (may be NULL). */
static int s_publish(tn_client_t *c, const char *json, uint8_t *msg_id, char *why, size_t cap,
                     char *field, size_t fcap)
{
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, json);
    Tacnet__ApiReply *reply = NULL;
    int rc = tn_client_publish(c, req, &reply, CALL_MS);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    cr_assert_not_null(reply, "no reply from the daemon: %s", tacnet_errname(rc));
    if (why)
        snprintf(why, cap, "%s", reply->reason ? reply->reason : "");
    if (field)
        snprintf(field, fcap, "%s",
                 reply->n_findings && reply->findings[0]->field ? reply->findings[0]->field : "");
    if (rc == 0 && msg_id)
        memcpy(msg_id, reply->published->msg_id.data, 16);
    tn_client_reply_free(&reply);
    return rc;
}

static void s_publish_ok(tn_client_t *c, const char *json, uint8_t *msg_id)
{
    char why[256];
    int rc = s_publish(c, json, msg_id, why, sizeof(why), NULL, 0);
    cr_assert_eq(rc, 0, "publish refused: %s (%s)", tacnet_errname(rc), why);
}

/* How often MSG_ID is in C's timeline of case REF (-1: no such case there). */
static int s_in_case_ref(tn_client_t *c, const char *ref, const uint8_t *msg_id)
{
    Tacnet__ApiReply *r = NULL;
    int n = -1;
    if (tn_client_case(c, ref, &r, CALL_MS) == 0 && r->show_case) {
        n = 0;
        for (size_t i = 0; i < r->show_case->n_timeline; i++) {
            const Tacnet__Header *h = r->show_case->timeline[i]->header;
            n += h->msg_id.len == 16 && memcmp(h->msg_id.data, msg_id, 16) == 0;
        }
    }
    tn_client_reply_free(&r);
    return n;
}

static int s_in_case(tn_client_t *c, const uint8_t *msg_id)
{
    return s_in_case_ref(c, CASE, msg_id);
}

/* The school opens CASE with consent and refers it to social care, which receives it. */
static void s_refer(tn_client_t *school, tn_client_t *sc)
{
    uint8_t ref[16];
    s_publish_ok(school,
                 "{\"kind\":\"concern\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                 "\"body\":{\"concern\":{\"category\":\"attendance\",\"summary\":\"Tired.\"}}}",
                 NULL);
    s_publish_ok(school,
                 "{\"kind\":\"consent_recorded\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                 "\"body\":{\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"routine\","
                 "\"health\",\"safeguarding\"],\"given_by\":\"mother\"}}}",
                 NULL);
    s_publish_ok(school,
                 "{\"kind\":\"referral\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                 "\"subject_agency\":\"social_care\",\"body\":{\"referral\":{\"to_agency\":"
                 "\"social_care\",\"category\":\"neglect\",\"summary\":\"Persistent absence.\","
                 "\"consent_obtained\":true}}}",
                 ref);
    uint64_t deadline = h_now_ms() + 10000;
    while (s_in_case(sc, ref) != 1 && h_now_ms() < deadline)
        h_sleep_ms(20);
    cr_assert_eq(s_in_case(sc, ref), 1, "the referral did not reach social care");
}

/* Seal P (its header as built) around BODY as SIGNER, for P's recipients: what an insider with
 * the agency's keys can send past its daemon's checks. */
static void s_seal_body(h_pub_t *p, uint32_t signer, Tacnet__Body *body)
{
    h_pub_free(p);
    p->h.recipients = p->rcpt;
    p->header = wire_pack(&p->h.base, &p->hlen);
    body->msg_id = (ProtobufCBinaryData){ 16, p->msg_id };
    body->has_msg_id = 1;
    body->sender = p->h.sender;
    body->has_sender = 1;
    size_t blen;
    uint8_t *b = wire_pack(&body->base, &blen);
    seal_recipient_t r[8];
    for (size_t i = 0; i < p->h.n_recipients; i++) {
        int err = 0;
        const Tacnet__NodeKey *k =
            roster_key_find(env.roster, p->h.recipients[i], 1, (uint64_t)time(NULL) * 1000, &err);
        cr_assert_not_null(k);
        r[i].agency = p->h.recipients[i];
        r[i].key_id = k->key_id;
        memcpy(r[i].seal_pk, k->seal_pk.data, SEAL_KEY_BYTES);
    }
    int rc = seal_event(env.seal[signer], p->header, p->hlen, b, blen, r, p->h.n_recipients,
                        &p->sealed, &p->slen, p->sig);
    free(b);
    cr_assert_eq(rc, 0, "seal_event: %s", tacnet_errname(rc));
}

Test(identifiers, a_name_in_a_body_initials_field_is_refused_at_publish_and_quarantined_on_receipt)
{
    h_agency_t *as = s_up(S), *asc = s_up(SC);
    tn_client_t *school = s_client(as), *sc = s_client(asc);
    s_refer(school, sc);

    /* The school's own daemon refuses a named contact and a meeting attendee given by name,
     * naming the field. */
    char why[256], field[192];
    int rc = s_publish(school,
                       "{\"kind\":\"communication_plan\",\"case_ref\":\"" CASE "\",\"initials\":"
                       "\"TB\",\"body\":{\"communication_plan\":{\"named_contact\":{\"agency\":"
                       "\"school\",\"initials\":\"Sarah\"},\"every_days\":14,\"start_date\":\"2026-"
                       "11-20\",\"method\":"
                       "\"phone_call\"}}}",
                       NULL, why, sizeof(why), field, sizeof(field));
    cr_assert_eq(rc, TACNET_EINITIALS, "%s: %s", tacnet_errname(rc), why);
    cr_assert_str_eq(field, "communication_plan.named_contact.initials");
    cr_assert_not_null(strstr(why, "communication_plan.named_contact.initials"), "%s", why);
    cr_assert_null(strstr(why, "Sarah"), "the refusal repeats the name: %s", why);
    rc = s_publish(school,
                   "{\"kind\":\"meeting_outcome\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                   "\"body\":{\"meeting_outcome\":{\"meeting_id\":"
                   "\"0102030405060708090a0b0c0d0e0f10\",\"held_date\":\"2026-11-20\","
                   "\"attendees\":[{\"initials\":\"TB\"},{\"initials\":\"alice\"}],"
                   "\"child_view_absent\":{\"reason\":\"too_young\"},\"family_view\":\"Agree\"}}}",
                   NULL, why, sizeof(why), field, sizeof(field));
    cr_assert_eq(rc, TACNET_EINITIALS, "%s: %s", tacnet_errname(rc), why);
    cr_assert_str_eq(field, "meeting_outcome.attendees[1].initials");
    /* Initials pass. */
    uint8_t ok_id[16];
    s_publish_ok(school,
                 "{\"kind\":\"communication_plan\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                 "\"body\":{\"communication_plan\":{\"named_contact\":{\"agency\":\"school\","
                 "\"initials\":\"SJ\"},\"every_days\":14,\"start_date\":\"2026-11-20\",\"method\":"
                 "\"phone_call\"}}}",
                 ok_id);
    uint64_t deadline = h_now_ms() + 10000;
    while (s_in_case(sc, ok_id) != 1 && h_now_ms() < deadline)
        h_sleep_ms(20);
    cr_assert_eq(s_in_case(sc, ok_id), 1, "a plan with initials did not reach social care");
    tn_client_destroy(&school);
    h_agency_signal_wait(as, SIGTERM);

    /* An insider with the school's keys seals the same plan past the daemon: the broker cannot
     * see the body and accepts it; social care quarantines it. */
    h_client_t *raw = h_connect(&env, S);
    cr_assert_eq(h_hello(raw, 0, 16, NULL), 0);
    h_pub_t p = { 0 };
    h_pub_init(&p, S, TACNET__EVENT_KIND__COMMUNICATION_PLAN, CASE, 1000);
    h_pub_initials(&p, "TB");
    uint32_t rcpt[] = { S, SC };
    h_pub_rcpt(&p, 2, rcpt);
    Tacnet__Body body = TACNET__BODY__INIT;
    Tacnet__CommunicationPlan plan = TACNET__COMMUNICATION_PLAN__INIT;
    Tacnet__Professional who = TACNET__PROFESSIONAL__INIT;
    who.has_initials = 1;
    who.initials = (ProtobufCBinaryData){ 5, (uint8_t *)"Sarah" };
    plan.named_contact = &who;
    body.event_case = TACNET__BODY__EVENT_COMMUNICATION_PLAN;
    body.communication_plan = &plan;
    s_seal_body(&p, S, &body);
    cr_assert_eq(h_publish(raw, &p, NULL), 0, "the broker refused the sealed event");
    deadline = h_now_ms() + 10000;
    while (!h_file_contains(asc->log, "E_INITIALS") && h_now_ms() < deadline)
        h_sleep_ms(20);
    cr_assert(h_file_contains(asc->log, "E_INITIALS"), "social care did not quarantine it");
    cr_assert_eq(s_in_case(sc, p.msg_id), 0, "a name in an initials field was applied");
    h_pub_free(&p);
    h_close(&raw);
    tn_client_destroy(&sc);
}

/* Send P on C and expect WANT from the broker, with data.mdb byte-identical to BEFORE. */
static void s_refused(h_client_t *c, h_pub_t *p, int want, const char *what, const uint8_t *before,
                      size_t blen)
{
    h_pub_seal(&env, p, S, NULL, NULL, 0);
    h_send_pub(c, p);
    int got = h_result(c, NULL, 5000, NULL, NULL);
    cr_expect_eq(got, want, "%s: got %s, want %s", what, tacnet_errname(got), tacnet_errname(want));
    size_t alen;
    uint8_t *after = h_data_mdb(&env, &alen);
    cr_expect(alen == blen && memcmp(before, after, blen) == 0,
              "%s: the broker stored something for a refused publish", what);
    free(after);
}

Test(identifiers,
     text_in_a_msg_id_or_refers_to_or_a_case_prefix_or_other_initials_is_refused_storing_nothing)
{
    h_client_t *c = h_connect(&env, S);
    cr_assert_eq(h_hello(c, 0, 16, NULL), 0);
    uint64_t sseq = 1;
    h_pub_t p = { 0 };
    uint8_t concern[16];
    h_pub_init(&p, S, TACNET__EVENT_KIND__CONCERN, CASE, sseq++);
    h_pub_seal(&env, &p, S, NULL, NULL, 0);
    cr_assert_eq(h_publish(c, &p, NULL), 0, "a well-formed concern was refused");
    memcpy(concern, p.msg_id, 16);

    size_t blen;
    uint8_t *before = h_data_mdb(&env, &blen);
    /* A msg_id of text: its "time" is thousands of years away. */
    h_pub_init(&p, S, TACNET__EVENT_KIND__CONCERN, CASE, sseq++);
    memcpy(p.msg_id, "Jane Smith SW1A1", 16);
    s_refused(c, &p, TACNET_EMSGID, "msg_id \"Jane Smith SW1A1\"", before, blen);
    /* A msg_id whose time is a day ahead, and one older than max_event_age_days. */
    h_pub_init(&p, S, TACNET__EVENT_KIND__CONCERN, CASE, sseq++);
    uint8_t ms[8];
    bytes_be64_put(ms, (uint64_t)time(NULL) * 1000 + 86400000ULL);
    memcpy(p.msg_id, ms + 2, 6);
    s_refused(c, &p, TACNET_EMSGID, "msg_id a day ahead", before, blen);
    h_pub_init(&p, S, TACNET__EVENT_KIND__CONCERN, CASE, sseq++);
    bytes_be64_put(ms, (uint64_t)time(NULL) * 1000 - 40ULL * 86400000ULL);
    memcpy(p.msg_id, ms + 2, 6);
    s_refused(c, &p, TACNET_EMSGID, "msg_id 40 days old", before, blen);
    /* Inside the window, but a week before its header: not made with it. */
    h_pub_init(&p, S, TACNET__EVENT_KIND__CONCERN, CASE, sseq++);
    bytes_be64_put(ms, (uint64_t)time(NULL) * 1000 - 7ULL * 86400000ULL);
    memcpy(p.msg_id, ms + 2, 6);
    s_refused(c, &p, TACNET_EMSGID, "msg_id a week before its header", before, blen);
    /* refers_to on a kind that takes none, and on a disagreement naming no accepted event. */
    h_pub_init(&p, S, TACNET__EVENT_KIND__CONCERN, CASE, sseq++);
    p.h.has_refers_to = 1;
    p.h.refers_to = (ProtobufCBinaryData){ 16, (uint8_t *)"NHS 943 476 5919" };
    s_refused(c, &p, TACNET_EREFERSTO, "refers_to on a concern", before, blen);
    p.h.refers_to = (ProtobufCBinaryData){ 16, concern };
    s_refused(c, &p, TACNET_EREFERSTO, "a real msg_id on a concern", before, blen);
    h_pub_init(&p, S, TACNET__EVENT_KIND__DISAGREEMENT, CASE, sseq++);
    p.h.has_refers_to = 1;
    p.h.refers_to = (ProtobufCBinaryData){ 16, (uint8_t *)"NHS 943 476 5919" };
    s_refused(c, &p, TACNET_EREFERSTO, "a disagreement about text", before, blen);
    /* A case reference whose prefix is a postcode district, not an area code. */
    h_pub_init(&p, S, TACNET__EVENT_KIND__CONCERN, "SW1A-2026-000123", sseq++);
    s_refused(c, &p, TACNET_ECASEPREFIX, "case SW1A-2026-000123", before, blen);
    /* The case's first event carried JS: the same reference with other initials is the wrong
     * case or the wrong child, from a member or not. */
    h_pub_init(&p, S, TACNET__EVENT_KIND__CONCERN, CASE, sseq++);
    h_pub_initials(&p, "JT");
    s_refused(c, &p, TACNET_ECASEINITIALS, "initials JT on a JS case", before, blen);
    h_pub_init(&p, S, TACNET__EVENT_KIND__CONCERN, CASE, sseq++);
    h_pub_initials(&p, "JSM");
    s_refused(c, &p, TACNET_ECASEINITIALS, "initials JSM on a JS case", before, blen);
    /* To an agency outside the team the case answers E_NOTMEMBER whatever the initials: the
     * two codes would otherwise tell it the child's initials. */
    h_client_t *other = h_connect(&env, SC);
    cr_assert_eq(h_hello(other, 0, 16, NULL), 0);
    const char *guesses[] = { "JT", "JS" };
    for (size_t g = 0; g < 2; g++) {
        h_pub_init(&p, SC, TACNET__EVENT_KIND__CONCERN, CASE, 1 + g);
        h_pub_initials(&p, guesses[g]);
        h_pub_seal(&env, &p, SC, NULL, NULL, 0);
        h_send_pub(other, &p);
        int got = h_result(other, NULL, 5000, NULL, NULL);
        cr_expect_eq(got, TACNET_ENOTMEMBER, "a non-member guessing %s: %s", guesses[g],
                     tacnet_errname(got));
    }
    h_close(&other);
    free(before);

    /* The same well-formed event still goes through afterwards. */
    h_pub_init(&p, S, TACNET__EVENT_KIND__CONCERN, "LA9-2026-000001", sseq++);
    h_pub_seal(&env, &p, S, NULL, NULL, 0);
    cr_assert_eq(h_publish(c, &p, NULL), 0, "an event of area LA9 was refused");
    h_pub_free(&p);
    h_close(&c);
}

/* On receipt too, each case's text is checked against that case's own register: three events
 * sent past the school's daemon (a raw client with its keys, while it is stopped) reach it in
 * one delivery batch when it starts again. The one naming the registered child on its case is
 * quarantined; the same name on the other case, and a clean event on the first, are applied. */
Test(identifiers, a_received_batch_checks_each_case_against_its_own_register)
{
    h_agency_t *as = s_up(S);
    char path[600], out[4096], cmd[800];
    snprintf(path, sizeof(path), "%s/concerns.csv", env.dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("case_ref,initials,observed_date,category,immediate_risk,summary,child_names\n" CASE
          ",TB,2026-11-03,neglect,no,Arrived without a coat on three cold mornings.,"
          "Kacper Wozniak\n"
          "LA7-2026-000124,TB,2026-11-04,attendance,no,Late every Monday this term.,\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "import %s", path);
    cr_assert_eq(h_cli(as, cmd, out, sizeof(out)), 0, "%s", out);
    tn_client_t *school = s_client(as);
    /* The import's own events applied (so its cases exist), then the daemon stops. */
    uint64_t deadline = h_now_ms() + 10000;
    while (h_now_ms() < deadline) {
        Tacnet__ApiReply *r = NULL;
        int ok = tn_client_case(school, "LA7-2026-000124", &r, CALL_MS) == 0 && r->show_case &&
                 r->show_case->n_timeline > 0;
        tn_client_reply_free(&r);
        if (ok)
            break;
        h_sleep_ms(50);
    }
    tn_client_destroy(&school);
    h_agency_signal_wait(as, SIGTERM);

    h_client_t *raw = h_connect(&env, S);
    cr_assert_eq(h_hello(raw, 0, 16, NULL), 0);
    static const struct {
        const char *ref, *summary;
        int applied;
    } ev[] = {
        /* The general name check passes these words; only the register knows the name. */
        { "LA7-2026-000124", "the wozniak family phoned.", 1 },
        { CASE, "the wozniak family phoned.", 0 },
        { CASE, "Late again, no coat.", 1 },
    };
    h_pub_t p[3];
    memset(p, 0, sizeof(p));
    uint32_t rcpt[] = { S };
    for (size_t i = 0; i < 3; i++) {
        h_pub_init(&p[i], S, TACNET__EVENT_KIND__CONCERN, ev[i].ref, 1000 + i);
        h_pub_initials(&p[i], "TB");
        h_pub_rcpt(&p[i], 1, rcpt);
        h_pub_seal(&env, &p[i], S, ev[i].summary, NULL, 0);
        cr_assert_eq(h_publish(raw, &p[i], NULL), 0, "the broker refused raw event %zu", i);
    }
    h_close(&raw);

    cr_assert_eq(h_agency_start(as, NULL), 0);
    school = s_client(as);
    for (size_t i = 0; i < 3; i++) {
        int want = ev[i].applied, n = -2;
        deadline = h_now_ms() + 10000;
        while ((n = s_in_case_ref(school, ev[i].ref, p[i].msg_id)) != want && h_now_ms() < deadline)
            h_sleep_ms(50);
        if (!want) /* give a wrongly applied event time to show */
            h_sleep_ms(300), n = s_in_case_ref(school, ev[i].ref, p[i].msg_id);
        cr_assert_eq(n, want, "event %zu (%s): in the timeline %d times, want %d", i, ev[i].ref, n,
                     want);
    }
    cr_assert(h_file_contains(as->log, "quarantined event"), "no quarantine in the log");
    cr_assert(!h_file_contains(as->log, "Wozniak"), "a registered name is in the daemon's log");
    for (size_t i = 0; i < 3; i++)
        h_pub_free(&p[i]);
    tn_client_destroy(&school);
}

Test(identifiers, the_daemon_refuses_an_unknown_prefix_and_refers_to_on_a_concern)
{
    h_agency_t *as = s_up(S);
    tn_client_t *school = s_client(as);
    char why[256], out[2048];
    int rc = s_publish(school,
                       "{\"kind\":\"concern\",\"case_ref\":\"SW1A-2026-000123\",\"initials\":"
                       "\"TB\",\"body\":{\"concern\":{\"category\":\"attendance\",\"summary\":"
                       "\"Late.\"}}}",
                       NULL, why, sizeof(why), NULL, 0);
    cr_assert_eq(rc, TACNET_ECASEPREFIX, "%s: %s", tacnet_errname(rc), why);
    cr_assert_null(strstr(why, "SW1A"), "the refusal repeats the prefix: %s", why);
    rc = s_publish(school,
                   "{\"kind\":\"concern\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                   "\"refers_to\":\"0000000000000000000000000000abcd\",\"body\":{\"concern\":{"
                   "\"category\":\"attendance\",\"summary\":\"Late.\"}}}",
                   NULL, why, sizeof(why), NULL, 0);
    cr_assert_eq(rc, TACNET_EREFERSTO, "%s: %s", tacnet_errname(rc), why);
    cr_assert_eq(h_cli(as, "outbox", out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "outbox empty"), "something was queued: %s", out);
    tn_client_destroy(&school);
}

Test(identifiers, an_intake_file_registers_the_familys_names_and_the_next_publish_naming_them_fails)
{
    h_agency_t *as = s_up(S);
    char path[600], out[4096];
    snprintf(path, sizeof(path), "%s/concerns.csv", env.dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("case_ref,initials,observed_date,category,immediate_risk,summary,child_names,"
          "parent_carer_names,sibling_names\n" CASE
          ",TB,2026-11-03,neglect,no,Arrived without a coat on three cold mornings.,"
          "Kacper Wozniak,Agnieszka Wozniak;Tomasz Wozniak,Zofia\n"
          "LA7-2026-000124,TB,2026-11-04,attendance,no,Late every Monday this term.,,,\n",
          f);
    fclose(f);
    char cmd[800];
    snprintf(cmd, sizeof(cmd), "import %s", path);
    cr_assert_eq(h_cli(as, cmd, out, sizeof(out)), 0, "%s", out);
    /* The names never reach the log. */
    cr_assert(!h_file_contains(as->log, "Wozniak"), "a registered name is in the daemon's log");

    tn_client_t *school = s_client(as);
    char why[256];
    static const char *const named[] = {
        "Kacper was not in school today.",   "kacper wozniak was not in school today.",
        "Seen with K. Wozniak at the gate.", "Mum (Agnieszka) phoned the office.",
        "Zofia collected the child at 3pm.",
    };
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"kind\":\"concern\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                 "\"body\":{\"concern\":{\"category\":\"attendance\",\"summary\":\"%s\"}}}",
                 named[i]);
        int rc = s_publish(school, json, NULL, why, sizeof(why), NULL, 0);
        cr_expect_eq(rc, TACNET_ETEXT, "\"%s\": %s (%s)", named[i], tacnet_errname(rc), why);
    }
    /* The names belong to their case only; the other row named nobody. */
    s_publish_ok(school,
                 "{\"kind\":\"concern\",\"case_ref\":\"LA7-2026-000124\",\"initials\":\"TB\","
                 "\"body\":{\"concern\":{\"category\":\"attendance\",\"summary\":\"Late "
                 "again, no coat.\"}}}",
                 NULL);
    /* A file naming the child in its own text is refused whole, once the names are known. */
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("case_ref,initials,observed_date,category,immediate_risk,summary,child_names\n" CASE
          ",TB,2026-11-05,neglect,no,Kacper said there was no breakfast.,Kacper Wozniak\n",
          f);
    fclose(f);
    cr_assert_eq(h_cli(as, cmd, out, sizeof(out)), 1, "%s", out);
    cr_assert_not_null(strstr(out, "E_TEXT"), "%s", out);
    tn_client_destroy(&school);
}

/* An agency's daemon refuses an event whose initials differ from those its view holds for the
 * case, naming both (the agency is a member and knows them), and queues nothing; the broker has
 * the same rule for what reaches it past a daemon (above). */
Test(identifiers, other_initials_on_a_known_case_are_refused_by_the_daemon_naming_the_case_s)
{
    h_agency_t *as = h_agency_up(&env, S);
    tn_client_t *school = s_client(as);
    uint8_t first[16];
    s_publish_ok(school,
                 "{\"kind\":\"concern\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\","
                 "\"body\":{\"concern\":{\"category\":\"attendance\",\"summary\":\"Tired.\"}}}",
                 first);
    /* Its own queued event counts before the broker answers, and after. */
    for (int round = 0; round < 2; round++) {
        Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
            &tacnet__publish_request__descriptor,
            "{\"kind\":\"concern\",\"case_ref\":\"" CASE "\",\"initials\":\"BT\","
            "\"body\":{\"concern\":{\"category\":\"attendance\",\"summary\":\"Late.\"}}}");
        Tacnet__ApiReply *r = NULL;
        int rc = tn_client_publish(school, req, &r, 10000);
        protobuf_c_message_free_unpacked(&req->base, NULL);
        cr_assert_eq(rc, TACNET_ECASEINITIALS, "round %d: %s", round, tacnet_errname(rc));
        cr_assert_not_null(r);
        cr_assert_not_null(strstr(r->reason, "initials TB, not BT"), "%s", r->reason);
        cr_assert_not_null(strstr(r->reason, "nothing was sent"), "%s", r->reason);
        tn_client_reply_free(&r);
        /* Then the first is back from the broker: the view holds it. */
        uint64_t deadline = h_now_ms() + 10000;
        while (round == 0 && s_in_case(school, first) != 1 && h_now_ms() < deadline)
            h_sleep_ms(20);
    }
    /* Nothing was queued: the case holds the first event alone, a while later too. */
    h_sleep_ms(500);
    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_case(school, CASE, &r, CALL_MS), 0);
    cr_assert_eq(r->show_case->n_timeline, 1, "the case holds %zu events",
                 r->show_case->n_timeline);
    tn_client_reply_free(&r);
    tn_client_destroy(&school);
    h_agency_signal_wait(as, SIGTERM);
}
