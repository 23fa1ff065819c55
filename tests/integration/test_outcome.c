/* Every publish has a visible outcome: the real broker and agency daemons on loopback, driven
 * through the `tacnet` command line as a practitioner or a script would. A publish waits for the
 * broker's answer and says accepted (with the broker's seq and who receives it), refused (the
 * code and reason, exit 1) or still queued (exit 3); `status` and `outbox` tell it later. */
#include "harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S    TACNET__AGENCY__SCHOOL
#define SC   TACNET__AGENCY__SOCIAL_CARE
#define CASE "LA7-2026-000123"
/* The child's and the family's views, or why absent, that every challenge carries. */
#define CLI_VIEWS " --child-view-absent too_young --family-view 'Mother agrees'"

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

TestSuite(outcome, .init = setup, .fini = teardown, .timeout = 120);

static h_agency_t *s_up(uint32_t agency)
{
    h_agency_t *a = h_agency_add(&env, agency);
    cr_assert_eq(h_agency_start(a, NULL), 0, "agency %u did not start (log %s)", agency, a->log);
    return a;
}

#define CONCERN                                      \
    "publish concern --case " CASE " --initials TB " \
    "--body '{\"category\":\"attendance\",\"summary\":\"Late most Mondays.\"}'"

/* The 32 hex digits after WORD (e.g. "accepted ") in OUT, into ID. */
static void s_id_after(const char *out, const char *word, char id[33])
{
    const char *p = strstr(out, word);
    cr_assert_not_null(p, "no \"%s\" in: %s", word, out);
    p += strlen(word);
    cr_assert(strspn(p, "0123456789abcdef") >= 32, "no msg_id after \"%s\" in: %s", word, out);
    memcpy(id, p, 32);
    id[32] = 0;
}

Test(outcome, an_accepted_publish_says_so_with_the_broker_seq)
{
    h_agency_t *school = s_up(S);
    char out[2048];
    int rc = h_cli(school, CONCERN, out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strncmp(out, "accepted ", 9) == 0, "%s", out);
    cr_assert_not_null(strstr(out, "broker seq "), "%s", out);
    /* Only the school is a member: the command says nobody else receives it. */
    cr_assert_not_null(strstr(out, "no other agency receives it"), "%s", out);
    char id[33], cmd[128];
    s_id_after(out, "accepted ", id);
    /* `status` takes the short id (the random part after the 12-digit time prefix). */
    snprintf(cmd, sizeof(cmd), "status %.8s", id + 12);
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 0, "%s", out);
    cr_assert(strncmp(out, "accepted ", 9) == 0, "%s", out);
    cr_assert_not_null(strstr(out, id), "%s", out);
    cr_assert_not_null(strstr(out, " seq "), "%s", out);
}

Test(outcome, a_disagreement_without_its_event_is_refused_before_it_is_sent)
{
    h_agency_t *school = s_up(S);
    char out[2048];
    cr_assert_eq(h_cli(school, CONCERN, out, sizeof(out)), 0, "%s", out);
    int rc = h_cli(
        school,
        "disagree --case " CASE " --initials TB --topic 'Level of need' "
        "--reason 'Needs are higher' --proposed 'Level 3' --child-safety 'Safe today'" CLI_VIEWS,
        out, sizeof(out));
    cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
    cr_assert_not_null(strstr(out, "E_FIELD"), "%s", out);
    cr_assert_not_null(strstr(out, "refers_to"), "%s", out);
    cr_assert_eq(h_cli(school, "outbox", out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "outbox empty"), "nothing was queued: %s", out);
}

Test(outcome, a_disagreement_the_broker_refuses_exits_1_with_its_reason_and_stays_visible)
{
    h_agency_t *school = s_up(S);
    char out[2048];
    cr_assert_eq(h_cli(school, CONCERN, out, sizeof(out)), 0, "%s", out);
    /* A whole msg_id of no event: the daemon cannot know, the broker refuses it. */
    int rc = h_cli(
        school,
        "disagree --case " CASE " --initials TB --refers-to "
        "0000000000000000000000000000abcd --topic 'Level of need' "
        "--reason 'Needs are higher' --proposed 'Level 3' --child-safety 'Safe today'" CLI_VIEWS,
        out, sizeof(out));
    cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
    cr_assert_not_null(strstr(out, "E_REFERSTO"), "%s", out);
    cr_assert_not_null(strstr(out, "refused by the broker: refers_to names no event"), "%s", out);
    cr_assert_neq(strncmp(out, "accepted ", 9), 0, "%s", out);
    char id[33], cmd[64];
    s_id_after(out, "\nevent ", id);
    snprintf(cmd, sizeof(cmd), "status %s", id);
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 0, "%s", out);
    cr_assert(strncmp(out, "refused ", 8) == 0 && strstr(out, "E_REFERSTO"), "%s", out);
    /* The outbox keeps the refusal visible, with its reason. */
    cr_assert_eq(h_cli(school, "outbox", out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "refused"), "%s", out);
    cr_assert_not_null(strstr(out, "E_REFERSTO"), "%s", out);
    cr_assert_not_null(strstr(out, "no event the broker accepted"), "%s", out);
    cr_assert_not_null(strstr(out, "(a refused event: `outbox draft ID`"), "%s", out);
}

Test(outcome, without_a_broker_a_publish_stays_queued_with_exit_3_then_is_accepted)
{
    h_agency_t *school = s_up(S);
    char out[2048];
    cr_assert_eq(h_cli(school, CONCERN, out, sizeof(out)), 0, "%s", out);
    h_broker_signal_wait(&env, SIGKILL);
    int rc = h_cli(school, CONCERN " --wait 1", out, sizeof(out));
    cr_assert_eq(rc, 3, "exit %d: %s", rc, out);
    cr_assert(strncmp(out, "queued ", 7) == 0, "%s", out);
    cr_assert_not_null(strstr(out, "has not answered"), "%s", out);
    char id[33], cmd[128];
    s_id_after(out, "queued ", id);
    snprintf(cmd, sizeof(cmd), "status %s", id);
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 0, "%s", out);
    cr_assert(strncmp(out, "queued", 6) == 0 || strncmp(out, "sent", 4) == 0, "%s", out);
    cr_assert_eq(h_cli(school, "outbox", out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, id), "%s", out);
    cr_assert_null(strstr(out, "a refused event"), "nothing was refused: %s", out);
    /* The broker comes back: the queued event is sent and accepted, and status says so. */
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    uint64_t until = h_now_ms() + 20000;
    do {
        h_sleep_ms(200);
        cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 0, "%s", out);
    } while (strncmp(out, "accepted", 8) != 0 && h_now_ms() < until);
    cr_assert(strncmp(out, "accepted", 8) == 0, "%s", out);
    cr_assert_eq(h_cli(school, "outbox", out, sizeof(out)), 0, "%s", out);
    cr_assert_null(strstr(out, id), "an accepted event is still listed: %s", out);
}

