/* The Python example under deploy/examples/python drives a real agency daemon's local API: the
 * API is language-neutral (protobuf over a ZeroMQ socket). Runs Debian's /usr/bin/python3 with
 * python3-zmq and python3-protobuf, which scripts/deps.sh installs. */
#include "harness.h"

#include <sys/wait.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


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

TestSuite(python_example, .init = setup, .fini = teardown, .timeout = 120);

/* Run the example with ARGS against agency A; the output (malloc'd) in *OUT; returns the exit
 * status. */
static int s_run(const h_agency_t *a, const char *args, char **out)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 %s/deploy/examples/python/tacnet_example.py --data-dir %s %s 2>&1",
             getenv("TACNET_SRC"), a->data, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = 0;
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(python_example, publishes_lists_follows_and_shows_a_refusal_with_its_spans)
{
    h_agency_t *school = h_agency_add(&env, TACNET__AGENCY__SCHOOL);
    cr_assert_eq(h_agency_start(school, NULL), 0, "school did not start (log %s)", school->log);
    char *out = NULL;

    int rc = s_run(school,
                   "publish-concern --case LA7-2026-000901 --initials QZ --summary 'Late most "
                   "Mondays; tired in class.'",
                   &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\"msg_id\": \""), "%s", out);
    free(out);

    /* An NHS number in free text is refused with the span, and nothing is queued. */
    rc = s_run(school,
               "publish-concern --case LA7-2026-000901 --initials QZ --summary 'NHS 943 476 "
               "5919 seen'",
               &out);
    cr_assert_eq(rc, 3, "%s", out);
    cr_assert(strstr(out, "\"code\": -1300, \"error\": \"E_TEXT\""), "%s", out);
    cr_assert(strstr(out, "refused: E_TEXT (free text contains identifying details)"), "%s", out);
    cr_assert(strstr(out, "\"field\": \"concern.summary\""), "%s", out);
    cr_assert(strstr(out, "\"start\": 4"), "%s", out);
    free(out);

    /* The concern comes back from the broker and is applied; follow sees it once, and a cursor
     * file makes the next follow start after it. */
    char cursor[600];
    snprintf(cursor, sizeof(cursor), "follow --cursor-file %s/py.cursor", env.dir);
    for (int i = 0; i < 50; i++) {
        rc = s_run(school, cursor, &out);
        cr_assert_eq(rc, 0, "%s", out);
        if (strstr(out, "\"kind\": \"concern\""))
            break;
        free(out);
        out = NULL;
        h_sleep_ms(100);
    }
    cr_assert_not_null(out, "the concern was never applied");
    cr_assert(strstr(out, "\"case_ref\": \"LA7-2026-000901\""), "%s", out);
    free(out);
    rc = s_run(school, cursor, &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert_str_eq(out, "", "a second follow from the cursor repeats nothing: %s", out);
    free(out);

    rc = s_run(school, "cases", &out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "\"case_ref\": \"LA7-2026-000901\", \"initials\": \"QZ\", \"lead\": "
                          "\"school\""),
              "%s", out);
    free(out);
}
