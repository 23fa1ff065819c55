/* A fifth agency from the roster: deploy/agencies.conf's family_support (id 6, routine class
 * only, with consent) provisioned with the four named agencies, served by the generic daemon
 * tacnet-agency beside two named daemons and the real broker. It joins a case by one
 * member_joined (from the command line), receives routine events and not health or safeguarding
 * ones, and publishes its own. The case is synthetic. */
#include "harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "agencies.h"
#include "client/client.h"
#include "err.h"
#include "pbjson_fixture.h"

#define SCH     TACNET__AGENCY__SCHOOL
#define SC      TACNET__AGENCY__SOCIAL_CARE
#define FS      H_FAMILY_SUPPORT
#define CASE    "LA7-2026-000456"
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

TestSuite(fifth_agency, .init = setup, .fini = teardown, .timeout = 120);

static tn_client_t *s_client(const h_agency_t *a)
{
    int err = 0;
    tn_client_t *c = tn_client_new(a->data, &err);
    cr_assert_not_null(c, "tn_client_new %s: %s", a->data, tacnet_errname(err));
    return c;
}

static h_agency_t *s_up(uint32_t agency)
{
    h_agency_t *a = h_agency_add(&env, agency);
    cr_assert_eq(h_agency_start(a, NULL), 0, "agency %u did not start (log %s)", agency, a->log);
    return a;
}

/* Publish the PublishRequest JSON and wait for the broker's answer: 0 with the msg_id into ID
 * and the recipients (bitmask) into *RCPT, or the refusal's code. */
static int s_publish(tn_client_t *c, const char *json, uint8_t id[16], uint32_t *rcpt)
{
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, json);
    req->has_wait_ms = 1;
    req->wait_ms = 5000;
    Tacnet__ApiReply *reply = NULL;
    int rc = tn_client_publish(c, req, &reply, CALL_MS);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    cr_assert_not_null(reply, "no reply from the daemon: %s", tacnet_errname(rc));
    if (rc == 0) {
        cr_assert_eq(reply->published->state, TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED,
                     "the broker did not accept %s: %s", json, reply->reason ? reply->reason : "");
        memcpy(id, reply->published->msg_id.data, 16);
        *rcpt = 0;
        for (size_t i = 0; i < reply->published->n_recipients; i++)
            *rcpt |= 1u << reply->published->recipients[i];
    }
    tn_client_reply_free(&reply);
    return rc;
}

/* Whether the event MSG_ID is in C's timeline of the case within MS. */
static int s_sees(tn_client_t *c, const uint8_t *msg_id, int ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    do {
        Tacnet__ApiReply *r = NULL;
        int found = 0;
        if (tn_client_case(c, CASE, &r, CALL_MS) == 0 && r->show_case)
            for (size_t i = 0; i < r->show_case->n_timeline; i++) {
                const Tacnet__Header *h = r->show_case->timeline[i]->header;
                found |= h->msg_id.len == 16 && memcmp(h->msg_id.data, msg_id, 16) == 0;
            }
        tn_client_reply_free(&r);
        if (found)
            return 1;
        h_sleep_ms(30);
    } while (h_now_ms() < deadline);
    return 0;
}

/* Whether C's view of the case counts AGENCY among its members within MS. */
static int s_member(tn_client_t *c, uint32_t agency, int ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    do {
        Tacnet__ApiReply *r = NULL;
        int found = 0;
        if (tn_client_case(c, CASE, &r, CALL_MS) == 0 && r->show_case && r->show_case->summary)
            for (size_t i = 0; i < r->show_case->summary->n_members; i++)
                found |= (uint32_t)r->show_case->summary->members[i] == agency;
        tn_client_reply_free(&r);
        if (found)
            return 1;
        h_sleep_ms(30);
    } while (h_now_ms() < deadline);
    return 0;
}

#define REQ(kind, extra, body)                                                   \
    "{\"kind\":\"" kind "\",\"case_ref\":\"" CASE "\",\"initials\":\"TB\"" extra \
    ",\"body\":{" body "}}"

static void s_ok(tn_client_t *c, const char *json, uint8_t id[16], uint32_t *rcpt)
{
    int rc = s_publish(c, json, id, rcpt);
    cr_assert_eq(rc, 0, "refused %s: %s", tacnet_errname(rc), json);
}

