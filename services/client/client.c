/* client: libtacnet-client, one DEALER socket speaking the daemon's local API. */
#include "client.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

struct tn_client {
    void *ctx;
    void *sock;
    uint64_t next_id;
    char endpoint[PATH_MAX + 16];
};

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

tn_client_t *tn_client_new(const char *target, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    *err = 0;
    if (!target || !*target) {
        *err = TACNET_EINVAL;
        return NULL;
    }
    tn_client_t *self = xcalloc(1, sizeof(*self));
    int n;
    if (strncmp(target, "ipc://", 6) == 0 || strncmp(target, "tcp://", 6) == 0) {
        n = snprintf(self->endpoint, sizeof(self->endpoint), "%s", target);
    } else {
        /* A directory without the socket means the daemon is not running there: say so now
         * rather than after a timeout, since connect() to a missing ipc path succeeds. */
        char sock[PATH_MAX];
        struct stat st;
        n = snprintf(sock, sizeof(sock), "%s/api.sock", target);
        if (n < 0 || (size_t)n >= sizeof(sock)) {
            *err = TACNET_EINVAL;
            goto fail;
        }
        if (stat(sock, &st) != 0 || !S_ISSOCK(st.st_mode)) {
            *err = TACNET_ENOTFOUND;
            goto fail;
        }
        n = snprintf(self->endpoint, sizeof(self->endpoint), "ipc://%s", sock);
    }
    if (n < 0 || (size_t)n >= sizeof(self->endpoint)) {
        *err = TACNET_EINVAL;
        goto fail;
    }
    self->ctx = zmq_ctx_new();
    self->sock = self->ctx ? zmq_socket(self->ctx, ZMQ_DEALER) : NULL;
    if (!self->sock) {
        *err = TACNET_EIO;
        goto fail;
    }
    int linger = 0;
    int64_t maxmsg = TN_CLIENT_MAX_REPLY;
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    if (zmq_connect(self->sock, self->endpoint) != 0) {
        *err = TACNET_EIO;
        goto fail;
    }
    self->next_id = 1;
    return self;
fail:
    tn_client_destroy(&self);
    return NULL;
}

void tn_client_destroy(tn_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tn_client_t *self = *self_p;
    if (self->sock)
        zmq_close(self->sock);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    free(self);
    *self_p = NULL;
}

const char *tn_client_endpoint(const tn_client_t *self)
{
    return self->endpoint;
}

void tn_client_reply_free(Tacnet__ApiReply **reply_p)
{
    if (!reply_p || !*reply_p)
        return;
    tacnet__api_reply__free_unpacked(*reply_p, NULL);
    *reply_p = NULL;
}

/* Read one multipart message. Returns the unpacked reply if it has the REQ envelope shape
 * ([empty][payload]) and parses, else NULL; either way the whole message is consumed. */
static Tacnet__ApiReply *s_recv_reply(tn_client_t *self)
{
    zmq_msg_t part;
    int nparts = 0, more = 1, shape_ok = 1;
    Tacnet__ApiReply *reply = NULL;
    while (more) {
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, self->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            break;
        }
        more = zmq_msg_more(&part);
        if (nparts == 0 && zmq_msg_size(&part) != 0)
            shape_ok = 0;
        if (nparts == 1 && !more && shape_ok)
            reply = tacnet__api_reply__unpack(NULL, zmq_msg_size(&part), zmq_msg_data(&part));
        if (nparts >= 1 && more)
            shape_ok = 0;
        nparts++;
        zmq_msg_close(&part);
    }
    return reply;
}

