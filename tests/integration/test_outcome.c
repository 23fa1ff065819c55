/* Every publish has a visible outcome: the real broker and agency daemons on loopback, driven
 * through the `tacnet` command line as a practitioner or a script would. A publish waits for the
 * broker's answer and says accepted (with the broker's seq and who receives it), refused (the
 * code and reason, exit 1) or still queued (exit 3); `status` and `outbox` tell it later. */
#include "harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define S    TACNET__AGENCY__SCHOOL
#define SC   TACNET__AGENCY__SOCIAL_CARE
#define CASE "LA7-2026-000123"

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

Test(outcome, a_disagreement_the_broker_refuses_exits_1_with_its_reason)
{
    h_agency_t *school = s_up(S);
    char out[2048];
    cr_assert_eq(h_cli(school, CONCERN, out, sizeof(out)), 0, "%s", out);
    /* No challenged event: refused, not "published". */
    int rc = h_cli(school,
                   "disagree --case " CASE " --initials TB --topic 'Level of need' "
                   "--reason 'Needs are higher' --proposed 'Level 3' --child-safety 'Safe today'",
                   out, sizeof(out));
    cr_assert_eq(rc, 1, "exit %d: %s", rc, out);
    cr_assert_not_null(strstr(out, "E_FIELD"), "%s", out);
    cr_assert_not_null(strstr(out, "refers_to"), "%s", out);
    cr_assert_null(strstr(out, "accepted"), "%s", out);
    /* The outbox keeps the refusal visible, with its reason. */
    cr_assert_eq(h_cli(school, "outbox", out, sizeof(out)), 0, "%s", out);
    cr_assert_not_null(strstr(out, "refused"), "%s", out);
    cr_assert_not_null(strstr(out, "E_FIELD"), "%s", out);
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