Test(outcome, no_wait_answers_once_queued_and_names_no_outcome)
{
    h_agency_t *school = s_up(S);
    char out[2048];
    int rc = h_cli(school, CONCERN " --no-wait", out, sizeof(out));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strncmp(out, "queued ", 7) == 0, "%s", out);
    cr_assert_not_null(strstr(out, "not yet sent"), "%s", out);
}

Test(outcome, status_of_an_unknown_or_malformed_id_is_refused_by_name)
{
    h_agency_t *school = s_up(S);
    char out[2048];
    cr_assert_eq(h_cli(school, "status 00ff00ff", out, sizeof(out)), 1, "%s", out);
    cr_assert_not_null(strstr(out, "E_NOTFOUND"), "%s", out);
    cr_assert_eq(h_cli(school, "status zz", out, sizeof(out)), 1, "%s", out);
    cr_assert_not_null(strstr(out, "E_FIELD"), "%s", out);
}

/* Run ARGS as A, expecting exit 0; the output in OUT. */
static void s_ok(const h_agency_t *a, const char *args, char *out, size_t cap)
{
    int rc = h_cli(a, args, out, cap);
    cr_assert_eq(rc, 0, "exit %d for `%s`: %s", rc, args, out);
}

/* Run ARGS as A until its output contains NEEDLE, for up to MS. */
static int s_wait_output(const h_agency_t *a, const char *args, const char *needle, int ms)
{
    char out[8192];
    uint64_t until = h_now_ms() + (uint64_t)ms;
    do {
        if (h_cli(a, args, out, sizeof(out)) == 0 && strstr(out, needle))
            return 1;
        h_sleep_ms(200);
    } while (h_now_ms() < until);
    return 0;
}

#define ON_CASE " --case " CASE " --initials TB "

/* The school opens the case with a concern, records consent and refers to social care; OUT
 * holds the referral's output (its msg_id after "accepted "). */
static void s_open_and_refer(const h_agency_t *school, char *out, size_t cap)
{
    s_ok(school, CONCERN, out, cap);
    s_ok(school,
         "consent" ON_CASE "--state given --scope routine,health,safeguarding --given-by mother",
         out, cap);
    s_ok(school,
         "publish referral" ON_CASE "--subject social_care --body '{\"to_agency\":\"social_care\","
         "\"category\":\"neglect\",\"summary\":\"Persistent absence.\",\"family_aware\":true,"
         "\"consent_obtained\":true,\"referred_date\":\"2026-11-05\"}'",
         out, cap);
}

#define JOIN(subject, initials)                                                          \
    "publish member_joined" ON_CASE "--subject " subject " --body '{\"named_contact\":{" \
    "\"agency\":\"" subject "\",\"initials\":\"" initials "\",\"role\":\"practitioner\"}}'"

Test(outcome, a_join_of_an_agency_already_in_the_team_is_refused_unless_it_is_its_own)
{
    h_agency_t *school = s_up(S), *sc = s_up(SC);
    char out[8192];
    s_open_and_refer(school, out, sizeof(out));
    cr_assert(s_wait_output(sc, "cases", CASE, 10000), "the referral never reached social care");
    cr_assert(s_wait_output(school, "case " CASE, "social_care", 10000),
              "social care is not in the school's team");
    /* The school cannot replace social care's named contact... */
    cr_assert_eq(h_cli(school, JOIN("social_care", "QX"), out, sizeof(out)), 1, "%s", out);
    cr_assert_not_null(strstr(out, "E_EXISTS"), "%s", out);
    cr_assert_not_null(strstr(out, "already a member of this case"), "%s", out);
    cr_assert_not_null(strstr(out, "nothing was sent"), "%s", out);
    /* ...it adds an agency not yet in the team, and social care names its own contact. */
    s_ok(school, JOIN("camhs", "RK"), out, sizeof(out));
    cr_assert(strncmp(out, "accepted ", 9) == 0, "%s", out);
    s_ok(sc, JOIN("social_care", "AW"), out, sizeof(out));
    cr_assert(strncmp(out, "accepted ", 9) == 0, "%s", out);
    cr_assert(s_wait_output(school, "case " CASE, "AW", 10000),
              "social care's own contact never showed");
}

