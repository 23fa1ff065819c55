/* client: libtacnet-client against a fake daemon thread (a ROUTER on ipc:// in a temp dir that
 * answers canned replies): envelope, id matching, stale replies, timeouts, refusals. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "client/client.h"
#include "err.h"

typedef enum {
    FAKE_ANSWER,        /* answer each request at once */
    FAKE_STALE_FIRST,   /* send a reply with another id, then the right one */
    FAKE_GARBAGE_FIRST, /* send malformed messages, then the right reply */
    FAKE_LATE,          /* leave request 1 unanswered; answer it just before request 2 */
    FAKE_REFUSE,        /* answer with E_TEXT and two findings */
} fake_mode_t;

#define FAKE_MAX 8

typedef struct {
    void *ctx, *router;
    fake_mode_t mode;
    int expect; /* requests to serve before exiting */
    /* what the fake saw, checked by the test after join */
    int served;
    int frames[FAKE_MAX];
    uint64_t ids[FAKE_MAX];
    int ops[FAKE_MAX];
    char case_ref[32];
    char dir[64];
    char endpoint[128];
    pthread_t thread;
    int joined;
} fake_t;

static void s_send_reply(fake_t *f, zmq_msg_t *rid, uint64_t id, int code, int with_findings)
{
    Tacnet__ApiReply r = TACNET__API_REPLY__INIT;
    Tacnet__ListCasesReply cases = TACNET__LIST_CASES_REPLY__INIT;
    Tacnet__Finding f1 = TACNET__FINDING__INIT, f2 = TACNET__FINDING__INIT;
    Tacnet__Finding *fs[] = { &f1, &f2 };
    r.id = id;
    r.code = code;
    if (with_findings) {
        r.reason = "free text contains identifying details";
        f1.kind = "nhs_number";
        f1.start = 4;
        f1.end = 14;
        f1.field = "concern.summary";
        f2.kind = "postcode";
        f2.start = 20;
        f2.end = 27;
        r.findings = fs;
        r.n_findings = 2;
    } else {
        r.result_case = TACNET__API_REPLY__RESULT_CASES;
        r.cases = &cases;
    }
    uint8_t buf[512];
    size_t n = tacnet__api_reply__pack(&r, buf);
    zmq_send(f->router, zmq_msg_data(rid), zmq_msg_size(rid), ZMQ_SNDMORE);
    zmq_send(f->router, "", 0, ZMQ_SNDMORE);
    zmq_send(f->router, buf, n, 0);
}

static void *s_fake_run(void *arg)
{
    fake_t *f = arg;
    zmq_msg_t held_rid;
    uint64_t held_id = 0;
    zmq_msg_init(&held_rid);
    int rcvtimeo = 5000;
    zmq_setsockopt(f->router, ZMQ_RCVTIMEO, &rcvtimeo, sizeof(rcvtimeo));
    while (f->served < f->expect && f->served < FAKE_MAX) {
        zmq_msg_t part[4];
        int n = 0, more = 1;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, f->router, 0) < 0) {
                zmq_msg_close(&m);
                goto done;
            }
            more = zmq_msg_more(&m);
            if (n < 4)
                part[n++] = m;
            else
                zmq_msg_close(&m);
        }
        int i = f->served++;
        f->frames[i] = n;
        Tacnet__ApiRequest *req =
            n == 3 && zmq_msg_size(&part[1]) == 0
                ? tacnet__api_request__unpack(NULL, zmq_msg_size(&part[2]), zmq_msg_data(&part[2]))
                : NULL;
        if (req) {
            f->ids[i] = req->id;
            f->ops[i] = req->op_case;
            if (req->op_case == TACNET__API_REQUEST__OP_SHOW_CASE)
                snprintf(f->case_ref, sizeof(f->case_ref), "%.*s",
                         (int)req->show_case->case_ref.len,
                         (const char *)req->show_case->case_ref.data);
            switch (f->mode) {
            case FAKE_ANSWER:
                s_send_reply(f, &part[0], req->id, 0, 0);
                break;
            case FAKE_STALE_FIRST:
                s_send_reply(f, &part[0], req->id + 1000, TACNET_EIO, 0);
                s_send_reply(f, &part[0], req->id, 0, 0);
                break;
            case FAKE_GARBAGE_FIRST:
                /* no empty delimiter */
                zmq_send(f->router, zmq_msg_data(&part[0]), zmq_msg_size(&part[0]), ZMQ_SNDMORE);
                zmq_send(f->router, "\x08\x01", 2, 0);
                /* right shape, not a protobuf */
                zmq_send(f->router, zmq_msg_data(&part[0]), zmq_msg_size(&part[0]), ZMQ_SNDMORE);
                zmq_send(f->router, "", 0, ZMQ_SNDMORE);
                zmq_send(f->router, "\xff\xff\xff", 3, 0);
                s_send_reply(f, &part[0], req->id, 0, 0);
                break;
            case FAKE_LATE:
                if (i == 0) {
                    zmq_msg_copy(&held_rid, &part[0]);
                    held_id = req->id;
                } else {
                    s_send_reply(f, &held_rid, held_id, TACNET_EIO, 0);
                    s_send_reply(f, &part[0], req->id, 0, 0);
                }
                break;
            case FAKE_REFUSE:
                s_send_reply(f, &part[0], req->id, TACNET_ETEXT, 1);
                break;
            }
            tacnet__api_request__free_unpacked(req, NULL);
        }
        for (int k = 0; k < n; k++)
            zmq_msg_close(&part[k]);
    }
