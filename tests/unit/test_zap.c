/* Unit tests of the broker's ZAP handler: which CURVE keys get a User-Id, the code of each
 * refusal, and how often a refusal is logged. Requests are sent over inproc as libzmq sends them;
 * the roster and keys come from a provisioned partnership (no process is started). */
#include "harness.h"
#include "broker/zap.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "err.h"

static h_env_t env;
static void *ctx, *req;
static zap_t *zap;

static void setup(void)
{
    h_setup(&env, NULL);
    ctx = zmq_ctx_new();
    int err = 0;
    zap = zap_new(ctx, &err);
    cr_assert_not_null(zap, "zap_new: %s", tacnet_errname(err));
    req = zmq_socket(ctx, ZMQ_REQ);
    cr_assert_eq(zmq_connect(req, ZAP_ENDPOINT), 0);
}

static void teardown(void)
{
    zmq_close(req);
    zap_destroy(&zap);
    zmq_ctx_term(ctx);
    h_teardown(&env);
}

TestSuite(zap, .init = setup, .fini = teardown, .timeout = 60);

/* Ask about KEY (32 bytes; NULL: a PLAIN request) at NOW_MS. Returns zap_handle's answer, the
 * status code into STATUS and the User-Id into USER. */
static int s_ask(const uint8_t *key, uint64_t now_ms, char status[4], char user[32])
{
    const char *mech = key ? "CURVE" : "PLAIN";
    zmq_send(req, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(req, "7", 1, ZMQ_SNDMORE);
    zmq_send(req, ZAP_DOMAIN, strlen(ZAP_DOMAIN), ZMQ_SNDMORE);
    zmq_send(req, "127.0.0.1", 9, ZMQ_SNDMORE);
    zmq_send(req, "", 0, ZMQ_SNDMORE);
    zmq_send(req, mech, strlen(mech), ZMQ_SNDMORE);
    zmq_send(req, key ? (const void *)key : "user", key ? 32 : 4, 0);
    int rc = zap_handle(zap, env.roster, now_ms);
    char frames[6][64];
    int n = 0, more = 1;
    while (more && n < 6) {
        int len = zmq_recv(req, frames[n], sizeof(frames[n]) - 1, 0);
        cr_assert_geq(len, 0);
        frames[n][len < 63 ? len : 63] = 0;
        n++;
        size_t sz = sizeof(more);
        zmq_getsockopt(req, ZMQ_RCVMORE, &more, &sz);
    }
    cr_assert_eq(n, 6, "a ZAP reply of %d frames", n);
    cr_assert_str_eq(frames[1], "7", "the request id is not echoed");
    snprintf(status, 4, "%.3s", frames[2]);
    snprintf(user, 32, "%.31s", frames[4]);
    return rc;
}

static uint64_t s_now(void)
{
    return (uint64_t)time(NULL) * 1000;
}

Test(zap, an_agency_key_gets_its_user_id_and_the_broker_s_own_key_is_refused)
{
    char status[4], user[32];
    cr_expect_eq(s_ask(env.keys[TACNET__AGENCY__SCHOOL]->curve_pk, s_now(), status, user), 1);
    cr_expect_str_eq(status, "200");
    cr_expect_str_eq(user, "2:1");

    cr_expect_eq(s_ask(env.keys[TACNET__AGENCY__BROKER]->curve_pk, s_now(), status, user),
                 TACNET_ENOTAGENCY);
    cr_expect_str_eq(status, "400");
    cr_expect_str_eq(user, "", "the broker's key got a User-Id");

    uint8_t stranger[32];
    randombytes_buf(stranger, sizeof(stranger));
    cr_expect_eq(s_ask(stranger, s_now(), status, user), TACNET_EKEYID);
    cr_expect_str_eq(status, "400");
    cr_expect_eq(s_ask(NULL, s_now(), status, user), TACNET_EINVAL);
    cr_expect_str_eq(status, "400");
}

Test(zap, a_user_id_naming_the_broker_is_not_an_agency_s)
{
    uint32_t agency = 0, key_id = 0;
    cr_expect_eq(zap_user_parse("4:2", &agency, &key_id), 0);
    cr_expect(agency == 4 && key_id == 2);
    cr_expect_eq(zap_user_parse("15:1", &agency, &key_id), TACNET_EINVAL);
    cr_expect_eq(zap_user_parse("0:1", &agency, &key_id), TACNET_EINVAL);
    cr_expect_eq(zap_user_parse("16:1", &agency, &key_id), TACNET_EINVAL);
}

/* Lines of FILE containing NEEDLE. */
static long s_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[1024];
    long n = 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

Test(zap, a_retried_refusal_is_logged_once_a_minute_with_a_count)
{
    char path[600], status[4], user[32];
    snprintf(path, sizeof(path), "%s/zap.log", env.dir);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    dup2(fileno(f), STDERR_FILENO);
    uint64_t t0 = s_now();
    /* libzmq retries a refused client every 100 ms: a minute of it, then one more. */
    for (int i = 0; i < 600; i++)
        s_ask(env.keys[TACNET__AGENCY__BROKER]->curve_pk, t0 + (uint64_t)i * 100, status, user);
    s_ask(env.keys[TACNET__AGENCY__BROKER]->curve_pk, t0 + 60000, status, user);
    /* A flood of fresh keys stops at the minute's budget. */
    for (int i = 0; i < 100; i++) {
        uint8_t k[32];
        randombytes_buf(k, sizeof(k));
        s_ask(k, t0 + 60000, status, user);
    }
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fclose(f);
    cr_expect_eq(s_lines(path, "E_NOTAGENCY"), 2, "the broker's key retried for a minute");
    cr_expect_eq(s_lines(path, "(599 more since the last line)"), 1, "the count is not logged");
    cr_expect_eq(s_lines(path, "with the roster key of broker"), 2);
    long keyid = s_lines(path, "E_KEYID");
    cr_expect(keyid > 0 && keyid < 25, "%ld lines for 100 fresh keys in a minute", keyid);
}