Test(outcome, a_non_party_s_answer_is_refused_locally_and_the_parties_see_it_in_their_inbox)
{
    h_agency_t *school = s_up(S), *sc = s_up(SC), *camhs = s_up(TACNET__AGENCY__CAMHS);
    char out[4096], cmd[1024], decision[33], challenge[33];
    s_open_and_refer(school, out, sizeof(out));
    cr_assert(s_wait_output(sc, "cases", CASE, 10000), "the referral never reached social care");
    s_ok(sc,
         "publish member_joined" ON_CASE "--subject camhs --body '{\"named_contact\":{\"agency\":"
         "\"camhs\",\"initials\":\"RK\",\"role\":\"practitioner\"}}'",
         out, sizeof(out));
    cr_assert(s_wait_output(camhs, "cases", CASE, 10000), "camhs never joined");
    s_ok(sc,
         "decide" ON_CASE "--topic 'Level of need' --chosen 'Early help' --option 'Early help' "
         "--option 'Child in need' --rationale 'Mother engaging' --child-view 'Wants calm' "
         "--family-view 'Prefers early help'",
         out, sizeof(out));
    s_id_after(out, "accepted ", decision);
    snprintf(cmd, sizeof(cmd), "case %s", CASE);
    /* The school challenges the decision by its short id, as a person would type it. */
    cr_assert(s_wait_output(school, cmd, "decision", 10000), "the decision never reached school");
    snprintf(cmd, sizeof(cmd),
             "disagree" ON_CASE "--refers-to %.8s --topic 'Level of need' --reason 'Weekends' "
             "--proposed 'Child in need' --child-safety 'Safe in school today' --urgent" CLI_VIEWS,
             decision + 12);
    s_ok(school, cmd, out, sizeof(out));
    s_id_after(out, "accepted ", challenge);
    /* The school is a party: its DSL's inbox lists the escalation, whatever stage it is at. */
    char short_id[9];
    snprintf(short_id, sizeof(short_id), "%.8s", challenge + 12);
    cr_assert(s_wait_output(school, "inbox --role dsl", short_id, 10000),
              "the school's DSL does not see the escalation");
    cr_assert(s_wait_output(school, "inbox --role dsl", "Level of need", 10000));
    /* CAMHS is a member but not a party: its answer never leaves the daemon. */
    snprintf(cmd, sizeof(cmd),
             "respond" ON_CASE "--refers-to %s --stage 1 --position uphold --comment 'Agree'",
             challenge);
    int rc = h_cli(camhs, cmd, out, sizeof(out));
    cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
    cr_assert(strstr(out, "E_NOTMEMBER") && strstr(out, "only a party"), "%s", out);
    cr_assert_not_null(strstr(out, "nothing was sent"), "%s", out);
    cr_assert_eq(h_cli(camhs, "outbox", out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "outbox empty"), "%s", out);
    /* Social care is a party: an answer at another stage than the escalation's is refused... */
    cr_assert(s_wait_output(sc, "inbox", short_id, 10000), "social care never saw the escalation");
    snprintf(cmd, sizeof(cmd),
             "respond" ON_CASE "--refers-to %s --stage 2 --position uphold --comment 'Plan works'",
             challenge);
    cr_assert_eq(h_cli(sc, cmd, out, sizeof(out)), 1, "%s", out);
    cr_assert(strstr(out, "E_FIELD") && strstr(out, "this escalation is at stage 1"), "%s", out);
    /* ...and its answer is accepted, at the escalation's stage when it names none. */
    snprintf(cmd, sizeof(cmd),
             "respond" ON_CASE "--refers-to %s --position uphold --comment 'Plan works'",
             challenge);
    s_ok(sc, cmd, out, sizeof(out));
    cr_assert(strncmp(out, "accepted ", 9) == 0, "%s", out);
    snprintf(cmd, sizeof(cmd), "case %s", CASE);
    cr_assert(s_wait_output(sc, cmd, "answered an escalation at stage 1", 10000),
              "the response does not show at stage 1");
}

/* Between the broker's PUBACK of an event (out of the outbox) and its DELIVER back (into the view)
 * the publish path still counts the event: a consent recorded the moment the concern that opened
 * the case is accepted finds the school a member, and so after a restart in that window too (the
 * accepted headers are kept in the view's store until their copies are applied). The school's
 * daemon is made to lose the DELIVER of its own concern (TACNET_FAULT_SKIP), which holds that
 * window open; before the daemon kept the accepted headers, the consent was refused E_NOTMEMBER
 * here. */
static void s_publish_before_the_copy_is_back(int restart)
{
    setenv("TACNET_FAULT_SKIP", "agency.skip_own_deliver:1", 1);
    h_agency_t *school = s_up(S);
    char out[4096], cmd[128];
    s_ok(school, CONCERN, out, sizeof(out));
    cr_assert(strncmp(out, "accepted ", 9) == 0, "%s", out);
    if (restart) {
        /* Stopped cleanly and started again, losing the redelivered concern once more. */
        cr_assert_eq(h_agency_signal_wait(school, SIGTERM), 0);
        cr_assert_eq(h_agency_start(school, NULL), 0, "restart (log %s)", school->log);
    }
    unsetenv("TACNET_FAULT_SKIP");
    /* The concern is accepted and its copy lost: the view does not hold the case yet. */
    snprintf(cmd, sizeof(cmd), "case %s", CASE);
    cr_assert_neq(h_cli(school, cmd, out, sizeof(out)), 0, "the case is in the view: %s", out);
    s_ok(school,
         "consent" ON_CASE "--state given --scope routine,health,safeguarding --given-by mother",
         out, sizeof(out));
    cr_assert(strncmp(out, "accepted ", 9) == 0, "%s", out);
    /* The consent's copy shows the gap; the broker sends both again and the view holds both. */
    cr_assert(s_wait_output(school, cmd, "consent: given", 10000),
              "the consent never reached the view");
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "raised a concern"), "the concern is missing: %s", out);
}

Test(outcome, a_publish_between_an_accepted_event_and_its_copy_back_sees_that_event)
{
    s_publish_before_the_copy_is_back(0);
}

Test(outcome, a_restart_between_an_accepted_event_and_its_copy_back_forgets_nothing)
{
    s_publish_before_the_copy_is_back(1);
}

/* Run `import FILE` (a file of deploy/examples) as A; its exit status, the output in OUT. */
static int s_import(const h_agency_t *a, const char *file, char *out, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "import %s/deploy/examples/%s", getenv("TACNET_SRC"), file);
    return h_cli(a, cmd, out, cap);
}