done:
    zmq_msg_close(&held_rid);
    return NULL;
}

static fake_t *s_fake_start(fake_mode_t mode, int expect)
{
    fake_t *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/tacnet-client-XXXXXX");
    cr_assert_not_null(mkdtemp(f->dir));
    snprintf(f->endpoint, sizeof(f->endpoint), "ipc://%s/api.sock", f->dir);
    f->mode = mode;
    f->expect = expect;
    f->ctx = zmq_ctx_new();
    f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(f->router, ZMQ_LINGER, &linger, sizeof(linger));
    cr_assert_eq(zmq_bind(f->router, f->endpoint), 0);
    cr_assert_eq(pthread_create(&f->thread, NULL, s_fake_run, f), 0);
    return f;
}

/* Wait for the fake to serve what it expected (or give up after its receive timeout). */
static void s_fake_join(fake_t *f)
{
    if (!f->joined)
        pthread_join(f->thread, NULL);
    f->joined = 1;
}

static void s_fake_stop(fake_t **f_p)
{
    fake_t *f = *f_p;
    s_fake_join(f);
    zmq_close(f->router);
    zmq_ctx_term(f->ctx);
    char sock[128];
    snprintf(sock, sizeof(sock), "%s/api.sock", f->dir);
    unlink(sock);
    rmdir(f->dir);
    free(f);
    *f_p = NULL;
}

static long s_ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

Test(client, data_dir_connects_to_its_api_socket_with_a_req_envelope)
{
    fake_t *f = s_fake_start(FAKE_ANSWER, 2);
    int err = 1;
    tn_client_t *c = tn_client_new(f->dir, &err);
    cr_assert_not_null(c, "err %d", err);
    cr_assert_eq(err, 0);
    cr_assert_str_eq(tn_client_endpoint(c), f->endpoint);

    Tacnet__ApiReply *reply = NULL;
    cr_assert_eq(tn_client_cases(c, &reply, 3000), 0);
    cr_assert_not_null(reply);
    cr_assert_eq(reply->result_case, TACNET__API_REPLY__RESULT_CASES);
    tn_client_reply_free(&reply);
    cr_assert_null(reply);
    cr_assert_eq(tn_client_case(c, "LA7-2026-000123", &reply, 3000), 0);
    tn_client_reply_free(&reply);
    tn_client_destroy(&c);
    cr_assert_null(c);
    s_fake_stop(&f);
}