int tn_client_call(tn_client_t *self, Tacnet__ApiRequest *req, Tacnet__ApiReply **reply,
                   int timeout_ms)
{
    *reply = NULL;
    req->id = self->next_id++;
    size_t len = tacnet__api_request__get_packed_size(req);
    uint8_t *buf = xmalloc(len);
    tacnet__api_request__pack(req, buf);
    int rc = TACNET_EIO;
    if (zmq_send(self->sock, "", 0, ZMQ_SNDMORE) != 0 ||
        zmq_send(self->sock, buf, len, 0) != (int)len)
        goto fail;
    int64_t deadline = timeout_ms < 0 ? -1 : s_now_ms() + timeout_ms;
    for (;;) {
        long wait = -1;
        if (deadline >= 0) {
            wait = (long)(deadline - s_now_ms());
            if (wait < 0)
                wait = 0;
        }
        zmq_pollitem_t item = { .socket = self->sock, .events = ZMQ_POLLIN };
        int n = zmq_poll(&item, 1, wait);
        if (n < 0 && errno != EINTR)
            goto fail;
        if (n > 0) {
            Tacnet__ApiReply *r = s_recv_reply(self);
            /* A late answer to an earlier call that timed out, or garbage: not ours. A refusal
             * with id 0 is the daemon's answer to a request it could not read at all (too
             * large, not an ApiRequest), which names no id: ours, as it answers at once. */
            if (r && (r->id == req->id || (r->id == 0 && r->code != 0))) {
                *reply = r;
                rc = r->code;
                goto fail;
            }
            tn_client_reply_free(&r);
            continue;
        }
        if (n < 0) {
            /* EINTR: a signal (Ctrl-C in the CLI) ends the wait like a timeout would. */
            rc = TACNET_ETIMEOUT;
            goto fail;
        }
        if (deadline >= 0 && s_now_ms() >= deadline) {
            rc = TACNET_ETIMEOUT;
            goto fail;
        }
    }
fail:
    free(buf);
    return rc;
}

int tn_client_publish(tn_client_t *self, Tacnet__PublishRequest *pub, Tacnet__ApiReply **reply,
                      int timeout_ms)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_PUBLISH;
    req.publish = pub;
    return tn_client_call(self, &req, reply, timeout_ms);
}

int tn_client_cases(tn_client_t *self, Tacnet__ApiReply **reply, int timeout_ms)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__ListCasesRequest list = TACNET__LIST_CASES_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_LIST_CASES;
    req.list_cases = &list;
    return tn_client_call(self, &req, reply, timeout_ms);
}

int tn_client_case(tn_client_t *self, const char *case_ref, Tacnet__ApiReply **reply,
                   int timeout_ms)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__ShowCaseRequest show = TACNET__SHOW_CASE_REQUEST__INIT;
    show.case_ref.data = (uint8_t *)case_ref;
    show.case_ref.len = strlen(case_ref);
    req.op_case = TACNET__API_REQUEST__OP_SHOW_CASE;
    req.show_case = &show;
    return tn_client_call(self, &req, reply, timeout_ms);
}

int tn_client_register_identity(tn_client_t *self, const char *case_ref, const char *const *names,
                                size_t n_names, Tacnet__ApiReply **reply, int timeout_ms)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__RegisterIdentityRequest reg = TACNET__REGISTER_IDENTITY_REQUEST__INIT;
    reg.case_ref.data = (uint8_t *)case_ref;
    reg.case_ref.len = strlen(case_ref);
    reg.names = (char **)names; /* read only by pack */
    reg.n_names = n_names;
    req.op_case = TACNET__API_REQUEST__OP_REGISTER_IDENTITY;
    req.register_identity = &reg;
    return tn_client_call(self, &req, reply, timeout_ms);
}

int tn_client_follow(tn_client_t *self, uint64_t after, uint32_t max, Tacnet__ApiReply **reply,
                     int timeout_ms)
{
    return tn_client_follow_wait(self, after, max, 0, reply, timeout_ms);
}

int tn_client_follow_wait(tn_client_t *self, uint64_t after, uint32_t max, uint32_t wait_ms,
                          Tacnet__ApiReply **reply, int timeout_ms)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__FollowRequest follow = TACNET__FOLLOW_REQUEST__INIT;
    follow.after_local_seq = after;
    if (max) {
        follow.has_max = 1;
        follow.max = max;
    }
    if (wait_ms) {
        follow.has_wait_ms = 1;
        follow.wait_ms = wait_ms;
    }
    req.op_case = TACNET__API_REQUEST__OP_FOLLOW;
    req.follow = &follow;
    return tn_client_call(self, &req, reply, timeout_ms);
}

int tn_client_import(tn_client_t *self, const char *path, Tacnet__ApiReply **reply, int timeout_ms)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__ImportRequest imp = TACNET__IMPORT_REQUEST__INIT;
    imp.path = (char *)path; /* read only by pack */
    req.op_case = TACNET__API_REQUEST__OP_IMPORT;
    req.import = &imp;
    return tn_client_call(self, &req, reply, timeout_ms);
}