Test(outcome, an_import_reports_the_broker_s_answer_on_every_event)
{
    h_agency_t *school = s_up(S), *camhs = s_up(TACNET__AGENCY__CAMHS);
    char out[8192];
    /* In the order the examples list them: the school's files open its cases. */
    int rc = s_import(school, "school-attendance.csv", out, sizeof(out));
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    cr_assert_not_null(strstr(out, " 0 refused (nobody received them), 0 not answered"), "%s", out);
    /* The same file again: each row is known by its content and is not sent twice. */
    rc = s_import(school, "school-attendance.csv", out, sizeof(out));
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
    cr_assert_not_null(strstr(out, "3 of them were imported before"), "%s", out);
    cr_assert_eq(h_cli(school, "outbox", out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "outbox empty"), "%s", out);
    cr_assert_eq(s_import(school, "school-concerns.csv", out, sizeof(out)), 0, "%s", out);
    /* CAMHS's CAPA file names a case the school opened and CAMHS has not joined: the broker
     * refuses those events, and the import says which and why instead of "imported". */
    rc = s_import(camhs, "camhs-capa.csv", out, sizeof(out));
    unsigned n = 0, accepted = 0, refused = 0, pending = 0;
    const char *sum = strstr(out, "imported ");
    cr_assert_not_null(sum, "%s", out);
    cr_assert_eq(sscanf(sum,
                        "imported %u events: %u accepted by the broker, %u refused (nobody "
                        "received them), %u not answered",
                        &n, &accepted, &refused, &pending),
                 4, "%s", out);
    cr_assert_eq(accepted + refused + pending, n, "%s", out);
    cr_assert_eq(pending, 0, "%s", out);
    cr_assert_gt(refused, 0, "%s", out);
    cr_assert_gt(accepted, 0, "the other case's rows are CAMHS's own: %s", out);
    cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
    cr_assert_not_null(strstr(out, "refused by the broker: E_NOTMEMBER"), "%s", out);
    /* The refusals stay visible in the outbox, which says the lead adds an agency rather than
     * offering a correction no edit of the event could make. */
    cr_assert_eq(h_cli(camhs, "outbox", out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "E_NOTMEMBER"), "%s", out);
    cr_assert_not_null(strstr(out, "its lead professional adds an agency"), "%s", out);
    cr_assert_null(strstr(out, "(a refused event: `outbox draft ID`"), "%s", out);
}

Test(outcome, a_stolen_key_pushing_the_sequence_ahead_raises_a_sequence_alert)
{
    h_agency_t *school = s_up(S);
    char out[4096];
    cr_assert_eq(h_cli(school, CONCERN, out, sizeof(out)), 0, "%s", out);
    /* Someone else with the school's keys publishes far ahead in the school's sequence. */
    h_client_t *thief = h_connect(&env, S);
    h_pub_t p = { 0 };
    uint64_t seq;
    h_pub_init(&p, S, TACNET__EVENT_KIND__CONCERN, "LA9-2026-000999", 1000);
    h_pub_seal(&env, &p, S, NULL, NULL, 0);
    cr_assert_eq(h_publish(thief, &p, &seq), 0);
    h_pub_free(&p);
    /* The real school's next publish is refused, with the gap named, and it is told. */
    int rc = h_cli(school, CONCERN, out, sizeof(out));
    cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
    cr_assert_not_null(strstr(out, "E_REPLAY"), "%s", out);
    cr_assert_not_null(strstr(out, "accepted this agency's events up to 1000"), "%s", out);
    cr_assert_eq(h_cli(school, "outbox", out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "ALERT: the broker refused 1 of this agency's events as out of "
                                   "sequence (latest: E_REPLAY"),
                       "%s", out);
    /* The broker's status names it too, for the partnership's administrator. */
    char *st = h_admin_status(&env);
    cr_assert_not_null(st);
    cr_assert_not_null(strstr(st, "\"sequence_refusals\":1"), "%s", st);
    cr_assert_not_null(strstr(st, "accepted this agency's events up to 1000"), "%s", st);
    free(st);
}

/* The school hears that social care applied its referral; then social care stops, misses an
 * event (with the broker restarted meanwhile if RESTART) and, started again, applies it: the
 * broker's delivery report tells the school. The broker keeps what a report needs of the events
 * it journalled since it started; one journalled before a restart is read back from the
 * journal instead. */
static void s_reported_applied_after_catch_up(int restart)
{
    h_agency_t *school = s_up(S), *sc = s_up(SC);
    char out[4096], cmd[256], id[33];
    s_open_and_refer(school, out, sizeof(out));
    s_id_after(out, "accepted ", id);
    snprintf(cmd, sizeof(cmd), "status %s", id);
    cr_assert(s_wait_output(school, cmd, "social_care      applied", 15000),
              "the school never heard that social care applied its referral");
    /* An event only the school's daemon knows of so far: social care is not running. */
    h_agency_signal_wait(sc, SIGTERM);
    s_ok(school, CONCERN, out, sizeof(out));
    s_id_after(out, "accepted ", id);
    if (restart) {
        cr_assert_eq(h_broker_signal_wait(&env, SIGTERM), 0);
        cr_assert_eq(h_broker_start(&env, NULL), 0);
    }
    snprintf(cmd, sizeof(cmd), "status %s", id);
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "social_care      not applied yet"), "%s", out);
    cr_assert_eq(h_agency_start(sc, NULL), 0);
    cr_assert(s_wait_output(school, cmd, "social_care      applied", 15000),
              "no report once social care caught up%s", restart ? " (broker restarted)" : "");
}

Test(outcome, status_shows_which_recipients_have_applied_an_event)
{
    s_reported_applied_after_catch_up(0);
}

Test(outcome, an_event_journalled_before_a_broker_restart_is_still_reported_applied)
{
    s_reported_applied_after_catch_up(1);
}

#define BOGUS_DISAGREEMENT(extra)                                                              \
    "disagree" ON_CASE "--refers-to 0000000000000000000000000000abcd --topic 'Level of need' " \
    "--reason 'Needs are higher' --proposed 'Level 3' --child-safety 'Safe today'" CLI_VIEWS extra

