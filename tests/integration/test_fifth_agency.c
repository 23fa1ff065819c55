/* A fifth agency from the roster: deploy/agencies.conf's family_support (id 6, routine class
 * only, with consent) provisioned with the four named agencies, served by the generic daemon
 * tacnet-agency beside two named daemons and the real broker. It joins a case by one
 * member_joined (from the command line), receives routine events and not health or safeguarding
 * ones, and publishes its own. Then an agency beyond the ids a case record held before version 2
 * (youth_justice, id 12, added to a copy of the deploy files): consent given and withdrawn for
 * it alone travels with the case, to the broker and to its own view. The cases are synthetic. */
#include "harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agencies.h"
#include "client/client.h"
#include "err.h"
#include "pbjson_fixture.h"

#define SCH     TACNET__AGENCY__SCHOOL
#define YJ      12
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

/* The deploy file NAME with TAIL appended, written into DIR; its path into OUT. */
static void s_deploy_plus(const char *dir, const char *name, const char *tail, char *out,
                          size_t cap)
{
    char src[1024], buf[16384];
    snprintf(src, sizeof(src), "%s/deploy/%s", h_src(), name);
    FILE *f = fopen(src, "r");
    cr_assert_not_null(f, "%s", src);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    cr_assert_lt(n, sizeof(buf) - 1, "%s is larger than the test reads", src);
    snprintf(out, cap, "%s/%s", dir, name);
    f = fopen(out, "w");
    cr_assert_not_null(f);
    fwrite(buf, 1, n, f);
    fputs(tail, f);
    fclose(f);
}

/* The deploy partnership plus youth_justice (id 12: routine and health, with consent only). */
static void setup_twelve(void)
{
    char dir[] = "/tmp/tacnet-yj-XXXXXX", agencies[256], sharing[256];
    cr_assert_not_null(mkdtemp(dir));
    s_deploy_plus(dir, "agencies.conf",
                  "\n[youth_justice]\nid = 12\ntitle = Youth justice\nclasses = routine, health\n"
                  "profile = generic\n",
                  agencies, sizeof(agencies));
    s_deploy_plus(dir, "sharing.conf",
                  "\n[youth_justice]\nwith_consent = routine, health\nwithout_consent =\n"
                  "legal_duty =\n",
                  sharing, sizeof(sharing));
    h_agencies_path = agencies;
    h_sharing_path = sharing;
    h_setup(&env, NULL);
    h_agencies_path = h_sharing_path = NULL;
    unlink(agencies);
    unlink(sharing);
    rmdir(dir);
    cr_assert_eq(h_broker_start(&env, NULL), 0);
}

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

/* The school opens the case with the family's consent for routine and safeguarding (every
 * agency) and refers to social care; returns once the referral reached social care. */
static void s_opened_and_referred(tn_client_t *school, tn_client_t *sc)
{
    uint8_t id[16];
    uint32_t rcpt = 0;
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
    s_opened_and_referred(school, sc);
    /* The school, which opened the case, leads it: it records the consent given. */
    s_ok(school,
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

    /* A section 47 enquiry is social care's to carry out: family support's is refused by its own
     * daemon before anything is sent, naming the field and who carries it out. Its early help
     * assessment goes. */
    Tacnet__PublishRequest *s47 = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor,
        REQ("assessment", ",\"level_of_need\":4",
            "\"assessment\":{\"type\":\"section_47\",\"level_of_need\":4,\"summary\":"
            "\"Enquiry\",\"completed_date\":\"2026-12-04\"}"));
    Tacnet__ApiReply *reply = NULL;
    int refused = tn_client_publish(fs, s47, &reply, CALL_MS);
    protobuf_c_message_free_unpacked(&s47->base, NULL);
    cr_assert_eq(refused, TACNET_EFIELD, "%s", tacnet_errname(refused));
    cr_assert(reply && reply->reason &&
                  strstr(reply->reason, "assessment.type is child protection enquiry (section 47), "
                                        "which Social care carries out, not Family support"),
              "%s", reply && reply->reason ? reply->reason : "(no reason)");
    tn_client_reply_free(&reply);
    uint8_t early[16];
    s_ok(fs,
         REQ("assessment", ",\"level_of_need\":2",
             "\"assessment\":{\"type\":\"early_help\",\"level_of_need\":2}"),
         early, &rcpt);
    cr_assert(s_sees(sc, early, 10000), "social care did not receive the early help assessment");

    /* Its level of need counts in the case summary like any member's, though its id (6) is
     * beyond the enum's agencies. */
    s_ok(fs,
         REQ("assessment", ",\"sensitivity\":\"routine\",\"level_of_need\":4",
             "\"assessment\":{\"type\":\"early_help\",\"level_of_need\":4}"),
         own, &rcpt);
    cr_assert(s_sees(sc, own, 10000), "social care did not receive family support's assessment");

    /* People read its title from the roster. */
    rc = h_cli(asc, "case " CASE, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "Family support"), "the case view names it by its title: %s", out);
    cr_assert(strstr(out, "family_support:4"), "the level of need leaves family support out: %s",
              out);
    rc = h_cli(asc, "--json case " CASE, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\"family_support\": 4") || strstr(out, "\"family_support\":4"),
              "the JSON level of need leaves family support out: %s", out);

    tn_client_destroy(&school);
    tn_client_destroy(&sc);
    tn_client_destroy(&fs);
}