Test(fifth_agency, joins_by_one_event_receives_routine_only_and_publishes)
{
    cr_assert_str_eq(agencies_name(FS), "family_support", "the roster declares the fifth agency");
    h_agency_t *as = s_up(SCH), *asc = s_up(SC), *afs = s_up(FS);
    tn_client_t *school = s_client(as), *sc = s_client(asc), *fs = s_client(afs);
    uint8_t id[16];
    uint32_t rcpt = 0;

    /* The school opens the case with consent for routine and safeguarding (every agency) and
     * refers to social care. */
    s_ok(school, REQ("concern", "", "\"concern\":{\"category\":\"attendance\"}"), id, &rcpt);
    s_ok(school,
         REQ("consent_recorded", "",
             "\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"routine\",\"safeguarding\"],"
             "\"given_by\":\"mother\"}"),
         id, &rcpt);
    s_ok(school,
         REQ("referral", ",\"subject_agency\":\"social_care\"",
             "\"referral\":{\"to_agency\":\"social_care\",\"category\":\"neglect\"}"),
         id, &rcpt);
    cr_assert(s_sees(sc, id, 10000), "the referral did not reach social care");
    s_ok(sc,
         REQ("consent_recorded", "",
             "\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"health\"],\"agencies\":"
             "[\"social_care\"],\"given_by\":\"mother\"}"),
         id, &rcpt);
    cr_assert(s_sees(sc, id, 10000));

    /* One event brings family support in: the command line names it like any agency. */
    char out[8192];
    int rc = h_cli(asc,
                   "--json publish member_joined --wait 10 --case " CASE " --initials TB --subject "
                   "family_support --body '{\"named_contact\":{\"agency\":\"family_support\","
                   "\"initials\":\"JM\",\"role\":\"practitioner\",\"job_title\":\"Peer support "
                   "worker\"}}'",
                   out, sizeof(out));
    cr_assert_eq(rc, 0, "tacnet publish member_joined --subject family_support: %s", out);
    cr_assert(s_member(sc, FS, 10000), "social care's view never counted family support in");
    cr_assert(s_member(fs, FS, 10000), "family support never learnt it joined");

    /* Routine reaches it (consent covers it, the policy gives it routine). Social care's own
     * contacts are safeguarding by default: this one is marked routine. */
    s_ok(sc,
         REQ("contact_logged", ",\"sensitivity\":\"routine\"",
             "\"contact_logged\":{\"with\":\"mother\",\"method\":\"home_visit\"}"),
         id, &rcpt);
    cr_assert(rcpt & (1u << FS), "a routine event names family support (recipients %#x)", rcpt);
    cr_assert(s_sees(fs, id, 10000), "family support did not receive the routine event");

    /* Health detail does not, though consent for it was given to social care... */
    s_ok(sc,
         REQ("contact_logged", ",\"sensitivity\":\"health\"",
             "\"contact_logged\":{\"with\":\"mother\",\"method\":\"phone_call\",\"summary\":"
             "\"Sleep poor; GP appointment booked.\"}"),
         id, &rcpt);
    cr_assert_not(rcpt & (1u << FS), "a health event names family support (%#x)", rcpt);
    uint8_t health_id[16];
    memcpy(health_id, id, 16);
    /* ...nor safeguarding, though the family's first consent covers it for every agency: the
     * sharing policy gives family support routine only. */
    s_ok(school,
         REQ("concern", ",\"sensitivity\":\"safeguarding\"",
             "\"concern\":{\"category\":\"neglect\",\"summary\":\"No coat twice in the cold.\"}"),
         id, &rcpt);
    cr_assert_not(rcpt & (1u << FS), "a safeguarding event names family support (%#x)", rcpt);
    cr_assert(rcpt & (1u << SC));
    cr_assert(s_sees(sc, id, 10000));

    /* Family support publishes: it reaches the team it may share routine with. */
    uint8_t own[16];
    s_ok(fs,
         REQ("contact_logged", "",
             "\"contact_logged\":{\"with\":\"mother\",\"method\":\"home_visit\",\"summary\":"
             "\"Morning routine chart agreed.\"}"),
         own, &rcpt);
    cr_assert(rcpt & (1u << SCH) && rcpt & (1u << SC), "recipients %#x", rcpt);
    cr_assert(s_sees(school, own, 10000), "the school did not receive family support's event");
    cr_assert(s_sees(sc, own, 10000));
    cr_assert_not(s_sees(fs, health_id, 500), "family support holds the health event");
    cr_assert_not(s_sees(fs, id, 200), "family support holds the safeguarding event");

    /* People read its title from the roster. */
    rc = h_cli(asc, "case " CASE, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "Family support"), "the case view names it by its title: %s", out);

    tn_client_destroy(&school);
    tn_client_destroy(&sc);
    tn_client_destroy(&fs);
}

/* The generic daemon serves the agency its config names, and only one the roster gives the
 * generic profile; a named daemon refuses a name other than its own. */
Test(fifth_agency, the_generic_daemon_is_the_agency_its_config_names)
{
    h_agency_t *a = h_agency_add(&env, FS);
    char text[4096];
    FILE *f = fopen(a->conf, "r");
    cr_assert_not_null(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    const char *cases[][2] = {
        { "name = youth_team", "the roster has no such agency" },
        { "name = camhs", "start its own daemon" },
        { "name =", "[agency] name is required" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *line = strstr(text, "name = family_support");
        cr_assert_not_null(line);
        char edited[4200];
        snprintf(edited, sizeof(edited), "%.*s%s%s", (int)(line - text), text, cases[i][0],
                 line + strlen("name = family_support"));
        f = fopen(a->conf, "w");
        cr_assert_not_null(f);
        fputs(edited, f);
        fclose(f);
        cr_assert_eq(h_agency_start(a, NULL), 1001, "tacnet-agency with %s did not refuse",
                     cases[i][0]);
        cr_assert(h_file_contains(a->log, cases[i][1]), "%s: log lacks \"%s\"", cases[i][0],
                  cases[i][1]);
    }
    f = fopen(a->conf, "w");
    fputs(text, f);
    fclose(f);
    cr_assert_eq(h_agency_start(a, NULL), 0, "tacnet-agency as family_support did not start");
    int st = h_agency_signal_wait(a, SIGTERM);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "tacnet-agency stopped with status %d", st);

    /* A named daemon told another agency's name. */
    h_agency_t *s = h_agency_add(&env, SCH);
    f = fopen(s->conf, "r");
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    char *line = strstr(text, "name = school");
    cr_assert_not_null(line);
    memcpy(line, "name = camhs ", 13);
    f = fopen(s->conf, "w");
    fputs(text, f);
    fclose(f);
    cr_assert_eq(h_agency_start(s, NULL), 1001);
    cr_assert(h_file_contains(s->log, "but this is the school daemon"));
}