Test(outcome, a_refused_event_is_corrected_and_sent_again_or_withdrawn_and_leaves_the_outbox)
{
    h_agency_t *school = s_up(S), *sc = s_up(SC);
    char out[8192], cmd[1024], referral[33], refused[33], again[33], second[33];
    s_open_and_refer(school, out, sizeof(out));
    s_id_after(out, "accepted ", referral);
    cr_assert(s_wait_output(sc, "cases", CASE, 10000), "the referral never reached social care");
    cr_assert_eq(h_cli(school, BOGUS_DISAGREEMENT(""), out, sizeof(out)), 1, "%s", out);
    s_id_after(out, "\nevent ", refused);
    /* The daemon kept what was refused: the draft is its content and the command to resend. */
    snprintf(cmd, sizeof(cmd), "outbox draft %.8s", refused + 12);
    s_ok(school, cmd, out, sizeof(out));
    cr_assert_not_null(strstr(out, "publish disagreement --case " CASE), "%s", out);
    cr_assert_not_null(strstr(out, "--replaces "), "%s", out);
    cr_assert_not_null(strstr(out, "\"proposed_position\": \"Level 3\""), "%s", out);
    cr_assert_not_null(strstr(out, "\"child_safety\": \"Safe today\""), "%s", out);
    /* Corrected: it now challenges the referral, naming social care; the refused one is marked
     * corrected by it. */
    snprintf(cmd, sizeof(cmd),
             "disagree" ON_CASE "--refers-to %s --subject social_care --topic 'Level of need' "
             "--reason 'Needs are higher' --proposed 'Level 3' --child-safety 'Safe today' "
             "--replaces %.8s" CLI_VIEWS,
             referral, refused + 12);
    s_ok(school, cmd, out, sizeof(out));
    s_id_after(out, "accepted ", again);
    snprintf(cmd, sizeof(cmd), "status %s", refused);
    s_ok(school, cmd, out, sizeof(out));
    cr_assert_not_null(strstr(out, "corrected: sent again as "), "%s", out);
    cr_assert_not_null(strstr(out, again), "%s", out);
    s_ok(school, "outbox", out, sizeof(out));
    cr_assert_not_null(strstr(out, "outbox empty"), "%s", out);
    /* It cannot be corrected twice. */
    snprintf(cmd, sizeof(cmd), "outbox draft %s", refused);
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 1, "%s", out);
    cr_assert_not_null(strstr(out, "E_NOTFOUND"), "%s", out);
    /* Another refusal, withdrawn by hand. */
    cr_assert_eq(h_cli(school, BOGUS_DISAGREEMENT(""), out, sizeof(out)), 1, "%s", out);
    s_id_after(out, "\nevent ", second);
    s_ok(school, "outbox", out, sizeof(out));
    cr_assert_not_null(strstr(out, second), "%s", out);
    snprintf(cmd, sizeof(cmd), "outbox withdraw %s", second);
    s_ok(school, cmd, out, sizeof(out));
    cr_assert_not_null(strstr(out, "withdrawn: it will not be sent"), "%s", out);
    s_ok(school, "outbox", out, sizeof(out));
    cr_assert_not_null(strstr(out, "outbox empty"), "%s", out);
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 1, "withdrawn twice: %s", out);
    cr_assert_not_null(strstr(out, "E_NOTFOUND"), "%s", out);
    /* A withdrawn event cannot be named by a correction either; nothing is queued. */
    snprintf(cmd, sizeof(cmd), "%s --replaces %s", CONCERN, second);
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 1, "%s", out);
    cr_assert_not_null(strstr(out, "replaces: no refused event"), "%s", out);
    s_ok(school, "outbox", out, sizeof(out));
    cr_assert_not_null(strstr(out, "outbox empty"), "%s", out);
}

/* An assessment whose list of needs makes it larger than the broker takes (LINES sentences of
 * 17 bytes, 500 to a need: each need under the 10,000 characters a field holds), written to a
 * file in the test's directory; its path into PATH. */
static void s_big_event(char *path, size_t cap, int lines)
{
    snprintf(path, cap, "%s/big-assessment-%d.json", env.dir, lines);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("{\"type\":\"early_help\",\"level_of_need\":2,\"needs\":[\"", f);
    for (int i = 0; i < lines; i++)
        fputs(i == 0 || i % 500 ? "Late on Mondays. " : "\",\"Late on Mondays. ", f);
    fputs("\"]}", f);
    fclose(f);
}

Test(outcome, an_event_larger_than_the_broker_takes_is_refused_and_holds_nothing_back)
{
    char out[8192], cmd[1024], path[600], big[33];
    /* A request larger than the local API reads is refused at once, by name. */
    s_big_event(path, sizeof(path), 20000); /* 340,000 bytes */
    h_agency_t *school = s_up(S);
    snprintf(cmd, sizeof(cmd),
             "publish assessment --case %s --initials TB --level 2 --body-file %s", CASE, path);
    uint64_t t0 = h_now_ms();
    cr_assert_neq(h_cli(school, cmd, out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "E_TOOBIG"), "%s", out);
    cr_assert_not_null(strstr(out, "the local API takes at most"), "%s", out);
    cr_assert_lt(h_now_ms() - t0, 5000, "the refusal took %llu ms",
                 (unsigned long long)(h_now_ms() - t0));
    s_big_event(path, sizeof(path), 15600); /* 265,200 bytes: over the broker's 262,144 */
    /* Refused when it is sealed: named, and nothing queued. */
    snprintf(cmd, sizeof(cmd),
             "publish assessment --case %s --initials TB --level 2 --body-file %s", CASE, path);
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 1, "%s", out);
    cr_assert_not_null(strstr(out, "E_TOOBIG"), "%s", out);
    cr_assert_not_null(strstr(out, "nothing was queued"), "%s", out);
    s_ok(school, "outbox", out, sizeof(out));
    cr_assert_not_null(strstr(out, "outbox empty"), "%s", out);
    s_ok(school, CONCERN, out, sizeof(out));
    cr_assert(strncmp(out, "accepted ", 9) == 0, "%s", out);

    /* One queued anyway (as before the publish path checked the size; the test hook): the
     * outbox pump refuses it with the same code, and the events after it are sent. */
    cr_assert_eq(h_agency_signal_wait(school, SIGTERM), 0);
    setenv("TACNET_FAULT_SKIP", "agency.queue_too_big:1", 1);
    cr_assert_eq(h_agency_start(school, NULL), 0, "restart (log %s)", school->log);
    unsetenv("TACNET_FAULT_SKIP");
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 1, "%s", out);
    cr_assert_not_null(strstr(out, "E_TOOBIG"), "%s", out);
    cr_assert_not_null(strstr(out, "larger than the broker takes"), "%s", out);
    s_id_after(out, "\nevent ", big);
    s_ok(school, CONCERN, out, sizeof(out));
    cr_assert(strncmp(out, "accepted ", 9) == 0, "the next event was held back: %s", out);
    /* It stays visible as refused, and can be withdrawn. */
    s_ok(school, "outbox", out, sizeof(out));
    cr_assert_not_null(strstr(out, big), "%s", out);
    cr_assert_not_null(strstr(out, "E_TOOBIG"), "%s", out);
    snprintf(cmd, sizeof(cmd), "outbox withdraw %s", big);
    s_ok(school, cmd, out, sizeof(out));
    s_ok(school, "outbox", out, sizeof(out));
    cr_assert_not_null(strstr(out, "outbox empty"), "%s", out);
}