/* ------------------------------------------------------------------ escalations it is party to */

/* The child's and the family's views every disagreement and resolution carries. */
#define VIEWS ",\"child_view_absent\":{\"reason\":\"too_young\"},\"family_view\":\"Agrees.\""

/* Publish the JSON FMT (its one %s replaced by the hex id ABOUT) from C: the daemon's code, with its reason
 * into WHY and, when accepted, the msg_id into ID and the recipients into *RCPT. */
static int s_try(tn_client_t *c, const char *fmt, const uint8_t *about, char *why, size_t cap,
                 uint8_t id[16], uint32_t *rcpt)
{
    char hex[33] = "", json[2048];
    for (int i = 0; about && i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", about[i]);
    const char *at = strstr(fmt, "%s");
    if (at)
        snprintf(json, sizeof(json), "%.*s%s%s", (int)(at - fmt), fmt, hex, at + 2);
    else
        snprintf(json, sizeof(json), "%s", fmt);
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_fixture_message(
        &tacnet__publish_request__descriptor, json);
    req->has_wait_ms = 1;
    req->wait_ms = 5000;
    Tacnet__ApiReply *reply = NULL;
    int rc = tn_client_publish(c, req, &reply, CALL_MS);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    cr_assert_not_null(reply, "no reply from the daemon: %s", tacnet_errname(rc));
    snprintf(why, cap, "%s", reply->reason ? reply->reason : "");
    if (rc == 0) {
        cr_assert_eq(reply->published->state, TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED,
                     "the broker did not accept %s: %s", json, why);
        memcpy(id, reply->published->msg_id.data, 16);
        *rcpt = 0;
        for (size_t i = 0; i < reply->published->n_recipients; i++)
            *rcpt |= 1u << reply->published->recipients[i];
    }
    tn_client_reply_free(&reply);
    return rc;
}

/* The first escalation of CASE in C's view once it is there, at STATE (0: any) and holding a
 * resolution or not (HELD -1: either), within MS: 1 with its id into ID, else 0. */
static int s_escalation(tn_client_t *c, int state, int held, uint8_t id[16], int ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    do {
        Tacnet__ApiReply *r = NULL;
        int ok = 0;
        if (tn_client_case(c, CASE, &r, CALL_MS) == 0 && r->show_case && r->show_case->state &&
            r->show_case->state->n_escalations) {
            const Tacnet__EscalationView *e = r->show_case->state->escalations[0];
            ok = (!state || (e->has_state && (int)e->state == state)) &&
                 (held < 0 || (e->resolution != NULL) == held);
            if (ok)
                memcpy(id, e->escalation_id.data, 16);
        }
        tn_client_reply_free(&r);
        if (ok)
            return 1;
        h_sleep_ms(30);
    } while (h_now_ms() < deadline);
    return 0;
}

/* The case of the first test: opened by the school with consent for routine and safeguarding,
 * referred to social care, and family support (routine only) brought in by social care. */
static void s_team(h_agency_t *asc, tn_client_t *school, tn_client_t *sc, tn_client_t *fs)
{
    s_opened_and_referred(school, sc);
    char out[8192];
    int rc = h_cli(asc,
                   "--json publish member_joined --wait 10 --case " CASE " --initials TB --subject "
                   "family_support --body '{\"named_contact\":{\"agency\":\"family_support\","
                   "\"initials\":\"JM\",\"role\":\"practitioner\"}}'",
                   out, sizeof(out));
    cr_assert_eq(rc, 0, "tacnet publish member_joined --subject family_support: %s", out);
    cr_assert(s_member(sc, FS, 10000), "social care's view never counted family support in");
    cr_assert(s_member(fs, FS, 10000), "family support never learnt it joined");
}

#define RESOLUTION(extra)                                                                 \
    REQ("escalation_resolved", ",\"refers_to\":\"%s\"" extra,                             \
        "\"escalation_resolved\":{\"outcome\":\"Peer support continues; reviewed in six " \
        "weeks.\",\"child_safety\":\"Safe today.\"" VIEWS "}")

/* An answer on an escalation reaches every party of it: social care's resolution at its default
 * class (safeguarding), which family support does not receive, is refused naming family support
 * and is not sent; at routine it reaches family support, which acknowledges it. A disagreement
 * likewise reaches the agency it challenges. */
Test(fifth_agency, an_answer_on_an_escalation_reaches_every_party_or_is_refused_naming_it)
{
    h_agency_t *as = s_up(SCH), *asc = s_up(SC), *afs = s_up(FS);
    tn_client_t *school = s_client(as), *sc = s_client(asc), *fs = s_client(afs);
    s_team(asc, school, sc, fs);
    uint8_t own[16], id[16], esc[16], esc_fs[16];
    uint32_t rcpt = 0;
    char why[2048];
    s_ok(fs,
         REQ("contact_logged", "",
             "\"contact_logged\":{\"with\":\"mother\",\"method\":\"home_visit\",\"summary\":"
             "\"Bedtime chart dropped.\"}"),
         own, &rcpt);
    cr_assert(s_sees(sc, own, 10000), "family support's contact did not reach social care");

    /* Social care challenges it: at its default class family support would never hear of the
     * disagreement about its own work. */
#define DISAGREE(extra)                                                                          \
    REQ("disagreement", ",\"refers_to\":\"%s\"" extra,                                           \
        "\"disagreement\":{\"topic\":\"Bedtime plan\",\"proposed_position\":\"Keep the chart\"," \
        "\"reason\":\"It was working.\",\"child_safety\":\"Safe today.\"" VIEWS "}")
    int rc = s_try(sc, DISAGREE(""), own, why, sizeof(why), id, &rcpt);
    cr_assert_eq(rc, TACNET_ECONSENT, "a disagreement family support would not receive: %s (%s)",
                 tacnet_errname(rc), why);
    cr_expect(strstr(why, "Family support") && strstr(why, "nothing was sent"), "%s", why);
    rc = s_try(sc, DISAGREE(",\"sensitivity\":\"routine\""), own, why, sizeof(why), id, &rcpt);
    cr_assert_eq(rc, 0, "%s: %s", tacnet_errname(rc), why);
    cr_assert(rcpt & (1u << FS), "the disagreement does not name family support (%#x)", rcpt);
    cr_assert(s_escalation(sc, 0, 0, esc, 10000), "no escalation in social care's view");
    cr_assert(s_escalation(fs, 0, 0, esc_fs, 10000), "no escalation in family support's view");
    cr_assert(memcmp(esc, esc_fs, 16) == 0);

    /* (a) The resolution at social care's default class: refused, naming family support and
     * saying how to send it; nothing reaches the broker, so no resolution is proposed. */
    rc = s_try(sc, RESOLUTION(""), esc, why, sizeof(why), id, &rcpt);
    cr_assert_eq(rc, TACNET_ECONSENT, "a resolution family support would not receive: %s (%s)",
                 tacnet_errname(rc), why);
    cr_expect(strstr(why, "Family support is a party to this escalation but would not receive "
                          "this resolution"),
              "%s", why);
    cr_expect(strstr(why, "class of information") && strstr(why, "safeguarding override") &&
                  strstr(why, "nothing was sent"),
              "%s", why);
    cr_assert_not(s_escalation(fs, TACNET__ESCALATION_EVENT__ESC_RESOLVED, -1, id, 1000),
                  "the refused resolution was proposed to family support all the same");
    cr_assert_not(s_escalation(sc, TACNET__ESCALATION_EVENT__ESC_RESOLVED, -1, id, 200),
                  "the refused resolution was proposed all the same");

    /* (b) At a class family support receives it reaches it, text and all, and it accepts. */
    rc = s_try(sc, RESOLUTION(",\"sensitivity\":\"routine\""), esc, why, sizeof(why), id, &rcpt);
    cr_assert_eq(rc, 0, "%s: %s", tacnet_errname(rc), why);
    cr_assert(rcpt & (1u << FS), "the resolution does not name family support (%#x)", rcpt);
    cr_assert(s_escalation(fs, 0, 1, id, 10000), "family support never held the resolution");
    rc = s_try(
        fs,
        REQ("escalation_ack", ",\"refers_to\":\"%s\"", "\"escalation_ack\":{\"accepted\":true}"),
        esc, why, sizeof(why), id, &rcpt);
    cr_assert_eq(rc, 0, "family support's acknowledgement: %s (%s)", tacnet_errname(rc), why);
    cr_assert(s_escalation(sc, TACNET__ESCALATION_EVENT__ESC_CLOSED, -1, id, 10000),
              "the escalation did not close once every party accepted");
#undef DISAGREE

    tn_client_destroy(&school);
    tn_client_destroy(&sc);
    tn_client_destroy(&fs);
}

/* (c) A party that joins an escalation after its resolution was proposed is told by the broker
 * that one is, but never received its text (safeguarding, which family support does not
 * receive, sent before it was a party): its acknowledgement is refused, not taken as accepting
 * what it never read, and the escalation stays open. */
Test(fifth_agency, an_acknowledgement_of_a_resolution_the_view_never_received_is_refused)
{
    h_agency_t *as = s_up(SCH), *asc = s_up(SC), *afs = s_up(FS);
    tn_client_t *school = s_client(as), *sc = s_client(asc), *fs = s_client(afs);
    s_team(asc, school, sc, fs);
    uint8_t decision[16], id[16], esc[16];
    uint32_t rcpt = 0;
    char why[2048];
    s_ok(sc,
         REQ("decision", ",\"sensitivity\":\"routine\"",
             "\"decision\":{\"topic\":\"Level of need\",\"chosen\":\"Early help\",\"rationale\":"
             "\"Needs can be met with support.\"" VIEWS "}"),
         decision, &rcpt);
    cr_assert(s_sees(fs, decision, 10000), "the routine decision did not reach family support");
    int rc = s_try(school,
                   REQ("disagreement", ",\"refers_to\":\"%s\"",
                       "\"disagreement\":{\"topic\":\"Level of need\",\"proposed_position\":"
                       "\"Child in need\",\"reason\":\"Absence is rising.\",\"child_safety\":"
                       "\"Safe today.\"" VIEWS "}"),
                   decision, why, sizeof(why), id, &rcpt);
    cr_assert_eq(rc, 0, "%s: %s", tacnet_errname(rc), why);
    cr_assert(s_escalation(sc, 0, 0, esc, 10000), "no escalation in social care's view");
    /* Family support is no party yet: a safeguarding resolution is the parties' business. */
    rc = s_try(sc, RESOLUTION(""), esc, why, sizeof(why), id, &rcpt);
    cr_assert_eq(rc, 0, "%s: %s", tacnet_errname(rc), why);
    cr_assert_not(rcpt & (1u << FS));
    cr_assert(s_escalation(school, 0, 1, id, 10000), "the school never held the resolution");
    /* Family support challenges the same decision: it joins the escalation as a party. */
    rc = s_try(fs,
               REQ("disagreement", ",\"refers_to\":\"%s\"",
                   "\"disagreement\":{\"topic\":\"Level of need\",\"proposed_position\":\"Keep "
                   "early help\",\"reason\":\"The family is engaging.\",\"child_safety\":\"Safe "
                   "today.\"" VIEWS "}"),
               decision, why, sizeof(why), id, &rcpt);
    cr_assert_eq(rc, 0, "%s: %s", tacnet_errname(rc), why);
    cr_assert(s_escalation(fs, TACNET__ESCALATION_EVENT__ESC_RESOLVED, 0, id, 10000),
              "family support was never told a resolution is proposed");
    cr_assert(memcmp(id, esc, 16) == 0, "family support's disagreement opened another escalation");

    rc = s_try(
        fs,
        REQ("escalation_ack", ",\"refers_to\":\"%s\"", "\"escalation_ack\":{\"accepted\":true}"),
        esc, why, sizeof(why), id, &rcpt);
    cr_assert_eq(rc, TACNET_EKIND, "an acknowledgement of a resolution never received: %s (%s)",
                 tacnet_errname(rc), why);
    cr_expect(strstr(why, "has not received the resolution proposed") &&
                  strstr(why, "nothing was sent"),
              "%s", why);
    /* The school accepts: family support's acknowledgement is still owed, so it stays open. */
    rc = s_try(
        school,
        REQ("escalation_ack", ",\"refers_to\":\"%s\"", "\"escalation_ack\":{\"accepted\":true}"),
        esc, why, sizeof(why), id, &rcpt);
    cr_assert_eq(rc, 0, "%s: %s", tacnet_errname(rc), why);
    cr_assert_not(s_escalation(sc, TACNET__ESCALATION_EVENT__ESC_CLOSED, -1, id, 1000),
                  "the escalation closed without family support's acknowledgement");

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
    /* It has no intake adapter: an import is refused, saying so, and the daemon goes on. */
    char out[2048];
    int rc = h_cli(a, "import deploy/examples/school-attendance.csv", out, sizeof(out));
    cr_assert_neq(rc, 0, "an import into the generic daemon was taken: %s", out);
    cr_assert_not_null(strstr(out, "E_KIND"), "%s", out);
    cr_assert_not_null(strstr(out, "no intake adapter"), "%s", out);
    cr_assert_eq(h_cli(a, "cases", out, sizeof(out)), 0, "the daemon stopped answering: %s", out);
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

/* Whether C's view of the case holds consent for AGENCY covering class K (WANT 1) or not (WANT
 * 0) within MS. */
static int s_consent_for(tn_client_t *c, uint32_t agency, Tacnet__Sensitivity k, int want, int ms)
{
    uint64_t deadline = h_now_ms() + (uint64_t)ms;
    do {
        Tacnet__ApiReply *r = NULL;
        int covers = 0;
        if (tn_client_case(c, CASE, &r, CALL_MS) == 0 && r->show_case && r->show_case->state) {
            const Tacnet__CaseState *st = r->show_case->state;
            for (size_t i = 0; i < st->n_consent_cover; i++)
                for (size_t j = 0; (uint32_t)st->consent_cover[i]->agency == agency &&
                                   j < st->consent_cover[i]->n_classes;
                     j++)
                    covers |= st->consent_cover[i]->classes[j] == k;
        }
        tn_client_reply_free(&r);
        if (covers == want)
            return 1;
        h_sleep_ms(30);
    } while (h_now_ms() < deadline);
    return 0;
}

/* Its own suite: Criterion runs a suite's .init before a test's own, so a test could not
 * replace setup. */
TestSuite(agency_twelve, .init = setup_twelve, .fini = teardown, .timeout = 120);

Test(agency_twelve, joins_and_the_consent_for_it_travels)
{
    cr_assert_str_eq(agencies_name(YJ), "youth_justice", "the roster declares agency 12");
    h_agency_t *as = s_up(SCH), *asc = s_up(SC), *ayj = s_up(YJ);
    tn_client_t *school = s_client(as), *sc = s_client(asc), *yj = s_client(ayj);
    uint8_t id[16];
    uint32_t rcpt = 0;

    /* The school opens the case with consent for routine (every agency) and refers to social
     * care; the family then consents to health sharing with youth justice alone. */
    s_ok(school, REQ("concern", "", "\"concern\":{\"category\":\"attendance\"}"), id, &rcpt);
    s_ok(school,
         REQ("consent_recorded", "",
             "\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"routine\"],"
             "\"given_by\":\"mother\"}"),
         id, &rcpt);
    s_ok(school,
         REQ("referral", ",\"subject_agency\":\"social_care\"",
             "\"referral\":{\"to_agency\":\"social_care\",\"category\":\"neglect\"}"),
         id, &rcpt);
    cr_assert(s_sees(sc, id, 10000), "the referral did not reach social care");
    /* The school, which opened the case, leads it: it records the consent given. */
    s_ok(school,
         REQ("consent_recorded", "",
             "\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"health\"],\"agencies\":"
             "[\"youth_justice\"],\"given_by\":\"mother\"}"),
         id, &rcpt);
    cr_assert(s_sees(sc, id, 10000));

    /* Social care brings youth justice in; the join tells it the consent in force, its own
     * health consent among it (the broker refuses a join whose account differs). */
    char out[8192];
    int rc = h_cli(asc,
                   "--json publish member_joined --wait 10 --case " CASE " --initials TB --subject "
                   "youth_justice --body '{\"named_contact\":{\"agency\":\"youth_justice\","
                   "\"initials\":\"RP\",\"role\":\"practitioner\",\"job_title\":\"Case "
                   "manager\"}}'",
                   out, sizeof(out));
    cr_assert_eq(rc, 0, "tacnet publish member_joined --subject youth_justice: %s", out);
    cr_assert(s_member(yj, YJ, 10000), "youth justice never learnt it joined");
    cr_assert(s_consent_for(yj, YJ, TACNET__SENSITIVITY__HEALTH, 1, 10000),
              "youth justice's view lacks the health consent given for it");
    cr_assert(s_consent_for(yj, YJ, TACNET__SENSITIVITY__ROUTINE, 1, 1000));
    cr_assert(s_consent_for(sc, YJ, TACNET__SENSITIVITY__HEALTH, 1, 1000));

    /* A health event reaches youth justice (and not the school, which has no health class). */
    s_ok(sc,
         REQ("contact_logged", ",\"sensitivity\":\"health\"",
             "\"contact_logged\":{\"with\":\"mother\",\"method\":\"phone_call\",\"summary\":"
             "\"Sleep poor; GP appointment booked.\"}"),
         id, &rcpt);
    cr_assert(rcpt & (1u << YJ), "a health event does not name youth justice (%#x)", rcpt);
    cr_assert_not(rcpt & (1u << SCH), "%#x", rcpt);
    cr_assert(s_sees(yj, id, 10000), "youth justice did not receive the health event");

    /* Youth justice publishes routine: the team receives it. */
    uint8_t own[16];
    s_ok(yj,
         REQ("contact_logged", "",
             "\"contact_logged\":{\"with\":\"mother\",\"method\":\"home_visit\"}"),
         own, &rcpt);
    cr_assert(rcpt & (1u << SCH) && rcpt & (1u << SC), "recipients %#x", rcpt);
    cr_assert(s_sees(school, own, 10000), "the school did not receive youth justice's event");
    cr_assert(s_sees(sc, own, 10000));

    /* The family withdraws health for youth justice: the next health event passes it by, as
     * the broker's stored case (which would refuse a recipient list naming it) agrees. */
    s_ok(sc,
         REQ("consent_recorded", "",
             "\"consent_recorded\":{\"state\":\"withdrawn\",\"scope\":[\"health\"],"
             "\"agencies\":[\"youth_justice\"],\"given_by\":\"mother\"}"),
         id, &rcpt);
    cr_assert(rcpt & (1u << YJ), "a consent record is a team fact (%#x)", rcpt);
    cr_assert(s_consent_for(yj, YJ, TACNET__SENSITIVITY__HEALTH, 0, 10000),
              "youth justice's view still holds the withdrawn consent");
    cr_assert(s_consent_for(sc, YJ, TACNET__SENSITIVITY__HEALTH, 0, 10000));
    s_ok(sc,
         REQ("contact_logged", ",\"sensitivity\":\"health\"",
             "\"contact_logged\":{\"with\":\"mother\",\"method\":\"phone_call\"}"),
         id, &rcpt);
    cr_assert_not(rcpt & (1u << YJ), "health after the withdrawal names youth justice (%#x)", rcpt);
    cr_assert_not(s_sees(yj, id, 500), "youth justice holds the later health event");

    rc = h_cli(asc, "case " CASE, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "Youth justice"), "the case view names it by its title: %s", out);

    tn_client_destroy(&school);
    tn_client_destroy(&sc);
    tn_client_destroy(&yj);
}