Test(client, daemon_sees_three_frames_and_distinct_ids)
{
    fake_t *f = s_fake_start(FAKE_ANSWER, 3);
    tn_client_t *c = tn_client_new(f->endpoint, NULL);
    Tacnet__ApiReply *reply = NULL;
    const char *names[] = { "Jo Synthetic", "Sam Invented" };
    cr_assert_eq(tn_client_cases(c, &reply, 3000), 0);
    tn_client_reply_free(&reply);
    cr_assert_eq(tn_client_case(c, "LA7-2026-000123", &reply, 3000), 0);
    tn_client_reply_free(&reply);
    cr_assert_eq(tn_client_register_identity(c, "LA7-2026-000123", names, 2, &reply, 3000), 0);
    tn_client_reply_free(&reply);
    tn_client_destroy(&c);
    s_fake_join(f);
    cr_assert_eq(f->served, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(f->frames[i], 3, "request %d had %d frames", i, f->frames[i]);
    cr_assert_neq(f->ids[0], f->ids[1]);
    cr_assert_neq(f->ids[1], f->ids[2]);
    cr_assert_eq(f->ops[0], TACNET__API_REQUEST__OP_LIST_CASES);
    cr_assert_eq(f->ops[1], TACNET__API_REQUEST__OP_SHOW_CASE);
    cr_assert_eq(f->ops[2], TACNET__API_REQUEST__OP_REGISTER_IDENTITY);
    cr_assert_str_eq(f->case_ref, "LA7-2026-000123");
    s_fake_stop(&f);
}

Test(client, reply_with_another_id_is_ignored)
{
    fake_t *f = s_fake_start(FAKE_STALE_FIRST, 1);
    tn_client_t *c = tn_client_new(f->endpoint, NULL);
    Tacnet__ApiReply *reply = NULL;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__ListCasesRequest list = TACNET__LIST_CASES_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_LIST_CASES;
    req.list_cases = &list;
    req.id = 999999; /* overwritten by the client */
    cr_assert_eq(tn_client_call(c, &req, &reply, 3000), 0);
    cr_assert_not_null(reply);
    cr_assert_eq(reply->id, req.id);
    cr_assert_neq(req.id, 999999);
    cr_assert_eq(reply->code, 0);
    tn_client_reply_free(&reply);
    tn_client_destroy(&c);
    s_fake_stop(&f);
}

Test(client, malformed_replies_are_skipped)
{
    fake_t *f = s_fake_start(FAKE_GARBAGE_FIRST, 1);
    tn_client_t *c = tn_client_new(f->endpoint, NULL);
    Tacnet__ApiReply *reply = NULL;
    cr_assert_eq(tn_client_cases(c, &reply, 3000), 0);
    cr_assert_not_null(reply);
    cr_assert_eq(reply->result_case, TACNET__API_REPLY__RESULT_CASES);
    tn_client_reply_free(&reply);
    tn_client_destroy(&c);
    s_fake_stop(&f);
}

Test(client, silent_daemon_times_out_and_late_reply_is_not_taken_for_the_next)
{
    fake_t *f = s_fake_start(FAKE_LATE, 2);
    tn_client_t *c = tn_client_new(f->endpoint, NULL);
    Tacnet__ApiReply *reply = NULL;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(tn_client_cases(c, &reply, 300), TACNET_ETIMEOUT);
    long took = s_ms_since(&t0);
    cr_assert_null(reply);
    cr_assert_geq(took, 290, "returned after %ld ms", took);
    cr_assert_lt(took, 2000, "returned after %ld ms", took);

    /* The fake now answers the first request (code E_IO) before the second (code 0). */
    cr_assert_eq(tn_client_case(c, "LA7-2026-000123", &reply, 3000), 0);
    cr_assert_not_null(reply);
    cr_assert_eq(reply->code, 0);
    tn_client_reply_free(&reply);
    tn_client_destroy(&c);
    s_fake_stop(&f);
}

Test(client, nobody_listening_times_out)
{
    char dir[] = "/tmp/tacnet-client-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char ep[128];
    snprintf(ep, sizeof(ep), "ipc://%s/api.sock", dir);
    tn_client_t *c = tn_client_new(ep, NULL);
    cr_assert_not_null(c);
    Tacnet__ApiReply *reply = NULL;
    cr_assert_eq(tn_client_follow(c, 0, 10, &reply, 100), TACNET_ETIMEOUT);
    cr_assert_null(reply);
    tn_client_destroy(&c);
    rmdir(dir);
}

Test(client, refusal_returns_the_code_with_reason_and_findings)
{
    fake_t *f = s_fake_start(FAKE_REFUSE, 1);
    tn_client_t *c = tn_client_new(f->endpoint, NULL);
    Tacnet__ApiReply *reply = NULL;
    Tacnet__PublishRequest pub = TACNET__PUBLISH_REQUEST__INIT;
    Tacnet__Body body = TACNET__BODY__INIT;
    Tacnet__Concern concern = TACNET__CONCERN__INIT;
    pub.kind = TACNET__EVENT_KIND__CONCERN;
    pub.case_ref.data = (uint8_t *)"LA7-2026-000123";
    pub.case_ref.len = 15;
    pub.initials.data = (uint8_t *)"JS";
    pub.initials.len = 2;
    concern.summary = "synthetic text";
    body.event_case = TACNET__BODY__EVENT_CONCERN;
    body.concern = &concern;
    pub.body = &body;
    cr_assert_eq(tn_client_publish(c, &pub, &reply, 3000), TACNET_ETEXT);
    cr_assert_not_null(reply);
    cr_assert_str_eq(reply->reason, "free text contains identifying details");
    cr_assert_eq(reply->n_findings, 2);
    cr_assert_str_eq(reply->findings[0]->field, "concern.summary");
    cr_assert_eq(reply->findings[1]->start, 20);
    tn_client_reply_free(&reply);
    tn_client_destroy(&c);
    s_fake_stop(&f);
}

Test(client, directory_without_a_socket_is_not_found)
{
    char dir[] = "/tmp/tacnet-client-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    int err = 0;
    cr_assert_null(tn_client_new(dir, &err));
    cr_assert_eq(err, TACNET_ENOTFOUND);
    cr_assert_null(tn_client_new("", &err));
    cr_assert_eq(err, TACNET_EINVAL);
    tn_client_t *none = NULL;
    tn_client_destroy(&none);
    tn_client_destroy(NULL);
    rmdir(dir);
}