Test(outcome, an_accepted_event_a_recipient_has_not_applied_in_time_is_listed_in_the_outbox)
{
    h_agency_t *school = h_agency_add(&env, S);
    FILE *f = fopen(school->conf, "a");
    cr_assert_not_null(f);
    fputs("\n[outbox]\nunapplied_after = 1s\n", f);
    fclose(f);
    cr_assert_eq(h_agency_start(school, NULL), 0, "log %s", school->log);
    h_agency_t *sc = s_up(SC);
    char out[8192], id[33];
    s_open_and_refer(school, out, sizeof(out));
    s_id_after(out, "accepted ", id);
    /* Social care applies it: it never lingers in the outbox. */
    cr_assert(s_wait_output(school, "outbox", "None: every recipient has applied", 15000) ||
                  s_wait_output(school, "outbox", "outbox empty", 1),
              "the referral stayed unapplied");
    h_sleep_ms(1500);
    s_ok(school, "outbox", out, sizeof(out));
    cr_assert_null(strstr(out, id), "an applied event is listed: %s", out);
    /* Social care stops: the next event waits on it and, after a second, is listed. */
    h_agency_signal_wait(sc, SIGTERM);
    s_ok(school, CONCERN, out, sizeof(out));
    s_id_after(out, "accepted ", id);
    cr_assert(s_wait_output(school, "outbox", id, 10000), "not listed as unapplied");
    s_ok(school, "outbox", out, sizeof(out));
    cr_assert_not_null(strstr(out, "not yet applied by every recipient"), "%s", out);
    cr_assert_not_null(strstr(out, "social_care      not applied yet"), "%s", out);
    /* Once it catches up, the delivery report takes it off the list. */
    cr_assert_eq(h_agency_start(sc, NULL), 0);
    uint64_t until = h_now_ms() + 15000;
    int gone = 0;
    while (!gone && h_now_ms() < until) {
        gone = h_cli(school, "outbox", out, sizeof(out)) == 0 && !strstr(out, id);
        if (!gone)
            h_sleep_ms(200);
    }
    cr_assert(gone, "still listed after social care applied it: %s", out);
}

Test(outcome, a_decision_carries_the_family_s_views_and_the_case_shows_how_they_want_to_be_involved)
{
    h_agency_t *school = s_up(S);
    char out[8192], cmd[128];
    s_ok(school, CONCERN, out, sizeof(out));
    /* Without the family's view (or why it is absent) nothing is sent. */
    int rc = h_cli(school,
                   "decide" ON_CASE "--topic 'Breakfast club' --chosen 'Offer a place' "
                   "--child-view 'Likes toast'",
                   out, sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert_not_null(strstr(out, "E_FIELD") &&
                           strstr(out, "decision.family_view is required, or family_view_absent"),
                       "%s", out);
    /* Not yet asked: a date to ask by, which the case then owes. */
    s_ok(school,
         "decide" ON_CASE "--topic 'Breakfast club' --chosen 'Offer a place' "
         "--child-view 'Likes toast' --family-view-absent not_yet_asked:2026-12-10",
         out, sizeof(out));
    s_ok(school,
         "publish involvement_preferences" ON_CASE "--body '{\"people\":[{\"who\":\"mother\","
         "\"decisions\":\"decide_together\",\"meetings\":\"decide_together\",\"minutes\":true,"
         "\"preferred_contact\":\"text_message\",\"language\":\"Polish\",\"interpreter\":true},"
         "{\"who\":\"child\",\"decisions\":\"consulted\"}],\"revisit_by_date\":"
         "\"2027-01-15\"}'",
         out, sizeof(out));
    s_ok(school,
         "publish partnership_rating" ON_CASE "--body '{\"about\":\"partnership\",\"by_family\":"
         "\"mother\",\"rung\":4}'",
         out, sizeof(out));
    s_ok(school,
         "publish partnership_rating" ON_CASE "--body '{\"about\":\"partnership\",\"by_family\":"
         "\"mother\",\"rung\":6}'",
         out, sizeof(out));
    snprintf(cmd, sizeof(cmd), "case %s", CASE);
    s_ok(school, cmd, out, sizeof(out));
    cr_assert_not_null(
        strstr(out, "family (mother) via school about the whole team: 6 Co-ordination (up +2)"),
        "%s", out);
    cr_assert_not_null(strstr(out, "how the family want to be involved (revisit by 2027-01-15)"),
                       "%s", out);
    cr_assert_not_null(strstr(out, "mother       decisions: decide together; meetings: decide "
                                   "together; wants the minutes; contact by text_message; "
                                   "language Polish (interpreter)"),
                       "%s", out);
    cr_assert_not_null(strstr(out, "ask the family's view (decision)"), "%s", out);
    cr_assert_not_null(strstr(out, "revisit how the family want to be involved"), "%s", out);
}

Test(outcome, the_latest_import_and_its_broker_answers_survive_a_restart)
{
    h_agency_t *camhs = s_up(TACNET__AGENCY__CAMHS);
    h_agency_t *school = s_up(S);
    char out[8192];
    cr_assert_eq(s_import(school, "school-attendance.csv", out, sizeof(out)), 0, "%s", out);
    cr_assert_eq(s_import(school, "school-concerns.csv", out, sizeof(out)), 0, "%s", out);
    /* Some of CAMHS's rows are refused: the restarted daemon must still say which. */
    cr_assert_eq(s_import(camhs, "camhs-capa.csv", out, sizeof(out)), 1, "%s", out);
    char before[8192];
    h_cli(camhs, "import-status", before, sizeof(before));
    const char *sum = strstr(before, "broker: ");
    cr_assert_not_null(sum, "%s", before);
    cr_assert_not_null(strstr(sum, " refused"), "%s", before);
    cr_assert_eq(h_agency_signal_wait(camhs, SIGTERM), 0);
    cr_assert_eq(h_agency_start(camhs, NULL), 0, "log %s", camhs->log);
    h_cli(camhs, "import-status", out, sizeof(out));
    cr_assert_not_null(strstr(out, "import job 1: done"), "the job was forgotten: %s", out);
    const char *again = strstr(out, "broker: ");
    cr_assert_not_null(again, "%s", out);
    /* The same answers, recounted from the view, each refusal with its reason. */
    size_t n = strcspn(sum, "\n");
    cr_assert_eq(strncmp(sum, again, n), 0, "before: %.*s\nafter: %s", (int)n, sum, out);
    cr_assert_not_null(strstr(out, "refused: E_NOTMEMBER"), "%s", out);
}

/* The shorthands for issue 19's records: a family's ladder rating (rate), an assessment with
 * health visiting's contact fields (assess) and a request for challenge on a decision; each is
 * the same event `publish` would send, checked the same way, and `case` shows them. */
Test(outcome, shorthands_rate_assess_and_ask_for_a_challenge)
{
    h_agency_t *school = s_up(S);
    char out[8192];
    cr_assert_eq(h_cli(school, CONCERN, out, sizeof(out)), 0, "%s", out);
    cr_assert_eq(h_cli(school,
                       "rate --case " CASE " --initials TB --about partnership --rung 6 "
                       "--by-family mother --comment 'Feels heard' --date 2026-11-21",
                       out, sizeof(out)),
                 0, "%s", out);
    cr_assert_eq(h_cli(school,
                       "assess --case " CASE " --initials TB --type school_sen --need 2 "
                       "--summary 'Reading support in place' --date 2026-11-20",
                       out, sizeof(out)),
                 0, "%s", out);
    cr_assert_eq(h_cli(school,
                       "decide --case " CASE " --initials TB --topic Support --chosen 'Reading "
                       "group' --option 'Reading group' --rationale 'Small steps' --child-view "
                       "'Likes the group' --family-view-absent declined --challenge-role dsl "
                       "--challenge-by 2026-12-20",
                       out, sizeof(out)),
                 0, "%s", out);
    int rc = h_cli(school,
                   "decide --case " CASE " --initials TB --topic Support --chosen X --option X "
                   "--rationale Y --child-view A --family-view B --challenge-role practitioner",
                   out, sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "decision.challenge_request.reviewer_role"), "%s", out);
    rc = h_cli(school, "rate --case " CASE " --initials TB --about partnership --rung 12", out,
               sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert_eq(h_cli(school, "case " CASE, out, sizeof(out)), 0, "%s", out);
    cr_assert(strstr(out, "family (mother) via school about the whole team: 6 Co-ordination"), "%s",
              out);
    cr_assert(strstr(out, "school:2"), "%s", out);
}

/* --json gives the same exit code as without: still queued after the wait is 3, not 0. */
Test(outcome, a_json_publish_still_queued_exits_3_like_the_text_one)
{
    h_agency_t *school = s_up(S);
    char out[4096];
    cr_assert_eq(h_cli(school, CONCERN, out, sizeof(out)), 0, "%s", out);
    h_broker_signal_wait(&env, SIGKILL);
    int rc = h_cli(school, "--json " CONCERN " --wait 1", out, sizeof(out));
    cr_assert_eq(rc, 3, "exit %d: %s", rc, out);
    cr_assert(strstr(out, "\"code\""), "%s", out);
    /* Answered once queued (--no-wait): 0, as without --json. */
    rc = h_cli(school, "--json " CONCERN " --no-wait", out, sizeof(out));
    cr_assert_eq(rc, 0, "exit %d: %s", rc, out);
}

Test(outcome, follow_refuses_a_cursor_that_is_not_a_local_seq)
{
    h_agency_t *school = s_up(S);
    char out[2048];
    const char *bad[] = { "99999999999999999999", "12x", "-1", "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char args[128];
        snprintf(args, sizeof(args), "follow --after '%s'", bad[i]);
        int rc = h_cli(school, args, out, sizeof(out));
        cr_expect_eq(rc, 2, "%s: exit %d: %s", bad[i], rc, out);
        cr_expect(strstr(out, "--after"), "%s: %s", bad[i], out);
    }
}

Test(outcome, json_inbox_answers_in_the_reply_shape_of_every_json_command)
{
    h_agency_t *school = s_up(S);
    char out[4096];
    cr_assert_eq(h_cli(school, "--json inbox", out, sizeof(out)), 0, "%s", out);
    cr_assert(out[0] == '{', "a bare array: %s", out);
    cr_assert(strstr(out, "\"code\": 0") && strstr(out, "\"escalations\": []"), "%s", out);
}

/* --agency and --data-dir of another agency's daemon: refused before anything is done (the
 * daemon would have published as itself while the command line spoke of the other). */
Test(outcome, the_command_line_refuses_another_agency_s_daemon)
{
    h_agency_t *school = s_up(S);
    char cmd[2048], path[700], out[4096];
    snprintf(path, sizeof(path), "%s/wrong.out", env.dir);
    snprintf(cmd, sizeof(cmd),
             "'%s/tacnet' --agency camhs --data-dir '%s' publish concern --case " CASE
             " --initials TB --body '{\"category\":\"attendance\"}' >'%s' 2>&1",
             getenv("TACNET_BIN"), school->data, path);
    int st = system(cmd);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
    out[n] = 0;
    if (f)
        fclose(f);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "exit %d: %s", st, out);
    cr_assert_not_null(strstr(out, "is school's, not camhs's"), "%s", out);
    cr_assert_not_null(strstr(out, "nothing was done"), "%s", out);
    char list[4096];
    cr_assert_eq(h_cli(school, "cases", list, sizeof(list)), 0, "%s", list);
    cr_assert_null(strstr(list, CASE), "the concern was published: %s", list);
}

/* The first "YYYY-MM-DD HH:MM " in TEXT is followed by ZONE (one of the |-separated names). */
static int s_time_says(const char *text, const char *zones)
{
    for (const char *p = text; *p; p++) {
        unsigned y, mo, d, h, mi;
        int n = 0;
        if (sscanf(p, "%4u-%2u-%2u %2u:%2u %n", &y, &mo, &d, &h, &mi, &n) != 5 || n != 17)
            continue;
        char zone[16] = "";
        sscanf(p + n, "%15[A-Z]", zone);
        char want[64];
        snprintf(want, sizeof(want), "|%s|", zones);
        char got[20];
        snprintf(got, sizeof(got), "|%s|", zone);
        return *zone && strstr(want, got) != NULL;
    }
    return 0;
}

/* With --json, what the command refuses itself is printed in the shape of the daemon's refusals
 * (code, error name, reason), as the HTTP API answers the same fault: a body it cannot read, a
 * body that is not JSON, an unknown option. Nothing is sent. */
Test(outcome, json_refusals_made_by_the_command_itself_have_the_reply_shape)
{
    h_agency_t *school = h_agency_up(&env, S);
    char out[4096];
    cr_expect_eq(h_cli(school,
                       "--json publish contact_logged --case " CASE " --initials TB --body "
                       "'{\"with\":\"mother\",\"method\":\"phone_call\",\"contact_date\":"
                       "\"2026-13-01\",\"summary\":\"x\"}'",
                       out, sizeof(out)),
                 2, "%s", out);
    cr_expect_not_null(strstr(out, "\"error\": \"E_FIELD\""), "%s", out);
    cr_expect_not_null(strstr(out, "contact_logged.contact_date"), "%s", out);
    cr_expect_eq(h_cli(school,
                       "--json publish contact_logged --case " CASE " --initials TB --body '{x'",
                       out, sizeof(out)),
                 2, "%s", out);
    cr_expect_not_null(strstr(out, "\"error\": \"E_BADMSG\""), "%s", out);
    cr_expect_eq(h_cli(school, "--json --bogus cases", out, sizeof(out)), 2, "%s", out);
    cr_expect_not_null(strstr(out, "\"error\": \"E_INVAL\""), "%s", out);
    cr_assert_eq(h_cli(school, "--json outbox", out, sizeof(out)), 0, "%s", out);
    cr_expect_null(strstr(out, "contact_logged"), "nothing was queued: %s", out);
}

/* A zone the tz database does not have stops the daemon at start, dashboard or not (the
 * minutes' date check and the API replies read the zone), naming the key. */
Test(outcome, an_unknown_time_zone_stops_the_daemon_at_start)
{
    h_agency_t *school = h_agency_add(&env, S);
    FILE *f = fopen(school->conf, "a");
    cr_assert_not_null(f);
    fputs("[http]\nport = 0\ntime_zone = Europe/Atlantis\n", f);
    fclose(f);
    cr_assert_neq(h_agency_start(school, NULL), 0, "a daemon started with an unknown zone");
    cr_expect(h_file_contains(school->log, "[http] time_zone"), "log %s", school->log);
    cr_expect(h_file_contains(school->log, "Europe/Atlantis"), "log %s", school->log);
}

/* Each time the command line shows names its zone: the agency's ([http] time_zone), as its
 * dashboard shows them; --json keeps UTC times and says the zone beside them. */
Test(outcome, times_are_shown_in_the_agency_s_zone_and_name_it)
{
    h_agency_t *school = h_agency_add(&env, S);
    FILE *f = fopen(school->conf, "a");
    cr_assert_not_null(f);
    fputs("[http]\ntime_zone = Europe/London\n", f);
    fclose(f);
    cr_assert_eq(h_agency_start(school, NULL), 0, "the school did not start (log %s)", school->log);
    char out[8192];
    cr_assert_eq(h_cli(school, CONCERN, out, sizeof(out)), 0, "%s", out);
    cr_assert_eq(h_cli(school, "cases", out, sizeof(out)), 0, "%s", out);
    cr_expect(s_time_says(out, "GMT|BST"), "%s", out);
    cr_assert_eq(h_cli(school, "case " CASE, out, sizeof(out)), 0, "%s", out);
    cr_expect(s_time_says(out, "GMT|BST"), "%s", out);
    cr_assert_eq(h_cli(school, "--json cases", out, sizeof(out)), 0, "%s", out);
    cr_expect_not_null(strstr(out, "\"time_zone\": \"Europe/London\""), "%s", out);
    const char *at = strstr(out, "\"last_activity\": \""), *end = at ? strchr(at + 18, '"') : NULL;
    cr_expect(at && end && at[18 + 10] == 'T' && end[-1] == 'Z', "%s", out);
}

/* `measure --plan-id` takes the plan's id as `tacnet case` prints it (plan=...), and the GBO
 * scores are kept against that plan. */
Test(outcome, a_gbo_names_its_plan_by_the_id_the_case_shows)
{
    h_agency_t *school = s_up(S);
    char out[8192];
    cr_assert_eq(h_cli(school, CONCERN, out, sizeof(out)), 0, "%s", out);
    cr_assert_eq(h_cli(school,
                       "plan --case " CASE " --initials TB --type team_around_family --goal "
                       "'On time most days' --start 2026-11-16" CLI_VIEWS,
                       out, sizeof(out)),
                 0, "%s", out);
    const char *at = NULL;
    for (int i = 0; i < 250 && !at; i++) {
        cr_assert_eq(h_cli(school, "case " CASE, out, sizeof(out)), 0, "%s", out);
        at = strstr(out, "plan=");
        if (!at)
            h_sleep_ms(20);
    }
    cr_assert_not_null(at, "no plan in the case: %s", out);
    char short_id[9], cmd[256];
    snprintf(short_id, sizeof(short_id), "%.8s", at + 5);
    snprintf(cmd, sizeof(cmd),
             "measure --case " CASE " --initials TB --tool gbo --values 4 --goals 1 --date "
             "2026-11-20 --plan-id %s",
             short_id);
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 0, "%s", out);
    int placed = 0;
    for (int i = 0; i < 250 && !placed; i++) {
        cr_assert_eq(h_cli(school, "--json case " CASE, out, sizeof(out)), 0, "%s", out);
        const char *m = strstr(out, "\"measures\"");
        placed = m && strstr(m, "\"plan_id\"");
        if (!placed)
            h_sleep_ms(20);
    }
    cr_assert(placed, "the measure names no plan: %s", out);
    snprintf(cmd, sizeof(cmd),
             "measure --case " CASE " --initials TB --tool gbo --values 4 --goals 1 --date "
             "2026-11-20 --plan-id ffffffff");
    cr_assert_eq(h_cli(school, cmd, out, sizeof(out)), 1, "%s", out);
    cr_assert_not_null(strstr(out, "E_NOTFOUND"), "%s", out);
}
